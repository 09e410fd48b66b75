/*
 * The object store: compact records in a pointer hash table keyed by
 * kind, namespace and name.
 *
 * A record of a compact kind (cluster_compact_kind) holds no jansson
 * tree: its kind and namespace are interned strings, its name and uid are
 * inline, and the rest of its projection (cluster_project) is interned
 * compact JSON texts, packed with a dictionary (pack.c): the metadata and
 * the shape (labels, owners, replicas, container resources: the same for
 * every pod of a ReplicaSet, so stored once for all of them, and a pod's
 * name is kept past its owner's) and the statuses (container names and
 * their last termination: the same for every pod never killed).  A 100,000-pod
 * cluster is then 100,000 small records pointing at a few thousand
 * shared strings.
 *
 * Readers still get json_t objects: cluster_get() materializes one from
 * the record on demand and caches it on the record; the cache is dropped
 * at the next put/remove once it holds more than CACHE_KEEP objects
 * (hence "borrowed until the next put/remove").  A put writes the texts
 * straight from the object (texts.c) and builds no tree: the pods of a
 * workload share their metadata and body texts, whose parsed trees the
 * store keeps for a while (trees.c), so materializing a pod a decision
 * reads soon after its workload's others parses its statuses only, and
 * the OOM detector's read of them at the pod's next put is that tree
 * again while it is kept.  Other kinds (Namespaces, Applications,
 * NetworkPolicies) are few and kept whole.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "cluster/cluster_int.h"
#include "util/quantity.h"

/*
 * Materialized objects kept across a put: a few, for the reads of one
 * decision (its Pod, the owners).  More is slower: an object kept long
 * is cold when read again and when the trim frees it, while one
 * materialized again is built in memory malloc just had in cache (a
 * 200,000-line replay: 64 kept was 3-10% slower in CPU time than 8;
 * docs/replay.md#speed).
 */
#define CACHE_KEEP	8
/*
 * Materialized objects a decision's note holds whose texts the view can
 * join back (cluster_noted_text): a decision reads its Pod, its owners
 * and what its policies look up.  One read past these is dumped as a
 * tree.
 */
#define NOTED_MAX	16
#define DUMP_FLAGS	(JSON_COMPACT | JSON_SORT_KEYS)

/*
 * What many objects share: kind, namespace and the three texts.  Pods of
 * one ReplicaSet that were never killed have one class between them.
 */
struct cclass {
	unsigned	 refs : 31;
	unsigned	 whole : 1;	/* objects kept whole, in c->objs */
	uint32_t	 hash;
	struct istr	*kind;		/* interned */
	struct istr	*ns;		/* interned; NULL cluster-scoped */
	/*
	 * Where meta's text holds what every member's name starts with:
	 * its owner's name ("web-7c5ddbdf54" of pod "web-7c5ddbdf54-x2x9q"),
	 * so a record keeps only the rest ("-x2x9q"); pfx_len 0: none.
	 */
	uint16_t	 pfx_off, pfx_len;
	struct istr	*meta;		/* labels, owners...; or NULL */
	struct istr	*body;		/* spec and status; or NULL */
	struct istr	*status;	/* container statuses; or NULL */
};

/*
 * One object: 12 bytes, then "name\0" (without its class's prefix), a
 * uid tag and the uid (16 bytes when it is a canonical UUID, as servers
 * make them).  A ReplicaSet's pod's record fits malloc's 48-byte chunk.
 */
struct crec {
	struct cclass	*cls;		/* one reference */
	uint32_t	 hash;		/* HASH_MASK; MARK: put since the
					   kind's relist began */
	char		 id[];
};

#define HASH_MASK	0x7fffffffu
#define MARK		0x80000000u
#define REC_HEAD	offsetof(struct crec, id)

enum { UID_NONE, UID_BIN, UID_TEXT };

/* An object as json: kept whole, or materialized and cached. */
struct cobj {
	const struct crec	*r;
	json_t			*obj;	/* owned */
	/*
	 * obj's controller reference (cl_controller_ref; borrowed from
	 * obj), once an owner walk read it: a walk through a workload's
	 * ReplicaSet reads the pair here, not the ReplicaSet's tree.
	 */
	const char		*okind, *oname;
	int			 oread;
};

