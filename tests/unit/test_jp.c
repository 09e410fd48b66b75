/*
 * jp: the whole JMESPath compliance suite (each case counts as one check),
 * Kyverno's functions as data (tests/jp/kyverno.json), the bounds, and a
 * replay of the fuzz corpus through compile + eval.
 *
 * JP_COMPLIANCE_DIR names the suite (default tests/data/jmespath-compliance,
 * the official suite copied into the tree); JP_DATA_DIR the Kyverno cases (default
 * tests/jp); JP_CORPUS_DIR the fuzz corpus (default fuzz/corpus/jp).
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "jp/jp.h"
#include "util/util.h"


static const char *
env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names in dir ending with suffix; owned; NULL if no dir. */
static char **
list_dir(const char *dir, const char *suffix, size_t *n)
{
	DIR *d;
	struct dirent *de;
	char **v = NULL;
	size_t cap = 0, sl = strlen(suffix), l;

	*n = 0;
	if ((d = opendir(dir)) == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		l = strlen(de->d_name);
		if (de->d_name[0] == '.' || l < sl ||
		    strcmp(de->d_name + l - sl, suffix) != 0)
			continue;
		xgrow(&v, &cap, *n + 1, sizeof *v);
		v[(*n)++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof *v, name_cmp);
	else {
		free(v);
		v = xcalloc(1, sizeof *v);
	}
	return v;
}

static void
free_list(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* lookup() over a suite's "objects": kind, metadata.namespace, name. */
static json_t *
fake_lookup(void *ctx, const char *kind, const char *ns, const char *name)
{
	json_t *objs = ctx, *o, *md;
	const char *ons;
	size_t i;

	json_array_foreach(objs, i, o) {
		md = json_object_get(o, "metadata");
		ons = json_string_value(json_object_get(md, "namespace"));
		if (strcmp(json_string_value(json_object_get(o, "kind")),
		    kind) == 0 && strcmp(ons ? ons : "", ns) == 0 &&
		    strcmp(json_string_value(json_object_get(md, "name")),
		    name) == 0)
			return json_incref(o);
	}
	return NULL;
}

/*
 * The other two ways to evaluate expr on given, jp_eval_view and
 * jp_eval_doc on an index of given, must agree with got (jp_search's
 * result, err its error): the same value or the same error and message.
 * Returns 1 when they do; on failure prints which way differed.
 */
static int
same_every_way(const char *file, const char *expr, json_t *given,
    const struct jp_env *env, const json_t *got, const struct jp_error *err)
{
	struct jp_error e2;
	struct jp_expr *e;
	struct jp_doc *doc;
	json_t *r, *own;
	int way, ok = 1;

	if ((e = jp_compile(expr, NULL)) == NULL)
		return got == NULL;
	doc = jp_doc_new(given);
	for (way = 0; way < 2; way++) {
		r = way == 0 ? jp_eval_view(e, given, env, &own, &e2) :
		    jp_eval_doc(e, doc, env, &own, &e2);
		if (got != NULL ? r == NULL || !jp_equal(r, got) :
		    r != NULL || e2.kind != err->kind ||
		    strcmp(e2.msg, err->msg) != 0) {
			fprintf(stderr, "%s: %s: %s differs from jp_eval\n",
			    file, expr, way == 0 ? "jp_eval_view" :
			    "jp_eval_doc");
			ok = 0;
		}
		json_decref(own);
	}
	jp_doc_free(doc);
	jp_free(e);
	return ok;
}

/*
 * One case: returns 1 on pass; on failure prints file, expression and
 * what came out.
 */
static int
run_case(const char *file, json_t *given, json_t *c, const struct jp_env *env)
{
	const char *expr = json_string_value(json_object_get(c, "expression"));
	json_t *want = json_object_get(c, "result");
	const char *werr = json_string_value(json_object_get(c, "error"));
	struct jp_error err;
	json_t *got;
	char *gs, *ws;
	int ok;

	if (expr == NULL) {
		fprintf(stderr, "%s: case without expression\n", file);
		return 0;
	}
	got = jp_search(expr, given, env, &err);
	if (werr) {
		ok = got == NULL &&
		    strcmp(jp_errkind_name(err.kind), werr) == 0;
		if (!ok) {
			gs = got ? jp_dump(got, 0) : NULL;
			fprintf(stderr, "%s: %s: want error %s, got %s%s%s\n",
			    file, expr, werr, gs ? gs :
			    jp_errkind_name(err.kind), gs ? "" : ": ",
			    gs ? "" : err.msg);
			free(gs);
		}
	} else if (want) {
		ok = got != NULL && jp_equal(got, want);
		if (!ok) {
			gs = got ? jp_dump(got, 0) : NULL;
			ws = jp_dump(want, 0);
			fprintf(stderr, "%s: %s: want %s, got %s%s%s\n", file,
			    expr, ws, gs ? gs : jp_errkind_name(err.kind),
			    gs ? "" : ": ", gs ? "" : err.msg);
			free(gs);
			free(ws);
		}
	} else {
		/* A benchmark case: it must evaluate without error. */
		ok = got != NULL;
		if (!ok)
			fprintf(stderr, "%s: %s: bench case failed: %s\n", file,
			    expr, err.msg);
	}
	if (!same_every_way(file, expr, given, env, got, &err))
		ok = 0;
	json_decref(got);
	return ok;
}

/* Runs every case of a suite file; returns -1 if it cannot be read. */
static int
run_file(const char *dir, const char *name, const struct jp_env *env,
    int *pass, int *fail)
{
	char path[4096];
	json_error_t je;
	json_t *root, *suite, *c;
	size_t i, j;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((root = json_load_file(path, JSON_DECODE_ANY, &je)) == NULL) {
		fprintf(stderr, "%s: %s\n", path, je.text);
		return -1;
	}
	json_array_foreach(root, i, suite) {
		struct jp_env senv;

		/* A suite may bring a cluster and a clock (kyverno.json). */
		if (env) {
			senv = *env;
			if (json_is_array(json_object_get(suite, "objects"))) {
				senv.lookup = fake_lookup;
				senv.lookup_ctx = json_object_get(suite,
				    "objects");
			}
			if (json_is_integer(json_object_get(suite, "now")))
				senv.now = json_integer_value(
				    json_object_get(suite, "now"));
		}
		json_array_foreach(json_object_get(suite, "cases"), j, c) {
			if (run_case(name, json_object_get(suite, "given"), c,
			    env ? &senv : NULL))
				(*pass)++;
			else
				(*fail)++;
		}
	}
	json_decref(root);
	return 0;
}

TEST(compliance)
{
	const char *dir = env_or("JP_COMPLIANCE_DIR",
	    TEST_DATA "/jmespath-compliance");
	char **files;
	size_t n, i;
	int pass = 0, fail = 0;

	if ((files = list_dir(dir, ".json", &n)) == NULL || n == 0) {
		fprintf(stderr, "compliance suite not found in %s "
		    "(set JP_COMPLIANCE_DIR)\n", dir);
		free_list(files, n);
		CHECK(!"compliance suite present");
		return;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(files[i], "schema.json") == 0)
			continue;
		if (run_file(dir, files[i], NULL, &pass, &fail) < 0)
			fail++;
	}
	free_list(files, n);
	printf("compliance: %d of %d cases pass\n", pass, pass + fail);
	/* Each case is one check in the closing count. */
	harness_passed += pass;
	harness_failed += fail;
	CHECK(pass + fail >= 908);
}

TEST(kyverno_functions)
{
	const char *dir = env_or("JP_DATA_DIR", "tests/jp");
	struct jp_env env = { .now = 0 };
	int pass = 0, fail = 0;

	if (run_file(dir, "kyverno.json", &env, &pass, &fail) < 0) {
		CHECK(!"tests/jp/kyverno.json readable");
		return;
	}
	printf("kyverno: %d of %d cases pass\n", pass, pass + fail);
	harness_passed += pass;
	harness_failed += fail;
	CHECK(pass > 150);
}

static enum jp_errkind
kind_of(const char *expr, json_t *data)
{
	struct jp_error err;
	json_t *r = jp_search(expr, data, NULL, &err);

	json_decref(r);
	return r ? JP_OK : err.kind;
}

TEST(bound_expression_length)
{
	char *big = xmalloc(JP_MAX_EXPR + 2);
	struct jp_error err;

	memset(big, 'a', JP_MAX_EXPR + 1);
	big[JP_MAX_EXPR + 1] = '\0';
	CHECK(jp_compile(big, &err) == NULL);
	CHECK_INT(err.kind, JP_ERR_LIMIT);
	CHECK(strstr(err.msg, "longer than") != NULL);
	big[JP_MAX_EXPR] = '\0';	/* exactly the limit: fine */
	CHECK_INT(kind_of(big, json_null()), JP_OK);
	free(big);
}

TEST(bound_nesting_depth)
{
	struct buf b;
	struct jp_error err;
	int i;

	buf_init(&b, 0);
	for (i = 0; i < JP_MAX_DEPTH + 10; i++)
		buf_addc(&b, '(');
	buf_addc(&b, 'a');
	for (i = 0; i < JP_MAX_DEPTH + 10; i++)
		buf_addc(&b, ')');
	CHECK(jp_compile(b.data, &err) == NULL);
	CHECK_INT(err.kind, JP_ERR_LIMIT);
	CHECK(strstr(err.msg, "deeper") != NULL);
	buf_reset(&b);
	for (i = 0; i < 10000; i++)
		buf_addc(&b, '!');
	buf_addc(&b, 'a');
	CHECK_INT(kind_of(b.data, json_null()), JP_ERR_LIMIT);
	buf_reset(&b);
	for (i = 0; i < 100; i++)
		buf_adds(&b, "[");
	CHECK_INT(kind_of(b.data, json_null()), JP_ERR_SYNTAX);
	buf_free(&b);
}

TEST(bound_result_nodes)
{
	json_t *row = json_array(), *rows = json_array();
	int i;

	/* A 1000 x 1000 projection would build a million values. */
	for (i = 0; i < 1000; i++)
		json_array_append_new(row, json_integer(i));
	for (i = 0; i < 1000; i++)
		json_array_append(rows, row);
	CHECK_INT(kind_of("[*][*]", rows), JP_ERR_LIMIT);
	CHECK_INT(kind_of("[:10][*]", rows), JP_OK);
	json_decref(rows);
	json_decref(row);
}

TEST(bound_string_bytes)
{
	char *mb = xmalloc((1 << 20) + 1);
	json_t *s;
	char *doubling = xstrdup("@"), *next;
	int i;

	/* Seven levels of doubling a megabyte: 128 MiB. */
	for (i = 0; i < 7; i++) {
		next = xasprintf("join('', [%s, %s])", doubling, doubling);
		free(doubling);
		doubling = next;
	}
	memset(mb, 'x', 1 << 20);
	mb[1 << 20] = '\0';
	s = json_string(mb);
	/* Each level doubles (or more) a megabyte: past 64 MiB. */
	CHECK_INT(kind_of(doubling, s), JP_ERR_LIMIT);
	CHECK_INT(kind_of("join('', [@, @])", s), JP_OK);
	CHECK_INT(kind_of("replace_all(@, '', @)", s), JP_ERR_LIMIT);
	json_decref(s);
	free(mb);
	free(doubling);
}

TEST(bound_steps)
{
	json_t *a = json_array();
	struct buf b;
	int i;

	for (i = 0; i < 1000000; i++)
		json_array_append(a, json_false());
	buf_init(&b, 0);
	buf_adds(&b, "length([?");
	for (i = 0; i < 60; i++)
		buf_adds(&b, "!(");
	buf_addc(&b, '@');
	for (i = 0; i < 60; i++)
		buf_addc(&b, ')');
	buf_adds(&b, "])");
	CHECK_INT(kind_of(b.data, a), JP_ERR_LIMIT);
	CHECK_INT(kind_of("length([?@])", a), JP_OK);
	buf_free(&b);
	json_decref(a);
}

/* Every corpus file is "EXPRESSION\0JSON"; none may crash or leak. */
TEST(fuzz_corpus_replay)
{
	const char *dir = env_or("JP_CORPUS_DIR", "fuzz/corpus/jp");
	/* A fixed clock: the three ways must see the same time_now(). */
	const struct jp_env clock = { NULL, NULL, 1795600800000LL };
	char **files, path[4096], *s, *err;
	size_t n, i, len, el;
	json_t *data, *r;
	struct jp_error je;
	struct jp_expr *e;
	int ran = 0;

	if ((files = list_dir(dir, "", &n)) == NULL || n == 0) {
		fprintf(stderr, "fuzz corpus not found in %s\n", dir);
		free_list(files, n);
		CHECK(!"fuzz corpus present");
		return;
	}
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		if ((s = util_read_file(path, 1 << 20, &len, &err)) == NULL) {
			free(err);
			continue;
		}
		el = strlen(s);
		data = el < len ? json_loadb(s + el + 1, len - el - 1,
		    JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL) : NULL;
		if ((e = jp_compile(s, &je)) != NULL) {
			r = jp_eval(e, data ? data : json_null(), &clock, &je);
			CHECK(r != NULL || je.kind != JP_OK);
			CHECK(same_every_way(files[i], s, data ? data :
			    json_null(), &clock, r, &je));
			json_decref(r);
			jp_free(e);
		} else
			CHECK(je.kind != JP_OK && je.msg[0] != '\0');
		json_decref(data);
		free(s);
		ran++;
	}
	free_list(files, n);
	printf("fuzz corpus: %d inputs replayed\n", ran);
	CHECK(ran > 500);
}

