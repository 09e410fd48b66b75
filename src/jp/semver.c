/*
 * semver_compare(version, range): whether a semantic version satisfies a
 * range, with the range syntax of blang/semver that Kyverno uses:
 * comparators (=, ==, !=, !, >, >=, <, <=, none for equality) joined by
 * spaces (and) and "||" (or), and x wildcards ("1.x", ">=1.2.x").
 *
 * As in Kyverno, a version that does not parse is 0.0.0; a range that does
 * not parse is an error.
 */
#include <stdlib.h>
#include <string.h>

#include "jp/jp_int.h"
#include "util/util.h"

struct ver {
	unsigned long long	 v[3];
	const char		*pre;	/* borrowed; NULL if none */
	size_t			 prelen;
};

enum op { OP_EQ, OP_NE, OP_GT, OP_GE, OP_LT, OP_LE };

static int
num(const char **p, const char *end, unsigned long long *out)
{
	const char *s = *p;
	unsigned long long v = 0;

	if (s >= end || *s < '0' || *s > '9')
		return -1;
	if (*s == '0' && s + 1 < end && s[1] >= '0' && s[1] <= '9')
		return -1;	/* no leading zeros */
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (v > 1844674407370955161ULL)
			return -1;
		v = v * 10 + (unsigned long long)(*s - '0');
	}
	*p = s;
	*out = v;
	return 0;
}

static int
ident_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '-'))
			return 0;
	return 1;
}

/* MAJOR.MINOR.PATCH[-pre][+build]; wild: 'x' allowed, *wild set to the
 * first wildcard part (3 if none). */
static int
parse_ver(const char *s, const char *end, struct ver *v, int *wild)
{
	const char *p = s, *q, *dot;
	int i;


	memset(v, 0, sizeof *v);
	if (wild)
		*wild = 3;
	for (i = 0; i < 3; i++) {
		if (i > 0) {
			if (p >= end && wild) {
				/* "1.2" spans like "1.2.x" */
				if (*wild == 3)
					*wild = i;
				return 0;
			}
			if (p >= end || *p != '.')
				return -1;
			p++;
		}
		if (wild && p < end && (*p == 'x' || *p == 'X' || *p == '*')) {
			if (*wild == 3)
				*wild = i;
			p++;
			continue;
		}
		if ((wild && *wild < 3) || num(&p, end, &v->v[i]) < 0)
			return -1;
	}
	if (wild && *wild < 3)
		return p == end ? 0 : -1;
	if (p < end && *p == '-') {
		q = ++p;
		while (p < end && *p != '+')
			p++;
		v->pre = q;
		v->prelen = (size_t)(p - q);
		for (; q < p; q = dot + 1) {
			dot = memchr(q, '.', (size_t)(p - q));
			if (dot == NULL)
				dot = p;
			if (!ident_ok(q, (size_t)(dot - q)) || (*q == '0' &&
			    dot - q > 1 && strspn(q, "0123456789") >=
			    (size_t)(dot - q)))
				return -1;
			if (dot == p)
				break;
		}
	}
	if (p < end && *p == '+') {
		q = ++p;
		if (q == end || strspn(q, "0123456789abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ-.") < (size_t)(end - q))
			return -1;
		p = end;
	}
	return p == end ? 0 : -1;
}

static int
is_num(const char *s, size_t n)
{
	return n > 0 && strspn(s, "0123456789") >= n;
}

static int
cmp_pre(const struct ver *a, const struct ver *b)
{
	const char *p = a->pre, *q = b->pre, *pe, *qe, *pd, *qd;
	size_t pl, ql;
	int r;

	if (!a->pre || !b->pre)
		return a->pre ? -1 : b->pre ? 1 : 0;
	pe = p + a->prelen;
	qe = q + b->prelen;
	while (p < pe && q < qe) {
		pd = memchr(p, '.', (size_t)(pe - p));
		qd = memchr(q, '.', (size_t)(qe - q));
		pl = (size_t)((pd ? pd : pe) - p);
		ql = (size_t)((qd ? qd : qe) - q);
		if (is_num(p, pl) && is_num(q, ql)) {
			if (pl != ql)
				return pl < ql ? -1 : 1;
			r = memcmp(p, q, pl);
		} else if (is_num(p, pl) || is_num(q, ql))
			r = is_num(p, pl) ? -1 : 1;
		else {
			r = memcmp(p, q, pl < ql ? pl : ql);
			if (r == 0 && pl != ql)
				r = pl < ql ? -1 : 1;
		}
		if (r)
			return r < 0 ? -1 : 1;
		p += pl + 1;
		q += ql + 1;
	}
	return p < pe ? 1 : q < qe ? -1 : 0;
}

