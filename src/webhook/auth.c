/*
 * Credentials: Argo's authSecret (Authorization: Bearer TOKEN), basicAuth,
 * and remediate's hmac (HMAC-SHA256 of the body, hex, in a header, with or
 * without GitHub's "sha256=" prefix).  A sender that also sends
 * X-Webhook-Timestamp (Unix seconds) signs "TIMESTAMP.BODY" instead, and
 * a timestamp further than HOOK_TS_SKEW from now is refused: a captured
 * request cannot be replayed later.  Replays inside that window, and of
 * senders that do not sign a timestamp, are caught by the replay marks
 * (src/intake/).
 *
 * Comparisons run in constant time: tokens are compared as SHA-256
 * digests (so not even their length leaks), signatures with
 * CRYPTO_memcmp.  Secrets are read at each request (util/secret.h), so
 * a rotated Secret takes effect without a reload; a secret that cannot
 * be read fails closed (500, logged), never open.
 */
#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "webhook/hook_int.h"

static int
same_text(const char *a, size_t alen, const char *b, size_t blen)
{
	unsigned char da[SHA256_DIGEST_LENGTH], db[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)a, alen, da);
	SHA256((const unsigned char *)b, blen, db);
	return CRYPTO_memcmp(da, db, sizeof da) == 0;
}

/* The credentials after "SCHEME " in Authorization, or NULL. */
static const char *
credentials(const struct http_request *r, const char *scheme)
{
	const char *h = http_header_get(r, "Authorization");
	size_t n = strlen(scheme);

	if (h == NULL || strncasecmp(h, scheme, n) != 0 || h[n] != ' ')
		return NULL;
	h += n;
	while (*h == ' ')
		h++;
	return h;
}

static int
check_bearer(const struct hook_endpoint *e, const struct http_request *r,
    const char **why, char **err)
{
	const char *given = credentials(r, "Bearer");
	char *tok;
	int ok;

	if ((tok = secret_read(&e->token, err)) == NULL) {
		*why = "the endpoint's token cannot be read";
		return 500;
	}
	ok = given != NULL && same_text(tok, strlen(tok), given,
	    strlen(given));
	secret_free(tok);
	if (!ok) {
		*why = given ? "the bearer token does not match" :
		    "an Authorization: Bearer token is required";
		return 401;
	}
	return 0;
}

static int
check_basic(const struct hook_endpoint *e, const struct http_request *r,
    const char **why, char **err)
{
	unsigned char dec[3 * 1024];
	const char *given = credentials(r, "Basic"), *colon;
	char *user, *pass = NULL;
	int nd, ok = 0;
	size_t glen, pad = 0;

	if ((user = secret_read(&e->user, err)) == NULL ||
	    (pass = secret_read(&e->pass, err)) == NULL) {
		secret_free(user);
		*why = "the endpoint's basic auth secret cannot be read";
		return 500;
	}
	if (given != NULL && (glen = strlen(given)) > 0 && glen % 4 == 0 &&
	    glen / 4 * 3 < sizeof dec) {
		nd = EVP_DecodeBlock(dec, (const unsigned char *)given,
		    (int)glen);
		pad = (given[glen - 1] == '=') + (given[glen - 2] == '=');
		if (nd >= 0 && (size_t)nd >= pad) {
			nd -= (int)pad;
			colon = memchr(dec, ':', (size_t)nd);
			if (colon != NULL) {
				size_t ul = (size_t)(colon - (char *)dec);

				ok = same_text(user, strlen(user),
				    (char *)dec, ul) & same_text(pass,
				    strlen(pass), colon + 1,
				    (size_t)nd - ul - 1);
			}
		}
	}
	secret_free(user);
	secret_free(pass);
	explicit_bzero(dec, sizeof dec);
	if (!ok) {
		*why = given ? "the basic auth credentials do not match" :
		    "Authorization: Basic credentials are required";
		return 401;
	}
	return 0;
}

