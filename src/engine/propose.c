/*
 * Confirm by pull request: the decision, as its record shows it (plan,
 * owner, budget, signal), goes to the propose hook, which writes the
 * change into the target's repository and opens (or updates) the one
 * pull request of this trigger and target; in the live daemon on a
 * worker, like an action (outcome.c).  Its cooldown starts when the
 * request opened; its outcome (merged: acted, closed: declined, merged
 * but never synced: expired) is the forge's and Argo CD's to tell later.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

void
decide_propose(struct decision *d)
{
	if (d->e->opts.propose == NULL) {	/* replay: what would be */
		decide_finish(d, REC_PENDING_APPROVAL, REASON_NONE);
		return;
	}
	json_decref(decide_run_proposal(d));	/* outcome.c */
}

static const char *
str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void
ref_of(struct objref *r, const json_t *o)
{
	objref_set(r, str(o, "kind"), str(o, "namespace"), str(o, "name"));
}

/* The record's trigger, as configured now; NULL when it is gone. */
static struct engine_trigger *
trigger_of(struct engine *e, const json_t *record, struct decision *d,
    struct sensor_fire *f)
{
	const struct sensor_trigger *t = NULL;
	struct engine_sensor *es = NULL;
	struct engine_trigger *et = NULL;

	if (decide_find_trigger(e, record, &es, &et, &t) == -1)
		return NULL;
	memset(d, 0, sizeof *d);
	memset(f, 0, sizeof *f);
	f->trigger = t;
	d->e = e;
	d->es = es;
	d->et = et;
	d->fire = f;
	d->cfg = &et->cfg;
	return et;
}

/* A decline is a remediation that did not hold: a recurrence. */
static void
declined(struct engine *e, struct decision *d, const char *target,
    struct rec_decision_record *r)
{
	struct guard_recurrence rr;
	struct rec_decision_record dm = *r;

	guard_record_remediation(e->state, d->cfg, d->et->id, target,
	    e->now - 1);
	if (!guard_note_recurrence(e->state, d->cfg, d->et->id, target,
	    e->now, &rr) || !guard_should_demote(d->cfg, &rr))
		return;
	guard_demote(e->state, d->et->id, decide_trigger_hash(d), e->now, &rr);
	dm.decision = REC_DEMOTED;
	dm.message = xasprintf("%d of the last %d actions recurred or were "
	    "declined (%.0f%%), above demoteAbove %.0f%%: mode %s -> notify "
	    "until the trigger's manifest changes", rr.recurred, rr.actions,
	    100 * rr.ratio, 100 * d->cfg->recurrence_demote_above,
	    guard_mode_name(d->cfg->mode));
	dm.plan = NULL;
	dm.extra = NULL;
	decide_emit(e, &dm);
	free(dm.message);
}

/*
 * The outcome record of the pending record's request, pr its state now;
 * message is the caller's (owned by r from here).
 */
static void
outcome_of(struct engine *e, const json_t *record, const json_t *pr,
    enum rec_decision decision, char *message, struct rec_decision_record *r)
{
	const json_t *sig = json_object_get(record, "signal");

	e->now = clock_now(e->opts.clock);
	memset(r, 0, sizeof *r);
	r->time = e->now;
	r->sensor = str(record, "sensor") ? str(record, "sensor") : "?";
	r->trigger = str(record, "trigger") ? str(record, "trigger") : "?";
	ref_of(&r->target, json_object_get(record, "target"));
	ref_of(&r->subject, json_object_get(record, "subject"));
	r->decision = decision;
	r->message = message;
	r->plan = json_incref(json_object_get(record, "plan"));
	r->event_source = str(sig, "eventSource");
	r->event_name = str(sig, "eventName");
	r->event_id = str(sig, "id");
	r->extra = json_pack("{s:O, s:s?}", "pullRequest", pr, "decided",
	    str(record, "time"));
}

/* "pull request #7 merged (abc123)": owned. */
static char *
merged_text(const json_t *pr)
{
	const char *sha = str(pr, "mergeCommit");

	return xasprintf("pull request #%lld merged%s%s%s",
	    (long long)json_integer_value(json_object_get(pr, "number")),
	    sha ? " (" : "", sha ? sha : "", sha ? ")" : "");
}

json_t *
engine_pr_outcome(struct engine *e, const json_t *record, const json_t *pr,
    int merged)
{
	struct rec_decision_record r;
	struct decision d;
	struct sensor_fire f;
	char *key, *m = merged ? merged_text(pr) : NULL;
	json_t *out;

	outcome_of(e, record, pr, merged ? REC_ACTED : REC_DECLINED, merged ?
	    xasprintf("%s: the change is in Git", m) : xasprintf("pull "
	    "request #%lld closed unmerged: declined", (long long)
	    json_integer_value(json_object_get(pr, "number"))), &r);
	free(m);
	key = objref_key(&r.target);
	decide_emit(e, &r);
	if (trigger_of(e, record, &d, &f) != NULL) {
		if (merged)
			guard_record_remediation(e->state, d.cfg, d.et->id,
			    key, e->now);
		else
			declined(e, &d, key, &r);	/* may demote */
	}
	free(key);
	out = rec_to_json(&r);
	rec_clear(&r);
	return out;
}

json_t *
engine_pr_expired(struct engine *e, const json_t *record, const json_t *pr,
    const char *why)
{
	struct rec_decision_record r;
	char *m = merged_text(pr);
	json_t *out;

	outcome_of(e, record, pr, REC_EXPIRED, xasprintf("%s, not synced: %s; "
	    "no longer followed", m, why), &r);
	free(m);
	decide_emit(e, &r);
	out = rec_to_json(&r);
	rec_clear(&r);
	return out;
}
