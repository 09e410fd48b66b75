/*
 * The `http` trigger: Argo Events' HTTP trigger, run by the engine.
 *
 * Planning turns the fired trigger's http block and payload into the
 * request it would send: method, URL, plain headers, the body, timeout
 * and TLS settings, with every secret (secureHeaders, basicAuth, TLS
 * certificates) shown as the reference it is read from, so dry-run,
 * replay and the audit log say exactly what goes out without holding a
 * credential.  Executing reads the secrets (from SECRETS_DIR/NAME/KEY for
 * Argo's secretKeyRef, or remediate's {file} / {env}) and sends, on the
 * engine's thread, within the trigger's timeout: the answer decides
 * between acted and failed, so it cannot be queued like a notification.
 * With the trigger's retryStrategy, an attempt that got no answer, 429 or
 * 5xx is tried again after its backoff (on the engine thread: keep steps
 * and durations small); without one it is tried once, as Argo does.
 * The calling thread's retry gate (util/retry.h: the daemon's leader
 * fence) is asked before every attempt and ends a backoff early: what it
 * refuses is not sent.
 * configMapKeyRef values are read the same way, from the ConfigMap
 * mounted at SECRETS_DIR/NAME/KEY.
 */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "notify/notify_int.h"
#include "util/retry.h"

#define DEFAULT_TIMEOUT_S	60	/* Argo's */
#define RESULT_BODY		4096	/* bytes of the answer recorded */

static const char *
str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* A secret reference as written: {secretKeyRef|configMapKeyRef|file|env}. */
static json_t *
ref_of(const json_t *value_from)
{
	const json_t *r = json_object_get(value_from, "secretKeyRef");

	if (r == NULL)
		r = json_object_get(value_from, "configMapKeyRef");
	if (r)
		return json_pack("{s:O}", "secretKeyRef", r);
	return json_deep_copy(value_from);
}

/* Argo's TLS secrets, and what the plan calls them. */
static const char *const tls_keys[][2] = {
	{ "caCertSecret", "caCert" },
	{ "clientCertSecret", "clientCert" },
	{ "clientKeySecret", "clientKey" },
};

int
notify_plan_http(const json_t *spec, const json_t *payload, json_t **plan,
    char **err)
{
	const char *url = str(spec, "url"), *method = str(spec, "method");
	const json_t *h, *tls = json_object_get(spec, "tls");
	json_t *p, *sec, *t;
	const char *k;
	json_t *v;
	size_t i;
	long timeout = DEFAULT_TIMEOUT_S;

	*plan = NULL;
	*err = NULL;
	if (url == NULL || *url == '\0') {
		*err = xstrdup("the http trigger has no url");
		return -1;
	}
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) !=
	    0) {
		*err = xstrdup("the http trigger's url is not http:// or "
		    "https://");
		return -1;
	}
	if (json_is_integer(json_object_get(spec, "timeout")))
		timeout = (long)json_integer_value(json_object_get(spec,
		    "timeout"));
	p = json_pack("{s:s, s:s, s:s, s:{}, s:I}", "type", "http", "method",
	    method ? method : "POST", "url", url, "headers", "timeoutMs",
	    (json_int_t)timeout * 1000);
	json_object_foreach((json_t *)(uintptr_t)json_object_get(spec,
	    "headers"), k, v)
		json_object_set(json_object_get(p, "headers"), k, v);
	sec = json_object();
	json_array_foreach(json_object_get(spec, "secureHeaders"), i, h)
		if (str(h, "name"))
			json_object_set_new(sec, str(h, "name"), ref_of(
			    json_object_get(h, "valueFrom")));
	if (json_object_size(sec))
		json_object_set_new(p, "secureHeaders", sec);
	else
		json_decref(sec);
	if ((h = json_object_get(spec, "basicAuth")) != NULL)
		json_object_set_new(p, "basicAuth", json_pack("{s:o, s:o}",
		    "username", ref_of(json_object_get(h, "username")),
		    "password", ref_of(json_object_get(h, "password"))));
	if (json_is_object(tls)) {
		t = json_pack("{s:b}", "insecureSkipVerify", json_is_true(
		    json_object_get(tls, "insecureSkipVerify")));
		for (i = 0; i < UTIL_ARRAY_LEN(tls_keys); i++)
			if (json_object_get(tls, tls_keys[i][0]))
				json_object_set_new(t, tls_keys[i][1],
				    json_pack("{s:O}", "secretKeyRef",
				    json_object_get(tls, tls_keys[i][0])));



		json_object_set_new(p, "tls", t);
	}
	if (payload)
		json_object_set(p, "body", (json_t *)(uintptr_t)payload);
	*plan = p;
	return 0;
}

