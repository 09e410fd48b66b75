/*
 * Time: one clock the caller can replace, RFC 3339 instants and Go-style
 * durations, in int64 milliseconds (Go durations also in nanoseconds, as
 * Kyverno computes with them).  Manifests are written by people used to
 * Argo and Kubernetes, so durations follow Go's time.ParseDuration
 * exactly: "1e3h" is not a duration there, so it is not one here.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/util.h"

static int64_t
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
system_now(const struct clock *c)
{
	(void)c;
	return clock_ms(CLOCK_REALTIME);
}

static int64_t
boottime_now(const struct clock *c)
{
	(void)c;
	return clock_ms(CLOCK_BOOTTIME);
}

static int64_t
fixed_now(const struct clock *c)
{
	return c->fixed;
}

int64_t
clock_now(const struct clock *c)
{
	return c->now(c);
}

void
clock_system(struct clock *c)
{
	c->now = system_now;
	c->fixed = 0;
}

struct timespec
time_deadline(clockid_t id, int64_t ms)
{
	struct timespec until;

	clock_gettime(id, &until);
	until.tv_sec += (time_t)(ms / 1000);
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	return until;
}

void
clock_boottime(struct clock *c)
{
	c->now = boottime_now;
	c->fixed = 0;
}

int64_t
clock_monotonic_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

void
clock_fixed(struct clock *c, int64_t ms)
{
	c->now = fixed_now;
	c->fixed = ms;
}

void
util_sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) *
	    1000000L };

	if (ms <= 0)
		return;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int
util_busy_wait(void *ctx, int count)
{
	struct timespec ts = { 0, count < 20 ? 50000L * (count + 1) :
	    1000000L };

	(void)ctx;
	if (count >= 5000)	/* 10 ms in the first 20, then 1 ms each */
		return 0;
	nanosleep(&ts, NULL);
	return 1;
}

/* Proleptic Gregorian dates (Howard Hinnant's algorithms). */
int64_t
time_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
time_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

void
time_civil_from_secs(int64_t s, struct time_civil *c)
{
	int64_t z = (s >= 0 ? s : s - 86399) / 86400;
	int64_t rem = s - z * 86400;

	c->hour = (int)(rem / 3600);
	c->min = (int)(rem % 3600 / 60);
	c->sec = (int)(rem % 60);
	c->wday = (int)(((z % 7) + 11) % 7);	/* 1970-01-01 was Thursday */
	time_civil_from_days(z, &c->y, &c->mon, &c->day);
}

int
time_days_in_month(int64_t y, int m)
{
	static const int n[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
	    31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return n[m - 1];
}

static int
digits(const char **sp, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*sp)[i]))
			return -1;
		v = v * 10 + ((*sp)[i] - '0');
	}
	*sp += n;
	*out = v;
	return 0;
}

int
time_parse(const char *s, int64_t *ms)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, frac = 0, scale = 1000;
	int64_t t;

	if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) ||
	    *s++ != '-' || digits(&s, 2, &d) || (*s != 'T' && *s != 't' &&
	    *s != ' '))
		return -1;
	s++;
	if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi) ||
	    *s++ != ':' || digits(&s, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60)
		return -1;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return -1;
		while (isdigit((unsigned char)*s)) {
			if (scale > 1) {
				scale /= 10;
				frac += (*s - '0') * scale;
			}
			s++;
		}
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int sign = *s++ == '-' ? -1 : 1;

		if (digits(&s, 2, &oh) || *s++ != ':' || digits(&s, 2, &om))
			return -1;
		oh *= sign;
		om *= sign;
	} else
		return -1;
	if (*s != '\0')
		return -1;
	t = time_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	t -= oh * 3600 + om * 60;
	*ms = t * 1000 + frac;
	return 0;
}

/* n as exactly w decimal digits at p (0 <= n < 10^w). */
static char *
put_digits(char *p, int n, int w)
{
	int i;

	for (i = w - 1; i >= 0; i--, n /= 10)
		p[i] = (char)('0' + n % 10);
	return p + w;
}

/*
 * Written digit by digit rather than by gmtime_r and snprintf: every
 * decision record carries two or three times, and the C library's pair
 * cost about 3,400 instructions a time (callgrind), most of a record's
 * fixed part.  Years outside 0-9999 and short buffers take snprintf, as
 * before.
 */
