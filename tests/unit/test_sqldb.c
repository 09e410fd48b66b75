/*
 * sqldb against SQLite always, and against PostgreSQL when
 * REMEDIATE_TEST_PG holds a URL (tests/e2e/test_state_postgres.py starts a
 * server and runs this binary with it; `make unit` starts nothing).  The
 * same cases run on both engines: what the stores rely on must mean the
 * same thing in each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "sqldb/sqldb.h"
#include "sqldb/sqldb_int.h"
#include "util/util.h"

static char dir[] = "/tmp/test_sqldb.XXXXXX";
static char path[256];
static const char *target;	/* the engine under test */

static struct sqldb *
fresh(void)
{
	struct sqldb *db;
	char *err = NULL;

	if (!sqldb_is_postgres(target))
		unlink(target);
	db = sqldb_open(target, SQLDB_CREATE, &err);
	if (db == NULL)
		fprintf(stderr, "open: %s\n", err);
	free(err);
	if (db)
		sqldb_exec(db, "DROP TABLE IF EXISTS t; DROP TABLE IF EXISTS "
		    "kv");
	return db;
}

static void
make_tables(struct sqldb *db)
{
	CHECK(sqldb_exec(db, "CREATE TABLE t (id {ID}, n {INT}, s TEXT, "
	    "b {BLOB}); CREATE TABLE kv (k TEXT NOT NULL, v TEXT NOT NULL, "
	    "PRIMARY KEY (k)){NOROWID}") == 0);
}

static int64_t
count(struct sqldb *db, const char *sql)
{
	int64_t n = -1;

	CHECK(sqldb_query_int(db, sql, &n) == 0);
	return n;
}

TEST(translates_placeholders_and_tokens)
{
	int *map, nmap, npg;
	char *s;

	s = sqldb_translate("SELECT ?, '?{ID}', ?3, ?1 WHERE x = {INSTR}(a)",
	    SQLDB_POSTGRES, &map, &nmap, &npg);
	CHECK(strcmp(s, "SELECT $1, '?{ID}', $2, $1 WHERE x = strpos(a)") ==
	    0);
	CHECK(nmap == 3 && npg == 2 && map[0] == 1 && map[1] == 0 &&
	    map[2] == 2);
	free(s);
	free(map);
	s = sqldb_translate("CREATE TABLE x (id {ID}, y {INT}){NOROWID} -- ?",
	    SQLDB_SQLITE, &map, &nmap, &npg);
	CHECK(strcmp(s, "CREATE TABLE x (id INTEGER PRIMARY KEY, y INTEGER) "
	    "WITHOUT ROWID -- ?") == 0);
	CHECK(nmap == 0 && map == NULL);
	free(s);
	/* a ? in a comment is no parameter PostgreSQL would have to bind */
	s = sqldb_translate("SELECT ? -- why? 'x\n, /* a ? b */ ?, '--?'",
	    SQLDB_POSTGRES, &map, &nmap, &npg);
	CHECK(strcmp(s, "SELECT $1 -- why? 'x\n, /* a ? b */ $2, '--?'") ==
	    0);
	CHECK(npg == 2);
	free(s);
	free(map);
	s = sqldb_translate("SELECT 1 /* open ?", SQLDB_POSTGRES, &map, &nmap,
	    &npg);
	CHECK(strcmp(s, "SELECT 1 /* open ?") == 0 && npg == 0);
	free(s);
	free(map);
}

/* SQLite's file identity, read in one statement (one snapshot). */
TEST(reads_a_files_identity)
{
	struct sqldb *db;
	int64_t id = -1, v = -1, n = -1;
	char *err = NULL;
	FILE *f;

	unlink(path);
	REQUIRE((db = sqldb_open(path, SQLDB_CREATE, &err)) != NULL);
	CHECK(sqldb_file_identity(db, &id, &v, &n) == 0);
	CHECK(id == 0 && v == 0 && n == 0);
	CHECK(sqldb_exec(db, "PRAGMA application_id = 1380273476; PRAGMA "
	    "user_version = 5; CREATE TABLE x (a); CREATE INDEX xa ON x (a)")
	    == 0);
	CHECK(sqldb_file_identity(db, &id, &v, &n) == 0);
	CHECK(id == 1380273476 && v == 5 && n == 2);
	sqldb_close(db);
	unlink(path);
	REQUIRE((f = fopen(path, "w")) != NULL);
	fputs("this is no database, but long enough to have a header: "
	    "0123456789012345678901234567890123456789\n", f);
	fclose(f);
	db = sqldb_open(path, 0, &err);
	if (db != NULL) {
		CHECK(sqldb_file_identity(db, &id, &v, &n) == -1);
		CHECK(sqldb_error(db) == SQLDB_ENOTDB);
		sqldb_close(db);
	} else {
		CHECK(err != NULL);
		free(err);
	}
	unlink(path);
}

