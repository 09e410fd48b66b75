/*
 * Errors from the API server.  A failed request answers with a Status
 * (kind Status, message, reason, details.causes, details.retryAfterSeconds)
 * most of the time, but not always: API priority and fairness throttles
 * with a text/plain 429, and proxies in front of the server answer in HTML.
 * Whatever came, the caller gets a message that names the cause.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"
#include "util/util.h"

#define MAX_TEXT_BODY	512	/* bytes of a non-Status body we quote */

void
kube_error_init(struct kube_error *e)
{
	memset(e, 0, sizeof *e);
	e->retry_after_s = -1;
}

void
kube_error_clear(struct kube_error *e)
{
	size_t i;

	free(e->reason);
	free(e->message);
	for (i = 0; i < e->ncauses; i++) {
		free(e->causes[i].field);
		free(e->causes[i].reason);
		free(e->causes[i].message);
	}
	free(e->causes);
	kube_error_init(e);
}

void
kube_error_set(struct kube_error *e, const char *fmt, ...)
{
	va_list ap;
	int attempts = e->attempts;

	kube_error_clear(e);
	e->attempts = attempts;
	va_start(ap, fmt);
	e->message = xvasprintf(fmt, ap);
	va_end(ap);
}

/* The reason phrase of the statuses an API server sends. */
static const char *
status_text(long status)
{
	static const struct {
		long		 code;
		const char	*text;
	} t[] = {
		{ 400, "Bad Request" }, { 401, "Unauthorized" },
		{ 403, "Forbidden" }, { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 406, "Not Acceptable" },
		{ 409, "Conflict" }, { 410, "Gone" },
		{ 413, "Request Entity Too Large" },
		{ 415, "Unsupported Media Type" },
		{ 422, "Unprocessable Entity" }, { 429, "Too Many Requests" },
		{ 500, "Internal Server Error" }, { 502, "Bad Gateway" },
		{ 503, "Service Unavailable" }, { 504, "Gateway Timeout" },
	};
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(t); i++)
		if (t[i].code == status)
			return t[i].text;
	return "error";
}

static char *
dup_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s ? xstrdup(s) : NULL;
}

static void
read_causes(struct kube_error *e, json_t *causes)
{
	size_t i, n;
	json_t *c;

	if (!json_is_array(causes) || (n = json_array_size(causes)) == 0)
		return;
	if (n > 64)	/* a message, not a dump: keep the first ones */
		n = 64;
	e->causes = xcalloc(n, sizeof *e->causes);
	for (i = 0; i < n; i++) {
		c = json_array_get(causes, i);
		if (!json_is_object(c))
			continue;
		e->causes[e->ncauses].field = dup_str(c, "field");
		e->causes[e->ncauses].reason = dup_str(c, "reason");
		e->causes[e->ncauses].message = dup_str(c, "message");
		e->ncauses++;
	}
}

/* The body as one short line: control characters and runs of space go. */
static char *
text_line(const char *body, size_t len)
{
	struct buf b;
	size_t i;
	int space = 0;

	buf_init(&b, MAX_TEXT_BODY);
	for (i = 0; i < len && !b.overflow; i++) {
		unsigned char ch = (unsigned char)body[i];

		if (ch <= ' ' || ch == 0x7f) {
			space = b.len > 0;
			continue;
		}
		if (space)
			buf_addc(&b, ' ');
		space = 0;
		buf_addc(&b, (char)ch);
	}
	if (b.overflow) {
		b.overflow = 0;
		b.max = 0;
		buf_adds(&b, "...");
	}
	return buf_steal(&b);
}

void
kube_status_parse(long status, const char *body, size_t len,
    const char *retry_after, struct kube_error *e)
{
	json_t *root = NULL, *details;
	json_error_t jerr;
	const char *kind;
	long long ra;
	int attempts = e->attempts;

	kube_error_clear(e);
	e->attempts = attempts;
	e->status = status;
	if (body && len > 0)
		root = util_json_loadb(body, len, 0, &jerr);
	kind = json_string_value(json_object_get(root, "kind"));
	if (kind && strcmp(kind, "Status") == 0) {
		json_int_t code = json_integer_value(json_object_get(root,
		    "code"));

		if (status == 0 && code > 0)
			e->status = (long)code;
		e->reason = dup_str(root, "reason");
		e->message = dup_str(root, "message");
		details = json_object_get(root, "details");
		read_causes(e, json_object_get(details, "causes"));
		if (json_is_integer(json_object_get(details,
		    "retryAfterSeconds")))
			e->retry_after_s = (int)json_integer_value(
			    json_object_get(details, "retryAfterSeconds"));
	} else if (body && len > 0) {
		e->message = text_line(body, len);
		if (*e->message == '\0') {
			free(e->message);
			e->message = NULL;
		}
	}
	json_decref(root);
	if (retry_after && util_parse_int(retry_after, &ra) == 0 && ra >= 0 &&
	    ra < 86400)
		e->retry_after_s = (int)ra;
	if (e->message == NULL)
		e->message = xasprintf("the server answered %ld %s", e->status,
		    status_text(e->status));
}

char *
kube_error_text(const struct kube_error *e)
{
	struct buf b;
	size_t i;
	int open = 0;

	buf_init(&b, 0);
	if (e->status > 0)
		buf_printf(&b, "%ld %s: ", e->status, e->reason ? e->reason :
		    status_text(e->status));
	buf_adds(&b, e->message ? e->message : "unknown error");
	for (i = 0; i < e->ncauses; i++) {
		const struct kube_cause *c = &e->causes[i];

		/* Invalid messages already list their causes. */
		if (c->message && e->message && strstr(e->message, c->message))
			continue;
		buf_adds(&b, open++ ? "; " : " [");
		if (c->field)
			buf_printf(&b, "%s: ", c->field);
		buf_adds(&b, c->message ? c->message : c->reason ? c->reason :
		    "invalid");
	}
	if (open)
		buf_addc(&b, ']');
	if (e->retry_after_s >= 0 && e->status == 429)
		buf_printf(&b, " (retry after %ds)", e->retry_after_s);
	return buf_steal(&b);
}
