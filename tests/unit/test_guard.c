/*
 * Every guardrail: a case where it stops the action and a case where it
 * lets it through, with the clock driven by the test (no sleeping).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard/guard.h"
#include "harness.h"

#define S	1000LL
#define MIN	(60 * S)
#define T0	1764064800000LL	/* 2025-11-25T10:00:00Z */

static char msg[GUARD_MSGLEN];

TEST(defaults_are_safe)
{
	struct guard_config c;

	guard_config_defaults(&c);
	CHECK(c.mode == MODE_DRY_RUN);
	CHECK_INT(c.rate_per_unit, 1);
	CHECK_INT(c.rate_unit, MIN);
	CHECK_INT(c.cooldown, 10 * MIN);
	CHECK_INT(c.max_signal_age, 5 * MIN);
	CHECK_STR(c.optin_key, "remediation.platform/optin");
	CHECK_STR(c.optin_value, "true");
	CHECK(c.max_cluster_impact == 0.05);
	CHECK_INT(c.circuit_max, 10);
	CHECK(c.budget_query == NULL);
	guard_config_clear(&c);
}

TEST(stale)
{
	struct guard_config c;

	guard_config_defaults(&c);
	c.max_signal_age = 2 * MIN;
	CHECK(guard_check_stale(&c, T0, T0 + 2 * MIN, msg, sizeof msg) == 1);
	CHECK(guard_check_stale(&c, T0, T0 + 2 * MIN + 1, msg, sizeof msg)
	    == 0);
	CHECK_STR(msg, "signal is 2m0.001s old, older than maxSignalAge 2m");
	/* undated: never taken as fresh */
	CHECK(guard_check_stale(&c, 0, T0, msg, sizeof msg) == 0);
	CHECK_STR(msg, "the signal carries no readable timestamp: counted as "
	    "older than maxSignalAge");
	guard_config_clear(&c);
}

TEST(threshold_counts_signals_inside_window_including_current)
{
	struct guard_config c;
	struct guard_state *g = guard_state_new();

	guard_config_defaults(&c);
	c.threshold_count = 2;
	c.threshold_within = 5 * MIN;
	CHECK(guard_check_threshold(g, &c, "t", "Deployment/shop/cart", T0,
	    msg, sizeof msg) == 0);
	CHECK_STR(msg, "1 of 2 signals within 5m");
	/* another target does not count toward this one */
	CHECK(guard_check_threshold(g, &c, "t", "Deployment/shop/other",
	    T0 + S, msg, sizeof msg) == 0);
	CHECK(guard_check_threshold(g, &c, "t", "Deployment/shop/cart",
	    T0 + 5 * MIN, msg, sizeof msg) == 1);
	/* decisions do not reset the count: a third signal still passes */
	CHECK(guard_check_threshold(g, &c, "t", "Deployment/shop/cart",
	    T0 + 6 * MIN, msg, sizeof msg) == 1);
	/* signals are timed by their own clocks: one that arrives late,
	   within the window before the last, counts */
	CHECK(guard_check_threshold(g, &c, "t", "Deployment/shop/late",
	    T0 + 10 * MIN, msg, sizeof msg) == 0);
	CHECK(guard_check_threshold(g, &c, "t", "Deployment/shop/late",
	    T0 + 6 * MIN, msg, sizeof msg) == 1);
	/* outside the window the count starts over */
	CHECK(guard_check_threshold(g, &c, "t", "Deployment/shop/cart",
	    T0 + 20 * MIN, msg, sizeof msg) == 0);
	guard_state_free(g);
	guard_config_clear(&c);
}

/*
 * The window keeps the latest signals by their own clocks: a late
 * signal from before the others must not push out a newer one that
 * arrived earlier (counting would then err strict).
 */
TEST(threshold_window_keeps_the_latest_by_signal_time)
{
	struct guard_config c;
	struct guard_state *g = guard_state_new();
	const char *k = "Deployment/shop/cart";

	guard_config_defaults(&c);
	c.threshold_count = 3;
	c.threshold_within = 5 * MIN;
	CHECK(guard_check_threshold(g, &c, "t", k, T0 + 10 * MIN, msg,
	    sizeof msg) == 0);
	/* late, and outside the window of the others */
	CHECK(guard_check_threshold(g, &c, "t", k, T0, msg, sizeof msg) ==
	    0);
	CHECK(guard_check_threshold(g, &c, "t", k, T0 + 11 * MIN, msg,
	    sizeof msg) == 0);
	CHECK_STR(msg, "2 of 3 signals within 5m");
	/* 10m, 11m, 12m: three within 5m, the one at 0 is what goes */
	CHECK(guard_check_threshold(g, &c, "t", k, T0 + 12 * MIN, msg,
	    sizeof msg) == 1);
	/* a late one earlier than every kept signal still counts itself */
	msg[0] = '\0';
	CHECK(guard_check_threshold(g, &c, "t", k, T0 + 1 * MIN, msg,
	    sizeof msg) == 0);
	CHECK_STR(msg, "1 of 3 signals within 5m");
	CHECK(guard_check_threshold(g, &c, "t", k, T0 + 9 * MIN, msg,
	    sizeof msg) == 1);
	guard_state_free(g);
	guard_config_clear(&c);
}

