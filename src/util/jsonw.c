/*
 * JSON without jansson's loop checks: jansson 2.14 formats the address of
 * every object and array it dumps or deep-copies into a hash table to
 * find loops, which is most of what a small dump or copy costs.  Values
 * here are trees (jansson refuses to build a loop), so:
 *
 * util_json_write: the text, byte for byte what json_dumps prints with
 * JSON_COMPACT (and JSON_SORT_KEYS when asked).
 * util_json_copy: what json_deep_copy gives.
 *
 * Strings are written as jansson writes them (the short escapes, \u with
 * upper-case hex).  A string or key with a byte outside ASCII (jansson
 * checks UTF-8 and escapes nothing there, but refuses bad sequences) or
 * holding a NUL is not written here: the writer returns -1 and the caller
 * takes jansson's way for the whole value, so the two can never differ.
 * Reals are written by jansson itself (its digits are its own).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

#define SORT_STACK	32	/* keys sorted without an allocation */

/*
 * A record checks each of its strings here: their bytes or'ed a word at a
 * time (the last word overlapping the one before), then one test.
 */
int
util_json_plain(const char *s)
{
	size_t n, i;
	uint64_t w, any = 0;
	uint32_t lo, hi;

	if (s == NULL)
		return 1;
	if ((n = strlen(s)) >= 8) {
		for (i = 0; n - i > 8; i += 8) {
			memcpy(&w, s + i, 8);
			any |= w;
		}
		memcpy(&w, s + n - 8, 8);
		any |= w;
	} else if (n >= 4) {
		memcpy(&lo, s, 4);
		memcpy(&hi, s + n - 4, 4);
		any = lo | hi;
	} else {
		for (i = 0; i < n; i++)
			any |= (unsigned char)s[i];
	}
	return (any & 0x8080808080808080ULL) == 0;
}

/*
 * What a byte of a string needs: nothing, an escape, or jansson's way.
 * A constant table: the writer runs for every string of every record and
 * view text, and a pthread_once per string cost more than its lookups.
 */
enum { PLAIN, ESCAPE, REFUSE };

#define ROW(c)	c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c
static const unsigned char byte_class[256] = {
	REFUSE, ESCAPE, ESCAPE, ESCAPE, ESCAPE, ESCAPE, ESCAPE, ESCAPE,	/* 0x00 */
	ESCAPE, ESCAPE, ESCAPE, ESCAPE, ESCAPE, ESCAPE, ESCAPE, ESCAPE,
	ROW(ESCAPE),							/* 0x10 */
	PLAIN, PLAIN, ESCAPE, PLAIN, PLAIN, PLAIN, PLAIN, PLAIN,	/* 0x20: " */
	PLAIN, PLAIN, PLAIN, PLAIN, PLAIN, PLAIN, PLAIN, PLAIN,
	ROW(PLAIN),							/* 0x30 */
	ROW(PLAIN),							/* 0x40 */
	PLAIN, PLAIN, PLAIN, PLAIN, PLAIN, PLAIN, PLAIN, PLAIN,	/* 0x50 */
	PLAIN, PLAIN, PLAIN, PLAIN, ESCAPE, PLAIN, PLAIN, PLAIN,	/* \ */
	ROW(PLAIN),							/* 0x60 */
	ROW(PLAIN),							/* 0x70 */
	ROW(REFUSE), ROW(REFUSE), ROW(REFUSE), ROW(REFUSE),		/* 0x80 */
	ROW(REFUSE), ROW(REFUSE), ROW(REFUSE), ROW(REFUSE),
};
#undef ROW

/*
 * Room for n more bytes (and the NUL) at the end of b: where they go, or
 * NULL when they would pass b's maximum (the caller then appends through
 * buf_add, which keeps what fits and sets overflow).  The caller writes
 * the bytes and the NUL and moves b->len itself.
 */
static inline char *
room(struct buf *b, size_t n)
{
	if (b->max && n > b->max - b->len)
		return NULL;
	if (b->len + n >= b->cap)
		xgrow(&b->data, &b->cap, b->len + n + 1, 1);
	return b->data + b->len;
}

/*
 * s[0..len) as a JSON string onto b the slow way, one run or escape at a
 * time through buf_add (which keeps what fits under b's maximum and sets
 * overflow); -1 as put_string.  Kept out of line: put_string's fast way
 * is inlined where strings are written.
 */
