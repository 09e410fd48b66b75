/*
 * The HTTP/1.1 request reader's grammar: the one place a request head and
 * a chunked body are judged, for plain-text listeners (plain.c reads the
 * bytes) and, for the framing rules, libmicrohttpd's TLS listeners too.
 *
 * Strict where a proxy in front of us could read a message another way
 * (request smuggling, RFC 9112 11.2): a line ends in CRLF only (a bare LF
 * or bare CR is 400), an obs-fold line (a header line starting with a
 * space or tab) is 400, a NUL or another control byte in the head is 400,
 * a header name is a token, one Content-Length at most and never with
 * Transfer-Encoding, whose only value taken is "chunked", and HTTP/1.1
 * has exactly one Host.  Every head on a connection goes through it, not
 * only the first: keep-alive and pipelining are safe.
 *
 * All functions are pure (no I/O, no allocation beyond what they say), so
 * fuzz/http_fuzz.c drives them directly.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/http_int.h"

#define MAX_CHUNK_LINE	256	/* bytes of a chunk-size line's extension */

int
http_head_scan(struct http_scan *sc, const char *p, size_t n,
    const char **why)
{
	size_t i;
	int start = 1;

	*why = NULL;
	/* resume at the start of the line the last call stopped in: each
	   call reads a partial line again, never the lines before it */
	for (i = sc->at; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r') {
			if (i + 1 == n)
				return 0;
			if (p[i + 1] != '\n') {
				*why = "a bare CR ends a line";
				return -1;
			}
			i++;
			sc->at = i + 1;
			if (start && sc->lines > 0)
				return 1;	/* the empty line: complete */
			if (!start || sc->lines > 0)
				sc->lines++;
			else	/* an empty line before the request line:
				   RFC 9112 2.2 lets a server ignore it */
				sc->skip = i + 1;
			start = 1;
			continue;
		}
		if (c == '\n') {
			*why = "a bare LF ends a line (CRLF is required)";
			return -1;
		}
		if (c == '\0') {
			*why = "a NUL byte in the request head";
			return -1;
		}
		if (start && sc->lines > 0 && (c == ' ' || c == '\t')) {
			*why = "a header line folded onto the next (obs-fold)";
			return -1;
		}
		start = 0;
	}
	return 0;
}

static int
is_tchar(unsigned char c)
{
	return c > ' ' && c < 0x7f && strchr("()<>@,;:\\\"/[]?={}", c) ==
	    NULL;
}

const char *
http_framing_bad(const struct http_header *h, size_t n)
{
	const char *te = NULL, *c;
	size_t i, ncl = 0;

	for (i = 0; i < n; i++) {
		const char *k = h[i].name;

		if (*k == '\0')
			return "an empty header name";
		for (c = k; *c; c++)
			if (!is_tchar((unsigned char)*c))
				return "a header name that is not a token";
		if (strcasecmp(k, "Content-Length") == 0)
			ncl++;
		else if (strcasecmp(k, "Transfer-Encoding") == 0) {
			if (te != NULL)
				return "two Transfer-Encoding headers";
			te = h[i].value;
		}
	}
	if (ncl > 1)
		return "more than one Content-Length";
	if (te != NULL && ncl > 0)
		return "Content-Length with Transfer-Encoding";
	if (te != NULL && strcasecmp(te, "chunked") != 0)
		return "a Transfer-Encoding other than chunked";
	return NULL;
}

/* Does the comma-separated list v name token t (case-insensitive)? */
static int
has_token(const char *v, const char *t)
{
	size_t n = strlen(t);

	while (*v) {
		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		if (strncasecmp(v, t, n) == 0 && (v[n] == '\0' || v[n] == ',' ||
		    v[n] == ' ' || v[n] == '\t'))
			return 1;
		while (*v && *v != ',')
			v++;
	}
	return 0;
}

