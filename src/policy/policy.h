/*
 * policy: Kyverno ClusterPolicy/Policy validate rules, evaluated in-process
 * on the object an action would create or patch, as admission would, before
 * it is sent.  Failing closed: an error while evaluating a rule that matches
 * the object denies it, with the error as the message.
 *
 * Supported: match/exclude (any/all; kinds incl. group/version/Kind forms,
 * names and namespaces with wildcards, label and namespace selectors,
 * operations), context entries (variable; configMap and apiCall of one
 * object, from the cluster view), preconditions (any/all),
 * validate.deny.conditions (any/all) with every Kyverno operator,
 * validate.pattern and anyPattern with anchors, foreach, the rules Kyverno
 * generates for Pod controllers,
 * validationFailureAction Enforce (deny) and Audit (record, allow) with
 * overrides and the rule-level failureAction, failurePolicy, per-rule
 * message, `{{ }}` variables in JMESPath with Kyverno's functions
 * (request.object, request.operation, ...).  docs/policies.md has the
 * details and what is refused.
 *
 * A built set is immutable: pol_admit does not change it.
 */
#ifndef POLICY_H
#define POLICY_H

#include <stddef.h>
#include <jansson.h>

#include "conf/conf.h"
#include "jp/jp.h"
#include "util/util.h"

struct pol_set;

struct pol_set	*pol_set_new(void);
void		 pol_set_free(struct pol_set *);
/*
 * Compiles a ClusterPolicy or Policy document (schema already checked by
 * conf; borrowed, and may be freed afterwards) into the set: every {{ }}
 * expression is compiled now, so a bad one is a diagnostic at its
 * location.  Returns 0, or -1 after adding diags (every problem of the
 * document, not just the first); a refused policy is not added.
 */
int		 pol_set_add(struct pol_set *, const struct mdoc *,
		    struct diags *);
size_t		 pol_set_count(const struct pol_set *);
/* One line for `check`: "1 rule (validate deny), Enforce". Owned. */
char		*pol_describe(const struct pol_set *, size_t i);

/* What a rule made of the object, as Kyverno's rule statuses. */
enum pol_outcome {
	POL_FAIL,	/* violated: the rule denies (Enforce) or records */
	POL_ERROR,	/* could not be evaluated: fails closed unless the
			   policy says failurePolicy: Ignore */
	POL_PASS,	/* applied and satisfied (only with POL_ALL) */
	POL_SKIP	/* matched, but preconditions or a conditional
			   anchor did not hold (only with POL_ALL) */
};

/* One rule's result; pol_admit reports only violations and errors. */
struct pol_violation {
	char			*policy;	/* owned: name (ns/name for a
						   Policy) */
	char			*rule;		/* owned */
	char			*message;	/* owned: in full, rendered */
	int			 enforce;	/* 1 denies, 0 records */
	enum pol_outcome	 outcome;
};

struct pol_verdict {
	int			 denied;	/* any FAIL or ERROR that
						   enforces */
	struct pol_violation	*v;		/* owned */
	size_t			 n;
};

/*
 * Admits object (borrowed) for operation ("CREATE", "UPDATE", "DELETE";
 * NULL is CREATE) against every policy of the set.  env (may be NULL)
 * gives lookup(), namespaceSelector and configMap/apiCall context entries
 * their cluster.  Fills *out with the violations and errors in policy and
 * rule order (caller frees with pol_verdict_clear); a NULL set or object
 * gives an empty verdict.  Returns 0: errors are results (failing closed),
 * not return codes.
 */
int	pol_admit(const struct pol_set *, json_t *object,
	    const char *operation, const struct jp_env *env,
	    struct pol_verdict *out);
/*
 * pol_admit with the object as it is now (borrowed, may be NULL), which
 * an UPDATE's rules read as request.oldObject (pol_admit gives null).
 */
int	pol_admit_update(const struct pol_set *, json_t *object,
	    json_t *old_object, const char *operation,
	    const struct jp_env *env, struct pol_verdict *out);
/*
 * What admissions may keep between calls: the request context, of which
 * each admission then replaces only the members that differ (the object,
 * its name...) instead of building and freeing it whole.  Owned by its
 * caller and used by one thread at a time; it keeps no reference to an
 * admitted object after the call.
 */
struct pol_scratch;
struct pol_scratch	*pol_scratch_new(void);
void			 pol_scratch_free(struct pol_scratch *);
/* pol_admit_update keeping its request in s (NULL: nothing kept). */
int	pol_admit_reuse(const struct pol_set *, struct pol_scratch *s,
	    json_t *object, json_t *old_object, const char *operation,
	    const struct jp_env *env, struct pol_verdict *out);
/* flags of pol_evaluate */
#define POL_ALL		0x1	/* every rule that matched: passes and skips
				   too, as `kyverno test` reports them */
/*
 * Values a test gives in place of context entries (the Kyverno CLI's
 * values file), each an object of entry name -> value, borrowed; any may
 * be NULL.  The most specific wins: by_rule["POLICY/RULE"], then
 * by_policy["POLICY"], then global.  An entry given a value is not
 * loaded.  namespaces (name -> labels object) gives namespaceSelector
 * the labels of each namespace, as the values file's namespaceSelector
 * list does: a namespace it does not name has no labels.
 */
struct pol_values {
	json_t	*global;
	json_t	*by_policy;
	json_t	*by_rule;
	json_t	*namespaces;
};

/* pol_admit_update with flags and values (may be NULL). */
int	pol_evaluate(const struct pol_set *, json_t *object,
	    json_t *old_object, const char *operation,
	    const struct jp_env *env, int flags, const struct pol_values *,
	    struct pol_verdict *out);
/* "fail", "error", "pass", "skip". */
const char *pol_outcome_name(enum pol_outcome);
void	pol_verdict_clear(struct pol_verdict *);

/*
 * Kyverno variable substitution on a string: every {{ expr }} is replaced
 * by the JMESPath result on ctx (nested {{ }} resolved inside out, "\{{"
 * escapes).  A string that is exactly one {{ }} keeps the result's JSON
 * type.  Returns a new reference, or NULL with *err (owned).
 */
json_t	*pol_substitute(const char *text, json_t *ctx,
	    const struct jp_env *env, char **err);

/*
 * Evaluates one Kyverno condition operator ("Equals", "AnyIn",
 * "DurationGreaterThan", ...; any case, deprecated spellings too) on key
 * and value (borrowed, already substituted; NULL reads as null).  Returns
 * 1 true, 0 false, -1 with *err (owned) for an unknown operator.  Operands
 * that cannot be compared make the operator false, never an error, as in
 * Kyverno, so a policy decides here as it does in the cluster.
 */
int	pol_operator(const char *op, json_t *key, json_t *value, char **err);

#endif /* POLICY_H */
