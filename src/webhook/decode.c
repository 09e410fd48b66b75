/*
 * Shaping a request into Argo Events' webhook payload:
 *
 *   {"header": {"Content-Type": ["application/json"], ...},
 *    "body": JSON, "metadata": {...}}
 *
 * Header names are canonicalized as Go's net/http does (Argo's header map
 * is an http.Header), so `header.Content-Type` paths work unchanged.  The
 * Authorization header is masked, as Argo masks it: credentials never
 * reach sensors, records or logs.
 *
 * The body: GET (and HEAD) carries its query, {"name": ["value"]}; a POST
 * with Content-Type application/x-www-form-urlencoded carries its form the
 * same way (both as Argo does), unless it is JSON mislabelled as a form
 * (curl -d); anything else must be JSON (an empty body is null).
 * Alertmanager payloads are recognized and split per alert
 * (alertmanager.c).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "signal/signal.h"
#include "webhook/hook_int.h"

#define MASKED	"*** Masked Auth Secret ***"

void
hook_canonical_header(const char *name, char *out, size_t outlen)
{
	size_t i, n = strlen(name);
	int upper = 1;

	if (outlen == 0)
		return;
	/* Go leaves names with characters outside a token untouched */
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c))) {
			snprintf(out, outlen, "%s", name);
			return;
		}
	}
	for (i = 0; i < n && i + 1 < outlen; i++) {
		char c = name[i];

		if (upper && c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (!upper && c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		out[i] = c;
		upper = c == '-';
	}
	out[i] = '\0';
}

/*
 * Headers that carry credentials: masked before templates, records and
 * logs see them, as Argo masks Authorization.  Beside the webhook's own
 * secretHeaders.
 */
static int
is_secret(const struct hook_target *t, const char *name)
{
	static const char *const always[] = { "Authorization",
	    "Proxy-Authorization", "Cookie", "X-Api-Key" };
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(always); i++)
		if (strcmp(name, always[i]) == 0)
			return 1;
	for (i = 0; i < t->nsecret; i++)
		if (strcmp(name, t->secret[i]) == 0)
			return 1;
	return 0;
}

/* {"Name": ["v1", "v2"]} from the request's headers. */
static json_t *
header_object(const struct hook_target *t, const struct http_request *r)
{
	json_t *h = json_object(), *list, *v;
	char name[256];
	size_t i;

	for (i = 0; i < r->nheaders; i++) {
		hook_canonical_header(r->headers[i].name, name, sizeof name);
		if (is_secret(t, name))
			v = json_string(MASKED);
		else
			v = json_string(r->headers[i].value);
		if (v == NULL)	/* not UTF-8: keep the header, say so */
			v = json_string("(not UTF-8)");
		if ((list = json_object_get(h, name)) == NULL) {
			list = json_array();
			/*
			 * A name that is not UTF-8 cannot be a key; the set
			 * frees list then, so the header is left out (HTTP
			 * names are tokens: no sender means one).
			 */
			if (json_object_set_new(h, name, list) != 0) {
				json_decref(v);
				continue;
			}
		}
		json_array_append_new(list, v);
	}
	return h;
}

static void
add_value(json_t *map, const char *name, size_t nlen, const char *value,
    size_t vlen, int *bad)
{
	json_t *k = json_stringn(name, nlen), *v = json_stringn(value, vlen);
	json_t *list;

	if (k == NULL || v == NULL) {
		*bad = 1;
	} else {
		const char *key = json_string_value(k);

		if ((list = json_object_get(map, key)) == NULL) {
			list = json_array();
			json_object_set_new(map, key, list);
		}
		json_array_append(list, v);
	}
	json_decref(k);
	json_decref(v);
}

static json_t *
args_object(const struct http_request *r, char **err)
{
	json_t *m = json_object();
	size_t i;
	int bad = 0;

	for (i = 0; i < r->nargs; i++)
		add_value(m, r->args[i].name, strlen(r->args[i].name),
		    r->args[i].value, strlen(r->args[i].value), &bad);
	if (bad) {
		*err = xstrdup("a query argument is not UTF-8");
		json_decref(m);
		return NULL;
	}
	return m;
}

