/*
 * Kyverno's object and data functions: lookup (Kyverno's two-argument
 * form, and the four-argument form that reads a live object), items,
 * object_from_lists, parse_json, parse_yaml (kyaml.c), semver_compare
 * (semver.c), sha256 and image_normalize.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jp/jp_int.h"
#include "util/util.h"

#define MAX_LOOKUP_DEPTH 4	/* lookup() paths that call lookup() */

static int
count_nodes(const json_t *v)
{
	size_t i, n = 1;
	void *it;

	if (json_is_array(v))
		for (i = 0; i < json_array_size(v); i++)
			n += (size_t)count_nodes(json_array_get(v, i));
	else if (json_is_object(v))
		for (it = json_object_iter((json_t *)(uintptr_t)v); it;
		    it = json_object_iter_next((json_t *)(uintptr_t)v, it))
			n += (size_t)count_nodes(json_object_iter_value(it));
	return n > 0x3fffffff ? 0x3fffffff : (int)n;
}

static json_t *
lookup_index(struct jp_call *k)
{
	json_t *c = k->args[0], *key = k->args[1], *v;
	double d;

	if (json_is_object(c)) {
		if (!json_is_string(key))
			return jp_arg_error(k, 1, "string"), NULL;
		v = json_object_getn(c, json_string_value(key),
		    json_string_length(key));
		return v ? json_incref(v) : json_null();
	}
	if (!json_is_array(c))
		return jp_arg_error(k, 0, "object or array"), NULL;
	if (!json_is_number(key))
		return jp_arg_error(k, 1, "number"), NULL;
	d = jp_num(key);
	if (d != (double)(long long)d) {
		jp_call_fail(k, 1, JP_ERR_VALUE, "index must be an integer");
		return NULL;
	}
	if (d < 0 || d >= (double)json_array_size(c))
		return json_null();
	return json_incref(json_array_get(c, (size_t)d));
}

/*
 * lookup(kind, namespace, name, path): the live object through the
 * environment's hook, then path (a JMESPath expression) on it.  A missing
 * object is null; no hook at all is an error, since a policy that meant to
 * read the cluster must not pass for want of one.
 */
static json_t *
lookup_object(struct jp_call *k)
{
	const struct jp_env *env = k->c->env;
	struct jp_expr *path = k->node->sub, *own = NULL;
	struct jp_error perr;
	json_t *obj, *r;
	int i;

	for (i = 0; i < 4; i++)
		if (!json_is_string(k->args[i]) &&
		    !(i == 1 && json_is_null(k->args[i])))
			return jp_arg_error(k, i, i == 1 ? "string or null" :
			    "string"), NULL;
	if (env == NULL || env->lookup == NULL) {
		jp_call_fail(k, -1, JP_ERR_LOOKUP, "no cluster to read %s "
		    "%s/%s from", json_string_value(k->args[0]),
		    json_is_null(k->args[1]) ? "" :
		    json_string_value(k->args[1]),
		    json_string_value(k->args[2]));
		return NULL;
	}
	if (k->c->lookups >= MAX_LOOKUP_DEPTH) {
		jp_call_fail(k, 3, JP_ERR_LIMIT, "lookup() nested deeper than "
		    "%d", MAX_LOOKUP_DEPTH);
		return NULL;
	}
	if (path == NULL) {
		if ((own = jp_compile(json_string_value(k->args[3]), &perr)) ==
		    NULL) {
			jp_call_fail(k, 3, perr.kind, "%s", perr.msg);
			return NULL;
		}
		path = own;
	}
	obj = env->lookup(env->lookup_ctx, json_string_value(k->args[0]),
	    json_is_null(k->args[1]) ? "" : json_string_value(k->args[1]),
	    json_string_value(k->args[2]));
	if (obj == NULL) {
		jp_free(own);
		return json_null();
	}
	k->c->lookups++;
	r = jp_ev(k->c, jp_root(path), obj);
	k->c->lookups--;
	json_decref(obj);
	jp_free(own);
	return r;
}

static json_t *
f_lookup(struct jp_call *k)
{
	return k->nargs == 2 ? lookup_index(k) : lookup_object(k);
}

static int
key_cmp(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int ok;

	return jp_order(x, y, &ok);
}

static json_t *
f_items(struct jp_call *k)
{
	json_t *in = k->args[0], *r, *e, **keys;
	const char *kn = json_string_value(k->args[1]);
	const char *vn = json_string_value(k->args[2]);
	size_t i = 0, n;
	void *it;

	if (!json_is_object(in) && !json_is_array(in))
		return jp_arg_error(k, 0, "object or array"), NULL;
	n = json_is_object(in) ? json_object_size(in) : json_array_size(in);
	if (jp_spend(k->c, 1 + 3 * n, 0) < 0)
		return NULL;
	r = json_array();
	if (json_is_array(in)) {
		for (i = 0; i < n; i++) {
			e = json_object();
			json_object_set_new(e, kn, json_integer((json_int_t)i));
			json_object_set(e, vn, json_array_get(in, i));
			json_array_append_new(r, e);
		}
		return r;
	}
	/* Keys sorted, as Kyverno sorts them for a stable order. */
	keys = xcalloc(n ? n : 1, sizeof *keys);
	for (it = json_object_iter(in); it; it = json_object_iter_next(in, it))
		keys[i++] = json_stringn_nocheck(json_object_iter_key(it),
		    json_object_iter_key_len(it));
	qsort(keys, n, sizeof *keys, key_cmp);
	for (i = 0; i < n; i++) {
		e = json_object();
		json_object_set(e, kn, keys[i]);
		json_object_set(e, vn, json_object_getn(in,
		    json_string_value(keys[i]), json_string_length(keys[i])));
		json_array_append_new(r, e);
		json_decref(keys[i]);
	}
	free(keys);
	return r;
}

