/*
 * The election state machine, stepped with numbers for "now": who may
 * take the lease when, what each write carries, and the fence (a leader
 * stops acting before any other replica may take over).
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lease/lease.h"
#include "util/util.h"

#define WALL	1767225600000LL		/* 2026-01-01T00:00:00Z */

static struct lease_timing
timing(void)
{
	struct lease_timing t;

	lease_timing_defaults(&t);
	return t;
}

/* A record as the server would answer it. */
static struct lease_record
rec(const char *holder, int64_t dur, const char *rv, int64_t transitions)
{
	struct lease_record r;

	memset(&r, 0, sizeof r);
	r.holder = holder ? xstrdup(holder) : NULL;
	r.duration_s = dur;
	r.resource_version = xstrdup(rv);
	r.transitions = transitions;
	r.acquire_time = WALL;
	r.renew_time = WALL;
	return r;
}

/* The server's answer to a write of want: the same, a new version. */
static struct lease_record
accepted(const struct lease_record *want, const char *rv)
{
	struct lease_record r = *want;

	r.holder = want->holder ? xstrdup(want->holder) : NULL;
	r.resource_version = xstrdup(rv);
	return r;
}

TEST(timings_follow_client_go)
{
	struct lease_timing t = timing();
	char *err = NULL;

	CHECK(t.duration == 15000 && t.renew_deadline == 10000 &&
	    t.retry_period == 2000);
	CHECK(lease_timing_check(&t, &err) == 0);
	t.renew_deadline = 15000;
	CHECK(lease_timing_check(&t, &err) == -1);
	CHECK(err && strstr(err, "longer than the renew deadline"));
	free(err);
	err = NULL;
	t.renew_deadline = 2400;	/* = 1.2 x retry: too tight */
	CHECK(lease_timing_check(&t, &err) == -1);
	free(err);
	err = NULL;
	t.duration = 2000;
	t.renew_deadline = 1500;
	t.retry_period = 300;
	CHECK(lease_timing_check(&t, &err) == 0);
	t.retry_period = 0;
	CHECK(lease_timing_check(&t, &err) == -1);
	free(err);
}

TEST(no_lease_creates_then_leads_until_the_deadline)
{
	struct lease_timing t = timing();
	struct lease_elector el;
	struct lease_record want, got;

	lease_elector_init(&el, "a", &t);
	lease_elector_observe(&el, NULL, 0);
	CHECK(lease_elector_next(&el, 0, WALL, &want) == LEASE_CREATE);
	CHECK_STR(want.holder, "a");
	CHECK(want.duration_s == 15);
	CHECK(want.acquire_time == WALL && want.renew_time == WALL);
	CHECK(want.resource_version == NULL);
	CHECK(!lease_elector_acting(&el, 0));
	got = accepted(&want, "10");
	lease_elector_won(&el, &got, 100);
	CHECK(el.transitions == 1);
	CHECK(lease_elector_acting(&el, 100));
	CHECK(lease_elector_acting(&el, 10099));
	CHECK(!lease_elector_acting(&el, 10100));	/* fenced */
	lease_record_clear(&want);
	lease_record_clear(&got);
	lease_elector_clear(&el);
}

TEST(a_live_holder_is_waited_out_from_when_it_was_seen)
{
	struct lease_timing t = timing();
	struct lease_elector el;
	struct lease_record r = rec("b", 15, "5", 3), want;

	lease_elector_init(&el, "a", &t);
	lease_elector_observe(&el, &r, 1000);
	CHECK(lease_elector_next(&el, 15999, WALL, &want) == LEASE_WAIT);
	CHECK(want.holder == NULL);
	/* the same version again: the clock keeps running from 1000 */
	lease_elector_observe(&el, &r, 9000);
	CHECK(lease_elector_next(&el, 16000, WALL + 16000, &want) ==
	    LEASE_UPDATE);
	CHECK_STR(want.holder, "a");
	CHECK_STR(want.resource_version, "5");	/* optimistic concurrency */
	CHECK(want.transitions == 4);
	CHECK(want.acquire_time == WALL + 16000);
	lease_record_clear(&want);
	/* a renewal (new version) restarts the count */
	lease_record_clear(&r);
	r = rec("b", 15, "6", 3);
	lease_elector_observe(&el, &r, 9000);
	CHECK(lease_elector_next(&el, 16000, WALL, &want) == LEASE_WAIT);
	CHECK(lease_elector_next(&el, 24000, WALL, &want) == LEASE_UPDATE);
	lease_record_clear(&want);
	lease_record_clear(&r);
	lease_elector_clear(&el);
}

