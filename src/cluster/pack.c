/*
 * The view's texts (an object's metadata, body and statuses as compact
 * JSON with sorted keys) packed with a fixed dictionary of the fragments
 * Kubernetes metadata repeats: `{"labels":{"`, `","controller":true,
 * "kind":"`, `apps/v1`, `pod-template-hash`...  A ReplicaSet's pods'
 * metadata (labels and owner) is about 210 bytes as JSON and 65 packed;
 * a 100,000-pod cluster holds some 30,000 such texts.
 *
 * A fragment becomes one byte 0x01-0x1e.  jansson escapes every byte
 * below 0x20 in what it dumps, so those bytes are free; should a text
 * hold one anyway, it is kept after the escape byte 0x1f, so any text
 * packs and unpacks to itself.  No fragment can occur in a Kubernetes
 * name (they all hold an upper-case letter, a quote, a brace or a slash,
 * or are label keys), so an owner's name stays whole in a packed text
 * and the store can point into it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_int.h"
#include "util/util.h"

#define ESC	0x1f

struct frag {
	const char	*s;
	size_t		 len;
};

#define F(s)	{ s, sizeof s - 1 }
static const struct frag frags[ESC - 1] = {	/* byte i + 1 */
	F("{\"labels\":{\""),
	F("{\"annotations\":{\""),
	F("\"},\"labels\":{\""),
	F("\"},\"ownerReferences\":[{\"apiVersion\":\""),
	F("{\"ownerReferences\":[{\"apiVersion\":\""),
	F("\"},{\"apiVersion\":\""),
	F("\",\"controller\":true,\"kind\":\""),
	F("\",\"kind\":\""),
	F("\",\"name\":\""),
	F("\"}]}"),
	F("apps/v1"),
	F("ReplicaSet"),
	F("Deployment"),
	F("StatefulSet"),
	F("DaemonSet"),
	F("batch/v1"),
	F("\",\""),
	F("\":\""),
	F("app.kubernetes.io/"),
	F("pod-template-hash"),
	F("remediation.platform/"),
	F("controller-revision-hash"),
	F("pod-template-generation"),
	F("statefulset.kubernetes.io/pod-name"),
	F("batch.kubernetes.io/"),
	F("kubernetes.io/"),
	F("{\"containerStatuses\":[{\"lastState\":{\"terminated\":"
	    "{\"containerID\":\""),
	F("\",\"exitCode\":"),
	F(",\"finishedAt\":\""),
	F("\",\"reason\":\""),
};
#undef F

/*
 * The fragments by first byte, longest first: a text is matched at every
 * byte, and only `{`, `"`, `,` and a few letters start one.  stops[c]:
 * byte c starts a fragment or is 0x01-0x1f (escaped), so the packer
 * copies the bytes between two stops in one go.  seconds[c]: the bytes
 * that follow c in a fragment, as bits: `"` starts most fragments and
 * most quotes of a text start none (`"app"`).  Built once.
 */
static signed char	by_first[256][ESC];	/* indices; -1 ends a row */
static unsigned char	stops[256];
static uint32_t		seconds[256][8];
static pthread_once_t	by_first_once = PTHREAD_ONCE_INIT;

static void
index_frags(void)
{
	size_t i, k, n;

	memset(by_first, -1, sizeof by_first);
	for (i = 1; i <= ESC; i++)
		stops[i] = 1;
	for (i = 0; i < ESC - 1; i++) {
		unsigned char c1 = (unsigned char)frags[i].s[1];

		stops[(unsigned char)frags[i].s[0]] = 1;
		seconds[(unsigned char)frags[i].s[0]][c1 >> 5] |= 1u << (c1 & 31);
		signed char *row = by_first[(unsigned char)frags[i].s[0]];

		for (n = 0; row[n] >= 0; n++)
			;
		/* keep the row longest first: the first match is the best */
		for (k = n; k > 0 && frags[row[k - 1]].len < frags[i].len; k--)
			row[k] = row[k - 1];
		row[k] = (signed char)i;
	}
}

