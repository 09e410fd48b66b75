/*
 * notify: secrets from files and the environment (never from a
 * manifest, never in a message), the owners/notifications configuration,
 * owner routing, the Slack-compatible and webhook payloads of each
 * decision, the sender (queue, retries, what is not retried) against a
 * loopback receiver, and the http trigger's plan and execution.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "notify/notify.h"
#include "util/retry.h"
#include "harness.h"

static char tmpdir[64];

static char *
write_tmp(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
	return path;
}

static json_t *
J(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, 0, &e);

	if (v == NULL)
		fprintf(stderr, "bad test JSON: %s: %s\n", e.text, text);
	return v;
}

/* ---- a loopback HTTP receiver ------------------------------------------- */

#define MAX_REQS 16

struct receiver {
	int		 fd;
	unsigned	 port;
	pthread_t	 th;
	int		 statuses[MAX_REQS];	/* answer per request; 0: 200 */
	char		*reqs[MAX_REQS];	/* raw requests received */
	int		 n, want;
	atomic_int	 got;	/* n, for other threads: counted before
				   the answer goes out */
};

static void *
serve(void *arg)
{
	struct receiver *r = arg;
	char buf[65536];

	while (r->n < r->want) {
		int c = accept(r->fd, NULL, NULL);
		size_t len = 0;
		char *hdr_end, *cl;
		long body = 0;
		char resp[128];
		int st;

		if (c < 0)
			break;
		for (;;) {
			ssize_t k = read(c, buf + len, sizeof buf - 1 - len);

			if (k <= 0)
				break;
			len += (size_t)k;
			buf[len] = '\0';
			if ((hdr_end = strstr(buf, "\r\n\r\n")) == NULL)
				continue;
			cl = strstr(buf, "Content-Length: ");
			body = cl ? strtol(cl + 16, NULL, 10) : 0;
			if ((long)(len - (size_t)(hdr_end + 4 - buf)) >= body)
				break;
		}
		buf[len] = '\0';
		r->reqs[r->n] = xstrdup(buf);
		st = r->statuses[r->n] ? r->statuses[r->n] : 200;
		r->n++;
		atomic_store(&r->got, r->n);
		snprintf(resp, sizeof resp, "HTTP/1.1 %d X\r\nContent-Length: "
		    "2\r\nConnection: close\r\n\r\nok", st);
		(void)!write(c, resp, strlen(resp));
		close(c);
	}
	return NULL;
}

