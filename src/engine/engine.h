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
	/* Receives every decision record (borrowed for the call). */
	void	(*emit)(void *ctx, const struct rec_decision_record *);
	void	 *emit_ctx;
};

/* Counters for summaries and metrics. */
struct engine_stats {
	uint64_t	 signals;	/* events handed to sensors */
	uint64_t	 filtered;	/* matched a dependency, filtered out */
	uint64_t	 records;	/* decision records emitted */
	uint64_t	 by_decision[REC_NDECISIONS];
	uint64_t	 by_reason[REASON_RATE_LIMITED + 1];
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
 * Confirm mode, after the decision (see src/engine/approval.c): someone
 * approved the pending decision whose pend-hook input is `input`
 * (borrowed), under approval id.  The world has moved on, so the engine
 * decides again against the cluster and guard state as they are now
 * (trigger unchanged, mode, acted on since, opt-out, policy, at-cap,
 * blast radius, budget, circuit), re-plans, and acts if all pass.  The
 * record (acted, failed, suppressed, or expired when the trigger changed)
 * is emitted and returned (owned JSON).
 */
json_t	*engine_approve(struct engine *, const json_t *input,
	    const char *id);
/*
 * A pending approval nobody used before `expired` (ms): emits and returns
 * (owned JSON) an `expired` record built from the pending record
 * (borrowed; input, borrowed, may be NULL, fills what it lacks).
 */
json_t	*engine_expire(struct engine *, const json_t *input,
	    const json_t *record, const char *id, int64_t expired);

const struct engine_stats *engine_stats(const struct engine *);

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

#endif /* ENGINE_H */
