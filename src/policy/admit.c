/*
 * Admitting an object: every rule of every policy, as Kyverno's validating
 * webhook would, on the object an action is about to send.
 *
 * Per rule: the policy's namespace (for a Policy), match and exclude, the
 * context entries, the preconditions, then the deny conditions.  As in
 * Kyverno, all variables of a condition block are substituted before any
 * condition is evaluated, and a variable that fails in a precondition
 * reads as "" (Kyverno's preconditions resolver) while one that fails in
 * a deny condition is an error.
 *
 * Failing closed: an error in a rule that matches the object (a bad
 * expression, a lookup() that could not read the cluster) denies it with
 * the error as the message, whatever the rule's Audit/Enforce, because
 * that is what Kyverno's default failurePolicy (Fail) does.  A policy that
 * says failurePolicy: Ignore gets the error recorded without the denial.
 */
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "policy/pol_int.h"

struct actx {
	const struct pol_set	*set;
	const struct jp_env	*env;
	const struct pol_req	*req;
	int			 delete_op;
	struct pol_verdict	*out;
	size_t			 cap;
	int			 all;	/* POL_ALL: passes and skips too */
	const struct pol_values	*values;	/* may be NULL */
	const struct pol_policy	*policy;	/* being evaluated */
	const struct pol_rule	*rule;
};

static void
violation(struct actx *a, const struct pol_policy *p,
    const struct pol_rule *r, char *msg_owned, int enforce,
    enum pol_outcome out)
{
	struct pol_violation *v;

	xgrow(&a->out->v, &a->cap, a->out->n + 1, sizeof(*a->out->v));
	v = &a->out->v[a->out->n++];
	v->policy = xstrdup(p->name);
	v->rule = xstrdup(r->name);
	v->message = msg_owned;
	v->enforce = enforce;
	v->outcome = out;
	if (enforce)
		a->out->denied = 1;
}

/* ---- conditions --------------------------------------------------------- */

/*
 * Substituted keys and values of one list of conditions; a list of a few
 * (most are one) in the struct itself, not allocated per admission.
 */
#define SUBST_INLINE	4
struct subst {
	json_t	**k, **v;
	size_t	  n;
	json_t	 *kin[SUBST_INLINE], *vin[SUBST_INLINE];
};

static void
subst_free(struct subst *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		json_decref(s->k[i]);
		json_decref(s->v[i]);
	}
	if (s->k != s->kin)
		free(s->k);
	if (s->v != s->vin)
		free(s->v);
}

static int
subst_list(struct actx *a, json_t *ctx, const struct pol_cond *c, size_t n,
    enum pol_vmode mode, struct subst *s, char **err)
{
	size_t i;

	s->k = n <= SUBST_INLINE ? s->kin : xcalloc(n, sizeof(*s->k));
	s->v = n <= SUBST_INLINE ? s->vin : xcalloc(n, sizeof(*s->v));
	for (s->n = 0; s->n < n; s->n++) {
		i = s->n;
		/* a key that is one {{ }} is evaluated as compiled */
		s->k[i] = c[i].key_var && !a->delete_op ? pol_subst_var(
		    c[i].key_var, ctx, a->env, mode, err) : pol_subst_json(
		    c[i].key, ctx, a->env, a->set->cache, mode, a->delete_op,
		    err);
		if (s->k[i] == NULL)
			return -1;
		if (c[i].value == NULL)
			s->v[i] = json_null();
		else if (c[i].value_plain)
			s->v[i] = json_incref(c[i].value);
		else if ((s->v[i] = pol_subst_json(c[i].value, ctx, a->env,
		    a->set->cache, mode, a->delete_op, err)) == NULL) {
			s->n++;
			return -1;
		}
	}
	return 0;
}

/*
 * Evaluates an any/all block: 1 true, 0 false, -1 with *err.  An empty
 * any list is false and an empty all list true, as in Kyverno; no block
 * at all is true.
 */
static int
eval_conds(struct actx *a, json_t *ctx, const struct pol_conds *cs,
    enum pol_vmode mode, char **err)
{
	struct subst any = { 0 }, all = { 0 };
	size_t i;
	int rc = -1, hit;

