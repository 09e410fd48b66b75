/*
 * fleet: the ledger behind `scope: fleet` (many clusters, one database).
 *
 * Instances in several clusters may share one state database, each under
 * its own cluster name (run --cluster-name).  A circuit or a
 * maxClusterImpact with scope fleet counts what every one of them does:
 * the ledger keeps a slot per action taken under such a guardrail (its
 * cluster, time and the pods it moves, table fleet_actions) and each
 * cluster's pod count (fleet_clusters), and answers the guard's question
 * (struct guard_fleet, src/guard/fleet.c) in one transaction under the
 * database's lock: count, and take this action's slot if it is admitted,
 * so two clusters never both take the last one.  In PostgreSQL the lock
 * is a transaction-scoped advisory lock (sqldb_lock "fleet") that every
 * instance of every cluster waits for (5 s at most: then an error, as
 * SQLite's busy wait gives); in SQLite the file's write lock
 * (BEGIN IMMEDIATE), which serializes every process sharing the file.
 *
 * The tables are the state store's (src/audit/ creates and migrates
 * them, schema 5); the ledger has its own connection, like the intake.
 * Threads: the engine thread only.  docs/state.md has the layout.
 */
#ifndef FLEET_H
#define FLEET_H

#include <stdint.h>

#include "guard/guard.h"

/* A cluster that has not published for this long counts no pods. */
#define FLEET_FRESH	(5 * 60 * 1000)		/* ms */
/* Slots older than this are pruned (a fleet circuit's window fits). */
#define FLEET_KEEP	(7 * 24 * 3600 * 1000LL)	/* ms */

struct fleet;

/*
 * Opens the ledger for cluster (copied) on the state target (a SQLite
 * path or a postgres:// URL, as --state names it), which the audit store
 * has created or migrated.  Returns an owned handle, or NULL with *err
 * (owned) naming the database (a URL's password left out).
 */
struct fleet	*fleet_open(const char *target, const char *cluster,
		    char **err);
/* NULL is a no-op. */
void		 fleet_close(struct fleet *);

/*
 * The guard's question (see struct guard_fleet): publishes this
 * cluster's pods, counts the window, takes a slot when asked and
 * admitted, all in one transaction under the lock.  Returns 0, or -1 with
 * err naming the database (the guard fails closed).
 */
int	fleet_ask(struct fleet *, const struct guard_fleet_ask *,
	    struct guard_fleet_answer *, char *err, size_t errlen);
/* Gives back this cluster's slot taken at slot (ms).  Errors are logged:
   a slot kept counts against the fleet, which is the safe side. */
void	fleet_release(struct fleet *, int64_t slot);
/*
 * Publishes this cluster's pod count at now, so the fleet's blast
 * radius knows it while this cluster is quiet; drops slots older than
 * FLEET_KEEP.  Returns 0 or -1 (logged).
 */
int	fleet_publish(struct fleet *, long pods, int64_t now);

#endif /* FLEET_H */
