/*
 * The functions a template may call: Go's builtins and the sprig
 * functions Argo Events users write.  Each checks its arguments the way
 * Go's reflection would (a string parameter given a float64 is "wrong
 * type for value; expected string; got float64") so a template that
 * fails in Argo fails here with the same complaint.
 *
 * Case mapping (lower, upper, title) is ASCII; other bytes pass through.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/sha.h>

#include "sensor/tmpl_int.h"

/* ---- argument helpers ---------------------------------------------------- */

static int
want_str(struct tex *ex, const struct tv *v, const char **s, size_t *n)
{
	if (v->k == TV_STR) {
		*s = v->s;
		*n = v->n;
		return 0;
	}
	if (v->k == TV_INVALID || v->k == TV_NIL)
		return sensor_tex_fail(ex, "%s: invalid value; expected string",
		    ex->fname);
	return sensor_tex_fail(ex, "%s: wrong type for value; expected string; "
	    "got %s", ex->fname, sensor_tv_type(v));
}

static int
want_int(struct tex *ex, const struct tv *v, int64_t *i)
{
	*i = 0;
	if (v->k == TV_INT) {
		*i = v->i;
		return 0;
	}
	return sensor_tex_fail(ex, "%s: wrong type for value; expected int; "
	    "got %s", ex->fname, sensor_tv_type(v));
}

static void
ret_str(struct tex *ex, struct tv *out, char *owned, size_t n)
{
	sensor_tv_str(out, sensor_tex_adopt(ex, owned), n);
}

static void
ret_buf(struct tex *ex, struct tv *out, struct buf *b)
{
	size_t n = b->len;

	ret_str(ex, out, buf_steal(b), n);
}

static void
ret_bool(struct tv *out, int b)
{
	memset(out, 0, sizeof *out);
	out->k = TV_BOOL;
	out->b = b;
}

static void
ret_int(struct tv *out, int64_t i)
{
	memset(out, 0, sizeof *out);
	out->k = TV_INT;
	out->i = i;
}

/* Takes a new JSON reference; the value lives as long as the execution. */
static void
ret_json(struct tex *ex, struct tv *out, json_t *j)
{
	sensor_tv_json(out, sensor_tex_keep(ex, j));
}

/* sprig's strval: strings as they are, anything else as %v. */
static void
strval(struct tex *ex, struct buf *b, const struct tv *v)
{
	sensor_tv_print(ex, b, v);
}

/* spf13/cast ToInt64 as sprig uses it: garbage is 0. */
static int64_t
to_int64(const struct tv *v)
{
	char *s, *end;
	long long r;

	switch (v->k) {
	case TV_INT:
		return v->i;
	case TV_FLOAT:
		/* out of range is undefined in C; Go on amd64 gives the
		 * most negative value */
		if (!isfinite(v->f))
			return 0;
		if (v->f >= 9223372036854775808.0 ||
		    v->f < -9223372036854775808.0)
			return INT64_MIN;
		return (int64_t)v->f;
	case TV_BOOL:
		return v->b;
	case TV_STR:
		s = xstrndup(v->s, v->n);
		errno = 0;
		r = strtoll(s, &end, 0);
		if (*end == '.' && strspn(end + 1, "0") == strlen(end + 1))
			end += strlen(end);
		if (errno || *end || *s == '\0')
			r = 0;
		free(s);
		return r;
	default:
		return 0;
	}
}

static double
to_float64(const struct tv *v)
{
	char *s;
	double d;

	switch (v->k) {
	case TV_INT:
		return (double)v->i;
	case TV_FLOAT:
		return v->f;
	case TV_BOOL:
		return v->b;
	case TV_STR:
		s = xstrndup(v->s, v->n);
		if (gofmt_parse_float(s, &d) == -1)
			d = 0;	/* spf13/cast: 0 on any error */
		free(s);
		return d;
	default:
		return 0;
	}
}

static int
is_empty(const struct tv *v)
{
	return !sensor_tv_truth(v);
}

/* ---- strings ------------------------------------------------------------- */

static int
fn_case(struct tex *ex, struct tv *a, struct tv *out, int up)
{
	const char *s;
	size_t n, i;
	char *r;

	if (want_str(ex, a, &s, &n) == -1)
		return -1;
	r = xmalloc(n + 1);
	for (i = 0; i < n; i++)
		r[i] = (char)(up ? toupper((unsigned char)s[i]) :
		    tolower((unsigned char)s[i]));
	r[n] = '\0';
	ret_str(ex, out, r, n);
	return 0;
}

static int
fn_lower(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	(void)n;
	return fn_case(ex, a, out, 0);
}

static int
fn_upper(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	(void)n;
	return fn_case(ex, a, out, 1);
}

static int
fn_title(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	const char *s;
	size_t len, i;
	unsigned char prev = ' ', c;
	char *r;

	(void)n;
	if (want_str(ex, a, &s, &len) == -1)
		return -1;
	r = xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		/* strings.Title: a word starts after a separator */
		if (prev < 0x80 && !isalnum(prev) && prev != '_')
			r[i] = (char)toupper(c);
		else
			r[i] = (char)c;
		prev = c;
	}
	r[len] = '\0';
	ret_str(ex, out, r, len);
	return 0;
}

