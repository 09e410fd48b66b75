/*
 * Dependency filters, evaluated on every event a dependency names, so
 * everything that can be prepared is prepared at compile time: paths are
 * split, regexps compiled, numbers and bools parsed.  Evaluating a data
 * filter on a string field is a few hash lookups and one re2_matches(),
 * with no allocation.
 *
 * Semantics are Argo Events' (sensors/dependencies/filter.go):
 *
 *   data     gjson path; a missing path fails the filter.  type string:
 *            every value is a regexp (anchored here, see below), `=` or
 *            no comparator passes on a match, `!=` on no match; number:
 *            the field as a float64 (gjson: strings are parsed, true is
 *            1) against each value with the comparator; bool: the field
 *            as gjson's Bool() equal to a value.  Any value passing
 *            passes the filter.  `template` renders the field (as a
 *            string, .Input) first; an empty or "<no value>" result fails.
 *   exprs    govaluate over `fields`; an expr without fields is skipped.
 *   time     [start, stop) of the day in `timezone` (UTC by default),
 *            across midnight when stop < start, on the time the event is
 *            processed (Argo's event context time).
 *   context  type, subject, source, datacontenttype equal when given.
 *
 * dataLogicalOperator / exprLogicalOperator combine the filters of a
 * kind, filtersLogicalOperator (on the dependency) the kinds that are
 * present.  An error (a missing path, a type error, a template that
 * renders nothing) is not a plain false, as in Argo's code: with `and` a
 * kind stops at its first false or error, with `or` at its first pass,
 * and a kind that ends on an error fails the whole dependency, whatever
 * the other kinds say (Argo's documentation calls it false, which under
 * `filtersLogicalOperator: or` would let an event whose filter cannot be
 * read through on another kind's word: the unsafe side).
 *
 * Divergence, on purpose (DESIGN.md): string values are anchored, so
 * "Pod" does not match "PodDisruptionBudget".  Argo matches them
 * unanchored.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/sensor_int.h"

/* What one filter, or a kind of them, says of an event. */
enum verdict {
	FAILS = 0,
	PASSES = 1,
	ERRS = -1,	/* could not be evaluated (Argo: an error) */
	SKIPPED = -2	/* an expr without fields: Argo skips it */
};

uint64_t
sensor_dep_hash(const char *source, const char *event)
{
	uint64_t h = util_hash(source, strlen(source), UTIL_HASH_SEED);

	h = util_hash("\0", 1, h);
	return util_hash(event, strlen(event), h);
}

/* ---- compiling -------------------------------------------------------- */

