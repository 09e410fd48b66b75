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

/* ---- operators ---------------------------------------------------------- */

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

	CHECK(duration_parse_ns("1h30m", &ns) == 0 &&
	    ns == 5400000000000LL);
	CHECK(duration_parse_ns("1.5h", &ns) == 0 && ns == 5400000000000LL);
	CHECK(duration_parse_ns("-90s", &ns) == 0 && ns == -90000000000LL);
	CHECK(duration_parse_ns("250\xc2\xb5s", &ns) == 0 && ns == 250000);
	CHECK(duration_parse_ns("0", &ns) == 0 && ns == 0);
	CHECK(duration_parse_ns("5", &ns) == -1);
	CHECK(duration_parse_ns("5d", &ns) == -1);
	CHECK(duration_parse_ns("", &ns) == -1);
	CHECK(duration_parse_ns(".s", &ns) == -1);
	CHECK(duration_parse_ns("3000000h", &ns) == -1);	/* overflow */
	CHECK(gofmt_parse_float("1e3", &f) == 0 && f == 1000);
	CHECK(gofmt_parse_float("-Inf", &f) == 0 && f < 0);
	CHECK(gofmt_parse_float(" 1", &f) == -1);
	CHECK(gofmt_parse_float("0x10", &f) == -1);
	CHECK(gofmt_parse_float("1e999", &f) == -1);
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
		CHECK(gofmt_json(&b, v, GOFMT_HTML) == 0);
		CHECK_STR(b.data, cases[i].marshal);
		buf_free(&b);
		json_decref(v);
	}
}

static int
count_var(void *arg, const char *expr, size_t len)
{
	(void)expr;
	(void)len;
	(*(int *)arg)++;
	return 0;
}

/* ---- substitution ------------------------------------------------------- */

TEST(substitute_table)
{
	struct mdoc **docs;
	json_t *ctx, *cases, *c;
	size_t n, i;

	docs = load(DATA "substitute.yaml", &n);
	if (n != 1) {
		CHECK(n == 1);
		free_docs(docs, n);
		return;
	}
	ctx = json_object_get(docs[0]->root, "context");
	cases = json_object_get(docs[0]->root, "cases");
	CHECK(json_array_size(cases) > 35);
	json_array_foreach(cases, i, c) {
		const char *text = json_string_value(json_object_get(c,
		    "text"));
		const char *want_err = json_string_value(json_object_get(c,
		    "error"));
		json_t *want = json_object_get(c, "want"), *got;
		char *err = NULL, *g, *w;

		got = pol_substitute(text, ctx, NULL, &err);
		if (want_err ? got == NULL && err && strstr(err, want_err) :
		    got != NULL && gofmt_equal(got, want)) {
			json_decref(got);
			free(err);
			continue;
		}
		g = got ? json_dumps(got, JSON_ENCODE_ANY) : NULL;
		w = want ? json_dumps(want, JSON_ENCODE_ANY) : NULL;
		fprintf(stderr, "%s line %d: %s: got %s%s%s, want %s\n",
		    DATA "substitute.yaml", conf_loc(docs[0], c).line, text,
		    g ? g : "error", err ? ": " : "", err ? err : "",
		    want_err ? want_err : w);
		harness_cur_failed = 1;
		free(g);
		free(w);
		free(err);
		json_decref(got);
	}
	free_docs(docs, n);
}

/* Kyverno's preconditions resolver, DELETE, and walking the variables. */
/* pol_vars_each's visitor: each expression into the cache. */
static int
add_var(void *arg, const char *expr, size_t len)
{
	char *err = NULL;

	(void)len;
	if (pol_cache_add(arg, expr, &err) != 0) {
		fprintf(stderr, "%s\n", err);
		free(err);
	}
	return 0;
}

