/*
 * The live pipeline: configuration, the Kubernetes client, one watch per
 * resource the sources need, and the engine loop.  See daemon.h for who
 * owns what.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action/action.h"
#include "approve/approve.h"
#include "audit/audit.h"
#include "conf/conf.h"
#include "daemon/access.h"
#include "daemon/actions.h"
#include "daemon/daemon.h"
#include "daemon/daemon_int.h"
#include "daemon/propose.h"
#include "daemon/queue.h"
#include "engine/engine.h"
#include "http/http.h"
#include "intake/intake.h"
#include "kube/kube.h"
#include "lease/lease.h"
#include "metrics/metrics.h"
#include "notify/notify.h"
#include "page/page.h"
#include "pool/pool.h"
#include "prom/prom.h"
#include "schedule/schedule.h"
#include "sqldb/sqldb.h"
#include "webhook/webhook.h"

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/*
 * Each kind of plan to its executor.  Runs on an action worker (an http
 * trigger waits for its answer within its timeout; argocdSync may wait up
 * to 15 s for a termination; 429s wait for their Retry-After).  The
 * leader's fence is read here, on the worker, just before the send, and
 * again before every request and retry the executor makes (the worker's
 * retry gate, ao.gate): an action refused by it fails with the reason,
 * and what was refused is never sent.
 */
static int
execute_plan(void *ctx, const json_t *plan, int dry_run, json_t **result,
    char **err)
{
	struct daemon *d = ctx;
	const char *type = json_string_value(json_object_get(plan, "type"));
	const char *why;

	/* the fence, at the last moment */
	if ((why = daemon_leader_gate(d)) != NULL) {
		*err = retry_refusal(why, 1, NULL);
		return -1;
	}
	if (type && strcmp(type, "remediate") == 0)
		return act_execute_native(d->kube, plan, dry_run, result, err);
	if (type && strcmp(type, "http") == 0)
		return notify_execute_http(d->secrets_dir, plan, dry_run,
		    result, err);
	return kube_execute_plan(d->kube, plan, dry_run, result, err);
}

/* The Event on the target of an executed action, for kubectl describe. */
static void
record_event(struct daemon *d, const struct rec_decision_record *r)
{
	json_t *live = cluster_get(d->cluster, r->target.kind,
	    r->target.namespace, r->target.name), *ref;
	const char *op = json_string_value(json_object_get(r->plan,
	    "operation"));
	char *msg, *key;
	int ok = r->decision == REC_ACTED;

	if (live == NULL || json_object_get(live, "apiVersion") == NULL)
		return;		/* cannot name it to the API server */
	ref = json_pack("{s:O, s:s, s:s?, s:s, s:O?}", "apiVersion",
	    json_object_get(live, "apiVersion"), "kind", r->target.kind,
	    "namespace", r->target.namespace, "name", r->target.name,
	    "uid", json_object_get(json_object_get(live, "metadata"), "uid"));
	msg = ok ? xasprintf("%s: %s %s %s%s%s", r->trigger, op ? op : "sent",
	    json_string_value(json_object_get(r->plan, "kind")),
	    json_string_value(json_object_get(r->plan, "namespace")) ?
	    json_string_value(json_object_get(r->plan, "namespace")) : "",
	    json_string_value(json_object_get(r->plan, "namespace")) ? "/" :
	    "", json_string_value(json_object_get(r->plan, "name"))) :
	    xasprintf("%s: %s", r->trigger, r->message ? r->message :
	    "failed");
	/* on a worker, after the target's actions: the API may be slow */
	key = objref_key(&r->target);
	dact_event(d->acts, key, ref, ok ? "Remediated" : "RemediationFailed",
	    msg, ok ? "Normal" : "Warning");
	free(key);
	free(msg);
	json_decref(ref);
}

/*
 * The owner hears of what was done or would be done; suppressions page
 * the on-call instead (page_decision), so nobody gets both.  Sent, with
 * confirm mode's pull-request tracking, once the record is stored
 * (told_later): nobody is told of a record the state file may not hold.
 */
static void
tell_owner(struct daemon *d, const struct daemon_told *t)
{
	struct notify_msg m;

	if (t->record == NULL)
		return;		/* nothing to tell (emit_record) */
	if (d->prs)
		daemon_prs_track(d->prs, t->record);
	if (d->notify == NULL || t->decision == REC_SUPPRESSED)
		return;
	memset(&m, 0, sizeof m);
	m.record = t->record;
	if (t->decision == REC_PENDING_APPROVAL)
		m.approval_url = t->link;
	m.target = cluster_get(d->cluster, t->target.kind,
	    t->target.namespace, t->target.name);
	m.subject = cluster_get(d->cluster, t->subject.kind,
	    t->subject.namespace, t->subject.name);
	notify_send(d->notify, &m);
}

static void
told_clear(struct daemon_told *t)
{
	json_decref(t->record);
	free(t->link);
	objref_clear(&t->target);
	objref_clear(&t->subject);
}

/* r's owner message waits for its record to be stored (record: a ref). */
static void
tell_later(struct daemon *d, const struct rec_decision_record *r,
    json_t *record)
{
	struct daemon_told *t;

	xgrow(&d->later, &d->caplater, d->nlater + 1, sizeof *d->later);
	t = &d->later[d->nlater++];
	memset(t, 0, sizeof *t);
	t->record = json_incref(record);
	t->decision = r->decision;
	t->link = d->link;	/* the approval just issued, if any */
	d->link = NULL;
	objref_set(&t->target, r->target.kind, r->target.namespace,
	    r->target.name);
	objref_set(&t->subject, r->subject.kind, r->subject.namespace,
	    r->subject.name);
}

/* The n oldest waiting: told (stored) or dropped with their records. */
static void
told_later(struct daemon *d, size_t n, int stored)
{
	size_t i;

	if (n > d->nlater)
		n = d->nlater;
	if (n == 0)	/* d->later may be NULL: memmove(NULL, ...) is UB */
		return;
	for (i = 0; i < n; i++) {
		if (stored)
			tell_owner(d, &d->later[i]);
		told_clear(&d->later[i]);
	}
	memmove(d->later, d->later + n, (d->nlater - n) * sizeof *d->later);
	d->nlater -= n;
}

/*
 * stdout shows a record only once it is stored.  The records held (an
 * event's, or a group's: audit_write returned 1) wait in d->held until a
 * call of the state file says they are stored (0: shown) or kept to retry
 * (-1: logged, never shown).
 */
static void
show_held(struct daemon *d, int stored)
{
	if (stored == 1)
		return;
	told_later(d, d->nlater, stored == 0);
	if (d->held.len == 0)
		return;
	if (stored == 0) {
		fputs(d->held.data, stdout);
		fflush(stdout);
	} else
		util_log_json("error", "decision records not stored (kept to "
		    "retry; not on stdout)", json_pack("{s:s}", "records",
		    d->held.data));
	buf_reset(&d->held);
}

/*
 * The store's writer thread wrote (stored 1) or could not write (0) the
 * n oldest records held (audit_opts.stored; on this thread, inside an
 * audit_ call): those lines are shown, or logged as not stored.
 */
