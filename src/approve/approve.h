/*
 * approve: confirm mode's approvals.
 *
 * A decision in confirm mode is `pending-approval`: its record (with the
 * plan auto would run) is kept here under a random id, and the owner is
 * sent a link, BASE/approve/ID?sig=SIG, served by `remediate run`.
 *
 *   signed     SIG is HMAC-SHA256 over the id and the expiry with a key
 *              only the daemon holds, so ids may appear in logs and
 *              decision records (`remediate approve ID` needs one) while
 *              the link itself cannot be forged or extended;
 *   expiring   an approval not used within its TTL (default 1h) expires;
 *              approve_expire marks it and hands it back so the engine
 *              records `expired`;
 *   single use redeeming is one conditional UPDATE: of two clicks (two
 *              browsers, two replicas of a chat unfurler, a retry), one
 *              wins and the other gets "used";
 *   durable    kept in the state file (--state), table `approvals`,
 *              beside the audit log, so a restart neither forgets a
 *              pending approval nor revives a used one.
 *
 * The key: $REMEDIATE_APPROVAL_KEY (the key itself, at least 32 bytes of
 * text), else a key file given by the caller (--approval-key,
 * $REMEDIATE_APPROVAL_KEY_FILE), else STATE.approval-key next to the
 * state file, generated (32 random bytes, hex, mode 0600) when absent.
 * Every replica that serves links must share the key and state file.
 *
 * Approving never runs the stored plan blindly: the world has moved on
 * since the decision, so the engine re-runs every guardrail and re-plans
 * against the cluster as it is now (approve_http's callback), and the
 * outcome (acted, failed, suppressed) is stored with the approval.
 *
 * A GET of the link only shows what would happen and asks to confirm
 * with a POST: chat clients fetch links to preview them, and a preview
 * must never approve anything.
 *
 * Threads: a store may be used from any thread (calls are serialized by
 * its own lock); SQLite waits up to 5 s for the audit writer's lock.
 */
#ifndef APPROVE_H
#define APPROVE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "http/http.h"

#define APPROVE_TTL_MS		(3600 * 1000LL)	/* default lifetime */
#define APPROVE_ID_LEN		32	/* hex characters of 16 bytes */
#define APPROVE_SIG_LEN		64	/* hex characters of a SHA-256 */
#define APPROVE_KEY_MIN		32	/* bytes of key material, at least */
#define APPROVE_KEY_MAX		256
#define APPROVE_KEY_ENV		"REMEDIATE_APPROVAL_KEY"
#define APPROVE_KEY_FILE_ENV	"REMEDIATE_APPROVAL_KEY_FILE"

/* ---- key and signatures ------------------------------------------------- */

struct approve_key {
	unsigned char	k[APPROVE_KEY_MAX];
	size_t		len;
	char		source[256];	/* where it came from, for logs */
};

/*
 * Loads the key (see above): key_file may be NULL, state_path is the
 * state file (its directory gets the generated key).  Returns 0 with *key,
 * or -1 with *err (owned): too short, unreadable, cannot be created.
 */
int	approve_key_load(const char *key_file, const char *state_path,
	    struct approve_key *key, char **err);
/* SIG of (id, expires) as lowercase hex into out. */
void	approve_sign(const struct approve_key *, const char *id,
	    int64_t expires, char out[APPROVE_SIG_LEN + 1]);
/* Does sig (any case) sign (id, expires)?  Constant time. */
int	approve_verify(const struct approve_key *, const char *id,
	    int64_t expires, const char *sig);

/* ---- the store ----------------------------------------------------------- */

enum approve_state {
	APPROVE_PENDING,
	APPROVE_USED,		/* redeemed: outcome holds what happened */
	APPROVE_EXPIRED,
};

/* What approve_redeem and approve_lookup answer. */
enum approve_status {
	APPROVE_OK,
	APPROVE_NOT_FOUND,
	APPROVE_BAD_SIGNATURE,
	APPROVE_GONE_EXPIRED,	/* past its expiry (marked so if pending) */
	APPROVE_GONE_USED,	/* redeemed before */
	APPROVE_ERROR,		/* the state file failed: *err */
};
const char *approve_status_name(enum approve_status);

struct approve_pending {
	char			 id[APPROVE_ID_LEN + 1];
	enum approve_state	 state;
	int64_t			 created;	/* ms */
	int64_t			 expires;	/* ms */
	int64_t			 decided;	/* ms: used or expired, or 0 */
	json_t			*record;	/* owned: the pending-approval
						   decision record */
	json_t			*outcome;	/* owned: the record after
						   approval, or NULL */
	json_t			*input;		/* owned: what the engine
						   needs to decide again
						   (engine_approve), or NULL */
	char			*url;		/* owned: BASE/approve/ID
						   (no signature), or NULL */
};
void	approve_pending_clear(struct approve_pending *);

struct approve_ticket {
	char	 id[APPROVE_ID_LEN + 1];
	char	 sig[APPROVE_SIG_LEN + 1];
	int64_t	 expires;		/* ms */
	char	*url;			/* owned: the link to send,
					   BASE/approve/ID?sig=SIG (a path
					   when there is no base URL) */
};
void	approve_ticket_clear(struct approve_ticket *);

