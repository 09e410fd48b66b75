/*
 * The engine's confirm mode end to end in-process: a pending-approval
 * decision hands its input to the pend hook, and engine_approve decides
 * again later against the cluster and guard state as they are then.
 *
 * The configuration is real manifests written to a temporary directory
 * and loaded by conf_load: a webhook EventSource, and a Sensor whose
 * trigger restarts the signal's pod (a native action, planned from the
 * cluster view) in confirm mode, 1 action per minute, circuit of 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "guard/guard.h"
#include "harness.h"

#define T0	1773481200000LL		/* 2026-03-14T09:40:00Z */
#define MIN	60000LL

static char dir[64];

static const char eventsource[] =
    "apiVersion: argoproj.io/v1alpha1\n"
    "kind: EventSource\n"
    "metadata: {name: hooks, namespace: argo-events}\n"
    "spec:\n"
    "  webhook:\n"
    "    stuck: {endpoint: /stuck, method: POST, port: \"12000\"}\n";

/*
 * The guardrails: rate per minute, mode, cooldown (so a test can change
 * the manifest), circuit, then any further lines.
 */
static const char sensor_fmt[] =
    "apiVersion: argoproj.io/v1alpha1\n"
    "kind: Sensor\n"
    "metadata: {name: stuck, namespace: argo-events}\n"
    "spec:\n"
    "  dependencies:\n"
    "    - {name: s, eventSourceName: hooks, eventName: stuck}\n"
    "  triggers:\n"
    "    - template:\n"
    "        name: restart\n"
    "        remediate: {restartPod: {}}\n"
    "      rateLimit: {unit: Minute, requestsPerUnit: %d}\n"
    "      guardrails:\n"
    "        mode: %s\n"
    "        cooldown: %s\n"
    "        maxSignalAge: 1h\n"
    "        optIn: {label: remediation.platform/optin=true}\n"
    "        maxClusterImpact: 100%%\n"
    "        circuit: {maxActions: %d, within: 1h}\n%s";

/* What the hooks saw. */
struct seen {
	json_t		*records;	/* array of emitted records */
	json_t		*input;		/* the last pend input */
	int		 executed;
	int		 pend_fails;
	int		 approvals;
	/* the submit hook (async worlds): actions handed over, in order */
	struct engine_action *actions[8];
	int		 nactions;
	int		 intents;
	json_t		*inputs;	/* the last record's inputs */
};

static int
on_submit(void *ctx, struct engine_action *a)
{
	struct seen *s = ctx;

	if (s->nactions == 8)
		return -1;
	s->actions[s->nactions++] = a;
	return 0;
}

/* Never called when a submit hook takes proposals. */
static int
on_propose(void *ctx, const json_t *record, const json_t *cfg, json_t **pr,
    char **err)
{
	(void)ctx;
	(void)record;
	(void)cfg;
	(void)pr;
	*err = xstrdup("proposed on the engine thread");
	CHECK(0);
	return -1;
}

static int
on_intend(void *ctx, const struct rec_decision_record *r)
{
	struct seen *s = ctx;

	CHECK(r->decision == REC_ACTED);
	s->intents++;
	return 0;
}

static void
on_emit(void *ctx, const struct rec_decision_record *r)
{
	struct seen *s = ctx;

	json_array_append_new(s->records, rec_to_json(r));
	json_decref(s->inputs);
	s->inputs = json_incref(r->inputs);
}

static int
on_pend(void *ctx, const struct rec_decision_record *r, const json_t *in,
    json_t **approval, char **err)
{
	struct seen *s = ctx;

	CHECK(r->decision == REC_PENDING_APPROVAL);
	if (s->pend_fails) {
		*err = xstrdup("state file is read-only");
		return -1;
	}
	json_decref(s->input);
	s->input = json_deep_copy(in);
	*approval = json_pack("{s:s}", "id", "a1");
	s->approvals++;
	return 0;
}

static int
on_execute(void *ctx, const json_t *plan, int dry_run, json_t **result,
    char **err)
{
	struct seen *s = ctx;

	(void)plan;
	(void)err;
	CHECK(!dry_run);
	s->executed++;
	*result = NULL;
	return 0;
}

struct world {
	struct diags	 dg;
	struct conf	*conf;
	struct cluster	*cluster;
	struct clock	 clock;
	struct engine	*e;
	struct engine_opts opts;
	struct seen	 seen;
};

static void
write_file(const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");

	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	free(p);
}

static json_t *
pod(int ready, int optin)
{
	return json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:{s:s, s:s?}, "
	    "s:[{s:s, s:s, s:s, s:b}]}, s:{s:[{s:s, s:b}]}}",
	    "apiVersion", "v1", "kind", "Pod", "metadata", "name", "cart-0",
	    "namespace", "shop", "uid", "u-pod", "labels", "app", "cart",
	    "remediation.platform/optin", optin ? "true" : NULL,
	    "ownerReferences", "apiVersion", "apps/v1", "kind", "ReplicaSet",
	    "name", "cart-rs", "controller", 1, "status", "containerStatuses",
	    "name", "app", "ready", ready);
}

/* Stores obj in the view, which takes its own reference. */
static void
put(struct cluster *cl, json_t *obj)
{
	cluster_put(cl, obj, NULL);
	json_decref(obj);
}

/* What the next world's engine is opened with (the daemon's run). */
static const struct guard_fleet *next_fleet;
static const char *next_cluster;
static const int *next_view_listed;
static int (*next_budget)(void *, const char *, int64_t, double *,
    int64_t *);
static int64_t next_reuse_ms;
static int (*next_fetch)(void *, const char *, const char *, const char *,
    const char *, json_t **, char **);

