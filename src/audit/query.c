/*
 * Reading records back for `remediate history`.  Time, trigger, decision,
 * reason, sensor and cluster narrow the query in SQL (the time index does the
 * work); the target glob runs here, on the few rows left.
 */
#include <stdlib.h>
#include <string.h>

#include "audit/audit_int.h"

static int
target_matches(const char *pattern, const char *target)
{
	const char *name;

	if (pattern == NULL)
		return 1;
	if (target == NULL)
		return 0;
	if (strchr(pattern, '/'))
		return util_glob(pattern, target);
	name = strrchr(target, '/');
	return util_glob(pattern, name ? name + 1 : target);
}

/*
 * Rows are read a page at a time, by id: PostgreSQL hands a statement's
 * result over whole, so a history of millions of rows would otherwise be
 * held in memory at once, also with --limit.
 *
 * A page walks the primary key between the first and the last id of the
 * time window (id_window), with the time compared as a value (+time), not
 * through the time index: through the index, SQLite gathered every row of
 * the window, records and all, and sorted them by id again for each page
 * (a 19,616-record history with --limit 16384 read ~290 MB for 32 pages).
 * Ids follow time closely (a record's time is its writing's), so the
 * window's ids hold little else.
 */
#define QUERY_PAGE	512

/*
 * Whose rows a writer takes for its own: in a PostgreSQL database several
 * clusters share, its cluster's (and no cluster's, from before schema 5),
 * since another cluster's intent may be an action running there now and
 * its request is that cluster's to follow; in a SQLite file, which one
 * writer holds, every row, whatever the cluster was called when it was
 * written (a renamed kubeconfig context keeps its requests and intents,
 * as claim_rows keeps its cooldowns).
 */
static int
shares_clusters(const struct audit *a)
{
	return a->version >= 5 && a->opts.cluster &&
	    sqldb_engine(a->db) == SQLDB_POSTGRES;
}

/*
 * Records of pull requests: their rows by index (AUDIT_REQUEST_ROWS), and
 * only those whose text names one are parsed; the writer's own
 * (shares_clusters).  coalesce, not "OR cluster IS NULL": the database
 * took the OR to the cluster index, every row of the cluster, and not
 * this one.
 */
#define PULL_REQUESTS	" AND " AUDIT_REQUEST_ROWS \
	" AND {INSTR}(record, '\"pullRequest\"') > 0"

static const char *
pull_requests(const struct audit *a)
{
	return shares_clusters(a) ? PULL_REQUESTS
	    " AND coalesce(cluster, ?10) = ?10" : PULL_REQUESTS;
}

static char *
build_sql(const struct audit *a, const struct audit_filter *f)
{
	return xasprintf("SELECT id, target, %s, record, %s FROM decisions "
	    "WHERE +time >= ?1 AND +time < ?2"
	    "%s%s%s%s%s%s AND id %s ?8 AND id %s ?9 ORDER BY id %s LIMIT %d",
	    a->version >= 2 ? "outcome" : "'final'",
	    a->version >= 4 && f->inputs ? "inputs" : "NULL",
	    f->trigger ? " AND trigger = ?3" : "",
	    f->decision ? " AND decision = ?4" : "",
	    f->reason ? " AND reason = ?5" : "",
	    f->sensor ? " AND (sensor = ?6 OR substr(sensor, "
	    "{INSTR}(sensor, '/') + 1) = ?6)" : "",
	    /* before version 5 no record named its cluster */
	    !f->cluster ? "" : a->version >= 5 ? " AND cluster = ?7" :
	    " AND 1 = 0",
	    f->pull_requests ? pull_requests(a) : "",
	    /* one bound on each side: SQLite walks the key from one */
	    f->limit > 0 ? "<" : ">", f->limit > 0 ? ">=" : "<=",
	    f->limit > 0 ? "DESC" : "ASC", QUERY_PAGE);
}

/*
 * The first and last id of the rows inside f's time window (through the
 * time index): 1 with *lo, *hi; 0 when it holds none; -1.
 */
