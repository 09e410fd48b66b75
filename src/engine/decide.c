/*
 * The decision: one trigger fire becomes one record.
 *
 * The checks run in the order DESIGN.md fixes, and the first that stops
 * the action names the record's reason:
 *
 *	stale, below-threshold, disabled, cooldown, opt-out, policy,
 *	at-cap / unsupported-target / blast-radius, gitops-managed /
 *	conflict, budget, circuit-open, rate-limited
 *
 * Rate tokens are taken last, so only an action that passed everything
 * else spends one.  Then the mode decides what happens; notify, dry-run
 * and confirm keep the same cooldown, circuit and rate state as auto, so
 * what they report is what auto would have done.
 *
 * Before the checks, recurrence: a signal for a target that an action of
 * this trigger remediated shortly before means the remediation did not
 * hold.  Too many of those and the trigger is demoted to notify (its own
 * "demoted" record first), until its manifest changes.
 */
#include <stdlib.h>
#include <string.h>

#include "action/action.h"
#include "engine/internal.h"
#include "notify/notify.h"

/*
 * A policy's lookup() reads the whole object: the view keeps only what
 * the guardrails read, and a path it dropped must not read null where
 * the API server has a value (a condition on it would pass that should
 * not).  In `run` that is a GET at the decision; in replay, the latest
 * whole version replay has seen (src/cmd/replay_whole.c).
 */
static json_t *
lookup_cluster(void *ctx, const char *kind, const char *ns, const char *name)
{
	return cluster_get_whole(ctx, kind, ns, name);
}

void
decide_extra_set(struct decision *d, const char *key, json_t *v)
{
	if (d->rec.extra == NULL)
		d->rec.extra = json_object();
	json_object_set_new(d->rec.extra, key, v);
}

/* Renders a guardrail template from the firing event, as triggers are. */
static char *
render(struct decision *d, enum engine_tmpl which, const char *text,
    const char *what)
{
	char *err = NULL, *out;

	if (d->et->tmpl[which] == NULL)
		return xstrdup(text);	/* no {{ }}: the text itself */
	out = sensor_template_render(d->et->tmpl[which], d->fire->event->data,
	    &err);
	if (out == NULL) {
		snprintf(d->msg, sizeof d->msg, "%s: %s", what,
		    err ? err : "template failed");
		free(err);
	}
	return out;
}

/* guardrails.target, rendered: "Kind/namespace/name" or "Kind/name". */
static int
parse_target(struct decision *d, const char *s)
{
	const char *a = strchr(s, '/'), *b = a ? strchr(a + 1, '/') : NULL;
	char *kind, *ns = NULL, *name;

	if (a == NULL || a == s || a[1] == '\0' || (b && b[1] == '\0')) {
		snprintf(d->msg, sizeof d->msg, "guardrails.target rendered "
		    "to \"%s\", not Kind/namespace/name", s);
		return -1;
	}
	kind = xstrndup(s, (size_t)(a - s));
	if (b) {
		ns = xstrndup(a + 1, (size_t)(b - a - 1));
		name = xstrdup(b + 1);
	} else
		name = xstrdup(a + 1);
	objref_set(&d->rec.subject, kind, ns, name);
	free(kind);
	free(ns);
	free(name);
	return 0;
}

/* The subject object whole (borrowed, cluster_get's), or NULL. */
static json_t *
subject(struct decision *d)
{
	if (d->subject_obj == NULL && d->subject_meta != NULL)
		d->subject_obj = cluster_get(d->e->opts.cluster,
		    d->rec.subject.kind, d->rec.subject.namespace,
		    d->rec.subject.name);
	return d->subject_obj;
}

/* What of the subject the opt-in reads: its metadata at least. */
static json_t *
subject_labels(const struct decision *d)
{
	return d->subject_obj ? d->subject_obj : d->subject_meta;
}