static void
records_stored(void *ctx, size_t n, int stored)
{
	struct daemon *d = ctx;
	size_t len = 0, n0 = n;
	char *rest;

	while (n-- > 0 && len < d->held.len && (rest = memchr(d->held.data +
	    len, '\n', d->held.len - len)) != NULL)
		len = (size_t)(rest - d->held.data) + 1;
	told_later(d, n0, stored);
	if (len == 0)
		return;
	if (stored) {
		fwrite(d->held.data, 1, len, stdout);
		fflush(stdout);
	} else
		util_log_json("error", "decision records not stored (kept to "
		    "retry; not on stdout)", json_pack("{s:s%}", "records",
		    d->held.data, len));
	memmove(d->held.data, d->held.data + len, d->held.len - len + 1);
	d->held.len -= len;
}

static void
show_record(struct daemon *d, int stored, const char *line)
{
	buf_adds(&d->held, line);
	buf_addc(&d->held, '\n');
	show_held(d, stored);
}

/*
 * Group commit: with no more work waiting, or before an approval is
 * answered with its record, the records held are written and shown now
 * (docs/state.md).  0 when every record is stored, else -1 (kept to
 * retry, not shown).
 */
static int
flush_records(struct daemon *d)
{
	int stored;

	if (d->audit == NULL)
		return 0;
	stored = audit_flush(d->audit);
	show_held(d, stored);
	return stored == 0 ? 0 : -1;
}

/*
 * An approval's call answered with its decision's record (owned), shown
 * only once stored: else the answer says the outcome is not known yet.
 * ctx is the daemon (dact_opts.answer's shape).
 */
static void
answer_with_record(void *ctx, struct dq_call *c, json_t *record)
{
	if (flush_records(ctx) != 0) {
		json_decref(record);
		dq_call_answer_unknown(c, xstrdup("decided, but its record is "
		    "not stored yet (the state file cannot be written now; "
		    "the record is kept and stored once it can): `remediate "
		    "history` shows the outcome then"));
	} else
		dq_call_answer(c, record, NULL);
}

/*
 * The record's line is written straight from it (rec_write_line: as
 * jansson would dump the tree, a fifth of a decision's CPU in
 * bench/state); the tree is built only for an owner message or a pull
 * request to track, which suppressions never make.
 */
static void
emit_record(void *ctx, const struct rec_decision_record *r)
{
	struct daemon *d = ctx;
	json_t *record = r->decision != REC_SUPPRESSED && (d->notify ||
	    d->prs) ? rec_to_json(r) : NULL;
	char *line;
	int stored;

	buf_reset(&d->line);
	rec_write_line(r, &d->line);
	line = d->line.data;
	line[--d->line.len] = '\0';	/* its newline: show_record's */
	metrics_observe_record(r);
	if (r->decision == REC_FAILED && r->plan)
		util_log_json("error", "action failed", json_pack("{s:s?, s:s?, "
		    "s:o, s:s?}", "sensor", r->sensor, "trigger", r->trigger,
		    "target", objref_json(&r->target), "error", r->message));
	page_decision(d->pager, r);	/* before the write: same journal */
	stored = d->audit ? audit_write_text(d->audit, r, line) : -1;
	tell_later(d, r, record);
	if (d->audit == NULL)
		told_later(d, d->nlater, 1);	/* no state file: at once */
	show_record(d, stored, line);
	json_decref(record);
	if (r->plan && (r->decision == REC_ACTED ||
	    r->decision == REC_FAILED))
		record_event(d, r);
}

/*
 * The engine's pend hook: a pending-approval decision gets its approval,
 * kept in the state file.  The record names the approval by id (enough
 * for `remediate approve ID`); the signed link goes only to the owner's
 * message, never into records or logs, which more people read.
 */
static int
pend_approval(void *ctx, const struct rec_decision_record *r,
    const json_t *input, json_t **approval, char **err)
{
	struct daemon *d = ctx;
	struct approve_ticket t;
	json_t *record = rec_to_json(r);
	char when[TIME_FMTLEN];
	int rc;

	rc = approve_issue(d->approvals, record, input, clock_now(&d->clock),
	    d->notify_cfg ? d->notify_cfg->approval_ttl : 0, &t, err);
	json_decref(record);
	if (rc == -1)
		return -1;
	time_format(t.expires, when, sizeof when);
	*approval = json_pack("{s:s, s:s}", "id", t.id, "expires", when);
	free(d->link);
	d->link = t.url;
	t.url = NULL;
	approve_ticket_clear(&t);
	return 0;
}

/* On the engine thread: an approval nobody used in time is recorded. */
static void
on_expired(void *ctx, const struct approve_pending *p)
{
	struct daemon *d = ctx;

	json_decref(engine_expire(d->engine, p->input, p->record, p->id,
	    p->decided ? p->decided : p->expires));
}

/*
 * On an HTTP thread (approve_http's callback): the engine thread decides
 * again and acts; this thread waits for its answer.
 */
static int
run_approval(void *ctx, const struct approve_pending *p, json_t **record,
    char **err)
{
	struct daemon *d = ctx;
	struct dq_call *c = dq_call_new(json_pack("{s:s, s:O?}", "id", p->id,
	    "input", p->input));
	struct dq_item it;
	int rc = -1;

	memset(&it, 0, sizeof it);
	it.kind = DQ_CALL;
	it.call = dq_call_ref(c);
	if (dq_push(d->q, &it, 1) == -1)
		dq_item_clear(&it);	/* closed: answers "stopping" */
	if (dq_call_wait(c, APPROVE_WAIT_MS) == -1) {
		/* it may yet decide and act: not "failed" */
		*err = xstrdup("the engine did not answer in time; the "
		    "action may still run: `remediate history` shows what "
		    "happened");
		rc = APPROVE_RUN_UNKNOWN;
	} else if (c->out) {
		*record = json_incref(c->out);
		rc = 0;
	} else {
		*err = xstrdup(c->err ? c->err : "no answer");
		rc = c->unknown ? APPROVE_RUN_UNKNOWN : -1;
	}
	dq_call_release(c);
	return rc;
}

/*
 * On the engine thread: the approval an HTTP thread is waiting on.  An
 * approved action runs on a worker; its outcome answers the call then.
 */
static void
answer_call(struct daemon *d, struct dq_call *c, int acting)
{
	json_t *out;

	if (!acting) {
		dq_call_answer(c, NULL, xstrdup("this replica is a standby; "
		    "approve through the leader (the Service sends you "
		    "there)"));
		return;
	}
	dact_set_call(d->acts, c);
	out = engine_approve(d->engine, json_object_get(c->in, "input"),
	    json_string_value(json_object_get(c->in, "id")));
	if (dact_set_call(d->acts, NULL) && out == NULL)
		return;
	answer_with_record(d, c, out);
}

/* The budget gate's question: budget.c asks it, or holds it off. */
static int
budget_from_prometheus(void *ctx, const char *query, int64_t now,
    double *value, int64_t *at)
{
	struct daemon *d = ctx;

	return daemon_budget_ask(&d->budget, d->prom_url, d->prom_timeout,
	    query, now, value, at);
}

