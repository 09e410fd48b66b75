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
	size_t			 nnames;
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
free_strs(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

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
		free_strs(f->names, f->nnames);
		free_strs(f->namespaces, f->nnamespaces);
		free_strs(f->operations, f->noperations);
		json_decref(f->annotations);
		json_decref(f->selector);
		json_decref(f->ns_selector);
	}
	free(m->f);
	memset(m, 0, sizeof(*m));
}

static void
free_rule(struct pol_rule *r)
{
	size_t i;

	free(r->name);
	free_match(&r->match);
	free_match(&r->exclude);
	for (i = 0; i < r->nvars; i++) {
		free(r->vars[i].name);
		json_decref(r->vars[i].value);
		json_decref(r->vars[i].def);
		free(r->vars[i].jmespath);
	}
	free(r->vars);
	free_conds(&r->pre);
	free_conds(&r->deny);
	free(r->message);
}

static void
free_policy(struct pol_policy *p)
{
	size_t i;

	free(p->name);
	free(p->namespace);
	for (i = 0; i < p->nov; i++)
		free_strs(p->ov[i].namespaces, p->ov[i].n);
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
	free_strs(kinds, nk);
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

static void
compile_context(struct cc *c, json_t *rule, struct pol_rule *r)
{
	json_t *list = json_object_get(rule, "context"), *e, *var, *jp;
	size_t i;

	if (list == NULL || json_is_null(list))
		return;
	if (!json_is_array(list)) {
		cc_error(c, at(c, rule, "context", 0), "context must be a "
		    "list");
		return;
	}
	r->vars = xcalloc(json_array_size(list) + 1, sizeof(*r->vars));
	c->names = xcalloc(json_array_size(list) + 1, sizeof(*c->names));
	/* every entry's name first: an entry may use one defined later */
	json_array_foreach(list, i, e) {
		const char *name = json_string_value(json_object_get(e,
		    "name"));

		if (name != NULL && *name != '\0')
			c->names[c->nnames++] = xstrdup(name);
	}
	json_array_foreach(list, i, e) {
		struct pol_var *v = &r->vars[r->nvars];
		const char *name = json_string_value(json_object_get(e,
		    "name"));

		var = json_object_get(e, "variable");
		if (name == NULL || *name == '\0' || !json_is_object(var)) {
			cc_error(c, at(c, list, NULL, i), "context entry must "
			    "have a name and a variable (other entry types are "
			    "not supported; read live objects with lookup())");
			continue;
		}
		v->name = xstrdup(name);
		v->value = json_incref(json_object_get(var, "value"));
		v->def = json_incref(json_object_get(var, "default"));
		jp = json_object_get(var, "jmesPath");
		if (json_is_string(jp)) {
			char *err = NULL;

			v->jmespath = xstrdup(json_string_value(jp));
			if (strstr(v->jmespath, "{{") == NULL &&
			    pol_cache_add(c->set->cache, v->jmespath,
			    &err) != 0) {
				cc_error(c, at(c, var, "jmesPath", 0),
				    "invalid JMESPath: %s", err);
				free(err);
			}
		}
		check_vars(c, var, at(c, e, "variable", 0));
		r->nvars++;
	}
}

static void
compile_validate(struct cc *c, json_t *rule, struct pol_rule *r)
{
	static const char *const unsupported[] = { "pattern", "anyPattern",
	    "foreach", "podSecurity", "cel", "manifests", "assert" };
	json_t *val = json_object_get(rule, "validate"), *deny, *msg;
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
		if (json_object_get(val, unsupported[i]))
			cc_error(c, conf_loc_key(c->doc, val, unsupported[i]),
			    "validate.%s is not supported: remediate evaluates "
			    "validate.deny conditions only", unsupported[i]);
	deny = json_object_get(val, "deny");
	if (!json_is_object(deny))
		cc_error(c, at(c, rule, "validate", 0), "validate needs a deny "
		    "block");
	else
		compile_conds(c, deny, "conditions", &r->deny);
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
	compile_context(c, rule, r);
	compile_match(c, rule, "match", &r->match);
	compile_match(c, rule, "exclude", &r->exclude);
	if (json_object_get(rule, "preconditions") != NULL &&
	    !json_is_null(json_object_get(rule, "preconditions"))) {
		r->has_pre = 1;
		compile_conds(c, rule, "preconditions", &r->pre);
	}
	compile_validate(c, rule, r);
	free_strs(c->names, c->nnames);
	c->names = NULL;
	c->nnames = 0;
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
	json_t *spec, *rules, *adm;
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
	p.rules = xcalloc(json_array_size(rules), sizeof(*p.rules));
	for (i = 0; i < json_array_size(rules); i++)
		compile_rule(&c, rules, i, &p.rules[p.nrules++]);
	if (c.errors) {
		free_policy(&p);
		return -1;
	}
	xgrow(&set->p, &set->cap, set->n + 1, sizeof(*set->p));
	set->p[set->n++] = p;
	return 0;
}

char *
pol_describe(const struct pol_set *s, size_t i)
{
	const struct pol_policy *p;

	if (s == NULL || i >= s->n)
		return xstrdup("");
	p = &s->p[i];
	return xasprintf("%zu rule%s (validate deny), %s%s%s", p->nrules,
	    p->nrules == 1 ? "" : "s", p->enforce ? "Enforce" : "Audit",
	    p->ignore_errors ? ", errors ignored (failurePolicy: Ignore)" : "",
	    p->admission ? "" : ", admission: false (never applied)");
}
