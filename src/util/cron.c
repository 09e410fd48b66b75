/*
 * Cron schedules as Argo Events reads them, for the calendar source and
 * for a trigger's conditionsReset alike: robfig/cron v3's parser with
 * the five fields minute hour day-of-month month day-of-week, and its
 * SpecSchedule.Next in the schedule's zone.  Plus remediate's
 * descriptors (@hourly ... @every), which Argo's parser refuses.
 *
 * The search walks real time (UTC seconds) and reads each candidate's
 * wall clock in the zone, jumping whole months, days, hours and minutes
 * that cannot match, but never across a change of UTC offset: at each
 * change it looks again.  So a fire time is every real minute whose wall
 * clock matches, which is what robfig/cron does around daylight saving
 * (its own tests: "2am nightly job (skipped)", "1am nightly job (runs
 * twice)").
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/cron.h"
#include "util/util.h"

struct cron {
	uint64_t	 min;		/* bit i: minute i */
	uint32_t	 hour;
	uint32_t	 dom;		/* bits 1..31 */
	uint16_t	 mon;		/* bits 1..12 */
	uint8_t		 dow;		/* bits 0..6, Sunday 0 */
	int		 dom_star, dow_star;	/* robfig's starBit */
	int64_t		 every;		/* ms: @every; 0 otherwise */
};

static const char *const month_names[] = { "jan", "feb", "mar", "apr",
    "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec" };
static const char *const dow_names[] = { "sun", "mon", "tue", "wed",
    "thu", "fri", "sat" };

struct field {
	const char		*what;
	int			 min, max;
	const char *const	*names;		/* NULL, or max-min+1 names */
	const char		*spelled;	/* names for messages */
};

static const struct field fields[5] = {
	{ "minute", 0, 59, NULL, "" },
	{ "hour", 0, 23, NULL, "" },
	{ "day of month", 1, 31, NULL, "" },
	{ "month", 1, 12, month_names, " or JAN-DEC" },
	{ "day of week", 0, 6, dow_names, " or SUN-SAT" },
};

