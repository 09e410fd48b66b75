/*
 * List+watch, as client-go's reflector does it, in a thread per watch.
 *
 *   list (paginated) -> KUBE_SYNC per object, remember uid -> rv
 *   watch from the list's resourceVersion, with bookmarks; each event
 *     moves the resourceVersion on
 *   the stream ends (timeoutSeconds): watch again from where we were
 *   the stream drops or the server fails: back off (exponential, with
 *     jitter, capped) and watch again from where we were
 *   410 Gone (HTTP, or an ERROR event inside the stream: our
 *     resourceVersion fell out of the server's window): list again and
 *     deliver only what differs from what we delivered before (ADDED,
 *     MODIFIED, DELETED): a restarted watch does not replay every object
 *     as new, and a deletion during the gap is not lost.
 *
 * Events already delivered (same uid and resourceVersion) are dropped, so
 * a resume that overlaps does not duplicate a change.  The cache holds
 * only uid, resourceVersion, name and namespace: cheap for 100,000 pods.
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
#define DELETED_UNKNOWN		"remediate.dev/deleted-final-state-unknown"

/* What the cache keeps per object: "rv\0name\0namespace\0" in one block. */
struct centry {
	size_t	name_off, ns_off;
	char	data[];
};

struct kube_watch {
	unsigned		 magic;
	struct kube_client	*c;
	struct kube_resource	 res;		/* owned */
	char			*ns, *lsel, *fsel;	/* owned, may be NULL */
	long			 page_limit;
	int			 timeout_s;
	kube_watch_fn		*fn;
	void			*ctx;
	void			(*on_error)(void *, const char *);
	char			*api_version;	/* owned: "apps/v1", "v1" */
	char			*kind;		/* owned, from the list */

	pthread_t		 thread;
	atomic_int		 stop;

	/* the thread's own: no lock */
	struct map		 cache;		/* uid -> struct centry */
	struct buf		 line;		/* partial watch line */
	int			 gone;		/* 410 seen in the stream */
	char			*stream_err;	/* owned: why we aborted */
	int			 reported;	/* failure told on_error */

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
	}
	return "?";
}

/* ---- status ------------------------------------------------------------ */

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

static struct centry *
centry_new(const char *rv, const char *name, const char *ns)
{
	size_t a = strlen(rv) + 1, b = strlen(name) + 1, n = strlen(ns) + 1;
	struct centry *e = xmalloc(sizeof *e + a + b + n);

	memcpy(e->data, rv, a);
	memcpy(e->data + a, name, b);
	memcpy(e->data + a + b, ns, n);
	e->name_off = a;
	e->ns_off = a + b;
	return e;
}

