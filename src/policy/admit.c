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
};

static void
violation(struct actx *a, const struct pol_policy *p,
    const struct pol_rule *r, char *msg_owned, int enforce)
{
	struct pol_violation *v;

	xgrow(&a->out->v, &a->cap, a->out->n + 1, sizeof(*a->out->v));
	v = &a->out->v[a->out->n++];
	v->policy = xstrdup(p->name);
	v->rule = xstrdup(r->name);
	v->message = msg_owned;
	v->enforce = enforce;
	if (enforce)
		a->out->denied = 1;
}

/* ---- conditions --------------------------------------------------------- */

/* Substituted keys and values of one list of conditions. */
struct subst {
	json_t	**k, **v;
	size_t	  n;
};

static void
subst_free(struct subst *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		json_decref(s->k[i]);
		json_decref(s->v[i]);
	}
	free(s->k);
	free(s->v);
}

static int
subst_list(struct actx *a, json_t *ctx, const struct pol_cond *c, size_t n,
    enum pol_vmode mode, struct subst *s, char **err)
{
	size_t i;

	s->k = xcalloc(n + 1, sizeof(*s->k));
	s->v = xcalloc(n + 1, sizeof(*s->v));
	for (s->n = 0; s->n < n; s->n++) {
		i = s->n;
		s->k[i] = pol_subst_json(c[i].key, ctx, a->env, a->set->cache,
		    mode, a->delete_op, err);
		if (s->k[i] == NULL)
			return -1;
		if (c[i].value == NULL)
			s->v[i] = json_null();
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
	if ((r = jp_search(path, data, a->env, &jerr)) == NULL)
		*err = xasprintf("JMESPath \"%s\" failed: %s: %s", path,
		    jp_errkind_name(jerr.kind), jerr.msg);
	return r;
}

/* One variable entry's value, Kyverno's way.  New reference or NULL. */
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
	if (v->value) {
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
	if (out != NULL && json_is_null(out)) {
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

/* ctx with the rule's context entries added; new reference or NULL. */
static json_t *
rule_context(struct actx *a, json_t *ctx, const struct pol_rule *r,
    char **err)
{
	json_t *rctx, *v;
	size_t i;

	if (r->nvars == 0)
		return json_incref(ctx);
	rctx = json_copy(ctx);
	for (i = 0; i < r->nvars; i++) {
		if ((v = load_var(a, rctx, &r->vars[i], err)) == NULL) {
			char *e = *err;

			*err = xasprintf("context entry %s: %s",
			    r->vars[i].name, e);
			free(e);
			json_decref(rctx);
			return NULL;
		}
		json_object_set_new(rctx, r->vars[i].name, v);
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

static void
eval_rule(struct actx *a, json_t *ctx, const struct pol_policy *p,
    const struct pol_rule *r)
{
	const char *stage = "context";
	char *err = NULL;
	json_t *rctx;
	int rc = 1;

	if ((rctx = rule_context(a, ctx, r, &err)) == NULL)
		goto error;
	if (r->has_pre) {
		stage = "preconditions";
		rc = eval_conds(a, rctx, &r->pre, POL_VAR_LENIENT, &err);
	}
	if (rc == 1) {
		stage = "deny conditions";
		rc = eval_conds(a, rctx, &r->deny, POL_VAR_STRICT, &err);
		if (rc == 1)
			violation(a, p, r, render(a, rctx, r),
			    rule_enforces(p, r, a->req->namespace));
	}
	json_decref(rctx);
	if (rc >= 0)
		return;
error:
	violation(a, p, r, xasprintf("failed to evaluate %s: %s", stage,
	    err ? err : "unknown error"), !p->ignore_errors);
	free(err);
}

/* ---- the request -------------------------------------------------------- */

static json_t *
request_context(const struct pol_req *r, int delete_op)
{
	json_t *req, *ctx;

	req = json_pack("{s:s, s:O, s:O, s:s, s:{s:s, s:s, s:s}, s:b}",
	    "operation", r->operation,
	    "object", delete_op ? json_null() : r->object,
	    "oldObject", delete_op ? r->object : r->old ? r->old : json_null(),
	    "name", r->name,
	    "kind", "group", r->group, "version", r->version, "kind", r->kind,
	    "dryRun", 0);
	if (*r->namespace)
		json_object_set_new(req, "namespace",
		    json_string(r->namespace));
	if (req == NULL)
		return NULL;
	json_object_set(req, "requestKind", json_object_get(req, "kind"));
	ctx = json_pack("{s:o, s:s, s:s}", "request", req,
	    "serviceAccountName", "", "serviceAccountNamespace", "");
	return ctx;
}

static const char *
str_at(json_t *o, const char *a, const char *b)
{
	const char *s = json_string_value(json_object_get(
	    b ? json_object_get(o, a) : o, b ? b : a));

	return s ? s : "";
}

int
pol_admit(const struct pol_set *set, json_t *object, const char *operation,
    const struct jp_env *env, struct pol_verdict *out)
{
	return pol_admit_update(set, object, NULL, operation, env, out);
}

int
pol_admit_update(const struct pol_set *set, json_t *object, json_t *old,
    const char *operation, const struct jp_env *env, struct pol_verdict *out)
{
	struct pol_req req;
	struct actx a;
	const char *av;
	char *group;
	json_t *ctx;
	size_t i, j;

	memset(out, 0, sizeof(*out));
	if (set == NULL || object == NULL)
		return 0;
	memset(&req, 0, sizeof(req));
	req.object = object;
	req.old = old;
	req.operation = operation ? operation : "CREATE";
	av = str_at(object, "apiVersion", NULL);
	if (strchr(av, '/') != NULL) {
		group = xstrndup(av, (size_t)(strchr(av, '/') - av));
		req.version = strchr(av, '/') + 1;
	} else {
		group = xstrdup("");
		req.version = av;
	}
	req.group = group;
	req.kind = str_at(object, "kind", NULL);
	req.name = str_at(object, "metadata", "name");
	req.namespace = str_at(object, "metadata", "namespace");
	req.env = env;
	memset(&a, 0, sizeof(a));
	a.set = set;
	a.env = env;
	a.req = &req;
	a.delete_op = strcmp(req.operation, "DELETE") == 0;
	a.out = out;
	/* json_pack refuses only text that is not UTF-8 (an operation) */
	if ((ctx = request_context(&req, a.delete_op)) == NULL)
		ctx = json_object();
	for (i = 0; i < set->n; i++) {
		const struct pol_policy *p = &set->p[i];

		if (!p->admission)
			continue;
		/* a Policy governs its own namespace only */
		if (p->namespace && strcmp(p->namespace, req.namespace) != 0)
			continue;
		for (j = 0; j < p->nrules; j++)
			if (pol_rule_applies(&p->rules[j], &req))
				eval_rule(&a, ctx, p, &p->rules[j]);
	}
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