/* The request line, split in place; 0, or -1 with m->status and *why. */
static int
request_line(char *line, struct http_msg *m, const char **why)
{
	char *sp1, *sp2, *c;

	m->status = 400;
	if ((sp1 = strchr(line, ' ')) == NULL ||
	    (sp2 = strchr(sp1 + 1, ' ')) == NULL || strchr(sp2 + 1, ' ')) {
		*why = "a request line that is not METHOD TARGET VERSION";
		return -1;
	}
	*sp1 = *sp2 = '\0';
	m->method = line;
	m->target = sp1 + 1;
	if (*m->method == '\0' || *m->target == '\0') {
		*why = "an empty method or target";
		return -1;
	}
	for (c = m->method; *c; c++)
		if (!is_tchar((unsigned char)*c)) {
			*why = "a method that is not a token";
			return -1;
		}
	for (c = m->target; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f) {
			*why = "a control byte in the request target";
			return -1;
		}
	if (strncmp(sp2 + 1, "HTTP/", 5) != 0 || sp2[6] < '0' ||
	    sp2[6] > '9' || sp2[7] != '.' || sp2[8] < '0' || sp2[8] > '9' ||
	    sp2[9] != '\0') {
		*why = "a malformed HTTP version";
		return -1;
	}
	if (sp2[6] != '1') {
		m->status = 505;
		*why = "only HTTP/1.0 and HTTP/1.1 are served";
		return -1;
	}
	m->minor = sp2[8] - '0';
	return 0;
}

/* One header line, split in place into m->h. */
static int
header_line(char *line, struct http_msg *m, const char **why)
{
	char *colon = strchr(line, ':'), *v, *end, *c;

	if (colon == NULL) {
		*why = "a header line without a colon";
		return -1;
	}
	*colon = '\0';
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	for (end = v + strlen(v); end > v && (end[-1] == ' ' ||
	    end[-1] == '\t'); end--)
		;
	*end = '\0';
	for (c = v; *c; c++)
		if (((unsigned char)*c < ' ' && *c != '\t') || *c == 0x7f) {
			*why = "a control byte in a header value";
			return -1;
		}
	if (m->nh == HTTP_MAX_HEADERS) {
		m->status = 431;
		*why = "more than 100 headers";
		return -1;
	}
	m->h[m->nh].name = line;
	m->h[m->nh].value = v;
	m->nh++;
	return 0;
}

/* What the headers say of the body and the connection. */
static int
semantics(struct http_msg *m, const char **why)
{
	const char *cl = NULL, *conn = NULL;
	size_t i, nhost = 0;
	long long v;

	if ((*why = http_framing_bad(m->h, m->nh)) != NULL)
		return -1;
	for (i = 0; i < m->nh; i++) {
		const char *k = m->h[i].name;

		if (strcasecmp(k, "Host") == 0)
			nhost++;
		else if (strcasecmp(k, "Content-Length") == 0)
			cl = m->h[i].value;
		else if (strcasecmp(k, "Transfer-Encoding") == 0)
			m->chunked = 1;
		else if (strcasecmp(k, "Connection") == 0)
			conn = m->h[i].value;
		else if (strcasecmp(k, "Expect") == 0 &&
		    strcasecmp(m->h[i].value, "100-continue") == 0)
			m->expect100 = 1;
	}
	if (m->minor == 1 && nhost != 1) {
		*why = nhost ? "more than one Host" : "HTTP/1.1 without Host";
		return -1;
	}
	m->clen = 0;
	if (cl != NULL) {
		for (i = 0; cl[i]; i++)
			if (cl[i] < '0' || cl[i] > '9')
				break;
		if (i == 0 || cl[i] != '\0' || i > 18 ||
		    util_parse_int(cl, &v) == -1) {
			*why = "a bad Content-Length";
			return -1;
		}
		m->clen = v;
	}
	/* HTTP/1.0 closes unless it asks otherwise; 1.1 stays open */
	m->close = m->minor == 0 ? !(conn && has_token(conn, "keep-alive")) :
	    conn != NULL && has_token(conn, "close");
	return 0;
}

int
http_head_parse(char *p, size_t n, struct http_msg *m, const char **why)
{
	char *line = p, *end = p + n, *cr;

	memset(m, 0, sizeof *m);
	m->status = 400;
	*why = NULL;
	/* the head was scanned: lines end in CRLF, the last is empty */
	while (line < end && (cr = memchr(line, '\r', (size_t)(end - line)))
	    != NULL && cr != line) {
		*cr = '\0';
		if (m->method == NULL) {
			if (request_line(line, m, why) == -1)
				return -1;
		} else if (header_line(line, m, why) == -1)
			return -1;
		line = cr + 2;
	}
	if (m->method == NULL) {
		*why = "no request line";
		return -1;
	}
	return semantics(m, why);
}

