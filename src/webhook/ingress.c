/*
 * The ingress: the HTTP server's fallback route, serving every webhook
 * endpoint of the current hook set.
 *
 * Ordering is what makes the guarantees:
 *
 *   head    endpoint (404/405), Authorization (401) - before the body is
 *           read, so an unauthenticated sender cannot make us buffer it;
 *   body    the endpoint's limit (413, enforced by the server while
 *           reading), the signature (401/403), decoding (400);
 *   queue   redeliveries dropped, the rest pushed all-or-none with the
 *           request's replay mark (signed endpoints); 200 only after the
 *           push succeeded (or found the signed request already taken),
 *           503 + Retry-After when the sink is full, stopping or cannot
 *           store.  A sender that sees anything but 200 still owns its
 *           signal; a 200 means the sink (the state file) has it.
 *
 * Alert ids are recorded as seen when a push starts and forgotten again
 * if it fails.  The dedup lock is not held across the push (that would
 * make every Alertmanager request wait for the one before it to be
 * stored, and the intake's group commit would never group): the ids in
 * flight are listed instead, and a concurrent delivery of one of them
 * waits until that push has its outcome, so two deliveries of the same
 * alert are never both queued and a duplicate is never acknowledged
 * before the first delivery is stored.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "webhook/hook_int.h"

#define DEF_RETRY_AFTER	5

struct hook_ingress {
	unsigned		 magic;
	struct hook_sink	 sink;
	struct hook_ingress_opts o;
	struct clock		 sysclock;
	pthread_mutex_t		 set_lock;
	struct hook_set		*set;
	pthread_mutex_t		 dedup_lock;
	struct hook_dedup	*dedup;
	/* under dedup_lock: ids whose push has not returned (borrowed from
	   the pushing request), and a wake-up when one returns */
	const char		**flying;
	size_t			 nflying, capflying;
	pthread_cond_t		 landed;
	_Atomic uint64_t	 n_requests, n_events, n_dups, n_full, n_401,
				 n_403, n_400, n_413, n_404, n_replays,
				 n_unstored;
};

static void
ilog(const struct hook_ingress *ing, const char *fmt, ...)
    UTIL_PRINTF(2, 3);

static void
ilog(const struct hook_ingress *ing, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (ing->o.log == NULL)
		return;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	ing->o.log(ing->o.log_ctx, msg);
	free(msg);
}

/* ---- the current set, reference-counted ---------------------------------- */

static struct hook_set *
acquire(struct hook_ingress *ing)
{
	struct hook_set *s;

	pthread_mutex_lock(&ing->set_lock);
	s = ing->set;
	atomic_fetch_add(&s->refs, 1);
	pthread_mutex_unlock(&ing->set_lock);
	return s;
}

static void
release(struct hook_set *s)
{
	if (atomic_fetch_sub(&s->refs, 1) == 1)
		hook_set_free(s);
}

struct hook_ingress *
hook_ingress_new(const struct hook_sink *sink,
    const struct hook_ingress_opts *o)
{
	struct hook_ingress *ing = xcalloc(1, sizeof *ing);

	ing->magic = HOOK_INGRESS_MAGIC;
	ing->sink = *sink;
	if (o != NULL)
		ing->o = *o;
	if (ing->o.dedup_max == 0)
		ing->o.dedup_max = HOOK_DEDUP_DEFAULT;
	if (ing->o.retry_after == 0)
		ing->o.retry_after = DEF_RETRY_AFTER;
	clock_system(&ing->sysclock);
	if (ing->sink.clock == NULL)
		ing->sink.clock = &ing->sysclock;
	pthread_mutex_init(&ing->set_lock, NULL);
	pthread_mutex_init(&ing->dedup_lock, NULL);
	pthread_cond_init(&ing->landed, NULL);
	ing->set = hook_set_new();
	ing->dedup = hook_dedup_new(ing->o.dedup_max);
	return ing;
}

void
hook_ingress_set(struct hook_ingress *ing, struct hook_set *s)
{
	struct hook_set *old;

	if (s == NULL)
		s = hook_set_new();
	pthread_mutex_lock(&ing->set_lock);
	old = ing->set;
	ing->set = s;
	pthread_mutex_unlock(&ing->set_lock);
	release(old);
}

