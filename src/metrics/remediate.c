/*
 * remediate's own metrics: every family /metrics shows, registered in one
 * place, with the helpers that are their only writers.  docs/metrics.md
 * lists the same names; keep the two together.
 *
 * Label values come from the configuration (sensors, triggers, event
 * sources) and from fixed sets (decisions, reasons), never from targets or
 * signals, so the series stay few.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"
#include "metrics/metrics_int.h"
#include "util/util.h"

#ifndef REMEDIATE_VERSION
#define REMEDIATE_VERSION "0.0.0"
#endif
#ifndef REMEDIATE_GITREV
#define REMEDIATE_GITREV "unknown"
#endif

static const double latency_bounds[] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
	2.5, 5, 10,
};
static const double duration_bounds[] = {
	0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
};

static struct {
	struct metrics_family	*signals, *engine_signals, *engine_filtered;
	struct metrics_family	*decisions, *actions, *actions_failed;
	struct metrics_family	*argo_triggered, *argo_failed;
	struct metrics_family	*recurrences, *ratio, *demoted;
	struct metrics_family	*latency, *duration;
	struct metrics_family	*queue, *watch_restarts, *pages, *audit;
	struct metrics_family	*writer_wait;
	struct metrics_family	*watch_failures, *watch_lists;
	struct metrics_family	*watch_list_pages, *watch_list_seconds;
	struct metrics_family	*undelivered;
	struct metrics_family	*http_requests, *http_open, *http_reaped;
	struct metrics_family	*webhook, *webhook_events;
	struct metrics_family	*leader, *leader_transitions, *reloads;
	struct metrics_family	*build;
	struct metrics_family	*budget, *circuit, *heartbeat, *writable;
} fam;

static pthread_mutex_t init_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int ready;

static const char *const l_none[] = { NULL };
static const char *const l_source[] = { "event_source", "event_name",
    NULL };
static const char *const l_decision[] = { "sensor", "trigger", "decision",
    "reason", NULL };
static const char *const l_trigger[] = { "sensor", "trigger", NULL };
static const char *const l_argo[] = { "namespace", "sensor_name",
    "trigger_name", NULL };
static const char *const l_queue[] = { "queue", NULL };
static const char *const l_resource[] = { "resource", NULL };
static const char *const l_list[] = { "resource", "cause", NULL };
static const char *const l_page[] = { "destination", "result", NULL };
static const char *const l_result[] = { "result", NULL };
static const char *const l_build[] = { "version", "revision", NULL };
static const char *const l_code[] = { "code", NULL };
static const char *const l_role[] = { "role", NULL };

static struct metrics_family *
counter(const char *name, const char *help, const char *const *labels)
{
	return metrics_family(METRICS_COUNTER, name, help, labels, NULL, 0);
}

static struct metrics_family *
gauge(const char *name, const char *help, const char *const *labels)
{
	return metrics_family(METRICS_GAUGE, name, help, labels, NULL, 0);
}

static void
register_all(void)
{
	const char *bv[] = { REMEDIATE_VERSION, REMEDIATE_GITREV };

	fam.signals = counter("remediate_signals_received_total",
	    "Signals received from event sources.", l_source);
	fam.engine_signals = counter("remediate_events_total",
	    "Events handed to the sensors.", l_none);
	fam.engine_filtered = counter("remediate_events_filtered_total",
	    "Events that matched a dependency and were filtered out.",
	    l_none);
	fam.decisions = counter("remediate_decisions_total",
	    "Decision records by sensor, trigger, decision and reason.",
	    l_decision);
	fam.actions = counter("remediate_actions_total",
	    "Actions executed successfully (decision acted).", l_trigger);
	fam.actions_failed = counter("remediate_actions_failed_total",
	    "Actions that failed (decision failed).", l_trigger);
	fam.argo_triggered = counter("argo_events_action_triggered_total",
	    "How many actions have been triggered successfully (Argo Events' "
	    "name).", l_argo);
	fam.argo_failed = counter("argo_events_action_failed_total",
	    "How many actions failed (Argo Events' name).", l_argo);
	fam.recurrences = counter("remediate_recurrences_total",
	    "Remediations whose signal came back for the same target within "
	    "recurrence.within.", l_trigger);
	fam.ratio = gauge("remediate_recurrence_ratio",
	    "Recurred share of the trigger's recent remediations.",
	    l_trigger);
	fam.demoted = gauge("remediate_trigger_demoted",
	    "1 while the trigger is demoted to notify by recurrence.",
	    l_trigger);
	fam.latency = metrics_family(METRICS_HISTOGRAM,
	    "remediate_decision_latency_seconds",
	    "Time from a signal's arrival to its decisions.", l_none,
	    latency_bounds, UTIL_ARRAY_LEN(latency_bounds));
	fam.duration = metrics_family(METRICS_HISTOGRAM,
	    "remediate_action_duration_seconds",
	    "Time an executed action took.", l_trigger, duration_bounds,
	    UTIL_ARRAY_LEN(duration_bounds));
	fam.queue = gauge("remediate_queue_depth", "Items waiting in a queue.",
	    l_queue);
	fam.watch_restarts = counter("remediate_watch_restarts_total",
	    "Kubernetes watches the server took again after their stream "
	    "ended, dropped or expired (failed attempts are "
	    "remediate_watch_failures_total).", l_resource);
	fam.watch_failures = counter("remediate_watch_failures_total",
	    "Failed list or watch requests and broken watch streams.",
	    l_resource);
	fam.watch_lists = counter("remediate_watch_lists_total",
	    "Lists a watch made, by cause: start, expired (a relist after "
	    "410 Gone), resume (events: one item for a fresh "
	    "resourceVersion).", l_list);
	fam.watch_list_pages = counter("remediate_watch_list_pages_total",
	    "List requests (pages) those lists took.", l_list);
	fam.watch_list_seconds = metrics_family(METRICS_HISTOGRAM,
	    "remediate_watch_list_duration_seconds",
	    "Time a watch's list took, all its pages.", l_list,
	    duration_bounds, UTIL_ARRAY_LEN(duration_bounds));
	fam.pages = counter("remediate_pages_total",
	    "Pages by destination and result (sent, retried, failed, "
	    "dropped).", l_page);
	fam.undelivered = gauge("remediate_pages_undelivered",
	    "Pages kept in the state file that no receiver has accepted "
	    "yet.", l_none);
	fam.audit = counter("remediate_audit_writes_total",
	    "Audit-log transactions by result (ok, error).", l_result);
	fam.writer_wait = counter("remediate_state_writer_wait_seconds_total",
	    "Time the deciding thread waited for the state file's writer "
	    "thread (a group's commit, a WAL checkpoint): rising steadily, "
	    "the disk is slower than the decisions.", l_none);
	fam.http_requests = counter("remediate_http_requests_total",
	    "HTTP requests answered, by status class.", l_code);
	fam.http_open = gauge("remediate_http_connections_open",
	    "HTTP connections open now.", l_none);
	fam.http_reaped = counter("remediate_http_connections_reaped_total",
	    "HTTP connections cut at the request deadline.", l_none);
	fam.webhook = counter("remediate_webhook_requests_total",
	    "Webhook requests: received, and those refused by reason.",
	    l_result);
	fam.webhook_events = counter("remediate_webhook_events_total",
	    "Events from webhook requests: queued, or duplicate (a "
	    "redelivered alert).", l_result);
	fam.leader = gauge("remediate_leader",
	    "1 while this replica leads (decides and acts), 0 on a standby; "
	    "1 without leader election.", l_none);
	fam.leader_transitions = counter(
	    "remediate_leader_transitions_total",
	    "Changes of this replica's role, by the role taken (leader, "
	    "standby).", l_role);
	fam.reloads = counter("remediate_config_reload_total",
	    "Configuration reloads by result: ok (swapped in), error (refused; "
	    "the running one stays).",
	    l_result);
	fam.build = gauge("remediate_build_info",
	    "Version and git revision of this build.", l_build);
	metrics_set(fam.build, bv, 1);
	fam.budget = gauge("remediate_budget_value",
	    "The error-budget value the trigger's last budget check read.",
	    l_trigger);
	fam.circuit = gauge("remediate_circuit_open",
	    "1 while the circuit breaker stops actions, 0 once one passes.",
	    l_none);
	fam.heartbeat = gauge("remediate_engine_heartbeat_timestamp_seconds",
	    "When the engine loop last went round (Unix time).", l_none);
	fam.writable = gauge("remediate_state_writable",
	    "1 when the last write to the state file succeeded, 0 when not.",
	    l_none);
	/* present from the start, so dashboards and alerts have a series */
	metrics_set(fam.circuit, NULL, 0);
	metrics_add(fam.writer_wait, NULL, 0);
}

