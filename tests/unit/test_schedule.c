/*
 * Time-driven sources: cron parsing and next fire times (UTC tables, time
 * zones, both daylight-saving transitions, exclusion dates, intervals),
 * time zones read from tzdata checked against the C library's own
 * reading, POSIX TZ footers (northern and southern rules), TZif files
 * truncated anywhere, compiling calendar/prometheus entries with their
 * errors, the calendar event, and the prometheus source's edge
 * triggering.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "schedule/schedule.h"
#include "schedule/sched_int.h"

static int64_t
T(const char *s)
{
	int64_t ms = 0;

	if (time_parse(s, &ms) == -1)
		fprintf(stderr, "bad time in test: %s\n", s);
	return ms;
}

static int
have_tzdata(void)
{
	FILE *f = fopen("/usr/share/zoneinfo/Europe/Paris", "r");

	if (f == NULL)
		return 0;
	fclose(f);
	return 1;
}

TEST(cron_parse_errors)
{
	static const struct {
		const char	*text, *msg;
	} cases[] = {
		{ "* * * *", "fewer than five fields" },
		{ "* * * * * *", "more than five fields" },
		{ "60 * * * *", "minute field \"60\"" },
		{ "* 24 * * *", "hour field" },
		{ "* * 0 * *", "day of month field" },
		{ "* * * 13 *", "month field" },
		{ "* * * * 8", "day of week field" },
		{ "5-1 * * * *", "minute field" },
		{ "*/0 * * * *", "minute field" },
		{ "? * * * *", "minute field" },
		{ "* * * FOO *", "or JAN-DEC" },
		{ "* * * * MONDAY", "or SUN-SAT" },
		{ "1,,2 * * * *", "minute field" },
		{ "1- * * * *", "minute field" },
		{ "0010 * * * *", "minute field" },
		{ "@every 500ms", "at least 1s" },
		{ "@every x", "at least 1s" },
		{ "@fortnightly", "not a cron descriptor" },
	};
	struct sched_cron *c;
	char *err;
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		err = NULL;
		c = sched_cron_parse(cases[i].text, &err);
		CHECK(c == NULL);
		sched_cron_free(c);
		if (err == NULL || strstr(err, cases[i].msg) == NULL)
			fprintf(stderr, "case %s: %s\n", cases[i].text,
			    err ? err : "(null)");
		CHECK(err != NULL && strstr(err, cases[i].msg) != NULL);
		free(err);
	}
}

