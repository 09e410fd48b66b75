/*
 * audit: the durable state, in one SQLite file (`--state FILE`) or a
 * PostgreSQL database (`--state postgres://...`), through src/sqldb/.
 *
 * It holds every decision record, and beside them what the guardrails,
 * the pager and the prometheus sources remember (cooldown marks, rate
 * buckets, threshold windows, recurrence histories, demotions, aggregated
 * pages, the series over the line).  A decision is one transaction: the
 * record and the state it changed are written together, so after a crash
 * the file holds either both or neither.  An action is written before it
 * runs (audit_intend) and completed after (audit_write), so a crash
 * during an action leaves an "acted, outcome unknown" record whose
 * cooldown still holds.
 *
 * Threads: a writer (audit_open without readonly) belongs to the engine
 * thread, which is the only caller of everything but audit_health.  With
 * opts.stored the store has a writer thread of its own, which holds the
 * connection while it writes a group; every call takes the connection
 * back before using it (writer.c), so the caller needs no lock.  Readers
 * (`remediate history`) open their own handle, in any process; SQLite's
 * WAL lets them read while the daemon writes.  docs/state.md has the
 * schema, the durability argument and the numbers.
 */
#ifndef AUDIT_H
#define AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "guard/guard.h"
#include "page/page.h"
#include "record/record.h"
#include "schedule/schedule.h"

/* The schema this build writes; older files migrate forward on open. */
#define AUDIT_SCHEMA_VERSION 7

/*
 * A decision's inputs (what it read, rec_decision_record.inputs) are kept
 * up to this many bytes of JSON; a larger note is kept as
 * {"signal": N, "truncated": true, "bytes": SIZE}, and `diff` reports the
 * decision as not replayable.
 */
#define AUDIT_INPUTS_MAX	(64 * 1024)

/*
 * The cluster a writer writes for, when none is named: its writer lock in
 * a shared PostgreSQL database is "writer CLUSTER".
 */
#define AUDIT_CLUSTER_DEFAULT	"default"

/*
 * Records per group commit (audit_opts.group): a storm commits once per
 * this many decisions, and a record waits for at most this many decisions
 * after it before it is stored and shown; with the writer thread (opts.
 * stored) a group waits while the one before is written, so up to about
 * five times as many (src/audit/writer.c).
 */
#define AUDIT_GROUP_MAX	64

struct audit_opts {
	int		 readonly;	/* history: never writes or migrates */
	int		 sync_full;	/* every transaction synchronous=FULL;
					   default 0: NORMAL, with action
					   intents FULL (docs/state.md) */
	int64_t		 retain_age;	/* ms; records older are pruned, 0 no
					   age bound (default 30 days) */
	int64_t		 retain_count;	/* records kept at most, 0 no count
					   bound (default 500000) */
	/*
	 * --state-recover: a file failing PRAGMA quick_check is moved aside
	 * and replaced by a copy of what reads; a guard row that does not
	 * read counts as its most restrictive value.  0: both refuse.
	 */
	int		 recover;
	/*
	 * PostgreSQL: the cluster whose writer this is (one writer per
	 * cluster); NULL: AUDIT_CLUSTER_DEFAULT.  Borrowed.
	 */
	const char	*cluster;
	/*
	 * Group commit: records written while the caller has more work
	 * waiting share one transaction, at most this many (audit_flush);
	 * 0 or 1: each record is its own transaction, as before.  The
	 * daemon sets AUDIT_GROUP_MAX.
	 */
	int		 group;
	/*
	 * The writer thread: set, a full group is written by a thread of
	 * the store's own while the caller goes on (src/audit/writer.c),
	 * and this tells the caller, on its thread, inside a later call of
	 * any audit_ function, that its n oldest records not yet told of
	 * are stored (stored 1: show them now) or kept to retry (0: not to
	 * be shown, as audit_write's -1).  audit_write_text and
	 * audit_event_end then return 1 while any record waits, 0 when none
	 * does (every one told); audit_flush waits for the thread and
	 * returns as without.  Needs group > 1.  NULL: no thread, every
	 * write on the caller's thread, told by return codes only.
	 */
	void		(*stored)(void *ctx, size_t n, int stored);
	void		*stored_ctx;
	/*
	 * Texts the caller already has for objects of a decision's inputs
	 * note (jp_known_fn's shape: the cluster view's
	 * cluster_noted_text), asked on the caller's thread as a record is
	 * written; the note is then written by copying them rather than by
	 * walking their trees (bench/state: half the engine thread's cost
	 * of the log).  NULL: every note dumped whole.
	 */
	const char	*(*note_known)(void *ctx, const json_t *v,
			    size_t *len);
	void		*note_known_ctx;
	/*
	 * Logs a line (fields stolen, may be NULL).  NULL: JSON lines on
	 * stderr.
	 */
	void		(*log)(const char *level, const char *msg,
			    json_t *fields);
};

