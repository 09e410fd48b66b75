/*
 * The sensor language, mostly as data under tests/sensor (SENSOR_DATA_DIR
 * overrides the directory):
 *
 *   filters.json     filters and the events they pass or stop
 *   paths.json       gjson paths against one document
 *   templates.json   Go templates, what they print or the error
 *   exprs.json       govaluate expressions
 *   params.json      trigger parameters and the resource they produce
 *   conditions.json  event sequences and the triggers they fire
 *   errors/NNN.yaml  manifests with mistakes; NNN.err the diagnostics
 *   seed/, seed-verbatim/  the article's Sensor as written and corrected
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sensor/sensor_int.h"

static const char *
datadir(void)
{
	const char *d = getenv("SENSOR_DATA_DIR");

	return d && *d ? d : "tests/sensor";
}

static json_t *
load_json(const char *name)
{
	json_error_t je;
	json_t *j;
	char *path = xasprintf("%s/%s", datadir(), name);

	if ((j = json_load_file(path, 0, &je)) == NULL)
		fprintf(stderr, "%s:%d: %s\n", path, je.line, je.text);
	free(path);
	return j;
}

/* The first document of a YAML file, with marks for locations. */
static struct mdoc *
load_yaml(const char *name, struct diags *d)
{
	struct mdoc **docs = NULL;
	size_t n = 0, i;
	struct mdoc *doc;
	char *path = xasprintf("%s/%s", datadir(), name);

	conf_load_documents(path, &docs, &n, d);
	free(path);
	doc = n ? docs[0] : NULL;
	for (i = 1; i < n; i++)
		mdoc_free(docs[i]);
	free(docs);
	return doc;
}

/* A document built in the test: no marks, so no lines. */
static struct mdoc *
json_doc(json_t *root)
{
	struct mdoc *doc = xcalloc(1, sizeof *doc);

	doc->file = xstrdup("(test)");
	doc->root = root;
	return doc;
}

static int seq;		/* event ids: id-1, id-2... */

static void
mkevent(struct event *ev, const char *src, const char *name, json_t *data,
    int64_t t)
{
	memset(ev, 0, sizeof *ev);
	ev->source = src;
	ev->name = name;
	ev->type = "resource";
	ev->id = xasprintf("id-%d", ++seq);
	ev->time = t;
	ev->data = data;
}

static void
clear_event(struct event *ev)
{
	free(ev->id);
	json_decref(ev->data);
}

/* Every firing, as JSON the tests can compare; absent members are not
 * there at all. */
static void
capture(void *ctx, const struct sensor_fire *f)
{
	json_t *fires = ctx, *o;

	o = json_pack("{s:s, s:O}", "trigger", f->trigger->name, "inputs",
	    f->inputs);
	if (f->resource)
		json_object_set(o, "resource", f->resource);
	if (f->error)
		json_object_set_new(o, "error", json_string(f->error));
	if (f->spec)
		json_object_set(o, "spec", f->spec);
	json_array_append_new(fires, o);
}

static int64_t
at(const char *rfc3339)
{
	int64_t ms = 0;

	if (time_parse(rfc3339, &ms) == -1)
		fprintf(stderr, "bad time in test data: %s\n", rfc3339);
	return ms;
}

static int
json_same(json_t *a, json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	return json_equal(a, b);
}

static int
deep_same(json_t *a, json_t *b)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_object(a) && json_is_object(b)) {
		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach(a, k, v)
			if (!deep_same(v, json_object_get(b, k)))
				return 0;
		return 1;
	}
	if (json_is_array(a) && json_is_array(b)) {
		if (json_array_size(a) != json_array_size(b))
			return 0;
		json_array_foreach(a, i, v)
			if (!deep_same(v, json_array_get(b, i)))
				return 0;
		return 1;
	}
	return a && b && json_same(a, b);
}

static void
show_diff(const char *what, json_t *got, json_t *want)
{
	char *g = got ? json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
	char *w = json_dumps(want, JSON_ENCODE_ANY | JSON_COMPACT);

	fprintf(stderr, "%s:\n  got  %s\n  want %s\n", what, g ? g : "(null)",
	    w ? w : "(null)");
	free(g);
	free(w);
}

/* ---- the seed Sensor ----------------------------------------------------- */

static json_t *
oom_event(const char *kind, const char *name)
{
	return json_pack("{s:s, s:{s:s, s:{s:s, s:s, s:s}}}", "type", "ADD",
	    "body", "reason", "OOMKilled", "involvedObject", "kind", kind,
	    "name", name, "namespace", "shop");
}

