/*
 * The event: what an event source hands to sensors.  It is shaped like Argo
 * Events' payload so the same `data` paths and `{{ .Input... }}` templates
 * work: `data` is the JSON the Sensor's filters and templates see
 * (`{"type":"ADD","body":OBJECT}` for a resource source, `{"header":..,
 * "body":..}` for a webhook), and the context fields are Argo's CloudEvent
 * context (id, source, subject, type, time).
 */
#ifndef SIGNAL_EVENT_H
#define SIGNAL_EVENT_H

#include <stdint.h>
#include <jansson.h>

struct event {
	const char	*source;	/* EventSource name; borrowed */
	const char	*name;		/* event name in that source; borrowed */
	const char	*type;		/* "resource", "webhook", "calendar"... */
	char		*id;		/* owned; unique per signal */
	int64_t		 time;		/* ms; the signal's own timestamp */
	json_t		*data;		/* owned reference: the payload */
	/*
	 * The object the signal is about (an Event's involvedObject, a
	 * resource event's object, an alert's pod): kind, namespace, name.
	 * Owned; NULL members when unknown.
	 */
	struct {
		char	*kind, *namespace, *name;
	}		 subject;
};

/* Frees the owned members (not the struct itself). */
void	event_clear(struct event *);
/* The event as kept in the state file (owned JSON; see event.c). */
json_t	*event_json(const struct event *);
struct buf;
/*
 * event_json(ev)'s text as json_dumps(JSON_COMPACT) prints it, appended
 * to b without building the tree (util_json_write): 0, or -1 where that
 * cannot write it (a string outside ASCII...), b then partial.
 */
int	 event_write(struct buf *b, const struct event *ev);
/*
 * Reads an event kept by event_json: the owned members of ev are new, the
 * borrowed ones (source, name, type) point into j.  Returns 0, or -1 when
 * j is not an event.
 */
int	event_parse(json_t *j, struct event *ev);
/* The Argo Events context object {id, source, subject, type, time, ...}. */
json_t	*event_context(const struct event *);

#endif /* SIGNAL_EVENT_H */
