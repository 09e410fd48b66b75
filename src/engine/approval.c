/*
 * Confirm mode's second half: a pending-approval decision approved (or
 * left to expire) minutes later.
 *
 * At the decision the engine hands the pend hook an input: everything it
 * needs to decide again without the sensor that fired (the rendered
 * resource, the event, the resolved target, the trigger's manifest hash).
 * The hook keeps it with the approval.  At approval the world has moved
 * on, so engine_approve decides again, against the cluster and the guard
 * state as they are now:
 *
 *	manifest changed     the approval no longer applies: expired
 *	mode off, demoted    disabled
 *	acted on since       cooldown (another action on the target after
 *	                     the pending decision, whose own mark is not
 *	                     counted)
 *	opt-out, policy, at-cap / unsupported-target, blast-radius, budget,
 *	circuit-open         as any decision, re-planned from the input;
 *	                     the circuit does not count the decision's own
 *	                     mark
 *
 * Not again: stale and below-threshold (they judged the signal, which has
 * not changed), recurrence (noted at the decision) and the rate token
 * (spent at the decision, as auto would have).  Then the action runs as
 * in auto mode, and its cooldown and circuit marks move to now.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

#define INPUT_VERSION	1

static const char *
str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/*
 * A name for records, metrics and pages, which need one: an approval
 * from a state file this version did not write may lack it.
 */
static const char *
name_or_unknown(const char *s)
{
	return s ? s : "(unknown)";
}

static json_t *
ref_json(const struct objref *r)
{
	return r->kind ? objref_json(r) : json_null();
}

static void
ref_from(struct objref *r, const json_t *o)
{
	if (json_is_object(o))
		objref_set(r, str(o, "kind"), str(o, "namespace"),
		    str(o, "name"));
}

/* The trigger's manifest hash as the input keeps it: 16 hex digits. */
static void
hash_text(struct decision *d, char out[17])
{
	util_hex64(out, decide_trigger_hash(d));
}

json_t *
approval_input(struct decision *d)
{
	const struct event *ev = d->fire->event;
	char hash[17];

	hash_text(d, hash);
	return json_pack("{s:i, s:s, s:s, s:s, s:I, s:o, s:o, s:b, "
	    "s:{s:s?, s:s?, s:s?, s:s?, s:I, s:O?, s:{s:s?, s:s?, s:s?}}, "
	    "s:O?, s:O?, s:O?}",
	    "version", INPUT_VERSION,
	    "sensor", d->es->ident,
	    "trigger", d->fire->trigger->name,
	    "hash", hash,
	    "decided", (json_int_t)d->e->now,
	    "target", ref_json(&d->rec.target),
	    "subject", ref_json(&d->rec.subject),
	    "targetFound", d->target_obj != NULL,
	    "event",
		"source", ev->source, "name", ev->name, "type", ev->type,
		"id", ev->id, "time", (json_int_t)ev->time, "data", ev->data,
		"subject", "kind", ev->subject.kind, "namespace",
		ev->subject.namespace, "name", ev->subject.name,
	    "inputs", d->fire->inputs,
	    "resource", d->fire->resource,
	    "spec", d->fire->spec);
}

int
approval_pend(struct decision *d)
{
	struct engine *e = d->e;
	json_t *in = approval_input(d), *approval = NULL;
	char *err = NULL;
	int rc;

	d->rec.decision = REC_PENDING_APPROVAL;
	rc = e->opts.pend(e->opts.pend_ctx, &d->rec, in, &approval, &err);
	if (rc == 0)
		decide_extra_set(d, "approval", approval ? approval :
		    json_object());
	else {
		json_decref(approval);
		d->rec.message = xasprintf("no approval could be issued, so "
		    "nothing can be approved: %s", err ? err : "?");
	}
	free(err);
	json_decref(in);
	return rc;
}

/* The sensor and trigger an input names, in the configuration as it is. */
int
decide_find_trigger(struct engine *e, const json_t *in, struct engine_sensor **es,
    struct engine_trigger **et, const struct sensor_trigger **t)
{
	const char *sensor = str(in, "sensor"), *name = str(in, "trigger");
	size_t i, k;

