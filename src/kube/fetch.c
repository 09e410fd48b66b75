/*
 * A GET that tells "not there" from "cannot tell": the ownership check
 * must treat a missing Application (an instance label of Helm's, a
 * cluster without Argo CD) as nobody's, and an unreadable one as a
 * reason not to act.
 */
#include <string.h>

#include "kube/kube_int.h"
#include "util/util.h"

int
kube_fetch(void *client, const char *api_version, const char *kind,
    const char *ns, const char *name, json_t **out, char **err)
{
	struct kube_error e;
	int rc = 0;

	kube_error_init(&e);
	*out = kube_get(client, api_version, kind, ns, name, &e);
	if (*out == NULL) {
		if (e.status == 404 || (e.status == 0 && e.reason &&
		    strcmp(e.reason, KUBE_NOT_SERVED) == 0))
			rc = 1;
		else {
			*err = kube_error_text(&e);
			rc = -1;
		}
	}
	kube_error_clear(&e);
	return rc;
}
