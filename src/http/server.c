/*
 * The server: listeners sharing one route table that is fixed once the
 * server starts (so lookups need no lock).  Plain-text listeners are
 * served by plain.c, which reads every request head itself (parse.c's
 * strict grammar) and keeps connections alive; TLS listeners by one
 * libmicrohttpd daemon each.  A request goes through three steps:
 *
 *   head    route lookup (404, 405), the route's admit step, the body
 *           limit checked against Content-Length (413 before any body
 *           byte is read);
 *   body    appended to a bounded buffer; a chunked body that grows past
 *           the limit gets 413;
 *   done    the handler runs and its response is sent.
 *
 * This file holds the routes (shared by both) and the libmicrohttpd side.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/http_int.h"

#define DEF_THREADS		2
#define DEF_MAX_CONN		512
#define DEF_MAX_PER_IP		64
#define DEF_IDLE		10
#define DEF_REQUEST		30
#define DEF_MAX_HEADER		(32u << 10)
#define MAX_TLS_FILE		(1u << 20)

struct req {
	unsigned		 magic;
	struct http_server	*srv;
	struct MHD_Connection	*mc;
	struct http_conn	*conn;		/* borrowed: the reaper's */
	http_handler_fn		 fn;
	void			*ctx;
	size_t			 limit;		/* body bytes */
	int			 discard;	/* answer decided: drop body */
	struct buf		 body;
	struct http_request	 hr;
	/* sized to the request: no large allocation per request */
	struct http_header	*hdrs, *args;		/* owned */
	size_t			 maxh, maxa;
	int			 too_many;	/* headers or args dropped */
	char			 remote[INET6_ADDRSTRLEN];
	struct http_response	 resp;
};

void
http_log(const struct http_server *s, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (s->o.log == NULL)
		return;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	s->o.log(s->o.log_ctx, msg);
	free(msg);
}