/* --prometheus, else RemediationConfig spec.prometheus {url, timeout}. */
void
daemon_configure_prometheus(struct daemon *d, const struct conf *c)
{
	json_t *p = NULL;
	int64_t ms;

	if (c->nby_kind[CONF_REMEDIATIONCONFIG])
		p = json_object_get(json_object_get(c->by_kind[
		    CONF_REMEDIATIONCONFIG][0]->root, "spec"), "prometheus");
	d->prom_url = d->o->prometheus ? d->o->prometheus :
	    json_string_value(json_object_get(p, "url"));
	d->prom_timeout = 5000;
	/* another Prometheus, or another timeout, is asked afresh */
	memset(&d->budget, 0, sizeof d->budget);
	if (json_is_string(json_object_get(p, "timeout")) && duration_parse(
	    json_string_value(json_object_get(p, "timeout")), &ms) == 0)
		d->prom_timeout = (long)ms;
}

/* A view watch relists: what it does not list again is gone. */
static void
view_relist(struct daemon *d, int begin, json_t *marker)
{
	const char *kind = obj_kind(marker);
	size_t n;

	if (begin) {
		cluster_relist_begin(d->cluster, kind);
		return;
	}
	n = cluster_relist_end(d->cluster, kind);
	util_log_json("info", "view relisted", json_pack("{s:s?, s:i, s:i}",
	    "kind", kind, "removed", (json_int_t)n, "objects",
	    (json_int_t)cluster_count(d->cluster, NULL)));
}

/*
 * Sets view_listed, and logs "synced", once every watch has delivered its
 * initial list.
 */
static void
check_synced(struct daemon *d)
{
	struct kube_watch_status st;
	size_t i, n = 0;

	for (i = 0; i < d->nwatches; i++) {
		kube_watch_status(d->wctx[i]->watch, &st);
		n += st.synced != 0;
		free(st.last_error);
	}
	if (n == d->nwatches && dq_depth(d->q) == 0) {
		struct cluster_stats cs;

		d->view_listed = 1;
		cluster_stats(d->cluster, &cs);
		util_log_json("info", "synced", json_pack("{s:i, s:i, s:i, "
		    "s:i, s:i}", "watches", (int)n, "objects", (int)cs.objects,
		    "viewBytes", (json_int_t)(cs.record_bytes + cs.table_bytes +
		    cs.string_bytes), "viewStrings", (json_int_t)cs.strings,
		    "bytesPerObject", (json_int_t)cs.bytes_per_object));
	}
}

static void
expire_approvals(struct daemon *d, int64_t now)
{
	char *err = NULL;

	if (d->approvals && approve_expire(d->approvals, now, on_expired, d,
	    &err) == -1) {
		util_log_json("warn", "cannot expire approvals", json_pack(
		    "{s:s}", "error", err ? err : "?"));
		free(err);
	}
}

/*
 * A missing permission is asked for again every ACCESS_MS, by a standby
 * too: its /readyz names what it would lack on taking over.
 */
static void
recheck_access(struct daemon *d)
{
	int64_t now = clock_now(&d->clock);

	if (d->access && d->next_access && now >= d->next_access)
		d->next_access = daemon_access_check(d->access, d->kube) ?
		    now + ACCESS_MS : 0;
}

/* The leader's pager and state file housekeeping, on the engine thread. */
static void
housekeeping(struct daemon *d)
{
	int64_t now = clock_now(&d->clock);
	long pruned;

	if (now >= d->next_tick) {
		page_tick(d->pager, now);
		expire_approvals(d, now);
		metrics_set_state_writable(audit_sync(d->audit) == 0);
		daemon_prs_poll(d->prs, d->acts, d->kube, now);
		d->next_tick = now + TICK_MS;
	}
	if (now >= d->next_prune) {
		daemon_fleet_tick(d, now);
		if ((pruned = audit_prune(d->audit, now)) > 0)
			util_log_json("info", "pruned old records", json_pack(
			    "{s:I}", "records", (json_int_t)pruned));
		d->next_prune = now + PRUNE_MS;
	}
}

/* The listener's and the webhook ingress's counters. */
static void
update_http_metrics(struct daemon *d)
{
	struct http_stats hs;
	struct hook_stats ks;

	if (d->http) {
		http_server_stats(d->http, &hs);
		metrics_http_server(hs.status_2xx, hs.status_4xx,
		    hs.status_5xx, hs.reaped, hs.open);
	}
	if (d->hooks) {
		hook_ingress_stats(d->hooks, &ks);
		metrics_webhook_requests("received", ks.requests);
		metrics_webhook_requests("full", ks.full);
		metrics_webhook_requests("unauthorized", ks.unauthorized);
		metrics_webhook_requests("forbidden", ks.forbidden);
		metrics_webhook_requests("malformed", ks.malformed);
		metrics_webhook_requests("too_large", ks.too_large);
		metrics_webhook_requests("not_found", ks.not_found);
		metrics_webhook_events("queued", ks.events);
		metrics_webhook_events("duplicate", ks.duplicates);
		metrics_webhook_events("replay", ks.replays);
		metrics_webhook_requests("unstored", ks.unstored);
	}
}

/* Gauges and counters read from other owners, between items. */
static void
update_metrics(struct daemon *d)
{
	const struct engine_stats *st = engine_stats(d->engine);
	struct kube_watch_status ws;
	size_t i;

	update_http_metrics(d);
	metrics_engine_totals(st->signals, st->filtered);
	metrics_set_queue_depth("engine", (double)dq_depth(d->q));
	metrics_set_queue_depth("intake", d->intake ?
	    (double)intake_undecided(d->intake) : 0);
	metrics_set_queue_depth("pages", (double)page_queue_depth(d->pager));
	metrics_set_queue_depth("actions", (double)dact_in_flight(d->acts));
	for (i = 0; i < d->nwatches; i++) {
		kube_watch_status(d->wctx[i]->watch, &ws);
		/* failures first: a scrape that sees a restart sees the
		 * attempts that failed before it */
		if (d->wctx[i]->errors < ws.errors) {
			metrics_count_watch_failures(d->wctx[i]->resource,
			    (double)(ws.errors - d->wctx[i]->errors));
			d->wctx[i]->errors = ws.errors;
		}
		while (d->wctx[i]->restarts < ws.restarts) {
			metrics_count_watch_restart(d->wctx[i]->resource);
			d->wctx[i]->restarts++;
		}
		free(ws.last_error);
	}
}

static void
count_signal(struct daemon *d, const struct dq_item *it)
{
	const struct watch_ctx *w;

	if (it->kind == DQ_EVENT)
		metrics_count_signal(it->ev.source, it->ev.name);
	else if (it->kind == DQ_WATCH && it->watcher >= 0 &&
	    (w = daemon_watch_find(d, it->watch_id)) != NULL)
		metrics_count_signal(w->spec.eventsource, w->spec.name);
}

/*
 * Which source a watch item goes to now: its watch's index under the
 * configuration of the moment.  0: deliver; -1: its watch was retired by
 * a reload (the new watches' lists bring the view up to date).
 */
static int
route_watch(struct daemon *d, struct dq_item *it)
{
	const struct watch_ctx *w;

	if (it->kind != DQ_WATCH && it->kind != DQ_SYNC)
		return 0;
	if ((w = daemon_watch_find(d, it->watch_id)) == NULL)
		return -1;
	it->watcher = w->spec.source;
	return 0;
}

