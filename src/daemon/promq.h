/*
 * The prometheus sources' queries on a thread of their own (promq.c), so
 * a slow Prometheus never holds a decision.  Not part of the daemon's
 * public surface.
 */
#ifndef DAEMON_PROMQ_H
#define DAEMON_PROMQ_H

#include <stddef.h>
#include <stdint.h>

#include "prom/prom.h"

struct promq;

/*
 * Starts the query thread.  Returns an owned promq, or NULL when the
 * thread cannot start.  promq_free stops it (the query under way is given
 * up within about a second, not waited out to its timeout) and drops what
 * was not collected.
 */
struct promq	*promq_new(void);
void		 promq_free(struct promq *);

/*
 * Engine thread.  promq_ask: query url (strings copied) at now, with
 * timeout_ms; key (copied) names it, busy until its answer is collected.
 * promq_busy: a query under key is asked and not collected yet.
 * promq_in_flight: how many are.
 */
void	promq_ask(struct promq *, const char *key, const char *url,
	    const char *query, long timeout_ms, int64_t now);
int	promq_busy(const struct promq *, const char *key);
size_t	promq_in_flight(const struct promq *);

/*
 * An answer: res (borrowed for the call) or NULL when the query failed
 * (err, borrowed, says why), for the query asked at `asked` under key.
 */
typedef void promq_answer_fn(void *ctx, const char *key, int64_t asked,
	    const struct prom_result *res, const char *err);
/* Engine thread: each answer come since the last call, oldest first. */
void	promq_collect(struct promq *, promq_answer_fn *fn, void *ctx);

#endif /* DAEMON_PROMQ_H */
