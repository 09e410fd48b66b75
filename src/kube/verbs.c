/*
 * The verbs: get, list, create, update (with a conflict-retrying
 * read-modify-write), patch, delete.  Each maps (apiVersion, kind) to
 * its resource by discovery, builds the path, and returns the server's
 * answer.
 */
#include <stdlib.h>
#include <string.h>

#include "kube/kube_int.h"
#include "util/util.h"

static const struct {
	const char		*name;
	enum kube_patch_type	 type;
} patch_names[] = {
	{ "merge", KUBE_PATCH_MERGE },
	{ "json-merge", KUBE_PATCH_MERGE },
	{ "application/merge-patch+json", KUBE_PATCH_MERGE },
	{ "strategic", KUBE_PATCH_STRATEGIC },
	{ "strategic-merge", KUBE_PATCH_STRATEGIC },
	{ "application/strategic-merge-patch+json", KUBE_PATCH_STRATEGIC },
	{ "json", KUBE_PATCH_JSON },
	{ "json-patch", KUBE_PATCH_JSON },
	{ "application/json-patch+json", KUBE_PATCH_JSON },
};

int
kube_patch_type_parse(const char *s, enum kube_patch_type *t)
{
	size_t i;

	for (i = 0; s && i < UTIL_ARRAY_LEN(patch_names); i++)
		if (strcmp(s, patch_names[i].name) == 0) {
			*t = patch_names[i].type;
			return 0;
		}
	return -1;
}

const char *
kube_patch_content_type(enum kube_patch_type t)
{
	switch (t) {
	case KUBE_PATCH_STRATEGIC:
		return "application/strategic-merge-patch+json";
	case KUBE_PATCH_JSON:
		return "application/json-patch+json";
	case KUBE_PATCH_MERGE:
		break;
	}
	return "application/merge-patch+json";
}

/* The path of an object (name NULL: its collection), with a query. */
static char *
object_path(struct kube_client *c, const char *api_version,
    const char *kind, const char **ns, const char *name, const char *query,
    struct kube_error *err)
{
	struct kube_resource r;
	char *p, *full;

	if (kube_resource_for(c, api_version, kind, &r, err) < 0)
		return NULL;
	if (r.namespaced && (*ns == NULL || **ns == '\0'))
		*ns = kube_client_namespace(c);
	if (!r.namespaced)
		*ns = NULL;
	p = kube_resource_path(&r, *ns, name, NULL);
	kube_resource_clear(&r);
	if (query == NULL || *query == '\0')
		return p;
	full = xasprintf("%s?%s", p, query);
	free(p);
	return full;
}

static const char *
meta_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj,
	    "metadata"), key));
}

static json_t *
send_json(struct kube_client *c, const char *method, const char *path,
    const char *ctype, const json_t *body, int no_retry_5xx,
    struct kube_error *err)
{
	struct kube_req rq = { 0 };
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_t *out;

	rq.method = method;
	rq.path = path;
	rq.content_type = text ? ctype : NULL;
	rq.body = text;
	rq.len = text ? strlen(text) : 0;
	rq.no_retry_5xx = no_retry_5xx;
	out = kube_request_json(c, &rq, err);
	free(text);
	return out;
}

json_t *
kube_get(struct kube_client *c, const char *api_version, const char *kind,
    const char *ns, const char *name, struct kube_error *err)
{
	char *path;
	json_t *out;

	if (name == NULL || *name == '\0') {
		kube_error_set(err, "get %s: no name given", kind);
		return NULL;
	}
	if ((path = object_path(c, api_version, kind, &ns, name, NULL,
	    err)) == NULL)
		return NULL;
	out = send_json(c, "GET", path, NULL, NULL, 0, err);
	free(path);
	return out;
}

json_t *
kube_create(struct kube_client *c, const json_t *obj, int dry_run,
    struct kube_error *err)
{
	const char *av = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const char *ns = meta_str(obj, "namespace"), *name;
	json_t *body, *out;
	char *path;

