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

#include <stdint.h>
#include <jansson.h>

struct retry {
	int	 steps;		/* attempts, >= 1 */
	int64_t	 duration_ms;	/* first wait */
	double	 factor;	/* >= 1 */
	double	 jitter;	/* 0..1 */
	int64_t	 cap_ms;	/* longest single wait */
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
/* A uniform random number in [0, 1) for the jitter; thread-safe. */
double	retry_random(void);

#endif /* UTIL_RETRY_H */
