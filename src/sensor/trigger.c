/*
 * Triggers as compiled: the kind (which of k8s, http, log, remediate the
 * template holds), the k8s operation, rate limit,
 * guardrails, conditions over dependency names, parameters, and the
 * `{{ .Input }}` strings of the resource.
 *
 * Where the manifest says something Argo Events would accept but could
 * not do (patch an object that only has generateName), the answer is an
 * error with a hint now rather than a failed action later.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/sensor_int.h"

static const char *
str_of(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* ---- conditions ------------------------------------------------------- */

struct cparser {
	const char		*src, *p;
	const struct sensor	*s;
	unsigned char		*listens;
	char			*err;
	int			 depth;
};

static void
free_cond(struct cnode *n)
{
	if (n == NULL)
		return;
	free_cond(n->a);
	free_cond(n->b);
	free(n);
}

static void
skip_ws(struct cparser *cp)
{
	while (isspace((unsigned char)*cp->p))
		cp->p++;
}

static struct cnode *c_or(struct cparser *);

static struct cnode *
c_prim(struct cparser *cp)
{
	struct cnode *n;
	const char *b, *hint;
	const char **names;
	char *name;
	size_t i;

	skip_ws(cp);
	if (*cp->p == '(') {
		cp->p++;
		if (++cp->depth > 64) {
			cp->err = xstrdup("nested too deeply");
			return NULL;
		}
		if ((n = c_or(cp)) == NULL)
			return NULL;
		cp->depth--;
		skip_ws(cp);
		if (*cp->p != ')') {
			free_cond(n);
			cp->err = xasprintf("missing ')' at column %zu",
			    (size_t)(cp->p - cp->src) + 1);
			return NULL;
		}
		cp->p++;
		return n;
	}
	for (b = cp->p; isalnum((unsigned char)*cp->p) || *cp->p == '_' ||
	    *cp->p == '-' || *cp->p == '.'; cp->p++)
		;
	if (b == cp->p) {
		cp->err = *cp->p ? xasprintf("unexpected '%c' at column %zu",
		    *cp->p, (size_t)(cp->p - cp->src) + 1) :
		    xstrdup("a dependency name is missing at the end");
		return NULL;
	}
	name = xstrndup(b, (size_t)(cp->p - b));
	for (i = 0; i < cp->s->ndeps; i++)
		if (strcmp(cp->s->deps[i].name, name) == 0)
			break;
	if (i == cp->s->ndeps) {
		names = xcalloc(cp->s->ndeps + 1, sizeof *names);
		for (i = 0; i < cp->s->ndeps; i++)
			names[i] = cp->s->deps[i].name;
		hint = util_suggest(name, names, cp->s->ndeps);
		cp->err = xasprintf("no dependency named %s%s%s%s", name,
		    hint ? " (did you mean " : "", hint ? hint : "",
		    hint ? "?)" : "");
		free(names);
		free(name);
		return NULL;
	}
	free(name);
	cp->listens[i] = 1;
	n = xcalloc(1, sizeof *n);
	n->k = CN_DEP;
	n->dep = i;
	return n;
}

static struct cnode *
c_bin(struct cparser *cp, struct cnode *(*sub)(struct cparser *),
    const char *op, enum cnode_kind k)
{
	struct cnode *a, *b, *n;

	if ((a = sub(cp)) == NULL)
		return NULL;
	for (;;) {
		skip_ws(cp);
		if (strncmp(cp->p, op, 2) != 0)
			return a;
		cp->p += 2;
		if ((b = sub(cp)) == NULL) {
			free_cond(a);
			return NULL;
		}
		n = xcalloc(1, sizeof *n);
		n->k = k;
		n->a = a;
		n->b = b;
		a = n;
	}
}

static struct cnode *
c_and(struct cparser *cp)
{
	return c_bin(cp, c_prim, "&&", CN_AND);
}

static struct cnode *
c_or(struct cparser *cp)
{
	return c_bin(cp, c_and, "||", CN_OR);
}

