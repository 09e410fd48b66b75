/*
 * Plain-text listeners, served without libmicrohttpd.
 *
 * libmicrohttpd 0.9.75 ends a header line at a bare LF (or a bare CR) and
 * joins an obs-fold line to the header before it under every option it
 * has; a proxy in front of us that reads either differently sees other
 * headers than we do (request smuggling).  Judging only a connection's
 * first head before the library read it cost keep-alive (every answer had
 * to close).  So on plain text we read HTTP/1.1 ourselves: every head on
 * a connection goes through parse.c's one strict grammar, and
 * connections stay open (keep-alive, pipelined requests answered in
 * order).  TLS listeners stay on libmicrohttpd (server.c).
 *
 * Threads: o.threads per listener, all waiting on one epoll set.  A
 * connection is registered EPOLLONESHOT, so exactly one thread owns it
 * from an event until it re-arms it: that thread reads, parses, runs the
 * handler (the handler API of http.h, unchanged), writes the answer and
 * goes on with any pipelined bytes, with no hand-off between threads and
 * no lock on the connection.  A handler that waits (the webhook's durable
 * commit) holds its thread; the other threads serve the other
 * connections meanwhile.
 *
 * Bounds, as the libmicrohttpd side has them: max_header bytes of head
 * (431; the empty lines skipped before a request line count, so a head
 * of them cannot fill the buffer unanswered), the route's body limit
 * (413 from Content-Length before any body byte, or as a chunked body
 * grows past it), max_connections per listener (past it the backlog
 * waits: the listener is not re-armed until one closes), max_per_ip
 * (closed at once), the idle timeout and the request deadline (reaper.c
 * shuts the socket; the owning thread then sees it fail: no state waits
 * on a readable socket without reading it).  Out of descriptors,
 * accepting pauses ACCEPT_PAUSE ms.  An answer that refuses a request
 * whose body was not read (400, 413, 431...) closes the connection after
 * it: the client's unread bytes are drained for a while first (lingering
 * close), so the answer is not lost to a reset.
 */
#define _GNU_SOURCE	/* accept4 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "http/http_int.h"

/*
 * EPOLLONESHOT hands a socket's object (connection or listener) from the
 * thread that re-arms it to the thread epoll_wait wakes for it.  GCC 12's
 * ThreadSanitizer orders an EPOLL_CTL_ADD before the wait that returns its
 * event, but not an EPOLL_CTL_MOD: every re-armed connection read as a
 * race between the two threads (make e2e-tsan).  Under -fsanitize=thread
 * the hand-off is told to it; elsewhere these are nothing.
 */
#ifdef __SANITIZE_THREAD__
#include <sanitizer/tsan_interface.h>
#define HANDOFF_GIVE(tag)	__tsan_release(tag)
#define HANDOFF_TAKE(tag)	__tsan_acquire(tag)
#else
#define HANDOFF_GIVE(tag)	((void)(tag))
#define HANDOFF_TAKE(tag)	((void)(tag))
#endif

#define ACCEPT_BATCH	64
#define ACCEPT_PAUSE	100		/* ms: no descriptor (EMFILE), wait */
#define LINGER_MAX	(1u << 20)	/* bytes drained before a close */
#define MIN_IN		4096		/* bytes: the read buffer at least */

struct plain {
	struct http_server	*s;
	int			 ep;		/* owned: epoll, every socket */
	int			 stop;		/* owned: eventfd, level */
	pthread_t		*threads;	/* owned */
	size_t			 nthreads;
};

/* bytes of a body's buffer the connection keeps for its next request */
#define BODY_KEEP	(16 * 1024)

enum { RD_HEAD, RD_BODY, RD_CHUNKS };
enum { WAIT_IN, WAIT_OUT, CLOSE };

