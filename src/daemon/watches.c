/*
 * The daemon's watches: one per resource source and the cluster view's
 * own, each a kube watch on its own thread pushing into the queue.
 *
 * A reload changes the set: a watch whose spec is unchanged keeps running
 * (its resourceVersion, its thread, nothing relisted), a new one starts,
 * one no longer wanted is retired.  Queue items name their watch by a
 * serial id, never by a source index, so an item queued before the
 * reload is delivered to the source's new index, and one from a retired
 * watch is dropped: ids are never reused.  Retired watches are stopped on
 * a thread of their own, since a watch thread may be waiting for room in
 * the queue that only the engine thread makes.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon_int.h"
#include "engine/engine.h"
#include "cluster/cluster.h"
#include "kube/kube.h"
#include "metrics/metrics.h"

#define WATCH_MAGIC	0x57415443u	/* "WATC" */
#define VIEW_PAGE	100	/* items a list page of the view's kinds */

/*
 * Runs on a watch's thread: frees what the engine gave back.  The swap
 * keeps both arrays, so neither side allocates once they have grown.
 */
static void
free_spent(struct watch_ctx *w)
{
	struct watch_spent t;
	size_t i;

	pthread_mutex_lock(&w->spent_mu);
	t = w->spent;
	w->spent = w->freeing;
	pthread_mutex_unlock(&w->spent_mu);
	for (i = 0; i < t.n; i++)
		json_decref(t.v[i]);
	t.n = 0;
	w->freeing = t;
}

/*
 * glibc's malloc serves a thread from an arena of its own, and a chunk
 * goes back to the arena it came from, under that arena's lock.  A watch
 * thread builds every object it delivers; freed on the engine thread,
 * each node of each one took the watch arena's lock while the watch
 * thread allocated the next, and the two threads spent their time
 * handing that lock back and forth: a 100,000-pod sync took 7.6-11.4 s
 * of CPU, against 3.0-4.7 s with an allocator without the lock
 * (bench/scale, docs/kubernetes.md).  Freed here, on the thread that
 * allocated them, the nodes never cross.  The view's watches only: what
 * they queue is small and at most VIEW_IN_FLIGHT objects at a time, so
 * what waits for the next event is too; a source's whole objects (~60 KB
 * each as trees) go as soon as the engine is done with them.
 */
void
daemon_watch_give_back(struct daemon *d, struct dq_item *it)
{
	struct watch_ctx *w;
	struct watch_spent *s;

	if (it->obj == NULL || (it->kind != DQ_SYNC && it->kind != DQ_WATCH) ||
	    (w = daemon_watch_find(d, it->watch_id)) == NULL || !w->view)
		return;
	pthread_mutex_lock(&w->spent_mu);
	s = &w->spent;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->v = xrealloc(s->v, s->cap * sizeof *s->v);
	}
	s->v[s->n++] = it->obj;
	pthread_mutex_unlock(&w->spent_mu);
	it->obj = NULL;
}

/* Runs on a watch's thread: hands the change to the engine thread. */
static void
on_watch(void *ctx, enum kube_event_type t, json_t *obj)
{
	struct watch_ctx *w = ctx;
	struct dq_item it;

	if (w->magic != WATCH_MAGIC)
		abort();
	free_spent(w);
	if (atomic_load(&w->retired))
		return;		/* replaced by a reload */
	memset(&it, 0, sizeof it);
	it.kind = t == KUBE_SYNC ? DQ_SYNC : t == KUBE_RELIST_BEGIN ||
	    t == KUBE_RELIST_END ? DQ_RELIST : DQ_WATCH;
	it.watch = t == KUBE_ADDED || t == KUBE_RELIST_BEGIN ? SIG_ADD :
	    t == KUBE_MODIFIED ? SIG_UPDATE : SIG_DELETE;
	/*
	 * The view's own watches queue only what the view keeps: a queue of
	 * whole Pods as a real server serves them (~60 KB each as trees)
	 * would cost more than the whole view.  view_decode read them so
	 * already; their metadata.resourceVersion, kept for the watch, the
	 * view's put leaves out (it is not in cluster_project's list), so no
	 * second projection here.  Sources get whole objects.  Shared with
	 * the watch's thread, which reads it after this returns: nobody
	 * changes a delivered object.
	 */
	it.obj = json_incref(obj);
	it.watch_id = w->id;
	if ((w->view ? dq_push_below(w->q, &it, VIEW_IN_FLIGHT) :
	    dq_push(w->q, &it, 1)) == -1)	/* closed: shutting down */
		dq_item_clear(&it);
}

