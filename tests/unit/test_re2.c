/*
 * util/re2: Go's RE2 syntax on TRE.  Each translation against strings it
 * must and must not match, each refusal with its message in both modes,
 * Go's group numbers and names through (?:...) and the anchoring group,
 * `.` and newlines, and Go's ReplaceAllString.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "util/re2.h"

#define MAX_LEN	4096
#define STRICT	0
#define LENIENT	RE2_LENIENT

static struct re2 *
compile(const char *pattern, int flags)
{
	struct re2 *re;
	char *err;

	re = re2_compile(pattern, strlen(pattern), flags, MAX_LEN, &err);
	if (re == NULL) {
		fprintf(stderr, "%s: %s\n", pattern, err);
		free(err);
	}
	return re;
}

/* Why pattern is refused (owned), or NULL when it compiles. */
static char *
refusal(const char *pattern, size_t len, int flags)
{
	char *err;

	re2_free(re2_compile(pattern, len, flags, MAX_LEN, &err));
	return err;
}

TEST(translations_match_as_go)
{
	static const struct {
		const char *re, *s;
		int match;	/* anchored, as a sensor filter */
	} cases[] = {
		{ "\\d{3}", "123", 1 }, { "\\d{3}", "12a", 0 },
		{ "\\D+", "ab", 1 }, { "\\D", "1", 0 },
		{ "\\w+", "a_1", 1 }, { "\\W", "_", 0 }, { "\\W", "-", 1 },
		{ "\\s", " ", 1 }, { "\\s", "\f", 1 }, { "\\s", "\v", 0 },
		{ "\\S", "\v", 1 }, { "\\S", "\t", 0 },
		/* classes inside brackets, negated ones too */
		{ "[^\\s]+", "abc", 1 }, { "[^\\s]+", "a c", 0 },
		{ "[\\D]", "x", 1 }, { "[\\D]", "7", 0 },
		{ "[^\\D]", "7", 1 }, { "[^\\D]", "x", 0 },
		{ "[\\W\\d]+", "-1", 1 }, { "[\\W\\d]", "a", 0 },
		{ "[\\s]", "\v", 0 }, { "[\\S]", "\v", 1 },
		{ "[[:alpha:]]+", "aZ", 1 }, { "[[:alpha:]]", "1", 0 },
		{ "[[:^digit:]]", "a", 1 }, { "[[:^digit:]]", "1", 0 },
		{ "[[:word:]]+", "a_1", 1 }, { "[[:space:]]", "\v", 1 },
		{ "[[:alpha:][:digit:]-]+", "a-1", 1 },
		/* brackets rebuilt in POSIX's order */
		{ "[]a]", "]", 1 }, { "[\\]x]", "]", 1 }, { "[x\\]]", "]", 1 },
		{ "[a\\-z]", "-", 1 }, { "[a\\-z]", "b", 0 },
		{ "[\\^]", "^", 1 }, { "[\\^]", "\\", 0 }, { "[a^]", "^", 1 },
		{ "[-^]", "^", 1 }, { "[-^]", "-", 1 }, { "[\\^-]", "a", 0 },
		{ "[^^]", "^", 0 }, { "[^^]", "a", 1 }, { "[[]", "[", 1 },
		{ "[[:]", ":", 1 }, { "[a-c-]", "-", 1 }, { "[\\[-\\]]", "\\", 1 },
		{ "[\\x41-\\x43]", "B", 1 }, { "[\\n]", "\n", 1 },
		{ "[^a]", "\n", 1 }, { "[^\\d\\D]", "a", 0 },
		{ "[\\d\\D]", "\n", 1 }, { "[\\x00-\\x1f]", "\t", 1 },
		{ "[\\x00-\\x1f]", " ", 0 }, { "[.]", "a", 0 },
		/* characters */
		{ "\\n\\t\\r\\f\\v\\a", "\n\t\r\f\v\a", 1 },
		{ "x\\x41", "xA", 1 }, { "\\x{41}", "A", 1 },
		{ "\\.", ".", 1 }, { "\\.", "x", 0 }, { "\\<a\\>", "<a>", 1 },
		{ "\\{\\}\\(\\)\\|\\$", "{}()|$", 1 }, { "\\ ", " ", 1 },
		{ "a{", "a{", 1 }, { "a{,2}", "a{,2}", 1 }, { "a{x}", "a{x}", 1 },
		{ "a}", "a}", 1 }, { "]", "]", 1 }, { "a{2,}", "aaa", 1 },
		{ "a{0}b", "b", 1 },
		/* '.' is anything but a newline, as RE2 without (?s) */
		{ "a.b", "a-b", 1 }, { "a.b", "a\nb", 0 }, { ".*", "x\ny", 0 },
		/* groups, flags, anchors */
		{ "(?:ab)+", "abab", 1 }, { "(?P<x>a)b", "ab", 1 },
		{ "(?<x>a)b", "ab", 1 }, { "(?i)^pod", "POD", 1 },
		{ "(?i)[^a]", "A", 0 }, { "^Pod$", "Pod", 1 },
		{ "^Pod$", "APod", 0 }, { "\\APod\\z", "Pod", 1 },
		{ "a|b", "ab", 0 }, { "a|b", "b", 1 }, { "", "", 1 },
		{ "()", "", 1 }, { "a||b", "", 1 }, { "(x+)+y", "xxy", 1 },
	};
	struct re2 *re;
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		re = compile(cases[i].re, RE2_ANCHORED);
		CHECK(re != NULL);
		if (re == NULL)
			continue;
		if (re2_matches(re, cases[i].s, strlen(cases[i].s)) !=
		    cases[i].match) {
			fprintf(stderr, "%s on \"%s\"\n", cases[i].re,
			    cases[i].s);
			CHECK(!"match as Go");
		}
		re2_free(re);
	}
}

