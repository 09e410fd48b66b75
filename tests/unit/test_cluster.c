/*
 * The object store and owner resolution.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "cluster/cluster_int.h"
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

	json_object_set_new(json_object_get(b, "metadata"), "labels",
	    json_pack("{s:s}", "app", "web"));
	CHECK(cluster_put(c, a, &old) == 0 && old == NULL);
	/* compact kinds come back materialized: equal, not the same */
	CHECK(json_equal(cluster_get(c, "Pod", "shop", "p1"), a));
	CHECK(cluster_get(c, "Pod", "shop", "p1") ==
	    cluster_get(c, "Pod", "shop", "p1"));	/* cached */
	CHECK(cluster_get(c, "Pod", "other", "p1") == NULL);
	CHECK(cluster_put(c, b, &old) == 0 && json_equal(old, a));
	json_decref(old);
	CHECK_INT(cluster_count(c, "Pod"), 1);
	old = cluster_remove(c, "Pod", "shop", "p1");
	CHECK(json_equal(old, b));
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
	CHECK(json_equal(cluster_top_controller(c, p, &r), d));
	CHECK_STR(r.kind, "Deployment");
	CHECK_STR(r.namespace, "shop");
	CHECK_STR(r.name, "cart");
	CHECK(cluster_top_controller(c, bare, &r) == bare);	/* no owner */
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

/*
 * An owner walk reads each owner's controller reference once per object
 * the view keeps: a new version of an owner is read again, whole kinds
 * and materialized ones alike.
 */
TEST(owner_walk_reads_each_version_of_an_owner)
{
	struct cluster *c = cluster_new();
	json_t *rs = obj("ReplicaSet", "shop", "cart-7d9f8", "Deployment",
	    "cart");
	json_t *rs2 = obj("ReplicaSet", "shop", "cart-7d9f8", "Deployment",
	    "till");
	json_t *ns = obj("Namespace", "", "shop", "Thing", "owner");
	json_t *p = obj("Pod", "shop", "cart-7d9f8-x2x9q", "ReplicaSet",
	    "cart-7d9f8");
	json_t *got;
	const char *k, *n;
	struct objref r = { 0 };

	cluster_put(c, rs, NULL);
	cluster_put(c, p, NULL);
	got = cl_get_controlled(c, "ReplicaSet", "shop", "cart-7d9f8", &k,
	    &n);
	CHECK(got == cluster_get(c, "ReplicaSet", "shop", "cart-7d9f8"));
	CHECK_STR(k, "Deployment");
	CHECK_STR(n, "cart");
	CHECK(cluster_top_controller(c, p, &r) == NULL);  /* not in view */
	CHECK_STR(r.name, "cart");
	cluster_put(c, rs2, NULL);
	CHECK(cluster_top_controller(c, p, &r) == NULL);
	CHECK_STR(r.name, "till");
	got = cl_get_controlled(c, "Pod", "shop", "cart-7d9f8-x2x9q", &k,
	    &n);
	CHECK_STR(k, "ReplicaSet");
	CHECK_STR(n, "cart-7d9f8");
	CHECK(cl_get_controlled(c, "Pod", "shop", "gone", &k, &n) == NULL);
	cluster_put_whole(c, ns, NULL);	/* kept whole */
	got = cl_get_controlled(c, "Namespace", NULL, "shop", &k, &n);
	CHECK(got != NULL);
	CHECK_STR(k, "Thing");
	CHECK_STR(n, "owner");
	got = cl_get_controlled(c, "Namespace", NULL, "shop", &k, &n);
	CHECK_STR(n, "owner");
	objref_clear(&r);
	json_decref(rs);
	json_decref(rs2);
	json_decref(ns);
	json_decref(p);
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
	/* an Argo Rollout, a Job, and what cannot be told (-1: the blast
	   radius then stops the action instead of counting nothing) */
	json_t *ro = json_loads("{\"kind\":\"Rollout\",\"spec\":"
	    "{\"replicas\":50}}", 0, NULL);
	json_t *job = json_loads("{\"kind\":\"Job\",\"spec\":"
	    "{\"parallelism\":4}}", 0, NULL);
	json_t *job1 = json_loads("{\"kind\":\"Job\",\"spec\":{}}", 0, NULL);
	json_t *crd = json_loads("{\"kind\":\"PostgresCluster\",\"spec\":"
	    "{}}", 0, NULL);
	json_t *ds0 = json_loads("{\"kind\":\"DaemonSet\"}", 0, NULL);
	json_t *neg = json_loads("{\"kind\":\"Deployment\",\"spec\":"
	    "{\"replicas\":\"3\"}}", 0, NULL);

	CHECK_INT(cluster_workload_pods(d), 3);
	CHECK_INT(cluster_workload_pods(d1), 1);
	CHECK_INT(cluster_workload_pods(ds), 12);
	CHECK_INT(cluster_workload_pods(p), 1);
	CHECK_INT(cluster_workload_pods(ro), 50);
	CHECK_INT(cluster_workload_pods(job), 4);
	CHECK_INT(cluster_workload_pods(job1), 1);
	CHECK_INT(cluster_workload_pods(crd), -1);
	CHECK_INT(cluster_workload_pods(ds0), -1);
	CHECK_INT(cluster_workload_pods(neg), -1);
	{	/* the view keeps what a Job's count is read from */
		struct cluster *c = cluster_new();
		json_t *vj = json_loads("{\"apiVersion\":\"batch/v1\","
		    "\"kind\":\"Job\",\"metadata\":{\"name\":\"j\","
		    "\"namespace\":\"ns\"},\"spec\":{\"parallelism\":4,"
		    "\"backoffLimit\":6}}", 0, NULL);

		CHECK_INT(cluster_put(c, vj, NULL), 0);
		CHECK_INT(cluster_workload_pods(cluster_get(c, "Job", "ns",
		    "j")), 4);
		json_decref(vj);
		cluster_free(c);
	}
	json_decref(d);
	json_decref(d1);
	json_decref(ds);
	json_decref(p);
	json_decref(ro);
	json_decref(job);
	json_decref(job1);
	json_decref(crd);
	json_decref(ds0);
	json_decref(neg);
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

/* The Pod a real kube-apiserver served after an OOM kill (recorded). */
static json_t *
real_pod(void)
{
	char path[512];
	json_t *rec, *pod;

	snprintf(path, sizeof path, "%s/fixtures/real/"
	    "20b-get-pod-after-status-patch.json", TEST_DATA);
	rec = json_load_file(path, 0, NULL);
	pod = json_incref(json_object_get(json_object_get(rec, "response"),
	    "body"));
	json_decref(rec);
	return pod;
}

static const char *
spath(json_t *o, const char *a, const char *b, const char *c)
{
	json_t *v = json_object_get(json_object_get(o, a), b);

	return json_string_value(c ? json_object_get(v, c) : v);
}

TEST(compact_keeps_what_remediate_reads)
{
	struct cluster *c = cluster_new();
	json_t *pod = real_pod(), *got, *cs, *ref, *ctr;

	CHECK(pod != NULL);
	CHECK_INT(cluster_put(c, pod, NULL), 0);
	got = cluster_get(c, "Pod", "remediation-demo",
	    "web-7c5ddbdf54-x7k2p");
	CHECK(got != NULL);
	CHECK_STR(obj_kind(got), "Pod");
	CHECK_STR(spath(got, "metadata", "uid", NULL),
	    "1cf058bf-f267-401a-bde8-61270ac30547");
	/* labels: the opt-in label and selectors */
	CHECK_STR(obj_label(got, "remediation.platform/optin"), "true");
	CHECK_STR(obj_label(got, "pod-template-hash"), "7c5ddbdf54");
	/* owners */
	ref = json_array_get(json_object_get(json_object_get(got, "metadata"),
	    "ownerReferences"), 0);
	CHECK_STR(json_string_value(json_object_get(ref, "kind")),
	    "ReplicaSet");
	CHECK_STR(json_string_value(json_object_get(ref, "name")),
	    "web-7c5ddbdf54");
	CHECK(json_is_true(json_object_get(ref, "controller")));
	/* requests and limits, for the blast radius and bumpMemory */
	ctr = json_array_get(json_object_get(json_object_get(got, "spec"),
	    "containers"), 0);
	CHECK_STR(spath(json_object_get(ctr, "resources"), "limits",
	    "memory", NULL), "256Mi");
	CHECK_STR(spath(json_object_get(ctr, "resources"), "requests",
	    "memory", NULL), "128Mi");
	/* the statuses the OOM detector compares */
	cs = json_array_get(json_object_get(json_object_get(got, "status"),
	    "containerStatuses"), 0);
	CHECK_STR(json_string_value(json_object_get(cs, "name")), "app");
	CHECK_STR(spath(json_object_get(cs, "lastState"), "terminated",
	    "reason", NULL), "OOMKilled");
	CHECK_STR(spath(json_object_get(cs, "lastState"), "terminated",
	    "finishedAt", NULL), "2026-01-01T00:04:57Z");
	CHECK(json_integer_value(json_object_get(json_object_get(
	    json_object_get(cs, "lastState"), "terminated"), "exitCode")) ==
	    137);
	CHECK_STR(spath(got, "status", "phase", NULL), "Running");
	/* what nobody reads is gone: a path outside the list reads null */
	CHECK(json_object_get(json_object_get(got, "metadata"),
	    "managedFields") == NULL);
	CHECK(json_object_get(json_object_get(got, "spec"), "volumes") ==
	    NULL);
	CHECK(json_object_get(json_object_get(got, "spec"), "tolerations") ==
	    NULL);
	CHECK(json_object_get(json_object_get(got, "status"), "conditions") ==
	    NULL);
	json_decref(pod);
	cluster_free(c);
}

TEST(whole_kinds_keep_every_field)
{
	struct cluster *c = cluster_new();
	json_t *cm = json_pack("{s:s, s:{s:s, s:s}, s:{s:s}}", "kind",
	    "ConfigMap", "metadata", "name", "cfg", "namespace", "shop",
	    "data", "any", "thing");
	struct cluster_stats st;

	CHECK(!cluster_compact_kind("ConfigMap"));
	CHECK(cluster_compact_kind("Pod"));
	cluster_put(c, cm, NULL);
	CHECK(cluster_get(c, "ConfigMap", "shop", "cfg") == cm);
	cluster_stats(c, &st);
	CHECK_INT(st.whole, 1);
	json_decref(cm);
	cluster_free(c);
}

/* Pods of one ReplicaSet share their shape: one string for all. */
/* Whether c holds nothing, not even a shared string. */
static int
empty(const struct cluster *c)
{
	struct cluster_stats st;

	cluster_stats(c, &st);
	return st.objects == 0 && st.strings == 0 && st.classes == 0 &&
	    st.string_bytes == 0;
}

TEST(pods_of_a_replicaset_share_one_shape)
{
	struct cluster *c = cluster_new();
	json_t *pod = real_pod(), *m = json_object_get(pod, "metadata");
	struct cluster_stats st;
	char name[64], uid[64];
	int i;

	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof name, "web-7c5ddbdf54-%05d", i);
		snprintf(uid, sizeof uid, "1cf058bf-f267-401a-bde8-%012d", i);
		json_object_set_new(m, "name", json_string(name));
		json_object_set_new(m, "uid", json_string(uid));
		json_object_set_new(m, "resourceVersion",
		    json_integer(1000 + i));
		cluster_put(c, pod, NULL);
	}
	cluster_stats(c, &st);
	CHECK_INT(st.objects, 1000);
	CHECK_INT(cluster_count(c, "Pod"), 1000);
	/* kind, namespace, metadata, spec and statuses: in one class */
	CHECK_INT(st.strings, 5);
	CHECK_INT(st.classes, 1);
	CHECK_INT(st.materialized, 0);
	/* name, uid, a pointer and a slot: under 100 bytes a pod */
	CHECK(st.bytes_per_object < 100);
	fprintf(stderr, "    %zu bytes per pod (records %zu, table %zu, "
	    "strings %zu)\n", st.bytes_per_object, st.record_bytes,
	    st.table_bytes, st.string_bytes);
	/* removing every pod frees every shared string */
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof name, "web-7c5ddbdf54-%05d", i);
		json_decref(cluster_remove(c, "Pod", "remediation-demo", name));
	}
	CHECK(empty(c));
	json_decref(pod);
	cluster_free(c);
}

