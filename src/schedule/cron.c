/*
 * Cron schedules as Argo's calendar source reads them (robfig/cron's
 * standard parser: minute hour day-of-month month day-of-week), plus the
 * descriptors, and the search for the next fire time in a time zone.
 *
 * The search walks real time (UTC seconds) and reads each candidate's
 * local wall clock, jumping whole months, days, hours and minutes that
 * cannot match.  Walking real time makes the daylight-saving cases
 * explicit: around an autumn transition a wall time has two instants,
 * around a spring one none (see schedule.h for what fires).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "schedule/sched_int.h"

struct sched_cron {
	uint64_t	 min;		/* bit i: minute i */
	uint32_t	 hour;
	uint32_t	 dom;		/* bits 1..31 */
	uint16_t	 mon;		/* bits 1..12 */
	uint8_t		 dow;		/* bits 0..6, Sunday 0 */
	int		 dom_star, dow_star;	/* field began with * or ? */
	int		 hour_star;	/* the hour field is exactly "*" */
	int64_t		 every;		/* ms: @every; 0 otherwise */
};

static const char *const month_names[] = { "JAN", "FEB", "MAR", "APR",
    "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC" };
static const char *const dow_names[] = { "SUN", "MON", "TUE", "WED",
    "THU", "FRI", "SAT" };

struct field {
	const char		*what;
	int			 min, max;
	const char *const	*names;		/* NULL, or nnames names */
	int			 nnames;
	int			 qmark;		/* '?' allowed */
};

static const struct field fields[5] = {
	{ "minute", 0, 59, NULL, 0, 0 },
	{ "hour", 0, 23, NULL, 0, 0 },
	{ "day of month", 1, 31, NULL, 0, 1 },
	{ "month", 1, 12, month_names, 12, 0 },
	{ "day of week", 0, 7, dow_names, 7, 1 },
};

/* A number or a name; advances *p.  -1 when neither. */
static int
value(const struct field *f, const char **p)
{
	const char *s = *p;
	int v = 0, n = 0, i;

	if (isdigit((unsigned char)*s)) {
		while (isdigit((unsigned char)*s) && n < 3) {
			v = v * 10 + (*s++ - '0');
			n++;
		}
		if (isdigit((unsigned char)*s))
			return -1;
		*p = s;
		return v;
	}
	for (i = 0; i < f->nnames; i++)
		if (strncasecmp(s, f->names[i], 3) == 0 &&
		    !isalpha((unsigned char)s[3])) {
			*p = s + 3;
			return f->names == month_names ? i + 1 : i;
		}
	return -1;
}

