/*
 * Schema of Kyverno's ClusterPolicy and Policy as far as remediate
 * evaluates them: validate rules with deny conditions, match/exclude,
 * preconditions, variable context entries.  Rule types we do not evaluate
 * (mutate, generate, verifyImages, validate patterns, CEL) are refused
 * with one clear line: a policy that silently did nothing would let every
 * action through.
 */
#include <string.h>

#include "conf/schema.h"

#define END	{ NULL, NULL, 0, NULL, NULL }

static const char *const actions[] = { "Enforce", "Audit", "enforce",
    "audit", NULL };
static const struct snode t_action = { .kind = S_ENUM, .values = actions };

static const char *const operators[] = {
	"Equals", "NotEquals", "In", "NotIn", "AnyIn", "AllIn", "AnyNotIn",
	"AllNotIn", "GreaterThanOrEquals", "GreaterThan", "LessThanOrEquals",
	"LessThan", "DurationGreaterThanOrEquals", "DurationGreaterThan",
	"DurationLessThanOrEquals", "DurationLessThan", "Equal", "NotEqual",
	NULL
};
static const struct snode t_operator = { .kind = S_ENUM,
    .values = operators };

static const struct sfield condition_fields[] = {
	{ "key", &conf_t_any, F_REQUIRED, NULL, NULL },
	{ "operator", &t_operator, F_REQUIRED, NULL, NULL },
	{ "value", &conf_t_any, 0, NULL, NULL },
	{ "message", &conf_t_string, 0, NULL, NULL },
	END
};
static const struct snode t_condition = { .kind = S_OBJECT,
    .fields = condition_fields };
static const struct snode t_conditions_list = { .kind = S_ARRAY,
    .elem = &t_condition };

static const struct sfield anyall_fields[] = {
	{ "any", &t_conditions_list, 0, NULL, NULL },
	{ "all", &t_conditions_list, 0, NULL, NULL },
	END
};
/* Conditions: {any: [...], all: [...]}, or the older bare list (all). */
static const struct snode t_conditions = { .kind = S_OBJECT,
    .flags = SF_ORLIST, .fields = anyall_fields, .elem = &t_condition };

/* ---- match / exclude ---------------------------------------------------- */

static const char *const sel_ops[] = { "In", "NotIn", "Exists",
    "DoesNotExist", NULL };
static const struct snode t_sel_op = { .kind = S_ENUM, .values = sel_ops };
static const struct sfield expr_fields[] = {
	{ "key", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "operator", &t_sel_op, F_REQUIRED, NULL, NULL },
	{ "values", &conf_t_strlist, 0, NULL, NULL },
	END
};
static const struct snode t_expr = { .kind = S_OBJECT,
    .fields = expr_fields };
static const struct snode t_exprs = { .kind = S_ARRAY, .elem = &t_expr };
static const struct sfield selector_fields[] = {
	{ "matchLabels", &conf_t_strmap, 0, NULL, NULL },
	{ "matchExpressions", &t_exprs, 0, NULL, NULL },
	END
};
static const struct snode t_selector = { .kind = S_OBJECT,
    .fields = selector_fields };

static const char *const ops[] = { "CREATE", "UPDATE", "DELETE", "CONNECT",
    NULL };
static const struct snode t_op = { .kind = S_ENUM, .values = ops };
static const struct snode t_ops = { .kind = S_ARRAY, .elem = &t_op };

static const struct sfield resources_fields[] = {
	{ "kinds", &conf_t_strlist, 0, NULL, NULL },
	{ "name", &conf_t_string, 0, NULL, NULL },
	{ "names", &conf_t_strlist, 0, NULL, NULL },
	{ "namespaces", &conf_t_strlist, 0, NULL, NULL },
	{ "annotations", &conf_t_strmap, 0, NULL, NULL },
	{ "selector", &t_selector, 0, NULL, NULL },
	{ "namespaceSelector", &t_selector, 0, NULL, NULL },
	{ "operations", &t_ops, 0, NULL, NULL },
	END
};
static const struct snode t_resources = { .kind = S_OBJECT,
    .fields = resources_fields };

static const struct sfield subject_fields[] = {
	{ "kind", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "name", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "namespace", &conf_t_string, 0, NULL, NULL },
	{ "apiGroup", &conf_t_string, 0, NULL, NULL },
	END
};
static const struct snode t_subject = { .kind = S_OBJECT,
    .fields = subject_fields };
