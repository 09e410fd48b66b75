/*
 * Delivery, on the pager's own thread.
 *
 * One FIFO per destination, so a dead webhook never holds back
 * Alertmanager.  Only the head of a FIFO is sent, and a page to retry goes
 * back to the head: a "resolved" can never overtake the "firing" it ends,
 * which Alertmanager would otherwise read as a new alert.  The engine
 * thread's part is page_enqueue, a few pointer moves under the mutex.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/metrics.h"
#include "page/page_int.h"

static const char *const dest_names[NDEST] = { "alertmanager", "webhook" };

int64_t
page_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
page_log(const struct page *p, const char *level, const char *msg,
    json_t *fields)
{
	if (p->opts.log)
		p->opts.log(level, msg, fields);
	else
		util_log_json(level, msg, fields);
}

static struct page_msg *
fifo_at(struct page *p, struct page_fifo *f, size_t i)
{
	return &f->v[(f->head + i) % p->opts.queue_max];
}

/* Appends seq to a report list for the outbox.  Locked. */
static void
report(uint64_t **v, size_t *n, size_t *cap, uint64_t seq)
{
	xgrow(v, cap, *n + 1, sizeof **v);
	(*v)[(*n)++] = seq;
}

/*
 * Drops the oldest page of a full FIFO from memory; it stays in the
 * outbox, which queues it again when there is room.  Locked.
 */
static void
drop_oldest(struct page *p, enum page_dest d)
{
	struct page_fifo *f = &p->q[d];
	struct page_msg *m = fifo_at(p, f, 0);

	report(&p->spilled, &p->nspilled, &p->capspilled, m->seq);
	free(m->body);
	f->head = (f->head + 1) % p->opts.queue_max;
	f->n--;
	metrics_count_page(dest_names[d], "dropped");
}

size_t
page_fifo_room(struct page *p, enum page_dest d)
{
	size_t n;

	pthread_mutex_lock(&p->mu);
	n = p->url[d] ? p->opts.queue_max - p->q[d].n : 0;
	pthread_mutex_unlock(&p->mu);
	return n;
}

void
page_enqueue(struct page *p, enum page_dest d, char *body, uint64_t seq)
{
	struct page_fifo *f = &p->q[d];
	struct page_msg *m;
	int dropped = 0;

	pthread_mutex_lock(&p->mu);
	if (f->n == p->opts.queue_max) {
		drop_oldest(p, d);
		dropped = !p->dropping[d];	/* log once per overflow */
		p->dropping[d] = 1;
	} else if (f->n < p->opts.queue_max / 2)
		p->dropping[d] = 0;
	m = fifo_at(p, f, f->n++);
	m->body = body;
	m->attempt = 0;
	m->due = 0;
	m->seq = seq;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->mu);
	metrics_set_queue_depth("pages", (double)page_queue_depth(p));
	if (dropped)
		page_log(p, "warn", "page queue full: the oldest pages wait "
		    "in the state file (remediate_pages_total{result="
		    "\"dropped\"})",
		    json_pack("{s:s}", "destination", dest_names[d]));
}

size_t
page_queue_depth(struct page *p)
{
	size_t n;

	pthread_mutex_lock(&p->mu);
	n = p->q[0].n + p->q[1].n + (size_t)p->inflight;
	pthread_mutex_unlock(&p->mu);
	return n;
}

int
page_flush(struct page *p, int64_t timeout_ms)
{
	int64_t end = page_monotonic_ms() + timeout_ms;
	struct timespec ts;
	int rc = 0;

	pthread_mutex_lock(&p->mu);
	while (p->started && (p->q[0].n || p->q[1].n || p->inflight)) {
		int64_t left = end - page_monotonic_ms();

		if (left <= 0) {
			rc = -1;
			break;
		}
		if (left > 100)		/* wake up now and then */
			left = 100;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += left / 1000;
		ts.tv_nsec += (left % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&p->idle, &p->mu, &ts);
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

/* Bounded sink for the response body: we read only the status. */
static size_t
discard(char *ptr, size_t size, size_t n, void *ctx)
{
	(void)ptr;
	(void)ctx;
	return size * n;
}

/* POSTs body; 0 on a 2xx answer, -1 with *err (owned) otherwise. */
static int
post(struct page *p, CURL *c, enum page_dest d, const char *body,
    char **err)
{
	struct curl_slist *h = NULL;
	char *auth = NULL;
	long code = 0;
	CURLcode rc;

	h = curl_slist_append(h, "Content-Type: application/json");
	if (d == DEST_WEBHOOK && p->opts.webhook_token) {
		auth = xasprintf("Authorization: Bearer %s",
		    p->opts.webhook_token);
		h = curl_slist_append(h, auth);
	}
	curl_easy_setopt(c, CURLOPT_URL, p->url[d]);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, p->opts.timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, p->opts.timeout);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "remediate");
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(h);
	free(auth);
	if (rc != CURLE_OK) {
		*err = xstrdup(curl_easy_strerror(rc));
		return -1;
	}
	if (code < 200 || code > 299) {
		*err = xasprintf("HTTP %ld", code);
		return -1;
	}
	return 0;
}

/*
 * The destination whose head is due first, and when; -1 if both FIFOs
 * are empty.  Locked.
 */
