/*
 * Kyverno's function library: the string, encoding, path and object
 * functions, and the registry that joins every Kyverno table (arithmetic
 * in karith.c, time in ktime.c, regular expressions in kregex.c, the rest
 * in kmisc.c).
 *
 * Names, arities and results follow Kyverno's pkg/engine/jmespath; where
 * Kyverno relies on Go's library (strings.Replace, strings.Trim,
 * filepath.Join) the Go semantics are reproduced, since policies are
 * written against them.  Case mapping covers ASCII, Latin-1, Greek and
 * Cyrillic, which is what Kubernetes names and labels hold.
 */
#include <stdlib.h>
#include <string.h>

#include "jp/jp_int.h"
#include "util/util.h"

#define S(k, i)		json_string_value((k)->args[i])
#define SN(k, i)	json_string_length((k)->args[i])

static uint32_t
lower(uint32_t c)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 0xc0 && c <= 0xde && c != 0xd7) ||
	    (c >= 0x391 && c <= 0x3ab && c != 0x3a2) ||
	    (c >= 0x410 && c <= 0x42f))
		return c + 0x20;
	if (c >= 0x400 && c <= 0x40f)
		return c + 0x50;
	return c;
}

static uint32_t
upper(uint32_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 0xe0 && c <= 0xfe && c != 0xf7) ||
	    (c >= 0x3b1 && c <= 0x3cb && c != 0x3c2) ||
	    (c >= 0x430 && c <= 0x44f))
		return c - 0x20;
	if (c >= 0x450 && c <= 0x45f)
		return c - 0x50;
	return c;
}

static json_t *
map_case(struct jp_call *k, uint32_t (*f)(uint32_t))
{
	const char *s = S(k, 0);
	size_t n = SN(k, 0), i = 0;
	struct buf b;
	char tmp[4];
	json_t *r;

	buf_init(&b, 0);
	while (i < n)
		buf_add(&b, tmp, utf8_encode(f(utf8_next(s, n, &i)), tmp));
	r = jp_strn(k->c, b.data ? b.data : "", b.len);
	buf_free(&b);
	return r;
}

static json_t *
f_to_upper(struct jp_call *k)
{
	return map_case(k, upper);
}

static json_t *
f_to_lower(struct jp_call *k)
{
	return map_case(k, lower);
}

static json_t *
f_compare(struct jp_call *k)
{
	size_t a = SN(k, 0), b = SN(k, 1);
	int r = memcmp(S(k, 0), S(k, 1), a < b ? a : b);

	if (r == 0)
		r = a < b ? -1 : a > b;
	return json_integer(r < 0 ? -1 : r > 0);
}

static json_t *
f_equal_fold(struct jp_call *k)
{
	const char *a = S(k, 0), *b = S(k, 1);
	size_t an = SN(k, 0), bn = SN(k, 1), i = 0, j = 0;

	while (i < an && j < bn)
		if (lower(utf8_next(a, an, &i)) !=
		    lower(utf8_next(b, bn, &j)))
			return json_false();
	return json_boolean(i == an && j == bn);
}

/* Go's strings.Replace: n < 0 replaces all; an empty old matches before
 * every code point and at the end. */
static json_t *
replace(struct jp_call *k, const char *s, size_t sn, const char *old,
    size_t on, const char *nw, size_t nn, long long n)
{
	struct buf b;
	size_t start = 0, j, m = 0, i;
	const char *p;
	long long done;
	json_t *r;

	if (on == 0)
		m = jp_utf8_len(s, sn) + 1;
	else
		for (p = s; (p = util_memfind(p, sn - (size_t)(p - s), old,
		    on)); p += on)
			m++;
	if (n < 0 || (unsigned long long)n > m)
		n = (long long)m;
	buf_init(&b, JP_MAX_BYTES);
	for (done = 0; done < n; done++) {
		j = start;
		if (on == 0) {
			if (done > 0 && j < sn) {
				i = j;
				utf8_next(s, sn, &i);
				j = i;
			}
		} else
			j = (size_t)(util_memfind(s + start, sn - start, old,
			    on) - s);
		buf_add(&b, s + start, j - start);
		buf_add(&b, nw, nn);
		start = j + on;
	}
	if (start < sn)
		buf_add(&b, s + start, sn - start);
	if (b.overflow) {
		buf_free(&b);
		jp_spend(k->c, 0, (size_t)JP_MAX_BYTES + 1);
		return NULL;
	}
	r = jp_strn(k->c, b.data ? b.data : "", b.len);
	buf_free(&b);
	return r;
}

static json_t *
f_replace(struct jp_call *k)
{
	double n = jp_num(k->args[3]);

	return replace(k, S(k, 0), SN(k, 0), S(k, 1), SN(k, 1), S(k, 2),
	    SN(k, 2), n < 0 ? -1 : n > 1e15 ? (long long)1e15 : (long long)n);
}

