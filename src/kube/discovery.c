/*
 * Discovery: which plural resource serves a kind, and whether it is
 * namespaced.  The server's /api/v1 and /apis/GROUP/VERSION documents are
 * the truth (custom resources are only there); they are fetched once per
 * group/version and kept for the client's life.  When the server cannot
 * answer (down, forbidden) the built-in table of the kinds remediate acts
 * on keeps things working.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube_int.h"
#include "util/util.h"

static const struct builtin {
	const char	*group, *version, *kind, *resource;
	int		 namespaced;
} builtins[] = {
	{ "", "v1", "Pod", "pods", 1 },
	{ "", "v1", "Event", "events", 1 },
	{ "", "v1", "Namespace", "namespaces", 0 },
	{ "", "v1", "Node", "nodes", 0 },
	{ "", "v1", "ConfigMap", "configmaps", 1 },
	{ "", "v1", "Secret", "secrets", 1 },
	{ "", "v1", "Service", "services", 1 },
	{ "", "v1", "ServiceAccount", "serviceaccounts", 1 },
	{ "", "v1", "Endpoints", "endpoints", 1 },
	{ "", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", 1 },
	{ "", "v1", "PersistentVolume", "persistentvolumes", 0 },
	{ "", "v1", "ReplicationController", "replicationcontrollers", 1 },
	{ "", "v1", "ResourceQuota", "resourcequotas", 1 },
	{ "", "v1", "LimitRange", "limitranges", 1 },
	{ "apps", "v1", "Deployment", "deployments", 1 },
	{ "apps", "v1", "StatefulSet", "statefulsets", 1 },
	{ "apps", "v1", "DaemonSet", "daemonsets", 1 },
	{ "apps", "v1", "ReplicaSet", "replicasets", 1 },
	{ "apps", "v1", "ControllerRevision", "controllerrevisions", 1 },
	{ "batch", "v1", "Job", "jobs", 1 },
	{ "batch", "v1", "CronJob", "cronjobs", 1 },
	{ "autoscaling", "v1", "HorizontalPodAutoscaler",
	    "horizontalpodautoscalers", 1 },
	{ "autoscaling", "v2", "HorizontalPodAutoscaler",
	    "horizontalpodautoscalers", 1 },
	{ "policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", 1 },
	{ "networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", 1 },
	{ "networking.k8s.io", "v1", "Ingress", "ingresses", 1 },
	{ "coordination.k8s.io", "v1", "Lease", "leases", 1 },
	{ "events.k8s.io", "v1", "Event", "events", 1 },
	{ "rbac.authorization.k8s.io", "v1", "Role", "roles", 1 },
	{ "rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings",
	    1 },
	{ "rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles",
	    0 },
	{ "rbac.authorization.k8s.io", "v1", "ClusterRoleBinding",
	    "clusterrolebindings", 0 },
	{ "argoproj.io", "v1alpha1", "Workflow", "workflows", 1 },
	{ "argoproj.io", "v1alpha1", "Application", "applications", 1 },
	{ "argoproj.io", "v1alpha1", "AppProject", "appprojects", 1 },
	{ "argoproj.io", "v1alpha1", "EventSource", "eventsources", 1 },
	{ "argoproj.io", "v1alpha1", "Sensor", "sensors", 1 },
	{ "kyverno.io", "v1", "ClusterPolicy", "clusterpolicies", 0 },
	{ "kyverno.io", "v1", "Policy", "policies", 1 },
};

void
kube_resource_clear(struct kube_resource *r)
{
	free(r->group);
	free(r->version);
	free(r->resource);
	free(r->kind);
	memset(r, 0, sizeof *r);
}

static void
fill(struct kube_resource *out, const char *g, const char *v,
    const char *kind, const char *res, int ns)
{
	out->group = xstrdup(g);
	out->version = xstrdup(v);
	out->kind = xstrdup(kind);
	out->resource = xstrdup(res);
	out->namespaced = ns;
}

int
kube_resource_builtin(const char *api_version, const char *kind,
    struct kube_resource *out)
{
	char *g, *v;
	size_t i;
	int rc = -1;

	memset(out, 0, sizeof *out);
	kube_split_api_version(api_version, &g, &v);
	for (i = 0; i < UTIL_ARRAY_LEN(builtins); i++) {
		const struct builtin *b = &builtins[i];

		if (strcmp(b->group, g) == 0 && strcmp(b->version, v) == 0 &&
		    strcmp(b->kind, kind) == 0) {
			fill(out, g, v, kind, b->resource, b->namespaced);
			rc = 0;
			break;
		}
	}
	free(g);
	free(v);
	return rc;
}

/* The discovery document of gv: cached, or fetched; NULL with *err. */
static json_t *
discover(struct kube_client *c, const char *group, const char *version,
    struct kube_error *err)
{
	char *gv, *path, *eg, *ev;
	json_t *doc;
	struct kube_req rq = { 0 };
	struct retry once = { 2, 200, 2.0, 0.2, 1000, 0 };