/* Subject from the signal (or guardrails.target), target its controller. */
static int
resolve_target(struct decision *d)
{
	const struct event *ev = d->fire->event;
	struct cluster *cl = d->e->opts.cluster;

	objref_set(&d->rec.subject, ev->subject.kind, ev->subject.namespace,
	    ev->subject.name);
	if (d->cfg->target) {
		char *t = render(d, TMPL_TARGET, d->cfg->target,
		    "guardrails.target");
		int rc = t ? parse_target(d, t) : -1;

		free(t);
		if (rc == -1)
			return -1;
	}
	if (d->rec.subject.kind == NULL || d->rec.subject.name == NULL) {
		snprintf(d->msg, sizeof d->msg, "the signal names no object "
		    "to act on; set guardrails.target");
		return -1;
	}
	/*
	 * The owner walk and the opt-in read the subject's metadata alone:
	 * a Pod's body and statuses are parsed only for a check that reads
	 * them (subject()).
	 */
	d->subject_meta = cluster_get_meta(cl, d->rec.subject.kind,
	    d->rec.subject.namespace, d->rec.subject.name);
	if (d->subject_meta) {
		d->target_obj = cluster_top_controller(cl, d->subject_meta,
		    &d->rec.target);
		if (d->target_obj == d->subject_meta)	/* its own target */
			d->target_obj = subject(d);
	} else
		objref_set(&d->rec.target, d->rec.subject.kind,
		    d->rec.subject.namespace, d->rec.subject.name);
	d->target_key = objref_key(&d->rec.target);
	return 0;
}

static int
check_threshold(struct decision *d)
{
	char *key = d->cfg->threshold_key ? render(d, TMPL_THRESHOLD_KEY,
	    d->cfg->threshold_key, "threshold.key") : xstrdup(d->target_key);
	int ok;

	if (key == NULL)
		return -1;
	/* counted at the signals' own times, as recurrence is: two kills
	   2.5 minutes apart are not within 1m because they arrived so */
	ok = guard_check_threshold(d->e->state, d->cfg, d->et->id, key,
	    d->fire->event->time, d->msg, sizeof d->msg);
	free(key);
	return ok;
}

/* Plans the action; for k8s triggers the plan's object goes to policies. */
static int
plan_action(struct decision *d)
{
	const struct sensor_trigger *t = d->fire->trigger;
	const struct event *ev = d->fire->event;
	uint64_t seed;
	char *err = NULL;
	json_t *allow;

	if (t->kind == TRIGGER_REMEDIATE) {
		/* pure: the cluster view and the clock, nothing else */
		if (act_plan_native(t, d->fire->resource, d->target_obj,
		    subject(d), d->e->opts.cluster, d->e->now, &d->plan,
		    &d->verdict, &err) == -1) {
			snprintf(d->msg, sizeof d->msg, "%s", err);
			free(err);
			return -1;
		}
		d->native = 1;
		if (d->plan.plan)
			d->rec.plan = json_incref(d->plan.plan);
		return 0;
	}
	if (t->kind == TRIGGER_HTTP) {
		if (notify_plan_http(d->fire->spec, d->fire->resource,
		    &d->plan.plan, &err) == -1) {
			snprintf(d->msg, sizeof d->msg, "%s", err);
			free(err);
			return -1;
		}
		allow = json_object_get(json_object_get(t->policy, "status"),
		    "allow");
		if (allow)
			json_object_set(d->plan.plan, "statusAllow", allow);
		if (t->retry_strategy)
			json_object_set(d->plan.plan, "retryStrategy",
			    t->retry_strategy);
		d->rec.plan = json_incref(d->plan.plan);
		return 0;
	}
	if (t->kind != TRIGGER_K8S)
		return 0;
	seed = util_hash(ev->id ? ev->id : "", ev->id ? strlen(ev->id) : 0,
	    UTIL_HASH_SEED);
	seed = util_hash(t->name, strlen(t->name), seed);
	if (act_plan_k8s(t, d->fire->resource, sensor_namespace(
	    d->es->sensor), seed, d->e->opts.cluster, &d->plan, &err) == -1) {
		snprintf(d->msg, sizeof d->msg, "%s", err);
		free(err);
		return -1;
	}
	d->rec.plan = json_incref(d->plan.plan);
	return 0;
}

