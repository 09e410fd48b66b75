/*
 * conf_load: files -> documents -> manifests of known kinds, each checked
 * against its schema, then checked against each other.  Every problem is
 * a diagnostic and loading goes on, so one run shows them all.
 */
#include <stdlib.h>
#include <string.h>

#include "conf/internal.h"

struct kind {
	const char	*name;
	const char	*group;
	const char	*versions[3];	/* NULL-terminated */
};

static const struct kind kinds[CONF_NKINDS] = {
	[CONF_EVENTSOURCE] = { "EventSource", "argoproj.io",
	    { "v1alpha1", NULL } },
	[CONF_SENSOR] = { "Sensor", "argoproj.io", { "v1alpha1", NULL } },
	[CONF_CLUSTERPOLICY] = { "ClusterPolicy", "kyverno.io",
	    { "v1", "v2beta1", NULL } },
	[CONF_POLICY] = { "Policy", "kyverno.io", { "v1", "v2beta1", NULL } },
	[CONF_REMEDIATIONCONFIG] = { "RemediationConfig", "remediate.dev",
	    { "v1alpha1", NULL } },
};

const char *
conf_kind_name(enum conf_kind k)
{
	return kinds[k].name;
}

const char *
conf_kind_group(enum conf_kind k)
{
	return kinds[k].group;
}

static void
unknown_kind(const struct mdoc *doc, struct diags *d)
{
	const char *names[CONF_NKINDS], *s;
	size_t i;

	for (i = 0; i < CONF_NKINDS; i++)
		names[i] = kinds[i].name;
	diag_error(d, conf_loc_value(doc, doc->root, "kind", 0),
	    "unknown kind \"%s\": supported are EventSource and Sensor "
	    "(argoproj.io), ClusterPolicy and Policy (kyverno.io), "
	    "RemediationConfig (remediate.dev)", doc->kind);
	if ((s = util_suggest(doc->kind, names, CONF_NKINDS)) != NULL)
		diag_hint(d, "did you mean %s?", s);
}

/* Checks apiVersion against the kind: 0 fine, -1 after a diagnostic. */
static int
check_api_version(const struct mdoc *doc, enum conf_kind k,
    struct diags *d)
{
	const struct kind *kd = &kinds[k];
	const char *av = doc->api_version, *slash = strchr(av, '/');
	size_t glen = slash ? (size_t)(slash - av) : 0, i;
	struct loc l = conf_loc_value(doc, doc->root, "apiVersion", 0);

	if (slash == NULL || glen != strlen(kd->group) ||
	    strncmp(av, kd->group, glen) != 0) {
		diag_error(d, l, "%s belongs to the API group %s, not \"%s\"",
		    kd->name, kd->group, av);
		diag_hint(d, "apiVersion: %s/%s", kd->group, kd->versions[0]);
		return -1;
	}
	for (i = 0; kd->versions[i] != NULL; i++)
		if (strcmp(slash + 1, kd->versions[i]) == 0)
			return 0;
	diag_error(d, l, "%s has no version \"%s\"", kd->name, slash + 1);
	diag_hint(d, "apiVersion: %s/%s", kd->group, kd->versions[0]);
	return -1;
}

/*
 * Classifies a document.  Returns its kind, or -1 after a diagnostic when
 * it is no manifest we can use.
 */
static int
classify(const struct mdoc *doc, struct diags *d)
{
	json_t *root = doc->root;
	size_t i;

	if (!json_is_object(root) || (json_object_get(root, "apiVersion") ==
	    NULL && json_object_get(root, "kind") == NULL)) {
		diag_error(d, conf_loc(doc, root),
		    "not a manifest (no apiVersion/kind)");
		return -1;
	}
	if (!json_is_string(json_object_get(root, "kind"))) {
		diag_error(d, json_object_get(root, "kind") ?
		    conf_loc_value(doc, root, "kind", 0) : conf_loc(doc, root),
		    json_object_get(root, "kind") ? "kind must be a string" :
		    "missing kind");
		return -1;
	}
	for (i = 0; i < CONF_NKINDS; i++)
		if (strcmp(doc->kind, kinds[i].name) == 0)
			break;
	if (i == CONF_NKINDS) {
		unknown_kind(doc, d);
		return -1;
	}
	if (!json_is_string(json_object_get(root, "apiVersion"))) {
		diag_error(d, json_object_get(root, "apiVersion") ?
		    conf_loc_value(doc, root, "apiVersion", 0) :
		    conf_loc(doc, root), json_object_get(root, "apiVersion") ?
		    "apiVersion must be a string" : "missing apiVersion");
		diag_hint(d, "apiVersion: %s/%s", kinds[i].group,
		    kinds[i].versions[0]);
		return -1;
	}
	if (check_api_version(doc, (enum conf_kind)i, d) != 0)
		return -1;
	return (int)i;
}


struct conf *
conf_load(const char *const *paths, size_t npaths, struct diags *d)
{
	struct conf *c = xcalloc(1, sizeof *c);
	struct conf_files fl = { NULL, 0, 0 };
	struct mdoc **docs = NULL;
	size_t ndocs = 0, i, cap = 0, n;
	int k;

	for (i = 0; i < npaths; i++)
		conf_files_find(&fl, paths[i], d);
	for (i = 0; i < fl.n; i++)
		conf_read_docs(fl.v[i], CONF_MAX_FILE, &docs, &ndocs, d);
	conf_files_free(&fl);
	for (i = 0; i < ndocs; i++) {
		if ((k = classify(docs[i], d)) < 0) {
			mdoc_free(docs[i]);
			continue;
		}
		/* a document with YAML errors holds stand-in values */
		if (!docs[i]->invalid)
			docs[i]->invalid = conf_schema_check(docs[i],
			    (enum conf_kind)k, d) > 0;
		xgrow(&c->docs, &cap, c->ndocs + 1, sizeof *c->docs);
		c->docs[c->ndocs++] = docs[i];
	}
	free(docs);
	conf_xcheck(c, d);
	for (i = 0; i < c->ndocs; i++) {
		if (c->docs[i]->invalid)
			continue;
		for (k = 0; k < CONF_NKINDS; k++)
			if (strcmp(c->docs[i]->kind, kinds[k].name) == 0)
				break;
		if (k == CONF_NKINDS)
			continue;	/* valid documents have known kinds */
		n = c->nby_kind[k];
		c->by_kind[k] = xrealloc(c->by_kind[k],
		    (n + 1) * sizeof *c->by_kind[k]);
		c->by_kind[k][n] = c->docs[i];
		c->nby_kind[k] = n + 1;
	}
	return c;
}

void
conf_free(struct conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->ndocs; i++)
		mdoc_free(c->docs[i]);
	free(c->docs);
	for (i = 0; i < CONF_NKINDS; i++)
		free(c->by_kind[i]);
	free(c);
}
