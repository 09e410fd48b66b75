/*
 * guard: the guardrails.
 *
 * A guard_config is one trigger's guardrails: its `guardrails:` block laid
 * over the cluster-wide RemediationConfig defaults, laid over the built-in
 * safe defaults (DESIGN.md).  A guard_state holds what the guardrails
 * remember (threshold windows, cooldown marks, rate buckets, the circuit's
 * recent actions, each trigger's recent remediations and its demotion);
 * it has one owner, the engine, and no locks.  It journals its changes so
 * the audit store can keep it on disk (see guard_state_journal).
 *
 * Each check is its own function so the engine can run them in the order
 * the design fixes, stop at the first that says no, and name it.  Checks
 * return 1 to let the action through and 0 to stop it, filling a message.
 */
#ifndef GUARD_H
#define GUARD_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "conf/conf.h"
#include "util/util.h"

enum guard_mode {
	MODE_OFF,
	MODE_NOTIFY,
	MODE_DRY_RUN,
	MODE_CONFIRM,
	MODE_AUTO,
};

struct guard_config {
	enum guard_mode	 mode;
	int		 server_dry_run;	/* dry-run asks the API server
						   (dryRun=All) */
	/* threshold: act once count signals for the key fall inside within */
	int		 threshold_count;	/* 0: act on each signal */
	int64_t		 threshold_within;	/* ms */
	char		*threshold_key;		/* owned template, or NULL:
						   the resolved target */
	int64_t		 cooldown;		/* ms per (trigger, target) */
	int64_t		 max_signal_age;	/* ms */
	char		*optin_key;		/* owned; NULL: not required */
	char		*optin_value;		/* owned */
	/* budget: query templated per signal; no answer means no budget */
	char		*budget_query;		/* owned, NULL: no gate */
	double		 budget_min;
	int64_t		 budget_max_age;	/* ms */
	double		 max_cluster_impact;	/* fraction of the cluster */
	int		 impact_fleet;		/* scope fleet: of every
						   cluster's pods */
	int		 circuit_max;		/* 0: circuit off */
	int64_t		 circuit_within;	/* ms */
	int		 circuit_fleet;		/* scope fleet: every cluster's
						   actions count */
	int64_t		 rate_unit;		/* ms */
	int64_t		 rate_per_unit;		/* tokens per unit, >= 1 */
	int64_t		 recurrence_within;	/* ms */
	double		 recurrence_demote_above; /* fraction */
	int		 recurrence_min_actions;
	char		*target;		/* owned template, or NULL */
	json_t		*ownership;		/* owned: the `ownership:`
						   block as written, blocks
						   merged key by key; NULL:
						   gitops' defaults */
	json_t		*pull_request;		/* owned: confirm.pullRequest,
						   or NULL: confirm by an
						   approval link */
};

/* The built-in safe defaults of DESIGN.md. */
void	guard_config_defaults(struct guard_config *);
/*
 * Lays a `guardrails:` block (borrowed; schema checked by conf) over *cfg,
 * reporting bad values at their place in doc.  Returns 0 or -1.
 */
int	guard_config_apply(struct guard_config *, json_t *block,
	    const struct mdoc *doc, struct diags *);
/* Deep copy (owned strings duplicated). */
void	guard_config_copy(struct guard_config *dst,
	    const struct guard_config *src);
void	guard_config_clear(struct guard_config *);
const char	*guard_mode_name(enum guard_mode);
/* The guardrails as JSON (the normalized configuration). */
json_t	*guard_config_json(const struct guard_config *);
/* One line for people: "mode dry-run, rate 1/Minute, cooldown 10m, ...". */
char	*guard_config_describe(const struct guard_config *);	/* owned */

struct guard_state;

/*
 * Guard state untouched this long may be forgotten (guard_state_prune),
 * whatever the audit log's own retention: no guardrail holds longer (a
 * cooldown or a window of more is refused by guard_config_apply).
 */
#define GUARD_STATE_KEEP	(30LL * 24 * 60 * 60 * 1000)

struct guard_state	*guard_state_new(void);
void			 guard_state_free(struct guard_state *);

#define GUARD_MSGLEN 256

/* stale: the signal is older than max_signal_age at now, or undated (0). */
int	guard_check_stale(const struct guard_config *, int64_t signal_time,
	    int64_t now, char *msg, size_t msglen);
/*
 * below-threshold: records this signal for (trigger, key) at `now`, its
 * own time, then asks whether count signals fall within the window of
 * it (before or after: signals may arrive out of order), this one
 * included.  Decisions do not reset the count.
 */
int	guard_check_threshold(struct guard_state *,
	    const struct guard_config *, const char *trigger, const char *key,
	    int64_t now, char *msg, size_t msglen);
