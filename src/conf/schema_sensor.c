/*
 * Schema of Argo Events' Sensor as remediate runs it: dependencies with
 * data/expr/time/context filters, and triggers of four types (k8s, http,
 * log, and remediate's native actions), each with Argo's parameters,
 * retryStrategy and rateLimit, plus the `guardrails` block beside
 * `template` (this project's extension).  Argo trigger types that do not
 * run here are refused by name.
 *
 * Two mistakes of the seed article get special care: `rateLimit` written
 * inside `template` (Argo reads it one level up) is moved where it belongs
 * with a warning, and a k8s patch/update/delete of an object that has only
 * generateName (which can only be created) is an error.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "conf/schema.h"

#define END	{ NULL, NULL, 0, NULL, NULL }

static const char *const logical_ops[] = { "and", "or", "", NULL };
static const struct snode t_logical = { .kind = S_ENUM,
    .values = logical_ops };

/* ---- dependencies -------------------------------------------------------- */

static const char *const json_types[] = { "string", "number", "bool", NULL };
static const struct snode t_json_type = { .kind = S_ENUM,
    .values = json_types };
static const char *const comparators[] = { "=", "!=", ">", ">=", "<", "<=",
    "", NULL };
static const struct snode t_comparator = { .kind = S_ENUM,
    .values = comparators };
static const struct snode t_filter_values = { .kind = S_ARRAY,
    .elem = &conf_t_scalar, .flags = SF_NONEMPTY };

static const struct sfield data_filter_fields[] = {
	{ "path", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "type", &t_json_type, F_REQUIRED, NULL, NULL },
	{ "value", &t_filter_values, F_REQUIRED, NULL, NULL },
	{ "comparator", &t_comparator, 0, NULL, NULL },
	{ "template", &conf_t_string, 0, NULL, NULL },
	END
};

/* A number filter's values must be numbers, a bool filter's booleans. */
static void
data_filter_post(struct sctx *c, json_t *o)
{
	const char *type = json_string_value(json_object_get(o, "type"));
	json_t *vals = json_object_get(o, "value"), *v;
	const char *s;
	char *end;
	size_t i;

	if (type == NULL || !json_is_array(vals))
		return;
	json_array_foreach(vals, i, v) {
		if (!json_is_string(v))
			continue;
		s = json_string_value(v);
		if (strcmp(type, "number") == 0) {
			strtod(s, &end);
			if (end != s && *end == '\0')
				continue;
		} else if (strcmp(type, "bool") == 0) {
			if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)
				continue;
		} else
			continue;
		conf_serr(c, conf_loc_value(c->doc, vals, NULL, i), "value",
		    "\"%s\" is not a %s", s, type);
	}
}

static const struct snode t_data_filter = { .kind = S_OBJECT,
    .fields = data_filter_fields, .post = data_filter_post };

