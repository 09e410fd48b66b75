/*
 * The lists of the core schemas that merge by key (lists.h).
 */
#include <string.h>

#include "util/lists.h"
#include "util/util.h"

/* Associative lists of the core schemas and their key fields. */
static const struct {
	const char	*field;
	const char	*keys[2];
} listmap[] = {
	{ "containers", { "name", NULL } },
	{ "initContainers", { "name", NULL } },
	{ "ephemeralContainers", { "name", NULL } },
	{ "env", { "name", NULL } },
	{ "volumes", { "name", NULL } },
	{ "volumeMounts", { "mountPath", NULL } },
	{ "volumeDevices", { "devicePath", NULL } },
	{ "imagePullSecrets", { "name", NULL } },
	{ "hostAliases", { "ip", NULL } },
	{ "ownerReferences", { "uid", NULL } },
	{ "resourceClaims", { "name", NULL } },
	{ "ports", { "containerPort", "protocol" } },
};

int
util_list_keys(const char *field, const char *const **keys)
{
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(listmap); i++)
		if (strcmp(listmap[i].field, field) == 0) {
			*keys = listmap[i].keys;
			return 1;
		}
	return 0;
}
