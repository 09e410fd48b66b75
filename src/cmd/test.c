/*
 * remediate test: Kyverno's kyverno-test.yaml files run against our policy
 * engine, as `kyverno test` runs them, so a team's policy tests run
 * unchanged and show where remediate decides differently.
 *
 * A test file names policies, resources and results: for each result, the
 * policy and rule, the resources (by name, optionally namespace/name, and
 * kind; the result's namespace narrows them) and the expected result
 * (pass, fail, warn, skip, error).  Each resource is admitted as a
 * CREATE against every policy of the file (pol_evaluate with every
 * rule's outcome); a rule's result is matched by its name or
 * the names Kyverno gives the rules it generates for Pod controllers
 * (autogen-NAME, autogen-cronjob-NAME), as the Kyverno CLI does.  A rule
 * that does not apply to the resource reads as skip.  A variables file
 * gives request.operation and values for context entries (globally, by
 * policy rule, by resource), which are then not loaded, and the labels of
 * namespaces for namespaceSelector (namespaceSelector: [{name, labels}]).
 *
 * remediate's own test files (kind: RemediationTest, named
 * remediate-test.yaml or *.remediate-test.yaml) name the manifests, a
 * cluster snapshot, recorded signals and a Prometheus recording, and the
 * decisions expected: the signals are replayed through the whole pipeline
 * (cmd_replay_collect) and each record is matched, in order, on the
 * fields the expectation gives (target, decision, reason, plan excerpts;
 * with notification destinations configured, "notify": who hears of it,
 * added by the collector in src/cmd/replay.c).
 *
 * Every case prints PASS or FAIL with what differs; the exit status is 1
 * on any failure or any file that does not load; --junit writes the
 * cases as JUnit XML for CI systems.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/args.h"
#include "cmd/cmd.h"
#include "cmd/cmd_int.h"
#include "conf/conf.h"
#include "policy/policy.h"

#define MAX_DEPTH	32		/* directories below an argument */
#define MAX_FILES	10000		/* test files in one run */

/* One case: a result entry for one resource. */
struct tcase {
	char	*suite;		/* owned: the test file */
	char	*name;		/* owned: policy/rule Kind/name */
	char	*failure;	/* owned; NULL when it passed */
};

struct run {
	struct tcase	*c;
	size_t		 n, cap;
	size_t		 failed;
	int		 broken;	/* a file did not load */
	int		 verbose;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: remediate test [--junit FILE] [-v] [DIR|FILE]...\n"
	    "Runs Kyverno test files (kyverno-test.yaml: policies, resources,\n"
	    "expected results per rule and resource) against remediate's\n"
	    "policy engine, and remediate's own (remediate-test.yaml:\n"
	    "manifests, cluster snapshot, signals, expected decisions)\n"
	    "through the whole pipeline offline.  A directory is searched\n"
	    "for both; the default is the current directory.  Prints each\n"
	    "failing case (-v: every case); exit 1 on any failure.\n");
}

static void
add_case(struct run *r, const char *suite, char *name_owned,
    char *failure_owned)
{
	struct tcase *c;

	xgrow(&r->c, &r->cap, r->n + 1, sizeof *r->c);
	c = &r->c[r->n++];
	c->suite = xstrdup(suite);
	c->name = name_owned;
	c->failure = failure_owned;
	if (failure_owned != NULL) {
		r->failed++;
		printf("FAIL  %s: %s: %s\n", suite, name_owned, failure_owned);
	} else if (r->verbose)
		printf("PASS  %s: %s\n", suite, name_owned);
}

/* ---- finding test files ------------------------------------------------- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
is_test_name(const char *n)
{
	size_t len = strlen(n), sl = strlen(".remediate-test.yaml");

	return strcmp(n, "kyverno-test.yaml") == 0 ||
	    strcmp(n, "kyverno-test.yml") == 0 ||
	    strcmp(n, "remediate-test.yaml") == 0 ||
	    (len > sl && strcmp(n + len - sl, ".remediate-test.yaml") == 0);
}

/* Collects the test files below dir (owned strings into *v). */
static void
walk(const char *dir, int depth, char ***v, size_t *n, size_t *cap)
{
	struct dirent *de;
	struct stat st;
	char **names = NULL, *p;
	size_t nn = 0, ncap = 0, i;
	DIR *d;

	if (depth > MAX_DEPTH || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, ".git") == 0)
			continue;
		xgrow(&names, &ncap, nn + 1, sizeof *names);
		names[nn++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (nn > 1)	/* an empty directory has no array: qsort wants one */
		qsort(names, nn, sizeof *names, cmp_str);
	for (i = 0; i < nn; i++) {
		p = xasprintf("%s/%s", dir, names[i]);
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
			walk(p, depth + 1, v, n, cap);
		else if (is_test_name(names[i]) && *n < MAX_FILES) {
			xgrow(v, cap, *n + 1, sizeof **v);
			(*v)[(*n)++] = p;
			p = NULL;
		}
		free(p);
		free(names[i]);
	}
	free(names);
}