static const struct sfield payload_field_fields[] = {
	{ "name", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "path", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	END
};
static const struct snode t_payload_field = { .kind = S_OBJECT,
    .fields = payload_field_fields };
static const struct snode t_payload_fields = { .kind = S_ARRAY,
    .elem = &t_payload_field };

static const struct sfield expr_filter_fields[] = {
	{ "expr", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "fields", &t_payload_fields, F_REQUIRED, NULL, NULL },
	END
};
static const struct snode t_expr_filter = { .kind = S_OBJECT,
    .fields = expr_filter_fields };

static const struct sfield time_filter_fields[] = {
	{ "start", &conf_t_clock, F_REQUIRED, NULL, NULL },
	{ "stop", &conf_t_clock, F_REQUIRED, NULL, NULL },
	{ "timezone", &conf_t_nonempty, 0, NULL, NULL },
	END
};
static const struct snode t_time_filter = { .kind = S_OBJECT,
    .fields = time_filter_fields };

static const struct sfield context_filter_fields[] = {
	{ "id", &conf_t_string, 0, NULL, NULL },
	{ "source", &conf_t_string, 0, NULL, NULL },
	{ "specversion", &conf_t_string, 0, NULL, NULL },
	{ "type", &conf_t_string, 0, NULL, NULL },
	{ "datacontenttype", &conf_t_string, 0, NULL, NULL },
	{ "subject", &conf_t_string, 0, NULL, NULL },
	{ "time", &conf_t_time, 0, NULL, NULL },
	END
};
static const struct snode t_context_filter = { .kind = S_OBJECT,
    .fields = context_filter_fields };

static const struct snode t_data_filters = { .kind = S_ARRAY,
    .elem = &t_data_filter };
static const struct snode t_expr_filters = { .kind = S_ARRAY,
    .elem = &t_expr_filter };

static const struct sfield filters_fields[] = {
	{ "data", &t_data_filters, 0, NULL, NULL },
	{ "exprs", &t_expr_filters, 0, NULL, NULL },
	{ "time", &t_time_filter, 0, NULL, NULL },
	{ "context", &t_context_filter, 0, NULL, NULL },
	{ "dataLogicalOperator", &t_logical, 0, NULL, NULL },
	{ "exprLogicalOperator", &t_logical, 0, NULL, NULL },
	{ "script", &conf_t_reject, 0, "%s: Lua filters are not supported",
	    "use filters.exprs" },
	END
};
static const struct snode t_filters = { .kind = S_OBJECT,
    .fields = filters_fields };

static const struct sfield dependency_fields[] = {
	{ "name", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "eventSourceName", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "eventName", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "filters", &t_filters, 0, NULL, NULL },
	{ "filtersLogicalOperator", &t_logical, 0, NULL, NULL },
	{ "transform", &conf_t_reject, 0, "%s: event transforms (jq, Lua) "
	    "are not supported", "select what you need with parameters "
	    "or {{ .Input... }} templates" },
	END
};
static const struct snode t_dependency = { .kind = S_OBJECT,
    .fields = dependency_fields };
static const struct snode t_dependencies = { .kind = S_ARRAY,
    .elem = &t_dependency, .flags = SF_NONEMPTY };

/* ---- trigger parameters -------------------------------------------------- */

static const struct sfield param_src_fields[] = {
	{ "dependencyName", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "contextKey", &conf_t_string, 0, NULL, NULL },
	{ "contextTemplate", &conf_t_string, 0, NULL, NULL },
	{ "dataKey", &conf_t_string, 0, NULL, NULL },
	{ "dataTemplate", &conf_t_string, 0, NULL, NULL },
	{ "value", &conf_t_string, 0, NULL, NULL },
	{ "useRawData", &conf_t_bool, 0, NULL, NULL },
	END
};
static const struct snode t_param_src = { .kind = S_OBJECT,
    .fields = param_src_fields };

static const char *const param_ops[] = { "append", "overwrite", "prepend",
    "", NULL };
static const struct snode t_param_op = { .kind = S_ENUM,
    .values = param_ops };

static const struct sfield param_fields[] = {
	{ "src", &t_param_src, F_REQUIRED, NULL, NULL },
	{ "dest", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "operation", &t_param_op, 0, NULL, NULL },
	END
};
static const struct snode t_param = { .kind = S_OBJECT,
    .fields = param_fields };
static const struct snode t_params = { .kind = S_ARRAY, .elem = &t_param };

/* An http payload parameter may have an empty dest: the whole body. */
static const struct sfield payload_param_fields[] = {
	{ "src", &t_param_src, F_REQUIRED, NULL, NULL },
	{ "dest", &conf_t_string, F_REQUIRED, NULL, NULL },
	{ "operation", &t_param_op, 0, NULL, NULL },
	END
};
static const struct snode t_payload_param = { .kind = S_OBJECT,
    .fields = payload_param_fields };
static const struct snode t_payload_params = { .kind = S_ARRAY,
    .elem = &t_payload_param };

/* ---- k8s ----------------------------------------------------------------- */

#define SOURCE_NOTE	"source.%s is not supported: give the object inline " \
	"as source.resource"

static const struct sfield k8s_source_fields[] = {
	{ "resource", &conf_t_anyobj, F_REQUIRED, NULL, NULL },
	{ "inline", &conf_t_reject, 0, SOURCE_NOTE, NULL },
	{ "file", &conf_t_reject, 0, SOURCE_NOTE, NULL },
	{ "url", &conf_t_reject, 0, SOURCE_NOTE, NULL },
	{ "configmap", &conf_t_reject, 0, SOURCE_NOTE, NULL },
	{ "git", &conf_t_reject, 0, SOURCE_NOTE, NULL },
	{ "s3", &conf_t_reject, 0, SOURCE_NOTE, NULL },
	END
};

static void
k8s_source_pre(struct sctx *c, json_t *o)
{
	size_t i;

	/* one missing-field error is enough when another kind was given */
	if (json_object_get(o, "resource") != NULL)
		return;
	for (i = 1; k8s_source_fields[i].name != NULL; i++)
		if (json_object_get(o, k8s_source_fields[i].name) != NULL)
			json_object_set_new(o, "resource", json_object());
	(void)c;
}

static const struct snode t_k8s_source = { .kind = S_OBJECT,
    .fields = k8s_source_fields, .pre = k8s_source_pre };

static const char *const k8s_ops[] = { "create", "update", "patch",
    "delete", NULL };
static const struct snode t_k8s_op = { .kind = S_ENUM, .values = k8s_ops };
static const char *const patch_strategies[] = {
	"application/merge-patch+json",
	"application/strategic-merge-patch+json",
	"application/json-patch+json",
	"application/apply-patch+yaml", NULL
};
static const struct snode t_patch_strategy = { .kind = S_ENUM,
    .values = patch_strategies };

static const struct sfield k8s_fields[] = {
	{ "source", &t_k8s_source, F_REQUIRED, NULL, NULL },
	{ "operation", &t_k8s_op, 0, NULL, NULL },
	{ "parameters", &t_params, 0, NULL, NULL },
	{ "patchStrategy", &t_patch_strategy, 0, NULL, NULL },
	{ "liveObject", &conf_t_bool, 0, NULL, NULL },
	END
};

/* Whether a parameter of the list sets dest. */
static int
param_sets(json_t *params, const char *dest)
{
	size_t i;
	json_t *p;

	json_array_foreach(params, i, p)
		if (json_is_string(json_object_get(p, "dest")) &&
		    strcmp(json_string_value(json_object_get(p, "dest")),
		    dest) == 0)
			return 1;
	return 0;
}

static void
k8s_post(struct sctx *c, json_t *k)
{
	json_t *res = json_object_get(json_object_get(k, "source"),
	    "resource"), *meta, *params = json_object_get(k, "parameters");
	const char *op = json_string_value(json_object_get(k, "operation"));
	const char *ps = json_string_value(json_object_get(k,
	    "patchStrategy"));
	int has_name, has_gen;

	/*
	 * The patch body is source.resource, an object, as in Argo Events.
	 * A JSON patch is a list of operations: the API server refuses an
	 * object (400), and policies would have judged a merge patch.  The
	 * client sends no server-side apply (it needs a fieldManager).  Both
	 * would fail only when acting, so refuse them here.
	 */
	if (ps && strcmp(ps, "application/json-patch+json") == 0)
		conf_serr(c, conf_sloc(c, k, "patchStrategy"), "patchStrategy",
		    "%s is not supported: the patch sent is source.resource, "
		    "an object, and a JSON patch is a list of operations", ps);
	else if (ps && strcmp(ps, "application/apply-patch+yaml") == 0)
		conf_serr(c, conf_sloc(c, k, "patchStrategy"), "patchStrategy",
		    "%s is not supported: remediate sends no server-side "
		    "apply", ps);
	if (ps && (strstr(ps, "json-patch") || strstr(ps, "apply-patch")))
		diag_hint(c->d, "use application/merge-patch+json, or "
		    "application/strategic-merge-patch+json to merge lists "
		    "such as containers by name");
	if (!json_is_object(res) || json_object_size(res) == 0)
		return;
	if (!json_is_string(json_object_get(res, "kind")) ||
	    !json_is_string(json_object_get(res, "apiVersion")))
		conf_serr(c, conf_sloc(c, res, NULL), "source.resource",
		    "the object needs apiVersion and kind");
	meta = json_object_get(res, "metadata");
	has_name = json_is_string(json_object_get(meta, "name")) ||
	    param_sets(params, "metadata.name");
	has_gen = json_is_string(json_object_get(meta, "generateName")) ||
	    param_sets(params, "metadata.generateName");
	if (op == NULL || strcmp(op, "create") == 0) {
		if (!has_name && !has_gen)
			conf_serr(c, conf_sloc(c, res, NULL),
			    "source.resource", "the object to create needs "
			    "metadata.name or metadata.generateName");
		return;
	}
	if (has_name)
		return;
	if (has_gen) {
		conf_serr(c, conf_sloc(c, k, "operation"), "operation",
		    "%s needs an object with metadata.name, and this one has "
		    "only metadata.generateName", op);
		diag_hint(c->d, "use operation: create: an object with only "
		    "generateName can only be created");
	} else
		conf_serr(c, conf_sloc(c, k, "operation"), "operation",
		    "%s needs an object with metadata.name", op);
}

static const struct snode t_k8s = { .kind = S_OBJECT, .fields = k8s_fields,
    .post = k8s_post };

/* ---- http, log ----------------------------------------------------------- */

static const struct sfield secret_fields[] = {
	{ "name", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "key", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "optional", &conf_t_bool, 0, NULL, NULL },
	END
};
static const struct snode t_secret = { .kind = S_OBJECT,
    .fields = secret_fields };

/*
 * Argo's Secret and ConfigMap selectors (read from the mounted secrets
 * directory), or remediate's {file: PATH} / {env: NAME}: one of them.
 */
static const struct sfield value_from_fields[] = {
	{ "secretKeyRef", &t_secret, 0, NULL, NULL },
	{ "configMapKeyRef", &t_secret, 0, NULL, NULL },
	{ "file", &conf_t_nonempty, 0, NULL, NULL },
	{ "env", &conf_t_nonempty, 0, NULL, NULL },
	END
};

static void
value_from_post(struct sctx *c, json_t *o)
{
	static const char *const keys[] = { "secretKeyRef",
	    "configMapKeyRef", "file", "env" };
	size_t i, n = 0;

	for (i = 0; i < UTIL_ARRAY_LEN(keys); i++)
		n += json_object_get(o, keys[i]) != NULL;
	if (n != 1)
		conf_serr(c, conf_sloc(c, o, NULL), NULL, "give exactly one of "
		    "secretKeyRef, configMapKeyRef, file or env");
}

static const struct snode t_value_from = { .kind = S_OBJECT,
    .fields = value_from_fields, .post = value_from_post };
static const struct sfield secure_header_fields[] = {
	{ "name", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "valueFrom", &t_value_from, F_REQUIRED, NULL, NULL },
	END
};
static const struct snode t_secure_header = { .kind = S_OBJECT,
    .fields = secure_header_fields };
static const struct snode t_secure_headers = { .kind = S_ARRAY,
    .elem = &t_secure_header };

static const struct sfield tls_fields[] = {
	{ "caCertSecret", &t_secret, 0, NULL, NULL },
	{ "clientCertSecret", &t_secret, 0, NULL, NULL },
	{ "clientKeySecret", &t_secret, 0, NULL, NULL },
	{ "insecureSkipVerify", &conf_t_bool, 0, NULL, NULL },
	END
};
static const struct snode t_tls = { .kind = S_OBJECT, .fields = tls_fields };

static const struct sfield basic_auth_fields[] = {
	{ "username", &t_secret, F_REQUIRED, NULL, NULL },
	{ "password", &t_secret, F_REQUIRED, NULL, NULL },
	END
};
static const struct snode t_basic_auth = { .kind = S_OBJECT,
    .fields = basic_auth_fields };

static const char *const http_methods[] = { "GET", "POST", "PUT", "PATCH",
    "DELETE", "HEAD", NULL };
static const struct snode t_http_method = { .kind = S_ENUM,
    .values = http_methods };
static const struct snode t_timeout = { .kind = S_INT, .min = 1,
    .max = 3600 };

static const struct sfield http_fields[] = {
	{ "url", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "method", &t_http_method, 0, NULL, NULL },
	{ "payload", &t_payload_params, 0, NULL, NULL },
	{ "parameters", &t_params, 0, NULL, NULL },
	{ "headers", &conf_t_strmap, 0, NULL, NULL },
	{ "secureHeaders", &t_secure_headers, 0, NULL, NULL },
	{ "dynamicHeaders", &t_params, 0, NULL, NULL },
	{ "timeout", &t_timeout, 0, NULL, NULL },
	{ "tls", &t_tls, 0, NULL, NULL },
	{ "basicAuth", &t_basic_auth, 0, NULL, NULL },
	{ "host", &conf_t_string, 0, NULL, NULL },
	END
};
static const struct snode t_http = { .kind = S_OBJECT,
    .fields = http_fields };

static const struct sfield log_fields[] = {
	{ "intervalSeconds", &conf_t_uint, 0, NULL, NULL },
	END
};
static const struct snode t_log = { .kind = S_OBJECT, .fields = log_fields };

/* ---- remediate: native actions ------------------------------------------- */

static const struct sfield bump_fields[] = {
	{ "increment", &conf_t_increment, 0, NULL, NULL },
	{ "cap", &conf_t_quantity, 0, NULL, NULL },
	{ "container", &conf_t_nonempty, 0, NULL, NULL },
	END
};
static const struct snode t_bump = { .kind = S_OBJECT,
    .fields = bump_fields };

static const struct sfield restart_fields[] = {
	{ "gracePeriodSeconds", &conf_t_uint, 0, NULL, NULL },
	END
};
static const struct snode t_restart = { .kind = S_OBJECT,
    .fields = restart_fields };

static const struct sfield sync_backoff_fields[] = {
	{ "duration", &conf_t_duration, 0, NULL, NULL },
	{ "factor", &conf_t_number, 0, NULL, NULL },
	{ "maxDuration", &conf_t_duration, 0, NULL, NULL },
	END
};
static const struct snode t_sync_backoff = { .kind = S_OBJECT,
    .fields = sync_backoff_fields };
static const struct sfield sync_retry_fields[] = {
	{ "limit", &conf_t_uint, 0, NULL, NULL },
	{ "backoff", &t_sync_backoff, 0, NULL, NULL },
	END
};
static const struct snode t_sync_retry = { .kind = S_OBJECT,
    .fields = sync_retry_fields };

static const struct sfield argocd_fields[] = {
	{ "application", &conf_t_nonempty, 0, NULL, NULL },
	{ "namespace", &conf_t_nonempty, 0, NULL, NULL },
	{ "revision", &conf_t_nonempty, 0, NULL, NULL },
	{ "prune", &conf_t_bool, 0, NULL, NULL },
	{ "terminateAfter", &conf_t_duration, 0, NULL, NULL },
	{ "retry", &t_sync_retry, 0, NULL, NULL },
	END
};
static const struct snode t_argocd = { .kind = S_OBJECT,
    .fields = argocd_fields };

static const struct sfield quarantine_fields[] = {
	{ "label", &conf_t_label, 0, NULL, NULL },
	{ "networkPolicy", &conf_t_bool, 0, NULL, NULL },
	END
};
static const struct snode t_quarantine = { .kind = S_OBJECT,
    .fields = quarantine_fields };

static const char *const actions[] = { "bumpMemory", "restartPod",
    "argocdSync", "quarantine" };

static const struct sfield remediate_fields[] = {
	{ "bumpMemory", &t_bump, 0, NULL, NULL },
	{ "restartPod", &t_restart, 0, NULL, NULL },
	{ "argocdSync", &t_argocd, 0, NULL, NULL },
	{ "quarantine", &t_quarantine, 0, NULL, NULL },
	{ "rotateLogs", &conf_t_reject, 0, "%s is not supported: node-local "
	    "log rotation is outside the cluster API's reach", NULL },
	END
};

static void
remediate_post(struct sctx *c, json_t *o)
{
	size_t i, n = 0;
	const char *first = NULL;

	for (i = 0; i < UTIL_ARRAY_LEN(actions); i++) {
		if (json_object_get(o, actions[i]) == NULL)
			continue;
		if (n++ == 0) {
			first = actions[i];
			continue;
		}
		conf_serr(c, conf_skeyloc(c, o, actions[i]), NULL, "one action "
		    "per trigger: %s and %s both given", first, actions[i]);
		diag_hint(c->d, "write a second trigger for %s", actions[i]);
	}
	if (n == 0 && json_object_get(o, "rotateLogs") == NULL)
		conf_serr(c, conf_sloc(c, o, NULL), NULL, "names no action: "
		    "give bumpMemory, restartPod, argocdSync or quarantine");
}

static const struct snode t_remediate = { .kind = S_OBJECT,
    .fields = remediate_fields, .post = remediate_post };

/* ---- template, trigger --------------------------------------------------- */

static const struct sfield by_time_fields[] = {
	{ "cron", &conf_t_cron, F_REQUIRED, NULL, NULL },
	{ "timezone", &conf_t_string, 0, NULL, NULL },
	END
};
static const struct snode t_by_time = { .kind = S_OBJECT,
    .fields = by_time_fields };
static const struct sfield reset_fields[] = {
	{ "byTime", &t_by_time, F_REQUIRED, NULL, NULL },
	END
};
static const struct snode t_reset = { .kind = S_OBJECT,
    .fields = reset_fields };
static const struct snode t_resets = { .kind = S_ARRAY, .elem = &t_reset };

#define UNSUPPORTED	"%s triggers are not supported: remediate runs k8s, " \
	"http, log and remediate triggers"
#define X(name, hint)	{ name, &conf_t_reject, 0, UNSUPPORTED, hint }

static const struct sfield template_fields[] = {
	{ "name", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "conditions", &conf_t_nonempty, 0, NULL, NULL },
	{ "conditionsReset", &t_resets, 0, NULL, NULL },
	{ "k8s", &t_k8s, 0, NULL, NULL },
	{ "http", &t_http, 0, NULL, NULL },
	{ "log", &t_log, 0, NULL, NULL },
	{ "remediate", &t_remediate, 0, NULL, NULL },
	X("argoWorkflow", "create the Workflow with a k8s trigger "
	    "(operation: create)"),
	X("awsLambda", "call the function's URL with an http trigger"),
	X("azureEventHubs", NULL), X("azureServiceBus", NULL),
	X("custom", NULL), X("email", NULL), X("kafka", NULL),
	X("nats", NULL),
	X("openWhisk", "call the action's URL with an http trigger"),
	X("pulsar", NULL),
	X("slack", "post to a Slack-compatible webhook with an http trigger"),
	{ "rateLimit", &conf_t_reject, 0, "%s is given both inside and beside "
	    "template", "keep the one beside template" },
	{ "guardrails", &conf_t_reject, 0, "%s belongs beside template, not "
	    "inside it", "move guardrails out of template, to the same level "
	    "as template:" },
	END
};

static const char *const trigger_types[] = { "k8s", "http", "log",
    "remediate" };

static void
template_post(struct sctx *c, json_t *t)
{
	size_t i, n = 0;
	const char *first = NULL;
	const struct sfield *f;

	for (i = 0; i < UTIL_ARRAY_LEN(trigger_types); i++) {
		if (json_object_get(t, trigger_types[i]) == NULL)
			continue;
		if (n++ == 0) {
			first = trigger_types[i];
			continue;
		}
		conf_serr(c, conf_skeyloc(c, t, trigger_types[i]), NULL,
		    "one trigger type per template: %s and %s both given",
		    first, trigger_types[i]);
		diag_hint(c->d, "write a second trigger for %s",
		    trigger_types[i]);
	}
	if (n > 0)
		return;
	for (f = template_fields; f->name != NULL; f++)
		if (f->type->kind == S_REJECT && json_object_get(t, f->name) &&
		    strcmp(f->name, "rateLimit") != 0 &&
		    strcmp(f->name, "guardrails") != 0)
			return;	/* refused already */
	conf_serr(c, conf_sloc(c, t, NULL), NULL, "names no trigger type: "
	    "give k8s, http, log or remediate");
}

static const struct snode t_template = { .kind = S_OBJECT,
    .fields = template_fields, .post = template_post };

static const char *const units[] = { "Second", "Minute", "Hour", NULL };
static const struct snode t_unit = { .kind = S_ENUM, .values = units };

static void
per_unit_post(struct sctx *c, json_t *v)
{
	if (json_integer_value(v) >= 1)
		return;
	conf_serr(c, conf_loc(c->doc, v), NULL, "a rate limit must let at "
	    "least 1 request through per unit");
	diag_hint(c->d, "remediate never runs without a rate limit; to stop "
	    "a trigger, set guardrails.mode: off");
}

static const struct snode t_per_unit = { .kind = S_INT,
    .post = per_unit_post };

static const struct sfield rate_limit_fields[] = {
	{ "unit", &t_unit, 0, NULL, NULL },
	{ "requestsPerUnit", &t_per_unit, F_REQUIRED, NULL, NULL },
	END
};
static const struct snode t_rate_limit = { .kind = S_OBJECT,
    .fields = rate_limit_fields };

static const struct sfield backoff_fields[] = {
	{ "duration", &(const struct snode){ .kind = S_DURATION,
	    .flags = SF_INTOK }, 0, NULL, NULL },
	{ "factor", &conf_t_number, 0, NULL, NULL },
	{ "jitter", &conf_t_number, 0, NULL, NULL },
	{ "steps", &conf_t_uint, 0, NULL, NULL },
	END
};
static const struct snode t_backoff = { .kind = S_OBJECT,
    .fields = backoff_fields };

static const struct sfield k8s_policy_fields[] = {
	{ "labels", &conf_t_strmap, 0, NULL, NULL },
	{ "backoff", &t_backoff, 0, NULL, NULL },
	{ "errorOnBackoffTimeout", &conf_t_bool, 0, NULL, NULL },
	END
};
static const struct snode t_k8s_policy = { .kind = S_OBJECT,
    .fields = k8s_policy_fields };
static const struct sfield status_policy_fields[] = {
	{ "allow", &(const struct snode){ .kind = S_ARRAY,
	    .elem = &conf_t_int }, F_REQUIRED, NULL, NULL },
	END
};
static const struct snode t_status_policy = { .kind = S_OBJECT,
    .fields = status_policy_fields };
static const struct sfield policy_fields[] = {
	{ "k8s", &t_k8s_policy, 0, NULL, NULL },
	{ "status", &t_status_policy, 0, NULL, NULL },
	END
};
static const struct snode t_policy = { .kind = S_OBJECT,
    .fields = policy_fields };

static const struct sfield trigger_fields[] = {
	{ "template", &t_template, F_REQUIRED, NULL, NULL },
	{ "parameters", &t_params, 0, NULL, NULL },
	{ "policy", &t_policy, 0, NULL, NULL },
	{ "retryStrategy", &t_backoff, 0, NULL, NULL },
	{ "rateLimit", &t_rate_limit, 0, NULL, NULL },
	{ "atLeastOnce", &conf_t_bool, 0, NULL, NULL },
	{ "guardrails", &conf_t_guardrails, 0, NULL, NULL },
	{ "dlqTrigger", &conf_t_reject, 0, "%s: dead-letter triggers are not "
	    "supported", "failed actions are recorded and paged" },
	END
};

/*
 * The seed article writes rateLimit inside template; Argo Events reads it
 * beside template and would silently run unlimited.  Accept it, say so,
 * and move it where every later stage looks for it.
 */
static void
trigger_pre(struct sctx *c, json_t *trig)
{
	json_t *tmpl = json_object_get(trig, "template");
	json_t *rl = json_object_get(tmpl, "rateLimit");
	const char *k;

	if (rl == NULL || json_object_get(trig, "rateLimit") != NULL)
		return;
	conf_swarn(c, conf_skeyloc(c, tmpl, "rateLimit"), "template.rateLimit",
	    "rateLimit belongs beside template, not inside it; accepted");
	diag_hint(c->d, "move rateLimit out of template, to the same level as "
	    "template:");
	json_object_set(trig, "rateLimit", rl);
	k = json_object_iter_key(json_object_iter_at(trig, "rateLimit"));
	conf_marks_copy_key(c->doc->marks, tmpl, "rateLimit", trig, k);
	json_object_del(tmpl, "rateLimit");
}

static const struct snode t_trigger = { .kind = S_OBJECT,
    .fields = trigger_fields, .pre = trigger_pre };
static const struct snode t_triggers = { .kind = S_ARRAY,
    .elem = &t_trigger, .flags = SF_NONEMPTY };

/* ---- spec: checks across dependencies and triggers ----------------------- */

static const char *
dep_name(json_t *dep)
{
	return json_string_value(json_object_get(dep, "name"));
}

/*
 * Reports a second item of list (at path list_path) whose name repeats an
 * earlier one's; name_at is the path from an item to its name.
 */
static void
unique_names(struct sctx *c, json_t *list, const char *list_path,
    const char *name_at, const char *what, json_t *(*holder)(json_t *))
{
	size_t i, j;
	json_t *a, *b;
	const char *na, *nb;
	struct loc first;
	char sub[128];

	for (i = 1; i < json_array_size(list); i++) {
		a = holder(json_array_get(list, i));
		if ((na = json_string_value(json_object_get(a, "name"))) ==
		    NULL)
			continue;
		for (j = 0; j < i; j++) {
			b = holder(json_array_get(list, j));
			nb = json_string_value(json_object_get(b, "name"));
			if (nb == NULL || strcmp(na, nb) != 0)
				continue;
			first = conf_sloc(c, b, "name");
			snprintf(sub, sizeof sub, "%s[%zu]%s", list_path, i,
			    name_at);
			conf_serr(c, conf_sloc(c, a, "name"), sub, "two %s "
			    "named \"%s\"", what, na);
			diag_hint(c->d, "the first is at line %d; names must "
			    "be unique in a sensor", first.line);
			break;
		}
	}
}

static json_t *
self(json_t *v)
{
	return v;
}

static json_t *
template_of(json_t *trig)
{
	return json_object_get(trig, "template");
}

/*
 * Checks that src.dependencyName of each parameter names a dependency;
 * at is the path of the list from the spec.
 */
static void
check_params(struct sctx *c, json_t *params, const char *at,
    const char **deps, size_t n)
{
	size_t i, j;
	json_t *p, *src;
	const char *name, *pick;
	char sub[160];

	json_array_foreach(params, i, p) {
		src = json_object_get(p, "src");
		if ((name = json_string_value(json_object_get(src,
		    "dependencyName"))) == NULL)
			continue;
		for (j = 0; j < n; j++)
			if (strcmp(deps[j], name) == 0)
				break;
		if (j < n)
			continue;
		snprintf(sub, sizeof sub, "%s[%zu].src.dependencyName", at, i);
		conf_serr(c, conf_sloc(c, src, "dependencyName"), sub,
		    "names dependency \"%s\", which this sensor does not "
		    "have", name);
		if ((pick = util_suggest(name, deps, n)) != NULL)
			diag_hint(c->d, "did you mean \"%s\"?", pick);
	}
}

/*
 * conditions: dependency names joined by && and || with parentheses;
 * every name must be a dependency.
 */
static void
check_conditions(struct sctx *c, json_t *tmpl, size_t ti, const char **deps,
    size_t n)
{
	const char *s = json_string_value(json_object_get(tmpl, "conditions"));
	const char *p, *pick;
	char word[256], sub[64];
	size_t len, j;

	if (s == NULL)
		return;
	for (p = s; *p != '\0';) {
		if (strchr(" \t()&|!", *p) != NULL) {
			p++;
			continue;
		}
		len = strcspn(p, " \t()&|!");
		if (len >= sizeof word)
			len = sizeof word - 1;
		memcpy(word, p, len);
		word[len] = '\0';
		p += strcspn(p, " \t()&|!");
		for (j = 0; j < n; j++)
			if (strcmp(deps[j], word) == 0)
				break;
		if (j < n)
			continue;
		snprintf(sub, sizeof sub, "triggers[%zu].template.conditions",
		    ti);
		conf_serr(c, conf_sloc(c, tmpl, "conditions"), sub, "\"%s\" "
		    "is not a dependency of this sensor", word);
		if ((pick = util_suggest(word, deps, n)) != NULL)
			diag_hint(c->d, "did you mean \"%s\"?", pick);
	}
}

static void
spec_post(struct sctx *c, json_t *spec)
{
	json_t *deps = json_object_get(spec, "dependencies");
	json_t *trigs = json_object_get(spec, "triggers"), *t, *tmpl, *ty;
	const char **names;
	size_t n = 0, i, k;
	char at[96];

	if (!json_is_array(deps) || !json_is_array(trigs))
		return;
	unique_names(c, deps, "dependencies", ".name", "dependencies", self);
	unique_names(c, trigs, "triggers", ".template.name", "triggers",
	    template_of);
	names = xcalloc(json_array_size(deps) + 1, sizeof *names);
	for (i = 0; i < json_array_size(deps); i++)
		if (dep_name(json_array_get(deps, i)) != NULL)
			names[n++] = dep_name(json_array_get(deps, i));
	json_array_foreach(trigs, i, t) {
		tmpl = json_object_get(t, "template");
		snprintf(at, sizeof at, "triggers[%zu].parameters", i);
		check_params(c, json_object_get(t, "parameters"), at, names,
		    n);
		check_conditions(c, tmpl, i, names, n);
		for (k = 0; k < 3; k++) {
			ty = json_object_get(tmpl, k ? "http" : "k8s");
			snprintf(at, sizeof at, "triggers[%zu].template.%s.%s",
			    i, k ? "http" : "k8s", k == 2 ? "payload" :
			    "parameters");
			check_params(c, json_object_get(ty, k == 2 ?
			    "payload" : "parameters"), at, names, n);
		}
	}
	free(names);
}

static const struct sfield spec_fields[] = {
	{ "dependencies", &t_dependencies, F_REQUIRED, NULL, NULL },
	{ "triggers", &t_triggers, F_REQUIRED, NULL, NULL },
	{ "template", &conf_t_any, 0, NULL, NULL },
	{ "errorOnFailedRound", &conf_t_bool, 0, NULL, NULL },
	{ "eventBusName", &conf_t_string, 0, NULL, NULL },
	{ "replicas", &conf_t_uint, 0, NULL, NULL },
	{ "revisionHistoryLimit", &conf_t_uint, 0, NULL, NULL },
	{ "loggingFields", &conf_t_strmap, 0, NULL, NULL },
	END
};
static const struct snode t_spec = { .kind = S_OBJECT,
    .fields = spec_fields, .post = spec_post };

static const struct sfield sensor_fields[] = {
	{ "apiVersion", &conf_t_string, F_REQUIRED, NULL, NULL },
	{ "kind", &conf_t_string, F_REQUIRED, NULL, NULL },
	{ "metadata", &conf_t_metadata, F_REQUIRED, NULL, NULL },
	{ "spec", &t_spec, F_REQUIRED, NULL, NULL },
	{ "status", &conf_t_any, 0, NULL, NULL },
	END
};

const struct snode conf_t_sensor = { .kind = S_OBJECT,
    .fields = sensor_fields };
