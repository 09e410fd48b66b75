/*
 * quarantine: contain a pod, never "fix" it.  The article: security
 * events are quarantined and paged, not remediated, so this action never
 * deletes or restarts anything; a human decides what happens next with
 * the pod still there to look at.
 *
 *   1. create a NetworkPolicy in the pod's namespace that selects the
 *      quarantine label and allows nothing (policyTypes Ingress and
 *      Egress, no rules: deny all), unless networkPolicy: false; one
 *      policy per namespace and label, so an existing one (409
 *      AlreadyExists) is fine when it selects the same label;
 *   2. label the pod (merge patch, with its uid so a replaced pod of the
 *      same name is not labelled), plus annotations saying who and when.
 *
 * The policy comes first so isolation is in force the instant the label
 * lands.  The verdict asks for a page: someone must look.
 */
#include <stdlib.h>
#include <string.h>

#include "action/native_int.h"

#define DEFAULT_LABEL	"remediation.platform/quarantine"
#define DEFAULT_VALUE	"true"
#define POLICY_NAME	"remediate-quarantine"
#define MERGE		"application/merge-patch+json"

/* Splits "key=value" (or "key": value "true") into owned parts. */
static void
split_label(const char *s, char **key, char **value)
{
	const char *eq = s ? strchr(s, '=') : NULL;

	if (s == NULL || *s == '\0') {
		*key = xstrdup(DEFAULT_LABEL);
		*value = xstrdup(DEFAULT_VALUE);
	} else if (eq) {
		*key = xstrndup(s, (size_t)(eq - s));
		*value = xstrdup(eq + 1);
	} else {
		*key = xstrdup(s);
		*value = xstrdup(DEFAULT_VALUE);
	}
}

/* One policy per label: the default label's has the plain name. */
static char *
policy_name(const char *key, const char *value)
{
	char *kv;
	uint64_t h;

	if (strcmp(key, DEFAULT_LABEL) == 0 && strcmp(value,
	    DEFAULT_VALUE) == 0)
		return xstrdup(POLICY_NAME);
	kv = xasprintf("%s=%s", key, value);
	h = util_hash(kv, strlen(kv), UTIL_HASH_SEED);
	free(kv);
	return xasprintf("%s-%08x", POLICY_NAME, (unsigned)(h & 0xffffffffu));
}

static json_t *
policy_object(const char *name, const char *ns, const char *key,
    const char *value)
{
	return json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}, s:{s:s}}, "
	    "s:{s:{s:{s:s}}, s:[s, s]}}", "apiVersion", "networking.k8s.io/v1",
	    "kind", "NetworkPolicy", "metadata", "name", name, "namespace",
	    ns, "labels", "app.kubernetes.io/managed-by", "remediate",
	    "annotations", "remediation.platform/purpose", "deny all traffic "
	    "to and from quarantined pods", "spec", "podSelector",
	    "matchLabels", key, value, "policyTypes", "Ingress", "Egress");
}

int
act_native_quarantine(const struct native_in *in, struct act_plan *out,
    struct act_verdict *v, char **err)
{
	json_t *pod = in->subject, *plan, *patch, *np = NULL, *meta, *cur;
	const char *ns, *name, *kind;
	char *key, *value, *pname = NULL, *ppath, *npath = NULL;
	char when[TIME_FMTLEN];
	int want_np = !json_is_false(json_object_get(in->spec,
	    "networkPolicy"));

