/*
 * argocdSync: retry an Argo CD Application's sync when its operation is
 * stuck (Running longer than terminateAfter) or ended Failed/Error.
 *
 * It does what `argocd app terminate-op` and `argocd app sync` do through
 * the API server, since an Application has no status subresource and the
 * Argo CD controller acts on what the object says:
 *
 *   1. (stuck only, when terminateAfter is set) terminate the operation:
 *      merge patch status.operationState.phase = Terminating; the
 *      controller stops it, marks it Failed and clears `operation`;
 *   2. wait (bounded) until `operation` is empty again;
 *   3. start a sync: merge patch `operation` = {sync: {revision, prune,
 *      syncStrategy, syncOptions}, retry, initiatedBy, info}, guarded by
 *      the resourceVersion read just before, so a sync someone else
 *      started in between is a 409, not overwritten.  As the Argo CD
 *      server does, a sync is never started while an operation runs.
 *
 * An Application that is healthy, still within terminateAfter, or being
 * terminated already needs nothing (verdict ACT_NOT_NEEDED).
 */
#include <stdlib.h>
#include <string.h>

#include "action/native_int.h"

#define MERGE		"application/merge-patch+json"
#define WAIT_MS		15000	/* for the controller to end an operation */
#define POLL_MS		500
#define USERNAME	"remediate"

static const char *
sget(json_t *o, const char *a, const char *b, const char *c)
{
	json_t *v = json_object_get(o, a);

	if (b)
		v = json_object_get(v, b);
	if (c)
		v = json_object_get(v, c);
	return json_string_value(v);
}

/* The Application the action is about (borrowed), or NULL with *err. */
static json_t *
find_app(const struct native_in *in, char **err)
{
	const char *name = json_string_value(json_object_get(in->spec,
	    "application"));
	const char *ns = json_string_value(json_object_get(in->spec,
	    "namespace"));
	json_t *app = NULL, *cands[2] = { in->subject, in->target };
	size_t i;

	if (name) {
		for (i = 0; i < 2 && ns == NULL; i++)
			if (sget(cands[i], "kind", NULL, NULL) && strcmp(sget(
			    cands[i], "kind", NULL, NULL), "Application") == 0)
				ns = act_meta(cands[i], "namespace");
		if (ns == NULL)
			ns = "argocd";
		if (in->cluster)
			app = cluster_get(in->cluster, "Application", ns,
			    name);
		if (app == NULL)
			*err = xasprintf("Application %s/%s is not in the "
			    "cluster view: watch applications.argoproj.io "
			    "with a resource event source", ns, name);
		return app;
	}
	for (i = 0; i < 2; i++)
		if (sget(cands[i], "kind", NULL, NULL) && strcmp(sget(cands[i],
		    "kind", NULL, NULL), "Application") == 0)
			return cands[i];
	*err = xstrdup("the signal is not about an Argo CD Application: set "
	    "argocdSync.application");
	return NULL;
}

/* Argo's retry {limit, backoff {duration, factor, maxDuration}}. */
static json_t *
retry_of(const struct native_in *in, json_t *app)
{
	json_t *r = json_object_get(in->spec, "retry"), *op;

	if (json_is_object(r))
		return json_deep_copy(r);
	op = json_object_get(json_object_get(json_object_get(app, "status"),
	    "operationState"), "operation");
	if (json_is_object(json_object_get(op, "retry")))
		return json_deep_copy(json_object_get(op, "retry"));
	r = json_object_get(json_object_get(json_object_get(app, "spec"),
	    "syncPolicy"), "retry");
	return json_is_object(r) ? json_deep_copy(r) : NULL;
}

static const char *
revision_of(const struct native_in *in, json_t *app)
{
	const char *r = json_string_value(json_object_get(in->spec,
	    "revision"));
	json_t *st = json_object_get(app, "status");

	if (r == NULL)
		r = sget(json_object_get(json_object_get(st,
		    "operationState"), "operation"), "sync", "revision", NULL);
	if (r == NULL)
		r = sget(st, "sync", "revision", NULL);
	if (r == NULL)
		r = sget(json_object_get(app, "spec"), "source",
		    "targetRevision", NULL);
	return r;
}

