/*
 * Confirm by pull request: a pending decision becomes a branch, a commit
 * and one open pull request per (trigger, target).
 *
 * What to write comes from the plan: the fields its patch of the target
 * sets (a bumpMemory's container memory), as manifest paths with their
 * new values; Helm charts map each field to a values path.  Where: the
 * trigger's `confirm.pullRequest` (repoURL, path, base), else the source
 * of the Argo CD Application that delivers the target.  The branch is
 * remediate/<trigger>/<namespace>-<name>-<hash>: an open request on it is
 * updated (a commit when the values changed, a comment either way), never
 * doubled; with none open (the last one merged or closed) the branch
 * starts again from the base.  A forge or git failure is retried with
 * backoff, then the decision is failed with the reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitops/gitops.h"
#include "util/retry.h"
#include "util/util.h"

static const char *
jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s && *s ? s : NULL;
}

/* ---- the edits ---------------------------------------------------------- */

static void
add_edit(json_t *out, const char *path, const json_t *v)
{
	char *s = json_is_string(v) ? xstrdup(json_string_value(v)) :
	    json_dumps(v, JSON_ENCODE_ANY);

	/* the type stays: the string "3" must not land as the number 3 */
	json_array_append_new(out, json_pack("{s:s, s:s, s:b}", "path", path,
	    "value", s, "literal", !json_is_string(v)));
	free(s);
}

static int	edits_walk(json_t *, const char *, const json_t *, int,
		    char **);

/*
 * The target's own metadata: its labels and annotations are the
 * configuration a patch may mean to change (a label that routes traffic,
 * an annotation a controller reads), and go into the manifest.  The rest
 * (resourceVersion, name) is identity or run time, and so are the notes
 * remediate leaves on what it changed: last-action and last-change name
 * a moment, and a commit per moment would be noise in the history.
 */
static int
metadata_edits(json_t *out, const json_t *md, char **err)
{
	static const char *const notes[] = {
		"remediation.platform/last-action",
		"remediation.platform/last-change",
	};
	json_t *keep, *ann;
	size_t i;
	int rc;

	if (!json_is_object(md))
		return 0;
	keep = json_object();
	if (json_object_get(md, "labels"))
		json_object_set(keep, "labels", json_object_get(md, "labels"));
	if (json_is_object(ann = json_object_get(md, "annotations"))) {
		ann = json_deep_copy(ann);
		for (i = 0; i < sizeof notes / sizeof notes[0]; i++)
			json_object_del(ann, notes[i]);
		if (json_object_size(ann) > 0)
			json_object_set(keep, "annotations", ann);
		json_decref(ann);
	} else if (ann)
		json_object_set(keep, "annotations", ann);
	rc = edits_walk(out, "metadata", keep, 0, err);
	json_decref(keep);
	return rc;
}

/* item: v is a list item, whose "name" selects it rather than sets it */
static int
edits_walk(json_t *out, const char *path, const json_t *v, int item,
    char **err)
{
	const char *k;
	json_t *c, *el;
	size_t i;

	if (!json_is_object(v) && !json_is_array(v)) {
		add_edit(out, path, v);
		return 0;
	}
	if (json_is_object(v)) {
		json_object_foreach((json_t *)(uintptr_t)v, k, c) {
			char *p;
			int rc;

			if (*k == '$' || (*path == '\0' && strcmp(k,
			    "status") == 0))
				continue;	/* run-time notes, not config */
			if (*path == '\0' && strcmp(k, "metadata") == 0) {
				if (metadata_edits(out, c, err) == -1)
					return -1;
				continue;
			}
			if (item && strcmp(k, "name") == 0)
				continue;
			if (*k == '\0' || strchr(k, '"')) {
				*err = xasprintf("%s: the key \"%s\" cannot be "
				    "written into a manifest", *path ? path :
				    "the patch", k);
				return -1;
			}
			/* "example.com/tier" is one key, not two */
			p = xasprintf(strpbrk(k, ".[]") ? "%s%s\"%s\"" :
			    "%s%s%s", path, *path ? "." : "", k);
			rc = edits_walk(out, p, c, 0, err);
			free(p);
			if (rc == -1)
				return -1;
		}
		return 0;
	}
	json_array_foreach(v, i, el) {
		const char *name = jstr(el, "name");
		char *p;
		int rc;

		if (name == NULL) {
			*err = xasprintf("%s: a list without names cannot be "
			    "written into a manifest", path);
			return -1;
		}
		p = xasprintf("%s[name=%s]", path, name);
		rc = edits_walk(out, p, el, 1, err);
		free(p);
		if (rc == -1)
			return -1;
	}
	return 0;
}