int
hook_auth_head(const struct hook_endpoint *e, const struct http_request *r,
    const char **why, char **err)
{
	*err = NULL;
	if (e->token.kind != SECRET_NONE)
		return check_bearer(e, r, why, err);
	if (e->user.kind != SECRET_NONE)
		return check_basic(e, r, why, err);
	return 0;
}

/* A signed timestamp (Unix seconds) close enough to now (ms)? */
static int
check_timestamp(const char *ts, int64_t now, const char **why)
{
	long long t;

	if (util_parse_int(ts, &t) == -1 || t < 0 || t > INT64_MAX / 1000) {
		*why = "the " HOOK_TS_HEADER " header is not Unix seconds";
		return -1;
	}
	if (t * 1000 < now - HOOK_TS_SKEW || t * 1000 > now + HOOK_TS_SKEW) {
		*why = "the signed timestamp is too old or in the future "
		    "(a replay?)";
		return -1;
	}
	return 0;
}

/* HMAC-SHA256 of the body, or of "TS.BODY" when ts is set. */
static int
sign(const char *key, int keylen, const char *ts,
    const struct http_request *r, unsigned char *mac, unsigned int *maclen)
{
	struct buf b;
	int rc;

	if (ts == NULL)
		return HMAC(EVP_sha256(), key, keylen, (const unsigned char *)
		    r->body, r->body_len, mac, maclen) == NULL ? -1 : 0;
	buf_init(&b, strlen(ts) + 1 + r->body_len + 1);
	buf_adds(&b, ts);
	buf_addc(&b, '.');
	buf_add(&b, r->body, r->body_len);
	rc = HMAC(EVP_sha256(), key, keylen, (const unsigned char *)b.data,
	    b.len, mac, maclen) == NULL ? -1 : 0;
	buf_free(&b);
	return rc;
}

int
hook_auth_body(const struct hook_endpoint *e, const struct http_request *r,
    int64_t now, const char **why, char **err)
{
	unsigned char mac[EVP_MAX_MD_SIZE], want[SHA256_DIGEST_LENGTH];
	unsigned int maclen = 0;
	const char *sig, *ts;
	char *key;
	int ok = 1;
	size_t i;

	*err = NULL;
	if (e->hmac.kind == SECRET_NONE)
		return 0;
	ts = http_header_get(r, HOOK_TS_HEADER);
	sig = http_header_get(r, e->hmac_header);
	if (sig == NULL) {
		*why = "the request is not signed";
		return 401;
	}
	if (strncasecmp(sig, "sha256=", 7) == 0)
		sig += 7;
	if (strlen(sig) != 2 * sizeof want) {
		*why = "the signature is not a hex HMAC-SHA256";
		return 403;
	}
	for (i = 0; i < sizeof want; i++) {
		int hi = util_hex_digit((unsigned char)sig[2 * i]);
		int lo = util_hex_digit((unsigned char)sig[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			*why = "the signature is not a hex HMAC-SHA256";
			return 403;
		}
		want[i] = (unsigned char)(hi << 4 | lo);
	}
	if (ts && check_timestamp(ts, now, why) != 0)
		return 401;
	if ((key = secret_read(&e->hmac, err)) == NULL) {
		*why = "the endpoint's HMAC secret cannot be read";
		return 500;
	}
	if (sign(key, (int)strlen(key), ts, r, mac, &maclen) == -1 ||
	    maclen != sizeof want)
		ok = 0;
	secret_free(key);
	if (!ok || CRYPTO_memcmp(mac, want, sizeof want) != 0) {
		*why = "the signature does not match the body";
		return 403;
	}
	return 0;
}

char *
hook_replay_key(const struct hook_endpoint *e, const struct http_request *r)
{
	const char *sig;
	char *key;
	size_t i, n;

	if (e->hmac.kind == SECRET_NONE ||
	    (sig = http_header_get(r, e->hmac_header)) == NULL)
		return NULL;
	if (strncasecmp(sig, "sha256=", 7) == 0)
		sig += 7;
	key = xasprintf("%s/%s/%s", e->source, e->name, sig);
	for (i = strlen(key) - strlen(sig), n = strlen(key); i < n; i++)
		key[i] = (char)tolower((unsigned char)key[i]);
	return key;
}