/* async: actions go to the submit hook, as the live daemon's do */
static void
world_open_sensor(struct world *w, const char *sensor, int async)
{
	const char *paths[1] = { dir };
	struct engine_opts o;

	memset(w, 0, sizeof *w);
	write_file("eventsource.yaml", eventsource);
	write_file("sensor.yaml", sensor);
	diag_init(&w->dg);
	w->conf = conf_load(paths, 1, &w->dg);
	w->cluster = cluster_new();
	clock_fixed(&w->clock, T0);
	w->seen.records = json_array();
	put(w->cluster, json_pack("{s:s, s:s, s:{s:s, s:s, s:s, "
	    "s:{s:s}}, s:{s:i}}", "apiVersion", "apps/v1", "kind",
	    "Deployment", "metadata", "name", "cart", "namespace", "shop", "uid",
	    "u-d", "labels", "remediation.platform/optin", "true", "spec",
	    "replicas", 2));
	put(w->cluster, json_pack("{s:s, s:s, s:{s:s, s:s, s:s, "
	    "s:[{s:s, s:s, s:s, s:b}]}}", "apiVersion", "apps/v1", "kind",
	    "ReplicaSet", "metadata", "name", "cart-rs", "namespace", "shop",
	    "uid", "u-rs", "ownerReferences", "apiVersion", "apps/v1", "kind",
	    "Deployment", "name", "cart", "controller", 1));
	put(w->cluster, pod(0, 1));
	memset(&o, 0, sizeof o);
	o.clock = &w->clock;
	o.cluster = w->cluster;
	o.emit = on_emit;
	o.emit_ctx = &w->seen;
	o.pend = on_pend;
	o.pend_ctx = &w->seen;
	o.execute = on_execute;
	o.execute_ctx = &w->seen;
	o.intend = on_intend;
	o.intend_ctx = &w->seen;
	o.propose = on_propose;
	o.fleet = next_fleet;
	o.cluster_name = next_cluster;
	o.view_listed = next_view_listed;
	o.budget = next_budget;
	o.reuse_ms = next_reuse_ms;
	o.fetch = next_fetch;
	if (async) {
		o.submit = on_submit;
		o.submit_ctx = &w->seen;
	}
	w->opts = o;
	w->e = w->dg.errors ? NULL : engine_new(w->conf, &o, &w->dg);
	if (w->dg.errors)
		diag_print(&w->dg, stderr);
	CHECK(w->e != NULL);
}

static void
world_open_mode(struct world *w, const char *mode, const char *cooldown,
    int circuit, int async)
{
	char *s = xasprintf(sensor_fmt, 1, mode, cooldown, circuit, "");

	world_open_sensor(w, s, async);
	free(s);
}

static void
world_open(struct world *w, const char *cooldown)
{
	world_open_mode(w, "confirm", cooldown, 1, 0);
}

/*
 * What the daemon's reload does with the engine: the manifests loaded
 * again, a new engine, the guard state moved over.
 */
static void
world_reload(struct world *w, const char *sensor)
{
	const char *paths[1] = { dir };
	struct conf *c;
	struct engine *e;

	write_file("sensor.yaml", sensor);
	c = conf_load(paths, 1, &w->dg);
	e = engine_new(c, &w->opts, &w->dg);
	CHECK(e != NULL);
	if (e == NULL) {
		conf_free(c);
		return;
	}
	engine_adopt_guard_state(e, w->e);
	engine_free(w->e);
	conf_free(w->conf);
	w->e = e;
	w->conf = c;
}

static void
world_close(struct world *w)
{
	engine_free(w->e);
	conf_free(w->conf);
	cluster_free(w->cluster);
	diag_free(&w->dg);
	json_decref(w->seen.records);
	json_decref(w->seen.input);
	json_decref(w->seen.inputs);
}

/* One signal about shop/cart-0 at the clock's now. */
static void
signal_stuck(struct world *w, const char *id)
{
	struct event ev;

	memset(&ev, 0, sizeof ev);
	ev.source = "hooks";
	ev.name = "stuck";
	ev.type = "webhook";
	ev.id = xstrdup(id);
	ev.time = clock_now(&w->clock);
	ev.data = json_pack("{s:{s:s}}", "body", "pod", "cart-0");
	ev.subject.kind = xstrdup("Pod");
	ev.subject.namespace = xstrdup("shop");
	ev.subject.name = xstrdup("cart-0");
	engine_signal(w->e, &ev);
	event_clear(&ev);
}

static json_t *
last(struct world *w)
{
	size_t n = json_array_size(w->seen.records);

	return n ? json_array_get(w->seen.records, n - 1) : NULL;
}

static const char *
field(json_t *r, const char *k)
{
	return json_string_value(json_object_get(r, k));
}

TEST(pending_then_approved_acts_once)
{
	struct world w;
	json_t *out, *r;

	world_open(&w, "30m");
	if (w.e == NULL)
		return;
	signal_stuck(&w, "e1");
	r = last(&w);
	CHECK_STR(field(r, "decision"), "pending-approval");
	CHECK_STR(json_string_value(json_object_get(json_object_get(r,
	    "approval"), "id")), "a1");
	CHECK_INT(w.seen.executed, 0);
	CHECK(w.seen.input != NULL);
	CHECK_STR(field(w.seen.input, "trigger"), "restart");
	/*
	 * Two minutes later: the rate token (spent at the decision) is not
	 * asked for again, and the circuit of 1 does not count the
	 * decision's own mark.
	 */
	clock_fixed(&w.clock, T0 + 2 * MIN);
	out = engine_approve(w.e, w.seen.input, "a1");
	CHECK_STR(field(out, "decision"), "acted");
	CHECK_INT(w.seen.executed, 1);
	CHECK(json_equal(out, last(&w)));
	CHECK_STR(json_string_value(json_object_get(json_object_get(out,
	    "approval"), "decided")), "2026-03-14T09:40:00Z");
	CHECK_STR(field(json_object_get(out, "plan"), "action"),
	    "restartPod");
	json_decref(out);
	/*
	 * The same input again (the store makes links single use; the
	 * engine must not rely on it): acted on since the decision.
	 */
	clock_fixed(&w.clock, T0 + 3 * MIN);
	out = engine_approve(w.e, w.seen.input, "a1");
	CHECK_STR(field(out, "decision"), "suppressed");
	CHECK_STR(field(out, "reason"), "cooldown");
	CHECK(strstr(field(out, "message"), "after this decision") != NULL);
	CHECK_INT(w.seen.executed, 1);
	json_decref(out);
	world_close(&w);
}

TEST(guardrails_are_asked_again_at_approval)
{
	struct world w;
	json_t *out, *in;

	world_open(&w, "30m");
	if (w.e == NULL)
		return;
	signal_stuck(&w, "e1");
	in = json_incref(w.seen.input);
	/* the opt-in label went from the Deployment and the pod */
	put(w.cluster, json_pack("{s:s, s:s, s:{s:s, s:s, s:s}}",
	    "apiVersion", "apps/v1", "kind", "Deployment", "metadata", "name",
	    "cart", "namespace", "shop", "uid", "u-d"));
	put(w.cluster, pod(0, 0));
	clock_fixed(&w.clock, T0 + MIN);
	out = engine_approve(w.e, in, "a1");
	CHECK_STR(field(out, "reason"), "opt-out");
	json_decref(out);
	/* the workload was deleted meanwhile: failed, and named */
	json_decref(cluster_remove(w.cluster, "Deployment", "shop", "cart"));
	out = engine_approve(w.e, in, "a1");
	CHECK_STR(field(out, "decision"), "failed");
	CHECK(strstr(field(out, "message"), "no longer exists") != NULL);
	json_decref(out);
	CHECK_INT(w.seen.executed, 0);
	json_decref(in);
	world_close(&w);
}

