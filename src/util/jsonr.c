/*
 * Reading JSON text into jansson trees, faster than jansson's own reader.
 *
 * jansson's json_loadb takes each byte through a stream callback, a
 * UTF-8 check and a saved-text buffer, then copies every string twice:
 * about 25 instructions a byte, before the tree is built.  remediate reads
 * a lot of JSON on hot paths (each webhook body, each watch event of a
 * real API server's 5-8 KB Pods, each replay line), and jansson's read was
 * the largest single cost of webhook ingest (38% of a request's CPU).
 * This reader scans strings eight bytes at a time and builds the same
 * tree with jansson's own constructors.
 *
 * Its contract is jansson's, exactly: it accepts what json_loadb accepts
 * and builds the same tree, with the same key order and number types.
 * Whenever it meets something it does not decide itself (any error, an
 * integer that may not fit, a real it would have to convert in a locale
 * whose decimal point is not '.'), it hands the whole text to jansson and
 * returns jansson's answer, so every error message, line, column and
 * position is jansson's own.  Unusual flags go to jansson directly.
 * tests/unit/test_util.c holds both to the same answers on generated,
 * mutated and truncated documents.
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/* jansson's JSON_PARSER_MAX_DEPTH (not in its public header) */
#define MAX_DEPTH	2048
#define FLAGS_HERE	(JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | \
			 JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL)

static atomic_size_t fallbacks;

struct rd {
	const unsigned char	*p, *end;
	size_t			 flags;
	int			 depth;
	struct buf		 str;	/* a string with escapes, decoded */
};

