/*
 * Campaigning: one thread that reads the Lease every retry period and
 * writes it when the elector says so.  The elector is shared with the
 * threads that ask whether we lead (the engine before every action, the
 * HTTP threads for /readyz), under one mutex; requests are sent without
 * it, so a request that hangs delays only the next attempt, never the
 * answer to "may I act", which the fence decides from the clock alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kube/kube.h"
#include "lease/lease.h"

#define LEASE_MAGIC	0x4c454153u	/* "LEAS" */
#define LEASE_API	"coordination.k8s.io/v1"

struct lease {
	unsigned		 magic;
	struct kube_client	*kube;		/* borrowed */
	char			*name, *ns;	/* owned */
	struct clock		 own_clock;
	const struct clock	*clock;		/* borrowed, or &own_clock */
	void			(*log)(const char *, const char *, json_t *);
	pthread_t		 thread;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;		/* stop */
	int			 stop;
	int64_t			 yield_ms;	/* under mu: lease_yield asked
						   to sit out this long; 0 */
	/* under mu */
	struct lease_elector	 el;
	/*
	 * el.acting_until as last published under mu, for lease_acting,
	 * which action workers call just before each send: read without
	 * the lock, so a worker never waits on the election's thread.
	 */
	_Atomic int64_t		 fence;
	char			*last_error;	/* owned */
};

static void
log_line(struct lease *l, const char *level, const char *msg, json_t *f)
{
	if (l->log)
		l->log(level, msg, f);
	else
		util_log_json(level, msg, f);
}

static int64_t
now_ms(const struct lease *l)
{
	return clock_now(l->clock);
}

/* Under mu, after anything that may move el.acting_until. */
static void
publish(struct lease *l)
{
	atomic_store(&l->fence, l->el.acting_until);
}

static int64_t
wall_ms(void)
{
	struct clock c;

	clock_system(&c);
	return clock_now(&c);
}

/* The first failure after a success is logged, and the recovery. */
static void
note_error(struct lease *l, const struct kube_error *e)
{
	char *text = e ? kube_error_text(e) : NULL;
	int was_failing;

	pthread_mutex_lock(&l->mu);
	was_failing = l->last_error != NULL;
	free(l->last_error);
	l->last_error = text ? xstrdup(text) : NULL;
	pthread_mutex_unlock(&l->mu);
	if (text && !was_failing)
		log_line(l, "warn", "lease request failing", json_pack("{s:s, "
		    "s:s, s:s}", "lease", l->name, "namespace", l->ns,
		    "error", text));
	else if (!text && was_failing)
		log_line(l, "info", "lease requests recovered", json_pack(
		    "{s:s, s:s}", "lease", l->name, "namespace", l->ns));
	free(text);
}

/* GET: 0 with the elector told, -1 on failure (logged). */
static int
read_lease(struct lease *l)
{
	struct lease_record r;
	struct kube_error e;
	json_t *obj;
	char *err = NULL;
	int rc = 0;

	kube_error_init(&e);
	obj = kube_get(l->kube, LEASE_API, "Lease", l->ns, l->name, &e);
	if (obj == NULL && e.status != 404) {
		note_error(l, &e);
		kube_error_clear(&e);
		return -1;
	}
	if (obj && lease_record_from_json(obj, &r, &err) == -1) {
		kube_error_set(&e, "%s", err);
		note_error(l, &e);
		free(err);
		rc = -1;
	} else {
		pthread_mutex_lock(&l->mu);
		lease_elector_observe(&l->el, obj ? &r : NULL, now_ms(l));
		publish(l);
		pthread_mutex_unlock(&l->mu);
		if (obj)
			lease_record_clear(&r);
	}
	json_decref(obj);
	kube_error_clear(&e);
	return rc;
}

/*
 * POST or PUT want; on success the elector leads from `sent`.  A 409 is
 * the race lost (or our view stale): the next GET tells us who won.
 */