	for (i = 0; sensor && name && i < e->nsensors; i++) {
		if (strcmp(e->sensors[i].ident, sensor) != 0)
			continue;
		for (k = 0; k < e->sensors[i].ntriggers; k++) {
			*t = sensor_trigger(e->sensors[i].sensor, k);
			if (strcmp((*t)->name, name) == 0) {
				*es = &e->sensors[i];
				*et = &e->sensors[i].triggers[k];
				return 0;
			}
		}
	}
	return -1;
}

static int64_t
int_of(const json_t *o, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(o, key));
}

/* The event the input carries, its strings borrowed from it. */
static void
event_from(struct event *ev, const json_t *in)
{
	json_t *e = json_object_get(in, "event"), *s = json_object_get(e,
	    "subject");

	memset(ev, 0, sizeof *ev);
	ev->source = str(e, "source");
	ev->name = str(e, "name");
	ev->type = str(e, "type");
	ev->id = str(e, "id") ? xstrdup(str(e, "id")) : NULL;
	ev->time = int_of(e, "time");
	ev->data = json_incref(json_object_get(e, "data"));
	ev->subject.kind = str(s, "kind") ? xstrdup(str(s, "kind")) : NULL;
	ev->subject.namespace = str(s, "namespace") ?
	    xstrdup(str(s, "namespace")) : NULL;
	ev->subject.name = str(s, "name") ? xstrdup(str(s, "name")) : NULL;
}

/*
 * The checks at approval, in the order of the file's comment.  *gone is
 * set (with the message) when the approval no longer applies at all.
 */
static enum rec_reason
approval_checks(struct decision *d, const json_t *in, int64_t decided,
    int *gone)
{
	struct engine *e = d->e;
	char hash[17], when[TIME_FMTLEN], ago[32];
	int64_t since, last;

	hash_text(d, hash);
	if (str(in, "hash") == NULL || strcmp(str(in, "hash"), hash) != 0) {
		snprintf(d->msg, sizeof d->msg, "the trigger's manifest or "
		    "guardrails changed after this decision; its approval no "
		    "longer applies");
		*gone = 1;
		return REASON_NONE;
	}
	if (d->cfg->mode == MODE_OFF) {
		snprintf(d->msg, sizeof d->msg, "trigger mode is off");
		return REASON_DISABLED;
	}
	if (guard_demoted(e->state, d->et->id, decide_trigger_hash(d),
	    &since) == GUARD_DEMOTED) {
		time_format(since, when, sizeof when);
		snprintf(d->msg, sizeof d->msg, "the trigger was demoted to "
		    "notify at %s: its remediations recur", when);
		return REASON_DISABLED;
	}
	last = guard_last_action(e->state, d->et->id, d->target_key);
	if (last > decided) {
		duration_format(e->now - last, ago, sizeof ago);
		snprintf(d->msg, sizeof d->msg, "acted on again %s ago, after "
		    "this decision", ago);
		return REASON_COOLDOWN;
	}
	return decide_action_checks(d, decided);
}

/* A record for an input the configuration cannot decide again. */
static json_t *
undecidable(struct engine *e, const json_t *in, const char *id,
    enum rec_decision dec, const char *why)
{
	struct rec_decision_record r;
	json_t *out;

	memset(&r, 0, sizeof r);
	r.time = e->now;
	r.sensor = name_or_unknown(str(in, "sensor"));
	r.trigger = name_or_unknown(str(in, "trigger"));
	ref_from(&r.target, json_object_get(in, "target"));
	ref_from(&r.subject, json_object_get(in, "subject"));
	r.decision = dec;
	r.message = xstrdup(why);
	r.event_source = str(json_object_get(in, "event"), "source");
	r.event_name = str(json_object_get(in, "event"), "name");
	r.event_id = str(json_object_get(in, "event"), "id");
	r.extra = json_pack("{s:{s:s}}", "approval", "id", id);
	decide_emit(e, &r);
	out = rec_to_json(&r);
	rec_clear(&r);
	return out;
}