	if (pod == NULL) {
		*err = xstrdup("the pod to quarantine is not in the cluster "
		    "view");
		return -1;
	}
	kind = json_string_value(json_object_get(pod, "kind"));
	if (kind == NULL || strcmp(kind, "Pod") != 0)
		return act_refuse(v, ACT_UNSUPPORTED, "quarantine isolates a "
		    "pod; the signal's object is %s %s", kind ? kind :
		    "unknown", act_meta(pod, "name"));
	ns = act_meta(pod, "namespace");
	name = act_meta(pod, "name");
	split_label(json_string_value(json_object_get(in->spec, "label")),
	    &key, &value);
	cur = json_object_get(json_object_get(json_object_get(pod,
	    "metadata"), "labels"), key);
	if (want_np)
		pname = policy_name(key, value);
	if (json_is_string(cur) && strcmp(json_string_value(cur), value) ==
	    0 && (!want_np || (in->cluster && cluster_get(in->cluster,
	    "NetworkPolicy", ns, pname)))) {
		act_refuse(v, ACT_NOT_NEEDED, "pod %s/%s is quarantined "
		    "already (%s=%s)", ns, name, key, value);
		goto out;
	}
	ppath = act_path("v1", "Pod", ns, name);
	if (want_np)
		npath = act_path("networking.k8s.io/v1", "NetworkPolicy", ns,
		    NULL);
	if (ppath == NULL || (want_np && npath == NULL)) {
		*err = xstrdup("no path for pods or networkpolicies");
		free(ppath);
		free(npath);
		free(key);
		free(value);
		free(pname);
		return -1;
	}
	plan = act_plan_new("quarantine", "patch", pod);
	if (want_np) {
		np = policy_object(pname, ns, key, value);
		json_object_set_new(act_plan_request(plan, "POST", npath,
		    "application/json", json_incref(np)), "admit",
		    json_string("CREATE"));
		json_object_set_new(json_array_get(json_object_get(plan,
		    "requests"), 0), "note", json_string("409 AlreadyExists "
		    "is fine when that policy selects the same label"));
	}
	time_format(in->now, when, sizeof when);
	meta = json_pack("{s:s?, s:{s:s}, s:{s:s, s:s?}}", "uid", act_meta(pod,
	    "uid"), "labels", key, value, "annotations",
	    "remediation.platform/quarantined-at", when,
	    "remediation.platform/quarantined-by", in->trigger ?
	    in->trigger->name : NULL);
	patch = json_pack("{s:o}", "metadata", meta);
	act_plan_request(plan, "PATCH", ppath, MERGE, json_incref(patch));
	json_object_set_new(plan, "change", json_pack("{s:s, s:s, s:s, s:s?}",
	    "pod", name, "label", key, "value", value, "networkPolicy",
	    pname));
	out->plan = plan;
	out->operation = "UPDATE";
	out->object = act_merge_patch(pod, patch);
	out->old = json_incref(pod);
	v->kind = ACT_GO;
	v->pods = 1;
	v->page = 1;
	snprintf(v->message, sizeof v->message, "quarantine pod %s/%s: label "
	    "%s=%s%s%s%s", ns, name, key, value, want_np ? ", deny-all "
	    "NetworkPolicy " : "", want_np ? pname : "", "; nothing is "
	    "deleted or restarted");
	json_decref(patch);
	json_decref(np);
	free(ppath);
	free(npath);
out:
	free(key);
	free(value);
	free(pname);
	return 0;
}

/* ---- executing ---------------------------------------------------------- */

static const json_t *
sel(const json_t *policy)
{
	return json_object_get(json_object_get(policy, "spec"),
	    "podSelector");
}

/* An existing policy is ours to reuse when it selects the same label. */
static int
same_selector(struct kube_client *c, const json_t *req, char **err)
{
	const json_t *want = json_object_get(json_object_get(json_object_get(
	    req, "body"), "spec"), "podSelector");
	const char *name = json_string_value(json_object_get(json_object_get(
	    json_object_get(req, "body"), "metadata"), "name"));
	const char *base = json_string_value(json_object_get(req, "path"));
	json_t *have;
	char *path;
	long status;
	int same;

	free(*err);
	*err = NULL;
	path = xasprintf("%s/%s", base, name ? name : "");
	have = act_get(c, path, &status, err);
	free(path);
	if (have == NULL)
		return 0;
	same = json_equal(json_object_get(json_object_get(have, "spec"),
	    "podSelector"), want);
	if (!same)
		*err = xasprintf("NetworkPolicy %s exists and selects other "
		    "pods; the pod was not labelled", name);
	json_decref(have);
	return same;
}

int
act_exec_quarantine(struct kube_client *c, const json_t *plan, int dry_run,
    json_t *result, char **err)
{
	json_t *req, *answer;
	size_t i;
	long status;

	json_array_foreach(json_object_get(plan, "requests"), i, req) {
		const char *m = json_string_value(json_object_get(req,
		    "method"));

		answer = act_send(c, req, NULL, dry_run, result, &status,
		    err);
		if (answer == NULL && m && strcmp(m, "POST") == 0 &&
		    status == 409 && same_selector(c, req, err)) {
			json_object_set_new(result, "networkPolicy",
			    json_string("existed"));
			continue;
		}
		if (answer == NULL)
			return -1;
		/* found after a timeout: ours only when it selects our label */
		if (m && strcmp(m, "POST") == 0 && json_object_get(result,
		    "verifiedAfter") && !json_equal(sel(answer),
		    sel(json_object_get(req, "body")))) {
			*err = xstrdup("NetworkPolicy exists and selects other "
			    "pods; the pod was not labelled");
			json_decref(answer);
			return -1;
		}
		if (m && strcmp(m, "POST") == 0)
			json_object_set_new(result, "networkPolicy",
			    json_string("created"));
		else
			json_object_set_new(result, "labelled", json_true());
		json_decref(answer);
	}
	return 0;
}
