/*
 * The stop.  After the loop nothing more gets in: webhooks answer 503
 * with Retry-After (intake_stop) and the watches are cancelled.  What is
 * queued for the engine then:
 *
 *   - the cluster's signals (watch changes, a list's end) are decided,
 *     for up to DRAIN_MS, as the loop would have: many are edge-triggered
 *     (an OOM kill's Event, a container's new restart), and the next
 *     start's first list shows them as history, not news, so one dropped
 *     here is never decided.  Those the deadline leaves are counted in
 *     the "stopping" line (watchSignalsDropped);
 *   - webhook events are in the state file already and are decided after
 *     the next start (eventsKept); timer events are dropped (counted);
 *   - the outcomes of actions are recorded (dact_stop puts them all in
 *     the queue, cancelling what has not started);
 *   - an approval still waiting is told remediate is stopping (it stays
 *     used: approving again after a restart would act twice on one
 *     click).
 *
 * The signals are decided before dact_stop, so an action one of them
 * starts meets the stop as any other does: recorded failed if it had not
 * started, its outcome unknown if it was cut short (docs/running.md).
 */
#include "daemon/actions.h"
#include "daemon/daemon_int.h"
#include "daemon/queue.h"
#include "intake/intake.h"
#include "util/util.h"

#define WATCH_END_POLL_MS	20	/* ms between looks at the watches */

struct kept {
	size_t	events;		/* webhook events: in the state file */
	size_t	timers;		/* timer events, dropped */
	size_t	signals;	/* cluster signals not decided */
};

/* An item not decided at the stop, counted and cleared. */
static void
count_dropped(struct kept *k, struct dq_item *it, int acting)
{
	k->events += it->kind == DQ_EVENT && it->intake != 0;
	k->timers += it->kind == DQ_EVENT && it->intake == 0;
	k->signals += acting && it->kind == DQ_WATCH;
	dq_item_clear(it);
}

/*
 * The cluster's signals, decided until the cancelled watches have made
 * their last delivery and the queue is empty, or the deadline.  A watch
 * may be amid a list or blocked on a full queue, so an empty queue alone
 * does not say all has come; once every watch has ended, one does.  The
 * rest of the queue waits for the second pass (events, approvals:
 * cleared).
 */
static void
decide_signals(struct daemon *d, struct kept *k)
{
	int64_t until = clock_monotonic_ms() + DRAIN_MS;
	struct dq_item it;
	int ended;

	while (clock_monotonic_ms() < until) {
		ended = daemon_watches_ended(d);	/* before the pop */
		if (dq_pop(d->q, &it, ended ? 0 : WATCH_END_POLL_MS) == -1) {
			if (ended)
				break;
			continue;
		}
		if (it.kind == DQ_EVENT || it.kind == DQ_CALL)
			count_dropped(k, &it, 1);
		else
			daemon_take_item(d, &it, 1);
	}
}

void
daemon_drain(struct daemon *d, int ran)
{
	struct kept k = { 0, 0, 0 };
	struct dq_item it;
	size_t i;
	int acting = ran && d->engine && daemon_leader_may_act(d);

	if (d->intake)
		intake_stop(d->intake);
	for (i = 0; i < d->nearly; i++)	/* held for the view's list */
		count_dropped(&k, &d->early[i], acting);
	d->nearly = 0;
	free(d->early);
	d->early = NULL;
	if (acting)
		decide_signals(d, &k);
	dact_stop(d->acts);
	dq_close(d->q);
	while (dq_pop(d->q, &it, 0) == 0) {
		if (it.kind == DQ_OUTCOME && d->engine)
			dact_outcome(d->acts, d->engine, &it);
		count_dropped(&k, &it, acting);
	}
	util_log_json("info", "stopping", json_pack("{s:I, s:I, s:I, s:I}",
	    "eventsKept", (json_int_t)k.events, "undecidedInStateFile",
	    (json_int_t)(d->intake ? intake_undecided(d->intake) : 0),
	    "timerEventsDropped", (json_int_t)k.timers,
	    "watchSignalsDropped", (json_int_t)k.signals));
	if (k.signals)
		util_log_json("warn", "cluster signals were not decided before "
		    "the stop", json_pack("{s:I, s:i}", "signals", (json_int_t)
		    k.signals, "drainMs", DRAIN_MS));
}
