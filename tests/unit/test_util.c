#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "testtime.h"
#include "util/cron.h"
#include "util/gofmt.h"
#include "util/retry.h"
#include "util/secret.h"
#include "util/semver.h"
#include "util/tz.h"
#include "util/util.h"

TEST(durations)
{
	int64_t ms;

	CHECK(duration_parse("5m", &ms) == 0 && ms == 300000);
	CHECK(duration_parse("1h30m", &ms) == 0 && ms == 5400000);
	CHECK(duration_parse("250ms", &ms) == 0 && ms == 250);
	/* ages (--retain, --since): days too, never negative */
	CHECK(duration_parse_age("7d", &ms) == 0 && ms == 7 * 86400000LL);
	CHECK(duration_parse_age("90m", &ms) == 0 && ms == 5400000);
	CHECK(duration_parse_age("-5m", &ms) == -1);
	CHECK(duration_parse_age("100001d", &ms) == -1);
	CHECK(duration_parse_age("xd", &ms) == -1);
	CHECK(duration_parse("1.5h", &ms) == 0 && ms == 5400000);
	CHECK(duration_parse("0", &ms) == 0 && ms == 0);
	CHECK(duration_parse("5", &ms) == -1);
	CHECK(duration_parse("5x", &ms) == -1);
	CHECK(duration_parse("", &ms) == -1);
	CHECK(duration_parse("m", &ms) == -1);
}

/*
 * The fencing clock reads CLOCK_BOOTTIME.  On a machine never suspended
 * that equals CLOCK_MONOTONIC, so this catches a wrong clock only where
 * the two differ; what it always catches is a clock in other units or
 * from another origin (the epoch).
 */
TEST(boottime_clock_reads_time_since_boot)
{
	struct clock c;
	struct timespec a, b;
	int64_t now, lo, hi;

	clock_boottime(&c);
	clock_gettime(CLOCK_BOOTTIME, &a);
	now = clock_now(&c);
	clock_gettime(CLOCK_BOOTTIME, &b);
	lo = (int64_t)a.tv_sec * 1000 + a.tv_nsec / 1000000;
	hi = (int64_t)b.tv_sec * 1000 + b.tv_nsec / 1000000;
	CHECK(lo <= now && now <= hi);
}

/* Data-driven cases live in tests/util/ (run from the repository root). */
#define DATA "tests/util/"

static json_t *
load_json(const char *path)
{
	json_error_t e;
	json_t *v = json_load_file(path, JSON_DECODE_ANY | JSON_ALLOW_NUL,
	    &e);

	if (v == NULL)
		fprintf(stderr, "%s:%d: %s\n", path, e.line, e.text);
	return v;
}

/* Go durations: cases in tests/util/durations.json. */
TEST(go_durations)
{
	json_t *d = load_json(DATA "durations.json"), *c, *ns, *ms;
	char out[DURATION_FMTLEN];
	const char *s;
	int64_t v, ns_back;
	size_t i;

	CHECK(d != NULL);
	json_array_foreach(json_object_get(d, "parse"), i, c) {
		s = json_string_value(json_array_get(c, 0));
		ns = json_array_get(c, 1);
		ms = json_array_get(c, 2);
		if (json_is_null(ns)) {
			CHECK(duration_parse_ns(s, &v) == -1);
			CHECK(duration_parse(s, &v) == -1);
			continue;
		}
		CHECK(duration_parse_ns(s, &v) == 0);
		CHECK_INT(v, json_integer_value(ns));
		CHECK(duration_parse(s, &v) == 0);
		CHECK_INT(v, json_integer_value(ms));
	}
	json_array_foreach(json_object_get(d, "format"), i, c) {
		v = json_integer_value(json_array_get(c, 0));
		duration_format_ns(v, out, sizeof out);
		CHECK_STR(out, json_string_value(json_array_get(c, 1)));
		/* what Go prints, Go reads back */
		CHECK(duration_parse_ns(out, &ns_back) == 0 && ns_back == v);
	}
	/* the length is the string's: a NUL inside is not a duration */
	CHECK(duration_parsen_ns("5m\0" "1s", 5, &v) == -1);
	CHECK(duration_parsen_ns("5m1s", 2, &v) == 0 && v == 300000000000LL);
	json_decref(d);
}

/* Go's StdEncoding: cases in tests/util/base64.json. */
TEST(base64)
{
	json_t *d = load_json(DATA "base64.json"), *c, *in, *want;
	struct buf b;
	size_t i, at;

	CHECK(d != NULL);
	json_array_foreach(json_object_get(d, "encode"), i, c) {
		in = json_array_get(c, 0);
		buf_init(&b, 0);
		base64_encode(&b, json_string_value(in),
		    json_string_length(in));
		CHECK_STR(b.data ? b.data : "", json_string_value(
		    json_array_get(c, 1)));
		buf_free(&b);
	}
	json_array_foreach(json_object_get(d, "decode"), i, c) {
		in = json_array_get(c, 0);
		want = json_array_get(c, 1);
		buf_init(&b, 0);
		if (json_is_integer(want)) {
			CHECK(base64_decode(&b, json_string_value(in),
			    json_string_length(in), &at) == -1);
			CHECK_INT(at, json_integer_value(want));
		} else {
			CHECK(base64_decode(&b, json_string_value(in),
			    json_string_length(in), &at) == 0);
			CHECK_INT(b.len, json_string_length(want));
			CHECK(memcmp(b.data ? b.data : "", json_string_value(
			    want), b.len) == 0);
		}
		buf_free(&b);
	}
	json_decref(d);
}

/* Whether every version in xs compares with every one in ys as want. */
static int
all_compare(json_t *xs, json_t *ys, int want)
{
	struct semver a, b;
	json_t *x, *y;
	size_t i, j;
	const char *s, *t;

	json_array_foreach(xs, i, x) json_array_foreach(ys, j, y) {
		s = json_string_value(x);
		t = json_string_value(y);
		if (semver_parse(s, strlen(s), &a) != 0 ||
		    semver_parse(t, strlen(t), &b) != 0 ||
		    semver_cmp(&a, &b) != want) {
			fprintf(stderr, "%s vs %s: not %d\n", s, t, want);
			return 0;
		}
	}
	return 1;
}

/* Semantic versions: cases in tests/util/semver.json. */
TEST(semantic_versions)
{
	json_t *d = load_json(DATA "semver.json"), *c, *ord;
	struct semver v;
	size_t i, k;
	const char *s;

	CHECK(d != NULL);
	json_array_foreach(json_object_get(d, "valid"), i, c) {
		s = json_string_value(c);
		CHECK(semver_parse(s, strlen(s), &v) == 0);
	}
	json_array_foreach(json_object_get(d, "invalid"), i, c) {
		s = json_string_value(c);
		CHECK(semver_parse(s, strlen(s), &v) == -1);
	}
	/* every pair from the list compares as their places do */
	ord = json_object_get(d, "ordered");
	for (i = 0; i < json_array_size(ord); i++)
		for (k = 0; k < json_array_size(ord); k++)
			CHECK(all_compare(json_array_get(ord, i),
			    json_array_get(ord, k), i < k ? -1 : i > k));
	json_decref(d);
}

TEST(duration_format_round_trips)
{
	char s[32];
	int64_t ms;

	duration_format(5400000, s, sizeof s);
	CHECK_STR(s, "1h30m");
	CHECK(duration_parse(s, &ms) == 0 && ms == 5400000);
	duration_format(250, s, sizeof s);
	CHECK_STR(s, "250ms");
	duration_format(0, s, sizeof s);
	CHECK_STR(s, "0s");
}

TEST(calendar)
{
	/* dates and their day numbers, as Python's datetime counts them */
	static const struct {
		int64_t y;
		int m, d;
		int64_t days;
	} dates[] = {
		{ 1970, 1, 1, 0 },
		{ 1969, 12, 31, -1 },
		{ 2000, 2, 29, 11016 },
		{ 2000, 3, 1, 11017 },
		{ 1900, 3, 1, -25508 },
		{ 1600, 2, 29, -135081 },
		{ 1, 1, 1, -719162 },
		{ 9999, 12, 31, 2932896 },
		{ 2026, 11, 25, 20782 },
	};
	static const struct {
		int64_t y;
		int m, n;
	} months[] = {
		{ 2023, 2, 28 }, { 2024, 2, 29 }, { 1900, 2, 28 },
		{ 2000, 2, 29 }, { 2023, 4, 30 }, { 2023, 12, 31 },
		{ -4, 2, 29 }, { -100, 2, 28 },
	};
	size_t i;
	int64_t z, y;
	int m, d, bad = 0;

	for (i = 0; i < UTIL_ARRAY_LEN(dates); i++) {
		CHECK_INT(time_days_from_civil(dates[i].y, dates[i].m,
		    dates[i].d), dates[i].days);
		time_civil_from_days(dates[i].days, &y, &m, &d);
		CHECK(y == dates[i].y && m == dates[i].m && d == dates[i].d);
	}
	for (i = 0; i < UTIL_ARRAY_LEN(months); i++)
		CHECK_INT(time_days_in_month(months[i].y, months[i].m),
		    months[i].n);
	/* every day of 4000 years on either side reads back, in order */
	for (z = -1500000; z <= 1500000; z++) {
		time_civil_from_days(z, &y, &m, &d);
		if (time_days_from_civil(y, m, d) != z || d < 1 ||
		    d > time_days_in_month(y, m))
			bad++;
	}
	CHECK_INT(bad, 0);
}

/*
 * time_format writes its digits itself: the C library's gmtime_r and
 * snprintf are the reference, across negative times, leap days, the
 * ends of the four-digit years and buffers too short for the whole text.
 */
TEST(time_format_against_libc)
{
	static const int64_t fixed[] = {
		0, 1, 999, 1000, -1, -999, -1000, -1001, 951782400000LL,
		951868799999LL, 4107542399999LL, 253402300799999LL,
		253402300800000LL, -62167219200000LL, -62167219200001LL,
		1796083200000LL, 1796083200500LL,
	};
	char got[TIME_FMTLEN], want[64], shortbuf[12];
	uint64_t x = 88172645463325252ULL;
	int64_t ms;
	time_t secs;
	struct tm tm;
	size_t i;
	int frac;

	for (i = 0; i < UTIL_ARRAY_LEN(fixed) + 20000; i++) {
		if (i < UTIL_ARRAY_LEN(fixed))
			ms = fixed[i];
		else {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* within +-10,000 years of 1970 */
			ms = (int64_t)(x % 631152000000000ULL) -
			    315576000000000LL;
			if (i % 3 == 0)
				ms -= ms % 1000;
		}
		secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
		frac = (int)(ms - (int64_t)secs * 1000);
		gmtime_r(&secs, &tm);
		if (frac)
			snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:"
			    "%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
			    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
		else
			snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:"
			    "%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
			    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		time_format(ms, got, sizeof got);
		if (strcmp(got, want) != 0) {
			fprintf(stderr, "time_format(%lld)\n", (long long)ms);
			CHECK_STR(got, want);
			break;
		}
		time_format(ms, shortbuf, sizeof shortbuf);
		CHECK(strncmp(shortbuf, want, sizeof shortbuf - 1) == 0 &&
		    shortbuf[sizeof shortbuf - 1] == '\0');
	}
}

TEST(rfc3339)
{
	int64_t ms;
	char s[TIME_FMTLEN];

	CHECK(time_parse("1970-01-01T00:00:00Z", &ms) == 0 && ms == 0);
	CHECK(time_parse("2026-11-25T10:00:00Z", &ms) == 0);
	time_format(ms, s, sizeof s);
	CHECK_STR(s, "2026-11-25T10:00:00Z");
	CHECK(time_parse("2026-11-25T11:00:00.5+01:00", &ms) == 0);
	time_format(ms, s, sizeof s);
	CHECK_STR(s, "2026-11-25T10:00:00.500Z");
	CHECK(time_parse("2026-13-25T10:00:00Z", &ms) == -1);
	CHECK(time_parse("2026-11-25", &ms) == -1);
	CHECK(time_parse("2026-11-25T10:00:00", &ms) == -1);
	CHECK(time_parse("2026-11-25T10:00:00Zjunk", &ms) == -1);
}

TEST(buf_respects_max)
{
	struct buf b;

	buf_init(&b, 4);
	CHECK(buf_adds(&b, "ab") == 0);
	CHECK(buf_adds(&b, "cdef") == -1);
	CHECK(b.overflow);
	CHECK_STR(b.data, "abcd");
	buf_free(&b);
}

TEST(suggest_and_glob)
{
	static const char *const f[] = { "threshold", "cooldown", "budget" };

	CHECK_STR(util_suggest("treshold", f, 3), "threshold");
	CHECK_STR(util_suggest("cooldwn", f, 3), "cooldown");
	CHECK(util_suggest("zzzzzzzz", f, 3) == NULL);
	CHECK(util_glob("bump-memory-*", "bump-memory-abcde"));
	CHECK(!util_glob("bump-memory-*", "bump-cpu-x"));
	CHECK(util_glob("a?c*", "abcdef"));
	CHECK(util_glob("*", ""));
}

