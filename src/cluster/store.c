/*
 * The object store: compact records in a pointer hash table keyed by
 * kind, namespace and name.
 *
 * A record of a compact kind (cluster_compact_kind) holds no jansson
 * tree: its kind and namespace are interned strings, its name and uid are
 * inline, and the rest of its projection (cluster_project) is two
 * interned compact JSON texts: the shape (labels, owners, replicas,
 * container resources: the same for every pod of a ReplicaSet, so stored
 * once for all of them) and the statuses (container names and their last
 * termination: the same for every pod never killed).  A 100,000-pod
 * cluster is then 100,000 small records pointing at a few thousand
 * shared strings.
 *
 * Readers still get json_t objects: cluster_get() materializes one from
 * the record on demand and caches it on the record; the cache is dropped
 * at the next put/remove once it holds more than CACHE_KEEP objects
 * (hence "borrowed until the next put/remove").  Other kinds (Namespaces,
 * Applications, NetworkPolicies of a snapshot) are few and kept whole.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "cluster/cluster_int.h"
#include "util/quantity.h"

#define CACHE_KEEP	64	/* materialized objects kept across a put */
#define DUMP_FLAGS	(JSON_COMPACT | JSON_SORT_KEYS)

struct crec {
	uint32_t	 hash;
	uint8_t		 whole;		/* obj is the object itself */
	uint8_t		 cached;	/* on the cluster's cached list */
	struct istr	*kind;		/* interned */
	struct istr	*ns;		/* interned; NULL cluster-scoped */
	struct istr	*shape;		/* interned compact JSON, or NULL */
	struct istr	*status;	/* interned compact JSON, or NULL */
	json_t		*obj;		/* owned: whole, or materialized */
	char		 id[];		/* "name\0uid\0" */
};

struct cluster {
	struct ptab	  recs;		/* struct crec * (owned) */
	struct itab	  strings;
	size_t		  pods;		/* live objects of kind Pod */
	int64_t		  node_memory;	/* bytes: Nodes' allocatable, summed */
	size_t		  rec_bytes;	/* records, with their inline ids */
	struct crec	**cached;	/* records whose obj is materialized */
	size_t		  ncached, capcached;
};

struct rkey {
	const char	*kind, *ns, *name;
};

static uint32_t
key_hash(const char *kind, const char *ns, const char *name)
{
	uint32_t h = cl_hash(kind, strlen(kind), 0);

	h = cl_hash(ns ? ns : "", ns ? strlen(ns) : 0, h);
	return cl_hash(name, strlen(name), h);
}

static uint32_t
rec_hash(const void *e)
{
	return ((const struct crec *)e)->hash;
}

static int
rec_eq(const void *e, const void *key)
{
	const struct crec *r = e;
	const struct rkey *k = key;

	return strcmp(r->id, k->name) == 0 && strcmp(r->kind->s, k->kind) ==
	    0 && (r->ns ? k->ns && strcmp(r->ns->s, k->ns) == 0 : k->ns ==
	    NULL);
}

/* A Node's status.allocatable.memory in bytes; 0 when absent or bad. */
static int64_t
allocatable_memory(json_t *node)
{
	const char *m = json_string_value(json_object_get(json_object_get(
	    json_object_get(node, "status"), "allocatable"), "memory"));
	struct quantity q;
	int64_t n;

	if (m == NULL || quantity_parse(m, &q) < 0 ||
	    quantity_to_int64(&q, &n) < 0 || n < 0)
		return 0;
	return n;
}

struct cluster *
cluster_new(void)
{
	return xcalloc(1, sizeof(struct cluster));
}

static void
uncache(struct cluster *c, struct crec *r)
{
	size_t i;

	if (!r->cached)
		return;
	for (i = 0; i < c->ncached; i++)
		if (c->cached[i] == r) {
			c->cached[i] = c->cached[--c->ncached];
			break;
		}
	r->cached = 0;
}

static void
rec_free(struct cluster *c, struct crec *r)
{
	uncache(c, r);
	json_decref(r->obj);
	cl_intern_drop(&c->strings, r->kind);
	cl_intern_drop(&c->strings, r->ns);
	cl_intern_drop(&c->strings, r->shape);
	cl_intern_drop(&c->strings, r->status);
	c->rec_bytes -= sizeof *r + strlen(r->id) + 1 +
	    strlen(r->id + strlen(r->id) + 1) + 1;
	free(r);
}

