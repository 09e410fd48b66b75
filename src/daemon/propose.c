/*
 * Confirm by pull request, as `run` does it.
 *
 * The propose hook, on an action worker (src/daemon/actions.c): the token
 * named by confirm.pullRequest.token is read at each use (so a rotated
 * file counts), handed to src/gitops for git and the forge's API, and
 * wiped; it never reaches a log or a record.  Clones go under $TMPDIR.
 * The record's pullRequest keeps where to ask later (forge, token
 * reference, poll interval), never the token.
 *
 * The outcome: every pending-approval record with a pullRequest is kept
 * (from the state file at start, from emitted records after) until its
 * outcome is recorded; each is asked about every pollInterval (default
 * 1m), on an action worker, in turn with its target's actions: the forge
 * may be slow, and the engine thread never waits on it.  Merged, and for
 * an Argo CD target synced to the merge commit (or to a later one that
 * contains it, in any of a multi-source Application's revisions):
 * engine_pr_outcome records `acted`; closed unmerged: `declined`.  A
 * forge that cannot be asked is asked again at the next interval.
 *
 * Merged but not synced is waited for until syncTimeout (default 1h)
 * after the merge, then engine_pr_expired records `expired` and the
 * request is no longer followed: its Application was deleted, or its
 * source points elsewhere now, and asking forever would say nothing new.
 * A deleted Application is waited for too, not expired at once: an
 * app-of-apps may be recreating it.  The merge's time is the forge's
 * (merged_at), so the deadline is the same after a restart, and for the
 * replica that takes over, as before; a forge that does not say counts
 * from when this process first saw it merged.  An open request never
 * expires: it waits for a person, who may take days.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "daemon/propose.h"
#include "gitops/gitops.h"
#include "kube/kube.h"
#include "util/secret.h"
#include "util/util.h"

#define POLL_DEFAULT	60000		/* ms */
#define MAX_OPEN	10000		/* pull requests followed */
#define WHYLEN		512		/* what the Application was */

struct daemon_prs {
	char	*secrets_dir;	/* owned, may be NULL */
	json_t	*open;		/* owned: branch -> pending record */
	json_t	*next;		/* owned: branch -> ms of its next poll */
	json_t	*merged;	/* owned: branch -> ms it was first seen
				   merged (for a forge that does not say
				   when it was) */
};

struct daemon_prs *
daemon_prs_new(const char *secrets_dir)
{
	struct daemon_prs *p = xcalloc(1, sizeof *p);

	p->secrets_dir = secrets_dir ? xstrdup(secrets_dir) : NULL;
	p->open = json_object();
	p->next = json_object();
	p->merged = json_object();
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
	json_decref(p->merged);
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
		if (json_object_get(cfg, "syncTimeout"))
			json_object_set(*pr, "syncTimeout", json_object_get(
			    cfg, "syncTimeout"));
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
		json_object_del(p->merged, b);	/* a new request */
	} else if (strcmp(d, "acted") == 0 || strcmp(d, "declined") == 0 ||
	    strcmp(d, "expired") == 0) {
		json_object_del(p->open, b);
		json_object_del(p->next, b);
		json_object_del(p->merged, b);
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
	/* only records of pull requests are read: a start or a takeover
	   read every record of the state before, and every cluster's */
	f.pull_requests = 1;
	return audit_query(a, &f, seed_one, p, err) < 0 ? -1 : 0;
}

size_t
daemon_prs_following(const struct daemon_prs *p)
{
	return json_object_size(p->open);
}

int64_t
daemon_pr_deadline(const json_t *record, int64_t since)
{
	const char *iv = json_string_value(json_object_get(json_object_get(
	    record, "pullRequest"), "syncTimeout"));
	int64_t t;

	/* check refuses anything else; a record is not a manifest, though */
	if (iv == NULL || duration_parse(iv, &t) == -1 || t <= 0)
		t = DAEMON_PR_SYNC_TIMEOUT;
	return since > INT64_MAX - t ? INT64_MAX : since + t;
}

enum daemon_pr_end
daemon_pr_judge(enum gitops_pr_state state, int synced, int64_t deadline,
    int64_t now)
{
	if (state == GITOPS_PR_OPEN)
		return DAEMON_PR_WAIT;	/* a person's: no deadline */
	if (state == GITOPS_PR_CLOSED)
		return DAEMON_PR_DECLINED;
	if (synced)
		return DAEMON_PR_ACTED;	/* late is still applied */
	return now >= deadline ? DAEMON_PR_EXPIRED : DAEMON_PR_WAIT;
}

#define MAX_REVISIONS	8	/* a multi-source Application's, asked */

/*
 * What the Application's sync was, into why (len bytes, cut short if it
 * must be): "Application argocd/cart was Synced at abc (not at or after
 * the merge)".
 */
