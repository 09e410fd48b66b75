/*
 * Argo Events compiles string filters with Go's regexp (RE2 syntax); we
 * have TRE's POSIX interface.  This file rewrites the RE2 forms people
 * write into POSIX extended syntax:
 *
 *   \d \D \w \W \s \S     classes (also inside [...]; \s is RE2's \t \n
 *                         \f \r and space, without POSIX's \v)
 *   .                     anything but a newline, as RE2 without (?s)
 *   \n \t \r \f \v \xHH   characters
 *   \. \- \[ ...          escaped punctuation (inside [...] too, where
 *                         POSIX has no escapes: the set is rebuilt)
 *   (?:...) (?P<n>...)    plain groups
 *   (?i) at the start     REG_ICASE
 *   *? +? ?? {n,m}?       lazy quantifiers: laziness does not change
 *                         whether a string matches, only where, so they
 *                         become greedy
 *   a{ (no valid bound)   a literal brace, as RE2 reads it
 *
 * Anything else RE2-only (\pL, (?s), \Q..\E) is refused with a message
 * rather than silently meaning something else.
 *
 * What Go's regexp/syntax refuses for its size is refused too, because
 * glibc's regcomp pays for it: a repetition of a repetition (`x++`: Go's
 * "invalid nested repetition operator"; 23 of them took glibc over a
 * minute and 6 GB) and {n,m} counts whose product along a nesting passes
 * 1000 (Go's "invalid repeat count"; `(a{0,100}){0,100}` took 2.3 s and
 * 350 MB).  Measured figures are in docs/sensors.md.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/sensor_int.h"

/* RE2's \s: POSIX's [:space:] also has \v */
#define RE2_SPACE	"\t\n\f\r "

struct rset {
	struct buf	 other;
	int		 neg, rbracket, dash, caret;
};

static void
set_char(struct rset *r, int c)
{
	if (c == ']')
		r->rbracket = 1;
	else if (c == '-')
		r->dash = 1;
	else if (c == '^')
		r->caret = 1;
	else
		buf_addc(&r->other, (char)c);
}

/* An escaped character: its value, or -1 if it is a class or unknown.
 * *adv gets the bytes consumed after the backslash. */
static int
esc_char(const char *s, size_t *adv)
{
	int hi, lo;

	*adv = 1;
	switch (*s) {
	case 'n': return '\n';
	case 't': return '\t';
	case 'r': return '\r';
	case 'f': return '\f';
	case 'v': return '\v';
	case 'a': return '\a';
	case 'x':
		hi = util_hex_digit((unsigned char)s[1]);
		lo = hi < 0 ? -1 : util_hex_digit((unsigned char)s[2]);
		if (lo < 0)
			return -1;
		*adv = 3;
		return hi * 16 + lo;
	default:
		if (ispunct((unsigned char)*s) || *s == ' ')
			return (unsigned char)*s;
		return -1;
	}
}

/* Rewrites a bracket expression starting at s ('['); returns the end. */
static const char *
bracket(const char *s, struct buf *out, char **err)
{
	struct rset r;
	size_t adv;
	int c, first = 1;

	memset(&r, 0, sizeof r);
	buf_init(&r.other, 0);
	s++;
	if (*s == '^') {
		r.neg = 1;
		s++;
	}
	for (;; first = 0) {
		if (*s == '\0') {
			*err = xstrdup("missing closing ]");
			buf_free(&r.other);
			return NULL;
		}
		if (*s == ']' && !first)
			break;
		if (s[0] == '[' && s[1] == ':') {
			const char *e = strstr(s + 2, ":]");

			if (e == NULL) {
				*err = xstrdup("bad character class");
				buf_free(&r.other);
				return NULL;
			}
			buf_add(&r.other, s, (size_t)(e + 2 - s));
			s = e + 2;
			continue;
		}
		if (*s == '\\') {
			s++;
			switch (*s) {
			case 'd': buf_adds(&r.other, "0-9"); s++; continue;
			case 'w': buf_adds(&r.other, "[:alnum:]_"); s++;
				continue;
			case 's': buf_adds(&r.other, RE2_SPACE); s++;
				continue;
			default:
				break;
			}
			if ((c = esc_char(s, &adv)) < 0) {
				*err = xasprintf("unsupported escape \\%c in "
				    "[...]", *s ? *s : ' ');
				buf_free(&r.other);
				return NULL;
			}
			s += adv;
		} else
			c = (unsigned char)*s++;
		if (s[0] == '-' && s[1] != ']' && s[1] != '\0') {
			/* a range: keep it literal, endpoints as written */
			int hi = (unsigned char)s[1];

			s += 2;
			if (hi == '\\') {
				if ((hi = esc_char(s, &adv)) < 0) {
					*err = xstrdup("bad range in [...]");
					buf_free(&r.other);
					return NULL;
				}
				s += adv;
			}
			buf_addc(&r.other, (char)c);
			buf_addc(&r.other, '-');
			buf_addc(&r.other, (char)hi);
			continue;
		}
		set_char(&r, c);
	}
	if (!r.neg && !r.rbracket && !r.dash && r.other.len == 0 && r.caret) {
		buf_adds(out, "\\^");
	} else {
		buf_addc(out, '[');
		if (r.neg)
			buf_addc(out, '^');
		if (r.rbracket)
			buf_addc(out, ']');
		if (r.other.data)
			buf_adds(out, r.other.data);
		if (r.caret)
			buf_addc(out, '^');
		if (r.dash)
			buf_addc(out, '-');
		buf_addc(out, ']');
	}
	buf_free(&r.other);
	return s + 1;
}

