/*
 * Schema of what every manifest shares (metadata) and of this project's
 * own pieces: the guardrails block (DESIGN.md's table) and the
 * RemediationConfig kind that holds its cluster-wide defaults.
 */
#include <string.h>

#include "conf/schema.h"

#define END	{ NULL, NULL, 0, NULL, NULL }

/* ---- metadata ------------------------------------------------------------ */

static const struct sfield metadata_fields[] = {
	{ "name", &conf_t_name, F_REQUIRED, NULL, NULL },
	{ "namespace", &conf_t_name, 0, NULL, NULL },
	{ "labels", &conf_t_strmap, 0, NULL, NULL },
	{ "annotations", &conf_t_strmap, 0, NULL, NULL },
	{ "generateName", &conf_t_reject, 0, "a manifest needs a fixed "
	    "name, not generateName", "write metadata.name" },
	END
};

/* Open: uid, resourceVersion, managedFields... of an exported object. */
const struct snode conf_t_metadata = { .kind = S_OBJECT, .flags = SF_OPEN,
    .fields = metadata_fields };

/* ---- guardrails ---------------------------------------------------------- */

static const char *const modes[] = { "off", "notify", "dry-run", "confirm",
    "auto", NULL };
static const struct snode t_mode = { .kind = S_ENUM, .values = modes };
static const char *const dry_runs[] = { "client", "server", NULL };
static const struct snode t_dry_run = { .kind = S_ENUM, .values = dry_runs };
static const struct snode t_count = { .kind = S_INT, .min = 1,
    .max = 1000000 };

static const struct sfield threshold_fields[] = {
	{ "count", &t_count, F_REQUIRED, NULL, NULL },
	{ "within", &conf_t_duration, 0, NULL, NULL },
	{ "key", &conf_t_nonempty, 0, NULL, NULL },
	END
};

static void
threshold_post(struct sctx *c, json_t *o)
{
	json_t *n = json_object_get(o, "count");

	if (json_is_integer(n) && json_integer_value(n) > 1 &&
	    json_object_get(o, "within") == NULL) {
		conf_serr(c, conf_sloc(c, o, NULL), NULL, "a count above 1 "
		    "needs within: the window the signals must fall in");
		diag_hint(c->d, "add within: 5m");
	}
}

static const struct snode t_threshold = { .kind = S_OBJECT,
    .fields = threshold_fields, .post = threshold_post };

static const struct sfield optin_fields[] = {
	{ "label", &conf_t_label, F_REQUIRED, NULL, NULL },
	END
};
static const struct snode t_optin = { .kind = S_OBJECT,
    .fields = optin_fields };

static void
budget_min_post(struct sctx *c, json_t *v)
{
	double d = json_number_value(v);

	if (d < 0 || d > 1)
		conf_serr(c, conf_loc(c->doc, v), NULL, "%g is not a fraction "
		    "from 0 to 1 of the error budget", d);
}

static const struct snode t_budget_min = { .kind = S_NUMBER,
    .post = budget_min_post };

static const struct sfield budget_fields[] = {
	{ "query", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "min", &t_budget_min, 0, NULL, NULL },
	{ "maxAge", &conf_t_duration, 0, NULL, NULL },
	END
};
static const struct snode t_budget = { .kind = S_OBJECT,
    .fields = budget_fields };

static const struct sfield circuit_fields[] = {
	{ "maxActions", &t_count, 0, NULL, NULL },
	{ "within", &conf_t_duration, 0, NULL, NULL },
	END
};
static const struct snode t_circuit = { .kind = S_OBJECT,
    .fields = circuit_fields };

static const struct sfield recurrence_fields[] = {
	{ "within", &conf_t_duration, 0, NULL, NULL },
	{ "demoteAbove", &conf_t_percent, 0, NULL, NULL },
	{ "minActions", &t_count, 0, NULL, NULL },
	END
};
static const struct snode t_recurrence = { .kind = S_OBJECT,
    .fields = recurrence_fields };

static const struct sfield guardrails_fields[] = {
	{ "mode", &t_mode, 0, NULL, NULL },
	{ "dryRun", &t_dry_run, 0, NULL, NULL },
	{ "threshold", &t_threshold, 0, NULL, NULL },
	{ "cooldown", &conf_t_duration, 0, NULL, NULL },
	{ "maxSignalAge", &conf_t_duration, 0, NULL, NULL },
	{ "optIn", &t_optin, 0, NULL, NULL },
	{ "budget", &t_budget, 0, NULL, NULL },
	{ "maxClusterImpact", &conf_t_percent, 0, NULL, NULL },
	{ "circuit", &t_circuit, 0, NULL, NULL },
	{ "recurrence", &t_recurrence, 0, NULL, NULL },
	{ "target", &conf_t_nonempty, 0, NULL, NULL },
	{ "rateLimit", &conf_t_reject, 0, "rateLimit is Argo's own field "
	    "of the trigger, not a guardrail", "move rateLimit out of "
	    "guardrails, beside template" },
	END
};

const struct snode conf_t_guardrails = { .kind = S_OBJECT,
    .fields = guardrails_fields };

/* ---- RemediationConfig --------------------------------------------------- */

static const struct sfield endpoint_fields[] = {
	{ "url", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "timeout", &conf_t_duration, 0, NULL, NULL },
	END
};
static const struct snode t_endpoint = { .kind = S_OBJECT,
    .fields = endpoint_fields };

static const struct sfield rc_spec_fields[] = {
	{ "guardrails", &conf_t_guardrails, 0, NULL, NULL },
	{ "prometheus", &t_endpoint, 0, NULL, NULL },
	{ "alertmanager", &t_endpoint, 0, NULL, NULL },
	/* shapes defined by the notification work; kept open until then */
	{ "owners", &conf_t_any, 0, NULL, NULL },
	{ "notifications", &conf_t_any, 0, NULL, NULL },
	END
};
static const struct snode t_rc_spec = { .kind = S_OBJECT,
    .fields = rc_spec_fields };

static const struct sfield rc_fields[] = {
	{ "apiVersion", &conf_t_string, F_REQUIRED, NULL, NULL },
	{ "kind", &conf_t_string, F_REQUIRED, NULL, NULL },
	{ "metadata", &conf_t_metadata, F_REQUIRED, NULL, NULL },
	{ "spec", &t_rc_spec, F_REQUIRED, NULL, NULL },
	END
};

const struct snode conf_t_remediationconfig = { .kind = S_OBJECT,
    .fields = rc_fields };
