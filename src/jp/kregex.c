/*
 * Kyverno's regular-expression functions: regex_match,
 * regex_replace_all and regex_replace_all_literal.
 *
 * Kyverno uses Go's RE2 syntax, whose matching takes time linear in the
 * input; this program uses TRE (a tagged-NFA matcher with the POSIX
 * regex.h interface, also linear in the input: a nested repetition such
 * as (x+)+y costs what it costs Go, not glibc's exponential backtracking).
 * The pattern is translated: the Perl classes (\d \w \s and their negations),
 * \A and \z, escapes inside brackets, non-capturing (?:...) and named
 * (?P<name>...) groups, and a leading (?i).  What cannot be expressed
 * (non-greedy repetition, \b, other flags) is refused with an error that
 * says so, rather than matching differently.  Group numbers in a
 * replacement ($1, ${name}) are Go's, mapped onto the translation's.
 * Where RE2 and POSIX choose different alternatives of an ambiguous
 * match (leftmost-first vs leftmost-longest), POSIX's answer is given.
 */
#include <stdlib.h>
#include <tre/regex.h>
#include <string.h>

#include "jp/jp_int.h"
#include "util/util.h"

#define MAX_GROUPS	32
#define MAX_PATTERN	1024	/* bytes of pattern */
#define MAX_REPEAT	1000	/* product of all {n,m} counts */

struct rx {
	regex_t	 re;
	int	 ngroups;		/* Go's capturing groups */
	int	 map[MAX_GROUPS + 1];	/* Go group -> POSIX group */
	char	*names[MAX_GROUPS + 1];	/* owned; NULL if unnamed */
};

struct tr {
	const char	*p;
	size_t		 n, i;
	struct buf	 out;
	struct rx	*rx;
	int		 posix;		/* POSIX groups so far */
	int		 repeated;	/* the last atom has a repetition */
	int		 atom;		/* something a repetition can follow */
	long		 product;	/* of {n,m} counts so far */
	int		 depth;		/* groups open */
	const char	*err;
};

static const char *
perl_class(char c, int *neg)
{
	*neg = c == 'D' || c == 'W' || c == 'S';
	switch (c) {
	case 'd': case 'D': return "0-9";
	case 'w': case 'W': return "[:alnum:]_";
	case 's': case 'S': return "\t\n\f\r ";	/* RE2's: no \v */
	default: return NULL;
	}
}

/* A bracket expression from just after '['. */
static int
bracket(struct tr *t)
{
	struct buf items;
	int neg = 0, rb = 0, dash = 0, cneg, first = 1;
	const char *cls;
	char c;

	buf_init(&items, 0);
	if (t->i < t->n && t->p[t->i] == '^') {
		neg = 1;
		t->i++;
	}
	for (; t->i < t->n; t->i++, first = 0) {
		c = t->p[t->i];
		if (c == ']' && !first)
			break;
		if (c == '[' && t->i + 1 < t->n && t->p[t->i + 1] == ':') {
			const char *end = strstr(t->p + t->i, ":]");

			if (end == NULL || end > t->p + t->n)
				break;
			buf_add(&items, t->p + t->i,
			    (size_t)(end - (t->p + t->i)) + 2);
			t->i = (size_t)(end - t->p) + 1;
			continue;
		}
		if (c == '\\' && t->i + 1 < t->n) {
			c = t->p[++t->i];
			if ((cls = perl_class(c, &cneg)) != NULL) {
				if (cneg) {
					t->err = "negated classes inside "
					    "brackets";
					break;
				}
				buf_adds(&items, cls);
			} else if (c == ']')
				rb = 1;
			else if (c == '-')
				dash = 1;
			else if (c == 'n')
				buf_addc(&items, '\n');
			else if (c == 't')
				buf_addc(&items, '\t');
			else if ((c >= 'a' && c <= 'z') || (c >= 'A' &&
			    c <= 'Z') || (c >= '0' && c <= '9')) {
				t->err = "this escape";
				break;
			} else
				buf_addc(&items, c);
			continue;
		}
		if (c == ']')
			rb = 1;
		else
			buf_addc(&items, c);
	}
	if (t->err == NULL && (t->i >= t->n || t->p[t->i] != ']'))
		t->err = "an unclosed '['";
	if (t->err == NULL) {
		buf_addc(&t->out, '[');
		if (neg)
			buf_addc(&t->out, '^');
		if (rb)
			buf_addc(&t->out, ']');
		buf_add(&t->out, items.data ? items.data : "", items.len);
		if (dash)
			buf_addc(&t->out, '-');
		buf_addc(&t->out, ']');
	}
	buf_free(&items);
	return t->err ? -1 : 0;
}

