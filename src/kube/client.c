/*
 * The HTTP client: libcurl underneath, one easy handle per request taken
 * from a small pool (so connections are reused, and any number of threads
 * may call at once), TLS always verified unless the kubeconfig says
 * insecure-skip-tls-verify, every body bounded, every request timed out.
 *
 * Credentials rotate: a token file (the kubelet rewrites the projected
 * service account token about hourly) is re-read every
 * KUBE_TOKEN_REREAD_S seconds and at once after a 401; an exec plugin's
 * answer is kept until its expirationTimestamp and asked again after a
 * 401.  The plugin (aws eks get-token, gke-gcloud-auth-plugin: seconds,
 * and a network call that may hang) never runs under the client's lock,
 * which every request takes: EXEC_MARGIN_MS before the credential
 * expires, one run refreshes it in a thread of its own while requests go
 * on with the credential they have; once it has expired (or was refused),
 * the requests that need it wait for one run, not one each.  A failed run
 * is not kept: the next request that needs the plugin runs it again.
 *
 * Retries: 429 and 5xx (but 501) are retried as the retry policy says,
 * waiting at least what Retry-After asks; a connection that could not be
 * made is retried for every verb (nothing was sent); other transport
 * errors only for GET, PUT and DELETE, which are safe to send twice.
 * The calling thread's gate (util/retry.h) is asked before every attempt
 * and ends a wait early: an action's worker sets the leader's fence
 * there, so a retry is never sent after the fence closed, however long
 * the Retry-After.  An attempt under way is not aborted when the gate
 * closes: it has been sent, and its answer says what became of it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "kube/kube_int.h"
#include "util/util.h"

#ifndef REMEDIATE_VERSION
#define REMEDIATE_VERSION "0.0.0"
#endif

#define CLIENT_MAGIC		0x6b756265u	/* "kube" */
#define POOL_MAX		8	/* idle easy handles kept */
#define CONNECT_TIMEOUT_MS	10000
#define EXEC_MARGIN_MS		10000	/* refresh before expiry */
#define EXEC_RETRY_MS		1000	/* after a failed early refresh */
#define MAX_RETRY_AFTER_S	60	/* longer asks fail the request */
#define MAX_HEADER		8192	/* bytes of Warning headers kept */

struct kube_client {
	unsigned		 magic;
	char			*base;		/* owned: URL prefix */
	char			*connect_to;	/* owned: tls-server-name */
	struct curl_slist	*connect_list;	/* owned */
	int			 insecure;
	char			*ca;		/* owned PEM, or NULL */
	size_t			 ca_len;
	char			*cert, *key;	/* owned PEM, or NULL */
	size_t			 cert_len, key_len;
	char			*namespace;	/* owned */
	char			*server;	/* owned: as configured */
	char			*basic;		/* owned "user:password" */
	char			*user_agent;	/* owned */

	pthread_mutex_t		 lock;		/* guards what follows */
	char			*token;		/* owned, may be NULL */
	char			*token_file;	/* owned, may be NULL */
	int64_t			 token_read;	/* mono ms, 0 never */
	struct kube_config	 execcfg;	/* owned: only .exec used */
	char			*exec_cert, *exec_key;	/* owned PEM */
	int64_t			 exec_expires;	/* ms epoch, 0 none */
	int			 exec_done;	/* plugin ran at least once */
	uint64_t		 exec_gen;	/* credentials it gave */
	int			 exec_running;	/* a run is under way */
	uint64_t		 exec_runs;	/* runs ended */
	char			*exec_err;	/* owned: the last run's
						   failure */
	int64_t			 exec_failed;	/* mono ms of it, 0 none */
	pthread_cond_t		 exec_cond;	/* a run ended */
	pthread_t		 exec_thread;	/* an early refresh */
	int			 exec_thread_live;	/* to join */
	atomic_int		 exec_stop;	/* closing: a plugin run ends */
	CURL			*pool[POOL_MAX];
	size_t			 npool;
	long			 timeout_ms;
	struct retry	 retry;
	struct map		 discovery;	/* "group/version" -> json_t
						   (APIResourceList) */
};

