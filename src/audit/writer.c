/*
 * The writer thread: runs a storm's group commits while the engine thread
 * goes on deciding.
 *
 * With group commit (write.c) the engine thread still did each group's
 * inserts and its commit itself, between decisions: in bench/state the
 * store's calls were a fifth of the process's CPU, all of it on the
 * thread that decides.  Here the engine thread makes the transaction
 * (struct audit_txn: the rows, the intake marks, the journal's entries as
 * text, everything moved out of the handle, so nothing is shared) and
 * hands it over; this thread binds, steps and commits it while the engine
 * decides the next group, so on two cores the two overlap.
 *
 * One transaction is in flight at a time, and it holds the connection:
 * from audit_writer_hand until audit_writer_take gives it back, the
 * connection (its statements, a->failed, a->error) is this thread's, and
 * the engine thread touches none of it; every other use of the connection
 * (an intent, audit_flush, audit_sync, audit_prune, the queries) takes
 * the transaction back first, waiting for it.  So transactions still
 * commit in the order they were made, and the state in the file is never
 * ahead of the records that changed it.  The engine thread learns a
 * group's fate when it takes it back (write.c reports it through
 * opts.stored), so a record is still shown only once committed.
 *
 * Durability is unchanged: an intent is written and made durable on the
 * engine thread, after the group before it, before the action runs.
 */
#include "audit/audit_int.h"

static void *
run(void *arg)
{
	struct audit *a = arg;
	struct audit_txn *t;

	pthread_mutex_lock(&a->wr_mu);
	for (;;) {
		while (!a->wr_stop && (a->wr_txn == NULL || a->wr_done))
			pthread_cond_wait(&a->wr_cv, &a->wr_mu);
		if (a->wr_stop)
			break;
		t = a->wr_txn;
		pthread_mutex_unlock(&a->wr_mu);
		audit_txn_run(a, t);
		pthread_mutex_lock(&a->wr_mu);
		a->wr_done = 1;
		pthread_cond_broadcast(&a->wr_cv);
	}
	pthread_mutex_unlock(&a->wr_mu);
	return NULL;
}

int
audit_writer_start(struct audit *a)
{
	pthread_mutex_init(&a->wr_mu, NULL);
	pthread_cond_init(&a->wr_cv, NULL);
	if (pthread_create(&a->wr_thread, NULL, run, a) != 0) {
		pthread_cond_destroy(&a->wr_cv);
		pthread_mutex_destroy(&a->wr_mu);
		audit_log(a, "warn", "no writer thread: the engine thread "
		    "writes", json_pack("{s:s}", "path", a->path));
		return -1;
	}
	a->wr_on = 1;
	return 0;
}

void
audit_writer_hand(struct audit *a, struct audit_txn *t)
{
	pthread_mutex_lock(&a->wr_mu);
	if (a->wr_txn != NULL)
		abort();	/* one in flight: take it back first */
	a->wr_txn = t;
	a->wr_done = 0;
	pthread_cond_broadcast(&a->wr_cv);
	pthread_mutex_unlock(&a->wr_mu);
}

struct audit_txn *
audit_writer_take(struct audit *a, int wait)
{
	struct audit_txn *t = NULL;

	if (!a->wr_on || a->wr_txn == NULL)
		return NULL;	/* only this thread sets wr_txn */
	pthread_mutex_lock(&a->wr_mu);
	while (wait && !a->wr_done)
		pthread_cond_wait(&a->wr_cv, &a->wr_mu);
	if (a->wr_done) {
		t = a->wr_txn;
		a->wr_txn = NULL;
		a->wr_done = 0;
	}
	pthread_mutex_unlock(&a->wr_mu);
	return t;
}

int
audit_writer_busy(struct audit *a)
{
	return a->wr_on && a->wr_txn != NULL;
}

void
audit_writer_stop(struct audit *a)
{
	if (!a->wr_on)
		return;
	pthread_mutex_lock(&a->wr_mu);
	a->wr_stop = 1;
	pthread_cond_broadcast(&a->wr_cv);
	pthread_mutex_unlock(&a->wr_mu);
	pthread_join(a->wr_thread, NULL);
	pthread_cond_destroy(&a->wr_cv);
	pthread_mutex_destroy(&a->wr_mu);
	a->wr_on = 0;
}
