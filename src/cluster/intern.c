/*
 * Interned strings and the pointer table under them.  A cluster of
 * 100,000 pods names a few hundred namespaces, kinds, label sets and
 * workload shapes: each is stored once, and a pod's record holds
 * pointers.  Strings are refcounted so a shape (or a pod's statuses)
 * that no object names any more is freed, not kept forever.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_int.h"
#include "util/util.h"

uint32_t
cl_hash(const void *p, size_t n, uint32_t seed)
{
	uint64_t h = util_hash(p, n, UTIL_HASH_SEED ^ seed);

	return (uint32_t)(h ^ (h >> 32));
}

struct skey {
	const char	*s;
	size_t		 len;
};

static int
istr_eq(const void *elem, const void *key)
{
	const struct istr *a = elem;
	const struct skey *k = key;

	return a->len == k->len && memcmp(a->s, k->s, k->len) == 0;
}

static uint32_t
istr_hash(const void *elem)
{
	return ((const struct istr *)elem)->hash;
}

struct istr *
cl_intern(struct itab *it, const char *s, size_t len)
{
	struct skey k = { s, len };
	uint32_t h = cl_hash(s, len, 0);
	struct istr *x = ptab_find(&it->t, h, istr_eq, &k);

	if (x) {
		x->refs++;
		return x;
	}
	x = slab_alloc(&it->mem, sizeof *x + len + 1);
	x->refs = 1;
	x->parsed = 0;
	x->hash = h;
	x->len = len;
	memcpy(x->s, s, len);
	x->s[len] = '\0';
	ptab_insert(&it->t, h, x, istr_hash);
	it->bytes += sizeof *x + len + 1;
	return x;
}

void
cl_intern_drop(struct itab *it, struct istr *x)
{
	struct skey k;

	if (x == NULL || --x->refs > 0)
		return;
	k.s = x->s;
	k.len = x->len;
	ptab_remove(&it->t, x->hash, istr_eq, &k, istr_hash);
	it->bytes -= sizeof *x + x->len + 1;
	slab_free(&it->mem, x, sizeof *x + x->len + 1);
}

void
cl_intern_clear(struct itab *it)
{
	size_t i;

	for (i = 0; i < it->t.cap; i++) {
		struct istr *x = it->t.slots[i];

		if (x)
			slab_free(&it->mem, x, sizeof *x + x->len + 1);
	}
	ptab_clear(&it->t);
	slab_clear(&it->mem);
	it->bytes = 0;
}
