/*
 * libFuzzer target for reading a cluster snapshot's text and keeping it
 * in a view: util_jlist, the scanner of a JSON list's items (snapshots,
 * API list pages); cluster_decode on each item and on the whole text;
 * and the view's put path on each item, in sequences of puts, gets and
 * removes of the same names.  Any text gives objects or an error with a
 * place inside the text, never a crash, a leak or a hang, and what the
 * headers promise holds (cluster.h, cluster_int.h):
 *
 *   - cluster_decode(text) is cluster_project(json_loadb(text)), or
 *     NULL both, for an item's text and the whole text (the root and a
 *     watch event's "object");
 *   - cl_write_texts writes what dumping cl_split_projection's parts of
 *     the projection gives;
 *   - a get after a put is what was put: its projection as the record
 *     keeps it (the split drops restartCount, an empty status, an empty
 *     or non-string namespace, a non-string uid), or the object itself
 *     when kept whole; the old object a put or a remove hands back is
 *     the one before; a cluster_put_statuses' old is its statuses;
 *   - the note's text of a compact object a get noted (cl_join_texts) is
 *     jansson's dump of the object the get gave.
 *
 * Items are put in turn with cluster_put, cluster_put_statuses,
 * cluster_put_whole and cluster_put without old, and one in five is
 * removed again: an object put twice under its name replaces itself
 * (its texts compared with the packed ones they replace, texts.c and
 * store.c).  For one input in 128 a storm of objects after the items
 * pushes their parsed trees out of the bounded cache (trees.c: by
 * bytes, and for one in 2,048 by count too; rare, as a storm costs
 * some hundred inputs), and the items are read again.
 *
 * Run it with fuzz/run cluster [SECONDS]; the ordinary test run replays
 * the corpus in fuzz/corpus/cluster (fuzz/replay.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "cluster/cluster_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct ctx {
	struct cluster	*c;
	const char	*text;
	size_t		 len;		/* of the text */
	size_t		 flags;		/* the pass's */
	size_t		 n;		/* items put */
	json_t		*want;		/* owned: "Kind/ns/name" -> [get,
					   statuses or null when whole] */
};

static int
same(json_t *a, json_t *b)
{
	char *x, *y;
	int ok;

	if (a == NULL || b == NULL)
		return a == b;
	x = json_dumps(a, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);
	y = json_dumps(b, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);
	ok = x && y && strcmp(x, y) == 0 && json_equal(a, b);
	free(x);
	free(y);
	return ok;
}

/*
 * The texts a put writes straight from an object are those of its
 * projection split (texts.c): abort when they differ.
 */
static void
check_texts(json_t *o, const char *kind)
{
	struct buf got[CL_TEXTS], want[CL_TEXTS];
	json_t *p, *m, *parts, *part[CL_TEXTS];
	size_t i;
	int wrote, dumped = 1;

	memset(got, 0, sizeof got);
	memset(want, 0, sizeof want);
	p = cluster_project(o);
	cl_split_projection(p, &m, &parts);
	part[CL_META] = m;
	part[CL_BODY] = p;
	part[CL_STATUS] = parts;
	/* refused by one (outside ASCII, a NUL), refused by the other */
	wrote = cl_write_texts(o, kind, got) == 0;
	for (i = 0; i < CL_TEXTS; i++)
		if (util_json_write(&want[i], part[i], JSON_COMPACT |
		    JSON_SORT_KEYS) == -1)
			dumped = 0;
	if (wrote != dumped)
		abort();
	for (i = 0; wrote && i < CL_TEXTS; i++)
		if (strcmp(got[i].data, want[i].data) != 0)
			abort();
	for (i = 0; i < CL_TEXTS; i++) {
		json_decref(part[i]);
		buf_free(&got[i]);
		buf_free(&want[i]);
	}
}

