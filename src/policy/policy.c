/*
 * Compiling ClusterPolicy and Policy documents into a set.
 *
 * conf has checked the schema; this file still checks every value it
 * reads, because a set may be built from documents conf never saw (tests,
 * a future API), and a malformed one must be a diagnostic, not a crash.
 * Every {{ }} expression is compiled here, so a typo in a policy shows at
 * `remediate check` with its line and column, not at the first action the
 * policy should have stopped.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/policy.h"
#include "policy/pol_int.h"

struct cc {
	struct pol_set		*set;
	const struct mdoc	*doc;
	struct diags		*d;
	int			 errors;
	char			**names;	/* the rule's context */
	size_t			 nnames, names_cap;
};

static void cc_error(struct cc *, struct loc, const char *, ...)
    UTIL_PRINTF(3, 4);

static void
cc_error(struct cc *c, struct loc l, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	diag_error(c->d, l, "%s", msg);
	free(msg);
	c->errors++;
}

/* Where parent's member key (or element idx) is written. */
static struct loc
at(struct cc *c, json_t *parent, const char *key, size_t idx)
{
	return conf_loc_value(c->doc, parent, key, idx);
}

/* ---- freeing ------------------------------------------------------------ */

static void
free_conds(struct pol_conds *cs)
{
	size_t i;

	for (i = 0; i < cs->nany; i++) {
		json_decref(cs->any[i].key);
		json_decref(cs->any[i].value);
	}
	for (i = 0; i < cs->nall; i++) {
		json_decref(cs->all[i].key);
		json_decref(cs->all[i].value);
	}
	free(cs->any);
	free(cs->all);
	memset(cs, 0, sizeof(*cs));
}

static void
free_match(struct pol_match *m)
{
	size_t i, j;

	for (i = 0; i < m->n; i++) {
		struct pol_filter *f = &m->f[i];

		for (j = 0; j < f->nkinds; j++)
			pol_kind_clear(&f->kinds[j]);
		free(f->kinds);
		util_strv_free(f->names, f->nnames);
		util_strv_free(f->namespaces, f->nnamespaces);
		util_strv_free(f->operations, f->noperations);
		json_decref(f->annotations);
		json_decref(f->selector);
		json_decref(f->ns_selector);
	}
	free(m->f);
	memset(m, 0, sizeof(*m));
}

static void
free_body(struct pol_body *b)
{
	size_t i;

	for (i = 0; i < b->nvars; i++) {
		free(b->vars[i].name);
		json_decref(b->vars[i].value);
		json_decref(b->vars[i].def);
		free(b->vars[i].jmespath);
	}
	free(b->vars);
	free_conds(&b->pre);
	free_conds(&b->deny);
	json_decref(b->pattern);
	for (i = 0; i < b->nfe; i++) {
		free(b->fe[i].list);
		free_body(&b->fe[i].body);
	}
	free(b->fe);
	memset(b, 0, sizeof(*b));
}

static void
free_rule(struct pol_rule *r)
{
	free(r->name);
	free_match(&r->match);
	free_match(&r->exclude);
	free_body(&r->body);
	free(r->message);
}

static void
free_policy(struct pol_policy *p)
{
	size_t i;

	free(p->name);
	free(p->namespace);
	for (i = 0; i < p->nov; i++)
		util_strv_free(p->ov[i].namespaces, p->ov[i].n);
	free(p->ov);
	for (i = 0; i < p->nrules; i++)
		free_rule(&p->rules[i]);
	free(p->rules);
}

struct pol_set *
pol_set_new(void)
{
	struct pol_set *s = xcalloc(1, sizeof(*s));

	s->cache = pol_cache_new();
	return s;
}

void
pol_set_free(struct pol_set *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		free_policy(&s->p[i]);
	free(s->p);
	pol_cache_free(s->cache);
	free(s);
}

size_t
pol_set_count(const struct pol_set *s)
{
	return s ? s->n : 0;
}

/* ---- expressions -------------------------------------------------------- */

struct visit {
	struct cc	*c;
	struct loc	 loc;
};

static int
visit_var(void *arg, const char *expr, size_t len)
{
	struct visit *v = arg;
	char *err = NULL;

	(void)len;
	if (*expr == '\0') {
		cc_error(v->c, v->loc, "empty variable {{ }}");
		return 0;
	}
	if (pol_cache_add(v->c->set->cache, expr, &err) != 0) {
		cc_error(v->c, v->loc, "invalid JMESPath in {{ }}: %s", err);
		free(err);
		return 0;
	}
	if (!pol_var_allowed(expr, v->c->names, v->c->nnames)) {
		cc_error(v->c, v->loc, "variable {{ %s }} is not defined: "
		    "Kyverno allows request.*, serviceAccountName, "
		    "serviceAccountNamespace, element, @, images.*, function "
		    "calls and the rule's context entries", expr);
	}
	return 0;
}

