/*
 * Kyverno's validate.pattern: an overlay the object must fit, with anchors
 * on keys and operators in values.
 *
 * The semantics follow Kyverno's pkg/engine/validate (the walk),
 * pkg/engine/anchor (the anchors) and pkg/engine/pattern (the values):
 *
 *   (k)   conditional: k must exist and fit, else the map does not apply
 *         (the rule, or that element of a list, is skipped)
 *   <(k)  global: when k exists and does not fit, the whole rule is skipped
 *   =(k)  equality: when k exists it must fit
 *   ^(k)  existence: a list k must have, for each pattern map, one element
 *         that fits it
 *   X(k)  negation: k must not exist
 *   +(k)  add-if-absent is a mutation: refused when the policy is compiled
 *
 * A map is walked anchors first, then the other keys (global anchors and
 * keys whose values hold anchors first).  A list of maps applies the map
 * to each element, and skips the list only when every element skipped.
 * A value is a number, boolean, null or a string of `|`-separated
 * alternatives of `&`-joined operands, each `>=`, `<=`, `>`, `<`, `!` or
 * none before a duration, a quantity or a wildcard pattern, or a range
 * `a-b` / `a!-b`.  tests/policy/admit/pattern.yaml holds the cases, each
 * with the Kyverno source it comes from.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "policy/pol_int.h"
#include "util/quantity.h"

/* How far a walk got: a failure or a skip, with where. */
enum perr {
	PE_NONE,
	PE_FAIL,	/* does not fit */
	PE_NEG,		/* a negation anchor's key exists: fails */
	PE_COND,	/* a conditional anchor does not hold: skip */
	PE_GLOBAL	/* a global anchor does not hold: skip */
};

struct walk {
	char	*path;		/* owned: where it stopped */
	char	*why;		/* owned */
	int	 depth;
};

#define MAX_DEPTH	64

static enum perr
set_err(struct walk *w, enum perr e, const char *path, char *why_owned)
{
	free(w->path);
	free(w->why);
	w->path = xstrdup(path);
	w->why = why_owned;
	return e;
}

static int
skips(enum perr e)
{
	return e == PE_COND || e == PE_GLOBAL;
}

/* ---- anchors ------------------------------------------------------------ */

int
pol_anchor(const char *key, char *mod, char **inner)
{
	size_t n;
	const char *s = key, *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	*mod = '\0';
	if (e - s >= 1 && strchr("+<=X^", *s) != NULL && s[1] == '(')
		*mod = *s++;
	n = (size_t)(e - s);
	/* "(" key ")", the key at least one character */
	if (n < 3 || s[0] != '(' || e[-1] != ')') {
		*mod = '\0';
		return 0;
	}
	if (inner)
		*inner = xstrndup(s + 1, n - 2);
	return 1;
}

/* ---- values ------------------------------------------------------------- */

enum vop { V_EQ, V_NE, V_GT, V_GE, V_LT, V_LE };

