/*
 * daemon: `remediate run`, the live pipeline.
 *
 * Threads and who owns what:
 *   - one engine thread owns the engine, the cluster view and the guard
 *     state; it pops items from the queue and decides, one at a time, so
 *     the hot path takes no locks;
 *   - one thread per watch (the kube module's) pushes cluster changes,
 *     waiting for room when the queue is full;
 *   - the HTTP server's threads serve /metrics, /healthz, /readyz and
 *     webhooks, which push signals or answer 503 when the queue is full;
 *   - a few action workers (src/daemon/actions.c) send the actions the
 *     engine decided, one at a time per target, in the order decided;
 *     each outcome comes back through the queue, and the engine thread
 *     records it, so the guard state keeps its one owner while a slow or
 *     throttled API call holds up no other decision;
 *   - with --leader-elect, the lease's thread campaigns (src/lease/); the
 *     engine thread asks it before deciding and before writing an
 *     intent, each action worker just before it sends, and a standby
 *     only keeps its cluster view warm (leader.c).
 */
#ifndef DAEMON_H
#define DAEMON_H

#include <stddef.h>

struct daemon_opts {
	const char	**config;	/* manifest paths, borrowed */
	size_t		  nconfig;
	const char	 *kubeconfig;	/* NULL: the usual chain */
	const char	 *context;	/* NULL: current-context */
	const char	 *listen;	/* "127.0.0.1:8080" */
	const char	 *state;	/* state file */
	const char	 *cluster_name;	/* records' "cluster", the fleet
					   ledger's; NULL: the kubeconfig
					   context's cluster, else
					   "default" */
	const char	 *prometheus;	/* URL; NULL: RemediationConfig's */
	const char	 *alertmanager;	/* URL; NULL: RemediationConfig's */
	const char	 *page_webhook;	/* URL of a generic page receiver */
	const char	 *retain;	/* "30d", "500000", "30d,500000" */
	int		  state_recover;	/* --state-recover */
	const char	 *secrets_dir;	/* webhook secrets {name, key} */
	const char	 *tls_cert;	/* PEM: serve HTTPS (both or none) */
	const char	 *tls_key;
	const char	 *approval_key;	/* key file; NULL: env or beside
					   the state file */
	size_t		  queue_size;	/* items */
	/* leader election (docs/ha.md); off: this process always leads */
	int		  leader_elect;
	int		  state_shared;	/* --state-shared-storage: every
					   replica reaches the same state */
	const char	 *lease_name;	/* NULL: "remediate" */
	const char	 *lease_namespace;	/* NULL: the client's */
	const char	 *lease_identity;	/* NULL: host_random */
	int64_t		  lease_duration;	/* ms; 0: 15s */
	int64_t		  renew_deadline;	/* ms; 0: 10s */
	int64_t		  retry_period;		/* ms; 0: 2s */
	size_t		  action_workers;	/* 0: 4 */
	int64_t		  stall_after;	/* ms; 0: 30 s (/readyz) */
};

/*
 * Runs until SIGINT/SIGTERM (a leader hands its lease over first).
 * Returns the exit status (0, 1).
 */
int	daemon_run(const struct daemon_opts *);

#endif /* DAEMON_H */
