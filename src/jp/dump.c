/*
 * JSON output as jp and Kyverno (both Go) print it.  jansson's own dumper
 * prints reals with 17 significant digits (0.1 becomes
 * 0.10000000000000001), which is neither what the user wrote nor what
 * to_string() must return, so numbers take the shortest form that reads
 * back to the same double, laid out as Go's encoding/json lays it out
 * (util's gofmt).  Strings and key order are jp's own: insertion order,
 * no HTML escapes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jp/jp_int.h"
#include "util/gofmt.h"
#include "util/util.h"

/*
 * The text being written.  Not a struct buf: a note of a few KiB is a few
 * hundred short strings, and buf's checks and calls per append (its
 * maximum, xgrow, a NUL after every byte) were most of what dumping one
 * cost on the engine thread (bench/state: ~100k instructions a record).
 * Here room is made once per piece and the bytes are stored directly.
 */
struct out {
	char		*p;		/* owned */
	size_t		 len, cap;	/* bytes */
	jp_known_fn	*known;		/* NULL: none (jp_dump_known) */
	void		*known_ctx;
};

/* Room for n more bytes (and the final NUL); returns where they go. */
static char *
room(struct out *o, size_t n)
{
	if (o->len + n + 1 > o->cap)
		xgrow(&o->p, &o->cap, o->len + n + 1, 1);
	return o->p + o->len;
}

static void
add(struct out *o, const char *s, size_t n)
{
	memcpy(room(o, n), s, n);
	o->len += n;
}

static void
addc(struct out *o, char c)
{
	*room(o, 1) = c;
	o->len++;
}

#define ADDS(o, lit)	add((o), (lit), sizeof(lit) - 1)

/* Bytes a JSON string must escape: controls, '"' and '\\'. */
static int
must_escape(unsigned char c)
{
	return c < 0x20 || c == '"' || c == '\\';
}

static void
put_escape(struct out *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char u[6] = { '\\', 'u', '0', '0', 0, 0 };

	switch (c) {
	case '"': ADDS(o, "\\\""); return;
	case '\\': ADDS(o, "\\\\"); return;
	case '\n': ADDS(o, "\\n"); return;
	case '\r': ADDS(o, "\\r"); return;
	case '\t': ADDS(o, "\\t"); return;
	case '\b': ADDS(o, "\\b"); return;
	case '\f': ADDS(o, "\\f"); return;
	default:
		u[4] = hex[c >> 4];
		u[5] = hex[c & 0xf];
		add(o, u, sizeof u);
		return;
	}
}

/*
 * How many of s's first n bytes need no escape: eight at a time while
 * none of them does (a byte below 0x20, '"' or '\\' sets its lane's top
 * bit in the word tested), then one at a time.
 */
static size_t
plain_prefix(const char *s, size_t n)
{
	const uint64_t ones = 0x0101010101010101ULL, high = ones * 0x80;
	uint64_t w, q, bs;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		q = w ^ (ones * '"');
		bs = w ^ (ones * '\\');
		if ((((w - ones * 0x20) & ~w) | ((q - ones) & ~q) |
		    ((bs - ones) & ~bs)) & high)
			break;
	}
	while (i < n && !must_escape((unsigned char)s[i]))
		i++;
	return i;
}

static void
put_string(struct out *o, const char *s, size_t n)
{
	size_t i = plain_prefix(s, n), start = 0;
	char *d;

	if (i == n) {			/* the common case: as it is */
		d = room(o, n + 2);
		d[0] = '"';
		memcpy(d + 1, s, n);
		d[n + 1] = '"';
		o->len += n + 2;
		return;
	}
	addc(o, '"');
	for (; i < n; i++) {
		if (!must_escape((unsigned char)s[i]))
			continue;
		add(o, s + start, i - start);
		start = i + 1;
		put_escape(o, (unsigned char)s[i]);
	}
	add(o, s + start, n - start);
	addc(o, '"');
}

static void
put_integer(struct out *o, json_int_t v)
{
	char num[UTIL_INT_TEXT];

	add(o, num, util_json_int(num, v));
}

static void
put_real(struct out *o, double v)
{
	struct buf b;

	buf_init(&b, 0);
	gofmt_float(&b, v, GOFMT_JSON);
	add(o, b.data ? b.data : "", b.len);
	buf_free(&b);
}

static void
newline(struct out *o, int flags, int depth)
{
	int i;

	if (!(flags & JP_DUMP_INDENT))
		return;
	addc(o, '\n');
	for (i = 0; i < depth; i++)
		ADDS(o, "  ");
}

static void
put(struct out *o, const json_t *v, int flags, int depth)
{
	size_t i, n;
	void *it;
	json_t *obj = (json_t *)(uintptr_t)v;
	const char *text;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (o->known && (text = o->known(o->known_ctx, v, &n))) {
			add(o, text, n);
			return;
		}
		if (json_object_size(v) == 0) {
			ADDS(o, "{}");
			return;
		}
		addc(o, '{');
		for (it = json_object_iter(obj), i = 0; it;
		    it = json_object_iter_next(obj, it), i++) {
			if (i)
				addc(o, ',');
			newline(o, flags, depth + 1);
			put_string(o, json_object_iter_key(it),
			    json_object_iter_key_len(it));
			if (flags & JP_DUMP_INDENT)
				ADDS(o, ": ");
			else
				addc(o, ':');
			put(o, json_object_iter_value(it), flags, depth + 1);
		}
		newline(o, flags, depth);
		addc(o, '}');
		return;
	case JSON_ARRAY:
		n = json_array_size(v);
		if (n == 0) {
			ADDS(o, "[]");
			return;
		}
		addc(o, '[');
		for (i = 0; i < n; i++) {
			if (i)
				addc(o, ',');
			newline(o, flags, depth + 1);
			put(o, json_array_get(v, i), flags, depth + 1);
		}
		newline(o, flags, depth);
		addc(o, ']');
		return;
	case JSON_STRING:
		put_string(o, json_string_value(v), json_string_length(v));
		return;
	case JSON_INTEGER:
		put_integer(o, json_integer_value(v));
		return;
	case JSON_REAL:
		put_real(o, json_real_value(v));
		return;
	case JSON_TRUE:
		ADDS(o, "true");
		return;
	case JSON_FALSE:
		ADDS(o, "false");
		return;
	default:
		ADDS(o, "null");
		return;
	}
}

static char *
dump(const json_t *v, int flags, jp_known_fn *known, void *ctx)
{
	struct out o = { NULL, 0, 0, known, ctx };

	xgrow(&o.p, &o.cap, 256, 1);	/* one allocation for most values */
	put(&o, v ? v : json_null(), flags, 0);
	*room(&o, 0) = '\0';
	return o.p;
}

char *
jp_dump(const json_t *v, int flags)
{
	return dump(v, flags, NULL, NULL);
}

char *
jp_dump_known(const json_t *v, jp_known_fn *known, void *ctx)
{
	return dump(v, 0, known, ctx);	/* a known text is compact */
}
