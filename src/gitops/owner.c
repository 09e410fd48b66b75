/*
 * GitOps controllers: is the object delivered by Argo CD or Flux, and
 * would they put a live change back?
 *
 * Argo CD marks what it delivers with a tracking annotation,
 * argocd.argoproj.io/tracking-id: "app:group/Kind:namespace/name" (the
 * default from Argo CD 2.x's annotation method on; "ns_app" for an
 * Application outside the control plane's namespace), or the instance
 * label app.kubernetes.io/instance: app (the label method).  Argo CD
 * itself ignores an annotation that names another object (one copied
 * along with a manifest), and so do we.  Helm charts set the instance
 * label too, so a label names an Application only if that Application
 * exists.  Whether a live change survives is the Application's to say:
 * spec.syncPolicy.automated.selfHeal re-syncs any drift.
 *
 * Flux labels what kustomize-controller and helm-controller apply, and
 * re-applies it on every interval unless the object says
 * kustomize.toolkit.fluxcd.io/reconcile: disabled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitops/gitops.h"
#include "util/util.h"

#define TRACKING_ID	"argocd.argoproj.io/tracking-id"

static const char *const default_ignored[] = {
	"kubectl", "kubectl-*", "helm", "argocd-controller",
	"kustomize-controller", "helm-controller", "before-first-apply",
};

json_t *
gitops_ownership_defaults(const json_t *cfg)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:[]}",
	    "argocdNamespace", "argocd", "argocdTracking", "auto",
	    "instanceLabel", "app.kubernetes.io/instance",
	    "fieldManager", "remediate", "ignoreManagers");
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(default_ignored); i++)
		json_array_append_new(json_object_get(o, "ignoreManagers"),
		    json_string(default_ignored[i]));
	if (json_is_object(cfg))
		json_object_update(o, (json_t *)(uintptr_t)cfg);
	return o;
}

static const char *
meta_str(const json_t *obj, const char *map, const char *key)
{
	json_t *m = json_object_get(json_object_get(obj, "metadata"), map);

	return key ? json_string_value(json_object_get(m, key)) :
	    json_string_value(m);
}

static const char *
cfg_str(const json_t *ownership, const char *key)
{
	return json_string_value(json_object_get(ownership, key));
}

/* "Deployment shop/cart" */
static void
describe(const json_t *obj, char *out, size_t len)
{
	const char *ns = meta_str(obj, "namespace", NULL);

	snprintf(out, len, "%s %s%s%s", json_string_value(json_object_get(obj,
	    "kind")), ns ? ns : "", ns ? "/" : "", meta_str(obj, "name",
	    NULL));
}

/*
 * The Application a tracking id names, if the id names obj itself:
 * fills ns/name (owned) and returns 1.
 */
static int
tracking_app(const json_t *obj, const char *id, const char *home,
    char **ns, char **name)
{
	const char *av = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const char *ons = meta_str(obj, "namespace", NULL);
	const char *c = strchr(id, ':'), *slash = av ? strchr(av, '/') : NULL;
	const char *u;
	char *want;
	int ok;

	if (c == NULL || c == id || kind == NULL)
		return 0;
	want = xasprintf(":%.*s/%s:%s/%s", slash ? (int)(slash - av) : 0,
	    av ? av : "", kind, ons ? ons : "", meta_str(obj, "name", NULL));
	ok = strcmp(c, want) == 0;
	free(want);
	if (!ok)
		return 0;	/* copied from another object: not this one */
	if ((u = memchr(id, '_', (size_t)(c - id))) != NULL) {
		*ns = xstrndup(id, (size_t)(u - id));
		*name = xstrndup(u + 1, (size_t)(c - u - 1));
	} else {
		*ns = xstrdup(home);
		*name = xstrndup(id, (size_t)(c - id));
	}
	return 1;
}

/* Which Application tracks obj, per the tracking method; 1 if one. */
static int
argocd_app(const json_t *obj, const json_t *ownership, char **ns,
    char **name)
{
	const char *method = cfg_str(ownership, "argocdTracking");
	const char *home = cfg_str(ownership, "argocdNamespace");
	const char *id = meta_str(obj, "annotations", TRACKING_ID);
	const char *label = meta_str(obj, "labels", cfg_str(ownership,
	    "instanceLabel"));
	int by_label = strcmp(method, "label") == 0;

	if (!by_label && id)
		return tracking_app(obj, id, home, ns, name);
	/* auto: no annotation, so an Argo CD of the label method's */
	if ((by_label || strcmp(method, "auto") == 0) && label && *label) {
		*ns = xstrdup(home);
		*name = xstrdup(label);
		return 1;
	}
	return 0;
}