TEST(hides_a_password)
{
	char *s = sqldb_display("postgres://u:secret@h:5432/db?sslmode=off");

	CHECK(strcmp(s, "postgres://u:***@h:5432/db?sslmode=off") == 0);
	free(s);
	s = sqldb_display("postgresql://u@h/db");
	CHECK(strcmp(s, "postgresql://u@h/db") == 0);
	free(s);
	s = sqldb_display("/var/lib/x:y@z.db");
	CHECK(strcmp(s, "/var/lib/x:y@z.db") == 0);
	free(s);
	CHECK(sqldb_is_postgres("postgresql://h/db"));
	CHECK(!sqldb_is_postgres("file:state.db"));
}

TEST(binds_steps_and_reads)
{
	struct sqldb *db = fresh();
	struct sqldb_stmt *ins, *sel;
	int64_t id1 = 0, id2 = 0;
	const void *p;
	size_t n;

	REQUIRE(db);
	make_tables(db);
	ins = sqldb_prepare(db, "INSERT INTO t (n, s, b) VALUES (?, ?, ?) "
	    "RETURNING id", 1);
	REQUIRE(ins);
	sqldb_bind_int64(ins, 1, INT64_C(1) << 40);	/* needs 64 bits */
	sqldb_bind_text(ins, 2, "it's");
	sqldb_bind_blob(ins, 3, "a\0b", 3);
	CHECK(sqldb_step(ins) == SQLDB_ROW);
	id1 = sqldb_column_int64(ins, 0);
	sqldb_reset(ins);
	sqldb_bind_int64(ins, 1, -7);
	sqldb_bind_null(ins, 2);
	sqldb_bind_null(ins, 3);
	CHECK(sqldb_step(ins) == SQLDB_ROW);
	id2 = sqldb_column_int64(ins, 0);
	sqldb_reset(ins);
	CHECK(id1 > 0 && id2 > id1);
	CHECK(sqldb_changes(db) == 1);
	sel = sqldb_prepare(db, "SELECT n, s, b FROM t WHERE id >= ?1 AND "
	    "id <= ?3 ORDER BY id", 0);	/* ?2 left out */
	REQUIRE(sel);
	sqldb_bind_int64(sel, 1, id1);
	sqldb_bind_int64(sel, 2, 12345);	/* not in the statement */
	sqldb_bind_int64(sel, 3, id2);
	CHECK(sqldb_step(sel) == SQLDB_ROW);
	CHECK(sqldb_column_int64(sel, 0) == INT64_C(1) << 40);
	CHECK(sqldb_column_type(sel, 0) == SQLDB_INTEGER);
	CHECK(strcmp(sqldb_column_text(sel, 1), "it's") == 0);
	p = sqldb_column_blob(sel, 2, &n);
	CHECK(sqldb_column_type(sel, 2) == SQLDB_BLOB);
	CHECK(n == 3 && p && memcmp(p, "a\0b", 3) == 0);
	CHECK(sqldb_step(sel) == SQLDB_ROW);
	CHECK(sqldb_column_int64(sel, 0) == -7);
	CHECK(sqldb_column_text(sel, 1) == NULL);
	CHECK(sqldb_column_type(sel, 1) == SQLDB_NULL);
	CHECK(sqldb_step(sel) == SQLDB_DONE);
	sqldb_finalize(sel);
	sqldb_finalize(ins);
	sqldb_close(db);
}