/*
 * A cluster change or a resource source's change: decided by the leader;
 * a standby only keeps its view warm (src/daemon/leader.c).
 */
static void
take_watch(struct daemon *d, const struct dq_item *it, int acting)
{
	if (it->watcher >= 0 && acting)
		engine_watch_source(d->engine, (size_t)it->watcher, it->watch,
		    it->obj);
	else if (it->watcher < 0 && acting)
		engine_watch_view(d->engine, it->watch, it->obj);
	else if (it->watcher < 0)
		engine_watch_standby(d->engine, it->watch, it->obj);
}

/*
 * Timed sources run once the view is whole, as a webhook event is held
 * for it: a series over the line at the start, evaluated while the first
 * list was under way, found its target "not found", was suppressed, and
 * as an edge stayed quiet until it re-armed.
 */
static long
pop_wait(struct daemon *d, int acting)
{
	int synced = d->view_listed;
	long wait = acting && synced ? daemon_timed_run(d) : -1,
	    most = RELOAD_POLL_MS;

	if (!(acting && synced))
		daemon_timed_idle(d);

	if (d->lease && d->o->retry_period && d->o->retry_period < most)
		most = (long)d->o->retry_period;	/* notice a new term */
	if (wait < 0 || wait > most)
		wait = synced ? most : 50;
	return wait;
}

/*
 * An event, decided; a durable one (intake row id) has its records and
 * the removal of its row written in one transaction (a group's, while
 * more work waits), then shown.
 */
static void
decide_event(struct daemon *d, struct event *ev, int64_t id)
{
	int rc;

	audit_event_begin(d->audit, id);
	engine_signal(d->engine, ev);
	if (id == 0)
		return;
	rc = audit_event_end(d->audit);
	show_held(d, rc);
	intake_decided(d->intake, 1);
}

/*
 * A queued event.  One the intake wrote is decided only by the term of
 * leadership that accepted it: a standby (or a later term of ours) leaves
 * it in the state file, where the leader's intake_recover finds it, so it
 * is decided once.  A standby drops the others (timer events).
 */
static void
take_event(struct daemon *d, struct dq_item *it, int acting)
{
	if (!acting || (it->intake != 0 && it->term != d->term))
		return;
	decide_event(d, &it->ev, it->intake);
}

static void
recovered(void *ctx, int64_t id, struct event *ev)
{
	struct daemon *d = ctx;

	metrics_count_signal(ev->source, ev->name);
	decide_event(d, ev, id);
}

/*
 * Up to a page of the events an earlier leader left undecided.  A read
 * that fails (a lost PostgreSQL connection, SQLITE_BUSY, an I/O error)
 * leaves them to a later turn, after a backoff that grows while it keeps
 * failing: the rows are still in the file, and only this reads them.
 */
static void
recover_step(struct daemon *d)
{
	int64_t now = clock_now(&d->clock);
	long n;

	if (now < d->recover_at)
		return;
	if ((n = intake_recover(d->intake, 256, recovered, d)) >= 0) {
		d->recovering = n > 0;
		d->recover_wait = 0;
		return;
	}
	d->recover_wait = d->recover_wait == 0 ? RECOVER_RETRY_MS :
	    d->recover_wait * 2 > RECOVER_RETRY_MAX ? RECOVER_RETRY_MAX :
	    d->recover_wait * 2;
	d->recover_at = now + d->recover_wait;
	util_log_json("warn", "the undecided events are read again later",
	    json_pack("{s:I, s:I}", "undecided", (json_int_t)intake_undecided(
	    d->intake), "retryMs", (json_int_t)d->recover_wait));
}

/*
 * One item of the queue, handled (and cleared) on the engine thread: by
 * the loop, and by the stop's drain (drain.c) for the cluster's signals
 * still queued.  acting: this replica decides now (daemon_leader_step).
 */
void
daemon_take_item(struct daemon *d, struct dq_item *it, int acting)
{
	if (route_watch(d, it) == -1) {
		dq_item_clear(it);
		return;
	}
	if (acting)
		count_signal(d, it);
	switch (it->kind) {
	case DQ_SYNC:
		if (it->watcher < 0)
			engine_sync(d->engine, it->obj);
		break;
	case DQ_RELIST:
		view_relist(d, it->watch == SIG_ADD, it->obj);
		break;
	case DQ_WATCH:
		take_watch(d, it, acting);
		break;
	case DQ_EVENT:
		take_event(d, it, acting);
		break;
	case DQ_CALL:
		answer_call(d, it->call, acting);
		/* answered, or the action's outcome will answer it */
		dq_call_release(it->call);
		it->call = NULL;
		break;
	case DQ_OUTCOME:	/* also after a step-down (leader.c) */
		dact_outcome(d->acts, d->engine, it);
		break;
	case DQ_STOP:
		stopping = 1;
		break;
	}
	if (acting && (it->kind == DQ_WATCH || it->kind == DQ_EVENT))
		metrics_observe_latency(dq_age(it));
	daemon_watch_give_back(d, it);
	dq_item_clear(it);
}

static void
loop(struct daemon *d)
{
	struct dq_item it;
	int acting;
	unsigned n = 0;
	long wait;

	while (!stopping) {
		atomic_store(&d->beat, clock_monotonic_ms());
		if (!d->view_listed)
			check_synced(d);
		acting = daemon_leader_step(d);
		/* once the view is whole */
		if (d->view_listed && acting && d->recovering)
			recover_step(d);
		if (d->view_listed && !d->recovering && d->nearly)
			daemon_early_take(d, acting);
		if ((n++ & 63) == 0)
			update_metrics(d);
		metrics_engine_heartbeat((double)clock_now(&d->clock) / 1000);
		daemon_reload_poll(d);	/* a standby too: ready to take over */
		recheck_access(d);
		if (acting)
			housekeeping(d);
		wait = pop_wait(d, acting);	/* runs timers */
		if (dq_depth(d->q) == 0)
			flush_records(d);	/* nothing waits: no group */
		if (dq_pop(d->q, &it, (int)wait) == -1) {
			update_metrics(d);
			continue;
		}
		if (daemon_early_hold(d, &it))
			continue;	/* waits for the view (early.c) */
		daemon_take_item(d, &it, daemon_leader_step(d));
	}
}

static void
serve_healthz(void *ctx, const struct http_request *req,
    struct http_response *resp)
{
	(void)ctx;
	(void)req;
	http_reply(resp, 200, "text/plain", "ok\n");
}

/*
 * Not ready while the state file cannot be written: no action runs then
 * (its intent is not recorded) and webhooks answer 503.
 */
static int
state_unwritable(struct daemon *d, struct http_response *resp)
{
	char *why = NULL, *body;
	json_t *report;

	pthread_rwlock_rdlock(&d->state_mu);	/* a step-down closes them */
	if (d->audit)
		why = audit_health(d->audit);
	if (why == NULL && d->intake)
		why = intake_health(d->intake);
	pthread_rwlock_unlock(&d->state_mu);
	if (why == NULL)
		return 0;
	report = json_pack("{s:s, s:s}", "status", "not ready", "state", why);
	body = json_dumps(report, JSON_COMPACT);
	http_reply(resp, 503, "application/json", body);
	free(body);
	free(why);
	json_decref(report);
	return 1;
}

