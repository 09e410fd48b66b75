/*
 * conf: the YAML/JSON reader (typing, positions, aliases, limits), the
 * schema checks and the cross-checks.  The golden files under tests/check
 * cover the diagnostics end to end; these pin the pieces.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "conf/conf.h"

struct parsed {
	struct mdoc	**docs;
	size_t		  n;
	struct diags	  d;
	int		  rc;
};

static void
parse(struct parsed *p, const char *text)
{
	memset(p, 0, sizeof *p);
	diag_init(&p->d);
	p->rc = conf_parse_text("t.yaml", text, strlen(text), &p->docs, &p->n,
	    &p->d);
}

static void
parsed_free(struct parsed *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		mdoc_free(p->docs[i]);
	free(p->docs);
	diag_free(&p->d);
}

/* The first diagnostic's message, or "". */
static const char *
msg0(const struct parsed *p)
{
	return p->d.n ? p->d.v[0].msg : "";
}

static json_t *
get(const struct parsed *p, const char *key)
{
	return json_object_get(p->docs[0]->root, key);
}

/* Plain scalars per the YAML 1.2 core schema; quoted ones stay strings. */
TEST(scalar_typing)
{
	static const struct {
		const char	*yaml;
		int		 type;		/* json_type */
		const char	*str;		/* JSON text of the value */
	} cases[] = {
		{ "~", JSON_NULL, "null" },
		{ "null", JSON_NULL, "null" },
		{ "NULL", JSON_NULL, "null" },
		{ "", JSON_NULL, "null" },
		{ "true", JSON_TRUE, "true" },
		{ "True", JSON_TRUE, "true" },
		{ "FALSE", JSON_FALSE, "false" },
		{ "yes", JSON_STRING, "\"yes\"" },
		{ "on", JSON_STRING, "\"on\"" },
		{ "42", JSON_INTEGER, "42" },
		{ "-7", JSON_INTEGER, "-7" },
		{ "+3", JSON_INTEGER, "3" },
		{ "0x1F", JSON_INTEGER, "31" },
		{ "0o17", JSON_INTEGER, "15" },
		{ "012", JSON_INTEGER, "12" },
		{ "0.25", JSON_REAL, "0.25" },
		{ "-1.5e3", JSON_REAL, "-1500.0" },
		{ ".5", JSON_REAL, "0.5" },
		{ "1e2", JSON_REAL, "100.0" },
		{ "5m", JSON_STRING, "\"5m\"" },
		{ "8Gi", JSON_STRING, "\"8Gi\"" },
		{ "25%", JSON_STRING, "\"25%\"" },
		{ "0x", JSON_STRING, "\"0x\"" },
		{ "1.2.3", JSON_STRING, "\"1.2.3\"" },
		{ "\"42\"", JSON_STRING, "\"42\"" },
		{ "'true'", JSON_STRING, "\"true\"" },
		{ "!!str 42", JSON_STRING, "\"42\"" },
		{ "!!int \"42\"", JSON_INTEGER, "42" },
		{ "!!float 1", JSON_REAL, "1.0" },
		{ "!!bool \"true\"", JSON_TRUE, "true" },
		{ "! 42", JSON_STRING, "\"42\"" },
		{ "|\n  a\n  b\n", JSON_STRING, "\"a\\nb\\n\"" },
		{ "\"a\\u00e9\\tb\"", JSON_STRING, "\"aé\\tb\"" },
	};
	size_t i;
	struct parsed p;
	char *text, *dump;
	json_t *v;

	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		text = xasprintf("v: %s\n", cases[i].yaml);
		parse(&p, text);
		CHECK_INT(p.rc, 0);
		v = p.n == 1 ? get(&p, "v") : NULL;
		if (v == NULL || (int)json_typeof(v) != cases[i].type) {
			fprintf(stderr, "case %s: wrong type\n",
			    cases[i].yaml);
			CHECK(0);
		} else {
			dump = json_dumps(v, JSON_ENCODE_ANY);
			CHECK_STR(dump, cases[i].str);
			free(dump);
		}
		parsed_free(&p);
		free(text);
	}
}

