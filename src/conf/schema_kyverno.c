/*
 * Schema of Kyverno's ClusterPolicy and Policy as far as remediate
 * evaluates them: validate rules (deny, pattern, anyPattern, foreach),
 * match/exclude, preconditions, context entries (variable, configMap,
 * apiCall).  What we do not evaluate (mutate, generate, verifyImages,
 * podSecurity, CEL) is refused with one clear line: a policy that silently
 * did nothing would let every action through.  Kyverno fields that do not
 * change a validate decision are accepted by name.
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
	"deny, pattern, anyPattern and foreach"

static const struct snode t_patterns = { .kind = S_ARRAY,
    .elem = &conf_t_any, .flags = SF_NONEMPTY };

/* Exactly one check: Kyverno refuses a validate that gives two. */
static void
check_post(struct sctx *c, json_t *o)
{
	static const char *const checks[] = { "deny", "pattern", "anyPattern",
	    "foreach", "podSecurity", "cel", "manifests", "assert" };
	size_t i, n = 0;

	for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		n += json_object_get(o, checks[i]) != NULL;
	if (n == 0)
		conf_serr(c, conf_sloc(c, o, NULL), NULL, "missing a check: "
		    "give deny, pattern, anyPattern or foreach");
	else if (n > 1)
		conf_serr(c, conf_sloc(c, o, NULL), NULL, "gives %zu checks: "
		    "Kyverno allows one of deny, pattern, anyPattern and "
		    "foreach per rule", n);
}

static const struct snode t_context;
static const struct snode t_foreach_list;

static const struct sfield foreach_fields[] = {
	{ "list", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "elementScope", &conf_t_bool, 0, NULL, NULL },
	{ "context", &t_context, 0, NULL, NULL },
	{ "preconditions", &t_conditions, 0, NULL, NULL },
	{ "deny", &t_deny, 0, NULL, NULL },
	{ "pattern", &conf_t_any, 0, NULL, NULL },
	{ "anyPattern", &t_patterns, 0, NULL, NULL },
	{ "foreach", &t_foreach_list, 0, NULL, NULL },
	END
};
static const struct snode t_foreach = { .kind = S_OBJECT,
    .fields = foreach_fields, .post = check_post };
static const struct snode t_foreach_list = { .kind = S_ARRAY,
    .elem = &t_foreach, .flags = SF_NONEMPTY };

static const struct sfield validate_fields[] = {
	{ "message", &conf_t_string, 0, NULL, NULL },
	{ "deny", &t_deny, 0, NULL, NULL },
	{ "pattern", &conf_t_any, 0, NULL, NULL },
	{ "anyPattern", &t_patterns, 0, NULL, NULL },
	{ "foreach", &t_foreach_list, 0, NULL, NULL },
	{ "failureAction", &t_action, 0, NULL, NULL },
	{ "allowExistingViolations", &conf_t_bool, 0, NULL, NULL },
	{ "failureActionOverrides", &conf_t_reject, 0, "validate.%s is not "
	    "supported", "use spec.validationFailureActionOverrides" },
	{ "podSecurity", &conf_t_reject, 0, VALIDATE_ONLY,
	    "write the Pod Security checks as pattern rules" },
	{ "cel", &conf_t_reject, 0, VALIDATE_ONLY,
	    "CEL is not evaluated: write the check as deny.conditions" },
	{ "manifests", &conf_t_reject, 0, VALIDATE_ONLY,
	    "manifest signatures are not verified" },
	{ "assert", &conf_t_reject, 0, VALIDATE_ONLY,
	    "write the check as a pattern" },
	END
};

static const struct snode t_validate = { .kind = S_OBJECT,
    .fields = validate_fields, .post = check_post };

static const struct sfield variable_fields[] = {
	{ "value", &conf_t_any, 0, NULL, NULL },
	{ "jmesPath", &conf_t_string, 0, NULL, NULL },
	{ "default", &conf_t_any, 0, NULL, NULL },
	END
};
static const struct snode t_variable = { .kind = S_OBJECT,
    .fields = variable_fields };

