/*
 * http: the one HTTP server of the daemon, on libmicrohttpd.
 *
 * Webhooks, /metrics, /healthz and /readyz are all routes of this server.
 * A route is a method and an exact path (or a prefix: /approve/) with a
 * handler; the handler gets the whole request (headers, query arguments,
 * a bounded body) and fills a response.  Paths no route names go to the
 * fallback route when one is set (the webhook module serves every
 * EventSource endpoint through it, so a configuration reload can swap
 * endpoints without touching the server), otherwise they get 404.
 *
 * Threads: each listener runs libmicrohttpd with its own internal polling
 * thread pool, so handlers run on those threads, several at once.  A
 * handler must be thread-safe and must not block for long: the webhook
 * handler only hands events to the engine's queue.
 *
 * Slow or hostile clients are bounded four ways: an idle timeout per
 * connection, a deadline for a whole request (headers and body) enforced
 * by a reaper thread, a limit on connections overall and per client
 * address, and a cap on header bytes and on body bytes.  Exceeding one is
 * an HTTP error (413, 431) or a closed connection, never a crash.
 *
 * Life cycle: http_server_new, http_route_add / http_route_fallback,
 * http_server_start, ... http_server_free (stops and joins every thread).
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

#define HTTP_MAX_LISTEN		8		/* listen addresses */
#define HTTP_MAX_HEADERS	100		/* request headers kept */
#define HTTP_MAX_ARGS		100		/* query arguments kept */
#define HTTP_MAX_RESP_HEADERS	8		/* extra response headers */
#define HTTP_DEFAULT_MAX_BODY	(1u << 20)	/* bytes: Argo's default */

struct http_opts {
	/*
	 * Where to listen: "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:8080",
	 * ":8080" (every IPv4 and IPv6 address), "localhost:8080".  Port 0
	 * picks a free port (see http_server_port).  Borrowed.
	 */
	const char	*listen[HTTP_MAX_LISTEN];
	size_t		 nlisten;
	/* PEM files; both or neither.  Borrowed; read at start. */
	const char	*tls_cert, *tls_key;
	unsigned	 threads;		/* per listener; 0: 2 */
	unsigned	 max_connections;	/* per listener; 0: 512 */
	unsigned	 max_per_ip;		/* per listener; 0: 64 */
	unsigned	 idle_timeout;		/* s, no byte moved; 0: 10 */
	unsigned	 request_timeout;	/* s, whole request; 0: 30 */
	size_t		 max_body;	/* bytes, routes; 0: 1 MiB */
	size_t		 max_header;	/* bytes per request head; 0: 32 KiB */
	/*
	 * Called (from any server thread) with one line about a problem the
	 * server met (libmicrohttpd's own messages included).  May be NULL.
	 */
	void		(*log)(void *ctx, const char *msg);
	void		*log_ctx;
};

struct http_header {
	const char	*name, *value;	/* borrowed, valid during the call */
};

struct http_request {
	const char		*method;	/* "GET", "POST"... */
	const char		*path;		/* decoded, without the query */
	const char		*remote;	/* client address */
	const struct http_header *headers;	/* as sent, in order */
	size_t			 nheaders;
	const struct http_header *args;		/* query arguments, decoded */
	size_t			 nargs;
	/* The body, NUL-terminated (so "" when none); NULL in an admit. */
	const char		*body;
	size_t			 body_len;	/* bytes, excluding the NUL */
	int			 tls;		/* came over TLS */
};

struct http_response {
	int		 status;	/* 0 until set; 200 if left 0 */
	const char	*content_type;	/* static string; NULL: text/plain */
	struct buf	 body;		/* the handler appends */
	struct {
		char	*name, *value;	/* owned */
	}		 headers[HTTP_MAX_RESP_HEADERS];
	size_t		 nheaders;
};

/*
 * A handler: reads req (everything borrowed for the call) and fills resp.
 * Runs on a server thread.
 */
typedef void	(*http_handler_fn)(void *ctx, const struct http_request *req,
		    struct http_response *resp);
/*
 * An admit step, run on the request head before any body byte is read
 * (req->body is NULL).  Returns the most body bytes the request may
 * carry, or sets resp->status to refuse it now (404, 405, 401...), in
 * which case the body is never read and the handler is not called.
 */