static __attribute__((noinline)) int
put_string_slow(struct buf *b, const char *s, size_t len, int strict)
{
	static const char hex[] = "0123456789ABCDEF";
	char u[6] = { '\\', 'u', '0', '0', 0, 0 };
	size_t i = 0, run;

	buf_addc(b, '"');
	while (i < len) {
		unsigned char c;
		const char *esc;

		for (run = i; i < len && byte_class[(unsigned char)s[i]] ==
		    PLAIN; i++)
			;
		buf_add(b, s + run, i - run);
		if (i == len)
			break;
		c = (unsigned char)s[i++];
		if (byte_class[c] == REFUSE) {
			if (strict)
				return -1;
			buf_addc(b, (char)c);
			continue;
		}
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		default:
			u[4] = hex[c >> 4];
			u[5] = hex[c & 15];
			buf_add(b, u, sizeof u);
			continue;
		}
		buf_add(b, esc, 2);
	}
	buf_addc(b, '"');
	return 0;
}

/*
 * Copies s[0..len) to o when every byte is plain: 1; 0 (o holds some of
 * it) at a byte that needs an escape or jansson's way.  Whole words where
 * the string has them, the last word overlapping the one before; a
 * string of 4 to 7 bytes as two halves that overlap; of 1 to 3 as its
 * first, middle and last bytes.  Most strings ("name", "app", "Pod") are
 * short and have nothing to escape: checked and copied without a loop.
 * Inlined (as jp/eval.c's steps are): a call and its saved registers
 * cost as much as a short string's copy.
 */
static inline __attribute__((always_inline)) int
copy_plain(char *o, const char *s, size_t len)
{
	size_t i;
	uint64_t w;
	uint32_t lo, hi;

	if (len >= 8) {
		for (i = 0; len - i > 8; i += 8) {
			memcpy(&w, s + i, 8);
			if (util_json_word_stops(w))
				return 0;
			memcpy(o + i, &w, 8);
		}
		memcpy(&w, s + len - 8, 8);
		if (util_json_word_stops(w))
			return 0;
		memcpy(o + len - 8, &w, 8);
		return 1;
	}
	if (len >= 4) {
		memcpy(&lo, s, 4);
		memcpy(&hi, s + len - 4, 4);
		if (util_json_word_stops((uint64_t)hi << 32 | lo))
			return 0;
		memcpy(o, &lo, 4);
		memcpy(o + len - 4, &hi, 4);
		return 1;
	}
	if (len == 0)
		return 1;
	if ((byte_class[(unsigned char)s[0]] |
	    byte_class[(unsigned char)s[len / 2]] |
	    byte_class[(unsigned char)s[len - 1]]) != PLAIN)
		return 0;
	o[0] = s[0];
	o[len / 2] = s[len / 2];
	o[len - 1] = s[len - 1];
	return 1;
}

/* b->len moved past n bytes written at its end, and the NUL after. */
static inline void
wrote(struct buf *b, size_t n)
{
	b->len += n;
	b->data[b->len] = '\0';
}

/*
 * s[0..len) as a JSON string onto b, escaped as jansson escapes it; -1
 * at a NUL or a byte outside ASCII when strict (b then holds part of it).
 * Most strings have nothing to escape: room is made for the quotes and
 * the bytes at once and they are copied as they are checked; a string
 * with a byte that is not plain (or a maximum within reach) is written
 * again from its start, put_string_slow's way.
 */
static inline __attribute__((always_inline)) int
put_string(struct buf *b, const char *s, size_t len, int strict)
{
	char *o = room(b, len + 2);

	if (o == NULL || !copy_plain(o + 1, s, len))
		return put_string_slow(b, s, len, strict);
	o[0] = '"';
	o[1 + len] = '"';
	wrote(b, len + 2);
	return 0;
}

/* put_key's slow way: the pieces one at a time. */
static __attribute__((noinline)) int
put_key_slow(struct buf *b, const char *k, size_t len, int first)
{
	if (!first)
		buf_addc(b, ',');
	if (put_string_slow(b, k, len, 1) == -1)
		return -1;
	buf_addc(b, ':');
	return 0;
}

/*
 * An object's key k[0..len) with the comma before it (unless first) and
 * the colon after, as put_string writes it, in one piece when it can.
 */
static inline __attribute__((always_inline)) int
put_key(struct buf *b, const char *k, size_t len, int first)
{
	size_t sep = first ? 0 : 1;
	char *o = room(b, sep + len + 3);

	if (o == NULL || !copy_plain(o + sep + 1, k, len))
		return put_key_slow(b, k, len, first);
	o[0] = ',';
	o[sep] = '"';
	o[sep + 1 + len] = '"';
	o[sep + 2 + len] = ':';
	wrote(b, sep + len + 3);
	return 0;
}

void
util_json_str(struct buf *b, const char *s)
{
	put_string(b, s, strlen(s), 0);
}