static void
receiver_start(struct receiver *r, int want)
{
	struct sockaddr_in a;
	socklen_t al = sizeof a;
	int one = 1;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(r->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	bind(r->fd, (struct sockaddr *)&a, sizeof a);
	listen(r->fd, 16);
	getsockname(r->fd, (struct sockaddr *)&a, &al);
	r->port = ntohs(a.sin_port);
	r->want = want;
	pthread_create(&r->th, NULL, serve, r);
}

/* Stops accepting; the requests stay readable until receiver_free. */
static void
receiver_stop(struct receiver *r)
{
	shutdown(r->fd, SHUT_RDWR);
	close(r->fd);
	pthread_join(r->th, NULL);
}

static void
receiver_free(struct receiver *r)
{
	int i;

	for (i = 0; i < r->n; i++)
		free(r->reqs[i]);
	r->n = 0;
}

static json_t *
req_body(const char *raw)
{
	const char *b = raw ? strstr(raw, "\r\n\r\n") : NULL;

	return b ? json_loads(b + 4, 0, NULL) : NULL;
}

/* ---- configuration ------------------------------------------------------ */

static struct conf *
load_conf(const char *yaml, struct diags *dg)
{
	char *path = write_tmp("config.yaml", yaml);
	const char *paths[1] = { path };
	struct conf *c;

	diag_init(dg);
	c = conf_load(paths, 1, dg);
	free(path);
	return c;
}

static const char config_yaml[] =
    "apiVersion: remediate.dev/v1alpha1\n"
    "kind: RemediationConfig\n"
    "metadata: {name: defaults}\n"
    "spec:\n"
    "  owners:\n"
    "    routes:\n"
    "      team-shop: shop\n"
    "      team-pay: [pay, hook]\n"
    "  notifications:\n"
    "    default: platform\n"
    "    baseURL: https://remediate.example.com\n"
    "    attempts: 2\n"
    "    approvalTTL: 30m\n"
    "    links:\n"
    "      dashboard: \"https://grafana.example/d/k?ns={{ .Input.target."
    "namespace }}\"\n"
    "    destinations:\n"
    "      platform: {slack: {url: {env: NOTIFY_TEST_PLATFORM}, "
    "channel: \"#oncall\", username: remediate}}\n"
    "      shop: {slack: {url: {env: NOTIFY_TEST_SHOP}}}\n"
    "      pay: {slack: {url: {env: NOTIFY_TEST_SHOP}}}\n"
    "      hook:\n"
    "        webhook:\n"
    "          url: http://127.0.0.1:1/x\n"
    "          headers: {X-Team: pay}\n"
    "          secureHeaders: [{name: Authorization, valueFrom: {env: "
    "NOTIFY_TEST_AUTH}}]\n"
    "        timeout: 2s\n";

TEST(config_compiles_destinations_and_routes)
{
	struct diags dg;
	struct conf *cf = load_conf(config_yaml, &dg);
	struct notify_config *c;
	const struct notify_dest *d[4];

	CHECK_INT(dg.errors, 0);
	diag_print(&dg, stderr);
	c = notify_config_new(cf, NULL, 0, &dg);
	CHECK(c != NULL);
	if (c == NULL)
		goto out;
	CHECK_INT(c->ndests, 4);
	CHECK_STR(c->owner_key, "remediation.platform/owner");
	CHECK_STR(c->base_url, "https://remediate.example.com");
	CHECK_INT(c->attempts, 2);
	CHECK_INT(c->approval_ttl, 30 * 60000);
	CHECK_STR(notify_dest_find(c, "platform")->channel, "#oncall");
	CHECK_INT(notify_dest_find(c, "hook")->timeout_ms, 2000);
	CHECK_INT(notify_dest_find(c, "hook")->format, NOTIFY_WEBHOOK);
	CHECK_INT(notify_dest_find(c, "hook")->nheaders, 2);
	CHECK_INT(notify_route(c, "team-pay", d, 4), 2);
	CHECK_STR(d[0]->name, "pay");
	CHECK_STR(d[1]->name, "hook");
	CHECK_INT(notify_route(c, "team-shop", d, 4), 1);
	CHECK_STR(d[0]->name, "shop");
	/* unknown owner and no owner: the default */
	CHECK_INT(notify_route(c, "team-x", d, 4), 1);
	CHECK_STR(d[0]->name, "platform");
	CHECK_INT(notify_route(c, NULL, d, 4), 1);
	CHECK_STR(d[0]->name, "platform");
	notify_config_free(c);
out:
	conf_free(cf);
	diag_free(&dg);
}

TEST(config_errors)
{
	static const struct {
		const char	*spec;
		const char	*want;	/* in some diagnostic */
	} cases[] = {
		{ "  notifications:\n    destinations:\n      a: {slack: "
		    "{url: \"https://hooks.slack.com/services/T/B/x\"}}\n",
		    "a Slack incoming-webhook URL carries its token" },
		{ "  notifications:\n    default: nope\n",
		    "default destination \"nope\" is not in" },
		{ "  owners:\n    routes: {t: nope}\n",
		    "owner t routes to \"nope\"" },
		{ "  notifications:\n    destinations:\n      a: {webhook: "
		    "{url: ftp://x}}\n", "is not an http:// or https:// URL" },
		{ "  notifications:\n    destinations:\n      a: {webhook: "
		    "{url: {env: A, file: /b}}}\n", "give exactly one of" },
		{ "  notifications:\n    destinations:\n      a: {timeout: "
		    "1s}\n", "a destination is either slack or webhook" },
		{ "  notifications:\n    destinations:\n      a: {webhook: "
		    "{url: {value: x}}}\n", "never sits in a manifest" },
		{ "  notifications:\n    destinations:\n      a: {webhook: "
		    "{url: {env: NOTIFY_TEST_UNSET}}}\n",
		    "environment variable NOTIFY_TEST_UNSET is not set" },
	};
	size_t i, j;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *y = xasprintf("apiVersion: remediate.dev/v1alpha1\n"
		    "kind: RemediationConfig\nmetadata: {name: d}\nspec:\n%s",
		    cases[i].spec);
		struct diags dg;
		struct conf *cf = load_conf(y, &dg);
		struct notify_config *c = NULL;
		int found = 0;

		if (dg.errors == 0)
			c = notify_config_new(cf, NULL, 1, &dg);
		CHECK(c == NULL);
		for (j = 0; j < dg.n; j++)
			if (strstr(dg.v[j].msg, cases[i].want))
				found = 1;
		CHECK(found);
		if (!found) {
			fprintf(stderr, "  case %zu:\n", i);
			diag_print(&dg, stderr);
		}
		notify_config_free(c);
		conf_free(cf);
		diag_free(&dg);
		free(y);
	}
}