/* Values JSON cannot hold are errors at their position, not changes. */
TEST(scalar_errors)
{
	static const struct {
		const char	*yaml;
		const char	*msg;	/* start of the message */
	} cases[] = {
		{ "v: .inf\n", ".inf has no JSON equivalent" },
		{ "v: -.Inf\n", "-.Inf has no JSON equivalent" },
		{ "v: .nan\n", ".nan has no JSON equivalent" },
		{ "v: 1e999\n", "number 1e999 is out of range" },
		{ "v: 99999999999999999999\n", "integer 99999999999999999999 "
		    "does not fit" },
		{ "v: !!int abc\n", "\"abc\" is not a valid !!int" },
		{ "v: !Ref x\n", "unsupported tag !Ref" },
		{ "v: !!set {a}\n", "unsupported tag" },
		/* NUL would cut the C strings made from the value */
		{ "v: \"ab\\0cd\"\n", "a string may not contain a NUL" },
		{ "v: \"ab\\x00\"\n", "a string may not contain a NUL" },
		{ "v: \"\\u0000\"\n", "a string may not contain a NUL" },
		{ "v: !!str \"a\\0\"\n", "a string may not contain a NUL" },
	};
	size_t i;
	struct parsed p;

	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		parse(&p, cases[i].yaml);
		CHECK_INT(p.rc, -1);
		CHECK(strncmp(msg0(&p), cases[i].msg,
		    strlen(cases[i].msg)) == 0);
		if (p.d.n) {
			CHECK_INT(p.d.v[0].line, 1);
			CHECK_INT(p.d.v[0].col, 4);
		}
		parsed_free(&p);
	}
}

TEST(marks_keys_values_nested)
{
	struct parsed p;
	json_t *spec, *list, *item;
	struct loc l;

	parse(&p, "kind: Sensor\n"
	    "spec:\n"
	    "  list:\n"
	    "    - name: a\n"
	    "      on: true\n"
	    "    - [1, false]\n"
	    "  flow: {x: 1, y: null}\n");
	CHECK_INT(p.rc, 0);
	CHECK_INT(p.n, 1);
	spec = get(&p, "spec");
	list = json_object_get(spec, "list");
	item = json_array_get(list, 0);
	l = conf_loc(p.docs[0], spec);
	CHECK_INT(l.line, 3);	/* a block mapping starts at its first key */
	CHECK_INT(l.col, 3);
	CHECK_STR(l.file, "t.yaml");
	l = conf_loc_key(p.docs[0], p.docs[0]->root, "spec");
	CHECK_INT(l.line, 2);
	CHECK_INT(l.col, 1);
	l = conf_loc(p.docs[0], json_object_get(item, "name"));
	CHECK_INT(l.line, 4);
	CHECK_INT(l.col, 13);
	l = conf_loc_key(p.docs[0], item, "on");
	CHECK_INT(l.line, 5);
	CHECK_INT(l.col, 7);
	/* a singleton: its position through the parent */
	l = conf_loc_value(p.docs[0], item, "on", 0);
	CHECK_INT(l.line, 5);
	CHECK_INT(l.col, 11);
	l = conf_loc_value(p.docs[0], json_array_get(list, 1), NULL, 1);
	CHECK_INT(l.line, 6);
	CHECK_INT(l.col, 11);
	l = conf_loc(p.docs[0], json_array_get(list, 1));
	CHECK_INT(l.line, 6);
	CHECK_INT(l.col, 7);
	l = conf_loc_value(p.docs[0], json_object_get(spec, "flow"), "y", 0);
	CHECK_INT(l.line, 7);
	CHECK_INT(l.col, 19);
	l = conf_loc_key(p.docs[0], json_object_get(spec, "flow"), "y");
	CHECK_INT(l.line, 7);
	CHECK_INT(l.col, 16);
	/* an unknown node: the document's own position */
	l = conf_loc(p.docs[0], json_true());
	CHECK_INT(l.line, 1);
	CHECK_INT(l.col, 1);
	CHECK_STR(p.docs[0]->kind, "Sensor");
	parsed_free(&p);
}

TEST(multi_document)
{
	struct parsed p;
	char id[64];
	struct loc l;

	parse(&p, "# comment\n"
	    "apiVersion: v1\n"
	    "kind: A\n"
	    "metadata: {name: one, namespace: ns}\n"
	    "---\n"
	    "---\n"
	    "# only a comment\n"
	    "---\n"
	    "kind: B\n"
	    "metadata:\n"
	    "  name: two\n"
	    "...\n");
	CHECK_INT(p.rc, 0);
	CHECK_INT(p.n, 2);	/* the two empty documents are skipped */
	if (p.n == 2) {
		CHECK_INT(p.docs[0]->index, 0);
		CHECK_INT(p.docs[1]->index, 3);
		mdoc_ident(p.docs[0], id, sizeof id);
		CHECK_STR(id, "ns/one");
		mdoc_ident(p.docs[1], id, sizeof id);
		CHECK_STR(id, "two");
		CHECK_STR(p.docs[1]->kind, "B");
		CHECK(p.docs[1]->namespace == NULL);
		l = conf_loc(p.docs[1], json_object_get(p.docs[1]->root,
		    "kind"));
		CHECK_INT(l.line, 9);
		CHECK_INT(l.col, 7);
		l = conf_loc_key(p.docs[1],
		    json_object_get(p.docs[1]->root, "metadata"), "name");
		CHECK_INT(l.line, 11);
		CHECK_INT(l.col, 3);
	}
	parsed_free(&p);
}