void
metrics_init(void)
{
	if (atomic_load(&ready))
		return;
	pthread_mutex_lock(&init_mu);
	if (!atomic_load(&ready)) {
		register_all();
		atomic_store(&ready, 1);
	}
	pthread_mutex_unlock(&init_mu);
}

void
metrics_forget_own(void)
{
	atomic_store(&ready, 0);
}

void
metrics_http_server(uint64_t s2xx, uint64_t s4xx, uint64_t s5xx,
    uint64_t reaped, unsigned open)
{
	const char *c2[] = { "2xx" }, *c4[] = { "4xx" }, *c5[] = { "5xx" };

	metrics_init();
	metrics_set(fam.http_requests, c2, (double)s2xx);
	metrics_set(fam.http_requests, c4, (double)s4xx);
	metrics_set(fam.http_requests, c5, (double)s5xx);
	metrics_set(fam.http_reaped, NULL, (double)reaped);
	metrics_set(fam.http_open, NULL, (double)open);
}

void
metrics_webhook_requests(const char *result, uint64_t total)
{
	const char *v[] = { result };

	metrics_init();
	metrics_set(fam.webhook, v, (double)total);
}

void
metrics_webhook_events(const char *result, uint64_t total)
{
	const char *v[] = { result };

	metrics_init();
	metrics_set(fam.webhook_events, v, (double)total);
}

