/*
 * Plans for k8s triggers: names from generateName, the sensor's namespace
 * as default, patch never creating, merge-patch semantics.  Plans of the
 * native actions (bumpMemory, restartPod, argocdSync, quarantine): the
 * exact requests, the refusals, at-cap, the pods each would move.
 *
 * Fixtures are read from tests/data/fixtures (harness_fixture).
 */
#include <stdlib.h>
#include <string.h>

#include "action/action.h"
#include "kube/kube.h"
#include "harness.h"

static struct sensor_trigger
trigger(enum k8s_operation op)
{
	static char name[] = "t";	/* outlives the call */
	struct sensor_trigger t;

	memset(&t, 0, sizeof t);
	t.name = name;
	t.kind = TRIGGER_K8S;
	t.operation = op;
	return t;
}

TEST(create_names_from_generate_name_in_sensor_namespace)
{
	struct sensor_trigger t = trigger(K8S_CREATE);
	json_t *res = json_loads("{\"apiVersion\":\"argoproj.io/v1alpha1\","
	    "\"kind\":\"Workflow\",\"metadata\":{\"generateName\":"
	    "\"bump-memory-\"},\"spec\":{}}", 0, NULL);
	struct act_plan p, q;
	char *err;
	const char *name;

	CHECK(act_plan_k8s(&t, res, "argo-events", 42, NULL, &p, &err) == 0);
	CHECK_STR(p.operation, "CREATE");
	name = json_string_value(json_object_get(json_object_get(p.object,
	    "metadata"), "name"));
	CHECK(name && strncmp(name, "bump-memory-", 12) == 0 &&
	    strlen(name) == 17 && strspn(name + 12,
	    "bcdfghjklmnpqrstvwxz2456789") == 5);
	CHECK_STR(json_string_value(json_object_get(json_object_get(p.object,
	    "metadata"), "namespace")), "argo-events");
	CHECK_STR(json_string_value(json_object_get(p.plan, "name")), name);
	/* deterministic for a seed, different for another */
	CHECK(act_plan_k8s(&t, res, "argo-events", 42, NULL, &q, &err) == 0);
	CHECK(json_equal(p.object, q.object));
	act_plan_clear(&q);
	CHECK(act_plan_k8s(&t, res, "argo-events", 43, NULL, &q, &err) == 0);
	CHECK(!json_equal(p.object, q.object));
	/* the rendered resource itself is not modified */
	CHECK(json_object_get(json_object_get(res, "metadata"), "name") ==
	    NULL);
	act_plan_clear(&p);
	act_plan_clear(&q);
	json_decref(res);
}

/*
 * The plan shares the resource's members but its metadata (no deep copy
 * per decision): the metadata planning fills in must be the plan's own,
 * and neither the resource nor a second plan of it may see it.
 */
TEST(plan_shares_all_but_the_metadata_it_fills_in)
{
	struct sensor_trigger t = trigger(K8S_CREATE);
	json_t *res = json_loads("{\"apiVersion\":\"argoproj.io/v1alpha1\","
	    "\"kind\":\"Workflow\",\"metadata\":{\"generateName\":"
	    "\"bump-\",\"labels\":{\"a\":\"b\"}},\"spec\":{\"x\":[1]}}", 0,
	    NULL);
	json_t *bare = json_loads("{\"kind\":\"ConfigMap\",\"data\":{}}", 0,
	    NULL);
	char *before = json_dumps(res, JSON_COMPACT), *after;
	struct act_plan p, q;
	char *err = NULL;
	json_t *pm, *qm;

	CHECK(act_plan_k8s(&t, res, "ns-a", 1, NULL, &p, &err) == 0);
	CHECK(act_plan_k8s(&t, res, "ns-b", 2, NULL, &q, &err) == 0);
	pm = json_object_get(p.object, "metadata");
	qm = json_object_get(q.object, "metadata");
	CHECK(p.object != res && pm != json_object_get(res, "metadata") &&
	    pm != qm);
	CHECK_STR(json_string_value(json_object_get(pm, "namespace")),
	    "ns-a");
	CHECK_STR(json_string_value(json_object_get(qm, "namespace")),
	    "ns-b");
	CHECK(!json_equal(json_object_get(pm, "name"),
	    json_object_get(qm, "name")));
	after = json_dumps(res, JSON_COMPACT);
	CHECK_STR(after, before);	/* the resource is as it was */
	free(after);
	/* the members planning does not touch are the resource's */
	CHECK(json_object_get(p.object, "spec") == json_object_get(res,
	    "spec"));
	CHECK(json_object_get(pm, "labels") == json_object_get(json_object_get(
	    res, "metadata"), "labels"));
	/* and dropping a plan leaves the resource whole */
	act_plan_clear(&p);
	after = json_dumps(res, JSON_COMPACT);
	CHECK_STR(after, before);
	free(after);
	act_plan_clear(&q);
	/* metadata that is no object: the plan's is new, the resource's
	   stays as it was */
	json_object_set_new(bare, "metadata", json_string("odd"));
	CHECK(act_plan_k8s(&t, bare, "ns", 1, NULL, &p, &err) == -1);
	CHECK_STR(err, "create ConfigMap has no metadata.name");
	free(err);
	CHECK_STR(json_string_value(json_object_get(bare, "metadata")), "odd");
	free(before);
	json_decref(bare);
	json_decref(res);
}

/* The API server of the tests: answers with the object it was given. */
static json_t *
fetch_live(void *ctx, const char *api_version, const char *kind,
    const char *ns, const char *name)
{
	(void)api_version;
	(void)kind;
	(void)ns;
	(void)name;
	return ctx ? json_incref(ctx) : NULL;
}

TEST(patch_never_creates)
{
	struct sensor_trigger t = trigger(K8S_PATCH);
	struct cluster *c = cluster_new();
	json_t *res = json_loads("{\"kind\":\"Deployment\",\"metadata\":"
	    "{\"name\":\"cart\",\"namespace\":\"shop\"},\"spec\":{\"replicas\":"
	    "3,\"paused\":null}}", 0, NULL);
	json_t *live = json_loads("{\"kind\":\"Deployment\",\"metadata\":"
	    "{\"name\":\"cart\",\"namespace\":\"shop\"},\"spec\":{\"replicas\":"
	    "1,\"paused\":true,\"x\":1}}", 0, NULL);
	struct act_plan p;
	char *err = NULL;

	CHECK(act_plan_k8s(&t, res, "argo-events", 1, c, &p, &err) == -1);
	CHECK_STR(err, "Deployment shop/cart not found: patch never creates "
	    "it");
	free(err);
	cluster_put(c, live, NULL);
	/* the view keeps a projection: the whole object is read (a GET) */
	cluster_set_fetch(c, fetch_live, NULL);
	CHECK(act_plan_k8s(&t, res, "argo-events", 1, c, &p, &err) == -1);
	CHECK_STR(err, "Deployment shop/cart: cannot read the live object "
	    "the patch applies to");
	free(err);
	cluster_set_fetch(c, fetch_live, live);
	CHECK(act_plan_k8s(&t, res, "argo-events", 1, c, &p, &err) == 0);
	CHECK_STR(p.operation, "UPDATE");
	/* admission sees the patched live object: merge semantics */
	CHECK_INT(json_integer_value(json_object_get(json_object_get(p.object,
	    "spec"), "replicas")), 3);
	CHECK(json_object_get(json_object_get(p.object, "spec"), "paused") ==
	    NULL);
	CHECK_INT(json_integer_value(json_object_get(json_object_get(p.object,
	    "spec"), "x")), 1);
	CHECK(p.old == live);	/* request.oldObject for policies */
	act_plan_clear(&p);
	json_decref(res);
	json_decref(live);
	cluster_free(c);
}

/*
 * A strategic-merge patch is admitted as the API server would apply it:
 * containers merge by name, so the policies see the container's image
 * and the sidecar the patch does not name, not a list replaced by the
 * patch's one partial container (which a "no :latest" or "limits
 * required" policy denied, and which hid the sidecar from every policy).
 */
