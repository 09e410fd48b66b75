/*
 * Kyverno's condition operators, with Kyverno's comparison rules.
 *
 * Kyverno decides by the Go type of the key (every JSON number is a
 * float64 there) and then tries readings of the value in a fixed order:
 * for a string key, a duration first ("5m" equals 300), then a resource
 * quantity ("1Gi" equals "1024Mi"), then a wildcard match with the value
 * as the pattern.  Operands that cannot be compared make an operator
 * false, never an error, exactly as in Kyverno: a policy that denies on
 * `GreaterThan` of a string decides here as it does in the cluster.
 *
 * The set operators (AnyIn, AllIn, AnyNotIn, AllNotIn) compare fmt.Sprint
 * of each element with wildcards either way, accept a value that is a
 * list, a JSON list in a string, a single string, or a range "1-10" /
 * "1Gi-4Gi".  Deprecated In/NotIn keep their older, stricter rules.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/policy.h"
#include "policy/pol_int.h"
#include "util/quantity.h"

static const struct {
	const char	*name;
	enum pol_op	 op;
	int		 deprecated;
} ops[] = {
	{ "Equals", POL_OP_EQUALS, 0 },
	{ "NotEquals", POL_OP_NOTEQUALS, 0 },
	{ "AnyIn", POL_OP_ANYIN, 0 },
	{ "AllIn", POL_OP_ALLIN, 0 },
	{ "AnyNotIn", POL_OP_ANYNOTIN, 0 },
	{ "AllNotIn", POL_OP_ALLNOTIN, 0 },
	{ "GreaterThan", POL_OP_GT, 0 },
	{ "GreaterThanOrEquals", POL_OP_GE, 0 },
	{ "LessThan", POL_OP_LT, 0 },
	{ "LessThanOrEquals", POL_OP_LE, 0 },
	{ "In", POL_OP_IN, 1 },
	{ "NotIn", POL_OP_NOTIN, 1 },
	{ "DurationGreaterThan", POL_OP_DGT, 1 },
	{ "DurationGreaterThanOrEquals", POL_OP_DGE, 1 },
	{ "DurationLessThan", POL_OP_DLT, 1 },
	{ "DurationLessThanOrEquals", POL_OP_DLE, 1 },
	{ "Equal", POL_OP_EQUALS, 1 },
	{ "NotEqual", POL_OP_NOTEQUALS, 1 },
};

enum pol_op
pol_op_lookup(const char *name)
{
	size_t i;

	if (name == NULL)
		return POL_OP_NONE;
	for (i = 0; i < UTIL_ARRAY_LEN(ops); i++)
		if (strcasecmp(name, ops[i].name) == 0)
			return ops[i].op;
	return POL_OP_NONE;
}

const char *const *
pol_op_names(size_t *n)
{
	static const char *names[UTIL_ARRAY_LEN(ops)];
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(ops); i++)
		names[i] = ops[i].name;
	*n = UTIL_ARRAY_LEN(ops);
	return names;
}

int
pol_op_deprecated(const char *name)
{
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(ops); i++)
		if (strcasecmp(name, ops[i].name) == 0)
			return ops[i].deprecated;
	return 0;
}

/* ---- scalars ------------------------------------------------------------ */

static double
num(json_t *v)
{
	return json_is_integer(v) ? (double)json_integer_value(v) :
	    json_real_value(v);
}

static int
cmp_by(long double a, long double b, enum pol_op op)
{
	switch (op) {
	case POL_OP_GT:
	case POL_OP_DGT:
		return a > b;
	case POL_OP_GE:
	case POL_OP_DGE:
		return a >= b;
	case POL_OP_LT:
	case POL_OP_DLT:
		return a < b;
	case POL_OP_LE:
	case POL_OP_DLE:
		return a <= b;
	default:
		return a == b;
	}
}

/* A number read as seconds, as Go's time.Duration(f) * time.Second. */
static long double
secs(double f)
{
	return truncl((long double)f) * 1e9L;
}

/*
 * Kyverno's parseDuration: at least one side must be a duration string
 * other than "0"; the other may be one too, or a number of seconds.
 * Returns 0 with both in ns, else -1.
 */
