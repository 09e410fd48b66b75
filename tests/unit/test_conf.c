/*
 * conf: the YAML/JSON reader (typing, positions, aliases, limits), the
 * schema checks and the cross-checks.  The golden files under tests/check
 * cover the diagnostics end to end; these pin the pieces.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
		{ "\"nul\\0x\"", JSON_STRING, "\"nul\\u0000x\"" },
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
	RUN(depth_cap);
	RUN(duplicate_keys);
	RUN(syntax_errors);
	RUN(json_input);
	return harness_done();
}
