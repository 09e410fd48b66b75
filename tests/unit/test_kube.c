/*
 * Unit tests of the kube module's pure parts: kubeconfig and in-cluster
 * configuration, exec credentials, Status errors (every recorded Status
 * fixture and the text/plain 429), retry policy, discovery's built-in
 * table and paths, the memory-bump arithmetic and its patch, Events;
 * and the request loop's retries and their gate against a loopback
 * server.
 *
 * Fixtures are read from tests/data/fixtures (harness_fixture).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "kube/kube.h"
#include "util/util.h"

static char *
read_fixture(const char *name, size_t *len)
{
	const char *p = harness_fixture(name);
	char *err = NULL, *s;
	size_t n;

	s = util_read_file(p, 1u << 20, len ? len : &n, &err);
	if (s == NULL)
		fprintf(stderr, "cannot read fixture %s: %s\n", p, err);
	free(err);
	return s;
}

/* ---- kubeconfig -------------------------------------------------------- */

TEST(kubeconfig_sample_current_context)
{
	struct kube_config c;
	char *text, *err = NULL;
	size_t len;

	text = read_fixture("kubeconfig-sample.yaml", &len);
	CHECK(text != NULL);
	if (text == NULL)
		return;
	CHECK_INT(kube_config_parse(text, len, "/etc/kc/config", NULL, &c,
	    &err), 0);
	CHECK_STR(err, NULL);
	CHECK_STR(c.server, "https://127.0.0.1:6443");
	CHECK_STR(c.tls_server_name, "kubernetes.default.svc");
	CHECK_STR(c.token, "emulator-static-token-0123456789");
	CHECK_STR(c.namespace, "shop");
	CHECK_STR(c.context, "emulator");
	CHECK(c.ca_data != NULL && c.ca_len == strlen(c.ca_data));
	CHECK_STR(c.ca_data, "-----BEGIN CERTIFICATE-----\nPLACEHOLDER\n"
	    "-----END CERTIFICATE-----\n");
	CHECK(c.exec == NULL && c.cert_data == NULL && !c.insecure);
	kube_config_clear(&c);
	free(text);
}

TEST(kubeconfig_sample_mtls_and_exec)
{
	struct kube_config c;
	char *text, *err = NULL;
	size_t len;

	text = read_fixture("kubeconfig-sample.yaml", &len);
	if (text == NULL) {
		CHECK(text != NULL);
		return;
	}
	CHECK_INT(kube_config_parse(text, len, "/etc/kc/config",
	    "emulator-mtls", &c, &err), 0);
	CHECK(c.cert_data && strstr(c.cert_data, "BEGIN CERTIFICATE"));
	CHECK(c.key_data && strstr(c.key_data, "BEGIN EC PRIVATE KEY"));
	CHECK_STR(c.token, NULL);
	CHECK_STR(c.namespace, "default");
	kube_config_clear(&c);

	CHECK_INT(kube_config_parse(text, len, "/etc/kc/config", "prod", &c,
	    &err), 0);
	CHECK_STR(c.server,
	    "https://ABCDEF0123456789.gr7.eu-west-1.eks.amazonaws.com");
	CHECK_STR(c.ca_file, "/etc/remediation/prod-ca.crt");
	CHECK_STR(c.namespace, "remediation-system");
	CHECK(c.exec != NULL);
	if (c.exec) {
		CHECK_STR(c.exec->command,
		    "/usr/local/bin/fake-credential-helper");
		CHECK_INT(c.exec->nargs, 3);
		CHECK_STR(c.exec->nargs == 3 ? c.exec->args[2] : NULL,
		    "prod");
		CHECK_INT(c.exec->nenv, 1);
		CHECK_STR(c.exec->nenv ? c.exec->env[0] : NULL,
		    "AWS_PROFILE=remediation");
		CHECK_STR(c.exec->api_version,
		    "client.authentication.k8s.io/v1");
	}
	kube_config_clear(&c);

	CHECK_INT(kube_config_parse(text, len, "/etc/kc/config", "nope", &c,
	    &err), -1);
	CHECK(err && strstr(err, "context \"nope\" not found") &&
	    strstr(err, "/etc/kc/config"));
	free(err);
	free(text);
}

/* Each case: kubeconfig text, context, the error expected (a substring)
 * or NULL for success. */
static const struct {
	const char	*text;
	const char	*want_err;
} bad_configs[] = {
	{ "apiVersion: v1\nkind: Config\n", "no current-context" },
	{ "current-context: a\ncontexts:\n- name: a\n  context:\n"
	    "    cluster: c\n", "cluster \"c\" not found" },
	{ "current-context: a\ncontexts:\n- name: a\n  context:\n"
	    "    cluster: c\n    user: u\nclusters:\n- name: c\n"
	    "  cluster:\n    server: https://x\n", "user \"u\" not found" },
	{ "current-context: a\ncontexts:\n- name: a\n  context:\n"
	    "    cluster: c\nclusters:\n- name: c\n  cluster:\n"
	    "    server: https://x\n    certificate-authority-data: '!!'\n",
	    "not valid base64" },
	{ "current-context: a\ncontexts:\n- name: a\n  context:\n"
	    "    cluster: c\nclusters:\n- name: c\n  cluster:\n"
	    "    server: ftp://x\n", "not an http(s) URL" },
	{ "current-context: a\ncontexts:\n- name: a\n  context:\n"
	    "    cluster: c\n    user: u\nclusters:\n- name: c\n"
	    "  cluster:\n    server: https://x\nusers:\n- name: u\n"
	    "  user:\n    client-certificate: c.crt\n", "no client key" },
	{ "current-context: a\ncontexts:\n- name: a\n  context:\n"
	    "    cluster: c\n    user: u\nclusters:\n- name: c\n"
	    "  cluster:\n    server: https://x\nusers:\n- name: u\n"
	    "  user:\n    exec:\n      args: [x]\n", "exec has no command" },
	{ "current-context: a\ncontexts:\n- name: a\n  context:\n"
	    "    cluster: c\n    user: u\nclusters:\n- name: c\n"
	    "  cluster:\n    server: https://x\nusers:\n- name: u\n"
	    "  user:\n    auth-provider:\n      name: gcp\n",
	    "auth-provider" },
	{ "- just\n- a list\n", "not a kubeconfig" },
	{ "a: [unclosed\n", "kc.yaml:" },
};

TEST(kubeconfig_errors)
{
	struct kube_config c;
	char *err;
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(bad_configs); i++) {
		err = NULL;
		CHECK_INT(kube_config_parse(bad_configs[i].text,
		    strlen(bad_configs[i].text), "/x/kc.yaml", NULL, &c, &err),
		    -1);
		if (err == NULL || strstr(err, bad_configs[i].want_err) ==
		    NULL)
			fprintf(stderr, "case %zu: got \"%s\"\n", i, err);
		CHECK(err && strstr(err, bad_configs[i].want_err));
		CHECK(c.server == NULL);
		free(err);
	}
}

TEST(kubeconfig_relative_paths_and_insecure)
{
	static const char text[] =
	    "current-context: a\n"
	    "contexts:\n- name: a\n  context: {cluster: c, user: u}\n"
	    "clusters:\n- name: c\n  cluster:\n    server: https://h:1/\n"
	    "    certificate-authority: pki/ca.crt\n"
	    "    insecure-skip-tls-verify: true\n"
	    "users:\n- name: u\n  user:\n    client-certificate: u.crt\n"
	    "    client-key: /abs/u.key\n    tokenFile: tok\n";
	struct kube_config c;
	char *err = NULL;

	CHECK_INT(kube_config_parse(text, sizeof text - 1, "/home/x/.kube/"
	    "config", NULL, &c, &err), 0);
	CHECK_STR(c.server, "https://h:1");
	CHECK_STR(c.ca_file, "/home/x/.kube/pki/ca.crt");
	CHECK_STR(c.cert_file, "/home/x/.kube/u.crt");
	CHECK_STR(c.key_file, "/abs/u.key");
	CHECK_STR(c.token_file, "/home/x/.kube/tok");
	CHECK_INT(c.insecure, 1);
	kube_config_clear(&c);
	free(err);
}

static char *
make_tmpdir(void)
{
	char tmpl[] = "/tmp/test_kube.XXXXXX";

	return mkdtemp(tmpl) ? xstrdup(tmpl) : NULL;
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
	free(p);
}

