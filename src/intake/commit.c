/*
 * The committer: one thread, one connection, one transaction for every
 * request waiting (group commit).
 *
 * An HTTP thread serializes its events (in parallel with the others),
 * reserves room against the capacity, queues its request and sleeps; the
 * committer takes the whole queue, writes it in one BEGIN IMMEDIATE ...
 * COMMIT, and wakes each request of the round with its answer (its own
 * semaphore: only the threads whose commit landed wake, and none of them
 * has to take the queue's lock to learn it).  While it commits, new
 * requests gather for the next round, so the number of commits per second
 * stays near what the disk allows however many senders there are.
 *
 * Letting the requesting threads lead the rounds in turn instead (no
 * thread of our own; the last leader names the oldest waiting request
 * the next) halved the context switches per signal and was measured
 * 15-25% more CPU per signal under load: the next round then starts only
 * once its leader is scheduled, while this thread, busy, goes straight
 * from one round to the next.
 *
 * A replay mark (a signed body) is inserted with ON CONFLICT DO NOTHING: a mark
 * already there makes that request a replay and writes none of its
 * events, without failing the others in the round.  Marks older than the
 * window are deleted now and then inside a round.
 *
 * If a statement fails (disk full, I/O error) the round rolls back and
 * every request in it is answered INTAKE_ERROR: the senders get 503 and
 * keep their events.  In PostgreSQL a lost connection is that too; the
 * next round reconnects (src/sqldb/).
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "intake/intake.h"
#include "metrics/metrics.h"
#include "sqldb/sqldb.h"
#include "util/util.h"

#define INTAKE_MAGIC	0x696e746bu	/* "intk" */
#define DEF_CAPACITY	10000
#define PRUNE_EVERY	(60 * 1000)	/* ms between replay-mark prunes */
#define RECOVER_MAX	4096		/* rows read per intake_recover */
#define TEXT_SCRATCH	16384		/* bytes of event text on the
					   stack of intake_put */

struct put_req {
	const char	**texts;	/* owned array: the events as JSON,
					   in the caller's scratch or own */
	char		**own;		/* owned: texts too long for it */
	size_t		  n;
	const char	 *replay;	/* borrowed, may be NULL */
	int64_t		  now;
	int64_t		 *ids;		/* borrowed: the answer */
	enum intake_result rc;
	sem_t		  done;		/* posted once rc is set */
	struct put_req	 *next;
};

struct intake {
	unsigned		 magic;
	struct sqldb		*db;		/* SHARED: committer and
						   the engine's recovery,
						   each under db_mu */
	/*
	 * One user of db at a time: a committer's round is a transaction
	 * whose replay check reads sqldb_changes, which the recovery's
	 * DELETE would overwrite (a new request answered as a replay, its
	 * events unwritten), and on PostgreSQL the recovery's statements
	 * would run inside the round's transaction.
	 */
	pthread_mutex_t		 db_mu;
	struct intake_opts	 o;
	char			*path;		/* owned, as displayed */
	struct sqldb_stmt	*ins, *mark, *prune;
	int64_t			 last_prune;	/* ms */
	/* recovery: rows of an earlier run */
	int64_t			 recover_after, recover_max;
	/* shared, under mu */
	pthread_mutex_t		 mu;
	pthread_cond_t		 work;
	struct put_req		*head, **tail;
	size_t			 undecided;	/* accepted or reserved */
	int			 stopping, quit;
	char			*health;	/* owned, NULL: writes work */
	pthread_t		 thread;
	int			 started;
};

static void
ilog(const struct intake *in, const char *level, const char *msg,
    json_t *fields)
{
	if (in->o.log)
		in->o.log(level, msg, fields);
	else
		util_log_json(level, msg, fields);
}

