/*
 * Writing: one transaction per decision, holding the record and every
 * state entry the decision changed (collected from the guard, pager and
 * prometheus edge journals), so the file never holds a record without
 * its state or the other way round.
 *
 * An action is two writes.  audit_intend inserts it as "intended" with its
 * cooldown mark and rate token, always with synchronous=FULL, before the
 * action runs; audit_write then completes that row with the outcome.  A
 * crash in between leaves the intended row, which history shows as
 * "acted, outcome unknown", and the cooldown mark, which stops the action
 * from being repeated after the restart.
 *
 * A write that fails (disk full, I/O error) is not lost at once: the
 * record waits in memory, bounded, and goes out with the next transaction
 * that succeeds; the state is then rewritten whole, since the journal
 * marks of the failed transaction were spent.
 *
 * Group commit (opts.group > 1): records are held, with the journal and
 * the decided events' intake rows, and written in one transaction when
 * the group is full or the caller has no more work waiting (audit_flush).
 * A storm then pays one commit per group instead of one per decision,
 * and an idle daemon pays nothing more, since it flushes as soon as its
 * queue is empty.  Every transaction writes whatever is held first (an
 * intent, audit_sync, audit_prune), so the state in the file is never
 * ahead of the records that changed it, and a group is all in the file
 * or none of it.  The caller shows a record only once a call returned 0.
 *
 * With opts.stored, a full group is handed to the writer thread
 * (writer.c) instead, and the engine thread goes on deciding while it is
 * written; the records' fate is reported through opts.stored, oldest
 * first, when the engine thread takes the group back (in any later call).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit_int.h"
#include "jp/jp.h"
#include "metrics/metrics.h"

void
audit_row_clear(struct audit_row *row)
{
	free(row->sensor);
	free(row->trigger);
	free(row->target);
	free(row->decision);
	free(row->reason);
	free(row->record);
	free(row->inputs);
	free(row->cluster);
	memset(row, 0, sizeof *row);
}

void
audit_held_free(struct audit *a)
{
	size_t i;

	for (i = 0; i < a->nheld; i++)
		audit_row_clear(&a->held[i]);
	free(a->held);
	a->held = NULL;
	a->nheld = a->capheld = 0;
}

void
audit_backlog_free(struct audit *a)
{
	size_t i;

	for (i = 0; i < a->nbacklog; i++)
		audit_row_clear(&a->backlog[i]);
	free(a->backlog);
	a->backlog = NULL;
	a->nbacklog = a->capbacklog = 0;
}

/*
 * The inputs as kept (owned): whole up to AUDIT_INPUTS_MAX, else marked.
 * jp_dump, not json_dumps: jansson's dumper checks every object and array
 * for a cycle (a formatted pointer in a hash table each), which made this
 * note, a few KiB of small objects, half of what a record cost to store.
 * The text reads back to the same values (reals in their shortest form;
 * an object the caller has a text for, opts.note_known, as that text).
 */
static char *
inputs_text(const struct audit *a, const json_t *inputs)
{
	char *s;
	size_t n;

	if (inputs == NULL)
		return NULL;
	s = a->opts.note_known ? jp_dump_known(inputs, a->opts.note_known,
	    a->opts.note_known_ctx) : jp_dump(inputs, 0);
	if ((n = strlen(s)) <= AUDIT_INPUTS_MAX)
		return s;
	free(s);
	return xasprintf("{\"signal\":%" JSON_INTEGER_FORMAT ",\"truncated\":"
	    "true,\"bytes\":%zu}", json_integer_value(json_object_get(inputs,
	    "signal")), n);
}

static void
row_from_record(const struct audit *a, struct audit_row *row,
    const struct rec_decision_record *r, const char *text, int intended)
{
	const struct objref *t = &r->target;
	const char *reason = rec_reason_name(r->reason);
	json_t *j = text ? NULL : rec_to_json(r);

	memset(row, 0, sizeof *row);
	row->time = r->time;
	row->sensor = xstrdup(r->sensor ? r->sensor : "");
	row->trigger = xstrdup(r->trigger ? r->trigger : "");
	row->cluster = r->cluster ? xstrdup(r->cluster) : NULL;
	if (t->kind && t->name)
		row->target = objref_key(t);	/* Kind/ns/name, Kind/name */
	row->decision = xstrdup(rec_decision_name(r->decision));
	row->reason = reason ? xstrdup(reason) : NULL;
	row->record = text ? xstrdup(text) : json_dumps(j, REC_JSON_FLAGS);
	row->inputs = inputs_text(a, r->inputs);
	row->intended = intended;
	json_decref(j);
}

