/*
 * The store's layout, shared by its files: store.c (opening, schema,
 * migrations, attaching state), write.c (transactions, pruning), writer.c
 * (the thread that writes groups), query.c (reading for history).
 */
#ifndef AUDIT_INT_H
#define AUDIT_INT_H

#include <pthread.h>

#include "audit/audit.h"
#include "sqldb/sqldb.h"
#include "util/util.h"

#define AUDIT_MAGIC	0x61756474u	/* "audt" */
#define BACKLOG_MAX	10000		/* records kept while writes fail */
#define DONE_BATCH	64		/* record-less events marked at once */

/* One decisions row, as written. */
struct audit_row {
	int64_t	 time;		/* ms */
	char	*sensor, *trigger, *target, *decision, *reason;	/* owned */
	char	*cluster;	/* owned, NULL: none named */
	char	*record;	/* owned JSON */
	char	*inputs;	/* owned JSON, NULL: none */
	int	 intended;	/* outcome still unknown */
	int64_t	 update_id;	/* completes this intended row; 0 insert */
	int64_t	 event;		/* the intake row of the event it decided
				   (audit_event_begin); 0: none */
};

/* A guard or page state entry as journaled: its value's text, or none. */
struct audit_put {
	char	*kind, *key;	/* owned */
	char	*value;		/* owned JSON; NULL: the entry is removed */
};

/*
 * One transaction, made on the engine thread (what it holds is moved out
 * of the handle: the backlog, the held records, the decided events' marks,
 * the journal's entries as text) and run on either thread (txn_run), so
 * the thread that runs it reads nothing the engine may change meanwhile.
 */
struct audit_txn {
	struct audit_row	*rows;		/* owned: the backlog's, then the
						   held ones, then the given */
	size_t			 nrows;
	size_t			 nbacklog;	/* rows[0, nbacklog): backlog */
	size_t			 nheld;		/* then this many held ones */
	int			 given;		/* the last row is the caller's
						   (an intent): its id to rowid */
	int64_t			 rowid;
	int64_t			*done;		/* owned: intake rows to delete */
	size_t			 ndone;
	struct audit_put	*puts;		/* owned: the journal */
	size_t			 nputs, capputs;
	int			 resync;	/* DELETE FROM state first */
	int			 rc;		/* txn_run's: 0 or -1 */
};

enum audit_source_kind { SRC_GUARD, SRC_PAGE, SRC_EDGE };

struct audit_source {
	enum audit_source_kind	 kind;
	void			*obj;	/* borrowed guard_state, page
					   or sched_edges */
};

/* An intent's row, found again by its record's time and names. */
struct audit_pending {
	int64_t		 rowid;
	int64_t		 time;		/* ms: the record's */
	char		*key;		/* owned: sensor\x1ftrigger\x1ftarget */
};

#define PENDING_MAX	4096	/* intents awaiting an outcome, at most */

/*
 * The rows a start reads beside the newest (store.c indexes them, query.c
 * reads them): an intent whose outcome was never written, and the
 * records of pull requests (opened, then merged, declined or expired).
 * The index's condition and the query's must be the same text, or the
 * database does not see that the index serves the query.
 */
#define AUDIT_INTENDED		"outcome = 'intended'"
#define AUDIT_REQUEST_ROWS	"decision IN ('pending-approval', 'acted', " \
	"'declined', 'expired')"

