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
    .max = CONF_COUNT_MAX };
static const struct snode t_actions = { .kind = S_INT, .min = 1,
    .max = CONF_ACTIONS_MAX };

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

/*
 * scope: cluster (this instance's own count, the default) or fleet (every
 * cluster sharing the state database, src/fleet/).
 */
static const char *const scopes[] = { "cluster", "fleet", NULL };
static const struct snode t_scope = { .kind = S_ENUM, .values = scopes };

static const struct sfield circuit_fields[] = {
	{ "maxActions", &t_actions, 0, NULL, NULL },
	{ "within", &conf_t_duration, 0, NULL, NULL },
	{ "scope", &t_scope, 0, NULL, NULL },
	END
};
static const struct snode t_circuit = { .kind = S_OBJECT,
    .fields = circuit_fields };

static const struct sfield impact_fields[] = {
	{ "max", &conf_t_percent, F_REQUIRED, NULL, NULL },
	{ "scope", &t_scope, 0, NULL, NULL },
	END
};
static const struct snode t_impact_object = { .kind = S_OBJECT,
    .fields = impact_fields };


static const struct sfield recurrence_fields[] = {
	{ "within", &conf_t_duration, 0, NULL, NULL },
	{ "demoteAbove", &conf_t_percent, 0, NULL, NULL },
	{ "minActions", &t_actions, 0, NULL, NULL },
	END
};
static const struct snode t_recurrence = { .kind = S_OBJECT,
    .fields = recurrence_fields };

static const char *const trackings[] = { "auto", "annotation", "label",
    "annotation+label", NULL };
static const struct snode t_tracking = { .kind = S_ENUM,
    .values = trackings };

/* A self-healed GitOps target in auto: stop, or go through Git. */
static const char *const gitops_managed[] = { "suppress", "pullRequest",
    NULL };
static const struct snode t_gitops_managed = { .kind = S_ENUM,
    .values = gitops_managed };

/* Who else manages a target (src/gitops/owner.c has the defaults). */
static const struct sfield ownership_fields[] = {
	{ "gitopsManaged", &t_gitops_managed, 0, NULL, NULL },
	{ "argocdNamespace", &conf_t_name, 0, NULL, NULL },
	{ "argocdTracking", &t_tracking, 0, NULL, NULL },
	{ "instanceLabel", &conf_t_nonempty, 0, NULL, NULL },
	{ "fieldManager", &conf_t_nonempty, 0, NULL, NULL },
	{ "ignoreManagers", &conf_t_strlist, 0, NULL, NULL },
	END
};
static const struct snode t_ownership = { .kind = S_OBJECT,
    .fields = ownership_fields };

static const char *const forges[] = { "github", "gitlab", "gitea",
    "forgejo", NULL };
static const struct snode t_forge = { .kind = S_ENUM, .values = forges };
static const struct snode t_secret_ref;	/* below, with the owners' */

static const struct sfield values_fields[] = {
	{ "file", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "paths", &conf_t_strmap, F_REQUIRED, NULL, NULL },
	END
};
static const struct snode t_values = { .kind = S_OBJECT,
    .fields = values_fields };

/*
 * syncTimeout: 0 would expire a merged request before Argo CD could sync
 * it, so it must be more than nothing.
 */
static void
sync_timeout_post(struct sctx *c, json_t *v)
{
	int64_t ms;

	if (duration_parse(json_string_value(v), &ms) == 0 && ms == 0) {
		conf_serr(c, conf_loc(c->doc, v), NULL, "a syncTimeout of 0 "
		    "would expire every merged request before Argo CD could "
		    "sync it");
		diag_hint(c->d, "give the time Argo CD may take to sync a "
		    "merge, like 1h (the default)");
	}
}

static const struct snode t_sync_timeout = { .kind = S_DURATION,
    .post = sync_timeout_post };

/* confirm.pullRequest: src/gitops/propose.c reads it. */
static const struct sfield pull_request_fields[] = {
	{ "forge", &t_forge, F_REQUIRED, NULL, NULL },
	{ "api", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "repo", &conf_t_nonempty, 0, NULL, NULL },
	{ "repoURL", &conf_t_nonempty, 0, NULL, NULL },
	{ "path", &conf_t_string, 0, NULL, NULL },
	{ "base", &conf_t_nonempty, 0, NULL, NULL },
	{ "gitUser", &conf_t_nonempty, 0, NULL, NULL },
	{ "token", &t_secret_ref, 0, NULL, NULL },
	{ "values", &t_values, 0, NULL, NULL },
	{ "pollInterval", &conf_t_duration, 0, NULL, NULL },
	{ "syncTimeout", &t_sync_timeout, 0, NULL, NULL },
	END
};
static const struct snode t_pull_request = { .kind = S_OBJECT,
    .fields = pull_request_fields };

static const struct sfield confirm_fields[] = {
	{ "pullRequest", &t_pull_request, 0, NULL, NULL },
	END
};
static const struct snode t_confirm = { .kind = S_OBJECT,
    .fields = confirm_fields };