static int
durations(json_t *k, json_t *v, long double *kd, long double *vd)
{
	int64_t ns;
	int kok = 0, vok = 0;

	if (json_is_string(k) && strcmp(json_string_value(k), "0") != 0 &&
	    duration_parse_ns(json_string_value(k), &ns) == 0) {
		*kd = (long double)ns;
		kok = 1;
	}
	if (json_is_string(v) && strcmp(json_string_value(v), "0") != 0 &&
	    duration_parse_ns(json_string_value(v), &ns) == 0) {
		*vd = (long double)ns;
		vok = 1;
	}
	if (!kok && !vok)
		return -1;
	if (!kok) {
		if (!json_is_number(k))
			return -1;
		*kd = secs(num(k));
	}
	if (!vok) {
		if (!json_is_number(v))
			return -1;
		*vd = secs(num(v));
	}
	return 0;
}

/* ---- Equals ------------------------------------------------------------- */

static int
equals_string(json_t *k, json_t *v)
{
	const char *ks = json_string_value(k);
	struct quantity qa, qb;
	long double a, b;

	if (durations(k, v, &a, &b) == 0)
		return a == b;
	if (quantity_parse(ks, &qa) == 0 && json_is_string(v))
		return quantity_parse(json_string_value(v), &qb) == 0 &&
		    quantity_cmp(&qa, &qb) == 0;
	if (json_is_string(v))
		return util_glob(json_string_value(v), ks);
	return 0;
}

static int
equals_number(double k, json_t *v)
{
	double d;

	if (json_is_number(v))
		return k == num(v);
	if (json_is_string(v))
		return gofmt_parse_float(json_string_value(v), &d) == 0 &&
		    d == k;
	return 0;
}

static int
equals(json_t *k, json_t *v)
{
	switch (json_typeof(k)) {
	case JSON_TRUE:
	case JSON_FALSE:
		return json_is_boolean(v) && json_is_true(k) == json_is_true(v);
	case JSON_INTEGER:
	case JSON_REAL:
		return equals_number(num(k), v);
	case JSON_STRING:
		return equals_string(k, v);
	case JSON_OBJECT:
	case JSON_ARRAY:
		return json_typeof(k) == json_typeof(v) &&
		    gofmt_equal(k, v);
	default:
		return 0;	/* null equals nothing, not even null */
	}
}

/* ---- GreaterThan and friends -------------------------------------------- */

static int
numeric_float(enum pol_op op, double k, json_t *v)
{
	long double a, b;
	json_t *kj;
	double d;
	int rc;

	if (json_is_number(v))
		return cmp_by(k, num(v), op);
	if (!json_is_string(v))
		return 0;
	kj = json_real(k);
	rc = durations(kj, v, &a, &b);
	json_decref(kj);
	if (rc == 0)
		return cmp_by(a, b, op);
	if (gofmt_parse_float(json_string_value(v), &d) == 0)
		return cmp_by(k, d, op);
	return 0;
}

static int
numeric(enum pol_op op, json_t *k, json_t *v)
{
	struct quantity qa, qb;
	const char *ks;
	long double a, b;
	double d;
	int c;

	if (json_is_number(k))
		return numeric_float(op, num(k), v);
	if (!json_is_string(k))
		return 0;
	ks = json_string_value(k);
	if (durations(k, v, &a, &b) == 0)
		return cmp_by(a, b, op);
	if (quantity_parse(ks, &qa) == 0 && json_is_string(v) &&
	    quantity_parse(json_string_value(v), &qb) == 0)
		return cmp_by(quantity_cmp(&qa, &qb), 0, op);
	if (gofmt_parse_float(ks, &d) == 0)
		return numeric_float(op, d, v);
	if (pol_semver_valid(ks))
		return json_is_string(v) &&
		    pol_semver_cmp(ks, json_string_value(v), &c) == 0 &&
		    cmp_by(c, 0, op);
	return 0;
}

/* One side of a Duration* operator: seconds, or a duration string. */
static int
duration_operand(json_t *x, long double *ns)
{
	int64_t v;

	if (json_is_number(x)) {
		*ns = secs(num(x));
		return 0;
	}
	if (json_is_string(x) &&
	    duration_parse_ns(json_string_value(x), &v) == 0) {
		*ns = (long double)v;
		return 0;
	}
	return -1;
}

static int
duration_op(enum pol_op op, json_t *k, json_t *v)
{
	long double a, b;

	if (duration_operand(k, &a) != 0 || duration_operand(v, &b) != 0)
		return 0;
	return cmp_by(a, b, op);
}

/* ---- sets --------------------------------------------------------------- */

struct strs {
	char	**v;
	size_t	  n, cap;
};

static void
strs_add(struct strs *s, char *owned)
{
	xgrow(&s->v, &s->cap, s->n + 1, sizeof(*s->v));
	s->v[s->n++] = owned;
}

