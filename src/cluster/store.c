/*
 * The object store: a hash map keyed by
 * "Kind\x1fnamespace\x1fname".  Replay feeds it a million watch events, so
 * a get or put costs one hash and usually one probe.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "util/quantity.h"

struct cluster {
	struct map	 objects;	/* key -> json_t * (owned reference) */
	size_t		 pods;		/* live objects of kind Pod */
	int64_t		 node_memory;	/* bytes: Nodes' allocatable, summed */
	/*
	 * What a decision read (cluster_record): borrowed, NULL when not
	 * recording.  A get through a const view still notes into it: the
	 * note is the caller's object, not the view's state.
	 */
	json_t		*reads;
	/* Answers fixed by cluster_load_reads; NULL / -1: computed. */
	json_t		*fixed_counts;	/* owned: {kind: n} */
	int64_t		 fixed_memory;	/* bytes */
};

static int
is_node(const char *kind)
{
	return strcmp(kind, "Node") == 0;
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

static char *
make_key(const char *kind, const char *ns, const char *name, char *stack,
    size_t stacklen)
{
	size_t lk = strlen(kind), ln = ns ? strlen(ns) : 0, lm = strlen(name);
	size_t need = lk + ln + lm + 3;
	char *k = need <= stacklen ? stack : xmalloc(need);

	memcpy(k, kind, lk);
	k[lk] = '\x1f';
	if (ln)
		memcpy(k + lk + 1, ns, ln);
	k[lk + 1 + ln] = '\x1f';
	memcpy(k + lk + ln + 2, name, lm);
	k[need - 1] = '\0';
	return k;
}

struct cluster *
cluster_new(void)
{
	struct cluster *c = xcalloc(1, sizeof *c);

	map_init(&c->objects);
	c->fixed_memory = -1;
	return c;
}

static void
decref_value(void *v)
{
	json_decref(v);
}

void
cluster_free(struct cluster *c)
{
	if (c == NULL)
		return;
	map_clear(&c->objects, decref_value);
	json_decref(c->fixed_counts);
	free(c);
}

void
cluster_reset(struct cluster *c)
{
	map_clear(&c->objects, decref_value);
	map_init(&c->objects);
	c->pods = 0;
	c->node_memory = 0;
	json_decref(c->fixed_counts);
	c->fixed_counts = NULL;
	c->fixed_memory = -1;
}

void
cluster_record(struct cluster *c, json_t *into)
{
	c->reads = into;
}

/* reads[what][key] = v (stolen; dropped when not recording). */
static void
note(const struct cluster *c, const char *what, const char *key, json_t *v)
{
	json_object_set_new(util_json_child(c->reads, what), key, v);
}

int
cluster_load_reads(struct cluster *c, const json_t *reads)
{
	json_t *objs = json_object_get(reads, "objects"), *o, *v;
	json_t *counts = json_object_get(reads, "counts");
	const char *k;
	int rc = 0;

	if (reads != NULL && !json_is_object(reads))
		return -1;
	json_object_foreach(objs, k, o)
		if (cluster_put(c, o, NULL) == -1)
			rc = -1;
	json_object_foreach(counts, k, v) {
		if (!json_is_integer(v))
			return -1;
		if (c->fixed_counts == NULL)
			c->fixed_counts = json_object();
		json_object_set(c->fixed_counts, k, v);
	}
	v = json_object_get(json_object_get(reads, "nodeMemory"), "bytes");
	if (json_is_integer(v))
		c->fixed_memory = json_integer_value(v);
	return rc;
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

int
cluster_put(struct cluster *c, json_t *obj, json_t **old)
{
	const char *kind = obj_kind(obj), *name = obj_name(obj);
	char stack[256], *key;
	json_t *prev;

	if (old)
		*old = NULL;
	if (kind == NULL || name == NULL)
		return -1;
	key = make_key(kind, obj_namespace(obj), name, stack, sizeof stack);
	prev = map_put(&c->objects, key, json_incref(obj));
	if (key != stack)
		free(key);
	if (prev == NULL && strcmp(kind, "Pod") == 0)
		c->pods++;
	if (is_node(kind))
		c->node_memory += allocatable_memory(obj) -
		    (prev ? allocatable_memory(prev) : 0);
	if (old)
		*old = prev;
	else
		json_decref(prev);
	return 0;
}

json_t *
cluster_remove(struct cluster *c, const char *kind, const char *ns,
    const char *name)
{
	char stack[256], *key = make_key(kind, ns && *ns ? ns : NULL, name,
	    stack, sizeof stack);
	json_t *obj = map_del(&c->objects, key);

	if (key != stack)
		free(key);
	if (obj && strcmp(kind, "Pod") == 0)
		c->pods--;
	if (obj && is_node(kind))
		c->node_memory -= allocatable_memory(obj);
	return obj;
}

json_t *
cluster_get(const struct cluster *c, const char *kind, const char *ns,
    const char *name)
{
	char stack[256], *key;
	json_t *obj;

	if (kind == NULL || name == NULL)
		return NULL;
	key = make_key(kind, ns && *ns ? ns : NULL, name, stack, sizeof stack);
	obj = map_get(&c->objects, key);
	if (key != stack)
		free(key);
	if (obj && c->reads) {
		char *ref = cluster_key(kind, ns, name);

		note(c, "objects", ref, json_incref(obj));
		free(ref);
	}
	return obj;
}

struct count_ctx {
	const char	*kind;
	size_t		 n;
};

static int
count_kind(void *ctx, const char *key, void *value)
{
	struct count_ctx *cc = ctx;

	(void)key;
	if (strcmp(obj_kind(value), cc->kind) == 0)
		cc->n++;
	return 0;
}

int64_t
cluster_allocatable_memory(const struct cluster *c)
{
	int64_t n = c->fixed_memory >= 0 ? c->fixed_memory : c->node_memory;

	note(c, "nodeMemory", "bytes", json_integer(n));
	return n;
}

static size_t
count(const struct cluster *c, const char *kind)
{
	struct count_ctx cc = { kind, 0 };
	json_t *v = json_object_get(c->fixed_counts, kind ? kind : "*");

	if (v)
		return (size_t)json_integer_value(v);
	if (kind == NULL)
		return c->objects.live;
	if (strcmp(kind, "Pod") == 0)
		return c->pods;
	map_each(&c->objects, count_kind, &cc);
	return cc.n;
}

size_t
cluster_count(const struct cluster *c, const char *kind)
{
	size_t n = count(c, kind);

	note(c, "counts", kind ? kind : "*", json_integer((json_int_t)n));
	return n;
}