TEST(cooldown)
{
	struct guard_config c;
	struct guard_state *g = guard_state_new();

	guard_config_defaults(&c);
	c.cooldown = 15 * MIN;
	CHECK(guard_check_cooldown(g, &c, "t", "D/ns/a", T0, msg,
	    sizeof msg) == 1);
	guard_record_action(g, "t", "D/ns/a", T0);
	CHECK(guard_check_cooldown(g, &c, "t", "D/ns/a", T0 + 14 * MIN, msg,
	    sizeof msg) == 0);
	CHECK_STR(msg, "last action 14m ago, inside the 15m cooldown");
	/* per (trigger, target): other targets and triggers are free */
	CHECK(guard_check_cooldown(g, &c, "t", "D/ns/b", T0 + MIN, msg,
	    sizeof msg) == 1);
	CHECK(guard_check_cooldown(g, &c, "u", "D/ns/a", T0 + MIN, msg,
	    sizeof msg) == 1);
	CHECK(guard_check_cooldown(g, &c, "t", "D/ns/a", T0 + 15 * MIN, msg,
	    sizeof msg) == 1);
	guard_state_free(g);
	guard_config_clear(&c);
}

static void
keep_entry(void *ctx, const char *kind, const char *key, json_t *value)
{
	struct guard_state *to = ctx;

	if (value)
		CHECK(guard_state_load(to, kind, key, value) == 0);
}

/*
 * A failed action holds a short retry backoff, not the cooldown; failures
 * in a row double it up to the cooldown; a success ends the run; the
 * backoff survives a restart (journal and load).
 */
TEST(failed_action_holds_a_retry_backoff)
{
	struct guard_config c;
	struct guard_state *g = guard_state_new(), *g2 = guard_state_new();

	guard_config_defaults(&c);
	c.cooldown = 15 * MIN;
	guard_state_track(g);
	guard_record_action(g, "t", "D/ns/a", T0);
	guard_record_failure(g, &c, "t", "D/ns/a", T0 + 1000);
	/* inside the backoff: stopped, and told why */
	CHECK(guard_check_cooldown(g, &c, "t", "D/ns/a", T0 + 30000, msg,
	    sizeof msg) == 0);
	CHECK_STR(msg, "last action 30s ago failed, retry allowed in 31s");
	/* after it, long before the cooldown: allowed */
	CHECK(guard_check_cooldown(g, &c, "t", "D/ns/a", T0 + 1000 + MIN,
	    msg, sizeof msg) == 1);
	/* the same state after a restart */
	guard_state_journal(g, 1, keep_entry, g2);
	CHECK(guard_check_cooldown(g2, &c, "t", "D/ns/a", T0 + 30000, msg,
	    sizeof msg) == 0);
	CHECK(guard_check_cooldown(g2, &c, "t", "D/ns/a", T0 + 1000 + MIN,
	    msg, sizeof msg) == 1);
	/* the retry fails too: 2m; a third: 4m; never past the cooldown */
	guard_record_action(g, "t", "D/ns/a", T0 + 2 * MIN);
	CHECK(guard_check_cooldown(g, &c, "t", "D/ns/a", T0 + 4 * MIN, msg,
	    sizeof msg) == 0);		/* an action: the cooldown again */
	guard_record_failure(g, &c, "t", "D/ns/a", T0 + 2 * MIN);
	CHECK(guard_check_cooldown(g, &c, "t", "D/ns/a", T0 + 4 * MIN - 1,
	    msg, sizeof msg) == 0);
	CHECK(guard_check_cooldown(g, &c, "t", "D/ns/a", T0 + 4 * MIN, msg,
	    sizeof msg) == 1);
	CHECK_INT(guard_retry_backoff(&c, 3), 4 * MIN);
	CHECK_INT(guard_retry_backoff(&c, 5), 15 * MIN);
	CHECK_INT(guard_retry_backoff(&c, 40), 15 * MIN);
	/* a success: the next action holds the full cooldown again, and a
	   later failure starts from the first backoff */
	guard_record_action(g, "t", "D/ns/a", T0 + 5 * MIN);
	guard_record_remediation(g, &c, "t", "D/ns/a", T0 + 5 * MIN);
	CHECK(guard_check_cooldown(g, &c, "t", "D/ns/a", T0 + 19 * MIN, msg,
	    sizeof msg) == 0);
	CHECK(guard_check_cooldown(g, &c, "t", "D/ns/a", T0 + 20 * MIN, msg,
	    sizeof msg) == 1);
	guard_record_action(g, "t", "D/ns/a", T0 + 20 * MIN);
	guard_record_failure(g, &c, "t", "D/ns/a", T0 + 20 * MIN);
	CHECK(guard_check_cooldown(g, &c, "t", "D/ns/a", T0 + 21 * MIN, msg,
	    sizeof msg) == 1);
	guard_state_free(g);
	guard_state_free(g2);
	guard_config_clear(&c);
}

