/*
 * The pool: one mutex and one condition variable, for the workers.  A worker takes the oldest waiting job whose key is not
 * running; since the oldest job of a key always comes before the others
 * of that key, this keeps each key's order without a queue per key.  The
 * scan is linear in the waiting jobs, which max_jobs bounds; actions are
 * few next to the cost of the API calls they make.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool/pool.h"
#include "util/util.h"

#define POOL_MAGIC	0x706f6f6cU	/* "pool" */

struct job {
	char		*key;		/* owned, may be NULL */
	void		(*fn)(void *);
	void		*arg;		/* the submitter's */
	struct job	*next;
};

struct pool {
	unsigned	 magic;
	pthread_mutex_t	 mu;
	pthread_cond_t	 work;		/* a job came, or stopping */
	pthread_t	*threads;	/* owned: nthreads */
	size_t		 nthreads;
	struct job	*head, *tail;	/* waiting, oldest first */
	const char	**busy;		/* keys running: one slot per
					   worker, NULL free */
	size_t		 waiting, running, max_jobs;
	uint64_t	 done;
	int		 stopping;
};

static int
key_busy(const struct pool *p, const char *key)
{
	size_t i;

	if (key == NULL)
		return 0;
	for (i = 0; i < p->nthreads; i++)
		if (p->busy[i] && strcmp(p->busy[i], key) == 0)
			return 1;
	return 0;
}

/* The oldest waiting job whose key is free, unlinked; NULL if none. */
static struct job *
take(struct pool *p)
{
	struct job *j, *prev = NULL;

	for (j = p->head; j; prev = j, j = j->next) {
		if (key_busy(p, j->key))
			continue;
		if (prev)
			prev->next = j->next;
		else
			p->head = j->next;
		if (p->tail == j)
			p->tail = prev;
		j->next = NULL;
		p->waiting--;
		return j;
	}
	return NULL;
}

static void *
worker(void *arg)
{
	struct pool *p = arg;
	size_t slot = 0;
	struct job *j = NULL;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stopping && (j = take(p)) == NULL)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->stopping)
			break;
		/* j's key is not running: a free slot holds it (one per
		   worker, so there is always one) */
		slot = SIZE_MAX;
		if (j->key)
			for (slot = 0; p->busy[slot]; slot++)
				;
		if (slot != SIZE_MAX)
			p->busy[slot] = j->key;
		p->running++;
		pthread_mutex_unlock(&p->mu);
		j->fn(j->arg);
		pthread_mutex_lock(&p->mu);
		if (slot != SIZE_MAX)
			p->busy[slot] = NULL;
		p->running--;
		p->done++;
		free(j->key);
		free(j);
		/* its key is free: a job behind it may run now */
		pthread_cond_broadcast(&p->work);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct pool *
pool_new(size_t workers, size_t max_jobs)
{
	struct pool *p = xcalloc(1, sizeof *p);
	size_t i;

	if (workers == 0)
		workers = POOL_DEFAULT_WORKERS;
	if (workers > POOL_MAX_WORKERS)
		workers = POOL_MAX_WORKERS;
	p->magic = POOL_MAGIC;
	p->max_jobs = max_jobs ? max_jobs : POOL_DEFAULT_JOBS;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	p->busy = xcalloc(workers, sizeof *p->busy);
	p->threads = xcalloc(workers, sizeof *p->threads);
	for (i = 0; i < workers; i++) {
		if (pthread_create(&p->threads[i], NULL, worker, p) != 0)
			break;
		p->nthreads++;
	}
	if (p->nthreads == 0) {
		/* as an allocation that fails: no half-working pool */
		fprintf(stderr, "remediate: cannot start a worker thread\n");
		abort();
	}
	return p;
}

int
pool_submit(struct pool *p, const char *key, void (*fn)(void *), void *arg)
{
	struct job *j;

	if (p == NULL || p->magic != POOL_MAGIC)
		return -1;
	pthread_mutex_lock(&p->mu);
	if (p->stopping || p->waiting + p->running >= p->max_jobs) {
		pthread_mutex_unlock(&p->mu);
		return -1;
	}
	j = xcalloc(1, sizeof *j);
	j->key = key ? xstrdup(key) : NULL;
	j->fn = fn;
	j->arg = arg;
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	p->waiting++;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

void
pool_stats(struct pool *p, struct pool_stats *st)
{
	memset(st, 0, sizeof *st);
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	st->workers = p->nthreads;
	st->running = p->running;
	st->waiting = p->waiting;
	st->done = p->done;
	pthread_mutex_unlock(&p->mu);
}

void
pool_free(struct pool *p, void (*cancel)(void *))
{
	struct job *j, *next;
	size_t i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = 1;
	j = p->head;
	p->head = p->tail = NULL;
	p->waiting = 0;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (; j; j = next) {
		next = j->next;
		if (cancel)
			cancel(j->arg);
		free(j->key);
		free(j);
	}
	/* the running jobs finish; each worker then sees stopping */
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	free(p->threads);
	free(p->busy);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->mu);
	p->magic = 0;
	free(p);
}