static int
cmp_ver(const struct ver *a, const struct ver *b)
{
	int i;

	for (i = 0; i < 3; i++)
		if (a->v[i] != b->v[i])
			return a->v[i] < b->v[i] ? -1 : 1;
	return cmp_pre(a, b);
}

static int
holds(int c, enum op op)
{
	switch (op) {
	case OP_EQ: return c == 0;
	case OP_NE: return c != 0;
	case OP_GT: return c > 0;
	case OP_GE: return c >= 0;
	case OP_LT: return c < 0;
	default: return c <= 0;
	}
}

/*
 * One comparator such as ">=1.2.x": *ok = 1 if version satisfies it;
 * returns -1 when it does not parse.
 */
static int
comparator(const char *s, const char *end, const struct ver *v, int *ok)
{
	enum op op = OP_EQ;
	struct ver c, hi;
	int wild;

	if (end - s >= 2 && (memcmp(s, ">=", 2) == 0 ||
	    memcmp(s, "<=", 2) == 0 || memcmp(s, "!=", 2) == 0 ||
	    memcmp(s, "==", 2) == 0)) {
		op = s[0] == '>' ? OP_GE : s[0] == '<' ? OP_LE :
		    s[0] == '!' ? OP_NE : OP_EQ;
		s += 2;
	} else if (s < end && (*s == '>' || *s == '<' || *s == '=' ||
	    *s == '!')) {
		op = *s == '>' ? OP_GT : *s == '<' ? OP_LT : *s == '!' ?
		    OP_NE : OP_EQ;
		s++;
	}
	if (parse_ver(s, end, &c, &wild) < 0)
		return -1;
	if (wild == 3) {
		*ok = holds(cmp_ver(v, &c), op);
		return 0;
	}
	if (wild == 0)
		return -1;	/* a bare "x" names no version */
	/* c..hi is the range the wildcard spans: [1.2.0, 1.3.0). */
	hi = c;
	hi.v[wild - 1]++;
	if (wild == 1)
		hi.v[1] = 0;
	switch (op) {
	case OP_GT:
		*ok = cmp_ver(v, &hi) >= 0;
		break;
	case OP_GE:
		*ok = cmp_ver(v, &c) >= 0;
		break;
	case OP_LT:
		*ok = cmp_ver(v, &c) < 0;
		break;
	case OP_LE:
		*ok = cmp_ver(v, &hi) < 0;
		break;
	case OP_NE:
		*ok = cmp_ver(v, &c) < 0 || cmp_ver(v, &hi) >= 0;
		break;
	default:
		*ok = cmp_ver(v, &c) >= 0 && cmp_ver(v, &hi) < 0;
		break;
	}
	return 0;
}

/* 1 satisfied, 0 not, -1 the range does not parse. */
static int
satisfies(const char *r, const struct ver *v)
{
	const char *p = r, *e, *tok;
	int any = 0, all, ok, seen;

	for (;;) {
		e = strstr(p, "||");
		if (e == NULL)
			e = p + strlen(p);
		all = 1;
		seen = 0;
		while (p < e) {
			while (p < e && *p == ' ')
				p++;
			if (p >= e)
				break;
			tok = p;
			/* An operator may stand apart: "> 1.0.0". */
			while (p < e && strchr("<>=!", *p))
				p++;
			while (p < e && *p == ' ' && p > tok && strchr("<>=!",
			    p[-1]))
				p++;
			while (p < e && *p != ' ')
				p++;
			{
				char buf[128];
				size_t n = 0;
				const char *q;

				for (q = tok; q < p && n < sizeof buf - 1; q++)
					if (*q != ' ')
						buf[n++] = *q;
				buf[n] = '\0';
				if (comparator(buf, buf + n, v, &ok) < 0)
					return -1;
			}
			all = all && ok;
			seen = 1;
		}
		if (!seen)
			return -1;
		any = any || all;
		if (*e == '\0')
			break;
		p = e + 2;
	}
	return any;
}

json_t *
jp_f_semver_compare(struct jp_call *k)
{
	const char *vs = json_string_value(k->args[0]);
	const char *rs = json_string_value(k->args[1]);
	struct ver v;
	int r;

	if (parse_ver(vs, vs + json_string_length(k->args[0]), &v, NULL) < 0)
		memset(&v, 0, sizeof v);	/* Kyverno: 0.0.0 */
	if ((r = satisfies(rs, &v)) < 0) {
		jp_call_fail(k, 1, JP_ERR_VALUE, "\"%.60s\" is not a version "
		    "range", rs);
		return NULL;
	}
	return json_boolean(r);
}
