/*
 * The server's private layout, shared by the files of the http module
 * (server.c routes requests and runs libmicrohttpd for TLS listeners,
 * plain.c serves plain-text listeners itself, parse.c is the grammar of a
 * request head and a chunked body, reaper.c enforces the request deadline
 * and the idle timeout, addr.c parses listen addresses).  Not part of the
 * public surface.
 */
#ifndef HTTP_INT_H
#define HTTP_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "http/http.h"

#define HTTP_SERVER_MAGIC	0x68747073u	/* "htps" */
#define HTTP_LISTENER_MAGIC	0x6874706cu	/* "htpl" */
#define HTTP_CONN_MAGIC		0x68747063u	/* "htpc" */
#define HTTP_REQ_MAGIC		0x68747072u	/* "htpr" */

struct MHD_Daemon;

/* One parsed listen address. */
struct http_addr {
	struct sockaddr_storage	 sa;
	socklen_t		 salen;
	int			 any;	/* ":PORT": every address, v4 and v6 */
	int			 v6;
	unsigned		 port;
};

struct http_route {
	char		*method;	/* owned; NULL: any */
	char		*path;		/* owned */
	int		 prefix;	/* path is a prefix ending in '/' */
	http_handler_fn	 fn;
	void		*ctx;		/* borrowed */
};

/*
 * One listening socket and what serves it: libmicrohttpd (TLS) or
 * plain.c.
 */
struct http_listener {
	unsigned		 magic;
	struct http_server	*srv;
	struct MHD_Daemon	*d;		/* TLS; NULL: plain.c */
	struct http_addr	 addr;
	char			*text;		/* owned: as given */
	unsigned		 port;		/* bound */
	int			 plain;		/* plain text: plain.c serves */
	int			 lfd;		/* plain.c's listening socket,
						   -1 none */
	/* plain.c, under the server's lock */
	unsigned		 nconns;	/* open now */
	int			 paused;	/* full: not accepting */
};

/* A connection the reaper watches; lives from accept to close. */
struct http_conn {
	unsigned		 magic;
	TAILQ_ENTRY(http_conn)	 link;	/* in http_server.conns, under lock */
	int			 fd;
	/* atomic: set by the connection's thread without the lock */
	_Atomic int64_t		 since;		/* ms, monotonic: started */
	_Atomic int		 busy;		/* a handler owns the request */
	int			 reaped;
	/* plain.c's connections: the reaper also cuts them idle */
	int			 plain;
	_Atomic int64_t		 last;		/* ms: a byte moved */
	struct sockaddr_storage	 peer;
	struct http_listener	*l;
};

/* What the route table decided for one request (server.c). */
struct http_call {
	http_handler_fn		 fn;
	void			*ctx;		/* borrowed */
	size_t			 limit;		/* body bytes */
};

/* parse.c: where a request head's scan stands (zero it to start). */
struct http_scan {
	size_t			 at;	/* bytes judged: whole lines */
	size_t			 lines;	/* request and header lines */
	size_t			 skip;	/* empty lines before the request */
};

/* parse.c: a request head split in place. */
struct http_msg {
	char			*method, *target;	/* in the head */
	int			 minor;		/* HTTP/1.minor */
	struct http_header	 h[HTTP_MAX_HEADERS];
	size_t			 nh;
	long long		 clen;		/* Content-Length, 0 none */
	int			 chunked;
	int			 close;		/* no keep-alive */
	int			 expect100;
	int			 status;	/* the refusal: 400, 431, 505 */
};

/* parse.c: a chunked body being read (zero it to start). */
struct http_chunks {
	int			 state;
	size_t			 left;		/* bytes of this chunk */
	unsigned		 digits, ext;
};

struct http_server {
	unsigned		 magic;
	struct http_opts	 o;		/* defaults filled in */
	struct http_route	*routes;	/* owned */
	size_t			 nroutes, caproutes;
	struct {
		http_admit_fn	 admit;
		http_handler_fn	 fn;
		void		*ctx;
	}			 fallback;
	struct http_listener	 l[HTTP_MAX_LISTEN];
	size_t			 nl;
	int			 started;
	char			*tls_cert, *tls_key;	/* owned PEM text */