TEST(strategic_patch_is_admitted_as_merged_by_key)
{
	static char strategic[] = "application/strategic-merge-patch+json";
	struct sensor_trigger t = trigger(K8S_PATCH);
	struct cluster *c = cluster_new();
	json_t *res = json_loads("{\"kind\":\"Deployment\",\"metadata\":"
	    "{\"name\":\"cart\",\"namespace\":\"shop\"},\"spec\":{\"template\":"
	    "{\"spec\":{\"containers\":[{\"name\":\"app\",\"resources\":"
	    "{\"limits\":{\"memory\":\"1Gi\"}}},{\"name\":\"new\",\"image\":"
	    "\"n:1\"}],\"volumes\":[{\"name\":\"tmp\",\"$patch\":\"delete\"}],"
	    "\"$setElementOrder/containers\":[{\"name\":\"app\"}]}}}}", 0, NULL);
	json_t *live = json_loads("{\"kind\":\"Deployment\",\"metadata\":"
	    "{\"name\":\"cart\",\"namespace\":\"shop\"},\"spec\":{\"template\":"
	    "{\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"a:1\","
	    "\"resources\":{\"requests\":{\"memory\":\"512Mi\"}}},{\"name\":"
	    "\"side\",\"image\":\"s:1\",\"securityContext\":{\"privileged\":"
	    "true}}],\"volumes\":[{\"name\":\"tmp\",\"emptyDir\":{}},{\"name\":"
	    "\"data\",\"emptyDir\":{}}]}}}}", 0, NULL);
	json_t *spec, *ctrs, *app;
	struct act_plan p;
	char *err = NULL;

	t.patch_strategy = strategic;
	cluster_put(c, live, NULL);
	cluster_set_fetch(c, fetch_live, live);
	CHECK(act_plan_k8s(&t, res, "argo-events", 1, c, &p, &err) == 0);
	spec = json_object_get(json_object_get(json_object_get(p.object,
	    "spec"), "template"), "spec");
	ctrs = json_object_get(spec, "containers");
	CHECK_INT(json_array_size(ctrs), 3);
	app = json_array_get(ctrs, 0);
	CHECK_STR(json_string_value(json_object_get(app, "image")), "a:1");
	CHECK_STR(json_string_value(json_object_get(json_object_get(
	    json_object_get(app, "resources"), "requests"), "memory")),
	    "512Mi");
	CHECK_STR(json_string_value(json_object_get(json_object_get(
	    json_object_get(app, "resources"), "limits"), "memory")), "1Gi");
	CHECK_STR(json_string_value(json_object_get(json_array_get(ctrs, 1),
	    "name")), "side");
	CHECK_STR(json_string_value(json_object_get(json_array_get(ctrs, 2),
	    "name")), "new");
	/* directives are not fields of the object */
	CHECK_INT(json_array_size(json_object_get(spec, "volumes")), 1);
	CHECK_STR(json_string_value(json_object_get(json_array_get(
	    json_object_get(spec, "volumes"), 0), "name")), "data");
	CHECK(json_object_get(spec, "$setElementOrder/containers") == NULL);
	act_plan_clear(&p);
	/* a merge patch still replaces the list, as the API server does */
	t.patch_strategy = NULL;
	CHECK(act_plan_k8s(&t, res, "argo-events", 1, c, &p, &err) == 0);
	CHECK_INT(json_array_size(json_object_get(json_object_get(
	    json_object_get(json_object_get(p.object, "spec"), "template"),
	    "spec"), "containers")), 2);
	act_plan_clear(&p);
	json_decref(res);
	json_decref(live);
	cluster_free(c);
}

TEST(generate_name_only_works_with_create)
{
	struct sensor_trigger t = trigger(K8S_UPDATE);
	json_t *res = json_loads("{\"kind\":\"Workflow\",\"metadata\":"
	    "{\"generateName\":\"x-\"}}", 0, NULL);
	struct act_plan p;
	char *err = NULL;

	CHECK(act_plan_k8s(&t, res, "ns", 1, NULL, &p, &err) == -1);
	CHECK_STR(err, "update Workflow has no metadata.name (generateName "
	    "works only with create)");
	free(err);
	json_decref(res);
}

TEST(plan_carries_the_retry_strategy)
{
	struct sensor_trigger t = trigger(K8S_CREATE);
	json_t *res = json_loads("{\"kind\":\"ConfigMap\",\"metadata\":"
	    "{\"name\":\"x\"}}", 0, NULL);
	struct act_plan p;
	char *err = NULL;

	t.retry_strategy = json_loads("{\"steps\":3,\"duration\":\"1s\"}",
	    0, NULL);
	CHECK(act_plan_k8s(&t, res, "ns", 1, NULL, &p, &err) == 0);
	CHECK(json_equal(json_object_get(p.plan, "retryStrategy"),
	    t.retry_strategy));
	act_plan_clear(&p);
	json_decref(t.retry_strategy);
	json_decref(res);
}

TEST(resource_without_kind)
{
	struct sensor_trigger t = trigger(K8S_CREATE);
	json_t *res = json_loads("{\"metadata\":{\"name\":\"x\"}}", 0, NULL);
	struct act_plan p;
	char *err = NULL;

	CHECK(act_plan_k8s(&t, res, "ns", 1, NULL, &p, &err) == -1);
	CHECK_STR(err, "source.resource has no kind");
	free(err);
	json_decref(res);
}

TEST(merge_patch_rfc7386_examples)
{
	/* from RFC 7386 appendix A */
	static const char *const cases[][3] = {
		{ "{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}" },
		{ "{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}" },
		{ "{\"a\":\"b\"}", "{\"a\":null}", "{}" },
		{ "{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}" },
		{ "{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}" },
		{ "{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}",
		    "{\"a\":{\"b\":\"d\"}}" },
		{ "{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}" },
		{ "[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]" },
		{ "{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]" },
		{ "{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}" },
		{ "{}", "{\"a\":{\"bb\":{\"ccc\":null}}}",
		    "{\"a\":{\"bb\":{}}}" },
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *t = json_loads(cases[i][0], 0, NULL);
		json_t *p = json_loads(cases[i][1], 0, NULL);
		json_t *w = json_loads(cases[i][2], 0, NULL);
		json_t *got = act_merge_patch(t, p);

		CHECK(json_equal(got, w));
		json_decref(t);
		json_decref(p);
		json_decref(w);
		json_decref(got);
	}
}

/* ---- native actions ---------------------------------------------------- */

static json_t *
fixture(const char *name)
{
	const char *path = harness_fixture(name);
	json_t *v = json_load_file(path, 0, NULL);

	if (v == NULL)
		fprintf(stderr, "cannot read fixture %s\n", path);
	return v;
}

static json_t *
J(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, 0, &e);

	if (v == NULL)
		fprintf(stderr, "bad test JSON: %s: %s\n", e.text, text);
	return v;
}

static const char *
S(json_t *o, const char *path)
{
	char key[64];
	const char *dot;

	while ((dot = strchr(path, '.')) != NULL) {
		snprintf(key, sizeof key, "%.*s", (int)(dot - path), path);
		o = json_is_array(o) ? json_array_get(o, (size_t)strtol(key,
		    NULL, 10)) : json_object_get(o, key);
		path = dot + 1;
	}
	return json_string_value(json_is_array(o) ? json_array_get(o,
	    (size_t)strtol(path, NULL, 10)) : json_object_get(o, path));
}

static json_t *
G(json_t *o, const char *path)
{
	char key[64];
	const char *dot;

	for (;;) {
		dot = strchr(path, '.');
		snprintf(key, sizeof key, "%.*s", dot ? (int)(dot - path) :
		    (int)strlen(path), path);
		o = json_is_array(o) ? json_array_get(o, (size_t)strtol(key,
		    NULL, 10)) : json_object_get(o, key);
		if (dot == NULL)
			return o;
		path = dot + 1;
	}
}

struct world {
	struct cluster	*c;
	json_t		*deploy, *rs, *pod;
};

/*
 * The fixtures' checkout Deployment, its ReplicaSet and OOMKilled pod.
 * Returns -1 when a fixture is missing, for the caller's REQUIRE.
 */
