/*
 * sensor_feed: an event in, trigger firings out.
 *
 * An event reaches the dependencies naming its event source and event
 * name; each applies its filters.  Then, as Argo Events' Jetstream sensor
 * does, each trigger listening to an accepting dependency either fires at
 * once (its conditions have no `&`: with one dependency, every accepted
 * event fires) or keeps the event as the latest of that dependency and
 * fires when its conditions hold, with the latest event of each
 * dependency; the events a firing used are then consumed.
 *
 * A firing renders what the action needs: the resource with `{{ .Input }}`
 * strings rendered from the firing event (our extension) and then Argo's
 * `parameters` applied; an http payload built from `payload` parameters.
 * Rendering failures are the firing's `error`, never a crash.
 */
#include <stdlib.h>
#include <string.h>

#include "sensor/sensor_int.h"

/* ---- parameters -------------------------------------------------------- */

/*
 * Argo's ResolveParamValue.  Writes the value into out; *is_str says
 * whether it is a string (else a number, bool, null or JSON block, which
 * useRawData sets as JSON).  Returns 1, 0 when there is nothing to set
 * (the dependency has no event and no default), -1 with *err.
 */
static int
resolve(const struct sensor_param *p, const struct sensor *s,
    struct buf *out, int *is_str, char **err)
{
	json_t *payload, *v, *tmp, *whole;
	size_t i = p->depi;
	char *terr;

	*is_str = 1;
	buf_reset(out);
	if (!s->fhave[i] || (p->key == NULL && p->tmpl == NULL)) {
		if (p->value) {
			buf_adds(out, p->value);
			return 1;
		}
		if (!s->fhave[i])
			return 0;
		/* the whole event */
		whole = json_pack("{s:O?, s:O?}", "context", s->fctx[i],
		    "data", s->fdata[i]);
		sensor_fmt_gjson(out, whole);
		json_decref(whole);
		return 1;
	}
	payload = p->key_ctx ? s->fctx[i] : s->fdata[i];
	if (p->tmpl) {
		if (sensor_tmpl_exec(p->tmpl, payload, out, &terr) == 0 &&
		    out->len && strcmp(out->data, "<no value>") != 0)
			return 1;
		free(terr);
		buf_reset(out);
	}
	if (p->key && (v = sensor_path_eval(p->key, payload, &tmp)) != NULL) {
		if (json_is_null(v))
			buf_adds(out, "null");
		else
			sensor_fmt_gjson(out, v);
		*is_str = json_is_string(v);
		json_decref(tmp);
		return 1;
	}
	if (p->value) {
		buf_adds(out, p->value);
		return 1;
	}
	*err = xasprintf("unable to resolve a parameter from dependency %s: "
	    "%s", p->dep, p->key ? "its key is not in the event" :
	    "its template rendered nothing");
	return -1;
}

static json_t *
make_value(const char *s, size_t n, int is_str, int raw, char **err)
{
	json_t *j = NULL;

	if (!is_str && raw)
		j = util_json_loadb(s, n, JSON_DECODE_ANY, NULL);
	if (j == NULL && (j = json_stringn(s, n)) == NULL)
		*err = xstrdup("a parameter value is not valid UTF-8");
	return j;
}

static int
apply_params(const struct params *ps, const struct sensor *s, json_t *root,
    char **err)
{
	const struct sensor_param *p;
	struct buf b, cur;
	json_t *c, *j;
	size_t i;
	int is_str, rc = 0;

	buf_init(&b, SENSOR_MAX_OUTPUT);
	buf_init(&cur, SENSOR_MAX_OUTPUT);
	for (i = 0; i < ps->n && rc == 0; i++) {
		p = &ps->v[i];
		if ((rc = resolve(p, s, &b, &is_str, err)) != 1) {
			rc = rc == -1 ? -1 : 0;
			continue;
		}
		rc = 0;
		if (p->dest == NULL) {
			*err = xstrdup("a parameter has no dest");
			rc = -1;
			break;
		}
		if (p->op != POP_OVERWRITE &&
		    (c = sensor_dest_get(p->dest, root)) != NULL) {
			buf_reset(&cur);
			sensor_fmt_gjson(&cur, c);
			if (p->op == POP_APPEND) {
				buf_add(&cur, b.data ? b.data : "", b.len);
				buf_reset(&b);
				buf_add(&b, cur.data ? cur.data : "", cur.len);
			} else
				buf_add(&b, cur.data ? cur.data : "", cur.len);
			is_str = 1;
		}
		if (b.overflow || cur.overflow) {
			*err = xstrdup("a parameter value is too long");
			rc = -1;
			break;
		}
		if ((j = make_value(b.data ? b.data : "", b.len, is_str, p->raw,
		    err)) == NULL ||
		    sensor_dest_set(p->dest, root, j, err) == -1)
			rc = -1;
	}
	buf_free(&b);
	buf_free(&cur);
	return rc;
}

