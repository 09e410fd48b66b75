/*
 * Webhooks: Argo's payload shape (headers, JSON, query, form), the
 * Alertmanager fixtures decoded per alert (ids, times, subjects, status),
 * malformed alerts, compiling endpoints and secrets, and the ingress on a
 * real server: authentication (bearer, basic, HMAC), 404/405/413/400,
 * redeliveries acknowledged but queued once, 503 + Retry-After with the
 * queue full and all-or-none batches, set swaps, concurrent senders.
 *
 * Fixtures come from tests/data/fixtures (harness_fixture).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <openssl/hmac.h>
#include <time.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "prom/prom.h"
#include "webhook/webhook.h"
#include "webhook/hook_int.h"

static char *
fixture(const char *name)
{
	const char *path = harness_fixture(name);
	char *text, *err = NULL;

	text = util_read_file(path, 1 << 20, NULL, &err);
	if (text == NULL)
		fprintf(stderr, "fixture %s: %s\n", path, err);
	free(err);
	return text;
}

static struct http_request
post(const char *body, const struct http_header *h, size_t nh)
{
	struct http_request r;

	memset(&r, 0, sizeof r);
	r.method = "POST";
	r.path = "/hook";
	r.remote = "127.0.0.1";
	r.headers = h;
	r.nheaders = nh;
	r.body = body;
	r.body_len = strlen(body);
	return r;
}

static const char *
str_at(json_t *root, const char *path)
{
	json_t *cur = root;
	char key[128];
	const char *p = path;

	while (cur && *p) {
		size_t n = strcspn(p, ".");

		if (n >= sizeof key)
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		if (json_is_array(cur))
			cur = json_array_get(cur, (size_t)strtoul(key, NULL,
			    10));
		else
			cur = json_object_get(cur, key);
		p += n + (p[n] == '.');
	}
	return json_string_value(cur);
}

/* ---- decoding ----------------------------------------------------------- */

TEST(canonical_headers)
{
	static const char *const cases[][2] = {
		{ "content-type", "Content-Type" },
		{ "X-HUB-SIGNATURE-256", "X-Hub-Signature-256" },
		{ "authorization", "Authorization" },
		{ "x", "X" },
		{ "-a-", "-A-" },
		{ "has space", "has space" },
		{ "UTF\xc3\xa9", "UTF\xc3\xa9" },
	};
	char out[64];
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		hook_canonical_header(cases[i][0], out, sizeof out);
		CHECK_STR(out, cases[i][1]);
	}
}

/*
 * Credentials in headers never reach templates or records: Authorization
 * (as Argo), Proxy-Authorization, Cookie, X-Api-Key, and the headers a
 * webhook names in secretHeaders; other headers pass.
 */
TEST(secret_headers_masked)
{
	struct http_header h[] = {
		{ "cookie", "session=abc" },
		{ "x-api-key", "k3y" },
		{ "Proxy-Authorization", "Basic eDp5" },
		{ "x-vault-token", "hvs.123" },
		{ "x-trace", "t1" },
	};
	char name[] = "X-Vault-Token", *names[] = { name };
	struct hook_target t = { "es", "hook", NULL, names, 1 };
	struct http_request r = post("{}", h, 5);
	struct event *evs;
	char *err, *dump;
	int am;

	CHECK_INT(hook_decode(&t, &r, 1700000000000LL, &evs, &am, &err), 1);
	dump = json_dumps(json_object_get(evs[0].data, "header"),
	    JSON_SORT_KEYS | JSON_COMPACT);
	CHECK_STR(dump, "{\"Cookie\":[\"*** Masked Auth Secret ***\"],"
	    "\"Proxy-Authorization\":[\"*** Masked Auth Secret ***\"],"
	    "\"X-Api-Key\":[\"*** Masked Auth Secret ***\"],"
	    "\"X-Trace\":[\"t1\"],"
	    "\"X-Vault-Token\":[\"*** Masked Auth Secret ***\"]}");
	free(dump);
	hook_events_free(evs, 1);
}

TEST(plain_json_body)
{
	struct http_header h[] = {
		{ "content-type", "application/json" },
		{ "X-Tag", "a" }, { "x-tag", "b" },
		{ "authorization", "Bearer s3cret" },
	};
	json_t *meta = json_pack("{s:s}", "team", "sre");
	struct hook_target t = { "es", "hook", meta, NULL, 0 };
	struct http_request r = post("{\"pod\":\"p\",\"n\":[1,2]}", h, 4);
	struct event *evs;
	char *err, *dump;
	int am, n;

	n = hook_decode(&t, &r, 1700000000000LL, &evs, &am, &err);
	CHECK_INT(n, 1);
	CHECK_INT(am, 0);
	CHECK_STR(evs[0].source, "es");
	CHECK_STR(evs[0].name, "hook");
	CHECK_STR(evs[0].type, "webhook");
	CHECK_INT(evs[0].time, 1700000000000LL);
	CHECK(evs[0].id != NULL && strlen(evs[0].id) == 32);
	dump = json_dumps(evs[0].data, JSON_SORT_KEYS | JSON_COMPACT);
	CHECK_STR(dump, "{\"body\":{\"n\":[1,2],\"pod\":\"p\"},\"header\":"
	    "{\"Authorization\":[\"*** Masked Auth Secret ***\"],"
	    "\"Content-Type\":[\"application/json\"],\"X-Tag\":[\"a\",\"b\"]},"
	    "\"metadata\":{\"team\":\"sre\"}}");
	free(dump);
	CHECK(evs[0].subject.kind == NULL);
	/* two requests never share an id */
	{
		struct event *e2;

		CHECK_INT(hook_decode(&t, &r, 1700000000000LL, &e2, &am,
		    &err), 1);
		CHECK(strcmp(e2[0].id, evs[0].id) != 0);
		hook_events_free(e2, 1);
	}
	hook_events_free(evs, 1);
	json_decref(meta);
}

TEST(body_forms)
{
	static const struct {
		const char	*method, *ctype, *body, *want;
	} cases[] = {
		{ "POST", NULL, "", "null" },
		{ "POST", NULL, "  \n", "null" },
		{ "PUT", "text/plain", "42", "42" },
		{ "POST", NULL, "\"s\"", "\"s\"" },
		{ "POST", "application/x-www-form-urlencoded",
		    "a=1&b=x+y%21&a=2&flag", "{\"a\":[\"1\",\"2\"],\"b\":"
		    "[\"x y!\"],\"flag\":[\"\"]}" },
		{ "POST", "application/x-www-form-urlencoded; charset=utf-8",
		    "k=%C3%A9", "{\"k\":[\"\xc3\xa9\"]}" },
		{ "POST", "application/x-www-form-urlencodedX", "[1]",
		    "[1]" },
		/* curl -d labels JSON as a form */
		{ "POST", "application/x-www-form-urlencoded",
		    " {\"a\":1}", "{\"a\":1}" },
		{ "POST", "application/x-www-form-urlencoded", "{x=1",
		    "{\"{x\":[\"1\"]}" },
	};
	struct hook_target t = { "es", "hook", NULL, NULL, 0 };
	struct http_header h[1];
	struct http_request r;
	struct event *evs;
	char *err, *dump;
	size_t i;
	int am;

	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		h[0].name = "Content-Type";
		h[0].value = cases[i].ctype;
		r = post(cases[i].body, h, cases[i].ctype ? 1 : 0);
		r.method = cases[i].method;
		CHECK_INT(hook_decode(&t, &r, 0, &evs, &am, &err), 1);
		if (evs == NULL)
			continue;
		dump = json_dumps(json_object_get(evs[0].data, "body"),
		    JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
		CHECK_STR(dump, cases[i].want);
		free(dump);
		hook_events_free(evs, 1);
	}
}