TEST(loc_without_marks)
{
	struct mdoc doc;
	struct loc l;
	char id[32];

	memset(&doc, 0, sizeof doc);
	doc.file = (char *)(uintptr_t)"hand.yaml";
	doc.root = json_pack("{s:{s:s}}", "metadata", "name", "x");
	l = conf_loc(&doc, doc.root);
	CHECK_STR(l.file, "hand.yaml");
	CHECK_INT(l.line, 0);
	CHECK_INT(l.col, 0);
	l = conf_loc_key(&doc, doc.root, "metadata");
	CHECK_STR(l.file, "hand.yaml");
	CHECK_INT(l.line, 0);
	l = conf_loc_value(&doc, doc.root, "metadata", 0);
	CHECK_INT(l.line, 0);
	mdoc_ident(&doc, id, sizeof id);
	CHECK_STR(id, "(unnamed)");	/* fields not filled by hand */
	l = conf_loc(NULL, doc.root);
	CHECK(l.file == NULL);
	json_decref(doc.root);
}

TEST(aliases)
{
	struct parsed p;
	json_t *a, *b;

	parse(&p, "base: &b {x: 1, y: [1, 2]}\n"
	    "copy: *b\n"
	    "s: &s hello\n"
	    "t: *s\n"
	    "*s : keyed\n");
	CHECK_INT(p.rc, 0);
	CHECK_INT(p.n, 1);
	a = get(&p, "base");
	b = get(&p, "copy");
	CHECK(json_equal(a, b));
	CHECK_STR(json_string_value(get(&p, "t")), "hello");
	CHECK_STR(json_string_value(get(&p, "hello")), "keyed");
	parsed_free(&p);

	parse(&p, "a: *nope\n");
	CHECK_INT(p.rc, -1);
	CHECK(strstr(msg0(&p), "alias *nope names no complete anchor") !=
	    NULL);
	parsed_free(&p);

	/* an alias to its own anchor would be a cycle */
	parse(&p, "a: &x [1, *x]\n");
	CHECK_INT(p.rc, -1);
	parsed_free(&p);
}

