/*
 * Secret references and reading them (see secret.h).
 *
 * Argo Events reads a mounted Secret with os.ReadFile and drops one
 * trailing "\n" (editors add it; `kubectl create secret --from-file`
 * keeps it), so do we, and no more: a value with "\r\n" or two newlines
 * at its end would be another value in Argo, so as one line it is an
 * error here rather than silently a third value.
 */
#include <stdlib.h>
#include <string.h>

#include "util/secret.h"
#include "util/util.h"

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
secret_clear(struct secret *s)
{
	free(s->path);
	free(s->env);
	free(s->what);
	memset(s, 0, sizeof *s);
}

int
secret_compile(const json_t *ref, const char *dir, struct secret *s,
    char **err)
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
		s->kind = SECRET_FILE;
		s->path = xstrdup(file);
		s->what = xasprintf("file %s", file);
	} else if (env && *env) {
		s->kind = SECRET_ENV;
		s->env = xstrdup(env);
		s->what = xasprintf("environment variable %s", env);
	} else if (name && key) {
		if (!safe_component(name, 0) || !safe_component(key, 1)) {
			*err = xasprintf("secret \"%s\" key \"%s\" is not a "
			    "Kubernetes Secret name and key", name, key);
			return -1;
		}
		s->kind = SECRET_FILE;
		s->path = xasprintf("%s/%s/%s", dir ? dir : SECRET_DIR, name,
		    key);
		s->what = xasprintf("secret %s key %s (file %s)", name, key,
		    s->path);
	} else {
		*err = xstrdup("give {file: PATH}, {env: NAME} or a Secret's "
		    "{name, key}");
		return -1;
	}
	return 0;
}

static char *
read_secret(const struct secret *s, int multiline, char **err)
{
	const char *v;
	char *out, *e = NULL;
	size_t len = 0;

	*err = NULL;
	switch (s->kind) {
	case SECRET_ENV:
		if ((v = getenv(s->env)) == NULL || *v == '\0') {
			*err = xasprintf("%s is not set", s->what);
			return NULL;
		}
		if ((len = strlen(v)) > SECRET_MAX) {
			*err = xasprintf("%s is longer than %u bytes", s->what,
			    SECRET_MAX);
			return NULL;
		}
		out = xstrdup(v);
		break;
	case SECRET_FILE:
		if ((out = util_read_file(s->path, SECRET_MAX, &len, &e)) ==
		    NULL) {
			*err = xasprintf("%s cannot be read: %s", s->what, e);
			free(e);
			return NULL;
		}
		break;
	default:
		*err = xstrdup("no secret");
		return NULL;
	}
	if (len > 0 && out[len - 1] == '\n')	/* Argo's TrimSuffix "\n" */
		out[--len] = '\0';
	if (len == 0)
		*err = xasprintf("%s is empty", s->what);
	else if (memchr(out, '\0', len) != NULL)
		*err = xasprintf("%s is not text", s->what);
	else if (!multiline && strpbrk(out, "\r\n") != NULL)
		*err = xasprintf("%s holds more than one line (only one "
		    "trailing newline is dropped)", s->what);
	if (*err != NULL) {
		explicit_bzero(out, len);
		free(out);
		return NULL;
	}
	return out;
}

char *
secret_read(const struct secret *s, char **err)
{
	return read_secret(s, 0, err);
}

char *
secret_read_pem(const struct secret *s, char **err)
{
	return read_secret(s, 1, err);
}

void
secret_free(char *v)
{
	if (v == NULL)
		return;
	explicit_bzero(v, strlen(v));
	free(v);
}

json_t *
secret_json(const struct secret *s)
{
	switch (s->kind) {
	case SECRET_ENV:
		return json_pack("{s:s}", "env", s->env);
	case SECRET_FILE:
		return json_pack("{s:s}", "file", s->path);
	default:
		return json_null();
	}
}
