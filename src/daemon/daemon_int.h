/*
 * The daemon's own layout, shared by its files: daemon.c wires the
 * pipeline, leader.c follows the leader election (what a standby does
 * and what changes when it leads), reload.c swaps in a new configuration,
 * watches.c runs the watches, actions.c the action workers, access.c the
 * permission check, propose.c confirm mode's pull requests.  Everything
 * here runs on the engine thread unless a comment says so.
 */
#ifndef DAEMON_INT_H
#define DAEMON_INT_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

#include "daemon/budget.h"
#include "daemon/daemon.h"
#include "daemon/queue.h"
#include "guard/guard.h"
#include "record/record.h"
#include "signal/signal.h"
#include "util/util.h"

struct conf;
struct daemon_access;
struct dact;
struct daemon_prs;
struct diags;
struct engine;
struct engine_opts;
struct intake;
struct hook_set;
struct promq;
struct sched_set;

#define TICK_MS		5000	/* pages resolve, state is synced */
#define PRUNE_MS	60000	/* old records are pruned */
#define APPROVE_WAIT_MS	120000	/* an approval waits for the engine */
#define RELOAD_POLL_MS	250	/* how often the -c folders are looked at */
#define ACCESS_MS	10000	/* missing permissions are asked again */
#define STALL_MS	30000	/* /readyz: the loop has not turned */
#define RECOVER_RETRY_MS 500	/* the intake's undecided rows are read
				   again after a failed read, doubling */
#define RECOVER_RETRY_MAX 30000	/* ... up to this */
#define DRAIN_MS	5000	/* at a stop, queued cluster signals are
				   decided for this long at most */
#define VIEW_IN_FLIGHT	64	/* view objects queued: not yet compact */

/* One watch (watches.c); the watch's thread reads only q, id, retired. */
struct watch_ctx {
	unsigned		 magic;
	struct dq		*q;
	unsigned		 id;		/* names it in queue items */
	struct kube_watch	*watch;		/* owned */
	struct sig_watch	 spec;		/* owned selectors, the rest
						   borrowed from the engine of
						   the moment (engine thread) */
	char			*group, *resource;	/* owned, for logs */
	atomic_int		 retired;	/* a reload replaced it */
	int			 view;		/* the view's own watch (not a
						   source's): fixed at start,
						   read by its thread */
	uint64_t		 restarts;	/* last seen, for the metric */
	uint64_t		 errors;	/* last seen, for the metric */
	/*
	 * Objects the engine thread is done with, given back to be freed
	 * on the watch's thread (daemon_watch_give_back): spent fills
	 * under spent_mu, the watch thread swaps it with freeing (its own)
	 * and frees that.
	 */
	pthread_mutex_t		 spent_mu;
	struct watch_spent {
		json_t		**v;	/* owned references */
		size_t		  n, cap;
	}			 spent, freeing;
};

/* A configuration replaced by a reload, kept for what still borrows it. */
struct daemon_retired {
	struct conf	*conf;
	struct engine	*engine;
};

/* A notifier a reload replaced, freed once it has sent what it holds. */
struct daemon_retired_notify {
	struct notify		*notify;
	struct notify_config	*cfg;	/* what notify borrows */
};

#define DAEMON_CLUSTER_NAME_MAX	253	/* a DNS subdomain's length */

/* A record's owner message, sent once the record is stored (daemon.c). */
struct daemon_told {
	json_t			*record;	/* a reference */
	enum rec_decision	 decision;
	char			*link;		/* owned: its approval's signed
						   link; NULL none */
	struct objref		 target, subject;	/* owned members */
};

