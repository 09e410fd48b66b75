/*
 * The prometheus sources' edges, kept across processes (schedule.h says
 * what and why).
 *
 * Persistence is a journal, as the guard state's: every change of an
 * entry marks it, and the state store asks for the marked entries with
 * its next transaction, which is the one recording the decision of the
 * event the crossing emitted (poll.c hands the crossing over before the
 * event).  An entry exists only while its series is over the line, so
 * the rows are bounded by the series over the line, and a re-arm, a
 * series gone from the answer, or a source removed or changed deletes
 * them.
 *
 * Keys are "eventsource \x1f name \x1f labels": \x1f is a character no
 * Kubernetes name holds and compact JSON writes escaped, so the parts
 * split back without ambiguity.
 */
#include <stdlib.h>
#include <string.h>

#include "schedule/source_int.h"

struct edge {
	uint64_t	 ident;		/* the source's identity */
	int64_t		 last;		/* ms: last emitted */
};

struct sched_edges {
	struct map	 entries;	/* key -> struct edge */
	struct map	 dirty;		/* key -> (void *)1: to write */
};

struct sched_edges *
sched_edges_new(void)
{
	struct sched_edges *e = xcalloc(1, sizeof *e);

	map_init(&e->entries);
	map_init(&e->dirty);
	return e;
}

void
sched_edges_clear(struct sched_edges *e)
{
	map_clear(&e->entries, free);
	map_clear(&e->dirty, NULL);
}

void
sched_edges_free(struct sched_edges *e)
{
	if (e == NULL)
		return;
	sched_edges_clear(e);
	free(e);
}

size_t
sched_edges_count(const struct sched_edges *e)
{
	return e->entries.live;
}

size_t
sched_edges_marked(const struct sched_edges *e)
{
	return e->dirty.live;
}

/* The key of series labels of s (owned). */
static char *
edge_key(const struct sched_source *s, const char *labels)
{
	return xasprintf("%s\x1f%s\x1f%s", s->eventsource, s->name, labels);
}

static void
mark(struct sched_edges *e, const char *key)
{
	map_put(&e->dirty, key, (void *)1);
}

void
sched_edge_keep(struct sched_source *s, const char *labels, int64_t last)
{
	struct edge *g;
	char *key;

	if (s->edges == NULL)
		return;
	key = edge_key(s, labels);
	if ((g = map_get(&s->edges->entries, key)) == NULL) {
		g = xcalloc(1, sizeof *g);
		map_put(&s->edges->entries, key, g);
	}
	g->ident = s->ident;
	g->last = last;
	mark(s->edges, key);
	free(key);
}

void
sched_edge_forget(struct sched_source *s, const char *labels)
{
	char *key;

	if (s->edges == NULL)
		return;
	key = edge_key(s, labels);
	free(map_del(&s->edges->entries, key));
	mark(s->edges, key);
	free(key);
}

/* ---- journal and load ---------------------------------------------------- */

struct journal {
	struct sched_edges	*e;
	void			(*put)(void *, const char *, const char *,
				    json_t *);
	void			*ctx;
};

static int
put_entry(void *ctx, const char *key, void *value)
{
	struct journal *j = ctx;
	struct edge *g = map_get(&j->e->entries, key);
	char hex[17];
	json_t *v = NULL;

	(void)value;
	if (g != NULL) {
		util_hex64(hex, g->ident);
		v = json_pack("{s:s, s:I}", "source", hex, "last",
		    (json_int_t)g->last);
	}
	j->put(j->ctx, SCHED_EDGE_KIND, key, v);
	json_decref(v);
	return 0;
}

void
sched_edges_journal(struct sched_edges *e, int all,
    void (*put)(void *, const char *, const char *, json_t *), void *ctx)
{
	struct journal j = { e, put, ctx };

	map_each(all ? &e->entries : &e->dirty, put_entry, &j);
	map_clear(&e->dirty, NULL);
}