static int
isspace_go(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

static int
fn_trim(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	const char *s;
	size_t len;

	(void)n;
	if (want_str(ex, a, &s, &len) == -1)
		return -1;
	while (len && isspace_go((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace_go((unsigned char)s[len - 1]))
		len--;
	sensor_tv_str(out, s, len);
	return 0;
}

static int
fn_trimall(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	const char *cut, *s;
	size_t nc, len;
	char *set;

	(void)n;
	if (want_str(ex, &a[0], &cut, &nc) == -1 ||
	    want_str(ex, &a[1], &s, &len) == -1)
		return -1;
	set = xstrndup(cut, nc);
	while (len && *s && strchr(set, *s)) {
		s++;
		len--;
	}
	while (len && s[len - 1] && strchr(set, s[len - 1]))
		len--;
	free(set);
	sensor_tv_str(out, s, len);
	return 0;
}

static int
fn_trimfix(struct tex *ex, struct tv *a, struct tv *out, int suffix)
{
	const char *fix, *s;
	size_t nf, len;

	if (want_str(ex, &a[0], &fix, &nf) == -1 ||
	    want_str(ex, &a[1], &s, &len) == -1)
		return -1;
	if (nf <= len && !suffix && memcmp(s, fix, nf) == 0) {
		s += nf;
		len -= nf;
	} else if (nf <= len && suffix && memcmp(s + len - nf, fix, nf) == 0)
		len -= nf;
	sensor_tv_str(out, s, len);
	return 0;
}

static int
fn_trimprefix(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	(void)n;
	return fn_trimfix(ex, a, out, 0);
}

static int
fn_trimsuffix(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	(void)n;
	return fn_trimfix(ex, a, out, 1);
}

static int
fn_nospace(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	const char *s;
	size_t len, i, j = 0;
	char *r;

	(void)n;
	if (want_str(ex, a, &s, &len) == -1)
		return -1;
	r = xmalloc(len + 1);
	for (i = 0; i < len; i++)
		if (!isspace_go((unsigned char)s[i]))
			r[j++] = s[i];
	r[j] = '\0';
	ret_str(ex, out, r, j);
	return 0;
}

static int
fn_trunc(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	const char *s;
	size_t len;
	int64_t c;

	(void)n;
	if (want_int(ex, &a[0], &c) == -1 || want_str(ex, &a[1], &s, &len) ==
	    -1)
		return -1;
	/* negated as unsigned: -INT64_MIN does not exist */
	if (c < 0 && -(uint64_t)c < len)
		sensor_tv_str(out, s + len - -(uint64_t)c, -(uint64_t)c);
	else if (c >= 0 && (size_t)c < len)
		sensor_tv_str(out, s, (size_t)c);
	else
		sensor_tv_str(out, s, len);
	return 0;
}

static int
fn_abbrev(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	const char *s;
	size_t len;
	int64_t w;
	char *r;

	(void)n;
	if (want_int(ex, &a[0], &w) == -1 || want_str(ex, &a[1], &s, &len) ==
	    -1)
		return -1;
	if (w < 4 || len <= (size_t)w) {
		sensor_tv_str(out, s, len);
		return 0;
	}
	r = xasprintf("%.*s...", (int)(w - 3), s);
	ret_str(ex, out, r, strlen(r));
	return 0;
}

static int
fn_repeat(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	const char *s;
	size_t len;
	int64_t c, i;
	struct buf b;

	(void)n;
	if (want_int(ex, &a[0], &c) == -1 || want_str(ex, &a[1], &s, &len) ==
	    -1)
		return -1;
	if (c < 0)
		return sensor_tex_fail(ex, "repeat: negative count");
	buf_init(&b, SENSOR_MAX_OUTPUT);
	for (i = 0; i < c && !b.overflow; i++)
		buf_add(&b, s, len);
	if (b.overflow) {
		buf_free(&b);
		return sensor_tex_fail(ex, "repeat: result too long");
	}
	ret_buf(ex, out, &b);
	return 0;
}

static int
fn_substr(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	const char *s;
	size_t len;
	int64_t st, en;

	(void)n;
	if (want_int(ex, &a[0], &st) == -1 || want_int(ex, &a[1], &en) == -1 ||
	    want_str(ex, &a[2], &s, &len) == -1)
		return -1;
	/* sprig: start < 0 means from 0; end < 0 or past the end: to the
	 * end; anything else out of range panics in Go */
	if (st < 0) {
		if (en < 0 || (size_t)en > len)
			return sensor_tex_fail(ex, "substr: slice bounds out "
			    "of range");
		sensor_tv_str(out, s, (size_t)en);
	} else if (en < 0 || (size_t)en > len) {
		if ((size_t)st > len)
			return sensor_tex_fail(ex, "substr: slice bounds out "
			    "of range");
		sensor_tv_str(out, s + st, len - (size_t)st);
	} else {
		if (st > en)
			return sensor_tex_fail(ex, "substr: slice bounds out "
			    "of range");
		sensor_tv_str(out, s + st, (size_t)(en - st));
	}
	return 0;
}

static int
fn_contains(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	const char *sub, *s;
	size_t ns, len;

	(void)n;
	if (want_str(ex, &a[0], &sub, &ns) == -1 ||
	    want_str(ex, &a[1], &s, &len) == -1)
		return -1;
	ret_bool(out, util_memfind(s, len, sub, ns) != NULL);
	return 0;
}

static int
fn_hasfix(struct tex *ex, struct tv *a, struct tv *out, int suffix)
{
	const char *fix, *s;
	size_t nf, len;

	if (want_str(ex, &a[0], &fix, &nf) == -1 ||
	    want_str(ex, &a[1], &s, &len) == -1)
		return -1;
	ret_bool(out, nf <= len && memcmp(suffix ? s + len - nf : s, fix, nf)
	    == 0);
	return 0;
}

static int
fn_hasprefix(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	(void)n;
	return fn_hasfix(ex, a, out, 0);
}

static int
fn_hassuffix(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	(void)n;
	return fn_hasfix(ex, a, out, 1);
}

static int
fn_quote(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	struct buf b, v;
	size_t i, k = 0;
	int single = strcmp(ex->fname, "squote") == 0;

	buf_init(&b, 0);
	for (i = 0; i < n; i++) {
		if (a[i].k == TV_INVALID || a[i].k == TV_NIL)
			continue;
		if (k++)
			buf_addc(&b, ' ');
		buf_init(&v, 0);
		strval(ex, &v, &a[i]);
		if (single) {
			buf_addc(&b, '\'');
			buf_add(&b, v.data ? v.data : "", v.len);
			buf_addc(&b, '\'');
		} else
			gofmt_quote(&b, v.data ? v.data : "", v.len);
		buf_free(&v);
	}
	ret_buf(ex, out, &b);
	return 0;
}

static int
fn_cat(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	struct buf b;
	size_t i, k = 0;

	buf_init(&b, 0);
	for (i = 0; i < n; i++) {
		if (a[i].k == TV_INVALID || a[i].k == TV_NIL)
			continue;
		if (k++)
			buf_addc(&b, ' ');
		strval(ex, &b, &a[i]);
	}
	ret_buf(ex, out, &b);
	return 0;
}

static int
fn_replace(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	const char *old, *new, *s, *hit;
	size_t no, nn, len;
	struct buf b;

	(void)n;
	if (want_str(ex, &a[0], &old, &no) == -1 ||
	    want_str(ex, &a[1], &new, &nn) == -1 ||
	    want_str(ex, &a[2], &s, &len) == -1)
		return -1;
	buf_init(&b, SENSOR_MAX_OUTPUT);
	if (no == 0) {
		/* Go inserts new around every rune; ASCII-wise here */
		size_t i;

		buf_add(&b, new, nn);
		for (i = 0; i < len; i++) {
			buf_addc(&b, s[i]);
			buf_add(&b, new, nn);
		}
	} else {
		while ((hit = util_memfind(s, len, old, no)) != NULL) {
			buf_add(&b, s, (size_t)(hit - s));
			buf_add(&b, new, nn);
			len -= (size_t)(hit - s) + no;
			s = hit + no;
		}
		buf_add(&b, s, len);
	}
	if (b.overflow) {
		buf_free(&b);
		return sensor_tex_fail(ex, "replace: result too long");
	}
	ret_buf(ex, out, &b);
	return 0;
}

/* strings.SplitN(s, sep, max); max < 0: all.  Appends strings to arr. */
static void
split(json_t *arr, const char *s, size_t len, const char *sep, size_t ns,
    int64_t max)
{
	const char *hit;
	size_t i;

	if (max == 0)
		return;
	if (ns == 0) {
		for (i = 0; i < len; i++) {
			if (max > 0 && (int64_t)json_array_size(arr) ==
			    max - 1) {
				json_array_append_new(arr,
				    json_stringn_nocheck(s + i, len - i));
				return;
			}
			json_array_append_new(arr, json_stringn_nocheck(s + i,
			    1));
		}
		return;
	}
	while ((max < 0 || (int64_t)json_array_size(arr) < max - 1) &&
	    (hit = util_memfind(s, len, sep, ns)) != NULL) {
		json_array_append_new(arr, json_stringn_nocheck(s,
		    (size_t)(hit - s)));
		len -= (size_t)(hit - s) + ns;
		s = hit + ns;
	}
	json_array_append_new(arr, json_stringn_nocheck(s, len));
}

static int
do_split(struct tex *ex, struct tv *sep, struct tv *str, int64_t max,
    int as_map, struct tv *out)
{
	const char *s, *sp;
	size_t len, ns, i;
	json_t *arr, *m;
	char key[32];

	if (want_str(ex, sep, &sp, &ns) == -1 ||
	    want_str(ex, str, &s, &len) == -1)
		return -1;
	arr = json_array();
	split(arr, s, len, sp, ns, max);
	if (!as_map) {
		ret_json(ex, out, arr);
		return 0;
	}
	m = json_object();
	for (i = 0; i < json_array_size(arr); i++) {
		snprintf(key, sizeof key, "_%zu", i);
		json_object_set(m, key, json_array_get(arr, i));
	}
	json_decref(arr);
	ret_json(ex, out, m);
	return 0;
}

static int
fn_split(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	(void)n;
	return do_split(ex, &a[0], &a[1], -1, 1, out);
}

static int
fn_splitlist(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	(void)n;
	return do_split(ex, &a[0], &a[1], -1, 0, out);
}

static int
fn_splitn(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	int64_t max;

	(void)n;
	if (want_int(ex, &a[1], &max) == -1)
		return -1;
	return do_split(ex, &a[0], &a[2], max, 1, out);
}

static int
fn_join(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	const char *sep;
	size_t ns, i, k = 0;
	struct buf b;
	struct tv e;

	(void)n;
	if (want_str(ex, &a[0], &sep, &ns) == -1)
		return -1;
	buf_init(&b, 0);
	if (a[1].k != TV_ARRAY) {
		strval(ex, &b, &a[1]);
		ret_buf(ex, out, &b);
		return 0;
	}
	for (i = 0; i < json_array_size(a[1].j); i++) {
		sensor_tv_json(&e, json_array_get(a[1].j, i));
		if (e.k == TV_NIL)
			continue;
		if (k++)
			buf_add(&b, sep, ns);
		strval(ex, &b, &e);
	}
	ret_buf(ex, out, &b);
	return 0;
}

static int
fn_tostring(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	struct buf b;

	(void)n;
	if (a->k == TV_STR) {
		*out = *a;
		return 0;
	}
	buf_init(&b, 0);
	strval(ex, &b, a);
	ret_buf(ex, out, &b);
	return 0;
}

static int
fn_b64enc(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	const char *s;
	size_t len;
	struct buf b;

	(void)n;
	if (want_str(ex, a, &s, &len) == -1)
		return -1;
	buf_init(&b, 0);
	base64_encode(&b, s, len);
	ret_buf(ex, out, &b);
	return 0;
}

static int
fn_b64dec(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	const char *s;
	size_t len, at;
	struct buf b;
	char *msg;

	(void)n;
	if (want_str(ex, a, &s, &len) == -1)
		return -1;
	buf_init(&b, 0);
	if (base64_decode(&b, s, len, &at) == 0) {
		ret_buf(ex, out, &b);
		return 0;
	}
	/* sprig returns the error's text instead of failing */
	buf_free(&b);
	msg = xasprintf("illegal base64 data at input byte %zu", at);
	ret_str(ex, out, msg, strlen(msg));
	return 0;
}

static int
fn_sha256(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	const char *s;
	size_t len, i;
	struct buf b;

	(void)n;
	if (want_str(ex, a, &s, &len) == -1)
		return -1;
	SHA256((const unsigned char *)s, len, md);
	buf_init(&b, 0);
	for (i = 0; i < sizeof md; i++)
		buf_printf(&b, "%02x", md[i]);
	ret_buf(ex, out, &b);
	return 0;
}

static int
fn_indent(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	const char *s;
	size_t len, i;
	int64_t w, k;
	struct buf b;

	(void)n;
	if (want_int(ex, &a[0], &w) == -1 || want_str(ex, &a[1], &s, &len) ==
	    -1)
		return -1;
	buf_init(&b, SENSOR_MAX_OUTPUT);
	if (strcmp(ex->fname, "nindent") == 0)
		buf_addc(&b, '\n');
	for (k = 0; k < w && k < 1000; k++)
		buf_addc(&b, ' ');
	for (i = 0; i < len; i++) {
		buf_addc(&b, s[i]);
		if (s[i] == '\n')
			for (k = 0; k < w && k < 1000; k++)
				buf_addc(&b, ' ');
	}
	ret_buf(ex, out, &b);
	return 0;
}

/* ---- regexps ------------------------------------------------------------- */

/* The pattern a[0], owned; NULL when it is refused (ex failed). */
static struct re2 *
compile_re(struct tex *ex, struct tv *a, int flags)
{
	struct re2 *re;
	const char *s;
	size_t n;
	char *err;

	if (want_str(ex, a, &s, &n) == -1)
		return NULL;
	if ((re = re2_compile(s, n, SENSOR_RE2 | flags, SENSOR_MAX_PATTERN,
	    &err)) == NULL) {
		sensor_tex_fail(ex, "%s: %s", ex->fname, err);
		free(err);
	}
	return re;
}

static int
fn_regexmatch(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	struct re2 *re;
	const char *s;
	size_t len;

	(void)n;
	if (want_str(ex, &a[1], &s, &len) == -1 ||
	    (re = compile_re(ex, &a[0], RE2_NOSUB)) == NULL)
		return -1;
	ret_bool(out, re2_matches(re, s, len));
	re2_free(re);
	return 0;
}

static int
fn_regexfind(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	struct re2_span m;
	struct re2 *re;
	const char *s;
	size_t len;

	(void)n;
	if (want_str(ex, &a[1], &s, &len) == -1 ||
	    (re = compile_re(ex, &a[0], 0)) == NULL)
		return -1;
	if (re2_find(re, s, len, &m, 1))
		sensor_tv_str(out, sensor_tex_str(ex, s + m.start,
		    (size_t)(m.end - m.start)), (size_t)(m.end - m.start));
	else
		sensor_tv_str(out, "", 0);
	re2_free(re);
	return 0;
}

static int
fn_regexreplace(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	struct re2 *re;
	const char *s, *rp;
	size_t len, nr;
	struct buf b;
	int literal = strcmp(ex->fname, "regexReplaceAllLiteral") == 0;

	(void)n;
	if (want_str(ex, &a[1], &s, &len) == -1 ||
	    want_str(ex, &a[2], &rp, &nr) == -1 ||
	    (re = compile_re(ex, &a[0], 0)) == NULL)
		return -1;
	buf_init(&b, SENSOR_MAX_OUTPUT);
	(void)re2_replace_all(re, s, len, rp, nr, literal, SIZE_MAX, &b);
	re2_free(re);
	if (b.overflow) {
		buf_free(&b);
		return sensor_tex_fail(ex, "%s: result too long", ex->fname);
	}
	ret_buf(ex, out, &b);
	return 0;
}

/* ---- defaults, logic, JSON ----------------------------------------------- */

static int
fn_default(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	(void)ex;
	*out = n < 2 || is_empty(&a[1]) ? a[0] : a[1];
	return 0;
}

static int
fn_empty(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	(void)ex;
	(void)n;
	ret_bool(out, is_empty(a));
	return 0;
}

static int
fn_coalesce(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	size_t i;

	(void)ex;
	memset(out, 0, sizeof *out);
	for (i = 0; i < n; i++) {
		if (!is_empty(&a[i])) {
			*out = a[i];
			break;
		}
	}
	return 0;
}

static int
fn_ternary(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	(void)n;
	if (a[2].k != TV_BOOL)
		return sensor_tex_fail(ex, "ternary: wrong type for value; "
		    "expected bool; got %s", sensor_tv_type(&a[2]));
	*out = a[2].b ? a[0] : a[1];
	return 0;
}

static int
fn_tojson(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	struct buf b;
	json_t *j;
	int flags = GOFMT_HEX_BF;

	(void)n;
	if (strcmp(ex->fname, "toJson") == 0)
		flags |= GOFMT_HTML;
	else if (strcmp(ex->fname, "toPrettyJson") == 0)
		flags |= GOFMT_HTML | GOFMT_INDENT;
	j = sensor_tv_to_json(ex, a);
	buf_init(&b, 0);
	if (gofmt_json(&b, j, flags) == -1)
		buf_reset(&b);		/* sprig: "" on a marshal error */
	json_decref(j);
	ret_buf(ex, out, &b);
	return 0;
}

static int
fn_not(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	(void)ex;
	(void)n;
	ret_bool(out, !sensor_tv_truth(a));
	return 0;
}

static int
fn_andor(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	/* evaluated by the engine (lazy); never called */
	(void)ex;
	(void)a;
	(void)n;
	(void)out;
	return 0;
}

static int
fn_len(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	(void)n;
	switch (a->k) {
	case TV_STR:
		ret_int(out, (int64_t)a->n);
		return 0;
	case TV_MAP:
		ret_int(out, (int64_t)json_object_size(a->j));
		return 0;
	case TV_ARRAY:
		ret_int(out, (int64_t)json_array_size(a->j));
		return 0;
	case TV_ROOT:
		ret_int(out, 1);
		return 0;
	case TV_INVALID:
	case TV_NIL:
		return sensor_tex_fail(ex, "len of nil pointer");
	default:
		return sensor_tex_fail(ex, "len of type %s",
		    sensor_tv_type(a));
	}
}

static int
fn_index(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	struct tv v = a[0];
	size_t i;
	char *key;

	for (i = 1; i < n; i++) {
		if (v.k == TV_MAP || v.k == TV_ROOT) {
			if (a[i].k != TV_STR)
				return sensor_tex_fail(ex, "index: value has "
				    "type %s; should be string",
				    sensor_tv_type(&a[i]));
			key = xstrndup(a[i].s, a[i].n);
			if (v.k == TV_ROOT)
				sensor_tv_json(&v, strcmp(key, "Input") == 0 ?
				    (ex->input ? ex->input : json_null()) :
				    NULL);
			else
				sensor_tv_json(&v, json_object_get(v.j, key));
			free(key);
			if (v.k == TV_INVALID)
				v.k = TV_NIL;	/* the zero value */
		} else if (v.k == TV_ARRAY || v.k == TV_STR) {
			if (a[i].k != TV_INT)
				return sensor_tex_fail(ex, "index: cannot "
				    "index slice/array with type %s",
				    sensor_tv_type(&a[i]));
			if (a[i].i < 0 || (size_t)a[i].i >= (v.k == TV_STR ?
			    v.n : json_array_size(v.j)))
				return sensor_tex_fail(ex, "index: index out "
				    "of range: %lld", (long long)a[i].i);
			if (v.k == TV_STR)
				ret_int(&v, (unsigned char)v.s[a[i].i]);
			else
				sensor_tv_json(&v, json_array_get(v.j,
				    (size_t)a[i].i));
		} else if (v.k == TV_INVALID || v.k == TV_NIL) {
			return sensor_tex_fail(ex, "index of untyped nil");
		} else
			return sensor_tex_fail(ex, "can't index item of type "
			    "%s", sensor_tv_type(&v));
	}
	*out = v;
	return 0;
}

/* Go's basicKind grouping for comparisons. */
static int
kind(const struct tv *v)
{
	switch (v->k) {
	case TV_BOOL:	return 1;
	case TV_INT:	return 2;
	case TV_FLOAT:	return 3;
	case TV_STR:	return 4;
	case TV_INVALID:
	case TV_NIL:	return 0;
	default:	return 5;
	}
}

static int
compare(struct tex *ex, const struct tv *x, const struct tv *y, int *c)
{
	size_t m;
	int k = kind(x);

	if (k != kind(y))
		return sensor_tex_fail(ex, "%s: incompatible types for "
		    "comparison", ex->fname);
	switch (k) {
	case 1:
		*c = x->b - y->b;
		return 0;
	case 2:
		*c = x->i < y->i ? -1 : x->i > y->i;
		return 0;
	case 3:
		*c = x->f < y->f ? -1 : x->f > y->f;
		return 0;
	case 4:
		m = x->n < y->n ? x->n : y->n;
		*c = memcmp(x->s, y->s, m);
		if (*c == 0)
			*c = x->n < y->n ? -1 : x->n > y->n;
		return 0;
	default:
		return sensor_tex_fail(ex, "%s: invalid type for comparison",
		    ex->fname);
	}
}

static int
fn_eq(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	size_t i;
	int c, r = 0;

	for (i = 1; i < n && !r; i++) {
		if (kind(&a[0]) == 0 || kind(&a[i]) == 0) {
			/* nil against anything is a plain answer */
			r = kind(&a[0]) == kind(&a[i]);
			continue;
		}
		if (kind(&a[0]) == 5 || kind(&a[i]) == 5)
			return sensor_tex_fail(ex, "%s: non-comparable type",
			    ex->fname);
		if (compare(ex, &a[0], &a[i], &c) == -1)
			return -1;
		r = c == 0;
	}
	ret_bool(out, strcmp(ex->fname, "ne") == 0 ? !r : r);
	return 0;
}

static int
fn_cmp(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	const char *f = ex->fname;
	int c;

	(void)n;
	if (kind(&a[0]) == 1 || kind(&a[1]) == 1)
		return sensor_tex_fail(ex, "%s: invalid type for comparison",
		    f);
	if (compare(ex, &a[0], &a[1], &c) == -1)
		return -1;
	ret_bool(out, strcmp(f, "lt") == 0 ? c < 0 : strcmp(f, "le") == 0 ?
	    c <= 0 : strcmp(f, "gt") == 0 ? c > 0 : c >= 0);
	return 0;
}

/* ---- printing ------------------------------------------------------------ */

static int
fn_print(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	struct buf b;
	size_t i;
	int ln = strcmp(ex->fname, "println") == 0;

	buf_init(&b, 0);
	for (i = 0; i < n; i++) {
		/* Sprint: a space between operands when neither is a
		 * string; Sprintln: always */
		if (i && (ln || (a[i - 1].k != TV_STR && a[i].k != TV_STR)))
			buf_addc(&b, ' ');
		strval(ex, &b, &a[i]);
	}
	if (ln)
		buf_addc(&b, '\n');
	ret_buf(ex, out, &b);
	return 0;
}

static void
bad_verb(struct tex *ex, struct buf *b, char verb, const struct tv *v)
{
	buf_printf(b, "%%!%c(%s=", verb, sensor_tv_type(v));
	strval(ex, b, v);
	buf_addc(b, ')');
}

struct spec {
	int	minus, plus, space, zero, sharp;
	int	width, prec;		/* -1: not given */
};

/*
 * Go's fmt (parsenum): a width or precision that grows past 1e6 while
 * its digits are read is "a crazy long number": the rest of the format is
 * consumed and the verb is missing.  Checked before the digits are
 * accumulated, so no int overflows.
 */
static int
spec_too_large(const char *s, size_t n)
{
	size_t i;
	long num = 0;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i])) {
			num = 0;
			continue;
		}
		if (num > 1000000)
			return 1;
		num = num * 10 + (s[i] - '0');
	}
	return 0;
}