	name = meta_str(obj, "name");
	if (kind == NULL || av == NULL) {
		kube_error_set(err, "create: the object has no kind or "
		    "apiVersion");
		return NULL;
	}
	if ((path = object_path(c, av, kind, &ns, NULL, dry_run ?
	    "dryRun=All" : NULL, err)) == NULL)
		return NULL;
	body = json_deep_copy(obj);
	if (ns)
		json_object_set_new(json_object_get(body, "metadata"),
		    "namespace", json_string(ns));
	/* a generateName create that got a 5xx may have happened: sending
	 * it again could make a second object */
	out = send_json(c, "POST", path, "application/json", body,
	    name == NULL || *name == '\0', err);
	json_decref(body);
	free(path);
	return out;
}

json_t *
kube_update(struct kube_client *c, const json_t *obj, int dry_run,
    struct kube_error *err)
{
	const char *av = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const char *ns = meta_str(obj, "namespace"), *name;
	json_t *out;
	char *path;

	name = meta_str(obj, "name");
	if (kind == NULL || av == NULL || name == NULL) {
		kube_error_set(err, "update: the object has no kind, "
		    "apiVersion or metadata.name");
		return NULL;
	}
	if ((path = object_path(c, av, kind, &ns, name, dry_run ?
	    "dryRun=All" : NULL, err)) == NULL)
		return NULL;
	out = send_json(c, "PUT", path, "application/json", obj, 0, err);
	free(path);
	return out;
}

json_t *
kube_update_retry(struct kube_client *c, const char *api_version,
    const char *kind, const char *ns, const char *name, int attempts,
    int (*mutate)(void *, json_t *, struct kube_error *), void *ctx,
    int dry_run, struct kube_error *err)
{
	json_t *obj, *out = NULL;
	int i, rc;

	if (attempts < 1)
		attempts = 1;
	for (i = 0; i < attempts; i++) {
		if ((obj = kube_get(c, api_version, kind, ns, name, err)) ==
		    NULL)
			return NULL;
		if (!json_object_get(obj, "apiVersion"))
			json_object_set_new(obj, "apiVersion",
			    json_string(api_version));
		if (!json_object_get(obj, "kind"))
			json_object_set_new(obj, "kind", json_string(kind));
		if ((rc = mutate(ctx, obj, err)) != 0) {
			if (rc > 0) {
				kube_error_clear(err);
				return obj;
			}
			json_decref(obj);
			return NULL;
		}
		out = kube_update(c, obj, dry_run, err);
		json_decref(obj);
		if (out || err->status != 409)
			return out;
	}
	return NULL;	/* err holds the last 409 */
}

json_t *
kube_patch(struct kube_client *c, const char *api_version, const char *kind,
    const char *ns, const char *name, enum kube_patch_type t,
    const json_t *patch, int dry_run, struct kube_error *err)
{
	char *path;
	json_t *out;

	if (name == NULL || *name == '\0') {
		kube_error_set(err, "patch %s: no name given", kind);
		return NULL;
	}
	if ((path = object_path(c, api_version, kind, &ns, name, dry_run ?
	    "dryRun=All" : NULL, err)) == NULL)
		return NULL;
	out = send_json(c, "PATCH", path, kube_patch_content_type(t), patch,
	    0, err);
	free(path);
	return out;
}

json_t *
kube_delete(struct kube_client *c, const char *api_version,
    const char *kind, const char *ns, const char *name, int dry_run,
    struct kube_error *err)
{
	char *path;
	json_t *out;

	if (name == NULL || *name == '\0') {
		kube_error_set(err, "delete %s: no name given", kind);
		return NULL;
	}
	if ((path = object_path(c, api_version, kind, &ns, name, dry_run ?
	    "propagationPolicy=Background&dryRun=All" :
	    "propagationPolicy=Background", err)) == NULL)
		return NULL;
	out = send_json(c, "DELETE", path, NULL, NULL, 0, err);
	free(path);
	return out;
}

/* Items of a List have no kind/apiVersion: give them back. */
static void
restore_kinds(json_t *list)
{
	const char *lk = json_string_value(json_object_get(list, "kind"));
	const char *av = json_string_value(json_object_get(list,
	    "apiVersion"));
	json_t *it;
	size_t i, n;
	char *kind;

	if (lk == NULL || (n = strlen(lk)) <= 4 ||
	    strcmp(lk + n - 4, "List") != 0)
		return;
	kind = xstrndup(lk, n - 4);
	json_array_foreach(json_object_get(list, "items"), i, it) {
		if (!json_is_object(it))
			continue;
		if (json_object_get(it, "kind") == NULL)
			json_object_set_new(it, "kind", json_string(kind));
		if (av && json_object_get(it, "apiVersion") == NULL)
			json_object_set_new(it, "apiVersion", json_string(av));
	}
	free(kind);
}