static int
self_heals(const json_t *app)
{
	json_t *a = json_object_get(json_object_get(json_object_get(app,
	    "spec"), "syncPolicy"), "automated");

	/* Argo CD 3.x may switch automation off in place: enabled: false */
	return json_is_object(a) && !json_is_false(json_object_get(a,
	    "enabled")) && json_is_true(json_object_get(a, "selfHeal"));
}

static json_t *
app_source(const json_t *app)
{
	json_t *spec = json_object_get(app, "spec");
	json_t *s = json_object_get(spec, "source");

	if (s == NULL)
		s = json_array_get(json_object_get(spec, "sources"), 0);
	return s ? json_deep_copy(s) : json_null();
}

static int
argocd(const json_t *obj, const json_t *ownership, gitops_fetch_fn *fetch,
    void *ctx, struct gitops_owner *out)
{
	char *ns = NULL, *name = NULL, *err = NULL, what[160];
	json_t *app = NULL;
	int rc, heal;

	if (!argocd_app(obj, ownership, &ns, &name))
		return 0;
	describe(obj, what, sizeof what);
	rc = fetch(ctx, "argoproj.io/v1alpha1", "Application", ns, name,
	    &app, &err);
	if (rc == -1) {
		snprintf(out->message, sizeof out->message, "cannot tell "
		    "whether Argo CD Application %s/%s self-heals %s: %s", ns,
		    name, what, err ? err : "unreadable");
		rc = -1;
		goto out;
	}
	rc = 0;
	if (app == NULL)
		goto out;	/* an instance label of Helm's, not Argo CD's */
	heal = self_heals(app);
	out->owner = json_pack("{s:s, s:s, s:b, s:o}", "controller", "argocd",
	    "application", "", "selfHeal", heal, "source", app_source(app));
	json_object_set_new(out->owner, "application", json_sprintf("%s/%s",
	    ns, name));
	if (heal) {
		out->verdict = GITOPS_MANAGED;
		snprintf(out->message, sizeof out->message, "%s is delivered "
		    "by Argo CD Application %s/%s, which self-heals: a live "
		    "change would be reverted", what, ns, name);
	}
out:
	json_decref(app);
	free(ns);
	free(name);
	free(err);
	return rc;
}

static void
flux(const json_t *obj, struct gitops_owner *out)
{
	/* the labels' keys written out: every decision asks */
	static const struct {
		const char *kind, *name, *ns;
	} kinds[] = {
		{ "Kustomization", "kustomize.toolkit.fluxcd.io/name",
		    "kustomize.toolkit.fluxcd.io/namespace" },
		{ "HelmRelease", "helm.toolkit.fluxcd.io/name",
		    "helm.toolkit.fluxcd.io/namespace" },
	};
	const char *r = meta_str(obj, "annotations",
	    "kustomize.toolkit.fluxcd.io/reconcile");
	char what[160];
	const char *name, *ns;
	size_t i;

	if (r && strcmp(r, "disabled") == 0)
		return;
	for (i = 0; i < UTIL_ARRAY_LEN(kinds); i++) {
		if ((name = meta_str(obj, "labels", kinds[i].name)) == NULL)
			continue;
		ns = meta_str(obj, "labels", kinds[i].ns);
		describe(obj, what, sizeof what);
		json_decref(out->owner);
		out->owner = json_pack("{s:s, s:s, s:s}", "controller", "flux",
		    "kind", kinds[i].kind, "name", "");
		json_object_set_new(out->owner, "name", json_sprintf("%s%s%s",
		    ns ? ns : "", ns ? "/" : "", name));
		out->verdict = GITOPS_MANAGED;
		snprintf(out->message, sizeof out->message, "%s is applied by "
		    "Flux %s %s%s%s, which re-applies it: a live change would "
		    "be reverted", what, kinds[i].kind, ns ? ns : "",
		    ns ? "/" : "", name);
		return;
	}
}

int
gitops_controller(const json_t *obj, const json_t *ownership,
    gitops_fetch_fn *fetch, void *ctx, struct gitops_owner *out)
{
	if (argocd(obj, ownership, fetch, ctx, out) == -1)
		return -1;
	if (out->verdict == GITOPS_FREE)
		flux(obj, out);
	return 0;
}
