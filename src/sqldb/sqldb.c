/*
 * Opening a handle by what --state names, and the calls that are the same
 * for both engines or only dispatch to one (lite.c, pg.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqldb/sqldb_int.h"
#include "util/util.h"

int
sqldb_is_postgres(const char *target)
{
	return target && (strncmp(target, "postgres://", 11) == 0 ||
	    strncmp(target, "postgresql://", 13) == 0);
}

char *
sqldb_display(const char *target)
{
	const char *scheme, *at, *colon, *slash;

	if (!sqldb_is_postgres(target))
		return xstrdup(target);
	scheme = strstr(target, "://") + 3;
	slash = strchr(scheme, '/');
	at = strchr(scheme, '@');
	if (at == NULL || (slash && slash < at))
		return xstrdup(target);
	colon = memchr(scheme, ':', (size_t)(at - scheme));
	if (colon == NULL)
		return xstrdup(target);
	return xasprintf("%.*s***%s", (int)(colon + 1 - target), target, at);
}

void
sqldb_set_error(struct sqldb *db, enum sqldb_error code, const char *fmt,
    ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	free(db->err);
	db->err = msg;
	db->ecode = code;
}

struct sqldb *
sqldb_open(const char *target, int flags, char **err)
{
	struct sqldb *db = xcalloc(1, sizeof *db);
	int rc;

	db->magic = SQLDB_MAGIC;
	db->flags = flags;
	db->display = sqldb_display(target);
	db->engine = sqldb_is_postgres(target) ? SQLDB_POSTGRES :
	    SQLDB_SQLITE;
	pthread_mutex_init(&db->mu, NULL);
	rc = db->engine == SQLDB_POSTGRES ? sqldb_pg_open(db, target, err) :
	    sqldb_lite_open(db, target, err);
	if (rc == -1) {
		sqldb_close(db);
		return NULL;
	}
	return db;
}

void
sqldb_close(struct sqldb *db)
{
	size_t i;

	if (db == NULL)
		return;
	if (db->magic != SQLDB_MAGIC)
		abort();
	sqlite3_finalize(db->lite_tx[0]);	/* NULL: a no-op */
	sqlite3_finalize(db->lite_tx[1]);
	if (db->lite)
		sqlite3_close(db->lite);
	sqldb_pg_close(db);
	for (i = 0; i < db->nlocks; i++)
		free(db->locks[i]);
	free(db->locks);
	free(db->fenced);
	free(db->err);
	free(db->display);
	pthread_mutex_destroy(&db->mu);
	db->magic = 0;
	free(db);
}

enum sqldb_engine
sqldb_engine(const struct sqldb *db)
{
	return db->engine;
}

int
sqldb_exec(struct sqldb *db, const char *sql)
{
	int *map, nmap, npg, rc;
	char *text = sqldb_translate(sql, db->engine, &map, &nmap, &npg);

	free(map);
	rc = db->engine == SQLDB_POSTGRES ? sqldb_pg_exec(db, text) :
	    sqldb_lite_exec(db, text);
	free(text);
	return rc;
}

int
sqldb_query_int(struct sqldb *db, const char *sql, int64_t *out)
{
	struct sqldb_stmt *st = sqldb_prepare(db, sql, 0);
	int rc;

	if (st == NULL)
		return -1;
	if ((rc = sqldb_step(st)) == SQLDB_ROW)
		*out = sqldb_column_int64(st, 0);
	else if (rc == SQLDB_DONE)
		sqldb_set_error(db, SQLDB_EOTHER, "no row: %.60s", sql);
	sqldb_finalize(st);
	return rc == SQLDB_ROW ? 0 : -1;
}

