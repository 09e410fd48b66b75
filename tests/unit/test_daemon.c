/*
 * The daemon's queue: bounded, all-or-none batches, close unblocks; and
 * the work it brings back from the action workers (dact_task).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/actions.h"
#include "daemon/budget.h"
#include "daemon/promq.h"
#include "daemon/propose.h"
#include "daemon/queue.h"
#include "harness.h"

static struct dq_item
watch_item(int n)
{
	struct dq_item it;

	memset(&it, 0, sizeof it);
	it.kind = DQ_WATCH;
	it.obj = json_integer(n);
	return it;
}

TEST(fifo_and_bounded)
{
	struct dq *q = dq_new(2);
	struct dq_item a = watch_item(1), b = watch_item(2), c = watch_item(3);
	struct dq_item out;

	CHECK(dq_push(q, &a, 0) == 0);
	CHECK(a.obj == NULL);		/* ownership moved */
	CHECK(dq_push(q, &b, 0) == 0);
	CHECK(dq_push(q, &c, 0) == -1);	/* full: the caller keeps it */
	CHECK(c.obj != NULL);
	CHECK_INT(dq_depth(q), 2);
	CHECK(dq_pop(q, &out, 0) == 0 && json_integer_value(out.obj) == 1);
	dq_item_clear(&out);
	CHECK(dq_push(q, &c, 0) == 0);
	CHECK(dq_pop(q, &out, 0) == 0 && json_integer_value(out.obj) == 2);
	dq_item_clear(&out);
	CHECK(dq_pop(q, &out, 0) == 0 && json_integer_value(out.obj) == 3);
	dq_item_clear(&out);
	CHECK(dq_pop(q, &out, 10) == -1);	/* empty: times out */
	dq_free(q);
}

static int freed_jobs;

static void
free_job(void *job)
{
	free(job);
	freed_jobs++;
}

/*
 * Outcomes of actions use slots watches and webhooks cannot take: a full
 * queue still takes them, in order after what is queued; a dropped
 * outcome is freed by its own destructor.
 */
TEST(reserved_slots_take_outcomes_when_full)
{
	struct dq *q = dq_new(2);
	struct dq_item a = watch_item(1), b = watch_item(2), c = watch_item(3);
	struct dq_item o1, o2, o3, out;

	CHECK(dq_push(q, &a, 0) == 0);
	dq_reserve(q, 2);		/* the queued item survives the grow */
	CHECK(dq_push(q, &b, 0) == 0);
	CHECK(dq_push(q, &c, 0) == -1);		/* full for watches */
	memset(&o1, 0, sizeof o1);
	o1.kind = DQ_OUTCOME;
	o1.job = malloc(1);
	o1.job_free = free_job;
	o2 = o1;
	o2.job = malloc(1);
	o3 = o1;
	o3.job = malloc(1);
	CHECK(dq_push_reserved(q, &o1) == 0);
	CHECK(dq_push_reserved(q, &o2) == 0);
	CHECK(dq_push_reserved(q, &o3) == -1);	/* the reserve is spent */
	CHECK_INT(dq_depth(q), 4);
	CHECK(dq_push(q, &c, 0) == -1);		/* still full for watches */
	CHECK(dq_pop(q, &out, 0) == 0 && json_integer_value(out.obj) == 1);
	dq_item_clear(&out);
	CHECK(dq_pop(q, &out, 0) == 0 && json_integer_value(out.obj) == 2);
	dq_item_clear(&out);
	CHECK(dq_push(q, &c, 0) == -1);	/* 2 outcomes queued: the limit */
	CHECK(dq_pop(q, &out, 0) == 0 && out.kind == DQ_OUTCOME);
	dq_item_clear(&out);		/* dropped unread: freed */
	CHECK_INT(freed_jobs, 1);
	CHECK(dq_push(q, &c, 0) == 0);
	dq_free(q);			/* the last outcome, freed */
	CHECK_INT(freed_jobs, 2);
	dq_item_clear(&o3);
	CHECK_INT(freed_jobs, 3);
}

/*
 * The ring's storage grows as items pile up (it starts at 64 slots):
 * order holds across every grow while the ring is wrapped, and the
 * bound still holds.
 */
