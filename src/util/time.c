/*
 * Time: one clock the caller can replace, RFC 3339 instants and Go-style
 * durations, all in int64 milliseconds.  Manifests are written by people
 * used to Argo and Kubernetes, so durations follow Go's time.ParseDuration.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/util.h"

static int64_t
system_now(const struct clock *c)
{
	struct timespec ts;

	(void)c;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

void
clock_fixed(struct clock *c, int64_t ms)
{
	c->now = fixed_now;
	c->fixed = ms;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
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
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	t -= oh * 3600 + om * 60;
	*ms = t * 1000 + frac;
	return 0;
}

void
time_format(int64_t ms, char *out, size_t outlen)
{
	time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	int frac = (int)(ms - (int64_t)secs * 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	if (frac)
		snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, frac);
	else
		snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02dZ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec);
}

static const struct {
	const char	*name;
	double		 ms;
} units[] = {
	{ "ns", 1e-6 }, { "us", 1e-3 }, { "\xc2\xb5s", 1e-3 }, { "ms", 1 },
	{ "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
};

int
duration_parse(const char *s, int64_t *ms)
{
	double total = 0;
	int neg = 0;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return 0;
	}
	if (*s == '\0')
		return -1;
	while (*s) {
		char *end;
		double v;
		size_t i, best = 0, blen = 0;

		if (!isdigit((unsigned char)*s) && *s != '.')
			return -1;
		v = strtod(s, &end);
		if (end == s)
			return -1;
		s = end;
		for (i = 0; i < UTIL_ARRAY_LEN(units); i++) {
			size_t l = strlen(units[i].name);

			if (strncmp(s, units[i].name, l) == 0 && l > blen) {
				best = i;
				blen = l;
			}
		}
		if (blen == 0)
			return -1;
		total += v * units[best].ms;
		s += blen;
	}
	if (total > 9.2e15)
		return -1;
	*ms = (int64_t)llround(neg ? -total : total);
	return 0;
}

void
duration_format(int64_t ms, char *out, size_t outlen)
{
	struct buf b;
	int64_t h, m, s;

	buf_init(&b, 0);
	if (ms < 0) {
		buf_addc(&b, '-');
		ms = -ms;
	}
	if (ms == 0)
		buf_adds(&b, "0s");
	else if (ms < 1000)
		buf_printf(&b, "%lldms", (long long)ms);
	else {
		h = ms / 3600000;
		m = ms / 60000 % 60;
		s = ms / 1000 % 60;
		if (h)
			buf_printf(&b, "%lldh", (long long)h);
		if (m)
			buf_printf(&b, "%lldm", (long long)m);
		if (s || ms % 1000)
			buf_printf(&b, ms % 1000 ? "%lld.%03llds" : "%llds",
			    (long long)s, (long long)(ms % 1000));
	}
	snprintf(out, outlen, "%s", b.data);
	buf_free(&b);
}