typedef size_t	(*http_admit_fn)(void *ctx, const struct http_request *req,
		    struct http_response *resp);

struct http_server;

/*
 * Is text a listen address http_opts.listen takes?  Returns 0, or -1 and
 * *err (owned) saying what the address should look like: a command checks
 * its flags before it starts anything.
 */
int	http_listen_check(const char *text, char **err);

/*
 * Checks opts and builds a server that does not listen yet.  opts is
 * copied (the strings it points to must live until http_server_start
 * returns).  Returns an owned server, or NULL and *err (owned) when an
 * address is malformed, there are too many, or only one TLS file is given.
 */
struct http_server *http_server_new(const struct http_opts *opts,
		    char **err);
/*
 * Adds a route before start: method ("GET", "POST"...; NULL for any; a GET
 * route also answers HEAD) and exact path (copied).  ctx is borrowed and
 * must outlive the server.  The body is limited to opts->max_body.
 * Returns 0, or -1 when the server has started, the path does not start
 * with '/' or the same method and path are already routed.
 */
int	http_route_add(struct http_server *, const char *method,
	    const char *path, http_handler_fn, void *ctx);
/*
 * Adds a route for every path that starts with prefix (copied; must end
 * in '/': "/approve/"), as http_route_add otherwise.  An exact route
 * wins over a prefix; of prefixes, the first added that matches.
 */
int	http_route_prefix(struct http_server *, const char *method,
	    const char *prefix, http_handler_fn, void *ctx);
/*
 * Sets the route for every path no http_route_add names (replacing any
 * earlier one), before start.  admit may be NULL (body limited to
 * opts->max_body).  ctx is borrowed and must outlive the server.
 */
void	http_route_fallback(struct http_server *, http_admit_fn,
	    http_handler_fn, void *ctx);
/* Is a request for method and path answered by an exact route?  */
int	http_route_exists(const struct http_server *, const char *method,
	    const char *path);
/*
 * Binds every listen address and starts serving.  Returns 0, or -1 and
 * *err (owned) naming the address that failed (in use, not permitted,
 * unreadable TLS files); nothing is left listening on failure.
 */
int	http_server_start(struct http_server *, char **err);
/* The port bound for listen address i (useful with port 0), or 0. */
unsigned http_server_port(const struct http_server *, size_t i);
/*
 * Stops listening, waits for handlers in progress and joins every thread,
 * then frees.  NULL is a no-op.
 */
void	http_server_free(struct http_server *);

struct http_stats {
	uint64_t	requests;	/* answered */
	uint64_t	status_2xx, status_4xx, status_5xx;
	uint64_t	too_large;	/* 413 */
	uint64_t	reaped;		/* connections cut at the deadline */
	uint64_t	connections;	/* accepted since start */
	unsigned	open;		/* connections open now */
};
/* A snapshot of the counters (thread-safe, any thread). */
void	http_server_stats(const struct http_server *, struct http_stats *);

/* ---- helpers for handlers ------------------------------------------------ */

/* The first value of header name (case-insensitive), or NULL. */
const char *http_header_get(const struct http_request *, const char *name);
/* The first value of query argument name (exact case), or NULL. */
const char *http_arg_get(const struct http_request *, const char *name);
/* Sets status, content type (static) and body text (copied). */
void	http_reply(struct http_response *, int status, const char *ctype,
	    const char *body);
/*
 * Replies status with the JSON body {"error": MESSAGE} (message formatted,
 * escaped).
 */
void	http_reply_error(struct http_response *, int status,
	    const char *fmt, ...) UTIL_PRINTF(3, 4);
/* Adds a response header (both copied); ignored beyond the maximum. */
void	http_response_header(struct http_response *, const char *name,
	    const char *value);

#define HTTP_UNESCAPE_PLUS	1	/* '+' is a space (queries, forms) */
#define HTTP_UNESCAPE_STRICT	2	/* a malformed %-escape is an error */
/*
 * Percent-decodes s[0..n) into out (n + 1 bytes suffice; NUL-terminated,
 * though a %00 puts a NUL inside).  Returns the length, or -1 on a
 * malformed escape under HTTP_UNESCAPE_STRICT (without it the escape is
 * kept as it is, as request targets are read).
 */
long	http_unescape(const char *s, size_t n, int flags, char *out);

#endif /* HTTP_H */
