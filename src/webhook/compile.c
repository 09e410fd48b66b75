/*
 * Compiling EventSource webhook entries into a hook set.
 *
 * Secrets: Argo mounts a Kubernetes Secret and reads {name, key} from
 * /argo-events/secrets/NAME/KEY.  remediate reads the same selector from
 * a directory of its own (hook_set_opts.secrets_dir, default SECRET_DIR):
 * mount Secret NAME at DIR/NAME.  Two remediate forms serve hosts without
 * Kubernetes: {file: /path} and {env: NAME}.  util/secret.h compiles and
 * reads them, for notifications and http triggers alike.  A secret never
 * sits in the manifest itself.
 */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "webhook/hook_int.h"

#define MAX_PAYLOAD	(64u << 20)	/* bytes: highest maxPayloadSize */

/* ---- interned names ------------------------------------------------------ */

static pthread_mutex_t intern_lock = PTHREAD_MUTEX_INITIALIZER;
static struct map interned;	/* name -> owned copy, kept until exit */

const char *
hook_intern(const char *s)
{
	char *v;

	pthread_mutex_lock(&intern_lock);
	if ((v = map_get(&interned, s)) == NULL) {
		v = xstrdup(s);
		map_put(&interned, s, v);
	}
	pthread_mutex_unlock(&intern_lock);
	return v;
}

/* ---- sets ---------------------------------------------------------------- */

struct hook_set *
hook_set_new(void)
{
	struct hook_set *s = xcalloc(1, sizeof *s);

	s->magic = HOOK_SET_MAGIC;
	atomic_init(&s->refs, 1);
	return s;
}

static void
endpoint_clear(struct hook_endpoint *e)
{
	free(e->method);
	free(e->path);
	secret_clear(&e->token);
	secret_clear(&e->user);
	secret_clear(&e->pass);
	secret_clear(&e->hmac);
	free(e->hmac_header);
	while (e->nsecret > 0)
		free(e->secret[--e->nsecret]);
	free(e->secret);
	json_decref(e->metadata);
}

void
hook_set_free(struct hook_set *s)
{
	size_t i;

	if (s == NULL || s->magic != HOOK_SET_MAGIC)
		return;
	for (i = 0; i < s->n; i++)
		endpoint_clear(&s->v[i]);
	free(s->v);
	s->magic = 0;
	free(s);
}

size_t
hook_set_count(const struct hook_set *s)
{
	return s ? s->n : 0;
}

const struct hook_endpoint *
hook_set_find(const struct hook_set *s, const char *method, const char *path,
    int *path_known)
{
	size_t i;

	*path_known = 0;
	for (i = 0; s != NULL && i < s->n; i++) {
		if (strcmp(s->v[i].path, path) != 0)
			continue;
		*path_known = 1;
		if (strcmp(s->v[i].method, method) == 0 ||
		    (strcmp(s->v[i].method, "GET") == 0 &&
		    strcmp(method, "HEAD") == 0))
			return &s->v[i];
	}
	return NULL;
}

char *
hook_set_describe(const struct hook_set *s, size_t i)
{
	const struct hook_endpoint *e;
	struct buf b;

	if (s == NULL || i >= s->n)
		return xstrdup("");
	e = &s->v[i];
	buf_init(&b, 0);
	buf_printf(&b, "%s %s -> %s/%s", e->method, e->path, e->source,
	    e->name);
	if (e->token.kind != SECRET_NONE)
		buf_adds(&b, ", bearer token");
	if (e->user.kind != SECRET_NONE)
		buf_adds(&b, ", basic auth");
	if (e->hmac.kind != SECRET_NONE)
		buf_printf(&b, ", HMAC-SHA256 in %s", e->hmac_header);
	if (hook_set_unauthenticated(s, i))
		buf_adds(&b, ", no authentication");
	buf_printf(&b, ", body <= %zu bytes", e->max_body);
	return buf_steal(&b);
}

int
hook_set_unauthenticated(const struct hook_set *s, size_t i)
{
	const struct hook_endpoint *e;

	if (s == NULL || i >= s->n)
		return 0;
	e = &s->v[i];
	if (e->token.kind != SECRET_NONE || e->user.kind != SECRET_NONE ||
	    e->hmac.kind != SECRET_NONE)
		return 0;
	return e->auth_none ? 1 : 2;
}

/* ---- secrets ------------------------------------------------------------- */

static int
compile_secret(const struct mdoc *d, json_t *parent, const char *field,
    const struct hook_set_opts *o, struct secret *sec, struct diags *dg)
{
	json_t *ref = json_object_get(parent, field);
	const char *name = json_string_value(json_object_get(ref, "name"));
	struct loc at = conf_loc_value(d, parent, field, 0);
	char *err = NULL, *v, *what;

	if (ref == NULL)
		return 0;
	if (secret_compile(ref, o->secrets_dir, sec, &err) == -1) {
		diag_error(dg, at, "%s: %s", field, err);
		free(err);
		return -1;
	}
	/* logs at request time say which of the endpoint's secrets */
	what = xasprintf("%s: %s", field, sec->what);
	free(sec->what);
	sec->what = what;
	if (!o->read_secrets)
		return 0;
	if ((v = secret_read(sec, &err)) == NULL) {
		diag_error(dg, at, "%s", err);
		if (sec->kind == SECRET_FILE && name != NULL)
			diag_hint(dg, "mount Secret %s at %s/%s", name,
			    o->secrets_dir ? o->secrets_dir : SECRET_DIR,
			    name);
		free(err);
		return -1;
	}
	secret_free(v);
	return 0;
}