static int
world_init(struct world *w)
{
	w->c = cluster_new();
	w->deploy = fixture("deployment-checkout.json");
	w->rs = fixture("replicaset-checkout.json");
	w->pod = fixture("pod-checkout-oomkilled.json");
	if (w->deploy == NULL || w->rs == NULL || w->pod == NULL)
		return -1;
	cluster_put(w->c, w->deploy, NULL);
	cluster_put(w->c, w->rs, NULL);
	cluster_put(w->c, w->pod, NULL);
	return 0;
}

static void
world_free(struct world *w)
{
	json_decref(w->deploy);
	json_decref(w->rs);
	json_decref(w->pod);
	cluster_free(w->c);
}

static struct sensor_trigger
native_trigger(void)
{
	static char name[] = "fix";
	struct sensor_trigger t;

	memset(&t, 0, sizeof t);
	t.name = name;
	t.kind = TRIGGER_REMEDIATE;
	return t;
}

#define NOW_MS	1773481200000LL	/* 2026-03-14T09:40:00Z */

static int
plan(const char *spec_text, json_t *target, json_t *subject,
    const struct cluster *c, int64_t now, struct act_plan *p,
    struct act_verdict *v, char **err)
{
	struct sensor_trigger t = native_trigger();
	json_t *spec = J(spec_text);
	int rc;

	*err = NULL;
	rc = act_plan_native(&t, spec, target, subject, c, now, p, v, err);
	json_decref(spec);
	return rc;
}

/*
 * Every request plan p (a native plan) sends is one its action declares
 * in act_native_perms: `remediate rbac` and run's permission check trust
 * that table, so a request it misses would fail only in a real cluster.
 */
static int
perms_cover(const json_t *plan)
{
	static const char *methods[][2] = {
		{ "GET", "get" }, { "PATCH", "patch" }, { "POST", "create" },
		{ "PUT", "update" }, { "DELETE", "delete" },
	};
	const struct act_perm *tab;
	const json_t *req;
	const char *path, *method, *verb, *p, *group, *res;
	char buf[512], *parts[8], *save = NULL, *tok;
	size_t i, k, n, np;
	int found, all = 1;

	tab = act_native_perms(json_string_value(json_object_get(plan,
	    "action")), &n);
	if (tab == NULL)
		return 0;
	json_array_foreach(json_object_get(plan, "requests"), i, req) {
		path = json_string_value(json_object_get(req, "path"));
		method = json_string_value(json_object_get(req, "method"));
		verb = NULL;
		for (k = 0; method && k < 5; k++)
			if (strcmp(methods[k][0], method) == 0)
				verb = methods[k][1];
		if (path == NULL || verb == NULL)
			return 0;
		if ((p = strchr(path, '?')) == NULL)
			p = path + strlen(path);
		snprintf(buf, sizeof buf, "%.*s", (int)(p - path), path);
		np = 0;
		for (tok = strtok_r(buf, "/", &save); tok && np < 8;
		    tok = strtok_r(NULL, "/", &save))
			parts[np++] = tok;
		/* api/v1/namespaces/NS/RES[/NAME], apis/G/V/namespaces/... */
		k = strcmp(parts[0], "api") == 0 ? 2 : 3;
		group = k == 2 ? "" : parts[1];
		if (np > k + 2 && strcmp(parts[k], "namespaces") == 0)
			k += 2;
		if (np <= k)
			return 0;
		res = parts[k];
		found = 0;
		for (k = 0; k < n; k++)
			found |= strcmp(tab[k].group, group) == 0 &&
			    strcmp(tab[k].resource, res) == 0 &&
			    strcmp(tab[k].verb, verb) == 0;
		if (!found)
			fprintf(stderr, "  not declared: %s %s/%s\n", verb,
			    group, res);
		all &= found;
	}
	return all && i > 0;
}

TEST(bump_memory_plans_the_cli_patch)
{
	struct world w;
	struct act_plan p;
	struct act_verdict v;
	struct act_admission a;
	json_t *want, *body, *ann, *ctr;
	const char *note;
	char *err;

	REQUIRE(world_init(&w) == 0);
	/* 50% of 256Mi/512Mi is the fixture's 384Mi/768Mi */
	REQUIRE(plan("{\"bumpMemory\":{\"increment\":\"50%\",\"cap\":\"8Gi\"}}",
	    w.deploy, w.pod, w.c, NOW_MS, &p, &v, &err) == 0);
	CHECK_INT(v.kind, ACT_GO);
	CHECK(perms_cover(p.plan));
	CHECK_STR(v.action, "bumpMemory");
	CHECK_STR(S(p.plan, "type"), "remediate");
	CHECK_STR(S(p.plan, "operation"), "patch");
	CHECK_STR(S(p.plan, "kind"), "Deployment");
	CHECK_STR(S(p.plan, "requests.0.method"), "PATCH");
	CHECK_STR(S(p.plan, "requests.0.path"),
	    "/apis/apps/v1/namespaces/shop/deployments/checkout");
	CHECK_STR(S(p.plan, "requests.0.contentType"),
	    "application/strategic-merge-patch+json");
	CHECK_INT(json_array_size(G(p.plan, "requests")), 1);
	body = json_deep_copy(G(p.plan, "requests.0.body"));
	ann = G(body, "metadata.annotations");
	note = json_string_value(json_object_get(ann,
	    "remediation.platform/last-change"));
	CHECK(note && strstr(note, "\"trigger\":\"fix\"") != NULL);
	CHECK(note && strstr(note, "\"time\":\"2026-03-14T09:40:00Z\"") !=
	    NULL);
	json_object_del(ann, "remediation.platform/last-change");
	want = fixture("patch-deployment-memory.strategic-merge.json");
	CHECK(json_equal(body, want));
	CHECK_STR(S(p.plan, "change.request.from"), "256Mi");
	CHECK_STR(S(p.plan, "change.request.to"), "384Mi");
	CHECK_STR(S(p.plan, "change.limit.to"), "768Mi");
	/* admission sees the Deployment as the patch leaves it */
	CHECK(act_plan_admission(&p, 0, &a) == 0);
	CHECK_STR(a.operation, "UPDATE");
	CHECK(a.old == w.deploy);
	ctr = G(a.object, "spec.template.spec.containers.0");
	CHECK_STR(S(ctr, "resources.requests.memory"), "384Mi");
	CHECK_STR(S(ctr, "resources.limits.memory"), "768Mi");
	CHECK(act_plan_admission(&p, 1, &a) == -1);
	/* a rollout of every replica: blast radius counts them all */
	CHECK_INT(v.pods, cluster_workload_pods(w.deploy));
	CHECK(v.pods > 0);
	CHECK_INT(v.memory, (int64_t)v.pods * 128 * 1024 * 1024);
	json_decref(want);
	json_decref(body);
	act_plan_clear(&p);
	world_free(&w);
}

/*
 * An alert on the Deployment itself names no killed pod: the note still
 * says what changed and why, its pod null (kube_bump_applied reads the
 * note to know our own write after a 409).
 */
TEST(bump_memory_without_a_pod_still_notes_the_change)
{
	struct world w;
	struct act_plan p;
	struct act_verdict v;
	json_t *note;
	const char *text;
	char *err;

	REQUIRE(world_init(&w) == 0);
	/* the container named: a Deployment says nothing of which was killed */
	REQUIRE(plan("{\"bumpMemory\":{\"increment\":\"50%\",\"cap\":"
	    "\"8Gi\",\"container\":\"app\"}}", w.deploy, w.deploy, w.c,
	    NOW_MS, &p, &v, &err) == 0);
	CHECK_INT(v.kind, ACT_GO);
	text = json_string_value(json_object_get(G(p.plan,
	    "requests.0.body.metadata.annotations"),
	    "remediation.platform/last-change"));
	CHECK(text != NULL);
	note = text ? json_loads(text, 0, NULL) : NULL;
	CHECK_STR(S(note, "container"), "app");
	CHECK_STR(S(note, "requestFrom"), "256Mi");
	CHECK_STR(S(note, "requestTo"), "384Mi");
	CHECK_STR(S(note, "trigger"), "fix");
	CHECK(json_is_null(json_object_get(note, "pod")));
	json_decref(note);
	act_plan_clear(&p);
	world_free(&w);
}