static int
id_window(struct audit *a, const struct audit_filter *f, int64_t *lo,
    int64_t *hi)
{
	struct sqldb_stmt *st = sqldb_prepare(a->db, "SELECT min(id), max(id) "
	    "FROM decisions WHERE time >= ?1 AND time < ?2", 0);
	int rc;

	if (st == NULL)
		return -1;
	sqldb_bind_int64(st, 1, f->since);
	sqldb_bind_int64(st, 2, f->until > 0 ? f->until : INT64_MAX);
	rc = sqldb_step(st);
	if (rc == SQLDB_ROW && sqldb_column_type(st, 0) != SQLDB_NULL) {
		*lo = sqldb_column_int64(st, 0);
		*hi = sqldb_column_int64(st, 1);
		rc = 1;
	} else
		rc = rc == SQLDB_ROW ? 0 : -1;
	sqldb_finalize(st);
	return rc;
}

/*
 * Binds f's values, the page's cursor (?8: the last id read, or just
 * outside the id window) and the window's far end (?9) to st.
 */
static void
bind_page(const struct audit *a, struct sqldb_stmt *st,
    const struct audit_filter *f, int64_t end, int64_t cursor)
{
	sqldb_bind_int64(st, 1, f->since);
	sqldb_bind_int64(st, 2, f->until > 0 ? f->until : INT64_MAX);
	sqldb_bind_int64(st, 9, end);
	if (f->trigger)
		sqldb_bind_text(st, 3, f->trigger);
	if (f->decision)
		sqldb_bind_text(st, 4, f->decision);
	if (f->reason)
		sqldb_bind_text(st, 5, f->reason);
	if (f->sensor)
		sqldb_bind_text(st, 6, f->sensor);
	if (f->cluster && a->version >= 5)
		sqldb_bind_text(st, 7, f->cluster);
	if (f->pull_requests && shares_clusters(a))
		sqldb_bind_text(st, 10, a->opts.cluster);
	sqldb_bind_int64(st, 8, cursor);
}

/*
 * The record of a row, with the outcome of an unfinished action.  A row
 * whose record does not read is said (warn, with its id), not skipped
 * silently: a reader would take the history as complete.
 */
static json_t *
record_of(struct audit *a, int64_t id, const char *text, const char *outcome,
    const char *inputs)
{
	json_error_t je;
	json_t *r = NULL;

	memset(&je, 0, sizeof je);
	if (text == NULL || (r = util_json_loads(text, 0, &je)) == NULL ||
	    !json_is_object(r)) {
		audit_log(a, "warn", "a decision record cannot be read; "
		    "skipped", json_pack("{s:s, s:I, s:s}", "path", a->path,
		    "id", (json_int_t)id, "error",
		    text == NULL ? "no record" : r == NULL ? je.text :
		    "not a JSON object"));
		json_decref(r);
		return NULL;
	}
	if (outcome && (strcmp(outcome, "intended") == 0 ||
	    strcmp(outcome, "unknown") == 0))
		json_object_set_new(r, "outcome", json_string("unknown"));
	text = inputs;
	if (text) {
		json_t *in = util_json_loads(text, 0, &je);

		/* a note that does not read is one that was cut */
		json_object_set_new(r, "inputs", json_is_object(in) ? in :
		    json_pack("{s:b}", "truncated", 1));
		if (in && !json_is_object(in))
			json_decref(in);
	}
	return r;
}

static json_t *
row_record(struct audit *a, struct sqldb_stmt *st)
{
	return record_of(a, sqldb_column_int64(st, 0), sqldb_column_text(st,
	    3), sqldb_column_text(st, 2), sqldb_column_text(st, 4));
}

/*
 * A row kept for --limit until the newest are known: its texts, a
 * fraction of the record's tree (a 16384-record limit held 76 MB of
 * trees).
 */
struct kept_row {
	int64_t	 id;
	char	*text, *outcome, *inputs;	/* owned, may be NULL */
};

