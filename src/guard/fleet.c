/*
 * Fleet scope: the circuit breaker and the blast radius counted across
 * every cluster that shares the state database.
 *
 * Twenty clusters OOMing at once are one incident, not twenty: a circuit
 * with scope fleet counts the actions of every cluster, and a fleet
 * maxClusterImpact compares the pods every cluster is moving with the
 * pods of all of them.  The counting lives in the ledger (src/fleet/),
 * which answers under the database's lock and takes this action's slot
 * in the same transaction, so two clusters cannot both take the last
 * one.  The guard only asks, through struct guard_fleet, and applies one
 * rule (guard_fleet_admits) that the ledger applies too.
 *
 * Safety: a ledger that cannot answer stops the action (fail closed),
 * with a message naming why; without a ledger at all (replay, test,
 * diff) the cluster's own count decides, and a stop says so.
 */
#include <stdio.h>
#include <string.h>

#include "guard/guard.h"

int
guard_config_fleet(const struct guard_config *c)
{
	return c->circuit_fleet || c->impact_fleet;
}

static int
impact_admits(const struct guard_fleet_ask *q,
    const struct guard_fleet_answer *a)
{
	/* nothing known about any cluster: as the cluster check, let it
	   through (an empty view); this cluster publishes its own pods */
	return q->impact < 0 || a->total <= 0 ||
	    guard_within_fraction((double)(a->moving + q->pods),
	    (double)a->total, q->impact);
}

int
guard_fleet_admits(const struct guard_fleet_ask *q,
    const struct guard_fleet_answer *a)
{
	if (q->circuit_max > 0 && a->actions >= q->circuit_max)
		return 0;
	return impact_admits(q, a);
}

static void
ledger_failed(char *msg, size_t msglen, const char *err)
{
	snprintf(msg, msglen, "fleet ledger cannot be read, failing closed: "
	    "%s", err);
}

static void
impact_message(const struct guard_fleet_ask *q,
    const struct guard_fleet_answer *a, char *msg, size_t msglen)
{
	char within[32];

	duration_format(q->within, within, sizeof within);
	snprintf(msg, msglen, "would move %ld pods while the fleet moves %ld "
	    "(within %s): %.1f%% of the %ld pods of %d cluster%s, above "
	    "maxClusterImpact %.1f%% (scope fleet)", q->pods, a->moving,
	    within, 100.0 * (double)(a->moving + q->pods) / (double)a->total,
	    a->total, a->clusters, a->clusters == 1 ? "" : "s",
	    100.0 * q->impact);
}

static void
ask_init(struct guard_fleet_ask *q, const struct guard_config *c, long pods,
    long cluster_pods, int64_t now)
{
	memset(q, 0, sizeof *q);
	q->now = now;
	q->within = c->circuit_within;
	q->impact = c->impact_fleet ? c->max_cluster_impact : -1;
	q->pods = pods;
	q->cluster_pods = cluster_pods;
}

int
guard_check_fleet_impact(const struct guard_fleet *fleet,
    const struct guard_config *c, long pods, long cluster_pods, int64_t now,
    char *msg, size_t msglen)
{
	struct guard_fleet_ask q;
	struct guard_fleet_answer a;
	char err[GUARD_MSGLEN];

	if (!c->impact_fleet || fleet == NULL)
		return 1;
	ask_init(&q, c, pods, cluster_pods, now);
	memset(&a, 0, sizeof a);
	/* unreadable: guard_check_fleet_circuit asks again, under the lock,
	   and fails closed there as circuit-open, naming the database */
	if (fleet->ask(fleet->ctx, &q, &a, err, sizeof err) == -1)
		return 1;
	if (impact_admits(&q, &a))
		return 1;
	impact_message(&q, &a, msg, msglen);
	return 0;
}

/* No ledger here: the cluster's own count, and a stop says so. */
static int
local_circuit(struct guard_state *g, const struct guard_config *c,
    int64_t decided, int64_t now, char *msg, size_t msglen)
{
	int ok = decided ? guard_check_circuit_approved(g, c, decided, now,
	    msg, msglen) : guard_check_circuit(g, c, now, msg, msglen);
	size_t n;

	if (!ok && c->circuit_fleet && (n = strlen(msg)) < msglen)
		snprintf(msg + n, msglen - n, " (scope fleet, but no fleet "
		    "ledger here: this cluster's count)");
	return ok;
}

int
guard_check_fleet_circuit(struct guard_state *g,
    const struct guard_fleet *fleet, const struct guard_config *c,
    long pods, long cluster_pods, int64_t decided, int64_t now,
    int64_t *slot, int *blast, char *msg, size_t msglen)
{
	struct guard_fleet_ask q;
	struct guard_fleet_answer a;
	char err[GUARD_MSGLEN], within[32];

	*slot = 0;
	*blast = 0;
	if (!guard_config_fleet(c) || fleet == NULL)
		return local_circuit(g, c, decided, now, msg, msglen);
	/* a cluster-scope circuit beside a fleet blast radius */
	if (!c->circuit_fleet && !local_circuit(g, c, decided, now, msg,
	    msglen))
		return 0;
	ask_init(&q, c, pods, cluster_pods, now);
	q.circuit_max = c->circuit_fleet ? c->circuit_max : 0;
	q.reserve = 1;
	q.own = decided;
	memset(&a, 0, sizeof a);
	if (fleet->ask(fleet->ctx, &q, &a, err, sizeof err) == -1) {
		ledger_failed(msg, msglen, err);
		return 0;
	}
	if (q.circuit_max > 0 && a.actions >= q.circuit_max) {
		duration_format(c->circuit_within, within, sizeof within);
		snprintf(msg, msglen, "%ld actions across the fleet (%d "
		    "cluster%s) within %s (scope fleet)", a.actions,
		    a.clusters, a.clusters == 1 ? "" : "s", within);
		return 0;
	}
	if (!guard_fleet_admits(&q, &a)) {
		/* another cluster moved pods since the blast-radius check */
		impact_message(&q, &a, msg, msglen);
		*blast = 1;
		return 0;
	}
	*slot = a.slot;
	return 1;
}
