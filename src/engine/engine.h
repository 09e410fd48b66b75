/*
 * engine: the pipeline, in one place.
 *
 *   cluster change -> resource sources (+ OOM detector) -> event
 *   event -> sensors (filters, conditions) -> trigger fire
 *   fire -> guardrails and policies in DESIGN.md's order -> mode -> record
 *
 * The engine owns the compiled configuration and the guard state; nothing
 * else touches them, so the hot path takes no locks.  Time comes from the
 * clock in the options: replay sets it from each signal.  What the
 * pipeline needs from outside (the cluster view, budget answers, where
 * records go) comes in through engine_opts, so replay and the live daemon
 * run the same engine.
 */
#ifndef ENGINE_H
#define ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "cluster/cluster.h"
#include "conf/conf.h"
#include "record/record.h"
#include "signal/signal.h"

struct engine_action;

struct engine_opts {
	const struct clock	*clock;		/* borrowed */
	struct cluster		*cluster;	/* borrowed */
	/*
	 * Answers an error-budget query at now: 0 with *value and *at (ms
	 * of the sample), or -1 for no answer (counts as no budget).
	 * NULL: every query fails.
	 */
	int	(*budget)(void *ctx, const char *query, int64_t now,
		    double *value, int64_t *at);
	void	 *budget_ctx;
	/*
	 * Executes a planned action (the live daemon).  dry_run asks the
	 * server for a dry run (dryRun=All).  Returns 0 with *result (owned,
	 * may be NULL: what the server answered), or -1 with *err (owned:
	 * the server's message).  NULL: nothing is executed (replay), and
	 * "acted" means the action would have been sent.
	 */
	int	(*execute)(void *ctx, const json_t *plan, int dry_run,
		    json_t **result, char **err);
	void	 *execute_ctx;
	/*
	 * Runs actions off the engine thread (the live daemon): takes a
	 * (owned, see engine_action_*) and returns 0; the outcome then comes
	 * back, on the engine thread, through engine_outcome, which emits
	 * the record.  -1: not taken (full, stopping); a stays the engine's
	 * and the record is "failed", nothing sent.  When set, execute is
	 * not called, nor is propose on the engine thread: a pull request
	 * comes as an action too (engine_action_proposal).  NULL: execute
	 * runs actions on the engine thread.
	 */
	int	(*submit)(void *ctx, struct engine_action *a);
	void	 *submit_ctx;
	/*
	 * Called just before execute runs an action (decision acted), with
	 * the record as it stands (borrowed for the call) and the guard
	 * state's changes (cooldown mark, rate token) already made: the
	 * audit store writes both durably, so a crash during the action
	 * still holds its cooldown after a restart.  The final record then
	 * goes to emit.  Returns 0, or -1 when the intent could not be
	 * written: the action is not executed and the record is "failed".
	 * NULL: not called.
	 */
	int	(*intend)(void *ctx, const struct rec_decision_record *);
	void	 *intend_ctx;
	/*
	 * Called for a pending-approval decision (confirm mode) before it
	 * is emitted: keep input (borrowed: what engine_approve needs to
	 * decide again) with the record (borrowed), and return 0 with
	 * *approval (owned, e.g. {id, expires}: the record's "approval"),
	 * or -1 with *err (owned): the decision is then "failed", since
	 * nobody could ever approve it.  NULL: pending-approval records
	 * carry no approval (replay).
	 */
	int	(*pend)(void *ctx, const struct rec_decision_record *,
		    const json_t *input, json_t **approval, char **err);
	void	 *pend_ctx;
	/*
	 * Reads an object fresh, for the ownership check (who manages
	 * what an action would change: src/gitops): 0 with *out (owned), 1
	 * when it does not exist, -1 with *err (owned).  The live daemon
	 * reads the API server, since the cluster view need not hold
	 * managedFields and annotations.  NULL: the cluster view answers
	 * (replay, whose snapshot holds whole objects).
	 */
	int	(*fetch)(void *ctx, const char *api_version, const char *kind,
		    const char *ns, const char *name, json_t **out,
		    char **err);
	void	 *fetch_ctx;
	/*
	 * ms: a decision that cannot act (its trigger's rate bucket is
	 * empty) takes fetch's and budget's answers up to this old, given
	 * to an earlier decision, instead of asking again; a decision that
	 * can act always asks (src/engine/reuse.c).  0: every decision
	 * asks (replay, test, diff: their hooks answer from memory).
	 */
	int64_t	  reuse_ms;
	/*
	 * Confirm by pull request (src/gitops/propose.c): proposes the
	 * decision record (borrowed JSON) per the trigger's
	 * confirm.pullRequest (borrowed): 0 with *pr (owned: the record's
	 * "pullRequest"), or -1 with *err (owned): the decision is then
	 * "failed".  Thread-safe when submit is set: the submit hook's
	 * worker calls it for a proposal.  NULL: pending-approval records
	 * carry no pull request (replay).
	 */
	int	(*propose)(void *ctx, const json_t *record, const json_t *cfg,
		    json_t **pr, char **err);
	void	 *propose_ctx;
	/* Receives every decision record (borrowed for the call). */
	void	(*emit)(void *ctx, const struct rec_decision_record *);
	void	 *emit_ctx;
	/*
	 * The cluster this instance decides for (run --cluster-name),
	 * borrowed, stamped on every record as "cluster".  NULL: records
	 * carry no cluster (replay, test, diff).
	 */
	const char		*cluster_name;
	/*
	 * The fleet ledger a `scope: fleet` circuit or maxClusterImpact
	 * asks (borrowed; src/fleet/ over the shared state database).
	 * NULL: this cluster's own count decides (replay, test, diff).
	 */
	const struct guard_fleet *fleet;
	/*
	 * Borrowed: 0 while the cluster view has not listed yet (run: an
	 * event decided before then sees no Pods, and blast-radius must not
	 * read that as an empty cluster), 1 once it has.  NULL: the view is
	 * whole from the start (replay's snapshot, test, diff).
	 */
	const int	*view_listed;
	/*
	 * 1: note no inputs (src/engine/inputs.c); records carry none.  For
	 * a caller that keeps no record beyond its JSON, which holds no
	 * inputs (replay): the note is a tree per signal nobody reads.
	 */
	int	  no_inputs;
};