struct approve_store;

/*
 * Opens the approvals table in the state file at path (created if
 * needed; the file is marked as remediate's so the audit store accepts
 * it in either opening order).  key is copied; base_url (may be NULL:
 * links are paths) is where `remediate run` is reached from a browser.
 * readonly: `remediate approve` reading, never creating.  Returns an
 * owned store, or NULL with *err (owned).
 */
struct approve_store *approve_store_open(const char *path,
	    const struct approve_key *key, const char *base_url, int readonly,
	    char **err);
void	approve_store_close(struct approve_store *);	/* NULL ok */
/*
 * The cluster whose approvals this store keeps, looks up, redeems and
 * expires (copied; NULL: every row): clusters sharing a PostgreSQL
 * database each answer for their own, and rows from before approvals had
 * a cluster for anyone.
 */
void	approve_store_scope(struct approve_store *, const char *cluster);

/*
 * Keeps record (borrowed: the pending-approval decision record, plan
 * included, shown to whoever opens the link) and input (borrowed, may be
 * NULL: the engine's, never shown) until now + ttl (ttl 0:
 * APPROVE_TTL_MS) and fills *t (clear it).  Returns 0, or -1 with *err.
 */
int	approve_issue(struct approve_store *, const json_t *record,
	    const json_t *input, int64_t now, int64_t ttl,
	    struct approve_ticket *t, char **err);
/*
 * Verifies sig for id, and if the approval is pending and not expired at
 * now, marks it used (once: of concurrent callers exactly one gets
 * APPROVE_OK) and fills *out (clear it).  Otherwise returns why, with
 * *out filled when the approval exists (its state and outcome).  An
 * expired pending approval is marked expired here too.
 */
enum approve_status approve_redeem(struct approve_store *, const char *id,
	    const char *sig, int64_t now, struct approve_pending *out,
	    char **err);
/* Stores what approving did (outcome borrowed: the new record). */
int	approve_finish(struct approve_store *, const char *id,
	    const json_t *outcome, char **err);
/*
 * Reads id without changing it (sig may be NULL: not checked, for the
 * state file's owner).  Returns APPROVE_OK, NOT_FOUND, BAD_SIGNATURE or
 * ERROR; *out as approve_redeem.
 */
enum approve_status approve_lookup(struct approve_store *, const char *id,
	    const char *sig, struct approve_pending *out, char **err);
/*
 * Marks every pending approval whose expiry is at or before now as
 * expired and calls fn (may be NULL) for each (p borrowed for the call):
 * the engine records `expired`.  Returns the count, or -1 with *err.
 */
int	approve_expire(struct approve_store *, int64_t now,
	    void (*fn)(void *ctx, const struct approve_pending *p), void *ctx,
	    char **err);
/*
 * Calls fn for each approval (pending only when pending_only), newest
 * first, at most limit (0: all).  Returns the count or -1 with *err.
 */
int	approve_list(struct approve_store *, int pending_only, size_t limit,
	    void (*fn)(void *ctx, const struct approve_pending *p), void *ctx,
	    char **err);
/* The signed link of an existing approval (owned), for the CLI. */
char	*approve_link(struct approve_store *, const struct approve_pending *);

/* ---- serving /approve/ID ------------------------------------------------- */

/*
 * What approving runs, supplied by the daemon: re-check every guardrail
 * and re-plan p's trigger against the cluster as it is now, execute if
 * all pass, and return 0 with *record (owned: the new decision record,
 * acted, failed or suppressed with its reason), -1 with *err (owned:
 * the engine could not be asked), or APPROVE_RUN_UNKNOWN with *err (why):
 * the engine took it, but what came of it cannot be said yet (its record
 * is not stored, or the engine did not answer in time and may still
 * act).  Called on an HTTP thread: hand the work to the engine's thread
 * and wait for it.
 */
#define APPROVE_RUN_UNKNOWN	1
typedef int	(*approve_run_fn)(void *ctx, const struct approve_pending *p,
		    json_t **record, char **err);

/*
 * Serves /approve/ID (any path starting with it; the daemon routes the
 * prefix here): GET shows the pending action and a confirm button (HTML,
 * or JSON when the client accepts application/json), POST (sig in the
 * query or the form body) redeems and calls run, then stores and shows
 * the outcome.  Answers 404 (unknown id, bad path), 403 (bad signature),
 * 410 (expired or used: with what happened), 405, 500 (store or engine
 * failed), 202 (approved, the outcome not known yet: an outcome with a
 * message and no decision), 200.  now is the clock.
 */
void	approve_http(struct approve_store *, const struct http_request *req,
	    struct http_response *resp, int64_t now, approve_run_fn run,
	    void *ctx);

/*
 * The client side for `remediate approve`: POSTs the approval to link
 * (BASE/approve/ID) with sig, asking for JSON.  Returns the HTTP status
 * (0: no answer, then *err) and *answer (owned JSON, may be NULL).
 */
long	approve_remote(const char *link, const char *sig, long timeout_ms,
	    json_t **answer, char **err);

#endif /* APPROVE_H */