TEST(errors_name_function_and_argument)
{
	struct jp_error err;

	CHECK(jp_search("length(`1`)", json_null(), NULL, &err) == NULL);
	CHECK_STR(err.msg, "length() argument 1: expected string or array "
	    "or object, got number");
	CHECK(jp_compile("foo.[", &err) == NULL);
	CHECK_INT(err.kind, JP_ERR_SYNTAX);
	CHECK_INT(err.pos, 5);
	CHECK(jp_compile("lenght(@)", &err) == NULL);
	CHECK(strstr(err.msg, "did you mean length()") != NULL);
	CHECK(jp_compile("random('x')", &err) == NULL);
	CHECK(strstr(err.msg, "not supported") != NULL);
	CHECK_STR(jp_errkind_name(JP_ERR_ARITY), "invalid-arity");
}

TEST(output_keeps_numbers_and_order)
{
	json_t *v = json_loads("{\"z\":0.1,\"a\":[1e21,1e-7,-0.5,3.0,"
	    "123456789012]}", 0, NULL);
	char *s = jp_dump(v, 0);

	CHECK_STR(s, "{\"z\":0.1,\"a\":[1e+21,1e-7,-0.5,3,123456789012]}");
	free(s);
	json_decref(v);
}

/*
 * The dumper writes strings, integers and nesting itself (not through
 * buf or printf): every escape, the integer extremes, empty containers,
 * text longer than its first allocation, and the indented layout.
 */
