/*
 * Native actions: the remediations a `remediate:` trigger names, planned
 * from the cluster view and run through the Kubernetes client.
 *
 * What is safe to automate is the seed article's list, and each action
 * keeps to it: bumpMemory raises an OOMKilled container's memory in its
 * controller's template (the same arithmetic and patch as `remediate
 * bump-memory`, capped); restartPod deletes a pod so that its controller
 * recreates it ("delete and recreate is safe"), never a bare pod;
 * argocdSync retries a stuck or failed Argo CD sync the way the argocd
 * CLI does, through the Application's `operation` field; quarantine
 * labels a pod and isolates it with a deny-all NetworkPolicy, and pages:
 * security events are contained, never "fixed" (no delete, no restart).
 * Node-local log rotation is out of a cluster API's reach and is refused
 * by the schema rather than faked.
 *
 * Two halves.  Planning (act_plan_native) is pure: it reads the cluster
 * view and the clock it is given, so replay, dry-run and confirm show the
 * exact requests auto would send, and the verdict tells the engine what
 * the guardrails need (at-cap, unsupported-target, the pods moved for
 * maxClusterImpact).  Executing (act_execute_native) sends those
 * requests, in order, and copes with what changed since planning instead
 * of sending stale intent (each action's file says how).
 */
#include <stdlib.h>
#include <string.h>

#include "action/native_int.h"

#define MAX_ANSWER	(4u << 20)	/* bytes of one answer we read */

static const struct {
	const char	*name;
	int		(*plan)(const struct native_in *, struct act_plan *,
			    struct act_verdict *, char **);
	int		(*exec)(struct kube_client *, const json_t *, int,
			    json_t *, char **);
} actions[] = {
	{ "bumpMemory", act_native_bump, act_exec_bump },
	{ "restartPod", act_native_restart, act_exec_restart },
	{ "argocdSync", act_native_argocd, act_exec_argocd },
	{ "quarantine", act_native_quarantine, act_exec_quarantine },
};

int
act_refuse(struct act_verdict *v, enum act_verdict_kind k, const char *fmt,
    ...)
{
	va_list ap;

	v->kind = k;
	va_start(ap, fmt);
	vsnprintf(v->message, sizeof v->message, fmt, ap);
	va_end(ap);
	return 0;
}

const char *
act_meta(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj,
	    "metadata"), key));
}

const char *
act_api_version(json_t *obj)
{
	static const struct {
		const char *kind, *av;
	} tab[] = {
		{ "Pod", "v1" }, { "Deployment", "apps/v1" },
		{ "StatefulSet", "apps/v1" }, { "DaemonSet", "apps/v1" },
		{ "ReplicaSet", "apps/v1" }, { "Job", "batch/v1" },
		{ "Application", "argoproj.io/v1alpha1" },
		{ "NetworkPolicy", "networking.k8s.io/v1" },
	};
	const char *av = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	size_t i;

	for (i = 0; av == NULL && kind && i < UTIL_ARRAY_LEN(tab); i++)
		if (strcmp(tab[i].kind, kind) == 0)
			av = tab[i].av;
	return av;
}

json_t *
act_ref(json_t *obj)
{
	return json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?}", "apiVersion",
	    act_api_version(obj), "kind",
	    json_string_value(json_object_get(obj, "kind")), "namespace",
	    act_meta(obj, "namespace"), "name", act_meta(obj, "name"), "uid",
	    act_meta(obj, "uid"));
}

char *
act_path(const char *api_version, const char *kind, const char *ns,
    const char *name)
{
	struct kube_resource r;
	char *p;

	if (api_version == NULL || kind == NULL ||
	    kube_resource_builtin(api_version, kind, &r) < 0)
		return NULL;
	p = kube_resource_path(&r, ns, name, NULL);
	kube_resource_clear(&r);
	return p;
}

json_t *
act_plan_new(const char *action, const char *op, json_t *obj)
{
	return json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:o, s:[]}",
	    "type", "remediate", "action", action, "operation", op,
	    "apiVersion", act_api_version(obj), "kind", json_string_value(
	    json_object_get(obj, "kind")), "namespace", act_meta(obj, "namespace"), "name",
	    act_meta(obj, "name"), "target", act_ref(obj), "requests");
}

