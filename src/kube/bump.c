/*
 * The memory bump: how much a container's memory request and limit grow
 * after an OOM kill.  Pure arithmetic on Kubernetes quantities, exact
 * (no floating point): 25% of 333Mi is computed in decimal and rounded
 * up to a whole byte, and the result keeps the request's format (binary
 * stays binary, "1G" stays decimal), canonical as the API server would
 * print it.
 *
 * A kill means the container reached its limit, so raising the request
 * alone would not help: the limit grows by the same increment too (the
 * request/limit ratio stays), and always at least to the new request.
 * The cap bounds both; a limit already above the cap is not lowered (a
 * bump never shrinks anything).
 *
 * The limit that killed the container is the pod's, which is not always
 * the template's: a namespace LimitRange (or an admission webhook) gives
 * a limit to a container whose template sets none.  Raising the request
 * alone then leaves the kill where it was, and a request above that
 * defaulted limit makes the API server refuse every new pod, stalling the
 * rollout.  So when the template sets a request but no limit and the
 * pod runs with one, the pod's limit grows as a template limit would and
 * the bump writes it into the template (from then on the template's, not
 * the LimitRange's).  It never lowers what the killed pod had: the new
 * limit is at least the pod's.
 */
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"
#include "util/util.h"

int
kube_bump_parse_increment(const char *s, struct kube_bump_opts *o)
{
	size_t n;
	struct quantity q, zero = { 0, 0, QUANTITY_DECIMAL_SI };

	if (s == NULL || (n = strlen(s)) == 0)
		return -1;
	o->percent = s[n - 1] == '%';
	if (o->percent)
		n--;
	if (quantity_parsen(s, n, &q) < 0 || quantity_cmp(&q, &zero) <= 0)
		return -1;
	/* a percentage is a plain number: "25Mi%" makes no sense */
	if (o->percent && q.format != QUANTITY_DECIMAL_SI)
		return -1;
	o->increment = q;
	return 0;
}

/* The container named name in the pod spec's list key, or NULL. */
static json_t *
spec_container(json_t *pod, const char *key, const char *name)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(pod, "spec"), key),
	    i, c) {
		const char *n = json_string_value(json_object_get(c, "name"));

		if (n && strcmp(n, name) == 0)
			return c;
	}
	return NULL;
}

/* Rounds q up to a whole number (memory is counted in bytes). */
static int
ceil_whole(struct quantity *q)
{
	int64_t d = 1, r;
	int i;

	if (q->scale >= 0)
		return 0;
	if (q->scale < -18) {
		q->mant = q->mant > 0 ? 1 : 0;
		q->scale = 0;
		return 0;
	}
	for (i = 0; i < -q->scale; i++)
		d *= 10;
	r = q->mant % d;
	q->mant = q->mant / d + (r > 0 ? 1 : 0);
	q->scale = 0;
	return 0;
}

/* base grown by the increment: base + increment, or base * (1 + p/100). */
static int
grow(const struct quantity *base, const struct kube_bump_opts *o,
    struct quantity *out)
{
	struct quantity delta;

	if (o->percent) {
		if (quantity_mul(&delta, base, &o->increment) < 0)
			return -1;
		delta.scale -= 2;	/* / 100, exactly */
		delta.format = base->format;
	} else
		delta = o->increment;
	if (quantity_add(out, base, &delta) < 0)
		return -1;
	out->format = base->format;
	return ceil_whole(out);
}

static int
parse_mem(const char *what, const char *s, struct quantity *q, char **err)
{
	struct quantity zero = { 0, 0, QUANTITY_DECIMAL_SI };

	if (quantity_parse(s, q) < 0 || quantity_cmp(q, &zero) < 0) {
		*err = xasprintf("memory %s \"%s\" is not a quantity", what,
		    s);
		return -1;
	}
	return 0;
}

/*
 * Grows the limit lim (capped, never lowered) and keeps it at least the new
 * request nreq: 0, or -1 when it overflows.
 */