json_t *
gitops_plan_edits(const json_t *plan, const json_t *values_paths,
    char **err)
{
	struct gitops_write w;
	json_t *out, *e;
	size_t i;

	if (!gitops_plan_write(plan, &w) || strcmp(w.strategy, "json") == 0 ||
	    strcmp(w.strategy, "update") == 0) {
		*err = xstrdup("the action is not a patch of its target: "
		    "nothing to write into a manifest");
		return NULL;
	}
	out = json_array();
	if (edits_walk(out, "", w.body, 0, err) == -1 ||
	    json_array_size(out) == 0) {
		if (*err == NULL)
			*err = xstrdup("the patch sets no field");
		json_decref(out);
		return NULL;
	}
	json_array_foreach(out, i, e) {
		const char *vp;

		if (values_paths == NULL)
			continue;
		if ((vp = jstr(values_paths, jstr(e, "path"))) == NULL) {
			*err = xasprintf("%s is not mapped to a Helm values "
			    "path (confirm.pullRequest.values.paths)",
			    jstr(e, "path"));
			json_decref(out);
			return NULL;
		}
		json_object_set_new(e, "path", json_string(vp));
	}
	return out;
}

/* ---- texts -------------------------------------------------------------- */

static const char *
target_str(const json_t *rec, char *buf, size_t len)
{
	const json_t *t = json_object_get(rec, "target");

	snprintf(buf, len, "%s %s%s%s", jstr(t, "kind"), jstr(t, "namespace") ?
	    jstr(t, "namespace") : "", jstr(t, "namespace") ? "/" : "",
	    jstr(t, "name"));
	return buf;
}

static char *
summary(const json_t *rec, const json_t *edits)
{
	const char *s = jstr(json_object_get(rec, "plan"), "summary");
	struct buf b;
	json_t *e;
	size_t i;

	if (s)
		return xstrdup(s);
	buf_init(&b, 0);
	json_array_foreach(edits, i, e)
		buf_printf(&b, "%s%s = %s", i ? ", " : "", jstr(e, "path"),
		    jstr(e, "value"));
	return buf_steal(&b);
}

static char *
pr_body(const json_t *rec, const json_t *edits, const char *file)
{
	static const char *const passed[] = { "stale", "below-threshold",
	    "disabled", "cooldown", "opt-out", "policy",
	    "at-cap / unsupported-target / blast-radius" };
	const json_t *sig = json_object_get(rec, "signal");
	const json_t *owner = json_object_get(rec, "owner");
	const json_t *budget = json_object_get(rec, "budget"), *sub;
	char tgt[256], *dec = json_dumps(rec, JSON_INDENT(2) |
	    JSON_PRESERVE_ORDER);
	struct buf b;
	json_t *e;
	size_t i;

	buf_init(&b, 0);
	buf_printf(&b, "**remediate** proposes this change to %s (trigger "
	    "`%s`). Merging it applies the remediation; closing it declines "
	    "it.\n\n### Plan\n\nIn `%s`:\n\n", target_str(rec, tgt,
	    sizeof tgt), jstr(rec, "trigger"), file);
	json_array_foreach(edits, i, e)
		buf_printf(&b, "- `%s`: `%s`\n", jstr(e, "path"),
		    jstr(e, "value"));
	sub = json_object_get(rec, "subject");
	buf_printf(&b, "\n### Signal\n\n`%s` / `%s`, id `%s`, about %s %s%s%s, "
	    "at %s\n", jstr(sig, "eventSource") ? jstr(sig, "eventSource") :
	    "-", jstr(sig, "eventName") ? jstr(sig, "eventName") : "-",
	    jstr(sig, "id") ? jstr(sig, "id") : "-", jstr(sub, "kind") ?
	    jstr(sub, "kind") : "?", jstr(sub, "namespace") ? jstr(sub,
	    "namespace") : "", jstr(sub, "namespace") ? "/" : "",
	    jstr(sub, "name") ? jstr(sub, "name") : "?", jstr(rec, "time") ?
	    jstr(rec, "time") : "?");
	buf_adds(&b, "\n### Guardrails passed\n\n");
	for (i = 0; i < UTIL_ARRAY_LEN(passed); i++)
		buf_printf(&b, "- %s\n", passed[i]);
	if (owner)
		buf_printf(&b, "- gitops-managed / conflict: %s, so by pull "
		    "request\n", jstr(owner, "application") ? "delivered by "
		    "Argo CD" : jstr(owner, "manager") ? "a field manager" :
		    "GitOps");
	buf_adds(&b, "- budget, circuit-open, rate-limited\n\n### Budget\n\n");
	if (budget && json_is_number(json_object_get(budget, "value")))
		buf_printf(&b, "`%s` = %g at %s\n", jstr(budget, "query"),
		    json_number_value(json_object_get(budget, "value")),
		    jstr(budget, "at") ? jstr(budget, "at") : "?");
	else
		buf_adds(&b, "no budget gate\n");
	buf_printf(&b, "\n<details><summary>Decision record</summary>\n\n"
	    "```json\n%s\n```\n</details>\n", dec ? dec : "{}");
	free(dec);
	return buf_steal(&b);
}