	/* connections and the reaper, under lock */
	pthread_mutex_t		 lock;
	pthread_cond_t		 wake;
	TAILQ_HEAD(http_conns, http_conn) conns; /* open, newest first */
	_Atomic unsigned	 open;
	int			 stopping;
	int			 reaper_on;
	pthread_t		 reaper;

	_Atomic uint64_t	 n_requests, n_2xx, n_4xx, n_5xx, n_413,
				 n_reaped, n_conns;

	/* plain.c: the threads serving plain-text listeners */
	void			*plain;		/* owned by plain.c */
};

/* addr.c: parses "HOST:PORT"; 0, or -1 and *err (owned). */
int	http_addr_parse(const char *, struct http_addr *, char **err);

/* reaper.c */
int64_t	http_mono_ms(void);
int	http_reaper_start(struct http_server *, char **err);
void	http_reaper_stop(struct http_server *);
/* Called from libmicrohttpd's connection notifications. */
struct http_conn *http_conn_open(struct http_server *, int fd);
void	http_conn_close(struct http_server *, struct http_conn *);
/*
 * plain.c's connections, which embed their http_conn: linked for the
 * reaper (0), or -1 when l is at max_connections or the peer's address
 * at max_per_ip; unlinked before the socket closes.
 */
int	http_conn_link(struct http_server *, struct http_conn *);
void	http_conn_unlink(struct http_server *, struct http_conn *);
/* A request is being handled (busy 1) or is done (busy 0, clock reset). */
void	http_conn_busy(struct http_server *, struct http_conn *, int busy);

/*
 * parse.c.
 *
 * http_head_scan: judges the bytes p[0..n) of a connection, from where
 * sc stands (the same p, grown, on each call): 1 the head is complete
 * (p[sc->skip..sc->at) is the head, ending in its empty line), 0 it is
 * incomplete so far, -1 it is not sound (a bare LF or CR, an obs-fold
 * line, a NUL), with *why (static text).
 *
 * http_head_parse: splits a complete, scanned head p[0..n) in place into
 * m (pointers into p).  0, or -1 with *why (static) and m->status: 400
 * (a malformed line, ambiguous framing, no Host in HTTP/1.1), 431 (too
 * many headers), 505 (another HTTP version).
 *
 * http_framing_bad: the framing rules on a parsed header list (also
 * libmicrohttpd's): NULL when sound, else why (static).
 *
 * http_chunk_feed: reads chunked-body bytes p[0..n) into out (bounded by
 * out->max): 1 the body ended (*used bytes were its last), 0 it needs
 * more (all n used), -1 malformed (*why), -2 past out->max.
 */
int	http_head_scan(struct http_scan *, const char *p, size_t n,
	    const char **why);
int	http_head_parse(char *p, size_t n, struct http_msg *m,
	    const char **why);
const char *http_framing_bad(const struct http_header *, size_t n);
int	http_chunk_feed(struct http_chunks *, const char *p, size_t n,
	    struct buf *out, size_t *used, const char **why);

/*
 * server.c, shared with plain.c.  http_route_call: the route for a
 * parsed head (404, 405, the route's admit step), in *call, or an answer
 * now (resp->status set).  http_count_status: the counters of one
 * answer.  http_response_clear: frees a response's body and headers.
 */
void	http_route_call(struct http_server *, const struct http_request *,
	    struct http_response *, struct http_call *);
void	http_count_status(struct http_server *, int status);
void	http_response_clear(struct http_response *);

/*
 * plain.c.  http_plain_listen: opens l's listening socket (l->lfd,
 * l->port); 0, or -1 and *err (owned).  http_plain_start: the threads
 * serving every plain listener; 0, or -1 and *err.  http_plain_stop:
 * waits for handlers in progress, stops the threads, closes every
 * connection and the listening sockets; safe when not started.
 */
int	http_plain_listen(struct http_listener *, char **err);
int	http_plain_start(struct http_server *, char **err);
void	http_plain_stop(struct http_server *);

/* server.c's log helper, shared by the files. */
void	http_log(const struct http_server *, const char *fmt, ...)
	    UTIL_PRINTF(2, 3);

#endif /* HTTP_INT_H */