	if (subst_list(a, ctx, cs->any, cs->nany, mode, &any, err) != 0 ||
	    subst_list(a, ctx, cs->all, cs->nall, mode, &all, err) != 0)
		goto out;
	rc = 1;
	if (cs->has_any) {
		for (i = 0, hit = 0; i < any.n && !hit; i++)
			hit = pol_op_eval(cs->any[i].op, any.k[i], any.v[i]);
		rc = hit;
	}
	for (i = 0; rc && i < all.n; i++)
		rc = pol_op_eval(cs->all[i].op, all.k[i], all.v[i]);
out:
	subst_free(&any);
	subst_free(&all);
	return rc;
}

/* ---- context entries ---------------------------------------------------- */

static json_t *
apply_jmespath(struct actx *a, const char *path, json_t *data, char **err)
{
	struct jp_error jerr;
	json_t *r;

	memset(&jerr, 0, sizeof(jerr));
	if ((r = pol_cache_search(a->set->cache, path, data, a->env,
	    &jerr)) == NULL)
		*err = xasprintf("JMESPath \"%s\" failed: %s: %s", path,
		    jp_errkind_name(jerr.kind), jerr.msg);
	return r;
}

/* A member of v (a {kind, namespace, name} or configMap) substituted. */
static char *
subst_str(struct actx *a, json_t *ctx, json_t *v, const char *key,
    char **err)
{
	const char *src = json_string_value(json_object_get(v, key));
	json_t *r;
	char *s;

	if ((r = pol_subst(src ? src : "", ctx, a->env, a->set->cache,
	    POL_VAR_STRICT, a->delete_op, err)) == NULL)
		return NULL;
	s = json_is_string(r) ? xstrdup(json_string_value(r)) : pol_sprint(r);
	json_decref(r);
	return s;
}

/*
 * A configMap or apiCall entry: the object from the cluster view, as
 * Kyverno's would read it from the API server.  New reference or NULL.
 */
static json_t *
load_object(struct actx *a, json_t *ctx, const struct pol_var *v,
    char **err)
{
	int cm = v->type == POL_CTX_CONFIGMAP;
	char *ns = NULL, *name = NULL;
	const char *kind = cm ? "ConfigMap" : json_string_value(
	    json_object_get(v->value, "kind"));
	json_t *o = NULL;

	if ((ns = subst_str(a, ctx, v->value, "namespace", err)) == NULL ||
	    (name = subst_str(a, ctx, v->value, "name", err)) == NULL)
		goto out;
	/* Kyverno reads a configMap without a namespace in "default" */
	if (cm && *ns == '\0') {
		free(ns);
		ns = xstrdup("default");
	}
	if (a->env == NULL || a->env->lookup == NULL) {
		*err = xasprintf("no cluster to read %s %s%s%s from", kind, ns,
		    *ns ? "/" : "", name);
		goto out;
	}
	if ((o = a->env->lookup(a->env->lookup_ctx, kind, ns, name)) == NULL)
		*err = xasprintf("%s %s%s%s not found", kind, ns, *ns ? "/" :
		    "", name);
out:
	free(ns);
	free(name);
	return o;
}

/* One entry's value, Kyverno's way.  New reference or NULL. */
static json_t *
load_var(struct actx *a, json_t *ctx, const struct pol_var *v, char **err)
{
	json_t *path = NULL, *def = NULL, *out = NULL, *val;
	const char *p = NULL;

	if (v->jmespath) {
		path = pol_subst(v->jmespath, ctx, a->env, a->set->cache,
		    POL_VAR_STRICT, a->delete_op, err);
		if (path == NULL)
			return NULL;
		p = json_string_value(path);
		if (p == NULL) {
			*err = xstrdup("jmesPath did not resolve to a string");
			goto out;
		}
	}
	if (v->def && (def = pol_subst_json(v->def, ctx, a->env,
	    a->set->cache, POL_VAR_STRICT, a->delete_op, err)) == NULL)
		goto out;
	if (v->type == POL_CTX_CONFIGMAP)
		out = load_object(a, ctx, v, err);
	else if (v->type == POL_CTX_APICALL) {
		if ((val = load_object(a, ctx, v, err)) != NULL && p) {
			out = apply_jmespath(a, p, val, err);
			json_decref(val);
		} else
			out = val;
	} else if (v->value) {
		if ((val = pol_subst_json(v->value, ctx, a->env, a->set->cache,
		    POL_VAR_STRICT, a->delete_op, err)) == NULL)
			goto out;
		if (p) {
			out = apply_jmespath(a, p, val, err);
			json_decref(val);
		} else
			out = val;
	} else if (p)
		out = apply_jmespath(a, p, ctx, err);
	if (out == NULL && def != NULL) {
		free(*err);
		*err = NULL;
	}
	if ((out == NULL || json_is_null(out)) && def != NULL) {
		json_decref(out);
		out = json_incref(def);
	}
	if (out != NULL && json_is_null(out) && v->type ==
	    POL_CTX_VARIABLE) {
		json_decref(out);
		out = NULL;
	}
	if (out == NULL && *err == NULL)
		*err = xasprintf("context variable %s evaluated to null and "
		    "has no default", v->name);
out:
	json_decref(path);
	json_decref(def);
	return out;
}

