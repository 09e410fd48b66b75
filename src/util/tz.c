/*
 * Time zones from TZif files (RFC 8536), without the C library's global
 * TZ state: libc only converts through the process-wide TZ variable, and
 * setenv() while other threads call localtime_r() is undefined behaviour.
 * A zone is its transitions (64-bit section of version 2+ files) plus the
 * POSIX TZ string of the footer, which rules every time after the last
 * transition ("CET-1CEST,M3.5.0,M10.5.0/3"); Debian's tzdata may be
 * "slim", where the footer is all there is for recent years.  A loaded
 * zone is immutable and shared freely between threads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/tz.h"
#include "util/util.h"

#define MAX_TZFILE	(1u << 20)
#define MAX_TRANS	5000
#define MAX_TYPES	256

/* ---- the POSIX TZ rule --------------------------------------------------- */

struct rule_date {
	char	 kind;		/* 'M' Mm.w.d, 'J' Jn (no Feb 29), 'n' n */
	int	 m, w, d;	/* M: month, week 1..5, weekday; J/n: day */
	int	 time;		/* s after local midnight; may be negative */
};

struct posix_tz {
	char		 std[16], dst[16];
	int		 std_off, dst_off;	/* s east of UTC */
	int		 has_dst;
	struct rule_date start, end;
};

struct tz {
	char		*name;			/* owned */
	int64_t		*trans;			/* owned: UTC s, ascending */
	unsigned char	*idx;			/* owned: type of each */
	size_t		 ntrans;
	struct {
		int	 off;
		int	 isdst;
		char	 abbr[16];
	}		 types[MAX_TYPES];
	size_t		 ntypes;
	struct posix_tz	 tz;
	int		 has_tz;
};

static const char *
parse_name(const char *p, char *out, size_t outlen)
{
	size_t n = 0;

	if (*p == '<') {
		for (p++; *p && *p != '>'; p++)
			if (n + 1 < outlen)
				out[n++] = *p;
		if (*p != '>')
			return NULL;
		p++;
	} else {
		while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
			if (n + 1 < outlen)
				out[n++] = *p++;
			else
				p++;
	}
	out[n] = '\0';
	return n >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]]; hours up to 167 (RFC 8536 extension). */