static void
mhd_logger(void *cls, const char *fmt, va_list ap)
{
	struct http_listener *l = cls;
	char line[512];
	size_t n;

	if (l == NULL || l->magic != HTTP_LISTENER_MAGIC ||
	    l->srv->o.log == NULL)
		return;
	vsnprintf(line, sizeof line, fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	http_log(l->srv, "http %s: %s", l->text, line);
}

/* ---- construction -------------------------------------------------------- */

struct http_server *
http_server_new(const struct http_opts *opts, char **err)
{
	struct http_server *s;
	pthread_condattr_t ca;
	size_t i;

	*err = NULL;
	if (opts->nlisten == 0 || opts->nlisten > HTTP_MAX_LISTEN) {
		*err = xasprintf("give 1 to %d listen addresses",
		    HTTP_MAX_LISTEN);
		return NULL;
	}
	if ((opts->tls_cert == NULL) != (opts->tls_key == NULL)) {
		*err = xstrdup("TLS needs both a certificate and a key file");
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	s->magic = HTTP_SERVER_MAGIC;
	TAILQ_INIT(&s->conns);
	s->o = *opts;
	for (i = 0; i < opts->nlisten; i++) {
		s->l[i].magic = HTTP_LISTENER_MAGIC;
		s->l[i].srv = s;
		s->l[i].lfd = -1;
		if (http_addr_parse(opts->listen[i], &s->l[i].addr, err)) {
			s->nl = i;
			http_server_free(s);
			return NULL;
		}
		s->l[i].text = xstrdup(opts->listen[i]);
		s->nl = i + 1;
	}
	if (s->o.threads == 0)
		s->o.threads = DEF_THREADS;
	if (s->o.max_connections == 0)
		s->o.max_connections = DEF_MAX_CONN;
	if (s->o.max_per_ip == 0)
		s->o.max_per_ip = DEF_MAX_PER_IP;
	if (s->o.idle_timeout == 0)
		s->o.idle_timeout = DEF_IDLE;
	if (s->o.request_timeout == 0)
		s->o.request_timeout = DEF_REQUEST;
	if (s->o.max_body == 0)
		s->o.max_body = HTTP_DEFAULT_MAX_BODY;
	if (s->o.max_header == 0)
		s->o.max_header = DEF_MAX_HEADER;
	/* the pool needs room for the head and a read buffer for the body */
	if (s->o.max_header < 4096)
		s->o.max_header = 4096;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &ca);
	pthread_condattr_destroy(&ca);
	return s;
}

static int
route_add(struct http_server *s, const char *method, const char *path,
    int prefix, http_handler_fn fn, void *ctx)
{
	struct http_route *r;
	size_t i;

	if (s->started || path == NULL || path[0] != '/' || fn == NULL)
		return -1;
	if (prefix && path[strlen(path) - 1] != '/')
		return -1;
	for (i = 0; i < s->nroutes; i++) {
		r = &s->routes[i];
		if (strcmp(r->path, path) != 0 || r->prefix != prefix)
			continue;
		if (r->method == NULL || method == NULL ||
		    strcmp(r->method, method) == 0)
			return -1;
	}
	xgrow(&s->routes, &s->caproutes, s->nroutes + 1, sizeof *s->routes);
	r = &s->routes[s->nroutes++];
	r->method = method ? xstrdup(method) : NULL;
	r->path = xstrdup(path);
	r->prefix = prefix;
	r->fn = fn;
	r->ctx = ctx;
	return 0;
}

int
http_route_add(struct http_server *s, const char *method, const char *path,
    http_handler_fn fn, void *ctx)
{
	return route_add(s, method, path, 0, fn, ctx);
}

int
http_route_prefix(struct http_server *s, const char *method,
    const char *prefix, http_handler_fn fn, void *ctx)
{
	return route_add(s, method, prefix, 1, fn, ctx);
}

void
http_route_fallback(struct http_server *s, http_admit_fn admit,
    http_handler_fn fn, void *ctx)
{
	if (s->started)
		return;
	s->fallback.admit = admit;
	s->fallback.fn = fn;
	s->fallback.ctx = ctx;
}

static int
method_matches(const char *route, const char *method)
{
	if (route == NULL || strcmp(route, method) == 0)
		return 1;
	return strcmp(route, "GET") == 0 && strcmp(method, "HEAD") == 0;
}

static int
path_matches(const struct http_route *r, const char *path)
{
	if (r->prefix)
		return strncmp(r->path, path, strlen(r->path)) == 0;
	return strcmp(r->path, path) == 0;
}

/*
 * The route for method and path (exact routes before prefixes); NULL with
 * *path_known set on 405.
 */
static const struct http_route *
find_route(const struct http_server *s, const char *method, const char *path,
    int *path_known)
{
	const struct http_route *pre = NULL;
	size_t i;

	*path_known = 0;
	for (i = 0; i < s->nroutes; i++) {
		if (!path_matches(&s->routes[i], path))
			continue;
		*path_known = 1;
		if (!method_matches(s->routes[i].method, method))
			continue;
		if (!s->routes[i].prefix)
			return &s->routes[i];
		if (pre == NULL)
			pre = &s->routes[i];
	}
	return pre;
}

int
http_route_exists(const struct http_server *s, const char *method,
    const char *path)
{
	int known;

	return find_route(s, method, path, &known) != NULL;
}

/* ---- responses ----------------------------------------------------------- */

void
http_response_clear(struct http_response *r)
{
	size_t i;

	buf_free(&r->body);
	for (i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	r->nheaders = 0;
}

void
http_count_status(struct http_server *s, int status)
{
	atomic_fetch_add(&s->n_requests, 1);
	if (status >= 200 && status < 300)
		atomic_fetch_add(&s->n_2xx, 1);
	else if (status >= 400 && status < 500)
		atomic_fetch_add(&s->n_4xx, 1);
	else if (status >= 500)
		atomic_fetch_add(&s->n_5xx, 1);
	if (status == 413)
		atomic_fetch_add(&s->n_413, 1);
}

static enum MHD_Result
send_response(struct req *r)
{
	struct http_response *rs = &r->resp;
	struct MHD_Response *m;
	enum MHD_Result ret;
	size_t i, len = rs->body.len;
	char *data;

	if (rs->status == 0)
		rs->status = 200;
	data = buf_steal(&rs->body);
	m = MHD_create_response_from_buffer_with_free_callback(len, data,
	    free);
	if (m == NULL) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE,
	    rs->content_type ? rs->content_type :
	    "text/plain; charset=utf-8");
	for (i = 0; i < rs->nheaders; i++)
		if (MHD_add_response_header(m, rs->headers[i].name,
		    rs->headers[i].value) != MHD_YES)
			http_log(r->srv, "http: response header %s refused",
			    rs->headers[i].name);
	ret = MHD_queue_response(r->mc, (unsigned)rs->status, m);
	MHD_destroy_response(m);
	if (ret == MHD_YES)
		http_count_status(r->srv, rs->status);
	return ret;
}

/* ---- the request's head -------------------------------------------------- */

static enum MHD_Result
collect(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct req *r = cls;
	struct http_header *v = kind == MHD_HEADER_KIND ? r->hdrs : r->args;
	size_t *n = kind == MHD_HEADER_KIND ? &r->hr.nheaders : &r->hr.nargs;
	size_t max = kind == MHD_HEADER_KIND ? r->maxh : r->maxa;

	if (*n >= max) {
		r->too_many = 1;
		return MHD_NO;
	}
	v[*n].name = key;
	v[*n].value = value ? value : "";
	(*n)++;
	return MHD_YES;
}

static void
remote_text(struct req *r)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	r->remote[0] = '\0';
	ci = MHD_get_connection_info(r->mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr, r->remote, sizeof r->remote);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr, r->remote, sizeof r->remote);
}