TEST(parse_int)
{
	long long v;

	CHECK(util_parse_int("42", &v) == 0 && v == 42);
	CHECK(util_parse_int("42x", &v) == -1);
	CHECK(util_parse_int("", &v) == -1);
	CHECK_INT(util_hex_digit('0'), 0);
	CHECK_INT(util_hex_digit('f'), 15);
	CHECK_INT(util_hex_digit('A'), 10);
	CHECK_INT(util_hex_digit('g'), -1);
	CHECK_INT(util_hex_digit(0), -1);
	CHECK(util_parse_int("99999999999999999999", &v) == -1);
}

TEST(memfind)
{
	static const char h[] = "abcab\0c";

	CHECK(util_memfind(h, 7, "ab", 2) == h);
	CHECK(util_memfind(h + 1, 6, "ab", 2) == h + 3);
	CHECK(util_memfind(h, 7, "\0c", 2) == h + 5);	/* bytes, not C text */
	CHECK(util_memfind(h, 7, "", 0) == h);
	CHECK(util_memfind(h, 3, "ca", 2) == NULL);	/* not past hn */
	CHECK(util_memfind(h, 2, "abc", 3) == NULL);
	CHECK(util_memfind(h, 0, "a", 1) == NULL);
}

TEST(utf8_decoding)
{
	/* bytes, the code point read (-1: invalid) and its length */
	static const struct {
		const char *s;
		long r;
		size_t len;
	} cases[] = {
		{ "a", 'a', 1 },
		{ "\xc3\xa9", 0xe9, 2 },
		{ "\xe2\x80\xa8", 0x2028, 3 },
		{ "\xf0\x9f\x98\x80", 0x1f600, 4 },
		{ "\xf4\x8f\xbf\xbf", 0x10ffff, 4 },
		{ "\xff", -1, 1 },			/* never a lead byte */
		{ "\x80", -1, 1 },			/* continuation */
		{ "\xc3", -1, 1 },			/* truncated */
		{ "\xe2\x80", -1, 1 },
		{ "\xc3(", -1, 1 },			/* not a continuation */
		{ "\xc0\xaf", -1, 1 },			/* overlong '/' */
		{ "\xe0\x80\xaf", -1, 1 },
		{ "\xed\xa0\x80", -1, 1 },		/* a surrogate */
		{ "\xf4\x90\x80\x80", -1, 1 },		/* > U+10FFFF */
		{ "\xf8\x88\x80\x80\x80", -1, 1 },	/* 5 bytes */
	};
	size_t i, len;
	char out[4];

	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		CHECK_INT(utf8_decode(cases[i].s, strlen(cases[i].s), &len),
		    cases[i].r);
		CHECK_INT(len, cases[i].len);
		if (cases[i].r >= 0) {
			CHECK_INT(utf8_encode((uint32_t)cases[i].r, out),
			    cases[i].len);
			CHECK(memcmp(out, cases[i].s, len) == 0);
		}
	}
	/* utf8_next: a bad byte is U+FFFD and one byte long */
	i = 0;
	CHECK_INT(utf8_next("\xff" "a", 2, &i), 0xfffd);
	CHECK_INT(i, 1);
	CHECK_INT(utf8_next("\xff" "a", 2, &i), 'a');
	CHECK_INT(i, 2);
}

/* ---- gofmt: cases in tests/util/gofmt.json ------------------------------- */

/* The flags named in s ("html indent"). */
static int
gofmt_flags(const char *s)
{
	int f = 0;

	f |= strstr(s, "html") ? GOFMT_HTML : 0;
	f |= strstr(s, "indent") ? GOFMT_INDENT : 0;
	f |= strstr(s, "keep") ? GOFMT_KEEP_ORDER : 0;
	f |= strstr(s, "hexbf") ? GOFMT_HEX_BF : 0;
	return f;
}

TEST(gofmt_floats)
{
	static const enum gofmt_float modes[] = { GOFMT_V, GOFMT_F,
	    GOFMT_JSON, GOFMT_F32 };
	json_t *d = load_json(DATA "gofmt.json"), *c;
	struct buf b;
	size_t i, m;
	double v;

	CHECK(d != NULL);
	json_array_foreach(json_object_get(d, "floats"), i, c) {
		v = strtod(json_string_value(json_array_get(c, 0)), NULL);
		for (m = 0; m < UTIL_ARRAY_LEN(modes); m++) {
			json_t *want = json_array_get(c, m + 1);
			int rc;

			buf_init(&b, 0);
			rc = gofmt_float(&b, v, modes[m]);
			if (json_is_null(want)) {
				CHECK(rc == -1 && b.len == 0);
			} else {
				CHECK(rc == 0);
				CHECK_STR(b.data, json_string_value(want));
			}
			buf_free(&b);
		}
	}
	json_decref(d);
}

TEST(gofmt_values)
{
	json_t *d = load_json(DATA "gofmt.json"), *c, *want;
	const char *flags;
	struct buf b;
	size_t i;

	CHECK(d != NULL);
	json_array_foreach(json_object_get(d, "values"), i, c) {
		json_t *in = json_object_get(c, "in");

		buf_init(&b, 0);
		gofmt_sprint(&b, in);
		CHECK_STR(b.data, json_string_value(json_object_get(c,
		    "sprint")));
		json_object_foreach(json_object_get(c, "json"), flags, want) {
			buf_reset(&b);
			CHECK(gofmt_json(&b, in, gofmt_flags(flags)) == 0);
			CHECK_STR(b.data, json_string_value(want));
		}
		buf_free(&b);
	}
	json_array_foreach(json_object_get(d, "equal"), i, c) {
		json_t *x = json_array_get(c, 0), *y = json_array_get(c, 1);
		int eq = json_is_true(json_array_get(c, 2));

		CHECK_INT(gofmt_equal(x, y), eq);
		CHECK_INT(gofmt_equal(y, x), eq);
	}
	json_array_foreach(json_object_get(d, "parse"), i, c) {
		double v, w;
		int rc;

		want = json_array_get(c, 1);
		rc = gofmt_parse_float(json_string_value(json_array_get(c, 0)),
		    &v);
		if (json_is_string(want)) {
			w = strtod(json_string_value(want), NULL);
			CHECK(rc == 0 && (v == w || (isnan(v) && isnan(w))));
		} else if (json_is_null(want)) {
			CHECK(rc == -1 && v == 0);
		} else {
			w = strtod(json_string_value(json_object_get(want,
			    "range")), NULL);
			CHECK(rc == -1 && v == w);
		}
	}
	json_array_foreach(json_object_get(d, "quote"), i, c) {
		want = json_array_get(c, 0);
		buf_init(&b, 0);
		gofmt_quote(&b, json_string_value(want),
		    json_string_length(want));
		CHECK_STR(b.data, json_string_value(json_array_get(c, 1)));
		buf_free(&b);
	}
	json_decref(d);
}

/* What JSON text cannot hold: bad UTF-8, a bounded buf, deep nesting. */
TEST(gofmt_edges)
{
	json_t *v = json_stringn_nocheck("a\xff" "b\xe2\x80", 5), *deep;
	struct buf b;
	int i;

	buf_init(&b, 0);
	CHECK(gofmt_json(&b, v, 0) == 0);
	CHECK_STR(b.data, "\"a\\ufffdb\\ufffd\\ufffd\"");
	buf_reset(&b);
	gofmt_quote(&b, json_string_value(v), 5);
	CHECK_STR(b.data, "\"a\\xffb\\xe2\\x80\"");
	buf_free(&b);
	json_decref(v);

	v = json_pack("{s:[i,i,i]}", "k", 1, 2, 3);
	buf_init(&b, 8);
	CHECK(gofmt_json(&b, v, 0) == -1 && b.overflow);
	buf_free(&b);
	json_decref(v);

	deep = v = json_array();
	for (i = 0; i < GOFMT_MAX_DEPTH + 1; i++) {
		json_t *in = json_array();

		json_array_append_new(v, in);
		v = in;
	}
	buf_init(&b, 0);
	CHECK(gofmt_json(&b, deep, 0) == -1);
	buf_reset(&b);
	gofmt_sprint(&b, deep);
	CHECK(strstr(b.data, "[...]") != NULL);
	buf_free(&b);
	json_decref(deep);
}

/* ---- retries ----------------------------------------------------------- */

TEST(retry_policy)
{
	struct retry r;
	json_t *j;
	char *err = NULL;

	retry_default(&r);
	CHECK_INT(r.steps, 5);
	CHECK_INT(retry_delay(&r, 1, 0.5), 0);
	CHECK_INT(retry_delay(&r, 2, 0.0), 500);
	CHECK_INT(retry_delay(&r, 3, 0.0), 1000);
	CHECK_INT(retry_delay(&r, 4, 0.0), 2000);
	CHECK_INT(retry_delay(&r, 2, 0.5), 550);
	CHECK_INT(retry_delay(&r, 40, 0.9), 30000);

	j = json_loads("{\"steps\":3,\"duration\":\"2s\",\"factor\":1.5,"
	    "\"jitter\":\"0.1\"}", 0, NULL);
	CHECK_INT(retry_from_json(j, &r, &err), 0);
	CHECK_INT(r.steps, 3);
	CHECK_INT(r.duration_ms, 2000);
	CHECK(r.factor == 1.5 && r.jitter > 0.099 && r.jitter < 0.101);
	CHECK_INT(retry_delay(&r, 3, 0.0), 3000);
	json_decref(j);
	j = json_loads("{\"duration\":250000000}", 0, NULL);
	CHECK_INT(retry_from_json(j, &r, &err), 0);
	CHECK_INT(r.duration_ms, 250);
	json_decref(j);
	j = json_loads("{\"steps\":0}", 0, NULL);
	CHECK_INT(retry_from_json(j, &r, &err), -1);
	CHECK(err && strstr(err, "steps"));
	free(err);
	json_decref(j);
	j = json_loads("{\"factor\":0.5}", 0, NULL);
	CHECK_INT(retry_from_json(j, &r, &err), -1);
	free(err);
	json_decref(j);
	j = json_loads("{\"duration\":\"soon\"}", 0, NULL);
	CHECK_INT(retry_from_json(j, &r, &err), -1);
	free(err);
	json_decref(j);
}

/* A gate that lets `open` more asks through, then refuses. */
static int gate_open, gate_asked;
static char gate_why[] = "closed for the test";

static const char *
countdown_gate(void *ctx)
{
	gate_asked++;
	if (gate_open > 0) {
		gate_open--;
		return NULL;
	}
	return (const char *)ctx;
}

TEST(retry_gate_ends_a_wait)
{
	atomic_int stop = 0;

	/* no gate: every attempt may go, and a short wait is waited out */
	retry_gate_on(NULL, NULL);
	CHECK(retry_gate_closed() == NULL);
	CHECK_INT(retry_wait(1, NULL), 0);
	/* a gate that closes during the wait ends it: a 10-minute wait
	   that did not end would hang the test, not pass it */
	gate_open = 3;
	gate_asked = 0;
	retry_gate_on(countdown_gate, gate_why);
	CHECK_INT(retry_wait(600000, NULL), -1);
	CHECK_INT(gate_asked, 4);
	CHECK_STR(retry_gate_closed(), "closed for the test");
	/* the gate is this thread's until cleared */
	retry_gate_on(NULL, NULL);
	CHECK(retry_gate_closed() == NULL);
	/* stop ends it too */
	atomic_store(&stop, 1);
	CHECK_INT(retry_wait(600000, &stop), -1);
}