/* A NUL in the subject or spelled in the pattern is a character. */
TEST(nul_is_a_character)
{
	struct re2 *re = compile("a\\x00b", RE2_ANCHORED | RE2_NOSUB);
	char *err;

	REQUIRE(re != NULL);
	CHECK(re2_matches(re, "a\0b", 3));
	CHECK(!re2_matches(re, "a b", 3));
	re2_free(re);
	re = compile("a[^b]c", RE2_ANCHORED);
	REQUIRE(re != NULL);
	CHECK(re2_matches(re, "a\0c", 3));
	re2_free(re);
	err = refusal("a\0b", 3, LENIENT);
	CHECK(err != NULL && strstr(err, "NUL byte") != NULL);
	free(err);
}

/* What only a lenient caller (Argo's filters, sprig) takes. */
TEST(lenient_forms)
{
	static const struct {
		const char *re, *s;
		int match;
	} cases[] = {
		{ "a+?b??c*?", "aab", 1 }, { "a{2,3}?", "aaa", 1 },
		{ "\\bfoo\\b", "a foo b", 1 }, { "\\bfoo", "afoo", 0 },
		{ "a\\Bb", "ab", 1 }, { "a\\Bb", "a b", 0 },
	};
	struct re2_span m[1];
	struct re2 *re;
	char *err;
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		re = compile(cases[i].re, LENIENT);
		CHECK(re != NULL);
		if (re == NULL)
			continue;
		CHECK(re2_matches(re, cases[i].s, strlen(cases[i].s)) ==
		    cases[i].match);
		re2_free(re);
		err = refusal(cases[i].re, strlen(cases[i].re), STRICT);
		CHECK(err != NULL);
		free(err);
	}
	/* lazy read as greedy: the match is POSIX's longest */
	re = compile("a+?", LENIENT);
	REQUIRE(re != NULL);
	CHECK(re2_find(re, "aaa", 3, m, 1) == 1 && m[0].end == 3);
	re2_free(re);
}