/* Compiles every {{ }} in the strings (and keys) of v. */
static void
check_vars(struct cc *c, json_t *v, struct loc l)
{
	struct visit vis;
	const char *key;
	json_t *e;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_STRING:
		vis.c = c;
		vis.loc = conf_loc(c->doc, v);
		if (vis.loc.line == 0)
			vis.loc = l;
		pol_vars_each(json_string_value(v), visit_var, &vis);
		break;
	case JSON_ARRAY:
		json_array_foreach(v, i, e)
			check_vars(c, e, at(c, v, NULL, i));
		break;
	case JSON_OBJECT:
		json_object_foreach(v, key, e) {
			vis.c = c;
			vis.loc = conf_loc_key(c->doc, v, key);
			pol_vars_each(key, visit_var, &vis);
			check_vars(c, e, at(c, v, key, 0));
		}
		break;
	default:
		break;
	}
}

/* ---- small readers ------------------------------------------------------ */

/* A list of strings at parent.key into *out; absent is an empty list. */
static void
strlist(struct cc *c, json_t *parent, const char *key, char ***out,
    size_t *n)
{
	json_t *v = json_object_get(parent, key), *e;
	size_t i;

	*out = NULL;
	*n = 0;
	if (v == NULL || json_is_null(v))
		return;
	if (!json_is_array(v)) {
		cc_error(c, at(c, parent, key, 0), "%s must be a list of "
		    "strings", key);
		return;
	}
	*out = xcalloc(json_array_size(v) + 1, sizeof(**out));
	json_array_foreach(v, i, e) {
		if (!json_is_string(e)) {
			cc_error(c, at(c, v, NULL, i), "%s must be a list of "
			    "strings", key);
			continue;
		}
		(*out)[(*n)++] = xstrdup(json_string_value(e));
	}
}

/* Enforce/Audit (any case): 1, 0, or -1 when absent; -2 when invalid. */
static int
action(struct cc *c, json_t *parent, const char *key)
{
	json_t *v = json_object_get(parent, key);

	if (v == NULL)
		return -1;
	if (json_is_string(v) && strcasecmp(json_string_value(v),
	    "Enforce") == 0)
		return 1;
	if (json_is_string(v) && strcasecmp(json_string_value(v),
	    "Audit") == 0)
		return 0;
	cc_error(c, at(c, parent, key, 0), "%s must be Enforce or Audit", key);
	return -2;
}

/* ---- conditions --------------------------------------------------------- */

static void
compile_cond(struct cc *c, json_t *list, size_t idx, struct pol_cond *out)
{
	json_t *o = json_array_get(list, idx);
	const char *const *names;
	const char *hint, *opname;
	size_t n;

	memset(out, 0, sizeof(*out));
	out->op = POL_OP_NONE;
	if (!json_is_object(o)) {
		cc_error(c, at(c, list, NULL, idx), "a condition must be an "
		    "object with key, operator and value");
		return;
	}
	opname = json_string_value(json_object_get(o, "operator"));
	out->op = pol_op_lookup(opname);
	if (out->op == POL_OP_NONE) {
		cc_error(c, at(c, o, "operator", 0), "unknown condition "
		    "operator \"%s\"", opname ? opname : "");
		names = pol_op_names(&n);
		if (opname && (hint = util_suggest(opname, names, n)) != NULL)
			diag_hint(c->d, "did you mean %s?", hint);
	}
	out->key = json_incref(json_object_get(o, "key"));
	if (out->key == NULL)
		out->key = json_null();
	out->value = json_incref(json_object_get(o, "value"));
	check_vars(c, o, at(c, list, NULL, idx));
	if (json_is_string(out->key))
		out->key_var = pol_cache_whole(c->set->cache,
		    json_string_value(out->key));
	out->value_plain = json_is_string(out->value) && pol_subst_plain(
	    json_string_value(out->value), json_string_length(out->value));
}

static void
compile_list(struct cc *c, json_t *list, struct pol_cond **out, size_t *n)
{
	size_t i;

	*n = json_array_size(list);
	*out = xcalloc(*n ? *n : 1, sizeof(**out));
	for (i = 0; i < *n; i++)
		compile_cond(c, list, i, &(*out)[i]);
}

/* parent.key: {any, all} or the older bare list (all). */
static void
compile_conds(struct cc *c, json_t *parent, const char *key,
    struct pol_conds *out)
{
	json_t *v = json_object_get(parent, key), *any, *all;

