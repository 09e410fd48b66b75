/*
 * OOM kills as Events.  The kubelet records a container OOM kill only in
 * the Pod's status (lastState.terminated.reason == "OOMKilled", exit 137,
 * restartCount up); it emits no Event.  Sensors written for Argo Events
 * watch Events with reason OOMKilled, so we synthesize the Event they
 * expect from each new kill.  "New" is a change of lastState.terminated
 * between two observations of the same Pod: a kill already present when a
 * Pod is first seen (a restart of ours, a relist) is history, not news.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "signal/signal.h"

static json_t *
find_status(json_t *pod, const char *list, const char *name)
{
	json_t *arr = json_object_get(json_object_get(pod, "status"), list);
	json_t *cs;
	size_t i;

	json_array_foreach(arr, i, cs) {
		const char *n = json_string_value(json_object_get(cs, "name"));

		if (n && strcmp(n, name) == 0)
			return cs;
	}
	return NULL;
}

static int
same_str(json_t *a, json_t *b, const char *key)
{
	const char *x = json_string_value(json_object_get(a, key));
	const char *y = json_string_value(json_object_get(b, key));

	return x == y || (x && y && strcmp(x, y) == 0);
}

static const char *
memory_limit(json_t *pod, const char *list, const char *container)
{
	json_t *arr = json_object_get(json_object_get(pod, "spec"),
	    strcmp(list, "initContainerStatuses") == 0 ? "initContainers" :
	    "containers"), *c;
	size_t i;

	json_array_foreach(arr, i, c) {
		const char *n = json_string_value(json_object_get(c, "name"));

		if (n && strcmp(n, container) == 0)
			return json_string_value(json_object_get(
			    json_object_get(json_object_get(c, "resources"),
			    "limits"), "memory"));
	}
	return NULL;
}

/* o[k] = v, and no member at all when v is NULL (json_pack's "s*"). */
static void
set_opt(json_t *o, const char *k, const char *v)
{
	if (v)
		json_object_set_new(o, k, json_string(v));
}

/*
 * The Event, built member by member in the order a json_pack format
 * listed them (a storm synthesizes one per signal, and json_pack reads
 * its format every time).  A new reference.
 */
static json_t *
event_object(const char *evname, const char *ns, const char *pname,
    const char *uid, const char *fieldpath, const char *msg, const char *fin)
{
	json_t *ev = json_object(), *m = json_object(), *io = json_object();
	json_t *src = json_object();

	json_object_set_new(ev, "apiVersion", json_string("v1"));
	json_object_set_new(ev, "kind", json_string("Event"));
	json_object_set_new(m, "name", json_string(evname));
	set_opt(m, "namespace", ns);
	json_object_set_new(ev, "metadata", m);
	json_object_set_new(io, "apiVersion", json_string("v1"));
	json_object_set_new(io, "kind", json_string("Pod"));
	json_object_set_new(io, "name", json_string(pname));
	set_opt(io, "namespace", ns);
	set_opt(io, "uid", uid);
	json_object_set_new(io, "fieldPath", json_string(fieldpath));
	json_object_set_new(ev, "involvedObject", io);
	json_object_set_new(ev, "reason", json_string("OOMKilled"));
	json_object_set_new(ev, "message", json_string(msg));
	json_object_set_new(ev, "type", json_string("Warning"));
	json_object_set_new(src, "component",
	    json_string("remediate-oom-detector"));
	json_object_set_new(ev, "source", src);
	json_object_set_new(ev, "reportingComponent",
	    json_string("remediate.dev/oom-detector"));
	set_opt(ev, "firstTimestamp", fin);
	set_opt(ev, "lastTimestamp", fin);
	json_object_set_new(ev, "count", json_integer(1));
	return ev;
}

static json_t *
synthesize(json_t *pod, const char *list, json_t *cs, json_t *term)
{
	const char *name = json_string_value(json_object_get(cs, "name"));
	const char *pname = obj_name(pod), *ns = obj_namespace(pod);
	const char *fin = json_string_value(json_object_get(term,
	    "finishedAt"));
	const char *uid = json_string_value(json_object_get(
	    json_object_get(pod, "metadata"), "uid"));
	const char *limit = memory_limit(pod, list, name);
	json_t *rc = json_object_get(cs, "restartCount");
	json_t *exitc = json_object_get(term, "exitCode");
	uint64_t h = UTIL_HASH_SEED;
	char *msg, *evname, *fieldpath;
	json_t *ev;

	h = util_hash(pname, strlen(pname) + 1, h);
	h = util_hash(name, strlen(name) + 1, h);
	if (fin)
		h = util_hash(fin, strlen(fin), h);
	evname = xasprintf("%s.oom.%012llx", pname,
	    (unsigned long long)(h & 0xffffffffffffULL));
	msg = xasprintf("Container %s was OOM-killed (exit code %lld, "
	    "restart count %lld, memory limit %s)", name,
	    (long long)(json_is_integer(exitc) ? json_integer_value(exitc) :
	    137), (long long)json_integer_value(rc), limit ? limit : "none");
	fieldpath = xasprintf("spec.%s{%s}",
	    strcmp(list, "initContainerStatuses") == 0 ? "initContainers" :
	    "containers", name);
	ev = event_object(evname, ns, pname, uid, fieldpath, msg, fin);
	free(evname);
	free(msg);
	free(fieldpath);
	return ev;
}

static void
scan(json_t *old, json_t *pod, const char *list, json_t *out)
{
	json_t *arr = json_object_get(json_object_get(pod, "status"), list);
	json_t *cs, *term, *oterm, *ocs;
	size_t i;

	json_array_foreach(arr, i, cs) {
		const char *name = json_string_value(json_object_get(cs,
		    "name"));
		const char *reason;

		term = json_object_get(json_object_get(cs, "lastState"),
		    "terminated");
		reason = json_string_value(json_object_get(term, "reason"));
		if (name == NULL || reason == NULL ||
		    strcmp(reason, "OOMKilled") != 0)
			continue;
		if ((ocs = find_status(old, list, name)) == NULL)
			continue;	/* first sight of this container */
		oterm = json_object_get(json_object_get(ocs, "lastState"),
		    "terminated");
		if (oterm && same_str(term, oterm, "finishedAt") &&
		    same_str(term, oterm, "containerID") &&
		    same_str(term, oterm, "reason"))
			continue;	/* the same kill seen again */
		json_array_append_new(out, synthesize(pod, list, cs, term));
	}
}

json_t *
sig_oom_detect(json_t *old, json_t *pod)
{
	json_t *out = json_array();

	if (old == NULL || pod == NULL)
		return out;
	scan(old, pod, "containerStatuses", out);
	scan(old, pod, "initContainerStatuses", out);
	return out;
}