TEST(seed_sensor)
{
	struct diags d;
	struct mdoc *doc;
	struct sensor *s;
	const struct sensor_trigger *t;
	struct event ev;
	json_t *fires = json_array(), *res, *params, *args;
	char *desc;

	diag_init(&d);
	doc = load_yaml("seed/sensor.yaml", &d);
	CHECK(doc != NULL);
	if (doc == NULL)
		return;
	s = sensor_compile(doc, &d);
	CHECK_INT(d.errors, 0);
	CHECK(s != NULL);
	if (s == NULL)
		goto out;
	CHECK_STR(sensor_name(s), "oom-remediation");
	CHECK_STR(sensor_namespace(s), "argo-events");
	desc = sensor_describe(s);
	CHECK_STR(desc, "1 dependency (oomkilled-events/oom-events), 1 trigger "
	    "(bump-memory-request: k8s create Workflow, rate 2/Minute)");
	free(desc);
	CHECK_INT(sensor_ntriggers(s), 1);
	t = sensor_trigger(s, 0);
	CHECK(sensor_trigger(s, 1) == NULL);
	CHECK_STR(t->name, "bump-memory-request");
	CHECK_INT(t->kind, TRIGGER_K8S);
	CHECK_INT(t->operation, K8S_CREATE);
	CHECK(t->patch_strategy == NULL);
	CHECK_INT(t->has_rate_limit, 1);
	CHECK_INT(t->rate_unit, 60000);
	CHECK_INT(t->rate_per_unit, 2);
	CHECK_STR(json_string_value(json_object_get(t->guardrails, "mode")),
	    "auto");
	CHECK(json_object_get(t->tmpl, "source") != NULL);
	CHECK(t->at.line == 19);

	/* a Pod passes, renders the Workflow and leaves Argo's own
	 * templates alone */
	mkevent(&ev, "oomkilled-events", "oom-events", oom_event("Pod",
	    "cart-7d9f8-x2x9q"), at("2026-11-25T10:00:00Z"));
	CHECK_INT(sensor_feed(s, &ev, ev.time, capture, fires),
	    SENSOR_ACCEPTED);
	CHECK_INT(json_array_size(fires), 1);
	res = json_object_get(json_array_get(fires, 0), "resource");
	CHECK(json_object_get(json_array_get(fires, 0), "error") == NULL);
	params = sensor_path_get(res, "spec.arguments.parameters");
	CHECK_STR(json_string_value(sensor_path_get(params, "0.value")),
	    "cart-7d9f8-x2x9q");
	CHECK_STR(json_string_value(sensor_path_get(params, "1.value")),
	    "shop");
	args = sensor_path_get(res, "spec.templates.0.container.args");
	CHECK_STR(json_string_value(json_array_get(args, 1)),
	    "--pod={{workflow.parameters.pod}}");
	CHECK_STR(json_string_value(json_array_get(args, 2)),
	    "--namespace={{workflow.parameters.namespace}}");
	CHECK_STR(json_string_value(sensor_path_get(res,
	    "metadata.generateName")), "bump-memory-");
	CHECK(json_equal(sensor_path_get(json_array_get(fires, 0),
	    "inputs.oom-event"), ev.data));
	/* the manifest itself is not changed by rendering */
	CHECK_STR(json_string_value(sensor_path_get(t->tmpl,
	    "source.resource.spec.arguments.parameters.0.value")),
	    "{{ .Input.body.involvedObject.name }}");
	clear_event(&ev);

	/* a second firing renders its own; the first keeps what it had */
	mkevent(&ev, "oomkilled-events", "oom-events", oom_event("Pod",
	    "web-1"), at("2026-11-25T10:00:01Z"));
	CHECK_INT(sensor_feed(s, &ev, ev.time, capture, fires),
	    SENSOR_ACCEPTED);
	CHECK_STR(json_string_value(sensor_path_get(json_array_get(fires, 1),
	    "resource.spec.arguments.parameters.0.value")), "web-1");
	CHECK_STR(json_string_value(sensor_path_get(json_array_get(fires, 0),
	    "resource.spec.arguments.parameters.0.value")),
	    "cart-7d9f8-x2x9q");
	CHECK(sensor_path_get(json_array_get(fires, 0),
	    "resource.spec.templates") == sensor_path_get(t->tmpl,
	    "source.resource.spec.templates"));
	clear_event(&ev);
	json_array_remove(fires, 1);

	/* a Node is filtered; another source is not the sensor's */
	mkevent(&ev, "oomkilled-events", "oom-events", oom_event("Node", "n1"),
	    0);
	CHECK_INT(sensor_feed(s, &ev, 0, capture, fires), SENSOR_FILTERED);
	clear_event(&ev);
	mkevent(&ev, "other", "oom-events", oom_event("Pod", "p"), 0);
	CHECK_INT(sensor_feed(s, &ev, 0, capture, fires), SENSOR_UNMATCHED);
	clear_event(&ev);
	mkevent(&ev, "oomkilled-events", "other", oom_event("Pod", "p"), 0);
	CHECK_INT(sensor_feed(s, &ev, 0, capture, fires), SENSOR_UNMATCHED);
	clear_event(&ev);
	CHECK_INT(json_array_size(fires), 1);
	sensor_free(s);
out:
	json_decref(fires);
	mdoc_free(doc);
	diag_free(&d);
}

TEST(seed_verbatim_is_refused_with_a_hint)
{
	struct diags d;
	struct mdoc *doc;
	struct sensor *s;
	size_t i;
	int found = 0;

	diag_init(&d);
	doc = load_yaml("seed-verbatim/sensor.yaml", &d);
	CHECK(doc != NULL);
	if (doc == NULL)
		return;
	s = sensor_compile(doc, &d);
	CHECK(s == NULL);
	for (i = 0; i < d.n; i++) {
		if (d.v[i].level == DIAG_ERROR && d.v[i].line == 24 &&
		    strstr(d.v[i].msg, "only has generateName") &&
		    d.v[i].hint && strstr(d.v[i].hint, "operation: create"))
			found = 1;
	}
	CHECK(found);
	CHECK_INT(d.errors, 1);
	sensor_free(s);
	mdoc_free(doc);
	diag_free(&d);
}

/* rateLimit inside template (the article's place) is read as well */
TEST(rate_limit_inside_template)
{
	struct diags d;
	struct sensor *s;
	struct mdoc *doc;
	json_error_t je;

	diag_init(&d);
	doc = json_doc(json_loads("{\"metadata\":{\"name\":\"r\"},\"spec\":{"
	    "\"dependencies\":[{\"name\":\"d\",\"eventSourceName\":\"s\","
	    "\"eventName\":\"e\"}],\"triggers\":[{\"template\":{\"name\":\"t\","
	    "\"rateLimit\":{\"unit\":\"Hour\",\"requestsPerUnit\":5},"
	    "\"log\":{}}}]}}", 0, &je));
	s = sensor_compile(doc, &d);
	CHECK(s != NULL);
	if (s) {
		CHECK_INT(sensor_trigger(s, 0)->rate_unit, 3600000);
		CHECK_INT(sensor_trigger(s, 0)->rate_per_unit, 5);
		CHECK_INT(sensor_trigger(s, 0)->kind, TRIGGER_LOG);
	}
	sensor_free(s);
	mdoc_free(doc);
	diag_free(&d);
}

/* ---- filters ------------------------------------------------------------- */

static struct sensor *
filter_sensor(json_t *c, struct diags *d, struct mdoc **docp)
{
	json_t *dep, *root;

	dep = json_pack("{s:s, s:s, s:s, s:O}", "name", "dep",
	    "eventSourceName", "src", "eventName", "ev", "filters",
	    json_object_get(c, "filters"));
	if (json_object_get(c, "filtersLogicalOperator"))
		json_object_set(dep, "filtersLogicalOperator",
		    json_object_get(c, "filtersLogicalOperator"));
	root = json_pack("{s:{s:s}, s:{s:[o], s:[{s:{s:s, s:{}}}]}}",
	    "metadata", "name", "f", "spec", "dependencies", dep, "triggers",
	    "template", "name", "t", "log");
	*docp = json_doc(root);
	return sensor_compile(*docp, d);
}

TEST(filters)
{
	json_t *cases = load_json("filters.json"), *c, *e, *evs;
	struct diags d;
	struct mdoc *doc;
	struct sensor *s;
	struct event ev;
	const char *name, *t;
	size_t i, j;
	int pass;

	CHECK(json_array_size(cases) > 20);
	json_array_foreach(cases, i, c) {
		name = json_string_value(json_object_get(c, "name"));
		diag_init(&d);
		s = filter_sensor(c, &d, &doc);
		if (s == NULL) {
			fprintf(stderr, "filters: %s: does not compile: %s\n",
			    name, d.n ? d.v[0].msg : "?");
			CHECK(!"filter case compiles");
		}
		evs = json_object_get(c, "events");
		json_array_foreach(evs, j, e) {
			if (s == NULL)
				break;
			t = json_string_value(json_object_get(e, "time"));
			mkevent(&ev, "src", "ev", json_object_get(e, "data") ?
			    json_incref(json_object_get(e, "data")) :
			    json_object(), t ? at(t) : 0);
			if (json_object_get(e, "type"))
				ev.type = json_string_value(json_object_get(e,
				    "type"));
			pass = sensor_feed(s, &ev, ev.time, NULL, NULL) ==
			    SENSOR_ACCEPTED;
			if (pass != json_is_true(json_object_get(e, "pass"))) {
				fprintf(stderr, "filters: %s: event %zu %s\n",
				    name, j, pass ? "passed" : "was stopped");
				CHECK(!"filter verdict");
			}
			clear_event(&ev);
		}
		sensor_free(s);
		mdoc_free(doc);
		diag_free(&d);
	}
	json_decref(cases);
}

