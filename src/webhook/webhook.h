/*
 * webhook: EventSource `webhook` entries, served on the daemon's one HTTP
 * server, and Alertmanager's webhook payloads.
 *
 * A hook set is the compiled form of every webhook entry of the loaded
 * EventSources: method + endpoint, authentication (Argo's authSecret
 * bearer token, basicAuth, or an HMAC-SHA256 of the body), body limit,
 * metadata.  It is immutable; a reload compiles a new one and swaps it in
 * (hook_ingress_set), requests in flight finishing on the old one.
 *
 * The ingress is the runtime: the HTTP server's fallback route.  For each
 * request it finds the endpoint (404/405), checks credentials before the
 * body is read (401), the body limit (413), the signature (401/403),
 * decodes the body (400 with a JSON error), and hands the events to the
 * sink (the daemon's: the state file's intake, then the engine's queue).
 * It acknowledges (200) only once the sink took every event of the
 * request; when the sink cannot (no room, stopping, the state file
 * failing) it answers 503 with Retry-After so the sender retries and no
 * signal is lost.
 *
 * Event shapes, as Argo Events builds them (see docs/webhooks.md):
 *
 *   plain:         data = {"header": {"Name": ["value"]}, "body": JSON,
 *                          "metadata": {...} (when the source sets it)}
 *                  GET: body is the query, {"name": ["value"]}; a
 *                  form-encoded POST: the form, the same way.
 *   Alertmanager:  one event per alert; data.body is the alert (status,
 *                  labels, annotations, startsAt, endsAt, generatorURL,
 *                  fingerprint) plus body.group: the notification's
 *                  receiver, status, groupLabels, commonLabels,
 *                  commonAnnotations, externalURL, groupKey, version,
 *                  truncatedAlerts.  The event id is stable (source, name,
 *                  fingerprint, startsAt, status), so a redelivered alert
 *                  is acknowledged but not queued twice; the time is the
 *                  alert's startsAt (endsAt once resolved); the subject
 *                  comes from its labels (sig_labels_subject).
 */
#ifndef WEBHOOK_H
#define WEBHOOK_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "conf/conf.h"
#include "http/http.h"
#include "signal/event.h"
#include "util/util.h"

#define HOOK_DEDUP_DEFAULT	16384	/* alert ids remembered */
#define HOOK_SIG_HEADER		"X-Hub-Signature-256"
#define HOOK_TS_HEADER		"X-Webhook-Timestamp"	/* signed, s */
#define HOOK_TS_SKEW		(5 * 60 * 1000)	/* ms either way */

/* ---- compiled endpoints ------------------------------------------------- */

struct hook_set;

struct hook_set_opts {
	/*
	 * Where Kubernetes-style secrets {name, key} are mounted: the
	 * secret is the file DIR/NAME/KEY (mount Secret NAME at DIR/NAME).
	 * NULL: SECRET_DIR (util/secret.h).  Borrowed.
	 */
	const char			*secrets_dir;
	/*
	 * Read every secret now and report those that cannot be read (the
	 * daemon); 0 only checks their form (`remediate check`).
	 */
	int				 read_secrets;
	/* When set, endpoints that collide with its own routes are errors. */
	const struct http_server	*server;
};

struct hook_set	*hook_set_new(void);
/* Frees a set that was never given to an ingress.  NULL is a no-op. */
void		 hook_set_free(struct hook_set *);
/*
 * Compiles the webhook entries of EventSource doc (schema-checked by
 * conf).  Errors go to diags at the offending node: the same method and
 * endpoint twice (across every document added), an endpoint the server
 * serves itself, a secret reference that escapes the secrets directory
 * or cannot be read.  Returns 0, or -1 when it added errors.
 */
int		 hook_set_add(struct hook_set *, const struct mdoc *doc,
		    const struct hook_set_opts *, struct diags *);
size_t		 hook_set_count(const struct hook_set *);
/* One line per endpoint for logs and `check`: "POST /alerts (bearer)". */
char		*hook_set_describe(const struct hook_set *, size_t i);
/* Endpoint i takes requests without any authentication: 1 when the
 * manifest says so (auth: none), 2 when it says nothing, else 0. */
int		 hook_set_unauthenticated(const struct hook_set *, size_t i);

/* ---- decoding (pure: no I/O, any thread) -------------------------------- */

/* The endpoint an event comes from, as decoding needs it. */
struct hook_target {
	const char	*source, *name;	/* borrowed by the events */
	json_t		*metadata;	/* borrowed, may be NULL */
	/* headers masked beside Authorization, Proxy-Authorization,
	 * Cookie and X-Api-Key (canonical names, borrowed) */
	char		**secret;
	size_t		  nsecret;
};