	memset(out, 0, sizeof(*out));
	if (v == NULL || json_is_null(v))
		return;
	if (json_is_array(v)) {
		out->has_all = 1;
		compile_list(c, v, &out->all, &out->nall);
		return;
	}
	if (!json_is_object(v)) {
		cc_error(c, at(c, parent, key, 0), "%s must be {any: [...], "
		    "all: [...]} or a list of conditions", key);
		return;
	}
	any = json_object_get(v, "any");
	all = json_object_get(v, "all");
	if ((any && !json_is_array(any) && !json_is_null(any)) ||
	    (all && !json_is_array(all) && !json_is_null(all))) {
		cc_error(c, at(c, parent, key, 0), "%s.any and %s.all must be "
		    "lists of conditions", key, key);
		return;
	}
	if (json_is_array(any)) {
		out->has_any = 1;
		compile_list(c, any, &out->any, &out->nany);
	}
	if (json_is_array(all)) {
		out->has_all = 1;
		compile_list(c, all, &out->all, &out->nall);
	}
}

/* ---- match / exclude ---------------------------------------------------- */

static const char *const operations[] = { "CREATE", "UPDATE", "DELETE",
    "CONNECT" };

static json_t *
object_or_null(struct cc *c, json_t *parent, const char *key)
{
	json_t *v = json_object_get(parent, key);

	if (v == NULL || json_is_null(v))
		return NULL;
	if (!json_is_object(v)) {
		cc_error(c, at(c, parent, key, 0), "%s must be an object", key);
		return NULL;
	}
	return json_incref(v);
}

static void
compile_resources(struct cc *c, json_t *res, struct pol_filter *f)
{
	json_t *name = json_object_get(res, "name");
	char **kinds;
	size_t i, j, nk;
	int listed;

	strlist(c, res, "kinds", &kinds, &nk);
	f->kinds = xcalloc(nk ? nk : 1, sizeof(*f->kinds));
	for (i = 0; i < nk; i++) {
		if (pol_kind_parse(kinds[i], &f->kinds[f->nkinds]) != 0)
			cc_error(c, at(c, res, "kinds", 0), "kind \"%s\" is "
			    "not Kind, version/Kind, group/version/Kind or "
			    "one of those with /subresource", kinds[i]);
		else
			f->nkinds++;
	}
	util_strv_free(kinds, nk);
	listed = nk > 0;
	strlist(c, res, "names", &f->names, &f->nnames);
	if (json_is_string(name)) {
		/* strlist leaves room for one more */
		if (f->names == NULL)
			f->names = xcalloc(1, sizeof(*f->names));
		f->names[f->nnames++] = xstrdup(json_string_value(name));
	}
	strlist(c, res, "namespaces", &f->namespaces, &f->nnamespaces);
	strlist(c, res, "operations", &f->operations, &f->noperations);
	for (i = 0; i < f->noperations; i++) {
		for (j = 0; j < UTIL_ARRAY_LEN(operations); j++)
			if (strcmp(f->operations[i], operations[j]) == 0)
				break;
		if (j == UTIL_ARRAY_LEN(operations))
			cc_error(c, at(c, res, "operations", 0), "operation "
			    "\"%s\" is not CREATE, UPDATE, DELETE or CONNECT",
			    f->operations[i]);
	}
	f->annotations = object_or_null(c, res, "annotations");
	f->selector = object_or_null(c, res, "selector");
	f->ns_selector = object_or_null(c, res, "namespaceSelector");
	/* kinds listed count even when one was refused: one error is enough */
	f->conditions += listed + (f->nnames > 0) +
	    (f->nnamespaces > 0) + (f->noperations > 0) +
	    (f->annotations != NULL) + (f->selector != NULL) +
	    (f->ns_selector != NULL);
}

static void
compile_filter(struct cc *c, json_t *o, struct loc l, struct pol_filter *f,
    int excluding)
{
	static const char *const users[] = { "subjects", "roles",
	    "clusterRoles" };
	json_t *res;
	size_t i;

	memset(f, 0, sizeof(*f));
	if (!json_is_object(o)) {
		cc_error(c, l, "a resource filter must be an object");
		return;
	}
	res = json_object_get(o, "resources");
	if (json_is_object(res))
		compile_resources(c, res, f);
	else if (res != NULL && !json_is_null(res))
		cc_error(c, at(c, o, "resources", 0), "resources must be an "
		    "object");
	for (i = 0; i < UTIL_ARRAY_LEN(users); i++)
		if (json_array_size(json_object_get(o, users[i])) > 0)
			f->users = 1;
	f->conditions += f->users;
	if (!excluding && f->conditions == 0)
		cc_error(c, l, "this match filter gives no condition: it would "
		    "match every object; name the kinds");
}

static void
compile_match(struct cc *c, json_t *rule, const char *key,
    struct pol_match *m)
{
	json_t *v = json_object_get(rule, key), *list;
	int excluding = strcmp(key, "exclude") == 0;
	size_t i;

