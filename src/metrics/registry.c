/*
 * The registry and the text exposition format.
 *
 * A mutex rather than atomics: a series is found by its label values in a
 * hash map, and a map lookup cannot be made lock-free cheaply; an
 * uncontended mutex costs about what two atomic operations do, and the
 * only long holder is a scrape, which renders a few kilobytes.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"
#include "metrics/metrics_int.h"
#include "util/util.h"

#define FAMILY_MAGIC	0x6d657472u	/* "metr" */

struct series {
	char		**values;	/* owned, one per label */
	double		  value;	/* counter, gauge */
	uint64_t	 *counts;	/* owned: histogram, per bound + Inf */
	double		  sum;
	uint64_t	  count;
};

struct metrics_family {
	unsigned	  magic;
	enum metrics_type type;
	char		 *name;		/* owned */
	char		 *help;		/* owned */
	char		**labels;	/* owned */
	size_t		  nlabels;
	double		 *bounds;	/* owned */
	size_t		  nbounds;
	struct map	  series;	/* joined values -> struct series */
	size_t		  nseries;
	uint64_t	  dropped;	/* updates past METRICS_MAX_SERIES */
};

static struct {
	pthread_mutex_t		  mu;
	struct metrics_family	**v;	/* owned, registration order */
	size_t			  n, cap;
} reg = { PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0 };

static void
check_family(const struct metrics_family *f)
{
	if (f == NULL || f->magic != FAMILY_MAGIC) {
		fprintf(stderr, "metrics: not a metrics family\n");
		abort();
	}
}

static void
series_free(void *p)
{
	struct series *s = p;
	char **v;

	if (s == NULL)
		return;
	for (v = s->values; v && *v; v++)
		free(*v);
	free(s->values);
	free(s->counts);
	free(s);
}

static int
same_family(const struct metrics_family *f, enum metrics_type type,
    const char *const *labels, const double *bounds, size_t nbounds)
{
	size_t i;

	if (f->type != type || f->nbounds != nbounds)
		return 0;
	for (i = 0; i < f->nlabels; i++)
		if (labels == NULL || labels[i] == NULL ||
		    strcmp(labels[i], f->labels[i]) != 0)
			return 0;
	if (labels && labels[f->nlabels] != NULL)
		return 0;
	for (i = 0; i < nbounds; i++)
		if (bounds[i] != f->bounds[i])
			return 0;
	return 1;
}

static struct metrics_family *
family_new(enum metrics_type type, const char *name, const char *help,
    const char *const *labels, const double *bounds, size_t nbounds)
{
	struct metrics_family *f = xcalloc(1, sizeof *f);
	size_t i;

	f->magic = FAMILY_MAGIC;
	f->type = type;
	f->name = xstrdup(name);
	f->help = xstrdup(help ? help : "");
	while (labels && labels[f->nlabels])
		f->nlabels++;
	f->labels = xcalloc(f->nlabels + 1, sizeof *f->labels);
	for (i = 0; i < f->nlabels; i++)
		f->labels[i] = xstrdup(labels[i]);
	if (type == METRICS_HISTOGRAM && nbounds) {
		f->bounds = xcalloc(nbounds, sizeof *f->bounds);
		memcpy(f->bounds, bounds, nbounds * sizeof *bounds);
		f->nbounds = nbounds;
	}
	map_init(&f->series);
	return f;
}

struct metrics_family *
metrics_family(enum metrics_type type, const char *name, const char *help,
    const char *const *labels, const double *bounds, size_t nbounds)
{
	struct metrics_family *f = NULL;
	size_t i;

	if (type != METRICS_HISTOGRAM)
		nbounds = 0;
	pthread_mutex_lock(&reg.mu);
	for (i = 0; i < reg.n; i++)
		if (strcmp(reg.v[i]->name, name) == 0) {
			f = reg.v[i];
			break;
		}
	if (f && !same_family(f, type, labels, bounds, nbounds)) {
		fprintf(stderr, "metrics: %s registered twice, differently\n",
		    name);
		abort();
	}
	if (f == NULL) {
		f = family_new(type, name, help, labels, bounds, nbounds);
		xgrow(&reg.v, &reg.cap, reg.n + 1, sizeof *reg.v);
		reg.v[reg.n++] = f;
	}
	pthread_mutex_unlock(&reg.mu);
	return f;
}

