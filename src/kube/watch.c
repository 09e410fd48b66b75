/*
 * List+watch, as client-go's reflector does it, in a thread per watch.
 *
 *   list (paginated) -> KUBE_SYNC per object, remember uid -> rv
 *   watch from the list's resourceVersion, with bookmarks; each event
 *     moves the resourceVersion on
 *   the stream ends (timeoutSeconds): watch again from where we were
 *   the stream drops or the server fails: back off (exponential, with
 *     jitter, capped) and watch again from where we were
 *   410 Gone on `events` (no watch cache on a real server, so no
 *     bookmarks and a 410 after each compaction): resume from a fresh
 *     list's resourceVersion (limit 1), see resume_fresh
 *   410 Gone (HTTP, or an ERROR event inside the stream: our
 *     resourceVersion fell out of the server's window), or 504 with
 *     ResourceVersionTooLarge (the server's history is behind ours, as
 *     after an etcd restore): list again and
 *     deliver only what differs from what we delivered before (ADDED,
 *     MODIFIED, DELETED): a restarted watch does not replay every object
 *     as new, and a deletion during the gap is not lost.
 *
 * Events already delivered (same uid and resourceVersion) are dropped, so
 * a resume that overlaps does not duplicate a change.  The cache holds
 * only uid, resourceVersion, name and namespace, one block per object in
 * a pointer table (about 100 bytes a pod), and a relist marks what it
 * saw in the entries themselves: no second table of 100,000 uids.  A list
 * page is parsed one item at a time (kube_list_each).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kube/kube_int.h"
#include "util/util.h"

#define WATCH_MAGIC		0x77617463u	/* "watc" */
#define DEFAULT_PAGE		500
#define UNHEALTHY_AFTER		3	/* failures in a row */
#define SHORT_WATCH_MS		1000	/* an empty stream ended sooner */
#define MAX_RETRY_AFTER_MS	30000	/* longest Retry-After obeyed */
#define DELETED_UNKNOWN		"remediate.dev/deleted-final-state-unknown"

/* What the cache keeps per object, in one block. */
struct centry {
	uint32_t	hash;		/* of the uid */
	uint8_t		seen;		/* by the relist under way */
	uint8_t		rv_off;		/* data offsets: uid at 0 */
	uint16_t	name_off, ns_off;
	char		data[];		/* "uid\0rv\0name\0namespace\0" */
};

struct kube_watch {
	unsigned		 magic;
	struct kube_client	*c;
	struct kube_resource	 res;		/* owned */
	char			*ns, *lsel, *fsel;	/* owned, may be NULL */
	long			 page_limit;
	int			 timeout_s;
	int			 stateless;	/* the caller keeps state */
	kube_watch_fn		*fn;
	void			*ctx;
	kube_decode_fn		*decode;	/* NULL: jansson */
	void			*decode_ctx;
	void			(*on_error)(void *, const char *);
	char			*api_version;	/* owned: "apps/v1", "v1" */
	char			*kind;		/* owned, from the list */

	pthread_t		 thread;
	atomic_int		 stop;
	atomic_int		 ended;		/* the thread delivers no more */

	/* the thread's own: no lock */
	struct ptab		 cache;		/* struct centry * (owned) */
	struct buf		 line;		/* partial watch line */
	int			 gone;		/* 410 seen in the stream */
	char			*stream_err;	/* owned: why we aborted */
	int			 reported;	/* failure told on_error */
	int			 opened;	/* the server took a watch */
	int			 got;		/* lines in this stream */
	int			 shorts;	/* short watches in a row */
	int			 retry_after_s;	/* the last failure's, or -1 */
	void			(*on_list)(void *,
				    const struct kube_list_report *);

	pthread_mutex_t		 lock;		/* guards the status */
	pthread_cond_t		 cond;		/* synced */
	int			 synced;
	int			 fails;		/* in a row */
	char			*last_error;	/* owned */
	uint64_t		 restarts, relists, events, errors;
	size_t			 cached;
	char			 rv[32];
};

