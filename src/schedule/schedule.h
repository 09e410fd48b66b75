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
 * query, URL, interval, condition and repeat, takes over its turn and
 * its series' edge state, so a series that was already over the line is
 * not a new crossing; `from` keeps empty ones.  A calendar with the same
 * schedule, interval, time zone and exclusion dates keeps its next fire
 * time: an interval re-armed at every reload would never fire if reloads
 * came more often.
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

#endif /* SCHEDULE_H */
