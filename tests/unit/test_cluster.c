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

/*
 * A decision's reads: the owner chain a resolution walks, counts and
 * memory are noted while recording, misses are not, nothing after; and a
 * view built from the note answers what the original view answered, with
 * 200 pods counted though it holds one.
 */
TEST(records_reads_and_rebuilds_from_them)
{
	struct cluster *c = cluster_new(), *r = cluster_new();
	json_t *pod = obj("Pod", "shop", "cart-7d-x", "ReplicaSet", "cart-7d");
	json_t *rs = obj("ReplicaSet", "shop", "cart-7d", "Deployment",
	    "cart");
	json_t *dep = obj("Deployment", "shop", "cart", NULL, NULL);
	json_t *other = obj("Pod", "shop", "other", NULL, NULL);
	json_t *note = json_object(), *objs;
	struct objref ref = { NULL, NULL, NULL };
	char name[32];
	int i;

	cluster_put(c, pod, NULL);
	cluster_put(c, rs, NULL);
	cluster_put(c, dep, NULL);
	cluster_put(c, other, NULL);
	for (i = 0; i < 199 - 1; i++) {
		json_t *o;

		snprintf(name, sizeof name, "filler-%d", i);
		o = obj("Pod", "ns", name, NULL, NULL);
		cluster_put(c, o, NULL);
		json_decref(o);
	}
	cluster_record(c, note);
	CHECK(cluster_get(c, "Pod", "shop", "cart-7d-x") == pod);
	CHECK(cluster_top_controller(c, pod, &ref) == dep);
	CHECK(cluster_get(c, "Pod", "shop", "missing") == NULL);
	CHECK_INT(cluster_count(c, "Pod"), 200);
	CHECK_INT(cluster_allocatable_memory(c), 0);
	cluster_record(c, NULL);
	CHECK(cluster_get(c, "Pod", "shop", "other") == other);

	objs = json_object_get(note, "objects");
	CHECK_INT(json_object_size(objs), 3);
	CHECK(json_object_get(objs, "Pod/shop/cart-7d-x") == pod);
	CHECK(json_object_get(objs, "ReplicaSet/shop/cart-7d") == rs);
	CHECK(json_object_get(objs, "Deployment/shop/cart") == dep);
	CHECK_INT(json_integer_value(json_object_get(json_object_get(note,
	    "counts"), "Pod")), 200);

	CHECK_INT(cluster_load_reads(r, note), 0);
	CHECK_INT(cluster_count(r, "Pod"), 200);
	CHECK(json_equal(cluster_top_controller(r, pod, &ref), dep));
	CHECK_STR(ref.name, "cart");
	CHECK(cluster_get(r, "Pod", "shop", "other") == NULL);
	cluster_reset(r);
	CHECK_INT(cluster_count(r, "Pod"), 0);
	CHECK(cluster_get(r, "Deployment", "shop", "cart") == NULL);
	/* a note that is not one is refused, not half loaded */
	CHECK_INT(cluster_load_reads(r, json_object_get(note, "counts") ?
	    json_object_get(json_object_get(note, "counts"), "Pod") : NULL),
	    -1);
	objref_clear(&ref);
	json_decref(note);
	json_decref(pod);
	json_decref(rs);
	json_decref(dep);
	json_decref(other);
	cluster_free(c);
	cluster_free(r);
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
	RUN(records_reads_and_rebuilds_from_them);
	return harness_done();
}