/* The billion laughs: ten aliases per level, nine levels. */
TEST(alias_node_cap)
{
	struct parsed p;
	struct buf b;
	int i;

	buf_init(&b, 0);
	buf_adds(&b, "l0: &l0 [lol]\n");
	for (i = 1; i < 10; i++)
		buf_printf(&b, "l%d: &l%d [*l%d,*l%d,*l%d,*l%d,*l%d,*l%d,"
		    "*l%d,*l%d,*l%d,*l%d]\n", i, i, i - 1, i - 1, i - 1,
		    i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
	parse(&p, b.data);
	CHECK_INT(p.rc, -1);
	CHECK(strstr(msg0(&p), "aliases expand to more than 1000000 "
	    "nodes") != NULL);
	CHECK_INT(p.n, 0);
	parsed_free(&p);
	buf_free(&b);
}

/*
 * Few nodes, many bytes: a 4 KB string aliased ten times, that list ten
 * times... a 41 KB file that would expand to 12 MB.  Refused at the alias
 * that crosses the byte bound; the same shape one level less is accepted.
 */
TEST(alias_byte_cap)
{
	struct parsed p;
	struct buf b;
	int i, levels;

	for (levels = 3; levels <= 4; levels++) {
		buf_init(&b, 0);
		buf_adds(&b, "s: &l0 \"");
		for (i = 0; i < 4000; i++)
			buf_addc(&b, 'x');
		buf_adds(&b, "\"\n");
		for (i = 1; i <= levels; i++)
			buf_printf(&b, "l%d: &l%d [*l%d,*l%d,*l%d,*l%d,*l%d,"
			    "*l%d,*l%d,*l%d,*l%d,*l%d]\n", i, i, i - 1, i - 1,
			    i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
			    i - 1);
		CHECK(b.len < 5000);
		parse(&p, b.data);
		if (levels == 3) {
			CHECK_INT(p.rc, 0);
			CHECK_INT(p.n, 1);
		} else {
			CHECK_INT(p.rc, -1);
			CHECK(strstr(msg0(&p), "aliases expand to more than "
			    "8388608 bytes (*l3 adds ") != NULL);
			CHECK_INT(p.d.v[0].line, 5);
			CHECK_INT(p.n, 0);
		}
		parsed_free(&p);
		buf_free(&b);
	}
}

TEST(depth_cap)
{
	struct parsed p;
	struct buf b;
	int i;

	buf_init(&b, 0);
	buf_adds(&b, "v: ");
	for (i = 0; i < CONF_MAX_DEPTH + 5; i++)
		buf_addc(&b, '[');
	for (i = 0; i < CONF_MAX_DEPTH + 5; i++)
		buf_addc(&b, ']');
	parse(&p, b.data);
	CHECK_INT(p.rc, -1);
	CHECK(strstr(msg0(&p), "nested deeper than 128 levels") != NULL);
	parsed_free(&p);
	buf_free(&b);

	buf_init(&b, 0);
	buf_adds(&b, "v: ");
	for (i = 0; i < CONF_MAX_DEPTH - 1; i++)
		buf_addc(&b, '[');
	for (i = 0; i < CONF_MAX_DEPTH - 1; i++)
		buf_addc(&b, ']');
	parse(&p, b.data);
	CHECK_INT(p.rc, 0);
	parsed_free(&p);
	buf_free(&b);
}

TEST(duplicate_keys)
{
	struct parsed p;

	parse(&p, "a: 1\nb:\n  c: 1\n  c: 2\na: 3\n");
	CHECK_INT(p.rc, -1);
	CHECK_INT(p.d.errors, 2);
	if (p.d.n == 2) {
		CHECK_STR(p.d.v[0].msg, "duplicate key \"c\"");
		CHECK_INT(p.d.v[0].line, 4);
		CHECK_INT(p.d.v[0].col, 3);
		CHECK_STR(p.d.v[0].hint, "first written at line 3, column 3");
		CHECK_STR(p.d.v[1].msg, "duplicate key \"a\"");
		CHECK_INT(p.d.v[1].line, 5);
	}
	/* the first value stays */
	CHECK(p.n == 1 && json_integer_value(get(&p, "a")) == 1);
	parsed_free(&p);
}

TEST(syntax_errors)
{
	struct parsed p;

	parse(&p, "a: 1\nb: [1, 2\nc: 3\n");
	CHECK_INT(p.rc, -1);
	CHECK_INT(p.d.errors, 1);
	CHECK_STR(p.d.v[0].file, "t.yaml");
	CHECK(p.d.v[0].line >= 2);
	parsed_free(&p);

	parse(&p, "a: 1\n  b: 2\n");
	CHECK_INT(p.rc, -1);
	CHECK(strstr(msg0(&p), "mapping values are not allowed") != NULL);
	CHECK_INT(p.d.v[0].line, 2);
	parsed_free(&p);

	parse(&p, "a: \"\xff\xfe\"\n");
	CHECK_INT(p.rc, -1);
	CHECK_INT(p.d.v[0].line, 1);
	parsed_free(&p);

	/* a complex key cannot be a JSON key */
	parse(&p, "? [a, b]\n: c\n");
	CHECK_INT(p.rc, -1);
	CHECK(strstr(msg0(&p), "keys must be strings") != NULL);
	parsed_free(&p);
}

TEST(json_input)
{
	struct parsed p;
	struct loc l;
	json_t *want;

	parse(&p, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\n"
	    " \"metadata\": {\"name\": \"p\", \"labels\": {\"a/b\": \"1\"}},\n"
	    " \"n\": [1, 2.5, -3e2, true, null, \"x\\/y\\u00e9\"]}\n");
	CHECK_INT(p.rc, 0);
	CHECK_INT(p.n, 1);
	want = json_loads("{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
	    "\"metadata\":{\"name\":\"p\",\"labels\":{\"a/b\":\"1\"}},"
	    "\"n\":[1,2.5,-300.0,true,null,\"x/y\\u00e9\"]}", 0, NULL);
	CHECK(p.n == 1 && json_equal(p.docs[0]->root, want));
	json_decref(want);
	if (p.n == 1) {
		l = conf_loc(p.docs[0], json_object_get(
		    json_object_get(p.docs[0]->root, "metadata"), "name"));
		CHECK_INT(l.line, 2);
		CHECK_INT(l.col, 23);
		CHECK_STR(p.docs[0]->name, "p");
	}
	parsed_free(&p);
}


/* ---- conf_load: files, kinds, schema, cross-checks ----------------------- */

static char tmpdir[64];

static void
write_file(const char *rel, const char *text)
{
	char *path = xasprintf("%s/%s", tmpdir, rel);
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
	free(path);
}

static void
mkdir_in(const char *rel)
{
	char *path = xasprintf("%s/%s", tmpdir, rel);

	CHECK(mkdir(path, 0700) == 0);
	free(path);
}

static void
make_tmpdir(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_conf.XXXXXX");
	CHECK(mkdtemp(tmpdir) != NULL);
}

static void
remove_tmpdir(void)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);

	CHECK(system(cmd) == 0);
	free(cmd);
}

