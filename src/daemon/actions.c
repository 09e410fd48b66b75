/*
 * Actions on workers, outcomes back on the engine thread.  See actions.h.
 *
 * A job travels engine thread -> worker -> queue -> engine thread; only
 * one thread holds it at a time, handed over under the pool's or the
 * queue's lock, so it needs no lock of its own.  The number of actions in
 * flight (submitted, outcome not yet handled) is bounded, and the queue
 * holds as many reserved slots: an outcome always finds room, and a
 * worker never waits on a queue the engine has stopped reading.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/actions.h"
#include "kube/kube.h"
#include "pool/pool.h"
#include "util/util.h"

#define JOB_MAGIC		0x646a6f62U	/* "djob" */
#define DEFAULT_IN_FLIGHT	256

enum job_kind {
	JOB_ACTION,
	JOB_EVENT,
	JOB_TASK,
};

struct job {
	unsigned		 magic;
	enum job_kind		 kind;
	struct dact		*x;
	/* JOB_ACTION */
	struct engine_action	*a;		/* owned until dact_outcome */
	struct dq_call		*call;		/* one reference, or NULL */
	int			 rc;
	json_t			*result;	/* owned */
	char			*err;		/* owned */
	int64_t			 ms;		/* -1: never ran */
	int			 interrupted;	/* failed because stopped: the
						   outcome is unknown */
	/* JOB_EVENT */
	json_t			*ref;		/* owned */
	char			*reason, *message, *type;	/* owned */
	/* JOB_TASK: dact_task's */
	void			(*work)(void *);
	void			(*done)(void *, struct engine *, int);
	void			(*drop)(void *);
	void			*arg;		/* owned until done or drop */
	int			 ran;
};

struct dact {
	struct dact_opts	 o;
	struct pool		*pool;		/* owned; NULL once stopped */
	size_t			 in_flight;	/* engine thread only */
	struct dq_call		*calling;	/* borrowed: dact_set_call */
	int			 took_call;
	atomic_int		 cancel;	/* stopping: requests give up */
};

static void
job_free(void *p)
{
	struct job *j = p;

	if (j == NULL || j->magic != JOB_MAGIC)
		return;
	engine_action_free(j->a);
	if (j->call) {
		dq_call_answer(j->call, NULL, xstrdup("remediate is "
		    "stopping"));
		dq_call_release(j->call);
	}
	json_decref(j->result);
	free(j->err);
	json_decref(j->ref);
	free(j->reason);
	free(j->message);
	free(j->type);
	if (j->arg && j->drop)
		j->drop(j->arg);
	j->magic = 0;
	free(j);
}

struct dact *
dact_new(const struct dact_opts *o)
{
	struct dact *x = xcalloc(1, sizeof *x);

	x->o = *o;
	if (x->o.max_in_flight == 0)
		x->o.max_in_flight = DEFAULT_IN_FLIGHT;
	dq_reserve(x->o.q, x->o.max_in_flight);
	/* room for the Events too: each action may leave one */
	x->pool = pool_new(x->o.workers, 2 * x->o.max_in_flight);
	return x;
}

/* An outcome to the engine thread. */
static void
deliver(struct job *j)
{
	struct dq_item it;

	memset(&it, 0, sizeof it);
	it.kind = DQ_OUTCOME;
	it.job = j;
	it.job_free = job_free;
	if (dq_push_reserved(j->x->o.q, &it) == -1) {
		/* closed: only after dact_stop, which runs first */
		util_log_json("error", "an action's outcome was lost",
		    json_pack("{s:s}", "target", j->a ? engine_action_key(
		    j->a) : "?"));
		job_free(j);
	}
}

/* On a worker. */
static void
run_action(void *arg)
{
	struct job *j = arg;
	int64_t t0 = clock_monotonic_ms();
	const json_t *record, *cfg;

	record = engine_action_proposal(j->a, &cfg);
	if (record) {
		/* git and the forge: no intent was written, so a proposal
		   always gets its record, even when stopping */
		retry_gate_on(j->x->o.gate, j->x->o.gate_ctx);	/* leader */
		j->rc = j->x->o.propose ? j->x->o.propose(j->x->o.propose_ctx,
		    record, cfg, &j->result, &j->err) : -1;
		retry_gate_on(NULL, NULL);
		if (j->x->o.propose == NULL)
			j->err = xstrdup("no pull requests here");
		j->ms = clock_monotonic_ms() - t0;
		deliver(j);
		return;
	}
	kube_cancel_on(&j->x->cancel);
	retry_gate_on(j->x->o.gate, j->x->o.gate_ctx);
	j->rc = j->x->o.execute(j->x->o.execute_ctx, engine_action_plan(
	    j->a), engine_action_dry_run(j->a), &j->result, &j->err);
	retry_gate_on(NULL, NULL);
	kube_cancel_on(NULL);
	j->ms = clock_monotonic_ms() - t0;
	j->interrupted = j->rc == -1 && atomic_load(&j->x->cancel);
	deliver(j);
}

/* On a worker. */
static void
run_task(void *arg)
{
	struct job *j = arg;

	j->work(j->arg);
	j->ran = 1;
	deliver(j);
}