	gv = xasprintf("%s/%s", group, version);
	if ((doc = kube_discovery_cached(c, gv)) != NULL) {
		free(gv);
		return doc;
	}
	eg = kube_escape(group);
	ev = kube_escape(version);
	path = *group ? xasprintf("/apis/%s/%s", eg, ev) :
	    xasprintf("/api/%s", ev);
	rq.method = "GET";
	rq.path = path;
	rq.retry = &once;
	doc = kube_request_json(c, &rq, err);
	if (doc && !json_is_array(json_object_get(doc, "resources"))) {
		kube_error_set(err, "GET %s: not an APIResourceList", path);
		json_decref(doc);
		doc = NULL;
	}
	if (doc)
		kube_discovery_store(c, gv, doc);
	free(path);
	free(eg);
	free(ev);
	free(gv);
	return doc;
}

int
kube_resource_for(struct kube_client *c, const char *api_version,
    const char *kind, struct kube_resource *out, struct kube_error *err)
{
	char *g, *v;
	json_t *doc, *res;
	size_t i;
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (kind == NULL || *kind == '\0') {
		kube_error_set(err, "no kind given");
		return -1;
	}
	if (c == NULL) {
		if (kube_resource_builtin(api_version, kind, out) == 0)
			return 0;
		kube_error_set(err, "kind %s in %s is not known without a "
		    "server to ask", kind, api_version ? api_version : "v1");
		return -1;
	}
	kube_split_api_version(api_version, &g, &v);
	if ((doc = discover(c, g, v, err)) == NULL) {
		if (err->status != 404 &&
		    kube_resource_builtin(api_version, kind, out) == 0) {
			kube_error_clear(err);
			rc = 0;
		} else if (err->status == 404) {
			kube_error_set(err, "the server does not serve %s "
			    "(no kind %s there)", *g ? api_version :
			    v, kind);
			err->reason = xstrdup(KUBE_NOT_SERVED);
		}
		goto out;
	}
	json_array_foreach(json_object_get(doc, "resources"), i, res) {
		const char *k = json_string_value(json_object_get(res,
		    "kind"));
		const char *n = json_string_value(json_object_get(res,
		    "name"));

		/* subresources ("deployments/scale") share kinds */
		if (k && n && strcmp(k, kind) == 0 && strchr(n, '/') == NULL) {
			fill(out, g, v, kind, n, json_is_true(
			    json_object_get(res, "namespaced")));
			rc = 0;
			break;
		}
	}
	if (rc < 0) {
		kube_error_set(err, "the server has no resource for kind %s "
		    "in %s", kind, api_version ? api_version : "v1");
		err->reason = xstrdup(KUBE_NOT_SERVED);
	}
	json_decref(doc);
out:
	free(g);
	free(v);
	return rc;
}

char *
kube_resource_path(const struct kube_resource *r, const char *ns,
    const char *name, const char *sub)
{
	struct buf b;
	char *e;

	buf_init(&b, 0);
	if (*r->group)
		buf_printf(&b, "/apis/%s/%s", r->group, r->version);
	else
		buf_printf(&b, "/api/%s", r->version);
	if (r->namespaced && ns && *ns) {
		e = kube_escape(ns);
		buf_printf(&b, "/namespaces/%s", e);
		free(e);
	}
	buf_printf(&b, "/%s", r->resource);
	if (name) {
		e = kube_escape(name);
		buf_printf(&b, "/%s", e);
		free(e);
		if (sub)
			buf_printf(&b, "/%s", sub);
	}
	return buf_steal(&b);
}
