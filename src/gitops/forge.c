/*
 * Pull (merge) requests through the forges' REST APIs.
 *
 * GitHub and Gitea/Forgejo share the shapes (Gitea copied GitHub's):
 *
 *	find	GET  /repos/OWNER/REPO/pulls?state=open&head=OWNER:BRANCH
 *		     (Gitea ignores head=; the list is filtered on head.ref)
 *	open	POST /repos/OWNER/REPO/pulls {title, head, base, body}
 *		     -> 201 {number, html_url, state}
 *	comment	POST /repos/OWNER/REPO/issues/N/comments {body}
 *	state	GET  /repos/OWNER/REPO/pulls/N -> {state: open|closed, merged,
 *		     merge_commit_sha, merged_at}
 *	base	GET  /repos/OWNER/REPO -> {default_branch}
 *	in	GET  /repos/OWNER/REPO/compare/REV...SHA -> GitHub {status,
 *		     ahead_by}, Gitea {total_commits}: SHA's commits that
 *		     REV's history lacks (none: REV contains SHA)
 *
 * GitLab names them merge requests of a project (its path URL-encoded):
 *
 *	find	GET  /projects/ID/merge_requests?state=opened&source_branch=B
 *	open	POST /projects/ID/merge_requests {source_branch,
 *		     target_branch, title, description} -> 201 {iid, web_url}
 *	comment	POST /projects/ID/merge_requests/IID/notes {body}
 *	state	GET  /projects/ID/merge_requests/IID -> {state: opened|closed|
 *		     merged|locked, merge_commit_sha, squash_commit_sha, sha,
 *		     merged_at}
 *		     (no merge commit for a fast-forward or squash merge)
 *	base	GET  /projects/ID -> {default_branch}
 *	in	GET  /projects/ID/repository/compare?from=REV&to=SHA ->
 *		     {commits} (from the merge base, as for GitHub)
 *
 * Tokens go in the header each forge documents (GitHub "Authorization:
 * Bearer", Gitea "Authorization: token", GitLab "PRIVATE-TOKEN") and
 * nowhere else: an error names the request, never the header.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitops/gitops.h"
#include "util/util.h"

#define MAX_RESPONSE	(2 << 20)	/* bytes */
#define DEFAULT_TIMEOUT	15000		/* ms */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;

static const char *const forge_names[] = { "github", "gitlab", "gitea" };

static void
init_curl(void)
{
	curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

int
gitops_forge_kind_parse(const char *s, enum gitops_forge_kind *k)
{
	size_t i;

	for (i = 0; s && i < UTIL_ARRAY_LEN(forge_names); i++)
		if (strcmp(s, forge_names[i]) == 0 ||
		    (i == GITOPS_GITEA && strcmp(s, "forgejo") == 0)) {
			*k = (enum gitops_forge_kind)i;
			return 0;
		}
	return -1;
}

static size_t
on_data(char *p, size_t sz, size_t n, void *ud)
{
	return buf_add(ud, p, sz * n) == -1 ? 0 : sz * n;
}

/*
 * One request: 0 with *out (owned JSON, may be NULL for an empty body)
 * on a 2xx, or -1 with *err naming the request and the answer.
 */
static int
request(const struct gitops_forge *f, const char *method, const char *path,
    const json_t *body, json_t **out, char **err)
{
	CURL *c;
	CURLcode cc;
	struct curl_slist *h = NULL;
	struct buf b;
	char *url, *auth = NULL, *data = NULL, errbuf[CURL_ERROR_SIZE];
	long status = 0;
	int rc = -1;

	*out = NULL;
	pthread_once(&curl_once, init_curl);
	if (!curl_ok || (c = curl_easy_init()) == NULL) {
		*err = xstrdup("libcurl failed to initialize");
		return -1;
	}
	url = xasprintf("%s%s", f->api, path);
	if (f->token && f->kind == GITOPS_GITLAB)
		auth = xasprintf("PRIVATE-TOKEN: %s", f->token);
	else if (f->token)
		auth = xasprintf("Authorization: %s %s", f->kind ==
		    GITOPS_GITHUB ? "Bearer" : "token", f->token);
	if (auth)
		h = curl_slist_append(h, auth);
	h = curl_slist_append(h, f->kind == GITOPS_GITHUB ?
	    "Accept: application/vnd.github+json" :
	    "Accept: application/json");
	if (f->kind == GITOPS_GITHUB)
		h = curl_slist_append(h, "X-GitHub-Api-Version: 2022-11-28");
	if (body) {
		data = json_dumps(body, JSON_COMPACT);
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, data);
	}
	buf_init(&b, MAX_RESPONSE);
	errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, f->timeout_ms > 0 ?
	    f->timeout_ms : DEFAULT_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "remediate");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (cc != CURLE_OK)
		*err = xasprintf("%s %s: %s", method, url, b.overflow ?
		    "the answer is too big" : *errbuf ? errbuf :
		    curl_easy_strerror(cc));
	else if (status < 200 || status > 299) {
		json_t *j = util_json_loadb(b.data, b.len, 0, NULL);
		const char *m = json_string_value(json_object_get(j,
		    "message"));

		*err = xasprintf("%s %s: HTTP %ld%s%s", method, url, status,
		    m ? ": " : "", m ? m : "");
		json_decref(j);
	} else if (b.len && (*out = util_json_loadb(b.data, b.len, 0, NULL)) ==
	    NULL)
		*err = xasprintf("%s %s: the answer is not JSON", method, url);
	else
		rc = 0;
	if (auth)
		explicit_bzero(auth, strlen(auth));
	free(auth);
	free(data);
	free(url);
	buf_free(&b);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return rc;
}