/* ---- owners and payloads ------------------------------------------------- */

static struct notify_config *
test_config(void)
{
	struct diags dg;
	struct conf *cf = load_conf(config_yaml, &dg);
	struct notify_config *c = notify_config_new(cf, NULL, 0, &dg);

	conf_free(cf);
	diag_free(&dg);
	return c;
}

TEST(owner_from_label_annotation_or_pod)
{
	struct notify_config *c = test_config();
	json_t *lab = J("{\"metadata\":{\"labels\":{"
	    "\"remediation.platform/owner\":\"team-shop\"}}}");
	json_t *ann = J("{\"metadata\":{\"annotations\":{"
	    "\"remediation.platform/owner\":\"team-pay\"}}}");
	json_t *none = J("{\"metadata\":{}}");

	CHECK_STR(notify_owner(c, lab, ann), "team-shop");
	CHECK_STR(notify_owner(c, ann, NULL), "team-pay");
	CHECK_STR(notify_owner(c, none, ann), "team-pay");
	CHECK_STR(notify_owner(c, NULL, NULL), NULL);
	json_decref(lab);
	json_decref(ann);
	json_decref(none);
	notify_config_free(c);
}

static const char acted_record[] =
    "{\"time\":\"2026-03-14T09:40:00Z\",\"sensor\":\"argo-events/oom\","
    "\"trigger\":\"bump\",\"target\":{\"kind\":\"Deployment\","
    "\"namespace\":\"shop\",\"name\":\"checkout\"},\"subject\":{\"kind\":"
    "\"Pod\",\"namespace\":\"shop\",\"name\":\"checkout-x\"},\"decision\":"
    "\"acted\",\"plan\":{\"type\":\"remediate\",\"action\":\"bumpMemory\","
    "\"summary\":\"raise memory of container app of Deployment "
    "shop/checkout: request 256Mi -> 320Mi\"},\"signal\":{}}";

