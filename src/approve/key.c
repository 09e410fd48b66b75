/*
 * The approval key and the signatures it makes.
 *
 * The signed message binds the id to its expiry and to its purpose:
 * "remediate-approval" NUL id NUL expiry-in-ms.  Changing either part of
 * a link breaks the signature; a signature made for something else with
 * the same key cannot pass as one.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "approve/approve.h"
#include "sqldb/sqldb.h"
#include "util/util.h"

#define PURPOSE		"remediate-approval"

static void
hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
set_key(struct approve_key *k, const char *text, size_t len,
    const char *source, char **err)
{
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	if (len < APPROVE_KEY_MIN || len > APPROVE_KEY_MAX) {
		*err = xasprintf("the approval key from %s has %zu bytes; it "
		    "needs %d to %d", source, len, APPROVE_KEY_MIN,
		    APPROVE_KEY_MAX);
		return -1;
	}
	memcpy(k->k, text, len);
	k->len = len;
	snprintf(k->source, sizeof k->source, "%s", source);
	return 0;
}

static int
read_key(struct approve_key *k, const char *path, char **err)
{
	char *text, *e = NULL, *src;
	size_t len = 0;
	int rc;

	if ((text = util_read_file(path, APPROVE_KEY_MAX + 2, &len,
	    &e)) == NULL) {
		*err = xasprintf("approval key %s: %s", path, e);
		free(e);
		return -1;
	}
	src = xasprintf("file %s", path);
	rc = set_key(k, text, len, src, err);
	free(src);
	explicit_bzero(text, len);
	free(text);
	return rc;
}

/*
 * Creates path with a fresh random key, unless it exists (a race lost).
 * The key is written whole to a file of our own first and linked into
 * place, so a replica starting beside us never reads a half-written key.
 */
static int
generate(const char *path, char **err)
{
	unsigned char raw[32];
	char text[2 * sizeof raw + 2];
	char *tmp = xasprintf("%s.%ld.tmp", path, (long)getpid());
	int fd, rc = -1;
	ssize_t w;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1) {
		*err = xasprintf("cannot create the approval key %s: %s", path,
		    strerror(errno));
		free(tmp);
		return -1;
	}
	if (RAND_bytes(raw, sizeof raw) != 1) {
		*err = xstrdup("no randomness for the approval key");
		goto out;
	}
	hex(raw, sizeof raw, text);
	strncat(text, "\n", sizeof text - strlen(text) - 1);
	w = write(fd, text, strlen(text));
	explicit_bzero(raw, sizeof raw);
	explicit_bzero(text, sizeof text);
	if (w != (ssize_t)(2 * sizeof raw + 1) || fsync(fd) == -1) {
		*err = xasprintf("cannot write the approval key %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (link(tmp, path) == -1 && errno != EEXIST) {
		*err = xasprintf("cannot create the approval key %s: %s", path,
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	close(fd);
	unlink(tmp);
	free(tmp);
	return rc;
}

int
approve_key_load(const char *key_file, const char *state_path,
    struct approve_key *k, char **err)
{
	const char *env = getenv(APPROVE_KEY_ENV);
	char *path;
	int rc;

	memset(k, 0, sizeof *k);
	*err = NULL;
	if (env && *env)
		return set_key(k, env, strlen(env), "environment variable "
		    APPROVE_KEY_ENV, err);
	if (key_file == NULL || *key_file == '\0')
		key_file = getenv(APPROVE_KEY_FILE_ENV);
	if (key_file && *key_file)
		return read_key(k, key_file, err);
	if (state_path == NULL || *state_path == '\0') {
		*err = xstrdup("no approval key: set " APPROVE_KEY_ENV " or "
		    "give a state file");
		return -1;
	}
	if (sqldb_is_postgres(state_path)) {
		/* no file beside the state to generate one in, and every
		   replica must verify what the last leader signed */
		*err = xstrdup("no approval key: with --state postgres://... "
		    "set " APPROVE_KEY_ENV " or give --approval-key FILE, the "
		    "same for every replica (docs/state.md)");
		return -1;
	}
	path = xasprintf("%s.approval-key", state_path);
	rc = generate(path, err) == 0 ? read_key(k, path, err) : -1;
	free(path);
	return rc;
}

void
approve_sign(const struct approve_key *k, const char *id, int64_t expires,
    char out[APPROVE_SIG_LEN + 1])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char msg[128];
	int len;

	len = snprintf(msg, sizeof msg, "%s%c%s%c%lld", PURPOSE, 0, id, 0,
	    (long long)expires);
	if (len < 0 || (size_t)len >= sizeof msg)
		len = 0;	/* an oversized id signs nothing it matches */
	HMAC(EVP_sha256(), k->k, (int)k->len, (const unsigned char *)msg,
	    (size_t)len, mac, &n);
	hex(mac, n > 32 ? 32 : n, out);
}

int
approve_verify(const struct approve_key *k, const char *id, int64_t expires,
    const char *sig)
{
	char want[APPROVE_SIG_LEN + 1], got[APPROVE_SIG_LEN + 1];
	size_t i;

	if (sig == NULL || strlen(sig) != APPROVE_SIG_LEN)
		return 0;
	for (i = 0; i < APPROVE_SIG_LEN; i++)
		got[i] = (char)(sig[i] >= 'A' && sig[i] <= 'F' ? sig[i] + 32 :
		    sig[i]);
	got[APPROVE_SIG_LEN] = '\0';
	approve_sign(k, id, expires, want);
	return CRYPTO_memcmp(want, got, APPROVE_SIG_LEN) == 0;
}
