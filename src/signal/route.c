/*
 * Routing a cluster change to resource sources, applying each source's
 * filters as the API server (selectors) and Argo's informer (eventTypes,
 * prefix) would, and shaping the Argo Events payload.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "signal/signal.h"

/* The compiled source layout, private to this stage. */
#include "signal/source_int.h"

/*
 * Kubernetes' plural of a Kind, as discovery reports built-ins, into out
 * (PLURAL_LEN bytes).  Every resource event asks it of every source, so
 * it is copied, not printed.
 */
#define PLURAL_LEN	160

static void
plural_of(const char *kind, char out[PLURAL_LEN])
{
	size_t n = strlen(kind), i;

	if (n >= 124) {		/* no plural: kept as it is, cut to fit */
		if (n > PLURAL_LEN - 1)
			n = PLURAL_LEN - 1;
		memcpy(out, kind, n);
		out[n] = '\0';
		return;
	}
	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)kind[i]);
	out[n] = '\0';
	if (n == 0 || strcmp(out, "endpoints") == 0)
		return;
	if (n > 1 && out[n - 1] == 'y' && !strchr("aeiou", out[n - 2]))
		memcpy(out + n - 1, "ies", 4);
	else if (out[n - 1] == 's' || out[n - 1] == 'x' ||
	    (n > 1 && out[n - 1] == 'h' && strchr("cs", out[n - 2])))
		memcpy(out + n, "es", 3);
	else
		memcpy(out + n, "s", 2);
}

static int
matches_resource(const struct sig_source *s, json_t *obj)
{
	const char *kind = obj_kind(obj);
	const char *apiv = json_string_value(json_object_get(obj,
	    "apiVersion"));
	char plural[PLURAL_LEN];

	if (kind == NULL || *kind == '\0')
		return 0;
	plural_of(kind, plural);
	if (strcmp(plural, s->resource) != 0)
		return 0;
	if (apiv) {
		const char *slash = strchr(apiv, '/');
		size_t glen = slash ? (size_t)(slash - apiv) : 0;

		if (strlen(s->group) != glen ||
		    strncmp(s->group, apiv, glen) != 0)
			return 0;
	}
	return 1;
}

/* A dotted field path (reason, involvedObject.kind, metadata.name). */
static const char *
field_value(json_t *obj, const char *path, char *num, size_t numlen)
{
	const char *p = path, *dot;
	json_t *cur = obj;

	while (cur && *p) {
		char key[128];
		size_t len;

		dot = strchr(p, '.');
		len = dot ? (size_t)(dot - p) : strlen(p);
		if (len >= sizeof key)
			return NULL;
		memcpy(key, p, len);
		key[len] = '\0';
		cur = json_object_get(cur, key);
		p = dot ? dot + 1 : p + len;
	}
	if (json_is_string(cur))
		return json_string_value(cur);
	if (json_is_integer(cur)) {
		snprintf(num, numlen, "%lld", (long long)json_integer_value(cur));
		return num;
	}
	if (json_is_boolean(cur))
		return json_is_true(cur) ? "true" : "false";
	return NULL;
}

static int
in_list(const char *v, const char *list)
{
	size_t n = strlen(v);
	const char *p = list;

	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		while (len && *p == ' ') {
			p++;
			len--;
		}
		if (len == n && strncmp(p, v, n) == 0)
			return 1;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return 0;
}

static int
sel_ok(const struct sel *s, const char *v)
{
	const char *want = s->value ? s->value : "";

	if (strcmp(s->op, "exists") == 0)
		return v != NULL;
	if (strcmp(s->op, "!") == 0)
		return v == NULL;
	if (strcmp(s->op, "!=") == 0)
		return v == NULL || strcmp(v, want) != 0;
	if (strcmp(s->op, "notin") == 0)
		return v == NULL || !in_list(v, want);
	if (v == NULL)
		return 0;
	if (strcmp(s->op, "in") == 0)
		return in_list(v, want);
	if (strcmp(s->op, "gt") == 0 || strcmp(s->op, "lt") == 0) {
		long long a, b;

		if (util_parse_int(v, &a) || util_parse_int(want, &b))
			return 0;
		return s->op[0] == 'g' ? a > b : a < b;
	}
	return strcmp(v, want) == 0;
}

