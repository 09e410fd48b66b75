/*
 * The memory bump against a live cluster: the pod, its controller, the
 * opt-in, the arithmetic (bump.c), one strategic-merge patch of the
 * controller's pod template, and an Event on the workload.
 *
 * Only controllers that roll their pods from a template we can patch are
 * accepted: Deployment (through its ReplicaSet), StatefulSet, DaemonSet.
 * A bare Pod cannot change its resources (the change would die with it);
 * a Job's template is immutable and its pods run to completion; anything
 * else (a ReplicaSet without a Deployment, an Argo Rollout, a static pod)
 * is refused rather than guessed at.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guard/guard.h"
#include "kube/kube_int.h"
#include "util/util.h"

#define BUMP_ATTEMPTS	3	/* patch conflicts before giving up */
#define OPTIN_KEY	"remediation.platform/optin"

void
kube_bump_outcome_clear(struct kube_bump_outcome *o)
{
	free(o->message);
	json_decref(o->target);
	free(o->container);
	json_decref(o->patch);
	free(o->path);
	json_decref(o->answer);
	memset(o, 0, sizeof *o);
}

static int
outcome(struct kube_bump_outcome *o, enum kube_bump_status st,
    const char *reason, const char *fmt, ...) UTIL_PRINTF(4, 5);

static int
outcome(struct kube_bump_outcome *o, enum kube_bump_status st,
    const char *reason, const char *fmt, ...)
{
	va_list ap;

	o->status = st;
	o->reason = reason;
	free(o->message);
	va_start(ap, fmt);
	o->message = xvasprintf(fmt, ap);
	va_end(ap);
	return st == KUBE_BUMP_PATCHED || st == KUBE_BUMP_DRY_RUN ? 0 : -1;
}

static int
api_failed(struct kube_bump_outcome *o, const char *what,
    struct kube_error *e)
{
	char *t = kube_error_text(e);
	int rc;

	rc = outcome(o, KUBE_BUMP_FAILED, NULL, "%s: %s", what, t);
	free(t);
	kube_error_clear(e);
	return rc;
}

static const char *
mstr(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj,
	    "metadata"), key));
}

json_t *
kube_controller_ref(json_t *obj)
{
	json_t *r;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(obj, "metadata"),
	    "ownerReferences"), i, r)
		if (json_is_true(json_object_get(r, "controller")))
			return r;
	return NULL;
}

static int
is_kind(json_t *ref, const char *group, const char *kind)
{
	const char *av = json_string_value(json_object_get(ref,
	    "apiVersion"));
	const char *k = json_string_value(json_object_get(ref, "kind"));
	size_t n = strlen(group);

	if (av == NULL || k == NULL || strcmp(k, kind) != 0)
		return 0;
	return n == 0 ? strchr(av, '/') == NULL : strncmp(av, group, n) ==
	    0 && av[n] == '/';
}

/* Fetches the object ref names in ns, checking it is the same one (uid). */
static json_t *
fetch_owner(struct kube_client *c, json_t *ref, const char *ns,
    struct kube_error *e)
{
	const char *uid = json_string_value(json_object_get(ref, "uid"));
	const char *kind = json_string_value(json_object_get(ref, "kind"));
	const char *name = json_string_value(json_object_get(ref, "name"));
	json_t *obj;

	obj = kube_get(c, json_string_value(json_object_get(ref,
	    "apiVersion")), kind, ns, name, e);
	if (obj && uid && mstr(obj, "uid") && strcmp(uid, mstr(obj, "uid")) !=
	    0) {
		kube_error_set(e, "%s %s/%s was replaced (uid %s, the pod's "
		    "owner is %s)", kind, ns, name, mstr(obj, "uid"), uid);
		json_decref(obj);
		return NULL;
	}
	return obj;
}

/*
 * The workload that owns pod: 0 with *wl (owned), or -1 with the outcome
 * set (refused or failed).
 */
