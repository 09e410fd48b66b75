/*
 * The layout of compiled time-driven sources, shared by set.c (compiling,
 * the set), calendar.c and poll.c.  Not part of the public surface.
 */
#ifndef SCHED_SOURCE_INT_H
#define SCHED_SOURCE_INT_H

#include "schedule/schedule.h"

struct exdate {
	int		 y, m, d;
};

struct sched_source {
	enum sched_kind		 kind;
	char			*eventsource, *name;	/* owned */
	int64_t			 due;		/* ms; -1: never */
	json_t			*metadata;	/* owned, may be NULL */
	/* calendar */
	struct cron		*cron;		/* owned */
	struct tz		*zone;		/* owned */
	struct exdate		*ex;		/* owned */
	size_t			 nex;
	json_t			*user_payload;	/* owned, may be NULL */
	char			*when;		/* owned: schedule, interval,
						   timezone and exclusion dates
						   as written (sorted JSON) */
	/* prometheus */
	char			*query, *url;	/* owned */
	int64_t			 interval;	/* ms */
	int64_t			 repeat;	/* ms; 0: edge only */
	struct prom_cond	 cond;
	int			 has_cond;
	uint64_t		 ident;		/* what makes its edges:
						   query, URL, interval,
						   condition, repeat
						   (source_ident) */
	struct map		 series;	/* labels -> struct series */
	unsigned		 gen;		/* evaluations fed */
	struct sched_edges	*edges;		/* borrowed, NULL: in
						   memory only */
};

struct sched_set {
	struct sched_source	**v;		/* owned */
	size_t			  n, cap;
};

/* calendar.c: is y-m-d one of calendar s's exclusion dates? */
int	sched_excluded(void *s, int y, int m, int d);
/* poll.c: frees the per-series state of a prometheus source. */
void	sched_prom_clear(struct sched_source *);
/*
 * poll.c: a series of s (labels as its key) known over the line since
 * last (ms), as edges.c seeds it for evaluation gen s->gen.
 */
void	sched_prom_seed(struct sched_source *, const char *labels,
	    int64_t last);
/*
 * edges.c: series labels of s crossed or repeated at last (ms), or was
 * re-armed; kept in s->edges (none: no-op).
 */
void	sched_edge_keep(struct sched_source *, const char *labels,
	    int64_t last);
void	sched_edge_forget(struct sched_source *, const char *labels);

#endif /* SCHED_SOURCE_INT_H */