const char *
kube_event_type_name(enum kube_event_type t)
{
	switch (t) {
	case KUBE_SYNC:
		return "SYNC";
	case KUBE_ADDED:
		return "ADDED";
	case KUBE_MODIFIED:
		return "MODIFIED";
	case KUBE_DELETED:
		return "DELETED";
	case KUBE_RELIST_BEGIN:
		return "RELIST_BEGIN";
	case KUBE_RELIST_END:
		return "RELIST_END";
	}
	return "?";
}

const char *
kube_list_cause_name(enum kube_list_cause c)
{
	switch (c) {
	case KUBE_LIST_START:
		return "start";
	case KUBE_LIST_EXPIRED:
		return "expired";
	case KUBE_LIST_RESUME:
		return "resume";
	}
	return "?";
}

/* ---- status ------------------------------------------------------------ */

/* A list is done: logged with its cost, and told to the caller. */
static void
listed(struct kube_watch *w, enum kube_list_cause cause, long pages,
    long objects, int64_t t0)
{
	struct kube_list_report r;

	r.cause = cause;
	r.pages = pages;
	r.objects = objects;
	r.ms = kube_mono_ms() - t0;
	util_log_json("info", cause == KUBE_LIST_START ? "listed" :
	    cause == KUBE_LIST_EXPIRED ? "relisted" : "resumed", json_pack(
	    "{s:s, s:s?, s:s, s:I, s:I, s:I}", "resource", w->res.resource,
	    "namespace", w->ns, "cause", kube_list_cause_name(cause),
	    "pages", (json_int_t)r.pages, "objects", (json_int_t)r.objects,
	    "ms", (json_int_t)r.ms));
	if (w->on_list)
		w->on_list(w->ctx, &r);
}

static void
set_rv(struct kube_watch *w, const char *rv)
{
	if (rv == NULL || *rv == '\0' || strlen(rv) >= sizeof w->rv)
		return;
	pthread_mutex_lock(&w->lock);
	snprintf(w->rv, sizeof w->rv, "%s", rv);
	pthread_mutex_unlock(&w->lock);
}

static void
failed(struct kube_watch *w, const char *msg)
{
	pthread_mutex_lock(&w->lock);
	w->fails++;
	w->errors++;
	free(w->last_error);
	w->last_error = xstrdup(msg);
	pthread_mutex_unlock(&w->lock);
	w->reported = 1;
	if (w->on_error)
		w->on_error(w->ctx, msg);
}

static void
succeeded(struct kube_watch *w)
{
	pthread_mutex_lock(&w->lock);
	w->fails = 0;
	pthread_mutex_unlock(&w->lock);
	if (w->reported && w->on_error)
		w->on_error(w->ctx, NULL);
	w->reported = 0;
}

static int
fail_count(struct kube_watch *w)
{
	int n;

	pthread_mutex_lock(&w->lock);
	n = w->fails;
	pthread_mutex_unlock(&w->lock);
	return n;
}

void
kube_watch_status(struct kube_watch *w, struct kube_watch_status *st)
{
	memset(st, 0, sizeof *st);
	pthread_mutex_lock(&w->lock);
	st->synced = w->synced;
	st->healthy = w->synced && w->fails < UNHEALTHY_AFTER;
	st->last_error = w->last_error ? xstrdup(w->last_error) : NULL;
	st->restarts = w->restarts;
	st->relists = w->relists;
	st->events = w->events;
	st->errors = w->errors;
	st->cached = w->cached;
	snprintf(st->resource_version, sizeof st->resource_version, "%s",
	    w->rv);
	pthread_mutex_unlock(&w->lock);
}

int
kube_watch_wait_synced(struct kube_watch *w, long timeout_ms)
{
	struct timespec ts;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&w->lock);
	while (!w->synced && rc == 0 && !atomic_load(&w->stop))
		rc = pthread_cond_timedwait(&w->cond, &w->lock, &ts);
	rc = w->synced ? 0 : -1;
	pthread_mutex_unlock(&w->lock);
	return rc;
}

/* ---- the cache --------------------------------------------------------- */

static const char *
meta(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj,
	    "metadata"), key));
}

static uint32_t
centry_hash(const void *e)
{
	return ((const struct centry *)e)->hash;
}

