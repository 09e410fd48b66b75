/*
 * The view's projection straight from JSON text: a watch line or a list
 * item decoded into what cluster_project would keep of it, with no whole
 * tree in between.  A real Pod is 5-8 KB of JSON and about 60 KB as a
 * jansson tree, of which the view keeps a few hundred bytes; here only
 * the kept fields (project.c's cl_projection) become jansson values, the
 * rest is scanned and validated, never allocated.
 *
 * Tokens are read, and the values kept whole built, by util's JSON lexer
 * (util_jscan, src/util/jsonr.c, which util_json_loadb reads with too):
 * jansson's grammar, ranges, depth and JSON_ALLOW_NUL exactly, and its
 * one quirk (a NUL byte right after a number or a literal is skipped).
 * What this file adds is the walk: members the projection keeps are
 * built, the rest skipped, and the decoder accepts exactly what jansson's
 * json_loadb accepts with the same flags, giving exactly
 * cluster_project(json_loadb(text)):
 *
 *   - skipped values are checked as fully as kept ones (an integer
 *     beyond int64, bad UTF-8 in a field nobody reads: refused);
 *   - JSON_REJECT_DUPLICATES: duplicate keys are found in every object,
 *     kept or skipped (decoded keys compared, so "a" and "\u0061" are one
 *     key); without it the last of a key's members wins, as in jansson;
 *   - JSON_DECODE_ANY: a root that is not an object or array;
 *   - JSON_DISABLE_EOF_CHECK: the value at the text's start, whatever
 *     follows (its end in cluster_decode_result.end, as jansson's
 *     position).
 *
 * Objects of a kind the view keeps whole (or the caller wants whole, see
 * cluster_decode_opts.whole) are read again from their span, whole
 * (util_jscan_value), once their kind is known: kind may come after the
 * members it decides.  Error messages are the decoder's own, with a byte
 * offset, line and column; a caller that must print jansson's message
 * reads the text again with util_json_loadb, which answers a text it
 * refuses with jansson's.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "cluster/cluster_int.h"

/* A key of an object still open, for JSON_REJECT_DUPLICATES. */
struct dkey {
	uint64_t	 hash;
	size_t		 off;	/* its bytes: in the text or, decoded, in
				   keytext */
	size_t		 len;
	size_t		 at;	/* its place in the text, for the error */
	int		 decoded;
	const char	*p;	/* the bytes, set when its object closes */
};

struct dec {
	struct util_jscan	 sc;		/* the text and its lexer */
	const struct cluster_decode_opts *o;
	int			 projected;
	int			 templated;	/* a CL_TEMPLATE_KINDS field
						   was kept */
	struct buf		 keytext;	/* escaped keys of open
						   objects, decoded */
	struct dkey		*keys;		/* of open objects: stack, or
						   owned */
	size_t			 nkeys, capkeys;
	struct dkey		 stack[64];	/* no malloc for most texts */
};

/* An object being read: where its keys start in d->keys and keytext. */
struct objit {
	size_t	keybase, textbase;
	size_t	members;
};

/* util_jscan_fail on d's scan: -1. */
static int
fail(struct dec *d, size_t at, const char *why)
{
	return util_jscan_fail(&d->sc, at, why);
}

static int
peek(const struct dec *d)
{
	return d->sc.pos < d->sc.len ? d->sc.s[d->sc.pos] : -1;
}

/* ---- objects ------------------------------------------------------------ */

static void
obj_open(struct dec *d, struct objit *it)
{
	d->sc.pos++;
	it->keybase = d->nkeys;
	it->textbase = d->keytext.len;
	it->members = 0;
}

static void
note_key(struct dec *d, const char *k, size_t n, size_t at)
{
	struct dkey *e;

	if (d->nkeys == d->capkeys) {
		/* off the stack on the first growth (see cluster_decode) */
		if (d->keys == d->stack) {
			d->keys = xmalloc(2 * d->capkeys * sizeof *d->keys);
			memcpy(d->keys, d->stack, sizeof d->stack);
			d->capkeys *= 2;
		} else
			xgrow(&d->keys, &d->capkeys, d->nkeys + 1,
			    sizeof *d->keys);
	}
	e = &d->keys[d->nkeys++];
	e->hash = util_hash(k, n, UTIL_HASH_SEED);
	e->len = n;
	e->at = at;
	if ((e->decoded = d->sc.escaped)) {
		e->off = d->keytext.len;
		buf_add(&d->keytext, k, n);
	} else
		e->off = (size_t)((const unsigned char *)k - d->sc.s);
}