/* A number as Go's strconv.FormatFloat(v, 'E', -1, 64) prints it. */
static char *
float_e(double v)
{
	char buf[64];
	int prec;

	/* the shortest that reads back; both write two exponent digits */
	for (prec = 0; prec < 17; prec++) {
		snprintf(buf, sizeof buf, "%.*E", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return xstrdup(buf);
}

/* The value as Kyverno's convertNumberToString reads it; NULL if not. */
static char *
number_text(json_t *v)
{
	if (v == NULL || json_is_null(v))
		return xstrdup("0");
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xasprintf("%lld", (long long)json_integer_value(v));
	if (json_is_real(v))
		return xasprintf("%f", json_real_value(v));
	return NULL;
}

static int
cmp_holds(int c, enum vop op)
{
	switch (op) {
	case V_EQ:
		return c == 0;
	case V_NE:
		return c != 0;
	case V_GT:
		return c > 0;
	case V_GE:
		return c >= 0;
	case V_LT:
		return c < 0;
	case V_LE:
		return c <= 0;
	}
	return 0;
}

static int
compare_duration(json_t *v, const char *pat, enum vop op)
{
	int64_t p, x;
	char *t;
	int ok;

	if (duration_parse_ns(pat, &p) != 0 || (t = number_text(v)) == NULL)
		return 0;
	ok = duration_parse_ns(t, &x) == 0;
	free(t);
	return ok && cmp_holds(x < p ? -1 : x > p, op);
}

static int
compare_quantity(json_t *v, const char *pat, enum vop op)
{
	struct quantity p, x;
	char *t;
	int ok;

	if (quantity_parse(pat, &p) != 0 || (t = number_text(v)) == NULL)
		return 0;
	ok = quantity_parse(t, &x) == 0;
	free(t);
	return ok && cmp_holds(quantity_cmp(&x, &p), op);
}

static int
compare_string(json_t *v, const char *pat, enum vop op)
{
	char *s;
	int m;

	if (op != V_EQ && op != V_NE)
		return 0;
	if (json_is_string(v))
		s = xstrdup(json_string_value(v));
	else if (json_is_integer(v))
		s = xasprintf("%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		s = float_e(json_real_value(v));
	else if (json_is_boolean(v))
		s = xstrdup(json_is_true(v) ? "true" : "false");
	else
		return 0;
	m = util_glob(pat, s);
	free(s);
	return op == V_NE ? !m : m;
}

/* digits, optionally "." digits; returns the length or 0. */
static size_t
decimal(const char *s)
{
	size_t i = 0, j;

	while (isdigit((unsigned char)s[i]))
		i++;
	if (i == 0)
		return 0;
	if (s[i] == '.' && isdigit((unsigned char)s[i + 1])) {
		for (j = i + 1; isdigit((unsigned char)s[j]); j++)
			;
		i = j;
	}
	return i;
}

/*
 * Kyverno's range forms "a-b" (1) and "a!-b" (2): a number and a suffix
 * without "-" on each side.  0 when s is neither; *dash at the "-".
 */
static int
range_form(const char *s, const char **dash)
{
	const char *d;

	if (decimal(s) == 0 || (d = strchr(s, '-')) == NULL ||
	    strchr(d + 1, '-') != NULL || decimal(d + 1) == 0)
		return 0;
	*dash = d;
	return d > s && d[-1] == '!' ? 2 : 1;
}

static int value_operand(json_t *v, const char *pat);

static int
bound(json_t *v, const char *prefix, const char *b, size_t n)
{
	char *t = xasprintf("%s %.*s", prefix, (int)n, b);
	int r = value_operand(v, t);

	free(t);
	return r;
}

/* One operand: an operator, then a duration, quantity or wildcard. */
static int
value_operand(json_t *v, const char *pat)
{
	static const struct {
		const char	*pre;
		enum vop	 op;
	} pres[] = { { ">=", V_GE }, { "<=", V_LE }, { ">", V_GT },
	    { "<", V_LT }, { "!", V_NE } };
	const char *dash, *rest = pat;
	enum vop op = V_EQ;
	char *p;
	size_t i, n;
	int form, r;

	if (strlen(pat) >= 2) {
		for (i = 0; i < UTIL_ARRAY_LEN(pres); i++) {
			n = strlen(pres[i].pre);
			if (strncmp(pat, pres[i].pre, n) == 0) {
				op = pres[i].op;
				rest = pat + n;
				break;
			}
		}
		if (i == UTIL_ARRAY_LEN(pres) &&
		    (form = range_form(pat, &dash)) != 0) {
			if (form == 1)
				return bound(v, ">=", pat,
				    (size_t)(dash - pat)) &&
				    bound(v, "<=", dash + 1, strlen(dash + 1));
			return bound(v, "<", pat, (size_t)(dash - 1 - pat)) ||
			    bound(v, ">", dash + 1, strlen(dash + 1));
		}
	}
	while (isspace((unsigned char)*rest))
		rest++;
	p = xstrdup(rest);
	for (n = strlen(p); n > 0 && isspace((unsigned char)p[n - 1]); n--)
		p[n - 1] = '\0';
	r = compare_duration(v, p, op) || compare_quantity(v, p, op) ||
	    compare_string(v, p, op);
	free(p);
	return r;
}

/* Trims spaces (Go's strings.Trim(s, " ")) into an owned copy. */
static char *
trim_sp(const char *s, size_t n)
{
	while (n > 0 && *s == ' ') {
		s++;
		n--;
	}
	while (n > 0 && s[n - 1] == ' ')
		n--;
	return xstrndup(s, n);
}

static int
value_string(json_t *v, const char *pat)
{
	const char *alt, *bar, *and, *amp;
	char *a, *c;
	int all;

	if (json_is_string(v) && strcmp(json_string_value(v), pat) == 0)
		return 1;
	for (alt = pat;; alt = bar + 1) {
		bar = strchr(alt, '|');
		a = trim_sp(alt, bar ? (size_t)(bar - alt) : strlen(alt));
		all = 1;
		for (and = a; all; and = amp + 1) {
			amp = strchr(and, '&');
			c = trim_sp(and, amp ? (size_t)(amp - and) :
			    strlen(and));
			all = value_operand(v, c);
			free(c);
			if (amp == NULL)
				break;
		}
		free(a);
		if (all)
			return 1;
		if (bar == NULL)
			return 0;
	}
}

/* A float pattern (every number of a policy is a float64 in Kyverno). */
static int
value_number(json_t *v, double p)
{
	char *end;
	double d;

	if (json_is_integer(v))
		return p == trunc(p) && (double)json_integer_value(v) == p;
	if (json_is_real(v))
		return json_real_value(v) == p;
	if (json_is_string(v)) {
		d = strtod(json_string_value(v), &end);
		return end != json_string_value(v) && *end == '\0' && d == p;
	}
	return 0;
}

int
pol_pattern_value(json_t *v, json_t *pat)
{
	switch (json_typeof(pat)) {
	case JSON_TRUE:
	case JSON_FALSE:
		return json_is_boolean(v) && json_is_true(v) ==
		    json_is_true(pat);
	case JSON_INTEGER:
	case JSON_REAL:
		return value_number(v, json_number_value(pat));
	case JSON_NULL:
		if (v == NULL || json_is_null(v))
			return 1;
		if (json_is_number(v))
			return json_number_value(v) == 0;
		if (json_is_string(v))
			return *json_string_value(v) == '\0';
		if (json_is_boolean(v))
			return json_is_false(v);
		return 0;
	case JSON_OBJECT:
		return json_is_object(v);
	case JSON_STRING:
		return value_string(v, json_string_value(pat));
	default:
		return 0;
	}
}

/* ---- the walk ----------------------------------------------------------- */

static enum perr walk(struct walk *, json_t *res, json_t *pat,
    const char *path);

static char *
show(json_t *v)
{
	char *s;

	if (v == NULL)
		return xstrdup("<nil>");
	s = pol_sprint(v);
	return s ? s : xstrdup("?");
}

static enum perr
walk_scalar(struct walk *w, json_t *res, json_t *pat, const char *path)
{
	json_t *e;
	size_t i;
	int ok = 1;

	if (json_is_array(res)) {
		json_array_foreach(res, i, e)
			if (!pol_pattern_value(e, pat))
				ok = 0;
	} else
		ok = pol_pattern_value(res, pat);
	if (ok)
		return PE_NONE;
	{
		char *a = show(res), *b = show(pat);
		enum perr r = set_err(w, PE_FAIL, path, xasprintf("resource "
		    "value '%s' does not match '%s' at path %s", a, b, path));

		free(a);
		free(b);
		return r;
	}
}

/* Whether v holds an anchored key anywhere. */
static int
has_anchors(json_t *v)
{
	const char *k;
	json_t *e;
	size_t i;
	char mod;

	if (json_is_object(v)) {
		json_object_foreach(v, k, e)
			if (pol_anchor(k, &mod, NULL) && mod != '+')
				return 1;
		json_object_foreach(v, k, e)
			if (has_anchors(e))
				return 1;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e)
			if (has_anchors(e))
				return 1;
	}
	return 0;
}

/*
 * One element of a list against its pattern: a skip is counted, not
 * returned (the list skips only when every element did).  Returns a
 * failure, or PE_NONE.
 */
static enum perr
walk_elem(struct walk *w, json_t *res, json_t *pat, const char *path,
    size_t i, enum perr *skip, size_t *applied)
{
	char *sub = xasprintf("%s%zu/", path, i);
	enum perr r = walk(w, res, pat, sub);

	free(sub);
	if (skips(r)) {
		*skip = r;
		return PE_NONE;
	}
	if (r == PE_NONE)
		(*applied)++;
	return r;
}

static enum perr
walk_array(struct walk *w, json_t *res, json_t *pat, const char *path)
{
	json_t *p0 = json_array_get(pat, 0), *e;
	enum perr r, skip = PE_NONE;
	size_t i, applied = 0;

	if (json_array_size(pat) == 0)
		return set_err(w, PE_FAIL, path, xstrdup("pattern Array "
		    "empty"));
	if (json_is_object(p0)) {
		/* a map applies to every element */
		json_array_foreach(res, i, e)
			if ((r = walk_elem(w, e, p0, path, i, &skip,
			    &applied)) != PE_NONE)
				return r;
	} else if (!json_is_array(p0))
		return walk_scalar(w, res, p0, path);
	else if (json_array_size(res) < json_array_size(pat))
		return set_err(w, PE_FAIL, path, xasprintf("validate Array "
		    "failed, array length mismatch, resource Array len is %zu "
		    "and pattern Array len is %zu", json_array_size(res),
		    json_array_size(pat)));
	else {
		/* lists of lists: element by element */
		json_array_foreach(pat, i, e)
			if ((r = walk_elem(w, json_array_get(res, i), e, path,
			    i, &skip, &applied)) != PE_NONE)
				return r;
	}
	return applied == 0 && skip != PE_NONE ? skip : PE_NONE;
}

/* ^(k): for each pattern map, one element of the list fits it. */
static enum perr
existence(struct walk *w, json_t *list, json_t *pat, const char *path)
{
	json_t *p, *e;
	struct walk tmp;
	size_t i, j;
	char *sub;
	int found;

	if (!json_is_array(list))
		return set_err(w, PE_FAIL, path, xstrdup("existence anchor ^() "
		    "can be used only on a list"));
	if (!json_is_array(pat))
		return set_err(w, PE_FAIL, path, xstrdup("an existence anchor's "
		    "pattern must be a list of maps"));
	json_array_foreach(pat, i, p) {
		if (!json_is_object(p))
			return set_err(w, PE_FAIL, path, xstrdup("an existence "
			    "anchor's pattern must be a list of maps"));
		found = 0;
		json_array_foreach(list, j, e) {
			memset(&tmp, 0, sizeof tmp);
			tmp.depth = w->depth;
			sub = xasprintf("%s%zu/", path, j);
			found = walk(&tmp, e, p, sub) == PE_NONE;
			free(sub);
			free(tmp.path);
			free(tmp.why);
			if (found)
				break;
		}
		if (!found)
			return set_err(w, PE_FAIL, path, xasprintf("existence "
			    "anchor validation failed at path %s", path));
	}
	return PE_NONE;
}

/* One key of a pattern map. */
static enum perr
walk_key(struct walk *w, json_t *res, const char *key, json_t *pv,
    const char *path)
{
	char mod, *inner = NULL, *sub;
	json_t *rv;
	enum perr r = PE_NONE;

	if (!pol_anchor(key, &mod, &inner) || mod == '+') {
		free(inner);
		rv = json_object_get(res, key);
		if (json_is_string(pv) && strcmp(json_string_value(pv),
		    "*") == 0) {
			if (rv != NULL && !json_is_null(rv))
				return PE_NONE;
			return set_err(w, PE_FAIL, path, xasprintf("%s/%s not "
			    "found", path, key));
		}
		sub = xasprintf("%s%s/", path, key);
		r = walk(w, rv, pv, sub);
		free(sub);
		return r;
	}
	sub = xasprintf("%s%s/", path, inner);
	rv = json_object_get(res, inner);
	switch (mod) {
	case '\0':	/* conditional */
		if (rv == NULL)
			r = set_err(w, PE_COND, sub, xstrdup("conditional "
			    "anchor key doesn't exist in the resource"));
		else if ((r = walk(w, rv, pv, sub)) != PE_NONE)
			r = PE_COND;
		break;
	case '<':	/* global */
		if (rv != NULL && (r = walk(w, rv, pv, sub)) != PE_NONE)
			r = PE_GLOBAL;
		break;
	case '=':	/* equality */
		if (rv != NULL)
			r = walk(w, rv, pv, sub);
		break;
	case '^':	/* existence */
		if (rv != NULL)
			r = existence(w, rv, pv, sub);
		break;
	case 'X':	/* negation */
		if (rv != NULL)
			r = set_err(w, PE_NEG, sub, xasprintf("%s is not "
			    "allowed", sub));
		break;
	}
	free(inner);
	free(sub);
	return r;
}

/* Whether pattern key k is tag, anchored or not. */
static int
key_is(const char *k, const char *tag)
{
	char mod, *inner = NULL;
	int is;

	if (strcmp(k, tag) == 0)
		return 1;
	is = pol_anchor(k, &mod, &inner) && strcmp(inner, tag) == 0;
	free(inner);
	return is;
}

/*
 * Kyverno's ExpandInMetadata: a wildcard key of metadata.labels or
 * metadata.annotations in the pattern names the first key of the object
 * it matches.  Returns a new reference to the pattern to use.
 */
static json_t *
expand_metadata(json_t *res, json_t *pat)
{
	static const char *const tags[] = { "labels", "annotations" };
	json_t *out, *pmd, *rmd, *pt, *rt, *npt, *v, *rv;
	const char *k, *mk = NULL, *tk, *rk;
	char mod;
	size_t i;

	json_object_foreach(pat, k, v)
		if (key_is(k, "metadata")) {
			mk = k;
			break;
		}
	pmd = mk ? json_object_get(pat, mk) : NULL;
	rmd = json_object_get(res, "metadata");
	if (!json_is_object(pmd) || !json_is_object(rmd))
		return json_incref(pat);
	out = json_copy(pat);
	pmd = json_copy(pmd);
	json_object_set_new(out, mk, pmd);
	for (i = 0; i < UTIL_ARRAY_LEN(tags); i++) {
		tk = NULL;
		json_object_foreach(pmd, k, v)
			if (key_is(k, tags[i])) {
				tk = k;
				break;
			}
		pt = tk ? json_object_get(pmd, tk) : NULL;
		rt = json_object_get(rmd, tags[i]);
		if (!json_is_object(pt) || !json_is_object(rt))
			continue;
		npt = json_object();
		json_object_foreach(pt, k, v) {
			const char *key = k;
			char *name = NULL, *nk = NULL;

			mod = '\0';
			if (pol_anchor(k, &mod, &name))
				key = name;
			if (strpbrk(key, "*?") != NULL) {
				json_object_foreach(rt, rk, rv) {
					if (util_glob(key, rk)) {
						nk = mod == '\0' && name == NULL ?
						    xstrdup(rk) : mod ?
						    xasprintf("%c(%s)", mod, rk) :
						    xasprintf("(%s)", rk);
						break;
					}
				}
			}
			json_object_set(npt, nk ? nk : k, v);
			free(nk);
			free(name);
		}
		json_object_set_new(pmd, tk, npt);
	}
	return out;
}

/* Which keys come first: anchors, then global/nested-anchor keys. */
static int
key_rank(const char *k, json_t *v)
{
	char mod;

	if (pol_anchor(k, &mod, NULL) && mod != '<' && mod != '+')
		return 0;
	if ((pol_anchor(k, &mod, NULL) && mod == '<') || has_anchors(v))
		return 1;
	return 2;
}

static int
cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static enum perr
walk_map(struct walk *w, json_t *res, json_t *pat, const char *path)
{
	const char **keys, *k;
	json_t *v;
	enum perr r = PE_NONE;
	size_t n = 0, i;
	int rank;

	if (!json_is_object(res))
		return set_err(w, PE_FAIL, path, xasprintf("pattern and "
		    "resource have different structures at path %s", path));
	pat = expand_metadata(res, pat);
	keys = xcalloc(json_object_size(pat) + 1, sizeof(*keys));
	json_object_foreach(pat, k, v)
		keys[n++] = k;
	qsort(keys, n, sizeof(*keys), cmp_keys);
	for (rank = 0; rank < 3 && r == PE_NONE; rank++)
		for (i = 0; i < n && r == PE_NONE; i++) {
			v = json_object_get(pat, keys[i]);
			if (key_rank(keys[i], v) == rank)
				r = walk_key(w, res, keys[i], v, path);
		}
	free(keys);
	json_decref(pat);
	return r;
}

static enum perr
walk(struct walk *w, json_t *res, json_t *pat, const char *path)
{
	enum perr r;

	if (++w->depth > MAX_DEPTH) {
		w->depth--;
		return set_err(w, PE_FAIL, path, xstrdup("pattern nested too "
		    "deeply"));
	}
	if (json_is_object(pat))
		r = walk_map(w, res, pat, path);
	else if (json_is_array(pat)) {
		if (!json_is_array(res))
			r = set_err(w, PE_FAIL, path, xasprintf("validation "
			    "rule failed at path %s, resource does not satisfy "
			    "the expected overlay pattern", path));
		else
			r = walk_array(w, res, pat, path);
	} else
		r = walk_scalar(w, res, pat, path);
	w->depth--;
	return r;
}

enum pol_pres
pol_pattern(json_t *res, json_t *pat, char **path, char **why)
{
	struct walk w;
	enum perr r;

	memset(&w, 0, sizeof w);
	r = walk(&w, res, pat, "/");
	*path = w.path;
	*why = w.why;
	if (r == PE_NONE) {
		free(w.path);
		free(w.why);
		*path = *why = NULL;
		return POL_PAT_PASS;
	}
	return skips(r) ? POL_PAT_SKIP : POL_PAT_FAIL;
}