TEST(bump_memory_same_arithmetic_as_cli)
{
	struct world w;
	struct act_plan p;
	struct act_verdict v;
	struct kube_bump_opts o;
	struct kube_bump_result r;
	char *err = NULL;

	REQUIRE(world_init(&w) == 0);
	/* defaults: 25%, cap 8Gi */
	REQUIRE(plan("{\"bumpMemory\":{}}", w.deploy, w.pod, w.c, NOW_MS, &p,
	    &v, &err) == 0);
	memset(&o, 0, sizeof o);
	CHECK(kube_bump_parse_increment("25%", &o) == 0);
	CHECK(quantity_parse("8Gi", &o.cap) == 0);
	o.has_cap = 1;
	CHECK(kube_bump_compute("256Mi", "512Mi", NULL, &o, &r, &err) == 0);
	CHECK_STR(S(p.plan, "change.request.to"), r.request_new);
	CHECK_STR(S(p.plan, "change.limit.to"), r.limit_new);
	CHECK_STR(S(p.plan, "bump.increment"), "25%");
	CHECK_STR(S(p.plan, "bump.cap"), "8Gi");
	CHECK_STR(S(p.plan, "bump.container"), "app");
	act_plan_clear(&p);
	/* capped below the increment */
	REQUIRE(plan("{\"bumpMemory\":{\"cap\":\"300Mi\"}}", w.deploy, w.pod,
	    w.c, NOW_MS, &p, &v, &err) == 0);
	CHECK_STR(S(p.plan, "change.request.to"), "300Mi");
	CHECK(json_is_true(G(p.plan, "change.capped")));
	act_plan_clear(&p);
	world_free(&w);
}

/*
 * The executor tells its own committed patch (answered 5xx, resent, 409)
 * from someone else's change by the shared kube_bump_applied: the plan's
 * body must be what that recognises on the workload it leaves, and a
 * later decision's identical values must not pass for this one's.
 */
TEST(bump_memory_knows_its_own_write_after_a_conflict)
{
	struct world w;
	struct act_plan p, later;
	struct act_verdict v;
	struct act_admission a;
	json_t *body;
	char *err = NULL;

	REQUIRE(world_init(&w) == 0);
	REQUIRE(plan("{\"bumpMemory\":{}}", w.deploy, w.pod, w.c, NOW_MS, &p,
	    &v, &err) == 0);
	REQUIRE(act_plan_admission(&p, 0, &a) == 0);
	body = G(p.plan, "requests.0.body");
	CHECK_INT(kube_bump_applied(a.object, body), 1);
	CHECK_INT(kube_bump_applied(w.deploy, body), 0);
	REQUIRE(plan("{\"bumpMemory\":{}}", w.deploy, w.pod, w.c,
	    NOW_MS + 60000, &later, &v, &err) == 0);
	CHECK_STR(S(later.plan, "change.request.to"),
	    S(p.plan, "change.request.to"));
	CHECK_INT(kube_bump_applied(a.object, G(later.plan,
	    "requests.0.body")), 0);
	act_plan_clear(&later);
	act_plan_clear(&p);
	world_free(&w);
}

TEST(plans_name_objects_a_snapshot_left_without_apiversion)
{
	struct world w;
	struct act_plan p;
	struct act_verdict v;
	json_t *deploy;
	char *err = NULL;

	REQUIRE(world_init(&w) == 0);
	deploy = json_deep_copy(w.deploy);
	json_object_del(deploy, "apiVersion");	/* a List item */
	REQUIRE(plan("{\"bumpMemory\":{}}", deploy, w.pod, w.c, NOW_MS, &p, &v,
	    &err) == 0);
	CHECK_STR(S(p.plan, "apiVersion"), "apps/v1");
	CHECK_STR(S(p.plan, "target.apiVersion"), "apps/v1");
	CHECK_STR(S(p.plan, "requests.0.path"),
	    "/apis/apps/v1/namespaces/shop/deployments/checkout");
	act_plan_clear(&p);
	json_decref(deploy);
	world_free(&w);
}

/*
 * A container with only a memory limit has it as its request: the bump
 * sets a request, and what that adds counts for maxClusterImpact from the
 * limit (it counted as nothing, so the memory check let any bump through).
 */
TEST(bump_memory_of_a_limit_only_container_counts_what_it_adds)
{
	struct world w;
	struct act_plan p;
	struct act_verdict v;
	json_t *deploy, *res;
	char *err = NULL;

	REQUIRE(world_init(&w) == 0);
	deploy = json_deep_copy(w.deploy);
	res = G(deploy, "spec.template.spec.containers.0.resources");
	REQUIRE(json_is_object(res));
	json_object_del(res, "requests");
	/* 50% of the 512Mi limit: request (none) -> 768Mi, limit 768Mi */
	REQUIRE(plan("{\"bumpMemory\":{\"increment\":\"50%\",\"cap\":"
	    "\"8Gi\"}}", deploy, w.pod, w.c, NOW_MS, &p, &v, &err) == 0);
	CHECK_INT(v.kind, ACT_GO);
	CHECK_STR(S(p.plan, "change.request.to"), "768Mi");
	CHECK(v.pods > 0);
	CHECK_INT(v.memory, (int64_t)v.pods * 256 * 1024 * 1024);
	act_plan_clear(&p);
	json_decref(deploy);
	world_free(&w);
}

/*
 * The template sets a request and no limit; the pod runs with a limit a
 * LimitRange gave it, and was killed there.  The plan grows that limit
 * and writes it into the template, and says whose limit it was: raising
 * the request alone would fix nothing, and a request above the defaulted
 * limit makes the API server refuse the new pods.
 */
static int
plan_pod_limit(struct world *w, const char *req, const char *tmpl_lim,
    const char *pod_lim, struct act_plan *p, struct act_verdict *v)
{
	json_t *deploy = json_deep_copy(w->deploy), *pod = json_deep_copy(
	    w->pod), *res;
	char *err = NULL;
	int rc;

	res = G(deploy, "spec.template.spec.containers.0.resources");
	json_object_set_new(res, "requests", req ? json_pack("{s:s}",
	    "memory", req) : json_object());
	json_object_set_new(res, "limits", tmpl_lim ? json_pack("{s:s}",
	    "memory", tmpl_lim) : json_object());
	json_object_set_new(G(pod, "spec.containers.0.resources"), "limits",
	    json_pack("{s:s}", "memory", pod_lim));
	rc = plan("{\"bumpMemory\":{}}", deploy, pod, w->c, NOW_MS, p, v,
	    &err);
	free(err);
	json_decref(deploy);
	json_decref(pod);
	return rc;
}

