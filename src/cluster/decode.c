/*
 * The view's projection straight from JSON text: a watch line or a list
 * item decoded into what cluster_project would keep of it, with no whole
 * tree in between.  A real Pod is 5-8 KB of JSON and about 60 KB as a
 * jansson tree, of which the view keeps a few hundred bytes; here only
 * the kept fields (project.c's cl_projection) become jansson values, the
 * rest is scanned and validated, never allocated.
 *
 * The decoder accepts exactly what jansson's json_loadb accepts with the
 * same flags, and gives exactly cluster_project(json_loadb(text)):
 *
 *   - strings: UTF-8 checked as jansson's stream does (no overlong forms,
 *     surrogates or code points beyond U+10FFFF), escapes, \u surrogate
 *     pairs, no \u0000 (jansson's default without JSON_ALLOW_NUL; keys
 *     never), no control characters;
 *   - numbers: jansson's grammar (no leading zero, digits after '.' and
 *     'e'), an integer when neither '.' nor an exponent is written, an
 *     integer beyond int64 or a real beyond double's range refused, in
 *     skipped fields too;
 *   - nesting: at most JSON_PARSER_MAX_DEPTH values deep, counted as
 *     jansson counts (every value, scalars too);
 *   - JSON_REJECT_DUPLICATES: duplicate keys are found in every object,
 *     kept or skipped (decoded keys compared, so "a" and "\u0061" are one
 *     key); without it the last of a key's members wins, as in jansson;
 *   - JSON_DECODE_ANY: a root that is not an object or array;
 *   - JSON_ALLOW_NUL: \u0000 in strings (never in keys);
 *   - JSON_DISABLE_EOF_CHECK: the value at the text's start, whatever
 *     follows (its end in cluster_decode_result.end, as jansson's
 *     position);
 *   - jansson's one quirk: a NUL byte right after a number or a literal
 *     is skipped (see nul_after_token).
 *
 * Objects of a kind the view keeps whole (or the caller wants whole, see
 * cluster_decode_opts.whole) are read again from their span, whole,
 * once their kind is known: kind may come after the members it decides.
 * Read whole, a value is the tree json_loadb builds (keys in the text's
 * order, the last of a duplicate key's values in its first place):
 * cluster_decode_whole is that for a whole text, a faster json_loadb.
 * Error messages are the decoder's own, with a byte offset, line and
 * column; a caller that must print jansson's message parses the text
 * with jansson on error (replay does).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "cluster/cluster_int.h"

/* A key of an object still open, for JSON_REJECT_DUPLICATES. */
struct dkey {
	uint64_t	 hash;
	size_t		 off;	/* its bytes: in the text or, decoded, in
				   keytext */
	size_t		 len;
	size_t		 at;	/* its place in the text, for the error */
	int		 decoded;
	const char	*p;	/* the bytes, set when its object closes */
};

struct dec {
	const unsigned char	*s;		/* borrowed: the text */
	size_t			 len, pos;
	size_t			 flags;
	size_t			 depth;		/* values open, as jansson's */
	const char		*why;		/* the first error, static */
	size_t			 errpos;
	const struct cluster_decode_opts *o;
	int			 projected;
	int			 escaped;	/* the last string read had
						   an escape */
	int			 templated;	/* a CL_TEMPLATE_KINDS field
						   was kept */
	struct buf		 str;		/* a string with escapes,
						   decoded */
	struct buf		 keytext;	/* escaped keys of open
						   objects, decoded */
	struct dkey		*keys;		/* of open objects: stack, or
						   owned */
	size_t			 nkeys, capkeys;
	struct dkey		 stack[64];	/* no malloc for most texts */
};

/* An object being read: where its keys start in d->keys and keytext. */
struct objit {
	size_t	keybase, textbase;
	size_t	members;
};

static int
fail(struct dec *d, size_t at, const char *why)
{
	if (d->why == NULL) {
		d->why = why;
		d->errpos = at;
	}
	return -1;
}

static int
peek(const struct dec *d)
{
	return d->pos < d->len ? d->s[d->pos] : -1;
}

static void
ws(struct dec *d)
{
	while (d->pos < d->len && (d->s[d->pos] == ' ' ||
	    d->s[d->pos] == '\n' || d->s[d->pos] == '\r' ||
	    d->s[d->pos] == '\t'))
		d->pos++;
}

