/*
 * The functions of the JMESPath specification.  Argument types are checked
 * by the interpreter from each entry's signature before the body runs, so
 * a body checks only what a signature cannot say (the element types of an
 * array, the values an expression reference yields).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jp/jp_int.h"
#include "util/util.h"

/* What the elements of an array are: JT_NUM, JT_STR, 0 if empty, -1 mixed. */
static int
elem_kind(const json_t *a, unsigned allowed)
{
	size_t i, n = json_array_size(a);
	int k = 0, t;

	for (i = 0; i < n; i++) {
		const json_t *e = json_array_get(a, i);

		t = json_is_number(e) ? JT_NUM :
		    json_is_string(e) ? JT_STR : -1;
		if (t < 0 || !((unsigned)t & allowed) || (k && t != k))
			return -1;
		k = t;
	}
	return k;
}

static json_t *
f_abs(struct jp_call *k)
{
	json_t *v = k->args[0];
	json_int_t i;

	if (!json_is_integer(v))
		return jp_number(fabs(jp_num(v)));
	i = json_integer_value(v);
	if (i >= 0)
		return json_incref(v);
	if (i > -((json_int_t)1 << 62))
		return json_integer(-i);
	return jp_number(fabs((double)i));
}

static json_t *
f_avg(struct jp_call *k)
{
	json_t *a = k->args[0];
	size_t i, n = json_array_size(a);
	double s = 0;

	if (elem_kind(a, JT_NUM) < 0)
		return jp_arg_error(k, 0, "array of numbers"), NULL;
	if (n == 0)
		return json_null();
	for (i = 0; i < n; i++)
		s += jp_num(json_array_get(a, i));
	return jp_number(s / (double)n);
}

static json_t *
f_ceil(struct jp_call *k)
{
	if (json_is_integer(k->args[0]))
		return json_incref(k->args[0]);
	return jp_number(ceil(jp_num(k->args[0])));
}

static json_t *
f_floor(struct jp_call *k)
{
	if (json_is_integer(k->args[0]))
		return json_incref(k->args[0]);
	return jp_number(floor(jp_num(k->args[0])));
}

static json_t *
f_contains(struct jp_call *k)
{
	json_t *s = k->args[0], *x = k->args[1];
	size_t i, n;

	if (json_is_string(s))
		return json_boolean(json_is_string(x) &&
		    util_memfind(json_string_value(s), json_string_length(s),
		    json_string_value(x), json_string_length(x)) != NULL);
	n = json_array_size(s);
	for (i = 0; i < n; i++)
		if (jp_equal(json_array_get(s, i), x))
			return json_true();
	return json_false();
}

static json_t *
f_ends_with(struct jp_call *k)
{
	size_t n = json_string_length(k->args[0]);
	size_t m = json_string_length(k->args[1]);

	return json_boolean(m <= n && memcmp(json_string_value(k->args[0]) +
	    n - m, json_string_value(k->args[1]), m) == 0);
}

static json_t *
f_starts_with(struct jp_call *k)
{
	size_t n = json_string_length(k->args[0]);
	size_t m = json_string_length(k->args[1]);

	return json_boolean(m <= n && memcmp(json_string_value(k->args[0]),
	    json_string_value(k->args[1]), m) == 0);
}

static json_t *
f_join(struct jp_call *k)
{
	json_t *a = k->args[1], *r;
	size_t i, n = json_array_size(a);
	struct buf b;

	for (i = 0; i < n; i++)
		if (!json_is_string(json_array_get(a, i)))
			return jp_arg_error(k, 1, "array of strings"), NULL;
	buf_init(&b, JP_MAX_BYTES);
	for (i = 0; i < n; i++) {
		if (i)
			buf_add(&b, json_string_value(k->args[0]),
			    json_string_length(k->args[0]));
		buf_add(&b, json_string_value(json_array_get(a, i)),
		    json_string_length(json_array_get(a, i)));
	}
	r = jp_strn(k->c, b.data ? b.data : "", b.len);
	if (b.overflow && r) {
		json_decref(r);
		r = NULL;
		jp_spend(k->c, 0, (size_t)JP_MAX_BYTES + 1);
	}
	buf_free(&b);
	return r;
}

static json_t *
f_keys(struct jp_call *k)
{
	json_t *o = k->args[0], *r;
	void *it;

	if (jp_spend(k->c, 1 + json_object_size(o), 0) < 0)
		return NULL;
	r = json_array();
	for (it = json_object_iter(o); it; it = json_object_iter_next(o, it))
		json_array_append_new(r, json_stringn_nocheck(
		    json_object_iter_key(it), json_object_iter_key_len(it)));
	return r;
}

