/*
 * gitops-managed and conflict: the action is planned and would pass the
 * checks so far, so ask who else manages what it changes (src/gitops has
 * the rules).  The object is read fresh through the fetch hook at the
 * moment of the decision: a GitOps controller or a field manager may have
 * arrived since the cluster view last saw it, and the view need not hold
 * managedFields at all.  Nothing unreadable lets the action through.
 */
#include <stdio.h>
#include <string.h>

#include "engine/internal.h"
#include "gitops/gitops.h"

/* The cluster view as the fetch hook when there is none (replay). */
static int
from_view(void *ctx, const char *av, const char *kind, const char *ns,
    const char *name, json_t **out, char **err)
{
	json_t *o = ctx ? cluster_get(ctx, kind, ns, name) : NULL;

	(void)av;
	(void)err;
	*out = o ? json_incref(o) : NULL;
	return o ? 0 : 1;
}

/* The target's apiVersion: the view's object, or the workload kinds'. */
static const char *
target_api_version(struct decision *d)
{
	static const char *const apps[] = { "Deployment", "StatefulSet",
	    "DaemonSet", "ReplicaSet" };
	const char *av = json_string_value(json_object_get(d->target_obj,
	    "apiVersion"));
	size_t i;

	if (av || d->rec.target.kind == NULL)
		return av;
	for (i = 0; i < sizeof apps / sizeof apps[0]; i++)
		if (strcmp(d->rec.target.kind, apps[i]) == 0)
			return "apps/v1";
	if (strcmp(d->rec.target.kind, "Pod") == 0)
		return "v1";
	return NULL;
}

enum rec_reason
decide_ownership(struct decision *d)
{
	struct engine *e = d->e;
	struct gitops_owner o;
	json_t *own;
	enum rec_reason r = REASON_NONE;
	int rc;

	if (d->plan.plan == NULL)
		return REASON_NONE;
	own = gitops_ownership_defaults(d->cfg->ownership);
	rc = gitops_check(d->plan.plan, target_api_version(d),
	    d->rec.target.kind, d->rec.target.namespace, d->rec.target.name,
	    own, e->opts.fetch ? e->opts.fetch : from_view, e->opts.fetch ?
	    e->opts.fetch_ctx : e->opts.cluster, &o);
	json_decref(own);
	if (rc == -1) {
		snprintf(d->msg, sizeof d->msg, "%s", o.message);
		gitops_owner_clear(&o);
		return REASON_NONE;
	}
	if (o.owner)
		decide_extra_set(d, "owner", json_incref(o.owner));
	/* a pull request goes where the controller reads from */
	if (o.verdict != GITOPS_FREE && d->mode == MODE_CONFIRM &&
	    d->cfg->pull_request)
		decide_extra_set(d, "byPullRequest", json_string(o.message));
	else if (o.verdict != GITOPS_FREE) {
		snprintf(d->msg, sizeof d->msg, "%s", o.message);
		r = o.verdict == GITOPS_MANAGED ? REASON_GITOPS_MANAGED :
		    REASON_CONFLICT;
	}
	gitops_owner_clear(&o);
	return r;
}