TEST(bump_memory_grows_the_pods_own_limit)
{
	struct world w;
	struct act_plan p;
	struct act_verdict v;
	struct act_admission a;
	const char *note;

	REQUIRE(world_init(&w) == 0);
	REQUIRE(plan_pod_limit(&w, "256Mi", NULL, "300Mi", &p, &v) == 0);
	CHECK_INT(v.kind, ACT_GO);
	CHECK_STR(v.message, "raise memory of container app of Deployment "
	    "shop/checkout: request 256Mi -> 320Mi, limit 300Mi (the pod's, "
	    "not in the template) -> 375Mi");
	CHECK_STR(S(p.plan, "change.limit.from"), "300Mi");
	CHECK_STR(S(p.plan, "change.limit.to"), "375Mi");
	CHECK(json_is_true(G(p.plan, "change.limit.fromPod")));
	CHECK_STR(S(p.plan, "bump.podLimit"), "300Mi");
	CHECK_STR(S(p.plan, "requests.0.body.spec.template.spec.containers.0."
	    "resources.limits.memory"), "375Mi");
	note = json_string_value(json_object_get(G(p.plan, "requests.0.body."
	    "metadata.annotations"), "remediation.platform/last-change"));
	CHECK(note && strstr(note, "\"limitFrom\":\"300Mi\"") &&
	    strstr(note, "\"limitSource\":\"pod\""));
	REQUIRE(act_plan_admission(&p, 0, &a) == 0);
	CHECK_STR(S(a.object, "spec.template.spec.containers.0.resources."
	    "limits.memory"), "375Mi");
	/* what it adds to the requests is still counted from the request */
	CHECK_INT(v.memory, (int64_t)v.pods * 64 * 1024 * 1024);
	act_plan_clear(&p);

	/* a limit in the template wins over the pod's */
	REQUIRE(plan_pod_limit(&w, "256Mi", "512Mi", "300Mi", &p, &v) == 0);
	CHECK_STR(S(p.plan, "change.limit.from"), "512Mi");
	CHECK_STR(S(p.plan, "change.limit.to"), "640Mi");
	CHECK(json_is_false(G(p.plan, "change.limit.fromPod")));
	note = json_string_value(json_object_get(G(p.plan, "requests.0.body."
	    "metadata.annotations"), "remediation.platform/last-change"));
	CHECK(note && strstr(note, "limitSource") == NULL);
	act_plan_clear(&p);

	/* a template request above the pod's limit: the limit follows it */
	REQUIRE(plan_pod_limit(&w, "512Mi", NULL, "300Mi", &p, &v) == 0);
	CHECK_STR(S(p.plan, "change.request.to"), "640Mi");
	CHECK_STR(S(p.plan, "change.limit.to"), "640Mi");
	act_plan_clear(&p);

	/* no request in the template either: refused, naming the limit */
	REQUIRE(plan_pod_limit(&w, NULL, NULL, "300Mi", &p, &v) == 0);
	CHECK_INT(v.kind, ACT_UNSUPPORTED);
	CHECK(strstr(v.message, "the pod runs with limit 300Mi") != NULL);
	CHECK(p.plan == NULL);
	world_free(&w);
}

/* A percentage of a zero request is nothing: never a "raise" of 0 -> 0. */
TEST(bump_memory_of_a_zero_request_is_refused)
{
	struct world w;
	struct act_plan p;
	struct act_verdict v;
	json_t *deploy, *res;
	char *err = NULL;

	REQUIRE(world_init(&w) == 0);
	deploy = json_deep_copy(w.deploy);
	res = G(deploy, "spec.template.spec.containers.0.resources");
	json_object_set_new(res, "requests", json_pack("{s:s}", "memory",
	    "0"));
	json_object_del(res, "limits");
	REQUIRE(plan("{\"bumpMemory\":{\"container\":\"app\"}}", deploy,
	    NULL, w.c, NOW_MS, &p, &v, &err) == 0);
	CHECK_INT(v.kind, ACT_UNSUPPORTED);
	CHECK(strstr(v.message, "nothing to raise") != NULL);
	CHECK(p.plan == NULL);
	act_plan_clear(&p);
	json_decref(deploy);
	world_free(&w);
}

TEST(bump_memory_at_cap_is_a_verdict)
{
	struct world w;
	struct act_plan p;
	struct act_verdict v;
	char *err = NULL;

	REQUIRE(world_init(&w) == 0);
	REQUIRE(plan("{\"bumpMemory\":{\"cap\":\"256Mi\"}}", w.deploy, w.pod,
	    w.c, NOW_MS, &p, &v, &err) == 0);
	CHECK_INT(v.kind, ACT_AT_CAP);
	CHECK(p.plan == NULL && p.object == NULL);
	CHECK_STR(v.message, "at cap: container app of Deployment "
	    "shop/checkout requests 256Mi, at or above the cap 256Mi; "
	    "nothing changed");
	REQUIRE(plan("{\"bumpMemory\":{\"cap\":\"128Mi\"}}", w.deploy, w.pod,
	    w.c, NOW_MS, &p, &v, &err) == 0);
	CHECK_INT(v.kind, ACT_AT_CAP);
	world_free(&w);
}

TEST(bump_memory_refuses_what_it_cannot_change)
{
	static const struct {
		const char	*pod;
		const char	*target;	/* NULL: the pod */
		const char	*want;		/* start of the message */
	} cases[] = {
		{ "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
		    "\"namespace\":\"shop\"},\"spec\":{\"containers\":[{"
		    "\"name\":\"app\"}]}}", NULL,
		    "pod shop/p is a bare Pod" },
		{ "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
		    "\"namespace\":\"shop\",\"ownerReferences\":[{\"apiVersion"
		    "\":"
		    "\"batch/v1\",\"kind\":\"Job\",\"name\":\"j\",\"controller"
		    "\":"
		    "true}]},\"spec\":{\"containers\":[{\"name\":\"app\"}]}}",
		    "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\""
		    ":"
		    "{\"name\":\"j\",\"namespace\":\"shop\"}}",
		    "pod shop/p belongs to Job j" },
		{ "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
		    "\"namespace\":\"shop\",\"ownerReferences\":[{\"apiVersion"
		    "\":"
		    "\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"rs\","
		    "\"controller\":true}]},\"spec\":{\"containers\":[{\"name\""
		    ":"
		    "\"app\"}]}}",
		    "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\","
		    "\"metadata\":{\"name\":\"rs\",\"namespace\":\"shop\"}}",
		    "ReplicaSet shop/rs is not a Deployment" },
	};
	struct act_plan p;
	struct act_verdict v;
	char *err = NULL;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *pod = J(cases[i].pod);
		json_t *tgt = cases[i].target ? J(cases[i].target) :
		    json_incref(pod);

		REQUIRE(plan("{\"bumpMemory\":{}}", tgt, pod, NULL, NOW_MS, &p,
		    &v, &err) == 0);
		CHECK_INT(v.kind, ACT_UNSUPPORTED);
		CHECK(strncmp(v.message, cases[i].want,
		    strlen(cases[i].want)) == 0);
		if (strncmp(v.message, cases[i].want, strlen(cases[i].want)))
			fprintf(stderr, "  case %zu: %s\n", i, v.message);
		CHECK(p.plan == NULL);
		json_decref(pod);
		json_decref(tgt);
	}
	/* a bad increment is an error, not a refusal */
	CHECK(plan("{\"bumpMemory\":{\"increment\":\"lots\"}}", NULL, NULL,
	    NULL, NOW_MS, &p, &v, &err) == -1);
	CHECK_STR(err, "bumpMemory.increment \"lots\" is neither a percentage "
	    "(25%) nor a quantity (256Mi)");
	free(err);
}

TEST(restart_pod_plans_a_guarded_delete)
{
	struct world w;
	struct act_plan p;
	struct act_verdict v;
	struct act_admission a;
	json_t *deploy, *notready;
	char *err = NULL;

	REQUIRE(world_init(&w) == 0);
	REQUIRE(plan("{\"restartPod\":{\"gracePeriodSeconds\":10}}", w.deploy,
	    w.pod, w.c, NOW_MS, &p, &v, &err) == 0);
	CHECK_INT(v.kind, ACT_GO);
	CHECK(perms_cover(p.plan));
	CHECK_STR(S(p.plan, "operation"), "delete");
	CHECK_STR(S(p.plan, "kind"), "Pod");
	CHECK_STR(S(p.plan, "name"), "checkout-6d5f8b7c9d-x7k2p");
	CHECK_STR(S(p.plan, "requests.0.method"), "DELETE");
	CHECK_STR(S(p.plan, "requests.0.path"),
	    "/api/v1/namespaces/shop/pods/checkout-6d5f8b7c9d-x7k2p");
	CHECK_STR(S(p.plan, "requests.0.body.kind"), "DeleteOptions");
	CHECK_STR(S(p.plan, "requests.0.body.preconditions.uid"),
	    "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e");
	CHECK_INT(json_integer_value(G(p.plan,
	    "requests.0.body.gracePeriodSeconds")), 10);
	CHECK(act_plan_admission(&p, 0, &a) == 0);
	CHECK_STR(a.operation, "DELETE");
	CHECK(a.object == w.pod);
	/* 1 of the Deployment's 2 replicas is not ready, and not this one */
	CHECK_INT(v.pods, 2);
	CHECK(strstr(v.message, "(1 other pod of the workload not ready)") !=
	    NULL);
	act_plan_clear(&p);
	/* 2 of 4 replicas not ready: the restart takes a third down */
	deploy = json_deep_copy(w.deploy);
	json_object_set_new(deploy, "status", J("{\"replicas\":4,"
	    "\"readyReplicas\":2}"));
	REQUIRE(plan("{\"restartPod\":{}}", deploy, w.pod, w.c, NOW_MS, &p, &v,
	    &err) == 0);
	CHECK_INT(v.pods, 3);
	CHECK(G(p.plan, "requests.0.body.gracePeriodSeconds") == NULL);
	act_plan_clear(&p);
	/* the pod itself is one of the not ready: counted once */
	notready = json_deep_copy(w.pod);
	json_object_set_new(json_object_get(notready, "status"), "conditions",
	    J("[{\"type\":\"Ready\",\"status\":\"False\"}]"));
	REQUIRE(plan("{\"restartPod\":null}", deploy, notready, w.c, NOW_MS, &p,
	    &v, &err) == 0);
	CHECK_INT(v.pods, 2);
	act_plan_clear(&p);
	json_decref(deploy);
	json_decref(notready);
	world_free(&w);
}

