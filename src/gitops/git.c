/*
 * The change, written where the target comes from: clone the repository
 * (libgit2), take the branch gitops_pr_branch names (the remote's, when
 * an earlier signal made it and its request is still open: later signals
 * update it; else new from the base, pushed over a remote branch whose
 * request was merged or closed, whose commits are declined or squashed
 * into the base already), edit the manifest that defines the target with
 * the format-preserving editor, commit with the decision in the message,
 * push.
 *
 * Every change starts from a fresh clone in its own directory, removed
 * afterwards: nothing is left to go stale between decisions, and a
 * half-done change never leaks into the next.  Which file: the YAML files
 * under the source path that define the target (kind, namespace, name);
 * of those, a file a kustomization lists as a patch (applied last, what it
 * sets wins), then one that already sets the fields, else the first.  A Helm values file is named by
 * the trigger, with the field mapped to a values path.
 *
 * Credentials (a token for http(s) remotes) are handed in, used by the
 * credential callback only, and never logged.
 */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gitops/gitops.h"
#include "util/util.h"

#define MAX_FILES	10000		/* YAML files looked at per change */
#define MAX_DEPTH	16		/* directories deep under the path */
#define MAX_MANIFEST	(4 << 20)	/* bytes of one file */

/* The callbacks' payload: credentials to give, a refusal to report. */
struct creds {
	const struct gitops_change	*c;
	int				 tries;
	char				*refused;	/* owned: the
							   server's reason */
};

static char *
git_err(const char *what)
{
	const git_error *e = git_error_last();

	return xasprintf("%s: %s", what, e && e->message ? e->message :
	    "unknown libgit2 error");
}

static int
credential(git_credential **out, const char *url, const char *user,
    unsigned int allowed, void *payload)
{
	struct creds *cr = payload;

	(void)url;
	(void)user;
	/* one answer: a wrong token must fail, not loop */
	if (cr->c->token == NULL || cr->tries++ > 0 ||
	    !(allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT))
		return GIT_PASSTHROUGH;
	return git_credential_userpass_plaintext_new(out, cr->c->user ?
	    cr->c->user : "remediate", cr->c->token);
}

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(p);
}

/* ---- which file --------------------------------------------------------- */

struct found {
	char	**paths;	/* owned, relative to the clone */
	size_t	 n, cap;
	char	**patches;	/* owned: files kustomizations list as patches */
	size_t	 np, pcap;
};

static void
found_free(struct found *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->paths[i]);
	for (i = 0; i < f->np; i++)
		free(f->patches[i]);
	free(f->paths);
	free(f->patches);
}

static int
yaml_name(const char *n)
{
	size_t l = strlen(n);

	return (l > 5 && strcmp(n + l - 5, ".yaml") == 0) ||
	    (l > 4 && strcmp(n + l - 4, ".yml") == 0);
}

/* The patch files a kustomization.yaml in dir (relative rel) lists. */
static void
kustomize_patches(const char *text, const char *rel, struct found *f)
{
	const char *p = text;

	/* "path: FILE" of a patches: entry (patchesStrategicMerge's bare
	 * "- FILE" entries are not read: such a file is found by its kind
	 * and name all the same, only not preferred) */
	while ((p = strstr(p, "path:")) != NULL) {
		const char *s = p + 5, *e;

		while (*s == ' ' || *s == '"' || *s == '\'')
			s++;
		e = s;
		while (*e && *e != '\n' && *e != '\r' && *e != '"' &&
		    *e != '\'' && *e != ' ' && *e != '#')
			e++;
		if (e > s) {
			xgrow(&f->patches, &f->pcap, f->np + 1,
			    sizeof *f->patches);
			f->patches[f->np++] = xasprintf("%s%s%.*s", rel,
			    *rel ? "/" : "", (int)(e - s), s);
		}
		p = e;
	}
}