static void
compile_conditions(struct trig *t, const struct sensor *s,
    const struct mdoc *doc, json_t *node, struct diags *d)
{
	struct cparser cp;
	const char *src = json_string_value(node);

	t->cond_src = xstrdup(src);
	memset(&cp, 0, sizeof cp);
	cp.src = cp.p = src;
	cp.s = s;
	cp.listens = t->listens;
	t->cond = c_or(&cp);
	if (t->cond) {
		skip_ws(&cp);
		if (*cp.p != '\0')
			cp.err = xasprintf("unexpected '%c' at column %zu",
			    *cp.p, (size_t)(cp.p - cp.src) + 1);
	}
	if (cp.err) {
		diag_error(d, sensor_loc(doc, node), "bad conditions \"%s\": "
		    "%s", src, cp.err);
		diag_hint(d, "conditions combine dependency names with &&, "
		    "|| and parentheses");
		free(cp.err);
	}
	/* Argo's test for "wait for more than one event" */
	t->requires_and = strchr(src, '&') != NULL;
}

/* ---- parameters ------------------------------------------------------- */

static void
compile_param(struct sensor_param *p, const struct sensor *s,
    const struct mdoc *doc, json_t *o, int dest_may_be_empty,
    struct diags *d)
{
	json_t *src = json_object_get(o, "src"), *v;
	const char *dep = str_of(src, "dependencyName"), *dest =
	    str_of(o, "dest"), *op = str_of(o, "operation"), *key, *tmpl,
	    *hint;
	const char **names;
	char *err;
	size_t i;

	memset(p, 0, sizeof *p);
	if (!json_is_object(src)) {
		diag_error(d, sensor_loc(doc, o), "parameter without src");
		return;
	}
	for (i = 0; dep && i < s->ndeps; i++)
		if (strcmp(s->deps[i].name, dep) == 0)
			break;
	if (dep == NULL || i == s->ndeps) {
		if (dep == NULL)
			diag_error(d, sensor_loc(doc, src), "parameter src "
			    "without dependencyName");
		else
			diag_error(d, sensor_loc(doc, json_object_get(src,
			    "dependencyName")), "parameter src names no "
			    "dependency %s", dep);
		names = xcalloc(s->ndeps + 1, sizeof *names);
		for (i = 0; i < s->ndeps; i++)
			names[i] = s->deps[i].name;
		if (dep && (hint = util_suggest(dep, names, s->ndeps)) != NULL)
			diag_hint(d, "did you mean %s?", hint);
		free(names);
		i = 0;
	}
	p->dep = xstrdup(dep ? dep : "");
	p->depi = i;
	/* data* wins over context* when both are given, as in Argo */
	key = str_of(src, "contextKey");
	tmpl = str_of(src, "contextTemplate");
	p->key_ctx = p->tmpl_ctx = 1;
	if (str_of(src, "dataKey") || str_of(src, "dataTemplate")) {
		key = str_of(src, "dataKey");
		tmpl = str_of(src, "dataTemplate");
		p->key_ctx = p->tmpl_ctx = 0;
	}
	if (key && *key && (p->key = sensor_path_compile(key, &err)) ==
	    NULL) {
		diag_error(d, sensor_loc(doc, json_object_get(src, p->key_ctx ?
		    "contextKey" : "dataKey")), "bad path \"%s\": %s", key,
		    err);
		free(err);
	}
	if (tmpl && *tmpl && (p->tmpl = sensor_tmpl_compile(tmpl,
	    TMPL_STRICT, &err)) == NULL) {
		diag_error(d, sensor_loc(doc, json_object_get(src, p->tmpl_ctx ?
		    "contextTemplate" : "dataTemplate")), "bad template: %s",
		    err);
		free(err);
	}
	if ((v = json_object_get(src, "value")) != NULL) {
		if (json_is_string(v))
			p->value = xstrdup(json_string_value(v));
		else if (json_is_number(v) || json_is_boolean(v)) {
			struct buf b;

			buf_init(&b, 0);
			sensor_fmt_gjson(&b, v);
			p->value = buf_steal(&b);
		}
	}
	p->raw = json_is_true(json_object_get(src, "useRawData"));
	if (dest && *dest) {
		if ((p->dest = sensor_dest_compile(dest, &err)) == NULL) {
			diag_error(d, sensor_loc(doc, json_object_get(o,
			    "dest")), "bad dest \"%s\": %s", dest, err);
			free(err);
		}
	} else if (!dest_may_be_empty)
		diag_error(d, sensor_loc(doc, o), "parameter without dest");
	p->op = POP_OVERWRITE;
	if (op && strcmp(op, "append") == 0)
		p->op = POP_APPEND;
	else if (op && strcmp(op, "prepend") == 0)
		p->op = POP_PREPEND;
	else if (op && *op && strcmp(op, "overwrite") != 0)
		diag_error(d, sensor_loc(doc, json_object_get(o, "operation")),
		    "parameter operation must be overwrite, append or "
		    "prepend");
}

