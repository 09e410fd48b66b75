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
 *   spec: replicas, parallelism (Jobs), containers and initContainers
 *     (name, resources), hostNetwork (Pods: quarantine refuses them),
 *     and of Deployments, StatefulSets and DaemonSets (bumpMemory's
 *     targets) template.spec.containers and initContainers (name,
 *     resources)
 *   status: phase, replicas, readyReplicas, desiredNumberScheduled,
 *     allocatable.memory, containerStatuses and initContainerStatuses
 *     (name, restartCount, lastState.terminated: reason, exitCode,
 *     finishedAt, containerID)
 *
 * The list is data (cl_projection below), read by both projections: the
 * tree's here (cluster_project) and the text's (decode.c, which builds
 * the same projection from a watch line without the whole tree), so a
 * field added here is kept by both.
 *
 * The projection is a pure function (safe on a watch thread, before the
 * object is queued).  Its keys are sorted at every level, as the view's
 * texts have them, so the store can hand out the projection's parts as
 * the object parsing the texts back would give.  Kinds outside
 * cluster_compact_kind() are kept whole.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "cluster/cluster_int.h"

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

/* Kinds whose pod template an action changes (bumpMemory). */
int
cl_template_kind(const char *kind)
{
	return kind && (strcmp(kind, "Deployment") == 0 ||
	    strcmp(kind, "StatefulSet") == 0 ||
	    strcmp(kind, "DaemonSet") == 0);
}

int
cl_kept_annotation(const char *key, size_t len)
{
	static const char mirror[] = "kubernetes.io/config.mirror";

	return (len == sizeof mirror - 1 && memcmp(key, mirror, len) == 0) ||
	    (len >= 12 && memcmp(key, "remediation.", 12) == 0);
}

#define LEAF(k)		{ k, CL_LEAF, 0, 0, NULL, 0 }
#define KIDS(a)		a, UTIL_ARRAY_LEN(a)

/* Children in jansson's JSON_SORT_KEYS order (a unit test checks). */
static const struct cl_field owner_ref[] = {
	LEAF("apiVersion"), LEAF("controller"), LEAF("kind"), LEAF("name"),
};
static const struct cl_field metadata[] = {
	{ "annotations", CL_ANNOTATIONS, 0, 0, NULL, 0 },
	LEAF("labels"),
	LEAF("name"),
	LEAF("namespace"),
	{ "ownerReferences", CL_ARRAY, 0, 0, KIDS(owner_ref) },
	{ "resourceVersion", CL_LEAF, 0, CL_WATCH, NULL, 0 },
	LEAF("uid"),
};
static const struct cl_field container[] = {
	LEAF("name"), LEAF("resources"),
};
static const struct cl_field pod_spec[] = {
	{ "containers", CL_ARRAY, 0, 0, KIDS(container) },
	{ "initContainers", CL_ARRAY, 0, 0, KIDS(container) },
};
static const struct cl_field pod_template[] = {
	{ "spec", CL_OBJECT, CL_ALWAYS, 0, KIDS(pod_spec) },
};
static const struct cl_field spec[] = {
	{ "containers", CL_ARRAY, 0, 0, KIDS(container) },
	LEAF("hostNetwork"),	/* quarantine: no NetworkPolicy applies */
	{ "initContainers", CL_ARRAY, 0, 0, KIDS(container) },
	LEAF("parallelism"),
	LEAF("replicas"),
	{ "template", CL_OBJECT, CL_IF_OBJECT, CL_TEMPLATE_KINDS,
	    KIDS(pod_template) },
};
static const struct cl_field terminated[] = {
	LEAF("containerID"), LEAF("exitCode"), LEAF("finishedAt"),
	LEAF("reason"),
};
static const struct cl_field last_state[] = {
	{ "terminated", CL_OBJECT, CL_IF_OBJECT, 0, KIDS(terminated) },
};
static const struct cl_field container_status[] = {
	{ "lastState", CL_OBJECT, CL_IF_KEPT, 0, KIDS(last_state) },
	LEAF("name"),
	LEAF("restartCount"),
};
static const struct cl_field allocatable[] = {
	LEAF("memory"),
};
static const struct cl_field status[] = {
	{ "allocatable", CL_OBJECT, CL_IF_KEPT, 0, KIDS(allocatable) },
	{ "containerStatuses", CL_ARRAY, 0, 0, KIDS(container_status) },
	LEAF("desiredNumberScheduled"),
	{ "initContainerStatuses", CL_ARRAY, 0, 0, KIDS(container_status) },
	LEAF("phase"),
	LEAF("readyReplicas"),
	LEAF("replicas"),
};
static const struct cl_field top[] = {
	LEAF("apiVersion"),
	LEAF("kind"),
	{ "metadata", CL_OBJECT, CL_ALWAYS, 0, KIDS(metadata) },
	{ "spec", CL_OBJECT, CL_IF_OBJECT, 0, KIDS(spec) },
	{ "status", CL_OBJECT, CL_IF_OBJECT, 0, KIDS(status) },
};
const struct cl_field cl_projection = {
	"", CL_OBJECT, CL_IF_OBJECT, 0, KIDS(top)
};

