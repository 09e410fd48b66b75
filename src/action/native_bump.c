/*
 * bumpMemory: raise an OOMKilled container's memory request (and limit) in
 * its controller's pod template, capped.  The arithmetic, the choice of
 * container and the strategic-merge patch are `remediate bump-memory`'s
 * own (kube_bump_pick_container, kube_bump_compute, kube_bump_patch), so
 * the trigger and the CLI can never disagree on what a bump is.
 *
 * Only controllers that roll their pods from a template are changed:
 * Deployment, StatefulSet, DaemonSet.  A bare Pod cannot change its
 * resources, a Job's template is immutable, and anything else is refused
 * rather than guessed at (unsupported-target).  At the cap nothing is
 * planned: the verdict is at-cap, which the engine records as suppressed
 * and pages.  The patch carries the workload's resourceVersion; when the
 * workload changed under us (409 Conflict) the executor reads it again
 * and recomputes, as the CLI does, instead of forcing a stale value.  The
 * 409 may answer our own write, though: the client resends a patch after
 * a 5xx, and an API server that carried it out and then answered 503 or
 * 504 makes the resend stale.  A fresh object that is as the patch left it
 * (kube_bump_applied: our change note and our values) is that case: the
 * bump is done, confirmed by the read, and is not made twice.
 */
#include <stdlib.h>
#include <string.h>

#include "action/native_int.h"

#define DEFAULT_INCREMENT	"25%"
#define DEFAULT_CAP		"8Gi"
#define BUMP_ATTEMPTS		3	/* conflicts before giving up */
#define STRATEGIC	"application/strategic-merge-patch+json"