TEST(restart_pod_refuses_bare_static_and_job_pods)
{
	static const struct {
		const char	*pod;
		int		 kind;
		const char	*want;
	} cases[] = {
		{ "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
		    "\"namespace\":\"n\"}}", ACT_UNSUPPORTED,
		    "pod n/p is a bare Pod" },
		{ "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
		    "\"namespace\":\"n\",\"annotations\":{"
		    "\"kubernetes.io/config.mirror\":\"x\"},\"ownerReferences\""
		    ":"
		    "[{\"kind\":\"Node\",\"name\":\"n1\",\"controller\":true}]}"
		    "}",
		    ACT_UNSUPPORTED, "pod n/p is a static pod" },
		{ "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
		    "\"namespace\":\"n\",\"ownerReferences\":[{\"kind\":\"Node"
		    "\","
		    "\"name\":\"n1\",\"controller\":true}]}}",
		    ACT_UNSUPPORTED, "pod n/p is a static pod of node n1" },
		{ "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
		    "\"namespace\":\"n\",\"ownerReferences\":[{\"kind\":\"Job\""
		    ","
		    "\"name\":\"j\",\"controller\":true}]}}", ACT_UNSUPPORTED,
		    "pod n/p belongs to Job j" },
		{ "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
		    "\"namespace\":\"n\",\"deletionTimestamp\":"
		    "\"2026-03-14T09:00:00Z\",\"ownerReferences\":[{\"kind\":"
		    "\"ReplicaSet\",\"name\":\"r\",\"controller\":true}]}}",
		    ACT_NOT_NEEDED, "pod n/p is already terminating" },
		{ "{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\","
		    "\"namespace\":\"n\"}}", ACT_UNSUPPORTED,
		    "restartPod deletes a pod; the signal's object is "
		    "Deployment d" },
	};
	struct act_plan p;
	struct act_verdict v;
	char *err = NULL;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *pod = J(cases[i].pod);

		REQUIRE(plan("{\"restartPod\":{}}", pod, pod, NULL, NOW_MS, &p,
		    &v, &err) == 0);
		CHECK_INT(v.kind, cases[i].kind);
		CHECK(strncmp(v.message, cases[i].want,
		    strlen(cases[i].want)) == 0);
		if (strncmp(v.message, cases[i].want, strlen(cases[i].want)))
			fprintf(stderr, "  case %zu: %s\n", i, v.message);
		CHECK(p.plan == NULL);
		json_decref(pod);
	}
	CHECK(plan("{\"restartPod\":{}}", NULL, NULL, NULL, NOW_MS, &p, &v,
	    &err) == -1);
	CHECK_STR(err, "the pod to restart is not in the cluster view");
	free(err);
}

TEST(argocd_sync_terminates_a_stuck_operation_then_syncs)
{
	json_t *app = fixture("argocd-application-stuck-sync.json");
	json_t *want = fixture("patch-argocd-app-sync.merge.json");
	json_t *term = fixture("patch-argocd-app-terminate.merge.json");
	json_t *body;
	struct act_plan p;
	struct act_verdict v;
	int64_t started;
	char *err = NULL;

	REQUIRE(app != NULL && want != NULL && term != NULL);

	CHECK(time_parse("2026-03-14T08:02:11Z", &started) == 0);
	/* stuck for 2h, terminateAfter 30m */
	REQUIRE(plan("{\"argocdSync\":{\"terminateAfter\":\"30m\"}}", app, app,
	    NULL, started + 7200000, &p, &v, &err) == 0);
	CHECK_INT(v.kind, ACT_GO);
	CHECK(perms_cover(p.plan));
	CHECK_INT(v.pods, 0);
	CHECK_INT(json_array_size(G(p.plan, "requests")), 3);
	CHECK_STR(S(p.plan, "requests.0.method"), "PATCH");
	CHECK_STR(S(p.plan, "requests.0.path"), "/apis/argoproj.io/v1alpha1/"
	    "namespaces/argocd/applications/checkout");
	CHECK_STR(S(p.plan, "requests.0.contentType"),
	    "application/merge-patch+json");
	/* the terminate patch is the fixture's, guarded by resourceVersion */
	body = json_deep_copy(G(p.plan, "requests.0.body"));
	CHECK_STR(S(body, "metadata.resourceVersion"), "1203344");
	json_object_del(body, "metadata");
	CHECK(json_equal(body, term));
	json_decref(body);
	CHECK_STR(S(p.plan, "requests.1.method"), "GET");
	CHECK_STR(S(p.plan, "requests.2.method"), "PATCH");
	/* the sync: the fixture's operation, as the argocd CLI starts it */
	body = G(p.plan, "requests.2.body");
	CHECK_STR(S(body, "operation.sync.revision"),
	    S(want, "operation.sync.revision"));
	CHECK(json_equal(G(body, "operation.sync.syncStrategy"),
	    G(want, "operation.sync.syncStrategy")));
	CHECK(json_is_false(G(body, "operation.sync.prune")));
	CHECK_STR(S(body, "operation.initiatedBy.username"), "remediate");
	CHECK_STR(S(body, "operation.info.0.name"), "reason");
	CHECK_STR(S(body, "operation.info.0.value"), "remediate fix: resync "
	    "after stuck operation (Running 2h)");
	/* the stuck operation's retry is kept */
	CHECK(json_equal(G(body, "operation.retry"),
	    G(want, "operation.retry.backoff") ? G(app, "operation.retry") :
	    NULL));
	CHECK(json_is_true(G(p.plan, "terminate")));
	CHECK_STR(S(p.object, "operation.sync.revision"),
	    "3f9a1c7e5b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a");
	act_plan_clear(&p);
	/* not stuck long enough, or not asked to terminate: nothing */
	REQUIRE(plan("{\"argocdSync\":{\"terminateAfter\":\"3h\"}}", app, app,
	    NULL, started + 7200000, &p, &v, &err) == 0);
	CHECK_INT(v.kind, ACT_NOT_NEEDED);
	CHECK_STR(v.message, "Application argocd/checkout: its operation has "
	    "run 2h, less than terminateAfter 3h");
	REQUIRE(plan("{\"argocdSync\":{}}", app, app, NULL, started + 7200000,
	    &p, &v, &err) == 0);
	CHECK_INT(v.kind, ACT_NOT_NEEDED);
	json_decref(app);
	json_decref(want);
	json_decref(term);
}