_Thread_local const struct retry *kube_thread_retry;
_Thread_local long kube_thread_timeout_ms;

void
kube_thread_policy(const struct retry *r, long timeout_ms)
{
	kube_thread_retry = r;
	kube_thread_timeout_ms = timeout_ms;
}
/* kube_cancel_on: this thread's requests stop when *flag is set */
static _Thread_local atomic_int *thread_cancel;

void
kube_cancel_on(atomic_int *flag)
{
	thread_cancel = flag;
}

static int
cancelled(void)
{
	return thread_cancel && atomic_load(thread_cancel);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_ALL);
}

/* ---- small shared helpers ---------------------------------------------- */

int64_t
kube_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *
kube_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b;
	const unsigned char *p;

	buf_init(&b, 0);
	for (p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~')
			buf_addc(&b, (char)*p);
		else {
			buf_addc(&b, '%');
			buf_addc(&b, hex[*p >> 4]);
			buf_addc(&b, hex[*p & 15]);
		}
	}
	return buf_steal(&b);
}

void
kube_split_api_version(const char *av, char **group, char **version)
{
	const char *slash = av ? strchr(av, '/') : NULL;

	if (av == NULL) {
		*group = xstrdup("");
		*version = xstrdup("v1");
	} else if (slash == NULL) {
		*group = xstrdup("");
		*version = xstrdup(av);
	} else {
		*group = xstrndup(av, (size_t)(slash - av));
		*version = xstrdup(slash + 1);
	}
}

void
kube_response_clear(struct kube_response *r)
{
	free(r->body);
	free(r->warning);
	memset(r, 0, sizeof *r);
}

/* ---- construction ------------------------------------------------------ */

static char *
read_pem(const char *path, size_t *len, const char *what, char **err)
{
	char *e = NULL, *s;

	if ((s = util_read_file(path, 1u << 20, len, &e)) == NULL) {
		*err = xasprintf("%s %s: %s", what, path, e);
		free(e);
	}
	return s;
}

