/*
 * The daemon's queue: the one door into the engine thread.  Watch
 * threads, the HTTP server and timers push; the engine thread pops.  It is
 * bounded: a webhook that finds it full answers 503 with Retry-After (the
 * sender retries, nothing is lost), a watch thread waits for room (the
 * API server keeps the stream).
 */
#ifndef DAEMON_QUEUE_H
#define DAEMON_QUEUE_H

#include <pthread.h>
#include <stddef.h>
#include <jansson.h>

#include "signal/event.h"
#include "signal/signal.h"

enum dq_kind {
	DQ_WATCH,	/* a cluster change: type + object */
	DQ_SYNC,	/* an object present at a (re)list: cache only */
	DQ_RELIST,	/* the view's watch relists: obj names the kind;
			   watch SIG_ADD at the start, SIG_DELETE at the end */
	DQ_EVENT,	/* a signal from a webhook, calendar, prometheus */
	DQ_CALL,	/* a request that waits for the engine's answer */
	DQ_OUTCOME,	/* an action's outcome, from a worker (actions.h) */
	DQ_STOP,	/* leave the loop */
};

/*
 * A question another thread asks the engine thread and waits for (an
 * approval from an HTTP thread).  Shared by the asker and the queue item,
 * each holding a reference, so neither outlives the other's use: an
 * asker that gives up (timeout, shutdown) may return while the engine
 * still works on it.
 */
struct dq_call {
	json_t	*in;		/* owned: the question */
	/* the answer, set once by dq_call_answer: */
	json_t	*out;		/* owned, may be NULL */
	char	*err;		/* owned, NULL when answered */
	int	 unknown;	/* decided, its outcome not known yet (err:
				   why): dq_call_answer_unknown */
	/* private */
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 refs, done;
};

struct dq_item {
	enum dq_kind		 kind;
	enum sig_watch_type	 watch;		/* DQ_WATCH */
	int			 watcher;	/* DQ_WATCH, DQ_SYNC: the
						   resource source's index, or
						   -1 for the cluster view
						   (set by the engine thread
						   from watch_id) */
	unsigned		 watch_id;	/* DQ_WATCH, DQ_SYNC: the
						   daemon's watch it came from */
	unsigned		 term;		/* DQ_EVENT: the daemon's term
						   of leadership that wrote
						   it to the intake */
	json_t			*obj;		/* owned: DQ_WATCH, DQ_SYNC */
	struct event		 ev;		/* owned members: DQ_EVENT */
	int64_t			 intake;	/* DQ_EVENT: its intake row,
						   0 when not durable */
	struct dq_call		*call;		/* one reference: DQ_CALL */
	void			*job;		/* owned: DQ_OUTCOME */
	void			(*job_free)(void *);	/* frees a job that
						   is dropped unread */
	int64_t			 queued;	/* ns, monotonic: set by push */
	char			*source;	/* owned: ev.source's storage */
	char			*name;		/* owned: ev.name's storage */
};

struct dq;

struct dq	*dq_new(size_t capacity);
/*
 * Adds n slots only dq_push_reserved may use, so that what the engine
 * itself started (an action's outcome) always finds room, even when
 * watches and webhooks have filled the queue.  Call before any thread
 * pushes.
 */
void		 dq_reserve(struct dq *, size_t n);
/*
 * Pushes into the reserved slots (or any free one); never waits.  Returns
 * 0, or -1 when closed or completely full (the caller keeps the members).
 */
int		 dq_push_reserved(struct dq *, struct dq_item *);
/* Frees the queue and every item still in it. */
void		 dq_free(struct dq *);
/*
 * Pushes a copy of *item, taking ownership of its members.  wait: block
 * until there is room (watch threads); otherwise return -1 at once when
 * full, leaving the members with the caller.  Returns 0 when queued.
 */
int		 dq_push(struct dq *, struct dq_item *, int wait);
/*
 * dq_push that waits (as a watch thread does) until fewer than limit items
 * are queued: the cluster view's initial list would otherwise fill the
 * whole queue with objects the engine has not stored yet.  Returns 0, or
 * -1 when closed (the members stay with the caller).
 */
int		 dq_push_below(struct dq *, struct dq_item *, size_t limit);
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
/*
 * Frees an item's owned members.  A call still unanswered is answered
 * with the error "remediate is stopping", so its asker does not wait for
 * an engine that will never look.
 */
void		 dq_item_clear(struct dq_item *);

/* A new call holding in (owned) with one reference, the asker's. */
struct dq_call	*dq_call_new(json_t *in);
/* Another reference (the queue item's); returns c. */
struct dq_call	*dq_call_ref(struct dq_call *c);
/* Drops a reference; the last frees the call.  NULL ok. */
void		 dq_call_release(struct dq_call *);
/*
 * The engine's answer: out (owned, may be NULL) or err (owned message).
 * Only the first answer counts; later ones are freed.
 */
void		 dq_call_answer(struct dq_call *, json_t *out, char *err);
/*
 * The engine's answer when the question was decided but what came of it
 * cannot be shown (its record is not stored yet): why (owned message).
 */
void		 dq_call_answer_unknown(struct dq_call *, char *why);
/*
 * Waits up to timeout_ms for the answer.  Returns 0 when answered (read
 * c->out, c->err), -1 on timeout.
 */
int		 dq_call_wait(struct dq_call *, int timeout_ms);

#endif /* DAEMON_QUEUE_H */