/*
 * Runs st once; a row it returns (RETURNING id) goes to *id.  Returns 0,
 * or -1 with the transaction's failure noted.
 */
static int
step_id(struct audit *a, struct sqldb_stmt *st, const char *what,
    int64_t *id)
{
	if (sqldb_run(st, id) == 0)
		return 0;
	audit_fail(a, what);
	return -1;
}

static int
step(struct audit *a, struct sqldb_stmt *st, const char *what)
{
	return step_id(a, st, what, NULL);
}

static void
write_row(struct audit *a, const struct audit_row *row, int64_t *rowid)
{
	const char *outcome = row->intended ? "intended" : "final";

	if (row->update_id) {
		sqldb_bind_text(a->upd, 1, row->decision);
		sqldb_bind_text(a->upd, 2, row->reason);
		sqldb_bind_text(a->upd, 3, outcome);
		sqldb_bind_text(a->upd, 4, row->record);
		sqldb_bind_text(a->upd, 5, row->inputs);
		sqldb_bind_int64(a->upd, 6, row->update_id);
		if (step(a, a->upd, "update") == -1 ||
		    sqldb_changes(a->db) == 1)
			return;
		/* the intended row is gone (pruned): write it anew */
	}
	sqldb_bind_int64(a->ins, 1, row->time);
	sqldb_bind_text(a->ins, 2, row->sensor);
	sqldb_bind_text(a->ins, 3, row->trigger);
	sqldb_bind_text(a->ins, 4, row->target);
	sqldb_bind_text(a->ins, 5, row->decision);
	sqldb_bind_text(a->ins, 6, row->reason);
	sqldb_bind_text(a->ins, 7, outcome);
	sqldb_bind_text(a->ins, 8, row->record);
	sqldb_bind_text(a->ins, 9, row->inputs);
	sqldb_bind_text(a->ins, 10, row->cluster);
	step_id(a, a->ins, "insert", rowid);
}

/*
 * A journal entry: kept (value) or removed (NULL), noted as text in the
 * transaction (ctx), on the engine thread, which owns the state.
 */
static void
put_state(void *ctx, const char *kind, const char *key, json_t *value)
{
	struct audit_txn *t = ctx;
	struct audit_put *p;

	xgrow(&t->puts, &t->capputs, t->nputs + 1, sizeof *t->puts);
	p = &t->puts[t->nputs++];
	p->kind = xstrdup(kind);
	p->key = xstrdup(key);
	/* json_dumps' text, without its cycle check (~8k instructions an
	   entry, about one a record in a storm) */
	p->value = value ? util_json_dumps(value, JSON_COMPACT) : NULL;
}

static void
journal(struct audit *a, struct audit_txn *t)
{
	int i;

	t->resync = a->resync;
	for (i = 0; i < a->nsrc; i++) {
		if (a->src[i].kind == SRC_GUARD)
			guard_state_journal(a->src[i].obj, a->resync,
			    put_state, t);
		else if (a->src[i].kind == SRC_PAGE)
			page_state_journal(a->src[i].obj, a->resync,
			    put_state, t);
		else
			sched_edges_journal(a->src[i].obj, a->resync,
			    put_state, t);
	}
}

/* A resync rewrites this cluster's state, never another's. */
static void
resync_state(struct audit *a)
{
	struct sqldb_stmt *st = sqldb_prepare(a->db, "DELETE FROM state "
	    "WHERE cluster = ?", 0);

	if (st == NULL) {
		audit_fail(a, "resync state");
		return;
	}
	sqldb_bind_text(st, 1, audit_cluster(a));
	step(a, st, "resync state");
	sqldb_finalize(st);
}

