/*
 * UTF-8, one code point at a time.  Strings from outside are bytes; the
 * stages that count, compare or quote characters (JMESPath functions,
 * Go's %q and encoding/json) decode them here, so every one of them treats
 * a bad byte the same way: as itself, one byte long, never as the start of
 * a longer sequence.
 */
#include "util/util.h"

long
utf8_decode(const char *s, size_t n, size_t *len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t need, k;
	long r, min;

	*len = 1;
	if (p[0] < 0x80)
		return p[0];
	if ((p[0] & 0xe0) == 0xc0) {
		need = 1;
		r = p[0] & 0x1f;
		min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		need = 2;
		r = p[0] & 0x0f;
		min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		need = 3;
		r = p[0] & 0x07;
		min = 0x10000;
	} else
		return -1;
	if (need >= n)
		return -1;
	for (k = 1; k <= need; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return -1;
		r = (r << 6) | (p[k] & 0x3f);
	}
	/* overlong forms, surrogates and beyond U+10FFFF are not UTF-8 */
	if (r < min || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff))
		return -1;
	*len = need + 1;
	return r;
}

uint32_t
utf8_next(const char *s, size_t n, size_t *i)
{
	size_t len;
	long r = utf8_decode(s + *i, n - *i, &len);

	*i += len;
	return r < 0 ? 0xfffd : (uint32_t)r;
}

size_t
utf8_encode(uint32_t r, char *out)
{
	if (r < 0x80) {
		out[0] = (char)r;
		return 1;
	}
	if (r < 0x800) {
		out[0] = (char)(0xc0 | (r >> 6));
		out[1] = (char)(0x80 | (r & 0x3f));
		return 2;
	}
	if (r < 0x10000) {
		out[0] = (char)(0xe0 | (r >> 12));
		out[1] = (char)(0x80 | ((r >> 6) & 0x3f));
		out[2] = (char)(0x80 | (r & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (r >> 18));
	out[1] = (char)(0x80 | ((r >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((r >> 6) & 0x3f));
	out[3] = (char)(0x80 | (r & 0x3f));
	return 4;
}
