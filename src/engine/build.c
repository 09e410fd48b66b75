/*
 * Building an engine from a loaded configuration: each stage compiles its
 * own manifests and reports its own semantic errors; the engine only
 * gathers them.  Guardrails are resolved per trigger once, here, so the
 * hot path reads a finished struct.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "gitops/gitops.h"

static void
build_defaults(struct engine *e, const struct conf *c, struct diags *dg)
{
	size_t n = c->nby_kind[CONF_REMEDIATIONCONFIG];
	const struct mdoc *d;

	guard_config_defaults(&e->defaults);
	if (n == 0)
		return;
	d = c->by_kind[CONF_REMEDIATIONCONFIG][0];
	if (n > 1) {
		const struct mdoc *d2 = c->by_kind[CONF_REMEDIATIONCONFIG][1];

		diag_error(dg, conf_loc(d2, d2->root), "more than one "
		    "RemediationConfig; defaults must come from one place");
		diag_hint(dg, "merge it into %s", d->file);
	}
	guard_config_apply(&e->defaults, json_object_get(json_object_get(
	    d->root, "spec"), "guardrails"), d, dg);
}

/*
 * Compiles a guardrail's template now, so a bad one is a `check` error at
 * the guardrails block rather than a failed record at run time.
 */
static struct sensor_tmpl *
compile_tmpl(const char *src, const char *field,
    const struct sensor_trigger *t, const struct mdoc *doc,
    struct diags *dg)
{
	struct sensor_tmpl *tm;
	char *err = NULL;

	if (src == NULL || strstr(src, "{{") == NULL)
		return NULL;
	if ((tm = sensor_template(src, &err)) == NULL) {
		diag_error(dg, t->guardrails ? conf_loc_key(doc, t->guardrails,
		    field) : t->at, "guardrails %s: %s", field, err);
		free(err);
	}
	return tm;
}

/*
 * ownership.gitopsManaged: pullRequest needs a confirm.pullRequest (the
 * trigger's or the RemediationConfig's) to know the forge: without one a
 * GitOps-managed target could be neither patched nor proposed.
 */
static void
check_gitops_managed(const struct engine_trigger *et,
    const struct sensor_trigger *t, const struct mdoc *doc,
    struct diags *dg)
{
	const char *m = json_string_value(json_object_get(et->cfg.ownership,
	    "gitopsManaged"));
	const json_t *own = json_object_get(t->guardrails, "ownership");

	if (m == NULL || strcmp(m, "pullRequest") != 0 ||
	    et->cfg.pull_request != NULL)
		return;
	diag_error(dg, json_object_get(own, "gitopsManaged") ? conf_loc_key(
	    doc, own, "gitopsManaged") : t->at, "trigger %s: ownership."
	    "gitopsManaged: pullRequest needs confirm.pullRequest (the "
	    "forge and repository to propose to)", t->name);
	diag_hint(dg, "add guardrails.confirm.pullRequest here or in the "
	    "RemediationConfig, or set gitopsManaged: suppress");
}

static void
build_trigger(struct engine *e, struct engine_sensor *es, size_t i,
    struct diags *dg)
{
	const struct sensor_trigger *t = sensor_trigger(es->sensor, i);
	struct engine_trigger *et = &es->triggers[i];

	guard_config_copy(&et->cfg, &e->defaults);
	if (t->has_rate_limit) {
		et->cfg.rate_unit = t->rate_unit;
		et->cfg.rate_per_unit = t->rate_per_unit;
	}
	guard_config_apply(&et->cfg, t->guardrails, es->doc, dg);
	check_gitops_managed(et, t, es->doc, dg);
	et->ownership = gitops_ownership_defaults(et->cfg.ownership);
	et->id = xasprintf("%s/%s", es->ident, t->name);
	et->tmpl[TMPL_TARGET] = compile_tmpl(et->cfg.target, "target", t,
	    es->doc, dg);
	et->tmpl[TMPL_THRESHOLD_KEY] = compile_tmpl(et->cfg.threshold_key,
	    "threshold", t, es->doc, dg);
	et->tmpl[TMPL_BUDGET_QUERY] = compile_tmpl(et->cfg.budget_query,
	    "budget", t, es->doc, dg);
}

static void
build_sensor(struct engine *e, const struct mdoc *d, struct diags *dg)
{
	struct sensor *s = sensor_compile(d, dg);
	struct engine_sensor *es;
	size_t i;

	if (s == NULL)
		return;
	es = &e->sensors[e->nsensors++];
	es->sensor = s;
	es->doc = d;
	es->ident = xasprintf("%s/%s", sensor_namespace(s) ?
	    sensor_namespace(s) : "default", sensor_name(s));
	es->ntriggers = sensor_ntriggers(s);
	es->triggers = xcalloc(es->ntriggers ? es->ntriggers : 1,
	    sizeof *es->triggers);
	for (i = 0; i < es->ntriggers; i++)
		build_trigger(e, es, i, dg);
}

struct engine *
engine_new(const struct conf *c, const struct engine_opts *o,
    struct diags *dg)
{
	struct engine *e = xcalloc(1, sizeof *e);
	size_t i, before = dg->errors;

