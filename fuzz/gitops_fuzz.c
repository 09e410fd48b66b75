/*
 * libFuzzer target for the format-preserving YAML editor: any input must
 * give an edited file or an error, never a crash, a leak or a hang, and an
 * edited file must still be YAML that defines the same document.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gitops/gitops.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	static const char *const dep[] = { "spec", "template", "spec",
	    "containers", "[name=app]", "resources", "limits", "memory" };
	static const char *const values[] = { "resources", "requests",
	    "memory" };
	struct gitops_yaml_edit e[] = {
		{ "Deployment", "shop", "cart", dep, 8, "640Mi", 0 },
		{ NULL, NULL, NULL, values, 3, "it's \"quoted\"", 0 },
	};
	char *out, *err;
	size_t outlen, i;

	for (i = 0; i < 2; i++) {
		if (gitops_yaml_set((const char *)buf, len, &e[i], &out,
		    &outlen, &err) == 1 && e[i].kind &&
		    !gitops_yaml_defines(out, outlen, e[i].kind, e[i].ns,
		    e[i].name))
			abort();	/* the edit broke the file */
		free(out);
		free(err);
	}
	return 0;
}