/* Admission of one object the plan writes; 0 when Enforce denies it. */
static int
admit(struct decision *d, const struct act_admission *a, json_t **audits)
{
	struct jp_env env = { lookup_cluster, d->e->opts.cluster, d->e->now };
	struct pol_verdict v;
	size_t i;
	int ok = 1;

	memset(&v, 0, sizeof v);
	pol_admit_reuse(d->e->policies, d->e->admit_scratch, a->object,
	    a->old, a->operation, &env, &v);
	for (i = 0; i < v.n; i++) {
		struct pol_violation *p = &v.v[i];

		if (p->enforce && ok) {
			/* msg only says a check stopped the action; the
			   record keeps the message whole, and whether the
			   rule denied or could not be evaluated */
			snprintf(d->msg, sizeof d->msg, "%s/%s: %s",
			    p->policy, p->rule, p->message);
			free(d->rec.message);
			d->rec.message = xasprintf("%s/%s: %s", p->policy,
			    p->rule, p->message);
			decide_extra_set(d, "policyDenial", json_pack(
			    "{s:s, s:s, s:s, s:s}", "policy", p->policy,
			    "rule", p->rule, "result",
			    pol_outcome_name(p->outcome), "message",
			    p->message));
			ok = 0;
		} else if (!p->enforce) {
			if (*audits == NULL)
				*audits = json_array();
			json_array_append_new(*audits, json_pack(
			    "{s:s, s:s, s:s, s:s}", "policy", p->policy,
			    "rule", p->rule, "result",
			    pol_outcome_name(p->outcome), "message",
			    p->message));
		}
	}
	pol_verdict_clear(&v);
	return ok;
}

/* Every object the plan writes (quarantine's NetworkPolicy too). */
static int
check_policy(struct decision *d)
{
	struct act_admission a;
	json_t *audits = NULL;
	size_t k;
	int ok = 1;

	for (k = 0; ok && act_plan_admission(&d->plan, k, &a) == 0; k++)
		ok = admit(d, &a, &audits);
	if (audits)
		decide_extra_set(d, "policyAudit", audits);
	return ok;
}

static int
check_blast_radius(struct decision *d)
{
	json_t *w = d->target_obj ? d->target_obj : d->subject_obj;
	long pods = d->native ? d->verdict.pods : w ?
	    cluster_workload_pods(w) : 0;
	long total = d->e->opts.view_listed && !*d->e->opts.view_listed ?
	    -1 : (long)cluster_count(d->e->opts.cluster, "Pod");

	/* a pod controller of unknown size is stopped below; an object no
	   ownerReferences led to (a Node, a Service) runs no pods itself */
	if (pods < 0 && !d->native && w == d->subject_obj)
		pods = 0;

	if (!guard_check_blast_radius(d->cfg, pods, total, d->msg,
	    sizeof d->msg))
		return 0;
	/* not known, and maxClusterImpact 100%: nothing to add up */
	d->pods = pods < 0 ? 0 : pods;
	total = total < 0 ? 0 : total;
	if (!guard_check_fleet_impact(d->e->opts.fleet, d->cfg, d->pods,
	    total, d->e->now, d->msg, sizeof d->msg))
		return 0;
	/* what an action adds to the requests, against the Nodes' room */
	return !d->native || d->verdict.memory <= 0 ||
	    guard_check_blast_radius_memory(d->cfg, d->verdict.memory,
	    cluster_allocatable_memory(d->e->opts.cluster), d->msg,
	    sizeof d->msg);
}

static int
check_budget(struct decision *d)
{
	char *q;
	double value = 0;
	int64_t at = 0;
	int have = 0, ok;
	json_t *b, *qs, *v;

	if (d->cfg->budget_query == NULL)
		return 1;
	if ((q = render(d, TMPL_BUDGET_QUERY, d->cfg->budget_query,
	    "budget.query")) == NULL)
		return 0;
	if (d->e->opts.budget)
		have = engine_reuse_or_ask_budget(d->e, d->cannot_act, q,
		    &value, &at) == 0;
	engine_inputs_budget(d->e, q, have, value, at);
	ok = guard_check_budget(d->cfg, have, value, at, d->e->now, d->msg,
	    sizeof d->msg);
	/* member by member: json_pack would read a format per decision */
	qs = json_string(q);
	v = have ? json_real(value) : json_null();
	if (qs && v) {	/* NULL: not UTF-8, not finite: json_pack's refusal */
		b = json_object();
		json_object_set_new(b, "query", qs);
		json_object_set_new(b, "value", v);
		if (have) {
			char when[TIME_FMTLEN];

			time_format(at, when, sizeof when);
			json_object_set_new(b, "at", json_string(when));
		}
		decide_extra_set(d, "budget", b);
	} else {
		json_decref(qs);
		json_decref(v);
	}
	free(q);
	return ok;
}

void
decide_finish(struct decision *d, enum rec_decision dec,
    enum rec_reason reason)
{
	struct engine *e = d->e;

