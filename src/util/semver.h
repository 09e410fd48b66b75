/*
 * semver: semantic versions (semver 2.0) as blang/semver, which Kyverno
 * uses, reads and orders them: MAJOR.MINOR.PATCH[-pre][+build], numbers
 * without leading zeros that fit 64 bits, no "v" prefix.
 */
#ifndef UTIL_SEMVER_H
#define UTIL_SEMVER_H

#include <stddef.h>
#include <stdint.h>

struct semver {
	uint64_t	 v[3];		/* major, minor, patch */
	const char	*pre;		/* borrowed from the text; NULL: none */
	size_t		 prelen;	/* bytes of pre */
};

/*
 * blang's Parse of s (n bytes) into v, which borrows s.  Returns 0, or -1
 * for what blang refuses (empty parts, a leading zero, a number beyond
 * 64 bits, characters outside [0-9A-Za-z-] in the pre-release or build).
 */
int	semver_parse(const char *s, size_t n, struct semver *v);
/* A major, minor or patch number (n bytes) as blang reads one: 0 or -1. */
int	semver_number(const char *s, size_t n, uint64_t *out);
/* Precedence (build ignored): -1, 0 or 1 as a is lower, equal, higher. */
int	semver_cmp(const struct semver *a, const struct semver *b);

#endif /* UTIL_SEMVER_H */
