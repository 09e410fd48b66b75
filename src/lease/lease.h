/*
 * lease: leader election on a coordination.k8s.io/v1 Lease, as client-go's
 * leaderelection package does it, so replicas of `remediate run` agree on
 * one that decides and acts.
 *
 *   elector   the state machine, a pure function of what the server said
 *             and of "now" from the caller's clock (tests replace it):
 *             when to create, take over or renew the Lease, and until
 *             when the leader may act;
 *   run       a thread that asks the API server every retry period (GET,
 *             then POST or PUT with the resourceVersion it read, so two
 *             candidates racing get one 200 and one 409 Conflict) and
 *             tells the elector, and the release on shutdown.
 *
 * Fencing.  A leader acts only until the moment it sent its last
 * successful write plus the renew deadline, by its own boot-time clock
 * (CLOCK_BOOTTIME: monotonic, and counting through a suspend).
 * Every other replica counts the lease duration from the moment it saw
 * that write, which is later, and the renew deadline is shorter than the
 * lease duration: so the leader has stopped acting before anybody else
 * may take over, even when it is cut off from the API server and cannot
 * hear that it lost.  The margin (duration - deadline) covers the drift
 * of the replicas' clocks during one lease.
 *
 * The Lease is only the election; the state a new leader needs (cooldowns,
 * rate buckets, intents) comes from the state backend, which the daemon
 * opens on becoming leader and closes on losing it.
 */
#ifndef LEASE_H
#define LEASE_H

#include <stdint.h>
#include <jansson.h>

#include "util/util.h"

struct kube_client;

/* ---- timings ------------------------------------------------------------- */
struct lease_timing {
	int64_t	 duration;	/* ms: a holder's lease, as others count it */
	int64_t	 renew_deadline;	/* ms: a leader that has not renewed
					   within this stops acting */
	int64_t	 retry_period;	/* ms: between attempts */
};

/* client-go's defaults: 15s, 10s, 2s. */
void	lease_timing_defaults(struct lease_timing *);
/*
 * client-go's rules: duration > renew deadline > 1.2 x retry period (its
 * jitter), all positive.  Returns 0, or -1 with *err (owned).
 */
int	lease_timing_check(const struct lease_timing *, char **err);

/* ---- the Lease's spec ----------------------------------------------------- */
struct lease_record {
	char	*holder;		/* owned; NULL: nobody */
	int64_t	 duration_s;		/* leaseDurationSeconds */
	int64_t	 acquire_time;		/* ms since the epoch; 0 unset */
	int64_t	 renew_time;		/* ms since the epoch; 0 unset */
	int64_t	 transitions;		/* leaseTransitions */
	char	*resource_version;	/* owned; NULL for a create */
};

void	lease_record_clear(struct lease_record *);
/*
 * Reads a Lease object (borrowed).  Returns 0 with *r filled (the caller
 * clears it), or -1 with *err (owned) when it is not a Lease with a
 * resourceVersion.
 */
int	lease_record_from_json(const json_t *, struct lease_record *,
	    char **err);
/* The Lease object to send for r in namespace/name (owned). */
json_t	*lease_record_to_json(const struct lease_record *, const char *ns,
	    const char *name);

/* ---- the elector ------------------------------------------------------------ */
struct lease_elector {
	char			*identity;	/* owned */
	struct lease_timing	 t;
	struct lease_record	 seen;		/* what the server last said */
	int			 have_seen;	/* 0: no Lease (or not asked) */
	int64_t			 seen_at;	/* ms, caller's clock: when seen
						   last changed */
	int64_t			 acting_until;	/* ms, caller's clock; 0: not
						   leading */
	int64_t			 gone_until;	/* ms, caller's clock: the
						   Lease was deleted under a
						   live holder, waited out */
	uint64_t		 transitions;	/* became leader, counted */
	int64_t			 sit_out_until;	/* ms, caller's clock: handed
						   over (lease_yield), no
						   campaign before */
};

enum lease_step {
	LEASE_WAIT,		/* another replica holds a live lease */
	LEASE_CREATE,		/* no Lease yet: POST *want */
	LEASE_UPDATE,		/* acquire or renew: PUT *want */
};