static int
centry_eq(const void *e, const void *uid)
{
	return strcmp(((const struct centry *)e)->data, uid) == 0;
}

static uint32_t
uid_hash(const char *uid)
{
	uint64_t h = util_hash(uid, strlen(uid), UTIL_HASH_SEED);

	return (uint32_t)(h ^ (h >> 32));
}

static struct centry *
cache_get(struct kube_watch *w, const char *uid)
{
	return ptab_find(&w->cache, uid_hash(uid), centry_eq, uid);
}

/* Removes uid's entry; returns it (owned) or NULL. */
static struct centry *
cache_del(struct kube_watch *w, const char *uid)
{
	return ptab_remove(&w->cache, uid_hash(uid), centry_eq, uid,
	    centry_hash);
}

static const char *
centry_rv(const struct centry *e)
{
	return e->data + e->rv_off;
}

/* Remembers obj (marked seen) under uid, replacing what was there. */
static void
cache_put(struct kube_watch *w, const char *uid, json_t *obj)
{
	const char *rv = meta(obj, "resourceVersion");
	const char *name = meta(obj, "name"), *ns = meta(obj, "namespace");
	size_t u, a, b, n;
	struct centry *e;

	rv = rv ? rv : "";
	name = name ? name : "";
	ns = ns ? ns : "";
	u = strlen(uid) + 1;
	a = strlen(rv) + 1;
	b = strlen(name) + 1;
	n = strlen(ns) + 1;
	free(cache_del(w, uid));
	if (u > 255 || u + a + b > 65535)
		return;	/* no server sends such names: not remembered */
	e = xmalloc(sizeof *e + u + a + b + n);
	e->hash = uid_hash(uid);
	e->seen = 1;
	e->rv_off = (uint8_t)u;
	e->name_off = (uint16_t)(u + a);
	e->ns_off = (uint16_t)(u + a + b);
	memcpy(e->data, uid, u);
	memcpy(e->data + u, rv, a);
	memcpy(e->data + u + a, name, b);
	memcpy(e->data + u + a + b, ns, n);
	ptab_insert(&w->cache, e->hash, e, centry_hash);
}

static void
cache_clear(struct kube_watch *w)
{
	size_t i;

	for (i = 0; i < w->cache.cap; i++)
		free(w->cache.slots[i]);
	ptab_clear(&w->cache);
}

static void
update_cached(struct kube_watch *w)
{
	pthread_mutex_lock(&w->lock);
	w->cached = w->cache.live;
	pthread_mutex_unlock(&w->lock);
}

/* Delivers one change; counts it. */
static void
deliver(struct kube_watch *w, enum kube_event_type t, json_t *obj)
{
	if (t != KUBE_SYNC) {
		pthread_mutex_lock(&w->lock);
		w->events++;
		pthread_mutex_unlock(&w->lock);
	}
	w->fn(w->ctx, t, obj);
}

/* The stand-in for an object that vanished while we were not looking. */
static json_t *
deleted_stub(struct kube_watch *w, const struct centry *e)
{
	json_t *md = json_pack("{s:s, s:s, s:s, s:{s:s}}", "name",
	    e->data + e->name_off, "uid", e->data, "resourceVersion",
	    centry_rv(e),
	    "annotations", DELETED_UNKNOWN, "true");

	if (e->data[e->ns_off])
		json_object_set_new(md, "namespace", json_string(e->data +
		    e->ns_off));
	return json_pack("{s:s, s:s, s:o}", "apiVersion", w->api_version,
	    "kind", w->kind ? w->kind : "", "metadata", md);
}

/* ---- list -------------------------------------------------------------- */

/* The entries the relist did not see: deleted while we were away. */
static void
deliver_gone(struct kube_watch *w)
{
	struct centry **gone = NULL;
	size_t i, n = 0, cap = 0;
	json_t *stub;

	for (i = 0; i < w->cache.cap; i++) {
		struct centry *e = w->cache.slots[i];

		if (e && !e->seen) {
			xgrow(&gone, &cap, n + 1, sizeof *gone);
			gone[n++] = e;
		}
	}
	for (i = 0; i < n; i++) {
		ptab_remove(&w->cache, gone[i]->hash, centry_eq, gone[i]->data,
		    centry_hash);
		stub = deleted_stub(w, gone[i]);
		deliver(w, KUBE_DELETED, stub);
		json_decref(stub);
		free(gone[i]);
	}
	free(gone);
}