/* The value a test gives for a context entry, most specific first;
 * borrowed, NULL when none. */
static json_t *
given_value(const struct actx *a, const char *name)
{
	const struct pol_values *vs = a->values;
	const char *slash;
	char *key;
	json_t *v;

	if (vs == NULL || a->policy == NULL || a->rule == NULL)
		return NULL;
	/* a Policy's name is ns/name; tests name it by name */
	slash = strchr(a->policy->name, '/');
	key = xasprintf("%s/%s", slash ? slash + 1 : a->policy->name,
	    a->rule->name);
	v = json_object_get(json_object_get(vs->by_rule, key), name);
	free(key);
	if (v == NULL)
		v = json_object_get(json_object_get(vs->by_policy, slash ?
		    slash + 1 : a->policy->name), name);
	if (v == NULL)
		v = json_object_get(vs->global, name);
	return v;
}

/*
 * ctx with the body's context entries added (new reference).  An entry
 * that cannot be loaded is left out and the first such failure is in
 * *err: the caller decides whether it matters (see eval_body).
 */
static json_t *
body_context(struct actx *a, json_t *ctx, const struct pol_body *b,
    char **err)
{
	json_t *rctx, *v;
	char *e;
	size_t i;

	if (b->nvars == 0)
		return json_incref(ctx);
	rctx = json_copy(ctx);
	for (i = 0; i < b->nvars; i++) {
		e = NULL;
		if ((v = given_value(a, b->vars[i].name)) != NULL) {
			json_object_set(rctx, b->vars[i].name, v);
			continue;
		}
		if ((v = load_var(a, rctx, &b->vars[i], &e)) == NULL) {
			if (*err == NULL)
				*err = xasprintf("context entry %s: %s",
				    b->vars[i].name, e ? e : "?");
			free(e);
			continue;
		}
		json_object_set_new(rctx, b->vars[i].name, v);
	}
	return rctx;
}

/* ---- rules -------------------------------------------------------------- */

static int
rule_enforces(const struct pol_policy *p, const struct pol_rule *r,
    const char *ns)
{
	size_t i, j;

	if (r->action >= 0)
		return r->action;
	for (i = 0; i < p->nov; i++)
		for (j = 0; j < p->ov[i].n; j++)
			if (util_glob(p->ov[i].namespaces[j], ns))
				return p->ov[i].enforce;
	return p->enforce;
}

/* The rule's message rendered; Kyverno keeps the raw one on error. */
static char *
render(struct actx *a, json_t *ctx, const struct pol_rule *r)
{
	json_t *m;
	char *err = NULL, *s;

	if (r->message == NULL || *r->message == '\0')
		return xasprintf("validation error: rule %s failed", r->name);
	m = pol_subst(r->message, ctx, a->env, a->set->cache, POL_VAR_STRICT,
	    a->delete_op, &err);
	if (m == NULL) {
		free(err);
		return xstrdup(r->message);
	}
	s = json_is_string(m) ? xstrdup(json_string_value(m)) :
	    xstrdup("the produced message didn't resolve to a string, check "
	    "your policy definition.");
	json_decref(m);
	return s;
}