/* One request's rows; returns 0, or -1 when a statement failed. */
static int
write_req(struct intake *in, struct put_req *r)
{
	size_t i;

	r->rc = INTAKE_OK;
	if (r->replay) {
		sqldb_bind_text(in->mark, 1, r->replay);
		sqldb_bind_int64(in->mark, 2, r->now);
		if (sqldb_run(in->mark, NULL) == -1)
			return -1;
		if (sqldb_changes(in->db) == 0) {
			r->rc = INTAKE_REPLAY;
			return 0;
		}
	}
	for (i = 0; i < r->n; i++) {
		sqldb_bind_int64(in->ins, 1, r->now);
		sqldb_bind_text(in->ins, 2, r->texts[i]);
		sqldb_bind_text(in->ins, 3, in->o.cluster);
		if (sqldb_run(in->ins, &r->ids[i]) == -1)
			return -1;
	}
	return 0;
}

static void
prune_marks(struct intake *in, int64_t now)
{
	if (now - in->last_prune < PRUNE_EVERY)
		return;
	in->last_prune = now;
	sqldb_bind_int64(in->prune, 1, now - in->o.replay_window);
	sqldb_run(in->prune, NULL);
}

/* One round: every request in list, one transaction.  Unlocked. */
static void
commit_round(struct intake *in, struct put_req *list)
{
	struct put_req *r, *next;
	char *why = NULL;
	size_t failed = 0;
	int ok;

	pthread_mutex_lock(&in->db_mu);
	ok = sqldb_begin(in->db) == 0;
	for (r = list; ok && r; r = r->next)
		ok = write_req(in, r) == 0;
	if (ok && list)
		prune_marks(in, list->now);
	if (ok)
		ok = sqldb_commit(in->db) == 0;
	if (!ok) {
		why = xasprintf("%s: cannot accept events: %s", in->path,
		    sqldb_errmsg(in->db));
		sqldb_rollback(in->db);
		for (r = list; r; r = r->next)
			r->rc = INTAKE_ERROR;
		metrics_count_audit_write("error");
	}
	for (r = list; r; r = r->next)	/* their room is free again */
		if (r->rc != INTAKE_OK)
			failed += r->n;
	pthread_mutex_unlock(&in->db_mu);
	pthread_mutex_lock(&in->mu);
	if ((why == NULL) != (in->health == NULL))
		ilog(in, why ? "error" : "info", why ? "intake cannot write "
		    "the state file: answering 503" : "intake writes work "
		    "again", json_pack("{s:s, s:s?}", "path", in->path,
		    "error", why));
	free(in->health);
	in->health = why;
	in->undecided -= failed;
	pthread_mutex_unlock(&in->mu);
	/* r lives on its thread's stack until posted: read next first */
	for (r = list; r; r = next) {
		next = r->next;
		sem_post(&r->done);
	}
}

static void *
committer(void *arg)
{
	struct intake *in = arg;
	struct put_req *list;

	pthread_mutex_lock(&in->mu);
	for (;;) {
		while (in->head == NULL && !in->quit)
			pthread_cond_wait(&in->work, &in->mu);
		if (in->head == NULL)
			break;		/* quit, nothing left */
		list = in->head;
		in->head = NULL;
		in->tail = &in->head;
		pthread_mutex_unlock(&in->mu);
		commit_round(in, list);
		pthread_mutex_lock(&in->mu);
	}
	pthread_mutex_unlock(&in->mu);
	return NULL;
}

/*
 * Serializes evs[0..n) into r->texts, into scratch (size bytes, on the
 * caller's stack, which outlives the round) while it has room, else into
 * r->own: a fresh allocation of a kilobyte or two for each event made
 * glibc's malloc consolidate its free lists each time.
 */
static void
serialize(struct put_req *r, const struct event *evs, size_t n,
    char *scratch, size_t size)
{
	size_t i, used = 0;
	struct buf b;
	json_t *j;

	r->texts = xcalloc(n ? n : 1, sizeof *r->texts);
	r->own = xcalloc(n ? n : 1, sizeof *r->own);
	for (i = 0; i < n; i++) {
		/* written straight to text: json_pack and json_dumpb were a
		   seventh of a durable signal's CPU */
		if (size - used > 1) {
			buf_init_on(&b, scratch + used, size - used);
			if (event_write(&b, &evs[i]) == 0 && !b.overflow) {
				r->texts[i] = scratch + used;
				used += b.len + 1;
				continue;
			}
		}
		/* NULL (not JSON) fails the round's INSERT */
		j = event_json(&evs[i]);
		r->texts[i] = r->own[i] = json_dumps(j, JSON_COMPACT);
		json_decref(j);
	}
	r->n = n;
}