static void
walk(const char *root, const char *rel, int depth,
    const struct gitops_change *c, struct found *f)
{
	char *dir = xasprintf("%s%s%s", root, *rel ? "/" : "", rel);
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && depth < MAX_DEPTH && f->n < MAX_FILES &&
	    (de = readdir(d)) != NULL) {
		char *r, *full, *text, *err = NULL;
		struct stat sb;
		size_t len;

		if (de->d_name[0] == '.')
			continue;	/* ., .., .git, hidden */
		r = xasprintf("%s%s%s", rel, *rel ? "/" : "", de->d_name);
		full = xasprintf("%s/%s", root, r);
		if (lstat(full, &sb) == -1)
			;	/* gone meanwhile: nothing to read */
		else if (S_ISDIR(sb.st_mode))	/* lstat: links not followed */
			walk(root, r, depth + 1, c, f);
		else if (S_ISREG(sb.st_mode) && yaml_name(de->d_name) &&
		    (text = util_read_file(full, MAX_MANIFEST, &len, &err))) {
			if (strncmp(de->d_name, "kustomization.", 14) == 0)
				kustomize_patches(text, rel, f);
			else if (gitops_yaml_defines(text, len, c->kind, c->ns,
			    c->name)) {
				xgrow(&f->paths, &f->cap, f->n + 1,
				    sizeof *f->paths);
				f->paths[f->n++] = xstrdup(r);
			}
			free(text);
		}
		free(err);
		free(full);
		free(r);
	}
	if (d)
		closedir(d);
	free(dir);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Applies every edit to text; 1 changed, 0 nothing to change, -1 err. */
static int
apply(const struct gitops_change *c, int values, char **text, size_t *len,
    char **err)
{
	int changed = 0;
	size_t i;

	for (i = 0; i < c->nedits; i++) {
		struct gitops_yaml_edit e = { values ? NULL : c->kind, c->ns,
		    c->name, NULL, 0, c->edits[i].value, c->edits[i].literal };
		char **segs, *out;
		size_t n, outlen;
		int rc;

		if (gitops_yaml_path_parse(c->edits[i].path, &segs, &n) ==
		    -1) {
			*err = xasprintf("bad path \"%s\"", c->edits[i].path);
			return -1;
		}
		e.path = (const char *const *)segs;
		e.npath = n;
		rc = gitops_yaml_set(*text, *len, &e, &out, &outlen, err);
		gitops_yaml_path_free(segs, n);
		if (rc == -1)
			return -1;
		if (rc == 1) {
			free(*text);
			*text = out;
			*len = outlen;
			changed = 1;
		}
	}
	return changed;
}

/* 1 when every edit's field is already in the file (any value). */
static int
sets_fields(const struct gitops_change *c, const char *text, size_t len)
{
	struct gitops_yaml_edit e = { c->kind, c->ns, c->name, NULL, 0, NULL,
	    0 };
	size_t i;

	for (i = 0; i < c->nedits; i++) {
		char **segs, *v = NULL;
		size_t n;
		int rc;

		if (gitops_yaml_path_parse(c->edits[i].path, &segs, &n) == -1)
			return 0;
		e.path = (const char *const *)segs;
		e.npath = n;
		rc = gitops_yaml_get(text, len, &e, &v);
		gitops_yaml_path_free(segs, n);
		free(v);
		if (rc != 1)
			return 0;
	}
	return 1;
}

