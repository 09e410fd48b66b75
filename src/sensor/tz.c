/*
 * Time zones for time filters and conditionsReset, by IANA name.
 *
 * libc only converts through the process-wide TZ variable, and setenv()
 * while other threads call localtime_r() is undefined behaviour.  So the
 * zone is read here from its TZif file ($TZDIR or /usr/share/zoneinfo,
 * RFC 8536): the transitions give the offset up to the last one, and the
 * POSIX TZ rule in the file's footer ("CET-1CEST,M3.5.0,M10.5.0/3") gives
 * it after that, so "slim" zone files work for any year.  A loaded zone is
 * immutable and shared freely between threads.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/sensor_int.h"

#define MAX_TZFILE	(1u << 20)

struct rule {
	char	kind;		/* 'J': 1..365 no leap day, 'N': 0..365, 'M' */
	int	m, w, d, n;
	int32_t	time;		/* seconds after local midnight */
};

struct sensor_tz {
	int64_t		*trans;		/* transition instants, seconds */
	unsigned char	*idx;		/* type of each transition */
	size_t		 ntrans;
	int32_t		*utoff;		/* per type, seconds east */
	size_t		 ntypes;
	int		 has_rule;	/* POSIX rule after the last one */
	int32_t		 std_off, dst_off;
	int		 has_dst;
	struct rule	 start, end;
};

/* ---- POSIX TZ rules ------------------------------------------------------ */

static const char *
p_name(const char *s)
{
	const char *b = s;

	if (*s == '<') {
		s = strchr(s, '>');
		return s ? s + 1 : NULL;
	}
	while (isalpha((unsigned char)*s))
		s++;
	return s - b >= 1 ? s : NULL;
}

static const char *
p_num(const char *s, int *v, int max)
{
	if (!isdigit((unsigned char)*s))
		return NULL;
	for (*v = 0; isdigit((unsigned char)*s); s++) {
		*v = *v * 10 + (*s - '0');
		if (*v > max)
			return NULL;
	}
	return s;
}

/* [+-]hh[:mm[:ss]] in seconds */
static const char *
p_offset(const char *s, int32_t *secs)
{
	int sign = 1, h, m = 0, sec = 0;

	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	if ((s = p_num(s, &h, 167)) == NULL)
		return NULL;
	if (*s == ':' && ((s = p_num(s + 1, &m, 59)) == NULL ||
	    (*s == ':' && (s = p_num(s + 1, &sec, 59)) == NULL)))
		return NULL;
	*secs = sign * (h * 3600 + m * 60 + sec);
	return s;
}

static const char *
p_rule(const char *s, struct rule *r)
{
	memset(r, 0, sizeof *r);
	r->time = 7200;
	if (*s == 'J') {
		r->kind = 'J';
		if ((s = p_num(s + 1, &r->n, 365)) == NULL || r->n < 1)
			return NULL;
	} else if (*s == 'M') {
		r->kind = 'M';
		if ((s = p_num(s + 1, &r->m, 12)) == NULL || r->m < 1 ||
		    *s != '.' || (s = p_num(s + 1, &r->w, 5)) == NULL ||
		    r->w < 1 || *s != '.' || (s = p_num(s + 1, &r->d, 6)) ==
		    NULL)
			return NULL;
	} else {
		r->kind = 'N';
		if ((s = p_num(s, &r->n, 365)) == NULL)
			return NULL;
	}
	if (*s == '/')
		s = p_offset(s + 1, &r->time);
	return s;
}

static int
parse_posix(struct sensor_tz *tz, const char *s)
{
	int32_t off;

	if ((s = p_name(s)) == NULL || (s = p_offset(s, &off)) == NULL)
		return -1;
	tz->std_off = tz->dst_off = -off;
	tz->has_rule = 1;
	if (*s == '\0')
		return 0;
	if ((s = p_name(s)) == NULL)
		return -1;
	tz->has_dst = 1;
	tz->dst_off = tz->std_off + 3600;
	if (*s && *s != ',') {
		if ((s = p_offset(s, &off)) == NULL)
			return -1;
		tz->dst_off = -off;
	}
	if (*s == '\0')		/* POSIX leaves it open; glibc: US rules */
		s = ",M3.2.0,M11.1.0";
	if (*s != ',' || (s = p_rule(s + 1, &tz->start)) == NULL ||
	    *s != ',' || (s = p_rule(s + 1, &tz->end)) == NULL || *s != '\0')
		return -1;
	return 0;
}

/* Days since the epoch of the rule's date in year y. */
static int64_t
rule_day(const struct rule *r, int64_t y)
{
	int64_t first;
	int wd, day;

	switch (r->kind) {
	case 'J':
		return time_days_from_civil(y, 1, 1) + r->n - 1 +
		    (time_days_in_month(y, 2) == 29 && r->n >= 60);
	case 'N':
		return time_days_from_civil(y, 1, 1) + r->n;
	default:
		first = time_days_from_civil(y, r->m, 1);
		wd = (int)(((first % 7) + 11) % 7);	/* 0 = Sunday */
		day = 1 + (r->d - wd + 7) % 7 + (r->w - 1) * 7;
		while (day > time_days_in_month(y, r->m))
			day -= 7;
		return first + day - 1;
	}
}

static int32_t
posix_offset(const struct sensor_tz *tz, int64_t t)
{
	int64_t y, s, e, days;
	int m, d;

	if (!tz->has_dst)
		return tz->std_off;
	days = t + tz->std_off;
	days = (days >= 0 ? days : days - 86399) / 86400;
	time_civil_from_days(days, &y, &m, &d);
	s = rule_day(&tz->start, y) * 86400 + tz->start.time - tz->std_off;
	e = rule_day(&tz->end, y) * 86400 + tz->end.time - tz->dst_off;
	if (s < e)
		return t >= s && t < e ? tz->dst_off : tz->std_off;
	return t >= e && t < s ? tz->std_off : tz->dst_off;
}