/* Kyverno's buildErrorMessage for a pattern that did not fit. */
static char *
pattern_message(struct actx *a, json_t *ctx, const struct pol_rule *r,
    const char *path, const char *why)
{
	json_t *m;
	char *err = NULL, *s;
	size_t n;

	if (r->message == NULL || *r->message == '\0')
		return path ? xasprintf("validation error: rule %s failed at "
		    "path %s", r->name, path) : xasprintf("validation error: "
		    "rule %s execution error: %s", r->name, why);
	m = pol_subst(r->message, ctx, a->env, a->set->cache, POL_VAR_STRICT,
	    a->delete_op, &err);
	if (m == NULL || !json_is_string(m)) {
		json_decref(m);
		free(err);
		return xasprintf("validation error: variables substitution "
		    "error in rule %s execution error: %s", r->name, why);
	}
	n = json_string_length(m);
	s = xasprintf("validation error: %s%s rule %s failed at path %s",
	    json_string_value(m), n > 0 && json_string_value(m)[n - 1] ==
	    '.' ? "" : ".", r->name, path ? path : "/");
	json_decref(m);
	return s;
}

/* What evaluating a body gives: an outcome and, but for PASS, why. */
struct res {
	enum pol_outcome	 out;
	char			*msg;	/* owned */
};

static enum pol_outcome
result(struct res *res, enum pol_outcome out, char *msg_owned)
{
	res->out = out;
	free(res->msg);
	res->msg = msg_owned;
	return out;
}

static enum pol_outcome eval_body(struct actx *, json_t *ctx,
    json_t *resource, const struct pol_rule *, const struct pol_body *,
    int nesting, struct res *);

static enum pol_outcome
eval_pattern(struct actx *a, json_t *ctx, json_t *resource,
    const struct pol_rule *r, const struct pol_body *b, struct res *res)
{
	json_t *pats, *pat;
	struct buf fails;
	char *err = NULL, *path, *why;
	size_t i, nfail = 0, nskip = 0;
	enum pol_pres pr;

	/* Kyverno does not validate a pattern on an object being deleted */
	if (a->delete_op && resource == a->req->object)
		return result(res, POL_SKIP, xstrdup("pattern not checked on "
		    "DELETE"));
	if ((pats = pol_subst_json(b->pattern, ctx, a->env, a->set->cache,
	    POL_VAR_STRICT, a->delete_op, &err)) == NULL) {
		why = xasprintf("variable substitution failed: %s", err ? err :
		    "?");
		free(err);
		return result(res, POL_ERROR, why);
	}
	if (b->kind == POL_V_PATTERN) {
		pr = pol_pattern(resource, pats, &path, &why);
		json_decref(pats);
		if (pr == POL_PAT_PASS)
			return result(res, POL_PASS, NULL);
		if (pr == POL_PAT_SKIP)
			res->out = POL_SKIP, res->msg = xstrdup(why);
		else
			res->out = POL_FAIL, res->msg = pattern_message(a, ctx,
			    r, path, why);
		free(path);
		free(why);
		return res->out;
	}
	buf_init(&fails, POL_MAX_TEXT);
	json_array_foreach(pats, i, pat) {
		pr = pol_pattern(resource, pat, &path, &why);
		if (pr == POL_PAT_PASS) {
			json_decref(pats);
			buf_free(&fails);
			return result(res, POL_PASS, NULL);
		}
		if (pr == POL_PAT_SKIP)
			nskip++;
		else
			buf_printf(&fails, "%srule %s[%zu] failed at path %s",
			    nfail++ ? " " : "", r->name, i, path);
		free(path);
		free(why);
	}
	json_decref(pats);
	if (nfail == 0 && nskip > 0) {
		buf_free(&fails);
		return result(res, POL_SKIP, xstrdup("every anyPattern "
		    "skipped"));
	}
	if (r->message == NULL || *r->message == '\0')
		result(res, POL_FAIL, xasprintf("validation error: %s",
		    fails.data ? fails.data : ""));
	else
		result(res, POL_FAIL, xasprintf("validation error: %s%s %s",
		    r->message, r->message[strlen(r->message) - 1] == '.' ? "" :
		    ".", fails.data ? fails.data : ""));
	buf_free(&fails);
	return POL_FAIL;
}

/* ctx with element, elementIndex and their nested names; new ref. */
static json_t *
element_context(json_t *ctx, json_t *e, size_t idx, int nesting)
{
	json_t *c = json_copy(ctx);
	char k[32];

	json_object_set(c, "element", e);
	json_object_set_new(c, "elementIndex", json_integer((json_int_t)idx));
	snprintf(k, sizeof k, "element%d", nesting);
	json_object_set(c, k, e);
	snprintf(k, sizeof k, "elementIndex%d", nesting);
	json_object_set_new(c, k, json_integer((json_int_t)idx));
	return c;
}