struct cluster {
	struct cl_trees	  trees;	/* the texts parsed (trees.c) */
	struct buf	  text;		/* a text being interned, reused */
	struct buf	  texts[CL_TEXTS]; /* an object's texts, reused */
	struct ptab	  recs;		/* struct crec * (owned) */
	struct ptab	  classes;	/* struct cclass * (owned) */
	struct ptab	  objs;		/* struct cobj * (owned): whole */
	struct ptab	  cache;	/* struct cobj * (owned): materialized;
					   apart so a trim walks only them */
	struct itab	  strings;
	struct slab	  mem;		/* records and classes */
	size_t		  pods;		/* live objects of kind Pod */
	int64_t		  node_memory;	/* bytes: Nodes' allocatable, summed */
	size_t		  rec_bytes;	/* records and classes */
	size_t		  nwhole;	/* objects kept whole */
	struct map	  relists;	/* kinds relisting (value unused) */
	cluster_fetch_fn *fetch;
	void		 *fetch_ctx;
	/*
	 * What a decision read (cluster_record): borrowed, NULL when not
	 * recording.  A get through a const view still notes into it: the
	 * note is the caller's object, not the view's state.
	 */
	json_t		 *reads;
	/*
	 * The materialized objects noted into reads, with their records:
	 * forgotten whenever a record goes (take()) and at cluster_record,
	 * so a record found here is alive, and its object (held by the
	 * note) is the one materialized from it.
	 */
	struct {
		const struct crec	*r;
		const json_t		*obj;
	}		  noted[NOTED_MAX];
	size_t		  nnoted;
	struct buf	  joined;	/* cluster_noted_text's answer */
	char		 *unpacked[3];	/* its texts unpacked, reused */
	size_t		  unpacked_cap[3];
	/* Answers fixed by cluster_load_reads; NULL / -1: computed. */
	json_t		 *fixed_counts;	/* owned: {kind: n} */
	int64_t		  fixed_memory;	/* bytes */
};

struct rkey {
	const char	*kind, *ns, *name;
};

static uint32_t
key_hash(const char *kind, const char *ns, const char *name)
{
	uint32_t h = cl_hash(kind, strlen(kind), 0);

	h = cl_hash(ns ? ns : "", ns ? strlen(ns) : 0, h);
	return cl_hash(name, strlen(name), h) & HASH_MASK;
}

static uint32_t
rec_hash(const void *e)
{
	return ((const struct crec *)e)->hash & HASH_MASK;
}

/* Whether r's name (its class's prefix, then r->id) is name. */
static int
name_eq(const struct crec *r, const char *name)
{
	const struct cclass *cl = r->cls;
	size_t lp = cl->pfx_len;

	if (lp && strncmp(name, cl->meta->s + cl->pfx_off, lp) != 0)
		return 0;
	return strcmp(r->id, name + lp) == 0;
}

static int
rec_eq(const void *e, const void *key)
{
	const struct crec *r = e;
	const struct rkey *k = key;
	const struct cclass *cl = r->cls;

	return name_eq(r, k->name) && strcmp(cl->kind->s, k->kind) == 0 &&
	    (cl->ns ? k->ns && strcmp(cl->ns->s, k->ns) == 0 : k->ns ==
	    NULL);
}

/* r's whole name: owned. */
static char *
rec_name(const struct crec *r)
{
	const struct cclass *cl = r->cls;
	size_t lp = cl->pfx_len, ln = strlen(r->id);
	char *s = xmalloc(lp + ln + 1);

	if (lp)
		memcpy(s, cl->meta->s + cl->pfx_off, lp);
	memcpy(s + lp, r->id, ln + 1);
	return s;
}

static const char *
rec_kind(const struct crec *r)
{
	return r->cls->kind->s;
}

/* ---- classes ----------------------------------------------------------- */

static uint32_t
class_hash(const void *e)
{
	return ((const struct cclass *)e)->hash;
}

static int
class_eq(const void *e, const void *key)
{
	const struct cclass *a = e, *b = key;

	return a->kind == b->kind && a->ns == b->ns && a->meta == b->meta &&
	    a->body == b->body && a->status == b->status && a->whole ==
	    b->whole && a->pfx_off == b->pfx_off && a->pfx_len == b->pfx_len;
}

/* The class of k's members (references stolen), a reference. */
static struct cclass *
class_get(struct cluster *c, struct cclass *k)
{
	struct cclass *cl;
	const void *ptrs[7] = { k->kind, k->ns, k->meta, k->body,
	    k->status, k->whole ? k : NULL,
	    (const void *)((uintptr_t)k->pfx_off << 16 | k->pfx_len) };

	k->hash = cl_hash(ptrs, sizeof ptrs, 0);
	if ((cl = ptab_find(&c->classes, k->hash, class_eq, k)) != NULL) {
		/* the class holds them: none goes (no tree to drop) */
		cl_intern_drop(&c->strings, k->kind);
		cl_intern_drop(&c->strings, k->ns);
		cl_intern_drop(&c->strings, k->meta);
		cl_intern_drop(&c->strings, k->body);
		cl_intern_drop(&c->strings, k->status);
		cl->refs++;
		return cl;
	}
	cl = slab_alloc(&c->mem, sizeof *cl);
	*cl = *k;
	cl->refs = 1;
	ptab_insert(&c->classes, cl->hash, cl, class_hash);
	c->rec_bytes += sizeof *cl;
	return cl;
}

/*
 * Drops a reference to text x (or a kind or namespace), and its parsed
 * tree (string) with the last one.
 */
static void
text_drop(struct cluster *c, struct istr *x)
{
	if (x == NULL)
		return;
	if (x->refs == 1)
		cl_tree_forget(&c->trees, x);
	cl_intern_drop(&c->strings, x);
}