TEST(output_escapes_integers_and_layout)
{
	json_t *v = json_pack("{s:s, s:I, s:I, s:I, s:[], s:{}, s:[i, b, n]}",
	    "q\"\\\n\r\t\b\f\x01\x1f\x7f\xc3\xa9", "q",
	    "min", (json_int_t)INT64_MIN, "max", (json_int_t)INT64_MAX,
	    "zero", (json_int_t)0, "a", "o", "m", -7, 1);
	json_t *big = json_array();
	struct buf w;
	char *s, *want;
	size_t i;

	s = jp_dump(v, 0);
	CHECK_STR(s, "{\"q\\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u001f\x7f"
	    "\xc3\xa9\":\"q\",\"min\":-9223372036854775808,"
	    "\"max\":9223372036854775807,\"zero\":0,\"a\":[],\"o\":{},"
	    "\"m\":[-7,true,null]}");
	free(s);
	s = jp_dump(json_object_get(v, "m"), JP_DUMP_INDENT);
	CHECK_STR(s, "[\n  -7,\n  true,\n  null\n]");
	free(s);
	for (i = 0; i < 300; i++)
		json_array_append_new(big, json_string("abcdefghij"));
	s = jp_dump(big, 0);
	buf_init(&w, 0);
	for (i = 0; i < 300; i++)
		buf_adds(&w, i ? ",\"abcdefghij\"" : "[\"abcdefghij\"");
	buf_addc(&w, ']');
	want = buf_steal(&w);
	CHECK_STR(s, want);
	free(want);
	free(s);
	s = jp_dump(NULL, 0);
	CHECK_STR(s, "null");
	free(s);
	json_decref(big);
	json_decref(v);
}