static char *
dup_mem(const char *p, size_t n)
{
	char *s = xmalloc(n + 1);

	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* Splits the server URL so tls-server-name can be honoured: curl sends
 * SNI and checks the certificate for the URL's host, so the URL names
 * tls-server-name and CONNECT_TO sends the connection to the real host. */
static int
set_base(struct kube_client *c, const struct kube_config *cfg, char **err)
{
	const char *p = strstr(cfg->server, "://"), *hostend, *port;
	char *host;

	c->server = xstrdup(cfg->server);
	if (cfg->tls_server_name == NULL ||
	    strncmp(cfg->server, "https://", 8) != 0) {
		c->base = xstrdup(cfg->server);
		return 0;
	}
	p += 3;
	if (*p == '[') {
		if ((hostend = strchr(p, ']')) == NULL) {
			*err = xasprintf("server %s: bad IPv6 address",
			    cfg->server);
			return -1;
		}
		hostend++;
	} else
		hostend = p + strcspn(p, ":/");
	port = *hostend == ':' ? hostend + 1 : "443";
	host = xstrndup(p, (size_t)(hostend - p));
	c->connect_to = xasprintf("%s:%.*s:%s:%.*s", cfg->tls_server_name,
	    (int)strcspn(port, "/"), port, host, (int)strcspn(port, "/"),
	    port);
	c->base = xasprintf("https://%s%s%s", cfg->tls_server_name,
	    *hostend == ':' ? ":" : "", *hostend == ':' ? hostend + 1 : "");
	free(host);
	c->connect_list = curl_slist_append(NULL, c->connect_to);
	return 0;
}

static void
copy_exec(struct kube_client *c, const struct kube_exec *e)
{
	struct kube_exec *d = xcalloc(1, sizeof *d);
	size_t i;

	d->command = xstrdup(e->command);
	d->api_version = xstrdup(e->api_version ? e->api_version :
	    "client.authentication.k8s.io/v1");
	d->provide_cluster_info = e->provide_cluster_info;
	d->args = xcalloc(e->nargs + 1, sizeof *d->args);
	for (i = 0; i < e->nargs; i++)
		d->args[d->nargs++] = xstrdup(e->args[i]);
	d->env = xcalloc(e->nenv + 1, sizeof *d->env);
	for (i = 0; i < e->nenv; i++)
		d->env[d->nenv++] = xstrdup(e->env[i]);
	c->execcfg.exec = d;
}

struct kube_client *
kube_client_new(const struct kube_config *cfg, char **err)
{
	struct kube_client *c;

	*err = NULL;
	if (cfg->server == NULL) {
		*err = xstrdup("configuration names no server");
		return NULL;
	}
	pthread_once(&curl_once, curl_init_once);
	c = xcalloc(1, sizeof *c);
	c->magic = CLIENT_MAGIC;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->exec_cond, NULL);
	map_init(&c->discovery);
	c->timeout_ms = KUBE_TIMEOUT_MS;
	retry_default(&c->retry);
	c->insecure = cfg->insecure;
	c->namespace = xstrdup(cfg->namespace ? cfg->namespace : "default");
	c->user_agent = xstrdup("remediate/" REMEDIATE_VERSION);
	if (set_base(c, cfg, err) < 0)
		goto fail;
	if (cfg->ca_data)
		c->ca = dup_mem(cfg->ca_data, c->ca_len = cfg->ca_len);
	else if (cfg->ca_file && (c->ca = read_pem(cfg->ca_file, &c->ca_len,
	    "certificate-authority", err)) == NULL)
		goto fail;
	if (cfg->cert_data)
		c->cert = dup_mem(cfg->cert_data, c->cert_len = cfg->cert_len);
	else if (cfg->cert_file && (c->cert = read_pem(cfg->cert_file,
	    &c->cert_len, "client-certificate", err)) == NULL)
		goto fail;
	if (cfg->key_data)
		c->key = dup_mem(cfg->key_data, c->key_len = cfg->key_len);
	else if (cfg->key_file && (c->key = read_pem(cfg->key_file,
	    &c->key_len, "client-key", err)) == NULL)
		goto fail;
	if (cfg->token)
		c->token = xstrdup(cfg->token);
	if (cfg->token_file) {
		char *tok, *e = NULL;
		size_t len;

		c->token_file = xstrdup(cfg->token_file);
		if ((tok = util_read_file(c->token_file, 1u << 20, &len, &e)) ==
		    NULL) {
			*err = xasprintf("token file %s: %s", c->token_file, e);
			free(e);
			goto fail;
		}
		free(tok);
	}
	if (cfg->username && cfg->password)
		c->basic = xasprintf("%s:%s", cfg->username, cfg->password);
	if (cfg->exec)
		copy_exec(c, cfg->exec);
	return c;
fail:
	kube_client_free(c);
	return NULL;
}

static void
free_json(void *v)
{
	json_decref(v);
}

void
kube_client_free(struct kube_client *c)
{
	size_t i;

	if (c == NULL)
		return;
	if (c->magic != CLIENT_MAGIC)
		abort();
	if (c->exec_thread_live) {	/* an early refresh: its plugin is
					   killed, not waited out (30 s) */
		atomic_store(&c->exec_stop, 1);
		pthread_join(c->exec_thread, NULL);
	}
	for (i = 0; i < c->npool; i++)
		curl_easy_cleanup(c->pool[i]);
	map_clear(&c->discovery, free_json);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->exec_cond);
	curl_slist_free_all(c->connect_list);
	free(c->base);
	free(c->connect_to);
	free(c->server);
	free(c->ca);
	free(c->cert);
	free(c->key);
	free(c->namespace);
	free(c->basic);
	free(c->user_agent);
	free(c->token);
	free(c->token_file);
	free(c->exec_cert);
	free(c->exec_key);
	free(c->exec_err);
	kube_config_clear(&c->execcfg);
	c->magic = 0;
	free(c);
}