static struct req *
req_new(struct http_listener *l, struct MHD_Connection *mc, const char *url,
    const char *method)
{
	const union MHD_ConnectionInfo *ci;
	struct req *r = xcalloc(1, sizeof *r);
	int nh, na;

	r->magic = HTTP_REQ_MAGIC;
	r->srv = l->srv;
	r->mc = mc;
	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci != NULL)
		r->conn = ci->socket_context;
	r->hr.method = method;
	r->hr.path = url;
	r->hr.tls = l->srv->tls_cert != NULL;
	remote_text(r);
	r->hr.remote = r->remote;
	nh = MHD_get_connection_values(mc, MHD_HEADER_KIND, NULL, NULL);
	na = MHD_get_connection_values(mc, MHD_GET_ARGUMENT_KIND, NULL, NULL);
	r->maxh = nh < 0 ? 0 : nh > HTTP_MAX_HEADERS ? HTTP_MAX_HEADERS :
	    (size_t)nh;
	r->maxa = na < 0 ? 0 : na > HTTP_MAX_ARGS ? HTTP_MAX_ARGS : (size_t)na;
	r->too_many = nh > HTTP_MAX_HEADERS || na > HTTP_MAX_ARGS;
	r->hdrs = xcalloc(r->maxh + 1, sizeof *r->hdrs);
	r->args = xcalloc(r->maxa + 1, sizeof *r->args);
	r->hr.headers = r->hdrs;
	r->hr.args = r->args;
	MHD_get_connection_values(mc, MHD_HEADER_KIND, collect, r);
	MHD_get_connection_values(mc, MHD_GET_ARGUMENT_KIND, collect, r);
	buf_init(&r->resp.body, 0);
	return r;
}

void
http_route_call(struct http_server *s, const struct http_request *hr,
    struct http_response *resp, struct http_call *call)
{
	const struct http_route *rt;
	int known;
	size_t i;

	call->fn = NULL;
	call->ctx = NULL;
	call->limit = s->o.max_body;
	rt = find_route(s, hr->method, hr->path, &known);
	if (rt != NULL) {
		call->fn = rt->fn;
		call->ctx = rt->ctx;
	} else if (known) {
		struct buf allow;
		const char *sep = "";

		buf_init(&allow, 256);
		for (i = 0; i < s->nroutes; i++)
			if (path_matches(&s->routes[i], hr->path)) {
				buf_printf(&allow, "%s%s", sep,
				    s->routes[i].method);
				sep = ", ";
			}
		http_reply_error(resp, 405, "%s is not allowed on %s",
		    hr->method, hr->path);
		http_response_header(resp, "Allow", allow.data);
		buf_free(&allow);
	} else if (s->fallback.fn != NULL) {
		call->fn = s->fallback.fn;
		call->ctx = s->fallback.ctx;
		if (s->fallback.admit != NULL)
			call->limit = s->fallback.admit(call->ctx, hr, resp);
	} else
		http_reply_error(resp, 404, "nothing is served at %s",
		    hr->path);
}

/*
 * Decides what the head allows: a route and a body limit, or an answer
 * now (r->resp.status set).  Framing a proxy in front of us could read
 * another way (request smuggling) is refused (parse.c's rules; a missing
 * Host is libmicrohttpd's own, MHD_OPTION_STRICT_FOR_CLIENT).
 */
