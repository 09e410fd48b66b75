/*
 * The PostgreSQL side, through libpq.  Statements run with text
 * parameters (binary for bytes) whose types the server infers from their
 * use; a persistent statement is prepared once per connection under its
 * own name, a one-shot one is parsed with each run (one round trip).
 * Results are read whole.
 *
 * A broken connection (server restart, network cut) fails the statement
 * it broke with SQLDB_ELOST.  Inside a transaction it stays broken until
 * the caller ends the transaction: what it wrote is gone, and the caller
 * must see that.  The next statement outside a transaction reconnects
 * (PQreset), takes back the session locks this handle held, and only
 * then runs; when another session took one in between, the handle is
 * fenced: every later call fails with that reason (a second writer).
 * Keepalives and a TCP user timeout bound how long a call waits on a
 * server that vanished without a word.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqldb/sqldb_int.h"
#include "util/util.h"

#define LOCK_SPACE	"1380273476"	/* "REMD": our advisory locks */

static void
quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;		/* "relation exists, skipping" and the like */
}

/* libpq's message without its trailing newline (owned). */
static char *
reason(const char *msg)
{
	size_t n = msg ? strlen(msg) : 0;

	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	return n ? xstrndup(msg, n) : xstrdup("unknown error");
}

static void
fail_res(struct sqldb *db, PGresult *res)
{
	char *why = reason(res ? PQresultErrorMessage(res) :
	    PQerrorMessage(db->pg));

	if (res && *PQresultErrorMessage(res) == '\0') {
		free(why);
		why = reason(PQerrorMessage(db->pg));
	}
	sqldb_set_error(db, PQstatus(db->pg) == CONNECTION_BAD ? SQLDB_ELOST :
	    SQLDB_EOTHER, "%s", why);
	free(why);
}

