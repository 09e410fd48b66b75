/*
 * The fields a write sets, and who owns them.
 *
 * The API server remembers, per manager, the fields it set last, in
 * metadata.managedFields as a FieldsV1 trie: "f:NAME" for a map key,
 * "k:{...}" for an element of an associative list by its key fields (a
 * container by name: k:{"name":"app"}), "v:VALUE" for a set member,
 * "i:N" for an index; "." is the element or map itself; an empty object
 * is a leaf, owning the whole value below it (an atomic list, a scalar).
 * A scale subresource write (an HPA's) is recorded in the same terms as
 * the main resource (f:spec, f:replicas).
 *
 * We turn the write into the same paths (as structured-merge-diff would:
 * lists merge by key where the schema says so, other lists are atomic),
 * and look each up in every other manager's trie.
 */
#include <stdlib.h>
#include <string.h>

#include "gitops/gitops.h"
#include "util/lists.h"
#include "util/util.h"

/* Identity, not fields: no manager owns these. */
static const char *const skip_meta[] = {
	"name", "namespace", "uid", "resourceVersion", "generation",
	"creationTimestamp", "deletionTimestamp", "managedFields",
	"selfLink", "generateName",
};

static int
skipped(const json_t *path, const char *key)
{
	size_t i;

	if (*key == '$')	/* strategic-merge directives */
		return 1;
	if (json_array_size(path) == 0)
		return strcmp(key, "status") == 0 ||
		    strcmp(key, "apiVersion") == 0 || strcmp(key, "kind") == 0;
	if (json_array_size(path) != 1 || strcmp(json_string_value(
	    json_array_get(path, 0)), "f:metadata") != 0)
		return 0;
	for (i = 0; i < UTIL_ARRAY_LEN(skip_meta); i++)
		if (strcmp(skip_meta[i], key) == 0)
			return 1;
	return 0;
}

static json_t *
extend(const json_t *path, const char *prefix, const char *s)
{
	json_t *p = json_copy((json_t *)(uintptr_t)path);

	json_array_append_new(p, json_sprintf("%s%s", prefix, s));
	return p;
}

static void
leaf(json_t *out, json_t *path)
{
	json_array_append_new(out, path);
}