/* ---- one test file ------------------------------------------------------ */

/* dir of path + "/" + rel (rel absolute: itself).  Owned. */
static char *
beside(const char *path, const char *rel)
{
	const char *slash = strrchr(path, '/');

	if (rel[0] == '/' || slash == NULL)
		return xstrdup(rel);
	return xasprintf("%.*s/%s", (int)(slash - path), path, rel);
}

/* The strings of a list member (or a lone string), as an owned array. */
static char **
str_list(json_t *o, const char *key, size_t *n)
{
	json_t *v = json_object_get(o, key), *e;
	char **out;
	size_t i;

	*n = 0;
	out = xcalloc(json_array_size(v) + 2, sizeof *out);
	if (json_is_string(v))
		out[(*n)++] = xstrdup(json_string_value(v));
	json_array_foreach(v, i, e)
		if (json_is_string(e))
			out[(*n)++] = xstrdup(json_string_value(e));
	return out;
}

/* Everything one test file evaluates. */
struct tfile {
	const char		*path;
	struct pol_set		*set;
	json_t			*resources;	/* array of objects */
	struct pol_verdict	*verdicts;	/* per resource, lazily */
	int			*done;
	const char		*operation;
	json_t			*variables;	/* the variables file */
	json_t			*namespaces;	/* name -> labels, or NULL */
	json_t			*unscored;	/* names ("ns/name" too) of
						   policies annotated scored
						   "false" -> true */
};

#define SCORED	"policies.kyverno.io/scored"

/* Annotated policies.kyverno.io/scored: "false"? */
static int
unscored(json_t *obj)
{
	const char *v = json_string_value(json_object_get(json_object_get(
	    json_object_get(obj, "metadata"), "annotations"), SCORED));

	return v != NULL && strcmp(v, "false") == 0;
}

/* Kyverno's: a fail of an unscored policy, or on an unscored resource,
 * is a warn. */
static void
note_unscored(struct tfile *t, const struct mdoc *m)
{
	char *key;

	if (!unscored(m->root) || m->name == NULL)
		return;
	if (t->unscored == NULL)
		t->unscored = json_object();
	json_object_set_new(t->unscored, m->name, json_true());
	if (m->namespace) {
		key = xasprintf("%s/%s", m->namespace, m->name);
		json_object_set_new(t->unscored, key, json_true());
		free(key);
	}
}

static int
load_policies(struct tfile *t, json_t *test, struct diags *d)
{
	char **rel, **paths;
	struct conf *c;
	size_t n, i;
	int rc = 0;

	rel = str_list(test, "policies", &n);
	paths = xcalloc(n + 1, sizeof *paths);
	for (i = 0; i < n; i++)
		paths[i] = beside(t->path, rel[i]);
	c = conf_load((const char *const *)paths, n, d);
	t->set = pol_set_new();
	for (i = 0; i < c->nby_kind[CONF_CLUSTERPOLICY]; i++) {
		if (pol_set_add(t->set, c->by_kind[CONF_CLUSTERPOLICY][i],
		    d) != 0)
			rc = -1;
		note_unscored(t, c->by_kind[CONF_CLUSTERPOLICY][i]);
	}
	for (i = 0; i < c->nby_kind[CONF_POLICY]; i++) {
		if (pol_set_add(t->set, c->by_kind[CONF_POLICY][i], d) != 0)
			rc = -1;
		note_unscored(t, c->by_kind[CONF_POLICY][i]);
	}
	if (d->errors || n == 0)
		rc = -1;
	conf_free(c);
	util_strv_free(rel, n);
	util_strv_free(paths, n);
	return rc;
}