static int
next_due(struct page *p, int64_t *due)
{
	int d, best = -1;

	for (d = 0; d < NDEST; d++) {
		struct page_fifo *f = &p->q[d];

		if (f->n && (best == -1 || fifo_at(p, f, 0)->due < *due)) {
			best = d;
			*due = fifo_at(p, f, 0)->due;
		}
	}
	return best;
}

static void
wait_until(struct page *p, int64_t due)
{
	int64_t left = due - page_monotonic_ms();
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += left / 1000;
	ts.tv_nsec += (left % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(&p->wake, &p->mu, &ts);
}

/* After a send: done, or back to the head for a retry.  Locked. */
static void
settle(struct page *p, enum page_dest d, struct page_msg m, char *err)
{
	struct page_fifo *f = &p->q[d];
	int64_t delay;

	if (err == NULL) {
		free(m.body);
		report(&p->settled, &p->nsettled, &p->capsettled, m.seq);
		metrics_count_page(dest_names[d], "sent");
		return;
	}
	if (p->stop) {		/* still due: the outbox keeps it */
		free(m.body);
		return;
	}
	if (++m.attempt >= p->opts.attempts && p->opts.attempts > 0) {
		free(m.body);
		report(&p->settled, &p->nsettled, &p->capsettled, m.seq);
		metrics_count_page(dest_names[d], "failed");
		pthread_mutex_unlock(&p->mu);
		page_log(p, "error", "page not delivered", json_pack(
		    "{s:s, s:s, s:i}", "destination", dest_names[d], "error",
		    err, "attempts", m.attempt));
		pthread_mutex_lock(&p->mu);
		return;
	}
	metrics_count_page(dest_names[d], "retried");
	delay = p->opts.retry_base << (m.attempt - 1 < 16 ? m.attempt - 1 :
	    16);
	if (p->opts.retry_max > 0 && delay > p->opts.retry_max)
		delay = p->opts.retry_max;
	if (m.attempt == 5 || m.attempt % 20 == 0) {
		pthread_mutex_unlock(&p->mu);
		page_log(p, "error", "page not delivered yet: retrying until a "
		    "receiver accepts it", json_pack("{s:s, s:s, s:i, s:I}",
		    "destination", dest_names[d], "error", err, "attempts",
		    m.attempt, "retryMs", (json_int_t)delay));
		pthread_mutex_lock(&p->mu);
	}
	m.due = page_monotonic_ms() + delay;
	if (f->n == p->opts.queue_max)
		drop_oldest(p, d);	/* room for the older page */
	f->head = (f->head + p->opts.queue_max - 1) % p->opts.queue_max;
	f->n++;
	*fifo_at(p, f, 0) = m;
}

static void *
sender(void *arg)
{
	struct page *p = arg;
	CURL *curl[NDEST] = { NULL, NULL };
	struct page_msg m;
	int64_t due = 0;
	char *err;
	int d;

	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		if ((d = next_due(p, &due)) == -1) {
			pthread_cond_wait(&p->wake, &p->mu);
			continue;
		}
		if (due > page_monotonic_ms()) {
			wait_until(p, due);
			continue;
		}
		m = *fifo_at(p, &p->q[d], 0);
		p->q[d].head = (p->q[d].head + 1) % p->opts.queue_max;
		p->q[d].n--;
		p->inflight = 1;
		pthread_mutex_unlock(&p->mu);
		if (curl[d] == NULL)
			curl[d] = curl_easy_init();
		err = NULL;
		if (curl[d] == NULL)
			err = xstrdup("curl_easy_init failed");
		else
			post(p, curl[d], (enum page_dest)d, m.body, &err);
		pthread_mutex_lock(&p->mu);
		p->inflight = 0;
		settle(p, (enum page_dest)d, m, err);
		free(err);
		pthread_cond_broadcast(&p->idle);
	}
	pthread_mutex_unlock(&p->mu);
	for (d = 0; d < NDEST; d++)
		if (curl[d])
			curl_easy_cleanup(curl[d]);
	return NULL;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
init_curl(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

int
page_sender_start(struct page *p, char **err)
{
	pthread_condattr_t ca;
	int d;

	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->wake, &ca);
	pthread_cond_init(&p->idle, &ca);
	pthread_condattr_destroy(&ca);
	for (d = 0; d < NDEST; d++)
		p->q[d].v = xcalloc(p->opts.queue_max, sizeof *p->q[d].v);
	if (p->url[0] == NULL && p->url[1] == NULL)
		return 0;		/* nowhere to send: no thread */
	pthread_once(&curl_once, init_curl);
	if (pthread_create(&p->thread, NULL, sender, p) != 0) {
		*err = xstrdup("cannot start the pager's thread");
		return -1;
	}
	p->started = 1;
	return 0;
}

void
page_sender_stop(struct page *p)
{
	int d;

	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->mu);
	if (p->started)
		pthread_join(p->thread, NULL);
	for (d = 0; d < NDEST; d++) {
		while (p->q[d].n) {	/* still due in the state file */
			free(fifo_at(p, &p->q[d], 0)->body);
			p->q[d].head = (p->q[d].head + 1) %
			    p->opts.queue_max;
			p->q[d].n--;
		}
		free(p->q[d].v);
	}
	free(p->settled);
	free(p->spilled);
	pthread_cond_destroy(&p->wake);
	pthread_cond_destroy(&p->idle);
	pthread_mutex_destroy(&p->mu);
}