static int
grow_limit(const struct quantity *lim, const struct quantity *nreq,
    const struct kube_bump_opts *o, struct quantity *nlim)
{
	if (o->has_cap && quantity_cmp(lim, &o->cap) >= 0) {
		*nlim = *lim;	/* never lowered */
	} else {
		if (grow(lim, o, nlim) < 0)
			return -1;
		if (o->has_cap && quantity_cmp(nlim, &o->cap) > 0)
			*nlim = o->cap;
	}
	if (quantity_cmp(nlim, nreq) < 0)
		*nlim = *nreq;
	return 0;
}

int
kube_bump_compute(const char *request, const char *limit,
    const char *pod_limit, const struct kube_bump_opts *o,
    struct kube_bump_result *r, char **err)
{
	struct quantity req, lim, nreq, nlim;
	int has_req = request && *request, has_lim = limit && *limit;

	memset(r, 0, sizeof *r);
	*err = NULL;
	if (!has_lim && pod_limit && *pod_limit) {
		if (!has_req) {
			/* which request the pod got (a LimitRange's
			   defaultRequest, the limit) is not ours to guess */
			*err = xasprintf("the pod template sets no memory "
			    "request or limit, and the pod runs with limit %s "
			    "(from a LimitRange or an admission webhook): set "
			    "the memory request and limit in the template",
			    pod_limit);
			return -1;
		}
		limit = pod_limit;
		has_lim = 1;
		r->limit_from_pod = 1;
	}
	if (!has_req && !has_lim) {
		*err = xstrdup("the container sets no memory request or "
		    "limit to raise");
		return -1;
	}
	if (has_lim && parse_mem(r->limit_from_pod ? "limit of the pod" :
	    "limit", limit, &lim, err) < 0)
		return -1;
	if (has_req) {
		if (parse_mem("request", request, &req, err) < 0)
			return -1;
		quantity_format(&req, r->request_old, sizeof r->request_old);
	} else
		req = lim;	/* the API server defaults it so */
	if (has_lim)
		quantity_format(&lim, r->limit_old, sizeof r->limit_old);
	if (o->has_cap && quantity_cmp(&req, &o->cap) >= 0) {
		r->at_cap = 1;
		quantity_format(&req, r->request_new, sizeof r->request_new);
		memcpy(r->limit_new, r->limit_old, sizeof r->limit_new);
		return 0;
	}
	if (grow(&req, o, &nreq) < 0) {
		*err = xstrdup("the new memory request does not fit in a "
		    "quantity");
		return -1;
	}
	if (o->has_cap && quantity_cmp(&nreq, &o->cap) > 0) {
		nreq = o->cap;
		r->capped = 1;
	}
	quantity_format(&nreq, r->request_new, sizeof r->request_new);
	if (has_lim && grow_limit(&lim, &nreq, o, &nlim) < 0) {
		*err = xstrdup("the new memory limit does not fit in a "
		    "quantity");
		return -1;
	}
	/* a percentage of nothing is nothing: a "raise" that changes no
	   value would be reported, annotated and counted on every kill */
	if (quantity_cmp(&nreq, &req) <= 0 && (!has_lim ||
	    quantity_cmp(&nlim, &lim) <= 0)) {
		char was[QUANTITY_FMTLEN];

		quantity_format(&req, was, sizeof was);
		*err = xasprintf("a percentage of a memory request of %s is "
		    "nothing: nothing to raise; use an absolute increment "
		    "(256Mi)", was);
		return -1;
	}
	if (has_lim)
		quantity_format(&nlim, r->limit_new, sizeof r->limit_new);
	return 0;
}

const char *
kube_bump_pod_limit(json_t *pod, const char *name, int init)
{
	return kube_bump_memory(spec_container(pod, init ? "initContainers" :
	    "containers", name), "limits");
}