static void
unmark_all(struct kube_watch *w)
{
	size_t i;

	for (i = 0; i < w->cache.cap; i++)
		if (w->cache.slots[i])
			((struct centry *)w->cache.slots[i])->seen = 0;
}

/* One item of a list: SYNC on the first list, else the difference. */
/*
 * A stateless watch's relist is bracketed: what the caller holds of this
 * resource and did not get between BEGIN and END is gone.  The marker's
 * object names the kind (the List's, else the resource's).
 */
static void
relist_mark(struct kube_watch *w, int initial, enum kube_event_type t)
{
	json_t *o;

	if (initial || !w->stateless)
		return;
	o = json_pack("{s:s, s:s, s:s}", "apiVersion", w->api_version,
	    "kind", w->kind ? w->kind : "", "resource", w->res.resource);
	w->fn(w->ctx, t, o);
	json_decref(o);
}

struct list_ctx {
	struct kube_watch	*w;
	int			 initial;
	size_t			 items;		/* in this list, all pages */
};

static void
list_item(void *arg, json_t *it)
{
	struct list_ctx *lc = arg;
	struct kube_watch *w = lc->w;
	const char *uid = meta(it, "uid"), *rv = meta(it, "resourceVersion");
	struct centry *e;
	int known;

	lc->items++;
	if (uid == NULL)
		return;
	if (w->stateless) {	/* every object, no cache */
		deliver(w, lc->initial ? KUBE_SYNC : KUBE_MODIFIED, it);
		return;
	}
	e = cache_get(w, uid);
	if (e && rv && strcmp(centry_rv(e), rv) == 0) {
		e->seen = 1;
		return;		/* delivered already, unchanged */
	}
	known = e != NULL;
	cache_put(w, uid, it);
	deliver(w, lc->initial ? KUBE_SYNC : known ? KUBE_MODIFIED :
	    KUBE_ADDED, it);
}

static int
list_all(struct kube_watch *w, int initial)
{
	struct kube_error err;
	struct list_ctx lc = { w, initial, 0 };
	json_t *list;
	char *cont = NULL;
	const char *lk, *next;
	int64_t t0 = kube_mono_ms();
	long pages = 0;
	int rc = -1, restarted = 0;

	kube_error_init(&err);
	unmark_all(w);
	relist_mark(w, initial, KUBE_RELIST_BEGIN);
	for (;;) {
		if (atomic_load(&w->stop))
			goto out;
		list = kube_list_each(w->c, &w->res, w->ns, w->lsel,
		    w->fsel, w->page_limit, cont, &w->stop, list_item, &lc,
		    w->decode, w->decode_ctx, &err);
		pages += list != NULL;
		if (list == NULL && err.status == 410 && cont) {
			/*
			 * The continue token expired: start over.  What the
			 * pages before delivered and the new list does not
			 * hold was deleted meanwhile, even in the initial
			 * list: the caller has it (SYNC filled its caches),
			 * so it is told, as after a relist.
			 */
			free(cont);
			cont = NULL;
			restarted = 1;
			unmark_all(w);
			relist_mark(w, 0, KUBE_RELIST_BEGIN);
			continue;
		}
		if (list == NULL && atomic_load(&w->stop))
			goto out;	/* told to stop: not a failure */
		if (list == NULL) {
			char *t = kube_error_text(&err);

			w->retry_after_s = err.retry_after_s;
			failed(w, t);
			free(t);
			goto out;
		}
		lk = json_string_value(json_object_get(list, "kind"));
		if (w->kind == NULL && lk && strlen(lk) > 4)
			w->kind = xstrndup(lk, strlen(lk) - 4);
		free(cont);
		cont = NULL;
		next = json_string_value(json_object_get(json_object_get(list,
		    "metadata"), "continue"));
		if (next && *next)
			cont = xstrdup(next);
		else
			set_rv(w, json_string_value(json_object_get(
			    json_object_get(list, "metadata"),
			    "resourceVersion")));
		json_decref(list);
		if (cont == NULL)
			break;
	}
	if ((!initial || restarted) && !w->stateless)
		deliver_gone(w);
	relist_mark(w, initial && !restarted, KUBE_RELIST_END);
	/* a relist of a big resource is an event worth a line: its cost */
	listed(w, initial ? KUBE_LIST_START : KUBE_LIST_EXPIRED, pages,
	    (long)lc.items, t0);
	update_cached(w);
	rc = 0;
out:
	free(cont);
	kube_error_clear(&err);
	return rc;
}

