/*
 * libFuzzer target for util_json_loadb, the fast JSON reader (jsonr.c),
 * against jansson's json_loadb: an input is one byte choosing the flags,
 * then the text.  Both must give the same tree (same dump: key order,
 * number types) and the same position, or both refuse it with the same
 * error.  Anything else aborts: a disagreement is a bug, as is a crash,
 * a sanitizer report or a leak.
 *
 * Run it with fuzz/run util [SECONDS]; the ordinary test run replays the
 * corpus in fuzz/corpus/util (fuzz/replay.c), built by
 * fuzz/make-json-corpus.py.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const size_t flag_sets[] = {
	0, JSON_DECODE_ANY, JSON_REJECT_DUPLICATES,
	JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, JSON_ALLOW_NUL,
	JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL,
	JSON_DISABLE_EOF_CHECK, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
};

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	json_error_t e1, e2;
	size_t flags;
	const char *text;
	char *d1 = NULL, *d2 = NULL;
	json_t *a, *b;
	int same;

	if (len == 0)
		return 0;
	flags = flag_sets[buf[0] % (sizeof flag_sets / sizeof flag_sets[0])];
	text = (const char *)buf + 1;
	a = util_json_loadb(text, len - 1, flags, &e1);
	b = json_loadb(text, len - 1, flags, &e2);
	same = (a == NULL) == (b == NULL);
	if (same && a) {
		d1 = json_dumps(a, JSON_ENCODE_ANY | JSON_COMPACT);
		d2 = json_dumps(b, JSON_ENCODE_ANY | JSON_COMPACT);
		same = d1 && d2 && strcmp(d1, d2) == 0 && json_equal(a, b) &&
		    e1.position == e2.position;
	} else if (same)
		same = strcmp(e1.text, e2.text) == 0 && e1.line == e2.line &&
		    e1.column == e2.column && e1.position == e2.position;
	free(d1);
	free(d2);
	json_decref(a);
	json_decref(b);
	if (!same)
		abort();
	return 0;
}