/* Reads flags, width and precision; the caller has refused numbers that
 * spec_too_large() finds, so each is below 1e7. */
static void
parse_spec(const char *s, size_t n, struct spec *sp)
{
	size_t i = 0;

	memset(sp, 0, sizeof *sp);
	sp->width = sp->prec = -1;
	for (; i < n && strchr("+-# 0", s[i]); i++) {
		sp->minus |= s[i] == '-';
		sp->plus |= s[i] == '+';
		sp->space |= s[i] == ' ';
		sp->zero |= s[i] == '0';
		sp->sharp |= s[i] == '#';
	}
	for (; i < n && isdigit((unsigned char)s[i]); i++)
		if (sp->width <= 1000000)
			sp->width = (sp->width < 0 ? 0 : sp->width) * 10 +
			    (s[i] - '0');
	if (i < n && s[i] == '.')
		for (sp->prec = 0, i++; i < n && isdigit((unsigned char)s[i]);
		    i++)
			if (sp->prec <= 1000000)
				sp->prec = sp->prec * 10 + (s[i] - '0');
	if (sp->width > 1000)
		sp->width = 1000;
	if (sp->prec > 100)
		sp->prec = 100;
}

/* Pads body (its sign already in it) to the width. */
static void
pad(struct buf *b, const struct spec *sp, const char *body, size_t n,
    int numeric)
{
	size_t w = sp->width > 0 ? (size_t)sp->width : 0, i, sign = 0;

	if (n >= w) {
		buf_add(b, body, n);
		return;
	}
	if (sp->minus) {
		buf_add(b, body, n);
		for (i = n; i < w; i++)
			buf_addc(b, ' ');
		return;
	}
	if (numeric && sp->zero) {
		if (n && (body[0] == '-' || body[0] == '+' || body[0] == ' '))
			buf_addc(b, body[sign++]);
		for (i = n; i < w; i++)
			buf_addc(b, '0');
		buf_add(b, body + sign, n - sign);
		return;
	}
	for (i = n; i < w; i++)
		buf_addc(b, ' ');
	buf_add(b, body, n);
}