void
kube_client_set_timeout(struct kube_client *c, long ms)
{
	pthread_mutex_lock(&c->lock);
	c->timeout_ms = ms > 0 ? ms : KUBE_TIMEOUT_MS;
	pthread_mutex_unlock(&c->lock);
}

void
kube_client_set_retry(struct kube_client *c, const struct retry *r)
{
	pthread_mutex_lock(&c->lock);
	c->retry = *r;
	if (c->retry.steps < 1)
		c->retry.steps = 1;
	pthread_mutex_unlock(&c->lock);
}

const char *
kube_client_namespace(const struct kube_client *c)
{
	return c->namespace;
}

const char *
kube_client_server(const struct kube_client *c)
{
	return c->server;
}

json_t *
kube_discovery_cached(struct kube_client *c, const char *gv)
{
	json_t *v;

	pthread_mutex_lock(&c->lock);
	v = json_incref(map_get(&c->discovery, gv));
	pthread_mutex_unlock(&c->lock);
	return v;
}

void
kube_discovery_store(struct kube_client *c, const char *gv, json_t *v)
{
	json_t *old;

	pthread_mutex_lock(&c->lock);
	old = map_put(&c->discovery, gv, json_incref(v));
	pthread_mutex_unlock(&c->lock);
	json_decref(old);
}

/* ---- credentials ------------------------------------------------------- */

/* What one request authenticates with: owned copies. */
struct creds {
	char	*token;
	char	*cert, *key;	/* exec plugin's, else NULL (static ones
				   are the client's) */
	uint64_t gen;		/* the exec plugin's answer they are */
};

static void
creds_clear(struct creds *cr)
{
	free(cr->token);
	free(cr->cert);
	free(cr->key);
	memset(cr, 0, sizeof *cr);
}

static int
refresh_token_file(struct kube_client *c, int force, char **err)
{
	char *tok, *e = NULL;
	size_t len;
	int64_t now = kube_mono_ms();

	if (!force && c->token_read && now - c->token_read <
	    KUBE_TOKEN_REREAD_S * 1000)
		return 0;
	if ((tok = util_read_file(c->token_file, 1u << 20, &len, &e)) ==
	    NULL) {
		/* keep the old token: a rotation may be mid-write */
		*err = xasprintf("token file %s: %s", c->token_file, e);
		free(e);
		return c->token ? 0 : -1;
	}
	while (len > 0 && (tok[len - 1] == '\n' || tok[len - 1] == '\r' ||
	    tok[len - 1] == ' '))
		tok[--len] = '\0';
	free(c->token);
	c->token = tok;
	c->token_read = now;
	return 0;
}

/*
 * One run of the plugin, the lock held on entry and exit but not while it
 * runs; c->exec_running was set by the caller.  Its answer replaces the
 * credential; a failure is kept in exec_err until the next run.
 */
static void
exec_run(struct kube_client *c)
{
	char *tok, *cert, *key, *e = NULL;
	int64_t expires;
	int rc;

	pthread_mutex_unlock(&c->lock);
	rc = kube_exec_credential(c->execcfg.exec, c->server, &c->exec_stop,
	    &tok, &cert, &key, &expires, &e);
	pthread_mutex_lock(&c->lock);
	free(c->exec_err);
	c->exec_err = e;
	c->exec_failed = rc < 0 ? kube_mono_ms() : 0;
	if (rc == 0) {
		free(c->token);
		free(c->exec_cert);
		free(c->exec_key);
		c->token = tok;
		c->exec_cert = cert;
		c->exec_key = key;
		c->exec_expires = expires;
		c->exec_done = 1;
		c->exec_gen++;
	}
	c->exec_running = 0;
	c->exec_runs++;
	pthread_cond_broadcast(&c->exec_cond);
}

static void *
exec_refresh_main(void *arg)
{
	struct kube_client *c = arg;
	char *e;

	pthread_mutex_lock(&c->lock);
	exec_run(c);
	e = c->exec_err ? xstrdup(c->exec_err) : NULL;
	pthread_mutex_unlock(&c->lock);
	if (e)	/* the credential in use still works: said, tried again */
		util_log_json("warning", "exec plugin refresh failed",
		    json_pack("{s:s}", "error", e));
	free(e);
	return NULL;
}

