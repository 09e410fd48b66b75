/*
 * The worker pool: jobs of one key run in order and one at a time, jobs
 * of different keys side by side up to the worker count, a full pool
 * refuses, and pool_free cancels what never started and waits for what
 * runs.  Jobs block on a gate the test opens, so nothing depends on timing.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pool/pool.h"

struct gate {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 open;		/* jobs may return */
	int		 running, max_running, started;
	int		 order[64];	/* job ids in the order they ran */
	int		 norder;
	int		 per_key[4];	/* running now, per key */
	int		 overlap;	/* a key ran twice at once */
	int		 cancelled[64];
	int		 ncancelled;
};

struct job {
	struct gate	*g;
	int		 id, key;
};

static void
gate_init(struct gate *g)
{
	memset(g, 0, sizeof *g);
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
}

static void
gate_open(struct gate *g)
{
	pthread_mutex_lock(&g->mu);
	g->open = 1;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

/* Waits (bounded by the jobs the test submits) until n jobs started. */
static void
gate_wait_started(struct gate *g, int n)
{
	pthread_mutex_lock(&g->mu);
	while (g->started < n)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
}

static void
run(void *arg)
{
	struct job *j = arg;
	struct gate *g = j->g;

	pthread_mutex_lock(&g->mu);
	g->order[g->norder++] = j->id;
	g->started++;
	if (++g->running > g->max_running)
		g->max_running = g->running;
	if (++g->per_key[j->key] > 1)
		g->overlap = 1;
	pthread_cond_broadcast(&g->cv);
	while (!g->open)
		pthread_cond_wait(&g->cv, &g->mu);
	g->running--;
	g->per_key[j->key]--;
	pthread_mutex_unlock(&g->mu);
}

static void
cancel(void *arg)
{
	struct job *j = arg;

	j->g->cancelled[j->g->ncancelled++] = j->id;
}

static void
cancel_and_open(void *arg)
{
	struct job *j = arg;

	cancel(arg);
	gate_open(j->g);
}

static const char *const keys[] = { "Deployment/a/one", "Deployment/a/two",
    "Deployment/b/three", "Deployment/b/four" };

TEST(one_key_runs_in_order_one_at_a_time)
{
	struct gate g;
	struct job jobs[8];
	struct pool *p = pool_new(4, 0);
	int i;

	gate_init(&g);
	gate_open(&g);
	for (i = 0; i < 8; i++) {
		jobs[i].g = &g;
		jobs[i].id = i;
		jobs[i].key = 0;
		CHECK(pool_submit(p, keys[0], run, &jobs[i]) == 0);
	}
	pool_free(p, cancel);		/* some may be cancelled: stopped */
	CHECK_INT(g.overlap, 0);
	CHECK_INT(g.norder + g.ncancelled, 8);
	for (i = 0; i < g.norder; i++)
		CHECK_INT(g.order[i], i);
	for (i = 0; i < g.ncancelled; i++)
		CHECK_INT(g.cancelled[i], g.norder + i);
}

TEST(a_held_key_does_not_hold_the_others)
{
	struct gate g;
	struct job jobs[6];
	struct pool_stats st;
	struct pool *p = pool_new(2, 0);
	int i;

	gate_init(&g);
	/* key 0 twice, then keys 1 and 2: 2 workers, key 0's second waits */
	for (i = 0; i < 4; i++) {
		jobs[i].g = &g;
		jobs[i].id = i;
		jobs[i].key = i < 2 ? 0 : i - 1;
		CHECK(pool_submit(p, keys[jobs[i].key], run, &jobs[i]) == 0);
	}
	gate_wait_started(&g, 2);
	pool_stats(p, &st);
	CHECK_INT(st.workers, 2);
	CHECK_INT(st.running, 2);
	CHECK_INT(st.waiting, 2);
	/* the two that started: key 0's first and key 1 (job 2), never
	   key 0's second */
	CHECK_INT(g.order[0] == 0 || g.order[1] == 0, 1);
	CHECK_INT(g.order[0] == 2 || g.order[1] == 2, 1);
	gate_open(&g);
	gate_wait_started(&g, 4);
	pool_free(p, cancel);
	CHECK_INT(g.max_running, 2);
	CHECK_INT(g.overlap, 0);
	CHECK_INT(g.ncancelled, 0);
	/* key 0's second ran, after its first */
	for (i = 0; i < 4; i++)
		if (g.order[i] == 1)
			break;
	CHECK(i < 4);
	CHECK(i > 0);
}

TEST(bounded_concurrency_and_full)
{
	struct gate g;
	struct job jobs[6];
	struct pool_stats st;
	struct pool *p = pool_new(3, 5);
	int i;

	gate_init(&g);
	for (i = 0; i < 5; i++) {
		jobs[i].g = &g;
		jobs[i].id = i;
		jobs[i].key = i % 4;
		CHECK(pool_submit(p, NULL, run, &jobs[i]) == 0);
	}
	jobs[5].g = &g;
	jobs[5].id = 5;
	jobs[5].key = 0;
	CHECK(pool_submit(p, NULL, run, &jobs[5]) == -1);	/* full */
	gate_wait_started(&g, 3);
	pool_stats(p, &st);
	CHECK_INT(st.running, 3);
	CHECK_INT(st.waiting, 2);
	gate_open(&g);
	gate_wait_started(&g, 5);
	pool_free(p, cancel);
	CHECK_INT(g.max_running, 3);
	CHECK_INT(g.ncancelled, 0);
}

TEST(free_cancels_what_never_started_and_waits_for_the_rest)
{
	struct gate g;
	struct job jobs[4];
	struct pool *p = pool_new(1, 0);
	int i;

	gate_init(&g);
	for (i = 0; i < 4; i++) {
		jobs[i].g = &g;
		jobs[i].id = i;
		jobs[i].key = 0;
		CHECK(pool_submit(p, keys[i], run, &jobs[i]) == 0);
	}
	gate_wait_started(&g, 1);	/* job 0 runs, 1..3 wait */
	/* the gate opens at the first cancel: pool_free has stopped the
	   pool by then, so 1..3 can no longer start */
	pool_free(p, cancel_and_open);
	CHECK_INT(g.norder, 1);
	CHECK_INT(g.order[0], 0);
	CHECK_INT(g.ncancelled, 3);
	CHECK_INT(g.cancelled[0], 1);
	CHECK_INT(g.cancelled[2], 3);
	CHECK_INT(g.running, 0);
	pool_free(NULL, cancel);
}

int
main(void)
{
	RUN(one_key_runs_in_order_one_at_a_time);
	RUN(a_held_key_does_not_hold_the_others);
	RUN(bounded_concurrency_and_full);
	RUN(free_cancels_what_never_started_and_waits_for_the_rest);
	return harness_done();
}