TEST(in_cluster)
{
	struct kube_config c;
	char *dir = make_tmpdir(), *err = NULL;

	CHECK(dir != NULL);
	if (dir == NULL)
		return;
	write_file(dir, "token", "sa-token\n");
	write_file(dir, "namespace", "remediation-system");
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	CHECK_INT(kube_config_in_cluster(dir, &c, &err), 0);
	CHECK_STR(c.server, "https://10.96.0.1:443");
	CHECK_STR(c.namespace, "remediation-system");
	CHECK(c.token_file && strstr(c.token_file, "/token"));
	CHECK(c.ca_file && strstr(c.ca_file, "/ca.crt"));
	CHECK_STR(c.context, "in-cluster");
	kube_config_clear(&c);

	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	CHECK_INT(kube_config_in_cluster(dir, &c, &err), 0);
	CHECK_STR(c.server, "https://[fd00::1]:443");
	kube_config_clear(&c);

	setenv("KUBERNETES_SERVICE_PORT", "http", 1);
	CHECK_INT(kube_config_in_cluster(dir, &c, &err), -1);
	CHECK(err && strstr(err, "KUBERNETES_SERVICE_PORT"));
	free(err);
	err = NULL;
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	CHECK_INT(kube_config_in_cluster("/nonexistent", &c, &err), -1);
	CHECK(err && strstr(err, "/nonexistent/token"));
	free(err);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	write_file(dir, "token", "");
	{
		char *p = xasprintf("%s/token", dir);

		unlink(p);
		free(p);
		p = xasprintf("%s/namespace", dir);
		unlink(p);
		free(p);
	}
	rmdir(dir);
	free(dir);
}

TEST(config_load_chain)
{
	struct kube_config c;
	char *dir = make_tmpdir(), *err = NULL, *kc, *env;
	static const char text[] = "current-context: a\ncontexts:\n"
	    "- name: a\n  context: {cluster: c, namespace: ns1}\n"
	    "- name: b\n  context: {cluster: c}\n"
	    "clusters:\n- name: c\n  cluster: {server: 'https://h:6443'}\n";

	if (dir == NULL) {
		CHECK(dir != NULL);
		return;
	}
	write_file(dir, "kc", text);
	kc = xasprintf("%s/kc", dir);
	/* $KUBECONFIG: the first file that exists */
	env = xasprintf("/nonexistent/x:%s:/other", kc);
	setenv("KUBECONFIG", env, 1);
	CHECK_INT(kube_config_load(NULL, NULL, &c, &err), 0);
	CHECK_STR(c.namespace, "ns1");
	CHECK_STR(c.source, kc);
	kube_config_clear(&c);
	CHECK_INT(kube_config_load(NULL, "b", &c, &err), 0);
	CHECK_STR(c.namespace, "default");
	kube_config_clear(&c);
	/* an explicit path wins */
	CHECK_INT(kube_config_load("/nonexistent/kc", NULL, &c, &err), -1);
	CHECK(err && strstr(err, "/nonexistent/kc"));
	free(err);
	err = NULL;
	/* nothing at all */
	{
		char *home = getenv("HOME") ? xstrdup(getenv("HOME")) : NULL;

		setenv("KUBECONFIG", "", 1);
		setenv("HOME", dir, 1);
		CHECK_INT(kube_config_load(NULL, NULL, &c, &err), -1);
		CHECK(err && strstr(err, "--kubeconfig"));
		free(err);
		if (home)
			setenv("HOME", home, 1);
		else
			unsetenv("HOME");
		free(home);
	}
	unsetenv("KUBECONFIG");
	unlink(kc);
	rmdir(dir);
	free(kc);
	free(env);
	free(dir);
}

/* ---- exec credentials -------------------------------------------------- */

TEST(exec_parse_fixture)
{
	char *text, *tok, *cert, *key, *err;
	size_t len;
	int64_t exp, want;

	text = read_fixture("exec-credential-output.json", &len);
	if (text == NULL) {
		CHECK(text != NULL);
		return;
	}
	CHECK_INT(kube_exec_parse(text, len, &tok, &cert, &key, &exp, &err),
	    0);
	CHECK_STR(tok, "k8s-aws-v1.fake-token-for-tests");
	CHECK(cert == NULL && key == NULL);
	CHECK(time_parse("2026-03-14T09:37:00Z", &want) == 0 && exp == want);
	free(tok);
	free(text);

	/* the input fixture has no status: not a credential */
	text = read_fixture("exec-credential-input-env.json", &len);
	CHECK(text != NULL);
	if (text) {
		CHECK_INT(kube_exec_parse(text, len, &tok, &cert, &key, &exp,
		    &err), -1);
		CHECK(err && strstr(err, "status"));
		free(err);
	}
	free(text);
	CHECK_INT(kube_exec_parse("{\"kind\":\"ExecCredential\",\"status\":"
	    "{}}", 37, &tok, &cert, &key, &exp, &err), -1);
	CHECK(err && strstr(err, "neither a token"));
	free(err);
	CHECK_INT(kube_exec_parse("nope", 4, &tok, &cert, &key, &exp, &err),
	    -1);
	free(err);
}

TEST(exec_runs_plugin)
{
	char *dir = make_tmpdir(), *script, *tok = NULL, *cert, *key, *err;
	struct kube_exec e = { 0 };
	char a0[] = "token", a1[] = "--cluster", a2[] = "prod";
	char e0[] = "AWS_PROFILE=remediation", av[] =
	    "client.authentication.k8s.io/v1", nope[] =
	    "no-such-plugin-anywhere";
	char *args[] = { a0, a1, a2 };
	char *env[] = { e0 };
	int64_t exp;

	if (dir == NULL) {
		CHECK(dir != NULL);
		return;
	}
	/* the plugin echoes what it got: args, env and the exec info */
	write_file(dir, "plugin", "#!/bin/sh\n"
	    "case \"$KUBERNETES_EXEC_INFO\" in *ExecCredential*) ;; "
	    "*) exit 3;; esac\n"
	    "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\","
	    "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"%s-%s-%s\","
	    "\"expirationTimestamp\":\"2030-01-01T00:00:00Z\"}}' "
	    "\"$1\" \"$3\" \"$AWS_PROFILE\"\n");
	script = xasprintf("%s/plugin", dir);
	chmod(script, 0755);
	e.command = script;
	e.args = args;
	e.nargs = 3;
	e.env = env;
	e.nenv = 1;
	e.api_version = av;
	CHECK_INT(kube_exec_credential(&e, "https://x", NULL, &tok, &cert, &key,
	    &exp, &err), 0);
	CHECK_STR(tok, "token-prod-remediation");
	free(tok);

	write_file(dir, "plugin", "#!/bin/sh\nexit 4\n");
	CHECK_INT(kube_exec_credential(&e, NULL, NULL, &tok, &cert, &key, &exp,
	    &err), -1);
	CHECK(err && strstr(err, "exit status 4"));
	free(err);

	e.command = nope;
	CHECK_INT(kube_exec_credential(&e, NULL, NULL, &tok, &cert, &key, &exp,
	    &err), -1);
	CHECK(err && strstr(err, "not found"));
	free(err);
	unlink(script);
	rmdir(dir);
	free(script);
	free(dir);
}

/* ---- Status errors ----------------------------------------------------- */

static const struct {
	const char	*file;
	long		 status;
	const char	*reason;
	const char	*message;	/* a substring */
	size_t		 ncauses;
	int		 retry_after;
} statuses[] = {
	{ "status-401-unauthorized.json", 401, "Unauthorized",
	    "Unauthorized", 0, -1 },
	{ "status-403-forbidden.json", 403, "Forbidden",
	    "cannot patch resource \"deployments\"", 0, -1 },
	{ "status-404-notfound-deployment.json", 404, "NotFound",
	    "deployments.apps \"checkout\" not found", 0, -1 },
	{ "status-404-notfound.json", 404, "NotFound",
	    "pods \"checkout-6d5f8b7c9d-zzzzz\" not found", 0, -1 },
	{ "status-404-unknown-resource.json", 404, "NotFound",
	    "the server could not find the requested resource", 0, -1 },
	{ "status-409-alreadyexists.json", 409, "AlreadyExists",
	    "already exists", 0, -1 },
	{ "status-409-apply-conflict.json", 409, "Conflict",
	    "Apply failed with 1 conflict", 1, -1 },
	{ "status-409-conflict-lease.json", 409, "Conflict",
	    "the object has been modified", 0, -1 },
	{ "status-409-conflict.json", 409, "Conflict",
	    "Operation cannot be fulfilled on deployments.apps", 0, -1 },
	{ "status-410-continue-expired.json", 410, "Expired",
	    "continue parameter is too old", 0, -1 },
	{ "status-410-expired.json", 410, "Expired",
	    "resourceVersion for the provided list is too old", 0, -1 },
	{ "status-415-smp-on-crd.json", 415, "UnsupportedMediaType",
	    "unknown format", 0, -1 },
	{ "status-422-invalid.json", 422, "Invalid",
	    "must be less than or equal to memory limit", 1, -1 },
	{ "status-422-jsonpatch-test-failed.json", 422, "Invalid",
	    "the server rejected our request", 0, -1 },
	{ "status-429-toomanyrequests.json", 429, "TooManyRequests",
	    "Too many requests", 0, 5 },
	{ "status-504-too-large-resource-version.json", 504, "Timeout",
	    "Too large resource version: 99999", 1, 1 },
};