static void
compile_params(struct params *ps, const struct sensor *s,
    const struct mdoc *doc, json_t *list, int dest_may_be_empty,
    struct diags *d)
{
	size_t i;

	if (list == NULL)
		return;
	if (!json_is_array(list)) {
		diag_error(d, sensor_loc(doc, list), "parameters is a list");
		return;
	}
	ps->n = json_array_size(list);
	ps->v = xcalloc(ps->n + 1, sizeof *ps->v);
	for (i = 0; i < ps->n; i++)
		compile_param(&ps->v[i], s, doc, json_array_get(list, i),
		    dest_may_be_empty, d);
}

static void
free_params(struct params *ps)
{
	size_t i;

	for (i = 0; i < ps->n; i++) {
		free(ps->v[i].dep);
		free(ps->v[i].value);
		sensor_path_free(ps->v[i].key);
		sensor_tmpl_free(ps->v[i].tmpl);
		sensor_dest_free(ps->v[i].dest);
	}
	free(ps->v);
	ps->v = NULL;
	ps->n = 0;
}

/* ---- resource strings ------------------------------------------------- */

void
sensor_rstrings_collect(struct rstrings *rs, const struct mdoc *doc,
    json_t *v, json_t *path, struct diags *d)
{
	struct rstring *r;
	const char *k;
	json_t *m;
	size_t i;
	char *err;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		json_object_foreach(v, k, m) {
			json_array_append_new(path, json_string(k));
			sensor_rstrings_collect(rs, doc, m, path, d);
			json_array_remove(path, json_array_size(path) - 1);
		}
		break;
	case JSON_ARRAY:
		json_array_foreach(v, i, m) {
			json_array_append_new(path, json_integer(
			    (json_int_t)i));
			sensor_rstrings_collect(rs, doc, m, path, d);
			json_array_remove(path, json_array_size(path) - 1);
		}
		break;
	case JSON_STRING:
		if (!sensor_tmpl_has_input(json_string_value(v)))
			break;
		xgrow(&rs->v, &rs->cap, rs->n + 1, sizeof *rs->v);
		r = &rs->v[rs->n];
		r->tmpl = sensor_tmpl_compile(json_string_value(v),
		    TMPL_INPUT, &err);
		if (r->tmpl == NULL) {
			diag_error(d, sensor_loc(doc, v), "bad template: %s",
			    err);
			free(err);
			break;
		}
		r->path = json_deep_copy(path);
		r->src = json_string_value(v);
		rs->n++;
		break;
	default:
		break;
	}
}

void
sensor_rstrings_free(struct rstrings *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++) {
		json_decref(rs->v[i].path);
		sensor_tmpl_free(rs->v[i].tmpl);
	}
	free(rs->v);
	memset(rs, 0, sizeof *rs);
}

/* ---- the trigger ------------------------------------------------------ */

static void
compile_rate(struct trig *t, const struct mdoc *doc, json_t *rl,
    struct diags *d)
{
	static const char *const units[] = { "Second", "Minute", "Hour" };
	static const int64_t ms[] = { 1000, 60000, 3600000 };
	json_t *n = json_object_get(rl, "requestsPerUnit");
	const char *unit = str_of(rl, "unit"), *hint;
	size_t i = 0;

