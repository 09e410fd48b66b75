/*
 * Where the cluster is and who we are.
 *
 * A kubeconfig (k8s.io/client-go/tools/clientcmd/api/v1) names clusters,
 * users and contexts; the chosen context joins one of each.  Relative
 * paths in it are relative to the file, as kubectl reads them.  Only the
 * first file of $KUBECONFIG is read: merging several files key by key is
 * kubectl's job, and an SRE pointing remediate at a cluster gives one
 * file.  In a pod, the service account's token, CA and namespace are used;
 * the token file is re-read by the client as the kubelet rotates it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"
#include "kube/kube.h"
#include "util/util.h"

#define SA_DIR	"/var/run/secrets/kubernetes.io/serviceaccount"
#define MAX_SMALL_FILE	(1u << 20)	/* token, namespace, CA bytes */

void
kube_config_clear(struct kube_config *c)
{
	size_t i;

	free(c->server);
	free(c->tls_server_name);
	free(c->ca_file);
	free(c->ca_data);
	free(c->token);
	free(c->token_file);
	free(c->cert_file);
	free(c->key_file);
	free(c->cert_data);
	free(c->key_data);
	free(c->username);
	free(c->password);
	if (c->exec) {
		free(c->exec->command);
		for (i = 0; i < c->exec->nargs; i++)
			free(c->exec->args[i]);
		free(c->exec->args);
		for (i = 0; i < c->exec->nenv; i++)
			free(c->exec->env[i]);
		free(c->exec->env);
		free(c->exec->api_version);
		free(c->exec);
	}
	free(c->namespace);
	free(c->context);
	free(c->cluster);
	free(c->source);
	memset(c, 0, sizeof *c);
}

/* ---- base64 (the *-data fields) ---------------------------------------- */

static int
b64val(int ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+' || ch == '-')
		return 62;
	if (ch == '/' || ch == '_')
		return 63;
	return -1;
}