static void
sync_text(const char *app, const char *status, const char *const *rev,
    size_t n, char *why, size_t len)
{
	struct buf b;
	size_t i;

	buf_init_on(&b, why, len);
	buf_printf(&b, "Application %s was %s", app, status ? status :
	    "without a sync status");
	for (i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i ? ", " : " at ", rev[i]);
	if (status && strcmp(status, "Synced") == 0)
		buf_adds(&b, " (not at or after the merge)");
}

/*
 * Argo CD has synced the Application to the merge: 1, else 0 with why
 * (len bytes) saying what the Application was instead (deleted, synced
 * elsewhere), or -1 with why when it could not be read: that tells
 * nothing, so it is asked again as a forge that does not answer is,
 * and never expires the request.  Synced at the
 * merge commit, or at a later one that has it in its history (more was
 * merged before Argo CD synced: the forge's compare tells); a
 * multi-source Application names its revisions in status.sync.revisions,
 * one per source.
 */
static int
synced(struct kube_client *kube, const struct gitops_forge *f,
    const json_t *record, const char *sha, char *why, size_t len)
{
	const char *app = json_string_value(json_object_get(json_object_get(
	    record, "owner"), "application"));
	const char *slash = app ? strchr(app, '/') : NULL;
	json_t *o = NULL, *sync, *revs, *v;
	const char *rev[MAX_REVISIONS], *status;
	char *ns, *err = NULL;
	size_t i, n = 0;
	int ok, rc;

	if (app == NULL || slash == NULL || kube == NULL)
		return 1;	/* not delivered by Argo CD: merged is done */
	ns = xstrndup(app, (size_t)(slash - app));
	rc = kube_fetch(kube, "argoproj.io/v1alpha1", "Application", ns,
	    slash + 1, &o, &err);
	if (rc != 0) {
		snprintf(why, len, rc == 1 ? "Application %s was not found "
		    "(deleted?)" : "Application %s could not be read: %s", app,
		    err ? err : "?");
		free(ns);
		free(err);
		return rc == 1 ? 0 : -1;
	}
	sync = json_object_get(json_object_get(o, "status"), "sync");
	status = json_string_value(json_object_get(sync, "status"));
	ok = status && strcmp(status, "Synced") == 0;
	if (json_is_string(json_object_get(sync, "revision")))
		rev[n++] = json_string_value(json_object_get(sync,
		    "revision"));
	revs = json_object_get(sync, "revisions");
	json_array_foreach(revs, i, v)
		if (json_is_string(v) && n < MAX_REVISIONS)
			rev[n++] = json_string_value(v);
	if (ok && sha) {
		for (i = 0, ok = 0; i < n && !ok; i++)
			ok = strcmp(rev[i], sha) == 0;
		/* a later commit: another source's revision (a chart's
		 * version, another repository's commit) is simply not ours */
		for (i = 0; i < n && !ok; i++) {
			ok = gitops_forge_contains(f, rev[i], sha, &err) == 1;
			free(err);
			err = NULL;
		}
	}
	if (!ok)
		sync_text(app, status, rev, n, why, len);
	json_decref(o);
	free(ns);
	free(err);
	return ok;
}

/*
 * One asking after a request, on a worker: everything it reads is its
 * own (a copy of the record), and what it found goes back to the engine
 * thread with it.
 */
struct poll {
	struct daemon_prs	*p;
	struct kube_client	*kube;		/* borrowed: thread-safe */
	json_t			*tracked;	/* a reference: p->open's
						   record when asked */
	json_t			*record;	/* owned copy, the worker's */
	char			*branch;	/* owned */
	int64_t			 now;		/* ms, wall clock: when asked */
	int64_t			 next;		/* ms: when to ask again */
	int64_t			 seen;		/* ms: first seen merged, or 0 */
	json_t			*state;		/* owned: the outcome, or NULL
						   (still open, not asked) */
	enum daemon_pr_end	 end;
	char			*why;		/* owned: expired's reason */
	int			 merged;	/* it is merged, outcome or
						   not */
};

static void
poll_free(void *arg)
{
	struct poll *q = arg;

	json_decref(q->tracked);
	json_decref(q->record);
	json_decref(q->state);
	free(q->branch);
	free(q->why);
	free(q);
}

/* "1h (syncTimeout) after the merge, Application ... was ...": owned. */
static char *
expired_why(const json_t *record, const char *app)
{
	char d[DURATION_FMTLEN];

	/* a merge at 0 is due at its syncTimeout */
	duration_format(daemon_pr_deadline(record, 0), d, sizeof d);
	return xasprintf("%s (syncTimeout) after the merge, %s", d, app);
}