/* ---- the proposal ------------------------------------------------------- */

/*
 * "<namespace>-<name>" alone is ambiguous ("shop-a"/"cart" and
 * "shop"/"a-cart"), names no kind, and a trigger's name is unique only
 * in its sensor: two of those sharing a branch would share one pull
 * request, and only the last one's outcome would be recorded.  The hash
 * keeps the readable name and makes it one per trigger and target.
 */
char *
gitops_pr_branch(const json_t *rec)
{
	const json_t *tgt = json_object_get(rec, "target");
	const char *parts[] = { jstr(rec, "sensor"), jstr(rec, "trigger"),
	    jstr(tgt, "kind"), jstr(tgt, "namespace"), jstr(tgt, "name") };
	uint64_t h = UTIL_HASH_SEED;
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(parts); i++) {	/* with their NULs */
		const char *p = parts[i] ? parts[i] : "";

		h = util_hash(p, strlen(p) + 1, h);
	}
	return xasprintf("remediate/%s/%s-%s-%08x", jstr(rec, "trigger"),
	    jstr(tgt, "namespace") ? jstr(tgt, "namespace") : "cluster",
	    jstr(tgt, "name"), (unsigned)(h & 0xffffffffU));
}

/* "owner/name" from a repository URL, without ".git". */
static char *
repo_of(const char *url)
{
	const char *p = strstr(url, "://"), *s;
	size_t n;

	p = p ? strchr(p + 3, '/') : strrchr(url, ':');
	if (p == NULL)
		return NULL;
	s = p + 1;
	n = strlen(s);
	if (n > 4 && strcmp(s + n - 4, ".git") == 0)
		n -= 4;
	return n ? xstrndup(s, n) : NULL;
}

static int
retried(const struct gitops_env *env, int (*fn)(void *, char **),
    void *arg, char **err)
{
	struct retry r;
	int n;

	retry_default(&r);
	r.steps = env->attempts > 0 ? env->attempts : 3;
	r.duration_ms = env->backoff_ms > 0 ? env->backoff_ms : 1000;
	for (n = 1;; n++) {
		const char *closed = retry_gate_closed();

		if (closed) {	/* e.g. this replica stopped leading */
			char *why = retry_refusal(closed, n, *err);

			free(*err);
			*err = why;
			return -1;
		}
		free(*err);
		*err = NULL;
		if (fn(arg, err) == 0)
			return 0;
		if (n >= r.steps)
			return -1;
		(void)retry_wait(retry_delay(&r, n + 1, retry_random()), NULL);
	}
}

struct job {
	const struct gitops_env		*env;
	struct gitops_change		 ch;
	struct gitops_forge		 f;
	struct gitops_pushed		 pushed;
	struct gitops_pr		 pr;
	const char			*title, *body, *base;
	int				 found, opened;
};

/* Is a request open on the branch?  Else it starts again from the base. */
static int
do_find(void *arg, char **err)
{
	struct job *j = arg;
	int rc;

	gitops_pr_clear(&j->pr);
	rc = gitops_forge_find(&j->f, j->ch.branch, &j->pr, err);
	gitops_pr_clear(&j->pr);
	if (rc == -1)
		return -1;
	j->ch.fresh = rc == 0;
	return 0;
}

static int
do_push(void *arg, char **err)
{
	struct job *j = arg;

	gitops_pushed_clear(&j->pushed);
	return gitops_git_propose(&j->ch, &j->pushed, err);
}

static int
do_forge(void *arg, char **err)
{
	struct job *j = arg;
	char *base = NULL;
	int rc;

	gitops_pr_clear(&j->pr);
	if ((j->found = gitops_forge_find(&j->f, j->ch.branch, &j->pr,
	    err)) == -1)
		return -1;
	if (j->found)
		return gitops_forge_comment(&j->f, j->pr.number, j->body, err);
	if (j->base == NULL && gitops_forge_default_branch(&j->f, &base,
	    err) == -1)
		return -1;
	rc = gitops_forge_open(&j->f, j->ch.branch, j->base ? j->base : base,
	    j->title, j->body, &j->pr, err);
	j->opened = rc == 0;
	free(base);
	return rc;
}