TEST(ring_grows_in_order_to_its_bound)
{
	struct dq *q = dq_new(1000);
	struct dq_item it, out;
	int i, next = 0, ok = 1;

	for (i = 0; i < 50; i++) {	/* wrap the first 64 slots */
		it = watch_item(i);
		ok &= dq_push(q, &it, 0) == 0;
	}
	for (i = 0; i < 40; i++) {
		ok &= dq_pop(q, &out, 0) == 0 &&
		    json_integer_value(out.obj) == next++;
		dq_item_clear(&out);
	}
	for (i = 50; i < 1050; i++) {	/* 10 in, 1,000 more: 10 over */
		it = watch_item(i);
		if (dq_push(q, &it, 0) == -1) {
			ok &= i >= 1040;
			dq_item_clear(&it);
		} else
			ok &= i < 1040;
	}
	CHECK_INT(dq_depth(q), 1000);
	while (dq_pop(q, &out, 0) == 0) {
		ok &= json_integer_value(out.obj) == next++;
		dq_item_clear(&out);
	}
	CHECK(ok);
	CHECK_INT(next, 1040);
	dq_free(q);
}

TEST(batches_all_or_none)
{
	struct dq *q = dq_new(3);
	struct dq_item v[3] = { watch_item(1), watch_item(2), watch_item(3) };
	struct dq_item one = watch_item(0), out;

	CHECK(dq_push(q, &one, 0) == 0);
	CHECK(dq_push_all(q, v, 3) == -1);	/* room for 2 only */
	CHECK_INT(dq_depth(q), 1);
	CHECK(v[0].obj != NULL && v[2].obj != NULL);
	CHECK(dq_push_all(q, v, 2) == 0);
	CHECK_INT(dq_depth(q), 3);
	dq_item_clear(&v[2]);
	CHECK(dq_pop(q, &out, 0) == 0);
	dq_item_clear(&out);
	dq_free(q);		/* frees what is still queued */
}

static void *
blocked_pusher(void *arg)
{
	struct dq *q = arg;
	struct dq_item it = watch_item(9);
	int *rc = malloc(sizeof *rc);

	*rc = dq_push(q, &it, 1);	/* waits: the queue is full */
	dq_item_clear(&it);
	return rc;
}

TEST(close_unblocks_waiting_pushers)
{
	struct dq *q = dq_new(1);
	struct dq_item it = watch_item(1);
	pthread_t t;
	void *rc;

	CHECK(dq_push(q, &it, 0) == 0);
	pthread_create(&t, NULL, blocked_pusher, q);
	usleep(50000);
	dq_close(q);
	pthread_join(t, &rc);
	CHECK(*(int *)rc == -1);
	free(rc);
	dq_free(q);
}

static void *
engine_side(void *arg)
{
	struct dq *q = arg;
	struct dq_item it;

	if (dq_pop(q, &it, 5000) == 0) {
		if (it.kind == DQ_CALL)
			dq_call_answer(it.call, json_pack("{s:O}", "echo",
			    it.call->in), NULL);
		dq_item_clear(&it);
	}
	return NULL;
}

TEST(call_waits_for_the_engines_answer)
{
	struct dq *q = dq_new(4);
	struct dq_call *c = dq_call_new(json_string("approve"));
	struct dq_item it;
	pthread_t t;

	memset(&it, 0, sizeof it);
	it.kind = DQ_CALL;
	it.call = dq_call_ref(c);
	CHECK(dq_push(q, &it, 1) == 0);
	pthread_create(&t, NULL, engine_side, q);
	CHECK(dq_call_wait(c, 5000) == 0);
	CHECK(c->err == NULL);
	CHECK_STR(json_string_value(json_object_get(c->out, "echo")),
	    "approve");
	/* a second answer does not replace the first */
	dq_call_answer(c, json_string("late"), NULL);
	CHECK(json_is_object(c->out));
	pthread_join(t, NULL);
	dq_call_release(c);
	dq_free(q);
}