size_t
hook_ingress_seed(struct hook_ingress *ing, const char *const *ids,
    size_t n)
{
	struct hook_dedup *fresh = hook_dedup_new(ing->o.dedup_max), *old;
	char *other;
	size_t i, kept;

	/* built aside: requests are not held while the state is read */
	for (i = 0; i < n; i++) {
		if ((other = hook_alert_id_other(ids[i])) == NULL)
			continue;	/* not an alert: never redelivered */
		hook_dedup_add(fresh, ids[i]);
		hook_dedup_del(fresh, other);	/* as land() does */
		free(other);
	}
	hook_dedup_trim(fresh);
	kept = hook_dedup_count(fresh);
	pthread_mutex_lock(&ing->dedup_lock);
	old = ing->dedup;
	ing->dedup = fresh;
	pthread_mutex_unlock(&ing->dedup_lock);
	hook_dedup_free(old);
	return kept;
}

size_t
hook_ingress_dedup_max(const struct hook_ingress *ing)
{
	return ing->o.dedup_max;
}

void
hook_ingress_free(struct hook_ingress *ing)
{
	if (ing == NULL || ing->magic != HOOK_INGRESS_MAGIC)
		return;
	release(ing->set);
	hook_dedup_free(ing->dedup);
	pthread_mutex_destroy(&ing->set_lock);
	pthread_mutex_destroy(&ing->dedup_lock);
	pthread_cond_destroy(&ing->landed);
	free(ing->flying);
	ing->magic = 0;
	free(ing);
}

void
hook_ingress_stats(const struct hook_ingress *ing, struct hook_stats *st)
{
	st->requests = atomic_load(&ing->n_requests);
	st->events = atomic_load(&ing->n_events);
	st->duplicates = atomic_load(&ing->n_dups);
	st->replays = atomic_load(&ing->n_replays);
	st->unstored = atomic_load(&ing->n_unstored);
	st->full = atomic_load(&ing->n_full);
	st->unauthorized = atomic_load(&ing->n_401);
	st->forbidden = atomic_load(&ing->n_403);
	st->malformed = atomic_load(&ing->n_400);
	st->too_large = atomic_load(&ing->n_413);
	st->not_found = atomic_load(&ing->n_404);
}

/* ---- request steps ------------------------------------------------------- */

static void
not_found(struct hook_ingress *ing, const struct hook_set *s,
    const struct http_request *r, int known, struct http_response *resp)
{
	struct buf allow;
	const char *sep = "";
	size_t i;

	atomic_fetch_add(&ing->n_404, 1);
	if (!known) {
		http_reply_error(resp, 404, "no webhook at %s", r->path);
		return;
	}
	buf_init(&allow, 256);
	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i].path, r->path) == 0) {
			buf_printf(&allow, "%s%s", sep, s->v[i].method);
			sep = ", ";
		}
	http_reply_error(resp, 405, "the webhook at %s takes %s, not %s",
	    r->path, allow.data, r->method);
	http_response_header(resp, "Allow", allow.data);
	buf_free(&allow);
}

/* Turns an auth result into a response; returns 1 when refused. */
static int
refuse(struct hook_ingress *ing, const struct hook_endpoint *e, int code,
    const char *why, char *err, struct http_response *resp)
{
	if (code == 0)
		return 0;
	if (code == 500) {
		ilog(ing, "webhook %s/%s: %s", e->source, e->name, err);
		http_reply_error(resp, 500, "%s", why);
	} else {
		atomic_fetch_add(code == 401 ? &ing->n_401 : &ing->n_403, 1);
		http_reply_error(resp, code, "%s", why);
		if (code == 401)
			http_response_header(resp, "WWW-Authenticate",
			    e->user.kind != SECRET_NONE ?
			    "Basic realm=\"remediate\"" : "Bearer");
	}
	free(err);
	return 1;
}

static size_t
admit(void *ctx, const struct http_request *r, struct http_response *resp)
{
	struct hook_ingress *ing = ctx;
	const struct hook_endpoint *e;
	struct hook_set *s;
	const char *why = NULL;
	char *err = NULL;
	size_t limit = 0;
	int known, code;

	if (ing == NULL || ing->magic != HOOK_INGRESS_MAGIC) {
		http_reply_error(resp, 500, "webhook ingress unavailable");
		return 0;
	}
	atomic_fetch_add(&ing->n_requests, 1);
	s = acquire(ing);
	e = hook_set_find(s, r->method, r->path, &known);
	if (e == NULL)
		not_found(ing, s, r, known, resp);
	else {
		code = hook_auth_head(e, r, &why, &err);
		if (!refuse(ing, e, code, why, err, resp))
			limit = e->max_body;
	}
	release(s);
	return limit;
}

