/*
 * The request deadline.  An idle timeout counts inactivity, so a client
 * that sends one header byte every few seconds (slow-loris) would hold
 * its connection forever.  Every connection is tracked from accept to
 * close; a reaper thread shuts down the socket of any connection whose
 * current request has taken longer than opts.request_timeout without
 * reaching a handler, and of a plain.c connection that moved no byte for
 * opts.idle_timeout (libmicrohttpd keeps its own idle timeout).  The
 * server serving it then sees the connection fail and closes it the
 * ordinary way.
 *
 * The fd is safe to shut down: a connection is unlinked under the lock
 * (http_conn_close, http_conn_unlink) before its socket closes, and the
 * reaper only touches linked connections under the same lock, so it never
 * reaches a reused descriptor.
 *
 * The same list bounds plain.c's connections: at most max_connections
 * per listener and max_per_ip from one address (http_conn_link).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include "http/http_int.h"

int64_t
http_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Under the lock: the reaper walks s->conns holding it, so a connection
 * is linked only while its fd is open.
 */
static void
link_conn(struct http_server *s, struct http_conn *c)
{
	TAILQ_INSERT_HEAD(&s->conns, c, link);
	s->open++;
}

/* Under the lock; before c's socket closes (see the top of the file). */
static void
unlink_conn(struct http_server *s, struct http_conn *c)
{
	TAILQ_REMOVE(&s->conns, c, link);
	s->open--;
}

struct http_conn *
http_conn_open(struct http_server *s, int fd)
{
	struct http_conn *c = xcalloc(1, sizeof *c);

	c->magic = HTTP_CONN_MAGIC;
	c->fd = fd;
	c->since = http_mono_ms();
	pthread_mutex_lock(&s->lock);
	link_conn(s, c);
	pthread_mutex_unlock(&s->lock);
	atomic_fetch_add(&s->n_conns, 1);
	return c;
}

void
http_conn_close(struct http_server *s, struct http_conn *c)
{
	if (c == NULL || c->magic != HTTP_CONN_MAGIC)
		return;
	pthread_mutex_lock(&s->lock);
	unlink_conn(s, c);
	pthread_mutex_unlock(&s->lock);
	c->magic = 0;
	free(c);
}

static int
same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)(const void *)a)->
		    sin_addr, &((const struct sockaddr_in *)(const void *)b)->
		    sin_addr, sizeof(struct in_addr)) == 0;
	return memcmp(&((const struct sockaddr_in6 *)(const void *)a)->
	    sin6_addr, &((const struct sockaddr_in6 *)(const void *)b)->
	    sin6_addr, sizeof(struct in6_addr)) == 0;
}

int
http_conn_link(struct http_server *s, struct http_conn *c)
{
	struct http_conn *o;
	unsigned same = 0;

	c->magic = HTTP_CONN_MAGIC;
	c->plain = 1;
	c->since = http_mono_ms();
	atomic_store(&c->last, c->since);
	pthread_mutex_lock(&s->lock);
	if (c->l->nconns >= s->o.max_connections) {
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	TAILQ_FOREACH(o, &s->conns, link)
		if (o->plain && o->l == c->l && same_ip(&o->peer, &c->peer) &&
		    ++same >= s->o.max_per_ip) {
			pthread_mutex_unlock(&s->lock);
			return -1;
		}
	link_conn(s, c);
	c->l->nconns++;
	pthread_mutex_unlock(&s->lock);
	atomic_fetch_add(&s->n_conns, 1);
	return 0;
}

void
http_conn_unlink(struct http_server *s, struct http_conn *c)
{
	pthread_mutex_lock(&s->lock);
	unlink_conn(s, c);
	c->l->nconns--;
	pthread_mutex_unlock(&s->lock);
	c->magic = 0;
}

void
http_conn_busy(struct http_server *s, struct http_conn *c, int busy)
{
	(void)s;
	if (c == NULL || c->magic != HTTP_CONN_MAGIC)
		return;
	/* no lock: the reaper reads both atomically, the clock first so
	   it never sees idle with the last request's start */
	if (!busy)
		atomic_store(&c->since, http_mono_ms());
	atomic_store(&c->busy, busy);
}

static void
reap(struct http_server *s, int64_t now)
{
	int64_t limit = (int64_t)s->o.request_timeout * 1000;
	int64_t idle = (int64_t)s->o.idle_timeout * 1000;
	struct http_conn *c;

	/* under the lock: every connection linked still has its fd open */
	TAILQ_FOREACH(c, &s->conns, link) {
		if (atomic_load(&c->busy) || c->reaped)
			continue;
		if (now - atomic_load(&c->since) < limit && (!c->plain ||
		    now - atomic_load(&c->last) < idle))
			continue;
		c->reaped = 1;
		if (shutdown(c->fd, SHUT_RDWR) == 0)
			atomic_fetch_add(&s->n_reaped, 1);
	}
}

static void *
reaper_main(void *arg)
{
	struct http_server *s = arg;
	struct timespec ts;

	pthread_mutex_lock(&s->lock);
	while (!s->stopping) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 250 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->wake, &s->lock, &ts);
		if (!s->stopping)
			reap(s, http_mono_ms());
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int
http_reaper_start(struct http_server *s, char **err)
{
	int e;

	s->stopping = 0;
	if ((e = pthread_create(&s->reaper, NULL, reaper_main, s)) != 0) {
		*err = xasprintf("cannot start the reaper thread: %s",
		    strerror(e));
		return -1;
	}
	s->reaper_on = 1;
	return 0;
}

void
http_reaper_stop(struct http_server *s)
{
	if (!s->reaper_on)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = 1;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->reaper, NULL);
	s->reaper_on = 0;
}