TEST(optin_on_controller_or_pod)
{
	struct guard_config c;
	json_t *in = json_loads("{\"metadata\":{\"labels\":{"
	    "\"remediation.platform/optin\":\"true\"}}}", 0, NULL);
	json_t *wrong = json_loads("{\"metadata\":{\"labels\":{"
	    "\"remediation.platform/optin\":\"false\"}}}", 0, NULL);
	json_t *none = json_loads("{\"metadata\":{}}", 0, NULL);

	guard_config_defaults(&c);
	CHECK(guard_check_optin(&c, in, none, msg, sizeof msg) == 1);
	CHECK(guard_check_optin(&c, none, in, msg, sizeof msg) == 1);
	CHECK(guard_check_optin(&c, wrong, none, msg, sizeof msg) == 0);
	CHECK(guard_check_optin(&c, NULL, NULL, msg, sizeof msg) == 0);
	CHECK_STR(msg, "target not found in the cluster; cannot read its "
	    "opt-in label remediation.platform/optin=true");
	/* the key with another value on either side is a veto */
	CHECK(guard_check_optin(&c, wrong, in, msg, sizeof msg) == 0);
	CHECK_STR(msg, "the workload opts out: label "
	    "remediation.platform/optin=false (opt-in wants true)");
	CHECK(guard_check_optin(&c, in, wrong, msg, sizeof msg) == 0);
	CHECK_STR(msg, "the pod opts out: label "
	    "remediation.platform/optin=false (opt-in wants true)");
	CHECK(guard_check_optin(&c, in, in, msg, sizeof msg) == 1);
	CHECK_INT(guard_optin_label(wrong, c.optin_key, "true"), -1);
	CHECK_INT(guard_optin_label(none, c.optin_key, "true"), 0);
	CHECK_INT(guard_optin_label(NULL, c.optin_key, "true"), 0);
	CHECK_INT(guard_optin_label(in, c.optin_key, "true"), 1);
	/* a label given as a key alone: any value opts in, none vetoes */
	CHECK_INT(guard_optin_label(wrong, c.optin_key, NULL), 1);
	json_decref(in);
	json_decref(wrong);
	json_decref(none);
	guard_config_clear(&c);
}

TEST(blast_radius)
{
	struct guard_config c;

	guard_config_defaults(&c);
	CHECK(guard_check_blast_radius(&c, 5, 100, msg, sizeof msg) == 1);
	CHECK(guard_check_blast_radius(&c, 6, 100, msg, sizeof msg) == 0);
	CHECK_STR(msg, "would move 6 of 100 pods (6.0%), above "
	    "maxClusterImpact 5.0%");
	/* a target whose pods cannot be counted is not counted as none */
	CHECK(guard_check_blast_radius(&c, -1, 100, msg, sizeof msg) == 0);
	CHECK_STR(msg, "cannot tell how many pods the target runs (no "
	    "spec.replicas): counted as above maxClusterImpact 5.0%");
	c.max_cluster_impact = 1.0;
	CHECK(guard_check_blast_radius(&c, -1, 100, msg, sizeof msg) == 1);
	c.max_cluster_impact = 0.05;
	/* a listed cluster with no Pod: nothing to weigh against */
	CHECK(guard_check_blast_radius(&c, 3, 0, msg, sizeof msg) == 1);
	/* a view that has not listed: its count means nothing */
	msg[0] = '\0';
	CHECK(guard_check_blast_radius(&c, 1, -1, msg, sizeof msg) == 0);
	CHECK_STR(msg, "the cluster view has not listed its pods yet: "
	    "counted as above maxClusterImpact 5.0%");
	CHECK(guard_check_blast_radius(&c, 0, -1, msg, sizeof msg) == 1);
	c.max_cluster_impact = 1.0;
	CHECK(guard_check_blast_radius(&c, 1, -1, msg, sizeof msg) == 1);
	c.max_cluster_impact = 0.05;
	/* memory requests an action adds, against the Nodes' allocatable */
	CHECK(guard_check_blast_radius_memory(&c, 100 << 20, 2048LL << 20,
	    msg, sizeof msg) == 1);
	CHECK(guard_check_blast_radius_memory(&c, 128 << 20, 2048LL << 20,
	    msg, sizeof msg) == 0);
	CHECK_STR(msg, "would add 128 MiB of memory requests, 6.2% of the "
	    "2048 MiB the cluster's Nodes can allocate, above maxClusterImpact "
	    "5.0%");
	CHECK(guard_check_blast_radius_memory(&c, 1LL << 40, 0, msg,
	    sizeof msg) == 1);		/* no Node known */
	guard_config_clear(&c);
}

/*
 * "Stops when more than maxClusterImpact": exactly the limit passes for
 * every percentage, though 29% is 0.29 and 0.29 * 100 is
 * 28.999999999999996 in binary floating point.
 */
TEST(blast_radius_exactly_at_the_limit_passes)
{
	struct guard_fleet_ask q;
	struct guard_fleet_answer a;
	struct guard_config c;
	long p, total;

	guard_config_defaults(&c);
	for (p = 1; p <= 100; p++) {
		c.max_cluster_impact = (double)p / 100;	/* as "p%" parses */
		for (total = 100; total <= 1000; total += 100) {
			CHECK(guard_check_blast_radius(&c, p * total / 100,
			    total, msg, sizeof msg) == 1);
			CHECK(guard_check_blast_radius(&c, p * total / 100 + 1,
			    total, msg, sizeof msg) == 0);
			CHECK(guard_check_blast_radius_memory(&c,
			    p * total / 100 << 20, total << 20, msg,
			    sizeof msg) == 1);
		}
	}
	memset(&q, 0, sizeof q);
	memset(&a, 0, sizeof a);
	q.impact = 0.29;
	q.pods = 9;
	a.moving = 20;
	a.total = 100;
	CHECK(guard_fleet_admits(&q, &a) == 1);
	q.pods = 10;
	CHECK(guard_fleet_admits(&q, &a) == 0);
	guard_config_clear(&c);
}

