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
#include <stdint.h>
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
	int			 literal;	/* value is a number, true,
						   false or null (its JSON
						   type): written plain; else
						   a string, quoted where YAML
						   would read it as another
						   type ("3", "true") */
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
/*
 * The scalar at e's path (e->value unused): 1 with *value (owned), 0 when
 * there is none there, -1 when text is not YAML.
 */
int	gitops_yaml_get(const char *text, size_t len,
	    const struct gitops_yaml_edit *e, char **value);
/* 1 when text holds a document of kind, ns (may be NULL) and name. */
int	gitops_yaml_defines(const char *text, size_t len, const char *kind,
	    const char *ns, const char *name);
/*
 * "resources.requests.memory", "spec.containers[name=app].image",
 * "metadata.annotations.\"example.com/tier\"" (a key with dots, quoted)
 * into segments (owned array of owned strings; free with
 * gitops_yaml_path_free).  Returns 0, or -1 for an empty segment, an
 * unclosed "[" or '"'.
 */
int	gitops_yaml_path_parse(const char *s, char ***segs, size_t *n);
void	gitops_yaml_path_free(char **segs, size_t n);

/* ---- git.c: the change, on a branch of the target's repository ---------- */

struct gitops_field_edit {
	const char	*path;		/* "spec.template...[name=app]..." */
	const char	*value;
	int		 literal;	/* as gitops_yaml_edit's */
};

struct gitops_change {
	const char	*url;		/* the repository to clone */
	const char	*base;		/* branch to start from; NULL or
					   "HEAD": the remote's default */
	const char	*path;		/* directory of the manifests, or
					   NULL: the whole repository */
	const char	*branch;	/* gitops_pr_branch's */
	const char	*kind, *ns, *name;	/* what the manifest defines */
	const char	*values_file;	/* a Helm values file (relative to
					   the repository) instead, or NULL */
	const struct gitops_field_edit *edits;	/* paths in the manifest,
						   or in the values file */
	size_t		 nedits;
	const char	*message;	/* the commit message */
	const char	*author_name, *author_email;	/* NULL: remediate */
	const char	*user, *token;	/* http(s) credentials, may be NULL;
					   never logged */
	const char	*workdir;	/* clones go below; NULL: /tmp */
	int		 fresh;		/* no request is open on the branch:
					   start it again from the base, over
					   the remote's (a merged or declined
					   request's) */
};

struct gitops_pushed {
	char	 commit[41];	/* hex, when changed */
	char	*file;		/* owned: the file edited, relative */
	int	 updated;	/* the branch existed, not fresh: an open
				   request's */
	int	 changed;	/* a commit was pushed (0: it had the values) */
};

/*
 * Clones c->url into a fresh directory under c->workdir, takes c->branch
 * (the remote's if it exists and not c->fresh, else new from c->base),
 * edits the manifest (or values file), commits and pushes (forced over a
 * stale remote branch when fresh), and removes the directory.  Fresh with
 * nothing to change (the base has the values) is an error: a request
 * would have nothing in it.
 * Returns 0 with *out (clear with gitops_pushed_clear), or -1 with *err
 * (owned: the step and libgit2's or the editor's reason).
 */
int	gitops_git_propose(const struct gitops_change *c,
	    struct gitops_pushed *out, char **err);
void	gitops_pushed_clear(struct gitops_pushed *);

/* ---- forge.c: pull and merge requests ------------------------------------ */

enum gitops_forge_kind { GITOPS_GITHUB, GITOPS_GITLAB, GITOPS_GITEA };

struct gitops_forge {
	enum gitops_forge_kind	 kind;
	const char		*api;	/* "https://api.github.com",
					   "https://gitlab.example/api/v4",
					   "https://gitea.example/api/v1" */
	const char		*repo;	/* "owner/name" (GitLab: the project
					   path, groups included) */
	const char		*token;	/* may be NULL; never logged */
	long			 timeout_ms;	/* 0: 15 s */
};

enum gitops_pr_state { GITOPS_PR_OPEN, GITOPS_PR_MERGED, GITOPS_PR_CLOSED };