TEST(upserts_and_counts_changes)
{
	struct sqldb *db = fresh();
	struct sqldb_stmt *put, *once;

	REQUIRE(db);
	make_tables(db);
	put = sqldb_prepare(db, "INSERT INTO kv (k, v) VALUES (?, ?) ON "
	    "CONFLICT (k) DO UPDATE SET v = excluded.v", 1);
	once = sqldb_prepare(db, "INSERT INTO kv (k, v) VALUES (?, ?) ON "
	    "CONFLICT DO NOTHING", 1);
	REQUIRE(put && once);
	sqldb_bind_text(put, 1, "a");
	sqldb_bind_text(put, 2, "1");
	CHECK(sqldb_step(put) == SQLDB_DONE);
	sqldb_reset(put);
	sqldb_bind_text(put, 1, "a");
	sqldb_bind_text(put, 2, "2");
	CHECK(sqldb_step(put) == SQLDB_DONE);
	sqldb_reset(put);
	CHECK(count(db, "SELECT count(*) FROM kv") == 1);
	CHECK(count(db, "SELECT count(*) FROM kv WHERE v = '2'") == 1);
	sqldb_bind_text(once, 1, "a");
	sqldb_bind_text(once, 2, "3");
	CHECK(sqldb_step(once) == SQLDB_DONE);
	CHECK(sqldb_changes(db) == 0);		/* a replay: ignored */
	sqldb_reset(once);
	sqldb_bind_text(once, 1, "b");
	sqldb_bind_text(once, 2, "3");
	CHECK(sqldb_step(once) == SQLDB_DONE);
	CHECK(sqldb_changes(db) == 1);
	sqldb_finalize(put);
	sqldb_finalize(once);
	sqldb_close(db);
}

/*
 * A failed statement stays failed until reset: stepped again, it must not
 * run again (SQLite would reset it itself and insert the row once the
 * conflict is gone).
 */
TEST(a_failed_statement_does_not_run_again)
{
	struct sqldb *db = fresh();
	struct sqldb_stmt *ins;

	REQUIRE(db);
	make_tables(db);
	CHECK(sqldb_exec(db, "INSERT INTO kv (k, v) VALUES ('a', '1')") == 0);
	ins = sqldb_prepare(db, "INSERT INTO kv (k, v) VALUES (?, ?)", 1);
	REQUIRE(ins);
	sqldb_bind_text(ins, 1, "a");
	sqldb_bind_text(ins, 2, "2");
	CHECK(sqldb_step(ins) == SQLDB_ERROR);
	CHECK(sqldb_exec(db, "DELETE FROM kv") == 0);
	CHECK(sqldb_step(ins) == SQLDB_ERROR);
	CHECK(strstr(sqldb_errmsg(db), "not run again until reset") != NULL);
	CHECK(count(db, "SELECT count(*) FROM kv") == 0);
	sqldb_reset(ins);
	sqldb_bind_text(ins, 1, "a");
	sqldb_bind_text(ins, 2, "2");
	CHECK(sqldb_step(ins) == SQLDB_DONE);
	CHECK(count(db, "SELECT count(*) FROM kv") == 1);
	sqldb_finalize(ins);
	sqldb_close(db);
}

/* sqldb_run: once, its id read, reset, and a failure's reason kept. */
TEST(runs_once_and_keeps_the_reason)
{
	struct sqldb *db = fresh();
	struct sqldb_stmt *ins, *kv;
	int64_t id = 0;

	REQUIRE(db);
	make_tables(db);
	ins = sqldb_prepare(db, "INSERT INTO t (n) VALUES (?) RETURNING id", 1);
	kv = sqldb_prepare(db, "INSERT INTO kv (k, v) VALUES (?, 'x')", 1);
	REQUIRE(ins && kv);
	sqldb_bind_int64(ins, 1, 7);
	CHECK(sqldb_run(ins, &id) == 0 && id > 0);
	sqldb_bind_int64(ins, 1, 8);	/* reset: ready to run again */
	CHECK(sqldb_run(ins, NULL) == 0);
	CHECK(count(db, "SELECT count(*) FROM t") == 2);
	sqldb_bind_text(kv, 1, "a");
	CHECK(sqldb_run(kv, NULL) == 0);
	sqldb_bind_text(kv, 1, "a");
	CHECK(sqldb_run(kv, NULL) == -1);
	CHECK(strstr(sqldb_errmsg(db), "UNIQUE") != NULL ||
	    strstr(sqldb_errmsg(db), "duplicate") != NULL);
	sqldb_bind_text(kv, 1, "b");	/* reset after the failure too */
	CHECK(sqldb_run(kv, NULL) == 0);
	CHECK(count(db, "SELECT count(*) FROM kv") == 2);
	sqldb_finalize(kv);
	sqldb_finalize(ins);
	sqldb_close(db);
}

