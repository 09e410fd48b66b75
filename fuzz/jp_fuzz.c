/*
 * libFuzzer target for the JMESPath parser and interpreter.
 *
 * An input is "EXPRESSION\0JSON": the expression is compiled; if it
 * compiles it is evaluated on the JSON (null when absent or invalid) with
 * a lookup() hook that answers every object with the same Pod, and the
 * result is printed.  Anything but a clean result or a reported error is
 * a bug: a crash, a sanitizer report, a leak or a hang.
 *
 * Run it with fuzz/run jp [SECONDS]; the ordinary test run replays the
 * corpus in fuzz/corpus/jp (fuzz/replay.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jp/jp.h"

static json_t *pod;

static json_t *
lookup(void *ctx, const char *kind, const char *ns, const char *name)
{
	(void)ctx;
	(void)kind;
	(void)ns;
	if (strcmp(name, "missing") == 0)
		return NULL;
	return json_incref(pod);
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	struct jp_env env = { lookup, NULL, 1795600800000LL };
	struct jp_error err;
	struct jp_expr *e;
	const uint8_t *nul;
	char *src, *out;
	size_t el;
	json_t *data = NULL, *r;

	if (pod == NULL)
		pod = json_loads("{\"kind\":\"Pod\",\"metadata\":"
		    "{\"name\":\"p\",\"labels\":"
		    "{\"remediation.platform/optin\":\"true\"}}}", 0, NULL);
	nul = memchr(buf, 0, len);
	el = nul ? (size_t)(nul - buf) : len;
	src = malloc(el + 1);
	memcpy(src, buf, el);
	src[el] = '\0';
	if (nul)
		data = json_loadb((const char *)nul + 1, len - el - 1,
		    JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if ((e = jp_compile(src, &err)) != NULL) {
		r = jp_eval(e, data ? data : json_null(), &env, &err);
		if (r) {
			out = jp_dump(r, JP_DUMP_INDENT);
			free(out);
			json_decref(r);
		} else if (err.kind == JP_OK)
			abort();	/* an error must say what it is */
		jp_free(e);
	} else if (err.kind == JP_OK || err.msg[0] == '\0')
		abort();
	json_decref(data);
	free(src);
	return 0;
}