static int
load_resources(struct tfile *t, json_t *test, struct diags *d)
{
	struct mdoc **docs = NULL;
	size_t n, nd = 0, i;
	char **rel, *p;
	int rc = 0;

	rel = str_list(test, "resources", &n);
	for (i = 0; i < n; i++) {
		p = beside(t->path, rel[i]);
		if (conf_load_documents(p, &docs, &nd, d) != 0)
			rc = -1;
		free(p);
	}
	t->resources = json_array();
	for (i = 0; i < nd; i++) {
		if (json_is_object(docs[i]->root))
			json_array_append(t->resources, docs[i]->root);
		mdoc_free(docs[i]);
	}
	free(docs);
	util_strv_free(rel, n);
	return rc;
}

/* variables: the values file; globalValues' request.operation. */
static void
load_variables(struct tfile *t, json_t *test, struct diags *d)
{
	const char *rel = json_string_value(json_object_get(test,
	    "variables"));
	struct mdoc **docs = NULL;
	size_t nd = 0, i;
	char *p;

	t->operation = "CREATE";
	if (rel == NULL)
		return;
	p = beside(t->path, rel);
	conf_load_documents(p, &docs, &nd, d);
	free(p);
	if (nd > 0)
		t->variables = json_incref(docs[0]->root);
	for (i = 0; i < nd; i++)
		mdoc_free(docs[i]);
	free(docs);
	if (json_is_string(json_object_get(json_object_get(t->variables,
	    "globalValues"), "request.operation")))
		t->operation = json_string_value(json_object_get(
		    json_object_get(t->variables, "globalValues"),
		    "request.operation"));
}

/*
 * The values file's namespace labels as name -> labels (owned), or NULL
 * when it gives none: namespaceSelector [{name, labels}], as the Kyverno
 * CLI reads it.  An entry without a name, or labels that are not an
 * object, is reported and counted in *bad.
 */
static json_t *
namespace_labels(const struct tfile *t, int *bad)
{
	json_t *sel = json_object_get(t->variables, "namespaceSelector");
	json_t *out, *e, *labels;
	const char *name;
	size_t i;

	if (!json_is_array(sel))
		return NULL;
	out = json_object();
	json_array_foreach(sel, i, e) {
		name = json_string_value(json_object_get(e, "name"));
		labels = json_object_get(e, "labels");
		if (name == NULL || (labels && !json_is_object(labels))) {
			fprintf(stderr, "%s: variables: namespaceSelector[%zu]: "
			    "an entry is {name: NAMESPACE, labels: {KEY: "
			    "VALUE}}\n", t->path, i);
			(*bad)++;
			continue;
		}
		json_object_set_new(out, name, labels ? json_deep_copy(labels) :
		    json_object());
	}
	return out;
}

/* Whether a kinds entry ("Pod", "apps/v1/Deployment") names kind. */
static int
kind_is(const char *want, const char *kind)
{
	const char *slash = strrchr(want, '/');

	return kind != NULL && strcmp(slash ? slash + 1 : want, kind) == 0;
}

/* Whether the resource's namespace is the len bytes at want. */
static int
namespace_is(json_t *md, const char *want, size_t len)
{
	const char *ns = json_string_value(json_object_get(md, "namespace"));

	return ns != NULL && strlen(ns) == len && strncmp(ns, want, len) == 0;
}

/*
 * The index of the resource named (ns/)name of kind, in namespace ns
 * when the result gives one (as the Kyverno CLI filters), or -1.
 */
static long
find_resource(const struct tfile *t, const char *kind, const char *ns,
    const char *name)
{
	const char *slash = strchr(name, '/'), *n = slash ? slash + 1 : name;
	json_t *o, *md;
	size_t i;

	json_array_foreach(t->resources, i, o) {
		md = json_object_get(o, "metadata");
		if (json_string_value(json_object_get(md, "name")) == NULL ||
		    strcmp(json_string_value(json_object_get(md, "name")),
		    n) != 0)
			continue;
		if (kind && !kind_is(kind, json_string_value(json_object_get(o,
		    "kind"))))
			continue;
		if (slash && !namespace_is(md, name, (size_t)(slash - name)))
			continue;
		if (ns && *ns && !namespace_is(md, ns, strlen(ns)))
			continue;
		return (long)i;
	}
	return -1;
}

