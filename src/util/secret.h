/*
 * secret: where a credential lives, read when it is used.  Webhook
 * endpoints (authSecret, basicAuth, hmac), notification destinations and
 * http triggers all name their secrets this way and read them here.
 *
 * A reference is Argo's Kubernetes Secret selector {name, key} (also
 * wrapped as {secretKeyRef: {name, key}}), read from the file
 * DIR/NAME/KEY (mount Secret NAME at DIR/NAME), or remediate's
 * {file: PATH} or {env: NAME} for hosts without Kubernetes.  Reading at
 * each use lets a rotated Secret take effect without a reload.  A value
 * never sits in the manifest, a plan or a log: those show the reference,
 * and values are wiped from memory when done with.
 */
#ifndef UTIL_SECRET_H
#define UTIL_SECRET_H

#include <jansson.h>

#define SECRET_DIR	"/var/run/secrets/remediate"
#define SECRET_MAX	4096		/* bytes of one secret */

enum secret_kind {
	SECRET_NONE,
	SECRET_FILE,	/* path: read at each use (rotation) */
	SECRET_ENV,	/* env: read at each use */
};

struct secret {
	enum secret_kind	 kind;
	char			*path;	/* owned, FILE */
	char			*env;	/* owned, ENV */
	char			*what;	/* owned: "file /x", "environment
					   variable X", for messages */
};

/*
 * Compiles reference ref (borrowed JSON); a Secret selector is read from
 * dir/NAME/KEY (dir NULL: SECRET_DIR).  Returns 0 with *s (clear it with
 * secret_clear), or -1 with *err (owned) when ref is none of the forms
 * or its name or key could leave dir.
 */
int	 secret_compile(const json_t *ref, const char *dir, struct secret *s,
	    char **err);
/*
 * Reads the secret now, as Argo reads a mounted one: the bytes less one
 * trailing newline.  Returns an owned NUL-terminated value (the caller
 * wipes it with secret_free), or NULL with *err (owned; says where, never
 * what) when it cannot be read, is empty, longer than SECRET_MAX, holds a
 * NUL byte, or, read as one line, holds a line break: a header value with
 * one would inject headers.
 */
char	*secret_read(const struct secret *, char **err);
/* secret_read for PEM text: several lines allowed. */
char	*secret_read_pem(const struct secret *, char **err);
/* Wipes and frees any string that held a secret; NULL ok. */
void	 secret_free(char *value);
void	 secret_clear(struct secret *);
/* The reference as JSON for plans and logs ({"env": "X"}), owned. */
json_t	*secret_json(const struct secret *);

#endif /* UTIL_SECRET_H */
