/*
 * The items of a JSON list, one at a time: an API server's list page and
 * a cluster snapshot (`kubectl get -o json`, a file of hundreds of MB) are
 * one object whose "items" array holds nearly all the bytes.  Parsing it
 * whole costs a tree about ten times the text; here each item is parsed
 * alone (util_json_loadb, or the caller's read_item), handed on and freed
 * before the next, and the list's other members (kind, apiVersion,
 * metadata) are kept as a small head.
 *
 * "items" may come before "kind" (kubectl sorts the keys): then the array
 * is skipped by a bracket counter that knows strings, the rest of the
 * members read, and the array scanned again once the kind is known.  An
 * object that turns out to be no list is parsed again whole, from its
 * start, as one value.  Over a mapped file the pages behind the scan are
 * given back (MADV_DONTNEED), so a file read once costs little resident
 * memory however large.
 */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/util.h"

/* Bytes scanned between two releases of the pages behind a mapped scan. */
#define RELEASE_STEP	(8u << 20)

void
util_jlist_init(struct util_jlist *l, const char *text, size_t len,
    int flags)
{
	memset(l, 0, sizeof *l);
	l->p = text;
	l->n = len;
	l->flags = flags;
}

/* Records a failure of the scan's own (not jansson's) at offset off. */
static int
fail(struct util_jlist *l, size_t off, const char *what)
{
	l->err_off = off;
	snprintf(l->err, sizeof l->err, "%s", what);
	return -1;
}

static void
skip_ws(struct util_jlist *l)
{
	l->i = util_json_skip_ws(l->p, l->n, l->i);
}

/* The next byte after blanks, consumed when it is c. */
static int
eat(struct util_jlist *l, char c)
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
value(struct util_jlist *l)
{
	json_error_t je;
	json_t *v;

	skip_ws(l);
	v = util_json_loadb(l->p + l->i, l->n - l->i, l->flags |
	    JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL, &je);
	if (v == NULL) {
		l->err_off = l->i + (size_t)(je.position > 0 ?
		    je.position : 0);
		if (l->err_off > l->n)
			l->err_off = l->n;
		snprintf(l->err, sizeof l->err, "%s", je.text);
		return NULL;
	}
	l->i += (size_t)je.position;
	return v;
}

/* Gives the pages of a mapped text behind the scan back to the kernel. */
static void
release_behind(struct util_jlist *l, size_t upto)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), end;

	if (!l->mapped || upto < l->released + RELEASE_STEP)
		return;
	end = upto / page * page;
	/* the text is a private read-only mapping: its pages read again
	 * from the file if a later error message looks back */
	(void)madvise((char *)(uintptr_t)l->p + l->released,
	    end - l->released, MADV_DONTNEED);
	l->released = end;
}

/* 1 when kind names a list: "List" or a kind ending in "List". */
static int
list_kind(const char *kind)
{
	size_t n = kind ? strlen(kind) : 0;

	return n >= 4 && strcmp(kind + n - 4, "List") == 0;
}

int
util_jlist_restore(json_t *item, const json_t *head)
{
	const char *lk = json_string_value(json_object_get(head, "kind"));
	const char *av = json_string_value(json_object_get(head,
	    "apiVersion"));
	size_t n = lk ? strlen(lk) : 0;

	/* "List" holds any kind: its items must say theirs */
	int added = 0;

	if (!json_is_object(item) || n <= 4 || !list_kind(lk))
		return 0;
	if (json_object_get(item, "kind") == NULL) {
		json_object_set_new(item, "kind", json_stringn(lk, n - 4));
		added = 1;
	}
	if (av && json_object_get(item, "apiVersion") == NULL) {
		json_object_set_new(item, "apiVersion", json_string(av));
		added = 1;
	}
	return added;
}

/*
 * Skips the value at the scan position (an array or object) without
 * parsing it: brackets counted, strings stepped over.  Returns 0, or -1
 * when the text ends first (the real scan reports where it is bad).
 */
static int
skip_fast(struct util_jlist *l)
{
	size_t depth = 0;
	int instr = 0;
	char c;

	for (; l->i < l->n; l->i++) {
		c = l->p[l->i];
		if (instr) {
			if (c == '\\')
				l->i++;
			else if (c == '"')
				instr = 0;
		} else if (c == '"')
			instr = 1;
		else if (c == '[' || c == '{')
			depth++;
		else if ((c == ']' || c == '}') && --depth == 0) {
			l->i++;
			return 0;
		}
		if ((l->i & 0xfffff) == 0)
			release_behind(l, l->i);
	}
	return -1;
}

/* An item through the caller's read_item (new reference), or NULL. */
static json_t *
read_item(struct util_jlist *l, const json_t *head)
{
	const char *lk = json_string_value(json_object_get(head, "kind"));
	const char *why = NULL;
	char kind[128];
	size_t n = lk ? strlen(lk) : 0, end = 0;
	json_t *v;

	kind[0] = '\0';
	if (list_kind(lk) && n - 4 < sizeof kind) {
		memcpy(kind, lk, n - 4);
		kind[n - 4] = '\0';
	}
	v = l->read_item(l->read_ctx, l->p + l->i, l->n - l->i,
	    kind[0] ? kind : NULL, &end, &why);
	if (v == NULL) {
		fail(l, l->i, why ? why : "not JSON");
		return NULL;
	}
	l->i += end;
	/* cppcheck-suppress returnDanglingLifetime ; the hook's new tree */
	return v;
}

