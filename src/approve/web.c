/*
 * Serving /approve/ID, and the client `remediate approve` uses.
 *
 * GET never changes anything: it shows what approving would do (the
 * plan as it was decided; approving re-plans against the cluster as it
 * is) and a form that POSTs the signature back.  Link previews in chat
 * clients fetch with GET, so they can never approve.  POST redeems: the
 * signature must match, the approval must be pending and unexpired, and
 * only one POST wins.  Pages for people are HTML; a client that accepts
 * application/json (the CLI, scripts) gets JSON.  Every value shown is
 * HTML-escaped: records carry names from the cluster and the signal.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "approve/approve.h"
#include "util/util.h"

#define MAX_ANSWER	(1u << 20)	/* bytes the CLI reads */

static const char *
str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void
html_esc(struct buf *b, const char *s)
{
	for (; s && *s; s++)
		switch (*s) {
		case '&':
			buf_adds(b, "&amp;");
			break;
		case '<':
			buf_adds(b, "&lt;");
			break;
		case '>':
			buf_adds(b, "&gt;");
			break;
		case '"':
			buf_adds(b, "&quot;");
			break;
		case '\'':
			buf_adds(b, "&#39;");
			break;
		default:
			buf_addc(b, *s);
		}
}

static int
wants_json(const struct http_request *req)
{
	const char *a = http_header_get(req, "Accept");

	return a && strstr(a, "application/json") != NULL;
}

/* The id in /approve/ID (copied into id), or 0 when the path is not one. */
static int
path_id(const char *path, char id[APPROVE_ID_LEN + 1])
{
	const char *p;
	size_t n;

	if (path == NULL || strncmp(path, "/approve/", 9) != 0)
		return 0;
	p = path + 9;
	n = strcspn(p, "/");
	if (n != APPROVE_ID_LEN || (p[n] == '/' && p[n + 1] != '\0'))
		return 0;
	memcpy(id, p, n);
	id[n] = '\0';
	return 1;
}

/* sig from the query, else from an urlencoded form body (copied). */
static void
find_sig(const struct http_request *req, char sig[APPROVE_SIG_LEN + 1])
{
	const char *s = http_arg_get(req, "sig"), *b = req->body, *p;
	size_t n;

	sig[0] = '\0';
	if (s == NULL && b) {
		for (p = b; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 :
		    NULL)
			if (strncmp(p, "sig=", 4) == 0) {
				s = p + 4;
				break;
			}
	}
	if (s == NULL)
		return;
	n = strcspn(s, "&\r\n ");
	if (n == APPROVE_SIG_LEN) {
		memcpy(sig, s, n);
		sig[n] = '\0';
	}
}

/* What the pending decision would do, in words; owned. */
static char *
would(json_t *record)
{
	json_t *plan = json_object_get(record, "plan");
	const char *ns = str(plan, "namespace");

	if (str(plan, "summary"))
		return xstrdup(str(plan, "summary"));
	if (json_is_object(plan))
		return xasprintf("%s %s %s%s%s", str(plan, "operation") ?
		    str(plan, "operation") : "send", str(plan, "kind") ?
		    str(plan, "kind") : "", ns ? ns : "", ns ? "/" : "",
		    str(plan, "name") ? str(plan, "name") : "");
	return xstrdup(str(record, "message") ? str(record, "message") :
	    "the trigger's action");
}

static char *
ref_text(json_t *ref)
{
	const char *ns = str(ref, "namespace");

	return xasprintf("%s %s%s%s", str(ref, "kind") ? str(ref, "kind") :
	    "?", ns ? ns : "", ns ? "/" : "", str(ref, "name") ?
	    str(ref, "name") : "?");
}

static void
page_start(struct buf *b, const char *title)
{
	buf_adds(b, "<!doctype html>\n<html><head><meta charset=\"utf-8\">"
	    "<meta name=\"robots\" content=\"noindex\"><title>");
	html_esc(b, title);
	buf_adds(b, "</title></head><body style=\"font-family:sans-serif;"
	    "max-width:44em;margin:2em auto\">\n<h1>");
	html_esc(b, title);
	buf_adds(b, "</h1>\n");
}

static void
row(struct buf *b, const char *k, const char *v)
{
	buf_adds(b, "<tr><th style=\"text-align:left;padding-right:1em\">");
	html_esc(b, k);
	buf_adds(b, "</th><td>");
	html_esc(b, v);
	buf_adds(b, "</td></tr>\n");
}

