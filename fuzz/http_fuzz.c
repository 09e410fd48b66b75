/*
 * libFuzzer target for the HTTP/1.1 reader of plain-text listeners
 * (src/http/parse.c): what any client on the network controls before a
 * route or a credential is looked at.
 *
 * The first byte selects (low two bits) what the rest is; its high bits
 * choose how the input is cut into pieces, as TCP segments would cut it:
 *
 *   0  request heads, one after another (keep-alive, pipelining): each
 *      scanned and, when complete, parsed
 *   1  a chunked body, read into a buffer of at most 64 bytes
 *   2  a request target, percent-decoded as a path and as a query
 *   3  a head, then a chunked body behind it
 *
 * What must hold for any input, beside no crash, sanitizer report, leak
 * or hang: the scan's verdict and length do not depend on how the bytes
 * are cut; a parsed head's Content-Length is never negative and its
 * header count within HTTP_MAX_HEADERS; a chunked body never exceeds its
 * limit and the verdict does not depend on the cuts either; decoding
 * never lengthens its input.
 *
 *	fuzz/run http [SECONDS]
 *
 * builds it (clang -fsanitize=fuzzer,address,undefined) and runs it on a
 * copy of fuzz/corpus/http; the ordinary test run replays the corpus
 * (build/tests/test_fuzz-http).  The corpus: 29 seeds written by hand
 * (sound and smuggling heads, chunked bodies, targets), grown by two
 * minutes of fuzz/run and merged (-merge=1), and one crasher of the
 * harness itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"

#define CHUNK_LIMIT	64

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Scans p[0..n) fed in pieces of step bytes: the verdict, *at, *skip. */
static int
scan_cut(const char *p, size_t n, size_t step, size_t *at, size_t *skip)
{
	struct http_scan sc;
	const char *why;
	size_t k = 0;
	int rc = 0;

	memset(&sc, 0, sizeof sc);
	while (rc == 0 && k < n) {
		k = n - k < step ? n : k + step;
		rc = http_head_scan(&sc, p, k, &why);
		if ((rc == -1) != (why != NULL))
			abort();
	}
	*at = sc.at;
	*skip = sc.skip;
	return rc;
}

/* Heads one after another; returns the bytes they took. */
static size_t
heads(const char *p, size_t n, size_t step)
{
	struct http_msg m;
	const char *why;
	size_t off = 0, at, skip, at1, skip1;
	char *copy;
	int rc, rc1;

	while (off < n) {
		rc = scan_cut(p + off, n - off, n, &at, &skip);
		rc1 = scan_cut(p + off, n - off, step, &at1, &skip1);
		if (rc != rc1 || (rc == 1 && (at != at1 || skip != skip1)))
			abort();
		if (rc != 1)
			return n;
		copy = xmalloc(at - skip + 1);
		memcpy(copy, p + off + skip, at - skip);
		copy[at - skip] = '\0';
		if (http_head_parse(copy, at - skip, &m, &why) == 0) {
			if (m.clen < 0 || m.nh > HTTP_MAX_HEADERS ||
			    m.method == NULL || m.target == NULL ||
			    http_framing_bad(m.h, m.nh) != NULL)
				abort();
		} else if (why == NULL || (m.status != 400 &&
		    m.status != 431 && m.status != 505))
			abort();
		free(copy);
		off += at;
	}
	return off;
}

/* A chunked body in pieces of step bytes: the verdict and the body. */
static int
chunks(const char *p, size_t n, size_t step, struct buf *b)
{
	struct http_chunks ch;
	const char *why;
	size_t k = 0, used, piece;
	int rc = 0;

	memset(&ch, 0, sizeof ch);
	buf_init(b, CHUNK_LIMIT);
	while (rc == 0 && k < n) {
		piece = n - k < step ? n - k : step;
		rc = http_chunk_feed(&ch, p + k, piece, b, &used, &why);
		if (used > piece || (rc == -1 && why == NULL) ||
		    (rc == 0 && used != piece) || b->len > CHUNK_LIMIT)
			abort();
		k += used;
	}
	return rc;
}

static void
body(const char *p, size_t n, size_t step)
{
	struct buf whole, cut;
	int rc = chunks(p, n, n ? n : 1, &whole);

	if (chunks(p, n, step, &cut) != rc ||
	    (rc == 1 && (whole.len != cut.len || (whole.len > 0 &&
	    memcmp(whole.data, cut.data, whole.len) != 0))))
		abort();
	buf_free(&whole);
	buf_free(&cut);
}

static void
target(const char *p, size_t n)
{
	char *out = xmalloc(n + 1);

	long k;

	if (http_unescape(p, n, 0, out) > (long)n ||
	    http_unescape(p, n, HTTP_UNESCAPE_PLUS, out) > (long)n ||
	    strlen(out) > n)
		abort();
	k = http_unescape(p, n, HTTP_UNESCAPE_STRICT, out);
	if (k < -1 || k > (long)n || (k == -1 && memchr(p, '%', n) == NULL))
		abort();
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data + 1;
	size_t n, step, used;

	if (size == 0)
		return 0;
	n = size - 1;
	step = (size_t)(data[0] >> 2) % 16 + 1;
	switch (data[0] & 3) {
	case 0:
		heads(p, n, step);
		break;
	case 1:
		body(p, n, step);
		break;
	case 2:
		target(p, n);
		break;
	default:
		used = heads(p, n, step);
		if (used < n)
			body(p + used, n - used, step);
		break;
	}
	return 0;
}