static void
class_drop(struct cluster *c, struct cclass *cl)
{
	if (--cl->refs > 0)
		return;
	ptab_remove(&c->classes, cl->hash, class_eq, cl, class_hash);
	text_drop(c, cl->kind);
	text_drop(c, cl->ns);
	text_drop(c, cl->meta);
	text_drop(c, cl->body);
	text_drop(c, cl->status);
	c->rec_bytes -= sizeof *cl;
	slab_free(&c->mem, cl, sizeof *cl);
}

/* ---- whole and materialized objects ------------------------------------ */

static uint32_t
ptr_hash(const void *p)
{
	return cl_hash(&p, sizeof p, 1);
}

static uint32_t
cobj_hash(const void *e)
{
	return ptr_hash(((const struct cobj *)e)->r);
}

static int
cobj_eq(const void *e, const void *key)
{
	return ((const struct cobj *)e)->r == key;
}

static int
is_whole(const struct crec *r)
{
	return r->cls->whole;
}

/* Where r's json lives: whole objects and the cache are apart. */
static struct ptab *
objs_of(const struct cluster *cc, const struct crec *r)
{
	struct cluster *c = (struct cluster *)(uintptr_t)cc;

	return is_whole(r) ? &c->objs : &c->cache;
}

static json_t *
obj_of(const struct cluster *c, const struct crec *r)
{
	struct cobj *o = ptab_find(objs_of(c, r), ptr_hash(r), cobj_eq, r);

	return o ? o->obj : NULL;
}

/* Keeps obj (stolen) for r; returns its entry. */
static struct cobj *
obj_set(struct cluster *c, const struct crec *r, json_t *obj)
{
	struct cobj *o = xmalloc(sizeof *o);

	o->r = r;
	o->obj = obj;
	o->okind = o->oname = NULL;
	o->oread = 0;
	ptab_insert(objs_of(c, r), ptr_hash(r), o, cobj_hash);
	return o;
}

/* Takes r's json out of the side table (owned), or NULL. */
static json_t *
obj_take(struct cluster *c, const struct crec *r)
{
	struct cobj *o = ptab_remove(objs_of(c, r), ptr_hash(r), cobj_eq, r,
	    cobj_hash);
	json_t *obj;

	if (o == NULL)
		return NULL;
	obj = o->obj;
	free(o);
	return obj;
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
	struct cluster *c = xcalloc(1, sizeof *c);

	cl_trees_init(&c->trees);
	c->fixed_memory = -1;
	return c;
}

static size_t
rec_size(const struct crec *r)
{
	size_t n = strlen(r->id) + 1;
	unsigned char tag = (unsigned char)r->id[n];

	return REC_HEAD + n + 1 + (tag == UID_BIN ? 16 : tag == UID_TEXT ?
	    strlen(r->id + n + 1) + 1 : 0);
}

static void
rec_free(struct cluster *c, struct crec *r)
{
	size_t n = rec_size(r);

	json_decref(obj_take(c, r));
	c->rec_bytes -= n;
	class_drop(c, r->cls);
	slab_free(&c->mem, r, n);
}

/* Frees every object, class and string: an empty store again. */
static void
clear_store(struct cluster *c)
{
	size_t i;

	for (i = 0; i < c->recs.cap; i++)
		if (c->recs.slots[i])
			rec_free(c, c->recs.slots[i]);
	ptab_clear(&c->recs);
	ptab_clear(&c->classes);
	ptab_clear(&c->objs);
	ptab_clear(&c->cache);
	cl_trees_clear(&c->trees);
	cl_intern_clear(&c->strings);
	slab_clear(&c->mem);
	map_clear(&c->relists, NULL);
	c->nnoted = 0;
	json_decref(c->fixed_counts);
	c->fixed_counts = NULL;
	c->fixed_memory = -1;
	c->pods = 0;
	c->node_memory = 0;
	c->rec_bytes = 0;
	c->nwhole = 0;
}

void
cluster_free(struct cluster *c)
{
	size_t i;

	if (c == NULL)
		return;
	clear_store(c);
	buf_free(&c->text);
	for (i = 0; i < CL_TEXTS; i++)
		buf_free(&c->texts[i]);
	buf_free(&c->joined);
	for (i = 0; i < 3; i++)
		free(c->unpacked[i]);
	free(c);
}

void
cluster_reset(struct cluster *c)
{
	clear_store(c);
	map_init(&c->relists);
}

void
cluster_record(struct cluster *c, json_t *into)
{
	c->reads = into;
	c->nnoted = 0;
}

/* reads[what][key] = v (stolen; dropped when not recording). */
static void
note(const struct cluster *c, const char *what, const char *key, json_t *v)
{
	json_object_set_new(util_json_child(c->reads, what), key, v);
}

