/*
 * The fleet ledger: two clusters on one state share one circuit and one
 * blast radius; a slot is taken only when admitted, given back on
 * release, moved by an approval; a ledger that cannot be read is an error
 * naming the database (the guard fails closed on it); processes sharing
 * it never take more slots than the circuit allows.  The tables are made
 * here as the audit module's migration 5 makes them (docs/state.md).
 * Against SQLite always, and against PostgreSQL too when
 * REMEDIATE_TEST_PG holds a URL (as test_sqldb).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fleet/fleet.h"
#include "harness.h"
#include "sqldb/sqldb.h"

#define S	1000LL
#define MIN	(60 * S)
#define T0	1764064800000LL	/* 2025-11-25T10:00:00Z */

static char dir[] = "/tmp/test_fleet.XXXXXX";
static char file[256];
static const char *path;	/* the state: file, or a PostgreSQL URL */
static char err[GUARD_MSGLEN];

static void
sql(const char *text)
{
	char *e = NULL;
	struct sqldb *db = sqldb_open(path, SQLDB_CREATE, &e);

	CHECK(db != NULL);
	if (db == NULL) {
		fprintf(stderr, "%s\n", e);
		free(e);
		return;
	}
	if (sqldb_exec(db, text) == -1) {
		fprintf(stderr, "%s: %s\n", text, sqldb_errmsg(db));
		CHECK(0);
	}
	sqldb_close(db);
}

static long long
count(const char *query)
{
	char *e = NULL;
	struct sqldb *db = sqldb_open(path, 0, &e);
	int64_t n = -1;

	if (db == NULL || sqldb_query_int(db, query, &n) == -1)
		n = -1;
	free(e);
	sqldb_close(db);
	return n;
}

static void
fresh(void)
{
	if (path == file)
		unlink(file);
	sql("DROP TABLE IF EXISTS fleet_actions;"
	    "DROP TABLE IF EXISTS fleet_clusters;"
	    "CREATE TABLE fleet_actions (id {ID}, cluster TEXT NOT NULL, "
	    "time {INT} NOT NULL, pods {INT} NOT NULL, circuit {INT} NOT "
	    "NULL);"
	    "CREATE TABLE fleet_clusters (cluster TEXT PRIMARY KEY, pods "
	    "{INT} NOT NULL, seen {INT} NOT NULL);");
	if (path == file)
		sql("PRAGMA journal_mode = WAL");
}

static struct fleet *
open_as(const char *cluster)
{
	struct fleet *f;
	char *e = NULL;

	if ((f = fleet_open(path, cluster, &e)) == NULL)
		fprintf(stderr, "fleet_open: %s\n", e);
	free(e);
	return f;
}

static void
circuit_ask(struct guard_fleet_ask *q, int max, int64_t now)
{
	memset(q, 0, sizeof *q);
	q->now = now;
	q->within = 10 * MIN;
	q->circuit_max = max;
	q->impact = -1;
	q->pods = 1;
	q->cluster_pods = 100;
	q->reserve = 1;
}

TEST(two_clusters_share_one_circuit)
{
	struct fleet *eu, *us;
	struct guard_fleet_ask q;
	struct guard_fleet_answer a;
	int i;

	fresh();
	eu = open_as("eu");
	us = open_as("us");
	CHECK(eu && us);
	if (!eu || !us)
		return;
	for (i = 0; i < 3; i++) {
		circuit_ask(&q, 5, T0 + i);
		CHECK_INT(fleet_ask(i % 2 ? us : eu, &q, &a, err, sizeof err),
		    0);
		CHECK_INT(a.actions, i);
		CHECK_INT(a.slot, T0 + i);
	}
	/* the fourth and fifth are admitted, the sixth is not */
	circuit_ask(&q, 5, T0 + 10);
	CHECK_INT(fleet_ask(us, &q, &a, err, sizeof err), 0);
	circuit_ask(&q, 5, T0 + 11);
	CHECK_INT(fleet_ask(eu, &q, &a, err, sizeof err), 0);
	CHECK_INT(a.clusters, 2);
	CHECK_INT(a.total, 200);		/* both published 100 */
	circuit_ask(&q, 5, T0 + 12);
	CHECK_INT(fleet_ask(us, &q, &a, err, sizeof err), 0);
	CHECK_INT(a.actions, 5);
	CHECK_INT(a.slot, 0);			/* stopped: nothing taken */
	CHECK_INT(count("SELECT count(*) FROM fleet_actions"), 5);
	/* one given back (rate-limited after): room for one again */
	fleet_release(eu, T0 + 11);
	CHECK_INT(count("SELECT count(*) FROM fleet_actions"), 4);
	fleet_release(us, T0 + 2);		/* eu's slot: not us's */
	CHECK_INT(count("SELECT count(*) FROM fleet_actions"), 4);
	CHECK_INT(fleet_ask(us, &q, &a, err, sizeof err), 0);
	CHECK_INT(a.slot, T0 + 12);
	/* the window slides past the old slots */
	circuit_ask(&q, 5, T0 + 10 * MIN + 5);
	CHECK_INT(fleet_ask(us, &q, &a, err, sizeof err), 0);
	CHECK_INT(a.actions, 2);		/* 10, 12 */
	fleet_close(eu);
	fleet_close(us);
}