TEST(cron_next_utc)
{
	static const struct {
		const char	*expr, *after, *want;
	} cases[] = {
		{ "*/5 * * * *", "2026-01-01T00:00:00Z",
		  "2026-01-01T00:05:00Z" },
		{ "* * * * *", "2026-01-01T10:00:30.500Z",
		  "2026-01-01T10:01:00Z" },
		{ "0 12 * * *", "2026-01-01T12:00:00Z",
		  "2026-01-02T12:00:00Z" },
		{ "0 12 * * *", "2026-01-01T11:59:59.999Z",
		  "2026-01-01T12:00:00Z" },
		{ "0 9 * * MON-FRI", "2026-01-03T00:00:00Z",
		  "2026-01-05T09:00:00Z" },
		{ "0 9 * * mon-fri", "2026-01-05T09:00:00Z",
		  "2026-01-06T09:00:00Z" },
		{ "30 2 29 2 *", "2026-03-01T00:00:00Z",
		  "2028-02-29T02:30:00Z" },
		/* both day fields restricted: either matches */
		{ "0 0 1,15 * 5", "2026-01-01T00:00:00Z",
		  "2026-01-02T00:00:00Z" },
		/* day of week *: only the day of month */
		{ "0 0 15 * *", "2026-01-01T00:00:00Z",
		  "2026-01-15T00:00:00Z" },
		{ "0 0 ? * SUN", "2026-01-01T00:00:00Z",
		  "2026-01-04T00:00:00Z" },
		{ "0 0 * * 7", "2026-01-01T00:00:00Z",
		  "2026-01-04T00:00:00Z" },
		{ "0 0 * * 5-7", "2026-01-03T00:00:00Z",
		  "2026-01-04T00:00:00Z" },
		{ "15,45 */6 * JAN,jul *", "2026-01-31T18:45:00Z",
		  "2026-07-01T00:15:00Z" },
		{ "10-20/5 8 * * *", "2026-01-01T08:10:00Z",
		  "2026-01-01T08:15:00Z" },
		{ "5/20 * * * *", "2026-01-01T00:46:00Z",
		  "2026-01-01T01:05:00Z" },
		{ "@hourly", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z" },
		{ "@daily", "2026-01-01T00:00:01Z", "2026-01-02T00:00:00Z" },
		{ "@midnight", "2026-01-01T00:00:01Z",
		  "2026-01-02T00:00:00Z" },
		{ "@weekly", "2026-01-01T00:00:00Z", "2026-01-04T00:00:00Z" },
		{ "@monthly", "2026-01-01T00:00:00Z",
		  "2026-02-01T00:00:00Z" },
		{ "@yearly", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z" },
		{ "@annually", "2026-06-01T00:00:00Z",
		  "2027-01-01T00:00:00Z" },
		{ "@every 90s", "2026-01-01T00:00:00.250Z",
		  "2026-01-01T00:01:30.250Z" },
		{ "0 0 31 * *", "2026-01-31T00:00:00Z",
		  "2026-03-31T00:00:00Z" },
		{ "0 0 30 2 *", "2026-01-01T00:00:00Z", NULL },
	};
	struct sched_zone *utc;
	struct sched_cron *c;
	char *err = NULL, got[TIME_FMTLEN];
	size_t i;
	int64_t n;

	utc = sched_zone_load("UTC", &err);
	CHECK(utc != NULL);
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		c = sched_cron_parse(cases[i].expr, &err);
		CHECK(c != NULL);
		if (c == NULL) {
			fprintf(stderr, "%s: %s\n", cases[i].expr, err);
			free(err);
			continue;
		}
		n = sched_cron_next(c, utc, T(cases[i].after), NULL, NULL);
		if (cases[i].want == NULL) {
			CHECK_INT(n, -1);
		} else {
			time_format(n, got, sizeof got);
			if (n != T(cases[i].want))
				fprintf(stderr, "%s after %s\n", cases[i].expr,
				    cases[i].after);
			CHECK_STR(got, cases[i].want);
		}
		sched_cron_free(c);
	}
	sched_zone_free(utc);
}

/* The C library's offset for zone at utc: the reference. */
static long
libc_offset(const char *zone, time_t utc)
{
	struct tm tm;

	setenv("TZ", zone, 1);
	tzset();
	localtime_r(&utc, &tm);
	return tm.tm_gmtoff;
}

TEST(zones_agree_with_libc)
{
	static const char *const zones[] = {
		"Europe/Paris", "America/New_York", "Australia/Sydney",
		"Asia/Kolkata", "Pacific/Chatham", "America/Sao_Paulo",
		"Africa/Casablanca", "Australia/Lord_Howe", "Europe/Dublin",
		"America/St_Johns", "Asia/Tehran", "Pacific/Apia",
	};
	struct sched_zone *z;
	char *err = NULL, abbr[16];
	size_t i;
	int64_t t;
	int bad = 0, checked = 0;
	uint64_t r = 12345;

	if (!have_tzdata()) {
		fprintf(stderr, "no tzdata: skipped\n");
		return;
	}
	for (i = 0; i < UTIL_ARRAY_LEN(zones); i++) {
		z = sched_zone_load(zones[i], &err);
		CHECK(z != NULL);
		if (z == NULL) {
			fprintf(stderr, "%s: %s\n", zones[i], err);
			free(err);
			continue;
		}
		/* 1900..2100, pseudo-random instants */
		for (t = 0; t < 4000; t++) {
			int64_t u;

			r = r * 6364136223846793005ULL + 1442695040888963407ULL;
			u = -2208988800LL + (int64_t)(r >> 33) % 6311433600LL;
			if (sched_zone_offset(z, u, abbr, sizeof abbr) !=
			    libc_offset(zones[i], (time_t)u)) {
				if (bad++ < 5)
					fprintf(stderr, "%s at %lld: %d vs "
					    "%ld\n", zones[i], (long long)u,
					    sched_zone_offset(z, u, NULL, 0),
					    libc_offset(zones[i], (time_t)u));
			}
			checked++;
		}
		sched_zone_free(z);
	}
	unsetenv("TZ");
	tzset();
	CHECK_INT(bad, 0);
	CHECK_INT(checked, 48000);
}

TEST(zone_abbreviations_and_names)
{
	struct sched_zone *z;
	char *err = NULL, abbr[16];

	if (!have_tzdata())
		return;
	z = sched_zone_load("Europe/Paris", &err);
	CHECK(z != NULL);
	if (z == NULL)
		return;
	CHECK_INT(sched_zone_offset(z, T("2026-01-15T00:00:00Z") / 1000, abbr,
	    sizeof abbr), 3600);
	CHECK_STR(abbr, "CET");
	CHECK_INT(sched_zone_offset(z, T("2040-07-15T00:00:00Z") / 1000, abbr,
	    sizeof abbr), 7200);
	CHECK_STR(abbr, "CEST");
	CHECK_STR(sched_zone_name(z), "Europe/Paris");
	sched_zone_free(z);
	CHECK(sched_zone_load("Mars/Olympus", &err) == NULL);
	CHECK(err != NULL && strstr(err, "unknown time zone") != NULL);
	free(err);
	CHECK(sched_zone_load("../../etc/passwd", &err) == NULL);
	CHECK(err != NULL && strstr(err, "not an IANA") != NULL);
	free(err);
	CHECK(sched_zone_load("/etc/localtime", &err) == NULL);
	free(err);
	z = sched_zone_load("", &err);
	CHECK(z != NULL && sched_zone_offset(z, 0, abbr, sizeof abbr) == 0);
	CHECK_STR(abbr, "UTC");
	sched_zone_free(z);
}

/* A version 2 TZif with no transitions, one type and a footer. */
static size_t
tzif_footer(unsigned char *out, const char *footer, int off)
{
	size_t n = 0;
	int v;

	for (v = 0; v < 2; v++) {
		memset(out + n, 0, 44);
		memcpy(out + n, "TZif2", 5);
		out[n + 39] = 1;	/* typecnt */
		out[n + 43] = 4;	/* charcnt */
		n += 44;
		out[n++] = (unsigned char)((uint32_t)off >> 24);
		out[n++] = (unsigned char)((uint32_t)off >> 16);
		out[n++] = (unsigned char)((uint32_t)off >> 8);
		out[n++] = (unsigned char)off;
		out[n++] = 0;
		out[n++] = 0;
		memcpy(out + n, "XXX", 4);
		n += 4;
	}
	out[n++] = '\n';
	memcpy(out + n, footer, strlen(footer));
	n += strlen(footer);
	out[n++] = '\n';
	return n;
}

TEST(posix_footers)
{
	static const struct {
		const char	*footer, *at;
		int		 off;
		const char	*abbr;
	} cases[] = {
		{ "EST5EDT,M3.2.0,M11.1.0", "2030-01-10T00:00:00Z", -18000,
		  "EST" },
		{ "EST5EDT,M3.2.0,M11.1.0", "2030-07-10T00:00:00Z", -14400,
		  "EDT" },
		/* second Sunday of March 2030 is the 10th, 2am EST = 7am Z */
		{ "EST5EDT,M3.2.0,M11.1.0", "2030-03-10T06:59:59Z", -18000,
		  "EST" },
		{ "EST5EDT,M3.2.0,M11.1.0", "2030-03-10T07:00:00Z", -14400,
		  "EDT" },
		/* southern: daylight across new year */
		{ "AEST-10AEDT,M10.1.0,M4.1.0/3", "2030-01-10T00:00:00Z",
		  39600, "AEDT" },
		{ "AEST-10AEDT,M10.1.0,M4.1.0/3", "2030-06-10T00:00:00Z",
		  36000, "AEST" },
		{ "AEST-10AEDT,M10.1.0,M4.1.0/3", "2030-12-31T20:00:00Z",
		  39600, "AEDT" },
		{ "<+0530>-5:30", "2030-06-10T00:00:00Z", 19800, "+0530" },
		{ "<-03>3", "2030-06-10T00:00:00Z", -10800, "-03" },
		/* Julian and zero-based days, times past 24h */
		{ "XST0XDT,J60/0,J300/0", "2030-03-02T00:00:00Z", 3600,
		  "XDT" },
		{ "XST0XDT,59,299", "2030-02-28T12:00:00Z", 0, "XST" },
		{ "XST0XDT,M3.5.0/-1,M10.5.0/25", "2030-06-01T00:00:00Z", 3600,
		  "XDT" },
	};
	static const char *const bad[] = { "EST", "E5", "EST5EDT,M13.1.0,"
	    "M11.1.0", "EST5EDT,M3.2.0", "EST5EDT,M3.2.0,M11.1.0,x",
	    "<EST5", "EST555" };
	unsigned char buf[512];
	struct sched_zone *z;
	char *err = NULL, abbr[16];
	size_t i, n;

	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		n = tzif_footer(buf, cases[i].footer, 0);
		z = sched_zone_parse("t", buf, n, &err);
		CHECK(z != NULL);
		if (z == NULL) {
			fprintf(stderr, "%s: %s\n", cases[i].footer, err);
			free(err);
			continue;
		}
		CHECK_INT(sched_zone_offset(z, T(cases[i].at) / 1000, abbr,
		    sizeof abbr), cases[i].off);
		CHECK_STR(abbr, cases[i].abbr);
		sched_zone_free(z);
	}
	for (i = 0; i < UTIL_ARRAY_LEN(bad); i++) {
		n = tzif_footer(buf, bad[i], 0);
		CHECK(sched_zone_parse("t", buf, n, &err) == NULL);
		free(err);
	}
}