static const char *
str_of(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int
logical_op(const struct mdoc *doc, json_t *obj, const char *key,
    struct diags *d)
{
	json_t *v = json_object_get(obj, key);
	const char *s = json_string_value(v);

	if (v == NULL || (s && (*s == '\0' || strcmp(s, "and") == 0)))
		return 0;
	if (s && strcmp(s, "or") == 0)
		return 1;
	diag_error(d, sensor_loc(doc, v), "%s must be \"and\" or \"or\"", key);
	if (s && (strcmp(s, "AND") == 0 || strcmp(s, "OR") == 0 ||
	    strcmp(s, "And") == 0 || strcmp(s, "Or") == 0))
		diag_hint(d, "Argo Events accepts lower case only: \"%s\"",
		    s[0] == 'A' || s[0] == 'a' ? "and" : "or");
	return 0;
}

/* A value of a data filter as text: Argo's values are strings; a YAML
 * number or bool is taken as written. */
static char *
value_text(json_t *v)
{
	struct buf b;

	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (!json_is_number(v) && !json_is_boolean(v))
		return NULL;
	buf_init(&b, 0);
	sensor_fmt_gjson(&b, v);
	return buf_steal(&b);
}

static void
compile_data(struct dfilter *f, const struct mdoc *doc, json_t *o,
    struct diags *d)
{
	static const char *const types[] = { "string", "number", "bool" };
	static const char *const cmps[] = { "=", "!=", "<", "<=", ">", ">=" };
	json_t *vals = json_object_get(o, "value"), *v;
	const char *path = str_of(o, "path"), *type = str_of(o, "type"),
	    *cmp = str_of(o, "comparator"), *tmpl = str_of(o, "template"),
	    *hint;
	char *err, *txt;
	size_t i;

	memset(f, 0, sizeof *f);
	if (path == NULL) {
		diag_error(d, sensor_loc(doc, o), "data filter without a "
		    "path");
	} else if ((f->path = sensor_path_compile(path, &err)) == NULL) {
		diag_error(d, sensor_loc(doc, json_object_get(o, "path")),
		    "bad path \"%s\": %s", path, err);
		free(err);
	}
	for (i = 0; type && i < UTIL_ARRAY_LEN(types); i++)
		if (strcmp(type, types[i]) == 0)
			break;
	if (type == NULL || i == UTIL_ARRAY_LEN(types)) {
		diag_error(d, sensor_loc(doc, type ? json_object_get(o,
		    "type") : o), "data filter type must be string, number or "
		    "bool");
		if (type && (hint = util_suggest(type, types, 3)) != NULL)
			diag_hint(d, "did you mean \"%s\"?", hint);
		i = 0;
	}
	f->type = (enum dtype)i;
	f->cmp = CMP_EQ;
	if (cmp && *cmp) {
		for (i = 0; i < UTIL_ARRAY_LEN(cmps); i++)
			if (strcmp(cmp, cmps[i]) == 0)
				break;
		if (i == UTIL_ARRAY_LEN(cmps))
			diag_error(d, sensor_loc(doc, json_object_get(o,
			    "comparator")), "comparator must be one of >=, >, "
			    "=, !=, <, <=");
		else
			f->cmp = (enum dcmp)i;
		if (f->type == DT_STRING && f->cmp > CMP_NE)
			diag_error(d, sensor_loc(doc, json_object_get(o,
			    "comparator")), "comparator %s compares numbers; a "
			    "string filter takes = or !=", cmp);
		if (f->type == DT_BOOL && f->cmp != CMP_EQ)
			diag_warn(d, sensor_loc(doc, json_object_get(o,
			    "comparator")), "Argo Events ignores the "
			    "comparator of a bool filter: it tests equality");
	}
	if (tmpl && (f->tmpl = sensor_tmpl_compile(tmpl, TMPL_STRICT,
	    &err)) == NULL) {
		diag_error(d, sensor_loc(doc, json_object_get(o, "template")),
		    "bad template: %s", err);
		free(err);
	}
	if (!json_is_array(vals) || json_array_size(vals) == 0) {
		diag_error(d, sensor_loc(doc, vals ? vals : o), "data filter "
		    "without values can never pass");
		return;
	}
	f->nvals = json_array_size(vals);
	f->res = xcalloc(f->nvals, sizeof *f->res);
	f->lits = xcalloc(f->nvals, sizeof *f->lits);
	f->nums = xcalloc(f->nvals, sizeof *f->nums);
	f->bools = xcalloc(f->nvals, sizeof *f->bools);
	json_array_foreach(vals, i, v) {
		if ((txt = value_text(v)) == NULL) {
			diag_error(d, sensor_loc(doc, v), "a filter value is a "
			    "string");
			txt = xstrdup("");
		}
		if (f->type == DT_NUMBER && gofmt_parse_float(txt,
		    &f->nums[i]) == -1)
			diag_error(d, sensor_loc(doc, v), "\"%s\" is not a "
			    "number", txt);
		else if (f->type == DT_BOOL && sensor_parse_bool(txt,
		    &f->bools[i]) == -1)
			diag_error(d, sensor_loc(doc, v), "\"%s\" is not a "
			    "bool (true, false, 1, 0, t, f)", txt);
		else if (f->type == DT_STRING && (f->res[i] = re2_compile(txt,
		    strlen(txt), SENSOR_RE2 | RE2_ANCHORED | RE2_NOSUB,
		    SENSOR_MAX_PATTERN, &err)) == NULL) {
			diag_error(d, sensor_loc(doc, v), "bad regexp \"%s\": "
			    "%s", txt, err);
			free(err);
		} else if (f->type == DT_STRING && strpbrk(txt,
		    "\\^$.|?*+()[]{}") == NULL) {
			/* anchored plain text: strcmp says the same, faster */
			f->lits[i] = txt;
			txt = NULL;
		}
		free(txt);
	}
}

static void
compile_expr(struct efilter *e, const struct mdoc *doc, json_t *o,
    struct diags *d)
{
	json_t *fields = json_object_get(o, "fields"), *fo;
	const char *src = str_of(o, "expr"), *name, *path;
	const char **names;
	char *err;
	size_t i;

	memset(e, 0, sizeof *e);
	e->nfields = json_array_size(fields);
	names = xcalloc(e->nfields + 1, sizeof *names);
	e->paths = xcalloc(e->nfields + 1, sizeof *e->paths);
	json_array_foreach(fields, i, fo) {
		name = str_of(fo, "name");
		path = str_of(fo, "path");
		names[i] = name ? name : "";
		if (name == NULL || path == NULL) {
			diag_error(d, sensor_loc(doc, fo), "an expr field has "
			    "a name and a path");
			continue;
		}
		if ((e->paths[i] = sensor_path_compile(path, &err)) == NULL) {
			diag_error(d, sensor_loc(doc, json_object_get(fo,
			    "path")), "bad path \"%s\": %s", path, err);
			free(err);
		}
	}
	if (src == NULL)
		diag_error(d, sensor_loc(doc, o), "exprs entry without expr");
	else if ((e->expr = sensor_expr_compile(src, names, e->nfields,
	    &err)) == NULL) {
		diag_error(d, sensor_loc(doc, json_object_get(o, "expr")),
		    "bad expression \"%s\": %s", src, err);
		free(err);
	} else if (e->nfields == 0)
		diag_warn(d, sensor_loc(doc, json_object_get(o, "expr")),
		    "expr without fields: Argo Events skips it");
	free(names);
}

/* "HH:MM:SS" as Go's "15:04:05": seconds of the day, or -1. */
static int32_t
clock_of(const char *s)
{
	int h = 0, m, sec, n = 0;

	while (s[n] >= '0' && s[n] <= '9' && n < 2)
		h = h * 10 + (s[n++] - '0');
	if (n == 0 || s[n] != ':' || strlen(s + n) != 6 || s[n + 3] != ':')
		return -1;
	s += n + 1;
	if (s[0] < '0' || s[0] > '5' || s[1] < '0' || s[1] > '9' ||
	    s[3] < '0' || s[3] > '5' || s[4] < '0' || s[4] > '9' || h > 23)
		return -1;
	m = (s[0] - '0') * 10 + (s[1] - '0');
	sec = (s[3] - '0') * 10 + (s[4] - '0');
	return h * 3600 + m * 60 + sec;
}

static void
compile_time(struct filters *f, const struct mdoc *doc, json_t *o,
    struct diags *d)
{
	const char *start = str_of(o, "start"), *stop = str_of(o, "stop"),
	    *zone = str_of(o, "timezone");
	char *err;

	f->has_time = 1;
	if (start == NULL || (f->start = clock_of(start)) < 0)
		diag_error(d, start ? sensor_loc(doc, json_object_get(o,
		    "start")) : sensor_loc(doc, o), "time filter start %s%s%s "
		    "is not a time of day (HH:MM:SS)", start ? "\"" : "",
		    start ? start : "(missing)", start ? "\"" : "");
	if (stop == NULL || (f->stop = clock_of(stop)) < 0)
		diag_error(d, stop ? sensor_loc(doc, json_object_get(o,
		    "stop")) : sensor_loc(doc, o), "time filter stop %s%s%s "
		    "is not a time of day (HH:MM:SS)", stop ? "\"" : "",
		    stop ? stop : "(missing)", stop ? "\"" : "");
	if (zone && *zone && (f->tz = tz_load(zone, &err)) == NULL) {
		diag_error(d, sensor_loc(doc, json_object_get(o, "timezone")),
		    "%s", err);
		diag_hint(d, "use an IANA name such as \"Europe/Paris\"");
		free(err);
	}
}

static char *
dup_nonempty(json_t *o, const char *k)
{
	const char *s = str_of(o, k);

	return s && *s ? xstrdup(s) : NULL;
}

void
sensor_filters_compile(struct filters *f, const struct mdoc *doc,
    json_t *o, struct diags *d)
{
	json_t *list, *v;
	size_t i;

	memset(f, 0, sizeof *f);
	if (json_object_get(o, "script"))
		diag_error(d, sensor_loc_key(doc, o, "script"), "script (Lua) "
		    "filters are not supported");
	if ((list = json_object_get(o, "data")) != NULL) {
		f->has_data = 1;
		f->ndata = json_array_size(list);
		f->data = xcalloc(f->ndata + 1, sizeof *f->data);
		json_array_foreach(list, i, v)
			compile_data(&f->data[i], doc, v, d);
	}
	f->data_or = logical_op(doc, o, "dataLogicalOperator", d);
	if ((list = json_object_get(o, "exprs")) != NULL) {
		f->has_exprs = 1;
		f->nexprs = json_array_size(list);
		f->exprs = xcalloc(f->nexprs + 1, sizeof *f->exprs);
		json_array_foreach(list, i, v)
			compile_expr(&f->exprs[i], doc, v, d);
	}
	f->expr_or = logical_op(doc, o, "exprLogicalOperator", d);
	if ((v = json_object_get(o, "time")) != NULL)
		compile_time(f, doc, v, d);
	if ((v = json_object_get(o, "context")) != NULL) {
		static const char *const ignored[] = { "id", "specversion",
		    "time" };

		for (i = 0; i < UTIL_ARRAY_LEN(ignored); i++)
			if (json_object_get(v, ignored[i]))
				diag_warn(d, sensor_loc_key(doc, v, ignored[i]),
				    "context.%s is not compared: Argo Events "
				    "filters on type, subject, source and "
				    "datacontenttype only", ignored[i]);
		f->has_ctx = 1;
		f->ctx_type = dup_nonempty(v, "type");
		f->ctx_subject = dup_nonempty(v, "subject");
		f->ctx_source = dup_nonempty(v, "source");
		f->ctx_dct = dup_nonempty(v, "datacontenttype");
	}
}

void
sensor_filters_free(struct filters *f)
{
	size_t i, j;

	for (i = 0; i < f->ndata; i++) {
		sensor_path_free(f->data[i].path);
		sensor_tmpl_free(f->data[i].tmpl);
		for (j = 0; j < f->data[i].nvals; j++) {
			re2_free(f->data[i].res[j]);
			free(f->data[i].lits[j]);
		}
		free(f->data[i].res);
		free(f->data[i].lits);
		free(f->data[i].nums);
		free(f->data[i].bools);
	}
	free(f->data);
	for (i = 0; i < f->nexprs; i++) {
		sensor_expr_free(f->exprs[i].expr);
		for (j = 0; j < f->exprs[i].nfields; j++)
			sensor_path_free(f->exprs[i].paths[j]);
		free(f->exprs[i].paths);
	}
	free(f->exprs);
	tz_free(f->tz);
	free(f->ctx_type);
	free(f->ctx_subject);
	free(f->ctx_source);
	free(f->ctx_dct);
	memset(f, 0, sizeof *f);
}

/* ---- evaluating ------------------------------------------------------- */

/* gjson's Float() */
static double
as_float(json_t *v)
{
	double d;

	if (json_is_number(v))
		return json_number_value(v);
	if (json_is_true(v))
		return 1;
	if (json_is_string(v)) {
		/* ParseFloat's value even on error: 0, or an infinity */
		(void)gofmt_parse_float(json_string_value(v), &d);
		return d;
	}
	return 0;
}

/* gjson's Bool(): a string is lowercased first ("TrUe" is true) */
static int
as_bool(json_t *v)
{
	char low[8];
	size_t i, n;
	int b;

	if (json_is_true(v))
		return 1;
	if (json_is_number(v))
		return json_number_value(v) != 0;
	if (!json_is_string(v) || (n = json_string_length(v)) >= sizeof low)
		return 0;	/* longer than any of ParseBool's words */
	for (i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)json_string_value(v)[i]);
	low[n] = '\0';
	if (strlen(low) != n)
		return 0;		/* a NUL inside: not a word */
	return sensor_parse_bool(low, &b) == 0 && b;
}

