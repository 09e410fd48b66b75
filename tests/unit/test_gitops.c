/*
 * gitops: the fields a write sets, who owns them (managedFields as the
 * API server writes them), and the GitOps controllers of an object.
 * Objects come from tests/data/gitops (see its README).
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "gitops/gitops.h"
#include "harness.h"
#include "util/retry.h"
#include "util/util.h"

#define DATA	"tests/data/gitops/"

static json_t *
load(const char *name)
{
	char path[256];
	json_t *j;

	snprintf(path, sizeof path, DATA "%s", name);
	j = json_load_file(path, 0, NULL);
	if (j == NULL) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(1);
	}
	return j;
}

/* A fetch over a fixed set of objects, counting calls; err: fail. */
struct world {
	json_t	*objs[4];
	int	 calls;
	int	 fail;
};

static int
fetch(void *ctx, const char *av, const char *kind, const char *ns,
    const char *name, json_t **out, char **err)
{
	struct world *w = ctx;
	size_t i;

	(void)av;
	w->calls++;
	*out = NULL;
	if (w->fail) {
		*err = strdup("403 Forbidden: no");
		return -1;
	}
	for (i = 0; i < 4 && w->objs[i]; i++) {
		json_t *md = json_object_get(w->objs[i], "metadata");
		const char *n = json_string_value(json_object_get(md, "name"));
		const char *s = json_string_value(json_object_get(md,
		    "namespace"));

		if (strcmp(json_string_value(json_object_get(w->objs[i],
		    "kind")), kind) == 0 && strcmp(n, name) == 0 &&
		    strcmp(s ? s : "", ns ? ns : "") == 0) {
			*out = json_incref(w->objs[i]);
			return 0;
		}
	}
	return 1;
}

static void
world_clear(struct world *w)
{
	size_t i;

	for (i = 0; i < 4; i++)
		json_decref(w->objs[i]);
}

/* The patch bumpMemory sends (kube_bump_patch's shape). */
static json_t *
bump_patch(const char *container)
{
	return json_pack("{s:{s:s, s:{s:s}}, s:{s:{s:{s:[{s:s, s:{s:{s:s}, "
	    "s:{s:s}}}]}}}}", "metadata", "resourceVersion", "193",
	    "annotations", "remediation.platform/last-action",
	    "memory-request-raise", "spec", "template", "spec", "containers",
	    "name", container, "resources", "requests", "memory", "160Mi",
	    "limits", "memory", "320Mi");
}

/* The fields bumpMemory's patch of container writes, by strategy. */
static json_t *
bump_fields(const char *container, const char *strategy)
{
	json_t *p = bump_patch(container);
	json_t *f = gitops_fields_of(p, strategy, NULL);

	json_decref(p);
	return f;
}

static json_t *
bump_plan(const char *ns, const char *name, const char *container)
{
	json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[]}",
	    "type", "remediate", "action", "bumpMemory", "operation", "patch",
	    "apiVersion", "apps/v1", "kind", "Deployment", "namespace", ns,
	    "name", name, "requests");
	char path[160];

	snprintf(path, sizeof path, "/apis/apps/v1/namespaces/%s/deployments/"
	    "%s", ns, name);
	json_array_append_new(json_object_get(p, "requests"), json_pack(
	    "{s:s, s:s, s:s, s:o}", "method", "PATCH", "path", path,
	    "contentType", "application/strategic-merge-patch+json", "body",
	    bump_patch(container)));
	return p;
}

static int
has_path(json_t *fields, const char *text)
{
	json_t *p;
	size_t i;
	int found = 0;

	json_array_foreach(fields, i, p) {
		char *t = gitops_path_text(p);

		found |= strcmp(t, text) == 0;
		free(t);
	}
	return found;
}

static int
has_edit(json_t *edits, const char *path, const char *value)
{
	json_t *e;
	size_t i;

	json_array_foreach(edits, i, e)
		if (strcmp(json_string_value(json_object_get(e, "path")),
		    path) == 0 && strcmp(json_string_value(json_object_get(e,
		    "value")), value) == 0)
			return 1;
	return 0;
}

TEST(fields_of_a_strategic_patch_key_containers_by_name)
{
	json_t *f = bump_fields("app", "strategic");

	CHECK_INT((int)json_array_size(f), 3);
	CHECK(has_path(f, "spec.template.spec.containers[name=app]."
	    "resources.requests.memory"));
	CHECK(has_path(f, "spec.template.spec.containers[name=app]."
	    "resources.limits.memory"));
	CHECK(has_path(f, "metadata.annotations."
	    "remediation.platform/last-action"));
	json_decref(f);
	/* a merge patch replaces lists whole */
	f = bump_fields("app", "merge");
	CHECK(has_path(f, "spec.template.spec.containers"));
	json_decref(f);
}

