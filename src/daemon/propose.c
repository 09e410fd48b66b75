/*
 * Confirm by pull request, as `run` does it.
 *
 * The propose hook: the token named by confirm.pullRequest.token is read
 * at each use (so a rotated file counts), handed to src/gitops for git and
 * the forge's API, and wiped; it never reaches a log or a record.  Clones
 * go under $TMPDIR.  The record's pullRequest keeps where to ask later
 * (forge, token reference, poll interval), never the token.
 *
 * The outcome: every pending-approval record with a pullRequest is kept
 * (from the state file at start, from emitted records after) until its
 * outcome is recorded; each is asked about every pollInterval (default
 * 1m).  Merged, and for an Argo CD target synced to the merge commit:
 * engine_pr_outcome records `acted`; closed unmerged: `declined`.  A
 * forge that cannot be asked is asked again at the next interval.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/propose.h"
#include "gitops/gitops.h"
#include "kube/kube.h"
#include "util/secret.h"
#include "util/util.h"

#define POLL_DEFAULT	60000		/* ms */
#define MAX_OPEN	10000		/* pull requests followed */

struct daemon_prs {
	char	*secrets_dir;	/* owned, may be NULL */
	json_t	*open;		/* owned: branch -> pending record */
	json_t	*next;		/* owned: branch -> ms of its next poll */
};

struct daemon_prs *
daemon_prs_new(const char *secrets_dir)
{
	struct daemon_prs *p = xcalloc(1, sizeof *p);

	p->secrets_dir = secrets_dir ? xstrdup(secrets_dir) : NULL;
	p->open = json_object();
	p->next = json_object();
	return p;
}

void
daemon_prs_free(struct daemon_prs *p)
{
	if (p == NULL)
		return;
	free(p->secrets_dir);
	json_decref(p->open);
	json_decref(p->next);
	free(p);
}

static char *
read_token(const struct daemon_prs *p, const json_t *ref, int *rc,
    char **err)
{
	struct secret s;
	char *token;

	*rc = 0;
	if (ref == NULL)
		return NULL;
	if (secret_compile(ref, p->secrets_dir, &s, err) == -1) {
		*rc = -1;
		return NULL;
	}
	if ((token = secret_read(&s, err)) == NULL)
		*rc = -1;
	secret_clear(&s);
	return token;
}

int
daemon_propose(void *ctx, const json_t *record, const json_t *cfg,
    json_t **pr, char **err)
{
	struct daemon_prs *p = ctx;
	struct gitops_env env;
	const json_t *ref = json_object_get(cfg, "token");
	char *token;
	int rc;

	memset(&env, 0, sizeof env);
	token = read_token(p, ref, &rc, err);
	if (rc == -1)
		return -1;
	env.token = token;
	env.workdir = getenv("TMPDIR");
	rc = gitops_propose(&env, record, cfg, pr, err);
	secret_free(token);
	if (rc == 0) {
		if (ref)
			json_object_set(json_object_get(*pr, "forge"), "token",
			    (json_t *)(uintptr_t)ref);
		if (json_object_get(cfg, "pollInterval"))
			json_object_set(*pr, "pollInterval", json_object_get(
			    cfg, "pollInterval"));
	}
	return rc;
}

/* ---- following them ----------------------------------------------------- */

static const char *
branch_of(const json_t *record)
{
	return json_string_value(json_object_get(json_object_get(record,
	    "pullRequest"), "branch"));
}

static void
track(struct daemon_prs *p, json_t *record)
{
	const char *b = branch_of(record);
	const char *d = json_string_value(json_object_get(record,
	    "decision"));

	if (b == NULL || d == NULL)
		return;
	if (strcmp(d, "pending-approval") == 0 &&
	    json_object_size(p->open) < MAX_OPEN) {
		json_object_set(p->open, b, record);
		json_object_set_new(p->next, b, json_integer(0));
	} else if (strcmp(d, "acted") == 0 || strcmp(d, "declined") == 0) {
		json_object_del(p->open, b);
		json_object_del(p->next, b);
	}
}

void
daemon_prs_track(struct daemon_prs *p, const json_t *record)
{
	track(p, (json_t *)(uintptr_t)record);
}

static int
seed_one(void *ctx, json_t *record)
{
	track(ctx, record);
	return 0;
}

