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
	for (i = 0; i < e->nsensors; i++) {
		struct fire_ctx fc = { e, &e->sensors[i] };

		if (sensor_feed(e->sensors[i].sensor, ev, e->now, on_fire,
		    &fc) == SENSOR_FILTERED)
			e->stats.filtered++;
	}
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
	dispatch(e, ev);
}

static int
is_pod(json_t *obj)
{
	const char *k = obj_kind(obj);

	return k && strcmp(k, "Pod") == 0;
}

void
engine_watch(struct engine *e, enum sig_watch_type t, json_t *obj)
{
	json_t *old = NULL, *kills = NULL, *ev;
	size_t i;

	e->now = clock_now(e->opts.clock);
	if (t == SIG_DELETE) {
		const char *kind = obj_kind(obj), *name = obj_name(obj);

		if (kind && name)
			json_decref(cluster_remove(e->opts.cluster, kind,
			    obj_namespace(obj), name));
	} else
		cluster_put(e->opts.cluster, obj, &old);
	if (e->detect_oom && t == SIG_UPDATE && is_pod(obj))
		kills = sig_oom_detect(old, obj);
	json_decref(old);
	sig_route_watch(e->sources, t, obj, e->now, on_event, e);
	json_array_foreach(kills, i, ev)
		sig_route_watch(e->sources, SIG_ADD, ev, e->now, on_event, e);
	json_decref(kills);
}
