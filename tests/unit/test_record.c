/*
 * Decision records: the JSON shape docs/replay.md gives, field order included.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "record/record.h"

TEST(shape_and_order)
{
	struct rec_decision_record r;
	char *line;

	memset(&r, 0, sizeof r);
	time_parse("2026-11-25T10:00:00Z", &r.time);
	r.sensor = "argo-events/oom-remediation";
	r.trigger = "bump-memory-request";
	objref_set(&r.target, "Deployment", "shop", "cart");
	objref_set(&r.subject, "Pod", "shop", "cart-7d9f8-x2x9q");
	r.decision = REC_SUPPRESSED;
	r.reason = REASON_RATE_LIMITED;
	r.message = xstrdup("2 per Minute reached");
	r.event_source = "oomkilled-events";
	r.event_name = "oom-events";
	r.event_id = "abc";
	line = rec_to_line(&r);
	CHECK_STR(line, "{\"time\":\"2026-11-25T10:00:00Z\",\"sensor\":"
	    "\"argo-events/oom-remediation\",\"trigger\":"
	    "\"bump-memory-request\",\"target\":{\"kind\":\"Deployment\","
	    "\"namespace\":\"shop\",\"name\":\"cart\"},\"subject\":{\"kind\":"
	    "\"Pod\",\"namespace\":\"shop\",\"name\":\"cart-7d9f8-x2x9q\"},"
	    "\"decision\":\"suppressed\",\"reason\":\"rate-limited\","
	    "\"message\":\"2 per Minute reached\",\"signal\":{\"eventSource\":"
	    "\"oomkilled-events\",\"eventName\":\"oom-events\",\"id\":\"abc\"}}"
	    "\n");
	free(line);
	rec_clear(&r);
}

TEST(acted_has_no_reason_and_carries_plan_and_extra)
{
	struct rec_decision_record r;
	json_t *j;

	memset(&r, 0, sizeof r);
	r.sensor = "s";
	r.trigger = "t";
	r.decision = REC_ACTED;
	r.plan = json_pack("{s:s}", "type", "k8s");
	r.extra = json_pack("{s:{s:f}}", "budget", "value", 0.5);
	j = rec_to_json(&r);
	CHECK(json_object_get(j, "reason") == NULL);
	CHECK_STR(json_string_value(json_object_get(j, "decision")), "acted");
	CHECK(json_is_null(json_object_get(j, "target")));
	CHECK_STR(json_string_value(json_object_get(json_object_get(j,
	    "plan"), "type")), "k8s");
	CHECK(json_real_value(json_object_get(json_object_get(j, "budget"),
	    "value")) == 0.5);
	json_decref(j);
	rec_clear(&r);
}

/* The line as the tree gives it: what rec_write_line must print. */
static char *
tree_line(const struct rec_decision_record *r)
{
	json_t *o = rec_to_json(r);
	char *s = json_dumps(o, REC_JSON_FLAGS), *line;

	line = xasprintf("%s\n", s);
	free(s);
	json_decref(o);
	return line;
}

static void
check_same(const struct rec_decision_record *r)
{
	char *want = tree_line(r), *got = rec_to_line(r);
	struct buf b;

	CHECK_STR(got, want);
	buf_init(&b, 0);
	buf_adds(&b, "before\n");
	rec_write_line(r, &b);
	CHECK(strncmp(b.data, "before\n", 7) == 0);
	CHECK_STR(b.data + 7, want);
	buf_free(&b);
	free(want);
	free(got);
}

TEST(text_is_the_tree_byte_for_byte)
{
	static const char *const keys[] = { "time", "cluster", "sensor",
	    "trigger", "target", "subject", "decision", "reason", "message",
	    "plan", "signal", "", "t", "times", "sig", "plans", "id", "kind",
	    "Time" };
	struct rec_decision_record r;
	size_t i;

	memset(&r, 0, sizeof r);
	check_same(&r);		/* every string NULL */
	time_parse("2026-11-25T10:00:00.250Z", &r.time);
	r.sensor = "ns/s\"q\\b\x01\x1f\b\f\n\r\t/";
	r.trigger = "t";
	objref_set(&r.target, "Deployment", NULL, NULL);
	objref_set(&r.subject, "Pod", "shop", "p");
	r.decision = REC_DEMOTED;
	r.reason = (enum rec_reason)REC_NREASONS;	/* no name: absent */
	r.message = xstrdup("ascii \x7f");
	r.plan = json_pack("{s:s, s:f, s:[i, n]}", "type", "k8s", "x",
	    0.8, "a", 1);
	r.extra = json_pack("{s:{s:f}, s:b}", "budget", "value", 0.5, "z",
	    1);
	r.event_id = "id";
	check_same(&r);
	free(r.message);
	r.message = xstrdup("caf\xc3\xa9");	/* UTF-8: the tree's way */
	check_same(&r);
	free(r.message);
	r.message = xstrdup("bad \xff utf-8");	/* refused by the tree */
	check_same(&r);
	json_object_set_new(r.extra, "message", json_string("replaced"));
	check_same(&r);
	r.reason = REASON_BUDGET;
	free(r.message);
	r.message = NULL;
	check_same(&r);
	json_object_del(r.extra, "message");
	json_decref(r.plan);
	r.plan = json_pack("{s:{}, s:[], s:[{s:I}, [f, f, f], s, b, n], s:s}",
	    "e", "a", "n", "i", (json_int_t)-9007199254740993LL, 1e300, -0.0,
	    1.0 / 3, "q\"\\\n", 0, "k\x02", "x");
	check_same(&r);
	json_object_set_new(r.plan, "u", json_string("\xc3\xa9"));
	check_same(&r);		/* a plan's UTF-8: the tree's way */
	json_object_del(r.plan, "u");
	json_object_set_new(r.extra, "\xc3\xa9", json_true());
	check_same(&r);
	r.cluster = "prod-eu-1";	/* run's --cluster-name, after time */
	check_same(&r);
	json_object_set_new(r.extra, "cluster", json_string("x"));
	check_same(&r);			/* an extra that replaces it */
	json_object_del(r.extra, "cluster");
	r.cluster = "caf\xc3\xa9";
	check_same(&r);
	r.cluster = NULL;
	json_object_del(r.extra, "\xc3\xa9");
	check_same(&r);
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		/* each fixed field replaced in place; near misses added */
		json_object_set_new(r.extra, keys[i], json_string("x"));
		check_same(&r);
		json_object_del(r.extra, keys[i]);
	}
	rec_clear(&r);
}

TEST(names)
{
	static const char *const reasons[] = { "stale", "below-threshold",
	    "disabled", "cooldown", "opt-out", "policy", "at-cap",
	    "unsupported-target", "blast-radius", "gitops-managed",
	    "conflict", "budget", "circuit-open", "rate-limited" };
	size_t i;

	for (i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		CHECK_STR(rec_reason_name((enum rec_reason)(i + 1)),
		    reasons[i]);
	CHECK(rec_reason_name(REASON_NONE) == NULL);
	CHECK_STR(rec_decision_name(REC_PENDING_APPROVAL), "pending-approval");
	CHECK_STR(rec_decision_name(REC_DEMOTED), "demoted");
	CHECK_STR(rec_decision_name(REC_DECLINED), "declined");
	CHECK(rec_reason_name((enum rec_reason)REC_NREASONS) == NULL);
}

int
main(void)
{
	RUN(shape_and_order);
	RUN(acted_has_no_reason_and_carries_plan_and_extra);
	RUN(text_is_the_tree_byte_for_byte);
	RUN(names);
	return harness_done();
}
