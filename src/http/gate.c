/*
 * The gate: a request head is judged on the wire before libmicrohttpd
 * reads it.  libmicrohttpd 0.9.75 ends a header line at a bare LF (or a
 * bare CR) and joins an obs-fold line (one starting with a space or a
 * tab) to the header before it, under every option it has
 * (MHD_OPTION_STRICT_FOR_CLIENT included).  A proxy in front of us that
 * reads either differently sees other headers than we do (request
 * smuggling), so both are refused: 400 and close.
 *
 * On a plain-text listener we accept connections ourselves.  A new
 * connection waits here, in one thread per server polling them all, until
 * its head is complete: each time bytes arrive they are peeked (MSG_PEEK:
 * nothing is consumed) and scanned from the start, so a head split across
 * any number of TCP segments is judged whole.  A sound head is handed to
 * libmicrohttpd (MHD_add_connection), which reads it from the socket as
 * if it had accepted it; a bad one is answered 400 here and closed.
 *
 * The waiting connections are watched through an edge-triggered epoll
 * set: their peeked bytes stay in the socket, so a level-triggered poll
 * would report them readable again at once and spin this thread for as
 * long as a client holds a partial head open; an edge comes only when
 * new bytes (or the peer's end) arrive.
 *
 * Only the connection's first head can be peeked: libmicrohttpd reads
 * whatever follows.  So every response on a gated listener says
 * "Connection: close" (one request per connection) and bytes pipelined
 * behind the first request are never read.  That is what this costs:
 * keep-alive (docs/http.md has the figures).
 *
 * Bounds: a head that does not fit max_header bytes goes to
 * libmicrohttpd, which answers 431; a head that has cost PEEK_BUDGET
 * times max_header bytes of peeking (each arrival peeks all so far: a
 * big head in tiny pieces; a legitimate client sends it in one to three
 * segments) is refused, one silent for idle_timeout or incomplete at the
 * request deadline is closed, one whose peer ended it before a whole
 * head at once; at most max_connections wait, max_per_ip from one
 * address.  Out of descriptors, accepting pauses ACCEPT_PAUSE ms.  TLS listeners
 * are not gated: the bytes on the wire are ciphertext.
 */
#define _GNU_SOURCE	/* accept4, pipe2 */

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http/http_int.h"

#define PEEK_BUDGET	8	/* x max_header: bytes peeked per head */
#define ACCEPT_BATCH	64
#define ACCEPT_PAUSE	100	/* ms: no descriptor (EMFILE), wait */

struct pending {
	int			 fd;
	size_t			 l;		/* listener index */
	struct sockaddr_storage	 sa;
	socklen_t		 salen;
	int64_t			 deadline;	/* ms, monotonic */
	int64_t			 idle_until;	/* ms: no byte since */
	size_t			 seen;		/* bytes peeked last time */
	size_t			 copied;	/* bytes peeked in all */
	int			 ready;		/* an edge came: peek again */
	int			 ended;		/* the peer sends no more */
};

struct gate {
	struct http_server	*s;
	struct pending		*p;		/* owned */
	size_t			 n, cap, max;
	char			*buf;		/* owned: max_header bytes */
	struct pollfd		*pfd;		/* owned */
	int			 ep;		/* owned: epoll, the waiting ones
						   (edge-triggered) */
	int64_t			 paused_until;	/* ms: accept nothing before */
};

int
http_head_check(const char *p, size_t n, const char **why)
{
	size_t i, line = 0;
	int start = 1;

	*why = NULL;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r') {
			if (i + 1 == n)
				return 1;
			if (p[i + 1] != '\n') {
				*why = "a bare CR ends a line";
				return -1;
			}
			i++;
			if (start && line > 0)
				return 0;	/* the empty line: complete */
			if (!start || line > 0)
				line++;
			/* else an empty line before the request line:
			 * RFC 9112 2.2 lets a server ignore it */
			start = 1;
			continue;
		}
		if (c == '\n') {
			*why = "a bare LF ends a line (CRLF is required)";
			return -1;
		}
		if (c == '\0') {
			*why = "a NUL byte in the request head";
			return -1;
		}
		if (start && line > 0 && (c == ' ' || c == '\t')) {
			*why = "a header line folded onto the next (obs-fold)";
			return -1;
		}
		start = 0;
	}
	return 1;
}