/* k:{...} of element el of a list keyed by keys, or NULL if it has none. */
static char *
element_key(const json_t *el, const char *const *keys, const char *field)
{
	json_t *k = json_object();
	char *s, *out;
	size_t i;

	for (i = 0; i < 2 && keys[i]; i++) {
		json_t *v = json_object_get(el, keys[i]);

		/* the server defaults a port's protocol before keying it */
		if (v == NULL && strcmp(field, "ports") == 0 &&
		    strcmp(keys[i], "protocol") == 0)
			v = json_string("TCP");
		else if (v)
			json_incref(v);
		if (v == NULL) {
			json_decref(k);
			return NULL;
		}
		json_object_set_new(k, keys[i], v);
	}
	s = json_dumps(k, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(k);
	out = xasprintf("k:%s", s);
	free(s);
	return out;
}

static int
is_key_field(const char *const *keys, const char *k)
{
	return (keys[0] && strcmp(keys[0], k) == 0) ||
	    (keys[1] && strcmp(keys[1], k) == 0);
}

static void walk(json_t *out, json_t *path, const json_t *v, int strategic);

/* Every element of an associative list, merged by key; else atomic. */
static void
walk_list(json_t *out, json_t *lpath, const char *field, const json_t *arr,
    int strategic)
{
	const char *const *keys;
	const char *k;
	json_t *el, *v;
	size_t i;
	char *ks;

	if (!strategic || !util_list_keys(field, &keys)) {
		leaf(out, lpath);
		return;
	}
	json_array_foreach(arr, i, el)
		if (!json_is_object(el) || (ks = element_key(el, keys, field))
		    == NULL) {
			leaf(out, lpath);	/* not keyed: atomic */
			return;
		} else
			free(ks);
	json_array_foreach(arr, i, el) {
		json_t *ep;
		size_t before = json_array_size(out);

		ks = element_key(el, keys, field);
		ep = extend(lpath, "", ks);
		free(ks);
		json_object_foreach((json_t *)(uintptr_t)el, k, v)
			if (*k != '$' && !is_key_field(keys, k))
				walk(out, extend(ep, "f:", k), v, strategic);
		if (json_array_size(out) == before)
			leaf(out, json_incref(ep));	/* the element only */
		json_decref(ep);
	}
	json_decref(lpath);
}

/* Steals path. */
static void
walk(json_t *out, json_t *path, const json_t *v, int strategic)
{
	const char *k;
	json_t *c;

	if (json_is_object(v)) {
		json_object_foreach((json_t *)(uintptr_t)v, k, c) {
			if (skipped(path, k))
				continue;
			if (json_is_array(c))
				walk_list(out, extend(path, "f:", k), k, c,
				    strategic);
			else
				walk(out, extend(path, "f:", k), c, strategic);
		}
		json_decref(path);
		return;
	}
	leaf(out, path);
}

/* ---- update: the fields whose values differ from live ------------------- */

static void diff(json_t *out, json_t *path, const char *field,
    const json_t *old, const json_t *new);

static json_t *
find_keyed(const json_t *arr, const char *ks, const char *const *keys,
    const char *field)
{
	json_t *el;
	size_t i;

	json_array_foreach(arr, i, el) {
		char *k = element_key(el, keys, field);
		int same = k && strcmp(k, ks) == 0;

		free(k);
		if (same)
			return el;
	}
	return NULL;
}

static void
diff_list(json_t *out, json_t *path, const char *field, const json_t *old,
    const json_t *new)
{
	const char *const *keys;
	json_t *el;
	size_t i;
	char *ks;

	if (!json_is_array(old) || !util_list_keys(field, &keys)) {
		leaf(out, path);
		return;
	}
	json_array_foreach(new, i, el)
		if ((ks = element_key(el, keys, field)) == NULL) {
			leaf(out, path);	/* not keyed: atomic */
			return;
		} else
			free(ks);
	json_array_foreach(new, i, el) {
		ks = element_key(el, keys, field);
		diff(out, extend(path, "", ks), NULL, find_keyed(old, ks,
		    keys, field), el);
		free(ks);
	}
	json_array_foreach(old, i, el)
		if ((ks = element_key(el, keys, field)) != NULL) {
			if (find_keyed(new, ks, keys, field) == NULL)
				leaf(out, extend(path, "", ks));
			free(ks);
		}
	json_decref(path);
}

/* Steals path. */
static void
diff(json_t *out, json_t *path, const char *field, const json_t *old,
    const json_t *new)
{
	const char *k;
	json_t *c;

	if (old && new && json_equal((json_t *)(uintptr_t)old,
	    (json_t *)(uintptr_t)new)) {
		json_decref(path);
		return;
	}
	if (json_is_array(new) && field) {
		diff_list(out, path, field, old, new);
		return;
	}
	if (!json_is_object(old) || !json_is_object(new)) {
		if (new && json_is_object(new) && old == NULL)
			walk(out, path, new, 1);
		else
			leaf(out, path);
		return;
	}
	json_object_foreach((json_t *)(uintptr_t)new, k, c)
		if (!skipped(path, k))
			diff(out, extend(path, "f:", k), k, json_object_get(old,
			    k), c);
	json_object_foreach((json_t *)(uintptr_t)old, k, c)
		if (!skipped(path, k) && json_object_get(new, k) == NULL)
			leaf(out, extend(path, "f:", k));
	json_decref(path);
}

/* ---- JSON patch: pointers mapped through the live object ---------------- */

static char *
unescape_token(const char *s, size_t n)
{
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; i < n; i++)
		if (s[i] == '~' && i + 1 < n && (s[i + 1] == '0' ||
		    s[i + 1] == '1')) {
			buf_addc(&b, s[i + 1] == '0' ? '~' : '/');
			i++;
		} else
			buf_addc(&b, s[i]);
	return buf_steal(&b);
}

static void
pointer_path(json_t *out, const char *ptr, const json_t *live)
{
	json_t *path = json_array();
	const json_t *node = live;
	const char *field = NULL, *const *keys;
	char *tok = NULL, *ks;

	while (ptr && *ptr == '/') {
		const char *end = strchr(ptr + 1, '/');
		size_t n = end ? (size_t)(end - ptr - 1) : strlen(ptr + 1);

		free(tok);
		tok = unescape_token(ptr + 1, n);
		ptr += n + 1;
		if (json_is_array(node)) {
			long long i;
			json_t *el;

			if (util_parse_int(tok, &i) == -1 || field == NULL ||
			    !util_list_keys(field, &keys) || (el = json_array_get(
			    node, (size_t)i)) == NULL || (ks = element_key(el,
			    keys, field)) == NULL)
				break;	/* atomic, or a new element: the list */
			json_array_append_new(path, json_string(ks));
			free(ks);
			node = el;
			field = NULL;
			continue;
		}
		if (skipped(path, tok))
			goto done;
		json_array_append_new(path, json_sprintf("f:%s", tok));
		node = json_object_get(node, tok);
		field = json_string_value(json_array_get(path,
		    json_array_size(path) - 1)) + 2;
	}
	if (json_array_size(path)) {
		leaf(out, path);
		path = NULL;
	}
done:
	json_decref(path);
	free(tok);
}

