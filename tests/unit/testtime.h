/*
 * Helpers for the unit tests that deal in time, shared so each test file
 * does not carry its own: an RFC 3339 instant in ms, and whether the
 * system's tzdata is installed (tests of real zones skip without it).
 */
#ifndef TESTTIME_H
#define TESTTIME_H

#include <stdint.h>
#include <stdio.h>

#include "util/util.h"

/* "2026-11-25T10:00:00Z" in ms; complains (and returns 0) if malformed. */
static inline int64_t
test_ms(const char *rfc3339)
{
	int64_t ms = 0;

	if (time_parse(rfc3339, &ms) == -1)
		fprintf(stderr, "bad time in test: %s\n", rfc3339);
	return ms;
}

/* 1 when /usr/share/zoneinfo holds the zones the tests use. */
static inline int
test_have_tzdata(void)
{
	FILE *f = fopen("/usr/share/zoneinfo/Europe/Paris", "r");

	if (f == NULL)
		return 0;
	fclose(f);
	return 1;
}

#endif /* TESTTIME_H */