TEST(substitute_modes)
{
	json_t *ctx = parse("{\"request\":{\"operation\":\"DELETE\","
	    "\"object\":null,\"oldObject\":{\"metadata\":{\"name\":"
	    "\"gone\"}}}}"), *v, *tmpl;
	char *err = NULL;
	int count = 0;

	/* a failing variable is an error, or "" in preconditions */
	v = pol_subst("{{ length(`1`) }}", ctx, NULL, NULL, POL_VAR_STRICT, 0,
	    &err);
	CHECK(v == NULL && err != NULL);
	free(err);
	v = pol_subst("{{ length(`1`) }}", ctx, NULL, NULL, POL_VAR_LENIENT,
	    0, &err);
	CHECK(v != NULL && json_is_string(v) && json_string_length(v) == 0);
	json_decref(v);
	v = pol_subst("a{{ length(`1`) }}b", ctx, NULL, NULL,
	    POL_VAR_LENIENT, 0, &err);
	CHECK(v != NULL && strcmp(json_string_value(v), "ab") == 0);
	json_decref(v);
	/* text without a variable is itself; not UTF-8 is still refused */
	v = pol_subst("plain {text} } {", ctx, NULL, NULL, POL_VAR_STRICT, 0,
	    &err);
	CHECK(v != NULL && strcmp(json_string_value(v), "plain {text} } {") ==
	    0 && err == NULL);
	json_decref(v);
	v = pol_subst("bad \xff", ctx, NULL, NULL, POL_VAR_STRICT, 0, &err);
	CHECK(v == NULL && err != NULL && strstr(err, "UTF-8") != NULL);
	free(err);
	err = NULL;
	v = pol_subst("\\{{ x }}", ctx, NULL, NULL, POL_VAR_STRICT, 0, &err);
	CHECK(v != NULL && strcmp(json_string_value(v), "{{ x }}") == 0);
	json_decref(v);
	/* for DELETE, request.object reads request.oldObject */
	v = pol_subst("{{ request.object.metadata.name }}", ctx, NULL, NULL,
	    POL_VAR_STRICT, 1, &err);
	CHECK(v != NULL && json_is_string(v) &&
	    strcmp(json_string_value(v), "gone") == 0);
	json_decref(v);
	v = pol_subst("{{ request.object.metadata.name }}", ctx, NULL, NULL,
	    POL_VAR_STRICT, 0, &err);
	CHECK(v != NULL && json_is_null(v));
	json_decref(v);
	/* whole documents: strings inside lists and objects, keys too */
	tmpl = parse("{\"{{ request.operation }}\":[\"{{ request.oldObject."
	    "metadata.name }}\",2]}");
	v = pol_subst_json(tmpl, ctx, NULL, NULL, POL_VAR_STRICT, 0, &err);
	CHECK(v != NULL && json_is_array(json_object_get(v, "DELETE")));
	CHECK(v != NULL && strcmp(json_string_value(json_array_get(
	    json_object_get(v, "DELETE"), 0)), "gone") == 0);
	json_decref(v);
	json_decref(tmpl);
	CHECK_INT(pol_vars_each("{{ a }} x {{ b.{{ c }} }} \\{{ d }}",
	    count_var, &count), 0);
	CHECK_INT(count, 2);	/* a and c: b.{{c}} is not complete */
	json_decref(ctx);
}

/*
 * A condition key that is one {{ }} alone is compiled once
 * (pol_cache_whole) and evaluated as compiled (pol_subst_var): the same
 * values and the same errors as pol_subst, in both modes; any other text
 * is not such a key.
 */
TEST(substitute_whole_variable_as_compiled)
{
	static const char *const whole[] = {
		"{{ request.operation }}", "{{request.object.metadata.name}}",
		"{{  length(`1`) }}", "{{ missing.path }}",
		"{{ {a: request.operation} }}",
	};
	static const char *const not_whole[] = {
		"x{{ request.operation }}", "{{ request.operation }} ",
		"{{ a.{{ request.operation }} }}", "\\{{ request.operation }}",
		"{{ request.operation }}{{ request.operation }}", "plain",
		"{{ not.in.cache }}",
	};
	json_t *ctx = parse("{\"request\":{\"operation\":\"CREATE\","
	    "\"object\":{\"metadata\":{\"name\":\"n\"}}}}"), *a, *b;
	struct pol_cache *c = pol_cache_new();
	const struct jp_expr *e;
	char *err = NULL, *werr = NULL;
	size_t i;
	int mode;

	for (i = 0; i < UTIL_ARRAY_LEN(whole); i++)
		pol_vars_each(whole[i], add_var, c);
	for (i = 0; i < UTIL_ARRAY_LEN(whole); i++) {
		e = pol_cache_whole(c, whole[i]);
		CHECK(e != NULL);
		for (mode = POL_VAR_STRICT; e && mode <= POL_VAR_LENIENT;
		    mode++) {
			a = pol_subst(whole[i], ctx, NULL, c, mode, 0, &err);
			b = pol_subst_var(e, ctx, NULL, mode, &werr);
			CHECK((a == NULL) == (b == NULL));
			CHECK(a == NULL || json_equal(a, b));
			if (err || werr)
				CHECK_STR(werr, err);
			json_decref(a);
			json_decref(b);
			free(err);
			free(werr);
			err = werr = NULL;
		}
	}
	for (i = 0; i < UTIL_ARRAY_LEN(not_whole); i++)
		CHECK(pol_cache_whole(c, not_whole[i]) == NULL);
	/* a condition value substitutes to itself when it is plain */
	CHECK(pol_subst_plain("true", 4) && pol_subst_plain("", 0));
	CHECK(!pol_subst_plain("a{{ b }}", 8) && !pol_subst_plain("\\{{ b }}",
	    9));
	CHECK(!pol_subst_plain("a\0b", 3));	/* pol_subst cuts at the NUL */
	pol_cache_free(c);
	json_decref(ctx);
}