static json_t *
f_replace_all(struct jp_call *k)
{
	return replace(k, S(k, 0), SN(k, 0), S(k, 1), SN(k, 1), S(k, 2),
	    SN(k, 2), -1);
}

static int
in_cutset(const char *set, size_t n, uint32_t c)
{
	size_t i = 0;

	while (i < n)
		if (utf8_next(set, n, &i) == c)
			return 1;
	return 0;
}

static json_t *
f_trim(struct jp_call *k)
{
	const char *s = S(k, 0), *set = S(k, 1);
	size_t n = SN(k, 0), sn = SN(k, 1), i = 0, start, end;

	while (i < n) {
		start = i;
		if (!in_cutset(set, sn, utf8_next(s, n, &i))) {
			i = start;
			break;
		}
	}
	start = i;
	end = start;
	while (i < n)
		if (!in_cutset(set, sn, utf8_next(s, n, &i)))
			end = i;
	return jp_strn(k->c, s + start, end - start);
}

static json_t *
f_trim_prefix(struct jp_call *k)
{
	size_t n = SN(k, 0), p = SN(k, 1);

	if (p <= n && memcmp(S(k, 0), S(k, 1), p) == 0)
		return jp_strn(k->c, S(k, 0) + p, n - p);
	return json_incref(k->args[0]);
}

static json_t *
f_split(struct jp_call *k)
{
	const char *s = S(k, 0), *sep = S(k, 1), *p;
	size_t n = SN(k, 0), sn = SN(k, 1), i = 0, start = 0;
	json_t *r = json_array(), *e;

	if (jp_spend(k->c, 1, 0) < 0)
		goto fail;
	for (;;) {
		if (sn == 0) {
			if (i >= n)
				break;
			start = i;
			utf8_next(s, n, &i);
			e = jp_strn(k->c, s + start, i - start);
		} else {
			p = util_memfind(s + start, n - start, sep, sn);
			e = jp_strn(k->c, s + start, p ? (size_t)(p - s) -
			    start : n - start);
			if (p)
				start = (size_t)(p - s) + sn;
		}
		if (e == NULL)
			goto fail;
		json_array_append_new(r, e);
		if (sn && !p)
			break;
	}
	return r;
fail:
	json_decref(r);
	return NULL;
}

static json_t *
f_pattern_match(struct jp_call *k)
{
	char num[48], *pat, *str;
	const char *s;
	size_t n;
	int m;

	if (jp_kstring(k->args[1], num, sizeof num, &s, &n) < 0)
		return jp_arg_error(k, 1, "string or number"), NULL;
	pat = xstrndup(S(k, 0), SN(k, 0));
	str = xstrndup(s, n);
	m = util_glob(pat, str);
	free(pat);
	free(str);
	return json_boolean(m);
}

static json_t *
f_label_match(struct jp_call *k)
{
	json_t *want = k->args[0], *have = k->args[1], *v;
	void *it;

	for (it = json_object_iter(want); it;
	    it = json_object_iter_next(want, it)) {
		v = json_object_getn(have, json_object_iter_key(it),
		    json_object_iter_key_len(it));
		if (v == NULL || !jp_equal(v, json_object_iter_value(it)))
			return json_false();
	}
	return json_true();
}

static json_t *
f_to_boolean(struct jp_call *k)
{
	const char *s = S(k, 0);

	if (SN(k, 0) == 4 && strncasecmp(s, "true", 4) == 0)
		return json_true();
	if (SN(k, 0) == 5 && strncasecmp(s, "false", 5) == 0)
		return json_false();
	jp_call_fail(k, 0, JP_ERR_VALUE, "must be 'true' or 'false' in any "
	    "case, got \"%.40s\"", s);
	return NULL;
}

static json_t *
f_base64_encode(struct jp_call *k)
{
	struct buf b;
	json_t *r;

	buf_init(&b, 0);
	base64_encode(&b, S(k, 0), SN(k, 0));
	r = jp_strn(k->c, b.data ? b.data : "", b.len);
	buf_free(&b);
	return r;
}

/* Go's StdEncoding: padding required, CR and LF ignored. */
static json_t *
f_base64_decode(struct jp_call *k)
{
	struct buf b;
	size_t at;
	json_t *r = NULL;

	buf_init(&b, 0);
	if (base64_decode(&b, S(k, 0), SN(k, 0), &at) == 0)
		r = jp_str_lossy(k->c, b.data ? b.data : "", b.len);
	else
		jp_call_fail(k, 0, JP_ERR_VALUE, "illegal base64 data at "
		    "input byte %zu", at);
	buf_free(&b);
	return r;
}

