/*
 * A read-only field index of one JSON document, for evaluating many
 * expressions on it.
 *
 * Finding a field in a jansson object costs a hash of the name with the
 * process's seed, a bucket walk and a memcmp, on every lookup, and the
 * hash cannot be computed ahead because the seed is jansson's.  Here every
 * field of every object of the document is entered once in one open
 * addressing table keyed by (object, name): the name's hash is computed
 * when the expression is compiled (jp_node.hash, with the name's first 8
 * bytes in jp_node.head), so a lookup multiplies the object's address in
 * and compares a few words.  Each indexed object also gets a marker
 * entry, so a missing field is answered from the table too; objects the
 * table does not hold (values an expression builds, objects lookup()
 * returns, or any object when the table would have grown too crowded)
 * are looked up in jansson as before, so the index only changes speed,
 * never a result.  The table holds the document by reference; the caller
 * must not change the document while the index lives (its entries point
 * into it).
 */
#include <stdlib.h>
#include <string.h>

#include "jp/jp_int.h"
#include "util/util.h"

#define MAX_NODES	(1 << 22)	/* walked; beyond, left to jansson */

/*
 * FNV-1a, then MurmurHash3's finalizer, so the top bits jp_doc_slot_of
 * takes depend on every byte (FNV alone leaves the top bits of one-letter
 * names nearly equal).  Computed when an expression is compiled and when
 * the index is built, never per lookup.  Not keyed: what keeps a crafted
 * document from crowding one slot is the object's address in the slot
 * (jansson's allocations, unknown to the sender) and JP_DOC_PROBE, beyond
 * which an object is left to jansson.
 */
uint64_t
jp_key_hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h | 1;	/* never 0: the markers' */
}

uint64_t
jp_key_head(const char *s, size_t len)
{
	uint64_t h = 0;

	memcpy(&h, s, len < 8 ? len : 8);
	return h;
}

int
jp_doc_tail_eq(const struct jp_doc_slot *s, const struct jp_node *n)
{
	return memcmp(s->key + 8, n->name + 8, n->namelen - 8) == 0;
}

/* An empty slot for (obj, hash) within JP_DOC_PROBE, or NULL. */
static struct jp_doc_slot *
free_slot(struct jp_doc *d, const json_t *obj, uint64_t hash)
{
	size_t i = jp_doc_slot_of(d, obj, hash), k;

	for (k = 0; k < JP_DOC_PROBE; k++, i = (i + 1) & d->mask)
		if (d->tab[i].obj == NULL)
			return &d->tab[i];
	return NULL;
}

/*
 * Enters obj's fields, then its marker; an object whose entries do not
 * all fit is taken out again, so it is either whole in the table or
 * absent.
 */
static void
enter(struct jp_doc *d, json_t *obj)
{
	struct jp_doc_slot *s, *done[64], **all = done;
	const char *key;
	uint64_t h;
	size_t n = 0, cap = UTIL_ARRAY_LEN(done), len;
	json_t *v;
	void *it;

	for (it = json_object_iter(obj); ; it = json_object_iter_next(obj,
	    it)) {
		key = it ? json_object_iter_key(it) : NULL;
		len = it ? json_object_iter_key_len(it) : 0;
		v = it ? json_object_iter_value(it) : NULL;
		h = key ? jp_key_hash(key, len) : 0;
		if ((s = free_slot(d, obj, h)) == NULL)
			break;
		*s = (struct jp_doc_slot){ obj, h, key ? jp_key_head(key, len) :
		    0, key, len, v };
		if (n == cap) {
			cap *= 2;
			all = all == done ? memcpy(xcalloc(cap, sizeof *all),
			    done, sizeof done) : xrealloc(all, cap *
			    sizeof *all);
		}
		all[n++] = s;
		if (it == NULL)
			goto out;
	}
	while (n > 0)	/* crowded: the object is left to jansson */
		all[--n]->obj = NULL;
out:
	if (all != done)
		free(all);
}

/*
 * Counts the slots the objects under root need (d NULL), or enters them.
 * An explicit stack, so depth costs no C stack; at most MAX_NODES values,
 * so a tree that shares subtrees (jansson allows it) cannot make the walk
 * exponential: what is beyond is left to jansson.
 */
static void
walk(struct jp_doc *d, json_t *root, size_t *nslots)
{
	json_t **stk, *v;
	size_t n = 0, cap = 64, i, seen = 0;
	void *it;

	stk = xcalloc(cap, sizeof *stk);
	stk[n++] = root;
	while (n > 0 && seen++ < MAX_NODES) {
		v = stk[--n];
		if (json_is_object(v)) {
			if (d != NULL)
				enter(d, v);
			else
				*nslots += json_object_size(v) + 1;
		} else if (!json_is_array(v))
			continue;
		if (n + (json_is_object(v) ? json_object_size(v) :
		    json_array_size(v)) > cap) {
			cap = 2 * (n + json_object_size(v) +
			    json_array_size(v));
			stk = xrealloc(stk, cap * sizeof *stk);
		}
		if (json_is_array(v)) {
			for (i = 0; i < json_array_size(v); i++)
				stk[n++] = json_array_get(v, i);
			continue;
		}
		for (it = json_object_iter(v); it;
		    it = json_object_iter_next(v, it))
			stk[n++] = json_object_iter_value(it);
	}
	free(stk);
}

struct jp_doc *
jp_doc_new(json_t *root)
{
	struct jp_doc *d = xcalloc(1, sizeof *d);
	size_t n = 0, size = 16;
	unsigned bits = 4;

	d->root = json_incref(root ? root : json_null());
	walk(NULL, d->root, &n);
	while (size < 4 * n) {	/* a quarter full: mostly one probe */
		size *= 2;
		bits++;
	}
	d->tab = xcalloc(size, sizeof *d->tab);
	d->mask = size - 1;
	d->shift = 64 - bits;
	walk(d, d->root, &n);
	return d;
}

void
jp_doc_free(struct jp_doc *d)
{
	if (d == NULL)
		return;
	json_decref(d->root);
	free(d->tab);
	free(d);
}

json_t *
jp_doc_root(const struct jp_doc *d)
{
	return d->root;
}