/* Bounds: deep nesting and huge results are errors, not crashes. */
TEST(substitute_bounds)
{
	struct buf b;
	json_t *ctx = parse("{\"s\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}");
	json_t *v;
	char *err = NULL;
	int i;

	buf_init(&b, 0);
	for (i = 0; i < 40; i++)
		buf_adds(&b, "{{ ");
	buf_adds(&b, "s");
	for (i = 0; i < 40; i++)
		buf_adds(&b, " }}");
	v = pol_substitute(b.data, ctx, NULL, &err);
	/* too deep to be a variable: left as text, no crash */
	CHECK(v != NULL || err != NULL);
	json_decref(v);
	free(err);
	err = NULL;
	buf_reset(&b);
	for (i = 0; i < 40000; i++)
		buf_adds(&b, "{{ s }}");
	v = pol_substitute(b.data, ctx, NULL, &err);
	CHECK(v == NULL && err != NULL && strstr(err, "longer") != NULL);
	free(err);
	buf_free(&b);
	json_decref(ctx);
}

/* ---- whole policies ----------------------------------------------------- */

/* The cluster lookup() reads: a list of objects. */
static json_t *
table_lookup(void *ctx, const char *kind, const char *ns, const char *name)
{
	json_t *objs = ctx, *o;
	size_t i;

	json_array_foreach(objs, i, o) {
		json_t *md = json_object_get(o, "metadata");
		const char *ons = json_string_value(json_object_get(md,
		    "namespace"));

		if (strcmp(json_string_value(json_object_get(o, "kind")) ?
		    json_string_value(json_object_get(o, "kind")) : "",
		    kind) != 0)
			continue;
		if (strcmp(ons ? ons : "", ns ? ns : "") != 0)
			continue;
		if (json_string_value(json_object_get(md, "name")) &&
		    strcmp(json_string_value(json_object_get(md, "name")),
		    name) == 0)
			return json_incref(o);
	}
	return NULL;
}

static int
str_is(json_t *v, const char *s)
{
	return json_is_string(v) && s && strcmp(json_string_value(v), s) == 0;
}

/* Whether the verdict is what case c expects; reports what differs. */
static int
verdict_is(const char *file, int line, const char *name,
    const struct pol_verdict *got, json_t *want)
{
	json_t *wv = json_object_get(want, "violations"), *w;
	json_t *rules = json_object_get(want, "rules");
	size_t i;
	int ok = 1;

	/* rules: just the names of the rules violated, in order */
	if (rules != NULL) {
		ok = json_array_size(rules) == got->n;
		for (i = 0; ok && i < got->n; i++)
			ok = str_is(json_array_get(rules, i), got->v[i].rule);
		if (!ok) {
			fprintf(stderr, "%s:%d: %s: rules violated:", file,
			    line, name);
			for (i = 0; i < got->n; i++)
				fprintf(stderr, " %s", got->v[i].rule);
			fprintf(stderr, "\n");
		}
		if (wv == NULL)
			return ok;
	}

	if (json_is_boolean(json_object_get(want, "denied")) &&
	    got->denied != json_is_true(json_object_get(want, "denied"))) {
		fprintf(stderr, "%s:%d: %s: denied is %d\n", file, line, name,
		    got->denied);
		ok = 0;
	}
	if (json_array_size(wv) != got->n) {
		fprintf(stderr, "%s:%d: %s: %zu violations, want %zu\n", file,
		    line, name, got->n, json_array_size(wv));
		ok = 0;
	}
	for (i = 0; i < got->n; i++) {
		const struct pol_violation *v = &got->v[i];
		const char *msg, *sub;

		if (!ok || i >= json_array_size(wv)) {
			fprintf(stderr, "    got %s/%s %s: %s\n", v->policy,
			    v->rule, v->enforce ? "Enforce" : "Audit",
			    v->message);
			continue;
		}
		w = json_array_get(wv, i);
		msg = json_string_value(json_object_get(w, "message"));
		sub = json_string_value(json_object_get(w, "contains"));
		if (!str_is(json_object_get(w, "rule"), v->rule) ||
		    (json_object_get(w, "policy") &&
		    !str_is(json_object_get(w, "policy"), v->policy)) ||
		    (json_is_boolean(json_object_get(w, "enforce")) &&
		    json_is_true(json_object_get(w, "enforce")) !=
		    v->enforce) ||
		    (msg && strcmp(msg, v->message) != 0) ||
		    (sub && strstr(v->message, sub) == NULL)) {
			fprintf(stderr, "%s:%d: %s: violation %zu is %s/%s "
			    "%s: %s\n", file, line, name, i, v->policy,
			    v->rule, v->enforce ? "Enforce" : "Audit",
			    v->message);
			ok = 0;
		}
	}
	return ok;
}