/* ---- paths --------------------------------------------------------------- */

TEST(paths)
{
	json_t *all = load_json("paths.json"), *data, *c, *got, *tmp, *val;
	struct sensor_path *p;
	const char *path, *want_err;
	char *err;
	size_t i;

	data = json_object_get(all, "data");
	json_array_foreach(json_object_get(all, "cases"), i, c) {
		path = json_string_value(json_object_get(c, "path"));
		want_err = json_string_value(json_object_get(c, "error"));
		p = sensor_path_compile(path, &err);
		if (want_err) {
			CHECK(p == NULL);
			if (err == NULL || strstr(err, want_err) == NULL) {
				fprintf(stderr, "path %s: error \"%s\", want "
				    "\"%s\"\n", path, err ? err : "", want_err);
				CHECK(!"path error");
			}
			free(err);
			sensor_path_free(p);
			continue;
		}
		CHECK(p != NULL);
		if (p == NULL) {
			fprintf(stderr, "path %s: %s\n", path, err);
			free(err);
			continue;
		}
		got = sensor_path_eval(p, data, &tmp);
		if (json_is_true(json_object_get(c, "missing"))) {
			if (got != NULL) {
				show_diff(path, got, json_null());
				CHECK(!"path finds nothing");
			}
		} else if (!deep_same(got, json_object_get(c, "want"))) {
			show_diff(path, got, json_object_get(c, "want"));
			CHECK(!"path value");
		}
		/* the public forms agree */
		if (json_is_true(json_object_get(c, "built")))
			CHECK(sensor_path_get(data, path) == NULL);
		else
			CHECK(sensor_path_get(data, path) == got);
		val = sensor_path_value(data, path);
		CHECK(deep_same(val, got) || (val == NULL && got == NULL));
		json_decref(val);
		json_decref(tmp);
		sensor_path_free(p);
	}
	json_decref(all);
}

/* ---- templates ---------------------------------------------------------- */

TEST(templates)
{
	json_t *all = load_json("templates.json"), *input, *c;
	const char *t, *want, *want_err;
	char *out, *err;
	size_t i;

	input = json_object_get(all, "input");
	CHECK(json_array_size(json_object_get(all, "cases")) > 100);
	json_array_foreach(json_object_get(all, "cases"), i, c) {
		t = json_string_value(json_object_get(c, "t"));
		want = json_string_value(json_object_get(c, "out"));
		want_err = json_string_value(json_object_get(c, "err"));
		out = sensor_render(t, input, &err);
		if (want && (out == NULL || strcmp(out, want) != 0)) {
			fprintf(stderr, "template %s\n  got  [%s] %s\n  want "
			    "[%s]\n", t, out ? out : "(null)", err ? err : "",
			    want);
			CHECK(!"template output");
		}
		if (want_err && (out != NULL || err == NULL ||
		    strstr(err, want_err) == NULL)) {
			fprintf(stderr, "template %s\n  got  [%s] error %s\n  "
			    "want error %s\n", t, out ? out : "(null)",
			    err ? err : "(none)", want_err);
			CHECK(!"template error");
		}
		free(out);
		free(err);
	}
	json_decref(all);
}

TEST(template_compiled_once)
{
	struct sensor_tmpl *t;
	json_t *a = json_pack("{s:s}", "ns", "shop"), *b = json_pack("{s:s}",
	    "ns", "web");
	char *err, *x, *y;

	t = sensor_template("slo:error_budget_remaining:ratio{namespace=\""
	    "{{ .Input.ns }}\"}", &err);
	CHECK(t != NULL);
	x = sensor_template_render(t, a, &err);
	y = sensor_template_render(t, b, &err);
	CHECK_STR(x, "slo:error_budget_remaining:ratio{namespace=\"shop\"}");
	CHECK_STR(y, "slo:error_budget_remaining:ratio{namespace=\"web\"}");
	free(x);
	free(y);
	sensor_tmpl_free(t);
	sensor_tmpl_free(NULL);
	CHECK(sensor_template("{{ nope }}", &err) == NULL);
	CHECK(err && strstr(err, "function \"nope\" not defined"));
	free(err);
	/* the input itself may be NULL: .Input is nil */
	x = sensor_render("{{ .Input }}", NULL, &err);
	CHECK_STR(x, "<no value>");
	free(x);
	json_decref(a);
	json_decref(b);
}

/* Only `{{ .Input }}` strings of a resource are rendered, and inside them
 * actions of other languages are kept byte for byte. */
TEST(template_input_mode)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "{{ .Input.a }}-{{workflow.parameters.pod}}",
		    "x-{{workflow.parameters.pod}}" },
		{ "{{item}} {{ .Input.a }} {{ inputs.parameters.n }}",
		    "{{item}} x {{ inputs.parameters.n }}" },
		{ "{{=sprig.upper(x)}}{{ .Input.a | upper }}",
		    "{{=sprig.upper(x)}}X" },
		{ "{{- .Input.a -}} {{ steps.a.outputs.result }}",
		    "x{{ steps.a.outputs.result }}" },
		{ "{{ if .Input.a }}yes{{ else }}no{{ end }}", "yes" },
		{ "{{ range .Input.l }}{{ . }}{{ end }}", "12" },
	};
	struct sensor_tmpl *t;
	json_t *in = json_pack("{s:s, s:[i,i]}", "a", "x", "l", 1, 2);
	struct buf b;
	char *err;
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		t = sensor_tmpl_compile(cases[i].in, TMPL_INPUT, &err);
		CHECK(t != NULL);
		if (t == NULL) {
			fprintf(stderr, "%s: %s\n", cases[i].in, err);
			free(err);
			continue;
		}
		buf_init(&b, 0);
		CHECK(sensor_tmpl_exec(t, in, &b, &err) == 0);
		CHECK_STR(b.data, cases[i].out);
		buf_free(&b);
		sensor_tmpl_free(t);
	}
	CHECK(sensor_tmpl_has_input("a {{ .Input.b }}"));
	CHECK(!sensor_tmpl_has_input("{{workflow.parameters.pod}}"));
	CHECK(!sensor_tmpl_has_input(".Input without braces"));
	json_decref(in);
}

/* ---- expressions --------------------------------------------------------- */