static const char *
parse_hms(const char *p, int *secs)
{
	int sign = 1, h = 0, m = 0, s = 0, digits = 0;

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	while (*p >= '0' && *p <= '9' && digits < 3) {
		h = h * 10 + (*p++ - '0');
		digits++;
	}
	if (digits == 0 || h > 167)
		return NULL;
	if (*p == ':') {
		p++;
		if (!(p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9'))
			return NULL;
		m = (p[0] - '0') * 10 + (p[1] - '0');
		p += 2;
		if (*p == ':') {
			p++;
			if (!(p[0] >= '0' && p[0] <= '9' && p[1] >= '0' &&
			    p[1] <= '9'))
				return NULL;
			s = (p[0] - '0') * 10 + (p[1] - '0');
			p += 2;
		}
	}
	if (m > 59 || s > 59)
		return NULL;
	*secs = sign * (h * 3600 + m * 60 + s);
	return p;
}

static const char *
parse_int(const char *p, int *v, int max)
{
	int n = 0, digits = 0;

	while (*p >= '0' && *p <= '9' && digits < 4) {
		n = n * 10 + (*p++ - '0');
		digits++;
	}
	if (digits == 0 || n > max)
		return NULL;
	*v = n;
	return p;
}

static const char *
parse_date(const char *p, struct rule_date *r)
{
	r->time = 7200;
	if (*p == 'M') {
		r->kind = 'M';
		if ((p = parse_int(p + 1, &r->m, 12)) == NULL || *p++ != '.' ||
		    (p = parse_int(p, &r->w, 5)) == NULL || *p++ != '.' ||
		    (p = parse_int(p, &r->d, 6)) == NULL || r->m < 1 ||
		    r->w < 1)
			return NULL;
	} else if (*p == 'J') {
		r->kind = 'J';
		if ((p = parse_int(p + 1, &r->d, 365)) == NULL || r->d < 1)
			return NULL;
	} else {
		r->kind = 'n';
		if ((p = parse_int(p, &r->d, 365)) == NULL)
			return NULL;
	}
	if (*p == '/')
		p = parse_hms(p + 1, &r->time);
	return p;
}

static int
parse_posix(const char *s, struct posix_tz *tz)
{
	const char *p = s;
	int off;

	memset(tz, 0, sizeof *tz);
	if ((p = parse_name(p, tz->std, sizeof tz->std)) == NULL ||
	    (p = parse_hms(p, &off)) == NULL)
		return -1;
	tz->std_off = -off;		/* POSIX counts west positive */
	if (*p == '\0')
		return 0;
	if ((p = parse_name(p, tz->dst, sizeof tz->dst)) == NULL)
		return -1;
	tz->has_dst = 1;
	tz->dst_off = tz->std_off + 3600;
	if (*p != ',' && *p != '\0') {
		if ((p = parse_hms(p, &off)) == NULL)
			return -1;
		tz->dst_off = -off;
	}
	if (*p == '\0') {	/* no rules: the US rules of old POSIX */
		tz->start = (struct rule_date){ 'M', 3, 2, 0, 7200 };
		tz->end = (struct rule_date){ 'M', 11, 1, 0, 7200 };
		return 0;
	}
	if (*p++ != ',' || (p = parse_date(p, &tz->start)) == NULL ||
	    *p++ != ',' || (p = parse_date(p, &tz->end)) == NULL ||
	    *p != '\0')
		return -1;
	return 0;
}

/* The local midnight (wall s) of rule date r in year y. */
static int64_t
rule_day(const struct rule_date *r, int64_t y)
{
	int64_t first, day;
	int leap = time_days_in_month(y, 2) == 29, wd;

	switch (r->kind) {
	case 'J':	/* 1..365, Feb 29 never counted */
		day = r->d - 1 + (leap && r->d >= 60);
		return (time_days_from_civil(y, 1, 1) + day) * 86400;
	case 'n':
		return (time_days_from_civil(y, 1, 1) + r->d) * 86400;
	default:
		first = time_days_from_civil(y, r->m, 1);
		wd = (int)((first % 7 + 11) % 7);
		day = (r->d - wd + 7) % 7 + (int64_t)(r->w - 1) * 7;
		while (day >= time_days_in_month(y, r->m))
			day -= 7;
		return (first + day) * 86400;
	}
}

static int
posix_isdst(const struct posix_tz *tz, int64_t utc)
{
	struct time_civil c;
	int64_t start, end, y;

	if (!tz->has_dst)
		return 0;
	time_civil_from_secs(utc + tz->std_off, &c);
	for (y = c.y - 1; y <= c.y + 1; y++) {
		/* start is in standard time, end in daylight time */
		start = rule_day(&tz->start, y) + tz->start.time - tz->std_off;
		end = rule_day(&tz->end, y) + tz->end.time - tz->dst_off;
		if (start < end) {
			if (utc >= start && utc < end)
				return 1;
		} else if (y == c.y) {
			/* southern hemisphere: daylight across new year */
			int64_t ny = time_days_from_civil(y, 1, 1) * 86400 -
			    tz->std_off;
			int64_t nny = time_days_from_civil(y + 1, 1, 1) *
			    86400 - tz->std_off;

			if (utc >= ny && utc < nny)
				return !(utc >= end && utc < start);
		}
	}
	return 0;
}

/* ---- TZif ---------------------------------------------------------------- */

static int64_t
be(const unsigned char *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	if (n == 4)
		return (int32_t)(uint32_t)v;
	return (int64_t)v;
}

struct counts {
	size_t	isut, isstd, leap, time, type, chars;
};

static int
read_header(const unsigned char *p, size_t len, struct counts *c)
{
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return -1;
	c->isut = (size_t)be(p + 20, 4);
	c->isstd = (size_t)be(p + 24, 4);
	c->leap = (size_t)be(p + 28, 4);
	c->time = (size_t)be(p + 32, 4);
	c->type = (size_t)be(p + 36, 4);
	c->chars = (size_t)be(p + 40, 4);
	if (c->time > MAX_TRANS || c->type == 0 || c->type > MAX_TYPES ||
	    c->chars > 4096 || c->leap > 1000 || c->isut > MAX_TYPES ||
	    c->isstd > MAX_TYPES)
		return -1;
	return 0;
}

static size_t
block_size(const struct counts *c, int tsize)
{
	return c->time * (size_t)tsize + c->time + c->type * 6 + c->chars +
	    c->leap * (size_t)(tsize + 4) + c->isstd + c->isut;
}

static int
read_block(struct tz *z, const unsigned char *p, size_t len,
    const struct counts *c, int tsize)
{
	const unsigned char *types, *chars;
	size_t i;

	if (len < block_size(c, tsize))
		return -1;
	z->ntrans = c->time;
	z->trans = xcalloc(c->time + 1, sizeof *z->trans);
	z->idx = xcalloc(c->time + 1, 1);
	for (i = 0; i < c->time; i++) {
		z->trans[i] = be(p + i * (size_t)tsize, tsize);
		if (i > 0 && z->trans[i] <= z->trans[i - 1])
			return -1;
	}
	p += c->time * (size_t)tsize;
	for (i = 0; i < c->time; i++)
		if ((z->idx[i] = p[i]) >= c->type)
			return -1;
	types = p + c->time;
	chars = types + c->type * 6;
	z->ntypes = c->type;
	for (i = 0; i < c->type; i++) {
		size_t ai = types[i * 6 + 5], n = 0;

		z->types[i].off = (int)be(types + i * 6, 4);
		z->types[i].isdst = types[i * 6 + 4];
		if (z->types[i].off < -89999 || z->types[i].off > 93599 ||
		    ai >= c->chars)
			return -1;
		while (ai + n < c->chars && chars[ai + n] != '\0' &&
		    n + 1 < sizeof z->types[i].abbr) {
			z->types[i].abbr[n] = (char)chars[ai + n];
			n++;
		}
		z->types[i].abbr[n] = '\0';
	}
	return 0;
}

struct tz *
tz_parse(const char *name, const unsigned char *p, size_t len,
    char **err)
{
	struct tz *z = xcalloc(1, sizeof *z);
	struct counts c;
	size_t off;
	char footer[128];

	z->name = xstrdup(name);
	if (read_header(p, len, &c) == -1)
		goto bad;
	if (p[4] == '\0') {		/* version 1: 32-bit times only */
		if (read_block(z, p + 44, len - 44, &c, 4) == -1)
			goto bad;
		return z;
	}
	off = 44 + block_size(&c, 4);
	if (off > len || read_header(p + off, len - off, &c) == -1)
		goto bad;
	free(z->trans);
	free(z->idx);
	z->trans = NULL;
	z->idx = NULL;
	if (read_block(z, p + off + 44, len - off - 44, &c, 8) == -1)
		goto bad;
	off += 44 + block_size(&c, 8);
	if (off < len && p[off] == '\n') {
		size_t n = 0;

		for (off++; off < len && p[off] != '\n' &&
		    n + 1 < sizeof footer; off++)
			footer[n++] = (char)p[off];
		footer[n] = '\0';
		if (n > 0 && parse_posix(footer, &z->tz) == 0)
			z->has_tz = 1;
		else if (n > 0)
			goto bad;
	}
	return z;
bad:
	*err = xasprintf("time zone %s: not a TZif file this reader "
	    "understands", name);
	tz_free(z);
	return NULL;
}

static int
name_ok(const char *s)
{
	const char *p;

	if (*s == '/' || *s == '\0' || strlen(s) > 128)
		return 0;
	for (p = s; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("/_+-", *p)))
			return 0;
	/* no "..": names stay below the zone directory */
	return strstr(s, "..") == NULL && strstr(s, "//") == NULL;
}

static struct tz *
utc_zone(const char *name, const char *abbr)
{
	struct tz *z = xcalloc(1, sizeof *z);

	z->name = xstrdup(name);
	z->ntypes = 1;
	snprintf(z->types[0].abbr, sizeof z->types[0].abbr, "%s", abbr);
	return z;
}

struct tz *
tz_load(const char *name, char **err)
{
	const char *dir = getenv("TZDIR");
	char *path, *text, *e = NULL;
	struct tz *z;
	size_t len;

	*err = NULL;
	/* Go's time.LoadLocation: "" and "UTC" need no file */
	if (name == NULL || *name == '\0' || strcmp(name, "UTC") == 0 ||
	    strcmp(name, "Etc/UTC") == 0)
		return utc_zone("UTC", "UTC");
	if (strcmp(name, "Local") == 0) {
		path = xstrdup("/etc/localtime");
	} else if (!name_ok(name)) {
		*err = xasprintf("\"%s\" is not an IANA time zone name (like "
		    "Europe/Paris)", name);
		return NULL;
	} else
		path = xasprintf("%s/%s", dir && *dir ? dir :
		    "/usr/share/zoneinfo", name);
	text = util_read_file(path, MAX_TZFILE, &len, &e);
	free(path);
	if (text == NULL && (strcmp(name, "Local") == 0 ||
	    strcmp(name, "GMT") == 0 || strcmp(name, "Etc/GMT") == 0)) {
		/* no zone files installed: Go falls back to UTC too */
		free(e);
		return utc_zone(name, strcmp(name, "Local") == 0 ? "UTC" :
		    "GMT");
	}
	if (text == NULL) {
		*err = xasprintf("unknown time zone \"%s\" (%s)", name, e);
		free(e);
		return NULL;
	}
	z = tz_parse(name, (const unsigned char *)text, len, err);
	free(text);
	return z;
}

void
tz_free(struct tz *z)
{
	if (z == NULL)
		return;
	free(z->name);
	free(z->trans);
	free(z->idx);
	free(z);
}

const char *
tz_name(const struct tz *z)
{
	return z != NULL ? z->name : "UTC";
}

static void
set_abbr(char *abbr, size_t abbrlen, const char *s)
{
	if (abbr != NULL && abbrlen > 0)
		snprintf(abbr, abbrlen, "%s", s);
}

int
tz_offset(const struct tz *z, int64_t utc, char *abbr, size_t abbrlen)
{
	size_t lo = 0, hi, t = 0;

	if (z == NULL) {
		set_abbr(abbr, abbrlen, "UTC");
		return 0;
	}
	hi = z->ntrans;

	if (z->ntrans > 0 && utc >= z->trans[z->ntrans - 1] && z->has_tz) {
		int dst = posix_isdst(&z->tz, utc);

		set_abbr(abbr, abbrlen, dst ? z->tz.dst : z->tz.std);
		return dst ? z->tz.dst_off : z->tz.std_off;
	}
	if (z->ntrans == 0 && z->has_tz) {
		int dst = posix_isdst(&z->tz, utc);

		set_abbr(abbr, abbrlen, dst ? z->tz.dst : z->tz.std);
		return dst ? z->tz.dst_off : z->tz.std_off;
	}
	if (z->ntrans == 0 || utc < z->trans[0]) {
		/* before the first transition: the first time type */
		set_abbr(abbr, abbrlen, z->types[0].abbr);
		return z->types[0].off;
	}
	while (lo < hi) {	/* the last transition at or before utc */
		size_t mid = lo + (hi - lo) / 2;

		if (z->trans[mid] <= utc) {
			t = mid;
			lo = mid + 1;
		} else
			hi = mid;
	}
	set_abbr(abbr, abbrlen, z->types[z->idx[t]].abbr);
	return z->types[z->idx[t]].off;
}