/* "/repos/OWNER/REPO" or "/projects/OWNER%2FREPO"; owned. */
static char *
project(const struct gitops_forge *f)
{
	struct buf b;
	const char *p;

	buf_init(&b, 0);
	if (f->kind != GITOPS_GITLAB) {
		buf_printf(&b, "/repos/%s", f->repo);
		return buf_steal(&b);
	}
	buf_adds(&b, "/projects/");
	for (p = f->repo; *p; p++)
		if (*p == '/')
			buf_adds(&b, "%2F");
		else
			buf_addc(&b, *p);
	return buf_steal(&b);
}

static char *
escape(const char *s)
{
	char *e = curl_escape(s, 0), *out = xstrdup(e ? e : "");

	curl_free(e);
	return out;
}

/* A pull or merge request's JSON into *pr. */
static void
fill(const struct gitops_forge *f, const json_t *j, struct gitops_pr *pr)
{
	const char *state = json_string_value(json_object_get(j, "state"));
	const char *url = json_string_value(json_object_get(j, f->kind ==
	    GITOPS_GITLAB ? "web_url" : "html_url"));
	const char *sha = json_string_value(json_object_get(j,
	    "merge_commit_sha"));
	const char *at = json_string_value(json_object_get(j, "merged_at"));
	int64_t ms;

	/*
	 * GitLab has no merge commit for a fast-forward merge and puts a
	 * squash's in squash_commit_sha: what lands on the target is then
	 * the squash commit, or the head itself (sha).  Without it, "synced
	 * at the merge" could not be told from synced before it.
	 */
	if (sha == NULL && f->kind == GITOPS_GITLAB && state &&
	    strcmp(state, "merged") == 0 && (sha = json_string_value(
	    json_object_get(j, "squash_commit_sha"))) == NULL)
		sha = json_string_value(json_object_get(j, "sha"));
	gitops_pr_clear(pr);
	pr->number = (long)json_integer_value(json_object_get(j, f->kind ==
	    GITOPS_GITLAB ? "iid" : "number"));
	pr->url = xstrdup(url ? url : "");
	if (json_is_true(json_object_get(j, "merged")) || (state &&
	    strcmp(state, "merged") == 0))
		pr->state = GITOPS_PR_MERGED;
	else if (state && (strcmp(state, "open") == 0 ||
	    strcmp(state, "opened") == 0 || strcmp(state, "locked") == 0))
		pr->state = GITOPS_PR_OPEN;
	else
		pr->state = GITOPS_PR_CLOSED;
	pr->merge_sha = sha ? xstrdup(sha) : NULL;
	/* all three name it so (GitLab with milliseconds, Gitea with an
	 * offset); a time that does not read is as good as none */
	if (pr->state == GITOPS_PR_MERGED && at && time_parse(at, &ms) == 0)
		pr->merged_at = ms;
}

/* A request answered by one pull or merge request: 0 with *pr, or -1. */
static int
request_pr(const struct gitops_forge *f, const char *method, char *path,
    json_t *req, struct gitops_pr *pr, char **err)
{
	json_t *j = NULL;
	int rc = request(f, method, path, req, &j, err);

	if (rc == 0)
		fill(f, j, pr);
	json_decref(j);
	json_decref(req);
	free(path);
	return rc;
}

void
gitops_pr_clear(struct gitops_pr *pr)
{
	free(pr->url);
	free(pr->merge_sha);
	memset(pr, 0, sizeof *pr);
}

const char *
gitops_pr_state_name(enum gitops_pr_state s)
{
	return s == GITOPS_PR_OPEN ? "open" : s == GITOPS_PR_MERGED ?
	    "merged" : "closed";
}

int
gitops_forge_find(const struct gitops_forge *f, const char *branch,
    struct gitops_pr *pr, char **err)
{
	char *proj = project(f), *b = escape(branch), *path, *owner;
	json_t *list = NULL, *e;
	size_t i;
	int rc = 0;