static const struct sfield guardrails_fields[] = {
	{ "mode", &t_mode, 0, NULL, NULL },
	{ "dryRun", &t_dry_run, 0, NULL, NULL },
	{ "threshold", &t_threshold, 0, NULL, NULL },
	{ "cooldown", &conf_t_duration, 0, NULL, NULL },
	{ "maxSignalAge", &conf_t_duration, 0, NULL, NULL },
	{ "optIn", &t_optin, 0, NULL, NULL },
	{ "budget", &t_budget, 0, NULL, NULL },
	{ "maxClusterImpact", &conf_t_any, 0, NULL, NULL },	/* below */
	{ "circuit", &t_circuit, 0, NULL, NULL },
	{ "recurrence", &t_recurrence, 0, NULL, NULL },
	{ "target", &conf_t_nonempty, 0, NULL, NULL },
	{ "ownership", &t_ownership, 0, NULL, NULL },
	{ "confirm", &t_confirm, 0, NULL, NULL },
	{ "rateLimit", &conf_t_reject, 0, "rateLimit is Argo's own field "
	    "of the trigger, not a guardrail", "move rateLimit out of "
	    "guardrails, beside template" },
	END
};

/*
 * maxClusterImpact: 5%, or {max: 5%, scope: fleet}; checked from the
 * block, so a scalar's error points at the scalar.
 */
static void
guardrails_post(struct sctx *c, json_t *o)
{
	json_t *v = json_object_get(o, "maxClusterImpact");

	if (v != NULL)
		conf_scheck(c, json_is_object(v) ? &t_impact_object :
		    &conf_t_percent, o, "maxClusterImpact", v);
}

const struct snode conf_t_guardrails = { .kind = S_OBJECT,
    .fields = guardrails_fields, .post = guardrails_post };

/* ---- owners and notifications ------------------------------------------- */

/*
 * A secret is never written in a manifest: {file: PATH}, {env: NAME}, or
 * a Kubernetes Secret's {name, key} (mounted under the secrets directory).
 */
static const struct sfield secret_ref_fields[] = {
	{ "file", &conf_t_nonempty, 0, NULL, NULL },
	{ "env", &conf_t_nonempty, 0, NULL, NULL },
	{ "name", &conf_t_nonempty, 0, NULL, NULL },
	{ "key", &conf_t_nonempty, 0, NULL, NULL },
	{ "value", &conf_t_reject, 0, "a secret's value never sits in a "
	    "manifest", "read it from a file or the environment: {file: "
	    "PATH} or {env: NAME}" },
	END
};

static void
secret_ref_post(struct sctx *c, json_t *o)
{
	int file = json_object_get(o, "file") != NULL;
	int env = json_object_get(o, "env") != NULL;
	int sel = json_object_get(o, "name") != NULL ||
	    json_object_get(o, "key") != NULL;

	if (file + env + sel != 1)
		conf_serr(c, conf_sloc(c, o, NULL), NULL, "give exactly one "
		    "of {file: PATH}, {env: NAME} or a Secret's {name, key}");
	else if (sel && (json_object_get(o, "name") == NULL ||
	    json_object_get(o, "key") == NULL))
		conf_serr(c, conf_sloc(c, o, NULL), NULL, "a Secret reference "
		    "needs both name and key");
}

static const struct snode t_secret_ref = { .kind = S_OBJECT,
    .fields = secret_ref_fields, .post = secret_ref_post };

/* A webhook URL: a plain string, or a secret when it carries a token. */
static void
url_post(struct sctx *c, json_t *v)
{
	const char *s = json_string_value(v);

	if (json_is_object(v)) {
		conf_scheck(c, &t_secret_ref, NULL, NULL, v);
		return;
	}
	if (s == NULL) {
		conf_serr(c, conf_loc(c->doc, v), NULL, "a URL is a string or "
		    "a secret reference ({file} or {env})");
		return;
	}
	if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
		conf_serr(c, conf_loc(c->doc, v), NULL, "\"%s\" is not an "
		    "http:// or https:// URL", s);
}

static const struct snode t_url = { .kind = S_ANY, .post = url_post };

/* A Slack incoming-webhook URL is its own credential. */
static void
slack_url_post(struct sctx *c, json_t *v)
{
	if (json_is_string(v)) {
		conf_serr(c, conf_loc(c->doc, v), NULL, "a Slack "
		    "incoming-webhook URL carries its token: it is a secret "
		    "and never sits in a manifest");
		diag_hint(c->d, "url: {env: SLACK_WEBHOOK_URL} or {file: "
		    "/var/run/secrets/remediate/slack/url}");
		return;
	}
	if (!json_is_object(v)) {
		conf_serr(c, conf_loc(c->doc, v), NULL, "expected a secret "
		    "reference: {file: PATH}, {env: NAME} or {name, key}");
		return;
	}
	conf_scheck(c, &t_secret_ref, NULL, NULL, v);
}