TEST(get_carries_the_query)
{
	struct http_header args[] = { { "pod", "a" }, { "pod", "b" },
	    { "ns", "shop" } };
	struct hook_target t = { "es", "hook", NULL, NULL, 0 };
	struct http_request r = post("", NULL, 0);
	struct event *evs;
	char *err, *dump;
	int am;

	r.method = "GET";
	r.args = args;
	r.nargs = 3;
	CHECK_INT(hook_decode(&t, &r, 0, &evs, &am, &err), 1);
	dump = json_dumps(json_object_get(evs[0].data, "body"),
	    JSON_SORT_KEYS | JSON_COMPACT);
	CHECK_STR(dump, "{\"ns\":[\"shop\"],\"pod\":[\"a\",\"b\"]}");
	free(dump);
	hook_events_free(evs, 1);
}

TEST(malformed_bodies)
{
	static const struct {
		const char	*ctype, *body, *msg;
	} cases[] = {
		{ NULL, "{\"a\":", "the body is not JSON" },
		{ NULL, "{\"a\":1}}", "the body is not JSON" },
		{ NULL, "nul", "the body is not JSON" },
		{ NULL, "\"\xff\"", "the body is not JSON" },
		{ NULL, "\"a\\u0000b\"", "the body is not JSON" },
		{ "application/x-www-form-urlencoded", "a=%zz", "%-escape" },
		{ "application/x-www-form-urlencoded", "a=%4", "%-escape" },
		{ "application/x-www-form-urlencoded", "a=%ff", "not UTF-8" },
		{ NULL, "{\"alerts\":[{}],\"version\":\"4\"}",
		    "alerts[0].labels is not an object" },
		{ NULL, "{\"alerts\":[1],\"groupKey\":\"g\"}",
		    "alerts[0] is not an object" },
		{ NULL, "{\"alerts\":[{\"labels\":{\"a\":1}}],\"version\":"
		    "\"4\"}", "alerts[0].labels.a is not a string" },
		{ NULL, "{\"alerts\":[{\"labels\":{},\"status\":\"pending\"}],"
		    "\"version\":\"4\"}", "alerts[0].status is not firing or "
		    "resolved" },
		{ NULL, "{\"alerts\":[{\"labels\":{},\"status\":\"firing\","
		    "\"startsAt\":\"yesterday\"}],\"version\":\"4\"}",
		    "alerts[0].startsAt is not an RFC 3339 time" },
		{ NULL, "{\"alerts\":[{\"labels\":{},\"status\":\"firing\","
		    "\"startsAt\":\"2026-01-01T00:00:00Z\",\"fingerprint\":7}],"
		    "\"version\":\"4\"}", "fingerprint is not a string" },
	};
	struct hook_target t = { "es", "hook", NULL, NULL, 0 };
	struct http_header h[1];
	struct http_request r;
	struct event *evs;
	char *err;
	size_t i;
	int am;

	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		h[0].name = "Content-Type";
		h[0].value = cases[i].ctype;
		r = post(cases[i].body, h, cases[i].ctype ? 1 : 0);
		err = NULL;
		CHECK_INT(hook_decode(&t, &r, 0, &evs, &am, &err), -1);
		CHECK(evs == NULL);
		if (err == NULL || strstr(err, cases[i].msg) == NULL)
			fprintf(stderr, "case %zu: got \"%s\", want \"%s\"\n",
			    i, err ? err : "(null)", cases[i].msg);
		CHECK(err != NULL && strstr(err, cases[i].msg) != NULL);
		free(err);
	}
}

TEST(alertmanager_fixtures)
{
	char *firing = fixture("alertmanager-webhook-oomkilled.json");
	char *resolved = fixture(
	    "alertmanager-webhook-oomkilled-resolved.json");
	char *slo = fixture("alertmanager-webhook-slo-burn.json");
	struct hook_target t = { "alertmanager", "alerts", NULL, NULL, 0 };
	struct http_header h[] = { { "Content-Type", "application/json" },
	    { "User-Agent", "Alertmanager/0.25.0" } };
	struct http_request r;
	struct event *a, *b, *c, *d;
	char *err;
	int am;
	int64_t t0;

	CHECK(firing && resolved && slo);
	if (!firing || !resolved || !slo)
		goto out;
	r = post(firing, h, 2);
	CHECK_INT(hook_decode(&t, &r, 0, &a, &am, &err), 1);
	CHECK_INT(am, 1);
	CHECK_STR(str_at(a[0].data, "body.labels.alertname"),
	    "KubePodOOMKilled");
	CHECK_STR(str_at(a[0].data, "body.status"), "firing");
	CHECK_STR(str_at(a[0].data, "body.fingerprint"), "a3f1c9e07b2d4e86");
	CHECK_STR(str_at(a[0].data, "body.group.receiver"),
	    "remediation-engine");
	CHECK_STR(str_at(a[0].data, "body.group.groupLabels.namespace"),
	    "shop");
	CHECK_STR(str_at(a[0].data, "body.group.version"), "4");
	CHECK(json_object_get(json_object_get(json_object_get(a[0].data,
	    "body"), "group"), "alerts") == NULL);
	CHECK_STR(str_at(a[0].data, "header.User-Agent.0"),
	    "Alertmanager/0.25.0");
	CHECK_STR(a[0].subject.kind, "Pod");
	CHECK_STR(a[0].subject.namespace, "shop");
	CHECK_STR(a[0].subject.name, "checkout-6d5f8b7c9d-x7k2p");
	time_parse("2026-03-14T09:21:45.123Z", &t0);
	CHECK_INT(a[0].time, t0);
	/* a redelivery decodes to the same id */
	CHECK_INT(hook_decode(&t, &r, 99, &b, &am, &err), 1);
	CHECK_STR(b[0].id, a[0].id);
	/* resolved: another id, its own time (endsAt), status resolved */
	r = post(resolved, h, 2);
	CHECK_INT(hook_decode(&t, &r, 0, &c, &am, &err), 1);
	CHECK(strcmp(c[0].id, a[0].id) != 0);
	CHECK_STR(str_at(c[0].data, "body.status"), "resolved");
	time_parse("2026-03-14T09:36:45.123Z", &t0);
	CHECK_INT(c[0].time, t0);
	/* each names the other: the id forgotten once it is stored */
	{
		char *ended = hook_alert_id_other(c[0].id);
		char *over = hook_alert_id_other(a[0].id);

		CHECK(ended != NULL && strcmp(ended, a[0].id) == 0);
		CHECK(over != NULL && strcmp(over, c[0].id) == 0);
		free(ended);
		free(over);
	}
	/* an SLO alert names a namespace, no workload: no subject */
	r = post(slo, h, 2);
	CHECK_INT(hook_decode(&t, &r, 0, &d, &am, &err), 1);
	CHECK(d[0].subject.kind == NULL);
	CHECK_STR(str_at(d[0].data, "body.labels.sloth_service"), "checkout");
	hook_events_free(a, 1);
	hook_events_free(b, 1);
	hook_events_free(c, 1);
	hook_events_free(d, 1);
out:
	free(firing);
	free(resolved);
	free(slo);
}