static int
group(struct tr *t)
{
	const char *p = t->p + t->i, *end;
	int capture = 1;
	char *name = NULL;

	if (t->i + 1 < t->n && p[1] == '?') {
		if (t->i + 2 < t->n && p[2] == ':') {
			capture = 0;
			t->i += 2;
		} else if ((t->i + 3 < t->n && p[2] == 'P' && p[3] == '<') ||
		    (t->i + 2 < t->n && p[2] == '<')) {
			p += p[2] == 'P' ? 4 : 3;
			end = memchr(p, '>', t->n - (size_t)(p - t->p));
			if (end == NULL) {
				t->err = "an unclosed group name";
				return -1;
			}
			name = xstrndup(p, (size_t)(end - p));
			t->i = (size_t)(end - t->p);
		} else {
			t->err = "this (?...) group";
			return -1;
		}
	}
	t->posix++;
	if (capture) {
		if (t->rx->ngroups >= MAX_GROUPS) {
			free(name);
			t->err = "more than 32 groups";
			return -1;
		}
		t->rx->ngroups++;
		t->rx->map[t->rx->ngroups] = t->posix;
		t->rx->names[t->rx->ngroups] = name;
	}
	buf_addc(&t->out, '(');
	return 0;
}

/*
 * A repetition operator at t->i.  Go refuses one that follows another
 * ("a**") or nothing; glibc would instead build trees that grow
 * exponentially, so both are refused here, and the counts of {n,m} are
 * capped in product.  A '{' that is not a count is a literal, as in Go.
 */
static int
repetition(struct tr *t)
{
	const char *p = t->p + t->i;
	size_t j = 1;
	long lo = 0, hi = -1;

	if (*p == '{') {
		while (t->i + j < t->n && p[j] >= '0' && p[j] <= '9' &&
		    lo <= MAX_REPEAT)
			lo = lo * 10 + (p[j++] - '0');
		if (j == 1)
			goto literal;
		if (t->i + j < t->n && p[j] == ',') {
			j++;
			if (t->i + j < t->n && p[j] >= '0' && p[j] <= '9')
				for (hi = 0; t->i + j < t->n && p[j] >= '0' &&
				    p[j] <= '9' && hi <= MAX_REPEAT; j++)
					hi = hi * 10 + (p[j] - '0');
		} else
			hi = lo;
		if (t->i + j >= t->n || p[j] != '}')
			goto literal;
		if (lo > MAX_REPEAT || hi > MAX_REPEAT ||
		    (hi >= 0 && hi < lo)) {
			t->err = "a repeat count above 1000";
			return -1;
		}
		t->product *= (hi > lo ? hi : lo) > 1 ? (hi > lo ? hi : lo) : 1;
		if (t->product > MAX_REPEAT) {
			t->err = "repeat counts multiplying past 1000";
			return -1;
		}
	}
	if (!t->atom || t->repeated) {
		t->err = t->repeated ? "a repetition of a repetition" :
		    "a repetition of nothing";
		return -1;
	}
	buf_add(&t->out, p, j);
	t->i += j - 1;
	t->repeated = 1;
	return 0;
literal:
	buf_adds(&t->out, "\\{");
	t->atom = 1;
	t->repeated = 0;
	return 0;
}