/* ---- watch ------------------------------------------------------------- */

enum outcome { W_END, W_GONE, W_ERROR, W_STOP };

static void
watch_event(struct kube_watch *w, const char *type, json_t *obj)
{
	const char *uid = meta(obj, "uid"), *rv = meta(obj, "resourceVersion");
	struct centry *e;

	if (strcmp(type, "BOOKMARK") == 0) {
		set_rv(w, rv);
		return;
	}
	if (uid == NULL)
		return;
	if (w->stateless) {	/* an overlap repeats a change: harmless */
		if (strcmp(type, "DELETED") == 0)
			deliver(w, KUBE_DELETED, obj);
		else if (strcmp(type, "ADDED") == 0)
			deliver(w, KUBE_ADDED, obj);
		else if (strcmp(type, "MODIFIED") == 0)
			deliver(w, KUBE_MODIFIED, obj);
		else
			return;
		goto move;
	}
	e = cache_get(w, uid);
	if (strcmp(type, "DELETED") == 0) {
		if (e == NULL)
			goto move;	/* already known as deleted */
		free(cache_del(w, uid));
		deliver(w, KUBE_DELETED, obj);
	} else if (strcmp(type, "ADDED") == 0 ||
	    strcmp(type, "MODIFIED") == 0) {
		if (e && rv && strcmp(centry_rv(e), rv) == 0)
			goto move;	/* delivered already */
		cache_put(w, uid, obj);
		deliver(w, *type == 'A' && e == NULL ? KUBE_ADDED :
		    KUBE_MODIFIED, obj);
	} else
		return;
move:
	set_rv(w, rv);
}

/*
 * A watch event parsed: by the caller's decoder when it has one (its
 * object read as far as the caller keeps it), else whole.  A new
 * reference, or NULL with jerr->text saying why.
 */
static json_t *
event(struct kube_watch *w, const char *p, size_t n, json_error_t *jerr)
{
	static const char *const object[] = { "object", NULL };
	struct kube_decode d = { p, n, 0, object, NULL, 0, NULL };
	json_t *ev;

	if (w->decode == NULL)
		return util_json_loadb(p, n, 0, jerr);
	if ((ev = w->decode(w->decode_ctx, &d)) == NULL)
		snprintf(jerr->text, sizeof jerr->text, "%s", d.why ? d.why :
		    "not JSON");
	return ev;
}

/* One line of the stream: 0 go on, -1 stop reading (an ERROR event). */
static int
watch_line(struct kube_watch *w, const char *p, size_t n)
{
	json_t *ev, *obj;
	json_error_t jerr;
	const char *type;
	struct kube_error err;

	while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' '))
		n--;
	if (n == 0)
		return 0;
	w->got = 1;
	if (w->shorts) {	/* the stream works again */
		w->shorts = 0;
		succeeded(w);
	}
	if ((ev = event(w, p, n, &jerr)) == NULL) {
		free(w->stream_err);
		w->stream_err = xasprintf("watch event is not JSON: %s",
		    jerr.text);
		return -1;
	}
	type = json_string_value(json_object_get(ev, "type"));
	obj = json_object_get(ev, "object");
	if (type && strcmp(type, "ERROR") == 0) {
		char *body = json_dumps(obj, JSON_COMPACT);

		kube_error_init(&err);
		kube_status_parse(0, body, body ? strlen(body) : 0, NULL,
		    &err);
		if (err.status == 410 || (err.reason && (strcmp(err.reason,
		    "Expired") == 0 || strcmp(err.reason, "Gone") == 0)))
			w->gone = 1;
		free(w->stream_err);
		w->stream_err = kube_error_text(&err);
		kube_error_clear(&err);
		free(body);
		json_decref(ev);
		return -1;
	}
	if (type && json_is_object(obj))
		watch_event(w, type, obj);
	json_decref(ev);
	return 0;
}