int
daemon_prs_seed(struct daemon_prs *p, struct audit *a, char **err)
{
	struct audit_filter f;

	memset(&f, 0, sizeof f);
	return audit_query(a, &f, seed_one, p, err) < 0 ? -1 : 0;
}

/* Argo CD has synced the Application to the merge: 1, else 0. */
static int
synced(struct kube_client *kube, const json_t *record, const char *sha)
{
	const char *app = json_string_value(json_object_get(json_object_get(
	    record, "owner"), "application"));
	const char *slash = app ? strchr(app, '/') : NULL;
	json_t *o = NULL, *sync;
	char *ns, *err = NULL;
	int ok;

	if (app == NULL || slash == NULL || kube == NULL)
		return 1;	/* not delivered by Argo CD: merged is done */
	ns = xstrndup(app, (size_t)(slash - app));
	ok = kube_fetch(kube, "argoproj.io/v1alpha1", "Application", ns,
	    slash + 1, &o, &err) == 0;
	sync = json_object_get(json_object_get(o, "status"), "sync");
	ok = ok && json_is_string(json_object_get(sync, "status")) &&
	    strcmp(json_string_value(json_object_get(sync, "status")),
	    "Synced") == 0 && (sha == NULL || (json_is_string(
	    json_object_get(sync, "revision")) && strcmp(json_string_value(
	    json_object_get(sync, "revision")), sha) == 0));
	json_decref(o);
	free(ns);
	free(err);
	return ok;
}

static void
poll_one(struct daemon_prs *p, struct engine *e, struct kube_client *kube,
    json_t *record)
{
	const json_t *pr = json_object_get(record, "pullRequest");
	const json_t *fj = json_object_get(pr, "forge");
	struct gitops_forge f;
	struct gitops_pr now;
	char *token, *err = NULL;
	json_t *state;
	int rc;

	memset(&f, 0, sizeof f);
	if (gitops_forge_kind_parse(json_string_value(json_object_get(fj,
	    "kind")), &f.kind) == -1)
		return;
	f.api = json_string_value(json_object_get(fj, "api"));
	f.repo = json_string_value(json_object_get(fj, "repo"));
	token = read_token(p, json_object_get(fj, "token"), &rc, &err);
	f.token = token;
	if (rc == 0 && f.api && f.repo)
		rc = gitops_forge_state(&f, (long)json_integer_value(
		    json_object_get(pr, "number")), &now, &err);
	else
		rc = -1;
	secret_free(token);
	if (rc == -1) {
		util_log_json("warn", "cannot read a pull request's state",
		    json_pack("{s:s?, s:s}", "branch", branch_of(record),
		    "error", err ? err : "?"));
		free(err);
		return;
	}
	if (now.state != GITOPS_PR_OPEN && (now.state == GITOPS_PR_CLOSED ||
	    synced(kube, record, now.merge_sha))) {
		state = json_deep_copy(pr);
		json_object_set_new(state, "state", json_string(
		    gitops_pr_state_name(now.state)));
		if (now.merge_sha)
			json_object_set_new(state, "mergeCommit",
			    json_string(now.merge_sha));
		json_incref(record);	/* the outcome's emit drops it */
		json_decref(engine_pr_outcome(e, record, state,
		    now.state == GITOPS_PR_MERGED));
		json_decref(record);
		json_decref(state);
	}
	gitops_pr_clear(&now);
}

void
daemon_prs_poll(struct daemon_prs *p, struct engine *e,
    struct kube_client *kube, int64_t now)
{
	json_t *due = json_array(), *r;
	const char *b;
	size_t i;

	/* collect first: an outcome's emit changes p->open */
	json_object_foreach(p->open, b, r) {
		int64_t every = POLL_DEFAULT, next = json_integer_value(
		    json_object_get(p->next, b));
		const char *iv = json_string_value(json_object_get(
		    json_object_get(r, "pullRequest"), "pollInterval"));

		if (now < next)
			continue;
		if (iv)
			duration_parse(iv, &every);
		json_object_set_new(p->next, b, json_integer(now + every));
		json_array_append(due, r);
	}
	json_array_foreach(due, i, r)
		poll_one(p, e, kube, r);
	json_decref(due);
}