TEST(truncated_tzif_never_crashes)
{
	char *text, *err = NULL;
	size_t len, cut;
	struct sched_zone *z;
	int ok = 0;

	if (!have_tzdata())
		return;
	text = util_read_file("/usr/share/zoneinfo/America/New_York", 1 << 20,
	    &len, &err);
	CHECK(text != NULL);
	if (text == NULL)
		return;
	for (cut = 0; cut <= len; cut++) {
		z = sched_zone_parse("t", (unsigned char *)text, cut, &err);
		if (z != NULL) {
			sched_zone_offset(z, 0, NULL, 0);
			sched_zone_offset(z, 4000000000LL, NULL, 0);
			ok++;
		} else
			free(err);
		sched_zone_free(z);
	}
	/* flipped bytes */
	for (cut = 0; cut < len; cut += 7) {
		text[cut] = (char)~text[cut];
		z = sched_zone_parse("t", (unsigned char *)text, len, &err);
		if (z != NULL)
			sched_zone_offset(z, 1700000000, NULL, 0);
		else
			free(err);
		sched_zone_free(z);
		text[cut] = (char)~text[cut];
	}
	CHECK(ok >= 1);		/* at least the whole file */
	free(text);
}

TEST(cron_in_time_zones_and_dst)
{
	static const struct {
		const char	*zone, *expr, *after, *want;
	} cases[] = {
		{ "Europe/Paris", "0 9 * * *", "2026-01-10T00:00:00Z",
		  "2026-01-10T08:00:00Z" },
		{ "Europe/Paris", "0 9 * * *", "2026-07-10T00:00:00Z",
		  "2026-07-10T07:00:00Z" },
		{ "America/New_York", "0 0 1 * *", "2026-06-15T00:00:00Z",
		  "2026-07-01T04:00:00Z" },
		{ "Asia/Kolkata", "30 9 * * *", "2026-01-10T00:00:00Z",
		  "2026-01-10T04:00:00Z" },
		/* spring forward, Paris 2026-03-29 01:00Z: 02:xx is gone */
		{ "Europe/Paris", "30 2 * * *", "2026-03-28T12:00:00Z",
		  "2026-03-29T01:30:00Z" },
		{ "Europe/Paris", "30 2 * * *", "2026-03-29T01:30:00Z",
		  "2026-03-30T00:30:00Z" },
		{ "Europe/Paris", "*/30 * * * *", "2026-03-29T00:30:00Z",
		  "2026-03-29T01:00:00Z" },
		{ "Europe/Paris", "30 2,3 * * *", "2026-03-29T00:00:00Z",
		  "2026-03-29T01:30:00Z" },
		{ "Europe/Paris", "30 2,3 * * *", "2026-03-29T01:30:00Z",
		  "2026-03-30T00:30:00Z" },
		/* fall back, Paris 2026-10-25 01:00Z: 02:xx happens twice */
		{ "Europe/Paris", "30 2 * * *", "2026-10-24T12:00:00Z",
		  "2026-10-25T00:30:00Z" },
		{ "Europe/Paris", "30 2 * * *", "2026-10-25T00:30:00Z",
		  "2026-10-26T01:30:00Z" },
		{ "Europe/Paris", "30 * * * *", "2026-10-25T00:30:00Z",
		  "2026-10-25T01:30:00Z" },
		{ "Europe/Paris", "30 * * * *", "2026-10-25T01:30:00Z",
		  "2026-10-25T02:30:00Z" },
		/* New York: 2026-03-08 07:00Z and 2026-11-01 06:00Z */
		{ "America/New_York", "30 2 * * *", "2026-03-07T12:00:00Z",
		  "2026-03-08T07:30:00Z" },
		{ "America/New_York", "0 1 * * *", "2026-10-31T12:00:00Z",
		  "2026-11-01T05:00:00Z" },
		{ "America/New_York", "0 1 * * *", "2026-11-01T05:00:00Z",
		  "2026-11-02T06:00:00Z" },
		/* Lord Howe's half-hour shift: 02:00 -> 02:30 on Oct 4 */
		{ "Australia/Lord_Howe", "15 2 * * *", "2026-10-03T00:00:00Z",
		  "2026-10-03T15:45:00Z" },
		{ "Australia/Lord_Howe", "45 2 * * *", "2026-10-03T00:00:00Z",
		  "2026-10-03T15:45:00Z" },
	};
	struct sched_zone *z;
	struct sched_cron *c;
	char *err = NULL, got[TIME_FMTLEN];
	size_t i;
	int64_t n;

	if (!have_tzdata())
		return;
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		z = sched_zone_load(cases[i].zone, &err);
		c = sched_cron_parse(cases[i].expr, &err);
		CHECK(z != NULL && c != NULL);
		if (z == NULL || c == NULL)
			continue;
		n = sched_cron_next(c, z, T(cases[i].after), NULL, NULL);
		time_format(n, got, sizeof got);
		if (n != T(cases[i].want))
			fprintf(stderr, "%s %s after %s\n", cases[i].zone,
			    cases[i].expr, cases[i].after);
		CHECK_STR(got, cases[i].want);
		sched_cron_free(c);
		sched_zone_free(z);
	}
}