/*
 * Ready when this replica leads, the state file can be written, every
 * permission is granted, every watch has listed and is not failing, and
 * the engine loop turned within the stall limit: a watch that stays
 * broken, or an engine stuck in one call, shows here, with why, as well
 * as in the logs.  A standby is not ready: the Service sends webhooks to
 * the leader.
 */
static void
serve_readyz(void *ctx, const struct http_request *req,
    struct http_response *resp)
{
	struct daemon *d = ctx;
	struct kube_watch_status st;
	json_t *bad, *report, *perms;
	int64_t stalled;
	char *body, *why = NULL;
	int leads;
	size_t i;

	(void)req;
	if (state_unwritable(d, resp))
		return;
	bad = json_array();
	stalled = clock_monotonic_ms() - atomic_load(&d->beat);
	pthread_mutex_lock(&d->watch_mu);	/* a reload swaps these */
	perms = d->access ? daemon_access_missing(d->access) : NULL;
	for (i = 0; i < d->nwatches; i++) {
		kube_watch_status(d->wctx[i]->watch, &st);
		if (!st.synced || !st.healthy)
			json_array_append_new(bad, json_pack("{s:s, s:b, s:b, "
			    "s:s?, s:I}", "resource", d->wctx[i]->resource,
			    "synced", st.synced, "healthy", st.healthy,
			    "lastError", st.last_error, "restarts",
			    (json_int_t)st.restarts));
		free(st.last_error);
	}
	pthread_mutex_unlock(&d->watch_mu);
	leads = daemon_leader_ready(d, &why);
	if (leads && json_array_size(bad) == 0 && perms == NULL &&
	    stalled < d->stall_ms) {
		http_reply(resp, 200, "text/plain", "ok\n");
		json_decref(bad);
		return;
	}
	report = json_pack("{s:s, s:s?, s:o, s:o?}", "status", "not ready",
	    "reason", why, "watches", bad, "permissions", perms);
	free(why);
	if (stalled >= d->stall_ms)	/* a decision or a call is stuck */
		json_object_set_new(report, "engine", json_pack("{s:s, s:f}",
		    "reason", "the engine loop has not turned", "stalledFor",
		    (double)stalled / 1000));
	body = json_dumps(report, JSON_COMPACT);
	http_reply(resp, 503, "application/json", body);
	free(body);
	json_decref(report);
}

static void
serve_metrics(void *ctx, const struct http_request *req,
    struct http_response *resp)
{
	char *text = metrics_render();

	(void)ctx;
	(void)req;
	http_reply(resp, 200, METRICS_CONTENT_TYPE, text);
	free(text);
}

static void
serve_approve(void *ctx, const struct http_request *req,
    struct http_response *resp)
{
	struct daemon *d = ctx;
	char *why = NULL;

	if (!daemon_leader_ready(d, &why)) {	/* a click is used once */
		http_reply(resp, 503, "text/plain", why);
		free(why);
		return;
	}
	approve_http(d->approvals, req, resp, clock_now(&d->clock),
	    run_approval, d);
}

static void
http_log(void *ctx, const char *msg)
{
	(void)ctx;
	util_log_json("warn", "http", json_pack("{s:s}", "detail", msg));
}

/*
 * Runs on an HTTP server thread: a request's events are written to the
 * state file (all or none) before the sender hears 200, then queued for
 * the engine, tagged with the term of leadership that wrote them.
 * Queued after a stop or a step-down they stay in the file for the next
 * leader's recovery.  A standby writes nothing and answers 503: the
 * sender retries, and /readyz keeps the Service from sending them here.
 */
static int
push_events(void *ctx, struct event *evs, size_t n, const char *replay)
{
	static const int rcs[] = { [INTAKE_OK] = HOOK_PUSHED,
	    [INTAKE_FULL] = HOOK_FULL, [INTAKE_STOPPING] = HOOK_STOPPING,
	    [INTAKE_REPLAY] = HOOK_REPLAY, [INTAKE_ERROR] = HOOK_UNSTORED };
	struct daemon *d = ctx;
	int64_t *ids;
	enum intake_result rc;
	struct dq_item it;
	unsigned term;
	size_t i;

	/* never acknowledge what we won't decide; checked before the lock
	   too, so a step-down's writer is not kept waiting by a storm */
	if (!daemon_leader_may_act(d))
		return HOOK_STOPPING;
	pthread_rwlock_rdlock(&d->state_mu);	/* a step-down frees it */
	if (d->intake == NULL || !daemon_leader_may_act(d)) {
		pthread_rwlock_unlock(&d->state_mu);
		return HOOK_STOPPING;
	}
	ids = xcalloc(n, sizeof *ids);
	term = d->term;
	rc = intake_put(d->intake, evs, n, replay, clock_now(&d->clock), ids);
	pthread_rwlock_unlock(&d->state_mu);
	for (i = 0; rc == INTAKE_OK && i < n; i++) {
		memset(&it, 0, sizeof it);
		it.kind = DQ_EVENT;
		it.ev = evs[i];
		it.intake = ids[i];
		it.term = term;
		if (dq_push(d->q, &it, 1) == -1)	/* stopping */
			dq_item_clear(&it);
	}
	free(ids);
	return rcs[rc];
}

static void
hook_log(void *ctx, const char *msg)
{
	(void)ctx;
	util_log_json("warn", "webhook", json_pack("{s:s}", "detail", msg));
}

struct hook_set *
daemon_hook_set(struct daemon *d, const struct conf *c, struct diags *dg)
{
	struct hook_set *set = hook_set_new();
	struct hook_set_opts so;
	size_t i;

	memset(&so, 0, sizeof so);
	so.read_secrets = 1;
	so.secrets_dir = d->o->secrets_dir;
	so.server = d->http;
	for (i = 0; i < c->nby_kind[CONF_EVENTSOURCE]; i++)
		hook_set_add(set, c->by_kind[CONF_EVENTSOURCE][i], &so, dg);
	return set;
}

void
daemon_hook_log(const struct hook_set *set)
{
	size_t i;

	for (i = 0; i < hook_set_count(set); i++) {
		char *line = hook_set_describe(set, i);

		util_log_json("info", "webhook", json_pack("{s:s}", "endpoint",
		    line));
		/* said at every start: anyone can send it events */
		if (hook_set_unauthenticated(set, i))
			util_log_json("warn", "webhook without authentication",
			    json_pack("{s:s, s:s}", "endpoint", line, "auth",
			    hook_set_unauthenticated(set, i) == 1 ?
			    "none (meant)" : "not set"));
		free(line);
	}
}

