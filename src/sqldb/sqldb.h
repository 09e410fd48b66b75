/*
 * sqldb: the one place that knows both SQL engines the state may live in.
 *
 * `--state` names a SQLite file (a plain path, or a file: URI) or a
 * PostgreSQL database (postgres:// or postgresql://, libpq's URL).  The
 * stores (audit, intake, approve) speak SQL through this small surface and
 * never see which engine answers:
 *
 *   - placeholders are `?` (next number) or `?N` (SQLite's numbering);
 *     for PostgreSQL they become $1, $2... in order of first appearance,
 *     so a statement may leave numbers out (history's optional filters);
 *   - dialect tokens in any statement text: {ID} an auto-numbered 64-bit
 *     key, {INT} a 64-bit integer column, {BLOB} bytes, {NOROWID} SQLite's
 *     WITHOUT ROWID (nothing in PostgreSQL), {INSTR} the position of a
 *     substring (instr / strpos);
 *   - what both engines already share is written as is: upserts
 *     (INSERT ... ON CONFLICT ... DO UPDATE / DO NOTHING) and new ids
 *     (INSERT ... RETURNING id, stepped as one row);
 *   - sqldb_begin is BEGIN IMMEDIATE in SQLite (it takes the write lock at
 *     once) and BEGIN in PostgreSQL, where sqldb_lock serializes writers
 *     that need it with a transaction-scoped advisory lock.
 *
 * What only SQLite has (PRAGMAs, quick_check, the writer's .lock file) the
 * caller does after asking sqldb_engine; PostgreSQL's writer exclusion is
 * sqldb_session_lock.
 *
 * A PostgreSQL connection that breaks is not fatal: the statement (and the
 * transaction it was in) fails with SQLDB_ELOST, and the next statement
 * outside a transaction reconnects, prepares again and takes back the
 * session locks it held, or fails with the reason (another writer took
 * one: this handle then refuses every statement).
 *
 * Threads: a handle opened with SQLDB_SHARED may be used from several
 * threads, one call at a time each (SQLite FULLMUTEX; a mutex around
 * every libpq call).  Otherwise one thread at a time.  A statement belongs
 * to one thread while it is stepped.  What spans calls (a transaction,
 * sqldb_changes after a step) is the caller's to hold together: callers
 * sharing a handle keep a lock of their own around it (intake's db_mu,
 * approve's store mutex).
 */
#ifndef SQLDB_H
#define SQLDB_H

#include <stddef.h>
#include <stdint.h>

enum sqldb_engine {
	SQLDB_SQLITE,
	SQLDB_POSTGRES,
};

/* sqldb_open flags */
#define SQLDB_READONLY	0x1	/* never writes (history, approve list) */
#define SQLDB_CREATE	0x2	/* SQLite: create the file if missing */
#define SQLDB_SHARED	0x4	/* used from several threads */

/* sqldb_step */
#define SQLDB_ROW	1
#define SQLDB_DONE	0
#define SQLDB_ERROR	(-1)

/* what the last failure was, beyond its message */
enum sqldb_error {
	SQLDB_EOK,
	SQLDB_ENOTDB,		/* SQLite: the file is not a database */
	SQLDB_ELOST,		/* PostgreSQL: the connection broke */
	SQLDB_EOTHER,
};

enum sqldb_type {
	SQLDB_NULL,
	SQLDB_INTEGER,
	SQLDB_FLOAT,
	SQLDB_TEXT,
	SQLDB_BLOB,
};

struct sqldb;
struct sqldb_stmt;

/* Does target name a PostgreSQL database (postgres://, postgresql://)? */
int		 sqldb_is_postgres(const char *target);
/*
 * target as it may be logged (owned): a URL's password is replaced by
 * "***"; a path is returned as it is.
 */
char		*sqldb_display(const char *target);

/*
 * Opens target (a path, a file: URI, or a PostgreSQL URL) with flags.
 * SQLite: busy handler util_busy_wait (about 5 s), extended result codes.
 * PostgreSQL: connect_timeout 10 s unless the URL says otherwise, notices
 * not printed, readonly sessions default_transaction_read_only.  Returns
 * an owned handle, or NULL with *err (owned, naming the target as
 * displayed).
 */
struct sqldb	*sqldb_open(const char *target, int flags, char **err);
/* Finalizes nothing: statements must be finalized first.  NULL: no-op. */
void		 sqldb_close(struct sqldb *);
enum sqldb_engine sqldb_engine(const struct sqldb *);

