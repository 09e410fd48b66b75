/*
 * kube: the Kubernetes API client.
 *
 *   config     where the cluster is and who we are: a kubeconfig (explicit
 *              path, $KUBECONFIG, ~/.kube/config; contexts; CA file or
 *              data; token, token file, client certificate, exec plugins)
 *              or in-cluster (service account token, CA, namespace,
 *              KUBERNETES_SERVICE_HOST/PORT);
 *   client     HTTPS requests with libcurl: verified TLS, bounded bodies,
 *              timeouts, credentials refreshed as they rotate, retries of
 *              429 / 5xx that honour Retry-After; safe to share between
 *              threads;
 *   errors     the server's Status bodies as struct kube_error;
 *   discovery  (apiVersion, kind) <-> plural resource and scope, from
 *              /api and /apis, cached, with a built-in table for the kinds
 *              the project uses when discovery cannot answer;
 *   verbs      get, list, create, update, patch, delete, each with
 *              server-side dry-run;
 *   executor   the engine's execute hook for k8s plans, and core/v1 Events
 *              on the targets of actions;
 *   watches    list+watch in a thread of its own: resume, bookmarks,
 *              relist on 410 without replaying what did not change,
 *              backoff with jitter;
 *   bump       the memory-bump computation of `remediate bump-memory`.
 *
 * Errors: every function that talks to the server fills a struct
 * kube_error (the caller clears it with kube_error_clear) and returns -1
 * or NULL; nothing is logged here, the caller decides.  Strings handed in
 * are borrowed for the call unless said otherwise.
 */
#ifndef KUBE_H
#define KUBE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "util/quantity.h"
#include "util/retry.h"

/* ---- limits ------------------------------------------------------------ */
#define KUBE_MAX_BODY		(64u << 20)	/* bytes of one response */
#define KUBE_MAX_EVENT		(16u << 20)	/* bytes of one watch line */
#define KUBE_MAX_CONFIG		(4u << 20)	/* bytes of a kubeconfig */
#define KUBE_TIMEOUT_MS		30000		/* one request, default */
#define KUBE_TOKEN_REREAD_S	60		/* token file re-read period */
#define KUBE_EXEC_TIMEOUT_MS	30000		/* exec plugin run */

/* ---- errors ------------------------------------------------------------ */
struct kube_cause {
	char	*field;		/* owned, may be NULL */
	char	*reason;	/* owned, may be NULL */
	char	*message;	/* owned, may be NULL */
};

struct kube_error {
	long			 status;	/* HTTP status; 0 when no
						   answer (transport, local) */
	char			*reason;	/* owned: Status reason
						   ("NotFound"), or NULL */
	char			*message;	/* owned: always set when the
						   call failed */
	struct kube_cause	*causes;	/* owned: details.causes */
	size_t			 ncauses;
	int			 retry_after_s;	/* Retry-After header or
						   details.retryAfterSeconds;
						   -1 none */
	int			 attempts;	/* requests sent */
	int			 timed_out;	/* the last attempt timed out
						   on our side: the server may
						   have carried it out */
};

