/*
 * Kyverno's function library (placeholder until the library lands).
 */
#include <string.h>

#include "jp/jp_int.h"
#include "util/util.h"

const struct jp_func *
jp_kyverno_find(const char *name, size_t len)
{
	(void)name;
	(void)len;
	return NULL;
}

const char *
jp_kyverno_unsupported(const char *name, size_t len)
{
	(void)name;
	(void)len;
	return NULL;
}

size_t
jp_kyverno_names(const char **out, size_t max)
{
	(void)out;
	(void)max;
	return 0;
}