static void
write_lease(struct lease *l, enum lease_step step,
    const struct lease_record *want)
{
	json_t *obj = lease_record_to_json(want, l->ns, l->name), *got;
	struct lease_record r;
	struct kube_error e;
	int64_t sent = now_ms(l);
	char *err = NULL;

	kube_error_init(&e);
	got = step == LEASE_CREATE ? kube_create(l->kube, obj, 0, &e) :
	    kube_update(l->kube, obj, 0, &e);
	if (got && lease_record_from_json(got, &r, &err) == 0) {
		pthread_mutex_lock(&l->mu);
		lease_elector_won(&l->el, &r, sent);
		if (l->yield_ms > 0)	/* asked to hand over meanwhile */
			l->el.acting_until = 0;
		publish(l);
		pthread_mutex_unlock(&l->mu);
		lease_record_clear(&r);
		note_error(l, NULL);
	} else if (got) {
		kube_error_set(&e, "%s", err);
		note_error(l, &e);
	} else if (e.status == 409)
		note_error(l, NULL);	/* the server answered: not failing */
	else
		note_error(l, &e);
	free(err);
	json_decref(got);
	json_decref(obj);
	kube_error_clear(&e);
}

static void release(struct lease *, int64_t sit_out);

static void
attempt(struct lease *l)
{
	struct lease_record want;
	enum lease_step step;
	int64_t yield_ms;

	pthread_mutex_lock(&l->mu);
	yield_ms = l->yield_ms;
	l->yield_ms = 0;
	pthread_mutex_unlock(&l->mu);
	if (read_lease(l) == -1 && yield_ms == 0)
		return;
	if (yield_ms > 0) {	/* what was read last is what we hand over */
		release(l, yield_ms);
		return;
	}
	pthread_mutex_lock(&l->mu);
	step = lease_elector_next(&l->el, now_ms(l), wall_ms(), &want);
	publish(l);
	pthread_mutex_unlock(&l->mu);
	if (step != LEASE_WAIT)
		write_lease(l, step, &want);
	lease_record_clear(&want);
}

/* Waits ms of real time or until stopped; returns 1 when stopped. */
static int
pause_or_stop(struct lease *l, int64_t ms)
{
	struct timespec ts = time_deadline(CLOCK_MONOTONIC, ms);
	int stop;

	pthread_mutex_lock(&l->mu);
	while (!l->stop && pthread_cond_timedwait(&l->cv, &l->mu, &ts) !=
	    ETIMEDOUT)
		;
	stop = l->stop;
	pthread_mutex_unlock(&l->mu);
	return stop;
}

static void *
campaign(void *arg)
{
	struct lease *l = arg;
	int64_t period = l->el.t.retry_period;

	do
		attempt(l);
	while (!pause_or_stop(l, period));
	return NULL;
}

struct lease *
lease_start(struct kube_client *c, const struct lease_opts *o, char **err)
{
	struct lease *l = xcalloc(1, sizeof *l);
	pthread_condattr_t ca;

	if (lease_timing_check(&o->timing, err) == -1) {
		free(l);
		return NULL;
	}
	l->magic = LEASE_MAGIC;
	l->kube = c;
	l->name = xstrdup(o->name);
	l->ns = xstrdup(o->namespace);
	clock_boottime(&l->own_clock);
	l->clock = o->clock ? o->clock : &l->own_clock;
	l->log = o->log;
	lease_elector_init(&l->el, o->identity, &o->timing);
	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cv, &ca);
	pthread_condattr_destroy(&ca);
	if ((errno = pthread_create(&l->thread, NULL, campaign, l)) != 0) {
		*err = xasprintf("cannot start the election: %s",
		    strerror(errno));
		lease_elector_clear(&l->el);
		free(l->name);
		free(l->ns);
		free(l);
		return NULL;
	}
	log_line(l, "info", "campaigning", json_pack("{s:s, s:s, s:s, s:I, "
	    "s:I, s:I}", "lease", l->name, "namespace", l->ns, "identity",
	    o->identity, "leaseDurationMs", (json_int_t)o->timing.duration,
	    "renewDeadlineMs", (json_int_t)o->timing.renew_deadline,
	    "retryPeriodMs", (json_int_t)o->timing.retry_period));
	return l;
}