TEST(budget_fails_closed)
{
	struct guard_config c;

	guard_config_defaults(&c);
	CHECK(guard_check_budget(&c, 0, 0, 0, T0, msg, sizeof msg) == 1);
	c.budget_query = xstrdup("q");
	c.budget_min = 0.25;
	CHECK(guard_check_budget(&c, 1, 0.5, T0, T0, msg, sizeof msg) == 1);
	CHECK(guard_check_budget(&c, 1, 0.25, T0, T0, msg, sizeof msg) == 1);
	CHECK(guard_check_budget(&c, 1, 0.2, T0, T0, msg, sizeof msg) == 0);
	CHECK_STR(msg, "error budget 0.2 below minimum 0.25");
	CHECK(guard_check_budget(&c, 0, 0, 0, T0, msg, sizeof msg) == 0);
	/* a value older than maxAge counts as no value */
	CHECK(guard_check_budget(&c, 1, 0.9, T0, T0 + 6 * MIN, msg,
	    sizeof msg) == 0);
	CHECK_STR(msg, "error-budget value is 6m old: counted as no budget");
	guard_config_clear(&c);
}

TEST(circuit)
{
	struct guard_config c;
	struct guard_state *g = guard_state_new();
	int i;

	guard_config_defaults(&c);
	c.circuit_max = 3;
	c.circuit_within = 10 * MIN;
	for (i = 0; i < 3; i++) {
		CHECK(guard_check_circuit(g, &c, T0 + i, msg, sizeof msg));
		guard_record_action(g, i % 2 ? "a" : "b", "x", T0 + i);
	}
	CHECK(guard_check_circuit(g, &c, T0 + 5, msg, sizeof msg) == 0);
	CHECK_STR(msg, "3 actions across all triggers within 10m");
	CHECK(guard_check_circuit(g, &c, T0 + 10 * MIN + 1, msg,
	    sizeof msg) == 1);
	guard_state_free(g);
	guard_config_clear(&c);
}

/*
 * A confirm decision left its marks at T0; approving at T0+2m must not
 * count that own mark against the circuit, and acting moves the marks
 * (cooldown from the real action, circuit counted once).
 */
TEST(approval_counts_its_own_marks_once)
{
	struct guard_config c;
	struct guard_state *g = guard_state_new();

	guard_config_defaults(&c);
	c.circuit_max = 2;
	c.circuit_within = 10 * MIN;
	c.cooldown = 5 * MIN;
	CHECK(guard_last_action(g, "t", "D/ns/a") == 0);
	guard_record_action(g, "t", "D/ns/a", T0);		/* pending */
	guard_record_action(g, "u", "D/ns/b", T0 + MIN);	/* another */
	CHECK(guard_last_action(g, "t", "D/ns/a") == T0);
	/* two marks: the plain check stops, the approval's does not */
	CHECK(guard_check_circuit(g, &c, T0 + 2 * MIN, msg, sizeof msg) == 0);
	CHECK(guard_check_circuit_approved(g, &c, T0, T0 + 2 * MIN, msg,
	    sizeof msg) == 1);
	/* a decided time that left no mark excludes nothing */
	CHECK(guard_check_circuit_approved(g, &c, T0 + 7, T0 + 2 * MIN, msg,
	    sizeof msg) == 0);
	guard_record_approved_action(g, "t", "D/ns/a", T0, T0 + 2 * MIN);
	CHECK(guard_last_action(g, "t", "D/ns/a") == T0 + 2 * MIN);
	/* still two marks in all, the moved one newer */
	CHECK(guard_check_circuit(g, &c, T0 + 2 * MIN, msg, sizeof msg) == 0);
	CHECK_STR(msg, "2 actions across all triggers within 10m");
	/* at T0+11m the old mark (T0) would be out; the moved one is in */
	c.circuit_max = 1;
	CHECK(guard_check_circuit(g, &c, T0 + 11 * MIN, msg, sizeof msg) == 0);
	CHECK_STR(msg, "1 actions across all triggers within 10m");
	CHECK(guard_check_circuit(g, &c, T0 + 12 * MIN, msg, sizeof msg) == 1);
	/* the cooldown runs from the approved action, not the decision */
	CHECK(guard_check_cooldown(g, &c, "t", "D/ns/a", T0 + 6 * MIN, msg,
	    sizeof msg) == 0);
	CHECK(guard_check_cooldown(g, &c, "t", "D/ns/a", T0 + 7 * MIN, msg,
	    sizeof msg) == 1);
	guard_state_free(g);
	guard_config_clear(&c);
}

TEST(rate_bucket_starts_full_refills_evenly_and_drops)
{
	struct guard_config c;
	struct guard_state *g = guard_state_new();

	guard_config_defaults(&c);
	c.rate_per_unit = 2;
	c.rate_unit = MIN;
	CHECK(guard_take_rate_token(g, &c, "t", T0, msg, sizeof msg) == 1);
	CHECK(guard_take_rate_token(g, &c, "t", T0, msg, sizeof msg) == 1);
	CHECK(guard_take_rate_token(g, &c, "t", T0 + S, msg, sizeof msg)
	    == 0);
	CHECK_STR(msg, "2 per Minute reached");
	/* one token back after half the unit, not before */
	CHECK(guard_take_rate_token(g, &c, "t", T0 + 29 * S, msg, sizeof msg)
	    == 0);
	CHECK(guard_take_rate_token(g, &c, "t", T0 + 30 * S, msg, sizeof msg)
	    == 1);
	/* buckets are per trigger */
	CHECK(guard_take_rate_token(g, &c, "u", T0 + 30 * S, msg, sizeof msg)
	    == 1);
	/* a clock that steps back refills nothing */
	CHECK(guard_take_rate_token(g, &c, "t", T0, msg, sizeof msg) == 0);
	guard_state_free(g);
	guard_config_clear(&c);
}

