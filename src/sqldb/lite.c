/*
 * The SQLite side: a file (or a file: URI), one connection.  What the
 * stores did with SQLite before sqldb existed, moved here unchanged: the
 * busy handler that lets the audit store, the intake and the approvals
 * share a file, and extended result codes.
 */
#include <stdlib.h>
#include <string.h>

#include "sqldb/sqldb_int.h"
#include "util/util.h"

int
sqldb_lite_open(struct sqldb *db, const char *path, char **err)
{
	int flags = db->flags & SQLDB_READONLY ? SQLITE_OPEN_READONLY :
	    SQLITE_OPEN_READWRITE | (db->flags & SQLDB_CREATE ?
	    SQLITE_OPEN_CREATE : 0);

	flags |= db->flags & SQLDB_SHARED ? SQLITE_OPEN_FULLMUTEX :
	    SQLITE_OPEN_NOMUTEX;
	if (strncmp(path, "file:", 5) == 0)
		flags |= SQLITE_OPEN_URI;
	if (sqlite3_open_v2(path, &db->lite, flags, NULL) != SQLITE_OK) {
		/* the system's reason ("No such file or directory") says
		   more than SQLite's "unable to open database file" */
		int sys = db->lite ? sqlite3_system_errno(db->lite) : 0;

		*err = xasprintf("%s: %s", db->display, sys ? strerror(sys) :
		    db->lite ? sqlite3_errmsg(db->lite) : "cannot open");
		return -1;
	}
	sqlite3_busy_handler(db->lite, util_busy_wait, NULL);	/* ~5 s */
	sqlite3_extended_result_codes(db->lite, 1);
	return 0;
}

enum sqldb_error
sqldb_lite_code(int rc)
{
	if (rc == SQLITE_OK)
		return SQLDB_EOK;
	return (rc & 0xff) == SQLITE_NOTADB ? SQLDB_ENOTDB : SQLDB_EOTHER;
}

int
sqldb_lite_exec(struct sqldb *db, const char *sql)
{
	char *msg = NULL;

	free(db->err);
	db->err = NULL;
	if (sqlite3_exec(db->lite, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	if (msg)	/* sqlite3_errmsg may be reset by then */
		sqldb_set_error(db, sqldb_lite_code(sqlite3_errcode(
		    db->lite)), "%s", msg);
	sqlite3_free(msg);
	return -1;
}

int
sqldb_lite_prepare(struct sqldb_stmt *st, const char *sql)
{
	free(st->db->err);
	st->db->err = NULL;
	return sqlite3_prepare_v3(st->db->lite, sql, -1, st->persistent ?
	    SQLITE_PREPARE_PERSISTENT : 0, &st->lite, NULL) == SQLITE_OK &&
	    st->lite ? 0 : -1;
}

int
sqldb_lite_step(struct sqldb_stmt *st)
{
	int rc;

	free(st->db->err);
	st->db->err = NULL;
	rc = sqlite3_step(st->lite);
	return rc == SQLITE_ROW ? SQLDB_ROW : rc == SQLITE_DONE ? SQLDB_DONE :
	    SQLDB_ERROR;
}

/*
 * A group commit runs BEGIN and COMMIT for every round: from statements
 * prepared once, not parsed by sqlite3_exec each time.
 */
int
sqldb_lite_tx(struct sqldb *db, int end)
{
	static const char *const sql[] = { "BEGIN IMMEDIATE", "COMMIT" };
	sqlite3_stmt **st = &db->lite_tx[end != 0];
	int rc;

	free(db->err);
	db->err = NULL;
	if (*st == NULL && sqlite3_prepare_v3(db->lite, sql[end != 0], -1,
	    SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
		rc = sqlite3_errcode(db->lite);
	else if ((rc = sqlite3_step(*st)) == SQLITE_DONE) {
		sqlite3_reset(*st);
		return 0;
	}
	sqldb_set_error(db, sqldb_lite_code(rc), "%s",
	    sqlite3_errmsg(db->lite));
	if (*st != NULL)
		sqlite3_reset(*st);
	return -1;
}