static int
is_ws(unsigned c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static void
skip_ws(struct rd *r)
{
	while (r->p < r->end && is_ws(*r->p))
		r->p++;
}

/*
 * Whether any of the 8 bytes of w is '"', '\\', below 0x20 or above
 * 0x7f: the bytes a string's plain run stops at.  (Bit tricks of the
 * "has a zero byte" kind; exact for each byte.)
 */
static int
word_stops(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t high = 0x8080808080808080ULL;
	uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');

	return (((q - ones) & ~q) | ((b - ones) & ~b) |
	    ((w - ones * 0x20) & ~w) | w) & high ? 1 : 0;
}

/* The 4 hex digits at p (end checked by the caller), or -1. */
static long
hex4(const unsigned char *p)
{
	long v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		v <<= 4;
		if (p[i] >= '0' && p[i] <= '9')
			v |= p[i] - '0';
		else if (p[i] >= 'a' && p[i] <= 'f')
			v |= p[i] - 'a' + 10;
		else if (p[i] >= 'A' && p[i] <= 'F')
			v |= p[i] - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/*
 * One escape after its backslash (r->p at the letter), decoded onto
 * r->str.  -1 for what jansson refuses (or decodes to a NUL: the caller
 * decides those through jansson too).
 */
static int
escape(struct rd *r)
{
	char out[4];
	long u, lo;

	if (r->p >= r->end)
		return -1;
	switch (*r->p++) {
	case '"':	return buf_addc(&r->str, '"') < 0 ? -1 : 0;
	case '\\':	return buf_addc(&r->str, '\\') < 0 ? -1 : 0;
	case '/':	return buf_addc(&r->str, '/') < 0 ? -1 : 0;
	case 'b':	return buf_addc(&r->str, '\b') < 0 ? -1 : 0;
	case 'f':	return buf_addc(&r->str, '\f') < 0 ? -1 : 0;
	case 'n':	return buf_addc(&r->str, '\n') < 0 ? -1 : 0;
	case 'r':	return buf_addc(&r->str, '\r') < 0 ? -1 : 0;
	case 't':	return buf_addc(&r->str, '\t') < 0 ? -1 : 0;
	case 'u':
		break;
	default:
		return -1;
	}
	/*
	 * \u0000 too: the only way a NUL gets into a string (a raw one is a
	 * control byte), so the keys and values this reader builds never
	 * hold one and JSON_ALLOW_NUL's texts are all jansson's.
	 */
	if (r->end - r->p < 4 || (u = hex4(r->p)) <= 0)
		return -1;
	r->p += 4;
	if (u >= 0xdc00 && u <= 0xdfff)
		return -1;
	if (u >= 0xd800 && u <= 0xdbff) {
		if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' ||
		    (lo = hex4(r->p + 2)) < 0xdc00 || lo > 0xdfff)
			return -1;
		r->p += 6;
		u = ((u - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
	}
	return buf_add(&r->str, out, utf8_encode((uint32_t)u, out)) < 0 ?
	    -1 : 0;
}

/*
 * The string whose opening quote r->p is past: *s and *len point into the
 * text, or into r->str when it holds escapes (valid until the next
 * string).  -1 for what jansson refuses: a control byte, bad UTF-8, a bad
 * escape, no closing quote.
 */
static int
string(struct rd *r, const char **s, size_t *len)
{
	const unsigned char *start = r->p, *run;
	int escaped = 0;
	uint64_t w;
	size_t n;

	for (;;) {
		run = r->p;
		while (r->end - r->p >= 8) {
			memcpy(&w, r->p, 8);
			if (word_stops(w))
				break;
			r->p += 8;
		}
		while (r->p < r->end && *r->p >= 0x20 && *r->p < 0x80 &&
		    *r->p != '"' && *r->p != '\\')
			r->p++;
		if (escaped && buf_add(&r->str, run, (size_t)(r->p - run)) < 0)
			return -1;
		if (r->p >= r->end || *r->p < 0x20)
			return -1;
		if (*r->p == '"')
			break;
		if (*r->p == '\\') {
			if (!escaped) {
				buf_reset(&r->str);
				if (buf_add(&r->str, start, (size_t)(r->p -
				    start)) < 0)
					return -1;
				escaped = 1;
			}
			r->p++;
			if (escape(r) != 0)
				return -1;
			continue;
		}
		/* a byte above 0x7f: one whole, valid UTF-8 sequence */
		run = r->p;
		if (utf8_decode((const char *)r->p, (size_t)(r->end - r->p),
		    &n) < 0)
			return -1;
		r->p += n;
		if (escaped && buf_add(&r->str, run, n) < 0)
			return -1;
	}
	if (escaped) {
		*s = r->str.data ? r->str.data : "";
		*len = r->str.len;
	} else {
		*s = (const char *)start;
		*len = (size_t)(r->p - start);
	}
	r->p++;		/* the closing quote */
	return 0;
}

static int
is_digit(const unsigned char *p, const unsigned char *end)
{
	return p < end && *p >= '0' && *p <= '9';
}

/*
 * A number as jansson lexes it: an integer when it has no fraction or
 * exponent (strtoll's value; one that may not fit goes to jansson, which
 * refuses it), else a real (strtod's, refused on overflow).
 */
static json_t *
number(struct rd *r)
{
	const unsigned char *start = r->p;
	char tmp[64];
	int neg = 0, real = 0;
	uint64_t v = 0;
	size_t n, digits = 0;
	double d;

	if (*r->p == '-') {
		neg = 1;
		r->p++;
	}
	if (!is_digit(r->p, r->end))
		return NULL;
	if (*r->p == '0') {
		r->p++;
		if (is_digit(r->p, r->end))
			return NULL;
	} else
		for (; is_digit(r->p, r->end); r->p++, digits++)
			v = v * 10 + (uint64_t)(*r->p - '0');
	if (r->p < r->end && *r->p == '.') {
		r->p++;
		if (!is_digit(r->p, r->end))
			return NULL;
		while (is_digit(r->p, r->end))
			r->p++;
		real = 1;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (!is_digit(r->p, r->end))
			return NULL;
		while (is_digit(r->p, r->end))
			r->p++;
		real = 1;
	}
	if (!real) {
		if (digits > 18)	/* 19 digits may pass INT64_MAX */
			return NULL;
		return json_integer(neg ? -(json_int_t)v : (json_int_t)v);
	}
	n = (size_t)(r->p - start);
	if (n >= sizeof tmp || localeconv()->decimal_point[0] != '.' ||
	    localeconv()->decimal_point[1] != '\0')
		return NULL;
	memcpy(tmp, start, n);
	tmp[n] = '\0';
	errno = 0;
	d = strtod(tmp, NULL);
	if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL))
		return NULL;
	return json_real(d);
}

/* A literal's word: refused when more letters follow ("nullx"). */
static json_t *
literal(struct rd *r, const char *word, size_t n, json_t *v)
{
	const unsigned char *q;

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return NULL;
	q = r->p + n;
	if (q < r->end && ((*q >= 'a' && *q <= 'z') || (*q >= 'A' &&
	    *q <= 'Z')))
		return NULL;
	r->p = q;
	return v;
}

static json_t *value(struct rd *);

static json_t *
object(struct rd *r)
{
	json_t *o = json_object(), *v;
	const char *k;
	char *kcopy = NULL;
	size_t klen;

	skip_ws(r);
	if (r->p < r->end && *r->p == '}') {
		r->p++;
		return o;
	}
	for (;;) {
		if (r->p >= r->end || *r->p != '"')
			goto bad;
		r->p++;
		if (string(r, &k, &klen) != 0)
			goto bad;
		/* a decoded key lives in r->str, which the value reuses */
		kcopy = k == r->str.data ? xstrndup(k, klen) : NULL;
		if (kcopy)
			k = kcopy;
		if ((r->flags & JSON_REJECT_DUPLICATES) &&
		    json_object_getn(o, k, klen) != NULL)
			goto bad_key;
		skip_ws(r);
		if (r->p >= r->end || *r->p != ':')
			goto bad_key;
		r->p++;
		skip_ws(r);
		if ((v = value(r)) == NULL)
			goto bad_key;
		if (json_object_setn_new_nocheck(o, k, klen, v) != 0)
			goto bad_key;
		free(kcopy);
		kcopy = NULL;
		skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			skip_ws(r);
			continue;
		}
		if (r->p < r->end && *r->p == '}') {
			r->p++;
			return o;
		}
		goto bad;
	}
bad_key:
	free(kcopy);
bad:
	json_decref(o);
	return NULL;
}