static int
cmp_num(enum dcmp c, double x, double y)
{
	switch (c) {
	case CMP_EQ:	return x == y;
	case CMP_NE:	return x != y;
	case CMP_LT:	return x < y;
	case CMP_LE:	return x <= y;
	case CMP_GT:	return x > y;
	default:	return x >= y;
	}
}

static int
match_value(const struct dfilter *f, json_t *v)
{
	struct buf b;
	const char *s;
	size_t i, n;
	int ok = 0, m;

	switch (f->type) {
	case DT_BOOL:
		for (i = 0; i < f->nvals && !ok; i++)
			ok = f->bools[i] == as_bool(v);
		return ok;
	case DT_NUMBER:
		for (i = 0; i < f->nvals && !ok; i++)
			ok = cmp_num(f->cmp, as_float(v), f->nums[i]);
		return ok;
	case DT_STRING:
		buf_init(&b, SENSOR_MAX_OUTPUT);
		if (json_is_string(v)) {
			s = json_string_value(v);
			n = json_string_length(v);
		} else {
			sensor_fmt_gjson(&b, v);
			s = b.data ? b.data : "";
			n = b.len;
		}
		for (i = 0; i < f->nvals && !ok; i++) {
			m = f->lits[i] ? strcmp(f->lits[i], s) == 0 :
			    re2_matches(f->res[i], s, n);
			ok = f->cmp == CMP_NE ? !m : m;
		}
		buf_free(&b);
		return ok;
	}
	return 0;
}

