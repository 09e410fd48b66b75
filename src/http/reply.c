/*
 * Helpers for handlers: reading headers and arguments, filling responses.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "http/http.h"

const char *
http_header_get(const struct http_request *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

const char *
http_arg_get(const struct http_request *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nargs; i++)
		if (strcmp(r->args[i].name, name) == 0)
			return r->args[i].value;
	return NULL;
}

void
http_reply(struct http_response *r, int status, const char *ctype,
    const char *body)
{
	r->status = status;
	r->content_type = ctype;
	buf_reset(&r->body);
	if (body != NULL)
		buf_adds(&r->body, body);
}

void
http_reply_error(struct http_response *r, int status, const char *fmt, ...)
{
	va_list ap;
	char *msg, *text;
	json_t *o;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	o = json_pack("{s:s%}", "error", msg, strlen(msg));
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	http_reply(r, status, "application/json",
	    text ? text : "{\"error\":\"(unprintable)\"}");
	buf_addc(&r->body, '\n');
	free(text);
	json_decref(o);
	free(msg);
}

void
http_response_header(struct http_response *r, const char *name,
    const char *value)
{
	if (r->nheaders >= HTTP_MAX_RESP_HEADERS)
		return;
	r->headers[r->nheaders].name = xstrdup(name);
	r->headers[r->nheaders].value = xstrdup(value);
	r->nheaders++;
}