/* A credential about to expire: refreshed in its own thread. */
static void
exec_refresh_early(struct kube_client *c)
{
	if (c->exec_running || (c->exec_failed &&
	    kube_mono_ms() - c->exec_failed < EXEC_RETRY_MS))
		return;
	if (c->exec_thread_live) {	/* ended: its run is over */
		pthread_join(c->exec_thread, NULL);
		c->exec_thread_live = 0;
	}
	c->exec_running = 1;
	if (pthread_create(&c->exec_thread, NULL, exec_refresh_main, c) == 0)
		c->exec_thread_live = 1;
	else
		c->exec_running = 0;	/* a later request tries again */
}

/*
 * The lock held: 0 when c->token and exec_cert/key are the credential to
 * use, or -1 with *err.  force: the server refused the one of generation
 * gen (a newer one is used as it is).
 */
static int
refresh_exec(struct kube_client *c, int force, uint64_t gen, char **err)
{
	struct timespec ts;
	int64_t now;
	uint64_t runs;
	int usable;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	force = force && gen == c->exec_gen;
	usable = c->exec_done && !force && (c->exec_expires == 0 ||
	    now < c->exec_expires);
	if (usable) {
		if (c->exec_expires != 0 &&
		    now >= c->exec_expires - EXEC_MARGIN_MS)
			exec_refresh_early(c);
		return 0;
	}
	if (c->exec_running) {	/* wait for that run: it answers us too */
		runs = c->exec_runs;
		while (c->exec_running && c->exec_runs == runs)
			pthread_cond_wait(&c->exec_cond, &c->lock);
	} else {
		c->exec_running = 1;
		exec_run(c);
	}
	if (c->exec_err) {
		*err = xstrdup(c->exec_err);
		return -1;
	}
	return 0;
}

static int
get_creds(struct kube_client *c, int force, uint64_t gen, struct creds *cr,
    struct kube_error *err)
{
	char *e = NULL;
	int rc = 0;

	memset(cr, 0, sizeof *cr);
	pthread_mutex_lock(&c->lock);
	if (c->execcfg.exec)
		rc = refresh_exec(c, force, gen, &e);
	else if (c->token_file)
		rc = refresh_token_file(c, force, &e);
	if (rc == 0) {
		cr->token = c->token ? xstrdup(c->token) : NULL;
		cr->cert = c->exec_cert ? xstrdup(c->exec_cert) : NULL;
		cr->key = c->exec_key ? xstrdup(c->exec_key) : NULL;
		cr->gen = c->exec_gen;
	}
	pthread_mutex_unlock(&c->lock);
	if (rc < 0)
		kube_error_set(err, "credentials: %s", e);
	free(e);
	return rc;
}

/* ---- one transfer ------------------------------------------------------ */

struct xfer {
	CURL			*h;
	struct buf		 body;		/* error bodies, or all */
	struct buf		 warning;
	char			 retry_after[32];
	struct kube_stream	*stream;	/* NULL: buffer the body */
	atomic_int		*stop;		/* borrowed; set: abort */
	int			 aborted;	/* on_data said stop */
	atomic_int		*cancel;	/* kube_cancel_on's, or NULL */
};

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n, k;

	if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		for (k = 12; k < len && p[k] == ' '; k++)
			;
		snprintf(x->retry_after, sizeof x->retry_after, "%.*s",
		    (int)strcspn(p + k, "\r\n"), p + k);
	} else if (len > 8 && strncasecmp(p, "Warning:", 8) == 0) {
		if (x->warning.len)
			buf_adds(&x->warning, "; ");
		buf_add(&x->warning, p + 9 - (p[8] != ' '),
		    strcspn(p + 8, "\r\n") - (p[8] == ' '));
	} else if (len > 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* a new response (after 100 Continue): forget the last */
		x->retry_after[0] = '\0';
	} else if ((len == 2 && p[0] == '\r') || (len == 1 && p[0] == '\n')) {
		long status = 0;

		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
		if (x->stream && x->stream->on_open && status >= 200 &&
		    status < 300)
			x->stream->on_open(x->stream->ctx);
	}
	return len;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;
	long status = 0;

	if (x->stream) {
		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200 && status < 300) {
			if (x->stream->on_data(x->stream->ctx, p, len) < 0) {
				x->aborted = 1;
				return 0;
			}
			return len;
		}
	}
	if (buf_add(&x->body, p, len) < 0)
		return 0;	/* over the bound: curl reports a write error */
	return len;
}