static void
admit(struct req *r)
{
	struct http_server *s = r->srv;
	struct http_call call;
	const char *cl, *bad;

	if (r->too_many) {
		http_reply_error(&r->resp, 431, "more than %d headers or "
		    "query arguments", HTTP_MAX_HEADERS);
		return;
	}
	if ((bad = http_framing_bad(r->hr.headers, r->hr.nheaders)) != NULL) {
		http_reply_error(&r->resp, 400, "ambiguous framing: %s", bad);
		return;
	}
	http_route_call(s, &r->hr, &r->resp, &call);
	if (r->resp.status != 0)
		return;
	r->fn = call.fn;
	r->ctx = call.ctx;
	r->limit = call.limit;
	buf_init(&r->body, r->limit);
	cl = http_header_get(&r->hr, "Content-Length");
	if (cl != NULL) {
		long long n;

		if (util_parse_int(cl, &n) == -1 || n < 0)
			http_reply_error(&r->resp, 400, "bad Content-Length");
		else if ((unsigned long long)n > r->limit)
			http_reply_error(&r->resp, 413, "the body (%lld bytes) "
			    "exceeds the limit of %zu bytes", n, r->limit);
		else if (n > 0) {	/* one allocation for the whole body */
			xgrow(&r->body.data, &r->body.cap, (size_t)n + 1, 1);
			r->body.data[0] = '\0';
		}
	}
}

static enum MHD_Result
on_access(void *cls, struct MHD_Connection *mc, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct http_listener *l = cls;
	struct req *r = *con_cls;

	(void)version;
	if (l == NULL || l->magic != HTTP_LISTENER_MAGIC)
		return MHD_NO;
	if (r == NULL) {
		r = req_new(l, mc, url, method);
		*con_cls = r;
		admit(r);
		if (r->resp.status != 0) {
			r->discard = 1;
			return send_response(r);
		}
		return MHD_YES;
	}
	if (r->magic != HTTP_REQ_MAGIC)
		return MHD_NO;
	if (*upload_size != 0) {
		if (!r->discard && buf_add(&r->body, upload,
		    *upload_size) == -1) {
			r->discard = 1;
			http_reply_error(&r->resp, 413, "the body exceeds the "
			    "limit of %zu bytes", r->limit);
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (!r->discard) {
		r->hr.body = r->body.data ? r->body.data : "";
		r->hr.body_len = r->body.len;
		http_conn_busy(r->srv, r->conn, 1);
		r->fn(r->ctx, &r->hr, &r->resp);
	}
	return send_response(r);
}

static void
on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
    enum MHD_RequestTerminationCode code)
{
	struct http_listener *l = cls;
	struct req *r = *con_cls;

	(void)mc;
	(void)code;
	if (r == NULL || r->magic != HTTP_REQ_MAGIC)
		return;
	http_conn_busy(l->srv, r->conn, 0);
	buf_free(&r->body);
	http_response_clear(&r->resp);
	free(r->hdrs);
	free(r->args);
	r->magic = 0;
	free(r);
	*con_cls = NULL;
}

static void
on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	struct http_listener *l = cls;
	const union MHD_ConnectionInfo *ci;

	if (l == NULL || l->magic != HTTP_LISTENER_MAGIC)
		return;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(mc,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		*socket_context = ci ? http_conn_open(l->srv,
		    ci->connect_fd) : NULL;
	} else {
		http_conn_close(l->srv, *socket_context);
		*socket_context = NULL;
	}
}

/* ---- start and stop ------------------------------------------------------ */

static int
start_listener(struct http_server *s, struct http_listener *l, char **err)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
	    MHD_USE_AUTO;
	struct MHD_OptionItem ops[16];
	size_t n = 0;
	const union MHD_DaemonInfo *di;