json_t *
act_plan_request(json_t *plan, const char *method, const char *path,
    const char *content_type, json_t *body)
{
	json_t *r = json_pack("{s:s, s:s}", "method", method, "path", path);

	if (content_type)
		json_object_set_new(r, "contentType", json_string(
		    content_type));
	if (body)
		json_object_set_new(r, "body", body);
	json_array_append_new(json_object_get(plan, "requests"), r);
	return r;
}

int
act_plan_native(const struct sensor_trigger *t, json_t *spec,
    json_t *target, json_t *subject, const struct cluster *cl, int64_t now,
    struct act_plan *out, struct act_verdict *v, char **err)
{
	struct native_in in;
	size_t i;
	int rc;

	memset(out, 0, sizeof *out);
	memset(v, 0, sizeof *v);
	*err = NULL;
	if (!json_is_object(spec)) {
		*err = xstrdup("the remediate block is not an object");
		return -1;
	}
	for (i = 0; i < UTIL_ARRAY_LEN(actions); i++) {
		if (json_object_get(spec, actions[i].name) == NULL)
			continue;
		memset(&in, 0, sizeof in);
		in.trigger = t;
		in.spec = json_object_get(spec, actions[i].name);
		if (json_is_null(in.spec))
			in.spec = NULL;	/* "restartPod:" with no fields */
		if (in.spec != NULL && !json_is_object(in.spec)) {
			*err = xasprintf("remediate.%s is not an object",
			    actions[i].name);
			return -1;
		}
		in.target = target;
		in.subject = subject;
		in.cluster = cl;
		in.now = now;
		v->action = actions[i].name;
		rc = actions[i].plan(&in, out, v, err);
		if (rc == -1 || v->kind != ACT_GO)
			act_plan_clear(out);
		else {	/* what changes, in words, for records and people */
			json_object_set_new(out->plan, "summary",
			    json_string(v->message));
			/* the record alone tells the pager (quarantine) */
			if (v->page)
				json_object_set_new(out->plan, "page",
				    json_true());
		}
		return rc;
	}
	if (json_object_get(spec, "rotateLogs"))
		*err = xstrdup("rotateLogs is not supported: node-local log "
		    "rotation is outside the cluster API's reach");
	else
		*err = xstrdup("the remediate block names no action: give "
		    "bumpMemory, restartPod, argocdSync or quarantine");
	return -1;
}

int
act_plan_admission(const struct act_plan *p, size_t i,
    struct act_admission *a)
{
	json_t *r;
	size_t j, n = 0;

	memset(a, 0, sizeof *a);
	if (p->object) {
		if (i == 0) {
			a->operation = p->operation;
			a->object = p->object;
			a->old = p->old;
			return 0;
		}
		n = 1;
	}
	json_array_foreach(json_object_get(p->plan, "requests"), j, r) {
		const char *op = json_string_value(json_object_get(r,
		    "admit"));

		if (op == NULL || !json_is_object(json_object_get(r, "body")))
			continue;
		if (n++ == i) {
			a->operation = op;
			a->object = json_object_get(r, "body");
			return 0;
		}
	}
	return -1;
}

/* ---- executing -------------------------------------------------------- */

json_t *
act_get(struct kube_client *c, const char *path, long *status, char **err)
{
	struct kube_req rq;
	struct kube_error e;
	json_t *o;

	memset(&rq, 0, sizeof rq);
	rq.method = "GET";
	rq.path = path;
	rq.max_body = MAX_ANSWER;
	kube_error_init(&e);
	if ((o = kube_request_json(c, &rq, &e)) == NULL) {
		char *t = kube_error_text(&e);

		*status = e.status;
		*err = xasprintf("GET %s: %s", path, t);
		free(t);
	}
	kube_error_clear(&e);
	return o;
}