/* Decodes standard or URL-safe base64, ignoring whitespace; NULL if bad. */
static char *
b64_decode(const char *s, size_t *outlen)
{
	size_t n = strlen(s), o = 0;
	char *out = xmalloc(n / 4 * 3 + 4);
	unsigned acc = 0;
	int bits = 0, v, pad = 0;

	for (; *s; s++) {
		if (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
			continue;
		if (*s == '=') {
			pad++;
			continue;
		}
		if (pad || (v = b64val((unsigned char)*s)) < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	if (bits >= 6) {	/* a lone sixth bit group: truncated input */
		free(out);
		return NULL;
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/* ---- kubeconfig -------------------------------------------------------- */

struct kc {
	const char	*name;		/* file, for messages */
	char		*dir;		/* owned: base of relative paths */
	char		*err;		/* owned, first error */
};

static void
kc_err(struct kc *k, const char *fmt, ...) UTIL_PRINTF(2, 3);

static void
kc_err(struct kc *k, const char *fmt, ...)
{
	va_list ap;
	char *m;

	if (k->err)
		return;
	va_start(ap, fmt);
	m = xvasprintf(fmt, ap);
	va_end(ap);
	k->err = xasprintf("%s: %s", k->name, m);
	free(m);
}

static const char *
str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s ? s : NULL;
}

/* The entry named name of a named list (clusters, users, contexts). */
static json_t *
find_named(json_t *root, const char *list, const char *member,
    const char *name)
{
	json_t *arr = json_object_get(root, list), *e;
	size_t i;

	json_array_foreach(arr, i, e) {
		const char *n = str(e, "name");

		if (n && strcmp(n, name) == 0)
			return json_object_get(e, member);
	}
	return NULL;
}

static char *
resolve_path(struct kc *k, const char *p)
{
	if (p == NULL)
		return NULL;
	if (p[0] == '/' || k->dir == NULL)
		return xstrdup(p);
	return xasprintf("%s/%s", k->dir, p);
}

static char *
decode_data(struct kc *k, json_t *o, const char *key, size_t *len)
{
	const char *s = str(o, key);
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = b64_decode(s, len)) == NULL)
		kc_err(k, "%s is not valid base64", key);
	return d;
}

static void
read_exec(struct kc *k, json_t *ex, struct kube_config *c)
{
	struct kube_exec *e;
	json_t *v;
	size_t i;

	if (!json_is_object(ex)) {
		kc_err(k, "user exec is not a mapping");
		return;
	}
	if (str(ex, "command") == NULL) {
		kc_err(k, "user exec has no command");
		return;
	}
	e = c->exec = xcalloc(1, sizeof *e);
	e->command = xstrdup(str(ex, "command"));
	e->api_version = xstrdup(str(ex, "apiVersion") ? str(ex,
	    "apiVersion") : "client.authentication.k8s.io/v1");
	e->provide_cluster_info = json_is_true(json_object_get(ex,
	    "provideClusterInfo"));
	v = json_object_get(ex, "args");
	if (json_is_array(v) && json_array_size(v) > 0) {
		e->args = xcalloc(json_array_size(v), sizeof *e->args);
		for (i = 0; i < json_array_size(v); i++) {
			const char *a = json_string_value(json_array_get(v, i));

			if (a == NULL) {
				kc_err(k, "user exec args[%zu] is not a "
				    "string", i);
				return;
			}
			e->args[e->nargs++] = xstrdup(a);
		}
	}
	v = json_object_get(ex, "env");
	if (json_is_array(v) && json_array_size(v) > 0) {
		e->env = xcalloc(json_array_size(v), sizeof *e->env);
		for (i = 0; i < json_array_size(v); i++) {
			json_t *kv = json_array_get(v, i);
			const char *n = str(kv, "name"), *val;

			val = json_string_value(json_object_get(kv, "value"));
			if (n == NULL || val == NULL || strchr(n, '=')) {
				kc_err(k, "user exec env[%zu] needs a name and "
				    "a string value", i);
				return;
			}
			e->env[e->nenv++] = xasprintf("%s=%s", n, val);
		}
	}
}

static void
read_cluster(struct kc *k, json_t *cl, struct kube_config *c)
{
	json_t *v;

	if (str(cl, "server") == NULL) {
		kc_err(k, "cluster has no server");
		return;
	}
	c->server = xstrdup(str(cl, "server"));
	while (strlen(c->server) > 1 && c->server[strlen(c->server) - 1] ==
	    '/')
		c->server[strlen(c->server) - 1] = '\0';
	if (strncmp(c->server, "https://", 8) != 0 &&
	    strncmp(c->server, "http://", 7) != 0)
		kc_err(k, "cluster server \"%s\" is not an http(s) URL",
		    c->server);
	if (str(cl, "tls-server-name"))
		c->tls_server_name = xstrdup(str(cl, "tls-server-name"));
	v = json_object_get(cl, "insecure-skip-tls-verify");
	c->insecure = json_is_true(v) || (json_is_string(v) &&
	    strcmp(json_string_value(v), "true") == 0);
	c->ca_file = resolve_path(k, str(cl, "certificate-authority"));
	c->ca_data = decode_data(k, cl, "certificate-authority-data",
	    &c->ca_len);
	if (str(cl, "proxy-url"))
		kc_err(k, "cluster proxy-url is not supported");
}

static void
read_user(struct kc *k, json_t *u, struct kube_config *c)
{
	if (!json_is_object(u))
		return;		/* an empty user: anonymous */
	if (str(u, "token"))
		c->token = xstrdup(str(u, "token"));
	c->token_file = resolve_path(k, str(u, "tokenFile"));
	c->cert_file = resolve_path(k, str(u, "client-certificate"));
	c->key_file = resolve_path(k, str(u, "client-key"));
	c->cert_data = decode_data(k, u, "client-certificate-data",
	    &c->cert_len);
	c->key_data = decode_data(k, u, "client-key-data", &c->key_len);
	if (str(u, "username"))
		c->username = xstrdup(str(u, "username"));
	if (str(u, "password"))
		c->password = xstrdup(str(u, "password"));
	if (json_object_get(u, "exec"))
		read_exec(k, json_object_get(u, "exec"), c);
	if (json_object_get(u, "auth-provider"))
		kc_err(k, "user auth-provider plugins are not supported "
		    "(client-go removed them): use an exec plugin");
	if ((c->cert_file || c->cert_data) && !(c->key_file || c->key_data))
		kc_err(k, "user has a client certificate but no client key");
}

static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return NULL;
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

int
kube_config_parse(const char *text, size_t len, const char *name,
    const char *context, struct kube_config *c, char **err)
{
	struct mdoc **docs = NULL;
	size_t ndocs = 0, i;
	struct diags d;
	struct kc k = { name, dir_of(name), NULL };
	json_t *root, *ctx, *cl, *u;
	const char *ctxname, *v;

	memset(c, 0, sizeof *c);
	*err = NULL;
	diag_init(&d);
	if (conf_parse_text(name, text, len, &docs, &ndocs, &d) < 0 ||
	    ndocs == 0) {
		if (d.n > 0)
			k.err = xasprintf("%s:%d:%d: %s", name, d.v[0].line,
			    d.v[0].col, d.v[0].msg);
		else
			k.err = xasprintf("%s: empty kubeconfig", name);
		goto out;
	}
	root = docs[0]->root;
	if (!json_is_object(root)) {
		kc_err(&k, "not a kubeconfig (a mapping with clusters, users "
		    "and contexts)");
		goto out;
	}
	ctxname = context ? context : str(root, "current-context");
	if (ctxname == NULL) {
		kc_err(&k, "no current-context: give --context");
		goto out;
	}
	if ((ctx = find_named(root, "contexts", "context", ctxname)) == NULL) {
		kc_err(&k, "context \"%s\" not found", ctxname);
		goto out;
	}
	if ((v = str(ctx, "cluster")) == NULL ||
	    (cl = find_named(root, "clusters", "cluster", v)) == NULL) {
		kc_err(&k, "context \"%s\": cluster \"%s\" not found",
		    ctxname, v ? v : "");
		goto out;
	}
	read_cluster(&k, cl, c);
	free(c->cluster);
	c->cluster = xstrdup(str(ctx, "cluster"));
	if ((v = str(ctx, "user")) != NULL) {
		if ((u = find_named(root, "users", "user", v)) == NULL)
			kc_err(&k, "context \"%s\": user \"%s\" not found",
			    ctxname, v);
		else
			read_user(&k, u, c);
	}
	c->namespace = xstrdup(str(ctx, "namespace") ? str(ctx,
	    "namespace") : "default");
	c->context = xstrdup(ctxname);
	c->source = xstrdup(name);
out:
	for (i = 0; i < ndocs; i++)
		mdoc_free(docs[i]);
	free(docs);
	diag_free(&d);
	free(k.dir);
	if (k.err) {
		kube_config_clear(c);
		*err = k.err;
		return -1;
	}
	return 0;
}

static int
load_file(const char *path, const char *context, struct kube_config *c,
    char **err)
{
	char *text, *e = NULL;
	size_t len;
	int rc;

	if ((text = util_read_file(path, KUBE_MAX_CONFIG, &len, &e)) ==
	    NULL) {
		*err = xasprintf("kubeconfig %s: %s", path, e);
		free(e);
		return -1;
	}
	rc = kube_config_parse(text, len, path, context, c, err);
	free(text);
	return rc;
}

/* A file's whole text without its trailing newlines; NULL if unreadable. */
static char *
read_trimmed(const char *path, char **err)
{
	size_t len;
	char *s = util_read_file(path, MAX_SMALL_FILE, &len, err);

	while (s && len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' ||
	    s[len - 1] == ' '))
		s[--len] = '\0';
	return s;
}

int
kube_config_in_cluster(const char *sa_dir, struct kube_config *c,
    char **err)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	char *path, *e = NULL, *tok;
	long long p;

	memset(c, 0, sizeof *c);
	*err = NULL;
	if (sa_dir == NULL)
		sa_dir = SA_DIR;
	if (host == NULL || *host == '\0' || port == NULL ||
	    util_parse_int(port, &p) < 0 || p < 1 || p > 65535) {
		*err = xstrdup("in-cluster: KUBERNETES_SERVICE_HOST and "
		    "KUBERNETES_SERVICE_PORT must be set (not in a pod?)");
		return -1;
	}
	c->server = strchr(host, ':') ? xasprintf("https://[%s]:%lld", host,
	    p) : xasprintf("https://%s:%lld", host, p);
	c->token_file = xasprintf("%s/token", sa_dir);
	if ((tok = read_trimmed(c->token_file, &e)) == NULL) {
		*err = xasprintf("in-cluster: %s: %s", c->token_file, e);
		free(e);
		kube_config_clear(c);
		return -1;
	}
	free(tok);
	c->ca_file = xasprintf("%s/ca.crt", sa_dir);
	path = xasprintf("%s/namespace", sa_dir);
	if ((c->namespace = read_trimmed(path, &e)) == NULL ||
	    *c->namespace == '\0') {
		free(c->namespace);
		c->namespace = xstrdup("default");
	}
	free(e);
	free(path);
	c->context = xstrdup("in-cluster");
	c->source = xstrdup("in-cluster");
	return 0;
}

