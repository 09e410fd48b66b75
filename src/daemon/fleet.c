/*
 * run's side of the fleet ledger (src/fleet/): opened on the state with
 * the audit handle, under this cluster's name; the engine asks it
 * through hooks that stay put across reloads and takeovers, so an engine
 * built before the state was open (a standby's) asks the ledger the
 * leader opens.  Asked with none open, the hooks fail closed.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cluster/cluster.h"
#include "daemon/daemon_int.h"
#include "fleet/fleet.h"

static int
ask(void *ctx, const struct guard_fleet_ask *q, struct guard_fleet_answer *a,
    char *err, size_t errlen)
{
	struct daemon *d = ctx;

	if (d->fleet == NULL) {
		snprintf(err, errlen, "%s: fleet ledger not open", d->o->state);
		return -1;
	}
	return fleet_ask(d->fleet, q, a, err, errlen);
}

static void
release(void *ctx, int64_t slot)
{
	struct daemon *d = ctx;

	if (d->fleet)
		fleet_release(d->fleet, slot);
}

void
daemon_fleet_hooks(struct daemon *d)
{
	d->fleet_hooks.ask = ask;
	d->fleet_hooks.release = release;
	d->fleet_hooks.ctx = d;
}

int
daemon_fleet_open(struct daemon *d)
{
	char *err = NULL;

	if ((d->fleet = fleet_open(d->o->state, d->cluster_name,
	    &err)) != NULL) {
		util_log_json("info", "fleet ledger", json_pack("{s:s, s:s}",
		    "state", d->o->state, "cluster", d->cluster_name));
		return 0;
	}
	util_log_json("error", "cannot open the fleet ledger", json_pack(
	    "{s:s, s:s}", "state", d->o->state, "error", err ? err : "?"));
	free(err);
	return -1;
}

void
daemon_fleet_close(struct daemon *d)
{
	fleet_close(d->fleet);
	d->fleet = NULL;
}

void
daemon_fleet_tick(struct daemon *d, int64_t now)
{
	if (d->fleet)
		(void)fleet_publish(d->fleet, (long)cluster_count(d->cluster,
		    "Pod"), now);
}
