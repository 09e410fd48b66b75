/*
 * The metrics registry: exact exposition text, escaping, histograms,
 * the series cap, concurrent updates, and the record -> metrics mapping.
 * When promtool is installed, the rendering of every family is checked by
 * `promtool check metrics` (Prometheus' own linter and parser).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "metrics/metrics.h"
#include "util/util.h"

static int
contains(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

TEST(counter_gauge_text)
{
	static const char *const labels[] = { "a", "b", NULL };
	struct metrics_family *c, *g;
	const char *v1[] = { "x", "y" }, *v2[] = { "q\"uo\\te\nnl", NULL };
	char *t;

	metrics_shutdown();
	c = metrics_family(METRICS_COUNTER, "t_things_total",
	    "Things.\nSecond line \\ slash.", labels, NULL, 0);
	g = metrics_family(METRICS_GAUGE, "t_level", "Level.", NULL, NULL, 0);
	CHECK(metrics_family(METRICS_COUNTER, "t_things_total", "other help",
	    labels, NULL, 0) == c);
	metrics_add(c, v1, 2);
	metrics_add(c, v1, 0.5);
	metrics_add(c, v1, -7);		/* counters never go down */
	metrics_add(c, v2, 1);
	metrics_set(g, NULL, -3.25);
	CHECK(metrics_get(c, v1) == 2.5);
	t = metrics_render();
	CHECK_STR(t,
	    "# HELP t_things_total Things.\\nSecond line \\\\ slash.\n"
	    "# TYPE t_things_total counter\n"
	    "t_things_total{a=\"q\\\"uo\\\\te\\nnl\",b=\"\"} 1\n"
	    "t_things_total{a=\"x\",b=\"y\"} 2.5\n"
	    "# HELP t_level Level.\n"
	    "# TYPE t_level gauge\n"
	    "t_level -3.25\n"
	    "# HELP remediate_metrics_series_dropped_total Updates dropped "
	    "because a family reached 10000 series.\n"
	    "# TYPE remediate_metrics_series_dropped_total counter\n"
	    "remediate_metrics_series_dropped_total 0\n");
	free(t);
	metrics_shutdown();
}

TEST(histogram_buckets_are_cumulative)
{
	static const char *const labels[] = { "op", NULL };
	static const double b[] = { 0.1, 1 };
	struct metrics_family *h;
	const char *v[] = { "get" };
	char *t;

	metrics_shutdown();
	h = metrics_family(METRICS_HISTOGRAM, "t_seconds", "Time.", labels, b,
	    2);
	metrics_observe(h, v, 0.05);
	metrics_observe(h, v, 0.1);	/* le is inclusive */
	metrics_observe(h, v, 0.5);
	metrics_observe(h, v, 3);
	t = metrics_render();
	CHECK(contains(t, "# TYPE t_seconds histogram\n"
	    "t_seconds_bucket{op=\"get\",le=\"0.10000000000000001\"} 2\n"
	    "t_seconds_bucket{op=\"get\",le=\"1\"} 3\n"
	    "t_seconds_bucket{op=\"get\",le=\"+Inf\"} 4\n"
	    "t_seconds_sum{op=\"get\"} 3.6499999999999999\n"
	    "t_seconds_count{op=\"get\"} 4\n"));
	CHECK(metrics_get(h, v) == 4);
	free(t);
	metrics_shutdown();
}

TEST(series_cap_counts_drops)
{
	static const char *const labels[] = { "k", NULL };
	struct metrics_family *c;
	char key[32], *t;
	const char *v[] = { key };
	int i;

	metrics_shutdown();
	c = metrics_family(METRICS_COUNTER, "t_many_total", "Many.", labels,
	    NULL, 0);
	for (i = 0; i < METRICS_MAX_SERIES + 5; i++) {
		snprintf(key, sizeof key, "k%d", i);
		metrics_add(c, v, 1);
	}
	CHECK(metrics_get(c, v) == 0);		/* the last one was dropped */
	snprintf(key, sizeof key, "k0");
	metrics_add(c, v, 1);		/* existing series still count */
	CHECK(metrics_get(c, v) == 2);
	t = metrics_render();
	CHECK(contains(t, "remediate_metrics_series_dropped_total 5\n"));
	free(t);
	metrics_shutdown();
}

#define THREADS	4
#define UPDATES	50000

static void *
hammer(void *arg)
{
	struct metrics_family *c = arg;
	const char *v[] = { "same" };
	int i;

	for (i = 0; i < UPDATES; i++) {
		metrics_add(c, v, 1);
		metrics_count_page("alertmanager", "sent");
		if (i % 5000 == 0)
			free(metrics_render());
	}
	return NULL;
}