static json_t *
f_values(struct jp_call *k)
{
	json_t *o = k->args[0], *r;
	void *it;

	if (jp_spend(k->c, 1 + json_object_size(o), 0) < 0)
		return NULL;
	r = json_array();
	for (it = json_object_iter(o); it; it = json_object_iter_next(o, it))
		json_array_append(r, json_object_iter_value(it));
	return r;
}

static json_t *
f_length(struct jp_call *k)
{
	json_t *v = k->args[0];

	if (json_is_string(v))
		return json_integer((json_int_t)jp_utf8_len(
		    json_string_value(v), json_string_length(v)));
	if (json_is_array(v))
		return json_integer((json_int_t)json_array_size(v));
	return json_integer((json_int_t)json_object_size(v));
}

static json_t *
f_map(struct jp_call *k)
{
	json_t *a = k->args[1], *r, *e;
	size_t i, n = json_array_size(a);

	if (jp_spend(k->c, 1 + n, 0) < 0)
		return NULL;
	r = json_array();
	for (i = 0; i < n; i++) {
		if ((e = jp_ev(k->c, k->exprs[0], json_array_get(a, i))) ==
		    NULL) {
			json_decref(r);
			return NULL;
		}
		json_array_append_new(r, e);
	}
	return r;
}

static json_t *
minmax(struct jp_call *k, int want)
{
	json_t *a = k->args[0], *best = NULL, *e;
	size_t i, n = json_array_size(a);
	int ok;

	if (elem_kind(a, JT_NUM | JT_STR) < 0)
		return jp_arg_error(k, 0, "array of numbers or of strings"),
		    NULL;
	for (i = 0; i < n; i++) {
		e = json_array_get(a, i);
		if (best == NULL || jp_order(e, best, &ok) == want)
			best = e;
	}
	return best ? json_incref(best) : json_null();
}

static json_t *
f_max(struct jp_call *k)
{
	return minmax(k, 1);
}

static json_t *
f_min(struct jp_call *k)
{
	return minmax(k, -1);
}

/* Evaluates the key expression on e: a number or a string, else error. */
static json_t *
key_of(struct jp_call *k, int ai, json_t *e, int *kind)
{
	json_t *v;
	int t;

	if ((v = jp_ev(k->c, k->exprs[ai], e)) == NULL)
		return NULL;
	t = json_is_number(v) ? JT_NUM : json_is_string(v) ? JT_STR : 0;
	if (t == 0 || (*kind && t != *kind)) {
		jp_fail(k->c, JP_ERR_TYPE, "%s() argument %d: the expression "
		    "must yield only numbers or only strings, got %s",
		    k->node->fn->name, ai + 1, jp_typename(v));
		json_decref(v);
		return NULL;
	}
	*kind = t;
	return v;
}

static json_t *
minmax_by(struct jp_call *k, int want)
{
	json_t *a = k->args[0], *best = NULL, *bestkey = NULL, *key;
	size_t i, n = json_array_size(a);
	int kind = 0, ok;

	for (i = 0; i < n; i++) {
		if ((key = key_of(k, 1, json_array_get(a, i), &kind)) == NULL) {
			json_decref(bestkey);
			return NULL;
		}
		if (bestkey == NULL || jp_order(key, bestkey, &ok) == want) {
			json_decref(bestkey);
			bestkey = key;
			best = json_array_get(a, i);
		} else
			json_decref(key);
	}
	json_decref(bestkey);
	return best ? json_incref(best) : json_null();
}

static json_t *
f_max_by(struct jp_call *k)
{
	return minmax_by(k, 1);
}

static json_t *
f_min_by(struct jp_call *k)
{
	return minmax_by(k, -1);
}

static json_t *
f_merge(struct jp_call *k)
{
	json_t *r;
	int i;

	if (k->nargs == 1)
		return json_incref(k->args[0]);
	r = json_object();
	for (i = 0; i < k->nargs; i++) {
		if (jp_spend(k->c, json_object_size(k->args[i]), 0) < 0) {
			json_decref(r);
			return NULL;
		}
		json_object_update(r, k->args[i]);
	}
	return r;
}

static json_t *
f_not_null(struct jp_call *k)
{
	int i;

	for (i = 0; i < k->nargs; i++)
		if (!json_is_null(k->args[i]))
			return json_incref(k->args[i]);
	return json_null();
}

