/*
 * A tiny unit-test harness, in the spirit of Redis' and libuv's: a test is
 * a function; CHECK records a failure with file and line and carries on;
 * REQUIRE does the same and ends the test, for a condition the next lines
 * rely on (a pointer they dereference); the last line printed is
 * "N passed, N failed" so CI can read it.
 *
 *	TEST(parses_minutes) { CHECK(duration_parse("5m", &ms) == 0); }
 *	int main(void) { RUN(parses_minutes); return harness_done(); }
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <stdio.h>
#include <string.h>

static int harness_passed, harness_failed, harness_cur_failed;
static const char *harness_cur;

#define TEST(name) static void test_##name(void)

#define RUN(name) do {							\
	harness_cur = #name;						\
	harness_cur_failed = 0;						\
	test_##name();							\
	if (harness_cur_failed)						\
		harness_failed++;					\
	else								\
		harness_passed++;					\
} while (0)

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n",	\
		    __FILE__, __LINE__, harness_cur, #cond);		\
		harness_cur_failed = 1;					\
	}								\
} while (0)

/*
 * A failed REQUIRE ends the test at once: a missing fixture is one clear
 * failure, never a NULL dereference on the next line.
 */
#define REQUIRE(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: %s: REQUIRE(%s) failed\n",	\
		    __FILE__, __LINE__, harness_cur, #cond);		\
		harness_cur_failed = 1;					\
		return;							\
	}								\
} while (0)

/*
 * Test data lives in the tree, under tests/data/ (its README says where
 * each file came from); `make unit` runs every test from the top of the
 * tree, so these paths are relative to it.
 */
#define TEST_DATA	"tests/data"

/* Returns the path of fixture NAME in a static buffer, valid until the
 * next call. */
static inline const char *
harness_fixture(const char *name)
{
	static char path[512];

	snprintf(path, sizeof path, "%s/fixtures/%s", TEST_DATA, name);
	return path;
}

#define CHECK_STR(got, want) do {					\
	const char *g_ = (got), *w_ = (want);				\
	if (g_ == NULL || w_ == NULL ? g_ != w_ : strcmp(g_, w_) != 0) {\
		fprintf(stderr, "%s:%d: %s: got \"%s\", want \"%s\"\n",	\
		    __FILE__, __LINE__, harness_cur,			\
		    g_ ? g_ : "(null)", w_ ? w_ : "(null)");		\
		harness_cur_failed = 1;					\
	}								\
} while (0)

#define CHECK_INT(got, want) do {					\
	long long g_ = (long long)(got), w_ = (long long)(want);	\
	if (g_ != w_) {							\
		fprintf(stderr, "%s:%d: %s: %s is %lld, want %lld\n",	\
		    __FILE__, __LINE__, harness_cur, #got, g_, w_);	\
		harness_cur_failed = 1;					\
	}								\
} while (0)

static inline int
harness_done(void)
{
	printf("%d passed, %d failed\n", harness_passed, harness_failed);
	return harness_failed ? 1 : 0;
}

#endif /* HARNESS_H */