	t->pub.has_rate_limit = 1;
	if (unit && *unit) {
		for (i = 0; i < UTIL_ARRAY_LEN(units); i++)
			if (strcmp(unit, units[i]) == 0)
				break;
		if (i == UTIL_ARRAY_LEN(units)) {
			diag_error(d, sensor_loc(doc, json_object_get(rl,
			    "unit")), "rateLimit unit must be Second, Minute "
			    "or Hour");
			if ((hint = util_suggest(unit, units, 3)) != NULL)
				diag_hint(d, "did you mean %s?", hint);
			i = 0;
		}
	}
	t->pub.rate_unit = ms[i];
	if (!json_is_integer(n) || json_integer_value(n) < 1) {
		diag_error(d, n ? sensor_loc(doc, n) : sensor_loc(doc, rl),
		    "rateLimit.requestsPerUnit must be at least 1");
		diag_hint(d, "a rate limit never means unlimited; remove "
		    "rateLimit to use the default of 1 per Minute");
		return;
	}
	t->pub.rate_per_unit = json_integer_value(n);
}

static void
compile_resets(struct trig *t, const struct mdoc *doc, json_t *list,
    struct diags *d)
{
	json_t *r, *bt;
	const char *cron, *zone;
	char *err;
	size_t i;

	t->resets = xcalloc(json_array_size(list) + 1, sizeof *t->resets);
	json_array_foreach(list, i, r) {
		bt = json_object_get(r, "byTime");
		cron = str_of(bt, "cron");
		zone = str_of(bt, "timezone");
		if (cron == NULL) {
			diag_error(d, sensor_loc(doc, r), "conditionsReset "
			    "needs byTime.cron");
			continue;
		}
		if ((t->resets[t->nresets].cron = cron_parse(cron,
		    &err)) == NULL) {
			diag_error(d, sensor_loc(doc, json_object_get(bt,
			    "cron")), "%s", err);
			free(err);
			continue;
		}
		if (zone && *zone && (t->resets[t->nresets].tz =
		    tz_load(zone, &err)) == NULL) {
			diag_error(d, sensor_loc(doc, json_object_get(bt,
			    "timezone")), "%s", err);
			free(err);
		}
		t->nresets++;
	}
}

static int
k8s_operation(const struct mdoc *doc, json_t *k8s, struct diags *d)
{
	static const char *const ops[] = { "create", "update", "patch",
	    "delete" };
	const char *op = str_of(k8s, "operation"), *hint;
	size_t i;

	if (op == NULL || *op == '\0')
		return K8S_CREATE;
	for (i = 0; i < UTIL_ARRAY_LEN(ops); i++)
		if (strcmp(op, ops[i]) == 0)
			return (int)i;
	diag_error(d, sensor_loc(doc, json_object_get(k8s, "operation")),
	    "k8s operation must be create, update, patch or delete");
	if ((hint = util_suggest(op, ops, 4)) != NULL)
		diag_hint(d, "did you mean %s?", hint);
	return K8S_CREATE;
}

/* Does a parameter set metadata.name (or all of metadata)? */
static int
sets_name(const struct params *ps)
{
	json_t *probe = json_pack("{s:{s:s}}", "metadata", "name", "x");
	size_t i;
	int r = 0;

	for (i = 0; i < ps->n; i++)
		if (ps->v[i].dest && sensor_dest_get(ps->v[i].dest, probe))
			r = 1;
	json_decref(probe);
	return r;
}

