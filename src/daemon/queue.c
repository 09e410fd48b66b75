/*
 * A bounded ring of items guarded by one mutex and two condition
 * variables.  Pushes are rare next to the engine's work per item, so a
 * lock is simpler than a lock-free ring and costs nothing measurable.
 *
 * The ring's storage grows with the most items ever queued at once, up
 * to the bound, instead of being allocated at the bound: 10,000 slots
 * are 1.6 MB, and a ring that cycles through all of them keeps every
 * page resident though the cluster view's sync queues 64 at a time.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/queue.h"
#include "util/util.h"

#define MIN_ALLOC	64	/* slots allocated at first */

struct dq {
	pthread_mutex_t	 mu;
	pthread_cond_t	 not_empty, not_full;
	struct dq_item	*ring;		/* owned: alloc items */
	size_t		 alloc;		/* slots allocated, <= cap */
	size_t		 cap, head, n;
	size_t		 limit;		/* ordinary pushes stop here; the
					   slots above are dq_reserve's */
	int		 closed;
};

struct dq *
dq_new(size_t capacity)
{
	struct dq *q = xcalloc(1, sizeof *q);

	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	pthread_cond_init(&q->not_full, NULL);
	q->cap = capacity ? capacity : 1;
	q->limit = q->cap;
	q->alloc = q->cap < MIN_ALLOC ? q->cap : MIN_ALLOC;
	q->ring = xcalloc(q->alloc, sizeof *q->ring);
	return q;
}

/* More slots (the ring is full and below its bound), unwrapped. */
static void
grow(struct dq *q)
{
	size_t i, alloc = q->alloc * 2 < q->cap ? q->alloc * 2 : q->cap;
	struct dq_item *ring = xcalloc(alloc, sizeof *ring);

	for (i = 0; i < q->n; i++)
		ring[i] = q->ring[(q->head + i) % q->alloc];
	free(q->ring);
	q->ring = ring;
	q->head = 0;
	q->alloc = alloc;
}

void
dq_reserve(struct dq *q, size_t n)
{
	pthread_mutex_lock(&q->mu);
	q->cap += n;
	pthread_mutex_unlock(&q->mu);
}


void
dq_item_clear(struct dq_item *it)
{
	if (it->call) {
		dq_call_answer(it->call, NULL,
		    xstrdup("remediate is stopping"));
		dq_call_release(it->call);
	}
	if (it->job && it->job_free)
		it->job_free(it->job);
	json_decref(it->obj);
	event_clear(&it->ev);
	free(it->source);
	free(it->name);
	memset(it, 0, sizeof *it);
}

void
dq_free(struct dq *q)
{
	if (q == NULL)
		return;
	while (q->n) {
		dq_item_clear(&q->ring[q->head]);
		q->head = (q->head + 1) % q->alloc;
		q->n--;
	}
	free(q->ring);
	pthread_cond_destroy(&q->not_empty);
	pthread_cond_destroy(&q->not_full);
	pthread_mutex_destroy(&q->mu);
	free(q);
}

static int64_t
monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
put(struct dq *q, struct dq_item *it)
{
	it->queued = monotonic_ns();
	if (q->n == q->alloc)
		grow(q);
	q->ring[(q->head + q->n) % q->alloc] = *it;
	q->n++;
	memset(it, 0, sizeof *it);
}

/* Queues *it once fewer than limit items are queued; waits if told. */
static int
push(struct dq *q, struct dq_item *it, size_t limit, int wait)
{
	pthread_mutex_lock(&q->mu);
	if (limit == 0 || limit > q->cap)
		limit = q->cap;
	while (wait && q->n >= limit && !q->closed)
		pthread_cond_wait(&q->not_full, &q->mu);
	if (q->n >= limit || q->closed) {
		pthread_mutex_unlock(&q->mu);
		return -1;
	}
	put(q, it);
	pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->mu);
	return 0;
}

int
dq_push(struct dq *q, struct dq_item *it, int wait)
{
	return push(q, it, q->limit, wait);
}

