/*
 * Reading JSON text: the one lexer and tree builder (util_jscan_*), and
 * a reader of whole texts on them, faster than jansson's own.
 *
 * jansson's json_loadb takes each byte through a stream callback, a
 * UTF-8 check and a saved-text buffer, then copies every string twice:
 * about 190 instructions a byte of a watch line (callgrind: 165 k for
 * 874 bytes), tree included.  remediate reads a lot of JSON on hot paths
 * (each webhook body, each watch event of a real API server's 5-8 KB
 * Pods, each replay line), and jansson's read was the largest single
 * cost of webhook ingest (38% of a request's CPU) and a quarter of
 * replay's.  The lexer scans strings eight bytes at a time; the builder
 * makes the same tree with jansson's own constructors, 4-7x faster.  The
 * cluster view's decoder (src/cluster/decode.c), which builds only what
 * the view keeps of an object, reads its tokens and whole values here.
 *
 * The reader's contract is jansson's, exactly: it accepts what json_loadb
 * accepts and builds the same tree, with the same key order and number
 * types.  Whenever it meets something it does not decide itself (any
 * error, a nesting deeper than jansson allows, jansson's NUL quirk),
 * it hands the whole text to jansson and returns jansson's answer, so
 * every error message, line, column and position is jansson's own.
 * Other flags go to jansson directly.  tests/unit/test_util.c and
 * fuzz/util_fuzz.c hold both to the same answers.
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

#define FLAGS_HERE	(JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | \
			 JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL)

static atomic_size_t fallbacks;

/* ---- the lexer ---------------------------------------------------------- */

void
util_jscan_init(struct util_jscan *sc, const char *text, size_t len,
    size_t flags)
{
	memset(sc, 0, sizeof *sc);
	sc->s = (const unsigned char *)text;
	sc->len = len;
	sc->flags = flags;
	buf_init(&sc->str, 0);
}

void
util_jscan_clear(struct util_jscan *sc)
{
	buf_free(&sc->str);
}

int
util_jscan_fail(struct util_jscan *sc, size_t at, const char *why)
{
	if (sc->why == NULL) {
		sc->why = why;
		sc->errpos = at;
	}
	return -1;
}

