/*
 * Prometheus recordings for replay: the answers a budget query would have
 * had, as NDJSON {"time","query","value"}.  Queried by exact query text
 * (after templating) for the latest value at or before the clock.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signal/signal.h"

#define MAX_LINE (1u << 20)	/* bytes per recording line */

struct sample {
	int64_t	 at;		/* ms */
	double	 value;
	size_t	 seq;		/* line order, to keep ties stable */
};

struct series {
	char		*query;		/* owned */
	struct sample	*v;		/* owned, sorted by time */
	size_t		 n, cap;
};

struct sig_recording {
	struct series	*s;		/* owned */
	size_t		 n, cap;
	/*
	 * query -> its index in s, plus 1 (a pointer-sized number): a
	 * budget check per decision, a recording of a namespace per
	 * series, so not a walk of every query.
	 */
	struct map	 by_query;
};

static struct series *
series_find(const struct sig_recording *r, const char *q)
{
	uintptr_t i = (uintptr_t)map_get(&r->by_query, q);

	return i ? &r->s[i - 1] : NULL;
}

static struct series *
series_for(struct sig_recording *r, const char *q)
{
	struct series *s = series_find(r, q);

	if (s)
		return s;
	xgrow(&r->s, &r->cap, r->n + 1, sizeof *r->s);
	memset(&r->s[r->n], 0, sizeof r->s[r->n]);
	r->s[r->n].query = xstrdup(q);
	(void)map_put(&r->by_query, q, (void *)(uintptr_t)(r->n + 1));
	return &r->s[r->n++];
}

static int
cmp_sample(const void *a, const void *b)
{
	const struct sample *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
parse_line(struct sig_recording *r, const char *path, int lineno,
    const char *line, size_t seq, struct diags *dg)
{
	json_error_t je;
	json_t *o = util_json_loads(line, 0, &je), *v;
	const char *t, *q;
	struct series *s;
	int64_t at;
	struct loc at_line = { path, lineno, 1 };

	if (o == NULL) {
		at_line.col = je.column > 0 ? je.column : 1;
		diag_error(dg, at_line, "invalid JSON: %s", je.text);
		return;
	}
	t = json_string_value(json_object_get(o, "time"));
	q = json_string_value(json_object_get(o, "query"));
	v = json_object_get(o, "value");
	if (t == NULL || time_parse(t, &at) == -1)
		diag_error(dg, at_line, "\"time\" must be an RFC 3339 time");
	else if (q == NULL)
		diag_error(dg, at_line, "\"query\" must be a string");
	else if (!json_is_number(v) && !json_is_string(v))
		diag_error(dg, at_line, "\"value\" must be a number");
	else {
		double val;
		char *end = NULL;

		if (json_is_string(v)) {
			val = strtod(json_string_value(v), &end);
			if (end == json_string_value(v) || *end) {
				diag_error(dg, at_line,
				    "\"value\" must be a number");
				json_decref(o);
				return;
			}
		} else
			val = json_number_value(v);
		s = series_for(r, q);
		xgrow(&s->v, &s->cap, s->n + 1, sizeof *s->v);
		s->v[s->n++] = (struct sample){ at, val, seq };
	}
	json_decref(o);
}

struct sig_recording *
sig_recording_load(const char *path, struct diags *dg)
{
	struct sig_recording *r;
	char *text, *err, *p, *nl;
	size_t len, i, seq = 0, before = dg->errors;
	int lineno = 0;

	if ((text = util_read_file(path, 256u << 20, &len, &err)) == NULL) {
		diag_error(dg, (struct loc){ NULL, 0, 0 }, "%s", err);
		free(err);
		return NULL;
	}
	r = xcalloc(1, sizeof *r);
	map_init(&r->by_query);
	for (p = text; *p; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		lineno++;
		if (strlen(p) > MAX_LINE)
			diag_error(dg, (struct loc){ path, lineno, 1 },
			    "line longer than %u bytes", MAX_LINE);
		else if (p[strspn(p, " \t\r")] != '\0')
			parse_line(r, path, lineno, p, seq++, dg);
		if (nl == NULL)
			break;
	}
	free(text);
	for (i = 0; i < r->n; i++)
		qsort(r->s[i].v, r->s[i].n, sizeof *r->s[i].v, cmp_sample);
	if (dg->errors > before) {
		sig_recording_free(r);
		return NULL;
	}
	return r;
}

void
sig_recording_free(struct sig_recording *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++) {
		free(r->s[i].query);
		free(r->s[i].v);
	}
	map_clear(&r->by_query, NULL);
	free(r->s);
	free(r);
}

int
sig_recording_query(const struct sig_recording *r, const char *q,
    int64_t now, double *value, int64_t *at)
{
	size_t lo, hi;
	const struct series *s = r ? series_find(r, q) : NULL;

	if (s == NULL || s->n == 0 || s->v[0].at > now)
		return -1;
	/* the last sample with at <= now */
	lo = 0;
	hi = s->n;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->v[mid].at <= now)
			lo = mid;
		else
			hi = mid;
	}
	*value = s->v[lo].value;
	*at = s->v[lo].at;
	return 0;
}
