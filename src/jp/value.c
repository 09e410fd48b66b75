/*
 * JMESPath's view of JSON values: one number type (jansson's integers and
 * reals compare by value, 1 == 1.0), deep equality, truthiness, and the
 * ordering the comparison operators and sort functions use.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jp/jp_int.h"
#include "util/gofmt.h"
#include "util/util.h"

int
jp_truthy(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return json_object_size(v) != 0;
	case JSON_ARRAY:
		return json_array_size(v) != 0;
	case JSON_STRING:
		return json_string_length(v) != 0;
	case JSON_INTEGER:
	case JSON_REAL:
	case JSON_TRUE:
		return 1;
	default:
		return 0;
	}
}

double
jp_num(const json_t *v)
{
	if (json_is_integer(v))
		return (double)json_integer_value(v);
	return json_real_value(v);
}

const char *
jp_typename(const json_t *v)
{
	return v == NULL ? "expression" : util_json_type(v);
}

/*
 * Integral values within the exactly representable range become integers
 * so they print as 3, not 3.0; anything not finite is null, as JSON has
 * no way to say it.
 */
json_t *
jp_number(double d)
{
	json_int_t i;

	switch (jp_number_kind(d, &i)) {
	case -1:
		return json_null();
	case 1:
		return json_integer(i);
	default:
		return json_real(d);
	}
}

int
jp_number_kind(double d, json_int_t *i)
{
	if (!isfinite(d))
		return -1;
	if (d == floor(d) && fabs(d) <= 9007199254740992.0) {
		*i = (json_int_t)d;
		return 1;
	}
	return 0;
}

json_t *
jp_strn(struct jp_ctx *c, const char *s, size_t n)
{
	if (jp_spend(c, 1, n) < 0)
		return NULL;
	return json_stringn_nocheck(s, n);
}

static int
num_equal(const json_t *a, const json_t *b)
{
	if (json_is_integer(a) && json_is_integer(b))
		return json_integer_value(a) == json_integer_value(b);
	return jp_num(a) == jp_num(b);
}

static int
obj_equal(const json_t *a, const json_t *b)
{
	void *it;
	const char *k;
	json_t *bv;

	if (json_object_size(a) != json_object_size(b))
		return 0;
	for (it = json_object_iter((json_t *)(uintptr_t)a); it;
	    it = json_object_iter_next((json_t *)(uintptr_t)a, it)) {
		k = json_object_iter_key(it);
		bv = json_object_getn(b, k, json_object_iter_key_len(it));
		if (bv == NULL || !jp_equal(json_object_iter_value(it), bv))
			return 0;
	}
	return 1;
}

int
jp_equal(const json_t *a, const json_t *b)
{
	size_t i, n;

	if (a == b)
		return 1;
	if (json_is_number(a) && json_is_number(b))
		return num_equal(a, b);
	if (json_typeof(a) != json_typeof(b))
		return 0;
	switch (json_typeof(a)) {
	case JSON_STRING:
		return json_string_length(a) == json_string_length(b) &&
		    memcmp(json_string_value(a), json_string_value(b),
		    json_string_length(a)) == 0;
	case JSON_ARRAY:
		n = json_array_size(a);
		if (n != json_array_size(b))
			return 0;
		for (i = 0; i < n; i++)
			if (!jp_equal(json_array_get(a, i),
			    json_array_get(b, i)))
				return 0;
		return 1;
	case JSON_OBJECT:
		return obj_equal(a, b);
	default:
		return 1;	/* true, false, null: the type says it all */
	}
}

static int
str_cmp(const json_t *a, const json_t *b)
{
	size_t la = json_string_length(a), lb = json_string_length(b);
	int r = memcmp(json_string_value(a), json_string_value(b),
	    la < lb ? la : lb);

	if (r)
		return r < 0 ? -1 : 1;
	return la < lb ? -1 : la > lb;
}

/*
 * UTF-8 byte order is code point order, so strings sort as the reference
 * implementation sorts them.
 */
int
jp_order(const json_t *a, const json_t *b, int *ok)
{
	double x, y;

	*ok = 1;
	if (json_is_integer(a) && json_is_integer(b)) {
		json_int_t i = json_integer_value(a), j = json_integer_value(b);

		return i < j ? -1 : i > j;
	}
	if (json_is_number(a) && json_is_number(b)) {
		x = jp_num(a);
		y = jp_num(b);
		return x < y ? -1 : x > y;
	}
	if (json_is_string(a) && json_is_string(b))
		return str_cmp(a, b);
	*ok = 0;
	return 0;
}

size_t
jp_utf8_len(const char *s, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			k++;
	return k;
}

json_t *
jp_str_lossy(struct jp_ctx *c, const char *s, size_t n)
{
	struct buf b;
	size_t i = 0;
	char tmp[4];
	json_t *r;

	buf_init(&b, 0);
	while (i < n)
		buf_add(&b, tmp, utf8_encode(utf8_next(s, n, &i), tmp));
	r = jp_strn(c, b.data ? b.data : "", b.len);
	buf_free(&b);
	return r;
}

int
jp_kstring(const json_t *v, char *out, size_t len, const char **s,
    size_t *n)
{
	struct buf b;
	double d;

	switch (json_typeof(v)) {
	case JSON_STRING:
		*s = json_string_value(v);
		*n = json_string_length(v);
		return 0;
	case JSON_INTEGER:
	case JSON_REAL:
		/* Go's 'f' for float32, but whatever rounds to a zero
		   float32 prints as "0", without a sign */
		d = jp_num(v);
		if (fabs(d) <= 0x1p-150)
			d = 0;
		buf_init(&b, 0);
		gofmt_float(&b, d, GOFMT_F32);
		snprintf(out, len, "%s", b.data);
		buf_free(&b);
		break;
	case JSON_TRUE:
		snprintf(out, len, "true");
		break;
	case JSON_FALSE:
		snprintf(out, len, "false");
		break;
	default:
		return -1;
	}
	*s = out;
	*n = strlen(out);
	return 0;
}
