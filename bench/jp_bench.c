/*
 * jp_bench: times this engine in-process on a list of cases.
 *
 *	jp_bench CASES.json
 *
 * CASES.json is an array of {name, kind, expression, given, objects?, iters?}
 * with kind "parse" (compile + free), "interpret" (eval of a compiled
 * expression, jp_eval_view: a selection is borrowed, a built value
 * dropped), "indexed" (the same through the document's index, jp_doc_new,
 * built once per case outside the timing, as go-jmespath decodes its
 * input once), "index" (jp_doc_new and jp_doc_free of the given document:
 * what a caller pays before its first "indexed" evaluation) or "full"
 * (compile, eval, free).  Each case grows its round
 * until it lasts 0.1 s, then runs three more and keeps the fastest, so a
 * busy machine's stalls do not land in the figure; one line of JSON per
 * case goes to stdout:
 * {"name": ..., "ns": NANOSECONDS_PER_OP, "iters": N}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jp/jp.h"

struct jp_doc;

#ifndef JP_HAVE_DOC
/* An engine from before jp_eval_view (--baseline): jp_eval, then drop. */
#define jp_eval_view(e, d, env, own, err) (*(own) = jp_eval(e, d, env, err))
#endif

static json_t *objects;

static json_t *
lookup(void *ctx, const char *kind, const char *ns, const char *name)
{
	json_t *o, *md;
	size_t i;

	(void)ctx;
	json_array_foreach(objects, i, o) {
		md = json_object_get(o, "metadata");
		if (strcmp(json_string_value(json_object_get(o, "kind")),
		    kind) == 0 && strcmp(json_string_value(json_object_get(md,
		    "namespace")), ns) == 0 && strcmp(json_string_value(
		    json_object_get(md, "name")), name) == 0)
			return json_incref(o);
	}
	return NULL;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One round of n operations; returns seconds, or -1 on error. */
static double
round_of(const char *kind, const char *src, const struct jp_expr *ce,
    json_t *given, const struct jp_doc *doc, const struct jp_env *env,
    long n)
{
	struct jp_error err;
	struct jp_expr *e;
	json_t *r, *own;
	int interpret = strcmp(kind, "interpret") == 0;
	int full = strcmp(kind, "full") == 0;
	double t0;
	long i;

#ifndef JP_HAVE_DOC
	/* An engine from before the index (--baseline): jp_eval alone. */
	interpret = interpret || strcmp(kind, "indexed") == 0 ||
	    strcmp(kind, "index") == 0;
	(void)doc;
#else
	if (strcmp(kind, "index") == 0) {
		t0 = now();
		for (i = 0; i < n; i++)
			jp_doc_free(jp_doc_new(given));
		return now() - t0;
	}
	if (strcmp(kind, "indexed") == 0) {
		t0 = now();
		for (i = 0; i < n; i++) {
			if (jp_eval_doc(ce, doc, env, &own, &err) == NULL)
				return -1;
			json_decref(own);
		}
		return now() - t0;
	}
#endif
	/* The kind is read once: its strcmp would be a third of `b`. */
	t0 = now();
	for (i = 0; i < n; i++) {
		if (interpret) {
			/*
			 * As a caller that only reads the result: a selection
			 * is borrowed, a built value dropped after.
			 */
			if (jp_eval_view(ce, given, env, &own, &err) == NULL)
				return -1;
			json_decref(own);
			continue;
		}
		if ((e = jp_compile(src, &err)) == NULL)
			return -1;
		if (full) {
			if ((r = jp_eval(e, given, env, &err)) == NULL) {
				jp_free(e);
				return -1;
			}
			json_decref(r);
		}
		jp_free(e);
	}
	return now() - t0;
}

int
main(int argc, char **argv)
{
	json_error_t je;
	json_t *cases, *c;
	struct jp_env env = { lookup, NULL, 0 };
	struct jp_expr *ce;
	struct jp_doc *doc;	/* an incomplete type before JP_HAVE_DOC */
	const char *name, *kind, *src;
	double t, best;
	long n;
	size_t i;
	int k;

	if (argc != 2 || (cases = json_load_file(argv[1], 0, &je)) == NULL) {
		fprintf(stderr, "usage: jp_bench CASES.json\n");
		return 2;
	}
	json_array_foreach(cases, i, c) {
		name = json_string_value(json_object_get(c, "name"));
		kind = json_string_value(json_object_get(c, "kind"));
		src = json_string_value(json_object_get(c, "expression"));
		objects = json_object_get(c, "objects");
		if ((ce = jp_compile(src, NULL)) == NULL) {
			fprintf(stderr, "%s: does not compile\n", name);
			return 1;
		}
		/*
		 * Grow the round until it lasts 0.1 s; keep the best of 4.
		 * A case's "iters" runs exactly that many once instead (to
		 * count instructions under perf stat, which load does not
		 * disturb).
		 */
#ifdef JP_HAVE_DOC
		doc = jp_doc_new(json_object_get(c, "given"));
#else
		doc = NULL;
#endif
		n = (long)json_integer_value(json_object_get(c, "iters"));
		k = n > 0 ? 3 : 0;
		for (n = n > 0 ? n : 100, best = -1; k < 4;
		    n = k ? n : n * 4) {
			t = round_of(kind, src, ce, json_object_get(c, "given"),
			    doc, &env, n);
			if (t < 0) {
				fprintf(stderr, "%s: evaluation failed\n",
				    name);
				return 1;
			}
			if (k == 0 && t < 0.1 && n < 100000000L &&
			    !json_object_get(c, "iters"))
				continue;
			if (best < 0 || t < best)
				best = t;
			k++;
		}
		printf("{\"name\": \"%s\", \"ns\": %.1f, \"iters\": %ld}\n",
		    name, best / (double)n * 1e9, n);
		fflush(stdout);
#ifdef JP_HAVE_DOC
		jp_doc_free(doc);
#endif
		jp_free(ce);
	}
	json_decref(cases);
	return 0;
}