/* Loads one manifest text; returns the conf, diagnostics in *d. */
static struct conf *
load_text(const char *text, struct diags *d)
{
	const char *paths[1];
	struct conf *c;
	char *path;

	make_tmpdir();
	write_file("m.yaml", text);
	path = xasprintf("%s/m.yaml", tmpdir);
	paths[0] = path;
	diag_init(d);
	c = conf_load(paths, 1, d);
	free(path);
	remove_tmpdir();
	return c;
}

/* Whether a diagnostic at line:col has a message containing msg. */
static int
has_diag(const struct diags *d, int line, int col, const char *msg,
    const char *hint)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (d->v[i].line == line && d->v[i].col == col &&
		    strstr(d->v[i].msg, msg) != NULL &&
		    (hint == NULL || (d->v[i].hint != NULL &&
		    strstr(d->v[i].hint, hint) != NULL)))
			return 1;
	for (i = 0; i < d->n; i++)
		fprintf(stderr, "  have %d:%d %s [%s]\n", d->v[i].line,
		    d->v[i].col, d->v[i].msg, d->v[i].hint ? d->v[i].hint :
		    "");
	return 0;
}

#define ES_HOOKS							\
	"apiVersion: argoproj.io/v1alpha1\n"				\
	"kind: EventSource\n"						\
	"metadata: {name: hooks}\n"					\
	"spec:\n"							\
	"  webhook:\n"							\
	"    alerts: {endpoint: /a, method: POST, auth: none}\n"	\
	"---\n"

TEST(load_walks_sorted_skips_hidden)
{
	const char *paths[1];
	struct diags d;
	struct conf *c;

	make_tmpdir();
	mkdir_in("b");
	mkdir_in("b/sub");
	mkdir_in(".git");
	mkdir_in("a");
	write_file("b/sub/z.yml", "apiVersion: remediate.dev/v1alpha1\n"
	    "kind: RemediationConfig\nmetadata: {name: z}\nspec: {}\n");
	write_file("a/x.yaml", "apiVersion: remediate.dev/v1alpha1\n"
	    "kind: RemediationConfig\nmetadata: {name: x}\nspec: {}\n");
	write_file("a/y.json", "{\"apiVersion\": \"remediate.dev/v1alpha1\","
	    "\"kind\": \"RemediationConfig\", \"metadata\": {\"name\": \"y\"},"
	    "\"spec\": {}}\n");
	write_file("a/notes.txt", "not: [yaml\n");
	write_file(".hidden.yaml", "broken: [\n");
	write_file(".git/config.yaml", "broken: [\n");
	paths[0] = tmpdir;
	diag_init(&d);
	c = conf_load(paths, 1, &d);
	CHECK_INT(d.errors, 0);
	CHECK_INT(c->ndocs, 3);
	if (c->ndocs == 3) {
		CHECK_STR(c->docs[0]->name, "x");
		CHECK_STR(c->docs[1]->name, "y");
		CHECK_STR(c->docs[2]->name, "z");
	}
	CHECK_INT(c->nby_kind[CONF_REMEDIATIONCONFIG], 3);
	conf_free(c);
	diag_free(&d);
	remove_tmpdir();
}

TEST(load_missing_path_and_size_cap)
{
	const char *paths[1] = { "/nonexistent/conf/dir" };
	struct diags d;
	struct conf *c;
	char *big, *path;
	FILE *f;

	diag_init(&d);
	c = conf_load(paths, 1, &d);
	CHECK_INT(d.errors, 1);
	CHECK_INT(c->ndocs, 0);
	conf_free(c);
	diag_free(&d);

	make_tmpdir();
	path = xasprintf("%s/big.yaml", tmpdir);
	big = xmalloc(CONF_MAX_FILE + 2);
	memset(big, '#', CONF_MAX_FILE + 1);
	big[CONF_MAX_FILE + 1] = '\0';
	if ((f = fopen(path, "w")) != NULL) {
		fputs(big, f);
		fclose(f);
	}
	paths[0] = path;
	diag_init(&d);
	c = conf_load(paths, 1, &d);
	CHECK_INT(d.errors, 1);
	CHECK(d.n == 1 && d.v[0].line == 0);
	conf_free(c);
	diag_free(&d);
	free(big);
	free(path);
	remove_tmpdir();
}