	memset(m, 0, sizeof(*m));
	if (v == NULL || json_is_null(v)) {
		if (!excluding)
			cc_error(c, conf_loc(c->doc, rule), "rule has no "
			    "match: it would apply to nothing");
		return;
	}
	if (!json_is_object(v)) {
		cc_error(c, at(c, rule, key, 0), "%s must be an object", key);
		return;
	}
	if (json_object_get(v, "any") && json_object_get(v, "all")) {
		cc_error(c, at(c, rule, key, 0), "%s has both any and all; "
		    "use one", key);
		return;
	}
	list = json_object_get(v, "any");
	m->mode = POL_MATCH_ANY;
	if (list == NULL) {
		list = json_object_get(v, "all");
		m->mode = POL_MATCH_ALL;
	}
	if (list == NULL) {
		/* the older form: one filter right under match */
		m->mode = POL_MATCH_ANY;
		m->f = xcalloc(1, sizeof(*m->f));
		m->n = 1;
		compile_filter(c, v, at(c, rule, key, 0), m->f, excluding);
		return;
	}
	if (!json_is_array(list)) {
		cc_error(c, at(c, rule, key, 0), "%s.%s must be a list of "
		    "resource filters", key, m->mode == POL_MATCH_ANY ? "any" :
		    "all");
		m->mode = POL_MATCH_NONE;
		return;
	}
	if (json_array_size(list) == 0 && !excluding)
		cc_error(c, at(c, rule, key, 0), "%s lists no filter: it would "
		    "apply to nothing", key);
	m->f = xcalloc(json_array_size(list) + 1, sizeof(*m->f));
	json_array_foreach(list, i, v)
		compile_filter(c, v, at(c, list, NULL, i), &m->f[m->n++],
		    excluding);
}

/* ---- rules -------------------------------------------------------------- */

/* Every context entry name of the rule and its foreach, for check_vars. */
static void
collect_names(struct cc *c, json_t *o, int depth)
{
	json_t *e, *val;
	size_t i;

	if (depth > POL_MAX_NEST)
		return;
	json_array_foreach(json_object_get(o, "context"), i, e) {
		const char *name = json_string_value(json_object_get(e,
		    "name"));

		if (name == NULL || *name == '\0')
			continue;
		xgrow(&c->names, &c->names_cap, c->nnames + 1,
		    sizeof(*c->names));
		c->names[c->nnames++] = xstrdup(name);
	}
	val = json_object_get(o, "validate");
	json_array_foreach(json_object_get(val ? val : o, "foreach"), i, e)
		collect_names(c, e, depth + 1);
}

/*
 * The kinds an apiCall urlPath may name: the cluster view answers objects
 * by kind, so the plural must be known.
 */
static const char *const plurals[][2] = {
	{ "pods", "Pod" }, { "services", "Service" },
	{ "configmaps", "ConfigMap" }, { "secrets", "Secret" },
	{ "namespaces", "Namespace" }, { "nodes", "Node" },
	{ "serviceaccounts", "ServiceAccount" },
	{ "persistentvolumeclaims", "PersistentVolumeClaim" },
	{ "persistentvolumes", "PersistentVolume" },
	{ "replicationcontrollers", "ReplicationController" },
	{ "resourcequotas", "ResourceQuota" }, { "limitranges", "LimitRange" },
	{ "endpoints", "Endpoints" }, { "deployments", "Deployment" },
	{ "statefulsets", "StatefulSet" }, { "daemonsets", "DaemonSet" },
	{ "replicasets", "ReplicaSet" }, { "jobs", "Job" },
	{ "cronjobs", "CronJob" }, { "ingresses", "Ingress" },
	{ "networkpolicies", "NetworkPolicy" },
	{ "poddisruptionbudgets", "PodDisruptionBudget" },
	{ "horizontalpodautoscalers", "HorizontalPodAutoscaler" },
	{ "roles", "Role" }, { "rolebindings", "RoleBinding" },
	{ "clusterroles", "ClusterRole" },
	{ "clusterrolebindings", "ClusterRoleBinding" },
	{ "storageclasses", "StorageClass" },
	{ "workflows", "Workflow" },
};

/*
 * An apiCall urlPath as {kind, namespace, name}: /api/v1[/namespaces/NS]
 * /PLURAL/NAME or /apis/GROUP/VERSION[/namespaces/NS]/PLURAL/NAME.  NULL
 * with *why (owned) for a list, a subresource or an unknown plural.
 */