struct pconn {
	struct http_conn	 hc;	/* first: epoll's tag is its magic */
	struct plain		*pl;
	int			 state;		/* RD_ */
	/* bytes read: in[off..len) not consumed yet */
	char			*in;		/* owned */
	size_t			 off, len, cap;
	struct http_scan	 scan;
	/* the request being read */
	char			*head;		/* owned: its head, split */
	struct http_msg		 m;
	struct http_request	 hr;
	struct http_header	 args[HTTP_MAX_ARGS];
	char			*target;	/* owned: decoded path, args */
	struct http_call	 call;
	struct buf		 body;
	long long		 need;		/* Content-Length bytes left */
	struct http_chunks	 ch;
	struct http_response	 resp;
	char			 remote[INET6_ADDRSTRLEN];
	/* the answers: out[outoff..len) unsent */
	struct buf		 out;
	size_t			 outoff;
	int			 close_after;	/* close once out is sent */
	int			 lingering;	/* draining before close */
	size_t			 drained;
};

/* ---- the listening sockets ---------------------------------------------- */

int
http_plain_listen(struct http_listener *l, char **err)
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
	    ((struct sockaddr_in6 *)(void *)&got)->sin6_port :
	    ((struct sockaddr_in *)(void *)&got)->sin_port);
	return 0;
fail:
	*err = xasprintf("cannot listen on %s: %s", l->text, strerror(errno));
	if (fd != -1)
		close(fd);
	return -1;
}

/* ---- connections --------------------------------------------------------- */

static int
arm(struct plain *pl, int fd, void *tag, uint32_t events, int op)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof ev);
	ev.events = events | EPOLLONESHOT;
	ev.data.ptr = tag;
	HANDOFF_GIVE(tag);	/* before: another thread may run it at once */
	return epoll_ctl(pl->ep, op, fd, &ev);
}

static void
request_clear(struct pconn *c)
{
	/* a keep-alive sender's next body reuses a small one's memory: a
	   fresh allocation of 1 KB or more for each request made glibc's
	   malloc consolidate its free lists each time */
	if (c->body.cap > BODY_KEEP)
		buf_free(&c->body);
	else
		buf_reset(&c->body);
	http_response_clear(&c->resp);
	memset(&c->resp, 0, sizeof c->resp);
	free(c->target);
	c->target = NULL;
	memset(&c->hr, 0, sizeof c->hr);
	memset(&c->ch, 0, sizeof c->ch);
	c->need = 0;
	c->state = RD_HEAD;
}

static void
conn_free(struct pconn *c)
{
	request_clear(c);
	buf_free(&c->body);	/* request_clear keeps a small one */
	buf_free(&c->out);
	free(c->in);
	free(c->head);
	free(c);
}

/* Unlinks, closes and frees c; re-arms a listener that was full. */
static void
conn_close(struct plain *pl, struct pconn *c)
{
	struct http_server *s = pl->s;
	struct http_listener *l = c->hc.l;
	int resume = 0;

	http_conn_unlink(s, &c->hc);
	pthread_mutex_lock(&s->lock);
	if (l->paused && l->nconns < s->o.max_connections) {
		l->paused = 0;
		resume = 1;
	}
	pthread_mutex_unlock(&s->lock);
	close(c->hc.fd);	/* leaves the epoll set with it */
	conn_free(c);
	if (resume)
		arm(pl, l->lfd, l, EPOLLIN, EPOLL_CTL_MOD);
}

static const char *
reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return status < 300 ? "OK" : status < 500 ? "Client Error" :
	    "Server Error";
	}
}

/* The Date header's text, made once a second per thread. */
static const char *
date_now(void)
{
	static _Thread_local char text[64];
	static _Thread_local time_t made = -1;
	struct tm tm;
	time_t now = time(NULL);

	if (now != made) {
		gmtime_r(&now, &tm);
		strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		made = now;
	}
	return text;
}

static int
header_text_ok(const char *t)
{
	return strpbrk(t, "\r\n") == NULL && *t != '\0';
}

/*
 * Queues c->resp as the answer; close: the connection ends after it.
 * Then readies c for its next request.
 */