TEST(schema_errors_at_their_node)
{
	struct diags d;
	struct conf *c;

	c = load_text(ES_HOOKS
	    "apiVersion: argoproj.io/v1alpha1\n"	/* 8 */
	    "kind: Sensor\n"
	    "metadata: {name: s}\n"
	    "spec:\n"
	    "  dependencies:\n"
	    "    - name: a\n"			/* 13 */
	    "      eventSourceName: hooks\n"
	    "      eventName: alerts\n"
	    "  triggers:\n"
	    "    - template:\n"
	    "        name: t\n"
	    "        log: {}\n"
	    "      guardrails:\n"			/* 20 */
	    "        mode: atuo\n"
	    "        cooldwn: 5m\n"
	    "        maxSignalAge: soon\n"
	    "        threshold: {count: 0}\n", &d);
	CHECK_INT(d.errors, 4);
	CHECK(has_diag(&d, 21, 15, "spec.triggers[0].guardrails.mode: "
	    "expected one of off, notify, dry-run, confirm, auto; got string "
	    "\"atuo\"", "did you mean \"auto\"?"));
	CHECK(has_diag(&d, 22, 9, "spec.triggers[0].guardrails: unknown "
	    "field \"cooldwn\"", "did you mean \"cooldown\"?"));
	CHECK(has_diag(&d, 23, 23, "expected a duration like 5m", NULL));
	CHECK(has_diag(&d, 24, 28, "threshold.count: 0 is out of range",
	    NULL));
	CHECK_INT(c->ndocs, 2);
	/* the sensor failed: only the event source is handed on */
	CHECK_INT(c->nby_kind[CONF_SENSOR], 0);
	CHECK_INT(c->nby_kind[CONF_EVENTSOURCE], 1);
	CHECK(c->ndocs == 2 && c->docs[1]->invalid);
	conf_free(c);
	diag_free(&d);
}

TEST(kinds_and_versions)
{
	struct diags d;
	struct conf *c;

	c = load_text("apiVersion: argoproj.io/v1alpha1\n"
	    "kind: EventSorce\n"
	    "metadata: {name: x}\n"
	    "---\n"
	    "apiVersion: argoproj.io/v1alpha1\n"
	    "kind: ClusterPolicy\n"
	    "metadata: {name: x}\n"
	    "---\n"
	    "kind: Sensor\n"
	    "metadata: {name: x}\n"
	    "---\n"
	    "just a string\n", &d);
	CHECK_INT(d.errors, 4);
	CHECK(has_diag(&d, 2, 7, "unknown kind \"EventSorce\"",
	    "did you mean EventSource?"));
	CHECK(has_diag(&d, 5, 13, "ClusterPolicy belongs to the API group "
	    "kyverno.io", "apiVersion: kyverno.io/v1"));
	CHECK(has_diag(&d, 9, 1, "missing apiVersion", NULL));
	CHECK(has_diag(&d, 12, 1, "not a manifest", NULL));
	CHECK_INT(c->ndocs, 0);
	conf_free(c);
	diag_free(&d);
}

/* The seed article's rateLimit inside template is moved beside it. */
TEST(rate_limit_moved_out_of_template)
{
	struct diags d;
	struct conf *c;
	json_t *trig, *rl;
	struct loc l;

	c = load_text(ES_HOOKS
	    "apiVersion: argoproj.io/v1alpha1\n"
	    "kind: Sensor\n"
	    "metadata: {name: s}\n"
	    "spec:\n"
	    "  dependencies:\n"
	    "    - {name: a, eventSourceName: hooks, eventName: alerts}\n"
	    "  triggers:\n"
	    "    - template:\n"
	    "        name: t\n"
	    "        rateLimit:\n"		/* 17 */
	    "          unit: Minute\n"
	    "          requestsPerUnit: 2\n"
	    "        log: {}\n", &d);
	CHECK_INT(d.errors, 0);
	CHECK_INT(d.warnings, 1);
	CHECK(has_diag(&d, 17, 9, "rateLimit belongs beside template, not "
	    "inside it; accepted", "move rateLimit out of template"));
	CHECK_INT(c->nby_kind[CONF_SENSOR], 1);
	if (c->nby_kind[CONF_SENSOR] == 1) {
		const struct mdoc *s = c->by_kind[CONF_SENSOR][0];

		trig = json_array_get(json_object_get(json_object_get(s->root,
		    "spec"), "triggers"), 0);
		rl = json_object_get(trig, "rateLimit");
		CHECK(json_integer_value(json_object_get(rl,
		    "requestsPerUnit")) == 2);
		CHECK(json_object_get(json_object_get(trig, "template"),
		    "rateLimit") == NULL);
		l = conf_loc_key(s, trig, "rateLimit");
		CHECK_INT(l.line, 17);
		CHECK_INT(l.col, 9);
		l = conf_loc(s, rl);
		CHECK_INT(l.line, 18);
	}
	conf_free(c);
	diag_free(&d);
}

