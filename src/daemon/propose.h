/*
 * Confirm by pull request in `run`: the propose hook (engine_opts.propose)
 * with the forge token read from its file or environment, and following
 * each open request until its outcome (merged: acted, closed: declined,
 * merged but not synced within syncTimeout: expired).
 */
#ifndef DAEMON_PROPOSE_H
#define DAEMON_PROPOSE_H

#include <stdint.h>
#include <jansson.h>

#include "audit/audit.h"
#include "daemon/actions.h"
#include "engine/engine.h"
#include "gitops/gitops.h"
#include "kube/kube.h"

struct daemon_prs;

/* secrets_dir (copied, may be NULL) resolves {name, key} token refs. */
struct daemon_prs *daemon_prs_new(const char *secrets_dir);
void	daemon_prs_free(struct daemon_prs *);
/* The engine's propose hook, on a worker (thread-safe); ctx is the
 * struct daemon_prs *. */
int	daemon_propose(void *ctx, const json_t *record, const json_t *cfg,
	    json_t **pr, char **err);
/* Every emitted record (borrowed): pending ones are followed, outcomes end
 * that. */
void	daemon_prs_track(struct daemon_prs *, const json_t *record);
/* The open requests recorded in the state file: 0, or -1 with *err. */
int	daemon_prs_seed(struct daemon_prs *, struct audit *, char **err);
/* How many requests are followed (pending, no outcome recorded yet). */
size_t	daemon_prs_following(const struct daemon_prs *);
/*
 * On the engine thread: hands each request due (every
 * pullRequest.pollInterval, 1m by default; one asking at a time) to a
 * worker of acts, which asks the forge (and, through kube, may be NULL,
 * the Argo CD Application); the outcome comes back to the engine thread
 * (dact_outcome), which records it through engine_pr_outcome.  A slow
 * forge holds up no decision.
 */
void	daemon_prs_poll(struct daemon_prs *, struct dact *acts,
	    struct kube_client *kube, int64_t now);

/*
 * The outcome table, for one asking.  A merged request whose Argo CD
 * Application is not synced at or after the merge is waited for until
 * its deadline, then expired; one synced later than that (the daemon was
 * down) is still acted.  An open request has no deadline: it waits for a
 * person.
 */
#define DAEMON_PR_SYNC_TIMEOUT	(60 * 60 * 1000)	/* ms: 1h */

enum daemon_pr_end {
	DAEMON_PR_WAIT,		/* no outcome yet: ask again */
	DAEMON_PR_ACTED,	/* merged, and synced (or no Argo CD) */
	DAEMON_PR_DECLINED,	/* closed unmerged */
	DAEMON_PR_EXPIRED,	/* merged, not synced by the deadline */
};

/*
 * The deadline (ms, wall clock) of a merged request: since (ms: the
 * forge's merged_at, else when it was first seen merged) plus the pending
 * record's (borrowed) pullRequest.syncTimeout, DAEMON_PR_SYNC_TIMEOUT
 * when it has none.
 */
int64_t	daemon_pr_deadline(const json_t *record, int64_t since);
/*
 * What the request's state now comes to: synced (1: its Application is
 * synced at or after the merge, or there is none to wait for) counts only
 * for a merged one; now and deadline in ms.
 */
enum daemon_pr_end daemon_pr_judge(enum gitops_pr_state state, int synced,
	    int64_t deadline, int64_t now);

#endif /* DAEMON_PROPOSE_H */