TEST(summaries_say_what_happened_or_would)
{
	static const struct {
		const char	*decision, *reason, *message, *want;
	} cases[] = {
		{ "acted", NULL, NULL, "acted: raise memory of container app "
		    "of Deployment shop/checkout: request 256Mi -> 320Mi" },
		{ "dry-run", NULL, NULL, "dry-run: would raise memory" },
		{ "notified", NULL, NULL, "notified: would raise memory" },
		{ "pending-approval", NULL, NULL, "pending approval: would "
		    "raise memory" },
		{ "suppressed", "at-cap", "at cap: container app ...",
		    "suppressed (at-cap): at cap: container app ..." },
		{ "failed", NULL, "409 Conflict", "failed: raise memory" },
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *r = J(acted_record);
		struct notify_msg m = { r, NULL, NULL, NULL };
		char *s;

		json_object_set_new(r, "decision", json_string(
		    cases[i].decision));
		if (cases[i].reason)
			json_object_set_new(r, "reason", json_string(
			    cases[i].reason));
		if (cases[i].message)
			json_object_set_new(r, "message", json_string(
			    cases[i].message));
		s = notify_summary(&m);
		CHECK(strncmp(s, cases[i].want, strlen(cases[i].want)) == 0);
		if (strncmp(s, cases[i].want, strlen(cases[i].want)))
			fprintf(stderr, "  got %s\n", s);
		free(s);
		json_decref(r);
	}
}

TEST(slack_payload_of_an_acted_decision)
{
	struct notify_config *c = test_config();
	json_t *r = J(acted_record), *target = J("{\"metadata\":{\"labels\":{"
	    "\"remediation.platform/owner\":\"team-shop\"}}}"), *p, *b;
	struct notify_msg m = { r, target, NULL, NULL };
	const char *text;
	char *all;

	p = notify_payload(c, notify_dest_find(c, "platform"), &m);
	text = json_string_value(json_object_get(p, "text"));
	CHECK_STR(text, "[remediate] bump: acted: raise memory of container "
	    "app of Deployment shop/checkout: request 256Mi -> 320Mi "
	    "(Deployment shop/checkout)");
	CHECK_STR(json_string_value(json_object_get(p, "channel")), "#oncall");
	CHECK_STR(json_string_value(json_object_get(p, "username")),
	    "remediate");
	b = json_object_get(p, "blocks");
	CHECK_STR(json_string_value(json_object_get(json_array_get(b, 0),
	    "type")), "header");
	all = json_dumps(b, JSON_COMPACT);
	CHECK(strstr(all, "*Target*\\nDeployment shop/checkout") != NULL);
	CHECK(strstr(all, "*Owner*\\nteam-shop") != NULL);
	CHECK(strstr(all, "*What changed*\\nraise memory") != NULL);
	CHECK(strstr(all, "256Mi -&gt; 320Mi") != NULL);	/* escaped */
	/* the configured link, rendered over the record */
	CHECK(strstr(all, "https://grafana.example/d/k?ns=shop") != NULL);
	CHECK(strstr(all, "Review and approve") == NULL);
	free(all);
	json_decref(p);
	json_decref(r);
	json_decref(target);
	notify_config_free(c);
}

TEST(pending_approval_carries_the_link)
{
	struct notify_config *c = test_config();
	json_t *r = J(acted_record), *p, *btn;
	struct notify_msg m = { r, NULL, NULL,
	    "https://remediate.example.com/approve/abc?sig=00" };
	size_t i;
	int found = 0;

	json_object_set_new(r, "decision", json_string("pending-approval"));
	p = notify_payload(c, notify_dest_find(c, "platform"), &m);
	CHECK(strstr(json_string_value(json_object_get(p, "text")),
	    "approve: https://remediate.example.com/approve/abc?sig=00") !=
	    NULL);
	json_array_foreach(json_object_get(p, "blocks"), i, btn)
		if (json_string_value(json_object_get(btn, "type")) &&
		    strcmp(json_string_value(json_object_get(btn, "type")),
		    "actions") == 0) {
			json_t *e = json_array_get(json_object_get(btn,
			    "elements"), 0);

			CHECK_STR(json_string_value(json_object_get(e, "url")),
			    "https://remediate.example.com/approve/abc?sig=00");
			CHECK_STR(json_string_value(json_object_get(e,
			    "style")), "primary");
			found = 1;
		}
	CHECK(found);
	json_decref(p);
	/* the plain webhook gets the record itself */
	p = notify_payload(c, notify_dest_find(c, "hook"), &m);
	CHECK(json_equal(json_object_get(p, "decision"), r));
	CHECK_STR(json_string_value(json_object_get(p, "approvalURL")),
	    "https://remediate.example.com/approve/abc?sig=00");
	CHECK_STR(json_string_value(json_object_get(json_object_get(p,
	    "links"), "approve")), "https://remediate.example.com/approve/"
	    "abc?sig=00");
	json_decref(p);
	json_decref(r);
	notify_config_free(c);
}