TEST(a_released_lease_is_free_at_once)
{
	struct lease_timing t = timing();
	struct lease_elector el;
	struct lease_record r = rec(NULL, 1, "7", 2), want;

	lease_elector_init(&el, "a", &t);
	lease_elector_observe(&el, &r, 500);
	CHECK(lease_elector_next(&el, 500, WALL, &want) == LEASE_UPDATE);
	CHECK_STR(want.resource_version, "7");
	CHECK(want.transitions == 3);
	lease_record_clear(&want);
	lease_record_clear(&r);
	lease_elector_clear(&el);
}

TEST(renewing_keeps_acquire_time_and_transitions)
{
	struct lease_timing t = timing();
	struct lease_elector el;
	struct lease_record r = rec("a", 15, "8", 2), want, got;

	lease_elector_init(&el, "a", &t);
	lease_elector_observe(&el, &r, 0);
	CHECK(lease_elector_next(&el, 2000, WALL + 2000, &want) ==
	    LEASE_UPDATE);
	CHECK(want.acquire_time == WALL);
	CHECK(want.renew_time == WALL + 2000);
	CHECK(want.transitions == 2);
	got = accepted(&want, "9");
	lease_elector_won(&el, &got, 2000);
	CHECK(lease_elector_acting(&el, 11999));
	lease_record_clear(&got);
	lease_record_clear(&want);
	/* a renewal while leading is not a transition */
	CHECK(lease_elector_next(&el, 4000, WALL + 4000, &want) ==
	    LEASE_UPDATE);
	got = accepted(&want, "10");
	lease_elector_won(&el, &got, 4000);
	CHECK(el.transitions == 1);	/* the first win only */
	lease_record_clear(&got);
	lease_record_clear(&want);
	lease_record_clear(&r);
	lease_elector_clear(&el);
}

/*
 * Two replicas, one clock each (equal rates): whenever the leader's last
 * renewal was sent and the follower saw it, the leader has stopped before
 * the follower may write.
 */
TEST(the_fence_closes_before_anyone_may_take_over)
{
	struct lease_timing t = { 2000, 1500, 300 };
	struct lease_elector lead, follow;
	struct lease_record want, got, want2;
	int64_t sent, seen, now;

	for (sent = 0; sent <= 900; sent += 300)
		for (seen = sent; seen <= sent + 600; seen += 150) {
			lease_elector_init(&lead, "a", &t);
			lease_elector_init(&follow, "b", &t);
			lease_elector_observe(&lead, NULL, 0);
			CHECK(lease_elector_next(&lead, 0, WALL, &want) ==
			    LEASE_CREATE);
			got = accepted(&want, "1");
			lease_elector_won(&lead, &got, sent);
			lease_elector_observe(&follow, &got, seen);
			for (now = seen; now < seen + 5000; now += 50) {
				enum lease_step s = lease_elector_next(&follow,
				    now, WALL, &want2);

				lease_record_clear(&want2);
				if (s != LEASE_WAIT) {
					/* stopped already, not just now */
					CHECK(!lease_elector_acting(&lead,
					    now - 1));
					break;
				}
			}
			CHECK(now < seen + 5000);	/* it did take over */
			lease_record_clear(&want);
			lease_record_clear(&got);
			lease_elector_clear(&lead);
			lease_elector_clear(&follow);
		}
}

TEST(seeing_another_holder_stops_acting)
{
	struct lease_timing t = timing();
	struct lease_elector el;
	struct lease_record want, got, other = rec("b", 15, "20", 1);

	lease_elector_init(&el, "a", &t);
	lease_elector_observe(&el, NULL, 0);
	CHECK(lease_elector_next(&el, 0, WALL, &want) == LEASE_CREATE);
	got = accepted(&want, "19");
	lease_record_clear(&want);
	lease_elector_won(&el, &got, 0);
	CHECK(lease_elector_acting(&el, 1000));
	lease_elector_observe(&el, &other, 1000);
	CHECK(!lease_elector_acting(&el, 1000));
	CHECK(lease_elector_next(&el, 1000, WALL, &want) == LEASE_WAIT);
	lease_record_clear(&want);
	lease_record_clear(&got);
	lease_record_clear(&other);
	lease_elector_clear(&el);
}