TEST(alert_without_fingerprint_and_other_workloads)
{
	static const char body[] = "{\"version\":\"4\",\"groupKey\":\"g\","
	    "\"status\":\"firing\",\"alerts\":["
	    "{\"status\":\"firing\",\"labels\":{\"namespace\":\"shop\","
	    "\"deployment\":\"cart\",\"alertname\":\"X\"},"
	    "\"startsAt\":\"2026-01-01T00:00:00.123456789Z\"},"
	    "{\"status\":\"firing\",\"labels\":{\"alertname\":\"X\","
	    "\"deployment\":\"cart\",\"namespace\":\"shop\"},"
	    "\"startsAt\":\"2026-01-01T00:00:00.123456789Z\"},"
	    "{\"status\":\"firing\",\"labels\":{\"node\":\"n1\"},"
	    "\"startsAt\":\"2026-01-01T00:00:00Z\"},"
	    "{\"status\":\"resolved\",\"labels\":{\"pod\":\"p\"},"
	    "\"startsAt\":\"2026-01-01T00:00:00Z\","
	    "\"endsAt\":\"0001-01-01T00:00:00Z\"}]}";
	struct hook_target t = { "es", "am", NULL, NULL, 0 };
	struct http_request r = post(body, NULL, 0);
	struct event *evs;
	char *err;
	int am;

	CHECK_INT(hook_decode(&t, &r, 0, &evs, &am, &err), 4);
	/* equal label sets in any order: the same fingerprint and id */
	CHECK_STR(str_at(evs[0].data, "body.fingerprint"),
	    str_at(evs[1].data, "body.fingerprint"));
	CHECK_STR(evs[0].id, evs[1].id);
	CHECK_STR(evs[0].subject.kind, "Deployment");
	CHECK_STR(evs[0].subject.name, "cart");
	CHECK_INT(evs[0].time, 1767225600123LL);
	CHECK_STR(evs[2].subject.kind, "Node");
	CHECK(evs[2].subject.namespace == NULL);
	/* a pod without a namespace names nothing; endsAt unusable */
	CHECK(evs[3].subject.kind == NULL);
	CHECK_INT(evs[3].time, 1767225600000LL);
	hook_events_free(evs, 4);
	/* empty alerts: recognized, no events */
	r = post("{\"version\":\"4\",\"alerts\":[]}", NULL, 0);
	CHECK_INT(hook_decode(&t, &r, 0, &evs, &am, &err), 0);
	CHECK_INT(am, 1);
	free(evs);
	/* "alerts" without version or groupKey: a plain payload */
	r = post("{\"alerts\":[1]}", NULL, 0);
	CHECK_INT(hook_decode(&t, &r, 0, &evs, &am, &err), 1);
	CHECK_INT(am, 0);
	hook_events_free(evs, 1);
}

/* ---- compiling ----------------------------------------------------------- */

static char tmpdir[] = "/tmp/remediate-hookXXXXXX";

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

static struct hook_set *
compile(const char *yaml, int read_secrets, struct diags *d,
    struct mdoc ***docsp, size_t *ndocsp)
{
	struct hook_set_opts o = { tmpdir, read_secrets, NULL };
	struct hook_set *set = hook_set_new();
	size_t i;

	*ndocsp = 0;
	*docsp = NULL;
	diag_init(d);
	if (conf_parse_text("t.yaml", yaml, strlen(yaml), docsp, ndocsp,
	    d) == -1)
		return set;
	for (i = 0; i < *ndocsp; i++)
		hook_set_add(set, (*docsp)[i], &o, d);
	return set;
}

static void
free_docs(struct mdoc **docs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		mdoc_free(docs[i]);
	free(docs);
}

static const char manifest[] =
    "apiVersion: argoproj.io/v1alpha1\n"
    "kind: EventSource\n"
    "metadata: {name: alertmanager}\n"
    "spec:\n"
    "  webhook:\n"
    "    alerts:\n"
    "      endpoint: /alerts\n"
    "      method: POST\n"
    "      port: \"12000\"\n"
    "      authSecret: {name: webhook, key: token}\n"
    "    signed:\n"
    "      endpoint: /signed\n"
    "      method: POST\n"
    "      hmac: {secret: {env: TEST_HOOK_HMAC}}\n"
    "      maxPayloadSize: 64\n"
    "      metadata: {team: sre}\n"
    "    basic:\n"
    "      endpoint: /basic\n"
    "      method: PUT\n"
    "      basicAuth:\n"
    "        username: {file: /TMP/user}\n"
    "        password: {file: /TMP/pass}\n"
    "    open:\n"
    "      endpoint: /open\n"
    "      method: POST\n"
    "    query:\n"
    "      endpoint: /open\n"
    "      method: GET\n";

/* manifest with /TMP replaced by the test's directory */
static char *
manifest_here(const char *text)
{
	struct buf b;
	const char *p = text, *m;

	buf_init(&b, 0);
	while ((m = strstr(p, "/TMP/")) != NULL) {
		buf_add(&b, p, (size_t)(m - p));
		buf_printf(&b, "%s/", tmpdir);
		p = m + 5;
	}
	buf_adds(&b, p);
	return buf_steal(&b);
}

TEST(compile_endpoints_and_secrets)
{
	struct diags d;
	struct mdoc **docs;
	size_t n;
	char *yaml = manifest_here(manifest), *line;
	struct hook_set *set;
	const struct hook_endpoint *e;
	int known;

	/* check mode: forms only, nothing read */
	set = compile(yaml, 0, &d, &docs, &n);
	CHECK_INT(d.errors, 0);
	CHECK_INT(hook_set_count(set), 5);
	e = hook_set_find(set, "POST", "/alerts", &known);
	CHECK(e != NULL);
	if (e != NULL) {
		CHECK_STR(e->source, "alertmanager");
		CHECK(strstr(e->token.path, "/webhook/token") != NULL);
		CHECK_INT(e->max_body, 1 << 20);
	}
	e = hook_set_find(set, "POST", "/signed", &known);
	CHECK(e != NULL && e->max_body == 64 && e->metadata != NULL);
	CHECK(e != NULL && strcmp(e->hmac_header, HOOK_SIG_HEADER) == 0);
	CHECK(hook_set_find(set, "DELETE", "/open", &known) == NULL &&
	    known);
	CHECK(hook_set_find(set, "HEAD", "/open", &known) != NULL);
	CHECK(hook_set_find(set, "POST", "/nope", &known) == NULL && !known);
	line = hook_set_describe(set, 0);
	CHECK_STR(line, "POST /alerts -> alertmanager/alerts, bearer token, "
	    "body <= 1048576 bytes");
	free(line);
	hook_set_free(set);
	free_docs(docs, n);
	diag_free(&d);
	/* run mode: every secret must be readable */
	unsetenv("TEST_HOOK_HMAC");
	set = compile(yaml, 1, &d, &docs, &n);
	CHECK_INT(d.errors, 4);		/* token, env, user, pass */
	CHECK(d.n > 0 && strstr(d.v[0].msg, "cannot be read") != NULL);
	CHECK(d.n > 0 && d.v[0].hint != NULL &&
	    strstr(d.v[0].hint, "mount Secret webhook") != NULL);
	CHECK_INT(hook_set_count(set), 2);
	hook_set_free(set);
	free_docs(docs, n);
	diag_free(&d);
	free(yaml);
}