/*
 * The values file as pol_values for resource res: globalValues for every
 * rule, each policy's rules[].values by rule, and its resources[].values
 * for res by policy; *op from request.operation where one gives it.
 * Fills vs with new references (the caller decrefs the three).
 */
static void
values_for(const struct tfile *t, json_t *res, struct pol_values *vs,
    const char **op)
{
	const char *name = json_string_value(json_object_get(
	    json_object_get(res, "metadata"), "name")), *pn, *o;
	json_t *p, *x, *vals;
	size_t i, j;

	vs->global = json_deep_copy(json_object_get(t->variables,
	    "globalValues"));
	vs->by_policy = json_object();
	vs->by_rule = json_object();
	vs->namespaces = t->namespaces;
	if (vs->global == NULL)
		vs->global = json_object();
	*op = t->operation;
	json_array_foreach(json_object_get(t->variables, "policies"), i, p) {
		if ((pn = json_string_value(json_object_get(p, "name"))) ==
		    NULL)
			continue;
		json_array_foreach(json_object_get(p, "rules"), j, x) {
			const char *rn = json_string_value(json_object_get(x,
			    "name"));
			char *key;

			if (rn == NULL || !json_is_object(vals =
			    json_object_get(x, "values")))
				continue;
			key = xasprintf("%s/%s", pn, rn);
			json_object_set(vs->by_rule, key, vals);
			free(key);
		}
		json_array_foreach(json_object_get(p, "resources"), j, x) {
			vals = json_object_get(x, "values");
			if (name == NULL || !json_is_object(vals) ||
			    !json_is_string(json_object_get(x, "name")) ||
			    strcmp(json_string_value(json_object_get(x,
			    "name")), name) != 0)
				continue;
			json_object_set(vs->by_policy, pn, vals);
			if ((o = json_string_value(json_object_get(vals,
			    "request.operation"))) != NULL)
				*op = o;
		}
	}
}

static const struct pol_verdict *
verdict(struct tfile *t, size_t i)
{
	struct pol_values vs;
	const char *op;
	json_t *res = json_array_get(t->resources, i);

	if (!t->done[i]) {
		values_for(t, res, &vs, &op);
		pol_evaluate(t->set, res, NULL, op, NULL, POL_ALL, &vs,
		    &t->verdicts[i]);
		json_decref(vs.global);
		json_decref(vs.by_policy);
		json_decref(vs.by_rule);
		t->done[i] = 1;
	}
	return &t->verdicts[i];
}

/* A policy name in a verdict ("ns/name" for a Policy) is policy. */
static int
policy_is(const char *got, const char *want)
{
	const char *slash = strchr(got, '/');

	return strcmp(got, want) == 0 || (slash && strcmp(slash + 1,
	    want) == 0);
}

/* The rule, or a rule Kyverno generated from it for Pod controllers. */
static int
rule_is(const char *got, const char *want)
{
	return strcmp(got, want) == 0 || (strncmp(got, "autogen-", 8) == 0 &&
	    (strcmp(got + 8, want) == 0 || (strncmp(got + 8, "cronjob-",
	    8) == 0 && strcmp(got + 16, want) == 0)));
}

static void
run_result(struct run *r, struct tfile *t, json_t *res, const char *name)
{
	const char *policy = json_string_value(json_object_get(res, "policy"));
	const char *rule = json_string_value(json_object_get(res, "rule"));
	const char *kind = json_string_value(json_object_get(res, "kind"));
	const char *ns = json_string_value(json_object_get(res, "namespace"));
	const char *want = json_string_value(json_object_get(res, "result"));
	const struct pol_verdict *v;
	const struct pol_violation *hit = NULL;
	const char *got;
	char *label;
	long idx;
	size_t i;

	if (want == NULL)
		want = json_string_value(json_object_get(res, "status"));
	label = xasprintf("%s/%s %s/%s%s%s", policy ? policy : "?",
	    rule ? rule : "?", kind ? kind : "*", ns && *ns ? ns : "",
	    ns && *ns ? "/" : "", name);
	if (policy == NULL || rule == NULL || want == NULL) {
		add_case(r, t->path, label, xstrdup("a result needs policy, "
		    "rule and result"));
		return;
	}
	if ((idx = find_resource(t, kind, ns, name)) < 0) {
		add_case(r, t->path, label, xstrdup("no such resource in the "
		    "test's resources"));
		return;
	}
	v = verdict(t, (size_t)idx);
	for (i = 0; i < v->n && hit == NULL; i++)
		if (policy_is(v->v[i].policy, policy) &&
		    rule_is(v->v[i].rule, rule))
			hit = &v->v[i];
	got = hit ? pol_outcome_name(hit->outcome) : "skip";
	if (strcmp(got, "fail") == 0 && (json_is_true(json_object_get(
	    t->unscored, policy)) || unscored(json_array_get(t->resources,
	    (size_t)idx))))
		got = "warn";
	if (strcmp(want, got) == 0) {
		add_case(r, t->path, label, NULL);
		return;
	}
	add_case(r, t->path, label, xasprintf("want %s, got %s%s%s", want,
	    hit ? got : "skip (the rule does not apply)", hit &&
	    hit->message && *hit->message ? ": " : "", hit && hit->message ?
	    hit->message : ""));
}