/* Counters for summaries and metrics. */
struct engine_stats {
	uint64_t	 signals;	/* events handed to sensors */
	uint64_t	 filtered;	/* matched a dependency, filtered out */
	uint64_t	 records;	/* decision records emitted */
	uint64_t	 by_decision[REC_NDECISIONS];
	uint64_t	 by_reason[REC_NREASONS];
	uint64_t	 reused;	/* outside answers a decision that
					   could not act reused (reuse.c) */
	uint64_t	 reuse_kept;	/* answers kept for reuse now */
};

struct engine;

/*
 * Compiles every manifest of conf (borrowed; must outlive the engine):
 * sources, sensors, policies, guardrails merged with RemediationConfig
 * defaults.  Semantic errors go to diags with their locations.  Returns an
 * owned engine, or NULL if diags got errors.
 */
struct engine	*engine_new(const struct conf *, const struct engine_opts *,
		    struct diags *);
void		 engine_free(struct engine *);
/*
 * engine_new for what only compiles (check, rbac, run's manifest watch):
 * no cluster view, no hooks, the system clock (owned by the engine).
 */
struct engine	*engine_compile(const struct conf *, struct diags *);

/*
 * The watches the live daemon must run: one per resource source (with
 * the selectors the server can apply; its changes go to
 * engine_watch_source), and the cluster view's own (Pods and the
 * workload controllers that own them, for owner resolution, opt-in
 * labels, blast radius and the OOM detector; Nodes too when a bumpMemory
 * action needs the memory the cluster can allocate; source -1, changes go to
 * engine_watch_view).  Fills *out (owned array; clear each with
 * sig_watch_clear, then free) and returns the count.  Strings other than
 * the selectors are borrowed from the engine.
 */
