/*
 * pool: a small set of worker threads that run jobs off the caller's
 * thread, with an order per key.
 *
 * The live daemon runs actions here so that a slow or throttled API call
 * for one target never holds up the engine's other decisions.  Jobs that
 * share a key (the action's target) run one at a time, in the order they
 * were submitted; jobs with different keys run side by side, at most
 * `workers` at once.  The pool knows nothing of what a job does: it calls
 * fn(arg) on a worker, and what fn produces goes wherever fn sends it.
 */
#ifndef POOL_H
#define POOL_H

#include <stddef.h>
#include <stdint.h>

#define POOL_DEFAULT_WORKERS	4
#define POOL_MAX_WORKERS	64
#define POOL_DEFAULT_JOBS	256	/* waiting + running */

struct pool;

/*
 * Starts `workers` threads (0: POOL_DEFAULT_WORKERS, at most
 * POOL_MAX_WORKERS) for at most max_jobs jobs waiting or running (0:
 * POOL_DEFAULT_JOBS).  Returns an owned pool (free with pool_free).
 */
struct pool	*pool_new(size_t workers, size_t max_jobs);
/*
 * Queues fn(arg) to run on a worker after every job submitted before
 * with the same key (copied; NULL: a key of its own).  Returns 0, or -1
 * when the pool is full or stopping: fn is not called and arg stays the
 * caller's.
 */
int		 pool_submit(struct pool *, const char *key,
		    void (*fn)(void *arg), void *arg);
/*
 * Stops the pool: no job starts any more; each job that never started is
 * handed to cancel(arg) on the calling thread (NULL: dropped), in
 * submission order; then waits for the running jobs to return, joins the
 * workers and frees everything.  NULL: no-op.
 */
void		 pool_free(struct pool *, void (*cancel)(void *arg));

struct pool_stats {
	size_t		 workers;
	size_t		 running;	/* jobs on a worker now */
	size_t		 waiting;	/* queued, not started */
	uint64_t	 done;		/* jobs that returned */
};

void		 pool_stats(struct pool *, struct pool_stats *);

#endif /* POOL_H */
