/*
 * sqldb's handle and statement, shared by its files: sqldb.c (opening,
 * the calls that dispatch to an engine), sql.c (placeholders and dialect
 * tokens), lite.c (SQLite), pg.c (PostgreSQL through libpq).
 */
#ifndef SQLDB_INT_H
#define SQLDB_INT_H

#include <libpq-fe.h>
#include <pthread.h>
#include <sqlite3.h>

#include "sqldb/sqldb.h"

#define SQLDB_MAGIC	0x7371646du	/* "sqdm" */
#define STMT_MAGIC	0x73717374u	/* "sqst" */

struct sqldb {
	unsigned		 magic;
	enum sqldb_engine	 engine;
	int			 flags;		/* SQLDB_* */
	char			*display;	/* owned: target, no password */
	char			*err;		/* owned: last failure */
	enum sqldb_error	 ecode;
	int64_t			 changes;	/* rows, last write */
	sqlite3			*lite;
	sqlite3_stmt		*lite_tx[2];	/* owned: BEGIN IMMEDIATE,
						   COMMIT, once prepared */
	/* PostgreSQL */
	PGconn			*pg;
	pthread_mutex_t		 mu;		/* every libpq call */
	int			 in_tx;		/* BEGIN sent, no end yet */
	unsigned		 gen;		/* connection generation:
						   statements prepared in
						   an older one prepare
						   again */
	int			 restore;	/* reconnected: settings and
						   locks not all back yet */
	unsigned		 nnames;	/* statement names given */
	char			**locks;	/* owned: session locks */
	size_t			 nlocks;
	char			**stale;	/* owned: names of statements
						   finalized, not deallocated
						   yet (in a transaction:
						   until it ends) */
	size_t			 nstale;
	unsigned		 stale_gen;	/* the generation they were
						   prepared in */
	char			*fenced;	/* owned: a session lock was
						   lost; every call fails */
};

struct sqldb_stmt {
	unsigned		 magic;
	struct sqldb		*db;		/* borrowed */
	sqlite3_stmt		*lite;
	enum sqldb_error	 failed;	/* its last step failed so;
						   EOK after a reset */
	char			*why;		/* owned: and the reason */
	/* PostgreSQL */
	char			*sql;		/* owned: $N placeholders */
	int			 persistent;
	char			 name[24];	/* server-side, persistent */
	unsigned		 gen;		/* prepared in; 0 not yet */
	int			*map;		/* owned: ?N -> $M, 0 absent */
	int			 nmap, npg;
	char			**vals;		/* owned: npg parameters */
	int			*lens, *fmts;	/* owned */
	PGresult		*res;		/* owned: the executed one */
	int			 row, nrows;	/* current row, -1 before */
	unsigned char		*blob;		/* owned: column_blob's */
};

/* sqldb.c */
void	 sqldb_set_error(struct sqldb *, enum sqldb_error, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));

/* sql.c: sql with tokens expanded and, for PostgreSQL, ?N made $M. */
char	*sqldb_translate(const char *sql, enum sqldb_engine, int **map,
	    int *nmap, int *npg);

/* lite.c */
int	 sqldb_lite_open(struct sqldb *, const char *path, char **err);
/* What an SQLite result code (extended or not) means to sqldb's callers. */
enum sqldb_error sqldb_lite_code(int rc);
int	 sqldb_lite_exec(struct sqldb *, const char *sql);
int	 sqldb_lite_prepare(struct sqldb_stmt *, const char *sql);
int	 sqldb_lite_step(struct sqldb_stmt *);
/* BEGIN IMMEDIATE (end 0) or COMMIT (end 1): 0, or -1 (db->err). */
int	 sqldb_lite_tx(struct sqldb *, int end);

/* pg.c */
int	 sqldb_pg_open(struct sqldb *, const char *url, char **err);
void	 sqldb_pg_close(struct sqldb *);
int	 sqldb_pg_exec(struct sqldb *, const char *sql);
int	 sqldb_pg_prepare(struct sqldb_stmt *, const char *sql);
int	 sqldb_pg_step(struct sqldb_stmt *);
void	 sqldb_pg_clear(struct sqldb_stmt *);
void	 sqldb_pg_finalize(struct sqldb_stmt *);
void	 sqldb_pg_deallocate(struct sqldb *);
int	 sqldb_pg_bind(struct sqldb_stmt *, int i, const void *v, size_t n,
	    int binary);
int	 sqldb_pg_session_lock(struct sqldb *, const char *name);

#endif /* SQLDB_INT_H */