TEST(changed_trigger_voids_the_approval)
{
	struct world w;
	json_t *in, *out;

	world_open(&w, "30m");
	if (w.e == NULL)
		return;
	signal_stuck(&w, "e1");
	in = json_incref(w.seen.input);
	world_close(&w);
	/* the same trigger with another cooldown: a new manifest */
	world_open(&w, "45m");
	if (w.e == NULL) {
		json_decref(in);
		return;
	}
	out = engine_approve(w.e, in, "a1");
	CHECK_STR(field(out, "decision"), "expired");
	CHECK(strstr(field(out, "message"), "no longer applies") != NULL);
	CHECK_INT(w.seen.executed, 0);
	json_decref(out);
	/* a trigger that is gone */
	json_object_set_new(in, "trigger", json_string("gone"));
	out = engine_approve(w.e, in, "a1");
	CHECK_STR(field(out, "decision"), "expired");
	CHECK(strstr(field(out, "message"), "no longer configured") != NULL);
	json_decref(out);
	/* not an input this version wrote: still a whole record */
	out = engine_approve(w.e, NULL, "a1");
	CHECK_STR(field(out, "decision"), "failed");
	CHECK_STR(field(out, "sensor"), "(unknown)");
	CHECK_STR(field(out, "trigger"), "(unknown)");
	json_decref(out);
	out = engine_expire(w.e, NULL, NULL, "a2", T0);
	CHECK_STR(field(out, "decision"), "expired");
	CHECK_STR(field(out, "sensor"), "(unknown)");
	json_decref(out);
	CHECK_INT(w.seen.executed, 0);
	json_decref(in);
	world_close(&w);
}

TEST(no_approval_is_a_failed_decision_and_expiry_is_recorded)
{
	struct world w;
	json_t *r, *out;

	world_open(&w, "30m");
	if (w.e == NULL)
		return;
	w.seen.pend_fails = 1;
	signal_stuck(&w, "e1");
	r = last(&w);
	CHECK_STR(field(r, "decision"), "failed");
	CHECK(strstr(field(r, "message"), "read-only") != NULL);
	CHECK_INT(w.seen.executed, 0);
	/* an expiry: the pending record's target and plan, and why */
	out = engine_expire(w.e, NULL, r, "a9", T0 + 60 * MIN);
	CHECK_STR(field(out, "decision"), "expired");
	CHECK_STR(field(json_object_get(out, "target"), "name"), "cart");
	CHECK(json_equal(json_object_get(out, "plan"), json_object_get(r,
	    "plan")));
	CHECK(strstr(field(out, "message"), "2026-03-14T10:40:00Z") != NULL);
	CHECK(json_equal(out, last(&w)));
	CHECK_INT(engine_stats(w.e)->by_decision[REC_EXPIRED], 1);
	json_decref(out);
	world_close(&w);
}

/* Auto mode, demoted at the first recurrence. */
#define AUTO_RECURRENCE \
    "        recurrence: {within: 1h, demoteAbove: 50%, minActions: 1}\n"

/*
 * A reload keeps the guard state by trigger identity: a cooldown still
 * holds, a demotion stays while the trigger's manifest is the same and is
 * lifted when it changed.
 */
TEST(reload_keeps_guard_state_and_lifts_demotion_on_change)
{
	struct world w;
	char *same = xasprintf(sensor_fmt, 10, "auto", "30s", 10,
	    AUTO_RECURRENCE);
	char *changed = xasprintf(sensor_fmt, 10, "auto", "45s", 10,
	    AUTO_RECURRENCE);
	json_t *r;

	world_open_sensor(&w, same, 0);
	if (w.e == NULL)
		goto out;
	signal_stuck(&w, "e1");
	CHECK_STR(field(last(&w), "decision"), "acted");
	CHECK_INT(w.seen.executed, 1);
	/* a cooldown set before the reload holds after it */
	world_reload(&w, same);
	clock_fixed(&w.clock, T0 + 10000);
	signal_stuck(&w, "e2");
	CHECK_STR(field(last(&w), "reason"), "cooldown");
	/* the signal came back: recurred, so the trigger is demoted */
	clock_fixed(&w.clock, T0 + 2 * MIN);
	signal_stuck(&w, "e3");
	r = last(&w);
	CHECK(json_object_get(r, "demoted") != NULL);
	CHECK_INT(w.seen.executed, 1);
	/* an unchanged manifest reloaded: still demoted */
	world_reload(&w, same);
	clock_fixed(&w.clock, T0 + 4 * MIN);
	signal_stuck(&w, "e4");
	r = last(&w);
	CHECK(json_object_get(r, "demoted") != NULL);
	CHECK(strcmp(field(r, "decision"), "acted") != 0);
	CHECK_INT(w.seen.executed, 1);
	/* its manifest changed: the demotion is lifted, it acts again */
	world_reload(&w, changed);
	clock_fixed(&w.clock, T0 + 6 * MIN);
	signal_stuck(&w, "e5");
	r = last(&w);
	CHECK(json_object_get(r, "demoted") == NULL);
	CHECK_STR(field(r, "decision"), "acted");
	CHECK_INT(w.seen.executed, 2);
out:
	world_close(&w);
	free(same);
	free(changed);
}

/* %s: the rule's context and its deny block. */
static const char policy_fmt[] =
    "apiVersion: kyverno.io/v1\n"
    "kind: ClusterPolicy\n"
    "metadata: {name: no-restarts}\n"
    "spec:\n"
    "  validationFailureAction: Enforce\n"
    "  rules:\n"
    "    - name: frozen\n"
    "      match: {any: [{resources: {kinds: [Pod], operations: [DELETE]}}]}\n"
    "%s"
    "      validate:\n"
    "        message: \"%s {{ request.oldObject.metadata.name }} END\"\n"
    "        deny: {}\n";

/*
 * Writes the policy (context lines, message), signals once, checks the
 * action was stopped by the policy; returns a copy of the record (owned)
 * or NULL when the engine did not build.
 */
static json_t *
denied_by(const char *context, const char *message)
{
	struct world w;
	json_t *r = NULL;
	char *text = xasprintf(policy_fmt, context, message);

	write_file("policy.yaml", text);
	free(text);
	world_open(&w, "30m");
	if (w.e != NULL) {
		signal_stuck(&w, "e1");
		r = json_deep_copy(last(&w));
		CHECK_STR(field(r, "reason"), "policy");
		CHECK_INT(w.seen.approvals, 0);
		world_close(&w);
	}
	text = xasprintf("%s/policy.yaml", dir);
	unlink(text);
	free(text);
	return r;
}