static void
describe(struct buf *b, const struct approve_pending *p)
{
	char when[TIME_FMTLEN], *t = ref_text(json_object_get(p->record,
	    "target")), *w = would(p->record);

	buf_adds(b, "<table>\n");
	row(b, "Trigger", str(p->record, "trigger"));
	row(b, "Sensor", str(p->record, "sensor"));
	row(b, "Target", t);
	row(b, "Would", w);
	row(b, "Decided", str(p->record, "time"));
	time_format(p->expires, when, sizeof when);
	row(b, "Expires", when);
	buf_adds(b, "</table>\n");
	free(t);
	free(w);
}

static void
reply_json(struct http_response *resp, int status, json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

	http_reply(resp, status, "application/json", s ? s : "{}");
	free(s);
	json_decref(o);
}

static void
reply_page(struct http_response *resp, int status, struct buf *b)
{
	buf_adds(b, "</body></html>\n");
	http_reply(resp, status, "text/html; charset=utf-8", b->data);
	buf_free(b);
}

/*
 * What approving came to: the decision, its reason and message; an
 * outcome without a decision is one not known yet (its message: why).
 */
static void
describe_outcome(struct buf *b, const json_t *outcome)
{
	buf_adds(b, "<p>Outcome: ");
	html_esc(b, str(outcome, "decision") ? str(outcome, "decision") :
	    "not known yet");
	if (str(outcome, "reason")) {
		buf_adds(b, " (");
		html_esc(b, str(outcome, "reason"));
		buf_adds(b, ")");
	}
	if (str(outcome, "message")) {
		buf_adds(b, ": ");
		html_esc(b, str(outcome, "message"));
	}
	buf_adds(b, "</p>\n");
}

/* 404, 403, 410, 500 for a lookup or redeem that did not succeed. */
static void
refuse(struct http_response *resp, int json, enum approve_status st,
    const struct approve_pending *p, const char *err)
{
	static const struct {
		int		 code;
		const char	*title;
	} tab[] = {
		[APPROVE_NOT_FOUND] = { 404, "No such approval" },
		[APPROVE_BAD_SIGNATURE] = { 403, "This link is not valid" },
		[APPROVE_GONE_EXPIRED] = { 410, "This approval has expired" },
		[APPROVE_GONE_USED] = { 410, "This approval was used already" },
		[APPROVE_ERROR] = { 500, "The approval could not be read" },
	};
	struct buf b;

	if (json) {
		reply_json(resp, tab[st].code, json_pack("{s:s, s:s, s:s?, "
		    "s:O?}", "status", approve_status_name(st), "error",
		    tab[st].title, "detail", err, "outcome", p ? p->outcome :
		    NULL));
		return;
	}
	buf_init(&b, 0);
	page_start(&b, tab[st].title);
	if (p && p->record)
		describe(&b, p);
	if (p && p->outcome)
		describe_outcome(&b, p->outcome);
	if (err) {
		buf_adds(&b, "<p>");
		html_esc(&b, err);
		buf_adds(&b, "</p>\n");
	}
	reply_page(resp, tab[st].code, &b);
}

static void
show(struct approve_store *s, const struct http_request *req,
    struct http_response *resp, int64_t now, const char *id,
    const char *sig)
{
	struct approve_pending p;
	enum approve_status st;
	char *err = NULL;
	struct buf b;

	st = approve_lookup(s, id, sig[0] ? sig : "-", &p, &err);
	if (st == APPROVE_OK && p.state == APPROVE_USED)
		st = APPROVE_GONE_USED;
	else if (st == APPROVE_OK && (p.state == APPROVE_EXPIRED ||
	    now >= p.expires))
		st = APPROVE_GONE_EXPIRED;
	if (st != APPROVE_OK) {
		refuse(resp, wants_json(req), st, st == APPROVE_NOT_FOUND ||
		    st == APPROVE_BAD_SIGNATURE ? NULL : &p, err);
		approve_pending_clear(&p);
		free(err);
		return;
	}
	if (wants_json(req)) {
		char when[TIME_FMTLEN];

		time_format(p.expires, when, sizeof when);
		reply_json(resp, 200, json_pack("{s:s, s:s, s:s, s:O}", "id",
		    p.id, "status", "pending", "expires", when, "record",
		    p.record));
		approve_pending_clear(&p);
		return;
	}
	buf_init(&b, 0);
	page_start(&b, "Approve this remediation?");
	describe(&b, &p);
	buf_adds(&b, "<p>Approving re-checks every guardrail and re-plans "
	    "against the cluster as it is now; the action runs only if they "
	    "all still pass.  The link works once.</p>\n<form method=\"post\" "
	    "action=\"/approve/");
	html_esc(&b, p.id);
	buf_adds(&b, "\"><input type=\"hidden\" name=\"sig\" value=\"");
	html_esc(&b, sig);
	buf_adds(&b, "\"><button type=\"submit\">Approve</button></form>\n");
	reply_page(resp, 200, &b);
	approve_pending_clear(&p);
}