/* On a worker: the forge, and for Argo CD the Application. */
static void
poll_work(void *arg)
{
	struct poll *q = arg;
	const json_t *pr = json_object_get(q->record, "pullRequest");
	const json_t *fj = json_object_get(pr, "forge");
	struct gitops_forge f;
	struct gitops_pr now;
	char *token, *err = NULL, why[WHYLEN];
	int64_t since;
	int rc, ok = 0;

	memset(&f, 0, sizeof f);
	if (gitops_forge_kind_parse(json_string_value(json_object_get(fj,
	    "kind")), &f.kind) == -1)
		return;
	f.api = json_string_value(json_object_get(fj, "api"));
	f.repo = json_string_value(json_object_get(fj, "repo"));
	token = read_token(q->p, json_object_get(fj, "token"), &rc, &err);
	f.token = token;
	if (rc == 0 && f.api && f.repo)
		rc = gitops_forge_state(&f, (long)json_integer_value(
		    json_object_get(pr, "number")), &now, &err);
	else
		rc = -1;
	if (rc == -1) {
		secret_free(token);
		util_log_json("warn", "cannot read a pull request's state",
		    json_pack("{s:s, s:s}", "branch", q->branch, "error",
		    err ? err : "?"));
		free(err);
		return;
	}
	q->merged = now.state == GITOPS_PR_MERGED;
	why[0] = '\0';
	if (q->merged && (ok = synced(q->kube, &f, q->record, now.merge_sha,
	    why, sizeof why)) == -1) {
		util_log_json("warn", "cannot read a pull request's "
		    "Application", json_pack("{s:s, s:s}", "branch", q->branch,
		    "error", why));
		goto out;	/* no outcome: asked again */
	}
	/* the forge's time of the merge, else when it was first seen */
	since = now.merged_at ? now.merged_at : q->seen ? q->seen : q->now;
	q->end = daemon_pr_judge(now.state, ok, daemon_pr_deadline(q->record,
	    since), q->now);
	if (q->end != DAEMON_PR_WAIT) {
		q->state = json_deep_copy(pr);
		json_object_set_new(q->state, "state", json_string(
		    gitops_pr_state_name(now.state)));
		if (now.merge_sha)
			json_object_set_new(q->state, "mergeCommit",
			    json_string(now.merge_sha));
	}
	if (q->end == DAEMON_PR_EXPIRED)
		q->why = expired_why(q->record, why);
out:
	secret_free(token);	/* synced() asks the forge with it too */
	gitops_pr_clear(&now);
}

/*
 * On the engine thread: the outcome becomes its record, unless the
 * request was settled or proposed again meanwhile (the next asking
 * tells about the new one).
 */
static void
poll_done(void *arg, struct engine *e, int ran)
{
	struct poll *q = arg;
	struct daemon_prs *p = q->p;

	if (json_object_get(p->open, q->branch) == q->tracked) {
		json_object_set_new(p->next, q->branch, json_integer(q->next));
		if (ran && q->merged && q->seen == 0)
			json_object_set_new(p->merged, q->branch,
			    json_integer(q->now));
		if (ran && q->end == DAEMON_PR_EXPIRED)
			json_decref(engine_pr_expired(e, q->tracked, q->state,
			    q->why));
		else if (ran && q->state)
			json_decref(engine_pr_outcome(e, q->tracked, q->state,
			    q->end == DAEMON_PR_ACTED));
	}
	poll_free(q);
}

/* The target's key, as the engine names it: the asking waits its turn. */
static char *
key_of(const json_t *record)
{
	const json_t *t = json_object_get(record, "target");
	struct objref r;
	char *key;

	memset(&r, 0, sizeof r);
	objref_set(&r, json_string_value(json_object_get(t, "kind")),
	    json_string_value(json_object_get(t, "namespace")),
	    json_string_value(json_object_get(t, "name")));
	key = objref_key(&r);
	objref_clear(&r);
	return key;
}

void
daemon_prs_poll(struct daemon_prs *p, struct dact *acts,
    struct kube_client *kube, int64_t now)
{
	json_t *r;
	const char *b;
	struct poll *q;
	char *key;

	json_object_foreach(p->open, b, r) {
		int64_t every = POLL_DEFAULT, next = json_integer_value(
		    json_object_get(p->next, b));
		const char *iv = json_string_value(json_object_get(
		    json_object_get(r, "pullRequest"), "pollInterval"));

		if (now < next)
			continue;
		if (iv)
			duration_parse(iv, &every);
		q = xcalloc(1, sizeof *q);
		q->p = p;
		q->kube = kube;
		q->tracked = json_incref(r);
		q->record = json_deep_copy(r);
		q->branch = xstrdup(b);
		q->now = now;
		q->next = now + every;
		q->seen = json_integer_value(json_object_get(p->merged, b));
		key = key_of(r);
		if (dact_task(acts, key, poll_work, poll_done, poll_free, q) ==
		    -1) {
			poll_free(q);	/* full or stopping: next tick */
			free(key);
			continue;
		}
		free(key);
		/* asked once at a time: poll_done sets the next asking */
		json_object_set_new(p->next, b, json_integer(INT64_MAX));
	}
}