static int
translate(struct tr *t, int *icase)
{
	const char *cls;
	char c;
	int neg;

	t->product = 1;
	if (t->n > MAX_PATTERN) {
		t->err = "a pattern longer than 1024 bytes";
		return -1;
	}
	if (t->n >= 4 && memcmp(t->p, "(?i)", 4) == 0) {
		*icase = 1;
		t->i = 4;
	}
	for (; t->i < t->n && t->err == NULL; t->i++) {
		c = t->p[t->i];
		if (c == '\0') {
			t->err = "a NUL byte";
			break;
		}
		if ((c == '*' || c == '+' || c == '?' || c == '}') &&
		    t->i + 1 < t->n && t->p[t->i + 1] == '?') {
			t->err = "non-greedy repetition";
			break;
		}
		if (c == '*' || c == '+' || c == '?' || c == '{') {
			if (repetition(t) < 0)
				break;
			continue;
		}
		/* What follows '(' or '|' or the start is not an atom yet. */
		t->atom = c != '(' && c != '|' && c != '^';
		t->repeated = 0;
		if (c == '[') {
			t->i++;
			if (bracket(t) < 0)
				break;
		} else if (c == '(') {
			if (group(t) < 0)
				break;
			t->depth++;
		} else if (c == ')') {
			/*
			 * Go refuses a ')' that closes nothing; TRE reads it
			 * as a literal, or, after an escaped backslash
			 * ("a\\)"), runs out of memory compiling it.
			 */
			if (t->depth == 0) {
				t->err = "a ')' that closes no group";
				break;
			}
			t->depth--;
			buf_addc(&t->out, c);
		} else if (c == '\\' && t->i + 1 < t->n) {
			c = t->p[++t->i];
			if ((cls = perl_class(c, &neg)) != NULL)
				buf_printf(&t->out, "[%s%s]", neg ? "^" : "",
				    cls);
			else if (c == 'A')
				buf_addc(&t->out, '^');
			else if (c == 'z')
				buf_addc(&t->out, '$');
			else if (c == 'n')
				buf_addc(&t->out, '\n');
			else if (c == 't')
				buf_addc(&t->out, '\t');
			else if ((c >= 'a' && c <= 'z') || (c >= 'A' &&
			    c <= 'Z') || (c >= '0' && c <= '9'))
				t->err = "this escape";
			else {
				buf_addc(&t->out, '\\');
				buf_addc(&t->out, c);
			}
		} else if (c == '.')
			/* RE2's '.' without (?s): anything but a newline */
			buf_adds(&t->out, "[^\n]");
		else
			buf_addc(&t->out, c);
	}
	if (t->err == NULL && t->depth > 0)
		t->err = "a group not closed by ')'";
	return t->err ? -1 : 0;
}

static void
rx_free(struct rx *rx, int compiled)
{
	int i;

	if (compiled)
		regfree(&rx->re);
	for (i = 0; i <= MAX_GROUPS; i++)
		free(rx->names[i]);
}

static int
rx_compile(struct jp_call *k, struct rx *rx)
{
	struct tr t;
	int icase = 0, rc;
	char msg[128];

	memset(rx, 0, sizeof *rx);
	memset(&t, 0, sizeof t);
	t.p = json_string_value(k->args[0]);
	t.n = json_string_length(k->args[0]);
	t.rx = rx;
	buf_init(&t.out, 0);
	if (translate(&t, &icase) < 0) {
		buf_free(&t.out);
		rx_free(rx, 0);
		return jp_call_fail(k, 0, JP_ERR_VALUE, "%s is not supported "
		    "in regular expressions here", t.err);
	}
	rc = regcomp(&rx->re, t.out.data ? t.out.data : "",
	    REG_EXTENDED | (icase ? REG_ICASE : 0));
	buf_free(&t.out);
	if (rc != 0) {
		regerror(rc, &rx->re, msg, sizeof msg);
		rx_free(rx, 0);
		return jp_call_fail(k, 0, JP_ERR_VALUE, "invalid regular "
		    "expression: %s", msg);
	}
	return 0;
}

/* Finds the first match in s[from..n); 0 found, 1 none.  Offsets in m
 * are from s. */
static int
rx_exec(struct rx *rx, const char *s, size_t n, size_t from,
    regmatch_t *m, size_t nm)
{
	size_t i;

	if (tre_regnexec(&rx->re, s + from, n - from, nm, m,
	    from > 0 ? REG_NOTBOL : 0) != 0)
		return 1;
	for (i = 0; i < nm; i++)
		if (m[i].rm_so >= 0) {
			m[i].rm_so += (regoff_t)from;
			m[i].rm_eo += (regoff_t)from;
		}
	return 0;
}

static json_t *
f_regex_match(struct jp_call *k)
{
	struct rx rx;
	regmatch_t m[1];
	char num[48];
	const char *s;
	size_t n;
	int found;

	if (jp_kstring(k->args[1], num, sizeof num, &s, &n) < 0)
		return jp_arg_error(k, 1, "string or number"), NULL;
	if (rx_compile(k, &rx) < 0)
		return NULL;
	found = rx_exec(&rx, s, n, 0, m, 1) == 0;
	rx_free(&rx, 1);
	return json_boolean(found);
}