/* Is s ("{...") a valid bound {n}, {n,}, {n,m}?  Returns its length. */
static size_t
bound_len(const char *s)
{
	size_t i = 1;

	if (!isdigit((unsigned char)s[i]))
		return 0;
	while (isdigit((unsigned char)s[i]))
		i++;
	if (s[i] == ',')
		for (i++; isdigit((unsigned char)s[i]); i++)
			;
	return s[i] == '}' ? i + 1 : 0;
}

#define MAX_REPEAT	1000	/* Go's bound on nested {n,m} counts */
#define MAX_GROUPS	64

/* Repeat counts along the nesting of groups (Go's repeatIsValid). */
struct counts {
	long	 inner[MAX_GROUPS + 1];	/* largest product inside each */
	int	 depth;
	long	 closed;		/* of the group just closed */
	int	 after_close;		/* the previous token was ')' */
	int	 repeated;		/* the previous token repeated */
	const char *prev;		/* where that quantifier starts */
};

/* A quantifier at s (n bytes; count 0 for * + ?): 0, or -1 with *err. */
static int
quantifier(struct counts *k, const char *s, size_t n, long count,
    char **err)
{
	long v;

	if (k->repeated) {
		*err = xasprintf("invalid nested repetition operator: `%.*s`: "
		    "a repetition of a repetition", (int)(s + n - k->prev),
		    k->prev);
		return -1;
	}
	if (count > MAX_REPEAT) {
		*err = xasprintf("invalid repeat count %ld: at most %d",
		    count, MAX_REPEAT);
		return -1;
	}
	if (count > RE_DUP_MAX) {	/* TRE's bound, below Go's */
		*err = xasprintf("repeat count %ld: this matcher takes at "
		    "most %d (Go takes %d); repeat a group instead, as "
		    "(x{250}){4}", count, RE_DUP_MAX, MAX_REPEAT);
		return -1;
	}
	v = (k->after_close ? k->closed : 1) * (count > 0 ? count : 1);
	if (v > MAX_REPEAT) {
		*err = xasprintf("invalid repeat count: nested counts multiply "
		    "to %ld, more than %d", v, MAX_REPEAT);
		return -1;
	}
	if (v > k->inner[k->depth])
		k->inner[k->depth] = v;
	k->repeated = 1;
	k->prev = s;
	k->after_close = 0;
	return 0;
}

/* The larger count of a bound "{n}", "{n,}", "{n,m}" (capped). */
static long
bound_count(const char *s)
{
	long v = 0, best = 0;

	for (s++; *s != '}'; s++) {
		if (*s == ',') {
			best = v;
			v = 0;
		} else if (v <= MAX_REPEAT)
			v = v * 10 + (*s - '0');
	}
	return v > best ? v : best;
}

/*
 * Go's size rules, checked on the RE2 text before it is translated: walks
 * tokens (escapes, sets, groups, quantifiers) without building anything.
 */