TEST(fields_of_a_json_patch_map_indices_through_live)
{
	json_t *live = load("deployment-vpa.json");
	json_t *p = json_pack("[{s:s, s:s, s:s}, {s:s, s:s, s:i}, {s:s, s:s, "
	    "s:s}]", "op", "replace", "path", "/spec/template/spec/containers/"
	    "0/resources/limits/memory", "value", "1Gi", "op", "replace",
	    "path", "/spec/replicas", "value", 3, "op", "test", "path",
	    "/metadata/name", "value", "cart");
	json_t *f = gitops_fields_of(p, "json", live);

	CHECK_INT((int)json_array_size(f), 2);
	CHECK(has_path(f, "spec.template.spec.containers[name=app]."
	    "resources.limits.memory"));
	CHECK(has_path(f, "spec.replicas"));
	json_decref(f);
	json_decref(p);
	json_decref(live);
}

TEST(fields_of_an_update_are_what_changed)
{
	json_t *live = load("deployment-vpa.json"), *n = json_deep_copy(live);
	json_t *c = json_array_get(json_object_get(json_object_get(
	    json_object_get(json_object_get(n, "spec"), "template"), "spec"),
	    "containers"), 0), *f;

	json_object_set_new(json_object_get(json_object_get(c, "resources"),
	    "requests"), "memory", json_string("1Gi"));
	json_object_set_new(json_object_get(n, "metadata"), "resourceVersion",
	    json_string("999"));
	f = gitops_fields_of(n, "update", live);
	CHECK_INT((int)json_array_size(f), 1);
	CHECK(has_path(f, "spec.template.spec.containers[name=app]."
	    "resources.requests.memory"));
	json_decref(f);
	json_decref(n);
	json_decref(live);
}

TEST(vpa_owning_the_memory_is_a_conflict_kubectl_is_not)
{
	json_t *obj = load("deployment-vpa.json");
	json_t *own = gitops_ownership_defaults(NULL);
	json_t *f = bump_fields("app", "strategic");
	json_t *other = bump_fields("sidecar", "strategic");
	const char *mgr = NULL;
	char *field = NULL;

	CHECK(gitops_field_owner(obj, f, own, &mgr, &field) == 1);
	CHECK_STR(mgr, "vpa-updater");
	CHECK_STR(field, "spec.template.spec.containers[name=app]."
	    "resources.requests.memory");
	free(field);
	/* another container: VPA's key is k:{"name":"app"}, not ours */
	CHECK(gitops_field_owner(obj, other, own, &mgr, &field) == 0);
	/* the creator (kubectl) owns the same memory and is ignored */
	json_array_remove(json_object_get(json_object_get(obj, "metadata"),
	    "managedFields"), 1);
	CHECK(gitops_field_owner(obj, f, own, &mgr, &field) == 0);
	json_decref(f);
	json_decref(other);
	json_decref(own);
	json_decref(obj);
}

TEST(hpa_owning_replicas_through_scale_is_a_conflict)
{
	json_t *obj = load("deployment-vpa.json");
	json_t *own = gitops_ownership_defaults(NULL);
	json_t *p = json_pack("{s:{s:i}}", "spec", "replicas", 5);
	json_t *f = gitops_fields_of(p, "merge", NULL);
	const char *mgr = NULL;
	char *field = NULL;

	CHECK(gitops_field_owner(obj, f, own, &mgr, &field) == 1);
	CHECK_STR(mgr, "kube-controller-manager");
	CHECK_STR(field, "spec.replicas");
	free(field);
	json_decref(f);
	json_decref(p);
	json_decref(own);
	json_decref(obj);
}

TEST(an_atomic_value_owned_whole_owns_what_is_inside)
{
	json_t *obj = json_pack("{s:{s:[{s:s, s:{s:{s:{}}}}]}}", "metadata",
	    "managedFields", "manager", "operator", "fieldsV1", "f:spec",
	    "f:template");
	json_t *own = gitops_ownership_defaults(NULL);
	json_t *f = bump_fields("app", "strategic");
	const char *mgr = NULL;
	char *field = NULL;

	CHECK(gitops_field_owner(obj, f, own, &mgr, &field) == 1);
	CHECK_STR(mgr, "operator");
	free(field);
	json_decref(f);
	json_decref(own);
	json_decref(obj);
}

