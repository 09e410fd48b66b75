/*
 * Base64 as Go's encoding/base64.StdEncoding: the standard alphabet with
 * '=' padding.  Kyverno's base64_decode() and sprig's b64dec are that
 * decoder, error offsets included ("illegal base64 data at input byte
 * 4"), so the one below follows Go's decodeQuantum step by step: CR and
 * LF are skipped anywhere, padding is required, nothing may follow it.
 * (OpenSSL's EVP_DecodeBlock neither skips newlines nor reports where the
 * input went wrong, and util links only libc and jansson.)
 */
#include <string.h>

#include "util/util.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
base64_encode(struct buf *b, const void *data, size_t n)
{
	const unsigned char *s = data;
	unsigned long v;
	size_t i;

	for (i = 0; i < n; i += 3) {
		v = (unsigned long)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned long)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		buf_addc(b, alphabet[v >> 18 & 63]);
		buf_addc(b, alphabet[v >> 12 & 63]);
		buf_addc(b, i + 1 < n ? alphabet[v >> 6 & 63] : '=');
		buf_addc(b, i + 2 < n ? alphabet[v & 63] : '=');
	}
}

static int
value(char c)
{
	const char *p = c ? strchr(alphabet, c) : NULL;

	return p ? (int)(p - alphabet) : -1;
}

static size_t
skip_newlines(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/*
 * One quantum of up to four characters from s[*si]: appends its bytes and
 * advances *si.  Returns 1 at the end of the input, 0 to go on, -1 with
 * *at set on an error.
 */
static int
quantum(struct buf *b, const char *s, size_t n, size_t *si, size_t *at)
{
	unsigned char q[4] = { 0, 0, 0, 0 };
	unsigned long v;
	int j, d, len = 4, trailing = 0;
	char c;

	for (j = 0; j < 4; j++) {
		if (*si == n) {
			if (j == 0)
				return 1;
			*at = *si - (size_t)j;	/* not enough data */
			return -1;
		}
		c = s[(*si)++];
		if ((d = value(c)) >= 0) {
			q[j] = (unsigned char)d;
			continue;
		}
		if (c == '\n' || c == '\r') {
			j--;
			continue;
		}
		if (c != '=' || j < 2) {
			*at = *si - 1;		/* a bad byte, or early '=' */
			return -1;
		}
		if (j == 2) {
			/* "==" is needed: the second may follow newlines */
			*si = skip_newlines(s, n, *si);
			if (*si == n) {
				*at = n;
				return -1;
			}
			if (s[*si] != '=') {
				*at = *si - 1;
				return -1;
			}
			(*si)++;
		}
		*si = skip_newlines(s, n, *si);
		if (*si < n) {
			*at = *si;	/* something after the padding */
			trailing = 1;
		}
		len = j;
		break;
	}
	v = (unsigned long)q[0] << 18 | (unsigned long)q[1] << 12 |
	    (unsigned long)q[2] << 6 | q[3];
	buf_addc(b, (char)(v >> 16));
	if (len > 2)
		buf_addc(b, (char)(v >> 8));
	if (len > 3)
		buf_addc(b, (char)v);
	return trailing ? -1 : len < 4 ? 1 : 0;
}

int
base64_decode(struct buf *b, const char *s, size_t n, size_t *at)
{
	size_t si = 0, unused;
	int rc;

	if (at == NULL)
		at = &unused;
	while (si < n)
		if ((rc = quantum(b, s, n, &si, at)) != 0)
			return rc < 0 ? -1 : 0;
	return 0;
}
