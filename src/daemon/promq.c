/*
 * The prometheus sources' queries, off the engine thread.
 *
 * A prometheus source is evaluated by a query to Prometheus, which may
 * take up to its timeout (5 s by default) when Prometheus is slow, down
 * behind a proxy, or overloaded in the very incident remediate is for.
 * Asked on the engine thread, every such query held every decision
 * behind it (OOM kills, webhooks, outcomes), one source after another at
 * every interval.  So the engine thread only asks (promq_ask) and later
 * feeds the answer to its source (promq_collect); one thread of its own
 * does the waiting.
 *
 * A source has at most one query in flight, named by a key the caller
 * makes of what the query depends on (source, query, URL): a reload that
 * changed any of them finds no source for an old answer, which is then
 * dropped.  The busy keys are the engine thread's alone; the jobs and
 * answers between the two threads are under the lock.  Stopping gives up
 * the query under way (libcurl looks at the cancel flag every second),
 * since the lease is handed over only once the daemon has stopped.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/promq.h"
#include "util/util.h"

struct job {
	struct job		*next;
	char			*key, *url, *query;	/* owned */
	long			 timeout_ms;
	int64_t			 asked;
	int			 rc;
	struct prom_result	 res;
	char			*err;		/* owned */
};

struct promq {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	pthread_t	 thread;
	struct job	*todo, *todo_tail;	/* asked, oldest first */
	struct job	*done, *done_tail;	/* answered, oldest first */
	int		 stop;
	atomic_int	 cancel;	/* promq_free: give up the query
					   under way */
	struct map	 busy;		/* engine thread: key -> (void *)1 */
};

static void
job_free(struct job *j)
{
	free(j->key);
	free(j->url);
	free(j->query);
	prom_result_clear(&j->res);
	free(j->err);
	free(j);
}

static void
append(struct job **head, struct job **tail, struct job *j)
{
	j->next = NULL;
	if (*tail)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

static void *
worker(void *arg)
{
	struct promq *q = arg;
	struct job *j;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (q->todo == NULL && !q->stop)
			pthread_cond_wait(&q->cv, &q->mu);
		if (q->stop)
			break;
		j = q->todo;
		q->todo = j->next;
		if (q->todo == NULL)
			q->todo_tail = NULL;
		pthread_mutex_unlock(&q->mu);
		memset(&j->res, 0, sizeof j->res);
		j->rc = prom_query(j->url, j->query, j->timeout_ms, j->asked,
		    &q->cancel, &j->res, &j->err);
		pthread_mutex_lock(&q->mu);
		append(&q->done, &q->done_tail, j);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

struct promq *
promq_new(void)
{
	struct promq *q = xcalloc(1, sizeof *q);

	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	map_init(&q->busy);
	if (pthread_create(&q->thread, NULL, worker, q) != 0) {
		pthread_cond_destroy(&q->cv);
		pthread_mutex_destroy(&q->mu);
		free(q);
		return NULL;
	}
	return q;
}

static void
drop_all(struct job *j)
{
	struct job *next;

	for (; j; j = next) {
		next = j->next;
		job_free(j);
	}
}

void
promq_free(struct promq *q)
{
	if (q == NULL)
		return;
	pthread_mutex_lock(&q->mu);
	q->stop = 1;
	atomic_store(&q->cancel, 1);	/* a hung Prometheus holds no stop */
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->thread, NULL);
	drop_all(q->todo);
	drop_all(q->done);
	map_clear(&q->busy, NULL);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q);
}

int
promq_busy(const struct promq *q, const char *key)
{
	return map_get(&q->busy, key) != NULL;
}

size_t
promq_in_flight(const struct promq *q)
{
	return q->busy.live;
}

void
promq_ask(struct promq *q, const char *key, const char *url,
    const char *query, long timeout_ms, int64_t now)
{
	struct job *j = xcalloc(1, sizeof *j);

	j->key = xstrdup(key);
	j->url = xstrdup(url);
	j->query = xstrdup(query);
	j->timeout_ms = timeout_ms;
	j->asked = now;
	map_put(&q->busy, key, (void *)1);
	pthread_mutex_lock(&q->mu);
	append(&q->todo, &q->todo_tail, j);
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

void
promq_collect(struct promq *q, promq_answer_fn *fn, void *ctx)
{
	struct job *j, *next;

	pthread_mutex_lock(&q->mu);
	j = q->done;
	q->done = q->done_tail = NULL;
	pthread_mutex_unlock(&q->mu);
	for (; j; j = next) {
		next = j->next;
		map_del(&q->busy, j->key);
		fn(ctx, j->key, j->asked, j->rc == 0 ? &j->res : NULL,
		    j->err);
		job_free(j);
	}
}