static void
signed_num(struct buf *b, const struct spec *sp, const char *digits)
{
	struct buf t;

	buf_init(&t, 0);
	if (digits[0] != '-' && (sp->plus || sp->space))
		buf_addc(&t, sp->plus ? '+' : ' ');
	buf_adds(&t, digits);
	pad(b, sp, t.data, t.len, 1);
	buf_free(&t);
}

/* One printf verb: Go's verbs for the value kinds templates have. */
static void
one_verb(struct tex *ex, struct buf *b, const char *spec, size_t sl,
    char verb, const struct tv *v)
{
	struct spec sp;
	struct buf s;
	char tmp[512];
	size_t n;

	parse_spec(spec, sl, &sp);
	switch (verb) {
	case 'v':
	case 's':
	case 'q':
		if ((verb == 's' || verb == 'q') && v->k != TV_STR &&
		    v->k != TV_MAP && v->k != TV_ARRAY) {
			bad_verb(ex, b, verb, v);
			return;
		}
		buf_init(&s, 0);
		if (verb == 'q')
			gofmt_quote(&s, v->s, v->n);
		else
			strval(ex, &s, v);
		n = s.len;
		if (verb == 's' && sp.prec >= 0 && (size_t)sp.prec < n)
			n = (size_t)sp.prec;
		if (v->k == TV_FLOAT || v->k == TV_INT)
			signed_num(b, &sp, s.data ? s.data : "");
		else
			pad(b, &sp, s.data ? s.data : "", n, 0);
		buf_free(&s);
		return;
	case 't':
		if (v->k != TV_BOOL) {
			bad_verb(ex, b, verb, v);
			return;
		}
		pad(b, &sp, v->b ? "true" : "false", v->b ? 4 : 5, 0);
		return;
	case 'd':
	case 'x':
	case 'X':
	case 'o':
	case 'c':
		if (v->k == TV_STR && (verb == 'x' || verb == 'X')) {
			buf_init(&s, 0);
			for (n = 0; n < v->n; n++)
				buf_printf(&s, verb == 'x' ? "%02x" : "%02X",
				    (unsigned char)v->s[n]);
			pad(b, &sp, s.data ? s.data : "", s.len, 0);
			buf_free(&s);
			return;
		}
		if (v->k != TV_INT) {
			bad_verb(ex, b, verb, v);
			return;
		}
		if (verb == 'c') {
			buf_addc(b, (char)v->i);
			return;
		}
		if (verb == 'd')
			snprintf(tmp, sizeof tmp, "%lld", (long long)v->i);
		else if (v->i < 0)
			snprintf(tmp, sizeof tmp, verb == 'o' ? "-%llo" :
			    verb == 'x' ? "-%llx" : "-%llX",
			    -(unsigned long long)v->i);
		else
			snprintf(tmp, sizeof tmp, verb == 'o' ? "%llo" :
			    verb == 'x' ? "%llx" : "%llX",
			    (unsigned long long)v->i);
		signed_num(b, &sp, tmp);
		return;
	case 'f':
	case 'F':
	case 'e':
	case 'E':
	case 'g':
	case 'G':
		if (v->k != TV_FLOAT) {
			bad_verb(ex, b, verb, v);
			return;
		}
		if (sp.prec < 0 && (verb == 'g' || verb == 'G')) {
			buf_init(&s, 0);
			gofmt_float(&s, v->f, GOFMT_V);
			signed_num(b, &sp, s.data);
			buf_free(&s);
			return;
		}
		if (sp.prec < 0)
			sp.prec = 6;
		switch (verb) {
		case 'f':
		case 'F':
			snprintf(tmp, sizeof tmp, "%.*f", sp.prec, v->f);
			break;
		case 'e':
			snprintf(tmp, sizeof tmp, "%.*e", sp.prec, v->f);
			break;
		case 'E':
			snprintf(tmp, sizeof tmp, "%.*E", sp.prec, v->f);
			break;
		case 'g':
			snprintf(tmp, sizeof tmp, "%.*g", sp.prec, v->f);
			break;
		default:
			snprintf(tmp, sizeof tmp, "%.*G", sp.prec, v->f);
			break;
		}
		signed_num(b, &sp, tmp);
		return;
	default:
		buf_printf(b, "%%!%c(", verb);
		strval(ex, b, v);
		buf_addc(b, ')');
	}
}

