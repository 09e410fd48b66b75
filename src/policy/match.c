/*
 * match and exclude: which requests a rule is about.
 *
 * A filter holds when every condition it gives holds: kinds, names,
 * namespaces (wildcards), annotations, a label selector on the object, a
 * label selector on the object's namespace, operations.  `any` needs one
 * filter, `all` every filter; the older form is one filter.
 *
 * Two of Kyverno's conditions cannot be decided here, and both are
 * decided the way that keeps the rule's author in control:
 *   - subjects, roles and clusterRoles name the user making the request;
 *     remediate's actions have no such user, so a filter that names one
 *     never matches (a rule that matches only on users never applies; an
 *     exclude of users excludes nothing);
 *   - namespaceSelector needs the namespace's labels: they are read through
 *     the lookup hook, and a namespace that cannot be read does not match.
 *     A test's values file gives them instead (pol_values.namespaces); a
 *     namespace it does not name has no labels, as the Kyverno CLI has it.
 */
#include <stdlib.h>
#include <string.h>

#include "policy/pol_int.h"

/* "v1", "v2beta1", "v1alpha3", or "*": a version, as Kyverno tells one. */
static int
is_version(const char *s, size_t len)
{
	size_t i = 1;

	if (len == 1 && s[0] == '*')
		return 1;
	if (len < 2 || s[0] != 'v' || s[1] < '0' || s[1] > '9')
		return 0;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i == len)
		return 1;
	if (len - i > 5 && strncmp(s + i, "alpha", 5) == 0)
		i += 5;
	else if (len - i > 4 && strncmp(s + i, "beta", 4) == 0)
		i += 4;
	else
		return 0;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	return i == len;
}

int
pol_kind_parse(const char *s, struct pol_kind *k)
{
	const char *part[4], *p, *slash;
	size_t len[4], n = 0, i;

	memset(k, 0, sizeof(*k));
	for (p = s; n < 4; p = slash + 1) {
		slash = strchr(p, '/');
		part[n] = p;
		len[n] = slash ? (size_t)(slash - p) : strlen(p);
		if (len[n++] == 0)
			return -1;
		if (slash == NULL)
			break;
	}
	if (slash != NULL)
		return -1;	/* more than four parts */
	/*
	 * Kind | version/Kind or Kind/subresource | group/version/Kind or
	 * version/Kind/subresource | group/version/Kind/subresource, told
	 * apart as Kyverno's ParseKindSelector does: by whether the first
	 * part is a version (v1, v2beta1, a star).  Pod with a star after
	 * its slash is the Pod and any subresource, not version "Pod" of any
	 * kind, which matched nothing.  One form is read as more rules
	 * apply than in Kyverno, never fewer: a star, a star and a Kind
	 * (capital) is any group, version, that Kind (Kyverno: any kind's
	 * subresource of that name, which no whole object is).
	 */
	i = 0;
	if (n == 4 || (n == 3 && (!is_version(part[0], len[0]) ||
	    (part[0][0] == '*' && part[2][0] >= 'A' && part[2][0] <= 'Z')))) {
		k->group = xstrndup(part[0], len[0]);
		i = 1;
	} else
		k->group = xstrdup("*");
	if (n == 4 || (n == 3 && i == 1) || (n >= 2 && is_version(part[0],
	    len[0]))) {
		k->version = xstrndup(part[i], len[i]);
		i++;
	} else
		k->version = xstrdup("*");
	k->kind = xstrndup(part[i], len[i]);
	if (i + 1 < n)
		k->sub = xstrndup(part[i + 1], len[i + 1]);
	return 0;
}

void
pol_kind_clear(struct pol_kind *k)
{
	free(k->group);
	free(k->version);
	free(k->kind);
	free(k->sub);
	memset(k, 0, sizeof(*k));
}

static int
any_glob(char *const *pats, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (util_glob(pats[i], s))
			return 1;
	return 0;
}

static const char *
label(json_t *labels, const char *key)
{
	return json_string_value(json_object_get(labels, key));
}

static int
values_contain(json_t *values, const char *v)
{
	size_t i;

	for (i = 0; v && i < json_array_size(values); i++)
		if (json_is_string(json_array_get(values, i)) &&
		    strcmp(json_string_value(json_array_get(values, i)), v) ==
		    0)
			return 1;
	return 0;
}

/*
 * matchLabels with Kyverno's wildcards (a key or value pattern holds when
 * some label matches both), then matchExpressions as Kubernetes has them.
 */
int
pol_selector_matches(json_t *sel, json_t *labels)
{
	json_t *ml = json_object_get(sel, "matchLabels"), *v, *e;
	json_t *me = json_object_get(sel, "matchExpressions");
	const char *key, *lk;
	json_t *lv;
	size_t i;

	if (!json_is_object(labels))
		labels = NULL;
	json_object_foreach(ml, key, v) {
		int found = 0;

		if (!json_is_string(v))
			return 0;
		json_object_foreach(labels, lk, lv)
			if (json_is_string(lv) && util_glob(key, lk) &&
			    util_glob(json_string_value(v),
			    json_string_value(lv))) {
				found = 1;
				break;
			}
		if (!found)
			return 0;
	}
	json_array_foreach(me, i, e) {
		const char *k = json_string_value(json_object_get(e, "key"));
		const char *op = json_string_value(json_object_get(e,
		    "operator"));
		json_t *vals = json_object_get(e, "values");
		const char *have;

		if (k == NULL || op == NULL)
			return 0;
		have = labels ? label(labels, k) : NULL;
		if (strcmp(op, "In") == 0) {
			if (!values_contain(vals, have))
				return 0;
		} else if (strcmp(op, "NotIn") == 0) {
			if (values_contain(vals, have))
				return 0;
		} else if (strcmp(op, "Exists") == 0) {
			if (have == NULL)
				return 0;
		} else if (strcmp(op, "DoesNotExist") == 0) {
			if (have != NULL)
				return 0;
		} else
			return 0;
	}
	return 1;
}