/*
 * results: every rule that matched, with its outcome (pol_evaluate with
 * POL_ALL), each {rule, result, contains?} in policy and rule order.
 */
static int
results_are(const char *file, int line, const char *name,
    const struct pol_verdict *got, json_t *want)
{
	json_t *w;
	size_t i;
	int ok = json_array_size(want) == got->n;

	for (i = 0; ok && i < got->n; i++) {
		const char *sub;

		w = json_array_get(want, i);
		sub = json_string_value(json_object_get(w, "contains"));
		ok = str_is(json_object_get(w, "rule"), got->v[i].rule) &&
		    str_is(json_object_get(w, "result"),
		    pol_outcome_name(got->v[i].outcome)) &&
		    (sub == NULL || strstr(got->v[i].message, sub) != NULL);
	}
	if (!ok) {
		fprintf(stderr, "%s:%d: %s: results differ; got:\n", file, line,
		    name);
		for (i = 0; i < got->n; i++)
			fprintf(stderr, "    {rule: %s, result: %s} %s\n",
			    got->v[i].rule, pol_outcome_name(got->v[i].outcome),
			    got->v[i].message);
	}
	return ok;
}

/*
 * One file of tests/policy/admit: policies (and `include`d policy files),
 * then a PolicyTest document with the cluster lookup() sees and the cases.
 */
static void
run_admit_file(const char *file)
{
	struct mdoc **docs, **inc = NULL;
	const struct mdoc *tdoc = NULL;
	struct pol_set *set = pol_set_new();
	json_t *test = NULL, *cases, *c, *cluster;
	struct jp_env env;
	struct diags d;
	size_t n, ninc = 0, i;

	docs = load(file, &n);
	diag_init(&d);
	for (i = 0; i < n; i++) {
		if (docs[i]->kind && strcmp(docs[i]->kind, "PolicyTest") == 0) {
			tdoc = docs[i];
			test = docs[i]->root;
		}
		else if (pol_set_add(set, docs[i], &d) != 0)
			CHECK(!"every policy of the file compiles");
	}
	if (test && json_is_string(json_object_get(test, "include"))) {
		inc = load(json_string_value(json_object_get(test, "include")),
		    &ninc);
		for (i = 0; i < ninc; i++)
			CHECK(pol_set_add(set, inc[i], &d) == 0);
	}
	if (d.n)
		diag_print(&d, stderr);
	CHECK(test != NULL);
	memset(&env, 0, sizeof(env));
	cluster = json_object_get(test, "cluster");
	env.lookup = table_lookup;
	env.lookup_ctx = cluster ? cluster : json_array();
	cases = json_object_get(test, "cases");
	CHECK(json_array_size(cases) > 0);
	json_array_foreach(cases, i, c) {
		struct pol_verdict v;
		const char *op = json_string_value(json_object_get(c,
		    "operation"));
		const char *name = json_string_value(json_object_get(c,
		    "name"));
		struct jp_env e = env;

		/* no cluster to read: lookup() is an error */
		if (json_is_true(json_object_get(c, "noCluster")))
			e.lookup = NULL;
		if (json_object_get(c, "results") != NULL) {
			CHECK(pol_evaluate(set, json_object_get(c, "object"),
			    json_object_get(c, "oldObject"), op ? op :
			    "CREATE", &e, POL_ALL, NULL, &v) == 0);
			if (!results_are(file, conf_loc(tdoc, c).line,
			    name ? name : "?", &v, json_object_get(c,
			    "results")))
				harness_cur_failed = 1;
			pol_verdict_clear(&v);
		}
		CHECK(pol_admit_update(set, json_object_get(c, "object"),
		    json_object_get(c, "oldObject"), op ? op : "CREATE", &e,
		    &v) == 0);
		if ((json_object_get(c, "results") == NULL ||
		    json_object_get(c, "violations") != NULL) &&
		    !verdict_is(file, conf_loc(tdoc, c).line,
		    name ? name : "?", &v, c))
			harness_cur_failed = 1;
		pol_verdict_clear(&v);
	}
	if (cluster == NULL)
		json_decref(env.lookup_ctx);
	diag_free(&d);
	pol_set_free(set);
	free_docs(docs, n);
	free_docs(inc, ninc);
}