TEST(concurrent_updates_are_not_lost)
{
	static const char *const labels[] = { "k", NULL };
	const char *v[] = { "same" };
	pthread_t th[THREADS];
	struct metrics_family *c;
	int i;

	metrics_shutdown();
	c = metrics_family(METRICS_COUNTER, "t_racy_total", "Racy.", labels,
	    NULL, 0);
	for (i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, hammer, c);
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	CHECK(metrics_get(c, v) == THREADS * UPDATES);
	metrics_shutdown();
}

static void
record(struct rec_decision_record *r, enum rec_decision d,
    enum rec_reason reason)
{
	memset(r, 0, sizeof *r);
	r->time = 1764064800000LL;
	r->sensor = "argo-events/oom-remediation";
	r->trigger = "bump-memory";
	r->decision = d;
	r->reason = reason;
}

TEST(records_become_decisions_actions_and_argo_counters)
{
	struct rec_decision_record r;
	char *t;

	metrics_shutdown();
	record(&r, REC_ACTED, REASON_NONE);
	r.extra = json_pack("{s:i}", "durationMs", 1500);
	metrics_observe_record(&r);
	json_decref(r.extra);
	record(&r, REC_FAILED, REASON_NONE);
	metrics_observe_record(&r);
	record(&r, REC_SUPPRESSED, REASON_RATE_LIMITED);
	r.extra = json_pack("{s:{s:s, s:i, s:i, s:f}}", "recurrence", "of",
	    "2025-11-25T10:00:00Z", "actions", 4, "recurred", 3, "ratio",
	    0.75);
	metrics_observe_record(&r);
	json_decref(r.extra);
	record(&r, REC_DEMOTED, REASON_NONE);
	r.extra = json_pack("{s:{s:f}}", "recurrence", "ratio", 0.75);
	metrics_observe_record(&r);
	json_decref(r.extra);
	t = metrics_render();
	CHECK(contains(t, "remediate_decisions_total{sensor=\"argo-events/"
	    "oom-remediation\",trigger=\"bump-memory\",decision=\"acted\","
	    "reason=\"\"} 1\n"));
	CHECK(contains(t, "decision=\"suppressed\",reason=\"rate-limited\"} "
	    "1\n"));
	CHECK(contains(t, "argo_events_action_triggered_total{namespace="
	    "\"argo-events\",sensor_name=\"oom-remediation\",trigger_name="
	    "\"bump-memory\"} 1\n"));
	CHECK(contains(t, "argo_events_action_failed_total{namespace="
	    "\"argo-events\",sensor_name=\"oom-remediation\",trigger_name="
	    "\"bump-memory\"} 1\n"));
	CHECK(contains(t, "remediate_actions_total{sensor=\"argo-events/"
	    "oom-remediation\",trigger=\"bump-memory\"} 1\n"));
	/* the demoted record repeats the recurrence: counted once */
	CHECK(contains(t, "remediate_recurrences_total{sensor=\"argo-events/"
	    "oom-remediation\",trigger=\"bump-memory\"} 1\n"));
	CHECK(contains(t, "remediate_recurrence_ratio{sensor=\"argo-events/"
	    "oom-remediation\",trigger=\"bump-memory\"} 0.75\n"));
	CHECK(contains(t, "remediate_trigger_demoted{sensor=\"argo-events/"
	    "oom-remediation\",trigger=\"bump-memory\"} 1\n"));
	CHECK(contains(t, "remediate_action_duration_seconds_bucket{sensor="
	    "\"argo-events/oom-remediation\",trigger=\"bump-memory\",le=\"1\"}"
	    " 0\n"));
	CHECK(contains(t, "le=\"2.5\"} 1\n"));
	CHECK(contains(t, "remediate_build_info{version=\""));
	free(t);
	/* a later record without the demotion clears the gauge */
	record(&r, REC_NOTIFIED, REASON_NONE);
	metrics_observe_record(&r);
	t = metrics_render();
	CHECK(contains(t, "remediate_trigger_demoted{sensor=\"argo-events/"
	    "oom-remediation\",trigger=\"bump-memory\"} 0\n"));
	free(t);
	metrics_shutdown();
}

