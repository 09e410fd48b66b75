/*
 * libFuzzer target for util/re2: Go's RE2 syntax translated for TRE.
 *
 * An input is "FLAGS PATTERN\0SUBJECT\0REPLACEMENT": the first byte picks
 * anchoring, and the pattern is compiled as a Kyverno function does
 * (strict) and as a sensor does (lenient).  A pattern the strict mode
 * takes the lenient one must take too and match alike; a refusal has a
 * message; re2_matches and re2_find agree, and a match and its groups
 * lie inside the subject; ReplaceAll replaces something exactly when
 * there is a match.  Anything else is a bug: a crash, a sanitizer report, a leak or a
 * hang (TRE reading a translation as something it cannot run).
 *
 * Run it with fuzz/run re2 [SECONDS]; the ordinary test run replays the
 * corpus in fuzz/corpus/re2 (fuzz/replay.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/re2.h"

#define GROUPS	8	/* spans asked of re2_find */

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The next NUL-terminated part of buf[*at..len), or the rest. */
static const char *
part(const uint8_t *buf, size_t len, size_t *at, size_t *n)
{
	const uint8_t *p = buf + *at, *nul = memchr(p, 0, len - *at);

	*n = nul ? (size_t)(nul - p) : len - *at;
	*at += *n + (nul != NULL);
	return (const char *)p;
}

/* Finds, matches and replaces with re on s; returns whether it matched. */
static int
exercise(const struct re2 *re, const char *s, size_t n, const char *r,
    size_t rn)
{
	struct re2_span m[GROUPS];
	struct buf b;
	size_t g;
	long count;
	int found;

	found = re2_find(re, s, n, m, GROUPS);
	if (found != re2_matches(re, s, n))
		abort();
	for (g = 0; found && g < GROUPS; g++)
		if ((m[g].start < 0) != (m[g].end < 0) || m[g].start >
		    m[g].end || m[g].end > (long)n || (g == 0 &&
		    m[0].start < 0))
			abort();
	buf_init(&b, 1 << 20);
	count = re2_replace_all(re, s, n, r, rn, 0, 1000, &b);
	if (!b.overflow && (found ? count == 0 : count != 0 || b.len != n ||
	    memcmp(b.data ? b.data : "", s, n) != 0))
		abort();
	buf_reset(&b);
	(void)re2_replace_all(re, s, n, r, rn, 1, 1000, &b);
	buf_free(&b);
	return found;
}

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	struct re2 *strict, *lenient;
	const char *p, *s, *r;
	size_t at = 1, pn, sn, rn;
	char *err1, *err2;
	int flags, found;

	if (len == 0)
		return 0;
	flags = buf[0] & 1 ? RE2_ANCHORED : 0;
	p = part(buf, len, &at, &pn);
	s = part(buf, len, &at, &sn);
	r = part(buf, len, &at, &rn);
	strict = re2_compile(p, pn, flags, 4096, &err1);
	lenient = re2_compile(p, pn, flags | RE2_LENIENT, 4096, &err2);
	if ((strict == NULL && (err1 == NULL || *err1 == '\0')) ||
	    (lenient == NULL && (err2 == NULL || *err2 == '\0')) ||
	    (strict != NULL && lenient == NULL))
		abort();
	found = strict ? exercise(strict, s, sn, r, rn) : -1;
	if (lenient && exercise(lenient, s, sn, r, rn) != found &&
	    found != -1)
		abort();
	re2_free(strict);
	re2_free(lenient);
	free(err1);
	free(err2);
	return 0;
}
