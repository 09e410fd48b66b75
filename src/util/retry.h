/*
 * retry: Argo Events' retryStrategy, the policy of an action that may be
 * tried again (the Kubernetes client's requests, an http trigger).
 *
 * It is a k8s.io/apimachinery wait.Backoff: the n-th retry waits
 * duration * factor^(n-1), plus up to jitter times that, never longer
 * than cap_ms (our addition, so a large factor cannot park an action for
 * hours); Retry-After from a server wins when longer.  steps counts every
 * attempt, the first included.
 */
#ifndef UTIL_RETRY_H
#define UTIL_RETRY_H

#include <stdatomic.h>
#include <stdint.h>
#include <jansson.h>

struct retry {
	int	 steps;		/* attempts, >= 1 */
	int64_t	 duration_ms;	/* first wait */
	double	 factor;	/* >= 1 */
	double	 jitter;	/* 0..1 */
	int64_t	 cap_ms;	/* longest single wait */
	int	 after_capped;	/* 1: a Retry-After longer than cap_ms
				   fails the request instead of waiting (a
				   thread others wait on) */
};

/* The client's default: 5 attempts, 500ms, x2, jitter 0.2, cap 30s. */
void	retry_default(struct retry *);
/*
 * Reads Argo's retryStrategy JSON ({steps, duration: "1s" or nanoseconds,
 * factor, jitter}); missing members keep r's values.  Returns 0, or -1
 * with *err (owned) for a malformed member.
 */
int	retry_from_json(const json_t *, struct retry *r, char **err);
/* The wait before attempt n (2 = first retry); rnd in [0,1). */
int64_t	retry_delay(const struct retry *, int n, double rnd);
/*
 * delay (ms), or what a server's Retry-After asked (seconds; negative:
 * it asked nothing) when that is longer, at most cap_ms of it: a server
 * that said when to come back is not asked sooner.
 */
int64_t	retry_honour_after(int64_t delay, int retry_after_s, int64_t cap_ms);
/* A uniform random number in [0, 1) for the jitter; thread-safe. */
double	retry_random(void);

/*
 * The gate: may an attempt be sent now?  Whoever runs an action sets one
 * for its thread, and every sender that retries (the Kubernetes client,
 * the http trigger) asks it before each attempt, the first included, and
 * while it waits between attempts.  A wait then ends as soon as the gate
 * closes, and the next attempt is not sent: a retry sent after the
 * caller lost the right to act would be acted on all the same.  The
 * senders learn only a reason, never why: the daemon's gate is the
 * leader's fence.
 *
 * fn(ctx) answers NULL to let an attempt go, or a static reason to refuse
 * it ("this replica stopped leading"); it is called often (every 50 ms of
 * a wait), from the thread that set it, so it must be cheap.
 */
typedef const char *retry_gate_fn(void *ctx);
/* This thread's gate from now on (fn NULL: none, every attempt goes). */
void	retry_gate_on(retry_gate_fn *fn, void *ctx);
/* NULL when this thread may send now (no gate, or it is open), else the
   gate's reason (static). */
const char *retry_gate_closed(void);
/*
 * What a sender says of attempt n its gate refused (owned): "not sent:
 * WHY", and for a retry whose attempt before was answered last (may be
 * NULL: nothing to tell) "not sent: WHY (attempt N; attempt N-1: LAST)":
 * a 5xx or a timeout before it may have been carried out after all.
 */
char	*retry_refusal(const char *why, int n, const char *last);
/*
 * Waits ms before a retry.  Ends early, returning -1, when this thread's
 * gate closes or *stop (may be NULL) becomes non-zero; 0 after the whole
 * wait.
 */
int	retry_wait(int64_t ms, atomic_int *stop);

#endif /* UTIL_RETRY_H */
