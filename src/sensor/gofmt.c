/*
 * Go's way of printing values.  Argo Events is written in Go: a number in
 * event data is a float64 after json.Unmarshal, `{{ .Input.n }}` prints it
 * with fmt's %v (1e+06, not 1000000), gjson's String() prints it with
 * strconv 'f', and sprig's toJson with encoding/json.  Users compare our
 * output with what Argo produced, so these are reproduced exactly.
 *
 * The shortest round-tripping digits come from printf("%.*e") at rising
 * precision: the correctly rounded p-digit decimal is the one Go's
 * shortest formatting picks whenever p digits suffice.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/sensor_int.h"

#define GOJSON_KEEP_ORDER 0x100	/* internal: gjson Raw keeps key order */

/* d finite and > 0: digits into dig (17 max), count returned, *dp such
 * that d = 0.DIGITS x 10^dp. */
static int
shortest(double d, char *dig, int *dp)
{
	char tmp[64], *e;
	int p, nd = 0;

	for (p = 1; p <= 17; p++) {
		snprintf(tmp, sizeof tmp, "%.*e", p - 1, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	for (e = tmp; *e != '\0' && *e != 'e'; e++)
		if (isdigit((unsigned char)*e) && nd < 17)
			dig[nd++] = *e;
	while (nd > 1 && dig[nd - 1] == '0')
		nd--;
	*dp = (*e == 'e' ? (int)strtol(e + 1, NULL, 10) : 0) + 1;
	return nd;
}

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
		buf_printf(b, "e-%d", -ex);	/* json writes e-7, not e-07 */
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

void
sensor_fmt_float(struct buf *b, double d, enum gofloat mode)
{
	char dig[20];
	int nd, dp, ex;
	double a;

	if (isnan(d)) {
		buf_adds(b, "NaN");
		return;
	}
	if (isinf(d)) {
		buf_adds(b, d > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (signbit(d))
		buf_addc(b, '-');
	a = fabs(d);
	if (a == 0) {
		buf_addc(b, '0');
		return;
	}
	nd = shortest(a, dig, &dp);
	ex = dp - 1;
	switch (mode) {
	case GOFLOAT_V:
		if (ex < -4 || ex >= 6)
			put_e(b, dig, nd, dp, 0);
		else
			put_f(b, dig, nd, dp);
		break;
	case GOFLOAT_F:
		put_f(b, dig, nd, dp);
		break;
	case GOFLOAT_JSON:
		if (a < 1e-6 || a >= 1e21)
			put_e(b, dig, nd, dp, 1);
		else
			put_f(b, dig, nd, dp);
		break;
	}
}

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
sensor_fmt_quote(struct buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, len;
	long r;

	buf_addc(b, '"');
	while (i < n) {
		r = utf8_decode(s + i, n - i, &len);
		if (r < 0) {
			buf_printf(b, "\\x%02x", p[i]);
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
				buf_add(b, p + i, len);
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

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of an object, sorted as Go sorts map keys (bytewise). */
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

void
sensor_fmt_json_v(struct buf *b, json_t *v)
{
	const char **keys;
	size_t i, n;

	switch (json_typeof(v)) {
	case JSON_STRING:
		buf_add(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		sensor_fmt_float(b, (double)json_integer_value(v), GOFLOAT_V);
		break;
	case JSON_REAL:
		sensor_fmt_float(b, json_real_value(v), GOFLOAT_V);
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
			sensor_fmt_json_v(b, json_object_get(v, keys[i]));
		}
		buf_addc(b, ']');
		free(keys);
		break;
	case JSON_ARRAY:
		buf_addc(b, '[');
		for (i = 0; i < json_array_size(v); i++) {
			if (i)
				buf_addc(b, ' ');
			sensor_fmt_json_v(b, json_array_get(v, i));
		}
		buf_addc(b, ']');
		break;
	}
}

static void
json_str(struct buf *b, const char *s, size_t n, int flags)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, len;
	long r;

	buf_addc(b, '"');
	while (i < n) {
		r = utf8_decode(s + i, n - i, &len);
		if (r < 0) {
			buf_adds(b, "\\ufffd");
			i++;
			continue;
		}
		if (r == '"')
			buf_adds(b, "\\\"");
		else if (r == '\\')
			buf_adds(b, "\\\\");
		else if (r == '\n')
			buf_adds(b, "\\n");
		else if (r == '\r')
			buf_adds(b, "\\r");
		else if (r == '\t')
			buf_adds(b, "\\t");
		else if (r < 0x20 || r == 0x2028 || r == 0x2029 ||
		    ((flags & GOJSON_HTML) && (r == '<' || r == '>' ||
		    r == '&')))
			buf_printf(b, "\\u%04lx", r);
		else
			buf_add(b, p + i, len);
		i += len;
	}
	buf_addc(b, '"');
}

static void
indent(struct buf *b, int flags, int depth)
{
	int i;

	if (!(flags & GOJSON_INDENT))
		return;
	buf_addc(b, '\n');
	for (i = 0; i < depth; i++)
		buf_adds(b, "  ");
}

static int
gojson(struct buf *b, json_t *v, int flags, int depth)
{
	const char **keys = NULL, *k;
	json_t *m;
	size_t i, n;
	double d;
	int rc = 0;

	switch (json_typeof(v)) {
	case JSON_STRING:
		json_str(b, json_string_value(v), json_string_length(v), flags);
		break;
	case JSON_INTEGER:
		buf_printf(b, "%lld", (long long)json_integer_value(v));
		break;
	case JSON_REAL:
		d = json_real_value(v);
		if (isnan(d) || isinf(d))
			return -1;
		sensor_fmt_float(b, d, GOFLOAT_JSON);
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
		n = json_object_size(v);
		buf_addc(b, '{');
		if (flags & GOJSON_KEEP_ORDER) {
			i = 0;
			json_object_foreach(v, k, m) {
				if (i++)
					buf_addc(b, ',');
				json_str(b, k, strlen(k), flags);
				buf_addc(b, ':');
				if (gojson(b, m, flags, depth + 1) == -1)
					rc = -1;
			}
		} else {
			keys = sorted_keys(v, &n);
			for (i = 0; i < n; i++) {
				if (i)
					buf_addc(b, ',');
				indent(b, flags, depth + 1);
				json_str(b, keys[i], strlen(keys[i]), flags);
				buf_adds(b, flags & GOJSON_INDENT ? ": " : ":");
				m = json_object_get(v, keys[i]);
				if (gojson(b, m, flags, depth + 1) == -1)
					rc = -1;
			}
			free(keys);
			if (n)
				indent(b, flags, depth);
		}
		buf_addc(b, '}');
		break;
	case JSON_ARRAY:
		n = json_array_size(v);
		buf_addc(b, '[');
		for (i = 0; i < n; i++) {
			if (i)
				buf_addc(b, ',');
			indent(b, flags, depth + 1);
			if (gojson(b, json_array_get(v, i), flags, depth + 1) ==
			    -1)
				rc = -1;
		}
		if (n)
			indent(b, flags, depth);
		buf_addc(b, ']');
		break;
	}
	return rc;
}

int
sensor_fmt_gojson(struct buf *b, json_t *v, int flags)
{
	return gojson(b, v, flags, 0);
}

void
sensor_fmt_gjson(struct buf *b, json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		buf_add(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		buf_printf(b, "%lld", (long long)json_integer_value(v));
		break;
	case JSON_REAL:
		sensor_fmt_float(b, json_real_value(v), GOFLOAT_F);
		break;
	case JSON_TRUE:
		buf_adds(b, "true");
		break;
	case JSON_FALSE:
		buf_adds(b, "false");
		break;
	case JSON_NULL:
		break;
	case JSON_OBJECT:
	case JSON_ARRAY:
		(void)gojson(b, v, GOJSON_KEEP_ORDER, 0);
		break;
	}
}

int
sensor_parse_float(const char *s, double *out)
{
	char *end;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -1;
	*out = strtod(s, &end);
	return *end == '\0' ? 0 : -1;
}

int
sensor_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true",
	    "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false",
	    "False" };
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(yes); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}