static int
on_stream(void *arg, const char *p, size_t n)
{
	struct kube_watch *w = arg;
	const char *nl;
	size_t k;

	while (n > 0) {
		if ((nl = memchr(p, '\n', n)) == NULL) {
			if (buf_add(&w->line, p, n) < 0)
				goto too_long;
			return 0;
		}
		k = (size_t)(nl - p);
		if (w->line.len > 0) {
			if (buf_add(&w->line, p, k) < 0)
				goto too_long;
			if (watch_line(w, w->line.data, w->line.len) < 0)
				return -1;
			buf_reset(&w->line);
		} else if (watch_line(w, p, k) < 0)
			return -1;
		p += k + 1;
		n -= k + 1;
	}
	return 0;
too_long:
	free(w->stream_err);
	w->stream_err = xasprintf("watch event larger than %u bytes",
	    KUBE_MAX_EVENT);
	return -1;
}

/*
 * The server took the watch: whatever failed before has recovered, and
 * a watch taken again after the first is a restart (attempts that
 * failed are errors, not restarts).  After streams that ended at once
 * with nothing in them, taking the watch proves nothing: the stream
 * recovers when a line comes (watch_line) or it lasts.
 */
static void
on_open(void *arg)
{
	struct kube_watch *w = arg;

	pthread_mutex_lock(&w->lock);
	if (w->opened)
		w->restarts++;
	w->opened = 1;
	pthread_mutex_unlock(&w->lock);
	if (!w->shorts)
		succeeded(w);
}

static char *
watch_path(struct kube_watch *w, int timeout_s)
{
	struct buf b;
	char *base, *e, rv[32];

	pthread_mutex_lock(&w->lock);
	snprintf(rv, sizeof rv, "%s", w->rv);
	pthread_mutex_unlock(&w->lock);
	base = kube_resource_path(&w->res, w->ns, NULL, NULL);
	buf_init(&b, 0);
	buf_printf(&b, "%s?watch=1&allowWatchBookmarks=true&"
	    "timeoutSeconds=%d", base, timeout_s);
	if (*rv)
		buf_printf(&b, "&resourceVersion=%s", rv);
	if (w->lsel) {
		e = kube_escape(w->lsel);
		buf_printf(&b, "&labelSelector=%s", e);
		free(e);
	}
	if (w->fsel) {
		e = kube_escape(w->fsel);
		buf_printf(&b, "&fieldSelector=%s", e);
		free(e);
	}
	free(base);
	return buf_steal(&b);
}

/*
 * 504 "Too large resource version" (cause ResourceVersionTooLarge): the
 * server's history is behind our resourceVersion (etcd restored from a
 * backup, an API server whose cache lags).  Asked again, it answers the
 * same for as long as that lasts, forever after a restore: like a 410,
 * and as client-go does, the watch lists again and goes on from the
 * list's resourceVersion.
 */
static int
rv_too_large(const struct kube_error *e)
{
	size_t i;

	if (e->status != 504)
		return 0;
	for (i = 0; i < e->ncauses; i++)
		if (e->causes[i].reason && strcmp(e->causes[i].reason,
		    "ResourceVersionTooLarge") == 0)
			return 1;
	return 0;
}