/* ---- manifests ----------------------------------------------------------- */

static struct sched_set *
load(const char *yaml, struct diags *d, struct mdoc ***docs, size_t *n)
{
	struct sched_opts o = { "http://prometheus:9090" };
	struct sched_set *set = sched_set_new();
	size_t i;

	diag_init(d);
	*docs = NULL;
	*n = 0;
	if (conf_parse_text("t.yaml", yaml, strlen(yaml), docs, n, d) == 0)
		for (i = 0; i < *n; i++)
			sched_set_add(set, (*docs)[i], &o, d);
	return set;
}

static void
unload(struct sched_set *set, struct diags *d, struct mdoc **docs, size_t n)
{
	size_t i;

	sched_set_free(set);
	diag_free(d);
	for (i = 0; i < n; i++)
		mdoc_free(docs[i]);
	free(docs);
}

#define HEAD	"apiVersion: argoproj.io/v1alpha1\nkind: EventSource\n" \
		"metadata: {name: timers}\nspec:\n"

TEST(compile_errors)
{
	static const struct {
		const char	*yaml, *msg;
		int		 line;
	} cases[] = {
		{ HEAD "  calendar:\n    c: {schedule: \"61 * * * *\"}\n",
		  "calendar c: cron minute field \"61\"", 6 },
		{ HEAD "  calendar:\n    c:\n      interval: 10m\n"
		  "      timezone: Mars/Base\n", "unknown time zone", 8 },
		{ HEAD "  calendar:\n    c:\n      interval: 500ms\n",
		  "at least 1s", 7 },
		{ HEAD "  calendar:\n    c:\n      interval: 1h\n"
		  "      exclusionDates: [\"2026-02-30\"]\n",
		  "exclusion date \"2026-02-30\"", 8 },
		{ HEAD "  calendar:\n    c:\n      interval: 1h\n"
		  "      exclusionDates: [\"EXDATE:20261225\"]\n",
		  "exclusion date", 8 },
		{ HEAD "  prometheus:\n    p: {query: up, condition: "
		  "\"=> 1\"}\n",
		  "\"=> 1\" is not a comparison", 6 },
		{ HEAD "  prometheus:\n    p: {query: up, url: \"ftp://x\"}\n",
		  "url must start with http", 6 },
		{ HEAD "  prometheus:\n    p: {query: up, repeat: 5m}\n",
		  "repeat needs a condition", 6 },
		{ HEAD "  prometheus:\n    p: {query: up, interval: 0s}\n",
		  "at least 1s", 6 },
	};
	struct sched_set *set;
	struct diags d;
	struct mdoc **docs;
	size_t n, i;

	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		set = load(cases[i].yaml, &d, &docs, &n);
		CHECK_INT(sched_set_count(set), 0);
		CHECK(d.errors >= 1);
		if (d.n >= 1 && strstr(d.v[0].msg, cases[i].msg) == NULL)
			fprintf(stderr, "case %zu: %s\n", i, d.v[0].msg);
		CHECK(d.n >= 1 && strstr(d.v[0].msg, cases[i].msg) != NULL);
		CHECK(d.n >= 1 && d.v[0].line == cases[i].line);
		unload(set, &d, docs, n);
	}
}

