/*
 * Retry policy: Argo Events' retryStrategy is k8s.io/apimachinery's
 * wait.Backoff (steps, duration, factor, jitter); we add a cap so a large
 * factor cannot park an action for hours.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/retry.h"
#include "util/util.h"

void
retry_default(struct retry *r)
{
	r->steps = 5;
	r->duration_ms = 500;
	r->factor = 2.0;
	r->jitter = 0.2;
	r->cap_ms = 30000;
	r->after_capped = 0;
}

/* Argo's Amount: a JSON number, or a string holding one. */
static int
amount(const json_t *v, double *out)
{
	const char *s;
	char *end;

	if (json_is_number(v)) {
		*out = json_number_value(v);
		return 0;
	}
	if ((s = json_string_value(v)) == NULL || *s == '\0')
		return -1;
	*out = strtod(s, &end);
	return *end == '\0' && isfinite(*out) ? 0 : -1;
}

int
retry_from_json(const json_t *o, struct retry *r, char **err)
{
	const json_t *v;
	double d;
	int64_t ms;

	*err = NULL;
	if (o == NULL || json_is_null(o))
		return 0;
	if (!json_is_object(o)) {
		*err = xstrdup("retryStrategy is not an object");
		return -1;
	}
	if ((v = json_object_get(o, "steps")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 100) {
			*err = xstrdup("retryStrategy.steps must be 1..100");
			return -1;
		}
		r->steps = (int)json_integer_value(v);
	}
	if ((v = json_object_get(o, "duration")) != NULL) {
		if (json_is_integer(v) && json_integer_value(v) >= 0)
			/* Int64OrString: an integer is nanoseconds */
			ms = json_integer_value(v) / 1000000;
		else if (!json_is_string(v) ||
		    duration_parse(json_string_value(v), &ms) < 0 || ms < 0) {
			*err = xstrdup("retryStrategy.duration is not a "
			    "duration (\"1s\") nor nanoseconds");
			return -1;
		}
		r->duration_ms = ms;
	}
	if ((v = json_object_get(o, "factor")) != NULL) {
		if (amount(v, &d) < 0 || d < 1.0 || d > 100.0) {
			*err = xstrdup("retryStrategy.factor must be a number "
			    "from 1 to 100");
			return -1;
		}
		r->factor = d;
	}
	if ((v = json_object_get(o, "jitter")) != NULL) {
		if (amount(v, &d) < 0 || d < 0.0 || d > 1.0) {
			*err = xstrdup("retryStrategy.jitter must be a number "
			    "from 0 to 1");
			return -1;
		}
		r->jitter = d;
	}
	return 0;
}

int64_t
retry_delay(const struct retry *r, int n, double rnd)
{
	double d = (double)r->duration_ms;
	int i;

	if (n < 2)
		return 0;
	for (i = 2; i < n && d < (double)r->cap_ms; i++)
		d *= r->factor;
	if (r->jitter > 0)
		d += d * r->jitter * rnd;
	if (r->cap_ms > 0 && d > (double)r->cap_ms)
		d = (double)r->cap_ms;
	return (int64_t)d;
}

double
retry_random(void)
{
	static _Thread_local uint64_t s;

	if (s == 0) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		s = util_hash(&ts, sizeof ts, (uint64_t)(uintptr_t)&s) | 1;
	}
	/* xorshift64*: enough for jitter */
	s ^= s >> 12;
	s ^= s << 25;
	s ^= s >> 27;
	return (double)((s * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

/* retry_gate_on's, per thread: a worker's gate is its action's alone */
static _Thread_local retry_gate_fn *gate_fn;
static _Thread_local void *gate_ctx;

void
retry_gate_on(retry_gate_fn *fn, void *ctx)
{
	gate_fn = fn;
	gate_ctx = fn ? ctx : NULL;
}

const char *
retry_gate_closed(void)
{
	return gate_fn ? gate_fn(gate_ctx) : NULL;
}

char *
retry_refusal(const char *why, int n, const char *last)
{
	if (n > 1 && last)
		return xasprintf("not sent: %s (attempt %d; attempt %d: %s)",
		    why, n, n - 1, last);
	return xasprintf("not sent: %s", why);
}

int64_t
retry_honour_after(int64_t delay, int retry_after_s, int64_t cap_ms)
{
	int64_t ms = (int64_t)retry_after_s * 1000;

	if (ms > cap_ms)
		ms = cap_ms;
	return ms > delay ? ms : delay;
}

int
retry_wait(int64_t ms, atomic_int *stop)
{
	int64_t end = clock_monotonic_ms() + ms, left;
	struct timespec ts;

	while ((left = end - clock_monotonic_ms()) > 0) {
		if ((stop && atomic_load(stop)) || retry_gate_closed())
			return -1;
		/* look again every 50 ms while anything can end the wait */
		if ((stop || gate_fn) && left > 50)
			left = 50;
		ts.tv_sec = (time_t)(left / 1000);
		ts.tv_nsec = (long)(left % 1000) * 1000000L;
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
	}
	return 0;
}