/* Argo's ConstructPayload for http triggers. */
static int
construct_payload(const struct params *ps, const struct sensor *s,
    json_t **out, char **err)
{
	const struct sensor_param *p;
	json_t *payload = NULL, *j;
	struct buf b;
	size_t i;
	int is_str, rc = 0;

	buf_init(&b, SENSOR_MAX_OUTPUT);
	for (i = 0; i < ps->n && rc == 0; i++) {
		p = &ps->v[i];
		if ((rc = resolve(p, s, &b, &is_str, err)) != 1) {
			rc = rc == -1 ? -1 : 0;
			continue;
		}
		rc = 0;
		if (p->dest == NULL) {
			/* no dest: the value is the whole payload */
			json_decref(payload);
			payload = util_json_loadb(b.data ? b.data : "", b.len,
			    JSON_DECODE_ANY, NULL);
			if (payload == NULL && (payload = json_stringn(b.data ?
			    b.data : "", b.len)) == NULL) {
				*err = xstrdup("the payload is not valid "
				    "UTF-8");
				rc = -1;
			}
			break;
		}
		if (payload == NULL || !json_is_object(payload)) {
			json_decref(payload);
			payload = json_object();
		}
		if ((j = make_value(b.data ? b.data : "", b.len, is_str, p->raw,
		    err)) == NULL || sensor_dest_set(p->dest, payload, j, err)
		    == -1)
			rc = -1;
	}
	buf_free(&b);
	if (rc == -1) {
		json_decref(payload);
		return -1;
	}
	*out = payload;
	return 0;
}

/* ---- `{{ .Input }}` strings -------------------------------------------- */

static void
path_text(struct buf *b, json_t *path)
{
	json_t *step;
	size_t i;

	json_array_foreach(path, i, step) {
		if (i)
			buf_addc(b, '.');
		if (json_is_string(step))
			buf_adds(b, json_string_value(step));
		else
			buf_printf(b, "%lld", (long long)json_integer_value(
			    step));
	}
}

/*
 * The child of v at step; for an object, *it is where it is (the pair
 * set_at replaces without looking the key up again), else NULL.
 */
static json_t *
child(json_t *v, json_t *step, void **it)
{
	if (!json_is_string(step)) {
		*it = NULL;
		return json_array_get(v, (size_t)json_integer_value(step));
	}
	*it = json_object_iter_at(v, json_string_value(step));
	return *it ? json_object_iter_value(*it) : NULL;
}

/* Replaces the child of parent at step (child's *it) with v (stolen). */
static void
set_at(json_t *parent, json_t *step, void *it, json_t *v)
{
	if (it)
		json_object_iter_set_new(parent, it, v);
	else
		json_array_set_new(parent, (size_t)json_integer_value(step), v);
}

/* The containers this firing made private: a few, most firings. */
struct owned {
	json_t	**v;
	size_t	  n, cap;
	json_t	 *in[8];
};

/* The child at step, made private to this firing first (copy on write). */
static json_t *
own_child(json_t *parent, json_t *step, struct owned *o)
{
	void *it;
	json_t *c = child(parent, step, &it), *n;
	size_t i;

	if (!json_is_object(c) && !json_is_array(c))
		return c;
	for (i = 0; i < o->n; i++)
		if (o->v[i] == c)
			return c;
	n = json_copy(c);	/* shallow: members are shared */
	set_at(parent, step, it, n);
	if (o->n == UTIL_ARRAY_LEN(o->in) && o->v == o->in) {
		o->v = xmalloc(sizeof o->in);
		memcpy(o->v, o->in, sizeof o->in);
	}
	if (o->v != o->in)
		xgrow(&o->v, &o->cap, o->n + 1, sizeof *o->v);
	o->v[o->n++] = n;
	return n;
}

/* What render_strings renders into. */
enum render_into {
	INTO_MANIFEST,	/* the manifest's tree: copy the way to each string */
	INTO_PRIVATE,	/* a private copy parameters may have changed */
	INTO_LAST,	/* the last firing's tree, nobody else's (last_is_free) */
};