/* ---- executing ----------------------------------------------------------- */

/* Reads the secret a plan reference names; owned value or NULL + *err. */
static char *
read_ref(const json_t *ref, const char *dir, int pem, const char *what,
    char **err)
{
	struct secret s;
	char *v, *e = NULL;

	if (secret_compile(ref, dir, &s, &e) == -1) {
		*err = xasprintf("%s: %s", what, e);
		free(e);
		return NULL;
	}
	v = pem ? secret_read_pem(&s, &e) : secret_read(&s, &e);
	if (v == NULL) {
		*err = xasprintf("%s: %s", what, e);
		free(e);
	}
	secret_clear(&s);
	return v;
}

static char *
basic_line(const json_t *ba, const char *dir, char **err)
{
	char *u, *p, *pair, *line;
	unsigned char *b64;
	size_t n;

	if ((u = read_ref(json_object_get(ba, "username"), dir, 0,
	    "basicAuth.username", err)) == NULL)
		return NULL;
	if ((p = read_ref(json_object_get(ba, "password"), dir, 0,
	    "basicAuth.password", err)) == NULL) {
		secret_free(u);
		return NULL;
	}
	pair = xasprintf("%s:%s", u, p);
	n = strlen(pair);
	b64 = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock(b64, (const unsigned char *)pair, (int)n);
	line = xasprintf("Authorization: Basic %s", (char *)b64);
	explicit_bzero(b64, strlen((char *)b64));
	free(b64);
	secret_free(pair);
	secret_free(u);
	secret_free(p);
	return line;
}

/* Every header line, secrets read now; -1 with *err. */
static int
lines_of(const json_t *plan, const char *dir, char ***out, size_t *n,
    char **err)
{
	const json_t *hs = json_object_get(plan, "headers");
	const json_t *sec = json_object_get(plan, "secureHeaders");
	size_t cap = json_object_size(hs) + json_object_size(sec) + 3, k = 0;
	char **l = xcalloc(cap, sizeof *l), *v, *what;
	const char *name;
	json_t *val;

	if (json_object_get(plan, "body"))
		l[k++] = xstrdup("Content-Type: application/json");
	json_object_foreach((json_t *)(uintptr_t)hs, name, val)
		if (json_is_string(val) && strpbrk(json_string_value(val),
		    "\r\n") == NULL)
			l[k++] = xasprintf("%s: %s", name,
			    json_string_value(val));
	json_object_foreach((json_t *)(uintptr_t)sec, name, val) {
		what = xasprintf("header %s", name);
		v = read_ref(val, dir, 0, what, err);
		free(what);
		if (v == NULL) {
			notify_lines_free(l, k);
			return -1;
		}
		l[k++] = xasprintf("%s: %s", name, v);
		secret_free(v);
	}
	if (json_object_get(plan, "basicAuth")) {
		if ((l[k] = basic_line(json_object_get(plan, "basicAuth"), dir,
		    err)) == NULL) {
			notify_lines_free(l, k);
			return -1;
		}
		k++;
	}
	*out = l;
	*n = k;
	return 0;
}

static int
read_tls(const json_t *tls, const char *dir, char **pem, char **err)
{
	static const char *const keys[] = { "caCert", "clientCert",
	    "clientKey" };
	size_t i;

	for (i = 0; i < 3; i++) {
		pem[i] = NULL;
		if (json_object_get(tls, keys[i]) && (pem[i] = read_ref(
		    json_object_get(tls, keys[i]), dir, 1, keys[i], err)) ==
		    NULL)
			return -1;
	}
	return 0;
}

/*
 * Argo's policy.status.allow: when the plan carries it, success is
 * exactly a status in the list (a 2xx outside it fails too); otherwise
 * any 2xx.  Returns 1 when the list decides, with *ok set.
 */
static int
status_policy(const json_t *plan, long status, int *ok)
{
	json_t *allow = json_object_get(plan, "statusAllow"), *v;
	size_t i;

	if (!json_is_array(allow) || status <= 0)
		return 0;
	*ok = 0;
	json_array_foreach(allow, i, v)
		if (json_is_integer(v) && json_integer_value(v) == status)
			*ok = 1;
	return 1;
}

