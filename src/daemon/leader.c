/*
 * What leader election changes in the daemon (the election itself is
 * src/lease/).
 *
 * A standby runs every watch, so its cluster view is warm, but decides
 * nothing: cluster changes only update the view, webhooks are refused
 * with 503 (the sender retries; /readyz keeps the Service from sending
 * them here at all), timed sources and housekeeping wait, approvals are
 * refused.  It does not open the state file: the leader holds it.
 *
 * Taking over: the lease says we lead; we open the state file (its lock
 * is a second fence: a predecessor that has not closed it yet keeps us
 * waiting; a state that will not open for two lease durations makes us
 * hand the lease over, TAKEOVER_YIELD_LEASES) and load the guard and
 * page state and the prometheus sources' edges the last leader left,
 * into an empty guard state and empty edges, and the alerts it decided
 * into the webhook ingress's memory (seed.c), so no cooldown or rate
 * bucket resets, no series still over the line fires again, no alert
 * resent to us is decided twice, and nothing of an earlier term of ours
 * lingers.  Only then do we decide.
 *
 * Stepping down: the lease's fence closed (no renewal within the renew
 * deadline) or another holder appeared; every action checks the fence
 * on its worker just before each request it sends, retries included
 * (daemon_leader_gate, the worker's retry gate: a wait for a retry ends
 * when the fence closes), and the intent before it is written, so
 * nothing is sent after it closed even in the middle of a decision or a
 * Retry-After: an action refused there is recorded failed, with why.  We
 * log it with the lease's last error and stop the intake at once
 * (webhooks answer 503; what it acknowledged stays in the file for the
 * next leader's intake_recover).  Actions already on the workers finish
 * (or are refused by the fence) and their outcomes are recorded; only
 * then is the state file closed (releasing its lock).  We keep serving
 * /healthz and re-enter the election: no exit, no restart loop.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "daemon/actions.h"
#include "daemon/daemon_int.h"
#include "intake/intake.h"
#include "engine/engine.h"
#include "kube/kube.h"
#include "lease/lease.h"
#include "metrics/metrics.h"
#include "schedule/schedule.h"
#include "sqldb/sqldb.h"

#define TAKEOVER_RETRY_MS	1000	/* state file still locked */
/*
 * A replica that leads but cannot open the state (its volume not
 * mounted, a schema a newer replica migrated in a rolling update, a
 * PostgreSQL login refused) acts on nothing, and while it holds the
 * lease no other replica may: the cluster goes without remediation
 * until someone looks.  After failing for this many lease durations it
 * hands the lease over and sits out as many, so a replica that can open
 * the state takes over; when none can, the lease goes round, each
 * saying why.  A predecessor finishing its actions holds a shared file's
 * lock for less than that.
 */
#define TAKEOVER_YIELD_LEASES	2

/*
 * The election's own client (connect_cluster made it): no retries, the
 * next retry period is the retry; an answer within half the deadline.
 */
static void
lease_client(struct daemon *d, const struct lease_timing *t)
{
	struct retry once;

	retry_default(&once);
	once.steps = 1;
	kube_client_set_retry(d->lease_kube, &once);
	kube_client_set_timeout(d->lease_kube, (long)(t->renew_deadline / 2 >
	    200 ? t->renew_deadline / 2 : 200));
}

/*
 * A standby does not hold the state file, but the approvals store every
 * replica opens needs it to exist: the first replica to start creates it
 * (open, which writes the schema, and close, which frees the lock).  One
 * that finds it locked waits for the other to finish creating it.  A
 * PostgreSQL database needs none of this: the approvals table is made by
 * whichever replica opens it first, under a lock (src/approve/store.c).
 */
int
daemon_leader_prepare(struct daemon *d)
{
	struct audit_opts ao;
	struct audit *a;
	char *err = NULL;
	int i;

	if (!d->o->leader_elect)
		return daemon_state_open(d);
	if (sqldb_is_postgres(d->o->state))
		return 0;	/* the leader migrates; approvals make their own */
	audit_opts_defaults(&ao);
	ao.log = util_log_json;
	for (i = 0; i < 50 && access(d->o->state, F_OK) == -1; i++) {
		if ((a = audit_open(d->o->state, &ao, &err)) != NULL) {
			audit_close(a);
			return 0;
		}
		free(err);
		err = NULL;
		util_sleep_ms(100);
	}
	if (access(d->o->state, F_OK) == 0)
		return 0;
	util_log_json("error", "cannot create the state file", json_pack(
	    "{s:s}", "state", d->o->state));
	return -1;
}

int
daemon_leader_start(struct daemon *d)
{
	const struct daemon_opts *o = d->o;
	struct lease_opts lo;
	char *ident = NULL, *err = NULL;

	if (!o->leader_elect) {
		atomic_store(&d->leading, 1);
		metrics_set_leader(1);
		return 0;
	}
	metrics_set_leader(0);
	memset(&lo, 0, sizeof lo);
	lease_timing_defaults(&lo.timing);
	if (o->lease_duration)
		lo.timing.duration = o->lease_duration;
	if (o->renew_deadline)
		lo.timing.renew_deadline = o->renew_deadline;
	if (o->retry_period)
		lo.timing.retry_period = o->retry_period;
	lease_client(d, &lo.timing);
	lo.name = o->lease_name ? o->lease_name : "remediate";
	lo.namespace = o->lease_namespace ? o->lease_namespace :
	    kube_client_namespace(d->kube);
	lo.identity = o->lease_identity ? o->lease_identity :
	    (ident = lease_default_identity());
	lo.log = util_log_json;
	d->lease = lease_start(d->lease_kube, &lo, &err);
	free(ident);
	if (d->lease == NULL) {
		util_log_json("error", "cannot run the leader election",
		    json_pack("{s:s}", "error", err ? err : "?"));
		free(err);
		return -1;
	}
	return 0;
}