struct gitops_pr {
	long			 number;	/* GitLab: the iid */
	char			*url;		/* owned: the page people see */
	enum gitops_pr_state	 state;
	char			*merge_sha;	/* owned, may be NULL */
	int64_t			 merged_at;	/* ms since the epoch: when it
						   was merged, as the forge
						   says (merged_at); 0 when
						   it does not */
};

/* "github", "gitlab", "gitea" (or "forgejo"); 0, or -1 for another. */
int	gitops_forge_kind_parse(const char *, enum gitops_forge_kind *);
/*
 * The open request whose head is branch: 1 with *pr (clear it), 0 when
 * there is none, -1 with *err (owned).
 */
int	gitops_forge_find(const struct gitops_forge *, const char *branch,
	    struct gitops_pr *pr, char **err);
/* Opens one: 0 with *pr, or -1 with *err (owned). */
int	gitops_forge_open(const struct gitops_forge *, const char *branch,
	    const char *base, const char *title, const char *body,
	    struct gitops_pr *pr, char **err);
int	gitops_forge_comment(const struct gitops_forge *, long number,
	    const char *body, char **err);
/* Its state now: 0 with *pr, or -1 with *err (owned). */
int	gitops_forge_state(const struct gitops_forge *, long number,
	    struct gitops_pr *pr, char **err);
/* The repository's default branch: 0 with *branch (owned), or -1. */
int	gitops_forge_default_branch(const struct gitops_forge *,
	    char **branch, char **err);
/*
 * Whether the commit sha is rev or in rev's history (the forge's compare:
 * sha brings no commit rev lacks): 1, 0, or -1 with *err (owned), e.g.
 * a revision the repository does not have.
 */
int	gitops_forge_contains(const struct gitops_forge *, const char *rev,
	    const char *sha, char **err);
void	gitops_pr_clear(struct gitops_pr *);
const char *gitops_pr_state_name(enum gitops_pr_state);

/* ---- propose.c: confirm by pull request ---------------------------------- */

/* What a proposal needs from the process (all borrowed). */
struct gitops_env {
	const char	*token;		/* the forge's and git's, or NULL */
	const char	*workdir;	/* clones go below; NULL: /tmp */
	const char	*author_name, *author_email;	/* NULL: remediate */
	int		 attempts;	/* per step (git, forge); 0: 3 */
	int64_t		 backoff_ms;	/* first wait; 0: 1 s */
};

/*
 * The manifest edits a plan (borrowed) makes: an owned array of
 * {path, value, literal}, value as text, literal true when the patch's
 * value is no JSON string (a number, a bool, null), paths like
 * "spec.template.spec.containers[name=app].resources.requests.memory",
 * mapped through values_paths (borrowed, may be NULL: {manifest path:
 * Helm values path}); or NULL with *err (owned): the plan does not patch
 * its target, a field is not mapped.
 */
json_t	*gitops_plan_edits(const json_t *plan, const json_t *values_paths,
	    char **err);
/*
 * The branch of rec's (borrowed) trigger and target, owned:
 * remediate/<trigger>/<namespace>-<name>-<hash>, the hash (8 hex digits)
 * of sensor, trigger, kind, namespace and name, so that no two triggers
 * or targets share one ("shop-a"/"cart" and "shop"/"a-cart", a
 * Deployment and a StatefulSet of one name, two sensors' triggers of one
 * name).
 */
char	*gitops_pr_branch(const json_t *rec);
/*
 * Proposes the decision rec (borrowed: the record as JSON, with its plan
 * and, for an Argo CD target, owner.source) as a pull request, per cfg
 * (borrowed: confirm.pullRequest {forge, api, repo?, repoURL?, path?,
 * base?, gitUser?, values?: {file, paths}}): pushes the branch and opens
 * the request, or updates and comments on the open one.  Git and forge
 * steps are each retried with backoff.  Returns 0 with *out (owned:
 * {number, url, branch, repoURL, file, state, opened, changed, commit?,
 * forge: {kind, api, repo}}),
 * or -1 with *err (owned: what failed; never a token).
 */
int	gitops_propose(const struct gitops_env *, const json_t *rec,
	    const json_t *cfg, json_t **out, char **err);

#endif /* GITOPS_H */