void
cluster_free(struct cluster *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->recs.cap; i++)
		if (c->recs.slots[i])
			rec_free(c, c->recs.slots[i]);
	ptab_clear(&c->recs);
	cl_intern_clear(&c->strings);
	free(c->cached);
	free(c);
}

/* Drops every cached materialization: at a put, once there are many. */
static void
trim_cache(struct cluster *c)
{
	size_t i;

	if (c->ncached <= CACHE_KEEP)
		return;
	for (i = 0; i < c->ncached; i++) {
		json_decref(c->cached[i]->obj);
		c->cached[i]->obj = NULL;
		c->cached[i]->cached = 0;
	}
	c->ncached = 0;
}

/* Sets key in obj[section] (created as an object when absent). */
static json_t *
section(json_t *obj, const char *name)
{
	json_t *s = json_object_get(obj, name);

	if (!json_is_object(s)) {
		s = json_object();
		json_object_set_new(obj, name, s);
	}
	return s;
}

/* The record as an object: a new reference. */
static json_t *
materialize(const struct crec *r)
{
	const char *uid = r->id + strlen(r->id) + 1;
	json_t *o = NULL, *m, *st, *v;
	const char *k;

	if (r->whole)
		return json_incref(r->obj);
	if (r->shape)
		o = json_loads(r->shape->s, 0, NULL);
	if (o == NULL)
		o = json_object();
	json_object_set_new(o, "kind", json_string(r->kind->s));
	m = section(o, "metadata");
	json_object_set_new(m, "name", json_string(r->id));
	if (r->ns)
		json_object_set_new(m, "namespace", json_string(r->ns->s));
	if (*uid)
		json_object_set_new(m, "uid", json_string(uid));
	if (r->status && (st = json_loads(r->status->s, 0, NULL)) != NULL) {
		json_t *dst = section(o, "status");

		json_object_foreach(st, k, v)
			json_object_set(dst, k, v);
		json_decref(st);
	}
	return o;
}

static struct istr *
intern_json(struct cluster *c, json_t *v)
{
	char *s;
	struct istr *x;

	if (v == NULL || (json_is_object(v) && json_object_size(v) == 0))
		return NULL;
	s = json_dumps(v, DUMP_FLAGS);
	x = cl_intern(&c->strings, s, strlen(s));
	free(s);
	return x;
}

/*
 * Splits projection p (owned, consumed) into r's shape and statuses: the
 * identity goes inline, restartCount goes (the OOM detector compares
 * terminations, and a count per pod would make every statuses text
 * unique).
 */
static void
compact(struct cluster *c, struct crec *r, json_t *p)
{
	static const char *const lists[] = { "containerStatuses",
	    "initContainerStatuses" };
	json_t *st = json_object_get(p, "status"), *parts = json_object();
	json_t *m = json_object_get(p, "metadata"), *arr, *cs;
	size_t i, k;

	json_object_del(p, "kind");
	json_object_del(m, "name");
	json_object_del(m, "namespace");
	json_object_del(m, "uid");
	for (k = 0; k < 2; k++) {
		if ((arr = json_object_get(st, lists[k])) == NULL)
			continue;
		json_array_foreach(arr, i, cs)
			json_object_del(cs, "restartCount");
		json_object_set(parts, lists[k], arr);
		json_object_del(st, lists[k]);
	}
	if (st && json_object_size(st) == 0)
		json_object_del(p, "status");
	r->shape = intern_json(c, p);
	r->status = intern_json(c, parts);
	json_decref(parts);
	json_decref(p);
}

static struct crec *
rec_new(struct cluster *c, json_t *obj, const char *kind, const char *ns,
    const char *name, uint32_t h)
{
	const char *uid = json_string_value(json_object_get(json_object_get(
	    obj, "metadata"), "uid"));
	size_t ln = strlen(name), lu = uid ? strlen(uid) : 0;
	struct crec *r = xcalloc(1, sizeof *r + ln + lu + 2);

	r->hash = h;
	memcpy(r->id, name, ln);
	if (lu)
		memcpy(r->id + ln + 1, uid, lu);
	r->kind = cl_intern(&c->strings, kind, strlen(kind));
	r->ns = ns ? cl_intern(&c->strings, ns, strlen(ns)) : NULL;
	c->rec_bytes += sizeof *r + ln + lu + 2;
	if (cluster_compact_kind(kind))
		compact(c, r, cluster_project(obj));
	else {
		r->whole = 1;
		r->obj = json_incref(obj);
	}
	return r;
}