static int
dkey_cmp(const void *a, const void *b)
{
	const struct dkey *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->p, y->p, x->len);
}

/* The object's keys checked for duplicates (when asked), then dropped. */
static int
obj_close(struct dec *d, struct objit *it)
{
	struct dkey *k = d->keys + it->keybase;
	size_t n = d->nkeys - it->keybase, i, j;

	for (i = 0; i < n; i++)
		k[i].p = k[i].decoded ? d->keytext.data + k[i].off :
		    (const char *)d->sc.s + k[i].off;
	if (n > 16)
		qsort(k, n, sizeof *k, dkey_cmp);
	for (i = 0; i + 1 < n; i++)
		for (j = i + 1; j < (n > 16 ? i + 2 : n); j++)
			if (dkey_cmp(&k[i], &k[j]) == 0)
				return fail(d, k[i].at > k[j].at ? k[i].at :
				    k[j].at, "duplicate object key");
	d->nkeys = it->keybase;
	d->keytext.len = it->textbase;
	return 0;
}

/*
 * The object's next member (util_jscan_member), its key noted for
 * JSON_REJECT_DUPLICATES: 1 with its key in *k, *n (in the text, or in
 * d->sc.str: valid until the next string) and d->sc.pos at its value; 0
 * when the object ended; -1.
 */
static int
obj_next(struct dec *d, struct objit *it, const char **k, size_t *n)
{
	int r = util_jscan_member(&d->sc, it->members, k, n);

	if (r == 0)
		return obj_close(d, it);
	if (r == 1) {
		if (d->sc.flags & JSON_REJECT_DUPLICATES)
			note_key(d, *k, *n, d->sc.key_at);
		it->members++;
	}
	return r;
}

/*
 * The key obj_next just gave, kept past the member's value: NULL when it
 * lies in the text, else an owned copy of its decoded bytes.
 */
static char *
key_copy(const struct dec *d, const char *k, size_t n)
{
	return d->sc.escaped ? xstrndup(k, n) : NULL;
}

/* ---- values skipped, values built ---------------------------------------- */

static int
skip_value(struct dec *d)
{
	struct objit it;
	const char *k;
	size_t n, i;
	int r = 0;

	if (util_jscan_enter(&d->sc) == -1)
		return -1;
	switch (peek(d)) {
	case '{':
		obj_open(d, &it);
		while ((r = obj_next(d, &it, &k, &n)) == 1)
			if (skip_value(d) == -1)
				return -1;
		break;
	case '[':
		d->sc.pos++;
		for (i = 0; (r = util_jscan_element(&d->sc, i)) == 1; i++)
			if (skip_value(d) == -1)
				return -1;
		break;
	case '"':
		r = util_jscan_string(&d->sc, NULL, NULL);
		break;
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		r = util_jscan_number(&d->sc, NULL);
		break;
	default:
		r = util_jscan_literal(&d->sc, NULL);
		break;
	}
	d->sc.depth--;
	return r < 0 ? -1 : 0;
}

/* o with its keys in JSON_SORT_KEYS order (its values shared); o taken. */
static json_t *
sort_members(json_t *o)
{
	json_t *s = cl_sorted_members(o, 0);

	json_decref(o);
	return s;
}

static int
is_sorted(json_t *o)
{
	const char *pk = NULL, *k;
	size_t pn = 0, n;
	void *it;

	for (it = json_object_iter(o); it; it = json_object_iter_next(o,
	    it)) {
		k = json_object_iter_key(it);
		n = json_object_iter_key_len(it);
		if (pk && cl_key_cmp(pk, pn, k, n) > 0)
			return 0;
		pk = k;
		pn = n;
	}
	return 1;
}