TEST(exprs)
{
	json_t *cases = load_json("exprs.json"), *c, *fields, *v, *want;
	struct sensor_expr *e;
	const char **names, *k, *src, *want_compile;
	json_t **vals;
	char *err;
	size_t i, n;
	int got;

	json_array_foreach(cases, i, c) {
		src = json_string_value(json_object_get(c, "expr"));
		fields = json_object_get(c, "fields");
		want_compile = json_string_value(json_object_get(c, "compile"));
		want = json_object_get(c, "want");
		names = xcalloc(json_object_size(fields) + 1, sizeof *names);
		vals = xcalloc(json_object_size(fields) + 1, sizeof *vals);
		n = 0;
		json_object_foreach(fields, k, v) {
			names[n] = k;
			vals[n++] = v;
		}
		e = sensor_expr_compile(src, names, n, &err);
		if (want_compile) {
			if (e != NULL || strstr(err, want_compile) == NULL) {
				fprintf(stderr, "expr %s: compile error \"%s\","
				    " want \"%s\"\n", src, err ? err : "",
				    want_compile);
				CHECK(!"expr compile error");
			}
		} else if (e == NULL) {
			fprintf(stderr, "expr %s: %s\n", src, err);
			CHECK(!"expr compiles");
		} else {
			got = sensor_expr_eval(e, vals, &err);
			if ((json_is_string(want) && got != -1) ||
			    (json_is_boolean(want) && got !=
			    json_is_true(want))) {
				fprintf(stderr, "expr %s: got %d (%s)\n", src,
				    got, err ? err : "");
				CHECK(!"expr value");
			}
		}
		free(err);
		sensor_expr_free(e);
		free(names);
		free(vals);
	}
	json_decref(cases);
}

/* ---- parameters ---------------------------------------------------------- */

static json_t *
params_manifest(json_t *c)
{
	json_t *tmpl, *trig, *root;
	const char *cond = json_string_value(json_object_get(c, "conditions"));

	if (json_object_get(c, "http"))
		tmpl = json_pack("{s:s, s:O}", "name", "t", "http",
		    json_object_get(c, "http"));
	else
		tmpl = json_pack("{s:s, s:{s:{s:O}, s:O}}", "name", "t", "k8s",
		    "source", "resource", json_object_get(c, "resource"),
		    "parameters", json_object_get(c, "parameters"));
	json_object_set_new(tmpl, "conditions", json_string(cond ? cond :
	    "dep01"));
	trig = json_pack("{s:o}", "template", tmpl);
	if (json_object_get(c, "trigger_parameters"))
		json_object_set(trig, "parameters", json_object_get(c,
		    "trigger_parameters"));
	root = json_pack("{s:{s:s}, s:{s:[{s:s, s:s, s:s}, {s:s, s:s, s:s}],"
	    " s:[o]}}", "metadata", "name", "p", "spec", "dependencies",
	    "name", "dep01", "eventSourceName", "src", "eventName", "dep01",
	    "name", "dep02", "eventSourceName", "src", "eventName", "dep02",
	    "triggers", trig);
	return root;
}

TEST(parameters)
{
	json_t *cases = load_json("params.json"), *c, *e, *fires, *f, *got;
	const char *name, *want_err, *url;
	struct diags d;
	struct mdoc *doc;
	struct sensor *s;
	struct event ev;
	size_t i, j;

	CHECK(json_array_size(cases) > 15);
	json_array_foreach(cases, i, c) {
		name = json_string_value(json_object_get(c, "name"));
		diag_init(&d);
		doc = json_doc(params_manifest(c));
		if ((s = sensor_compile(doc, &d)) == NULL) {
			fprintf(stderr, "params: %s: %s\n", name, d.n ?
			    d.v[0].msg : "?");
			CHECK(!"parameter case compiles");
			mdoc_free(doc);
			diag_free(&d);
			continue;
		}
		fires = json_array();
		seq = 0;
		json_array_foreach(json_object_get(c, "events"), j, e) {
			mkevent(&ev, "src", json_string_value(json_object_get(e,
			    "dep")), json_incref(json_object_get(e, "data")),
			    at("2026-03-01T00:00:00Z"));
			sensor_feed(s, &ev, ev.time, capture, fires);
			clear_event(&ev);
		}
		f = json_array_get(fires, json_array_size(fires) - 1);
		CHECK(f != NULL);
		want_err = json_string_value(json_object_get(c, "error"));
		got = json_object_get(f, "resource");
		if (want_err) {
			const char *ge = json_string_value(json_object_get(f,
			    "error"));

			if (ge == NULL || strstr(ge, want_err) == NULL ||
			    got != NULL) {
				fprintf(stderr, "params: %s: error %s\n", name,
				    ge ? ge : "(none)");
				CHECK(!"parameter error");
			}
		} else if (!deep_same(got, json_object_get(c, "want"))) {
			show_diff(name, got, json_object_get(c, "want"));
			if (json_object_get(f, "error"))
				fprintf(stderr, "  error %s\n",
				    json_string_value(json_object_get(f,
				    "error")));
			CHECK(!"parameter result");
		}
		if ((url = json_string_value(json_object_get(c, "want_url"))))
			CHECK_STR(json_string_value(sensor_path_get(f,
			    "spec.url")), url);
		json_decref(fires);
		sensor_free(s);
		mdoc_free(doc);
		diag_free(&d);
	}
	json_decref(cases);
}

/* ---- conditions ---------------------------------------------------------- */

static json_t *
conditions_manifest(json_t *c)
{
	json_t *deps = json_array(), *trigs = json_array(), *v, *tmpl;
	const char *reset, *tz;
	size_t i;

	json_array_foreach(json_object_get(c, "deps"), i, v)
		json_array_append_new(deps, json_pack("{s:O, s:s, s:O}", "name",
		    v, "eventSourceName", "src", "eventName", v));
	json_array_foreach(json_object_get(c, "triggers"), i, v) {
		tmpl = json_pack("{s:O, s:{}}", "name", json_object_get(v,
		    "name"), "log");
		if (json_object_get(v, "conditions"))
			json_object_set(tmpl, "conditions", json_object_get(v,
			    "conditions"));
		if ((reset = json_string_value(json_object_get(v, "reset")))) {
			tz = json_string_value(json_object_get(v, "timezone"));
			json_object_set_new(tmpl, "conditionsReset", json_pack(
			    "[{s:{s:s, s:s?}}]", "byTime", "cron", reset,
			    "timezone", tz));
		}
		json_array_append_new(trigs, json_pack("{s:o}", "template",
		    tmpl));
	}
	return json_pack("{s:{s:s}, s:{s:o, s:o}}", "metadata", "name", "c",
	    "spec", "dependencies", deps, "triggers", trigs);
}

