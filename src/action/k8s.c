/*
 * Plans for k8s triggers: create, update, patch (merge, the default
 * strategy Argo uses), delete.  Argo Events' footgun is a patch that
 * creates a missing object; ours never does.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "action/action.h"
#include "util/lists.h"

/* The alphabet Kubernetes' name generator draws from (no vowels). */
static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";

void
act_generate_suffix(uint64_t seed, char out[6])
{
	uint64_t x = seed ? seed : 0x9e3779b97f4a7c15ULL, z;
	int i;

	for (i = 0; i < 5; i++) {
		/* splitmix64 step: cheap, well mixed, deterministic */
		x += 0x9e3779b97f4a7c15ULL;
		z = x;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		z ^= z >> 31;
		out[i] = alphabet[z % (sizeof alphabet - 1)];
	}
	out[5] = '\0';
}

json_t *
act_merge_patch(json_t *target, json_t *patch)
{
	json_t *out, *v;
	const char *k;

	if (!json_is_object(patch))
		return util_json_copy(patch);
	out = json_is_object(target) ? util_json_copy(target) : json_object();
	json_object_foreach(patch, k, v) {
		if (json_is_null(v))
			json_object_del(out, k);
		else
			json_object_set_new(out, k, act_merge_patch(
			    json_object_get(out, k), v));
	}
	return out;
}

/*
 * A strategic-merge patch as the API server applies it, for admission:
 * maps merge, null deletes, lists the core schemas key (containers by
 * name, ports by containerPort and protocol...) merge element by element
 * and other lists are replaced, as in a merge patch.  Directives are
 * honoured ($patch: delete or replace, $retainKeys) or dropped
 * ($setElementOrder, $deleteFromPrimitiveList): they are not fields of
 * the object.  NULL: the value is deleted.  New reference.
 */
static json_t *strategic(json_t *target, json_t *patch);

/* Element a's key fields equal b's (a port's protocol defaults to TCP). */
static int
same_key(json_t *a, json_t *b, const char *const *keys, const char *field)
{
	json_t *x, *y, *tcp = NULL;
	int i, eq = 1;

	for (i = 0; eq && i < 2 && keys[i]; i++) {
		x = json_object_get(a, keys[i]);
		y = json_object_get(b, keys[i]);
		if ((x == NULL || y == NULL) && strcmp(field, "ports") == 0 &&
		    strcmp(keys[i], "protocol") == 0) {
			if (tcp == NULL)
				tcp = json_string("TCP");
			x = x ? x : tcp;
			y = y ? y : tcp;
		}
		eq = x && y && json_equal(x, y);
	}
	json_decref(tcp);
	return eq;
}

static const char *
directive(json_t *el)
{
	return json_string_value(json_object_get(el, "$patch"));
}

static json_t *
strategic_list(json_t *live, json_t *patch, const char *field)
{
	const char *const *keys;
	const char *d;
	json_t *out, *el, *m;
	size_t i, j;
	int keyed = json_is_array(live) && util_list_keys(field, &keys);

	json_array_foreach(patch, i, el) {
		d = directive(el);
		if (!json_is_object(el) || (keyed && (d == NULL ||
		    strcmp(d, "replace") != 0) && json_object_get(el,
		    keys[0]) == NULL))
			keyed = 0;	/* not keyed: replaced whole */
		if (d && strcmp(d, "replace") == 0)
			keyed = 0;	/* {$patch: replace}: the rest */
	}
	out = keyed ? util_json_copy(live) : json_array();
	json_array_foreach(patch, i, el) {
		d = directive(el);
		if (d && (strcmp(d, "replace") == 0 || (!keyed && strcmp(d,
		    "delete") == 0)))
			continue;
		if (!keyed) {
			if ((m = strategic(NULL, el)) != NULL)
				json_array_append_new(out, m);
			continue;
		}
		for (j = 0; j < json_array_size(out); j++)
			if (same_key(json_array_get(out, j), el, keys, field))
				break;
		if (d && strcmp(d, "delete") == 0) {
			while (j < json_array_size(out))
				if (same_key(json_array_get(out, j), el, keys,
				    field))
					json_array_remove(out, j);
				else
					j++;
			continue;
		}
		m = strategic(json_array_get(out, j), el);
		if (m == NULL)
			continue;
		if (j < json_array_size(out))
			json_array_set_new(out, j, m);
		else
			json_array_append_new(out, m);
	}
	return out;
}

