/*
 * libFuzzer target for the policy engine: compiling a Kyverno policy
 * (patterns, anchors, foreach, context entries, the rules generated for
 * Pod controllers) and admitting an object with it.
 *
 * An input is "POLICY-YAML\0OBJECT-JSON": the YAML is parsed into
 * documents, each is added to a set (a refused policy is a diagnostic),
 * and the object (null when absent or invalid: nothing is admitted) is
 * evaluated against the set with every rule's outcome, with a lookup()
 * that answers every object with the same ConfigMap.  Anything but a
 * verdict or a diagnostic is a bug: a crash, a sanitizer report, a leak
 * or a hang.
 *
 * Run it with fuzz/run policy [SECONDS]; the ordinary test run replays
 * the corpus in fuzz/corpus/policy (fuzz/replay.c), seeded by
 * fuzz/make-policy-corpus.py from tests/policy/admit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "policy/policy.h"

static json_t *cm;

static json_t *
lookup(void *ctx, const char *kind, const char *ns, const char *name)
{
	(void)ctx;
	(void)kind;
	(void)ns;
	if (strcmp(name, "missing") == 0)
		return NULL;
	return json_incref(cm);
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	struct jp_env env = { lookup, NULL, 1795600800000LL };
	struct pol_set *set = pol_set_new();
	struct pol_verdict v;
	struct mdoc **docs = NULL;
	struct diags d;
	const uint8_t *nul;
	char *src;
	size_t el, nd = 0, i;
	json_t *obj = NULL;

	if (cm == NULL)
		cm = json_loads("{\"kind\":\"ConfigMap\",\"metadata\":"
		    "{\"name\":\"c\",\"namespace\":\"platform\"},"
		    "\"data\":{\"max\":\"5\"}}", 0, NULL);
	nul = memchr(buf, 0, len);
	el = nul ? (size_t)(nul - buf) : len;
	src = malloc(el + 1);
	memcpy(src, buf, el);
	src[el] = '\0';
	if (nul)
		obj = json_loadb((const char *)nul + 1, len - el - 1,
		    JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	diag_init(&d);
	conf_parse_text("fuzz.yaml", src, el, &docs, &nd, &d);
	for (i = 0; i < nd; i++)
		pol_set_add(set, docs[i], &d);
	if (pol_evaluate(set, obj, NULL, "CREATE", &env, POL_ALL, NULL,
	    &v) != 0)
		abort();
	pol_verdict_clear(&v);
	pol_set_free(set);
	for (i = 0; i < nd; i++)
		mdoc_free(docs[i]);
	free(docs);
	diag_free(&d);
	json_decref(obj);
	free(src);
	return 0;
}