/*
 * Turns an accepted request into events shaped as above; now (ms) is the
 * time of a plain webhook's event.  On success returns the number of
 * events (0 for an Alertmanager payload without alerts), *evs an owned
 * array (free with hook_events_free) and *alertmanager set when the body
 * was an Alertmanager payload.  Returns -1 and *err (owned; the 400
 * message) when the body is not JSON, the form is malformed, or an alert
 * lacks labels, a status of firing/resolved or an RFC 3339 startsAt.
 */
int	hook_decode(const struct hook_target *, const struct http_request *,
	    int64_t now, struct event **evs, int *alertmanager, char **err);
/* Clears n events and frees the array.  NULL is a no-op. */
void	hook_events_free(struct event *evs, size_t n);
/* Go's canonical header name ("content-type" -> "Content-Type"). */
void	hook_canonical_header(const char *name, char *out, size_t outlen);

/* ---- the runtime --------------------------------------------------------- */

/*
 * Where events go: the engine's queue.  Called from HTTP server threads,
 * concurrently, so push must be thread-safe.
 */
enum hook_push_result {
	HOOK_PUSHED = 0,	/* taken: answer 200 */
	HOOK_FULL = -1,		/* no room now: 503 + Retry-After */
	HOOK_STOPPING = -2,	/* a standby, or shutting down: 503 +
				   Retry-After */
	HOOK_UNSTORED = -3,	/* the state file cannot be written: 503 */
	HOOK_REPLAY = 1,	/* the signed request was seen: 200, not
				   decided again */
};

struct hook_sink {
	/*
	 * Takes all n events (n >= 1) or none; replay is the request's
	 * replay mark (hook_replay_key's, NULL when unsigned), borrowed.
	 * Returns HOOK_PUSHED when all are taken: the sink owns each event's
	 * owned members (id, data, subject) and the caller forgets them;
	 * source, name and type are borrowed from strings that live until
	 * the process exits.  Any other result takes nothing.
	 */
	int		(*push)(void *ctx, struct event *evs, size_t n,
			    const char *replay);
	void		*ctx;
	/*
	 * The most events the queue can ever hold; a request with more is
	 * refused with 413 instead of 503 (it could never fit).  0: no
	 * limit.
	 */
	size_t		 capacity;
	/* The clock for plain webhook event times; NULL: the system's. */
	const struct clock *clock;
};

struct hook_ingress_opts {
	size_t		 dedup_max;	/* alert ids kept; 0: default */
	unsigned	 retry_after;	/* s, with 503; 0: 5 */
	/*
	 * Called (from server threads) with one line about a request that
	 * failed on our side (an unreadable secret).  May be NULL.
	 */
	void		(*log)(void *ctx, const char *msg);
	void		*log_ctx;
};

struct hook_ingress;

/* sink and opts are copied.  Starts with an empty set (everything 404). */
struct hook_ingress *hook_ingress_new(const struct hook_sink *,
		    const struct hook_ingress_opts *);
/* Makes the ingress the server's fallback route; before it starts. */
void		 hook_ingress_attach(struct hook_ingress *,
		    struct http_server *);
/*
 * Swaps in set (takes ownership; any thread).  Requests in flight finish
 * with the old set, which is freed after the last one.  The dedup memory
 * is kept across swaps.
 */
void		 hook_ingress_set(struct hook_ingress *, struct hook_set *);
/*
 * At a start or a takeover, before any request is stored: forgets every
 * alert id remembered and remembers ids[0..n) (borrowed) instead, oldest
 * first, as if each had just been stored (the same alert's other status
 * forgotten, the oldest past the bound too).  The daemon gives the ids of
 * the state's recent decision records and undecided intake rows, so an
 * alert stored by an earlier process or leader is a redelivery here too.
 * Ids that are not Alertmanager alerts' are skipped.  Returns how many
 * are remembered.  Any thread.
 */
size_t		 hook_ingress_seed(struct hook_ingress *,
		    const char *const *ids, size_t n);
/* How many alert ids it remembers at most (opts.dedup_max). */
size_t		 hook_ingress_dedup_max(const struct hook_ingress *);
/* Frees the ingress; call after http_server_free.  NULL is a no-op. */
void		 hook_ingress_free(struct hook_ingress *);

struct hook_stats {
	uint64_t	requests;	/* reached an endpoint */
	uint64_t	events;		/* queued */
	uint64_t	duplicates;	/* redelivered alerts not queued */
	uint64_t	replays;	/* signed requests seen before */
	uint64_t	unstored;	/* 503: the state file failed */
	uint64_t	full;		/* 503: the queue had no room */
	uint64_t	unauthorized;	/* 401 */
	uint64_t	forbidden;	/* 403: bad signature */
	uint64_t	malformed;	/* 400 */
	uint64_t	too_large;	/* 413 */
	uint64_t	not_found;	/* 404 and 405 */
};
/* A snapshot of the counters (any thread). */
void	hook_ingress_stats(const struct hook_ingress *, struct hook_stats *);

#endif /* WEBHOOK_H */