TEST(status_fixtures)
{
	struct kube_error e;
	char *body, *t;
	size_t i, len;

	kube_error_init(&e);
	for (i = 0; i < UTIL_ARRAY_LEN(statuses); i++) {
		if ((body = read_fixture(statuses[i].file, &len)) == NULL) {
			CHECK(body != NULL);
			continue;
		}
		/* the HTTP status comes from the response line; 0 makes
		 * the parser take the body's code */
		kube_status_parse(i % 2 ? statuses[i].status : 0, body, len,
		    NULL, &e);
		CHECK_INT(e.status, statuses[i].status);
		CHECK_STR(e.reason, statuses[i].reason);
		CHECK(e.message && strstr(e.message, statuses[i].message));
		CHECK_INT(e.ncauses, statuses[i].ncauses);
		CHECK_INT(e.retry_after_s, statuses[i].retry_after);
		t = kube_error_text(&e);
		CHECK(strncmp(t, "4", 1) == 0 || strncmp(t, "5", 1) == 0);
		CHECK(strstr(t, statuses[i].message) != NULL);
		free(t);
		free(body);
	}
	kube_error_clear(&e);
}

TEST(status_causes_in_text)
{
	static const char body[] = "{\"kind\":\"Status\",\"code\":422,"
	    "\"reason\":\"Invalid\",\"message\":\"Deployment.apps \\\"x\\\" "
	    "is invalid\",\"details\":{\"causes\":[{\"field\":\"spec.a\","
	    "\"message\":\"Required value\"},{\"field\":\"spec.b\","
	    "\"reason\":\"FieldValueInvalid\"}]}}";
	struct kube_error e;
	char *t;

	kube_error_init(&e);
	kube_status_parse(422, body, sizeof body - 1, NULL, &e);
	CHECK_INT(e.ncauses, 2);
	CHECK_STR(e.causes[0].field, "spec.a");
	t = kube_error_text(&e);
	CHECK_STR(t, "422 Invalid: Deployment.apps \"x\" is invalid "
	    "[spec.a: Required value; spec.b: FieldValueInvalid]");
	free(t);
	kube_error_clear(&e);
}

TEST(status_429_text_plain)
{
	struct kube_error e;
	char *raw, *body, *ra, *t;
	size_t len;

	raw = read_fixture("http-429-apf.txt", &len);
	if (raw == NULL) {
		CHECK(raw != NULL);
		return;
	}
	/* split the recorded response as curl's callbacks would */
	body = strstr(raw, "\r\n\r\n");
	ra = strstr(raw, "Retry-After: ");
	CHECK(body != NULL && ra != NULL);
	if (body && ra) {
		char val[16];

		snprintf(val, sizeof val, "%.*s", (int)strcspn(ra + 13,
		    "\r\n"), ra + 13);
		body += 4;
		kube_error_init(&e);
		kube_status_parse(429, body, strlen(body), val, &e);
		CHECK_INT(e.status, 429);
		CHECK_STR(e.reason, NULL);
		CHECK_STR(e.message,
		    "Too many requests, please try again later.");
		CHECK_INT(e.retry_after_s, 1);
		t = kube_error_text(&e);
		CHECK_STR(t, "429 Too Many Requests: Too many requests, please "
		    "try again later. (retry after 1s)");
		free(t);
		kube_error_clear(&e);
	}
	free(raw);
}

TEST(status_odd_bodies)
{
	struct kube_error e;
	char big[2000];

	kube_error_init(&e);
	kube_status_parse(502, NULL, 0, NULL, &e);
	CHECK_STR(e.message, "the server answered 502 Bad Gateway");
	kube_status_parse(503, "<html>\n<body>  upstream\tdown</body>"
	    "</html>", 42, "abc", &e);
	CHECK_STR(e.message, "<html> <body> upstream down</body></html>");
	CHECK_INT(e.retry_after_s, -1);
	memset(big, 'x', sizeof big);
	kube_status_parse(500, big, sizeof big, "9999999", &e);
	CHECK(strlen(e.message) < 600);
	CHECK_INT(e.retry_after_s, -1);
	{
		static const char odd[] = "{\"kind\":\"Status\",\"details\":"
		    "{\"causes\":7}}";

		kube_status_parse(500, odd, sizeof odd - 1, NULL, &e);
	}
	CHECK_INT(e.ncauses, 0);
	CHECK_STR(e.message, "the server answered 500 Internal Server Error");
	kube_error_set(&e, "local %d", 7);
	CHECK_INT(e.status, 0);
	CHECK_STR(e.message, "local 7");
	kube_error_clear(&e);
}

/* ---- discovery fallback, paths, patch types ---------------------------- */

static const struct {
	const char	*api_version, *kind, *resource;
	int		 namespaced;
} builtin_cases[] = {
	{ "v1", "Pod", "pods", 1 },
	{ "v1", "Event", "events", 1 },
	{ "v1", "Namespace", "namespaces", 0 },
	{ "v1", "Node", "nodes", 0 },
	{ "apps/v1", "Deployment", "deployments", 1 },
	{ "apps/v1", "StatefulSet", "statefulsets", 1 },
	{ "apps/v1", "DaemonSet", "daemonsets", 1 },
	{ "apps/v1", "ReplicaSet", "replicasets", 1 },
	{ "batch/v1", "Job", "jobs", 1 },
	{ "batch/v1", "CronJob", "cronjobs", 1 },
	{ "events.k8s.io/v1", "Event", "events", 1 },
	{ "networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", 1 },
	{ "argoproj.io/v1alpha1", "Workflow", "workflows", 1 },
	{ "argoproj.io/v1alpha1", "Application", "applications", 1 },
	{ "kyverno.io/v1", "ClusterPolicy", "clusterpolicies", 0 },
	{ "coordination.k8s.io/v1", "Lease", "leases", 1 },
};

TEST(discovery_builtin)
{
	struct kube_resource r;
	struct kube_error e;
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(builtin_cases); i++) {
		CHECK_INT(kube_resource_builtin(builtin_cases[i].api_version,
		    builtin_cases[i].kind, &r), 0);
		CHECK_STR(r.resource, builtin_cases[i].resource);
		CHECK_INT(r.namespaced, builtin_cases[i].namespaced);
		kube_resource_clear(&r);
	}
	CHECK_INT(kube_resource_builtin("apps/v1beta1", "Deployment", &r),
	    -1);
	CHECK_INT(kube_resource_builtin("v1", "Deployment", &r), -1);
	CHECK_INT(kube_resource_builtin("v1", "Widget", &r), -1);
	kube_error_init(&e);
	CHECK_INT(kube_resource_for(NULL, "apps/v1", "StatefulSet", &r, &e),
	    0);
	CHECK_STR(r.group, "apps");
	CHECK_STR(r.version, "v1");
	kube_resource_clear(&r);
	CHECK_INT(kube_resource_for(NULL, "example.com/v1", "Widget", &r,
	    &e), -1);
	CHECK(e.message && strstr(e.message, "Widget"));
	kube_error_clear(&e);
}

TEST(resource_paths)
{
	struct kube_resource r;
	char *p;

	kube_resource_builtin("apps/v1", "Deployment", &r);
	p = kube_resource_path(&r, "shop", "checkout", NULL);
	CHECK_STR(p, "/apis/apps/v1/namespaces/shop/deployments/checkout");
	free(p);
	p = kube_resource_path(&r, NULL, NULL, NULL);
	CHECK_STR(p, "/apis/apps/v1/deployments");
	free(p);
	p = kube_resource_path(&r, "shop", "a b/c", "scale");
	CHECK_STR(p, "/apis/apps/v1/namespaces/shop/deployments/a%20b%2Fc/"
	    "scale");
	free(p);
	kube_resource_clear(&r);
	kube_resource_builtin("v1", "Node", &r);
	p = kube_resource_path(&r, "ignored", "n1", "status");
	CHECK_STR(p, "/api/v1/nodes/n1/status");
	free(p);
	kube_resource_clear(&r);
}

