/*
 * Live reload: SIGHUP, or a change under any -c folder (a ConfigMap's
 * `..data` symlink swap, a git checkout, an editor's save), loads the
 * whole configuration again, through the same loader and compilers as the
 * start (and `check`), on the engine thread, between two decisions.
 *
 * The folders are polled: conf_fingerprint (every file conf_load would
 * read, name and content, through symlinks) every RELOAD_POLL_MS.  A
 * change is loaded only after the fingerprint has stayed the same for
 * SETTLE_MS, and discarded when the fingerprint moved while it was being
 * loaded, so a file caught half-written is never compiled, let alone run.
 * Polling rather than inotify: a symlink swap, a bind mount's update and a
 * network file system all show when the files are read, and a few
 * folders of manifests cost little to read.
 *
 * The new configuration replaces the running one only when all of it
 * compiles clean (manifests, engine, webhook endpoints with their
 * secrets, timed sources, owners and destinations); otherwise the errors
 * are printed exactly as `check` prints them, logged, counted, and the
 * running configuration keeps deciding.  Swapping in:
 *   - the guard state moves to the new engine whole; it is keyed by
 *     trigger identity (namespace/sensor/trigger), so cooldowns, rate
 *     buckets, threshold windows, recurrence and the circuit carry over,
 *     and a demotion is lifted only for a trigger whose manifest hash
 *     changed, as after a restart;
 *   - watches: unchanged ones keep running, new ones start, removed ones
 *     stop (watches.c); webhook endpoints are swapped in the ingress
 *     (requests in flight finish with the old set; every set pushes into
 *     the same durable intake); an unchanged calendar keeps its next
 *     fire time, an unchanged prometheus source its turn and its
 *     series' edges (a series already over the line is not a new
 *     crossing); owners and
 *     destinations are replaced;
 *   - the permissions the new engine needs are asked of the server again
 *     (access.c: a new one missing shows in the log and /readyz), and its
 *     triggers' metrics are initialised;
 *   - confirm by pull request reads its settings from the new engine's
 *     triggers; the open requests already followed are kept;
 *   - owners' notifications go to a new notifier; the old one keeps
 *     sending (and retrying) what it was given and is freed once idle,
 *     so a reload neither waits on a slow destination nor drops what
 *     was queued for it (it waited up to 1 s, then dropped the rest).
 * The replaced configuration and engine are freed once nothing borrows
 * them (reclaim): an action in flight holds its trigger until its outcome
 * is taken on the engine thread; queued items, webhook sets, watches,
 * guard state and held records own what they hold.  Kept until exit, they
 * grew the process by about 100 KiB a reload of the seed example.
 * The pager's Alertmanager and the command-line options are read at start
 * only.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "daemon/access.h"
#include "daemon/actions.h"
#include "daemon/daemon_int.h"
#include "engine/engine.h"
#include "metrics/metrics.h"
#include "notify/notify.h"
#include "schedule/schedule.h"
#include "webhook/webhook.h"

#define SETTLE_MS	1000	/* a change must stay still this long */
#define SENDERS_MAX	8	/* old notifiers still sending; beyond, the
				   oldest gets RETIRE_FLUSH_MS, then goes */
#define RETIRE_FLUSH_MS	1000

static volatile sig_atomic_t hup;

static void
on_hup(int sig)
{
	(void)sig;
	hup = 1;
}

static uint64_t
fingerprint(const struct daemon *d)
{
	return conf_fingerprint(d->o->config, d->o->nconfig);
}

void
daemon_reload_install(struct daemon *d)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	d->config_print = fingerprint(d);
	d->next_poll = clock_now(&d->clock) + RELOAD_POLL_MS;
}

/* What a reload compiles, before it is swapped in or thrown away. */
struct candidate {
	struct conf		*conf;
	struct engine		*engine;
	struct hook_set		*hooks;
	struct sched_set	*timed;
	struct notify_config	*notify_cfg;
	struct notify		*notify;
};

static void
candidate_free(struct candidate *c)
{
	notify_free(c->notify);
	notify_config_free(c->notify_cfg);
	sched_set_free(c->timed);
	hook_set_free(c->hooks);
	engine_free(c->engine);
	conf_free(c->conf);
}

/* Compiles the folders as run's start does; errors in dg. */
static void
compile(struct daemon *d, struct candidate *c, struct diags *dg)
{
	struct engine_opts eo;
	struct notify_opts no;
	struct loc nowhere = { NULL, 0, 0 };
	char *err = NULL;

	memset(c, 0, sizeof *c);
	c->conf = conf_load(d->o->config, d->o->nconfig, dg);
	if (dg->errors)
		return;
	daemon_configure_prometheus(d, c->conf);
	daemon_engine_opts(d, &eo);
	c->engine = engine_new(c->conf, &eo, dg);
	c->hooks = daemon_hook_set(d, c->conf, dg);
	c->timed = daemon_timed_set(d, c->conf, dg);
	c->notify_cfg = notify_config_new(c->conf, d->o->secrets_dir, 1, dg);
	if (dg->errors || c->notify_cfg == NULL)
		return;
	memset(&no, 0, sizeof no);
	no.log = util_log_json;
	if ((c->notify = notify_new(c->notify_cfg, &no, &err)) == NULL) {
		diag_error(dg, nowhere, "cannot notify: %s", err ? err : "?");
		free(err);
	}
}

static void
sender_free(struct daemon_retired_notify *s, int64_t flush_ms)
{
	if (notify_flush(s->notify, flush_ms) == -1)
		util_log_json("warn", "a replaced notifier stopped with "
		    "messages unsent", NULL);
	notify_free(s->notify);
	notify_config_free(s->cfg);
}