/* Go's filepath.Join of one element: Clean, and "" stays "". */
static json_t *
f_path_canonicalize(struct jp_call *k)
{
	const char *p = S(k, 0);
	size_t n = SN(k, 0), r = 0, w = 0, dotdot = 0;
	int rooted = n > 0 && p[0] == '/';
	char *out;
	json_t *res;

	if (n == 0)
		return json_string("");
	out = xmalloc(n + 2);
	if (rooted) {
		out[w++] = '/';
		r = dotdot = 1;
	}
	while (r < n) {
		if (p[r] == '/')
			r++;
		else if (p[r] == '.' && (r + 1 == n || p[r + 1] == '/'))
			r++;
		else if (p[r] == '.' && p[r + 1] == '.' &&
		    (r + 2 == n || p[r + 2] == '/')) {
			r += 2;
			if (w > dotdot) {
				w--;
				while (w > dotdot && out[w] != '/')
					w--;
			} else if (!rooted) {
				if (w > 0)
					out[w++] = '/';
				out[w++] = '.';
				out[w++] = '.';
				dotdot = w;
			}
		} else {
			if ((rooted && w != 1) || (!rooted && w != 0))
				out[w++] = '/';
			for (; r < n && p[r] != '/'; r++)
				out[w++] = p[r];
		}
	}
	if (w == 0)
		out[w++] = '.';
	res = jp_strn(k->c, out, w);
	free(out);
	return res;
}

static json_t *
f_truncate(struct jp_call *k)
{
	const char *s = S(k, 0);
	size_t n = SN(k, 0), i = 0;
	double want = jp_num(k->args[1]);
	size_t lim = want < 0 ? 0 : want > 1e15 ? (size_t)1e15 : (size_t)want;

	while (i < n && lim > 0) {
		utf8_next(s, n, &i);
		lim--;
	}
	if (i >= n)
		return json_incref(k->args[0]);
	return jp_strn(k->c, s, i);
}

static const struct jp_func kstr[] = {
	{ "compare", 2, 2, { JT_STR, JT_STR }, f_compare, 0 },
	{ "equal_fold", 2, 2, { JT_STR, JT_STR }, f_equal_fold, 0 },
	{ "replace", 4, 4, { JT_STR, JT_STR, JT_STR, JT_NUM }, f_replace, 0 },
	{ "replace_all", 3, 3, { JT_STR, JT_STR, JT_STR }, f_replace_all, 0 },
	{ "to_upper", 1, 1, { JT_STR }, f_to_upper, 0 },
	{ "to_lower", 1, 1, { JT_STR }, f_to_lower, 0 },
	{ "trim", 2, 2, { JT_STR, JT_STR }, f_trim, 0 },
	{ "trim_prefix", 2, 2, { JT_STR, JT_STR }, f_trim_prefix, 0 },
	{ "split", 2, 2, { JT_STR, JT_STR }, f_split, 0 },
	{ "pattern_match", 2, 2, { JT_STR, JT_STR | JT_NUM }, f_pattern_match,
	    0 },
	{ "label_match", 2, 2, { JT_OBJ, JT_OBJ }, f_label_match, 0 },
	{ "to_boolean", 1, 1, { JT_STR }, f_to_boolean, 0 },
	{ "base64_encode", 1, 1, { JT_STR }, f_base64_encode, 0 },
	{ "base64_decode", 1, 1, { JT_STR }, f_base64_decode, 0 },
	{ "path_canonicalize", 1, 1, { JT_STR }, f_path_canonicalize, 0 },
	{ "truncate", 2, 2, { JT_STR, JT_NUM }, f_truncate, 0 },
};

const struct jp_func *
jp_kstr_table(size_t *n)
{
	*n = UTIL_ARRAY_LEN(kstr);
	return kstr;
}

/* Kyverno functions left out on purpose, and why. */
static const struct { const char *name, *why; } unsupported[] = {
	{ "random", "it would make policy decisions unrepeatable" },
	{ "x509_decode", "certificates are not part of remediation "
	    "objects" },
	{ "is_external_url", "remediate makes no outbound name lookups" },
};

static const struct jp_func *(*const tables[])(size_t *) = {
	jp_kstr_table, jp_karith_table, jp_ktime_table, jp_kregex_table,
	jp_kmisc_table,
};

const struct jp_func *
jp_kyverno_find(const char *name, size_t len)
{
	const struct jp_func *t;
	size_t i, j, n;

	for (i = 0; i < UTIL_ARRAY_LEN(tables); i++) {
		t = tables[i](&n);
		for (j = 0; j < n; j++)
			if (len > 0 && t[j].name[0] == name[0] &&
			    strncmp(t[j].name, name, len) == 0 &&
			    t[j].name[len] == '\0')
				return &t[j];
	}
	return NULL;
}

const char *
jp_kyverno_unsupported(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(unsupported); i++)
		if (len > 0 && unsupported[i].name[0] == name[0] &&
		    strncmp(unsupported[i].name, name, len) == 0 &&
		    unsupported[i].name[len] == '\0')
			return unsupported[i].why;
	return NULL;
}

size_t
jp_kyverno_names(const char **out, size_t max)
{
	const struct jp_func *t;
	size_t i, j, n, k = 0;

	for (i = 0; i < UTIL_ARRAY_LEN(tables); i++) {
		t = tables[i](&n);
		for (j = 0; j < n && k < max; j++)
			out[k++] = t[j].name;
	}
	return k;
}