static int
find_workload(struct kube_client *c, json_t *pod, const char *ns,
    json_t **wl, struct kube_bump_outcome *o)
{
	struct kube_error e;
	json_t *ref = kube_controller_ref(pod), *rs, *dref;
	const char *pn = mstr(pod, "name");

	*wl = NULL;
	kube_error_init(&e);
	if (ref == NULL)
		return outcome(o, KUBE_BUMP_REFUSED, "unsupported-target",
		    "pod %s/%s is a bare Pod (no controller): its resources "
		    "cannot change and a new pod would not keep them; raise "
		    "them in its manifest", ns, pn);
	if (is_kind(ref, "batch", "Job"))
		return outcome(o, KUBE_BUMP_REFUSED, "unsupported-target",
		    "pod %s/%s belongs to Job %s: a Job's template cannot "
		    "change and its pods run to completion; raise the memory "
		    "in the Job's manifest or its CronJob", ns, pn,
		    json_string_value(json_object_get(ref, "name")));
	if (is_kind(ref, "apps", "StatefulSet") ||
	    is_kind(ref, "apps", "DaemonSet")) {
		if ((*wl = fetch_owner(c, ref, ns, &e)) == NULL)
			return api_failed(o, "reading the pod's controller",
			    &e);
		return 0;
	}
	if (!is_kind(ref, "apps", "ReplicaSet"))
		return outcome(o, KUBE_BUMP_REFUSED, "unsupported-target",
		    "pod %s/%s is controlled by %s %s, which bump-memory does "
		    "not change (Deployment, StatefulSet and DaemonSet only)",
		    ns, pn, json_string_value(json_object_get(ref, "kind")),
		    json_string_value(json_object_get(ref, "name")));
	if ((rs = fetch_owner(c, ref, ns, &e)) == NULL)
		return api_failed(o, "reading the pod's ReplicaSet", &e);
	dref = kube_controller_ref(rs);
	if (dref == NULL || !is_kind(dref, "apps", "Deployment")) {
		outcome(o, KUBE_BUMP_REFUSED, "unsupported-target",
		    "pod %s/%s belongs to ReplicaSet %s, which no Deployment "
		    "controls: bump-memory changes Deployments, StatefulSets "
		    "and DaemonSets", ns, pn, mstr(rs, "name"));
		json_decref(rs);
		return -1;
	}
	*wl = fetch_owner(c, dref, ns, &e);
	json_decref(rs);
	if (*wl == NULL)
		return api_failed(o, "reading the pod's Deployment", &e);
	return 0;
}


json_t *
kube_bump_template_container(json_t *wl, const char *name, int init)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(json_object_get(
	    json_object_get(wl, "spec"), "template"), "spec"), init ?
	    "initContainers" : "containers"), i, c) {
		const char *n = json_string_value(json_object_get(c, "name"));

		if (n && strcmp(n, name) == 0)
			return c;
	}
	return NULL;
}

const char *
kube_bump_memory(json_t *ctr, const char *which)
{
	return json_string_value(json_object_get(json_object_get(
	    json_object_get(ctr, "resources"), which), "memory"));
}

static void
describe_change(struct kube_bump_outcome *o, const char *verb,
    json_t *pod, json_t *oom)
{
	const struct kube_bump_result *r = &o->result;
	struct buf b;
	json_t *cs;
	size_t i;
	json_int_t restarts = -1;
	char *what = kube_bump_change_text(r);

	json_array_foreach(json_object_get(json_object_get(pod, "status"),
	    o->init ? "initContainerStatuses" : "containerStatuses"), i, cs)
		if (json_string_value(json_object_get(cs, "name")) &&
		    strcmp(json_string_value(json_object_get(cs, "name")),
		    o->container) == 0)
			restarts = json_integer_value(json_object_get(cs,
			    "restartCount"));
	buf_init(&b, 0);
	buf_printf(&b, "%s memory of container %s: %s", verb, o->container,
	    what);
	free(what);
	if (r->capped)
		buf_adds(&b, " (capped)");
	buf_printf(&b, "%s (pod %s/%s", oom ? " after OOMKilled" : "",
	    mstr(pod, "namespace"), mstr(pod, "name"));
	if (restarts >= 0)
		buf_printf(&b, ", restartCount=%lld", (long long)restarts);
	buf_addc(&b, ')');
	free(o->message);
	o->message = buf_steal(&b);
}

static char *
change_note(struct kube_bump_outcome *o, json_t *pod,
    const struct kube_bump_req *rq)
{
	char inc[QUANTITY_FMTLEN + 1], cap[QUANTITY_FMTLEN];
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	quantity_format(&rq->opts.increment, inc, sizeof inc - 1);
	if (rq->opts.percent)
		strncat(inc, "%", sizeof inc - strlen(inc) - 1);
	if (rq->opts.has_cap)
		quantity_format(&rq->opts.cap, cap, sizeof cap);
	return kube_bump_note(o->container, &o->result, mstr(pod, "name"),
	    inc, rq->opts.has_cap ? cap : NULL, (int64_t)ts.tv_sec * 1000,
	    NULL);
}