/* The first existing file of a colon-separated $KUBECONFIG. */
static char *
kubeconfig_env(void)
{
	const char *env = getenv("KUBECONFIG"), *p, *q;
	char *f;

	if (env == NULL)
		return NULL;
	for (p = env; *p; p = *q ? q + 1 : q) {
		q = strchr(p, ':');
		if (q == NULL)
			q = p + strlen(p);
		if (q == p)
			continue;
		f = xstrndup(p, (size_t)(q - p));
		if (access(f, R_OK) == 0)
			return f;
		free(f);
	}
	return NULL;
}

int
kube_config_load(const char *path, const char *context,
    struct kube_config *c, char **err)
{
	char *f, sa_token[] = SA_DIR "/token";
	const char *home;
	int rc;

	*err = NULL;
	if (path)
		return load_file(path, context, c, err);
	if ((f = kubeconfig_env()) != NULL) {
		rc = load_file(f, context, c, err);
		free(f);
		return rc;
	}
	if (context == NULL && getenv("KUBERNETES_SERVICE_HOST") &&
	    access(sa_token, R_OK) == 0)
		return kube_config_in_cluster(NULL, c, err);
	if ((home = getenv("HOME")) != NULL && *home) {
		f = xasprintf("%s/.kube/config", home);
		if (access(f, R_OK) == 0) {
			rc = load_file(f, context, c, err);
			free(f);
			return rc;
		}
		free(f);
	}
	*err = xstrdup("no cluster configuration: give --kubeconfig, set "
	    "KUBECONFIG, run in a pod with a service account, or write "
	    "~/.kube/config");
	return -1;
}