/* ---- sending ------------------------------------------------------------- */

static struct notify_config *
loopback_config(unsigned port, int attempts)
{
	struct notify_config *c = xcalloc(1, sizeof *c);
	struct notify_dest *d;

	c->default_dest = 0;
	c->attempts = attempts;
	c->owner_key = xstrdup(NOTIFY_OWNER_KEY);
	c->secrets_dir = xstrdup(tmpdir);
	c->ndests = 1;
	c->dests = d = xcalloc(1, sizeof *d);
	d->name = xstrdup("loop");
	d->format = NOTIFY_WEBHOOK;
	d->url = xasprintf("http://127.0.0.1:%u/hook", port);
	d->timeout_ms = 2000;
	d->nheaders = 1;
	d->headers = xcalloc(1, sizeof *d->headers);
	d->headers[0].name = xstrdup("Authorization");
	d->headers[0].secret.kind = SECRET_ENV;
	d->headers[0].secret.env = xstrdup("NOTIFY_TEST_AUTH");
	d->headers[0].secret.what = xstrdup("environment variable "
	    "NOTIFY_TEST_AUTH");
	return c;
}

static int logged;
static char last_log[1024];

static void
test_log(const char *level, const char *msg, json_t *f)
{
	char *s = json_dumps(f, JSON_COMPACT);

	(void)level;
	logged++;
	snprintf(last_log, sizeof last_log, "%s %s", msg, s ? s : "");
	free(s);
	json_decref(f);
}

TEST(sender_delivers_with_secret_headers_and_retries_5xx)
{
	struct receiver rv;
	struct notify_config *c;
	struct notify_opts o;
	struct notify_stats st;
	struct notify *n;
	json_t *r = J(acted_record), *got;
	struct notify_msg m = { r, NULL, NULL, NULL };
	char *err = NULL;

	memset(&rv, 0, sizeof rv);
	rv.statuses[0] = 503;	/* then 200 */
	receiver_start(&rv, 2);
	c = loopback_config(rv.port, 3);
	setenv("NOTIFY_TEST_AUTH", "Bearer t0k3n", 1);
	memset(&o, 0, sizeof o);
	o.retry_base = 50;
	o.log = test_log;
	n = notify_new(c, &o, &err);
	CHECK(n != NULL);
	CHECK_INT(notify_send(n, &m), 1);
	CHECK(notify_flush(n, 10000) == 0);
	notify_stats(n, &st);
	CHECK_INT(st.sent, 1);
	CHECK_INT(st.retries, 1);
	CHECK_INT(st.failed, 0);
	notify_free(n);
	receiver_stop(&rv);
	CHECK_INT(rv.n, 2);
	CHECK(rv.reqs[1] && strncmp(rv.reqs[1], "POST /hook HTTP/1.1", 19) ==
	    0);
	CHECK(rv.reqs[1] && strstr(rv.reqs[1], "Authorization: Bearer "
	    "t0k3n\r\n") != NULL);
	CHECK(rv.reqs[1] && strstr(rv.reqs[1], "Content-Type: "
	    "application/json\r\n") != NULL);
	got = req_body(rv.reqs[1]);
	CHECK(json_equal(json_object_get(got, "decision"), r));
	json_decref(got);
	receiver_free(&rv);
	json_decref(r);
	notify_config_free(c);
	unsetenv("NOTIFY_TEST_AUTH");
}