/*
 * Renders the `{{ .Input }}` strings under *rootp.  INTO_MANIFEST: *rootp
 * is the manifest's (borrowed) tree and becomes a new tree that shares
 * every subtree no string was rendered in; otherwise *rootp is already
 * private and is changed in place (INTO_PRIVATE renders a string only
 * where the template still is).  0, or -1 with *err (*rootp stays a
 * reference the caller drops); *rendered counts the strings set.  All the
 * strings together are bounded as one is (SENSOR_MAX_OUTPUT): many
 * templates, or one repeated through YAML aliases, must not build an
 * object (and a record) of any size.
 */
static int
render_strings(const struct rstrings *rs, json_t **rootp, json_t *input,
    enum render_into into, size_t *rendered, char **err)
{
	const struct rstring *r;
	json_t *parent, *node, *val;
	struct owned o;
	struct buf b, where;
	void *it;
	size_t i, k, n, total = 0;
	char *terr = NULL;
	int rc = 0, cow = into == INTO_MANIFEST;

	*rendered = 0;
	if (cow) {
		*rootp = rs->n && (json_is_object(*rootp) ||
		    json_is_array(*rootp)) ? json_copy(*rootp) :
		    json_incref(*rootp);
		if (rs->n == 0)
			return 0;
	}
	o.v = o.in;
	o.n = 0;
	o.cap = UTIL_ARRAY_LEN(o.in);
	buf_init(&b, SENSOR_MAX_OUTPUT);
	for (i = 0; i < rs->n && rc == 0; i++) {
		r = &rs->v[i];
		n = json_array_size(r->path);
		parent = NULL;
		node = *rootp;
		it = NULL;
		for (k = 0; k < n && node; k++) {
			parent = node;
			node = cow && k + 1 < n ? own_child(node,
			    json_array_get(r->path, k), &o) : child(node,
			    json_array_get(r->path, k), &it);
		}
		/* parameters beside the template may have moved things; the
		   last firing's strings are its renderings, not templates */
		if (!json_is_string(node) || (into != INTO_LAST &&
		    strcmp(json_string_value(node), r->src) != 0))
			continue;
		buf_reset(&b);
		val = NULL;
		if (sensor_tmpl_exec(r->tmpl, input, &b, &terr) == 0 &&
		    (total += b.len) > SENSOR_MAX_OUTPUT)
			terr = xasprintf("the rendered strings of this "
			    "trigger pass %u bytes", SENSOR_MAX_OUTPUT);
		else if (terr == NULL)
			val = json_stringn(b.data ? b.data : "", b.len);
		if (val == NULL) {
			buf_init(&where, 0);
			path_text(&where, r->path);
			*err = xasprintf("rendering %s: %s", where.data ?
			    where.data : "the template", terr ? terr :
			    "not valid UTF-8");
			buf_free(&where);
			free(terr);
			terr = NULL;
			rc = -1;
		} else if (n == 0) {
			json_decref(*rootp);
			*rootp = val;
			++*rendered;
		} else {	/* it: the last step's, nothing changed since */
			set_at(parent, json_array_get(r->path, n - 1), it, val);
			++*rendered;
		}
	}
	buf_free(&b);
	if (o.v != o.in)
		free(o.v);
	return rc;
}

/*
 * The last firing's tree, rendered into again.  Rendering the manifest's
 * tree copies every container on the way to a rendered string (the
 * seed's Workflow: the root, spec, arguments, parameters and its two
 * items, for two strings) and the firing's end frees them all: ~9 k
 * instructions a firing.  So the trigger keeps the tree it rendered last
 * (trig.last) and the next firing renders its strings into that tree
 * again, when nothing else holds it.
 *
 * Why that is safe: a reference count of 1 on the root (the trigger's
 * own) and on each container on the way to a string (its parent's) means
 * no plan, record or approval kept any of them: they take references to
 * what they keep, and the k8s plan's own root and metadata are copies
 * (act_plan_k8s).  Nothing changes a rendered resource in place (planners,
 * records and approvals only read it; the executor copies what it edits),
 * so the tree is as this trigger left it.  Everything else in it is the
 * manifest's and is never written; a rendered string is replaced in its
 * container, never changed, so whoever holds the old one keeps its value.
 * The count is read with acquire order: jansson drops references
 * atomically with release order, so a `run` thread's last reads of the
 * tree come before its decref, and the writes here after.
 */
static int
held_elsewhere(json_t *v)
{
	return __atomic_load_n(&v->refcount, __ATOMIC_ACQUIRE) != 1;
}

