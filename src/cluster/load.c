/*
 * Loading a snapshot: YAML or JSON files of objects, `kind: List`s, and
 * the *List kinds `kubectl get -o json` prints, whose items carry no kind.
 *
 * Streamed, so a snapshot of a real cluster (hundreds of MB of JSON, a
 * jansson tree about ten times that) loads in little more memory than
 * the view it builds: a JSON file is mapped and read item by item
 * (util_jlist), each item parsed alone, put and freed before the next;
 * a YAML file document by document.  A YAML List written as one
 * document is still parsed whole.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "conf/conf.h"

struct load {
	struct cluster		*c;
	cluster_load_fn		*each;	/* NULL: keep objects whole */
	void			*ctx;
	struct diags		*dg;
	/* the JSON file being scanned, and where its current item starts */
	const char		*file;
	struct util_jlist	*scan;
	size_t			 at;
};

/* Where obj is: its node in a YAML document, or the JSON item's start. */
static struct loc
where(struct load *l, const struct mdoc *d, const json_t *obj)
{
	struct loc at = { l->file, 0, 0 };

	if (d != NULL)
		return conf_loc(d, obj);
	util_jlist_where(l->scan, l->at, &at.line, &at.col);
	return at;
}

/*
 * Puts obj, or the items of a List in it (each given its list's kind and
 * apiVersion when it has none).  src says where obj's own text lies for
 * the callback, NULL when it has none that parses back to obj.
 */
static void
put_one(struct load *l, const struct mdoc *d, json_t *obj,
    const struct cluster_src *src)
{
	const char *kind = obj_kind(obj);
	size_t len;
	int compact;

	if (kind && (strcmp(kind, "List") == 0 ||
	    ((len = strlen(kind)) > 4 && strcmp(kind + len - 4, "List") == 0 &&
	    json_is_array(json_object_get(obj, "items"))))) {
		json_t *items = json_object_get(obj, "items"), *it;
		size_t i;

		json_array_foreach(items, i, it) {
			util_jlist_restore(it, obj);
			put_one(l, d, it, NULL);
		}
		return;
	}
	if (!json_is_object(obj)) {
		diag_error(l->dg, where(l, d, obj), "expected an object");
		return;
	}
	compact = l->each && kind && strcmp(kind, "Pod") == 0;
	if ((compact ? cluster_put(l->c, obj, NULL) :
	    cluster_put_whole(l->c, obj, NULL)) == -1)
		diag_error(l->dg, where(l, d, obj),
		    "object has no kind or metadata.name");
	else if (compact)
		l->each(l->ctx, obj, src);
}

static void
put_doc(void *ctx, struct mdoc *d)
{
	if (!json_is_null(d->root))
		put_one(ctx, d, d->root, NULL);
	mdoc_free(d);
}

/* One value of a JSON file, or one item of a list in it. */
static void
put_item(void *ctx, json_t *item, const json_t *head, size_t off,
    size_t len)
{
	struct load *l = ctx;
	struct cluster_src src = { l->file, off, len };

	l->at = off;
	/* a null value is an empty document, as in YAML; a null item, bad */
	if (head != NULL || !json_is_null(item))
		put_one(l, NULL, item, l->scan->restored ? NULL : &src);
}

static void
put_json(void *ctx, const char *file, const struct util_mapped *m)
{
	struct load *l = ctx;
	struct util_jlist scan;
	struct loc at = { file, 0, 0 };
	json_t *head;
	int rc;

	util_jlist_init(&scan, m->text, m->len, JSON_REJECT_DUPLICATES);
	scan.mapped = m->mapped;
	l->file = file;
	l->scan = &scan;
	while ((rc = util_jlist_next(&scan, put_item, l, &head)) == 1)
		json_decref(head);
	/* the rest of a file after bad text cannot be told apart: the
	 * items before it are in, the next file goes on */
	if (rc == -1) {
		util_jlist_where(&scan, scan.err_off, &at.line, &at.col);
		diag_error(l->dg, at, "%s", scan.err);
	}
	l->file = NULL;
	l->scan = NULL;
}

int
cluster_load(struct cluster *c, const char *path, cluster_load_fn *each,
    void *ctx, struct diags *dg)
{
	struct load l = { c, each, ctx, dg, NULL, NULL, 0 };
	struct conf_stream s = { put_doc, put_json, &l };
	size_t before = dg->errors;

	if (conf_stream_documents(path, &s, dg) == -1 &&
	    dg->errors == before)
		diag_error(dg, (struct loc){ path, 0, 0 },
		    "cannot load cluster snapshot");
	return dg->errors > before ? -1 : 0;
}
