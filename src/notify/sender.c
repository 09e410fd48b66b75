/*
 * The sender: a thread of its own with a bounded FIFO, so that a decision
 * only builds its messages and queues them, and a slow or dead chat
 * server never delays the next decision.
 *
 * Each message goes to one destination; it is retried on a transport
 * error, a 429 or a 5xx (other 4xx are the message's or the
 * configuration's fault and would fail again), up to the configuration's
 * attempts, waiting retry_base, then twice that, and so on (a Retry-After
 * up to a minute wins when longer).  When the queue is full the oldest
 * message is dropped and counted: the newest news matters most.  Failures
 * are logged with the destination's name and the reason, never its URL
 * or headers.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "notify/notify_int.h"

#define DEFAULT_QUEUE	256
#define DEFAULT_RETRY	1000	/* ms */
#define MAX_WAIT	60000	/* ms: the longest single backoff */

struct item {
	const struct notify_dest *dest;		/* borrowed from cfg */
	json_t			 *body;		/* owned */
	char			 *about;	/* owned: "trigger target" */
};

struct notify {
	const struct notify_config *cfg;
	struct notify_opts	 o;
	pthread_t		 thread;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;		/* work or stop */
	pthread_cond_t		 idle;		/* queue drained */
	struct item		*q;		/* ring of o.queue_max */
	size_t			 head, len;
	int			 busy;		/* a message in flight */
	int			 stop;
	struct notify_stats	 st;
};

static void
logline(struct notify *n, const char *level, const char *msg, json_t *f)
{
	if (n->o.log)
		n->o.log(level, msg, f);
	else
		json_decref(f);
}

static void
item_clear(struct item *it)
{
	json_decref(it->body);
	free(it->about);
	memset(it, 0, sizeof *it);
}

/* Waits ms or until stopped (mu held). */
static void
wait_ms(struct notify *n, int64_t ms)
{
	struct timespec ts = time_deadline(CLOCK_REALTIME, ms);

	while (!n->stop && pthread_cond_timedwait(&n->cv, &n->mu, &ts) !=
	    ETIMEDOUT)
		;
}

static int
retryable(long status)
{
	return status == 0 || status == 429 || status >= 500;
}

/* Sends one item with retries; mu is not held. */
static void
deliver(struct notify *n, struct item *it)
{
	int64_t wait = n->o.retry_base;
	int attempt, attempts = n->cfg->attempts > 0 ? n->cfg->attempts : 1;
	long status = 0;
	char *err = NULL;

	for (attempt = 1; attempt <= attempts; attempt++) {
		free(err);
		err = NULL;
		if (notify_post(it->dest, it->body, &status, &err) == 0) {
			pthread_mutex_lock(&n->mu);
			n->st.sent++;
			pthread_mutex_unlock(&n->mu);
			free(err);
			return;
		}
		if (!retryable(status) || attempt == attempts)
			break;
		pthread_mutex_lock(&n->mu);
		n->st.retries++;
		wait_ms(n, wait);
		attempt = n->stop ? attempts : attempt;
		pthread_mutex_unlock(&n->mu);
		wait = wait * 2 > MAX_WAIT ? MAX_WAIT : wait * 2;
	}
	pthread_mutex_lock(&n->mu);
	n->st.failed++;
	pthread_mutex_unlock(&n->mu);
	logline(n, "warn", "notification not delivered", json_pack("{s:s, "
	    "s:s, s:i, s:s}", "destination", it->dest->name, "about",
	    it->about ? it->about : "", "status", (int)status, "error",
	    err ? err : "?"));
	free(err);
}

static void *
run(void *arg)
{
	struct notify *n = arg;
	struct item it;

	pthread_mutex_lock(&n->mu);
	for (;;) {
		while (n->len == 0 && !n->stop) {
			pthread_cond_broadcast(&n->idle);
			pthread_cond_wait(&n->cv, &n->mu);
		}
		if (n->stop)
			break;
		it = n->q[n->head];
		memset(&n->q[n->head], 0, sizeof n->q[n->head]);
		n->head = (n->head + 1) % n->o.queue_max;
		n->len--;
		n->busy = 1;
		pthread_mutex_unlock(&n->mu);
		deliver(n, &it);
		item_clear(&it);
		pthread_mutex_lock(&n->mu);
		n->busy = 0;
	}
	pthread_cond_broadcast(&n->idle);
	pthread_mutex_unlock(&n->mu);
	return NULL;
}

