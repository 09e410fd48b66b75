/*
 * Loading a snapshot: YAML or JSON files of objects, `kind: List`s, and
 * the *List kinds `kubectl get -o json` prints, whose items carry no kind.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "conf/conf.h"

struct load {
	struct cluster	*c;
	cluster_load_fn	*each;	/* NULL: keep objects whole */
	void		*ctx;
};

static void
put_one(struct load *l, const struct mdoc *d, json_t *obj,
    const char *kind_hint, struct diags *dg)
{
	const char *kind = obj_kind(obj);
	size_t len;
	int compact;

	if (kind && (strcmp(kind, "List") == 0 ||
	    ((len = strlen(kind)) > 4 && strcmp(kind + len - 4, "List") == 0 &&
	    json_is_array(json_object_get(obj, "items"))))) {
		char *item_kind = strcmp(kind, "List") == 0 ? NULL :
		    xstrndup(kind, strlen(kind) - 4);
		json_t *items = json_object_get(obj, "items"), *it;
		size_t i;

		json_array_foreach(items, i, it)
			put_one(l, d, it, item_kind, dg);
		free(item_kind);
		return;
	}
	if (!json_is_object(obj)) {
		diag_error(dg, conf_loc(d, obj), "expected an object");
		return;
	}
	if (kind == NULL && kind_hint)
		json_object_set_new(obj, "kind", json_string(kind_hint));
	kind = obj_kind(obj);
	compact = l->each && kind && strcmp(kind, "Pod") == 0;
	if ((compact ? cluster_put(l->c, obj, NULL) :
	    cluster_put_whole(l->c, obj, NULL)) == -1)
		diag_error(dg, conf_loc(d, obj),
		    "object has no kind or metadata.name");
	else if (compact)
		l->each(l->ctx, obj);
}

int
cluster_load(struct cluster *c, const char *path, cluster_load_fn *each,
    void *ctx, struct diags *dg)
{
	struct load l = { c, each, ctx };
	struct mdoc **docs = NULL;
	size_t ndocs = 0, i, before = dg->errors;

	if (conf_load_documents(path, &docs, &ndocs, dg) == -1 &&
	    dg->errors == before)
		diag_error(dg, (struct loc){ path, 0, 0 },
		    "cannot load cluster snapshot");
	for (i = 0; i < ndocs; i++) {
		if (!json_is_null(docs[i]->root))
			put_one(&l, docs[i], docs[i]->root, NULL, dg);
		mdoc_free(docs[i]);
	}
	free(docs);
	return dg->errors > before ? -1 : 0;
}
