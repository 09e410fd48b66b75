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
	json_t *it;
	size_t i;

	json_array_foreach(json_object_get(list, "items"), i, it)
		util_jlist_restore(it, list);
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

/* An item of the page to the caller's fn; a value that is no list, not. */
struct each {
	kube_item_fn	*fn;
	void		*ctx;
	kube_decode_fn	*decode;	/* NULL: each item read whole */
	void		*decode_ctx;
};

/* An item read through the caller's decoder (see struct kube_decode). */
static json_t *
decode_item(void *ctx, const char *text, size_t len, const char *kind,
    size_t *end, const char **why)
{
	struct each *e = ctx;
	struct kube_decode d = { text, len, JSON_DECODE_ANY |
	    JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL, NULL, kind, 0, NULL };
	json_t *v = e->decode(e->decode_ctx, &d);

	*end = d.end;
	*why = d.why ? d.why : "not JSON";
	/* cppcheck-suppress returnDanglingLifetime ; v is decode's new tree */
	return v;
}

static void
each_item(void *ctx, json_t *item, const json_t *head, size_t off,
    size_t len)
{
	struct each *e = ctx;

	(void)off;
	(void)len;
	if (head != NULL)
		e->fn(e->ctx, item);
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
	struct util_jlist l;
	struct each e = { fn, ctx, decode, decode_ctx };
	char *path = list_path(r, ns, label_selector, field_selector, limit,
	    cont);
	json_t *head = NULL;
	int rc;

	rq.method = "GET";
	rq.path = path;
	rq.stop = stop;
	if (kube_request(c, &rq, &resp, err) < 0)
		goto out;
	/* each item parsed alone: a page of 500 Pods is never one tree */
	util_jlist_init(&l, resp.body, resp.len, 0);
	if (decode) {
		l.read_item = decode_item;
		l.read_ctx = &e;
	}
	rc = util_jlist_next(&l, each_item, &e, &head);
	if (rc != 1 || !l.list) {
		kube_error_set(err, "GET %s: the answer is not a list%s%s",
		    path, rc == -1 ? ": " : "", rc == -1 ? l.err : "");
		json_decref(head);
		head = NULL;
	}
	kube_response_clear(&resp);
out:
	free(path);
	return head;
}
