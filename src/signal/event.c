/*
 * Events: the unit that flows from sources to sensors.
 */
#include <stdlib.h>
#include <string.h>

#include "signal/event.h"
#include "util/util.h"

void
event_clear(struct event *ev)
{
	free(ev->id);
	json_decref(ev->data);
	free(ev->subject.kind);
	free(ev->subject.namespace);
	free(ev->subject.name);
	ev->id = NULL;
	ev->data = NULL;
	ev->subject.kind = ev->subject.namespace = ev->subject.name = NULL;
}

json_t *
event_context(const struct event *ev)
{
	char when[TIME_FMTLEN];

	time_format(ev->time, when, sizeof when);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
	    "id", ev->id ? ev->id : "",
	    "source", ev->source ? ev->source : "",
	    "subject", ev->name ? ev->name : "",
	    "type", ev->type ? ev->type : "",
	    "specversion", "1.0",
	    "datacontenttype", "application/json",
	    "time", when);
}

/*
 * The whole struct event as one JSON object, so an event read back (a
 * recovered intake row, a decision's recorded inputs) is the one that was
 * kept, with its id, time and subject:
 *
 *   {"source":S, "name":N, "type":T, "id":I, "time":ms, "data":D,
 *    "subject":{"kind":K, "namespace":NS, "name":N}}
 */
json_t *
event_json(const struct event *ev)
{
	return json_pack("{s:s, s:s, s:s, s:s?, s:I, s:O?, s:{s:s?, s:s?, "
	    "s:s?}}", "source", ev->source ? ev->source : "", "name",
	    ev->name ? ev->name : "", "type", ev->type ? ev->type : "",
	    "id", ev->id, "time", (json_int_t)ev->time, "data", ev->data,
	    "subject", "kind", ev->subject.kind, "namespace",
	    ev->subject.namespace, "name", ev->subject.name);
}

/* ,"key":"s" (no comma first), null for NULL; -1 outside ASCII. */
static int
put_member(struct buf *b, const char *key, const char *s, int first)
{
	if (s && !util_json_plain(s))
		return -1;
	buf_adds(b, first ? "\"" : ",\"");
	buf_adds(b, key);
	buf_adds(b, "\":");
	if (s)
		util_json_str(b, s);
	else
		buf_adds(b, "null");
	return 0;
}

int
event_write(struct buf *b, const struct event *ev)
{
	/* json_pack's "s?" and "O?" give null for NULL: so does this */
	buf_addc(b, '{');
	if (put_member(b, "source", ev->source ? ev->source : "", 1) ||
	    put_member(b, "name", ev->name ? ev->name : "", 0) ||
	    put_member(b, "type", ev->type ? ev->type : "", 0) ||
	    put_member(b, "id", ev->id, 0))
		return -1;
	buf_adds(b, ",\"time\":");
	buf_add_int(b, ev->time);
	buf_adds(b, ",\"data\":");
	if (ev->data == NULL)
		buf_adds(b, "null");
	else if (util_json_write(b, ev->data, JSON_COMPACT) == -1)
		return -1;
	buf_adds(b, ",\"subject\":{");
	if (put_member(b, "kind", ev->subject.kind, 1) ||
	    put_member(b, "namespace", ev->subject.namespace, 0) ||
	    put_member(b, "name", ev->subject.name, 0))
		return -1;
	buf_adds(b, "}}");
	return 0;
}

static char *
opt_str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? xstrdup(s) : NULL;
}

int
event_parse(json_t *j, struct event *ev)
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