/* The elements foreach's list gives; NULL when it cannot be evaluated. */
static json_t *
foreach_list(struct actx *a, json_t *ctx, const struct pol_foreach *f)
{
	json_t *expr, *l, *wrapped;
	struct jp_error jerr;
	char *err = NULL;

	if (strstr(f->list, "{{") != NULL) {
		if ((expr = pol_subst(f->list, ctx, a->env, a->set->cache,
		    POL_VAR_STRICT, a->delete_op, &err)) == NULL) {
			free(err);
			return NULL;
		}
		if (!json_is_string(expr)) {
			json_decref(expr);
			return NULL;
		}
		memset(&jerr, 0, sizeof jerr);
		l = jp_search(json_string_value(expr), ctx, a->env, &jerr);
		json_decref(expr);
	} else {
		memset(&jerr, 0, sizeof jerr);
		l = pol_cache_search(a->set->cache, f->list, ctx, a->env,
		    &jerr);
	}
	if (l == NULL || json_is_array(l))
		return l;
	/* a single value is a list of one, as Kyverno's EvaluateList */
	wrapped = json_array();
	json_array_append_new(wrapped, l);
	return wrapped;
}

/* One foreach entry over its elements; *applied counts those that ran. */
static enum pol_outcome
eval_elements(struct actx *a, json_t *ctx, json_t *resource,
    const struct pol_rule *r, const struct pol_foreach *f, json_t *list,
    int nesting, size_t *applied, struct res *res)
{
	struct res sub;
	json_t *e, *ectx, *scoped;
	size_t i, n = json_array_size(list);
	enum pol_outcome o;

	json_array_foreach(list, i, e) {
		if (json_is_null(e))
			continue;
		if (f->scope == 1 && !json_is_object(e))
			return result(res, POL_ERROR, xasprintf("failed to "
			    "process foreach: cannot use elementScope=true "
			    "foreach rules for elements that are not maps, got "
			    "%s", json_is_array(e) ? "a list" : "a scalar"));
		scoped = f->scope != 0 && json_is_object(e) ? e : resource;
		ectx = element_context(ctx, e, i, nesting);
		memset(&sub, 0, sizeof sub);
		o = eval_body(a, ectx, scoped, r, &f->body, nesting + 1, &sub);
		json_decref(ectx);
		if (o == POL_SKIP || (o == POL_ERROR && i + 1 < n)) {
			free(sub.msg);
			continue;
		}
		if (o != POL_PASS) {
			result(res, o, xasprintf("validation failure: %s",
			    sub.msg ? sub.msg : ""));
			free(sub.msg);
			return o;
		}
		free(sub.msg);
		(*applied)++;
	}
	return POL_PASS;
}

static enum pol_outcome
eval_foreach(struct actx *a, json_t *ctx, json_t *resource,
    const struct pol_rule *r, const struct pol_body *b, int nesting,
    struct res *res)
{
	json_t *list;
	size_t i, applied = 0;
	enum pol_outcome o;

	for (i = 0; i < b->nfe; i++) {
		/* a list that cannot be evaluated is skipped, as Kyverno */
		if ((list = foreach_list(a, ctx, &b->fe[i])) == NULL)
			continue;
		o = eval_elements(a, ctx, resource, r, &b->fe[i], list,
		    nesting, &applied, res);
		json_decref(list);
		if (o != POL_PASS)
			return o;
	}
	if (applied == 0)
		return result(res, POL_SKIP, xstrdup("rule skipped"));
	return result(res, POL_PASS, NULL);
}

/*
 * A body: context, preconditions, then its check.  resource is what a
 * pattern is matched against (the object, or a foreach element in scope).
 */
static enum pol_outcome
eval_body(struct actx *a, json_t *ctx, json_t *resource,
    const struct pol_rule *r, const struct pol_body *b, int nesting,
    struct res *res)
{
	char *err = NULL, *cerr = NULL;
	json_t *bctx;
	int rc;

