/*
 * A damaged state file: found at start, refused, or (--state-recover)
 * moved aside and replaced by a fresh file holding every row that still
 * reads.
 *
 * Starting on a damaged file silently would fail open: a guard row that
 * no longer reads is a cooldown or a rate bucket forgotten, so a second
 * action could run inside the cooldown.  `run` therefore refuses to start
 * (the error names the file) until an operator asks for recovery.  Then
 * the damaged file and its log are kept beside it as PATH.damaged-MS (for
 * the post-mortem), a new file is created, and the rows of the old one are
 * copied one by one until the first that cannot be read; guard rows whose
 * value does not read count as their most restrictive value (store.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit_int.h"

int
audit_quick_check(struct audit *a, char **why)
{
	struct sqldb_stmt *st;
	const char *msg;
	int rc;

	*why = NULL;
	if ((st = sqldb_prepare(a->db, "PRAGMA quick_check(1)", 0)) == NULL) {
		*why = xstrdup(sqldb_errmsg(a->db));
		return -1;
	}
	rc = sqldb_step(st);
	msg = rc == SQLDB_ROW ? sqldb_column_text(st, 0) : NULL;
	if (msg == NULL || strcmp(msg, "ok") != 0) {
		char *p;

		*why = xstrdup(msg ? msg : sqldb_errmsg(a->db));
		for (p = *why; (p = strchr(p, '\n')) != NULL; )
			*p = ' ';	/* one log line */
	}
	sqldb_finalize(st);
	return *why ? -1 : 0;
}

/* Moves path and its -wal/-shm to aside (and its -wal/-shm): a log left
 * behind would be replayed into the new file. */
static int
move_aside(const char *path, const char *aside, char **err)
{
	static const char *const ext[] = { "", "-wal", "-shm" };
	char *from, *to;
	size_t i;
	int rc = 0;

	for (i = 0; i < UTIL_ARRAY_LEN(ext) && rc == 0; i++) {
		from = xasprintf("%s%s", path, ext[i]);
		to = xasprintf("%s%s", aside, ext[i]);
		if (rename(from, to) == -1 && (i == 0 || errno != ENOENT)) {
			*err = xasprintf("%s: cannot move it aside to %s: %s",
			    from, to, strerror(errno));
			rc = -1;
		}
		free(from);
		free(to);
	}
	return rc;
}

char *
audit_recover_aside(const char *path, int64_t now, char **err)
{
	char *aside = xasprintf("%s.damaged-%lld", path, (long long)now);

	if (move_aside(path, aside, err) == -1) {
		free(aside);
		return NULL;
	}
	return aside;
}

/*
 * Copies the rows of one table that read.  With a rowid (decisions), a
 * damaged page is skipped: the scan starts again past the last id read,
 * jumping further each time (1, 2, 4... ids) until a row reads, up to the
 * largest id (bounded).  Without (state) it stops at the first error.
 */
static long
copy_table(struct audit *a, const char *table, const char *cols,
    int ncols, int rowid)
{
	struct sqldb_stmt *sel = NULL, *ins = NULL;
	int64_t last = 0, max = 0, skip = 1;
	char *sql;
	long n = 0;
	int i, rc;

	if (rowid) {
		sql = xasprintf("SELECT max(rowid) FROM old.%s", table);
		if (sqldb_query_int(a->db, sql, &max) == -1)
			max = 0;
		free(sql);
	}
	sql = xasprintf("INSERT OR IGNORE INTO main.%s (%s) VALUES (?%s)",
	    table, cols, ncols == 3 ? ",?,?" : ",?,?,?,?,?,?,?,?");
	ins = sqldb_prepare(a->db, sql, 0);
	free(sql);
	sql = xasprintf("SELECT %s%s FROM old.%s%s", cols, rowid ?
	    ", rowid" : "", table, rowid ? " WHERE rowid > ? ORDER BY "
	    "rowid" : "");
	if (ins)
		sel = sqldb_prepare(a->db, sql, 0);
	free(sql);
	rc = sel ? SQLDB_DONE : SQLDB_ERROR;
	while (rc != SQLDB_ERROR) {
		sqldb_reset(sel);
		if (rowid)
			sqldb_bind_int64(sel, 1, last);
		while ((rc = sqldb_step(sel)) == SQLDB_ROW) {
			/* copied: a value still on the old file's page
			 * cannot be bound as it is */
			for (i = 0; i < ncols; i++)
				sqldb_bind_column(ins, i + 1, sel, i);
			if (sqldb_step(ins) == SQLDB_DONE)
				n++;
			sqldb_reset(ins);
			if (rowid) {
				last = sqldb_column_int64(sel, ncols);
				skip = 1;
			}
		}
		if (rc == SQLDB_DONE || !rowid || last >= max)
			break;
		/* a page did not read: jump past it */
		last += skip;
		skip *= 2;
		rc = SQLDB_DONE;
	}
	sqldb_finalize(sel);
	sqldb_finalize(ins);
	return n;
}

int
audit_recover_copy(struct audit *a, const char *aside, char **err)
{
	struct sqldb_stmt *st;
	long decisions, rows;

	if ((st = sqldb_prepare(a->db, "ATTACH DATABASE ? AS old", 0)) ==
	    NULL) {
		*err = xasprintf("%s: %s", aside, sqldb_errmsg(a->db));
		return -1;
	}
	sqldb_bind_text(st, 1, aside);
	if (sqldb_step(st) != SQLDB_DONE) {
		*err = xasprintf("%s: %s", aside, sqldb_errmsg(a->db));
		sqldb_finalize(st);
		return -1;
	}
	sqldb_finalize(st);
	/*
	 * No enclosing transaction: after a read of the damaged file fails
	 * inside one, SQLite refuses every later write of it.  One commit
	 * per row is slow, but this runs once, by hand.
	 */
	decisions = copy_table(a, "decisions", "id, time, sensor, trigger, "
	    "target, decision, reason, record, outcome", 9, 1);
	rows = copy_table(a, "state", "kind, key, value", 3, 0);
	audit_exec(a, "DETACH DATABASE old");
	a->failed = 0;
	audit_log(a, "error", "the state file was damaged: started from a "
	    "copy of what still reads", json_pack("{s:s, s:s, s:I, s:I}",
	    "path", a->path, "damaged", aside, "decisions", (json_int_t)
	    decisions, "state_rows", (json_int_t)rows));
	return 0;
}