static json_t *
f_reverse(struct jp_call *k)
{
	json_t *v = k->args[0], *r;
	const char *s;
	char *out;
	size_t n, i, j, cl;

	if (json_is_array(v)) {
		n = json_array_size(v);
		if (jp_spend(k->c, 1 + n, 0) < 0)
			return NULL;
		r = json_array();
		for (i = n; i-- > 0;)
			json_array_append(r, json_array_get(v, i));
		return r;
	}
	/* Code points, not bytes, so UTF-8 stays valid. */
	s = json_string_value(v);
	n = json_string_length(v);
	out = xmalloc(n + 1);
	for (i = 0, j = n; i < n; i += cl) {
		cl = 1;
		while (i + cl < n && ((unsigned char)s[i + cl] & 0xc0) == 0x80)
			cl++;
		j -= cl;
		memcpy(out + j, s + i, cl);
	}
	r = jp_strn(k->c, out, n);
	free(out);
	return r;
}

struct keyed {
	json_t	*key;		/* borrowed or owned, see sort_by */
	json_t	*val;		/* borrowed */
	size_t	 idx;
};

static int
keyed_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int ok, o = jp_order(x->key, y->key, &ok);

	if (o)
		return o;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static json_t *
sorted(struct keyed *v, size_t n)
{
	json_t *r;
	size_t i;

	qsort(v, n, sizeof *v, keyed_cmp);
	r = json_array();
	for (i = 0; i < n; i++)
		json_array_append(r, v[i].val);
	return r;
}

static json_t *
f_sort(struct jp_call *k)
{
	json_t *a = k->args[0], *r;
	size_t i, n = json_array_size(a);
	struct keyed *v;

	if (elem_kind(a, JT_NUM | JT_STR) < 0)
		return jp_arg_error(k, 0, "array of numbers or of strings"),
		    NULL;
	if (jp_spend(k->c, 1 + n, 0) < 0)
		return NULL;
	v = xcalloc(n ? n : 1, sizeof *v);
	for (i = 0; i < n; i++) {
		v[i].key = v[i].val = json_array_get(a, i);
		v[i].idx = i;
	}
	r = sorted(v, n);
	free(v);
	return r;
}

static json_t *
f_sort_by(struct jp_call *k)
{
	json_t *a = k->args[0], *r = NULL;
	size_t i, n = json_array_size(a);
	struct keyed *v;
	int kind = 0;

	if (jp_spend(k->c, 1 + n, 0) < 0)
		return NULL;
	v = xcalloc(n ? n : 1, sizeof *v);
	for (i = 0; i < n; i++) {
		v[i].val = json_array_get(a, i);
		v[i].idx = i;
		if ((v[i].key = key_of(k, 1, v[i].val, &kind)) == NULL)
			goto out;
	}
	r = sorted(v, n);
out:
	for (i = 0; i < n; i++)
		json_decref(v[i].key);
	free(v);
	return r;
}

int
jp_sum_add_sum(struct jp_sum *s, const struct jp_sum *in)
{
	json_int_t i = in->is;
	double d = in->ds;
	int isint = in->ints;

	/* What jp_sum_value(in) would make. */
	if (!isint && (isint = jp_number_kind(d, &i)) < 0)
		return 0;
	s->ds += isint ? (double)i : d;
	if (s->ints && isint && !__builtin_add_overflow(s->is, i, &s->is))
		return 1;
	s->ints = 0;
	return 1;
}

json_t *
jp_sum_value(const struct jp_sum *s)
{
	return s->ints ? json_integer(s->is) : jp_number(s->ds);
}

static json_t *
f_sum(struct jp_call *k)
{
	struct jp_sum s = JP_SUM_INIT;
	json_t *a = k->args[0];
	size_t i, n = json_array_size(a);

	if (elem_kind(a, JT_NUM) < 0)
		return jp_k_sum(k);	/* quantities, durations: Kyverno's */
	for (i = 0; i < n; i++)
		jp_sum_add(&s, json_array_get(a, i));
	return jp_sum_value(&s);
}

const struct jp_func *
jp_func_sum(void)
{
	return jp_func_find("sum", 3);
}

static json_t *
f_to_array(struct jp_call *k)
{
	json_t *r;

	if (json_is_array(k->args[0]))
		return json_incref(k->args[0]);
	if (jp_spend(k->c, 2, 0) < 0)
		return NULL;
	r = json_array();
	json_array_append(r, k->args[0]);
	return r;
}

