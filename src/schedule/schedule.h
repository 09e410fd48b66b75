/*
 * schedule: the event sources driven by time, as pure functions of time.
 *
 *   calendar    Argo's calendar source: `interval` (a Go duration) or
 *               `schedule` (five cron fields, @hourly..., @every 5m) in an
 *               IANA `timezone`, minus `exclusionDates`;
 *   prometheus  remediate's source: an instant query on an interval, an
 *               event per series whose value crosses `condition`.
 *
 * Nothing here reads a clock, sleeps or does I/O but loading a time zone:
 * the daemon asks when each source is next due, waits, and calls back with
 * "now" (and, for prometheus, the query's answer).  Replay and the tests
 * drive the same code with their own clocks.
 *
 * Cron schedules and time zones are util's (util/cron.h, util/tz.h),
 * shared with the sensor's conditionsReset and time filters.
 *
 * Not thread-safe: one thread (the daemon's loop) drives a set.
 */
#ifndef SCHEDULE_H
#define SCHEDULE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "conf/conf.h"
#include "prom/prom.h"
#include "signal/event.h"
#include "signal/signal.h"
#include "util/cron.h"
#include "util/tz.h"
#include "util/util.h"

#define SCHED_MAX_SERIES	10000	/* series one prometheus source keeps */
#define SCHED_PROM_INTERVAL	60000	/* ms: default prometheus interval */

/* ---- the sources --------------------------------------------------------- */

enum sched_kind {
	SCHED_CALENDAR,
	SCHED_PROMETHEUS,
};

struct sched_source;
struct sched_set;

struct sched_opts {
	/* Prometheus URL for sources without `url` (RemediationConfig's). */
	const char	*prometheus_url;
};

struct sched_set *sched_set_new(void);
void		 sched_set_free(struct sched_set *);
/*
 * Compiles the calendar and prometheus entries of EventSource doc
 * (schema-checked): cron syntax, time zone, exclusion dates, condition.
 * Errors go to diags at the offending node.  Returns 0 or -1.
 */
int		 sched_set_add(struct sched_set *, const struct mdoc *,
		    const struct sched_opts *, struct diags *);
size_t		 sched_set_count(const struct sched_set *);
struct sched_source *sched_set_get(const struct sched_set *, size_t);

enum sched_kind	 sched_source_kind(const struct sched_source *);
const char	*sched_source_eventsource(const struct sched_source *);
const char	*sched_source_name(const struct sched_source *);

/*
 * Arms every source of the set at now (ms): a calendar is next due at its
 * first fire time after now (as Argo starts its schedule at start-up), a
 * prometheus source at now.
 */
void		 sched_set_start(struct sched_set *, int64_t now);
/*
 * A reload: every prometheus source of `to` (started) that `from` (the
 * running set) has under the same eventsource and name, with the same
 * query, URL, interval, condition and repeat (the same identity, as
 * sched_edges keys it), takes over its turn and its series' edge state,
 * so a series that was already over the line is not a new crossing;
 * `from` keeps empty ones.  A calendar with the same schedule, interval,
 * time zone and exclusion dates keeps its next fire time: an interval
 * re-armed at every reload would never fire if reloads came more often.
 */
void		 sched_set_adopt(struct sched_set *to, struct sched_set *from);
/* The earliest due time of the set (ms), or -1 when nothing is due ever. */
int64_t		 sched_set_next_due(const struct sched_set *);
/* When source s is next due (ms), or -1 never. */
int64_t		 sched_source_due(const struct sched_source *);

/*
 * The first fire time of calendar s strictly after `after` (ms), or -1.
 * Pure: does not change s.
 */
int64_t		 sched_next(const struct sched_source *, int64_t after);

/*
 * Fires calendar s if it is due at now: emits one event (data {eventTime,
 * metadata, userPayload} as Argo's calendar source; owned members, cleared
 * after emit returns unless emit took them) for the latest fire time not
 * after now (fire times missed while the daemon was busy collapse into
 * that one), then arms the next fire time after now.  Returns the number
 * of events emitted (0 or 1).
 */
int		 sched_calendar_fire(struct sched_source *, int64_t now,
		    sig_emit_fn emit, void *ctx);

