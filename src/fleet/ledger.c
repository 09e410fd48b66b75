/*
 * The fleet ledger over the shared state database (src/sqldb/).
 *
 * One question, one transaction: the lock is taken first (sqldb_begin
 * and sqldb_lock "fleet": in PostgreSQL a transaction-scoped advisory
 * lock every instance of every cluster waits for; in SQLite BEGIN
 * IMMEDIATE, one writer at a time across the processes sharing the
 * file), then this cluster's pod count is published, the window counted
 * and, when the guard's rule (guard_fleet_admits) admits the action, its
 * slot taken, and the lock released at COMMIT.  Whoever asks next sees
 * the slot.  Anything that fails rolls back and is an error the guard
 * turns into a stop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet/fleet.h"
#include "sqldb/sqldb.h"
#include "util/util.h"

#define FLEET_MAGIC	0x666c6574u	/* "flet" */

struct fleet {
	unsigned	 magic;
	struct sqldb	*db;
	char		*path;		/* owned: names the database (no
					   password) */
	char		*cluster;	/* owned */
};

static void
failed(struct fleet *f, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: fleet ledger: %s: %s", f->path, what,
	    sqldb_errmsg(f->db));
}

struct fleet *
fleet_open(const char *target, const char *cluster, char **err)
{
	struct fleet *f = xcalloc(1, sizeof *f);
	int64_t n;

	f->magic = FLEET_MAGIC;
	f->path = sqldb_display(target);
	f->cluster = xstrdup(cluster);
	if ((f->db = sqldb_open(target, 0, err)) == NULL) {
		fleet_close(f);
		return NULL;
	}
	/* the store's schema 5 made the tables: refuse an older state */
	if (sqldb_query_int(f->db, "SELECT count(*) FROM fleet_actions, "
	    "fleet_clusters WHERE 1 = 0", &n) == -1) {
		*err = xasprintf("%s: cannot open the fleet ledger: %s",
		    f->path, sqldb_errmsg(f->db));
		fleet_close(f);
		return NULL;
	}
	return f;
}

void
fleet_close(struct fleet *f)
{
	if (f == NULL)
		return;
	if (f->magic != FLEET_MAGIC)
		abort();
	sqldb_close(f->db);
	free(f->path);
	free(f->cluster);
	f->magic = 0;
	free(f);
}

/*
 * Runs sql with int64 parameters ?1.. (n of them) and the cluster as ?9
 * (a number a statement leaves out is not bound); out gets the first
 * row's nout columns, zeros without a row.
 */