TEST(compile_errors)
{
	static const struct {
		const char	*yaml, *msg;
	} cases[] = {
		{ "apiVersion: argoproj.io/v1alpha1\nkind: EventSource\n"
		  "metadata: {name: a}\nspec:\n  webhook:\n"
		  "    x: {endpoint: /a, method: POST}\n"
		  "    y: {endpoint: /a, method: POST}\n",
		  "POST /a is already the endpoint of a/x" },
		{ "apiVersion: argoproj.io/v1alpha1\nkind: EventSource\n"
		  "metadata: {name: a}\nspec:\n  webhook:\n"
		  "    x: {endpoint: /a, method: POST, authSecret: "
		  "{name: ../etc, key: passwd}}\n",
		  "is not a Kubernetes Secret name and key" },
		{ "apiVersion: argoproj.io/v1alpha1\nkind: EventSource\n"
		  "metadata: {name: a}\nspec:\n  webhook:\n"
		  "    x: {endpoint: /a, method: POST, authSecret: "
		  "{name: s, key: ..}}\n",
		  "is not a Kubernetes Secret name and key" },
		{ "apiVersion: argoproj.io/v1alpha1\nkind: EventSource\n"
		  "metadata: {name: a}\nspec:\n  webhook:\n"
		  "    x: {endpoint: /a, method: POST, authSecret: "
		  "{name: s, key: k}, basicAuth: {username: {env: U}, "
		  "password: {env: P}}}\n",
		  "authSecret and basicAuth both" },
		{ "apiVersion: argoproj.io/v1alpha1\nkind: EventSource\n"
		  "metadata: {name: a}\nspec:\n  webhook:\n"
		  "    x: {endpoint: /a, method: POST, maxPayloadSize: "
		  "999999999999}\n",
		  "maxPayloadSize must be" },
		/* a GET's event is its query, which the body's HMAC does
		   not sign: HMAC("") would authenticate any query */
		{ "apiVersion: argoproj.io/v1alpha1\nkind: EventSource\n"
		  "metadata: {name: a}\nspec:\n  webhook:\n"
		  "    x: {endpoint: /a, method: GET, hmac: {secret: "
		  "{name: s, key: k}}}\n",
		  "hmac signs the body, and a GET's event is its query" },
	};
	struct diags d;
	struct mdoc **docs;
	size_t n, i;
	struct hook_set *set;

	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		set = compile(cases[i].yaml, 0, &d, &docs, &n);
		CHECK(d.errors >= 1);
		CHECK(d.n >= 1 && strstr(d.v[0].msg, cases[i].msg) != NULL);
		if (d.n >= 1 && strstr(d.v[0].msg, cases[i].msg) == NULL)
			fprintf(stderr, "case %zu: %s\n", i, d.v[0].msg);
		hook_set_free(set);
		free_docs(docs, n);
		diag_free(&d);
	}
}

/* ---- the ingress on a live server ---------------------------------------- */

struct queue {
	pthread_mutex_t	 lock;
	struct event	 v[64];
	size_t		 n, room;	/* room: how many more it accepts */
	size_t		 pushes;
	char		 replay[256];	/* the last push's replay mark */
	/* hold: the next push waits until hold is cleared, then fails
	   when fail_held (a commit that takes its time, then fails) */
	pthread_cond_t	 cv;
	int		 hold, held, fail_held;
};

static int
push(void *ctx, struct event *evs, size_t n, const char *replay)
{
	struct queue *q = ctx;
	size_t i;

	pthread_mutex_lock(&q->lock);
	q->pushes++;
	snprintf(q->replay, sizeof q->replay, "%s", replay ? replay : "");
	if (q->hold && !q->held) {
		q->held = 1;
		pthread_cond_broadcast(&q->cv);
		while (q->hold)
			pthread_cond_wait(&q->cv, &q->lock);
		if (q->fail_held) {
			q->fail_held = 0;
			pthread_mutex_unlock(&q->lock);
			return -1;
		}
	}
	if (n > q->room || q->n + n > UTIL_ARRAY_LEN(q->v)) {
		pthread_mutex_unlock(&q->lock);
		return -1;
	}
	for (i = 0; i < n; i++)
		q->v[q->n++] = evs[i];
	q->room -= n;
	pthread_mutex_unlock(&q->lock);
	return 0;
}

static void
queue_clear(struct queue *q)
{
	size_t i;

	for (i = 0; i < q->n; i++)
		event_clear(&q->v[i]);
	q->n = 0;
}

static int
dial(unsigned port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One request; returns the status and the response in out. */
static int
call(unsigned port, const char *method, const char *path,
    const char *headers, const char *body, char *out, size_t outlen)
{
	struct buf b;
	int fd, status = -1;
	size_t n = 0, off = 0;
	struct pollfd p;

	buf_init(&b, 0);
	buf_printf(&b, "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	    "%sContent-Length: %zu\r\n\r\n%s", method, path,
	    headers ? headers : "", body ? strlen(body) : 0,
	    body ? body : "");
	if ((fd = dial(port)) < 0) {
		buf_free(&b);
		return -1;
	}
	while (off < b.len) {
		ssize_t k = send(fd, b.data + off, b.len - off, MSG_NOSIGNAL);

		if (k <= 0)
			break;
		off += (size_t)k;
	}
	p.fd = fd;
	p.events = POLLIN;
	while (n + 1 < outlen && poll(&p, 1, 5000) == 1) {
		ssize_t k = recv(fd, out + n, outlen - 1 - n, 0);

		if (k <= 0)
			break;
		n += (size_t)k;
	}
	out[n] = '\0';
	close(fd);
	buf_free(&b);
	if (strncmp(out, "HTTP/1.1 ", 9) == 0)
		status = (int)strtol(out + 9, NULL, 10);
	return status;
}

static void
sign(const char *key, const char *body, char *hex)
{
	unsigned char mac[32];
	unsigned int len = 0;
	size_t i;

	HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)body,
	    strlen(body), mac, &len);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
}

struct rig {
	struct queue		 q;
	struct http_server	*srv;
	struct hook_ingress	*ing;
	unsigned		 port;
	struct mdoc		**docs;
	size_t			 ndocs;
};

static size_t rig_dedup_max;	/* the next rig's; 0: the default */

static int
rig_up(struct rig *g, size_t capacity)
{
	/* 4 threads: a push held by a test and a duplicate waiting for it
	   each hold one (handlers run on the server's threads) */
	struct http_opts ho = { .listen = { "127.0.0.1:0" }, .nlisten = 1,
	    .threads = 4 };
	struct hook_sink sink = { push, &g->q, capacity, NULL };
	struct hook_ingress_opts io = { .retry_after = 3,
	    .dedup_max = rig_dedup_max };
	struct diags d;
	char *err = NULL, *yaml = manifest_here(manifest), path[512];
	struct hook_set *set;

	memset(g, 0, sizeof *g);
	pthread_mutex_init(&g->q.lock, NULL);
	pthread_cond_init(&g->q.cv, NULL);
	g->q.room = 1000;
	snprintf(path, sizeof path, "%s/webhook", tmpdir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/webhook/token", tmpdir);
	write_file(path, "t0ken\n");
	snprintf(path, sizeof path, "%s/user", tmpdir);
	write_file(path, "ann");
	snprintf(path, sizeof path, "%s/pass", tmpdir);
	write_file(path, "pw:with:colons");
	setenv("TEST_HOOK_HMAC", "k3y", 1);
	g->srv = http_server_new(&ho, &err);
	g->ing = hook_ingress_new(&sink, &io);
	hook_ingress_attach(g->ing, g->srv);
	set = compile(yaml, 1, &d, &g->docs, &g->ndocs);
	free(yaml);
	CHECK_INT(d.errors, 0);
	diag_free(&d);
	hook_ingress_set(g->ing, set);
	if (http_server_start(g->srv, &err) == -1) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return -1;
	}
	g->port = http_server_port(g->srv, 0);
	return 0;
}

