/*
 * Checks across documents, once every file is loaded: no two manifests of
 * one kind share a namespace and name, and each sensor dependency names an
 * EventSource that exists and an event that source defines.  A document
 * these checks find wrong is marked invalid, like a schema failure.
 */
#include <stdlib.h>
#include <string.h>

#include "conf/internal.h"

static const char *
ns_of(const struct mdoc *d)
{
	return d->namespace ? d->namespace : "";
}

static int
same_ns(const struct mdoc *a, const struct mdoc *b)
{
	/* a manifest without namespace lands in whichever it is applied to */
	return a->namespace == NULL || b->namespace == NULL ||
	    strcmp(a->namespace, b->namespace) == 0;
}

static struct loc
name_loc(const struct mdoc *d)
{
	json_t *meta = json_object_get(d->root, "metadata");

	return conf_loc_value(d, meta, "name", 0);
}

static void
duplicates(struct conf *c, struct diags *dg)
{
	size_t i, j;
	struct mdoc *a, *b;
	struct loc first;
	char id[512];

	for (i = 1; i < c->ndocs; i++) {
		a = c->docs[i];
		if (a->name == NULL)
			continue;
		for (j = 0; j < i; j++) {
			b = c->docs[j];
			if (b->name == NULL || strcmp(a->kind, b->kind) != 0 ||
			    strcmp(a->name, b->name) != 0 ||
			    strcmp(ns_of(a), ns_of(b)) != 0)
				continue;
			mdoc_ident(a, id, sizeof id);
			first = name_loc(b);
			diag_error(dg, name_loc(a), "%s %s is defined twice",
			    a->kind, id);
			diag_hint(dg, "the first is in %s at line %d",
			    first.file, first.line);
			a->invalid = 1;
			break;
		}
	}
}

/* The event names of an EventSource: the keys under each source type. */
static size_t
event_names(const struct mdoc *es, const char **out, size_t max)
{
	json_t *spec = json_object_get(es->root, "spec"), *m, *v;
	const char *type, *name;
	size_t n = 0;

	json_object_foreach(spec, type, m) {
		if (!json_is_object(m) || strcmp(type, "template") == 0 ||
		    strcmp(type, "service") == 0)
			continue;
		json_object_foreach(m, name, v)
			if (n < max && json_is_object(v))
				out[n++] = name;
	}
	return n;
}

static int
check_event_name(const struct mdoc *s, json_t *dep, size_t di,
    const struct mdoc *es, struct diags *dg)
{
	const char *want = json_string_value(json_object_get(dep,
	    "eventName")), *names[256], *pick;
	size_t n = event_names(es, names, UTIL_ARRAY_LEN(names)), i;
	struct buf b;

	if (want == NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(names[i], want) == 0)
			return 0;
	diag_error(dg, conf_loc_value(s, dep, "eventName", 0),
	    "spec.dependencies[%zu].eventName: EventSource %s has no event "
	    "named \"%s\"", di, es->name, want);
	if ((pick = util_suggest(want, names, n)) != NULL) {
		diag_hint(dg, "did you mean \"%s\"?", pick);
		return -1;
	}
	buf_init(&b, 400);
	for (i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", names[i]);
	if (n > 0)
		diag_hint(dg, "its events: %s", b.data);
	buf_free(&b);
	return -1;
}

static int
check_dependency(struct conf *c, const struct mdoc *s, json_t *dep,
    size_t di, struct diags *dg)
{
	const char *want = json_string_value(json_object_get(dep,
	    "eventSourceName")), **names, *pick;
	size_t i, n = 0, samename = 0;
	const struct mdoc *es, *found = NULL;

	if (want == NULL)
		return 0;
	names = xcalloc(c->ndocs + 1, sizeof *names);
	for (i = 0; i < c->ndocs; i++) {
		es = c->docs[i];
		if (strcmp(es->kind, "EventSource") != 0 || es->name == NULL)
			continue;
		names[n++] = es->name;
		if (strcmp(es->name, want) != 0)
			continue;
		samename++;
		if (found == NULL && same_ns(s, es))
			found = es;
	}
	if (found != NULL) {
		free(names);
		return check_event_name(s, dep, di, found, dg);
	}
	if (samename > 0)
		diag_error(dg, conf_loc_value(s, dep, "eventSourceName", 0),
		    "spec.dependencies[%zu].eventSourceName: EventSource "
		    "\"%s\" is not in the sensor's namespace %s", di, want,
		    ns_of(s));
	else {
		diag_error(dg, conf_loc_value(s, dep, "eventSourceName", 0),
		    "spec.dependencies[%zu].eventSourceName: no EventSource "
		    "named \"%s\" is loaded", di, want);
		if ((pick = util_suggest(want, names, n)) != NULL)
			diag_hint(dg, "did you mean \"%s\"?", pick);
		else if (n == 0)
			diag_hint(dg, "load the EventSource manifest too: "
			    "remediate check -c DIR reads a whole directory");
	}
	free(names);
	return -1;
}

static void
dependencies(struct conf *c, struct diags *dg)
{
	size_t i, j;
	struct mdoc *s;
	json_t *deps, *dep;

	for (i = 0; i < c->ndocs; i++) {
		s = c->docs[i];
		if (strcmp(s->kind, "Sensor") != 0)
			continue;
		deps = json_object_get(json_object_get(s->root, "spec"),
		    "dependencies");
		json_array_foreach(deps, j, dep)
			if (json_is_object(dep) &&
			    check_dependency(c, s, dep, j, dg) != 0)
				s->invalid = 1;
	}
}

void
conf_xcheck(struct conf *c, struct diags *dg)
{
	duplicates(c, dg);
	dependencies(c, dg);
}