TEST(unanswered_call_is_told_when_the_queue_goes)
{
	struct dq *q = dq_new(4);
	struct dq_call *c = dq_call_new(NULL);
	struct dq_item it;

	memset(&it, 0, sizeof it);
	it.kind = DQ_CALL;
	it.call = dq_call_ref(c);
	CHECK(dq_push(q, &it, 0) == 0);
	CHECK(dq_call_wait(c, 20) == -1);	/* nobody answered yet */
	dq_free(q);	/* shutdown: the item is cleared, the call answered */
	CHECK(dq_call_wait(c, 0) == 0);
	CHECK_STR(c->err, "remediate is stopping");
	CHECK(c->out == NULL);
	dq_call_release(c);	/* the last reference: freed (ASan checks) */
}

static void *
below_pusher(void *arg)
{
	struct dq *q = arg;
	struct dq_item it = watch_item(3);
	int *rc = malloc(sizeof *rc);

	*rc = dq_push_below(q, &it, 2);
	return rc;
}

/* The view's watch waits while `limit` items are queued, not `cap`. */
TEST(push_below_waits_under_the_limit)
{
	struct dq *q = dq_new(10);
	struct dq_item a = watch_item(1), b = watch_item(2), out;
	pthread_t t;
	void *rc;

	CHECK(dq_push_below(q, &a, 2) == 0);
	CHECK(dq_push_below(q, &b, 2) == 0);
	pthread_create(&t, NULL, below_pusher, q);
	/* the pusher can only finish once the engine takes one */
	CHECK(dq_pop(q, &out, 5000) == 0);
	CHECK_INT(json_integer_value(out.obj), 1);
	dq_item_clear(&out);
	pthread_join(t, &rc);
	CHECK(*(int *)rc == 0);
	free(rc);
	CHECK_INT(dq_depth(q), 2);
	CHECK(dq_pop(q, &out, 0) == 0);
	CHECK_INT(json_integer_value(out.obj), 2);
	dq_item_clear(&out);
	CHECK(dq_pop(q, &out, 0) == 0);
	CHECK_INT(json_integer_value(out.obj), 3);
	dq_item_clear(&out);
	dq_free(q);
}

/* ---- dact_task: work on workers, done on the engine thread ---------- */

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_open, dones[8], ran_flags[8], ndone, drops;

static void
work_gated(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&gate_mu);
	while (!gate_open)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
}

static void
work_plain(void *arg)
{
	(void)arg;
}

static void
task_done(void *arg, struct engine *e, int ran)
{
	(void)e;
	if (ndone < 8) {
		dones[ndone] = *(int *)arg;
		ran_flags[ndone++] = ran;
	}
	free(arg);
}

static void
task_drop(void *arg)
{
	free(arg);
	drops++;
}

static int *
task_id(int id)
{
	int *p = malloc(sizeof *p);

	*p = id;
	return p;
}

/* The engine thread's side: the next outcome, handed to dact_outcome. */
static int
next_done(struct dq *q, struct dact *x)
{
	struct dq_item it;

	if (dq_pop(q, &it, 10000) == -1)
		return -1;
	CHECK(it.kind == DQ_OUTCOME);
	dact_outcome(x, NULL, &it);
	dq_item_clear(&it);
	return dones[ndone - 1];
}

/*
 * A forge that hangs holds up only the work of its own key: the task
 * queued behind it waits, another key's task comes back first; done runs
 * where the queue is read, once each, and the in-flight bound refuses
 * more (the arg stays the caller's).
 */
TEST(task_of_a_held_key_holds_up_no_other)
{
	struct dq *q = dq_new(4);
	struct dact_opts o;
	struct dact *x;
	int *extra = task_id(9);

	memset(&o, 0, sizeof o);
	o.q = q;
	o.workers = 2;
	o.max_in_flight = 4;
	x = dact_new(&o);
	CHECK(dact_task(x, "K", work_gated, task_done, task_drop,
	    task_id(1)) == 0);
	CHECK(dact_task(x, "K", work_plain, task_done, task_drop,
	    task_id(2)) == 0);
	CHECK(dact_task(x, "L", work_plain, task_done, task_drop,
	    task_id(3)) == 0);
	CHECK(dact_task(x, "M", work_gated, task_done, task_drop,
	    task_id(4)) == 0);
	CHECK(dact_task(x, "N", work_plain, task_done, task_drop, extra) ==
	    -1);			/* four in flight: full */
	CHECK_INT(drops, 0);
	free(extra);
	CHECK_INT(next_done(q, x), 3);	/* L, while K is held */
	CHECK_INT((int)dact_in_flight(x), 3);
	pthread_mutex_lock(&gate_mu);
	gate_open = 1;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
	/* K's in order; M's anywhere among them */
	CHECK(next_done(q, x) > 0 && next_done(q, x) > 0 &&
	    next_done(q, x) > 0);
	CHECK_INT(ndone, 4);
	CHECK((dones[1] == 1 ? 1 : dones[2] == 1 ? 2 : 3) <
	    (dones[1] == 2 ? 1 : dones[2] == 2 ? 2 : 3));
	CHECK(ran_flags[0] && ran_flags[1] && ran_flags[2] && ran_flags[3]);
	CHECK_INT((int)dact_in_flight(x), 0);
	dact_free(x);
	dq_free(q);
}