struct audit {
	unsigned		 magic;
	struct sqldb		*db;
	char			*path;		/* owned: --state as
						   displayed (no password) */
	struct audit_opts	 opts;
	int			 version;	/* schema of the file */
	int			 lock_fd;	/* -1: none (readonly) */
	struct sqldb_stmt	*ins, *upd, *put, *del, *done_st;
	struct audit_source	 src[3];
	int			 nsrc;
	/*
	 * Intended actions awaiting their outcome: several at once, since
	 * actions run on workers while the engine writes other records.
	 */
	struct audit_pending	*pending;	/* owned, oldest first */
	size_t			 npending, cappending;
	/* the durable event being decided (audit_event_begin) */
	int64_t			 event;		/* intake row, 0 none */
	struct audit_row	*held;		/* owned: its records */
	size_t			 nheld, capheld;
	int64_t			*done;		/* owned: decided events whose
						   mark is not yet written */
	size_t			 ndone, capdone;
	/* why writes fail, for /readyz on another thread */
	pthread_mutex_t		 health_mu;
	char			*health;	/* owned, NULL: writes work */
	/* writes that failed, to retry */
	struct audit_row	*backlog;	/* owned */
	size_t			 nbacklog, capbacklog;
	int			 resync;	/* rewrite the whole state */
	int			 failed;	/* a statement failed in this
						   transaction */
	char			*error;		/* owned: its message */
	/* the checkpointer (checkpoint.c); ckpt_db NULL: none */
	struct sqldb		*ckpt_db;	/* owned: its connection */
	pthread_t		 ckpt_thread;
	pthread_mutex_t		 ckpt_mu;
	pthread_cond_t		 ckpt_cv;
	int			 ckpt_due, ckpt_stop;	/* under ckpt_mu */
	/* guard rows whose value did not read, [[kind, key], ...] */
	json_t			*damaged;	/* owned, NULL: none */
	/*
	 * The writer thread (writer.c; opts.stored set).  The connection
	 * (db, its statements, failed, error) is the writer's from
	 * audit_writer_hand until audit_writer_take returned its
	 * transaction, and the engine thread's otherwise.
	 */
	int			 wr_on;		/* the thread runs */
	pthread_t		 wr_thread;
	pthread_mutex_t		 wr_mu;
	pthread_cond_t		 wr_cv;
	struct audit_txn	*wr_txn;	/* under wr_mu: handed, not yet
						   taken back; NULL: idle */
	int			 wr_done;	/* under wr_mu: wr_txn ran */
	int			 wr_stop;	/* under wr_mu */
};

/* write.c */
void	audit_pending_free(struct audit *);

/* store.c */
void	audit_log(const struct audit *, const char *level, const char *msg,
	    json_t *fields);
int	audit_exec(struct audit *, const char *sql);
void	audit_fail(struct audit *, const char *what);
/* The cluster whose writer this is: opts.cluster, or the default. */
const char *audit_cluster(const struct audit *);

/* recover.c */
/* PRAGMA quick_check: 0, or -1 with *why (owned) naming the damage. */
int	audit_quick_check(struct audit *, char **why);
/* Moves path (and its log) to an owned PATH.damaged-NOW, or NULL, *err. */
char	*audit_recover_aside(const char *path, int64_t now, char **err);
/* Copies what reads of the file at aside into the open (new) file. */
int	audit_recover_copy(struct audit *, const char *aside, char **err);

/* checkpoint.c: SQLite writers */
/* Starts the thread on its own connection to path; 0, or -1 (logged). */
int	audit_ckpt_start(struct audit *, const char *path);
/* After a commit: a checkpoint is due.  No checkpointer: no-op. */
void	audit_ckpt_kick(struct audit *);
/* Stops and joins the thread, closes its connection.  None: no-op. */
void	audit_ckpt_stop(struct audit *);

/* write.c */
/* Runs t on the calling thread, which owns the connection: t->rc. */
void	audit_txn_run(struct audit *, struct audit_txn *t);
/*
 * A writer's caller about to use the connection itself: the writer
 * thread's transaction is taken back first (waiting; its records told).
 */
void	audit_settle(struct audit *);
void	audit_row_clear(struct audit_row *);
void	audit_backlog_free(struct audit *);
void	audit_held_free(struct audit *);

/* writer.c: the writer thread, when opts.stored is set */
/* Starts it; 0, or -1 (logged: the engine thread writes, as without). */
int	audit_writer_start(struct audit *);
/* Gives t (stolen) to the writer; it must be idle (audit_writer_take). */
void	audit_writer_hand(struct audit *, struct audit_txn *t);
/*
 * The transaction handed, once run (owned), waiting for it if wait, else
 * NULL while it runs; NULL when none was handed.
 */
struct audit_txn *audit_writer_take(struct audit *, int wait);
/* A transaction is handed and not yet taken back. */
int	audit_writer_busy(struct audit *);
/* Stops and joins the thread (idle).  None: no-op. */
void	audit_writer_stop(struct audit *);

#endif /* AUDIT_INT_H */
