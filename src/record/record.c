/*
 * Decision records as JSON.  Field order is fixed (time, sensor, trigger,
 * target, subject, decision, reason, message, plan, signal) so records
 * diff well and read the same in every place they appear.
 */
#include <stdlib.h>
#include <string.h>

#include "record/record.h"
#include "util/util.h"

static const char *const decision_names[] = {
	"acted", "failed", "dry-run", "notified", "pending-approval",
	"suppressed", "demoted", "expired", "declined",
};

static const char *const reason_names[] = {
	NULL, "stale", "below-threshold", "disabled", "cooldown", "opt-out",
	"policy", "at-cap", "unsupported-target", "blast-radius",
	"gitops-managed", "conflict", "budget", "circuit-open", "rate-limited",
};

const char *
rec_decision_name(enum rec_decision d)
{
	return (size_t)d < UTIL_ARRAY_LEN(decision_names) ?
	    decision_names[d] : "?";
}

const char *
rec_reason_name(enum rec_reason r)
{
	return (size_t)r < UTIL_ARRAY_LEN(reason_names) ? reason_names[r] :
	    NULL;
}

void
rec_clear(struct rec_decision_record *r)
{
	objref_clear(&r->target);
	objref_clear(&r->subject);
	free(r->message);
	json_decref(r->plan);
	json_decref(r->extra);
	memset(r, 0, sizeof *r);
}

json_t *
rec_to_json(const struct rec_decision_record *r)
{
	char when[TIME_FMTLEN];
	json_t *o = json_object(), *v;
	const char *k;

	time_format(r->time, when, sizeof when);
	json_object_set_new(o, "time", json_string(when));
	json_object_set_new(o, "sensor", json_string(r->sensor));
	json_object_set_new(o, "trigger", json_string(r->trigger));
	json_object_set_new(o, "target", r->target.kind ?
	    objref_json(&r->target) : json_null());
	json_object_set_new(o, "subject", r->subject.kind ?
	    objref_json(&r->subject) : json_null());
	json_object_set_new(o, "decision",
	    json_string(rec_decision_name(r->decision)));
	if (r->reason != REASON_NONE)
		json_object_set_new(o, "reason",
		    json_string(rec_reason_name(r->reason)));
	if (r->message)
		json_object_set_new(o, "message", json_string(r->message));
	if (r->plan)
		json_object_set(o, "plan", r->plan);
	json_object_set_new(o, "signal", json_pack("{s:s?, s:s?, s:s?}",
	    "eventSource", r->event_source, "eventName", r->event_name,
	    "id", r->event_id));
	json_object_foreach(r->extra, k, v)
		json_object_set(o, k, v);
	return o;
}

char *
rec_to_line(const struct rec_decision_record *r)
{
	json_t *o = rec_to_json(r);
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	char *line = xasprintf("%s\n", s);

	free(s);
	json_decref(o);
	return line;
}

void
rec_table_header(FILE *f)
{
	fprintf(f, "%-20s  %-22s  %-34s  %-17s  %-16s  %s\n", "TIME",
	    "TRIGGER", "TARGET", "DECISION", "REASON", "MESSAGE");
}

void
rec_table_row(FILE *f, json_t *r)
{
	json_t *t = json_object_get(r, "target");
	const char *time = json_string_value(json_object_get(r, "time"));
	const char *ns = json_string_value(json_object_get(t, "namespace"));
	const char *reason = json_string_value(json_object_get(r, "reason"));
	const char *msg = json_string_value(json_object_get(r, "message"));
	json_t *plan = json_object_get(r, "plan");
	const char *pns = json_string_value(json_object_get(plan, "namespace"));
	char *plan_line = NULL;
	char *target = json_is_object(t) ? xasprintf("%s/%s%s%s",
	    json_string_value(json_object_get(t, "kind")), ns ? ns : "",
	    ns ? "/" : "", json_string_value(json_object_get(t, "name"))) :
	    xstrdup("-");

	if (msg == NULL && plan_line == NULL && json_is_object(plan))
		plan_line = xasprintf("%s %s %s%s%s", json_string_value(
		    json_object_get(plan, "operation")), json_string_value(
		    json_object_get(plan, "kind")), pns ? pns : "", pns ? "/" :
		    "", json_string_value(json_object_get(plan, "name")));
	fprintf(f, "%-20s  %-22s  %-34s  %-17s  %-16s  %s\n",
	    time ? time : "-",
	    json_string_value(json_object_get(r, "trigger")), target,
	    json_string_value(json_object_get(r, "decision")),
	    reason ? reason : "-", msg ? msg : plan_line ? plan_line : "");
	free(target);
	free(plan_line);
}