static enum verdict
data_one(const struct dfilter *f, json_t *data)
{
	json_t *tmp, *v, *in;
	struct buf b;
	char *err;
	enum verdict ok = ERRS;

	if (f->path == NULL || f->nvals == 0)
		return ERRS;	/* "no values specified" */
	if ((v = sensor_path_eval(f->path, data, &tmp)) == NULL)
		return ERRS;	/* "path does not exist" */
	if (f->tmpl == NULL) {
		ok = match_value(f, v) ? PASSES : FAILS;
		json_decref(tmp);
		return ok;
	}
	/* the template sees the field as a string (gjson String()) */
	buf_init(&b, SENSOR_MAX_OUTPUT);
	sensor_fmt_gjson(&b, v);
	json_decref(tmp);
	in = json_stringn_nocheck(b.data ? b.data : "", b.len);
	buf_reset(&b);
	if (sensor_tmpl_exec(f->tmpl, in, &b, &err) == -1)
		free(err);
	else if (b.len && strcmp(b.data, "<no value>") != 0) {
		json_decref(in);
		in = json_stringn_nocheck(b.data, b.len);
		ok = match_value(f, in) ? PASSES : FAILS;
	}
	json_decref(in);
	buf_free(&b);
	return ok;
}

/*
 * A kind's filters combined: with `or` the first pass decides, and an
 * error counts only when nothing passed; with `and` the first false or
 * error decides.  Returns 1 when one decided the kind (into *acc for
 * `and`; a pass for `or`), 0 to go on.
 */