static json_t *
api_path(const char *path, char **why)
{
	char *segs[9], *copy, *p, *slash;
	const char *kind = NULL;
	size_t n = 0, base, i;
	json_t *out;

	*why = NULL;
	if (strchr(path, '?') != NULL) {
		*why = xstrdup("a query string reads a list");
		return NULL;
	}
	copy = xstrdup(path);
	/* the non-empty segments; more than segs holds is no shape we know */
	for (p = copy; p != NULL; p = slash) {
		if ((slash = strchr(p, '/')) != NULL)
			*slash++ = '\0';
		if (*p == '\0')
			continue;
		if (n == UTIL_ARRAY_LEN(segs)) {
			n = 0;
			break;
		}
		segs[n++] = p;
	}
	base = n > 0 && strcmp(segs[0], "api") == 0 ? 2 :
	    n > 0 && strcmp(segs[0], "apis") == 0 ? 3 : 0;
	if (base == 0 || !(n == base + 2 || (n == base + 4 &&
	    strcmp(segs[base], "namespaces") == 0))) {
		*why = xstrdup("it does not name one object (a list or a "
		    "subresource): the cluster view answers single objects by "
		    "kind, namespace and name");
		free(copy);
		return NULL;
	}
	for (i = 0; i < UTIL_ARRAY_LEN(plurals); i++)
		if (strcmp(segs[n - 2], plurals[i][0]) == 0)
			kind = plurals[i][1];
	if (kind == NULL) {
		*why = xasprintf("the resource \"%s\" is not one the cluster "
		    "view knows by kind", segs[n - 2]);
		free(copy);
		return NULL;
	}
	out = json_pack("{s:s, s:s, s:s}", "kind", kind, "namespace",
	    n == base + 4 ? segs[base + 1] : "", "name", segs[n - 1]);
	free(copy);
	return out;
}

/* An entry's jmesPath (a variable's or an apiCall's), compiled now unless
 * it holds {{ }} (then it is substituted first, at admission). */
static void
compile_entry_jmespath(struct cc *c, json_t *holder, struct pol_var *v)
{
	json_t *jp = json_object_get(holder, "jmesPath");
	char *err = NULL;

	if (!json_is_string(jp))
		return;
	v->jmespath = xstrdup(json_string_value(jp));
	if (strstr(v->jmespath, "{{") == NULL &&
	    pol_cache_add(c->set->cache, v->jmespath, &err) != 0) {
		cc_error(c, at(c, holder, "jmesPath", 0), "invalid JMESPath: "
		    "%s", err);
		free(err);
	}
}

static void
compile_variable(struct cc *c, json_t *e, struct pol_var *v)
{
	json_t *var = json_object_get(e, "variable");

	v->type = POL_CTX_VARIABLE;
	v->value = json_incref(json_object_get(var, "value"));
	v->def = json_incref(json_object_get(var, "default"));
	compile_entry_jmespath(c, var, v);
	check_vars(c, var, at(c, e, "variable", 0));
}

static void
compile_configmap(struct cc *c, json_t *e, struct pol_var *v)
{
	json_t *cm = json_object_get(e, "configMap");
	const char *name = json_string_value(json_object_get(cm, "name"));

	v->type = POL_CTX_CONFIGMAP;
	if (name == NULL || *name == '\0') {
		cc_error(c, at(c, e, "configMap", 0), "configMap needs a name");
		return;
	}
	v->value = json_pack("{s:s, s:s}", "name", name, "namespace",
	    json_is_string(json_object_get(cm, "namespace")) ?
	    json_string_value(json_object_get(cm, "namespace")) : "");
	check_vars(c, cm, at(c, e, "configMap", 0));
}

static void
compile_apicall(struct cc *c, json_t *e, struct pol_var *v)
{
	json_t *call = json_object_get(e, "apiCall");
	const char *path = json_string_value(json_object_get(call, "urlPath"));
	const char *method = json_string_value(json_object_get(call,
	    "method"));
	char *why = NULL;

	v->type = POL_CTX_APICALL;
	if (json_object_get(call, "service") != NULL) {
		cc_error(c, at(c, e, "apiCall", 0), "apiCall.service is not "
		    "supported: remediate calls no service while it decides");
		return;
	}
	if ((method && strcmp(method, "GET") != 0) ||
	    json_object_get(call, "data") != NULL) {
		cc_error(c, at(c, e, "apiCall", 0), "apiCall with method %s "
		    "or data is not supported: only a GET of one object is "
		    "answered from the cluster view", method ? method : "GET");
		return;
	}
	if (path == NULL) {
		cc_error(c, at(c, e, "apiCall", 0), "apiCall needs a urlPath");
		return;
	}
	if ((v->value = api_path(path, &why)) == NULL) {
		cc_error(c, at(c, call, "urlPath", 0), "apiCall urlPath \"%s\" "
		    "is not supported: %s", path, why);
		free(why);
		return;
	}
	v->def = json_incref(json_object_get(call, "default"));
	compile_entry_jmespath(c, call, v);
	check_vars(c, call, at(c, e, "apiCall", 0));
}

