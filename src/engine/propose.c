/*
 * Confirm by pull request: the decision, as its record shows it (plan,
 * owner, budget, signal), goes to the propose hook, which writes the
 * change into the target's repository and opens (or updates) the one
 * pull request of this trigger and target.  Its cooldown started with
 * the decision; its outcome (merged: acted, closed: declined) is the
 * forge's to tell later.
 */
#include <stdio.h>
#include <stdlib.h>

#include "engine/internal.h"

enum rec_decision
decide_propose(struct decision *d)
{
	struct engine *e = d->e;
	json_t *rec, *pr = NULL;
	char *err = NULL;
	int rc;

	if (e->opts.propose == NULL)
		return REC_PENDING_APPROVAL;	/* replay: what would be */
	d->rec.decision = REC_PENDING_APPROVAL;
	rec = rec_to_json(&d->rec);
	rc = e->opts.propose(e->opts.propose_ctx, rec, d->cfg->pull_request,
	    &pr, &err);
	json_decref(rec);
	if (rc == -1) {
		free(d->rec.message);
		d->rec.message = xasprintf("pull request: %s", err ? err :
		    "failed");
		free(err);
		return REC_FAILED;
	}
	decide_extra_set(d, "pullRequest", pr);
	return REC_PENDING_APPROVAL;
}