/*
 * Runs on a view watch's thread: an event or a list item read straight
 * to the view's projection (cluster_decode), never a whole tree of a Pod
 * as a real server serves it; metadata.resourceVersion is kept for the
 * watch (the view's put leaves it out).  An ERROR's Status is a
 * kind the view keeps whole: read whole.
 */
static json_t *
view_decode(void *ctx, struct kube_decode *kd)
{
	struct cluster_decode_opts o = { .path = kd->path,
	    .flags = kd->flags, .kind = kd->kind,
	    .keep = CLUSTER_DECODE_RESOURCE_VERSION };
	struct cluster_decode_result r;
	json_t *v;

	(void)ctx;
	if ((v = cluster_decode(kd->text, kd->len, &o, &r)) == NULL)
		kd->why = r.reason;
	kd->end = r.end;
	return v;
}

/* Runs on a watch's thread: every failure, and the recovery, logged. */
static void
on_watch_error(void *ctx, const char *error)
{
	struct watch_ctx *w = ctx;

	if (error)
		util_log_json("warn", "watch failing", json_pack("{s:s, s:s, "
		    "s:s}", "group", w->group, "resource", w->resource,
		    "error", error));
	else
		util_log_json("info", "watch recovered", json_pack("{s:s, s:s}",
		    "group", w->group, "resource", w->resource));
}

/* Runs on a watch's thread: what each list cost, as metrics. */
static void
on_watch_list(void *ctx, const struct kube_list_report *r)
{
	struct watch_ctx *w = ctx;

	metrics_watch_list(w->resource, kube_list_cause_name(r->cause),
	    r->pages, (double)r->ms / 1000.0);
}

static void
ctx_free(struct watch_ctx *w)
{
	if (w == NULL)
		return;
	kube_watch_stop(w->watch);
	free_spent(w);		/* its thread is joined: no other taker */
	free(w->spent.v);
	free(w->freeing.v);
	pthread_mutex_destroy(&w->spent_mu);
	sig_watch_clear(&w->spec);
	free(w->group);
	free(w->resource);
	w->magic = 0;
	free(w);
}

/* Starts spec (taking its selectors); NULL logged when it cannot. */
static struct watch_ctx *
start_one(struct daemon *d, struct sig_watch *spec)
{
	struct watch_ctx *w = xcalloc(1, sizeof *w);
	struct kube_watch_spec ks;
	char *err = NULL;

	w->magic = WATCH_MAGIC;
	pthread_mutex_init(&w->spent_mu, NULL);
	w->q = d->q;
	w->id = ++d->watch_ids;
	w->spec = *spec;
	memset(spec, 0, sizeof *spec);
	w->group = xstrdup(w->spec.group ? w->spec.group : "");
	w->resource = xstrdup(w->spec.resource ? w->spec.resource : "");
	memset(&ks, 0, sizeof ks);
	ks.group = w->spec.group;
	ks.version = w->spec.version;
	ks.resource = w->spec.resource;
	ks.namespace = w->spec.namespace;
	ks.label_selector = w->spec.label_selector;
	ks.field_selector = w->spec.field_selector;
	ks.on_error = on_watch_error;
	ks.on_list = on_watch_list;
	w->view = w->spec.source < 0;
	ks.stateless = w->view;		/* the view keeps what it needs */
	if (w->view)
		ks.decode = view_decode;
	/*
	 * A list page is held whole while its items are parsed: 500 pods
	 * as a real server serves them are 2.4 MB on top of the view, the
	 * peak of a 100,000-pod sync.  100 a page costs more requests and
	 * no measurable sync time.
	 */
	ks.page_limit = w->view ? VIEW_PAGE : 0;
	if ((w->watch = kube_watch_start(d->kube, &ks, on_watch, w,
	    &err)) == NULL) {
		util_log_json("error", "cannot start watch", json_pack("{s:s, "
		    "s:s}", "resource", w->resource, "error", err ? err :
		    "?"));
		free(err);
		ctx_free(w);
		return NULL;
	}
	util_log_json("info", "watching", json_pack("{s:s, s:s, s:s?, s:s?, "
	    "s:s?}", "group", ks.group, "resource", ks.resource, "namespace",
	    ks.namespace, "labelSelector", ks.label_selector, "fieldSelector",
	    ks.field_selector));
	return w;
}

int
daemon_watches_start(struct daemon *d)
{
	struct sig_watch *specs;
	size_t i, n = engine_watches(d->engine, &specs);
	int rc = 0;

	d->wctx = xcalloc(n ? n : 1, sizeof *d->wctx);
	for (i = 0; i < n; i++) {
		if (rc == 0 && (d->wctx[d->nwatches] = start_one(d,
		    &specs[i])) != NULL)
			d->nwatches++;
		else
			rc = -1;
		sig_watch_clear(&specs[i]);
	}
	free(specs);
	return rc;
}

