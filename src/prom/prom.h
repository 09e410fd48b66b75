/*
 * prom: Prometheus instant queries.
 *
 * One client for two users: the error-budget gate (guardrails.budget asks
 * for one number and must fail closed) and the `prometheus` event source
 * (runs its query on an interval; src/schedule decides when and which
 * samples become events).
 *
 * prom_query POSTs to URL/api/v1/query with `time` set to the caller's
 * clock, so a replayed or tested clock asks Prometheus about the right
 * instant.  prom_parse reads every answer Prometheus gives: vectors and
 * scalars (values are strings: "0.21", "NaN", "+Inf"), warnings, error
 * bodies ({"status":"error","errorType":"bad_data",...}) with or without
 * an HTTP error status, and anything else as a reported error.
 *
 * Prometheus labels also name workloads (kube-state-metrics' namespace,
 * pod, deployment...); sig_labels_subject (src/signal) turns them into an event's
 * subject, for alert labels and sample labels alike.
 */
#ifndef PROM_H
#define PROM_H

#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>
#include <jansson.h>

#include "signal/event.h"

#define PROM_MAX_RESPONSE	(16u << 20)	/* bytes of one answer */
#define PROM_DEFAULT_TIMEOUT	10000		/* ms */

enum prom_type {
	PROM_VECTOR,
	PROM_SCALAR,
};

struct prom_sample {
	json_t		*metric;	/* owned: labels; {} for scalar */
	double		 value;		/* NaN and +-Inf as sent */
	int64_t		 time;		/* ms: the sample's own timestamp */
};

struct prom_result {
	enum prom_type		 type;
	struct prom_sample	*v;		/* owned */
	size_t			 n;
	char			**warnings;	/* owned strings */
	size_t			 nwarnings;
	int			 partial;	/* had "warnings": Prometheus
						 * could not read every part */
};

/* How far ahead of the clock a sample may be (clock skew), ms. */
#define PROM_MAX_SKEW	60000

/*
 * Runs query at instant now (ms) against the Prometheus at url (base URL,
 * "http://prometheus:9090" or with a path prefix), waiting at most
 * timeout_ms (0: PROM_DEFAULT_TIMEOUT) and reading at most
 * PROM_MAX_RESPONSE bytes; given up within about a second of *cancel
 * becoming non-zero (cancel may be NULL), so a process that stops does not
 * wait out a hung Prometheus.  Thread-safe: each call has its own
 * connection.  Fills *res (cleared first) and returns 0, or returns -1 and
 * sets *err (owned): unreachable, timed out, cancelled, HTTP error,
 * Prometheus error ("bad_data: ..."), unreadable answer.
 */
int	prom_query(const char *url, const char *query, long timeout_ms,
	    int64_t now, const atomic_int *cancel, struct prom_result *res,
	    char **err);

/*
 * Parses one answer of /api/v1/query: body (len bytes, need not be
 * NUL-terminated) received with HTTP status (0 when unknown).  Returns 0
 * with *res filled (owned members; clear with prom_result_clear), or -1
 * with *err (owned).  A range vector (matrix) or string answer is an
 * error: instant queries that feed decisions need instant vectors.
 */
int	prom_parse(const char *body, size_t len, long status,
	    struct prom_result *res, char **err);
void	prom_result_clear(struct prom_result *);

/*
 * The budget gate's reading of an answer, failing closed: the smallest
 * value of all samples (the most conservative one) and its timestamp.
 * Returns 0 with *value and *at (ms), or -1 with *why (static text) when
 * there is no value: no samples ("empty"), any NaN or infinite sample
 * ("not a number"), a sample more than PROM_MAX_SKEW after now ("from
 * the future"), an answer with warnings ("partial answer": a remote
 * store or shard did not answer, so the smallest value may be missing),
 * or a sample older than max_age ms before now ("stale"; max_age 0 skips
 * that check).  The one rule for every budget value: the live query and
 * replay's recordings both go through it.
 */
int	prom_gate_value(const struct prom_result *, int64_t now,
	    int64_t max_age, double *value, int64_t *at, const char **why);

/* ---- conditions: "> 0.5", ">= 1", "== 0", "!= 0", "< 0.25", "<= 2" ---- */

enum prom_op { PROM_GT, PROM_GE, PROM_LT, PROM_LE, PROM_EQ, PROM_NE };

struct prom_cond {
	enum prom_op	 op;
	double		 value;
};

/* Parses a condition; 0, or -1 when it is not one. */
int	prom_cond_parse(const char *, struct prom_cond *);
/* Does v satisfy c?  NaN satisfies nothing (not even "!="). */
int	prom_cond_holds(const struct prom_cond *, double v);
/* Writes the condition back as text ("> 0.5"). */
void	prom_cond_format(const struct prom_cond *, char *out, size_t outlen);


#endif /* PROM_H */