static void
rig_down(struct rig *g)
{
	http_server_free(g->srv);
	hook_ingress_free(g->ing);
	queue_clear(&g->q);
	free_docs(g->docs, g->ndocs);
	pthread_mutex_destroy(&g->q.lock);
}

#define AUTH	"Authorization: Bearer t0ken\r\n"

TEST(ingress_auth)
{
	struct rig g;
	char out[4096], hex[65], hdr[256];
	const char *body = "{\"x\":1}";

	if (rig_up(&g, 0) == -1)
		return;
	CHECK_INT(call(g.port, "POST", "/alerts", NULL, "{}", out,
	    sizeof out), 401);
	CHECK(strstr(out, "WWW-Authenticate: Bearer\r\n") != NULL);
	CHECK(strstr(out, "an Authorization: Bearer token is required"));
	CHECK_INT(call(g.port, "POST", "/alerts", "Authorization: Bearer "
	    "t0ke\r\n", "{}", out, sizeof out), 401);
	CHECK(strstr(out, "does not match"));
	CHECK_INT(call(g.port, "POST", "/alerts", "Authorization: Basic "
	    "t0ken\r\n", "{}", out, sizeof out), 401);
	CHECK_INT(call(g.port, "POST", "/alerts", AUTH, "{}", out,
	    sizeof out), 200);
	CHECK(strstr(out, "{\"queued\":1,\"duplicates\":0}"));
	CHECK_INT(call(g.port, "POST", "/alerts", "authorization: bearer "
	    "t0ken\r\n", "{}", out, sizeof out), 200);
	/* a rotated secret takes effect at once */
	snprintf(hdr, sizeof hdr, "%s/webhook/token", tmpdir);
	write_file(hdr, "n3w");
	CHECK_INT(call(g.port, "POST", "/alerts", AUTH, "{}", out,
	    sizeof out), 401);
	CHECK_INT(call(g.port, "POST", "/alerts", "Authorization: Bearer "
	    "n3w\r\n", "{}", out, sizeof out), 200);
	/* an unreadable secret fails closed */
	unlink(hdr);
	CHECK_INT(call(g.port, "POST", "/alerts", "Authorization: Bearer "
	    "n3w\r\n", "{}", out, sizeof out), 500);
	/* basic: "ann:pw:with:colons" */
	CHECK_INT(call(g.port, "PUT", "/basic", NULL, "{}", out, sizeof out),
	    401);
	CHECK(strstr(out, "WWW-Authenticate: Basic realm=\"remediate\""));
	CHECK_INT(call(g.port, "PUT", "/basic", "Authorization: Basic "
	    "YW5uOnB3OndpdGg6Y29sb25z\r\n", "{}", out, sizeof out), 200);
	CHECK_INT(call(g.port, "PUT", "/basic", "Authorization: Basic "
	    "YW5uOnB3OndpdGg6Y29sb25\r\n", "{}", out, sizeof out), 401);
	CHECK_INT(call(g.port, "PUT", "/basic", "Authorization: Basic "
	    "YW5uOnB3\r\n", "{}", out, sizeof out), 401);
	CHECK_INT(call(g.port, "PUT", "/basic", "Authorization: Basic "
	    "!!!!\r\n", "{}", out, sizeof out), 401);
	/* HMAC */
	CHECK_INT(call(g.port, "POST", "/signed", NULL, body, out,
	    sizeof out), 401);
	sign("k3y", body, hex);
	snprintf(hdr, sizeof hdr, "X-Hub-Signature-256: sha256=%s\r\n", hex);
	CHECK_INT(call(g.port, "POST", "/signed", hdr, body, out,
	    sizeof out), 200);
	snprintf(hdr, sizeof hdr, "x-hub-signature-256: %s\r\n", hex);
	CHECK_INT(call(g.port, "POST", "/signed", hdr, body, out,
	    sizeof out), 200);
	CHECK_INT(call(g.port, "POST", "/signed", hdr, "{\"x\":2}", out,
	    sizeof out), 403);
	CHECK(strstr(out, "the signature does not match the body"));
	CHECK_INT(call(g.port, "POST", "/signed", "X-Hub-Signature-256: "
	    "sha256=zz\r\n", body, out, sizeof out), 403);
	CHECK_INT(g.q.n, 6);
	rig_down(&g);
}

/* A timestamped signature: HMAC of "TS.BODY", TS now in Unix seconds. */
static void
sign_at(const char *key, long long ts, const char *body, char *hex,
    char *hdr, size_t hdrlen)
{
	char *signed_text = xasprintf("%lld.%s", ts, body);

	sign(key, signed_text, hex);
	snprintf(hdr, hdrlen, "X-Hub-Signature-256: sha256=%s\r\n"
	    "X-Webhook-Timestamp: %lld\r\n", hex, ts);
	free(signed_text);
}

TEST(signed_timestamps_and_replay_marks)
{
	struct rig g;
	char out[4096], hex[65], hdr[256], want[128];
	const char *body = "{\"x\":1}";
	long long now = (long long)time(NULL);

	if (rig_up(&g, 0) == -1)
		return;
	/* a fresh signed timestamp: accepted, marked for replays */
	sign_at("k3y", now, body, hex, hdr, sizeof hdr);
	CHECK_INT(call(g.port, "POST", "/signed", hdr, body, out,
	    sizeof out), 200);
	snprintf(want, sizeof want, "alertmanager/signed/%s", hex);
	CHECK_STR(g.q.replay, want);
	/* captured and sent again ten minutes later: refused */
	sign_at("k3y", now - 600, body, hex, hdr, sizeof hdr);
	CHECK_INT(call(g.port, "POST", "/signed", hdr, body, out,
	    sizeof out), 401);
	CHECK(strstr(out, "too old or in the future"));
	/* the timestamp is signed: moving it breaks the signature */
	sign_at("k3y", now, body, hex, hdr, sizeof hdr);
	snprintf(strstr(hdr, "Timestamp: ") + 11, 24, "%lld\r\n", now + 1);
	CHECK_INT(call(g.port, "POST", "/signed", hdr, body, out,
	    sizeof out), 403);
	CHECK_INT(call(g.port, "POST", "/signed", "X-Hub-Signature-256: "
	    "00\r\nX-Webhook-Timestamp: soon\r\n", body, out,
	    sizeof out), 403);
	CHECK_INT(g.q.n, 1);
	rig_down(&g);
}

TEST(ingress_errors)
{
	struct rig g;
	struct hook_stats st;
	char out[4096], big[200];

	if (rig_up(&g, 0) == -1)
		return;
	CHECK_INT(call(g.port, "POST", "/missing", NULL, "{}", out,
	    sizeof out), 404);
	CHECK(strstr(out, "{\"error\":\"no webhook at /missing\"}"));
	CHECK_INT(call(g.port, "DELETE", "/open", NULL, NULL, out,
	    sizeof out), 405);
	CHECK(strstr(out, "Allow: POST, GET\r\n"));
	CHECK_INT(call(g.port, "POST", "/open", NULL, "{\"a\":", out,
	    sizeof out), 400);
	CHECK(strstr(out, "Content-Type: application/json"));
	CHECK(strstr(out, "{\"error\":\"the body is not JSON: "));
	memset(big, 'a', sizeof big - 1);
	big[0] = '"';
	big[sizeof big - 2] = '"';
	big[sizeof big - 1] = '\0';
	CHECK_INT(call(g.port, "POST", "/signed", NULL, big, out,
	    sizeof out), 413);
	CHECK_INT(call(g.port, "GET", "/open?a=1&a=2", NULL, NULL, out,
	    sizeof out), 200);
	CHECK_INT(g.q.n, 1);
	CHECK_STR(str_at(g.q.v[0].data, "body.a.1"), "2");
	hook_ingress_stats(g.ing, &st);
	CHECK_INT(st.not_found, 2);
	CHECK_INT(st.malformed, 1);
	CHECK_INT(st.events, 1);
	rig_down(&g);
}

