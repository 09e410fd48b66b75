/*
 * Confirm by pull request, as `run` does it: the token named by
 * confirm.pullRequest.token is read at each use (so a rotated file
 * counts), handed to src/gitops for git and the forge's API, and wiped;
 * it never reaches a log or a record.  Clones go under $TMPDIR.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/propose.h"
#include "gitops/gitops.h"
#include "notify/notify.h"
#include "util/util.h"

int
daemon_propose(void *ctx, const json_t *record, const json_t *cfg,
    json_t **pr, char **err)
{
	const json_t *ref = json_object_get(cfg, "token");
	struct notify_secret s;
	struct gitops_env env;
	char *token = NULL;
	int rc;

	memset(&env, 0, sizeof env);
	if (ref) {
		if (notify_secret_compile(ref, ctx, &s, err) == -1)
			return -1;
		token = notify_secret_read(&s, err);
		notify_secret_clear(&s);
		if (token == NULL)
			return -1;
	}
	env.token = token;
	env.workdir = getenv("TMPDIR");
	rc = gitops_propose(&env, record, cfg, pr, err);
	notify_secret_free(token);
	return rc;
}