/* Every webhook EventSource entry, served through the ingress. */
static int
attach_webhooks(struct daemon *d)
{
	struct hook_set *set;
	struct hook_sink sink;
	struct hook_ingress_opts io;
	struct diags dg;

	diag_init(&dg);
	set = daemon_hook_set(d, d->conf, &dg);
	diag_print(&dg, stderr);
	if (dg.errors) {
		diag_free(&dg);
		hook_set_free(set);
		return -1;
	}
	diag_free(&dg);
	daemon_hook_log(set);
	memset(&sink, 0, sizeof sink);
	sink.push = push_events;
	sink.ctx = d;
	sink.capacity = d->queue_size;
	memset(&io, 0, sizeof io);
	io.log = hook_log;
	d->hooks = hook_ingress_new(&sink, &io);
	hook_ingress_set(d->hooks, set);
	/* without an election the state is open: seeded before we listen */
	if (daemon_dedup_seed(d) == -1)
		return -1;
	hook_ingress_attach(d->hooks, d->http);
	return 0;
}

static int
start_http(struct daemon *d)
{
	struct http_opts ho;
	char *err = NULL;

	memset(&ho, 0, sizeof ho);
	ho.listen[0] = d->o->listen;
	ho.nlisten = 1;
	ho.tls_cert = d->o->tls_cert;
	ho.tls_key = d->o->tls_key;
	ho.threads = 8;		/* webhooks wait for the state file's
				   commit: more waiting, bigger group
				   commits (src/intake/) */
	ho.log = http_log;
	if ((d->http = http_server_new(&ho, &err)) == NULL ||
	    http_route_add(d->http, "GET", "/healthz", serve_healthz, d) ||
	    http_route_add(d->http, "GET", "/readyz", serve_readyz, d) ||
	    http_route_add(d->http, "GET", "/metrics", serve_metrics, d) ||
	    http_route_prefix(d->http, NULL, "/approve/", serve_approve, d) ||
	    attach_webhooks(d) == -1 ||
	    http_server_start(d->http, &err) == -1) {
		util_log_json("error", "cannot serve HTTP", json_pack("{s:s, "
		    "s:s}", "listen", d->o->listen, "error", err ? err : "?"));
		free(err);
		return -1;
	}
	util_log_json("info", "listening", json_pack("{s:s, s:i}", "listen",
	    d->o->listen, "port", (int)http_server_port(d->http, 0)));
	return 0;
}

/*
 * The engine thread's reads of the API server (the ownership check, a
 * policy's whole object): every decision waits on them, so a throttled
 * or hung server gets two tries of 5 s, and one that asks to be left
 * alone longer than a second (Retry-After) fails the read at once.  An
 * owner that cannot be read stops the action (failed, its retry backoff):
 * nothing unreadable lets it through, and the next decisions go on.
 * The client's own policy (5 tries, Retry-After up to 60 s each) is for
 * threads that may wait: the action workers, the watches.
 */
static const struct retry engine_read = { 2, 200, 2.0, 0.2, 1000, 1 };
#define ENGINE_READ_TIMEOUT_MS	5000

/*
 * The view keeps a projection of Pods and workloads; when an action's
 * admission needs the whole object, it is read from the server.
 */
static json_t *
fetch_whole(void *ctx, const char *api_version, const char *kind,
    const char *ns, const char *name)
{
	struct daemon *d = ctx;
	struct kube_error err;
	json_t *o;
	char *t;

	kube_error_init(&err);
	kube_thread_policy(&engine_read, ENGINE_READ_TIMEOUT_MS);
	o = kube_get(d->kube, api_version, kind, ns, name, &err);
	kube_thread_policy(NULL, 0);
	if (o == NULL) {
		t = kube_error_text(&err);
		util_log_json("warn", "cannot read the live object", json_pack(
		    "{s:s, s:s?, s:s, s:s}", "kind", kind, "namespace", ns,
		    "name", name, "error", t));
		free(t);
	}
	kube_error_clear(&err);
	return o;
}

static int
connect_cluster(struct daemon *d)
{
	struct kube_config cfg;
	char *err = NULL;

	memset(&cfg, 0, sizeof cfg);
	if (kube_config_load(d->o->kubeconfig, d->o->context, &cfg,
	    &err) == -1) {
		util_log_json("error", "no cluster configuration", json_pack(
		    "{s:s}", "error", err));
		free(err);
		return -1;
	}
	d->kube = kube_client_new(&cfg, &err);
	/* the election's own client, with its own timeout (leader.c) */
	if (d->kube && d->o->leader_elect)
		d->lease_kube = kube_client_new(&cfg, &err);
	/* --cluster-name, else the kubeconfig's name for the cluster */
	snprintf(d->cluster_name, sizeof d->cluster_name, "%s",
	    d->o->cluster_name ? d->o->cluster_name : cfg.cluster ?
	    cfg.cluster : "default");
	util_log_json(d->kube ? "info" : "error", d->kube ? "cluster" :
	    "cannot create the Kubernetes client", json_pack("{s:s?, s:s?, "
	    "s:s?, s:s, s:s?}", "server", cfg.server, "context", cfg.context,
	    "source", cfg.source, "name", d->cluster_name, "error", err));
	free(err);
	kube_config_clear(&cfg);
	if (d->kube)
		cluster_set_fetch(d->cluster, fetch_whole, d);
	return d->kube && (d->lease_kube || !d->o->leader_elect) ? 0 : -1;
}

/* Webhook events, durable before the sender hears 200; NULL logged. */
static struct intake *
open_intake(struct daemon *d)
{
	struct intake_opts io;
	struct intake *in;
	char *err = NULL;

	memset(&io, 0, sizeof io);
	io.capacity = d->queue_size;
	io.log = util_log_json;
	io.cluster = d->cluster_name;	/* its own events, as audit's rows */
	if ((in = intake_open(d->o->state, &io, &err)) == NULL) {
		util_log_json("error", "cannot accept events durably",
		    json_pack("{s:s}", "error", err ? err : "?"));
		free(err);
	}
	return in;
}

/*
 * The state file: decisions, guard state and page state survive us.  The
 * audit handle and the intake (its committer thread and connection) are
 * opened together, and a new term of leadership begins: events the
 * intake accepted in an earlier term are the recovery's to decide.
 */
int
daemon_state_open(struct daemon *d)
{
	struct audit_opts ao;
	struct audit *a;
	struct intake *in;
	char *err = NULL, *shown;

	audit_opts_defaults(&ao);
	ao.log = util_log_json;
	ao.recover = d->o->state_recover;
	ao.cluster = d->cluster_name;	/* one writer per cluster */
	ao.group = AUDIT_GROUP_MAX;	/* flush_records when idle */
	ao.stored = records_stored;	/* groups on the writer thread */
	ao.stored_ctx = d;
	ao.note_known = cluster_noted_text;	/* notes by their texts */
	ao.note_known_ctx = d->cluster;
	if (d->o->retain && audit_parse_retain(d->o->retain, &ao, &err)) {
		util_log_json("error", "bad --retain", json_pack("{s:s}", "error",
		    err));
		free(err);
		return -1;
	}
	shown = sqldb_display(d->o->state);	/* no password in a log */
	if ((a = audit_open(d->o->state, &ao, &err)) == NULL) {
		util_log_json("error", "cannot use the state file", json_pack(
		    "{s:s, s:s}", "state", shown, "error", err ? err : "?"));
		free(err);
		free(shown);
		return -1;
	}
	util_log_json("info", "state", json_pack("{s:s, s:i}", "file",
	    shown, "schema", audit_schema_version(a)));
	free(shown);
	if ((in = open_intake(d)) == NULL) {
		audit_close(a);
		return -1;
	}
	if (daemon_fleet_open(d) == -1) {
		intake_stop(in);
		intake_free(in);
		audit_close(a);
		return -1;
	}
	pthread_rwlock_wrlock(&d->state_mu);
	d->audit = a;
	d->intake = in;
	d->term++;
	pthread_rwlock_unlock(&d->state_mu);
	d->recovering = intake_undecided(in) > 0;
	d->recover_at = 0;
	d->recover_wait = 0;
	return 0;
}

