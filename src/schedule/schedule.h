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
 * Time zones are read from the system's tzdata (TZif files under $TZDIR
 * or /usr/share/zoneinfo, with their POSIX TZ footer for times past the
 * last transition), not through setenv(TZ)/localtime, which would race
 * with every other thread of the daemon.
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
#include "util/util.h"

#define SCHED_HORIZON_YEARS	8	/* how far sched_next looks */
#define SCHED_MAX_SERIES	10000	/* series one prometheus source keeps */
#define SCHED_PROM_INTERVAL	60000	/* ms: default prometheus interval */

/* ---- time zones ---------------------------------------------------------- */

struct sched_zone;

/*
 * Loads zone name: "UTC" (or "" or "Etc/UTC"), or an IANA name read from
 * $TZDIR (default /usr/share/zoneinfo).  Returns an owned zone, or NULL and
 * *err (owned) when the name is malformed or unknown or its file is not
 * TZif.
 */
struct sched_zone *sched_zone_load(const char *name, char **err);
/* Parses TZif bytes (tests, other sources); as sched_zone_load. */
struct sched_zone *sched_zone_parse(const char *name, const unsigned char *,
		    size_t len, char **err);
void		 sched_zone_free(struct sched_zone *);
const char	*sched_zone_name(const struct sched_zone *);
/*
 * The UTC offset (seconds east) in force at utc (seconds since the epoch)
 * and, when abbr is not NULL, its abbreviation ("CET"), written to abbr.
 */
int		 sched_zone_offset(const struct sched_zone *, int64_t utc,
		    char *abbr, size_t abbrlen);

/* ---- cron ---------------------------------------------------------------- */

struct sched_cron;

/*
 * Parses a schedule: five fields (minute hour day-of-month month
 * day-of-week; *, ?, lists, ranges, steps, JAN-DEC, SUN-SAT, 7 = Sunday),
 * @yearly @annually @monthly @weekly @daily @midnight @hourly, or
 * "@every DURATION" (at least 1s).  Returns an owned cron, or NULL with
 * *err (owned) naming the field at fault.
 */
struct sched_cron *sched_cron_parse(const char *, char **err);
void		 sched_cron_free(struct sched_cron *);
/*
 * The first fire time strictly after `after` (ms), in zone z, skipping
 * local dates for which excluded(ctx, y, m, d) returns 1 (may be NULL).
 * Returns -1 when there is none within SCHED_HORIZON_YEARS.
 *
 * Daylight saving: a wall time that occurs twice (autumn) fires once,
 * unless the hour field is '*' (then every real minute that matches
 * fires); a wall time that does not exist (spring) fires as Go's
 * time.Date normalizes it (02:30 becomes 03:30), unless the hour field is
 * '*' (then it is skipped: that hour is gone).
 */
int64_t		 sched_cron_next(const struct sched_cron *,
		    const struct sched_zone *, int64_t after,
		    int (*excluded)(void *, int, int, int), void *ctx);

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