static void
respond(struct pconn *c, int close)
{
	struct http_response *rs = &c->resp;
	int head = c->hr.method != NULL && strcmp(c->hr.method, "HEAD") == 0;
	size_t i;

	if (rs->status == 0)
		rs->status = 200;
	if (c->m.close)
		close = 1;
	/* piece by piece: buf_printf's two vsnprintf passes were ~6k
	   instructions, a twentieth of a small webhook request's */
	buf_adds(&c->out, "HTTP/1.1 ");
	buf_add_int(&c->out, rs->status);
	buf_addc(&c->out, ' ');
	buf_adds(&c->out, reason(rs->status));
	buf_adds(&c->out, "\r\nDate: ");
	buf_adds(&c->out, date_now());
	buf_adds(&c->out, "\r\nContent-Type: ");
	buf_adds(&c->out, rs->content_type ? rs->content_type :
	    "text/plain; charset=utf-8");
	buf_adds(&c->out, "\r\nContent-Length: ");
	buf_add_int(&c->out, (long long)rs->body.len);
	buf_adds(&c->out, close ? "\r\nConnection: close\r\n" :
	    c->m.minor == 0 ? "\r\nConnection: keep-alive\r\n" : "\r\n");
	for (i = 0; i < rs->nheaders; i++) {
		if (!header_text_ok(rs->headers[i].name) ||
		    strpbrk(rs->headers[i].value, "\r\n") != NULL) {
			http_log(c->pl->s, "http: response header %s refused",
			    rs->headers[i].name);
			continue;
		}
		buf_adds(&c->out, rs->headers[i].name);
		buf_adds(&c->out, ": ");
		buf_adds(&c->out, rs->headers[i].value);
		buf_adds(&c->out, "\r\n");
	}
	buf_add(&c->out, "\r\n", 2);
	if (!head && rs->body.len)
		buf_add(&c->out, rs->body.data, rs->body.len);
	http_count_status(c->pl->s, rs->status);
	c->close_after |= close;
	request_clear(c);
}

/* Refuses the request now: status and message, and the connection ends. */
static void
refuse(struct pconn *c, int status, const char *what, const char *why)
{
	request_clear(c);
	http_reply_error(&c->resp, status, "%s%s", what, why);
	respond(c, 1);
}

/* The request target: path and query arguments, decoded. */
static void
split_target(struct pconn *c)
{
	const char *t = c->m.target, *q = strchr(t, '?'), *p, *amp, *eq;
	size_t tl = strlen(t), pl = q ? (size_t)(q - t) : tl, o;
	char *d;

	/* the decoded path and each argument's name and value, each
	   NUL-terminated: at most the target plus two NULs an argument */
	c->target = d = xmalloc(tl + 2 + 2 * HTTP_MAX_ARGS);
	c->hr.path = d;
	o = (size_t)http_unescape(t, pl, 0, d) + 1;
	c->hr.args = c->args;
	c->hr.nargs = 0;
	for (p = q ? q + 1 : NULL; p != NULL && *p; p = amp ? amp + 1 :
	    NULL) {
		size_t kl, vl;

		amp = strchr(p, '&');
		kl = amp ? (size_t)(amp - p) : strlen(p);
		if (kl == 0)
			continue;
		if (c->hr.nargs == HTTP_MAX_ARGS) {
			c->m.status = 431;	/* too many */
			return;
		}
		eq = memchr(p, '=', kl);
		vl = eq ? kl - (size_t)(eq - p) - 1 : 0;
		kl = eq ? (size_t)(eq - p) : kl;
		c->args[c->hr.nargs].name = d + o;
		o += (size_t)http_unescape(p, kl, HTTP_UNESCAPE_PLUS, d + o) +
		    1;
		c->args[c->hr.nargs].value = d + o;
		o += (size_t)http_unescape(eq ? eq + 1 : "", vl,
		    HTTP_UNESCAPE_PLUS, d + o) + 1;
		c->hr.nargs++;
	}
}

/* Runs the handler on the whole request and queues its answer. */
static void
dispatch(struct pconn *c)
{
	struct http_server *s = c->pl->s;

	c->hr.body = c->body.data ? c->body.data : "";
	c->hr.body_len = c->body.len;
	http_conn_busy(s, &c->hc, 1);
	c->call.fn(c->call.ctx, &c->hr, &c->resp);
	http_conn_busy(s, &c->hc, 0);
	respond(c, 0);
}