	memset(pr, 0, sizeof *pr);
	if (f->kind == GITOPS_GITLAB)
		path = xasprintf("%s/merge_requests?state=opened&"
		    "source_branch=%s", proj, b);
	else {
		owner = xstrndup(f->repo, strcspn(f->repo, "/"));
		path = xasprintf("%s/pulls?state=open&head=%s:%s&per_page=100"
		    "&limit=50", proj, owner, b);
		free(owner);
	}
	if (request(f, "GET", path, NULL, &list, err) == -1)
		rc = -1;
	json_array_foreach(list, i, e) {
		const char *ref = json_string_value(f->kind == GITOPS_GITLAB ?
		    json_object_get(e, "source_branch") : json_object_get(
		    json_object_get(e, "head"), "ref"));

		if (rc == 0 && ref && strcmp(ref, branch) == 0) {
			fill(f, e, pr);
			rc = 1;
		}
	}
	json_decref(list);
	free(path);
	free(b);
	free(proj);
	return rc;
}

int
gitops_forge_default_branch(const struct gitops_forge *f, char **branch,
    char **err)
{
	char *proj = project(f);
	json_t *j = NULL;
	const char *b;
	int rc = -1;

	*branch = NULL;
	if (request(f, "GET", proj, NULL, &j, err) == 0) {
		if ((b = json_string_value(json_object_get(j,
		    "default_branch"))) != NULL) {
			*branch = xstrdup(b);
			rc = 0;
		} else
			*err = xasprintf("%s has no default_branch", f->repo);
	}
	json_decref(j);
	free(proj);
	return rc;
}

int
gitops_forge_open(const struct gitops_forge *f, const char *branch,
    const char *base, const char *title, const char *body,
    struct gitops_pr *pr, char **err)
{
	char *proj = project(f), *path;
	json_t *req;
	int rc;

	memset(pr, 0, sizeof *pr);
	if (f->kind == GITOPS_GITLAB) {
		path = xasprintf("%s/merge_requests", proj);
		req = json_pack("{s:s, s:s, s:s, s:s}", "source_branch",
		    branch, "target_branch", base, "title", title,
		    "description", body);
	} else {
		path = xasprintf("%s/pulls", proj);
		req = json_pack("{s:s, s:s, s:s, s:s}", "title", title, "head",
		    branch, "base", base, "body", body);
	}
	rc = request_pr(f, "POST", path, req, pr, err);
	free(proj);
	return rc;
}

int
gitops_forge_comment(const struct gitops_forge *f, long number,
    const char *body, char **err)
{
	char *proj = project(f), *path = f->kind == GITOPS_GITLAB ?
	    xasprintf("%s/merge_requests/%ld/notes", proj, number) :
	    xasprintf("%s/issues/%ld/comments", proj, number);
	json_t *req = json_pack("{s:s}", "body", body), *j = NULL;
	int rc = request(f, "POST", path, req, &j, err);

	json_decref(j);
	json_decref(req);
	free(path);
	free(proj);
	return rc;
}

int
gitops_forge_state(const struct gitops_forge *f, long number,
    struct gitops_pr *pr, char **err)
{
	char *proj = project(f), *path = xasprintf("%s/%s/%ld", proj,
	    f->kind == GITOPS_GITLAB ? "merge_requests" : "pulls", number);
	int rc;

	memset(pr, 0, sizeof *pr);
	rc = request_pr(f, "GET", path, NULL, pr, err);
	free(proj);
	return rc;
}

int
gitops_forge_contains(const struct gitops_forge *f, const char *rev,
    const char *sha, char **err)
{
	char *proj, *r, *h, *path;
	json_t *j = NULL, *n;
	int rc;

	if (strcmp(rev, sha) == 0)
		return 1;
	proj = project(f);
	r = escape(rev);
	h = escape(sha);
	path = f->kind == GITOPS_GITLAB ? xasprintf("%s/repository/compare?"
	    "from=%s&to=%s", proj, r, h) : xasprintf("%s/compare/%s...%s",
	    proj, r, h);
	rc = request(f, "GET", path, NULL, &j, err);
	if (rc == 0) {
		n = f->kind == GITOPS_GITHUB ? json_object_get(j, "ahead_by") :
		    f->kind == GITOPS_GITEA ? json_object_get(j,
		    "total_commits") : NULL;
		if (f->kind == GITOPS_GITLAB && json_is_array(json_object_get(
		    j, "commits")))
			rc = json_array_size(json_object_get(j, "commits")) ==
			    0;
		else if (json_is_integer(n))
			rc = json_integer_value(n) == 0;
		else {
			*err = xasprintf("GET %s%s: no commit count in the "
			    "answer", f->api, path);
			rc = -1;
		}
	}
	json_decref(j);
	free(path);
	free(h);
	free(r);
	free(proj);
	return rc;
}