/* decode(text) against project(json_loadb(text)), at path (NULL: root). */
static void
check_decode(const char *text, size_t len, size_t flags, const char *kind,
    const char *const *path)
{
	struct cluster_decode_opts o = { .path = path, .flags = flags,
	    .kind = kind };
	struct cluster_decode_result r;
	json_error_t je;
	json_t *root = json_loadb(text, len, flags, &je), *want = NULL, *v;
	json_t *got = cluster_decode(text, len, &o, &r);

	if (root && path && path[0]) {
		/* the envelope whole, the member projected */
		want = json_incref(root);
		if ((v = json_object_get(root, path[0])) != NULL) {
			json_object_set_new(root, path[0],
			    cluster_project(v));
		}
	} else if (root) {
		/* a list's kind chooses the projection, the text stays */
		if (kind && json_is_object(root) &&
		    json_object_get(root, "kind") == NULL) {
			json_object_set_new(root, "kind", json_string(kind));
			want = cluster_project(root);
			json_object_del(want, "kind");
		} else
			want = cluster_project(root);
	}
	if (!same(want, got))
		abort();
	if (got == NULL && (r.reason == NULL || r.offset > len ||
	    r.line < 1 || r.column < 1))
		abort();
	if (got && (flags & JSON_DISABLE_EOF_CHECK) &&
	    r.end != (size_t)je.position)
		abort();
	json_decref(root);
	json_decref(want);
	json_decref(got);
}

/* What a get gives of a compact object put: its projection as kept. */
static json_t *
kept(json_t *obj)
{
	static const char *const lists[] = { "containerStatuses",
	    "initContainerStatuses" };
	json_t *p = cluster_project(obj), *m, *st, *cs;
	const char *ns;
	size_t i, j;

	m = json_object_get(p, "metadata");
	ns = json_string_value(json_object_get(m, "namespace"));
	if (ns == NULL || *ns == '\0')
		json_object_del(m, "namespace");
	if (!json_is_string(json_object_get(m, "uid")))
		json_object_del(m, "uid");
	st = json_object_get(p, "status");
	for (j = 0; j < 2; j++)
		json_array_foreach(json_object_get(st, lists[j]), i, cs)
			json_object_del(cs, "restartCount");
	if (json_is_object(st) && json_object_size(st) == 0)
		json_object_del(p, "status");
	return p;
}

/* The statuses cluster_put_statuses hands back of g (a get's), and its
 * uid. */
static json_t *
statuses(json_t *g)
{
	json_t *st = json_object_get(g, "status"), *o = json_object(), *v;
	json_t *out = json_object();

	if ((v = json_object_get(json_object_get(g, "metadata"), "uid")) !=
	    NULL)
		json_object_set_new(out, "metadata", json_pack("{s:O}", "uid",
		    v));
	if ((v = json_object_get(st, "containerStatuses")) != NULL)
		json_object_set(o, "containerStatuses", v);
	if ((v = json_object_get(st, "initContainerStatuses")) != NULL)
		json_object_set(o, "initContainerStatuses", v);
	json_object_set_new(out, "status", o);
	return out;
}

/*
 * The view's object under key against what was put (x->want), read while
 * recording: the note's text the view has of it (cluster_noted_text,
 * joined from its texts) is jansson's dump of it, byte for byte.
 */
static void
check_get(struct ctx *x, const char *kind, const char *ns, const char *name,
    const char *key)
{
	json_t *w = json_array_get(json_object_get(x->want, key), 0);
	json_t *note = json_object(), *g;
	const char *t;
	char *d;
	size_t n;

	cluster_record(x->c, note);
	g = cluster_get(x->c, kind, ns, name);
	if (!same(g, w))
		abort();
	if (g && (t = cluster_noted_text(x->c, g, &n)) != NULL) {
		d = json_dumps(g, JSON_COMPACT);
		if (d == NULL || strlen(d) != n || memcmp(d, t, n) != 0)
			abort();
		free(d);
	}
	cluster_record(x->c, NULL);
	json_decref(note);
}

static void
put(struct ctx *x, json_t *it, const char *kind, const char *ns,
    const char *name)
{
	char *key = cluster_key(kind, ns, name);
	json_t *was = json_incref(json_object_get(x->want, key)), *old = NULL;
	json_t *g, *w;
	int op = (int)(x->n++ % 4), whole;

	whole = op == 2 || !cluster_compact_kind(kind);
	if (!whole)
		check_texts(it, kind);
	switch (op) {
	case 0:
		if (cluster_put(x->c, it, &old) == -1 ||
		    !same(old, json_array_get(was, 0)))
			abort();
		break;
	case 1:
		if (cluster_put_statuses(x->c, it, &old) == -1)
			abort();
		/* a Node's old is the object: it has no statuses */
		w = json_array_get(was, 1);
		if (!same(old, json_is_null(w) || strcmp(kind, "Node") == 0 ?
		    json_array_get(was, 0) : w))
			abort();
		break;
	case 2:
		if (cluster_put_whole(x->c, it, &old) == -1 ||
		    !same(old, json_array_get(was, 0)))
			abort();
		break;
	default:
		if (cluster_put(x->c, it, NULL) == -1)
			abort();
		break;
	}
	json_decref(old);
	json_decref(was);
	g = whole ? json_incref(it) : kept(it);
	json_object_set_new(x->want, key, json_pack("[o,o]", g, whole ?
	    json_null() : statuses(g)));
	check_get(x, kind, ns, name, key);
	if (x->n % 5 == 0) {
		old = cluster_remove(x->c, kind, ns, name);
		if (!same(old, json_array_get(json_object_get(x->want, key), 0)))
			abort();
		json_decref(old);
		json_object_del(x->want, key);
		if (cluster_get(x->c, kind, ns, name) != NULL)
			abort();
	}
	free(key);
}

