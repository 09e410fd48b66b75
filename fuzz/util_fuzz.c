/*
 * libFuzzer target for util's JSON reader and writer and the small
 * printf-free formatters, each against what it must equal:
 *
 * util_json_loadb, the fast JSON reader (jsonr.c), against jansson's
 * json_loadb: an input is one byte choosing the flags, then the text.
 * Both must give the same tree (same dump: key order, number types) and
 * the same position, or both refuse it with the same error.
 *
 * util_json_dumps and util_json_write (jsonw.c) against json_dumps on
 * the tree read, compact, with sorted keys and with a real precision
 * taken from the first byte; util_json_copy against json_deep_copy.
 *
 * util_lines (buf.c) on the text as a file, once or repeated past its
 * 64 KiB read-ahead: the lines it hands out are the text cut after each
 * '\n', those longer than a bound from the first byte flagged and
 * empty, and its offset the bytes read.  buf_add_int, util_json_int and
 * util_hex64 against printf on the text's first 8 bytes.
 *
 * Anything else aborts: a disagreement is a bug, as is a crash, a
 * sanitizer report or a leak.  Run it with fuzz/run util [SECONDS]; the
 * ordinary test run replays the corpus in fuzz/corpus/util
 * (fuzz/replay.c), built by fuzz/make-json-corpus.py.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const size_t flag_sets[] = {
	0, JSON_DECODE_ANY, JSON_REJECT_DUPLICATES,
	JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, JSON_ALLOW_NUL,
	JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL,
	JSON_DISABLE_EOF_CHECK, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
};

/* The reader against jansson's; returns util's tree (or NULL). */
static json_t *
read_both(const char *text, size_t len, size_t flags)
{
	json_error_t e1, e2;
	char *d1 = NULL, *d2 = NULL;
	json_t *a, *b;
	int same;

	a = util_json_loadb(text, len, flags, &e1);
	b = json_loadb(text, len, flags, &e2);
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
	json_decref(b);
	if (!same)
		abort();
	return a;
}

/* util_json_dumps(v, flags) and a successful write are json_dumps'. */
static void
dump_both(json_t *v, size_t flags)
{
	char *d1 = util_json_dumps(v, flags), *d2 = json_dumps(v, flags);
	struct buf b;

	if ((d1 == NULL) != (d2 == NULL) || (d1 && strcmp(d1, d2) != 0))
		abort();
	buf_init(&b, 0);
	/* the writer writes a lone scalar; json_dumps wants ENCODE_ANY */
	if (util_json_write(&b, v, flags & ~(size_t)JSON_ENCODE_ANY) == 0 &&
	    (d2 == NULL ? (flags & JSON_ENCODE_ANY) || json_is_object(v) ||
	    json_is_array(v) : strcmp(b.data, d2) != 0))
		abort();
	buf_free(&b);
	free(d1);
	free(d2);
}

static void
write_all(json_t *v, unsigned sel)
{
	static const size_t dump_flags[] = { JSON_COMPACT,
	    JSON_COMPACT | JSON_SORT_KEYS, JSON_COMPACT | JSON_ENCODE_ANY,
	    JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY };
	json_t *c1, *c2;
	char *d1, *d2;
	size_t i;

	for (i = 0; i < sizeof dump_flags / sizeof dump_flags[0]; i++)
		dump_both(v, dump_flags[i]);
	dump_both(v, JSON_COMPACT | JSON_ENCODE_ANY |
	    JSON_REAL_PRECISION(sel % 18));
	c1 = util_json_copy(v);
	c2 = json_deep_copy(v);
	d1 = json_dumps(c1, JSON_ENCODE_ANY | JSON_COMPACT);
	d2 = json_dumps(c2, JSON_ENCODE_ANY | JSON_COMPACT);
	if (!json_equal(c1, c2) || (d1 == NULL) != (d2 == NULL) ||
	    (d1 && strcmp(d1, d2) != 0))
		abort();
	free(d1);
	free(d2);
	json_decref(c1);
	json_decref(c2);
}

/* The formatters against printf on the value of the first 8 bytes. */
static void
numbers(const uint8_t *p, size_t n)
{
	char want[32], hex[17], num[UTIL_INT_TEXT];
	struct buf b;
	int64_t v = 0;
	size_t k;

	memcpy(&v, p, n < 8 ? n : 8);
	if (n < 8 && n > 0)	/* small values too, and negative ones */
		v = (int64_t)(int8_t)p[0] * (int64_t)(n * 1000 + p[n - 1]);
	snprintf(want, sizeof want, "%" PRId64, v);
	buf_init(&b, 0);
	buf_adds(&b, "x");
	buf_add_int(&b, (long long)v);
	if (strcmp(b.data + 1, want) != 0)
		abort();
	buf_free(&b);
	k = util_json_int(num, (json_int_t)v);
	if (k != strlen(want) || memcmp(num, want, k) != 0)
		abort();
	snprintf(want, sizeof want, "%016" PRIx64, (uint64_t)v);
	util_hex64(hex, (uint64_t)v);
	if (strcmp(hex, want) != 0)
		abort();
}

/*
 * The text (len bytes) times copies as a file, read by util_lines with
 * lines of at most max bytes kept.
 */
static void
lines(const char *text, size_t len, size_t copies, size_t max)
{
	static FILE *f;
	struct util_lines r;
	struct buf b;
	size_t i, at = 0, total = len * copies, want;
	const char *nl;
	char *all;
	int rc, toolong;

	if (f == NULL && (f = tmpfile()) == NULL)
		abort();
	all = xmalloc(total + 1);
	for (i = 0; i < copies; i++)
		memcpy(all + i * len, text, len);
	if (ftruncate(fileno(f), 0) == -1 ||
	    pwrite(fileno(f), all, total, 0) != (ssize_t)total ||
	    lseek(fileno(f), 0, SEEK_SET) == -1)
		abort();
	util_lines_init(&r, fileno(f));
	buf_init(&b, 0);
	while ((rc = util_lines_next(&r, &b, max, &toolong)) == 1) {
		nl = at < total ? memchr(all + at, '\n', total - at) : NULL;
		want = nl ? (size_t)(nl - (all + at)) + 1 : total - at;
		if (want == 0 || toolong != (want > max) ||
		    b.len != (toolong ? 0 : want) ||
		    (!toolong && memcmp(b.data, all + at, want) != 0))
			abort();
		at += want;
		if (r.offset != at)
			abort();
	}
	if (rc != 0 || at != total || r.offset != total)
		abort();
	util_lines_free(&r);
	buf_free(&b);
	free(all);
}

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	const char *text;
	json_t *a;

	if (len == 0)
		return 0;
	text = (const char *)buf + 1;
	a = read_both(text, len - 1, flag_sets[buf[0] % (sizeof flag_sets /
	    sizeof flag_sets[0])]);
	if (a)
		write_all(a, buf[0] >> 3);
	json_decref(a);
	numbers(buf + 1, len - 1);
	/* past the read-ahead for a quarter of the inputs */
	lines(text, len - 1, (buf[0] & 0xc0) == 0xc0 && len > 1 ?
	    (UTIL_LINES_CHUNK + len) / (len - 1) + 1 : 1, (buf[0] >> 3) + 1);
	return 0;
}