static json_t *
workload_ref(json_t *wl)
{
	return json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?}", "apiVersion",
	    json_string_value(json_object_get(wl, "apiVersion")), "kind",
	    json_string_value(json_object_get(wl, "kind")), "namespace",
	    mstr(wl, "namespace"), "name", mstr(wl, "name"), "uid",
	    mstr(wl, "uid"));
}

/* Computes the bump on the workload wl: 0, or -1 with the outcome set. */
static int
plan_bump(const struct kube_bump_req *rq, json_t *pod, json_t *wl,
    json_t *oom, struct kube_bump_outcome *o)
{
	json_t *ctr;
	char *err = NULL, *note;
	const char *kind = json_string_value(json_object_get(wl, "kind"));

	json_decref(o->target);
	o->target = workload_ref(wl);
	ctr = kube_bump_template_container(wl, o->container, o->init);
	if (ctr == NULL)
		return outcome(o, KUBE_BUMP_REFUSED, "unsupported-target",
		    "%s %s/%s has no container \"%s\" in its pod template",
		    kind, mstr(wl, "namespace"), mstr(wl, "name"),
		    o->container);
	if (kube_bump_compute(kube_bump_memory(ctr, "requests"),
	    kube_bump_memory(ctr, "limits"), kube_bump_pod_limit(pod,
	    o->container, o->init), &rq->opts, &o->result, &err) < 0) {
		outcome(o, KUBE_BUMP_REFUSED, "unsupported-target", "%s %s/%s "
		    "container %s: %s", kind, mstr(wl, "namespace"),
		    mstr(wl, "name"), o->container, err);
		free(err);
		return -1;
	}
	if (o->result.at_cap) {
		char cap[QUANTITY_FMTLEN];

		quantity_format(&rq->opts.cap, cap, sizeof cap);
		return outcome(o, KUBE_BUMP_REFUSED, "at-cap", "at cap: "
		    "container %s of %s %s/%s requests %s, at or above the "
		    "cap %s; nothing changed", o->container, kind,
		    mstr(wl, "namespace"), mstr(wl, "name"),
		    o->result.request_old[0] ? o->result.request_old :
		    o->result.request_new, cap);
	}
	note = change_note(o, pod, rq);
	json_decref(o->patch);
	o->patch = kube_bump_patch(o->container, o->init, mstr(wl,
	    "resourceVersion"), &o->result, note);
	free(note);
	describe_change(o, rq->dry_run == KUBE_DRY_RUN_CLIENT ?
	    "would raise" : "raised", pod, oom);
	return 0;
}

/* Where the patch goes, for the record and --dry-run's output. */
static char *
patch_path(struct kube_client *c, json_t *wl)
{
	struct kube_resource r;
	struct kube_error e;
	char *p;

	kube_error_init(&e);
	if (kube_resource_for(c, json_string_value(json_object_get(wl,
	    "apiVersion")), json_string_value(json_object_get(wl, "kind")),
	    &r, &e) < 0) {
		kube_error_clear(&e);
		return NULL;
	}
	p = kube_resource_path(&r, mstr(wl, "namespace"), mstr(wl, "name"),
	    NULL);
	kube_resource_clear(&r);
	return p;
}

static void
record(struct kube_client *c, const struct kube_bump_req *rq,
    struct kube_bump_outcome *o, int ok)
{
	struct kube_error e;

	if (!rq->record_event || o->target == NULL ||
	    rq->dry_run != KUBE_DRY_RUN_NONE)
		return;
	kube_error_init(&e);
	/* best effort: the patch is what matters; its outcome is reported */
	(void)kube_record_event(c, o->target, ok ? "Remediated" :
	    "RemediationFailed", o->message, ok ? "Normal" : "Warning", &e);
	kube_error_clear(&e);
}

/*
 * The conflict was our own write: the client resent the patch after a
 * 5xx the API server gave although it had carried it out, and the resend's
 * resourceVersion was stale.  The bump is done; doing it again would raise
 * the memory twice for one kill.
 */
static void
confirmed(struct kube_client *c, const struct kube_bump_req *rq,
    struct kube_bump_outcome *o, json_t *wl)
{
	char *m = o->message;