static int
fn_printf(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	const char *f, *spec;
	size_t fl, i, sl, argi = 1;
	struct buf b;

	if (want_str(ex, &a[0], &f, &fl) == -1)
		return -1;
	buf_init(&b, SENSOR_MAX_OUTPUT);
	for (i = 0; i < fl; i++) {
		if (f[i] != '%') {
			buf_addc(&b, f[i]);
			continue;
		}
		if (++i >= fl) {
			buf_adds(&b, "%!(NOVERB)");
			break;
		}
		if (f[i] == '%') {
			buf_addc(&b, '%');
			continue;
		}
		spec = f + i;
		while (i < fl && strchr("+-# 0123456789.", f[i]))
			i++;
		sl = (size_t)(f + i - spec);
		if (i >= fl || spec_too_large(spec, sl)) {
			buf_adds(&b, "%!(NOVERB)");
			break;
		}
		if (argi >= n) {
			buf_printf(&b, "%%!%c(MISSING)", f[i]);
			continue;
		}
		one_verb(ex, &b, spec, sl, f[i], &a[argi++]);
	}
	if (argi < n) {
		buf_adds(&b, "%!(EXTRA ");
		for (; argi < n; argi++) {
			buf_printf(&b, "%s=", sensor_tv_type(&a[argi]));
			strval(ex, &b, &a[argi]);
			if (argi + 1 < n)
				buf_adds(&b, ", ");
		}
		buf_addc(&b, ')');
	}
	ret_buf(ex, out, &b);
	return 0;
}

