/*
 * gitops-managed and conflict: the action is planned and would pass the
 * checks so far, so ask who else manages what it changes (src/gitops has
 * the rules).  The object is read fresh through the fetch hook at the
 * moment of the decision: a GitOps controller or a field manager may have
 * arrived since the cluster view last saw it, and the view need not hold
 * managedFields at all.  Nothing unreadable lets the action through.
 *
 * A target that goes through Git instead (confirm with
 * confirm.pullRequest; auto on a GitOps-managed target under
 * ownership.gitopsManaged: pullRequest) passes, with byPullRequest
 * saying why: decide_mode then proposes rather than acts.  A contested
 * field (conflict) in auto stays stopped: its owner is no Git repository.
 */
#include <stdio.h>
#include <string.h>

#include "engine/internal.h"
#include "gitops/gitops.h"

/*
 * The cluster view as the fetch hook when there is none (replay, diff):
 * its whole object (managedFields are outside the projection), through
 * the view's own fetch hook for compact kinds (replay's whole objects).
 * One the view holds but cannot give whole is an error, not "absent".
 */
static int
from_view(void *ctx, const char *av, const char *kind, const char *ns,
    const char *name, json_t **out, char **err)
{
	(void)av;
	*out = ctx ? cluster_get_whole(ctx, kind, ns, name) : NULL;
	if (*out == NULL && ctx && cluster_get(ctx, kind, ns, name)) {
		*err = xasprintf("cannot read the whole %s %s%s%s", kind,
		    ns ? ns : "", ns ? "/" : "", name);
		return -1;
	}
	return *out ? 0 : 1;
}

/*
 * The live fetch hook (ctx: the decision), or an answer it gave shortly
 * before when the decision cannot act (reuse.c), noted in the signal's
 * inputs.
 */
static int
fetch_noted(void *ctx, const char *av, const char *kind, const char *ns,
    const char *name, json_t **out, char **err)
{
	struct decision *d = ctx;
	struct engine *e = d->e;
	int rc = engine_reuse_or_fetch(e, d->cannot_act, av, kind, ns, name,
	    out, err);

	if (rc != -1)
		engine_inputs_fetched(e, kind, ns, name, rc == 0 ? *out :
		    NULL);
	return rc;
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

/*
 * ownership.gitopsManaged: pullRequest (cluster-wide in the
 * RemediationConfig, or per trigger) sends a self-healed GitOps target's
 * change to Git even in auto; `check` made sure there is a
 * confirm.pullRequest to say where.
 */
static int
by_pull_request(const struct decision *d, const json_t *own)
{
	const char *m = json_string_value(json_object_get(own,
	    "gitopsManaged"));

	return d->cfg->pull_request && m && strcmp(m, "pullRequest") == 0;
}

enum rec_reason
decide_ownership(struct decision *d)
{
	struct engine *e = d->e;
	struct gitops_owner o;
	const json_t *own = d->et->ownership;
	enum rec_reason r = REASON_NONE;
	int rc;

	if (d->plan.plan == NULL)
		return REASON_NONE;
	rc = gitops_check(d->plan.plan, target_api_version(d),
	    d->rec.target.kind, d->rec.target.namespace, d->rec.target.name,
	    own, e->opts.fetch ? fetch_noted : from_view, e->opts.fetch ?
	    (void *)d : e->opts.cluster, &o);
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
	else if (o.verdict == GITOPS_MANAGED && d->mode == MODE_AUTO &&
	    by_pull_request(d, own)) {
		/* auto, but the live change would be reverted: Git instead */
		decide_extra_set(d, "byPullRequest", json_string(o.message));
		d->by_pr = 1;
	} else if (o.verdict != GITOPS_FREE) {
		snprintf(d->msg, sizeof d->msg, "%s", o.message);
		r = o.verdict == GITOPS_MANAGED ? REASON_GITOPS_MANAGED :
		    REASON_CONFLICT;
	}
	gitops_owner_clear(&o);
	return r;
}
