/*
 * The engine's own layout, shared by its files (build.c compiles the
 * configuration, flow.c moves signals, decide.c runs the guardrails).
 */
#ifndef ENGINE_INTERNAL_H
#define ENGINE_INTERNAL_H

#include "action/action.h"
#include "engine/engine.h"
#include "guard/guard.h"
#include "policy/policy.h"
#include "sensor/sensor.h"

/* The guardrails' templates, compiled once (NULL: none or no {{ }}). */
enum engine_tmpl {
	TMPL_TARGET,
	TMPL_THRESHOLD_KEY,
	TMPL_BUDGET_QUERY,
	TMPL_COUNT
};

struct engine_trigger {
	struct guard_config	 cfg;		/* owned strings */
	struct sensor_tmpl	*tmpl[TMPL_COUNT];	/* owned */
	char			*id;		/* owned: ns/sensor/trigger */
	json_t			*ownership;	/* owned: cfg.ownership over
						   gitops' defaults, made once
						   (not per decision) */
	uint64_t		 hash;		/* of the trigger's manifest and
						   guardrails, for demotions;
						   0 until decide.c needs it */
	/*
	 * The "demoted" note of the trigger's last demoted decision and the
	 * demotion it names (ms): the same while the demotion holds, so
	 * made once, not per decision.  Owned; NULL: none yet.
	 */
	json_t			*demoted;
	int64_t			 demoted_since;
};

struct engine_sensor {
	struct sensor		*sensor;	/* owned */
	const struct mdoc	*doc;		/* borrowed from conf */
	char			*ident;		/* owned: "ns/name" */
	struct engine_trigger	*triggers;	/* owned, one per trigger */
	size_t			 ntriggers;
};

struct engine {
	struct engine_opts	 opts;
	const struct conf	*conf;		/* borrowed */
	struct sig_set		*sources;	/* owned */
	struct pol_set		*policies;	/* owned */
	struct pol_scratch	*admit_scratch;	/* owned: the request each
						   admission reuses */
	struct engine_sensor	*sensors;	/* owned */
	size_t			 nsensors;
	struct guard_config	 defaults;	/* owned strings */
	struct guard_state	*state;		/* owned */
	int			 detect_oom;	/* a source watches Events */
	struct engine_stats	 stats;
	int64_t			 now;		/* ms: read once per signal */
	json_t			*inputs;	/* owned: what the signal being
						   decided read (inputs.c);
						   NULL between signals */
	uint64_t		 signal_seq;	/* signals seen, for inputs */
	struct map		 reuse;		/* reuse.c: recent outside
						   answers, key -> owned
						   struct answer */
	int64_t			 reuse_swept;	/* ms: when the stale ones
						   were last dropped */
	struct clock		 own_clock;	/* engine_compile's */
};

/* Everything one decision gathers on its way through the checks. */
struct decision {
	struct engine			*e;
	struct engine_sensor		*es;
	struct engine_trigger		*et;
	const struct sensor_fire	*fire;
	const struct guard_config	*cfg;
	struct rec_decision_record	 rec;
	json_t				*subject_obj;	/* borrowed; NULL
							   until a check
							   reads more than
							   subject_meta */
	json_t				*subject_meta;	/* owned: its kind
							   and metadata
							   (cluster_get_meta)
							   */
	json_t				*target_obj;	/* borrowed */
	char				*target_key;	/* owned */
	struct act_plan			 plan;
	struct act_verdict		 verdict;	/* native actions */
	int				 native;	/* verdict is set */
	enum guard_mode			 mode;	/* cfg's, or notify when
						   demoted */
	int				 by_pr;	/* goes by pull request */
	int				 cannot_act;	/* its rate bucket is
							   empty: it may reuse
							   outside answers
							   (reuse.c) */
	long				 pods;	/* the action moves
						   (blast radius) */
	int64_t				 fleet_slot;	/* ms: the fleet
							   ledger's slot
							   taken, 0 none */
	char				 msg[GUARD_MSGLEN];
};

/* decide.c: one trigger fire -> one decision record. */
void	engine_decide(struct engine *, struct engine_sensor *,
	    struct engine_trigger *, const struct sensor_fire *);
/*
 * The checks that depend on the action, in order, from opt-out to the
 * circuit (not the rate token): they plan the action on the way.
 * decided: 0, or the time of the pending decision being approved (its
 * own circuit mark is not counted).  Returns the first reason that stops
 * it, or REASON_NONE (with d->msg set when a check could not be
 * evaluated: the record is then "failed").
 */
enum rec_reason decide_action_checks(struct decision *, int64_t decided);
/*
 * A decision for fire f of trigger et, its record named from them;
 * decide_clear frees what it gathered.
 */
