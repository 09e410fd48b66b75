/*
 * The view's texts of a compact object written straight from the object:
 * what dumping the parts of its projection gives (cluster_project, then
 * the store's split into metadata, body and statuses), without building
 * the projection.  A watch line's Pod would otherwise become a tree of
 * some fifteen new objects only to be dumped and freed.
 *
 * The writer walks the same description the projection does
 * (cl_projection), so a field kept there is written here; the store's
 * split is three sets of rules on it, and cl_split_projection below the
 * same split on a projection's tree.  Values are written by
 * util_json_write: where it refuses one (outside ASCII, a NUL), the
 * caller takes the projection's way, so the two cannot differ.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_int.h"
#include "util/util.h"

#define DUMP_FLAGS	(JSON_COMPACT | JSON_SORT_KEYS)

/* Fields of cl_projection the split leaves out of a text, or adds to. */
static struct {
	const struct cl_field	*metadata, *status, *lists[2];
	const struct cl_field	*kind, *name, *ns, *uid, *restarts;
} fl;
static pthread_once_t	fl_once = PTHREAD_ONCE_INIT;

static const struct cl_field *
child(const struct cl_field *f, const char *key)
{
	size_t i;

	for (i = 0; i < f->nchildren; i++)
		if (strcmp(f->children[i].key, key) == 0)
			return &f->children[i];
	abort();	/* cl_projection lost a field this file names */
}

static void
find_fields(void)
{
	fl.metadata = child(&cl_projection, "metadata");
	fl.status = child(&cl_projection, "status");
	fl.lists[0] = child(fl.status, "containerStatuses");
	fl.lists[1] = child(fl.status, "initContainerStatuses");
	fl.kind = child(&cl_projection, "kind");
	fl.name = child(fl.metadata, "name");
	fl.ns = child(fl.metadata, "namespace");
	fl.uid = child(fl.metadata, "uid");
	/* initContainerStatuses' elements are the same fields */
	fl.restarts = child(fl.lists[0], "restartCount");
}

/* What a text leaves out, and the object it drops when left empty. */
struct rules {
	const struct cl_field	*omit[4];	/* NULL-padded */
	const struct cl_field	*if_kept;	/* NULL: none */
};

static int
omitted(const struct rules *r, const struct cl_field *f)
{
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(r->omit) && r->omit[i]; i++)
		if (r->omit[i] == f)
			return 1;
	return 0;
}

static void
cut(struct buf *b, size_t len)
{
	b->len = len;
	b->data[len] = '\0';
}

/* ,"key": onto b (the comma when not first) in one append. */
static void
put_key(struct buf *b, const char *key, int comma)
{
	char k[64];
	size_t n = strlen(key), o = 0;

	if (n > sizeof k - 4)	/* ours are short: cl_projection's */
		abort();
	if (comma)
		k[o++] = ',';
	k[o++] = '"';
	memcpy(k + o, key, n);	/* plain ASCII */
	o += n;
	k[o++] = '"';
	k[o++] = ':';
	buf_add(b, k, o);
}

static int	write_field(struct buf *, const struct cl_field *, json_t *,
		    const char *, const struct rules *);

/*
 * What f's children keep of v (anything: an object of nothing when not
 * an object), as an object onto b; *n its members.  -1: refused.
 */
static int
write_members(struct buf *b, const struct cl_field *f, json_t *v,
    const char *kind, const struct rules *r, size_t *n)
{
	size_t i, mark;
	int rc;

	*n = 0;
	buf_addc(b, '{');
	for (i = 0; i < f->nchildren; i++) {
		const struct cl_field *c = &f->children[i];
		json_t *x;

		if ((c->flags & CL_WATCH) || omitted(r, c))
			continue;
		/* absent: nothing kept (write_field's first test), no key */
		if ((x = json_object_get(v, c->key)) == NULL &&
		    c->when != CL_ALWAYS)
			continue;
		mark = b->len;
		put_key(b, c->key, *n > 0);
		if ((rc = write_field(b, c, x, kind, r)) == -1)
			return -1;
		if (rc == 0)
			cut(b, mark);
		else
			(*n)++;
	}
	buf_addc(b, '}');
	return 0;
}

/*
 * What f keeps of v (NULL: absent) onto b, as cl_project_field keeps
 * it: 1 written, 0 nothing kept (b may hold a part: the caller cuts it),
 * -1 refused.
 */