/* ---- remediate's own test files ------------------------------------- */

/*
 * Whether got has everything want gives: objects by want's keys, lists
 * element by element, scalars equal (numbers by value).  On a difference,
 * *where (owned) says where and what.
 */
static int
subset(json_t *want, json_t *got, const char *path, char **where)
{
	const char *k;
	json_t *w;
	char *sub, *a, *b;
	size_t i;
	int ok = 1;

	if (json_is_object(want) && json_is_object(got)) {
		json_object_foreach(want, k, w) {
			sub = xasprintf("%s%s%s", path, *path ? "." : "", k);
			ok = subset(w, json_object_get(got, k), sub, where);
			free(sub);
			if (!ok)
				return 0;
		}
		return 1;
	}
	if (json_is_array(want) && json_is_array(got) &&
	    json_array_size(want) == json_array_size(got)) {
		json_array_foreach(want, i, w) {
			sub = xasprintf("%s[%zu]", path, i);
			ok = subset(w, json_array_get(got, i), sub, where);
			free(sub);
			if (!ok)
				return 0;
		}
		return 1;
	}
	if (got != NULL && json_equal(want, got))
		return 1;
	if (got != NULL && json_is_number(want) && json_is_number(got) &&
	    json_number_value(want) == json_number_value(got))
		return 1;
	a = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
	b = got ? json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	*where = xasprintf("%s: want %s, got %s", path, a ? a : "?",
	    b ? b : "nothing");
	free(a);
	free(b);
	return 0;
}

/* "10:01:00 Deployment shop/cart" for a record. */
static char *
describe_record(json_t *rec)
{
	json_t *t = json_object_get(rec, "target");
	const char *ns = json_string_value(json_object_get(t, "namespace"));

	return xasprintf("%s %s %s%s%s",
	    json_string_value(json_object_get(rec, "time")) ?
	    json_string_value(json_object_get(rec, "time")) : "?",
	    json_string_value(json_object_get(t, "kind")) ?
	    json_string_value(json_object_get(t, "kind")) : "?",
	    ns ? ns : "", ns ? "/" : "",
	    json_string_value(json_object_get(t, "name")) ?
	    json_string_value(json_object_get(t, "name")) : "?");
}

/* A path member (string) of the test, beside it; NULL when absent. */
static char *
member_path(const char *test, json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? beside(test, v) : NULL;
}

/* The expectations against the records, in order. */
static void
match_decisions(struct run *r, const char *path, json_t *want,
    json_t *recs)
{
	json_t *e, *exp, *got;
	size_t i, k, count, at = 0, missing = 0;
	char *where, *what;

	json_array_foreach(want, i, e) {
		count = json_is_integer(json_object_get(e, "count")) &&
		    json_integer_value(json_object_get(e, "count")) > 0 ?
		    (size_t)json_integer_value(json_object_get(e, "count")) :
		    1;
		exp = json_deep_copy(e);
		json_object_del(exp, "count");
		for (k = 0; k < count && at < json_array_size(recs); k++,
		    at++) {
			got = json_array_get(recs, at);
			where = NULL;
			what = describe_record(got);
			subset(exp, got, "", &where);
			add_case(r, path, xasprintf("decision %zu (%s)",
			    at + 1, what), where);
			free(what);
		}
		/* one case for what is missing: count is the file's, and a
		   huge one must not become as many cases */
		if (k < count) {
			add_case(r, path, xasprintf("decision %zu (-)", at +
			    missing + 1), xasprintf("no record: the signals "
			    "made fewer decisions (%zu more expected here)",
			    count - k));
			missing += count - k;
		}
		json_decref(exp);
	}
	if (at < json_array_size(recs)) {
		what = describe_record(json_array_get(recs, at));
		add_case(r, path, xasprintf("decision %zu (%s)", at + 1, what),
		    xasprintf("%zu more decisions than the test expects",
		    json_array_size(recs) - at));
		free(what);
	}
}

