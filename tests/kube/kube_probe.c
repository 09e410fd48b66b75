/*
 * kube_probe: drives the kube client from the end-to-end tests
 * (tests/e2e/test_kube_client.py builds it with one cc line).  Not part of
 * remediate: it only exposes the library's calls on the command line.
 *
 *	kube_probe KUBECONFIG get APIVERSION KIND NS NAME
 *	kube_probe KUBECONFIG resource APIVERSION KIND
 *	kube_probe KUBECONFIG exec PLAN.json [dry-run]
 *	kube_probe KUBECONFIG event REF.json REASON MESSAGE TYPE
 *	kube_probe KUBECONFIG watch GROUP VERSION RESOURCE NS|- [LSEL|-]
 *	    [FSEL|-]
 *
 * Results go to stdout as one JSON value per line; errors as
 * {"error": TEXT, "status": N, "attempts": N} with exit status 1.  A watch
 * prints {"type", "name", "namespace", "uid", "rv"} per change until
 * stdin closes, then {"status": {...}}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"
#include "util/util.h"

static void
print_json(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENCODE_ANY);

	printf("%s\n", s);
	fflush(stdout);
	free(s);
}

static int
fail_err(struct kube_error *e)
{
	char *t = kube_error_text(e);
	json_t *o = json_pack("{s:s, s:i, s:i, s:s?, s:i}", "error", t,
	    "status", (int)e->status, "attempts", e->attempts, "reason",
	    e->reason, "retryAfter", e->retry_after_s);

	print_json(o);
	json_decref(o);
	free(t);
	kube_error_clear(e);
	return 1;
}

static json_t *
load_json(const char *path)
{
	json_error_t jerr;
	json_t *v = json_load_file(path, 0, &jerr);

	if (v == NULL)
		fprintf(stderr, "kube_probe: %s: %s\n", path, jerr.text);
	return v;
}

static void
on_event(void *ctx, enum kube_event_type t, json_t *obj)
{
	json_t *md = json_object_get(obj, "metadata"), *o;

	(void)ctx;
	o = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:b}", "type",
	    kube_event_type_name(t),
	    "name", json_string_value(json_object_get(md, "name")),
	    "namespace", json_string_value(json_object_get(md, "namespace")),
	    "uid", json_string_value(json_object_get(md, "uid")),
	    "rv", json_string_value(json_object_get(md, "resourceVersion")),
	    "stub", json_object_get(json_object_get(md, "annotations"),
	    "remediate.dev/deleted-final-state-unknown") != NULL);
	print_json(o);
	json_decref(o);
}

static void
on_error(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "watch: %s\n", msg ? msg : "recovered");
}

static const char *
opt(int argc, char **argv, int i)
{
	return i < argc && strcmp(argv[i], "-") != 0 ? argv[i] : NULL;
}

static int
do_watch(struct kube_client *c, int argc, char **argv)
{
	struct kube_watch_spec sp = { 0 };
	struct kube_watch_status st;
	struct kube_watch *w;
	char *err = NULL, line[256];
	json_t *o;
	const char *timeout = getenv("KUBE_PROBE_WATCH_TIMEOUT");

	sp.group = argv[3];
	sp.version = argv[4];
	sp.resource = argv[5];
	sp.namespace = opt(argc, argv, 6);
	sp.label_selector = opt(argc, argv, 7);
	sp.field_selector = opt(argc, argv, 8);
	sp.page_limit = getenv("KUBE_PROBE_PAGE") ?
	    strtol(getenv("KUBE_PROBE_PAGE"), NULL, 10) : 0;
	sp.timeout_s = timeout ? (int)strtol(timeout, NULL, 10) : 0;
	sp.stateless = getenv("KUBE_PROBE_STATELESS") != NULL;
	sp.on_error = on_error;
	if ((w = kube_watch_start(c, &sp, on_event, NULL, &err)) == NULL) {
		fprintf(stderr, "kube_probe: %s\n", err);
		free(err);
		return 1;
	}
	if (kube_watch_wait_synced(w, 30000) == 0)
		print_json(o = json_pack("{s:b}", "synced", 1)), json_decref(o);
	while (fgets(line, sizeof line, stdin) != NULL) {
		if (strncmp(line, "status", 6) == 0) {
			kube_watch_status(w, &st);
			o = json_pack("{s:{s:b, s:b, s:I, s:I, s:I, s:I, s:I, "
			    "s:s, s:s?}}", "status", "healthy", st.healthy,
			    "synced", st.synced, "restarts",
			    (json_int_t)st.restarts, "relists",
			    (json_int_t)st.relists, "events",
			    (json_int_t)st.events, "errors",
			    (json_int_t)st.errors, "cached",
			    (json_int_t)st.cached, "rv", st.resource_version,
			    "lastError", st.last_error);
			print_json(o);
			json_decref(o);
			free(st.last_error);
		}
	}
	kube_watch_stop(w);
	return 0;
}

int
main(int argc, char **argv)
{
	struct kube_config cfg;
	struct kube_client *c;
	struct kube_error e;
	char *err = NULL;
	json_t *v = NULL, *plan;
	int rc = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: kube_probe KUBECONFIG COMMAND ...\n");
		return 2;
	}
	if (kube_config_load(argv[1], getenv("KUBE_PROBE_CONTEXT"), &cfg,
	    &err) < 0) {
		fprintf(stderr, "kube_probe: %s\n", err);
		free(err);
		return 1;
	}
	c = kube_client_new(&cfg, &err);
	kube_config_clear(&cfg);
	if (c == NULL) {
		fprintf(stderr, "kube_probe: %s\n", err);
		free(err);
		return 1;
	}
	if (getenv("KUBE_PROBE_TIMEOUT_MS"))
		kube_client_set_timeout(c, strtol(getenv(
		    "KUBE_PROBE_TIMEOUT_MS"), NULL, 10));
	kube_error_init(&e);
	if (strcmp(argv[2], "get") == 0 && argc == 7) {
		if ((v = kube_get(c, argv[3], argv[4], opt(argc, argv, 5),
		    argv[6], &e)) == NULL)
			rc = fail_err(&e);
	} else if (strcmp(argv[2], "resource") == 0 && argc == 5) {
		struct kube_resource r;

		if (kube_resource_for(c, argv[3], argv[4], &r, &e) < 0)
			rc = fail_err(&e);
		else {
			v = json_pack("{s:s, s:s, s:s, s:b}", "group", r.group,
			    "version", r.version, "resource", r.resource,
			    "namespaced", r.namespaced);
			kube_resource_clear(&r);
		}
	} else if (strcmp(argv[2], "exec") == 0 && argc >= 4) {
		if ((plan = load_json(argv[3])) == NULL)
			rc = 2;
		else if (kube_execute_plan(c, plan, argc > 4 &&
		    strcmp(argv[4], "dry-run") == 0, &v, &err) < 0) {
			json_t *o = json_pack("{s:s}", "error", err);

			print_json(o);
			json_decref(o);
			free(err);
			rc = 1;
		}
		json_decref(plan);
	} else if (strcmp(argv[2], "event") == 0 && argc == 7) {
		json_t *ref = load_json(argv[3]);

		if (ref == NULL)
			rc = 2;
		else if (kube_record_event(c, ref, argv[4], argv[5], argv[6],
		    &e) < 0)
			rc = fail_err(&e);
		else
			v = json_pack("{s:b}", "ok", 1);
		json_decref(ref);
	} else if (strcmp(argv[2], "watch") == 0 && argc >= 6) {
		rc = do_watch(c, argc, argv);
	} else {
		fprintf(stderr, "kube_probe: unknown command or arguments\n");
		rc = 2;
	}
	if (v) {
		print_json(v);
		json_decref(v);
	}
	kube_error_clear(&e);
	kube_client_free(c);
	return rc;
}