static int
write_field(struct buf *b, const struct cl_field *f, json_t *v,
    const char *kind, const struct rules *r)
{
	json_t *x;
	size_t i, n;
	int rc;

	if (v == NULL && f->when != CL_ALWAYS)
		return 0;
	switch (f->keep) {
	case CL_LEAF:
		if (v == NULL)
			return 0;
		return util_json_write(b, v, DUMP_FLAGS) == -1 ? -1 : 1;
	case CL_ANNOTATIONS:	/* few and rare: the projection's */
		if ((x = cl_project_field(f, v, kind)) == NULL)
			return 0;
		rc = util_json_write(b, x, DUMP_FLAGS) == -1 ? -1 : 1;
		json_decref(x);
		return rc;
	case CL_ARRAY:
		if (!json_is_array(v))
			return 0;
		buf_addc(b, '[');
		json_array_foreach(v, i, x) {
			if (i)
				buf_addc(b, ',');
			if (write_members(b, f, x, kind, r, &n) == -1)
				return -1;
		}
		buf_addc(b, ']');
		return 1;
	default:
		break;
	}
	if ((f->flags & CL_TEMPLATE_KINDS) && !cl_template_kind(kind))
		return 0;
	if (!json_is_object(v) && f->when != CL_ALWAYS)
		return 0;
	if (write_members(b, f, v, kind, r, &n) == -1)
		return -1;
	return n > 0 || (f->when != CL_IF_KEPT && f != r->if_kept);
}

int
cl_write_texts(json_t *obj, const char *kind, struct buf t[CL_TEXTS])
{
	struct rules meta = { { NULL }, NULL }, body = meta, st = meta;
	json_t *status = json_object_get(obj, "status");
	size_t i, mark, n = 0;
	int rc;

	pthread_once(&fl_once, find_fields);
	for (i = 0; i < CL_TEXTS; i++)
		buf_reset(&t[i]);
	/* the identity is the record's */
	meta.omit[0] = fl.name;
	meta.omit[1] = fl.ns;
	meta.omit[2] = fl.uid;
	if (write_field(&t[CL_META], fl.metadata, json_object_get(obj,
	    "metadata"), kind, &meta) == -1)
		return -1;
	/* the container statuses are a text of their own */
	body.omit[0] = fl.kind;
	body.omit[1] = fl.metadata;
	body.omit[2] = fl.lists[0];
	body.omit[3] = fl.lists[1];
	body.if_kept = fl.status;
	if (write_field(&t[CL_BODY], &cl_projection, obj, kind, &body) == -1)
		return -1;
	/* ... without restartCount: see store.c's compact() */
	st.omit[0] = fl.restarts;
	buf_addc(&t[CL_STATUS], '{');
	for (i = 0; i < 2; i++) {
		mark = t[CL_STATUS].len;
		put_key(&t[CL_STATUS], fl.lists[i]->key, n > 0);
		if ((rc = write_field(&t[CL_STATUS], fl.lists[i],
		    json_is_object(status) ? json_object_get(status,
		    fl.lists[i]->key) : NULL, kind, &st)) == -1)
			return -1;
		if (rc == 0)
			cut(&t[CL_STATUS], mark);
		else
			n++;
	}
	buf_addc(&t[CL_STATUS], '}');
	return 0;
}

void
cl_split_projection(json_t *p, json_t **meta, json_t **statuses)
{
	static const char *const lists[] = { "containerStatuses",
	    "initContainerStatuses" };
	json_t *st = json_object_get(p, "status"), *arr, *cs;
	size_t i, j;

	*statuses = json_object();
	*meta = json_incref(json_object_get(p, "metadata"));
	json_object_del(p, "kind");
	json_object_del(p, "metadata");
	json_object_del(*meta, "name");
	json_object_del(*meta, "namespace");
	json_object_del(*meta, "uid");
	for (j = 0; j < 2; j++) {
		if ((arr = json_object_get(st, lists[j])) == NULL)
			continue;
		json_array_foreach(arr, i, cs)
			json_object_del(cs, "restartCount");
		json_object_set(*statuses, lists[j], arr);
		json_object_del(st, lists[j]);
	}
	if (st && json_object_size(st) == 0)
		json_object_del(p, "status");
}

/*
 * Joining the texts back (cl_join_texts).  They are our own compact
 * dumps, so a member is found by skipping values, not by parsing them:
 * a string to its closing quote, an object or array to its bracket, a
 * scalar to the next ',', '}' or ']'.  A text that does not scan so
 * (never written by us) is refused, and the caller dumps the tree.
 */
#define BAD	((size_t)-1)

static size_t
skip_string(const char *s, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return BAD;
}

static size_t
skip_value(const char *s, size_t n, size_t i)
{
	size_t depth = 0;

	if (i >= n)
		return BAD;
	if (s[i] != '{' && s[i] != '[' && s[i] != '"') {
		size_t at = i;

		while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']')
			i++;
		return i > at ? i : BAD;	/* "a":} is no member */
	}
	do {
		if (i >= n)
			return BAD;
		if (s[i] == '"') {
			if ((i = skip_string(s, n, i)) == BAD)
				return BAD;
			continue;
		}
		if (s[i] == '{' || s[i] == '[')
			depth++;
		else if (s[i] == '}' || s[i] == ']')
			depth--;
		i++;
	} while (depth > 0);
	return i;
}

/* An object text's members in turn: ms->i just past its '{'. */
struct members {
	const char	*s;
	size_t		 n, i, count;
	size_t		 key, key_end, end;	/* the member: "key":value */
};

static int
members_open(struct members *ms, const char *s, size_t n)
{
	ms->s = s;
	ms->n = n;
	ms->i = 1;
	ms->count = 0;
	return n >= 2 && s[0] == '{' && s[n - 1] == '}' ? 0 : -1;
}