TEST(argocd_sync_retries_a_failed_sync)
{
	json_t *app = fixture("argocd-application-sync-failed.json");
	json_t *ok;
	struct cluster *c;
	struct act_plan p;
	struct act_verdict v;
	char *err = NULL;

	REQUIRE(app != NULL);
	c = cluster_new();

	cluster_put(c, app, NULL);
	/* named in the spec, found in the view; the signal is something
	   else */
	REQUIRE(plan("{\"argocdSync\":{\"application\":\"checkout\","
	    "\"namespace\":\"argocd\",\"prune\":true,\"revision\":\"v1.2\","
	    "\"retry\":{\"limit\":2,\"backoff\":{\"duration\":\"10s\"}}}}",
	    NULL, NULL, c, NOW_MS, &p, &v, &err) == 0);
	CHECK_INT(v.kind, ACT_GO);
	CHECK_INT(json_array_size(G(p.plan, "requests")), 1);
	CHECK(json_is_false(G(p.plan, "terminate")));
	CHECK_STR(S(p.plan, "requests.0.body.operation.sync.revision"),
	    "v1.2");
	CHECK(json_is_true(G(p.plan, "requests.0.body.operation.sync.prune")));
	CHECK_INT(json_integer_value(G(p.plan,
	    "requests.0.body.operation.retry.limit")), 2);
	CHECK_STR(S(p.plan, "requests.0.body.metadata.resourceVersion"),
	    "1203590");
	CHECK_STR(S(p.plan, "change.reason"), "resync after Failed operation");
	act_plan_clear(&p);
	/* not in the view */
	CHECK(plan("{\"argocdSync\":{\"application\":\"nope\"}}", NULL, NULL,
	    c, NOW_MS, &p, &v, &err) == -1);
	CHECK_STR(err, "Application argocd/nope is not in the cluster view: "
	    "watch applications.argoproj.io with a resource event source");
	free(err);
	/* succeeded: nothing to retry */
	ok = json_deep_copy(app);
	json_object_set_new(G(ok, "status.operationState"), "phase",
	    json_string("Succeeded"));
	REQUIRE(plan("{\"argocdSync\":{}}", ok, ok, NULL, NOW_MS, &p, &v,
	    &err) == 0);
	CHECK_INT(v.kind, ACT_NOT_NEEDED);
	CHECK_STR(v.message, "Application argocd/checkout: its last operation "
	    "is Succeeded; nothing to retry");
	json_decref(ok);
	json_decref(app);
	cluster_free(c);
}

TEST(quarantine_labels_and_isolates_never_deletes)
{
	struct world w;
	struct act_plan p;
	struct act_verdict v;
	struct act_admission a;
	json_t *r;
	size_t i;
	char *err = NULL;

	REQUIRE(world_init(&w) == 0);
	REQUIRE(plan("{\"quarantine\":{}}", w.deploy, w.pod, w.c, NOW_MS, &p,
	    &v, &err) == 0);
	CHECK_INT(v.kind, ACT_GO);
	CHECK(perms_cover(p.plan));
	CHECK_INT(v.pods, 1);
	CHECK_INT(v.page, 1);
	CHECK(json_is_true(G(p.plan, "page")));
	CHECK_INT(json_array_size(G(p.plan, "requests")), 2);
	CHECK_STR(S(p.plan, "requests.0.method"), "POST");
	CHECK_STR(S(p.plan, "requests.0.path"),
	    "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies");
	CHECK_STR(S(p.plan, "requests.0.body.metadata.name"),
	    "remediate-quarantine");
	CHECK_STR(S(p.plan, "requests.0.body.spec.podSelector.matchLabels."
	    "remediation.platform/quarantine"), NULL);	/* dotted key */
	CHECK_STR(json_string_value(json_object_get(G(p.plan,
	    "requests.0.body.spec.podSelector.matchLabels"),
	    "remediation.platform/quarantine")), "true");
	CHECK_INT(json_array_size(G(p.plan, "requests.0.body.spec."
	    "policyTypes")), 2);
	CHECK(G(p.plan, "requests.0.body.spec.ingress") == NULL);
	CHECK(G(p.plan, "requests.0.body.spec.egress") == NULL);
	CHECK_STR(S(p.plan, "requests.1.method"), "PATCH");
	CHECK_STR(S(p.plan, "requests.1.path"),
	    "/api/v1/namespaces/shop/pods/checkout-6d5f8b7c9d-x7k2p");
	CHECK_STR(S(p.plan, "requests.1.body.metadata.uid"),
	    "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e");
	/* never a delete, never a restart */
	json_array_foreach(G(p.plan, "requests"), i, r)
		CHECK(strcmp(S(r, "method"), "DELETE") != 0);
	/* admission sees the labelled pod and the policy */
	CHECK(act_plan_admission(&p, 0, &a) == 0);
	CHECK_STR(a.operation, "UPDATE");
	CHECK_STR(json_string_value(json_object_get(G(a.object,
	    "metadata.labels"), "remediation.platform/quarantine")), "true");
	CHECK(act_plan_admission(&p, 1, &a) == 0);
	CHECK_STR(a.operation, "CREATE");
	CHECK_STR(S(a.object, "kind"), "NetworkPolicy");
	CHECK(act_plan_admission(&p, 2, &a) == -1);
	act_plan_clear(&p);
	/* another label gets its own policy; no policy when told not to */
	REQUIRE(plan("{\"quarantine\":{\"label\":\"sec/q=yes\"}}", w.deploy,
	    w.pod, w.c, NOW_MS, &p, &v, &err) == 0);
	CHECK(strncmp(S(p.plan, "requests.0.body.metadata.name"),
	    "remediate-quarantine-", 21) == 0);
	CHECK_STR(json_string_value(json_object_get(G(p.plan,
	    "requests.1.body.metadata.labels"), "sec/q")), "yes");
	act_plan_clear(&p);
	REQUIRE(plan("{\"quarantine\":{\"networkPolicy\":false}}", w.deploy,
	    w.pod, w.c, NOW_MS, &p, &v, &err) == 0);
	CHECK_INT(json_array_size(G(p.plan, "requests")), 1);
	CHECK(act_plan_admission(&p, 1, &a) == -1);
	act_plan_clear(&p);
	/* only pods */
	REQUIRE(plan("{\"quarantine\":{}}", w.deploy, w.deploy, w.c, NOW_MS, &p,
	    &v, &err) == 0);
	CHECK_INT(v.kind, ACT_UNSUPPORTED);
	world_free(&w);
}

TEST(quarantine_twice_is_not_needed)
{
	struct world w;
	struct act_plan p;
	struct act_verdict v;
	json_t *pod, *np;
	char *err = NULL;

	REQUIRE(world_init(&w) == 0);
	pod = json_deep_copy(w.pod);
	json_object_set_new(G(pod, "metadata.labels"),
	    "remediation.platform/quarantine", json_string("true"));
	/* labelled, but the policy is not known to exist: plan it again */
	REQUIRE(plan("{\"quarantine\":{}}", w.deploy, pod, w.c, NOW_MS, &p, &v,
	    &err) == 0);
	CHECK_INT(v.kind, ACT_GO);
	/* the view holds the very policy the plan creates */
	np = json_deep_copy(G(p.plan, "requests.0.body"));
	act_plan_clear(&p);
	cluster_put(w.c, np, NULL);
	REQUIRE(plan("{\"quarantine\":{}}", w.deploy, pod, w.c, NOW_MS, &p, &v,
	    &err) == 0);
	CHECK_INT(v.kind, ACT_NOT_NEEDED);
	json_decref(np);
	json_decref(pod);
	world_free(&w);
}

/*
 * A host-network pod is the node's network namespace: most network
 * plugins apply no NetworkPolicy to it, so the deny-all would isolate
 * nothing.  Quarantine fails (and pages) rather than claim isolation,
 * as planned from the cluster view, which keeps spec.hostNetwork; label
 * only (networkPolicy: false) claims none and goes on.
 */
TEST(quarantine_refuses_host_network_pod)
{
	struct world w;
	struct act_plan p;
	struct act_verdict v;
	json_t *pod, *viewed;
	char *err = NULL;

	REQUIRE(world_init(&w) == 0);
	pod = json_deep_copy(w.pod);
	json_object_set_new(G(pod, "spec"), "hostNetwork", json_true());
	cluster_put(w.c, pod, NULL);
	viewed = cluster_get(w.c, "Pod", "shop",
	    "checkout-6d5f8b7c9d-x7k2p");
	REQUIRE(viewed != NULL);
	CHECK(json_is_true(G(viewed, "spec.hostNetwork")));
	memset(&p, 0, sizeof p);
	CHECK_INT(plan("{\"quarantine\":{}}", w.deploy, viewed, w.c, NOW_MS,
	    &p, &v, &err), -1);
	CHECK(p.plan == NULL);
	REQUIRE(err != NULL);
	CHECK(strstr(err, "spec.hostNetwork") != NULL);
	CHECK(strstr(err, "did not label") != NULL);
	free(err);
	REQUIRE(plan("{\"quarantine\":{\"networkPolicy\":false}}", w.deploy,
	    viewed, w.c, NOW_MS, &p, &v, &err) == 0);
	CHECK_INT(v.kind, ACT_GO);
	CHECK_INT(json_array_size(G(p.plan, "requests")), 1);
	act_plan_clear(&p);
	json_decref(pod);
	world_free(&w);
}