/* The path of one list page; owned. */
static char *
list_path(const struct kube_resource *r, const char *ns,
    const char *label_selector, const char *field_selector, long limit,
    const char *cont)
{
	struct buf q;
	char *base, *path, *e;

	buf_init(&q, 0);
	if (label_selector && *label_selector) {
		e = kube_escape(label_selector);
		buf_printf(&q, "&labelSelector=%s", e);
		free(e);
	}
	if (field_selector && *field_selector) {
		e = kube_escape(field_selector);
		buf_printf(&q, "&fieldSelector=%s", e);
		free(e);
	}
	if (limit > 0)
		buf_printf(&q, "&limit=%ld", limit);
	if (cont && *cont) {
		e = kube_escape(cont);
		buf_printf(&q, "&continue=%s", e);
		free(e);
	}
	base = kube_resource_path(r, ns, NULL, NULL);
	path = q.len ? xasprintf("%s?%s", base, q.data + 1) : xstrdup(base);
	buf_free(&q);
	free(base);
	return path;
}

json_t *
kube_list(struct kube_client *c, const struct kube_resource *r,
    const char *ns, const char *label_selector, const char *field_selector,
    long limit, const char *cont, atomic_int *stop, struct kube_error *err)
{
	struct kube_req rq = { 0 };
	char *path = list_path(r, ns, label_selector, field_selector, limit,
	    cont);
	json_t *out;

	rq.method = "GET";
	rq.path = path;
	rq.stop = stop;
	out = kube_request_json(c, &rq, err);
	if (out && !json_is_array(json_object_get(out, "items"))) {
		kube_error_set(err, "GET %s: the answer is not a list", path);
		json_decref(out);
		out = NULL;
	}
	if (out)
		restore_kinds(out);
	free(path);
	return out;
}

/* ---- a list, one item at a time ---------------------------------------- */

struct lscan {
	const char	*p;
	size_t		 n, i;
	json_error_t	 jerr;
	kube_decode_fn	*decode;	/* items; NULL: jansson */
	void		*decode_ctx;
};

static void
skip_ws(struct lscan *l)
{
	while (l->i < l->n && (l->p[l->i] == ' ' || l->p[l->i] == '\t' ||
	    l->p[l->i] == '\n' || l->p[l->i] == '\r'))
		l->i++;
}

/* The next byte after blanks, consumed when it is c. */
static int
eat(struct lscan *l, char c)
{
	skip_ws(l);
	if (l->i < l->n && l->p[l->i] == c) {
		l->i++;
		return 1;
	}
	return 0;
}

/* One JSON value at the scan position (new reference), or NULL. */
static json_t *
value(struct lscan *l)
{
	json_t *v;

	skip_ws(l);
	v = json_loadb(l->p + l->i, l->n - l->i, JSON_DECODE_ANY |
	    JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL, &l->jerr);
	if (v)
		l->i += (size_t)l->jerr.position;
	return v;
}

/* An item through the caller's decoder (new reference), or NULL. */
static json_t *
item(struct lscan *l, const char *lk)
{
	char kind[128];
	size_t n = lk ? strlen(lk) : 0;
	struct kube_decode d = { l->p + l->i, l->n - l->i,
	    JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL, NULL,
	    NULL, 0, NULL };
	json_t *v;

	skip_ws(l);
	d.text = l->p + l->i;
	d.len = l->n - l->i;
	if (n > 4 && n - 4 < sizeof kind && strcmp(lk + n - 4, "List") == 0) {
		memcpy(kind, lk, n - 4);
		kind[n - 4] = '\0';
		d.kind = kind;
	}
	if ((v = l->decode(l->decode_ctx, &d)) == NULL) {
		snprintf(l->jerr.text, sizeof l->jerr.text, "%s",
		    d.why ? d.why : "not JSON");
		return NULL;
	}
	l->i += d.end;
	return v;
}

