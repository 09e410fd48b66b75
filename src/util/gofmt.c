/*
 * Go's ways of printing a value (see gofmt.h): strconv's shortest floats,
 * strconv.Quote, fmt.Sprint and encoding/json; and of reading a float back
 * (strconv.ParseFloat), and reflect.DeepEqual on unmarshalled JSON.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/gofmt.h"

/* ---- floats -------------------------------------------------------------- */

/*
 * The shortest digits of fabs(v) (finite, not 0) that read back as the
 * same float64, or as the same float32 when f32.
 */
static int
shortest(double v, int f32, char *dig, int *dp)
{
	char tmp[64], *e;
	int p, nd = 0, maxp = f32 ? 9 : 17;

	v = fabs(v);
	for (p = 1; p <= maxp; p++) {
		snprintf(tmp, sizeof tmp, "%.*e", p - 1, v);
		if (f32 ? strtof(tmp, NULL) == (float)v :
		    strtod(tmp, NULL) == v)
			break;
	}
	for (e = tmp; *e != '\0' && *e != 'e'; e++)
		if (*e >= '0' && *e <= '9' && nd < GOFMT_DIGITS - 1)
			dig[nd++] = *e;
	/* the shortest form never ends in 0; keep it so if printf did */
	while (nd > 1 && dig[nd - 1] == '0')
		nd--;
	dig[nd] = '\0';
	*dp = (*e == 'e' ? (int)strtol(e + 1, NULL, 10) : 0) + 1;
	return nd;
}

int
gofmt_shortest(double v, char *digits, int *dp)
{
	return shortest(v, 0, digits, dp);
}

/* d.ddde+XX; json: encoding/json drops the exponent's leading 0 (e-7). */
static void
put_e(struct buf *b, const char *dig, int nd, int dp, int json)
{
	int ex = dp - 1;

	buf_addc(b, dig[0]);
	if (nd > 1) {
		buf_addc(b, '.');
		buf_add(b, dig + 1, (size_t)nd - 1);
	}
	if (json && ex < 0 && ex > -10)
		buf_printf(b, "e-%d", -ex);
	else
		buf_printf(b, "e%c%02d", ex < 0 ? '-' : '+', abs(ex));
}

static void
put_f(struct buf *b, const char *dig, int nd, int dp)
{
	int i;

	if (dp <= 0) {
		buf_adds(b, "0.");
		for (i = 0; i < -dp; i++)
			buf_addc(b, '0');
		buf_add(b, dig, (size_t)nd);
	} else if (dp >= nd) {
		buf_add(b, dig, (size_t)nd);
		for (i = nd; i < dp; i++)
			buf_addc(b, '0');
	} else {
		buf_add(b, dig, (size_t)dp);
		buf_addc(b, '.');
		buf_add(b, dig + dp, (size_t)(nd - dp));
	}
}

int
gofmt_float(struct buf *b, double d, enum gofmt_float mode)
{
	char dig[GOFMT_DIGITS];
	int nd, dp, ex;
	double a;

	if (mode == GOFMT_F32) {
		/* Go's float32(d): past the midpoint between FLT_MAX and
		   2^128 it rounds to an infinity (a C cast would be UB) */
		if (fabs(d) >= 0x1.ffffffp127)
			d = copysign(INFINITY, d);
		else
			d = (float)d;
	}
	if (isnan(d) || isinf(d)) {
		if (mode == GOFMT_JSON)
			return -1;	/* encoding/json refuses them */
		buf_adds(b, isnan(d) ? "NaN" : d > 0 ? "+Inf" : "-Inf");
		return 0;
	}
	if (signbit(d))
		buf_addc(b, '-');
	a = fabs(d);
	if (a == 0) {
		buf_addc(b, '0');
		return 0;
	}
	nd = shortest(a, mode == GOFMT_F32, dig, &dp);
	ex = dp - 1;
	switch (mode) {
	case GOFMT_V:
		/* %v is 'g' with the shortest digits: 'e' below 1e-4 and
		   from 1e6 (fmt.Print(1e6) is "1e+06") */
		if (ex < -4 || ex >= 6)
			put_e(b, dig, nd, dp, 0);
		else
			put_f(b, dig, nd, dp);
		break;
	case GOFMT_JSON:
		if (a < 1e-6 || a >= 1e21)
			put_e(b, dig, nd, dp, 1);
		else
			put_f(b, dig, nd, dp);
		break;
	case GOFMT_F:
	case GOFMT_F32:
		put_f(b, dig, nd, dp);
		break;
	}
	return 0;
}

