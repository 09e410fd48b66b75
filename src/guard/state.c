/*
 * What the guardrails remember, and the checks that read it.
 *
 * All windows are bounded: a threshold keeps only the latest `count`
 * signal times per key (by the signals' clocks) (enough to answer "count inside within?"), the circuit the
 * last `maxActions` action times, recurrence the last few remediations per
 * trigger.  Times come from the caller's clock; a clock that steps back
 * (out-of-order replay lines) never refills a bucket or shortens a window.
 *
 * Persistence is a journal, not a snapshot: every change marks the entry
 * it touched ("w" + key in the dirty map), and the audit store collects
 * the marked entries after each decision, writing them in the same
 * transaction as the decision record.  The state on disk is then exactly
 * the state that produced the records on disk, whatever moment a crash
 * picks.  Rebuilding the state from the records instead would need the
 * threshold keys (templates, not in the record) and the bucket arithmetic
 * replayed in order; the journal keeps it to a few small rows.
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

struct remediation {
	int64_t	 at;		/* ms */
	char	*target;	/* owned */
	int	 recurred;
};

struct recurrence {		/* ring of a trigger's last remediations */
	struct remediation	*a;	/* owned; cap entries */
	int			 cap, n, head;
};

struct demotion {
	uint64_t	 hash;	/* of the trigger's manifest */
	int64_t		 at;	/* ms */
	double		 ratio;
	int		 actions, recurred;
	int		 anyhash;	/* read from a damaged entry: holds
					   whatever the manifest */
};

/*
 * A cooldown mark.  at comes first: pruning reads it as the entry's time.
 * An action that failed holds a short retry backoff instead of the
 * cooldown (guard_record_failure): retry is when it may run again.
 */
struct cooldown {
	int64_t	 at;		/* ms: the last action, or would-be action */
	int64_t	 retry;		/* ms: the last action failed; 0 it did not */
	int	 failures;	/* in a row, for the backoff's doubling */
};

struct guard_state {
	struct map	 windows;	/* trigger\x1fkey -> struct window */
	struct map	 cooldowns;	/* trigger\x1ftarget -> struct cooldown */
	struct map	 buckets;	/* trigger -> struct bucket */
	struct window	 circuit;	/* recent actions, all triggers */
	struct map	 recurrences;	/* trigger -> struct recurrence */
	struct map	 demotions;	/* trigger -> struct demotion */
	struct map	 dirty;		/* kind letter + key -> (void *)1 */
	int		 tracking;	/* keep dirty marks */
};

/* The entry kinds, by the letter that prefixes their dirty marks. */
static const struct {
	char		 letter;
	const char	*name;
} kinds[] = {
	{ 'w', "window" }, { 'c', "cooldown" }, { 'b', "bucket" },
	{ 'C', "circuit" }, { 'r', "recurrence" }, { 'd', "demotion" },
};

struct guard_state *
guard_state_new(void)
{
	struct guard_state *g = xcalloc(1, sizeof *g);

	map_init(&g->windows);
	map_init(&g->cooldowns);
	map_init(&g->buckets);
	map_init(&g->recurrences);
	map_init(&g->demotions);
	map_init(&g->dirty);
	return g;
}

static void
window_free(void *p)
{
	struct window *w = p;

	if (w == NULL)
		return;
	free(w->t);
	free(w);
}

static void
recurrence_free(void *p)
{
	struct recurrence *r = p;
	int i;

	if (r == NULL)
		return;
	for (i = 0; i < r->cap; i++)	/* unused slots hold NULL */
		free(r->a[i].target);
	free(r->a);
	free(r);
}

void
guard_state_free(struct guard_state *g)
{
	if (g == NULL)
		return;
	map_clear(&g->windows, window_free);
	map_clear(&g->cooldowns, free);
	map_clear(&g->buckets, free);
	map_clear(&g->recurrences, recurrence_free);
	map_clear(&g->demotions, free);
	map_clear(&g->dirty, NULL);
	free(g->circuit.t);
	free(g);
}