/* The longest fragment at p (n bytes left): its index, or -1. */
static int
match(const char *p, size_t n)
{
	const signed char *row = by_first[(unsigned char)*p];
	unsigned char c1 = (unsigned char)p[1];	/* n == 1: the NUL */
	size_t k;

	if (!(seconds[(unsigned char)*p][c1 >> 5] & 1u << (c1 & 31)))
		return -1;
	for (k = 0; row[k] >= 0; k++) {
		const struct frag *f = &frags[row[k]];

		/* every fragment has two bytes or more: try the second first */
		if (f->len <= n && f->s[1] == p[1] && memcmp(f->s, p, f->len) ==
		    0)
			return row[k];
	}
	return -1;
}

char *
cl_text_pack(const char *s, size_t *lenp)
{
	size_t n = strlen(s), i = 0, o = 0;
	char *out = xmalloc(2 * n + 1);	/* every byte escaped, at worst */
	int f;

	pthread_once(&by_first_once, index_frags);
	while (i < n) {
		unsigned char ch;
		size_t run = i;

		while (i < n && !stops[(unsigned char)s[i]])
			i++;
		memcpy(out + o, s + run, i - run);
		o += i - run;
		if (i == n)
			break;
		ch = (unsigned char)s[i];
		if ((f = match(s + i, n - i)) >= 0) {
			out[o++] = (char)(f + 1);
			i += frags[f].len;
			continue;
		}
		if (ch >= 1 && ch <= ESC)
			out[o++] = ESC;
		out[o++] = s[i++];
	}
	out[o] = '\0';
	*lenp = o;
	return out;
}

/*
 * Whether the 8 bytes at p are all 0x20 or above: no fragment, escape
 * or NUL among them, so they stand for themselves (a word at a time:
 * the texts are mostly such runs).
 */
static int
plain8(const unsigned char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof w);
	return ((w - 0x2020202020202020ULL) & ~w & 0x8080808080808080ULL) ==
	    0;
}

size_t
cl_text_unpack_to(const char *p, char **out, size_t *cap)
{
	size_t len = strlen(p), n = 0, i, o = 0;
	const unsigned char *u = (const unsigned char *)p;
	char *d;

	for (i = 0; i < len; i++) {
		if (len - i >= 8 && plain8(u + i)) {
			n += 8;
			i += 7;
		} else if (u[i] == ESC && u[i + 1]) {
			i++;
			n++;
		} else
			n += u[i] < ESC ? frags[u[i] - 1].len : 1;
	}
	xgrow(out, cap, n + 1, 1);
	d = *out;
	for (i = 0; i < len; i++) {
		if (len - i >= 8 && plain8(u + i)) {
			memcpy(d + o, u + i, 8);
			o += 8;
			i += 7;
		} else if (u[i] == ESC && u[i + 1])
			d[o++] = (char)u[++i];
		else if (u[i] < ESC) {
			memcpy(d + o, frags[u[i] - 1].s, frags[u[i] - 1].len);
			o += frags[u[i] - 1].len;
		} else
			d[o++] = (char)u[i];
	}
	d[o] = '\0';
	return o;
}

char *
cl_text_unpack(const char *p)
{
	char *out = NULL;
	size_t cap = 0;

	(void)cl_text_unpack_to(p, &out, &cap);
	return out;
}

int
cl_text_is(const char *packed, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)packed;
	size_t len = strlen(packed), i, o = 0;

	for (i = 0; i < len; i++) {
		if (len - i >= 8 && n - o >= 8 && plain8(u + i)) {
			if (memcmp(u + i, s + o, 8) != 0)
				return 0;
			o += 8;
			i += 7;
		} else if (u[i] == ESC && u[i + 1]) {
			if (o == n || s[o++] != (char)u[++i])
				return 0;
		} else if (u[i] < ESC) {
			const struct frag *f = &frags[u[i] - 1];

			if (n - o < f->len || memcmp(s + o, f->s, f->len) != 0)
				return 0;
			o += f->len;
		} else if (o == n || s[o++] != (char)u[i])
			return 0;
	}
	return o == n;
}