/* Refused in both modes, with Go's words where Go refuses it too. */
TEST(refusals)
{
	static const struct {
		const char *re, *err;
	} cases[] = {
		{ "(?=x)", "flags and look-arounds are not supported: `(?=`" },
		{ "(?<!x)", "flags and look-arounds" },
		{ "a(?i)b", "flags and look-arounds" },
		{ "(?s).", "flags and look-arounds" },
		{ "\\pL", "this escape is not supported: `\\p`" },
		{ "\\Qa\\E", "this escape is not supported: `\\Q`" },
		{ "\\0", "this escape is not supported" },
		{ "(a)\\1", "this escape is not supported: `\\1`" },
		{ "\\q", "invalid escape sequence: `\\q`" },
		{ "\\8", "invalid escape sequence: `\\8`" },
		{ "\\\xc3\xa9", "invalid escape sequence: `\\\xc3\xa9`" },
		{ "\\xg1", "invalid escape sequence: `\\xg1`" },
		{ "\\x{}", "invalid escape sequence" },
		{ "\\x{110000}", "invalid escape sequence" },
		{ "\\xe9", "this escape is not supported: `\\xe9`" },
		{ "\\x{e9}", "write the character itself" },
		{ "a\\", "trailing backslash at end of expression" },
		{ "[\\b]", "invalid escape sequence: `\\b`" },
		{ "[\\pL]", "this escape is not supported" },
		{ "[a", "missing closing ]: `[a`" },
		{ "[]", "missing closing ]: `[]`" },
		{ "[z-a]", "invalid character class range: `z-a`" },
		{ "[a-\\d]", "invalid character class range: `a-\\d`" },
		{ "[[:foo:]]", "invalid character class range: `[:foo:]`" },
		{ "OOM(Killed", "missing closing ): `OOM(Killed`" },
		{ "a)", "unexpected ): `a)`" },
		{ "]regexrp_\\\\)", "unexpected )" },
		{ "*a", "missing argument to repetition operator: `*`" },
		{ "a|*b", "missing argument to repetition operator: `*`" },
		{ "(+a)", "missing argument to repetition operator: `+`" },
		{ "^*", "missing argument to repetition operator" },
		{ "{2}", "missing argument to repetition operator: `{2}`" },
		{ "a{3,2}", "invalid repeat count: `{3,2}`" },
		{ "(?P<a-b>x)", "invalid named capture: `(?P<a-b>`" },
		{ "(?P<>x)", "invalid named capture" },
		{ "(?P<x", "invalid named capture" },
	};
	char *err;
	size_t i;
	int mode;

	for (mode = STRICT; mode <= LENIENT; mode += LENIENT)
		for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
			err = refusal(cases[i].re, strlen(cases[i].re), mode);
			if (err == NULL || strstr(err, cases[i].err) == NULL)
				fprintf(stderr, "%s: got %s\n", cases[i].re,
				    err ? err : "(compiled)");
			CHECK(err != NULL && strstr(err, cases[i].err));
			free(err);
		}
}

/* What depends on the mode, the length and the number of groups. */
TEST(refusals_per_mode_and_limits)
{
	struct buf b;
	char *err;
	int i;

	err = refusal("a+?", 3, STRICT);
	CHECK(err && strstr(err, "non-greedy repetition is not supported: "
	    "`+?`"));
	free(err);
	err = refusal("\\bx", 3, STRICT);
	CHECK(err && strstr(err, "this escape is not supported: `\\b`"));
	free(err);
	err = refusal("aaaaa", 5, STRICT);	/* fits */
	CHECK(err == NULL);
	CHECK(re2_compile("aaaaa", 5, 0, 4, &err) == NULL);
	CHECK(err && strcmp(err, "a pattern longer than 4 bytes") == 0);
	free(err);
	buf_init(&b, 0);
	for (i = 0; i < 300; i++)
		buf_adds(&b, "(a)");
	err = refusal(b.data, b.len, STRICT);
	CHECK(err == NULL);
	buf_adds(&b, "(?:a)");
	err = refusal(b.data, b.len, LENIENT);
	CHECK(err && strstr(err, "more than 300 groups"));
	free(err);
	buf_free(&b);
}

/*
 * What Go's regexp refuses for its size, refused before the matcher pays
 * for it (23 x `+` took glibc over a minute and 6 GB); what Go accepts
 * still compiles.
 */
TEST(size_as_go)
{
	static const struct {
		const char *re, *err;	/* err NULL: compiles */
	} cases[] = {
		{ "x++++++++", "invalid nested repetition operator: `++`" },
		{ "x+++++++++++++++++++++++", "invalid nested repetition" },
		{ "a**", "invalid nested repetition operator: `**`" },
		{ "a*{2}", "invalid nested repetition operator: `*{2}`" },
		{ "a{2}{3}", "invalid nested repetition operator: `{2}{3}`" },
		{ "a*??", "invalid nested repetition operator: `*??`" },
		{ "a{1001}", "invalid repeat count 1001" },
		{ "a{99999999999999999999}", "invalid repeat count" },
		{ "(a{0,100}){0,100}", "nested counts multiply to 10000" },
		{ "((a{1,20}){1,20}){1,20}", "nested counts multiply to 8000" },
		{ "(?:(?:a{10}){10}){11}", "nested counts multiply to 1100" },
		{ "a{255}", NULL },
		{ "a{1000}", "this matcher takes at most 255" },
		{ "(a{250}){4}", NULL },
		{ "(a{10}){100}", NULL },
		{ "(a{10})(b{100}){10}", NULL },
		{ "a{100}b{20}", NULL },
		{ "(x+)+y", NULL },
		{ "a*?b+?c??d{2,3}?", NULL },
		{ "[+*]+\\++?", NULL },
		{ "\\+\\+", NULL },
		{ "^\\d{1,3}(\\.\\d{1,3}){3}$", NULL },
	};
	char *err;
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		err = refusal(cases[i].re, strlen(cases[i].re), LENIENT);
		if (cases[i].err == NULL) {
			CHECK(err == NULL);
			free(err);
			continue;
		}
		if (err == NULL || strstr(err, cases[i].err) == NULL)
			fprintf(stderr, "%s: got %s\n", cases[i].re,
			    err ? err : "(compiled)");
		CHECK(err != NULL && strstr(err, cases[i].err) != NULL);
		free(err);
	}
}

