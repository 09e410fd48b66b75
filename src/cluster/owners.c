/*
 * Owners: who controls an object.  Guardrails act on workloads, not pods:
 * the opt-in label, cooldown and blast radius all belong to the Deployment
 * that a Pod's ReplicaSet belongs to.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "cluster/cluster_int.h"

#define MAX_OWNER_DEPTH 8	/* owner chains are short; cycles are bugs */

void
objref_set(struct objref *r, const char *kind, const char *ns,
    const char *name)
{
	objref_clear(r);
	r->kind = kind ? xstrdup(kind) : NULL;
	r->namespace = ns && *ns ? xstrdup(ns) : NULL;
	r->name = name ? xstrdup(name) : NULL;
}

void
objref_clear(struct objref *r)
{
	free(r->kind);
	free(r->namespace);
	free(r->name);
	r->kind = r->namespace = r->name = NULL;
}

char *
objref_key(const struct objref *r)
{
	return cluster_key(r->kind, r->namespace, r->name);
}

char *
cluster_key(const char *kind, const char *ns, const char *name)
{
	/* by hand: xasprintf's vsnprintf cost ~2.3k instructions a key, and
	   a decision makes three */
	const char *part[3] = { kind ? kind : "", ns && *ns ? ns : NULL,
	    name ? name : "" };
	size_t len[3], i, n = 0, o = 0;
	char *key;

	for (i = 0; i < 3; i++)
		if (part[i])
			n += (len[i] = strlen(part[i])) + 1;
	key = xmalloc(n);
	for (i = 0; i < 3; i++) {
		if (part[i] == NULL)
			continue;
		memcpy(key + o, part[i], len[i]);
		o += len[i];
		key[o++] = '/';
	}
	key[o - 1] = '\0';
	return key;
}

json_t *
objref_json(const struct objref *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "kind", r->kind ? json_string(r->kind) :
	    json_null());
	if (r->namespace)
		json_object_set_new(o, "namespace", json_string(r->namespace));
	json_object_set_new(o, "name", r->name ? json_string(r->name) :
	    json_null());
	return o;
}

/* The controller reference of obj: controller: true, else the only one. */
static json_t *
controller_ref(json_t *obj)
{
	json_t *refs = json_object_get(json_object_get(obj, "metadata"),
	    "ownerReferences"), *r;
	size_t i;

	if (!json_is_array(refs) || json_array_size(refs) == 0)
		return NULL;
	json_array_foreach(refs, i, r) {
		if (json_is_true(json_object_get(r, "controller")))
			return r;
	}
	return json_array_size(refs) == 1 ? json_array_get(refs, 0) : NULL;
}

void
cl_controller_ref(json_t *obj, const char **kind, const char **name)
{
	json_t *ref = controller_ref(obj);

	*kind = json_string_value(json_object_get(ref, "kind"));
	*name = json_string_value(json_object_get(ref, "name"));
}

json_t *
cluster_top_controller(const struct cluster *c, json_t *obj,
    struct objref *out)
{
	const char *ns = obj_namespace(obj), *kind, *name;
	const char *at_kind = obj_kind(obj), *at_name = obj_name(obj);
	json_t *cur = obj;
	int depth;

	/*
	 * The last object reached is copied into out once, at the end:
	 * the names are borrowed from the objects walked till then (a get
	 * frees no object the view returned).
	 */
	cl_controller_ref(obj, &kind, &name);
	for (depth = 0; depth < MAX_OWNER_DEPTH; depth++) {
		if (kind == NULL || name == NULL)
			break;
		at_kind = kind;
		at_name = name;
		/* the owner, and the reference it holds in turn */
		if ((cur = cl_get_controlled(c, kind, ns, name, &kind,
		    &name)) == NULL)
			break;
	}
	objref_set(out, at_kind, ns, at_name);
	return cur;
}

/* A count the API server would accept, or -1. */
static long
count_of(json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 0 &&
	    json_integer_value(v) <= INT32_MAX ?
	    (long)json_integer_value(v) : -1;
}

long
cluster_workload_pods(json_t *w)
{
	const char *kind = obj_kind(w);
	json_t *spec = json_object_get(w, "spec"), *v;

	if (kind == NULL)
		return -1;
	if (strcmp(kind, "Pod") == 0)
		return 1;
	if (strcmp(kind, "DaemonSet") == 0)
		return count_of(json_object_get(json_object_get(w, "status"),
		    "desiredNumberScheduled"));
	v = json_object_get(spec, "replicas");
	if (strcmp(kind, "Deployment") == 0 ||
	    strcmp(kind, "StatefulSet") == 0 ||
	    strcmp(kind, "ReplicaSet") == 0)
		return v ? count_of(v) : 1;	/* the API's default */
	if (strcmp(kind, "Job") == 0) {
		v = json_object_get(spec, "parallelism");
		return v ? count_of(v) : 1;
	}
	/* an Argo Rollout, a custom controller with a scale subresource */
	return v ? count_of(v) : -1;
}
