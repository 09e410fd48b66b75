/*
 * The daemon's actions, off the engine thread.
 *
 * The engine hands over each action it decided (engine_opts.submit); a
 * worker of a small pool (src/pool) sends it, and its outcome comes back
 * to the engine thread as a DQ_OUTCOME item through the daemon's queue,
 * where dact_outcome gives it to engine_outcome: the guard state stays
 * the engine's alone.  Actions on one target run one at a time in the
 * order decided; actions on different targets side by side, up to the
 * worker count, so a throttled or slow API call delays nothing else.
 * The Kubernetes Event on an action's target is created on the same
 * worker path, after the action, for the same reason; so are pull
 * requests (an action that proposes: git and the forge) and the asking
 * after their outcome (dact_task).
 *
 * Threads: dact_submit, dact_set_call, dact_outcome, dact_event and
 * dact_stop are called on the engine thread; the jobs run on workers.
 */
#ifndef DAEMON_ACTIONS_H
#define DAEMON_ACTIONS_H

#include <stddef.h>
#include <jansson.h>

#include "daemon/queue.h"
#include "engine/engine.h"
#include "util/retry.h"

struct kube_client;

struct dact_opts {
	struct dq		*q;		/* borrowed: outcomes go here */
	struct kube_client	*kube;		/* borrowed: Events */
	size_t			 workers;	/* 0: POOL_DEFAULT_WORKERS */
	size_t			 max_in_flight;	/* submitted, outcome not yet
						   handled; 0: 256 */
	/* Sends a plan, on a worker (thread-safe): engine_opts.execute's
	   shape. */
	int	(*execute)(void *ctx, const json_t *plan, int dry_run,
		    json_t **result, char **err);
	void	 *execute_ctx;
	/* The gate of every attempt an action's requests make (util/
	   retry.h), set on the worker around execute: the leader's fence,
	   so a retry is not sent once it closed.  NULL: none. */
	retry_gate_fn	*gate;
	void		*gate_ctx;
	/* Opens a pull request, on a worker (thread-safe): engine_opts.
	   propose's shape.  NULL: a proposal fails. */
	int	(*propose)(void *ctx, const json_t *record, const json_t *cfg,
		    json_t **pr, char **err);
	void	 *propose_ctx;
	/* On the engine thread: answers an approval's call with the
	   approved action's record (owned), which is shown only once
	   stored.  NULL: the record as it is. */
	void	(*answer)(void *ctx, struct dq_call *c, json_t *record);
	void	 *answer_ctx;
};

struct dact;

/*
 * Reserves max_in_flight slots in the queue (call before other threads
 * push) and starts the workers.  Returns an owned handle.
 */
struct dact	*dact_new(const struct dact_opts *);
/* engine_opts.submit: ctx is the handle. */
int		 dact_submit(void *ctx, struct engine_action *);
/*
 * The approval call (borrowed; a reference is taken) that waits on the
 * action the engine is about to submit: dact_outcome answers it with the
 * record.  NULL clears.  Returns 1 if the last submit took the call.
 */
int		 dact_set_call(struct dact *, struct dq_call *);
/*
 * On the engine thread, for a DQ_OUTCOME item: hands its job (taken from
 * the item) to engine_outcome, logs a failure at error, and answers an
 * approval that waited on it.
 */
void		 dact_outcome(struct dact *, struct engine *,
		    struct dq_item *);
/*
 * Other work that must not hold up the engine (asking a forge about a
 * pull request): work(arg) on a worker, after the jobs queued for key
 * (copied); then done(arg, engine, 1) on the engine thread through the
 * queue, which takes arg.  A job that never started (stopping) gets
 * done(arg, engine, 0); one whose outcome is never handled, drop(arg).
 * Counts as in flight.  Returns 0, or -1 when full or stopping: arg stays
 * the caller's.
 */
int		 dact_task(struct dact *, const char *key,
		    void (*work)(void *arg),
		    void (*done)(void *arg, struct engine *, int ran),
		    void (*drop)(void *arg), void *arg);
/*
 * Creates a core/v1 Event (ref, strings borrowed) on a worker, after the
 * actions already queued for key; best effort, a failure is logged.
 */
void		 dact_event(struct dact *, const char *key, const json_t *ref,
		    const char *reason, const char *message,
		    const char *type);
/* Actions submitted whose outcome was not handled yet; running now. */
size_t		 dact_in_flight(const struct dact *);
size_t		 dact_running(struct dact *);
/*
 * Stops the workers: an action that never started gets the outcome
 * "not executed: remediate stopped"; a running one's Kubernetes requests
 * give up at once (kube_cancel_on), and if that fails it, its outcome is
 * unknown: no record, its intent stays (history: acted, outcome unknown;
 * the cooldown holds), as after a crash.  All outcomes are then in the
 * queue for dact_outcome.  Idempotent.
 */
void		 dact_stop(struct dact *);
/* Stops (if not yet) and frees.  NULL: no-op. */
void		 dact_free(struct dact *);

#endif /* DAEMON_ACTIONS_H */