static void
compile_context(struct cc *c, json_t *o, struct pol_body *b)
{
	json_t *list = json_object_get(o, "context"), *e;
	size_t i;

	if (list == NULL || json_is_null(list))
		return;
	if (!json_is_array(list)) {
		cc_error(c, at(c, o, "context", 0), "context must be a list");
		return;
	}
	b->vars = xcalloc(json_array_size(list) + 1, sizeof(*b->vars));
	json_array_foreach(list, i, e) {
		struct pol_var *v = &b->vars[b->nvars];
		const char *name = json_string_value(json_object_get(e,
		    "name"));

		if (name == NULL || *name == '\0') {
			cc_error(c, at(c, list, NULL, i), "context entry must "
			    "have a name");
			continue;
		}
		if (json_is_object(json_object_get(e, "variable")))
			compile_variable(c, e, v);
		else if (json_is_object(json_object_get(e, "configMap")))
			compile_configmap(c, e, v);
		else if (json_is_object(json_object_get(e, "apiCall")))
			compile_apicall(c, e, v);
		else {
			cc_error(c, at(c, list, NULL, i), "context entry %s "
			    "must be a variable, configMap or apiCall (other "
			    "entry types are not supported)", name);
			continue;
		}
		v->name = xstrdup(name);
		b->nvars++;
	}
}

/* Refuses what a pattern may not hold here; compiles its variables. */
static void
check_pattern(struct cc *c, json_t *p, struct loc l)
{
	const char *k;
	json_t *e;
	size_t i;
	char mod;

	if (json_is_object(p)) {
		json_object_foreach(p, k, e) {
			if (pol_anchor(k, &mod, NULL) && mod == '+')
				cc_error(c, conf_loc_key(c->doc, p, k), "the "
				    "add-if-absent anchor %s is a mutation: "
				    "remediate evaluates validate rules only", k);
			check_pattern(c, e, at(c, p, k, 0));
		}
	} else if (json_is_array(p)) {
		json_array_foreach(p, i, e)
			check_pattern(c, e, at(c, p, NULL, i));
	} else if (json_is_string(p) && strstr(json_string_value(p), "$(")) {
		cc_error(c, conf_loc(c->doc, p).line ? conf_loc(c->doc, p) : l,
		    "pattern references $(...) are not supported: use a "
		    "{{ }} variable");
	}
	check_vars(c, p, l);
}

static void compile_body(struct cc *, json_t *o, json_t *holder,
    struct pol_body *, int depth);

static void
compile_foreach(struct cc *c, json_t *list, struct pol_body *b, int depth)
{
	json_t *e, *scope;
	size_t i;

	if (!json_is_array(list) || json_array_size(list) == 0) {
		cc_error(c, conf_loc(c->doc, list), "foreach must be a "
		    "non-empty list");
		return;
	}
	if (depth > POL_MAX_NEST) {
		cc_error(c, conf_loc(c->doc, list), "foreach nested more than "
		    "%d deep", POL_MAX_NEST);
		return;
	}
	b->fe = xcalloc(json_array_size(list), sizeof(*b->fe));
	json_array_foreach(list, i, e) {
		struct pol_foreach *f = &b->fe[b->nfe++];
		const char *l = json_string_value(json_object_get(e, "list"));

		f->scope = -1;
		if (!json_is_object(e) || l == NULL || *l == '\0') {
			cc_error(c, at(c, list, NULL, i), "a foreach entry "
			    "needs a list (a JMESPath expression)");
			continue;
		}
		f->list = xstrdup(l);
		if (strstr(l, "{{") == NULL) {
			char *err = NULL;

			if (pol_cache_add(c->set->cache, l, &err) != 0) {
				cc_error(c, at(c, e, "list", 0), "invalid "
				    "JMESPath in list: %s", err);
				free(err);
			}
		} else
			check_vars(c, json_object_get(e, "list"),
			    at(c, e, "list", 0));
		scope = json_object_get(e, "elementScope");
		if (json_is_boolean(scope))
			f->scope = json_is_true(scope);
		compile_body(c, e, e, &f->body, depth + 1);
	}
}

/*
 * A body: o's context and preconditions, then holder's deny, pattern,
 * anyPattern or foreach (a rule's holder is its validate; a foreach entry
 * is its own).
 */
static void
compile_body(struct cc *c, json_t *o, json_t *holder, struct pol_body *b,
    int depth)
{
	static const char *const checks[] = { "deny", "pattern", "anyPattern",
	    "foreach" };
	json_t *v;
	size_t i, n = 0;

	compile_context(c, o, b);
	if (json_object_get(o, "preconditions") != NULL &&
	    !json_is_null(json_object_get(o, "preconditions"))) {
		b->has_pre = 1;
		compile_conds(c, o, "preconditions", &b->pre);
	}
	for (i = 0; i < UTIL_ARRAY_LEN(checks); i++)
		n += json_object_get(holder, checks[i]) != NULL;
	if (n != 1) {
		cc_error(c, conf_loc(c->doc, holder), "%s needs exactly one of "
		    "deny, pattern, anyPattern and foreach", depth ?
		    "a foreach entry" : "validate");
		return;
	}
	if (json_object_get(holder, "deny") != NULL) {
		b->kind = POL_V_DENY;
		v = json_object_get(holder, "deny");
		if (!json_is_object(v) && !json_is_null(v))
			cc_error(c, at(c, holder, "deny", 0), "deny must be an "
			    "object");
		else
			compile_conds(c, v, "conditions", &b->deny);
	} else if ((v = json_object_get(holder, "pattern")) != NULL) {
		b->kind = POL_V_PATTERN;
		b->pattern = json_incref(v);
		check_pattern(c, v, at(c, holder, "pattern", 0));
	} else if ((v = json_object_get(holder, "anyPattern")) != NULL) {
		b->kind = POL_V_ANYPATTERN;
		if (!json_is_array(v) || json_array_size(v) == 0)
			cc_error(c, at(c, holder, "anyPattern", 0), "anyPattern "
			    "must be a non-empty list of patterns");
		b->pattern = json_incref(v);
		check_pattern(c, v, at(c, holder, "anyPattern", 0));
	} else {
		b->kind = POL_V_FOREACH;
		compile_foreach(c, json_object_get(holder, "foreach"), b,
		    depth);
	}
}