enum intake_result
intake_put(struct intake *in, const struct event *evs, size_t n,
    const char *replay, int64_t now, int64_t *ids)
{
	struct put_req r;
	char scratch[TEXT_SCRATCH];
	size_t i;

	if (in == NULL || in->magic != INTAKE_MAGIC)
		abort();
	memset(&r, 0, sizeof r);
	sem_init(&r.done, 0, 0);
	pthread_mutex_lock(&in->mu);
	if (in->stopping || in->quit) {
		pthread_mutex_unlock(&in->mu);
		sem_destroy(&r.done);
		return INTAKE_STOPPING;
	}
	if (in->undecided + n > in->o.capacity) {
		pthread_mutex_unlock(&in->mu);
		sem_destroy(&r.done);
		return INTAKE_FULL;
	}
	in->undecided += n;		/* reserved */
	pthread_mutex_unlock(&in->mu);
	serialize(&r, evs, n, scratch, sizeof scratch);
	r.replay = replay;
	r.now = now;
	r.ids = ids;
	pthread_mutex_lock(&in->mu);
	*in->tail = &r;
	/* r lives on this stack until the committer answers: it takes the
	   whole list and resets tail (under mu) before it posts r.done */
	/* cppcheck-suppress autoVariables */
	in->tail = &r.next;
	pthread_cond_signal(&in->work);
	pthread_mutex_unlock(&in->mu);
	while (sem_wait(&r.done) == -1)
		;	/* EINTR */
	sem_destroy(&r.done);
	for (i = 0; i < r.n; i++)
		free(r.own[i]);
	free(r.own);
	free(r.texts);
	return r.rc;
}

void
intake_decided(struct intake *in, size_t n)
{
	pthread_mutex_lock(&in->mu);
	in->undecided -= n < in->undecided ? n : in->undecided;
	pthread_mutex_unlock(&in->mu);
}

size_t
intake_undecided(struct intake *in)
{
	size_t n;

	pthread_mutex_lock(&in->mu);
	n = in->undecided;
	pthread_mutex_unlock(&in->mu);
	return n;
}

char *
intake_health(struct intake *in)
{
	char *why;

	pthread_mutex_lock(&in->mu);
	why = in->health ? xstrdup(in->health) : NULL;
	pthread_mutex_unlock(&in->mu);
	return why;
}

void
intake_stop(struct intake *in)
{
	pthread_mutex_lock(&in->mu);
	in->stopping = 1;
	pthread_mutex_unlock(&in->mu);
}

/* ---- opening and recovery ------------------------------------------------ */

/* The undecided rows an earlier run left: how many, and the newest. */
static int
count_undecided(struct intake *in, int64_t *n)
{
	struct sqldb_stmt *st;
	int rc;

	if ((st = sqldb_prepare(in->db, in->o.cluster ? "SELECT count(*), "
	    "coalesce(max(id), 0) FROM intake WHERE cluster = ?" :
	    "SELECT count(*), coalesce(max(id), 0) FROM intake", 0)) == NULL)
		return -1;
	if (in->o.cluster)
		sqldb_bind_text(st, 1, in->o.cluster);
	if ((rc = sqldb_step(st)) == SQLDB_ROW) {
		*n = sqldb_column_int64(st, 0);
		in->recover_max = sqldb_column_int64(st, 1);
	}
	sqldb_finalize(st);
	return rc == SQLDB_ROW ? 0 : -1;
}

static int
prepare(struct intake *in, struct sqldb_stmt **st, const char *sql)
{
	return (*st = sqldb_prepare(in->db, sql, 1)) ? 0 : -1;
}