static void
reply_queued(struct http_response *resp, size_t queued, size_t dups)
{
	resp->status = 200;
	resp->content_type = "application/json";
	/* no printf: its pass was ~3k instructions a request */
	buf_adds(&resp->body, "{\"queued\":");
	buf_add_int(&resp->body, (long long)queued);
	buf_adds(&resp->body, ",\"duplicates\":");
	buf_add_int(&resp->body, (long long)dups);
	buf_adds(&resp->body, "}\n");
}

/* 503 with Retry-After: the sender keeps its events and retries. */
static void
retry_later(struct hook_ingress *ing, int rc, struct http_response *resp)
{
	char ra[16];

	if (rc == HOOK_STOPPING)
		http_reply_error(resp, 503, "this replica takes no events "
		    "now (a standby, or stopping); retry");
	else if (rc == HOOK_UNSTORED) {
		atomic_fetch_add(&ing->n_unstored, 1);
		http_reply_error(resp, 503, "the events cannot be stored now; "
		    "retry");
	} else {
		atomic_fetch_add(&ing->n_full, 1);
		http_reply_error(resp, 503, "the event queue is full; retry");
	}
	snprintf(ra, sizeof ra, "%u", ing->o.retry_after);
	http_response_header(resp, "Retry-After", ra);
}

/* Under dedup_lock: is one of evs[0..n)'s ids being pushed now? */
static int
in_flight(const struct hook_ingress *ing, const struct event *evs, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < ing->nflying; j++)
			if (strcmp(ing->flying[j], evs[i].id) == 0)
				return 1;
	return 0;
}

/*
 * Drops redelivered alerts from evs[0..n) into keep (k of them) and
 * marks the rest seen and in flight (their ids copied to *ids, owned;
 * the id of the same alert with the other status in *ends, owned, else
 * NULL).  Returns the number of duplicates.
 */
static size_t
take_off(struct hook_ingress *ing, struct event *evs, size_t n,
    struct event *keep, size_t *k, char ***ids, char ***ends)
{
	size_t i, dups = 0;

	*ids = xcalloc(n + 1, sizeof **ids);
	*ends = xcalloc(n + 1, sizeof **ends);
	pthread_mutex_lock(&ing->dedup_lock);
	/* a concurrent delivery of one of these alerts: its outcome first */
	while (in_flight(ing, evs, n))
		pthread_cond_wait(&ing->landed, &ing->dedup_lock);
	for (i = 0; i < n; i++) {
		if (hook_dedup_has(ing->dedup, evs[i].id)) {
			event_clear(&evs[i]);
			dups++;
			continue;
		}
		/* tentatively, so a repeat inside the batch is one too */
		hook_dedup_add(ing->dedup, evs[i].id);
		(*ends)[*k] = hook_alert_id_other(evs[i].id);
		(*ids)[*k] = xstrdup(evs[i].id);
		xgrow(&ing->flying, &ing->capflying, ing->nflying + 1,
		    sizeof *ing->flying);
		ing->flying[ing->nflying++] = (*ids)[*k];
		keep[(*k)++] = evs[i];
	}
	pthread_mutex_unlock(&ing->dedup_lock);
	return dups;
}

/*
 * The push of ids[0..k) returned: seen for good when stored, else not.
 * A stored alert forgets itself with the other status (ends[i]): a
 * resolution, the firing it ends, so that alert firing again is a new
 * event; a firing, an earlier resolution, so its resolving again is one.
 */
static void
land(struct hook_ingress *ing, char **ids, char **ends, size_t k,
    int stored)
{
	size_t i, j;

	pthread_mutex_lock(&ing->dedup_lock);
	for (i = 0; i < k; i++) {
		for (j = 0; j < ing->nflying; j++)
			if (ing->flying[j] == ids[i]) {
				ing->flying[j] = ing->flying[--ing->nflying];
				break;
			}
		if (!stored)
			hook_dedup_del(ing->dedup, ids[i]);
		else if (ends[i])
			hook_dedup_del(ing->dedup, ends[i]);
		free(ids[i]);
		free(ends[i]);
	}
	if (stored)	/* only now: a refused request evicted nothing */
		hook_dedup_trim(ing->dedup);
	pthread_cond_broadcast(&ing->landed);
	pthread_mutex_unlock(&ing->dedup_lock);
	free(ids);
	free(ends);
}