static int
check_size(const char *s, char **err)
{
	struct counts k;
	size_t n;

	memset(&k, 0, sizeof k);
	while (*s) {
		if (*s == '*' || *s == '+' || *s == '?') {
			if (quantifier(&k, s, 1, 0, err) == -1)
				return -1;
			s += s[1] == '?' ? 2 : 1;	/* lazy: same size */
			continue;
		}
		if (*s == '{' && (n = bound_len(s)) != 0) {
			if (quantifier(&k, s, n, bound_count(s), err) == -1)
				return -1;
			s += n + (s[n] == '?');
			continue;
		}
		k.repeated = 0;
		k.after_close = 0;
		if (*s == '\\') {
			s += s[1] ? 2 : 1;
		} else if (*s == '[') {
			s++;
			if (*s == '^')
				s++;
			if (*s == ']')
				s++;
			while (*s && *s != ']')
				s += *s == '\\' && s[1] ? 2 : 1;
			if (*s)
				s++;
		} else if (*s == '(') {
			if (k.depth == MAX_GROUPS) {
				*err = xasprintf("groups nested deeper than %d",
				    MAX_GROUPS);
				return -1;
			}
			k.inner[++k.depth] = 1;
			s++;
		} else if (*s == ')' && k.depth > 0) {
			k.closed = k.inner[k.depth--];
			if (k.closed > k.inner[k.depth])
				k.inner[k.depth] = k.closed;
			k.after_close = 1;
			s++;
		} else
			s++;
	}
	return 0;
}

static int
translate(const char *s, struct buf *out, int *icase, char **err)
{
	size_t adv, n;
	int c;

	if (strncmp(s, "(?i)", 4) == 0) {
		*icase = 1;
		s += 4;
	}
	while (*s) {
		switch (*s) {
		case '[':
			if ((s = bracket(s, out, err)) == NULL)
				return -1;
			continue;
		case '(':
			if (s[1] != '?') {
				buf_addc(out, *s++);
				continue;
			}
			if (s[2] == ':') {
				s += 3;
			} else if (s[2] == 'P' && s[3] == '<') {
				s = strchr(s, '>');
				if (s == NULL) {
					*err = xstrdup("bad named group");
					return -1;
				}
				s++;
			} else if (s[2] == '<' && s[3] != '=' && s[3] != '!') {
				if ((s = strchr(s, '>')) == NULL) {
					*err = xstrdup("bad named group");
					return -1;
				}
				s++;
			} else {
				*err = xstrdup("flags and look-arounds (?...) "
				    "are not supported");
				return -1;
			}
			buf_addc(out, '(');
			continue;
		case '.':
			/* RE2's '.' without (?s): anything but a newline */
			buf_adds(out, "[^\n]");
			s++;
			continue;
		case '*':
		case '+':
		case '?':
			buf_addc(out, *s++);
			if (*s == '?')
				s++;
			continue;
		case '{':
			if ((n = bound_len(s)) == 0) {
				buf_adds(out, "\\{");
				s++;
				continue;
			}
			buf_add(out, s, n);
			s += n;
			if (*s == '?')
				s++;
			continue;
		case '\\':
			s++;
			switch (*s) {
			case 'd': buf_adds(out, "[0-9]"); s++; continue;
			case 'D': buf_adds(out, "[^0-9]"); s++; continue;
			case 'w': buf_adds(out, "[[:alnum:]_]"); s++; continue;
			case 'W': buf_adds(out, "[^[:alnum:]_]"); s++; continue;
			case 's': buf_adds(out, "[" RE2_SPACE "]"); s++; continue;
			case 'S': buf_adds(out, "[^" RE2_SPACE "]"); s++; continue;
			case 'b': case 'B':
				buf_addc(out, '\\');
				buf_addc(out, *s++);
				continue;
			case 'A': buf_addc(out, '^'); s++; continue;
			case 'z': buf_addc(out, '$'); s++; continue;
			default:
				break;
			}
			if ((c = esc_char(s, &adv)) < 0) {
				*err = xasprintf("unsupported escape \\%c",
				    *s ? *s : ' ');
				return -1;
			}
			s += adv;
			if (ispunct(c))
				buf_addc(out, '\\');
			buf_addc(out, (char)c);
			continue;
		default:
			buf_addc(out, *s++);
		}
	}
	return 0;
}

int
sensor_regex_compile(regex_t *re, const char *pattern, int anchored,
    int nosub, char **err)
{
	struct buf b;
	char msg[256];
	int icase = 0, rc, flags;

	*err = NULL;
	if (strlen(pattern) > SENSOR_MAX_PATTERN) {
		*err = xstrdup("regexp too long");
		return -1;
	}
	if (check_size(pattern, err) == -1)
		return -1;
	buf_init(&b, 0);
	if (anchored)
		buf_adds(&b, "^(");
	if (translate(pattern, &b, &icase, err) == -1) {
		buf_free(&b);
		return -1;
	}
	if (anchored)
		buf_adds(&b, ")$");
	flags = REG_EXTENDED | (icase ? REG_ICASE : 0) |
	    (nosub ? REG_NOSUB : 0);
	rc = regcomp(re, b.data ? b.data : "", flags);
	buf_free(&b);
	if (rc != 0) {
		regerror(rc, re, msg, sizeof msg);
		*err = xstrdup(msg);
		return -1;
	}
	return 0;
}