/* Whether last's containers on the way to each string are the trigger's. */
static int
last_is_free(const struct rstrings *rs, json_t *last)
{
	const struct rstring *r;
	json_t *node;
	void *it;
	size_t i, k, n;

	if (held_elsewhere(last))
		return 0;
	for (i = 0; i < rs->n; i++) {
		r = &rs->v[i];
		n = json_array_size(r->path);
		node = last;
		for (k = 0; k + 1 < n; k++) {
			node = child(node, json_array_get(r->path, k), &it);
			if ((!json_is_object(node) && !json_is_array(node)) ||
			    held_elsewhere(node))
				return 0;
		}
		if (n == 0 || !json_is_string(child(node, json_array_get(
		    r->path, n - 1), &it)))
			return 0;
	}
	return 1;
}

/*
 * Renders t's strings into a tree sharing with src (borrowed) every
 * subtree no string is in: *resp becomes a new reference, the last
 * firing's tree when it is free.  keep: src is the manifest's own, the
 * same at every firing, so the tree may be kept for the next one; not
 * when the trigger's parameters made src for this firing alone.  0, or -1
 * with *err (*resp a reference the caller drops).
 */
static int
render_shared(struct trig *t, json_t *src, int keep, json_t *input,
    json_t **resp, char **err)
{
	size_t rendered;
	int rc;

	/* without keep, t->last is never set */
	if (keep && t->last && last_is_free(&t->rstr, t->last)) {
		*resp = json_incref(t->last);
		rc = render_strings(&t->rstr, resp, input, INTO_LAST,
		    &rendered, err);
	} else {
		json_decref(t->last);
		t->last = NULL;
		*resp = src;
		rc = render_strings(&t->rstr, resp, input, INTO_MANIFEST,
		    &rendered, err);
		/* kept only where every string is: the next firing sets each
		   again and looks for no template */
		if (keep && rc == 0 && rendered && rendered == t->rstr.n &&
		    (json_is_object(*resp) || json_is_array(*resp)))
			t->last = json_incref(*resp);
	}
	if (rc == -1) {	/* some strings rendered, some not */
		json_decref(t->last);
		t->last = NULL;
	}
	return rc;
}

/* ---- firing ------------------------------------------------------------ */

static void
do_fire(struct sensor *s, struct trig *t, const struct event *ev,
    sensor_fire_fn fire, void *ctx)
{
	struct sensor_fire f;
	json_t *inputs, *whole = NULL, *spec = t->pub.tmpl, *res = NULL,
	    *copy = NULL, *src;
	char *err = NULL;
	size_t i, rendered;

	inputs = json_object();
	for (i = 0; i < s->ndeps; i++)
		if (s->fhave[i])
			json_object_set(inputs, s->deps[i].name, s->fdata[i] ?
			    s->fdata[i] : json_null());
	if (t->tparams.n) {
		whole = util_json_copy(t->whole);
		if (apply_params(&t->tparams, s, whole, &err) == -1)
			goto done;
		spec = json_object_get(whole, t->kindkey);
	}
	switch (t->pub.kind) {
	case TRIGGER_K8S:
		src = whole ? json_object_get(json_object_get(spec, "source"),
		    "resource") : t->resource;
		if (!json_is_object(src)) {
			err = xstrdup("the trigger has no source.resource");
			break;
		}
		if (t->kparams.n == 0) {
			/* nothing writes into the tree but rendering: share
			 * what it does not touch with src */
			(void)render_shared(t, src, whole == NULL, ev->data,
			    &res, &err);
			break;
		}
		res = util_json_copy(src);
		if (render_strings(&t->rstr, &res, ev->data, INTO_PRIVATE,
		    &rendered, &err) == 0)
			(void)apply_params(&t->kparams, s, res, &err);
		break;
	case TRIGGER_HTTP:
		if (t->kparams.n) {
			copy = util_json_copy(spec);
			if (apply_params(&t->kparams, s, copy, &err) == -1)
				break;
			spec = copy;
		}
		if (t->payload.n)
			(void)construct_payload(&t->payload, s, &res, &err);
		break;
	case TRIGGER_REMEDIATE:
		/* trigger parameters may have made spec this firing's */
		(void)render_shared(t, spec, whole == NULL, ev->data, &res,
		    &err);
		break;
	case TRIGGER_LOG:
		break;
	}
done:
	if (err) {
		json_decref(res);
		res = NULL;
	}
	memset(&f, 0, sizeof f);
	f.trigger = &t->pub;
	f.event = ev;
	f.inputs = inputs;
	f.resource = res;
	f.error = err;
	f.spec = spec;
	if (fire)
		fire(ctx, &f);
	json_decref(inputs);
	json_decref(res);
	json_decref(copy);
	json_decref(whole);
	free(err);
}