static json_t *
strategic(json_t *target, json_t *patch)
{
	const char *d = directive(patch), *k;
	json_t *out, *v, *m, *retain;
	size_t i;

	if (json_is_array(patch))
		return strategic_list(NULL, patch, "");
	if (!json_is_object(patch))
		return util_json_copy(patch);
	if (d && strcmp(d, "delete") == 0)
		return NULL;
	out = json_is_object(target) && (d == NULL || strcmp(d, "replace") !=
	    0) ? util_json_copy(target) : json_object();
	json_object_foreach(patch, k, v) {
		if (*k == '$')
			continue;
		if (json_is_null(v)) {
			json_object_del(out, k);
			continue;
		}
		m = json_is_array(v) ? strategic_list(json_object_get(out, k),
		    v, k) : strategic(json_object_get(out, k), v);
		if (m)
			json_object_set_new(out, k, m);
		else
			json_object_del(out, k);
	}
	if (json_is_array(retain = json_object_get(patch, "$retainKeys"))) {
		json_t *keep = json_object();

		json_array_foreach(retain, i, v)
			if (json_is_string(v) && (m = json_object_get(out,
			    json_string_value(v))) != NULL)
				json_object_set(keep, json_string_value(v), m);
		json_decref(out);
		out = keep;
	}
	return out;
}

void
act_plan_clear(struct act_plan *p)
{
	json_decref(p->plan);
	json_decref(p->object);
	json_decref(p->old);
	p->plan = p->object = p->old = NULL;
	p->operation = NULL;
}

static const char *const op_names[] = {
	"create", "update", "patch", "delete",
};

/*
 * The plan's "type" and "operation" strings, made once and shared (a
 * reference each, kept to the process's end): a storm plans an action
 * per decision, and nothing changes a plan's members (see own_metadata).
 */
static json_t		*k8s_text, *op_text[UTIL_ARRAY_LEN(op_names)];
static pthread_once_t	 texts_once = PTHREAD_ONCE_INIT;

static void
make_texts(void)
{
	size_t i;

	k8s_text = json_string("k8s");
	for (i = 0; i < UTIL_ARRAY_LEN(op_names); i++)
		op_text[i] = json_string(op_names[i]);
}

/*
 * resource as the object to send: a new root and a new metadata (what
 * planning sets the namespace and the name in), every other member a
 * reference to resource's.  A deep copy per decision would copy the whole
 * template for two strings; sharing is safe because nothing changes a
 * plan's members once it is made (the executor, records, approvals and
 * proposals only read them, and the executor copies what it edits).
 * New reference; *meta is its metadata (borrowed).
 */
static json_t *
own_metadata(json_t *resource, json_t **meta)
{
	json_t *obj = json_copy(resource), *m;

	m = json_object_get(obj, "metadata");
	*meta = json_is_object(m) ? json_copy(m) : json_object();
	json_object_set_new_nocheck(obj, "metadata", *meta);
	return obj;
}

int
act_plan_k8s(const struct sensor_trigger *t, json_t *resource,
    const char *default_ns, uint64_t seed, const struct cluster *cl,
    struct act_plan *out, char **err)
{
	json_t *obj, *meta, *live = NULL, *v, *kindv, *nsv, *namev;
	const char *kind, *name, *ns, *gen, *av;