TEST(ingress_dedup_and_full_queue)
{
	char *firing = fixture("alertmanager-webhook-oomkilled.json");
	char *resolved = fixture(
	    "alertmanager-webhook-oomkilled-resolved.json");
	const char *again[] = { firing, resolved };
	struct rig g;
	struct hook_stats st;
	char out[4096];
	size_t i;

	if (firing == NULL || resolved == NULL || rig_up(&g, 0) == -1) {
		CHECK(!"rig");
		free(firing);
		free(resolved);
		return;
	}
	CHECK_INT(call(g.port, "POST", "/alerts", AUTH, firing, out,
	    sizeof out), 200);
	CHECK(strstr(out, "{\"queued\":1,\"duplicates\":0}"));
	CHECK_INT(call(g.port, "POST", "/alerts", AUTH, firing, out,
	    sizeof out), 200);
	CHECK(strstr(out, "{\"queued\":0,\"duplicates\":1}"));
	/* full: 503 + Retry-After, and the alert is not remembered */
	g.q.room = 0;
	CHECK_INT(call(g.port, "POST", "/alerts", AUTH, resolved, out,
	    sizeof out), 503);
	CHECK(strstr(out, "Retry-After: 3\r\n"));
	CHECK(strstr(out, "the event queue is full"));
	g.q.room = 10;
	CHECK_INT(call(g.port, "POST", "/alerts", AUTH, resolved, out,
	    sizeof out), 200);
	CHECK(strstr(out, "{\"queued\":1,\"duplicates\":0}"));
	CHECK_INT(g.q.n, 2);
	CHECK_STR(str_at(g.q.v[1].data, "body.status"), "resolved");
	/*
	 * Firing again after its resolution, with its original startsAt
	 * (Prometheus restores it so after an outage): news, not the first
	 * delivery again; and so is that firing resolving again (the first
	 * resolution is forgotten once the alert fires again, or a sensor
	 * on resolutions would never hear the alert ended).  The
	 * redelivery of each is one.
	 */
	for (i = 0; i < UTIL_ARRAY_LEN(again); i++) {
		CHECK_INT(call(g.port, "POST", "/alerts", AUTH, again[i], out,
		    sizeof out), 200);
		CHECK(strstr(out, "{\"queued\":1,\"duplicates\":0}"));
		CHECK_INT(call(g.port, "POST", "/alerts", AUTH, again[i], out,
		    sizeof out), 200);
		CHECK(strstr(out, "{\"queued\":0,\"duplicates\":1}"));
		CHECK_INT(g.q.n, 3 + i);
	}
	CHECK_INT(g.q.n, 4);
	hook_ingress_stats(g.ing, &st);
	CHECK_INT(st.duplicates, 3);
	CHECK_INT(st.full, 1);
	CHECK_INT(st.events, 4);
	rig_down(&g);
	free(firing);
	free(resolved);
}

static char	*payload(int, int);

struct delivery {
	unsigned	 port;
	const char	*body;
	int		 status;
	char		 out[4096];
	pthread_t	 t;
};

static void *
deliver(void *arg)
{
	struct delivery *d = arg;

	d->status = call(d->port, "POST", "/alerts", AUTH, d->body, d->out,
	    sizeof d->out);
	return NULL;
}

/*
 * Two deliveries of one alert at once (an Alertmanager HA pair): the
 * second waits for the first one's push to have its outcome, so it is
 * never acknowledged as a duplicate of a delivery that then fails, and
 * the alert is never queued twice.  Other requests are not held up by a
 * push in flight (the push is not under the dedup lock).
 */
TEST(ingress_concurrent_duplicates)
{
	char *firing = fixture("alertmanager-webhook-oomkilled.json");
	char *other = payload(500, 1), *later = payload(600, 1), out[4096];
	struct delivery a, b;
	struct rig g;
	int fail;

	if (firing == NULL || rig_up(&g, 0) == -1) {
		CHECK(!"rig");
		free(firing);
		free(other);
		free(later);
		return;
	}
	for (fail = 1; fail >= 0; fail--) {
		memset(&a, 0, sizeof a);
		memset(&b, 0, sizeof b);
		a.port = b.port = g.port;
		a.body = b.body = fail ? firing : later;
		pthread_mutex_lock(&g.q.lock);
		g.q.hold = 1;
		g.q.held = 0;
		g.q.fail_held = fail;
		g.q.pushes = 0;
		pthread_mutex_unlock(&g.q.lock);
		pthread_create(&a.t, NULL, deliver, &a);
		pthread_mutex_lock(&g.q.lock);
		while (!g.q.held)		/* a's push has started */
			pthread_cond_wait(&g.q.cv, &g.q.lock);
		pthread_mutex_unlock(&g.q.lock);
		pthread_create(&b.t, NULL, deliver, &b);
		/* meanwhile another alert is served: a push in flight does
		   not hold the others up (it would wait for a forever) */
		if (fail) {
			CHECK_INT(call(g.port, "POST", "/alerts", AUTH, other,
			    out, sizeof out), 200);
			CHECK(strstr(out, "{\"queued\":1,\"duplicates\":0}"));
		}
		pthread_mutex_lock(&g.q.lock);
		g.q.hold = 0;		/* a's push goes on */
		pthread_cond_broadcast(&g.q.cv);
		pthread_mutex_unlock(&g.q.lock);
		pthread_join(a.t, NULL);
		pthread_join(b.t, NULL);
		if (fail) {
			/* a failed: b is the one stored, not a duplicate */
			CHECK_INT(a.status, 503);
			CHECK_INT(b.status, 200);
			CHECK(strstr(b.out, "{\"queued\":1,\"duplicates\":0}"));
		} else {
			CHECK_INT(a.status, 200);
			CHECK_INT(b.status, 200);
			CHECK(strstr(a.out, "\"duplicates\":0}") ||
			    strstr(b.out, "\"duplicates\":0}"));
			CHECK(strstr(a.out, "\"duplicates\":1}") ||
			    strstr(b.out, "\"duplicates\":1}"));
		}
	}
	/* each alert once: b's, the other one, and later's */
	CHECK_INT(g.q.n, 3);
	rig_down(&g);
	free(firing);
	free(other);
	free(later);
}

static char *
payload(int first, int count)
{
	struct buf b;
	int i;

	buf_init(&b, 0);
	buf_adds(&b, "{\"version\":\"4\",\"groupKey\":\"g\",\"status\":"
	    "\"firing\",\"receiver\":\"r\",\"alerts\":[");
	for (i = 0; i < count; i++)
		buf_printf(&b, "%s{\"status\":\"firing\",\"labels\":"
		    "{\"alertname\":\"A\",\"i\":\"%d\"},\"startsAt\":"
		    "\"2026-01-01T00:00:00Z\",\"fingerprint\":\"f%d\"}",
		    i ? "," : "", first + i, first + i);
	buf_adds(&b, "]}");
	return buf_steal(&b);
}