TEST(argocd_self_heal_is_managed_without_it_is_free)
{
	struct world w = { { load("application-selfheal.json") }, 0, 0 };
	json_t *d = load("deployment-argocd.json");
	json_t *own = gitops_ownership_defaults(NULL), *heal;
	struct gitops_owner o;

	memset(&o, 0, sizeof o);
	CHECK(gitops_controller(d, own, fetch, &w, &o) == 0);
	CHECK(o.verdict == GITOPS_MANAGED);
	CHECK(strstr(o.message, "Argo CD Application argocd/checkout") !=
	    NULL);
	CHECK_STR(json_string_value(json_object_get(json_object_get(o.owner,
	    "source"), "path")), "apps/checkout");
	gitops_owner_clear(&o);
	heal = json_object_get(json_object_get(json_object_get(w.objs[0],
	    "spec"), "syncPolicy"), "automated");
	json_object_set_new(heal, "selfHeal", json_false());
	CHECK(gitops_controller(d, own, fetch, &w, &o) == 0);
	CHECK(o.verdict == GITOPS_FREE);
	CHECK(json_is_false(json_object_get(o.owner, "selfHeal")));
	gitops_owner_clear(&o);
	/* Argo CD 3's switch: automated but not enabled */
	json_object_set_new(heal, "selfHeal", json_true());
	json_object_set_new(heal, "enabled", json_false());
	CHECK(gitops_controller(d, own, fetch, &w, &o) == 0);
	CHECK(o.verdict == GITOPS_FREE);
	gitops_owner_clear(&o);
	json_decref(own);
	json_decref(d);
	world_clear(&w);
}

TEST(a_tracking_id_of_another_object_is_not_argocds)
{
	struct world w = { { load("application-selfheal.json") }, 0, 0 };
	json_t *d = load("deployment-argocd.json");
	json_t *own = gitops_ownership_defaults(NULL);
	json_t *ann = json_object_get(json_object_get(d, "metadata"),
	    "annotations");
	struct gitops_owner o;

	memset(&o, 0, sizeof o);
	json_object_set_new(ann, "argocd.argoproj.io/tracking-id",
	    json_string("checkout:apps/Deployment:shop/cart"));
	CHECK(gitops_controller(d, own, fetch, &w, &o) == 0);
	CHECK(o.verdict == GITOPS_FREE);
	CHECK_INT(w.calls, 0);
	gitops_owner_clear(&o);
	/* apps in any namespace: "ns_app" */
	json_object_set_new(json_object_get(w.objs[0], "metadata"),
	    "namespace", json_string("team-a"));
	json_object_set_new(ann, "argocd.argoproj.io/tracking-id",
	    json_string("team-a_checkout:apps/Deployment:shop/checkout"));
	CHECK(gitops_controller(d, own, fetch, &w, &o) == 0);
	CHECK(o.verdict == GITOPS_MANAGED);
	CHECK(strstr(o.message, "team-a/checkout") != NULL);
	gitops_owner_clear(&o);
	json_decref(own);
	json_decref(d);
	world_clear(&w);
}

TEST(an_instance_label_without_its_application_is_helms)
{
	struct world w = { { NULL }, 0, 0 };
	json_t *d = load("deployment-argocd.json");
	json_t *own = gitops_ownership_defaults(NULL);
	struct gitops_owner o;

	memset(&o, 0, sizeof o);
	json_object_del(json_object_get(d, "metadata"), "annotations");
	CHECK(gitops_controller(d, own, fetch, &w, &o) == 0);
	CHECK(o.verdict == GITOPS_FREE);
	CHECK(o.owner == NULL);
	CHECK_INT(w.calls, 1);
	gitops_owner_clear(&o);
	/* annotation tracking: the label is not read at all */
	json_object_set_new(own, "argocdTracking", json_string("annotation"));
	CHECK(gitops_controller(d, own, fetch, &w, &o) == 0);
	CHECK_INT(w.calls, 1);
	gitops_owner_clear(&o);
	json_decref(own);
	json_decref(d);
}