struct notify *
notify_new(const struct notify_config *cfg, const struct notify_opts *o,
    char **err)
{
	struct notify *n = xcalloc(1, sizeof *n);

	*err = NULL;
	n->cfg = cfg;
	if (o)
		n->o = *o;
	if (n->o.queue_max == 0)
		n->o.queue_max = DEFAULT_QUEUE;
	if (n->o.retry_base <= 0)
		n->o.retry_base = DEFAULT_RETRY;
	n->q = xcalloc(n->o.queue_max, sizeof *n->q);
	pthread_mutex_init(&n->mu, NULL);
	pthread_cond_init(&n->cv, NULL);
	pthread_cond_init(&n->idle, NULL);
	if (pthread_create(&n->thread, NULL, run, n) != 0) {
		*err = xstrdup("cannot start the notification thread");
		pthread_mutex_destroy(&n->mu);
		pthread_cond_destroy(&n->cv);
		pthread_cond_destroy(&n->idle);
		free(n->q);
		free(n);
		return NULL;
	}
	return n;
}

void
notify_free(struct notify *n)
{
	size_t i;

	if (n == NULL)
		return;
	pthread_mutex_lock(&n->mu);
	n->stop = 1;
	pthread_cond_broadcast(&n->cv);
	pthread_mutex_unlock(&n->mu);
	pthread_join(n->thread, NULL);
	for (i = 0; i < n->len; i++) {
		item_clear(&n->q[(n->head + i) % n->o.queue_max]);
		n->st.dropped++;
	}
	pthread_mutex_destroy(&n->mu);
	pthread_cond_destroy(&n->cv);
	pthread_cond_destroy(&n->idle);
	free(n->q);
	free(n);
}

/* Queues it (stolen), dropping the oldest when full; mu held. */
static void
push(struct notify *n, struct item *it)
{
	if (n->len == n->o.queue_max) {
		item_clear(&n->q[n->head]);
		n->head = (n->head + 1) % n->o.queue_max;
		n->len--;
		n->st.dropped++;
	}
	n->q[(n->head + n->len) % n->o.queue_max] = *it;
	n->len++;
	n->st.queued++;
}

#define MAX_DESTS	16	/* per message */

size_t
notify_send(struct notify *n, const struct notify_msg *m)
{
	const struct notify_dest *d[MAX_DESTS];
	const char *owner = notify_owner(n->cfg, m->target, m->subject);
	size_t i, k = notify_route(n->cfg, owner, d, MAX_DESTS);
	json_t *t = json_object_get(m->record, "target");
	struct item it;

	for (i = 0; i < k; i++) {
		memset(&it, 0, sizeof it);
		it.dest = d[i];
		it.body = notify_payload(n->cfg, d[i], m);
		it.about = xasprintf("%s %s/%s", json_string_value(
		    json_object_get(m->record, "trigger")) ?
		    json_string_value(json_object_get(m->record, "trigger")) :
		    "?", json_string_value(json_object_get(t, "kind")) ?
		    json_string_value(json_object_get(t, "kind")) : "?",
		    json_string_value(json_object_get(t, "name")) ?
		    json_string_value(json_object_get(t, "name")) : "?");
		pthread_mutex_lock(&n->mu);
		push(n, &it);
		pthread_cond_signal(&n->cv);
		pthread_mutex_unlock(&n->mu);
	}
	return k;
}

int
notify_flush(struct notify *n, int64_t timeout_ms)
{
	struct timespec ts;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(timeout_ms / 1000);
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&n->mu);
	while ((n->len > 0 || n->busy) && !n->stop && rc == 0)
		if (pthread_cond_timedwait(&n->idle, &n->mu, &ts) ==
		    ETIMEDOUT)
			rc = -1;
	rc = n->len > 0 || n->busy ? -1 : 0;
	pthread_mutex_unlock(&n->mu);
	return rc;
}

void
notify_stats(struct notify *n, struct notify_stats *st)
{
	pthread_mutex_lock(&n->mu);
	*st = n->st;
	pthread_mutex_unlock(&n->mu);
}
