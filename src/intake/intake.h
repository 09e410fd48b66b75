/*
 * intake: durable acceptance of pushed events (webhooks, Alertmanager).
 *
 * A 2xx to a sender means the event is in the state file: intake_put
 * writes a request's events to the `intake` table of the state file
 * before the HTTP thread answers.  Concurrent requests share a
 * transaction (group commit): one committer thread takes every request
 * waiting and commits them together, so under load the cost of a commit
 * is spread over many requests while a lone request still commits at
 * once.  The engine decides each event and removes its row in the same
 * transaction as its decision records (audit_event_begin/_end); what a
 * crash left undecided is given back by intake_recover after the next
 * start.
 *
 * Signed webhook bodies are remembered for a window (the `replay` table,
 * in the same transaction), so one captured request sent again, also after
 * a restart, is acknowledged but not decided twice.
 *
 * Threads: intake_put, intake_stop, intake_undecided and intake_health
 * from any thread; intake_recover and intake_decided on the engine thread.
 * The handle has its own connection to the state file (audit_open must
 * have created or migrated it first).  docs/state.md has the layout.
 */
#ifndef INTAKE_H
#define INTAKE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "signal/event.h"

#define INTAKE_REPLAY_WINDOW	(60 * 60 * 1000)	/* ms */

struct intake_opts {
	size_t		 capacity;	/* events accepted and not yet decided,
					   at most; 0: 10000 */
	int64_t		 replay_window;	/* ms a signed body is remembered;
					   0: INTAKE_REPLAY_WINDOW */
	int		 sync_full;	/* synchronous=FULL (power loss too);
					   default NORMAL: process crashes */
	/*
	 * The cluster whose events these are, where clusters share a
	 * PostgreSQL database: its rows are the only ones it recovers.
	 * NULL: every row (a file one daemon holds).  Borrowed.
	 */
	const char	*cluster;
	/* Logs a line (fields stolen).  NULL: JSON lines on stderr. */
	void		(*log)(const char *level, const char *msg,
			    json_t *fields);
};

enum intake_result {
	INTAKE_OK,		/* durable: answer 2xx */
	INTAKE_FULL,		/* too many undecided events: 503 */
	INTAKE_STOPPING,	/* intake_stop was called: 503 */
	INTAKE_REPLAY,		/* the signed body was seen in the window */
	INTAKE_ERROR,		/* the state file cannot be written: 503 */
};

struct intake;

/*
 * Opens the intake on the state file at path and starts its committer.
 * Counts the events an earlier run left undecided (intake_recover gives
 * them back).  Returns an owned handle, or NULL with *err (owned).
 */
struct intake	*intake_open(const char *path, const struct intake_opts *,
		    char **err);
/*
 * Stops the committer (requests in its hands are committed first) and
 * closes.  NULL is a no-op.
 */
void		 intake_free(struct intake *);
/* Any thread: from now on intake_put answers INTAKE_STOPPING. */
void		 intake_stop(struct intake *);

/*
 * Any thread: writes evs[0..n) (borrowed) durably, all or none, with the
 * replay mark replay (NULL: none; e.g. "source/name/signature") stamped
 * at now (ms).  Waits for the commit.  On INTAKE_OK ids[0..n) are the
 * rows, to be named to audit_event_begin when each is decided.
 */
enum intake_result intake_put(struct intake *, const struct event *evs,
		    size_t n, const char *replay, int64_t now, int64_t *ids);
/* Engine thread: n events accepted by intake_put were decided. */
void		 intake_decided(struct intake *, size_t n);
/* Any thread: events accepted and not yet decided. */
size_t		 intake_undecided(struct intake *);
/*
 * Any thread: why the intake cannot write now (owned), or NULL when its
 * last commit worked.
 */
char		*intake_health(struct intake *);

/*
 * Engine thread: calls fn for up to max of the events an earlier run left
 * undecided, oldest first (the event's members are owned by the call;
 * source, name and type live for the call only).  fn decides the event
 * with audit_event_begin(id) ... audit_event_end and intake_decided.
 * Returns how many were given (0: none left), or -1 when the file cannot
 * be read (logged): then none of the page was given, and the next call
 * reads it again from its first row.
 */
long		 intake_recover(struct intake *, size_t max, void (*fn)(
		    void *ctx, int64_t id, struct event *ev), void *ctx);

/*
 * Engine thread: calls fn with the id of each of the newest max events
 * accepted and not yet decided (by any run), oldest first (the id is
 * borrowed for the call), so that a start or a takeover knows them as
 * received (hook_ingress_seed): one sent again is not accepted twice.
 * Returns how many were given, or -1 when the rows cannot be read
 * (logged).  A row that does not read is skipped (intake_recover drops
 * it).
 */
long		 intake_ids(struct intake *, size_t max, void (*fn)(
		    void *ctx, const char *id), void *ctx);

#endif /* INTAKE_H */