TEST(cross_checks)
{
	struct diags d;
	struct conf *c;

	c = load_text(ES_HOOKS
	    "apiVersion: argoproj.io/v1alpha1\n"
	    "kind: Sensor\n"
	    "metadata: {name: s}\n"
	    "spec:\n"
	    "  dependencies:\n"
	    "    - {name: a, eventSourceName: hoks, eventName: alerts}\n"
	    "    - {name: b, eventSourceName: hooks, eventName: alert}\n"
	    "  triggers:\n"
	    "    - template: {name: t, log: {}}\n"
	    "---\n"
	    ES_HOOKS, &d);
	CHECK_INT(d.errors, 3);
	CHECK(has_diag(&d, 13, 34, "no EventSource named \"hoks\"",
	    "did you mean \"hooks\"?"));
	CHECK(has_diag(&d, 14, 52, "EventSource hooks has no event named "
	    "\"alert\"", "did you mean \"alerts\"?"));
	CHECK(has_diag(&d, 20, 18, "EventSource hooks is defined twice",
	    "at line 3"));
	conf_free(c);
	diag_free(&d);
}

/*
 * An EventSource with more than 256 events: a dependency on the last is
 * found, and a typo of it gets the right suggestion (a fixed array of 256
 * names once cut the list and suggested another event).
 */
TEST(many_events_and_many_manifests)
{
	struct diags d;
	struct conf *c;
	struct buf b;
	int i;

	buf_init(&b, 0);
	buf_adds(&b, "apiVersion: argoproj.io/v1alpha1\nkind: EventSource\n"
	    "metadata: {name: many}\nspec:\n  webhook:\n");
	for (i = 0; i < 300; i++)
		buf_printf(&b, "    ev%d: {endpoint: /ev%d, method: POST}\n", i,
		    i);
	buf_adds(&b, "    last-event-name: {endpoint: /last, method: POST}\n"
	    "---\napiVersion: argoproj.io/v1alpha1\nkind: Sensor\n"
	    "metadata: {name: s}\nspec:\n  dependencies:\n"
	    "    - {name: a, eventSourceName: many, eventName: last-event-name}\n"
	    "    - {name: b, eventSourceName: many, eventName: last-event-nam}\n"
	    "  triggers:\n    - template: {name: t, log: {}}\n");
	/* many manifests, one defined twice far apart */
	for (i = 0; i < 2000; i++)
		buf_printf(&b, "---\napiVersion: argoproj.io/v1alpha1\n"
		    "kind: EventSource\nmetadata: {name: es%d}\nspec:\n"
		    "  webhook:\n    x: {endpoint: /x, method: POST}\n",
		    i == 1999 ? 3 : i);
	c = load_text(b.data, &d);
	buf_free(&b);
	CHECK_INT(d.errors, 2);
	CHECK(has_diag(&d, 314, 51, "EventSource many has no event named "
	    "\"last-event-nam\"", "did you mean \"last-event-name\"?"));
	CHECK(has_diag(&d, 14313, 18, "EventSource es3 is defined twice",
	    "at line 341"));
	conf_free(c);
	diag_free(&d);
}

/* Snapshots: JSON files take jansson's path, NDJSON included. */
TEST(load_documents_json_and_yaml)
{
	struct mdoc **docs = NULL;
	size_t n = 0, i;
	struct diags d;
	char *path;

	make_tmpdir();
	write_file("pods.json", "{\"kind\": \"PodList\", \"items\": []}\n");
	write_file("rec.ndjson", "{\"a\": 1}\n\n{\"b\": 2}\nnull\n");
	write_file("more.yaml", "kind: Pod\nmetadata: {name: p}\n---\n"
	    "kind: Pod\nmetadata: {name: q}\n");
	write_file("dup.json", "{\"a\": 1, \"a\": 2}");
	diag_init(&d);
	CHECK_INT(conf_load_documents(tmpdir, &docs, &n, &d), -1);
	CHECK_INT(d.errors, 1);	/* dup.json: jansson rejects duplicates */
	CHECK(d.n == 1 && strstr(d.v[0].file, "dup.json") != NULL);
	CHECK_INT(n, 3);	/* .ndjson is not walked, only named */
	if (n == 3) {
		CHECK_STR(docs[0]->name, "p");
		CHECK_STR(docs[2]->kind, "PodList");
	}
	path = xasprintf("%s/rec.ndjson", tmpdir);
	CHECK_INT(conf_load_documents(path, &docs, &n, &d), 0);
	CHECK_INT(n, 5);
	if (n == 5) {
		CHECK_INT(docs[4]->index, 1);
		CHECK_INT(conf_loc(docs[4], docs[4]->root).line, 3);
	}
	for (i = 0; i < n; i++)
		mdoc_free(docs[i]);
	free(docs);
	free(path);
	diag_free(&d);
	remove_tmpdir();
}