#define MERGE	1773481200000LL		/* 2026-03-14T09:40:00Z */
#define HOUR	(60 * 60 * 1000LL)

/*
 * The pull-request outcome table, one asking at a time.  Merged but not
 * synced (the Application deleted, or synced elsewhere) waits until
 * syncTimeout after the merge, then expires; synced is acted even when
 * late (the daemon was down past the deadline); closed is declined; an
 * open request waits for its person however long it stays open.
 */
TEST(merged_never_synced_expires_at_sync_timeout_open_never)
{
	json_t *dflt = json_pack("{s:{s:i}}", "pullRequest", "number", 7);
	json_t *tenm = json_pack("{s:{s:i, s:s}}", "pullRequest", "number",
	    7, "syncTimeout", "10m");
	json_t *bad = json_pack("{s:{s:s}}", "pullRequest", "syncTimeout",
	    "0s");
	int64_t d = daemon_pr_deadline(dflt, MERGE);

	CHECK(d == MERGE + HOUR);			/* 1h by default */
	CHECK(daemon_pr_deadline(tenm, MERGE) == MERGE + 10 * 60000);
	CHECK(daemon_pr_deadline(bad, MERGE) == MERGE + HOUR);
	CHECK(daemon_pr_deadline(dflt, INT64_MAX - 5) == INT64_MAX);

	CHECK_INT(daemon_pr_judge(GITOPS_PR_MERGED, 0, d, MERGE),
	    DAEMON_PR_WAIT);
	CHECK_INT(daemon_pr_judge(GITOPS_PR_MERGED, 0, d, d - 1),
	    DAEMON_PR_WAIT);
	CHECK_INT(daemon_pr_judge(GITOPS_PR_MERGED, 0, d, d),
	    DAEMON_PR_EXPIRED);
	CHECK_INT(daemon_pr_judge(GITOPS_PR_MERGED, 0, d, d + 24 * HOUR),
	    DAEMON_PR_EXPIRED);
	CHECK_INT(daemon_pr_judge(GITOPS_PR_MERGED, 1, d, MERGE),
	    DAEMON_PR_ACTED);
	CHECK_INT(daemon_pr_judge(GITOPS_PR_MERGED, 1, d, d + 24 * HOUR),
	    DAEMON_PR_ACTED);
	CHECK_INT(daemon_pr_judge(GITOPS_PR_CLOSED, 0, d, MERGE),
	    DAEMON_PR_DECLINED);
	CHECK_INT(daemon_pr_judge(GITOPS_PR_OPEN, 0, d, d + 30 * 24 * HOUR),
	    DAEMON_PR_WAIT);
	json_decref(dflt);
	json_decref(tenm);
	json_decref(bad);
}

/*
 * A request is followed from its pending-approval record until an
 * outcome names its branch: acted, declined, and expired too (an
 * approval's `expired`, which has no pull request, ends nothing).  The
 * state file is read through the same path at start and on takeover.
 */