/* The budget value, the circuit, the heartbeat and the state file. */
TEST(budget_circuit_heartbeat_and_state_gauges)
{
	struct rec_decision_record r;
	char *t;

	metrics_shutdown();
	metrics_init();
	t = metrics_render();
	/* closed until a record says otherwise, and present from the start */
	CHECK(contains(t, "remediate_circuit_open 0\n"));
	free(t);
	record(&r, REC_SUPPRESSED, REASON_BUDGET);
	r.extra = json_pack("{s:{s:s, s:f}}", "budget", "query", "q",
	    "value", 0.25);
	metrics_observe_record(&r);
	json_decref(r.extra);
	record(&r, REC_SUPPRESSED, REASON_CIRCUIT_OPEN);
	r.extra = json_pack("{s:{s:s, s:n}}", "budget", "query", "q",
	    "value");
	metrics_observe_record(&r);	/* no value: the last one stays */
	json_decref(r.extra);
	metrics_init_trigger("argo-events/oom-remediation", "never-acted");
	metrics_engine_heartbeat(1764000000.5);
	metrics_set_state_writable(0);
	t = metrics_render();
	CHECK(contains(t, "remediate_budget_value{sensor=\"argo-events/"
	    "oom-remediation\",trigger=\"bump-memory\"} 0.25\n"));
	CHECK(contains(t, "remediate_circuit_open 1\n"));
	CHECK(contains(t, "remediate_engine_heartbeat_timestamp_seconds "
	    "1764000000.5\n"));
	CHECK(contains(t, "remediate_state_writable 0\n"));
	/* a trigger's counters exist at 0 before its first action */
	CHECK(contains(t, "remediate_actions_failed_total{sensor=\"argo-"
	    "events/oom-remediation\",trigger=\"never-acted\"} 0\n"));
	CHECK(contains(t, "argo_events_action_triggered_total{namespace="
	    "\"argo-events\",sensor_name=\"oom-remediation\",trigger_name="
	    "\"never-acted\"} 0\n"));
	free(t);
	/* a rate-limited decision went past the circuit: it is closed */
	record(&r, REC_SUPPRESSED, REASON_COOLDOWN);
	metrics_observe_record(&r);
	t = metrics_render();
	CHECK(contains(t, "remediate_circuit_open 1\n"));
	free(t);
	record(&r, REC_SUPPRESSED, REASON_RATE_LIMITED);
	metrics_observe_record(&r);
	metrics_set_state_writable(1);
	t = metrics_render();
	CHECK(contains(t, "remediate_circuit_open 0\n"));
	CHECK(contains(t, "remediate_state_writable 1\n"));
	free(t);
	metrics_shutdown();
}

/* Every family with a series, through promtool when it is installed. */
TEST(promtool_accepts_the_exposition)
{
	struct rec_decision_record r;
	char path[] = "/tmp/remediate-metrics-XXXXXX", *t, *cmd;
	FILE *f;
	int fd, rc;

	if (system("command -v promtool >/dev/null 2>&1") != 0) {
		printf("skip: promtool not installed (Debian package "
		    "prometheus; scripts/install-deps --test)\n");
		return;
	}
	metrics_shutdown();
	metrics_count_signal("k8s-events", "oom");
	metrics_engine_totals(10, 2);
	record(&r, REC_ACTED, REASON_NONE);
	r.extra = json_pack("{s:i, s:{s:f}}", "durationMs", 20, "recurrence",
	    "ratio", 0.25);
	metrics_observe_record(&r);
	json_decref(r.extra);
	metrics_observe_latency(0.002);
	metrics_set_queue_depth("engine", 3);
	metrics_count_watch_restart("pods");
	metrics_count_page("alertmanager", "sent");
	metrics_count_audit_write("ok");
	metrics_http_server(7, 2, 1, 1, 3);
	metrics_webhook_requests("received", 9);
	metrics_webhook_requests("unauthorized", 2);
	metrics_webhook_events("queued", 12);
	t = metrics_render();
	CHECK(contains(t, "remediate_http_requests_total{code=\"4xx\"} 2\n"));
	CHECK(contains(t, "remediate_http_connections_open 3\n"));
	CHECK(contains(t, "remediate_webhook_requests_total{result="
	    "\"unauthorized\"} 2\n"));
	CHECK(contains(t, "remediate_webhook_events_total{result=\"queued\"} 12"
	    "\n"));
	fd = mkstemp(path);
	CHECK(fd >= 0);
	f = fdopen(fd, "w");
	fputs(t, f);
	fclose(f);
	cmd = xasprintf("promtool check metrics < %s", path);
	rc = system(cmd);
	CHECK_INT(rc, 0);
	if (rc != 0)
		fputs(t, stderr);
	unlink(path);
	free(cmd);
	free(t);
	metrics_shutdown();
}

int
main(void)
{
	RUN(counter_gauge_text);
	RUN(histogram_buckets_are_cumulative);
	RUN(series_cap_counts_drops);
	RUN(concurrent_updates_are_not_lost);
	RUN(records_become_decisions_actions_and_argo_counters);
	RUN(budget_circuit_heartbeat_and_state_gauges);
	RUN(promtool_accepts_the_exposition);
	return harness_done();
}