/* Does the firing match ["trigger", "dep"...] (the inputs it carries)? */
static int
fire_is(json_t *f, json_t *want)
{
	json_t *inputs = json_object_get(f, "inputs");
	size_t i;

	if (strcmp(json_string_value(json_object_get(f, "trigger")),
	    json_string_value(json_array_get(want, 0))) != 0 ||
	    json_object_size(inputs) != json_array_size(want) - 1)
		return 0;
	for (i = 1; i < json_array_size(want); i++)
		if (!json_object_get(inputs, json_string_value(json_array_get(
		    want, i))))
			return 0;
	return 1;
}

TEST(conditions)
{
	json_t *cases = load_json("conditions.json"), *c, *st, *fires, *want,
	    *in, *k, *used;
	const char *name, *when, *outcome, *key;
	struct diags d;
	struct mdoc *doc;
	struct sensor *s;
	struct event ev;
	enum sensor_outcome o;
	size_t i, j, m;
	int64_t now = 0;

	json_array_foreach(cases, i, c) {
		name = json_string_value(json_object_get(c, "name"));
		diag_init(&d);
		doc = json_doc(conditions_manifest(c));
		if ((s = sensor_compile(doc, &d)) == NULL) {
			fprintf(stderr, "conditions: %s: %s\n", name, d.n ?
			    d.v[0].msg : "?");
			CHECK(!"conditions case compiles");
			mdoc_free(doc);
			diag_free(&d);
			continue;
		}
		json_array_foreach(json_object_get(c, "steps"), j, st) {
			fires = json_array();
			when = json_string_value(json_object_get(st, "at"));
			now = when ? at(when) : now + 1000;
			mkevent(&ev, "src", json_string_value(
			    json_object_get(st, "dep")), json_pack("{s:O?}",
			    "n", json_object_get(st, "n")), now);
			o = sensor_feed(s, &ev, now, capture, fires);
			outcome = json_string_value(json_object_get(st,
			    "outcome"));
			CHECK_INT(o, outcome ? SENSOR_UNMATCHED :
			    SENSOR_ACCEPTED);
			want = json_object_get(st, "fires");
			if (json_array_size(fires) != json_array_size(want)) {
				fprintf(stderr, "conditions: %s: step %zu "
				    "fired %zu, want %zu\n", name, j,
				    json_array_size(fires),
				    json_array_size(want));
				CHECK(!"number of firings");
			}
			for (m = 0; m < json_array_size(want) && m <
			    json_array_size(fires); m++) {
				if (!fire_is(json_array_get(fires, m),
				    json_array_get(want, m))) {
					show_diff(name, json_array_get(fires,
					    m), json_array_get(want, m));
					CHECK(!"firing");
				}
			}
			/* which event of each dependency was used */
			in = json_object_get(st, "input");
			json_object_foreach(in, key, k) {
				used = json_object_get(json_object_get(
				    json_array_get(fires, 0), "inputs"), key);
				CHECK(json_equal(json_object_get(used, "n"),
				    k));
			}
			clear_event(&ev);
			json_decref(fires);
		}
		sensor_free(s);
		mdoc_free(doc);
		diag_free(&d);
	}
	json_decref(cases);
}

/* ---- diagnostics: errors/NNN.yaml -> NNN.err ----------------------------- */

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

TEST(errors)
{
	char *dir = xasprintf("%s/errors", datadir()), **names = NULL;
	char *path, *want, *rerr, *line, *nl;
	struct dirent *de;
	struct diags d;
	struct mdoc *doc;
	struct sensor *s;
	struct buf got;
	size_t n = 0, cap = 0, i, k, len;
	DIR *dp;

	if ((dp = opendir(dir)) == NULL) {
		CHECK(!"tests/sensor/errors readable");
		free(dir);
		return;
	}
	while ((de = readdir(dp)) != NULL) {
		len = strlen(de->d_name);
		if (len > 5 && strcmp(de->d_name + len - 5, ".yaml") == 0) {
			xgrow(&names, &cap, n + 1, sizeof *names);
			names[n++] = xstrndup(de->d_name, len - 5);
		}
	}
	closedir(dp);
	qsort(names, n, sizeof *names, cmp_names);
	CHECK(n >= 10);
	for (i = 0; i < n; i++) {
		diag_init(&d);
		path = xasprintf("errors/%s.yaml", names[i]);
		doc = load_yaml(path, &d);
		free(path);
		CHECK(doc != NULL);
		s = doc ? sensor_compile(doc, &d) : NULL;
		CHECK(s == NULL);
		buf_init(&got, 0);
		for (k = 0; k < d.n; k++)
			buf_printf(&got, "%d:%d: %s: %s\n", d.v[k].line,
			    d.v[k].col, d.v[k].level == DIAG_ERROR ? "error" :
			    d.v[k].level == DIAG_WARNING ? "warning" : "note",
			    d.v[k].msg);
		path = xasprintf("%s/%s.err", dir, names[i]);
		want = util_read_file(path, 1 << 16, &len, &rerr);
		if (want == NULL) {
			fprintf(stderr, "%s: %s; got:\n%s", names[i], rerr,
			    got.data ? got.data : "");
			free(rerr);
			CHECK(!"golden .err file");
		} else {
			/* every expected line appears, in order */
			const char *from = got.data ? got.data : "";

			for (line = want; *line; line = nl) {
				if ((nl = strchr(line, '\n')) != NULL)
					*nl++ = '\0';
				else
					nl = line + strlen(line);
				if (*line == '\0')
					continue;
				if ((from = strstr(from, line)) == NULL) {
					fprintf(stderr, "%s: missing \"%s\" "
					    "in:\n%s", names[i], line,
					    got.data ? got.data : "");
					CHECK(!"expected diagnostic");
					break;
				}
			}
			free(want);
		}
		free(path);
		buf_free(&got);
		sensor_free(s);
		mdoc_free(doc);
		diag_free(&d);
		free(names[i]);
	}
	free(names);
	free(dir);
}