struct daemon {
	const struct daemon_opts *o;
	struct conf		*conf;
	struct cluster		*cluster;
	struct engine		*engine;
	struct clock		 clock;
	struct kube_client	*kube;
	/* this cluster's name (set on connecting; engine_opts borrow it) */
	char			 cluster_name[DAEMON_CLUSTER_NAME_MAX + 1];
	struct dq		*q;
	struct dact		*acts;		/* actions on workers */
	_Atomic int64_t		 beat;		/* ms, monotonic: the engine
						   loop last turned */
	pthread_mutex_t		 watch_mu;	/* wctx, nwatches and access
						   against /readyz */
	struct watch_ctx	**wctx;		/* owned */
	size_t			 nwatches;
	unsigned		 watch_ids;	/* the last id given */
	pthread_t		*reapers;	/* stopping retired watches */
	size_t			 nreapers;
	struct watch_ctx	***reaped;	/* retired, no thread to stop
						   them: stopped at exit */
	size_t			 nreaped;
	struct http_server	*http;
	struct hook_ingress	*hooks;
	struct sched_set	*timed;		/* calendar, prometheus */
	struct promq		*promq;		/* prometheus queries'
						   thread (timed.c) */
	struct sched_edges	*edges;		/* owned: prometheus
						   sources' edges, kept in
						   the state (loaded when
						   leading) */
	/*
	 * The state file and the intake on it: NULL on a standby.  Written
	 * on the engine thread under state_mu (write), read there freely
	 * and on HTTP threads under state_mu (read).
	 */
	pthread_rwlock_t	 state_mu;
	struct audit		*audit;
	struct intake		*intake;	/* pushed events, durable */
	/*
	 * The fleet ledger on the state (NULL on a standby; engine thread
	 * only) and the hooks every engine asks it through (fleet.c).
	 */
	struct fleet		*fleet;
	struct guard_fleet	 fleet_hooks;
	unsigned		 term;		/* of leadership: the intake's
						   events queued in an earlier
						   one are the recovery's */
	struct buf		 held;		/* records of the event being
						   decided, printed once
						   stored */
	struct buf		 line;		/* a record's line, reused */
	struct daemon_told	*later;		/* owned: their owner messages,
						   one per line held */
	size_t			 nlater, caplater;
	int			 recovering;	/* undecided events of an
						   earlier leader remain */
	int			 view_listed;	/* every watch has listed
						   (engine thread; the
						   engine reads it) */
	/*
	 * Durable events popped before the view's first list was whole,
	 * in order: decided once it is, after the recovery's older ones
	 * (against a partial view their targets were "not found").  Owned
	 * items, engine thread; at a stop their rows stay for the next
	 * start.
	 */
	struct dq_item		*early;
	size_t			 nearly, capearly;
	int64_t			 recover_at;	/* ms: read them no sooner
						   (a read failed) */
	int64_t			 recover_wait;	/* ms: the next failure's
						   backoff; 0: none failed */
	struct page		*pager;
	struct notify_config	*notify_cfg;
	struct notify		*notify;
	char			*secrets_dir;	/* owned copy of --secrets-dir
						   (the http executor's ctx) */
	struct approve_store	*approvals;	/* confirm mode's links */
	struct daemon_access	*access;	/* the permissions we need */
	int64_t			 next_access;	/* ms: ask again, if missing */
	struct daemon_prs	*prs;		/* confirm mode's pull
						   requests */
	char			*link;		/* owned: the signed link of
						   the approval just issued,
						   for its owner's message */
	int64_t			 next_tick, next_prune;	/* ms */
	size_t			 queue_size;
	int64_t			 stall_ms;	/* /readyz: engine stalled */
	const char		*prom_url;	/* borrowed: opts or conf */
	long			 prom_timeout;	/* ms */
	struct daemon_budget	 budget;	/* the budget gate's holds
						   (budget.c) */
	/* leader election (leader.c) */
	struct lease		*lease;		/* NULL: no election */
	struct kube_client	*lease_kube;	/* the election's own client */
	atomic_int		 leading;	/* decides and acts now */
	atomic_int		 stepping;	/* stopped leading; the state
						   file closes once the actions
						   in flight are recorded */
	int64_t			 next_takeover;	/* ms: retry opening state */
	int64_t			 takeover_failing;	/* ms: since when it
						   fails to open; 0: not */
	/* reload (reload.c) */
	struct daemon_retired	*retired;	/* owned: until no action is
						   in flight (reload.c) */
	size_t			 nretired;
	struct daemon_retired_notify *senders;	/* owned: until idle */
	size_t			 nsenders;
	uint64_t		 config_print;	/* conf_fingerprint of -c */
	uint64_t		 pending_print;	/* changed, settling */
	int64_t			 pending_since;	/* ms; 0: nothing pending */
	int64_t			 next_poll;	/* ms */
};