TEST(sender_does_not_retry_4xx_and_never_logs_secrets)
{
	struct receiver rv;
	struct notify_config *c;
	struct notify_opts o;
	struct notify_stats st;
	struct notify *n;
	json_t *r = J(acted_record);
	struct notify_msg m = { r, NULL, NULL, NULL };
	char *err = NULL;

	memset(&rv, 0, sizeof rv);
	rv.statuses[0] = 400;
	receiver_start(&rv, 1);
	c = loopback_config(rv.port, 3);
	setenv("NOTIFY_TEST_AUTH", "Bearer t0k3n", 1);
	memset(&o, 0, sizeof o);
	o.retry_base = 50;
	o.log = test_log;
	logged = 0;
	n = notify_new(c, &o, &err);
	CHECK_INT(notify_send(n, &m), 1);
	CHECK(notify_flush(n, 10000) == 0);
	notify_stats(n, &st);
	CHECK_INT(st.failed, 1);
	CHECK_INT(st.retries, 0);
	CHECK_INT(logged, 1);
	CHECK(strstr(last_log, "\"destination\":\"loop\"") != NULL);
	CHECK(strstr(last_log, "t0k3n") == NULL);
	CHECK(strstr(last_log, "127.0.0.1") == NULL);	/* no URL */
	notify_free(n);
	receiver_stop(&rv);
	CHECK_INT(rv.n, 1);
	receiver_free(&rv);
	/* a secret that cannot be read: nothing is sent, the reason logged */
	unsetenv("NOTIFY_TEST_AUTH");
	memset(&rv, 0, sizeof rv);
	receiver_start(&rv, 0);
	n = notify_new(c, &o, &err);
	logged = 0;
	CHECK_INT(notify_send(n, &m), 1);
	CHECK(notify_flush(n, 10000) == 0);
	notify_stats(n, &st);
	CHECK_INT(st.failed, 1);
	CHECK(strstr(last_log, "NOTIFY_TEST_AUTH is not set") != NULL);
	notify_free(n);
	receiver_stop(&rv);
	CHECK_INT(rv.n, 0);
	json_decref(r);
	notify_config_free(c);
}

TEST(sender_queue_drops_the_oldest_when_full)
{
	struct notify_config *c = loopback_config(1, 1);
	struct notify_opts o;
	struct notify_stats st;
	struct notify *n;
	json_t *r = J(acted_record);
	struct notify_msg m = { r, NULL, NULL, NULL };
	char *err = NULL;
	int i;

	memset(&o, 0, sizeof o);
	o.queue_max = 2;
	o.log = test_log;
	n = notify_new(c, &o, &err);
	for (i = 0; i < 50; i++)
		(void)notify_send(n, &m);
	(void)notify_flush(n, 10000);
	notify_stats(n, &st);
	CHECK_INT(st.queued, 50);
	CHECK(st.dropped > 0);
	CHECK_INT(st.sent + st.failed + st.dropped, 50);
	notify_free(n);
	json_decref(r);
	notify_config_free(c);
}

/* ---- http triggers ------------------------------------------------------- */

TEST(http_trigger_plan_shows_references_not_secrets)
{
	json_t *spec = J("{\"url\":\"https://ci.example/hook\",\"method\":"
	    "\"PUT\",\"headers\":{\"X-A\":\"1\"},\"secureHeaders\":[{\"name\":"
	    "\"Authorization\",\"valueFrom\":{\"secretKeyRef\":{\"name\":"
	    "\"ci\",\"key\":\"token\"}}}],\"timeout\":5,\"tls\":{"
	    "\"caCertSecret\":{\"name\":\"ci\",\"key\":\"ca.crt\"}}}");
	json_t *payload = J("{\"pod\":\"p\"}"), *plan = NULL;
	char *err = NULL;

	CHECK(notify_plan_http(spec, payload, &plan, &err) == 0);
	CHECK_STR(json_string_value(json_object_get(plan, "type")), "http");
	CHECK_STR(json_string_value(json_object_get(plan, "method")), "PUT");
	CHECK_STR(json_string_value(json_object_get(json_object_get(plan,
	    "headers"), "X-A")), "1");
	CHECK(json_equal(json_object_get(json_object_get(plan,
	    "secureHeaders"), "Authorization"), json_object_get(json_array_get(
	    json_object_get(spec, "secureHeaders"), 0), "valueFrom")));
	CHECK_INT(json_integer_value(json_object_get(plan, "timeoutMs")),
	    5000);
	CHECK(json_equal(json_object_get(plan, "body"), payload));
	CHECK(json_object_get(json_object_get(plan, "tls"), "caCert") !=
	    NULL);
	json_decref(plan);
	json_decref(spec);
	spec = J("{\"url\":\"file:///etc/passwd\"}");
	CHECK(notify_plan_http(spec, NULL, &plan, &err) == -1);
	CHECK_STR(err, "the http trigger's url is not http:// or https://");
	free(err);
	json_decref(spec);
	json_decref(payload);
}

