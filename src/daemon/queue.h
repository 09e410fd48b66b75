/*
 * The daemon's queue: the one door into the engine thread.  Watch
 * threads, the HTTP server and timers push; the engine thread pops.  It is
 * bounded: a webhook that finds it full answers 503 with Retry-After (the
 * sender retries, nothing is lost), a watch thread waits for room (the
 * API server keeps the stream).
 */
#ifndef DAEMON_QUEUE_H
#define DAEMON_QUEUE_H

#include <stddef.h>
#include <jansson.h>

#include "signal/event.h"
#include "signal/signal.h"

enum dq_kind {
	DQ_WATCH,	/* a cluster change: type + object */
	DQ_SYNC,	/* an object present at a (re)list: cache only */
	DQ_EVENT,	/* a signal from a webhook, calendar, prometheus */
	DQ_STOP,	/* leave the loop */
};

struct dq_item {
	enum dq_kind		 kind;
	enum sig_watch_type	 watch;		/* DQ_WATCH */
	int			 watcher;	/* DQ_WATCH, DQ_SYNC: the
						   resource source's index, or
						   -1 for the cluster view */
	json_t			*obj;		/* owned: DQ_WATCH, DQ_SYNC */
	struct event		 ev;		/* owned members: DQ_EVENT */
	int64_t			 queued;	/* ns, monotonic: set by push */
	char			*source;	/* owned: ev.source's storage */
	char			*name;		/* owned: ev.name's storage */
};

struct dq;

struct dq	*dq_new(size_t capacity);
/* Frees the queue and every item still in it. */
void		 dq_free(struct dq *);
/*
 * Pushes a copy of *item, taking ownership of its members.  wait: block
 * until there is room (watch threads); otherwise return -1 at once when
 * full, leaving the members with the caller.  Returns 0 when queued.
 */
int		 dq_push(struct dq *, struct dq_item *, int wait);
/*
 * Pushes n items all or none (an Alertmanager payload's alerts).
 * Returns 0 when all were queued, -1 (nothing queued) when there is no
 * room for all.
 */
int		 dq_push_all(struct dq *, struct dq_item *, size_t n);
/*
 * Pops the oldest item into *out (the caller owns its members), waiting up
 * to timeout_ms (-1: forever).  Returns 0, or -1 on timeout.
 */
int		 dq_pop(struct dq *, struct dq_item *out, int timeout_ms);
size_t		 dq_depth(struct dq *);
/* Seconds since the item was pushed (queue wait plus work so far). */
double		 dq_age(const struct dq_item *);
/*
 * Closes the queue: every waiting push returns -1 and later pushes fail,
 * so threads blocked on a full queue can be joined at shutdown.
 */
void		 dq_close(struct dq *);
/* Frees an item's owned members. */
void		 dq_item_clear(struct dq_item *);

#endif /* DAEMON_QUEUE_H */
