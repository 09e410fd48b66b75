/*
 * Kyverno's rule auto-generation for Pod controllers (pkg/autogen/v1).
 *
 * A policy written for Pods also governs the controllers that make Pods:
 * Kyverno adds, for each rule that matches Pods, a rule autogen-NAME for
 * DaemonSet, Deployment, Job, StatefulSet, ReplicaSet and
 * ReplicationController, whose pattern sits under spec.template and whose
 * variables read request.object.spec.template.spec, and a rule
 * autogen-cronjob-NAME for CronJob, one level deeper under
 * spec.jobTemplate.spec.template.  remediate patches Deployments
 * (bump-memory), so without these rules a Pod policy would never see what
 * an action changes.
 *
 * When: unless the annotation pod-policies.kyverno.io/autogen-controllers
 * says "none" or names a subset; and only when no rule's match or exclude
 * gives names, a selector or annotations, or mixes Pod with other kinds
 * (those may not hold for a controller), as Kyverno's CanAutoGen decides.
 * The variable rewrite is Kyverno's: a plain text replacement over the
 * whole rule.
 */
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "policy/pol_int.h"

#define ANNOTATION	"pod-policies.kyverno.io/autogen-controllers"

static const char *const controllers[] = { "DaemonSet", "Deployment", "Job",
    "StatefulSet", "ReplicaSet", "ReplicationController" };

static const char *const pod_rewrite[][2] = {
	{ "request.object.spec", "request.object.spec.template.spec" },
	{ "request.oldObject.spec", "request.oldObject.spec.template.spec" },
	{ "request.object.metadata", "request.object.spec.template.metadata" },
	{ "request.oldObject.metadata",
	    "request.oldObject.spec.template.metadata" },
};

static const char *const cron_rewrite[][2] = {
	{ "request.object.spec",
	    "request.object.spec.jobTemplate.spec.template.spec" },
	{ "request.oldObject.spec",
	    "request.oldObject.spec.jobTemplate.spec.template.spec" },
	{ "request.object.metadata",
	    "request.object.spec.jobTemplate.spec.template.metadata" },
	{ "request.oldObject.metadata",
	    "request.oldObject.spec.jobTemplate.spec.template.metadata" },
};

/* A kinds entry names kind, in any of its group/version forms. */
static int
kind_is(const char *entry, const char *kind)
{
	const char *slash = strrchr(entry, '/');

	return strcmp(slash ? slash + 1 : entry, kind) == 0;
}

static int
kinds_have(json_t *kinds, const char *kind)
{
	json_t *k;
	size_t i;

	json_array_foreach(kinds, i, k)
		if (json_is_string(k) && kind_is(json_string_value(k), kind))
			return 1;
	return 0;
}

/* ---- CanAutoGen --------------------------------------------------------- */

/* One resource description; *needed set when it names Pods or controllers. */
static int
supported(json_t *res, int *needed)
{
	json_t *kinds = json_object_get(res, "kinds"), *k;
	size_t i, j;

	if (res == NULL)
		return 1;
	if (json_object_get(res, "name") || json_array_size(json_object_get(
	    res, "names")) > 0 || json_object_get(res, "selector") ||
	    json_object_get(res, "annotations"))
		return 0;
	if (json_array_size(kinds) > 1 && kinds_have(kinds, "Pod"))
		return 0;
	json_array_foreach(kinds, i, k) {
		if (!json_is_string(k))
			continue;
		if (kind_is(json_string_value(k), "Pod") ||
		    kind_is(json_string_value(k), "CronJob"))
			*needed = 1;
		for (j = 0; j < UTIL_ARRAY_LEN(controllers); j++)
			if (kind_is(json_string_value(k), controllers[j]))
				*needed = 1;
	}
	return 1;
}

static int
block_supported(json_t *m, int *needed)
{
	const char *lists[] = { "any", "all" };
	json_t *f;
	size_t i, j;

	if (m == NULL)
		return 1;
	if (!supported(json_object_get(m, "resources"), needed))
		return 0;
	for (i = 0; i < UTIL_ARRAY_LEN(lists); i++)
		json_array_foreach(json_object_get(m, lists[i]), j, f)
			if (!supported(json_object_get(f, "resources"), needed))
				return 0;
	return 1;
}