TEST(http_trigger_executes_with_secrets_read_now)
{
	struct receiver rv;
	json_t *spec, *payload = J("{\"pod\":\"checkout-x\"}"), *plan = NULL,
	    *res = NULL, *got;
	char *err = NULL, *url, dir[128];

	snprintf(dir, sizeof dir, "%s/ci", tmpdir);
	mkdir(dir, 0700);
	free(write_tmp("ci/token", "Bearer ci-t0k3n\n"));
	free(write_tmp("ci/user", "bot\n"));
	free(write_tmp("ci/pass", "pw\n"));
	memset(&rv, 0, sizeof rv);
	rv.statuses[1] = 500;
	rv.statuses[2] = 500;
	rv.statuses[3] = 200;
	receiver_start(&rv, 4);
	url = xasprintf("http://127.0.0.1:%u/run", rv.port);
	spec = json_pack("{s:s, s:[{s:s, s:{s:{s:s, s:s}}}], s:{s:{s:s, s:s},"
	    " s:{s:s, s:s}}}", "url", url, "secureHeaders", "name",
	    "X-Token", "valueFrom", "secretKeyRef", "name", "ci", "key",
	    "token", "basicAuth", "username", "name", "ci", "key", "user",
	    "password", "name", "ci", "key", "pass");
	CHECK(notify_plan_http(spec, payload, &plan, &err) == 0);
	/* dry run: nothing sent */
	CHECK(notify_execute_http(tmpdir, plan, 1, &res, &err) == 0);
	CHECK(json_is_true(json_object_get(res, "dryRun")));
	json_decref(res);
	CHECK(notify_execute_http(tmpdir, plan, 0, &res, &err) == 0);
	CHECK_INT(json_integer_value(json_object_get(res, "status")), 200);
	CHECK_STR(json_string_value(json_object_get(res, "body")), "ok");
	json_decref(res);
	/* a 500 is a failure, with the status and no secret */
	CHECK(notify_execute_http(tmpdir, plan, 0, &res, &err) == -1);
	CHECK(err && strstr(err, "answered HTTP 500") != NULL);
	CHECK(err && strstr(err, "t0k3n") == NULL);
	free(err);
	/* policy.status.allow decides: a listed 500 is success... */
	json_object_set_new(plan, "statusAllow", json_pack("[i, i]", 202,
	    500));
	CHECK(notify_execute_http(tmpdir, plan, 0, &res, &err) == 0);
	CHECK_INT(json_integer_value(json_object_get(res, "status")), 500);
	json_decref(res);
	/* ...and an unlisted 200 a failure */
	CHECK(notify_execute_http(tmpdir, plan, 0, &res, &err) == -1);
	CHECK(err && strstr(err, "answered HTTP 200, not in "
	    "policy.status.allow") != NULL);
	free(err);
	json_object_del(plan, "statusAllow");
	receiver_stop(&rv);
	CHECK_INT(rv.n, 4);
	CHECK(rv.reqs[0] && strncmp(rv.reqs[0], "POST /run HTTP/1.1", 18) ==
	    0);
	CHECK(rv.reqs[0] && strstr(rv.reqs[0], "X-Token: Bearer ci-t0k3n\r\n")
	    != NULL);
	/* base64("bot:pw") */
	CHECK(rv.reqs[0] && strstr(rv.reqs[0], "Authorization: Basic "
	    "Ym90OnB3\r\n") != NULL);
	got = req_body(rv.reqs[0]);
	CHECK(json_equal(got, payload));
	json_decref(got);
	receiver_free(&rv);
	/* a missing secret: nothing sent */
	json_object_set_new(json_object_get(json_object_get(plan,
	    "secureHeaders"), "X-Token"), "secretKeyRef", json_pack("{s:s, "
	    "s:s}", "name", "ci", "key", "missing"));
	CHECK(notify_execute_http(tmpdir, plan, 0, &res, &err) == -1);
	CHECK(err && strstr(err, "header X-Token: secret ci key missing") !=
	    NULL);
	free(err);
	json_decref(plan);
	json_decref(spec);
	json_decref(payload);
	free(url);
}