TEST(an_unreadable_application_never_fails_open)
{
	struct world w = { { NULL }, 0, 1 };
	json_t *d = load("deployment-argocd.json");
	json_t *own = gitops_ownership_defaults(NULL);
	struct gitops_owner o;

	memset(&o, 0, sizeof o);
	CHECK(gitops_controller(d, own, fetch, &w, &o) == -1);
	CHECK(strstr(o.message, "403 Forbidden") != NULL);
	gitops_owner_clear(&o);
	json_decref(own);
	json_decref(d);
}

TEST(flux_labels_are_managed_unless_reconcile_is_disabled)
{
	struct world w = { { NULL }, 0, 0 };
	json_t *d = load("deployment-vpa.json"), *md = json_object_get(d,
	    "metadata");
	json_t *own = gitops_ownership_defaults(NULL);
	struct gitops_owner o;

	memset(&o, 0, sizeof o);
	json_object_set_new(json_object_get(md, "labels"),
	    "kustomize.toolkit.fluxcd.io/name", json_string("apps"));
	json_object_set_new(json_object_get(md, "labels"),
	    "kustomize.toolkit.fluxcd.io/namespace",
	    json_string("flux-system"));
	CHECK(gitops_controller(d, own, fetch, &w, &o) == 0);
	CHECK(o.verdict == GITOPS_MANAGED);
	CHECK(strstr(o.message, "Flux Kustomization flux-system/apps") !=
	    NULL);
	gitops_owner_clear(&o);
	json_object_set_new(md, "annotations", json_pack("{s:s}",
	    "kustomize.toolkit.fluxcd.io/reconcile", "disabled"));
	CHECK(gitops_controller(d, own, fetch, &w, &o) == 0);
	CHECK(o.verdict == GITOPS_FREE);
	gitops_owner_clear(&o);
	json_decref(own);
	json_decref(d);
}

TEST(check_a_bump_plan_reads_the_written_object_fresh)
{
	struct world w = { { load("deployment-vpa.json"),
	    load("deployment-argocd.json"), load("application-selfheal.json") },
	    0, 0 };
	json_t *own = gitops_ownership_defaults(NULL);
	json_t *p;
	struct gitops_owner o;

	p = bump_plan("shop", "cart", "app");
	CHECK(gitops_check(p, "apps/v1", "Deployment", "shop", "cart", own,
	    fetch, &w, &o) == 0);
	CHECK(o.verdict == GITOPS_CONFLICT);
	CHECK(strstr(o.message, "is managed by vpa-updater") != NULL);
	CHECK_STR(json_string_value(json_object_get(o.owner, "manager")),
	    "vpa-updater");
	gitops_owner_clear(&o);
	json_decref(p);
	p = bump_plan("shop", "checkout", "app");
	CHECK(gitops_check(p, "apps/v1", "Deployment", "shop", "checkout",
	    own, fetch, &w, &o) == 0);
	CHECK(o.verdict == GITOPS_MANAGED);
	gitops_owner_clear(&o);
	json_decref(p);
	/* a sidecar of cart: nobody else owns its memory */
	p = bump_plan("shop", "cart", "sidecar");
	CHECK(gitops_check(p, "apps/v1", "Deployment", "shop", "cart", own,
	    fetch, &w, &o) == 0);
	CHECK(o.verdict == GITOPS_FREE);
	gitops_owner_clear(&o);
	json_decref(p);
	/* unreadable: an error, not a pass */
	w.fail = 1;
	p = bump_plan("shop", "cart", "sidecar");
	CHECK(gitops_check(p, "apps/v1", "Deployment", "shop", "cart", own,
	    fetch, &w, &o) == -1);
	CHECK(strstr(o.message, "cannot read who manages Deployment shop/cart")
	    != NULL);
	gitops_owner_clear(&o);
	json_decref(p);
	json_decref(own);
	world_clear(&w);
}