/* The state did not open at now: try again, or hand the lease over. */
static void
take_over_failed(struct daemon *d, int64_t now)
{
	struct lease_status st;
	int64_t wait;

	d->next_takeover = now + TAKEOVER_RETRY_MS;
	if (d->takeover_failing == 0 || now < d->takeover_failing) {
		d->takeover_failing = now;
		return;		/* logged; still the lease: try again */
	}
	lease_status(d->lease, &st);
	wait = TAKEOVER_YIELD_LEASES * st.timing.duration;
	free(st.holder);
	free(st.last_error);
	if (now - d->takeover_failing < wait)
		return;
	util_log_json("error", "cannot open the state: handing the lease "
	    "over", json_pack("{s:s, s:I, s:I}", "identity",
	    lease_identity(d->lease), "failingForMs", (json_int_t)(now -
	    d->takeover_failing), "sitOutMs", (json_int_t)wait));
	lease_yield(d->lease, wait);
	d->takeover_failing = 0;
}

static void
take_over(struct daemon *d, int64_t now)
{
	if (now < d->next_takeover)
		return;
	engine_reset_guard_state(d->engine);
	if (daemon_state_open(d) == -1 || daemon_state_restore(d) == -1) {
		daemon_state_close(d);
		take_over_failed(d, now);
		return;
	}
	d->takeover_failing = 0;
	sched_set_start(d->timed, now);
	/* series over the line when the last leader left fire no new edge */
	sched_set_recall(d->timed, d->edges);
	d->next_tick = d->next_prune = 0;
	atomic_store(&d->leading, 1);
	metrics_set_leader(1);
	metrics_count_leader_transition("leader");
	util_log_json("info", "leading", json_pack("{s:s, s:i}", "identity",
	    lease_identity(d->lease), "undecidedEvents", (int)
	    intake_undecided(d->intake)));
}

static void
step_down(struct daemon *d)
{
	struct lease_status st;

	atomic_store(&d->leading, 0);
	lease_status(d->lease, &st);
	/* times on this process's monotonic clock, for the record */
	util_log_json("warn", "stopped leading", json_pack("{s:s, s:s?, "
	    "s:s?, s:I, s:I, s:I}", "identity", lease_identity(d->lease),
	    "holder", st.holder, "lastError", st.last_error,
	    "lastRenewMs", (json_int_t)st.last_renew, "fencedAtMs",
	    (json_int_t)st.acting_until, "leaseDurationMs",
	    (json_int_t)st.timing.duration));
	free(st.holder);
	free(st.last_error);
	intake_stop(d->intake);	/* 503 from now on; the rest is in the file */
	d->stepping = 1;
	metrics_set_leader(0);
	metrics_count_leader_transition("standby");
}

/*
 * After a step-down: the state file closes once every action handed to
 * the workers has its outcome recorded (the loop keeps recording them).
 */
static int
finish_step_down(struct daemon *d)
{
	size_t n = dact_in_flight(d->acts);

	if (n > 0)
		return -1;
	daemon_state_close(d);
	d->stepping = 0;
	util_log_json("info", "state file closed: standby", NULL);
	return 0;
}

int
daemon_leader_step(struct daemon *d)
{
	int acting, leading = atomic_load(&d->leading);

	if (d->lease == NULL)
		return leading;
	if (d->stepping && finish_step_down(d) == -1)
		return 0;
	acting = lease_acting(d->lease);
	if (acting && !leading)
		take_over(d, clock_now(&d->clock));
	else if (!acting && leading)
		step_down(d);
	return atomic_load(&d->leading);
}

int
daemon_leader_may_act(struct daemon *d)
{
	if (d->lease == NULL)
		return 1;
	return atomic_load(&d->leading) && lease_acting(d->lease);
}

const char *
daemon_leader_gate(void *ctx)
{
	return daemon_leader_may_act(ctx) ? NULL :
	    "this replica stopped leading";
}

int
daemon_leader_ready(struct daemon *d, char **reason)
{
	struct lease_status st;

	if (daemon_leader_may_act(d))
		return 1;
	lease_status(d->lease, &st);
	if (d->stepping)
		*reason = xstrdup("stepping down: recording the actions in "
		    "flight");
	else if (st.acting)
		*reason = xstrdup("taking over: opening the state");
	else
		*reason = xasprintf("standby: leader is %s", st.holder ?
		    st.holder : "nobody yet");
	free(st.holder);
	free(st.last_error);
	return 0;
}

/*
 * Shutdown: the caller has stopped deciding and closed the state file,
 * so the lease goes last and a standby that takes over at once finds the
 * file free.
 */
void
daemon_leader_stop(struct daemon *d)
{
	atomic_store(&d->leading, 0);
	lease_stop(d->lease, 1);
	d->lease = NULL;
	kube_client_free(d->lease_kube);
	d->lease_kube = NULL;
}
