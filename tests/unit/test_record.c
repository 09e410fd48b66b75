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
	RUN(names);
	return harness_done();
}