static void
run_remediation_test(struct run *r, const char *path, json_t *test)
{
	char **manifests, *cluster, *prom, *signals;
	const char **paths;
	json_t *recs = json_array();
	size_t n, i;
	int rc;

	manifests = str_list(test, "manifests", &n);
	paths = xcalloc(n + 1, sizeof *paths);
	for (i = 0; i < n; i++) {
		char *p = beside(path, manifests[i]);

		free(manifests[i]);
		paths[i] = manifests[i] = p;
	}
	cluster = member_path(path, test, "cluster");
	prom = member_path(path, test, "prometheus");
	signals = member_path(path, test, "signals");
	if (n == 0 || signals == NULL) {
		add_case(r, path, xstrdup("(load)"), xstrdup("a RemediationTest "
		    "needs manifests and signals"));
		r->broken = 1;
	} else if ((rc = cmd_replay_collect(paths, n,
	    cluster, prom, signals, recs)) != CMD_OK) {
		add_case(r, path, xstrdup("(load)"), xstrdup("the manifests, "
		    "cluster, recording or signals do not load (above)"));
		r->broken = 1;
	} else
		match_decisions(r, path, json_object_get(test, "decisions"),
		    recs);
	json_decref(recs);
	free(paths);
	util_strv_free(manifests, n);
	free(cluster);
	free(prom);
	free(signals);
}

static void
run_file(struct run *r, const char *path)
{
	struct mdoc **docs = NULL;
	struct tfile t;
	struct diags d;
	json_t *test, *res, *names;
	size_t nd = 0, i, j;
	int bad = 0;

	memset(&t, 0, sizeof t);
	t.path = path;
	diag_init(&d);
	if (conf_load_documents(path, &docs, &nd, &d) != 0 || nd == 0 ||
	    (!json_is_array(json_object_get(docs[0]->root, "results")) &&
	    !json_is_array(json_object_get(docs[0]->root, "decisions")))) {
		if (d.n)
			diag_print(&d, stderr);
		else
			fprintf(stderr, "%s: not a test file (a Kyverno test "
			    "has results, a RemediationTest decisions)\n",
			    path);
		r->broken = 1;
		goto out;
	}
	test = docs[0]->root;
	if (docs[0]->kind && strcmp(docs[0]->kind, "RemediationTest") == 0) {
		run_remediation_test(r, path, test);
		goto out;
	}
	if (load_policies(&t, test, &d) != 0 ||
	    load_resources(&t, test, &d) != 0) {
		diag_print(&d, stderr);
		add_case(r, path, xstrdup("(load)"), xstrdup("the test's "
		    "policies or resources do not load (above)"));
		r->broken = 1;
		goto out;
	}
	load_variables(&t, test, &d);
	t.namespaces = namespace_labels(&t, &bad);
	if (bad) {
		add_case(r, path, xstrdup("(load)"), xstrdup("the values "
		    "file's namespaceSelector does not read (above)"));
		r->broken = 1;
		goto out;
	}
	t.verdicts = xcalloc(json_array_size(t.resources) + 1,
	    sizeof *t.verdicts);
	t.done = xcalloc(json_array_size(t.resources) + 1, sizeof *t.done);
	json_array_foreach(json_object_get(test, "results"), i, res) {
		names = json_object_get(res, "resources");
		if (json_is_string(json_object_get(res, "resource")))
			run_result(r, &t, res, json_string_value(
			    json_object_get(res, "resource")));
		for (j = 0; j < json_array_size(names); j++)
			if (json_is_string(json_array_get(names, j)))
				run_result(r, &t, res, json_string_value(
				    json_array_get(names, j)));
	}
out:
	for (i = 0; t.verdicts && i < json_array_size(t.resources); i++)
		pol_verdict_clear(&t.verdicts[i]);
	free(t.verdicts);
	free(t.done);
	json_decref(t.resources);
	json_decref(t.variables);
	json_decref(t.namespaces);
	json_decref(t.unscored);
	pol_set_free(t.set);
	for (i = 0; i < nd; i++)
		mdoc_free(docs[i]);
	free(docs);
	diag_free(&d);
}

