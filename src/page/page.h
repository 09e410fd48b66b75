/*
 * page: pages to Alertmanager (POST /api/v2/alerts) and to a generic
 * webhook, aggregated as DESIGN.md says.
 *
 * Which records page: suppressed for rate-limited, budget, circuit-open
 * or at-cap; failed; demoted; an action whose plan asks for a person
 * ("page": true, quarantine), as reason "quarantined"; at start, an
 * action whose outcome is unknown (page_outcome_unknown).  One page per (sensor, trigger, reason) per
 * window (5 minutes): the first occurrence pages at once, later ones are
 * counted and go out with the next page, at most one per window.  A page
 * resolves (Alertmanager's endsAt) when the condition clears: the trigger
 * decides an action again (acted, dry-run, notified, pending-approval),
 * or a window passes without the condition; a demotion resolves only when
 * the trigger decides without being demoted (its manifest changed).
 *
 * Two halves, two threads.  The aggregation state belongs to the engine
 * thread (page_decision, page_tick, the journal), like the guard state,
 * and is kept in the audit store (audit_attach_pages) so a restart neither
 * repeats a page inside its window nor forgets one that must resolve.
 * Delivery belongs to the pager's own thread: a bounded FIFO per
 * destination, libcurl, retries with doubling backoff.  The engine thread
 * only enqueues; a slow or dead receiver never delays a decision.
 *
 * A page stays due until a receiver accepts it (2xx): it is retried with
 * doubling backoff (capped at retry_max) for as long as it takes, and it
 * is kept in the state file (kind "pageout", written with the record that
 * caused it) until accepted, so a page queued when the process dies is
 * sent after the restart.  remediate_pages_undelivered counts them.  When
 * a destination's in-memory queue is full its oldest page leaves the
 * queue (counted "dropped") but stays in the outbox and is queued again
 * once there is room.
 */
#ifndef PAGE_H
#define PAGE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "record/record.h"

struct page_opts {
	const char	*alertmanager;	/* base URL ("http://am:9093"), or
					   NULL */
	const char	*webhook;	/* URL, or NULL */
	const char	*webhook_token;	/* bearer token, or NULL */
	const char	*generator_url;	/* each alert's generatorURL, or NULL */
	int64_t		 window;	/* ms: one page per trigger and reason
					   per window (5m) */
	size_t		 queue_max;	/* pages waiting per destination */
	int		 attempts;	/* per page and destination; 0: until
					   a receiver accepts it */
	int64_t		 retry_base;	/* ms before the first retry; doubles */
	int64_t		 retry_max;	/* ms: the backoff's cap */
	long		 timeout;	/* ms per HTTP request */
	/*
	 * Logs a line (fields stolen, may be NULL); called from the pager's
	 * thread too.  NULL: JSON lines on stderr.
	 */
	void		(*log)(const char *level, const char *msg,
			    json_t *fields);
};

/*
 * window 5m, queue 256, retries until accepted from 1s doubling to 60s,
 * 5s timeout, no destination.
 */
void	page_opts_defaults(struct page_opts *);

struct page;

/*
 * Starts a pager (strings in opts are copied).  With no destination it
 * still aggregates (the state is kept) but sends nothing.  Returns an
 * owned pager, or NULL with *err (owned) for a bad URL or a thread that
 * cannot start.
 */
struct page	*page_new(const struct page_opts *, char **err);
/*
 * Stops the sender (the request in flight finishes or times out; pages
 * still queued are dropped and counted: call page_flush first to give
 * them time) and frees the pager.  NULL is a no-op.
 */
void		 page_free(struct page *);

/* Engine thread: one decision record (borrowed); may enqueue a page. */
void	page_decision(struct page *, const struct rec_decision_record *);
/*
 * Engine thread, at start: r (borrowed) is an action whose outcome is
 * unknown (a crash during it); pages with reason "outcome-unknown",
 * critical, aggregated per trigger like the others.
 */
void	page_outcome_unknown(struct page *, const struct rec_decision_record *r);
/*
 * Engine thread, every few seconds: resolves conditions quiet for a
 * window, sends the occurrences held back by the one-per-window rule,
 * forgets resolved conditions older than a window.
 */
void	page_tick(struct page *, int64_t now);

/* Any thread: pages waiting or in flight, both destinations. */
size_t	page_queue_depth(struct page *);
/* Engine thread: pages kept in the outbox, not yet accepted. */
size_t	page_undelivered(const struct page *);
/*
 * Any thread: waits until nothing is waiting or in flight, at most
 * timeout_ms.  Returns 0 when drained, -1 on timeout.
 */
int	page_flush(struct page *, int64_t timeout_ms);

/*
 * Persistence, engine thread (the same contract as guard_state_journal):
 * entries of kind "page", key "sensor\x1ftrigger\x1freason", value
 * {"firing":B,"first":ms,"last":ms,"sent":ms,"count":N,"unsent":N,
 * "target":T,"message":M,"demoted":B}; and of kind "pageout", key the
 * page's sequence number (20 digits), value {"dest":D,"body":TEXT}: a
 * page not yet accepted, removed once it is.
 */
void	page_state_journal(struct page *, int all, void (*put)(void *ctx,
	    const char *kind, const char *key, json_t *value), void *ctx);
/*
 * Loads one entry (value borrowed); a "pageout" entry is queued to send.
 * Returns 0, or -1 if not a page entry.
 */
int	page_state_load(struct page *, const char *kind, const char *key,
	    json_t *value);

#endif /* PAGE_H */
