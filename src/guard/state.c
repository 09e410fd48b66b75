/*
 * What the guardrails remember, and the checks that read it.
 *
 * All windows are bounded: a threshold keeps only the last `count` signal
 * times per key (enough to answer "count inside within?"), the circuit the
 * last `maxActions` action times.  Times come from the caller's clock; a
 * clock that steps back (out-of-order replay lines) never refills a bucket
 * or shortens a window.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard/guard.h"

struct window {			/* ring of the last n times */
	int64_t	*t;		/* owned; cap entries */
	int	 cap, n, head;
};

struct bucket {
	double	 tokens;
	int64_t	 at;		/* ms of the last refill */
};

struct guard_state {
	struct map	 windows;	/* trigger\x1fkey -> struct window */
	struct map	 cooldowns;	/* trigger\x1ftarget -> int64_t ms */
	struct map	 buckets;	/* trigger -> struct bucket */
	struct window	 circuit;	/* recent actions, all triggers */
};

struct guard_state *
guard_state_new(void)
{
	struct guard_state *g = xcalloc(1, sizeof *g);

	map_init(&g->windows);
	map_init(&g->cooldowns);
	map_init(&g->buckets);
	return g;
}

static void
window_free(void *p)
{
	struct window *w = p;

	free(w->t);
	free(w);
}

void
guard_state_free(struct guard_state *g)
{
	if (g == NULL)
		return;
	map_clear(&g->windows, window_free);
	map_clear(&g->cooldowns, free);
	map_clear(&g->buckets, free);
	free(g->circuit.t);
	free(g);
}

static void
window_push(struct window *w, int cap, int64_t t)
{
	if (w->cap != cap) {		/* configuration changed: restart */
		free(w->t);
		w->t = xcalloc((size_t)cap, sizeof *w->t);
		w->cap = cap;
		w->n = w->head = 0;
	}
	w->t[w->head] = t;
	w->head = (w->head + 1) % w->cap;
	if (w->n < w->cap)
		w->n++;
}

static int
window_count(const struct window *w, int64_t now, int64_t within)
{
	int i, n = 0;

	for (i = 0; i < w->n; i++)
		if (now - w->t[i] < within)
			n++;
	return n;
}

static char *
pair_key(const char *a, const char *b, char *stack, size_t len)
{
	size_t la = strlen(a), lb = strlen(b);
	char *k = la + lb + 2 <= len ? stack : xmalloc(la + lb + 2);

	memcpy(k, a, la);
	k[la] = '\x1f';
	memcpy(k + la + 1, b, lb + 1);
	return k;
}

int
guard_check_stale(const struct guard_config *c, int64_t signal_time,
    int64_t now, char *msg, size_t msglen)
{
	char age[32], max[32];

	if (now - signal_time <= c->max_signal_age)
		return 1;
	duration_format(now - signal_time, age, sizeof age);
	duration_format(c->max_signal_age, max, sizeof max);
	snprintf(msg, msglen, "signal is %s old, older than maxSignalAge %s",
	    age, max);
	return 0;
}

int
guard_check_threshold(struct guard_state *g, const struct guard_config *c,
    const char *trigger, const char *key, int64_t now, char *msg,
    size_t msglen)
{
	char stack[256], *k, within[32];
	struct window *w;
	int n;

	if (c->threshold_count <= 1)
		return 1;
	k = pair_key(trigger, key, stack, sizeof stack);
	if ((w = map_get(&g->windows, k)) == NULL) {
		w = xcalloc(1, sizeof *w);
		map_put(&g->windows, k, w);
	}
	if (k != stack)
		free(k);
	window_push(w, c->threshold_count, now);
	n = window_count(w, now, c->threshold_within + 1);
	if (n >= c->threshold_count)
		return 1;
	duration_format(c->threshold_within, within, sizeof within);
	snprintf(msg, msglen, "%d of %d signals within %s", n,
	    c->threshold_count, within);
	return 0;
}

int
guard_check_cooldown(struct guard_state *g, const struct guard_config *c,
    const char *trigger, const char *target, int64_t now, char *msg,
    size_t msglen)
{
	char stack[256], *k, ago[32], cd[32];
	int64_t *last;

	k = pair_key(trigger, target, stack, sizeof stack);
	last = map_get(&g->cooldowns, k);
	if (k != stack)
		free(k);
	if (last == NULL || now - *last >= c->cooldown)
		return 1;
	duration_format(now - *last, ago, sizeof ago);
	duration_format(c->cooldown, cd, sizeof cd);
	snprintf(msg, msglen, "last action %s ago, inside the %s cooldown",
	    ago, cd);
	return 0;
}