TEST(check_what_a_plan_acts_on)
{
	struct world w = { { load("deployment-argocd.json"),
	    load("application-selfheal.json") }, 0, 0 };
	json_t *own = gitops_ownership_defaults(NULL);
	struct gitops_owner o;
	json_t *p;

	/* a Workflow that bumps the Deployment: the target is asked */
	p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", "k8s",
	    "operation", "create", "apiVersion", "argoproj.io/v1alpha1",
	    "kind", "Workflow", "namespace", "argo-events", "name", "bump-x");
	CHECK(gitops_check(p, "apps/v1", "Deployment", "shop", "checkout",
	    own, fetch, &w, &o) == 0);
	CHECK(o.verdict == GITOPS_MANAGED);
	gitops_owner_clear(&o);
	json_decref(p);
	/* deleting a pod, syncing an Application: nothing is fought */
	w.calls = 0;
	p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[{s:s, s:s}]}",
	    "type", "remediate", "operation", "delete", "apiVersion", "v1",
	    "kind", "Pod", "namespace", "shop", "name", "checkout-x",
	    "requests", "method", "DELETE", "path",
	    "/api/v1/namespaces/shop/pods/checkout-x");
	CHECK(gitops_check(p, "apps/v1", "Deployment", "shop", "checkout",
	    own, fetch, &w, &o) == 0);
	CHECK(o.verdict == GITOPS_FREE);
	gitops_owner_clear(&o);
	json_decref(p);
	p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[{s:s, s:s, s:s, "
	    "s:{}}]}", "type", "remediate", "operation", "patch",
	    "apiVersion", "argoproj.io/v1alpha1", "kind", "Application",
	    "namespace", "argocd", "name", "checkout", "requests", "method",
	    "PATCH", "path", "/apis/argoproj.io/v1alpha1/namespaces/argocd/"
	    "applications/checkout", "contentType",
	    "application/merge-patch+json", "body");
	CHECK(gitops_check(p, "apps/v1", "Deployment", "shop", "checkout",
	    own, fetch, &w, &o) == 0);
	CHECK(o.verdict == GITOPS_FREE);
	CHECK_INT(w.calls, 0);
	gitops_owner_clear(&o);
	json_decref(p);
	json_decref(own);
	world_clear(&w);
}

/* ---- yamledit: golden files ---------------------------------------------- */

#define GOLDEN	DATA "yamledit/"

static char *
slurp(const char *name, const char *ext, size_t *len)
{
	char path[512], *err = NULL, *t;

	snprintf(path, sizeof path, GOLDEN "%s%s", name, ext);
	t = util_read_file(path, 1 << 20, len, &err);
	free(err);
	return t;
}

/* Applies NAME.edit to NAME.yaml: NAME.ok is the file after, NAME.err the
 * error's text (a part of it). */
static void
golden(const char *name)
{
	size_t len, oklen, i;
	char *text = slurp(name, ".yaml", &len), *edits = slurp(name, ".edit",
	    &oklen), *ok = slurp(name, ".ok", &oklen), *want = slurp(name,
	    ".err", &oklen), *err = NULL;
	json_t *e = json_loads(edits, 0, NULL), *ed;
	int failed = 0;

	CHECK(text != NULL && e != NULL && (ok != NULL) != (want != NULL));
	json_array_foreach(json_object_get(e, "edits"), i, ed) {
		char **segs, *out = NULL, *lit;
		const json_t *v;
		size_t n, outlen = 0;
		struct gitops_yaml_edit ye;
		int rc;

		CHECK(gitops_yaml_path_parse(json_string_value(json_object_get(
		    ed, "path")), &segs, &n) == 0);
		ye.kind = json_string_value(json_object_get(e, "kind"));
		ye.ns = json_string_value(json_object_get(e, "namespace"));
		ye.name = json_string_value(json_object_get(e, "name"));
		ye.path = (const char *const *)segs;
		ye.npath = n;
		/* a JSON number, bool or null is written as such */
		v = json_object_get(ed, "value");
		lit = json_is_string(v) ? NULL : json_dumps(v,
		    JSON_ENCODE_ANY);
		ye.value = lit ? lit : json_string_value(v);
		ye.literal = lit != NULL;
		rc = gitops_yaml_set(text, len, &ye, &out, &outlen, &err);
		gitops_yaml_path_free(segs, n);
		free(lit);
		if (rc == -1) {
			failed = 1;
			break;
		}
		if (rc == 1) {
			free(text);
			text = out;
			len = outlen;
		}
	}
	if (want) {
		want[strcspn(want, "\n")] = '\0';
		CHECK(failed && err && strstr(err, want) != NULL);
		if (!failed || err == NULL || strstr(err, want) == NULL)
			fprintf(stderr, "  %s: error %s, want %s\n", name,
			    err ? err : "(none)", want);
	} else {
		CHECK(!failed && len == oklen && memcmp(text, ok, len) == 0);
		if (failed || len != oklen || memcmp(text, ok, len) != 0)
			fprintf(stderr, "  %s: %s, got:\n%.*s", name,
			    err ? err : "differs", (int)len, text);
	}
	free(err);
	free(text);
	free(edits);
	free(ok);
	free(want);
	json_decref(e);
}