/* strconv.Atoi of s (n bytes) for the digits robfig takes; -1 if not. */
static int
number(const char *s, size_t n, int *out)
{
	size_t i;
	int v = 0;

	if (n == 0 || n > 9)
		return -1;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* A name of the field (whole, any case) or a number. */
static int
value(const struct field *f, const char *s, size_t n, int *out)
{
	int i;

	for (i = 0; f->names != NULL && i <= f->max - f->min; i++)
		if (n == 3 && strncasecmp(s, f->names[i], 3) == 0) {
			*out = f->min + i;
			return 0;
		}
	return number(s, n, out);
}

/* One comma-separated part: *, ?, a or a-b, each with an optional /n. */
static int
parse_range(const struct field *f, const char *s, size_t n, uint64_t *bits,
    int *star)
{
	const char *slash = memchr(s, '/', n), *dash;
	size_t rn = slash ? (size_t)(slash - s) : n;
	int lo, hi, step = 1, v, all = 0;

	if (slash != NULL && number(slash + 1, n - rn - 1, &step) == -1)
		return -1;
	if (rn == 1 && (*s == '*' || *s == '?')) {
		lo = f->min;
		hi = f->max;
		all = 1;
	} else if ((dash = memchr(s, '-', rn)) != NULL) {
		if (value(f, s, (size_t)(dash - s), &lo) == -1 ||
		    value(f, dash + 1, rn - (size_t)(dash - s) - 1, &hi) == -1)
			return -1;
	} else {
		if (value(f, s, rn, &lo) == -1)
			return -1;
		hi = slash != NULL ? f->max : lo;	/* "a/n" runs a..max */
	}
	if (lo < f->min || hi > f->max || lo > hi || step <= 0)
		return -1;
	if (all && step == 1)
		*star = 1;
	for (v = lo; v <= hi; v += step)
		*bits |= 1ULL << v;
	return 0;
}

/* Parses one field of text (len bytes) into bits. */
static int
parse_field(const struct field *f, const char *text, size_t len,
    uint64_t *bits, int *star, char **err)
{
	const char *s = text, *comma;
	size_t n = len;

	*bits = 0;
	*star = 0;
	while ((comma = memchr(s, ',', n)) != NULL) {
		if (parse_range(f, s, (size_t)(comma - s), bits, star) == -1)
			goto bad;
		n -= (size_t)(comma - s) + 1;
		s = comma + 1;
	}
	if (parse_range(f, s, n, bits, star) == 0)
		return 0;
bad:
	*err = xasprintf("cron %s field \"%.*s\" is not valid (%d-%d%s)",
	    f->what, (int)(len < 64 ? len : 64), text, f->min, f->max,
	    f->spelled);
	return -1;
}

static const struct {
	const char	*name, *spec;
} descriptors[] = {
	{ "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" },
	{ "@monthly", "0 0 1 * *" }, { "@weekly", "0 0 * * 0" },
	{ "@daily", "0 0 * * *" }, { "@midnight", "0 0 * * *" },
	{ "@hourly", "0 * * * *" },
};

static struct cron *
parse_descriptor(const char *text, const char *s, char **err)
{
	size_t i, n = strlen(s);
	int64_t ms;

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (strncmp(s, "@every", 6) == 0 && isspace((unsigned char)s[6])) {
		const char *p = s + 6;
		char *d;
		int bad;

		while (isspace((unsigned char)*p) && (size_t)(p - s) < n)
			p++;
		d = xstrndup(p, n - (size_t)(p - s));
		bad = duration_parse(d, &ms) == -1 || ms < 1000;
		free(d);
		if (bad) {
			*err = xasprintf("\"%s\": @every needs a duration of "
			    "at least 1s", text);
			return NULL;
		}
		return cron_every(ms);
	}
	for (i = 0; i < UTIL_ARRAY_LEN(descriptors); i++)
		if (strlen(descriptors[i].name) == n &&
		    strncmp(s, descriptors[i].name, n) == 0)
			return cron_parse(descriptors[i].spec, err);
	*err = xasprintf("\"%s\" is not a cron descriptor (@yearly, @monthly, "
	    "@weekly, @daily, @hourly or @every DURATION)", text);
	return NULL;
}

struct cron *
cron_parse(const char *text, char **err)
{
	struct cron *c;
	const char *s = text, *start[6];
	size_t len[6];
	uint64_t bits[5];
	int stars[5], n = 0, i;

	*err = NULL;
	if (text == NULL) {
		*err = xstrdup("no schedule");
		return NULL;
	}
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '@')
		return parse_descriptor(text, s, err);
	while (*s != '\0' && n < 6) {	/* strings.Fields */
		start[n] = s;
		while (*s != '\0' && !isspace((unsigned char)*s))
			s++;
		len[n] = (size_t)(s - start[n]);
		n++;
		while (isspace((unsigned char)*s))
			s++;
	}
	if (n != 5) {
		*err = xasprintf("\"%s\" has %s than five fields (minute hour "
		    "day-of-month month day-of-week)", text, n > 5 ? "more" :
		    "fewer");
		return NULL;
	}
	for (i = 0; i < 5; i++)
		if (parse_field(&fields[i], start[i], len[i], &bits[i],
		    &stars[i], err) == -1)
			return NULL;
	c = xcalloc(1, sizeof *c);
	c->min = bits[0];
	c->hour = (uint32_t)bits[1];
	c->dom = (uint32_t)bits[2];
	c->mon = (uint16_t)bits[3];
	c->dow = (uint8_t)bits[4];
	c->dom_star = stars[2];
	c->dow_star = stars[4];
	return c;
}

struct cron *
cron_every(int64_t ms)
{
	struct cron *c = xcalloc(1, sizeof *c);

	c->every = ms > 0 ? ms : 1000;
	return c;
}

void
cron_free(struct cron *c)
{
	free(c);
}

/* ---- the search ---------------------------------------------------------- */

