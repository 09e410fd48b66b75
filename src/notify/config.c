/*
 * The notification configuration: RemediationConfig's spec.owners and
 * spec.notifications, compiled once per configuration (the schema in
 * conf/schema_remediate.c has checked the shapes; here we check what
 * needs more than one place: destinations named by routes and default
 * exist, secrets can be found).
 *
 *   spec:
 *     owners:
 *       key: remediation.platform/owner    # label or annotation
 *       routes: {team-shop: shop, team-pay: [pay, pay-hook]}
 *     notifications:
 *       default: platform
 *       baseURL: https://remediate.example.com
 *       attempts: 3
 *       links: {dashboard: "https://g/d?ns={{ .Input.target.namespace }}"}
 *       destinations:
 *         platform: {slack: {url: {env: SLACK_URL}, channel: "#oncall"}}
 *         pay-hook: {webhook: {url: https://hooks.internal/x,
 *                    secureHeaders: [{name: Authorization,
 *                                     valueFrom: {file: /run/token}}]},
 *                    timeout: 5s, tls: {caFile: /etc/ca.pem}}
 */
#include <stdlib.h>
#include <string.h>

#include "notify/notify.h"

#define DEFAULT_ATTEMPTS	3

static void
dest_clear(struct notify_dest *d)
{
	size_t i;

	free(d->name);
	free(d->url);
	secret_clear(&d->url_secret);
	for (i = 0; i < d->nheaders; i++) {
		free(d->headers[i].name);
		free(d->headers[i].value);
		secret_clear(&d->headers[i].secret);
	}
	free(d->headers);
	free(d->channel);
	free(d->username);
	free(d->icon_emoji);
	free(d->ca_file);
}

void
notify_config_free(struct notify_config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->ndests; i++)
		dest_clear(&c->dests[i]);
	free(c->dests);
	for (i = 0; i < c->nroutes; i++) {
		free(c->routes[i].owner);
		free(c->routes[i].dests);
	}
	free(c->routes);
	for (i = 0; i < c->nlinks; i++) {
		free(c->links[i].name);
		free(c->links[i].tmpl);
	}
	free(c->links);
	free(c->owner_key);
	free(c->base_url);
	free(c->secrets_dir);
	free(c);
}

const struct notify_dest *
notify_dest_find(const struct notify_config *c, const char *name)
{
	size_t i;

	for (i = 0; name && i < c->ndests; i++)
		if (strcmp(c->dests[i].name, name) == 0)
			return &c->dests[i];
	return NULL;
}

static char *
dupstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s ? xstrdup(s) : NULL;
}

/* Compiles a secret reference, reading it once when asked to. */
static int
secret(const struct mdoc *doc, json_t *parent, const char *key,
    const char *dir, int read, struct secret *s, struct diags *dg)
{
	char *err = NULL, *v;

	if (secret_compile(json_object_get(parent, key), dir, s,
	    &err) == -1) {
		diag_error(dg, conf_loc_value(doc, parent, key, 0), "%s: %s",
		    key, err);
		free(err);
		return -1;
	}
	if (read) {
		if ((v = secret_read(s, &err)) == NULL) {
			diag_error(dg, conf_loc_value(doc, parent, key, 0),
			    "%s: %s", key, err);
			free(err);
			return -1;
		}
		secret_free(v);
	}
	return 0;
}

static int
headers(const struct mdoc *doc, json_t *w, const char *dir, int read,
    struct notify_dest *d, struct diags *dg)
{
	json_t *plain = json_object_get(w, "headers");
	json_t *sec = json_object_get(w, "secureHeaders"), *v, *h;
	size_t n = json_object_size(plain) + json_array_size(sec), i = 0, j;
	const char *k;
	int rc = 0;

