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
	sqlite3_stmt *st;
	const char *msg;
	int rc;

	*why = NULL;
	if (sqlite3_prepare_v2(a->db, "PRAGMA quick_check(1)", -1, &st,
	    NULL) != SQLITE_OK) {
		*why = xstrdup(sqlite3_errmsg(a->db));
		return -1;
	}
	rc = sqlite3_step(st);
	msg = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) :
	    NULL;
	if (msg == NULL || strcmp(msg, "ok") != 0) {
		char *p;

		*why = xstrdup(msg ? msg : sqlite3_errmsg(a->db));
		for (p = *why; (p = strchr(p, '\n')) != NULL; )
			*p = ' ';	/* one log line */
	}
	sqlite3_finalize(st);
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
	sqlite3_stmt *sel = NULL, *ins = NULL;
	sqlite3_int64 last = 0, max = 0, skip = 1;
	sqlite3_value *v[9];
	char *sql;
	long n = 0;
	int i, rc;

	if (rowid) {
		sql = xasprintf("SELECT max(rowid) FROM old.%s", table);
		if (sqlite3_prepare_v2(a->db, sql, -1, &sel, NULL) ==
		    SQLITE_OK && sqlite3_step(sel) == SQLITE_ROW)
			max = sqlite3_column_int64(sel, 0);
		sqlite3_finalize(sel);
		free(sql);
	}
	sql = xasprintf("INSERT OR IGNORE INTO main.%s (%s) VALUES (?%s)",
	    table, cols, ncols == 3 ? ",?,?" : ",?,?,?,?,?,?,?,?");
	rc = sqlite3_prepare_v2(a->db, sql, -1, &ins, NULL);
	free(sql);
	sql = xasprintf("SELECT %s%s FROM old.%s%s", cols, rowid ?
	    ", rowid" : "", table, rowid ? " WHERE rowid > ? ORDER BY "
	    "rowid" : "");
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(a->db, sql, -1, &sel, NULL);
	free(sql);
	while (rc == SQLITE_OK) {
		sqlite3_reset(sel);
		if (rowid)
			sqlite3_bind_int64(sel, 1, last);
		while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
			/* copies: a value still on the old file's page
			 * cannot be bound as it is */
			for (i = 0; i < ncols; i++) {
				v[i] = sqlite3_value_dup(sqlite3_column_value(
				    sel, i));
				sqlite3_bind_value(ins, i + 1, v[i]);
			}
			if (sqlite3_step(ins) == SQLITE_DONE)
				n++;
			for (i = 0; i < ncols; i++)
				sqlite3_value_free(v[i]);
			sqlite3_reset(ins);
			if (rowid) {
				last = sqlite3_column_int64(sel, ncols);
				skip = 1;
			}
		}
		if (rc == SQLITE_DONE || !rowid || last >= max)
			break;
		/* a page did not read: jump past it */
		last += skip;
		skip *= 2;
		rc = SQLITE_OK;
	}
	sqlite3_finalize(sel);
	sqlite3_finalize(ins);
	return n;
}

int
audit_recover_copy(struct audit *a, const char *aside, char **err)
{
	sqlite3_stmt *st;
	long decisions, rows;

	if (sqlite3_prepare_v2(a->db, "ATTACH DATABASE ? AS old", -1, &st,
	    NULL) != SQLITE_OK) {
		*err = xasprintf("%s: %s", aside, sqlite3_errmsg(a->db));
		return -1;
	}
	sqlite3_bind_text(st, 1, aside, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		*err = xasprintf("%s: %s", aside, sqlite3_errmsg(a->db));
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
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