/* A string or number member as text (YAML may give cap: 2). */
static int
spec_text(json_t *spec, const char *key, const char *def, char *out,
    size_t len)
{
	json_t *v = json_object_get(spec, key);

	if (v == NULL || json_is_null(v))
		snprintf(out, len, "%s", def);
	else if (json_is_string(v))
		snprintf(out, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(out, len, "%lld", (long long)json_integer_value(v));
	else
		return -1;
	return 0;
}

static int
parse_opts(const char *inc, const char *cap, struct kube_bump_opts *o,
    char **err)
{
	memset(o, 0, sizeof *o);
	if (kube_bump_parse_increment(inc, o) < 0) {
		*err = xasprintf("bumpMemory.increment \"%s\" is neither a "
		    "percentage (25%%) nor a quantity (256Mi)", inc);
		return -1;
	}
	if (quantity_parse(cap, &o->cap) < 0 || quantity_is_zero(&o->cap) ||
	    o->cap.mant < 0) {
		*err = xasprintf("bumpMemory.cap \"%s\" is not a positive "
		    "quantity (8Gi)", cap);
		return -1;
	}
	o->has_cap = 1;
	return 0;
}

static int
is_kind(const char *kind, const char *want)
{
	return kind && strcmp(kind, want) == 0;
}

/*
 * Refuses what a bump cannot change: 1 refused (verdict set), 0 go on.
 * The pod's own controller reference decides bare Pods and Jobs even
 * when the view does not hold the controller.
 */
static int
refuse_target(const struct native_in *in, struct act_verdict *v)
{
	json_t *ref = NULL;
	const char *kind, *ns, *name;

	if (in->subject && is_kind(json_string_value(json_object_get(
	    in->subject, "kind")), "Pod")) {
		ns = act_meta(in->subject, "namespace");
		name = act_meta(in->subject, "name");
		if ((ref = kube_controller_ref(in->subject)) == NULL) {
			act_refuse(v, ACT_UNSUPPORTED, "pod %s/%s is a bare "
			    "Pod (no controller): its resources cannot change "
			    "and a new pod would not keep them; raise them in "
			    "its manifest", ns, name);
			return 1;
		}
		if (is_kind(json_string_value(json_object_get(ref, "kind")),
		    "Job")) {
			act_refuse(v, ACT_UNSUPPORTED, "pod %s/%s belongs to "
			    "Job %s: a Job's template cannot change and its "
			    "pods run to completion; raise the memory in the "
			    "Job's manifest or its CronJob", ns, name,
			    json_string_value(json_object_get(ref, "name")));
			return 1;
		}
	}
	if (in->target == NULL)
		return 0;
	kind = json_string_value(json_object_get(in->target, "kind"));
	if (is_kind(kind, "Deployment") || is_kind(kind, "StatefulSet") ||
	    is_kind(kind, "DaemonSet"))
		return 0;
	act_refuse(v, ACT_UNSUPPORTED, "%s %s/%s is not a Deployment, "
	    "StatefulSet or DaemonSet: bumpMemory changes only the pod "
	    "template of those", kind ? kind : "object",
	    act_meta(in->target, "namespace"), act_meta(in->target, "name"));
	return 1;
}

/* The container to bump: 0 with *name and *init, or -1 with *err. */
static int
pick(const struct native_in *in, const char **name, int *init, char **err)
{
	const char *want = json_string_value(json_object_get(in->spec,
	    "container"));
	json_t *oom, *list;

	if (in->subject && is_kind(json_string_value(json_object_get(
	    in->subject, "kind")), "Pod"))
		return kube_bump_pick_container(in->subject, want, name, init,
		    &oom, err);
	*init = 0;
	if (want) {
		*name = want;
		*init = kube_bump_template_container(in->target, want, 0) ==
		    NULL && kube_bump_template_container(in->target, want, 1)
		    != NULL;
		return 0;
	}
	list = json_object_get(json_object_get(json_object_get(
	    json_object_get(in->target, "spec"), "template"), "spec"),
	    "containers");
	if (json_array_size(list) == 1 && (*name = json_string_value(
	    json_object_get(json_array_get(list, 0), "name"))) != NULL)
		return 0;
	*err = xasprintf("the signal names no pod and %s %s has %zu "
	    "containers: set bumpMemory.container", json_string_value(
	    json_object_get(in->target, "kind")), act_meta(in->target, "name"),
	    json_array_size(list));
	return -1;
}

static json_t *
change_json(const char *container, int init, const struct kube_bump_result *r)
{
	json_t *c = json_pack("{s:s, s:b, s:{s:s?, s:s}, s:b}", "container",
	    container, "init", init, "request", "from", r->request_old[0] ?
	    r->request_old : NULL, "to", r->request_new, "capped", r->capped);

	if (r->limit_old[0])
		json_object_set_new(c, "limit", json_pack("{s:s, s:s, s:b}",
		    "from", r->limit_old, "to", r->limit_new, "fromPod",
		    r->limit_from_pod));
	return c;
}

/* What admission sees: the workload as the patch would leave it. */
static json_t *
patched(json_t *wl, const char *container, int init,
    const struct kube_bump_result *r, json_t *patch)
{
	json_t *o = json_deep_copy(wl), *ctr, *res, *md, *ann;

	ctr = kube_bump_template_container(o, container, init);
	if (ctr) {
		res = json_object_get(ctr, "resources");
		if (!json_is_object(res)) {
			res = json_object();
			json_object_set_new(ctr, "resources", res);
		}
		if (!json_is_object(json_object_get(res, "requests")))
			json_object_set_new(res, "requests", json_object());
		json_object_set_new(json_object_get(res, "requests"), "memory",
		    json_string(r->request_new));
		if (r->limit_new[0]) {
			if (!json_is_object(json_object_get(res, "limits")))
				json_object_set_new(res, "limits",
				    json_object());
			json_object_set_new(json_object_get(res, "limits"),
			    "memory", json_string(r->limit_new));
		}
	}
	md = json_object_get(o, "metadata");
	if (!json_is_object(md)) {
		md = json_object();
		json_object_set_new(o, "metadata", md);
	}
	ann = json_object_get(json_object_get(patch, "metadata"),
	    "annotations");
	if (json_is_object(ann)) {
		json_t *cur = json_object_get(md, "annotations");

		if (!json_is_object(cur)) {
			cur = json_object();
			json_object_set_new(md, "annotations", cur);
		}
		json_object_update(cur, ann);
	}
	return o;
}

/*
 * Bytes the bump adds to each pod's request.  A container that sets only
 * a limit has the limit as its request (the API server defaults it so),
 * and the bump sets a request: what it adds is counted from the limit.
 * Not computable: INT64_MAX, so maxClusterImpact stops it rather than
 * counting nothing.
 */
static int64_t
delta_bytes(const struct kube_bump_result *r)
{
	const char *from = r->request_old[0] ? r->request_old : r->limit_old;
	struct quantity a, b, d;
	int64_t n;

	if (quantity_parse(from, &a) < 0 ||
	    quantity_parse(r->request_new, &b) < 0 ||
	    quantity_sub(&d, &b, &a) < 0 || quantity_to_int64(&d, &n) < 0)
		return INT64_MAX;
	return n;
}

int
act_native_bump(const struct native_in *in, struct act_plan *out,
    struct act_verdict *v, char **err)
{
	char inc[64], cap[64], *note, *path, *what;
	struct kube_bump_opts o;
	struct kube_bump_result r;
	const char *cname, *kind, *ns, *name, *pod, *pod_limit;
	json_t *ctr, *patch, *plan;
	int init;

	if (spec_text(in->spec, "increment", DEFAULT_INCREMENT, inc,
	    sizeof inc) < 0 || spec_text(in->spec, "cap", DEFAULT_CAP, cap,
	    sizeof cap) < 0) {
		*err = xstrdup("bumpMemory.increment and cap are strings "
		    "(\"25%\", \"8Gi\")");
		return -1;
	}
	if (parse_opts(inc, cap, &o, err) < 0)
		return -1;
	if (refuse_target(in, v))
		return 0;
	if (in->target == NULL) {
		*err = xstrdup("the workload to bump is not in the cluster "
		    "view");
		return -1;
	}
	kind = json_string_value(json_object_get(in->target, "kind"));
	ns = act_meta(in->target, "namespace");
	name = act_meta(in->target, "name");
	if (pick(in, &cname, &init, err) < 0)
		return -1;
	if ((ctr = kube_bump_template_container(in->target, cname,
	    init)) == NULL)
		return act_refuse(v, ACT_UNSUPPORTED, "%s %s/%s has no "
		    "container \"%s\" in its pod template", kind, ns, name,
		    cname);
	/* the pod's own limit counts when the template has none (a
	   LimitRange's): the kill happened there */
	pod_limit = in->subject && is_kind(json_string_value(json_object_get(
	    in->subject, "kind")), "Pod") ? kube_bump_pod_limit(in->subject,
	    cname, init) : NULL;
	if (kube_bump_compute(kube_bump_memory(ctr, "requests"),
	    kube_bump_memory(ctr, "limits"), pod_limit, &o, &r, err) < 0) {
		act_refuse(v, ACT_UNSUPPORTED, "%s %s/%s container %s: %s",
		    kind, ns, name, cname, *err);
		free(*err);
		*err = NULL;
		return 0;
	}
	if (r.at_cap)
		return act_refuse(v, ACT_AT_CAP, "at cap: container %s of %s "
		    "%s/%s requests %s, at or above the cap %s; nothing "
		    "changed", cname, kind, ns, name, r.request_old[0] ?
		    r.request_old : r.request_new, cap);
	if ((path = act_path(act_api_version(in->target), kind, ns,
	    name)) == NULL) {
		*err = xasprintf("%s %s/%s has no apiVersion the client knows",
		    kind, ns, name);
		return -1;
	}
	pod = in->subject && is_kind(json_string_value(json_object_get(
	    in->subject, "kind")), "Pod") ? act_meta(in->subject, "name") :
	    NULL;
	note = kube_bump_note(cname, &r, pod, inc, cap, in->now,
	    in->trigger ? in->trigger->name : NULL);
	patch = kube_bump_patch(cname, init, act_meta(in->target,
	    "resourceVersion"), &r, note);
	free(note);
	plan = act_plan_new("bumpMemory", "patch", in->target);
	act_plan_request(plan, "PATCH", path, STRATEGIC, json_incref(patch));
	free(path);
	json_object_set_new(plan, "change", change_json(cname, init, &r));
	/* the pod's limit too: a recompute after a conflict has no pod */
	json_object_set_new(plan, "bump", json_pack("{s:s, s:s, s:s, s:b, "
	    "s:s?}", "increment", inc, "cap", cap, "container", cname, "init",
	    init, "podLimit", pod_limit));
	out->plan = plan;
	out->operation = "UPDATE";
	out->object = patched(in->target, cname, init, &r, patch);
	out->old = json_incref(in->target);
	json_decref(patch);
	v->kind = ACT_GO;
	v->pods = cluster_workload_pods(in->target);
	v->memory = delta_bytes(&r);
	if (v->memory != INT64_MAX && v->pods > 1)
		v->memory = v->memory > INT64_MAX / v->pods ? INT64_MAX :
		    v->memory * v->pods;
	what = kube_bump_change_text(&r);
	snprintf(v->message, sizeof v->message, "raise memory of container "
	    "%s of %s %s/%s: %s", cname, kind, ns, name, what);
	free(what);
	return 0;
}

/* ---- executing ---------------------------------------------------------- */

/*
 * The patch for the fresh workload: 0 with *patch (owned), or -1 with
 * *err (at the cap now, or the container is gone).
 */
static int
recompute(const json_t *plan, json_t *fresh, json_t **patch, char **err)
{
	json_t *b = json_object_get(plan, "bump"), *ctr, *planned;
	const char *cname = json_string_value(json_object_get(b, "container"));
	int init = json_is_true(json_object_get(b, "init"));
	struct kube_bump_opts o;
	struct kube_bump_result r;
	char *s;

	if (cname == NULL || parse_opts(json_string_value(json_object_get(b,
	    "increment")) ? json_string_value(json_object_get(b,
	    "increment")) : DEFAULT_INCREMENT, json_string_value(
	    json_object_get(b, "cap")) ? json_string_value(json_object_get(b,
	    "cap")) : DEFAULT_CAP, &o, err) < 0) {
		if (*err == NULL)
			*err = xstrdup("the plan has no bump to recompute");
		return -1;
	}
	if ((ctr = kube_bump_template_container(fresh, cname, init)) == NULL) {
		*err = xasprintf("container %s is gone from the workload's "
		    "template", cname);
		return -1;
	}
	if (kube_bump_compute(kube_bump_memory(ctr, "requests"),
	    kube_bump_memory(ctr, "limits"), json_string_value(
	    json_object_get(b, "podLimit")), &o, &r, err) < 0)
		return -1;
	if (r.at_cap) {
		*err = xasprintf("at cap now: container %s requests %s, at or "
		    "above the cap %s; nothing changed", cname,
		    r.request_old[0] ? r.request_old : r.request_new,
		    json_string_value(json_object_get(b, "cap")));
		return -1;
	}
	/* keep the planned note, with what the fresh object gave */
	planned = json_object_get(json_object_get(json_array_get(
	    json_object_get(plan, "requests"), 0), "body"), "metadata");
	s = kube_bump_note_again(json_string_value(json_object_get(
	    json_object_get(planned, "annotations"),
	    "remediation.platform/last-change")), &r);
	*patch = kube_bump_patch(cname, init, act_meta(fresh,
	    "resourceVersion"), &r, s);
	free(s);
	return 0;
}

int
act_exec_bump(struct kube_client *c, const json_t *plan, int dry_run,
    json_t *result, char **err)
{
	const json_t *req = json_array_get(json_object_get(plan, "requests"),
	    0);
	const char *path = json_string_value(json_object_get(req, "path"));
	json_t *override = NULL, *answer = NULL, *fresh;
	long status = 0;
	int attempt;

	if (path == NULL) {
		*err = xstrdup("the bumpMemory plan has no request");
		return -1;
	}
	for (attempt = 1; attempt <= BUMP_ATTEMPTS; attempt++) {
		free(*err);
		*err = NULL;
		answer = act_send(c, req, override, dry_run, result, &status,
		    err);
		if (answer || status != 409 || attempt == BUMP_ATTEMPTS)
			break;
		/* changed under us, or our own write: read it again */
		free(*err);
		*err = NULL;
		if ((fresh = act_get(c, path, &status, err)) == NULL)
			break;
		if (kube_bump_applied(fresh, override ? override :
		    json_object_get(req, "body"))) {
			/* a 5xx lost the answer to a patch that was carried
			   out, and the resend was stale: done, not again */
			answer = fresh;
			json_object_set_new(result, "verifiedAfter",
			    json_string("conflict"));
			break;
		}
		json_decref(override);
		override = NULL;
		if (recompute(plan, fresh, &override, err) < 0) {
			json_decref(fresh);
			break;
		}
		json_decref(fresh);
		json_object_set(result, "recomputed", override);
	}
	json_decref(override);
	if (answer == NULL)
		return -1;
	json_object_set_new(result, "resourceVersion", json_string(
	    act_meta(answer, "resourceVersion") ? act_meta(answer,
	    "resourceVersion") : ""));
	json_decref(answer);
	free(*err);
	*err = NULL;
	return 0;
}