/* An object's key: kind/namespace/name, or kind/name without a namespace. */
TEST(cluster_key_joins_kind_namespace_name)
{
	static const struct {
		const char *kind, *ns, *name, *want;
	} c[] = {
		{ "Pod", "team-a", "p-1", "Pod/team-a/p-1" },
		{ "Node", NULL, "n1", "Node/n1" },
		{ "Node", "", "n1", "Node/n1" },
		{ NULL, "ns", NULL, "/ns/" },
		{ NULL, NULL, NULL, "/" },
	};
	size_t i;
	char *k;

	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		k = cluster_key(c[i].kind, c[i].ns, c[i].name);
		CHECK_STR(k, c[i].want);
		free(k);
	}
}

/*
 * A ReplicaSet's pods are named after it: the class finds the owner's
 * name in its metadata text, each record keeps the rest; names still
 * round-trip, a name that does not start with its owner's is kept whole,
 * and a look-up with another prefix or suffix misses.
 */
TEST(pod_names_share_their_owners_name)
{
	struct cluster *c = cluster_new();
	json_t *pod = real_pod(), *m = json_object_get(pod, "metadata"), *got;
	struct cluster_stats st, one;
	char name[64];
	int i, ok = 1;

	json_object_set_new(m, "ownerReferences", json_pack("[{s:s, s:s, "
	    "s:s, s:b}]", "apiVersion", "apps/v1", "kind", "ReplicaSet",
	    "name", "web-7c5d", "controller", 1));
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof name, "web-7c5d-%05d", i);
		json_object_set_new(m, "name", json_string(name));
		cluster_put(c, pod, NULL);
	}
	cluster_stats(c, &one);
	json_object_set_new(m, "name", json_string("other"));	/* kept whole */
	cluster_put(c, pod, NULL);
	json_object_set_new(m, "name", json_string("web-7c5d"));	/* = owner */
	cluster_put(c, pod, NULL);
	cluster_stats(c, &st);
	CHECK_INT(st.objects, 102);
	CHECK_INT(st.strings, 5);	/* no string more for the prefix */
	CHECK_INT(st.classes, 2);
	/* the record keeps "-00042" and the uid: 12 + 7 + 1 + 16 bytes */
	CHECK_INT(one.record_bytes, 100 * 36 + one.classes * 56);
	for (i = 0; i < 100 && ok; i++) {
		snprintf(name, sizeof name, "web-7c5d-%05d", i);
		got = cluster_get(c, "Pod", "remediation-demo", name);
		ok = got && strcmp(obj_name(got), name) == 0;
	}
	CHECK(ok);
	CHECK(strcmp(obj_name(cluster_get(c, "Pod", "remediation-demo",
	    "other")), "other") == 0);
	CHECK(strcmp(obj_name(cluster_get(c, "Pod", "remediation-demo",
	    "web-7c5d")), "web-7c5d") == 0);
	CHECK(cluster_get(c, "Pod", "remediation-demo", "web-7c5e-00001") ==
	    NULL);
	CHECK(cluster_get(c, "Pod", "remediation-demo", "web-7c5d-0000") ==
	    NULL);
	CHECK(cluster_get(c, "Pod", "remediation-demo", "-00001") == NULL);
	/* a relist sweeps records by their whole name */
	cluster_relist_begin(c, "Pod");
	json_object_set_new(m, "name", json_string("web-7c5d-00042"));
	cluster_put(c, pod, NULL);
	CHECK_INT(cluster_relist_end(c, "Pod"), 101);
	got = cluster_get(c, "Pod", "remediation-demo", "web-7c5d-00042");
	CHECK(got && strcmp(obj_name(got), "web-7c5d-00042") == 0);
	json_decref(cluster_remove(c, "Pod", "remediation-demo",
	    "web-7c5d-00042"));
	CHECK(empty(c));
	json_decref(pod);
	cluster_free(c);
}