/*
 * Strings are scanned eight bytes at a time: every byte value at every
 * place in and around a word reads back the same, and is escaped exactly
 * when JSON requires it (a control byte, '"', '\\').
 */
TEST(output_escapes_every_byte_anywhere)
{
	char in[19], *s;
	json_t *v, *back;
	size_t p, len;
	int c, must, bad = 0;

	for (c = 1; c < 128; c++)
		for (p = 0; p < sizeof in - 1; p++) {
			memset(in, 'a', sizeof in - 1);
			in[sizeof in - 1] = '\0';
			in[p] = (char)c;
			v = json_string(in);
			s = jp_dump(v, 0);
			back = json_loads(s, JSON_DECODE_ANY, NULL);
			len = strlen(s);
			must = c < 0x20 || c == '"' || c == '\\';
			if (back == NULL || !json_equal(back, v) ||
			    (len != sizeof in + 1) != must)
				bad++;
			json_decref(back);
			json_decref(v);
			free(s);
		}
	CHECK_INT(bad, 0);
	v = json_string("\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x99\x82 plain");
	s = jp_dump(v, 0);
	CHECK_STR(s, "\"\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x99\x82 plain\"");
	free(s);
	json_decref(v);
}

/*
 * A literal regular expression the evaluator can never run is refused
 * when the expression is compiled (what `check` does), not at the first
 * evaluation; one it can run, or one from data, compiles.
 */
