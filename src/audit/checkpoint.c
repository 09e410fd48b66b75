/*
 * The checkpointer: a thread with its own connection that copies the
 * SQLite write-ahead log into the file, so the engine thread does not.
 *
 * In WAL mode a commit appends to the log; a checkpoint copies the log's
 * pages into the database file and, with synchronous=NORMAL, fsyncs both.
 * Left to the writer (wal_autocheckpoint), that copy and its fsyncs run
 * inside a commit every few MiB of records, on the engine thread, and a
 * storm's decisions wait for the disk.  Here a PASSIVE checkpoint, which
 * never blocks the writer nor a reader, runs on this thread after commits
 * (at most every CKPT_MS), and the writer's own autocheckpoint stays as a
 * bound on the log should this thread fall behind (setup_writer in
 * store.c).  Durability is SQLite's either way: a checkpoint only moves
 * committed pages, and a crash in the middle of one is recovered from the
 * log at the next open.
 *
 * SQLite writers only; PostgreSQL has its own checkpointer.
 */
#include <errno.h>
#include <time.h>

#include "audit/audit_int.h"

#define CKPT_MS	200		/* between checkpoints, at least */

static void *
run(void *arg)
{
	struct audit *a = arg;
	struct timespec until;

	pthread_mutex_lock(&a->ckpt_mu);
	while (!a->ckpt_stop) {
		if (!a->ckpt_due) {
			pthread_cond_wait(&a->ckpt_cv, &a->ckpt_mu);
			continue;
		}
		a->ckpt_due = 0;
		pthread_mutex_unlock(&a->ckpt_mu);
		/* busy (another checkpoint, a reader's lock): next time */
		(void)sqldb_exec(a->ckpt_db, "PRAGMA wal_checkpoint(PASSIVE)");
		pthread_mutex_lock(&a->ckpt_mu);
		until = time_deadline(CLOCK_REALTIME, CKPT_MS);
		while (!a->ckpt_stop && pthread_cond_timedwait(&a->ckpt_cv,
		    &a->ckpt_mu, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&a->ckpt_mu);
	return NULL;
}

int
audit_ckpt_start(struct audit *a, const char *path)
{
	char *err = NULL;

	if ((a->ckpt_db = sqldb_open(path, 0, &err)) == NULL) {
		audit_log(a, "warn", "no checkpointer: the writer checkpoints",
		    json_pack("{s:s, s:s}", "path", a->path, "error", err ?
		    err : "?"));
		free(err);
		return -1;
	}
	pthread_mutex_init(&a->ckpt_mu, NULL);
	pthread_cond_init(&a->ckpt_cv, NULL);
	if (pthread_create(&a->ckpt_thread, NULL, run, a) != 0) {
		pthread_cond_destroy(&a->ckpt_cv);
		pthread_mutex_destroy(&a->ckpt_mu);
		sqldb_close(a->ckpt_db);
		a->ckpt_db = NULL;
		return -1;
	}
	return 0;
}

void
audit_ckpt_kick(struct audit *a)
{
	if (a->ckpt_db == NULL)
		return;
	pthread_mutex_lock(&a->ckpt_mu);
	a->ckpt_due = 1;
	pthread_cond_signal(&a->ckpt_cv);
	pthread_mutex_unlock(&a->ckpt_mu);
}

void
audit_ckpt_stop(struct audit *a)
{
	if (a->ckpt_db == NULL)
		return;
	pthread_mutex_lock(&a->ckpt_mu);
	a->ckpt_stop = 1;
	pthread_cond_signal(&a->ckpt_cv);
	pthread_mutex_unlock(&a->ckpt_mu);
	pthread_join(a->ckpt_thread, NULL);
	pthread_cond_destroy(&a->ckpt_cv);
	pthread_mutex_destroy(&a->ckpt_mu);
	sqldb_close(a->ckpt_db);
	a->ckpt_db = NULL;
}