/* Any text packs and unpacks to itself; metadata packs small. */
TEST(texts_pack_to_themselves)
{
	static const char *const texts[] = {
		"",
		"{\"labels\":{\"app\":\"web\",\"pod-template-hash\":"
		    "\"7c5d\",\"remediation.platform/optin\":\"true\"},"
		    "\"ownerReferences\":[{\"apiVersion\":\"apps/v1\","
		    "\"controller\":true,\"kind\":\"ReplicaSet\",\"name\":"
		    "\"web-7c5d\"}]}",
		"\x01\x1e\x1f\x1f\x02 raw control bytes, escaped",
		"\"},\"labels\":{\"",	/* a fragment alone */
		"apps/v",			/* a fragment's start */
		"\x1f",			/* the escape byte last */
	};
	size_t i, n;
	int ok = 1;

	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		char *p = cl_text_pack(texts[i], &n), *u = cl_text_unpack(p);

		ok &= strlen(p) == n && strcmp(u, texts[i]) == 0;
		if (i == 1)
			CHECK(n < strlen(texts[i]) / 3);
		free(p);
		free(u);
	}
	CHECK(ok);
}

/*
 * The packer copies plain runs whole: fragments and control bytes right
 * after a run, between two runs and at either end still pack (and
 * unpack) as at any other place.  Texts made of pieces in every order.
 */
TEST(texts_pack_runs_and_fragments_at_their_edges)
{
	static const char *const pieces[] = {
		"web-7c5d", "\"},\"labels\":{\"", "apps/v1", "\x01", "\x1f",
		"\x1e", "x", "\"", "apps/v", "ReplicaSet", "{", "\",\"",
		"kubernetes.io/", "\x7f\xc3\xa9",
	};
	char text[256], *p, *u;
	size_t i, j, k, n, np = UTIL_ARRAY_LEN(pieces);
	int ok = 1;

	for (i = 0; i < np; i++)
		for (j = 0; j < np; j++)
			for (k = 0; k < np; k++) {
				snprintf(text, sizeof text, "%s%s%s", pieces[i],
				    pieces[j], pieces[k]);
				p = cl_text_pack(text, &n);
				u = cl_text_unpack(p);
				ok &= strlen(p) == n && strcmp(u, text) == 0;
				/* compared packed: itself, not a prefix or more */
				n = strlen(text);
				ok &= cl_text_is(p, text, n);
				ok &= n == 0 || !cl_text_is(p, text, n - 1);
				ok &= !cl_text_is(p, "x\x1f", 2);
				text[n] = 'x';
				ok &= !cl_text_is(p, text, n + 1);
				if (n > 0) {
					text[n - 1] ^= 1;
					ok &= !cl_text_is(p, text, n);
				}
				free(p);
				free(u);
			}
	CHECK(ok);
	/* a fragment after a run is one byte; a control byte two */
	p = cl_text_pack("web-apps/v1", &n);
	CHECK_INT(n, 5);
	CHECK(memcmp(p, "web-", 4) == 0 && (unsigned char)p[4] < 0x1f);
	free(p);
	p = cl_text_pack("ab\x05" "cd", &n);
	CHECK_INT(n, 6);
	CHECK(memcmp(p, "ab\x1f\x05" "cd", 6) == 0);
	free(p);
}

/* The previous object a put returns carries the statuses to compare. */
TEST(old_object_keeps_container_statuses)
{
	struct cluster *c = cluster_new();
	json_t *pod = real_pod(), *fresh, *old, *cs, *arr;

	fresh = json_deep_copy(pod);
	arr = json_object_get(json_object_get(fresh, "status"),
	    "containerStatuses");
	json_object_del(json_array_get(arr, 0), "lastState");
	cluster_put(c, fresh, NULL);
	cluster_put(c, pod, &old);
	cs = json_array_get(json_object_get(json_object_get(old, "status"),
	    "containerStatuses"), 0);
	CHECK_STR(json_string_value(json_object_get(cs, "name")), "app");
	CHECK(json_object_get(cs, "lastState") == NULL);
	json_decref(old);
	cluster_put(c, fresh, &old);	/* and back: the kill is in old */
	cs = json_array_get(json_object_get(json_object_get(old, "status"),
	    "containerStatuses"), 0);
	CHECK_STR(spath(json_object_get(cs, "lastState"), "terminated",
	    "containerID", NULL), "containerd://11111111111111111111111111"
	    "11111111111111111111111111111111111111");
	json_decref(old);
	json_decref(fresh);
	json_decref(pod);
	cluster_free(c);
}

/*
 * The OOM detector's put: the previous statuses from the record's text,
 * the same lists a materialized old object has, and nothing more; a
 * whole object comes back whole.
 */
TEST(put_statuses_returns_the_statuses_only)
{
	struct cluster *c = cluster_new();
	json_t *pod = real_pod(), *old, *full, *st;

	cluster_put(c, pod, NULL);
	cluster_put(c, pod, &full);
	cluster_put_statuses(c, pod, &old);
	CHECK_INT(json_object_size(old), 2);
	/* the uid: a Pod recreated under the name is not the one replaced */
	CHECK_STR(json_string_value(json_object_get(json_object_get(old,
	    "metadata"), "uid")), json_string_value(json_object_get(
	    json_object_get(pod, "metadata"), "uid")));
	st = json_object_get(old, "status");
	CHECK(json_equal(json_object_get(st, "containerStatuses"),
	    json_object_get(json_object_get(full, "status"),
	    "containerStatuses")));
	CHECK(json_object_get(st, "phase") == NULL);
	CHECK(json_array_size(json_object_get(st, "containerStatuses")) > 0);
	json_decref(old);
	json_decref(full);
	CHECK(cluster_put_statuses(c, pod, NULL) == 0);
	CHECK_INT(cluster_count(c, "Pod"), 1);
	cluster_put_whole(c, pod, NULL);
	cluster_put_statuses(c, pod, &old);
	CHECK(old == pod);
	json_decref(old);
	json_decref(pod);
	pod = obj("Pod", "x", "new", NULL, NULL);
	cluster_put_statuses(c, pod, &old);
	CHECK(old == NULL);
	json_decref(pod);
	cluster_free(c);
}