/*
 * A policy stops the action: the record keeps the rule's message whole
 * (longer than the guardrails' message buffer) and says whether the rule
 * denied or could not be evaluated.
 */
TEST(policy_denial_is_recorded_whole_and_errors_apart)
{
	json_t *r, *pd;
	char filler[401];

	memset(filler, 'x', sizeof filler - 1);
	filler[sizeof filler - 1] = '\0';
	if ((r = denied_by("", filler)) != NULL) {
		CHECK(strlen(field(r, "message")) > 400);
		CHECK(strstr(field(r, "message"), "cart-0 END") != NULL);
		pd = json_object_get(r, "policyDenial");
		CHECK_STR(field(pd, "result"), "fail");
		CHECK_STR(field(pd, "rule"), "frozen");
		json_decref(r);
	}
	/* a context entry that cannot be read: an error, still stopping */
	if ((r = denied_by("      context: [{name: cm, configMap: {name: "
	    "absent, namespace: shop}}]\n", "short")) != NULL) {
		pd = json_object_get(r, "policyDenial");
		CHECK_STR(field(pd, "result"), "error");
		CHECK(strstr(field(pd, "message"), "ConfigMap shop/absent not "
		    "found") != NULL);
		json_decref(r);
	}
}

/*
 * A confirm world, and the pending-approval record (owned) of a restart
 * of shop/cart by pull request; NULL when the world did not open.
 */
static json_t *
pr_world_open(struct world *w)
{
	world_open(w, "1m");
	if (w->e == NULL)
		return NULL;
	return json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s}}",
	    "time", "2026-03-14T09:40:00Z", "sensor", "argo-events/stuck",
	    "trigger", "restart", "target", "kind", "Deployment", "namespace",
	    "shop", "name", "cart", "plan", "action", "restartPod");
}

/*
 * Confirm by pull request: a request closed unmerged is a remediation
 * that did not hold.  Four declines (recurrence's minActions) at a ratio
 * above demoteAbove demote the trigger, as recurrences would; a merged
 * one is acted.
 */
TEST(declined_pull_requests_demote_like_recurrences)
{
	struct world w;
	json_t *rec, *pr, *out;
	int i;

	if ((rec = pr_world_open(&w)) == NULL)
		return;
	pr = json_pack("{s:i, s:s}", "number", 7, "branch",
	    "remediate/restart/shop-cart");
	for (i = 0; i < 4; i++) {
		clock_fixed(&w.clock, T0 + i * MIN);
		out = engine_pr_outcome(w.e, rec, pr, 0);
		CHECK_STR(field(out, "decision"), "declined");
		CHECK_STR(field(out, "message"),
		    "pull request #7 closed unmerged: declined");
		json_decref(out);
		CHECK_STR(field(last(&w), "decision"), i < 3 ? "declined" :
		    "demoted");
	}
	CHECK_INT((int)json_array_size(w.seen.records), 5);
	/* demoted: the next signal is only notified */
	clock_fixed(&w.clock, T0 + 10 * MIN);
	signal_stuck(&w, "after");
	CHECK_STR(field(last(&w), "decision"), "notified");
	json_object_set_new(pr, "mergeCommit", json_string("abc123"));
	out = engine_pr_outcome(w.e, rec, pr, 1);
	CHECK_STR(field(out, "decision"), "acted");
	CHECK_STR(field(out, "message"), "pull request #7 merged (abc123): "
	    "the change is in Git");
	CHECK_INT(w.seen.executed, 0);	/* Git did it, not us */
	json_decref(out);
	json_decref(pr);
	json_decref(rec);
	world_close(&w);
}

/*
 * A merged request never synced by its deadline is `expired`, with the
 * merge and why in the message and the request in the record; it is no
 * decline (the change is in Git): however many, the trigger is not
 * demoted, and the next signal is decided as before.
 */
TEST(expired_pull_requests_say_why_and_never_demote)
{
	struct world w;
	json_t *rec, *pr, *out;
	int i;

	if ((rec = pr_world_open(&w)) == NULL)
		return;
	pr = json_pack("{s:i, s:s, s:s, s:s}", "number", 7, "branch",
	    "remediate/restart/shop-cart", "state", "merged", "mergeCommit",
	    "abc123");
	for (i = 0; i < 5; i++) {
		clock_fixed(&w.clock, T0 + i * MIN);
		out = engine_pr_expired(w.e, rec, pr, "1h (syncTimeout) after "
		    "the merge, Application argocd/cart was not found "
		    "(deleted?)");
		CHECK_STR(field(out, "decision"), "expired");
		CHECK_STR(field(out, "message"), "pull request #7 merged "
		    "(abc123), not synced: 1h (syncTimeout) after the merge, "
		    "Application argocd/cart was not found (deleted?); no "
		    "longer followed");
		CHECK_STR(field(json_object_get(out, "pullRequest"), "branch"),
		    "remediate/restart/shop-cart");
		CHECK_STR(field(out, "decided"), "2026-03-14T09:40:00Z");
		CHECK_STR(field(json_object_get(out, "target"), "name"),
		    "cart");
		json_decref(out);
		CHECK_STR(field(last(&w), "decision"), "expired");
	}
	CHECK_INT((int)json_array_size(w.seen.records), 5);
	clock_fixed(&w.clock, T0 + 10 * MIN);
	signal_stuck(&w, "after");
	CHECK_STR(field(last(&w), "decision"), "pending-approval");
	json_decref(pr);
	json_decref(rec);
	world_close(&w);
}

static const char *
last_decision(struct world *w)
{
	return field(last(w), "decision");
}

/*
 * Actions off the engine thread: the decision hands the action over and
 * emits nothing; the engine goes on deciding (the cooldown the action
 * took already holds); the outcome comes back and is recorded once.  A
 * failed action holds a short retry backoff, not the cooldown; a
 * successful one the whole cooldown, as before.
 */
