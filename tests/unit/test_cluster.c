/*
 * The object store and owner resolution.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "harness.h"

static json_t *
obj(const char *kind, const char *ns, const char *name, const char *okind,
    const char *oname)
{
	json_t *o = json_pack("{s:s, s:{s:s, s:s}}", "kind", kind, "metadata",
	    "name", name, "namespace", ns);

	if (okind)
		json_object_set_new(json_object_get(o, "metadata"),
		    "ownerReferences", json_pack("[{s:s, s:s, s:b}]", "kind",
		    okind, "name", oname, "controller", 1));
	return o;
}

TEST(put_get_replace_remove)
{
	struct cluster *c = cluster_new();
	json_t *a = obj("Pod", "shop", "p1", NULL, NULL), *old;
	json_t *b = obj("Pod", "shop", "p1", NULL, NULL);

	CHECK(cluster_put(c, a, &old) == 0 && old == NULL);
	CHECK(cluster_get(c, "Pod", "shop", "p1") == a);
	CHECK(cluster_get(c, "Pod", "other", "p1") == NULL);
	CHECK(cluster_put(c, b, &old) == 0 && old == a);
	json_decref(old);
	CHECK_INT(cluster_count(c, "Pod"), 1);
	old = cluster_remove(c, "Pod", "shop", "p1");
	CHECK(old == b);
	json_decref(old);
	CHECK_INT(cluster_count(c, "Pod"), 0);
	CHECK(cluster_remove(c, "Pod", "shop", "p1") == NULL);
	json_decref(a);
	json_decref(b);
	cluster_free(c);
}

TEST(many_objects_survive_growth)
{
	struct cluster *c = cluster_new();
	char name[32];
	int i, ok = 1;

	for (i = 0; i < 5000; i++) {
		json_t *o;

		snprintf(name, sizeof name, "p%d", i);
		o = obj("Pod", "ns", name, NULL, NULL);
		cluster_put(c, o, NULL);
		json_decref(o);
	}
	for (i = 0; i < 5000; i += 2) {
		snprintf(name, sizeof name, "p%d", i);
		json_decref(cluster_remove(c, "Pod", "ns", name));
	}
	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof name, "p%d", i);
		ok &= (cluster_get(c, "Pod", "ns", name) != NULL) == (i % 2);
	}
	CHECK(ok);
	CHECK_INT(cluster_count(c, "Pod"), 2500);
	cluster_free(c);
}

TEST(refuses_objects_without_identity)
{
	struct cluster *c = cluster_new();
	json_t *o = json_pack("{s:s}", "kind", "Pod");

	CHECK(cluster_put(c, o, NULL) == -1);
	json_decref(o);
	cluster_free(c);
}

TEST(top_controller_through_replicaset)
{
	struct cluster *c = cluster_new();
	json_t *d = obj("Deployment", "shop", "cart", NULL, NULL);
	json_t *rs = obj("ReplicaSet", "shop", "cart-7d9f8", "Deployment",
	    "cart");
	json_t *p = obj("Pod", "shop", "cart-7d9f8-x2x9q", "ReplicaSet",
	    "cart-7d9f8");
	json_t *bare = obj("Pod", "shop", "bare", NULL, NULL);
	json_t *orphan = obj("Pod", "shop", "o", "ReplicaSet", "gone");
	struct objref r = { 0 };

	cluster_put(c, d, NULL);
	cluster_put(c, rs, NULL);
	cluster_put(c, p, NULL);
	CHECK(cluster_top_controller(c, p, &r) == d);
	CHECK_STR(r.kind, "Deployment");
	CHECK_STR(r.namespace, "shop");
	CHECK_STR(r.name, "cart");
	CHECK(cluster_top_controller(c, bare, &r) == bare);
	CHECK_STR(r.kind, "Pod");
	/* an owner missing from the view is still named */
	CHECK(cluster_top_controller(c, orphan, &r) == NULL);
	CHECK_STR(r.kind, "ReplicaSet");
	CHECK_STR(r.name, "gone");
	objref_clear(&r);
	json_decref(d);
	json_decref(rs);
	json_decref(p);
	json_decref(bare);
	json_decref(orphan);
	cluster_free(c);
}

TEST(workload_pods)
{
	json_t *d = json_loads("{\"kind\":\"Deployment\",\"spec\":"
	    "{\"replicas\":3}}", 0, NULL);
	json_t *d1 = json_loads("{\"kind\":\"Deployment\",\"spec\":{}}", 0,
	    NULL);
	json_t *ds = json_loads("{\"kind\":\"DaemonSet\",\"status\":"
	    "{\"desiredNumberScheduled\":12}}", 0, NULL);
	json_t *p = json_loads("{\"kind\":\"Pod\"}", 0, NULL);

	CHECK_INT(cluster_workload_pods(d), 3);
	CHECK_INT(cluster_workload_pods(d1), 1);
	CHECK_INT(cluster_workload_pods(ds), 12);
	CHECK_INT(cluster_workload_pods(p), 1);
	json_decref(d);
	json_decref(d1);
	json_decref(ds);
	json_decref(p);
}

static json_t *
node(const char *name, const char *memory)
{
	return json_pack("{s:s, s:s, s:{s:s}, s:{s:{s:s?}}}", "apiVersion",
	    "v1", "kind", "Node", "metadata", "name", name, "status",
	    "allocatable", "memory", memory);
}

static void
put(struct cluster *c, json_t *o)
{
	CHECK_INT(cluster_put(c, o, NULL), 0);
	json_decref(o);
}

TEST(allocatable_memory_follows_nodes)
{
	struct cluster *c = cluster_new();

	CHECK(cluster_allocatable_memory(c) == 0);
	put(c, node("a", "16Gi"));
	put(c, node("b", "8053040Ki"));		/* as kubelets report it */
	CHECK(cluster_allocatable_memory(c) == 17179869184LL +
	    8053040LL * 1024);
	put(c, node("b", "1G"));		/* replaced: counted once */
	CHECK(cluster_allocatable_memory(c) == 17179869184LL + 1000000000);
	put(c, node("c", "lots"));		/* unparsable: 0, no harm */
	put(c, node("d", NULL));
	CHECK(cluster_allocatable_memory(c) == 17179869184LL + 1000000000);
	json_decref(cluster_remove(c, "Node", NULL, "a"));
	CHECK(cluster_allocatable_memory(c) == 1000000000);
	json_decref(cluster_remove(c, "Node", NULL, "b"));
	CHECK(cluster_allocatable_memory(c) == 0);
	cluster_free(c);
}

int
main(void)
{
	RUN(put_get_replace_remove);
	RUN(many_objects_survive_growth);
	RUN(refuses_objects_without_identity);
	RUN(top_controller_through_replicaset);
	RUN(workload_pods);
	RUN(allocatable_memory_follows_nodes);
	return harness_done();
}