static int
passes_filters(const struct sig_source *s, json_t *obj)
{
	const char *ns = obj_namespace(obj), *name = obj_name(obj);
	json_t *labels = json_object_get(json_object_get(obj, "metadata"),
	    "labels");
	char num[32];
	size_t i;

	if (s->namespace && (ns == NULL || strcmp(ns, s->namespace) != 0))
		return 0;
	if (s->prefix && (name == NULL ||
	    strncmp(name, s->prefix, strlen(s->prefix)) != 0))
		return 0;
	for (i = 0; i < s->nlabels; i++)
		if (!sel_ok(&s->labels[i], json_string_value(
		    json_object_get(labels, s->labels[i].key))))
			return 0;
	for (i = 0; i < s->nfields; i++)
		if (!sel_ok(&s->fields[i], field_value(obj, s->fields[i].key,
		    num, sizeof num)))
			return 0;
	return 1;
}

int
sig_object_time(json_t *obj, int64_t *ms)
{
	static const char *const fields[] = {
		"lastTimestamp", "eventTime", "firstTimestamp",
	};
	const char *kind = obj_kind(obj), *t;
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(fields); i++) {
		t = json_string_value(json_object_get(obj, fields[i]));
		if (t && time_parse(t, ms) == 0)
			return 0;
	}
	if (kind == NULL || strcmp(kind, "Event") != 0)
		return -1;
	/*
	 * An Event always carries its time; one whose times are missing or
	 * unreadable is as old as its creation, and one that cannot be
	 * dated at all is not taken as fresh: arrival time would make an
	 * hour-old Event, relisted after a restart, pass maxSignalAge.
	 */
	t = json_string_value(json_object_get(json_object_get(obj,
	    "metadata"), "creationTimestamp"));
	if (t == NULL || time_parse(t, ms) != 0)
		*ms = 0;
	return 0;
}

/*
 * The payload's "type" strings, made once and shared (a reference each,
 * kept to the process's end), as the OOM Events' fixed strings are
 * (oom.c): every routed change would allocate and free one.
 */
static json_t		*type_text[3];	/* ADD, UPDATE, DELETE */
static pthread_once_t	 type_once = PTHREAD_ONCE_INIT;

static void
make_type_texts(void)
{
	type_text[0] = json_stringn_nocheck("ADD", 3);
	type_text[1] = json_stringn_nocheck("UPDATE", 6);
	type_text[2] = json_stringn_nocheck("DELETE", 6);
}

/*
 * Argo's payload {"type": "ADD|UPDATE|DELETE", "body": obj} (a new
 * reference; obj gets one more), member by member as the json_pack format
 * "{s:s, s:O}" made it: every routed change builds one.
 */
static json_t *
payload(enum sig_watch_type t, json_t *obj)
{
	json_t *p = json_object();

	pthread_once(&type_once, make_type_texts);
	json_object_setn_new_nocheck(p, "type", 4, json_incref(type_text[
	    t == SIG_ADD ? 0 : t == SIG_UPDATE ? 1 : 2]));
	json_object_setn_new_nocheck(p, "body", 4, json_incref(obj));
	return p;
}

static char *
make_id(const struct sig_source *s, enum sig_watch_type t, json_t *obj,
    int64_t when)
{
	const char *parts[] = { s->eventsource, s->name, obj_namespace(obj),
	    obj_name(obj), json_string_value(json_object_get(json_object_get(
	    obj, "metadata"), "resourceVersion")) };
	uint64_t h1 = UTIL_HASH_SEED;
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(parts); i++)
		if (parts[i])
			h1 = util_hash(parts[i], strlen(parts[i]) + 1, h1);
	h1 = util_hash(&t, sizeof t, h1);
	h1 = util_hash(&when, sizeof when, h1);
	return util_hash_id(h1, UTIL_HASH_SEED2);
}