static int
open_db(struct intake *in, const char *target, char **err)
{
	int64_t n = 0;

	if ((in->db = sqldb_open(target, SQLDB_SHARED, err)) == NULL)
		return -1;
	if ((sqldb_engine(in->db) == SQLDB_SQLITE && sqldb_exec(in->db,
	    in->o.sync_full ? "PRAGMA synchronous = FULL" :
	    "PRAGMA synchronous = NORMAL") == -1) ||
	    prepare(in, &in->ins, "INSERT INTO intake (received, event, "
	    "cluster) VALUES (?, ?, ?) RETURNING id") == -1 ||
	    prepare(in, &in->mark, "INSERT INTO replay (key, seen) VALUES "
	    "(?, ?) ON CONFLICT DO NOTHING") == -1 ||
	    prepare(in, &in->prune, "DELETE FROM replay WHERE seen < ?") == -1 ||
	    count_undecided(in, &n) == -1)
		goto fail;
	in->undecided = (size_t)n;
	if (n)
		ilog(in, "info", "undecided events from the last run",
		    json_pack("{s:s, s:I}", "path", in->path, "events",
		    (json_int_t)n));
	return 0;
fail:
	*err = xasprintf("%s: cannot open the intake: %s", in->path,
	    sqldb_errmsg(in->db));
	return -1;
}

struct intake *
intake_open(const char *path, const struct intake_opts *o, char **err)
{
	struct intake *in = xcalloc(1, sizeof *in);

	in->magic = INTAKE_MAGIC;
	in->o = *o;
	if (in->o.capacity == 0)
		in->o.capacity = DEF_CAPACITY;
	if (in->o.replay_window <= 0)
		in->o.replay_window = INTAKE_REPLAY_WINDOW;
	in->path = sqldb_display(path);
	in->tail = &in->head;
	pthread_mutex_init(&in->mu, NULL);
	pthread_mutex_init(&in->db_mu, NULL);
	pthread_cond_init(&in->work, NULL);
	if (open_db(in, path, err) == -1) {
		intake_free(in);
		return NULL;
	}
	if (pthread_create(&in->thread, NULL, committer, in) != 0) {
		*err = xstrdup("cannot start the intake's thread");
		intake_free(in);
		return NULL;
	}
	in->started = 1;
	return in;
}

void
intake_free(struct intake *in)
{
	if (in == NULL)
		return;
	if (in->magic != INTAKE_MAGIC)
		abort();
	pthread_mutex_lock(&in->mu);
	in->quit = 1;
	pthread_cond_broadcast(&in->work);
	pthread_mutex_unlock(&in->mu);
	if (in->started)
		pthread_join(in->thread, NULL);
	sqldb_finalize(in->ins);
	sqldb_finalize(in->mark);
	sqldb_finalize(in->prune);
	sqldb_close(in->db);
	pthread_cond_destroy(&in->work);
	pthread_mutex_destroy(&in->mu);
	pthread_mutex_destroy(&in->db_mu);
	free(in->health);
	free(in->path);
	in->magic = 0;
	free(in);
}

/* A read of the intake rows failed: logged, what it read dropped. */
static long
read_failed(struct intake *in, const char *msg, json_t *read)
{
	ilog(in, "error", msg, json_pack("{s:s, s:s}", "path", in->path,
	    "error", sqldb_errmsg(in->db)));
	json_decref(read);
	return -1;
}

static void
drop_row(struct intake *in, int64_t id)
{
	struct sqldb_stmt *st;

	pthread_mutex_lock(&in->db_mu);
	if ((st = sqldb_prepare(in->db, "DELETE FROM intake WHERE id = ?",
	    0)) != NULL) {
		sqldb_bind_int64(st, 1, id);
		(void)sqldb_step(st);
		sqldb_finalize(st);
	}
	pthread_mutex_unlock(&in->db_mu);
}

