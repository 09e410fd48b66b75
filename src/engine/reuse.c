/*
 * Outside answers a decision that cannot act may reuse.
 *
 * Two checks ask outside the process: ownership reads the target (and
 * its Argo CD Application) from the API server, and the error budget asks
 * Prometheus.  Both sit before the rate limit, as DESIGN.md orders the
 * checks, so in a storm whose trigger has spent its rate every signal
 * still asked both, one after the other on the engine thread: an
 * incident's signals became a request per signal to an API server that
 * may be the thing in trouble, and every decision behind waited on it.
 *
 * A decision whose rate bucket is empty cannot act, whatever the checks
 * before the rate say; its record only names the first check that stops
 * it.  Such a decision takes an answer up to engine_opts.reuse_ms old,
 * given to an earlier decision, instead of asking again.  A decision that
 * can act always asks, and its answer is the one kept: nothing acts on a
 * reused answer.  Errors are kept too, so a throttled server is not asked
 * once per signal either.  Reused answers are noted in the signal's
 * inputs like fresh ones, so `diff` decides the record as it was.
 *
 * At most REUSE_MAX answers are kept; a full table is emptied, which
 * only costs the next decisions a fresh question each.  Answers too old
 * to reuse are dropped every reuse_ms, so the objects of a storm's
 * targets (tens of KiB each with managedFields) do not stay in memory
 * after it.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "util/util.h"

#define REUSE_MAX	256

struct answer {
	int64_t	 asked;		/* ms: e->now when it was asked */
	int	 rc;		/* the hook's return */
	json_t	*obj;		/* owned: fetch's object, or NULL */
	char	*err;		/* owned: fetch's error, or NULL */
	double	 value;		/* budget's value and its sample time */
	int64_t	 at;
};

static void
answer_free(void *p)
{
	struct answer *a = p;

	json_decref(a->obj);
	free(a->err);
	free(a);
}

void
engine_reuse_clear(struct engine *e)
{
	map_clear(&e->reuse, answer_free);
	map_init(&e->reuse);
	e->stats.reuse_kept = 0;
}

/* Too old to reuse at e->now (a clock that stepped back: age unknown). */
static int
too_old(const struct engine *e, const struct answer *a)
{
	return a->asked > e->now || e->now - a->asked > e->opts.reuse_ms;
}

/* The kept answer under key if it may be reused at e->now, or NULL. */
static const struct answer *
reusable(const struct engine *e, const char *key)
{
	const struct answer *a = map_get(&e->reuse, key);

	return a == NULL || too_old(e, a) ? NULL : a;
}

struct stale {
	const struct engine	*e;
	char			**keys;		/* owned: copies of the keys */
	size_t			  n, cap;
};

static int
note_stale(void *ctx, const char *key, void *value)
{
	struct stale *s = ctx;
	const struct answer *a = value;

	if (too_old(s->e, a)) {
		xgrow(&s->keys, &s->cap, s->n + 1, sizeof *s->keys);
		s->keys[s->n++] = xstrdup(key);
	}
	return 0;
}

void
engine_reuse_sweep(struct engine *e)
{
	struct stale s = { e, NULL, 0, 0 };
	size_t i;

	if (e->reuse.live == 0 || (e->reuse_swept <= e->now && e->now -
	    e->reuse_swept < e->opts.reuse_ms))
		return;
	e->reuse_swept = e->now;
	map_each(&e->reuse, note_stale, &s);
	for (i = 0; i < s.n; i++) {
		answer_free(map_del(&e->reuse, s.keys[i]));
		free(s.keys[i]);
	}
	free(s.keys);
	e->stats.reuse_kept = e->reuse.live;
}

/* Keeps a (owned) under key, replacing what was there. */
static void
keep(struct engine *e, const char *key, struct answer *a)
{
	struct answer *old;

	engine_reuse_sweep(e);
	if (e->reuse.live >= REUSE_MAX && map_get(&e->reuse, key) == NULL)
		engine_reuse_clear(e);
	if ((old = map_put(&e->reuse, key, a)) != NULL)
		answer_free(old);
	e->stats.reuse_kept = e->reuse.live;
}

int
engine_reuse_or_fetch(struct engine *e, int may_reuse, const char *av,
    const char *kind, const char *ns, const char *name, json_t **out,
    char **err)
{
	const struct answer *had;
	struct answer *a;
	char *key;
	int rc;

	if (e->opts.reuse_ms <= 0)
		return e->opts.fetch(e->opts.fetch_ctx, av, kind, ns, name,
		    out, err);
	key = xasprintf("fetch\n%s\n%s\n%s\n%s", av ? av : "", kind,
	    ns ? ns : "", name);
	if (may_reuse && (had = reusable(e, key)) != NULL) {
		free(key);
		e->stats.reused++;
		*out = had->rc == 0 ? json_incref(had->obj) : NULL;
		if (had->rc == -1)
			*err = xstrdup(had->err ? had->err : "unreadable");
		return had->rc;
	}
	*out = NULL;
	rc = e->opts.fetch(e->opts.fetch_ctx, av, kind, ns, name, out, err);
	a = xcalloc(1, sizeof *a);
	a->asked = e->now;
	a->rc = rc;
	a->obj = rc == 0 ? json_incref(*out) : NULL;
	a->err = rc == -1 && *err ? xstrdup(*err) : NULL;
	keep(e, key, a);
	free(key);
	return rc;
}

int
engine_reuse_or_ask_budget(struct engine *e, int may_reuse,
    const char *query, double *value, int64_t *at)
{
	const struct answer *had;
	struct answer *a;
	char *key;
	int rc;

	if (e->opts.reuse_ms <= 0)
		return e->opts.budget(e->opts.budget_ctx, query, e->now,
		    value, at);
	key = xasprintf("budget\n%s", query);
	if (may_reuse && (had = reusable(e, key)) != NULL) {
		free(key);
		e->stats.reused++;
		*value = had->value;
		*at = had->at;
		return had->rc;
	}
	rc = e->opts.budget(e->opts.budget_ctx, query, e->now, value, at);
	a = xcalloc(1, sizeof *a);
	a->asked = e->now;
	a->rc = rc;
	a->value = rc == 0 ? *value : 0;
	a->at = rc == 0 ? *at : 0;
	keep(e, key, a);
	free(key);
	return rc;
}