static int
dump_cb(const char *p, size_t n, void *b)
{
	return buf_add(b, p, n);
}

size_t
util_json_int(char *num, json_int_t v)
{
	char tmp[UTIL_INT_TEXT], *p = tmp + sizeof tmp;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v :
	    (unsigned long long)v;

	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	memcpy(num, p, (size_t)(tmp + sizeof tmp - p));
	return (size_t)(tmp + sizeof tmp - p);
}

struct member {
	const char	*key;
	size_t		 len;
	json_t		*value;
};

static int
put_object(struct buf *b, json_t *v, size_t flags)
{
	struct member stack[SORT_STACK], *m = stack;
	size_t i = 0, j;
	void *it;
	int rc = -1;

	if (flags & JSON_SORT_KEYS && json_object_size(v) > SORT_STACK)
		m = xcalloc(json_object_size(v), sizeof *m);
	buf_addc(b, '{');
	for (it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
		const char *k = json_object_iter_key(it);

		if (!(flags & JSON_SORT_KEYS)) {
			if (put_key(b, k, json_object_iter_key_len(it), i++ ==
			    0) == -1 || util_json_write(b,
			    json_object_iter_value(it), flags) == -1)
				goto out;
			continue;
		}
		/* insertion sort: objects here have a handful of keys */
		for (j = i++; j > 0 && strcmp(m[j - 1].key, k) > 0; j--)
			m[j] = m[j - 1];
		m[j].key = k;
		m[j].len = json_object_iter_key_len(it);
		m[j].value = json_object_iter_value(it);
	}
	for (j = 0; flags & JSON_SORT_KEYS && j < i; j++)
		if (put_key(b, m[j].key, m[j].len, j == 0) == -1 ||
		    util_json_write(b, m[j].value, flags) == -1)
			goto out;
	buf_addc(b, '}');
	rc = 0;
out:
	if (m != stack)
		free(m);
	return rc;
}

int
util_json_write(struct buf *b, json_t *v, size_t flags)
{
	size_t i, n;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return put_object(b, v, flags);
	case JSON_ARRAY:
		buf_addc(b, '[');
		for (i = 0, n = json_array_size(v); i < n; i++) {
			if (i)
				buf_addc(b, ',');
			if (util_json_write(b, json_array_get(v, i), flags) ==
			    -1)
				return -1;
		}
		buf_addc(b, ']');
		return 0;
	case JSON_STRING:
		return put_string(b, json_string_value(v),
		    json_string_length(v), 1);
	case JSON_INTEGER:
		buf_add_int(b, json_integer_value(v));
		return 0;
	case JSON_REAL:
		return json_dump_callback(v, dump_cb, b, flags |
		    JSON_ENCODE_ANY) == 0 ? 0 : -1;
	case JSON_TRUE:
		buf_adds(b, "true");
		return 0;
	case JSON_FALSE:
		buf_adds(b, "false");
		return 0;
	case JSON_NULL:
		buf_adds(b, "null");
		return 0;
	}
	return -1;
}

json_t *
util_json_copy(json_t *v)
{
	json_t *c;
	size_t i;
	void *it;

	if (v == NULL)
		return NULL;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		c = json_object();
		for (it = json_object_iter(v); it; it = json_object_iter_next(v,
		    it))
			json_object_setn_new_nocheck(c, json_object_iter_key(it),
			    json_object_iter_key_len(it),
			    util_json_copy(json_object_iter_value(it)));
		return c;
	case JSON_ARRAY:
		c = json_array();
		for (i = 0; i < json_array_size(v); i++)
			json_array_append_new(c, util_json_copy(
			    json_array_get(v, i)));
		return c;
	case JSON_STRING:
		return json_stringn_nocheck(json_string_value(v),
		    json_string_length(v));
	case JSON_INTEGER:
		return json_integer(json_integer_value(v));
	case JSON_REAL:
		return json_real(json_real_value(v));
	default:
		return json_incref(v);	/* true, false, null: singletons */
	}
}

json_t *
util_json_str_ref(json_t *v, const char *s)
{
	if (s == NULL)
		return json_null();
	if (json_string_value(v) == s && json_string_length(v) == strlen(s))
		return json_incref(v);
	return json_string(s);
}

char *
util_json_dumps(json_t *v, size_t flags)
{
	struct buf b;

	/* json_dumps refuses a lone scalar without JSON_ENCODE_ANY */
	if (!(flags & JSON_ENCODE_ANY) && !json_is_object(v) &&
	    !json_is_array(v))
		return NULL;
	buf_init(&b, 0);
	if (util_json_write(&b, v, flags) == 0)
		return buf_steal(&b);
	buf_free(&b);
	return json_dumps(v, flags);
}