static int
can_autogen(json_t *rules)
{
	json_t *r;
	size_t i;
	int needed = 0;

	json_array_foreach(rules, i, r) {
		if (json_object_get(r, "generate"))
			return 0;
		if (!block_supported(json_object_get(r, "match"), &needed) ||
		    !block_supported(json_object_get(r, "exclude"), &needed))
			return 0;
	}
	return needed;
}

/* ---- generating --------------------------------------------------------- */

/* Every kinds list of a match/exclude block, whatever its form. */
static json_t *
block_kinds(json_t *m)
{
	const char *lists[] = { "any", "all" };
	json_t *out = json_array(), *f, *k;
	size_t i, j, n;

	json_array_extend(out, json_object_get(json_object_get(m, "resources"),
	    "kinds"));
	for (i = 0; i < UTIL_ARRAY_LEN(lists); i++)
		json_array_foreach(json_object_get(m, lists[i]), j, f)
			json_array_foreach(json_object_get(json_object_get(f,
			    "resources"), "kinds"), n, k)
				json_array_append(out, k);
	return out;
}

/*
 * Replaces the kinds of a match/exclude block by kinds: in any/all, the
 * filters that name Pod (every filter when all_filters); in the older
 * form, the block's own (an exclude's only when it lists kinds).
 */
static void
set_kinds(json_t *m, json_t *kinds, int all_filters, int excluding)
{
	const char *lists[] = { "any", "all" };
	json_t *list, *f, *res;
	size_t i, j;

	if (!json_is_object(m))
		return;
	for (i = 0; i < UTIL_ARRAY_LEN(lists); i++) {
		list = json_object_get(m, lists[i]);
		if (json_array_size(list) == 0)
			continue;
		json_array_foreach(list, j, f) {
			res = json_object_get(f, "resources");
			if (json_is_object(res) && (all_filters ||
			    kinds_have(json_object_get(res, "kinds"), "Pod")))
				json_object_set(res, "kinds", kinds);
		}
		return;
	}
	res = json_object_get(m, "resources");
	if (!json_is_object(res)) {
		if (excluding)
			return;
		res = json_object();
		json_object_set_new(m, "resources", res);
	}
	if (!excluding || json_array_size(json_object_get(res, "kinds")) > 0)
		json_object_set(res, "kinds", kinds);
}

/* {spec: {key: v}} (v borrowed). */
static json_t *
wrap(const char *key, json_t *v)
{
	return json_pack("{s:{s:O}}", "spec", key, v);
}

/*
 * Kyverno's generateRule: a copy of rule (borrowed) named name, its kinds
 * replaced and its patterns moved under spec.KEY.  NULL when the rule has
 * nothing Kyverno generates from.
 */
static json_t *
generate(json_t *rule, const char *name, const char *key, json_t *kinds,
    int all_filters)
{
	json_t *r = json_deep_copy(rule), *val, *p, *list, *e;
	size_t i;

	json_object_set_new(r, "name", json_string(name));
	set_kinds(json_object_get(r, "match"), kinds, all_filters, 0);
	set_kinds(json_object_get(r, "exclude"), kinds, all_filters, 1);
	val = json_object_get(r, "validate");
	if (!json_is_object(val)) {
		json_decref(r);
		return NULL;
	}
	if ((p = json_object_get(val, "pattern")) != NULL) {
		json_object_set_new(val, "pattern", wrap(key, p));
		return r;
	}
	if (json_object_get(val, "deny") || json_object_get(val, "foreach"))
		return r;
	if (json_is_array(list = json_object_get(val, "anyPattern"))) {
		json_t *out = json_array();

		json_array_foreach(list, i, e)
			json_array_append_new(out, wrap(key, e));
		json_object_set_new(val, "anyPattern", out);
		return r;
	}
	json_decref(r);
	return NULL;
}