/* identity is copied. */
void	lease_elector_init(struct lease_elector *, const char *identity,
	    const struct lease_timing *);
void	lease_elector_clear(struct lease_elector *);
/*
 * The server's answer to a GET at now: the Lease (borrowed), or NULL when
 * there is none (404).
 */
void	lease_elector_observe(struct lease_elector *,
	    const struct lease_record *, int64_t now);
/*
 * What to do at now (monotonic ms) and wall (ms since the epoch, for the
 * record's times): wait, or write *want (filled, the caller clears it),
 * carrying the resourceVersion last seen.
 */
enum lease_step lease_elector_next(struct lease_elector *, int64_t now,
	    int64_t wall, struct lease_record *want);
/*
 * The write of *got's spec, sent at `sent` (the caller's clock, read
 * before sending), succeeded: *got (borrowed) is the server's answer.
 * We lead until sent + renew deadline.
 */
void	lease_elector_won(struct lease_elector *,
	    const struct lease_record *got, int64_t sent);
/* May the leader act at now? */
int	lease_elector_acting(const struct lease_elector *, int64_t now);
/*
 * The record that hands the lease over at wall (client-go's
 * ReleaseOnCancel: no holder, leaseDurationSeconds 1), filled in *want,
 * when the last Lease seen is ours; returns 1, or 0 when there is
 * nothing to release.  Acting stops here.
 */
int	lease_elector_release(struct lease_elector *, int64_t wall,
	    struct lease_record *want);

/*
 * Hands the lease over at now (as lease_elector_release, *want filled
 * when ours: returns 1) and sits out: no campaign before now + ms, so
 * another candidate may take it.
 */
int	lease_elector_yield(struct lease_elector *, int64_t now, int64_t wall,
	    int64_t ms, struct lease_record *want);

/* ---- the runner ------------------------------------------------------------ */
struct lease_opts {
	const char		*name;		/* the Lease's name */
	const char		*namespace;	/* its namespace */
	const char		*identity;	/* holderIdentity we write */
	struct lease_timing	 timing;
	const struct clock	*clock;		/* monotonic; NULL: the
						   system's boot time
						   (borrowed) */
	/* Logs a line (fields stolen).  NULL: util_log_json. */
	void			(*log)(const char *level, const char *msg,
				    json_t *fields);
};

struct lease;

/*
 * Starts campaigning on its own thread through c (borrowed: must outlive
 * the lease; its requests should time out within the renew deadline).
 * Strings in o are copied.  Returns the owned lease, or NULL with *err.
 */
struct lease	*lease_start(struct kube_client *c, const struct lease_opts *,
		    char **err);
/*
 * Stops campaigning; when release and the lease is ours, hands it over
 * first (one PUT), so a standby takes over at its next retry.  Acting
 * stops before that.  Frees.  NULL is a no-op.
 */
void		 lease_stop(struct lease *, int release);

struct lease_status {
	int		 acting;	/* leading, inside the fence */
	char		*holder;	/* owned: the holder last seen, NULL
					   none */
	int64_t		 acting_until;	/* ms, the lease's clock; 0: not
					   leading */
	int64_t		 last_renew;	/* ms, the lease's clock: the send
					   time of the last successful write */
	char		*last_error;	/* owned: the last failed request,
					   NULL after a success */
	struct lease_timing timing;
};

/*
 * Any thread: this replica leads but cannot do its work (its state will
 * not open): acting stops now, and the campaign's thread hands the lease
 * over at its next turn and campaigns again only after ms, so a replica
 * that can takes over.
 */
void	lease_yield(struct lease *, int64_t ms);

/* Any thread.  The caller frees holder and last_error. */
void	lease_status(struct lease *, struct lease_status *);
/*
 * Any thread: lease_status's acting alone, from the fence deadline read
 * atomically (no lock: an action worker calls it just before each send).
 */
int	lease_acting(struct lease *);
/* The identity this process campaigns as (borrowed). */
const char *lease_identity(const struct lease *);

/*
 * A default identity: the host name, '_', 8 random hex digits (a
 * restarted process is a new candidate, as client-go's uuid makes it).
 * Owned.
 */
char	*lease_default_identity(void);

#endif /* LEASE_H */