/* Parses one field of text (len bytes) into bits. */
static int
parse_field(const struct field *f, const char *text, size_t len,
    uint64_t *bits, int *star, char **err)
{
	char buf[128];
	const char *p = buf;

	*bits = 0;
	*star = 0;
	if (len >= sizeof buf)
		goto bad;
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (buf[0] == '*' || (f->qmark && buf[0] == '?'))
		*star = 1;
	for (;;) {
		int lo, hi, step = 1, v;

		if (*p == '*' || (f->qmark && *p == '?')) {
			lo = f->min;
			hi = f->max == 7 ? 6 : f->max;
			p++;
		} else {
			if ((lo = value(f, &p)) < 0)
				goto bad;
			hi = lo;
			if (*p == '-') {
				p++;
				if ((hi = value(f, &p)) < 0)
					goto bad;
			}
			if (*p == '/')	/* "a/n" runs a..max */
				hi = f->max == 7 ? 6 : f->max;
		}
		if (*p == '/') {
			p++;
			if ((step = value(&fields[0], &p)) <= 0)
				goto bad;
		}
		if (lo < f->min || hi > f->max || lo > hi)
			goto bad;
		for (v = lo; v <= hi; v += step)
			*bits |= 1ULL << (f->max == 7 && v == 7 ? 0 : v);
		if (*p == '\0')
			return 0;
		if (*p++ != ',')
			goto bad;
	}
bad:
	*err = xasprintf("cron %s field \"%.*s\" is not valid (%d-%d%s)",
	    f->what, (int)(len < 64 ? len : 64), text, f->min, f->max,
	    f->names == month_names ? " or JAN-DEC" :
	    f->names == dow_names ? " or SUN-SAT" : "");
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

struct sched_cron *
sched_cron_parse(const char *text, char **err)
{
	struct sched_cron *c;
	const char *s = text, *start;
	uint64_t bits[5];
	int stars[5], n = 0, hour_star = 0;
	size_t i;

	*err = NULL;
	if (text == NULL) {
		*err = xstrdup("no schedule");
		return NULL;
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (strncmp(s, "@every ", 7) == 0) {
		int64_t ms;

		if (duration_parse(s + 7, &ms) == -1 || ms < 1000) {
			*err = xasprintf("\"%s\": @every needs a duration of "
			    "at least 1s", text);
			return NULL;
		}
		c = xcalloc(1, sizeof *c);
		c->every = ms;
		return c;
	}
	for (i = 0; i < UTIL_ARRAY_LEN(descriptors); i++)
		if (strcmp(s, descriptors[i].name) == 0)
			return sched_cron_parse(descriptors[i].spec, err);
	if (*s == '@') {
		*err = xasprintf("\"%s\" is not a cron descriptor (@yearly, "
		    "@monthly, @weekly, @daily, @hourly or @every DURATION)",
		    text);
		return NULL;
	}
	while (*s != '\0') {
		start = s;
		while (*s != '\0' && *s != ' ' && *s != '\t')
			s++;
		if (n == 5) {
			n++;
			break;
		}
		if (parse_field(&fields[n], start, (size_t)(s - start),
		    &bits[n], &stars[n], err) == -1)
			return NULL;
		if (n == 1)
			hour_star = s - start == 1 && *start == '*';
		n++;
		while (*s == ' ' || *s == '\t')
			s++;
	}
	if (n != 5) {
		*err = xasprintf("\"%s\" has %s than five fields (minute hour "
		    "day-of-month month day-of-week)", text, n > 5 ? "more" :
		    "fewer");
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	c->min = bits[0];
	c->hour = (uint32_t)bits[1];
	c->dom = (uint32_t)bits[2];
	c->mon = (uint16_t)bits[3];
	c->dow = (uint8_t)bits[4];
	c->dom_star = stars[2];
	c->dow_star = stars[4];
	c->hour_star = hour_star;
	return c;
}

void
sched_cron_free(struct sched_cron *c)
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
day_ok(const struct sched_cron *c, const struct civil *t)
{
	int dom = (c->dom >> t->d) & 1, dow = (c->dow >> t->wday) & 1;

	/* robfig/cron and Vixie cron: either restricted field may match */
	if (c->dom_star || c->dow_star)
		return dom && dow;
	return dom || dow;
}

struct search {
	const struct sched_cron	*c;
	const struct sched_zone	*z;
	int			(*excluded)(void *, int, int, int);
	void			*ctx;
};

static int
wall_matches(const struct search *s, int64_t wall)
{
	struct civil t;

	sched_civil(wall, &t);
	return ((s->c->mon >> t.m) & 1) && day_ok(s->c, &t) &&
	    ((s->c->hour >> t.hh) & 1) && ((s->c->min >> t.mm) & 1) &&
	    (s->excluded == NULL || !s->excluded(s->ctx, t.y, t.m, t.d));
}

static int
off_at(const struct search *s, int64_t u)
{
	return sched_zone_offset(s->z, u, NULL, 0);
}

/*
 * The first instant after u whose wall clock reaches target (> wall(u)).
 * When target falls in a spring-forward gap, returns the first instant
 * after the gap and sets gap[0..1] to the missing wall range.
 */
static int64_t
advance(const struct search *s, int64_t u, int off, int64_t target,
    int64_t gap[2])
{
	int64_t v = u + (target - (u + off)), w, lo, hi;
	int o2 = off_at(s, v);

	gap[0] = gap[1] = 0;
	if (o2 <= off)
		return v;
	w = v - (o2 - off);
	if (w > u && off_at(s, w) == o2)
		return w;
	lo = u;			/* offset off */
	hi = v;			/* offset o2 */
	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;

		if (off_at(s, mid) == off)
			lo = mid;
		else
			hi = mid;
	}
	gap[0] = hi + off;
	gap[1] = hi + o2;
	return hi;
}

/* Has wall (now at instant u with offset off) occurred before u? */
static int
seen_before(const struct search *s, int64_t u, int64_t wall, int off)
{
	int ob = off_at(s, u - 6 * 3600);
	int64_t x;

	if (ob <= off)
		return 0;
	x = wall - ob;
	return x < u && off_at(s, x) == ob;
}

/* The next wall target for the first field of t that fails, or 0. */
static int64_t
next_target(const struct search *s, int64_t wall, const struct civil *t)
{
	const struct sched_cron *c = s->c;
	int64_t day0 = wall - (wall - floor_div(wall, 86400) * 86400);
	int h, m;

	if (!((c->mon >> t->m) & 1))
		return sched_days_from_civil(t->m == 12 ? t->y + 1 : t->y,
		    t->m == 12 ? 1 : t->m + 1, 1) * 86400;
	if (!day_ok(c, t) || (s->excluded != NULL &&
	    s->excluded(s->ctx, t->y, t->m, t->d)))
		return day0 + 86400;
	if (!((c->hour >> t->hh) & 1)) {
		for (h = t->hh + 1; h < 24; h++)
			if ((c->hour >> h) & 1)
				return day0 + h * 3600;
		return day0 + 86400;
	}
	if (!((c->min >> t->mm) & 1)) {
		for (m = t->mm + 1; m < 60; m++)
			if ((c->min >> m) & 1)
				return day0 + t->hh * 3600 + m * 60;
		return day0 + (t->hh + 1) * 3600;
	}
	return 0;
}

static int64_t
every_next(const struct search *s, int64_t after)
{
	int64_t next = after + s->c->every, end = after +
	    (int64_t)SCHED_HORIZON_YEARS * 366 * 86400000LL;
	int i;

	for (i = 0; i < 100000 && next <= end; i++) {
		int64_t u = floor_div(next, 1000), wall, dayend, k;
		struct civil t;

		wall = u + off_at(s, u);
		sched_civil(wall, &t);
		if (s->excluded == NULL || !s->excluded(s->ctx, t.y, t.m, t.d))
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
sched_cron_next(const struct sched_cron *c, const struct sched_zone *z,
    int64_t after, int (*excluded)(void *, int, int, int), void *ctx)
{
	struct search s = { c, z, excluded, ctx };
	int64_t after_s = floor_div(after, 1000), u, end, gap[2], g, v;
	int i, off;

	if (c->every > 0)
		return every_next(&s, after);
	u = floor_div(after_s, 60) * 60 + 60;
	end = after_s + (int64_t)SCHED_HORIZON_YEARS * 366 * 86400;
	for (i = 0; i < 1000000 && u <= end; i++) {
		struct civil t;
		int64_t wall, target;

		off = off_at(&s, u);
		wall = u + off;
		sched_civil(wall, &t);
		target = next_target(&s, wall, &t);
		if (target == 0) {	/* the wall clock matches */
			if (c->hour_star || !seen_before(&s, u, wall, off))
				return u * 1000;
			target = wall + 60;
		}
		v = advance(&s, u, off, target, gap);
		if (gap[1] > gap[0] && !c->hour_star) {
			/* a fixed time in the gap runs as Go normalizes it */
			for (g = gap[0]; g < gap[1]; g += 60)
				if (wall_matches(&s, g) && g - off > after_s)
					return (g - off) * 1000;
		}
		u = v > u ? v : u + 60;
	}
	return -1;
}

struct sched_cron *
sched_cron_every(int64_t ms)
{
	struct sched_cron *c = xcalloc(1, sizeof *c);

	c->every = ms;
	return c;
}