static json_t *
sync_patch(const struct native_in *in, json_t *app, const char *why)
{
	json_t *last = json_object_get(json_object_get(json_object_get(
	    json_object_get(app, "status"), "operationState"), "operation"),
	    "sync");
	json_t *sync, *op, *retry, *opts, *strategy;
	const char *rev = revision_of(in, app);
	char *reason;

	sync = json_object();
	if (rev)
		json_object_set_new(sync, "revision", json_string(rev));
	json_object_set_new(sync, "prune", json_boolean(json_is_true(
	    json_object_get(in->spec, "prune"))));
	strategy = json_object_get(last, "syncStrategy");
	json_object_set_new(sync, "syncStrategy", json_is_object(strategy) ?
	    json_deep_copy(strategy) : json_pack("{s:{}}", "hook"));
	opts = json_object_get(last, "syncOptions");
	if (!json_is_array(opts))
		opts = json_object_get(json_object_get(json_object_get(app,
		    "spec"), "syncPolicy"), "syncOptions");
	if (json_is_array(opts))
		json_object_set_new(sync, "syncOptions", json_deep_copy(opts));
	reason = xasprintf("remediate %s: %s", in->trigger &&
	    in->trigger->name ? in->trigger->name : "argocdSync", why);
	op = json_pack("{s:{s:s}, s:[{s:s, s:s}], s:o}", "initiatedBy",
	    "username", USERNAME, "info", "name", "reason", "value", reason,
	    "sync", sync);
	free(reason);
	if ((retry = retry_of(in, app)) != NULL)
		json_object_set_new(op, "retry", retry);
	return json_pack("{s:{s:s?}, s:o}", "metadata", "resourceVersion",
	    act_meta(app, "resourceVersion"), "operation", op);
}

int
act_native_argocd(const struct native_in *in, struct act_plan *out,
    struct act_verdict *v, char **err)
{
	json_t *app, *ops, *plan, *patch;
	const char *phase, *ns, *name, *started, *after;
	int64_t t0 = 0, limit = -1, age = 0;
	char why[160], d1[32], d2[32], *path, *note;
	int terminate = 0;

	if ((app = find_app(in, err)) == NULL)
		return -1;
	ns = act_meta(app, "namespace");
	name = act_meta(app, "name");
	ops = json_object_get(json_object_get(app, "status"),
	    "operationState");
	phase = json_string_value(json_object_get(ops, "phase"));
	started = json_string_value(json_object_get(ops, "startedAt"));
	if ((after = json_string_value(json_object_get(in->spec,
	    "terminateAfter"))) != NULL && duration_parse(after, &limit) < 0) {
		*err = xasprintf("argocdSync.terminateAfter \"%s\" is not a "
		    "duration", after);
		return -1;
	}
	if (started && time_parse(started, &t0) == 0 && in->now > t0)
		age = in->now - t0;
	duration_format(age, d1, sizeof d1);
	if (phase && strcmp(phase, "Terminating") == 0)
		return act_refuse(v, ACT_NOT_NEEDED, "Application %s/%s: its "
		    "operation is being terminated already", ns, name);
	if ((phase && strcmp(phase, "Running") == 0) || (phase == NULL &&
	    json_is_object(json_object_get(app, "operation")))) {
		if (limit < 0)
			return act_refuse(v, ACT_NOT_NEEDED, "Application "
			    "%s/%s: an operation is running (for %s); set "
			    "terminateAfter to end stuck ones", ns, name, d1);
		if (age < limit) {
			duration_format(limit, d2, sizeof d2);
			return act_refuse(v, ACT_NOT_NEEDED, "Application "
			    "%s/%s: its operation has run %s, less than "
			    "terminateAfter %s", ns, name, d1, d2);
		}
		terminate = 1;
		snprintf(why, sizeof why, "resync after stuck operation "
		    "(Running %s)", d1);
	} else if (phase && (strcmp(phase, "Failed") == 0 ||
	    strcmp(phase, "Error") == 0)) {
		if (json_is_object(json_object_get(app, "operation")))
			return act_refuse(v, ACT_NOT_NEEDED, "Application "
			    "%s/%s: a new operation is pending already", ns,
			    name);
		snprintf(why, sizeof why, "resync after %s operation", phase);
	} else
		return act_refuse(v, ACT_NOT_NEEDED, "Application %s/%s: its "
		    "last operation is %s; nothing to retry", ns, name,
		    phase ? phase : "absent");
	if ((path = act_path(act_api_version(app), "Application", ns,
	    name)) == NULL) {
		*err = xstrdup("no path for Applications");
		return -1;
	}
	plan = act_plan_new("argocdSync", "patch", app);
	if (terminate) {
		json_object_set_new(act_plan_request(plan, "PATCH", path,
		    MERGE, json_pack("{s:{s:s?}, s:{s:{s:s}}}", "metadata",
		    "resourceVersion", act_meta(app, "resourceVersion"),
		    "status", "operationState", "phase", "Terminating")),
		    "note", json_string("sent only if the operation still "
		    "runs, with the resourceVersion read just before"));
		duration_format(WAIT_MS, d2, sizeof d2);
		note = xasprintf("repeated every %dms, at most %s, until the "
		    "controller has ended the operation (operation empty)",
		    POLL_MS, d2);
		json_object_set_new(act_plan_request(plan, "GET", path, NULL,
		    NULL), "note", json_string(note));
		free(note);
	}
	patch = sync_patch(in, app, why);
	json_object_set_new(act_plan_request(plan, "PATCH", path, MERGE,
	    json_incref(patch)), "note", json_string("metadata."
	    "resourceVersion is the one read just before sending"));
	free(path);
	json_object_set_new(plan, "change", json_pack("{s:s, s:b, s:s?, "
	    "s:s, s:O?}", "application", name, "terminate", terminate,
	    "phase", phase, "reason", why, "revision", json_object_get(
	    json_object_get(json_object_get(patch, "operation"), "sync"),
	    "revision")));
	json_object_set_new(plan, "terminate", json_boolean(terminate));
	out->plan = plan;
	out->operation = "UPDATE";
	out->object = act_merge_patch(app, patch);
	out->old = json_incref(app);
	json_decref(patch);
	v->kind = ACT_GO;
	v->pods = 0;
	snprintf(v->message, sizeof v->message, "%ssync Application %s/%s: "
	    "%s", terminate ? "terminate the operation and " : "", ns, name,
	    why);
	return 0;
}