/* Go's group numbers: (?:...) and the anchoring group have none. */
TEST(group_numbers_are_go_s)
{
	struct re2_span m[5];
	struct re2 *re;
	int flags;

	for (flags = 0; flags <= RE2_ANCHORED; flags += RE2_ANCHORED) {
		re = compile("(?:x)(a)(?:y)(?P<n>b)?(c)", flags);
		REQUIRE(re != NULL);
		CHECK(re2_find(re, "xayc", 4, m, 5) == 1);
		CHECK(m[0].start == 0 && m[0].end == 4);
		CHECK(m[1].start == 1 && m[1].end == 2);
		CHECK(m[2].start == -1 && m[2].end == -1);
		CHECK(m[3].start == 3 && m[3].end == 4);
		CHECK(m[4].start == -1);	/* no fourth group */
		CHECK(re2_find(re, "xbyc", 4, m, 1) == 0);
		re2_free(re);
	}
	re = compile("b", 0);
	REQUIRE(re != NULL);
	CHECK(re2_find(re, "aab", 3, m, 1) == 1 && m[0].start == 2);
	re2_free(re);
}

static void
check_replace(const char *pattern, const char *s, const char *repl,
    int literal, const char *want)
{
	struct re2 *re = compile(pattern, STRICT);
	struct buf b;

	REQUIRE(re != NULL);
	buf_init(&b, 0);
	CHECK(re2_replace_all(re, s, strlen(s), repl, strlen(repl), literal,
	    1000, &b) >= 0);
	if (strcmp(b.data ? b.data : "", want) != 0) {
		fprintf(stderr, "%s on %s by %s: got \"%s\", want \"%s\"\n",
		    pattern, s, repl, b.data, want);
		CHECK(!"replaced as Go");
	}
	buf_free(&b);
	re2_free(re);
}

/* Go's ReplaceAllString and Expand, answers from Go 1.22. */
TEST(replace_all_as_go)
{
	struct re2 *re;
	struct buf b;

	check_replace("([a-z]+)-(\\d+)", "pod-12 x-3", "$2.$1", 0,
	    "12.pod 3.x");
	check_replace("(?P<word>[a-z]+)", "ab cd", "<${word}>", 0,
	    "<ab> <cd>");
	check_replace("(?P<word>[a-z]+)", "ab", "$word.", 0, "ab.");
	check_replace("(?:a)(b)", "ab", "$1", 0, "b");
	check_replace("(a)", "a", "$1x|${1}x|$0|$01|$2|$$|$|${1", 0,
	    "|ax|a|||$|$|${1");
	check_replace("(a)|(b)", "b", "[$1][$2]", 0, "[][b]");
	check_replace("a", "banana", "$1", 1, "b$1n$1n$1");
	check_replace("x*", "abc", "-", 0, "-a-b-c-");
	check_replace("a*", "baaac", "X", 0, "XbXcX");
	check_replace("x*", "\xc3\xa9", "-", 0, "-\xc3\xa9-");
	check_replace("^a", "aaa", "b", 0, "baa");
	check_replace(".+", "one\ntwo", "x", 0, "x\nx");
	check_replace("", "", "e", 0, "e");
	/* a match count past the caller's budget */
	re = compile("a", STRICT);
	REQUIRE(re != NULL);
	buf_init(&b, 0);
	CHECK(re2_replace_all(re, "aaa", 3, "b", 1, 0, 3, &b) == 3);
	buf_reset(&b);
	CHECK(re2_replace_all(re, "aaaa", 4, "b", 1, 0, 3, &b) == -1);
	buf_free(&b);
	re2_free(re);
}

int
main(void)
{
	RUN(translations_match_as_go);
	RUN(nul_is_a_character);
	RUN(lenient_forms);
	RUN(refusals);
	RUN(refusals_per_mode_and_limits);
	RUN(size_as_go);
	RUN(group_numbers_are_go_s);
	RUN(replace_all_as_go);
	return harness_done();
}
