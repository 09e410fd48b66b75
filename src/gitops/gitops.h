/*
 * gitops: who else manages the object an action would change, and (later
 * stages) the pull request that changes it where it comes from.
 *
 * A live change is pointless, and harmful, when something reverts it:
 * Argo CD with self-heal puts the Git version back within seconds (and the
 * OOM kill comes back, and the remediation loops), Flux re-applies its
 * kustomization, and a controller that owns a field (VPA's updater owns
 * resources, an HPA owns replicas through the scale subresource) writes
 * its own value again.  gitops_check reads, from a fresh copy of the
 * object (never the engine's cached view, which need not hold whole
 * objects), who manages it:
 *
 *	Argo CD	its tracking annotation (argocd.argoproj.io/tracking-id,
 *		"app:group/Kind:namespace/name") or label
 *		(app.kubernetes.io/instance), per the tracking method, and
 *		whether that Application self-heals (spec.syncPolicy.
 *		automated.selfHeal, read from the Application itself);
 *	Flux	kustomize.toolkit.fluxcd.io/name or helm.toolkit.fluxcd.io/name
 *		labels, unless reconciling the object is disabled;
 *	fields	metadata.managedFields: a manager other than ours (and other
 *		than the one-off writers: kubectl, helm...) owning a field the
 *		action writes.
 *
 * Everything it needs from outside comes through one fetch function, so
 * the live daemon reads the API server and replay reads its snapshot.
 */
#ifndef GITOPS_H
#define GITOPS_H

#include <stddef.h>
#include <jansson.h>

/*
 * Reads one object fresh.  Returns 0 with *out (owned), 1 when it does not
 * exist (404), or -1 with *err (owned): the object could not be read.
 */
typedef int gitops_fetch_fn(void *ctx, const char *api_version,
    const char *kind, const char *ns, const char *name, json_t **out,
    char **err);

enum gitops_verdict {
	GITOPS_FREE,		/* nobody fights the change */
	GITOPS_MANAGED,		/* a GitOps controller would revert it */
	GITOPS_CONFLICT,	/* another manager owns a field it writes */
};

#define GITOPS_MSGLEN	256

struct gitops_owner {
	enum gitops_verdict	 verdict;
	char			 message[GITOPS_MSGLEN];	/* names the
							   owner */
	/*
	 * owned, may be NULL: what was found, for the record, e.g.
	 * {"controller":"argocd","application":"argocd/shop",
	 *  "selfHeal":true,"source":{repoURL,path,targetRevision}} or
	 * {"manager":"vpa-updater","field":"spec.template..."}
	 */
	json_t			*owner;
};

/*
 * The `ownership:` guardrail with its defaults filled in (a new
 * reference); cfg (borrowed, may be NULL) is the block as written:
 *
 *	argocdNamespace: argocd	where Applications live
 *	argocdTracking: auto	annotation | label | annotation+label |
 *				auto (the annotation if present, else the
 *				label)
 *	instanceLabel: app.kubernetes.io/instance
 *	fieldManager: remediate	our own manager name
 *	ignoreManagers: [kubectl, kubectl-*, helm, argocd-controller,
 *	    kustomize-controller, helm-controller, before-first-apply]
 *				one-off writers (globs): their fields are
 *				not a conflict
 */
json_t	*gitops_ownership_defaults(const json_t *cfg);

/* The object a plan changes in place, and how (all borrowed from it). */
struct gitops_write {
	const char	*api_version, *kind, *ns, *name;
	const json_t	*body;		/* the patch, or the new object */
	const char	*strategy;	/* static: "strategic", "merge",
					   "json", "update" */
};

/*
 * Fills *w with the existing object a plan (borrowed, as action/ builds
 * it) changes and returns 1, or returns 0 when it changes none in place
 * (a create, a delete, a notification).
 */
int	gitops_plan_write(const json_t *plan, struct gitops_write *w);