static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	struct xfer *x = arg;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	if (x->cancel && atomic_load(x->cancel))
		return 1;
	return x->stop && atomic_load(x->stop);
}

static CURL *
take_handle(struct kube_client *c)
{
	CURL *h = NULL;

	pthread_mutex_lock(&c->lock);
	if (c->npool > 0)
		h = c->pool[--c->npool];
	pthread_mutex_unlock(&c->lock);
	if (h == NULL && (h = curl_easy_init()) == NULL)
		abort();	/* out of memory, as x* would */
	curl_easy_reset(h);
	return h;
}

static void
give_handle(struct kube_client *c, CURL *h)
{
	pthread_mutex_lock(&c->lock);
	if (c->npool < POOL_MAX) {
		c->pool[c->npool++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	if (h)
		curl_easy_cleanup(h);
}

static void
set_blob(CURL *h, CURLoption opt, char *data, size_t len)
{
	struct curl_blob b = { data, len, CURL_BLOB_COPY };

	curl_easy_setopt(h, opt, &b);
}

static struct curl_slist *
setup(struct kube_client *c, struct xfer *x, const char *method,
    const char *url, const char *ctype, const char *body, size_t len,
    const struct creds *cr, long timeout_ms)
{
	CURL *h = x->h;
	struct curl_slist *hd = NULL;
	char *line;

	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)CONNECT_TIMEOUT_MS);
	if (timeout_ms > 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	if (x->stop || x->cancel) {
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
	}
	if (c->connect_list)
		curl_easy_setopt(h, CURLOPT_CONNECT_TO, c->connect_list);
	if (c->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	} else if (c->ca)
		set_blob(h, CURLOPT_CAINFO_BLOB, c->ca, c->ca_len);
	if (cr->cert && cr->key) {
		set_blob(h, CURLOPT_SSLCERT_BLOB, cr->cert, strlen(cr->cert));
		set_blob(h, CURLOPT_SSLKEY_BLOB, cr->key, strlen(cr->key));
	} else if (c->cert && c->key) {
		set_blob(h, CURLOPT_SSLCERT_BLOB, c->cert, c->cert_len);
		set_blob(h, CURLOPT_SSLKEY_BLOB, c->key, c->key_len);
	}
	if (c->cert || cr->cert)
		curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
	hd = curl_slist_append(hd, "Accept: application/json");
	if (cr->token && *cr->token) {
		line = xasprintf("Authorization: Bearer %s", cr->token);
		hd = curl_slist_append(hd, line);
		free(line);
	} else if (c->basic) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERPWD, c->basic);
	}
	if (ctype) {
		line = xasprintf("Content-Type: %s", ctype);
		hd = curl_slist_append(hd, line);
		free(line);
	}
	hd = curl_slist_append(hd, "Expect:");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	else {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
		if (body || strcmp(method, "DELETE") != 0) {
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body :
			    "");
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)(body ? len : 0));
		}
	}
	return hd;
}

/*
 * One attempt.  Returns the CURLcode; *status the HTTP status (0 when
 * none came).
 */
static CURLcode
perform(struct kube_client *c, struct xfer *x, const char *method,
    const char *path, const char *ctype, const char *body, size_t len,
    const struct creds *cr, long timeout_ms, long *status)
{
	char *url = xasprintf("%s%s", c->base, path);
	struct curl_slist *hd;
	CURLcode rc;

	x->h = take_handle(c);
	hd = setup(c, x, method, url, ctype, body, len, cr, timeout_ms);
	rc = curl_easy_perform(x->h);
	*status = 0;
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, status);
	/* forget per-request pointers before the handle is reused */
	curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, NULL);
	give_handle(c, x->h);
	x->h = NULL;
	curl_slist_free_all(hd);
	free(url);
	return rc;
}