/* Kyverno's text replacement of the variables over the whole rule. */
static json_t *
rewrite(json_t *rule, const char *const (*rw)[2], size_t n)
{
	struct buf b;
	char *text = json_dumps(rule, JSON_COMPACT | JSON_ENCODE_ANY), *p, *s;
	json_t *out;
	size_t i, len;

	if (text == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		/* the rule came from a manifest the loader bounded */
		buf_init(&b, 0);
		len = strlen(rw[i][0]);
		for (s = text; (p = strstr(s, rw[i][0])) != NULL; s = p + len) {
			buf_add(&b, s, (size_t)(p - s));
			buf_adds(&b, rw[i][1]);
		}
		buf_adds(&b, s);
		free(text);
		text = buf_steal(&b);
	}
	out = util_json_loads(text, JSON_DECODE_ANY, NULL);
	free(text);
	return out;
}

/* Kyverno's rule names are cut at 63 characters. */
static char *
gen_name(const char *prefix, const char *name)
{
	char *s = xasprintf("%s-%s", prefix, name);

	if (strlen(s) > 63)
		s[63] = '\0';
	return s;
}

/* Whether the annotation (or its absence: all) asks for kind. */
static int
wants(json_t *requested, const char *kind)
{
	json_t *k;
	size_t i;

	if (requested == NULL)
		return 1;
	json_array_foreach(requested, i, k)
		if (strcmp(json_string_value(k), kind) == 0 ||
		    strcmp(json_string_value(k), "all") == 0)
			return 1;
	return 0;
}

static void
gen_rule(json_t *rule, json_t *requested, json_t *out)
{
	const char *name = json_string_value(json_object_get(rule, "name"));
	json_t *kinds = json_array(), *base, *cron, *ex, *g;
	char *n;
	size_t i;

	if (name == NULL || strncmp(name, "autogen-", 8) == 0)
		goto out;
	if (!kinds_have((g = block_kinds(json_object_get(rule, "match"))),
	    "Pod")) {
		json_decref(g);
		goto out;
	}
	json_decref(g);
	ex = block_kinds(json_object_get(rule, "exclude"));
	i = json_array_size(ex) > 0 && !kinds_have(ex, "Pod");
	json_decref(ex);
	if (i)
		goto out;
	for (i = 0; i < UTIL_ARRAY_LEN(controllers); i++)
		if (wants(requested, controllers[i]))
			json_array_append_new(kinds,
			    json_string(controllers[i]));
	n = gen_name("autogen", name);
	base = generate(rule, n, "template", kinds, 0);
	free(n);
	if (base == NULL)
		goto out;
	if (json_array_size(kinds) > 0 && (g = rewrite(base, pod_rewrite,
	    UTIL_ARRAY_LEN(pod_rewrite))) != NULL)
		json_array_append_new(out, g);
	if (wants(requested, "CronJob")) {
		json_t *ck = json_pack("[s]", "CronJob");

		n = gen_name("autogen-cronjob", name);
		cron = generate(base, n, "jobTemplate", ck, 1);
		free(n);
		json_decref(ck);
		if (cron && (g = rewrite(cron, cron_rewrite,
		    UTIL_ARRAY_LEN(cron_rewrite))) != NULL)
			json_array_append_new(out, g);
		json_decref(cron);
	}
	json_decref(base);
out:
	json_decref(kinds);
}

json_t *
pol_autogen(json_t *spec, json_t *annotations)
{
	json_t *rules = json_object_get(spec, "rules"), *out, *r;
	json_t *requested = NULL;
	const char *ann = json_string_value(json_object_get(annotations,
	    ANNOTATION));
	size_t i;

	if (!json_is_array(rules) || !can_autogen(rules))
		return NULL;
	if (ann != NULL && *ann != '\0') {
		const char *s = ann, *comma;

		if (strcmp(ann, "none") == 0)
			return NULL;
		requested = json_array();
		for (;; s = comma + 1) {
			comma = strchr(s, ',');
			json_array_append_new(requested, json_stringn(s,
			    comma ? (size_t)(comma - s) : strlen(s)));
			if (comma == NULL)
				break;
		}
	}
	out = json_array();
	json_array_foreach(rules, i, r)
		gen_rule(r, requested, out);
	json_decref(requested);
	if (json_array_size(out) == 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}