static void
cache_put(struct kube_watch *w, const char *uid, json_t *obj)
{
	const char *rv = meta(obj, "resourceVersion");
	const char *name = meta(obj, "name"), *ns = meta(obj, "namespace");

	free(map_put(&w->cache, uid, centry_new(rv ? rv : "", name ? name :
	    "", ns ? ns : "")));
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
deleted_stub(struct kube_watch *w, const char *uid, const struct centry *e)
{
	json_t *md = json_pack("{s:s, s:s, s:s, s:{s:s}}", "name",
	    e->data + e->name_off, "uid", uid, "resourceVersion", e->data,
	    "annotations", DELETED_UNKNOWN, "true");

	if (e->data[e->ns_off])
		json_object_set_new(md, "namespace", json_string(e->data +
		    e->ns_off));
	return json_pack("{s:s, s:s, s:o}", "apiVersion", w->api_version,
	    "kind", w->kind ? w->kind : "", "metadata", md);
}

/* ---- list -------------------------------------------------------------- */

/* The uids the relist did not see: deleted while we were away. */
struct sweep {
	struct map	 *seen;
	char		**gone;		/* owned uids */
	size_t		  n, cap;
};

static int
find_gone(void *arg, const char *uid, void *value)
{
	struct sweep *s = arg;

	(void)value;
	if (map_get(s->seen, uid) == NULL) {
		xgrow(&s->gone, &s->cap, s->n + 1, sizeof *s->gone);
		s->gone[s->n++] = xstrdup(uid);
	}
	return 0;
}

static void
deliver_gone(struct kube_watch *w, struct map *seen)
{
	struct sweep s = { seen, NULL, 0, 0 };
	struct centry *e;
	json_t *stub;
	size_t i;

	map_each(&w->cache, find_gone, &s);
	for (i = 0; i < s.n; i++) {
		if ((e = map_del(&w->cache, s.gone[i])) != NULL) {
			stub = deleted_stub(w, s.gone[i], e);
			deliver(w, KUBE_DELETED, stub);
			json_decref(stub);
			free(e);
		}
		free(s.gone[i]);
	}
	free(s.gone);
}

/* One item of a list: SYNC on the first list, else the difference. */
static void
list_item(struct kube_watch *w, json_t *it, int initial, struct map *seen)
{
	const char *uid = meta(it, "uid"), *rv = meta(it, "resourceVersion");
	struct centry *e;

	if (uid == NULL)
		return;
	map_put(seen, uid, (void *)1);
	e = map_get(&w->cache, uid);
	if (e && rv && strcmp(e->data, rv) == 0)
		return;		/* delivered already, unchanged */
	cache_put(w, uid, it);
	deliver(w, initial ? KUBE_SYNC : e ? KUBE_MODIFIED : KUBE_ADDED, it);
}

static int
list_all(struct kube_watch *w, int initial)
{
	struct kube_error err;
	struct map seen;
	json_t *list, *it;
	char *cont = NULL;
	const char *lk, *next;
	size_t i;
	int rc = -1;

	kube_error_init(&err);
	map_init(&seen);
	for (;;) {
		if (atomic_load(&w->stop))
			goto out;
		list = kube_list(w->c, &w->res, w->ns, w->lsel, w->fsel,
		    w->page_limit, cont, &w->stop, &err);
		if (list == NULL && err.status == 410 && cont) {
			/* the continue token expired: start over */
			free(cont);
			cont = NULL;
			continue;
		}
		if (list == NULL && atomic_load(&w->stop))
			goto out;	/* told to stop: not a failure */
		if (list == NULL) {
			char *t = kube_error_text(&err);

			failed(w, t);
			free(t);
			goto out;
		}
		lk = json_string_value(json_object_get(list, "kind"));
		if (w->kind == NULL && lk && strlen(lk) > 4)
			w->kind = xstrndup(lk, strlen(lk) - 4);
		json_array_foreach(json_object_get(list, "items"), i, it)
			list_item(w, it, initial, &seen);
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
	if (!initial)
		deliver_gone(w, &seen);
	update_cached(w);
	rc = 0;
out:
	free(cont);
	map_clear(&seen, NULL);
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
	e = map_get(&w->cache, uid);
	if (strcmp(type, "DELETED") == 0) {
		if (e == NULL)
			goto move;	/* already known as deleted */
		free(map_del(&w->cache, uid));
		deliver(w, KUBE_DELETED, obj);
	} else if (strcmp(type, "ADDED") == 0 ||
	    strcmp(type, "MODIFIED") == 0) {
		if (e && rv && strcmp(e->data, rv) == 0)
			goto move;	/* delivered already */
		cache_put(w, uid, obj);
		deliver(w, *type == 'A' && e == NULL ? KUBE_ADDED :
		    KUBE_MODIFIED, obj);
	} else
		return;
move:
	set_rv(w, rv);
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
	if ((ev = json_loadb(p, n, 0, &jerr)) == NULL) {
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

/* The server took the watch: whatever failed before has recovered. */
static void
on_open(void *arg)
{
	succeeded(arg);
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

static enum outcome
watch_once(struct kube_watch *w)
{
	struct kube_stream s;
	struct kube_error err;
	char *path, *t;
	long http;
	int timeout_s = w->timeout_s, rc;

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
	free(w->stream_err);
	w->stream_err = NULL;
	rc = kube_stream_get(w->c, path, &s, &http, &err);
	free(path);
	if (atomic_load(&w->stop)) {
		kube_error_clear(&err);
		return W_STOP;
	}
	if (http == 410 || w->gone) {
		kube_error_clear(&err);
		return W_GONE;
	}
	if (rc == 0 && w->stream_err == NULL) {
		kube_error_clear(&err);
		succeeded(w);
		return W_END;
	}
	t = w->stream_err ? xstrdup(w->stream_err) : kube_error_text(&err);
	failed(w, t);
	free(t);
	kube_error_clear(&err);
	return W_ERROR;
}

static void
backoff(struct kube_watch *w)
{
	static const struct retry r = { 1000, 500, 2.0, 0.5, 30000 };
	int n = fail_count(w);

	kube_sleep_ms(retry_delay(&r, n + 1, retry_random()), &w->stop);
}

static void *
run(void *arg)
{
	struct kube_watch *w = arg;
	int need_list = 1, watched = 0;
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
		if (watched++) {
			pthread_mutex_lock(&w->lock);
			w->restarts++;
			pthread_mutex_unlock(&w->lock);
		}
		o = watch_once(w);
		if (o == W_GONE)
			need_list = 1;
		else if (o == W_ERROR)
			backoff(w);
	}
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
	w->fn = fn;
	w->ctx = ctx;
	w->on_error = sp->on_error;
	w->api_version = *w->res.group ? xasprintf("%s/%s", w->res.group,
	    w->res.version) : xstrdup(w->res.version);
	map_init(&w->cache);
	buf_init(&w->line, KUBE_MAX_EVENT);
	atomic_init(&w->stop, 0);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	if (pthread_create(&w->thread, NULL, run, w) != 0) {
		*err = xstrdup("watch: cannot create a thread");
		w->thread = pthread_self();	/* nothing to join */
		atomic_store(&w->stop, 1);
		w->magic = 0;
		/* free without join */
		map_clear(&w->cache, NULL);
		buf_free(&w->line);
		kube_resource_clear(&w->res);
		free(w->ns);
		free(w->lsel);
		free(w->fsel);
		free(w->api_version);
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->cond);
		free(w);
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

void
kube_watch_stop(struct kube_watch *w)
{
	if (w == NULL)
		return;
	kube_watch_cancel(w);
	pthread_join(w->thread, NULL);
	map_clear(&w->cache, free);
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