static int add_member(struct dec *, json_t *, const char *, size_t, int,
    const char *const *);

/*
 * The value at the scan whole, every object's keys sorted as the view
 * keeps a leaf (labels, resources): a new reference, or NULL.
 */
static json_t *
build_sorted(struct dec *d)
{
	json_t *v = util_jscan_value(&d->sc), *sorted;

	if (v == NULL || (!json_is_object(v) && !json_is_array(v)))
		return v;
	sorted = cl_sorted_copy(v);
	json_decref(v);
	return sorted;
}

static int env_value(struct dec *, const char *const *, json_t **);

/*
 * The member obj_next just gave (key k, n) added to o: its value built
 * whole (keys sorted when sort is set), or with path the envelope's way
 * (env_value).  0, or -1 with o unchanged.
 */
static int
add_member(struct dec *d, json_t *o, const char *k, size_t n, int sort,
    const char *const *path)
{
	char *kc = key_copy(d, k, n);
	json_t *v = NULL;
	int r;

	if (path) {
		d->projected = 0;	/* the last of the key's members
					   decides */
		r = env_value(d, path, &v);
	} else
		r = (v = sort ? build_sorted(d) : util_jscan_value(&d->sc)) ?
		    0 : -1;
	if (r == 0)
		json_object_setn_new_nocheck(o, kc ? kc : k, n, v);
	free(kc);
	return r;
}

/* ---- the projection ------------------------------------------------------ */

static int proj_field(struct dec *, const struct cl_field *, json_t **);

static const struct cl_field *
child(const struct dec *d, const struct cl_field *f, const char *k, size_t n)
{
	size_t i;

	for (i = 0; i < f->nchildren; i++)
		if (strncmp(f->children[i].key, k, n) == 0 &&
		    f->children[i].key[n] == '\0')
			return (f->children[i].flags & CL_WATCH) &&
			    !(d->o->keep & CLUSTER_DECODE_RESOURCE_VERSION) ?
			    NULL : &f->children[i];
	return NULL;
}

/* The object at d->sc.pos, as f's children keep it: *out new. */
static int
proj_members(struct dec *d, const struct cl_field *f, json_t **out)
{
	json_t *slot[CL_MAX_CHILDREN] = { NULL }, *x;
	const struct cl_field *c;
	struct objit it;
	const char *k;
	size_t n, i;
	int r;

	if (util_jscan_enter(&d->sc) == -1)
		return -1;
	obj_open(d, &it);
	while ((r = obj_next(d, &it, &k, &n)) == 1) {
		if ((c = child(d, f, k, n)) == NULL) {
			if (skip_value(d) == -1)
				break;
			continue;
		}
		if (proj_field(d, c, &x) == -1)
			break;
		/* the last of a key's members wins, as in jansson */
		i = (size_t)(c - f->children);
		d->templated |= x && (c->flags & CL_TEMPLATE_KINDS);
		json_decref(slot[i]);
		slot[i] = x;
	}
	if (r != 0) {
		for (i = 0; i < f->nchildren; i++)
			json_decref(slot[i]);
		return -1;
	}
	*out = json_object();
	for (i = 0; i < f->nchildren; i++) {
		/* a member kept even when absent (metadata) */
		if (slot[i] == NULL && f->children[i].keep == CL_OBJECT &&
		    f->children[i].when == CL_ALWAYS)
			slot[i] = cl_project_field(&f->children[i], NULL, NULL);
		if (slot[i])
			json_object_set_new_nocheck(*out, f->children[i].key,
			    slot[i]);
	}
	d->sc.depth--;
	return 0;
}

/* The array at d->sc.pos, each element as f's children keep it. */
static int
proj_array(struct dec *d, const struct cl_field *f, json_t **out)
{
	json_t *a, *x;
	size_t i;
	int r;

	if (util_jscan_enter(&d->sc) == -1)
		return -1;
	d->sc.pos++;
	a = json_array();
	for (i = 0; (r = util_jscan_element(&d->sc, i)) == 1; i++) {
		if (peek(d) != '{') {
			/* as cluster_project: what f keeps of nothing */
			if (skip_value(d) == -1)
				break;
			x = cl_project_members(f, NULL, NULL);
		} else if (proj_members(d, f, &x) == -1)
			break;
		json_array_append_new(a, x);
	}
	if (r != 0) {
		json_decref(a);
		return -1;
	}
	*out = a;
	d->sc.depth--;
	return 0;
}

