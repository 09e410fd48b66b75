#include <stdlib.h>

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

int
main(void)
{
	RUN(durations);
	RUN(duration_format_round_trips);
	RUN(rfc3339);
	RUN(buf_respects_max);
	RUN(suggest_and_glob);
	RUN(parse_int);
	return harness_done();
}