static int
enter(struct dec *d)
{
	if (++d->depth > JSON_PARSER_MAX_DEPTH)
		return fail(d, d->pos, "maximum parsing depth reached");
	return 0;
}

/* 1 for the bytes a string holds as they are: no quote, escape, control. */
static const unsigned char plain[256] = {
#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
	R16(0), R16(0),
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,		/* '"' */
	R16(1), R16(1),
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,		/* '\\' */
	R16(1), R16(1),
#undef R16
};

static int
hex4(const struct dec *d, size_t i)
{
	int v = 0, k, c;

	if (i + 4 > d->len)
		return -1;
	for (k = 0; k < 4; k++) {
		c = d->s[i + k];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v += c - '0';
		else if (c >= 'a' && c <= 'f')
			v += c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v += c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/*
 * The escape at s[i] (a backslash), checked: its code point in *cp (-1
 * for the one-letter ones, whose byte is *c) and its length.  0 or -1.
 */
static int
escape(struct dec *d, size_t i, long *cp, char *c, size_t *n)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;
	int hi, lo;

	if (i + 1 >= d->len)
		return fail(d, i, "premature end of input in a string");
	if (d->s[i + 1] != 'u') {
		if (d->s[i + 1] == '\0' ||
		    (e = strchr(from, d->s[i + 1])) == NULL)
			return fail(d, i, "invalid escape");
		*cp = -1;
		*c = to[e - from];
		*n = 2;
		return 0;
	}
	if ((hi = hex4(d, i + 2)) < 0)
		return fail(d, i, "invalid escape");
	*n = 6;
	*cp = hi;
	if (hi == 0 && !(d->flags & JSON_ALLOW_NUL))
		return fail(d, i, "\\u0000 is not allowed");
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return fail(d, i, "invalid Unicode: a lone low surrogate");
	if (hi < 0xd800 || hi > 0xdbff)
		return 0;
	if (i + 7 >= d->len || d->s[i + 6] != '\\' || d->s[i + 7] != 'u' ||
	    (lo = hex4(d, i + 8)) < 0xdc00 || lo > 0xdfff)
		return fail(d, i, "invalid Unicode: a high surrogate without "
		    "its low one");
	*cp = ((long)(hi - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
	*n = 12;
	return 0;
}

/* The escaped string [from, to) decoded into d->str (checked already). */
static void
unescape(struct dec *d, size_t from, size_t to)
{
	char u[4], c;
	size_t i = from, n, k;
	long cp;

	buf_reset(&d->str);
	while (i < to) {
		for (k = i; k < to && d->s[k] != '\\'; k++)
			;
		buf_add(&d->str, d->s + i, k - i);
		if ((i = k) >= to)
			break;
		(void)escape(d, i, &cp, &c, &n);
		if (cp < 0)
			buf_addc(&d->str, c);
		else
			buf_add(&d->str, u, utf8_encode((uint32_t)cp, u));
		i += n;
	}
}

/*
 * The string whose opening quote is at d->pos, checked; d->pos ends past
 * its closing quote.  With p, its bytes: in the text when it has no
 * escape, else decoded in d->str (valid until the next string).
 */
static int
scan_string(struct dec *d, const char **p, size_t *n)
{
	size_t i = d->pos + 1, start = i, len;
	int esc = 0;
	char c;
	long cp;

	for (;;) {
		while (i < d->len && plain[d->s[i]])
			i++;
		if (i >= d->len)
			return fail(d, i, "premature end of input in a string");
		if (d->s[i] == '"')
			break;
		if (d->s[i] < 0x20)
			return fail(d, i, "control character in a string");
		if (d->s[i] == '\\') {
			if (escape(d, i, &cp, &c, &len) == -1)
				return -1;
			esc = 1;
		} else if (utf8_decode((const char *)d->s + i, d->len - i,
		    &len) < 0)
			return fail(d, i, "invalid UTF-8");
		i += len;
	}
	d->pos = i + 1;
	d->escaped = esc;
	if (p == NULL)
		return 0;
	if (!esc) {
		*p = (const char *)d->s + start;
		*n = i - start;
		return 0;
	}
	unescape(d, start, i);
	*p = d->str.data;
	*n = d->str.len;
	return 0;
}

/* An integer's digits (sign first) into *v, as strtoll; -1 beyond. */
static int
integer(const unsigned char *s, size_t n, json_int_t *v)
{
	uint64_t x = 0, lim;
	size_t i = 0;
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
 */
static void
nul_after_token(struct dec *d)
{
	if (d->pos < d->len && d->s[d->pos] == '\0')
		d->pos++;
}

static int
digits(const struct dec *d, size_t i)
{
	return i < d->len && d->s[i] >= '0' && d->s[i] <= '9';
}

/*
 * The number at d->pos, in jansson's grammar and ranges: with out, its
 * value (a new reference).  0 or -1.
 */
static int
scan_number(struct dec *d, json_t **out)
{
	size_t i = d->pos, start = i;
	int isreal = 0;
	json_int_t iv;
	double rv;

	if (d->s[i] == '-')
		i++;
	if (!digits(d, i))
		return fail(d, start, "invalid number");
	if (d->s[i] == '0') {
		if (digits(d, ++i))
			return fail(d, start, "invalid number: a leading zero");
	} else
		while (digits(d, i))
			i++;
	if (i < d->len && d->s[i] == '.') {
		if (!digits(d, ++i))
			return fail(d, start, "invalid number");
		while (digits(d, i))
			i++;
		isreal = 1;
	}
	if (i < d->len && (d->s[i] == 'e' || d->s[i] == 'E')) {
		i++;
		if (i < d->len && (d->s[i] == '+' || d->s[i] == '-'))
			i++;
		if (!digits(d, i))
			return fail(d, start, "invalid number");
		while (digits(d, i))
			i++;
		isreal = 1;
	}
	if (isreal ? real(d->s + start, i - start, &rv) :
	    integer(d->s + start, i - start, &iv))
		return fail(d, start, isreal ? "real number overflow" :
		    "too big integer");
	d->pos = i;
	nul_after_token(d);
	if (out)
		*out = isreal ? json_real(rv) : json_integer(iv);
	return 0;
}

static int
literal(struct dec *d, json_t **out)
{
	static const char *const words[] = { "true", "false", "null" };
	size_t k, n;

	for (k = 0; k < 3; k++) {
		n = strlen(words[k]);
		if (d->len - d->pos >= n &&
		    memcmp(d->s + d->pos, words[k], n) == 0) {
			d->pos += n;
			nul_after_token(d);
			if (out)
				*out = k == 0 ? json_true() : k == 1 ?
				    json_false() : json_null();
			return 0;
		}
	}
	return fail(d, d->pos, d->pos < d->len ? "invalid token" :
	    "premature end of input");
}

/* ---- objects ------------------------------------------------------------ */

static void
obj_open(struct dec *d, struct objit *it)
{
	d->pos++;
	it->keybase = d->nkeys;
	it->textbase = d->keytext.len;
	it->members = 0;
}

static void
note_key(struct dec *d, const char *k, size_t n, size_t at)
{
	struct dkey *e;

	if (d->nkeys == d->capkeys) {
		/* off the stack on the first growth (see cluster_decode) */
		if (d->keys == d->stack) {
			d->keys = xmalloc(2 * d->capkeys * sizeof *d->keys);
			memcpy(d->keys, d->stack, sizeof d->stack);
			d->capkeys *= 2;
		} else
			xgrow(&d->keys, &d->capkeys, d->nkeys + 1,
			    sizeof *d->keys);
	}
	e = &d->keys[d->nkeys++];
	e->hash = util_hash(k, n, UTIL_HASH_SEED);
	e->len = n;
	e->at = at;
	if ((e->decoded = d->escaped)) {
		e->off = d->keytext.len;
		buf_add(&d->keytext, k, n);
	} else
		e->off = (size_t)((const unsigned char *)k - d->s);
}

static int
dkey_cmp(const void *a, const void *b)
{
	const struct dkey *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->p, y->p, x->len);
}

/* The object's keys checked for duplicates (when asked), then dropped. */
static int
obj_close(struct dec *d, struct objit *it)
{
	struct dkey *k = d->keys + it->keybase;
	size_t n = d->nkeys - it->keybase, i, j;

	for (i = 0; i < n; i++)
		k[i].p = k[i].decoded ? d->keytext.data + k[i].off :
		    (const char *)d->s + k[i].off;
	if (n > 16)
		qsort(k, n, sizeof *k, dkey_cmp);
	for (i = 0; i + 1 < n; i++)
		for (j = i + 1; j < (n > 16 ? i + 2 : n); j++)
			if (dkey_cmp(&k[i], &k[j]) == 0)
				return fail(d, k[i].at > k[j].at ? k[i].at :
				    k[j].at, "duplicate object key");
	d->nkeys = it->keybase;
	d->keytext.len = it->textbase;
	return 0;
}

/*
 * The object's next member: 1 with its key in *k, *n (in the text, or
 * in d->str: valid until the next string) and d->pos at its value; 0
 * when the object ended; -1.
 */
static int
obj_next(struct dec *d, struct objit *it, const char **k, size_t *n)
{
	size_t at;

	ws(d);
	if (it->members > 0) {
		if (peek(d) == '}') {
			d->pos++;
			return obj_close(d, it);
		}
		if (peek(d) != ',')
			return fail(d, d->pos, "',' or '}' expected");
		d->pos++;
		ws(d);
	} else if (peek(d) == '}') {
		d->pos++;
		return obj_close(d, it);
	}
	if (peek(d) != '"')
		return fail(d, d->pos, "string or '}' expected");
	at = d->pos;
	if (scan_string(d, k, n) == -1)
		return -1;
	if (d->escaped && memchr(*k, '\0', *n))	/* JSON_ALLOW_NUL's */
		return fail(d, at, "NUL byte in object key not supported");
	if (d->flags & JSON_REJECT_DUPLICATES)
		note_key(d, *k, *n, at);
	ws(d);
	if (peek(d) != ':')
		return fail(d, d->pos, "':' expected");
	d->pos++;
	ws(d);
	it->members++;
	return 1;
}

/*
 * The key obj_next just gave, kept past the member's value: NULL when it
 * lies in the text, else an owned copy of its decoded bytes.
 */
static char *
key_copy(const struct dec *d, const char *k, size_t n)
{
	return d->escaped ? xstrndup(k, n) : NULL;
}

/*
 * Arrays: after '[', 1 when an element is at d->pos, 0 after ']'.  first
 * is set on the first call.
 */
static int
arr_next(struct dec *d, int *first)
{
	ws(d);
	if (peek(d) == ']' && *first) {
		d->pos++;
		return 0;
	}
	if (!*first) {
		if (peek(d) == ']') {
			d->pos++;
			return 0;
		}
		if (peek(d) != ',')
			return fail(d, d->pos, "',' or ']' expected");
		d->pos++;
		ws(d);
	}
	*first = 0;
	return 1;
}

/* ---- values skipped, values built ---------------------------------------- */

static int
skip_value(struct dec *d)
{
	struct objit it;
	const char *k;
	size_t n;
	int r = 0, first = 1;

	if (enter(d) == -1)
		return -1;
	switch (peek(d)) {
	case '{':
		obj_open(d, &it);
		while ((r = obj_next(d, &it, &k, &n)) == 1)
			if (skip_value(d) == -1)
				return -1;
		break;
	case '[':
		d->pos++;
		while ((r = arr_next(d, &first)) == 1)
			if (skip_value(d) == -1)
				return -1;
		break;
	case '"':
		r = scan_string(d, NULL, NULL);
		break;
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		r = scan_number(d, NULL);
		break;
	default:
		r = literal(d, NULL);
		break;
	}
	d->depth--;
	return r < 0 ? -1 : 0;
}

/* o with its keys in JSON_SORT_KEYS order (its values shared); o taken. */
static json_t *
sort_members(json_t *o)
{
	json_t *s = cl_sorted_members(o, 0);

	json_decref(o);
	return s;
}

static int
is_sorted(json_t *o)
{
	const char *pk = NULL, *k;
	size_t pn = 0, n;
	void *it;

	for (it = json_object_iter(o); it; it = json_object_iter_next(o,
	    it)) {
		k = json_object_iter_key(it);
		n = json_object_iter_key_len(it);
		if (pk && cl_key_cmp(pk, pn, k, n) > 0)
			return 0;
		pk = k;
		pn = n;
	}
	return 1;
}

static json_t *build_value(struct dec *, int sort);
static int add_member(struct dec *, json_t *, const char *, size_t, int,
    const char *const *);

static json_t *
build_object(struct dec *d, int sort)
{
	json_t *o = json_object();
	struct objit it;
	const char *k;
	size_t n;
	int r;

	obj_open(d, &it);
	while ((r = obj_next(d, &it, &k, &n)) == 1)
		if (add_member(d, o, k, n, sort, NULL) == -1) {
			json_decref(o);
			return NULL;
		}
	if (r < 0) {
		json_decref(o);
		return NULL;
	}
	return sort && !is_sorted(o) ? sort_members(o) : o;
}

/*
 * The value at d->pos as jansson would build it, every object's keys
 * sorted when sort is set: a new reference, or NULL.
 */
static json_t *
build_value(struct dec *d, int sort)
{
	json_t *v = NULL, *x;
	const char *p;
	size_t n;
	int first = 1, r = 0;

	if (enter(d) == -1)
		return NULL;
	switch (peek(d)) {
	case '{':
		v = build_object(d, sort);
		break;
	case '[':
		d->pos++;
		v = json_array();
		while ((r = arr_next(d, &first)) == 1) {
			if ((x = build_value(d, sort)) == NULL) {
				r = -1;
				break;
			}
			json_array_append_new(v, x);
		}
		break;
	case '"':
		if ((r = scan_string(d, &p, &n)) == 0)
			v = json_stringn_nocheck(p, n);
		break;
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		r = scan_number(d, &v);
		break;
	default:
		r = literal(d, &v);
		break;
	}
	if (r < 0) {
		json_decref(v);
		return NULL;
	}
	d->depth--;
	return v;
}

static int env_value(struct dec *, const char *const *, json_t **);

/*
 * The member obj_next just gave (key k, n) added to o: its value built
 * whole (keys sorted when sort is set), or with path the envelope's way
 * (env_value).  0, or -1 with o unchanged.
 */
static int
add_member(struct dec *d, json_t *o, const char *k, size_t n, int sort,
    const char *const *path)
{
	char *kc = key_copy(d, k, n);
	json_t *v = NULL;
	int r;

	if (path) {
		d->projected = 0;	/* the last of the key's members
					   decides */
		r = env_value(d, path, &v);
	} else
		r = (v = build_value(d, sort)) ? 0 : -1;
	if (r == 0)
		json_object_setn_new_nocheck(o, kc ? kc : k, n, v);
	free(kc);
	return r;
}

/* ---- the projection ------------------------------------------------------ */

static int proj_field(struct dec *, const struct cl_field *, json_t **);

static const struct cl_field *
child(const struct dec *d, const struct cl_field *f, const char *k, size_t n)
{
	size_t i;

	for (i = 0; i < f->nchildren; i++)
		if (strncmp(f->children[i].key, k, n) == 0 &&
		    f->children[i].key[n] == '\0')
			return (f->children[i].flags & CL_WATCH) &&
			    !(d->o->keep & CLUSTER_DECODE_RESOURCE_VERSION) ?
			    NULL : &f->children[i];
	return NULL;
}

/* The object at d->pos, as f's children keep it: *out new. */
static int
proj_members(struct dec *d, const struct cl_field *f, json_t **out)
{
	json_t *slot[CL_MAX_CHILDREN] = { NULL }, *x;
	const struct cl_field *c;
	struct objit it;
	const char *k;
	size_t n, i;
	int r;

	if (enter(d) == -1)
		return -1;
	obj_open(d, &it);
	while ((r = obj_next(d, &it, &k, &n)) == 1) {
		if ((c = child(d, f, k, n)) == NULL) {
			if (skip_value(d) == -1)
				break;
			continue;
		}
		if (proj_field(d, c, &x) == -1)
			break;
		/* the last of a key's members wins, as in jansson */
		i = (size_t)(c - f->children);
		d->templated |= x && (c->flags & CL_TEMPLATE_KINDS);
		json_decref(slot[i]);
		slot[i] = x;
	}
	if (r != 0) {
		for (i = 0; i < f->nchildren; i++)
			json_decref(slot[i]);
		return -1;
	}
	*out = json_object();
	for (i = 0; i < f->nchildren; i++) {
		/* a member kept even when absent (metadata) */
		if (slot[i] == NULL && f->children[i].keep == CL_OBJECT &&
		    f->children[i].when == CL_ALWAYS)
			slot[i] = cl_project_field(&f->children[i], NULL, NULL);
		if (slot[i])
			json_object_set_new_nocheck(*out, f->children[i].key,
			    slot[i]);
	}
	d->depth--;
	return 0;
}

/* The array at d->pos, each element as f's children keep it. */
static int
proj_array(struct dec *d, const struct cl_field *f, json_t **out)
{
	json_t *a, *x;
	int first = 1, r;

	if (enter(d) == -1)
		return -1;
	d->pos++;
	a = json_array();
	while ((r = arr_next(d, &first)) == 1) {
		if (peek(d) != '{') {
			/* as cluster_project: what f keeps of nothing */
			if (skip_value(d) == -1)
				break;
			x = cl_project_members(f, NULL, NULL);
		} else if (proj_members(d, f, &x) == -1)
			break;
		json_array_append_new(a, x);
	}
	if (r != 0) {
		json_decref(a);
		return -1;
	}
	*out = a;
	d->depth--;
	return 0;
}

static int
proj_annotations(struct dec *d, json_t **out)
{
	json_t *a = json_object();
	struct objit it;
	const char *k;
	size_t n;
	int r;

	if (enter(d) == -1) {
		json_decref(a);
		return -1;
	}
	obj_open(d, &it);
	while ((r = obj_next(d, &it, &k, &n)) == 1) {
		if (!cl_kept_annotation(k, n)) {
			if (skip_value(d) == -1)
				break;
			continue;
		}
		if (add_member(d, a, k, n, 1, NULL) == -1)
			break;
	}
	if (r != 0) {
		json_decref(a);
		return -1;
	}
	d->depth--;
	if (json_object_size(a) == 0) {
		json_decref(a);
		*out = NULL;
	} else
		*out = is_sorted(a) ? a : sort_members(a);
	return 0;
}

/* The value at d->pos as f keeps it: *out new, or NULL for nothing. */
static int
proj_field(struct dec *d, const struct cl_field *f, json_t **out)
{
	int want = f->keep == CL_ARRAY ? '[' : '{';

	*out = NULL;
	if (f->keep == CL_LEAF)
		return (*out = build_value(d, 1)) ? 0 : -1;
	if (peek(d) != want) {
		/* not the type the field keeps: as cluster_project does */
		if (skip_value(d) == -1)
			return -1;
		*out = cl_project_field(f, NULL, NULL);
		return 0;
	}
	if (f->keep == CL_ANNOTATIONS)
		return proj_annotations(d, out);
	if (f->keep == CL_ARRAY)
		return proj_array(d, f, out);
	if (proj_members(d, f, out) == -1)
		return -1;
	if (f->when == CL_IF_KEPT && json_object_size(*out) == 0) {
		json_decref(*out);
		*out = NULL;
	}
	return 0;
}

/*
 * What only cl_template_kind's kinds keep, taken out of o (f's
 * projection) for another kind: the decoder learns the kind last.
 */
static void
trim_template(const struct cl_field *f, json_t *o)
{
	const struct cl_field *c;
	json_t *x, *e;
	size_t i, k;

	for (i = 0; i < f->nchildren; i++) {
		c = &f->children[i];
		if ((x = json_object_get(o, c->key)) == NULL ||
		    c->keep == CL_LEAF || c->keep == CL_ANNOTATIONS)
			continue;
		if (c->flags & CL_TEMPLATE_KINDS) {
			json_object_del(o, c->key);
			continue;
		}
		if (c->keep == CL_ARRAY) {
			json_array_foreach(x, k, e)
				trim_template(c, e);
			continue;
		}
		trim_template(c, x);
		if (c->when == CL_IF_KEPT && json_object_size(x) == 0)
			json_object_del(o, c->key);
	}
}

static int
wants_whole(struct dec *d, const char *kind)
{
	return !cluster_compact_kind(kind) ||
	    (d->o->whole && d->o->whole(d->o->ctx, kind));
}

/* The object to project, at d->pos. */
static int
proj_root(struct dec *d, json_t **out)
{
	size_t start = d->pos, end;
	const char *kind;
	json_t *o;

	d->projected = 0;
	d->templated = 0;
	if (peek(d) != '{')
		return (*out = build_value(d, 0)) ? 0 : -1;
	if (proj_members(d, &cl_projection, &o) == -1)
		return -1;
	if ((kind = json_string_value(json_object_get(o, "kind"))) == NULL &&
	    json_object_get(o, "kind") == NULL)
		kind = d->o->kind;	/* a list's item */
	if (wants_whole(d, kind)) {
		json_decref(o);
		/* read again, whole: checked already, it cannot fail */
		end = d->pos;
		d->pos = start;
		if ((o = build_value(d, 0)) == NULL || d->pos != end) {
			json_decref(o);
			return fail(d, start, "internal error: a second read "
			    "differs");
		}
	} else {
		if (d->templated && !cl_template_kind(kind))
			trim_template(&cl_projection, o);
		d->projected = 1;
	}
	*out = o;
	return 0;
}

/* The value at d->pos; path names the member to project under it. */
static int
env_value(struct dec *d, const char *const *path, json_t **out)
{
	json_t *o;
	struct objit it;
	const char *k;
	size_t n;
	int r;

	if (path == NULL || *path == NULL)
		return proj_root(d, out);
	if (peek(d) != '{')
		return (*out = build_value(d, 0)) ? 0 : -1;
	if (enter(d) == -1)
		return -1;
	o = json_object();
	obj_open(d, &it);
	while ((r = obj_next(d, &it, &k, &n)) == 1) {
		if (add_member(d, o, k, n, 0, strncmp(*path, k, n) == 0 &&
		    (*path)[n] == '\0' ? path + 1 : NULL) == -1) {
			r = -1;
			break;
		}
	}
	if (r != 0) {
		json_decref(o);
		return -1;
	}
	d->depth--;
	*out = o;
	return 0;
}

static void
where(const struct dec *d, struct cluster_decode_result *res)
{
	size_t i, bol = 0;

	res->offset = d->errpos;
	res->line = 1;
	for (i = 0; i < d->errpos && i < d->len; i++)
		if (d->s[i] == '\n') {
			res->line++;
			bol = i + 1;
		}
	res->column = d->errpos - bol + 1;
	res->reason = d->why;
}

/* path NULL: the whole text as jansson reads it (cluster_decode_whole). */
static json_t *
decode(const char *text, size_t len, const struct cluster_decode_opts *o,
    int whole, struct cluster_decode_result *res)
{
	static const struct cluster_decode_opts none;
	struct dec d;
	json_t *v = NULL;
	size_t end = 0;
	int c;

	memset(&d, 0, sizeof d);
	d.s = (const unsigned char *)text;
	d.len = len;
	d.o = o ? o : &none;
	d.flags = d.o->flags;
	d.keys = d.stack;
	d.capkeys = UTIL_ARRAY_LEN(d.stack);
	buf_init(&d.str, 0);
	buf_init(&d.keytext, 0);
	ws(&d);
	c = peek(&d);
	if (d.flags & ~(size_t)(JSON_REJECT_DUPLICATES | JSON_DECODE_ANY |
	    JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL))
		fail(&d, 0, "a flag the decoder does not support");
	else if (c == -1)
		fail(&d, d.pos, "premature end of input");
	else if (!(d.flags & JSON_DECODE_ANY) && c != '{' && c != '[')
		fail(&d, d.pos, "'[' or '{' expected");
	else if (whole ? (v = build_value(&d, 0)) != NULL :
	    env_value(&d, d.o->path, &v) == 0) {
		end = d.pos;
		ws(&d);
		if (d.pos < d.len && !(d.flags & JSON_DISABLE_EOF_CHECK))
			fail(&d, d.pos, "end of input expected");
	}
	if (d.why && v) {
		json_decref(v);
		v = NULL;
	}
	if (res) {
		memset(res, 0, sizeof *res);
		if (d.why)
			where(&d, res);
		else {
			res->projected = d.projected;
			res->end = end;
		}
	}
	buf_free(&d.str);
	buf_free(&d.keytext);
	if (d.keys != d.stack)
		free(d.keys);
	return v;
}

json_t *
cluster_decode(const char *text, size_t len,
    const struct cluster_decode_opts *o, struct cluster_decode_result *res)
{
	return decode(text, len, o, 0, res);
}

json_t *
cluster_decode_whole(const char *text, size_t len, size_t flags,
    struct cluster_decode_result *res)
{
	struct cluster_decode_opts o = { NULL, flags, NULL, NULL, NULL, 0 };

	return decode(text, len, &o, 1, res);
}