int
gitops_propose(const struct gitops_env *env, const json_t *rec,
    const json_t *cfg, json_t **out, char **err)
{
	const json_t *src = json_object_get(json_object_get(rec, "owner"),
	    "source"), *tgt = json_object_get(rec, "target");
	const json_t *values = json_object_get(cfg, "values");
	json_t *edits = NULL;
	struct gitops_field_edit *fe = NULL;
	struct job j;
	char *branch = NULL, *repo = NULL, *sum = NULL, *title = NULL;
	char *msg = NULL, *body = NULL, *dec = NULL;
	const char *url, *base;
	size_t i;
	int rc = -1;

	*out = NULL;
	*err = NULL;
	memset(&j, 0, sizeof j);
	j.env = env;
	url = jstr(cfg, "repoURL") ? jstr(cfg, "repoURL") : jstr(src,
	    "repoURL");
	base = jstr(cfg, "base") ? jstr(cfg, "base") : jstr(src,
	    "targetRevision");
	if (url == NULL) {
		*err = xstrdup("no repository to propose in: the target has "
		    "no Argo CD Application source and confirm.pullRequest "
		    "names no repoURL");
		return -1;
	}
	if (gitops_forge_kind_parse(jstr(cfg, "forge"), &j.f.kind) == -1 ||
	    jstr(cfg, "api") == NULL) {
		*err = xstrdup("confirm.pullRequest needs forge (github, "
		    "gitlab, gitea) and api");
		return -1;
	}
	if ((edits = gitops_plan_edits(json_object_get(rec, "plan"),
	    json_object_get(values, "paths"), err)) == NULL)
		return -1;
	repo = jstr(cfg, "repo") ? xstrdup(jstr(cfg, "repo")) : repo_of(url);
	branch = gitops_pr_branch(rec);
	fe = xcalloc(json_array_size(edits), sizeof *fe);
	for (i = 0; i < json_array_size(edits); i++) {
		fe[i].path = jstr(json_array_get(edits, i), "path");
		fe[i].value = jstr(json_array_get(edits, i), "value");
		fe[i].literal = json_is_true(json_object_get(json_array_get(
		    edits, i), "literal"));
	}
	sum = summary(rec, edits);
	dec = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
	msg = xasprintf("remediate: %s\n\nTrigger %s, target %s %s/%s.\n\n"
	    "Decision: %s\n", sum, jstr(rec, "trigger"), jstr(tgt, "kind"),
	    jstr(tgt, "namespace") ? jstr(tgt, "namespace") : "",
	    jstr(tgt, "name"), dec ? dec : "{}");
	title = xasprintf("remediate: %s", sum);
	j.ch = (struct gitops_change){ url, base, jstr(cfg, "path") ?
	    jstr(cfg, "path") : jstr(src, "path"), branch, jstr(tgt, "kind"),
	    jstr(tgt, "namespace"), jstr(tgt, "name"), jstr(values, "file"),
	    fe, json_array_size(edits), msg, env->author_name,
	    env->author_email, jstr(cfg, "gitUser"), env->token,
	    env->workdir, 0 };	/* fresh: do_find's to say */
	j.f.api = jstr(cfg, "api");
	j.f.repo = repo ? repo : "";
	j.f.token = env->token;
	j.base = base && strcmp(base, "HEAD") ? base : NULL;
	j.title = title;
	if (retried(env, do_find, &j, err) == -1 ||
	    retried(env, do_push, &j, err) == -1)
		goto out;
	j.body = body = pr_body(rec, edits, j.pushed.file);
	if (retried(env, do_forge, &j, err) == -1)
		goto out;
	*out = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:b, s:b}",
	    "number", (json_int_t)j.pr.number, "url", j.pr.url ? j.pr.url : "",
	    "branch", branch, "repoURL", url, "file", j.pushed.file,
	    "state", gitops_pr_state_name(j.pr.state), "opened", j.opened,
	    "changed", j.pushed.changed);
	if (j.pushed.changed)
		json_object_set_new(*out, "commit",
		    json_string(j.pushed.commit));
	/* where to ask about it later (the token stays where it is) */
	json_object_set_new(*out, "forge", json_pack("{s:s, s:s, s:s}",
	    "kind", jstr(cfg, "forge"), "api", j.f.api, "repo", j.f.repo));
	rc = 0;
out:
	gitops_pushed_clear(&j.pushed);
	gitops_pr_clear(&j.pr);
	json_decref(edits);
	free(fe);
	free(branch);
	free(repo);
	free(sum);
	free(title);
	free(msg);
	free(body);
	free(dec);
	return rc;
}