TEST(patch_types)
{
	enum kube_patch_type t;

	CHECK(kube_patch_type_parse("merge", &t) == 0 &&
	    t == KUBE_PATCH_MERGE);
	CHECK(kube_patch_type_parse("application/strategic-merge-patch+json",
	    &t) == 0 && t == KUBE_PATCH_STRATEGIC);
	CHECK(kube_patch_type_parse("json", &t) == 0 && t == KUBE_PATCH_JSON);
	CHECK(kube_patch_type_parse("apply", &t) == -1);
	CHECK(kube_patch_type_parse(NULL, &t) == -1);
	CHECK_STR(kube_patch_content_type(KUBE_PATCH_JSON),
	    "application/json-patch+json");
}

/* ---- bump-memory ------------------------------------------------------- */

static const struct {
	const char	*request, *limit, *increment, *cap;
	const char	*want_req, *want_lim;	/* NULL: an error */
	int		 at_cap, capped;
} bumps[] = {
	/* percent increments, binary suffixes */
	{ "256Mi", "512Mi", "25%", "8Gi", "320Mi", "640Mi", 0, 0 },
	{ "256Mi", "512Mi", "50%", NULL, "384Mi", "768Mi", 0, 0 },
	{ "1Gi", NULL, "25%", "8Gi", "1280Mi", "", 0, 0 },
	{ "100Mi", "100Mi", "12.5%", NULL, "115200Ki", "115200Ki", 0, 0 },
	{ "333Mi", NULL, "25%", NULL, "426240Ki", "", 0, 0 },
	{ "1Ki", NULL, "10%", NULL, "1127", "", 0, 0 },	/* ceil bytes */
	{ "1Ti", NULL, "100%", NULL, "2Ti", "", 0, 0 },
	{ "1Pi", NULL, "25%", "2Pi", "1280Ti", "", 0, 0 },
	/* decimal suffixes keep their format */
	{ "1G", "2G", "25%", NULL, "1250M", "2500M", 0, 0 },
	{ "500M", NULL, "10%", NULL, "550M", "", 0, 0 },
	{ "1000k", NULL, "25%", NULL, "1250k", "", 0, 0 },
	{ "268435456", NULL, "25%", NULL, "335544320", "", 0, 0 },
	{ "1e9", NULL, "25%", NULL, "1250e6", "", 0, 0 },
	/* absolute increments */
	{ "256Mi", "512Mi", "128Mi", NULL, "384Mi", "640Mi", 0, 0 },
	{ "256Mi", NULL, "100M", NULL, "368435456", "", 0, 0 },
	/* limit below the new request (grows past it), above it */
	{ "256Mi", "300Mi", "25%", NULL, "320Mi", "375Mi", 0, 0 },
	{ "256Mi", "257Mi", "64Mi", NULL, "320Mi", "321Mi", 0, 0 },
	{ "256Mi", "4Gi", "25%", "8Gi", "320Mi", "5Gi", 0, 0 },
	/* the cap bounds the request and the limit */
	{ "7Gi", "7Gi", "25%", "8Gi", "8Gi", "8Gi", 0, 1 },
	{ "7Gi", "7500Mi", "25%", "8Gi", "8Gi", "8Gi", 0, 1 },
	{ "6Gi", "7Gi", "25%", "8Gi", "7680Mi", "8Gi", 0, 0 },
	{ "6Gi", "16Gi", "25%", "8Gi", "7680Mi", "16Gi", 0, 0 },
	{ "6000Mi", NULL, "50%", "8G", "8G", "", 0, 1 },
	/* at the cap: nothing to do */
	{ "8Gi", "8Gi", "25%", "8Gi", "8Gi", "8Gi", 1, 0 },
	{ "9Gi", NULL, "25%", "8Gi", "9Gi", "", 1, 0 },
	{ "8589934592", NULL, "25%", "8Gi", "8589934592", "", 1, 0 },
	/* only a limit: the request starts from it */
	{ NULL, "512Mi", "25%", NULL, "640Mi", "640Mi", 0, 0 },
	/* errors */
	{ NULL, NULL, "25%", NULL, NULL, NULL, 0, 0 },
	{ "lots", NULL, "25%", NULL, NULL, NULL, 0, 0 },
	{ "256Mi", "-1", "25%", NULL, NULL, NULL, 0, 0 },
	{ "8Ei", NULL, "100%", NULL, NULL, NULL, 0, 0 },
	/* a percentage of a zero request is nothing: no "raise" of 0 -> 0 */
	{ "0", NULL, "25%", "8Gi", NULL, NULL, 0, 0 },
	{ "0", "0", "25%", NULL, NULL, NULL, 0, 0 },
	{ "0", "512Mi", "25%", NULL, "0", "640Mi", 0, 0 },
	{ "0", NULL, "64Mi", NULL, "67108864", "", 0, 0 },
};

TEST(bump_compute_table)
{
	struct kube_bump_opts o;
	struct kube_bump_result r;
	char *err;
	size_t i;
	int rc;

	for (i = 0; i < UTIL_ARRAY_LEN(bumps); i++) {
		memset(&o, 0, sizeof o);
		CHECK_INT(kube_bump_parse_increment(bumps[i].increment, &o),
		    0);
		if (bumps[i].cap) {
			CHECK_INT(quantity_parse(bumps[i].cap, &o.cap), 0);
			o.has_cap = 1;
		}
		err = NULL;
		rc = kube_bump_compute(bumps[i].request, bumps[i].limit, NULL,
		    &o, &r, &err);
		if (bumps[i].want_req == NULL) {
			CHECK_INT(rc, -1);
			CHECK(err != NULL);
			free(err);
			continue;
		}
		if (rc != 0 || strcmp(r.request_new, bumps[i].want_req) != 0 ||
		    strcmp(r.limit_new, bumps[i].want_lim) != 0)
			fprintf(stderr, "bump case %zu (%s/%s +%s): got %s/%s "
			    "(%s)\n", i, bumps[i].request, bumps[i].limit,
			    bumps[i].increment, r.request_new, r.limit_new,
			    err ? err : "");
		CHECK_INT(rc, 0);
		CHECK_STR(r.request_new, bumps[i].want_req);
		CHECK_STR(r.limit_new, bumps[i].want_lim);
		CHECK_INT(r.at_cap, bumps[i].at_cap);
		CHECK_INT(r.capped, bumps[i].capped);
		CHECK_INT(r.limit_from_pod, 0);
		free(err);
	}
}

/*
 * The template sets no limit and the pod runs with one (a LimitRange
 * default): the kill was at that limit, so it grows as a template limit
 * would; raising only the request would fix nothing, and a request above
 * the defaulted limit makes the API server refuse the new pods.
 */
static const struct {
	const char	*request, *limit, *pod_limit, *cap;
	const char	*want_req, *want_lim;	/* NULL: an error */
	int		 at_cap, from_pod;
} pod_bumps[] = {
	{ "256Mi", NULL, "300Mi", "8Gi", "320Mi", "375Mi", 0, 1 },
	{ "0", NULL, "300Mi", NULL, "0", "375Mi", 0, 1 },
	/* the template's limit wins over the pod's */
	{ "256Mi", "512Mi", "300Mi", NULL, "320Mi", "640Mi", 0, 0 },
	/* a template request above the pod's limit: the limit follows */
	{ "512Mi", NULL, "300Mi", NULL, "640Mi", "640Mi", 0, 1 },
	/* the cap bounds the pod's limit, and never lowers it */
	{ "6Gi", NULL, "7Gi", "8Gi", "7680Mi", "8Gi", 0, 1 },
	{ "256Mi", NULL, "16Gi", "8Gi", "320Mi", "16Gi", 0, 1 },
	{ "8Gi", NULL, "9Gi", "8Gi", "8Gi", "9Gi", 1, 1 },
	/* no template request: which one the pod got is not ours to guess */
	{ NULL, NULL, "300Mi", NULL, NULL, NULL, 0, 0 },
	{ "256Mi", NULL, "lots", NULL, NULL, NULL, 0, 0 },
};

