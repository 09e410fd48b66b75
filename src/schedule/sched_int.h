/*
 * The schedule module's private pieces, shared by its files: calendar
 * arithmetic on "wall" seconds (local time counted as if it were UTC).
 */
#ifndef SCHED_INT_H
#define SCHED_INT_H

#include <stdint.h>

#include "schedule/schedule.h"

struct civil {
	int	y, m, d;	/* 1-based month and day */
	int	hh, mm, ss;
	int	wday;		/* 0 = Sunday */
};

/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t	sched_days_from_civil(int64_t y, int m, int d);
/* Breaks seconds since the epoch (wall or UTC) into fields. */
void	sched_civil(int64_t secs, struct civil *);
/* Days in month m of year y. */
int	sched_month_days(int64_t y, int m);

/* cron.c: a schedule firing every ms (Argo's interval); owned. */
struct sched_cron *sched_cron_every(int64_t ms);

#endif /* SCHED_INT_H */
