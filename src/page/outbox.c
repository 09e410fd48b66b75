/*
 * The outbox: every page not yet accepted by its receiver, on the engine
 * thread, journaled into the state file with the decision that caused
 * it.
 *
 * The sender's FIFO is only a bounded window onto the outbox.  A page is
 * added here and queued; the sender reports back by sequence number what
 * it settled (a receiver accepted it, or a bounded `attempts` gave up) and
 * what a full FIFO spilled; the journal removes the settled entries and
 * page_tick queues the spilled ones again when there is room.  At start
 * the entries kept in the file are loaded and queued, so a page that was
 * waiting when the process died is still sent.  Delivery is at least
 * once: a page accepted just before a crash, whose removal was not yet
 * written, is sent again.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"
#include "page/page_int.h"

#define OUT_KIND	"pageout"

static const char *const dest_names[NDEST] = { "alertmanager", "webhook" };

static void
out_free(void *v)
{
	struct page_out *o = v;

	if (o == NULL)
		return;
	free(o->body);
	free(o);
}

static void
seq_key(uint64_t seq, char *key, size_t len)
{
	snprintf(key, len, "%020" PRIu64, seq);
}

static void
gauge(const struct page *p)
{
	metrics_set_pages_undelivered((double)p->outbox.live);
}

void
page_outbox_add(struct page *p, enum page_dest d, const char *body)
{
	struct page_out *o = xcalloc(1, sizeof *o);
	char key[24];

	o->dest = d;
	o->body = xstrdup(body);
	o->queued = 1;
	seq_key(++p->next_seq, key, sizeof key);
	out_free(map_put(&p->outbox, key, o));
	map_put(&p->outdirty, key, (void *)1);
	page_enqueue(p, d, xstrdup(body), p->next_seq);
	gauge(p);
}

/* Takes the sender's reports: settled entries leave, spilled requeue. */
static void
take_reports(struct page *p)
{
	uint64_t *settled, *spilled;
	size_t i, ns, np;
	struct page_out *o;
	char key[24];

	pthread_mutex_lock(&p->mu);
	settled = p->settled;
	ns = p->nsettled;
	spilled = p->spilled;
	np = p->nspilled;
	p->settled = p->spilled = NULL;
	p->nsettled = p->capsettled = p->nspilled = p->capspilled = 0;
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < ns; i++) {
		seq_key(settled[i], key, sizeof key);
		if ((o = map_del(&p->outbox, key)) != NULL) {
			out_free(o);
			map_put(&p->outdirty, key, (void *)1);
		}
	}
	for (i = 0; i < np; i++) {
		seq_key(spilled[i], key, sizeof key);
		if ((o = map_get(&p->outbox, key)) != NULL)
			o->queued = 0;
	}
	free(settled);
	free(spilled);
	gauge(p);
}

struct requeue {
	struct page	*p;
	size_t		 room[NDEST];
};

static int
requeue_one(void *ctx, const char *key, void *value)
{
	struct requeue *r = ctx;
	struct page_out *o = value;
	unsigned long long seq;

	if (o->queued || r->room[o->dest] == 0)
		return 0;
	if (sscanf(key, "%llu", &seq) != 1)
		return 0;
	r->room[o->dest]--;
	o->queued = 1;
	page_enqueue(r->p, o->dest, xstrdup(o->body), (uint64_t)seq);
	return 0;
}

void
page_outbox_requeue(struct page *p)
{
	struct requeue r;
	int d;

	take_reports(p);
	r.p = p;
	for (d = 0; d < NDEST; d++)
		r.room[d] = page_fifo_room(p, (enum page_dest)d);
	map_each(&p->outbox, requeue_one, &r);
}

static json_t *
out_json(const void *v)
{
	const struct page_out *o = v;

	return json_pack("{s:s, s:s}", "dest", dest_names[o->dest], "body",
	    o->body);
}

void
page_outbox_journal(struct page *p, int all, void (*put)(void *,
    const char *, const char *, json_t *), void *ctx)
{
	take_reports(p);
	page_journal_map(&p->outbox, &p->outdirty, all, OUT_KIND, out_json,
	    put, ctx);
}

int
page_outbox_load(struct page *p, const char *key, json_t *v)
{
	const char *dest = json_string_value(json_object_get(v, "dest"));
	const char *body = json_string_value(json_object_get(v, "body"));
	unsigned long long seq;
	struct page_out *o;
	int d;

	if (dest == NULL || body == NULL || strlen(key) != 20 ||
	    sscanf(key, "%llu", &seq) != 1)
		return -1;
	for (d = 0; d < NDEST && strcmp(dest_names[d], dest) != 0; d++)
		;
	if (d == NDEST)
		return -1;
	if (p->url[d] == NULL) {
		/* the destination is no longer configured: forget it */
		map_put(&p->outdirty, key, (void *)1);
		return 0;
	}
	o = xcalloc(1, sizeof *o);
	o->dest = (enum page_dest)d;
	o->body = xstrdup(body);
	if (seq > p->next_seq)
		p->next_seq = seq;
	o->queued = page_fifo_room(p, o->dest) > 0;
	if (o->queued)
		page_enqueue(p, o->dest, xstrdup(body), seq);
	out_free(map_put(&p->outbox, key, o));
	gauge(p);
	return 0;
}

size_t
page_undelivered(const struct page *p)
{
	return p->outbox.live;
}

void
page_outbox_free(struct page *p)
{
	map_clear(&p->outbox, out_free);
	map_clear(&p->outdirty, NULL);
}