/*
 * Notes a found object under its "Kind/ns/name" (a new reference); r: the
 * compact record obj was materialized from and is cached for (NULL: none),
 * whose texts can stand for it when the note is written.
 */
static void
note_object(struct cluster *c, const char *kind, const char *ns,
    const char *name, json_t *obj, const struct crec *r)
{
	size_t i;
	char *ref;

	if (obj == NULL || c->reads == NULL)
		return;
	ref = cluster_key(kind, ns, name);
	note(c, "objects", ref, json_incref(obj));
	free(ref);
	if (r == NULL || c->nnoted == NOTED_MAX)
		return;
	for (i = 0; i < c->nnoted; i++)	/* read again: one entry */
		if (c->noted[i].obj == obj)
			return;
	c->noted[c->nnoted].r = r;
	c->noted[c->nnoted++].obj = obj;
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
	json_object_foreach(objs, k, o)	/* whole: a snapshot's objects */
		if (cluster_put_whole(c, o, NULL) == -1)
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

/*
 * Drops every materialized object: at a put, once there are many.  The
 * cache has a table of its own, so this walks CACHE_KEEP-odd slots, not
 * every whole object of a snapshot.
 */
static void
trim_cache(struct cluster *c)
{
	size_t i;

	if (c->cache.live <= CACHE_KEEP)
		return;
	for (i = 0; i < c->cache.cap; i++) {
		struct cobj *o = c->cache.slots[i];

		if (o) {
			json_decref(o->obj);
			free(o);
		}
	}
	ptab_empty(&c->cache);	/* its slots serve the next fill */
}

/* "8-4-4-4-12" hex to 16 bytes; -1 when s is not such a uid. */
static int
uid_pack(const char *s, unsigned char out[16])
{
	static const char dash[] = { 8, 13, 18, 23 };
	size_t i, k = 0, d = 0;

	if (strlen(s) != 36)
		return -1;
	for (i = 0; i < 36; i++) {
		int v;

		if (d < 4 && i == (size_t)dash[d]) {
			if (s[i] != '-')
				return -1;
			d++;
			continue;
		}
		if (s[i] >= '0' && s[i] <= '9')
			v = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			v = s[i] - 'a' + 10;
		else
			return -1;	/* upper case would not round-trip */
		if (k % 2 == 0)
			out[k / 2] = (unsigned char)(v << 4);
		else
			out[k / 2] |= (unsigned char)v;
		k++;
	}
	return 0;
}

static void
uid_unpack(const unsigned char in[16], char out[37])
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[in[i] >> 4];
		out[o++] = hex[in[i] & 15];
	}
	out[o] = '\0';
}

/* r's uid: in buf (37 bytes) when packed, in r when text; NULL: none. */
static const char *
rec_uid(const struct crec *r, char buf[37])
{
	size_t n = strlen(r->id) + 1;
	unsigned char tag = (unsigned char)r->id[n];

	if (tag == UID_BIN) {
		uid_unpack((const unsigned char *)r->id + n + 1, buf);
		return buf;
	}
	return tag == UID_TEXT ? r->id + n + 1 : NULL;
}

/* x parsed, through the parsed trees (cl_tree_of): borrowed. */
static json_t *
tree_of(const struct cluster *cc, struct istr *x)
{
	struct cluster *c = (struct cluster *)(uintptr_t)cc;	/* a cache */

	return cl_tree_of(&c->trees, x);
}

/*
 * A new object with src's members, in src's order, shared rather than
 * copied: materialized objects share the parsed trees' values (as whole
 * objects are shared with the view), so what is new is only the objects
 * materialize adds to.  Readers never change what the view returns.
 */
static json_t *
shallow(json_t *src)
{
	json_t *o = json_object(), *v;
	void *it;

	for (it = json_object_iter(src); it; it = json_object_iter_next(src,
	    it)) {
		v = json_object_iter_value(it);
		json_object_setn(o, json_object_iter_key(it),
		    json_object_iter_key_len(it), v);
	}
	return o;
}

/* What a compact record is assembled from (borrowed). */
struct parts {
	json_t	*body;		/* spec and status, parsed */
	json_t	*meta;		/* metadata but the identity, parsed */
	json_t	*status;	/* the container statuses; NULL: none */
};

/*
 * Record r's kind into o and its metadata (meta, parsed, with r's
 * identity) as o's "metadata", after what o holds.
 */
static void
assemble_meta(const struct cluster *cc, const struct crec *r, json_t *meta,
    json_t *o)
{
	struct cluster *c = (struct cluster *)(uintptr_t)cc;	/* a cache */
	const struct cclass *cl = r->cls;
	json_t *m;
	char buf[37], *name;
	const char *uid = rec_uid(r, buf);

	name = rec_name(r);
	/* kind and namespace: one string each, shared */
	json_object_set(o, "kind", cl_string_of(&c->trees, cl->kind));
	m = shallow(meta);
	json_object_set_new(m, "name", json_string(name));
	if (cl->ns)
		json_object_set(m, "namespace", cl_string_of(&c->trees,
		    cl->ns));
	if (uid)
		json_object_set_new(m, "uid", json_string(uid));
	json_object_set_new(o, "metadata", m);
	free(name);
}