static json_t *
form_object(const char *body, size_t len, char **err)
{
	json_t *m = json_object();
	char *kbuf = xmalloc(len + 1), *vbuf = xmalloc(len + 1);
	const char *p = body, *end = body + len;
	int bad = 0;

	while (p < end && !bad) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		const char *kend = eq ? eq : stop;
		long kl, vl = 0;

		if (kend > p) {
			kl = http_unescape(p, (size_t)(kend - p),
			    HTTP_UNESCAPE_PLUS | HTTP_UNESCAPE_STRICT, kbuf);
			if (eq)
				vl = http_unescape(eq + 1, (size_t)(stop - eq -
				    1), HTTP_UNESCAPE_PLUS | HTTP_UNESCAPE_STRICT,
				    vbuf);
			if (kl < 0 || vl < 0)
				bad = 2;
			else
				add_value(m, kbuf, (size_t)kl, vbuf,
				    (size_t)vl, &bad);
		}
		p = stop + 1;
	}
	free(kbuf);
	free(vbuf);
	if (bad) {
		*err = xstrdup(bad == 2 ? "the form has a bad %-escape" :
		    "the form is not UTF-8");
		json_decref(m);
		return NULL;
	}
	return m;
}

static int
is_form(const struct http_request *r)
{
	const char *ct = http_header_get(r, "Content-Type");
	static const char form[] = "application/x-www-form-urlencoded";

	return ct != NULL && strncasecmp(ct, form, sizeof form - 1) == 0 &&
	    (ct[sizeof form - 1] == '\0' || ct[sizeof form - 1] == ';' ||
	    ct[sizeof form - 1] == ' ');
}

/*
 * `curl -d @alert.json` labels JSON as a form; Argo would then turn it
 * into a form map.  A form-labelled body that is a JSON object or array
 * is read as JSON instead (a real form never starts with { or [ and
 * parses as JSON).
 */
static int
looks_like_json(const char *body, size_t len)
{
	json_t *v;
	size_t i = strspn(body, " \t\r\n");

	if (i >= len || (body[i] != '{' && body[i] != '['))
		return 0;
	v = util_json_loadb(body, len, 0, NULL);
	json_decref(v);
	return v != NULL;
}

static json_t *
json_body(const char *body, size_t len, char **err)
{
	json_error_t je;
	json_t *v;
	size_t i;

	for (i = 0; i < len; i++)
		if (!strchr(" \t\r\n", body[i]))
			break;
	if (i == len)
		return json_null();
	v = util_json_loadb(body, len, JSON_DECODE_ANY, &je);
	if (v == NULL)
		*err = xasprintf("the body is not JSON: %s (line %d, column "
		    "%d)", je.text, je.line, je.column);
	return v;
}

static pthread_once_t seed_once = PTHREAD_ONCE_INIT;
static uint64_t id_seed;
static _Atomic uint64_t id_counter;

static void
init_seed(void)
{
	if (getrandom(&id_seed, sizeof id_seed, 0) != sizeof id_seed)
		id_seed = UTIL_HASH_SEED ^ (uint64_t)(uintptr_t)&id_seed;
}

char *
hook_unique_id(const struct hook_target *t, int64_t now)
{
	uint64_t n, h1;

	pthread_once(&seed_once, init_seed);
	n = atomic_fetch_add(&id_counter, 1);
	h1 = util_hash(t->source, strlen(t->source) + 1, id_seed);
	h1 = util_hash(t->name, strlen(t->name) + 1, h1);
	h1 = util_hash(&now, sizeof now, h1);
	h1 = util_hash(&n, sizeof n, h1);
	return util_hash_id(h1, id_seed ^ UTIL_HASH_SEED2);
}

int
hook_decode(const struct hook_target *t, const struct http_request *r,
    int64_t now, struct event **evs, int *am, char **err)
{
	json_t *body, *header, *data;
	struct event *ev;
	int n;

	*evs = NULL;
	*am = 0;
	*err = NULL;
	if (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0)
		body = args_object(r, err);
	else if (is_form(r) && !looks_like_json(r->body, r->body_len))
		body = form_object(r->body, r->body_len, err);
	else
		body = json_body(r->body, r->body_len, err);
	if (body == NULL)
		return -1;
	header = header_object(t, r);
	if (hook_is_alertmanager(body)) {
		*am = 1;
		n = hook_alertmanager_events(t, body, header, evs, err);
		json_decref(header);
		json_decref(body);
		return n;
	}
	data = json_pack("{s:o, s:o}", "header", header, "body", body);
	/* copies: events travel to another thread, endpoints may go */
	if (t->metadata != NULL)
		json_object_set_new(data, "metadata",
		    json_deep_copy(t->metadata));
	ev = xcalloc(1, sizeof *ev);
	ev->source = t->source;
	ev->name = t->name;
	ev->type = sig_type_name(SIG_WEBHOOK);
	ev->time = now;
	ev->id = hook_unique_id(t, now);
	ev->data = data;
	*evs = ev;
	return 1;
}

void
hook_events_free(struct event *evs, size_t n)
{
	size_t i;

	if (evs == NULL)
		return;
	for (i = 0; i < n; i++)
		event_clear(&evs[i]);
	free(evs);
}