static void
item(void *p, json_t *it, const json_t *head, size_t off, size_t len)
{
	struct ctx *x = p;
	const char *kind = obj_kind(it), *name = obj_name(it);

	/* the item's text lies inside the scanned text */
	if (off + len < off || off + len > x->len)
		abort();
	/* a list's item may have its kind from the list */
	check_decode(x->text + off, len, x->flags, head ? kind : NULL, NULL);
	if (kind && name)
		put(x, it, kind, obj_namespace(it), name);
	else if (cluster_put(x->c, it, NULL) != -1)
		abort();
}

/* A Pod called name labelled app=value, put and read. */
static void
storm_pod(struct ctx *x, const char *name, const char *value, json_int_t i)
{
	json_t *o = json_pack("{s:s,s:{s:s,s:{s:s}},s:{s:[{s:s,s:I}]}}",
	    "kind", "Pod", "metadata", "name", name, "labels", "app", value,
	    "status", "containerStatuses", "name", name, "restartCount", i);

	(void)cluster_put(x->c, o, NULL);
	(void)cluster_get(x->c, "Pod", NULL, name);
	json_decref(o);
}

/*
 * Pushes the items' parsed trees out and reads every item again: two
 * Pods of half CL_TREES_BYTES each (the second pushes out all the
 * others), and when many, small Pods past CL_TREES_MAX trees (two
 * each: metadata and statuses).
 */
static void
storm(struct ctx *x, int many)
{
	const char *key;
	char nm[32], *big;
	size_t i, n = CL_TREES_BYTES / 2 + 1;
	void *tmp;
	json_t *v, *o;

	big = xmalloc(n + 1);
	memset(big, 'x', n);
	big[n] = '\0';
	for (i = 0; i < 2; i++) {
		snprintf(nm, sizeof nm, "storm-big-%zu", i);
		big[0] = (char)('a' + i);
		storm_pod(x, nm, big, 0);
	}
	free(big);
	for (i = 0; many && i < CL_TREES_MAX / 2 + 8; i++) {
		snprintf(nm, sizeof nm, "storm-%zu", i);
		storm_pod(x, nm, nm, (json_int_t)i);
	}
	json_object_foreach_safe(x->want, tmp, key, v) {
		o = json_array_get(v, 0);
		check_get(x, obj_kind(o), obj_namespace(o), obj_name(o), key);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	static const char *const watch[] = { "object", NULL };
	struct ctx x = { cluster_new(), (const char *)buf, len, 0, 0,
	    json_object() };
	struct util_jlist l;
	json_t *head;
	uint64_t h;
	int rc, line, col, pass;

	/* as the snapshot reads it, then as a list page */
	for (pass = 0; pass < 2; pass++) {
		x.flags = pass == 0 ? JSON_REJECT_DUPLICATES : 0;
		util_jlist_init(&l, (const char *)buf, len, (int)x.flags);
		while ((rc = util_jlist_next(&l, item, &x, &head)) == 1)
			json_decref(head);
		if (rc == -1) {
			if (l.err_off > len || l.err[0] == '\0')
				abort();
			util_jlist_where(&l, l.err_off, &line, &col);
			if (line < 1 || col < 1)
				abort();
		}
	}
	/* the whole text: a snapshot's object, a watch line's, NDJSON */
	check_decode(x.text, len, JSON_REJECT_DUPLICATES, NULL, NULL);
	check_decode(x.text, len, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK,
	    NULL, watch);
	h = util_hash(buf, len, UTIL_HASH_SEED);
	if (h % 128 == 0)
		storm(&x, h % 2048 == 0);
	json_decref(x.want);
	cluster_free(x.c);
	return 0;
}