TEST(bump_compute_grows_the_pods_limit)
{
	struct kube_bump_opts o;
	struct kube_bump_result r;
	char *err;
	size_t i;
	int rc;

	for (i = 0; i < UTIL_ARRAY_LEN(pod_bumps); i++) {
		memset(&o, 0, sizeof o);
		CHECK_INT(kube_bump_parse_increment("25%", &o), 0);
		if (pod_bumps[i].cap) {
			CHECK_INT(quantity_parse(pod_bumps[i].cap, &o.cap), 0);
			o.has_cap = 1;
		}
		err = NULL;
		rc = kube_bump_compute(pod_bumps[i].request,
		    pod_bumps[i].limit, pod_bumps[i].pod_limit, &o, &r, &err);
		if (pod_bumps[i].want_req == NULL) {
			CHECK_INT(rc, -1);
			CHECK(err != NULL);
			free(err);
			continue;
		}
		if (rc != 0 || strcmp(r.request_new, pod_bumps[i].want_req) !=
		    0 || strcmp(r.limit_new, pod_bumps[i].want_lim) != 0)
			fprintf(stderr, "pod bump case %zu: got %s/%s (%s)\n",
			    i, r.request_new, r.limit_new, err ? err : "");
		CHECK_INT(rc, 0);
		CHECK_STR(r.request_new, pod_bumps[i].want_req);
		CHECK_STR(r.limit_new, pod_bumps[i].want_lim);
		CHECK_INT(r.at_cap, pod_bumps[i].at_cap);
		CHECK_INT(r.limit_from_pod, pod_bumps[i].from_pod);
		free(err);
	}
}

/*
 * What a bump changes, in words, and the errors that tell the user what
 * to do: the pod's limit is named, and where it came from.
 */
TEST(bump_pod_limit_is_named)
{
	struct kube_bump_opts o = { 0 };
	struct kube_bump_result r;
	json_t *pod;
	char *err = NULL, *s;

	CHECK_INT(kube_bump_parse_increment("25%", &o), 0);
	pod = json_pack("{s:{s:[{s:s, s:{s:{s:s}}}, {s:s}], s:[{s:s, "
	    "s:{s:{s:s}}}]}}", "spec", "containers", "name", "app",
	    "resources", "limits", "memory", "300Mi", "name", "side",
	    "initContainers", "name", "app", "resources", "limits", "memory",
	    "1Gi");
	CHECK_STR(kube_bump_pod_limit(pod, "app", 0), "300Mi");
	CHECK_STR(kube_bump_pod_limit(pod, "app", 1), "1Gi");
	CHECK(kube_bump_pod_limit(pod, "side", 0) == NULL);
	CHECK(kube_bump_pod_limit(pod, "gone", 0) == NULL);
	CHECK(kube_bump_pod_limit(NULL, "app", 0) == NULL);
	json_decref(pod);

	CHECK_INT(kube_bump_compute("256Mi", NULL, "300Mi", &o, &r, &err), 0);
	s = kube_bump_change_text(&r);
	CHECK_STR(s, "request 256Mi -> 320Mi, limit 300Mi (the pod's, not in "
	    "the template) -> 375Mi");
	free(s);
	CHECK_INT(kube_bump_compute("256Mi", "512Mi", "300Mi", &o, &r, &err),
	    0);
	s = kube_bump_change_text(&r);
	CHECK_STR(s, "request 256Mi -> 320Mi, limit 512Mi -> 640Mi");
	free(s);
	CHECK_INT(kube_bump_compute("256Mi", NULL, NULL, &o, &r, &err), 0);
	s = kube_bump_change_text(&r);
	CHECK_STR(s, "request 256Mi -> 320Mi");
	free(s);

	CHECK_INT(kube_bump_compute(NULL, NULL, "300Mi", &o, &r, &err), -1);
	CHECK_STR(err, "the pod template sets no memory request or limit, and "
	    "the pod runs with limit 300Mi (from a LimitRange or an admission "
	    "webhook): set the memory request and limit in the template");
	free(err);
}

/* The refusal says what to do instead. */
TEST(bump_zero_request_is_nothing_to_raise)
{
	struct kube_bump_opts o = { 0 };
	struct kube_bump_result r;
	char *err = NULL;

	CHECK_INT(kube_bump_parse_increment("25%", &o), 0);
	CHECK_INT(kube_bump_compute("0", NULL, NULL, &o, &r, &err), -1);
	CHECK_STR(err, "a percentage of a memory request of 0 is nothing: "
	    "nothing to raise; use an absolute increment (256Mi)");
	free(err);
}

TEST(bump_increment_parse)
{
	struct kube_bump_opts o;

	CHECK(kube_bump_parse_increment("25%", &o) == 0 && o.percent);
	CHECK(kube_bump_parse_increment("0.5%", &o) == 0 && o.percent);
	CHECK(kube_bump_parse_increment("256Mi", &o) == 0 && !o.percent);
	CHECK(kube_bump_parse_increment("0%", &o) == -1);
	CHECK(kube_bump_parse_increment("-10%", &o) == -1);
	CHECK(kube_bump_parse_increment("%", &o) == -1);
	CHECK(kube_bump_parse_increment("25Mi%", &o) == -1);
	CHECK(kube_bump_parse_increment("", &o) == -1);
	CHECK(kube_bump_parse_increment("lots", &o) == -1);
}

TEST(bump_patch_matches_fixture)
{
	struct kube_bump_opts o = { 0 };
	struct kube_bump_result r;
	json_t *patch, *want, *ann;
	char *text, *err = NULL;
	size_t len;

	text = read_fixture("patch-deployment-memory.strategic-merge.json",
	    &len);
	if (text == NULL) {
		CHECK(text != NULL);
		return;
	}
	want = json_loadb(text, len, 0, NULL);
	free(text);
	CHECK(want != NULL);
	CHECK_INT(kube_bump_parse_increment("50%", &o), 0);
	CHECK_INT(kube_bump_compute("256Mi", "512Mi", NULL, &o, &r, &err), 0);
	patch = kube_bump_patch("app", 0, "48213", &r, NULL);
	CHECK(json_equal(patch, want));
	json_decref(patch);

	/* with the change recorded: the fixture plus one annotation */
	patch = kube_bump_patch("app", 0, "48213", &r, "{\"container\":"
	    "\"app\"}");
	ann = json_object_get(json_object_get(patch, "metadata"),
	    "annotations");
	CHECK_STR(json_string_value(json_object_get(ann,
	    "remediation.platform/last-change")), "{\"container\":\"app\"}");
	json_object_del(ann, "remediation.platform/last-change");
	CHECK(json_equal(patch, want));
	json_decref(patch);

	/* init containers and no limit */
	CHECK_INT(kube_bump_compute("64Mi", NULL, NULL, &o, &r, &err), 0);
	patch = kube_bump_patch("setup", 1, NULL, &r, NULL);
	text = json_dumps(patch, JSON_COMPACT | JSON_SORT_KEYS);
	CHECK_STR(text, "{\"metadata\":{\"annotations\":{\"remediation."
	    "platform/last-action\":\"memory-request-raise\"}},\"spec\":{"
	    "\"template\":{\"spec\":{\"initContainers\":[{\"name\":\"setup\","
	    "\"resources\":{\"requests\":{\"memory\":\"96Mi\"}}}]}}}}");
	free(text);
	json_decref(patch);
	json_decref(want);
}

/* ---- Events ------------------------------------------------------------ */

TEST(event_object)
{
	json_t *ref, *ev;
	int64_t now;
	char big[3000];

	time_parse("2026-03-14T09:22:03.250Z", &now);
	ref = json_pack("{s:s, s:s, s:s, s:s, s:s}", "apiVersion", "apps/v1",
	    "kind", "Deployment", "namespace", "shop", "name", "checkout",
	    "uid", "8f2b");
	ev = kube_event_object(ref, "Remediated", "raised memory", "Normal",
	    now, "host-1");
	CHECK_STR(json_string_value(json_object_get(ev, "kind")), "Event");
	CHECK_STR(json_string_value(json_object_get(json_object_get(ev,
	    "metadata"), "namespace")), "shop");
	CHECK(strncmp(json_string_value(json_object_get(json_object_get(ev,
	    "metadata"), "name")), "checkout.", 9) == 0);
	CHECK(json_equal(json_object_get(ev, "involvedObject"), ref));
	CHECK_STR(json_string_value(json_object_get(ev, "reason")),
	    "Remediated");
	CHECK_STR(json_string_value(json_object_get(ev, "firstTimestamp")),
	    "2026-03-14T09:22:03Z");
	CHECK_STR(json_string_value(json_object_get(ev, "reportingInstance")),
	    "host-1");
	CHECK_INT(json_integer_value(json_object_get(ev, "count")), 1);
	json_decref(ev);
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ev = kube_event_object(ref, "RemediationFailed", big, "Warning", now,
	    NULL);
	CHECK_INT(strlen(json_string_value(json_object_get(ev, "message"))),
	    1024);
	CHECK_STR(json_string_value(json_object_get(ev, "type")), "Warning");
	json_decref(ev);
	json_decref(ref);
}