/* cooldown: an action for (trigger, target) happened inside cooldown. */
int	guard_check_cooldown(struct guard_state *,
	    const struct guard_config *, const char *trigger,
	    const char *target, int64_t now, char *msg, size_t msglen);
/*
 * opt-out: the label is on neither the controller nor the subject (either
 * may be NULL when not found in the cluster), or its key is on either with
 * another value (a veto, whatever the other says).
 */
/*
 * The opt-in label on obj (NULL: none): 1 key=value (or just the key when
 * value is NULL), 0 key absent, -1 key present with another value (a
 * veto).  The one reading of the label, for the engine and bump-memory.
 */
int	guard_optin_label(json_t *obj, const char *key, const char *value);
int	guard_check_optin(const struct guard_config *, json_t *controller,
	    json_t *subject, char *msg, size_t msglen);
/*
 * blast-radius: moving `pods` of `total` pods exceeds max_cluster_impact.
 * total 0 (a listed cluster, or a replay snapshot, holding no Pod) lets
 * the action through: there is nothing to weigh it against.  pods -1
 * (not known) or total -1 (the view has not listed its Pods yet, so an
 * empty count means nothing) stops it unless pods is 0 or
 * max_cluster_impact is 100%.
 */
int	guard_check_blast_radius(const struct guard_config *, long pods,
	    long total, char *msg, size_t msglen);
/*
 * Is part at most the fraction max of whole (whole > 0)?  Compared as
 * part / whole: 29 pods of 100 against "29%" is 29/100 against 29/100,
 * both rounded alike, where 0.29 * 100 is 28.999999999999996 and would
 * stop an action that is exactly at the limit.
 */
int	guard_within_fraction(double part, double whole, double max);
/*
 * blast-radius by memory: adding `bytes` of memory requests exceeds
 * max_cluster_impact of the `total` the Nodes can allocate.  total 0 (no
 * Node known) lets the action through; the pod count still applies.
 */
int	guard_check_blast_radius_memory(const struct guard_config *,
	    int64_t bytes, int64_t total, char *msg, size_t msglen);
/*
 * budget: have is 0 when the query gave no value; the value counts only
 * if at most budget_max_age old and at least budget_min.
 */
int	guard_check_budget(const struct guard_config *, int have,
	    double value, int64_t value_time, int64_t now, char *msg,
	    size_t msglen);
/* circuit-open: circuit_max actions across all triggers inside within. */
int	guard_check_circuit(struct guard_state *,
	    const struct guard_config *, int64_t now, char *msg,
	    size_t msglen);
/*
 * rate-limited: takes a token from the trigger's bucket if one is left
 * (refilled evenly over the unit, starting full).  Call last: a token is
 * spent only by an action that passed every other check.
 */
int	guard_take_rate_token(struct guard_state *,
	    const struct guard_config *, const char *trigger, int64_t now,
	    char *msg, size_t msglen);
/*
 * Whether guard_take_rate_token would find a token at now, changing
 * nothing: a decision that finds none cannot act, whatever the checks
 * before the rate say (the engine then reuses recent outside answers).
 */
int	guard_rate_token_left(const struct guard_state *,
	    const struct guard_config *, const char *trigger, int64_t now);
/*
 * Records that an action was taken (or would have been: notify, dry-run
 * and confirm keep the same state as auto), for cooldown and circuit.
 */
void	guard_record_action(struct guard_state *, const char *trigger,
	    const char *target, int64_t now);

/*
 * An action that ran and failed (or could not run) does not spend the
 * cooldown: its mark holds a retry backoff instead, from now, of
 * GUARD_RETRY_BACKOFF doubled for each failure in a row, at most the
 * cooldown; until then the cooldown check stops the next action as
 * before.  A later remediation of the target ends the run of failures.
 */
#define GUARD_RETRY_BACKOFF	(60 * 1000)	/* ms: the first retry */
void	guard_record_failure(struct guard_state *,
	    const struct guard_config *, const char *trigger,
	    const char *target, int64_t now);
/*
 * An action that worked ends the target's run of failures, so the next
 * failure backs off from GUARD_RETRY_BACKOFF again: a remediation
 * (guard_record_remediation does it) or a server dry run the API
 * accepted, which is the success auto would have met.
 */
void	guard_record_success(struct guard_state *, const char *trigger,
	    const char *target);
/* The backoff after `failures` failures in a row (>= 1), in ms. */
int64_t	guard_retry_backoff(const struct guard_config *, int failures);

/*
 * Approval of a confirm-mode decision (engine_approve): the pending
 * decision left its cooldown and circuit marks at `decided`, as auto
 * would have, and its rate token is spent.  At approval the circuit is
 * asked again without counting that own mark, and the action, when it
 * runs, moves the marks to now: one action, counted once.
 */
