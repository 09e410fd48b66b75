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
#include "util/semver.h"
#include "util/util.h"

enum op { OP_EQ, OP_NE, OP_GT, OP_GE, OP_LT, OP_LE };

static int
is_wild(const char *p, const char *end)
{
	return p < end && (*p == 'x' || *p == 'X' || *p == '*');
}

/*
 * A version in a range: a whole one (util's semver_parse, as blang's), or
 * one whose parts from *wild on are wildcards or missing ("1.x", "1.2.*",
 * "1.2"); *wild is 3 for a whole version.
 */
static int
parse_ver(const char *s, const char *end, struct semver *v, int *wild)
{
	const char *p = s, *q;
	int i;

	*wild = 3;
	if (semver_parse(s, (size_t)(end - s), v) == 0)
		return 0;
	memset(v, 0, sizeof *v);
	for (i = 0; i < 3; i++) {
		if (i > 0) {
			if (p >= end) {
				/* "1.2" spans like "1.2.x" */
				if (*wild == 3)
					*wild = i;
				return 0;
			}
			if (*p != '.')
				return -1;
			p++;
		}
		if (is_wild(p, end)) {
			if (*wild == 3)
				*wild = i;
			p++;
			continue;
		}
		if (*wild < 3)
			return -1;	/* "1.x.3" */
		for (q = p; q < end && *q >= '0' && *q <= '9'; q++)
			;
		if (semver_number(p, (size_t)(q - p), &v->v[i]) < 0)
			return -1;
		p = q;
	}
	/* a whole version would have parsed above */
	return *wild < 3 && p == end ? 0 : -1;
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
comparator(const char *s, const char *end, const struct semver *v,
    int *ok)
{
	enum op op = OP_EQ;
	struct semver c, hi;
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
		*ok = holds(semver_cmp(v, &c), op);
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
		*ok = semver_cmp(v, &hi) >= 0;
		break;
	case OP_GE:
		*ok = semver_cmp(v, &c) >= 0;
		break;
	case OP_LT:
		*ok = semver_cmp(v, &c) < 0;
		break;
	case OP_LE:
		*ok = semver_cmp(v, &hi) < 0;
		break;
	case OP_NE:
		*ok = semver_cmp(v, &c) < 0 || semver_cmp(v, &hi) >= 0;
		break;
	default:
		*ok = semver_cmp(v, &c) >= 0 && semver_cmp(v, &hi) < 0;
		break;
	}
	return 0;
}

/* 1 satisfied, 0 not, -1 the range does not parse. */
static int
satisfies(const char *r, const struct semver *v)
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
	struct semver v;
	int r;

	if (semver_parse(vs, json_string_length(k->args[0]), &v) < 0)
		memset(&v, 0, sizeof v);	/* Kyverno: 0.0.0 */
	if ((r = satisfies(rs, &v)) < 0) {
		jp_call_fail(k, 1, JP_ERR_VALUE, "\"%.60s\" is not a version "
		    "range", rs);
		return NULL;
	}
	return json_boolean(r);
}