static int
kinds_match(const struct pol_filter *f, const struct pol_req *r)
{
	size_t i;

	for (i = 0; i < f->nkinds; i++) {
		const struct pol_kind *k = &f->kinds[i];

		/* a whole object's subresource is "": a wildcard matches
		   it, "exec" does not */
		if (util_glob(k->sub ? k->sub : "", "") &&
		    util_glob(k->group, r->group) &&
		    util_glob(k->version, r->version) &&
		    util_glob(k->kind, r->kind))
			return 1;
	}
	return 0;
}

static int
annotations_match(json_t *want, json_t *object)
{
	json_t *have = json_object_get(json_object_get(object, "metadata"),
	    "annotations"), *v, *hv;
	const char *key, *hk;

	json_object_foreach(want, key, v) {
		int found = 0;

		json_object_foreach(have, hk, hv)
			if (json_is_string(hv) && json_is_string(v) &&
			    util_glob(key, hk) &&
			    util_glob(json_string_value(v),
			    json_string_value(hv))) {
				found = 1;
				break;
			}
		if (!found)
			return 0;
	}
	return 1;
}

/* The labels of the request's namespace; owned, or NULL if unknown. */
static json_t *
namespace_labels(const struct pol_req *r)
{
	json_t *ns, *labels;

	if (strcmp(r->kind, "Namespace") == 0 && strcmp(r->group, "") == 0)
		return json_incref(json_object_get(json_object_get(r->object,
		    "metadata"), "labels"));
	if (*r->namespace != '\0' && r->ns_labels != NULL) {
		labels = json_object_get(r->ns_labels, r->namespace);
		return json_is_object(labels) ? json_incref(labels) :
		    json_object();
	}
	if (*r->namespace == '\0' || r->env == NULL || r->env->lookup == NULL)
		return NULL;
	ns = r->env->lookup(r->env->lookup_ctx, "Namespace", "",
	    r->namespace);
	if (ns == NULL)
		return NULL;
	labels = json_incref(json_object_get(json_object_get(ns, "metadata"),
	    "labels"));
	json_decref(ns);
	return labels ? labels : json_object();
}

static int
filter_matches(const struct pol_filter *f, const struct pol_req *r)
{
	const char *ns = r->namespace;
	json_t *labels;
	int ok;

	if (f->users)
		return 0;
	if (f->nkinds && !kinds_match(f, r))
		return 0;
	if (f->nnames && !any_glob(f->names, f->nnames, r->name))
		return 0;
	/* a Namespace is in itself */
	if (strcmp(r->kind, "Namespace") == 0 && strcmp(r->group, "") == 0)
		ns = r->name;
	if (f->nnamespaces && !any_glob(f->namespaces, f->nnamespaces, ns))
		return 0;
	if (f->noperations) {
		size_t i;

		for (i = 0; i < f->noperations; i++)
			if (strcmp(f->operations[i], r->operation) == 0)
				break;
		if (i == f->noperations)
			return 0;
	}
	if (f->annotations && !annotations_match(f->annotations, r->object))
		return 0;
	if (f->selector && !pol_selector_matches(f->selector,
	    json_object_get(json_object_get(r->object, "metadata"), "labels")))
		return 0;
	if (f->ns_selector) {
		if ((labels = namespace_labels(r)) == NULL)
			return 0;
		ok = pol_selector_matches(f->ns_selector, labels);
		json_decref(labels);
		if (!ok)
			return 0;
	}
	return 1;
}

/*
 * excluding: an exclude filter that gives no condition at all excludes
 * nothing, rather than everything.
 */
static int
match_holds(const struct pol_match *m, const struct pol_req *r, int excluding)
{
	size_t i, hits = 0;

	if (m->n == 0)
		return 0;
	for (i = 0; i < m->n; i++) {
		if (excluding && m->f[i].conditions == 0)
			continue;
		if (filter_matches(&m->f[i], r))
			hits++;
		else if (m->mode == POL_MATCH_ALL)
			return 0;
	}
	if (m->mode == POL_MATCH_ALL)
		return excluding ? hits > 0 : 1;
	return hits > 0;
}

int
pol_rule_applies(const struct pol_rule *rule, const struct pol_req *r)
{
	if (rule->match.mode == POL_MATCH_NONE ||
	    !match_holds(&rule->match, r, 0))
		return 0;
	if (rule->exclude.mode != POL_MATCH_NONE &&
	    match_holds(&rule->exclude, r, 1))
		return 0;
	return 1;
}