TEST(async_outcome_failure_backs_off_success_cools_down)
{
	struct world w;
	json_t *out;

	world_open_mode(&w, "auto", "30m", 10, 1);
	if (w.e == NULL)
		return;
	signal_stuck(&w, "e1");
	CHECK_INT(w.seen.nactions, 1);
	CHECK_INT(w.seen.intents, 1);
	CHECK_INT(json_array_size(w.seen.records), 0);	/* still running */
	CHECK_STR(engine_action_key(w.seen.actions[0]),
	    "Deployment/shop/cart");
	CHECK(!engine_action_dry_run(w.seen.actions[0]));
	CHECK_STR(json_string_value(json_object_get(engine_action_plan(
	    w.seen.actions[0]), "type")), "remediate");
	/* another signal meanwhile: decided at once, inside the cooldown */
	clock_fixed(&w.clock, T0 + 1000);
	signal_stuck(&w, "e2");
	CHECK_INT(json_array_size(w.seen.records), 1);
	CHECK_STR(field(last(&w), "reason"), "cooldown");
	/* the outcome: the API failed */
	clock_fixed(&w.clock, T0 + 2000);
	out = engine_outcome(w.e, w.seen.actions[0], -1, NULL,
	    xstrdup("500 InternalError: etcd is sad"), 1500);
	CHECK_STR(field(out, "decision"), "failed");
	CHECK_STR(field(out, "message"), "500 InternalError: etcd is sad");
	CHECK_STR(field(out, "time"), "2026-03-14T09:40:00Z");
	CHECK(json_equal(out, last(&w)));
	json_decref(out);
	CHECK_INT(json_array_size(w.seen.records), 2);
	/* inside the backoff: held, and the record says why */
	clock_fixed(&w.clock, T0 + 30000);
	signal_stuck(&w, "e3");
	CHECK_STR(field(last(&w), "reason"), "cooldown");
	CHECK(strstr(field(last(&w), "message"), "failed, retry allowed "
	    "in 32s") != NULL);
	CHECK_INT(w.seen.nactions, 1);
	/* after it, long before the 30m cooldown: acts again */
	clock_fixed(&w.clock, T0 + 2000 + MIN);
	signal_stuck(&w, "e4");
	CHECK_INT(w.seen.nactions, 2);
	out = engine_outcome(w.e, w.seen.actions[1], 0, json_pack("{s:s}",
	    "deleted", "cart-0"), NULL, 20);
	CHECK_STR(field(out, "decision"), "acted");
	CHECK_STR(last_decision(&w), "acted");
	json_decref(out);
	/* a success: the whole cooldown holds */
	clock_fixed(&w.clock, T0 + 20 * MIN);
	signal_stuck(&w, "e5");
	CHECK_STR(field(last(&w), "reason"), "cooldown");
	CHECK_INT(w.seen.nactions, 2);
	clock_fixed(&w.clock, T0 + 2000 + 31 * MIN);
	signal_stuck(&w, "e6");
	CHECK_INT(w.seen.nactions, 3);
	/* refused by a full executor: failed, nothing sent, backoff */
	w.seen.nactions = 8;
	json_decref(engine_outcome(w.e, w.seen.actions[2], 0, NULL, NULL,
	    5));
	clock_fixed(&w.clock, T0 + 2000 + 62 * MIN);
	signal_stuck(&w, "e7");
	CHECK_STR(last_decision(&w), "failed");
	CHECK(strstr(field(last(&w), "message"), "too many actions") !=
	    NULL);
	CHECK_INT(w.seen.executed, 0);
	world_close(&w);
}

/*
 * Confirm by pull request off the engine thread: the decision hands a
 * proposal (the pending record and confirm.pullRequest) to the submit
 * hook and emits nothing; a signal meanwhile meets the cooldown; the
 * outcome is the pending-approval record with its pullRequest, and the
 * cooldown counts from when the request opened.  A forge failure is
 * failed with the reason and holds the retry backoff.
 */
TEST(proposals_go_to_the_submit_hook_cooldown_from_the_opening)
{
	struct world w;
	const json_t *cfg = NULL, *prec;
	json_t *out;

	world_open_mode(&w, "confirm\n        confirm: {pullRequest: {forge: "
	    "github, api: \"http://127.0.0.1:9\"}}", "30m", 10, 1);
	if (w.e == NULL)
		return;
	signal_stuck(&w, "e1");
	CHECK_INT(w.seen.nactions, 1);
	CHECK_INT(w.seen.intents, 0);		/* nothing live to intend */
	CHECK_INT(w.seen.approvals, 0);		/* no approval link */
	CHECK_INT(json_array_size(w.seen.records), 0);
	prec = engine_action_proposal(w.seen.actions[0], &cfg);
	CHECK(prec != NULL);
	CHECK_STR(json_string_value(json_object_get(prec, "decision")),
	    "pending-approval");
	CHECK_STR(json_string_value(json_object_get(json_object_get(prec,
	    "plan"), "action")), "restartPod");
	CHECK_STR(json_string_value(json_object_get(cfg, "forge")),
	    "github");
	/* the forge is slow: another signal is decided at once */
	clock_fixed(&w.clock, T0 + 1000);
	signal_stuck(&w, "e2");
	CHECK_STR(field(last(&w), "reason"), "cooldown");
	/* the request opened 5 minutes after the decision */
	clock_fixed(&w.clock, T0 + 5 * MIN);
	out = engine_outcome(w.e, w.seen.actions[0], 0, json_pack("{s:i}",
	    "number", 3), NULL, 300000);
	CHECK_STR(field(out, "decision"), "pending-approval");
	CHECK_INT((int)json_integer_value(json_object_get(json_object_get(out,
	    "pullRequest"), "number")), 3);
	CHECK(json_equal(out, last(&w)));
	json_decref(out);
	/* 30m after the decision, not after the opening: still cooling */
	clock_fixed(&w.clock, T0 + 31 * MIN);
	signal_stuck(&w, "e3");
	CHECK_STR(field(last(&w), "reason"), "cooldown");
	clock_fixed(&w.clock, T0 + 36 * MIN);
	signal_stuck(&w, "e4");
	CHECK_INT(w.seen.nactions, 2);
	/* the forge fails: failed with the reason, a short backoff */
	out = engine_outcome(w.e, w.seen.actions[1], -1, NULL,
	    xstrdup("POST /pulls: HTTP 401: Bad credentials"), 10);
	CHECK_STR(field(out, "decision"), "failed");
	CHECK_STR(field(out, "message"), "pull request: POST /pulls: HTTP "
	    "401: Bad credentials");
	json_decref(out);
	clock_fixed(&w.clock, T0 + 38 * MIN);
	signal_stuck(&w, "e5");
	CHECK_INT(w.seen.nactions, 3);		/* after 1m, not 30m */
	engine_action_free(w.seen.actions[2]);
	CHECK_INT(w.seen.executed, 0);
	world_close(&w);
}