static enum outcome
watch_once(struct kube_watch *w)
{
	struct kube_stream s;
	struct kube_error err;
	char *path, *t;
	long http;
	int timeout_s = w->timeout_s, rc;
	int64_t t0;

	if (timeout_s <= 0)
		timeout_s = 300 + (int)(retry_random() * 300);
	path = watch_path(w, timeout_s);
	memset(&s, 0, sizeof s);
	s.on_data = on_stream;
	s.on_open = on_open;
	s.ctx = w;
	s.stop = &w->stop;
	s.timeout_ms = (long)(timeout_s + 30) * 1000;
	kube_error_init(&err);
	buf_reset(&w->line);
	w->gone = 0;
	w->got = 0;
	free(w->stream_err);
	w->stream_err = NULL;
	t0 = kube_mono_ms();
	rc = kube_stream_get(w->c, path, &s, &http, &err);
	if (atomic_load(&w->stop)) {
		free(path);
		kube_error_clear(&err);
		return W_STOP;
	}
	if (http == 410 || w->gone || rv_too_large(&err)) {
		free(path);
		kube_error_clear(&err);
		return W_GONE;
	}
	/*
	 * A stream that ended cleanly at once with nothing in it (a proxy
	 * that closes watches, a server going away) is a failure, backed off
	 * as client-go's "very short watch" is: taken again at once, it
	 * would be a loop of requests as fast as the server answers.
	 */
	if (rc == 0 && w->stream_err == NULL && !w->got &&
	    kube_mono_ms() - t0 < SHORT_WATCH_MS) {
		w->shorts++;
		w->stream_err = xasprintf("watch %s: the server ended the "
		    "stream at once, with nothing in it", path);
	}
	free(path);
	if (rc == 0 && w->stream_err == NULL) {
		kube_error_clear(&err);
		w->shorts = 0;
		succeeded(w);
		return W_END;
	}
	t = w->stream_err ? xstrdup(w->stream_err) : kube_error_text(&err);
	w->retry_after_s = err.retry_after_s;
	failed(w, t);
	free(t);
	kube_error_clear(&err);
	return W_ERROR;
}

/*
 * A real kube-apiserver keeps no watch cache for events: an events watch
 * gets no bookmarks, and on a quiet cluster a 410 after every etcd
 * compaction (5 minutes by default).  Relisting every Event of the
 * cluster each time would cost more than the watch; events are signals,
 * not state, so the watch resumes from a fresh resourceVersion (a list
 * of one item) and what the gap held is not replayed.
 */
static int
resumes_fresh(const struct kube_watch *w)
{
	return strcmp(w->res.resource, "events") == 0;
}

/*
 * The list of one an events watch resumes from: 0, or -1 after telling
 * the failure (the caller backs off and asks again: falling back to a
 * full list would deliver the gap's events as new ones).
 */
static int
resume_fresh(struct kube_watch *w)
{
	struct kube_error err;
	json_t *one;
	const char *rv;
	char *t;
	int64_t t0 = kube_mono_ms();
	int rc = -1;

	kube_error_init(&err);
	one = kube_list(w->c, &w->res, w->ns, w->lsel, w->fsel, 1, NULL,
	    &w->stop, &err);
	rv = json_string_value(json_object_get(json_object_get(one,
	    "metadata"), "resourceVersion"));
	if (rv && *rv) {
		set_rv(w, rv);
		listed(w, KUBE_LIST_RESUME, 1, (long)json_array_size(
		    json_object_get(one, "items")), t0);
		rc = 0;
	} else if (!atomic_load(&w->stop)) {
		t = one ? xstrdup("the list to resume the watch from has no "
		    "resourceVersion") : kube_error_text(&err);
		w->retry_after_s = err.retry_after_s;
		failed(w, t);
		free(t);
	}
	json_decref(one);
	kube_error_clear(&err);
	return rc;
}

/*
 * Capped at 3 s: after a long outage the watch is back within a few
 * seconds of the server (a 30 s cap left the view stale up to 45 s), and
 * one request per watch every 3-4.5 s does not load a recovering server.
 * But a server that answered 429 or 503 with Retry-After (API Priority
 * and Fairness, a server shutting down) is not asked again sooner, as
 * client-go does not: the wait is at least what it said, up to
 * MAX_RETRY_AFTER_MS.
 */
static void
backoff(struct kube_watch *w)
{
	static const struct retry r = { 1000, 500, 2.0, 0.5, 3000, 0 };
	int64_t wait = retry_honour_after(retry_delay(&r, fail_count(w) + 1,
	    retry_random()), w->retry_after_s, MAX_RETRY_AFTER_MS);

	w->retry_after_s = -1;
	(void)retry_wait(wait, &w->stop);
}

