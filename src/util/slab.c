/*
 * Small fixed-size allocations carved from 64 KB blocks, one free list
 * per 8-byte size class.  malloc spends 8 bytes of header on each chunk
 * and rounds it to 16: a pod's record of 36 bytes takes 48, its slot
 * here 40.  The compact cluster view holds 100,000s of such records,
 * classes and strings; freed slots are reused by the next allocation of
 * their class (a pod replaced by its successor) and the blocks go back
 * to malloc only at slab_clear.  Not thread-safe: one owner.
 *
 * Under AddressSanitizer a slot is addressable only while allocated (and
 * only its n bytes), so the sanitizer build still catches a use after
 * free or an overrun of the view's records.
 */
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n)	ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n)	ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n)	((void)(p), (void)(n))
#define UNPOISON(p, n)	((void)(p), (void)(n))
#endif

#define BLOCK	(64 * 1024 - 64)	/* bytes: one malloc chunk, in the heap */
#define ALIGN	8

/* A block: the link to the previous one, then slots. */
struct block {
	struct block	*prev;
	char		 mem[];
};

static size_t
class_of(size_t n)
{
	return (n + ALIGN - 1) / ALIGN;	/* 1..SLAB_MAX / ALIGN */
}

void *
slab_alloc(struct slab *s, size_t n)
{
	size_t k, sz;
	void *p;

	if (n > SLAB_MAX)
		return xmalloc(n);
	k = class_of(n ? n : 1);
	sz = k * ALIGN;
	if ((p = s->free[k - 1]) != NULL) {
		UNPOISON(p, sz);
		memcpy(&s->free[k - 1], p, sizeof(void *));	/* next */
		POISON(p, sz);
		UNPOISON(p, n);
		return p;
	}
	if (s->left < sz) {
		struct block *b = xmalloc(BLOCK);

		b->prev = s->blocks;
		s->blocks = b;
		s->cur = b->mem;
		s->left = BLOCK - offsetof(struct block, mem);
		s->bytes += BLOCK;
		POISON(s->cur, s->left);
	}
	p = s->cur;
	s->cur += sz;
	s->left -= sz;
	UNPOISON(p, n);
	return p;
}

void
slab_free(struct slab *s, void *p, size_t n)
{
	size_t k;

	if (p == NULL)
		return;
	if (n > SLAB_MAX) {
		free(p);
		return;
	}
	k = class_of(n ? n : 1);
	UNPOISON(p, k * ALIGN);
	memcpy(p, &s->free[k - 1], sizeof(void *));
	POISON(p, k * ALIGN);
	s->free[k - 1] = p;
}

void
slab_clear(struct slab *s)
{
	struct block *b, *prev;

	for (b = s->blocks; b; b = prev) {
		prev = b->prev;
		UNPOISON(b, BLOCK);
		free(b);
	}
	memset(s, 0, sizeof *s);
}