static int64_t
floor_div(int64_t a, int64_t b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static int
day_ok(const struct cron *c, const struct time_civil *t)
{
	int dom = (c->dom >> t->day) & 1, dow = (c->dow >> t->wday) & 1;

	/* robfig's dayMatches: a * or ? day field makes both count */
	if (c->dom_star || c->dow_star)
		return dom && dow;
	return dom || dow;
}

struct search {
	const struct cron	*c;
	const struct tz		*z;
	cron_excluded_fn	 excluded;
	void			*ctx;
};

static int
is_excluded(const struct search *s, const struct time_civil *t)
{
	return s->excluded != NULL && s->excluded(s->ctx, (int)t->y, t->mon,
	    t->day);
}

static int
off_at(const struct search *s, int64_t u)
{
	return tz_offset(s->z, u, NULL, 0);
}

/*
 * The next wall time (seconds) that may match, for the first field of t
 * that fails; 0 when t matches.  Every wall time in between fails.
 */
static int64_t
next_target(const struct search *s, int64_t wall, const struct time_civil *t)
{
	const struct cron *c = s->c;
	int64_t day0 = floor_div(wall, 86400) * 86400;
	int h, m;

	if (t->sec != 0)	/* an offset with seconds (old LMT) */
		return wall - t->sec + 60;
	if (!((c->mon >> t->mon) & 1))
		return time_days_from_civil(t->mon == 12 ? t->y + 1 : t->y,
		    t->mon == 12 ? 1 : t->mon + 1, 1) * 86400;
	if (!day_ok(c, t) || is_excluded(s, t))
		return day0 + 86400;
	if (!((c->hour >> t->hour) & 1)) {
		for (h = t->hour + 1; h < 24; h++)
			if ((c->hour >> h) & 1)
				return day0 + h * 3600;
		return day0 + 86400;
	}
	if (!((c->min >> t->min) & 1)) {
		for (m = t->min + 1; m < 60; m++)
			if ((c->min >> m) & 1)
				return day0 + t->hour * 3600 + m * 60;
		return day0 + (t->hour + 1) * 3600;
	}
	return 0;
}

/*
 * The instant the wall clock reaches target from u (offset off), or the
 * first instant after u with another offset when that comes first: the
 * wall clock jumps there (a gap, or an hour that happens again).  A jump
 * is at most a day, so two changes never hide inside one.
 */
static int64_t
advance(const struct search *s, int64_t u, int off, int64_t target)
{
	int64_t v = u + (target - (u + off)), lo, hi, mid;

	if (v - u > 86400)
		v = u + 86400;
	if (off_at(s, v) == off)
		return v;
	lo = u;		/* offset off */
	hi = v;		/* another offset */
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (off_at(s, mid) == off)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

static int64_t
every_next(const struct search *s, int64_t after)
{
	int64_t next = after + s->c->every, end = after +
	    (int64_t)CRON_HORIZON_YEARS * 366 * 86400000LL;
	int i;

	for (i = 0; i < 100000 && next <= end; i++) {
		int64_t u = floor_div(next, 1000), wall, dayend, k;
		struct time_civil t;

		wall = u + off_at(s, u);
		time_civil_from_secs(wall, &t);
		if (!is_excluded(s, &t))
			return next;
		/* skip to the first tick on the next local day */
		dayend = (u + (floor_div(wall, 86400) * 86400 + 86400 -
		    wall)) * 1000;
		k = (dayend - after + s->c->every - 1) / s->c->every;
		next = after + (k > 0 ? k : 1) * s->c->every;
	}
	return -1;
}

int64_t
cron_next(const struct cron *c, const struct tz *z, int64_t after,
    cron_excluded_fn excluded, void *ctx)
{
	struct search s = { c, z, excluded, ctx };
	int64_t after_s = floor_div(after, 1000), u, v, end;
	int i, off;

	if (c->every > 0)
		return every_next(&s, after);
	/* robfig starts at the next whole second; seconds are always 0 */
	u = floor_div(after_s, 60) * 60 + 60;
	end = after_s + (int64_t)CRON_HORIZON_YEARS * 366 * 86400;
	for (i = 0; i < 1000000 && u <= end; i++) {
		struct time_civil t;
		int64_t wall, target;

		off = off_at(&s, u);
		wall = u + off;
		time_civil_from_secs(wall, &t);
		if ((target = next_target(&s, wall, &t)) == 0)
			return u * 1000;
		v = advance(&s, u, off, target);
		u = v > u ? v : u + 60;
	}
	return -1;
}
