/*
 * An action, from the decision to its outcome.
 *
 * When every check passed and the mode says act, the decision has already
 * taken its guard state (cooldown mark, circuit mark, rate token).  The
 * action is then written down as an intent (the intend hook: durable
 * before anything is sent, so a crash during the action leaves an "acted,
 * outcome unknown" record whose cooldown holds after a restart), and
 * handed over as a struct engine_action:
 *
 *   - to the submit hook (the live daemon), which runs it on a worker
 *     thread and brings the outcome back to the engine thread, where
 *     engine_outcome finishes it; the engine thread meanwhile decides
 *     other signals, so a slow or throttled API call holds up nothing but
 *     the actions queued behind it for the same target;
 *   - or to the execute hook, on the engine thread, then engine_outcome
 *     at once (tests, and any caller without workers).
 *
 * engine_outcome is the only place an action's result touches the guard
 * state: a success counts for recurrence and ends a run of failures; a
 * failure (of a server dry run too) gives the cooldown mark a short
 * retry backoff instead of the whole cooldown (guard_record_failure).  The record, completed with the
 * outcome, goes to the emit hook once, which completes the intent's row.
 *
 * A pull request (confirm by pull request, or a GitOps-managed target in
 * auto under ownership.gitopsManaged: pullRequest) travels the same way:
 * git and the forge may take seconds or hang, so the live daemon proposes
 * on a worker too, ordered with the target's actions, and the engine
 * turns the outcome into the pending-approval (or failed) record and
 * starts the cooldown when the request opened.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

#define ACTION_MAGIC	0x61637432U	/* "act2" */

struct engine_action {
	unsigned		 magic;
	struct engine_trigger	*et;		/* borrowed from the engine */
	struct rec_decision_record rec;		/* owned members, and the
						   borrowed strings below */
	char			*event_source;	/* owned: rec's storage */
	char			*event_name;
	char			*event_id;
	char			*target_key;	/* owned */
	json_t			*plan;		/* one reference */
	enum rec_decision	 dec;		/* acted, dry-run (server), or
						   pending-approval (a pull
						   request) */
	/* a proposal (confirm by pull request): NULL for live actions */
	json_t			*pr_cfg;	/* one reference:
						   confirm.pullRequest */
	json_t			*pr_record;	/* owned: the pending record
						   the propose hook writes */
};

static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* Moves d's record into a new action; d keeps an empty record. */
static struct engine_action *
action_new(struct decision *d, enum rec_decision dec)
{
	struct engine_action *a = xcalloc(1, sizeof *a);

	a->magic = ACTION_MAGIC;
	a->et = d->et;
	a->rec = d->rec;
	memset(&d->rec, 0, sizeof d->rec);
	/* the event's strings die with the signal: keep copies */
	a->event_source = dup_or_null(a->rec.event_source);
	a->event_name = dup_or_null(a->rec.event_name);
	a->event_id = dup_or_null(a->rec.event_id);
	a->rec.event_source = a->event_source;
	a->rec.event_name = a->event_name;
	a->rec.event_id = a->event_id;
	a->target_key = xstrdup(d->target_key ? d->target_key : "");
	a->plan = json_incref(d->plan.plan);
	a->dec = dec;
	return a;
}

void
engine_action_free(struct engine_action *a)
{
	if (a == NULL || a->magic != ACTION_MAGIC)
		return;
	rec_clear(&a->rec);
	free(a->event_source);
	free(a->event_name);
	free(a->event_id);
	free(a->target_key);
	json_decref(a->plan);
	json_decref(a->pr_cfg);
	json_decref(a->pr_record);
	a->magic = 0;
	free(a);
}

const json_t *
engine_action_plan(const struct engine_action *a)
{
	return a->plan;
}

int
engine_action_dry_run(const struct engine_action *a)
{
	return a->dec == REC_DRY_RUN;
}

const char *
engine_action_key(const struct engine_action *a)
{
	return a->target_key;
}

const json_t *
engine_action_proposal(const struct engine_action *a, const json_t **cfg)
{
	*cfg = a->pr_cfg;
	return a->pr_record;
}

const struct rec_decision_record *
engine_action_record(const struct engine_action *a)
{
	return &a->rec;
}

/* Emits a's record as dec and frees a; returns the record (owned). */
static json_t *
finish(struct engine *e, struct engine_action *a, enum rec_decision dec)
{
	json_t *out;

	a->rec.decision = dec;
	a->rec.reason = REASON_NONE;
	decide_emit(e, &a->rec);
	out = rec_to_json(&a->rec);
	engine_action_free(a);
	return out;
}

/*
 * A pull request opened (or updated): the decision is pending until the
 * forge tells its outcome, and the cooldown starts now, when the request
 * opened.  A git or forge failure holds the retry backoff, as a failed
 * action does.
 */