/* Documents conf would refuse must still not crash the compiler. */
TEST(garbage_does_not_crash)
{
	static const char *const docs[] = {
		"[]",
		"{}",
		"{\"spec\": 3}",
		"{\"spec\": {\"dependencies\": 3, \"triggers\": {}}}",
		"{\"spec\": {\"dependencies\": [3, {}], "
		    "\"triggers\": [3, {}]}}",
		"{\"spec\": {\"dependencies\": [{\"name\": \"a\", "
		    "\"eventSourceName\": \"s\", \"eventName\": \"e\", "
		    "\"filters\": {\"data\": [3, {\"value\": 3}], \"exprs\": "
		    "[{}, {\"fields\": [3]}], \"time\": {}, \"context\": 3, "
		    "\"dataLogicalOperator\": 4}}], \"triggers\": "
		    "[{\"template\":"
		    " {\"name\": \"t\", \"conditions\": \"(\", \"k8s\": "
		    "{\"source\": {\"resource\": {\"a\": \"{{ .Input\"}}, "
		    "\"parameters\": [3, {\"src\": 3}, {\"src\": {}}]}}, "
		    "\"rateLimit\": {\"unit\": 3}, \"parameters\": 7}]}}",
		"{\"spec\": {\"dependencies\": [{\"name\": \"a\", "
		    "\"eventSourceName\": \"s\", \"eventName\": \"e\"}], "
		    "\"triggers\": [{\"template\": {\"name\": \"t\", \"http\": "
		    "{\"payload\": [{\"src\": {\"dependencyName\": \"a\"}}]}, "
		    "\"conditionsReset\": [3, {\"byTime\": {\"cron\": "
		    "\"x\"}}]}}]}}",
	};
	struct diags d;
	struct mdoc *doc;
	json_error_t je;
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(docs); i++) {
		diag_init(&d);
		doc = json_doc(json_loads(docs[i], 0, &je));
		CHECK(doc->root != NULL);
		CHECK(sensor_compile(doc, &d) == NULL);
		CHECK(d.errors > 0);
		mdoc_free(doc);
		diag_free(&d);
	}
}

/* ---- the pieces underneath ----------------------------------------------- */

TEST(go_float_formatting)
{
	static const struct {
		double d;
		const char *v, *f, *j;
	} cases[] = {
		{ 0, "0", "0", "0" },
		{ 3, "3", "3", "3" },
		{ -2.5, "-2.5", "-2.5", "-2.5" },
		{ 100000, "100000", "100000", "100000" },
		{ 1000000, "1e+06", "1000000", "1000000" },
		{ 1234567, "1.234567e+06", "1234567", "1234567" },
		{ 0.0001, "0.0001", "0.0001", "0.0001" },
		{ 0.00001, "1e-05", "0.00001", "0.00001" },
		{ 0.0000001, "1e-07", "0.0000001", "1e-7" },
		{ 0.1, "0.1", "0.1", "0.1" },
		{ 1e21, "1e+21", "1000000000000000000000", "1e+21" },
		{ 123456789.125, "1.23456789125e+08", "123456789.125",
		    "123456789.125" },
	};
	struct buf b;
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		buf_init(&b, 0);
		gofmt_float(&b, cases[i].d, GOFMT_V);
		CHECK_STR(b.data, cases[i].v);
		buf_reset(&b);
		gofmt_float(&b, cases[i].d, GOFMT_F);
		CHECK_STR(b.data, cases[i].f);
		buf_reset(&b);
		gofmt_float(&b, cases[i].d, GOFMT_JSON);
		CHECK_STR(b.data, cases[i].j);
		buf_free(&b);
	}
	buf_init(&b, 0);
	gofmt_quote(&b, "a\"b\\\n\x01\xff\xc3\xa9", 9);
	CHECK_STR(b.data, "\"a\\\"b\\\\\\n\\x01\\xffé\"");
	buf_free(&b);
}

TEST(describe_many)
{
	struct diags d;
	struct mdoc *doc;
	struct sensor *s;
	json_error_t je;
	char *desc;

	diag_init(&d);
	doc = json_doc(json_loads("{\"metadata\":{\"name\":\"m\"},\"spec\":{"
	    "\"dependencies\":[{\"name\":\"a\",\"eventSourceName\":\"w\","
	    "\"eventName\":\"x\"},{\"name\":\"b\",\"eventSourceName\":\"w\","
	    "\"eventName\":\"y\"}],\"triggers\":[{\"template\":{\"name\":"
	    "\"page\",\"conditions\":\"a || b\",\"http\":{\"url\":"
	    "\"http://h/x\",\"method\":\"PUT\"}}},{\"template\":{\"name\":"
	    "\"fix\",\"remediate\":{\"bumpMemory\":{\"cap\":\"8Gi\"}}},"
	    "\"rateLimit\":{\"requestsPerUnit\":3}},{\"template\":{\"name\":"
	    "\"note\",\"log\":{}}},{\"template\":{\"name\":\"kill\",\"k8s\":"
	    "{\"operation\":\"delete\",\"source\":{\"resource\":{\"kind\":"
	    "\"Pod\",\"metadata\":{\"name\":\"p\"}}}}}}]}}", 0, &je));
	s = sensor_compile(doc, &d);
	CHECK(s != NULL);
	desc = s ? sensor_describe(s) : NULL;
	CHECK_STR(desc, "2 dependencies (w/x, w/y), 4 triggers (page: http PUT "
	    "http://h/x, when a || b; fix: remediate bumpMemory, rate "
	    "3/Second; note: log; kill: k8s delete Pod)");
	free(desc);
	CHECK(s == NULL || sensor_trigger(s, 1)->kind == TRIGGER_REMEDIATE);
	sensor_free(s);
	mdoc_free(doc);
	diag_free(&d);
}

/* A remediate block renders like a resource. */
TEST(remediate_block_renders)
{
	struct diags d;
	struct mdoc *doc;
	struct sensor *s;
	struct event ev;
	json_error_t je;
	json_t *fires = json_array();

	diag_init(&d);
	doc = json_doc(json_loads("{\"metadata\":{\"name\":\"m\"},\"spec\":{"
	    "\"dependencies\":[{\"name\":\"a\",\"eventSourceName\":\"w\","
	    "\"eventName\":\"x\"}],\"triggers\":[{\"template\":{\"name\":"
	    "\"fix\",\"remediate\":{\"bumpMemory\":{\"container\":"
	    "\"{{ .Input.c }}\",\"cap\":\"8Gi\"}}}}]}}", 0, &je));
	s = sensor_compile(doc, &d);
	CHECK(s != NULL);
	mkevent(&ev, "w", "x", json_pack("{s:s}", "c", "app"), 0);
	if (s)
		sensor_feed(s, &ev, 0, capture, fires);
	CHECK_STR(json_string_value(sensor_path_get(json_array_get(fires, 0),
	    "resource.bumpMemory.container")), "app");
	CHECK_STR(json_string_value(sensor_path_get(json_array_get(fires, 0),
	    "resource.bumpMemory.cap")), "8Gi");
	clear_event(&ev);
	json_decref(fires);
	sensor_free(s);
	mdoc_free(doc);
	diag_free(&d);
}

/*
 * Rendering copies only the containers on the way to a rendered string
 * (a dozen here, more than rendering keeps in place): every string is
 * rendered, what holds none is the manifest's own, and the manifest stays
 * the template for the next firing.
 */