static void
strs_free(struct strs *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* fmt.Sprint of each element; strings_only refuses other elements. */
static int
strs_from_array(struct strs *s, json_t *a, int strings_only)
{
	size_t i;

	for (i = 0; i < json_array_size(a); i++) {
		json_t *e = json_array_get(a, i);

		if (strings_only && !json_is_string(e))
			return -1;
		strs_add(s, pol_sprint(e));
	}
	return 0;
}

/*
 * A string holding a JSON list of strings (a ConfigMap value, say).
 * Returns 1 and fills s, 0 when text is not JSON at all, -1 when it is
 * JSON but not a list of strings (Kyverno: invalid type).
 */
static int
strs_from_json_text(struct strs *s, const char *text)
{
	json_t *j;
	int rc;

	j = util_json_loads(text, JSON_DECODE_ANY, NULL);
	if (j == NULL)
		return 0;
	if (json_is_null(j))
		rc = 1;	/* Go: null unmarshals to an empty list */
	else if (!json_is_array(j))
		rc = -1;
	else
		rc = strs_from_array(s, j, 1) == 0 ? 1 : -1;
	json_decref(j);
	return rc;
}

/*
 * A range "lo-hi" as Kyverno's pattern operator reads it: exactly one
 * '-', each bound a number starting with a digit, optionally with a unit
 * ("1Gi-4Gi", "1h-2h").
 */
static int
is_range(const char *s)
{
	const char *dash = strchr(s, '-');

	return dash != NULL && dash != s && strchr(dash + 1, '-') == NULL &&
	    s[0] >= '0' && s[0] <= '9' && dash[1] >= '0' && dash[1] <= '9';
}

/* k against one bound: durations if the bound is one, else quantities. */
static int
bound_cmp(const char *k, const char *bound, enum pol_op op)
{
	struct quantity qa, qb;
	int64_t a, b;

	if (duration_parse_ns(bound, &b) == 0)
		return duration_parse_ns(k, &a) == 0 &&
		    cmp_by((long double)a, (long double)b, op);
	if (quantity_parse(bound, &qb) == 0)
		return quantity_parse(k, &qa) == 0 &&
		    cmp_by(quantity_cmp(&qa, &qb), 0, op);
	return 0;
}

static int
in_range(const char *k, const char *range)
{
	const char *dash = strchr(range, '-');
	char *lo = xstrndup(range, (size_t)(dash - range));
	int rc;

	rc = bound_cmp(k, lo, POL_OP_GE) && bound_cmp(k, dash + 1, POL_OP_LE);
	free(lo);
	return rc;
}

/* x matches an element of v, with wildcards on either side. */
static int
member(const char *x, const struct strs *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (util_glob(v->v[i], x) || util_glob(x, v->v[i]))
			return 1;
	return 0;
}

enum quant { ANY_IN, ALL_IN, ANY_NOT_IN, ALL_NOT_IN };

static int
quantify(enum quant q, const struct strs *keys, const struct strs *vals,
    const char *range)
{
	size_t i, hits = 0;

	for (i = 0; i < keys->n; i++)
		if (range ? in_range(keys->v[i], range) :
		    member(keys->v[i], vals))
			hits++;
	switch (q) {
	case ANY_IN:
		return hits > 0;
	case ALL_IN:
		return hits == keys->n;
	case ANY_NOT_IN:
		return hits < keys->n;
	default:
		return hits == 0;
	}
}

/* AnyIn & co. with a scalar key: 1 in, 0 not in, -1 invalid types. */
static int
scalar_in(const char *k, json_t *v)
{
	struct strs vals = { 0 };
	int rc;

	if (json_is_array(v)) {
		strs_from_array(&vals, v, 0);
		rc = member(k, &vals);
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);

		if (util_glob(s, k))
			return 1;
		if (is_range(s))
			return in_range(k, s);
		rc = strs_from_json_text(&vals, s);
		if (rc == 1) {
			size_t i;

			for (i = 0, rc = 0; i < vals.n && !rc; i++)
				rc = strcmp(vals.v[i], k) == 0;
		} else if (rc == 0)
			rc = strcmp(s, k) == 0;
	} else
		rc = -1;
	strs_free(&vals);
	return rc;
}