TEST(rate_token_left_says_what_the_take_would_and_changes_nothing)
{
	struct guard_config c;
	struct guard_state *g = guard_state_new();
	int i;

	guard_config_defaults(&c);
	c.rate_per_unit = 2;
	c.rate_unit = MIN;
	/* a bucket never used starts full */
	for (i = 0; i < 3; i++)
		CHECK(guard_rate_token_left(g, &c, "t", T0) == 1);
	CHECK(guard_take_rate_token(g, &c, "t", T0, msg, sizeof msg) == 1);
	CHECK(guard_rate_token_left(g, &c, "t", T0) == 1);
	CHECK(guard_take_rate_token(g, &c, "t", T0, msg, sizeof msg) == 1);
	CHECK(guard_rate_token_left(g, &c, "t", T0 + S) == 0);
	/* refilled as the take refills: not before half the unit */
	CHECK(guard_rate_token_left(g, &c, "t", T0 + 29 * S) == 0);
	CHECK(guard_rate_token_left(g, &c, "t", T0 + 30 * S) == 1);
	/* and asking at a later time spent nothing: the take still finds
	   exactly one token there */
	CHECK(guard_take_rate_token(g, &c, "t", T0 + 30 * S, msg, sizeof msg)
	    == 1);
	CHECK(guard_rate_token_left(g, &c, "t", T0 + 30 * S) == 0);
	/* per trigger */
	CHECK(guard_rate_token_left(g, &c, "u", T0 + 30 * S) == 1);
	guard_state_free(g);
	guard_config_clear(&c);
}

TEST(config_block_overrides_and_reports_errors)
{
	struct guard_config c;
	struct diags dg;
	struct mdoc doc = { 0 };
	char file[] = "x.yaml";
	json_t *good = json_loads("{\"mode\":\"auto\",\"cooldown\":\"15m\","
	    "\"threshold\":{\"count\":2,\"within\":\"5m\"},"
	    "\"budget\":{\"query\":\"q\",\"min\":0.25},"
	    "\"maxClusterImpact\":\"10%\","
	    "\"optIn\":{\"label\":\"team/auto=yes\"}}", 0, NULL);
	json_t *bad = json_loads("{\"mode\":\"autp\",\"cooldown\":\"soon\","
	    "\"maxClusterImpact\":\"150%\"}", 0, NULL);

	doc.file = file;
	diag_init(&dg);
	guard_config_defaults(&c);
	CHECK(guard_config_apply(&c, good, &doc, &dg) == 0);
	CHECK(c.mode == MODE_AUTO);
	CHECK_INT(c.cooldown, 15 * MIN);
	CHECK_INT(c.threshold_count, 2);
	CHECK(c.max_cluster_impact == 0.10);
	CHECK_STR(c.optin_key, "team/auto");
	CHECK_STR(c.optin_value, "yes");
	CHECK_STR(c.budget_query, "q");
	CHECK_INT(c.max_signal_age, 5 * MIN);	/* untouched default */
	CHECK(guard_config_apply(&c, bad, &doc, &dg) == -1);
	CHECK_INT(dg.errors, 3);
	CHECK(dg.n > 0 && dg.v[0].hint != NULL);	/* did you mean auto */
	json_decref(good);
	json_decref(bad);
	diag_free(&dg);
	guard_config_clear(&c);
}

/*
 * A ledger as the fleet module keeps one, in memory: slots of several
 * clusters, each with the pods it moves, and the clusters' pod totals.
 * It applies guard_fleet_admits as the real one does under its lock.
 */
struct fake_ledger {
	int64_t	 at[64];
	long	 pods[64];
	int	 n;
	long	 others_pods;	/* pods of the other clusters */
	int	 broken;	/* ask fails: the database is gone */
	int	 asks, released;
};

static int
fake_ask(void *ctx, const struct guard_fleet_ask *q,
    struct guard_fleet_answer *a, char *err, size_t errlen)
{
	struct fake_ledger *l = ctx;
	int i, own = -1;

	l->asks++;
	if (l->broken) {
		snprintf(err, errlen, "postgres://db.example/remediate: "
		    "connection refused");
		return -1;
	}
	memset(a, 0, sizeof *a);
	for (i = 0; i < l->n; i++) {
		if (l->at[i] <= q->now - q->within)
			continue;
		if (q->own && l->at[i] == q->own && own == -1) {
			own = i;
			continue;
		}
		a->actions++;
		a->moving += l->pods[i];
	}
	a->total = q->cluster_pods + l->others_pods;
	a->clusters = l->others_pods ? 2 : 1;
	if (q->reserve && guard_fleet_admits(q, a)) {
		if (own == -1)
			own = l->n++;
		l->at[own] = q->now;
		l->pods[own] = q->pods;
		a->slot = q->now;
	}
	return 0;
}

static void
fake_release(void *ctx, int64_t slot)
{
	struct fake_ledger *l = ctx;
	int i;

	for (i = 0; i < l->n; i++)
		if (l->at[i] == slot) {
			l->at[i] = l->at[--l->n];
			l->pods[i] = l->pods[l->n];
			l->released++;
			return;
		}
}

/* Another cluster's action, as its instance would have taken it. */
static void
other_cluster_acts(struct fake_ledger *l, int64_t at, long pods)
{
	l->at[l->n] = at;
	l->pods[l->n++] = pods;
}