	d->rec.decision = dec;
	d->rec.reason = reason;
	if (d->msg[0] && d->rec.message == NULL)
		d->rec.message = xstrdup(d->msg);
	decide_emit(e, &d->rec);
}

void
decide_emit(struct engine *e, const struct rec_decision_record *r)
{
	struct rec_decision_record named;

	e->stats.records++;
	e->stats.by_decision[r->decision]++;
	e->stats.by_reason[r->reason]++;
	if (e->opts.emit == NULL)
		return;
	if (r->cluster == NULL && e->opts.cluster_name) {
		/* every record names its cluster, built here or not */
		named = *r;
		named.cluster = e->opts.cluster_name;
		r = &named;
	}
	e->opts.emit(e->opts.emit_ctx, r);
}

static void
suppress(struct decision *d, enum rec_reason r)
{
	decide_finish(d, REC_SUPPRESSED, r);
}

/*
 * Identifies the trigger's manifest and guardrails: a demotion holds, and
 * an approval applies, until it changes.
 */
uint64_t
decide_trigger_hash(struct decision *d)
{
	const struct sensor_trigger *t = d->fire->trigger;
	json_t *g;
	char *a, *b;
	uint64_t h;

	if (d->et->hash)
		return d->et->hash;
	g = guard_config_json(d->cfg);
	a = t->tmpl ? json_dumps(t->tmpl, JSON_COMPACT | JSON_SORT_KEYS) :
	    NULL;
	b = json_dumps(g, JSON_COMPACT | JSON_SORT_KEYS);
	h = util_hash(t->name, strlen(t->name), UTIL_HASH_SEED);
	h = util_hash(a ? a : "", a ? strlen(a) : 0, h);
	h = util_hash(b ? b : "", b ? strlen(b) : 0, h);
	free(a);
	free(b);
	json_decref(g);
	d->et->hash = h ? h : 1;
	return d->et->hash;
}

static json_t *
recurrence_json(const struct guard_recurrence *r)
{
	char when[TIME_FMTLEN];

	time_format(r->action, when, sizeof when);
	return json_pack("{s:s, s:i, s:i, s:f}", "of", when, "actions",
	    r->actions, "recurred", r->recurred, "ratio", r->ratio);
}

static void
emit_demoted(struct decision *d, const struct guard_recurrence *r)
{
	struct rec_decision_record dr = d->rec;

	memset(&dr.target, 0, sizeof dr.target);
	memset(&dr.subject, 0, sizeof dr.subject);
	objref_set(&dr.target, d->rec.target.kind, d->rec.target.namespace,
	    d->rec.target.name);
	objref_set(&dr.subject, d->rec.subject.kind,
	    d->rec.subject.namespace, d->rec.subject.name);
	dr.decision = REC_DEMOTED;
	dr.reason = REASON_NONE;
	dr.message = xasprintf("%d of the last %d actions recurred within "
	    "%lld min (%.0f%%), above demoteAbove %.0f%%: mode %s -> notify "
	    "until the trigger's manifest changes", r->recurred, r->actions,
	    (long long)(d->cfg->recurrence_within / 60000), 100 * r->ratio,
	    100 * d->cfg->recurrence_demote_above,
	    guard_mode_name(d->cfg->mode));
	dr.plan = NULL;
	dr.extra = json_pack("{s:o}", "recurrence", recurrence_json(r));
	dr.inputs = json_incref(d->rec.inputs);	/* rec_clear drops it */
	decide_emit(d->e, &dr);
	rec_clear(&dr);
}

/*
 * {"since": when, "mode": mode's name}, member by member.  A demoted
 * trigger's every decision carries it: recurrence() keeps the one it made
 * for the demotion (engine_trigger.demoted) rather than making it again.
 * A new reference.
 */
static json_t *
demoted_json(const char *when, enum guard_mode mode)
{
	json_t *o = json_object();

	json_object_set_new(o, "since", json_string(when));
	json_object_set_new(o, "mode", json_string(guard_mode_name(mode)));
	return o;
}

/*
 * Recurrence, before the checks: a demoted trigger decides as notify; a
 * signal that shows an earlier remediation did not hold is noted, and may
 * demote the trigger.
 */
