/*
 * notify: telling people what the pipeline did, and http triggers.
 *
 *   config     RemediationConfig's spec.owners (which label or annotation
 *              names a workload's owner, and each owner's destinations)
 *              and spec.notifications (the destinations: Slack-compatible
 *              incoming webhooks or plain JSON webhooks, the default
 *              destination, the public base URL, extra links);
 *   secrets    every credential (a Slack webhook URL, a bearer token) is
 *              read from a file or the environment when it is used, never
 *              from the manifest, and never logged: {file: PATH},
 *              {env: NAME}, or a Kubernetes Secret selector {name, key}
 *              read from SECRETS_DIR/NAME/KEY (the Secret mounted there),
 *              all through util/secret.h, as webhooks read theirs;
 *   messages   the Slack-compatible JSON of a decision: the decision,
 *              the target, what changed, links (the approval link of a
 *              pending approval among them);
 *   sender     a thread of its own with a bounded queue, libcurl,
 *              timeouts, verified TLS, bounded responses and retries, so
 *              a decision never waits for a chat server;
 *   http       the `http` trigger: a plan showing exactly what would be
 *              sent (secrets shown as where they come from), and the
 *              engine's execute hook for it, synchronous with the
 *              trigger's timeout, because its outcome is the decision.
 *
 * Errors: configuration problems are diagnostics at their place in the
 * manifest; runtime failures return -1 with an owned message.  Messages
 * never contain a secret's value, and a destination is named in logs by
 * its name, never by its URL (a Slack URL is itself a secret).
 */
#ifndef NOTIFY_H
#define NOTIFY_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "conf/conf.h"
#include "record/record.h"
#include "util/secret.h"

#define NOTIFY_OWNER_KEY	"remediation.platform/owner"
#define NOTIFY_MAX_RESPONSE	(64u << 10)	/* bytes of an answer kept */
#define NOTIFY_TIMEOUT_MS	5000		/* one request, default */

/* ---- configuration ------------------------------------------------------- */

enum notify_format {
	NOTIFY_SLACK,		/* Slack-compatible incoming webhook JSON */
	NOTIFY_WEBHOOK,		/* {"decision": RECORD, "text", "links"} */
};

struct notify_header {
	char			*name;		/* owned */
	char			*value;		/* owned; NULL when secret */
	struct secret		 secret;
};

struct notify_dest {
	char			*name;		/* owned */
	enum notify_format	 format;
	char			*url;		/* owned plain URL, or NULL */
	struct secret		 url_secret;	/* when url is NULL */
	struct notify_header	*headers;	/* owned */
	size_t			 nheaders;
	char			*channel;	/* owned, Slack, may be NULL */
	char			*username;	/* owned, Slack, may be NULL */
	char			*icon_emoji;	/* owned, Slack, may be NULL */
	long			 timeout_ms;
	char			*ca_file;	/* owned, may be NULL */
	int			 insecure;	/* insecureSkipVerify */
};

struct notify_route {
	char	 *owner;	/* owned */
	size_t	 *dests;	/* owned indexes into config dests */
	size_t	  ndests;
};

struct notify_link {
	char	*name;		/* owned */
	char	*tmpl;		/* owned Go template over the record */
};

struct notify_config {
	struct notify_dest	*dests;		/* owned */
	size_t			 ndests;
	long			 default_dest;	/* index, -1: none */
	char			*owner_key;	/* owned label/annotation key */
	struct notify_route	*routes;	/* owned */
	size_t			 nroutes;
	struct notify_link	*links;		/* owned */
	size_t			 nlinks;
	char			*base_url;	/* owned: where `remediate run`
						   is reached (approval links),
						   or NULL */
	int			 attempts;	/* per message and
						   destination */
	int64_t			 approval_ttl;	/* ms: notifications.
						   approvalTTL, 0: not set
						   (approve's default, 1h) */
	char			*secrets_dir;	/* owned */
};

/*
 * Compiles spec.owners and spec.notifications of the conf's
 * RemediationConfig (none: an empty configuration that sends nothing).
 * secrets_dir NULL: SECRET_DIR.  With read_secrets, every
 * secret is read once now so a missing file or variable is reported at
 * load, not at the first incident.  Problems go to diags at their place.
 * Returns an owned configuration, or NULL if diags got errors.
 */
struct notify_config *notify_config_new(const struct conf *,
	    const char *secrets_dir, int read_secrets, struct diags *);
void	notify_config_free(struct notify_config *);	/* NULL ok */
/* The destination named name, or NULL. */
const struct notify_dest *notify_dest_find(const struct notify_config *,
	    const char *name);