/*
 * Every record carries what its decision read (for `remediate diff`):
 * the signal's event, the subject and its owner chain, the pod count; an
 * action's outcome, recorded after later signals, still carries its own
 * signal's.  The note is not part of the record's JSON.
 */
TEST(records_carry_the_inputs_of_their_signal)
{
	struct world w;
	json_t *in, *objs, *out;

	world_open_mode(&w, "auto", "30m", 10, 1);
	if (w.e == NULL)
		return;
	signal_stuck(&w, "e1");
	CHECK_INT(w.seen.nactions, 1);
	clock_fixed(&w.clock, T0 + 1000);
	signal_stuck(&w, "e2");
	CHECK_STR(field(last(&w), "reason"), "cooldown");
	CHECK(json_object_get(last(&w), "inputs") == NULL);
	in = json_incref(w.seen.inputs);
	REQUIRE(in != NULL);
	CHECK_STR(json_string_value(json_object_get(json_object_get(in,
	    "event"), "id")), "e2");
	objs = json_object_get(json_object_get(in, "reads"), "objects");
	CHECK(json_object_get(objs, "Pod/shop/cart-0") != NULL);
	CHECK(json_object_get(objs, "ReplicaSet/shop/cart-rs") != NULL);
	CHECK(json_object_get(objs, "Deployment/shop/cart") != NULL);
	/* counted up front, though the cooldown stopped it before blast
	   radius: another configuration may get that far */
	CHECK_INT(json_integer_value(json_object_get(json_object_get(
	    json_object_get(in, "reads"), "counts"), "Pod")), 1);
	/* the first signal's action ends now: its own note, e1 */
	out = engine_outcome(w.e, w.seen.actions[0], 0, NULL, NULL, 5);
	CHECK_STR(field(out, "decision"), "acted");
	CHECK_STR(json_string_value(json_object_get(json_object_get(
	    w.seen.inputs, "event"), "id")), "e1");
	CHECK_INT(json_integer_value(json_object_get(json_object_get(
	    json_object_get(w.seen.inputs, "reads"), "counts"), "Pod")), 1);
	CHECK(json_integer_value(json_object_get(w.seen.inputs, "signal")) <
	    json_integer_value(json_object_get(in, "signal")));
	json_decref(in);
	json_decref(out);
	world_close(&w);
}

/* The fleet ledger as the engine sees it: slots, and a switch to break. */
struct ledger {
	int	 slots, asks, released, broken;
};

static int
ledger_ask(void *ctx, const struct guard_fleet_ask *q,
    struct guard_fleet_answer *a, char *err, size_t errlen)
{
	struct ledger *l = ctx;

	l->asks++;
	if (l->broken) {
		snprintf(err, errlen, "state.db: fleet ledger: no such table");
		return -1;
	}
	memset(a, 0, sizeof *a);
	a->actions = l->slots;
	a->clusters = 1;
	if (q->reserve && guard_fleet_admits(q, a)) {
		l->slots++;
		a->slot = q->now;
	}
	return 0;
}

static void
ledger_release(void *ctx, int64_t slot)
{
	struct ledger *l = ctx;

	(void)slot;
	l->slots--;
	l->released++;
}

/*
 * The engine asks a fleet circuit's ledger last, takes a slot for the
 * action it admits, gives it back when the rate limit then stops the
 * action, stops at the fleet's limit, fails closed on a ledger error,
 * and names its cluster in every record.
 */
TEST(fleet_circuit_slots_taken_released_and_failing_closed)
{
	struct ledger l = { 0 };
	struct guard_fleet f = { ledger_ask, ledger_release, &l };
	struct world w;
	char *base = xasprintf(sensor_fmt, 1, "dry-run", "0s", 2, "");
	char *at = strstr(base, "within: 1h}"), *s;
	json_t *r;

	CHECK(at != NULL);
	if (at == NULL)
		return;
	/* the format's circuit, with scope fleet */
	*at = '\0';
	s = xasprintf("%swithin: 1h, scope: fleet}%s", base,
	    at + strlen("within: 1h}"));
	free(base);
	next_fleet = &f;
	next_cluster = "prod-eu";
	world_open_sensor(&w, s, 0);
	next_fleet = NULL;
	next_cluster = NULL;
	free(s);
	if (w.e == NULL)
		return;
	signal_stuck(&w, "s1");
	r = last(&w);
	CHECK_STR(field(r, "decision"), "dry-run");
	CHECK_STR(field(r, "cluster"), "prod-eu");
	CHECK_INT(l.slots, 1);
	/* the same minute: the rate limit stops it after the circuit */
	signal_stuck(&w, "s2");
	CHECK_STR(field(last(&w), "reason"), "rate-limited");
	CHECK_INT(l.released, 1);
	CHECK_INT(l.slots, 1);
	/* another cluster takes the second slot: the fleet is full */
	l.slots = 2;
	clock_fixed(&w.clock, T0 + 2 * MIN);
	signal_stuck(&w, "s3");
	r = last(&w);
	CHECK_STR(field(r, "reason"), "circuit-open");
	CHECK(strstr(field(r, "message"), "across the fleet") != NULL);
	CHECK_INT(l.released, 1);
	/* the ledger breaks: stopped, never let through */
	l.slots = 0;
	l.broken = 1;
	clock_fixed(&w.clock, T0 + 4 * MIN);
	signal_stuck(&w, "s4");
	r = last(&w);
	CHECK_STR(field(r, "reason"), "circuit-open");
	CHECK(strstr(field(r, "message"), "failing closed") != NULL);
	CHECK_STR(field(r, "cluster"), "prod-eu");
	world_close(&w);
}

/*
 * An event decided before the view has listed (the daemon decides the
 * events beyond --queue-size then) sees no Pods: that is not an empty
 * cluster, so blast-radius stops an action that moves pods.  Once the
 * view has listed, 1 pod of the 21 known is within 10%.
 */
TEST(blast_radius_waits_for_the_view_to_list)
{
	struct world w;
	json_t *r;
	char *s, *sensor, *at;
	int listed = 0, i;

	s = xasprintf(sensor_fmt, 5, "auto", "1m", 10, "");
	at = strstr(s, "maxClusterImpact: 100%");
	REQUIRE(at != NULL);
	*at = '\0';
	sensor = xasprintf("%smaxClusterImpact: 10%%%s", s, at + 22);
	next_view_listed = &listed;
	world_open_sensor(&w, sensor, 0);
	next_view_listed = NULL;
	for (i = 0; i < 20; i++)
		put(w.cluster, json_pack("{s:s, s:s, s:{s:s, s:s}}",
		    "apiVersion", "v1", "kind", "Pod", "metadata", "name",
		    (const char *[]){ "a", "b", "c", "d", "e", "f", "g", "h",
		    "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s",
		    "t" }[i], "namespace", "other"));
	signal_stuck(&w, "e1");
	r = last(&w);
	REQUIRE(r != NULL);
	CHECK_STR(field(r, "decision"), "suppressed");
	CHECK_STR(field(r, "reason"), "blast-radius");
	CHECK(strstr(field(r, "message"), "has not listed") != NULL);
	CHECK_INT(w.seen.executed, 0);
	listed = 1;
	clock_fixed(&w.clock, T0 + MIN);
	signal_stuck(&w, "e2");
	r = last(&w);
	CHECK_STR(field(r, "decision"), "acted");
	world_close(&w);
	free(sensor);
	free(s);
}