struct sink {
	struct event	 v[16];
	size_t		 n;
};

/* Takes the event's members, as the daemon's emit would. */
static void
take(void *ctx, struct event *ev)
{
	struct sink *s = ctx;

	if (s->n < UTIL_ARRAY_LEN(s->v)) {
		s->v[s->n++] = *ev;
		ev->id = NULL;
		ev->data = NULL;
		ev->subject.kind = ev->subject.namespace = ev->subject.name =
		    NULL;
	}
}

static void
sink_clear(struct sink *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		event_clear(&s->v[i]);
	s->n = 0;
}

static const char *
body_str(const struct event *ev, const char *a, const char *b)
{
	json_t *v = json_object_get(json_object_get(ev->data, "body"), a);

	return json_string_value(b ? json_object_get(v, b) : v);
}

TEST(calendar_fires)
{
	static const char yaml[] = HEAD
	    "  calendar:\n"
	    "    nightly:\n"
	    "      schedule: \"0 10 * * *\"\n"
	    "      timezone: Europe/Paris\n"
	    "      exclusionDates: [\"2026-11-26\", "
	    "\"EXDATE:20261127T000000Z,20261128T000000Z\"]\n"
	    "      metadata: {team: sre}\n"
	    "      userPayload: {k: [1]}\n"
	    "    tick:\n"
	    "      interval: 1h\n"
	    "      exclusionDates: [\"2026-11-26T00:00:00Z\"]\n";
	struct sched_set *set;
	struct sched_source *cal, *tick;
	struct diags d;
	struct mdoc **docs;
	struct sink out = { .n = 0 };
	size_t n;
	char *dump;

	if (!have_tzdata())
		return;
	set = load(yaml, &d, &docs, &n);
	CHECK_INT(d.errors, 0);
	CHECK_INT(sched_set_count(set), 2);
	cal = sched_set_get(set, 0);
	tick = sched_set_get(set, 1);
	if (cal == NULL || tick == NULL)
		goto out;
	CHECK_INT(sched_source_kind(cal), SCHED_CALENDAR);
	CHECK_STR(sched_source_eventsource(cal), "timers");
	CHECK_STR(sched_source_name(cal), "nightly");
	sched_set_start(set, T("2026-11-25T08:00:00Z"));
	CHECK_INT(sched_source_due(cal), T("2026-11-25T09:00:00Z"));
	CHECK_INT(sched_source_due(tick), T("2026-11-25T09:00:00Z"));
	CHECK_INT(sched_set_next_due(set), T("2026-11-25T09:00:00Z"));
	/* not yet due */
	CHECK_INT(sched_calendar_fire(cal, T("2026-11-25T08:59:59Z"), take,
	    &out), 0);
	CHECK_INT(sched_calendar_fire(cal, T("2026-11-25T09:00:00.004Z"), take,
	    &out), 1);
	CHECK_INT(out.n, 1);
	CHECK_STR(out.v[0].type, "calendar");
	CHECK_STR(out.v[0].name, "nightly");
	CHECK_INT(out.v[0].time, T("2026-11-25T09:00:00Z"));
	dump = json_dumps(out.v[0].data, JSON_SORT_KEYS | JSON_COMPACT);
	CHECK_STR(dump, "{\"eventTime\":\"2026-11-25 10:00:00 +0100 CET\","
	    "\"metadata\":{\"team\":\"sre\"},\"userPayload\":{\"k\":[1]}}");
	free(dump);
	/* 26, 27 and 28 are excluded */
	CHECK_INT(sched_source_due(cal), T("2026-11-29T09:00:00Z"));
	/* the interval skips the excluded day */
	CHECK_INT(sched_next(tick, T("2026-11-25T23:30:00Z")),
	    T("2026-11-27T00:30:00Z"));
	/* fire times missed while busy collapse into the latest */
	CHECK_INT(sched_calendar_fire(tick, T("2026-11-25T12:10:00Z"), take,
	    &out), 1);
	CHECK_INT(out.n, 2);
	CHECK_INT(out.v[1].time, T("2026-11-25T12:00:00Z"));
	CHECK_STR(json_string_value(json_object_get(out.v[1].data,
	    "eventTime")), "2026-11-25 12:00:00 +0000 UTC");
	CHECK_INT(sched_source_due(tick), T("2026-11-25T13:10:00Z"));
	CHECK(strcmp(out.v[0].id, out.v[1].id) != 0);
	CHECK(sched_prom_query(cal) == NULL);
	sink_clear(&out);
out:
	unload(set, &d, docs, n);
}