void
time_format(int64_t ms, char *out, size_t outlen)
{
	int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
	int frac = (int)(ms - secs * 1000);
	struct time_civil tc;
	char *p = out;

	time_civil_from_secs(secs, &tc);
	if (tc.y < 0 || tc.y > 9999 || outlen < TIME_FMTLEN) {
		if (frac)
			snprintf(out, outlen, "%04lld-%02d-%02dT%02d:%02d:"
			    "%02d.%03dZ", (long long)tc.y, tc.mon, tc.day,
			    tc.hour, tc.min, tc.sec, frac);
		else
			snprintf(out, outlen, "%04lld-%02d-%02dT%02d:%02d:"
			    "%02dZ", (long long)tc.y, tc.mon, tc.day, tc.hour,
			    tc.min, tc.sec);
		return;
	}
	p = put_digits(p, (int)tc.y, 4);
	*p++ = '-';
	p = put_digits(p, tc.mon, 2);
	*p++ = '-';
	p = put_digits(p, tc.day, 2);
	*p++ = 'T';
	p = put_digits(p, tc.hour, 2);
	*p++ = ':';
	p = put_digits(p, tc.min, 2);
	*p++ = ':';
	p = put_digits(p, tc.sec, 2);
	if (frac) {
		*p++ = '.';
		p = put_digits(p, frac, 3);
	}
	*p++ = 'Z';
	*p = '\0';
}

/* ---- Go durations --------------------------------------------------- */

#define NS_PER_S	1000000000LL