/* Record r assembled from its parts: a new reference. */
static json_t *
assemble(const struct cluster *c, const struct crec *r,
    const struct parts *t)
{
	json_t *o, *dst;
	void *it;

	o = shallow(t->body);
	assemble_meta(c, r, t->meta, o);
	if (t->status) {
		/* the body's status is the parsed tree's: add to a copy */
		dst = json_object_get(o, "status");
		dst = json_is_object(dst) ? shallow(dst) : json_object();
		json_object_set_new(o, "status", dst);
		for (it = json_object_iter(t->status); it;
		    it = json_object_iter_next(t->status, it))
			json_object_setn(dst, json_object_iter_key(it),
			    json_object_iter_key_len(it),
			    json_object_iter_value(it));
	}
	return o;
}

/* The record as an object: a new reference. */
static json_t *
materialize(const struct cluster *c, const struct crec *r)
{
	const struct cclass *cl = r->cls;
	struct parts t;
	json_t *o;

	if (is_whole(r))
		return json_incref(obj_of(c, r));
	/* held: one tree_of may evict the tree another returned */
	t.body = json_incref(tree_of(c, cl->body));
	t.meta = json_incref(tree_of(c, cl->meta));
	t.status = cl->status ? json_incref(tree_of(c, cl->status)) : NULL;
	o = assemble(c, r, &t);
	json_decref(t.body);
	json_decref(t.meta);
	json_decref(t.status);
	return o;
}

/* Text s packed and interned: a new reference. */
static struct istr *
intern_text(struct cluster *c, const char *s)
{
	struct istr *x;
	size_t n;
	char *p = cl_text_pack(s, &n);

	x = cl_intern(&c->strings, p, n);
	free(p);
	return x;
}

/* v dumped, interned: a new reference; NULL for nothing or {}. */
static struct istr *
intern_json(struct cluster *c, json_t *v)
{
	char *s = NULL;
	struct istr *x;

	if (v == NULL || (json_is_object(v) && json_object_size(v) == 0))
		return NULL;
	buf_reset(&c->text);
	if (util_json_write(&c->text, v, DUMP_FLAGS) == -1)
		s = json_dumps(v, DUMP_FLAGS);	/* outside ASCII: jansson's */
	x = intern_text(c, s ? s : c->text.data);
	free(s);
	return x;
}

/*
 * A text of cl_write_texts interned, as intern_json interns its part: a
 * new reference.  was (NULL: none) is the text the object had: most
 * updates change one text of three, and comparing costs less than
 * packing.
 */
static struct istr *
intern_written(struct cluster *c, const struct buf *b, struct istr *was)
{
	if (strcmp(b->data, "{}") == 0)
		return NULL;
	if (was && cl_text_is(was->s, b->data, b->len)) {
		was->refs++;
		return was;
	}
	return intern_text(c, b->data);
}

/*
 * Sets k's prefix: the longest name of an owner in meta m (k->meta its
 * text) that name starts with and is longer than, found in the text.
 * Pods of a ReplicaSet, Jobs of a CronJob, ReplicaSets of a Deployment
 * are named so.
 */
static void
owner_prefix(struct cclass *k, json_t *m, const char *name)
{
	json_t *ref;
	const char *on, *at;
	size_t i, lo;

	json_array_foreach(json_object_get(m, "ownerReferences"), i, ref) {
		if ((on = json_string_value(json_object_get(ref, "name"))) ==
		    NULL || (lo = strlen(on)) <= k->pfx_len || lo > UINT16_MAX ||
		    strncmp(name, on, lo) != 0 || name[lo] == '\0' ||
		    (at = strstr(k->meta->s, on)) == NULL ||
		    (size_t)(at - k->meta->s) > UINT16_MAX)
			continue;
		k->pfx_off = (uint16_t)(at - k->meta->s);
		k->pfx_len = (uint16_t)lo;
	}
}

/*
 * Splits projection p (owned, consumed) of the object called name into
 * k's texts (cl_split_projection).  texts.c writes the same texts
 * straight from the object; this is the way for the objects it refuses.
 */
static void
compact(struct cluster *c, struct cclass *k, json_t *p, const char *name)
{
	json_t *m, *parts;

	cl_split_projection(p, &m, &parts);
	k->meta = intern_json(c, m);
	if (k->meta)
		owner_prefix(k, m, name);
	k->body = intern_json(c, p);
	k->status = intern_json(c, parts);
	json_decref(parts);
	json_decref(m);
	json_decref(p);
}

/*
 * k's texts of obj (a compact kind) written, split and interned; was
 * (NULL: none) the class of the object obj replaces, of the same kind,
 * namespace and name.
 */