/* ---- strconv.Quote ------------------------------------------------------- */

/* Go's unicode.IsPrint, approximated for the runes that matter in
 * practice: C1 controls, the odd spaces, line/paragraph separators. */
static int
go_isprint(long r)
{
	if (r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0))
		return 0;
	if (r == 0xa0 || r == 0xad || r == 0x2028 || r == 0x2029 ||
	    r == 0xfeff || (r >= 0x2000 && r <= 0x200f) || r == 0x3000)
		return 0;
	return 1;
}

void
gofmt_quote(struct buf *b, const char *s, size_t n)
{
	size_t i = 0, len;
	long r;

	buf_addc(b, '"');
	while (i < n) {
		r = utf8_decode(s + i, n - i, &len);
		if (r < 0) {
			buf_printf(b, "\\x%02x", (unsigned char)s[i]);
			i++;
			continue;
		}
		switch (r) {
		case '"':	buf_adds(b, "\\\""); break;
		case '\\':	buf_adds(b, "\\\\"); break;
		case '\a':	buf_adds(b, "\\a"); break;
		case '\b':	buf_adds(b, "\\b"); break;
		case '\f':	buf_adds(b, "\\f"); break;
		case '\n':	buf_adds(b, "\\n"); break;
		case '\r':	buf_adds(b, "\\r"); break;
		case '\t':	buf_adds(b, "\\t"); break;
		case '\v':	buf_adds(b, "\\v"); break;
		default:
			if (go_isprint(r))
				buf_add(b, s + i, len);
			else if (r < 0x80)
				buf_printf(b, "\\x%02lx", r);
			else if (r < 0x10000)
				buf_printf(b, "\\u%04lx", r);
			else
				buf_printf(b, "\\U%08lx", r);
		}
		i += len;
	}
	buf_addc(b, '"');
}

/* ---- fmt.Sprint ---------------------------------------------------------- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of an object, sorted as Go sorts map keys (bytewise). Owned. */
static const char **
sorted_keys(json_t *o, size_t *n)
{
	const char **keys, *k;
	json_t *v;
	size_t i = 0;

	*n = json_object_size(o);
	keys = xcalloc(*n ? *n : 1, sizeof *keys);
	json_object_foreach(o, k, v) {
		(void)v;
		keys[i++] = k;
	}
	qsort(keys, *n, sizeof *keys, cmp_str);
	return keys;
}

static double
num(json_t *v)
{
	return json_is_integer(v) ? (double)json_integer_value(v) :
	    json_real_value(v);
}