TEST(admit_seed)
{
	run_admit_file(DATA "admit/seed.yaml");
}

TEST(admit_match)
{
	run_admit_file(DATA "admit/match.yaml");
}

TEST(admit_conditions)
{
	run_admit_file(DATA "admit/conditions.yaml");
}

TEST(admit_errors)
{
	run_admit_file(DATA "admit/errors.yaml");
}

TEST(admit_pattern)
{
	run_admit_file(DATA "admit/pattern.yaml");
}

TEST(admit_foreach)
{
	run_admit_file(DATA "admit/foreach.yaml");
}

TEST(admit_autogen)
{
	run_admit_file(DATA "admit/autogen.yaml");
}

TEST(admit_images)
{
	run_admit_file(DATA "admit/images.yaml");
}

TEST(admit_nulls)
{
	run_admit_file(DATA "admit/nulls.yaml");
}

TEST(admit_context)
{
	run_admit_file(DATA "admit/context.yaml");
}

TEST(admit_lists)
{
	run_admit_file(DATA "admit/lists.yaml");
}

TEST(admit_request)
{
	run_admit_file(DATA "admit/request.yaml");
}

/*
 * pol_admit_reuse keeps one request context and replaces the members that
 * differ: a run of admissions that changes each member (the namespace
 * coming and going, the kind, the operation, images appearing and going,
 * DELETE) must give, call by call, exactly what a fresh request gives, and
 * leave no reference to an admitted object behind.
 */
TEST(admit_reuse_is_a_fresh_request)
{
	static const char *const objects[][3] = {
		{ "{\"apiVersion\":\"argoproj.io/v1alpha1\",\"kind\":"
		    "\"Workflow\",\"metadata\":{\"name\":\"w1\","
		    "\"namespace\":\"argo-events\"}}", NULL, "CREATE" },
		{ "{\"apiVersion\":\"argoproj.io/v1alpha1\",\"kind\":"
		    "\"Workflow\",\"metadata\":{\"name\":\"w2\","
		    "\"namespace\":\"other\"}}", NULL, "CREATE" },
		{ "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
		    "\"metadata\":{\"name\":\"shop\"}}", NULL, "CREATE" },
		{ "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
		    "{\"name\":\"p\",\"namespace\":\"shop\"},\"spec\":"
		    "{\"containers\":[{\"name\":\"app\",\"image\":"
		    "\"nginx:1\"}]}}", "{\"apiVersion\":\"v1\",\"kind\":"
		    "\"Pod\",\"metadata\":{\"name\":\"was\"}}", "UPDATE" },
		{ "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
		    "\"metadata\":{\"name\":\"c\",\"namespace\":\"shop\"}}",
		    NULL, "DELETE" },
		{ "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
		    "\"metadata\":{\"name\":\"d\",\"namespace\":\"shop\"}}",
		    NULL, "CREATE" },
		{ "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
		    "\"metadata\":{\"name\":\"again\"}}", NULL, "UPDATE" },
		{ "{\"apiVersion\":\"argoproj.io/v1alpha1\",\"kind\":"
		    "\"Workflow\",\"metadata\":{\"name\":\"w3\","
		    "\"namespace\":\"argo-events\"}}", NULL, "CREATE" },
	};
	struct pol_set *set = pol_set_new();
	struct pol_scratch *sc = pol_scratch_new();
	struct pol_verdict fresh, kept;
	struct mdoc **docs;
	struct diags d;
	size_t n, i, k;
	json_t *obj, *old;

	docs = load(DATA "admit/request.yaml", &n);
	diag_init(&d);
	REQUIRE(n == 2 && pol_set_add(set, docs[0], &d) == 0);
	for (k = 0; k < 2; k++) {	/* twice: each from each */
		for (i = 0; i < UTIL_ARRAY_LEN(objects); i++) {
			obj = parse(objects[i][0]);
			old = objects[i][1] ? parse(objects[i][1]) : NULL;
			CHECK(pol_admit_update(set, obj, old, objects[i][2],
			    NULL, &fresh) == 0);
			CHECK(pol_admit_reuse(set, sc, obj, old, objects[i][2],
			    NULL, &kept) == 0);
			CHECK(fresh.n == 1 && kept.n == 1);
			if (fresh.n == 1 && kept.n == 1)
				CHECK_STR(kept.v[0].message,
				    fresh.v[0].message);
			/* nothing of the call is kept */
			CHECK(obj->refcount == 1);
			CHECK(old == NULL || old->refcount == 1);
			pol_verdict_clear(&fresh);
			pol_verdict_clear(&kept);
			json_decref(obj);
			json_decref(old);
		}
	}
	/* the images member, last, comes back in its place */
	obj = parse(objects[3][0]);
	CHECK(pol_admit_reuse(set, sc, obj, NULL, "CREATE", NULL, &kept) ==
	    0);
	CHECK(kept.n == 1 && strstr(kept.v[0].message, "[\"request\","
	    "\"serviceAccountName\",\"serviceAccountNamespace\",\"images\"]")
	    != NULL);
	pol_verdict_clear(&kept);
	json_decref(obj);
	pol_scratch_free(sc);
	pol_scratch_free(NULL);
	diag_free(&d);
	pol_set_free(set);
	free_docs(docs, n);
}