/* The defaults: read-write, NORMAL (intents FULL), 30 days, 500000. */
void	audit_opts_defaults(struct audit_opts *);
/*
 * Parses `--retain` into o: "30d", "12h" (an age: Go durations, plus d
 * for days), "500000" (a count), or both "30d,500000"; "0" for either
 * part means unbounded.  Returns 0, or -1 with *err (owned).
 */
int	audit_parse_retain(const char *, struct audit_opts *, char **err);

struct audit;

/*
 * Opens (creating it if needed, unless readonly) the state file at path,
 * or the PostgreSQL database a postgres:// URL names, migrating an older
 * schema forward in one transaction.  A writer takes an exclusive lock
 * (path + ".lock"; in PostgreSQL a session advisory lock on its cluster):
 * two daemons on one state would both act.  A writer runs PRAGMA quick_check first: a damaged file is an
 * error (or, with o->recover, moved aside and replaced, recover.c).
 * Returns an owned handle, or NULL with *err (owned): file missing
 * (readonly), not a state file, damaged, schema newer than this build,
 * locked by another process, I/O error.
 */
struct audit	*audit_open(const char *path, const struct audit_opts *,
		    char **err);
/* Writes what is journaled, closes, releases the lock.  NULL: no-op. */
void		 audit_close(struct audit *);
/* The schema version of the open file (after migration for writers). */
int		 audit_schema_version(const struct audit *);

/*
 * Loads the guard state kept in the file into g (borrowed; must outlive
 * the handle, or be detached by closing), and from then on journals g's
 * changes with every record.  Call once, before the first signal (on the
 * engine thread, with engine_guard_state).  Returns 0, or -1 with *err.
 * An entry that does not load is an error naming the file (a guardrail
 * would reset), unless opened with recover: then it counts as its most
 * restrictive value (guard_state_load_damaged), logged.
 */
int	audit_attach_guard(struct audit *, struct guard_state *, char **err);
/* The same for the pager's aggregation state. */
int	audit_attach_pages(struct audit *, struct page *, char **err);
/*
 * The same for the prometheus sources' edges (e: borrowed, as g; empty
 * or cleared before).  A row that does not read is no error, whatever
 * recover says: it is dropped and deleted, logged, and its series counts
 * as re-armed (sched_edges_load says why).  Rows that cannot be read at
 * all (the query fails) are an error, as for the guard state.
 */
int	audit_attach_edges(struct audit *, struct sched_edges *e,
	    char **err);

/*
 * Writes r (borrowed) as an action about to run, with the journaled state
 * (its cooldown mark and rate token), and waits for it to be durable.
 * The audit_write of the same decision (same time, sensor, trigger and
 * target) completes this row, whatever is written in between: several
 * actions may be running at once.  Returns 0, or -1 (logged,
 * counted): the caller must not run the action.
 */
int	audit_intend(struct audit *, const struct rec_decision_record *);
/*
 * Writes r (borrowed), completing the row of a preceding audit_intend for
 * the same decision, with the journaled state, in one transaction.
 * Returns 0 when r and every record held before it are stored (the caller
 * may show them all now); 1 when r is held, not yet stored: an event is
 * being decided (audit_event_begin), or a group is open (opts.group) and
 * holds fewer than opts.group records: audit_flush or a later call that
 * returns 0 stores it; -1 (logged, counted): r and the records held with
 * it are kept in memory (up to 10000 records) and written with the next
 * transaction that works, the state rewritten whole then; they are not
 * to be shown.  With opts.stored the records' fate is told there instead
 * (and 1 means some record still waits, 0 none does).
 */
int	audit_write(struct audit *, const struct rec_decision_record *);
/*
 * audit_write with r's text given: r as rec_to_json and REC_JSON_FLAGS
 * make it (borrowed), as the caller prints it, so a record is serialized
 * once.  NULL: as audit_write.
 */
int	audit_write_text(struct audit *, const struct rec_decision_record *,
	    const char *text);
/*
 * Group commit: writes the records held (audit_write returned 1), the
 * journal and the decided events' intake rows in one transaction.  The
 * caller calls it when no more work is waiting (its queue is empty), so
 * a record is never held waiting for work that has not come.  Returns 0
 * when every record given so far is stored (also when none was held);
 * 1 inside an event (audit_event_begin without its end: nothing
 * written); -1 as audit_write.
 */
