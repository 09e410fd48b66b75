/*
 * Events that wait for the cluster view's first list.
 *
 * An acknowledged webhook event popped before every watch of the view had
 * listed would be decided against a partial view: its Pod "not found",
 * suppressed as opt-out, and Alertmanager's redeliveries then dropped as
 * duplicates, so the alert was lost.  Such an event (one with an intake
 * row: it is in the state file) waits here instead, in the order it came,
 * and is decided once the view is whole, after the recovery's older
 * undecided events.  At most --queue-size wait: a view that never lists
 * must not grow this without end, so beyond that events are decided as
 * they come.  At a stop the waiting ones are counted and cleared by
 * drain.c; their rows stay in the state file for the next start.
 */
#include "daemon/daemon_int.h"
#include "daemon/queue.h"
#include "util/util.h"

int
daemon_early_hold(struct daemon *d, struct dq_item *it)
{
	if (d->view_listed || it->kind != DQ_EVENT || it->intake == 0 ||
	    d->nearly >= d->queue_size)
		return 0;
	xgrow(&d->early, &d->capearly, d->nearly + 1, sizeof *d->early);
	d->early[d->nearly++] = *it;
	return 1;
}

void
daemon_early_take(struct daemon *d, int acting)
{
	size_t i;

	for (i = 0; i < d->nearly; i++)
		daemon_take_item(d, &d->early[i], acting);
	d->nearly = 0;
}