/*
 * The texts a put writes straight from an object (texts.c) are the ones
 * dumping the parts of its projection gives, split as the store splits
 * them (cl_split_projection, on cluster_project's tree).
 */
static void
split_texts(json_t *o, struct buf t[CL_TEXTS])
{
	json_t *p = cluster_project(o), *m, *parts;
	size_t i;

	cl_split_projection(p, &m, &parts);
	for (i = 0; i < CL_TEXTS; i++)
		buf_reset(&t[i]);
	CHECK(util_json_write(&t[CL_META], m, JSON_COMPACT | JSON_SORT_KEYS)
	    == 0);
	CHECK(util_json_write(&t[CL_BODY], p, JSON_COMPACT | JSON_SORT_KEYS)
	    == 0);
	CHECK(util_json_write(&t[CL_STATUS], parts, JSON_COMPACT |
	    JSON_SORT_KEYS) == 0);
	json_decref(parts);
	json_decref(m);
	json_decref(p);
}

TEST(texts_written_are_the_projections)
{
	json_t *objs[12], *st, *m;
	struct buf got[CL_TEXTS], want[CL_TEXTS];
	size_t i, k, n = 0;

	memset(got, 0, sizeof got);
	memset(want, 0, sizeof want);
	objs[n++] = real_pod();
	/* keys out of order, init containers, no phase, kept annotations */
	objs[n] = json_deep_copy(objs[0]);
	m = json_object_get(objs[n], "metadata");
	json_object_set_new(m, "labels", json_pack("{s:s, s:s, s:s}", "zz",
	    "1", "remediation.platform/optin", "true", "app", "web"));
	json_object_set_new(m, "annotations", json_pack("{s:s, s:s, s:s}",
	    "remediation.dev/owner", "team-a", "other", "x",
	    "kubernetes.io/config.mirror", "m"));
	st = json_object_get(objs[n], "status");
	json_object_del(st, "phase");
	json_object_set_new(st, "initContainerStatuses", json_pack(
	    "[{s:s, s:i, s:{s:{s:i, s:s, s:s}}}, s, {}]", "name", "init",
	    "restartCount", 3, "lastState", "terminated", "exitCode", 137,
	    "reason", "OOMKilled", "finishedAt", "2026-01-01T00:00:00Z",
	    "not an object"));
	json_object_set_new(json_object_get(objs[n], "spec"), "initContainers",
	    json_pack("[{s:s, s:{s:{s:s, s:s}}}]", "name", "init", "resources",
	    "requests", "memory", "1Gi", "cpu", "1"));
	n++;
	objs[n] = json_deep_copy(objs[n - 1]);	/* no status at all */
	json_object_del(objs[n++], "status");
	objs[n] = json_deep_copy(objs[0]);	/* statuses only */
	st = json_object_get(objs[n], "status");
	json_object_del(st, "phase");
	n++;
	objs[n] = json_deep_copy(objs[0]);	/* none kept of status */
	json_object_set_new(objs[n++], "status", json_pack("{s:s, s:{}}",
	    "qosClass", "Burstable", "allocatable", "cpu", "1"));
	objs[n++] = json_pack("{s:s, s:s, s:s, s:i}", "kind", "Pod",
	    "metadata", "no object", "status", "none", "spec", 3);
	objs[n++] = json_pack("{s:s, s:{s:s}}", "kind", "Pod", "metadata",
	    "name", "bare");
	objs[n++] = node("n1", "8Gi");
	objs[n++] = json_pack("{s:s, s:s, s:{s:s, s:[{s:s, s:s}, i]}, "
	    "s:{s:i, s:{s:{s:[{s:s, s:{s:{s:s}}, s:s}]}, s:{}}}, s:{s:i}}",
	    "kind", "Deployment", "apiVersion", "apps/v1", "metadata", "name",
	    "web", "ownerReferences", "kind", "X", "name", "y", 7, "spec",
	    "replicas", 3, "template", "spec", "containers", "name", "app",
	    "resources", "limits", "memory", "1Gi", "image", "i", "metadata",
	    "status", "readyReplicas", 2);
	objs[n] = json_deep_copy(objs[n - 1]);	/* a template not kept */
	json_object_set_new(objs[n++], "kind", json_string("ReplicaSet"));
	objs[n++] = json_pack("{s:s, s:{s:s, s:{s:s, s:i, s:n}}}", "kind",
	    "Job", "metadata", "name", "j", "labels", "b", "x", "a", 1, "c");
	for (i = 0; i < n; i++) {
		CHECK(objs[i] != NULL);
		split_texts(objs[i], want);
		CHECK_INT(cl_write_texts(objs[i], obj_kind(objs[i]), got), 0);
		for (k = 0; k < CL_TEXTS; k++) {
			CHECK_STR(got[k].data, want[k].data);
		}
		json_decref(objs[i]);
	}
	/* outside ASCII: refused, the projection's way takes it */
	objs[0] = real_pod();
	json_object_set_new(json_object_get(json_object_get(objs[0],
	    "metadata"), "labels"), "caf\xc3\xa9", json_string("x"));
	CHECK_INT(cl_write_texts(objs[0], "Pod", got), -1);
	{
		struct cluster *c = cluster_new();
		json_t *p = cluster_project(objs[0]), *x;

		/* what the view keeps: the projection but restartCount */
		json_array_foreach(json_object_get(json_object_get(p, "status"),
		    "containerStatuses"), i, x)
			json_object_del(x, "restartCount");
		CHECK_INT(cluster_put(c, objs[0], NULL), 0);
		CHECK(json_equal(cluster_get(c, "Pod", obj_namespace(objs[0]),
		    obj_name(objs[0])), p));
		json_decref(p);
		cluster_free(c);
	}
	json_decref(objs[0]);
	for (k = 0; k < CL_TEXTS; k++) {
		buf_free(&got[k]);
		buf_free(&want[k]);
	}
}

/*
 * Parsed texts are kept for materializing: a text freed and another of
 * the same size interned (malloc gives back the same address) must not
 * come back as the old one's tree.
 */
TEST(parsed_texts_never_outlive_their_string)
{
	struct cluster *c = cluster_new();
	char v[16];
	int i, ok = 1;

	for (i = 0; i < 200; i++) {
		json_t *o = obj("Pod", "ns", "p", NULL, NULL), *got;

		snprintf(v, sizeof v, "v%03d", i);
		json_object_set_new(json_object_get(o, "metadata"), "labels",
		    json_pack("{s:s}", "app", v));
		cluster_put(c, o, NULL);
		got = cluster_get_whole(c, "Pod", "ns", "p");
		if (!json_equal(got, o))
			ok = 0;
		json_decref(got);
		json_decref(cluster_remove(c, "Pod", "ns", "p"));
		json_decref(o);
	}
	CHECK(ok);
	cluster_free(c);
}

