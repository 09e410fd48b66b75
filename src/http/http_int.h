/*
 * The server's private layout, shared by the files of the http module
 * (server.c runs libmicrohttpd, reaper.c enforces the request deadline,
 * gate.c judges raw request heads before libmicrohttpd reads them,
 * addr.c parses listen addresses).  Not part of the public surface.
 */
#ifndef HTTP_INT_H
#define HTTP_INT_H

#include <pthread.h>
#include <stdatomic.h>
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

/* One listening socket and the libmicrohttpd daemon serving it. */
struct http_listener {
	unsigned		 magic;
	struct http_server	*srv;
	struct MHD_Daemon	*d;
	struct http_addr	 addr;
	char			*text;		/* owned: as given */
	unsigned		 port;		/* bound */
	int			 gated;		/* plain text: gate.c accepts */
	int			 lfd;		/* gate.c's listening socket,
						   -1 none */
};

/* A connection the reaper watches; lives from accept to close. */
struct http_conn {
	unsigned		 magic;
	struct http_conn	*prev, *next;
	int			 fd;
	int64_t			 since;		/* ms, monotonic: started */
	int			 busy;		/* a handler owns the request */
	int			 reaped;
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
	struct http_conn	*conns;
	_Atomic unsigned	 open;
	int			 stopping;
	int			 reaper_on;
	pthread_t		 reaper;

	_Atomic uint64_t	 n_requests, n_2xx, n_4xx, n_5xx, n_413,
				 n_reaped, n_conns;

	/* gate.c: the thread judging request heads before libmicrohttpd */
	pthread_t		 gate;
	int			 gate_on;
	int			 gate_pipe[2];	/* wakes it to stop */
	void			*gate_ctx;	/* owned by gate.c */
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
/* A request is being handled (busy 1) or is done (busy 0, clock reset). */
void	http_conn_busy(struct http_server *, struct http_conn *, int busy);

/*
 * gate.c.  http_head_check: judges the first n bytes of a connection (a
 * request head and maybe more): 0 the head is complete and sound, 1 it
 * is incomplete so far, -1 it is not sound (a bare LF or CR, an
 * obs-fold line, a NUL), with *why (static text).
 * http_gate_listen: opens l's listening socket (l->lfd, l->port); 0, or
 * -1 and *err (owned).  http_gate_start: the thread that accepts on
 * every gated listener; 0, or -1 and *err.  http_gate_stop: stops it
 * (closing the connections still waiting) and closes the listening
 * sockets; safe when not started.
 */
int	http_head_check(const char *p, size_t n, const char **why);
int	http_gate_listen(struct http_listener *, char **err);
int	http_gate_start(struct http_server *, char **err);
void	http_gate_stop(struct http_server *);

/* server.c's log helper, shared by the files. */
void	http_log(const struct http_server *, const char *fmt, ...)
	    UTIL_PRINTF(2, 3);

#endif /* HTTP_INT_H */