static char *
choose(const char *root, const struct gitops_change *c, char **err)
{
	struct found f;
	char *pick = NULL, *full, *text, *e2 = NULL;
	size_t i, k, len;
	int best = -1;

	memset(&f, 0, sizeof f);
	walk(root, c->path ? c->path : "", 0, c, &f);
	qsort(f.paths, f.n, sizeof *f.paths, cmp_str);
	for (i = 0; i < f.n; i++) {
		int score = 1;

		full = xasprintf("%s/%s", root, f.paths[i]);
		text = util_read_file(full, MAX_MANIFEST, &len, &e2);
		free(full);
		free(e2);
		e2 = NULL;
		if (text && sets_fields(c, text, len))
			score = 2;
		/* a patch is applied last: what it sets wins, so it is where
		 * the change goes, whether it sets the fields yet or not */
		for (k = 0; k < f.np; k++)
			if (strcmp(f.patches[k], f.paths[i]) == 0)
				score += 2;
		free(text);
		if (score > best) {
			best = score;
			pick = f.paths[i];
		}
	}
	pick = pick ? xstrdup(pick) : NULL;
	if (pick == NULL)
		*err = xasprintf("no manifest under %s/ defines %s %s%s%s",
		    c->path && *c->path ? c->path : ".", c->kind,
		    c->ns ? c->ns : "", c->ns ? "/" : "", c->name);
	found_free(&f);
	return pick;
}

/* ---- the repository ----------------------------------------------------- */

static int
checkout_branch(git_repository *r, const char *branch, int fresh,
    int *existed, char **err)
{
	git_reference *remote = NULL, *local = NULL;
	git_object *target = NULL;
	git_commit *c = NULL;
	char *rname = xasprintf("origin/%s", branch);
	char *refname = xasprintf("refs/heads/%s", branch);
	git_checkout_options co;
	int rc = -1;

	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	*existed = git_branch_lookup(&remote, r, rname, GIT_BRANCH_REMOTE) ==
	    0;
	if (git_revparse_single(&target, r, *existed && !fresh ? rname :
	    "HEAD") < 0 ||
	    git_commit_lookup(&c, r, git_object_id(target)) < 0 ||
	    git_branch_create(&local, r, branch, c, 1) < 0) {
		*err = git_err("branch");
		goto out;
	}
	co.checkout_strategy = GIT_CHECKOUT_FORCE;
	if (git_checkout_tree(r, target, &co) < 0 ||
	    git_repository_set_head(r, refname) < 0) {
		*err = git_err("checkout");
		goto out;
	}
	rc = 0;
out:
	git_commit_free(c);
	git_object_free(target);
	git_reference_free(remote);
	git_reference_free(local);
	free(rname);
	free(refname);
	return rc;
}

static int
commit(git_repository *r, const char *file, const struct gitops_change *c,
    char oid_hex[GIT_OID_HEXSZ + 1], char **err)
{
	git_index *idx = NULL;
	git_oid tree_id, oid;
	git_tree *tree = NULL;
	git_object *head = NULL;
	git_signature *sig = NULL;
	int rc = -1;

	if (git_repository_index(&idx, r) < 0 ||
	    git_index_add_bypath(idx, file) < 0 || git_index_write(idx) < 0 ||
	    git_index_write_tree(&tree_id, idx) < 0 ||
	    git_tree_lookup(&tree, r, &tree_id) < 0 ||
	    git_revparse_single(&head, r, "HEAD") < 0) {
		*err = git_err("stage");
		goto out;
	}
	if (git_signature_now(&sig, c->author_name ? c->author_name :
	    "remediate", c->author_email ? c->author_email :
	    "remediate@localhost") < 0 ||
	    git_commit_create_v(&oid, r, "HEAD", sig, sig, "UTF-8",
	    c->message, tree, 1, (const git_commit *)head) < 0) {
		*err = git_err("commit");
		goto out;
	}
	git_oid_tostr(oid_hex, GIT_OID_HEXSZ + 1, &oid);
	rc = 0;
out:
	git_signature_free(sig);
	git_object_free(head);
	git_tree_free(tree);
	git_index_free(idx);
	return rc;
}

static int
push_ref(const char *ref, const char *status, void *data)
{
	struct creds *cr = data;

	/* the server refused this ref (not a fast-forward, a hook said no) */
	if (status && cr->refused == NULL)
		cr->refused = xasprintf("%s: %s", ref, status);
	return 0;
}