/* ---- the listening sockets ---------------------------------------------- */

int
http_gate_listen(struct http_listener *l, char **err)
{
	struct sockaddr_in6 any6;
	struct sockaddr_in any4;
	const struct sockaddr *sa = (const struct sockaddr *)&l->addr.sa;
	socklen_t salen = l->addr.salen;
	struct sockaddr_storage got;
	socklen_t gotlen = sizeof got;
	int fd = -1, one = 1, zero = 0;

	if (l->addr.any) {
		memset(&any6, 0, sizeof any6);
		any6.sin6_family = AF_INET6;
		any6.sin6_addr = in6addr_any;
		any6.sin6_port = htons((uint16_t)l->addr.port);
		sa = (const struct sockaddr *)&any6;
		salen = sizeof any6;
	}
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1 && l->addr.any && errno == EAFNOSUPPORT) {
		/* no IPv6 here: every IPv4 address */
		memset(&any4, 0, sizeof any4);
		any4.sin_family = AF_INET;
		any4.sin_port = htons((uint16_t)l->addr.port);
		sa = (const struct sockaddr *)&any4;
		salen = sizeof any4;
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
	}
	if (fd == -1)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, l->addr.any ?
		    &zero : &one, sizeof one);
	/* no TCP_DEFER_ACCEPT: a silent flood must meet the per-address
	 * limit at once, not wait in the kernel */
	if (bind(fd, sa, salen) == -1 || listen(fd, SOMAXCONN) == -1 ||
	    getsockname(fd, (struct sockaddr *)&got, &gotlen) == -1)
		goto fail;
	l->lfd = fd;
	l->port = ntohs(got.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&got)->sin6_port :
	    ((struct sockaddr_in *)&got)->sin_port);
	return 0;
fail:
	*err = xasprintf("cannot listen on %s: %s", l->text, strerror(errno));
	if (fd != -1)
		close(fd);
	return -1;
}

/* ---- waiting connections ------------------------------------------------ */

static void
drop(struct gate *g, size_t i)
{
	g->p[i] = g->p[--g->n];
}

static int
same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
		    &((const struct sockaddr_in *)b)->sin_addr,
		    sizeof(struct in_addr)) == 0;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	    &((const struct sockaddr_in6 *)b)->sin6_addr,
	    sizeof(struct in6_addr)) == 0;
}

/* Answers 400 with why (JSON, as http_reply_error does) and closes. */
static void
refuse(struct gate *g, int fd, const char *why)
{
	char body[256], head[512];
	int bl, hl, i;

	/* read what was peeked: closing over unread bytes sends a reset,
	 * which can destroy the answer before the client reads it */
	for (i = 0; i < PEEK_BUDGET && recv(fd, g->buf, g->s->o.max_header,
	    MSG_DONTWAIT) > 0; i++)
		;
	bl = snprintf(body, sizeof body, "{\"error\":\"bad request head: "
	    "%s\"}\n", why);
	hl = snprintf(head, sizeof head, "HTTP/1.1 400 Bad Request\r\n"
	    "Content-Type: application/json\r\nContent-Length: %d\r\n"
	    "Connection: close\r\n\r\n", bl);
	/* best effort: the socket is non-blocking, the answer small */
	if (send(fd, head, (size_t)hl, MSG_NOSIGNAL | MSG_DONTWAIT) == hl)
		(void)send(fd, body, (size_t)bl, MSG_NOSIGNAL |
		    MSG_DONTWAIT);
	shutdown(fd, SHUT_WR);
	close(fd);
	atomic_fetch_add(&g->s->n_requests, 1);
	atomic_fetch_add(&g->s->n_4xx, 1);
}