void	kube_error_init(struct kube_error *);
void	kube_error_clear(struct kube_error *);	/* frees, re-inits */
/* A local error (status 0) with a printf message; replaces what was set. */
void	kube_error_set(struct kube_error *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/*
 * One line for logs and decision records, owned: "403 Forbidden:
 * MESSAGE", with the causes appended when the message does not already
 * carry them ("... [spec.x: Invalid value ...]").
 */
char	*kube_error_text(const struct kube_error *);
/*
 * Reads an error response: a JSON Status body (message, reason,
 * details.causes, details.retryAfterSeconds) or any other body (text/plain
 * 429 from API priority and fairness, HTML from a proxy), with the
 * Retry-After header value (may be NULL).  Fills *e (cleared first).
 * Never fails: an unreadable body gives the HTTP status text.
 */
void	kube_status_parse(long status, const char *body, size_t len,
	    const char *retry_after, struct kube_error *e);

/* ---- configuration ----------------------------------------------------- */
struct kube_exec {
	char	 *command;	/* owned: program (PATH searched when bare) */
	char	**args;		/* owned, nargs entries */
	size_t	  nargs;
	char	**env;		/* owned "NAME=VALUE" added to ours */
	size_t	  nenv;
	char	 *api_version;	/* owned: client.authentication.k8s.io/v1 */
	int	  provide_cluster_info;
};

struct kube_config {
	char		*server;	/* owned: "https://host:port" */
	char		*tls_server_name; /* owned, may be NULL */
	int		 insecure;	/* insecure-skip-tls-verify */
	char		*ca_file;	/* owned, may be NULL */
	char		*ca_data;	/* owned PEM, may be NULL */
	size_t		 ca_len;
	char		*token;		/* owned static token, may be NULL */
	char		*token_file;	/* owned, re-read as it rotates */
	char		*cert_file, *key_file;	/* owned, may be NULL */
	char		*cert_data, *key_data;	/* owned PEM, may be NULL */
	size_t		 cert_len, key_len;
	char		*username, *password;	/* owned basic auth, or NULL */
	struct kube_exec *exec;		/* owned, may be NULL */
	char		*namespace;	/* owned: context's, else "default" */
	char		*context;	/* owned: context used, "in-cluster" */
	char		*cluster;	/* owned: the context's cluster
					   entry's name; NULL in-cluster */
	char		*source;	/* owned: the file read, or
					   "in-cluster" */
};

/*
 * Loads the configuration by the usual chain: path when not NULL; else the
 * first file of $KUBECONFIG (the other files of the list are not merged);
 * else in-cluster when KUBERNETES_SERVICE_HOST is set and the service
 * account token exists; else ~/.kube/config.  context NULL means the
 * kubeconfig's current-context.  Returns 0 with *cfg filled (the caller
 * clears it), or -1 with *err (owned) naming the file and what is wrong.
 */
int	kube_config_load(const char *path, const char *context,
	    struct kube_config *cfg, char **err);
/*
 * Reads kubeconfig text (len bytes; name is the file for messages and the
 * base of relative paths).  As kube_config_load.
 */
int	kube_config_parse(const char *text, size_t len, const char *name,
	    const char *context, struct kube_config *cfg, char **err);
/*
 * In-cluster configuration from sa_dir (NULL: the standard
 * /var/run/secrets/kubernetes.io/serviceaccount) and
 * KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT.  As kube_config_load.
 */
int	kube_config_in_cluster(const char *sa_dir, struct kube_config *cfg,
	    char **err);
void	kube_config_clear(struct kube_config *);

/*
 * Runs an exec credential plugin (fork/exec, no shell; our environment
 * plus exec->env; KUBERNETES_EXEC_INFO holds the ExecCredential input;
 * stdin closed, stdout bounded, stderr passed through, killed after
 * KUBE_EXEC_TIMEOUT_MS, or as soon as *stop (NULL: never) is non-zero).
 * Returns 0 with the owned parts of its ExecCredential status (token, or
 * client certificate and key data, each may be NULL) and *expires (ms
 * since the epoch, 0 if none), or -1 with *err (owned).
 */
int	kube_exec_credential(const struct kube_exec *, const char *server,
	    atomic_int *stop, char **token, char **cert, char **key,
	    int64_t *expires, char **err);
/* Reads an ExecCredential JSON (the part after the plugin ran). */
int	kube_exec_parse(const char *json, size_t len, char **token,
	    char **cert, char **key, int64_t *expires, char **err);

/* ---- retries: util/retry.h (shared with the http trigger) ---------------- */

/* ---- client ------------------------------------------------------------ */
struct kube_client;

/*
 * A client for cfg (copied: the caller may clear cfg after).  Reads the
 * CA, certificate and key files now, so a missing file is reported here.
 * Returns an owned client, or NULL with *err (owned).  curl_global_init
 * runs once per process, on the first call.
 */
struct kube_client *kube_client_new(const struct kube_config *cfg,
	    char **err);
void	 kube_client_free(struct kube_client *);
/*
 * Requests made on the calling thread from now on (flag NULL: none) stop
 * when *flag becomes non-zero: a transfer under way is aborted, a retry
 * is not waited for, and the request fails with "cancelled".  The action
 * workers use it so that stopping does not wait out a Retry-After.
 */
void	 kube_cancel_on(atomic_int *flag);
/* Per-request timeout for non-watch requests (default KUBE_TIMEOUT_MS). */
void	 kube_client_set_timeout(struct kube_client *, long ms);
/* Retry policy for 429 and 5xx (default retry_default). */
void	 kube_client_set_retry(struct kube_client *, const struct retry *);
/*
 * The calling thread's requests from now on, any client: retry policy r
 * (borrowed, outliving them; NULL: the client's) and timeout_ms per
 * request (0: the client's).  For a thread every decision waits on (the
 * engine's reads), so a throttled or hung server costs it a bounded
 * wait; kube_thread_policy(NULL, 0) ends it.
 */
void	 kube_thread_policy(const struct retry *r, long timeout_ms);
/* The default namespace of the configuration (borrowed). */
const char *kube_client_namespace(const struct kube_client *);
const char *kube_client_server(const struct kube_client *);

/* One response, as read. */
struct kube_response {
	long	 status;	/* HTTP status */
	char	*body;		/* owned, NUL-terminated */
	size_t	 len;
	char	*warning;	/* owned: Warning header(s), or NULL */
};
void	kube_response_clear(struct kube_response *);

/* What one request may do besides the basics. */
struct kube_req {
	const char		*method;	/* "GET", "POST"... */
	const char		*path;		/* path and query, escaped */
	const char		*content_type;	/* of body, or NULL */
	const char		*body;		/* may be NULL */
	size_t			 len;
	size_t			 max_body;	/* 0: KUBE_MAX_BODY */
	const struct retry	*retry;		/* NULL: the client's */
	int			 no_retry_5xx;	/* a create that may have
						   happened (generateName) */
	/*
	 * Borrowed, may be NULL.  Once set, the transfer aborts and the
	 * wait before a retry ends: a watch told to stop while the API
	 * server is unreachable stops at once, not after its retries.
	 */
	atomic_int		*stop;
};

/*
 * Sends the request (retrying 429 and 5xx as the retry policy says, and a
 * 401 once after refreshing a rotated or expired credential).  Before
 * each attempt it asks the calling thread's gate (retry_gate_on, util/
 * retry.h), which also ends a wait for a retry early: a closed gate fails
 * the request "METHOD URL: not sent: REASON", with what the attempt before
 * was answered, and sends nothing more.  Returns 0 with *resp (the caller
 * clears it) for a 2xx answer; -1 with *err for anything else (the last
 * answer's Status).
 */
int	kube_request(struct kube_client *, const struct kube_req *,
	    struct kube_response *resp, struct kube_error *err);
/* kube_request with a JSON answer: returns it (owned) or NULL with *err. */
json_t	*kube_request_json(struct kube_client *, const struct kube_req *,
	    struct kube_error *err);

/* ---- discovery --------------------------------------------------------- */
struct kube_resource {
	char	*group;		/* owned: "" for core */
	char	*version;	/* owned */
	char	*resource;	/* owned: plural, "deployments" */
	char	*kind;		/* owned */
	int	 namespaced;
};
void	kube_resource_clear(struct kube_resource *);

/* A kube_error's reason (status 0) when the server serves no such kind. */
#define KUBE_NOT_SERVED	"NotServed"

/*
 * The resource serving kind in api_version ("apps/v1", "v1"), from the
 * server's discovery documents (cached in the client for its life), or
 * from the built-in table when the server cannot be asked (c NULL, or
 * discovery fails other than with a 404).  Returns 0 with *out (the caller
 * clears it), or -1 with *err (kind not served).
 */
int	kube_resource_for(struct kube_client *, const char *api_version,
	    const char *kind, struct kube_resource *out,
	    struct kube_error *err);
/* The built-in table only: 0 found, -1 not in it. */
int	kube_resource_builtin(const char *api_version, const char *kind,
	    struct kube_resource *out);
/*
 * The URL path of a resource (collection when name is NULL), with
 * namespace when the resource is namespaced and ns is not NULL, and
 * subresource when not NULL.  Owned.  Names are percent-escaped.
 */
char	*kube_resource_path(const struct kube_resource *, const char *ns,
	    const char *name, const char *subresource);

/* ---- verbs ------------------------------------------------------------- */
enum kube_patch_type {
	KUBE_PATCH_MERGE,	/* application/merge-patch+json (RFC 7386) */
	KUBE_PATCH_STRATEGIC,	/* application/strategic-merge-patch+json */
	KUBE_PATCH_JSON,	/* application/json-patch+json (RFC 6902) */
};
/*
 * "merge", "strategic", "json", "strategic-merge", "json-patch" or the
 * content types themselves: 0 with *t, -1 unknown.
 */
int	kube_patch_type_parse(const char *, enum kube_patch_type *t);
const char *kube_patch_content_type(enum kube_patch_type);

/*
 * Each returns the server's object (owned) or NULL with *err.  dry_run
 * sends dryRun=All: the server validates and answers as if done, and
 * persists nothing.  Namespaces of namespaced kinds default to the
 * client's namespace when the object or argument gives none.
 */
json_t	*kube_get(struct kube_client *, const char *api_version,
	    const char *kind, const char *ns, const char *name,
	    struct kube_error *err);
/*
 * kube_get as a lookup (client is the struct kube_client *): 0 with *out
 * (owned), 1 when there is no such object or the server serves no such
 * kind (no Argo CD installed: no Application), -1 with *err (owned).
 * The engine's fetch hook.
 */
int	kube_fetch(void *client, const char *api_version, const char *kind,
	    const char *ns, const char *name, json_t **out, char **err);
/* Creates obj (borrowed); generateName works (the server picks). */
json_t	*kube_create(struct kube_client *, const json_t *obj, int dry_run,
	    struct kube_error *err);
/*
 * After a create of obj (borrowed) that timed out on our side (err->
 * timed_out): the server may still have carried it out, so ask for the
 * object by its name.  Found: err is cleared and the result is
 * {"verifiedAfter": "timeout", "object": LIVE} (owned).  Not found, no
 * name (generateName unresolved) or the lookup failed: NULL and err
 * (the timeout) stands.  The one such check, for k8s plans and native
 * actions alike.
 */
json_t	*kube_created_after_timeout(struct kube_client *, const json_t *obj,
	    struct kube_error *err);
/*
 * Replaces obj (borrowed; metadata.resourceVersion, when set, makes a
 * stale write a 409 Conflict, reported as is).
 */
json_t	*kube_update(struct kube_client *, const json_t *obj, int dry_run,
	    struct kube_error *err);
/*
 * Read-modify-write with conflict retries: GETs the object, calls
 * mutate(ctx, obj) (obj owned by the call; return 0 to write, 1 to stop
 * with nothing to do (returns the object unchanged), -1 to fail with *err
 * set by the callback), PUTs it with its resourceVersion, and on 409
 * Conflict starts again from a fresh GET, at most attempts times.
 */
json_t	*kube_update_retry(struct kube_client *, const char *api_version,
	    const char *kind, const char *ns, const char *name, int attempts,
	    int (*mutate)(void *ctx, json_t *obj, struct kube_error *err),
	    void *ctx, int dry_run, struct kube_error *err);
json_t	*kube_patch(struct kube_client *, const char *api_version,
	    const char *kind, const char *ns, const char *name,
	    enum kube_patch_type, const json_t *patch, int dry_run,
	    struct kube_error *err);
/*
 * Deletes (propagationPolicy Background).  Returns the server's answer
 * (the object, or a Status Success) or NULL with *err.
 */
json_t	*kube_delete(struct kube_client *, const char *api_version,
	    const char *kind, const char *ns, const char *name, int dry_run,
	    struct kube_error *err);
/*
 * One page of a list: selectors may be NULL, limit 0 for no limit,
 * cont the continue token or NULL, stop as kube_req's (may be NULL).
 * Returns the List (owned; items get their kind and apiVersion back) or
 * NULL with *err.
 */
json_t	*kube_list(struct kube_client *, const struct kube_resource *,
	    const char *ns, const char *label_selector,
	    const char *field_selector, long limit, const char *cont,
	    atomic_int *stop, struct kube_error *err);
/*
 * kube_list, one item at a time: fn(ctx, item) gets each item (borrowed,
 * kind and apiVersion restored) as soon as it is parsed, so a page of 500
 * Pods as a real server serves them is never one tree (~30 MB).  Returns
 * the List without "items" (owned: kind, apiVersion, metadata) or NULL
 * with *err; items before a malformed part were delivered already.
 */
typedef void	 kube_item_fn(void *ctx, json_t *item);
/*
 * How a watch's caller reads an object's text when it keeps only part
 * of it (the cluster view: cluster_decode), instead of util_json_loadb's whole
 * tree.  In: text[0..len) (a watch event, or a list's body from an
 * item on), flags (jansson's, as the watch would parse it), path (the
 * member names, from the root, of the object the caller reads; NULL:
 * the root), kind (an item's kind when it has none: the list's; or
 * NULL).  Out: a new reference, a tree that keeps at least what the
 * watch reads (type, metadata.uid and .resourceVersion, an ERROR's
 * Status whole), with end the bytes read under JSON_DISABLE_EOF_CHECK;
 * or NULL with why (static text).
 */
struct kube_decode {
	const char		*text;
	size_t			 len;
	size_t			 flags;
	const char *const	*path;
	const char		*kind;
	size_t			 end;		/* out */
	const char		*why;		/* out */
};
typedef json_t	*kube_decode_fn(void *ctx, struct kube_decode *);
/* decode may be NULL: util_json_loadb reads each item whole. */
json_t	*kube_list_each(struct kube_client *, const struct kube_resource *,
	    const char *ns, const char *label_selector,
	    const char *field_selector, long limit, const char *cont,
	    atomic_int *stop, kube_item_fn *fn, void *ctx,
	    kube_decode_fn *decode, void *decode_ctx,
	    struct kube_error *err);

/* ---- executor and events ----------------------------------------------- */
/*
 * The engine's execute hook (engine_opts.execute, ctx = the client).
 * plan (borrowed) is an action plan: {"type":"k8s", "operation":
 * create|update|patch|delete, apiVersion, kind, namespace, name,
 * object|patch, patchStrategy (a content type or merge/strategic/json),
 * retryStrategy (optional, Argo's)}.  update without a resourceVersion
 * is a read-modify-write that retries conflicts.  Returns 0 with *result
 * (owned: the server's answer) or -1 with *err (owned: kube_error_text of
 * the last answer).
 */
int	kube_execute_plan(void *client, const json_t *plan, int dry_run,
	    json_t **result, char **err);
/*
 * Records a core/v1 Event on the object ref names (borrowed JSON:
 * apiVersion, kind, namespace, name, uid and resourceVersion when known),
 * so `kubectl describe` shows it: reason (e.g. "Remediated",
 * "RemediationFailed"), message (truncated to 1024 bytes), type "Normal"
 * or "Warning".  Returns 0, or -1 with *err.
 */
int	kube_record_event(struct kube_client *, const json_t *ref,
	    const char *reason, const char *message, const char *type,
	    struct kube_error *err);
/* The Event kube_record_event sends (owned), at now (ms), for tests. */
json_t	*kube_event_object(const json_t *ref, const char *reason,
	    const char *message, const char *type, int64_t now,
	    const char *instance);

/* ---- watches ----------------------------------------------------------- */
enum kube_event_type {
	KUBE_SYNC,	/* present at the initial list: fills a cache, is
			   not a new signal */
	KUBE_ADDED,
	KUBE_MODIFIED,
	KUBE_DELETED,
	KUBE_RELIST_BEGIN,	/* stateless watches: a relist starts */
	KUBE_RELIST_END,	/* ... and is whole: the rest is gone */
};
const char *kube_event_type_name(enum kube_event_type);

/* Why a watch listed, and what the list cost (kube_watch_spec.on_list). */
enum kube_list_cause {
	KUBE_LIST_START,	/* the initial list */
	KUBE_LIST_EXPIRED,	/* a relist: our resourceVersion was gone
				   (410) */
	KUBE_LIST_RESUME,	/* events: one item for a fresh
				   resourceVersion instead of a relist */
};
struct kube_list_report {
	enum kube_list_cause	 cause;
	long			 pages;		/* list requests answered */
	long			 objects;	/* items listed */
	int64_t			 ms;		/* monotonic, the whole list */
};
/* "start", "expired", "resume". */
const char *kube_list_cause_name(enum kube_list_cause);

struct kube_watch_spec {
	const char	*group;		/* "" for core */
	const char	*version;
	const char	*resource;	/* plural */
	const char	*namespace;	/* NULL: all namespaces */
	const char	*label_selector;	/* may be NULL */
	const char	*field_selector;	/* may be NULL */
	long		 page_limit;	/* list page size; 0: 500 */
	int		 timeout_s;	/* watch request timeoutSeconds;
					   0: random 300..600 */
	/*
	 * Optional: told (from the watch's thread, with the ctx given to
	 * kube_watch_start) of every failed list, watch or stream (error
	 * is the message, borrowed) and of the first success after
	 * failures (error NULL), so the caller can log it.
	 */
	void		(*on_error)(void *ctx, const char *error);
	/*
	 * Optional: told (from the watch's thread) of every list it made,
	 * once the list is done: what it cost, for logs and metrics.
	 */
	void		(*on_list)(void *ctx, const struct kube_list_report *);
	/*
	 * The caller keeps the state (the cluster view) and applies every
	 * change idempotently: the watch keeps no uid -> resourceVersion
	 * cache (for 100,000 pods that is megabytes), an overlapping resume
	 * may repeat a change, and a relist (410) delivers every object as
	 * KUBE_MODIFIED between KUBE_RELIST_BEGIN and KUBE_RELIST_END (their
	 * object: {apiVersion, kind, resource}); what the caller holds of
	 * the resource and did not get in between is gone.
	 */
	int		 stateless;
	/*
	 * Optional: reads each watch event and list item (see struct
	 * kube_decode; called from the watch's thread); NULL: they are
	 * read whole (util_json_loadb).
	 */
	kube_decode_fn	*decode;
	void		*decode_ctx;
};

/*
 * Called from the watch's thread for each change, in order.  obj is
 * borrowed for the call (json_incref to keep it); it has kind and
 * apiVersion.  A DELETED found by a relist (the object vanished while
 * the watch was broken) carries the last object this watch delivered
 * only as metadata {name, namespace, uid, resourceVersion} and the
 * annotation "remediate.dev/deleted-final-state-unknown": "true".
 */
typedef void kube_watch_fn(void *ctx, enum kube_event_type, json_t *obj);

struct kube_watch;

/*
 * Starts list+watch of spec (copied) in a new thread.  The initial list
 * arrives as KUBE_SYNC; then changes.  On a dropped stream or an error it
 * backs off (exponential, jittered, capped at 3s) and resumes from the
 * last resourceVersion (bookmarks keep it fresh); on 410 Gone (HTTP or an
 * ERROR event) it relists and delivers only the differences with what it
 * delivered before, so nothing is replayed as new and nothing is lost.
 * The client must outlive the watch.  Returns the owned watch, or NULL
 * with *err (bad spec, thread creation).
 */
struct kube_watch *kube_watch_start(struct kube_client *,
	    const struct kube_watch_spec *, kube_watch_fn *fn, void *ctx,
	    char **err);
/*
 * Tells the thread to stop (interrupting a stream, a request or a backoff)
 * and returns at once: cancel every watch, then stop each, and shutting
 * down takes as long as the slowest watch, not the sum of them all.
 */
void	kube_watch_cancel(struct kube_watch *);
/*
 * Any thread: 1 once a cancelled watch's thread has made its last
 * delivery (what it delivered is in the callee's hands), else 0.
 */
int	kube_watch_ended(struct kube_watch *);
/* Stops the thread (interrupting a stream or a backoff) and frees. */
void	kube_watch_stop(struct kube_watch *);

struct kube_watch_status {
	int		 healthy;	/* listed, and fewer than 3 failures
					   in a row since the last success */
	int		 synced;	/* the initial list was delivered */
	char		*last_error;	/* owned copy, NULL if none yet */
	uint64_t	 restarts;	/* watches the server took again after
					   the first (a stream that ended,
					   dropped or expired, resumed);
					   failed attempts are not restarts */
	uint64_t	 relists;	/* lists after the first (410) */
	uint64_t	 events;	/* changes delivered (not SYNC) */
	uint64_t	 errors;	/* failed list and watch requests and
					   broken streams: failed attempts */
	size_t		 cached;	/* objects known */
	char		 resource_version[32];	/* last seen */
};
/* Fills *st (the caller frees st->last_error). */
void	kube_watch_status(struct kube_watch *, struct kube_watch_status *st);
/* Waits until synced: 0, or -1 after timeout_ms (or stopped). */
int	kube_watch_wait_synced(struct kube_watch *, long timeout_ms);

/* ---- bump-memory ------------------------------------------------------- */
struct kube_bump_opts {
	struct quantity	 increment;	/* absolute, or a percentage */
	int		 percent;	/* increment is a percentage */
	struct quantity	 cap;
	int		 has_cap;
};

/* "25%", "12.5%", "256Mi": 0, or -1 (not a quantity or negative). */
int	kube_bump_parse_increment(const char *, struct kube_bump_opts *);

struct kube_bump_result {
	char	request_old[QUANTITY_FMTLEN];	/* "" if none was set */
	char	request_new[QUANTITY_FMTLEN];
	char	limit_old[QUANTITY_FMTLEN];	/* "" if none: left alone */
	char	limit_new[QUANTITY_FMTLEN];
	int	at_cap;		/* the request is already at or above the
				   cap: nothing to do */
	int	capped;		/* the increment was cut by the cap */
	int	limit_from_pod;	/* limit_old is the pod's (a LimitRange
				   default, say): the template sets none,
				   the patch writes limit_new into it */
};

/*
 * The new memory request and limit of one container: the request grows by
 * the increment but never above the cap; a limit grows by the same
 * increment, at least to the new request, and never above the cap (a
 * limit already above the cap is left alone, as is a missing limit).  A
 * missing request with a limit starts from the limit (as the API server
 * defaults it).  request and limit are the template's; pod_limit is the
 * limit the killed pod's container runs with (kube_bump_pod_limit), used
 * only when the template sets a request and no limit: it grows as a
 * template limit would and out->limit_from_pod says so.  Any may be NULL.
 * Returns 0 with *out, or -1 with *err (owned): no request nor limit (or
 * only the pod's limit), an unparsable quantity, an overflow, a
 * percentage of a zero request that would change nothing.
 */
int	kube_bump_compute(const char *request, const char *limit,
	    const char *pod_limit, const struct kube_bump_opts *,
	    struct kube_bump_result *out, char **err);
/*
 * The memory limit (borrowed, or NULL) of the container name (in
 * initContainers when init) of pod (borrowed): what it runs with, which a
 * LimitRange or a webhook may have set although the template has none.
 */
const char *kube_bump_pod_limit(json_t *pod, const char *name, int init);
/* How messages mark a limit_from_pod. */
#define KUBE_BUMP_FROM_POD	" (the pod's, not in the template)"
/*
 * "request 256Mi -> 320Mi, limit 300Mi (the pod's, not in the template)
 * -> 375Mi": what r changes, for messages, owned.
 */
char	*kube_bump_change_text(const struct kube_bump_result *r);
/*
 * The "remediation.platform/last-change" note, one line of JSON: the
 * container, what r changes (requestFrom/To, limitFrom/To, limitSource
 * "pod" when the limit was the pod's), the pod killed (NULL: null), the
 * increment and cap as given (cap NULL: none), the time (ms) and the
 * trigger (NULL: the CLI's).  Owned.
 */
char	*kube_bump_note(const char *container,
	    const struct kube_bump_result *r, const char *pod,
	    const char *increment, const char *cap, int64_t now,
	    const char *trigger);
/*
 * The planned note old (NULL or unreadable: an empty one) with what r
 * changes now, for a patch recomputed against a fresh object.  Owned.
 */
char	*kube_bump_note_again(const char *old,
	    const struct kube_bump_result *r);
/*
 * The strategic-merge patch for the controller: container (in
 * "containers" or, when init, "initContainers") resources from r,
 * metadata.resourceVersion rv (NULL: none, the patch then wins over
 * concurrent writers) and annotations "remediation.platform/last-action":
 * "memory-request-raise" and "remediation.platform/last-change" (a
 * one-line JSON of what changed, when and why).  Owned.
 */
json_t	*kube_bump_patch(const char *container, int init, const char *rv,
	    const struct kube_bump_result *r, const char *change_note);

/*
 * Whether the workload wl (borrowed) is as patch (a kube_bump_patch with a
 * change note, borrowed) left it: its last-change annotation is the
 * patch's note and the container's memory request (and limit, when the
 * patch sets one) are the patch's.  1 yes, 0 no.  After a 409 this tells
 * our own earlier write (committed, but its answer lost to a 5xx or a
 * timeout and the request resent with the old resourceVersion) from
 * someone else's change: bumping again would count one OOM kill twice.
 */
int	kube_bump_applied(json_t *wl, const json_t *patch);
/*
 * The container named name in a workload's pod template (initContainers
 * when init), borrowed, or NULL.
 */
json_t	*kube_bump_template_container(json_t *workload, const char *name,
	    int init);
/* A container's memory "requests" or "limits" (which), borrowed, or NULL. */
const char *kube_bump_memory(json_t *container, const char *which);
/*
 * The ownerReference of obj with controller: true (borrowed), or NULL:
 * the object whose template made obj, which a change to obj's spec must
 * go to.  (The owner walk of guardrails also follows a lone reference
 * without the flag: cluster_top_controller.)
 */
json_t	*kube_controller_ref(json_t *obj);
/*
 * The container of pod (borrowed) to bump: the one named (in containers or
 * initContainers), else the one whose last termination (or current
 * state) was OOMKilled (the latest kill when several were), else the only
 * container.  Fills *container (borrowed from pod), *init and *oom (the
 * OOMKilled status, borrowed, or NULL).  Returns 0, or -1 with *err
 * (owned).
 */
int	kube_bump_pick_container(json_t *pod, const char *name,
	    const char **container, int *init, json_t **oom, char **err);

/* `remediate bump-memory` as a call, for the CLI and the daemon. */
enum kube_dry_run {
	KUBE_DRY_RUN_NONE,	/* patch for real */
	KUBE_DRY_RUN_CLIENT,	/* compute and print; send nothing */
	KUBE_DRY_RUN_SERVER,	/* send with dryRun=All */
};

struct kube_bump_req {
	const char		*namespace;
	const char		*pod;
	const char		*container;	/* NULL: the OOMKilled one */
	struct kube_bump_opts	 opts;
	enum kube_dry_run	 dry_run;
	const char		*optin_key;	/* NULL: remediation.platform/
						   optin (value "true") */
	int			 record_event;	/* an Event on the workload
						   when patched (or failed) */
};

enum kube_bump_status {
	KUBE_BUMP_PATCHED,	/* done (or accepted by a server dry run) */
	KUBE_BUMP_DRY_RUN,	/* computed, nothing sent */
	KUBE_BUMP_REFUSED,	/* reason says why; nothing changed */
	KUBE_BUMP_FAILED,	/* the API failed: message */
};

struct kube_bump_outcome {
	enum kube_bump_status	 status;
	const char		*reason;	/* static: "at-cap",
						   "unsupported-target",
						   "opt-out", or NULL */
	char			*message;	/* owned, one line */
	json_t			*target;	/* owned ref of the workload
						   {apiVersion, kind,
						   namespace, name, uid}, or
						   NULL */
	char			*container;	/* owned, or NULL */
	int			 init;
	struct kube_bump_result	 result;
	json_t			*patch;		/* owned, or NULL */
	char			*path;		/* owned: where it goes */
	json_t			*answer;	/* owned: the server's object
						   after the patch, or NULL */
	int			 confirmed;	/* PATCHED known from a
						   re-read after a 409: the
						   answer was lost */
};

/*
 * Finds the pod's container and controller (Pod -> ReplicaSet ->
 * Deployment, StatefulSet, DaemonSet; bare Pods, Jobs and anything else
 * refused with the reason), checks opt-in on the workload or the pod,
 * computes the bump and, unless a client dry run, sends one
 * strategic-merge patch to the controller's pod template guarded by its
 * resourceVersion (a conflict recomputes from the fresh object, up to 3
 * times, unless the fresh object is as the patch left it: the patch was
 * carried out and its answer lost, so the outcome is PATCHED, confirmed).  Fills *out (the caller clears it); returns 0 for PATCHED and
 * DRY_RUN, -1 otherwise.
 */
int	kube_bump_run(struct kube_client *, const struct kube_bump_req *,
	    struct kube_bump_outcome *out);
void	kube_bump_outcome_clear(struct kube_bump_outcome *);

#endif /* KUBE_H */