TEST(ingress_batches_all_or_none)
{
	struct rig g;
	char out[4096], *three = payload(0, 3), *again = payload(1, 3);

	if (rig_up(&g, 4) == -1)
		return;
	g.q.room = 2;
	CHECK_INT(call(g.port, "POST", "/alerts", AUTH, three, out,
	    sizeof out), 503);
	CHECK_INT(g.q.n, 0);
	g.q.room = 3;
	CHECK_INT(call(g.port, "POST", "/alerts", AUTH, three, out,
	    sizeof out), 200);
	CHECK(strstr(out, "{\"queued\":3,\"duplicates\":0}"));
	/* overlapping batch: two known, one new */
	g.q.room = 1;
	CHECK_INT(call(g.port, "POST", "/alerts", AUTH, again, out,
	    sizeof out), 200);
	CHECK(strstr(out, "{\"queued\":1,\"duplicates\":2}"));
	CHECK_INT(g.q.n, 4);
	free(three);
	/* more than the queue can ever hold: 413, not an endless 503 */
	three = payload(100, 5);
	g.q.room = 100;
	CHECK_INT(call(g.port, "POST", "/alerts", AUTH, three, out,
	    sizeof out), 413);
	CHECK(strstr(out, "the queue holds at most 4"));
	/* and none of them was remembered */
	free(three);
	three = payload(100, 4);
	CHECK_INT(call(g.port, "POST", "/alerts", AUTH, three, out,
	    sizeof out), 200);
	CHECK(strstr(out, "{\"queued\":4,\"duplicates\":0}"));
	free(three);
	free(again);
	rig_down(&g);
}

/* The authenticated POST of an Alertmanager body; returns the status. */
static int
post_alerts(struct rig *g, const char *body, char *out, size_t outlen)
{
	return call(g->port, "POST", "/alerts", AUTH, body, out, outlen);
}

/*
 * A request that is refused (413: more than the queue ever holds; 503)
 * must not push the alerts already remembered out of the bounded set:
 * they were, and their next redelivery was decided again.
 */
TEST(ingress_refused_batch_keeps_the_remembered_alerts)
{
	struct rig g;
	char out[4096], *four = payload(0, 4), *many = payload(100, 10);
	char *other = payload(200, 4);

	rig_dedup_max = 8;
	if (rig_up(&g, 4) == -1) {
		rig_dedup_max = 0;
		return;
	}
	rig_dedup_max = 0;
	CHECK_INT(post_alerts(&g, four, out, sizeof out), 200);
	CHECK(strstr(out, "{\"queued\":4,\"duplicates\":0}"));
	CHECK_INT(post_alerts(&g, many, out, sizeof out), 413);
	g.q.room = 0;		/* and one that cannot be stored now */
	CHECK_INT(post_alerts(&g, other, out, sizeof out), 503);
	CHECK_INT(post_alerts(&g, other, out, sizeof out), 503);
	g.q.room = 100;
	CHECK_INT(post_alerts(&g, four, out, sizeof out), 200);
	CHECK(strstr(out, "{\"queued\":0,\"duplicates\":4}"));
	CHECK_INT(g.q.n, 4);
	free(four);
	free(many);
	free(other);
	rig_down(&g);
}

TEST(ingress_set_swap)
{
	static const char other[] =
	    "apiVersion: argoproj.io/v1alpha1\nkind: EventSource\n"
	    "metadata: {name: es2}\nspec:\n  webhook:\n"
	    "    fresh: {endpoint: /fresh, method: POST}\n";
	struct rig g;
	struct diags d;
	struct mdoc **docs;
	size_t n;
	char out[2048];

	if (rig_up(&g, 0) == -1)
		return;
	hook_ingress_set(g.ing, compile(other, 1, &d, &docs, &n));
	diag_free(&d);
	CHECK_INT(call(g.port, "POST", "/open", NULL, "{}", out, sizeof out),
	    404);
	CHECK_INT(call(g.port, "POST", "/fresh", NULL, "{}", out,
	    sizeof out), 200);
	CHECK_INT(g.q.n, 1);
	CHECK_STR(g.q.v[0].source, "es2");
	CHECK_STR(g.q.v[0].name, "fresh");
	/* names outlive the set that held them */
	hook_ingress_set(g.ing, NULL);
	CHECK_STR(g.q.v[0].name, "fresh");
	free_docs(docs, n);
	rig_down(&g);
}

/*
 * A restarted daemon (or a standby taking over) seeds its ingress from
 * the state (src/daemon/seed.c): the ids its decision records keep as
 * signal.id, oldest first.  Each case stands for a fresh process: a new
 * rig, seeded, then Alertmanager resending what it sent the last one.
 * Before, a new ingress remembered nothing: every redelivery after a
 * restart was decided again.
 */
static void
seeded_case(const char *const *ids, size_t n, size_t kept, const char *body,
    int dup)
{
	struct rig g;
	struct diags d;
	char out[4096], *yaml;

	if (rig_up(&g, 0) == -1)
		return;
	CHECK_INT(hook_ingress_seed(g.ing, ids, n), kept);
	/* a reload swaps the endpoints and keeps what is remembered */
	yaml = manifest_here(manifest);
	free_docs(g.docs, g.ndocs);
	hook_ingress_set(g.ing, compile(yaml, 1, &d, &g.docs, &g.ndocs));
	free(yaml);
	CHECK_INT(d.errors, 0);
	diag_free(&d);
	CHECK_INT(post_alerts(&g, body, out, sizeof out), 200);
	CHECK(strstr(out, dup ? "{\"queued\":0,\"duplicates\":1}" :
	    "{\"queued\":1,\"duplicates\":0}") != NULL);
	CHECK_INT(g.q.n, dup ? 0 : 1);
	rig_down(&g);
}

TEST(ingress_seeded_from_the_state)
{
	char *firing = fixture("alertmanager-webhook-oomkilled.json");
	char *resolved = fixture(
	    "alertmanager-webhook-oomkilled-resolved.json");
	char f[64] = "", r[64] = "", plain[64] = "", out[4096], *other;
	struct rig g;

	if (firing == NULL || resolved == NULL || rig_up(&g, 0) == -1) {
		CHECK(!"rig");
		goto out;
	}
	/* the first process: what its records keep as signal.id */
	CHECK_INT(post_alerts(&g, firing, out, sizeof out), 200);
	CHECK_INT(post_alerts(&g, resolved, out, sizeof out), 200);
	CHECK_INT(call(g.port, "POST", "/open", NULL, "{}", out, sizeof out),
	    200);
	CHECK_INT(g.q.n, 3);
	if (g.q.n == 3) {
		snprintf(f, sizeof f, "%s", g.q.v[0].id);
		snprintf(r, sizeof r, "%s", g.q.v[1].id);
		snprintf(plain, sizeof plain, "%s", g.q.v[2].id);
	}
	rig_down(&g);
	/* an alert's id names its other status; no other id does */
	other = hook_alert_id_other(f);
	CHECK(other != NULL && strcmp(other, r) == 0);
	free(other);
	other = hook_alert_id_other(r);
	CHECK(other != NULL && strcmp(other, f) == 0);
	free(other);
	CHECK(hook_alert_id_other(plain) == NULL);
	CHECK(hook_alert_id_other("") == NULL);
	CHECK(hook_alert_id_other("kube-event-uid-1234") == NULL);
	CHECK(hook_alert_id_other(NULL) == NULL);
	{
		/* the firing alone was stored: its redelivery is one, its
		   resolution news; other signals' ids are not kept */
		const char *fired[] = { plain, f, "not-an-alert" };
		/* the resolution after it: the alert firing again (the same
		   startsAt, restored by Prometheus) is news, as it is to an
		   ingress that stored both (ingress_dedup_and_full_queue) */
		const char *ended[] = { f, r };
		/* fired again after the resolution */
		const char *again[] = { r, f };
		/* both undecided rows and records may hold one id */
		const char *twice[] = { f, r, r };

		seeded_case(fired, 3, 1, firing, 1);
		seeded_case(fired, 3, 1, resolved, 0);
		seeded_case(ended, 2, 1, firing, 0);
		seeded_case(ended, 2, 1, resolved, 1);
		seeded_case(again, 2, 1, firing, 1);
		seeded_case(again, 2, 1, resolved, 0);
		seeded_case(twice, 3, 1, resolved, 1);
		seeded_case(NULL, 0, 0, firing, 0);
	}
out:
	free(firing);
	free(resolved);
}