static void
compact_obj(struct cluster *c, struct cclass *k, json_t *obj,
    const char *kind, const char *name, const struct cclass *was)
{
	if (was && was->whole)
		was = NULL;
	if (cl_write_texts(obj, kind, c->texts) == -1) {
		compact(c, k, cluster_project(obj), name);
		return;
	}
	k->meta = intern_written(c, &c->texts[CL_META], was ? was->meta :
	    NULL);
	if (k->meta && was && k->meta == was->meta) {
		/* the same owners and name: the same prefix */
		k->pfx_off = was->pfx_off;
		k->pfx_len = was->pfx_len;
	} else if (k->meta)	/* the projection's owners are obj's */
		owner_prefix(k, json_object_get(obj, "metadata"), name);
	k->body = intern_written(c, &c->texts[CL_BODY], was ? was->body :
	    NULL);
	k->status = intern_written(c, &c->texts[CL_STATUS], was ?
	    was->status : NULL);
}

/* A record for obj, replacing prev (NULL: none; still held). */
static struct crec *
rec_new(struct cluster *c, json_t *obj, const char *kind, const char *ns,
    const char *name, uint32_t h, int whole, const struct crec *prev)
{
	const char *uid = json_string_value(json_object_get(json_object_get(
	    obj, "metadata"), "uid"));
	size_t ln, lu = 0;
	unsigned char bin[16];
	int tag = UID_NONE;
	struct cclass k;
	struct crec *r;

	memset(&k, 0, sizeof k);
	k.kind = cl_intern(&c->strings, kind, strlen(kind));
	k.ns = ns ? cl_intern(&c->strings, ns, strlen(ns)) : NULL;
	k.whole = whole || !cluster_compact_kind(kind);
	if (!k.whole)
		compact_obj(c, &k, obj, kind, name, prev ? prev->cls : NULL);
	name += k.pfx_len;
	ln = strlen(name) + 1;
	if (uid && uid_pack(uid, bin) == 0) {
		tag = UID_BIN;
		lu = 16;
	} else if (uid) {
		tag = UID_TEXT;
		lu = strlen(uid) + 1;
	}
	r = slab_alloc(&c->mem, REC_HEAD + ln + 1 + lu);
	r->hash = h | MARK;
	memcpy(r->id, name, ln);
	r->id[ln] = (char)tag;
	if (lu)
		memcpy(r->id + ln + 1, tag == UID_BIN ? (const char *)bin :
		    uid, lu);
	c->rec_bytes += REC_HEAD + ln + 1 + lu;
	r->cls = class_get(c, &k);
	if (k.whole) {
		obj_set(c, r, json_incref(obj));
		c->nwhole++;
	}
	return r;
}

enum want { WANT_NONE, WANT_OBJECT, WANT_STATUSES };

/*
 * What the OOM detector reads of a replaced Pod: its container statuses
 * as the record keeps them, parsed from the record's statuses text (a
 * few hundred bytes), not the whole projection materialized; the tree
 * the decision on r's version parsed while the tree cache still holds it
 * (shared: the detector only reads it).  A text r alone names is about
 * to go with r: parsed then, it is not kept.  A new reference:
 * {"metadata": {uid}, "status": {containerStatuses,
 * initContainerStatuses}}: the uid tells a Pod recreated under the same
 * name from the one it replaces.
 */
static json_t *
statuses_of(struct cluster *c, const struct crec *r)
{
	struct istr *x = r->cls->status;
	json_t *o = json_object(), *m, *v;
	char buf[37];
	const char *uid = rec_uid(r, buf);

	/* member by member: json_pack would read a format per put */
	if (uid && (v = json_string(uid)) != NULL) {
		m = json_object();
		json_object_set_new_nocheck(m, "uid", v);
		json_object_set_new_nocheck(o, "metadata", m);
	}
	json_object_set_new(o, "status", x && (x->refs > 1 ||
	    r->cls->refs > 1) ? json_incref(tree_of(c, x)) :
	    cl_tree_peek(&c->trees, x));
	return o;
}

/* Takes r (out of the table already); returns what want asks of it. */
static json_t *
take(struct cluster *c, struct crec *r, enum want want)
{
	int node = strcmp(rec_kind(r), "Node") == 0;
	json_t *o = NULL;

	if (want == WANT_STATUSES && !is_whole(r) && !node)
		o = statuses_of(c, r);	/* a cached object goes with r */
	else if (want != WANT_NONE || node) {
		/* the cached one, so borrowers and the caller agree */
		if ((o = is_whole(r) ? json_incref(obj_of(c, r)) :
		    obj_take(c, r)) == NULL)
			o = materialize(c, r);
	}
	if (strcmp(rec_kind(r), "Pod") == 0)
		c->pods--;
	if (node)
		c->node_memory -= allocatable_memory(o);
	if (is_whole(r))
		c->nwhole--;
	c->nnoted = 0;		/* r may be one: none is trusted after */
	rec_free(c, r);
	if (want == WANT_NONE) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

static int
put(struct cluster *c, json_t *obj, json_t **old, int whole,
    enum want want)
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
	/* prev taken after: the new record may share its texts */
	r = rec_new(c, obj, kind, ns, name, h, whole, prev);
	o = prev ? take(c, prev, old ? want : WANT_NONE) : NULL;
	if (old)
		*old = o;
	ptab_insert(&c->recs, h, r, rec_hash);
	if (strcmp(kind, "Pod") == 0)
		c->pods++;
	if (strcmp(kind, "Node") == 0)
		c->node_memory += allocatable_memory(obj);
	return 0;
}