/* When (trigger, target) last acted or would have (ms), or 0. */
int64_t	guard_last_action(struct guard_state *, const char *trigger,
	    const char *target);
int	guard_check_circuit_approved(struct guard_state *,
	    const struct guard_config *, int64_t decided, int64_t now,
	    char *msg, size_t msglen);
void	guard_record_approved_action(struct guard_state *,
	    const char *trigger, const char *target, int64_t decided,
	    int64_t now);

/*
 * Fleet scope (`scope: fleet` on circuit and maxClusterImpact): the
 * actions of every cluster sharing the state database count, decided
 * under the database's lock.  The guard state stays the engine's; the
 * guard asks the fleet ledger (src/fleet/) through these hooks, and
 * without one (replay, test, diff: no database) it counts this cluster's
 * own actions and says so in its message.
 */
struct guard_fleet_ask {
	int64_t	 now;		/* ms */
	int64_t	 within;	/* ms: the circuit's window, also the window
				   of the pods the fleet is moving */
	int	 circuit_max;	/* fleet circuit: actions; 0: not asked */
	double	 impact;	/* fleet maxClusterImpact fraction; < 0: not
				   asked */
	long	 pods;		/* the action moves */
	long	 cluster_pods;	/* this cluster's pods (published) */
	int	 reserve;	/* take a slot at now when admitted */
	int64_t	 own;		/* ms: this cluster's slot taken at own is
				   not counted (and moves to now when
				   reserve); 0: none */
};

struct guard_fleet_answer {
	long	 actions;	/* in the window, every cluster, own
				   slot left out, this one not counted */
	long	 moving;	/* pods those actions move */
	long	 total;		/* pods of every cluster publishing */
	int	 clusters;	/* clusters publishing */
	int64_t	 slot;		/* ms: the slot taken, 0 none */
};

struct guard_fleet {
	/*
	 * Answers ask in one transaction under the database's lock: counts,
	 * and when reserve is set and the action is admitted (fewer than
	 * circuit_max actions; moving + pods within impact of total) takes
	 * a slot for it.  Returns 0, or -1 with err filled: the ledger
	 * cannot be read, and the caller fails closed.
	 */
	int	(*ask)(void *ctx, const struct guard_fleet_ask *,
		    struct guard_fleet_answer *, char *err, size_t errlen);
	/* Gives back a slot a later check (rate-limited) left unused. */
	void	(*release)(void *ctx, int64_t slot);
	void	 *ctx;
};

/*
 * blast-radius across the fleet (impact_fleet only; 1 otherwise): the
 * pods moving in every cluster inside circuit.within plus pods, against
 * impact of every cluster's pods.  fleet NULL: 1 (the cluster's own
 * check stands).  Reads only: nothing is reserved.  A ledger that
 * cannot be read lets this check pass: guard_check_fleet_circuit, which
 * every such action reaches, asks again and fails closed.
 */
int	guard_check_fleet_impact(const struct guard_fleet *,
	    const struct guard_config *, long pods, long cluster_pods,
	    int64_t now, char *msg, size_t msglen);
/*
 * circuit-open across the fleet (circuit_fleet or impact_fleet; else
 * guard_check_circuit): counts and, when admitted, takes a slot for this
 * action in the same transaction, into *slot (0: none).  decided != 0:
 * an approved confirm decision whose slot was taken at decided (it is
 * not counted, and moves to now).  Without a ledger (fleet NULL) the
 * local count decides, and a stop says so.  Returns 1 admitted, 0
 * stopped (msg: circuit-open, or with *blast set, the fleet's
 * blast radius filled up meanwhile).  A ledger error stops the action.
 */
int	guard_check_fleet_circuit(struct guard_state *,
	    const struct guard_fleet *, const struct guard_config *,
	    long pods, long cluster_pods, int64_t decided, int64_t now,
	    int64_t *slot, int *blast, char *msg, size_t msglen);
/* Does the configuration ask the fleet about anything? */
int	guard_config_fleet(const struct guard_config *);
/*
 * The ledger's verdict on an answer, the one rule both sides apply: 1
 * when a (counted with ask's own slot left out) admits the action under
 * q's circuit_max and impact, 0 when not.
 */
int	guard_fleet_admits(const struct guard_fleet_ask *,
	    const struct guard_fleet_answer *);

/*
 * Recurrence: a remediation whose signal comes back for the same target
 * within recurrence_within counts as recurred.  Each trigger keeps its
 * last GUARD_RECURRENCE_KEEP remediations (or recurrence_min_actions, if
 * more); the ratio is recurred / kept.
 */