json_t *
act_send(struct kube_client *c, const json_t *req, const json_t *override,
    int dry_run, json_t *result, long *status, char **err)
{
	const char *method = json_string_value(json_object_get(req, "method"));
	const char *path = json_string_value(json_object_get(req, "path"));
	const json_t *body = override ? override : json_object_get(req,
	    "body");
	struct kube_response resp;
	struct kube_error e;
	struct kube_req rq;
	json_t *answer = NULL, *entry, *found;
	char *text = NULL, *full;
	int rc;

	*status = 0;
	*err = NULL;
	if (method == NULL || path == NULL) {
		*err = xstrdup("a planned request has no method or path");
		return NULL;
	}
	full = dry_run ? xasprintf("%s%cdryRun=All", path,
	    strchr(path, '?') ? '&' : '?') : xstrdup(path);
	memset(&rq, 0, sizeof rq);
	rq.method = method;
	rq.path = full;
	rq.max_body = MAX_ANSWER;
	rq.content_type = json_string_value(json_object_get(req,
	    "contentType"));
	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		rq.body = text;
		rq.len = text ? strlen(text) : 0;
		if (rq.content_type == NULL)
			rq.content_type = "application/json";
	}
	/* a POST that may have happened is not blindly repeated */
	rq.no_retry_5xx = strcmp(method, "POST") == 0;
	kube_error_init(&e);
	memset(&resp, 0, sizeof resp);
	rc = kube_request(c, &rq, &resp, &e);
	*status = rc == 0 ? resp.status : e.status;
	entry = json_pack("{s:s, s:s, s:I}", "method", method, "path", full,
	    "status", (json_int_t)*status);
	/* the client's own retries: a 5xx before the status above may have
	   been carried out, and the record must not hide that it was sent */
	if (e.attempts > 1)
		json_object_set_new(entry, "attempts", json_integer(
		    e.attempts));
	json_array_append_new(json_object_get(result, "responses"), entry);
	/* a create that timed out may have been carried out: the object is
	 * looked up before the action counts as failed */
	if (rc != 0 && e.timed_out && !dry_run && rq.no_retry_5xx &&
	    json_is_object(body) && (found = kube_created_after_timeout(c,
	    body, &e)) != NULL) {
		answer = json_incref(json_object_get(found, "object"));
		json_object_set_new(entry, "verifiedAfter",
		    json_string("timeout"));
		json_object_set_new(result, "verifiedAfter",
		    json_string("timeout"));
		json_decref(found);
	} else if (rc == 0) {
		if (resp.len > 0)
			answer = util_json_loadb(resp.body, resp.len, 0, NULL);
	} else {
		char *t = kube_error_text(&e);

		*err = xasprintf("%s %s: %s", method, path, t);
		free(t);
	}
	kube_response_clear(&resp);
	kube_error_clear(&e);
	free(text);
	free(full);
	if (rc == 0 && answer == NULL)
		answer = json_object();	/* 2xx, empty or not JSON */
	return answer;
}

int
act_execute_native(void *ctx, const json_t *plan, int dry_run,
    json_t **result, char **err)
{
	struct kube_client *c = ctx;
	const char *type = json_string_value(json_object_get(plan, "type"));
	const char *action = json_string_value(json_object_get(plan,
	    "action"));
	size_t i;

	*result = NULL;
	*err = NULL;
	if (type == NULL || strcmp(type, "remediate") != 0 || action == NULL) {
		*err = xasprintf("not a native action plan (type %s)",
		    type ? type : "missing");
		return -1;
	}
	if (c == NULL) {
		*err = xstrdup("no Kubernetes client to run the action with");
		return -1;
	}
	for (i = 0; i < UTIL_ARRAY_LEN(actions); i++) {
		if (strcmp(action, actions[i].name) != 0)
			continue;
		*result = json_pack("{s:s, s:b, s:[]}", "action", action,
		    "dryRun", dry_run, "responses");
		if (actions[i].exec(c, plan, dry_run, *result, err) == -1) {
			json_decref(*result);
			*result = NULL;
			if (*err == NULL)
				*err = xasprintf("%s failed", action);
			return -1;
		}
		return 0;
	}
	*err = xasprintf("unknown native action \"%s\"", action);
	return -1;
}
