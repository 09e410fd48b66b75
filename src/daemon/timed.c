/*
 * The timed sources: calendars and prometheus sources, run by the engine
 * thread once the view is whole (pop_wait in daemon.c).  A calendar fires
 * on the spot.  A prometheus source's query goes to promq's thread, and
 * its answer is fed to the source when it comes back, so a slow
 * Prometheus holds no decision; the source is not asked again while its
 * query is out.  The edges its answers move are written at once
 * (src/schedule/edges.c says why).
 */
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "daemon/daemon_int.h"
#include "daemon/promq.h"
#include "engine/engine.h"
#include "metrics/metrics.h"
#include "schedule/schedule.h"
#include "util/util.h"

/* A calendar or prometheus event, on the engine thread. */
static void
timed_emit(void *ctx, struct event *ev)
{
	struct daemon *d = ctx;

	metrics_count_signal(ev->source, ev->name);
	engine_signal(d->engine, ev);
}

/* What a prometheus source's answer depends on: source, query and URL. */
static char *
prom_key(const struct sched_source *s)
{
	return xasprintf("%s\n%s\n%s\n%s", sched_source_eventsource(s),
	    sched_source_name(s), sched_prom_query(s), sched_prom_url(s) ?
	    sched_prom_url(s) : "");
}

/* A failed query changes no edge (schedule.h); it is said. */
static void
query_failed(const struct sched_source *s, const char *why)
{
	util_log_json("warn", "prometheus source query failed", json_pack(
	    "{s:s, s:s}", "source", sched_source_name(s), "error", why));
}

struct answered {
	struct daemon	*d;
	int		 acting;	/* 0: answers are dropped */
};

/*
 * A query's answer, come back from promq's thread: fed to its source as
 * of the time it was asked, if this replica still decides and the source
 * is still configured as it was (a reload may have changed or removed
 * it).
 */
static void
prom_answered(void *ctx, const char *key, int64_t asked,
    const struct prom_result *res, const char *err)
{
	struct answered *a = ctx;
	struct daemon *d = a->d;
	struct sched_source *s = NULL;
	char *k;
	size_t i;

	for (i = 0; a->acting && s == NULL && i < sched_set_count(d->timed);
	    i++) {
		if (sched_source_kind(sched_set_get(d->timed, i)) ==
		    SCHED_CALENDAR)
			continue;
		k = prom_key(sched_set_get(d->timed, i));
		if (strcmp(k, key) == 0)
			s = sched_set_get(d->timed, i);
		free(k);
	}
	if (s == NULL)
		return;
	if (res == NULL)
		query_failed(s, err ? err : "?");
	sched_prom_feed(s, res, asked, timed_emit, d);
}

/*
 * Fires what is due: a calendar at once, a prometheus source by asking
 * promq (its answer is fed when it comes, in a later call).  Returns ms
 * until the next due source (or -1).
 */
long
daemon_timed_run(struct daemon *d)
{
	struct answered a = { d, 1 };
	struct sched_source *s;
	int64_t now = clock_now(&d->clock), due, next = -1;
	char *key;
	size_t i;

	promq_collect(d->promq, prom_answered, &a);
	for (i = 0; i < sched_set_count(d->timed); i++) {
		s = sched_set_get(d->timed, i);
		due = sched_source_due(s);
		key = sched_source_kind(s) == SCHED_CALENDAR ? NULL :
		    prom_key(s);
		if (key && promq_busy(d->promq, key))
			due = -1;	/* asked: its answer sets the next */
		else if (due >= 0 && due <= now) {
			if (key == NULL)
				sched_calendar_fire(s, now, timed_emit, d);
			else if (sched_prom_url(s) == NULL) {
				query_failed(s, "no Prometheus URL");
				sched_prom_feed(s, NULL, now, timed_emit, d);
			} else
				promq_ask(d->promq, key, sched_prom_url(s),
				    sched_prom_query(s), d->prom_timeout, now);
			due = key && promq_busy(d->promq, key) ? -1 :
			    sched_source_due(s);
		}
		free(key);
		if (due >= 0 && (next < 0 || due < next))
			next = due;
	}
	/*
	 * An edge no record carried (its event decided nothing, or a
	 * re-arm) is written now, not at the next tick: a kill -9 in between
	 * would leave a re-armed series stored as over the line, and its
	 * next crossing would not fire.
	 */
	if (d->audit && sched_edges_marked(d->edges))
		metrics_set_state_writable(audit_sync(d->audit) == 0);
	/* an answer is looked for soon after it can have come */
	if (promq_in_flight(d->promq) && (next < 0 || next > now + 50))
		next = now + 50;
	return next < 0 ? -1 : (long)(next > now ? next - now : 0);
}

struct sched_set *
daemon_timed_set(struct daemon *d, const struct conf *c, struct diags *dg)
{
	struct sched_set *set = sched_set_new();
	struct sched_opts so;
	size_t i;

	memset(&so, 0, sizeof so);
	so.prometheus_url = d->prom_url;
	for (i = 0; i < c->nby_kind[CONF_EVENTSOURCE]; i++)
		sched_set_add(set, c->by_kind[CONF_EVENTSOURCE][i], &so, dg);
	return set;
}

int
daemon_timed_start(struct daemon *d)
{
	struct diags dg;
	size_t errors;

	diag_init(&dg);
	d->timed = daemon_timed_set(d, d->conf, &dg);
	diag_print(&dg, stderr);
	errors = dg.errors;
	diag_free(&dg);
	if (errors)
		return -1;
	if ((d->promq = promq_new()) == NULL) {
		util_log_json("error", "cannot start the prometheus sources' "
		    "query thread", NULL);
		return -1;
	}
	sched_set_start(d->timed, clock_now(&d->clock));
	/* with an election, empty until this replica leads (leader.c) */
	sched_set_recall(d->timed, d->edges);
	return 0;
}

void
daemon_timed_idle(struct daemon *d)
{
	struct answered dropped = { d, 0 };

	promq_collect(d->promq, prom_answered, &dropped);
}

void
daemon_timed_stop(struct daemon *d)
{
	promq_free(d->promq);	/* before the sources its answers name */
	d->promq = NULL;
	sched_set_free(d->timed);
	d->timed = NULL;
}