/*
 * The owner of a decision: the owner label, else annotation, of the
 * target workload, else of the subject (each borrowed, may be NULL).
 * Returns a borrowed string or NULL.
 */
const char *notify_owner(const struct notify_config *, json_t *target,
	    json_t *subject);
/*
 * The destinations for owner (may be NULL): its route, else the default.
 * Fills out (at most max, borrowed) and returns the count.
 */
size_t	notify_route(const struct notify_config *, const char *owner,
	    const struct notify_dest **out, size_t max);

/* ---- messages ------------------------------------------------------------ */

/* What one notification is about (everything borrowed). */
struct notify_msg {
	json_t		*record;	/* rec_to_json of the decision */
	json_t		*target;	/* the workload object, may be NULL */
	json_t		*subject;	/* the signal's object, may be NULL */
	const char	*approval_url;	/* pending-approval: the signed link,
					   or NULL */
};

/*
 * One line saying what the decision did or would do ("acted: raised
 * memory of container app of Deployment shop/checkout: request 256Mi ->
 * 320Mi ..."), owned.
 */
char	*notify_summary(const struct notify_msg *);
/*
 * The body for destination d: Slack's incoming-webhook JSON (text as the
 * fallback, blocks with the decision, target, what changed, links and
 * an Approve button) or the webhook JSON.  Owned.
 */
json_t	*notify_payload(const struct notify_config *,
	    const struct notify_dest *d, const struct notify_msg *);

/* ---- sender -------------------------------------------------------------- */

struct notify_opts {
	size_t		 queue_max;	/* messages waiting; the oldest is
					   dropped beyond (256) */
	int64_t		 retry_base;	/* ms before the first retry; doubles
					   (1000) */
	/* Logs a line (fields stolen, may be NULL); any thread. */
	void		(*log)(const char *level, const char *msg,
			    json_t *fields);
};

struct notify_stats {
	uint64_t	queued, sent, failed, dropped, retries;
};

struct notify;

/*
 * Starts the sender thread for cfg (borrowed: must outlive the sender).
 * opts may be NULL (the defaults).  Returns an owned sender, or NULL with
 * *err (thread creation).
 */
struct notify	*notify_new(const struct notify_config *cfg,
		    const struct notify_opts *opts, char **err);
/*
 * Stops the thread (the request in flight finishes or times out; what is
 * still queued is dropped and counted) and frees.  NULL is a no-op.
 */
void		 notify_free(struct notify *);
/*
 * Any thread: routes m to its owner's destinations, builds each payload
 * now (m is borrowed for the call only) and queues them.  Returns the
 * number of messages queued (0: no destination).
 */
size_t	notify_send(struct notify *, const struct notify_msg *m);
/* Waits until nothing is queued or in flight: 0, or -1 after timeout. */
int	notify_flush(struct notify *, int64_t timeout_ms);
void	notify_stats(struct notify *, struct notify_stats *);

/*
 * One POST of body (borrowed) to d, now, on the calling thread: 0 for a
 * 2xx answer, or -1 with *err (owned; no URL in it).  *status gets the
 * HTTP status (0: none).  For tests and `remediate approve`.
 */
int	notify_post(const struct notify_dest *d, const json_t *body,
	    long *status, char **err);

/* ---- http triggers ------------------------------------------------------- */

/*
 * Plans an http trigger: spec is the fired trigger's http block
 * (sensor_fire.spec: url, method, headers, secureHeaders, timeout, tls,
 * basicAuth), payload the built payload (sensor_fire.resource, may be
 * NULL).  The plan is {"type": "http", "method", "url", "headers":
 * {NAME: VALUE}, "secureHeaders": {NAME: {"env": ...}}, "body",
 * "timeoutMs", "tls": {...}}: what is sent, secrets as references.
 * Returns 0 with *plan (owned), or -1 with *err (owned).
 */
int	notify_plan_http(const json_t *spec, const json_t *payload,
	    json_t **plan, char **err);
/*
 * The engine's execute hook for plans of type "http" (ctx: a secrets
 * directory string, or NULL for SECRET_DIR).  Reads the secrets,
 * sends the request on the calling thread within the plan's timeout and
 * returns 0 with *result ({"status", "body": the first 4 KiB}) for a 2xx
 * answer, or -1 with *err (owned).  dry_run sends nothing and answers
 * {"dryRun": true}: an HTTP endpoint has no dry run.
 */
int	notify_execute_http(void *ctx, const json_t *plan, int dry_run,
	    json_t **result, char **err);

#endif /* NOTIFY_H */