/* Label values joined with \x1f: the series' key.  Owned. */
static char *
series_key(const struct metrics_family *f, const char *const *values)
{
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; i < f->nlabels; i++) {
		if (i)
			buf_addc(&b, '\x1f');
		buf_adds(&b, values && values[i] ? values[i] : "");
	}
	return buf_steal(&b);
}

/* The series for values, created if new; NULL past the cap.  Locked. */
static struct series *
series_get(struct metrics_family *f, const char *const *values, int create)
{
	char *key = series_key(f, values);
	struct series *s = map_get(&f->series, key);
	size_t i;

	if (s == NULL && create) {
		if (f->nseries >= METRICS_MAX_SERIES) {
			f->dropped++;
			free(key);
			return NULL;
		}
		s = xcalloc(1, sizeof *s);
		s->values = xcalloc(f->nlabels + 1, sizeof *s->values);
		for (i = 0; i < f->nlabels; i++)
			s->values[i] = xstrdup(values && values[i] ?
			    values[i] : "");
		if (f->type == METRICS_HISTOGRAM)
			s->counts = xcalloc(f->nbounds + 1,
			    sizeof *s->counts);
		map_put(&f->series, key, s);
		f->nseries++;
	}
	free(key);
	return s;
}

void
metrics_add(struct metrics_family *f, const char *const *values, double v)
{
	struct series *s;

	check_family(f);
	if (f->type == METRICS_HISTOGRAM || (f->type == METRICS_COUNTER &&
	    !(v >= 0)))
		return;
	pthread_mutex_lock(&reg.mu);
	if ((s = series_get(f, values, 1)) != NULL)
		s->value += v;
	pthread_mutex_unlock(&reg.mu);
}

void
metrics_set(struct metrics_family *f, const char *const *values, double v)
{
	struct series *s;

	check_family(f);
	if (f->type == METRICS_HISTOGRAM)
		return;
	pthread_mutex_lock(&reg.mu);
	if ((s = series_get(f, values, 1)) != NULL)
		s->value = v;
	pthread_mutex_unlock(&reg.mu);
}

void
metrics_observe(struct metrics_family *f, const char *const *values,
    double v)
{
	struct series *s;
	size_t i;

	check_family(f);
	if (f->type != METRICS_HISTOGRAM || isnan(v))
		return;
	pthread_mutex_lock(&reg.mu);
	if ((s = series_get(f, values, 1)) != NULL) {
		for (i = 0; i < f->nbounds && v > f->bounds[i]; i++)
			;
		s->counts[i]++;		/* cumulated when rendered */
		s->sum += v;
		s->count++;
	}
	pthread_mutex_unlock(&reg.mu);
}

double
metrics_get(struct metrics_family *f, const char *const *values)
{
	struct series *s;
	double v = 0;

	check_family(f);
	pthread_mutex_lock(&reg.mu);
	if ((s = series_get(f, values, 0)) != NULL)
		v = f->type == METRICS_HISTOGRAM ? (double)s->count : s->value;
	pthread_mutex_unlock(&reg.mu);
	return v;
}

/* ---- rendering ---------------------------------------------------------- */

static void
add_number(struct buf *b, double v)
{
	if (isnan(v))
		buf_adds(b, "NaN");
	else if (isinf(v))
		buf_adds(b, v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 9007199254740992.0)
		buf_printf(b, "%.0f", v);
	else
		buf_printf(b, "%.17g", v);
}

/* HELP text escapes backslash and newline; label values also '"'. */
static void
add_escaped(struct buf *b, const char *s, int quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			buf_adds(b, "\\\\");
		else if (*s == '\n')
			buf_adds(b, "\\n");
		else if (*s == '"' && quote)
			buf_adds(b, "\\\"");
		else
			buf_addc(b, *s);
	}
}

/* {a="x",b="y"} plus an optional le; nothing when there are no labels. */
static void
add_labels(struct buf *b, const struct metrics_family *f,
    const struct series *s, const char *le)
{
	size_t i;

	if (f->nlabels == 0 && le == NULL)
		return;
	buf_addc(b, '{');
	for (i = 0; i < f->nlabels; i++) {
		buf_printf(b, "%s%s=\"", i ? "," : "", f->labels[i]);
		add_escaped(b, s->values[i], 1);
		buf_addc(b, '"');
	}
	if (le)
		buf_printf(b, "%sle=\"%s\"", f->nlabels ? "," : "", le);
	buf_addc(b, '}');
}