static int
push(git_repository *r, const char *branch, int force, struct creds *cr,
    char **err)
{
	git_push_options po;
	git_remote *origin = NULL;
	char *spec = xasprintf("%srefs/heads/%s:refs/heads/%s", force ? "+" :
	    "", branch, branch);
	git_strarray specs = { &spec, 1 };
	int rc = -1;

	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	po.callbacks.credentials = credential;
	po.callbacks.push_update_reference = push_ref;
	po.callbacks.payload = cr;
	cr->tries = 0;
	if (git_remote_lookup(&origin, r, "origin") < 0 ||
	    git_remote_push(origin, &specs, &po) < 0)
		*err = git_err("push");
	else if (cr->refused)
		*err = xasprintf("push refused: %s", cr->refused);
	else
		rc = 0;
	git_remote_free(origin);
	free(spec);
	return rc;
}

int
gitops_git_propose(const struct gitops_change *c, struct gitops_pushed *out,
    char **err)
{
	git_clone_options co;
	git_repository *r = NULL;
	struct creds cr = { c, 0, NULL };
	char *dir = xasprintf("%s/remediate-XXXXXX", c->workdir ?
	    c->workdir : "/tmp"), *full = NULL, *text = NULL, *rel = NULL;
	size_t len;
	int rc = -1, changed, existed;
	FILE *fp;

	memset(out, 0, sizeof *out);
	*err = NULL;
	git_libgit2_init();
	git_clone_options_init(&co, GIT_CLONE_OPTIONS_VERSION);
	if (mkdtemp(dir) == NULL) {
		*err = xasprintf("cannot make a directory for the clone: %s",
		    strerror(errno));
		goto out;
	}
	co.fetch_opts.callbacks.credentials = credential;
	co.fetch_opts.callbacks.payload = &cr;
	co.checkout_branch = c->base && *c->base && strcmp(c->base, "HEAD") ?
	    c->base : NULL;
	if (git_clone(&r, c->url, dir, &co) < 0) {
		*err = git_err("clone");
		goto out;
	}
	if (checkout_branch(r, c->branch, c->fresh, &existed, err) == -1)
		goto out;
	out->updated = existed && !c->fresh;
	rel = c->values_file ? xstrdup(c->values_file) : choose(dir, c, err);
	if (rel == NULL)
		goto out;
	full = xasprintf("%s/%s", dir, rel);
	if ((text = util_read_file(full, MAX_MANIFEST, &len, err)) == NULL)
		goto out;
	if ((changed = apply(c, c->values_file != NULL, &text, &len, err)) ==
	    -1) {
		char *e = *err;

		*err = xasprintf("%s: %s", rel, e);
		free(e);
		goto out;
	}
	out->file = rel;
	rel = NULL;
	rc = 0;
	if (!changed && c->fresh) {
		/* a request for it would have no commit (GitHub: 422 "No
		 * commits between"): say why instead */
		*err = xasprintf("%s already has these values in %s: nothing "
		    "to propose (an earlier request merged?)", c->base &&
		    *c->base ? c->base : "the default branch", out->file);
		rc = -1;
		goto out;
	}
	if (!changed)
		goto out;	/* the open request's branch has it already */
	if ((fp = fopen(full, "wb")) == NULL || fwrite(text, 1, len, fp) !=
	    len || fclose(fp) != 0) {
		*err = xasprintf("cannot write %s", out->file);
		rc = -1;
		goto out;
	}
	if (commit(r, out->file, c, out->commit, err) == -1 ||
	    push(r, c->branch, c->fresh && existed, &cr, err) == -1) {
		rc = -1;
		goto out;
	}
	out->changed = 1;
out:
	if (rc == -1) {
		free(out->file);
		out->file = NULL;
	}
	free(cr.refused);
	git_repository_free(r);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	git_libgit2_shutdown();
	free(text);
	free(full);
	free(rel);
	free(dir);
	return rc;
}

void
gitops_pushed_clear(struct gitops_pushed *p)
{
	free(p->file);
	memset(p, 0, sizeof *p);
}