static json_t *
array(struct rd *r)
{
	json_t *a = json_array(), *v;

	skip_ws(r);
	if (r->p < r->end && *r->p == ']') {
		r->p++;
		return a;
	}
	for (;;) {
		if ((v = value(r)) == NULL || json_array_append_new(a, v) != 0)
			break;
		skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			skip_ws(r);
			continue;
		}
		if (r->p < r->end && *r->p == ']') {
			r->p++;
			return a;
		}
		break;
	}
	json_decref(a);
	return NULL;
}

/* The value at r->p (blanks skipped before): a new reference, or NULL. */
static json_t *
value(struct rd *r)
{
	const char *s;
	json_t *v = NULL;
	size_t n;

	/* jansson counts every value, scalars too, against its depth */
	if (r->p >= r->end || ++r->depth > MAX_DEPTH)
		return NULL;
	switch (*r->p) {
	case '{':
		r->p++;
		v = object(r);
		break;
	case '[':
		r->p++;
		v = array(r);
		break;
	case '"':
		r->p++;
		if (string(r, &s, &n) == 0)
			v = json_stringn_nocheck(s, n);
		break;
	case 't':
		v = literal(r, "true", 4, json_true());
		break;
	case 'f':
		v = literal(r, "false", 5, json_false());
		break;
	case 'n':
		v = literal(r, "null", 4, json_null());
		break;
	default:
		if (*r->p == '-' || (*r->p >= '0' && *r->p <= '9'))
			v = number(r);
	}
	r->depth--;
	return v;
}

static json_t *
load(const char *text, size_t n, size_t flags, json_error_t *err,
    int nul_ends)
{
	struct rd r;
	json_t *v = NULL;

	if (text == NULL || (flags & ~(size_t)FLAGS_HERE) != 0)
		goto jansson;
	r.p = (const unsigned char *)text;
	r.end = r.p + n;
	r.flags = flags;
	r.depth = 0;
	buf_init(&r.str, 0);
	skip_ws(&r);
	if (r.p < r.end && ((flags & JSON_DECODE_ANY) || *r.p == '{' ||
	    *r.p == '['))
		v = value(&r);
	if (v && !(flags & JSON_DISABLE_EOF_CHECK)) {
		skip_ws(&r);
		if (r.p != r.end) {
			json_decref(v);
			v = NULL;
		}
	}
	buf_free(&r.str);
	if (v == NULL)
		goto jansson;
	if (err) {
		/* as jansson leaves it after a success */
		memset(err, 0, sizeof *err);
		err->line = -1;
		err->column = -1;
		err->position = (int)(r.p - (const unsigned char *)text);
		snprintf(err->source, sizeof err->source, "%s", nul_ends ?
		    "<string>" : "<buffer>");
	}
	return v;
jansson:
	atomic_fetch_add_explicit(&fallbacks, 1, memory_order_relaxed);
	return nul_ends ? json_loads(text, flags, err) :
	    json_loadb(text, n, flags, err);
}

json_t *
util_json_loadb(const char *text, size_t n, size_t flags, json_error_t *err)
{
	return load(text, n, flags, err, 0);
}

json_t *
util_json_loads(const char *text, size_t flags, json_error_t *err)
{
	return load(text, text ? strlen(text) : 0, flags, err, 1);
}

size_t
util_json_fallbacks(void)
{
	return atomic_load_explicit(&fallbacks, memory_order_relaxed);
}