json_t *
gitops_fields_of(const json_t *body, const char *strategy,
    const json_t *live)
{
	json_t *out = json_array(), *op;
	size_t i;

	if (strategy && strcmp(strategy, "json") == 0) {
		json_array_foreach(body, i, op) {
			const char *o = json_string_value(json_object_get(op,
			    "op"));

			if (o == NULL || strcmp(o, "test") == 0)
				continue;
			pointer_path(out, json_string_value(json_object_get(op,
			    "path")), live);
			if (strcmp(o, "move") == 0)
				pointer_path(out, json_string_value(
				    json_object_get(op, "from")), live);
		}
	} else if (strategy && strcmp(strategy, "update") == 0)
		diff(out, json_array(), NULL, live, body);
	else
		walk(out, json_array(), body, strategy == NULL ||
		    strcmp(strategy, "merge") != 0);
	return out;
}

/* ---- who owns them ------------------------------------------------------ */

static json_t *
child(const json_t *node, const char *elem)
{
	json_t *c = json_object_get(node, elem), *want, *have;
	const char *k;

	if (c || strncmp(elem, "k:", 2) != 0)
		return c;
	/* a key's JSON may order its fields differently */
	if ((want = util_json_loads(elem + 2, 0, NULL)) == NULL)
		return NULL;
	json_object_foreach((json_t *)(uintptr_t)node, k, c) {
		int same;

		if (strncmp(k, "k:", 2) != 0 ||
		    (have = util_json_loads(k + 2, 0, NULL)) == NULL)
			continue;
		same = json_equal(want, have);
		json_decref(have);
		if (same) {
			json_decref(want);
			return c;
		}
	}
	json_decref(want);
	return NULL;
}

/* The trie owns path: all of it, or an atomic value holding it. */
static int
owns(const json_t *trie, const json_t *path)
{
	const json_t *node = trie;
	json_t *e;
	size_t i;

	json_array_foreach(path, i, e) {
		if ((node = child(node, json_string_value(e))) == NULL)
			return 0;
		if (json_object_size(node) == 0)
			return 1;	/* a leaf: the whole value below */
	}
	return 1;
}

static int
ignored(const char *manager, const json_t *ownership)
{
	json_t *g;
	size_t i;

	if (strcmp(manager, json_string_value(json_object_get(ownership,
	    "fieldManager"))) == 0)
		return 1;
	json_array_foreach(json_object_get(ownership, "ignoreManagers"), i, g)
		if (json_is_string(g) && util_glob(json_string_value(g),
		    manager))
			return 1;
	return 0;
}

int
gitops_field_owner(const json_t *obj, const json_t *fields,
    const json_t *ownership, const char **manager, char **field)
{
	json_t *mf = json_object_get(json_object_get(obj, "metadata"),
	    "managedFields"), *m, *p;
	size_t i, j;

	json_array_foreach(mf, i, m) {
		const char *name = json_string_value(json_object_get(m,
		    "manager"));
		json_t *trie = json_object_get(m, "fieldsV1");

		if (name == NULL || !json_is_object(trie) ||
		    ignored(name, ownership))
			continue;
		json_array_foreach(fields, j, p)
			if (owns(trie, p)) {
				*manager = name;
				*field = gitops_path_text(p);
				return 1;
			}
	}
	return 0;
}

char *
gitops_path_text(const json_t *path)
{
	struct buf b;
	json_t *e, *k, *v;
	const char *s, *kk;
	size_t i;

	buf_init(&b, 0);
	json_array_foreach(path, i, e) {
		s = json_string_value(e);
		if (s == NULL)
			continue;
		if (strncmp(s, "f:", 2) == 0) {
			buf_printf(&b, "%s%s", b.len ? "." : "", s + 2);
			continue;
		}
		if (strncmp(s, "k:", 2) != 0 ||
		    (k = util_json_loads(s + 2, 0, NULL)) == NULL) {
			buf_printf(&b, "[%s]", s);
			continue;
		}
		buf_addc(&b, '[');
		json_object_foreach(k, kk, v) {
			char *t = json_is_string(v) ? NULL : json_dumps(v,
			    JSON_ENCODE_ANY);

			buf_printf(&b, "%s%s=%s", b.data[b.len - 1] == '[' ?
			    "" : ",", kk, t ? t : json_string_value(v));
			free(t);
		}
		buf_addc(&b, ']');
		json_decref(k);
	}
	return buf_steal(&b);
}
