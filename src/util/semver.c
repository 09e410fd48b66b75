/*
 * Semantic versions as blang/semver v4 parses and compares them (see
 * semver.h).  Kyverno's semver_compare() and its comparison operators both
 * rest on that library, so both of our stages read versions here.
 */
#include <string.h>

#include "util/semver.h"

static int
digits_only(const char *s, size_t n)
{
	return strspn(s, "0123456789") >= n;
}

static int
alnum_only(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '-'))
			return 0;
	return 1;
}

/* strconv.ParseUint(s, 10, 64) of digits, after blang's leading-0 rule. */
int
semver_number(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || !digits_only(s, n) || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Each dot-separated part of s (n bytes): non-empty, [0-9A-Za-z-]; a
 * numeric one (pre-release only) without leading zero, within 64 bits. */
static int
parts_ok(const char *s, size_t n, int numeric_rule)
{
	size_t i = 0, j;
	uint64_t v;

	for (;;) {
		for (j = i; j < n && s[j] != '.'; j++)
			;
		if (j == i || !alnum_only(s + i, j - i))
			return 0;
		if (numeric_rule && digits_only(s + i, j - i) &&
		    semver_number(s + i, j - i, &v) < 0)
			return 0;
		if (j == n)
			return 1;
		i = j + 1;
	}
}

int
semver_parse(const char *s, size_t n, struct semver *v)
{
	const char *end = s + n, *p = s, *dot, *patch, *plus, *minus;
	int i;

	memset(v, 0, sizeof *v);
	/* major and minor end at the first two dots; the rest is patch */
	for (i = 0; i < 2; i++) {
		dot = memchr(p, '.', (size_t)(end - p));
		if (dot == NULL || semver_number(p, (size_t)(dot - p),
		    &v->v[i]) < 0)
			return -1;
		p = dot + 1;
	}
	patch = p;
	/* build first: a '-' after the '+' belongs to the build */
	plus = memchr(patch, '+', (size_t)(end - patch));
	if (plus != NULL && !parts_ok(plus + 1, (size_t)(end - plus - 1), 0))
		return -1;
	if (plus == NULL)
		plus = end;
	minus = memchr(patch, '-', (size_t)(plus - patch));
	if (minus != NULL) {
		v->pre = minus + 1;
		v->prelen = (size_t)(plus - minus - 1);
		if (!parts_ok(v->pre, v->prelen, 1))
			return -1;
	} else
		minus = plus;
	return semver_number(patch, (size_t)(minus - patch), &v->v[2]);
}

/* One pre-release identifier against another (semver 2.0 §11). */
static int
cmp_ident(const char *a, size_t an, const char *b, size_t bn)
{
	int anum = digits_only(a, an), bnum = digits_only(b, bn), c;

	if (anum && bnum) {
		/* no leading zeros: the longer number is the larger */
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

int
semver_cmp(const struct semver *a, const struct semver *b)
{
	size_t i = 0, j = 0, ie, je;
	int k, c;

	for (k = 0; k < 3; k++)
		if (a->v[k] != b->v[k])
			return a->v[k] < b->v[k] ? -1 : 1;
	/* a version without a pre-release ranks above one with */
	if (a->pre == NULL || b->pre == NULL)
		return a->pre == b->pre ? 0 : a->pre == NULL ? 1 : -1;
	for (;;) {
		if (i > a->prelen || j > b->prelen)
			return i > a->prelen && j > b->prelen ? 0 :
			    i > a->prelen ? -1 : 1;
		for (ie = i; ie < a->prelen && a->pre[ie] != '.'; ie++)
			;
		for (je = j; je < b->prelen && b->pre[je] != '.'; je++)
			;
		c = cmp_ident(a->pre + i, ie - i, b->pre + j, je - j);
		if (c)
			return c;
		i = ie + 1;
		j = je + 1;
	}
}