/* The same watch, delivering to the same source (by name)? */
static int
same_watch(const struct sig_watch *a, const struct sig_watch *b)
{
	return (a->source < 0) == (b->source < 0) &&
	    util_same_str(a->eventsource, b->eventsource) &&
	    util_same_str(a->name, b->name) &&
	    util_same_str(a->group, b->group) &&
	    util_same_str(a->version, b->version) &&
	    util_same_str(a->resource, b->resource) &&
	    util_same_str(a->namespace, b->namespace) &&
	    util_same_str(a->label_selector, b->label_selector) &&
	    util_same_str(a->field_selector, b->field_selector);
}

static void *
reap(void *arg)
{
	struct watch_ctx **old = arg;
	size_t i;

	for (i = 0; old[i]; i++)
		ctx_free(old[i]);
	free(old);
	return NULL;
}

/* Stops the retired watches on a thread joined at shutdown. */
static void
retire(struct daemon *d, struct watch_ctx **old)
{
	pthread_t t;

	if (old[0] == NULL) {
		free(old);
		return;
	}
	if (pthread_create(&t, NULL, reap, old) != 0) {
		util_log_json("warn", "retired watches kept until exit", NULL);
		d->reaped = xrealloc(d->reaped, (d->nreaped + 1) *
		    sizeof *d->reaped);
		d->reaped[d->nreaped++] = old;
		return;
	}
	d->reapers = xrealloc(d->reapers, (d->nreapers + 1) *
	    sizeof *d->reapers);
	d->reapers[d->nreapers++] = t;
}

void
daemon_watches_update(struct daemon *d, struct engine *next)
{
	struct sig_watch *specs;
	size_t i, j, n = engine_watches(next, &specs), nold = 0;
	struct watch_ctx **now = xcalloc(n ? n : 1, sizeof *now), *w;
	struct watch_ctx **old = xcalloc(d->nwatches + 1, sizeof *old);
	size_t k = 0;

	for (i = 0; i < n; i++) {
		for (j = 0, w = NULL; j < d->nwatches && w == NULL; j++)
			if (d->wctx[j] && same_watch(&d->wctx[j]->spec,
			    &specs[i])) {
				w = d->wctx[j];
				d->wctx[j] = NULL;
			}
		if (w) {	/* kept: the new engine's strings and index */
			sig_watch_clear(&w->spec);
			w->spec = specs[i];
			memset(&specs[i], 0, sizeof specs[i]);
		} else
			w = start_one(d, &specs[i]);
		if (w)
			now[k++] = w;
		sig_watch_clear(&specs[i]);
	}
	for (j = 0; j < d->nwatches; j++)
		if ((w = d->wctx[j]) != NULL) {
			atomic_store(&w->retired, 1);
			util_log_json("info", "stopped watching", json_pack(
			    "{s:s, s:s}", "group", w->group, "resource",
			    w->resource));
			old[nold++] = w;
		}
	free(specs);
	pthread_mutex_lock(&d->watch_mu);
	free(d->wctx);
	d->wctx = now;
	d->nwatches = k;
	pthread_mutex_unlock(&d->watch_mu);
	retire(d, old);
}

struct watch_ctx *
daemon_watch_find(struct daemon *d, unsigned id)
{
	size_t i;

	for (i = 0; i < d->nwatches; i++)
		if (d->wctx[i]->id == id)
			return d->wctx[i];
	return NULL;
}

void
daemon_watches_cancel(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->nwatches; i++)
		kube_watch_cancel(d->wctx[i]->watch);
}

int
daemon_watches_ended(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->nwatches; i++)
		if (!kube_watch_ended(d->wctx[i]->watch))
			return 0;
	return 1;
}

void
daemon_watches_stop(struct daemon *d)
{
	size_t i, j;

	dq_close(d->q);		/* unblock watch threads waiting for room */
	daemon_watches_cancel(d);
	for (i = 0; i < d->nreapers; i++)
		pthread_join(d->reapers[i], NULL);
	free(d->reapers);
	for (i = 0; i < d->nreaped; i++) {
		for (j = 0; d->reaped[i][j]; j++)
			ctx_free(d->reaped[i][j]);
		free(d->reaped[i]);
	}
	free(d->reaped);
	for (i = 0; i < d->nwatches; i++)
		ctx_free(d->wctx[i]);
	free(d->wctx);
	d->wctx = NULL;
	d->nwatches = 0;
}