static const struct snode t_subjects = { .kind = S_ARRAY,
    .elem = &t_subject };

static const struct sfield filter_fields[] = {
	{ "resources", &t_resources, 0, NULL, NULL },
	{ "subjects", &t_subjects, 0, NULL, NULL },
	{ "roles", &conf_t_strlist, 0, NULL, NULL },
	{ "clusterRoles", &conf_t_strlist, 0, NULL, NULL },
	END
};
static const struct snode t_filter = { .kind = S_OBJECT,
    .fields = filter_fields };
static const struct snode t_filters = { .kind = S_ARRAY,
    .elem = &t_filter };

static const struct sfield match_fields[] = {
	{ "any", &t_filters, 0, NULL, NULL },
	{ "all", &t_filters, 0, NULL, NULL },
	/* the older form: one filter directly under match */
	{ "resources", &t_resources, 0, NULL, NULL },
	{ "subjects", &t_subjects, 0, NULL, NULL },
	{ "roles", &conf_t_strlist, 0, NULL, NULL },
	{ "clusterRoles", &conf_t_strlist, 0, NULL, NULL },
	END
};

static void
match_post(struct sctx *c, json_t *o)
{
	if (json_object_size(o) == 0)
		conf_serr(c, conf_sloc(c, o, NULL), NULL, "matches nothing: "
		    "give any, all or resources");
}

static const struct snode t_match = { .kind = S_OBJECT,
    .fields = match_fields, .post = match_post };
static const struct snode t_exclude = { .kind = S_OBJECT,
    .fields = match_fields };

/* ---- validate, context, rules ------------------------------------------ */

static const struct sfield deny_fields[] = {
	{ "conditions", &t_conditions, 0, NULL, NULL },
	END
};
static const struct snode t_deny = { .kind = S_OBJECT,
    .fields = deny_fields };

#define VALIDATE_ONLY	"validate.%s is not supported: remediate evaluates " \
	"validate.deny conditions only"

static const struct sfield validate_fields[] = {
	{ "message", &conf_t_string, 0, NULL, NULL },
	{ "deny", &t_deny, 0, NULL, NULL },
	{ "failureAction", &t_action, 0, NULL, NULL },
	{ "allowExistingViolations", &conf_t_bool, 0, NULL, NULL },
	{ "pattern", &conf_t_reject, 0, VALIDATE_ONLY,
	    "express the check as deny.conditions" },
	{ "anyPattern", &conf_t_reject, 0, VALIDATE_ONLY,
	    "express the check as deny.conditions" },
	{ "foreach", &conf_t_reject, 0, VALIDATE_ONLY, NULL },
	{ "podSecurity", &conf_t_reject, 0, VALIDATE_ONLY, NULL },
	{ "cel", &conf_t_reject, 0, VALIDATE_ONLY, NULL },
	{ "manifests", &conf_t_reject, 0, VALIDATE_ONLY, NULL },
	{ "assert", &conf_t_reject, 0, VALIDATE_ONLY, NULL },
	END
};

static void
validate_post(struct sctx *c, json_t *o)
{
	if (json_object_get(o, "deny") == NULL && json_object_size(o) > 0 &&
	    json_object_get(o, "pattern") == NULL &&
	    json_object_get(o, "anyPattern") == NULL &&
	    json_object_get(o, "foreach") == NULL &&
	    json_object_get(o, "podSecurity") == NULL &&
	    json_object_get(o, "cel") == NULL &&
	    json_object_get(o, "manifests") == NULL &&
	    json_object_get(o, "assert") == NULL)
		conf_serr(c, conf_sloc(c, o, NULL), NULL, "missing "
		    "required field \"deny\"");
}

static const struct snode t_validate = { .kind = S_OBJECT,
    .fields = validate_fields, .post = validate_post };

static const struct sfield variable_fields[] = {
	{ "value", &conf_t_any, 0, NULL, NULL },
	{ "jmesPath", &conf_t_string, 0, NULL, NULL },
	{ "default", &conf_t_any, 0, NULL, NULL },
	END
};
static const struct snode t_variable = { .kind = S_OBJECT,
    .fields = variable_fields };