static void
compile_validate(struct cc *c, json_t *rule, struct pol_rule *r)
{
	static const char *const unsupported[] = { "podSecurity", "cel",
	    "manifests", "assert" };
	json_t *val = json_object_get(rule, "validate"), *msg;
	size_t i;

	if (!json_is_object(val)) {
		/* a mutate/generate/verifyImages rule was refused already */
		if (!json_object_get(rule, "mutate") &&
		    !json_object_get(rule, "generate") &&
		    !json_object_get(rule, "verifyImages"))
			cc_error(c, conf_loc(c->doc, rule), "rule \"%s\" has "
			    "no validate: remediate evaluates validate rules "
			    "only", r->name);
		return;
	}
	for (i = 0; i < UTIL_ARRAY_LEN(unsupported); i++)
		if (json_object_get(val, unsupported[i])) {
			cc_error(c, conf_loc_key(c->doc, val, unsupported[i]),
			    "validate.%s is not supported: remediate evaluates "
			    "deny, pattern, anyPattern and foreach",
			    unsupported[i]);
			return;
		}
	compile_body(c, rule, val, &r->body, 0);
	msg = json_object_get(val, "message");
	if (json_is_string(msg)) {
		r->message = xstrdup(json_string_value(msg));
		check_vars(c, msg, at(c, val, "message", 0));
	} else if (msg != NULL && !json_is_null(msg))
		cc_error(c, at(c, val, "message", 0), "message must be a "
		    "string");
	r->action = action(c, val, "failureAction");
}

static void
compile_rule(struct cc *c, json_t *rules, size_t idx, struct pol_rule *r)
{
	static const char *const others[] = { "mutate", "generate",
	    "verifyImages", "celPreconditions" };
	json_t *rule = json_array_get(rules, idx);
	const char *name;
	size_t i;

	memset(r, 0, sizeof(*r));
	r->action = -1;
	if (!json_is_object(rule)) {
		cc_error(c, at(c, rules, NULL, idx), "a rule must be an "
		    "object");
		return;
	}
	name = json_string_value(json_object_get(rule, "name"));
	r->name = name ? xstrdup(name) : xasprintf("rule %zu", idx);
	if (name == NULL)
		cc_error(c, conf_loc(c->doc, rule), "rule has no name");
	for (i = 0; i < UTIL_ARRAY_LEN(others); i++)
		if (json_object_get(rule, others[i]))
			cc_error(c, conf_loc_key(c->doc, rule, others[i]),
			    "%s is not supported: remediate evaluates "
			    "validate rules only", others[i]);
	collect_names(c, rule, 0);
	compile_match(c, rule, "match", &r->match);
	compile_match(c, rule, "exclude", &r->exclude);
	compile_validate(c, rule, r);
	util_strv_free(c->names, c->nnames);
	c->names = NULL;
	c->nnames = c->names_cap = 0;
}

/* ---- policies ----------------------------------------------------------- */

static void
compile_overrides(struct cc *c, json_t *spec, struct pol_policy *p)
{
	json_t *list, *e;
	size_t i;

	list = json_object_get(spec, "validationFailureActionOverrides");
	if (list == NULL || json_is_null(list))
		return;
	if (!json_is_array(list)) {
		cc_error(c, at(c, spec, "validationFailureActionOverrides", 0),
		    "validationFailureActionOverrides must be a list");
		return;
	}
	p->ov = xcalloc(json_array_size(list) + 1, sizeof(*p->ov));
	json_array_foreach(list, i, e) {
		struct pol_override *o = &p->ov[p->nov];
		int a = action(c, e, "action");

		if (!json_is_object(e) || a < 0) {
			if (a == -1)
				cc_error(c, at(c, list, NULL, i), "an override "
				    "needs an action, Enforce or Audit");
			continue;
		}
		if (json_object_get(e, "namespaceSelector"))
			cc_error(c, conf_loc_key(c->doc, e,
			    "namespaceSelector"), "namespaceSelector in "
			    "validationFailureActionOverrides is not "
			    "supported: list the namespaces");
		o->enforce = a;
		strlist(c, e, "namespaces", &o->namespaces, &o->n);
		p->nov++;
	}
}