	memset(out, 0, sizeof *out);
	*err = NULL;
	kindv = json_object_get(resource, "kind");
	if (!json_is_object(resource) || (kind = json_string_value(kindv)) ==
	    NULL) {
		*err = xstrdup("source.resource has no kind");
		return -1;
	}
	/* each member looked up once: nsv and namev are what meta holds */
	obj = own_metadata(resource, &meta);
	nsv = json_object_get(meta, "namespace");
	ns = json_string_value(nsv);
	if ((ns == NULL || *ns == '\0') && default_ns &&
	    (v = json_string(default_ns)) != NULL) {
		json_object_set_new_nocheck(meta, "namespace", v);
		nsv = v;
	}
	ns = json_string_value(nsv);
	namev = json_object_get(meta, "name");
	name = json_string_value(namev);
	gen = json_string_value(json_object_get(meta, "generateName"));
	if ((name == NULL || *name == '\0') && t->operation == K8S_CREATE &&
	    gen) {
		size_t n = strlen(gen);
		char *full = xmalloc(n + 6);

		memcpy(full, gen, n);
		act_generate_suffix(seed, full + n);
		if ((v = json_string(full)) != NULL) {
			json_object_set_new_nocheck(meta, "name", v);
			namev = v;
		}
		free(full);
		name = json_string_value(namev);
	}
	if (name == NULL || *name == '\0') {
		*err = xasprintf("%s %s has no metadata.name%s", op_names[
		    t->operation], kind, gen ? " (generateName works only "
		    "with create)" : "");
		json_decref(obj);
		return -1;
	}
	if (t->operation != K8S_CREATE && cl)	/* the view holds less */
		live = cluster_get_whole(cl, kind, ns, name);
	if (t->operation != K8S_CREATE && cl && live == NULL &&
	    cluster_get(cl, kind, ns, name) != NULL) {
		*err = xasprintf("%s %s%s%s: cannot read the live object the "
		    "%s applies to", kind, ns ? ns : "", ns ? "/" : "", name,
		    op_names[t->operation]);
		json_decref(obj);
		return -1;
	}
	if (t->operation != K8S_CREATE && cl && live == NULL) {
		*err = xasprintf("%s %s%s%s not found: %s never creates it",
		    kind, ns ? ns : "", ns ? "/" : "", name,
		    op_names[t->operation]);
		json_decref(obj);
		return -1;
	}
	/* member by member: json_pack would read a format per decision */
	pthread_once(&texts_once, make_texts);
	out->plan = json_object();
	json_object_set_new_nocheck(out->plan, "type", json_incref(k8s_text));
	json_object_set_new_nocheck(out->plan, "operation",
	    json_incref(op_text[t->operation]));
	/* the resource's strings again, not new ones (util_json_str_ref) */
	v = json_object_get(resource, "apiVersion");
	av = json_string_value(v);
	json_object_set_new_nocheck(out->plan, "apiVersion",
	    util_json_str_ref(v, av));
	json_object_set_new_nocheck(out->plan, "kind", util_json_str_ref(
	    kindv, kind));
	json_object_set_new_nocheck(out->plan, "namespace",
	    util_json_str_ref(nsv, ns));
	json_object_set_new_nocheck(out->plan, "name", util_json_str_ref(namev,
	    name));
	switch (t->operation) {
	case K8S_CREATE:
		out->operation = "CREATE";
		out->object = json_incref(obj);
		json_object_set_nocheck(out->plan, "object", obj);
		break;
	case K8S_UPDATE:
		out->operation = "UPDATE";
		out->object = json_incref(obj);
		json_object_set_nocheck(out->plan, "object", obj);
		break;
	case K8S_PATCH:
		out->operation = "UPDATE";
		json_object_set_new_nocheck(out->plan, "patchStrategy",
		    json_string(t->patch_strategy ? t->patch_strategy :
		    "application/merge-patch+json"));
		json_object_set_nocheck(out->plan, "patch", obj);
		/* what admission sees: the live object as the server will
		   leave it, containers merged by name for a strategic patch */
		if (live && t->patch_strategy && strstr(t->patch_strategy,
		    "strategic"))
			out->object = strategic(live, obj);
		if (out->object == NULL)	/* not strategic, or a root
						   {$patch: delete} */
			out->object = live ? act_merge_patch(live, obj) :
			    json_incref(obj);
		break;
	case K8S_DELETE:
		out->operation = "DELETE";
		out->object = live ? json_incref(live) : json_incref(obj);
		break;
	}
	if (live && t->operation != K8S_CREATE)
		out->old = json_incref(live);
	/* the executor retries as the trigger says (Argo's retryStrategy) */
	if (t->retry_strategy)
		json_object_set_nocheck(out->plan, "retryStrategy",
		    t->retry_strategy);
	json_decref(obj);
	json_decref(live);
	return 0;
}
