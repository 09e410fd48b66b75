/*
 * Moving signals: a cluster change updates the cluster view first (so
 * guardrails and policies see the world the signal describes), then feeds
 * the OOM detector and the resource sources; every event goes to every
 * sensor, and every trigger fire to decide.c.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

struct fire_ctx {
	struct engine		*e;
	struct engine_sensor	*es;
};

static void
on_fire(void *ctx, const struct sensor_fire *f)
{
	struct fire_ctx *fc = ctx;
	size_t i;

	for (i = 0; i < fc->es->ntriggers; i++)
		if (sensor_trigger(fc->es->sensor, i) == f->trigger) {
			engine_decide(fc->e, fc->es, &fc->es->triggers[i], f);
			return;
		}
}

static void
dispatch(struct engine *e, struct event *ev)
{
	size_t i;

	e->stats.signals++;
	engine_inputs_begin(e, ev);
	for (i = 0; i < e->nsensors; i++) {
		struct fire_ctx fc = { e, &e->sensors[i] };

		if (sensor_feed(e->sensors[i].sensor, ev, e->now, on_fire,
		    &fc) == SENSOR_FILTERED)
			e->stats.filtered++;
	}
	engine_inputs_end(e);
}

static void
on_event(void *ctx, struct event *ev)
{
	dispatch(ctx, ev);
}

void
engine_signal(struct engine *e, struct event *ev)
{
	e->now = clock_now(e->opts.clock);
	engine_reuse_sweep(e);
	dispatch(e, ev);
}

/*
 * Events are signals, not state: keeping every Event of a cluster in the
 * view would grow without bound and no guardrail reads them.
 */
static int
kept_in_view(json_t *obj)
{
	const char *k = obj_kind(obj);

	return k == NULL || strcmp(k, "Event") != 0;
}

static int
is_pod(json_t *obj)
{
	const char *k = obj_kind(obj);

	return k && strcmp(k, "Pod") == 0;
}

/*
 * Updates the view; returns what the OOM detector compares of the
 * previous object (owned: its container statuses, see
 * cluster_put_statuses) when it will look, else NULL.
 */
static json_t *
update_view(struct engine *e, enum sig_watch_type t, json_t *obj)
{
	json_t *old = NULL;
	int compare = e->detect_oom && t == SIG_UPDATE && is_pod(obj);

	if (!kept_in_view(obj))
		return NULL;	/* routed, never stored */
	if (t == SIG_DELETE) {
		const char *kind = obj_kind(obj), *name = obj_name(obj);

		if (kind && name)
			json_decref(cluster_remove(e->opts.cluster, kind,
			    obj_namespace(obj), name));
	} else
		cluster_put_statuses(e->opts.cluster, obj, compare ? &old :
		    NULL);
	return old;
}

/* New OOM kills in a Pod update, as Events to the sources. */
static void
detect_oom(struct engine *e, enum sig_watch_type t, json_t *obj,
    json_t *old)
{
	json_t *kills, *ev;
	size_t i;

	if (!e->detect_oom || t != SIG_UPDATE || !is_pod(obj))
		return;
	kills = sig_oom_detect(old, obj);
	json_array_foreach(kills, i, ev)
		sig_route_watch(e->sources, SIG_ADD, ev, e->now, on_event, e);
	json_decref(kills);
}

const char *
engine_source_type(const struct engine *e, const char *eventsource,
    const char *name)
{
	const struct sig_source *s;
	size_t i;

	for (i = 0; i < sig_set_count(e->sources); i++) {
		s = sig_set_get(e->sources, i);
		if (strcmp(sig_source_eventsource(s), eventsource) == 0 &&
		    strcmp(sig_source_name(s), name) == 0)
			return sig_type_name(sig_source_type(s));
	}
	return NULL;
}

void
engine_watch(struct engine *e, enum sig_watch_type t, json_t *obj)
{
	json_t *old;

	e->now = clock_now(e->opts.clock);
	engine_reuse_sweep(e);	/* a storm's answers go soon after it */
	old = update_view(e, t, obj);
	sig_route_watch(e->sources, t, obj, e->now, on_event, e);
	detect_oom(e, t, obj, old);
	json_decref(old);
}

void
engine_watch_view(struct engine *e, enum sig_watch_type t, json_t *obj)
{
	json_t *old;

	e->now = clock_now(e->opts.clock);
	engine_reuse_sweep(e);	/* a storm's answers go soon after it */
	old = update_view(e, t, obj);
	detect_oom(e, t, obj, old);
	json_decref(old);
}

void
engine_watch_standby(struct engine *e, enum sig_watch_type t, json_t *obj)
{
	json_decref(update_view(e, t, obj));
}

void
engine_watch_source(struct engine *e, size_t i, enum sig_watch_type t,
    json_t *obj)
{
	e->now = clock_now(e->opts.clock);
	sig_route_watch_one(e->sources, i, t, obj, e->now, on_event, e);
}

void
engine_sync(struct engine *e, json_t *obj)
{
	if (kept_in_view(obj))
		cluster_put(e->opts.cluster, obj, NULL);
}

/*
 * What the cluster view watches: Pods and the controllers that own them
 * (and Nodes, see needs_nodes).
 */
static const struct {
	const char	*group, *version, *resource;
} view_resources[] = {
	{ "", "v1", "pods" },
	{ "apps", "v1", "replicasets" },
	{ "apps", "v1", "deployments" },
	{ "apps", "v1", "statefulsets" },
	{ "apps", "v1", "daemonsets" },
	{ "batch", "v1", "jobs" },
};

/*
 * Nodes, for maxClusterImpact by memory, only when an action adds memory
 * requests (bumpMemory): the others need no cluster-scoped permission.
 */
static int
needs_nodes(const struct engine *e)
{
	const struct sensor_trigger *t;
	size_t i, k;

	for (i = 0; i < e->nsensors; i++)
		for (k = 0; k < e->sensors[i].ntriggers; k++) {
			t = sensor_trigger(e->sensors[i].sensor, k);
			if (t->kind == TRIGGER_REMEDIATE &&
			    json_object_get(t->tmpl, "bumpMemory"))
				return 1;
		}
	return 0;
}

/* Appends one of the cluster view's watches (source -1) at v[n]. */
static size_t
add_view_watch(struct sig_watch **v, size_t *cap, size_t n,
    const char *group, const char *version, const char *resource)
{
	xgrow(v, cap, n + 1, sizeof **v);
	memset(&(*v)[n], 0, sizeof (*v)[n]);
	(*v)[n].source = -1;
	(*v)[n].group = group;
	(*v)[n].version = version;
	(*v)[n].resource = resource;
	return n + 1;
}

size_t
engine_watches(const struct engine *e, struct sig_watch **out)
{
	size_t i, n = 0, cap = 0;
	struct sig_watch *v = NULL;

	for (i = 0; i < sig_set_count(e->sources); i++) {
		xgrow(&v, &cap, n + 1, sizeof *v);
		if (sig_source_watch(sig_set_get(e->sources, i), &v[n]) == 0) {
			v[n].source = (int)i;
			n++;
		}
	}
	for (i = 0; i < UTIL_ARRAY_LEN(view_resources); i++)
		n = add_view_watch(&v, &cap, n, view_resources[i].group,
		    view_resources[i].version, view_resources[i].resource);
	if (needs_nodes(e))
		n = add_view_watch(&v, &cap, n, "", "v1", "nodes");
	*out = v;
	return n;
}
