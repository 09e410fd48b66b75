/*
 * What the view keeps of an object: the fields remediate reads, nothing
 * else.  A Pod as a real API server serves it (managedFields, token
 * volumes, tolerations, every default) is 5-8 KB of JSON and about 60 KB
 * as a jansson tree; what the guardrails, the OOM detector, the native
 * actions and the notifications read of it is a few hundred bytes:
 *
 *   kind, apiVersion
 *   metadata: name, namespace, uid, labels, ownerReferences (apiVersion,
 *     kind, name, controller), annotations kubernetes.io/config.mirror
 *     and remediation.* (notification owners)
 *   spec: replicas, containers and initContainers (name, resources),
 *     and of Deployments, StatefulSets and DaemonSets (bumpMemory's
 *     targets) template.spec.containers and initContainers (name,
 *     resources)
 *   status: phase, replicas, readyReplicas, desiredNumberScheduled,
 *     allocatable.memory, containerStatuses and initContainerStatuses
 *     (name, restartCount, lastState.terminated: reason, exitCode,
 *     finishedAt, containerID)
 *
 * The projection is a pure function (safe on a watch thread, before the
 * object is queued).  Kinds outside cluster_compact_kind() are kept whole.
 */
#include <string.h>

#include "cluster/cluster.h"

static const char *const compact_kinds[] = {
	"Pod", "ReplicaSet", "Deployment", "StatefulSet", "DaemonSet", "Job",
	"Node",
};

int
cluster_compact_kind(const char *kind)
{
	size_t i;

	for (i = 0; kind && i < sizeof compact_kinds /
	    sizeof compact_kinds[0]; i++)
		if (strcmp(kind, compact_kinds[i]) == 0)
			return 1;
	return 0;
}

/* Copies src[key] into dst when present (a new reference). */
static void
keep(json_t *dst, json_t *src, const char *key)
{
	json_t *v = json_object_get(src, key);

	if (v)
		json_object_set(dst, key, v);
}

static int
kept_annotation(const char *key)
{
	return strcmp(key, "kubernetes.io/config.mirror") == 0 ||
	    strncmp(key, "remediation.", 12) == 0;
}

static json_t *
metadata(json_t *m)
{
	json_t *out = json_object(), *refs, *r, *ann, *a = NULL, *v;
	const char *k;
	size_t i;

	keep(out, m, "name");
	keep(out, m, "namespace");
	keep(out, m, "uid");
	keep(out, m, "labels");
	ann = json_object_get(m, "annotations");
	json_object_foreach(ann, k, v)
		if (kept_annotation(k)) {
			if (a == NULL)
				a = json_object();
			json_object_set(a, k, v);
		}
	if (a)
		json_object_set_new(out, "annotations", a);
	if (json_is_array(refs = json_object_get(m, "ownerReferences"))) {
		json_t *o = json_array();

		json_array_foreach(refs, i, r) {
			json_t *x = json_object();

			keep(x, r, "apiVersion");
			keep(x, r, "kind");
			keep(x, r, "name");
			keep(x, r, "controller");
			json_array_append_new(o, x);
		}
		json_object_set_new(out, "ownerReferences", o);
	}
	return out;
}

/* containers / initContainers: name and resources. */
static void
containers(json_t *dst, json_t *spec)
{
	static const char *const lists[] = { "containers", "initContainers" };
	json_t *arr, *c;
	size_t i, k;

	for (k = 0; k < 2; k++) {
		json_t *o;

		if (!json_is_array(arr = json_object_get(spec, lists[k])))
			continue;
		o = json_array();
		json_array_foreach(arr, i, c) {
			json_t *x = json_object();

			keep(x, c, "name");
			keep(x, c, "resources");
			json_array_append_new(o, x);
		}
		json_object_set_new(dst, lists[k], o);
	}
}

/* Kinds whose pod template an action changes (bumpMemory). */
static int
template_kind(const char *kind)
{
	return strcmp(kind, "Deployment") == 0 ||
	    strcmp(kind, "StatefulSet") == 0 ||
	    strcmp(kind, "DaemonSet") == 0;
}

static json_t *
spec(json_t *s, const char *kind)
{
	json_t *out = json_object(), *t;

	keep(out, s, "replicas");
	containers(out, s);
	if (template_kind(kind) &&
	    json_is_object(t = json_object_get(s, "template"))) {
		json_t *ts = json_object();

		containers(ts, json_object_get(t, "spec"));
		json_object_set_new(out, "template", json_pack("{s:o}", "spec",
		    ts));
	}
	return out;
}

static void
statuses(json_t *dst, json_t *st, const char *list)
{
	json_t *arr = json_object_get(st, list), *cs, *o;
	size_t i;

	if (!json_is_array(arr))
		return;
	o = json_array();
	json_array_foreach(arr, i, cs) {
		json_t *x = json_object(), *term = json_object_get(
		    json_object_get(cs, "lastState"), "terminated");

		keep(x, cs, "name");
		keep(x, cs, "restartCount");
		if (json_is_object(term)) {
			json_t *t = json_object();

			keep(t, term, "reason");
			keep(t, term, "exitCode");
			keep(t, term, "finishedAt");
			keep(t, term, "containerID");
			json_object_set_new(x, "lastState", json_pack("{s:o}",
			    "terminated", t));
		}
		json_array_append_new(o, x);
	}
	json_object_set_new(dst, list, o);
}

static json_t *
status(json_t *s)
{
	json_t *out = json_object(), *mem;

	keep(out, s, "phase");
	keep(out, s, "replicas");
	keep(out, s, "readyReplicas");
	keep(out, s, "desiredNumberScheduled");
	if ((mem = json_object_get(json_object_get(s, "allocatable"),
	    "memory")))
		json_object_set_new(out, "allocatable", json_pack("{s:O}",
		    "memory", mem));
	statuses(out, s, "containerStatuses");
	statuses(out, s, "initContainerStatuses");
	return out;
}

json_t *
cluster_project(json_t *obj)
{
	json_t *out, *v;

	if (!json_is_object(obj) || !cluster_compact_kind(obj_kind(obj)))
		return json_incref(obj);
	out = json_object();
	keep(out, obj, "apiVersion");
	keep(out, obj, "kind");
	json_object_set_new(out, "metadata",
	    metadata(json_object_get(obj, "metadata")));
	if (json_is_object(v = json_object_get(obj, "spec")))
		json_object_set_new(out, "spec", spec(v, obj_kind(obj)));
	if (json_is_object(v = json_object_get(obj, "status")))
		json_object_set_new(out, "status", status(v));
	return out;
}

const char *
obj_kind(json_t *o)
{
	return json_string_value(json_object_get(o, "kind"));
}

const char *
obj_name(json_t *o)
{
	return json_string_value(json_object_get(json_object_get(o,
	    "metadata"), "name"));
}

const char *
obj_namespace(json_t *o)
{
	const char *ns = json_string_value(json_object_get(
	    json_object_get(o, "metadata"), "namespace"));

	return ns && *ns ? ns : NULL;
}

const char *
obj_label(json_t *o, const char *key)
{
	return json_string_value(json_object_get(json_object_get(
	    json_object_get(o, "metadata"), "labels"), key));
}