static void
recurrence(struct decision *d)
{
	struct engine *e = d->e;
	struct guard_recurrence r;
	uint64_t h = decide_trigger_hash(d);
	int64_t since;
	char when[TIME_FMTLEN];

	d->mode = d->cfg->mode;
	if (guard_demoted(e->state, d->et->id, h, &since) == GUARD_DEMOTED) {
		/* the mode is the trigger's own: only since tells notes apart */
		if (d->et->demoted == NULL || d->et->demoted_since != since) {
			time_format(since, when, sizeof when);
			json_decref(d->et->demoted);
			d->et->demoted = demoted_json(when, d->cfg->mode);
			d->et->demoted_since = since;
		}
		decide_extra_set(d, "demoted", json_incref(d->et->demoted));
		if (d->mode > MODE_NOTIFY)
			d->mode = MODE_NOTIFY;
		return;
	}
	if (!guard_note_recurrence(e->state, d->cfg, d->et->id, d->target_key,
	    d->fire->event->time, &r))
		return;
	decide_extra_set(d, "recurrence", recurrence_json(&r));
	if (d->mode > MODE_NOTIFY && guard_should_demote(d->cfg, &r)) {
		guard_demote(e->state, d->et->id, h, e->now, &r);
		emit_demoted(d, &r);
		time_format(e->now, when, sizeof when);
		decide_extra_set(d, "demoted", demoted_json(when,
		    d->cfg->mode));
		d->mode = MODE_NOTIFY;
	}
}

enum rec_reason
decide_action_checks(struct decision *d, int64_t decided)
{
	struct engine *e = d->e;
	const struct guard_config *c = d->cfg;
	enum rec_reason r;
	int ok, blast;

	if (!guard_check_optin(c, d->target_obj, subject_labels(d), d->msg,
	    sizeof d->msg))
		return REASON_OPT_OUT;
	/*
	 * The subject is in the view but its controller is not: neither the
	 * controller's opt-in (or veto) nor the object to change can be read.
	 * Nothing was tried, so this is no failure (a failure pages).
	 */
	if (subject_labels(d) != NULL && d->target_obj == NULL) {
		snprintf(d->msg, sizeof d->msg, "the owner %s %s/%s of %s %s/%s "
		    "is not in the cluster view", d->rec.target.kind,
		    d->rec.target.namespace ? d->rec.target.namespace : "",
		    d->rec.target.name, d->rec.subject.kind,
		    d->rec.subject.namespace ? d->rec.subject.namespace : "",
		    d->rec.subject.name);
		return REASON_UNSUPPORTED_TARGET;
	}
	if (plan_action(d) == -1)
		return REASON_NONE;	/* msg set: the record is "failed" */
	if (!check_policy(d))
		return REASON_POLICY;
	if (d->native && d->verdict.kind != ACT_GO) {
		snprintf(d->msg, sizeof d->msg, "%s", d->verdict.message);
		return d->verdict.kind == ACT_AT_CAP ? REASON_AT_CAP :
		    REASON_UNSUPPORTED_TARGET;
	}
	if (!check_blast_radius(d))
		return REASON_BLAST_RADIUS;
	if ((r = decide_ownership(d)) != REASON_NONE || d->msg[0])
		return r;
	if (!check_budget(d))
		return REASON_BUDGET;
	/* last: a fleet circuit takes its slot in the ledger when it
	   admits the action */
	ok = guard_check_fleet_circuit(e->state, e->opts.fleet, c, d->pods,
	    (long)cluster_count(e->opts.cluster, "Pod"), decided, e->now,
	    &d->fleet_slot, &blast, d->msg, sizeof d->msg);
	return ok ? REASON_NONE : blast ? REASON_BLAST_RADIUS :
	    REASON_CIRCUIT_OPEN;
}

/* The checks, in order; returns REASON_NONE when every one passed. */
static enum rec_reason
run_checks(struct decision *d)
{
	struct engine *e = d->e;
	const struct guard_config *c = d->cfg;
	enum rec_reason r;
	int rc;

	recurrence(d);
	if (!guard_check_stale(c, d->fire->event->time, e->now, d->msg,
	    sizeof d->msg))
		return REASON_STALE;
	if ((rc = check_threshold(d)) <= 0)
		return rc < 0 ? REASON_NONE : REASON_BELOW_THRESHOLD;
	if (c->mode == MODE_OFF) {
		snprintf(d->msg, sizeof d->msg, "trigger mode is off");
		return REASON_DISABLED;
	}
	if (!guard_check_cooldown(e->state, c, d->et->id, d->target_key,
	    e->now, d->msg, sizeof d->msg))
		return REASON_COOLDOWN;
	d->cannot_act = !guard_rate_token_left(e->state, c, d->et->id,
	    e->now);
	if ((r = decide_action_checks(d, 0)) != REASON_NONE || d->msg[0])
		return r;
	if (!guard_take_rate_token(e->state, c, d->et->id, e->now, d->msg,
	    sizeof d->msg)) {
		/* no action: its fleet slot goes back to the others */
		if (d->fleet_slot && e->opts.fleet)
			e->opts.fleet->release(e->opts.fleet->ctx,
			    d->fleet_slot);
		return REASON_RATE_LIMITED;
	}
	return REASON_NONE;
}