struct sender {
	unsigned	 port;
	int		 first, ok;
};

static void *
sender_main(void *arg)
{
	struct sender *s = arg;
	char out[2048], *body;
	int i;

	for (i = 0; i < 10; i++) {
		body = payload(s->first + i % 5, 1);
		if (call(s->port, "POST", "/alerts", AUTH, body, out,
		    sizeof out) == 200)
			s->ok++;
		free(body);
	}
	return NULL;
}

TEST(ingress_concurrent_redeliveries)
{
	struct rig g;
	struct sender s[6];
	pthread_t t[6];
	size_t i, j;
	int ok = 0;

	if (rig_up(&g, 0) == -1)
		return;
	/* six senders each deliver alerts f0..f4 twice: 5 queued, once */
	for (i = 0; i < 6; i++) {
		s[i].port = g.port;
		s[i].first = 0;
		s[i].ok = 0;
		pthread_create(&t[i], NULL, sender_main, &s[i]);
	}
	for (i = 0; i < 6; i++) {
		pthread_join(t[i], NULL);
		ok += s[i].ok;
	}
	CHECK_INT(ok, 60);
	CHECK_INT(g.q.n, 5);
	for (i = 0; i < g.q.n; i++)
		for (j = i + 1; j < g.q.n; j++)
			CHECK(strcmp(g.q.v[i].id, g.q.v[j].id) != 0);
	rig_down(&g);
}

TEST(dedup_lru)
{
	struct hook_dedup *d = hook_dedup_new(3);

	hook_dedup_add(d, "a");
	hook_dedup_add(d, "b");
	hook_dedup_add(d, "c");
	CHECK(hook_dedup_has(d, "a"));	/* a is now the most recent */
	hook_dedup_add(d, "d");
	CHECK_INT(hook_dedup_count(d), 4);	/* until trimmed */
	hook_dedup_trim(d);		/* evicts b */
	CHECK(!hook_dedup_has(d, "b"));
	CHECK(hook_dedup_has(d, "a") && hook_dedup_has(d, "c") &&
	    hook_dedup_has(d, "d"));
	CHECK_INT(hook_dedup_count(d), 3);
	hook_dedup_del(d, "c");
	CHECK(!hook_dedup_has(d, "c"));
	CHECK_INT(hook_dedup_count(d), 2);
	hook_dedup_free(d);
}

/*
 * The fuzz corpus (fuzz/webhook_fuzz.c; WEBHOOK_CORPUS_DIR overrides
 * fuzz/corpus/webhook): the inputs of this module's selectors (bodies,
 * forms, queries, Prometheus answers) decode or fail cleanly, and what
 * must hold for any input holds.  test_util replays the rest (cron and
 * TZif inputs).
 */
TEST(fuzz_corpus_replay)
{
	const char *dir = getenv("WEBHOOK_CORPUS_DIR");
	struct hook_target t = { "es", "hook", NULL, NULL, 0 };
	struct http_header h[2], args[64];
	struct dirent *de;
	DIR *dp;
	int ran = 0;

	if (dir == NULL)
		dir = "fuzz/corpus/webhook";
	if ((dp = opendir(dir)) == NULL) {
		fprintf(stderr, "fuzz corpus not found in %s\n", dir);
		CHECK(!"fuzz corpus present");
		return;
	}
	while ((de = readdir(dp)) != NULL) {
		char path[4096], *text, *err = NULL, *body, *copy = NULL;
		struct http_request r;
		struct prom_result pr;
		struct event *evs = NULL;
		size_t len, na = 0;
		int sel, n, am = 0;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if ((text = util_read_file(path, 1 << 20, &len, &err)) ==
		    NULL || len == 0) {
			free(err);
			free(text);
			continue;
		}
		sel = text[0] & 7;
		body = text + 1;
		len--;
		if (sel == 5 || sel == 6) {
			free(text);
			continue;
		}
		ran++;
		if (sel == 4) {
			static const long st[] = { 200, 400, 503, 0 };

			if (prom_parse(body, len, st[((unsigned char)text[0] >>
			    3) & 3], &pr, &err) == 0)
				prom_result_clear(&pr);
			else
				CHECK(err != NULL);
			free(err);
			free(text);
			continue;
		}
		r = post(body, h, 1);
		r.body_len = len;
		h[0].name = "Content-Type";
		h[0].value = sel == 1 ? "application/x-www-form-urlencoded" :
		    "application/json";
		if (sel == 7) {
			h[1].name = "authorization";
			h[1].value = "Bearer x";
			r.nheaders = 2;
		}
		if (sel == 3) {
			r.method = "PUT";
			r.nheaders = 0;
		}
		if (sel == 2) {
			char *p, *amp, *eq;

			r.method = "GET";
			copy = xstrdup(body);
			for (p = copy; p != NULL && *p && na < 64; p = amp) {
				if ((amp = strchr(p, '&')) != NULL)
					*amp++ = '\0';
				if ((eq = strchr(p, '=')) != NULL)
					*eq++ = '\0';
				args[na].name = p;
				args[na].value = eq ? eq : "";
				na++;
			}
			r.args = args;
			r.nargs = na;
		}
		n = hook_decode(&t, &r, 0, &evs, &am, &err);
		if (n >= 0) {
			int i;

			for (i = 0; i < n; i++)
				CHECK(strlen(evs[i].id) == 32 &&
				    json_is_object(evs[i].data));
			hook_events_free(evs, (size_t)n);
		} else
			CHECK(err != NULL && evs == NULL);
		free(err);
		free(copy);
		free(text);
	}
	closedir(dp);
	printf("fuzz corpus: %d inputs replayed\n", ran);
	CHECK(ran >= 20);
}

static void
cleanup(void)
{
	char cmd[256];

	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	RUN(canonical_headers);
	RUN(plain_json_body);
	RUN(secret_headers_masked);
	RUN(body_forms);
	RUN(get_carries_the_query);
	RUN(malformed_bodies);
	RUN(alertmanager_fixtures);
	RUN(alert_without_fingerprint_and_other_workloads);
	RUN(compile_endpoints_and_secrets);
	RUN(compile_errors);
	RUN(ingress_auth);
	RUN(ingress_errors);
	RUN(ingress_dedup_and_full_queue);
	RUN(ingress_concurrent_duplicates);
	RUN(ingress_batches_all_or_none);
	RUN(ingress_refused_batch_keeps_the_remembered_alerts);
	RUN(ingress_set_swap);
	RUN(ingress_seeded_from_the_state);
	RUN(signed_timestamps_and_replay_marks);
	RUN(ingress_concurrent_redeliveries);
	RUN(dedup_lru);
	RUN(fuzz_corpus_replay);
	cleanup();
	return harness_done();
}