TEST(fleet_circuit_counts_every_cluster)
{
	struct guard_state *g = guard_state_new();
	struct fake_ledger l = { .others_pods = 1000 };
	struct guard_fleet f = { fake_ask, fake_release, &l };
	struct guard_config c;
	int64_t slot;
	int blast, i;

	guard_config_defaults(&c);
	c.circuit_max = 3;
	c.circuit_within = 10 * MIN;
	c.circuit_fleet = 1;
	/* two actions of another cluster: one left for us */
	other_cluster_acts(&l, T0, 1);
	other_cluster_acts(&l, T0 + 1, 1);
	CHECK(guard_check_fleet_circuit(g, &f, &c, 1, 100, 0, T0 + 2, &slot,
	    &blast, msg, sizeof msg) == 1);
	CHECK_INT(slot, T0 + 2);
	CHECK_INT(l.n, 3);		/* the slot is taken in the ledger */
	/* the locally counted circuit is empty: only the fleet stops it */
	CHECK(guard_check_circuit(g, &c, T0 + 3, msg, sizeof msg) == 1);
	CHECK(guard_check_fleet_circuit(g, &f, &c, 1, 100, 0, T0 + 3, &slot,
	    &blast, msg, sizeof msg) == 0);
	CHECK(blast == 0 && slot == 0);
	CHECK(strstr(msg, "3 actions across the fleet") != NULL);
	CHECK_INT(l.n, 3);		/* nothing taken when stopped */
	/* the window slides: the other cluster's actions age out */
	CHECK(guard_check_fleet_circuit(g, &f, &c, 1, 100, 0, T0 + 10 * MIN +
	    2, &slot, &blast, msg, sizeof msg) == 1);
	/* a slot given back (rate-limited after) no longer counts */
	fake_release(&l, slot);
	for (i = 0; i < l.n; i++)
		CHECK(l.at[i] != T0 + 10 * MIN + 2);
	CHECK_INT(l.released, 1);
	guard_config_clear(&c);
	guard_state_free(g);
}

TEST(fleet_ledger_unreadable_fails_closed)
{
	struct guard_state *g = guard_state_new();
	struct fake_ledger l = { .broken = 1 };
	struct guard_fleet f = { fake_ask, fake_release, &l };
	struct guard_config c;
	int64_t slot;
	int blast;

	guard_config_defaults(&c);
	c.circuit_fleet = 1;
	CHECK(guard_check_fleet_circuit(g, &f, &c, 1, 100, 0, T0, &slot,
	    &blast, msg, sizeof msg) == 0);
	CHECK(blast == 0 && slot == 0);	/* circuit-open, not blast-radius */
	CHECK(strstr(msg, "failing closed") != NULL);
	CHECK(strstr(msg, "postgres://db.example/remediate") != NULL);
	/* a fleet blast radius too: the circuit step asks and stops it */
	c.circuit_fleet = 0;
	c.impact_fleet = 1;
	CHECK(guard_check_fleet_impact(&f, &c, 1, 100, T0, msg, sizeof msg));
	CHECK(guard_check_fleet_circuit(g, &f, &c, 1, 100, 0, T0, &slot,
	    &blast, msg, sizeof msg) == 0);
	CHECK(strstr(msg, "failing closed") != NULL);
	guard_config_clear(&c);
	guard_state_free(g);
}

TEST(fleet_impact_against_every_clusters_pods)
{
	struct guard_state *g = guard_state_new();
	struct fake_ledger l = { .others_pods = 900 };
	struct guard_fleet f = { fake_ask, fake_release, &l };
	struct guard_config c;
	int64_t slot;
	int blast;

	guard_config_defaults(&c);
	c.max_cluster_impact = 0.05;	/* 50 of the fleet's 1000 pods */
	c.impact_fleet = 1;
	/* 8 of this cluster's 100 pods: above 5% here, not of the fleet */
	CHECK(guard_check_blast_radius(&c, 8, 100, msg, sizeof msg) == 0);
	CHECK(guard_check_fleet_impact(&f, &c, 8, 100, T0, msg, sizeof msg));
	/* another cluster is moving 45 pods: 45 + 8 > 50 */
	other_cluster_acts(&l, T0, 45);
	CHECK(guard_check_fleet_impact(&f, &c, 8, 100, T0 + 1, msg,
	    sizeof msg) == 0);
	CHECK(strstr(msg, "scope fleet") != NULL);
	CHECK(guard_check_fleet_impact(&f, &c, 5, 100, T0 + 1, msg,
	    sizeof msg) == 1);
	/* taken at the circuit step, under the lock, with its pods */
	CHECK(guard_check_fleet_circuit(g, &f, &c, 5, 100, 0, T0 + 1, &slot,
	    &blast, msg, sizeof msg) == 1);
	CHECK_INT(l.pods[l.n - 1], 5);
	/* the next one finds the fleet full: 50 moving, 1 more is over */
	CHECK(guard_check_fleet_circuit(g, &f, &c, 1, 100, 0, T0 + 2, &slot,
	    &blast, msg, sizeof msg) == 0);
	CHECK(blast == 1);
	guard_config_clear(&c);
	guard_state_free(g);
}

TEST(fleet_scope_without_ledger_counts_locally_and_says_so)
{
	struct guard_state *g = guard_state_new();
	struct guard_config c;
	int64_t slot;
	int blast;

	guard_config_defaults(&c);
	c.circuit_max = 1;
	c.circuit_fleet = 1;
	CHECK(guard_check_fleet_circuit(g, NULL, &c, 1, 100, 0, T0, &slot,
	    &blast, msg, sizeof msg) == 1);
	guard_record_action(g, "t", "Deployment/a/b", T0);
	CHECK(guard_check_fleet_circuit(g, NULL, &c, 1, 100, 0, T0 + 1, &slot,
	    &blast, msg, sizeof msg) == 0);
	CHECK(strstr(msg, "no fleet ledger here") != NULL);
	guard_config_clear(&c);
	guard_state_free(g);
}