/*
 * The 1-based line of the last occurrence of s in text (the first is the
 * annotation that quotes it), or 0.
 */
static int
line_of(const char *text, const char *s)
{
	const char *hit = NULL, *p;
	int line = 1;

	for (p = text ? strstr(text, s) : NULL; p; p = strstr(p + 1, s))
		hit = p;
	if (hit == NULL)
		return 0;
	for (p = text; p < hit; p++)
		line += *p == '\n';
	return line;
}

/*
 * tests/policy/check.yaml: each policy must be refused with the error its
 * annotations name, on the line holding their text, with their hint, or
 * with that many errors.
 */
TEST(check_errors)
{
	struct mdoc **docs;
	size_t n, i, j, len;
	char *text, *err = NULL;

	text = util_read_file(DATA "check.yaml", 1 << 20, &len, &err);
	CHECK(text != NULL);
	docs = load(DATA "check.yaml", &n);
	CHECK(n >= 10);
	for (i = 0; i < n; i++) {
		json_t *ann = json_object_get(json_object_get(docs[i]->root,
		    "metadata"), "annotations");
		const char *want = json_string_value(json_object_get(ann,
		    "check.remediate.dev/error"));
		const char *at = json_string_value(json_object_get(ann,
		    "check.remediate.dev/at"));
		const char *count = json_string_value(json_object_get(ann,
		    "check.remediate.dev/errors"));
		const char *hint = json_string_value(json_object_get(ann,
		    "check.remediate.dev/hint"));
		struct pol_set *set = pol_set_new();
		struct diags d;
		long long wcount = -1;
		int found = 0, wline = at ? line_of(text, at) : 0;

		if (count)
			CHECK(util_parse_int(count, &wcount) == 0);
		diag_init(&d);
		CHECK_INT(pol_set_add(set, docs[i], &d), -1);
		CHECK_INT(pol_set_count(set), 0);
		for (j = 0; j < d.n; j++)
			if (want && strstr(d.v[j].msg, want) &&
			    (at == NULL || d.v[j].line == wline) &&
			    (hint == NULL || (d.v[j].hint &&
			    strstr(d.v[j].hint, hint))))
				found = 1;
		if (count && (long long)d.errors != wcount)
			found = 0;
		if (!found) {
			fprintf(stderr, "%s: want \"%s\" at line %d, got:\n",
			    docs[i]->name, want, wline);
			diag_print(&d, stderr);
			harness_cur_failed = 1;
		}
		diag_free(&d);
		pol_set_free(set);
	}
	free_docs(docs, n);
	free(text);
	free(err);
}

/* A compiled set says what it holds, for `remediate check`. */
TEST(describe)
{
	struct mdoc **docs;
	struct pol_set *set = pol_set_new();
	struct diags d;
	size_t n;
	char *s;

	diag_init(&d);
	docs = load("examples/seed/manifests/clusterpolicy.yaml", &n);
	CHECK(n == 1 && pol_set_add(set, docs[0], &d) == 0);
	CHECK_INT(pol_set_count(set), 1);
	s = pol_describe(set, 0);
	CHECK_STR(s, "1 rule (validate deny), Enforce");
	free(s);
	s = pol_describe(set, 1);
	CHECK_STR(s, "");
	free(s);
	CHECK_INT(d.n, 0);
	diag_free(&d);
	pol_set_free(set);
	free_docs(docs, n);
	pol_set_free(NULL);
	pol_verdict_clear(NULL);
}

/* ---- robustness ---------------------------------------------------------- */