static json_t *
f_object_from_lists(struct jp_call *k)
{
	json_t *keys = k->args[0], *vals = k->args[1], *r, *v;
	size_t i, n = json_array_size(keys);
	char num[48];
	const char *s;
	size_t sl;

	if (jp_spend(k->c, 1 + n, 0) < 0)
		return NULL;
	r = json_object();
	for (i = 0; i < n; i++) {
		if (jp_kstring(json_array_get(keys, i), num, sizeof num, &s,
		    &sl) < 0) {
			json_decref(r);
			return jp_arg_error(k, 0, "array of strings"), NULL;
		}
		v = i < json_array_size(vals) ? json_array_get(vals, i) :
		    json_null();
		json_object_setn(r, s, sl, v);
	}
	return r;
}

static json_t *
f_parse_json(struct jp_call *k)
{
	json_error_t je;
	json_t *v;

	v = util_json_loadb(json_string_value(k->args[0]),
	    json_string_length(k->args[0]), JSON_DECODE_ANY | JSON_ALLOW_NUL,
	    &je);
	if (v == NULL) {
		jp_call_fail(k, 0, JP_ERR_VALUE, "invalid JSON: %s", je.text);
		return NULL;
	}
	if (jp_spend(k->c, (size_t)count_nodes(v), 0) < 0) {
		json_decref(v);
		return NULL;
	}
	return v;
}

static json_t *
f_sha256(struct jp_call *k)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;
	char hex[2 * EVP_MAX_MD_SIZE + 1];

	if (EVP_Digest(json_string_value(k->args[0]),
	    json_string_length(k->args[0]), md, &n, EVP_sha256(), NULL) != 1) {
		jp_call_fail(k, -1, JP_ERR_VALUE, "digest failed");
		return NULL;
	}
	for (i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return json_stringn(hex, 2 * n);
}

/*
 * image_normalize: the fully qualified form of an image reference, as
 * Kyverno's default configuration gives it ("nginx" is
 * "docker.io/library/nginx:latest").
 */
static json_t *
f_image_normalize(struct jp_call *k)
{
	const char *s = json_string_value(k->args[0]), *slash, *at, *colon;
	size_t n = json_string_length(k->args[0]), i;
	int domain = 0, tagged;
	struct buf b;
	json_t *r;

	if (n == 0 || memchr(s, '\0', n) || strchr(s, ' ')) {
		jp_call_fail(k, 0, JP_ERR_VALUE, "\"%.40s\" is not an image "
		    "reference", s);
		return NULL;
	}
	slash = strchr(s, '/');
	if (slash) {
		for (i = 0; s + i < slash; i++)
			if (s[i] == '.' || s[i] == ':')
				domain = 1;
		if (slash - s == 9 && strncmp(s, "localhost", 9) == 0)
			domain = 1;
	}
	at = strchr(s, '@');
	colon = strrchr(s, ':');
	tagged = at != NULL || (colon && (!slash || colon > strrchr(s, '/')));
	buf_init(&b, 0);
	if (!domain)
		buf_adds(&b, slash ? "docker.io/" : "docker.io/library/");
	buf_add(&b, s, n);
	if (!tagged)
		buf_adds(&b, ":latest");
	r = jp_strn(k->c, b.data, b.len);
	buf_free(&b);
	return r;
}

static const struct jp_func kmisc[] = {
	{ "lookup", 2, 4, { JT_OBJ | JT_ARR | JT_STR, JT_STR | JT_NUM |
	    JT_NULL, JT_STR, JT_STR }, f_lookup, 1 },
	{ "items", 3, 3, { JT_OBJ | JT_ARR, JT_STR, JT_STR }, f_items, 0 },
	{ "object_from_lists", 2, 2, { JT_ARR, JT_ARR }, f_object_from_lists,
	    0 },
	{ "parse_json", 1, 1, { JT_STR }, f_parse_json, 0 },
	{ "parse_yaml", 1, 1, { JT_STR }, jp_f_parse_yaml, 0 },
	{ "semver_compare", 2, 2, { JT_STR, JT_STR }, jp_f_semver_compare, 0 },
	{ "sha256", 1, 1, { JT_STR }, f_sha256, 0 },
	{ "image_normalize", 1, 1, { JT_STR }, f_image_normalize, 0 },
};

const struct jp_func *
jp_kmisc_table(size_t *n)
{
	*n = UTIL_ARRAY_LEN(kmisc);
	return kmisc;
}