static int
plain_byte(unsigned c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* The 4 hex digits at s[i], or -1 (also when the text ends first). */
static long
hex4(const struct util_jscan *sc, size_t i)
{
	long v = 0;
	int k, x;

	if (sc->len - i < 4)
		return -1;
	for (k = 0; k < 4; k++) {
		if ((x = util_hex_digit(sc->s[i + (size_t)k])) < 0)
			return -1;
		v = v << 4 | x;
	}
	return v;
}

/*
 * The escape whose backslash is at s[i], checked; decoded onto sc->str
 * when out.  Its length in *n.  0 or -1.
 */
static int
escape(struct util_jscan *sc, size_t i, int out, size_t *n)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;
	char u[4];
	long hi, lo;

	if (i + 1 >= sc->len)
		return util_jscan_fail(sc, i, "premature end of input in a "
		    "string");
	if (sc->s[i + 1] != 'u') {
		if (sc->s[i + 1] == '\0' || (e = strchr(from,
		    sc->s[i + 1])) == NULL)
			return util_jscan_fail(sc, i, "invalid escape");
		*n = 2;
		if (out)
			buf_addc(&sc->str, to[e - from]);
		return 0;
	}
	if ((hi = hex4(sc, i + 2)) < 0)
		return util_jscan_fail(sc, i, "invalid escape");
	*n = 6;
	if (hi == 0 && !(sc->flags & JSON_ALLOW_NUL))
		return util_jscan_fail(sc, i, "\\u0000 is not allowed without "
		    "JSON_ALLOW_NUL");
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return util_jscan_fail(sc, i, "invalid Unicode: a lone low "
		    "surrogate");
	if (hi >= 0xd800 && hi <= 0xdbff) {
		if (i + 7 >= sc->len || sc->s[i + 6] != '\\' ||
		    sc->s[i + 7] != 'u' || (lo = hex4(sc, i + 8)) < 0xdc00 ||
		    lo > 0xdfff)
			return util_jscan_fail(sc, i, "invalid Unicode: a high "
			    "surrogate without its low one");
		hi = ((hi - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
		*n = 12;
	}
	if (out)
		buf_add(&sc->str, u, utf8_encode((uint32_t)hi, u));
	return 0;
}

int
util_jscan_string(struct util_jscan *sc, const char **p, size_t *n)
{
	size_t i = sc->pos + 1, start = i, run, k;
	int esc = 0;
	uint64_t w;

	for (;;) {
		run = i;
		while (sc->len - i >= 8) {
			memcpy(&w, sc->s + i, 8);
			if (util_json_word_stops(w))
				break;
			i += 8;
		}
		while (i < sc->len && plain_byte(sc->s[i]))
			i++;
		if (esc && p)
			buf_add(&sc->str, sc->s + run, i - run);
		if (i >= sc->len)
			return util_jscan_fail(sc, i, "premature end of input "
			    "in a string");
		if (sc->s[i] == '"')
			break;
		if (sc->s[i] < 0x20)
			return util_jscan_fail(sc, i, "control character in a "
			    "string");
		if (sc->s[i] == '\\') {
			if (!esc && p) {
				buf_reset(&sc->str);
				buf_add(&sc->str, sc->s + start, i - start);
			}
			esc = 1;
			if (escape(sc, i, p != NULL, &k) == -1)
				return -1;
		} else {
			/* above 0x7f: one whole, valid UTF-8 sequence */
			if (utf8_decode((const char *)sc->s + i, sc->len - i,
			    &k) < 0)
				return util_jscan_fail(sc, i, "invalid UTF-8");
			if (esc && p)
				buf_add(&sc->str, sc->s + i, k);
		}
		i += k;
	}
	sc->pos = i + 1;
	sc->escaped = esc;
	if (p == NULL)
		return 0;
	if (esc) {
		*p = sc->str.data ? sc->str.data : "";
		*n = sc->str.len;
	} else {
		*p = (const char *)sc->s + start;
		*n = i - start;
	}
	return 0;
}

/* An integer's digits (sign first) into *v, as strtoll; -1 beyond. */
static int
integer(const unsigned char *s, size_t n, json_int_t *v)
{
	uint64_t x = 0, lim;
	size_t i;
	int neg = s[0] == '-';

	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (i = (size_t)neg; i < n; i++) {
		if (x > (lim - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = neg ? (json_int_t)(0 - x) : (json_int_t)x;
	return 0;
}

/* strtod's value of s[0..n), as jansson reads it: -1 on overflow. */
static int
real(const unsigned char *s, size_t n, double *v)
{
	char small[64], *t = n < sizeof small ? small : xmalloc(n + 1);

	memcpy(t, s, n);
	t[n] = '\0';
	errno = 0;
	*v = strtod(t, NULL);
	if (t != small)
		free(t);
	return (*v == HUGE_VAL || *v == -HUGE_VAL) && errno == ERANGE ? -1 :
	    0;
}

/*
 * jansson reads the byte after a number or a literal to end it and puts
 * it back; a NUL byte put back reads as its buffer's end, so jansson's
 * next read skips it: json_loadb accepts "[1\0]" as [1].  So does this.
 * (jansson's positions then leave the NUL out: the reader lets jansson
 * read such a text.)
 */
static void
nul_after_token(struct util_jscan *sc)
{
	if (sc->pos < sc->len && sc->s[sc->pos] == '\0') {
		sc->pos++;
		sc->nul_skipped++;
	}
}

static int
digit_at(const struct util_jscan *sc, size_t i)
{
	return i < sc->len && sc->s[i] >= '0' && sc->s[i] <= '9';
}

int
util_jscan_number(struct util_jscan *sc, json_t **out)
{
	size_t i = sc->pos, start = i;
	int isreal = 0;
	json_int_t iv = 0;
	double rv = 0;

	if (i < sc->len && sc->s[i] == '-')
		i++;
	if (!digit_at(sc, i))
		return util_jscan_fail(sc, start, "invalid number");
	if (sc->s[i] == '0') {
		if (digit_at(sc, ++i))
			return util_jscan_fail(sc, start, "invalid number: a "
			    "leading zero");
	} else
		while (digit_at(sc, i))
			i++;
	if (i < sc->len && sc->s[i] == '.') {
		if (!digit_at(sc, ++i))
			return util_jscan_fail(sc, start, "invalid number");
		while (digit_at(sc, i))
			i++;
		isreal = 1;
	}
	if (i < sc->len && (sc->s[i] == 'e' || sc->s[i] == 'E')) {
		i++;
		if (i < sc->len && (sc->s[i] == '+' || sc->s[i] == '-'))
			i++;
		if (!digit_at(sc, i))
			return util_jscan_fail(sc, start, "invalid number");
		while (digit_at(sc, i))
			i++;
		isreal = 1;
	}
	if (isreal ? real(sc->s + start, i - start, &rv) :
	    integer(sc->s + start, i - start, &iv))
		return util_jscan_fail(sc, start, isreal ? "real number "
		    "overflow" : "too big integer");
	sc->pos = i;
	nul_after_token(sc);
	if (out)
		*out = isreal ? json_real(rv) : json_integer(iv);
	return 0;
}

int
util_jscan_literal(struct util_jscan *sc, json_t **out)
{
	static const char *const words[] = { "true", "false", "null" };
	size_t k, n, end;
	unsigned c;

	for (k = 0; k < 3; k++) {
		n = strlen(words[k]);
		if (sc->len - sc->pos < n || memcmp(sc->s + sc->pos, words[k],
		    n) != 0)
			continue;
		/* jansson reads a word's letters whole: "truex" is no word */
		end = sc->pos + n;
		c = end < sc->len ? sc->s[end] : 0;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			break;
		sc->pos = end;
		nul_after_token(sc);
		if (out)
			*out = k == 0 ? json_true() : k == 1 ? json_false() :
			    json_null();
		return 0;
	}
	return util_jscan_fail(sc, sc->pos, sc->pos < sc->len ?
	    "invalid token" : "premature end of input");
}

/* ---- values ----------------------------------------------------------- */

int
util_jscan_enter(struct util_jscan *sc)
{
	if (++sc->depth > JSON_PARSER_MAX_DEPTH)
		return util_jscan_fail(sc, sc->pos, "maximum parsing depth "
		    "reached");
	return 0;
}

/* After blanks: whether the next byte is c, consumed when it is. */
static int
next_is(struct util_jscan *sc, unsigned char c)
{
	util_jscan_ws(sc);
	if (sc->pos < sc->len && sc->s[sc->pos] == c) {
		sc->pos++;
		return 1;
	}
	return 0;
}

int
util_jscan_member(struct util_jscan *sc, size_t n, const char **k,
    size_t *klen)
{
	if (next_is(sc, '}'))
		return 0;
	if (n > 0) {
		if (!next_is(sc, ','))
			return util_jscan_fail(sc, sc->pos, "',' or '}' "
			    "expected");
		util_jscan_ws(sc);
	}
	sc->key_at = sc->pos;
	if (sc->pos >= sc->len || sc->s[sc->pos] != '"')
		return util_jscan_fail(sc, sc->pos, "string or '}' expected");
	if (util_jscan_string(sc, k, klen) != 0)
		return -1;
	if (sc->escaped && memchr(*k, '\0', *klen))
		return util_jscan_fail(sc, sc->key_at, "NUL byte in object "
		    "key not supported");
	if (!next_is(sc, ':'))
		return util_jscan_fail(sc, sc->pos, "':' expected");
	util_jscan_ws(sc);
	return 1;
}

int
util_jscan_element(struct util_jscan *sc, size_t n)
{
	if (next_is(sc, ']'))
		return 0;
	if (n > 0) {
		if (!next_is(sc, ','))
			return util_jscan_fail(sc, sc->pos, "',' or ']' "
			    "expected");
		util_jscan_ws(sc);
	}
	return 1;
}

/* Key at `at` is a duplicate: that is the error, whatever came after. */
static int
duplicate(struct util_jscan *sc, size_t at)
{
	sc->why = NULL;
	return util_jscan_fail(sc, at, "duplicate object key");
}

static json_t *
object(struct util_jscan *sc)
{
	json_t *o = json_object(), *v;
	const char *k;
	char *kcopy;
	size_t klen, n, at;
	int r, dups = (sc->flags & JSON_REJECT_DUPLICATES) != 0;

	for (n = 0; (r = util_jscan_member(sc, n, &k, &klen)) == 1; n++) {
		/* a decoded key lives in sc->str, which the value reuses */
		kcopy = sc->escaped ? xstrndup(k, klen) : NULL;
		if (kcopy)
			k = kcopy;
		at = sc->key_at;
		/*
		 * A duplicate is found by the set not growing the object (its
		 * n keys so far are distinct), not by a look-up before it: a
		 * look-up hashed every key twice, 2% of a replay's
		 * instructions.  jansson's reader refuses the key before
		 * reading its value, so a value that fails is still the
		 * duplicate's error when its key is one.
		 */
		if ((v = util_jscan_value(sc)) == NULL) {
			if (dups && json_object_getn(o, k, klen) != NULL)
				duplicate(sc, at);
			r = -1;
		} else {
			json_object_setn_new_nocheck(o, k, klen, v);
			if (dups && json_object_size(o) == n)
				r = duplicate(sc, at);
		}
		free(kcopy);
		if (r == -1)
			break;
	}
	if (r == 0)
		return o;
	json_decref(o);
	return NULL;
}

static json_t *
array(struct util_jscan *sc)
{
	json_t *a = json_array(), *v;
	size_t n;
	int r;

	for (n = 0; (r = util_jscan_element(sc, n)) == 1; n++) {
		if ((v = util_jscan_value(sc)) == NULL) {
			r = -1;
			break;
		}
		json_array_append_new(a, v);
	}
	if (r == 0)
		return a;
	json_decref(a);
	return NULL;
}

json_t *
util_jscan_value(struct util_jscan *sc)
{
	const char *s;
	json_t *v = NULL;
	size_t n;

	if (sc->pos >= sc->len) {
		util_jscan_fail(sc, sc->pos, "premature end of input");
		return NULL;
	}
	if (util_jscan_enter(sc) == -1)
		return NULL;
	switch (sc->s[sc->pos]) {
	case '{':
		sc->pos++;
		v = object(sc);
		break;
	case '[':
		sc->pos++;
		v = array(sc);
		break;
	case '"':
		if (util_jscan_string(sc, &s, &n) == 0)
			v = json_stringn_nocheck(s, n);
		break;
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		(void)util_jscan_number(sc, &v);
		break;
	default:
		(void)util_jscan_literal(sc, &v);
	}
	sc->depth--;
	return v;
}

/* ---- the reader ------------------------------------------------------- */

static json_t *
load(const char *text, size_t n, size_t flags, json_error_t *err,
    int nul_ends)
{
	struct util_jscan sc;
	json_t *v = NULL;

	if (text == NULL || (flags & ~(size_t)FLAGS_HERE) != 0)
		goto jansson;
	util_jscan_init(&sc, text, n, flags);
	util_jscan_ws(&sc);
	if (sc.pos < n && ((flags & JSON_DECODE_ANY) ||
	    sc.s[sc.pos] == '{' || sc.s[sc.pos] == '['))
		v = util_jscan_value(&sc);
	if (v && !(flags & JSON_DISABLE_EOF_CHECK)) {
		util_jscan_ws(&sc);
		if (sc.pos != n) {
			json_decref(v);
			v = NULL;
		}
	}
	util_jscan_clear(&sc);
	if (v && sc.nul_skipped) {
		json_decref(v);
		v = NULL;
	}
	if (v == NULL)
		goto jansson;
	if (err) {
		/* as jansson leaves it after a success */
		memset(err, 0, sizeof *err);
		err->line = -1;
		err->column = -1;
		err->position = (int)sc.pos;
		snprintf(err->source, sizeof err->source, "%s", nul_ends ?
		    "<string>" : "<buffer>");
	}
	return v;
jansson:
	/*
	 * Everything this reader refuses, jansson reads (or refuses) itself:
	 * its messages, lines, columns and positions stay the answer.
	 */
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