/* Materialized objects are cached until a put finds too many. */
TEST(materialized_cache_is_bounded)
{
	struct cluster *c = cluster_new();
	struct cluster_stats st;
	char name[32];
	int i;

	for (i = 0; i < 200; i++) {
		json_t *o;

		snprintf(name, sizeof name, "p%d", i);
		o = obj("Pod", "ns", name, "ReplicaSet", "rs");
		cluster_put(c, o, NULL);
		json_decref(o);
	}
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof name, "p%d", i);
		CHECK(cluster_get(c, "Pod", "ns", name) != NULL);
	}
	cluster_stats(c, &st);
	CHECK_INT(st.materialized, 200);
	json_decref(cluster_remove(c, "Pod", "ns", "p0"));
	cluster_stats(c, &st);
	CHECK_INT(st.materialized, 0);
	CHECK_INT(st.objects, 199);
	cluster_free(c);
}

/*
 * The real Pod named name (its uid from it) killed at finished: a new
 * reference.
 */
static json_t *
pod_version(const char *name, const char *finished)
{
	json_t *pod = real_pod(), *m = json_object_get(pod, "metadata");
	json_t *cs = json_array_get(json_object_get(json_object_get(pod,
	    "status"), "containerStatuses"), 0);
	char uid[64];

	snprintf(uid, sizeof uid, "uid-%s", name);
	json_object_set_new(m, "name", json_string(name));
	json_object_set_new(m, "uid", json_string(uid));
	json_object_set_new(json_object_get(json_object_get(cs, "lastState"),
	    "terminated"), "finishedAt", json_string(finished));
	return pod;
}

/* What the view gives back of pod: its projection but restart counts. */
static json_t *
kept_of(json_t *pod)
{
	json_t *p = cluster_project(pod), *cs;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(p, "status"),
	    "containerStatuses"), i, cs)
		json_object_del(cs, "restartCount");
	return p;
}

static json_t *
child2(json_t *o, const char *a, const char *b)
{
	return json_object_get(json_object_get(o, a), b);
}

#define DEMO	"remediation-demo"
#define POD_A	"web-7c5ddbdf54-aaaaa"
#define POD_B	"web-7c5ddbdf54-bbbbb"

/*
 * A Pod's versions that differ in their statuses share its metadata and
 * body trees, parsed once (the same pointers), as do the pods of one
 * workload; the statuses the OOM detector gets at the next put are the
 * tree the decision's get parsed.  Each stays right once the version or
 * pod that parsed it is gone, and goes with the last text naming it.
 */
TEST(versions_share_their_parsed_texts)
{
	struct cluster *c = cluster_new();
	json_t *a1 = pod_version(POD_A, "2026-01-01T00:04:57Z");
	json_t *a2 = pod_version(POD_A, "2026-01-01T00:09:57Z");
	json_t *b = pod_version(POD_B, "2026-01-01T00:04:57Z");
	json_t *got, *labels, *spec, *cs, *old, *want;
	struct cluster_stats st;

	cluster_put(c, a1, NULL);
	cluster_put(c, b, NULL);
	got = cluster_get(c, "Pod", DEMO, POD_A);
	want = kept_of(a1);
	CHECK(json_equal(got, want));
	json_decref(want);
	/* held past the put, which may free got */
	labels = json_incref(child2(got, "metadata", "labels"));
	spec = json_incref(json_object_get(got, "spec"));
	cs = json_incref(child2(got, "status", "containerStatuses"));
	CHECK_INT(cluster_put_statuses(c, a2, &old), 0);
	CHECK(child2(old, "status", "containerStatuses") == cs);
	json_decref(old);
	got = cluster_get(c, "Pod", DEMO, POD_A);
	CHECK(child2(got, "metadata", "labels") == labels);
	CHECK(json_object_get(got, "spec") == spec);
	CHECK(child2(got, "status", "containerStatuses") != cs);
	want = kept_of(a2);
	CHECK(json_equal(got, want));
	json_decref(want);
	/* the other pod of the workload, once the first is gone */
	json_decref(cluster_remove(c, "Pod", DEMO, POD_A));
	got = cluster_get(c, "Pod", DEMO, POD_B);
	CHECK(child2(got, "metadata", "labels") == labels);
	CHECK(json_object_get(got, "spec") == spec);
	want = kept_of(b);
	CHECK(json_equal(got, want));
	CHECK(json_equal(labels, child2(want, "metadata", "labels")));
	json_decref(want);
	cluster_stats(c, &st);
	/* b's metadata, body and statuses trees, its kind and namespace */
	CHECK_INT(st.parsed, 5);
	json_decref(cluster_remove(c, "Pod", DEMO, POD_B));
	cluster_stats(c, &st);
	CHECK_INT(st.parsed, 0);
	CHECK_INT(st.parsed_bytes, 0);
	CHECK(empty(c));
	/* what a reader still holds outlives the view's own reference */
	CHECK_STR(json_string_value(json_object_get(labels, "app")), "web");
	json_decref(labels);
	json_decref(spec);
	json_decref(cs);
	json_decref(a1);
	json_decref(a2);
	json_decref(b);
	cluster_free(c);
}

/*
 * The OOM detector's put parses a statuses text the replaced version
 * alone named (no get read it) without keeping its tree: the text goes
 * with the version.
 */
TEST(statuses_read_at_a_put_are_not_kept)
{
	struct cluster *c = cluster_new();
	json_t *a1 = pod_version(POD_A, "2026-01-01T00:04:57Z");
	json_t *a2 = pod_version(POD_A, "2026-01-01T00:09:57Z");
	json_t *old, *want = kept_of(a1), *st_want;
	struct cluster_stats st;

	cluster_put(c, a1, NULL);
	cluster_put_statuses(c, a2, &old);
	st_want = json_pack("{s:O}", "containerStatuses", child2(want,
	    "status", "containerStatuses"));
	CHECK(json_equal(json_object_get(old, "status"), st_want));
	cluster_stats(c, &st);
	CHECK_INT(st.parsed, 0);
	json_decref(st_want);
	json_decref(old);
	json_decref(want);
	json_decref(a1);
	json_decref(a2);
	cluster_free(c);
}

/*
 * A reader of the kind and metadata alone (a decision's owner walk and
 * opt-in) gets them without the Pod materialized: its metadata text is
 * the only one parsed.  Materialized already (or while a decision's
 * reads are noted), it is the object cluster_get returns.
 */
TEST(metadata_alone_parses_the_metadata_text)
{
	struct cluster *c = cluster_new();
	json_t *a = pod_version(POD_A, "2026-01-01T00:04:57Z");
	json_t *want = kept_of(a), *m, *note = json_object();
	struct cluster_stats st;

	cluster_put(c, a, NULL);
	m = cluster_get_meta(c, "Pod", DEMO, POD_A);
	CHECK_STR(obj_kind(m), "Pod");
	CHECK(json_equal(json_object_get(m, "metadata"),
	    json_object_get(want, "metadata")));
	CHECK_INT(json_object_size(m), 2);	/* kind, metadata */
	cluster_stats(c, &st);
	/* the metadata text, the kind and namespace strings: no body, no
	   statuses (materialized, 5) */
	CHECK_INT(st.parsed, 3);
	CHECK_INT(st.materialized, 0);
	json_decref(m);
	CHECK(cluster_get_meta(c, "Pod", DEMO, "nope") == NULL);
	m = cluster_get_meta(c, "Pod", DEMO, POD_A);
	CHECK(m != cluster_get(c, "Pod", DEMO, POD_A));
	json_decref(m);
	m = cluster_get_meta(c, "Pod", DEMO, POD_A);
	CHECK(m == cluster_get(c, "Pod", DEMO, POD_A));
	json_decref(m);
	json_decref(cluster_remove(c, "Pod", DEMO, POD_A));
	cluster_put(c, a, NULL);
	cluster_record(c, note);
	m = cluster_get_meta(c, "Pod", DEMO, POD_A);
	CHECK(json_object_get(child2(note, "objects", "Pod/" DEMO "/" POD_A),
	    "metadata") != NULL);
	CHECK(m == cluster_get(c, "Pod", DEMO, POD_A));
	cluster_record(c, NULL);
	json_decref(m);
	json_decref(note);
	json_decref(want);
	json_decref(a);
	cluster_free(c);
}

