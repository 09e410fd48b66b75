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
 *      AlreadyExists) is fine when it is exactly that deny-all;
 *   2. label the pod (merge patch, with its uid so a replaced pod of the
 *      same name is not labelled), plus annotations saying who and when.
 *
 * The policy comes first so isolation is in force the instant the label
 * lands.  The verdict asks for a page: someone must look.
 *
 * Anyone who may create NetworkPolicies in the namespace may create one
 * of our name first, so an existing policy is trusted only when it is
 * the deny-all policy_object() writes: the same podSelector, policyTypes
 * both Ingress and Egress, no ingress and no egress rules.  Anything else
 * (even with our managed-by label, which its author sets, and which a
 * policy we made keeps after someone edits it) fails the action with the
 * pod unlabelled: quarantine never claims isolation it does not have,
 * and never overwrites a policy someone else changed (that needs a human
 * and an update right remediate is not given; the failure pages).
 * Planning applies the same test before it calls a pod quarantined
 * already.
 *
 * A pod on the host's network (spec.hostNetwork) is the node's network
 * namespace: most network plugins apply no NetworkPolicy to it, so the
 * deny-all would isolate nothing.  Planning fails such a quarantine (the
 * failure pages: a person must contain it) rather than claim isolation;
 * with networkPolicy: false the action only labels, claims nothing, and
 * goes on.
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

static const json_t *
sel(const json_t *policy)
{
	return json_object_get(json_object_get(policy, "spec"),
	    "podSelector");
}

/* Whether policyTypes (any JSON) lists type. */
static int
has_type(const json_t *types, const char *type)
{
	const json_t *t;
	size_t i;

	json_array_foreach(types, i, t)
		if (json_is_string(t) && strcmp(json_string_value(t), type) ==
		    0)
			return 1;
	return 0;
}

/*
 * Whether spec has rules of the direction: absent, null and [] are none;
 * anything else, an empty rule {} (which allows everything) or a value
 * that is not an array, counts as rules.
 */
static int
has_rules(const json_t *spec, const char *direction)
{
	const json_t *r = json_object_get(spec, direction);

	return !(r == NULL || json_is_null(r) || (json_is_array(r) &&
	    json_array_size(r) == 0));
}

/*
 * What keeps policy have (borrowed) from being the deny-all want
 * (borrowed, as policy_object() makes it): a static phrase ("selects
 * other pods"...), or NULL when have is that deny-all.
 */
static const char *
policy_fault(const json_t *have, const json_t *want)
{
	const json_t *spec = json_object_get(have, "spec");
	const json_t *types = json_object_get(spec, "policyTypes");

	if (!json_equal(sel(have), sel(want)))
		return "selects other pods";
	if (!has_type(types, "Ingress"))
		return "does not restrict ingress (policyTypes lacks Ingress)";
	if (!has_type(types, "Egress"))
		return "does not restrict egress (policyTypes lacks Egress)";
	if (has_rules(spec, "ingress"))
		return "allows ingress (it has ingress rules)";
	if (has_rules(spec, "egress"))
		return "allows egress (it has egress rules)";
	return NULL;
}

/*
 * The error (owned) for policy have (borrowed) that fault keeps from
 * being the deny-all want (borrowed), which names it.
 */
static char *
policy_error(const json_t *have, const json_t *want, const char *fault)
{
	const json_t *meta = json_object_get(want, "metadata");
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	const char *name = json_string_value(json_object_get(meta, "name"));
	const char *by = json_string_value(json_object_get(json_object_get(
	    json_object_get(have, "metadata"), "labels"),
	    "app.kubernetes.io/managed-by"));

	return xasprintf("NetworkPolicy %s/%s exists and %s, so it is not the "
	    "deny-all quarantine needs%s; the pod was not labelled: fix or "
	    "delete the policy", ns ? ns : "", name ? name : "", fault,
	    by && strcmp(by, "remediate") == 0 ? " (its managed-by label "
	    "says remediate, which never writes this)" : "");
}

/* Whether the view holds policy pname in ns as our deny-all. */
static int
viewed_deny_all(const struct cluster *cl, const char *ns, const char *pname,
    const char *key, const char *value)
{
	json_t *have, *want;	/* have: borrowed from the view */
	int ok;

	if (cl == NULL || (have = cluster_get(cl, "NetworkPolicy", ns,
	    pname)) == NULL)
		return 0;
	want = policy_object(pname, ns, key, value);
	ok = policy_fault(have, want) == NULL;
	json_decref(want);
	return ok;
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
	if (want_np && json_is_true(json_object_get(json_object_get(pod,
	    "spec"), "hostNetwork"))) {
		*err = xasprintf("pod %s/%s uses the host's network "
		    "(spec.hostNetwork): a NetworkPolicy does not isolate "
		    "it, so quarantine did not label it; contain it at the "
		    "node", ns, name);
		free(key);
		free(value);
		return -1;
	}
	if (want_np)
		pname = policy_name(key, value);
	/* a policy of our name that is not our deny-all isolates nothing:
	 * plan the action, whose executor fails on it and pages */
	if (json_is_string(cur) && strcmp(json_string_value(cur), value) ==
	    0 && (!want_np || viewed_deny_all(in->cluster, ns, pname, key,
	    value))) {
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
		    "is fine when that policy is this same deny-all"));
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

/*
 * Whether the existing policy req (borrowed: the planned POST) names is
 * ours to reuse: exactly the deny-all the POST carries.  Replaces *err
 * with why not.
 */
static int
existing_is_ours(struct kube_client *c, const json_t *req, char **err)
{
	const json_t *want = json_object_get(req, "body");
	const char *name = json_string_value(json_object_get(json_object_get(
	    want, "metadata"), "name"));
	const char *base = json_string_value(json_object_get(req, "path"));
	const char *fault;
	json_t *have;
	char *path;
	long status;

	free(*err);
	*err = NULL;
	path = xasprintf("%s/%s", base, name ? name : "");
	have = act_get(c, path, &status, err);
	free(path);
	if (have == NULL)
		return 0;
	fault = policy_fault(have, want);
	if (fault)
		*err = policy_error(have, want, fault);
	json_decref(have);
	return fault == NULL;
}

int
act_exec_quarantine(struct kube_client *c, const json_t *plan, int dry_run,
    json_t *result, char **err)
{
	json_t *req, *answer;
	const json_t *body;
	const char *fault;
	size_t i;
	long status;

	json_array_foreach(json_object_get(plan, "requests"), i, req) {
		const char *m = json_string_value(json_object_get(req,
		    "method"));
		int post = m && strcmp(m, "POST") == 0;

		answer = act_send(c, req, NULL, dry_run, result, &status,
		    err);
		if (answer == NULL && post && status == 409 &&
		    existing_is_ours(c, req, err)) {
			json_object_set_new(result, "networkPolicy",
			    json_string("existed"));
			continue;
		}
		if (answer == NULL)
			return -1;
		/* found after a timeout: ours only when it is our deny-all */
		body = json_object_get(req, "body");
		if (post && json_object_get(result, "verifiedAfter") &&
		    (fault = policy_fault(answer, body)) != NULL) {
			*err = policy_error(answer, body, fault);
			json_decref(answer);
			return -1;
		}
		if (post)
			json_object_set_new(result, "networkPolicy",
			    json_string("created"));
		else
			json_object_set_new(result, "labelled", json_true());
		json_decref(answer);
	}
	return 0;
}
