/*
 * Every guardrail: a case where it stops the action and a case where it
 * lets it through, with the clock driven by the test (no sleeping).
 */
#include <stdlib.h>

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
	/* outside the window the count starts over */
	CHECK(guard_check_threshold(g, &c, "t", "Deployment/shop/cart",
	    T0 + 20 * MIN, msg, sizeof msg) == 0);
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

int
main(void)
{
	RUN(defaults_are_safe);
	RUN(stale);
	RUN(threshold_counts_signals_inside_window_including_current);
	RUN(cooldown);
	RUN(failed_action_holds_a_retry_backoff);
	RUN(optin_on_controller_or_pod);
	RUN(blast_radius);
	RUN(budget_fails_closed);
	RUN(circuit);
	RUN(approval_counts_its_own_marks_once);
	RUN(rate_bucket_starts_full_refills_evenly_and_drops);
	RUN(config_block_overrides_and_reports_errors);
	return harness_done();
}