TEST(regex_literal_checked_at_compile)
{
	struct jp_error err;
	struct jp_expr *e;

	e = jp_compile("regex_match('\\bfoo', @)", &err);
	CHECK(e == NULL);
	CHECK_STR(jp_errkind_name(err.kind), "invalid-value");
	CHECK(strstr(err.msg, "regex_match() argument 1") != NULL);
	CHECK_INT(err.pos, 12);
	e = jp_compile("regex_replace_all('a+?', @, 'b')", &err);
	CHECK(e == NULL);
	e = jp_compile("regex_match('^x\\d', @)", &err);
	CHECK(e != NULL);
	jp_free(e);
	e = jp_compile("regex_match(@, 'x')", &err);
	CHECK(e != NULL);
	jp_free(e);
}

TEST(compiled_expression_is_reusable)
{
	struct jp_expr *e = jp_compile("a[?b > `1`].b | sum(@)", NULL);
	json_t *d1 = json_loads("{\"a\":[{\"b\":1},{\"b\":2},{\"b\":3}]}",
	    0, NULL);
	json_t *d2 = json_loads("{\"a\":[{\"b\":5}]}", 0, NULL);
	json_t *r1, *r2;

	CHECK(e != NULL);
	CHECK_STR(jp_source(e), "a[?b > `1`].b | sum(@)");
	r1 = jp_eval(e, d1, NULL, NULL);
	r2 = jp_eval(e, d2, NULL, NULL);
	CHECK(json_integer_value(r1) == 5 && json_integer_value(r2) == 5);
	json_decref(r1);
	json_decref(r2);
	json_decref(d1);
	json_decref(d2);
	jp_free(e);
	jp_free(NULL);
}

/*
 * Evaluates expr on d; the result must be d's own sub-value want, by
 * jp_search, and borrowed (nothing to drop) by jp_eval_view and through
 * d's index.
 */
static int
picks(const char *expr, json_t *d, const json_t *want)
{
	json_t *r = jp_search(expr, d, NULL, NULL), *own = NULL;
	struct jp_expr *e = jp_compile(expr, NULL);
	struct jp_doc *doc = jp_doc_new(d);
	int ok = r == want;

	json_decref(r);
	ok = ok && jp_eval_view(e, d, NULL, &own, NULL) == want && !own;
	ok = ok && jp_eval_doc(e, doc, NULL, &own, NULL) == want && !own;
	jp_doc_free(doc);
	jp_free(e);
	return ok;
}

/*
 * Fields of objects scanned in order (up to 2 keys) and of hashed ones
 * (more) resolve alike: names of one length differing in any byte, a
 * prefix, the empty name, a NUL inside a name.
 */
TEST(field_lookup_small_and_large_objects)
{
	static const size_t sizes[] = { 1, 2, 3, 8, 40 };
	char key[32], expr[48];
	json_t *o;
	size_t s, i;

	for (s = 0; s < UTIL_ARRAY_LEN(sizes); s++) {
		o = json_object();
		json_object_setn_new(o, "a\0b", 3, json_integer(-1));
		for (i = 0; i + 1 < sizes[s]; i++) {
			snprintf(key, sizeof key, "k%zu", i);
			json_object_set_new(o, key, json_integer((json_int_t)i));
		}
		for (i = 0; i + 1 < sizes[s]; i++) {
			snprintf(expr, sizeof expr, "\"k%zu\"", i);
			snprintf(key, sizeof key, "k%zu", i);
			CHECK(picks(expr, o, json_object_get(o, key)));
		}
		CHECK(picks("kz", o, json_null()));
		CHECK(picks("k", o, json_null()));
		CHECK(picks("k00", o, json_null()));
		CHECK(picks("\"\"", o, json_null()));
		CHECK(picks("\"a\\u0000b\"", o, json_object_getn(o, "a\0b", 3)));
		CHECK(picks("\"a\\u0000c\"", o, json_null()));
		json_object_set_new(o, "", json_true());
		CHECK(picks("\"\"", o, json_true()));
		json_decref(o);
	}
}