static void *
run(void *arg)
{
	struct kube_watch *w = arg;
	int need_list = 1, need_resume = 0;
	enum outcome o;

	while (!atomic_load(&w->stop)) {
		if (need_list) {
			int initial;

			pthread_mutex_lock(&w->lock);
			initial = !w->synced;
			pthread_mutex_unlock(&w->lock);
			if (list_all(w, initial) < 0) {
				backoff(w);
				continue;
			}
			need_list = 0;
			pthread_mutex_lock(&w->lock);
			if (!initial)
				w->relists++;
			w->synced = 1;
			pthread_cond_broadcast(&w->cond);
			pthread_mutex_unlock(&w->lock);
			succeeded(w);
		}
		if (need_resume) {
			if (resume_fresh(w) < 0) {
				backoff(w);
				continue;
			}
			need_resume = 0;
		}
		o = watch_once(w);
		if (o == W_GONE && resumes_fresh(w))
			need_resume = 1;
		else if (o == W_GONE)
			need_list = 1;
		else if (o == W_ERROR)
			backoff(w);
	}
	atomic_store(&w->ended, 1);
	pthread_mutex_lock(&w->lock);
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static char *
dup_or_null(const char *s)
{
	return s && *s ? xstrdup(s) : NULL;
}

/* Frees w and all it holds: its thread never started, or is joined. */
static void
watch_free(struct kube_watch *w)
{
	cache_clear(w);
	buf_free(&w->line);
	kube_resource_clear(&w->res);
	free(w->ns);
	free(w->lsel);
	free(w->fsel);
	free(w->api_version);
	free(w->kind);
	free(w->stream_err);
	free(w->last_error);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	w->magic = 0;
	free(w);
}

struct kube_watch *
kube_watch_start(struct kube_client *c, const struct kube_watch_spec *sp,
    kube_watch_fn *fn, void *ctx, char **err)
{
	struct kube_watch *w;

	*err = NULL;
	if (sp->version == NULL || sp->resource == NULL || fn == NULL) {
		*err = xstrdup("watch: version, resource and a callback are "
		    "required");
		return NULL;
	}
	w = xcalloc(1, sizeof *w);
	w->magic = WATCH_MAGIC;
	w->c = c;
	w->res.group = xstrdup(sp->group ? sp->group : "");
	w->res.version = xstrdup(sp->version);
	w->res.resource = xstrdup(sp->resource);
	w->res.kind = xstrdup("");
	w->res.namespaced = sp->namespace && *sp->namespace;
	w->ns = dup_or_null(sp->namespace);
	w->lsel = dup_or_null(sp->label_selector);
	w->fsel = dup_or_null(sp->field_selector);
	w->page_limit = sp->page_limit > 0 ? sp->page_limit : DEFAULT_PAGE;
	w->timeout_s = sp->timeout_s;
	w->stateless = sp->stateless;
	w->retry_after_s = -1;
	w->decode = sp->decode;
	w->decode_ctx = sp->decode_ctx;
	w->fn = fn;
	w->ctx = ctx;
	w->on_error = sp->on_error;
	w->on_list = sp->on_list;
	w->api_version = *w->res.group ? xasprintf("%s/%s", w->res.group,
	    w->res.version) : xstrdup(w->res.version);
	memset(&w->cache, 0, sizeof w->cache);
	buf_init(&w->line, KUBE_MAX_EVENT);
	atomic_init(&w->stop, 0);
	atomic_init(&w->ended, 0);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	if (pthread_create(&w->thread, NULL, run, w) != 0) {
		*err = xstrdup("watch: cannot create a thread");
		watch_free(w);		/* no thread to join */
		return NULL;
	}
	return w;
}

void
kube_watch_cancel(struct kube_watch *w)
{
	if (w == NULL)
		return;
	if (w->magic != WATCH_MAGIC)
		abort();
	atomic_store(&w->stop, 1);
}

int
kube_watch_ended(struct kube_watch *w)
{
	if (w == NULL)
		return 1;
	if (w->magic != WATCH_MAGIC)
		abort();
	return atomic_load(&w->ended);
}

void
kube_watch_stop(struct kube_watch *w)
{
	if (w == NULL)
		return;
	kube_watch_cancel(w);
	pthread_join(w->thread, NULL);
	watch_free(w);
}
