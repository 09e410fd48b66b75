/*
 * policy: Kyverno operators, {{ }} substitution, and whole policies
 * admitted against objects, from the cases under tests/policy/.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "conf/conf.h"
#include "policy/policy.h"
#include "policy/pol_int.h"

#define DATA	"tests/policy/"

/* Every document of a YAML file; the caller frees them. */
static struct mdoc **
load(const char *path, size_t *n)
{
	struct mdoc **docs = NULL;
	struct diags d;
	char *text, *err = NULL;
	size_t len;

	*n = 0;
	text = util_read_file(path, 1 << 20, &len, &err);
	if (text == NULL) {
		fprintf(stderr, "%s: %s\n", path, err);
		free(err);
		return NULL;
	}
	diag_init(&d);
	if (conf_parse_text(path, text, len, &docs, n, &d) != 0 ||
	    d.errors) {
		diag_print(&d, stderr);
		CHECK(!"the test data parses");
	}
	diag_free(&d);
	free(text);
	return docs;
}

static void
free_docs(struct mdoc **docs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		mdoc_free(docs[i]);
	free(docs);
}

static json_t *
parse(const char *json)
{
	json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);

	if (v == NULL)
		fprintf(stderr, "bad test JSON: %s\n", json);
	return v;
}

/* ---- operators -------------------------------------------------------------- */

TEST(operator_table)
{
	struct mdoc **docs;
	size_t n, i, cases = 0;

	docs = load(DATA "operators.yaml", &n);
	CHECK(n == 1);
	for (i = 0; n == 1 && i < json_array_size(docs[0]->root); i++) {
		json_t *c = json_array_get(docs[0]->root, i);
		const char *op = json_string_value(json_array_get(c, 0));
		char *err = NULL, *k, *v;
		int want = json_is_true(json_array_get(c, 3)), got;

		got = pol_operator(op, json_array_get(c, 1),
		    json_array_get(c, 2), &err);
		if (got != want) {
			k = json_dumps(json_array_get(c, 1), JSON_ENCODE_ANY);
			v = json_dumps(json_array_get(c, 2), JSON_ENCODE_ANY);
			fprintf(stderr, "%s line %d: %s %s %s: got %d, want "
			    "%d%s%s\n", DATA "operators.yaml",
			    conf_loc(docs[0], c).line, k, op, v, got, want,
			    err ? ": " : "", err ? err : "");
			harness_cur_failed = 1;
			free(k);
			free(v);
		}
		free(err);
		cases++;
	}
	CHECK(cases > 150);
	free_docs(docs, n);
}

TEST(operator_unknown)
{
	char *err = NULL;
	json_t *a = json_string("a");

	CHECK_INT(pol_operator("Matches", a, a, &err), -1);
	CHECK(err != NULL && strstr(err, "Matches") != NULL);
	free(err);
	err = NULL;
	CHECK_INT(pol_operator(NULL, a, a, &err), -1);
	free(err);
	/* absent operands are null */
	CHECK_INT(pol_operator("NotEquals", NULL, a, &err), 1);
	CHECK_INT(pol_operator("Equals", NULL, NULL, &err), 0);
	json_decref(a);
}

/* The typed readings on their own, where the table cannot see them. */
TEST(readings)
{
	int64_t ns;
	double f;
	int c;

	CHECK(pol_parse_duration("1h30m", &ns) == 0 &&
	    ns == 5400000000000LL);
	CHECK(pol_parse_duration("1.5h", &ns) == 0 && ns == 5400000000000LL);
	CHECK(pol_parse_duration("-90s", &ns) == 0 && ns == -90000000000LL);
	CHECK(pol_parse_duration("250\xc2\xb5s", &ns) == 0 && ns == 250000);
	CHECK(pol_parse_duration("0", &ns) == 0 && ns == 0);
	CHECK(pol_parse_duration("5", &ns) == -1);
	CHECK(pol_parse_duration("5d", &ns) == -1);
	CHECK(pol_parse_duration("", &ns) == -1);
	CHECK(pol_parse_duration(".s", &ns) == -1);
	CHECK(pol_parse_duration("3000000h", &ns) == -1);	/* overflow */
	CHECK(pol_parse_float("1e3", &f) == 0 && f == 1000);
	CHECK(pol_parse_float("-Inf", &f) == 0 && f < 0);
	CHECK(pol_parse_float(" 1", &f) == -1);
	CHECK(pol_parse_float("0x10", &f) == -1);
	CHECK(pol_parse_float("1e999", &f) == -1);
	CHECK(pol_semver_cmp("1.2.3", "1.2.3", &c) == 0 && c == 0);
	CHECK(pol_semver_cmp("1.2.3-rc.1", "1.2.3-rc.1.0", &c) == 0 &&
	    c == -1);
	CHECK(pol_semver_cmp("1.2.3-1", "1.2.3-a", &c) == 0 && c == -1);
	CHECK(!pol_semver_valid("v1.2.3"));
	CHECK(!pol_semver_valid("1.02.3"));
	CHECK(!pol_semver_valid("1.2"));
	CHECK(!pol_semver_valid("1.2.3-01"));
	CHECK(!pol_semver_valid("1.2.3-"));
	CHECK(pol_semver_valid("1.2.3-0.a.b+c.01"));
}

/* Go's printing, which set operators and substitution rely on. */
TEST(go_printing)
{
	static const struct {
		const char	*json, *sprint, *marshal;
	} cases[] = {
		{ "3", "3", "3" },
		{ "1.5", "1.5", "1.5" },
		{ "1000000", "1e+06", "1000000" },
		{ "1000000.0", "1e+06", "1000000" },
		{ "123456.0", "123456", "123456" },
		{ "0.0001", "0.0001", "0.0001" },
		{ "0.00001", "1e-05", "0.00001" },
		{ "0.0000001", "1e-07", "1e-7" },
		{ "1e21", "1e+21", "1e+21" },
		{ "0.1", "0.1", "0.1" },
		{ "-2.5", "-2.5", "-2.5" },
		{ "true", "true", "true" },
		{ "null", "<nil>", "null" },
		{ "\"a<b>&\\\"\"", "a<b>&\"",
		    "\"a\\u003cb\\u003e\\u0026\\\"\"" },
		{ "[1,\"a\",[true]]", "[1 a [true]]", "[1,\"a\",[true]]" },
		{ "{\"b\":1,\"a\":{\"c\":null}}", "map[a:map[c:<nil>] b:1]",
		    "{\"a\":{\"c\":null},\"b\":1}" },
	};
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		json_t *v = parse(cases[i].json);
		struct buf b;
		char *s;

		if (v == NULL) {
			CHECK(v != NULL);
			continue;
		}
		s = pol_sprint(v);
		CHECK_STR(s, cases[i].sprint);
		free(s);
		buf_init(&b, 0);
		CHECK(pol_marshal(&b, v) == 0);
		CHECK_STR(b.data, cases[i].marshal);
		buf_free(&b);
		json_decref(v);
	}
}

int
main(void)
{
	RUN(operator_table);
	RUN(operator_unknown);
	RUN(readings);
	RUN(go_printing);
	return harness_done();
}