/*
 * Pure selections (paths, ||, &&, !, comparisons) hand back the input's
 * own values, not copies, through every shape of chain.
 */
TEST(pure_selections_return_input_values)
{
	json_t *d = json_loads("{\"a\": {\"b\": {\"c\": [10, {\"d\": 4}]}},"
	    " \"e\": \"\", \"f\": [1]}", 0, NULL);
	json_t *c = json_object_get(json_object_get(json_object_get(d, "a"),
	    "b"), "c");
	json_t *f = json_object_get(d, "f");
	size_t rc = c->refcount;

	CHECK(picks("a.b.c", d, c));
	CHECK(picks("a.b | c", d, c));
	CHECK(picks("a | b | c[1] | d", d,
	    json_object_get(json_array_get(c, 1), "d")));
	CHECK(picks("e || f", d, f));
	CHECK(picks("e && f", d, json_object_get(d, "e")));
	CHECK(picks("(e || a).b.c", d, c));
	CHECK(picks("a.b.c[-2]", d, json_array_get(c, 0)));
	CHECK(picks("a.b.c[1].d == `4`", d, json_true()));
	CHECK(picks("!(a.b.c[1].d < `4`) && f", d, f));
	CHECK(picks("a.x.y.z", d, json_null()));
	CHECK(picks("a.b.c[1].d.e || @.f", d, f));
	CHECK(c->refcount == rc);	/* every reference given back */
	json_decref(d);
}

/*
 * sum([...]) adds its values without building the array; it must answer
 * as sum() of the same array built first ([...] | sum(@)) does: numbers,
 * integers past overflow, quantities (Kyverno's sum), type errors, a null
 * input, more values than fit the evaluator's stack.
 */
TEST(sum_of_list_as_sum_of_array)
{
	static const char *lists[] = {
		"[a, b, c]", "[a, `1.5`, c]", "[`9223372036854775807`, a]",
		"['1Gi', '512Mi']", "[a, 'x']", "[a, `true`]", "[]",
		"[sum([a, b]), sum([c, `0.25`])]", "[a, x]", "[a, lookup]",
		"[sum([a, `1.5`]), `0.5`]", "[sum([`9223372036854775807`, a]), a]",
		"[sum(['1Gi']), a]", "[a, sum([a, 'x'])]", "[sum([`1e308`, "
		"`1e308`]), a]", "[sum([sum([a, `2.5`]), `0.5`]), b]",
		"[sum([]), sum([sum([])])]",
	};
	json_t *d = json_loads("{\"a\": 1, \"b\": 2, \"c\": 3}", 0, NULL);
	json_t *r1, *r2, *nul = json_null();
	struct jp_error e1, e2;
	char x1[1200], x2[1200];
	struct buf big;
	size_t i, j, w;

	buf_init(&big, 0);
	buf_addc(&big, '[');
	for (j = 0; j < 40; j++)
		buf_adds(&big, j ? ", a" : "a");
	buf_addc(&big, ']');
	for (i = 0; i <= UTIL_ARRAY_LEN(lists); i++) {
		const char *l = i < UTIL_ARRAY_LEN(lists) ? lists[i] : big.data;

		for (w = 0; w < 2; w++) {
			snprintf(x1, sizeof x1, "sum(%s)", l);
			snprintf(x2, sizeof x2, "%s | sum(@)", l);
			r1 = jp_search(x1, w ? nul : d, NULL, &e1);
			r2 = jp_search(x2, w ? nul : d, NULL, &e2);
			if (w == 0)
				CHECK(r1 != NULL ? r2 != NULL &&
				    jp_equal(r1, r2) && json_typeof(r1) ==
				    json_typeof(r2) : r2 == NULL &&
				    e1.kind == e2.kind &&
				    strcmp(e1.msg, e2.msg) == 0);
			else	/* [..] of null is null: sum(null) fails */
				CHECK(r1 == NULL && e1.kind == JP_ERR_TYPE);
			json_decref(r1);
			json_decref(r2);
		}
	}
	CHECK((r1 = jp_search(big.data, d, NULL, NULL)) != NULL);
	json_decref(r1);
	buf_free(&big);
	json_decref(d);
}