static json_t *
f_to_string(struct jp_call *k)
{
	char *s;
	json_t *r;

	if (json_is_string(k->args[0]))
		return json_incref(k->args[0]);
	s = jp_dump(k->args[0], 0);
	r = jp_strn(k->c, s, strlen(s));
	free(s);
	return r;
}

/* A JSON number, nothing before or after it. */
static int
parse_number(const char *s, size_t n, json_t **out)
{
	size_t i = 0;
	int integral = 1;
	char *end;
	double d;
	long long ll;

	if (n == 0 || n > 64 || memchr(s, '\0', n))
		return -1;
	if (s[i] == '-')
		i++;
	if (i >= n || s[i] < '0' || s[i] > '9')
		return -1;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i < n && s[i] == '.') {
		integral = 0;
		if (++i >= n || s[i] < '0' || s[i] > '9')
			return -1;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		integral = 0;
		if (++i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || s[i] < '0' || s[i] > '9')
			return -1;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i != n)
		return -1;
	if (integral && util_parse_int(s, &ll) == 0) {
		*out = json_integer(ll);
		return 0;
	}
	d = strtod(s, &end);
	*out = jp_number(d);
	return 0;
}

static json_t *
f_to_number(struct jp_call *k)
{
	json_t *v = k->args[0], *r;

	if (json_is_number(v))
		return json_incref(v);
	if (json_is_string(v) && parse_number(json_string_value(v),
	    json_string_length(v), &r) == 0)
		return r;
	return json_null();
}

static json_t *
f_type(struct jp_call *k)
{
	return json_string(jp_typename(k->args[0]));
}

#define A JT_ANY
static const struct jp_func funcs[] = {
	{ "abs", 1, 1, { JT_NUM }, f_abs, 0 },
	{ "avg", 1, 1, { JT_ARR }, f_avg, 0 },
	{ "ceil", 1, 1, { JT_NUM }, f_ceil, 0 },
	{ "contains", 2, 2, { JT_ARR | JT_STR, A }, f_contains, 0 },
	{ "ends_with", 2, 2, { JT_STR, JT_STR }, f_ends_with, 0 },
	{ "floor", 1, 1, { JT_NUM }, f_floor, 0 },
	{ "join", 2, 2, { JT_STR, JT_ARR }, f_join, 0 },
	{ "keys", 1, 1, { JT_OBJ }, f_keys, 0 },
	{ "length", 1, 1, { JT_STR | JT_ARR | JT_OBJ }, f_length, 0 },
	{ "map", 2, 2, { JT_EXPREF, JT_ARR }, f_map, 0 },
	{ "max", 1, 1, { JT_ARR }, f_max, 0 },
	{ "max_by", 2, 2, { JT_ARR, JT_EXPREF }, f_max_by, 0 },
	{ "merge", 1, -1, { JT_OBJ }, f_merge, 0 },
	{ "min", 1, 1, { JT_ARR }, f_min, 0 },
	{ "min_by", 2, 2, { JT_ARR, JT_EXPREF }, f_min_by, 0 },
	{ "not_null", 1, -1, { A }, f_not_null, 0 },
	{ "reverse", 1, 1, { JT_ARR | JT_STR }, f_reverse, 0 },
	{ "sort", 1, 1, { JT_ARR }, f_sort, 0 },
	{ "sort_by", 2, 2, { JT_ARR, JT_EXPREF }, f_sort_by, 0 },
	{ "starts_with", 2, 2, { JT_STR, JT_STR }, f_starts_with, 0 },
	{ "sum", 1, 1, { JT_ARR }, f_sum, 0 },
	{ "to_array", 1, 1, { A }, f_to_array, 0 },
	{ "to_number", 1, 1, { A }, f_to_number, 0 },
	{ "to_string", 1, 1, { A }, f_to_string, 0 },
	{ "type", 1, 1, { A }, f_type, 0 },
	{ "values", 1, 1, { JT_OBJ }, f_values, 0 },
};
#undef A

const struct jp_func *
jp_func_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(funcs); i++)
		if (len > 0 && funcs[i].name[0] == name[0] &&
		    strncmp(funcs[i].name, name, len) == 0 &&
		    funcs[i].name[len] == '\0')
			return &funcs[i];
	return NULL;
}

size_t
jp_func_names(const char **out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < UTIL_ARRAY_LEN(funcs) && n < max; i++)
		out[n++] = funcs[i].name;
	return n + jp_kyverno_names(out + n, max - n);
}