/*
 * The field paths a write sets, as FieldsV1 paths (owned array).  body is
 * a patch of strategy "strategic", "merge" or "json" (JSON patch: live,
 * borrowed, maps list indices to their keys), or, for strategy "update",
 * the whole new object compared with live.
 */
json_t	*gitops_fields_of(const json_t *body, const char *strategy,
	    const json_t *live);

/*
 * The first manager in obj's (borrowed) metadata.managedFields, other
 * than ours and the ignored ones (ownership, borrowed, as
 * gitops_ownership_defaults made it), that owns one of fields (borrowed).
 * Returns 1 with *manager (borrowed from obj) and *field (owned: the path
 * for people, "spec.template.spec.containers[name=app]..."), or 0.
 */
int	gitops_field_owner(const json_t *obj, const json_t *fields,
	    const json_t *ownership, const char **manager, char **field);

/*
 * GitOps controllers of obj (borrowed, fresh): Argo CD (fetching its
 * Application through fetch) and Flux.  Fills *out: GITOPS_MANAGED when
 * the controller reverts live changes, else GITOPS_FREE, with out->owner
 * set whenever a controller delivers it (a pull request needs the
 * Application's source even without self-heal).  Returns 0, or -1 with
 * out->message when the Application could not be read (never fail open).
 */
int	gitops_controller(const json_t *obj, const json_t *ownership,
	    gitops_fetch_fn *fetch, void *ctx, struct gitops_owner *out);

/*
 * The whole check for a plan (borrowed) whose decision targets the
 * workload target_av/target_kind/target_ns/target_name (it may be
 * acted on through another object, a Workflow the plan creates):
 * fetches what it writes fresh, then GitOps controllers, then field
 * owners.  Returns 0 with *out filled (clear it with gitops_owner_clear),
 * or -1 with out->message: something could not be read, so nothing may
 * be sent.
 */
int	gitops_check(const json_t *plan, const char *target_av,
	    const char *target_kind, const char *target_ns,
	    const char *target_name, const json_t *ownership,
	    gitops_fetch_fn *fetch, void *ctx, struct gitops_owner *out);
void	gitops_owner_clear(struct gitops_owner *);

/* "spec.template.spec.containers[name=app].resources" for a path; owned. */
char	*gitops_path_text(const json_t *path);

/* ---- yamledit.c: format-preserving edits of manifests -------------------- */

/*
 * One value to set: in the document whose kind and metadata.name (and
 * metadata.namespace, when the document gives one) match, or, kind NULL,
 * in the file's first document (a Helm values file).  path: keys, and
 * "[key=value]" for the item of a list (a container by name).
 */
struct gitops_yaml_edit {
	const char		*kind, *ns, *name;	/* borrowed */
	const char *const	*path;			/* borrowed */
	size_t			 npath;
	const char		*value;			/* borrowed */
};

/*
 * Sets e's value in text (borrowed, len bytes), changing nothing else:
 * comments, key order, quoting, other documents and line ends stay.
 * Returns 1 with *out (owned, *outlen bytes), 0 when the value is already
 * there, or -1 with *err (owned): not YAML, no such document, a list
 * item that is not there, an alias or a shared anchor, a block scalar.
 */
int	gitops_yaml_set(const char *text, size_t len,
	    const struct gitops_yaml_edit *e, char **out, size_t *outlen,
	    char **err);
/* 1 when text holds a document of kind, ns (may be NULL) and name. */
int	gitops_yaml_defines(const char *text, size_t len, const char *kind,
	    const char *ns, const char *name);
/*
 * "resources.requests.memory", "spec.containers[name=app].image" into
 * segments (owned array of owned strings; free with gitops_yaml_path_free).
 * Returns 0, or -1 for an empty segment or an unclosed "[".
 */
int	gitops_yaml_path_parse(const char *s, char ***segs, size_t *n);
void	gitops_yaml_path_free(char **segs, size_t n);

#endif /* GITOPS_H */