	e->opts = *o;
	e->conf = c;
	e->sources = sig_set_new();
	e->policies = pol_set_new();
	e->admit_scratch = pol_scratch_new();
	e->state = guard_state_new();
	build_defaults(e, c, dg);
	for (i = 0; i < c->nby_kind[CONF_EVENTSOURCE]; i++)
		sig_set_add(e->sources, c->by_kind[CONF_EVENTSOURCE][i], dg);
	for (i = 0; i < c->nby_kind[CONF_CLUSTERPOLICY]; i++)
		pol_set_add(e->policies, c->by_kind[CONF_CLUSTERPOLICY][i], dg);
	for (i = 0; i < c->nby_kind[CONF_POLICY]; i++)
		pol_set_add(e->policies, c->by_kind[CONF_POLICY][i], dg);
	e->sensors = xcalloc(c->nby_kind[CONF_SENSOR] + 1,
	    sizeof *e->sensors);
	for (i = 0; i < c->nby_kind[CONF_SENSOR]; i++)
		build_sensor(e, c->by_kind[CONF_SENSOR][i], dg);
	e->detect_oom = sig_set_watches_events(e->sources);
	if (dg->errors > before) {
		engine_free(e);
		return NULL;
	}
	return e;
}

struct engine *
engine_compile(const struct conf *c, struct diags *dg)
{
	struct engine_opts o;
	struct clock clk;
	struct engine *e;

	memset(&o, 0, sizeof o);
	clock_system(&clk);
	o.clock = &clk;
	if ((e = engine_new(c, &o, dg)) != NULL) {
		e->own_clock = clk;
		e->opts.clock = &e->own_clock;
	}
	return e;
}

void
engine_free(struct engine *e)
{
	size_t i, j;

	if (e == NULL)
		return;
	for (i = 0; i < e->nsensors; i++) {
		struct engine_sensor *es = &e->sensors[i];

		for (j = 0; j < es->ntriggers; j++) {
			size_t k;

			for (k = 0; k < TMPL_COUNT; k++)
				sensor_tmpl_free(es->triggers[j].tmpl[k]);
			guard_config_clear(&es->triggers[j].cfg);
			json_decref(es->triggers[j].ownership);
			json_decref(es->triggers[j].demoted);
			free(es->triggers[j].id);
		}
		free(es->triggers);
		free(es->ident);
		sensor_free(es->sensor);
	}
	free(e->sensors);
	sig_set_free(e->sources);
	pol_set_free(e->policies);
	pol_scratch_free(e->admit_scratch);
	guard_state_free(e->state);
	guard_config_clear(&e->defaults);
	engine_reuse_clear(e);
	free(e);
}

void
engine_each_trigger(const struct engine *e,
    void (*fn)(void *ctx, const char *sensor, const char *trigger), void *ctx)
{
	size_t i, k;

	for (i = 0; i < e->nsensors; i++)
		for (k = 0; k < e->sensors[i].ntriggers; k++)
			fn(ctx, e->sensors[i].ident, sensor_trigger(
			    e->sensors[i].sensor, k)->name);
}

const struct engine_stats *
engine_stats(const struct engine *e)
{
	return &e->stats;
}

static char *
describe_sensor(const struct engine_sensor *es)
{
	struct buf b;
	char *s = sensor_describe(es->sensor);
	size_t i;

	buf_init(&b, 0);
	buf_adds(&b, s);
	free(s);
	for (i = 0; i < es->ntriggers; i++) {
		char *g = guard_config_describe(&es->triggers[i].cfg);

		buf_printf(&b, "; %s guardrails: %s",
		    sensor_trigger(es->sensor, i)->name, g);
		free(g);
	}
	return buf_steal(&b);
}

char *
engine_describe(const struct engine *e, const struct mdoc *d)
{
	struct buf b;
	size_t i, k;

	for (i = 0; i < e->nsensors; i++)
		if (e->sensors[i].doc == d)
			return describe_sensor(&e->sensors[i]);
	buf_init(&b, 0);
	for (i = 0; i < sig_set_count(e->sources); i++) {
		const struct sig_source *s = sig_set_get(e->sources, i);
		char *line;

		if (d->name == NULL || d->kind == NULL ||
		    strcmp(d->kind, "EventSource") != 0 ||
		    strcmp(sig_source_eventsource(s), d->name) != 0)
			continue;
		line = sig_source_describe(s);
		buf_printf(&b, "%s%s", b.len ? "; " : "", line);
		free(line);
	}
	if (b.len)
		return buf_steal(&b);
	buf_free(&b);
	for (k = 0; k < 2; k++) {
		enum conf_kind kind = k ? CONF_POLICY : CONF_CLUSTERPOLICY;
		size_t off = k ? e->conf->nby_kind[CONF_CLUSTERPOLICY] : 0;

		for (i = 0; i < e->conf->nby_kind[kind]; i++)
			if (e->conf->by_kind[kind][i] == d &&
			    off + i < pol_set_count(e->policies))
				return pol_describe(e->policies, off + i);
	}
	if (d->kind && strcmp(d->kind, "RemediationConfig") == 0) {
		char *g = guard_config_describe(&e->defaults);
		char *s = xasprintf("guardrail defaults: %s", g);

		free(g);
		return s;
	}
	return NULL;
}