/* ---- time zones and cron (util/tz.c, util/cron.c) -------------------- */

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
		/* robfig's day of week is 0-6: 7 is not Sunday */
		{ "* * * * 7", "(0-6 or SUN-SAT)" },
		{ "0 0 * * 5-7", "day of week field" },
		{ "5-1 * * * *", "minute field" },
		{ "*/0 * * * *", "minute field" },
		{ "* * * FOO *", "or JAN-DEC" },
		{ "* * * * MONDAY", "or SUN-SAT" },
		{ "1,,2 * * * *", "minute field" },
		{ "1- * * * *", "minute field" },
		{ "0000000010 * * * *", "minute field" },
		{ "1-2-3 * * * *", "minute field" },
		{ "1/2/3 * * * *", "minute field" },
		{ "*/x * * * *", "minute field" },
		{ "", "fewer than five fields" },
		{ "@every", "not a cron descriptor" },
		{ "@every  ", "at least 1s" },
		{ "@every 500ms", "at least 1s" },
		{ "@every x", "at least 1s" },
		{ "@fortnightly", "not a cron descriptor" },
	};
	struct cron *c;
	char *err;
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		err = NULL;
		c = cron_parse(cases[i].text, &err);
		CHECK(c == NULL);
		cron_free(c);
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
		{ "0 0 * * 0", "2026-01-01T00:00:00Z",
		  "2026-01-04T00:00:00Z" },
		{ "0 0 * * 5-6", "2026-01-03T00:00:00Z",
		  "2026-01-09T00:00:00Z" },
		/* robfig: ? anywhere is *, numbers may have leading zeros */
		{ "? * * * *", "2026-01-01T10:00:30Z",
		  "2026-01-01T10:01:00Z" },
		{ "0010 * * * *", "2026-01-01T10:00:00Z",
		  "2026-01-01T10:10:00Z" },
		/* a step over 1 is no star: either day field (the 5th) */
		{ "0 0 */2 * FRI", "2026-01-03T12:00:00Z",
		  "2026-01-05T00:00:00Z" },
		/* a step of 1, or a list holding a star: both must match */
		{ "0 0 */1 * MON", "2026-01-03T12:00:00Z",
		  "2026-01-05T00:00:00Z" },
		{ "0 0 13,* * FRI", "2026-01-03T12:00:00Z",
		  "2026-01-09T00:00:00Z" },
		{ "0 0 13 * 5", "2026-03-01T00:00:00Z",
		  "2026-03-06T00:00:00Z" },
		{ "0 0 1 jan *", "2026-03-01T00:00:00Z",
		  "2027-01-01T00:00:00Z" },
		{ "*/15 * * * *", "2026-03-01T10:07:00Z",
		  "2026-03-01T10:15:00Z" },
		{ " 0\t0  * * *\n", "2026-03-02T00:00:00Z",
		  "2026-03-03T00:00:00Z" },
		{ "@every  2m", "2026-01-01T00:00:00Z",
		  "2026-01-01T00:02:00Z" },
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
	struct tz *utc;
	struct cron *c;
	char *err = NULL, got[TIME_FMTLEN];
	size_t i;
	int64_t n;

	utc = tz_load("UTC", &err);
	CHECK(utc != NULL);
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		c = cron_parse(cases[i].expr, &err);
		CHECK(c != NULL);
		if (c == NULL) {
			fprintf(stderr, "%s: %s\n", cases[i].expr, err);
			free(err);
			continue;
		}
		n = cron_next(c, utc, test_ms(cases[i].after), NULL, NULL);
		if (cases[i].want == NULL) {
			CHECK_INT(n, -1);
		} else {
			time_format(n, got, sizeof got);
			if (n != test_ms(cases[i].want))
				fprintf(stderr, "%s after %s\n", cases[i].expr,
				    cases[i].after);
			CHECK_STR(got, cases[i].want);
		}
		cron_free(c);
	}
	tz_free(utc);
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
	struct tz *z;
	char *err = NULL, abbr[16];
	size_t i;
	int64_t t;
	int bad = 0, checked = 0;
	uint64_t r = 12345;

	if (!test_have_tzdata()) {
		fprintf(stderr, "no tzdata: skipped\n");
		return;
	}
	for (i = 0; i < UTIL_ARRAY_LEN(zones); i++) {
		z = tz_load(zones[i], &err);
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
			if (tz_offset(z, u, abbr, sizeof abbr) !=
			    libc_offset(zones[i], (time_t)u)) {
				if (bad++ < 5)
					fprintf(stderr, "%s at %lld: %d vs "
					    "%ld\n", zones[i], (long long)u,
					    tz_offset(z, u, NULL, 0),
					    libc_offset(zones[i], (time_t)u));
			}
			checked++;
		}
		tz_free(z);
	}
	unsetenv("TZ");
	tzset();
	CHECK_INT(bad, 0);
	CHECK_INT(checked, 48000);
}

TEST(zone_abbreviations_and_names)
{
	struct tz *z;
	char *err = NULL, abbr[16];

	if (!test_have_tzdata())
		return;
	z = tz_load("Europe/Paris", &err);
	CHECK(z != NULL);
	if (z == NULL)
		return;
	CHECK_INT(tz_offset(z, test_ms("2026-01-15T00:00:00Z") / 1000, abbr,
	    sizeof abbr), 3600);
	CHECK_STR(abbr, "CET");
	CHECK_INT(tz_offset(z, test_ms("2040-07-15T00:00:00Z") / 1000, abbr,
	    sizeof abbr), 7200);
	CHECK_STR(abbr, "CEST");
	CHECK_STR(tz_name(z), "Europe/Paris");
	tz_free(z);
	CHECK(tz_load("Mars/Olympus", &err) == NULL);
	CHECK(err != NULL && strstr(err, "unknown time zone") != NULL);
	free(err);
	CHECK(tz_load("../../etc/passwd", &err) == NULL);
	CHECK(err != NULL && strstr(err, "not an IANA") != NULL);
	free(err);
	CHECK(tz_load("/etc/localtime", &err) == NULL);
	free(err);
	z = tz_load("", &err);
	CHECK(z != NULL && tz_offset(z, 0, abbr, sizeof abbr) == 0);
	CHECK_STR(abbr, "UTC");
	tz_free(z);
}

TEST(zone_offsets)
{
	static const struct {
		const char	*zone, *when;
		int		 off;
	} cases[] = {
		{ "UTC", "2026-07-01T12:00:00Z", 0 },
		{ "Europe/Paris", "2026-07-01T12:00:00Z", 7200 },
		{ "Europe/Paris", "2026-01-15T12:00:00Z", 3600 },
		/* the switch at 01:00 UTC, last Sunday of March and October */
		{ "Europe/Paris", "2026-03-29T00:59:59Z", 3600 },
		{ "Europe/Paris", "2026-03-29T01:00:00Z", 7200 },
		{ "Europe/Paris", "2026-10-25T00:59:59Z", 7200 },
		{ "Europe/Paris", "2026-10-25T01:00:00Z", 3600 },
		{ "America/New_York", "2026-07-01T12:00:00Z", -14400 },
		{ "America/New_York", "2026-12-01T12:00:00Z", -18000 },
		{ "Australia/Sydney", "2026-01-15T12:00:00Z", 39600 },
		{ "Australia/Sydney", "2026-07-15T12:00:00Z", 36000 },
		{ "Asia/Kolkata", "2026-07-01T12:00:00Z", 19800 },
		/* past every transition in the file: the footer rule */
		{ "Europe/Paris", "2150-07-01T12:00:00Z", 7200 },
		{ "America/New_York", "2150-01-01T12:00:00Z", -18000 },
	};
	struct tz *z;
	char *err = NULL, abbr[16];
	size_t i;

	if (!test_have_tzdata()) {
		fprintf(stderr, "no tzdata: skipped\n");
		return;
	}
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		z = tz_load(cases[i].zone, &err);
		CHECK(z != NULL);
		if (z == NULL) {
			fprintf(stderr, "%s: %s\n", cases[i].zone, err);
			free(err);
			continue;
		}
		if (tz_offset(z, test_ms(cases[i].when) / 1000, NULL, 0) !=
		    cases[i].off)
			fprintf(stderr, "%s at %s\n", cases[i].zone,
			    cases[i].when);
		CHECK_INT(tz_offset(z, test_ms(cases[i].when) / 1000, NULL, 0),
		    cases[i].off);
		tz_free(z);
	}
	/* no zone is UTC, for callers whose timezone is optional */
	CHECK_INT(tz_offset(NULL, 12345, abbr, sizeof abbr), 0);
	CHECK_STR(abbr, "UTC");
	CHECK_STR(tz_name(NULL), "UTC");
	/* Go's "Local": /etc/localtime, or UTC without one */
	z = tz_load("Local", &err);
	CHECK(z != NULL);
	CHECK_STR(z ? tz_name(z) : NULL, "Local");
	tz_free(z);
	CHECK(tz_load("../etc/passwd", &err) == NULL);
	free(err);
	CHECK(tz_load("Europe//Paris", &err) == NULL);
	free(err);
	CHECK(tz_load("No/Such_Zone", &err) == NULL);
	CHECK(err && strstr(err, "unknown time zone \"No/Such_Zone\""));
	free(err);
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
		/* second Sunday of March 2031 is the 9th; 02:00 EST = 07:00Z */
		{ "EST5EDT,M3.2.0,M11.1.0", "2031-03-09T06:59:59Z", -18000,
		  "EST" },
		{ "EST5EDT,M3.2.0,M11.1.0", "2031-03-09T07:00:00Z", -14400,
		  "EDT" },
		/* first Sunday of November 2031 is the 2nd; 02:00 EDT = 06Z */
		{ "EST5EDT,M3.2.0,M11.1.0", "2031-11-02T05:59:59Z", -14400,
		  "EDT" },
		{ "EST5EDT,M3.2.0,M11.1.0", "2031-11-02T06:00:00Z", -18000,
		  "EST" },
		/* no rules: the US rules of old POSIX, as glibc */
		{ "EST5EDT", "2031-07-01T00:00:00Z", -14400, "EDT" },
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
		{ "AEST-10AEDT,M10.1.0,M4.1.0/3", "2040-01-10T00:00:00Z",
		  39600, "AEDT" },
		{ "AEST-10AEDT,M10.1.0,M4.1.0/3", "2040-06-10T00:00:00Z",
		  36000, "AEST" },
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
	struct tz *z;
	char *err = NULL, abbr[16];
	size_t i, n;

	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		n = tzif_footer(buf, cases[i].footer, 0);
		z = tz_parse("t", buf, n, &err);
		CHECK(z != NULL);
		if (z == NULL) {
			fprintf(stderr, "%s: %s\n", cases[i].footer, err);
			free(err);
			continue;
		}
		CHECK_INT(tz_offset(z, test_ms(cases[i].at) / 1000, abbr,
		    sizeof abbr), cases[i].off);
		CHECK_STR(abbr, cases[i].abbr);
		tz_free(z);
	}
	for (i = 0; i < UTIL_ARRAY_LEN(bad); i++) {
		n = tzif_footer(buf, bad[i], 0);
		CHECK(tz_parse("t", buf, n, &err) == NULL);
		free(err);
	}
}

TEST(truncated_tzif_never_crashes)
{
	char *text, *err = NULL;
	size_t len, cut;
	struct tz *z;
	int ok = 0;

	if (!test_have_tzdata())
		return;
	text = util_read_file("/usr/share/zoneinfo/America/New_York", 1 << 20,
	    &len, &err);
	CHECK(text != NULL);
	if (text == NULL)
		return;
	for (cut = 0; cut <= len; cut++) {
		z = tz_parse("t", (unsigned char *)text, cut, &err);
		if (z != NULL) {
			tz_offset(z, 0, NULL, 0);
			tz_offset(z, 4000000000LL, NULL, 0);
			ok++;
		} else
			free(err);
		tz_free(z);
	}
	/* flipped bytes */
	for (cut = 0; cut < len; cut += 7) {
		text[cut] = (char)~text[cut];
		z = tz_parse("t", (unsigned char *)text, len, &err);
		if (z != NULL)
			tz_offset(z, 1700000000, NULL, 0);
		else
			free(err);
		tz_free(z);
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
		{ "America/Los_Angeles", "59 23 * * *", "2026-07-01T00:00:00Z",
		  "2026-07-01T06:59:00Z" },
		/*
		 * spring forward, Paris 2026-03-29 01:00Z: 02:xx is gone, so
		 * 02:30 does not fire that day (robfig/cron skips it)
		 */
		{ "Europe/Paris", "30 2 * * *", "2026-03-28T12:00:00Z",
		  "2026-03-30T00:30:00Z" },
		{ "Europe/Paris", "30 2 * * *", "2026-03-29T01:30:00Z",
		  "2026-03-30T00:30:00Z" },
		{ "Europe/Paris", "*/30 * * * *", "2026-03-29T00:30:00Z",
		  "2026-03-29T01:00:00Z" },
		{ "Europe/Paris", "30 2,3 * * *", "2026-03-29T00:00:00Z",
		  "2026-03-29T01:30:00Z" },
		{ "Europe/Paris", "30 2,3 * * *", "2026-03-29T01:30:00Z",
		  "2026-03-30T00:30:00Z" },
		/*
		 * fall back, Paris 2026-10-25 01:00Z: 02:xx happens twice,
		 * and 02:30 fires twice (robfig/cron runs it in each pass)
		 */
		{ "Europe/Paris", "30 2 * * *", "2026-10-24T12:00:00Z",
		  "2026-10-25T00:30:00Z" },
		{ "Europe/Paris", "30 2 * * *", "2026-10-25T00:30:00Z",
		  "2026-10-25T01:30:00Z" },
		{ "Europe/Paris", "30 2 * * *", "2026-10-25T01:30:00Z",
		  "2026-10-26T01:30:00Z" },
		{ "Europe/Paris", "30 * * * *", "2026-10-25T00:30:00Z",
		  "2026-10-25T01:30:00Z" },
		{ "Europe/Paris", "30 * * * *", "2026-10-25T01:30:00Z",
		  "2026-10-25T02:30:00Z" },
		/* New York: 2026-03-08 07:00Z and 2026-11-01 06:00Z */
		{ "America/New_York", "30 2 * * *", "2026-03-07T12:00:00Z",
		  "2026-03-09T06:30:00Z" },
		{ "America/New_York", "0 1 * * *", "2026-10-31T12:00:00Z",
		  "2026-11-01T05:00:00Z" },
		{ "America/New_York", "0 1 * * *", "2026-11-01T05:00:00Z",
		  "2026-11-01T06:00:00Z" },
		{ "America/New_York", "0 1 * * *", "2026-11-01T06:00:00Z",
		  "2026-11-02T06:00:00Z" },
		/* Lord Howe's half-hour shift: 02:00 -> 02:30 on Oct 4 */
		{ "Australia/Lord_Howe", "15 2 * * *", "2026-10-03T00:00:00Z",
		  "2026-10-04T15:15:00Z" },
		{ "Australia/Lord_Howe", "45 2 * * *", "2026-10-03T00:00:00Z",
		  "2026-10-03T15:45:00Z" },
		/*
		 * robfig/cron's own daylight-saving cases (spec_test.go),
		 * New York 2012: 03-11 07:00Z (02:00 EST -> 03:00 EDT) and
		 * 11-04 06:00Z (02:00 EDT -> 01:00 EST)
		 */
		{ "America/New_York", "0 * * * *", "2012-03-11T05:00:00Z",
		  "2012-03-11T06:00:00Z" },
		{ "America/New_York", "0 * * * *", "2012-03-11T06:00:00Z",
		  "2012-03-11T07:00:00Z" },	/* 03:00 EDT */
		{ "America/New_York", "0 * * * *", "2012-03-11T07:00:00Z",
		  "2012-03-11T08:00:00Z" },
		{ "America/New_York", "0 1 * * *", "2012-03-11T06:00:00Z",
		  "2012-03-12T05:00:00Z" },
		/* 2am nightly job (skipped) */
		{ "America/New_York", "0 2 * * *", "2012-03-11T05:00:00Z",
		  "2012-03-12T06:00:00Z" },
		{ "America/New_York", "30 2 4 11 *", "2012-11-04T04:00:00Z",
		  "2012-11-04T07:30:00Z" },
		{ "America/New_York", "30 1 4 11 *", "2012-11-04T05:45:00Z",
		  "2012-11-04T06:30:00Z" },
		{ "America/New_York", "0 * * * *", "2012-11-04T04:00:00Z",
		  "2012-11-04T05:00:00Z" },
		{ "America/New_York", "0 * * * *", "2012-11-04T05:00:00Z",
		  "2012-11-04T06:00:00Z" },	/* 01:00 EST */
		{ "America/New_York", "0 * * * *", "2012-11-04T06:00:00Z",
		  "2012-11-04T07:00:00Z" },
		/* 1am nightly job (runs twice) */
		{ "America/New_York", "0 1 * * *", "2012-11-04T04:00:00Z",
		  "2012-11-04T05:00:00Z" },
		{ "America/New_York", "0 1 * * *", "2012-11-04T05:00:00Z",
		  "2012-11-04T06:00:00Z" },
		{ "America/New_York", "0 1 * * *", "2012-11-04T06:00:00Z",
		  "2012-11-05T06:00:00Z" },
		{ "America/New_York", "0 2 * * *", "2012-11-04T04:00:00Z",
		  "2012-11-04T07:00:00Z" },
		{ "America/New_York", "0 2 * * *", "2012-11-04T07:00:00Z",
		  "2012-11-05T07:00:00Z" },
		{ "America/New_York", "0 3 * * *", "2012-11-04T04:00:00Z",
		  "2012-11-04T08:00:00Z" },
		/* an exclusion-free @every counts real time through both */
		{ "Europe/Paris", "@every 1h", "2026-10-25T00:30:00Z",
		  "2026-10-25T01:30:00Z" },
	};
	struct tz *z;
	struct cron *c;
	char *err = NULL, got[TIME_FMTLEN];
	size_t i;
	int64_t n;

	if (!test_have_tzdata())
		return;
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		z = tz_load(cases[i].zone, &err);
		c = cron_parse(cases[i].expr, &err);
		CHECK(z != NULL && c != NULL);
		if (z == NULL || c == NULL)
			continue;
		n = cron_next(c, z, test_ms(cases[i].after), NULL, NULL);
		time_format(n, got, sizeof got);
		if (n != test_ms(cases[i].want))
			fprintf(stderr, "%s %s after %s\n", cases[i].zone,
			    cases[i].expr, cases[i].after);
		CHECK_STR(got, cases[i].want);
		cron_free(c);
		tz_free(z);
	}
}

