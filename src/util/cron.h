/*
 * cron: schedules as robfig/cron v3 reads and runs them, which is what
 * Argo Events uses for a calendar source's `schedule` and a trigger's
 * `conditionsReset.byTime.cron`: five fields (minute hour day-of-month
 * month day-of-week) with *, ?, lists, ranges, steps, JAN-DEC and
 * SUN-SAT (any case); when either day field is * or ?, both must match,
 * otherwise either may.  remediate also takes @yearly @annually @monthly
 * @weekly @daily @midnight @hourly and "@every DURATION" (at least 1s).
 */
#ifndef UTIL_CRON_H
#define UTIL_CRON_H

#include <stdint.h>

#include "util/tz.h"

#define CRON_HORIZON_YEARS	8	/* how far cron_next looks */

struct cron;

/*
 * Parses a schedule.  Returns an owned cron, or NULL with *err (owned)
 * naming the field at fault.
 */
struct cron	*cron_parse(const char *, char **err);
/* A schedule firing every ms (Argo's calendar `interval`); owned. */
struct cron	*cron_every(int64_t ms);
void		 cron_free(struct cron *);

/* Is local date y-m-d excluded?  1 yes, 0 no. */
typedef int	(*cron_excluded_fn)(void *ctx, int y, int m, int d);

/*
 * The first fire time strictly after `after` (ms), in zone z (NULL: UTC),
 * skipping local dates for which excluded(ctx, ...) returns 1 (excluded
 * may be NULL).  Returns -1 when there is none within CRON_HORIZON_YEARS.
 *
 * Daylight saving, as robfig/cron: a fire time is every real minute
 * whose wall clock in z matches.  A wall time that does not exist
 * (spring: 02:30 on a 02:00->03:00 night) does not fire that day; one
 * that happens twice (autumn) fires twice.  @every counts real time.
 */
int64_t		 cron_next(const struct cron *, const struct tz *z,
		    int64_t after, cron_excluded_fn excluded, void *ctx);

#endif /* UTIL_CRON_H */