struct member {
	const char	*key;
	size_t		 len;
	json_t		*value;
};

/* jansson's order for JSON_SORT_KEYS: bytes, then the shorter first. */
int
cl_key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int d = memcmp(a, b, alen < blen ? alen : blen);

	return d ? d : (alen > blen) - (alen < blen);
}

static int
member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;

	return cl_key_cmp(x->key, x->len, y->key, y->len);
}

json_t *
cl_sorted_copy(json_t *v)
{
	json_t *o, *x;
	size_t i;

	if (json_is_array(v)) {
		o = json_array();
		json_array_foreach(v, i, x)
			json_array_append_new(o, cl_sorted_copy(x));
		return o;
	}
	if (!json_is_object(v))
		return json_incref(v);
	return cl_sorted_members(v, 1);
}

json_t *
cl_sorted_members(json_t *v, int deep)
{
	struct member *m;
	json_t *o;
	size_t i, n;
	void *it;

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
		json_object_setn_new_nocheck(o, m[i].key, m[i].len, deep ?
		    cl_sorted_copy(m[i].value) : json_incref(m[i].value));
	free(m);
	return o;
}

json_t *
cl_project_members(const struct cl_field *f, json_t *src, const char *kind)
{
	json_t *out = json_object(), *x;
	size_t i;

	for (i = 0; i < f->nchildren; i++)
		if (!(f->children[i].flags & CL_WATCH) &&
		    (x = cl_project_field(&f->children[i], json_object_get(src,
		    f->children[i].key), kind)))
			json_object_set_new(out, f->children[i].key, x);
	return out;
}

static json_t *
annotations(json_t *src)
{
	json_t *a = NULL, *v, *out;
	const char *k;

	json_object_foreach(src, k, v)
		if (cl_kept_annotation(k, strlen(k))) {
			if (a == NULL)
				a = json_object();
			json_object_set(a, k, v);
		}
	if (a == NULL)
		return NULL;
	out = cl_sorted_copy(a);
	json_decref(a);
	return out;
}

json_t *
cl_project_field(const struct cl_field *f, json_t *v, const char *kind)
{
	json_t *o, *x;
	size_t i;

	if (v == NULL && f->when != CL_ALWAYS)
		return NULL;
	switch (f->keep) {
	case CL_LEAF:
		return cl_sorted_copy(v);
	case CL_ANNOTATIONS:
		return annotations(v);
	case CL_ARRAY:
		if (!json_is_array(v))
			return NULL;
		o = json_array();
		json_array_foreach(v, i, x)
			json_array_append_new(o, cl_project_members(f, x,
			    kind));
		return o;
	default:
		break;
	}
	if ((f->flags & CL_TEMPLATE_KINDS) && !cl_template_kind(kind))
		return NULL;
	if (!json_is_object(v) && f->when != CL_ALWAYS)
		return NULL;
	o = cl_project_members(f, v, kind);
	if (f->when == CL_IF_KEPT && json_object_size(o) == 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
cluster_project(json_t *obj)
{
	if (!json_is_object(obj) || !cluster_compact_kind(obj_kind(obj)))
		return json_incref(obj);
	return cl_project_field(&cl_projection, obj, obj_kind(obj));
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