TEST(impact_sums_every_clusters_pods)
{
	struct fleet *eu, *us;
	struct guard_fleet_ask q;
	struct guard_fleet_answer a;

	fresh();
	eu = open_as("eu");
	us = open_as("us");
	if (!eu || !us)
		return;
	CHECK_INT(fleet_publish(us, 900, T0), 0);
	circuit_ask(&q, 0, T0 + 1);
	q.impact = 0.05;			/* 50 of 1000 */
	q.pods = 45;
	CHECK_INT(fleet_ask(eu, &q, &a, err, sizeof err), 0);
	CHECK_INT(a.total, 1000);
	CHECK_INT(a.slot, T0 + 1);
	q.now = T0 + 2;
	q.cluster_pods = 900;			/* us asks: its own count */
	q.pods = 6;				/* 45 + 6 > 50 */
	CHECK_INT(fleet_ask(us, &q, &a, err, sizeof err), 0);
	CHECK_INT(a.moving, 45);
	CHECK_INT(a.slot, 0);
	q.pods = 5;
	CHECK_INT(fleet_ask(us, &q, &a, err, sizeof err), 0);
	CHECK_INT(a.slot, T0 + 2);
	/* a circuit-less slot counts pods, not actions */
	CHECK_INT(count("SELECT sum(circuit) FROM fleet_actions"), 0);
	/* a cluster quiet for longer than FLEET_FRESH counts no pods */
	q.now = T0 + FLEET_FRESH + 10;
	q.cluster_pods = 100;
	q.pods = 1;
	CHECK_INT(fleet_ask(eu, &q, &a, err, sizeof err), 0);
	CHECK_INT(a.total, 100);
	CHECK_INT(a.clusters, 1);
	fleet_close(eu);
	fleet_close(us);
}

TEST(an_approval_moves_its_own_slot)
{
	struct fleet *eu;
	struct guard_fleet_ask q;
	struct guard_fleet_answer a;

	fresh();
	if ((eu = open_as("eu")) == NULL)
		return;
	circuit_ask(&q, 1, T0);
	CHECK_INT(fleet_ask(eu, &q, &a, err, sizeof err), 0);
	CHECK_INT(a.slot, T0);
	circuit_ask(&q, 1, T0 + MIN);
	q.own = T0;
	CHECK_INT(fleet_ask(eu, &q, &a, err, sizeof err), 0);
	CHECK_INT(a.actions, 0);		/* its own slot not counted */
	CHECK_INT(a.slot, T0 + MIN);
	CHECK_INT(count("SELECT count(*) FROM fleet_actions"), 1);
	CHECK_INT(count("SELECT time FROM fleet_actions"), T0 + MIN);
	fleet_close(eu);
}

TEST(an_unreadable_ledger_is_an_error_naming_the_file)
{
	struct fleet *eu;
	struct guard_fleet_ask q;
	struct guard_fleet_answer a;
	char *e = NULL;

	fresh();
	if ((eu = open_as("eu")) == NULL)
		return;
	sql("DROP TABLE fleet_actions");
	circuit_ask(&q, 5, T0);
	CHECK_INT(fleet_ask(eu, &q, &a, err, sizeof err), -1);
	CHECK(strstr(err, path == file ? file : "postgres") != NULL);
	CHECK(strstr(err, "fleet ledger") != NULL);
	CHECK_INT(a.slot, 0);
	fleet_close(eu);
	/* a file from before schema 5 is refused at open */
	CHECK(fleet_open(path, "eu", &e) == NULL);
	CHECK(e != NULL && strstr(e, "fleet ledger") != NULL);
	free(e);
}