int
sqldb_file_identity(struct sqldb *db, int64_t *appid, int64_t *version,
    int64_t *nobjects)
{
	struct sqldb_stmt *st = sqldb_prepare(db, "SELECT a.application_id, "
	    "v.user_version, (SELECT count(*) FROM sqlite_schema) FROM "
	    "pragma_application_id a, pragma_user_version v", 0);
	int rc;

	if (st == NULL)
		return -1;
	if ((rc = sqldb_step(st)) == SQLDB_ROW) {
		*appid = sqldb_column_int64(st, 0);
		*version = sqldb_column_int64(st, 1);
		*nobjects = sqldb_column_int64(st, 2);
	}
	sqldb_finalize(st);
	return rc == SQLDB_ROW ? 0 : -1;
}

struct sqldb_stmt *
sqldb_prepare(struct sqldb *db, const char *sql, int persistent)
{
	struct sqldb_stmt *st = xcalloc(1, sizeof *st);
	char *text;
	int rc;

	st->magic = STMT_MAGIC;
	st->db = db;
	st->persistent = persistent;
	st->row = -1;
	text = sqldb_translate(sql, db->engine, &st->map, &st->nmap,
	    &st->npg);
	rc = db->engine == SQLDB_POSTGRES ? sqldb_pg_prepare(st, text) :
	    sqldb_lite_prepare(st, text);
	free(text);
	if (rc == -1) {
		sqldb_finalize(st);
		return NULL;
	}
	return st;
}

void
sqldb_finalize(struct sqldb_stmt *st)
{
	if (st == NULL)
		return;
	if (st->magic != STMT_MAGIC)
		abort();
	if (st->lite)
		sqlite3_finalize(st->lite);
	if (st->db->engine == SQLDB_POSTGRES)
		sqldb_pg_finalize(st);
	free(st->map);
	free(st->sql);
	free(st->why);
	st->magic = 0;
	free(st);
}

void
sqldb_reset(struct sqldb_stmt *st)
{
	st->failed = SQLDB_EOK;
	free(st->why);
	st->why = NULL;
	if (st->lite) {
		sqlite3_reset(st->lite);
		sqlite3_clear_bindings(st->lite);
	} else
		sqldb_pg_clear(st);
}

int
sqldb_bind_int64(struct sqldb_stmt *st, int i, int64_t v)
{
	char num[24];

	if (st->lite)
		return sqlite3_bind_int64(st->lite, i, v) == SQLITE_OK ? 0 : -1;
	snprintf(num, sizeof num, "%lld", (long long)v);
	return sqldb_pg_bind(st, i, num, strlen(num), 0);
}

int
sqldb_bind_text(struct sqldb_stmt *st, int i, const char *s)
{
	if (s == NULL)
		return sqldb_bind_null(st, i);
	if (st->lite)
		return sqlite3_bind_text(st->lite, i, s, -1,
		    SQLITE_TRANSIENT) == SQLITE_OK ? 0 : -1;
	return sqldb_pg_bind(st, i, s, strlen(s), 0);
}

int
sqldb_bind_null(struct sqldb_stmt *st, int i)
{
	if (st->lite)
		return sqlite3_bind_null(st->lite, i) == SQLITE_OK ? 0 : -1;
	return sqldb_pg_bind(st, i, NULL, 0, 0);
}

int
sqldb_bind_blob(struct sqldb_stmt *st, int i, const void *p, size_t n)
{
	if (st->lite)
		return sqlite3_bind_blob64(st->lite, i, p, n,
		    SQLITE_TRANSIENT) == SQLITE_OK ? 0 : -1;
	return sqldb_pg_bind(st, i, p, n, 1);
}

int
sqldb_bind_column(struct sqldb_stmt *st, int i, struct sqldb_stmt *src,
    int j)
{
	const void *p;
	size_t n;

	switch (sqldb_column_type(src, j)) {
	case SQLDB_NULL:
		return sqldb_bind_null(st, i);
	case SQLDB_INTEGER:
		return sqldb_bind_int64(st, i, sqldb_column_int64(src, j));
	case SQLDB_BLOB:
		p = sqldb_column_blob(src, j, &n);
		return sqldb_bind_blob(st, i, p, n);
	case SQLDB_FLOAT:
	case SQLDB_TEXT:
		break;
	}
	return sqldb_bind_text(st, i, sqldb_column_text(src, j));
}