static void
mark(struct guard_state *g, char letter, const char *key)
{
	size_t n = strlen(key);
	char stack[256], *k;

	if (!g->tracking)
		return;
	k = n + 2 <= sizeof stack ? stack : xmalloc(n + 2);
	k[0] = letter;
	memcpy(k + 1, key, n + 1);
	map_put(&g->dirty, k, g);	/* any non-NULL value */
	if (k != stack)
		free(k);
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

/*
 * A threshold's push: the window keeps the latest cap signal times, by
 * the signals' own clocks, not the last cap to arrive.  Full, t takes
 * the earliest entry's place, or is not kept when it is the earliest
 * itself.  Returns whether t was kept.
 */
static int
threshold_push(struct window *w, int cap, int64_t t)
{
	int i, min = 0;

	if (w->cap != cap || w->n < w->cap) {
		window_push(w, cap, t);
		return 1;
	}
	for (i = 1; i < w->n; i++)
		if (w->t[i] < w->t[min])
			min = i;
	if (t <= w->t[min])
		return 0;
	w->t[min] = t;		/* the ring's order no longer matters */
	return 1;
}

/*
 * Entries less than within from now, before or after it (a threshold's
 * signals are timed by their own clocks and may arrive out of order).
 */
static int
window_count(const struct window *w, int64_t now, int64_t within)
{
	int i, n = 0;

	for (i = 0; i < w->n; i++)
		if (now - w->t[i] < within && w->t[i] - now < within)
			n++;
	return n;
}

/*
 * The latest time in a window (0 when empty).  Scanned, not read at the
 * head: an approved action's mark moves forward in place.
 */
static int64_t
window_newest(const struct window *w)
{
	int64_t m = 0;
	int i;

	for (i = 0; i < w->n; i++)
		if (w->t[i] > m)
			m = w->t[i];
	return m;
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

	if (signal_time <= 0) {
		snprintf(msg, msglen, "the signal carries no readable "
		    "timestamp: counted as older than maxSignalAge");
		return 0;
	}
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
	/* not kept (earlier than every kept one): counted all the same */
	n = !threshold_push(w, c->threshold_count, now);
	mark(g, 'w', k);
	if (k != stack)
		free(k);
	n += window_count(w, now, c->threshold_within + 1);
	if (n >= c->threshold_count)
		return 1;
	duration_format(c->threshold_within, within, sizeof within);
	snprintf(msg, msglen, "%d of %d signals within %s", n,
	    c->threshold_count, within);
	return 0;
}

/* When (trigger, target) last acted or would have, or NULL. */
static struct cooldown *
cooldown_mark(struct guard_state *g, const char *trigger,
    const char *target)
{
	char stack[256], *k = pair_key(trigger, target, stack, sizeof stack);
	struct cooldown *t = map_get(&g->cooldowns, k);

	if (k != stack)
		free(k);
	return t;
}

int
guard_check_cooldown(struct guard_state *g, const struct guard_config *c,
    const char *trigger, const char *target, int64_t now, char *msg,
    size_t msglen)
{
	const struct cooldown *last = cooldown_mark(g, trigger, target);
	char ago[32], cd[32];

	if (last && last->retry) {
		if (now >= last->retry)
			return 1;
		duration_format(now - last->at, ago, sizeof ago);
		duration_format(last->retry - now, cd, sizeof cd);
		snprintf(msg, msglen, "last action %s ago failed, retry "
		    "allowed in %s", ago, cd);
		return 0;
	}
	if (last == NULL || now - last->at >= c->cooldown)
		return 1;
	duration_format(now - last->at, ago, sizeof ago);
	duration_format(c->cooldown, cd, sizeof cd);
	snprintf(msg, msglen, "last action %s ago, inside the %s cooldown",
	    ago, cd);
	return 0;
}

/* obj's label key (a value of any type), or NULL. */
static json_t *
label_of(json_t *obj, const char *key)
{
	return json_object_get(json_object_get(json_object_get(obj,
	    "metadata"), "labels"), key);
}

/* Label value v carries value (any value when NULL), as a string. */
static int
is_label(json_t *v, const char *value)
{
	if (!json_is_string(v))
		return 0;
	return value == NULL || strcmp(json_string_value(v), value) == 0;
}

/* guard_optin_label's answer for a label value v already looked up. */
static int
optin_of(json_t *obj, json_t *v, const char *value)
{
	if (obj == NULL || v == NULL)
		return 0;
	if (value == NULL || (json_is_string(v) &&
	    strcmp(json_string_value(v), value) == 0))
		return 1;
	return -1;
}

int
guard_optin_label(json_t *obj, const char *key, const char *value)
{
	return optin_of(obj, label_of(obj, key), value);
}

/*
 * The opt-in key present with another value ("false") on obj (v its
 * label's value): a veto, as cluster-autoscaler's and Karpenter's "do
 * not touch" annotations are.  Writes the message and returns 1.
 */
static int
vetoes(const struct guard_config *c, json_t *obj, json_t *v,
    const char *what, char *msg, size_t msglen)
{
	if (optin_of(obj, v, c->optin_value) != -1)
		return 0;
	snprintf(msg, msglen, "the %s opts out: label %s=%s (opt-in wants "
	    "%s)", what, c->optin_key, json_is_string(v) ?
	    json_string_value(v) : "(not a string)", c->optin_value);
	return 1;
}

int
guard_check_optin(const struct guard_config *c, json_t *controller,
    json_t *subject, char *msg, size_t msglen)
{
	json_t *cv, *sv;

	if (c->optin_key == NULL)
		return 1;
	/* each side's label looked up once: a workload's is cold memory */
	cv = label_of(controller, c->optin_key);
	sv = subject != controller ? label_of(subject, c->optin_key) : cv;
	/* a veto on either side wins over "true" on the other */
	if (vetoes(c, controller, cv, "workload", msg, msglen) ||
	    (subject != controller && vetoes(c, subject, sv, "pod", msg,
	    msglen)))
		return 0;
	if ((controller && is_label(cv, c->optin_value)) || (subject &&
	    is_label(sv, c->optin_value)))
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
guard_within_fraction(double part, double whole, double max)
{
	return part / whole <= max;
}

int
guard_check_blast_radius_memory(const struct guard_config *c,
    int64_t bytes, int64_t total, char *msg, size_t msglen)
{
	if (total <= 0 || guard_within_fraction((double)bytes,
	    (double)total, c->max_cluster_impact))
		return 1;
	snprintf(msg, msglen, "would add %.0f MiB of memory requests, %.1f%% "
	    "of the %.0f MiB the cluster's Nodes can allocate, above "
	    "maxClusterImpact %.1f%%", (double)bytes / 1048576.0,
	    100.0 * (double)bytes / (double)total,
	    (double)total / 1048576.0, 100.0 * c->max_cluster_impact);
	return 0;
}

int
guard_check_blast_radius(const struct guard_config *c, long pods,
    long total, char *msg, size_t msglen)
{
	if (pods < 0 && c->max_cluster_impact < 1.0) {
		snprintf(msg, msglen, "cannot tell how many pods the target "
		    "runs (no spec.replicas): counted as above "
		    "maxClusterImpact %.1f%%", 100.0 * c->max_cluster_impact);
		return 0;
	}
	if (total < 0 && pods != 0 && c->max_cluster_impact < 1.0) {
		snprintf(msg, msglen, "the cluster view has not listed its "
		    "pods yet: counted as above maxClusterImpact %.1f%%",
		    100.0 * c->max_cluster_impact);
		return 0;
	}
	if (pods < 0 || total <= 0 || guard_within_fraction((double)pods,
	    (double)total, c->max_cluster_impact))
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

/* The slot of the window holding exactly t, or -1. */
static int
window_find(const struct window *w, int64_t t)
{
	int i;

	for (i = 0; i < w->n; i++)
		if (w->t[i] == t)
			return i;
	return -1;
}

static int
circuit_check(struct guard_state *g, const struct guard_config *c,
    int64_t now, int own, char *msg, size_t msglen)
{
	char within[32];
	int n;

	if (c->circuit_max <= 0)
		return 1;
	n = g->circuit.n ? window_count(&g->circuit, now, c->circuit_within) :
	    0;
	n -= own;
	if (n < c->circuit_max)
		return 1;
	duration_format(c->circuit_within, within, sizeof within);
	snprintf(msg, msglen, "%d actions across all triggers within %s", n,
	    within);
	return 0;
}

int
guard_check_circuit(struct guard_state *g, const struct guard_config *c,
    int64_t now, char *msg, size_t msglen)
{
	return circuit_check(g, c, now, 0, msg, msglen);
}

int
guard_check_circuit_approved(struct guard_state *g,
    const struct guard_config *c, int64_t decided, int64_t now, char *msg,
    size_t msglen)
{
	int own = now - decided < c->circuit_within &&
	    window_find(&g->circuit, decided) >= 0;

	return circuit_check(g, c, now, own, msg, msglen);
}

static const char *
unit_name(int64_t ms)
{
	return ms == 1000 ? "Second" : ms == 60000 ? "Minute" :
	    ms == 3600000 ? "Hour" : "unit";
}

/*
 * The tokens b holds at now: refilled evenly since its last refill, and
 * capped whether or not the clock moved: a bucket loaded or kept from
 * before a reload that lowered requestsPerUnit holds more than the
 * limit, and an action at the same instant (or a replay line from before
 * it) must not spend the old limit's tokens.
 */
static double
bucket_tokens(const struct bucket *b, const struct guard_config *c,
    int64_t now)
{
	double cap = (double)c->rate_per_unit, tokens = b->tokens;

	if (now > b->at)
		tokens += (double)(now - b->at) * cap / (double)c->rate_unit;
	return tokens > cap ? cap : tokens;
}

/*
 * Refilled in steps, a token is the sum of fractions that may fall short
 * of 1.0 by a rounding error (0.9999999999999999 after ten tries 100 ms
 * apart at 1 per Second): it counts as whole.
 */
static int
holds_a_token(double tokens)
{
	return tokens >= 1.0 - 1e-9;
}

int
guard_take_rate_token(struct guard_state *g, const struct guard_config *c,
    const char *trigger, int64_t now, char *msg, size_t msglen)
{
	struct bucket *b = map_get(&g->buckets, trigger);

	if (b == NULL) {
		b = xcalloc(1, sizeof *b);
		b->tokens = (double)c->rate_per_unit;
		b->at = now;
		map_put(&g->buckets, trigger, b);
	}
	b->tokens = bucket_tokens(b, c, now);
	if (now > b->at)
		b->at = now;
	mark(g, 'b', trigger);
	if (holds_a_token(b->tokens)) {
		b->tokens = b->tokens > 1.0 ? b->tokens - 1.0 : 0.0;
		return 1;
	}
	snprintf(msg, msglen, "%lld per %s reached",
	    (long long)c->rate_per_unit, unit_name(c->rate_unit));
	return 0;
}

int
guard_rate_token_left(const struct guard_state *g,
    const struct guard_config *c, const char *trigger, int64_t now)
{
	const struct bucket *b = map_get(&g->buckets, trigger);

	/* a bucket not used yet starts full */
	return b == NULL || holds_a_token(bucket_tokens(b, c, now));
}

static void
guard_record_action_cooldown(struct guard_state *g, const char *trigger,
    const char *target, int64_t now)
{
	char stack[256], *k = pair_key(trigger, target, stack, sizeof stack);
	struct cooldown *t = map_get(&g->cooldowns, k);

	if (t == NULL) {
		t = xcalloc(1, sizeof *t);
		map_put(&g->cooldowns, k, t);
	}
	t->at = now;
	t->retry = 0;		/* a new action: the cooldown holds again */
	mark(g, 'c', k);
	if (k != stack)
		free(k);
}

void
guard_record_action(struct guard_state *g, const char *trigger,
    const char *target, int64_t now)
{
	guard_record_action_cooldown(g, trigger, target, now);
	/* enough history for any maxActions (capped at CONF_ACTIONS_MAX) */
	window_push(&g->circuit, CONF_ACTIONS_MAX, now);
	mark(g, 'C', "");
}

int64_t
guard_last_action(struct guard_state *g, const char *trigger,
    const char *target)
{
	const struct cooldown *t = cooldown_mark(g, trigger, target);

	return t ? t->at : 0;
}

int64_t
guard_retry_backoff(const struct guard_config *c, int failures)
{
	int64_t b = GUARD_RETRY_BACKOFF;

	while (--failures > 0 && b < c->cooldown)
		b *= 2;
	return b < c->cooldown ? b : c->cooldown;
}

void
guard_record_failure(struct guard_state *g, const struct guard_config *c,
    const char *trigger, const char *target, int64_t now)
{
	char stack[256], *k = pair_key(trigger, target, stack, sizeof stack);
	struct cooldown *t = map_get(&g->cooldowns, k);

	if (t == NULL) {	/* pruned meanwhile: the action was at now */
		t = xcalloc(1, sizeof *t);
		t->at = now;
		map_put(&g->cooldowns, k, t);
	}
	if (t->failures < 30)
		t->failures++;
	t->retry = now + guard_retry_backoff(c, t->failures);
	mark(g, 'c', k);
	if (k != stack)
		free(k);
}

void
guard_record_approved_action(struct guard_state *g, const char *trigger,
    const char *target, int64_t decided, int64_t now)
{
	int i = window_find(&g->circuit, decided);

	if (i < 0) {		/* pruned, or another state file */
		guard_record_action(g, trigger, target, now);
		return;
	}
	/* the pending decision's own mark moves: one action, counted once */
	g->circuit.t[i] = now;
	mark(g, 'C', "");
	guard_record_action_cooldown(g, trigger, target, now);
}

/* ---- recurrence and demotion ------------------------------------------ */

static int
recurrence_cap(const struct guard_config *c)
{
	int cap = c->recurrence_min_actions;

	if (cap < GUARD_RECURRENCE_KEEP)
		cap = GUARD_RECURRENCE_KEEP;
	return cap > CONF_ACTIONS_MAX ? CONF_ACTIONS_MAX : cap;
}

/* Appends to the ring, growing or shrinking it to cap (oldest dropped). */
static void
recurrence_push(struct recurrence *r, int cap, int64_t at, const char *target,
    int recurred)
{
	struct remediation *slot;

	if (r->cap != cap) {
		struct remediation *a = xcalloc((size_t)cap, sizeof *a);
		int i, keep = r->n < cap ? r->n : cap, n = 0;

		for (i = r->n - keep; i < r->n; i++) {
			struct remediation *o = &r->a[(r->head - r->n + i +
			    r->cap) % r->cap];

			a[n++] = *o;
			o->target = NULL;
		}
		for (i = 0; i < r->cap; i++)	/* the dropped ones */
			free(r->a[i].target);
		free(r->a);
		r->a = a;
		r->cap = cap;
		r->n = n;
		r->head = n % cap;
	}
	slot = &r->a[r->head];
	if (r->n == r->cap)
		free(slot->target);
	slot->at = at;
	slot->target = xstrdup(target);
	slot->recurred = recurred;
	r->head = (r->head + 1) % r->cap;
	if (r->n < r->cap)
		r->n++;
}

/* The i-th kept remediation, oldest first. */
static struct remediation *
recurrence_at(const struct recurrence *r, int i)
{
	return &r->a[(r->head - r->n + i + r->cap) % r->cap];
}

static void
recurrence_fill(const struct recurrence *r, int64_t action,
    struct guard_recurrence *out)
{
	int i, k = 0;

	for (i = 0; i < r->n; i++)
		k += recurrence_at(r, i)->recurred != 0;
	out->action = action;
	out->actions = r->n;
	out->recurred = k;
	out->ratio = r->n ? (double)k / (double)r->n : 0;
}

void
guard_record_remediation(struct guard_state *g, const struct guard_config *c,
    const char *trigger, const char *target, int64_t now)
{
	struct recurrence *r = map_get(&g->recurrences, trigger);

	if (r == NULL) {
		r = xcalloc(1, sizeof *r);
		map_put(&g->recurrences, trigger, r);
	}
	recurrence_push(r, recurrence_cap(c), now, target, 0);
	mark(g, 'r', trigger);
	guard_record_success(g, trigger, target);
}

void
guard_record_success(struct guard_state *g, const char *trigger,
    const char *target)
{
	struct cooldown *cd = cooldown_mark(g, trigger, target);

	if (cd && cd->failures) {	/* it worked: the failures end */
		char stack[256], *k = pair_key(trigger, target, stack,
		    sizeof stack);

		cd->failures = 0;
		mark(g, 'c', k);
		if (k != stack)
			free(k);
	}
}

int
guard_note_recurrence(struct guard_state *g, const struct guard_config *c,
    const char *trigger, const char *target, int64_t signal_time,
    struct guard_recurrence *out)
{
	struct recurrence *r = map_get(&g->recurrences, trigger);
	struct remediation *m;
	int i;

	if (r == NULL)
		return 0;
	for (i = r->n - 1; i >= 0; i--) {
		m = recurrence_at(r, i);
		if (strcmp(m->target, target) != 0 || m->at >= signal_time)
			continue;
		/* the latest remediation of target before the signal */
		if (m->recurred || signal_time - m->at > c->recurrence_within)
			return 0;
		m->recurred = 1;
		mark(g, 'r', trigger);
		recurrence_fill(r, m->at, out);
		return 1;
	}
	return 0;
}

int
guard_should_demote(const struct guard_config *c,
    const struct guard_recurrence *r)
{
	return r->actions >= c->recurrence_min_actions &&
	    r->ratio > c->recurrence_demote_above;
}

void
guard_demote(struct guard_state *g, const char *trigger, uint64_t hash,
    int64_t now, const struct guard_recurrence *r)
{
	struct demotion *d = map_get(&g->demotions, trigger);

	if (d == NULL) {
		d = xcalloc(1, sizeof *d);
		map_put(&g->demotions, trigger, d);
	}
	d->hash = hash;
	d->at = now;
	d->ratio = r->ratio;
	d->actions = r->actions;
	d->recurred = r->recurred;
	mark(g, 'd', trigger);
}

enum guard_demotion
guard_demoted(struct guard_state *g, const char *trigger, uint64_t hash,
    int64_t *since)
{
	struct demotion *d = map_get(&g->demotions, trigger);

	if (d == NULL)
		return GUARD_NOT_DEMOTED;
	if (d->anyhash) {
		d->hash = hash;
		d->anyhash = 0;
		mark(g, 'd', trigger);
	}
	if (d->hash == hash) {
		if (since)
			*since = d->at;
		return GUARD_DEMOTED;
	}
	/* the manifest changed: a new trigger, judged afresh */
	free(map_del(&g->demotions, trigger));
	recurrence_free(map_del(&g->recurrences, trigger));
	mark(g, 'd', trigger);
	mark(g, 'r', trigger);
	return GUARD_LIFTED;
}

/* ---- persistence ------------------------------------------------------- */

static json_t *
window_json(const struct window *w)
{
	json_t *t = json_array();
	int i;

	for (i = 0; i < w->n; i++)
		json_array_append_new(t, json_integer(w->t[(w->head - w->n +
		    i + w->cap) % w->cap]));
	return json_pack("{s:i, s:o}", "cap", w->cap, "t", t);
}

static json_t *
recurrence_json(const struct recurrence *r)
{
	json_t *a = json_array();
	int i;

	for (i = 0; i < r->n; i++) {
		struct remediation *m = recurrence_at(r, i);

		json_array_append_new(a, json_pack("{s:I, s:s, s:b}", "at",
		    (json_int_t)m->at, "target", m->target, "recurred",
		    m->recurred));
	}
	return json_pack("{s:i, s:o}", "cap", r->cap, "a", a);
}

/* The current value of an entry as JSON (new reference), NULL if gone. */
static json_t *
entry_json(struct guard_state *g, char letter, const char *key)
{
	char hash[17];
	void *v;

	if (letter == 'C')
		return g->circuit.n ? window_json(&g->circuit) : NULL;
	switch (letter) {
	case 'w':
		v = map_get(&g->windows, key);
		return v ? window_json(v) : NULL;
	case 'c':
		if ((v = map_get(&g->cooldowns, key)) == NULL)
			return NULL;
		return ((struct cooldown *)v)->failures ? json_pack("{s:I, "
		    "s:I, s:i}", "at", (json_int_t)((struct cooldown *)v)->at,
		    "retry", (json_int_t)((struct cooldown *)v)->retry,
		    "failures", ((struct cooldown *)v)->failures) :
		    json_pack("{s:I}", "at",
		    (json_int_t)((struct cooldown *)v)->at);
	case 'b':
		if ((v = map_get(&g->buckets, key)) == NULL)
			return NULL;
		return json_pack("{s:f, s:I}", "tokens",
		    ((struct bucket *)v)->tokens, "at",
		    (json_int_t)((struct bucket *)v)->at);
	case 'r':
		v = map_get(&g->recurrences, key);
		return v ? recurrence_json(v) : NULL;
	case 'd':
		if ((v = map_get(&g->demotions, key)) == NULL)
			return NULL;
		util_hex64(hash, ((struct demotion *)v)->hash);
		return json_pack("{s:s, s:I, s:f, s:i, s:i}", "hash", hash,
		    "at", (json_int_t)((struct demotion *)v)->at, "ratio",
		    ((struct demotion *)v)->ratio, "actions",
		    ((struct demotion *)v)->actions, "recurred",
		    ((struct demotion *)v)->recurred);
	}
	return NULL;
}

static const char *
kind_name(char letter)
{
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(kinds); i++)
		if (kinds[i].letter == letter)
			return kinds[i].name;
	return NULL;
}

struct journal {
	struct guard_state	*g;
	char			 letter;	/* for visiting all entries */
	void			(*put)(void *, const char *, const char *,
				    json_t *);
	void			*ctx;
};

static void
put_entry(struct journal *j, char letter, const char *key)
{
	json_t *v = entry_json(j->g, letter, key);

	j->put(j->ctx, kind_name(letter), key, v);
	json_decref(v);
}

static int
visit_dirty(void *ctx, const char *key, void *value)
{
	(void)value;
	put_entry(ctx, key[0], key + 1);
	return 0;
}

static int
visit_live(void *ctx, const char *key, void *value)
{
	struct journal *j = ctx;

	(void)value;
	put_entry(j, j->letter, key);
	return 0;
}

void
guard_state_track(struct guard_state *g)
{
	g->tracking = 1;
}

void
guard_state_journal(struct guard_state *g, int all,
    void (*put)(void *, const char *, const char *, json_t *), void *ctx)
{
	struct journal j = { g, 0, put, ctx };
	const struct {
		char		 letter;
		struct map	*map;
	} maps[] = {
		{ 'w', &g->windows }, { 'c', &g->cooldowns },
		{ 'b', &g->buckets }, { 'r', &g->recurrences },
		{ 'd', &g->demotions },
	};
	size_t i;

	if (!all)
		map_each(&g->dirty, visit_dirty, &j);
	else {
		for (i = 0; i < UTIL_ARRAY_LEN(maps); i++) {
			j.letter = maps[i].letter;
			map_each(maps[i].map, visit_live, &j);
		}
		if (g->circuit.n)
			put_entry(&j, 'C', "");
	}
	map_clear(&g->dirty, NULL);
}

/*
 * Reads {"cap":N,"t":[...]} into a fresh window of N entries, N at most
 * max (of cap entries when cap is not 0); -1 if malformed.
 */
static int
window_load(struct window *w, json_t *v, int cap, int max)
{
	json_t *t = json_object_get(v, "t"), *x;
	json_int_t n = json_integer_value(json_object_get(v, "cap"));
	size_t i;

	if (n < 1 || n > max || !json_is_array(t))
		return -1;
	if (cap == 0)
		cap = (int)n;
	w->t = xcalloc((size_t)cap, sizeof *w->t);
	w->cap = cap;
	json_array_foreach(t, i, x) {
		if (!json_is_integer(x))
			return -1;
		window_push(w, cap, json_integer_value(x));
	}
	return 0;
}

static int
load_window(struct guard_state *g, const char *key, json_t *v)
{
	struct window *w = xcalloc(1, sizeof *w);

	/* a threshold's: its count */
	if (window_load(w, v, 0, CONF_COUNT_MAX) == -1) {
		window_free(w);
		return -1;
	}
	window_free(map_put(&g->windows, key, w));
	return 0;
}

static int
load_circuit(struct guard_state *g, json_t *v)
{
	struct window w;

	memset(&w, 0, sizeof w);
	/* as guard_record_action keeps it */
	if (window_load(&w, v, CONF_ACTIONS_MAX, CONF_ACTIONS_MAX) == -1) {
		free(w.t);
		return -1;
	}
	free(g->circuit.t);
	g->circuit = w;
	return 0;
}

static int
load_time(json_t *v, const char *field, int64_t *out)
{
	json_t *x = json_object_get(v, field);

	if (!json_is_integer(x))
		return -1;
	*out = json_integer_value(x);
	return 0;
}

static int
load_cooldown(struct guard_state *g, const char *key, json_t *v)
{
	int64_t at, retry = 0;
	struct cooldown *t;
	json_t *f = json_object_get(v, "failures");

	if (load_time(v, "at", &at) == -1 || (json_object_get(v, "retry") &&
	    load_time(v, "retry", &retry) == -1) || (f && !json_is_integer(f)))
		return -1;
	t = xcalloc(1, sizeof *t);
	t->at = at;
	t->retry = retry;
	t->failures = f ? (int)json_integer_value(f) : 0;
	free(map_put(&g->cooldowns, key, t));
	return 0;
}

static int
load_bucket(struct guard_state *g, const char *key, json_t *v)
{
	json_t *tok = json_object_get(v, "tokens");
	struct bucket *b;
	int64_t at;

	if (!json_is_number(tok) || load_time(v, "at", &at) == -1 ||
	    json_number_value(tok) < 0)
		return -1;
	b = xcalloc(1, sizeof *b);
	b->tokens = json_number_value(tok);
	b->at = at;
	free(map_put(&g->buckets, key, b));
	return 0;
}

static int
load_recurrence(struct guard_state *g, const char *key, json_t *v)
{
	json_t *a = json_object_get(v, "a"), *x;
	json_int_t cap = json_integer_value(json_object_get(v, "cap"));
	struct recurrence *r;
	int64_t at;
	size_t i;

	if (cap < 1 || cap > CONF_ACTIONS_MAX || !json_is_array(a))
		return -1;
	r = xcalloc(1, sizeof *r);
	json_array_foreach(a, i, x) {
		const char *t = json_string_value(json_object_get(x,
		    "target"));

		if (t == NULL || load_time(x, "at", &at) == -1) {
			recurrence_free(r);
			return -1;
		}
		recurrence_push(r, (int)cap, at, t, json_is_true(
		    json_object_get(x, "recurred")));
	}
	if (r->n == 0) {		/* nothing to remember */
		recurrence_free(r);
		return 0;
	}
	recurrence_free(map_put(&g->recurrences, key, r));
	return 0;
}

static int
load_demotion(struct guard_state *g, const char *key, json_t *v)
{
	const char *h = json_string_value(json_object_get(v, "hash"));
	struct demotion *d;
	unsigned long long hash;
	char *end;
	int64_t at;

	if (h == NULL || strlen(h) != 16 || load_time(v, "at", &at) == -1)
		return -1;
	hash = strtoull(h, &end, 16);
	if (*end != '\0')
		return -1;
	d = xcalloc(1, sizeof *d);
	d->hash = hash;
	d->at = at;
	d->ratio = json_number_value(json_object_get(v, "ratio"));
	d->actions = (int)json_integer_value(json_object_get(v, "actions"));
	d->recurred = (int)json_integer_value(json_object_get(v,
	    "recurred"));
	free(map_put(&g->demotions, key, d));
	return 0;
}

int
guard_state_load_damaged(struct guard_state *g, const char *kind,
    const char *key, int64_t now)
{
	struct bucket *b;
	struct demotion *d;
	struct cooldown *c;
	int i;

	if (kind == NULL || key == NULL)
		return -1;
	if (strcmp(kind, "cooldown") == 0) {
		c = xcalloc(1, sizeof *c);	/* acted just now: a whole
						   cooldown, not a retry */
		c->at = now;
		free(map_put(&g->cooldowns, key, c));
		mark(g, 'c', key);
	} else if (strcmp(kind, "bucket") == 0) {
		b = xcalloc(1, sizeof *b);
		b->at = now;
		free(map_put(&g->buckets, key, b));
		mark(g, 'b', key);
	} else if (strcmp(kind, "circuit") == 0) {
		for (i = 0; i < CONF_ACTIONS_MAX; i++)
			window_push(&g->circuit, CONF_ACTIONS_MAX, now);
		mark(g, 'C', "");
	} else if (strcmp(kind, "demotion") == 0) {
		d = xcalloc(1, sizeof *d);
		d->at = now;
		d->anyhash = 1;
		free(map_put(&g->demotions, key, d));
		mark(g, 'd', key);
	} else if (strcmp(kind, "window") != 0 &&
	    strcmp(kind, "recurrence") != 0)
		return -1;
	return 0;
}

int
guard_state_load(struct guard_state *g, const char *kind, const char *key,
    json_t *value)
{
	if (kind == NULL || key == NULL || !json_is_object(value))
		return -1;
	if (strcmp(kind, "window") == 0)
		return load_window(g, key, value);
	if (strcmp(kind, "cooldown") == 0)
		return load_cooldown(g, key, value);
	if (strcmp(kind, "bucket") == 0)
		return load_bucket(g, key, value);
	if (strcmp(kind, "circuit") == 0)
		return load_circuit(g, value);
	if (strcmp(kind, "recurrence") == 0)
		return load_recurrence(g, key, value);
	if (strcmp(kind, "demotion") == 0)
		return load_demotion(g, key, value);
	return -1;
}

struct prune {
	struct guard_state	*g;
	int64_t			 before;
	char			 letter;
	char			**keys;		/* owned: to remove */
	size_t			 n, cap;
};

static int
stale_entry(struct prune *p, void *v)
{
	struct recurrence *r;

	switch (p->letter) {
	case 'w':
		return window_newest(v) < p->before;
	case 'c':
		return *(int64_t *)v < p->before;
	case 'b':
		return ((struct bucket *)v)->at < p->before;
	case 'r':
		r = v;
		return r->n == 0 || recurrence_at(r, r->n - 1)->at < p->before;
	}
	return 0;
}

static int
collect_stale(void *ctx, const char *key, void *value)
{
	struct prune *p = ctx;

	if (stale_entry(p, value)) {
		xgrow(&p->keys, &p->cap, p->n + 1, sizeof *p->keys);
		p->keys[p->n++] = xstrdup(key);
	}
	return 0;
}

void
guard_state_prune(struct guard_state *g, int64_t before)
{
	const struct {
		char		 letter;
		struct map	*map;
		void		(*free_value)(void *);
	} maps[] = {
		{ 'w', &g->windows, window_free },
		{ 'c', &g->cooldowns, free },
		{ 'b', &g->buckets, free },
		{ 'r', &g->recurrences, recurrence_free },
	};
	struct prune p;
	size_t i, k;

	memset(&p, 0, sizeof p);
	p.g = g;
	p.before = before;
	for (i = 0; i < UTIL_ARRAY_LEN(maps); i++) {
		p.letter = maps[i].letter;
		p.n = 0;
		map_each(maps[i].map, collect_stale, &p);
		for (k = 0; k < p.n; k++) {
			maps[i].free_value(map_del(maps[i].map, p.keys[k]));
			mark(g, p.letter, p.keys[k]);
			free(p.keys[k]);
		}
	}
	free(p.keys);
}
