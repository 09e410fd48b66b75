/*
 * Growable buffers.  Every buffer filled from outside has a maximum; going
 * past it is an ordinary error the caller reports, never a crash or an
 * unbounded allocation.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/util.h"

void
buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->overflow = 0;
}

void
buf_init_on(struct buf *b, char *mem, size_t size)
{
	b->data = mem;
	b->len = 0;
	b->cap = size;
	b->max = size - 1;	/* so reserve() never needs to grow it */
	b->overflow = 0;
	mem[0] = '\0';
}

/*
 * Makes room for extra bytes and the terminator, and writes the terminator
 * so a buffer that never receives a byte (an empty file) is "", not
 * whatever the allocator left there.
 */
static void
reserve(struct buf *b, size_t extra)
{
	xgrow(&b->data, &b->cap, b->len + extra + 1, 1);
	b->data[b->len] = '\0';
}

int
buf_add_slow(struct buf *b, const void *p, size_t n)
{
	int rc = 0;

	if (b->max && b->len + n > b->max) {
		n = b->max - b->len;
		b->overflow = 1;
		rc = -1;
	}
	reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return rc;
}

int
buf_add_int(struct buf *b, long long v)
{
	char num[UTIL_INT_TEXT];

	return buf_add(b, num, util_json_int(num, (json_int_t)v));
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int rc;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	rc = buf_adds(b, s);
	free(s);
	return rc;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->overflow = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *
buf_steal(struct buf *b)
{
	char *s = b->data ? b->data : xstrdup("");

	b->data = NULL;
	b->len = b->cap = 0;
	b->overflow = 0;
	return s;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *
util_read_file(const char *path, size_t max, size_t *lenp, char **err)
{
	FILE *f;
	struct buf b;
	char chunk[65536];
	size_t n;

	*err = NULL;
	if ((f = fopen(path, "rb")) == NULL) {
		*err = xasprintf("%s: %s", path, strerror(errno));
		return NULL;
	}
	buf_init(&b, max);
	reserve(&b, 0);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (buf_add(&b, chunk, n) == -1) {
			*err = xasprintf("%s: larger than the %zu-byte limit",
			    path, max);
			break;
		}
	}
	if (*err == NULL && ferror(f))
		*err = xasprintf("%s: read error: %s", path, strerror(errno));
	fclose(f);
	if (*err) {
		buf_free(&b);
		return NULL;
	}
	if (lenp)
		*lenp = b.len;
	return buf_steal(&b);
}

void
util_lines_init(struct util_lines *r, int fd)
{
	memset(r, 0, sizeof *r);
	r->fd = fd;
}

/* Reads what the descriptor has (up to the buffer): 1, 0 at its end, -1. */
static int
fill(struct util_lines *r)
{
	ssize_t n;

	if (r->buf == NULL)
		r->buf = xmalloc(UTIL_LINES_CHUNK);
	do
		n = read(r->fd, r->buf, UTIL_LINES_CHUNK);
	while (n == -1 && errno == EINTR);
	if (n <= 0)
		return (int)n;
	r->start = 0;
	r->end = (size_t)n;
	return 1;
}

int
util_lines_next(struct util_lines *r, struct buf *b, size_t max,
    int *toolong)
{
	int any = 0, rc;

	buf_reset(b);
	*toolong = 0;
	for (;;) {
		const char *p, *nl;
		size_t take;

		if (r->start == r->end) {
			if (r->eof || (rc = fill(r)) == 0) {
				r->eof = 1;
				return any;
			}
			if (rc == -1)
				return -1;
			continue;
		}
		/* only now: before the first fill r->buf is NULL, and NULL
		   plus even 0 is undefined (clang's UBSan reports it) */
		p = r->buf + r->start;
		any = 1;
		nl = memchr(p, '\n', r->end - r->start);
		take = nl ? (size_t)(nl - p) + 1 : r->end - r->start;
		if (!*toolong && b->len + take > max) {
			*toolong = 1;
			buf_reset(b);
		}
		if (!*toolong)
			buf_add(b, p, take);
		r->start += take;
		r->offset += take;
		if (nl)
			return 1;
	}
}

void
util_lines_free(struct util_lines *r)
{
	free(r->buf);
	r->buf = NULL;
	r->start = r->end = 0;
}