/* The places of every node below v: (parent, key) or (parent, index). */
struct spot {
	json_t		*parent;
	const char	*key;
	size_t		 idx;
};

static void
spots(json_t *v, struct spot **out, size_t *n, size_t *cap)
{
	const char *key;
	json_t *e;
	size_t i;

	json_object_foreach(v, key, e) {
		xgrow(out, cap, *n + 1, sizeof(**out));
		(*out)[(*n)++] = (struct spot){ v, key, 0 };
		spots(e, out, n, cap);
	}
	json_array_foreach(v, i, e) {
		xgrow(out, cap, *n + 1, sizeof(**out));
		(*out)[(*n)++] = (struct spot){ v, NULL, i };
		spots(e, out, n, cap);
	}
}

/* Follows the path of spot s (found in orig) inside copy. */
static json_t *
twin(json_t *orig, json_t *copy, json_t *parent)
{
	const char *key;
	json_t *e, *r;
	size_t i;

	if (orig == parent)
		return copy;
	json_object_foreach(orig, key, e)
		if ((r = twin(e, json_object_get(copy, key), parent)) != NULL)
			return r;
	json_array_foreach(orig, i, e)
		if ((r = twin(e, json_array_get(copy, i), parent)) != NULL)
			return r;
	return NULL;
}

/*
 * doc with the node at sp replaced by repl, compiled and, when it
 * compiles, used to admit obj.  Returns 1 when it compiled.
 */
static int
mutate_once(const struct mdoc *doc, const struct spot *sp, const char *repl,
    json_t *obj)
{
	struct mdoc m = *doc;
	struct pol_set *set = pol_set_new();
	struct pol_verdict v;
	struct diags dg;
	json_t *p;
	int added = 0;

	m.root = json_deep_copy(doc->root);
	p = twin(doc->root, m.root, sp->parent);
	if (sp->key)
		json_object_set_new(p, sp->key, parse(repl));
	else
		json_array_set_new(p, sp->idx, parse(repl));
	diag_init(&dg);
	if (pol_set_add(set, &m, &dg) == 0) {
		added = 1;
		pol_admit(set, obj, "CREATE", NULL, &v);
		pol_verdict_clear(&v);
		pol_admit(set, obj, "DELETE", NULL, &v);
		pol_verdict_clear(&v);
	} else
		CHECK(dg.errors > 0);
	diag_free(&dg);
	pol_set_free(set);
	json_decref(m.root);
	return added;
}

/*
 * Every node of the test policies replaced, in turn, by a value of each
 * other type: the set must refuse the policy with a diagnostic or admit
 * objects with it, never crash (the sanitizer run checks for leaks and
 * undefined behaviour).
 */
TEST(mutated_policies)
{
	static const char *const files[] = { DATA "admit/conditions.yaml",
	    DATA "admit/match.yaml", DATA "admit/errors.yaml",
	    "examples/seed/manifests/clusterpolicy.yaml" };
	static const char *const repl[] = { "null", "7", "\"{{ x.{{\"",
	    "[]", "{}", "[{}]", "\"{{ request.object }}\"" };
	json_t *obj = parse("{\"apiVersion\":\"apps/v1\",\"kind\":"
	    "\"Deployment\",\"metadata\":{\"name\":\"cart\","
	    "\"namespace\":\"shop\",\"labels\":{\"app\":\"cart\"}},"
	    "\"spec\":{\"replicas\":2}}");
	size_t f, i, r, d, runs = 0, added = 0;

	for (f = 0; f < UTIL_ARRAY_LEN(files); f++) {
		struct mdoc **docs;
		size_t n;

		docs = load(files[f], &n);
		for (d = 0; d < n; d++) {
			struct spot *sp = NULL;
			size_t nsp = 0, cap = 0;

			if (docs[d]->kind && strcmp(docs[d]->kind,
			    "PolicyTest") == 0)
				continue;
			spots(docs[d]->root, &sp, &nsp, &cap);
			for (i = 0; i < nsp; i++)
				for (r = 0; r < UTIL_ARRAY_LEN(repl); r++) {
					added += mutate_once(docs[d], &sp[i],
					    repl[r], obj);
					runs++;
				}
			free(sp);
		}
		free_docs(docs, n);
	}
	CHECK(runs > 1000);
	CHECK(added > 0);
	json_decref(obj);
}