/* The journal's entries, written (in the transaction). */
static void
write_puts(struct audit *a, const struct audit_txn *t)
{
	const struct audit_put *p;
	size_t i;

	if (t->resync)
		resync_state(a);
	for (i = 0; i < t->nputs && !a->failed; i++) {
		p = &t->puts[i];
		if (p->value == NULL) {
			sqldb_bind_text(a->del, 1, audit_cluster(a));
			sqldb_bind_text(a->del, 2, p->kind);
			sqldb_bind_text(a->del, 3, p->key);
			step(a, a->del, "delete state");
			continue;
		}
		sqldb_bind_text(a->put, 1, audit_cluster(a));
		sqldb_bind_text(a->put, 2, p->kind);
		sqldb_bind_text(a->put, 3, p->key);
		sqldb_bind_text(a->put, 4, p->value);
		step(a, a->put, "write state");
	}
}

static void
set_health(struct audit *a, const char *why)
{
	pthread_mutex_lock(&a->health_mu);
	free(a->health);
	a->health = why ? xstrdup(why) : NULL;
	pthread_mutex_unlock(&a->health_mu);
}

char *
audit_health(struct audit *a)
{
	char *why;

	pthread_mutex_lock(&a->health_mu);
	why = a->health ? xstrdup(a->health) : NULL;
	pthread_mutex_unlock(&a->health_mu);
	return why;
}

/* The decided events' intake rows go with this transaction. */
static void
mark_done(struct audit *a, const struct audit_txn *t)
{
	size_t i;

	for (i = 0; i < t->ndone && !a->failed; i++) {
		sqldb_bind_int64(a->done_st, 1, t->done[i]);
		step(a, a->done_st, "mark an event decided");
	}
}

static void
failed(struct audit *a, const char *what)
{
	set_health(a, a->error ? a->error : what);
	metrics_count_audit_write("error");
	audit_log(a, "error", what, json_pack("{s:s, s:s, s:i}", "path",
	    a->path, "error", a->error ? a->error : "?", "waiting",
	    (int)a->nbacklog));
}

static int
commit(struct audit *a)
{
	if (sqldb_commit(a->db) == 0)
		return 0;
	audit_fail(a, "commit");
	return -1;
}

/*
 * The next transaction (owned): the records that failed before, the ones
 * held, row (stolen; may be NULL), the decided events' marks, the journal.
 */
static struct audit_txn *
txn_make(struct audit *a, struct audit_row *row)
{
	struct audit_txn *t = xcalloc(1, sizeof *t);
	size_t n = a->nbacklog + a->nheld + (row != NULL);

	t->rows = xcalloc(n ? n : 1, sizeof *t->rows);
	if (a->nbacklog)
		memcpy(t->rows, a->backlog, a->nbacklog * sizeof *t->rows);
	if (a->nheld)
		memcpy(t->rows + a->nbacklog, a->held, a->nheld *
		    sizeof *t->rows);
	t->nbacklog = a->nbacklog;
	t->nheld = a->nheld;
	t->nrows = a->nbacklog + a->nheld;
	a->nbacklog = a->nheld = 0;
	if (row) {
		t->rows[t->nrows++] = *row;
		memset(row, 0, sizeof *row);
		t->given = 1;
	}
	t->done = a->done;
	t->ndone = a->ndone;
	a->done = NULL;
	a->ndone = a->capdone = 0;
	journal(a, t);
	return t;
}

void
audit_txn_run(struct audit *a, struct audit_txn *t)
{
	size_t i, last = t->nrows - 1;

	a->failed = 0;
	if (sqldb_begin(a->db) == -1) {
		audit_fail(a, "begin");
		goto fail;
	}
	for (i = 0; i < t->nrows && !a->failed; i++)
		write_row(a, &t->rows[i], t->given && i == last ? &t->rowid :
		    NULL);
	mark_done(a, t);
	if (!a->failed)
		write_puts(a, t);
	if (a->failed || commit(a) == -1)
		goto fail;
	t->rc = 0;
	return;
fail:
	sqldb_rollback(a->db);
	t->rc = -1;
}