long
intake_recover(struct intake *in, size_t max, void (*fn)(void *ctx,
    int64_t id, struct event *ev), void *ctx)
{
	struct sqldb_stmt *st;
	json_t *rows = json_array(), *row;
	json_error_t je;
	struct event ev;
	int64_t after = in->recover_after;
	size_t i, bad = 0;
	int rc;

	if (in->recover_after >= in->recover_max) {
		json_decref(rows);
		return 0;
	}
	if (max == 0 || max > RECOVER_MAX)
		max = RECOVER_MAX;
	pthread_mutex_lock(&in->db_mu);
	if ((st = sqldb_prepare(in->db, in->o.cluster ? "SELECT id, event "
	    "FROM intake WHERE id > ?1 AND id <= ?2 AND cluster = ?4 ORDER BY "
	    "id LIMIT ?3" : "SELECT id, event FROM intake WHERE id > ?1 AND "
	    "id <= ?2 ORDER BY id LIMIT ?3", 0)) == NULL) {
		pthread_mutex_unlock(&in->db_mu);
		goto fail;
	}
	sqldb_bind_int64(st, 1, after);
	sqldb_bind_int64(st, 2, in->recover_max);
	sqldb_bind_int64(st, 3, (int64_t)max);
	if (in->o.cluster)
		sqldb_bind_text(st, 4, in->o.cluster);
	while ((rc = sqldb_step(st)) == SQLDB_ROW) {
		const char *text = sqldb_column_text(st, 1);

		after = sqldb_column_int64(st, 0);
		json_array_append_new(rows, json_pack("{s:I, s:o?}", "id",
		    (json_int_t)after, "event", text ?
		    util_json_loads(text, 0, &je) : NULL));
	}
	sqldb_finalize(st);
	pthread_mutex_unlock(&in->db_mu);
	/* a page cut short is read again whole: its rows are not decided
	   here, so the next call must not start past them */
	if (rc != SQLDB_DONE)
		goto fail;
	in->recover_after = json_array_size(rows) ? after : in->recover_max;
	json_array_foreach(rows, i, row) {
		int64_t id = json_integer_value(json_object_get(row, "id"));

		if (event_parse(json_object_get(row, "event"), &ev) ==
		    -1) {
			bad++;		/* nothing to decide: the row goes */
			event_clear(&ev);
			drop_row(in, id);
			intake_decided(in, 1);
			continue;
		}
		fn(ctx, id, &ev);
		event_clear(&ev);
	}
	if (bad)
		ilog(in, "error", "undecided events that do not read were "
		    "dropped", json_pack("{s:s, s:i}", "path", in->path,
		    "events", (int)bad));
	i = json_array_size(rows);
	json_decref(rows);
	return (long)i;
fail:
	return read_failed(in, "cannot read the undecided events", rows);
}

long
intake_ids(struct intake *in, size_t max, void (*fn)(void *ctx,
    const char *id), void *ctx)
{
	struct sqldb_stmt *st;
	json_t *ids = json_array(), *ev, *id;
	json_error_t je;
	size_t i;
	int rc;

	pthread_mutex_lock(&in->db_mu);
	if ((st = sqldb_prepare(in->db, in->o.cluster ? "SELECT event FROM "
	    "intake WHERE cluster = ?2 ORDER BY id DESC LIMIT ?1" :
	    "SELECT event FROM intake ORDER BY id DESC LIMIT ?1", 0)) ==
	    NULL) {
		pthread_mutex_unlock(&in->db_mu);
		goto fail;
	}
	sqldb_bind_int64(st, 1, (int64_t)max);
	if (in->o.cluster)
		sqldb_bind_text(st, 2, in->o.cluster);
	while ((rc = sqldb_step(st)) == SQLDB_ROW) {
		const char *text = sqldb_column_text(st, 0);

		ev = text ? util_json_loads(text, 0, &je) : NULL;
		id = json_object_get(ev, "id");
		if (json_is_string(id))
			json_array_append(ids, id);
		json_decref(ev);
	}
	sqldb_finalize(st);
	pthread_mutex_unlock(&in->db_mu);
	if (rc != SQLDB_DONE)
		goto fail;
	for (i = json_array_size(ids); i > 0; i--)	/* oldest first */
		fn(ctx, json_string_value(json_array_get(ids, i - 1)));
	i = json_array_size(ids);
	json_decref(ids);
	return (long)i;
fail:
	return read_failed(in, "cannot read the undecided events' ids", ids);
}
