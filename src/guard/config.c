/*
 * Guardrail configuration.  Safe when nothing is said: dry-run, a rate
 * limit of one per minute, a ten-minute cooldown, opt-in required, a 5%
 * blast-radius cap, the circuit breaker on.  A trigger's block overrides
 * the RemediationConfig defaults field by field, which override these.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "guard/guard.h"

#define MINUTE	60000LL

static const char *const mode_names[] = {
	"off", "notify", "dry-run", "confirm", "auto",
};

const char *
guard_mode_name(enum guard_mode m)
{
	return (size_t)m < UTIL_ARRAY_LEN(mode_names) ? mode_names[m] : "?";
}

void
guard_config_defaults(struct guard_config *c)
{
	memset(c, 0, sizeof *c);
	c->mode = MODE_DRY_RUN;
	c->threshold_count = 0;
	c->cooldown = 10 * MINUTE;
	c->max_signal_age = 5 * MINUTE;
	c->optin_key = xstrdup("remediation.platform/optin");
	c->optin_value = xstrdup("true");
	c->budget_max_age = 5 * MINUTE;
	c->max_cluster_impact = 0.05;
	c->circuit_max = 10;
	c->circuit_within = 10 * MINUTE;
	c->rate_unit = MINUTE;
	c->rate_per_unit = 1;
	c->recurrence_within = 30 * MINUTE;
	c->recurrence_demote_above = 0.5;
	c->recurrence_min_actions = 4;
}

static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void
guard_config_copy(struct guard_config *d, const struct guard_config *s)
{
	*d = *s;
	d->threshold_key = dup_or_null(s->threshold_key);
	d->optin_key = dup_or_null(s->optin_key);
	d->optin_value = dup_or_null(s->optin_value);
	d->budget_query = dup_or_null(s->budget_query);
	d->target = dup_or_null(s->target);
	d->ownership = s->ownership ? json_deep_copy(s->ownership) : NULL;
	d->pull_request = s->pull_request ? json_deep_copy(s->pull_request) :
	    NULL;
}

void
guard_config_clear(struct guard_config *c)
{
	free(c->threshold_key);
	free(c->optin_key);
	free(c->optin_value);
	free(c->budget_query);
	free(c->target);
	json_decref(c->ownership);
	json_decref(c->pull_request);
	memset(c, 0, sizeof *c);
}

/* Each setter reads one field; a bad value is reported where written. */
struct field_ctx {
	const struct mdoc	*doc;
	struct diags		*dg;
	json_t			*obj;	/* the object holding the field */
};

static int
get_duration(struct field_ctx *f, const char *key, int64_t *out)
{
	json_t *v = json_object_get(f->obj, key);
	int64_t ms;

	if (v == NULL)
		return 0;
	if (!json_is_string(v) || duration_parse(json_string_value(v), &ms) ||
	    ms < 0) {
		diag_error(f->dg, conf_loc_key(f->doc, f->obj, key),
		    "%s must be a duration like 5m or 1h30m", key);
		return -1;
	}
	*out = ms;
	return 0;
}

/*
 * A duration guard state must be remembered for (a cooldown, a window):
 * at most GUARD_STATE_KEEP, after which untouched state is forgotten.
 */
static int
get_held(struct field_ctx *f, const char *key, int64_t *out)
{
	int64_t ms = -1;

	if (get_duration(f, key, &ms) == -1)
		return -1;
	if (ms > GUARD_STATE_KEEP) {
		diag_error(f->dg, conf_loc_key(f->doc, f->obj, key),
		    "%s must be at most 720h (30 days): the guardrails forget "
		    "state untouched that long", key);
		return -1;
	}
	if (ms >= 0)
		*out = ms;
	return 0;
}

static int
get_int(struct field_ctx *f, const char *key, int min, int max, int *out)
{
	json_t *v = json_object_get(f->obj, key);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max) {
		diag_error(f->dg, conf_loc_key(f->doc, f->obj, key),
		    "%s must be an integer from %d to %d", key, min, max);
		return -1;
	}
	*out = (int)json_integer_value(v);
	return 0;
}

