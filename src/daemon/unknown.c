/*
 * Actions whose outcome nobody knows.  An action is written down as an
 * intent before it runs and completed when its outcome comes back
 * (audit_intend, audit_write); a crash in between leaves the intent, and
 * the cooldown keeps the action from repeating, but nobody is told that
 * something may or may not have been done to the target.
 *
 * When we start (or take over as leader), after the guard and page state
 * are loaded, each such intent is logged at error and paged ("outcome-
 * unknown", through the pager's outbox, so a receiver that is down gets
 * it later); the outbox is written to the state file (audit_sync) before
 * the intents are marked reported, so a second restart does not page
 * them again.  A crash between the two pages them once more: at least
 * once, never lost.  A state file that cannot be written leaves them
 * unmarked, to be reported by the next start.
 */
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "daemon/daemon_int.h"
#include "page/page.h"
#include "record/record.h"
#include "util/util.h"

struct unknown {
	struct page	*pager;		/* borrowed */
	int64_t		 now;		/* ms */
};

static char *
dup_member(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? xstrdup(s) : NULL;
}

static int
report_one(void *ctx, json_t *record)
{
	struct unknown *u = ctx;
	struct rec_decision_record r;
	const json_t *target = json_object_get(record, "target");
	const char *when = json_string_value(json_object_get(record, "time"));
	const char *msg = json_string_value(json_object_get(record,
	    "message"));

	util_log_json("error", "an action's outcome is unknown: the process "
	    "stopped while it ran; look at the target", json_pack("{s:O}",
	    "record", record));
	memset(&r, 0, sizeof r);
	r.time = u->now;
	r.sensor = json_string_value(json_object_get(record, "sensor"));
	r.trigger = json_string_value(json_object_get(record, "trigger"));
	r.decision = REC_ACTED;
	r.target.kind = dup_member(target, "kind");
	r.target.namespace = dup_member(target, "namespace");
	r.target.name = dup_member(target, "name");
	r.message = xasprintf("outcome unknown: the action decided at %s "
	    "was running when the process stopped%s%s", when ? when : "?",
	    msg ? ": " : "", msg ? msg : "");
	page_outcome_unknown(u->pager, &r);
	rec_clear(&r);
	return 0;
}

int
daemon_unknown_report(struct audit *a, struct page *pager, int64_t now)
{
	struct unknown u;
	int64_t last;
	char *err = NULL;
	long n;

	u.pager = pager;
	u.now = now;
	if ((n = audit_unknown_outcomes(a, report_one, &u, &last,
	    &err)) == -1)
		goto fail;
	if (last == 0)
		return 0;
	if (audit_sync(a) == -1) {
		err = xstrdup("the page could not be written to the outbox");
		goto fail;
	}
	if (audit_unknown_reported(a, last, &err) == -1)
		goto fail;
	util_log_json("info", "actions with an unknown outcome paged",
	    json_pack("{s:i}", "count", (int)n));
	return 0;
fail:
	util_log_json("error", "cannot report actions with an unknown outcome; "
	    "the next start tries again", json_pack("{s:s}", "error",
	    err ? err : "?"));
	free(err);
	return -1;
}