long
http_unescape(const char *s, size_t n, int flags, char *out)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if ((flags & HTTP_UNESCAPE_PLUS) && s[i] == '+')
			out[o++] = ' ';
		else if (s[i] == '%' && i + 2 < n &&
		    (hi = util_hex_digit((unsigned char)s[i + 1])) >= 0 &&
		    (lo = util_hex_digit((unsigned char)s[i + 2])) >= 0) {
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (s[i] == '%' && (flags & HTTP_UNESCAPE_STRICT)) {
			out[o] = '\0';
			return -1;
		} else
			out[o++] = s[i];
	}
	out[o] = '\0';
	return (long)o;
}

/* ---- chunked bodies ------------------------------------------------------ */

enum { CH_SIZE, CH_EXT, CH_SIZE_LF, CH_DATA, CH_DATA_CR, CH_DATA_LF,
    CH_TRAILER, CH_TRAILER_LF, CH_LINE_START, CH_END_LF };

int
http_chunk_feed(struct http_chunks *ch, const char *p, size_t n,
    struct buf *out, size_t *used, const char **why)
{
	size_t i = 0, k;
	int d;

	*why = NULL;
	while (i < n) {
		unsigned char c = (unsigned char)p[i];

		switch (ch->state) {
		case CH_SIZE:
			if ((d = util_hex_digit(c)) >= 0) {
				if (++ch->digits > 15) {
					*why = "a chunk size too large";
					goto bad;
				}
				ch->left = ch->left * 16 + (size_t)d;
				i++;
				break;
			}
			if (ch->digits == 0) {
				*why = "a chunk without a size";
				goto bad;
			}
			if (c == ';' || c == ' ' || c == '\t') {
				ch->state = CH_EXT;
				ch->ext = 0;
				break;
			}
			if (c != '\r') {
				*why = "a malformed chunk size";
				goto bad;
			}
			ch->state = CH_SIZE_LF;
			i++;
			break;
		case CH_EXT:		/* extensions are ignored */
			if (c == '\r') {
				ch->state = CH_SIZE_LF;
			} else if (c == '\n' || c == '\0' ||
			    ++ch->ext > MAX_CHUNK_LINE) {
				*why = "a malformed chunk extension";
				goto bad;
			}
			i++;
			break;
		case CH_SIZE_LF:
			if (c != '\n') {
				*why = "a bare CR in a chunk size line";
				goto bad;
			}
			i++;
			if (ch->left == 0) {
				ch->state = CH_LINE_START;
				break;
			}
			if (out->max && ch->left > out->max - out->len) {
				*used = i;
				return -2;	/* too large */
			}
			ch->state = CH_DATA;
			break;
		case CH_DATA:
			k = n - i < ch->left ? n - i : ch->left;
			if (buf_add(out, p + i, k) == -1) {
				*used = i;
				return -2;
			}
			i += k;
			if ((ch->left -= k) == 0)
				ch->state = CH_DATA_CR;
			break;
		case CH_DATA_CR:
		case CH_TRAILER_LF:
		case CH_END_LF:
			if (ch->state == CH_DATA_CR ? c != '\r' : c != '\n') {
				*why = "a chunk not ended by CRLF";
				goto bad;
			}
			i++;
			if (ch->state == CH_END_LF) {
				*used = i;
				return 1;
			}
			ch->state = ch->state == CH_DATA_CR ? CH_DATA_LF :
			    CH_LINE_START;
			break;
		case CH_DATA_LF:
			if (c != '\n') {
				*why = "a chunk not ended by CRLF";
				goto bad;
			}
			i++;
			ch->state = CH_SIZE;
			ch->digits = 0;
			break;
		case CH_LINE_START:	/* after the last chunk: trailers */
			if (c == '\r') {
				ch->state = CH_END_LF;
				i++;
				break;
			}
			if (c == ' ' || c == '\t') {
				*why = "a folded trailer line";
				goto bad;
			}
			ch->state = CH_TRAILER;
			ch->ext = 0;
			break;
		case CH_TRAILER:	/* trailers are read and dropped */
			if (c == '\r')
				ch->state = CH_TRAILER_LF;
			else if (c == '\n' || c == '\0' ||
			    ++ch->ext > MAX_CHUNK_LINE * 16) {
				*why = "a malformed trailer line";
				goto bad;
			}
			i++;
			break;
		default:
			*why = "a broken chunk reader";
			goto bad;
		}
	}
	*used = i;
	return 0;
bad:
	*used = i;
	return -1;
}
