/*
 * The parsed texts.  Materializing a compact object parses its class's
 * texts: a decision materializes a Pod whose metadata and body texts
 * the other pods of its workload share, and the next update of that Pod
 * reads its statuses text back for the OOM detector.  Parsing is most of
 * a read's cost (jansson allocates every value, key and string), so a
 * text's tree is kept once parsed: while its text lives, and until
 * newer trees push it out: at most CL_TREES_MAX trees of CL_TREES_BYTES
 * of text.
 *
 * The trees are in a hash table keyed by the interned string's address
 * (the same text interned is the same string) and in a list by last use
 * (sys/queue.h's TAILQ, newest first: a use moves a tree to the head,
 * room is made from the tail); the string's parsed bit saves a lookup
 * for every text never parsed.
 * Small on purpose: the trees that pay are those a decision reads
 * again within itself and its neighbours (a Pod's metadata, body and
 * statuses, its owners'), not a storm's whole working set.  Sized for
 * that (4,096 trees, 4 MiB as jansson holds them) the cache made a
 * 200,000-line replay over 2,000 workloads about a fifth slower in CPU
 * time than 64 trees (and 4 MiB bigger), though it saved instructions:
 * a tree kept long is cold when read again, and pushing trees out frees
 * cold memory, while a text parsed again (a few hundred bytes, by
 * util_json_loadb) comes out of memory malloc just had in cache.
 * bench/time-profile and docs/replay.md#speed have the measurements.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_int.h"
#include "util/util.h"

struct cl_tree {
	struct istr	*x;		/* the text; x->parsed while here */
	json_t		*tree;		/* owned */
	size_t		 len;		/* bytes of text unpacked */
	TAILQ_ENTRY(cl_tree) use;	/* in cl_trees.lru */
};

static uint32_t
tree_hash(const void *e)
{
	return ((const struct cl_tree *)e)->x->hash;
}

static int
tree_eq(const void *e, const void *key)
{
	return ((const struct cl_tree *)e)->x == key;
}

/* ts->text (n bytes, x unpacked) parsed: a new reference; {} when bad. */
static json_t *
parse(struct cl_trees *ts, size_t n)
{
	json_t *v = util_json_loadb(ts->text, n, 0, NULL);

	return v ? v : json_object();
}

/* Drops t's tree; t stays allocated and linked. */
static void
drop(struct cl_trees *ts, struct cl_tree *t)
{
	ptab_remove(&ts->t, t->x->hash, tree_eq, t->x, tree_hash);
	t->x->parsed = 0;
	ts->bytes -= t->len;
	json_decref(t->tree);
}

static json_t *
empty(struct cl_trees *ts)
{
	if (ts->empty == NULL)
		ts->empty = json_object();
	return ts->empty;
}

/* x's entry, the newest now; x->parsed. */
static struct cl_tree *
used(struct cl_trees *ts, const struct istr *x)
{
	struct cl_tree *t = ptab_find(&ts->t, x->hash, tree_eq, x);

	if (t != TAILQ_FIRST(&ts->lru)) {
		TAILQ_REMOVE(&ts->lru, t, use);
		TAILQ_INSERT_HEAD(&ts->lru, t, use);
	}
	return t;
}

/* A new entry for x, of n bytes, the newest; its tree left to set. */
static struct cl_tree *
add(struct cl_trees *ts, struct istr *x, size_t n)
{
	struct cl_tree *t = NULL, *old;

	/*
	 * the least recently used make room (a text past the bound alone is
	 * kept alone); the last one out is reused for x
	 */
	while ((old = TAILQ_LAST(&ts->lru, cl_tree_lru)) != NULL &&
	    (ts->t.live >= CL_TREES_MAX || ts->bytes + n > CL_TREES_BYTES)) {
		free(t);
		t = old;
		TAILQ_REMOVE(&ts->lru, t, use);
		drop(ts, t);
	}
	if (t == NULL)
		t = xmalloc(sizeof *t);
	t->x = x;
	t->len = n;
	ts->bytes += n;
	x->parsed = 1;
	ptab_insert(&ts->t, x->hash, t, tree_hash);
	TAILQ_INSERT_HEAD(&ts->lru, t, use);
	return t;
}

json_t *
cl_tree_of(struct cl_trees *ts, struct istr *x)
{
	struct cl_tree *t;
	size_t n;

	if (x == NULL)
		return empty(ts);
	if (x->parsed)
		return used(ts, x)->tree;
	n = cl_text_unpack_to(x->s, &ts->text, &ts->cap);
	t = add(ts, x, n);
	t->tree = parse(ts, n);
	return t->tree;
}

json_t *
cl_string_of(struct cl_trees *ts, struct istr *x)
{
	struct cl_tree *t;

	if (x->parsed)
		return used(ts, x)->tree;
	t = add(ts, x, x->len);
	/* a string interned was a JSON string's, or a C string: UTF-8 */
	t->tree = json_stringn_nocheck(x->s, x->len);
	return t->tree;
}

json_t *
cl_tree_peek(struct cl_trees *ts, struct istr *x)
{
	if (x == NULL)
		return json_incref(empty(ts));
	if (x->parsed)
		return json_incref(used(ts, x)->tree);
	return parse(ts, cl_text_unpack_to(x->s, &ts->text, &ts->cap));
}

void
cl_tree_forget(struct cl_trees *ts, struct istr *x)
{
	struct cl_tree *t;

	if (x == NULL || !x->parsed)
		return;
	t = ptab_find(&ts->t, x->hash, tree_eq, x);
	TAILQ_REMOVE(&ts->lru, t, use);
	drop(ts, t);
	free(t);
}

void
cl_trees_init(struct cl_trees *ts)
{
	memset(ts, 0, sizeof *ts);
	TAILQ_INIT(&ts->lru);
}

void
cl_trees_clear(struct cl_trees *ts)
{
	struct cl_tree *t, *next;

	/* every tree goes: no unlinking, the next saved before t is freed */
	for (t = TAILQ_FIRST(&ts->lru); t != NULL; t = next) {
		next = TAILQ_NEXT(t, use);
		t->x->parsed = 0;
		json_decref(t->tree);
		free(t);
	}
	ptab_clear(&ts->t);
	json_decref(ts->empty);
	free(ts->text);
	cl_trees_init(ts);
}