#define OPT(o, v, p) do {						\
	ops[n].option = (o);						\
	ops[n].value = (intptr_t)(v);					\
	ops[n].ptr_value = (p);						\
	n++;								\
} while (0)
	OPT(MHD_OPTION_THREAD_POOL_SIZE, s->o.threads, NULL);
	OPT(MHD_OPTION_CONNECTION_LIMIT, s->o.max_connections, NULL);
	OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->o.max_per_ip, NULL);
	OPT(MHD_OPTION_CONNECTION_TIMEOUT, s->o.idle_timeout, NULL);
	OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, s->o.max_header, NULL);
	OPT(MHD_OPTION_NOTIFY_COMPLETED, (uintptr_t)on_completed, l);
	OPT(MHD_OPTION_NOTIFY_CONNECTION, (uintptr_t)on_connection, l);
	/* refuse HTTP/1.1 without Host and spaces in header names: the most
	 * libmicrohttpd 0.9.75 offers against ambiguous framing */
	OPT(MHD_OPTION_STRICT_FOR_CLIENT, 1, NULL);
	/* plain text: plain.c serves it (strict heads, keep-alive) */
	l->plain = s->tls_cert == NULL;
	if (l->plain)
		return http_plain_listen(l, err);
	if (!l->addr.any)
		OPT(MHD_OPTION_SOCK_ADDR, 0, &l->addr.sa);
	if (s->tls_cert != NULL) {
		flags |= MHD_USE_TLS;
		OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert);
		OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key);
	}
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
	if (l->addr.any)
		flags |= MHD_USE_DUAL_STACK;
	else if (l->addr.v6)
		flags |= MHD_USE_IPv6;
	l->d = MHD_start_daemon(flags, (uint16_t)l->addr.port, NULL, NULL,
	    on_access, l, MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, l,
	    MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
	if (l->d == NULL) {
		*err = xasprintf("cannot listen on %s: %s", l->text,
		    errno ? strerror(errno) : "libmicrohttpd refused the "
		    "options");
		return -1;
	}
	di = MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_BIND_PORT);
	l->port = di ? di->port : l->addr.port;
	return 0;
}

static char *
read_pem(const char *path, const char *what, char **err)
{
	char *e = NULL, *text;

	text = util_read_file(path, MAX_TLS_FILE, NULL, &e);
	if (text == NULL) {
		*err = xasprintf("TLS %s %s: %s", what, path, e);
		free(e);
	}
	return text;
}

int
http_server_start(struct http_server *s, char **err)
{
	size_t i;

	*err = NULL;
	if (s->started) {
		*err = xstrdup("the server has started already");
		return -1;
	}
	if (s->o.tls_cert != NULL) {
		if ((s->tls_cert = read_pem(s->o.tls_cert, "certificate",
		    err)) == NULL ||
		    (s->tls_key = read_pem(s->o.tls_key, "key", err)) == NULL)
			return -1;
	}
	s->started = 1;
	if (http_reaper_start(s, err) == -1)
		return -1;
	for (i = 0; i < s->nl; i++) {
		errno = 0;
		if (start_listener(s, &s->l[i], err) == -1)
			goto fail;
	}
	for (i = 0; i < s->nl; i++)
		if (s->l[i].plain) {
			if (http_plain_start(s, err) == -1)
				goto fail;
			break;
		}
	return 0;
fail:
	http_plain_stop(s);
	for (i = 0; i < s->nl; i++)
		if (s->l[i].d != NULL) {
			MHD_stop_daemon(s->l[i].d);
			s->l[i].d = NULL;
		}
	http_reaper_stop(s);
	return -1;
}

unsigned
http_server_port(const struct http_server *s, size_t i)
{
	if (s == NULL || i >= s->nl || (s->l[i].d == NULL &&
	    s->l[i].lfd == -1))
		return 0;
	return s->l[i].port;
}

void
http_server_free(struct http_server *s)
{
	size_t i;

	if (s == NULL || s->magic != HTTP_SERVER_MAGIC)
		return;
	http_plain_stop(s);
	for (i = 0; i < s->nl; i++) {
		if (s->l[i].d != NULL)
			MHD_stop_daemon(s->l[i].d);
		free(s->l[i].text);
	}
	http_reaper_stop(s);
	for (i = 0; i < s->nroutes; i++) {
		free(s->routes[i].method);
		free(s->routes[i].path);
	}
	free(s->routes);
	free(s->tls_cert);
	if (s->tls_key != NULL)
		explicit_bzero(s->tls_key, strlen(s->tls_key));
	free(s->tls_key);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	s->magic = 0;
	free(s);
}

void
http_server_stats(const struct http_server *s, struct http_stats *st)
{
	memset(st, 0, sizeof *st);
	st->requests = atomic_load(&s->n_requests);
	st->status_2xx = atomic_load(&s->n_2xx);
	st->status_4xx = atomic_load(&s->n_4xx);
	st->status_5xx = atomic_load(&s->n_5xx);
	st->too_large = atomic_load(&s->n_413);
	st->reaped = atomic_load(&s->n_reaped);
	st->connections = atomic_load(&s->n_conns);
	st->open = atomic_load(&s->open);
}