#define GUARD_RECURRENCE_KEEP 20

struct guard_recurrence {
	int64_t	 action;	/* ms: the remediation that recurred */
	int	 actions;	/* remediations kept for the trigger */
	int	 recurred;	/* of those, how many recurred */
	double	 ratio;		/* recurred / actions */
};

/*
 * Records a remediation (decision acted) of target by trigger at now; it
 * also ends the target's run of failures (guard_record_failure).
 */
void	guard_record_remediation(struct guard_state *,
	    const struct guard_config *, const char *trigger,
	    const char *target, int64_t now);
/*
 * A signal for (trigger, target) whose own time is signal_time: if the
 * trigger's latest remediation of target happened before it and at most
 * recurrence_within earlier, and has not recurred yet, marks it recurred,
 * fills *out and returns 1.  Otherwise returns 0 (*out untouched).
 */
int	guard_note_recurrence(struct guard_state *,
	    const struct guard_config *, const char *trigger,
	    const char *target, int64_t signal_time,
	    struct guard_recurrence *out);
/* Does *r call for demotion: at least minActions, ratio above demoteAbove. */
int	guard_should_demote(const struct guard_config *,
	    const struct guard_recurrence *);
/*
 * Demotes trigger to notify at now.  hash identifies the trigger's
 * manifest: only a different hash lifts the demotion (guard_demoted).
 */
void	guard_demote(struct guard_state *, const char *trigger, uint64_t hash,
	    int64_t now, const struct guard_recurrence *);

enum guard_demotion {
	GUARD_NOT_DEMOTED,
	GUARD_DEMOTED,		/* demoted under this manifest */
	GUARD_LIFTED,		/* was demoted; the manifest changed since */
};

/*
 * Is trigger demoted under the manifest whose hash is given?  A demotion
 * recorded under another hash is lifted here, once (GUARD_LIFTED), and
 * the trigger's recurrence history starts afresh.  *since (may be NULL)
 * gets the time of the demotion.
 */
enum guard_demotion guard_demoted(struct guard_state *, const char *trigger,
	    uint64_t hash, int64_t *since);

/*
 * Persistence.  Every change marks the entry it touched; the store asks
 * for the marked entries after each decision and writes them in the same
 * transaction as the record, so the state on disk always matches the
 * records on disk.  Entries are (kind, key, JSON value):
 *
 *   window      trigger\x1fkey  {"cap":N,"t":[ms oldest first]}
 *   cooldown    trigger\x1ftarget  {"at":ms} or, after failures,
 *                             {"at":ms,"retry":ms,"failures":N}
 *   bucket      trigger      {"tokens":X,"at":ms}
 *   circuit     ""           {"cap":N,"t":[ms oldest first]}
 *   recurrence  trigger      {"cap":N,"a":[{"at":ms,"target":T,
 *                             "recurred":B} oldest first]}
 *   demotion    trigger      {"hash":"16 hex digits","at":ms,"ratio":R,
 *                             "actions":N,"recurred":N}
 *
 * put gets each entry (value borrowed for the call; NULL: the entry was
 * removed).  all != 0 visits every live entry instead of the marked ones
 * (a full rewrite after a failed write).  Either way the marks are
 * cleared.
 */
/*
 * Marks are kept only once the store asks for them (audit_attach_guard
 * calls this), so replay and tests pay nothing for persistence.
 */
void	guard_state_track(struct guard_state *);
void	guard_state_journal(struct guard_state *, int all,
	    void (*put)(void *ctx, const char *kind, const char *key,
	    json_t *value), void *ctx);
/*
 * Loads one entry written by guard_state_journal (value borrowed).  It is
 * not marked.  Returns 0, or -1 for an unknown kind or a malformed value
 * (the entry is ignored).
 */
/*
 * An entry whose value cannot be read, counted as its most restrictive
 * value at now, never as absent (absent resets a guardrail): a cooldown
 * that just started, an empty rate bucket, an open circuit (1024 actions
 * at now), a demoted trigger (whatever its manifest).  A threshold window
 * and recurrence history are restrictive when empty, so they stay absent.
 * The entry is marked, so the next journal writes the value back.
 * Returns 0, or -1 for an unknown kind or a NULL key.
 */
int	guard_state_load_damaged(struct guard_state *, const char *kind,
	    const char *key, int64_t now);
int	guard_state_load(struct guard_state *, const char *kind,
	    const char *key, json_t *value);
/*
 * Forgets cooldown marks, threshold windows, rate buckets and recurrence
 * histories last touched before `before` (ms), so the state stays bounded
 * by the activity of the retention period.  Demotions are kept.
 */
void	guard_state_prune(struct guard_state *, int64_t before);

#endif /* GUARD_H */