void
metrics_count_signal(const char *event_source, const char *event_name)
{
	const char *v[] = { event_source, event_name };

	metrics_init();
	metrics_add(fam.signals, v, 1);
}

void
metrics_engine_totals(uint64_t signals, uint64_t filtered)
{
	metrics_init();
	metrics_set(fam.engine_signals, NULL, (double)signals);
	metrics_set(fam.engine_filtered, NULL, (double)filtered);
}

/* Argo's labels: the sensor's namespace and name apart. */
static void
count_argo(struct metrics_family *f, const char *sensor, const char *trigger,
    double n)
{
	const char *slash = strchr(sensor, '/');
	char *ns = slash ? xstrndup(sensor, (size_t)(slash - sensor)) :
	    xstrdup("");
	const char *v[] = { ns, slash ? slash + 1 : sensor, trigger };

	metrics_add(f, v, n);
	free(ns);
}

void
metrics_observe_record(const struct rec_decision_record *r)
{
	const char *reason = rec_reason_name(r->reason);
	const char *dv[] = { r->sensor, r->trigger,
	    rec_decision_name(r->decision), reason ? reason : "" };
	const char *tv[] = { r->sensor, r->trigger };
	json_t *rec = json_object_get(r->extra, "recurrence");
	json_t *ms = json_object_get(r->extra, "durationMs");

	if (r->sensor == NULL || r->trigger == NULL)
		return;
	metrics_init();
	metrics_add(fam.decisions, dv, 1);
	if (r->decision == REC_ACTED) {
		metrics_add(fam.actions, tv, 1);
		count_argo(fam.argo_triggered, r->sensor, r->trigger, 1);
	} else if (r->decision == REC_FAILED) {
		metrics_add(fam.actions_failed, tv, 1);
		count_argo(fam.argo_failed, r->sensor, r->trigger, 1);
	}
	if (json_is_integer(ms))
		metrics_observe(fam.duration, tv,
		    (double)json_integer_value(ms) / 1000.0);
	if (rec) {
		if (r->decision != REC_DEMOTED)	/* counted on its signal */
			metrics_add(fam.recurrences, tv, 1);
		metrics_set(fam.ratio, tv, json_number_value(
		    json_object_get(rec, "ratio")));
	}
	if (r->decision != REC_FAILED)
		metrics_set(fam.demoted, tv, r->decision == REC_DEMOTED ||
		    json_object_get(r->extra, "demoted") ? 1 : 0);
	if (json_is_number(json_object_get(json_object_get(r->extra,
	    "budget"), "value")))
		metrics_set(fam.budget, tv, json_number_value(json_object_get(
		    json_object_get(r->extra, "budget"), "value")));
	/* the circuit is checked after the budget and before the rate limit */
	if (r->reason == REASON_CIRCUIT_OPEN)
		metrics_set(fam.circuit, NULL, 1);
	else if (r->decision == REC_ACTED ||
	    r->reason == REASON_RATE_LIMITED)
		metrics_set(fam.circuit, NULL, 0);
}