/*
 * Runs sql (one or more statements, no placeholders, dialect tokens
 * expanded).  Returns 0, or -1 (sqldb_errmsg says why).
 */
int		 sqldb_exec(struct sqldb *, const char *sql);
/* The first column of sql's first row as an integer: 0, or -1. */
int		 sqldb_query_int(struct sqldb *, const char *sql, int64_t *out);
/*
 * SQLite: the file's application_id, user_version and count of schema
 * objects, read in one snapshot.  Read by three statements, a file
 * another process is creating could show its tables without yet its
 * mark, and be taken for another program's.  Returns 0, or -1
 * (sqldb_error SQLDB_ENOTDB: not a database at all).
 */
int		 sqldb_file_identity(struct sqldb *, int64_t *appid,
		    int64_t *version, int64_t *nobjects);

/*
 * Prepares one statement.  persistent: it will be run many times (SQLite
 * SQLITE_PREPARE_PERSISTENT; PostgreSQL a named server-side statement,
 * prepared again after a reconnect); else PostgreSQL parses it at each
 * step.  Returns an owned statement, or NULL (sqldb_errmsg says why).
 */
struct sqldb_stmt *sqldb_prepare(struct sqldb *, const char *sql,
		    int persistent);
/* Binds parameter i (1-based, SQLite's numbering).  Values are copied. */
int		 sqldb_bind_int64(struct sqldb_stmt *, int i, int64_t v);
int		 sqldb_bind_text(struct sqldb_stmt *, int i, const char *s);
int		 sqldb_bind_null(struct sqldb_stmt *, int i);
int		 sqldb_bind_blob(struct sqldb_stmt *, int i, const void *p,
		    size_t n);
/* Binds parameter i to column j of src's current row, copied. */
int		 sqldb_bind_column(struct sqldb_stmt *, int i,
		    struct sqldb_stmt *src, int j);
/*
 * SQLDB_ROW (columns readable), SQLDB_DONE, or SQLDB_ERROR.  After an
 * error the statement does not run again: it fails with the same reason
 * until sqldb_reset.
 */
int		 sqldb_step(struct sqldb_stmt *);
/*
 * Runs st once for its effect and resets it (bindings cleared): the first
 * column of a row it returns (RETURNING id) goes to *id when id is not
 * NULL.  Returns 0, or -1 with sqldb_errmsg saying why.
 */
int		 sqldb_run(struct sqldb_stmt *, int64_t *id);
/*
 * The current row's column j (0-based).  Text and blobs are borrowed
 * until the next step, reset or finalize; NULL (text) for SQL NULL.  An
 * integer is read from any column as SQLite reads it, on both engines:
 * a real truncated, a text by its leading digits, NULL 0.
 */
enum sqldb_type	 sqldb_column_type(struct sqldb_stmt *, int j);
int64_t		 sqldb_column_int64(struct sqldb_stmt *, int j);
const char	*sqldb_column_text(struct sqldb_stmt *, int j);
const void	*sqldb_column_blob(struct sqldb_stmt *, int j, size_t *n);
/* Ready to run again, bindings cleared. */
void		 sqldb_reset(struct sqldb_stmt *);
/* NULL: no-op. */
void		 sqldb_finalize(struct sqldb_stmt *);
/* Rows changed by the last INSERT, UPDATE or DELETE of this handle. */
int64_t		 sqldb_changes(struct sqldb *);

/* A write transaction: 0, or -1.  rollback is safe without one. */
int		 sqldb_begin(struct sqldb *);
int		 sqldb_commit(struct sqldb *);
void		 sqldb_rollback(struct sqldb *);
/*
 * Inside a transaction: waits for the named lock, held until it ends
 * (PostgreSQL pg_advisory_xact_lock; SQLite: nothing to do, BEGIN
 * IMMEDIATE already serializes writers).  Returns 0, or -1.
 */
int		 sqldb_lock(struct sqldb *, const char *name);
/*
 * Takes the named lock for the session, without waiting (PostgreSQL
 * pg_try_advisory_lock, taken again on reconnect; SQLite: always 0, the
 * caller locks the file).  Returns 0 taken, 1 held by another session, or
 * -1 with sqldb_errmsg.
 */
int		 sqldb_session_lock(struct sqldb *, const char *name);

/* The engine's reason for the last failure (borrowed, never NULL). */
const char	*sqldb_errmsg(struct sqldb *);
enum sqldb_error sqldb_error(struct sqldb *);

#endif /* SQLDB_H */