json_t *
engine_approve(struct engine *e, const json_t *in, const char *id)
{
	const struct sensor_trigger *t = NULL;
	struct engine_sensor *es = NULL;
	struct engine_trigger *et = NULL;
	struct sensor_fire f;
	struct decision d;
	struct event ev;
	enum rec_reason r;
	char when[TIME_FMTLEN];
	int64_t decided = int_of(in, "decided");
	int gone = 0;
	json_t *out;

	e->now = clock_now(e->opts.clock);
	if (!json_is_object(in) || int_of(in, "version") != INPUT_VERSION)
		return undecidable(e, in, id, REC_FAILED, "the approval "
		    "carries no decision this version of remediate can "
		    "re-check");
	if (decide_find_trigger(e, in, &es, &et, &t) == -1)
		return undecidable(e, in, id, REC_EXPIRED, "the trigger is no "
		    "longer configured; its approval no longer applies");
	event_from(&ev, in);
	memset(&f, 0, sizeof f);
	f.trigger = t;
	f.event = &ev;
	f.inputs = json_object_get(in, "inputs");
	f.resource = json_object_get(in, "resource");
	f.spec = json_object_get(in, "spec");
	decide_init(&d, e, es, et, &f);
	d.mode = MODE_CONFIRM;
	time_format(decided, when, sizeof when);
	decide_extra_set(&d, "approval", json_pack("{s:s, s:s}", "id", id,
	    "decided", when));
	/* the target resolved at the decision: its cooldown key */
	ref_from(&d.rec.target, json_object_get(in, "target"));
	ref_from(&d.rec.subject, json_object_get(in, "subject"));
	d.target_key = objref_key(&d.rec.target);
	d.subject_obj = cluster_get(e->opts.cluster, d.rec.subject.kind,
	    d.rec.subject.namespace, d.rec.subject.name);
	d.target_obj = cluster_get(e->opts.cluster, d.rec.target.kind,
	    d.rec.target.namespace, d.rec.target.name);
	if (json_is_true(json_object_get(in, "targetFound")) &&
	    d.target_obj == NULL) {
		snprintf(d.msg, sizeof d.msg, "%s %s%s%s no longer exists",
		    d.rec.target.kind, d.rec.target.namespace ?
		    d.rec.target.namespace : "", d.rec.target.namespace ? "/" :
		    "", d.rec.target.name);
		decide_finish(&d, REC_FAILED, REASON_NONE);
	} else if ((r = approval_checks(&d, in, decided, &gone)) !=
	    REASON_NONE)
		decide_finish(&d, REC_SUPPRESSED, r);
	else if (gone)
		decide_finish(&d, REC_EXPIRED, REASON_NONE);
	else if (d.msg[0])
		decide_finish(&d, REC_FAILED, REASON_NONE);
	else {
		/* the marks the decision left move to the action */
		guard_record_approved_action(e->state, et->id, d.target_key,
		    decided, e->now);
		d.msg[0] = '\0';
		out = decide_act(&d, REC_ACTED, 1);
		decide_clear(&d);
		event_clear(&ev);
		return out;	/* NULL: the action runs, engine_outcome tells */
	}
	out = rec_to_json(&d.rec);
	decide_clear(&d);
	event_clear(&ev);
	return out;
}

json_t *
engine_expire(struct engine *e, const json_t *in, const json_t *record,
    const char *id, int64_t expired)
{
	struct rec_decision_record r;
	const json_t *sig = json_object_get(record, "signal");
	char when[TIME_FMTLEN];
	json_t *out;

	e->now = clock_now(e->opts.clock);
	memset(&r, 0, sizeof r);
	r.time = e->now;
	r.sensor = name_or_unknown(str(record, "sensor") ? str(record,
	    "sensor") : str(in, "sensor"));
	r.trigger = name_or_unknown(str(record, "trigger") ? str(record,
	    "trigger") : str(in, "trigger"));
	ref_from(&r.target, json_object_get(record, "target"));
	ref_from(&r.subject, json_object_get(record, "subject"));
	r.decision = REC_EXPIRED;
	time_format(expired, when, sizeof when);
	r.message = xasprintf("nobody approved it before %s: not executed",
	    when);
	r.plan = json_incref(json_object_get(record, "plan"));
	r.event_source = str(sig, "eventSource");
	r.event_name = str(sig, "eventName");
	r.event_id = str(sig, "id");
	r.extra = json_pack("{s:{s:s, s:s?}}", "approval", "id", id,
	    "decided", str(record, "time"));
	decide_emit(e, &r);
	out = rec_to_json(&r);
	rec_clear(&r);
	return out;
}