/* The fuzz corpus' cron and TZif inputs (selectors 5 and 6). */
TEST(fuzz_corpus_replay)
{
	const char *dir = getenv("WEBHOOK_CORPUS_DIR");
	struct tz *utc;
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
	utc = tz_load("UTC", &err);
	while ((de = readdir(dp)) != NULL) {
		char path[4096], *text;
		struct cron *c;
		struct tz *z;
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
			if ((c = cron_parse(text + 1, &err)) != NULL) {
				cron_next(c, utc, 1795600800000LL, NULL,
				    NULL);
				cron_free(c);
			} else {
				CHECK(err != NULL);
				free(err);
				err = NULL;
			}
		} else if ((text[0] & 7) == 6) {
			ran++;
			z = tz_parse("fuzz", (unsigned char *)text + 1,
			    len - 1, &err);
			if (z != NULL)
				tz_offset(z, 1795600800LL, NULL, 0);
			else {
				CHECK(err != NULL);
				free(err);
				err = NULL;
			}
			tz_free(z);
		}
		free(text);
	}
	closedir(dp);
	tz_free(utc);
	printf("fuzz corpus: %d cron and TZif inputs replayed\n", ran);
	CHECK(ran >= 10);
}

/* ---- secrets (util/secret.c) ------------------------------------------- */

static char tmpdir[64];

/* Writes n bytes of text to tmpdir/name; returns the owned path. */
static char *
write_tmpn(const char *name, const char *text, size_t n)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");

	if (f) {
		fwrite(text, 1, n, f);
		fclose(f);
	}
	return path;
}

static char *
write_tmp(const char *name, const char *text)
{
	return write_tmpn(name, text, strlen(text));
}

TEST(secrets_from_files_env_and_mounted_secrets)
{
	struct secret s;
	char *path = write_tmp("tok", "s3cr3t\n"), *v, *err = NULL;
	json_t *ref;
	char dir[128];

	ref = json_pack("{s:s}", "file", path);
	CHECK(secret_compile(ref, NULL, &s, &err) == 0);
	v = secret_read(&s, &err);
	CHECK_STR(v, "s3cr3t");	/* trailing newline dropped */
	secret_free(v);
	json_decref(ref);
	secret_clear(&s);
	/* a Secret mounted at DIR/NAME/KEY, in both spellings */
	snprintf(dir, sizeof dir, "%s/hook", tmpdir);
	mkdir(dir, 0700);
	free(write_tmp("hook/url", "https://hooks.example/T0/B0/x"));
	ref = json_pack("{s:{s:s, s:s}}", "secretKeyRef", "name", "hook",
	    "key", "url");
	CHECK(secret_compile(ref, tmpdir, &s, &err) == 0);
	v = secret_read(&s, &err);
	CHECK_STR(v, "https://hooks.example/T0/B0/x");
	secret_free(v);
	secret_clear(&s);
	json_decref(ref);
	ref = json_pack("{s:s, s:s}", "name", "hook", "key", "url");
	CHECK(secret_compile(ref, tmpdir, &s, &err) == 0);
	{
		json_t *got = secret_json(&s);
		char *want = xasprintf("%s/hook/url", tmpdir);

		CHECK_STR(json_string_value(json_object_get(got, "file")),
		    want);
		json_decref(got);
		free(want);
	}
	secret_clear(&s);
	json_decref(ref);
	/* environment */
	setenv("NOTIFY_TEST_TOKEN", "from-env", 1);
	ref = json_pack("{s:s}", "env", "NOTIFY_TEST_TOKEN");
	CHECK(secret_compile(ref, NULL, &s, &err) == 0);
	v = secret_read(&s, &err);
	CHECK_STR(v, "from-env");
	secret_free(v);
	unsetenv("NOTIFY_TEST_TOKEN");
	CHECK(secret_read(&s, &err) == NULL);
	CHECK_STR(err, "environment variable NOTIFY_TEST_TOKEN is not set");
	free(err);
	secret_clear(&s);
	json_decref(ref);
	free(path);
}

TEST(secrets_refused)
{
	struct secret s;
	char *path, *err = NULL;
	json_t *ref;

	/* a path out of the mounted directory */
	ref = json_pack("{s:s, s:s}", "name", "..", "key", "passwd");
	CHECK(secret_compile(ref, NULL, &s, &err) == -1);
	CHECK_STR(err, "secret \"..\" key \"passwd\" is not a Kubernetes "
	    "Secret name and key");
	free(err);
	json_decref(ref);
	ref = json_pack("{s:s}", "value", "inline");
	CHECK(secret_compile(ref, NULL, &s, &err) == -1);
	free(err);
	json_decref(ref);
	/* two lines would inject a header: refused, and not quoted */
	path = write_tmp("two", "Bearer x\r\nX-Evil: 1\n");
	ref = json_pack("{s:s}", "file", path);
	CHECK(secret_compile(ref, NULL, &s, &err) == 0);
	CHECK(secret_read(&s, &err) == NULL);
	CHECK(err && strstr(err, "more than one line") != NULL);
	CHECK(err && strstr(err, "Evil") == NULL);
	free(err);
	secret_clear(&s);
	json_decref(ref);
	free(path);
}


/* What a file holds -> the secret read as one line, or the error. */
TEST(secret_values_as_argo_reads_them)
{
	static const struct {
		const char	*text;
		size_t		 len;
		const char	*one, *pem, *err;
	} cases[] = {
		{ "s3cr3t\n", 7, "s3cr3t", "s3cr3t", NULL },
		{ "s3cr3t", 6, "s3cr3t", "s3cr3t", NULL },
		/* Argo drops one "\n", no more: these are other values */
		{ "s3cr3t\n\n", 8, NULL, "s3cr3t\n", "more than one line" },
		{ "s3cr3t\r\n", 8, NULL, "s3cr3t\r", "more than one line" },
		{ "a\nb\n", 4, NULL, "a\nb", "more than one line" },
		{ "\n", 1, NULL, NULL, "is empty" },
		{ "", 0, NULL, NULL, "is empty" },
		{ "a\0b", 3, NULL, NULL, "is not text" },
	};
	struct secret s;
	char *path, *v, *err = NULL;
	json_t *ref;
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		path = write_tmpn("v", cases[i].text, cases[i].len);
		ref = json_pack("{s:s}", "file", path);
		CHECK(secret_compile(ref, NULL, &s, &err) == 0);
		v = secret_read(&s, &err);
		CHECK_STR(v, cases[i].one);
		if (cases[i].err != NULL) {
			CHECK(err != NULL && strstr(err, cases[i].err));
			/* where, never what */
			CHECK(err != NULL && strstr(err, path) != NULL &&
			    strstr(err, "s3cr3t") == NULL);
		}
		free(err);
		err = NULL;
		secret_free(v);
		v = secret_read_pem(&s, &err);
		CHECK_STR(v, cases[i].pem);
		free(err);
		err = NULL;
		secret_free(v);
		secret_clear(&s);
		json_decref(ref);
		free(path);
	}
}

TEST(secret_size_limit)
{
	char *big = xmalloc(SECRET_MAX + 2), *path, *v, *err = NULL;
	struct secret s;
	json_t *ref;

	memset(big, 'x', SECRET_MAX + 1);
	big[SECRET_MAX + 1] = '\0';
	/* SECRET_MAX bytes are a secret ... */
	path = write_tmpn("big", big, SECRET_MAX);
	ref = json_pack("{s:s}", "file", path);
	CHECK(secret_compile(ref, NULL, &s, &err) == 0);
	v = secret_read(&s, &err);
	CHECK(v != NULL && strlen(v) == SECRET_MAX);
	secret_free(v);
	secret_clear(&s);
	json_decref(ref);
	free(path);
	/* ... one more is an error, from a file or the environment */
	path = write_tmpn("big", big, SECRET_MAX + 1);
	ref = json_pack("{s:s}", "file", path);
	CHECK(secret_compile(ref, NULL, &s, &err) == 0);
	CHECK(secret_read(&s, &err) == NULL);
	CHECK(err != NULL && strstr(err, "cannot be read") != NULL);
	free(err);
	secret_clear(&s);
	json_decref(ref);
	free(path);
	setenv("UTIL_TEST_BIG", big, 1);
	ref = json_pack("{s:s}", "env", "UTIL_TEST_BIG");
	CHECK(secret_compile(ref, NULL, &s, &err) == 0);
	CHECK(secret_read(&s, &err) == NULL);
	CHECK(err != NULL && strstr(err, "longer than 4096 bytes") != NULL);
	free(err);
	unsetenv("UTIL_TEST_BIG");
	secret_clear(&s);
	json_decref(ref);
	free(big);
	/* the default directory, and what no reference is */
	ref = json_pack("{s:s, s:s}", "name", "hook", "key", "url");
	CHECK(secret_compile(ref, NULL, &s, &err) == 0);
	CHECK_STR(s.path, SECRET_DIR "/hook/url");
	secret_clear(&s);
	json_decref(ref);
	CHECK(secret_read(&s, &err) == NULL);
	CHECK_STR(err, "no secret");
	free(err);
	CHECK(json_is_null(secret_json(&s)));
	secret_free(NULL);
}

/*
 * An empty file is the empty string.  The buffer's first byte used to be
 * left uninitialised, so the caller parsed whatever the allocator held.
 * Small chunks freed just before make that garbage likely visible without
 * valgrind (glibc hands one back with a heap pointer in its first bytes);
 * `make unit-valgrind` reports it every time.
 */
TEST(read_empty_file)
{
	char path[] = "/tmp/remediate-empty-XXXXXX";
	char *s, *junk[7], *err = NULL;
	size_t len = 99;
	int fd, i;

	fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	for (i = 0; i < 7; i++) {
		junk[i] = malloc(8);
		memset(junk[i], 'x', 8);
	}
	for (i = 0; i < 7; i++)
		free(junk[i]);
	s = util_read_file(path, 1024, &len, &err);
	CHECK(s != NULL && err == NULL);
	CHECK_INT(len, 0);
	CHECK(s && s[0] == '\0');
	free(s);
	unlink(path);
}

/*
 * Lines stream through a bounded buffer; a long one is skipped whole,
 * also across read-ahead chunks; offset says where each line starts.
 */