static char *
dup_text(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

long
audit_query(struct audit *a, const struct audit_filter *f,
    int (*fn)(void *, json_t *), void *ctx, char **err)
{
	char *sql = build_sql(a, f);
	struct kept_row *keep = NULL, *k;
	json_t *r;
	size_t nkeep = 0, cap = 0, i;
	struct sqldb_stmt *st;
	int64_t cursor, lo = 0, hi = 0;
	long n = 0, rows;
	int rc, stop = 0;

	audit_settle(a);
	if ((rc = id_window(a, f, &lo, &hi)) <= 0) {
		free(sql);
		if (rc == 0)
			return 0;
		*err = xasprintf("%s: %s", a->path, sqldb_errmsg(a->db));
		return -1;
	}
	rc = SQLDB_DONE;
	st = sqldb_prepare(a->db, sql, 0);
	free(sql);
	if (st == NULL) {
		*err = xasprintf("%s: %s", a->path, sqldb_errmsg(a->db));
		return -1;
	}
	/* newest first with a limit, from the window's last id */
	cursor = f->limit > 0 ? hi + 1 : lo - 1;
	do {
		bind_page(a, st, f, f->limit > 0 ? lo : hi, cursor);
		rows = 0;
		while (!stop && (rc = sqldb_step(st)) == SQLDB_ROW) {
			rows++;
			cursor = sqldb_column_int64(st, 0);
			if (!target_matches(f->target,
			    sqldb_column_text(st, 1)) ||
			    (r = row_record(a, st)) == NULL)
				continue;
			if (f->limit > 0) {	/* newest first: keep, then
						   reverse; read again then */
				json_decref(r);
				xgrow(&keep, &cap, nkeep + 1, sizeof *keep);
				k = &keep[nkeep++];
				k->id = cursor;
				k->text = dup_text(sqldb_column_text(st, 3));
				k->outcome = dup_text(sqldb_column_text(st, 2));
				k->inputs = dup_text(sqldb_column_text(st, 4));
				stop = (long)nkeep == f->limit;
				continue;
			}
			n++;
			stop = fn(ctx, r);
			json_decref(r);
		}
		if (!stop && rc != SQLDB_DONE)
			break;		/* the error is said below */
		sqldb_reset(st);
	} while (!stop && rows == QUERY_PAGE);
	if (!stop && rc != SQLDB_DONE) {
		*err = xasprintf("%s: %s", a->path, sqldb_errmsg(a->db));
		n = -1;
	}
	sqldb_finalize(st);
	stop = n < 0;
	for (i = nkeep; i > 0; i--) {	/* oldest first */
		k = &keep[i - 1];
		if (!stop && (r = record_of(a, k->id, k->text, k->outcome,
		    k->inputs)) != NULL) {
			n++;
			stop = fn(ctx, r);
			json_decref(r);
		}
		free(k->text);
		free(k->outcome);
		free(k->inputs);
	}
	free(keep);
	return n;
}

/*
 * For the daemon's start (src/daemon/unknown.c): the intents a crash left
 * without an outcome, outcome 'intended' until reported, 'unknown' after
 * (row_record reads both as "outcome unknown").  Only this writer's
 * cluster's (and those of no cluster, from before schema 5): in a
 * database several clusters share, another cluster's intent may be an
 * action running there now, and its own writer pages it if it crashed.
 */

/*
 * The clause narrowing to this writer's rows (shares_clusters), ?9 its
 * cluster's name, or ""; coalesce, not OR: see pull_requests().
 */
static const char *
own_cluster(const struct audit *a)
{
	return shares_clusters(a) ? " AND coalesce(cluster, ?9) = ?9" : "";
}

static void
bind_own_cluster(const struct audit *a, struct sqldb_stmt *st)
{
	if (*own_cluster(a))
		sqldb_bind_text(st, 9, a->opts.cluster);
}

long
audit_unknown_outcomes(struct audit *a, int (*fn)(void *, json_t *),
    void *ctx, int64_t *last, char **err)
{
	struct sqldb_stmt *st;
	char *sql;
	json_t *r;
	long n = 0;
	int rc, stop = 0;

	*last = 0;
	if (a->version < 2)		/* no intents before schema 2 */
		return 0;
	audit_settle(a);
	sql = xasprintf("SELECT id, target, outcome, record, NULL FROM "
	    "decisions WHERE " AUDIT_INTENDED "%s ORDER BY id",
	    own_cluster(a));
	st = sqldb_prepare(a->db, sql, 0);
	free(sql);
	if (st == NULL) {
		*err = xasprintf("%s: %s", a->path, sqldb_errmsg(a->db));
		return -1;
	}
	bind_own_cluster(a, st);
	while (!stop && (rc = sqldb_step(st)) == SQLDB_ROW) {
		*last = sqldb_column_int64(st, 0);
		if ((r = row_record(a, st)) == NULL)
			continue;	/* said by row_record; marked too */
		n++;
		stop = fn(ctx, r);
		json_decref(r);
	}
	if (!stop && rc != SQLDB_DONE) {
		*err = xasprintf("%s: %s", a->path, sqldb_errmsg(a->db));
		n = -1;
	}
	sqldb_finalize(st);
	return n;
}

int
audit_unknown_reported(struct audit *a, int64_t last, char **err)
{
	struct sqldb_stmt *st;
	char *sql;
	int rc;

	if (last <= 0)
		return 0;
	audit_settle(a);
	sql = xasprintf("UPDATE decisions SET outcome = 'unknown' WHERE "
	    AUDIT_INTENDED " AND id <= ?1%s", own_cluster(a));
	st = sqldb_prepare(a->db, sql, 0);
	free(sql);
	if (st == NULL) {
		*err = xasprintf("%s: %s", a->path, sqldb_errmsg(a->db));
		return -1;
	}
	sqldb_bind_int64(st, 1, last);
	bind_own_cluster(a, st);
	rc = sqldb_step(st);
	sqldb_finalize(st);
	if (rc != SQLDB_DONE) {
		*err = xasprintf("%s: %s", a->path, sqldb_errmsg(a->db));
		return -1;
	}
	return 0;
}

/* A record's signal.id, read without keeping its tree: owned, or NULL. */
static char *
signal_id_of(const char *text)
{
	json_t *r = text ? util_json_loads(text, 0, NULL) : NULL;
	const char *id = json_string_value(json_object_get(json_object_get(
	    r, "signal"), "id"));
	char *out = id ? xstrdup(id) : NULL;

	json_decref(r);
	return out;
}

long
audit_signal_ids(struct audit *a, const char *cluster, long max,
    void (*fn)(void *, const char *), void *ctx, char **err)
{
	/*
	 * By id alone: a time condition would make SQLite walk the time
	 * index and sort every page, the whole table each time
	 */
	char *sql = xasprintf("SELECT id, record FROM decisions WHERE id < ?1"
	    "%s ORDER BY id DESC LIMIT %d", !cluster ? "" : a->version >= 5 ?
	    " AND cluster = ?2" : " AND 1 = 0", QUERY_PAGE);
	struct sqldb_stmt *st;
	int64_t cursor = INT64_MAX;
	long n = 0, rows;
	int rc = SQLDB_DONE;
	char *id;

	audit_settle(a);
	st = sqldb_prepare(a->db, sql, 0);
	free(sql);
	if (st == NULL) {
		*err = xasprintf("%s: %s", a->path, sqldb_errmsg(a->db));
		return -1;
	}
	do {
		sqldb_bind_int64(st, 1, cursor);
		if (cluster && a->version >= 5)
			sqldb_bind_text(st, 2, cluster);
		rows = 0;
		while (n < max && (rc = sqldb_step(st)) == SQLDB_ROW) {
			rows++;
			cursor = sqldb_column_int64(st, 0);
			if ((id = signal_id_of(sqldb_column_text(st, 1))) ==
			    NULL)
				continue;
			fn(ctx, id);
			free(id);
			n++;
		}
		if (n < max && rc != SQLDB_DONE)
			break;
		sqldb_reset(st);
	} while (n < max && rows == QUERY_PAGE);
	if (n < max && rc != SQLDB_DONE) {
		*err = xasprintf("%s: %s", a->path, sqldb_errmsg(a->db));
		n = -1;
	}
	sqldb_finalize(st);
	return n;
}
