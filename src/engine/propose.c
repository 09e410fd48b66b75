/*
 * Confirm by pull request: the decision, as its record shows it (plan,
 * owner, budget, signal), goes to the propose hook, which writes the
 * change into the target's repository and opens (or updates) the one
 * pull request of this trigger and target.  Its cooldown started with
 * the decision; its outcome (merged: acted, closed: declined) is the
 * forge's to tell later.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

enum rec_decision
decide_propose(struct decision *d)
{
	struct engine *e = d->e;
	json_t *rec, *pr = NULL;
	char *err = NULL;
	int rc;

	if (e->opts.propose == NULL)
		return REC_PENDING_APPROVAL;	/* replay: what would be */
	d->rec.decision = REC_PENDING_APPROVAL;
	rec = rec_to_json(&d->rec);
	rc = e->opts.propose(e->opts.propose_ctx, rec, d->cfg->pull_request,
	    &pr, &err);
	json_decref(rec);
	if (rc == -1) {
		free(d->rec.message);
		d->rec.message = xasprintf("pull request: %s", err ? err :
		    "failed");
		free(err);
		return REC_FAILED;
	}
	decide_extra_set(d, "pullRequest", pr);
	return REC_PENDING_APPROVAL;
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

json_t *
engine_pr_outcome(struct engine *e, const json_t *record, const json_t *pr,
    int merged)
{
	struct rec_decision_record r;
	const json_t *sig = json_object_get(record, "signal");
	struct decision d;
	struct sensor_fire f;
	char *key;
	json_t *out;
	const char *sha = str(pr, "mergeCommit");

	e->now = clock_now(e->opts.clock);
	memset(&r, 0, sizeof r);
	r.time = e->now;
	r.sensor = str(record, "sensor") ? str(record, "sensor") : "?";
	r.trigger = str(record, "trigger") ? str(record, "trigger") : "?";
	ref_of(&r.target, json_object_get(record, "target"));
	ref_of(&r.subject, json_object_get(record, "subject"));
	r.decision = merged ? REC_ACTED : REC_DECLINED;
	r.message = merged ? xasprintf("pull request #%lld merged%s%s%s: the "
	    "change is in Git", (long long)json_integer_value(json_object_get(
	    pr, "number")), sha ? " (" : "", sha ? sha : "", sha ? ")" : "") :
	    xasprintf("pull request #%lld closed unmerged: declined",
	    (long long)json_integer_value(json_object_get(pr, "number")));
	r.plan = json_incref(json_object_get(record, "plan"));
	r.event_source = str(sig, "eventSource");
	r.event_name = str(sig, "eventName");
	r.event_id = str(sig, "id");
	r.extra = json_pack("{s:O, s:s?}", "pullRequest", pr, "decided",
	    str(record, "time"));
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