/*
 * PostgreSQL: an instance that holds the ledger's lock and goes silent
 * (a partition mid-transaction: the server keeps its session for as
 * long as its keepalives allow) must not hold every other cluster's
 * engine: the question waits a bounded time, then is an error (the guard
 * fails closed), as SQLite's busy wait is.  The ask runs in a child the
 * test waits for a bounded time.
 */
TEST(a_held_ledger_lock_is_an_error_not_a_hang)
{
	struct sqldb *holder;
	pid_t pid;
	int i, status = 0, done = 0;
	char *e = NULL;

	fresh();
	holder = sqldb_open(path, 0, &e);
	free(e);
	REQUIRE(holder);
	CHECK(sqldb_begin(holder) == 0 && sqldb_lock(holder, "fleet") == 0);
	if ((pid = fork()) == 0) {
		struct fleet *f = open_as("eu");
		struct guard_fleet_ask q;
		struct guard_fleet_answer a;
		int rc;

		if (f == NULL)
			_exit(2);
		circuit_ask(&q, 5, T0);
		rc = fleet_ask(f, &q, &a, err, sizeof err);
		fleet_close(f);
		_exit(rc == -1 && strstr(err, "fleet ledger") && a.slot == 0 ?
		    0 : 1);
	}
	for (i = 0; i < 600 && !done; i++) {	/* 60 s at most */
		done = waitpid(pid, &status, WNOHANG) == pid;
		if (!done)
			usleep(100 * 1000);
	}
	if (!done) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	CHECK(done && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	sqldb_rollback(holder);
	sqldb_close(holder);
	CHECK_INT(count("SELECT count(*) FROM fleet_actions"), 0);
}

/*
 * Processes sharing the file, each taking slots as fast as it can: the
 * lock lets exactly circuit_max through, whatever the interleaving.
 */
TEST(processes_sharing_the_file_take_no_more_than_the_circuit)
{
	enum { PROCS = 4, TRIES = 25, MAX = 30 };
	pid_t pid[PROCS];
	int i, status, ok = 1;

	fresh();
	for (i = 0; i < PROCS; i++) {
		if ((pid[i] = fork()) == 0) {
			char name[16];
			struct fleet *f;
			struct guard_fleet_ask q;
			struct guard_fleet_answer a;
			int k, bad = 0;

			snprintf(name, sizeof name, "c%d", i);
			if ((f = open_as(name)) == NULL)
				_exit(2);
			for (k = 0; k < TRIES; k++) {
				circuit_ask(&q, MAX, T0 + k);
				bad |= fleet_ask(f, &q, &a, err, sizeof err);
			}
			fleet_close(f);
			_exit(bad ? 1 : 0);
		}
	}
	for (i = 0; i < PROCS; i++)
		if (waitpid(pid[i], &status, 0) != pid[i] ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			ok = 0;
	CHECK(ok);
	CHECK_INT(count("SELECT count(*) FROM fleet_actions"), MAX);
	CHECK_INT(count("SELECT count(*) FROM fleet_clusters"), PROCS);
}

static void
run_all(const char *target)
{
	path = target;
	RUN(two_clusters_share_one_circuit);
	RUN(impact_sums_every_clusters_pods);
	RUN(an_approval_moves_its_own_slot);
	RUN(an_unreadable_ledger_is_an_error_naming_the_file);
	RUN(processes_sharing_the_file_take_no_more_than_the_circuit);
	if (sqldb_is_postgres(target))
		RUN(a_held_ledger_lock_is_an_error_not_a_hang);
}

int
main(void)
{
	const char *pg = getenv("REMEDIATE_TEST_PG");

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(file, sizeof file, "%s/state.db", dir);
	run_all(file);
	if (pg && *pg)
		run_all(pg);
	snprintf(file, sizeof file, "rm -rf %s", dir);
	if (system(file) != 0)
		return 1;
	return harness_done();
}
