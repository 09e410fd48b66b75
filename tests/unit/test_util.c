#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "util/util.h"

TEST(durations)
{
	int64_t ms;

	CHECK(duration_parse("5m", &ms) == 0 && ms == 300000);
	CHECK(duration_parse("1h30m", &ms) == 0 && ms == 5400000);
	CHECK(duration_parse("250ms", &ms) == 0 && ms == 250);
	CHECK(duration_parse("1.5h", &ms) == 0 && ms == 5400000);
	CHECK(duration_parse("0", &ms) == 0 && ms == 0);
	CHECK(duration_parse("5", &ms) == -1);
	CHECK(duration_parse("5x", &ms) == -1);
	CHECK(duration_parse("", &ms) == -1);
	CHECK(duration_parse("m", &ms) == -1);
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
	CHECK(util_parse_int("99999999999999999999", &v) == -1);
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

int
main(void)
{
	RUN(durations);
	RUN(duration_format_round_trips);
	RUN(rfc3339);
	RUN(buf_respects_max);
	RUN(suggest_and_glob);
	RUN(parse_int);
	RUN(utf8_decoding);
	return harness_done();
}