static void
transport_error(struct kube_error *err, CURLcode rc, const char *method,
    const char *url, const struct xfer *x)
{
	if (rc == CURLE_WRITE_ERROR && x->body.overflow)
		kube_error_set(err, "%s %s: response larger than %zu bytes",
		    method, url, x->body.max);
	else
		kube_error_set(err, "%s %s: %s", method, url,
		    curl_easy_strerror(rc));
}

static int
retryable_transport(CURLcode rc, const char *method)
{
	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST)
		return 1;	/* nothing reached the server */
	if (rc == CURLE_WRITE_ERROR || rc == CURLE_SSL_CACERT ||
	    rc == CURLE_PEER_FAILED_VERIFICATION ||
	    rc == CURLE_SSL_CERTPROBLEM)
		return 0;
	return strcmp(method, "GET") == 0 || strcmp(method, "PUT") == 0 ||
	    strcmp(method, "DELETE") == 0;
}

/*
 * The gate refused attempt n: it is not sent.  A retry's error keeps what
 * the attempt before it was answered (a 5xx or a timeout may have been
 * carried out after all) and err->timed_out of it.
 */
static void
refused(struct kube_client *c, const struct kube_req *rq, const char *why,
    int n, struct kube_error *err)
{
	char *last = n > 1 && err->message ? kube_error_text(err) : NULL;
	char *text = retry_refusal(why, n, last);
	int timed_out = err->timed_out;

	kube_error_set(err, "%s %s%s: %s", rq->method, c->base, rq->path,
	    text);
	err->timed_out = timed_out;
	free(text);
	free(last);
}

int
kube_request(struct kube_client *c, const struct kube_req *rq,
    struct kube_response *resp, struct kube_error *err)
{
	struct retry r;
	struct creds cr;
	struct xfer x;
	CURLcode rc;
	long status, timeout;
	int attempt, refreshed = 0, again;
	uint64_t gen = 0;
	int64_t wait;
	const char *why;

	memset(resp, 0, sizeof *resp);
	kube_error_clear(err);
	pthread_mutex_lock(&c->lock);
	r = rq->retry ? *rq->retry : kube_thread_retry ? *kube_thread_retry :
	    c->retry;
	timeout = kube_thread_timeout_ms > 0 ? kube_thread_timeout_ms :
	    c->timeout_ms;
	pthread_mutex_unlock(&c->lock);
	if (r.steps < 1)
		r.steps = 1;
	for (attempt = 1; ; attempt++) {
		if (cancelled()) {
			kube_error_set(err, "%s %s%s: cancelled: remediate is "
			    "stopping", rq->method, c->base, rq->path);
			return -1;
		}
		if ((why = retry_gate_closed()) != NULL) {
			refused(c, rq, why, attempt, err);
			return -1;
		}
		if (get_creds(c, refreshed == 1, gen, &cr, err) < 0)
			return -1;
		gen = cr.gen;
		memset(&x, 0, sizeof x);
		x.cancel = thread_cancel;
		buf_init(&x.body, rq->max_body ? rq->max_body : KUBE_MAX_BODY);
		buf_init(&x.warning, MAX_HEADER);
		x.stop = rq->stop;
		rc = perform(c, &x, rq->method, rq->path, rq->content_type,
		    rq->body, rq->len, &cr, timeout, &status);
		creds_clear(&cr);
		err->attempts = attempt;
		if (rc == CURLE_OK && status >= 200 && status < 300) {
			resp->status = status;
			resp->len = x.body.len;
			resp->body = buf_steal(&x.body);
			resp->warning = x.warning.len ? buf_steal(&x.warning) :
			    NULL;
			buf_free(&x.body);
			buf_free(&x.warning);
			return 0;
		}
		if (rc != CURLE_OK) {
			char *url = xasprintf("%s%s", c->base, rq->path);

			transport_error(err, rc, rq->method, url, &x);
			err->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
			free(url);
			again = retryable_transport(rc, rq->method);
		} else {
			kube_status_parse(status, x.body.data, x.body.len,
			    x.retry_after[0] ? x.retry_after : NULL, err);
			again = status == 429 || (status >= 500 &&
			    status != 501 && !rq->no_retry_5xx);
			if (status == 401 && !refreshed &&
			    (c->token_file || c->execcfg.exec)) {
				/* a rotated or expired credential: once */
				refreshed = 1;
				buf_free(&x.body);
				buf_free(&x.warning);
				attempt--;
				continue;
			}
		}
		if (refreshed == 1)
			refreshed = 2;
		buf_free(&x.body);
		buf_free(&x.warning);
		if (!again || attempt >= r.steps ||
		    (rq->stop && atomic_load(rq->stop)))
			return -1;
		if (err->retry_after_s > MAX_RETRY_AFTER_S ||
		    (r.after_capped && (int64_t)err->retry_after_s * 1000 >
		    r.cap_ms))
			return -1;
		wait = retry_honour_after(retry_delay(&r, attempt + 1,
		    retry_random()), err->retry_after_s,
		    (int64_t)MAX_RETRY_AFTER_S * 1000);
		/* the gate is asked again at the top: a wait it ended sends
		   nothing */
		(void)retry_wait(wait, rq->stop ? rq->stop : thread_cancel);
		if ((rq->stop && atomic_load(rq->stop)) ||
		    (thread_cancel && atomic_load(thread_cancel)))
			return -1;
	}
}