/*
 * Closes what daemon_state_open opened: the intake first (a request in
 * its committer's hands is committed, later ones hear 503), then the
 * state file, which journals the pager and frees the file's lock.
 */
void
daemon_state_close(struct daemon *d)
{
	struct audit *a = d->audit;
	struct intake *in = d->intake;

	if (in)
		intake_stop(in);
	flush_records(d);	/* what is held is stored and shown */
	pthread_rwlock_wrlock(&d->state_mu);	/* no HTTP thread holds them */
	d->audit = NULL;
	d->intake = NULL;
	pthread_rwlock_unlock(&d->state_mu);
	intake_free(in);
	daemon_fleet_close(d);
	audit_close(a);
	d->recovering = 0;
}

/*
 * What the guardrails, the pager, the prometheus sources' edges,
 * confirm mode's pull requests and the webhook ingress (the alerts
 * stored, seed.c) remembered before we started (or took over); then the
 * actions a crash left with an unknown outcome are paged
 * (unknown.c).  The edges reach the sources at sched_set_recall.
 */
int
daemon_state_restore(struct daemon *d)
{
	char *err = NULL, *shown;

	sched_edges_clear(d->edges);	/* the store's, not an earlier
					   term's */
	if (audit_attach_guard(d->audit, engine_guard_state(d->engine),
	    &err) == -1 || audit_attach_pages(d->audit, d->pager, &err) ==
	    -1 || audit_attach_edges(d->audit, d->edges, &err) == -1 ||
	    daemon_prs_seed(d->prs, d->audit, &err) == -1) {
		shown = sqldb_display(d->o->state);
		util_log_json("error", "cannot restore the state", json_pack(
		    "{s:s, s:s}", "state", shown, "error", err ? err : "?"));
		free(shown);
		free(err);
		return -1;
	}
	if (daemon_prs_following(d->prs) > 0)
		util_log_json("info", "following pull requests", json_pack(
		    "{s:I}", "requests", (json_int_t)daemon_prs_following(
		    d->prs)));
	if (sched_edges_count(d->edges) > 0)	/* why series stay quiet */
		util_log_json("info", "prometheus edges restored", json_pack(
		    "{s:i}", "series", (int)sched_edges_count(d->edges)));
	/* a takeover: what the last leader stored is a redelivery here */
	if (daemon_dedup_seed(d) == -1)
		return -1;
	/* best effort: a failure is logged and left for the next start */
	(void)daemon_unknown_report(d->audit, d->pager, clock_now(&d->clock));
	return 0;
}

/* --alertmanager / --page-webhook, else RemediationConfig's alertmanager. */
static int
start_pager(struct daemon *d)
{
	struct page_opts po;
	json_t *am = NULL;
	char *err = NULL;

	page_opts_defaults(&po);
	po.log = util_log_json;
	if (d->conf->nby_kind[CONF_REMEDIATIONCONFIG])
		am = json_object_get(json_object_get(d->conf->by_kind[
		    CONF_REMEDIATIONCONFIG][0]->root, "spec"), "alertmanager");
	po.alertmanager = d->o->alertmanager ? d->o->alertmanager :
	    json_string_value(json_object_get(am, "url"));
	po.webhook = d->o->page_webhook;
	po.webhook_token = getenv("REMEDIATE_PAGE_TOKEN");
	if ((d->pager = page_new(&po, &err)) == NULL) {
		util_log_json("error", "cannot page", json_pack("{s:s}", "error",
		    err ? err : "?"));
		free(err);
		return -1;
	}
	return 0;
}

/* Owners and destinations from the RemediationConfig; secrets read now. */
static int
start_notify(struct daemon *d)
{
	struct notify_opts no;
	struct diags dg;
	char *err = NULL;

	diag_init(&dg);
	d->notify_cfg = notify_config_new(d->conf, d->o->secrets_dir, 1, &dg);
	diag_print(&dg, stderr);
	diag_free(&dg);
	if (d->notify_cfg == NULL)
		return -1;
	memset(&no, 0, sizeof no);
	no.log = util_log_json;
	if ((d->notify = notify_new(d->notify_cfg, &no, &err)) == NULL) {
		util_log_json("error", "cannot notify", json_pack("{s:s}",
		    "error", err ? err : "?"));
		free(err);
		return -1;
	}
	return 0;
}

/*
 * Confirm mode's approvals, in the state file beside the audit log, with
 * links under notifications.baseURL.
 */
static int
open_approvals(struct daemon *d)
{
	struct approve_key key;
	char *err = NULL;

	if (approve_key_load(d->o->approval_key, d->o->state, &key,
	    &err) == 0)
		d->approvals = approve_store_open(d->o->state, &key,
		    d->notify_cfg ? d->notify_cfg->base_url : NULL, 0, &err);
	if (d->approvals)	/* its own, where clusters share a database */
		approve_store_scope(d->approvals, d->cluster_name);
	if (d->approvals == NULL) {
		util_log_json("error", "cannot keep approvals", json_pack(
		    "{s:s}", "error", err ? err : "?"));
		free(err);
	} else
		util_log_json("info", "approvals", json_pack("{s:s, s:s?}",
		    "key", key.source, "baseURL", d->notify_cfg ?
		    d->notify_cfg->base_url : NULL));
	explicit_bzero(&key, sizeof key);
	return d->approvals ? 0 : -1;
}

/*
 * The hooks below take the daemon, not the client or the state file:
 * the configuration loads before either exists (see daemon_run), a
 * standby opens the state file only when it takes over, and a reload
 * builds a new engine with the same hooks.  The intent is written only
 * while the fence is open.
 */
static int
intend_durably(void *ctx, const struct rec_decision_record *r)
{
	struct daemon *d = ctx;

	if (d->audit == NULL || !daemon_leader_may_act(d))
		return -1;
	return audit_intend(d->audit, r);
}

static int
fetch_live(void *ctx, const char *api_version, const char *kind,
    const char *ns, const char *name, json_t **out, char **err)
{
	struct daemon *d = ctx;
	int rc;

	kube_thread_policy(&engine_read, ENGINE_READ_TIMEOUT_MS);
	rc = kube_fetch(d->kube, api_version, kind, ns, name, out, err);
	kube_thread_policy(NULL, 0);
	return rc;
}

static void
init_trigger_metrics(void *ctx, const char *sensor, const char *trigger)
{
	(void)ctx;
	metrics_init_trigger(sensor, trigger);
}

void
daemon_engine_ready(struct daemon *d, struct engine *e,
    struct daemon_access **access)
{
	struct daemon_access *a = daemon_access_new(e);