static json_t *
proposal_outcome(struct engine *e, struct engine_action *a, int rc,
    json_t *pr, char *err)
{
	if (rc == -1) {
		json_decref(pr);
		free(a->rec.message);
		a->rec.message = xasprintf("pull request: %s", err ? err :
		    "failed");
		free(err);
		guard_record_failure(e->state, &a->et->cfg, a->et->id,
		    a->target_key, e->now);
		return finish(e, a, REC_FAILED);
	}
	free(err);
	if (a->rec.extra == NULL)
		a->rec.extra = json_object();
	json_object_set_new(a->rec.extra, "pullRequest", pr ? pr :
	    json_object());
	/* the decision's marks move to now: one action, counted once */
	guard_record_approved_action(e->state, a->et->id, a->target_key,
	    a->rec.time, e->now);
	return finish(e, a, REC_PENDING_APPROVAL);
}

json_t *
engine_outcome(struct engine *e, struct engine_action *a, int rc,
    json_t *result, char *err, int64_t ms)
{
	enum rec_decision dec = a->dec;

	if (a->magic != ACTION_MAGIC) {
		json_decref(result);
		free(err);
		return NULL;
	}
	e->now = clock_now(e->opts.clock);
	if (a->pr_cfg)
		return proposal_outcome(e, a, rc, result, err);
	if (rc == -1) {
		dec = REC_FAILED;
		free(a->rec.message);
		a->rec.message = err ? err : xstrdup("the action failed");
		json_decref(result);
	} else {
		free(err);
		if (result) {
			if (a->rec.extra == NULL)
				a->rec.extra = json_object();
			json_object_set_new(a->rec.extra, "result", result);
		}
	}
	if (ms >= 0) {
		if (a->rec.extra == NULL)
			a->rec.extra = json_object();
		json_object_set_new(a->rec.extra, "durationMs",
		    json_integer(ms));
	}
	if (a->dec == REC_ACTED && dec == REC_ACTED)
		guard_record_remediation(e->state, &a->et->cfg, a->et->id,
		    a->target_key, a->rec.time);
	else if (a->dec == REC_DRY_RUN && dec == REC_DRY_RUN)
		/* accepted: auto's success, which ends the failures (no
		   remediation: nothing changed to recur) */
		guard_record_success(e->state, a->et->id, a->target_key);
	else if (a->dec == REC_ACTED || (a->dec == REC_DRY_RUN &&
	    dec == REC_FAILED))	/* a server dry run the API refused: the
				   failure auto would have met, and dry-run
				   keeps auto's cooldown state */
		guard_record_failure(e->state, &a->et->cfg, a->et->id,
		    a->target_key, e->now);
	return finish(e, a, dec);
}

json_t *
decide_run_action(struct decision *d, enum rec_decision dec)
{
	struct engine *e = d->e;
	struct engine_action *a;
	json_t *result = NULL;
	char *err = NULL;
	int64_t t0;
	int rc;

	if (dec == REC_ACTED && e->opts.intend) {
		d->rec.decision = REC_ACTED;
		if (e->opts.intend(e->opts.intend_ctx, &d->rec) == -1) {
			a = action_new(d, dec);
			return engine_outcome(e, a, -1, NULL, xstrdup("not "
			    "executed: the audit log could not record the "
			    "intent"), -1);
		}
	}
	a = action_new(d, dec);
	if (e->opts.submit) {
		if (e->opts.submit(e->opts.submit_ctx, a) == 0)
			return NULL;	/* the outcome comes back later */
		return engine_outcome(e, a, -1, NULL, xstrdup("not executed: "
		    "too many actions are waiting to run"), -1);
	}
	t0 = clock_monotonic_ms();
	rc = e->opts.execute(e->opts.execute_ctx, a->plan,
	    dec == REC_DRY_RUN, &result, &err);
	return engine_outcome(e, a, rc, result, err, clock_monotonic_ms() - t0);
}

json_t *
decide_run_proposal(struct decision *d)
{
	struct engine *e = d->e;
	struct engine_action *a;
	json_t *pr = NULL;
	char *err = NULL;
	int rc;

	d->rec.decision = REC_PENDING_APPROVAL;
	a = action_new(d, REC_PENDING_APPROVAL);
	a->pr_cfg = json_incref(d->cfg->pull_request);
	a->pr_record = rec_to_json(&a->rec);
	if (e->opts.submit) {
		if (e->opts.submit(e->opts.submit_ctx, a) == 0)
			return NULL;	/* the outcome comes back later */
		return engine_outcome(e, a, -1, NULL, xstrdup("not proposed: "
		    "too many actions are waiting to run"), -1);
	}
	rc = e->opts.propose(e->opts.propose_ctx, a->pr_record, a->pr_cfg,
	    &pr, &err);
	return engine_outcome(e, a, rc, pr, err, -1);
}