TEST(lines_bounded)
{
	FILE *f = tmpfile();
	struct util_lines r;
	struct buf b;
	int toolong, i;

	CHECK(f != NULL);
	if (f == NULL)
		return;
	fputs("short\n", f);
	for (i = 0; i < 3 * UTIL_LINES_CHUNK; i++)
		fputc('x', f);
	fputs("\nafter\nlast", f);
	fflush(f);
	CHECK_INT(lseek(fileno(f), 0, SEEK_SET), 0);
	util_lines_init(&r, fileno(f));
	buf_init(&b, 0);
	CHECK_INT(util_lines_next(&r, &b, 100, &toolong), 1);
	CHECK_STR(b.data, "short\n");
	CHECK_INT(toolong, 0);
	CHECK_INT(r.offset, 6);
	CHECK_INT(util_lines_next(&r, &b, 100, &toolong), 1);
	CHECK_INT(toolong, 1);
	CHECK_INT(b.len, 0);
	CHECK(b.cap <= 100 + 1);
	CHECK_INT(r.offset, 6 + 3 * UTIL_LINES_CHUNK + 1);
	CHECK_INT(util_lines_next(&r, &b, 100, &toolong), 1);
	CHECK_STR(b.data, "after\n");
	CHECK_INT(toolong, 0);
	CHECK_INT(util_lines_next(&r, &b, 100, &toolong), 1);
	CHECK_STR(b.data, "last");
	CHECK_INT(util_lines_next(&r, &b, 100, &toolong), 0);
	CHECK_INT(util_lines_next(&r, &b, 100, &toolong), 0);
	util_lines_free(&r);
	/* exactly max bytes is a line; one more is not */
	CHECK_INT(lseek(fileno(f), 0, SEEK_SET), 0);
	util_lines_init(&r, fileno(f));
	CHECK_INT(util_lines_next(&r, &b, 6, &toolong), 1);
	CHECK_INT(toolong, 0);
	CHECK_INT(util_lines_next(&r, &b, 10000, &toolong), 1);
	CHECK_INT(toolong, 1);
	util_lines_free(&r);
	buf_free(&b);
	fclose(f);
}

/* buf_add_int writes what printf's "%lld" writes, and keeps the buf's bound. */
TEST(buf_add_int_as_printf)
{
	static const long long v[] = { 0, 7, -7, 10, 137, -1000000,
	    LLONG_MAX, LLONG_MIN };
	char want[32], mem[4];
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; i < UTIL_ARRAY_LEN(v); i++) {
		buf_reset(&b);
		CHECK_INT(buf_add_int(&b, v[i]), 0);
		snprintf(want, sizeof want, "%lld", v[i]);
		CHECK_STR(b.data, want);
	}
	buf_free(&b);
	buf_init_on(&b, mem, sizeof mem);
	CHECK_INT(buf_add_int(&b, 123456), -1);
	CHECK(b.overflow);
	CHECK(b.len < sizeof mem && memcmp(b.data, "123456", b.len) == 0);
}

/* The hex writers print what printf's "%016llx" prints, in every digit. */
TEST(hex64_and_hash_id)
{
	static const uint64_t v[] = { 0, 1, 0xf, 0x10, 0xdeadbeefULL,
	    0x0123456789abcdefULL, 0xfedcba9876543210ULL, UINT64_MAX };
	char got[17], want[40], *id;
	uint64_t h2;
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(v); i++) {
		util_hex64(got, v[i]);
		snprintf(want, sizeof want, "%016llx", (unsigned long long)v[i]);
		CHECK_STR(got, want);
		id = util_hash_id(v[i], UTIL_HASH_SEED2);
		h2 = util_hash(&v[i], sizeof v[i], UTIL_HASH_SEED2);
		snprintf(want, sizeof want, "%016llx%016llx",
		    (unsigned long long)v[i], (unsigned long long)h2);
		CHECK_STR(id, want);
		free(id);
	}
}

/*
 * A line that spans read-ahead chunks is whole; NUL bytes are kept
 * (the JSON reader, not the line reader, refuses them); a line is
 * handed out as soon as a pipe has it, without waiting for more.
 */
TEST(lines_chunks_nul_and_pipe)
{
	FILE *f = tmpfile();
	struct util_lines r;
	struct buf b;
	int toolong, fds[2];
	size_t i, n = UTIL_LINES_CHUNK - 3;

	CHECK(f != NULL && pipe(fds) == 0);
	if (f == NULL)
		return;
	for (i = 0; i < n; i++)
		fputc('a', f);
	CHECK_INT(fwrite("\nbc\0d\n", 1, 6, f), 6);
	for (i = 0; i < UTIL_LINES_CHUNK + 10; i++)
		fputc('y', f);
	fputc('\n', f);
	fflush(f);
	CHECK_INT(lseek(fileno(f), 0, SEEK_SET), 0);
	util_lines_init(&r, fileno(f));
	buf_init(&b, 0);
	CHECK_INT(util_lines_next(&r, &b, 1 << 20, &toolong), 1);
	CHECK_INT(b.len, n + 1);
	CHECK_INT(util_lines_next(&r, &b, 1 << 20, &toolong), 1);
	CHECK_INT(b.len, 5);
	CHECK(memcmp(b.data, "bc\0d\n", 5) == 0);
	CHECK_INT(r.offset, n + 1 + 5);
	CHECK_INT(util_lines_next(&r, &b, 1 << 20, &toolong), 1);
	CHECK_INT(b.len, UTIL_LINES_CHUNK + 11);
	CHECK_INT(b.data[b.len - 1], '\n');
	CHECK_INT(b.data[UTIL_LINES_CHUNK], 'y');
	CHECK_INT(util_lines_next(&r, &b, 1 << 20, &toolong), 0);
	util_lines_free(&r);
	fclose(f);

	/* the writer keeps the pipe open: the first line must not wait */
	CHECK_INT(write(fds[1], "one\ntw", 6), 6);
	util_lines_init(&r, fds[0]);
	CHECK_INT(util_lines_next(&r, &b, 100, &toolong), 1);
	CHECK_STR(b.data, "one\n");
	CHECK_INT(write(fds[1], "o\n", 2), 2);
	close(fds[1]);
	CHECK_INT(util_lines_next(&r, &b, 100, &toolong), 1);
	CHECK_STR(b.data, "two\n");
	CHECK_INT(util_lines_next(&r, &b, 100, &toolong), 0);
	util_lines_free(&r);
	close(fds[0]);
	buf_free(&b);
}

/*
 * Slab slots: 8-aligned, distinct while live, reused by their own size
 * class once freed (not by another), large sizes from malloc; clear
 * frees every block (the sanitizer build checks nothing leaks).
 */
/* ---- jlist: a JSON list's items, one at a time -------------------------- */

struct got {
	json_t	*items;		/* each item handed, a copy */
	json_t	*heads;		/* its head's kind, or null */
	size_t	 bad_span;	/* items whose off/len text is not them */
	size_t	 lists;		/* values that were lists */
	const char *text;
};

static void
got_item(void *ctx, json_t *item, const json_t *head, size_t off,
    size_t len)
{
	struct got *g = ctx;
	json_t *again = json_loadb(g->text + off, len, JSON_DECODE_ANY, NULL);
	json_t *bare = json_deep_copy(item);

	/* the text at off/len is the item as written, before its kind */
	if (head && json_is_object(bare) && json_is_object(again)) {
		if (!json_object_get(again, "kind"))
			json_object_del(bare, "kind");
		if (!json_object_get(again, "apiVersion"))
			json_object_del(bare, "apiVersion");
	}
	if (again == NULL || !json_equal(again, bare))
		g->bad_span++;
	json_decref(again);
	json_decref(bare);
	json_array_append_new(g->items, json_deep_copy(item));
	json_array_append_new(g->heads, head ? json_deep_copy(json_object_get(
	    head, "kind")) : json_null());
}

/* Scans text to its end or an error; returns the last util_jlist_next. */
static int
scan_all(struct util_jlist *l, const char *text, int flags, struct got *g,
    json_t **lasthead)
{
	json_t *head;
	int rc;

	g->items = json_array();
	g->heads = json_array();
	g->bad_span = 0;
	g->lists = 0;
	g->text = text;
	*lasthead = NULL;
	util_jlist_init(l, text, strlen(text), flags);
	while ((rc = util_jlist_next(l, got_item, g, &head)) == 1) {
		g->lists += (size_t)l->list;
		json_decref(*lasthead);
		*lasthead = head;
	}
	return rc;
}

static void
got_free(struct got *g, json_t *head)
{
	json_decref(g->items);
	json_decref(g->heads);
	json_decref(head);
}

static const char *
item_str(struct got *g, size_t i, const char *key)
{
	json_t *it = json_array_get(g->items, i);

	if (strcmp(key, "name") == 0)
		return json_string_value(json_object_get(json_object_get(it,
		    "metadata"), "name"));
	return json_string_value(json_object_get(it, key));
}

TEST(jlist_items_one_at_a_time)
{
	static const char text[] = "{\"kind\":\"PodList\",\"apiVersion\":"
	    "\"v1\",\"metadata\":{\"resourceVersion\":\"7\"},\"items\":[\n"
	    "  {\"metadata\":{\"name\":\"a\"}},\n"
	    "  {\"kind\":\"Pod\",\"apiVersion\":\"v9\",\"metadata\":"
	    "{\"name\":\"b\"}}\n]}\n";
	struct util_jlist l;
	struct got g;
	json_t *head;

	CHECK_INT(scan_all(&l, text, 0, &g, &head), 0);
	REQUIRE(json_array_size(g.items) == 2);
	CHECK_STR(item_str(&g, 0, "name"), "a");
	/* an item without kind gets its list's, and its apiVersion */
	CHECK_STR(item_str(&g, 0, "kind"), "Pod");
	CHECK_STR(item_str(&g, 0, "apiVersion"), "v1");
	/* an item's own are kept */
	CHECK_STR(item_str(&g, 1, "apiVersion"), "v9");
	CHECK_INT(g.bad_span, 0);
	/* the head is the list without its items */
	REQUIRE(head != NULL);
	CHECK(json_object_get(head, "items") == NULL);
	CHECK_STR(json_string_value(json_object_get(json_object_get(head,
	    "metadata"), "resourceVersion")), "7");
	CHECK_STR(json_string_value(json_array_get(g.heads, 0)), "PodList");
	got_free(&g, head);
}

TEST(jlist_items_before_kind)
{
	/* kubectl sorts keys: "items" comes before "kind" */
	static const char sorted[] = "{\"apiVersion\":\"v1\",\"items\":["
	    "{\"metadata\":{\"name\":\"a\",\"x\":\"]}\\\"[{\"}}],"
	    "\"kind\":\"ReplicaSetList\",\"metadata\":{}}";
	static const char list[] = "{\"apiVersion\":\"v1\",\"items\":["
	    "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\"}},"
	    "{\"metadata\":{\"name\":\"nokind\"}}],\"kind\":\"List\"}";
	struct util_jlist l;
	struct got g;
	json_t *head;

	CHECK_INT(scan_all(&l, sorted, 0, &g, &head), 0);
	REQUIRE(json_array_size(g.items) == 1);
	CHECK_STR(item_str(&g, 0, "kind"), "ReplicaSet");
	CHECK_INT(g.bad_span, 0);
	CHECK(g.lists == 1 && head != NULL);
	got_free(&g, head);
	/* a List holds any kind: an item without one stays without */
	CHECK_INT(scan_all(&l, list, 0, &g, &head), 0);
	REQUIRE(json_array_size(g.items) == 2);
	CHECK_STR(item_str(&g, 0, "kind"), "Pod");
	CHECK(item_str(&g, 1, "kind") == NULL);
	got_free(&g, head);
}

TEST(jlist_empty_null_and_values_that_are_no_list)
{
	static const char many[] = "{\"kind\":\"Pod\",\"items\":[1],"
	    "\"metadata\":{\"name\":\"p\"}}\n"
	    "{\"items\":[2],\"kind\":\"Thing\"}\n"
	    "[1,2]\n\"s\" null\n"
	    "{\"kind\":\"PodList\",\"items\":[{\"metadata\":{\"name\":\"q\"}}]}";
	struct util_jlist l;
	struct got g;
	json_t *head;

	CHECK_INT(scan_all(&l, "", 0, &g, &head), 0);
	CHECK_INT(json_array_size(g.items), 0);
	got_free(&g, head);
	CHECK_INT(scan_all(&l, " \n\t ", 0, &g, &head), 0);
	CHECK_INT(json_array_size(g.items), 0);
	got_free(&g, head);
	/* items: null and [] are empty lists */
	CHECK_INT(scan_all(&l, "{\"kind\":\"PodList\",\"items\":null}", 0,
	    &g, &head), 0);
	CHECK(json_array_size(g.items) == 0 && g.lists == 1 && head);
	got_free(&g, head);
	CHECK_INT(scan_all(&l, "{\"items\":[ ],\"kind\":\"PodList\"}", 0,
	    &g, &head), 0);
	CHECK(json_array_size(g.items) == 0 && g.lists == 1 && head);
	got_free(&g, head);
	/* one value after the other (NDJSON); no list goes whole */
	CHECK_INT(scan_all(&l, many, 0, &g, &head), 0);
	REQUIRE(json_array_size(g.items) == 6);
	CHECK_INT(json_integer_value(json_array_get(json_object_get(
	    json_array_get(g.items, 0), "items"), 0)), 1);
	CHECK(json_is_null(json_array_get(g.heads, 0)));
	CHECK_STR(item_str(&g, 1, "kind"), "Thing");
	CHECK(json_is_array(json_array_get(g.items, 2)));
	CHECK(json_is_string(json_array_get(g.items, 3)));
	CHECK(json_is_null(json_array_get(g.items, 4)));
	CHECK_STR(item_str(&g, 5, "name"), "q");
	CHECK_STR(item_str(&g, 5, "kind"), "Pod");
	CHECK_INT(g.bad_span, 0);
	got_free(&g, head);
}