/* ---- JUnit -------------------------------------------------------------- */

static void
xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default:
			if ((unsigned char)*s < 0x20 && *s != '\n' &&
			    *s != '\t')
				fputc(' ', f);
			else
				fputc(*s, f);
		}
	}
}

static int
write_junit(const struct run *r, const char *file)
{
	FILE *f = fopen(file, "w");
	size_t i, j, tests, fails;

	if (f == NULL) {
		fprintf(stderr, "remediate test: %s: cannot write\n", file);
		return -1;
	}
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<testsuites tests=\"%zu\" failures=\"%zu\">\n", r->n, r->failed);
	for (i = 0; i < r->n; i = j) {
		for (j = i, tests = 0, fails = 0; j < r->n &&
		    strcmp(r->c[j].suite, r->c[i].suite) == 0; j++) {
			tests++;
			fails += r->c[j].failure != NULL;
		}
		fputs("  <testsuite name=\"", f);
		xml_text(f, r->c[i].suite);
		fprintf(f, "\" tests=\"%zu\" failures=\"%zu\">\n", tests,
		    fails);
		for (; i < j; i++) {
			fputs("    <testcase name=\"", f);
			xml_text(f, r->c[i].name);
			if (r->c[i].failure == NULL) {
				fputs("\"/>\n", f);
				continue;
			}
			fputs("\">\n      <failure message=\"", f);
			xml_text(f, r->c[i].failure);
			fputs("\"/>\n    </testcase>\n", f);
		}
		fputs("  </testsuite>\n", f);
	}
	fputs("</testsuites>\n", f);
	return fclose(f) == 0 ? 0 : -1;
}

int
cmd_test(int argc, char **argv)
{
	struct cmd_args a;
	struct run r;
	struct stat st;
	const char *junit = NULL;
	char **files = NULL;
	const char **args = NULL;
	size_t nfiles = 0, cap = 0, nargs = 0, i;
	int rc;

	memset(&r, 0, sizeof r);
	cmd_args_init(&a, argc, argv);
	args = xcalloc((size_t)argc + 1, sizeof *args);
	for (; a.i < argc && !a.error; a.i++) {
		if (cmd_args_opt(&a, "--help", "-h", 0)) {
			usage(stdout);
			free(args);
			return CMD_OK;
		} else if (cmd_args_opt(&a, "--junit", NULL, 1))
			junit = a.value;
		else if (cmd_args_opt(&a, "--verbose", "-v", 0))
			r.verbose = 1;
		else if (!cmd_args_not_operand(&a))
			args[nargs++] = argv[a.i];
	}
	if (a.error) {
		usage(stderr);
		free(args);
		return CMD_USAGE;
	}
	if (nargs == 0)
		args[nargs++] = ".";
	for (i = 0; i < nargs; i++) {
		if (stat(args[i], &st) != 0) {
			fprintf(stderr, "remediate test: %s: no such file or "
			    "directory\n", args[i]);
			r.broken = 1;
		} else if (S_ISDIR(st.st_mode))
			walk(args[i], 0, &files, &nfiles, &cap);
		else {
			xgrow(&files, &cap, nfiles + 1, sizeof *files);
			files[nfiles++] = xstrdup(args[i]);
		}
	}
	free(args);
	if (nfiles == 0 && !r.broken)
		fprintf(stderr, "remediate test: no kyverno-test.yaml or "
		    "remediate-test.yaml found\n");
	for (i = 0; i < nfiles; i++)
		run_file(&r, files[i]);
	printf("%zu passed, %zu failed\n", r.n - r.failed, r.failed);
	rc = r.failed || r.broken || nfiles == 0 ? 1 : 0;
	if (junit && write_junit(&r, junit) != 0)
		rc = 1;
	for (i = 0; i < r.n; i++) {
		free(r.c[i].suite);
		free(r.c[i].name);
		free(r.c[i].failure);
	}
	free(r.c);
	util_strv_free(files, nfiles);
	return rc;
}
