/*
 * Kubernetes resource quantities.  Arithmetic runs in 128-bit integers so
 * aligning two scales cannot overflow silently; results are brought back
 * to a 64-bit mantissa (dropping trailing zeros into the scale) or
 * refused.
 *
 * The canonical form follows resource.Quantity.String(): decimal formats
 * print an integral mantissa with an exponent that is a multiple of three
 * (1.5 is "1500m"); binary quantities print the largest power of 1024 that
 * keeps the mantissa integral ("1536Mi"), and fall back to decimal when
 * the value is fractional or smaller than 1024 in magnitude.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/gofmt.h"
#include "util/quantity.h"

typedef __int128 i128;

#define MAX_SCALE	400	/* exponents beyond this are not quantities */

static i128
pow10_128(int n)
{
	i128 r = 1;

	while (n-- > 0)
		r *= 10;
	return r;
}

/* a * 10^n within +-10^37, else -1. */
static int
scale_up(i128 a, int n, i128 *out)
{
	const i128 lim = pow10_128(37);

	while (n-- > 0) {
		if (a > lim / 10 || a < -lim / 10)
			return -1;
		a *= 10;
	}
	*out = a;
	return 0;
}

/* Stores v*10^scale, shedding trailing zeros until it fits 64 bits. */
static int
store(struct quantity *q, i128 v, int scale, enum quantity_format f)
{
	while ((v > INT64_MAX || v < INT64_MIN) && v % 10 == 0) {
		v /= 10;
		scale++;
	}
	if (v > INT64_MAX || v < INT64_MIN || scale > MAX_SCALE ||
	    scale < -MAX_SCALE)
		return -1;
	q->mant = (int64_t)v;
	q->scale = v == 0 ? 0 : scale;
	q->format = f;
	return 0;
}

/* Rounds magnitude up to whole nanos, as ParseQuantity does. */
static void
round_nano(i128 *v, int *scale)
{
	i128 d, r;
	int neg = *v < 0;

	if (*scale >= -9)
		return;
	if (-9 - *scale > 38) {
		*v = *v == 0 ? 0 : neg ? -1 : 1;
		*scale = -9;
		return;
	}
	d = pow10_128(-9 - *scale);
	r = *v % d;
	*v /= d;
	if (r != 0)
		*v += neg ? -1 : 1;
	*scale = -9;
}

static int
suffix(const char *s, size_t n, int *exp10, int *exp2,
    enum quantity_format *f)
{
	static const struct { const char *s; int e10, e2; } tab[] = {
		{ "", 0, 0 }, { "n", -9, 0 }, { "u", -6, 0 }, { "m", -3, 0 },
		{ "k", 3, 0 }, { "M", 6, 0 }, { "G", 9, 0 }, { "T", 12, 0 },
		{ "P", 15, 0 }, { "E", 18, 0 }, { "Ki", 0, 10 },
		{ "Mi", 0, 20 }, { "Gi", 0, 30 }, { "Ti", 0, 40 },
		{ "Pi", 0, 50 }, { "Ei", 0, 60 },
	};
	size_t i, j;
	long e = 0;
	int neg = 0;

	for (i = 0; i < sizeof tab / sizeof tab[0]; i++) {
		if (strlen(tab[i].s) == n && memcmp(tab[i].s, s, n) == 0) {
			*exp10 = tab[i].e10;
			*exp2 = tab[i].e2;
			*f = tab[i].e2 ? QUANTITY_BINARY_SI :
			    QUANTITY_DECIMAL_SI;
			return 0;
		}
	}
	if (n < 2 || (s[0] != 'e' && s[0] != 'E'))
		return -1;
	j = 1;
	if (s[j] == '+' || s[j] == '-')
		neg = s[j++] == '-';
	if (j >= n)
		return -1;
	for (; j < n; j++) {
		if (s[j] < '0' || s[j] > '9' || e > MAX_SCALE)
			return -1;
		e = e * 10 + (s[j] - '0');
	}
	*exp10 = (int)(neg ? -e : e);
	*exp2 = 0;
	*f = QUANTITY_DECIMAL_EXP;
	return 0;
}