static int
proj_annotations(struct dec *d, json_t **out)
{
	json_t *a = json_object();
	struct objit it;
	const char *k;
	size_t n;
	int r;

	if (util_jscan_enter(&d->sc) == -1) {
		json_decref(a);
		return -1;
	}
	obj_open(d, &it);
	while ((r = obj_next(d, &it, &k, &n)) == 1) {
		if (!cl_kept_annotation(k, n)) {
			if (skip_value(d) == -1)
				break;
			continue;
		}
		if (add_member(d, a, k, n, 1, NULL) == -1)
			break;
	}
	if (r != 0) {
		json_decref(a);
		return -1;
	}
	d->sc.depth--;
	if (json_object_size(a) == 0) {
		json_decref(a);
		*out = NULL;
	} else
		*out = is_sorted(a) ? a : sort_members(a);
	return 0;
}

/* The value at d->sc.pos as f keeps it: *out new, or NULL for nothing. */
static int
proj_field(struct dec *d, const struct cl_field *f, json_t **out)
{
	int want = f->keep == CL_ARRAY ? '[' : '{';

	*out = NULL;
	if (f->keep == CL_LEAF)
		return (*out = build_sorted(d)) ? 0 : -1;
	if (peek(d) != want) {
		/* not the type the field keeps: as cluster_project does */
		if (skip_value(d) == -1)
			return -1;
		*out = cl_project_field(f, NULL, NULL);
		return 0;
	}
	if (f->keep == CL_ANNOTATIONS)
		return proj_annotations(d, out);
	if (f->keep == CL_ARRAY)
		return proj_array(d, f, out);
	if (proj_members(d, f, out) == -1)
		return -1;
	if (f->when == CL_IF_KEPT && json_object_size(*out) == 0) {
		json_decref(*out);
		*out = NULL;
	}
	return 0;
}

/*
 * What only cl_template_kind's kinds keep, taken out of o (f's
 * projection) for another kind: the decoder learns the kind last.
 */
static void
trim_template(const struct cl_field *f, json_t *o)
{
	const struct cl_field *c;
	json_t *x, *e;
	size_t i, k;

	for (i = 0; i < f->nchildren; i++) {
		c = &f->children[i];
		if ((x = json_object_get(o, c->key)) == NULL ||
		    c->keep == CL_LEAF || c->keep == CL_ANNOTATIONS)
			continue;
		if (c->flags & CL_TEMPLATE_KINDS) {
			json_object_del(o, c->key);
			continue;
		}
		if (c->keep == CL_ARRAY) {
			json_array_foreach(x, k, e)
				trim_template(c, e);
			continue;
		}
		trim_template(c, x);
		if (c->when == CL_IF_KEPT && json_object_size(x) == 0)
			json_object_del(o, c->key);
	}
}

static int
wants_whole(struct dec *d, const char *kind)
{
	return !cluster_compact_kind(kind) ||
	    (d->o->whole && d->o->whole(d->o->ctx, kind));
}

/* The object to project, at d->sc.pos. */
static int
proj_root(struct dec *d, json_t **out)
{
	size_t start = d->sc.pos, end, nuls;
	const char *kind;
	json_t *o;

	d->projected = 0;
	d->templated = 0;
	if (peek(d) != '{')
		return (*out = util_jscan_value(&d->sc)) ? 0 : -1;
	if (proj_members(d, &cl_projection, &o) == -1)
		return -1;
	if ((kind = json_string_value(json_object_get(o, "kind"))) == NULL &&
	    json_object_get(o, "kind") == NULL)
		kind = d->o->kind;	/* a list's item */
	if (wants_whole(d, kind)) {
		json_decref(o);
		/* read again, whole: checked already, it cannot fail (the
		   NULs skipped are those of the first read) */
		end = d->sc.pos;
		nuls = d->sc.nul_skipped;
		d->sc.pos = start;
		if ((o = util_jscan_value(&d->sc)) == NULL ||
		    d->sc.pos != end) {
			json_decref(o);
			return fail(d, start, "internal error: a second read "
			    "differs");
		}
		d->sc.nul_skipped = nuls;
	} else {
		if (d->templated && !cl_template_kind(kind))
			trim_template(&cl_projection, o);
		d->projected = 1;
	}
	*out = o;
	return 0;
}

