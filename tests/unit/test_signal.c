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
	json_decref(k1);
	json_decref(k1b);
	json_decref(k2);
	json_decref(err);
}

TEST(object_time)
{
	json_t *e = json_loads("{\"eventTime\":\"2026-11-25T10:00:00.5Z\","
	    "\"firstTimestamp\":\"2026-11-25T09:00:00Z\"}", 0, NULL);
	int64_t ms = 0;

	CHECK(sig_object_time(e, &ms) == 0);
	CHECK_INT(ms % 1000, 500);
	json_decref(e);
	e = json_loads("{\"kind\":\"Pod\"}", 0, NULL);
	CHECK(sig_object_time(e, &ms) == -1);
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

TEST(recording_latest_at_or_before)
{
	char path[] = "/tmp/remediate-rec-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
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

int
main(void)
{
	RUN(oom_new_kill_synthesizes_event);
	RUN(oom_not_new);
	RUN(object_time);
	RUN(watch_type_names);
	RUN(alert_subject_and_time);
	RUN(recording_latest_at_or_before);
	RUN(event_written_as_dumped);
	return harness_done();
}