static int
has_label(json_t *obj, const char *key, const char *value)
{
	json_t *v = json_object_get(json_object_get(json_object_get(obj,
	    "metadata"), "labels"), key);

	if (!json_is_string(v))
		return 0;
	return value == NULL || strcmp(json_string_value(v), value) == 0;
}

int
guard_check_optin(const struct guard_config *c, json_t *controller,
    json_t *subject, char *msg, size_t msglen)
{
	if (c->optin_key == NULL)
		return 1;
	if ((controller && has_label(controller, c->optin_key,
	    c->optin_value)) || (subject && has_label(subject, c->optin_key,
	    c->optin_value)))
		return 1;
	if (controller == NULL && subject == NULL)
		snprintf(msg, msglen, "target not found in the cluster; "
		    "cannot read its opt-in label %s%s%s", c->optin_key,
		    c->optin_value ? "=" : "",
		    c->optin_value ? c->optin_value : "");
	else
		snprintf(msg, msglen, "target is not opted in: label %s%s%s "
		    "is on neither the workload nor the pod", c->optin_key,
		    c->optin_value ? "=" : "",
		    c->optin_value ? c->optin_value : "");
	return 0;
}

int
guard_check_blast_radius(const struct guard_config *c, long pods,
    long total, char *msg, size_t msglen)
{
	if (total <= 0 || (double)pods <= c->max_cluster_impact *
	    (double)total)
		return 1;
	snprintf(msg, msglen, "would move %ld of %ld pods (%.1f%%), above "
	    "maxClusterImpact %.1f%%", pods, total,
	    100.0 * (double)pods / (double)total,
	    100.0 * c->max_cluster_impact);
	return 0;
}

int
guard_check_budget(const struct guard_config *c, int have, double value,
    int64_t value_time, int64_t now, char *msg, size_t msglen)
{
	char age[32];

	if (c->budget_query == NULL)
		return 1;
	if (!have) {
		snprintf(msg, msglen, "no error-budget value: counted as no "
		    "budget");
		return 0;
	}
	if (now - value_time > c->budget_max_age) {
		duration_format(now - value_time, age, sizeof age);
		snprintf(msg, msglen, "error-budget value is %s old: counted "
		    "as no budget", age);
		return 0;
	}
	if (value >= c->budget_min)
		return 1;
	snprintf(msg, msglen, "error budget %.4g below minimum %.4g", value,
	    c->budget_min);
	return 0;
}

int
guard_check_circuit(struct guard_state *g, const struct guard_config *c,
    int64_t now, char *msg, size_t msglen)
{
	char within[32];
	int n;

	if (c->circuit_max <= 0)
		return 1;
	n = g->circuit.n ? window_count(&g->circuit, now, c->circuit_within) :
	    0;
	if (n < c->circuit_max)
		return 1;
	duration_format(c->circuit_within, within, sizeof within);
	snprintf(msg, msglen, "%d actions across all triggers within %s", n,
	    within);
	return 0;
}

static const char *
unit_name(int64_t ms)
{
	return ms == 1000 ? "Second" : ms == 60000 ? "Minute" :
	    ms == 3600000 ? "Hour" : "unit";
}

int
guard_take_rate_token(struct guard_state *g, const struct guard_config *c,
    const char *trigger, int64_t now, char *msg, size_t msglen)
{
	struct bucket *b = map_get(&g->buckets, trigger);
	double cap = (double)c->rate_per_unit;

	if (b == NULL) {
		b = xcalloc(1, sizeof *b);
		b->tokens = cap;
		b->at = now;
		map_put(&g->buckets, trigger, b);
	} else if (now > b->at) {
		b->tokens += (double)(now - b->at) * cap / (double)c->rate_unit;
		if (b->tokens > cap)
			b->tokens = cap;
		b->at = now;
	}
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		return 1;
	}
	snprintf(msg, msglen, "%lld per %s reached",
	    (long long)c->rate_per_unit, unit_name(c->rate_unit));
	return 0;
}

void
guard_record_action(struct guard_state *g, const char *trigger,
    const char *target, int64_t now)
{
	char stack[256], *k = pair_key(trigger, target, stack, sizeof stack);
	int64_t *t = map_get(&g->cooldowns, k);

	if (t == NULL) {
		t = xmalloc(sizeof *t);
		map_put(&g->cooldowns, k, t);
	}
	*t = now;
	if (k != stack)
		free(k);
	/* the circuit keeps enough history for any maxActions up to 1024 */
	window_push(&g->circuit, g->circuit.cap ? g->circuit.cap : 1024, now);
}