/* ---- entries ------------------------------------------------------------- */

static int
check_unique(struct hook_set *set, const struct mdoc *d, json_t *spec,
    const char *name, const struct hook_endpoint *e,
    const struct hook_set_opts *o, struct diags *dg)
{
	struct loc at = conf_loc_value(d, spec, "endpoint", 0);
	size_t i;

	for (i = 0; i < set->n; i++) {
		if (strcmp(set->v[i].path, e->path) != 0 ||
		    strcmp(set->v[i].method, e->method) != 0)
			continue;
		diag_error(dg, at, "webhook %s: %s %s is already the endpoint "
		    "of %s/%s", name, e->method, e->path, set->v[i].source,
		    set->v[i].name);
		diag_hint(dg, "every webhook shares one listener: give each "
		    "its own endpoint");
		return -1;
	}
	if (o->server != NULL && (http_route_exists(o->server, e->method,
	    e->path) || http_route_exists(o->server, "GET", e->path))) {
		diag_error(dg, at, "webhook %s: %s is served by remediate "
		    "itself", name, e->path);
		return -1;
	}
	return 0;
}

static int
compile_entry(struct hook_set *set, const struct mdoc *d, const char *name,
    json_t *spec, const struct hook_set_opts *o, struct diags *dg)
{
	struct hook_endpoint e;
	const char *ep = json_string_value(json_object_get(spec, "endpoint"));
	const char *method = json_string_value(json_object_get(spec,
	    "method"));
	const char *hdr;
	json_t *basic = json_object_get(spec, "basicAuth");
	json_t *hmac = json_object_get(spec, "hmac");
	json_t *max = json_object_get(spec, "maxPayloadSize");
	json_t *meta = json_object_get(spec, "metadata"), *h;
	size_t i, secretcap = 0;
	int bad = 0;

	if (ep == NULL || *ep != '/' || method == NULL)
		return -1;	/* the schema reported it */
	memset(&e, 0, sizeof e);
	e.source = hook_intern(d->name ? d->name : "");
	e.name = hook_intern(name);
	e.method = xstrdup(method);
	e.path = xstrdup(ep);
	e.max_body = HTTP_DEFAULT_MAX_BODY;
	if (json_is_integer(max)) {
		if (json_integer_value(max) <= 0 ||
		    json_integer_value(max) > (json_int_t)MAX_PAYLOAD) {
			diag_error(dg, conf_loc_value(d, spec,
			    "maxPayloadSize", 0), "webhook %s: maxPayloadSize "
			    "must be 1 to %u bytes", name, MAX_PAYLOAD);
			bad = 1;
		} else
			e.max_body = (size_t)json_integer_value(max);
	}
	if (json_object_get(spec, "authSecret") && basic != NULL) {
		diag_error(dg, conf_loc_value(d, spec, "basicAuth", 0),
		    "webhook %s: authSecret and basicAuth both use the "
		    "Authorization header; give one", name);
		bad = 1;
	}
	bad |= compile_secret(d, spec, "authSecret", o, &e.token, dg) != 0;
	bad |= compile_secret(d, basic, "username", o, &e.user, dg) != 0;
	bad |= compile_secret(d, basic, "password", o, &e.pass, dg) != 0;
	bad |= compile_secret(d, hmac, "secret", o, &e.hmac, dg) != 0;
	/*
	 * A GET's event is its query string, which the body's HMAC does not
	 * cover: every signature would be HMAC(""), a constant that
	 * authenticates any query once it has been seen.
	 */
	if (hmac != NULL && strcmp(method, "GET") == 0) {
		diag_error(dg, conf_loc_value(d, spec, "hmac", 0), "webhook "
		    "%s: hmac signs the body, and a GET's event is its query "
		    "string, which it would not cover", name);
		diag_hint(dg, "use method: POST, or authSecret (a bearer "
		    "token) for a GET");
		bad = 1;
	}
	hdr = json_string_value(json_object_get(hmac, "header"));
	e.hmac_header = xstrdup(hdr ? hdr : HOOK_SIG_HEADER);
	if (json_is_object(meta) && json_object_size(meta) > 0)
		e.metadata = json_deep_copy(meta);
	e.auth_none = json_object_get(spec, "auth") != NULL;
	json_array_foreach(json_object_get(spec, "secretHeaders"), i, h) {
		char canon[256];

		if (!json_is_string(h))
			continue;
		hook_canonical_header(json_string_value(h), canon,
		    sizeof canon);
		xgrow(&e.secret, &secretcap, e.nsecret + 1, sizeof *e.secret);
		e.secret[e.nsecret++] = xstrdup(canon);
	}
	bad |= check_unique(set, d, spec, name, &e, o, dg) != 0;
	if (bad) {
		endpoint_clear(&e);
		return -1;
	}
	xgrow(&set->v, &set->cap, set->n + 1, sizeof *set->v);
	set->v[set->n++] = e;
	return 0;
}

int
hook_set_add(struct hook_set *set, const struct mdoc *d,
    const struct hook_set_opts *o, struct diags *dg)
{
	static const struct hook_set_opts none;
	json_t *hooks = json_object_get(json_object_get(d->root, "spec"),
	    "webhook");
	const char *name;
	json_t *spec;
	int rc = 0;

	if (o == NULL)
		o = &none;
	json_object_foreach(hooks, name, spec)
		if (compile_entry(set, d, name, spec, o, dg) == -1)
			rc = -1;
	return rc;
}