/* The test's gate: closed once the receiver has answered once. */
static char gate_why[] = "the test closed the gate";

static const char *
closes_after_one(void *ctx)
{
	struct receiver *r = ctx;

	return atomic_load(&r->got) >= 1 ? gate_why : NULL;
}

TEST(http_trigger_retry_asks_the_gate)
{
	struct receiver rv;
	json_t *spec, *plan = NULL, *res = NULL;
	char *err = NULL, *url;

	/* a retryStrategy with a minute's backoff: the gate closes once the
	   503 is answered, so the wait ends and the retry is never sent */
	memset(&rv, 0, sizeof rv);
	rv.statuses[0] = 503;
	rv.statuses[1] = 200;
	receiver_start(&rv, 2);
	url = xasprintf("http://127.0.0.1:%u/run", rv.port);
	spec = json_pack("{s:s}", "url", url);
	CHECK(notify_plan_http(spec, NULL, &plan, &err) == 0);
	REQUIRE(plan != NULL);
	json_object_set_new(plan, "retryStrategy", json_pack("{s:i, s:s}",
	    "steps", 3, "duration", "60s"));
	retry_gate_on(closes_after_one, &rv);
	CHECK(notify_execute_http(tmpdir, plan, 0, &res, &err) == -1);
	CHECK(res == NULL);
	CHECK_INT(atomic_load(&rv.got), 1);
	CHECK_STR(err, "not sent: the test closed the gate (attempt 2; "
	    "attempt 1: answered HTTP 503: ok)");
	free(err);
	err = NULL;
	/* closed before the first attempt: nothing at all */
	CHECK(notify_execute_http(tmpdir, plan, 0, &res, &err) == -1);
	CHECK_STR(err, "not sent: the test closed the gate");
	free(err);
	retry_gate_on(NULL, NULL);
	receiver_stop(&rv);
	CHECK_INT(rv.n, 1);
	receiver_free(&rv);
	json_decref(plan);
	json_decref(spec);
	free(url);
}

int
main(void)
{
	char cmd[128];
	int rc;

	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_notify.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	RUN(config_compiles_destinations_and_routes);
	RUN(config_errors);
	RUN(owner_from_label_annotation_or_pod);
	RUN(summaries_say_what_happened_or_would);
	RUN(slack_payload_of_an_acted_decision);
	RUN(pending_approval_carries_the_link);
	RUN(sender_delivers_with_secret_headers_and_retries_5xx);
	RUN(sender_does_not_retry_4xx_and_never_logs_secrets);
	RUN(sender_queue_drops_the_oldest_when_full);
	RUN(http_trigger_plan_shows_references_not_secrets);
	RUN(http_trigger_executes_with_secrets_read_now);
	RUN(http_trigger_retry_asks_the_gate);
	rc = harness_done();
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	(void)!system(cmd);
	return rc;
}