static int
combine(enum verdict *acc, enum verdict one, int or)
{
	if (or) {
		if (one == ERRS)
			*acc = ERRS;
		return one == PASSES;
	}
	if (one == FAILS || one == ERRS) {
		*acc = one;
		return 1;
	}
	return 0;
}

static enum verdict
data_pass(const struct filters *f, json_t *data)
{
	enum verdict acc = f->data_or && f->ndata > 0 ? FAILS : PASSES;
	size_t i;

	for (i = 0; i < f->ndata; i++)
		if (combine(&acc, data_one(&f->data[i], data), f->data_or))
			return f->data_or ? PASSES : acc;
	return acc;
}

static enum verdict
expr_one(const struct efilter *e, json_t *data)
{
	json_t *vals[64], *tmps[64];
	size_t i, n = e->nfields;
	char *err;
	enum verdict ok = ERRS;

	if (e->expr == NULL)
		return ERRS;
	if (n == 0)
		return SKIPPED;
	if (n > UTIL_ARRAY_LEN(vals))
		return ERRS;
	for (i = 0; i < n; i++) {
		vals[i] = e->paths[i] ? sensor_path_eval(e->paths[i], data,
		    &tmps[i]) : (tmps[i] = NULL);
		if (vals[i] == NULL)
			goto out;	/* "path does not exist" */
	}
	switch (sensor_expr_eval(e->expr, vals, &err)) {
	case -1:
		free(err);
		break;
	case 0:
		ok = FAILS;
		break;
	default:
		ok = PASSES;
	}
out:
	while (i-- > 0)
		json_decref(tmps[i]);
	return ok;
}