/* "5%" or a fraction 0.05; fraction in [0, 1]. */
static int
get_fraction(struct field_ctx *f, const char *key, double *out)
{
	json_t *v = json_object_get(f->obj, key);
	double d = -1;

	if (v == NULL)
		return 0;
	if (json_is_number(v))
		d = json_number_value(v);
	else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;

		d = strtod(s, &end);
		if (end == s || strcmp(end, "%") != 0)
			d = -1;
		else
			d /= 100;
	}
	if (!(d >= 0 && d <= 1)) {
		diag_error(f->dg, conf_loc_key(f->doc, f->obj, key),
		    "%s must be a percentage like 5%% or a fraction from 0 to 1",
		    key);
		return -1;
	}
	*out = d;
	return 0;
}

/* scope: cluster (0) or fleet (1). */
static int
get_scope(struct field_ctx *f, int *fleet)
{
	json_t *v = json_object_get(f->obj, "scope");
	const char *s = json_string_value(v);

	if (v == NULL)
		return 0;
	if (s && (strcmp(s, "cluster") == 0 || strcmp(s, "fleet") == 0)) {
		*fleet = strcmp(s, "fleet") == 0;
		return 0;
	}
	diag_error(f->dg, conf_loc_key(f->doc, f->obj, "scope"),
	    "scope must be cluster (this instance) or fleet (every cluster "
	    "sharing the state database)");
	return -1;
}

/* maxClusterImpact: 5%, or {max: 5%, scope: fleet}. */
static int
get_impact(struct field_ctx *f, struct guard_config *c)
{
	json_t *v = json_object_get(f->obj, "maxClusterImpact");
	struct field_ctx sub = { f->doc, f->dg, v };

	if (!json_is_object(v))
		return get_fraction(f, "maxClusterImpact",
		    &c->max_cluster_impact);
	if (json_object_get(v, "max") == NULL) {
		diag_error(f->dg, conf_loc_key(f->doc, f->obj,
		    "maxClusterImpact"), "maxClusterImpact needs max: a "
		    "percentage like 5%%");
		return -1;
	}
	return get_fraction(&sub, "max", &c->max_cluster_impact) == -1 ||
	    get_scope(&sub, &c->impact_fleet) == -1 ? -1 : 0;
}

static int
get_string(struct field_ctx *f, const char *key, char **out)
{
	json_t *v = json_object_get(f->obj, key);

	if (v == NULL)
		return 0;
	if (!json_is_string(v)) {
		diag_error(f->dg, conf_loc_key(f->doc, f->obj, key),
		    "%s must be a string", key);
		return -1;
	}
	free(*out);
	*out = xstrdup(json_string_value(v));
	return 0;
}

static int
apply_mode(struct guard_config *c, struct field_ctx *f)
{
	json_t *v = json_object_get(f->obj, "mode");
	size_t i;

	if (v == NULL)
		return 0;
	for (i = 0; json_is_string(v) && i < UTIL_ARRAY_LEN(mode_names); i++)
		if (strcmp(json_string_value(v), mode_names[i]) == 0) {
			c->mode = (enum guard_mode)i;
			return 0;
		}
	diag_error(f->dg, conf_loc_key(f->doc, f->obj, "mode"),
	    "mode must be one of off, notify, dry-run, confirm, auto");
	if (json_is_string(v)) {
		const char *s = util_suggest(json_string_value(v), mode_names,
		    UTIL_ARRAY_LEN(mode_names));

		if (s)
			diag_hint(f->dg, "did you mean \"%s\"?", s);
	}
	return -1;
}

static int
apply_optin(struct guard_config *c, struct field_ctx *f)
{
	json_t *o = json_object_get(f->obj, "optIn");
	const char *label, *eq;

	if (o == NULL)
		return 0;
	label = json_string_value(json_object_get(o, "label"));
	if (label == NULL || *label == '\0') {
		diag_error(f->dg, conf_loc_key(f->doc, f->obj, "optIn"),
		    "optIn.label must be a label like key=value");
		return -1;
	}
	free(c->optin_key);
	free(c->optin_value);
	if ((eq = strchr(label, '=')) != NULL) {
		c->optin_key = xstrndup(label, (size_t)(eq - label));
		c->optin_value = xstrdup(eq + 1);
	} else {
		c->optin_key = xstrdup(label);
		c->optin_value = NULL;	/* presence is enough */
	}
	return 0;
}