/* ---- numbers ------------------------------------------------------------- */

static int
fn_atoi(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	const char *s;
	size_t len;
	char *str;
	long long v;

	(void)n;
	if (want_str(ex, a, &s, &len) == -1)
		return -1;
	str = xstrndup(s, len);
	if (util_parse_int(str, &v) == -1)
		v = 0;
	free(str);
	ret_int(out, v);
	return 0;
}

static int
fn_int(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	(void)ex;
	(void)n;
	ret_int(out, to_int64(a));
	return 0;
}

static int
fn_float64(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	(void)ex;
	(void)n;
	memset(out, 0, sizeof *out);
	out->k = TV_FLOAT;
	out->f = to_float64(a);
	return 0;
}

/* Go's int64 arithmetic wraps; C's signed overflow is undefined, so the
 * sum is taken unsigned and converted back (two's complement, as gcc and
 * clang define the conversion). */
static int64_t
wrap(uint64_t u)
{
	return u > INT64_MAX ? -(int64_t)(UINT64_MAX - u) - 1 : (int64_t)u;
}

static int
fn_arith(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	const char *f = ex->fname;
	int64_t r, v;
	size_t i;

	if (strcmp(f, "add1") == 0) {
		ret_int(out, wrap((uint64_t)to_int64(a) + 1));
		return 0;
	}
	r = n ? to_int64(&a[0]) : 0;
	for (i = 1; i < n; i++) {
		v = to_int64(&a[i]);
		if (strcmp(f, "add") == 0)
			r = wrap((uint64_t)r + (uint64_t)v);
		else if (strcmp(f, "sub") == 0)
			r = wrap((uint64_t)r - (uint64_t)v);
		else if (strcmp(f, "mul") == 0)
			r = wrap((uint64_t)r * (uint64_t)v);
		else if (strcmp(f, "max") == 0)
			r = v > r ? v : r;
		else if (strcmp(f, "min") == 0)
			r = v < r ? v : r;
		else if (v == 0)
			return sensor_tex_fail(ex, "%s: integer divide by zero",
			    f);
		else if (v == -1)	/* INT64_MIN / -1 traps in C */
			r = strcmp(f, "div") == 0 ? wrap(-(uint64_t)r) : 0;
		else if (strcmp(f, "div") == 0)
			r /= v;
		else
			r %= v;
	}
	ret_int(out, r);
	return 0;
}