static void
redeem(struct approve_store *s, const struct http_request *req,
    struct http_response *resp, int64_t now, const char *id,
    const char *sig, approve_run_fn run, void *ctx)
{
	struct approve_pending p;
	enum approve_status st;
	json_t *outcome = NULL;
	char *err = NULL, *e2 = NULL;
	int code = 200, rc;
	struct buf b;

	st = approve_redeem(s, id, sig, now, &p, &err);
	if (st != APPROVE_OK) {
		refuse(resp, wants_json(req), st, st == APPROVE_NOT_FOUND ||
		    st == APPROVE_BAD_SIGNATURE ? NULL : &p, err);
		approve_pending_clear(&p);
		free(err);
		return;
	}
	rc = run ? run(ctx, &p, &outcome, &err) : -1;
	if (rc == APPROVE_RUN_UNKNOWN) {
		/* no decision to show: "failed" would be a guess */
		json_decref(outcome);
		outcome = json_pack("{s:s}", "message", err ? err :
		    "the outcome is not known yet");
		code = 202;
	} else if (rc != 0 || outcome == NULL) {
		json_decref(outcome);
		outcome = json_pack("{s:s, s:s}", "decision", "failed",
		    "message", err ? err : "the engine could not be asked");
		code = 500;
	}
	if (approve_finish(s, p.id, outcome, &e2) == -1)
		code = 500;
	free(e2);
	if (wants_json(req)) {
		reply_json(resp, code, json_pack("{s:s, s:s, s:O}", "id", p.id,
		    "status", "approved", "outcome", outcome));
	} else {
		buf_init(&b, 0);
		page_start(&b, code == 202 ? "Approved: outcome not known yet" :
		    str(outcome, "decision") && strcmp(str(outcome,
		    "decision"), "acted") == 0 ? "Approved: done" :
		    "Approved, but not done");
		describe(&b, &p);
		describe_outcome(&b, outcome);
		reply_page(resp, code, &b);
	}
	json_decref(outcome);
	approve_pending_clear(&p);
	free(err);
}

void
approve_http(struct approve_store *s, const struct http_request *req,
    struct http_response *resp, int64_t now, approve_run_fn run, void *ctx)
{
	char id[APPROVE_ID_LEN + 1], sig[APPROVE_SIG_LEN + 1];

	http_response_header(resp, "Cache-Control", "no-store");
	http_response_header(resp, "Referrer-Policy", "no-referrer");
	if (!path_id(req->path, id)) {
		http_reply_error(resp, 404, "no such approval");
		return;
	}
	find_sig(req, sig);
	if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") ==
	    0)
		show(s, req, resp, now, id, sig);
	else if (strcmp(req->method, "POST") == 0)
		redeem(s, req, resp, now, id, sig, run, ctx);
	else {
		http_response_header(resp, "Allow", "GET, POST");
		http_reply_error(resp, 405, "GET shows an approval, POST "
		    "approves it");
	}
}

/* ---- the client -------------------------------------------------------- */

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
init_curl(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t
on_body(char *p, size_t size, size_t n, void *ctx)
{
	(void)buf_add(ctx, p, size * n);	/* beyond the bound: dropped */
	return size * n;
}

long
approve_remote(const char *link, const char *sig, long timeout_ms,
    json_t **answer, char **err)
{
	struct curl_slist *hd = NULL;
	char ebuf[CURL_ERROR_SIZE], *body;
	long status = 0;
	struct buf b;
	CURL *h;
	CURLcode rc;

	*answer = NULL;
	*err = NULL;
	pthread_once(&once, init_curl);
	if ((h = curl_easy_init()) == NULL) {
		*err = xstrdup("libcurl cannot start");
		return 0;
	}
	buf_init(&b, MAX_ANSWER);
	ebuf[0] = '\0';
	body = xasprintf("sig=%s", sig);
	hd = curl_slist_append(hd, "Accept: application/json");
	hd = curl_slist_append(hd, "Content-Type: "
	    "application/x-www-form-urlencoded");
	curl_easy_setopt(h, CURLOPT_URL, link);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms :
	    60000L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "remediate-approve");
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		*answer = util_json_loadb(b.data, b.len, 0, NULL);
	} else
		*err = xstrdup(ebuf[0] ? ebuf : curl_easy_strerror(rc));
	curl_slist_free_all(hd);
	curl_easy_cleanup(h);
	buf_free(&b);
	free(body);
	return status;
}
