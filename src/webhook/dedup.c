/*
 * The alert ids recently queued, so redeliveries are recognized: a map for
 * lookups and a list in use order (sys/queue.h's TAILQ, most recent at
 * the head), the least recently seen (the tail) evicted first when the
 * set is full.  A hit moves the id to the head, so an alert that keeps
 * firing (and keeps being resent every repeat_interval) stays known
 * however many other alerts pass.  An add does not evict: the ingress
 * adds a request's ids before its push and trims once they are stored,
 * so a request that is refused (and deletes its ids again) pushes out
 * nothing that was remembered.  Not thread-safe: the ingress holds its
 * lock around every use.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "webhook/hook_int.h"

struct node {
	TAILQ_ENTRY(node) use;		/* in hook_dedup.lru */
	char		*id;		/* owned */
};

TAILQ_HEAD(node_lru, node);

struct hook_dedup {
	struct map	 index;		/* id -> node */
	struct node_lru	 lru;		/* most recent first */
	size_t		 n, max;
};

struct hook_dedup *
hook_dedup_new(size_t max)
{
	struct hook_dedup *d = xcalloc(1, sizeof *d);

	map_init(&d->index);
	TAILQ_INIT(&d->lru);
	d->max = max ? max : 1;
	return d;
}

static void
drop(struct hook_dedup *d, struct node *x)
{
	TAILQ_REMOVE(&d->lru, x, use);
	map_del(&d->index, x->id);
	free(x->id);
	free(x);
	d->n--;
}

void
hook_dedup_free(struct hook_dedup *d)
{
	if (d == NULL)
		return;
	while (!TAILQ_EMPTY(&d->lru))
		drop(d, TAILQ_FIRST(&d->lru));
	map_clear(&d->index, NULL);
	free(d);
}

int
hook_dedup_has(struct hook_dedup *d, const char *id)
{
	struct node *x = map_get(&d->index, id);

	if (x == NULL)
		return 0;
	TAILQ_REMOVE(&d->lru, x, use);
	TAILQ_INSERT_HEAD(&d->lru, x, use);
	return 1;
}

void
hook_dedup_add(struct hook_dedup *d, const char *id)
{
	struct node *x;

	if (hook_dedup_has(d, id))
		return;
	x = xcalloc(1, sizeof *x);
	x->id = xstrdup(id);
	map_put(&d->index, id, x);
	TAILQ_INSERT_HEAD(&d->lru, x, use);
	d->n++;
}

void
hook_dedup_trim(struct hook_dedup *d)
{
	while (d->n > d->max)	/* max >= 1: the list is not empty */
		drop(d, TAILQ_LAST(&d->lru, node_lru));
}

void
hook_dedup_del(struct hook_dedup *d, const char *id)
{
	struct node *x = map_get(&d->index, id);

	if (x != NULL)
		drop(d, x);
}

size_t
hook_dedup_count(const struct hook_dedup *d)
{
	return d->n;
}
