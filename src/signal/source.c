/*
 * Event sources compiled from EventSource manifests, and the routing of
 * cluster changes to `resource` sources.
 *
 * A resource source names a resource by group, version and plural
 * (`events`); watch events carry objects by apiVersion and Kind.  We match
 * by group and by the Kind's plural as Kubernetes forms it for built-in
 * kinds, which is what the API server's discovery would give.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "signal/signal.h"

#include "signal/source_int.h"

struct sig_set *
sig_set_new(void)
{
	return xcalloc(1, sizeof(struct sig_set));
}

static void
free_sels(struct sel *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(s[i].key);
		free(s[i].op);
		free(s[i].value);
	}
	free(s);
}

static void
source_free(struct sig_source *s)
{
	free(s->eventsource);
	free(s->name);
	free(s->group);
	free(s->version);
	free(s->resource);
	free(s->namespace);
	free(s->prefix);
	free(s->detail);
	free_sels(s->labels, s->nlabels);
	free_sels(s->fields, s->nfields);
	free(s);
}

void
sig_set_free(struct sig_set *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++)
		source_free(set->v[i]);
	free(set->v);
	free(set);
}

size_t
sig_set_count(const struct sig_set *set)
{
	return set->n;
}

const struct sig_source *
sig_set_get(const struct sig_set *set, size_t i)
{
	return i < set->n ? set->v[i] : NULL;
}

const char *
sig_source_eventsource(const struct sig_source *s)
{
	return s->eventsource;
}

const char *
sig_source_name(const struct sig_source *s)
{
	return s->name;
}

enum sig_type
sig_source_type(const struct sig_source *s)
{
	return s->type;
}

const char *
sig_type_name(enum sig_type t)
{
	switch (t) {
	case SIG_RESOURCE:
		return "resource";
	case SIG_WEBHOOK:
		return "webhook";
	case SIG_CALENDAR:
		return "calendar";
	case SIG_PROMETHEUS:
		return "prometheus";
	}
	return NULL;
}

static char *
dup_str(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? xstrdup(v) : NULL;
}

static void
compile_sels(json_t *arr, struct sel **out, size_t *n)
{
	json_t *it;
	size_t i;

	*n = json_array_size(arr);
	*out = *n ? xcalloc(*n, sizeof **out) : NULL;
	json_array_foreach(arr, i, it) {
		(*out)[i].key = dup_str(it, "key");
		(*out)[i].op = dup_str(it, "operation");
		(*out)[i].value = dup_str(it, "value");
		if ((*out)[i].key == NULL)
			(*out)[i].key = xstrdup("");
		if ((*out)[i].op == NULL)
			(*out)[i].op = xstrdup("==");
	}
}

static void
add_source(struct sig_set *set, struct sig_source *s)
{
	xgrow(&set->v, &set->cap, set->n + 1, sizeof *set->v);
	set->v[set->n++] = s;
}

static const char *const known_ops[] = {
	"=", "==", "!=", "in", "notin", "exists", "!", "gt", "lt",
};

static void
check_ops(const struct mdoc *d, json_t *arr, struct diags *dg)
{
	json_t *it;
	size_t i, k;

	json_array_foreach(arr, i, it) {
		const char *op = json_string_value(json_object_get(it,
		    "operation"));
		int ok = op == NULL;

		for (k = 0; op && k < UTIL_ARRAY_LEN(known_ops); k++)
			ok |= strcmp(op, known_ops[k]) == 0;
		if (!ok) {
			diag_error(dg, conf_loc(d, json_object_get(it,
			    "operation")), "unknown selector operation \"%s\"",
			    op);
			diag_hint(dg, "use one of = == != in notin exists ! "
			    "gt lt");
		}
	}
}

static void
compile_resource(struct sig_set *set, const struct mdoc *d, const char *name,
    json_t *spec, struct diags *dg)
{
	struct sig_source *s = xcalloc(1, sizeof *s);
	json_t *types = json_object_get(spec, "eventTypes"), *t, *filter;
	size_t i;

	s->eventsource = xstrdup(d->name ? d->name : "");
	s->name = xstrdup(name);
	s->type = SIG_RESOURCE;
	s->group = dup_str(spec, "group");
	s->version = dup_str(spec, "version");
	s->resource = dup_str(spec, "resource");
	s->namespace = dup_str(spec, "namespace");
	if (s->group == NULL)
		s->group = xstrdup("");
	if (s->resource == NULL)
		s->resource = xstrdup("");
	if (s->namespace && *s->namespace == '\0') {
		free(s->namespace);
		s->namespace = NULL;
	}
	json_array_foreach(types, i, t)
		s->event_types |= sig_watch_type_parse(json_string_value(t));
	if (json_array_size(types) == 0)
		s->event_types = SIG_ADD | SIG_UPDATE | SIG_DELETE;
	filter = json_object_get(spec, "filter");
	s->prefix = dup_str(filter, "prefix");
	compile_sels(json_object_get(filter, "labels"), &s->labels,
	    &s->nlabels);
	compile_sels(json_object_get(filter, "fields"), &s->fields,
	    &s->nfields);
	check_ops(d, json_object_get(filter, "labels"), dg);
	check_ops(d, json_object_get(filter, "fields"), dg);
	add_source(set, s);
}

static void
compile_other(struct sig_set *set, const struct mdoc *d, enum sig_type type,
    const char *name, json_t *spec)
{
	struct sig_source *s = xcalloc(1, sizeof *s);

	s->eventsource = xstrdup(d->name ? d->name : "");
	s->name = xstrdup(name);
	s->type = type;
	switch (type) {
	case SIG_WEBHOOK:
		s->detail = xasprintf("%s %s",
		    json_string_value(json_object_get(spec, "method")) ?
		    json_string_value(json_object_get(spec, "method")) : "POST",
		    json_string_value(json_object_get(spec, "endpoint")) ?
		    json_string_value(json_object_get(spec, "endpoint")) : "/");
		break;
	case SIG_CALENDAR:
		s->detail = dup_str(spec, "schedule");
		if (s->detail == NULL)
			s->detail = dup_str(spec, "interval");
		break;
	case SIG_PROMETHEUS:
		s->detail = dup_str(spec, "query");
		break;
	case SIG_RESOURCE:
		break;
	}
	add_source(set, s);
}

int
sig_set_add(struct sig_set *set, const struct mdoc *d, struct diags *dg)
{
	static const struct {
		const char	*field;
		enum sig_type	 type;
	} kinds[] = {
		{ "resource", SIG_RESOURCE }, { "webhook", SIG_WEBHOOK },
		{ "calendar", SIG_CALENDAR }, { "prometheus", SIG_PROMETHEUS },
	};
	json_t *spec = json_object_get(d->root, "spec"), *entries, *e;
	const char *name;
	size_t k, before = dg->errors;

	for (k = 0; k < UTIL_ARRAY_LEN(kinds); k++) {
		entries = json_object_get(spec, kinds[k].field);
		json_object_foreach(entries, name, e) {
			if (kinds[k].type == SIG_RESOURCE)
				compile_resource(set, d, name, e, dg);
			else
				compile_other(set, d, kinds[k].type, name, e);
		}
	}
	return dg->errors > before ? -1 : 0;
}

int
sig_set_watches_events(const struct sig_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (set->v[i]->type == SIG_RESOURCE &&
		    strcmp(set->v[i]->resource, "events") == 0 &&
		    *set->v[i]->group == '\0')
			return 1;
	return 0;
}

char *
sig_source_describe(const struct sig_source *s)
{
	struct buf b;
	static const char *const tnames[] = { "ADD", "UPDATE", "DELETE" };
	size_t i;
	const char *sep = "";

	buf_init(&b, 0);
	switch (s->type) {
	case SIG_RESOURCE:
		buf_printf(&b, "resource %s: %s%s%s/%s", s->name, s->group,
		    *s->group ? "/" : "", s->version ? s->version : "",
		    s->resource);
		buf_printf(&b, " in %s, ", s->namespace ? s->namespace :
		    "all namespaces");
		for (i = 0; i < 3; i++) {
			if (s->event_types & (1u << i)) {
				buf_printf(&b, "%s%s", sep, tnames[i]);
				sep = "|";
			}
		}
		if (s->nfields + s->nlabels)
			buf_printf(&b, ", %zu selector%s",
			    s->nfields + s->nlabels,
			    s->nfields + s->nlabels == 1 ? "" : "s");
		break;
	case SIG_WEBHOOK:
		buf_printf(&b, "webhook %s: %s", s->name, s->detail);
		break;
	case SIG_CALENDAR:
		buf_printf(&b, "calendar %s: %s", s->name,
		    s->detail ? s->detail : "");
		break;
	case SIG_PROMETHEUS:
		buf_printf(&b, "prometheus %s: %s", s->name,
		    s->detail ? s->detail : "");
		break;
	}
	return buf_steal(&b);
}

enum sig_watch_type
sig_watch_type_parse(const char *s)
{
	if (s == NULL)
		return 0;
	if (strcmp(s, "ADDED") == 0 || strcmp(s, "ADD") == 0)
		return SIG_ADD;
	if (strcmp(s, "MODIFIED") == 0 || strcmp(s, "UPDATE") == 0)
		return SIG_UPDATE;
	if (strcmp(s, "DELETED") == 0 || strcmp(s, "DELETE") == 0)
		return SIG_DELETE;
	return 0;
}

/* One requirement in the API server's selector syntax, or none. */
static int
add_requirement(struct buf *b, const struct sel *s, int field)
{
	const char *v = s->value ? s->value : "";

	if (b->len)
		buf_addc(b, ',');
	if (strcmp(s->op, "=") == 0 || strcmp(s->op, "==") == 0)
		return buf_printf(b, "%s=%s", s->key, v);
	if (strcmp(s->op, "!=") == 0)
		return buf_printf(b, "%s!=%s", s->key, v);
	if (field)
		return -1;
	if (strcmp(s->op, "in") == 0 || strcmp(s->op, "notin") == 0)
		return buf_printf(b, "%s %s (%s)", s->key, s->op, v);
	if (strcmp(s->op, "exists") == 0)
		return buf_adds(b, s->key);
	if (strcmp(s->op, "!") == 0)
		return buf_printf(b, "!%s", s->key);
	return -1;
}

static char *
selector(const struct sel *v, size_t n, int field)
{
	struct buf b;
	size_t i, before;

	buf_init(&b, 0);
	for (i = 0; i < n; i++) {
		before = b.len;
		if (add_requirement(&b, &v[i], field) == -1) {
			b.len = before;	/* gt, lt: filtered in-process */
			b.data[b.len] = '\0';
		}
	}
	if (b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

int
sig_source_watch(const struct sig_source *s, struct sig_watch *w)
{
	memset(w, 0, sizeof *w);
	if (s->type != SIG_RESOURCE)
		return -1;
	w->eventsource = s->eventsource;
	w->name = s->name;
	w->group = s->group;
	w->version = s->version ? s->version : "v1";
	w->resource = s->resource;
	w->namespace = s->namespace;
	w->label_selector = selector(s->labels, s->nlabels, 0);
	w->field_selector = selector(s->fields, s->nfields, 1);
	return 0;
}

void
sig_watch_clear(struct sig_watch *w)
{
	free(w->label_selector);
	free(w->field_selector);
	memset(w, 0, sizeof *w);
}