/*
 * The Lease deleted (kubectl delete lease) while b held it: the holder we
 * saw alive is still waited out from when we saw it, as if it were there,
 * since b may not have noticed and keeps acting until its own fence; and
 * a leader that finds its Lease gone stops acting at once (anyone may
 * create it now), until its own create wins.
 */
TEST(a_deleted_lease_is_not_free_at_once)
{
	struct lease_timing t = timing();
	struct lease_elector el, lead;
	struct lease_record r = rec("b", 15, "40", 2), want, got;

	lease_elector_init(&el, "a", &t);
	lease_elector_observe(&el, &r, 1000);
	lease_elector_observe(&el, NULL, 3000);
	CHECK(lease_elector_next(&el, 3000, WALL, &want) == LEASE_WAIT);
	lease_record_clear(&want);
	lease_elector_observe(&el, NULL, 15999);
	CHECK(lease_elector_next(&el, 15999, WALL, &want) == LEASE_WAIT);
	lease_record_clear(&want);
	lease_elector_observe(&el, NULL, 16000);
	CHECK(lease_elector_next(&el, 16000, WALL, &want) == LEASE_CREATE);
	lease_record_clear(&want);
	lease_elector_clear(&el);

	lease_elector_init(&lead, "b", &t);
	lease_elector_observe(&lead, NULL, 0);
	CHECK(lease_elector_next(&lead, 0, WALL, &want) == LEASE_CREATE);
	got = accepted(&want, "41");
	lease_record_clear(&want);
	lease_elector_won(&lead, &got, 0);
	CHECK(lease_elector_acting(&lead, 2000));
	lease_elector_observe(&lead, NULL, 2000);	/* deleted */
	CHECK(!lease_elector_acting(&lead, 2000));
	CHECK(lease_elector_next(&lead, 2000, WALL, &want) == LEASE_CREATE);
	lease_record_clear(&want);
	lease_record_clear(&got);
	lease_record_clear(&r);
	lease_elector_clear(&lead);
}

TEST(release_hands_over_as_client_go_does)
{
	struct lease_timing t = timing();
	struct lease_elector el;
	struct lease_record want, got, rel;

	lease_elector_init(&el, "a", &t);
	CHECK(lease_elector_release(&el, WALL, &rel) == 0);  /* not ours */
	lease_elector_observe(&el, NULL, 0);
	CHECK(lease_elector_next(&el, 0, WALL, &want) == LEASE_CREATE);
	got = accepted(&want, "30");
	got.transitions = 5;
	lease_elector_won(&el, &got, 0);
	CHECK(lease_elector_release(&el, WALL + 500, &rel) == 1);
	CHECK(rel.holder == NULL);
	CHECK(rel.duration_s == 1);
	CHECK(rel.transitions == 5);
	CHECK(rel.renew_time == WALL + 500);
	CHECK_STR(rel.resource_version, "30");
	CHECK(!lease_elector_acting(&el, 1));
	lease_record_clear(&rel);
	lease_record_clear(&want);
	lease_record_clear(&got);
	lease_elector_clear(&el);
}

/*
 * A leader that cannot do its work hands the lease over and sits out:
 * the released Lease is free, but not to it, until the sit-out ends.
 */