char *
kube_bump_change_text(const struct kube_bump_result *r)
{
	struct buf b;

	buf_init(&b, 0);
	buf_printf(&b, "request %s -> %s", r->request_old[0] ?
	    r->request_old : "(none)", r->request_new);
	if (r->limit_old[0])
		buf_printf(&b, ", limit %s%s -> %s", r->limit_old,
		    r->limit_from_pod ? KUBE_BUMP_FROM_POD : "",
		    r->limit_new);
	return buf_steal(&b);
}

/* The note's fields that say what r changes; the rest names the decision. */
static void
note_change(json_t *n, const struct kube_bump_result *r)
{
	json_object_set_new(n, "requestFrom", json_string(r->request_old));
	json_object_set_new(n, "requestTo", json_string(r->request_new));
	json_object_set_new(n, "limitFrom", json_string(r->limit_old));
	json_object_set_new(n, "limitTo", json_string(r->limit_new));
	if (r->limit_from_pod)
		json_object_set_new(n, "limitSource", json_string("pod"));
	else
		json_object_del(n, "limitSource");
}

char *
kube_bump_note(const char *container, const struct kube_bump_result *r,
    const char *pod, const char *increment, const char *cap, int64_t now,
    const char *trigger)
{
	char when[TIME_FMTLEN];
	json_t *n = json_object();
	char *s;

	time_format(now, when, sizeof when);
	json_object_set_new(n, "container", json_string(container));
	note_change(n, r);
	json_object_set_new(n, "pod", pod ? json_string(pod) : json_null());
	json_object_set_new(n, "increment", json_string(increment));
	if (cap)
		json_object_set_new(n, "cap", json_string(cap));
	json_object_set_new(n, "time", json_string(when));
	if (trigger)
		json_object_set_new(n, "trigger", json_string(trigger));
	s = json_dumps(n, JSON_COMPACT);
	json_decref(n);
	return s;
}

char *
kube_bump_note_again(const char *old, const struct kube_bump_result *r)
{
	json_t *n = old ? util_json_loads(old, 0, NULL) : NULL;
	char *s;

	if (!json_is_object(n)) {
		json_decref(n);
		n = json_object();
	}
	note_change(n, r);
	s = json_dumps(n, JSON_COMPACT);
	json_decref(n);
	return s;
}

json_t *
kube_bump_patch(const char *container, int init, const char *rv,
    const struct kube_bump_result *r, const char *change_note)
{
	json_t *res, *ctr, *patch, *md, *ann;

	res = json_pack("{s:{s:s}}", "requests", "memory", r->request_new);
	if (r->limit_new[0])
		json_object_set_new(res, "limits", json_pack("{s:s}",
		    "memory", r->limit_new));
	ctr = json_pack("{s:s, s:o}", "name", container, "resources", res);
	ann = json_pack("{s:s}", "remediation.platform/last-action",
	    "memory-request-raise");
	if (change_note)
		json_object_set_new(ann, "remediation.platform/last-change",
		    json_string(change_note));
	md = json_object();
	if (rv)
		json_object_set_new(md, "resourceVersion", json_string(rv));
	json_object_set_new(md, "annotations", ann);
	patch = json_pack("{s:o, s:{s:{s:{s:[o]}}}}", "metadata", md,
	    "spec", "template", "spec", init ? "initContainers" :
	    "containers", ctr);
	return patch;
}

/* Whether two quantities are the same amount ("1Gi" and "1024Mi" are). */
static int
same_quantity(const char *a, const char *b)
{
	struct quantity qa, qb;

	if (a == NULL || b == NULL)
		return 0;
	return quantity_parse(a, &qa) == 0 && quantity_parse(b, &qb) == 0 &&
	    quantity_cmp(&qa, &qb) == 0;
}

/*
 * The note names the decision (its time, pod, trigger and values), so the
 * workload carrying it and the values the patch set is the workload this
 * very patch left: nobody else writes our note, and both were written in
 * one request.
 */