TEST(an_expired_request_is_no_longer_followed)
{
	struct daemon_prs *p = daemon_prs_new(NULL);
	json_t *pending = json_pack("{s:s, s:{s:i, s:s}}", "decision",
	    "pending-approval", "pullRequest", "number", 7, "branch",
	    "remediate/restart/shop-cart-0a1b2c3d");
	json_t *approval = json_pack("{s:s, s:{s:s}}", "decision", "expired",
	    "approval", "id", "a1");
	json_t *expired = json_pack("{s:s, s:{s:i, s:s}}", "decision",
	    "expired", "pullRequest", "number", 7, "branch",
	    "remediate/restart/shop-cart-0a1b2c3d");

	CHECK_INT((int)daemon_prs_following(p), 0);
	daemon_prs_track(p, pending);
	CHECK_INT((int)daemon_prs_following(p), 1);
	daemon_prs_track(p, approval);
	CHECK_INT((int)daemon_prs_following(p), 1);
	daemon_prs_track(p, expired);
	CHECK_INT((int)daemon_prs_following(p), 0);
	json_decref(pending);
	json_decref(approval);
	json_decref(expired);
	daemon_prs_free(p);
}

/* ---- promq: prometheus queries off the engine thread ------------------ */

struct got_answers {
	int	 n;
	char	 keys[4][16];
	int64_t	 asked[4];
	int	 failed[4];
};

static void
on_answer(void *ctx, const char *key, int64_t asked,
    const struct prom_result *res, const char *err)
{
	struct got_answers *g = ctx;

	if (g->n < 4) {
		snprintf(g->keys[g->n], sizeof g->keys[0], "%s", key);
		g->asked[g->n] = asked;
		g->failed[g->n] = res == NULL && err != NULL;
	}
	g->n++;
}

TEST(promq_answers_each_ask_once_busy_until_collected)
{
	struct promq *q = promq_new();
	struct got_answers g;
	int i;

	REQUIRE(q != NULL);
	memset(&g, 0, sizeof g);
	/* nothing listens on port 9: each query fails, as answers */
	promq_ask(q, "a", "http://127.0.0.1:9", "up", 2000, 1000);
	promq_ask(q, "b", "http://127.0.0.1:9", "up", 2000, 2000);
	CHECK(promq_busy(q, "a") && promq_busy(q, "b"));
	CHECK(!promq_busy(q, "c"));
	CHECK_INT((long long)promq_in_flight(q), 2);
	for (i = 0; i < 400 && g.n < 2; i++) {	/* bounded: 20 s */
		promq_collect(q, on_answer, &g);
		if (g.n < 2)
			usleep(50000);
	}
	CHECK_INT(g.n, 2);
	CHECK_STR(g.keys[0], "a");		/* in the order asked */
	CHECK_STR(g.keys[1], "b");
	CHECK(g.asked[0] == 1000 && g.asked[1] == 2000);
	CHECK(g.failed[0] && g.failed[1]);
	CHECK(!promq_busy(q, "a") && !promq_busy(q, "b"));
	CHECK_INT((long long)promq_in_flight(q), 0);
	/* what is asked and never collected is freed with the queue */
	promq_ask(q, "a", "http://127.0.0.1:9", "up", 2000, 3000);
	promq_free(q);
}

/* ---- budget: the gate's question held off after a slow failure -------- */

TEST(budget_slow_failures_hold_doubling_and_an_answer_ends_them)
{
	struct daemon_budget b;

	memset(&b, 0, sizeof b);
	CHECK(daemon_budget_held(&b, 0) == 0);
	/* fast failures (refused, a bad query) hold nothing */
	CHECK(daemon_budget_note(&b, 1, 3, 5000, 100, "refused") == 0);
	CHECK(daemon_budget_held(&b, 100) == 0);
	/* a timeout holds 5 s, then 10, 20, 40, 60, 60 */
	CHECK(daemon_budget_note(&b, 1, 5000, 5000, 1000, "timed out") ==
	    BUDGET_HOLD_FIRST);
	CHECK_STR(b.why, "timed out");
	CHECK(daemon_budget_held(&b, 1000) == 5000);
	CHECK(daemon_budget_held(&b, 5999) == 1);
	CHECK(daemon_budget_held(&b, 6000) == 0);
	CHECK(daemon_budget_note(&b, 1, 5000, 5000, 11000, "t") == 10000);
	CHECK(daemon_budget_note(&b, 1, 5000, 5000, 26000, "t") == 20000);
	CHECK(daemon_budget_note(&b, 1, 5000, 5000, 51000, "t") == 40000);
	CHECK(daemon_budget_note(&b, 1, 5000, 5000, 96000, "t") == 60000);
	CHECK(daemon_budget_note(&b, 1, 5000, 5000, 161000, "t") == 60000);
	/* an answer ends the holds: the next slow failure holds 5 s again */
	CHECK(daemon_budget_note(&b, 0, 4000, 5000, 230000, NULL) == 0);
	CHECK(daemon_budget_held(&b, 230000) == 0);
	CHECK(daemon_budget_note(&b, 1, 5000, 5000, 240000, "t") == 5000);
	/* so does a fast failure: Prometheus is there */
	CHECK(daemon_budget_note(&b, 1, 10, 5000, 241000, "refused") == 0);
	CHECK(daemon_budget_held(&b, 241000) == 0);
	/* slow is a second, or half a short timeout */
	CHECK(daemon_budget_note(&b, 1, 999, 5000, 0, "t") == 0);
	CHECK(daemon_budget_note(&b, 1, 1000, 5000, 0, "t") == 5000);
	memset(&b, 0, sizeof b);
	CHECK(daemon_budget_note(&b, 1, 250, 500, 0, "t") == 5000);
}