/* Integers read from any column mean the same on both engines. */
TEST(reads_integers_as_sqlite_does)
{
	struct sqldb *db = fresh();
	struct sqldb_stmt *st;

	REQUIRE(db);
	/* a float8's text is "1e+20" in PostgreSQL */
	st = sqldb_prepare(db, "SELECT 3.7, -2.5, CAST(1e20 AS DOUBLE "
	    "PRECISION), '12abc', 'x', 99999999999999999999, 1 = 1", 0);
	REQUIRE(st);
	REQUIRE(sqldb_step(st) == SQLDB_ROW);
	CHECK(sqldb_column_int64(st, 0) == 3);
	CHECK(sqldb_column_int64(st, 1) == -2);
	CHECK(sqldb_column_int64(st, 2) == INT64_MAX);
	CHECK(sqldb_column_int64(st, 3) == 12);
	CHECK(sqldb_column_int64(st, 4) == 0);
	CHECK(sqldb_column_int64(st, 5) == INT64_MAX);
	CHECK(sqldb_column_int64(st, 6) == 1);
	sqldb_finalize(st);
	sqldb_close(db);
}

TEST(transactions_commit_or_vanish)
{
	struct sqldb *db = fresh();

	REQUIRE(db);
	make_tables(db);
	CHECK(sqldb_begin(db) == 0);
	CHECK(sqldb_lock(db, "schema") == 0);
	CHECK(sqldb_exec(db, "INSERT INTO kv VALUES ('x', '1')") == 0);
	sqldb_rollback(db);
	CHECK(count(db, "SELECT count(*) FROM kv") == 0);
	CHECK(sqldb_begin(db) == 0);
	CHECK(sqldb_exec(db, "INSERT INTO kv VALUES ('x', '1')") == 0);
	CHECK(sqldb_commit(db) == 0);
	CHECK(count(db, "SELECT count(*) FROM kv") == 1);
	/* a failed statement inside: the commit must not say it worked */
	CHECK(sqldb_begin(db) == 0);
	CHECK(sqldb_exec(db, "INSERT INTO kv VALUES ('y', '1')") == 0);
	CHECK(sqldb_exec(db, "INSERT INTO kv VALUES ('x', '2')") == -1);
	if (sqldb_is_postgres(target))	/* SQLite keeps the transaction */
		CHECK(sqldb_commit(db) == -1);
	sqldb_rollback(db);
	CHECK(count(db, "SELECT count(*) FROM kv") == 1);
	sqldb_close(db);
}

/*
 * A finalized statement leaves the server's session; one finalized inside
 * a transaction when the transaction ends, whether it commits or fails: a daemon that
 * runs for months must not pile prepared statements up on its connection.
 */
TEST(statements_finalized_in_a_transaction_leave_the_server)
{
	struct sqldb *db = fresh();
	struct sqldb_stmt *st;
	const char *left = "SELECT count(*) FROM pg_prepared_statements";
	int64_t before;
	int round;

	REQUIRE(db);
	make_tables(db);
	before = count(db, left);
	/* outside one, at once (the first connection's too) */
	st = sqldb_prepare(db, "SELECT count(*) FROM kv", 1);
	REQUIRE(st);
	CHECK(count(db, left) == before + 1);
	sqldb_finalize(st);
	CHECK(count(db, left) == before);
	for (round = 0; round < 2; round++) {
		CHECK(sqldb_begin(db) == 0);
		st = sqldb_prepare(db, "INSERT INTO kv VALUES (?, 'v')", 1);
		REQUIRE(st);
		CHECK(sqldb_bind_text(st, 1, round ? "b" : "a") == 0);
		CHECK(sqldb_step(st) == SQLDB_DONE);
		CHECK(count(db, left) == before + 1);
		sqldb_finalize(st);
		if (round == 0) {
			CHECK(sqldb_commit(db) == 0);
		} else {
			/* a failed transaction: DEALLOCATE waits for its end */
			CHECK(sqldb_exec(db, "INSERT INTO kv VALUES ('a', "
			    "'x')") == -1);
			sqldb_rollback(db);
		}
		CHECK(count(db, left) == before);
	}
	CHECK(count(db, "SELECT count(*) FROM kv") == 1);
	sqldb_close(db);
}

