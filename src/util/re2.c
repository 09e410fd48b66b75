/*
 * Go's RE2 syntax translated into POSIX extended syntax for TRE:
 *
 *   \d \D \w \W \s \S      classes, also inside [...], negated there too;
 *                          \s is RE2's [\t\n\f\r ], without POSIX's \v
 *   [[:alpha:]] [[:^x:]]   Go's ASCII classes, [:word:] too
 *   .                      anything but a newline, as RE2 without (?s)
 *   \n \t \r \f \v \a      characters; \xHH and \x{H} up to \x7f
 *   \. \< \{ ...           punctuation, itself (POSIX's \< starts a word)
 *   \A \z                  ^ and $
 *   (?:...) (?P<n>...)     groups, (?<n>...) too; Go's numbers are mapped
 *                          onto POSIX's, which count every group
 *   (?i) at the start      REG_ICASE
 *   a{ a{,2} a}            a literal brace where there is no bound, as Go
 *
 * A bracket expression is read into a set of bytes and written back in
 * POSIX's order (']' first, '^' not first, '-' last): POSIX has no
 * escapes inside one.  What Go's regexp/syntax refuses is refused, in
 * Go's words, before TRE sees it: TRE reads some of it as something else
 * (`*a` as `a`, a ')' closing nothing as a literal or, after `\\`, runs
 * out of memory) and pays for the rest: a repetition of a repetition
 * (23 `+` took glibc's regcomp over a minute and 6 GB) and {n,m} counts
 * whose product along a nesting passes 1000 (docs/sensors.md has the
 * figures).  Go's forms POSIX cannot say (\pL, look-arounds, (?s),
 * \Q...\E, octal) are refused too.  The matcher compares bytes, as both
 * translators before this one did: `.` is one byte of a UTF-8 character.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <tre/regex.h>	/* POSIX interface, linear-time matching */

#include "util/re2.h"

#define MAX_REPEAT	1000	/* Go's bound on nested {n,m} counts */
#define MAX_GROUPS	300	/* TRE's per-group state is on the stack:
				 * ~600 nested groups overflow 8 MiB */
#define QUOTE_MAX	40	/* bytes of the pattern quoted in a message */

struct re2 {
	regex_t	 re;
	size_t	 nposix;	/* groups in the translation */
	size_t	 ngroups;	/* Go's capturing groups */
	size_t	*map;		/* owned; Go group -> POSIX group */
	char	**names;	/* owned, each owned; Go group -> name, or
				   NULL */
};

/* A translation in progress. */
struct tr {
	const char	*p;		/* the pattern, n bytes */
	size_t		 n, i;
	int		 flags;
	struct buf	 out;		/* the POSIX translation */
	struct re2	*re;
	char		*err;		/* owned; the first problem */

	/* Go's size rules: repeat counts along the nesting of groups */
	long		*inner;		/* per depth: largest product inside */
	size_t		 depth;		/* groups open */
	long		 closed;	/* product inside the group just
					   closed */
	int		 after_close;	/* the previous token was ')' */
	int		 repeated;	/* the previous token was a
					   repetition */
	size_t		 rep_at;	/* where that repetition starts */
	int		 atom;		/* there is something to repeat */
};

static int	 fail(struct tr *, const char *, ...) UTIL_PRINTF(2, 3);

