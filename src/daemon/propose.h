/*
 * Confirm by pull request in `run`: the propose hook (engine_opts.propose)
 * with the forge token read from its file or environment, and following
 * each open request until its outcome (merged: acted, closed: declined).
 */
#ifndef DAEMON_PROPOSE_H
#define DAEMON_PROPOSE_H

#include <stdint.h>
#include <jansson.h>

#include "audit/audit.h"
#include "engine/engine.h"
#include "kube/kube.h"

struct daemon_prs;

/* secrets_dir (copied, may be NULL) resolves {name, key} token refs. */
struct daemon_prs *daemon_prs_new(const char *secrets_dir);
void	daemon_prs_free(struct daemon_prs *);
/* The engine's propose hook; ctx is the struct daemon_prs *. */
int	daemon_propose(void *ctx, const json_t *record, const json_t *cfg,
	    json_t **pr, char **err);
/* Every emitted record (borrowed): pending ones are followed, outcomes end
 * that. */
void	daemon_prs_track(struct daemon_prs *, const json_t *record);
/* The open requests recorded in the state file: 0, or -1 with *err. */
int	daemon_prs_seed(struct daemon_prs *, struct audit *, char **err);
/*
 * On the engine thread: asks the forge about each request due (every
 * pullRequest.pollInterval, 1m by default) and records the outcomes
 * through engine_pr_outcome.  kube (may be NULL) reads the Application.
 */
void	daemon_prs_poll(struct daemon_prs *, struct engine *,
	    struct kube_client *kube, int64_t now);

#endif /* DAEMON_PROPOSE_H */