	bctx = body_context(a, ctx, b, &cerr);
	if (b->has_pre) {
		rc = eval_conds(a, bctx, &b->pre, POL_VAR_LENIENT, &err);
		if (rc != 1) {
			json_decref(bctx);
			free(cerr);
			if (rc == 0)
				return result(res, POL_SKIP, xstrdup(
				    "preconditions not met"));
			result(res, POL_ERROR, xasprintf("failed to evaluate "
			    "preconditions: %s", err ? err : "unknown error"));
			free(err);
			return POL_ERROR;
		}
	}
	/*
	 * Kyverno loads context entries when a variable first reads them
	 * (deferred loading, its default): an entry that cannot be loaded
	 * fails a rule whose preconditions hold, not one they skip.
	 */
	if (cerr != NULL) {
		json_decref(bctx);
		result(res, POL_ERROR, xasprintf("failed to evaluate context: "
		    "%s", cerr));
		free(cerr);
		return POL_ERROR;
	}
	switch (b->kind) {
	case POL_V_DENY:
		rc = eval_conds(a, bctx, &b->deny, POL_VAR_STRICT, &err);
		if (rc < 0)
			result(res, POL_ERROR, xasprintf("failed to evaluate "
			    "deny conditions: %s", err ? err :
			    "unknown error"));
		else if (rc == 1)
			result(res, POL_FAIL, render(a, bctx, r));
		else
			result(res, POL_PASS, NULL);
		free(err);
		break;
	case POL_V_PATTERN:
	case POL_V_ANYPATTERN:
		eval_pattern(a, bctx, resource, r, b, res);
		break;
	case POL_V_FOREACH:
		eval_foreach(a, bctx, resource, r, b, nesting, res);
		break;
	}
	json_decref(bctx);
	return res->out;
}

/* One rule that applies; returns its outcome. */
static enum pol_outcome
eval_rule(struct actx *a, json_t *ctx, const struct pol_policy *p,
    const struct pol_rule *r)
{
	struct res res;
	int enforce;

	memset(&res, 0, sizeof res);
	a->policy = p;
	a->rule = r;
	eval_body(a, ctx, a->req->object, r, &r->body, 0, &res);
	enforce = res.out == POL_ERROR ? !p->ignore_errors :
	    rule_enforces(p, r, a->req->namespace);
	if (res.out == POL_FAIL || res.out == POL_ERROR || a->all)
		violation(a, p, r, res.msg ? res.msg : xstrdup(""),
		    res.out == POL_PASS || res.out == POL_SKIP ? 0 : enforce,
		    res.out);
	else
		free(res.msg);
	return res.out;
}

/* ---- the request -------------------------------------------------------- */

/*
 * o[k] = a new string s, in order; -1 (nothing set) when s is not UTF-8,
 * where json_pack would refuse the whole object.
 */
static int
set_str(json_t *o, const char *k, const char *s)
{
	json_t *v = json_string(s);

	if (v == NULL)
		return -1;
	json_object_set_new_nocheck(o, k, v);
	return 0;
}

/* o[k] when it is a string (borrowed), else NULL. */
static json_t *
str_json(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_string(v) ? v : NULL;
}

/* Its text, "" when there is none. */
static const char *
text_of(json_t *v)
{
	const char *s = json_string_value(v);

	return s ? s : "";
}

/* {group, version, kind} of the request (Kyverno's kind, requestKind). */
static json_t *
kind_object(const struct pol_req *r)
{
	json_t *k = json_object();

	(void)set_str(k, "group", r->group);	/* apiVersion's, so UTF-8 */
	json_object_set_new_nocheck(k, "version", util_json_str_ref(
	    r->api_version_v, r->version));
	json_object_set_new_nocheck(k, "kind", util_json_str_ref(r->kind_v,
	    r->kind));
	return k;
}

/*
 * req's object, oldObject and name for r, set or replaced in place (the
 * object is null for DELETE, which reads it as oldObject).
 */
static void
set_object(json_t *req, const struct pol_req *r, int delete_op)
{
	json_object_set_nocheck(req, "object", delete_op ? json_null() :
	    r->object);
	json_object_set_nocheck(req, "oldObject", delete_op ? r->object :
	    r->old ? r->old : json_null());
	json_object_set_new_nocheck(req, "name", util_json_str_ref(r->name_v,
	    r->name));
}

/*
 * Kyverno's request context for r.  Built member by member in the order
 * a json_pack format would list them: json_pack reads its format every
 * time.  The object's own strings (kind, name, namespace, an apiVersion
 * without group) are taken by reference, not made again.  NULL when the
 * operation is not UTF-8.
 */