/* Takes r out of the table; returns it as an object if want (owned). */
static json_t *
take(struct cluster *c, struct crec *r, int want)
{
	json_t *o = NULL;

	if (want || strcmp(r->kind->s, "Node") == 0) {
		if (r->obj && !r->whole) {
			uncache(c, r);
			o = r->obj;	/* the cached one: borrowers see it */
			r->obj = NULL;
		} else
			o = materialize(r);
	}
	if (strcmp(r->kind->s, "Pod") == 0)
		c->pods--;
	if (strcmp(r->kind->s, "Node") == 0)
		c->node_memory -= allocatable_memory(o);
	rec_free(c, r);
	if (!want) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

int
cluster_put(struct cluster *c, json_t *obj, json_t **old)
{
	const char *kind = obj_kind(obj), *name = obj_name(obj);
	const char *ns = obj_namespace(obj);
	struct rkey k = { kind, ns, name };
	struct crec *r, *prev;
	json_t *o;
	uint32_t h;

	if (old)
		*old = NULL;
	if (kind == NULL || name == NULL)
		return -1;
	trim_cache(c);
	h = key_hash(kind, ns, name);
	prev = ptab_remove(&c->recs, h, rec_eq, &k, rec_hash);
	o = prev ? take(c, prev, old != NULL) : NULL;
	if (old)
		*old = o;
	r = rec_new(c, obj, kind, ns, name, h);
	ptab_insert(&c->recs, h, r, rec_hash);
	if (strcmp(kind, "Pod") == 0)
		c->pods++;
	if (strcmp(kind, "Node") == 0)
		c->node_memory += allocatable_memory(obj);
	return 0;
}

json_t *
cluster_remove(struct cluster *c, const char *kind, const char *ns,
    const char *name)
{
	struct rkey k = { kind, ns && *ns ? ns : NULL, name };
	struct crec *r;

	if (kind == NULL || name == NULL)
		return NULL;
	trim_cache(c);
	r = ptab_remove(&c->recs, key_hash(kind, k.ns, name), rec_eq, &k,
	    rec_hash);
	return r ? take(c, r, 1) : NULL;
}

json_t *
cluster_get(const struct cluster *cc, const char *kind, const char *ns,
    const char *name)
{
	struct cluster *c = (struct cluster *)(uintptr_t)cc;	/* the cache */
	struct rkey k = { kind, ns && *ns ? ns : NULL, name };
	struct crec *r;

	if (kind == NULL || name == NULL)
		return NULL;
	r = ptab_find(&c->recs, key_hash(kind, k.ns, name), rec_eq, &k);
	if (r == NULL)
		return NULL;
	if (r->obj == NULL) {
		r->obj = materialize(r);
		xgrow(&c->cached, &c->capcached, c->ncached + 1,
		    sizeof *c->cached);
		c->cached[c->ncached++] = r;
		r->cached = 1;
	}
	return r->obj;
}

int64_t
cluster_allocatable_memory(const struct cluster *c)
{
	return c->node_memory;
}

size_t
cluster_count(const struct cluster *c, const char *kind)
{
	size_t i, n = 0;

	if (kind == NULL)
		return c->recs.live;
	if (strcmp(kind, "Pod") == 0)
		return c->pods;
	for (i = 0; i < c->recs.cap; i++) {
		const struct crec *r = c->recs.slots[i];

		if (r && strcmp(r->kind->s, kind) == 0)
			n++;
	}
	return n;
}

void
cluster_stats(const struct cluster *c, struct cluster_stats *st)
{
	size_t i;

	memset(st, 0, sizeof *st);
	st->objects = c->recs.live;
	st->record_bytes = c->rec_bytes;
	st->table_bytes = ptab_bytes(&c->recs) +
	    ptab_bytes(&c->strings.t);
	st->string_bytes = c->strings.bytes;
	st->strings = c->strings.t.live;
	st->materialized = c->ncached;
	for (i = 0; i < c->recs.cap; i++) {
		const struct crec *r = c->recs.slots[i];

		if (r && r->whole)
			st->whole++;
	}
	st->bytes_per_object = st->objects ? (st->record_bytes +
	    st->table_bytes + st->string_bytes) / st->objects : 0;
}