/* A prometheus source's query and URL (the source's or the default). */
const char	*sched_prom_query(const struct sched_source *);
const char	*sched_prom_url(const struct sched_source *);
/*
 * Feeds prometheus source s with the answer to its query made at now
 * (res NULL: the query failed; no events, the series keep their state).
 * With a condition, emits an event for each series that starts to satisfy
 * it (and again every `repeat` while it still does, when set); a series
 * that stops satisfying it, or vanishes, is re-armed.  Without a
 * condition, every sample of every answer is an event.  Events: type
 * "prometheus", time = the sample's timestamp, data {"body": {metric,
 * value, timestamp, query}}, subject from the labels.  Then s is next due
 * at now + interval.  Returns the number of events emitted.
 */
int		 sched_prom_feed(struct sched_source *,
		    const struct prom_result *res, int64_t now,
		    sig_emit_fn emit, void *ctx);

/* ---- edges kept across processes ----------------------------------------- */

/*
 * A series' edge outlives the process: after a restart, or when a standby
 * takes over leadership, a series still over the line is not a new
 * crossing (Alertmanager keeps its notification log across restarts for
 * the same reason).  A sched_edges holds, for the prometheus sources with
 * a condition, the series over the line and when each last emitted (ms,
 * the daemon's wall clock: it crosses processes), and journals its
 * changes for the state store (audit_attach_edges, the guard state's
 * pattern): a crossing and a repeat write the entry, a re-arm (below the
 * line, or gone from the answer) removes it.  An evaluation that changes
 * no edge writes nothing.  Entries:
 *
 *   edge   eventsource \x1f name \x1f labels   {"source":"16 hex digits",
 *                                               "last":ms}
 *
 * labels as the series' labels in sorted compact JSON; source the hash of
 * the source's identity (its query, URL, interval, condition and repeat:
 * what a reload compares), so a changed source inherits nothing.
 *
 * One owner, the daemon's engine thread; it lives across reloads and is
 * cleared when a replica takes over (the store then says what holds).
 * Replay and the tests run sources without one: nothing is kept.
 */
#define SCHED_EDGE_KIND	"edge"

struct sched_edges;

struct sched_edges *sched_edges_new(void);
/* NULL: no-op. */
void		 sched_edges_free(struct sched_edges *);
/* Forgets every entry and every mark. */
void		 sched_edges_clear(struct sched_edges *);
/* The entries held: series over the line, every source. */
size_t		 sched_edges_count(const struct sched_edges *);
/* The changes not journaled yet. */
size_t		 sched_edges_marked(const struct sched_edges *);
/*
 * Loads one entry written by sched_edges_journal (value borrowed).
 * Returns 0, or -1 when it does not read (a key without its three parts,
 * a value without its source or time): nothing is kept for it, so its
 * series counts as re-armed and fires if it is over the line (a duplicate
 * event, which the trigger's stored cooldown guards, rather than a missed
 * remediation), and its removal is marked for the next journal.  A kind
 * other than SCHED_EDGE_KIND is -1, unmarked.
 */
int		 sched_edges_load(struct sched_edges *, const char *kind,
		    const char *key, json_t *value);
/*
 * guard_state_journal's contract: put gets each marked entry (value
 * borrowed for the call; NULL: removed), or with all != 0 every entry
 * held (a full rewrite after a failed write); the marks are cleared.
 */
void		 sched_edges_journal(struct sched_edges *, int all,
		    void (*put)(void *ctx, const char *kind, const char *key,
		    json_t *value), void *ctx);
/*
 * Binds the prometheus sources of set (started, after any
 * sched_set_adopt) to edges, and sets their series as edges says: those
 * it holds under a source's eventsource, name and identity are over the
 * line since their stored last emission (a repeat comes `repeat` after
 * it), every other series is unknown (it fires when first seen over the
 * line).  Entries no source of the set owns (a source removed, or changed
 * since they were written) are removed.  From then on the sources'
 * crossings, repeats and re-arms are kept in edges.  edges NULL: the
 * sources keep nothing (their series as they are).
 */
void		 sched_set_recall(struct sched_set *, struct sched_edges *);

#endif /* SCHEDULE_H */