/* Hands the connection to libmicrohttpd (which closes it on failure). */
static void
admit(struct gate *g, struct pending *c)
{
	struct http_listener *l = &g->s->l[c->l];

	/* libmicrohttpd's from now on: no edge of it wakes us */
	(void)epoll_ctl(g->ep, EPOLL_CTL_DEL, c->fd, NULL);
	if (MHD_add_connection(l->d, c->fd, (struct sockaddr *)&c->sa,
	    c->salen) != MHD_YES)
		http_log(g->s, "http %s: a connection was not taken: %s",
		    l->text, strerror(errno));
}

/*
 * Peeks at c's bytes: 1 keep waiting, 0 done with it (handed over,
 * refused or closed).
 */
static int
judge(struct gate *g, struct pending *c, int64_t now)
{
	const char *why;
	ssize_t k;
	int rc;

	k = recv(c->fd, g->buf, g->s->o.max_header, MSG_PEEK | MSG_DONTWAIT);
	if (k == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return 1;
	if (k <= 0) {			/* gone before a head */
		close(c->fd);
		return 0;
	}
	if ((size_t)k == c->seen && !c->ended)	/* nothing new */
		return 1;
	c->seen = (size_t)k;
	c->idle_until = now + (int64_t)g->s->o.idle_timeout * 1000;
	rc = http_head_check(g->buf, (size_t)k, &why);
	if (rc == -1) {
		refuse(g, c->fd, why);
		return 0;
	}
	if (rc == 0 || (size_t)k >= g->s->o.max_header) {
		admit(g, c);		/* a head too big: its 431 */
		return 0;
	}
	if (c->ended) {		/* a head that can no longer end */
		close(c->fd);
		return 0;
	}
	c->copied += (size_t)k;
	if (c->copied >= PEEK_BUDGET * g->s->o.max_header) {
		refuse(g, c->fd, "the head came in too many pieces");
		return 0;
	}
	return 1;
}

static void
take_new(struct gate *g, size_t li, int64_t now)
{
	struct pending c;
	struct epoll_event ev;
	size_t i, same;
	int k;

	for (k = 0; k < ACCEPT_BATCH && g->n < g->max; k++) {
		memset(&c, 0, sizeof c);
		c.salen = sizeof c.sa;
		c.fd = accept4(g->s->l[li].lfd, (struct sockaddr *)&c.sa,
		    &c.salen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c.fd == -1) {
			/*
			 * Out of descriptors (or memory): the connection
			 * stays in the backlog and the listener reads ready
			 * at once again; pause rather than spin a core.
			 */
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				g->paused_until = now + ACCEPT_PAUSE;
			return;		/* EAGAIN, or an aborted connection */
		}
		for (i = 0, same = 0; i < g->n; i++)
			same += same_ip(&g->p[i].sa, &c.sa);
		if (same >= g->s->o.max_per_ip) {
			close(c.fd);
			continue;
		}
		c.l = li;
		c.deadline = now + (int64_t)g->s->o.request_timeout * 1000;
		c.idle_until = now + (int64_t)g->s->o.idle_timeout * 1000;
		/* the head may be here already */
		if (judge(g, &c, now) == 0)
			continue;
		/* bytes between the peek and this call are an edge too */
		memset(&ev, 0, sizeof ev);
		ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
		ev.data.fd = c.fd;
		if (epoll_ctl(g->ep, EPOLL_CTL_ADD, c.fd, &ev) == -1) {
			close(c.fd);
			continue;
		}
		xgrow(&g->p, &g->cap, g->n + 1, sizeof *g->p);
		g->p[g->n++] = c;
	}
}

/* Marks the waiting connections an edge came for. */
static void
edges(struct gate *g)
{
	struct epoll_event ev[ACCEPT_BATCH];
	size_t i;
	int k, j;

	do {
		if ((k = epoll_wait(g->ep, ev, ACCEPT_BATCH, 0)) <= 0)
			return;
		for (j = 0; j < k; j++)
			for (i = 0; i < g->n; i++)
				if (g->p[i].fd == ev[j].data.fd) {
					g->p[i].ready = 1;
					g->p[i].ended |= (ev[j].events & (
					    EPOLLRDHUP | EPOLLHUP | EPOLLERR)) !=
					    0;
					break;
				}
	} while (k == ACCEPT_BATCH);
}

static void *
gate_run(void *arg)
{
	struct gate *g = arg;
	struct http_server *s = g->s;
	size_t i, np, nl = 0, lidx[HTTP_MAX_LISTEN];
	int64_t now, wait;
	int timeout;

	for (i = 0; i < s->nl; i++)
		if (s->l[i].lfd != -1)
			lidx[nl++] = i;
	g->pfd = xcalloc(2 + nl, sizeof *g->pfd);
	for (;;) {
		g->pfd[0].fd = s->gate_pipe[0];
		g->pfd[0].events = POLLIN;
		np = 1;
		now = http_mono_ms();
		wait = 1000;
		if (now < g->paused_until)
			wait = g->paused_until - now;
		for (i = 0; i < nl; i++) {	/* full: the backlog waits */
			g->pfd[np].fd = g->n < g->max && now >= g->paused_until ?
			    s->l[lidx[i]].lfd : -1;
			g->pfd[np++].events = POLLIN;
		}
		g->pfd[np].fd = g->ep;
		g->pfd[np++].events = POLLIN;
		for (i = 0; i < g->n; i++) {
			int64_t until = g->p[i].deadline < g->p[i].idle_until ?
			    g->p[i].deadline : g->p[i].idle_until;

			if (until - now < wait)
				wait = until - now;
		}
		timeout = wait < 0 ? 0 : (int)wait;
		if (poll(g->pfd, (nfds_t)np, timeout) == -1 && errno != EINTR)
			break;
		if (g->pfd[0].revents)
			break;		/* http_gate_stop */
		now = http_mono_ms();
		if (g->pfd[1 + nl].revents)
			edges(g);
		/* the waiting ones first */
		for (i = g->n; i-- > 0;) {
			struct pending *c = &g->p[i];

			if (c->ready) {
				c->ready = 0;
				if (judge(g, c, now) == 0) {
					drop(g, i);
					continue;
				}
			}
			if (now >= c->deadline || now >= c->idle_until) {
				close(c->fd);	/* slow or silent: cut */
				atomic_fetch_add(&s->n_reaped, 1);
				drop(g, i);
			}
		}
		for (i = 0; i < nl; i++)
			if (g->pfd[1 + i].revents)
				take_new(g, lidx[i], now);
	}
	for (i = 0; i < g->n; i++)
		close(g->p[i].fd);
	g->n = 0;
	return NULL;
}

int
http_gate_start(struct http_server *s, char **err)
{
	struct gate *g;

	if (pipe2(s->gate_pipe, O_CLOEXEC) == -1) {
		*err = xasprintf("http: cannot make a pipe: %s",
		    strerror(errno));
		return -1;
	}
	g = xcalloc(1, sizeof *g);
	g->s = s;
	if ((g->ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		*err = xasprintf("http: cannot make an epoll set: %s",
		    strerror(errno));
		free(g);
		close(s->gate_pipe[0]);
		close(s->gate_pipe[1]);
		return -1;
	}
	g->max = s->o.max_connections;
	g->buf = xmalloc(s->o.max_header);
	if (pthread_create(&s->gate, NULL, gate_run, g) != 0) {
		*err = xstrdup("http: cannot start the gate thread");
		close(g->ep);
		free(g->buf);
		free(g);
		close(s->gate_pipe[0]);
		close(s->gate_pipe[1]);
		return -1;
	}
	s->gate_ctx = g;
	s->gate_on = 1;
	return 0;
}

void
http_gate_stop(struct http_server *s)
{
	struct gate *g = s->gate_ctx;
	size_t i;

	if (s->gate_on) {
		if (write(s->gate_pipe[1], "x", 1) == -1)
			http_log(s, "http: cannot wake the gate: %s",
			    strerror(errno));
		pthread_join(s->gate, NULL);
		close(s->gate_pipe[0]);
		close(s->gate_pipe[1]);
		s->gate_on = 0;
		free(g->p);
		free(g->pfd);
		free(g->buf);
		close(g->ep);
		free(g);
		s->gate_ctx = NULL;
	}
	for (i = 0; i < s->nl; i++)
		if (s->l[i].lfd != -1) {
			close(s->l[i].lfd);
			s->l[i].lfd = -1;
		}
}