/* ---- collections --------------------------------------------------------- */

static int
fn_list(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(arr, sensor_tv_to_json(ex, &a[i]));
	ret_json(ex, out, arr);
	return 0;
}

static int
fn_dict(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	json_t *m = json_object();
	struct buf k;
	size_t i;

	for (i = 0; i < n; i += 2) {
		buf_init(&k, 0);
		strval(ex, &k, &a[i]);
		json_object_set_new(m, k.data ? k.data : "", i + 1 < n ?
		    sensor_tv_to_json(ex, &a[i + 1]) : json_string(""));
		buf_free(&k);
	}
	ret_json(ex, out, m);
	return 0;
}

static int
want_map(struct tex *ex, const struct tv *v)
{
	if (v->k == TV_MAP)
		return 0;
	return sensor_tex_fail(ex, "%s: wrong type for value; expected "
	    "map[string]interface {}; got %s", ex->fname, sensor_tv_type(v));
}

static int
fn_get(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	const char *k;
	size_t kl;
	char *key;
	json_t *v;

	(void)n;
	if (want_map(ex, &a[0]) == -1 || want_str(ex, &a[1], &k, &kl) == -1)
		return -1;
	key = xstrndup(k, kl);
	v = json_object_get(a[0].j, key);
	free(key);
	if (strcmp(ex->fname, "hasKey") == 0)
		ret_bool(out, v != NULL);
	else if (v == NULL)
		sensor_tv_str(out, "", 0);
	else
		sensor_tv_json(out, v);
	return 0;
}

static int
cmp_json_str(const void *x, const void *y)
{
	return strcmp(json_string_value(*(json_t *const *)x),
	    json_string_value(*(json_t *const *)y));
}

static int
fn_keys(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	json_t *arr = json_array(), *v, **tmp;
	const char *k;
	size_t i, cnt;

	for (i = 0; i < n; i++) {
		if (want_map(ex, &a[i]) == -1) {
			json_decref(arr);
			return -1;
		}
		json_object_foreach(a[i].j, k, v) {
			(void)v;
			json_array_append_new(arr, json_string(k));
		}
	}
	/* sprig's order is Go's random map order; sorted is kinder */
	cnt = json_array_size(arr);
	tmp = xcalloc(cnt ? cnt : 1, sizeof *tmp);
	for (i = 0; i < cnt; i++)
		tmp[i] = json_incref(json_array_get(arr, i));
	qsort(tmp, cnt, sizeof *tmp, cmp_json_str);
	json_array_clear(arr);
	for (i = 0; i < cnt; i++)
		json_array_append_new(arr, tmp[i]);
	free(tmp);
	ret_json(ex, out, arr);
	return 0;
}

