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
 * object is queued).  Its keys are sorted at every level, as the view's
 * texts have them, so the store can hand out the projection's parts as
 * the object parsing the texts back would give.  Kinds outside cluster_compact_kind() are kept whole.
 */
#include <stdlib.h>
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

struct member {
	const char	*key;
	size_t		 len;
	json_t		*value;
};

/* jansson's order for JSON_SORT_KEYS: bytes, then the shorter first. */
static int
member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	int d = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);

	return d ? d : (x->len > y->len) - (x->len < y->len);
}

/*
 * v with the keys of every object sorted as JSON_SORT_KEYS sorts them:
 * objects and arrays new, scalars shared (nobody changes a scalar of the
 * view's).  A new reference.
 */
static json_t *
sorted_copy(json_t *v)
{
	struct member *m;
	json_t *o, *x;
	size_t i, n;
	void *it;

	if (json_is_array(v)) {
		o = json_array();
		json_array_foreach(v, i, x)
			json_array_append_new(o, sorted_copy(x));
		return o;
	}
	if (!json_is_object(v))
		return json_incref(v);
	n = json_object_size(v);
	m = xcalloc(n ? n : 1, sizeof *m);
	for (i = 0, it = json_object_iter(v); it && i < n; i++,
	    it = json_object_iter_next(v, it)) {
		m[i].key = json_object_iter_key(it);
		m[i].len = json_object_iter_key_len(it);
		m[i].value = json_object_iter_value(it);
	}
	qsort(m, i, sizeof *m, member_cmp);
	o = json_object();
	for (n = i, i = 0; i < n; i++)
		json_object_setn_new(o, m[i].key, m[i].len,
		    sorted_copy(m[i].value));
	free(m);
	return o;
}

/* Copies src[key] into dst when present, keys sorted. */
static void
keep(json_t *dst, json_t *src, const char *key)
{
	json_t *v = json_object_get(src, key);

	if (v)
		json_object_set_new(dst, key, sorted_copy(v));
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

	ann = json_object_get(m, "annotations");
	json_object_foreach(ann, k, v)
		if (kept_annotation(k)) {
			if (a == NULL)
				a = json_object();
			json_object_set(a, k, v);
		}
	if (a) {
		json_object_set_new(out, "annotations", sorted_copy(a));
		json_decref(a);
	}
	keep(out, m, "labels");
	keep(out, m, "name");
	keep(out, m, "namespace");
	if (json_is_array(refs = json_object_get(m, "ownerReferences"))) {
		json_t *o = json_array();

		json_array_foreach(refs, i, r) {
			json_t *x = json_object();

			keep(x, r, "apiVersion");
			keep(x, r, "controller");
			keep(x, r, "kind");
			keep(x, r, "name");
			json_array_append_new(o, x);
		}
		json_object_set_new(out, "ownerReferences", o);
	}
	keep(out, m, "uid");
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

	containers(out, s);
	keep(out, s, "replicas");
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

		if (json_is_object(term)) {
			json_t *t = json_object();

			keep(t, term, "containerID");
			keep(t, term, "exitCode");
			keep(t, term, "finishedAt");
			keep(t, term, "reason");
			json_object_set_new(x, "lastState", json_pack("{s:o}",
			    "terminated", t));
		}
		keep(x, cs, "name");
		keep(x, cs, "restartCount");
		json_array_append_new(o, x);
	}
	json_object_set_new(dst, list, o);
}

static json_t *
status(json_t *s)
{
	json_t *out = json_object(), *mem;

	if ((mem = json_object_get(json_object_get(s, "allocatable"),
	    "memory")))
		json_object_set_new(out, "allocatable", json_pack("{s:o}",
		    "memory", sorted_copy(mem)));
	statuses(out, s, "containerStatuses");
	keep(out, s, "desiredNumberScheduled");
	statuses(out, s, "initContainerStatuses");
	keep(out, s, "phase");
	keep(out, s, "readyReplicas");
	keep(out, s, "replicas");
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