size_t	engine_watches(const struct engine *, struct sig_watch **out);
/* A change seen by the cluster view's watch: view, OOM detector. */
void	engine_watch_view(struct engine *, enum sig_watch_type, json_t *obj);
/* A change seen by resource source i's own watch: that source only. */
void	engine_watch_source(struct engine *, size_t i, enum sig_watch_type,
	    json_t *obj);
/*
 * A change seen by the view's watch on a standby (a replica that does not
 * lead): the cluster view learns it and nothing else, since only the
 * leader decides; the view stays warm for the moment it takes over.
 */
void	engine_watch_standby(struct engine *, enum sig_watch_type,
	    json_t *obj);
/*
 * An object present when a watch (re)listed: the cluster view learns it,
 * no source sees it (a restarted watch does not replay the world as new).
 */
void	engine_sync(struct engine *, json_t *obj);
/*
 * A cluster change at the clock's now (replay): updates the cluster view,
 * routes it to every resource source that watches it, and feeds the OOM
 * detector.
 */
void	engine_watch(struct engine *, enum sig_watch_type, json_t *obj);
/* A signal from a non-resource source (webhook, calendar, replay line). */
void	engine_signal(struct engine *, struct event *);
/*
 * The event type ("webhook", "calendar"...) the EventSource eventsource
 * gives events named name, as `run` sets it (a sensor's context.type
 * filter reads it); NULL when no such source is configured.  Static.
 */
const char *engine_source_type(const struct engine *, const char *eventsource,
	    const char *name);

/*
 * Confirm mode, after the decision (see src/engine/approval.c): someone
 * approved the pending decision whose pend-hook input is `input`
 * (borrowed), under approval id.  The world has moved on, so the engine
 * decides again against the cluster and guard state as they are now
 * (trigger unchanged, mode, acted on since, opt-out, policy, at-cap,
 * blast radius, budget, circuit), re-plans, and acts if all pass.  The
 * record (acted, failed, suppressed, or expired when the trigger changed)
 * is emitted and returned (owned JSON); NULL when the action went to the
 * submit hook: its record comes from engine_outcome.
 */
json_t	*engine_approve(struct engine *, const json_t *input,
	    const char *id);
/*
 * An action handed to the submit hook.  Its plan (the request to send),
 * whether it is a server dry run, and its key (the target,
 * "Kind/namespace/name": actions with one key must run one at a time, in
 * the order submitted, as the engine decided them) are borrowed from a.
 */
const json_t	*engine_action_plan(const struct engine_action *a);
int		 engine_action_dry_run(const struct engine_action *a);
const char	*engine_action_key(const struct engine_action *a);
/*
 * A proposal (a pull request to open instead of a live change): returns
 * the pending record to propose and sets *cfg to confirm.pullRequest,
 * both borrowed from a, for the propose hook; its rc, *pr (as result)
 * and *err go to engine_outcome.  NULL (and *cfg NULL): a live action.
 */
const json_t	*engine_action_proposal(const struct engine_action *a,
		    const json_t **cfg);
/* The record as it will be emitted, less the outcome (borrowed). */
const struct rec_decision_record *engine_action_record(
		    const struct engine_action *a);
/*
 * The outcome of a submitted action, on the engine thread: rc 0 with
 * result (stolen, may be NULL: what the server answered), or -1 with err
 * (stolen: why); ms how long it took (-1: it never ran).  Updates the
 * guard state (a success counts for recurrence; a failure holds a short
 * retry backoff instead of the cooldown), emits the record (acted,
 * dry-run or failed), frees a and returns the record (owned JSON).
 */
json_t	*engine_outcome(struct engine *, struct engine_action *a, int rc,
	    json_t *result, char *err, int64_t ms);
/* Frees an action whose outcome will never come (NULL ok). */
void	 engine_action_free(struct engine_action *a);

/*
 * A pending approval nobody used before `expired` (ms): emits and returns
 * (owned JSON) an `expired` record built from the pending record
 * (borrowed; input, borrowed, may be NULL, fills what it lacks).
 */