TEST(jlist_bad_text_says_where)
{
	static const char text[] = "{\"kind\":\"PodList\",\"items\":[\n"
	    "  {\"metadata\":{\"name\":\"a\"}},\n"
	    "  {\"metadata\": x}]}\n";
	struct util_jlist l;
	struct got g;
	json_t *head;
	int line, col;

	CHECK_INT(scan_all(&l, text, 0, &g, &head), -1);
	CHECK_INT(json_array_size(g.items), 1);	/* the one before it */
	util_jlist_where(&l, l.err_off, &line, &col);
	CHECK_INT(line, 3);
	CHECK_INT(col, 17);
	CHECK(l.err[0] != '\0');
	got_free(&g, head);
	/* duplicate keys, when jansson's flag asks */
	CHECK_INT(scan_all(&l, "{\"kind\":\"PodList\",\"kind\":\"X\","
	    "\"items\":[]}", JSON_REJECT_DUPLICATES, &g, &head), -1);
	CHECK(strstr(l.err, "duplicate") != NULL);
	got_free(&g, head);
	CHECK_INT(scan_all(&l, "{\"kind\":\"PodList\",\"items\":[{\"a\":1,"
	    "\"a\":2}]}", JSON_REJECT_DUPLICATES, &g, &head), -1);
	got_free(&g, head);
	/* items that are not an array */
	CHECK_INT(scan_all(&l, "{\"kind\":\"PodList\",\"items\":5}", 0, &g,
	    &head), -1);
	CHECK(strstr(l.err, "array") != NULL);
	got_free(&g, head);
	/* a key that is not a string */
	CHECK_INT(scan_all(&l, "{\"kind\":\"PodList\",items:[]}", 0, &g,
	    &head), -1);
	got_free(&g, head);
}

/* Every prefix and every one-byte change of a list: an error with a
 * place inside the text, or a value, never a crash (ASan, valgrind). */
TEST(jlist_truncated_and_corrupt_never_crash)
{
	static const char text[] = "{\"apiVersion\":\"v1\",\"items\":["
	    "{\"metadata\":{\"name\":\"a\",\"labels\":{\"k\":\"v\\\"]\"}}},"
	    "{\"metadata\":{\"name\":\"b\"},\"spec\":[1,2.5,true,null]}],"
	    "\"kind\":\"PodList\",\"metadata\":{\"continue\":\"\"}}";
	static const char subst[] = "}]\"{[,:x\\ 0";
	size_t n = strlen(text), k, s, bad = 0;
	struct util_jlist l;
	struct got g;
	json_t *head;
	char *t;
	int rc;

	for (k = 1; k < n; k++) {	/* 0: no text, nothing to say */
		t = xstrndup(text, k);
		rc = scan_all(&l, t, JSON_REJECT_DUPLICATES, &g, &head);
		/* a prefix is never a whole list */
		if (rc != -1 || l.err_off > k || l.err[0] == '\0') {
			fprintf(stderr, "prefix %zu: rc %d at %zu: %s\n", k,
			    rc, l.err_off, l.err);
			bad++;
		}
		CHECK(json_array_size(g.items) <= 2);
		got_free(&g, head);
		free(t);
	}
	CHECK_INT(bad, 0);
	t = xstrdup(text);
	for (k = 0; k < n; k++)
		for (s = 0; s < sizeof subst - 1; s++) {
			t[k] = subst[s];
			rc = scan_all(&l, t, JSON_REJECT_DUPLICATES, &g,
			    &head);
			CHECK(rc == 0 || (rc == -1 && l.err_off <= n &&
			    l.err[0] != '\0'));
			got_free(&g, head);
			t[k] = text[k];
		}
	free(t);
}

TEST(jlist_mapped_file)
{
	struct util_mapped m;
	struct util_jlist l;
	struct buf b;
	struct got g;
	json_t *head;
	char *path, *err;
	size_t i;
	int rc;

	/* enough items that the pages behind the scan are given back */
	buf_init(&b, 0);
	buf_adds(&b, "{\"apiVersion\":\"v1\",\"items\":[");
	for (i = 0; i < 100000; i++)
		buf_printf(&b, "%s{\"metadata\":{\"name\":\"p%zu\",\"pad\":"
		    "\"%0100zu\"}}", i ? ",\n" : "", i, i);
	buf_adds(&b, "],\"kind\":\"PodList\"}\n");
	path = write_tmpn("list.json", b.data, b.len);
	REQUIRE(util_map_file(&m, path, b.len, &err) == 0);
	CHECK(m.mapped == 1 && m.len == b.len);
	g.items = json_array();
	g.heads = json_array();
	g.bad_span = 0;
	g.text = m.text;
	util_jlist_init(&l, m.text, m.len, 0);
	l.mapped = m.mapped;
	rc = util_jlist_next(&l, got_item, &g, &head);
	CHECK_INT(rc, 1);
	CHECK_INT(json_array_size(g.items), 100000);
	CHECK(l.released > 0);
	CHECK_STR(item_str(&g, 99999, "name"), "p99999");
	CHECK_STR(item_str(&g, 99999, "kind"), "Pod");
	CHECK_INT(g.bad_span, 0);
	json_decref(head);
	CHECK_INT(util_jlist_next(&l, got_item, &g, &head), 0);
	got_free(&g, head);
	util_unmap_file(&m);
	/* over its limit: refused with a reason */
	CHECK_INT(util_map_file(&m, path, 10, &err), -1);
	CHECK(err && strstr(err, "limit"));
	free(err);
	CHECK_INT(util_map_file(&m, "/nonexistent/x", 10, &err), -1);
	free(err);
	free(path);
	buf_free(&b);
}

TEST(slab_reuses_slots_by_size)
{
	struct slab s = { 0 };
	char *a = slab_alloc(&s, 36), *b = slab_alloc(&s, 36), *c, *d, *big;
	char *many[3000];
	int i, ok = 1;

	CHECK(((uintptr_t)a & 7) == 0 && ((uintptr_t)b & 7) == 0);
	CHECK(b - a == 40);		/* 36 rounded to 8, no header */
	memset(a, 'a', 36);
	memset(b, 'b', 36);
	slab_free(&s, a, 36);
	c = slab_alloc(&s, 60);		/* another class: not a's slot */
	CHECK(c != a);
	d = slab_alloc(&s, 33);		/* a's class (40): a's slot */
	CHECK(d == a);
	CHECK(b[0] == 'b' && b[35] == 'b');
	big = slab_alloc(&s, SLAB_MAX + 1);	/* malloc's */
	memset(big, 0, SLAB_MAX + 1);
	slab_free(&s, big, SLAB_MAX + 1);
	for (i = 0; i < 3000; i++) {	/* several blocks */
		many[i] = slab_alloc(&s, 48);
		memset(many[i], i & 0xff, 48);
	}
	for (i = 0; i < 3000; i++)
		ok &= (unsigned char)many[i][47] == (i & 0xff);
	CHECK(ok);
	CHECK(s.bytes >= 3000 * 48);
	slab_free(&s, NULL, 8);		/* a no-op */
	slab_clear(&s);
	CHECK(s.blocks == NULL && s.bytes == 0);
}

/*
 * util_json_write prints what json_dumps prints, or refuses: -1;
 * util_json_copy copies as json_deep_copy does.
 */
TEST(json_writer_and_copy_match_jansson)
{
	static const char *const texts[] = {
		"{\"b\":1,\"a\":[true,false,null,-9223372036854775807,0],"
		    "\"c\":{\"z\":\"q\\\"\\\\\\n\\t\\u0001/\\u007f\","
		    "\"y\":{}},\"aa\":[],\"r\":0.1,\"e\":1e300}",
		"[\"x\",{\"k\":-1,\"j\":\"\\b\\f\\r\"}]",
		"\"\"",
	};
	static const size_t flags[] = { JSON_COMPACT, JSON_COMPACT |
	    JSON_SORT_KEYS, JSON_COMPACT | JSON_REAL_PRECISION(16) };
	json_t *v, *big = json_object();
	struct buf b;
	char *want, key[8];
	size_t i, k;

	buf_init(&b, 0);
	for (i = 0; i < UTIL_ARRAY_LEN(texts); i++) {
		v = json_loads(texts[i], JSON_DECODE_ANY, NULL);
		CHECK(v != NULL);
		if (v && json_is_object(v)) {	/* copies: json_deep_copy's */
			json_t *a = util_json_copy(v), *d = json_deep_copy(v);
			char *x = json_dumps(a, 0), *y = json_dumps(d, 0);

			CHECK(a != v && json_equal(a, v));
			CHECK(x && y && strcmp(x, y) == 0);
			json_object_set_new(a, "b", json_null());
			CHECK(json_integer_value(json_object_get(v, "b")) == 1);
			free(x);
			free(y);
			json_decref(a);
			json_decref(d);
		}
		for (k = 0; v && k < UTIL_ARRAY_LEN(flags); k++) {
			buf_reset(&b);
			want = json_dumps(v, flags[k] | JSON_ENCODE_ANY);
			CHECK(util_json_write(&b, v, flags[k]) == 0);
			CHECK(b.data && strcmp(b.data, want) == 0);
			free(want);
		}
		json_decref(v);
	}
	for (i = 0; i < 40; i++) {	/* more keys than sort on the stack */
		snprintf(key, sizeof key, "k%02zu", (i * 7) % 40);
		json_object_set_new(big, key, json_integer((json_int_t)i));
	}
	buf_reset(&b);
	want = json_dumps(big, JSON_COMPACT | JSON_SORT_KEYS);
	CHECK(util_json_write(&b, big, JSON_COMPACT | JSON_SORT_KEYS) == 0);
	CHECK(strcmp(b.data, want) == 0);
	free(want);
	json_decref(big);
	v = json_pack("{s:s}", "k", "caf\xc3\xa9");	/* jansson's own way */
	CHECK(util_json_write(&b, v, JSON_COMPACT) == -1);
	json_decref(v);
	v = json_stringn("a\0b", 3);
	CHECK(util_json_write(&b, v, JSON_COMPACT) == -1);
	json_decref(v);
	v = json_pack("{s:i}", "caf\xc3\xa9", 1);	/* keys too, sorted or not */
	CHECK(util_json_write(&b, v, JSON_COMPACT) == -1);
	CHECK(util_json_write(&b, v, JSON_COMPACT | JSON_SORT_KEYS) == -1);
	json_decref(v);
	buf_free(&b);
}

/*
 * util_json_str_ref: the string itself when it holds the text whole, a
 * new one when the text is cut at a NUL or is another's, null for NULL.
 */
TEST(json_str_ref_shares_only_the_same_text)
{
	json_t *v = json_string("argo"), *nul = json_stringn("a\0b", 3), *r;

	r = util_json_str_ref(v, json_string_value(v));
	CHECK(r == v);
	json_decref(r);
	r = util_json_str_ref(v, "argo");	/* equal text, not v's */
	CHECK(r != v && json_equal(r, v));
	json_decref(r);
	r = util_json_str_ref(nul, json_string_value(nul));
	CHECK(r != nul && json_string_length(r) == 1);
	json_decref(r);
	r = util_json_str_ref(NULL, "x");
	CHECK_STR(json_string_value(r), "x");
	json_decref(r);
	r = util_json_str_ref(v, NULL);
	CHECK(json_is_null(r));
	json_decref(r);
	CHECK(v->refcount == 1 && nul->refcount == 1);
	json_decref(v);
	json_decref(nul);
}

/* util_json_dumps gives json_dumps' text, or its NULL. */
TEST(json_dumps_matches_jansson)
{
	static const char *const texts[] = {
		"{\"b\":[1,2.5,null],\"a\":\"x\\\"y\"}",
		"[{\"caf\u00e9\":\"na\u00efve\"}]",	/* jansson writes it */
		"\"lone\"", "7", "null",
	};
	static const size_t flags[] = { JSON_COMPACT, JSON_COMPACT |
	    JSON_SORT_KEYS, JSON_COMPACT | JSON_ENCODE_ANY };
	json_t *v;
	char *got, *want;
	size_t i, k;

	for (i = 0; i < UTIL_ARRAY_LEN(texts); i++) {
		v = json_loads(texts[i], JSON_DECODE_ANY, NULL);
		REQUIRE(v != NULL);
		for (k = 0; k < UTIL_ARRAY_LEN(flags); k++) {
			got = util_json_dumps(v, flags[k]);
			want = json_dumps(v, flags[k]);
			CHECK((got == NULL) == (want == NULL));
			CHECK(got == NULL || strcmp(got, want) == 0);
			free(got);
			free(want);
		}
		json_decref(v);
	}
	/* a lone scalar is refused as json_dumps refuses it */
	v = json_integer(7);
	CHECK(util_json_dumps(v, JSON_COMPACT) == NULL);
	got = util_json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	CHECK(got && strcmp(got, "7") == 0);
	free(got);
	json_decref(v);
}