static void
decide_mode(struct decision *d)
{
	static const enum rec_decision by_mode[] = {
		[MODE_OFF] = REC_SUPPRESSED,
		[MODE_NOTIFY] = REC_NOTIFIED,
		[MODE_DRY_RUN] = REC_DRY_RUN,
		[MODE_CONFIRM] = REC_PENDING_APPROVAL,
		[MODE_AUTO] = REC_ACTED,
	};

	enum rec_decision dec = by_mode[d->mode];
	struct engine *e = d->e;

	guard_record_action(e->state, d->et->id, d->target_key, e->now);
	d->msg[0] = '\0';
	if (d->by_pr || (dec == REC_PENDING_APPROVAL &&
	    d->cfg->pull_request)) {
		decide_propose(d);
		return;
	}
	if (dec == REC_PENDING_APPROVAL && e->opts.pend &&
	    approval_pend(d) == -1)
		dec = REC_FAILED;
	decide_act(d, dec, 0);
}

json_t *
decide_act(struct decision *d, enum rec_decision dec, int want)
{
	struct engine *e = d->e;
	json_t *out;

	if ((e->opts.execute || e->opts.submit) && d->plan.plan &&
	    (dec == REC_ACTED || (dec == REC_DRY_RUN &&
	    d->cfg->server_dry_run))) {
		out = decide_run_action(d, dec);	/* outcome.c */
		if (!want) {
			json_decref(out);
			out = NULL;
		}
		return out;
	}
	if (dec == REC_ACTED)	/* replay: what would have been done */
		guard_record_remediation(e->state, d->cfg, d->et->id,
		    d->target_key, e->now);
	decide_finish(d, dec, REASON_NONE);
	return want ? rec_to_json(&d->rec) : NULL;
}

struct guard_state *
engine_guard_state(struct engine *e)
{
	return e->state;
}

void
engine_reset_guard_state(struct engine *e)
{
	guard_state_free(e->state);
	e->state = guard_state_new();
}

void
engine_adopt_guard_state(struct engine *to, struct engine *from)
{
	struct guard_state *g = to->state;

	to->state = from->state;
	from->state = g;
}

void
engine_decide(struct engine *e, struct engine_sensor *es,
    struct engine_trigger *et, const struct sensor_fire *f)
{
	struct decision d;
	enum rec_reason r;

	decide_init(&d, e, es, et, f);
	if (f->error) {
		snprintf(d.msg, sizeof d.msg, "%s", f->error);
		decide_finish(&d, REC_FAILED, REASON_NONE);
	} else if (resolve_target(&d) == -1) {
		decide_finish(&d, REC_FAILED, REASON_NONE);
	} else if ((r = run_checks(&d)) != REASON_NONE) {
		suppress(&d, r);
	} else if (d.msg[0]) {
		/* a check could not be evaluated (a template failed) */
		decide_finish(&d, REC_FAILED, REASON_NONE);
	} else
		decide_mode(&d);
	decide_clear(&d);
}

void
decide_init(struct decision *d, struct engine *e, struct engine_sensor *es,
    struct engine_trigger *et, const struct sensor_fire *f)
{
	memset(d, 0, sizeof *d);
	d->e = e;
	d->es = es;
	d->et = et;
	d->fire = f;
	d->cfg = &et->cfg;
	d->rec.time = e->now;
	d->rec.cluster = e->opts.cluster_name;
	d->rec.sensor = es->ident;
	d->rec.trigger = f->trigger->name;
	d->rec.event_source = f->event->source;
	d->rec.event_name = f->event->name;
	d->rec.event_id = f->event->id;
	d->rec.inputs = json_incref(e->inputs);
}

void
decide_clear(struct decision *d)
{
	rec_clear(&d->rec);
	act_plan_clear(&d->plan);
	json_decref(d->subject_meta);
	free(d->target_key);
}