static json_t *
fetch_seen(void *ctx, const char *api_version, const char *kind,
    const char *ns, const char *name)
{
	(void)kind;
	(void)ns;
	(void)name;
	json_object_set_new(ctx, "apiVersion", api_version ?
	    json_string(api_version) : json_null());
	return json_pack("{s:s}", "fetched", "yes");
}

/* A fetch reads the apiVersion off the body: nothing is materialized. */
TEST(fetch_of_a_compact_object_materializes_nothing)
{
	struct cluster *c = cluster_new();
	json_t *a = pod_version(POD_A, "2026-01-01T00:04:57Z");
	json_t *seen = json_object(), *w;
	struct cluster_stats st;

	json_object_set_new(a, "apiVersion", json_string("v1"));
	cluster_put(c, a, NULL);
	cluster_set_fetch(c, fetch_seen, seen);
	w = cluster_get_whole(c, "Pod", DEMO, POD_A);
	CHECK_STR(json_string_value(json_object_get(w, "fetched")), "yes");
	CHECK_STR(json_string_value(json_object_get(seen, "apiVersion")),
	    "v1");
	cluster_stats(c, &st);
	CHECK_INT(st.materialized, 0);
	json_decref(w);
	/* materialized already: its apiVersion, the same */
	(void)cluster_get(c, "Pod", DEMO, POD_A);
	json_object_clear(seen);
	w = cluster_get_whole(c, "Pod", DEMO, POD_A);
	CHECK_STR(json_string_value(json_object_get(seen, "apiVersion")),
	    "v1");
	json_decref(w);
	json_decref(seen);
	json_decref(a);
	cluster_free(c);
}

/*
 * A get's object shares the parsed trees with the view and with the
 * other objects of its texts: a reader that would change it changes a
 * copy (the plans copy), and nothing done to the copy reaches the view,
 * nor anything done to the object put after its put.
 */
TEST(a_readers_copy_never_reaches_the_view)
{
	struct cluster *c = cluster_new();
	json_t *a = pod_version(POD_A, "2026-01-01T00:04:57Z");
	json_t *b = pod_version(POD_B, "2026-01-01T00:04:57Z");
	json_t *want_a = kept_of(a), *want_b = kept_of(b), *copy, *ctr;
	int i;

	cluster_put(c, a, NULL);
	cluster_put(c, b, NULL);
	/* kind and namespace: one string each, shared */
	CHECK(json_object_get(cluster_get(c, "Pod", DEMO, POD_A), "kind") ==
	    json_object_get(cluster_get(c, "Pod", DEMO, POD_B), "kind"));
	CHECK(child2(cluster_get(c, "Pod", DEMO, POD_A), "metadata",
	    "namespace") == child2(cluster_get(c, "Pod", DEMO, POD_B),
	    "metadata", "namespace"));
	copy = json_deep_copy(cluster_get(c, "Pod", DEMO, POD_A));
	json_object_set_new(child2(copy, "metadata", "labels"), "app",
	    json_string("changed"));
	ctr = json_array_get(child2(copy, "spec", "containers"), 0);
	json_object_set_new(child2(ctr, "resources", "limits"), "memory",
	    json_string("1Gi"));
	json_array_clear(child2(copy, "status", "containerStatuses"));
	/* and the object put, after its put */
	json_object_set_new(child2(a, "metadata", "labels"), "app",
	    json_string("changed"));
	CHECK(json_equal(cluster_get(c, "Pod", DEMO, POD_B), want_b));
	/* materialized afresh: the cache emptied by puts of others */
	for (i = 0; i < 100; i++) {
		json_t *o;
		char name[32];

		snprintf(name, sizeof name, "other-%d", i);
		o = obj("Pod", "ns", name, NULL, NULL);
		cluster_put(c, o, NULL);
		CHECK(cluster_get(c, "Pod", "ns", name) != NULL);
		json_decref(o);
	}
	CHECK(json_equal(cluster_get(c, "Pod", DEMO, POD_A), want_a));
	CHECK(json_equal(cluster_get(c, "Pod", DEMO, POD_B), want_b));
	json_decref(copy);
	json_decref(want_a);
	json_decref(want_b);
	json_decref(a);
	json_decref(b);
	cluster_free(c);
}

/*
 * The parsed trees are bounded (CL_TREES_MAX trees, CL_TREES_BYTES of
 * text), the least recently read going first: the tree read just before
 * stays (a new tree is not the next to go; checked where a trim of the
 * materialized objects makes the view read it again), and what was
 * pushed out reads the same, parsed again.  A pod read all along reads
 * the same throughout; between trims its materialized object, not the
 * trees, holds its tree, so with as few trees as objects cached its
 * tree may be parsed again.
 */
TEST(parsed_trees_are_bounded)
{
	struct cluster *c = cluster_new();
	json_t *keep = obj("Pod", "ns", "keep", NULL, NULL), *labels, *want;
	json_t *prev = NULL;	/* the labels tree of the pod read last */
	struct cluster_stats st;
	/* large: the bytes bound holds them before the count does */
	char name[32], big[2 * CL_TREES_BYTES / CL_TREES_MAX];
	int i, ok = 1, n = CL_TREES_MAX + 100;	/* small texts, then large */

	json_object_set_new(json_object_get(keep, "metadata"), "labels",
	    json_pack("{s:s}", "app", "keep"));
	cluster_put(c, keep, NULL);
	/* a copy: the view's own tree may go */
	labels = json_deep_copy(child2(cluster_get(c, "Pod", "ns", "keep"),
	    "metadata", "labels"));
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	for (i = 0; i < n + 2000; i++) {
		json_t *o, *got;

		if (i == n) {	/* the count bound held them */
			cluster_stats(c, &st);
			CHECK_INT(st.parsed, CL_TREES_MAX);
		}
		snprintf(name, sizeof name, "p%d", i);
		o = obj("Pod", "ns", name, NULL, NULL);
		/* a metadata text of its own each */
		json_object_set_new(json_object_get(o, "metadata"), "labels",
		    json_pack("{s:s, s:s}", "app", name, "pad", i >= n ?
		    big : "x"));
		cluster_put(c, o, NULL);
		got = cluster_get(c, "Pod", "ns", name);
		want = kept_of(o);
		if (!json_equal(got, want))
			ok = 0;
		json_decref(want);
		json_decref(o);
		if (!json_equal(child2(cluster_get(c, "Pod", "ns", "keep"),
		    "metadata", "labels"), labels))
			ok = 0;
		if (prev != NULL) {	/* materialized again at a trim */
			snprintf(name, sizeof name, "p%d", i - 1);
			if (child2(cluster_get(c, "Pod", "ns", name),
			    "metadata", "labels") != prev)
				ok = 0;
		}
		prev = child2(got, "metadata", "labels");
		cluster_stats(c, &st);
		if (st.parsed > CL_TREES_MAX || st.parsed_bytes >
		    CL_TREES_BYTES)
			ok = 0;
	}
	CHECK(ok);
	cluster_stats(c, &st);
	CHECK(st.parsed < CL_TREES_MAX);	/* the bytes bound it now */
	CHECK(st.parsed_bytes > CL_TREES_BYTES - 2 * sizeof big);
	/* the first ones were pushed out: read again, the same */
	for (i = 0; i < 10; i++) {
		json_t *o, *got;

		snprintf(name, sizeof name, "p%d", i);
		o = obj("Pod", "ns", name, NULL, NULL);
		json_object_set_new(json_object_get(o, "metadata"), "labels",
		    json_pack("{s:s, s:s}", "app", name, "pad", "x"));
		got = cluster_get(c, "Pod", "ns", name);
		want = kept_of(o);
		CHECK(json_equal(got, want));
		json_decref(want);
		json_decref(o);
	}
	json_decref(labels);
	json_decref(keep);
	cluster_free(c);
}

