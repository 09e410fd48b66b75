/*
 * Secrets: where a credential lives, read when it is used.
 *
 * Reading at each use lets a rotated Secret (a new file under the mounted
 * directory, a new environment at restart) take effect without a reload.
 * A value never sits in the manifest, a plan or a log: plans and logs
 * show the reference ({"env": "SLACK_URL"}), and values are wiped from
 * memory when done with.
 */
#include <stdlib.h>
#include <string.h>

#include "notify/notify_int.h"

/* A Secret name (DNS subdomain) or key ([-._a-zA-Z0-9]); never . or .. */
static int
safe_component(const char *s, int key)
{
	const char *p;

	if (*s == '\0' || strlen(s) > 253 || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return 0;
	for (p = s; *p; p++) {
		char c = *p;

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.')
			continue;
		if (key && ((c >= 'A' && c <= 'Z') || c == '_'))
			continue;
		return 0;
	}
	return 1;
}

void
notify_secret_clear(struct notify_secret *s)
{
	free(s->path);
	free(s->env);
	free(s->what);
	memset(s, 0, sizeof *s);
}

int
notify_secret_compile(const json_t *ref, const char *dir,
    struct notify_secret *s, char **err)
{
	const json_t *sel = json_object_get(ref, "secretKeyRef");
	const char *file = json_string_value(json_object_get(ref, "file"));
	const char *env = json_string_value(json_object_get(ref, "env"));
	const char *name, *key;

	memset(s, 0, sizeof *s);
	*err = NULL;
	if (!json_is_object(sel))
		sel = ref;
	name = json_string_value(json_object_get(sel, "name"));
	key = json_string_value(json_object_get(sel, "key"));
	if (file && *file) {
		s->kind = NOTIFY_SECRET_FILE;
		s->path = xstrdup(file);
		s->what = xasprintf("file %s", file);
	} else if (env && *env) {
		s->kind = NOTIFY_SECRET_ENV;
		s->env = xstrdup(env);
		s->what = xasprintf("environment variable %s", env);
	} else if (name && key) {
		if (!safe_component(name, 0) || !safe_component(key, 1)) {
			*err = xasprintf("secret \"%s\" key \"%s\" is not a "
			    "Kubernetes Secret name and key", name, key);
			return -1;
		}
		s->kind = NOTIFY_SECRET_FILE;
		s->path = xasprintf("%s/%s/%s", dir ? dir :
		    NOTIFY_SECRETS_DIR, name, key);
		s->what = xasprintf("secret %s key %s (file %s)", name, key,
		    s->path);
	} else {
		*err = xstrdup("give {file: PATH}, {env: NAME} or a Secret's "
		    "{name, key}");
		return -1;
	}
	return 0;
}

/* Reads s; a PEM (multiline) may span lines, a token may not. */
static char *
read_secret(const struct notify_secret *s, int multiline, char **err)
{
	const char *v;
	char *out, *e = NULL;
	size_t len = 0;

	*err = NULL;
	switch (s->kind) {
	case NOTIFY_SECRET_ENV:
		if ((v = getenv(s->env)) == NULL || *v == '\0') {
			*err = xasprintf("%s is not set", s->what);
			return NULL;
		}
		if ((len = strlen(v)) > NOTIFY_MAX_SECRET) {
			*err = xasprintf("%s is longer than %u bytes", s->what,
			    NOTIFY_MAX_SECRET);
			return NULL;
		}
		out = xstrdup(v);
		break;
	case NOTIFY_SECRET_FILE:
		if ((out = util_read_file(s->path, NOTIFY_MAX_SECRET, &len,
		    &e)) == NULL) {
			*err = xasprintf("%s cannot be read: %s", s->what, e);
			free(e);
			return NULL;
		}
		break;
	default:
		*err = xstrdup("no secret");
		return NULL;
	}
	/* `kubectl create secret --from-file` keeps a trailing newline */
	while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == '\r'))
		out[--len] = '\0';
	if (len == 0 || memchr(out, '\0', len) != NULL || (!multiline &&
	    strpbrk(out, "\r\n") != NULL)) {
		*err = xasprintf("%s is empty, not text, or more than one "
		    "line", s->what);
		notify_secret_free(out);
		return NULL;
	}
	return out;
}

char *
notify_secret_read(const struct notify_secret *s, char **err)
{
	/* one line: a header value with a newline would inject headers */
	return read_secret(s, 0, err);
}

char *
notify_secret_read_pem(const struct notify_secret *s, char **err)
{
	return read_secret(s, 1, err);
}

void
notify_secret_free(char *v)
{
	if (v == NULL)
		return;
	explicit_bzero(v, strlen(v));
	free(v);
}

json_t *
notify_secret_json(const struct notify_secret *s)
{
	switch (s->kind) {
	case NOTIFY_SECRET_ENV:
		return json_pack("{s:s}", "env", s->env);
	case NOTIFY_SECRET_FILE:
		return json_pack("{s:s}", "file", s->path);
	default:
		return json_null();
	}
}