static void
render_histogram(struct buf *b, const struct metrics_family *f,
    const struct series *s)
{
	char le[64];
	uint64_t cum = 0;
	size_t i;

	for (i = 0; i <= f->nbounds; i++) {
		cum += s->counts[i];
		if (i < f->nbounds)
			snprintf(le, sizeof le, "%.17g", f->bounds[i]);
		else
			snprintf(le, sizeof le, "+Inf");
		buf_printf(b, "%s_bucket", f->name);
		add_labels(b, f, s, le);
		buf_printf(b, " %llu\n", (unsigned long long)cum);
	}
	buf_printf(b, "%s_sum", f->name);
	add_labels(b, f, s, NULL);
	buf_addc(b, ' ');
	add_number(b, s->sum);
	buf_printf(b, "\n%s_count", f->name);
	add_labels(b, f, s, NULL);
	buf_printf(b, " %llu\n", (unsigned long long)s->count);
}

struct collect {
	struct series	**v;
	size_t		  n, cap;
	size_t		  nlabels;
};

static int
collect_series(void *ctx, const char *key, void *value)
{
	struct collect *c = ctx;

	(void)key;
	xgrow(&c->v, &c->cap, c->n + 1, sizeof *c->v);
	c->v[c->n++] = value;
	return 0;
}

static size_t sort_nlabels;	/* qsort has no context; under reg.mu */

static int
series_cmp(const void *a, const void *b)
{
	const struct series *x = *(struct series *const *)a;
	const struct series *y = *(struct series *const *)b;
	size_t i;
	int c;

	for (i = 0; i < sort_nlabels; i++)
		if ((c = strcmp(x->values[i], y->values[i])) != 0)
			return c;
	return 0;
}

static void
render_family(struct buf *b, const struct metrics_family *f)
{
	static const char *const type_names[] = { "counter", "gauge",
	    "histogram" };
	struct collect c;
	size_t i;

	buf_printf(b, "# HELP %s ", f->name);
	add_escaped(b, f->help, 0);
	buf_printf(b, "\n# TYPE %s %s\n", f->name, type_names[f->type]);
	memset(&c, 0, sizeof c);
	map_each(&f->series, collect_series, &c);
	sort_nlabels = f->nlabels;
	if (c.n > 1)
		qsort(c.v, c.n, sizeof *c.v, series_cmp);
	for (i = 0; i < c.n; i++) {
		if (f->type == METRICS_HISTOGRAM) {
			render_histogram(b, f, c.v[i]);
			continue;
		}
		buf_adds(b, f->name);
		add_labels(b, f, c.v[i], NULL);
		buf_addc(b, ' ');
		add_number(b, c.v[i]->value);
		buf_addc(b, '\n');
	}
	free(c.v);
}

char *
metrics_render(void)
{
	struct buf b;
	uint64_t dropped = 0;
	size_t i;

	buf_init(&b, 0);
	pthread_mutex_lock(&reg.mu);
	for (i = 0; i < reg.n; i++) {
		render_family(&b, reg.v[i]);
		dropped += reg.v[i]->dropped;
	}
	pthread_mutex_unlock(&reg.mu);
	buf_printf(&b, "# HELP remediate_metrics_series_dropped_total Updates "
	    "dropped because a family reached %d series.\n"
	    "# TYPE remediate_metrics_series_dropped_total counter\n"
	    "remediate_metrics_series_dropped_total %llu\n",
	    METRICS_MAX_SERIES, (unsigned long long)dropped);
	return buf_steal(&b);
}

void
metrics_reset(void)
{
	size_t i;

	pthread_mutex_lock(&reg.mu);
	for (i = 0; i < reg.n; i++) {
		map_clear(&reg.v[i]->series, series_free);
		reg.v[i]->nseries = 0;
		reg.v[i]->dropped = 0;
	}
	pthread_mutex_unlock(&reg.mu);
}

void
metrics_shutdown(void)
{
	struct metrics_family *f;
	size_t i, k;

	pthread_mutex_lock(&reg.mu);
	for (i = 0; i < reg.n; i++) {
		f = reg.v[i];
		map_clear(&f->series, series_free);
		for (k = 0; k < f->nlabels; k++)
			free(f->labels[k]);
		free(f->labels);
		free(f->bounds);
		free(f->name);
		free(f->help);
		f->magic = 0;
		free(f);
	}
	free(reg.v);
	reg.v = NULL;
	reg.n = reg.cap = 0;
	pthread_mutex_unlock(&reg.mu);
	metrics_forget_own();
}
