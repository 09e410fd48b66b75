/*
 * libFuzzer target for the JMESPath parser and interpreter.
 *
 * An input is "EXPRESSION\0JSON": the expression is compiled; if it
 * compiles it is evaluated on the JSON (null when absent or invalid) with
 * a lookup() hook that answers every object with the same Pod, and the
 * result is printed.  It is evaluated twice more, by jp_eval_view and
 * through the document's index (jp_eval_doc), which must give the same
 * result or the same error.  Anything but a clean result or a reported
 * error is a bug: a crash, a sanitizer report, a leak, a hang or two ways
 * of evaluating that disagree.
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
	struct jp_error err, err2;
	struct jp_expr *e;
	struct jp_doc *doc;
	const uint8_t *nul;
	char *src, *out;
	size_t el;
	json_t *data = NULL, *r, *v, *own;
	int way;

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
		} else if (err.kind == JP_OK)
			abort();	/* an error must say what it is */
		doc = jp_doc_new(data);
		for (way = 0; way < 2; way++) {
			v = way ? jp_eval_doc(e, doc, &env, &own, &err2) :
			    jp_eval_view(e, data ? data : json_null(), &env,
			    &own, &err2);
			if (r ? v == NULL || !jp_equal(r, v) : v != NULL ||
			    err2.kind != err.kind ||
			    strcmp(err2.msg, err.msg) != 0)
				abort();	/* the ways disagree */
			json_decref(own);
		}
		jp_doc_free(doc);
		json_decref(r);
		jp_free(e);
	} else if (err.kind == JP_OK || err.msg[0] == '\0')
		abort();
	json_decref(data);
	free(src);
	return 0;
}