/* Gives item the list's kind (lk without "List") and apiVersion. */
static void
restore_item(json_t *it, const char *lk, const char *av)
{
	size_t n = lk ? strlen(lk) : 0;

	if (!json_is_object(it) || n <= 4 || strcmp(lk + n - 4, "List") != 0)
		return;
	if (json_object_get(it, "kind") == NULL)
		json_object_set_new(it, "kind", json_stringn(lk, n - 4));
	if (av && json_object_get(it, "apiVersion") == NULL)
		json_object_set_new(it, "apiVersion", json_string(av));
}

/* The items array, each to fn as soon as it is parsed; -1 when bad. */
static int
scan_items(struct lscan *l, json_t *head, kube_item_fn *fn, void *ctx)
{
	const char *lk = json_string_value(json_object_get(head, "kind"));
	const char *av = json_string_value(json_object_get(head,
	    "apiVersion"));
	json_t *it;

	if (eat(l, 'n') && l->n - l->i >= 3 && memcmp(l->p + l->i, "ull",
	    3) == 0) {
		l->i += 3;	/* "items": null, as an empty list */
		return 0;
	}
	if (!eat(l, '['))
		return -1;
	if (eat(l, ']'))
		return 0;
	do {
		if ((it = l->decode ? item(l, lk) : value(l)) == NULL)
			return -1;
		restore_item(it, lk, av);
		fn(ctx, it);
		json_decref(it);
	} while (eat(l, ','));
	return eat(l, ']') ? 0 : -1;
}

/*
 * Walks a List's top-level members; items go to fn one by one, the rest
 * into head.  When "items" comes before "kind" (no server does that) the
 * items cannot get their kind yet: the caller parses the whole body.
 */
static int
scan_list(struct lscan *l, json_t *head, kube_item_fn *fn, void *ctx,
    int *items_seen)
{
	json_t *k, *v;
	int rc = 0;

	if (!eat(l, '{'))
		return -1;
	if (eat(l, '}'))
		return 0;
	do {
		if ((k = value(l)) == NULL || !json_is_string(k) ||
		    !eat(l, ':')) {
			json_decref(k);
			return -1;
		}
		if (strcmp(json_string_value(k), "items") == 0) {
			if (json_object_get(head, "kind") == NULL) {
				json_decref(k);
				return 1;	/* the slow way */
			}
			*items_seen = 1;
			rc = scan_items(l, head, fn, ctx);
		} else if ((v = value(l)) != NULL)
			json_object_set_new(head, json_string_value(k), v);
		else
			rc = -1;
		json_decref(k);
		if (rc == -1)
			return -1;
	} while (eat(l, ','));
	return eat(l, '}') ? 0 : -1;
}

json_t *
kube_list_each(struct kube_client *c, const struct kube_resource *r,
    const char *ns, const char *label_selector, const char *field_selector,
    long limit, const char *cont, atomic_int *stop, kube_item_fn *fn,
    void *ctx, kube_decode_fn *decode, void *decode_ctx,
    struct kube_error *err)
{
	struct kube_req rq = { 0 };
	struct kube_response resp;
	struct lscan l;
	char *path = list_path(r, ns, label_selector, field_selector, limit,
	    cont);
	json_t *head = NULL, *full, *it;
	int rc, seen = 0;
	size_t i;

	rq.method = "GET";
	rq.path = path;
	rq.stop = stop;
	if (kube_request(c, &rq, &resp, err) < 0)
		goto out;
	memset(&l, 0, sizeof l);
	l.p = resp.body;
	l.n = resp.len;
	l.decode = decode;
	l.decode_ctx = decode_ctx;
	head = json_object();
	rc = scan_list(&l, head, fn, ctx, &seen);
	if (rc == 1) {
		full = json_loadb(resp.body, resp.len, JSON_ALLOW_NUL,
		    &l.jerr);
		if (full && json_is_array(json_object_get(full, "items"))) {
			restore_kinds(full);
			json_array_foreach(json_object_get(full, "items"), i,
			    it)
				fn(ctx, it);
			json_object_del(full, "items");
			json_decref(head);
			head = full;
			rc = 0;
			seen = 1;
		} else {
			json_decref(full);
			rc = -1;
		}
	}
	if (rc == -1 || !seen) {
		kube_error_set(err, "GET %s: the answer is not a list%s%s",
		    path, rc == -1 ? ": " : "", rc == -1 ? l.jerr.text : "");
		json_decref(head);
		head = NULL;
	}
	kube_response_clear(&resp);
out:
	free(path);
	return head;
}