static void
txn_free(struct audit_txn *t)
{
	size_t i;

	for (i = 0; i < t->nrows; i++)
		audit_row_clear(&t->rows[i]);
	for (i = 0; i < t->nputs; i++) {
		free(t->puts[i].kind);
		free(t->puts[i].key);
		free(t->puts[i].value);
	}
	free(t->rows);
	free(t->puts);
	free(t->done);
	free(t);
}

static void keep(struct audit *, struct audit_row *);

/* Tells the caller the fate of its n oldest records not yet told. */
static void
report(struct audit *a, size_t n, int stored)
{
	if (a->opts.stored && n)
		a->opts.stored(a->opts.stored_ctx, n, stored);
}

/*
 * After t ran (freed here): what it wrote is forgotten, or, when it
 * failed, its rows are kept again (the held ones in the backlog, told as
 * not stored, when to_backlog; else held again) and its marks are kept,
 * the state to be rewritten whole.  Returns t's rc.
 */
static int
txn_end(struct audit *a, struct audit_txn *t, int to_backlog)
{
	int rc = t->rc;
	size_t i, h = t->nbacklog + t->nheld;

	if (rc == 0) {
		if (t->nbacklog)
			audit_log(a, "info", "audit log writes work again",
			    json_pack("{s:s, s:i}", "path", a->path, "written",
			    (int)t->nbacklog));
		a->resync = 0;
		audit_ckpt_kick(a);
		set_health(a, NULL);
		metrics_count_audit_write("ok");
		report(a, t->nheld, 1);
		txn_free(t);
		return 0;
	}
	a->resync = 1;
	/* the marks first: a row keep drops takes its event's mark along */
	xgrow(&a->done, &a->capdone, a->ndone + t->ndone, sizeof *a->done);
	if (t->ndone)
		memcpy(a->done + a->ndone, t->done, t->ndone *
		    sizeof *a->done);
	a->ndone += t->ndone;
	for (i = 0; i < t->nbacklog; i++)
		keep(a, &t->rows[i]);
	if (to_backlog) {
		for (; i < h; i++)
			keep(a, &t->rows[i]);
		report(a, t->nheld, 0);
	} else if (t->nheld) {
		/* held again, before any held since (none: it ran here) */
		xgrow(&a->held, &a->capheld, a->nheld + t->nheld,
		    sizeof *a->held);
		memmove(a->held + t->nheld, a->held, a->nheld *
		    sizeof *a->held);
		memcpy(a->held, t->rows + t->nbacklog, t->nheld *
		    sizeof *a->held);
		a->nheld += t->nheld;
		memset(t->rows + t->nbacklog, 0, t->nheld * sizeof *t->rows);
	}
	txn_free(t);
	return -1;
}

static void failed(struct audit *, const char *);

/*
 * The writer's transaction back, waiting for it if wait: its records told
 * (failed: kept to retry, logged).  Returns its rc, 0 when none was out
 * or it still runs.  The connection is this thread's after a wait.
 */