/* On a worker. */
static void
run_event(void *arg)
{
	struct job *j = arg;
	struct kube_error err;

	kube_error_init(&err);
	if (kube_record_event(j->x->o.kube, j->ref, j->reason, j->message,
	    j->type, &err) == -1)
		util_log_json("warn", "could not record the Event on the target",
		    json_pack("{s:s?, s:s}", "target", json_string_value(
		    json_object_get(j->ref, "name")), "error", err.message ?
		    err.message : "?"));
	kube_error_clear(&err);
	job_free(j);
}

/* On the stopping thread: what never started. */
static void
cancel(void *arg)
{
	struct job *j = arg;

	if (j->kind == JOB_EVENT) {
		job_free(j);
		return;
	}
	if (j->kind == JOB_TASK) {
		deliver(j);	/* done hears it never ran */
		return;
	}
	j->rc = -1;
	j->err = xstrdup("not executed: remediate stopped before the action "
	    "ran");
	j->ms = -1;
	deliver(j);
}

/* A new job of x (owned by the caller until submitted). */
static struct job *
job_new(struct dact *x, enum job_kind kind)
{
	struct job *j = xcalloc(1, sizeof *j);

	j->magic = JOB_MAGIC;
	j->kind = kind;
	j->x = x;
	j->ms = -1;
	return j;
}

int
dact_submit(void *ctx, struct engine_action *a)
{
	struct dact *x = ctx;
	struct job *j;

	if (x->pool == NULL || x->in_flight >= x->o.max_in_flight)
		return -1;
	j = job_new(x, JOB_ACTION);
	j->a = a;
	if (x->calling)		/* before the job can reach a worker */
		j->call = dq_call_ref(x->calling);
	if (pool_submit(x->pool, engine_action_key(a), run_action, j) ==
	    -1) {
		j->a = NULL;	/* stays the engine's */
		dq_call_release(j->call);
		j->call = NULL;
		job_free(j);
		return -1;
	}
	x->in_flight++;
	x->took_call = j->call != NULL;
	return 0;
}

int
dact_set_call(struct dact *x, struct dq_call *c)
{
	int took = x->took_call;

	x->calling = c;
	x->took_call = 0;
	return took;
}

void
dact_outcome(struct dact *x, struct engine *e, struct dq_item *it)
{
	struct job *j = it->job;
	json_t *rec;

	it->job = NULL;
	if (j != NULL && j->magic == JOB_MAGIC && j->kind == JOB_TASK) {
		x->in_flight--;
		j->done(j->arg, e, j->ran);
		j->arg = NULL;
		job_free(j);
		return;
	}
	if (j == NULL || j->magic != JOB_MAGIC || j->kind != JOB_ACTION) {
		job_free(j);
		return;
	}
	x->in_flight--;
	if (j->interrupted) {
		/*
		 * Cut short by the stop: it may or may not have been done.
		 * No record; its intent stays, which history shows as
		 * "acted, outcome unknown", with the whole cooldown, as after
		 * a crash.
		 */
		util_log_json("warn", "an action was interrupted by the stop; "
		    "its outcome is unknown", json_pack("{s:s, s:s?}", "target",
		    engine_action_key(j->a), "error", j->err));
		job_free(j);
		return;
	}
	rec = engine_outcome(e, j->a, j->rc, j->result, j->err, j->ms);
	j->a = NULL;
	j->result = NULL;
	j->err = NULL;
	if (j->call) {
		if (x->o.answer)
			x->o.answer(x->o.answer_ctx, j->call, rec);
		else
			dq_call_answer(j->call, rec, NULL);
		dq_call_release(j->call);
		j->call = NULL;
	} else
		json_decref(rec);
	job_free(j);
}

int
dact_task(struct dact *x, const char *key, void (*work)(void *),
    void (*done)(void *, struct engine *, int), void (*drop)(void *),
    void *arg)
{
	struct job *j;

	if (x->pool == NULL || x->in_flight >= x->o.max_in_flight)
		return -1;
	j = job_new(x, JOB_TASK);
	j->work = work;
	j->done = done;
	j->drop = drop;
	j->arg = arg;
	if (pool_submit(x->pool, key, run_task, j) == -1) {
		j->arg = NULL;	/* stays the caller's */
		job_free(j);
		return -1;
	}
	x->in_flight++;
	return 0;
}

void
dact_event(struct dact *x, const char *key, const json_t *ref,
    const char *reason, const char *message, const char *type)
{
	struct job *j = job_new(x, JOB_EVENT);

	j->ref = json_deep_copy(ref);
	j->reason = xstrdup(reason);
	j->message = xstrdup(message);
	j->type = xstrdup(type);
	if (x->pool == NULL || pool_submit(x->pool, key, run_event, j) ==
	    -1) {
		util_log_json("warn", "could not record the Event on the "
		    "target", json_pack("{s:s, s:s}", "target", key, "error",
		    "too many actions waiting, or stopping"));
		job_free(j);
	}
}

size_t
dact_in_flight(const struct dact *x)
{
	return x->in_flight;
}

size_t
dact_running(struct dact *x)
{
	struct pool_stats st;

	pool_stats(x->pool, &st);
	return st.running;
}

void
dact_stop(struct dact *x)
{
	if (x == NULL || x->pool == NULL)
		return;
	atomic_store(&x->cancel, 1);	/* running requests give up */
	pool_free(x->pool, cancel);
	x->pool = NULL;
}

void
dact_free(struct dact *x)
{
	if (x == NULL)
		return;
	dact_stop(x);
	free(x);
}