/*
 * Pushes evs[0..n) all or none, dropping redelivered alerts first when
 * dedup is set; replay is the request's replay mark (may be NULL).  Takes
 * the events: on return their members are queued or cleared, and the
 * array freed.
 */
static void
queue(struct hook_ingress *ing, struct event *evs, size_t n, int dedup,
    const char *replay, struct http_response *resp)
{
	struct event *keep = xcalloc(n + 1, sizeof *keep);
	size_t i, k = 0, dups = 0;
	char **ids = NULL, **ends = NULL;
	int rc = HOOK_PUSHED, too_many;

	if (dedup)
		dups = take_off(ing, evs, n, keep, &k, &ids, &ends);
	else
		for (k = 0; k < n; k++)
			keep[k] = evs[k];
	too_many = ing->sink.capacity != 0 && k > ing->sink.capacity;
	if (k > 0 && !too_many)
		rc = ing->sink.push(ing->sink.ctx, keep, k, replay);
	if (dedup)
		land(ing, ids, ends, k, !too_many && rc >= 0);
	atomic_fetch_add(&ing->n_dups, dups);
	if (too_many) {
		atomic_fetch_add(&ing->n_413, 1);
		http_reply_error(resp, 413, "%zu events in one request; the "
		    "queue holds at most %zu (lower the sender's batch, e.g. "
		    "Alertmanager's max_alerts)", k, ing->sink.capacity);
	} else if (rc < 0)
		retry_later(ing, rc, resp);
	else if (rc == HOOK_REPLAY) {
		atomic_fetch_add(&ing->n_replays, 1);
		reply_queued(resp, 0, dups + k);
	} else {
		atomic_fetch_add(&ing->n_events, k);
		reply_queued(resp, k, dups);
	}
	if (too_many || rc != HOOK_PUSHED)
		for (i = 0; i < k; i++)
			event_clear(&keep[i]);
	free(keep);
	free(evs);
}

static void
serve(struct hook_ingress *ing, const struct hook_endpoint *e,
    const struct http_request *r, struct http_response *resp)
{
	struct hook_target t = { e->source, e->name, e->metadata, e->secret,
	    e->nsecret };
	struct event *evs = NULL;
	const char *why = NULL;
	char *err = NULL, *replay;
	int n, am, code;

	if (r->body_len > e->max_body) {	/* the set changed meanwhile */
		atomic_fetch_add(&ing->n_413, 1);
		http_reply_error(resp, 413, "the body exceeds the limit of "
		    "%zu bytes", e->max_body);
		return;
	}
	/* again: the set may have changed since the head was admitted */
	code = hook_auth_head(e, r, &why, &err);
	if (refuse(ing, e, code, why, err, resp))
		return;
	code = hook_auth_body(e, r, clock_now(ing->sink.clock), &why, &err);
	if (refuse(ing, e, code, why, err, resp))
		return;
	n = hook_decode(&t, r, clock_now(ing->sink.clock), &evs, &am, &err);
	if (n < 0) {
		atomic_fetch_add(&ing->n_400, 1);
		http_reply_error(resp, 400, "%s", err);
		free(err);
		return;
	}
	if (n == 0) {
		free(evs);
		reply_queued(resp, 0, 0);
		return;
	}
	replay = hook_replay_key(e, r);
	queue(ing, evs, (size_t)n, am, replay, resp);
	free(replay);
}

static void
handle(void *ctx, const struct http_request *r, struct http_response *resp)
{
	struct hook_ingress *ing = ctx;
	const struct hook_endpoint *e;
	struct hook_set *s;
	int known;

	if (ing == NULL || ing->magic != HOOK_INGRESS_MAGIC) {
		http_reply_error(resp, 500, "webhook ingress unavailable");
		return;
	}
	s = acquire(ing);
	e = hook_set_find(s, r->method, r->path, &known);
	if (e == NULL)
		not_found(ing, s, r, known, resp);
	else
		serve(ing, e, r, resp);
	release(s);
}

void
hook_ingress_attach(struct hook_ingress *ing, struct http_server *srv)
{
	http_route_fallback(srv, admit, handle, ing);
}