static void
compile_k8s(struct trig *t, const struct sensor *s, const struct mdoc *doc,
    json_t *k8s, struct diags *d)
{
	static const char *const strategies[] = {
	    "application/json-patch+json", "application/merge-patch+json",
	    "application/strategic-merge-patch+json",
	    "application/apply-patch+yaml" };
	json_t *source = json_object_get(k8s, "source"), *res, *path, *meta;
	const char *ps = str_of(k8s, "patchStrategy"), *kind;
	size_t i;

	t->pub.kind = TRIGGER_K8S;
	t->pub.operation = (enum k8s_operation)k8s_operation(doc, k8s, d);
	if (ps && *ps) {
		for (i = 0; i < UTIL_ARRAY_LEN(strategies); i++)
			if (strcmp(ps, strategies[i]) == 0)
				break;
		if (i == UTIL_ARRAY_LEN(strategies))
			diag_error(d, sensor_loc(doc, json_object_get(k8s,
			    "patchStrategy")), "unknown patchStrategy %s", ps);
		t->pub.patch_strategy = xstrdup(ps);
	} else if (t->pub.operation == K8S_PATCH)
		t->pub.patch_strategy = xstrdup(
		    "application/merge-patch+json");
	res = json_object_get(source, "resource");
	if (!json_is_object(res)) {
		diag_error(d, sensor_loc(doc, source ? source : k8s),
		    json_object_size(source) ? "only source.resource is "
		    "supported (not configmap, git, s3, url, file or inline)" :
		    "k8s trigger without source.resource");
		return;
	}
	t->resource = res;
	path = json_array();
	sensor_rstrings_collect(&t->rstr, doc, res, path, d);
	json_decref(path);
	compile_params(&t->kparams, s, doc, json_object_get(k8s,
	    "parameters"), 0, d);
	meta = json_object_get(res, "metadata");
	if (t->pub.operation != K8S_CREATE &&
	    json_object_get(meta, "generateName") &&
	    !json_object_get(meta, "name") && !sets_name(&t->kparams)) {
		diag_error(d, sensor_loc(doc, json_object_get(k8s,
		    "operation")), "operation %s needs metadata.name, and this "
		    "resource only has generateName", str_of(k8s, "operation"));
		diag_hint(d, "an object named by generateName can only be "
		    "created: use operation: create");
	}
	kind = str_of(res, "kind");
	t->describe = xasprintf("k8s %s %s", (const char *[]){ "create",
	    "update", "patch", "delete" }[t->pub.operation], kind ? kind :
	    "object");
}

static const char *const kinds[] = { "k8s", "http", "log", "remediate" };

static void
compile_kind(struct trig *t, const struct sensor *s, const struct mdoc *doc,
    json_t *tpl, struct diags *d)
{
	const char *k, *method, *url, *first;
	json_t *v, *path;
	size_t i, found = 0;

	for (i = 0; i < UTIL_ARRAY_LEN(kinds); i++) {
		if (json_object_get(tpl, kinds[i]) == NULL)
			continue;
		if (found++)
			diag_error(d, sensor_loc_key(doc, tpl, kinds[i]),
			    "a trigger template holds one of k8s, http, log "
			    "or remediate");
		else
			t->kindkey = kinds[i];
	}
	if (t->kindkey == NULL) {
		json_object_foreach(tpl, k, v) {
			if (strcmp(k, "name") && strcmp(k, "conditions") &&
			    strcmp(k, "conditionsReset") &&
			    strcmp(k, "rateLimit")) {
				diag_error(d, sensor_loc_key(doc, tpl, k),
				    "trigger type %s is not supported", k);
				diag_hint(d, "use k8s, http, log or remediate");
				return;
			}
		}
		diag_error(d, sensor_loc(doc, tpl), "trigger %s does nothing: "
		    "give it k8s, http, log or remediate", t->pub.name);
		return;
	}
	t->pub.tmpl = v = json_object_get(tpl, t->kindkey);
	if (strcmp(t->kindkey, "k8s") == 0) {
		compile_k8s(t, s, doc, v, d);
	} else if (strcmp(t->kindkey, "http") == 0) {
		t->pub.kind = TRIGGER_HTTP;
		compile_params(&t->payload, s, doc, json_object_get(v,
		    "payload"), 1, d);
		compile_params(&t->kparams, s, doc, json_object_get(v,
		    "parameters"), 0, d);
		method = str_of(v, "method");
		url = str_of(v, "url");
		t->describe = xasprintf("http %s %s", method && *method ?
		    method : "POST", url ? url : "");
	} else if (strcmp(t->kindkey, "log") == 0) {
		t->pub.kind = TRIGGER_LOG;
		t->describe = xstrdup("log");
	} else {
		t->pub.kind = TRIGGER_REMEDIATE;
		path = json_array();
		sensor_rstrings_collect(&t->rstr, doc, v, path, d);
		json_decref(path);
		first = NULL;
		if (json_is_object(v)) {
			json_object_foreach(v, k, path) {
				first = k;
				break;
			}
		}
		t->describe = xasprintf("remediate%s%s", first ? " " : "",
		    first ? first : "");
	}
}