/*
 * watches.c.  daemon_watches_start: the engine's watches (0, or -1
 * logged).  daemon_watches_update: the set next (a reloaded engine)
 * wants, keeping the unchanged ones running.  daemon_watch_find: the
 * watch a queue item came from, NULL when a reload retired it.
 * daemon_watches_cancel: tells them all to stop, at once (shutdown);
 * daemon_watches_stop then closes the queue and joins them.
 */
int	daemon_watches_start(struct daemon *);
void	daemon_watches_cancel(struct daemon *);
/* 1 once every cancelled watch has made its last delivery. */
int	daemon_watches_ended(struct daemon *);
void	daemon_watches_update(struct daemon *, struct engine *next);
struct watch_ctx *daemon_watch_find(struct daemon *, unsigned id);
/*
 * On the engine thread, done with a DQ_SYNC or DQ_WATCH item of one of
 * the view's watches: its object goes back to the watch's thread to be
 * freed there (it->obj becomes NULL); any other item, or one whose watch
 * is gone, keeps it.
 */
void	daemon_watch_give_back(struct daemon *, struct dq_item *);
void	daemon_watches_stop(struct daemon *);

/*
 * daemon.c: one queue item (cleared), handled as the loop does; acting:
 * this replica decides now.  Engine thread.
 */
void	daemon_take_item(struct daemon *, struct dq_item *, int acting);
/*
 * drain.c, after the loop (ran: it did; 0: the start failed): stops
 * intake and actions, decides the cluster signals queued (DRAIN_MS at
 * most), records the actions' outcomes, tells waiting approvals, and
 * logs what it kept and dropped.
 */
void	daemon_drain(struct daemon *, int ran);
/*
 * early.c.  daemon_early_hold: an acknowledged event popped before the
 * view's first list waits (1: it is held, the item moved into d->early),
 * at most queue_size of them; 0: decide it now.  daemon_early_take, once
 * the view is whole and the recovery done: decides those held, in order.
 */
int	daemon_early_hold(struct daemon *, struct dq_item *);
void	daemon_early_take(struct daemon *, int acting);
/*
 * daemon.c: the state file and its intake, opened (0; a new term) and
 * loaded (0), or -1 logged; closed (the intake first; NULL: no-op).
 */
int	daemon_state_open(struct daemon *);
int	daemon_state_restore(struct daemon *);
void	daemon_state_close(struct daemon *);
/*
 * seed.c: the webhook ingress's alert ids, read back from the state (its
 * recent decision records and undecided intake rows) before the first
 * request is stored: at a start (attach_webhooks, the state open) and a
 * takeover (daemon_state_restore, the ingress there).  A no-op until
 * both are; 0, or -1 logged (the state cannot be read).
 */
int	daemon_dedup_seed(struct daemon *);
/*
 * fleet.c: the fleet ledger (src/fleet/) on the state, beside the audit
 * handle: opened with it (0, or -1 logged), closed with it (NULL: no-op);
 * the hooks the engine asks it through, failing closed while none is
 * open; this cluster's pods published every PRUNE_MS.
 */
int	daemon_fleet_open(struct daemon *);
void	daemon_fleet_close(struct daemon *);
void	daemon_fleet_hooks(struct daemon *);
void	daemon_fleet_tick(struct daemon *, int64_t now);
/*
 * unknown.c, after daemon_state_restore: pages and logs each action a
 * crash left with an unknown outcome, once (now in ms).  0, or -1 logged
 * (the next start tries again).
 */