/*
 * A statement that failed fails again, without running, until it is
 * reset: SQLite would otherwise reset it itself and run it once more (an
 * INSERT twice), and PostgreSQL's side would send it again.  Either
 * engine means the same: an error ends the statement's run.
 */
int
sqldb_step(struct sqldb_stmt *st)
{
	int rc;

	if (st->failed != SQLDB_EOK) {
		sqldb_set_error(st->db, st->failed, "%s (failed before, not "
		    "run again until reset)", st->why);
		return SQLDB_ERROR;
	}
	rc = st->lite ? sqldb_lite_step(st) : sqldb_pg_step(st);
	if (rc == SQLDB_ERROR) {
		st->failed = sqldb_error(st->db) == SQLDB_EOK ? SQLDB_EOTHER :
		    sqldb_error(st->db);
		st->why = xstrdup(sqldb_errmsg(st->db));
	}
	return rc;
}

int
sqldb_run(struct sqldb_stmt *st, int64_t *id)
{
	int rc = sqldb_step(st);

	if (rc == SQLDB_ROW && id)
		*id = sqldb_column_int64(st, 0);
	/* the reason stays: sqlite3_reset sets it again, libpq's is ours */
	sqldb_reset(st);
	return rc == SQLDB_ERROR ? -1 : 0;
}

enum sqldb_type
sqldb_column_type(struct sqldb_stmt *st, int j)
{
	Oid t;

	if (st->lite)
		switch (sqlite3_column_type(st->lite, j)) {
		case SQLITE_INTEGER:
			return SQLDB_INTEGER;
		case SQLITE_FLOAT:
			return SQLDB_FLOAT;
		case SQLITE_TEXT:
			return SQLDB_TEXT;
		case SQLITE_BLOB:
			return SQLDB_BLOB;
		default:
			return SQLDB_NULL;
		}
	if (st->res == NULL || st->row < 0 || st->row >= st->nrows ||
	    PQgetisnull(st->res, st->row, j))
		return SQLDB_NULL;
	t = PQftype(st->res, j);
	if (t == 20 || t == 21 || t == 23 || t == 16)	/* int8/2/4, bool */
		return SQLDB_INTEGER;
	if (t == 700 || t == 701 || t == 1700)	/* float4/8, numeric */
		return SQLDB_FLOAT;
	return t == 17 ? SQLDB_BLOB : SQLDB_TEXT;	/* bytea */
}

const char *
sqldb_column_text(struct sqldb_stmt *st, int j)
{
	if (st->lite)
		return (const char *)sqlite3_column_text(st->lite, j);
	if (st->res == NULL || st->row < 0 || st->row >= st->nrows ||
	    PQgetisnull(st->res, st->row, j))
		return NULL;
	return PQgetvalue(st->res, st->row, j);
}

/*
 * A PostgreSQL column's text as sqlite3_column_int64 reads a value, so
 * both engines give one answer: a boolean 1 or 0; a float or numeric
 * converted, truncated toward zero and clamped (its text may be "1e+20",
 * whose leading digits are not its value); anything else by its leading
 * integer ("12abc" is 12, "x" 0), clamped when out of range.
 */
static int64_t
text_int64(const char *s, int real)
{
	double d;

	if (strcmp(s, "t") == 0 || strcmp(s, "f") == 0)
		return s[0] == 't';
	if (!real)
		return strtoll(s, NULL, 10);	/* ERANGE: clamped */
	d = strtod(s, NULL);
	if (d != d)
		return 0;
	if (d >= 9223372036854775807.0)
		return INT64_MAX;
	if (d <= -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)d;
}

int64_t
sqldb_column_int64(struct sqldb_stmt *st, int j)
{
	const char *s;

	if (st->lite)
		return sqlite3_column_int64(st->lite, j);
	if ((s = sqldb_column_text(st, j)) == NULL)
		return 0;
	return text_int64(s, sqldb_column_type(st, j) == SQLDB_FLOAT);
}