static void
compile_trigger(struct sensor *s, struct trig *t, const struct mdoc *doc,
    json_t *o, struct diags *d)
{
	json_t *tpl = json_object_get(o, "template"), *rl, *c;
	const char *name = str_of(tpl, "name");
	size_t i;

	t->listens = xcalloc(s->ndeps + 1, 1);
	t->saved = xcalloc(s->ndeps + 1, sizeof *t->saved);
	t->pub.at = sensor_loc(doc, tpl ? tpl : o);
	if (!json_is_object(tpl)) {
		diag_error(d, sensor_loc(doc, o), "trigger without a template");
		t->pub.name = xstrdup("");
		return;
	}
	t->whole = tpl;
	t->pub.name = xstrdup(name ? name : "");
	if (name == NULL || *name == '\0')
		diag_error(d, t->pub.at, "trigger template without a name");
	for (i = 0; s->trigs + i < t; i++)
		if (*t->pub.name && strcmp(s->trigs[i].pub.name,
		    t->pub.name) == 0)
			diag_error(d, sensor_loc(doc, json_object_get(tpl,
			    "name")), "trigger %s is named twice", t->pub.name);
	t->pub.guardrails = json_object_get(o, "guardrails");
	t->pub.retry_strategy = json_object_get(o, "retryStrategy");
	t->pub.policy = json_object_get(o, "policy");
	rl = json_object_get(o, "rateLimit");
	if (rl == NULL)
		rl = json_object_get(tpl, "rateLimit");	/* seed-verbatim */
	if (rl)
		compile_rate(t, doc, rl, d);
	compile_params(&t->tparams, s, doc, json_object_get(o, "parameters"),
	    0, d);
	compile_kind(t, s, doc, tpl, d);
	if ((c = json_object_get(tpl, "conditions")) != NULL &&
	    json_is_string(c) && *json_string_value(c)) {
		compile_conditions(t, s, doc, c, d);
	} else {
		memset(t->listens, 1, s->ndeps);
		t->requires_and = s->ndeps > 1;
	}
	if ((c = json_object_get(tpl, "conditionsReset")) != NULL &&
	    json_is_array(c))
		compile_resets(t, doc, c, d);
}

void
sensor_triggers_compile(struct sensor *s, const struct mdoc *doc,
    json_t *list, struct diags *d)
{
	size_t i;

	if (!json_is_array(list) || json_array_size(list) == 0) {
		diag_error(d, sensor_loc(doc, list ? list : doc->root),
		    "Sensor %s has no triggers", s->name);
		return;
	}
	s->ntrigs = json_array_size(list);
	s->trigs = xcalloc(s->ntrigs, sizeof *s->trigs);
	for (i = 0; i < s->ntrigs; i++)
		compile_trigger(s, &s->trigs[i], doc, json_array_get(list, i),
		    d);
}

void
sensor_trig_free(struct trig *t, size_t ndeps)
{
	size_t i;

	free(t->pub.name);
	free(t->pub.patch_strategy);
	free_cond(t->cond);
	free(t->cond_src);
	free(t->listens);
	for (i = 0; t->saved && i < ndeps; i++) {
		json_decref(t->saved[i].data);
		json_decref(t->saved[i].ctx);
	}
	free(t->saved);
	free_params(&t->tparams);
	free_params(&t->kparams);
	free_params(&t->payload);
	sensor_rstrings_free(&t->rstr);
	json_decref(t->last);
	for (i = 0; i < t->nresets; i++) {
		cron_free(t->resets[i].cron);
		tz_free(t->resets[i].tz);
	}
	free(t->resets);
	free(t->describe);
}