/*
 * After a 409 the fresh workload tells our own committed write (lost to a
 * 5xx, resent with a stale resourceVersion) from someone else's change:
 * only the first is done already; bumping again would count one kill twice.
 */
static json_t *
workload_with(const char *list, const char *req, const char *lim,
    const char *note)
{
	json_t *w = json_pack("{s:{s:s, s:{}}, "
	    "s:{s:{s:{s:[{s:s, s:{s:{s:s}}}]}}}}", "metadata", "name",
	    "checkout", "annotations", "spec", "template", "spec", list,
	    "name", "app", "resources", "requests", "memory", req);
	json_t *res = json_object_get(json_array_get(json_object_get(
	    json_object_get(json_object_get(json_object_get(w, "spec"),
	    "template"), "spec"), list), 0), "resources");

	if (lim)
		json_object_set_new(res, "limits", json_pack("{s:s}", "memory",
		    lim));
	if (note)
		json_object_set_new(json_object_get(json_object_get(w,
		    "metadata"), "annotations"),
		    "remediation.platform/last-change", json_string(note));
	return w;
}

TEST(bump_applied_knows_its_own_write)
{
	static const char *ours = "{\"requestTo\":\"320Mi\",\"time\":\"t1\"}";
	static const struct {
		const char	*list, *req, *lim, *note;
		int		 want;
	} cases[] = {
		/* what our patch left: done */
		{ "containers", "320Mi", "640Mi", NULL, 1 },
		/* the same amounts printed otherwise */
		{ "containers", "327680Ki", "655360Ki", NULL, 1 },
		/* someone else's change: not ours, recompute */
		{ "containers", "256Mi", "512Mi", NULL, 0 },
		{ "containers", "300Mi", "512Mi", NULL, 0 },
		/* our note, but the values changed since: not as we left it */
		{ "containers", "400Mi", "800Mi", NULL, 0 },
		{ "containers", "320Mi", "800Mi", NULL, 0 },
		{ "containers", "320Mi", NULL, NULL, 0 },
		/* our values, another decision's note */
		{ "containers", "320Mi", "640Mi", "{\"time\":\"t0\"}", 0 },
		{ "containers", "320Mi", "640Mi", "", 0 },
		/* the container is an init container there */
		{ "initContainers", "320Mi", "640Mi", NULL, 0 },
	};
	struct kube_bump_opts o = { 0 };
	struct kube_bump_result r, nolim;
	json_t *patch, *w;
	char *err = NULL;
	size_t i;

	CHECK_INT(kube_bump_parse_increment("25%", &o), 0);
	CHECK_INT(kube_bump_compute("256Mi", "512Mi", NULL, &o, &r, &err), 0);
	patch = kube_bump_patch("app", 0, "41", &r, ours);
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		w = workload_with(cases[i].list, cases[i].req, cases[i].lim,
		    cases[i].note ? cases[i].note : ours);
		if (kube_bump_applied(w, patch) != cases[i].want)
			fprintf(stderr, "applied case %zu\n", i);
		CHECK_INT(kube_bump_applied(w, patch), cases[i].want);
		json_decref(w);
	}
	/* no note on the workload at all */
	w = workload_with("containers", "320Mi", "640Mi", NULL);
	json_object_del(json_object_get(json_object_get(w, "metadata"),
	    "annotations"), "remediation.platform/last-change");
	CHECK_INT(kube_bump_applied(w, patch), 0);
	json_decref(w);
	json_decref(patch);

	/* an init container; a patch that sets no limit checks none */
	CHECK_INT(kube_bump_compute("256Mi", NULL, NULL, &o, &nolim, &err), 0);
	patch = kube_bump_patch("app", 1, "41", &nolim, ours);
	w = workload_with("initContainers", "320Mi", "1Gi", ours);
	CHECK_INT(kube_bump_applied(w, patch), 1);
	json_decref(w);
	w = workload_with("containers", "320Mi", NULL, ours);
	CHECK_INT(kube_bump_applied(w, patch), 0);
	json_decref(w);
	json_decref(patch);

	/* a patch without a note cannot be told from anyone's */
	patch = kube_bump_patch("app", 0, "41", &r, NULL);
	w = workload_with("containers", "320Mi", "640Mi", ours);
	CHECK_INT(kube_bump_applied(w, patch), 0);
	json_decref(w);
	json_decref(patch);
}

/* ---- the request loop and its gate -------------------------------------- */

#define MAX_ANSWERS 8

/* A loopback API server: answers[i] to the i-th request, then closes. */
struct server {
	int		 fd;
	unsigned	 port;
	pthread_t	 th;
	struct {
		int		 status;
		int		 retry_after;	/* s; 0: no header */
	}		 answers[MAX_ANSWERS];
	int		 want;
	char		 bearer[MAX_ANSWERS][32];	/* token sent */
	/* requests read, counted before the answer goes out: a gate
	   reading it has seen what the client was answered */
	atomic_int	 got;
};

static void *
serve(void *arg)
{
	struct server *sv = arg;
	char buf[8192], resp[512], ra[64], *auth;
	int i, c;
	size_t len;
	ssize_t k;

	for (i = 0; i < sv->want; i++) {
		if ((c = accept(sv->fd, NULL, NULL)) < 0)
			break;
		len = 0;
		/* the requests of this test have small bodies, sent with
		   their headers */
		while (len < sizeof buf - 1 && (k = read(c, buf + len,
		    sizeof buf - 1 - len)) > 0) {
			len += (size_t)k;
			buf[len] = '\0';
			if (strstr(buf, "\r\n\r\n"))
				break;
		}
		if ((auth = strstr(buf, "Authorization: Bearer ")) != NULL)
			snprintf(sv->bearer[i], sizeof sv->bearer[i], "%.*s",
			    (int)strcspn(auth + 22, "\r\n"), auth + 22);
		atomic_fetch_add(&sv->got, 1);
		ra[0] = '\0';
		if (sv->answers[i].retry_after)
			snprintf(ra, sizeof ra, "Retry-After: %d\r\n",
			    sv->answers[i].retry_after);
		snprintf(resp, sizeof resp, "HTTP/1.1 %d X\r\n%s"
		    "Content-Type: application/json\r\nContent-Length: 2\r\n"
		    "Connection: close\r\n\r\n{}", sv->answers[i].status, ra);
		(void)!write(c, resp, strlen(resp));
		close(c);
	}
	return NULL;
}