/*
 * Tried again: no answer at all, 429 and 5xx.  Another 4xx, or a status
 * policy.status.allow does not list, would fail again.
 */
static int
worth_retrying(long status)
{
	return status == 0 || status == 429 || status >= 500;
}

int
notify_execute_http(void *ctx, const json_t *plan, int dry_run,
    json_t **result, char **err)
{
	const char *dir = ctx;
	const json_t *tls = json_object_get(plan, "tls");
	struct notify_req r;
	char **lines = NULL, *body = NULL, *answer = NULL, *pem[3] = { NULL,
	    NULL, NULL };
	size_t n = 0, i;
	long status = 0;
	struct retry rs;
	int rc = -1, allowed, attempt;
	const char *why = NULL;

	*result = NULL;
	*err = NULL;
	if (str(plan, "type") == NULL || strcmp(str(plan, "type"), "http") !=
	    0 || str(plan, "url") == NULL) {
		*err = xstrdup("not an http plan");
		return -1;
	}
	if (dry_run) {
		*result = json_pack("{s:b, s:s}", "dryRun", 1, "note", "an "
		    "HTTP endpoint has no dry run: nothing was sent");
		return 0;
	}
	/* Argo's http trigger tries once unless a retryStrategy says more */
	retry_default(&rs);
	if (json_object_get(plan, "retryStrategy") == NULL)
		rs.steps = 1;
	else if (retry_from_json(json_object_get(plan, "retryStrategy"), &rs,
	    err) == -1)
		return -1;
	if (lines_of(plan, dir, &lines, &n, err) == -1 || read_tls(tls, dir,
	    pem, err) == -1)
		goto out;
	if (json_object_get(plan, "body"))
		body = json_dumps(json_object_get(plan, "body"),
		    JSON_COMPACT | JSON_ENCODE_ANY);
	memset(&r, 0, sizeof r);
	r.method = str(plan, "method") ? str(plan, "method") : "POST";
	r.url = str(plan, "url");
	r.headers = (const char *const *)lines;
	r.nheaders = n;
	r.body = body;
	r.len = body ? strlen(body) : 0;
	r.timeout_ms = json_is_integer(json_object_get(plan, "timeoutMs")) ?
	    (long)json_integer_value(json_object_get(plan, "timeoutMs")) :
	    DEFAULT_TIMEOUT_S * 1000;
	r.insecure = json_is_true(json_object_get(tls, "insecureSkipVerify"));
	r.ca_pem = pem[0];
	r.cert_pem = pem[1];
	r.key_pem = pem[2];
	for (attempt = 1;; attempt++) {
		if ((why = retry_gate_closed()) != NULL) {
			/* no URL in it: the URL may hold a secret */
			char *e = retry_refusal(why, attempt, *err ? *err :
			    "failed");

			free(*err);
			*err = e;
			rc = -1;
			break;
		}
		free(answer);
		answer = NULL;
		free(*err);
		*err = NULL;
		status = 0;
		rc = notify_http(&r, &status, NULL, &answer, err);
		if (status_policy(plan, status, &allowed)) {
			free(*err);
			*err = allowed ? NULL : xasprintf("%s answered HTTP "
			    "%ld, not in policy.status.allow", r.url, status);
			rc = allowed ? 0 : -1;
		}
		if (rc == 0 || attempt >= rs.steps || !worth_retrying(status))
			break;
		/* a wait the gate ended is refused at the top */
		(void)retry_wait(retry_delay(&rs, attempt + 1,
		    retry_random()), NULL);
	}
	if (rc == 0)
		*result = json_pack("{s:I, s:s%, s:i}", "status",
		    (json_int_t)status, "body", answer ? answer : "", answer ?
		    (strlen(answer) > RESULT_BODY ? RESULT_BODY :
		    strlen(answer)) : 0, "attempts", attempt);
	else if (attempt > 1 && why == NULL) {
		char *e = xasprintf("%s (after %d attempts)", *err ? *err :
		    "failed", attempt);

		free(*err);
		*err = e;
	}
out:
	for (i = 0; i < 3; i++)
		secret_free(pem[i]);
	if (lines)
		notify_lines_free(lines, n);
	free(body);
	free(answer);
	return rc;
}
