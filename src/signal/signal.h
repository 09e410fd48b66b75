/*
 * signal: where events come from.
 *
 * An EventSource manifest compiles into sources (one per named entry under
 * spec.resource, spec.webhook, ...).  A cluster change (a watch event)
 * reaches every `resource` source that watches its resource, with the
 * source's own filters applied as a live watch would (eventTypes, label
 * and field selectors, namespace), and becomes an event shaped like Argo
 * Events' ({"type":"ADD|UPDATE|DELETE","body":OBJECT}).
 *
 * The kubelet emits no Event for a container OOM kill, so sig_oom_detect
 * synthesizes the core/v1 Event the seed's EventSource expects from Pod
 * status transitions.
 *
 * A recording of Prometheus answers (NDJSON {"time","query","value"})
 * serves the budget gate in replay.
 */
#ifndef SIGNAL_H
#define SIGNAL_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "conf/conf.h"
#include "signal/event.h"
#include "util/util.h"

enum sig_type {
	SIG_RESOURCE,
	SIG_WEBHOOK,
	SIG_CALENDAR,
	SIG_PROMETHEUS,
};

enum sig_watch_type {
	SIG_ADD = 1,
	SIG_UPDATE = 2,
	SIG_DELETE = 4,
};

struct sig_source;
struct sig_set;

struct sig_set	*sig_set_new(void);
void		 sig_set_free(struct sig_set *);
/* Compiles an EventSource (schema checked by conf). 0, or -1 with diags. */
int		 sig_set_add(struct sig_set *, const struct mdoc *,
		    struct diags *);
size_t		 sig_set_count(const struct sig_set *);
const struct sig_source *sig_set_get(const struct sig_set *, size_t);
/* Does any resource source watch core/v1 events?  (Enables OOM detection.) */
int		 sig_set_watches_events(const struct sig_set *);

const char	*sig_source_eventsource(const struct sig_source *);
const char	*sig_source_name(const struct sig_source *);
enum sig_type	 sig_source_type(const struct sig_source *);
/* The event type its sources give their events ("webhook"...): static. */
const char	*sig_type_name(enum sig_type);
/* One line for `check`: "resource oom-events: v1/events, ADD". Owned. */
char		*sig_source_describe(const struct sig_source *);

/*
 * What a live watch for a resource source asks the API server: group,
 * version, plural resource, namespace (NULL: all) borrowed from the
 * source; the selectors the server can apply (label requirements with
 * = == != in notin exists !, field requirements with = == !=) as owned
 * strings or NULL.  Requirements the server cannot apply are still
 * applied in-process by sig_route_watch.
 */
struct sig_watch {
	int		 source;	/* index of the resource source it
					   feeds, or -1: the cluster view */
	const char	*eventsource;	/* the source's EventSource, or NULL */
	const char	*name;		/* the source's entry name, or NULL */
	const char	*group, *version, *resource, *namespace;
	char		*label_selector;	/* owned, may be NULL */
	char		*field_selector;	/* owned, may be NULL */
};
/* Fills *w for a resource source; returns -1 for other types. */
int	sig_source_watch(const struct sig_source *, struct sig_watch *w);
void	sig_watch_clear(struct sig_watch *);

/* Parses "ADDED"/"MODIFIED"/"DELETED" (or ADD/UPDATE/DELETE); 0 if bad. */
enum sig_watch_type sig_watch_type_parse(const char *);

/*
 * Routes a cluster change to every resource source of the set that
 * watches obj's resource and whose filters accept it: for each, fills an
 * event (owned members, see event.h) and calls emit.  now is the clock
 * (ms), used as the signal time when the object carries none.  The event
 * is cleared after emit returns.
 */
typedef void	(*sig_emit_fn)(void *ctx, struct event *);
void	sig_route_watch(const struct sig_set *, enum sig_watch_type,
	    json_t *obj, int64_t now, sig_emit_fn emit, void *ctx);
/* The same for the one source of index i (a live watch of its own). */
void	sig_route_watch_one(const struct sig_set *, size_t i,
	    enum sig_watch_type, json_t *obj, int64_t now, sig_emit_fn emit,
	    void *ctx);

/*
 * Compares a Pod's previous state (old, may be NULL when first seen) with
 * its new state and returns, as a new array (owned), one synthesized
 * core/v1 Event per container whose lastState.terminated newly shows
 * reason OOMKilled.  A kill already present when the Pod is first seen is
 * not new.
 */
json_t	*sig_oom_detect(json_t *old, json_t *pod);

/*
 * The timestamp a signal carries (an Event's lastTimestamp, eventTime or
 * firstTimestamp; otherwise metadata.creationTimestamp is NOT used: a
 * changed object is as fresh as its change).  Returns 0 and *ms, or -1.
 * An Event without a readable one of those is as old as its
 * metadata.creationTimestamp, or, without that, 0 (stale: it cannot be
 * told fresh).
 */
int	sig_object_time(json_t *obj, int64_t *ms);

/*
 * Fills ev->subject from ev->data when the source did not: an Event body's
 * involvedObject, an object body itself, or an alert's namespace and
 * pod/deployment/statefulset/daemonset labels.  Also sets ev->time from
 * the body's own timestamp (an Event's, an alert's startsAt) when it has
 * one; otherwise leaves it.
 */
void	sig_event_infer(struct event *);

/*
 * Fills ev->subject from workload labels (pod, deployment, statefulset,
 * daemonset, replicaset, job_name, cronjob with namespace; node), as
 * Prometheus series and Alertmanager alerts carry them.  Does nothing
 * when ev already has a subject.  Returns 1 when it set one, else 0.
 */
int	sig_labels_subject(json_t *labels, struct event *ev);

/* ---- Prometheus recordings ---------------------------------------------- */
struct sig_recording;

/*
 * Reads NDJSON lines {"time": RFC3339, "query": STRING, "value": NUMBER}.
 * Returns an owned recording, or NULL with diags naming file:line.
 */
struct sig_recording *sig_recording_load(const char *path, struct diags *);
void	sig_recording_free(struct sig_recording *);
/*
 * The latest value of query at or before now: 0 with *value and *at (ms),
 * or -1 if the recording has no such value.
 */
int	sig_recording_query(const struct sig_recording *, const char *query,
	    int64_t now, double *value, int64_t *at);

#endif /* SIGNAL_H */
