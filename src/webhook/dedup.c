/*
 * The alert ids recently queued, so redeliveries are recognized: a map for
 * lookups and a list in use order, the least recently seen evicted first
 * when the set is full.  A hit moves the id to the front, so an alert that
 * keeps firing (and keeps being resent every repeat_interval) stays known
 * however many other alerts pass.  Not thread-safe: the ingress holds its
 * lock around every use.
 */
#include <stdlib.h>
#include <string.h>

#include "webhook/hook_int.h"

struct node {
	struct node	*prev, *next;
	char		*id;		/* owned */
};

struct hook_dedup {
	struct map	 index;		/* id -> node */
	struct node	*head, *tail;	/* most recent first */
	size_t		 n, max;
};

struct hook_dedup *
hook_dedup_new(size_t max)
{
	struct hook_dedup *d = xcalloc(1, sizeof *d);

	map_init(&d->index);
	d->max = max ? max : 1;
	return d;
}

static void
unlink_node(struct hook_dedup *d, struct node *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else
		d->head = x->next;
	if (x->next)
		x->next->prev = x->prev;
	else
		d->tail = x->prev;
	x->prev = x->next = NULL;
}

static void
push_front(struct hook_dedup *d, struct node *x)
{
	x->next = d->head;
	if (d->head)
		d->head->prev = x;
	d->head = x;
	if (d->tail == NULL)
		d->tail = x;
}

static void
drop(struct hook_dedup *d, struct node *x)
{
	unlink_node(d, x);
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
	while (d->head != NULL)
		drop(d, d->head);
	map_clear(&d->index, NULL);
	free(d);
}

int
hook_dedup_has(struct hook_dedup *d, const char *id)
{
	struct node *x = map_get(&d->index, id);

	if (x == NULL)
		return 0;
	unlink_node(d, x);
	push_front(d, x);
	return 1;
}

void
hook_dedup_add(struct hook_dedup *d, const char *id)
{
	struct node *x;

	if (hook_dedup_has(d, id))
		return;
	if (d->n >= d->max)
		drop(d, d->tail);
	x = xcalloc(1, sizeof *x);
	x->id = xstrdup(id);
	map_put(&d->index, id, x);
	push_front(d, x);
	d->n++;
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