TEST(says_the_engines_reason)
{
	struct sqldb *db = fresh();
	char *err = NULL;

	REQUIRE(db);
	CHECK(sqldb_exec(db, "SELECT * FROM no_such_table") == -1);
	CHECK(strstr(sqldb_errmsg(db), "no_such_table") != NULL);
	CHECK(sqldb_prepare(db, "SELEKT 1", 1) == NULL);
	CHECK(strstr(sqldb_errmsg(db), "SELEKT") != NULL ||
	    strstr(sqldb_errmsg(db), "syntax") != NULL);
	sqldb_close(db);
	if (sqldb_is_postgres(target)) {
		/* a port nobody listens on: the reason, and no password */
		CHECK(sqldb_open("postgresql://u:pw@127.0.0.1:1/x", 0,
		    &err) == NULL);
		CHECK(err && strstr(err, "cannot connect") && !strstr(err,
		    "pw@"));
	} else {
		CHECK(sqldb_open("/nonexistent/dir/x.db", SQLDB_CREATE,
		    &err) == NULL);
		CHECK(err && strstr(err, "/nonexistent/dir/x.db"));
		free(err);
		/* the system's reason, not "unable to open database file" */
		CHECK(sqldb_open("/nonexistent/x.db", SQLDB_READONLY,
		    &err) == NULL);
		CHECK(err && strcmp(err, "/nonexistent/x.db: No such file "
		    "or directory") == 0);
	}
	free(err);
}

TEST(one_session_lock_holder)
{
	struct sqldb *a = fresh(), *b;
	char *err = NULL;
	int i;

	REQUIRE(a);
	b = sqldb_open(target, 0, &err);
	free(err);
	REQUIRE(b);
	CHECK(sqldb_session_lock(a, "writer test") == 0);
	/* SQLite leaves writer exclusion to the caller's file lock */
	CHECK(sqldb_session_lock(b, "writer test") ==
	    (sqldb_is_postgres(target) ? 1 : 0));
	CHECK(sqldb_session_lock(b, "writer other") == 0);
	sqldb_close(a);
	/* gone with the session, once the server has seen it end */
	for (i = 0; i < 500 && sqldb_session_lock(b, "writer test") == 1; i++)
		util_sleep_ms(10);
	CHECK(i < 500);
	sqldb_close(b);
}

/* PostgreSQL: the server cuts our connection (as a restart would). */
static void
cut(struct sqldb *victim)
{
	char *err = NULL, *sql;
	int64_t pid = 0;
	struct sqldb *admin = sqldb_open(target, 0, &err);

	free(err);
	REQUIRE(admin);
	CHECK(sqldb_query_int(victim, "SELECT pg_backend_pid()", &pid) == 0);
	sql = xasprintf("SELECT pg_terminate_backend(%lld)", (long long)pid);
	CHECK(sqldb_exec(admin, sql) == 0);
	free(sql);
	sqldb_close(admin);
}

TEST(reconnects_outside_a_transaction)
{
	struct sqldb *db = fresh(), *other;
	struct sqldb_stmt *st;
	char *err = NULL;
	int i;

	REQUIRE(db);
	make_tables(db);
	st = sqldb_prepare(db, "INSERT INTO kv VALUES (?, 'v')", 1);
	REQUIRE(st);
	CHECK(sqldb_session_lock(db, "writer r") == 0);
	CHECK(sqldb_begin(db) == 0);
	cut(db);
	sqldb_bind_text(st, 1, "lost");
	CHECK(sqldb_step(st) == SQLDB_ERROR);	/* its transaction is gone */
	CHECK(sqldb_error(db) == SQLDB_ELOST);
	sqldb_reset(st);
	CHECK(sqldb_commit(db) == -1);
	sqldb_rollback(db);
	/* the next one reconnects, prepares again, holds the lock again */
	sqldb_bind_text(st, 1, "kept");
	CHECK(sqldb_step(st) == SQLDB_DONE);
	sqldb_reset(st);
	CHECK(count(db, "SELECT count(*) FROM kv") == 1);
	other = sqldb_open(target, 0, &err);
	free(err);
	REQUIRE(other);
	CHECK(sqldb_session_lock(other, "writer r") == 1);
	/* cut again, and let another writer take the lock meanwhile */
	cut(db);
	sqldb_close(other);
	other = sqldb_open(target, 0, &err);
	free(err);
	REQUIRE(other);
	for (i = 0; i < 500 && sqldb_session_lock(other, "writer r") == 1; i++)
		util_sleep_ms(10);	/* the cut session ends on its own time */
	CHECK(i < 500);
	/* the first statement meets the cut (libpq learns of it then),
	   the next reconnects and finds the lock taken */
	sqldb_bind_text(st, 1, "fenced");
	CHECK(sqldb_step(st) == SQLDB_ERROR);
	CHECK(sqldb_error(db) == SQLDB_ELOST);
	sqldb_reset(st);
	sqldb_bind_text(st, 1, "fenced");
	CHECK(sqldb_step(st) == SQLDB_ERROR);
	CHECK(strstr(sqldb_errmsg(db), "writer r") != NULL);
	sqldb_reset(st);
	CHECK(sqldb_begin(db) == -1);		/* and stays refused */
	CHECK(count(other, "SELECT count(*) FROM kv WHERE k = 'fenced'") ==
	    0);
	sqldb_finalize(st);
	sqldb_close(other);
	sqldb_close(db);
}