/* Records the first problem; returns -1. */
static int
fail(struct tr *t, const char *fmt, ...)
{
	va_list ap;

	if (t->err == NULL) {
		va_start(ap, fmt);
		t->err = xvasprintf(fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* How much of n bytes a message quotes, for "%.*s". */
static int
quoted(size_t n)
{
	return (int)(n < QUOTE_MAX ? n : QUOTE_MAX);
}

static int
add_group(struct tr *t)
{
	if (t->re->nposix >= MAX_GROUPS)
		return fail(t, "more than %d groups: this matcher's memory for "
		    "each is on the stack", MAX_GROUPS);
	t->re->nposix++;
	return 0;
}

/* ---- sets of bytes: set[c] is 1 when c is in ---------------------------- */

/* Go's classes as ranges, pairs of first and last byte (0: the end) */
static const struct {
	const char	*name;
	char		 r[10];
} classes[] = {
	{ "alnum", "09AZaz" }, { "alpha", "AZaz" }, { "ascii", "\0\x7f" },
	{ "blank", "\t\t  " }, { "cntrl", "\0\x1f\x7f\x7f" },
	{ "digit", "09" }, { "graph", "!~" }, { "lower", "az" },
	{ "print", " ~" }, { "punct", "!/:@[`{~" }, { "space", "\t\r  " },
	{ "upper", "AZ" }, { "word", "09AZ__az" }, { "xdigit", "09AFaf" },
};

/* Adds the bytes of ranges r, or when neg all the others. */
static void
set_ranges(unsigned char *set, const char *r, int neg)
{
	unsigned char in[256];
	size_t k;
	int c;

	memset(in, 0, sizeof in);
	for (k = 0; k == 0 || r[k] != '\0'; k += 2)
		memset(in + (unsigned char)r[k], 1, (size_t)((unsigned char)
		    r[k + 1] - (unsigned char)r[k] + 1));
	for (c = 0; c < 256; c++)
		set[c] |= in[c] != neg;
}

static int
is_word(int c)
{
	return isalnum(c) || c == '_';
}

/* Bytes a bracket expression lists in a place of their own. */
static int
placed(int c)
{
	return c == ']' || c == '^' || c == '-' || c == '[';
}

/*
 * Writes set as POSIX: a bracket expression, negated when it holds NUL
 * (which a pattern cannot spell), or a group when it is empty or full.
 */
static int
emit_set(struct tr *t, const unsigned char *set)
{
	struct buf *o = &t->out;
	unsigned char list[256];
	int neg = set[0], c, lo, count = 0, dash;
	size_t start;

	for (c = 0; c < 256; c++) {
		count += set[c];
		list[c] = set[c] != neg;	/* what the brackets list */
	}
	if (count == 0 || count == 256) {
		if (add_group(t) == -1)
			return -1;
		/* no word starts where one ends; any byte, NUL too */
		buf_adds(o, count == 0 ? "(\\<\\>)" : "(\n|[^\n])");
		return 0;
	}
	if (!neg && count == 1 && list['^']) {
		buf_adds(o, "\\^");
		return 0;
	}
	buf_adds(o, neg ? "[^" : "[");
	start = o->len;
	if (list[']'])
		buf_addc(o, ']');
	for (c = 1; c < 256; c++) {
		if (!list[c] || placed(c))
			continue;
		for (lo = c; c < 255 && list[c + 1] && !placed(c + 1); c++)
			;
		buf_addc(o, (char)lo);
		if (c > lo + 1)
			buf_addc(o, '-');
		if (c > lo)
			buf_addc(o, (char)c);
	}
	if (list['['])	/* last: no "[:" "[." "[=" */
		buf_addc(o, '[');
	dash = list['-'];
	if (list['^']) {
		if (o->len == start && !neg) {	/* "[^" would negate */
			buf_addc(o, '-');
			dash = 0;
		}
		buf_addc(o, '^');
	}
	if (dash)
		buf_addc(o, '-');
	buf_addc(o, ']');
	return 0;
}

/* A literal character outside brackets. */
static void
emit_char(struct tr *t, int c)
{
	unsigned char set[256];

	if (c == 0) {
		memset(set, 0, sizeof set);
		set[0] = 1;
		(void)emit_set(t, set);	/* one member: never a group */
		return;
	}
	if (strchr("\\.[]()*+?{}|^$", c) != NULL)
		buf_addc(&t->out, '\\');
	buf_addc(&t->out, (char)c);
}

/* ---- escapes ------------------------------------------------------------ */

#define ESC_CLASS	256	/* \d \D \w \W \s \S: added to the set */
#define ESC_ASSERT	257	/* \A \z \b \B: the caller's, t->i unmoved */

/* \xHH or \x{H...} at p (left bytes): the value, *len the bytes. */
static int
hex_escape(struct tr *t, const char *p, size_t left, size_t *len)
{
	int brace = left > 2 && p[2] == '{', d;
	size_t i, first = 2 + (size_t)brace;
	long v = 0;

	for (i = first; i < left && (brace || i < 4) && v <= 0x10ffff &&
	    (d = util_hex_digit((unsigned char)p[i])) >= 0; i++)
		v = v * 16 + d;
	*len = brace ? i + 1 : 4;	/* also what Go quotes when bad */
	if (i == first || (brace ? i >= left || p[i] != '}' : i < 4) ||
	    v > 0x10ffff)
		return fail(t, "invalid escape sequence: `%.*s`",
		    quoted(*len < left ? *len : left), p);
	if (v > 0x7f)
		return fail(t, "this escape is not supported: `%.*s`: past "
		    "\\x7f Go means a character, this matcher compares bytes; "
		    "write the character itself", quoted(*len), p);
	return (int)v;
}

/*
 * The escape at t->i (a backslash), moving past it: a character's value,
 * ESC_CLASS with the class added to set, ESC_ASSERT, or -1.
 */
static int
escape(struct tr *t, unsigned char *set)
{
	const char *p = t->p + t->i;
	size_t left = t->n - t->i, len = 2;
	int c, v;

	if (left < 2)
		return fail(t, "trailing backslash at end of expression");
	switch ((c = (unsigned char)p[1])) {
	case 'a': v = '\a'; break;
	case 'f': v = '\f'; break;
	case 'n': v = '\n'; break;
	case 'r': v = '\r'; break;
	case 't': v = '\t'; break;
	case 'v': v = '\v'; break;
	case 'x':
		if ((v = hex_escape(t, p, left, &len)) < 0)
			return -1;
		break;
	case 'd': case 'D':
	case 's': case 'S':
	case 'w': case 'W':
		set_ranges(set, tolower(c) == 'd' ? "09" : tolower(c) == 'w' ?
		    "09AZ__az" : "\t\n\f\r  ", isupper(c) != 0);
		t->i += 2;
		return ESC_CLASS;
	case 'A': case 'z': case 'b': case 'B':
		return ESC_ASSERT;
	case 'p': case 'P': case 'Q': case 'E': case 'C':
	case '0': case '1': case '2': case '3':
	case '4': case '5': case '6': case '7':
		/* Go's, and no POSIX form (octal: write \xHH) */
		return fail(t, "this escape is not supported: `%.*s`", 2, p);
	default:
		if (c >= 0x80 || isalnum(c)) {
			if (c >= 0x80) {	/* quote the whole character */
				(void)utf8_decode(p + 1, left - 1, &len);
				len++;
			}
			return fail(t, "invalid escape sequence: `%.*s`",
			    quoted(len), p);
		}
		v = c;	/* punctuation is itself */
	}
	t->i += len;
	return v;
}

/* \A \z \b \B at t->i. */
static int
assertion(struct tr *t)
{
	char c = t->p[t->i + 1];

	if ((c == 'b' || c == 'B') && !(t->flags & RE2_LENIENT))
		return fail(t, "this escape is not supported: `\\%c`: TRE's "
		    "word boundary is not Go's at the ends of the text", c);
	if (c == 'A')
		buf_addc(&t->out, '^');
	else if (c == 'z')
		buf_addc(&t->out, '$');
	else {
		buf_addc(&t->out, '\\');
		buf_addc(&t->out, c);
	}
	t->atom = c == 'z';	/* as after ^ and $ */
	t->i += 2;
	return 0;
}

/* ---- brackets ----------------------------------------------------------- */

/* [:name:] or [:^name:] at t->i: 1 added to set, 0 not one (a '['), -1. */
static int
named_class(struct tr *t, unsigned char *set)
{
	const char *p = t->p + t->i, *name, *end;
	size_t left = t->n - t->i, k, nl;
	int neg;

	if (left < 2 || p[1] != ':' ||
	    (end = util_memfind(p + 2, left - 2, ":]", 2)) == NULL)
		return 0;
	name = p + 2;
	neg = *name == '^';
	name += neg;
	nl = (size_t)(end - name);
	for (k = 0; k < UTIL_ARRAY_LEN(classes); k++)
		if (strlen(classes[k].name) == nl &&
		    memcmp(classes[k].name, name, nl) == 0) {
			set_ranges(set, classes[k].r, neg);
			t->i += (size_t)(end + 2 - p);
			return 1;
		}
	return fail(t, "invalid character class range: `%.*s`",
	    quoted((size_t)(end + 2 - p)), p);
}

/* One member at t->i: a character's value, ESC_CLASS (added), or -1. */
static int
member(struct tr *t, unsigned char *set)
{
	int c;

	if (t->p[t->i] != '\\')
		return (unsigned char)t->p[t->i++];
	if ((c = escape(t, set)) == ESC_ASSERT)
		return fail(t, "invalid escape sequence: `%.*s`", 2,
		    t->p + t->i);
	return c;
}

static int
bracket(struct tr *t)
{
	unsigned char set[256];
	size_t start = t->i, from;
	int neg = 0, first = 1, lo, hi, r, c;

	memset(set, 0, sizeof set);
	if (++t->i < t->n && t->p[t->i] == '^') {
		neg = 1;
		t->i++;
	}
	for (;; first = 0) {
		if (t->i >= t->n)
			return fail(t, "missing closing ]: `%.*s`",
			    quoted(t->n - start), t->p + start);
		if (t->p[t->i] == ']' && !first)
			break;
		if (t->p[t->i] == '[' && (r = named_class(t, set)) != 0) {
			if (r == -1)
				return -1;
			continue;
		}
		from = t->i;
		if ((lo = member(t, set)) == -1)
			return -1;
		if (lo == ESC_CLASS)
			continue;
		if (t->i + 1 >= t->n || t->p[t->i] != '-' ||
		    t->p[t->i + 1] == ']') {
			set[lo] = 1;
			continue;
		}
		t->i++;
		if ((hi = member(t, set)) == -1)
			return -1;
		if (hi == ESC_CLASS || hi < lo)
			return fail(t, "invalid character class range: `%.*s`",
			    quoted(t->i - from), t->p + from);
		memset(set + lo, 1, (size_t)(hi - lo + 1));
	}
	t->i++;
	for (c = 0; neg && c < 256; c++)
		set[c] = !set[c];
	return emit_set(t, set);
}

/* ---- repetition --------------------------------------------------------- */

/*
 * A bound {n}, {n,} or {n,m} at t->i: its length, *lo and *hi (-1: no
 * upper bound), counts stopping past MAX_REPEAT; 0 when the brace is a
 * literal, as Go reads `a{`, `a{,2}` and `a{x}`.
 */
static size_t
bound(const struct tr *t, long *lo, long *hi)
{
	const char *p = t->p + t->i;
	size_t i = 1, left = t->n - t->i;
	long *v = lo;

	*lo = 0;
	*hi = -2;
	while (i < left && isdigit((unsigned char)p[i])) {
		if (*v <= MAX_REPEAT)
			*v = *v * 10 + (p[i] - '0');
		i++;
		if (i < left && p[i] == ',' && v == lo) {
			*hi = -1;
			if (++i < left && isdigit((unsigned char)p[i])) {
				v = hi;
				*hi = 0;
			}
		}
	}
	if (i == 1 || i >= left || p[i] != '}')
		return 0;
	if (*hi == -2)
		*hi = *lo;
	return i + 1;
}

/*
 * A repetition of len bytes at t->i with counts lo and hi (0 and 0 for
 * * + ?).  Go's rules: something to repeat, not itself a repetition, and
 * counts at most 1000, also multiplied along a nesting of groups.
 */
static int
repeat(struct tr *t, size_t len, long lo, long hi)
{
	const char *q = t->p + t->i;
	long count = hi > lo ? hi : lo, v;

	if (t->repeated)
		return fail(t, "invalid nested repetition operator: `%.*s`: a "
		    "repetition of a repetition",
		    quoted((size_t)(q + len - (t->p + t->rep_at))),
		    t->p + t->rep_at);
	if (!t->atom)
		return fail(t, "missing argument to repetition operator: "
		    "`%.*s`", quoted(len), q);
	if (count > MAX_REPEAT)
		return fail(t, "invalid repeat count %ld: at most %d", count,
		    MAX_REPEAT);
	if (hi >= 0 && hi < lo)
		return fail(t, "invalid repeat count: `%.*s`", quoted(len), q);
	if (count > RE_DUP_MAX)	/* TRE's bound, below Go's */
		return fail(t, "repeat count %ld: this matcher takes at most "
		    "%d (Go takes %d); repeat a group instead, as (x{250}){4}",
		    count, RE_DUP_MAX, MAX_REPEAT);
	v = (t->after_close ? t->closed : 1) * (count > 0 ? count : 1);
	if (v > MAX_REPEAT)
		return fail(t, "invalid repeat count: nested counts multiply "
		    "to %ld, more than %d", v, MAX_REPEAT);
	if (v > t->inner[t->depth])
		t->inner[t->depth] = v;
	buf_add(&t->out, q, len);
	t->rep_at = t->i;
	t->i += len;
	t->repeated = 1;
	t->after_close = 0;
	if (t->i < t->n && t->p[t->i] == '?') {
		/* lazy: where a match ends moves, whether there is one not */
		if (!(t->flags & RE2_LENIENT))
			return fail(t, "non-greedy repetition is not "
			    "supported: `%.*s?`: POSIX has no such form",
			    quoted(len), q);
		t->i++;
	}
	return 0;
}

/* ---- groups ------------------------------------------------------------- */

static int
open_group(struct tr *t)
{
	const char *p = t->p + t->i, *name = NULL, *end;
	size_t left = t->n - t->i, skip = 1, nl = 0, k, g;
	int capture = 1;

	if (left > 1 && p[1] == '?') {
		if (left > 2 && p[2] == ':') {
			capture = 0;
			skip = 3;
		} else if (left > 3 && ((p[2] == 'P' && p[3] == '<') ||
		    (p[2] == '<' && p[3] != '=' && p[3] != '!'))) {
			name = p + (p[2] == 'P' ? 4 : 3);
			end = memchr(name, '>', left - (size_t)(name - p));
			if (end == NULL)
				return fail(t, "invalid named capture: `%.*s`",
				    quoted(left), p);
			nl = (size_t)(end - name);
			for (k = 0; k < nl && is_word((unsigned char)name[k]);
			    k++)
				;
			if (nl == 0 || k < nl)
				return fail(t, "invalid named capture: `%.*s`",
				    quoted((size_t)(end + 1 - p)), p);
			skip = (size_t)(end + 1 - p);
		} else
			return fail(t, "flags and look-arounds are not "
			    "supported: `%.*s` (only a leading (?i) is)",
			    quoted(left < 3 ? left : 3), p);
	}
	if (add_group(t) == -1)
		return -1;
	if (capture) {
		g = ++t->re->ngroups;
		t->re->map[g] = t->re->nposix;
		t->re->names[g] = name ? xstrndup(name, nl) : NULL;
	}
	t->inner[++t->depth] = 1;
	buf_addc(&t->out, '(');
	t->i += skip;
	t->atom = 0;
	return 0;
}

static int
close_group(struct tr *t)
{
	if (t->depth == 0)	/* TRE: a literal, or out of memory */
		return fail(t, "unexpected ): `%.*s`", quoted(t->n), t->p);
	t->closed = t->inner[t->depth--];
	if (t->closed > t->inner[t->depth])
		t->inner[t->depth] = t->closed;
	t->after_close = 1;
	buf_addc(&t->out, ')');
	t->i++;
	return 0;
}

/* ---- the translation ---------------------------------------------------- */

/* One token that is not a repetition. */
static int
token(struct tr *t)
{
	unsigned char set[256];
	int c = (unsigned char)t->p[t->i];

	t->repeated = 0;
	t->after_close = 0;
	t->atom = 1;
	switch (c) {
	case '(':
		return open_group(t);
	case ')':
		return close_group(t);
	case '[':
		return bracket(t);
	case '|':
	case '^':
		t->atom = 0;
		/* FALLTHROUGH */
	case '$':
		buf_addc(&t->out, (char)c);
		break;
	case '.':	/* RE2's without (?s): anything but a newline */
		buf_adds(&t->out, "[^\n]");
		break;
	case '\\':
		memset(set, 0, sizeof set);
		if ((c = escape(t, set)) == -1)
			return -1;
		if (c == ESC_CLASS)
			return emit_set(t, set);
		if (c == ESC_ASSERT)
			return assertion(t);
		emit_char(t, c);
		return 0;
	default:
		emit_char(t, c);
	}
	t->i++;
	return 0;
}

static int
translate(struct tr *t)
{
	long lo, hi;
	size_t len;
	char c;

	while (t->i < t->n) {
		c = t->p[t->i];
		if (c == '*' || c == '+' || c == '?') {
			if (repeat(t, 1, 0, 0) == -1)
				return -1;
		} else if (c == '{' && (len = bound(t, &lo, &hi)) > 0) {
			if (repeat(t, len, lo, hi) == -1)
				return -1;
		} else if (token(t) == -1)
			return -1;
	}
	if (t->depth > 0)
		return fail(t, "missing closing ): `%.*s`", quoted(t->n), t->p);
	return 0;
}

/* Frees what re2_compile allocated around the regex_t. */
static void
drop(struct re2 *re)
{
	size_t g;

	for (g = 1; g <= re->ngroups; g++)
		free(re->names[g]);
	free(re->names);
	free(re->map);
	free(re);
}

struct re2 *
re2_compile(const char *pattern, size_t len, int flags, size_t max_len,
    char **err)
{
	struct re2 *re;
	struct tr t;
	size_t parens = 0, i;
	char msg[128];
	int rc, icase = 0;

	*err = NULL;
	if (len > max_len) {
		*err = xasprintf("a pattern longer than %zu bytes", max_len);
		return NULL;
	}
	if (memchr(pattern, '\0', len) != NULL) {
		*err = xstrdup("a NUL byte in a pattern is not supported: "
		    "write \\x00");
		return NULL;
	}
	for (i = 0; i < len; i++)	/* bounds groups and their nesting */
		parens += pattern[i] == '(';
	re = xcalloc(1, sizeof *re);
	re->map = xcalloc(parens + 1, sizeof *re->map);
	re->names = xcalloc(parens + 1, sizeof *re->names);
	t = (struct tr){ .p = pattern, .n = len, .flags = flags, .re = re,
	    .inner = xcalloc(parens + 1, sizeof *t.inner) };
	buf_init(&t.out, 0);
	if (len >= 4 && memcmp(pattern, "(?i)", 4) == 0) {
		icase = 1;
		t.i = 4;
	}
	if (flags & RE2_ANCHORED) {
		buf_adds(&t.out, "^(");
		re->nposix = 1;
	}
	rc = translate(&t);
	free(t.inner);
	if (flags & RE2_ANCHORED)
		buf_adds(&t.out, ")$");
	if (rc == 0 && (rc = regcomp(&re->re, t.out.data ? t.out.data : "",
	    REG_EXTENDED | (icase ? REG_ICASE : 0) |
	    (flags & RE2_NOSUB ? REG_NOSUB : 0))) != 0) {
		regerror(rc, &re->re, msg, sizeof msg);
		(void)fail(&t, "invalid regular expression: %s", msg);
	}
	buf_free(&t.out);
	if (t.err != NULL) {
		drop(re);
		*err = t.err;
		return NULL;
	}
	return re;
}

void
re2_free(struct re2 *re)
{
	if (re == NULL)
		return;
	regfree(&re->re);
	drop(re);
}

/* ---- matching ----------------------------------------------------------- */

int
re2_matches(const struct re2 *re, const char *s, size_t n)
{
	return tre_regnexec(&re->re, s, n, 0, NULL, 0) == 0;
}

/* The leftmost match in s[from..n), POSIX's groups into pm (nposix + 1
 * of them): 1, or 0.  Go goes on in the same text: no ^ at from > 0. */
static int
search(const struct re2 *re, const char *s, size_t n, size_t from,
    regmatch_t *pm)
{
	return tre_regnexec(&re->re, s + from, n - from, re->nposix + 1, pm,
	    from > 0 ? REG_NOTBOL : 0) == 0;
}

/* POSIX's groups pm of a search from `from` as Go's m[0..nm). */
static void
spans(const struct re2 *re, const regmatch_t *pm, size_t from,
    struct re2_span *m, size_t nm)
{
	const regmatch_t *r;
	size_t g;

	for (g = 0; g < nm; g++) {
		r = g > re->ngroups ? NULL : &pm[g == 0 ? 0 : re->map[g]];
		m[g].start = r && r->rm_so >= 0 ? r->rm_so + (long)from : -1;
		m[g].end = r && r->rm_so >= 0 ? r->rm_eo + (long)from : -1;
	}
}

int
re2_find(const struct re2 *re, const char *s, size_t n, struct re2_span *m,
    size_t nm)
{
	regmatch_t *pm = xcalloc(re->nposix + 1, sizeof *pm);
	int found;

	if ((found = search(re, s, n, 0, pm)))
		spans(re, pm, 0, m, nm);
	free(pm);
	return found;
}

/* Go's group number in a replacement: digits, no leading zero. */
static long
group_number(const char *name, size_t nl)
{
	long num = 0;
	size_t i;

	if (nl > 1 && name[0] == '0')
		return -1;
	for (i = 0; i < nl; i++) {
		if (!isdigit((unsigned char)name[i]) || num >= 100000000)
			return -1;
		num = num * 10 + (name[i] - '0');
	}
	return num;
}

/* Go's Regexp.Expand of template r (rn bytes) for match m of s, into b. */
static void
expand(const struct re2 *re, struct buf *b, const char *r, size_t rn,
    const char *s, const struct re2_span *m)
{
	size_t i = 0, nl, g;
	const char *name;
	long num;
	int brace;

	while (i < rn) {
		if (r[i] != '$' || i + 1 >= rn) {
			buf_addc(b, r[i++]);
			continue;
		}
		if (r[i + 1] == '$') {
			buf_addc(b, '$');
			i += 2;
			continue;
		}
		brace = r[i + 1] == '{';
		name = r + i + 1 + brace;
		for (nl = 0; name + nl < r + rn &&
		    is_word((unsigned char)name[nl]); nl++)
			;
		if (nl == 0 || (brace && (name + nl >= r + rn ||
		    name[nl] != '}'))) {
			buf_addc(b, r[i++]);	/* not a reference: text */
			continue;
		}
		i = (size_t)(name + nl - r) + (size_t)brace;
		if ((num = group_number(name, nl)) >= 0)
			g = (size_t)num;	/* past the last: none */
		else	/* the first group of that name that took part */
			for (g = 1; g <= re->ngroups && (re->names[g] == NULL ||
			    strlen(re->names[g]) != nl || memcmp(re->names[g],
			    name, nl) != 0 || m[g].start < 0); g++)
				;
		if (g <= re->ngroups && m[g].start >= 0)
			buf_add(b, s + m[g].start,
			    (size_t)(m[g].end - m[g].start));
	}
}

long
re2_replace_all(const struct re2 *re, const char *s, size_t n,
    const char *repl, size_t rn, int literal, size_t max_matches,
    struct buf *out)
{
	regmatch_t *pm = xcalloc(re->nposix + 1, sizeof *pm);
	struct re2_span *m = xcalloc(re->ngroups + 1, sizeof *m);
	size_t pos = 0, last = 0, next, end;
	long count = 0;

	while (pos <= n && !out->overflow && search(re, s, n, pos, pm)) {
		if ((size_t)count == max_matches) {
			count = -1;
			break;
		}
		count++;
		spans(re, pm, pos, m, re->ngroups + 1);
		end = (size_t)m[0].end;
		buf_add(out, s + last, (size_t)m[0].start - last);
		/* no second replacement for an empty match right after a
		 * match, as Go */
		if (end > last || m[0].start == 0) {
			if (literal)
				buf_add(out, repl, rn);
			else
				expand(re, out, repl, rn, s, m);
		}
		last = end;
		/* on past the match, and at least one character past pos */
		next = pos;
		if (pos < n)
			(void)utf8_next(s, n, &next);
		else
			next = pos + 1;
		pos = next > end ? next : end;
	}
	if (count >= 0 && last < n)
		buf_add(out, s + last, n - last);
	free(pm);
	free(m);
	return count;
}