static enum verdict
exprs_pass(const struct filters *f, json_t *data)
{
	enum verdict acc = f->expr_or ? FAILS : PASSES;
	size_t i;

	for (i = 0; i < f->nexprs; i++)
		if (combine(&acc, expr_one(&f->exprs[i], data), f->expr_or))
			return f->expr_or ? PASSES : acc;
	return acc;
}

static int
time_pass(const struct filters *f, int64_t t)
{
	int64_t ms, day = 86400000;

	ms = t + (int64_t)tz_offset(f->tz, t >= 0 ? t / 1000 :
	    (t - 999) / 1000, NULL, 0) * 1000;
	ms = ((ms % day) + day) % day;
	if (f->start < f->stop)
		return ms >= f->start * 1000LL && ms < f->stop * 1000LL;
	return ms >= f->start * 1000LL || ms < f->stop * 1000LL;
}

static int
same(const char *want, const char *have)
{
	return want == NULL || (have && strcmp(want, have) == 0);
}

static int
ctx_pass(const struct filters *f, const struct event *ev)
{
	return same(f->ctx_type, ev->type) &&
	    same(f->ctx_subject, ev->name) &&
	    same(f->ctx_source, ev->source) &&
	    same(f->ctx_dct, "application/json");
}

int
sensor_filters_pass(const struct sensor_dep *dep, const struct event *ev,
    int64_t t)
{
	const struct filters *f = &dep->f;
	json_t *data = ev->data;
	enum verdict d, e;

	if (!dep->has_filters)
		return 1;
	/* no data: Argo passes the data and expr kinds (a nil payload) */
	if (dep->filters_or) {
		d = !f->has_data ? FAILS : data ? data_pass(f, data) : PASSES;
		e = !f->has_exprs ? FAILS : data ? exprs_pass(f, data) :
		    PASSES;
		if (d == ERRS || e == ERRS)
			return 0;	/* an error fails it: see the top */
		return (f->has_ctx && ctx_pass(f, ev)) ||
		    (f->has_time && time_pass(f, t)) || d == PASSES ||
		    e == PASSES;
	}
	/* cheapest first; the answer does not depend on the order */
	return (!f->has_ctx || ctx_pass(f, ev)) &&
	    (!f->has_time || time_pass(f, t)) &&
	    (!f->has_data || data == NULL || data_pass(f, data) == PASSES) &&
	    (!f->has_exprs || data == NULL ||
	    exprs_pass(f, data) == PASSES);
}