static int
cond_true(const struct cnode *n, const struct saved *sv)
{
	switch (n->k) {
	case CN_DEP:
		return sv[n->dep].have;
	case CN_AND:
		return cond_true(n->a, sv) && cond_true(n->b, sv);
	default:
		return cond_true(n->a, sv) || cond_true(n->b, sv);
	}
}

static int
all_true(const struct trig *t, size_t ndeps)
{
	size_t i;

	for (i = 0; i < ndeps; i++)
		if (t->listens[i] && !t->saved[i].have)
			return 0;
	return 1;
}

static void
clear_saved(struct saved *sv)
{
	json_decref(sv->data);
	json_decref(sv->ctx);
	memset(sv, 0, sizeof *sv);
}

/* conditionsReset: events kept from before a reset instant are gone. */
static void
apply_resets(struct trig *t, size_t ndeps, int64_t now)
{
	int64_t at, next;
	size_t r, i;

	for (i = 0; i < ndeps; i++) {
		if (!t->saved[i].have)
			continue;
		at = t->saved[i].at;
		for (r = 0; r < t->nresets; r++) {
			next = cron_next(t->resets[r].cron, t->resets[r].tz,
			    at, NULL, NULL);
			if (next >= 0 && next <= now) {
				clear_saved(&t->saved[i]);
				break;
			}
		}
	}
}

static int
needs_ctx(const struct trig *t)
{
	return t->tparams.n || t->kparams.n || t->payload.n;
}

static void
run_trigger(struct sensor *s, struct trig *t, const struct event *ev,
    int64_t now, sensor_fire_fn fire, void *ctx)
{
	json_t *evctx = NULL;
	size_t i;
	int any = 0;

	for (i = 0; i < s->ndeps; i++)
		if (s->hit[i] && t->listens[i])
			any = 1;
	if (!any)
		return;
	if (needs_ctx(t))
		evctx = sensor_event_context(ev);
	memset(s->fhave, 0, s->ndeps);
	if (!t->requires_and) {
		for (i = 0; i < s->ndeps; i++) {
			s->fhave[i] = s->hit[i] && t->listens[i];
			s->fdata[i] = s->fhave[i] ? ev->data : NULL;
			s->fctx[i] = s->fhave[i] ? evctx : NULL;
		}
		do_fire(s, t, ev, fire, ctx);
		json_decref(evctx);
		return;
	}
	if (t->nresets)
		apply_resets(t, s->ndeps, now);
	for (i = 0; i < s->ndeps; i++) {
		if (!s->hit[i] || !t->listens[i])
			continue;
		clear_saved(&t->saved[i]);	/* the latest event wins */
		t->saved[i].have = 1;
		t->saved[i].data = json_incref(ev->data);
		t->saved[i].ctx = json_incref(evctx);
		t->saved[i].at = now;
	}
	json_decref(evctx);
	if (!(t->cond ? cond_true(t->cond, t->saved) : all_true(t,
	    s->ndeps)))
		return;
	for (i = 0; i < s->ndeps; i++) {
		s->fhave[i] = (unsigned char)t->saved[i].have;
		s->fdata[i] = t->saved[i].data;
		s->fctx[i] = t->saved[i].ctx;
	}
	do_fire(s, t, ev, fire, ctx);
	for (i = 0; i < s->ndeps; i++)
		clear_saved(&t->saved[i]);
}

enum sensor_outcome
sensor_feed(struct sensor *s, const struct event *ev, int64_t now,
    sensor_fire_fn fire, void *ctx)
{
	const struct sensor_dep *dep;
	uint64_t h;
	size_t i;
	int matched = 0, accepted = 0;

	if (ev->source == NULL || ev->name == NULL)
		return SENSOR_UNMATCHED;
	h = sensor_dep_hash(ev->source, ev->name);
	for (i = 0; i < s->ndeps; i++) {
		dep = &s->deps[i];
		s->hit[i] = 0;
		if (dep->hash != h || strcmp(dep->source, ev->source) != 0 ||
		    strcmp(dep->event, ev->name) != 0)
			continue;
		matched = 1;
		if (sensor_filters_pass(dep, ev, now)) {
			s->hit[i] = 1;
			accepted = 1;
		}
	}
	if (!accepted)
		return matched ? SENSOR_FILTERED : SENSOR_UNMATCHED;
	for (i = 0; i < s->ntrigs; i++)
		run_trigger(s, &s->trigs[i], ev, now, fire, ctx);
	return SENSOR_ACCEPTED;
}