int
cluster_put(struct cluster *c, json_t *obj, json_t **old)
{
	return put(c, obj, old, 0, WANT_OBJECT);
}

int
cluster_put_statuses(struct cluster *c, json_t *obj, json_t **old)
{
	return put(c, obj, old, 0, WANT_STATUSES);
}

int
cluster_put_whole(struct cluster *c, json_t *obj, json_t **old)
{
	return put(c, obj, old, 1, WANT_OBJECT);
}

void
cluster_set_fetch(struct cluster *c, cluster_fetch_fn *fn, void *ctx)
{
	c->fetch = fn;
	c->fetch_ctx = ctx;
}

json_t *
cluster_get_whole(const struct cluster *cc, const char *kind,
    const char *ns, const char *name)
{
	struct cluster *c = (struct cluster *)(uintptr_t)cc;
	struct rkey k = { kind, ns && *ns ? ns : NULL, name };
	const struct crec *r, *cached = NULL;
	json_t *o, *w;

	if (kind == NULL || name == NULL)
		return NULL;
	r = ptab_find(&c->recs, key_hash(kind, k.ns, name), rec_eq, &k);
	if (r == NULL)
		return NULL;
	if (is_whole(r))
		w = json_incref(obj_of(c, r));
	else if (c->fetch == NULL) {
		cached = r;
		/* the projection is all there is: the cached one, shared */
		if ((o = obj_of(c, r)) == NULL) {
			o = materialize(c, r);
			obj_set(c, r, o);
		}
		w = json_incref(o);
	} else {
		/*
		 * The GET needs the apiVersion only: the body's (materialize
		 * takes it from there), not the object materialized.  Held:
		 * the tree cache may drop it while the fetch runs.
		 */
		o = json_incref(obj_of(c, r));
		if (o == NULL)
			o = json_incref(tree_of(c, r->cls->body));
		w = c->fetch(c->fetch_ctx, json_string_value(json_object_get(
		    o, "apiVersion")), kind, k.ns, name); /* a GET, in run */
		json_decref(o);
	}
	note_object(c, kind, k.ns, name, w, cached);
	return w;
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
	return r ? take(c, r, WANT_OBJECT) : NULL;
}

/* cluster_get's answer, with its side-table entry: borrowed, or NULL. */
static struct cobj *
get(const struct cluster *cc, const char *kind, const char *ns,
    const char *name)
{
	struct cluster *c = (struct cluster *)(uintptr_t)cc;	/* the cache */
	struct rkey k = { kind, ns && *ns ? ns : NULL, name };
	struct crec *r;
	struct cobj *o;

	if (kind == NULL || name == NULL)
		return NULL;
	r = ptab_find(&c->recs, key_hash(kind, k.ns, name), rec_eq, &k);
	if (r == NULL)
		return NULL;
	o = ptab_find(objs_of(c, r), ptr_hash(r), cobj_eq, r);
	if (o == NULL)
		o = obj_set(c, r, materialize(c, r));
	note_object(c, kind, k.ns, name, o->obj, is_whole(r) ? NULL : r);
	return o;
}

json_t *
cluster_get(const struct cluster *c, const char *kind, const char *ns,
    const char *name)
{
	struct cobj *o = get(c, kind, ns, name);

	return o ? o->obj : NULL;
}

json_t *
cl_get_controlled(const struct cluster *c, const char *kind, const char *ns,
    const char *name, const char **okind, const char **oname)
{
	struct cobj *o = get(c, kind, ns, name);

	if (o == NULL)
		return NULL;
	if (!o->oread) {
		cl_controller_ref(o->obj, &o->okind, &o->oname);
		o->oread = 1;
	}
	*okind = o->okind;
	*oname = o->oname;
	return o->obj;
}

json_t *
cluster_get_meta(const struct cluster *cc, const char *kind, const char *ns,
    const char *name)
{
	struct cluster *c = (struct cluster *)(uintptr_t)cc;	/* the cache */
	struct rkey k = { kind, ns && *ns ? ns : NULL, name };
	struct crec *r;
	json_t *o, *meta;

	if (kind == NULL || name == NULL)
		return NULL;
	if (c->reads != NULL)	/* a decision's inputs note the object */
		return json_incref(cluster_get(cc, kind, ns, name));
	r = ptab_find(&c->recs, key_hash(kind, k.ns, name), rec_eq, &k);
	if (r == NULL)
		return NULL;
	if ((o = obj_of(c, r)) != NULL)
		return json_incref(o);	/* whole, or materialized already */
	/* the metadata text alone: the body and statuses stay unparsed */
	meta = json_incref(tree_of(c, r->cls->meta));
	o = json_object();
	assemble_meta(c, r, meta, o);
	json_decref(meta);
	return o;
}

