/*
 * The API permissions a configuration needs, derived from what the
 * engine compiled: the watches `run` starts (engine_watches: each
 * resource source's, the cluster view's), each trigger's action (its
 * verbs from the action stage's table), and the Events recorded on the
 * targets of executed actions.  `remediate rbac` turns them into RBAC
 * rules and `run` asks the server about each one before it acts, so the
 * two can never disagree with what the daemon sends.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "kube/kube.h"

struct perms {
	struct engine_perm	*v;
	size_t			 n, cap;
};

static struct engine_perm *
add(struct perms *p, const char *group, const char *resource,
    const char *verb, const char *ns, const char *manifest, const char *why)
{
	struct engine_perm *x;

	xgrow(&p->v, &p->cap, p->n + 1, sizeof *p->v);
	x = &p->v[p->n++];
	memset(x, 0, sizeof *x);
	x->group = group ? xstrdup(group) : NULL;
	x->resource = resource ? xstrdup(resource) : NULL;
	x->verb = verb ? xstrdup(verb) : NULL;
	x->namespace = ns ? xstrdup(ns) : NULL;
	x->manifest = manifest ? xstrdup(manifest) : NULL;
	x->why = why ? xstrdup(why) : NULL;
	return x;
}

/* "Kind ns/name (file)" for doc, owned. */
static char *
manifest_of(const struct mdoc *d)
{
	return xasprintf("%s %s%s%s (%s)", d->kind ? d->kind : "?",
	    d->namespace ? d->namespace : "", d->namespace ? "/" : "",
	    d->name ? d->name : "?", d->file);
}

static const struct mdoc *
eventsource_doc(const struct engine *e, const char *name)
{
	size_t i;

	for (i = 0; name && i < e->conf->nby_kind[CONF_EVENTSOURCE]; i++)
		if (e->conf->by_kind[CONF_EVENTSOURCE][i]->name &&
		    strcmp(e->conf->by_kind[CONF_EVENTSOURCE][i]->name,
		    name) == 0)
			return e->conf->by_kind[CONF_EVENTSOURCE][i];
	return NULL;
}

static const char *
view_why(const char *resource)
{
	if (strcmp(resource, "nodes") == 0)
		return "cluster view: the Nodes' allocatable memory weighs "
		    "bumpMemory's maxClusterImpact";
	if (strcmp(resource, "pods") == 0)
		return "cluster view: owner chain, opt-in labels, blast "
		    "radius, the OOM detector";
	return "cluster view: the controllers that own pods (targets, "
	    "opt-in labels, blast radius)";
}

static void
add_watches(const struct engine *e, struct perms *p)
{
	struct sig_watch *w;
	const struct mdoc *d;
	size_t i, n = engine_watches(e, &w);
	char *m, *why;

	for (i = 0; i < n; i++) {
		m = NULL;
		if (w[i].source >= 0) {
			d = eventsource_doc(e, w[i].eventsource);
			m = d ? manifest_of(d) : xasprintf("EventSource %s",
			    w[i].eventsource ? w[i].eventsource : "?");
			why = xasprintf("resource source %s: list+watch",
			    w[i].name ? w[i].name : "?");
		} else
			why = xstrdup(view_why(w[i].resource));
		add(p, w[i].group, w[i].resource, "list", w[i].namespace, m,
		    why);
		add(p, w[i].group, w[i].resource, "watch", w[i].namespace, m,
		    why);
		free(m);
		free(why);
		sig_watch_clear(&w[i]);
	}
	free(w);
}

/* Does any parameter of the trigger (either level) write a path with key? */
static int
param_writes(const json_t *params, const char *key)
{
	const json_t *prm;
	const char *dest;
	size_t i, kl = strlen(key), dl;

	json_array_foreach(params, i, prm) {
		dest = json_string_value(json_object_get(prm, "dest"));
		if (dest == NULL)
			continue;
		dl = strlen(dest);
		if (dl >= kl && strcmp(dest + dl - kl, key) == 0)
			return 1;
	}
	return 0;
}

/* The trigger's manifest entry (spec.triggers[].template.name == name). */
static const json_t *
trigger_entry(const struct engine_sensor *es, const char *name)
{
	const json_t *t;
	const char *s;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(es->doc->root,
	    "spec"), "triggers"), i, t) {
		s = json_string_value(json_object_get(json_object_get(t,
		    "template"), "name"));
		if (s && name && strcmp(s, name) == 0)
			return t;
	}
	return NULL;
}

/* A static string field of res, or NULL when templated or absent. */
static const char *
static_field(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s && strstr(s, "{{") == NULL ? s : NULL;
}