/*
 * PostgreSQL: the reconnect meets an error taking the session lock back
 * while the new connection itself is fine (here an injected one: a
 * hashtext in public, searched before pg_catalog, that fails while
 * lockfail has a row).  The handle must not write without its lock: the
 * next call takes the lock again before it runs.
 */
TEST(a_failed_relock_is_tried_again)
{
	struct sqldb *admin = fresh(), *db, *other;
	char *url, *err = NULL;

	REQUIRE(admin);
	make_tables(admin);
	CHECK(sqldb_exec(admin, "DROP TABLE IF EXISTS lockfail; CREATE TABLE "
	    "lockfail (x INT); CREATE OR REPLACE FUNCTION public.hashtext("
	    "text) RETURNS INT AS $$ BEGIN IF EXISTS (SELECT 1 FROM lockfail) "
	    "THEN RAISE EXCEPTION 'injected lock failure'; END IF; RETURN "
	    "pg_catalog.hashtext($1); END $$ LANGUAGE plpgsql") == 0);
	url = xasprintf("%s%soptions=-csearch_path%%3Dpublic%%2Cpg_catalog",
	    target, strchr(target, '?') ? "&" : "?");
	db = sqldb_open(url, 0, &err);
	free(err);
	err = NULL;
	free(url);
	REQUIRE(db);
	CHECK(sqldb_session_lock(db, "writer relock") == 0);
	CHECK(sqldb_exec(admin, "INSERT INTO lockfail VALUES (1)") == 0);
	cut(db);
	/* the cut, then the reconnect whose relock fails */
	CHECK(sqldb_exec(db, "INSERT INTO kv VALUES ('a', '1')") == -1);
	CHECK(sqldb_exec(db, "INSERT INTO kv VALUES ('b', '1')") == -1);
	CHECK(strstr(sqldb_errmsg(db), "injected") != NULL);
	CHECK(sqldb_exec(admin, "DELETE FROM lockfail") == 0);
	/* it writes again only holding the lock */
	CHECK(sqldb_exec(db, "INSERT INTO kv VALUES ('c', '1')") == 0);
	other = sqldb_open(target, 0, &err);
	free(err);
	REQUIRE(other);
	CHECK(sqldb_session_lock(other, "writer relock") == 1);
	sqldb_close(other);
	sqldb_close(db);
	CHECK(sqldb_exec(admin, "DROP FUNCTION public.hashtext(text); "
	    "DROP TABLE lockfail") == 0);
	sqldb_close(admin);
}

static void
run_all(const char *t)
{
	target = t;
	fprintf(stderr, "engine: %s\n", sqldb_is_postgres(t) ? "postgres" :
	    "sqlite");
	RUN(binds_steps_and_reads);
	RUN(upserts_and_counts_changes);
	RUN(a_failed_statement_does_not_run_again);
	RUN(runs_once_and_keeps_the_reason);
	RUN(reads_integers_as_sqlite_does);
	RUN(transactions_commit_or_vanish);
	RUN(says_the_engines_reason);
	RUN(one_session_lock_holder);
	if (sqldb_is_postgres(t)) {
		RUN(reconnects_outside_a_transaction);
		RUN(a_failed_relock_is_tried_again);
		RUN(statements_finalized_in_a_transaction_leave_the_server);
	}
}

int
main(void)
{
	const char *pg = getenv("REMEDIATE_TEST_PG");

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof path, "%s/state.db", dir);
	RUN(translates_placeholders_and_tokens);
	RUN(hides_a_password);
	RUN(reads_a_files_identity);
	run_all(path);
	if (pg && *pg)
		run_all(pg);
	unlink(path);
	rmdir(dir);
	return harness_done();
}