/* 1: the next member, 0: none left (the text ends there), -1: no scan. */
static int
member_next(struct members *ms)
{
	const char *s = ms->s;
	size_t i = ms->i;

	if (i < ms->n && s[i] == '}')
		return i + 1 == ms->n ? 0 : -1;
	if (ms->count > 0 && (i >= ms->n || s[i++] != ','))
		return -1;
	if (i >= ms->n || s[i] != '"')
		return -1;
	ms->key = i;
	if ((i = skip_string(s, ms->n, i)) == BAD || i >= ms->n ||
	    s[i] != ':')
		return -1;
	ms->key_end = i;
	if ((i = skip_value(s, ms->n, i + 1)) == BAD)
		return -1;
	ms->end = ms->i = i;
	ms->count++;
	return 1;
}

/* Whether the member's key is k (k as the text writes it, quoted). */
static int
key_is(const struct members *ms, const char *k)
{
	size_t n = strlen(k);

	return ms->key_end - ms->key == n && memcmp(ms->s + ms->key, k,
	    n) == 0;
}

static int
key_in(const struct members *ms, const char *const *keys)
{
	for (; *keys; keys++)
		if (key_is(ms, *keys))
			return 1;
	return 0;
}

/* The member whole ("key":value) onto out, a ',' first unless *first. */
static void
put_member(struct buf *out, const struct members *ms, int *first)
{
	if (!*first)
		buf_addc(out, ',');
	*first = 0;
	buf_add(out, ms->s + ms->key, ms->end - ms->key);
}

/* "key":"value" onto out (value ASCII: the caller checked). */
static void
put_pair(struct buf *out, const char *key, const char *value, int *first)
{
	if (!*first)
		buf_addc(out, ',');
	*first = 0;
	util_json_str(out, key);
	buf_addc(out, ':');
	util_json_str(out, value);
}

/*
 * The status object: body's status members (its value, an object), then
 * the statuses text's.  A key in both would be one member in the
 * object; the texts never split so, and then -1.
 */
static int
put_status(struct buf *out, const char *v, size_t vn, const char *st,
    size_t sn)
{
	struct members a, b;
	int first = 1, rc, rb;

	if (members_open(&a, v, vn) == -1 || members_open(&b, st, sn) == -1)
		return -1;
	buf_adds(out, "\"status\":{");
	while ((rc = member_next(&a)) == 1) {
		(void)members_open(&b, st, sn);	/* from its first again */
		while ((rb = member_next(&b)) == 1)
			if (a.key_end - a.key == b.key_end - b.key &&
			    memcmp(v + a.key, st + b.key, a.key_end -
			    a.key) == 0)
				return -1;
		if (rb == -1)
			return -1;
		put_member(out, &a, &first);
	}
	if (rc == -1)
		return -1;
	(void)members_open(&b, st, sn);
	while ((rc = member_next(&b)) == 1)
		put_member(out, &b, &first);
	if (rc == -1)
		return -1;
	buf_addc(out, '}');
	return 0;
}

int
cl_join_texts(struct buf *out, const struct cl_join *j)
{
	static const char *const identity[] = { "\"name\"", "\"namespace\"",
	    "\"uid\"", NULL };
	static const char *const joined[] = { "\"kind\"", "\"metadata\"",
	    NULL };
	struct members b, m;
	int first = 1, status_done = j->status == NULL, rc;

	if (!util_json_plain(j->kind) || !util_json_plain(j->name) ||
	    !util_json_plain(j->ns) || !util_json_plain(j->uid))
		return -1;
	if (members_open(&b, j->body, j->body_len) == -1 ||
	    members_open(&m, j->meta, j->meta_len) == -1)
		return -1;
	buf_addc(out, '{');
	while ((rc = member_next(&b)) == 1) {
		if (key_in(&b, joined))
			return -1;	/* the record's: never in a body */
		if (j->status == NULL || !key_is(&b, "\"status\"")) {
			put_member(out, &b, &first);
			continue;
		}
		if (!first)
			buf_addc(out, ',');
		first = 0;
		if (put_status(out, j->body + b.key_end + 1, b.end -
		    b.key_end - 1, j->status, j->status_len) == -1)
			return -1;
		status_done = 1;
	}
	if (rc == -1)
		return -1;
	put_pair(out, "kind", j->kind, &first);
	buf_adds(out, ",\"metadata\":{");
	first = 1;
	while ((rc = member_next(&m)) == 1) {
		if (key_in(&m, identity))
			return -1;
		put_member(out, &m, &first);
	}
	if (rc == -1)
		return -1;
	put_pair(out, "name", j->name, &first);
	if (j->ns)
		put_pair(out, "namespace", j->ns, &first);
	if (j->uid)
		put_pair(out, "uid", j->uid, &first);
	buf_addc(out, '}');
	if (!status_done) {	/* materialize adds it last */
		buf_addc(out, ',');
		if (put_status(out, "{}", 2, j->status, j->status_len) == -1)
			return -1;
	}
	buf_addc(out, '}');
	return 0;
}