/* A relist removes what it did not list again, of its kind only. */
TEST(relist_sweeps_what_was_not_listed)
{
	struct cluster *c = cluster_new();
	json_t *a = obj("Pod", "ns", "a", NULL, NULL);
	json_t *b = obj("Pod", "ns", "b", NULL, NULL);
	json_t *rs = obj("ReplicaSet", "ns", "rs", NULL, NULL);

	cluster_put(c, a, NULL);
	cluster_put(c, b, NULL);
	cluster_put(c, rs, NULL);
	CHECK_INT(cluster_relist_end(c, "Pod"), 0);	/* no beginning */
	cluster_relist_begin(c, "Pod");
	cluster_put(c, rs, NULL);	/* another kind, meanwhile */
	cluster_put(c, b, NULL);	/* listed again */
	CHECK_INT(cluster_relist_end(c, "Pod"), 1);
	CHECK(cluster_get(c, "Pod", "ns", "a") == NULL);
	CHECK(cluster_get(c, "Pod", "ns", "b") != NULL);
	CHECK(cluster_get(c, "ReplicaSet", "ns", "rs") != NULL);
	CHECK_INT(cluster_count(c, "Pod"), 1);
	json_decref(a);
	json_decref(b);
	json_decref(rs);
	cluster_free(c);
}

/* The same object by kind, namespace and name: the compact view hands out
 * projections, not the objects put. */