static void
set_subject(struct event *ev, json_t *obj)
{
	const char *kind = obj_kind(obj);
	json_t *io = json_object_get(obj, "involvedObject");

	if (kind && strcmp(kind, "Event") == 0 && json_is_object(io)) {
		const char *k = json_string_value(json_object_get(io, "kind"));
		const char *n = json_string_value(json_object_get(io, "name"));
		const char *ns = json_string_value(json_object_get(io,
		    "namespace"));

		ev->subject.kind = k ? xstrdup(k) : NULL;
		ev->subject.name = n ? xstrdup(n) : NULL;
		ev->subject.namespace = ns && *ns ? xstrdup(ns) : NULL;
		return;
	}
	ev->subject.kind = kind ? xstrdup(kind) : NULL;
	ev->subject.name = obj_name(obj) ? xstrdup(obj_name(obj)) : NULL;
	ev->subject.namespace = obj_namespace(obj) ?
	    xstrdup(obj_namespace(obj)) : NULL;
}

static void
route_one(const struct sig_source *s, enum sig_watch_type t, json_t *obj,
    int64_t when, sig_emit_fn emit, void *ctx)
{
	struct event ev;

	if (s->type != SIG_RESOURCE || !(s->event_types & t) ||
	    !matches_resource(s, obj) || !passes_filters(s, obj))
		return;
	memset(&ev, 0, sizeof ev);
	ev.source = s->eventsource;
	ev.name = s->name;
	ev.type = sig_type_name(SIG_RESOURCE);
	ev.time = when;
	ev.id = make_id(s, t, obj, when);
	ev.data = payload(t, obj);
	set_subject(&ev, obj);
	emit(ctx, &ev);
	event_clear(&ev);
}

void
sig_route_watch(const struct sig_set *set, enum sig_watch_type t,
    json_t *obj, int64_t now, sig_emit_fn emit, void *ctx)
{
	size_t i;
	int64_t when;

	if (sig_object_time(obj, &when) == -1)
		when = now;
	for (i = 0; i < set->n; i++)
		route_one(set->v[i], t, obj, when, emit, ctx);
}

void
sig_route_watch_one(const struct sig_set *set, size_t i,
    enum sig_watch_type t, json_t *obj, int64_t now, sig_emit_fn emit,
    void *ctx)
{
	int64_t when;

	if (i >= set->n)
		return;
	if (sig_object_time(obj, &when) == -1)
		when = now;
	route_one(set->v[i], t, obj, when, emit, ctx);
}

/*
 * An alert is about the workload its labels name; a resolved alert is as
 * fresh as its end (as live ingest times it), a firing one as its start.
 */
static void
infer_from_alert(struct event *ev, json_t *alert)
{
	const char *status = json_string_value(json_object_get(alert,
	    "status"));
	const char *when = json_string_value(json_object_get(alert,
	    status && strcmp(status, "resolved") == 0 ? "endsAt" : "startsAt"));
	int64_t t;

	if (when && time_parse(when, &t) == 0)
		ev->time = t;
	sig_labels_subject(json_object_get(alert, "labels"), ev);
}

void
sig_event_infer(struct event *ev)
{
	json_t *body = json_object_get(ev->data, "body");
	int64_t t;

	if (ev->subject.kind != NULL || !json_is_object(body))
		return;
	if (json_is_object(json_object_get(body, "labels")) &&
	    json_object_get(body, "startsAt")) {
		infer_from_alert(ev, body);
		return;
	}
	if (obj_kind(body) && obj_name(body)) {
		set_subject(ev, body);
		if (strcmp(obj_kind(body), "Event") == 0 &&
		    sig_object_time(body, &t) == 0)
			ev->time = t;
	}
}