void	decide_init(struct decision *, struct engine *,
	    struct engine_sensor *, struct engine_trigger *,
	    const struct sensor_fire *);
void	decide_clear(struct decision *);
/*
 * The mode's outcome dec after the checks passed and the action was
 * marked (cooldown, circuit): hands the planned action over when dec is
 * acted (or a server dry run), after writing the intent down (see
 * outcome.c); otherwise finishes the record.  With want, returns the
 * finished record (owned JSON), or NULL when the action runs elsewhere
 * and its record comes with engine_outcome; without, NULL.
 */
json_t	*decide_act(struct decision *, enum rec_decision dec, int want);
/*
 * outcome.c: writes the intent, then submits or executes the action;
 * d's record moves into the action.  Returns the finished record (owned
 * JSON), or NULL when submitted.
 */
json_t	*decide_run_action(struct decision *, enum rec_decision dec);
/* Sets the decision and reason, counts it, and emits the record. */
void	decide_finish(struct decision *, enum rec_decision,
	    enum rec_reason);
/* Counts a finished record (r borrowed) and hands it to the emit hook. */
void	decide_emit(struct engine *, const struct rec_decision_record *r);
void	decide_extra_set(struct decision *, const char *key, json_t *v);
uint64_t decide_trigger_hash(struct decision *);

/*
 * ownership.c: gitops-managed and conflict, for the planned action: a
 * GitOps controller that would revert it, another manager owning a field
 * it writes.  Returns the reason that stops it, or REASON_NONE (with
 * d->msg set when ownership could not be read: the record is "failed").
 */
enum rec_reason decide_ownership(struct decision *);
/*
 * propose.c: a decision that goes by pull request (confirm with
 * confirm.pullRequest, or a GitOps-managed target under
 * ownership.gitopsManaged: pullRequest), handed to the propose hook; its
 * record (pending-approval with "pullRequest", or failed with the
 * reason) comes with the outcome.
 */
void	decide_propose(struct decision *);
/*
 * outcome.c: d's pending-approval record (d's record moves) as a proposal
 * to the submit hook, or to the propose hook at once.  Returns the
 * finished record (owned JSON), or NULL when submitted.
 */
json_t	*decide_run_proposal(struct decision *);
/*
 * approval.c: the sensor and trigger that in's (borrowed) "sensor" and
 * "trigger" name, in the configuration as it is now: 0, or -1 if gone.
 */
int	decide_find_trigger(struct engine *, const json_t *in,
	    struct engine_sensor **, struct engine_trigger **,
	    const struct sensor_trigger **);

/*
 * approval.c: what a pending-approval decision keeps for engine_approve
 * (owned), and handing it to the pend hook: 0 with the approval in the
 * record, or -1 with the record's message saying why there is none.
 */
json_t	*approval_input(struct decision *);
int	 approval_pend(struct decision *);

/*
 * inputs.c: what a signal's decisions read, for `remediate diff`.  begin
 * starts the note (ev borrowed, copied) and has the cluster view record
 * its answers until end; every record decided in between holds a
 * reference to it.  budget and fetched note answers from outside the
 * view (obj borrowed, copied; NULL: absent).  No-ops between signals.
 */
void	engine_inputs_begin(struct engine *, const struct event *ev);
void	engine_inputs_end(struct engine *);
void	engine_inputs_budget(struct engine *, const char *query, int have,
	    double value, int64_t at);
void	engine_inputs_fetched(struct engine *, const char *kind,
	    const char *ns, const char *name, json_t *obj);

/*
 * reuse.c: the fetch and budget hooks, through the answers kept for
 * engine_opts.reuse_ms.  may_reuse (a decision that cannot act) takes a
 * kept answer when there is one young enough; otherwise the hook is
 * asked and its answer kept.  Same returns as the hooks (*out and *err
 * owned); budget's hook must be set.
 */
int	engine_reuse_or_fetch(struct engine *, int may_reuse, const char *av,
	    const char *kind, const char *ns, const char *name, json_t **out,
	    char **err);
int	engine_reuse_or_ask_budget(struct engine *, int may_reuse,
	    const char *query, double *value, int64_t *at);
/* Forgets every kept answer (engine_free). */
void	engine_reuse_clear(struct engine *);
/*
 * Drops the answers too old to reuse at e->now, at most once every
 * reuse_ms (cheap otherwise): called as signals and cluster changes come,
 * so a storm's objects do not stay in memory after it.
 */
void	engine_reuse_sweep(struct engine *);

#endif /* ENGINE_INTERNAL_H */
