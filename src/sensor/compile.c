/*
 * A Sensor manifest, already checked against conf's schema, compiled into
 * what sensor_feed runs: dependencies with prepared filters, triggers with
 * prepared conditions, parameters and templates.  Every semantic problem
 * becomes a diagnostic at its place in the manifest, and compilation goes
 * on so `remediate check` shows them all.
 *
 * The sensor keeps a reference to the manifest's JSON: triggers hand out
 * borrowed pieces of it (template, guardrails) for as long as the sensor
 * lives, whatever happens to the mdoc.
 */
#include <stdlib.h>
#include <string.h>

#include "sensor/sensor_int.h"

struct loc
sensor_loc(const struct mdoc *doc, const json_t *node)
{
	if (doc->marks == NULL || node == NULL)
		return (struct loc){ doc->file, 0, 0 };
	return conf_loc(doc, node);
}

struct loc
sensor_loc_key(const struct mdoc *doc, const json_t *obj, const char *key)
{
	if (doc->marks == NULL || obj == NULL)
		return (struct loc){ doc->file, 0, 0 };
	return conf_loc_key(doc, obj, key);
}

json_t *
sensor_event_context(const struct event *ev)
{
	char when[TIME_FMTLEN];

	time_format(ev->time, when, sizeof when);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
	    "datacontenttype", "application/json",
	    "id", ev->id ? ev->id : "",
	    "source", ev->source ? ev->source : "",
	    "specversion", "1.0",
	    "subject", ev->name ? ev->name : "",
	    "time", when,
	    "type", ev->type ? ev->type : "");
}

static const char *
str_of(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void
compile_dep(struct sensor *s, struct sensor_dep *dep, const struct mdoc *doc,
    json_t *o, struct diags *d)
{
	const char *name = str_of(o, "name"), *ev = str_of(o, "eventName"),
	    *src = str_of(o, "eventSourceName"), *op;
	json_t *f, *fop;
	size_t i;

	dep->at = sensor_loc(doc, o);
	if (!json_is_object(o)) {
		diag_error(d, dep->at, "a dependency is an object");
		dep->name = xstrdup("");
		dep->source = xstrdup("");
		dep->event = xstrdup("");
		return;
	}
	if (name == NULL || *name == '\0')
		diag_error(d, dep->at, "dependency without a name");
	if (src == NULL || *src == '\0')
		diag_error(d, dep->at, "dependency %s without eventSourceName",
		    name ? name : "");
	if (ev == NULL || *ev == '\0')
		diag_error(d, dep->at, "dependency %s without eventName",
		    name ? name : "");
	dep->name = xstrdup(name ? name : "");
	dep->source = xstrdup(src ? src : "");
	dep->event = xstrdup(ev ? ev : "");
	dep->hash = sensor_dep_hash(dep->source, dep->event);
	for (i = 0; s->deps + i < dep; i++) {
		if (strcmp(s->deps[i].name, dep->name) == 0 && *dep->name) {
			diag_error(d, sensor_loc(doc, json_object_get(o,
			    "name")), "dependency %s is named twice",
			    dep->name);
			break;
		}
	}
	if (json_object_get(o, "transform"))
		diag_error(d, sensor_loc_key(doc, o, "transform"), "transform "
		    "(jq, script) is not supported");
	if ((f = json_object_get(o, "filters")) != NULL) {
		dep->has_filters = 1;
		if (json_is_object(f))
			sensor_filters_compile(&dep->f, doc, f, d);
		else
			diag_error(d, sensor_loc(doc, f), "filters is an "
			    "object");
	}
	fop = json_object_get(o, "filtersLogicalOperator");
	op = json_string_value(fop);
	if (fop && !(op && (*op == '\0' || strcmp(op, "and") == 0 ||
	    strcmp(op, "or") == 0)))
		diag_error(d, sensor_loc(doc, fop), "filtersLogicalOperator "
		    "must be \"and\" or \"or\" (lower case)");
	dep->filters_or = op && strcmp(op, "or") == 0;
}

struct sensor *
sensor_compile(const struct mdoc *doc, struct diags *d)
{
	struct sensor *s;
	json_t *root = doc->root, *spec, *deps, *meta;
	size_t before = d->errors, i;
	const char *name, *ns;

	if (!json_is_object(root)) {
		diag_error(d, sensor_loc(doc, root), "a Sensor is an object");
		return NULL;
	}
	meta = json_object_get(root, "metadata");
	name = doc->name ? doc->name : str_of(meta, "name");
	ns = doc->namespace ? doc->namespace : str_of(meta, "namespace");
	s = xcalloc(1, sizeof *s);
	s->root = json_incref(root);
	s->name = xstrdup(name ? name : "");
	s->namespace = xstrdup(ns ? ns : "");
	spec = json_object_get(root, "spec");
	if (!json_is_object(spec)) {
		diag_error(d, sensor_loc(doc, root), "Sensor %s has no spec",
		    s->name);
		goto out;
	}
	deps = json_object_get(spec, "dependencies");
	if (!json_is_array(deps) || json_array_size(deps) == 0) {
		diag_error(d, deps ? sensor_loc(doc, deps) :
		    sensor_loc(doc, spec), "Sensor %s has no dependencies",
		    s->name);
	} else {
		s->ndeps = json_array_size(deps);
		s->deps = xcalloc(s->ndeps, sizeof *s->deps);
		for (i = 0; i < s->ndeps; i++)
			compile_dep(s, &s->deps[i], doc,
			    json_array_get(deps, i), d);
	}
	s->hit = xcalloc(s->ndeps + 1, 1);
	s->fdata = xcalloc(s->ndeps + 1, sizeof *s->fdata);
	s->fctx = xcalloc(s->ndeps + 1, sizeof *s->fctx);
	s->fhave = xcalloc(s->ndeps + 1, 1);
	sensor_triggers_compile(s, doc, json_object_get(spec, "triggers"), d);
out:
	if (d->errors > before) {
		sensor_free(s);
		return NULL;
	}
	return s;
}

void
sensor_free(struct sensor *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->ndeps; i++) {
		free(s->deps[i].name);
		free(s->deps[i].source);
		free(s->deps[i].event);
		sensor_filters_free(&s->deps[i].f);
	}
	free(s->deps);
	for (i = 0; i < s->ntrigs; i++)
		sensor_trig_free(&s->trigs[i], s->ndeps);
	free(s->trigs);
	free(s->hit);
	free(s->fdata);
	free(s->fctx);
	free(s->fhave);
	free(s->name);
	free(s->namespace);
	json_decref(s->root);
	free(s);
}

