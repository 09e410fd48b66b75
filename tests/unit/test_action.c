/*
 * Plans for k8s triggers: names from generateName, the sensor's namespace
 * as default, patch never creating, merge-patch semantics.
 */
#include <stdlib.h>
#include <string.h>

#include "action/action.h"
#include "harness.h"

static struct sensor_trigger
trigger(enum k8s_operation op)
{
	struct sensor_trigger t;

	memset(&t, 0, sizeof t);
	t.name = (char[]){ "t" };
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

int
main(void)
{
	RUN(create_names_from_generate_name_in_sensor_namespace);
	RUN(patch_never_creates);
	RUN(generate_name_only_works_with_create);
	RUN(resource_without_kind);
	RUN(merge_patch_rfc7386_examples);
	return harness_done();
}