/* A complete head is in[off + skip .. off + at): read it, route it. */
static void
take_head(struct pconn *c)
{
	struct http_server *s = c->pl->s;
	size_t skip = c->scan.skip, n = c->scan.at - skip;
	const char *why;
	int body;

	memcpy(c->head, c->in + c->off + skip, n);
	c->head[n] = '\0';
	c->off += c->scan.at;
	memset(&c->scan, 0, sizeof c->scan);
	if (http_head_parse(c->head, n, &c->m, &why) == -1) {
		c->m.close = 1;
		refuse(c, c->m.status, "bad request head: ", why);
		return;
	}
	c->hr.method = c->m.method;
	c->hr.headers = c->m.h;
	c->hr.nheaders = c->m.nh;
	c->hr.remote = c->remote;
	split_target(c);
	if (c->m.status == 431) {
		refuse(c, 431, "more than 100 query arguments", "");
		return;
	}
	body = c->m.chunked || c->m.clen > 0;
	http_route_call(s, &c->hr, &c->resp, &c->call);
	if (c->resp.status != 0) {	/* answered from the head */
		respond(c, body);	/* its body unread: close after */
		return;
	}
	if ((unsigned long long)c->m.clen > c->call.limit) {
		char why413[96];

		snprintf(why413, sizeof why413, "the body (%lld bytes) "
		    "exceeds the limit of %zu bytes", c->m.clen, c->call.limit);
		refuse(c, 413, why413, "");
		return;
	}
	buf_reset(&c->body);		/* empty, maybe allocated */
	c->body.max = c->call.limit;
	if (c->m.clen > 0) {	/* one allocation for the whole body */
		xgrow(&c->body.data, &c->body.cap, (size_t)c->m.clen + 1, 1);
		c->body.data[0] = '\0';
	}
	c->need = c->m.clen;
	c->state = c->m.chunked ? RD_CHUNKS : RD_BODY;
	if (body && c->m.expect100 && c->m.minor == 1 && c->off == c->len)
		buf_adds(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
	if (!body)
		dispatch(c);
}

/* The head outgrew max_header bytes: 431, and the connection ends. */
static void
too_large(struct pconn *c)
{
	c->m.close = 1;
	refuse(c, 431, "the request head exceeds ", "the limit");
}

/*
 * Consumes buffered bytes: 1 it made progress (maybe an answer queued),
 * 0 it needs more bytes.
 */
static int
step(struct pconn *c)
{
	struct http_server *s = c->pl->s;
	size_t avail = c->len - c->off, used, k;
	const char *why;
	int rc;

	if (avail == 0)
		return 0;
	switch (c->state) {
	case RD_HEAD:
		rc = http_head_scan(&c->scan, c->in + c->off, avail, &why);
		if (rc == -1) {
			c->m.close = 1;
			refuse(c, 400, "bad request head: ", why);
			return 1;
		}
		if (rc == 1) {
			take_head(c);
			return 1;
		}
		/* the skipped empty lines count: they fill the buffer
		   (max_header bytes) as well as the head's own lines do */
		if (avail >= s->o.max_header) {
			too_large(c);
			return 1;
		}
		return 0;
	case RD_BODY:
		k = avail < (unsigned long long)c->need ? avail :
		    (size_t)c->need;
		buf_add(&c->body, c->in + c->off, k);
		c->off += k;
		if ((c->need -= (long long)k) == 0)
			dispatch(c);
		return 1;
	default:
		rc = http_chunk_feed(&c->ch, c->in + c->off, avail, &c->body,
		    &used, &why);
		c->off += used;
		if (rc == 1)
			dispatch(c);
		else if (rc == -1)
			refuse(c, 400, "bad chunked body: ", why);
		else if (rc == -2) {
			char msg[64];

			snprintf(msg, sizeof msg, "%zu bytes", c->call.limit);
			refuse(c, 413, "the body exceeds the limit of ", msg);
		}
		return 1;
	}
}

/*
 * Reads what the socket has: 1 bytes came, 0 none yet, -1 ended, -2 the
 * buffer is full of bytes step could not consume.
 */
static int
fill(struct pconn *c)
{
	ssize_t k;

	if (c->off == c->len)
		c->off = c->len = 0;
	else if (c->len == c->cap) {
		memmove(c->in, c->in + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	if (c->len == c->cap)
		return -2;	/* no recv: the socket stays readable */
	k = recv(c->hc.fd, c->in + c->len, c->cap - c->len, 0);
	if (k > 0) {
		c->len += (size_t)k;
		atomic_store(&c->hc.last, http_mono_ms());
		return 1;
	}
	if (k == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return 0;
	return -1;
}

/* Sends queued answers: 0 all sent or the socket is full, -1 failed. */
static int
flush(struct pconn *c)
{
	ssize_t k;

	while (c->outoff < c->out.len) {
		k = send(c->hc.fd, c->out.data + c->outoff,
		    c->out.len - c->outoff, MSG_NOSIGNAL);
		if (k > 0) {
			c->outoff += (size_t)k;
			atomic_store(&c->hc.last, http_mono_ms());
			continue;
		}
		if (k == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (k == -1 && errno == EINTR)
			continue;
		return -1;
	}
	buf_reset(&c->out);
	c->outoff = 0;
	return 0;
}

/* After the last answer: the client's bytes are drained, then closed. */
static int
linger(struct pconn *c)
{
	char sink[4096];
	ssize_t k;

	if (!c->lingering) {
		c->lingering = 1;
		shutdown(c->hc.fd, SHUT_WR);
	}
	while ((k = recv(c->hc.fd, sink, sizeof sink, 0)) > 0)
		if ((c->drained += (size_t)k) > LINGER_MAX)
			return CLOSE;
	if (k == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return WAIT_IN;
	return CLOSE;
}

/* Serves c as far as its bytes go: what to wait for next. */
static int
advance(struct pconn *c)
{
	int answered = 0, rc;

	for (;;) {
		if (c->outoff < c->out.len) {
			if (flush(c) == -1)
				return CLOSE;
			if (c->outoff < c->out.len)
				return WAIT_OUT;
		}
		if (c->close_after)
			return linger(c);
		while (!c->close_after && c->out.len == 0 && step(c))
			;
		if (c->out.len > 0 || c->close_after) {
			answered = 1;
			continue;
		}
		/* everything read was answered: wait for more at once,
		   without a read that would only find the socket empty */
		if (answered && c->off == c->len && c->state == RD_HEAD)
			return WAIT_IN;
		if ((rc = fill(c)) == 0)
			return WAIT_IN;
		if (rc == -1)
			return CLOSE;
		/*
		 * Never wait on a readable socket without reading it:
		 * level-triggered epoll would wake us at once, forever,
		 * and the reaper's shutdown would go unseen.  Only a head
		 * fills the buffer (step consumes every body byte), and
		 * step refuses one at max_header = cap bytes; this is the
		 * backstop should that ever change.
		 */
		if (rc == -2)
			too_large(c);
	}
}

static void
conn_event(struct plain *pl, struct pconn *c)
{
	int next = advance(c);

	if (next == CLOSE || arm(pl, c->hc.fd, c, next == WAIT_IN ?
	    EPOLLIN | EPOLLRDHUP : EPOLLOUT, EPOLL_CTL_MOD) == -1)
		conn_close(pl, c);
}

static void
peer_text(struct pconn *c)
{
	const struct sockaddr_storage *sa = &c->hc.peer;

	c->remote[0] = '\0';
	if (sa->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr, c->remote, sizeof c->remote);
	else if (sa->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr, c->remote,
		    sizeof c->remote);
}

/* Accepts what waits on l, then re-arms it unless it is full. */
static void
take_new(struct plain *pl, struct http_listener *l)
{
	struct http_server *s = pl->s;
	struct timespec pause = { 0, ACCEPT_PAUSE * 1000000L };
	socklen_t salen;
	struct pconn *c;
	int k, fd, one = 1, rearm;

	for (k = 0; k < ACCEPT_BATCH; k++) {
		c = xcalloc(1, sizeof *c);
		salen = sizeof c->hc.peer;
		fd = accept4(l->lfd, (struct sockaddr *)&c->hc.peer, &salen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			free(c);
			/*
			 * Out of descriptors (or memory): the connection
			 * stays in the backlog and the listener reads ready
			 * at once again; pause rather than spin a core.
			 */
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				nanosleep(&pause, NULL);
			break;		/* EAGAIN, or an aborted connection */
		}
		c->hc.fd = fd;
		c->hc.l = l;
		c->pl = pl;
		if (http_conn_link(s, &c->hc) == -1) {
			close(fd);	/* past a limit: closed at once */
			free(c);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		peer_text(c);
		c->cap = s->o.max_header > MIN_IN ? s->o.max_header : MIN_IN;
		c->in = xmalloc(c->cap);
		c->head = xmalloc(s->o.max_header + 1);
		buf_init(&c->out, 0);
		if (arm(pl, fd, c, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_ADD) == -1)
			conn_close(pl, c);
	}
	pthread_mutex_lock(&s->lock);
	rearm = l->nconns < s->o.max_connections;
	l->paused = !rearm;	/* the backlog waits; a close resumes */
	pthread_mutex_unlock(&s->lock);
	if (rearm)
		arm(pl, l->lfd, l, EPOLLIN, EPOLL_CTL_MOD);
}

static void *
plain_run(void *arg)
{
	struct plain *pl = arg;
	struct epoll_event ev;
	unsigned *tag;
	int k;

	for (;;) {
		/* one event at a time: a handler may wait, and the other
		   threads take the other sockets meanwhile */
		k = epoll_wait(pl->ep, &ev, 1, -1);
		if (k == -1 && errno == EINTR)
			continue;
		if (k <= 0 || (tag = ev.data.ptr) == NULL)
			break;		/* http_plain_stop */
		HANDOFF_TAKE(tag);
		if (*tag == HTTP_LISTENER_MAGIC)
			take_new(pl, ev.data.ptr);
		else if (*tag == HTTP_CONN_MAGIC)
			conn_event(pl, ev.data.ptr);
	}
	return NULL;
}

int
http_plain_start(struct http_server *s, char **err)
{
	struct plain *pl = xcalloc(1, sizeof *pl);
	struct epoll_event ev;
	size_t i, nplain = 0;

	pl->s = s;
	pl->ep = pl->stop = -1;
	s->plain = pl;
	if ((pl->ep = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (pl->stop = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		*err = xasprintf("http: cannot make an epoll set: %s",
		    strerror(errno));
		return -1;
	}
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;		/* level: wakes every thread */
	ev.data.ptr = NULL;
	if (epoll_ctl(pl->ep, EPOLL_CTL_ADD, pl->stop, &ev) == -1)
		goto fail;
	for (i = 0; i < s->nl; i++)
		if (s->l[i].lfd != -1) {
			nplain++;
			if (arm(pl, s->l[i].lfd, &s->l[i], EPOLLIN,
			    EPOLL_CTL_ADD) == -1)
				goto fail;
		}
	pl->threads = xcalloc(s->o.threads * nplain, sizeof *pl->threads);
	for (i = 0; i < s->o.threads * nplain; i++) {
		if (pthread_create(&pl->threads[i], NULL, plain_run, pl) != 0) {
			*err = xstrdup("http: cannot start a server thread");
			return -1;
		}
		pl->nthreads++;
	}
	return 0;
fail:
	*err = xasprintf("http: cannot watch a socket: %s", strerror(errno));
	return -1;
}

void
http_plain_stop(struct http_server *s)
{
	struct plain *pl = s->plain;
	struct http_conn *c, *next;
	uint64_t one = 1;
	size_t i;

	if (pl != NULL) {
		if (pl->stop != -1 && write(pl->stop, &one, sizeof one) == -1)
			http_log(s, "http: cannot stop the server threads: %s",
			    strerror(errno));
		for (i = 0; i < pl->nthreads; i++)
			pthread_join(pl->threads[i], NULL);
		/* no thread left: every connection is ours to close */
		for (c = TAILQ_FIRST(&s->conns); c != NULL; c = next) {
			next = TAILQ_NEXT(c, link);	/* c may be freed */
			if (c->plain)
				conn_close(pl, (struct pconn *)(void *)c);
		}
		if (pl->stop != -1)
			close(pl->stop);
		if (pl->ep != -1)
			close(pl->ep);
		free(pl->threads);
		free(pl);
		s->plain = NULL;
	}
	for (i = 0; i < s->nl; i++)
		if (s->l[i].lfd != -1) {
			close(s->l[i].lfd);
			s->l[i].lfd = -1;
		}
}