static int
same(json_t *a, json_t *b)
{
	return a && b && strcmp(obj_kind(a), obj_kind(b)) == 0 &&
	    strcmp(obj_name(a), obj_name(b)) == 0 &&
	    json_equal(json_object_get(json_object_get(a, "metadata"),
	    "namespace"), json_object_get(json_object_get(b, "metadata"),
	    "namespace"));
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
	CHECK(same(cluster_get(c, "Pod", "shop", "cart-7d-x"), pod));
	CHECK(same(cluster_top_controller(c, pod, &ref), dep));
	CHECK(cluster_get(c, "Pod", "shop", "missing") == NULL);
	CHECK_INT(cluster_count(c, "Pod"), 200);
	CHECK_INT(cluster_allocatable_memory(c), 0);
	cluster_record(c, NULL);
	CHECK(same(cluster_get(c, "Pod", "shop", "other"), other));

	objs = json_object_get(note, "objects");
	CHECK_INT(json_object_size(objs), 3);
	CHECK(same(json_object_get(objs, "Pod/shop/cart-7d-x"), pod));
	CHECK(same(json_object_get(objs, "ReplicaSet/shop/cart-7d"), rs));
	CHECK(same(json_object_get(objs, "Deployment/shop/cart"), dep));
	CHECK_INT(json_integer_value(json_object_get(json_object_get(note,
	    "counts"), "Pod")), 200);

	CHECK_INT(cluster_load_reads(r, note), 0);
	CHECK_INT(cluster_count(r, "Pod"), 200);
	CHECK(same(cluster_top_controller(r, pod, &ref), dep));
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

/* cl_join_texts on texts as given; want NULL: refused. */
static void
check_join(const char *body, const char *meta, const char *status,
    const char *name, const char *uid, const char *want)
{
	struct cl_join j;
	struct buf out;
	int rc;

	memset(&j, 0, sizeof j);
	buf_init(&out, 0);
	j.body = body;
	j.body_len = strlen(body);
	j.meta = meta;
	j.meta_len = strlen(meta);
	j.status = status;
	j.status_len = status ? strlen(status) : 0;
	j.kind = "Pod";
	j.name = name;
	j.ns = "s";
	j.uid = uid;
	rc = cl_join_texts(&out, &j);
	if (want == NULL)
		CHECK_INT(rc, -1);
	else {
		CHECK_INT(rc, 0);
		CHECK_STR(out.data, want);
	}
	buf_free(&out);
}

/*
 * Joining a record's texts: the members materialize() would build, in
 * its order, values copied as written; anything it would build
 * otherwise (a member it replaces, a text that does not scan) refused.
 */
TEST(joined_texts_are_the_materialized_object)
{
	/* braces and quotes inside strings, the status merged in place */
	check_join("{\"a\":\"x}\\\"y{\",\"b\":[1.5,true,null,-2e3,{}],"
	    "\"status\":{\"phase\":\"R\"}}", "{\"labels\":{\"k\":\"v\"}}",
	    "{\"containerStatuses\":[{\"name\":\"c\"}]}", "n", "u",
	    "{\"a\":\"x}\\\"y{\",\"b\":[1.5,true,null,-2e3,{}],\"status\":"
	    "{\"phase\":\"R\",\"containerStatuses\":[{\"name\":\"c\"}]},"
	    "\"kind\":\"Pod\",\"metadata\":{\"labels\":{\"k\":\"v\"},"
	    "\"name\":\"n\",\"namespace\":\"s\",\"uid\":\"u\"}}");
	/* no status in the body: it comes last, as materialize adds it */
	check_join("{\"spec\":{}}", "{}", "{\"containerStatuses\":[]}", "n",
	    NULL, "{\"spec\":{},\"kind\":\"Pod\",\"metadata\":{\"name\":\"n\","
	    "\"namespace\":\"s\"},\"status\":{\"containerStatuses\":[]}}");
	/* an empty status object in the body */
	check_join("{\"status\":{}}", "{}", "{\"containerStatuses\":[]}",
	    "n", NULL, "{\"status\":{\"containerStatuses\":[]},\"kind\":"
	    "\"Pod\",\"metadata\":{\"name\":\"n\",\"namespace\":\"s\"}}");
	check_join("{}", "{}", NULL, "n", NULL, "{\"kind\":\"Pod\","
	    "\"metadata\":{\"name\":\"n\",\"namespace\":\"s\"}}");
	/* a body status and no statuses text: the body's, as it is */
	check_join("{\"status\":\"odd\"}", "{}", NULL, "n", NULL,
	    "{\"status\":\"odd\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
	    "\"n\",\"namespace\":\"s\"}}");

	/* members materialize would replace */
	check_join("{\"kind\":\"X\"}", "{}", NULL, "n", NULL, NULL);
	check_join("{\"metadata\":{}}", "{}", NULL, "n", NULL, NULL);
	check_join("{}", "{\"name\":\"x\"}", NULL, "n", NULL, NULL);
	check_join("{}", "{\"uid\":\"x\"}", NULL, "n", "u", NULL);
	check_join("{\"status\":\"s\"}", "{}", "{\"containerStatuses\":[]}",
	    "n", NULL, NULL);
	check_join("{\"status\":{\"containerStatuses\":1}}", "{}",
	    "{\"containerStatuses\":[]}", "n", NULL, NULL);
	/* texts that do not scan, an identity outside ASCII */
	check_join("{\"a\":", "{}", NULL, "n", NULL, NULL);
	check_join("{\"a\":1}x", "{}", NULL, "n", NULL, NULL);
	check_join("{\"a\":1,}", "{}", NULL, "n", NULL, NULL);
	check_join("{\"a\" :1}", "{}", NULL, "n", NULL, NULL);
	check_join("[1]", "{}", NULL, "n", NULL, NULL);
	check_join("{\"a\":\"open}", "{}", NULL, "n", NULL, NULL);
	check_join("{\"a\":[1}", "{}", NULL, "n", NULL, NULL);
	check_join("{\"a\":}", "{}", NULL, "n", NULL, NULL);
	check_join("{\"a\":1,\"b\":}", "{}", NULL, "n", NULL, NULL);
	check_join("{}", "{}", "[]", "n", NULL, NULL);
	check_join("{}", "{}", NULL, "caf\xc3\xa9", NULL, NULL);
}

/*
 * The objects a decision read have texts for its note: each the object's
 * dump byte for byte, for pods with and without statuses, workloads,
 * owners' name prefixes, uids of both forms and none, and cluster-scoped
 * Nodes.  Only what the view noted since the last record and put is
 * answered.  (test_audit writes a whole note with them.)
 */
TEST(noted_objects_are_written_from_their_texts)
{
	struct cluster *c = cluster_new();
	json_t *objs[10], *note = json_object(), *got, *st, *tree;
	struct objref ref = { NULL, NULL, NULL };
	const char *text;
	char *plain;
	size_t i, n = 0, len;

	objs[n++] = real_pod();
	objs[n] = json_deep_copy(objs[0]);	/* statuses only, text uid */
	st = json_object_get(objs[n], "status");
	json_object_del(st, "phase");
	json_object_set_new(json_object_get(objs[n], "metadata"), "uid",
	    json_string("uid-p-web-0"));
	json_object_set_new(json_object_get(objs[n], "metadata"), "name",
	    json_string("statuses-only"));
	n++;
	objs[n] = json_deep_copy(objs[0]);	/* no status, no uid */
	json_object_del(objs[n], "status");
	json_object_del(json_object_get(objs[n], "metadata"), "uid");
	json_object_set_new(json_object_get(objs[n], "metadata"), "name",
	    json_string("no-status"));
	n++;
	objs[n++] = obj("Pod", "shop", "cart-7d-x", "ReplicaSet", "cart-7d");
	objs[n++] = obj("ReplicaSet", "shop", "cart-7d", "Deployment", "cart");
	objs[n++] = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:{s:i}}",
	    "kind", "Deployment", "apiVersion", "apps/v1", "metadata", "name",
	    "cart", "namespace", "shop", "labels", "app", "cart", "spec",
	    "replicas", 3);
	objs[n++] = node("n1", "8Gi");
	objs[n++] = json_pack("{s:s, s:{s:s}}", "kind", "Namespace",
	    "metadata", "name", "shop");	/* kept whole: no text */
	for (i = 0; i < n; i++)
		CHECK_INT(cluster_put(c, objs[i], NULL), 0);
	cluster_record(c, note);
	for (i = 0; i < n; i++) {
		got = cluster_get(c, obj_kind(objs[i]), obj_namespace(objs[i]),
		    obj_name(objs[i]));
		CHECK(got != NULL);
		text = cluster_noted_text(c, got, &len);
		if (strcmp(obj_kind(objs[i]), "Namespace") == 0) {
			CHECK(text == NULL);
			continue;
		}
		CHECK(text != NULL);
		if (text == NULL)
			continue;
		CHECK_INT(strlen(text), len);
		/* jansson's order is insertion order, as jp_dump's */
		plain = json_dumps(got, JSON_COMPACT);
		CHECK_STR(text, plain);
		free(plain);
	}
	CHECK(cluster_top_controller(c, objs[3], &ref) != NULL);
	/* an object read again takes no second place: one read after many
	   rereads is still answered */
	cluster_record(c, note);
	for (i = 0; i < 40; i++)
		(void)cluster_get(c, "Pod", "shop", "cart-7d-x");
	got = cluster_get(c, "Deployment", "shop", "cart");
	CHECK(cluster_noted_text(c, got, &len) != NULL);

	/* not the view's, or no longer current */
	tree = json_deep_copy(cluster_get(c, "Pod", "shop", "cart-7d-x"));
	CHECK(cluster_noted_text(c, tree, &len) == NULL);
	json_decref(tree);
	got = cluster_get(c, "Deployment", "shop", "cart");
	CHECK_INT(cluster_put(c, objs[6], NULL), 0);	/* one replaced */
	CHECK(cluster_noted_text(c, got, &len) == NULL);
	cluster_record(c, NULL);
	got = cluster_get(c, "Deployment", "shop", "cart");
	CHECK(cluster_noted_text(c, got, &len) == NULL);	/* not noted */
	for (i = 0; i < n; i++)
		json_decref(objs[i]);
	objref_clear(&ref);
	json_decref(note);
	cluster_free(c);
}

int
main(void)
{
	RUN(put_get_replace_remove);
	RUN(many_objects_survive_growth);
	RUN(refuses_objects_without_identity);
	RUN(top_controller_through_replicaset);
	RUN(owner_walk_reads_each_version_of_an_owner);
	RUN(workload_pods);
	RUN(allocatable_memory_follows_nodes);
	RUN(compact_keeps_what_remediate_reads);
	RUN(whole_kinds_keep_every_field);
	RUN(pods_of_a_replicaset_share_one_shape);
	RUN(cluster_key_joins_kind_namespace_name);
	RUN(pod_names_share_their_owners_name);
	RUN(texts_pack_to_themselves);
	RUN(texts_pack_runs_and_fragments_at_their_edges);
	RUN(old_object_keeps_container_statuses);
	RUN(put_statuses_returns_the_statuses_only);
	RUN(texts_written_are_the_projections);
	RUN(parsed_texts_never_outlive_their_string);
	RUN(materialized_cache_is_bounded);
	RUN(versions_share_their_parsed_texts);
	RUN(statuses_read_at_a_put_are_not_kept);
	RUN(metadata_alone_parses_the_metadata_text);
	RUN(fetch_of_a_compact_object_materializes_nothing);
	RUN(a_readers_copy_never_reaches_the_view);
	RUN(parsed_trees_are_bounded);
	RUN(relist_sweeps_what_was_not_listed);
	RUN(records_reads_and_rebuilds_from_them);
	RUN(joined_texts_are_the_materialized_object);
	RUN(noted_objects_are_written_from_their_texts);
	return harness_done();
}