static json_t *
request_context(const struct pol_req *r, int delete_op)
{
	json_t *req = json_object(), *k, *ctx, *images, *e;

	if (set_str(req, "operation", r->operation) == -1) {
		json_decref(req);
		return NULL;
	}
	set_object(req, r, delete_op);
	k = kind_object(r);
	json_object_set_new_nocheck(req, "kind", k);
	json_object_set_new_nocheck(req, "dryRun", json_false());
	if (*r->namespace)
		json_object_set_new_nocheck(req, "namespace", util_json_str_ref(
		    r->namespace_v, r->namespace));
	json_object_set_nocheck(req, "requestKind", k);
	ctx = json_object();
	json_object_set_new_nocheck(ctx, "request", req);
	e = json_string("");
	json_object_set_nocheck(ctx, "serviceAccountName", e);
	json_object_set_new_nocheck(ctx, "serviceAccountNamespace", e);
	if ((images = pol_images(r->object)) != NULL)
		json_object_set_new_nocheck(ctx, "images", images);
	return ctx;
}

/* ---- the request kept between admissions -------------------------------- */

struct pol_scratch {
	json_t	*ctx;		/* owned: the last request context, its
				   object and oldObject null between calls */
};

struct pol_scratch *
pol_scratch_new(void)
{
	return xcalloc(1, sizeof(struct pol_scratch));
}

void
pol_scratch_free(struct pol_scratch *s)
{
	if (s == NULL)
		return;
	json_decref(s->ctx);
	free(s);
}

/* Whether v is the string s whole. */
static int
is_text(json_t *v, const char *s)
{
	return json_is_string(v) && strcmp(json_string_value(v), s) == 0 &&
	    json_string_length(v) == strlen(s);
}

/*
 * s's context made r's, in place: the members that differ are replaced
 * (in place, so their order stays request_context's).  Returns 0, or -1
 * when it cannot be, because the namespace member would come or go (it
 * has its place in the middle) or the operation is new and not UTF-8.
 */
static int
reuse_context(struct pol_scratch *s, const struct pol_req *r, int delete_op)
{
	json_t *req = json_object_get(s->ctx, "request"), *k, *op, *images;

	if ((json_object_get(req, "namespace") != NULL) != (*r->namespace !=
	    '\0'))
		return -1;
	if (!is_text(json_object_get(req, "operation"), r->operation)) {
		if ((op = json_string(r->operation)) == NULL)
			return -1;
		json_object_set_new_nocheck(req, "operation", op);
	}
	set_object(req, r, delete_op);
	k = json_object_get(req, "kind");
	if (!is_text(json_object_get(k, "group"), r->group) ||
	    !is_text(json_object_get(k, "version"), r->version) ||
	    !is_text(json_object_get(k, "kind"), r->kind)) {
		k = kind_object(r);
		json_object_set_nocheck(req, "kind", k);
		json_object_set_new_nocheck(req, "requestKind", k);
	}
	if (*r->namespace)
		json_object_set_new_nocheck(req, "namespace", util_json_str_ref(
		    r->namespace_v, r->namespace));
	/* images is the last member: deleted and added back, it stays so */
	if ((images = pol_images(r->object)) != NULL)
		json_object_set_new_nocheck(s->ctx, "images", images);
	else
		json_object_del(s->ctx, "images");
	return 0;
}

/*
 * The request context for r, from s when it has one (s may be NULL).
 * A new reference; NULL only when the operation is not UTF-8.
 */
static json_t *
context_for(struct pol_scratch *s, const struct pol_req *r, int delete_op)
{
	if (s == NULL)
		return request_context(r, delete_op);
	if (s->ctx == NULL || reuse_context(s, r, delete_op) == -1) {
		json_decref(s->ctx);
		s->ctx = request_context(r, delete_op);
	}
	return json_incref(s->ctx);
}

/*
 * After an admission: s keeps no reference to the caller's objects (they
 * were borrowed for the call).
 */
static void
release_objects(struct pol_scratch *s)
{
	json_t *req;

	if (s == NULL || s->ctx == NULL)
		return;
	req = json_object_get(s->ctx, "request");
	json_object_set_new_nocheck(req, "object", json_null());
	json_object_set_new_nocheck(req, "oldObject", json_null());
}