/* util_json_write(b, v, flags) == 0 and b holds json_dumps' text? */
static int
writes_as_jansson(json_t *v, size_t flags)
{
	struct buf b;
	char *want = json_dumps(v, flags | JSON_ENCODE_ANY);
	int ok;

	buf_init(&b, 0);
	ok = want && util_json_write(&b, v, flags) == 0 &&
	    strcmp(b.data, want) == 0 && b.len == strlen(want);
	free(want);
	buf_free(&b);
	return ok;
}

/*
 * Every byte that needs an escape (and the plain ones beside them) at
 * every place of strings 0..40 bytes long, as values, as keys, sorted and
 * not, and through util_json_str: jansson's text each time.
 */
TEST(json_writer_escapes_at_every_position)
{
	static const char special[] = "\"\\\b\f\n\r\t\x01\x1f\x7f/ ~";
	static const size_t flags[] = { JSON_COMPACT, JSON_COMPACT |
	    JSON_SORT_KEYS };
	char s[48], all[128];
	size_t len, at, e, k;
	int ok = 1;

	for (len = 0; len <= 40; len++)
		for (at = 0; at <= len; at++)
			for (e = 0; e < sizeof special - 1; e++) {
				json_t *v, *o;
				struct buf b;
				char *want;

				for (k = 0; k < len; k++)
					s[k] = (char)('a' + k % 26);
				if (at < len)
					s[at] = special[e];
				s[len] = '\0';
				v = json_stringn(s, len);
				o = json_object();
				json_object_setn(o, s, len, v);
				json_object_set_new(o, "m", json_integer(1));
				for (k = 0; k < UTIL_ARRAY_LEN(flags); k++)
					ok &= writes_as_jansson(v, flags[k]) &&
					    writes_as_jansson(o, flags[k]);
				buf_init(&b, 0);
				buf_adds(&b, "<");
				util_json_str(&b, s);
				want = json_dumps(v, JSON_ENCODE_ANY);
				ok &= b.data[0] == '<' &&
				    strcmp(b.data + 1, want) == 0;
				free(want);
				buf_free(&b);
				json_decref(v);
				json_decref(o);
			}
	CHECK(ok);
	for (k = 1; k < 128; k++)	/* every ASCII byte in one string */
		all[k - 1] = (char)k;
	all[127] = '\0';
	{
		json_t *v = json_string(all), *o = json_pack("{s:s,s:[s]}",
		    all, "x", "\x7f\x01", all);

		CHECK(writes_as_jansson(v, JSON_COMPACT));
		CHECK(writes_as_jansson(o, JSON_COMPACT));
		CHECK(writes_as_jansson(o, JSON_COMPACT | JSON_SORT_KEYS));
		json_decref(v);
		json_decref(o);
	}
}

/*
 * A NUL or a byte outside ASCII anywhere in a string or key is refused
 * (-1), whatever its place; util_json_str writes such a byte as it is.
 */
TEST(json_writer_refuses_at_every_position)
{
	static const char bad[] = { '\0', '\x80', '\xc3', '\xff' };
	char s[24];
	size_t len, at, e, k;
	int ok = 1;

	for (len = 1; len <= 20; len++)
		for (at = 0; at < len; at++)
			for (e = 0; e < sizeof bad; e++) {
				json_t *v, *o;
				struct buf b;
				char *want;

				for (k = 0; k < len; k++)
					s[k] = k % 5 == 3 ? '"' : 'x';
				s[at] = bad[e];
				s[len] = '\0';
				v = json_stringn_nocheck(s, len);
				o = json_object();
				json_object_setn_new_nocheck(o, s, len,
				    json_integer(1));
				buf_init(&b, 0);
				ok &= util_json_write(&b, v, JSON_COMPACT) ==
				    -1;
				ok &= util_json_write(&b, o, JSON_COMPACT) ==
				    -1;
				ok &= util_json_write(&b, o, JSON_COMPACT |
				    JSON_SORT_KEYS) == -1;
				json_decref(v);
				json_decref(o);
				if (e == 0) {	/* a NUL ends a C string */
					buf_free(&b);
					continue;
				}
				/* jansson's text with a 'Z' there, then it */
				s[at] = 'Z';
				v = json_string(s);
				want = json_dumps(v, JSON_ENCODE_ANY);
				*strchr(want, 'Z') = bad[e];
				s[at] = bad[e];
				buf_reset(&b);
				util_json_str(&b, s);
				ok &= strcmp(b.data, want) == 0;
				free(want);
				json_decref(v);
				buf_free(&b);
			}
	CHECK(ok);
}

/*
 * Objects of 0 to 40 members in a shuffled order, keys with escapes and
 * keys that are prefixes of others: jansson's order and text, sorted or
 * not.
 */
