/*
 * guard: the guardrails.
 *
 * A guard_config is one trigger's guardrails: its `guardrails:` block laid
 * over the cluster-wide RemediationConfig defaults, laid over the built-in
 * safe defaults (DESIGN.md).  A guard_state holds what the guardrails
 * remember (threshold windows, cooldown marks, rate buckets, the circuit's
 * recent actions); it has one owner, the engine, and no locks.
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
	int		 circuit_max;		/* 0: circuit off */
	int64_t		 circuit_within;	/* ms */
	int64_t		 rate_unit;		/* ms */
	int64_t		 rate_per_unit;		/* tokens per unit, >= 1 */
	int64_t		 recurrence_within;	/* ms */
	double		 recurrence_demote_above; /* fraction */
	int		 recurrence_min_actions;
	char		*target;		/* owned template, or NULL */
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

struct guard_state	*guard_state_new(void);
void			 guard_state_free(struct guard_state *);

#define GUARD_MSGLEN 256

/* stale: the signal is older than max_signal_age at now. */
int	guard_check_stale(const struct guard_config *, int64_t signal_time,
	    int64_t now, char *msg, size_t msglen);
/*
 * below-threshold: records this signal for (trigger, key) at now, then
 * asks whether count signals fall inside the window, this one included.
 * Decisions do not reset the count.
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
 * may be NULL when not found in the cluster).
 */
int	guard_check_optin(const struct guard_config *, json_t *controller,
	    json_t *subject, char *msg, size_t msglen);
/*
 * blast-radius: moving `pods` of `total` pods exceeds max_cluster_impact.
 * total 0 (an empty snapshot) lets the action through.
 */
int	guard_check_blast_radius(const struct guard_config *, long pods,
	    long total, char *msg, size_t msglen);
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
 * Records that an action was taken (or would have been: notify, dry-run
 * and confirm keep the same state as auto), for cooldown and circuit.
 */
void	guard_record_action(struct guard_state *, const char *trigger,
	    const char *target, int64_t now);

#endif /* GUARD_H */