TEST(yamledit_golden)
{
	DIR *d = opendir(GOLDEN);
	struct dirent *de;
	int n = 0;

	CHECK(d != NULL);
	while (d && (de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		char name[256];

		if (l < 6 || l >= sizeof name || strcmp(de->d_name + l - 5,
		    ".yaml") != 0)
			continue;
		memcpy(name, de->d_name, l - 5);
		name[l - 5] = '\0';
		golden(name);
		n++;
	}
	if (d)
		closedir(d);
	CHECK(n >= 23);
}

TEST(yamledit_paths_and_documents)
{
	char **s;
	size_t n;
	const char *doc = "kind: Service\nmetadata: {name: a}\n---\n"
	    "kind: Deployment\nmetadata: {name: cart, namespace: shop}\n";

	CHECK(gitops_yaml_path_parse("spec.containers[name=app].image", &s,
	    &n) == 0);
	CHECK_INT((int)n, 4);
	CHECK_STR(s[2], "[name=app]");
	gitops_yaml_path_free(s, n);
	CHECK(gitops_yaml_path_parse("a..b", &s, &n) == -1);
	CHECK(gitops_yaml_path_parse("a[name=x", &s, &n) == -1);
	CHECK(gitops_yaml_path_parse("a.", &s, &n) == -1);
	/* a key with dots, quoted, is one segment */
	CHECK(gitops_yaml_path_parse("a.\"b.c/d\"[name=x].e", &s, &n) == 0);
	CHECK_INT((int)n, 4);
	if (n == 4) {
		CHECK_STR(s[1], "b.c/d");
		CHECK_STR(s[2], "[name=x]");
	}
	gitops_yaml_path_free(s, n);
	CHECK(gitops_yaml_path_parse("a.\"b", &s, &n) == -1);
	CHECK(gitops_yaml_path_parse("a.\"\"", &s, &n) == -1);
	CHECK(gitops_yaml_path_parse("a.\"b\"c", &s, &n) == -1);
	CHECK(gitops_yaml_defines(doc, strlen(doc), "Deployment", "shop",
	    "cart") == 1);
	CHECK(gitops_yaml_defines(doc, strlen(doc), "Deployment", "prod",
	    "cart") == 0);
	CHECK(gitops_yaml_defines("a: [", 4, "Deployment", NULL, "x") == 0);
}

TEST(plan_edits_are_the_patched_fields_with_their_values)
{
	json_t *p = bump_plan("shop", "cart", "app"), *e, *paths;
	char *err = NULL;
	enum gitops_forge_kind k;
	size_t i;

	e = gitops_plan_edits(p, NULL, &err);
	if (e == NULL)
		fprintf(stderr, "  %s\n", err);
	CHECK(e != NULL && json_array_size(e) == 2);
	CHECK(has_edit(e, "spec.template.spec.containers[name=app]."
	    "resources.requests.memory", "160Mi"));
	CHECK(has_edit(e, "spec.template.spec.containers[name=app]."
	    "resources.limits.memory", "320Mi"));
	json_decref(e);
	/* a Helm chart: every field mapped, or the decision fails */
	paths = json_pack("{s:s}", "spec.template.spec.containers[name=app]."
	    "resources.requests.memory", "resources.requests.memory");
	CHECK(gitops_plan_edits(p, paths, &err) == NULL);
	CHECK(err && strstr(err, "resources.limits.memory is not mapped"));
	free(err);
	err = NULL;
	json_object_set_new(paths, "spec.template.spec.containers[name=app]."
	    "resources.limits.memory", json_string("resources.limits.memory"));
	e = gitops_plan_edits(p, paths, &err);
	CHECK(has_edit(e, "resources.limits.memory", "320Mi"));
	json_decref(e);
	json_decref(paths);
	json_decref(p);
	/* the JSON type stays: the string "3" is no number */
	p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:{s:i, s:{s:{"
	    "s:{s:s}}}}}}", "type", "k8s", "operation", "patch", "apiVersion",
	    "apps/v1", "kind", "Deployment", "namespace", "shop", "name",
	    "cart", "patchStrategy", "merge", "patch", "spec", "replicas", 3,
	    "template", "metadata", "annotations", "tier", "3");
	e = gitops_plan_edits(p, NULL, &err);
	CHECK(has_edit(e, "spec.template.metadata.annotations.tier", "3") &&
	    has_edit(e, "spec.replicas", "3"));
	CHECK_INT((int)json_array_size(e), 2);
	for (i = 0; i < json_array_size(e); i++)
		CHECK(json_is_true(json_object_get(json_array_get(e, i),
		    "literal")) == (strcmp(json_string_value(json_object_get(
		    json_array_get(e, i), "path")), "spec.replicas") == 0));
	json_decref(e);
	json_decref(p);
	/* an annotation key with dots is one key: quoted in the path */
	p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:{s:{s:{s:{"
	    "s:s}}}}}}",
	    "type", "k8s", "operation", "patch", "apiVersion", "apps/v1",
	    "kind", "Deployment", "namespace", "shop", "name", "cart",
	    "patchStrategy", "merge", "patch", "spec", "template", "metadata",
	    "annotations", "example.com/tier", "gold");
	e = gitops_plan_edits(p, NULL, &err);
	CHECK(has_edit(e, "spec.template.metadata.annotations."
	    "\"example.com/tier\"", "gold"));
	json_decref(e);
	json_decref(p);
	/*
	 * The target's own labels and annotations are configuration and go
	 * into the manifest (they were skipped, silently); its identity and
	 * remediate's notes on the change are not.
	 */
	p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:{s:s, s:{s:s},"
	    " s:{s:s, s:s, s:s}}, s:{s:i}}}",
	    "type", "k8s", "operation", "patch", "apiVersion", "apps/v1",
	    "kind", "Deployment", "namespace", "shop", "name", "cart",
	    "patchStrategy", "merge", "patch", "metadata", "resourceVersion",
	    "42", "labels", "tier", "gold", "annotations",
	    "remediation.platform/last-action", "memory-request-raise",
	    "remediation.platform/last-change", "{}", "example.com/owner",
	    "team-a", "spec", "replicas", 3);
	e = gitops_plan_edits(p, NULL, &err);
	CHECK(e != NULL && json_array_size(e) == 3);
	CHECK(has_edit(e, "metadata.labels.tier", "gold"));
	CHECK(has_edit(e, "metadata.annotations.\"example.com/owner\"",
	    "team-a"));
	CHECK(has_edit(e, "spec.replicas", "3"));
	json_decref(e);
	json_decref(p);
	/* only notes: nothing to write, said so */
	p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:{s:{s:s}}}}",
	    "type", "k8s", "operation", "patch", "apiVersion", "apps/v1",
	    "kind", "Deployment", "namespace", "shop", "name", "cart",
	    "patchStrategy", "merge", "patch", "metadata", "annotations",
	    "remediation.platform/last-action", "x");
	CHECK(gitops_plan_edits(p, NULL, &err) == NULL && err != NULL);
	free(err);
	err = NULL;
	json_decref(p);
	/* a delete writes nothing into a manifest */
	p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[]}", "type",
	    "remediate", "operation", "delete", "apiVersion", "v1", "kind",
	    "Pod", "namespace", "shop", "name", "x", "requests");
	CHECK(gitops_plan_edits(p, NULL, &err) == NULL && err != NULL);
	free(err);
	json_decref(p);
	CHECK(gitops_forge_kind_parse("forgejo", &k) == 0 &&
	    k == GITOPS_GITEA);
	CHECK(gitops_forge_kind_parse("bitbucket", &k) == -1);
}

static char *
branch_for(const char *sensor, const char *trigger, const char *kind,
    const char *ns, const char *name)
{
	json_t *rec = json_pack("{s:s, s:s, s:{s:s, s:s?, s:s}}", "sensor",
	    sensor, "trigger", trigger, "target", "kind", kind, "namespace",
	    ns, "name", name);
	char *b = gitops_pr_branch(rec);

	json_decref(rec);
	return b;
}

/*
 * One branch, so one open request, per trigger and target: two targets
 * (or two sensors' triggers of one name) never share one, and the same
 * trigger and target always get the same one.
 */
TEST(each_trigger_and_target_has_its_own_branch)
{
	static const char *const cases[][5] = {
		{ "argo-events/oom", "bump", "Deployment", "shop", "a-cart" },
		{ "argo-events/oom", "bump", "Deployment", "shop-a", "cart" },
		{ "argo-events/oom", "bump", "StatefulSet", "shop-a", "cart" },
		{ "team-b/oom", "bump", "Deployment", "shop-a", "cart" },
		{ "argo-events/oom", "bump", "Node", NULL, "cart" },
		{ "argo-events/oom", "bump", "Node", NULL, "cluster-cart" },
	};
	char *b[UTIL_ARRAY_LEN(cases)], *again;
	size_t i, j;

	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		b[i] = branch_for(cases[i][0], cases[i][1], cases[i][2],
		    cases[i][3], cases[i][4]);
		CHECK(b[i] && strncmp(b[i], "remediate/bump/", 15) == 0);
		for (j = 0; j < i; j++) {
			CHECK(strcmp(b[i], b[j]) != 0);
			if (strcmp(b[i], b[j]) == 0)
				fprintf(stderr, "  %s twice\n", b[i]);
		}
	}
	again = branch_for("argo-events/oom", "bump", "Deployment", "shop",
	    "a-cart");
	CHECK_STR(again, b[0]);
	CHECK(strncmp(b[0], "remediate/bump/shop-a-cart-", 27) == 0 &&
	    strlen(b[0]) == 27 + 8);
	free(again);
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++)
		free(b[i]);
}