TEST(json_writer_objects_sorted_and_not)
{
	static const char *const keys[] = { "b", "a", "ab", "a\"", "A", "",
	    "a\\b", "\t", "~", "aa", "kind", "name", "app", "z\n" };
	size_t n, i;
	int ok = 1;

	for (n = 0; n <= 40; n++) {
		json_t *o = json_object(), *nest = json_object();
		char key[16];

		for (i = 0; i < n; i++) {
			size_t j = (i * 11 + 5) % n;

			if (j < UTIL_ARRAY_LEN(keys))
				snprintf(key, sizeof key, "%s", keys[j]);
			else
				snprintf(key, sizeof key, "k%zu\"%zu", j % 7, j);
			json_object_set_new(o, key, json_integer(
			    (json_int_t)j - 20));
		}
		json_object_set(nest, "o", o);
		json_object_set_new(nest, "n", json_pack("[{s:s},{}]", "y",
		    "\\"));
		ok &= writes_as_jansson(o, JSON_COMPACT);
		ok &= writes_as_jansson(o, JSON_COMPACT | JSON_SORT_KEYS);
		ok &= writes_as_jansson(nest, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(o);
		json_decref(nest);
	}
	CHECK(ok);
}

/*
 * A buffer with a maximum that the text overruns at any byte (in a
 * quote, a run, an escape, a key, a number): what fits is the text's
 * start, overflow is set, and the writer still says 0.
 */
TEST(json_writer_overflows_anywhere)
{
	json_t *v = json_loads("{\"kind\":\"Pod\",\"a\\tb\":[\"x\\\"y\\u0001"
	    "zzzzzzzzzzzzzzzzzzzzzz\",-12345,true,null,{}],\"n\":\"\"}", 0,
	    NULL);
	size_t flags, max, full, pre;
	char *want, mem[160];
	int ok = 1;

	REQUIRE(v != NULL);
	for (flags = 0; flags < 2; flags++) {
		size_t f = JSON_COMPACT | (flags ? JSON_SORT_KEYS : 0);

		want = json_dumps(v, f);
		full = strlen(want);
		for (pre = 0; pre < 3; pre += 2)
			for (max = pre + 1; max <= pre + full + 2; max++) {
				struct buf b, on;
				size_t fit = max < pre + full ? max : pre + full;

				buf_init(&b, max);
				buf_init_on(&on, mem, max + 1 < sizeof mem ?
				    max + 1 : sizeof mem);
				buf_add(&b, "<<", pre);
				buf_add(&on, "<<", pre);
				ok &= util_json_write(&b, v, f) == 0;
				ok &= util_json_write(&on, v, f) == 0;
				ok &= b.len == fit && b.data[fit] == '\0' &&
				    memcmp(b.data + pre, want, fit - pre) == 0;
				ok &= b.overflow == (pre + full > max);
				ok &= on.len == b.len && on.overflow ==
				    b.overflow && strcmp(on.data, b.data) == 0;
				buf_free(&b);
			}
		free(want);
	}
	json_decref(v);
	CHECK(ok);
}

/* util_json_plain: a byte above 0x7f anywhere, at any length, is seen. */
TEST(json_plain_sees_every_byte)
{
	static const char high[] = { '\x80', '\xc3', '\xff' };
	char s[32];
	size_t len, at, e, k;
	int ok = 1;

	CHECK(util_json_plain(NULL) && util_json_plain(""));
	for (len = 1; len <= 30; len++) {
		for (k = 0; k < len; k++)
			s[k] = (char)(0x7f - k);	/* 0x7f and below */
		s[len] = '\0';
		ok &= util_json_plain(s);
		for (at = 0; at < len; at++)
			for (e = 0; e < sizeof high; e++) {
				char keep = s[at];

				s[at] = high[e];
				ok &= !util_json_plain(s);
				s[at] = keep;
			}
	}
	CHECK(ok);
}

static uint32_t
int_hash(const void *e)
{
	return (uint32_t)*(const int *)e * 2654435761u;
}

static int
int_eq(const void *e, const void *key)
{
	return *(const int *)e == *(const int *)key;
}

/* An emptied table keeps its slots and is filled again like a new one. */
TEST(ptab_empty_keeps_slots)
{
	static int v[200];
	struct ptab t;
	size_t i, cap;
	int k;

	memset(&t, 0, sizeof t);
	for (i = 0; i < 200; i++) {
		v[i] = (int)i;
		ptab_insert(&t, int_hash(&v[i]), &v[i], int_hash);
	}
	cap = t.cap;
	ptab_empty(&t);
	CHECK_INT((long)t.live, 0);
	CHECK_INT((long)t.cap, (long)cap);	/* no new slot array */
	k = 7;
	CHECK(ptab_find(&t, int_hash(&k), int_eq, &k) == NULL);
	for (i = 0; i < 100; i++)
		ptab_insert(&t, int_hash(&v[i]), &v[i], int_hash);
	CHECK_INT((long)t.cap, (long)cap);
	CHECK(ptab_find(&t, int_hash(&k), int_eq, &k) == &v[7]);
	k = 150;
	CHECK(ptab_find(&t, int_hash(&k), int_eq, &k) == NULL);
	ptab_clear(&t);
	ptab_empty(&t);		/* an empty table without slots */
	CHECK_INT((long)t.cap, 0);
}

/* ---- util_json_loadb against jansson's json_loadb ---------------------- */

/* Both readers on one text: the same tree, or the same error. */
static int
loads_alike(const char *p, size_t n, size_t flags)
{
	json_error_t e1, e2;
	json_t *a = util_json_loadb(p, n, flags, &e1);
	json_t *b = json_loadb(p, n, flags, &e2);
	char *ta = NULL, *tb = NULL;
	int ok = (a == NULL) == (b == NULL);

	if (ok && a) {
		ta = json_dumps(a, JSON_ENCODE_ANY | JSON_COMPACT);
		tb = json_dumps(b, JSON_ENCODE_ANY | JSON_COMPACT);
		ok = ta && tb && strcmp(ta, tb) == 0 && json_equal(a, b) &&
		    e1.position == e2.position;
	} else if (ok)
		ok = strcmp(e1.text, e2.text) == 0 && e1.line == e2.line &&
		    e1.column == e2.column && e1.position == e2.position;
	if (!ok)
		fprintf(stderr, "readers differ (flags %zx) on %.*s\n", flags,
		    (int)(n > 300 ? 300 : n), p);
	free(ta);
	free(tb);
	json_decref(a);
	json_decref(b);
	return ok;
}

static uint64_t jr_state = 0x9e3779b97f4a7c15ULL;

static unsigned
jr_rand(unsigned n)
{
	jr_state ^= jr_state << 13;
	jr_state ^= jr_state >> 7;
	jr_state ^= jr_state << 17;
	return (unsigned)(jr_state % n);
}

static void
jr_ws(struct buf *b)
{
	static const char *const ws[] = { "", "", "", " ", "\n  ", "\t",
	    "\r\n" };

	buf_adds(b, ws[jr_rand(UTIL_ARRAY_LEN(ws))]);
}

static void
jr_string(struct buf *b)
{
	static const char *const parts[] = {
		"a", "name", "app.kubernetes.io/name", "\\n", "\\\"", "\\\\",
		"\\/", "\\t", "\\u00e9", "\\u20AC", "\\ud83d\\ude00", "\xc3\xa9",
		"\xe2\x82\xac", "\xf0\x9f\x98\x80", " ", "0", "{}", "[x]",
		"OOMKilled", "\\b\\f\\r", "\\u0041",
	};
	unsigned i, n = jr_rand(6);

	buf_addc(b, '"');
	for (i = 0; i < n; i++)
		buf_adds(b, parts[jr_rand(UTIL_ARRAY_LEN(parts))]);
	if (jr_rand(4) == 0)	/* a long plain run: the 8-byte scan */
		buf_adds(b, "the-quick-brown-fox-jumps-over-the-lazy-dog");
	buf_addc(b, '"');
}

static void
jr_number(struct buf *b)
{
	static const char *const nums[] = {
		"0", "-0", "1", "-1", "42", "137", "999999999999999999",
		"-999999999999999999", "9223372036854775807",
		"-9223372036854775808", "9223372036854775808", "1.5", "-0.0",
		"1e3", "1E+3", "2.5e-3", "1e400", "-1e400", "1e-400",
		"0.1000000000000000055511151231257827", "3.14159",
		"123456789012345678901234567890", "1.7976931348623157e308",
	};

	buf_adds(b, nums[jr_rand(UTIL_ARRAY_LEN(nums))]);
}

static void
jr_value(struct buf *b, int depth)
{
	unsigned i, n, k = jr_rand(depth > 4 ? 6 : 9);

	jr_ws(b);
	switch (k) {
	case 0: case 1:
		jr_string(b);
		break;
	case 2: case 3:
		jr_number(b);
		break;
	case 4:
		buf_adds(b, jr_rand(2) ? "true" : "false");
		break;
	case 5:
		buf_adds(b, "null");
		break;
	case 6: case 7:
		buf_addc(b, '{');
		n = jr_rand(6);
		for (i = 0; i < n; i++) {
			if (i)
				buf_addc(b, ',');
			jr_ws(b);
			jr_string(b);	/* duplicates come by chance */
			jr_ws(b);
			buf_addc(b, ':');
			jr_value(b, depth + 1);
		}
		jr_ws(b);
		buf_addc(b, '}');
		break;
	default:
		buf_addc(b, '[');
		n = jr_rand(6);
		for (i = 0; i < n; i++) {
			if (i)
				buf_addc(b, ',');
			jr_value(b, depth + 1);
		}
		jr_ws(b);
		buf_addc(b, ']');
	}
	jr_ws(b);
}

static const size_t jr_flags[] = {
	0, JSON_DECODE_ANY, JSON_REJECT_DUPLICATES,
	JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, JSON_ALLOW_NUL,
	JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL,
};

/*
 * Generated documents, then each with one byte changed and cut short at
 * a random place: every answer the same as jansson's.
 */
static int
count_entry(void *ctx, const char *key, void *value)
{
	(void)key;
	(void)value;
	(*(size_t *)ctx)++;
	return 0;
}

/*
 * The map against a model: puts, overwrites, deletes and gets of 300
 * keys in a fixed pseudo-random order, through resizes and tombstones
 * (slots compare kept hashes before keys, and a resize places keys by
 * them: a wrong kept hash loses a key here).
 */
TEST(map_agrees_with_a_model)
{
	enum { NKEYS = 300, OPS = 20000 };
	static char keys[NKEYS][16];
	static intptr_t model[NKEYS];	/* 0: absent */
	struct map m;
	uint64_t x = 88172645463325252ULL;
	size_t i, live = 0, seen;
	int op, bad = 0;

	map_init(&m);
	for (i = 0; i < NKEYS; i++)
		snprintf(keys[i], sizeof keys[i], "k%zu", i);
	for (i = 0; i < OPS; i++) {
		size_t k;
		intptr_t v = (intptr_t)i + 1;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		k = (size_t)(x % NKEYS);
		op = (int)((x >> 32) % 3);
		if (op == 0) {
			if ((intptr_t)map_put(&m, keys[k], (void *)v) !=
			    model[k])
				bad++;
			live += model[k] == 0;
			model[k] = v;
		} else if (op == 1) {
			if ((intptr_t)map_del(&m, keys[k]) != model[k])
				bad++;
			live -= model[k] != 0;
			model[k] = 0;
		} else if ((intptr_t)map_get(&m, keys[k]) != model[k])
			bad++;
	}
	CHECK_INT(bad, 0);
	for (i = 0; i < NKEYS; i++)
		if ((intptr_t)map_get(&m, keys[i]) != model[i])
			bad++;
	CHECK_INT(bad, 0);
	seen = 0;
	map_each(&m, count_entry, &seen);
	CHECK_INT(seen, live);
	CHECK(map_get(&m, "absent") == NULL && map_del(&m, "k") == NULL);
	map_clear(&m, NULL);
	CHECK(map_get(&m, keys[0]) == NULL);
}

TEST(json_reader_matches_jansson)
{
	static const char bytes[] = "\"\\{}[],:0-e.+ aZu\x01\x1f\x7f";
	static const unsigned char high[] = { 0x80, 0xbf, 0xc0, 0xc3, 0xe2,
	    0xed, 0xf0, 0xf4, 0xf5, 0xff, 0x00 };
	struct buf b;
	char *m;
	size_t f, at, i, bad = 0;

	buf_init(&b, 0);
	for (i = 0; i < 4000 && bad < 5; i++) {
		buf_reset(&b);
		jr_value(&b, 0);
		for (f = 0; f < UTIL_ARRAY_LEN(jr_flags); f++)
			bad += !loads_alike(b.data, b.len, jr_flags[f]);
		m = xmalloc(b.len + 1);
		memcpy(m, b.data, b.len + 1);
		at = jr_rand((unsigned)b.len);
		m[at] = jr_rand(3) ? bytes[jr_rand(sizeof bytes - 1)] :
		    (char)high[jr_rand(sizeof high)];
		bad += !loads_alike(m, b.len, jr_flags[i % 6]);
		bad += !loads_alike(b.data, jr_rand((unsigned)b.len + 1),
		    jr_flags[(i + 1) % 6]);
		free(m);
	}
	CHECK(bad == 0);
	buf_free(&b);
}

/*
 * Documents jansson takes are read without it: the fast reader gives
 * jansson only what it refuses (and integers past 18 digits).
 */
TEST(json_reader_reads_valid_documents_itself)
{
	static const char *const docs[] = {
		"{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\\u00e9\\n\"}}",
		"  [1.5, -2, 3e2, \"\xe2\x82\xac\", {}, []]  ",
		"{\"k\\\"ey\":\"v\",\"k\\\"ey\":\"w\"}",
		"{\"a\":\"\\ud83d\\ude00 and the-quick-brown-fox-jumps\"}",
	};
	json_error_t e;
	size_t i, before = util_json_fallbacks();
	json_t *v;

	for (i = 0; i < UTIL_ARRAY_LEN(docs); i++) {
		v = util_json_loads(docs[i], 0, &e);
		CHECK(v != NULL && loads_alike(docs[i], strlen(docs[i]), 0));
		json_decref(v);
	}
	/* loads_alike's own reads are util_json_loadb's too */
	CHECK(util_json_fallbacks() == before);
	/* the last key wins, as in jansson */
	v = util_json_loads(docs[2], 0, &e);
	CHECK(v && strcmp(json_string_value(json_object_get(v, "k\"ey")),
	    "w") == 0 && json_object_size(v) == 1);
	json_decref(v);
	CHECK(util_json_loads(docs[2], JSON_REJECT_DUPLICATES, &e) == NULL &&
	    strstr(e.text, "duplicate object key") != NULL);
	CHECK(util_json_fallbacks() == before + 1);
}

/* The edges jansson draws, one by one. */
TEST(json_reader_edges)
{
	static const struct {
		const char	*text;
		size_t		 flags;
	} cases[] = {
		{ "", 0 }, { " ", 0 }, { "1", 0 }, { "1", JSON_DECODE_ANY },
		{ "\"x\"", JSON_DECODE_ANY }, { "[1] x", 0 }, { "[1] x",
		JSON_DISABLE_EOF_CHECK }, { "{\"a\":1} {", JSON_DISABLE_EOF_CHECK },
		{ "  12 ", JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK },
		{ "truex", JSON_DECODE_ANY }, { "truex", JSON_DECODE_ANY |
		JSON_DISABLE_EOF_CHECK }, { "true1", JSON_DECODE_ANY |
		JSON_DISABLE_EOF_CHECK }, { "[true1]", 0 }, { "[nul]", 0 },
		{ "[01]", 0 }, { "[-]", 0 }, { "[1.]", 0 }, { "[1e]", 0 },
		{ "[.5]", 0 }, { "[+1]", 0 }, { "[1,]", 0 }, { "{\"a\":1,}", 0 },
		{ "{\"a\" 1}", 0 }, { "{1:2}", 0 }, { "[\"\\u0000\"]", 0 },
		{ "[\"\\u0000\"]", JSON_ALLOW_NUL }, { "{\"\\u0000\":1}",
		JSON_ALLOW_NUL }, { "[\"\\ud800\"]", 0 }, { "[\"\\udc00\"]", 0 },
		{ "[\"\\ud800\\u0041\"]", 0 }, { "[\"\\uZZZZ\"]", 0 },
		{ "[\"\\x\"]", 0 }, { "[\"a\nb\"]", 0 }, { "[\"\xc0\xaf\"]", 0 },
		{ "[\"\xed\xa0\x80\"]", 0 }, { "[\"\xf4\x90\x80\x80\"]", 0 },
		{ "[\"\xe2\x82\"]", 0 }, { "[\"abc", 0 }, { "[9223372036854775807]",
		0 }, { "[9223372036854775808]", 0 }, { "[-9223372036854775809]",
		0 }, { "[1e309]", 0 }, { "[1e-400]", 0 }, { "\xef\xbb\xbf[]", 0 },
		{ "[]\n\n", 0 }, { "[\"\xe2\x82\xac\"]x", JSON_DISABLE_EOF_CHECK },
		/*
		 * duplicates: the reader finds one after its value is read
		 * (jansson looks before); refused alike, also when the value
		 * fails or holds a duplicate too (the message is jansson's,
		 * which reads what this reader refuses)
		 */
		{ "{\"a\":1,\"a\":2}", JSON_REJECT_DUPLICATES },
		{ "{\"a\":1,\"a\":2}", 0 },
		{ "{\"a\":1,\"b\":2,\"a\":[1,}", JSON_REJECT_DUPLICATES },
		{ "{\"a\":1,\"a\":{\"b\":1,\"b\":2}}", JSON_REJECT_DUPLICATES },
		{ "{\"a\":{\"b\":1,\"b\":[x]},\"a\":2}", JSON_REJECT_DUPLICATES },
		{ "{\"a\\u0062\":1,\"ab\":2}", JSON_REJECT_DUPLICATES },
		{ "{\"\":1,\"\":2}", JSON_REJECT_DUPLICATES },
	};
	char deep[2 * 2050 + 1];
	json_t *v, *want;
	size_t i, d;

	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++)
		CHECK(loads_alike(cases[i].text, strlen(cases[i].text),
		    cases[i].flags));
	/* jansson's depth: every value counts, 2048 the most */
	for (d = 2047; d <= 2049; d++) {
		memset(deep, '[', d);
		memset(deep + d, ']', d);
		CHECK(loads_alike(deep, 2 * d, 0));
		deep[d - 1] = '1';	/* a scalar one level deeper */
		memmove(deep + d, deep + d + 1, d - 1);
		CHECK(loads_alike(deep, 2 * d - 1, 0));
	}
	/* a NUL ends json_loads' text, and is a bad byte to json_loadb */
	CHECK(loads_alike("[1]\0", 4, 0));
	/* jansson skips a NUL after a number or word, and counts it not */
	CHECK(loads_alike("[1\0]", 4, 0));
	CHECK(loads_alike("[true\0,2]", 9, 0));
	CHECK(loads_alike("1\0", 2, JSON_DECODE_ANY));
	CHECK(loads_alike("1\0 x", 4, JSON_DECODE_ANY |
	    JSON_DISABLE_EOF_CHECK));
	v = util_json_loads("[1]\0x", 0, NULL);
	want = json_pack("[i]", 1);
	CHECK(v && json_equal(v, want));
	json_decref(v);
	json_decref(want);
}

int
main(void)
{
	char cmd[128];
	int rc;

	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_util.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	RUN(boottime_clock_reads_time_since_boot);
	RUN(lines_bounded);
	RUN(lines_chunks_nul_and_pipe);
	RUN(buf_add_int_as_printf);
	RUN(hex64_and_hash_id);
	RUN(read_empty_file);
	RUN(durations);
	RUN(retry_policy);
	RUN(retry_gate_ends_a_wait);
	RUN(duration_format_round_trips);
	RUN(go_durations);
	RUN(base64);
	RUN(semantic_versions);
	RUN(calendar);
	RUN(time_format_against_libc);
	RUN(json_reader_matches_jansson);
	RUN(json_reader_reads_valid_documents_itself);
	RUN(json_reader_edges);
	RUN(rfc3339);
	RUN(buf_respects_max);
	RUN(suggest_and_glob);
	RUN(parse_int);
	RUN(memfind);
	RUN(utf8_decoding);
	RUN(gofmt_floats);
	RUN(gofmt_values);
	RUN(gofmt_edges);
	RUN(cron_parse_errors);
	RUN(cron_next_utc);
	RUN(zones_agree_with_libc);
	RUN(zone_abbreviations_and_names);
	RUN(zone_offsets);
	RUN(posix_footers);
	RUN(truncated_tzif_never_crashes);
	RUN(cron_in_time_zones_and_dst);
	RUN(fuzz_corpus_replay);
	RUN(secrets_from_files_env_and_mounted_secrets);
	RUN(secrets_refused);
	RUN(secret_values_as_argo_reads_them);
	RUN(secret_size_limit);
	RUN(slab_reuses_slots_by_size);
	RUN(json_writer_and_copy_match_jansson);
	RUN(json_str_ref_shares_only_the_same_text);
	RUN(json_dumps_matches_jansson);
	RUN(json_writer_escapes_at_every_position);
	RUN(json_writer_refuses_at_every_position);
	RUN(json_writer_objects_sorted_and_not);
	RUN(json_writer_overflows_anywhere);
	RUN(json_plain_sees_every_byte);
	RUN(ptab_empty_keeps_slots);
	RUN(map_agrees_with_a_model);
	RUN(jlist_items_one_at_a_time);
	RUN(jlist_items_before_kind);
	RUN(jlist_empty_null_and_values_that_are_no_list);
	RUN(jlist_bad_text_says_where);
	RUN(jlist_truncated_and_corrupt_never_crash);
	RUN(jlist_mapped_file);
	rc = harness_done();
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	(void)!system(cmd);
	return rc;
}