#define CONTEXT_ONLY	"context entries of type %s are not supported: " \
	"variable, configMap and apiCall entries are"

static const struct sfield configmap_fields[] = {
	{ "name", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "namespace", &conf_t_string, 0, NULL, NULL },
	END
};
static const struct snode t_configmap = { .kind = S_OBJECT,
    .fields = configmap_fields };

static const struct sfield apicall_fields[] = {
	{ "urlPath", &conf_t_nonempty, 0, NULL, NULL },
	{ "method", &conf_t_string, 0, NULL, NULL },
	{ "jmesPath", &conf_t_string, 0, NULL, NULL },
	{ "default", &conf_t_any, 0, NULL, NULL },
	{ "data", &conf_t_reject, 0, "apiCall.%s is not supported",
	    "only a GET of one object is answered from the cluster view" },
	{ "service", &conf_t_reject, 0, "apiCall.%s is not supported: "
	    "remediate calls no service while it decides", NULL },
	END
};
static const struct snode t_apicall = { .kind = S_OBJECT,
    .fields = apicall_fields };

static const struct sfield context_fields[] = {
	{ "name", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "variable", &t_variable, 0, NULL, NULL },
	{ "configMap", &t_configmap, 0, NULL, NULL },
	{ "apiCall", &t_apicall, 0, NULL, NULL },
	{ "imageRegistry", &conf_t_reject, 0, CONTEXT_ONLY,
	    "image registries are not read while deciding" },
	{ "globalReference", &conf_t_reject, 0, CONTEXT_ONLY,
	    "read live objects with lookup(kind, namespace, name, path)" },
	END
};
static const struct snode t_context_entry = { .kind = S_OBJECT,
    .fields = context_fields };
static const struct snode t_context = { .kind = S_ARRAY,
    .elem = &t_context_entry };

#define RULE_ONLY	"%s rules are not supported: remediate evaluates " \
	"validate rules only"

static const struct sfield rule_fields[] = {
	{ "name", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "match", &t_match, F_REQUIRED, NULL, NULL },
	{ "exclude", &t_exclude, 0, NULL, NULL },
	{ "preconditions", &t_conditions, 0, NULL, NULL },
	{ "context", &t_context, 0, NULL, NULL },
	{ "validate", &t_validate, 0, NULL, NULL },
	{ "skipBackgroundRequests", &conf_t_bool, 0, NULL, NULL },
	/* Kyverno fields without effect on a validate decision here */
	{ "reportProperties", &conf_t_strmap, 0, NULL, NULL },
	{ "imageExtractors", &conf_t_reject, 0, "%s is not supported",
	    "images.* variables are not built for custom resources" },
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

static const char *const apply_rules[] = { "All", "One", NULL };
static const struct snode t_apply_rules = { .kind = S_ENUM,
    .values = apply_rules };

static const struct sfield webhook_config_fields[] = {
	{ "timeoutSeconds", &conf_t_uint, 0, NULL, NULL },
	{ "failurePolicy", &conf_t_reject, 0, "webhookConfiguration.%s is not "
	    "supported", "use spec.failurePolicy" },
	{ "matchConditions", &conf_t_reject, 0, "webhookConfiguration.%s is "
	    "not supported: CEL is not evaluated", NULL },
	END
};
static const struct snode t_webhook_config = { .kind = S_OBJECT,
    .fields = webhook_config_fields };

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
	{ "applyRules", &t_apply_rules, 0, NULL, NULL },
	/* for mutate and generate rules, which are refused one by one */
	{ "mutateExistingOnPolicyUpdate", &conf_t_bool, 0, NULL, NULL },
	{ "generateExisting", &conf_t_bool, 0, NULL, NULL },
	{ "generateExistingOnPolicyUpdate", &conf_t_bool, 0, NULL, NULL },
	{ "useServerSideApply", &conf_t_bool, 0, NULL, NULL },
	{ "webhookConfiguration", &t_webhook_config, 0, NULL, NULL },
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