static int
fn_firstlast(struct tex *ex, struct tv *a, size_t n, struct tv *out)
{
	size_t cnt;

	(void)n;
	memset(out, 0, sizeof *out);
	if (a->k != TV_ARRAY)
		return sensor_tex_fail(ex, "%s: cannot find %s on type %s",
		    ex->fname, ex->fname, sensor_tv_type(a));
	cnt = json_array_size(a->j);
	if (cnt == 0)
		return 0;
	sensor_tv_json(out, json_array_get(a->j, strcmp(ex->fname, "first")
	    == 0 ? 0 : cnt - 1));
	return 0;
}

static const struct tfunc funcs[] = {
	/* Go's builtins */
	{ "and", fn_andor, 1, -1, 1 },
	{ "or", fn_andor, 1, -1, 2 },
	{ "not", fn_not, 1, 1, 0 },
	{ "len", fn_len, 1, 1, 0 },
	{ "index", fn_index, 1, -1, 0 },
	{ "print", fn_print, 0, -1, 0 },
	{ "println", fn_print, 0, -1, 0 },
	{ "printf", fn_printf, 1, -1, 0 },
	{ "eq", fn_eq, 2, -1, 0 },
	{ "ne", fn_eq, 2, 2, 0 },
	{ "lt", fn_cmp, 2, 2, 0 },
	{ "le", fn_cmp, 2, 2, 0 },
	{ "gt", fn_cmp, 2, 2, 0 },
	{ "ge", fn_cmp, 2, 2, 0 },
	/* sprig: strings */
	{ "lower", fn_lower, 1, 1, 0 },
	{ "upper", fn_upper, 1, 1, 0 },
	{ "title", fn_title, 1, 1, 0 },
	{ "trim", fn_trim, 1, 1, 0 },
	{ "trimAll", fn_trimall, 2, 2, 0 },
	{ "trimPrefix", fn_trimprefix, 2, 2, 0 },
	{ "trimSuffix", fn_trimsuffix, 2, 2, 0 },
	{ "nospace", fn_nospace, 1, 1, 0 },
	{ "trunc", fn_trunc, 2, 2, 0 },
	{ "abbrev", fn_abbrev, 2, 2, 0 },
	{ "repeat", fn_repeat, 2, 2, 0 },
	{ "substr", fn_substr, 3, 3, 0 },
	{ "contains", fn_contains, 2, 2, 0 },
	{ "hasPrefix", fn_hasprefix, 2, 2, 0 },
	{ "hasSuffix", fn_hassuffix, 2, 2, 0 },
	{ "quote", fn_quote, 0, -1, 0 },
	{ "squote", fn_quote, 0, -1, 0 },
	{ "cat", fn_cat, 0, -1, 0 },
	{ "replace", fn_replace, 3, 3, 0 },
	{ "split", fn_split, 2, 2, 0 },
	{ "splitList", fn_splitlist, 2, 2, 0 },
	{ "splitn", fn_splitn, 3, 3, 0 },
	{ "join", fn_join, 2, 2, 0 },
	{ "toString", fn_tostring, 1, 1, 0 },
	{ "b64enc", fn_b64enc, 1, 1, 0 },
	{ "b64dec", fn_b64dec, 1, 1, 0 },
	{ "sha256sum", fn_sha256, 1, 1, 0 },
	{ "indent", fn_indent, 2, 2, 0 },
	{ "nindent", fn_indent, 2, 2, 0 },
	{ "regexMatch", fn_regexmatch, 2, 2, 0 },
	{ "regexFind", fn_regexfind, 2, 2, 0 },
	{ "regexReplaceAll", fn_regexreplace, 3, 3, 0 },
	{ "regexReplaceAllLiteral", fn_regexreplace, 3, 3, 0 },
	/* sprig: defaults, logic, encoding */
	{ "default", fn_default, 1, -1, 0 },
	{ "empty", fn_empty, 1, 1, 0 },
	{ "coalesce", fn_coalesce, 0, -1, 0 },
	{ "ternary", fn_ternary, 3, 3, 0 },
	{ "toJson", fn_tojson, 1, 1, 0 },
	{ "toRawJson", fn_tojson, 1, 1, 0 },
	{ "toPrettyJson", fn_tojson, 1, 1, 0 },
	/* sprig: numbers */
	{ "atoi", fn_atoi, 1, 1, 0 },
	{ "int", fn_int, 1, 1, 0 },
	{ "int64", fn_int, 1, 1, 0 },
	{ "float64", fn_float64, 1, 1, 0 },
	{ "add", fn_arith, 0, -1, 0 },
	{ "add1", fn_arith, 1, 1, 0 },
	{ "sub", fn_arith, 2, 2, 0 },
	{ "mul", fn_arith, 1, -1, 0 },
	{ "div", fn_arith, 2, 2, 0 },
	{ "mod", fn_arith, 2, 2, 0 },
	{ "max", fn_arith, 1, -1, 0 },
	{ "min", fn_arith, 1, -1, 0 },
	/* sprig: lists and dicts */
	{ "list", fn_list, 0, -1, 0 },
	{ "dict", fn_dict, 0, -1, 0 },
	{ "get", fn_get, 2, 2, 0 },
	{ "hasKey", fn_get, 2, 2, 0 },
	{ "keys", fn_keys, 1, -1, 0 },
	{ "first", fn_firstlast, 1, 1, 0 },
	{ "last", fn_firstlast, 1, 1, 0 },
};

const struct tfunc *
sensor_tfunc_find(const char *name)
{
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(funcs); i++)
		if (strcmp(funcs[i].name, name) == 0)
			return &funcs[i];
	return NULL;
}