static int
run(struct fleet *f, const char *sql, const int64_t *p, int n,
    int64_t *out, int nout)
{
	struct sqldb_stmt *st;
	int i, rc;

	if ((st = sqldb_prepare(f->db, sql, 0)) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		(void)sqldb_bind_int64(st, i + 1, p[i]);
	if (strstr(sql, "?9"))
		(void)sqldb_bind_text(st, 9, f->cluster);
	rc = sqldb_step(st);
	for (i = 0; rc == SQLDB_ROW && i < nout; i++)
		out[i] = sqldb_column_int64(st, i);
	if (rc == SQLDB_DONE && nout > 0)
		memset(out, 0, (size_t)nout * sizeof *out);	/* no row */
	sqldb_finalize(st);
	return rc == SQLDB_ERROR ? -1 : 0;
}

/*
 * BEGIN and the lock.  PostgreSQL waits for an advisory lock without
 * end: an instance that went silent holding it (a partition mid-
 * transaction) would hold every cluster's engine until the server drops
 * its session.  So the wait is bounded as SQLite's busy wait is (~5 s),
 * and a question not answered by then is an error: the guard fails
 * closed.
 */
static int
lock(struct fleet *f)
{
	if (sqldb_begin(f->db) == -1)
		return -1;
	if (sqldb_engine(f->db) == SQLDB_POSTGRES && sqldb_exec(f->db,
	    "SET LOCAL lock_timeout = '5s'") == -1)
		return -1;
	return sqldb_lock(f->db, "fleet");
}

static int
publish(struct fleet *f, long pods, int64_t now)
{
	int64_t p[2] = { pods, now };

	return run(f, "INSERT INTO fleet_clusters (cluster, pods, seen) "
	    "VALUES (?9, ?1, ?2) ON CONFLICT (cluster) DO UPDATE SET pods = "
	    "excluded.pods, seen = excluded.seen", p, 2, NULL, 0);
}

/* The window's counts, this cluster's slot at own left out. */
static int
count(struct fleet *f, const struct guard_fleet_ask *q,
    struct guard_fleet_answer *a, int64_t *own_id)
{
	int64_t p[3] = { q->now - q->within, q->own, q->now - FLEET_FRESH };
	int64_t w[2], o[3], t[2];

	if (run(f, "SELECT coalesce(sum(circuit), 0), coalesce(sum(pods), 0) "
	    "FROM fleet_actions WHERE time > ?1", p, 1, w, 2) == -1 ||
	    run(f, "SELECT id, circuit, pods FROM fleet_actions WHERE "
	    "cluster = ?9 AND time = ?2 AND ?2 != 0 LIMIT 1", p, 2, o,
	    3) == -1 ||
	    run(f, "SELECT coalesce(sum(pods), 0), count(*) FROM "
	    "fleet_clusters WHERE seen > ?3", p, 3, t, 2) == -1)
		return -1;
	*own_id = o[0];
	if (o[0] && q->own > q->now - q->within) {
		w[0] -= o[1];
		w[1] -= o[2];
	}
	a->actions = (long)w[0];
	a->moving = (long)w[1];
	a->total = (long)t[0];
	a->clusters = (int)t[1];
	return 0;
}

static int
take(struct fleet *f, const struct guard_fleet_ask *q, int64_t own_id)
{
	int64_t p[4] = { q->now, q->pods, q->circuit_max > 0, own_id };

	if (own_id)	/* an approved decision: its slot moves to now */
		return run(f, "UPDATE fleet_actions SET time = ?1, pods = ?2 "
		    "WHERE id = ?4", p, 4, NULL, 0);
	return run(f, "INSERT INTO fleet_actions (cluster, time, pods, "
	    "circuit) VALUES (?9, ?1, ?2, ?3)", p, 3, NULL, 0);
}

int
fleet_ask(struct fleet *f, const struct guard_fleet_ask *q,
    struct guard_fleet_answer *a, char *err, size_t errlen)
{
	int64_t own_id = 0;

	memset(a, 0, sizeof *a);
	if (lock(f) == -1) {
		failed(f, "cannot take the lock", err, errlen);
		sqldb_rollback(f->db);
		return -1;
	}
	if (publish(f, q->cluster_pods, q->now) == -1 ||
	    count(f, q, a, &own_id) == -1 ||
	    (q->reserve && guard_fleet_admits(q, a) && take(f, q,
	    own_id) == -1) || sqldb_commit(f->db) == -1) {
		failed(f, "cannot count", err, errlen);
		sqldb_rollback(f->db);
		memset(a, 0, sizeof *a);
		return -1;
	}
	if (q->reserve && guard_fleet_admits(q, a))
		a->slot = q->now;
	return 0;
}

void
fleet_release(struct fleet *f, int64_t slot)
{
	int64_t p[1] = { slot };

	if (run(f, "DELETE FROM fleet_actions WHERE id = (SELECT id FROM "
	    "fleet_actions WHERE cluster = ?9 AND time = ?1 LIMIT 1)", p, 1,
	    NULL, 0) == -1)
		util_log_json("warn", "fleet ledger: a slot not taken back "
		    "counts until it ages out", json_pack("{s:s, s:s}",
		    "state", f->path, "error", sqldb_errmsg(f->db)));
}

int
fleet_publish(struct fleet *f, long pods, int64_t now)
{
	int64_t p[1] = { now - FLEET_KEEP };

	if (lock(f) == 0 && publish(f, pods, now) == 0 && run(f, "DELETE FROM fleet_actions "
	    "WHERE time < ?1", p, 1, NULL, 0) == 0 &&
	    sqldb_commit(f->db) == 0)
		return 0;
	util_log_json("warn", "fleet ledger: cannot publish this cluster's "
	    "pods", json_pack("{s:s, s:s}", "state", f->path, "error",
	    sqldb_errmsg(f->db)));
	sqldb_rollback(f->db);
	return -1;
}
