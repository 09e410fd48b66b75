/*
 * A hash set of pointers with open addressing, linear probing and
 * backward-shift deletion: no tombstones, so a table with churn (pods
 * come and go) never degrades, and a slot is one pointer.  Elements carry
 * their own hash (the callbacks read it); the table owns only its slots.
 * The compact cluster view and the watch caches are built on it.
 */
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

void *
ptab_find(const struct ptab *t, uint32_t h, ptab_eq_fn *eq,
    const void *key)
{
	size_t mask, i;

	if (t->cap == 0)
		return NULL;
	mask = t->cap - 1;
	for (i = h & mask; t->slots[i] != NULL; i = (i + 1) & mask)
		if (eq(t->slots[i], key))
			return t->slots[i];
	return NULL;
}

static void
place(void **slots, size_t cap, uint32_t h, void *elem)
{
	size_t mask = cap - 1, i;

	for (i = h & mask; slots[i] != NULL; i = (i + 1) & mask)
		;
	slots[i] = elem;
}

void
ptab_insert(struct ptab *t, uint32_t h, void *elem, ptab_hash_fn *hf)
{
	if ((t->live + 1) * 4 > t->cap * 3) {	/* load <= 3/4 */
		size_t ncap = t->cap ? t->cap * 2 : 16, i;
		void **ns = xcalloc(ncap, sizeof *ns);

		for (i = 0; i < t->cap; i++)
			if (t->slots[i])
				place(ns, ncap, hf(t->slots[i]), t->slots[i]);
		free(t->slots);
		t->slots = ns;
		t->cap = ncap;
	}
	place(t->slots, t->cap, h, elem);
	t->live++;
}

void *
ptab_remove(struct ptab *t, uint32_t h, ptab_eq_fn *eq, const void *key,
    ptab_hash_fn *hf)
{
	size_t mask, i, j, home;
	void *found;

	if (t->cap == 0)
		return NULL;
	mask = t->cap - 1;
	for (i = h & mask; t->slots[i] != NULL; i = (i + 1) & mask)
		if (eq(t->slots[i], key))
			break;
	if ((found = t->slots[i]) == NULL)
		return NULL;
	/* backward shift: pull later members of the run into the hole */
	for (j = (i + 1) & mask; t->slots[j] != NULL; j = (j + 1) & mask) {
		home = hf(t->slots[j]) & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			t->slots[i] = t->slots[j];
			i = j;
		}
	}
	t->slots[i] = NULL;
	t->live--;
	return found;
}

void
ptab_clear(struct ptab *t)
{
	free(t->slots);
	memset(t, 0, sizeof *t);
}

void
ptab_empty(struct ptab *t)
{
	if (t->cap)
		memset(t->slots, 0, t->cap * sizeof *t->slots);
	t->live = 0;
}

size_t
ptab_bytes(const struct ptab *t)
{
	return t->cap * sizeof *t->slots;
}