TEST(fleet_approval_counts_its_own_slot_once)
{
	struct guard_state *g = guard_state_new();
	struct fake_ledger l = { .others_pods = 0 };
	struct guard_fleet f = { fake_ask, fake_release, &l };
	struct guard_config c;
	int64_t slot;
	int blast;

	guard_config_defaults(&c);
	c.circuit_max = 1;
	c.circuit_fleet = 1;
	/* the confirm decision took the one slot at T0 */
	CHECK(guard_check_fleet_circuit(g, &f, &c, 1, 100, 0, T0, &slot,
	    &blast, msg, sizeof msg) == 1);
	/* approved: its own slot is not counted, and moves to now */
	CHECK(guard_check_fleet_circuit(g, &f, &c, 1, 100, T0, T0 + MIN,
	    &slot, &blast, msg, sizeof msg) == 1);
	CHECK_INT(l.n, 1);
	CHECK_INT(l.at[0], T0 + MIN);
	/* a second approval of the same decision finds no slot of its own */
	CHECK(guard_check_fleet_circuit(g, &f, &c, 1, 100, T0, T0 + MIN + 1,
	    &slot, &blast, msg, sizeof msg) == 0);
	guard_config_clear(&c);
	guard_state_free(g);
}

TEST(scope_parses_and_is_checked)
{
	struct guard_config c;
	struct diags dg;
	struct mdoc doc = { 0 };
	char file[] = "x.yaml";
	json_t *good = json_loads("{\"circuit\":{\"maxActions\":4,"
	    "\"scope\":\"fleet\"},\"maxClusterImpact\":{\"max\":\"2%\","
	    "\"scope\":\"fleet\"}}", 0, NULL);
	json_t *bad = json_loads("{\"circuit\":{\"scope\":\"fleets\"},"
	    "\"maxClusterImpact\":{\"scope\":\"fleet\"}}", 0, NULL);
	json_t *j;

	doc.file = file;
	diag_init(&dg);
	guard_config_defaults(&c);
	CHECK(c.circuit_fleet == 0 && c.impact_fleet == 0);
	j = guard_config_json(&c);	/* cluster scope: no scope key */
	CHECK(json_object_get(json_object_get(j, "circuit"), "scope") == NULL);
	CHECK(json_is_real(json_object_get(j, "maxClusterImpact")));
	json_decref(j);
	CHECK(guard_config_apply(&c, good, &doc, &dg) == 0);
	CHECK(c.circuit_fleet == 1 && c.impact_fleet == 1);
	CHECK_INT(c.circuit_max, 4);
	CHECK(c.max_cluster_impact == 0.02);
	j = guard_config_json(&c);
	CHECK_STR(json_string_value(json_object_get(json_object_get(j,
	    "circuit"), "scope")), "fleet");
	CHECK_STR(json_string_value(json_object_get(json_object_get(j,
	    "maxClusterImpact"), "scope")), "fleet");
	json_decref(j);
	CHECK(guard_config_apply(&c, bad, &doc, &dg) == -1);
	CHECK_INT(dg.errors, 2);	/* bad scope; max missing */
	json_decref(good);
	json_decref(bad);
	diag_free(&dg);
	guard_config_clear(&c);
}

/*
 * The guardrails remember CONF_ACTIONS_MAX actions: a larger maxActions or
 * minActions could never be reached (the circuit would never open, the
 * demotion never fire), so the configuration refuses it, and at the cap
 * both still work.
 */
TEST(actions_remembered_cap_maxActions_and_minActions)
{
	struct guard_config c;
	struct guard_state *g = guard_state_new();
	struct guard_recurrence r;
	struct diags dg;
	struct mdoc doc = { 0 };
	char file[] = "x.yaml", tg[32];
	json_t *over = json_loads("{\"circuit\":{\"maxActions\":1025},"
	    "\"recurrence\":{\"minActions\":1025}}", 0, NULL);
	json_t *at = json_loads("{\"circuit\":{\"maxActions\":1024},"
	    "\"recurrence\":{\"minActions\":1024}}", 0, NULL);
	int i, opened_at = -1, demoted_at = -1;

	doc.file = file;
	diag_init(&dg);
	guard_config_defaults(&c);
	CHECK(guard_config_apply(&c, over, &doc, &dg) == -1);
	CHECK_INT(dg.errors, 2);
	{	/* nothing held longer than guard state is kept */
		json_t *long_ = json_loads("{\"cooldown\":\"721h\","
		    "\"threshold\":{\"count\":2,\"within\":\"720h\"}}", 0,
		    NULL);

		CHECK(guard_config_apply(&c, long_, &doc, &dg) == -1);
		CHECK_INT(dg.errors, 3);
		CHECK_INT(c.threshold_within, GUARD_STATE_KEEP);
		json_decref(long_);
	}
	CHECK(guard_config_apply(&c, at, &doc, &dg) == 0);
	CHECK_INT(c.circuit_max, CONF_ACTIONS_MAX);
	CHECK_INT(c.recurrence_min_actions, CONF_ACTIONS_MAX);
	c.circuit_within = 60 * MIN;
	for (i = 0; i < 2 * CONF_ACTIONS_MAX && opened_at < 0; i++) {
		if (!guard_check_circuit(g, &c, T0 + i, msg, sizeof msg))
			opened_at = i;
		else
			guard_record_action(g, "t", "x", T0 + i);
	}
	CHECK_INT(opened_at, CONF_ACTIONS_MAX);
	c.recurrence_within = 1000 * MIN;
	for (i = 0; i < 2 * CONF_ACTIONS_MAX && demoted_at < 0; i++) {
		snprintf(tg, sizeof tg, "T/%d", i);
		guard_record_remediation(g, &c, "t", tg, T0 + 2 * i);
		if (guard_note_recurrence(g, &c, "t", tg, T0 + 2 * i + 1, &r) &&
		    guard_should_demote(&c, &r))
			demoted_at = i + 1;
	}
	CHECK_INT(demoted_at, CONF_ACTIONS_MAX);
	json_decref(over);
	json_decref(at);
	diag_free(&dg);
	guard_state_free(g);
	guard_config_clear(&c);
}

