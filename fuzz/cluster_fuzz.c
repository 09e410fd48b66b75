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
#include "cluster/cluster_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct ctx {
	struct cluster	*c;
	size_t		 len;		/* of the text */
};

/*
 * The texts a put writes straight from an object are those of its
 * projection split (texts.c): abort when they differ.
 */
static void
check_texts(json_t *o, const char *kind)
{
	struct buf got[CL_TEXTS], want[CL_TEXTS];
	json_t *p, *m, *parts, *part[CL_TEXTS];
	size_t i;
	int wrote, dumped = 1;

	memset(got, 0, sizeof got);
	memset(want, 0, sizeof want);
	p = cluster_project(o);
	cl_split_projection(p, &m, &parts);
	part[CL_META] = m;
	part[CL_BODY] = p;
	part[CL_STATUS] = parts;
	/* refused by one (outside ASCII, a NUL), refused by the other */
	wrote = cl_write_texts(o, kind, got) == 0;
	for (i = 0; i < CL_TEXTS; i++)
		if (util_json_write(&want[i], part[i], JSON_COMPACT |
		    JSON_SORT_KEYS) == -1)
			dumped = 0;
	if (wrote != dumped)
		abort();
	for (i = 0; wrote && i < CL_TEXTS; i++)
		if (strcmp(got[i].data, want[i].data) != 0)
			abort();
	for (i = 0; i < CL_TEXTS; i++) {
		json_decref(part[i]);
		buf_free(&got[i]);
		buf_free(&want[i]);
	}
}

static void
item(void *p, json_t *it, const json_t *head, size_t off, size_t len)
{
	struct ctx *x = p;
	const char *kind = obj_kind(it);

	(void)head;
	/* the item's text lies inside the scanned text */
	if (off + len < off || off + len > x->len)
		abort();
	if (kind && strcmp(kind, "Pod") == 0) {
		check_texts(it, kind);
		(void)cluster_put(x->c, it, NULL);
	}
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