static void
sprint(struct buf *b, json_t *v, int depth)
{
	const char **keys;
	size_t i, n;

	if (depth > GOFMT_MAX_DEPTH) {
		buf_adds(b, "...");
		return;
	}
	switch (json_typeof(v)) {
	case JSON_STRING:
		buf_add(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
	case JSON_REAL:
		gofmt_float(b, num(v), GOFMT_V);
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
	case JSON_OBJECT:
		keys = sorted_keys(v, &n);
		buf_adds(b, "map[");
		for (i = 0; i < n; i++) {
			if (i)
				buf_addc(b, ' ');
			buf_adds(b, keys[i]);
			buf_addc(b, ':');
			sprint(b, json_object_get(v, keys[i]), depth + 1);
		}
		buf_addc(b, ']');
		free(keys);
		break;
	case JSON_ARRAY:
		buf_addc(b, '[');
		for (i = 0; i < json_array_size(v); i++) {
			if (i)
				buf_addc(b, ' ');
			sprint(b, json_array_get(v, i), depth + 1);
		}
		buf_addc(b, ']');
		break;
	}
}

void
gofmt_sprint(struct buf *b, json_t *v)
{
	sprint(b, v, 0);
}

/* ---- encoding/json ------------------------------------------------------- */

static void
marshal_string(struct buf *b, const char *s, size_t n, int flags)
{
	size_t i = 0, len;
	long r;

	buf_addc(b, '"');
	while (i < n) {
		r = utf8_decode(s + i, n - i, &len);
		if (r < 0)
			buf_adds(b, "\\ufffd");
		else if (r == '"' || r == '\\') {
			buf_addc(b, '\\');
			buf_addc(b, (char)r);
		} else if (r == '\n')
			buf_adds(b, "\\n");
		else if (r == '\r')
			buf_adds(b, "\\r");
		else if (r == '\t')
			buf_adds(b, "\\t");
		else if ((r == '\b' || r == '\f') && !(flags & GOFMT_HEX_BF))
			buf_adds(b, r == '\b' ? "\\b" : "\\f");
		else if (r < 0x20 || r == 0x2028 || r == 0x2029 ||
		    ((flags & GOFMT_HTML) && (r == '<' || r == '>' ||
		    r == '&')))
			buf_printf(b, "\\u%04lx", r);
		else
			buf_add(b, s + i, len);
		i += len;
	}
	buf_addc(b, '"');
}

static void
indent(struct buf *b, int flags, int depth)
{
	int i;

	if (!(flags & GOFMT_INDENT))
		return;
	buf_addc(b, '\n');
	for (i = 0; i < depth; i++)
		buf_adds(b, "  ");
}

static int marshal_value(struct buf *, json_t *, int, int);

static int
marshal_member(struct buf *b, const char *k, json_t *v, int flags,
    int depth)
{
	indent(b, flags, depth + 1);
	marshal_string(b, k, strlen(k), flags);
	buf_adds(b, flags & GOFMT_INDENT ? ": " : ":");
	return marshal_value(b, v, flags, depth + 1);
}

static int
marshal_object(struct buf *b, json_t *v, int flags, int depth)
{
	const char **keys, *k;
	json_t *m;
	size_t i = 0, n;
	int rc = 0;

	buf_addc(b, '{');
	if (flags & GOFMT_KEEP_ORDER) {
		json_object_foreach(v, k, m) {
			if (rc != 0)
				break;
			if (i++)
				buf_addc(b, ',');
			rc = marshal_member(b, k, m, flags, depth);
		}
	} else {
		keys = sorted_keys(v, &n);
		for (i = 0; i < n && rc == 0; i++) {
			if (i)
				buf_addc(b, ',');
			rc = marshal_member(b, keys[i], json_object_get(v,
			    keys[i]), flags, depth);
		}
		free(keys);
	}
	if (json_object_size(v))
		indent(b, flags, depth);
	buf_addc(b, '}');
	return rc;
}

static int
marshal_value(struct buf *b, json_t *v, int flags, int depth)
{
	size_t i, n;
	int rc = 0;

	if (depth > GOFMT_MAX_DEPTH)
		return -1;
	switch (json_typeof(v)) {
	case JSON_STRING:
		marshal_string(b, json_string_value(v),
		    json_string_length(v), flags);
		break;
	case JSON_INTEGER:
		buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		rc = gofmt_float(b, json_real_value(v), GOFMT_JSON);
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
	case JSON_OBJECT:
		rc = marshal_object(b, v, flags, depth);
		break;
	case JSON_ARRAY:
		n = json_array_size(v);
		buf_addc(b, '[');
		for (i = 0; i < n && rc == 0; i++) {
			if (i)
				buf_addc(b, ',');
			indent(b, flags, depth + 1);
			rc = marshal_value(b, json_array_get(v, i), flags,
			    depth + 1);
		}
		if (n)
			indent(b, flags, depth);
		buf_addc(b, ']');
		break;
	}
	return rc;
}

int
gofmt_json(struct buf *b, json_t *v, int flags)
{
	if (marshal_value(b, v, flags, 0) != 0 || b->overflow)
		return -1;
	return 0;
}

/* ---- strconv.ParseFloat -------------------------------------------------- */

/* Go's underscoreOK: '_' only between digits or after a base prefix. */
static int
underscore_ok(const char *s)
{
	char saw = '^';
	int hex = 0;

	if (*s == '+' || *s == '-')
		s++;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X' || s[1] == 'b' ||
	    s[1] == 'B' || s[1] == 'o' || s[1] == 'O')) {
		hex = s[1] == 'x' || s[1] == 'X';
		saw = '0';	/* the prefix counts as a digit */
		s += 2;
	}
	for (; *s; s++) {
		if (isdigit((unsigned char)*s) || (hex &&
		    isxdigit((unsigned char)*s))) {
			saw = '0';
			continue;
		}
		if (*s == '_') {
			if (saw != '0')
				return 0;
			saw = '_';
			continue;
		}
		if (saw == '_')
			return 0;
		saw = '!';
	}
	return saw != '_';
}