/* A threshold above CONF_ACTIONS_MAX signals keeps its window on restart. */
TEST(a_large_threshold_window_survives_a_restart)
{
	struct guard_config c;
	struct guard_state *g = guard_state_new(), *g2 = guard_state_new();
	int i;

	guard_config_defaults(&c);
	c.threshold_count = 2000;
	c.threshold_within = 60 * MIN;
	guard_state_track(g);
	for (i = 0; i < 1999; i++)
		CHECK(guard_check_threshold(g, &c, "t", "k", T0 + i, msg,
		    sizeof msg) == 0);
	guard_state_journal(g, 1, keep_entry, g2);
	CHECK(guard_check_threshold(g2, &c, "t", "k", T0 + 2000, msg,
	    sizeof msg) == 1);
	guard_state_free(g);
	guard_state_free(g2);
	guard_config_clear(&c);
}

/* A token is back after exactly its share of the unit, however refilled. */
TEST(a_token_refilled_in_steps_is_back_on_time)
{
	struct guard_config c;
	struct guard_state *g = guard_state_new();
	int i;

	guard_config_defaults(&c);
	c.rate_per_unit = 1;
	c.rate_unit = S;
	CHECK(guard_take_rate_token(g, &c, "t", T0, msg, sizeof msg) == 1);
	for (i = 1; i < 10; i++)	/* suppressed tries every 100 ms */
		CHECK(guard_take_rate_token(g, &c, "t", T0 + i * 100, msg,
		    sizeof msg) == 0);
	CHECK(guard_take_rate_token(g, &c, "t", T0 + 1000, msg, sizeof msg)
	    == 1);
	CHECK(guard_take_rate_token(g, &c, "t", T0 + 1000, msg, sizeof msg)
	    == 0);
	guard_state_free(g);
	guard_config_clear(&c);
}

/*
 * A bucket filled under a higher requestsPerUnit (kept across a reload,
 * or loaded from the state file) holds more tokens than the limit now
 * allows: it is capped at the next action, not only once the clock has
 * moved on.
 */
TEST(rate_bucket_above_a_lowered_limit_is_capped_at_once)
{
	struct guard_config c;
	struct guard_state *g = guard_state_new();
	json_t *v;

	guard_config_defaults(&c);
	c.rate_per_unit = 10;
	c.rate_unit = MIN;
	CHECK(guard_take_rate_token(g, &c, "t", T0, msg, sizeof msg) == 1);
	c.rate_per_unit = 2;		/* the reload */
	CHECK(guard_take_rate_token(g, &c, "t", T0, msg, sizeof msg) == 1);
	CHECK(guard_take_rate_token(g, &c, "t", T0, msg, sizeof msg) == 1);
	CHECK(guard_take_rate_token(g, &c, "t", T0, msg, sizeof msg) == 0);
	CHECK_STR(msg, "2 per Minute reached");
	/* loaded full under the old limit; the clock at or before its time */
	v = json_pack("{s:f, s:I}", "tokens", 10.0, "at", (json_int_t)T0);
	CHECK(guard_state_load(g, "bucket", "u", v) == 0);
	json_decref(v);
	CHECK(guard_take_rate_token(g, &c, "u", T0 - S, msg, sizeof msg) ==
	    1);
	CHECK(guard_take_rate_token(g, &c, "u", T0 - S, msg, sizeof msg) ==
	    1);
	CHECK(guard_take_rate_token(g, &c, "u", T0, msg, sizeof msg) == 0);
	guard_state_free(g);
	guard_config_clear(&c);
}

int
main(void)
{
	RUN(defaults_are_safe);
	RUN(a_token_refilled_in_steps_is_back_on_time);
	RUN(actions_remembered_cap_maxActions_and_minActions);
	RUN(a_large_threshold_window_survives_a_restart);
	RUN(stale);
	RUN(threshold_counts_signals_inside_window_including_current);
	RUN(threshold_window_keeps_the_latest_by_signal_time);
	RUN(cooldown);
	RUN(failed_action_holds_a_retry_backoff);
	RUN(optin_on_controller_or_pod);
	RUN(blast_radius);
	RUN(blast_radius_exactly_at_the_limit_passes);
	RUN(budget_fails_closed);
	RUN(circuit);
	RUN(approval_counts_its_own_marks_once);
	RUN(rate_bucket_starts_full_refills_evenly_and_drops);
	RUN(rate_bucket_above_a_lowered_limit_is_capped_at_once);
	RUN(rate_token_left_says_what_the_take_would_and_changes_nothing);
	RUN(config_block_overrides_and_reports_errors);
	RUN(fleet_circuit_counts_every_cluster);
	RUN(fleet_ledger_unreadable_fails_closed);
	RUN(fleet_impact_against_every_clusters_pods);
	RUN(fleet_scope_without_ledger_counts_locally_and_says_so);
	RUN(fleet_approval_counts_its_own_slot_once);
	RUN(scope_parses_and_is_checked);
	return harness_done();
}