json_t	*engine_expire(struct engine *, const json_t *input,
	    const json_t *record, const char *id, int64_t expired);

/*
 * The outcome of a confirm decision's pull request: merged (and, for an
 * Argo CD target, synced to it) is `acted`; closed unmerged is
 * `declined`, which counts toward demotion as a recurrence does (and may
 * demote the trigger: its `demoted` record follows).  record (borrowed)
 * is the pending-approval record, pr (borrowed) the request's state now.
 * Emits and returns the outcome record (owned JSON).
 */
json_t	*engine_pr_outcome(struct engine *, const json_t *record,
	    const json_t *pr, int merged);
/*
 * A merged request whose change was never seen applied: its Argo CD
 * Application was not synced at or after the merge within the request's
 * syncTimeout (deleted, or its source points elsewhere).  Emits and
 * returns (owned JSON) an `expired` record saying so, with why
 * (borrowed: what the Application was, "1h (syncTimeout) after the
 * merge, Application argocd/cart was not found (deleted?)"); the guard
 * state is left as it is: the change is in Git, so it is no decline,
 * and nobody saw it land, so it is no remediation either.
 */
json_t	*engine_pr_expired(struct engine *, const json_t *record,
	    const json_t *pr, const char *why);

const struct engine_stats *engine_stats(const struct engine *);

/*
 * Calls fn for every trigger, with its sensor ("ns/name", as records name
 * it) and trigger name (both borrowed for the call): metrics start each
 * trigger's counters at 0, so the first failure is an increase.
 */
void	engine_each_trigger(const struct engine *,
	    void (*fn)(void *ctx, const char *sensor, const char *trigger),
	    void *ctx);

/*
 * The guard state the engine owns (cooldowns, buckets, windows,
 * recurrence, demotions), for the audit store to load and journal
 * (audit_attach_guard).  Use it on the engine's thread only.
 */
struct guard_state;
struct guard_state *engine_guard_state(struct engine *);
/*
 * Forgets the guard state for an empty one (engine thread): a standby
 * that becomes the leader loads what its predecessor left in the state
 * backend into it, never what it held at an earlier term.
 */
void	engine_reset_guard_state(struct engine *);
/*
 * A reloaded configuration: to (the new engine) takes over the guard
 * state of from (the running one), which gets an empty one.  Entries are
 * keyed by trigger identity ("ns/sensor/trigger"), so a trigger that
 * kept its name keeps its cooldowns, rate bucket, threshold windows and
 * the circuit; a demotion is lifted by guard_demoted when the trigger's
 * manifest hash changed, as after a restart.
 */
void	engine_adopt_guard_state(struct engine *to, struct engine *from);

/*
 * One line describing what the engine compiled from doc (borrowed), for
 * `check`; owned; NULL if doc is not one of the engine's manifests.
 */
char	*engine_describe(const struct engine *, const struct mdoc *);

/*
 * One API permission the configuration needs (perms.c), with what needs
 * it.  All strings owned.
 */
struct engine_perm {
	char	*group;		/* "" for core; NULL when error is set */
	char	*resource;	/* plural */
	char	*verb;		/* list, watch, create, get, patch... */
	char	*namespace;	/* NULL: every namespace */
	char	*manifest;	/* "Sensor ns/name (file)"; NULL: remediate
				   itself (the cluster view, Events) */
	char	*why;		/* one line */
	char	*error;		/* the permission cannot be named (a
				   templated kind): why; else NULL */
};
/*
 * Every permission the engine's configuration needs to run: list and
 * watch for each of engine_watches, each trigger's action verbs on its
 * resource (k8s: the operation on the manifest's kind, in its namespace
 * when fixed; native: the action's table, any namespace), and creating
 * Events when any trigger acts.  Duplicates are kept (each names its
 * manifest).  Fills *out (owned: engine_perms_free) and returns the count.
 */
size_t	engine_permissions(const struct engine *, struct engine_perm **out);
void	engine_perms_free(struct engine_perm *, size_t n);

#endif /* ENGINE_H */