/* The index's answer for expr on doc, as an integer (-1: not one). */
static json_int_t
doc_int(const char *expr, const struct jp_doc *doc, const struct jp_env *env)
{
	struct jp_expr *e = jp_compile(expr, NULL);
	json_t *own, *r = e ? jp_eval_doc(e, doc, env, &own, NULL) : NULL;
	json_int_t v = json_is_integer(r) ? json_integer_value(r) : -1;

	json_decref(own);
	jp_free(e);
	return v;
}

static json_t *
pod_lookup(void *ctx, const char *kind, const char *ns, const char *name)
{
	(void)kind;
	(void)ns;
	(void)name;
	return json_incref(ctx);
}

/*
 * Objects the index does not hold are read from jansson: one the
 * expression builds (merge), one lookup() returns; a subtree the document
 * holds twice is found by both paths; a field the index knows is absent
 * stays absent.
 */
TEST(index_falls_back_to_jansson)
{
	json_t *d = json_loads("{\"a\": {\"x\": 1, \"y\": {\"z\": 7}},"
	    " \"l\": [{\"k\": 3}, {\"k\": 4}], \"longname_1\": 10,"
	    " \"longname_2\": 20}", 0, NULL);
	json_t *pod = json_loads("{\"metadata\": {\"uid\": 9}}", 0, NULL);
	struct jp_env env = { pod_lookup, pod, 0 };
	struct jp_doc *doc;

	json_object_set(d, "b", json_object_get(d, "a"));
	doc = jp_doc_new(d);
	CHECK(jp_doc_root(doc) == d);
	CHECK_INT(doc_int("a.y.z", doc, NULL), 7);
	CHECK_INT(doc_int("b.y.z", doc, NULL), 7);
	CHECK_INT(doc_int("l[1].k", doc, NULL), 4);
	/* Names alike in their first 8 bytes: told apart past the head. */
	CHECK_INT(doc_int("longname_2", doc, NULL), 20);
	CHECK_INT(doc_int("longname_1", doc, NULL), 10);
	CHECK_INT(doc_int("longname_3", doc, NULL), -1);
	CHECK_INT(doc_int("merge(a, `{\"w\": 5}`).w", doc, NULL), 5);
	CHECK_INT(doc_int("merge(a, `{\"w\": 5}`).x", doc, NULL), 1);
	CHECK_INT(doc_int("lookup('Pod', 'ns', 'p', 'metadata.uid')", doc,
	    &env), 9);
	CHECK_INT(doc_int("a.w || a.x", doc, NULL), 1);
	CHECK_INT(doc_int("a.w", doc, NULL), -1);
	CHECK_INT(doc_int("l[?k > `3`].k | [0]", doc, NULL), 4);
	jp_doc_free(doc);
	CHECK((doc = jp_doc_new(NULL)) != NULL);
	CHECK(json_is_null(jp_doc_root(doc)));
	CHECK_INT(doc_int("a", doc, NULL), -1);
	jp_doc_free(doc);
	jp_doc_free(NULL);
	json_decref(pod);
	json_decref(d);
}

int
main(void)
{
	RUN(compliance);
	RUN(kyverno_functions);
	RUN(bound_expression_length);
	RUN(bound_nesting_depth);
	RUN(bound_result_nodes);
	RUN(bound_string_bytes);
	RUN(bound_steps);
	RUN(fuzz_corpus_replay);
	RUN(errors_name_function_and_argument);
	RUN(output_keeps_numbers_and_order);
	RUN(output_escapes_integers_and_layout);
	RUN(output_escapes_every_byte_anywhere);
	RUN(compiled_expression_is_reusable);
	RUN(regex_literal_checked_at_compile);
	RUN(field_lookup_small_and_large_objects);
	RUN(pure_selections_return_input_values);
	RUN(sum_of_list_as_sum_of_array);
	RUN(index_falls_back_to_jansson);
	return harness_done();
}
