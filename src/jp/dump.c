/*
 * JSON output as jp and Kyverno (both Go) print it.  jansson's own dumper
 * prints reals with 17 significant digits (0.1 becomes
 * 0.10000000000000001), which is neither what the user wrote nor what
 * to_string() must return, so numbers take the shortest form that reads
 * back to the same double, laid out as Go's encoding/json lays it out
 * (util's gofmt).  Strings and key order are jp's own: insertion order,
 * no HTML escapes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jp/jp_int.h"
#include "util/gofmt.h"
#include "util/util.h"

static void
put_string(struct buf *b, const char *s, size_t n)
{
	size_t i, start = 0;
	unsigned char c;

	buf_addc(b, '"');
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_add(b, s + start, i - start);
		start = i + 1;
		switch (c) {
		case '"': buf_adds(b, "\\\""); break;
		case '\\': buf_adds(b, "\\\\"); break;
		case '\n': buf_adds(b, "\\n"); break;
		case '\r': buf_adds(b, "\\r"); break;
		case '\t': buf_adds(b, "\\t"); break;
		case '\b': buf_adds(b, "\\b"); break;
		case '\f': buf_adds(b, "\\f"); break;
		default: buf_printf(b, "\\u%04x", c); break;
		}
	}
	buf_add(b, s + start, n - start);
	buf_addc(b, '"');
}

static void
newline(struct buf *b, int flags, int depth)
{
	int i;

	if (!(flags & JP_DUMP_INDENT))
		return;
	buf_addc(b, '\n');
	for (i = 0; i < depth; i++)
		buf_adds(b, "  ");
}

static void
put(struct buf *b, const json_t *v, int flags, int depth)
{
	size_t i, n;
	void *it;
	json_t *o = (json_t *)(uintptr_t)v;
	char num[32];

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (json_object_size(v) == 0) {
			buf_adds(b, "{}");
			return;
		}
		buf_addc(b, '{');
		for (it = json_object_iter(o), i = 0; it;
		    it = json_object_iter_next(o, it), i++) {
			if (i)
				buf_addc(b, ',');
			newline(b, flags, depth + 1);
			put_string(b, json_object_iter_key(it),
			    json_object_iter_key_len(it));
			buf_adds(b, flags & JP_DUMP_INDENT ? ": " : ":");
			put(b, json_object_iter_value(it), flags, depth + 1);
		}
		newline(b, flags, depth);
		buf_addc(b, '}');
		return;
	case JSON_ARRAY:
		n = json_array_size(v);
		if (n == 0) {
			buf_adds(b, "[]");
			return;
		}
		buf_addc(b, '[');
		for (i = 0; i < n; i++) {
			if (i)
				buf_addc(b, ',');
			newline(b, flags, depth + 1);
			put(b, json_array_get(v, i), flags, depth + 1);
		}
		newline(b, flags, depth);
		buf_addc(b, ']');
		return;
	case JSON_STRING:
		put_string(b, json_string_value(v), json_string_length(v));
		return;
	case JSON_INTEGER:
		n = (size_t)snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		buf_add(b, num, n);
		return;
	case JSON_REAL:
		gofmt_float(b, json_real_value(v), GOFMT_JSON);
		return;
	case JSON_TRUE:
		buf_adds(b, "true");
		return;
	case JSON_FALSE:
		buf_adds(b, "false");
		return;
	default:
		buf_adds(b, "null");
		return;
	}
}

char *
jp_dump(const json_t *v, int flags)
{
	struct buf b;

	buf_init(&b, 0);
	put(&b, v ? v : json_null(), flags, 0);
	return buf_steal(&b);
}
