/*
 * Kyverno's regular-expression functions: regex_match,
 * regex_replace_all and regex_replace_all_literal, on util/re2.h (Go's
 * RE2 syntax on a matcher linear in the input, as Go's).  Non-greedy
 * repetition and \b are refused here rather than read as POSIX reads
 * them: a replacement's positions depend on them.
 */
#include <stdlib.h>

#include "jp/jp_int.h"
#include "util/re2.h"

#define MAX_PATTERN	1024	/* bytes of pattern */

/* The pattern, argument 1, owned; NULL when refused (k failed). */
static struct re2 *
compile(struct jp_call *k, int flags)
{
	struct re2 *re;
	char *err;

	if ((re = re2_compile(json_string_value(k->args[0]),
	    json_string_length(k->args[0]), flags, MAX_PATTERN, &err)) ==
	    NULL) {
		jp_call_fail(k, 0, JP_ERR_VALUE, "%s", err);
		free(err);
	}
	return re;
}

static json_t *
f_regex_match(struct jp_call *k)
{
	struct re2 *re;
	char num[48];
	const char *s;
	size_t n;
	int found;

	if (jp_kstring(k->args[1], num, sizeof num, &s, &n) < 0)
		return jp_arg_error(k, 1, "string or number"), NULL;
	if ((re = compile(k, RE2_NOSUB)) == NULL)
		return NULL;
	found = re2_matches(re, s, n);
	re2_free(re);
	return json_boolean(found);
}

static json_t *
replace_all(struct jp_call *k, int literal)
{
	struct re2 *re;
	char num1[48], num2[48];
	const char *s, *r;
	size_t n, rn;
	struct buf b;
	json_t *res = NULL;
	long matches;

	if (jp_kstring(k->args[1], num1, sizeof num1, &s, &n) < 0)
		return jp_arg_error(k, 1, "string or number"), NULL;
	if (jp_kstring(k->args[2], num2, sizeof num2, &r, &rn) < 0)
		return jp_arg_error(k, 2, "string or number"), NULL;
	if ((re = compile(k, 0)) == NULL)
		return NULL;
	buf_init(&b, JP_MAX_BYTES);
	/* a step per match */
	matches = re2_replace_all(re, s, n, r, rn, literal,
	    k->c->steps < JP_MAX_STEPS ? JP_MAX_STEPS - k->c->steps : 0, &b);
	re2_free(re);
	if (matches < 0)
		jp_fail(k->c, JP_ERR_LIMIT, "evaluation took more than %d "
		    "steps", JP_MAX_STEPS);
	else if (b.overflow)
		jp_spend(k->c, 0, (size_t)JP_MAX_BYTES + 1);
	else
		res = jp_str_lossy(k->c, b.data ? b.data : "", b.len);
	k->c->steps += matches < 0 ? 0 : (uint64_t)matches;
	buf_free(&b);
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