int	audit_flush(struct audit *);
/*
 * A durable event (an intake row, see src/intake/) is being decided: its
 * records are held and written, with the journal and the removal of its
 * intake row, in one transaction by audit_event_end, so after a crash
 * the file holds the event undecided or decided with all its records.
 * An action's intent is still written at once (with the records held so
 * far).  id 0: not a durable event (no-op).
 */
void	audit_event_begin(struct audit *, int64_t intake_id);
/*
 * Ends the event: returns 0 when its records (and every record held
 * before) are stored (an event without records has its mark batched with
 * a later transaction: redeciding it after a crash decides nothing); 1
 * when a group is open and the event's records wait in it, with the
 * removal of its intake row, for audit_flush; or -1 (logged, counted):
 * the records are kept to retry as audit_write's are, the intake row
 * stays.
 */
int	audit_event_end(struct audit *);
/*
 * Any thread: why the state file cannot be written now (owned), or NULL
 * when the last write worked.
 */
char	*audit_health(struct audit *);
/*
 * Writes the journaled state now, without a record (after page_tick).
 * Returns 0 or -1.
 */
int	audit_sync(struct audit *);
/*
 * Deletes records older than the retention age and beyond the retention
 * count (at most 20000 per call: call it every minute or so), forgets
 * guard state untouched for the retention age, writes the journal, and
 * gives freed pages back to the file system.  now in ms.  Returns the
 * number of records deleted, or -1.
 */
long	audit_prune(struct audit *, int64_t now);

/* ---- reading: remediate history ---------------------------------------- */

struct audit_filter {
	int64_t		 since, until;	/* ms; 0: unbounded */
	const char	*sensor;	/* "ns/name" or "name"; NULL any */
	const char	*trigger;	/* trigger name; NULL any */
	const char	*target;	/* glob on "Kind/ns/name", or on the
					   name alone when it has no '/' */
	const char	*decision;	/* decision name; NULL any */
	const char	*reason;	/* reason name; NULL any */
	const char	*cluster;	/* run's --cluster-name; NULL any */
	int		 pull_requests;	/* only the records of pull requests
					   (opened, merged, declined,
					   expired) of the writer's cluster
					   (opts.cluster), through their
					   index, none other parsed */
	long		 limit;		/* the newest N matches, 0 all */
	int		 inputs;	/* each record carries "inputs": what
					   the decision read, as kept (absent
					   when none was: older versions,
					   approvals) */
};

/*
 * Calls fn for each record matching f, oldest first, with the record
 * (borrowed for the call; an intended action whose outcome was never
 * written carries "outcome": "unknown").  fn returns non-zero to stop.
 * Returns the number of records given to fn, or -1 with *err (owned).
 */
long	audit_query(struct audit *, const struct audit_filter *,
	    int (*fn)(void *ctx, json_t *record), void *ctx, char **err);
/*
 * The signal ids of the newest max records (only cluster's when cluster
 * is not NULL), newest first, each to fn (id borrowed for the call): the
 * webhook ingress's memory after a start (src/daemon/seed.c).  Reads by
 * id alone, a page at a time, one record parsed at a time: a start never
 * holds max records at once.  A record that does not read, or names no
 * signal id, is passed over.  Returns the ids given, or -1 with *err
 * (owned).
 */
long	audit_signal_ids(struct audit *, const char *cluster, long max,
	    void (*fn)(void *ctx, const char *id), void *ctx, char **err);
/*
 * Writer, at start: calls fn for each intended action whose outcome was
 * never written (a crash during the action) and that was not reported
 * yet, of this writer's cluster (opts.cluster; records naming no cluster
 * too: another cluster sharing the database pages its own), oldest
 * first, with the record (borrowed for the call, "outcome": "unknown").
 * *last is the newest such row's id (0: none), to give to
 * audit_unknown_reported once they are reported.  Returns how many, or
 * -1 with *err (owned).
 */
long	audit_unknown_outcomes(struct audit *, int (*fn)(void *ctx,
	    json_t *record), void *ctx, int64_t *last, char **err);
/*
 * Marks those rows (this writer's cluster's) up to id last as reported
 * (outcome 'unknown': history still says "outcome unknown"), durably, so the next start does not
 * report them again.  Returns 0, or -1 with *err (owned).
 */
int	audit_unknown_reported(struct audit *, int64_t last, char **err);
/* Records in the file, and its size in bytes (for history --summary). */
int	audit_stats(struct audit *, int64_t *records, int64_t *bytes);

#endif /* AUDIT_H */