/* Text of braces, backslashes and names: substitution never crashes. */
TEST(random_templates)
{
	static const char alphabet[] = "{}{}\\ .@`'[]|ab(request.object)";
	json_t *ctx = parse("{\"request\":{\"object\":{\"a\":[1,{\"b\":"
	    "\"{{a}}\"}]}},\"a\":\"x\",\"b\":2}");
	unsigned long long seed = 42;
	char text[64];
	int i, j, len;

	for (i = 0; i < 20000; i++) {
		json_t *v;
		char *err = NULL;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		len = (int)(seed >> 59) + 4;
		for (j = 0; j < len && j < (int)sizeof(text) - 1; j++) {
			seed = seed * 6364136223846793005ULL + 1;
			text[j] = alphabet[(seed >> 33) % (sizeof(alphabet) -
			    1)];
		}
		text[j] = '\0';
		v = pol_substitute(text, ctx, NULL, &err);
		CHECK((v == NULL) != (err == NULL));
		json_decref(v);
		free(err);
	}
	json_decref(ctx);
}

/*
 * A values file's namespace labels (pol_values.namespaces) answer
 * namespaceSelector in place of the cluster, whatever the cluster says
 * (match and exclude alike); a namespace they do not name has no labels.
 */
TEST(values_namespaces_answer_namespace_selector)
{
	struct mdoc **docs;
	struct pol_set *set = pol_set_new();
	struct pol_values vs;
	struct pol_verdict v;
	struct jp_env env;
	struct diags d;
	json_t *cluster = parse("[{\"apiVersion\":\"v1\",\"kind\":"
	    "\"Namespace\",\"metadata\":{\"name\":\"shop\",\"labels\":"
	    "{\"env\":\"dev\"}}}]");
	json_t *pod = parse("{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
	    "\"metadata\":{\"name\":\"p\",\"namespace\":\"shop\"},\"spec\":"
	    "{\"containers\":[{\"name\":\"a\",\"image\":\"x:latest\"}]}}");
	size_t n;

	docs = load("tests/data/kyverno-test/namespace-selector/policy.yaml",
	    &n);
	diag_init(&d);
	CHECK(n == 1 && pol_set_add(set, docs[0], &d) == 0);
	memset(&env, 0, sizeof(env));
	env.lookup = table_lookup;
	env.lookup_ctx = cluster;
	/* the cluster's labels: dev, the rule does not apply */
	CHECK(pol_evaluate(set, pod, NULL, "CREATE", &env, POL_ALL, NULL,
	    &v) == 0);
	CHECK(v.n == 0);
	pol_verdict_clear(&v);
	/* the values say prod: it applies, and :latest fails */
	memset(&vs, 0, sizeof(vs));
	vs.namespaces = parse("{\"shop\":{\"env\":\"prod\"}}");
	CHECK(pol_evaluate(set, pod, NULL, "CREATE", &env, POL_ALL, &vs,
	    &v) == 0);
	CHECK(v.n == 1 && v.v[0].outcome == POL_FAIL);
	pol_verdict_clear(&v);
	/* prod but exempt: excluded */
	json_object_set_new(json_object_get(vs.namespaces, "shop"),
	    "remediation.platform/exempt", json_string("true"));
	CHECK(pol_evaluate(set, pod, NULL, "CREATE", &env, POL_ALL, &vs,
	    &v) == 0);
	CHECK(v.n == 0);
	pol_verdict_clear(&v);
	/* not named: no labels, so not prod */
	json_object_del(vs.namespaces, "shop");
	CHECK(pol_evaluate(set, pod, NULL, "CREATE", &env, POL_ALL, &vs,
	    &v) == 0);
	CHECK(v.n == 0);
	pol_verdict_clear(&v);
	json_decref(vs.namespaces);
	json_decref(cluster);
	json_decref(pod);
	diag_free(&d);
	pol_set_free(set);
	free_docs(docs, n);
}

int
main(void)
{
	RUN(operator_table);
	RUN(operator_unknown);
	RUN(readings);
	RUN(go_printing);
	RUN(substitute_table);
	RUN(substitute_modes);
	RUN(substitute_whole_variable_as_compiled);
	RUN(substitute_bounds);
	RUN(admit_seed);
	RUN(admit_match);
	RUN(admit_conditions);
	RUN(admit_errors);
	RUN(admit_pattern);
	RUN(admit_foreach);
	RUN(admit_autogen);
	RUN(admit_context);
	RUN(admit_request);
	RUN(admit_lists);
	RUN(admit_reuse_is_a_fresh_request);
	RUN(admit_nulls);
	RUN(admit_images);
	RUN(check_errors);
	RUN(describe);
	RUN(mutated_policies);
	RUN(random_templates);
	RUN(values_namespaces_answer_namespace_selector);
	return harness_done();
}