/* Go's readFloat, for syntax only: 1 if s is a Go float literal. */
static int
float_syntax(const char *s, int *underscores)
{
	const char *p = s;
	int hex = 0, digits = 0, dot = 0;

	if (*p == '+' || *p == '-')
		p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && p[2] != '\0') {
		hex = 1;
		p += 2;
	}
	for (; *p; p++) {
		if (*p == '_')
			*underscores = 1;
		else if (*p == '.' && !dot)
			dot = 1;
		else if (isdigit((unsigned char)*p) || (hex &&
		    isxdigit((unsigned char)*p)))
			digits = 1;
		else
			break;
	}
	if (!digits)
		return 0;
	if ((*p | 0x20) == (hex ? 'p' : 'e')) {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return 0;
		for (; isdigit((unsigned char)*p) || *p == '_'; p++)
			if (*p == '_')
				*underscores = 1;
	} else if (hex)
		return 0;	/* a hex mantissa needs its p exponent */
	return *p == '\0';
}

int
gofmt_parse_float(const char *s, double *out)
{
	const char *p = s + (*s == '+' || *s == '-');
	int underscores = 0;
	char *clean, *end;
	size_t i, j;
	double v;

	*out = 0;
	if (strcasecmp(p, "inf") == 0 || strcasecmp(p, "infinity") == 0) {
		*out = *s == '-' ? -INFINITY : INFINITY;
		return 0;
	}
	if (p == s && strcasecmp(s, "nan") == 0) {
		*out = NAN;		/* no sign: Go refuses "-nan" */
		return 0;
	}
	if (!float_syntax(s, &underscores) ||
	    (underscores && !underscore_ok(s)))
		return -1;
	/* strtod reads the same literal once the underscores are gone */
	clean = xstrdup(s);
	for (i = j = 0; clean[i]; i++)
		if (clean[i] != '_')
			clean[j++] = clean[i];
	clean[j] = '\0';
	errno = 0;
	v = strtod(clean, &end);
	i = *end != '\0';
	free(clean);
	if (i)
		return -1;
	*out = v;
	/* Go: overflow is an infinity and an error; underflow no error */
	return errno == ERANGE && fabs(v) > 1 ? -1 : 0;
}

/* ---- reflect.DeepEqual --------------------------------------------------- */

int
gofmt_equal(json_t *a, json_t *b)
{
	const char *key;
	json_t *av, *bv;
	size_t i;

	if (a == NULL || b == NULL)
		return a == b;
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
			if (!gofmt_equal(json_array_get(a, i),
			    json_array_get(b, i)))
				return 0;
		return 1;
	case JSON_OBJECT:
		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach(a, key, av) {
			bv = json_object_get(b, key);
			if (bv == NULL || !gofmt_equal(av, bv))
				return 0;
		}
		return 1;
	default:
		return 1;	/* true, false, null: the type says it all */
	}
}
