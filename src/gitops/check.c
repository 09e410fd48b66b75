/*
 * The ownership check of one plan: what it writes, read fresh, then
 * GitOps controllers, then field managers.
 *
 * Which object is asked about:
 *  - a plan that patches or updates an object in place (a bumpMemory's
 *    Deployment, a k8s patch): that object, and the exact fields written;
 *  - a k8s trigger that creates something else (the article's Workflow,
 *    which bumps the Deployment itself): the decision's target, whose
 *    GitOps controller would revert what the Workflow does (the fields
 *    are not known);
 *  - anything else (a delete, a notification, an Argo CD sync, which asks
 *    Argo CD itself): nothing to fight.
 * An object with a controlling owner (a Pod of a ReplicaSet) is not what
 * Argo CD or Flux deliver; only its fields are checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitops/gitops.h"
#include "util/util.h"

static const char *
pstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s ? s : NULL;
}

static const char *
strategy_of(const char *s)
{
	if (s == NULL)
		return "merge";		/* Argo Events' default */
	if (strstr(s, "strategic"))
		return "strategic";
	if (strcmp(s, "json") == 0 || strstr(s, "json-patch"))
		return "json";
	if (strstr(s, "apply-patch"))
		return "strategic";	/* an apply's fields are its own */
	return "merge";
}

/* The native plan's request that changes the object it names in place. */
static const json_t *
native_write(const json_t *plan, const char *name, const char **strategy)
{
	size_t n = strlen(name), i;
	json_t *r;

	json_array_foreach(json_object_get(plan, "requests"), i, r) {
		const char *m = pstr(r, "method"), *p = pstr(r, "path");
		size_t pl = p ? strlen(p) : 0;

		if (m == NULL || p == NULL || pl <= n || p[pl - n - 1] != '/' ||
		    strcmp(p + pl - n, name) != 0)
			continue;
		if (strcmp(m, "PATCH") == 0)
			*strategy = strategy_of(pstr(r, "contentType"));
		else if (strcmp(m, "PUT") == 0)
			*strategy = "update";
		else
			continue;
		return json_object_get(r, "body");
	}
	return NULL;
}

int
gitops_plan_write(const json_t *plan, struct gitops_write *w)
{
	const char *type = pstr(plan, "type"), *op = pstr(plan, "operation");

	memset(w, 0, sizeof *w);
	w->api_version = pstr(plan, "apiVersion");
	w->kind = pstr(plan, "kind");
	w->ns = pstr(plan, "namespace");
	w->name = pstr(plan, "name");
	if (type == NULL || op == NULL || w->kind == NULL || w->name == NULL ||
	    w->api_version == NULL)
		return 0;
	if (strcmp(type, "remediate") == 0)
		w->body = native_write(plan, w->name, &w->strategy);
	else if (strcmp(type, "k8s") == 0 && strcmp(op, "patch") == 0) {
		w->body = json_object_get(plan, "patch");
		w->strategy = strategy_of(pstr(plan, "patchStrategy"));
	} else if (strcmp(type, "k8s") == 0 && strcmp(op, "update") == 0) {
		w->body = json_object_get(plan, "object");
		w->strategy = "update";
	}
	return w->body != NULL;
}

void
gitops_owner_clear(struct gitops_owner *o)
{
	json_decref(o->owner);
	memset(o, 0, sizeof *o);
}

static int
controlled(const json_t *obj)
{
	json_t *r;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(obj, "metadata"),
	    "ownerReferences"), i, r)
		if (json_is_true(json_object_get(r, "controller")))
			return 1;
	return 0;
}

static int
read_fresh(const char *av, const char *kind, const char *ns,
    const char *name, gitops_fetch_fn *fetch, void *ctx, json_t **obj,
    struct gitops_owner *out)
{
	char *err = NULL;
	int rc = fetch(ctx, av, kind, ns, name, obj, &err);

	if (rc == -1)
		snprintf(out->message, sizeof out->message, "cannot read who "
		    "manages %s %s%s%s: %s", kind, ns ? ns : "", ns ? "/" : "",
		    name, err ? err : "unreadable");
	free(err);
	return rc == -1 ? -1 : 0;
}

static void
field_conflict(const json_t *live, const struct gitops_write *w,
    const json_t *ownership, struct gitops_owner *out)
{
	json_t *fields = gitops_fields_of(w->body, w->strategy, live);
	const char *mgr;
	char *field;

	if (gitops_field_owner(live, fields, ownership, &mgr, &field)) {
		out->verdict = GITOPS_CONFLICT;
		snprintf(out->message, sizeof out->message, "%s of %s %s%s%s "
		    "is managed by %s: a live change would be overwritten",
		    field, w->kind, w->ns ? w->ns : "", w->ns ? "/" : "",
		    w->name, mgr);
		if (out->owner == NULL)
			out->owner = json_object();
		json_object_set_new(out->owner, "manager", json_string(mgr));
		json_object_set_new(out->owner, "field", json_string(field));
		free(field);
	}
	json_decref(fields);
}

int
gitops_check(const json_t *plan, const char *target_av,
    const char *target_kind, const char *target_ns,
    const char *target_name, const json_t *ownership,
    gitops_fetch_fn *fetch, void *ctx, struct gitops_owner *out)
{
	struct gitops_write w;
	json_t *live = NULL;
	int writes = gitops_plan_write(plan, &w), rc = 0;
	const char *type = pstr(plan, "type"), *op = pstr(plan, "operation");

	memset(out, 0, sizeof *out);
	if (writes) {
		/* a sync asks Argo CD itself; nothing to fight */
		if (strcmp(w.kind, "Application") == 0 &&
		    strncmp(w.api_version, "argoproj.io/", 12) == 0)
			return 0;
	} else if (type && op && strcmp(type, "k8s") == 0 &&
	    strcmp(op, "create") == 0 && target_av && target_kind &&
	    target_name && w.kind && w.name && !(strcmp(target_kind, w.kind) == 0 &&
	    strcmp(target_name, w.name) == 0)) {
		/* acts on the target through what it creates */
		w.api_version = target_av;
		w.kind = target_kind;
		w.ns = target_ns;
		w.name = target_name;
	} else
		return 0;
	if (read_fresh(w.api_version, w.kind, w.ns, w.name, fetch, ctx, &live,
	    out) == -1)
		return -1;
	if (live == NULL)
		return 0;	/* gone: the action fails on its own */
	if (!controlled(live) && (rc = gitops_controller(live, ownership,
	    fetch, ctx, out)) == -1)
		goto out;
	if (out->verdict == GITOPS_FREE && writes)
		field_conflict(live, &w, ownership, out);
out:
	json_decref(live);
	return rc;
}
