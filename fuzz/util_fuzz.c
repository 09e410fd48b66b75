/*
 * libFuzzer target for util_jlist, the scanner of a JSON list's items
 * (cluster snapshots, API list pages): any text gives values or an error
 * with a place inside the text, never a crash, a leak or a hang.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
item(void *ctx, json_t *it, const json_t *head, size_t off, size_t len)
{
	size_t *n = ctx;

	(void)it;
	(void)head;
	/* the item's text lies inside the scanned text */
	if (off + len < off || off + len > n[1])
		abort();
	n[0]++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	struct util_jlist l;
	size_t n[2] = { 0, len };
	json_t *head;
	int rc, line, col, pass;

	/* as the snapshot reads it, then as a list page */
	for (pass = 0; pass < 2; pass++) {
		util_jlist_init(&l, (const char *)buf, len, pass == 0 ?
		    JSON_REJECT_DUPLICATES : 0);
		while ((rc = util_jlist_next(&l, item, n, &head)) == 1)
			json_decref(head);
		if (rc == -1) {
			if (l.err_off > len || l.err[0] == '\0')
				abort();
			util_jlist_where(&l, l.err_off, &line, &col);
			if (line < 1 || col < 1)
				abort();
		}
	}
	return 0;
}