TEST(resource_rendered_copy_on_write)
{
	struct diags d;
	struct mdoc *doc;
	struct sensor *s;
	struct event ev;
	json_error_t je;
	json_t *fires = json_array(), *tmpl, *res;
	struct buf b;
	char path[64];
	const char *in[] = { "one", "two" };
	size_t i, k;

	diag_init(&d);
	buf_init(&b, 0);
	buf_adds(&b, "{\"metadata\":{\"name\":\"m\"},\"spec\":{"
	    "\"dependencies\":[{\"name\":\"a\",\"eventSourceName\":\"w\","
	    "\"eventName\":\"x\"}],\"triggers\":[{\"template\":{\"name\":"
	    "\"t\",\"k8s\":{\"operation\":\"create\",\"source\":{"
	    "\"resource\":{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
	    "\"c\"},\"data\":{\"fixed\":{\"x\":1},\"l\":[");
	for (i = 0; i < 12; i++)
		buf_printf(&b, "%s{\"k\":%zu,\"v\":\"{{ .Input.c }}-%zu\"}",
		    i ? "," : "", i, i);
	buf_adds(&b, "]}}}}}}]}}");
	doc = json_doc(json_loads(b.data, 0, &je));
	s = sensor_compile(doc, &d);
	REQUIRE(s != NULL);
	tmpl = json_object_get(json_object_get(sensor_trigger(s, 0)->tmpl,
	    "source"), "resource");
	for (k = 0; k < 2; k++) {
		mkevent(&ev, "w", "x", json_pack("{s:s}", "c", in[k]), 0);
		sensor_feed(s, &ev, 0, capture, fires);
		clear_event(&ev);
	}
	for (k = 0; k < 2; k++) {
		res = json_object_get(json_array_get(fires, k), "resource");
		for (i = 0; i < 12; i++) {
			snprintf(path, sizeof path, "data.l.%zu.v", i);
			buf_reset(&b);
			buf_printf(&b, "%s-%zu", in[k], i);
			CHECK_STR(json_string_value(sensor_path_get(res, path)),
			    b.data);
		}
		CHECK(res != tmpl);
		CHECK(json_object_get(json_object_get(res, "data"), "fixed") ==
		    json_object_get(json_object_get(tmpl, "data"), "fixed"));
		CHECK(json_object_get(res, "metadata") ==
		    json_object_get(tmpl, "metadata"));
	}
	CHECK_STR(json_string_value(sensor_path_get(tmpl, "data.l.11.v")),
	    "{{ .Input.c }}-11");
	json_decref(fires);
	buf_free(&b);
	sensor_free(s);
	mdoc_free(doc);
	diag_free(&d);
}

/* Each firing's resource, a reference each; jansson's allocations counted. */
static size_t allocs;

static void *
count_malloc(size_t n)
{
	allocs++;
	return malloc(n);
}

static void
keep_resource(void *ctx, const struct sensor_fire *f)
{
	json_array_append(ctx, f->resource ? f->resource : json_null());
}

/* Fires t's sensor with c as the event's "c"; jansson's allocations. */
static size_t
fire_counted(struct sensor *s, json_t *kept, const char *c)
{
	struct event ev;
	size_t n;

	mkevent(&ev, "w", "x", json_pack("{s:s}", "c", c), 0);
	allocs = 0;
	json_set_alloc_funcs(count_malloc, free);
	sensor_feed(s, &ev, 0, keep_resource, kept);
	json_set_alloc_funcs(malloc, free);
	n = allocs;
	clear_event(&ev);
	return n;
}

static void
check_rendered(json_t *res, json_t *tmpl, const char *c)
{
	char want[32];

	snprintf(want, sizeof want, "%s-ns", c);
	CHECK_STR(json_string_value(sensor_path_get(res,
	    "spec.arguments.parameters.0.value")), c);
	CHECK_STR(json_string_value(sensor_path_get(res,
	    "spec.arguments.parameters.1.value")), want);
	CHECK(res != tmpl);
	/* what holds no rendered string is the manifest's own */
	CHECK(json_object_get(res, "metadata") ==
	    json_object_get(tmpl, "metadata"));
	CHECK(sensor_path_get(res, "spec.templates") ==
	    sensor_path_get(tmpl, "spec.templates"));
	CHECK(sensor_path_get(res, "spec.arguments.parameters.0.name") ==
	    sensor_path_get(tmpl, "spec.arguments.parameters.0.name"));
}

/*
 * A firing renders into the tree the last one left when nothing holds
 * it: no container is allocated (the seed's Workflow copied six per
 * firing).  Whatever still holds the last tree, whole or one container
 * on the way to a string (as a k8s plan holds the resource's spec), keeps
 * its strings: that firing copies the way again.  Each firing shares
 * what holds no rendered string with the manifest, and the manifest
 * keeps its templates.
 */
TEST(resource_rendered_again_when_free)
{
	struct diags d;
	struct mdoc *doc;
	struct sensor *s;
	json_error_t je;
	json_t *kept = json_array(), *tmpl, *held;
	size_t reused, fresh;

	diag_init(&d);
	doc = json_doc(json_loads("{\"metadata\":{\"name\":\"m\"},\"spec\":{"
	    "\"dependencies\":[{\"name\":\"a\",\"eventSourceName\":\"w\","
	    "\"eventName\":\"x\"}],\"triggers\":[{\"template\":{\"name\":"
	    "\"t\",\"k8s\":{\"operation\":\"create\",\"source\":{"
	    "\"resource\":{\"kind\":\"Workflow\",\"metadata\":{"
	    "\"generateName\":\"b-\"},\"spec\":{\"arguments\":{"
	    "\"parameters\":[{\"name\":\"pod\",\"value\":\"{{ .Input.c }}\"},"
	    "{\"name\":\"ns\",\"value\":\"{{ .Input.c }}-ns\"}]},"
	    "\"templates\":[{\"name\":\"bump\",\"container\":{\"args\":["
	    "\"--pod={{workflow.parameters.pod}}\"]}}]}}}}}}]}}", 0, &je));
	s = sensor_compile(doc, &d);
	REQUIRE(s != NULL);
	tmpl = json_object_get(json_object_get(sensor_trigger(s, 0)->tmpl,
	    "source"), "resource");

	(void)fire_counted(s, kept, "a");
	check_rendered(json_array_get(kept, 0), tmpl, "a");
	json_array_clear(kept);		/* nothing holds it: rendered again */
	reused = fire_counted(s, kept, "b");
	check_rendered(json_array_get(kept, 0), tmpl, "b");

	/* the root held: "b" stays, "c" is a new way down */
	fresh = fire_counted(s, kept, "c");
	check_rendered(json_array_get(kept, 0), tmpl, "b");
	check_rendered(json_array_get(kept, 1), tmpl, "c");
	CHECK(json_array_get(kept, 0) != json_array_get(kept, 1));
	/* six containers on the way, each an allocation at least */
	CHECK(fresh >= reused + 6);

	/* only "c"'s spec held, as a k8s plan holds it */
	held = json_incref(json_object_get(json_array_get(kept, 1), "spec"));
	json_array_clear(kept);
	(void)fire_counted(s, kept, "d");
	check_rendered(json_array_get(kept, 0), tmpl, "d");
	CHECK_STR(json_string_value(sensor_path_get(held,
	    "arguments.parameters.0.value")), "c");
	CHECK(json_object_get(json_array_get(kept, 0), "spec") != held);

	CHECK_STR(json_string_value(sensor_path_get(tmpl,
	    "spec.arguments.parameters.0.value")), "{{ .Input.c }}");
	CHECK_STR(json_string_value(sensor_path_get(tmpl,
	    "spec.arguments.parameters.1.value")), "{{ .Input.c }}-ns");
	json_decref(held);
	json_decref(kept);
	sensor_free(s);
	mdoc_free(doc);
	diag_free(&d);
}

