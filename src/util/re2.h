/*
 * re2: Go's regular expressions (RE2 syntax) on TRE.
 *
 * Argo Events (sensor filters, sprig's regex functions) and Kyverno (its
 * regex_* functions) compile patterns with Go's regexp; this program has
 * TRE, a tagged-NFA matcher with the POSIX interface whose time, like
 * Go's, is linear in the input.  Every pattern goes through here: it is
 * translated into POSIX extended syntax, checked against Go's size rules,
 * compiled, and matched with Go's group numbers and replacement rules.
 * What the translation cannot express is refused with a message naming
 * the place, never matched differently; the few forms POSIX reads a
 * little differently are taken only by a caller that asks (RE2_LENIENT).
 * Messages use Go's words (regexp/syntax's error codes) where Go refuses
 * the pattern too.
 */
#ifndef UTIL_RE2_H
#define UTIL_RE2_H

#include <stddef.h>

#include "util/util.h"

/* re2_compile's flags */
#define RE2_ANCHORED	0x1	/* match the whole subject, as ^(...)$ */
#define RE2_NOSUB	0x2	/* only re2_matches will be asked */
/*
 * Also take what POSIX reads a little differently from Go, for callers
 * that mostly ask whether a string matches (Argo's filters, sprig): lazy
 * quantifiers (*? +? ?? {n,m}?) as greedy ones, which changes where a
 * match ends but not whether there is one, and \b \B as TRE reads them
 * (at the very start and end of the text TRE's \b always holds and its
 * \B never does).
 */
#define RE2_LENIENT	0x4

struct re2;

/*
 * Compiles pattern (len bytes, no NUL needed) with flags.  Returns an
 * owned re2, or NULL with *err (owned) when the pattern is longer than
 * max_len bytes, is not Go's syntax, or uses what is not supported.
 */
struct re2	*re2_compile(const char *pattern, size_t len, int flags,
		    size_t max_len, char **err);
void		 re2_free(struct re2 *);

/* Does s (n bytes) hold a match?  1 yes, 0 no. */
int		 re2_matches(const struct re2 *, const char *s, size_t n);

/* Where a group matched: bytes from the subject's start, -1 when the
 * group took no part in the match. */
struct re2_span {
	long	 start, end;
};

/*
 * The leftmost match in s (n bytes): fills m[0..nm) with the spans of
 * the whole match and of Go's groups 1..nm-1 (-1 past the last group)
 * and returns 1, or returns 0 when there is none.  Not for RE2_NOSUB.
 */
int		 re2_find(const struct re2 *, const char *s, size_t n,
		    struct re2_span *m, size_t nm);

/*
 * Go's Regexp.ReplaceAllString of s (n bytes), appended to out: every
 * match is replaced by repl (rn bytes) with $1, ${1}, $name, ${name} and
 * $$ expanded as Regexp.Expand does, or, when literal, by repl as it is
 * (ReplaceAllLiteralString).  Returns the number of matches, or -1 after
 * max_matches of them (out then holds what was done so far).  Stops
 * early when out overflows its max.  Not for RE2_NOSUB.
 */
long		 re2_replace_all(const struct re2 *, const char *s, size_t n,
		    const char *repl, size_t rn, int literal,
		    size_t max_matches, struct buf *out);

#endif /* UTIL_RE2_H */
