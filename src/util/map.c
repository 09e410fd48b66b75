/*
 * A string-keyed hash map with open addressing and linear probing.  The
 * hot paths (the object store, guard state) do one hash and usually one
 * probe per lookup; deleted slots are tombstones until the next rehash.
 *
 * Each slot keeps its key's hash: a probe compares hashes and reads a
 * key only when they match.  At three quarters full a miss walks several
 * slots, and every key it read was a pointer to chase to a cold cache
 * line: in a 200,000-line replay that strcmp was 2% of the time.  A
 * resize places keys by their kept hash, without hashing them again.
 */
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

struct map_slot {
	char		*key;	/* owned; NULL empty; DELETED tombstone */
	void		*value;
	uint64_t	 hash;	/* key's util_hash, while key is live */
};

static char deleted_mark[1];
#define DELETED deleted_mark

void
map_init(struct map *m)
{
	memset(m, 0, sizeof *m);
}

void
map_clear(struct map *m, void (*free_value)(void *))
{
	size_t i;

	for (i = 0; i < m->cap; i++) {
		if (m->slots[i].key == NULL || m->slots[i].key == DELETED)
			continue;
		free(m->slots[i].key);
		if (free_value)
			free_value(m->slots[i].value);
	}
	free(m->slots);
	map_init(m);
}

static uint64_t
key_hash(const char *key)
{
	return util_hash(key, strlen(key), UTIL_HASH_SEED);
}

/*
 * The slot holding key (hash h), or where it would go; *found says
 * which.
 */
static size_t
probe(const struct map *m, const char *key, uint64_t h, int *found)
{
	size_t mask = m->cap - 1, i, first_free = (size_t)-1;

	for (i = h & mask;; i = (i + 1) & mask) {
		const struct map_slot *s = &m->slots[i];

		if (s->key == NULL) {
			*found = 0;
			return first_free != (size_t)-1 ? first_free : i;
		}
		if (s->key == DELETED) {
			if (first_free == (size_t)-1)
				first_free = i;
		} else if (s->hash == h && strcmp(s->key, key) == 0) {
			*found = 1;
			return i;
		}
	}
}

static void
resize(struct map *m, size_t ncap)
{
	struct map_slot *old = m->slots;
	size_t ocap = m->cap, mask = ncap - 1, i, j;

	m->slots = xcalloc(ncap, sizeof *m->slots);
	m->cap = ncap;
	m->used = m->live;
	/* keys are distinct and the table has no tombstones: the first
	   empty slot from the kept hash is the key's */
	for (i = 0; i < ocap; i++) {
		if (old[i].key == NULL || old[i].key == DELETED)
			continue;
		for (j = old[i].hash & mask; m->slots[j].key != NULL;
		    j = (j + 1) & mask)
			;
		m->slots[j] = old[i];
	}
	free(old);
}

void *
map_get(const struct map *m, const char *key)
{
	size_t i;
	int found;

	if (m->cap == 0)
		return NULL;
	i = probe(m, key, key_hash(key), &found);
	return found ? m->slots[i].value : NULL;
}

void *
map_put(struct map *m, const char *key, void *value)
{
	uint64_t h = key_hash(key);
	size_t i;
	int found;
	void *prev;

	if (m->cap == 0)
		resize(m, 64);
	else if ((m->used + 1) * 4 > m->cap * 3)
		resize(m, m->live * 2 >= m->cap ? m->cap * 2 : m->cap);
	i = probe(m, key, h, &found);
	if (found) {
		prev = m->slots[i].value;
		m->slots[i].value = value;
		return prev;
	}
	if (m->slots[i].key == NULL)
		m->used++;
	m->slots[i].key = xstrdup(key);
	m->slots[i].value = value;
	m->slots[i].hash = h;
	m->live++;
	return NULL;
}

void *
map_del(struct map *m, const char *key)
{
	size_t i;
	int found;
	void *prev;

	if (m->cap == 0)
		return NULL;
	i = probe(m, key, key_hash(key), &found);
	if (!found)
		return NULL;
	prev = m->slots[i].value;
	free(m->slots[i].key);
	m->slots[i].key = DELETED;
	m->slots[i].value = NULL;
	m->live--;
	return prev;
}

void
map_each(const struct map *m, int (*fn)(void *, const char *, void *),
    void *ctx)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		if (m->slots[i].key != NULL && m->slots[i].key != DELETED &&
		    fn(ctx, m->slots[i].key, m->slots[i].value))
			return;
}