int
guard_config_apply(struct guard_config *c, json_t *block,
    const struct mdoc *doc, struct diags *dg)
{
	struct field_ctx f = { doc, dg, block }, sub = { doc, dg, NULL };
	size_t before = dg->errors;
	json_t *v;

	if (!json_is_object(block))
		return 0;
	apply_mode(c, &f);
	if ((v = json_object_get(block, "dryRun")) != NULL) {
		if (json_is_string(v) && strcmp(json_string_value(v), "server")
		    == 0)
			c->server_dry_run = 1;
		else if (json_is_string(v) && strcmp(json_string_value(v),
		    "client") == 0)
			c->server_dry_run = 0;
		else
			diag_error(dg, conf_loc_key(doc, block, "dryRun"),
			    "dryRun must be client (plan only) or server "
			    "(dryRun=All on the API server)");
	}
	get_held(&f, "cooldown", &c->cooldown);
	get_duration(&f, "maxSignalAge", &c->max_signal_age);
	get_impact(&f, c);
	get_string(&f, "target", &c->target);
	apply_optin(c, &f);
	if ((v = json_object_get(block, "threshold")) != NULL) {
		sub.obj = v;
		get_int(&sub, "count", 1, CONF_COUNT_MAX,
		    &c->threshold_count);
		get_held(&sub, "within", &c->threshold_within);
		get_string(&sub, "key", &c->threshold_key);
		if (c->threshold_count > 1 && c->threshold_within == 0) {
			diag_error(dg, conf_loc_key(doc, block, "threshold"),
			    "threshold.within is required with a count above 1");
			diag_hint(dg, "add within: 5m");
		}
	}
	if ((v = json_object_get(block, "budget")) != NULL) {
		sub.obj = v;
		get_string(&sub, "query", &c->budget_query);
		if (json_object_get(v, "min") &&
		    !json_is_number(json_object_get(v, "min")))
			diag_error(dg, conf_loc_key(doc, v, "min"),
			    "budget.min must be a number");
		else if (json_object_get(v, "min"))
			c->budget_min = json_number_value(json_object_get(v,
			    "min"));
		get_duration(&sub, "maxAge", &c->budget_max_age);
		if (c->budget_query == NULL)
			diag_error(dg, conf_loc_key(doc, block, "budget"),
			    "budget needs a query");
	}
	if (json_is_object(v = json_object_get(block, "ownership"))) {
		/* a trigger's keys over the cluster-wide ones */
		if (c->ownership == NULL)
			c->ownership = json_object();
		json_object_update(c->ownership, v);
	}
	if (json_is_object(v = json_object_get(json_object_get(block,
	    "confirm"), "pullRequest"))) {
		json_decref(c->pull_request);
		c->pull_request = json_deep_copy(v);
	}
	if ((v = json_object_get(block, "circuit")) != NULL) {
		sub.obj = v;
		get_int(&sub, "maxActions", 1, CONF_ACTIONS_MAX,
		    &c->circuit_max);
		get_held(&sub, "within", &c->circuit_within);
		get_scope(&sub, &c->circuit_fleet);
	}
	if ((v = json_object_get(block, "recurrence")) != NULL) {
		sub.obj = v;
		get_held(&sub, "within", &c->recurrence_within);
		get_fraction(&sub, "demoteAbove", &c->recurrence_demote_above);
		get_int(&sub, "minActions", 1, CONF_ACTIONS_MAX,
		    &c->recurrence_min_actions);
	}
	return dg->errors > before ? -1 : 0;
}