int	daemon_unknown_report(struct audit *, struct page *, int64_t now);
/* daemon.c: the Prometheus URL and timeout from opts or c (borrowed). */
void	daemon_configure_prometheus(struct daemon *, const struct conf *c);
/*
 * daemon.c, what run compiles from a configuration, for load and reload
 * alike: the engine's hooks, the webhook endpoints (secrets read now) and
 * the timed sources (owned sets; errors in dg), and a log line per
 * endpoint.
 */
void	daemon_engine_opts(struct daemon *, struct engine_opts *);
/*
 * daemon.c: what the daemon builds from an engine about to run (load or
 * reload): its triggers' metrics, and the permissions it needs, asked of
 * the server now (*access owned; missing ones asked again later).
 */
void	daemon_engine_ready(struct daemon *, struct engine *,
	    struct daemon_access **access);
struct hook_set *daemon_hook_set(struct daemon *, const struct conf *,
	    struct diags *);
void	daemon_hook_log(const struct hook_set *);
struct sched_set *daemon_timed_set(struct daemon *, const struct conf *,
	    struct diags *);
/*
 * timed.c.  daemon_timed_start: the configuration's timed sources and
 * the prometheus query thread (0, or -1 logged).  daemon_timed_run, the
 * leader each loop iteration once the view is whole: feeds the answers
 * come back, fires or asks what is due; returns ms until the next due
 * source (or -1).  daemon_timed_idle, otherwise: drops answers come
 * back.  daemon_timed_stop: at exit.
 */
int	daemon_timed_start(struct daemon *);
long	daemon_timed_run(struct daemon *);
void	daemon_timed_idle(struct daemon *);
void	daemon_timed_stop(struct daemon *);

/*
 * reload.c.  daemon_reload_install: SIGHUP asks for a reload (at start).
 * daemon_reload_poll, each loop iteration: a SIGHUP, or -c folders that
 * changed and then stayed still, load the whole configuration again; it
 * replaces the running one only when it checks clean; the ones replaced
 * are freed there once no action is in flight, the notifiers replaced
 * once they have sent what they hold.
 * daemon_reload_senders_stop: at exit, before the running notifier's
 * flush: the replaced notifiers get flush_ms in all to send what they
 * hold, then go (the rest counted dropped).
 * daemon_reload_free: the configurations replaced, at exit.
 */
void	daemon_reload_install(struct daemon *);
void	daemon_reload_poll(struct daemon *);
void	daemon_reload_senders_stop(struct daemon *, int64_t flush_ms);
void	daemon_reload_free(struct daemon *);

/*
 * leader.c.  daemon_leader_prepare, at start: opens the state file
 * without an election, else makes sure it exists (0, or -1 logged).
 * daemon_leader_start campaigns when --leader-elect says so
 * (0, or -1 logged); without it this replica always leads.
 * daemon_leader_step, each loop iteration: follows the election, opens
 * the state on taking over and closes it on stepping down; returns 1
 * when this replica may decide now.  daemon_leader_may_act, any thread
 * (an action worker just before the send, the engine thread before the
 * intent, an HTTP thread before the intake): the fence, read atomically.
 * daemon_leader_gate(d), the action workers' retry gate (util/retry.h):
 * NULL while the fence is open, else "this replica stopped leading".
 * daemon_leader_ready, an HTTP thread: 1, or 0 with *reason (owned) for
 * /readyz.  daemon_leader_stop: steps
 * down, releases the lease, frees.
 */
int	daemon_leader_prepare(struct daemon *);
int	daemon_leader_start(struct daemon *);
int	daemon_leader_step(struct daemon *);
int	daemon_leader_may_act(struct daemon *);
const char *daemon_leader_gate(void *d);
int	daemon_leader_ready(struct daemon *, char **reason);
void	daemon_leader_stop(struct daemon *);

#endif /* DAEMON_INT_H */