void
metrics_init_trigger(const char *sensor, const char *trigger)
{
	const char *tv[] = { sensor, trigger };

	metrics_init();
	metrics_add(fam.actions, tv, 0);
	metrics_add(fam.actions_failed, tv, 0);
	count_argo(fam.argo_triggered, sensor, trigger, 0);
	count_argo(fam.argo_failed, sensor, trigger, 0);
}

void
metrics_engine_heartbeat(double unix_seconds)
{
	metrics_init();
	metrics_set(fam.heartbeat, NULL, unix_seconds);
}

void
metrics_set_state_writable(int ok)
{
	metrics_init();
	metrics_set(fam.writable, NULL, ok ? 1 : 0);
}

void
metrics_observe_latency(double seconds)
{
	metrics_init();
	metrics_observe(fam.latency, NULL, seconds);
}

void
metrics_set_queue_depth(const char *queue, double depth)
{
	const char *v[] = { queue };

	metrics_init();
	metrics_set(fam.queue, v, depth);
}

void
metrics_count_watch_restart(const char *resource)
{
	const char *v[] = { resource };

	metrics_init();
	metrics_add(fam.watch_restarts, v, 1);
}

void
metrics_count_watch_failures(const char *resource, double n)
{
	const char *v[] = { resource };

	metrics_init();
	metrics_add(fam.watch_failures, v, n);
}

void
metrics_watch_list(const char *resource, const char *cause, long pages,
    double seconds)
{
	const char *v[] = { resource, cause };

	metrics_init();
	metrics_add(fam.watch_lists, v, 1);
	metrics_add(fam.watch_list_pages, v, (double)pages);
	metrics_observe(fam.watch_list_seconds, v, seconds);
}

void
metrics_count_page(const char *destination, const char *result)
{
	const char *v[] = { destination, result };

	metrics_init();
	metrics_add(fam.pages, v, 1);
}

void
metrics_set_leader(int leading)
{
	metrics_init();
	metrics_set(fam.leader, NULL, leading ? 1 : 0);
}

void
metrics_count_leader_transition(const char *role)
{
	const char *v[] = { role };

	metrics_init();
	metrics_add(fam.leader_transitions, v, 1);
}

void
metrics_count_reload(const char *result)
{
	const char *v[] = { result };

	metrics_init();
	metrics_add(fam.reloads, v, 1);
}

void
metrics_set_pages_undelivered(double n)
{
	metrics_init();
	metrics_set(fam.undelivered, NULL, n);
}

void
metrics_count_audit_write(const char *result)
{
	const char *v[] = { result };

	metrics_init();
	metrics_add(fam.audit, v, 1);
}

void
metrics_add_state_writer_wait(double seconds)
{
	metrics_init();
	metrics_add(fam.writer_wait, NULL, seconds);
}
