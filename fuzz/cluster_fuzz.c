/*
 * libFuzzer target for reading a cluster snapshot's text: util_jlist, the
 * scanner of a JSON list's items (snapshots, API list pages), and each
 * value put into a view as cluster_load puts it (Pods compact, the rest
 * whole).  Any text gives objects or an error with a place inside the
 * text, never a crash, a leak or a hang.
 *
 * Run it with fuzz/run cluster [SECONDS]; the ordinary test run replays
 * the corpus in fuzz/corpus/cluster (fuzz/replay.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct ctx {
	struct cluster	*c;
	size_t		 len;		/* of the text */
};

static void
item(void *p, json_t *it, const json_t *head, size_t off, size_t len)
{
	struct ctx *x = p;
	const char *kind = obj_kind(it);

	(void)head;
	/* the item's text lies inside the scanned text */
	if (off + len < off || off + len > x->len)
		abort();
	if (kind && strcmp(kind, "Pod") == 0)
		(void)cluster_put(x->c, it, NULL);
	else if (json_is_object(it))
		(void)cluster_put_whole(x->c, it, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	struct ctx x = { cluster_new(), len };
	struct util_jlist l;
	json_t *head;
	int rc, line, col, pass;

	/* as the snapshot reads it, then as a list page */
	for (pass = 0; pass < 2; pass++) {
		util_jlist_init(&l, (const char *)buf, len, pass == 0 ?
		    JSON_REJECT_DUPLICATES : 0);
		while ((rc = util_jlist_next(&l, item, &x, &head)) == 1)
			json_decref(head);
		if (rc == -1) {
			if (l.err_off > len || l.err[0] == '\0')
				abort();
			util_jlist_where(&l, l.err_off, &line, &col);
			if (line < 1 || col < 1)
				abort();
		}
	}
	cluster_free(x.c);
	return 0;
}
