/*
 * metrics: what /metrics shows, in Prometheus' text format (0.0.4).
 *
 * One process-wide registry of families (counter, gauge, histogram), each
 * with a fixed list of label names; a series is created the first time a
 * family is updated with its label values.  Every function here may be
 * called from any thread (the engine thread, HTTP threads, watch and page
 * threads): one mutex guards the registry, held for a few hundred
 * nanoseconds per update and for the length of one rendering.
 *
 * The names remediate exports, and what updates them, are in
 * docs/metrics.md; the metrics_count_* / metrics_observe_* helpers below
 * are the only writers of those families, so the list stays in one place
 * (src/metrics/remediate.c).
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "record/record.h"

enum metrics_type {
	METRICS_COUNTER,
	METRICS_GAUGE,
	METRICS_HISTOGRAM,
};

/* Series per family beyond which new label sets are dropped (counted). */
#define METRICS_MAX_SERIES 10000

struct metrics_family;

/*
 * Registers a family, or returns the one already registered under name
 * (whose type, labels and buckets must match: a mismatch is a programming
 * error and aborts).  labels: NULL-terminated label names (NULL: none).
 * bounds: a histogram's ascending upper bounds, nbounds of them (+Inf is
 * implied).  Strings and arrays are copied.  The family lives until
 * metrics_shutdown.
 */
struct metrics_family	*metrics_family(enum metrics_type, const char *name,
			    const char *help, const char *const *labels,
			    const double *bounds, size_t nbounds);
/*
 * Updates the series of the given label values (one per label name,
 * NULL read as ""): add to a counter or gauge (a counter ignores a
 * negative v), set a gauge (or a counter to a running total kept
 * elsewhere), observe a value in a histogram.
 */
void	metrics_add(struct metrics_family *, const char *const *values,
	    double v);
void	metrics_set(struct metrics_family *, const char *const *values,
	    double v);
void	metrics_observe(struct metrics_family *, const char *const *values,
	    double v);
/* The current value of a counter or gauge series (0 if absent), tests. */
double	metrics_get(struct metrics_family *, const char *const *values);

/*
 * Every family in the text exposition format, families in registration
 * order, series sorted by label values.  Owned by the caller.
 */
char	*metrics_render(void);
/* Content-Type of metrics_render's text. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Drops every series, keeping the families (tests). */
void	metrics_reset(void);
/* Frees every family; the registry starts empty again afterwards. */
void	metrics_shutdown(void);

/* ---- remediate's own metrics (docs/metrics.md) ------------------------- */

/* Registers them all (called by every helper below; idempotent). */
void	metrics_init(void);
/* A signal arrived from an event source (webhook, watch, calendar). */
void	metrics_count_signal(const char *event_source, const char *event_name);
/*
 * The engine's running totals (engine_stats: events handed to sensors,
 * events filtered out), set after each signal on the engine thread.
 */
void	metrics_engine_totals(uint64_t signals, uint64_t filtered);
/*
 * A decision record (borrowed): decisions by sensor, trigger, decision and
 * reason; actions triggered and failed, also under Argo Events' names;
 * recurrences and the recurrence ratio; demotion; action duration (from
 * the record's durationMs).
 */
void	metrics_observe_record(const struct rec_decision_record *);
/*
 * The records also set: the trigger's last budget value read (when the
 * record has one); the circuit: 1 on a circuit-open suppression, 0 on a
 * decision that went past the circuit (acted, or rate-limited).
 */
/*
 * Starts a trigger's action counters (remediate_ and Argo's, acted and
 * failed) at 0, so that its first action or failure is an increase a
 * rate() or increase() sees (a series born at 1 shows no increase).
 */
void	metrics_init_trigger(const char *sensor, const char *trigger);
/* The engine loop went round at unix_seconds (stall detection). */
void	metrics_engine_heartbeat(double unix_seconds);
/* Whether the last write to the state file succeeded. */
void	metrics_set_state_writable(int ok);
/* Time from a signal's arrival to its decisions, seconds. */
void	metrics_observe_latency(double seconds);
/* Items waiting in a queue ("engine", "pages"). */
void	metrics_set_queue_depth(const char *queue, double depth);
/*
 * A watch on resource ("pods", "events.v1") restarted: the server took it
 * again after its stream ended.
 */
void	metrics_count_watch_restart(const char *resource);
/* n more failed list or watch attempts (or broken streams) on resource. */
void	metrics_count_watch_failures(const char *resource, double n);
/*
 * A watch on resource listed, for cause ("start", "expired", "resume"),
 * in pages requests taking seconds.
 */
void	metrics_watch_list(const char *resource, const char *cause,
	    long pages, double seconds);
/* A page to destination ("alertmanager", "webhook"): sent, retried,
 * failed (given up) or dropped (queue full). */
void	metrics_count_page(const char *destination, const char *result);
/* An audit-log write: "ok", or "error" (the record is kept to retry). */
void	metrics_count_audit_write(const char *result);
/*
 * Seconds the deciding thread waited for the state file's writer thread
 * (its transaction in flight: a group's commit, a WAL checkpoint).
 */
void	metrics_add_state_writer_wait(double seconds);
/* Leader election: this replica leads (1) or stands by (0). */
void	metrics_set_leader(int leading);
/* This replica took role "leader" or "standby". */
void	metrics_count_leader_transition(const char *role);
/* A configuration reload ended with result "ok" or "error". */
void	metrics_count_reload(const char *result);
/* Pages kept in the state file that no receiver has accepted yet. */
void	metrics_set_pages_undelivered(double n);
/*
 * The HTTP server's counters as of now (totals since start, read from
 * its snapshot): answers by status class, connections cut, open now.
 */
void	metrics_http_server(uint64_t s2xx, uint64_t s4xx, uint64_t s5xx,
	    uint64_t reaped, unsigned open);
/*
 * Webhook ingress totals since start.  Requests by result: received (all
 * that reached the ingress), full, unauthorized, forbidden, malformed,
 * too_large, not_found; events by result: queued, duplicate.
 */
void	metrics_webhook_requests(const char *result, uint64_t total);
void	metrics_webhook_events(const char *result, uint64_t total);

#endif /* METRICS_H */