static const struct snode t_slack_url = { .kind = S_ANY,
    .post = slack_url_post };

static const struct sfield slack_fields[] = {
	{ "url", &t_slack_url, F_REQUIRED, NULL, NULL },
	{ "channel", &conf_t_nonempty, 0, NULL, NULL },
	{ "username", &conf_t_nonempty, 0, NULL, NULL },
	{ "iconEmoji", &conf_t_nonempty, 0, NULL, NULL },
	END
};
static const struct snode t_slack = { .kind = S_OBJECT,
    .fields = slack_fields };

static const struct sfield secure_header_fields[] = {
	{ "name", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "valueFrom", &t_secret_ref, F_REQUIRED, NULL, NULL },
	END
};
static const struct snode t_secure_header = { .kind = S_OBJECT,
    .fields = secure_header_fields };
static const struct snode t_secure_headers = { .kind = S_ARRAY,
    .elem = &t_secure_header };

static const struct sfield webhook_fields[] = {
	{ "url", &t_url, F_REQUIRED, NULL, NULL },
	{ "headers", &conf_t_strmap, 0, NULL, NULL },
	{ "secureHeaders", &t_secure_headers, 0, NULL, NULL },
	END
};
static const struct snode t_webhook = { .kind = S_OBJECT,
    .fields = webhook_fields };

static const struct sfield dest_tls_fields[] = {
	{ "caFile", &conf_t_nonempty, 0, NULL, NULL },
	{ "insecureSkipVerify", &conf_t_bool, 0, NULL, NULL },
	END
};
static const struct snode t_dest_tls = { .kind = S_OBJECT,
    .fields = dest_tls_fields };

static const struct sfield dest_fields[] = {
	{ "slack", &t_slack, 0, NULL, NULL },
	{ "webhook", &t_webhook, 0, NULL, NULL },
	{ "timeout", &conf_t_duration, 0, NULL, NULL },
	{ "tls", &t_dest_tls, 0, NULL, NULL },
	END
};

static void
dest_post(struct sctx *c, json_t *o)
{
	int n = (json_object_get(o, "slack") != NULL) +
	    (json_object_get(o, "webhook") != NULL);

	if (n != 1)
		conf_serr(c, conf_sloc(c, o, NULL), NULL, "a destination is "
		    "either slack or webhook%s", n ? ", not both" : "");
}

static const struct snode t_dest = { .kind = S_OBJECT,
    .fields = dest_fields, .post = dest_post };
static const struct snode t_dests = { .kind = S_MAP, .elem = &t_dest };

static const struct snode t_attempts = { .kind = S_INT, .min = 1,
    .max = 10 };

static void
base_url_post(struct sctx *c, json_t *v)
{
	const char *s = json_string_value(v);

	if (s && strncmp(s, "http://", 7) != 0 && strncmp(s, "https://",
	    8) != 0)
		conf_serr(c, conf_loc(c->doc, v), NULL, "\"%s\" is not an "
		    "http:// or https:// URL", s);
}

static const struct snode t_base_url = { .kind = S_STRING,
    .flags = SF_NONEMPTY, .post = base_url_post };

static const struct sfield notifications_fields[] = {
	{ "destinations", &t_dests, 0, NULL, NULL },
	{ "default", &conf_t_nonempty, 0, NULL, NULL },
	{ "baseURL", &t_base_url, 0, NULL, NULL },
	{ "attempts", &t_attempts, 0, NULL, NULL },
	{ "links", &conf_t_strmap, 0, NULL, NULL },
	{ "approvalTTL", &conf_t_duration, 0, NULL, NULL },
	END
};
static const struct snode t_notifications = { .kind = S_OBJECT,
    .fields = notifications_fields };

/* An owner routes to one destination or several. */
static void
route_post(struct sctx *c, json_t *v)
{
	json_t *e;
	size_t i;

	if (json_is_string(v) && *json_string_value(v))
		return;
	if (json_is_array(v) && json_array_size(v) > 0) {
		json_array_foreach(v, i, e)
			if (!json_is_string(e) || !*json_string_value(e))
				conf_serr(c, conf_loc(c->doc, e), NULL, "a "
				    "destination name is a non-empty string");
		return;
	}
	conf_serr(c, conf_loc(c->doc, v), NULL, "an owner routes to a "
	    "destination name or a list of them");
}

static const struct snode t_route = { .kind = S_ANY, .post = route_post };
static const struct snode t_routes = { .kind = S_MAP, .elem = &t_route };

static const struct sfield owners_fields[] = {
	{ "key", &conf_t_nonempty, 0, NULL, NULL },
	{ "routes", &t_routes, 0, NULL, NULL },
	END
};
static const struct snode t_owners = { .kind = S_OBJECT,
    .fields = owners_fields };

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
	{ "owners", &t_owners, 0, NULL, NULL },
	{ "notifications", &t_notifications, 0, NULL, NULL },
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
