/*
 * Where each node of a document was written.  jansson values carry no
 * position, so the parser records one here, keyed by node pointer: an
 * open-addressing table of (node -> line, column), and a second one of
 * (object, member key -> key position, value position).  The second table
 * also answers for the shared singletons true/false/null, which have no
 * identity of their own, and for elements of arrays (key NULL, index).
 *
 * Tables only grow; a document is immutable once parsed, so pointers stay
 * valid for the document's life.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/internal.h"

struct nodemark {
	const json_t	*node;		/* NULL: empty slot */
	int		 line, col;
};

struct keymark {
	const json_t	*obj;		/* NULL: empty slot */
	const char	*key;		/* borrowed from obj; NULL: element */
	size_t		 idx;		/* element index when key is NULL */
	uint64_t	 hash;
	int		 kline, kcol;	/* the key */
	int		 vline, vcol;	/* its value */
};

struct conf_marks {
	struct nodemark	*nodes;
	size_t		 nnodes, nodecap;	/* nodecap: power of two */
	struct keymark	*keys;
	size_t		 nkeys, keycap;
	int		 docline, doccol;
};

static uint64_t
ptrhash(const void *p)
{
	uint64_t h = (uint64_t)(uintptr_t)p;

	/*
	 * Weak on purpose: nodes allocated one after the other land in
	 * nearby slots, which keeps the table walk cache-friendly (a full
	 * avalanche mix measured 25% slower on a 57 MB file).
	 */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static uint64_t
keyhash(const json_t *obj, const char *key, size_t idx)
{
	uint64_t seed = ptrhash(obj);

	if (key == NULL)
		return util_hash(&idx, sizeof idx, seed);
	return util_hash(key, strlen(key), seed);
}

struct conf_marks *
conf_marks_new(void)
{
	return xcalloc(1, sizeof(struct conf_marks));
}

void
conf_marks_free(struct conf_marks *m)
{
	if (m == NULL)
		return;
	free(m->nodes);
	free(m->keys);
	free(m);
}

void
conf_marks_doc(struct conf_marks *m, int line, int col)
{
	m->docline = line;
	m->doccol = col;
}

static void
node_put(struct nodemark *tab, size_t cap, const json_t *node, int line,
    int col)
{
	size_t i = ptrhash(node) & (cap - 1);

	while (tab[i].node != NULL && tab[i].node != node)
		i = (i + 1) & (cap - 1);
	tab[i].node = node;
	tab[i].line = line;
	tab[i].col = col;
}

void
conf_marks_node(struct conf_marks *m, const json_t *node, int line, int col)
{
	size_t i, oldcap;
	struct nodemark *old;

	if (node == NULL || node == json_true() || node == json_false() ||
	    node == json_null())
		return;
	if ((m->nnodes + 1) * 10 >= m->nodecap * 7) {
		old = m->nodes;
		oldcap = m->nodecap;
		m->nodecap = oldcap ? oldcap * 2 : 64;
		m->nodes = xcalloc(m->nodecap, sizeof *m->nodes);
		for (i = 0; i < oldcap; i++)
			if (old[i].node != NULL)
				node_put(m->nodes, m->nodecap, old[i].node,
				    old[i].line, old[i].col);
		free(old);
	}
	m->nnodes++;
	node_put(m->nodes, m->nodecap, node, line, col);
}

static int
key_eq(const struct keymark *k, const json_t *obj, const char *key,
    size_t idx, uint64_t h)
{
	if (k->obj != obj || k->hash != h)
		return 0;
	if (key == NULL || k->key == NULL)
		return key == k->key && idx == k->idx;
	return strcmp(k->key, key) == 0;
}

static void
key_put(struct keymark *tab, size_t cap, const struct keymark *k)
{
	size_t i = k->hash & (cap - 1);

	while (tab[i].obj != NULL &&
	    !key_eq(&tab[i], k->obj, k->key, k->idx, k->hash))
		i = (i + 1) & (cap - 1);
	tab[i] = *k;
}

static void
key_add(struct conf_marks *m, const struct keymark *k)
{
	size_t i, oldcap;
	struct keymark *old;

	if ((m->nkeys + 1) * 10 >= m->keycap * 7) {
		old = m->keys;
		oldcap = m->keycap;
		m->keycap = oldcap ? oldcap * 2 : 64;
		m->keys = xcalloc(m->keycap, sizeof *m->keys);
		for (i = 0; i < oldcap; i++)
			if (old[i].obj != NULL)
				key_put(m->keys, m->keycap, &old[i]);
		free(old);
	}
	m->nkeys++;
	key_put(m->keys, m->keycap, k);
}

void
conf_marks_key(struct conf_marks *m, const json_t *obj, const char *key,
    int kline, int kcol, int vline, int vcol)
{
	struct keymark k;

	k.obj = obj;
	k.key = key;
	k.idx = 0;
	k.hash = keyhash(obj, key, 0);
	k.kline = kline;
	k.kcol = kcol;
	k.vline = vline;
	k.vcol = vcol;
	key_add(m, &k);
}

void
conf_marks_elem(struct conf_marks *m, const json_t *arr, size_t idx,
    int line, int col)
{
	struct keymark k;

	k.obj = arr;
	k.key = NULL;
	k.idx = idx;
	k.hash = keyhash(arr, NULL, idx);
	k.kline = k.vline = line;
	k.kcol = k.vcol = col;
	key_add(m, &k);
}

static const struct keymark *
key_find(const struct conf_marks *m, const json_t *obj, const char *key,
    size_t idx)
{
	uint64_t h;
	size_t i;

	if (m == NULL || m->keycap == 0 || obj == NULL)
		return NULL;
	h = keyhash(obj, key, idx);
	for (i = h & (m->keycap - 1); m->keys[i].obj != NULL;
	    i = (i + 1) & (m->keycap - 1))
		if (key_eq(&m->keys[i], obj, key, idx, h))
			return &m->keys[i];
	return NULL;
}

static const struct nodemark *
node_find(const struct conf_marks *m, const json_t *node)
{
	size_t i;

	if (m == NULL || m->nodecap == 0 || node == NULL)
		return NULL;
	for (i = ptrhash(node) & (m->nodecap - 1); m->nodes[i].node != NULL;
	    i = (i + 1) & (m->nodecap - 1))
		if (m->nodes[i].node == node)
			return &m->nodes[i];
	return NULL;
}

static struct loc
doc_loc(const struct mdoc *doc)
{
	struct loc l = { NULL, 0, 0 };

	if (doc == NULL)
		return l;
	l.file = doc->file;
	if (doc->marks != NULL) {
		l.line = doc->marks->docline;
		l.col = doc->marks->doccol;
	}
	return l;
}

struct loc
conf_loc(const struct mdoc *doc, const json_t *node)
{
	struct loc l = doc_loc(doc);
	const struct nodemark *n;

	if (doc != NULL && (n = node_find(doc->marks, node)) != NULL) {
		l.line = n->line;
		l.col = n->col;
	}
	return l;
}

struct loc
conf_loc_key(const struct mdoc *doc, const json_t *obj, const char *key)
{
	const struct keymark *k;
	struct loc l;

	if (doc == NULL || key == NULL)
		return doc_loc(doc);
	if ((k = key_find(doc->marks, obj, key, 0)) == NULL)
		return conf_loc(doc, obj);
	l.file = doc->file;
	l.line = k->kline;
	l.col = k->kcol;
	return l;
}

struct loc
conf_loc_value(const struct mdoc *doc, const json_t *parent,
    const char *key, size_t idx)
{
	const struct keymark *k;
	const json_t *v;
	struct loc l;

	if (doc == NULL || parent == NULL)
		return doc_loc(doc);
	v = key ? json_object_get(parent, key) :
	    json_array_get(parent, idx);
	if (v != NULL && node_find(doc->marks, v) != NULL)
		return conf_loc(doc, v);
	if ((k = key_find(doc->marks, parent, key, idx)) == NULL)
		return conf_loc(doc, parent);
	l.file = doc->file;
	l.line = k->vline;
	l.col = k->vcol;
	return l;
}

void
conf_marks_copy_key(struct conf_marks *m, const json_t *from,
    const char *fromkey, const json_t *to, const char *tokey)
{
	const struct keymark *k;
	struct keymark c;

	if (m == NULL || (k = key_find(m, from, fromkey, 0)) == NULL)
		return;
	c = *k;
	c.obj = to;
	c.key = tokey;
	c.hash = keyhash(to, tokey, 0);
	key_add(m, &c);
}
