/*
 * Signals: OOM kills detected from Pod status transitions, resource
 * sources' filters, event shapes, recordings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "signal/signal.h"

/* A Pod whose container "app" last terminated at finished (or never). */
static json_t *
pod(const char *finished, int restarts, const char *reason)
{
	json_t *p = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:{s:[{s:s, "
	    "s:{s:{s:s}}}]}, s:{s:[{s:s, s:i}]}}",
	    "apiVersion", "v1", "kind", "Pod",
	    "metadata", "name", "cart-7d9f8-x2x9q", "namespace", "shop",
	    "uid", "u1",
	    "spec", "containers", "name", "app", "resources", "limits",
	    "memory", "512Mi",
	    "status", "containerStatuses", "name", "app",
	    "restartCount", restarts);

	if (finished)
		json_object_set_new(json_array_get(json_object_get(
		    json_object_get(p, "status"), "containerStatuses"), 0),
		    "lastState", json_pack("{s:{s:s, s:i, s:s}}", "terminated",
		    "reason", reason, "exitCode", 137, "finishedAt", finished));
	return p;
}

TEST(oom_new_kill_synthesizes_event)
{
	json_t *a = pod(NULL, 0, NULL);
	json_t *b = pod("2026-11-25T10:00:00Z", 1, "OOMKilled");
	json_t *ev, *out;

	CHECK(a != NULL && b != NULL);
	out = sig_oom_detect(a, b);
	CHECK_INT(json_array_size(out), 1);
	ev = json_array_get(out, 0);
	CHECK_STR(json_string_value(json_object_get(ev, "reason")),
	    "OOMKilled");
	CHECK_STR(json_string_value(json_object_get(ev, "kind")), "Event");
	CHECK_STR(json_string_value(json_object_get(json_object_get(ev,
	    "involvedObject"), "name")), "cart-7d9f8-x2x9q");
	CHECK_STR(json_string_value(json_object_get(ev, "lastTimestamp")),
	    "2026-11-25T10:00:00Z");
	CHECK_STR(json_string_value(json_object_get(ev, "message")),
	    "Container app was OOM-killed (exit code 137, restart count 1, "
	    "memory limit 512Mi)");
	json_decref(out);
	json_decref(a);
	json_decref(b);
}

TEST(oom_not_new)
{
	json_t *k1 = pod("2026-11-25T10:00:00Z", 1, "OOMKilled");
	json_t *k1b = pod("2026-11-25T10:00:00Z", 1, "OOMKilled");
	json_t *k2 = pod("2026-11-25T10:03:00Z", 2, "OOMKilled");
	json_t *err = pod("2026-11-25T10:04:00Z", 3, "Error");
	json_t *out;

	/* first sight of a pod that was killed before: history */
	out = sig_oom_detect(NULL, k1);
	CHECK_INT(json_array_size(out), 0);
	json_decref(out);
	/* the same kill observed twice (a resync) */
	out = sig_oom_detect(k1, k1b);
	CHECK_INT(json_array_size(out), 0);
	json_decref(out);
	/* a second kill is new */
	out = sig_oom_detect(k1, k2);
	CHECK_INT(json_array_size(out), 1);
	json_decref(out);
	/* a termination for another reason is not an OOM kill */
	out = sig_oom_detect(k2, err);
	CHECK_INT(json_array_size(out), 0);
	json_decref(out);
	/*
	 * another Pod under the same name (recreated while the watch was
	 * down) already carrying a kill: first sight of it, history
	 */
	json_object_set_new(json_object_get(k2, "metadata"), "uid",
	    json_string("u2"));
	out = sig_oom_detect(k1, k2);
	CHECK_INT(json_array_size(out), 0);
	json_decref(out);
	json_decref(k1);
	json_decref(k1b);
	json_decref(k2);
	json_decref(err);
}

TEST(object_time)
{
	json_t *e = json_loads("{\"eventTime\":\"2026-11-25T10:00:00.5Z\","
	    "\"firstTimestamp\":\"2026-11-25T09:00:00Z\"}", 0, NULL);
	int64_t ms = 0, want = 0;

	CHECK(sig_object_time(e, &ms) == 0);
	CHECK_INT(ms % 1000, 500);
	json_decref(e);
	e = json_loads("{\"kind\":\"Pod\"}", 0, NULL);
	CHECK(sig_object_time(e, &ms) == -1);
	json_decref(e);
	/*
	 * An Event is never dated by its arrival: without a readable time of
	 * its own it is as old as its creation, and without that, undated
	 * (0), which the stale check stops.
	 */
	e = json_loads("{\"kind\":\"Event\",\"lastTimestamp\":\"Tue, 25 "
	    "Nov 2026 09:00:00 GMT\",\"metadata\":{\"creationTimestamp\":"
	    "\"2026-11-25T09:00:00Z\"}}", 0, NULL);
	CHECK(sig_object_time(e, &ms) == 0);
	CHECK(time_parse("2026-11-25T09:00:00Z", &want) == 0);
	CHECK_INT(ms, want);
	json_decref(e);
	e = json_loads("{\"kind\":\"Event\",\"metadata\":{}}", 0, NULL);
	ms = 1;
	CHECK(sig_object_time(e, &ms) == 0);
	CHECK_INT(ms, 0);
	json_decref(e);
}

TEST(watch_type_names)
{
	CHECK(sig_watch_type_parse("ADDED") == SIG_ADD);
	CHECK(sig_watch_type_parse("MODIFIED") == SIG_UPDATE);
	CHECK(sig_watch_type_parse("DELETE") == SIG_DELETE);
	CHECK(sig_watch_type_parse("BOOKMARK") == 0);
	CHECK(sig_watch_type_parse(NULL) == 0);
}

TEST(alert_subject_and_time)
{
	struct event ev;

	memset(&ev, 0, sizeof ev);
	ev.data = json_loads("{\"body\":{\"status\":\"firing\",\"labels\":{"
	    "\"namespace\":\"shop\",\"pod\":\"cart-1\"},\"startsAt\":"
	    "\"2026-11-25T10:00:00Z\"}}", 0, NULL);
	sig_event_infer(&ev);
	CHECK_STR(ev.subject.kind, "Pod");
	CHECK_STR(ev.subject.namespace, "shop");
	CHECK_STR(ev.subject.name, "cart-1");
	CHECK(ev.time > 0);
	event_clear(&ev);
	/* resolved: as fresh as its end; a node alert names the Node */
	memset(&ev, 0, sizeof ev);
	ev.data = json_loads("{\"body\":{\"status\":\"resolved\","
	    "\"labels\":{\"node\":\"n1\"},\"startsAt\":"
	    "\"2026-11-25T10:00:00Z\",\"endsAt\":\"2026-11-25T10:05:00Z\"}}",
	    0, NULL);
	sig_event_infer(&ev);
	CHECK_STR(ev.subject.kind, "Node");
	CHECK(ev.subject.namespace == NULL);
	CHECK_INT(ev.time % 3600000, 5 * 60000);
	event_clear(&ev);
}

/* A recording file of the tests' own (path: a mkstemp template). */
static FILE *
recording_file(char *path)
{
	return fdopen(mkstemp(path), "w");
}

TEST(recording_latest_at_or_before)
{
	char path[] = "/tmp/remediate-rec-XXXXXX";
	FILE *f = recording_file(path);
	struct diags dg;
	struct sig_recording *r;
	double v;
	int64_t at, t0;

	fprintf(f, "{\"time\":\"2026-11-25T10:00:00Z\",\"query\":\"q\","
	    "\"value\":0.5}\n\n{\"time\":\"2026-11-25T10:05:00Z\","
	    "\"query\":\"q\",\"value\":0.1}\n");
	fclose(f);
	diag_init(&dg);
	r = sig_recording_load(path, &dg);
	CHECK(r != NULL);
	time_parse("2026-11-25T10:00:00Z", &t0);
	CHECK(sig_recording_query(r, "q", t0 - 1, &v, &at) == -1);
	CHECK(sig_recording_query(r, "q", t0 + 60000, &v, &at) == 0 &&
	    v == 0.5 && at == t0);
	CHECK(sig_recording_query(r, "q", t0 + 300000, &v, &at) == 0 &&
	    v == 0.1);
	CHECK(sig_recording_query(r, "other", t0 + 300000, &v, &at) == -1);
	sig_recording_free(r);
	/* a bad line names its place */
	f = fopen(path, "w");
	fprintf(f, "{\"time\":\"2026-11-25T10:00:00Z\",\"query\":\"q\","
	    "\"value\":1}\n{\"time\":\"yesterday\",\"query\":\"q\","
	    "\"value\":1}\n");
	fclose(f);
	CHECK(sig_recording_load(path, &dg) == NULL);
	CHECK_INT(dg.errors, 1);
	CHECK(dg.n == 1 && dg.v[0].line == 2);
	diag_free(&dg);
	remove(path);
}

/*
 * Each query is its own series, found by its text among many (a
 * recording per namespace), its samples interleaved with the others'.
 */
TEST(recording_of_many_queries)
{
	char path[] = "/tmp/remediate-rec-XXXXXX";
	FILE *f = recording_file(path);
	int i, ok = 1;
	char q[64];
	struct diags dg;
	double v;
	int64_t at, t0;
	struct sig_recording *r;

	for (i = 0; i < 3000; i++)
		fprintf(f, "{\"time\":\"2026-11-25T10:0%d:00Z\",\"query\":"
		    "\"budget{ns=\\\"team-%d\\\"}\",\"value\":%d}\n", i / 1000,
		    i % 1000, i);
	fclose(f);
	diag_init(&dg);
	r = sig_recording_load(path, &dg);
	CHECK(r != NULL);
	time_parse("2026-11-25T10:00:00Z", &t0);
	for (i = 0; i < 1000; i++) {
		snprintf(q, sizeof q, "budget{ns=\"team-%d\"}", i);
		ok &= sig_recording_query(r, q, t0 + 60000, &v, &at) == 0 &&
		    v == 1000 + i && at == t0 + 60000;
		ok &= sig_recording_query(r, q, t0 + 600000, &v, &at) == 0 &&
		    v == 2000 + i;
		ok &= sig_recording_query(r, q, t0, &v, &at) == 0 && v == i;
	}
	CHECK(ok);
	CHECK(sig_recording_query(r, "budget{ns=\"team-1000\"}", t0, &v,
	    &at) == -1);
	CHECK(sig_recording_query(r, "budget", t0, &v, &at) == -1);
	CHECK(sig_recording_query(NULL, "budget", t0, &v, &at) == -1);
	sig_recording_free(r);
	diag_free(&dg);
	remove(path);
}

/*
 * An intake row's text is written without the tree: the same bytes as
 * json_dumps(event_json(ev), JSON_COMPACT), members present or absent;
 * text outside ASCII is refused for the caller's jansson path; and a
 * scratch area too small overflows rather than growing.
 */
TEST(event_written_as_dumped)
{
	struct event ev;
	struct buf b;
	char mem[4096], tiny[16], *want;
	char id[] = "a\"b\\c\n", kind[] = "Pod", ns[] = "shop";
	char name[] = "cart-1";
	json_t *j;
	int k, rc;

	for (k = 0; k < 4; k++) {
		memset(&ev, 0, sizeof ev);
		ev.source = "alerts";
		ev.name = k == 3 ? "caf\xc3\xa9" : "oom";
		ev.type = "webhook";
		ev.time = 1795600800123LL + k;
		ev.id = k & 1 ? id : NULL;
		ev.data = k ? json_pack("{s:[i, f, n, b], s:{s:s}}", "alerts",
		    -3, 0.5, 1, "labels", "pod", "cart-1") : NULL;
		ev.subject.kind = k >= 1 ? kind : NULL;
		ev.subject.namespace = k == 2 ? NULL : ns;
		ev.subject.name = k >= 1 ? name : NULL;
		buf_init_on(&b, mem, sizeof mem);
		rc = event_write(&b, &ev);
		j = event_json(&ev);
		want = json_dumps(j, JSON_COMPACT);
		if (k == 3)
			CHECK(rc == -1);
		else
			CHECK(rc == 0 && !b.overflow && strcmp(mem, want) == 0);
		buf_init_on(&b, tiny, sizeof tiny);
		(void)event_write(&b, &ev);	/* 0 or -1: overflowed */
		CHECK(k == 3 || (b.overflow && b.data == tiny &&
		    b.len == sizeof tiny - 1 &&
		    strncmp(tiny, want, sizeof tiny - 1) == 0));
		free(want);
		json_decref(j);
		json_decref(ev.data);
	}
}

/* What sig_oom_detect(old, pod) gives, as compact text. */
static void
check_detected(json_t *old, json_t *pod, const char *want)
{
	json_t *out = sig_oom_detect(old, pod);
	char *s = json_dumps(out, JSON_COMPACT);

	CHECK_STR(s, want);
	free(s);
	json_decref(out);
}

/*
 * The synthesized Event whole, member for member and in order (sensors'
 * paths and templates read it, and a record's inputs show it): a
 * container's kill with every member, and an init container's in a Pod
 * with no namespace, uid, exit code, memory limit or finish time, whose
 * members json_pack's "s*" left out.
 */
TEST(oom_event_whole)
{
	json_t *old = json_loads("{\"status\":{\"containerStatuses\":[{"
	    "\"name\":\"app\"}],\"initContainerStatuses\":[{\"name\":"
	    "\"init\"}]}}", 0, NULL);
	json_t *b = pod("2026-11-25T10:00:00Z", 4, "OOMKilled");
	json_t *bare = json_loads("{\"kind\":\"Pod\",\"metadata\":{\"name\":"
	    "\"solo\"},\"spec\":{\"initContainers\":[{\"name\":\"init\"}]},"
	    "\"status\":{\"initContainerStatuses\":[{\"name\":\"init\","
	    "\"restartCount\":2,\"lastState\":{\"terminated\":{\"reason\":"
	    "\"OOMKilled\"}}}]}}", 0, NULL);
	json_t *out;
	char lname[400], want[600];

	REQUIRE(old != NULL && b != NULL && bare != NULL);
	check_detected(old, b, "[{\"apiVersion\":\"v1\",\"kind\":\"Event\","
	    "\"metadata\":{\"name\":\"cart-7d9f8-x2x9q.oom.48c4d084de4a\","
	    "\"namespace\":\"shop\"},\"involvedObject\":{\"apiVersion\":"
	    "\"v1\",\"kind\":\"Pod\",\"name\":\"cart-7d9f8-x2x9q\","
	    "\"namespace\":\"shop\",\"uid\":\"u1\",\"fieldPath\":"
	    "\"spec.containers{app}\"},\"reason\":\"OOMKilled\",\"message\":"
	    "\"Container app was OOM-killed (exit code 137, restart count 4, "
	    "memory limit 512Mi)\",\"type\":\"Warning\",\"source\":{"
	    "\"component\":\"remediate-oom-detector\"},\"reportingComponent\":"
	    "\"remediate.dev/oom-detector\",\"firstTimestamp\":"
	    "\"2026-11-25T10:00:00Z\",\"lastTimestamp\":"
	    "\"2026-11-25T10:00:00Z\",\"count\":1}]");
	check_detected(old, bare, "[{\"apiVersion\":\"v1\",\"kind\":\"Event\","
	    "\"metadata\":{\"name\":\"solo.oom.5e85dabd92cc\"},"
	    "\"involvedObject\":{"
	    "\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"name\":\"solo\","
	    "\"fieldPath\":\"spec.initContainers{init}\"},\"reason\":"
	    "\"OOMKilled\",\"message\":\"Container init was OOM-killed (exit "
	    "code 137, restart count 2, memory limit none)\",\"type\":"
	    "\"Warning\",\"source\":{\"component\":"
	    "\"remediate-oom-detector\"},\"reportingComponent\":"
	    "\"remediate.dev/oom-detector\",\"count\":1}]");
	/* texts longer than any real one are whole all the same */
	memset(lname, 'c', sizeof lname - 1);
	lname[sizeof lname - 1] = '\0';
	json_object_set_new(json_array_get(json_object_get(json_object_get(
	    bare, "status"), "initContainerStatuses"), 0), "name",
	    json_string(lname));
	json_object_set_new(json_array_get(json_object_get(json_object_get(
	    old, "status"), "initContainerStatuses"), 0), "name",
	    json_string(lname));
	out = sig_oom_detect(old, bare);
	snprintf(want, sizeof want, "Container %s was OOM-killed (exit code "
	    "137, restart count 2, memory limit none)", lname);
	CHECK_STR(json_string_value(json_object_get(json_array_get(out, 0),
	    "message")), want);
	snprintf(want, sizeof want, "spec.initContainers{%s}", lname);
	CHECK_STR(json_string_value(json_object_get(json_object_get(
	    json_array_get(out, 0), "involvedObject"), "fieldPath")), want);
	json_decref(out);
	json_decref(old);
	json_decref(b);
	json_decref(bare);
}

/*
 * The Event holds the Pod's own strings (a reference each, not a copy),
 * but a string with a NUL inside is cut there, as its C string was read.
 */
TEST(oom_event_shares_the_pods_strings)
{
	json_t *old = pod(NULL, 0, NULL);
	json_t *b = pod("2026-11-25T10:00:00Z", 1, "OOMKilled");
	json_t *meta = json_object_get(b, "metadata"), *out, *ev, *io;

	REQUIRE(old != NULL && b != NULL);
	out = sig_oom_detect(old, b);
	ev = json_array_get(out, 0);
	io = json_object_get(ev, "involvedObject");
	CHECK(json_object_get(io, "name") == json_object_get(meta, "name"));
	CHECK(json_object_get(io, "uid") == json_object_get(meta, "uid"));
	CHECK(json_object_get(json_object_get(ev, "metadata"), "namespace") ==
	    json_object_get(meta, "namespace"));
	json_decref(out);
	json_object_set_new(meta, "namespace", json_stringn("sh\0op", 5));
	out = sig_oom_detect(old, b);
	io = json_object_get(json_array_get(out, 0), "involvedObject");
	CHECK_INT(json_string_length(json_object_get(io, "namespace")), 2);
	CHECK_STR(json_string_value(json_object_get(io, "namespace")), "sh");
	json_decref(out);
	json_decref(old);
	json_decref(b);
}

/* What a route emitted: the event's members as text. */
struct routed {
	int	 n;
	char	*text;		/* owned: the last event, as event_json */
};

static void
on_routed(void *ctx, struct event *ev)
{
	struct routed *r = ctx;
	json_t *j = event_json(ev);

	r->n++;
	free(r->text);
	r->text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
}

/*
 * A synthesized Event routed to the seed's source (core/v1 events, ADD,
 * reason == OOMKilled) whole: the id, the time from its lastTimestamp,
 * the {"type","body"} payload and the involved object as subject; a Pod
 * or an UPDATE reaches no such source.
 */
TEST(route_event_whole)
{
	struct mdoc d;
	struct diags dg;
	struct sig_set *set = sig_set_new();
	struct routed r = { 0, NULL };
	json_t *old = json_loads("{\"status\":{\"containerStatuses\":[{"
	    "\"name\":\"app\"}]}}", 0, NULL);
	json_t *b = pod("2026-11-25T10:00:00Z", 1, "OOMKilled"), *kills;

	memset(&d, 0, sizeof d);
	d.name = "oomkilled-events";
	d.root = json_loads("{\"spec\":{\"resource\":{\"oom-events\":{"
	    "\"group\":\"\",\"version\":\"v1\",\"resource\":\"events\","
	    "\"eventTypes\":[\"ADD\"],\"filter\":{\"fields\":[{\"key\":"
	    "\"reason\",\"value\":\"OOMKilled\",\"operation\":\"==\"}]}}}}}",
	    0, NULL);
	diag_init(&dg);
	REQUIRE(d.root != NULL && old != NULL && b != NULL);
	/* an exit code of its own is carried, not the usual 137 */
	json_object_set_new(json_object_get(json_object_get(json_array_get(
	    json_object_get(json_object_get(b, "status"),
	    "containerStatuses"), 0), "lastState"), "terminated"), "exitCode",
	    json_integer(143));
	CHECK(sig_set_add(set, &d, &dg) == 0);
	kills = sig_oom_detect(old, b);
	sig_route_watch(set, SIG_ADD, json_array_get(kills, 0), 7, on_routed,
	    &r);
	CHECK_INT(r.n, 1);
	CHECK_STR(r.text, "{\"source\":\"oomkilled-events\",\"name\":"
	    "\"oom-events\",\"type\":\"resource\",\"id\":"
	    "\"a02b90fcde4d2092c4032d383823e5e2\",\"time\":1795600800000,"
	    "\"data\":{\"type\":\"ADD\",\"body\":{\"apiVersion\":\"v1\","
	    "\"kind\":\"Event\",\"metadata\":{\"name\":"
	    "\"cart-7d9f8-x2x9q.oom.48c4d084de4a\",\"namespace\":\"shop\"},"
	    "\"involvedObject\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
	    "\"name\":\"cart-7d9f8-x2x9q\",\"namespace\":\"shop\",\"uid\":"
	    "\"u1\",\"fieldPath\":\"spec.containers{app}\"},\"reason\":"
	    "\"OOMKilled\",\"message\":\"Container app was OOM-killed (exit "
	    "code 143, restart count 1, memory limit 512Mi)\",\"type\":"
	    "\"Warning\",\"source\":{\"component\":"
	    "\"remediate-oom-detector\"},\"reportingComponent\":"
	    "\"remediate.dev/oom-detector\",\"firstTimestamp\":"
	    "\"2026-11-25T10:00:00Z\",\"lastTimestamp\":"
	    "\"2026-11-25T10:00:00Z\",\"count\":1}},\"subject\":{\"kind\":"
	    "\"Pod\",\"namespace\":\"shop\",\"name\":\"cart-7d9f8-x2x9q\"}}");
	sig_route_watch(set, SIG_UPDATE, json_array_get(kills, 0), 7,
	    on_routed, &r);
	sig_route_watch(set, SIG_ADD, b, 7, on_routed, &r);
	CHECK_INT(r.n, 1);
	free(r.text);
	json_decref(kills);
	sig_set_free(set);
	json_decref(d.root);
	diag_free(&dg);
	json_decref(old);
	json_decref(b);
}

static void
on_source(void *ctx, struct event *ev)
{
	struct buf *b = ctx;

	buf_adds(b, ev->name);
	buf_addc(b, ' ');
}

/*
 * A Kind reaches the source of its plural as discovery names built-ins:
 * -ies after a consonant's y, -es after s, x, ch and sh, endpoints as it
 * is, a Kind too long for a plural as it is; apiVersion's group must be
 * the source's.
 */
TEST(route_by_plural)
{
	static const char *const kinds[][2] = {
		{ "Deployment", "deployments " },
		{ "NetworkPolicy", "policies " },
		{ "Gateway", "gateways " }, { "Ingress", "ingresses " },
		{ "Box", "boxes " }, { "Patch", "patches " },
		{ "Mesh", "meshes " }, { "Moth", "moths " },
		{ "Endpoints", "endpoints " }, { "", "" }, { "y", "ys " },
	};
	char long_kind[200];
	struct mdoc d;
	struct diags dg;
	struct sig_set *set = sig_set_new();
	struct buf b;
	json_t *o;
	size_t i;

	memset(&d, 0, sizeof d);
	d.name = "es";
	d.root = json_loads("{\"spec\":{\"resource\":{"
	    "\"deployments\":{\"group\":\"apps\",\"resource\":\"deployments\"},"
	    "\"policies\":{\"group\":\"networking.k8s.io\",\"resource\":"
	    "\"networkpolicies\"},\"gateways\":{\"resource\":\"gateways\"},"
	    "\"ingresses\":{\"resource\":\"ingresses\"},"
	    "\"boxes\":{\"resource\":\"boxes\"},"
	    "\"patches\":{\"resource\":\"patches\"},"
	    "\"meshes\":{\"resource\":\"meshes\"},"
	    "\"moths\":{\"resource\":\"moths\"},"
	    "\"endpoints\":{\"resource\":\"endpoints\"},"
	    "\"ys\":{\"resource\":\"ys\"}}}}", 0, NULL);
	diag_init(&dg);
	buf_init(&b, 0);
	REQUIRE(d.root != NULL);
	/* a resource of 159 K's: what a longer Kind is cut to */
	memset(long_kind, 'K', 159);
	long_kind[159] = '\0';
	json_object_set_new(json_object_get(json_object_get(d.root, "spec"),
	    "resource"), "long", json_pack("{s:s}", "resource", long_kind));
	CHECK(sig_set_add(set, &d, &dg) == 0);
	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		o = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", i == 0 ?
		    "apps/v1" : i == 1 ? "networking.k8s.io/v1" : "v1", "kind",
		    kinds[i][0], "metadata", "name", "x");
		buf_reset(&b);
		sig_route_watch(set, SIG_ADD, o, 7, on_source, &b);
		CHECK_STR(b.data ? b.data : "", kinds[i][1]);
		json_decref(o);
	}
	/* the group is the apiVersion's: a Deployment of another is not */
	o = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "extensions/v1",
	    "kind", "Deployment", "metadata", "name", "x");
	buf_reset(&b);
	sig_route_watch(set, SIG_ADD, o, 7, on_source, &b);
	CHECK_STR(b.data ? b.data : "", "");
	json_decref(o);
	/*
	 * A Kind of 124 bytes or more has no plural: it is compared as it is
	 * (not lower-cased), cut to 159 bytes; 123 K's are a plural.
	 */
	memset(long_kind, 'K', 175);
	long_kind[175] = '\0';
	o = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind",
	    long_kind, "metadata", "name", "x");
	buf_reset(&b);
	sig_route_watch(set, SIG_ADD, o, 7, on_source, &b);
	CHECK_STR(b.data ? b.data : "", "long ");
	long_kind[123] = '\0';
	json_object_set_new(o, "kind", json_string(long_kind));
	buf_reset(&b);
	sig_route_watch(set, SIG_ADD, o, 7, on_source, &b);
	CHECK_STR(b.data ? b.data : "", "");
	json_decref(o);
	buf_free(&b);
	sig_set_free(set);
	json_decref(d.root);
	diag_free(&dg);
}

int
main(void)
{
	RUN(oom_new_kill_synthesizes_event);
	RUN(oom_not_new);
	RUN(object_time);
	RUN(watch_type_names);
	RUN(alert_subject_and_time);
	RUN(recording_latest_at_or_before);
	RUN(recording_of_many_queries);
	RUN(event_written_as_dumped);
	RUN(oom_event_whole);
	RUN(oom_event_shares_the_pods_strings);
	RUN(route_event_whole);
	RUN(route_by_plural);
	return harness_done();
}