	d->headers = xcalloc(n ? n : 1, sizeof *d->headers);
	json_object_foreach(plain, k, v) {
		d->headers[i].name = xstrdup(k);
		d->headers[i++].value = xstrdup(json_string_value(v) ?
		    json_string_value(v) : "");
	}
	json_array_foreach(sec, j, h) {
		d->headers[i].name = dupstr(h, "name");
		if (secret(doc, h, "valueFrom", dir, read,
		    &d->headers[i].secret, dg) == -1)
			rc = -1;
		i++;
	}
	d->nheaders = i;
	return rc;
}

static int
dest(const struct mdoc *doc, const char *name, json_t *o, const char *dir,
    int read, struct notify_dest *d, struct diags *dg)
{
	json_t *w, *url, *tls = json_object_get(o, "tls");
	const char *t;
	int64_t ms;
	int rc = 0;

	d->name = xstrdup(name);
	d->timeout_ms = NOTIFY_TIMEOUT_MS;
	if ((t = json_string_value(json_object_get(o, "timeout"))) &&
	    duration_parse(t, &ms) == 0 && ms > 0)
		d->timeout_ms = (long)ms;
	d->ca_file = dupstr(tls, "caFile");
	d->insecure = json_is_true(json_object_get(tls,
	    "insecureSkipVerify"));
	if ((w = json_object_get(o, "slack")) != NULL) {
		d->format = NOTIFY_SLACK;
		d->channel = dupstr(w, "channel");
		d->username = dupstr(w, "username");
		d->icon_emoji = dupstr(w, "iconEmoji");
	} else if ((w = json_object_get(o, "webhook")) != NULL) {
		d->format = NOTIFY_WEBHOOK;
	} else {
		diag_error(dg, conf_loc(doc, o), "destination %s: give slack "
		    "or webhook", name);
		return -1;
	}
	url = json_object_get(w, "url");
	if (json_is_string(url))
		d->url = xstrdup(json_string_value(url));
	else if (secret(doc, w, "url", dir, read, &d->url_secret, dg) == -1)
		rc = -1;
	if (headers(doc, w, dir, read, d, dg) == -1)
		rc = -1;
	return rc;
}

static long
dest_index(const struct notify_config *c, const char *name)
{
	size_t i;

	for (i = 0; name && i < c->ndests; i++)
		if (strcmp(c->dests[i].name, name) == 0)
			return (long)i;
	return -1;
}

static int
route_one(struct notify_config *c, const struct mdoc *doc, json_t *parent,
    const char *key, size_t idx, json_t *v, struct notify_route *r,
    struct diags *dg)
{
	long i = dest_index(c, json_string_value(v));

	if (i < 0) {
		diag_error(dg, conf_loc_value(doc, parent, key, idx), "owner "
		    "%s routes to \"%s\", which is not a destination in "
		    "notifications.destinations", r->owner,
		    json_string_value(v) ? json_string_value(v) : "?");
		return -1;
	}
	r->dests[r->ndests++] = (size_t)i;
	return 0;
}

static int
routes(struct notify_config *c, const struct mdoc *doc, json_t *owners,
    struct diags *dg)
{
	json_t *rs = json_object_get(owners, "routes"), *v, *e;
	const char *k;
	size_t j;
	int rc = 0;

	c->routes = xcalloc(json_object_size(rs) + 1, sizeof *c->routes);
	json_object_foreach(rs, k, v) {
		struct notify_route *r = &c->routes[c->nroutes++];

		r->owner = xstrdup(k);
		r->dests = xcalloc(json_is_array(v) ? json_array_size(v) + 1 :
		    1, sizeof *r->dests);
		if (!json_is_array(v)) {
			if (route_one(c, doc, rs, k, 0, v, r, dg) == -1)
				rc = -1;
			continue;
		}
		json_array_foreach(v, j, e)
			if (route_one(c, doc, v, NULL, j, e, r, dg) == -1)
				rc = -1;
	}
	return rc;
}

static int
compile(struct notify_config *c, const struct mdoc *doc, int read,
    struct diags *dg)
{
	json_t *spec = json_object_get(doc->root, "spec");
	json_t *owners = json_object_get(spec, "owners");
	json_t *n = json_object_get(spec, "notifications");
	json_t *ds = json_object_get(n, "destinations"), *v;
	const char *k, *def, *t;
	int64_t ms;
	int rc = 0;