int
pol_admit(const struct pol_set *set, json_t *object, const char *operation,
    const struct jp_env *env, struct pol_verdict *out)
{
	return pol_admit_update(set, object, NULL, operation, env, out);
}

static int evaluate(const struct pol_set *, struct pol_scratch *,
    json_t *object, json_t *old, const char *operation,
    const struct jp_env *, int flags, const struct pol_values *,
    struct pol_verdict *);

int
pol_admit_update(const struct pol_set *set, json_t *object, json_t *old,
    const char *operation, const struct jp_env *env, struct pol_verdict *out)
{
	return evaluate(set, NULL, object, old, operation, env, 0, NULL, out);
}

int
pol_admit_reuse(const struct pol_set *set, struct pol_scratch *s,
    json_t *object, json_t *old, const char *operation,
    const struct jp_env *env, struct pol_verdict *out)
{
	return evaluate(set, s, object, old, operation, env, 0, NULL, out);
}

const char *
pol_outcome_name(enum pol_outcome o)
{
	switch (o) {
	case POL_FAIL:
		return "fail";
	case POL_ERROR:
		return "error";
	case POL_PASS:
		return "pass";
	case POL_SKIP:
		return "skip";
	}
	return "?";
}

int
pol_evaluate(const struct pol_set *set, json_t *object, json_t *old,
    const char *operation, const struct jp_env *env, int flags,
    const struct pol_values *values, struct pol_verdict *out)
{
	return evaluate(set, NULL, object, old, operation, env, flags, values,
	    out);
}

static int
evaluate(const struct pol_set *set, struct pol_scratch *scratch,
    json_t *object, json_t *old, const char *operation,
    const struct jp_env *env, int flags, const struct pol_values *values,
    struct pol_verdict *out)
{
	struct pol_req req;
	struct actx a;
	const char *av;
	char *group;
	json_t *ctx, *meta;
	size_t i, j;

	memset(out, 0, sizeof(*out));
	if (set == NULL || object == NULL)
		return 0;
	memset(&req, 0, sizeof(req));
	req.object = object;
	req.old = old;
	req.operation = operation ? operation : "CREATE";
	meta = json_object_get(object, "metadata");
	req.api_version_v = str_json(object, "apiVersion");
	req.kind_v = str_json(object, "kind");
	req.name_v = str_json(meta, "name");
	req.namespace_v = str_json(meta, "namespace");
	av = text_of(req.api_version_v);
	if (strchr(av, '/') != NULL) {
		group = xstrndup(av, (size_t)(strchr(av, '/') - av));
		req.version = strchr(av, '/') + 1;
	} else {
		group = xstrdup("");
		req.version = av;
	}
	req.group = group;
	req.kind = text_of(req.kind_v);
	req.name = text_of(req.name_v);
	req.namespace = text_of(req.namespace_v);
	req.env = env;
	req.ns_labels = values ? values->namespaces : NULL;
	memset(&a, 0, sizeof(a));
	a.set = set;
	a.env = env;
	a.req = &req;
	a.delete_op = strcmp(req.operation, "DELETE") == 0;
	a.out = out;
	a.all = flags & POL_ALL;
	a.values = values;
	ctx = NULL;	/* made when the first rule applies */
	for (i = 0; i < set->n; i++) {
		const struct pol_policy *p = &set->p[i];

		if (!p->admission)
			continue;
		/* a Policy governs its own namespace only */
		if (p->namespace && strcmp(p->namespace, req.namespace) != 0)
			continue;
		for (j = 0; j < p->nrules; j++) {
			enum pol_outcome o;

			if (!pol_rule_applies(&p->rules[j], &req))
				continue;
			/* NULL only for an operation that is not UTF-8 */
			if (ctx == NULL && (ctx = context_for(scratch, &req,
			    a.delete_op)) == NULL)
				ctx = json_object();
			o = eval_rule(&a, ctx, p, &p->rules[j]);
			/* applyRules: One stops at the first rule applied */
			if (p->apply_one && (o == POL_PASS || o == POL_FAIL))
				break;
		}
	}
	if (ctx != NULL)
		release_objects(scratch);
	json_decref(ctx);
	free(group);
	return 0;
}

void
pol_verdict_clear(struct pol_verdict *v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < v->n; i++) {
		free(v->v[i].policy);
		free(v->v[i].rule);
		free(v->v[i].message);
	}
	free(v->v);
	memset(v, 0, sizeof(*v));
}
