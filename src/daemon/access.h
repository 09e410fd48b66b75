/*
 * The daemon's permission check (access.c): before it acts, `run` asks the
 * API server (SelfSubjectAccessReview) for every permission its
 * configuration needs (engine_permissions, the list `remediate rbac`
 * prints), and names each one it lacks in the log and in /readyz.  Not
 * part of the daemon's public surface.
 */
#ifndef DAEMON_ACCESS_H
#define DAEMON_ACCESS_H

#include <stdint.h>
#include <jansson.h>

struct daemon_access;
struct engine;
struct kube_client;

/*
 * The distinct permissions engine (borrowed for the call) needs, none
 * checked yet (so not granted: nothing unread counts as allowed).
 * Returns an owned object.
 */
struct daemon_access *daemon_access_new(const struct engine *);
void	daemon_access_free(struct daemon_access *);
/*
 * A reload: each permission of a that old (may be NULL) knows to be
 * granted is granted in a too, so daemon_access_check asks only for the
 * new and the missing ones.  The periodic check never asks again for a
 * granted one either: a reload that asked for every permission made a
 * burst of SIGHUPs a burst of reviews.
 */
void	daemon_access_adopt(struct daemon_access *a,
	    struct daemon_access *old);
/*
 * Asks the server about every permission not yet known to be granted
 * (all of them the first time), on the engine thread, and logs each
 * missing one (error) and each one granted since the last check (info).
 * A review the server does not answer counts as missing, with its error.
 * Returns the number still missing.
 */
size_t	daemon_access_check(struct daemon_access *, struct kube_client *);
/*
 * The missing permissions as an owned JSON array of {group, resource,
 * verb, namespace?, neededBy, reason}, or NULL when none are; safe
 * from any thread (/readyz).
 */
json_t	*daemon_access_missing(struct daemon_access *);

#endif /* DAEMON_ACCESS_H */