/* ---- TZif ---------------------------------------------------------------- */

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static int64_t
be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct counts {
	size_t	isut, isstd, leap, time, type, chr;
};

static int
counts(const unsigned char *p, size_t len, struct counts *c)
{
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return -1;
	c->isut = be32(p + 20);
	c->isstd = be32(p + 24);
	c->leap = be32(p + 28);
	c->time = be32(p + 32);
	c->type = be32(p + 36);
	c->chr = be32(p + 40);
	if (c->type == 0 || c->type > 256 || c->time > 100000 ||
	    c->leap > 10000 || c->chr > 10000 || c->isut > 256 ||
	    c->isstd > 256)
		return -1;
	return 0;
}

static size_t
block_size(const struct counts *c, size_t tsize)
{
	return c->time * (tsize + 1) + c->type * 6 + c->chr +
	    c->leap * (tsize + 4) + c->isstd + c->isut;
}

static int
parse_tzif(struct sensor_tz *tz, const unsigned char *p, size_t len)
{
	struct counts c;
	const unsigned char *d, *foot, *nl;
	size_t tsize = 4, i, need;
	char *rule;

	if (counts(p, len, &c) == -1)
		return -1;
	need = 44 + block_size(&c, 4);
	if (need > len)
		return -1;
	if (p[4] >= '2') {
		/* skip the 32-bit data for the 64-bit header and data */
		p += need;
		len -= need;
		if (counts(p, len, &c) == -1)
			return -1;
		tsize = 8;
		need = 44 + block_size(&c, 8);
		if (need > len)
			return -1;
	}
	d = p + 44;
	tz->ntrans = c.time;
	tz->trans = xcalloc(c.time ? c.time : 1, sizeof *tz->trans);
	tz->idx = xcalloc(c.time ? c.time : 1, 1);
	for (i = 0; i < c.time; i++)
		tz->trans[i] = tsize == 8 ? be64(d + i * 8) :
		    (int32_t)be32(d + i * 4);
	d += c.time * tsize;
	for (i = 0; i < c.time; i++) {
		tz->idx[i] = d[i];
		if (d[i] >= c.type)
			return -1;
	}
	d += c.time;
	tz->ntypes = c.type;
	tz->utoff = xcalloc(c.type, sizeof *tz->utoff);
	for (i = 0; i < c.type; i++)
		tz->utoff[i] = (int32_t)be32(d + i * 6);
	foot = p + need;
	if (tsize == 8 && foot < p + len && *foot == '\n') {
		nl = memchr(foot + 1, '\n', (size_t)(p + len - foot - 1));
		if (nl && nl > foot + 1) {
			rule = xstrndup((const char *)foot + 1,
			    (size_t)(nl - foot - 1));
			if (parse_posix(tz, rule) == -1)
				tz->has_rule = 0;
			free(rule);
		}
	}
	return 0;
}

static int
valid_name(const char *n)
{
	const char *s;

	if (*n == '\0' || *n == '/' || strlen(n) > 255 || strstr(n, ".."))
		return 0;
	for (s = n; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("/_+-", *s))
			return 0;
	return 1;
}

struct sensor_tz *
sensor_tz_load(const char *name, char **err)
{
	struct sensor_tz *tz;
	const char *dir;
	char *path, *data, *rerr;
	size_t len;

	*err = NULL;
	if (strcmp(name, "Local") == 0) {
		path = xstrdup("/etc/localtime");
	} else {
		if (!valid_name(name)) {
			*err = xasprintf("invalid time zone name \"%s\"", name);
			return NULL;
		}
		if ((dir = getenv("TZDIR")) == NULL || *dir == '\0')
			dir = "/usr/share/zoneinfo";
		path = xasprintf("%s/%s", dir, name);
	}
	data = util_read_file(path, MAX_TZFILE, &len, &rerr);
	free(path);
	tz = xcalloc(1, sizeof *tz);
	if (data == NULL) {
		free(rerr);
		if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0 ||
		    strcmp(name, "GMT") == 0)
			return tz;	/* no zone files installed */
		free(tz);
		*err = xasprintf("unknown time zone \"%s\"", name);
		return NULL;
	}
	if (parse_tzif(tz, (const unsigned char *)data, len) == -1) {
		free(data);
		sensor_tz_free(tz);
		*err = xasprintf("time zone \"%s\": not a TZif file", name);
		return NULL;
	}
	free(data);
	return tz;
}

struct sensor_tz *
sensor_tz_posix(const char *spec, char **err)
{
	struct sensor_tz *tz = xcalloc(1, sizeof *tz);

	*err = NULL;
	if (parse_posix(tz, spec) == -1) {
		free(tz);
		*err = xasprintf("invalid TZ rule \"%s\"", spec);
		return NULL;
	}
	return tz;
}

void
sensor_tz_free(struct sensor_tz *tz)
{
	if (tz == NULL)
		return;
	free(tz->trans);
	free(tz->idx);
	free(tz->utoff);
	free(tz);
}

int32_t
sensor_tz_offset(const struct sensor_tz *tz, int64_t t)
{
	size_t lo, hi, mid;

	if (tz == NULL)
		return 0;
	if (tz->ntrans == 0 || t >= tz->trans[tz->ntrans - 1]) {
		if (tz->has_rule)
			return posix_offset(tz, t);
		if (tz->ntrans == 0)
			return tz->ntypes ? tz->utoff[0] : 0;
	}
	if (t < tz->trans[0])
		return tz->utoff[0];
	lo = 0;
	hi = tz->ntrans;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (tz->trans[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return tz->utoff[tz->idx[lo]];
}