/* Keeps n (and cfg, which it borrows) sending until idle; both stolen. */
static void
retire_sender(struct daemon *d, struct notify *n, struct notify_config *cfg)
{
	if (n == NULL) {
		notify_config_free(cfg);
		return;
	}
	if (d->nsenders == SENDERS_MAX) {	/* a reload storm, a dead
						   destination: bounded */
		sender_free(&d->senders[0], RETIRE_FLUSH_MS);
		memmove(d->senders, d->senders + 1, --d->nsenders *
		    sizeof *d->senders);
	}
	d->senders = xrealloc(d->senders, (d->nsenders + 1) *
	    sizeof *d->senders);
	d->senders[d->nsenders].notify = n;
	d->senders[d->nsenders++].cfg = cfg;
}

static void
swap_in(struct daemon *d, struct candidate *c)
{
	struct daemon_retired *r;
	struct daemon_access *access, *old;

	engine_adopt_guard_state(c->engine, d->engine);
	daemon_engine_ready(d, c->engine, &access);
	pthread_mutex_lock(&d->watch_mu);	/* /readyz reads it */
	old = d->access;
	d->access = access;
	pthread_mutex_unlock(&d->watch_mu);
	daemon_access_free(old);
	daemon_watches_update(d, c->engine);
	daemon_hook_log(c->hooks);
	hook_ingress_set(d->hooks, c->hooks);
	sched_set_start(c->timed, clock_now(&d->clock));
	sched_set_adopt(c->timed, d->timed);	/* no edge twice */
	sched_set_recall(c->timed, d->edges);	/* and none of a source
						   changed or gone kept */
	sched_set_free(d->timed);
	d->timed = c->timed;
	retire_sender(d, d->notify, d->notify_cfg);
	d->notify = c->notify;
	d->notify_cfg = c->notify_cfg;
	d->retired = xrealloc(d->retired, (d->nretired + 1) *
	    sizeof *d->retired);
	r = &d->retired[d->nretired++];
	r->conf = d->conf;
	r->engine = d->engine;
	d->conf = c->conf;
	d->engine = c->engine;
	memset(c, 0, sizeof *c);
}

static void
reload(struct daemon *d, const char *why)
{
	const char *prom_url = d->prom_url;
	long prom_timeout = d->prom_timeout;
	struct candidate c;
	struct diags dg;
	uint64_t before = fingerprint(d), after;

	diag_init(&dg);
	compile(d, &c, &dg);
	after = fingerprint(d);
	if (after != before || dg.errors) {
		d->prom_url = prom_url;
		d->prom_timeout = prom_timeout;
		candidate_free(&c);
	}
	if (after != before) {		/* written while we read it */
		util_log_json("info", "configuration changed while loading; "
		    "waiting for it to settle", json_pack("{s:s}", "trigger",
		    why));
		d->pending_print = after;
		d->pending_since = clock_now(&d->clock);
		diag_free(&dg);
		return;
	}
	d->config_print = after;
	diag_print(&dg, stderr);	/* as `check` prints them */
	if (dg.errors) {
		util_log_json("error", "configuration refused; the running one "
		    "stays", json_pack("{s:s, s:i}", "trigger", why, "errors",
		    (int)dg.errors));
		metrics_count_reload("error");
	} else {
		swap_in(d, &c);
		util_log_json("info", "configuration reloaded", json_pack(
		    "{s:s, s:i, s:i}", "trigger", why, "manifests",
		    (int)d->conf->ndocs, "watches", (int)d->nwatches));
		metrics_count_reload("ok");
	}
	diag_free(&dg);
}

/*
 * The configurations replaced, freed when no action is in flight: each
 * holds its engine's trigger (engine_action) until dact_outcome has
 * recorded it, here on the engine thread.
 */
static void
reclaim(struct daemon *d)
{
	size_t i, kept, n = d->nretired;

	for (i = kept = 0; i < d->nsenders; i++)
		if (notify_flush(d->senders[i].notify, 0) == 0)
			sender_free(&d->senders[i], 0);	/* idle: no wait */
		else
			d->senders[kept++] = d->senders[i];
	d->nsenders = kept;
	if (n == 0 || (d->acts && dact_in_flight(d->acts) != 0))
		return;
	daemon_reload_free(d);
	util_log_json("info", "replaced configurations freed", json_pack(
	    "{s:i}", "configurations", (json_int_t)n));
}

void
daemon_reload_poll(struct daemon *d)
{
	int64_t now = clock_now(&d->clock);
	uint64_t print;

	reclaim(d);
	if (hup) {
		hup = 0;
		d->pending_since = 0;
		reload(d, "SIGHUP");
		return;
	}
	if (now < d->next_poll)
		return;
	d->next_poll = now + RELOAD_POLL_MS;
	if ((print = fingerprint(d)) == d->config_print) {
		d->pending_since = 0;
		return;
	}
	if (d->pending_since == 0 || print != d->pending_print) {
		d->pending_print = print;	/* still moving: wait */
		d->pending_since = now;
		return;
	}
	if (now - d->pending_since < SETTLE_MS)
		return;
	d->pending_since = 0;
	reload(d, "files changed");
}

void
daemon_reload_senders_stop(struct daemon *d, int64_t flush_ms)
{
	int64_t until = clock_monotonic_ms() + flush_ms, left;
	size_t i;

	for (i = 0; i < d->nsenders; i++) {
		left = until - clock_monotonic_ms();
		sender_free(&d->senders[i], left > 0 ? left : 0);
	}
	free(d->senders);
	d->senders = NULL;
	d->nsenders = 0;
}

void
daemon_reload_free(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->nretired; i++) {
		engine_free(d->retired[i].engine);
		conf_free(d->retired[i].conf);
	}
	free(d->retired);
	d->retired = NULL;
	d->nretired = 0;
}