json_t *
guard_config_json(const struct guard_config *c)
{
	char cd[32], age[32], tw[32], cw[32], ru[32], bm[32], rw[32];
	char *optin = c->optin_key == NULL ? NULL : c->optin_value ?
	    xasprintf("%s=%s", c->optin_key, c->optin_value) :
	    xstrdup(c->optin_key);
	json_t *o;

	duration_format(c->cooldown, cd, sizeof cd);
	duration_format(c->max_signal_age, age, sizeof age);
	duration_format(c->threshold_within, tw, sizeof tw);
	duration_format(c->circuit_within, cw, sizeof cw);
	duration_format(c->rate_unit, ru, sizeof ru);
	duration_format(c->budget_max_age, bm, sizeof bm);
	duration_format(c->recurrence_within, rw, sizeof rw);
	o = json_pack("{s:s, s:{s:i, s:s, s:s?}, s:{s:I, s:s}, s:s, s:s, "
	    "s:{s:s?}, s:f, s:{s:i, s:s}, s:{s:s, s:f, s:i}, s:s?}",
	    "mode", guard_mode_name(c->mode),
	    "threshold", "count", c->threshold_count, "within", tw,
	    "key", c->threshold_key,
	    "rateLimit", "requestsPerUnit", (json_int_t)c->rate_per_unit,
	    "unit", ru,
	    "cooldown", cd, "maxSignalAge", age,
	    "optIn", "label", optin,
	    "maxClusterImpact", c->max_cluster_impact,
	    "circuit", "maxActions", c->circuit_max, "within", cw,
	    "recurrence", "within", rw,
	    "demoteAbove", c->recurrence_demote_above,
	    "minActions", c->recurrence_min_actions,
	    "target", c->target);
	if (c->pull_request)
		json_object_set_new(o, "confirm", json_pack("{s:O}",
		    "pullRequest", c->pull_request));
	if (c->ownership)
		json_object_set_new(o, "ownership",
		    json_deep_copy(c->ownership));
	/* scope only when fleet: a cluster-scope trigger's normalized
	   form (and the hash a demotion holds under) stays as it was */
	if (c->circuit_fleet)
		json_object_set_new(json_object_get(o, "circuit"), "scope",
		    json_string("fleet"));
	if (c->impact_fleet)
		json_object_set_new(o, "maxClusterImpact", json_pack(
		    "{s:f, s:s}", "max", c->max_cluster_impact, "scope",
		    "fleet"));
	if (c->budget_query)
		json_object_set_new(o, "budget", json_pack("{s:s, s:f, s:s}",
		    "query", c->budget_query, "min", c->budget_min,
		    "maxAge", bm));
	free(optin);
	return o;
}

char *
guard_config_describe(const struct guard_config *c)
{
	struct buf b;
	char d1[32], d2[32];
	const char *gm;

	buf_init(&b, 0);
	buf_printf(&b, "mode %s", guard_mode_name(c->mode));
	if (c->server_dry_run)
		buf_adds(&b, " (server)");
	buf_printf(&b, ", rate %lld/%s", (long long)c->rate_per_unit,
	    c->rate_unit == 1000 ? "Second" : c->rate_unit == 3600000 ?
	    "Hour" : "Minute");
	if (c->threshold_count > 1) {
		duration_format(c->threshold_within, d1, sizeof d1);
		buf_printf(&b, ", threshold %d in %s", c->threshold_count, d1);
	}
	duration_format(c->cooldown, d1, sizeof d1);
	duration_format(c->max_signal_age, d2, sizeof d2);
	buf_printf(&b, ", cooldown %s, maxSignalAge %s", d1, d2);
	if (c->optin_key)
		buf_printf(&b, ", opt-in %s%s%s", c->optin_key,
		    c->optin_value ? "=" : "", c->optin_value ?
		    c->optin_value : "");
	if (c->budget_query)
		buf_printf(&b, ", budget >= %g", c->budget_min);
	buf_printf(&b, ", maxClusterImpact %g%%%s", c->max_cluster_impact *
	    100, c->impact_fleet ? " of the fleet" : "");
	duration_format(c->circuit_within, d1, sizeof d1);
	buf_printf(&b, ", circuit %d in %s%s", c->circuit_max, d1,
	    c->circuit_fleet ? " across the fleet" : "");
	gm = json_string_value(json_object_get(c->ownership,
	    "gitopsManaged"));
	if (c->mode == MODE_AUTO && gm && strcmp(gm, "pullRequest") == 0)
		buf_adds(&b, ", GitOps-managed targets by pull request");
	return buf_steal(&b);
}