int
pol_set_add(struct pol_set *set, const struct mdoc *doc, struct diags *d)
{
	struct cc c;
	struct pol_policy p;
	json_t *spec, *rules, *adm, *gen;
	char ident[512];
	size_t i;
	int a;

	memset(&c, 0, sizeof(c));
	memset(&p, 0, sizeof(p));
	c.set = set;
	c.doc = doc;
	c.d = d;
	if (doc->kind == NULL || (strcmp(doc->kind, "ClusterPolicy") != 0 &&
	    strcmp(doc->kind, "Policy") != 0)) {
		cc_error(&c, conf_loc(doc, doc->root), "not a ClusterPolicy or "
		    "Policy");
		return -1;
	}
	if (doc->name == NULL || *doc->name == '\0') {
		cc_error(&c, conf_loc(doc, doc->root), "policy has no "
		    "metadata.name");
		return -1;
	}
	if (strcmp(doc->kind, "Policy") == 0) {
		/* a namespaced policy without one lands in "default" */
		p.namespace = xstrdup(doc->namespace && *doc->namespace ?
		    doc->namespace : "default");
		snprintf(ident, sizeof(ident), "%s/%s", p.namespace,
		    doc->name);
	} else
		snprintf(ident, sizeof(ident), "%s", doc->name);
	p.name = xstrdup(ident);
	spec = json_object_get(doc->root, "spec");
	rules = json_object_get(spec, "rules");
	if (!json_is_array(rules) || json_array_size(rules) == 0) {
		cc_error(&c, conf_loc(doc, spec ? spec : doc->root), "policy "
		    "has no rules");
		free_policy(&p);
		return -1;
	}
	a = action(&c, spec, "validationFailureAction");
	p.enforce = a == 1;	/* Kyverno's default is Audit */
	p.ignore_errors = json_is_string(json_object_get(spec,
	    "failurePolicy")) && strcmp(json_string_value(json_object_get(spec,
	    "failurePolicy")), "Ignore") == 0;
	adm = json_object_get(spec, "admission");
	p.admission = !json_is_false(adm);
	compile_overrides(&c, spec, &p);
	p.apply_one = json_is_string(json_object_get(spec, "applyRules")) &&
	    strcmp(json_string_value(json_object_get(spec, "applyRules")),
	    "One") == 0;
	/* Kyverno's rules for Pod controllers, after the policy's own */
	gen = c.errors ? NULL : pol_autogen(spec, json_object_get(
	    json_object_get(doc->root, "metadata"), "annotations"));
	p.rules = xcalloc(json_array_size(rules) + json_array_size(gen),
	    sizeof(*p.rules));
	for (i = 0; i < json_array_size(rules); i++)
		compile_rule(&c, rules, i, &p.rules[p.nrules++]);
	for (i = 0; !c.errors && i < json_array_size(gen); i++) {
		compile_rule(&c, gen, i, &p.rules[p.nrules]);
		p.rules[p.nrules++].autogen = 1;
	}
	json_decref(gen);
	if (c.errors) {
		free_policy(&p);
		return -1;
	}
	xgrow(&set->p, &set->cap, set->n + 1, sizeof(*set->p));
	set->p[set->n++] = p;
	return 0;
}

/* "validate deny", "validate pattern, foreach"... */
static void
describe_kinds(const struct pol_policy *p, struct buf *b)
{
	static const char *const names[] = { "deny", "pattern", "anyPattern",
	    "foreach" };
	int seen[4] = { 0 }, first = 1;
	size_t i, k;

	for (i = 0; i < p->nrules; i++)
		if (!p->rules[i].autogen)
			seen[p->rules[i].body.kind] = 1;
	buf_adds(b, "validate ");
	for (k = 0; k < UTIL_ARRAY_LEN(names); k++)
		if (seen[k]) {
			buf_printf(b, "%s%s", first ? "" : ", ", names[k]);
			first = 0;
		}
}

char *
pol_describe(const struct pol_set *s, size_t i)
{
	const struct pol_policy *p;
	struct buf b;
	size_t j, own = 0;

	if (s == NULL || i >= s->n)
		return xstrdup("");
	p = &s->p[i];
	for (j = 0; j < p->nrules; j++)
		own += !p->rules[j].autogen;
	buf_init(&b, 0);
	buf_printf(&b, "%zu rule%s (", own, own == 1 ? "" : "s");
	describe_kinds(p, &b);
	buf_printf(&b, ")");
	if (own < p->nrules)
		buf_printf(&b, " + %zu for Pod controllers", p->nrules - own);
	buf_printf(&b, ", %s%s%s", p->enforce ? "Enforce" : "Audit",
	    p->ignore_errors ? ", errors ignored (failurePolicy: Ignore)" : "",
	    p->admission ? "" : ", admission: false (never applied)");
	return buf_steal(&b);
}