/* The value at d->sc.pos; path names the member to project under it. */
static int
env_value(struct dec *d, const char *const *path, json_t **out)
{
	json_t *o;
	struct objit it;
	const char *k;
	size_t n;
	int r;

	if (path == NULL || *path == NULL)
		return proj_root(d, out);
	if (peek(d) != '{')
		return (*out = util_jscan_value(&d->sc)) ? 0 : -1;
	if (util_jscan_enter(&d->sc) == -1)
		return -1;
	o = json_object();
	obj_open(d, &it);
	while ((r = obj_next(d, &it, &k, &n)) == 1) {
		if (add_member(d, o, k, n, 0, strncmp(*path, k, n) == 0 &&
		    (*path)[n] == '\0' ? path + 1 : NULL) == -1) {
			r = -1;
			break;
		}
	}
	if (r != 0) {
		json_decref(o);
		return -1;
	}
	d->sc.depth--;
	*out = o;
	return 0;
}

static void
where(const struct dec *d, struct cluster_decode_result *res)
{
	size_t i, bol = 0;

	res->offset = d->sc.errpos;
	res->line = 1;
	for (i = 0; i < d->sc.errpos && i < d->sc.len; i++)
		if (d->sc.s[i] == '\n') {
			res->line++;
			bol = i + 1;
		}
	res->column = d->sc.errpos - bol + 1;
	res->reason = d->sc.why;
}

json_t *
cluster_decode(const char *text, size_t len,
    const struct cluster_decode_opts *o, struct cluster_decode_result *res)
{
	static const struct cluster_decode_opts none;
	struct dec d;
	json_t *v = NULL;
	size_t end = 0;
	int c;

	memset(&d, 0, sizeof d);
	d.o = o ? o : &none;
	util_jscan_init(&d.sc, text, len, d.o->flags);
	d.keys = d.stack;
	d.capkeys = UTIL_ARRAY_LEN(d.stack);
	buf_init(&d.keytext, 0);
	util_jscan_ws(&d.sc);
	c = peek(&d);
	if (d.sc.flags & ~(size_t)(JSON_REJECT_DUPLICATES | JSON_DECODE_ANY |
	    JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL))
		util_jscan_fail(&d.sc, 0, "a flag the decoder does not "
		    "support");
	else if (c == -1)
		util_jscan_fail(&d.sc, d.sc.pos, "premature end of input");
	else if (!(d.sc.flags & JSON_DECODE_ANY) && c != '{' && c != '[')
		util_jscan_fail(&d.sc, d.sc.pos, "'[' or '{' expected");
	else if (env_value(&d, d.o->path, &v) == 0) {
		/* jansson's position: a NUL its quirk skipped is not counted
		   (util_jlist advances by it, as by json_loadb's) */
		end = d.sc.pos - d.sc.nul_skipped;
		util_jscan_ws(&d.sc);
		if (d.sc.pos < d.sc.len &&
		    !(d.sc.flags & JSON_DISABLE_EOF_CHECK))
			util_jscan_fail(&d.sc, d.sc.pos, "end of input "
			    "expected");
	}
	if (d.sc.why && v) {
		json_decref(v);
		v = NULL;
	}
	if (res) {
		memset(res, 0, sizeof *res);
		if (d.sc.why)
			where(&d, res);
		else {
			res->projected = d.projected;
			res->end = end;
		}
	}
	util_jscan_clear(&d.sc);
	buf_free(&d.keytext);
	if (d.keys != d.stack)
		free(d.keys);
	return v;
}