int
dq_push_reserved(struct dq *q, struct dq_item *it)
{
	return push(q, it, q->cap, 0);
}

int
dq_push_below(struct dq *q, struct dq_item *it, size_t limit)
{
	return push(q, it, limit < q->limit ? limit : q->limit, 1);
}

int
dq_push_all(struct dq *q, struct dq_item *items, size_t n)
{
	size_t i;

	pthread_mutex_lock(&q->mu);
	if (q->closed || q->n > q->limit || q->limit - q->n < n) {
		pthread_mutex_unlock(&q->mu);
		return -1;
	}
	for (i = 0; i < n; i++)
		put(q, &items[i]);
	pthread_cond_broadcast(&q->not_empty);
	pthread_mutex_unlock(&q->mu);
	return 0;
}

int
dq_pop(struct dq *q, struct dq_item *out, int timeout_ms)
{
	struct timespec until;
	int rc = 0;

	if (timeout_ms >= 0)
		until = time_deadline(CLOCK_REALTIME, timeout_ms);
	pthread_mutex_lock(&q->mu);
	while (q->n == 0 && rc != ETIMEDOUT) {
		if (timeout_ms < 0)
			pthread_cond_wait(&q->not_empty, &q->mu);
		else
			rc = pthread_cond_timedwait(&q->not_empty, &q->mu,
			    &until);
	}
	if (q->n == 0) {
		pthread_mutex_unlock(&q->mu);
		return -1;
	}
	*out = q->ring[q->head];
	memset(&q->ring[q->head], 0, sizeof q->ring[q->head]);
	q->head = (q->head + 1) % q->alloc;
	q->n--;
	/* all: a watch waiting below a limit and one waiting for room */
	pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->mu);
	return 0;
}

double
dq_age(const struct dq_item *it)
{
	return (double)(monotonic_ns() - it->queued) / 1e9;
}

size_t
dq_depth(struct dq *q)
{
	size_t n;

	pthread_mutex_lock(&q->mu);
	n = q->n;
	pthread_mutex_unlock(&q->mu);
	return n;
}

void
dq_close(struct dq *q)
{
	pthread_mutex_lock(&q->mu);
	q->closed = 1;
	pthread_cond_broadcast(&q->not_full);
	pthread_cond_broadcast(&q->not_empty);
	pthread_mutex_unlock(&q->mu);
}

/* ---- calls -------------------------------------------------------------- */

struct dq_call *
dq_call_new(json_t *in)
{
	struct dq_call *c = xcalloc(1, sizeof *c);
	pthread_condattr_t ca;

	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	c->in = in;
	c->refs = 1;
	return c;
}

struct dq_call *
dq_call_ref(struct dq_call *c)
{
	pthread_mutex_lock(&c->mu);
	c->refs++;
	pthread_mutex_unlock(&c->mu);
	return c;
}

void
dq_call_release(struct dq_call *c)
{
	int last;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	last = --c->refs == 0;
	pthread_mutex_unlock(&c->mu);
	if (!last)
		return;
	json_decref(c->in);
	json_decref(c->out);
	free(c->err);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static void
answer(struct dq_call *c, json_t *out, char *err, int unknown)
{
	pthread_mutex_lock(&c->mu);
	if (c->done) {
		pthread_mutex_unlock(&c->mu);
		json_decref(out);
		free(err);
		return;
	}
	c->out = out;
	c->err = err;
	c->unknown = unknown;
	c->done = 1;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

void
dq_call_answer(struct dq_call *c, json_t *out, char *err)
{
	answer(c, out, err, 0);
}

void
dq_call_answer_unknown(struct dq_call *c, char *why)
{
	answer(c, NULL, why, 1);
}

int
dq_call_wait(struct dq_call *c, int timeout_ms)
{
	struct timespec until = time_deadline(CLOCK_MONOTONIC, timeout_ms);
	int rc = 0, done;

	pthread_mutex_lock(&c->mu);
	while (!c->done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&c->cv, &c->mu, &until);
	done = c->done;
	pthread_mutex_unlock(&c->mu);
	return done ? 0 : -1;
}