	engine_each_trigger(e, init_trigger_metrics, NULL);
	/* a reload asks only for what is new or still missing */
	daemon_access_adopt(a, d->access);
	*access = a;
	if (d->kube && daemon_access_check(*access, d->kube))
		d->next_access = clock_now(&d->clock) + ACCESS_MS;
	else
		d->next_access = 0;
}

static int
submit_to_workers(void *ctx, struct engine_action *a)
{
	struct daemon *d = ctx;

	return dact_submit(d->acts, a);
}

/* The action workers, before anything else pushes into the queue. */
static int
start_actions(struct daemon *d)
{
	struct dact_opts ao;

	memset(&ao, 0, sizeof ao);
	ao.q = d->q;
	ao.kube = d->kube;
	ao.workers = d->o->action_workers;
	ao.execute = execute_plan;
	ao.execute_ctx = d;
	ao.gate = daemon_leader_gate;
	ao.gate_ctx = d;
	ao.propose = daemon_propose;
	ao.propose_ctx = d->prs;
	ao.answer = answer_with_record;
	ao.answer_ctx = d;
	d->acts = dact_new(&ao);
	util_log_json("info", "action workers", json_pack("{s:i}", "workers",
	    (int)(d->o->action_workers ? d->o->action_workers :
	    POOL_DEFAULT_WORKERS)));
	return 0;
}

void
daemon_engine_opts(struct daemon *d, struct engine_opts *eo)
{
	memset(eo, 0, sizeof *eo);
	eo->budget = budget_from_prometheus;
	eo->budget_ctx = d;
	eo->clock = &d->clock;
	eo->cluster = d->cluster;
	eo->submit = submit_to_workers;
	eo->submit_ctx = d;
	eo->fetch = fetch_live;
	eo->fetch_ctx = d;
	/*
	 * A decision its rate stops anyway asks neither the API server nor
	 * Prometheus again within 5 s: a storm is not a request per signal
	 * (src/engine/reuse.c)
	 */
	eo->reuse_ms = 5000;
	eo->propose = daemon_propose;
	eo->propose_ctx = d->prs;
	eo->emit = emit_record;
	eo->emit_ctx = d;
	eo->intend = intend_durably;
	eo->intend_ctx = d;
	eo->pend = pend_approval;
	eo->pend_ctx = d;
	/* filled on connecting, before the first decision */
	eo->cluster_name = d->cluster_name;
	eo->fleet = &d->fleet_hooks;
	eo->view_listed = &d->view_listed;
}

static int
load(struct daemon *d)
{
	struct diags dg;
	struct engine_opts eo;
	int rc = 0;

	diag_init(&dg);
	d->conf = conf_load(d->o->config, d->o->nconfig, &dg);
	if (dg.errors == 0) {
		daemon_configure_prometheus(d, d->conf);
		daemon_engine_opts(d, &eo);
		d->engine = engine_new(d->conf, &eo, &dg);
	}
	diag_print(&dg, stderr);
	if (d->engine == NULL) {
		util_log_json("error", "invalid configuration", json_pack(
		    "{s:i}", "errors", (int)dg.errors));
		rc = -1;
	}
	diag_free(&dg);
	return rc;
}

/*
 * Asks the server for every permission the configuration needs; a
 * missing one is logged and keeps /readyz at 503 until it is granted
 * (asked again every ACCESS_MS), but does not stop the start.
 */
static int
check_access(struct daemon *d)
{
	daemon_engine_ready(d, d->engine, &d->access);
	return 0;
}

/* Without an election the state file is this replica's from the start. */
static int
restore_unless_elected(struct daemon *d)
{
	return d->o->leader_elect ? 0 : daemon_state_restore(d);
}

int
daemon_run(const struct daemon_opts *o)
{
	struct daemon d;
	struct sigaction sa;
	int rc = 1;

	memset(&d, 0, sizeof d);
	util_memory_tune();
	d.o = o;
	d.secrets_dir = o->secrets_dir ? xstrdup(o->secrets_dir) : NULL;
	d.prs = daemon_prs_new(o->secrets_dir);
	d.edges = sched_edges_new();
	metrics_init();
	clock_system(&d.clock);
	d.cluster = cluster_new();
	d.queue_size = o->queue_size ? o->queue_size : 10000;
	d.q = dq_new(d.queue_size);
	buf_init(&d.held, 0);
	buf_init(&d.line, 0);
	d.stall_ms = o->stall_after > 0 ? o->stall_after : STALL_MS;
	atomic_store(&d.beat, clock_monotonic_ms());
	pthread_mutex_init(&d.watch_mu, NULL);
	pthread_rwlock_init(&d.state_mu, NULL);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	daemon_reload_install(&d);	/* before the load it may repeat */
	daemon_fleet_hooks(&d);
	/* manifests first: a bad one is refused before we ask for a
	   cluster or create a state file; with an election the state file
	   waits until this replica leads */
	if (load(&d) == 0 && connect_cluster(&d) == 0 &&
	    daemon_leader_prepare(&d) == 0 && start_actions(&d) == 0 &&
	    start_pager(&d) == 0 && start_notify(&d) == 0 &&
	    open_approvals(&d) == 0 && restore_unless_elected(&d) == 0 &&
	    check_access(&d) == 0 && daemon_timed_start(&d) == 0 &&
	    daemon_watches_start(&d) == 0 && start_http(&d) == 0 &&
	    daemon_leader_start(&d) == 0) {
		util_log_json("info", "running", json_pack("{s:i}", "watches",
		    (int)d.nwatches));
		loop(&d);
		rc = 0;
	}
	daemon_watches_cancel(&d);	/* they wind down while we drain */
	daemon_drain(&d, rc == 0);	/* approvals waiting hear so */
	flush_records(&d);	/* stored, shown, owners told: before the
				   notifier goes */
	http_server_free(d.http);	/* no handler may see freed watches */
	hook_ingress_free(d.hooks);
	daemon_timed_stop(&d);
	if (d.pager)		/* what is not sent stays due in the file */
		page_flush(d.pager, 500);
	daemon_reload_senders_stop(&d, 1000);
	if (d.notify)
		notify_flush(d.notify, 2000);
	notify_free(d.notify);
	d.notify = NULL;	/* a record stored later tells nobody */
	notify_config_free(d.notify_cfg);
	approve_store_close(d.approvals);
	daemon_prs_free(d.prs);
	d.prs = NULL;
	free(d.link);
	daemon_state_close(&d);	/* journals the pager and the edges:
				   before page_free, sched_edges_free */
	daemon_leader_stop(&d);	/* after the state file is free */
	page_free(d.pager);
	sched_edges_free(d.edges);
	buf_free(&d.held);
	buf_free(&d.line);
	told_later(&d, d.nlater, 0);
	free(d.later);
	dact_free(d.acts);
	daemon_watches_stop(&d);
	daemon_access_free(d.access);
	engine_free(d.engine);
	conf_free(d.conf);
	daemon_reload_free(&d);	/* after the watches that borrowed them */
	kube_client_free(d.kube);
	dq_free(d.q);
	cluster_free(d.cluster);
	metrics_shutdown();
	free(d.secrets_dir);
	pthread_rwlock_destroy(&d.state_mu);
	pthread_mutex_destroy(&d.watch_mu);
	return rc;
}
