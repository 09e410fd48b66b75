/*
 * The prometheus source: an instant query run every `interval`, turned
 * into events.
 *
 * With a condition the source is edge-triggered, like an alerting rule
 * with Alertmanager behind it: a series fires when it starts to satisfy
 * the condition, not at every evaluation while it does (that would flood
 * the decision log with cooldown suppressions), and again every `repeat`
 * if one is set.  A series is re-armed when it stops satisfying the
 * condition or vanishes from the answer; a failed query changes nothing
 * (an outage of Prometheus is not a recovery).  Without a condition every
 * sample is a reading and every evaluation emits it.
 *
 * The edges outlive the process when the source is bound to a sched_edges
 * (edges.c): each crossing, repeat and re-arm is handed to it as it
 * happens, before the event goes out, so the transaction that records
 * the event's decision also records the edge.
 *
 * Each event carries the sample's own timestamp, so staleness is judged
 * from when Prometheus evaluated, not from when we asked:
 *
 *   data = {"body": {"metric": {labels}, "value": 0.21,
 *                    "timestamp": "2026-03-14T09:22:10.512Z",
 *                    "query": "..."}, "metadata": {...}}
 *
 * A value that JSON cannot hold (NaN, +Inf, -Inf) is written as that
 * string.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "prom/prom.h"
#include "signal/signal.h"
#include "schedule/source_int.h"

struct series {
	int		 crossing;
	int64_t		 last;		/* ms: last emitted */
	unsigned	 gen;		/* evaluation it was last seen in */
};

static void
free_series(void *v)
{
	free(v);
}

void
sched_prom_clear(struct sched_source *s)
{
	map_clear(&s->series, free_series);
}

void
sched_prom_seed(struct sched_source *s, const char *labels, int64_t last)
{
	struct series *se = xcalloc(1, sizeof *se);

	se->crossing = 1;
	se->last = last;
	se->gen = s->gen;	/* swept if the next answer lacks it */
	free(map_put(&s->series, labels, se));
}

const char *
sched_prom_query(const struct sched_source *s)
{
	return s->kind == SCHED_PROMETHEUS ? s->query : NULL;
}

const char *
sched_prom_url(const struct sched_source *s)
{
	return s->kind == SCHED_PROMETHEUS ? s->url : NULL;
}

static json_t *
value_json(double v)
{
	if (isnan(v))
		return json_string("NaN");
	if (isinf(v))
		return json_string(v > 0 ? "+Inf" : "-Inf");
	return json_real(v);
}

static char *
event_id(const struct sched_source *s, const char *key, int64_t when)
{
	uint64_t h1 = UTIL_HASH_SEED;

	h1 = util_hash(s->eventsource, strlen(s->eventsource) + 1, h1);
	h1 = util_hash(s->name, strlen(s->name) + 1, h1);
	h1 = util_hash(key, strlen(key) + 1, h1);
	h1 = util_hash(&when, sizeof when, h1);
	return util_hash_id(h1, UTIL_HASH_SEED2);
}

static void
emit_sample(struct sched_source *s, const struct prom_sample *p,
    const char *key, sig_emit_fn emit, void *ctx)
{
	struct event ev;
	char ts[TIME_FMTLEN];
	json_t *body;

	time_format(p->time, ts, sizeof ts);
	body = json_pack("{s:O, s:o, s:s, s:s}", "metric", p->metric,
	    "value", value_json(p->value), "timestamp", ts, "query",
	    s->query);
	memset(&ev, 0, sizeof ev);
	ev.source = s->eventsource;
	ev.name = s->name;
	ev.type = sig_type_name(SIG_PROMETHEUS);
	ev.time = p->time;
	ev.id = event_id(s, key, p->time);
	ev.data = json_pack("{s:o}", "body", body);
	if (s->metadata != NULL)
		json_object_set_new(ev.data, "metadata",
		    json_deep_copy(s->metadata));
	sig_labels_subject(p->metric, &ev);
	emit(ctx, &ev);
	event_clear(&ev);
}

struct sweep {
	struct map	*m;
	unsigned	 gen;
	char		**gone;
	size_t		 n, cap;
};

static int
collect_gone(void *ctx, const char *key, void *v)
{
	struct sweep *sw = ctx;
	struct series *se = v;

	if (se->gen != sw->gen) {
		xgrow(&sw->gone, &sw->cap, sw->n + 1, sizeof *sw->gone);
		sw->gone[sw->n++] = xstrdup(key);
	}
	return 0;
}

/* Forgets series absent from evaluation gen: they re-arm. */
static void
sweep(struct sched_source *s, unsigned gen)
{
	struct sweep sw = { &s->series, gen, NULL, 0, 0 };
	struct series *se;
	size_t i;

	map_each(&s->series, collect_gone, &sw);
	for (i = 0; i < sw.n; i++) {
		if ((se = map_del(&s->series, sw.gone[i])) != NULL &&
		    se->crossing)
			sched_edge_forget(s, sw.gone[i]);
		free(se);
		free(sw.gone[i]);
	}
	free(sw.gone);
}

int
sched_prom_feed(struct sched_source *s, const struct prom_result *res,
    int64_t now, sig_emit_fn emit, void *ctx)
{
	unsigned gen;
	size_t i, n;
	int emitted = 0;

	if (s->kind != SCHED_PROMETHEUS)
		return 0;
	s->due = now + s->interval;
	if (res == NULL)
		return 0;
	gen = ++s->gen;
	n = res->n < SCHED_MAX_SERIES ? res->n : SCHED_MAX_SERIES;
	for (i = 0; i < n; i++) {
		const struct prom_sample *p = &res->v[i];
		char *key = json_dumps(p->metric, JSON_SORT_KEYS |
		    JSON_COMPACT);
		struct series *se;
		int holds;

		if (key == NULL)
			continue;
		if (!s->has_cond) {
			emit_sample(s, p, key, emit, ctx);
			emitted++;
			free(key);
			continue;
		}
		if ((se = map_get(&s->series, key)) == NULL) {
			se = xcalloc(1, sizeof *se);
			map_put(&s->series, key, se);
		}
		se->gen = gen;
		holds = prom_cond_holds(&s->cond, p->value);
		if (holds && (!se->crossing || (s->repeat > 0 &&
		    now - se->last >= s->repeat))) {
			/* kept first: the decision's transaction carries it */
			sched_edge_keep(s, key, now);
			emit_sample(s, p, key, emit, ctx);
			se->last = now;
			emitted++;
		} else if (!holds && se->crossing)
			sched_edge_forget(s, key);	/* re-armed */
		se->crossing = holds;
		free(key);
	}
	if (s->has_cond)
		sweep(s, gen);
	return emitted;
}