/*
 * dry-run keeps the guard state auto would: a server dry run the API
 * server refused is the failure auto's action would have met, so it
 * holds the short retry backoff, not the whole cooldown.
 */
TEST(failed_server_dry_run_backs_off_as_auto_would)
{
	struct world w;
	json_t *out;
	char *s;

	s = xasprintf(sensor_fmt, 1, "dry-run", "30m", 10,
	    "        dryRun: server\n");
	world_open_sensor(&w, s, 1);
	free(s);
	if (w.e == NULL)
		return;
	signal_stuck(&w, "e1");
	REQUIRE(w.seen.nactions == 1);
	CHECK(engine_action_dry_run(w.seen.actions[0]));
	clock_fixed(&w.clock, T0 + 2000);
	out = engine_outcome(w.e, w.seen.actions[0], -1, NULL,
	    xstrdup("422 Invalid: spec.replicas"), 40);
	CHECK_STR(field(out, "decision"), "failed");
	json_decref(out);
	clock_fixed(&w.clock, T0 + 30000);
	signal_stuck(&w, "e2");
	CHECK_STR(field(last(&w), "reason"), "cooldown");
	CHECK(strstr(field(last(&w), "message"), "failed, retry allowed "
	    "in 32s") != NULL);
	/* after the backoff, long before the 30m cooldown: tried again */
	clock_fixed(&w.clock, T0 + 2000 + MIN);
	signal_stuck(&w, "e3");
	CHECK_INT(w.seen.nactions, 2);
	json_decref(engine_outcome(w.e, w.seen.actions[1], 0, NULL, NULL,
	    5));
	/* the server accepted it: the failures ended, as an action that
	   worked in auto ends them, so the next failure (after the 30m
	   cooldown) backs off 1m again, not 2m */
	clock_fixed(&w.clock, T0 + 2000 + MIN + 31 * MIN);
	signal_stuck(&w, "e4");
	REQUIRE(w.seen.nactions == 3);
	json_decref(engine_outcome(w.e, w.seen.actions[2], -1, NULL,
	    xstrdup("422 Invalid: spec.replicas"), 40));
	clock_fixed(&w.clock, T0 + 2000 + 2 * MIN + 31 * MIN + 1000);
	signal_stuck(&w, "e5");
	CHECK_INT(w.seen.nactions, 4);
	if (w.seen.nactions == 4)
		json_decref(engine_outcome(w.e, w.seen.actions[3], 0, NULL,
		    NULL, 5));
	world_close(&w);
}

/* The budget hook: counts the questions, answers budget_value. */
static int budget_asked;
static double budget_value;

static int
on_budget(void *ctx, const char *query, int64_t now, double *value,
    int64_t *at)
{
	(void)ctx;
	CHECK_STR(query, "slo:budget:ratio");
	budget_asked++;
	*value = budget_value;
	*at = now;
	return 0;
}

static double
record_budget(json_t *r)
{
	return json_real_value(json_object_get(json_object_get(r, "budget"),
	    "value"));
}

TEST(a_decision_its_rate_stops_reuses_the_budget_answer)
{
	struct world w;
	json_t *changed;
	char *s;

	s = xasprintf(sensor_fmt, 1, "auto", "1s", 100,
	    "        budget: {query: \"slo:budget:ratio\", min: 0.2}\n");
	next_budget = on_budget;
	next_reuse_ms = 5000;
	budget_asked = 0;
	budget_value = 0.5;
	world_open_sensor(&w, s, 0);
	if (w.e == NULL)
		goto out;
	signal_stuck(&w, "e1");		/* a token: asks, acts */
	CHECK_STR(field(last(&w), "decision"), "acted");
	CHECK_INT(budget_asked, 1);
	/* the bucket is empty: 2 s later the answer is reused */
	budget_value = 0.9;
	clock_fixed(&w.clock, T0 + 2000);
	signal_stuck(&w, "e2");
	CHECK_STR(field(last(&w), "reason"), "rate-limited");
	CHECK_INT(budget_asked, 1);
	CHECK(record_budget(last(&w)) == 0.5);
	CHECK_INT((long long)engine_stats(w.e)->reused, 1);
	CHECK_INT((long long)engine_stats(w.e)->reuse_kept, 1);
	/* 6 s after it was given, the answer is too old to reuse */
	clock_fixed(&w.clock, T0 + 6001);
	signal_stuck(&w, "e3");
	CHECK_STR(field(last(&w), "reason"), "rate-limited");
	CHECK_INT(budget_asked, 2);
	CHECK(record_budget(last(&w)) == 0.9);
	/* a young answer, but a token is back: a decision that can act
	   always asks, and the fresh answer stops it */
	clock_fixed(&w.clock, T0 + MIN - 1000);
	signal_stuck(&w, "e4");
	CHECK_INT(budget_asked, 3);
	budget_value = 0.1;
	clock_fixed(&w.clock, T0 + MIN);
	signal_stuck(&w, "e5");
	CHECK_INT(budget_asked, 4);
	CHECK_STR(field(last(&w), "reason"), "budget");
	CHECK_INT(w.seen.executed, 1);
	/* a cluster change 6 s later drops the answer no decision may
	   reuse any more: a storm's answers do not stay in memory */
	CHECK_INT((long long)engine_stats(w.e)->reuse_kept, 1);
	clock_fixed(&w.clock, T0 + MIN + 6000);
	changed = pod(1, 1);
	engine_watch_view(w.e, SIG_UPDATE, changed);
	json_decref(changed);
	CHECK_INT((long long)engine_stats(w.e)->reuse_kept, 0);
	world_close(&w);
	/* replay, test and diff (reuse_ms 0): every decision asks */
	next_reuse_ms = 0;
	budget_asked = 0;
	budget_value = 0.5;
	world_open_sensor(&w, s, 0);
	if (w.e == NULL)
		goto out;
	signal_stuck(&w, "e1");
	clock_fixed(&w.clock, T0 + 2000);
	signal_stuck(&w, "e2");
	CHECK_STR(field(last(&w), "reason"), "rate-limited");
	CHECK_INT(budget_asked, 2);
	world_close(&w);
out:
	next_budget = NULL;
	next_reuse_ms = 0;
	free(s);
}