TEST(a_yielding_leader_hands_over_and_sits_out)
{
	struct lease_timing t = timing();
	struct lease_elector el;
	struct lease_record want, got, rel, freed;

	lease_elector_init(&el, "a", &t);
	lease_elector_observe(&el, NULL, 0);
	CHECK(lease_elector_next(&el, 0, WALL, &want) == LEASE_CREATE);
	got = accepted(&want, "40");
	lease_elector_won(&el, &got, 0);
	lease_record_clear(&want);
	CHECK(lease_elector_acting(&el, 1000));
	CHECK(lease_elector_yield(&el, 1000, WALL + 1000, 30000, &rel) == 1);
	CHECK(rel.holder == NULL && rel.duration_s == 1);
	CHECK_STR(rel.resource_version, "40");
	CHECK(!lease_elector_acting(&el, 1000));
	/* the server's answer: released, no holder */
	freed = accepted(&rel, "41");
	lease_elector_observe(&el, &freed, 1100);
	/* free, but not to us before the sit-out ends */
	CHECK(lease_elector_next(&el, 1100, WALL, &want) == LEASE_WAIT);
	CHECK(lease_elector_next(&el, 30999, WALL, &want) == LEASE_WAIT);
	CHECK(lease_elector_next(&el, 31000, WALL, &want) == LEASE_UPDATE);
	CHECK_STR(want.holder, "a");
	lease_record_clear(&want);
	/* nothing of ours to hand over: still sits out */
	lease_record_clear(&rel);
	CHECK(lease_elector_yield(&el, 40000, WALL, 5000, &rel) == 0);
	CHECK(lease_elector_next(&el, 44999, WALL, &want) == LEASE_WAIT);
	lease_record_clear(&want);
	lease_record_clear(&rel);
	lease_record_clear(&freed);
	lease_record_clear(&got);
	lease_elector_clear(&el);
}

TEST(lease_json_both_ways)
{
	const char *path = "tests/data/lease/18d-get-lease.json";
	struct lease_record r, w;
	char *text, *err = NULL, *s;
	json_t *doc, *obj;
	size_t len;

	text = util_read_file(path, 1u << 20, &len, &err);
	CHECK(text != NULL);
	if (text == NULL) {
		fprintf(stderr, "%s: %s\n", path, err);
		free(err);
		return;
	}
	doc = json_loads(text, 0, NULL);
	CHECK(lease_record_from_json(json_object_get(json_object_get(doc,
	    "response"), "body"), &r, &err) == 0);
	CHECK_STR(r.holder, "controller-a");
	CHECK(r.duration_s == 15);
	CHECK(r.transitions == 0);
	CHECK_STR(r.resource_version, "211");
	CHECK(r.renew_time == WALL + 10123);
	memset(&w, 0, sizeof w);
	w.holder = xstrdup("a");
	w.duration_s = 2;
	w.acquire_time = WALL;
	w.renew_time = WALL + 10123;
	w.transitions = 1;
	w.resource_version = xstrdup("211");
	obj = lease_record_to_json(&w, "ns", "remediate");
	s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	CHECK_STR(s, "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":"
	    "\"Lease\",\"metadata\":{\"name\":\"remediate\",\"namespace\":"
	    "\"ns\",\"resourceVersion\":\"211\"},\"spec\":{\"acquireTime\":"
	    "\"2026-01-01T00:00:00.000000Z\",\"holderIdentity\":\"a\","
	    "\"leaseDurationSeconds\":2,\"leaseTransitions\":1,"
	    "\"renewTime\":\"2026-01-01T00:00:10.123000Z\"}}");
	free(s);
	json_decref(obj);
	lease_record_clear(&w);
	CHECK(lease_record_from_json(json_object_get(json_object_get(doc,
	    "response"), "status"), &w, &err) == -1);
	CHECK(err != NULL);
	free(err);
	lease_record_clear(&w);
	lease_record_clear(&r);
	json_decref(doc);
	free(text);
}

TEST(default_identity_is_host_and_random)
{
	char *a = lease_default_identity(), *b = lease_default_identity();

	CHECK(strchr(a, '_') != NULL);
	CHECK(strcmp(a, b) != 0);
	free(a);
	free(b);
}

int
main(void)
{
	RUN(timings_follow_client_go);
	RUN(no_lease_creates_then_leads_until_the_deadline);
	RUN(a_live_holder_is_waited_out_from_when_it_was_seen);
	RUN(a_released_lease_is_free_at_once);
	RUN(renewing_keeps_acquire_time_and_transitions);
	RUN(the_fence_closes_before_anyone_may_take_over);
	RUN(seeing_another_holder_stops_acting);
	RUN(a_deleted_lease_is_not_free_at_once);
	RUN(release_hands_over_as_client_go_does);
	RUN(a_yielding_leader_hands_over_and_sits_out);
	RUN(lease_json_both_ways);
	RUN(default_identity_is_host_and_random);
	return harness_done();
}