/*
 * A listening socket no one accepts on: a connect succeeds (the backlog),
 * the query is never answered.  Returns the fd and its URL in url.
 */
static int
silent_server(char *url, size_t len)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1 ||
	    listen(fd, 8) == -1 || getsockname(fd, (struct sockaddr *)&sa,
	    &sl) == -1) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	snprintf(url, len, "http://127.0.0.1:%d", ntohs(sa.sin_port));
	return fd;
}

/* Takes every connection made so far: how many there were. */
static int
connections_made(int fd)
{
	int n = 0, c;

	while ((c = accept(fd, NULL, NULL)) != -1) {
		close(c);
		n++;
	}
	return errno == EAGAIN || errno == EWOULDBLOCK ? n : -1;
}

TEST(budget_is_not_asked_again_while_a_timeout_holds_it)
{
	struct daemon_budget b;
	double v = 0;
	int64_t at = 0;
	char url[64];
	int fd = silent_server(url, sizeof url);

	REQUIRE(fd != -1);
	memset(&b, 0, sizeof b);
	/* the question times out (300 ms): it was asked, and it holds */
	CHECK(daemon_budget_ask(&b, url, 300, "budget", 1000, &v, &at) ==
	    -1);
	CHECK_INT(connections_made(fd), 1);
	CHECK(daemon_budget_held(&b, clock_monotonic_ms()) > 0);
	CHECK(strstr(b.why, url) != NULL);
	/* held: no value, and Prometheus is not asked */
	CHECK(daemon_budget_ask(&b, url, 300, "budget", 2000, &v, &at) ==
	    -1);
	CHECK_INT(connections_made(fd), 0);
	/* once the hold is over, it is asked again */
	b.held_until = clock_monotonic_ms() - 1;
	CHECK(daemon_budget_ask(&b, url, 300, "budget", 3000, &v, &at) ==
	    -1);
	CHECK_INT(connections_made(fd), 1);
	CHECK(b.next_hold == 4 * BUDGET_HOLD_FIRST);	/* 5 s, 10 s held */
	close(fd);
	/* refused at once: no hold, and it was asked */
	memset(&b, 0, sizeof b);
	CHECK(daemon_budget_ask(&b, "http://127.0.0.1:9", 300, "budget", 4000,
	    &v, &at) == -1);
	CHECK(daemon_budget_held(&b, clock_monotonic_ms()) == 0);
}

int
main(void)
{
	RUN(fifo_and_bounded);
	RUN(reserved_slots_take_outcomes_when_full);
	RUN(ring_grows_in_order_to_its_bound);
	RUN(batches_all_or_none);
	RUN(close_unblocks_waiting_pushers);
	RUN(push_below_waits_under_the_limit);
	RUN(call_waits_for_the_engines_answer);
	RUN(unanswered_call_is_told_when_the_queue_goes);
	RUN(task_of_a_held_key_holds_up_no_other);
	RUN(merged_never_synced_expires_at_sync_timeout_open_never);
	RUN(an_expired_request_is_no_longer_followed);
	RUN(promq_answers_each_ask_once_busy_until_collected);
	RUN(budget_slow_failures_hold_doubling_and_an_answer_ends_them);
	RUN(budget_is_not_asked_again_while_a_timeout_holds_it);
	return harness_done();
}
