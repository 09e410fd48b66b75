/*
 * The typed readings of a string that Kyverno's operators try in turn:
 * Go floats and semantic versions ("1.2.3"); Go durations ("1h30m",
 * duration_parse_ns) and Kubernetes quantities ("512Mi") are util's.
 * Each parser is strict, as the Go one it stands for, because a lenient
 * one would make "1e3h" a duration here and a plain string in the
 * cluster, and the same policy would decide differently.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "policy/pol_int.h"

/* ---- Go floats ---------------------------------------------------------- */

static int
ieq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/*
 * strconv.ParseFloat for what Kyverno's policies contain: decimal and
 * exponent forms, "Inf"/"Infinity"/"NaN" in any case.  Hexadecimal floats
 * and underscores, which no one writes in a policy, are refused.
 */
int
pol_parse_float(const char *s, double *out)
{
	const char *p = s;
	char *end;
	double v;
	int digits = 0;

	if (*p == '+' || *p == '-')
		p++;
	if (ieq(p, "inf") || ieq(p, "infinity")) {
		*out = *s == '-' ? -INFINITY : INFINITY;
		return 0;
	}
	if (ieq(p, "nan")) {
		*out = NAN;
		return 0;
	}
	for (; *p; p++) {
		if (isdigit((unsigned char)*p))
			digits++;
		else if (!strchr(".eE+-", *p))
			return -1;
	}
	if (digits == 0)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (*end || end == s)
		return -1;
	if (errno == ERANGE && fabs(v) > 1)
		return -1;	/* Go: out of range */
	*out = v;
	return 0;
}

/* ---- semantic versions -------------------------------------------------- */

struct semver {
	unsigned long long	 v[3];
	const char		*pre;	/* after '-', up to '+' or end */
	size_t			 prelen;
};

/* A numeric identifier: digits, no leading zero unless "0". */
static int
numeric_id(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return n == 1 || s[0] != '0';
}

static int
ident_chars(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return 0;
	return 1;
}

/* Dot-separated identifiers of s[0..n); numeric ones without leading 0. */
static int
idents(const char *s, size_t n, int strict_numeric)
{
	size_t i = 0, j;

	if (n == 0)
		return 0;
	while (i <= n) {
		for (j = i; j < n && s[j] != '.'; j++)
			;
		if (!ident_chars(s + i, j - i))
			return 0;
		if (strict_numeric && strspn(s + i, "0123456789") >= j - i &&
		    !numeric_id(s + i, j - i))
			return 0;
		i = j + 1;
	}
	return 1;
}

static int
semver_parse(const char *s, struct semver *sv)
{
	const char *p = s, *plus;
	int i;

	for (i = 0; i < 3; i++) {
		size_t n = strspn(p, "0123456789");

		if (!numeric_id(p, n) || n > 18)
			return -1;
		sv->v[i] = strtoull(p, NULL, 10);
		p += n;
		if (i < 2 && *p++ != '.')
			return -1;
	}
	sv->pre = NULL;
	sv->prelen = 0;
	plus = strchr(p, '+');
	if (*p == '-') {
		p++;
		sv->pre = p;
		sv->prelen = plus ? (size_t)(plus - p) : strlen(p);
		if (!idents(sv->pre, sv->prelen, 1))
			return -1;
		p += sv->prelen;
	}
	if (*p == '+')
		return idents(p + 1, strlen(p + 1), 0) ? 0 : -1;
	return *p == '\0' ? 0 : -1;
}

/* Precedence of two pre-release identifiers (semver 2.0 §11). */
static int
cmp_ident(const char *a, size_t an, const char *b, size_t bn)
{
	int anum = numeric_id(a, an), bnum = numeric_id(b, bn);
	int c;

	if (anum && bnum) {
		if (an != bn)
			return an < bn ? -1 : 1;
		c = memcmp(a, b, an);
		return c < 0 ? -1 : c > 0;
	}
	if (anum != bnum)
		return anum ? -1 : 1;
	c = memcmp(a, b, an < bn ? an : bn);
	if (c)
		return c < 0 ? -1 : 1;
	return an == bn ? 0 : an < bn ? -1 : 1;
}

static int
cmp_pre(const struct semver *a, const struct semver *b)
{
	size_t i = 0, j = 0;

	if (a->pre == NULL || b->pre == NULL)
		return a->pre == b->pre ? 0 : a->pre == NULL ? 1 : -1;
	for (;;) {
		size_t ie = i, je = j;
		int c;

		if (i >= a->prelen || j >= b->prelen)
			return i >= a->prelen && j >= b->prelen ? 0 :
			    i >= a->prelen ? -1 : 1;
		while (ie < a->prelen && a->pre[ie] != '.')
			ie++;
		while (je < b->prelen && b->pre[je] != '.')
			je++;
		c = cmp_ident(a->pre + i, ie - i, b->pre + j, je - j);
		if (c)
			return c;
		i = ie + 1;
		j = je + 1;
	}
}

int
pol_semver_valid(const char *s)
{
	struct semver sv;

	return semver_parse(s, &sv) == 0;
}

int
pol_semver_cmp(const char *a, const char *b, int *cmp)
{
	struct semver x, y;
	int i;

	if (semver_parse(a, &x) != 0 || semver_parse(b, &y) != 0)
		return -1;
	for (i = 0; i < 3; i++)
		if (x.v[i] != y.v[i]) {
			*cmp = x.v[i] < y.v[i] ? -1 : 1;
			return 0;
		}
	*cmp = cmp_pre(&x, &y);
	return 0;
}