static int
set_op(enum quant q, json_t *k, json_t *v)
{
	struct strs keys = { 0 }, vals = { 0 };
	const char *range = NULL;
	int rc;

	if (json_is_string(k) || json_is_number(k) || json_is_boolean(k)) {
		char *ks = pol_sprint(k);

		rc = scalar_in(ks, v);
		free(ks);
		if (rc < 0)
			return 0;
		return q == ANY_IN || q == ALL_IN ? rc : !rc;
	}
	if (!json_is_array(k))
		return 0;
	strs_from_array(&keys, k, 0);
	rc = 0;
	if (json_is_array(v))
		strs_from_array(&vals, v, 0);
	else if (json_is_number(v))
		strs_add(&vals, pol_sprint(v));
	else if (json_is_string(v)) {
		const char *s = json_string_value(v);

		if (keys.n == 1 && strcmp(keys.v[0], s) == 0)
			strs_add(&vals, xstrdup(s));
		else if (is_range(s))
			range = s;
		else if ((rc = strs_from_json_text(&vals, s)) == 0)
			strs_add(&vals, xstrdup(s));
	} else
		rc = -1;
	rc = rc < 0 ? 0 : quantify(q, &keys, &vals, range);
	strs_free(&keys);
	strs_free(&vals);
	return rc;
}

/*
 * Deprecated In/NotIn: the key is the wildcard pattern against list
 * elements; a string value must be a pattern or a JSON list of strings;
 * a list key must be a subset, compared exactly.  1 in, 0 not, -1 invalid.
 */
static int
legacy_in(json_t *k, json_t *v)
{
	struct strs keys = { 0 }, vals = { 0 };
	size_t i;
	int rc = -1;

	if (json_is_string(k) || json_is_number(k)) {
		char *ks = pol_sprint(k);

		if (json_is_array(v)) {
			strs_from_array(&vals, v, 0);
			for (i = 0, rc = 0; i < vals.n && !rc; i++)
				rc = util_glob(ks, vals.v[i]);
		} else if (json_is_string(v)) {
			if (util_glob(json_string_value(v), ks))
				rc = 1;
			else if (strs_from_json_text(&vals,
			    json_string_value(v)) == 1)
				for (i = 0, rc = 0; i < vals.n && !rc; i++)
					rc = strcmp(vals.v[i], ks) == 0;
		}
		free(ks);
		strs_free(&vals);
		return rc;
	}
	if (!json_is_array(k) || strs_from_array(&keys, k, 1) != 0)
		goto out;
	if (json_is_array(v)) {
		if (strs_from_array(&vals, v, 1) != 0)
			goto out;
	} else if (json_is_string(v)) {
		if (keys.n == 1 && strcmp(keys.v[0], json_string_value(v)) ==
		    0) {
			rc = 1;
			goto out;
		}
		if (strs_from_json_text(&vals, json_string_value(v)) != 1)
			goto out;
	} else
		goto out;
	rc = 1;
	for (i = 0; i < keys.n && rc; i++) {
		size_t j;

		for (j = 0, rc = 0; j < vals.n && !rc; j++)
			rc = strcmp(keys.v[i], vals.v[j]) == 0;
	}
out:
	strs_free(&keys);
	strs_free(&vals);
	return rc;
}

/* ---- dispatch ----------------------------------------------------------- */

int
pol_op_eval(enum pol_op op, json_t *key, json_t *value)
{
	int rc;

	if (key == NULL)
		key = json_null();
	if (value == NULL)
		value = json_null();
	switch (op) {
	case POL_OP_EQUALS:
		return equals(key, value);
	case POL_OP_NOTEQUALS:
		return !equals(key, value);
	case POL_OP_IN:
		return legacy_in(key, value) == 1;
	case POL_OP_NOTIN:
		rc = legacy_in(key, value);
		return rc == 0;
	case POL_OP_ANYIN:
		return set_op(ANY_IN, key, value);
	case POL_OP_ALLIN:
		return set_op(ALL_IN, key, value);
	case POL_OP_ANYNOTIN:
		return set_op(ANY_NOT_IN, key, value);
	case POL_OP_ALLNOTIN:
		return set_op(ALL_NOT_IN, key, value);
	case POL_OP_GT:
	case POL_OP_GE:
	case POL_OP_LT:
	case POL_OP_LE:
		return numeric(op, key, value);
	case POL_OP_DGT:
	case POL_OP_DGE:
	case POL_OP_DLT:
	case POL_OP_DLE:
		return duration_op(op, key, value);
	default:
		return 0;
	}
}

int
pol_operator(const char *op, json_t *key, json_t *value, char **err)
{
	enum pol_op o = pol_op_lookup(op);

	if (o == POL_OP_NONE) {
		*err = xasprintf("unknown condition operator \"%s\"",
		    op ? op : "");
		return -1;
	}
	return pol_op_eval(o, key, value);
}
