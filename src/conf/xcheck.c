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

/*
 * Every manifest is remembered by kind, namespace and name in one table,
 * so a configuration of thousands of manifests is checked in one pass
 * (the pairwise comparison it replaces was quadratic).
 */
static void
duplicates(struct conf *c, struct diags *dg)
{
	struct map seen;
	struct mdoc *a, *b;
	struct loc first;
	char id[512], *key;
	size_t i;

	map_init(&seen);
	for (i = 0; i < c->ndocs; i++) {
		a = c->docs[i];
		if (a->name == NULL)
			continue;
		/* \x1f: a character no kind, namespace or name holds */
		key = xasprintf("%s\x1f%s\x1f%s", a->kind, ns_of(a), a->name);
		if ((b = map_get(&seen, key)) == NULL) {
			map_put(&seen, key, a);
			free(key);
			continue;
		}
		free(key);
		mdoc_ident(a, id, sizeof id);
		first = name_loc(b);
		diag_error(dg, name_loc(a), "%s %s is defined twice", a->kind,
		    id);
		diag_hint(dg, "the first is in %s at line %d", first.file,
		    first.line);
		a->invalid = 1;
	}
	map_clear(&seen, NULL);
}

/*
 * The event names of an EventSource, the keys under each source type, as
 * an owned array (the strings borrowed from the document); *n its length.
 * However many there are: a fixed array once cut them at 256 and then
 * suggested a wrong name for a dependency on the 257th.
 */
static const char **
event_names(const struct mdoc *es, size_t *n)
{
	json_t *spec = json_object_get(es->root, "spec"), *m, *v;
	const char *type, *name, **out = NULL;
	size_t cap = 0;

	*n = 0;
	json_object_foreach(spec, type, m) {
		if (!json_is_object(m) || strcmp(type, "template") == 0 ||
		    strcmp(type, "service") == 0)
			continue;
		json_object_foreach(m, name, v) {
			if (!json_is_object(v))
				continue;
			xgrow(&out, &cap, *n + 1, sizeof *out);
			out[(*n)++] = name;
		}
	}
	return out;
}

static int
check_event_name(const struct mdoc *s, json_t *dep, size_t di,
    const struct mdoc *es, struct diags *dg)
{
	const char *want = json_string_value(json_object_get(dep,
	    "eventName")), **names, *pick;
	size_t n, i;
	struct buf b;

	if (want == NULL)
		return 0;
	names = event_names(es, &n);
	for (i = 0; i < n; i++)
		if (strcmp(names[i], want) == 0) {
			free(names);
			return 0;
		}
	diag_error(dg, conf_loc_value(s, dep, "eventName", 0),
	    "spec.dependencies[%zu].eventName: EventSource %s has no event "
	    "named \"%s\"", di, es->name, want);
	if ((pick = util_suggest(want, names, n)) != NULL) {
		diag_hint(dg, "did you mean \"%s\"?", pick);
		free(names);
		return -1;
	}
	buf_init(&b, 400);
	for (i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", names[i]);
	if (n > 0)
		diag_hint(dg, "its events: %s", b.data);
	buf_free(&b);
	free(names);
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