/*
 * Each template is bounded, and so are all of a trigger's together: two
 * strings of 600 KB fail at the second, naming its path; one of them
 * renders.
 */
TEST(rendered_total_bounded)
{
	static const char *const srcs[] = {
		"{\"a\":\"{{ repeat 600000 .Input.c }}\",\"b\":\"k\"}",
		"{\"a\":\"{{ repeat 600000 .Input.c }}\","
		    "\"b\":\"{{ repeat 600000 .Input.c }}\"}",
	};
	struct diags d;
	struct mdoc *doc;
	struct sensor *s;
	struct event ev;
	json_error_t je;
	json_t *fires, *f;
	const char *e;
	char *text;
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(srcs); i++) {
		diag_init(&d);
		fires = json_array();
		text = xasprintf("{\"metadata\":{\"name\":\"m\"},\"spec\":{"
		    "\"dependencies\":[{\"name\":\"a\",\"eventSourceName\":"
		    "\"w\",\"eventName\":\"x\"}],\"triggers\":[{\"template\":"
		    "{\"name\":\"fix\",\"remediate\":{\"bumpMemory\":{"
		    "\"container\":\"app\",\"cap\":\"8Gi\",\"note\":%s}}}}]}}",
		    srcs[i]);
		doc = json_doc(json_loads(text, 0, &je));
		s = sensor_compile(doc, &d);
		CHECK(s != NULL);
		mkevent(&ev, "w", "x", json_pack("{s:s}", "c", "y"), 0);
		if (s)
			sensor_feed(s, &ev, 0, capture, fires);
		f = json_array_get(fires, 0);
		if (i == 0) {
			CHECK(json_object_get(f, "error") == NULL);
			CHECK_INT(json_string_length(sensor_path_get(f,
			    "resource.bumpMemory.note.a")), 600000);
		} else {
			CHECK(json_object_get(f, "resource") == NULL);
			e = json_string_value(json_object_get(f, "error"));
			CHECK(e != NULL && strstr(e, "the rendered strings of "
			    "this trigger pass 1048576 bytes") != NULL);
		}
		clear_event(&ev);
		json_decref(fires);
		sensor_free(s);
		mdoc_free(doc);
		diag_free(&d);
		free(text);
	}
}

/* ---- mutations: every parser survives garbage ------------------------ */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A copy of s with a few random edits drawn from syntax characters. */
static char *
mutate(const char *s)
{
	static const char alpha[] = "{}()[]|.$#=!<>&%\\\"'`-+*?:,; \n\tabc019"
	    "Input";
	size_t n = strlen(s), i, edits = 1 + next_rand() % 4, at;
	char *m = xmalloc(n + edits + 1);

	memcpy(m, s, n + 1);
	for (i = 0; i < edits; i++) {
		at = n ? next_rand() % (n + 1) : 0;
		switch (next_rand() % 3) {
		case 0:		/* insert */
			memmove(m + at + 1, m + at, n - at + 1);
			m[at] = alpha[next_rand() % (sizeof alpha - 1)];
			n++;
			break;
		case 1:		/* delete */
			if (at < n) {
				memmove(m + at, m + at + 1, n - at);
				n--;
			}
			break;
		default:	/* replace */
			if (at < n)
				m[at] = alpha[next_rand() % (sizeof alpha - 1)];
		}
	}
	return m;
}

TEST(mutations_do_not_crash)
{
	json_t *tj = load_json("templates.json"), *pj = load_json(
	    "paths.json"), *ej = load_json("exprs.json"), *c;
	const char *names[] = { "a", "c", "e", "n", "s", "action" };
	json_t *vals[6];
	struct sensor_tmpl *t;
	struct sensor_path *p;
	struct sensor_expr *e;
	struct buf b;
	size_t i, k, ok = 0;
	char *m, *err;

	for (k = 0; k < 6; k++)
		vals[k] = json_integer((json_int_t)k);
	for (i = 0; i < 20000; i++) {
		c = json_array_get(json_object_get(tj, "cases"), next_rand() %
		    json_array_size(json_object_get(tj, "cases")));
		m = mutate(json_string_value(json_object_get(c, "t")));
		t = sensor_tmpl_compile(m, next_rand() % 2 ? TMPL_INPUT :
		    TMPL_STRICT, &err);
		if (t) {
			buf_init(&b, 0);
			if (sensor_tmpl_exec(t, json_object_get(tj, "input"), &b,
			    &err) == 0)
				ok++;
			buf_free(&b);
		}
		free(err);
		sensor_tmpl_free(t);
		free(m);

		c = json_array_get(json_object_get(pj, "cases"), next_rand() %
		    json_array_size(json_object_get(pj, "cases")));
		m = mutate(json_string_value(json_object_get(c, "path")));
		if ((p = sensor_path_compile(m, &err)) != NULL) {
			json_t *tmp = NULL;

			(void)sensor_path_eval(p, json_object_get(pj, "data"),
			    &tmp);
			json_decref(tmp);
		}
		free(err);
		sensor_path_free(p);
		free(m);

		c = json_array_get(ej, next_rand() % json_array_size(ej));
		m = mutate(json_string_value(json_object_get(c, "expr")));
		if ((e = sensor_expr_compile(m, names, 6, &err)) != NULL) {
			(void)sensor_expr_eval(e, vals, &err);
			free(err);
		} else
			free(err);
		sensor_expr_free(e);
		free(m);
	}
	CHECK(ok > 100);	/* mutations still exercise execution */
	for (k = 0; k < 6; k++)
		json_decref(vals[k]);
	json_decref(tj);
	json_decref(pj);
	json_decref(ej);
}

int
main(void)
{
	RUN(seed_sensor);
	RUN(seed_verbatim_is_refused_with_a_hint);
	RUN(rate_limit_inside_template);
	RUN(filters);
	RUN(paths);
	RUN(templates);
	RUN(template_compiled_once);
	RUN(template_input_mode);
	RUN(exprs);
	RUN(parameters);
	RUN(conditions);
	RUN(errors);
	RUN(garbage_does_not_crash);
	RUN(go_float_formatting);
	RUN(describe_many);
	RUN(remediate_block_renders);
	RUN(resource_rendered_copy_on_write);
	RUN(resource_rendered_again_when_free);
	RUN(rendered_total_bounded);
	RUN(mutations_do_not_crash);
	return harness_done();
}