/*
 * A patch of the Deployment's annotation (it moves no pod), so the
 * ownership check reads the Deployment through the fetch hook.
 */
static const char patch_sensor[] =
    "apiVersion: argoproj.io/v1alpha1\n"
    "kind: Sensor\n"
    "metadata: {name: stuck, namespace: argo-events}\n"
    "spec:\n"
    "  dependencies:\n"
    "    - {name: s, eventSourceName: hooks, eventName: stuck}\n"
    "  triggers:\n"
    "    - template:\n"
    "        name: scale\n"
    "        k8s:\n"
    "          operation: patch\n"
    "          patchStrategy: application/merge-patch+json\n"
    "          source:\n"
    "            resource:\n"
    "              apiVersion: apps/v1\n"
    "              kind: Deployment\n"
    "              metadata:\n"
    "                {name: cart, namespace: shop, annotations: {tier: gold}}\n"
    "      rateLimit: {unit: Minute, requestsPerUnit: 1}\n"
    "      guardrails:\n"
    "        mode: auto\n"
    "        cooldown: 1s\n"
    "        maxSignalAge: 1h\n"
    "        optIn: {label: remediation.platform/optin=true}\n"
    "        maxClusterImpact: 100%\n"
    "        circuit: {maxActions: 100, within: 1h}\n";

/* The fetch hook: counts the reads; the annotation's manager, if any. */
static int fetch_asked;
static const char *tier_manager;

static int
on_fetch(void *ctx, const char *av, const char *kind, const char *ns,
    const char *name, json_t **out, char **err)
{
	(void)ctx;
	(void)av;
	(void)err;
	CHECK_STR(kind, "Deployment");
	fetch_asked++;
	*out = json_pack("{s:s, s:s, s:{s:s, s:s, s:[]}, s:{s:i}}",
	    "apiVersion", "apps/v1", "kind", "Deployment", "metadata", "name",
	    name, "namespace", ns, "managedFields", "spec", "replicas", 2);
	if (tier_manager)
		json_array_append_new(json_object_get(json_object_get(*out,
		    "metadata"), "managedFields"), json_pack("{s:s, s:s, s:s, "
		    "s:s, s:{s:{s:{s:{}}}}}", "manager", tier_manager,
		    "operation", "Update", "apiVersion", "apps/v1", "fieldsType",
		    "FieldsV1", "fieldsV1", "f:metadata", "f:annotations",
		    "f:tier"));
	return 0;
}

TEST(nothing_acts_on_a_reused_ownership_answer)
{
	struct world w;

	next_reuse_ms = 5000;
	next_fetch = on_fetch;		/* the live daemon's read */
	fetch_asked = 0;
	tier_manager = NULL;
	world_open_sensor(&w, patch_sensor, 0);
	if (w.e == NULL)
		goto out;
	/* two pods: the patch moves the Deployment's 2 replicas, 100% */
	put(w.cluster, json_pack("{s:s, s:s, s:{s:s, s:s, s:s}}",
	    "apiVersion", "v1", "kind", "Pod", "metadata", "name", "other-0",
	    "namespace", "shop", "uid", "u-other"));
	signal_stuck(&w, "e1");
	CHECK_STR(field(last(&w), "decision"), "acted");
	CHECK_INT(fetch_asked, 1);
	/* the rate is spent: a decision reuses a read up to 5 s old, and
	   asks again after that */
	clock_fixed(&w.clock, T0 + 2000);
	signal_stuck(&w, "e2");
	CHECK_STR(field(last(&w), "reason"), "rate-limited");
	CHECK_INT(fetch_asked, 1);
	clock_fixed(&w.clock, T0 + MIN - 1000);
	signal_stuck(&w, "e3");
	CHECK_STR(field(last(&w), "reason"), "rate-limited");
	CHECK_INT(fetch_asked, 2);
	/* another manager takes the field: a decision that cannot act
	   still reuses the read from before and only says rate-limited */
	tier_manager = "keda-operator";
	clock_fixed(&w.clock, T0 + MIN - 500);
	signal_stuck(&w, "e4");
	CHECK_STR(field(last(&w), "reason"), "rate-limited");
	CHECK_INT(fetch_asked, 2);
	/* a token again: this decision could act, so it reads fresh, young
	   as the kept read is, and the new manager stops it */
	clock_fixed(&w.clock, T0 + MIN);
	signal_stuck(&w, "e5");
	CHECK_INT(fetch_asked, 3);
	CHECK_STR(field(last(&w), "reason"), "conflict");
	CHECK_INT(w.seen.executed, 1);
	world_close(&w);
out:
	next_reuse_ms = 0;
	next_fetch = NULL;
	tier_manager = NULL;
}

int
main(void)
{
	char *d;

	snprintf(dir, sizeof dir, "/tmp/test_engine.XXXXXX");
	if ((d = mkdtemp(dir)) == NULL)
		return 1;
	RUN(pending_then_approved_acts_once);
	RUN(guardrails_are_asked_again_at_approval);
	RUN(changed_trigger_voids_the_approval);
	RUN(no_approval_is_a_failed_decision_and_expiry_is_recorded);
	RUN(reload_keeps_guard_state_and_lifts_demotion_on_change);
	RUN(policy_denial_is_recorded_whole_and_errors_apart);
	RUN(declined_pull_requests_demote_like_recurrences);
	RUN(expired_pull_requests_say_why_and_never_demote);
	RUN(async_outcome_failure_backs_off_success_cools_down);
	RUN(proposals_go_to_the_submit_hook_cooldown_from_the_opening);
	RUN(records_carry_the_inputs_of_their_signal);
	RUN(fleet_circuit_slots_taken_released_and_failing_closed);
	RUN(blast_radius_waits_for_the_view_to_list);
	RUN(failed_server_dry_run_backs_off_as_auto_would);
	RUN(a_decision_its_rate_stops_reuses_the_budget_answer);
	RUN(nothing_acts_on_a_reused_ownership_answer);
	{
		char *a = xasprintf("%s/eventsource.yaml", dir);
		char *b = xasprintf("%s/sensor.yaml", dir);

		unlink(a);
		unlink(b);
		free(a);
		free(b);
		rmdir(dir);
	}
	return harness_done();
}