static int
ok(PGresult *res)
{
	ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

/* pg_try_advisory_lock (mu held): 0 taken, 1 held elsewhere, -1. */
static int
try_lock(struct sqldb *db, const char *name)
{
	const char *vals[1] = { name };
	PGresult *res;
	int rc;

	res = PQexecParams(db->pg, "SELECT pg_try_advisory_lock(" LOCK_SPACE
	    ", hashtext($1))", 1, NULL, vals, NULL, NULL, 0);
	if (!ok(res) || PQntuples(res) != 1) {
		fail_res(db, res);
		PQclear(res);
		return -1;
	}
	rc = strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? 0 : 1;
	PQclear(res);
	return rc;
}

static int
session_setup(struct sqldb *db)
{
	PGresult *res;
	int rc = 0;

	PQsetNoticeProcessor(db->pg, quiet, NULL);
	if (!(db->flags & SQLDB_READONLY))
		return 0;
	res = PQexec(db->pg, "SET default_transaction_read_only = on");
	if (!ok(res)) {
		fail_res(db, res);
		rc = -1;
	}
	PQclear(res);
	return rc;
}

/* The connection works, or is made to (mu held): 0, or -1. */
static int
ready(struct sqldb *db)
{
	size_t i;

	if (db->fenced) {
		sqldb_set_error(db, SQLDB_EOTHER, "%s", db->fenced);
		return -1;
	}
	if (PQstatus(db->pg) != CONNECTION_OK) {
		if (db->in_tx) {
			sqldb_set_error(db, SQLDB_ELOST, "the connection to "
			    "PostgreSQL was lost in a transaction");
			return -1;
		}
		PQreset(db->pg);
		if (PQstatus(db->pg) != CONNECTION_OK) {
			fail_res(db, NULL);
			sqldb_set_error(db, SQLDB_ELOST, "cannot reconnect: %s",
			    db->err);
			return -1;
		}
		db->gen++;	/* its prepared statements are gone */
		db->restore = 1;
	}
	/*
	 * Until the new session has its settings and every lock back, no
	 * statement runs on it: a relock that failed (an error, the
	 * connection fine) is tried again by the next call, never skipped.
	 */
	if (!db->restore)
		return 0;
	if (session_setup(db) == -1)
		return -1;
	for (i = 0; i < db->nlocks; i++)
		switch (try_lock(db, db->locks[i])) {
		case 0:
			break;
		case 1:
			db->fenced = xasprintf("another session took the lock "
			    "\"%s\" while the connection was down: this one "
			    "no longer writes", db->locks[i]);
			sqldb_set_error(db, SQLDB_EOTHER, "%s", db->fenced);
			return -1;
		default:
			return -1;
		}
	db->restore = 0;
	return 0;
}

int
sqldb_pg_open(struct sqldb *db, const char *url, char **err)
{
	/* ours first: the URL's own settings come later and win */
	static const char *const keys[] = { "connect_timeout",
	    "keepalives_idle", "keepalives_interval", "keepalives_count",
	    "tcp_user_timeout", "application_name", "dbname", NULL };
	const char *vals[] = { "10", "10", "5", "3", "30000", "remediate",
	    url, NULL };

	db->pg = PQconnectdbParams(keys, vals, 1);
	db->gen = 1;	/* a statement's 0 is "prepared in none" */
	if (db->pg == NULL || PQstatus(db->pg) != CONNECTION_OK) {
		char *why = reason(db->pg ? PQerrorMessage(db->pg) :
		    "out of memory");

		*err = xasprintf("%s: cannot connect: %s", db->display, why);
		free(why);
		return -1;
	}
	if (session_setup(db) == -1) {
		*err = xasprintf("%s: %s", db->display, db->err);
		return -1;
	}
	return 0;
}

static void
forget_stale(struct sqldb *db)
{
	size_t i;

	for (i = 0; i < db->nstale; i++)
		free(db->stale[i]);
	free(db->stale);
	db->stale = NULL;
	db->nstale = 0;
}

void
sqldb_pg_close(struct sqldb *db)
{
	if (db->pg)
		PQfinish(db->pg);	/* session locks go with it */
	db->pg = NULL;
	forget_stale(db);
}

int
sqldb_pg_exec(struct sqldb *db, const char *sql)
{
	PGresult *res;
	int rc = -1;

	pthread_mutex_lock(&db->mu);
	if (ready(db) == 0) {
		res = PQexec(db->pg, sql);
		if (!ok(res))
			fail_res(db, res);
		else if (strcmp(sql, "COMMIT") == 0 &&
		    strcmp(PQcmdStatus(res), "ROLLBACK") == 0)
			/* an aborted transaction "commits" as a rollback */
			sqldb_set_error(db, SQLDB_EOTHER, "the transaction failed "
			    "and was rolled back");
		else
			rc = 0;
		PQclear(res);
	}
	pthread_mutex_unlock(&db->mu);
	return rc;
}

/* PQprepare under st's name (mu held): 0, or -1. */
static int
server_prepare(struct sqldb_stmt *st)
{
	struct sqldb *db = st->db;
	PGresult *res;
	int rc = 0;

	res = PQprepare(db->pg, st->name, st->sql, st->npg, NULL);
	if (ok(res))
		st->gen = db->gen;
	else {
		fail_res(db, res);
		rc = -1;
	}
	PQclear(res);
	return rc;
}

int
sqldb_pg_prepare(struct sqldb_stmt *st, const char *sql)
{
	struct sqldb *db = st->db;
	int rc = 0;

	st->sql = xstrdup(sql);
	st->vals = xcalloc((size_t)st->npg + 1, sizeof *st->vals);
	st->lens = xcalloc((size_t)st->npg + 1, sizeof *st->lens);
	st->fmts = xcalloc((size_t)st->npg + 1, sizeof *st->fmts);
	if (!st->persistent)
		return 0;
	pthread_mutex_lock(&db->mu);
	snprintf(st->name, sizeof st->name, "remediate_%u", ++db->nnames);
	rc = ready(db) == -1 ? -1 : server_prepare(st);
	pthread_mutex_unlock(&db->mu);
	return rc;
}

int
sqldb_pg_bind(struct sqldb_stmt *st, int i, const void *v, size_t n,
    int binary)
{
	int k;

	if (i < 1 || i > st->nmap || st->map[i - 1] == 0)
		return 0;	/* a number the statement leaves out */
	k = st->map[i - 1] - 1;
	free(st->vals[k]);
	st->vals[k] = NULL;
	if (v) {
		st->vals[k] = xmalloc(n + 1);
		memcpy(st->vals[k], v, n);
		st->vals[k][n] = '\0';
	}
	st->lens[k] = (int)n;
	st->fmts[k] = binary;
	return 0;
}

/* Runs st (mu held): its result, or NULL with the error set. */
static PGresult *
run(struct sqldb_stmt *st)
{
	struct sqldb *db = st->db;
	const char *const *vals = (const char *const *)st->vals;
	PGresult *res;

	if (ready(db) == -1)
		return NULL;
	if (st->persistent && st->gen != db->gen && server_prepare(st) == -1)
		return NULL;
	res = st->persistent ? PQexecPrepared(db->pg, st->name, st->npg, vals,
	    st->lens, st->fmts, 0) : PQexecParams(db->pg, st->sql, st->npg,
	    NULL, vals, st->lens, st->fmts, 0);
	if (!ok(res)) {
		fail_res(db, res);
		PQclear(res);
		return NULL;
	}
	return res;
}

int
sqldb_pg_step(struct sqldb_stmt *st)
{
	struct sqldb *db = st->db;
	const char *cmd;

	if (st->res == NULL) {
		pthread_mutex_lock(&db->mu);
		st->res = run(st);
		if (st->res) {
			cmd = PQcmdStatus(st->res);
			if (strncmp(cmd, "INSERT", 6) == 0 || strncmp(cmd,
			    "UPDATE", 6) == 0 || strncmp(cmd, "DELETE", 6) == 0)
				db->changes = strtoll(PQcmdTuples(st->res),
				    NULL, 10);
		}
		pthread_mutex_unlock(&db->mu);
		if (st->res == NULL)
			return SQLDB_ERROR;
		st->nrows = PQntuples(st->res);
		st->row = -1;
	}
	if (st->row < st->nrows)
		st->row++;
	return st->row < st->nrows ? SQLDB_ROW : SQLDB_DONE;
}

void
sqldb_pg_clear(struct sqldb_stmt *st)
{
	int k;

	PQclear(st->res);
	st->res = NULL;
	st->row = -1;
	st->nrows = 0;
	if (st->blob)
		PQfreemem(st->blob);
	st->blob = NULL;
	for (k = 0; st->vals && k < st->npg; k++) {
		free(st->vals[k]);
		st->vals[k] = NULL;
		st->lens[k] = 0;
		st->fmts[k] = 0;
	}
}

/*
 * Deallocates the statements finalized since the last call: called at
 * once outside a transaction, and after COMMIT or ROLLBACK inside one.
 * Those of an older connection went with it.
 */
void
sqldb_pg_deallocate(struct sqldb *db)
{
	PGresult *res;
	char *sql;
	size_t i;

	if (db->stale_gen == db->gen && db->pg &&
	    PQstatus(db->pg) == CONNECTION_OK) {
		pthread_mutex_lock(&db->mu);
		for (i = 0; i < db->nstale; i++) {
			sql = xasprintf("DEALLOCATE %s", db->stale[i]);
			res = PQexec(db->pg, sql);
			PQclear(res);
			free(sql);
		}
		pthread_mutex_unlock(&db->mu);
	}
	forget_stale(db);
}

void
sqldb_pg_finalize(struct sqldb_stmt *st)
{
	struct sqldb *db = st->db;

	sqldb_pg_clear(st);
	if (st->persistent && st->gen && st->gen == db->gen) {
		if (db->stale_gen != db->gen)
			forget_stale(db);
		db->stale_gen = db->gen;
		db->stale = xrealloc(db->stale, (db->nstale + 1) *
		    sizeof(*db->stale));
		db->stale[db->nstale++] = xstrdup(st->name);
		/*
		 * Not inside a transaction: one that has failed would fail
		 * the DEALLOCATE too, and the statement would stay on the
		 * server for the connection's life.  Its end deallocates.
		 */
		if (!db->in_tx)
			sqldb_pg_deallocate(db);
	}
	free(st->vals);
	free(st->lens);
	free(st->fmts);
}

int
sqldb_pg_session_lock(struct sqldb *db, const char *name)
{
	int rc = -1;

	pthread_mutex_lock(&db->mu);
	if (ready(db) == 0)
		rc = try_lock(db, name);
	pthread_mutex_unlock(&db->mu);
	return rc;
}