/*
 * A policy of quarantine's name in the view makes a labelled pod
 * "quarantined already" only when it is exactly the deny-all quarantine
 * writes: anyone who may create NetworkPolicies could have made one that
 * lets traffic through.  Each edit of the deny-all below, applied to the
 * policy the plan itself creates, must be planned again (the executor
 * then fails on it); the ones that change nothing may be trusted.
 */
TEST(quarantine_trusts_only_its_own_deny_all)
{
	static const struct {
		const char	*spec;	/* merged into the deny-all's spec */
		int		 trusted;
	} cases[] = {
		{ "{}", 1 },
		{ "{\"ingress\":[],\"egress\":[]}", 1 },
		{ "{\"ingress\":null}", 1 },
		{ "{\"policyTypes\":[\"Egress\",\"Ingress\"]}", 1 },
		/* the reviewer's: all ingress, and egress not restricted */
		{ "{\"policyTypes\":[\"Ingress\"],\"ingress\":[{}]}", 0 },
		{ "{\"policyTypes\":[\"Ingress\"]}", 0 },
		{ "{\"policyTypes\":[\"Egress\"]}", 0 },
		{ "{\"policyTypes\":null}", 0 },
		{ "{\"policyTypes\":\"Ingress,Egress\"}", 0 },
		{ "{\"ingress\":[{}]}", 0 },
		{ "{\"egress\":[{\"to\":[{\"ipBlock\":{\"cidr\":"
		    "\"0.0.0.0/0\"}}]}]}", 0 },
		{ "{\"egress\":{}}", 0 },
		{ "{\"podSelector\":{}}", 0 },
		{ "{\"podSelector\":{\"matchLabels\":{\"app\":\"x\"}}}", 0 },
	};
	struct world w;
	struct act_plan p;
	struct act_verdict v;
	json_t *pod, *ours, *np, *edit;
	char *err = NULL;
	size_t i;

	REQUIRE(world_init(&w) == 0);
	pod = json_deep_copy(w.pod);
	json_object_set_new(G(pod, "metadata.labels"),
	    "remediation.platform/quarantine", json_string("true"));
	REQUIRE(plan("{\"quarantine\":{}}", w.deploy, pod, w.c, NOW_MS, &p, &v,
	    &err) == 0);
	ours = json_deep_copy(G(p.plan, "requests.0.body"));
	act_plan_clear(&p);
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		np = json_deep_copy(ours);
		edit = J(cases[i].spec);
		json_object_update(G(np, "spec"), edit);
		cluster_put(w.c, np, NULL);
		REQUIRE(plan("{\"quarantine\":{}}", w.deploy, pod, w.c, NOW_MS,
		    &p, &v, &err) == 0);
		CHECK_INT(v.kind, cases[i].trusted ? ACT_NOT_NEEDED : ACT_GO);
		if (v.kind != (cases[i].trusted ? ACT_NOT_NEEDED : ACT_GO))
			fprintf(stderr, "  case %zu: %s\n", i, cases[i].spec);
		if (v.kind == ACT_GO)
			act_plan_clear(&p);
		json_decref(edit);
		json_decref(np);
	}
	json_decref(ours);
	json_decref(pod);
	world_free(&w);
}

TEST(native_spec_errors)
{
	struct act_plan p;
	struct act_verdict v;
	char *err = NULL;

	CHECK(plan("{}", NULL, NULL, NULL, NOW_MS, &p, &v, &err) == -1);
	CHECK_STR(err, "the remediate block names no action: give bumpMemory, "
	    "restartPod, argocdSync or quarantine");
	free(err);
	CHECK(plan("{\"rotateLogs\":{}}", NULL, NULL, NULL, NOW_MS, &p, &v,
	    &err) == -1);
	CHECK_STR(err, "rotateLogs is not supported: node-local log rotation "
	    "is outside the cluster API's reach");
	free(err);
	CHECK(plan("{\"restartPod\":[1]}", NULL, NULL, NULL, NOW_MS, &p, &v,
	    &err) == -1);
	CHECK_STR(err, "remediate.restartPod is not an object");
	free(err);
	CHECK(plan("[]", NULL, NULL, NULL, NOW_MS, &p, &v, &err) == -1);
	free(err);
}

TEST(execute_refuses_other_plans)
{
	json_t *k8s = J("{\"type\":\"k8s\",\"operation\":\"delete\"}");
	json_t *bad = J("{\"type\":\"remediate\",\"action\":\"reboot\"}");
	json_t *res = NULL;
	char *err = NULL;
	int dummy;

	CHECK(act_execute_native(&dummy, k8s, 0, &res, &err) == -1);
	CHECK_STR(err, "not a native action plan (type k8s)");
	CHECK(res == NULL);
	free(err);
	CHECK(act_execute_native(&dummy, bad, 0, &res, &err) == -1);
	CHECK_STR(err, "unknown native action \"reboot\"");
	free(err);
	CHECK(act_execute_native(NULL, bad, 0, &res, &err) == -1);
	CHECK_STR(err, "no Kubernetes client to run the action with");
	free(err);
	json_decref(k8s);
	json_decref(bad);
}

TEST(admission_of_k8s_plans_is_the_object)
{
	struct sensor_trigger t = trigger(K8S_CREATE);
	json_t *res = J("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
	    "\"metadata\":{\"name\":\"x\"}}");
	struct act_plan p;
	struct act_admission a;
	char *err;

	CHECK(act_plan_k8s(&t, res, "ns", 1, NULL, &p, &err) == 0);
	CHECK(act_plan_admission(&p, 0, &a) == 0);
	CHECK(a.object == p.object);
	CHECK_STR(a.operation, "CREATE");
	CHECK(act_plan_admission(&p, 1, &a) == -1);
	act_plan_clear(&p);
	json_decref(res);
}

int
main(void)
{
	RUN(create_names_from_generate_name_in_sensor_namespace);
	RUN(plan_shares_all_but_the_metadata_it_fills_in);
	RUN(patch_never_creates);
	RUN(strategic_patch_is_admitted_as_merged_by_key);
	RUN(generate_name_only_works_with_create);
	RUN(plan_carries_the_retry_strategy);
	RUN(resource_without_kind);
	RUN(merge_patch_rfc7386_examples);
	RUN(bump_memory_plans_the_cli_patch);
	RUN(bump_memory_without_a_pod_still_notes_the_change);
	RUN(bump_memory_same_arithmetic_as_cli);
	RUN(bump_memory_knows_its_own_write_after_a_conflict);
	RUN(bump_memory_grows_the_pods_own_limit);
	RUN(bump_memory_of_a_zero_request_is_refused);
	RUN(plans_name_objects_a_snapshot_left_without_apiversion);
	RUN(bump_memory_at_cap_is_a_verdict);
	RUN(bump_memory_of_a_limit_only_container_counts_what_it_adds);
	RUN(bump_memory_refuses_what_it_cannot_change);
	RUN(restart_pod_plans_a_guarded_delete);
	RUN(restart_pod_refuses_bare_static_and_job_pods);
	RUN(argocd_sync_terminates_a_stuck_operation_then_syncs);
	RUN(argocd_sync_retries_a_failed_sync);
	RUN(quarantine_labels_and_isolates_never_deletes);
	RUN(quarantine_twice_is_not_needed);
	RUN(quarantine_refuses_host_network_pod);
	RUN(quarantine_trusts_only_its_own_deny_all);
	RUN(native_spec_errors);
	RUN(execute_refuses_other_plans);
	RUN(admission_of_k8s_plans_is_the_object);
	return harness_done();
}