static void
server_start(struct server *sv, int want)
{
	struct sockaddr_in a;
	socklen_t al = sizeof a;
	int one = 1;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sv->fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(sv->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	bind(sv->fd, (struct sockaddr *)&a, sizeof a);
	listen(sv->fd, 16);
	getsockname(sv->fd, (struct sockaddr *)&a, &al);
	sv->port = ntohs(a.sin_port);
	sv->want = want;
	atomic_store(&sv->got, 0);
	pthread_create(&sv->th, NULL, serve, sv);
}

static void
server_stop(struct server *sv)
{
	shutdown(sv->fd, SHUT_RDWR);
	close(sv->fd);
	pthread_join(sv->th, NULL);
}

static struct kube_client *
loopback_client(const struct server *sv)
{
	struct kube_config cfg;
	struct kube_client *c;
	char *err = NULL;

	memset(&cfg, 0, sizeof cfg);
	cfg.server = xasprintf("http://127.0.0.1:%u", sv->port);
	cfg.namespace = xstrdup("default");
	c = kube_client_new(&cfg, &err);
	if (c == NULL)
		fprintf(stderr, "kube_client_new: %s\n", err);
	free(err);
	kube_config_clear(&cfg);
	return c;
}

/* The test's gate: open until the server has read close_at requests. */
static struct server *gated;
static int close_at;
static int gate_asked;
static char gate_why[] = "the test closed the gate";

static const char *
test_gate(void *ctx)
{
	(void)ctx;
	gate_asked++;
	return atomic_load(&gated->got) >= close_at ? gate_why : NULL;
}

/* A POST the way an action sends it, retried as r says. */
static int
post(struct kube_client *c, const struct retry *r, struct kube_error *e)
{
	struct kube_response resp;
	struct kube_req rq;
	int rc;

	memset(&rq, 0, sizeof rq);
	rq.method = "POST";
	rq.path = "/apis/argoproj.io/v1alpha1/namespaces/argo-events/"
	    "workflows";
	rq.content_type = "application/json";
	rq.body = "{}";
	rq.len = 2;
	rq.retry = r;
	rc = kube_request(c, &rq, &resp, e);
	kube_response_clear(&resp);
	return rc;
}

TEST(request_asks_the_gate_before_every_attempt)
{
	struct server sv;
	struct kube_client *c;
	struct kube_error e;
	struct retry r;

	memset(&sv, 0, sizeof sv);
	sv.answers[0].status = 429;
	sv.answers[0].retry_after = 1;
	sv.answers[1].status = 201;
	server_start(&sv, 2);
	REQUIRE((c = loopback_client(&sv)) != NULL);
	kube_error_init(&e);
	retry_default(&r);
	gated = &sv;
	retry_gate_on(test_gate, NULL);

	/* closed from the start: nothing is sent */
	close_at = 0;
	gate_asked = 0;
	CHECK_INT(post(c, &r, &e), -1);
	CHECK_INT(atomic_load(&sv.got), 0);
	CHECK_INT(e.attempts, 0);
	CHECK(e.message && strstr(e.message, "POST http://127.0.0.1:") &&
	    strstr(e.message, "/workflows: not sent: the test closed the "
	    "gate") && !strstr(e.message, "attempt"));

	/* open all along: the 429 is retried after its Retry-After */
	close_at = 100;
	gate_asked = 0;
	CHECK_INT(post(c, &r, &e), 0);
	CHECK_INT(atomic_load(&sv.got), 2);
	CHECK_INT(e.attempts, 2);
	CHECK(gate_asked >= 2);
	server_stop(&sv);

	retry_gate_on(NULL, NULL);
	kube_error_clear(&e);
	kube_client_free(c);
}

/*
 * A thread every decision waits on (kube_thread_policy, with
 * after_capped): a 429 asking for longer than the policy's cap fails at
 * once, one asking for less is waited out and retried.  A wait that did
 * not end would hold the test 30 s; a retry sent would be answered 200.
 */
TEST(thread_policy_fails_a_retry_after_longer_than_its_cap)
{
	static const struct retry brief = { 2, 200, 2.0, 0.0, 1000, 1 };
	struct server sv;
	struct kube_client *c;
	struct kube_error e;
	int rc;

	memset(&sv, 0, sizeof sv);
	sv.answers[0].status = 429;
	sv.answers[0].retry_after = 30;
	sv.answers[1].status = 200;
	server_start(&sv, 2);
	REQUIRE((c = loopback_client(&sv)) != NULL);
	kube_error_init(&e);
	kube_thread_policy(&brief, 2000);
	rc = post(c, NULL, &e);		/* the thread's policy */
	CHECK_INT(rc, -1);
	CHECK_INT(atomic_load(&sv.got), 1);
	CHECK_INT(e.status, 429);
	kube_error_clear(&e);
	server_stop(&sv);
	kube_client_free(c);

	memset(&sv, 0, sizeof sv);
	sv.answers[0].status = 429;
	sv.answers[0].retry_after = 1;
	sv.answers[1].status = 200;
	server_start(&sv, 2);
	REQUIRE((c = loopback_client(&sv)) != NULL);
	kube_error_init(&e);
	rc = post(c, NULL, &e);
	CHECK_INT(rc, 0);
	CHECK_INT(atomic_load(&sv.got), 2);
	kube_thread_policy(NULL, 0);
	kube_error_clear(&e);
	server_stop(&sv);
	kube_client_free(c);
}

TEST(request_gate_closing_in_a_backoff_stops_the_retry)
{
	struct server sv;
	struct kube_client *c;
	struct kube_error e;
	struct retry r;

	/*
	 * A 429 that asks for a minute, and the gate closes once it is
	 * answered (a leader's fence closing during the wait): the wait
	 * ends and the retry is never sent.  A wait that did not end
	 * would hold the test a minute; a retry sent would be answered 201.
	 */
	memset(&sv, 0, sizeof sv);
	sv.answers[0].status = 429;
	sv.answers[0].retry_after = 60;
	sv.answers[1].status = 201;
	server_start(&sv, 2);
	REQUIRE((c = loopback_client(&sv)) != NULL);
	kube_error_init(&e);
	retry_default(&r);
	gated = &sv;
	close_at = 1;
	retry_gate_on(test_gate, NULL);
	CHECK_INT(post(c, &r, &e), -1);
	CHECK_INT(atomic_load(&sv.got), 1);
	CHECK_INT(e.attempts, 1);
	CHECK_INT(e.status, 0);
	CHECK(e.message && strstr(e.message, "/workflows: not sent: the test "
	    "closed the gate (attempt 2; attempt 1: 429 ") &&
	    strstr(e.message, "(retry after 60s))"));
	server_stop(&sv);

	/* a retryStrategy's retries of a 503 are gated the same way */
	memset(&sv, 0, sizeof sv);
	sv.answers[0].status = 503;
	sv.answers[1].status = 503;
	sv.answers[2].status = 201;
	server_start(&sv, 3);
	kube_client_free(c);
	REQUIRE((c = loopback_client(&sv)) != NULL);
	r.steps = 5;
	r.duration_ms = 10;
	r.jitter = 0;
	close_at = 2;
	CHECK_INT(post(c, &r, &e), -1);
	CHECK_INT(atomic_load(&sv.got), 2);
	CHECK(e.message && strstr(e.message, "not sent: the test closed the "
	    "gate (attempt 3; attempt 2: 503 "));
	server_stop(&sv);

	retry_gate_on(NULL, NULL);
	kube_error_clear(&e);
	kube_client_free(c);
}

/* ---- exec plugin refreshes and the client's lock ------------------------ */

/*
 * A plugin whose runs the test steers: it counts them in DIR/runs; run N
 * answers tN, expiring in 2030 or, run 1 when wait_run is 2, in 8 s
 * (within the refresh margin, still valid); run wait_run waits for DIR/go (bounded: 10 s) before it answers;
 * a run that finds DIR/fail fails.
 */
static void
write_steered_plugin(const char *dir, int wait_run)
{
	char *text = xasprintf("#!/bin/sh\n"
	    "d=%s\nw=%d\necho run >> $d/runs\nn=$(wc -l < $d/runs)\n"
	    "[ -e $d/fail ] && exit 5\n"
	    "exp=2030-01-01T00:00:00Z\n"
	    "[ $n$w = 12 ] && exp=$(date -u -d @$(($(date +%%s) + 8)) "
	    "+%%Y-%%m-%%dT%%H:%%M:%%SZ)\n"
	    "if [ $n = $w ]; then i=0; while [ ! -e $d/go ] && "
	    "[ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; fi\n"
	    "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\","
	    "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t%%s\","
	    "\"expirationTimestamp\":\"%%s\"}}' $n $exp\n", dir, wait_run);
	char *path = xasprintf("%s/plugin", dir);

	write_file(dir, "plugin", text);
	chmod(path, 0755);
	free(path);
	free(text);
}

static int
plugin_runs(const char *dir)
{
	char *path = xasprintf("%s/runs", dir), *text, *e = NULL, *p;
	size_t len;
	int n = 0;

	if ((text = util_read_file(path, 1 << 16, &len, &e)) != NULL)
		for (p = text; (p = strchr(p, '\n')) != NULL; p++)
			n++;
	free(e);
	free(text);
	free(path);
	return n;
}

/* Bounded: until the plugin has started its n-th run. */
static void
wait_runs(const char *dir, int n)
{
	int i;

	for (i = 0; i < 3000 && plugin_runs(dir) < n; i++)
		usleep(10000);
}

static struct kube_client *
exec_client(const struct server *sv, const char *dir)
{
	struct kube_config cfg;
	struct kube_exec *x = xcalloc(1, sizeof *x);
	struct kube_client *c;
	char *err = NULL;

	memset(&cfg, 0, sizeof cfg);
	cfg.server = xasprintf("http://127.0.0.1:%u", sv->port);
	cfg.namespace = xstrdup("default");
	x->command = xasprintf("%s/plugin", dir);
	x->args = xcalloc(1, sizeof *x->args);
	x->env = xcalloc(1, sizeof *x->env);
	cfg.exec = x;
	c = kube_client_new(&cfg, &err);
	if (c == NULL)
		fprintf(stderr, "kube_client_new: %s\n", err);
	free(err);
	kube_config_clear(&cfg);
	return c;
}

static int
get_ns(struct kube_client *c, struct kube_error *e)
{
	struct kube_response resp;
	struct kube_req rq;
	struct retry r;
	int rc;

	memset(&rq, 0, sizeof rq);
	retry_default(&r);
	r.steps = 1;
	rq.method = "GET";
	rq.path = "/api/v1/namespaces/default";
	rq.retry = &r;
	rc = kube_request(c, &rq, &resp, e);
	kube_response_clear(&resp);
	return rc;
}

struct getter {
	struct kube_client	*c;
	struct kube_error	 e;
	int			 rc;
};

static void *
getter_main(void *arg)
{
	struct getter *g = arg;

	kube_error_init(&g->e);
	g->rc = get_ns(g->c, &g->e);
	return NULL;
}

static void
clean_steered(char *dir)
{
	const char *f[] = { "plugin", "runs", "go", "fail" };
	char *p;
	size_t i;

	for (i = 0; i < sizeof f / sizeof *f; i++) {
		p = xasprintf("%s/%s", dir, f[i]);
		unlink(p);
		free(p);
	}
	rmdir(dir);
	free(dir);
}

TEST(exec_refresh_does_not_hold_the_client)
{
	char *dir = make_tmpdir();
	struct server sv;
	struct kube_client *c;
	struct kube_error e;
	int i;

	REQUIRE(dir != NULL);
	/*
	 * t1 is due for a refresh but still valid: the refresh (run 2, which
	 * hangs until the test says go) holds up none of the requests, which
	 * go on with t1, and it runs once, not once per request.  Made under
	 * the client's lock, it held every request until it ended, and they
	 * went with t2.
	 */
	write_steered_plugin(dir, 2);
	memset(&sv, 0, sizeof sv);
	for (i = 0; i < 3; i++)
		sv.answers[i].status = 200;
	server_start(&sv, 3);
	REQUIRE((c = exec_client(&sv, dir)) != NULL);
	kube_error_init(&e);
	CHECK_INT(get_ns(c, &e), 0);
	CHECK_STR(sv.bearer[0], "t1");
	CHECK_INT(get_ns(c, &e), 0);
	CHECK_STR(sv.bearer[1], "t1");
	CHECK_INT(get_ns(c, &e), 0);
	CHECK_STR(sv.bearer[2], "t1");
	wait_runs(dir, 2);
	CHECK_INT(plugin_runs(dir), 2);
	write_file(dir, "go", "");
	server_stop(&sv);
	kube_client_free(c);	/* waits for the refresh under way */
	kube_error_clear(&e);
	clean_steered(dir);
}

TEST(exec_expired_waits_for_one_run)
{
	char *dir = make_tmpdir(), *p;
	struct server sv;
	struct kube_client *c;
	struct getter g[3];
	pthread_t th[3];
	int i;

	REQUIRE(dir != NULL);
	/* no credential yet: three requests at once wait for one run */
	write_steered_plugin(dir, 1);
	memset(&sv, 0, sizeof sv);
	for (i = 0; i < 4; i++)
		sv.answers[i].status = 200;
	server_start(&sv, 4);
	REQUIRE((c = exec_client(&sv, dir)) != NULL);
	for (i = 0; i < 3; i++) {
		g[i].c = c;
		pthread_create(&th[i], NULL, getter_main, &g[i]);
	}
	wait_runs(dir, 1);
	/* the rest of the client does not wait for the plugin either */
	kube_client_set_timeout(c, KUBE_TIMEOUT_MS);
	write_file(dir, "go", "");
	for (i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		CHECK_INT(g[i].rc, 0);
		CHECK_STR(sv.bearer[i], "t1");
		kube_error_clear(&g[i].e);
	}
	CHECK_INT(plugin_runs(dir), 1);

	/* a failed run is reported, not kept: the next request runs it */
	kube_client_free(c);
	REQUIRE((c = exec_client(&sv, dir)) != NULL);
	write_file(dir, "fail", "");
	g[0].c = c;
	getter_main(&g[0]);
	CHECK_INT(g[0].rc, -1);
	CHECK(g[0].e.message && strstr(g[0].e.message, "credentials: exec "
	    "plugin") && strstr(g[0].e.message, "exit status 5"));
	kube_error_clear(&g[0].e);
	p = xasprintf("%s/fail", dir);
	unlink(p);
	free(p);
	getter_main(&g[0]);
	CHECK_INT(g[0].rc, 0);
	CHECK_STR(sv.bearer[3], "t3");
	kube_error_clear(&g[0].e);
	server_stop(&sv);
	kube_client_free(c);
	clean_steered(dir);
}

struct exec_run {
	struct kube_exec	 e;
	atomic_int		*stop;	/* NULL: none */
	char			*tok, *cert, *key, *err;
	int			 rc;
};

static void *
exec_run_main(void *arg)
{
	struct exec_run *r = arg;
	int64_t exp;

	r->rc = kube_exec_credential(&r->e, NULL, r->stop, &r->tok, &r->cert,
	    &r->key, &exp, &r->err);
	return NULL;
}

/* The pipes of this process that an exec would leave open. */
static int
inherited_pipes(void)
{
	char path[64], link[64];
	ssize_t n;
	int fd, bad = 0;

	for (fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		if ((n = readlink(path, link, sizeof link - 1)) < 0)
			continue;
		link[n] = '\0';
		if (strncmp(link, "pipe:", 5) == 0 &&
		    !(fcntl(fd, F_GETFD) & FD_CLOEXEC))
			bad++;
	}
	return bad;
}

/*
 * A client closing while an early refresh runs a plugin that hangs (a
 * cloud's CLI waiting on its metadata server) killed it only after the
 * 30 s timeout, and the daemon's stop waited that long.  A stop flag
 * now ends the run at once.
 */
TEST(exec_plugin_run_ends_when_stopped)
{
	char *dir = make_tmpdir();
	struct exec_run r;
	atomic_int stop = 0;
	pthread_t th;

	REQUIRE(dir != NULL);
	write_file(dir, "plugin", "#!/bin/sh\nexec sleep 60\n");
	memset(&r, 0, sizeof r);
	r.e.command = xasprintf("%s/plugin", dir);
	chmod(r.e.command, 0755);
	r.stop = &stop;
	pthread_create(&th, NULL, exec_run_main, &r);
	usleep(200 * 1000);	/* running; if not yet, stop is seen first */
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	CHECK_INT(r.rc, -1);
	CHECK(r.err && strstr(r.err, "stopped: the client is closing"));
	free(r.err);
	free(r.e.command);
	clean_steered(dir);
}

TEST(exec_pipe_is_close_on_exec)
{
	char *dir = make_tmpdir();
	struct exec_run r;
	pthread_t th;
	int before;

	REQUIRE(dir != NULL);
	/*
	 * While a plugin runs, its pipe is open here: any other child forked
	 * meanwhile (git, another plugin) must not inherit it, or the plugin's
	 * reader waits for that child's end too.
	 */
	write_steered_plugin(dir, 1);
	memset(&r, 0, sizeof r);
	r.e.command = xasprintf("%s/plugin", dir);
	before = inherited_pipes();
	pthread_create(&th, NULL, exec_run_main, &r);
	wait_runs(dir, 1);
	CHECK_INT(inherited_pipes(), before);
	write_file(dir, "go", "");
	pthread_join(th, NULL);
	CHECK_INT(r.rc, 0);
	CHECK_STR(r.tok, "t1");
	free(r.tok);
	free(r.err);
	free(r.e.command);
	clean_steered(dir);
}

int
main(void)
{
	RUN(kubeconfig_sample_current_context);
	RUN(kubeconfig_sample_mtls_and_exec);
	RUN(kubeconfig_errors);
	RUN(kubeconfig_relative_paths_and_insecure);
	RUN(in_cluster);
	RUN(config_load_chain);
	RUN(exec_parse_fixture);
	RUN(exec_runs_plugin);
	RUN(status_fixtures);
	RUN(status_causes_in_text);
	RUN(status_429_text_plain);
	RUN(status_odd_bodies);
	RUN(discovery_builtin);
	RUN(resource_paths);
	RUN(patch_types);
	RUN(bump_compute_table);
	RUN(bump_compute_grows_the_pods_limit);
	RUN(bump_pod_limit_is_named);
	RUN(bump_zero_request_is_nothing_to_raise);
	RUN(bump_increment_parse);
	RUN(bump_patch_matches_fixture);
	RUN(bump_applied_knows_its_own_write);
	RUN(event_object);
	RUN(request_asks_the_gate_before_every_attempt);
	RUN(request_gate_closing_in_a_backoff_stops_the_retry);
	RUN(thread_policy_fails_a_retry_after_longer_than_its_cap);
	RUN(exec_refresh_does_not_hold_the_client);
	RUN(exec_expired_waits_for_one_run);
	RUN(exec_plugin_run_ends_when_stopped);
	RUN(exec_pipe_is_close_on_exec);
	return harness_done();
}
