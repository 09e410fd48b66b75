/*
 * The error-budget gate's question to Prometheus, asked on the engine
 * thread, held off after a slow failure (budget.c).  Not part of the
 * daemon's public surface.
 */
#ifndef DAEMON_BUDGET_H
#define DAEMON_BUDGET_H

#include <stdint.h>

#define BUDGET_HOLD_FIRST	5000	/* ms: the first hold */
#define BUDGET_HOLD_MAX		60000	/* ms: holds double up to this */
#define BUDGET_SLOW_MS		1000	/* a failure this slow holds */

/* Engine thread only.  All zero: nothing held. */
struct daemon_budget {
	int64_t	 held_until;	/* monotonic ms; 0: not held */
	int64_t	 next_hold;	/* ms: the next hold's length; 0: first */
	char	 why[192];	/* the slow failure that holds, said */
};

/*
 * The budget value of query at now (ms) from the Prometheus at url,
 * waiting at most timeout_ms: 0 with *value and *at (the sample's time),
 * or -1 when there is none (the gate then fails closed), logged with
 * why.  While held, -1 at once without asking.
 */
int	daemon_budget_ask(struct daemon_budget *, const char *url,
	    long timeout_ms, const char *query, int64_t now, double *value,
	    int64_t *at);

/*
 * What daemon_budget_ask does with each question's end, apart for the
 * tests: one that failed after took_ms >= BUDGET_SLOW_MS, or half its
 * timeout_ms, holds from mono_now (monotonic ms) for the next hold's
 * length, which then doubles, saying why (copied); any other (an answer,
 * or a failure that came fast: Prometheus is there) ends the holds.
 * Returns the hold begun (ms), else 0.
 */
int64_t	daemon_budget_note(struct daemon_budget *, int failed,
	    int64_t took_ms, long timeout_ms, int64_t mono_now,
	    const char *why);
/* Held at mono_now: the ms left, else 0. */
int64_t	daemon_budget_held(const struct daemon_budget *, int64_t mono_now);

#endif /* DAEMON_BUDGET_H */