static struct prom_result
answer(const char *json, int64_t at)
{
	struct prom_result r;
	char *err = NULL, *text = xasprintf("{\"status\":\"success\",\"data\":"
	    "{\"resultType\":\"vector\",\"result\":%s}}", json);
	char ts[32];
	size_t i;

	snprintf(ts, sizeof ts, "%lld.%03lld", (long long)(at / 1000),
	    (long long)(at % 1000));
	(void)ts;
	if (prom_parse(text, strlen(text), 200, &r, &err) == -1) {
		fprintf(stderr, "answer: %s\n", err);
		free(err);
	}
	for (i = 0; i < r.n; i++)
		r.v[i].time = at;
	free(text);
	return r;
}

#define SERIES(slo, v) "{\"metric\":{\"namespace\":\"shop\",\"deployment\":" \
	"\"checkout\",\"slo\":\"" slo "\"},\"value\":[0,\"" v "\"]}"

TEST(prometheus_edges)
{
	static const char yaml[] = HEAD
	    "  prometheus:\n"
	    "    budget:\n"
	    "      query: slo:budget\n"
	    "      interval: 1m\n"
	    "      condition: \"< 0.25\"\n"
	    "      metadata: {team: sre}\n"
	    "    nagging:\n"
	    "      query: slo:budget\n"
	    "      url: http://other:9090/\n"
	    "      condition: \"< 0.25\"\n"
	    "      repeat: 2m\n"
	    "    reading:\n"
	    "      query: up\n";
	struct sched_set *set;
	struct sched_source *b, *nag, *rd;
	struct diags d;
	struct mdoc **docs;
	struct sink out = { .n = 0 };
	struct prom_result r;
	size_t n;
	int64_t t0 = T("2026-11-25T10:00:00Z"), m = 60000;

	set = load(yaml, &d, &docs, &n);
	CHECK_INT(d.errors, 0);
	b = sched_set_get(set, 0);
	nag = sched_set_get(set, 1);
	rd = sched_set_get(set, 2);
	if (b == NULL || nag == NULL || rd == NULL)
		goto out;
	CHECK_STR(sched_prom_query(b), "slo:budget");
	CHECK_STR(sched_prom_url(b), "http://prometheus:9090");
	CHECK_STR(sched_prom_url(nag), "http://other:9090/");
	sched_set_start(set, t0);
	CHECK_INT(sched_source_due(b), t0);
	/* 1: a crosses, b does not */
	r = answer("[" SERIES("a", "0.2") "," SERIES("b", "0.3") "]", t0);
	CHECK_INT(sched_prom_feed(b, &r, t0, take, &out), 1);
	prom_result_clear(&r);
	CHECK_INT(sched_source_due(b), t0 + m);
	CHECK_STR(body_str(&out.v[0], "metric", "slo"), "a");
	CHECK(json_real_value(json_object_get(json_object_get(out.v[0].data,
	    "body"), "value")) == 0.2);
	CHECK_STR(body_str(&out.v[0], "timestamp", NULL),
	    "2026-11-25T10:00:00Z");
	CHECK_STR(body_str(&out.v[0], "query", NULL), "slo:budget");
	CHECK_STR(json_string_value(json_object_get(json_object_get(
	    out.v[0].data, "metadata"), "team")), "sre");
	CHECK_STR(out.v[0].type, "prometheus");
	CHECK_INT(out.v[0].time, t0);
	CHECK_STR(out.v[0].subject.kind, "Deployment");
	CHECK_STR(out.v[0].subject.name, "checkout");
	/* 2: a still crossing (quiet), b crosses */
	r = answer("[" SERIES("a", "0.1") "," SERIES("b", "0.2") "]", t0 + m);
	CHECK_INT(sched_prom_feed(b, &r, t0 + m, take, &out), 1);
	prom_result_clear(&r);
	CHECK_STR(body_str(&out.v[1], "metric", "slo"), "b");
	/* a failed query changes nothing */
	CHECK_INT(sched_prom_feed(b, NULL, t0 + 2 * m, take, &out), 0);
	CHECK_INT(sched_source_due(b), t0 + 3 * m);
	/* 3: a vanishes, b recovers: both re-armed */
	r = answer("[" SERIES("b", "0.5") "]", t0 + 3 * m);
	CHECK_INT(sched_prom_feed(b, &r, t0 + 3 * m, take, &out), 0);
	prom_result_clear(&r);
	/* 4: both cross again; NaN never does */
	r = answer("[" SERIES("a", "0.1") "," SERIES("b", "0.1") ","
	    SERIES("c", "NaN") "]", t0 + 4 * m);
	CHECK_INT(sched_prom_feed(b, &r, t0 + 4 * m, take, &out), 2);
	prom_result_clear(&r);
	CHECK(strcmp(out.v[0].id, out.v[2].id) != 0);
	sink_clear(&out);
	/* repeat: every 2m while crossing */
	r = answer("[" SERIES("a", "0.1") "]", t0);
	CHECK_INT(sched_prom_feed(nag, &r, t0, take, &out), 1);
	CHECK_INT(sched_prom_feed(nag, &r, t0 + m, take, &out), 0);
	CHECK_INT(sched_prom_feed(nag, &r, t0 + 2 * m, take, &out), 1);
	CHECK_INT(sched_prom_feed(nag, &r, t0 + 3 * m, take, &out), 0);
	prom_result_clear(&r);
	sink_clear(&out);
	/* no condition: every sample, every time; NaN as a string */
	r = answer("[" SERIES("a", "NaN") "," SERIES("b", "1") "]", t0);
	CHECK_INT(sched_prom_feed(rd, &r, t0, take, &out), 2);
	CHECK_INT(sched_prom_feed(rd, &r, t0 + m, take, &out), 2);
	prom_result_clear(&r);
	CHECK_STR(body_str(&out.v[0], "value", NULL), "NaN");
	CHECK_INT(sched_source_due(rd), t0 + 2 * m);
	/* a calendar call on a prometheus source does nothing */
	CHECK_INT(sched_calendar_fire(rd, t0 + 9 * m, take, &out), 0);
	CHECK_INT(sched_next(rd, t0), -1);
	sink_clear(&out);
out:
	unload(set, &d, docs, n);
}