/*
 * One PUT that hands the lease over, when it is ours; sit_out > 0: from
 * lease_yield, no campaign for that long.
 */
static void
release(struct lease *l, int64_t sit_out)
{
	struct lease_record want;
	struct kube_error e;
	json_t *obj, *got;
	int ours;

	pthread_mutex_lock(&l->mu);
	ours = sit_out > 0 ? lease_elector_yield(&l->el, now_ms(l), wall_ms(),
	    sit_out, &want) : lease_elector_release(&l->el, wall_ms(), &want);
	publish(l);
	pthread_mutex_unlock(&l->mu);
	if (!ours)
		return;
	obj = lease_record_to_json(&want, l->ns, l->name);
	kube_error_init(&e);
	got = kube_update(l->kube, obj, 0, &e);
	if (got)
		log_line(l, "info", "released the lease", json_pack("{s:s, "
		    "s:s}", "lease", l->name, "namespace", l->ns));
	else {
		char *text = kube_error_text(&e);

		log_line(l, "warn", "could not release the lease; a standby "
		    "takes over when it expires", json_pack("{s:s, s:s}",
		    "lease", l->name, "error", text));
		free(text);
	}
	json_decref(got);
	json_decref(obj);
	kube_error_clear(&e);
	lease_record_clear(&want);
}

void
lease_stop(struct lease *l, int rel)
{
	if (l == NULL)
		return;
	if (l->magic != LEASE_MAGIC)
		abort();
	pthread_mutex_lock(&l->mu);
	l->stop = 1;
	l->el.acting_until = 0;		/* before anything else */
	publish(l);
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
	pthread_join(l->thread, NULL);
	if (rel)
		release(l, 0);
	lease_elector_clear(&l->el);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv);
	free(l->last_error);
	free(l->name);
	free(l->ns);
	l->magic = 0;
	free(l);
}

void
lease_yield(struct lease *l, int64_t ms)
{
	pthread_mutex_lock(&l->mu);
	l->el.acting_until = 0;		/* at once, as lease_stop */
	publish(l);
	l->yield_ms = ms > 0 ? ms : 1;
	pthread_mutex_unlock(&l->mu);
}

void
lease_status(struct lease *l, struct lease_status *st)
{
	memset(st, 0, sizeof *st);
	pthread_mutex_lock(&l->mu);
	st->acting = lease_elector_acting(&l->el, now_ms(l));
	st->holder = l->el.have_seen && l->el.seen.holder ?
	    xstrdup(l->el.seen.holder) : NULL;
	st->acting_until = l->el.acting_until;
	st->last_renew = l->el.acting_until ? l->el.acting_until -
	    l->el.t.renew_deadline : 0;
	st->last_error = l->last_error ? xstrdup(l->last_error) : NULL;
	st->timing = l->el.t;
	pthread_mutex_unlock(&l->mu);
}

/* The elector's own test (lease_elector_acting) on the published fence. */
int
lease_acting(struct lease *l)
{
	int64_t until = atomic_load(&l->fence);

	return until != 0 && now_ms(l) < until;
}

const char *
lease_identity(const struct lease *l)
{
	return l->el.identity;
}

char *
lease_default_identity(void)
{
	char host[256];
	unsigned char rnd[4] = { 0 };
	int fd;

	if (gethostname(host, sizeof host) == -1)
		snprintf(host, sizeof host, "remediate");
	host[sizeof host - 1] = '\0';
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd == -1 || read(fd, rnd, sizeof rnd) != (ssize_t)sizeof rnd) {
		unsigned v = (unsigned)getpid() ^ (unsigned)time(NULL);

		memcpy(rnd, &v, sizeof rnd);
	}
	if (fd != -1)
		close(fd);
	return xasprintf("%s_%02x%02x%02x%02x", host, rnd[0], rnd[1], rnd[2],
	    rnd[3]);
}