/* ---- executing ---------------------------------------------------------- */

static const char *
phase_of(json_t *app)
{
	return sget(json_object_get(app, "status"), "operationState",
	    "phase", NULL);
}

static int
running(json_t *app)
{
	const char *p = phase_of(app);

	return json_is_object(json_object_get(app, "operation")) || (p &&
	    (strcmp(p, "Running") == 0 || strcmp(p, "Terminating") == 0));
}

/* Terminates, then waits for the operation to end: the fresh object. */
static json_t *
terminate(struct kube_client *c, const json_t *plan, int dry_run,
    json_t *result, char **err)
{
	const json_t *req = json_array_get(json_object_get(plan, "requests"),
	    0);
	const char *path = json_string_value(json_object_get(req, "path"));
	json_t *app, *answer, *body;
	long status, waited;
	const char *p;

	if ((app = act_get(c, path, &status, err)) == NULL)
		return NULL;
	p = phase_of(app);
	if (p == NULL || strcmp(p, "Running") != 0) {
		json_object_set_new(result, "terminated", json_string(
		    "not needed: the operation ended before"));
		return app;
	}
	body = json_deep_copy(json_object_get(req, "body"));
	json_object_set_new(body, "metadata", json_pack("{s:s?}",
	    "resourceVersion", act_meta(app, "resourceVersion")));
	json_decref(app);
	answer = act_send(c, req, body, dry_run, result, &status, err);
	json_decref(body);
	if (answer == NULL)
		return NULL;
	json_decref(answer);
	json_object_set_new(result, "terminated", json_true());
	for (waited = 0;; waited += POLL_MS) {
		if ((app = act_get(c, path, &status, err)) == NULL)
			return NULL;
		if (dry_run || !running(app))
			return app;
		if (waited >= WAIT_MS)
			break;
		json_decref(app);
		util_sleep_ms(POLL_MS);
	}
	*err = xasprintf("the operation was told to terminate but is still "
	    "%s after %dms; no sync started", phase_of(app) ? phase_of(app) :
	    "running", WAIT_MS);
	json_decref(app);
	return NULL;
}

int
act_exec_argocd(struct kube_client *c, const json_t *plan, int dry_run,
    json_t *result, char **err)
{
	json_t *reqs = json_object_get(plan, "requests");
	const json_t *req = json_array_get(reqs, json_array_size(reqs) - 1);
	const char *path = json_string_value(json_object_get(req, "path"));
	json_t *app, *body, *answer;
	long status;

	if (path == NULL) {
		*err = xstrdup("the argocdSync plan has no request");
		return -1;
	}
	if (json_is_true(json_object_get(plan, "terminate")))
		app = terminate(c, plan, dry_run, result, err);
	else
		app = act_get(c, path, &status, err);
	if (app == NULL)
		return -1;
	if (running(app) && !(dry_run && json_is_true(json_object_get(plan,
	    "terminate")))) {
		*err = xasprintf("another operation is in progress on "
		    "Application %s (phase %s); no sync started",
		    act_meta(app, "name"), phase_of(app) ? phase_of(app) :
		    "unknown");
		json_decref(app);
		return -1;
	}
	body = json_deep_copy(json_object_get(req, "body"));
	json_object_set_new(body, "metadata", json_pack("{s:s?}",
	    "resourceVersion", act_meta(app, "resourceVersion")));
	json_decref(app);
	answer = act_send(c, req, body, dry_run, result, &status, err);
	json_decref(body);
	if (answer == NULL)
		return -1;
	json_object_set_new(result, "synced", json_true());
	json_object_set_new(result, "resourceVersion", json_string(
	    act_meta(answer, "resourceVersion") ? act_meta(answer,
	    "resourceVersion") : ""));
	json_decref(answer);
	return 0;
}