int
quantity_parsen(const char *s, size_t n, struct quantity *q)
{
	size_t i = 0, digits = 0, frac = 0;
	i128 v = 0;
	int neg = 0, seendot = 0, exp10, exp2, scale;
	enum quantity_format f;

	if (n > 0 && (s[0] == '+' || s[0] == '-'))
		neg = s[i++] == '-';
	for (; i < n; i++) {
		if (s[i] == '.' && !seendot) {
			seendot = 1;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			break;
		if (v > pow10_128(36))
			return -1;	/* more digits than any quantity has */
		v = v * 10 + (s[i] - '0');
		digits++;
		if (seendot)
			frac++;
	}
	if (digits == 0 || suffix(s + i, n - i, &exp10, &exp2, &f) < 0)
		return -1;
	if (neg)
		v = -v;
	scale = exp10 - (int)frac;
	if (exp2) {
		/* A power of 1024 is exact only on the integral value. */
		if (v != 0 && (v > pow10_128(20) || v < -pow10_128(20)))
			return -1;
		v *= (i128)1 << exp2;
		while (scale < 0 && v % 10 == 0 && v != 0) {
			v /= 10;
			scale++;
		}
	}
	round_nano(&v, &scale);
	if (f == QUANTITY_BINARY_SI && v != 0 && scale < 0 &&
	    (v < pow10_128(-scale) && v > -pow10_128(-scale)))
		f = QUANTITY_DECIMAL_SI;	/* below one: never "0.5Ki" */
	return store(q, v, scale, f);
}

int
quantity_parse(const char *s, struct quantity *q)
{
	return quantity_parsen(s, strlen(s), q);
}

int
quantity_from_double(double d, struct quantity *q)
{
	char dig[GOFMT_DIGITS];
	int dp, exp, nd, i;
	i128 v = 0;

	if (!isfinite(d))
		return -1;
	if (d == 0)
		return store(q, 0, 0, QUANTITY_DECIMAL_SI);
	nd = gofmt_shortest(d, dig, &dp);
	for (i = 0; i < nd; i++)
		v = v * 10 + (dig[i] - '0');
	if (d < 0)
		v = -v;
	exp = dp - nd;
	round_nano(&v, &exp);
	return store(q, v, exp, QUANTITY_DECIMAL_SI);
}

int
quantity_is_zero(const struct quantity *q)
{
	return q->mant == 0;
}

double
quantity_to_double(const struct quantity *q)
{
	return (double)q->mant * pow(10, q->scale);
}

/* Both values at the smaller scale; -1 if that overflows. */
static int
align(const struct quantity *a, const struct quantity *b, i128 *x, i128 *y,
    int *scale)
{
	if (a->mant == 0 || b->mant == 0) {
		/* A zero takes the other's scale: nothing to align. */
		*scale = a->mant ? a->scale : b->scale;
		*x = a->mant;
		*y = b->mant;
		return 0;
	}
	*scale = a->scale < b->scale ? a->scale : b->scale;
	if (scale_up(a->mant, a->scale - *scale, x) < 0 ||
	    scale_up(b->mant, b->scale - *scale, y) < 0)
		return -1;
	return 0;
}

int
quantity_cmp(const struct quantity *a, const struct quantity *b)
{
	i128 x, y;
	int s;

	if (align(a, b, &x, &y, &s) < 0) {
		/* Scales too far apart to align: the larger scale wins. */
		double da = quantity_to_double(a), db = quantity_to_double(b);

		return da < db ? -1 : da > db;
	}
	return x < y ? -1 : x > y;
}

int
quantity_add(struct quantity *out, const struct quantity *a,
    const struct quantity *b)
{
	i128 x, y;
	int s;
	enum quantity_format f = a->mant == 0 ? b->format : a->format;

	if (align(a, b, &x, &y, &s) < 0)
		return -1;
	return store(out, x + y, s, f);
}

int
quantity_sub(struct quantity *out, const struct quantity *a,
    const struct quantity *b)
{
	struct quantity nb = *b;

	if (b->mant == INT64_MIN)
		return -1;
	nb.mant = -b->mant;
	return quantity_add(out, a, &nb);
}

int
quantity_mul(struct quantity *out, const struct quantity *a,
    const struct quantity *b)
{
	i128 v = (i128)a->mant * b->mant;
	int scale = a->scale + b->scale;

	round_nano(&v, &scale);
	return store(out, v, scale, a->format);
}

int
quantity_div(struct quantity *out, const struct quantity *a,
    const struct quantity *b)
{
	i128 num, den;
	int ts, e;

	if (b->mant == 0)
		return -1;
	ts = a->scale < b->scale ? a->scale : b->scale;
	if (ts > 0)
		ts = 0;		/* never coarser than whole units */
	e = a->scale - b->scale - ts;
	if (e >= 0) {
		if (scale_up(a->mant, e, &num) < 0)
			return -1;
		den = b->mant;
	} else {
		num = a->mant;
		if (scale_up(b->mant, -e, &den) < 0)
			return store(out, 0, 0, a->format);
	}
	return store(out, num / den, ts, a->format);
}

int
quantity_to_int64(const struct quantity *q, int64_t *out)
{
	i128 v;

	if (q->scale >= 0) {
		if (scale_up(q->mant, q->scale, &v) < 0 || v > INT64_MAX ||
		    v < INT64_MIN)
			return -1;
	} else
		v = -q->scale > 38 ? 0 : q->mant / pow10_128(-q->scale);
	*out = (int64_t)v;
	return 0;
}

static void
put_i128(char *out, size_t len, i128 v)
{
	char tmp[48];
	int i = (int)sizeof tmp - 1, neg = v < 0;
	unsigned __int128 u = neg ? -(unsigned __int128)v :
	    (unsigned __int128)v;

	tmp[i] = '\0';
	do {
		tmp[--i] = (char)('0' + (int)(u % 10));
		u /= 10;
	} while (u);
	if (neg)
		tmp[--i] = '-';
	snprintf(out, len, "%s", tmp + i);
}

static const char *
dec_suffix(int exp)
{
	switch (exp) {
	case -9: return "n";
	case -6: return "u";
	case -3: return "m";
	case 0: return "";
	case 3: return "k";
	case 6: return "M";
	case 9: return "G";
	case 12: return "T";
	case 15: return "P";
	case 18: return "E";
	default: return NULL;
	}
}

/* Binary form if it applies: 0 printed, -1 use a decimal form. */
static int
format_binary(const struct quantity *q, char *out, size_t len)
{
	static const char *const bin[] = { "", "Ki", "Mi", "Gi", "Ti",
	    "Pi", "Ei" };
	i128 v = q->mant;
	int k = 0, scale = q->scale;
	char num[48];

	while (scale < 0 && v % 10 == 0) {
		v /= 10;
		scale++;
	}
	if (scale < 0 || scale_up(v, scale, &v) < 0 ||
	    (v > -1024 && v < 1024))
		return -1;
	while (k < 6 && v % 1024 == 0) {
		v /= 1024;
		k++;
	}
	put_i128(num, sizeof num, v);
	snprintf(out, len, "%s%s", num, bin[k]);
	return 0;
}

void
quantity_format(const struct quantity *q, char *out, size_t len)
{
	i128 v = q->mant;
	int exp = q->scale;
	const char *suf;
	char num[48];

	if (q->mant == 0) {
		snprintf(out, len, "0");
		return;
	}
	if (q->format == QUANTITY_BINARY_SI && format_binary(q, out, len) == 0)
		return;
	while (v % 10 == 0) {
		v /= 10;
		exp++;
	}
	switch (((exp % 3) + 3) % 3) {
	case 1:
		v *= 10;
		exp -= 1;
		break;
	case 2:
		v *= 100;
		exp -= 2;
		break;
	}
	put_i128(num, sizeof num, v);
	suf = q->format == QUANTITY_DECIMAL_EXP ? NULL : dec_suffix(exp);
	if (suf)
		snprintf(out, len, "%s%s", num, suf);
	else if (exp == 0)
		snprintf(out, len, "%s", num);
	else
		snprintf(out, len, "%se%d", num, exp);
}