/* The part of key after its second \x1f (the labels), or NULL. */
static const char *
key_labels(const char *key)
{
	const char *p = strchr(key, '\x1f');

	if (p == NULL || (p = strchr(p + 1, '\x1f')) == NULL || p[1] != '{')
		return NULL;
	return p + 1;
}

static int
read_ident(json_t *v, uint64_t *out)
{
	const char *h = json_string_value(v);
	uint64_t x = 0;
	int i, d;

	if (h == NULL || strlen(h) != 16)
		return -1;
	for (i = 0; i < 16; i++) {
		if ((d = util_hex_digit(h[i])) < 0)
			return -1;
		x = x << 4 | (uint64_t)d;
	}
	*out = x;
	return 0;
}

int
sched_edges_load(struct sched_edges *e, const char *kind, const char *key,
    json_t *value)
{
	json_t *last = json_object_get(value, "last");
	struct edge g, *kept;

	if (kind == NULL || strcmp(kind, SCHED_EDGE_KIND) != 0)
		return -1;
	if (key == NULL)
		return -1;
	if (key_labels(key) == NULL || read_ident(json_object_get(value,
	    "source"), &g.ident) == -1 || !json_is_integer(last)) {
		free(map_del(&e->entries, key));
		mark(e, key);	/* not in entries: the row goes */
		return -1;
	}
	g.last = json_integer_value(last);
	kept = xcalloc(1, sizeof *kept);
	*kept = g;
	free(map_put(&e->entries, key, kept));
	return 0;
}

/* ---- binding a set ------------------------------------------------------- */

/* The sources of one eventsource and name (several: other namespaces). */
struct named {
	struct sched_source	**v;		/* owned array */
	size_t			  n, cap;
};

static void
named_free(void *v)
{
	struct named *nm = v;

	free(nm->v);
	free(nm);
}

struct recall {
	struct map		 by_name;	/* es \x1f name -> named */
	char			**gone;		/* owned: keys no source
						   owns */
	size_t			  n, cap;
};

static int
recall_entry(void *ctx, const char *key, void *value)
{
	struct recall *r = ctx;
	const struct edge *g = value;
	const char *labels = key_labels(key);
	struct named *nm = NULL;
	char *name;
	size_t i;
	int owned = 0;

	if (labels != NULL) {
		name = xstrndup(key, (size_t)(labels - 1 - key));
		nm = map_get(&r->by_name, name);
		free(name);
	}
	for (i = 0; nm != NULL && i < nm->n; i++)
		if (nm->v[i]->ident == g->ident) {
			sched_prom_seed(nm->v[i], labels, g->last);
			owned = 1;
		}
	if (!owned) {
		xgrow(&r->gone, &r->cap, r->n + 1, sizeof *r->gone);
		r->gone[r->n++] = xstrdup(key);
	}
	return 0;
}

void
sched_set_recall(struct sched_set *set, struct sched_edges *e)
{
	struct recall r;
	struct sched_source *s;
	struct named *nm;
	char *name;
	size_t i;

	memset(&r, 0, sizeof r);
	map_init(&r.by_name);
	for (i = 0; i < set->n; i++) {
		s = set->v[i];
		if (s->kind != SCHED_PROMETHEUS)
			continue;
		s->edges = e;
		if (e == NULL || !s->has_cond)
			continue;
		/* what the store says, not what an earlier term of ours saw */
		sched_prom_clear(s);
		name = xasprintf("%s\x1f%s", s->eventsource, s->name);
		if ((nm = map_get(&r.by_name, name)) == NULL) {
			nm = xcalloc(1, sizeof *nm);
			map_put(&r.by_name, name, nm);
		}
		free(name);
		xgrow(&nm->v, &nm->cap, nm->n + 1, sizeof *nm->v);
		nm->v[nm->n++] = s;
	}
	if (e != NULL)
		map_each(&e->entries, recall_entry, &r);
	for (i = 0; i < r.n; i++) {
		free(map_del(&e->entries, r.gone[i]));
		mark(e, r.gone[i]);
		free(r.gone[i]);
	}
	free(r.gone);
	map_clear(&r.by_name, named_free);
}