/* The items array at the scan position, each to fn; 0, or -1 when bad. */
static int
scan_items(struct util_jlist *l, const json_t *head, util_jlist_fn *fn,
    void *ctx)
{
	json_t *it;
	size_t start;

	skip_ws(l);
	if (l->n - l->i >= 4 && memcmp(l->p + l->i, "null", 4) == 0) {
		l->i += 4;	/* "items": null, as an empty list */
		return 0;
	}
	if (!eat(l, '['))
		return fail(l, l->i, "\"items\" must be an array");
	if (eat(l, ']'))
		return 0;
	do {
		skip_ws(l);
		start = l->i;
		if ((it = l->read_item ? read_item(l, head) : value(l)) ==
		    NULL)
			return -1;
		l->restored = util_jlist_restore(it, head);
		fn(ctx, it, head, start, l->i - start);
		json_decref(it);
		l->items++;
		release_behind(l, start);
	} while (eat(l, ','));
	return eat(l, ']') ? 0 : fail(l, l->i, "expected ',' or ']' "
	    "after an item");
}

/*
 * The members of the object at the scan position: "items" of a list
 * streamed to fn, the rest into head.  Sets *listed when the items were
 * streamed; leaves *items_at nonzero when they were skipped, kind unknown.
 */
static int
scan_members(struct util_jlist *l, json_t *head, util_jlist_fn *fn,
    void *ctx, int *listed, size_t *items_at)
{
	json_t *k, *v;
	const char *key;
	int rc;

	if (eat(l, '}'))
		return 0;
	do {
		skip_ws(l);
		if (l->i >= l->n || l->p[l->i] != '"')
			return fail(l, l->i, "expected a string as a key");
		if ((k = value(l)) == NULL)
			return -1;
		key = json_string_value(k);
		if (!eat(l, ':')) {
			json_decref(k);
			return fail(l, l->i, "expected ':' after a key");
		}
		if ((strcmp(key, "items") == 0 && (*listed || *items_at)) ||
		    ((l->flags & JSON_REJECT_DUPLICATES) &&
		    json_object_get(head, key) != NULL)) {
			json_decref(k);
			return fail(l, l->i, "duplicate object key");
		}
		rc = 0;
		if (strcmp(key, "items") == 0 && json_object_get(head,
		    "kind") == NULL) {
			skip_ws(l);
			*items_at = l->i;
			if (skip_fast(l) == -1)
				rc = fail(l, *items_at, "the list's items "
				    "do not end");
		} else if (strcmp(key, "items") == 0 && list_kind(
		    json_string_value(json_object_get(head, "kind")))) {
			*listed = 1;
			rc = scan_items(l, head, fn, ctx);
		} else if ((v = value(l)) != NULL)
			json_object_set_new(head, key, v);
		else
			rc = -1;
		json_decref(k);
		if (rc == -1)
			return -1;
	} while (eat(l, ','));
	return eat(l, '}') ? 0 : fail(l, l->i, "expected ',' or '}'");
}

/* The value at start again, whole, to fn: an object that is no list. */
static int
whole(struct util_jlist *l, size_t start, util_jlist_fn *fn, void *ctx)
{
	json_t *v;

	l->i = start;
	if ((v = value(l)) == NULL)
		return -1;
	l->restored = 0;
	fn(ctx, v, NULL, start, l->i - start);
	json_decref(v);
	return 1;
}

int
util_jlist_next(struct util_jlist *l, util_jlist_fn *fn, void *ctx,
    json_t **headp)
{
	json_t *head;
	size_t start, items_at = 0, end;
	int listed = 0;

	*headp = NULL;
	l->list = 0;
	l->items = 0;
	skip_ws(l);
	if (l->i >= l->n)
		return 0;
	start = l->i;
	if (!eat(l, '{'))
		return whole(l, start, fn, ctx);
	head = json_object();
	if (scan_members(l, head, fn, ctx, &listed, &items_at) == -1)
		goto bad;
	if (items_at && list_kind(json_string_value(json_object_get(head,
	    "kind")))) {
		end = l->i;
		l->i = items_at;
		if (l->released > items_at)	/* given back by the skip */
			l->released = items_at - items_at %
			    (size_t)sysconf(_SC_PAGESIZE);
		listed = 1;
		if (scan_items(l, head, fn, ctx) == -1)
			goto bad;
		l->i = end;
	}
	if (!listed) {
		json_decref(head);
		return whole(l, start, fn, ctx);
	}
	l->list = 1;
	*headp = head;
	return 1;
bad:
	json_decref(head);
	return -1;
}

void
util_jlist_where(struct util_jlist *l, size_t off, int *line, int *col)
{
	if (off > l->n)
		off = l->n;
	/* counted on from the last answer: items come in order */
	if (off < l->where_off || l->where_line == 0) {
		l->where_off = l->where_bol = 0;
		l->where_line = 1;
	}
	for (; l->where_off < off; l->where_off++)
		if (l->p[l->where_off] == '\n') {
			l->where_line++;
			l->where_bol = l->where_off + 1;
		}
	*line = l->where_line;
	*col = (int)(off - l->where_bol) + 1;
}
