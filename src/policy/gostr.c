/*
 * Go's ways of printing a value, as Kyverno's results depend on them.
 *
 * Kyverno holds every JSON number as a float64.  Its set operators compare
 * fmt.Sprint of each element ("1e+06" for a million), and its variable
 * substitution splices encoding/json.Marshal of a non-string result into
 * the surrounding text ("1000000", keys sorted, "<" as \u003c).  Printing
 * the same way here keeps a policy's decisions identical to the cluster's.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "policy/pol_int.h"

/*
 * The shortest decimal digits that read back as v (v finite, > 0), and
 * the decimal exponent of the first digit: v = 0.d1d2... * 10^(dp).
 */
static void
shortest(double v, char *digits, size_t dlen, int *dp)
{
	char tmp[64], *e;
	int prec;
	size_t n = 0;
	const char *p;

	for (prec = 0; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	e = strchr(tmp, 'e');
	for (p = tmp; p < e && n + 1 < dlen; p++)
		if (*p != '.')
			digits[n++] = *p;
	/* "1.50e+03" keeps no trailing zeros in Go's shortest form */
	while (n > 1 && digits[n - 1] == '0')
		n--;
	digits[n] = '\0';
	*dp = (int)strtol(e + 1, NULL, 10) + 1;
}

static void
fmt_e(struct buf *b, const char *d, int dp, int mindigits)
{
	int exp = dp - 1;

	buf_addc(b, d[0]);
	if (d[1]) {
		buf_addc(b, '.');
		buf_adds(b, d + 1);
	}
	buf_printf(b, "e%c%0*d", exp < 0 ? '-' : '+', mindigits,
	    exp < 0 ? -exp : exp);
}

static void
fmt_f(struct buf *b, const char *d, int dp)
{
	int nd = (int)strlen(d), i;

	if (dp <= 0) {
		buf_adds(b, "0.");
		for (i = 0; i < -dp; i++)
			buf_addc(b, '0');
		buf_adds(b, d);
		return;
	}
	for (i = 0; i < dp; i++)
		buf_addc(b, i < nd ? d[i] : '0');
	if (nd > dp) {
		buf_addc(b, '.');
		buf_adds(b, d + dp);
	}
}

/* json: 0 for encoding/json's choice of notation, else fmt's %v. */
static int
fmt_float(struct buf *b, double v, int json)
{
	char d[32];
	int dp, exp;
	double a = fabs(v);

	if (isnan(v) || isinf(v)) {
		if (json)
			return -1;	/* encoding/json refuses them */
		buf_adds(b, isnan(v) ? "NaN" : v < 0 ? "-Inf" : "+Inf");
		return 0;
	}
	if (v == 0) {
		buf_adds(b, signbit(v) ? "-0" : "0");
		return 0;
	}
	if (v < 0)
		buf_addc(b, '-');
	shortest(a, d, sizeof(d), &dp);
	exp = dp - 1;
	if (json) {
		/* 'e' outside [1e-6, 1e21), exponent without a leading 0 */
		if (a < 1e-6 || a >= 1e21)
			fmt_e(b, d, dp, 1);
		else
			fmt_f(b, d, dp);
	} else {
		/* %v is strconv's shortest 'g': 'e' below 1e-4 and from 1e6,
		   with at least two exponent digits (fmt.Print(1e6) is
		   "1e+06") */
		if (exp < -4 || exp >= 6)
			fmt_e(b, d, dp, 2);
		else
			fmt_f(b, d, dp);
	}
	return 0;
}

static double
num(json_t *v)
{
	return json_is_integer(v) ? (double)json_integer_value(v) :
	    json_real_value(v);
}

/* Keys of an object, sorted bytewise as Go sorts map keys. */
static int
keycmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char **
sorted_keys(json_t *o, size_t *n)
{
	const char **k, *key;
	json_t *v;
	size_t i = 0;

	*n = json_object_size(o);
	k = xcalloc(*n ? *n : 1, sizeof(*k));
	json_object_foreach(o, key, v)
		k[i++] = key;
	qsort(k, *n, sizeof(*k), keycmp);
	return k;
}

static void
sprint_into(struct buf *b, json_t *v, int depth)
{
	size_t i, n;
	const char **keys;

	if (depth > 64) {
		buf_adds(b, "...");
		return;
	}
	switch (json_typeof(v)) {
	case JSON_STRING:
		buf_add(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
	case JSON_REAL:
		fmt_float(b, num(v), 0);
		break;
	case JSON_TRUE:
		buf_adds(b, "true");
		break;
	case JSON_FALSE:
		buf_adds(b, "false");
		break;
	case JSON_NULL:
		buf_adds(b, "<nil>");
		break;
	case JSON_ARRAY:
		buf_addc(b, '[');
		for (i = 0; i < json_array_size(v); i++) {
			if (i)
				buf_addc(b, ' ');
			sprint_into(b, json_array_get(v, i), depth + 1);
		}
		buf_addc(b, ']');
		break;
	case JSON_OBJECT:
		keys = sorted_keys(v, &n);
		buf_adds(b, "map[");
		for (i = 0; i < n; i++) {
			if (i)
				buf_addc(b, ' ');
			buf_adds(b, keys[i]);
			buf_addc(b, ':');
			sprint_into(b, json_object_get(v, keys[i]), depth + 1);
		}
		buf_addc(b, ']');
		free(keys);
		break;
	}
}

char *
pol_sprint(json_t *v)
{
	struct buf b;

	buf_init(&b, POL_MAX_TEXT);
	sprint_into(&b, v, 0);
	return buf_steal(&b);
}

/* A JSON string as encoding/json writes it (HTML-safe). */
static void
marshal_string(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	buf_addc(b, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"':
		case '\\':
			buf_addc(b, '\\');
			buf_addc(b, (char)c);
			continue;
		case '\n':
			buf_adds(b, "\\n");
			continue;
		case '\r':
			buf_adds(b, "\\r");
			continue;
		case '\t':
			buf_adds(b, "\\t");
			continue;
		case '\b':
			buf_adds(b, "\\b");
			continue;
		case '\f':
			buf_adds(b, "\\f");
			continue;
		}
		if (c < 0x20 || c == '<' || c == '>' || c == '&') {
			buf_adds(b, "\\u00");
			buf_addc(b, hex[c >> 4]);
			buf_addc(b, hex[c & 15]);
		} else if (c == 0xe2 && i + 2 < n &&
		    (unsigned char)s[i + 1] == 0x80 &&
		    ((unsigned char)s[i + 2] == 0xa8 ||
		    (unsigned char)s[i + 2] == 0xa9)) {
			/* U+2028, U+2029: Go escapes them for JavaScript */
			buf_adds(b, (unsigned char)s[i + 2] == 0xa8 ?
			    "\\u2028" : "\\u2029");
			i += 2;
		} else
			buf_addc(b, (char)c);
	}
	buf_addc(b, '"');
}

static int
marshal_into(struct buf *b, json_t *v, int depth)
{
	size_t i, n;
	const char **keys;
	int rc = 0;

	if (depth > 256)
		return -1;
	switch (json_typeof(v)) {
	case JSON_STRING:
		marshal_string(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		buf_printf(b, "%lld", (long long)json_integer_value(v));
		break;
	case JSON_REAL:
		if (fmt_float(b, json_real_value(v), 1) != 0)
			return -1;
		break;
	case JSON_TRUE:
		buf_adds(b, "true");
		break;
	case JSON_FALSE:
		buf_adds(b, "false");
		break;
	case JSON_NULL:
		buf_adds(b, "null");
		break;
	case JSON_ARRAY:
		buf_addc(b, '[');
		for (i = 0; i < json_array_size(v) && rc == 0; i++) {
			if (i)
				buf_addc(b, ',');
			rc = marshal_into(b, json_array_get(v, i), depth + 1);
		}
		buf_addc(b, ']');
		break;
	case JSON_OBJECT:
		keys = sorted_keys(v, &n);
		buf_addc(b, '{');
		for (i = 0; i < n && rc == 0; i++) {
			if (i)
				buf_addc(b, ',');
			marshal_string(b, keys[i], strlen(keys[i]));
			buf_addc(b, ':');
			rc = marshal_into(b, json_object_get(v, keys[i]),
			    depth + 1);
		}
		buf_addc(b, '}');
		free(keys);
		break;
	}
	return rc;
}

int
pol_marshal(struct buf *b, json_t *v)
{
	if (marshal_into(b, v, 0) != 0 || b->overflow)
		return -1;
	return 0;
}

int
pol_json_equal(json_t *a, json_t *b)
{
	const char *key;
	json_t *av;
	size_t i;

	if (json_is_number(a) && json_is_number(b))
		return num(a) == num(b);
	if (json_typeof(a) != json_typeof(b))
		return 0;
	switch (json_typeof(a)) {
	case JSON_STRING:
		return json_string_length(a) == json_string_length(b) &&
		    memcmp(json_string_value(a), json_string_value(b),
		    json_string_length(a)) == 0;
	case JSON_ARRAY:
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (i = 0; i < json_array_size(a); i++)
			if (!pol_json_equal(json_array_get(a, i),
			    json_array_get(b, i)))
				return 0;
		return 1;
	case JSON_OBJECT:
		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach(a, key, av) {
			json_t *bv = json_object_get(b, key);

			if (bv == NULL || !pol_json_equal(av, bv))
				return 0;
		}
		return 1;
	default:
		return 1;	/* true, false, null: the type says it all */
	}
}
