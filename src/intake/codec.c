/*
 * An event as the intake keeps it: the whole struct event as one JSON
 * object, so a recovered event is the one that was acknowledged, with its
 * id, time and subject.
 *
 *   {"source":S, "name":N, "type":T, "id":I, "time":ms, "data":D,
 *    "subject":{"kind":K, "namespace":NS, "name":N}}
 */
#include <string.h>

#include "intake/intake.h"
#include "util/util.h"

json_t *
intake_event_json(const struct event *ev)
{
	return json_pack("{s:s, s:s, s:s, s:s?, s:I, s:O?, s:{s:s?, s:s?, "
	    "s:s?}}", "source", ev->source ? ev->source : "", "name",
	    ev->name ? ev->name : "", "type", ev->type ? ev->type : "",
	    "id", ev->id, "time", (json_int_t)ev->time, "data", ev->data,
	    "subject", "kind", ev->subject.kind, "namespace",
	    ev->subject.namespace, "name", ev->subject.name);
}

static char *
opt_str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? xstrdup(s) : NULL;
}

int
intake_event_parse(json_t *j, struct event *ev)
{
	json_t *subj = json_object_get(j, "subject");

	memset(ev, 0, sizeof *ev);
	ev->source = json_string_value(json_object_get(j, "source"));
	ev->name = json_string_value(json_object_get(j, "name"));
	ev->type = json_string_value(json_object_get(j, "type"));
	if (ev->source == NULL || ev->name == NULL || ev->type == NULL ||
	    !json_is_integer(json_object_get(j, "time")))
		return -1;
	ev->time = json_integer_value(json_object_get(j, "time"));
	ev->id = opt_str(j, "id");
	ev->data = json_incref(json_object_get(j, "data"));
	ev->subject.kind = opt_str(subj, "kind");
	ev->subject.namespace = opt_str(subj, "namespace");
	ev->subject.name = opt_str(subj, "name");
	return 0;
}