int
kube_bump_applied(json_t *wl, const json_t *patch)
{
	const char *key = "remediation.platform/last-change";
	json_t *pspec, *pctr, *ctr, *lim;
	const char *note, *have, *name;
	int init;

	note = json_string_value(json_object_get(json_object_get(
	    json_object_get(patch, "metadata"), "annotations"), key));
	have = json_string_value(json_object_get(json_object_get(
	    json_object_get(wl, "metadata"), "annotations"), key));
	if (note == NULL || have == NULL || strcmp(note, have) != 0)
		return 0;
	pspec = json_object_get(json_object_get(json_object_get(patch,
	    "spec"), "template"), "spec");
	init = json_object_get(pspec, "initContainers") != NULL;
	pctr = json_array_get(json_object_get(pspec, init ? "initContainers" :
	    "containers"), 0);
	name = json_string_value(json_object_get(pctr, "name"));
	if (name == NULL || (ctr = kube_bump_template_container(wl, name,
	    init)) == NULL)
		return 0;
	if (!same_quantity(kube_bump_memory(ctr, "requests"),
	    kube_bump_memory(pctr, "requests")))
		return 0;
	lim = json_object_get(json_object_get(pctr, "resources"), "limits");
	return lim == NULL || same_quantity(kube_bump_memory(ctr, "limits"),
	    kube_bump_memory(pctr, "limits"));
}

/* The terminated state of a status if it was an OOM kill, else NULL. */
static json_t *
oom_state(json_t *cs)
{
	static const char *const keys[] = { "lastState", "state" };
	json_t *t;
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(keys); i++) {
		t = json_object_get(json_object_get(cs, keys[i]),
		    "terminated");
		if (json_is_object(t) && json_string_value(json_object_get(t,
		    "reason")) && strcmp(json_string_value(json_object_get(t,
		    "reason")), "OOMKilled") == 0)
			return t;
	}
	return NULL;
}

int
kube_bump_pick_container(json_t *pod, const char *name,
    const char **container, int *init, json_t **oom, char **err)
{
	static const char *const lists[] = { "containerStatuses",
	    "initContainerStatuses" };
	json_t *st = json_object_get(pod, "status"), *cs, *t, *spec;
	const char *best = NULL, *best_at = "", *at;
	size_t i, j, n;

	*err = NULL;
	*oom = NULL;
	*init = 0;
	if (name) {
		*init = spec_container(pod, "containers", name) == NULL;
		if (*init && spec_container(pod, "initContainers", name) ==
		    NULL) {
			*err = xasprintf("the pod has no container \"%s\"",
			    name);
			return -1;
		}
		*container = json_string_value(json_object_get(
		    spec_container(pod, *init ? "initContainers" :
		    "containers", name), "name"));
	}
	for (i = 0; i < UTIL_ARRAY_LEN(lists); i++)
		json_array_foreach(json_object_get(st, lists[i]), j, cs) {
			const char *cn = json_string_value(json_object_get(cs,
			    "name"));

			if (cn == NULL || (t = oom_state(cs)) == NULL)
				continue;
			if (name && strcmp(cn, name) == 0) {
				*oom = t;
				return 0;
			}
			at = json_string_value(json_object_get(t,
			    "finishedAt"));
			if (!name && (best == NULL || (at && strcmp(at,
			    best_at) > 0))) {
				best = cn;
				best_at = at ? at : "";
				*oom = t;
				*init = i == 1;
			}
		}
	if (name)
		return 0;
	if (best) {
		*container = best;
		return 0;
	}
	spec = json_object_get(pod, "spec");
	n = json_array_size(json_object_get(spec, "containers"));
	if (n == 1 && json_array_size(json_object_get(spec,
	    "initContainers")) == 0) {
		*container = json_string_value(json_object_get(
		    json_array_get(json_object_get(spec, "containers"), 0),
		    "name"));
		if (*container)
			return 0;
	}
	*err = xasprintf("no container of the pod was OOMKilled and it has "
	    "%zu: name one with --container", n + json_array_size(
	    json_object_get(spec, "initContainers")));
	return -1;
}
