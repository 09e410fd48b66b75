/*
 * Events: the unit that flows from sources to sensors.
 */
#include <stdlib.h>

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