	o->message = xasprintf("%s; confirmed by re-reading %s %s (the "
	    "patch was carried out, its answer lost)", m, json_string_value(
	    json_object_get(wl, "kind")), mstr(wl, "name"));
	free(m);
	o->status = KUBE_BUMP_PATCHED;
	o->confirmed = 1;
	json_decref(o->answer);
	o->answer = json_incref(wl);
	record(c, rq, o, 1);
}

int
kube_bump_run(struct kube_client *c, const struct kube_bump_req *rq,
    struct kube_bump_outcome *o)
{
	struct kube_error e;
	json_t *pod, *wl = NULL, *oom;
	const char *cname, *key = rq->optin_key ? rq->optin_key : OPTIN_KEY;
	char *err = NULL;
	int attempt, rc = -1;

	memset(o, 0, sizeof *o);
	kube_error_init(&e);
	if ((pod = kube_get(c, "v1", "Pod", rq->namespace, rq->pod, &e)) ==
	    NULL)
		return api_failed(o, "reading the pod", &e);
	if (kube_bump_pick_container(pod, rq->container, &cname, &o->init,
	    &oom, &err) < 0) {
		outcome(o, KUBE_BUMP_REFUSED, "unsupported-target", "pod %s/%s:"
		    " %s", rq->namespace, rq->pod, err);
		free(err);
		goto out;
	}
	o->container = xstrdup(cname);
	for (attempt = 1; attempt <= BUMP_ATTEMPTS; attempt++) {
		json_decref(wl);
		if (find_workload(c, pod, rq->namespace, &wl, o) < 0)
			goto out;
		if (o->patch && kube_bump_applied(wl, o->patch)) {
			confirmed(c, rq, o, wl);
			rc = 0;
			goto out;
		}
		if (guard_optin_label(wl, key, "true") == -1 ||
		    guard_optin_label(pod, key, "true") == -1) {
			json_decref(o->target);
			o->target = workload_ref(wl);
			outcome(o, KUBE_BUMP_REFUSED, "opt-out", "%s %s/%s "
			    "opts out: it or pod %s has the label %s with a "
			    "value other than true", json_string_value(
			    json_object_get(wl, "kind")), rq->namespace,
			    mstr(wl, "name"), rq->pod, key);
			goto out;
		}
		if (guard_optin_label(wl, key, "true") != 1 &&
		    guard_optin_label(pod, key, "true") != 1) {
			json_decref(o->target);
			o->target = workload_ref(wl);
			outcome(o, KUBE_BUMP_REFUSED, "opt-out", "%s %s/%s is "
			    "not opted in: neither it nor pod %s has the label "
			    "%s=true", json_string_value(json_object_get(wl,
			    "kind")), rq->namespace, mstr(wl, "name"), rq->pod,
			    key);
			goto out;
		}
		if (plan_bump(rq, pod, wl, oom, o) < 0)
			goto out;
		free(o->path);
		o->path = patch_path(c, wl);
		if (rq->dry_run == KUBE_DRY_RUN_CLIENT) {
			o->status = KUBE_BUMP_DRY_RUN;
			rc = 0;
			goto out;
		}
		o->answer = kube_patch(c, json_string_value(json_object_get(wl,
		    "apiVersion")), json_string_value(json_object_get(wl,
		    "kind")), rq->namespace, mstr(wl, "name"),
		    KUBE_PATCH_STRATEGIC, o->patch, rq->dry_run ==
		    KUBE_DRY_RUN_SERVER, &e);
		if (o->answer) {
			o->status = KUBE_BUMP_PATCHED;
			record(c, rq, o, 1);
			rc = 0;
			goto out;
		}
		if (e.status != 409 || attempt == BUMP_ATTEMPTS)
			break;
		/* changed under us, or our own write: the next read tells */
		kube_error_clear(&e);
	}
	{
		char *t = kube_error_text(&e), *what = o->message;

		o->message = NULL;
		outcome(o, KUBE_BUMP_FAILED, NULL, "patching %s %s/%s failed: "
		    "%s", json_string_value(json_object_get(o->target, "kind")),
		    rq->namespace, json_string_value(json_object_get(o->target,
		    "name")), t);
		free(t);
		record(c, rq, o, 0);
		free(what);
	}
out:
	kube_error_clear(&e);
	json_decref(wl);
	json_decref(pod);
	return rc;
}