json_t *
kube_request_json(struct kube_client *c, const struct kube_req *rq,
    struct kube_error *err)
{
	struct kube_response resp;
	json_error_t jerr;
	json_t *v;

	if (kube_request(c, rq, &resp, err) < 0)
		return NULL;
	v = util_json_loadb(resp.body, resp.len, JSON_ALLOW_NUL, &jerr);
	if (v == NULL)
		kube_error_set(err, "%s %s: the answer is not JSON: %s",
		    rq->method, rq->path, jerr.text);
	kube_response_clear(&resp);
	return v;
}

int
kube_stream_get(struct kube_client *c, const char *path,
    struct kube_stream *s, long *http, struct kube_error *err)
{
	struct creds cr;
	struct xfer x;
	CURLcode rc;
	long status;
	int refreshed = 0;
	uint64_t gen = 0;

	kube_error_clear(err);
	*http = 0;
	for (;;) {
		if (get_creds(c, refreshed, gen, &cr, err) < 0)
			return -1;
		gen = cr.gen;
		memset(&x, 0, sizeof x);
		buf_init(&x.body, 1u << 20);
		buf_init(&x.warning, MAX_HEADER);
		x.stream = s;
		x.stop = s->stop;
		rc = perform(c, &x, "GET", path, NULL, NULL, 0, &cr,
		    s->timeout_ms, &status);
		creds_clear(&cr);
		*http = status;
		if (status == 401 && !refreshed &&
		    (c->token_file || c->execcfg.exec)) {
			refreshed = 1;
			buf_free(&x.body);
			buf_free(&x.warning);
			continue;
		}
		break;
	}
	if (status != 0 && (status < 200 || status >= 300))
		kube_status_parse(status, x.body.data, x.body.len,
		    x.retry_after[0] ? x.retry_after : NULL, err);
	else if (rc != CURLE_OK) {
		if (x.aborted)
			kube_error_set(err, "watch %s: stopped reading",
			    path);
		else if (rc == CURLE_ABORTED_BY_CALLBACK)
			kube_error_set(err, "watch %s: stopped", path);
		else
			kube_error_set(err, "watch %s: %s", path,
			    curl_easy_strerror(rc));
	}
	buf_free(&x.body);
	buf_free(&x.warning);
	return rc == CURLE_OK && status >= 200 && status < 300 ? 0 : -1;
}