/* The fuzz corpus' cron and TZif inputs (selectors 5 and 6). */
TEST(fuzz_corpus_replay)
{
	const char *dir = getenv("WEBHOOK_CORPUS_DIR");
	struct sched_zone *utc;
	struct dirent *de;
	DIR *dp;
	char *err = NULL;
	int ran = 0;

	if (dir == NULL)
		dir = "fuzz/corpus/webhook";
	if ((dp = opendir(dir)) == NULL) {
		fprintf(stderr, "fuzz corpus not found in %s\n", dir);
		CHECK(!"fuzz corpus present");
		return;
	}
	utc = sched_zone_load("UTC", &err);
	while ((de = readdir(dp)) != NULL) {
		char path[4096], *text;
		struct sched_cron *c;
		struct sched_zone *z;
		size_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if ((text = util_read_file(path, 1 << 20, &len, &err)) ==
		    NULL || len == 0) {
			free(err);
			err = NULL;
			free(text);
			continue;
		}
		if ((text[0] & 7) == 5) {
			ran++;
			if ((c = sched_cron_parse(text + 1, &err)) != NULL) {
				sched_cron_next(c, utc, 1795600800000LL, NULL,
				    NULL);
				sched_cron_free(c);
			} else {
				CHECK(err != NULL);
				free(err);
				err = NULL;
			}
		} else if ((text[0] & 7) == 6) {
			ran++;
			z = sched_zone_parse("fuzz", (unsigned char *)text + 1,
			    len - 1, &err);
			if (z != NULL)
				sched_zone_offset(z, 1795600800LL, NULL, 0);
			else {
				CHECK(err != NULL);
				free(err);
				err = NULL;
			}
			sched_zone_free(z);
		}
		free(text);
	}
	closedir(dp);
	sched_zone_free(utc);
	printf("fuzz corpus: %d schedule inputs replayed\n", ran);
	CHECK(ran >= 10);
}

int
main(void)
{
	RUN(cron_parse_errors);
	RUN(cron_next_utc);
	RUN(zones_agree_with_libc);
	RUN(zone_abbreviations_and_names);
	RUN(posix_footers);
	RUN(truncated_tzif_never_crashes);
	RUN(cron_in_time_zones_and_dst);
	RUN(compile_errors);
	RUN(calendar_fires);
	RUN(prometheus_edges);
	RUN(fuzz_corpus_replay);
	return harness_done();
}