static void
add_k8s(const struct engine_sensor *es, const struct sensor_trigger *t,
    const char *m, struct perms *p)
{
	const json_t *res = json_object_get(json_object_get(t->tmpl,
	    "source"), "resource");
	const json_t *entry = trigger_entry(es, t->name);
	const json_t *p1 = json_object_get(t->tmpl, "parameters");
	const json_t *p2 = json_object_get(entry, "parameters");
	const char *av = static_field(res, "apiVersion");
	const char *kind = static_field(res, "kind");
	const char *ns = static_field(json_object_get(res, "metadata"),
	    "namespace"), *verbs[2];
	struct kube_resource kr;
	struct engine_perm *x;
	char *why;
	size_t i, n;

	if (param_writes(p1, "apiVersion") || param_writes(p2, "apiVersion"))
		av = NULL;
	if (param_writes(p1, "kind") || param_writes(p2, "kind"))
		kind = NULL;
	if (av == NULL || kind == NULL ||
	    kube_resource_builtin(av, kind, &kr) < 0) {
		x = add(p, NULL, NULL, NULL, NULL, m, NULL);
		x->error = av && kind ? xasprintf("trigger %s: kind %s %s is "
		    "not one remediate knows the resource of; grant it by "
		    "hand", t->name, av, kind) : xasprintf("trigger %s: the "
		    "resource's apiVersion or kind is templated; its "
		    "permission cannot be named", t->name);
		return;
	}
	/* Argo Events defaults a missing namespace to the sensor's */
	if (json_object_get(json_object_get(res, "metadata"), "namespace") ==
	    NULL && !param_writes(p1, "namespace") &&
	    !param_writes(p2, "namespace"))
		ns = sensor_namespace(es->sensor);
	else if (param_writes(p1, "namespace") ||
	    param_writes(p2, "namespace"))
		ns = NULL;
	if (!kr.namespaced)
		ns = NULL;
	why = xasprintf("trigger %s: k8s %s %s", t->name,
	    t->operation == K8S_CREATE ? "create" : t->operation ==
	    K8S_UPDATE ? "update" : t->operation == K8S_PATCH ? "patch" :
	    "delete", kind);
	n = act_k8s_verbs(t->operation, verbs);
	for (i = 0; i < n; i++)
		add(p, kr.group, kr.resource, verbs[i], ns, m, why);
	free(why);
	kube_resource_clear(&kr);
}

static void
add_native(const struct sensor_trigger *t, const char *m, struct perms *p)
{
	const struct act_perm *tab;
	const char *action;
	json_t *v;
	char *why;
	size_t i, n;

	json_object_foreach((json_t *)(uintptr_t)t->tmpl, action, v) {
		if ((tab = act_native_perms(action, &n)) == NULL)
			continue;
		for (i = 0; i < n; i++) {
			why = xasprintf("trigger %s: %s", t->name, tab[i].why);
			add(p, tab[i].group, tab[i].resource, tab[i].verb, NULL,
			    m, why);
			free(why);
		}
	}
}

/*
 * What a decision reads whole from the server at the moment it decides,
 * beside the view's list+watch (which grants no get): its target, fresh
 * for the ownership check (gitops-managed, conflict; src/engine/
 * ownership.c), the objects a policy's lookup() names and the object a
 * k8s patch or delete applies to (src/cluster/store.c,
 * cluster_get_whole), all of them objects of the view's kinds; and the
 * Argo CD Application that delivers the target, in whichever namespace
 * its tracking names (src/gitops/owner.c).  Without them every action
 * on a real cluster would fail on a 403.
 */
static void
add_fresh_reads(const struct engine *e, struct perms *p)
{
	struct sig_watch *w;
	size_t i, n = engine_watches(e, &w);

	for (i = 0; i < n; i++) {
		if (w[i].source < 0)
			add(p, w[i].group, w[i].resource, "get",
			    w[i].namespace, NULL, "a decision reads its target "
			    "(ownership check) and what a policy's lookup() "
			    "names fresh from the server");
		sig_watch_clear(&w[i]);
	}
	free(w);
	add(p, "argoproj.io", "applications", "get", NULL, NULL, "ownership "
	    "check: whether the Argo CD Application delivering the target "
	    "self-heals");
}

/* Each trigger's action, and the Event every executed action records. */
static void
add_actions(const struct engine *e, struct perms *p)
{
	const struct sensor_trigger *t;
	size_t i, k;
	int acts = 0;
	char *m;

	for (i = 0; i < e->nsensors; i++) {
		m = manifest_of(e->sensors[i].doc);
		for (k = 0; k < e->sensors[i].ntriggers; k++) {
			t = sensor_trigger(e->sensors[i].sensor, k);
			if (t->kind == TRIGGER_K8S) {
				add_k8s(&e->sensors[i], t, m, p);
				acts = 1;
			} else if (t->kind == TRIGGER_REMEDIATE) {
				add_native(t, m, p);
				acts = 1;
			}
		}
		free(m);
	}
	if (!acts)
		return;
	add(p, "", "events", "create", NULL, NULL, "an executed action "
	    "records a Remediated or RemediationFailed Event on its target");
	add_fresh_reads(e, p);
}

size_t
engine_permissions(const struct engine *e, struct engine_perm **out)
{
	struct perms p = { NULL, 0, 0 };

	add_watches(e, &p);
	add_actions(e, &p);
	*out = p.v;
	return p.n;
}

void
engine_perms_free(struct engine_perm *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].group);
		free(v[i].resource);
		free(v[i].verb);
		free(v[i].namespace);
		free(v[i].manifest);
		free(v[i].why);
		free(v[i].error);
	}
	free(v);
}