/* Loads one data file: its error count; *d keeps the diagnostics. */
static int
load_one(const char *rel, size_t *ndocs, struct diags *d)
{
	struct mdoc **docs = NULL;
	char *path = xasprintf("%s/%s", tmpdir, rel);
	size_t i;
	int rc;

	*ndocs = 0;
	diag_init(d);
	rc = conf_load_documents(path, &docs, ndocs, d);
	for (i = 0; i < *ndocs; i++)
		mdoc_free(docs[i]);
	free(docs);
	free(path);
	return rc == -1 ? d->errors : 0;
}

/* A NUL byte between two JSON values is an error at its place, not a blank. */
TEST(load_documents_json_nul_between_values)
{
	struct diags d;
	size_t n;
	char *path;
	FILE *f;

	make_tmpdir();
	path = xasprintf("%s/nul.ndjson", tmpdir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f != NULL) {
		CHECK_INT(fwrite("{\"a\": 1}\n \0{\"b\": 2}\n", 1, 20, f), 20);
		fclose(f);
	}
	free(path);
	CHECK_INT(load_one("nul.ndjson", &n, &d), 1);
	CHECK(d.n == 1 && d.v[0].line == 2 && d.v[0].col == 2);
	CHECK_INT(n, 1);	/* the value before it was read */
	diag_free(&d);
	/* a value's error column counts from its line's start, not its own */
	write_file("mid.ndjson", "{\"a\": 1} {\"b\" 2}\n");
	CHECK_INT(load_one("mid.ndjson", &n, &d), 1);
	CHECK(d.n == 1 && d.v[0].line == 1 && d.v[0].col == 15);
	diag_free(&d);
	remove_tmpdir();
}

/* What conf_load would read, as one hash: a ConfigMap swap changes it. */
TEST(fingerprint_follows_the_files_the_loader_reads)
{
	const char *paths[1];
	uint64_t a, b, c, d;

	make_tmpdir();
	paths[0] = tmpdir;
	write_file("a.yaml", "kind: X\n");
	write_file("notes.txt", "not a manifest\n");
	a = conf_fingerprint(paths, 1);
	CHECK(a == conf_fingerprint(paths, 1));
	/* what the loader skips does not count: other extensions, dot
	   entries such as a ConfigMap mount's ..data */
	write_file("notes.txt", "changed\n");
	mkdir_in("..data");
	write_file("..data/a.yaml", "kind: Y\n");
	b = conf_fingerprint(paths, 1);
	CHECK(a == b);
	write_file("a.yaml", "kind: Y\n");
	c = conf_fingerprint(paths, 1);
	CHECK(c != a);
	write_file("b.yml", "kind: Z\n");
	d = conf_fingerprint(paths, 1);
	CHECK(d != c);
	remove_tmpdir();
	/* a path that is gone is a state of its own */
	CHECK(conf_fingerprint(paths, 1) != d);
}

int
main(void)
{
	RUN(scalar_typing);
	RUN(scalar_errors);
	RUN(marks_keys_values_nested);
	RUN(multi_document);
	RUN(loc_without_marks);
	RUN(aliases);
	RUN(alias_node_cap);
	RUN(alias_byte_cap);
	RUN(depth_cap);
	RUN(duplicate_keys);
	RUN(syntax_errors);
	RUN(json_input);
	RUN(load_walks_sorted_skips_hidden);
	RUN(load_missing_path_and_size_cap);
	RUN(schema_errors_at_their_node);
	RUN(kinds_and_versions);
	RUN(rate_limit_moved_out_of_template);
	RUN(cross_checks);
	RUN(many_events_and_many_manifests);
	RUN(load_documents_json_and_yaml);
	RUN(load_documents_json_nul_between_values);
	RUN(fingerprint_follows_the_files_the_loader_reads);
	return harness_done();
}