const void *
sqldb_column_blob(struct sqldb_stmt *st, int j, size_t *n)
{
	const char *s;

	*n = 0;
	if (st->lite) {
		*n = (size_t)sqlite3_column_bytes(st->lite, j);
		return sqlite3_column_blob(st->lite, j);
	}
	if ((s = sqldb_column_text(st, j)) == NULL)
		return NULL;
	if (st->blob)
		PQfreemem(st->blob);
	st->blob = PQunescapeBytea((const unsigned char *)s, n);
	return st->blob;
}

int64_t
sqldb_changes(struct sqldb *db)
{
	return db->engine == SQLDB_SQLITE ? sqlite3_changes64(db->lite) :
	    db->changes;
}

int
sqldb_begin(struct sqldb *db)
{
	if (db->engine == SQLDB_SQLITE)
		return sqldb_lite_tx(db, 0);
	/*
	 * A connection found broken at BEGIN (the server restarted while we
	 * were idle) had nothing of ours in flight: reconnect and begin.
	 */
	if (sqldb_pg_exec(db, "BEGIN") == -1 && (db->ecode != SQLDB_ELOST ||
	    sqldb_pg_exec(db, "BEGIN") == -1))
		return -1;
	db->in_tx = 1;
	return 0;
}

int
sqldb_commit(struct sqldb *db)
{
	int rc = db->engine == SQLDB_SQLITE ? sqldb_lite_tx(db, 1) :
	    sqldb_exec(db, "COMMIT");

	db->in_tx = 0;
	if (db->engine == SQLDB_POSTGRES)
		sqldb_pg_deallocate(db);
	return rc;
}

void
sqldb_rollback(struct sqldb *db)
{
	char *keep = db->err ? xstrdup(db->err) : NULL;
	enum sqldb_error code = db->ecode;

	if (db->engine == SQLDB_SQLITE)
		sqlite3_exec(db->lite, "ROLLBACK", NULL, NULL, NULL);
	else if (db->pg && PQstatus(db->pg) == CONNECTION_OK)
		(void)sqldb_pg_exec(db, "ROLLBACK");
	db->in_tx = 0;
	if (db->engine == SQLDB_POSTGRES)
		sqldb_pg_deallocate(db);
	/* the reason is the failure that made us roll back */
	free(db->err);
	db->err = keep;
	db->ecode = code;
}

int
sqldb_lock(struct sqldb *db, const char *name)
{
	struct sqldb_stmt *st;
	int rc;

	if (db->engine == SQLDB_SQLITE)
		return 0;
	if ((st = sqldb_prepare(db, "SELECT pg_advisory_xact_lock("
	    "1380273476, hashtext(?))", 0)) == NULL)
		return -1;
	sqldb_bind_text(st, 1, name);
	rc = sqldb_step(st);
	sqldb_finalize(st);
	return rc == SQLDB_ROW ? 0 : -1;
}

int
sqldb_session_lock(struct sqldb *db, const char *name)
{
	int rc;

	if (db->engine == SQLDB_SQLITE)
		return 0;
	if ((rc = sqldb_pg_session_lock(db, name)) == 0) {
		db->locks = xrealloc(db->locks, (db->nlocks + 1) *
		    sizeof *db->locks);
		db->locks[db->nlocks++] = xstrdup(name);
	}
	return rc;
}

const char *
sqldb_errmsg(struct sqldb *db)
{
	if (db->engine == SQLDB_SQLITE && db->lite && db->err == NULL)
		return sqlite3_errmsg(db->lite);
	return db->err ? db->err : "no error";
}

enum sqldb_error
sqldb_error(struct sqldb *db)
{
	if (db->engine == SQLDB_SQLITE && db->lite && db->err == NULL)
		return sqldb_lite_code(sqlite3_errcode(db->lite));
	return db->ecode;
}