static int
is_name(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

/* Go's Regexp.Expand of template r for match m into b. */
static void
expand(struct buf *b, const struct rx *rx, const char *s, const regmatch_t *m,
    const char *r, size_t rn)
{
	size_t i = 0, j, nl;
	const char *name;
	long g;
	int k, digits;

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
		if (r[i + 1] == '{') {
			for (j = i + 2; j < rn && is_name(r[j]); j++)
				;
			if (j == i + 2 || j >= rn || r[j] != '}') {
				buf_addc(b, r[i++]);
				continue;
			}
			name = r + i + 2;
			nl = j - i - 2;
			i = j + 1;
		} else {
			for (j = i + 1; j < rn && is_name(r[j]); j++)
				;
			if (j == i + 1) {
				buf_addc(b, r[i++]);
				continue;
			}
			name = r + i + 1;
			nl = j - i - 1;
			i = j;
		}
		digits = 1;
		for (j = 0; j < nl; j++)
			digits = digits && name[j] >= '0' && name[j] <= '9';
		g = -1;
		if (digits && nl < 6) {
			for (g = 0, j = 0; j < nl; j++)
				g = g * 10 + (name[j] - '0');
		} else if (!digits) {
			for (k = 1; k <= rx->ngroups; k++)
				if (rx->names[k] &&
				    strlen(rx->names[k]) == nl &&
				    memcmp(rx->names[k], name, nl) == 0)
					g = k;
		}
		if (g < 0 || g > rx->ngroups)
			continue;
		k = g == 0 ? 0 : rx->map[g];
		if (m[k].rm_so >= 0)
			buf_add(b, s + m[k].rm_so,
			    (size_t)(m[k].rm_eo - m[k].rm_so));
	}
}

static json_t *
replace_all(struct jp_call *k, int literal)
{
	struct rx rx;
	regmatch_t m[MAX_GROUPS + 1];
	char num1[48], num2[48];
	const char *s, *r;
	size_t n, rn, last = 0, pos = 0, w, end;
	struct buf b;
	json_t *res = NULL;

	if (jp_kstring(k->args[1], num1, sizeof num1, &s, &n) < 0)
		return jp_arg_error(k, 1, "string or number"), NULL;
	if (jp_kstring(k->args[2], num2, sizeof num2, &r, &rn) < 0)
		return jp_arg_error(k, 2, "string or number"), NULL;
	if (rx_compile(k, &rx) < 0)
		return NULL;
	buf_init(&b, JP_MAX_BYTES);
	while (pos <= n) {
		if (++k->c->steps > JP_MAX_STEPS) {
			jp_fail(k->c, JP_ERR_LIMIT, "evaluation took more "
			    "than %d steps", JP_MAX_STEPS);
			goto out;
		}
		if (rx_exec(&rx, s, n, pos, m, MAX_GROUPS + 1) != 0)
			break;
		end = (size_t)m[0].rm_eo;
		buf_add(&b, s + last, (size_t)m[0].rm_so - last);
		/* No second replacement for an empty match right after a
		 * match, as Go does. */
		if (end > last || m[0].rm_so == 0) {
			if (literal)
				buf_add(&b, r, rn);
			else
				expand(&b, &rx, s, m, r, rn);
		}
		last = end;
		w = pos;
		if (pos < n)
			utf8_next(s, n, &w);
		else
			w = pos + 1;
		pos = w > end ? w : end;
	}
	if (last < n)
		buf_add(&b, s + last, n - last);
	if (b.overflow)
		jp_spend(k->c, 0, (size_t)JP_MAX_BYTES + 1);
	else
		res = jp_str_lossy(k->c, b.data ? b.data : "", b.len);
out:
	buf_free(&b);
	rx_free(&rx, 1);
	return res;
}

static json_t *
f_regex_replace_all(struct jp_call *k)
{
	return replace_all(k, 0);
}

static json_t *
f_regex_replace_all_literal(struct jp_call *k)
{
	return replace_all(k, 1);
}

#define SN (JT_STR | JT_NUM)
static const struct jp_func kregex[] = {
	{ "regex_match", 2, 2, { JT_STR, SN }, f_regex_match, 0 },
	{ "regex_replace_all", 3, 3, { JT_STR, SN, SN }, f_regex_replace_all,
	    0 },
	{ "regex_replace_all_literal", 3, 3, { JT_STR, SN, SN },
	    f_regex_replace_all_literal, 0 },
};
#undef SN

const struct jp_func *
jp_kregex_table(size_t *n)
{
	*n = UTIL_ARRAY_LEN(kregex);
	return kregex;
}
