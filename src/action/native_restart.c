/*
 * restartPod: delete a pod so that its controller recreates it, the
 * article's "delete and recreate is safe" case.
 *
 * Refused (unsupported-target) where nothing would recreate the pod or
 * where a delete has side effects: a bare Pod (gone for good), a static
 * (mirror) pod (the kubelet owns it; the API delete does nothing), a
 * Job's pod (the delete counts as a failure against backoffLimit and
 * reruns work).  A pod already terminating needs nothing.
 *
 * For maxClusterImpact the restart moves this pod plus the workload's
 * other pods that are not Ready (they are down already: restarting one
 * more takes the workload further down), read from the controller's
 * status counters; without status the others count as ready.
 *
 * The DELETE carries a uid precondition: if the pod was replaced by a new
 * one of the same name (a StatefulSet) since planning, the server answers
 * 409 and nothing is deleted.  A pod already gone (404) counts as done:
 * its controller has recreated it.
 */
#include <stdlib.h>
#include <string.h>

#include "action/native_int.h"

static int
is_kind(json_t *obj, const char *want)
{
	const char *k = json_string_value(json_object_get(obj, "kind"));

	return k && strcmp(k, want) == 0;
}

static int
pod_ready(json_t *pod)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(pod, "status"),
	    "conditions"), i, c) {
		const char *t = json_string_value(json_object_get(c, "type"));
		const char *s = json_string_value(json_object_get(c, "status"));

		if (t && strcmp(t, "Ready") == 0)
			return s && strcmp(s, "True") == 0;
	}
	/* no conditions (a snapshot without them): running means ready */
	return json_string_value(json_object_get(json_object_get(pod,
	    "status"), "phase")) != NULL && strcmp(json_string_value(
	    json_object_get(json_object_get(pod, "status"), "phase")),
	    "Running") == 0;
}

static long
status_int(json_t *w, const char *key, long def)
{
	json_t *v = json_object_get(json_object_get(w, "status"), key);

	return json_is_integer(v) ? (long)json_integer_value(v) : def;
}

/* Pods of workload w that are not Ready, from its status; 0 unknown. */
static long
not_ready(json_t *w)
{
	long total, ready;

	if (w == NULL || !json_is_object(json_object_get(w, "status")))
		return 0;
	if (is_kind(w, "DaemonSet")) {
		total = status_int(w, "desiredNumberScheduled", 0);
		ready = status_int(w, "numberReady", total);
	} else if (is_kind(w, "Pod")) {
		return 0;
	} else {
		total = status_int(w, "replicas", 0);
		ready = status_int(w, "readyReplicas", 0);
	}
	return total > ready ? total - ready : 0;
}

int
act_native_restart(const struct native_in *in, struct act_plan *out,
    struct act_verdict *v, char **err)
{
	json_t *pod = in->subject, *ref, *plan, *opts, *g;
	const char *ns, *name, *uid, *rkind, *rname;
	char *path;
	long others;

	if (pod == NULL) {
		*err = xstrdup("the pod to restart is not in the cluster "
		    "view");
		return -1;
	}
	if (!is_kind(pod, "Pod"))
		return act_refuse(v, ACT_UNSUPPORTED, "restartPod deletes a "
		    "pod; the signal's object is %s %s", json_string_value(
		    json_object_get(pod, "kind")), act_meta(pod, "name"));
	ns = act_meta(pod, "namespace");
	name = act_meta(pod, "name");
	uid = act_meta(pod, "uid");
	if (json_object_get(json_object_get(json_object_get(pod, "metadata"),
	    "annotations"), "kubernetes.io/config.mirror"))
		return act_refuse(v, ACT_UNSUPPORTED, "pod %s/%s is a static "
		    "pod: the kubelet owns it and an API delete does not "
		    "restart it", ns, name);
	if ((ref = kube_controller_ref(pod)) == NULL)
		return act_refuse(v, ACT_UNSUPPORTED, "pod %s/%s is a bare Pod "
		    "(no controller): deleting it would not bring it back",
		    ns, name);
	rkind = json_string_value(json_object_get(ref, "kind"));
	rname = json_string_value(json_object_get(ref, "name"));
	if (rkind && strcmp(rkind, "Node") == 0)
		return act_refuse(v, ACT_UNSUPPORTED, "pod %s/%s is a static "
		    "pod of node %s: the kubelet owns it", ns, name, rname);
	if (rkind && strcmp(rkind, "Job") == 0)
		return act_refuse(v, ACT_UNSUPPORTED, "pod %s/%s belongs to "
		    "Job %s: deleting it counts as a failed attempt and reruns "
		    "the work", ns, name, rname);
	if (act_meta(pod, "deletionTimestamp"))
		return act_refuse(v, ACT_NOT_NEEDED, "pod %s/%s is already "
		    "terminating", ns, name);
	if ((path = act_path("v1", "Pod", ns, name)) == NULL) {
		*err = xstrdup("no path for pods");
		return -1;
	}
	opts = json_pack("{s:s, s:s, s:s}", "apiVersion", "v1", "kind",
	    "DeleteOptions", "propagationPolicy", "Background");
	g = json_object_get(in->spec, "gracePeriodSeconds");
	if (json_is_integer(g))
		json_object_set(opts, "gracePeriodSeconds", g);
	if (uid)
		json_object_set_new(opts, "preconditions", json_pack("{s:s}",
		    "uid", uid));
	plan = act_plan_new("restartPod", "delete", pod);
	act_plan_request(plan, "DELETE", path, "application/json", opts);
	free(path);
	json_object_set_new(plan, "change", json_pack("{s:s, s:{s:s?, s:s?},"
	    " s:O?}", "pod", name, "controller", "kind", rkind, "name", rname,
	    "gracePeriodSeconds", json_is_integer(g) ? g : NULL));
	out->plan = plan;
	out->operation = "DELETE";
	out->object = json_incref(pod);
	out->old = json_incref(pod);
	others = not_ready(in->target && in->target != pod ? in->target :
	    NULL);
	if (others > 0 && !pod_ready(pod))
		others--;	/* counted already: it is this pod */
	v->kind = ACT_GO;
	v->pods = 1 + others;
	snprintf(v->message, sizeof v->message, "delete pod %s/%s so %s %s "
	    "recreates it (%ld other pod%s of the workload not ready)", ns,
	    name, rkind ? rkind : "its controller", rname ? rname : "",
	    others, others == 1 ? "" : "s");
	return 0;
}

int
act_exec_restart(struct kube_client *c, const json_t *plan, int dry_run,
    json_t *result, char **err)
{
	const json_t *req = json_array_get(json_object_get(plan, "requests"),
	    0);
	json_t *answer;
	long status;

	answer = act_send(c, req, NULL, dry_run, result, &status, err);
	if (answer) {
		json_object_set_new(result, "deleted", json_true());
		json_decref(answer);
		return 0;
	}
	if (status == 404) {
		/* gone already: its controller recreates it all the same */
		free(*err);
		*err = NULL;
		json_object_set_new(result, "deleted", json_false());
		json_object_set_new(result, "note", json_string("the pod was "
		    "already gone"));
		return 0;
	}
	if (status == 409) {
		char *e = *err;

		*err = xasprintf("the pod was replaced after the plan was made "
		    "(uid precondition); nothing deleted: %s", e);
		free(e);
	}
	return -1;
}