static int
take_back(struct audit *a, int wait)
{
	int timed = wait && audit_writer_busy(a);
	struct timespec t0, t1;
	struct audit_txn *t;

	if (timed)
		clock_gettime(CLOCK_MONOTONIC, &t0);
	t = audit_writer_take(a, wait);
	if (timed) {	/* remediate_state_writer_wait_seconds_total */
		clock_gettime(CLOCK_MONOTONIC, &t1);
		metrics_add_state_writer_wait((double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	}
	if (t == NULL)
		return 0;
	if (txn_end(a, t, 1) == 0)
		return 0;
	failed(a, "cannot write decision records: kept to retry");
	return -1;
}

/*
 * One transaction on this thread, after the writer's: the records that
 * failed before, the held ones, row (stolen; may be NULL), the marks, the
 * journal.  Returns 0 (row's id in *rowid), or -1 with the transaction
 * rolled back and what it held kept (to_backlog: as take_back's).
 */
static int
transact(struct audit *a, struct audit_row *row, int64_t *rowid,
    int to_backlog)
{
	struct audit_txn *t;

	if (a->ins == NULL) {
		if (row)
			audit_row_clear(row);
		return -1;		/* a reader */
	}
	(void)take_back(a, 1);
	t = txn_make(a, row);
	audit_txn_run(a, t);
	if (rowid)
		*rowid = t->rowid;
	return txn_end(a, t, to_backlog);
}

/*
 * The oldest rows of the backlog go: the first, and when it decided an
 * intake event, that event's other rows (after it: an event's records
 * are written together) and its mark.  The event's intake row then stays
 * undecided and is decided again, whole, by a later run's recovery: a
 * mark written without its records would delete an acknowledged event
 * that nothing records.
 */
static void
drop_oldest(struct audit *a)
{
	int64_t ev = a->backlog[0].event;
	size_t i, n = 0;

	do {
		audit_row_clear(&a->backlog[n++]);
		metrics_count_audit_write("dropped");
	} while (ev && n < a->nbacklog && a->backlog[n].event == ev);
	memmove(a->backlog, a->backlog + n, (a->nbacklog - n) *
	    sizeof *a->backlog);
	a->nbacklog -= n;
	for (i = 0; ev && i < a->ndone; i++)
		if (a->done[i] == ev) {
			memmove(a->done + i, a->done + i + 1, (a->ndone - i -
			    1) * sizeof *a->done);
			a->ndone--;
			break;
		}
}

/*
 * Keeps a row that could not be written, dropping the oldest if full.
 * The decided events' marks must be in a->done (not in a transaction).
 */
static void
keep(struct audit *a, struct audit_row *row)
{
	if (a->nbacklog == BACKLOG_MAX)
		drop_oldest(a);
	/*
	 * The record is kept, its inputs are not: up to 64 KiB each, a full
	 * backlog would hold 640 MB.  `diff` counts it as without inputs.
	 */
	free(row->inputs);
	row->inputs = NULL;
	xgrow(&a->backlog, &a->capbacklog, a->nbacklog + 1,
	    sizeof *a->backlog);
	a->backlog[a->nbacklog++] = *row;
	memset(row, 0, sizeof *row);
}

static char *
pending_key(const struct rec_decision_record *r)
{
	const struct objref *t = &r->target;

	return xasprintf("%s\x1f%s\x1f%s/%s/%s", r->sensor ? r->sensor : "",
	    r->trigger ? r->trigger : "", t->kind ? t->kind : "",
	    t->namespace ? t->namespace : "", t->name ? t->name : "");
}

void
audit_pending_free(struct audit *a)
{
	size_t i;

	for (i = 0; i < a->npending; i++)
		free(a->pending[i].key);
	free(a->pending);
	a->pending = NULL;
	a->npending = a->cappending = 0;
}

static void
pending_drop(struct audit *a, size_t i)
{
	free(a->pending[i].key);
	memmove(&a->pending[i], &a->pending[i + 1], (a->npending - i - 1) *
	    sizeof *a->pending);
	a->npending--;
}

static void
pending_add(struct audit *a, const struct rec_decision_record *r,
    int64_t rowid)
{
	if (a->npending == PENDING_MAX) {
		/* its row stays "intended": history says outcome unknown */
		audit_log(a, "warn", "an intended action got no outcome",
		    json_pack("{s:s, s:I}", "path", a->path, "row",
		    (json_int_t)a->pending[0].rowid));
		pending_drop(a, 0);
	}
	xgrow(&a->pending, &a->cappending, a->npending + 1,
	    sizeof *a->pending);
	a->pending[a->npending].rowid = rowid;
	a->pending[a->npending].time = r->time;
	a->pending[a->npending].key = pending_key(r);
	a->npending++;
}

/* The row of r's intent, forgotten here; 0 when r had none. */
static int64_t
pending_take(struct audit *a, const struct rec_decision_record *r)
{
	int64_t rowid = 0;
	char *key;
	size_t i;

	if (a->npending == 0)
		return 0;
	key = pending_key(r);
	for (i = 0; i < a->npending; i++)
		if (a->pending[i].time == r->time &&
		    strcmp(a->pending[i].key, key) == 0) {
			rowid = a->pending[i].rowid;
			pending_drop(a, i);
			break;
		}
	free(key);
	return rowid;
}

int
audit_intend(struct audit *a, const struct rec_decision_record *r)
{
	struct audit_row row;
	int64_t rowid = 0;
	int rc, lite;

	if (a->ins == NULL)
		return -1;		/* a reader */
	(void)take_back(a, 1);		/* the connection, and order */
	/* PostgreSQL's commits are durable (synchronous_commit) already */
	lite = sqldb_engine(a->db) == SQLDB_SQLITE;
	row_from_record(a, &row, r, NULL, 1);
	if (lite && !a->opts.sync_full)
		audit_exec(a, "PRAGMA synchronous = FULL");
	rc = transact(a, &row, &rowid, 0);
	if (lite && !a->opts.sync_full)
		audit_exec(a, "PRAGMA synchronous = NORMAL");
	if (rc == -1) {
		failed(a, "cannot record an action's intent: not acting");
		return -1;
	}
	pending_add(a, r, rowid);
	return 0;
}

/* Records per transaction at most: 1 unless grouping. */
static size_t
group_size(const struct audit *a)
{
	return a->opts.group > 1 ? (size_t)a->opts.group : 1;
}

/*
 * Writes what is held (with the backlog, the journal and the done marks)
 * in one transaction.  Returns 0; or -1, the held records moved to the
 * backlog to retry, logged as what.
 */
static int
write_held(struct audit *a, const char *what)
{
	if (transact(a, NULL, NULL, 1) == 0)
		return 0;
	failed(a, what);
	return -1;
}

/*
 * With the writer thread: a full group (or a batch of record-less events'
 * marks) is handed to it once it took back the one before.  While that
 * one is still being written the engine thread goes on holding, up to
 * WRITER_HOLD_MAX groups, then waits for it: the writer is never more
 * than one transaction behind, and memory stays bounded (16 groups of
 * rows of 4-5 KB with their notes: about 4 MB).  Sixteen, not four: the
 * writer's own WAL checkpoint (at 32 MiB of log) holds it for some 25 ms,
 * some 500 decisions of a storm; with four the engine waited out each
 * one (bench/state: 3 waits, 0.07-0.08 s of a 1.3 s run), with sixteen
 * it never waited.  Returns 1 while records wait (held or being written),
 * 0 when none does.
 */
#define WRITER_HOLD_MAX	16

static int
writer_group(struct audit *a)
{
	(void)take_back(a, 0);
	if (a->event == 0 && (a->nheld >= group_size(a) ||
	    a->ndone >= DONE_BATCH) && (!audit_writer_busy(a) ||
	    a->nheld >= WRITER_HOLD_MAX * group_size(a))) {
		(void)take_back(a, 1);
		audit_writer_hand(a, txn_make(a, NULL));
	}
	return a->nheld || audit_writer_busy(a) ? 1 : 0;
}

int
audit_write(struct audit *a, const struct rec_decision_record *r)
{
	return audit_write_text(a, r, NULL);
}

int
audit_write_text(struct audit *a, const struct rec_decision_record *r,
    const char *text)
{
	struct audit_row row;

	if (a->ins == NULL)
		return -1;		/* a reader */
	row_from_record(a, &row, r, text, 0);
	row.update_id = pending_take(a, r);
	row.event = a->event;
	xgrow(&a->held, &a->capheld, a->nheld + 1, sizeof *a->held);
	a->held[a->nheld++] = row;
	if (a->wr_on)
		return writer_group(a);
	if (a->event || a->opts.group > 1) {
		/* an event's records go together, with its intake row */
		if (a->event || a->nheld < group_size(a))
			return 1;
		return write_held(a, "cannot write decision records: kept "
		    "to retry");
	}
	return write_held(a, "cannot write a decision record: kept to "
	    "retry");
}

void
audit_event_begin(struct audit *a, int64_t id)
{
	a->event = id;
}

int
audit_event_end(struct audit *a)
{
	if (a->event == 0)
		return 0;
	xgrow(&a->done, &a->capdone, a->ndone + 1, sizeof *a->done);
	a->done[a->ndone++] = a->event;
	a->event = 0;
	if (a->wr_on)
		return writer_group(a);
	/* not grouping: nothing held, or the event's records, now */
	if (a->nheld < group_size(a) && a->ndone < DONE_BATCH)
		return a->nheld ? 1 : 0;
	/* kept to retry like any record; the intake rows stay undecided */
	return write_held(a, "cannot write a decided event's records: kept "
	    "to retry");
}

int
audit_flush(struct audit *a)
{
	int rc;

	if (a->ins == NULL)
		return -1;		/* a reader */
	if (a->event)
		return 1;		/* the event's end writes it */
	rc = take_back(a, 1);
	if (a->nheld == 0)
		return rc;	/* record-less events' marks wait: DONE_BATCH */
	return write_held(a, "cannot write decision records: kept to retry");
}

int
audit_sync(struct audit *a)
{
	if (transact(a, NULL, NULL, 0) == 0)
		return 0;
	failed(a, "cannot write the guard state");
	return -1;
}

/* Any writer call using the connection: the writer's transaction first. */
void
audit_settle(struct audit *a)
{
	if (a->wr_on)
		(void)take_back(a, 1);
}

/* Runs one bounded DELETE; returns the rows deleted or -1. */
static long
delete_some(struct audit *a, const char *sql, int64_t arg)
{
	struct sqldb_stmt *st;
	int rc;

	if ((st = sqldb_prepare(a->db, sql, 0)) == NULL) {
		audit_fail(a, "prune");
		return -1;
	}
	sqldb_bind_int64(st, 1, arg);
	if ((rc = sqldb_step(st)) != SQLDB_DONE)
		audit_fail(a, "prune");
	sqldb_finalize(st);
	return rc == SQLDB_DONE ? (long)sqldb_changes(a->db) : -1;
}

long
audit_prune(struct audit *a, int64_t now)
{
	struct audit_txn *t;
	long n = 0, k;
	int i;

	if (a->ins == NULL)
		return -1;
	/* the journal below must not get ahead of the records held */
	audit_settle(a);
	if (a->nheld && a->event == 0 && transact(a, NULL, NULL, 0) == -1) {
		failed(a, "cannot prune the audit log");
		return -1;
	}
	/* never sooner than a guardrail may still hold it: a --retain
	   shorter than a cooldown ended the cooldown */
	if (a->opts.retain_age > 0)
		for (i = 0; i < a->nsrc; i++)
			if (a->src[i].kind == SRC_GUARD)
				guard_state_prune(a->src[i].obj, now -
				    (a->opts.retain_age > GUARD_STATE_KEEP ?
				    a->opts.retain_age : GUARD_STATE_KEEP));
	a->failed = 0;
	if (sqldb_begin(a->db) == -1) {
		audit_fail(a, "begin");
		goto fail;
	}
	if (a->opts.retain_age > 0 && (k = delete_some(a, "DELETE FROM "
	    "decisions WHERE id IN (SELECT id FROM decisions WHERE time < ? "
	    "ORDER BY time LIMIT 10000)", now - a->opts.retain_age)) >= 0)
		n += k;
	if (!a->failed && a->opts.retain_count > 0 && (k = delete_some(a,
	    "DELETE FROM decisions WHERE id IN (SELECT id FROM decisions "
	    "WHERE id <= (SELECT max(id) FROM decisions) - ? ORDER BY id "
	    "LIMIT 10000)", a->opts.retain_count)) >= 0)
		n += k;
	if (!a->failed) {
		t = xcalloc(1, sizeof *t);
		journal(a, t);
		write_puts(a, t);
		txn_free(t);
	}
	if (a->failed || commit(a) == -1)
		goto fail;
	a->resync = 0;
	/* give the freed pages back, a bounded amount at a time (SQLite;
	   PostgreSQL's autovacuum does it) */
	if (n && sqldb_engine(a->db) == SQLDB_SQLITE)
		audit_exec(a, "PRAGMA incremental_vacuum(4000)");
	return n;
fail:
	sqldb_rollback(a->db);
	a->resync = 1;
	failed(a, "cannot prune the audit log");
	return -1;
}