static const struct {
	const char	*name;
	uint64_t	 ns;
} units[] = {
	/* micro as u, U+00B5 (micro sign) and U+03BC (Greek mu) */
	{ "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 },
	{ "\xce\xbcs", 1000 }, { "ms", 1000000 }, { "s", NS_PER_S },
	{ "m", 60 * NS_PER_S }, { "h", 3600 * NS_PER_S },
};

/*
 * Go's time.ParseDuration step by step: [-+]?([0-9]*(\.[0-9]*)?unit)+ or
 * "0", the integer part exact in 64 bits, the fraction through a float64
 * as Go computes it, and every overflow an error.
 */
int
duration_parsen_ns(const char *s, size_t n, int64_t *out)
{
	const uint64_t lim = (uint64_t)1 << 63;
	uint64_t d = 0, v, f, unit;
	double scale;
	size_t i = 0, j, u;
	int neg = 0, pre, post;

	if (n > 0 && (s[0] == '-' || s[0] == '+'))
		neg = s[i++] == '-';
	if (n - i == 1 && s[i] == '0') {
		*out = 0;
		return 0;
	}
	if (i >= n)
		return -1;
	while (i < n) {
		v = f = 0;
		scale = 1;
		if (s[i] != '.' && (s[i] < '0' || s[i] > '9'))
			return -1;
		for (j = i; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
			if (v > (lim - 1) / 10)
				return -1;
			v = v * 10 + (uint64_t)(s[i] - '0');
			if (v > lim)
				return -1;
		}
		pre = i != j;
		post = 0;
		if (i < n && s[i] == '.') {
			for (j = ++i; i < n && s[i] >= '0' && s[i] <= '9';
			    i++) {
				if (f > (lim - 1) / 10)
					continue;	/* beyond precision */
				f = f * 10 + (uint64_t)(s[i] - '0');
				scale *= 10;
			}
			post = i != j;
		}
		if (!pre && !post)
			return -1;
		/* the unit: everything up to the next number */
		for (j = i; i < n && s[i] != '.' && (s[i] < '0' ||
		    s[i] > '9'); i++)
			;
		if (i == j)
			return -1;
		unit = 0;
		for (u = 0; u < UTIL_ARRAY_LEN(units); u++)
			if (strlen(units[u].name) == i - j &&
			    memcmp(units[u].name, s + j, i - j) == 0)
				unit = units[u].ns;
		if (unit == 0 || v > lim / unit)
			return -1;
		v *= unit;
		if (f > 0) {
			v += (uint64_t)((double)f * ((double)unit / scale));
			if (v > lim)
				return -1;
		}
		d += v;
		if (d > lim)
			return -1;
	}
	if (!neg && d > lim - 1)
		return -1;
	*out = neg ? (int64_t)(0 - d) : (int64_t)d;
	return 0;
}

int
duration_parse_ns(const char *s, int64_t *ns)
{
	return duration_parsen_ns(s, strlen(s), ns);
}

/* Writes v / 10^prec's fraction before *w, trailing zeros dropped;
 * returns v / 10^prec. */
static uint64_t
put_frac(char *buf, size_t *w, uint64_t v, int prec)
{
	int i, print = 0;

	for (i = 0; i < prec; i++) {
		int digit = (int)(v % 10);

		print = print || digit != 0;
		if (print)
			buf[--*w] = (char)('0' + digit);
		v /= 10;
	}
	if (print)
		buf[--*w] = '.';
	return v;
}

static void
put_int(char *buf, size_t *w, uint64_t v)
{
	do {
		buf[--*w] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v);
}

/* time.Duration.String(), written from the right as Go writes it. */
void
duration_format_ns(int64_t d, char *out, size_t len)
{
	char buf[40];
	size_t w = sizeof buf;
	uint64_t u = d < 0 ? 0 - (uint64_t)d : (uint64_t)d;

	if (u < (uint64_t)NS_PER_S) {
		if (u == 0) {
			snprintf(out, len, "0s");
			return;
		}
		buf[--w] = 's';
		if (u < 1000) {
			buf[--w] = 'n';
			put_int(buf, &w, u);
		} else if (u < 1000000) {
			w -= 2;
			memcpy(buf + w, "\xc2\xb5", 2);
			u = put_frac(buf, &w, u, 3);
			put_int(buf, &w, u);
		} else {
			buf[--w] = 'm';
			u = put_frac(buf, &w, u, 6);
			put_int(buf, &w, u);
		}
	} else {
		buf[--w] = 's';
		u = put_frac(buf, &w, u, 9);
		put_int(buf, &w, u % 60);
		u /= 60;
		if (u > 0) {
			buf[--w] = 'm';
			put_int(buf, &w, u % 60);
			u /= 60;
			if (u > 0) {
				buf[--w] = 'h';
				put_int(buf, &w, u);
			}
		}
	}
	if (d < 0)
		buf[--w] = '-';
	snprintf(out, len, "%.*s", (int)(sizeof buf - w), buf + w);
}

/* Milliseconds: the strict parse, rounded half away from zero. */
int
duration_parse_age(const char *s, int64_t *ms)
{
	size_t n = strlen(s);
	long long days;
	char *d;
	int rc;

	if (n > 1 && s[n - 1] == 'd') {
		d = xstrndup(s, n - 1);
		rc = util_parse_int(d, &days);
		free(d);
		if (rc == -1 || days < 0 || days > 100000)
			return -1;
		*ms = days * 24 * 3600 * 1000;
		return 0;
	}
	return duration_parse(s, ms) == -1 || *ms < 0 ? -1 : 0;
}

int
duration_parse(const char *s, int64_t *ms)
{
	int64_t ns, q, r;

	if (duration_parse_ns(s, &ns) != 0)
		return -1;
	q = ns / 1000000;
	r = ns % 1000000;
	if (r >= 500000)
		q++;
	else if (r <= -500000)
		q--;
	*ms = q;
	return 0;
}

/* v in decimal at p; returns the digits written. */
static size_t
put_dec(char *p, uint64_t v)
{
	char tmp[20];
	size_t w = sizeof tmp;

	put_int(tmp, &w, v);
	memcpy(p, tmp + w, sizeof tmp - w);
	return sizeof tmp - w;
}

/*
 * Written by hand, as snprintf would have cut it to outlen: a guardrail's
 * message names a window ("2 of 3 signals within 5m") in most decisions,
 * and the printf family cost ten times the digits.
 */
void
duration_format(int64_t ms, char *out, size_t outlen)
{
	char buf[64];
	size_t o = 0, n;
	uint64_t u = ms < 0 ? 0 - (uint64_t)ms : (uint64_t)ms;

	if (ms < 0)
		buf[o++] = '-';
	if (u == 0) {
		memcpy(buf + o, "0s", 2);
		o += 2;
	} else if (u < 1000) {
		o += put_dec(buf + o, u);
		memcpy(buf + o, "ms", 2);
		o += 2;
	} else {
		if (u / 3600000) {
			o += put_dec(buf + o, u / 3600000);
			buf[o++] = 'h';
		}
		if (u / 60000 % 60) {
			o += put_dec(buf + o, u / 60000 % 60);
			buf[o++] = 'm';
		}
		if (u / 1000 % 60 || u % 1000) {
			o += put_dec(buf + o, u / 1000 % 60);
			if (u % 1000) {	/* "%03lld" */
				buf[o++] = '.';
				buf[o++] = (char)('0' + u % 1000 / 100);
				buf[o++] = (char)('0' + u % 100 / 10);
				buf[o++] = (char)('0' + u % 10);
			}
			buf[o++] = 's';
		}
	}
	if (outlen == 0)
		return;
	n = o < outlen - 1 ? o : outlen - 1;
	memcpy(out, buf, n);
	out[n] = '\0';
}