static int gate_asks, gate_open_for;

static const char *
counting_gate(void *ctx)
{
	(void)ctx;
	return gate_asks++ < gate_open_for ? NULL :
	    "this replica stopped leading";
}

/*
 * A proposal asks the action's gate (the leader's fence) before each git
 * or forge attempt, as actions do: a replica that lost its lease during a
 * retry's wait opens no pull request.
 */
TEST(a_proposal_asks_the_gate_before_every_attempt)
{
	/* a forge that is not there, and a workdir that does not exist:
	   each attempt fails before git (libgit2's clone of a missing path
	   leaks in pcre2 under ASan) */
	struct gitops_env env = { NULL, "/nonexistent/remediate-test", NULL,
	    NULL, 3, 1 };
	json_t *plan = bump_plan("shop", "cart", "app");
	json_t *rec = json_pack("{s:s, s:o, s:{s:s, s:s, s:s}}", "trigger",
	    "bump", "plan", plan, "target", "kind", "Deployment",
	    "namespace", "shop", "name", "cart");
	json_t *cfg = json_pack("{s:s, s:s, s:s}", "forge", "gitea", "api",
	    "http://127.0.0.1:9", "repoURL", "/nonexistent/remediate.git");
	json_t *out = NULL;
	char *err = NULL;

	gate_asks = 0;
	gate_open_for = 0;	/* closed from the start: nothing is tried */
	retry_gate_on(counting_gate, NULL);
	CHECK(gitops_propose(&env, rec, cfg, &out, &err) == -1);
	CHECK_STR(err, "not sent: this replica stopped leading");
	CHECK_INT(gate_asks, 1);
	free(err);
	err = NULL;
	gate_asks = 0;
	gate_open_for = 1;	/* the first attempt fails, then it closes */
	CHECK(gitops_propose(&env, rec, cfg, &out, &err) == -1);
	CHECK(err && strncmp(err, "not sent: this replica stopped leading "
	    "(attempt 2; attempt 1: ", 62) == 0);
	/* the first step asks the forge for an open request (port 9:
	   refused) */
	CHECK(err && strstr(err, "GET http://127.0.0.1:9/repos/"));
	CHECK(gate_asks >= 2);	/* and in the wait, which it ends */
	retry_gate_on(NULL, NULL);
	free(err);
	json_decref(rec);
	json_decref(cfg);
}

int
main(void)
{
	RUN(fields_of_a_strategic_patch_key_containers_by_name);
	RUN(a_proposal_asks_the_gate_before_every_attempt);
	RUN(fields_of_a_json_patch_map_indices_through_live);
	RUN(fields_of_an_update_are_what_changed);
	RUN(vpa_owning_the_memory_is_a_conflict_kubectl_is_not);
	RUN(hpa_owning_replicas_through_scale_is_a_conflict);
	RUN(an_atomic_value_owned_whole_owns_what_is_inside);
	RUN(argocd_self_heal_is_managed_without_it_is_free);
	RUN(a_tracking_id_of_another_object_is_not_argocds);
	RUN(an_instance_label_without_its_application_is_helms);
	RUN(an_unreadable_application_never_fails_open);
	RUN(flux_labels_are_managed_unless_reconcile_is_disabled);
	RUN(check_a_bump_plan_reads_the_written_object_fresh);
	RUN(check_what_a_plan_acts_on);
	RUN(yamledit_golden);
	RUN(yamledit_paths_and_documents);
	RUN(plan_edits_are_the_patched_fields_with_their_values);
	RUN(each_trigger_and_target_has_its_own_branch);
	return harness_done();
}
