/*
 * The daemon's queue: bounded, all-or-none batches, close unblocks.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int
main(void)
{
	RUN(fifo_and_bounded);
	RUN(reserved_slots_take_outcomes_when_full);
	RUN(batches_all_or_none);
	RUN(close_unblocks_waiting_pushers);
	RUN(call_waits_for_the_engines_answer);
	RUN(unanswered_call_is_told_when_the_queue_goes);
	return harness_done();
}
