/*
 * Cron schedules for conditionsReset.byTime.cron, as robfig/cron's
 * standard parser reads them: five fields (minute hour day-of-month month
 * day-of-week) with *, ?, lists, ranges, steps, month and weekday names;
 * or @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly.
 * When either day field is * or ?, both must match; otherwise either may
 * (Vixie cron).  Times are wall-clock times in the given zone.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sensor/sensor_int.h"

struct sensor_cron {
	uint64_t	min;		/* bit per minute 0-59 */
	uint64_t	hour;		/* 0-23 */
	uint64_t	dom;		/* 1-31 */
	uint64_t	mon;		/* 1-12 */
	uint64_t	dow;		/* 0-6, Sunday 0 */
	int		day_star;	/* either day field was * or ? */
};

static const char *const months[] = { "jan", "feb", "mar", "apr", "may",
    "jun", "jul", "aug", "sep", "oct", "nov", "dec" };
static const char *const wdays[] = { "sun", "mon", "tue", "wed", "thu",
    "fri", "sat" };

static int
value(const char *s, size_t n, int lo, int hi, const char *const *names,
    int *out)
{
	size_t i;
	int v = 0;

	if (names && n == 3) {
		for (i = 0; i < (size_t)(hi - lo + 1); i++) {
			if (strncasecmp(s, names[i], 3) == 0) {
				*out = (int)i + lo;
				return 0;
			}
		}
	}
	if (n == 0 || n > 4)
		return -1;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* One comma-separated part: *, ?, a, a-b, with /step. */
static int
part(const char *s, size_t n, int lo, int hi, const char *const *names,
    uint64_t *bits, int *star)
{
	const char *slash = memchr(s, '/', n), *dash;
	size_t rn = slash ? (size_t)(slash - s) : n;
	int a, b, step = 1, v;

	if (slash && value(slash + 1, n - rn - 1, 1, 60, NULL, &step) == -1)
		return -1;
	if (rn == 1 && (*s == '*' || *s == '?')) {
		a = lo;
		b = hi;
		if (!slash || step == 1)
			*star = 1;
	} else if ((dash = memchr(s, '-', rn)) != NULL) {
		if (value(s, (size_t)(dash - s), lo, hi, names, &a) == -1 ||
		    value(dash + 1, rn - (size_t)(dash - s) - 1, lo, hi, names,
		    &b) == -1 || a > b)
			return -1;
	} else {
		if (value(s, rn, lo, hi, names, &a) == -1)
			return -1;
		b = slash ? hi : a;
	}
	for (v = a; v <= b; v += step)
		*bits |= 1ULL << v;
	return 0;
}

static int
field(const char *s, size_t n, int lo, int hi, const char *const *names,
    uint64_t *bits, int *star)
{
	const char *comma;

	*bits = 0;
	*star = 0;
	while ((comma = memchr(s, ',', n)) != NULL) {
		if (part(s, (size_t)(comma - s), lo, hi, names, bits, star) ==
		    -1)
			return -1;
		n -= (size_t)(comma - s) + 1;
		s = comma + 1;
	}
	return part(s, n, lo, hi, names, bits, star);
}

struct sensor_cron *
sensor_cron_parse(const char *spec, char **err)
{
	static const struct { const char *d, *e; } desc[] = {
		{ "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" },
		{ "@monthly", "0 0 1 * *" }, { "@weekly", "0 0 * * 0" },
		{ "@daily", "0 0 * * *" }, { "@midnight", "0 0 * * *" },
		{ "@hourly", "0 * * * *" },
	};
	struct sensor_cron *c;
	const char *f[5], *s;
	size_t len[5], i, nf = 0;
	int star, dstar, wstar;

	*err = NULL;
	for (i = 0; i < UTIL_ARRAY_LEN(desc); i++)
		if (strcmp(spec, desc[i].d) == 0)
			spec = desc[i].e;
	for (s = spec; *s;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			break;
		if (nf == 5) {
			nf++;
			break;
		}
		f[nf] = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		len[nf] = (size_t)(s - f[nf]);
		nf++;
	}
	if (nf != 5) {
		*err = xasprintf("expected 5 fields (minute hour day-of-month "
		    "month day-of-week), found %zu", nf);
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	if (field(f[0], len[0], 0, 59, NULL, &c->min, &star) == -1 ||
	    field(f[1], len[1], 0, 23, NULL, &c->hour, &star) == -1 ||
	    field(f[2], len[2], 1, 31, NULL, &c->dom, &dstar) == -1 ||
	    field(f[3], len[3], 1, 12, months, &c->mon, &star) == -1 ||
	    field(f[4], len[4], 0, 6, wdays, &c->dow, &wstar) == -1) {
		*err = xasprintf("invalid cron schedule \"%s\"", spec);
		free(c);
		return NULL;
	}
	c->day_star = dstar || wstar;
	return c;
}

void
sensor_cron_free(struct sensor_cron *c)
{
	free(c);
}

static int
day_ok(const struct sensor_cron *c, int64_t days, int d)
{
	int wd = (int)(((days % 7) + 11) % 7);
	int dm = (c->dom >> d) & 1, wm = (c->dow >> wd) & 1;

	return c->day_star ? dm && wm : dm || wm;
}

int64_t
sensor_cron_next(const struct sensor_cron *c, const struct sensor_tz *tz,
    int64_t t)
{
	int64_t u, w, dd, sod, y, nu, limit;
	int m, d, i;
	int32_t off;

	u = (t >= 0 ? t / 60 : (t - 59) / 60) * 60 + 60;
	limit = t + 5 * 366 * 86400LL;
	for (i = 0; i < 100000 && u <= limit; i++) {
		off = sensor_tz_offset(tz, u);
		w = u + off;
		dd = (w >= 0 ? w : w - 86399) / 86400;
		sod = w - dd * 86400;
		time_civil_from_days(dd, &y, &m, &d);
		if (!((c->mon >> m) & 1))
			nu = (m == 12 ? time_days_from_civil(y + 1, 1, 1) :
			    time_days_from_civil(y, m + 1, 1)) * 86400 - off;
		else if (!day_ok(c, dd, d))
			nu = (dd + 1) * 86400 - off;
		else if (!((c->hour >> (sod / 3600)) & 1))
			nu = u - sod % 3600 + 3600;
		else if (!((c->min >> (sod % 3600 / 60)) & 1))
			nu = u + 60;
		else
			return u;
		u = nu > u ? nu : u + 60;
	}
	return -1;
}