/* x unpacked into the i-th reused buffer; "{}" for no text. */
static const char *
unpacked(struct cluster *c, int i, const struct istr *x, size_t *len)
{
	if (x == NULL) {
		*len = 2;
		return "{}";
	}
	*len = cl_text_unpack_to(x->s, &c->unpacked[i], &c->unpacked_cap[i]);
	return c->unpacked[i];
}

const char *
cluster_noted_text(void *ctx, const json_t *v, size_t *len)
{
	struct cluster *c = ctx;
	const struct crec *r = NULL;
	const struct cclass *cl;
	struct cl_join j;
	char uid[37], *name;
	size_t i;
	int rc;

	for (i = 0; i < c->nnoted && r == NULL; i++)
		if (c->noted[i].obj == v)
			r = c->noted[i].r;
	if (r == NULL)
		return NULL;
	cl = r->cls;
	memset(&j, 0, sizeof j);
	j.body = unpacked(c, 0, cl->body, &j.body_len);
	j.meta = unpacked(c, 1, cl->meta, &j.meta_len);
	if (cl->status)
		j.status = unpacked(c, 2, cl->status, &j.status_len);
	j.kind = cl->kind->s;
	j.ns = cl->ns ? cl->ns->s : NULL;
	j.name = name = rec_name(r);
	j.uid = rec_uid(r, uid);
	buf_reset(&c->joined);
	rc = cl_join_texts(&c->joined, &j);
	free(name);
	if (rc == -1)
		return NULL;
	*len = c->joined.len;
	return c->joined.data;
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
	json_t *v = json_object_get(c->fixed_counts, kind ? kind : "*");
	size_t i, n = 0;

	if (v)
		return (size_t)json_integer_value(v);
	if (kind == NULL)
		return c->recs.live;
	if (strcmp(kind, "Pod") == 0)
		return c->pods;
	for (i = 0; i < c->recs.cap; i++) {
		const struct crec *r = c->recs.slots[i];

		if (r && strcmp(rec_kind(r), kind) == 0)
			n++;
	}
	return n;
}

size_t
cluster_count(const struct cluster *c, const char *kind)
{
	size_t n = count(c, kind);

	note(c, "counts", kind ? kind : "*", json_integer((json_int_t)n));
	return n;
}

void
cluster_stats(const struct cluster *c, struct cluster_stats *st)
{
	memset(st, 0, sizeof *st);
	st->objects = c->recs.live;
	st->whole = c->nwhole;
	st->materialized = c->cache.live;
	st->parsed = c->trees.t.live;
	st->parsed_bytes = c->trees.bytes;
	st->record_bytes = c->rec_bytes;
	st->table_bytes = ptab_bytes(&c->recs) + ptab_bytes(&c->classes) +
	    ptab_bytes(&c->objs) + ptab_bytes(&c->cache) +
	    ptab_bytes(&c->strings.t);
	st->string_bytes = c->strings.bytes;
	st->strings = c->strings.t.live;
	st->classes = c->classes.live;
	st->bytes_per_object = st->objects ? (st->record_bytes +
	    st->table_bytes + st->string_bytes) / st->objects : 0;
}

void
cluster_relist_begin(struct cluster *c, const char *kind)
{
	size_t i;

	if (kind == NULL || *kind == '\0')
		return;
	map_put(&c->relists, kind, (void *)1);
	for (i = 0; i < c->recs.cap; i++) {
		struct crec *r = c->recs.slots[i];

		if (r && strcmp(rec_kind(r), kind) == 0)
			r->hash &= HASH_MASK;	/* not put since */
	}
}

size_t
cluster_relist_end(struct cluster *c, const char *kind)
{
	struct crec **gone = NULL;
	size_t i, n = 0, cap = 0;

	if (kind == NULL || map_del(&c->relists, kind) == NULL)
		return 0;
	trim_cache(c);
	for (i = 0; i < c->recs.cap; i++) {
		struct crec *r = c->recs.slots[i];

		if (r && !(r->hash & MARK) && strcmp(rec_kind(r), kind) == 0) {
			xgrow(&gone, &cap, n + 1, sizeof *gone);
			gone[n++] = r;
		}
	}
	for (i = 0; i < n; i++) {
		char *name = rec_name(gone[i]);
		struct rkey k = { rec_kind(gone[i]), gone[i]->cls->ns ?
		    gone[i]->cls->ns->s : NULL, name };

		ptab_remove(&c->recs, gone[i]->hash & HASH_MASK, rec_eq, &k,
		    rec_hash);
		json_decref(take(c, gone[i], WANT_NONE));
		free(name);
	}
	free(gone);
	return n;
}
