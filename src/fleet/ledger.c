/*
 * The fleet ledger over the shared state database.
 *
 * One question, one transaction: the write lock is taken first (BEGIN
 * IMMEDIATE: SQLite's one writer at a time, across every process that
 * shares the file), then this cluster's pod count is published, the
 * window counted and, when the guard's rule (guard_fleet_admits) admits
 * the action, its slot taken, and the lock released at COMMIT.  Whoever
 * asks next sees the slot.  Anything that fails rolls back and is an
 * error the guard turns into a stop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "fleet/fleet.h"
#include "util/util.h"

#define FLEET_MAGIC	0x666c6574u	/* "flet" */

struct fleet {
	unsigned	 magic;
	sqlite3		*db;
	char		*path;		/* owned: names the database */
	char		*cluster;	/* owned */
};

static int
exec(struct fleet *f, const char *sql)
{
	return sqlite3_exec(f->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 :
	    -1;
}

static void
failed(struct fleet *f, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: fleet ledger: %s: %s", f->path, what,
	    sqlite3_errmsg(f->db));
}

struct fleet *
fleet_open(const char *path, const char *cluster, char **err)
{
	struct fleet *f = xcalloc(1, sizeof *f);
	sqlite3_stmt *st = NULL;

	f->magic = FLEET_MAGIC;
	f->path = xstrdup(path);
	f->cluster = xstrdup(cluster);
	if (sqlite3_open_v2(path, &f->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_busy_handler(f->db, util_busy_wait, NULL);	/* ~5 s */
	/* the store's schema 5 made the tables: refuse an older file */
	if (sqlite3_prepare_v2(f->db, "SELECT count(*) FROM fleet_actions, "
	    "fleet_clusters WHERE 0", -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_finalize(st);
	return f;
fail:
	*err = xasprintf("%s: cannot open the fleet ledger: %s", path,
	    f->db ? sqlite3_errmsg(f->db) : "out of memory");
	fleet_close(f);
	return NULL;
}

void
fleet_close(struct fleet *f)
{
	if (f == NULL)
		return;
	if (f->magic != FLEET_MAGIC)
		abort();
	sqlite3_close(f->db);
	free(f->path);
	free(f->cluster);
	f->magic = 0;
	free(f);
}

/* Runs sql with int64 parameters (n of them) and the cluster as ?9. */
static int
run(struct fleet *f, const char *sql, const int64_t *p, int n,
    int64_t *out, int nout)
{
	sqlite3_stmt *st;
	int i, rc;

	if (sqlite3_prepare_v2(f->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	for (i = 0; i < n; i++)
		sqlite3_bind_int64(st, i + 1, p[i]);
	if (sqlite3_bind_parameter_index(st, "?9"))
		sqlite3_bind_text(st, 9, f->cluster, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	for (i = 0; rc == SQLITE_ROW && i < nout; i++)
		out[i] = sqlite3_column_int64(st, i);
	if (rc == SQLITE_ROW && nout == 0)
		rc = SQLITE_DONE;
	else if (rc == SQLITE_DONE && nout > 0)
		memset(out, 0, (size_t)nout * sizeof *out);	/* no row */
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
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
	if (exec(f, "BEGIN IMMEDIATE") == -1) {
		failed(f, "cannot take the lock", err, errlen);
		return -1;
	}
	if (publish(f, q->cluster_pods, q->now) == -1 ||
	    count(f, q, a, &own_id) == -1 ||
	    (q->reserve && guard_fleet_admits(q, a) && take(f, q,
	    own_id) == -1) || exec(f, "COMMIT") == -1) {
		failed(f, "cannot count", err, errlen);
		exec(f, "ROLLBACK");
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
		    "state", f->path, "error", sqlite3_errmsg(f->db)));
}

int
fleet_publish(struct fleet *f, long pods, int64_t now)
{
	int64_t p[1] = { now - FLEET_KEEP };

	if (exec(f, "BEGIN IMMEDIATE") == 0 && publish(f, pods, now) == 0 &&
	    run(f, "DELETE FROM fleet_actions WHERE time < ?1", p, 1, NULL,
	    0) == 0 && exec(f, "COMMIT") == 0)
		return 0;
	util_log_json("warn", "fleet ledger: cannot publish this cluster's "
	    "pods", json_pack("{s:s, s:s}", "state", f->path, "error",
	    sqlite3_errmsg(f->db)));
	exec(f, "ROLLBACK");
	return -1;
}