#define CONTEXT_ONLY	"context entries of type %s are not supported: " \
	"only variable entries are"
#define CONTEXT_HINT	"read live objects with lookup(kind, namespace, " \
	"name, path) in the expression"

static const struct sfield context_fields[] = {
	{ "name", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "variable", &t_variable, 0, NULL, NULL },
	{ "apiCall", &conf_t_reject, 0, CONTEXT_ONLY, CONTEXT_HINT },
	{ "configMap", &conf_t_reject, 0, CONTEXT_ONLY, CONTEXT_HINT },
	{ "imageRegistry", &conf_t_reject, 0, CONTEXT_ONLY, NULL },
	{ "globalReference", &conf_t_reject, 0, CONTEXT_ONLY, NULL },
	END
};
static const struct snode t_context = { .kind = S_OBJECT,
    .fields = context_fields };
static const struct snode t_contexts = { .kind = S_ARRAY,
    .elem = &t_context };

#define RULE_ONLY	"%s rules are not supported: remediate evaluates " \
	"validate rules only"

static const struct sfield rule_fields[] = {
	{ "name", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "match", &t_match, F_REQUIRED, NULL, NULL },
	{ "exclude", &t_exclude, 0, NULL, NULL },
	{ "preconditions", &t_conditions, 0, NULL, NULL },
	{ "context", &t_contexts, 0, NULL, NULL },
	{ "validate", &t_validate, 0, NULL, NULL },
	{ "skipBackgroundRequests", &conf_t_bool, 0, NULL, NULL },
	{ "mutate", &conf_t_reject, 0, RULE_ONLY, NULL },
	{ "generate", &conf_t_reject, 0, RULE_ONLY, NULL },
	{ "verifyImages", &conf_t_reject, 0, RULE_ONLY, NULL },
	{ "celPreconditions", &conf_t_reject, 0, "%s are not supported",
	    "use preconditions with JMESPath" },
	END
};

static void
rule_post(struct sctx *c, json_t *r)
{
	/* a mutate/generate/verifyImages rule was refused already */
	if (json_object_get(r, "validate") == NULL &&
	    json_object_get(r, "mutate") == NULL &&
	    json_object_get(r, "generate") == NULL &&
	    json_object_get(r, "verifyImages") == NULL)
		conf_serr(c, conf_sloc(c, r, NULL), NULL, "missing required "
		    "field \"validate\"");
}

static const struct snode t_rule = { .kind = S_OBJECT,
    .fields = rule_fields, .post = rule_post };
static const struct snode t_rules = { .kind = S_ARRAY, .elem = &t_rule,
    .flags = SF_NONEMPTY };

static const char *const failure_policies[] = { "Fail", "Ignore", NULL };
static const struct snode t_failure_policy = { .kind = S_ENUM,
    .values = failure_policies };

static const struct sfield spec_fields[] = {
	{ "validationFailureAction", &t_action, 0, NULL, NULL },
	{ "background", &conf_t_bool, 0, NULL, NULL },
	{ "rules", &t_rules, F_REQUIRED, NULL, NULL },
	{ "failurePolicy", &t_failure_policy, 0, NULL, NULL },
	{ "webhookTimeoutSeconds", &conf_t_uint, 0, NULL, NULL },
	{ "admission", &conf_t_bool, 0, NULL, NULL },
	{ "emitWarning", &conf_t_bool, 0, NULL, NULL },
	{ "schemaValidation", &conf_t_bool, 0, NULL, NULL },
	{ "validationFailureActionOverrides", &conf_t_any, 0, NULL, NULL },
	END
};
static const struct snode t_spec = { .kind = S_OBJECT,
    .fields = spec_fields };

static const struct sfield policy_fields[] = {
	{ "apiVersion", &conf_t_string, F_REQUIRED, NULL, NULL },
	{ "kind", &conf_t_string, F_REQUIRED, NULL, NULL },
	{ "metadata", &conf_t_metadata, F_REQUIRED, NULL, NULL },
	{ "spec", &t_spec, F_REQUIRED, NULL, NULL },
	{ "status", &conf_t_any, 0, NULL, NULL },
	END
};

const struct snode conf_t_kyverno_policy = { .kind = S_OBJECT,
    .fields = policy_fields };