	free(c->owner_key);
	c->owner_key = dupstr(owners, "key");
	if (c->owner_key == NULL)
		c->owner_key = xstrdup(NOTIFY_OWNER_KEY);
	c->base_url = dupstr(n, "baseURL");
	if ((t = json_string_value(json_object_get(n, "approvalTTL"))) &&
	    duration_parse(t, &ms) == 0 && ms > 0)
		c->approval_ttl = ms;
	if (json_is_integer(json_object_get(n, "attempts")))
		c->attempts = (int)json_integer_value(json_object_get(n,
		    "attempts"));
	c->dests = xcalloc(json_object_size(ds) + 1, sizeof *c->dests);
	json_object_foreach(ds, k, v)
		if (dest(doc, k, v, c->secrets_dir, read,
		    &c->dests[c->ndests++], dg) == -1)
			rc = -1;
	c->links = xcalloc(json_object_size(json_object_get(n, "links")) + 1,
	    sizeof *c->links);
	json_object_foreach(json_object_get(n, "links"), k, v) {
		c->links[c->nlinks].name = xstrdup(k);
		c->links[c->nlinks++].tmpl = xstrdup(json_string_value(v) ?
		    json_string_value(v) : "");
	}
	if ((def = json_string_value(json_object_get(n, "default"))) != NULL &&
	    (c->default_dest = dest_index(c, def)) < 0) {
		diag_error(dg, conf_loc_value(doc, n, "default", 0), "default "
		    "destination \"%s\" is not in notifications.destinations",
		    def);
		rc = -1;
	}
	if (routes(c, doc, owners, dg) == -1)
		rc = -1;
	return rc;
}

struct notify_config *
notify_config_new(const struct conf *cf, const char *secrets_dir,
    int read_secrets, struct diags *dg)
{
	struct notify_config *c = xcalloc(1, sizeof *c);
	size_t errors = dg->errors;

	c->default_dest = -1;
	c->attempts = DEFAULT_ATTEMPTS;
	c->owner_key = xstrdup(NOTIFY_OWNER_KEY);
	c->secrets_dir = xstrdup(secrets_dir ? secrets_dir :
	    SECRET_DIR);
	if (cf && cf->nby_kind[CONF_REMEDIATIONCONFIG] > 0)
		(void)compile(c, cf->by_kind[CONF_REMEDIATIONCONFIG][0],
		    read_secrets, dg);
	if (dg->errors > errors) {
		notify_config_free(c);
		return NULL;
	}
	return c;
}

/* A label, else an annotation, of obj. */
static const char *
owner_of(json_t *obj, const char *key)
{
	json_t *md = json_object_get(obj, "metadata");
	const char *v = json_string_value(json_object_get(json_object_get(md,
	    "labels"), key));

	if (v == NULL || *v == '\0')
		v = json_string_value(json_object_get(json_object_get(md,
		    "annotations"), key));
	return v && *v ? v : NULL;
}

const char *
notify_owner(const struct notify_config *c, json_t *target, json_t *subject)
{
	const char *o = target ? owner_of(target, c->owner_key) : NULL;

	return o ? o : subject ? owner_of(subject, c->owner_key) : NULL;
}

size_t
notify_route(const struct notify_config *c, const char *owner,
    const struct notify_dest **out, size_t max)
{
	size_t i, j, n = 0;

	for (i = 0; owner && i < c->nroutes; i++) {
		if (strcmp(c->routes[i].owner, owner) != 0)
			continue;
		for (j = 0; j < c->routes[i].ndests && n < max; j++)
			out[n++] = &c->dests[c->routes[i].dests[j]];
		return n;
	}
	if (c->default_dest >= 0 && max > 0)
		out[n++] = &c->dests[c->default_dest];
	return n;
}