const char *
sensor_name(const struct sensor *s)
{
	return s->name;
}

const char *
sensor_namespace(const struct sensor *s)
{
	return s->namespace;
}

size_t
sensor_ntriggers(const struct sensor *s)
{
	return s->ntrigs;
}

const struct sensor_trigger *
sensor_trigger(const struct sensor *s, size_t i)
{
	return i < s->ntrigs ? &s->trigs[i].pub : NULL;
}

static const char *
unit_name(int64_t ms)
{
	return ms == 1000 ? "Second" : ms == 60000 ? "Minute" : "Hour";
}

char *
sensor_describe(const struct sensor *s)
{
	const struct trig *t;
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	buf_printf(&b, "%zu dependenc%s (", s->ndeps, s->ndeps == 1 ? "y" :
	    "ies");
	for (i = 0; i < s->ndeps; i++)
		buf_printf(&b, "%s%s/%s", i ? ", " : "", s->deps[i].source,
		    s->deps[i].event);
	buf_printf(&b, "), %zu trigger%s (", s->ntrigs, s->ntrigs == 1 ? "" :
	    "s");
	for (i = 0; i < s->ntrigs; i++) {
		t = &s->trigs[i];
		buf_printf(&b, "%s%s: %s", i ? "; " : "", t->pub.name,
		    t->describe ? t->describe : "");
		if (t->pub.has_rate_limit)
			buf_printf(&b, ", rate %lld/%s",
			    (long long)t->pub.rate_per_unit,
			    unit_name(t->pub.rate_unit));
		if (t->cond_src)
			buf_printf(&b, ", when %s", t->cond_src);
	}
	buf_addc(&b, ')');
	return buf_steal(&b);
}
