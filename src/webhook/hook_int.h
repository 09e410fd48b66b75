/*
 * The webhook module's private layout, shared by its files (compile.c
 * builds sets, auth.c checks credentials, decode.c and alertmanager.c
 * shape events, dedup.c remembers alert ids, ingress.c serves).  Not part
 * of the public surface.
 */
#ifndef HOOK_INT_H
#define HOOK_INT_H

#include <stdatomic.h>

#include "util/secret.h"
#include "util/util.h"
#include "webhook/webhook.h"

#define HOOK_SET_MAGIC		0x686b7374u	/* "hkst" */
#define HOOK_INGRESS_MAGIC	0x686b6967u	/* "hkig" */

struct hook_endpoint {
	const char		*source, *name;	/* interned: live forever */
	char			*method;	/* owned */
	char			*path;		/* owned */
	size_t			 max_body;	/* bytes */
	/* read at each request (util/secret.h): rotation works */
	struct secret		 token;		/* bearer (authSecret) */
	struct secret		 user, pass;	/* basicAuth */
	struct secret		 hmac;
	char			*hmac_header;	/* owned */
	json_t			*metadata;	/* owned, may be NULL */
	int			 auth_none;	/* `auth: none`: meant */
	char			**secret;	/* owned: secretHeaders,
						   canonical */
	size_t			 nsecret;
};

struct hook_set {
	unsigned		 magic;
	struct hook_endpoint	*v;		/* owned */
	size_t			 n, cap;
	_Atomic unsigned	 refs;		/* requests using it, +1 */
};

/* compile.c: a string that lives until exit (events borrow it). */
const char	*hook_intern(const char *);
/* The endpoint for method and path; NULL with *path_known on 405. */
const struct hook_endpoint *hook_set_find(const struct hook_set *,
		    const char *method, const char *path, int *path_known);

/* auth.c */
/*
 * The head's credentials against ep's bearer token or basic auth:
 * 0 accepted (or none required), 401 refused (*why static text), 500 the
 * secret is unreadable (*why static, *err owned for the log).
 */
int	hook_auth_head(const struct hook_endpoint *,
	    const struct http_request *, const char **why, char **err);
/*
 * The body's signature (with X-Webhook-Timestamp when sent, checked
 * against now, ms): 0, 401 (missing, or a stale timestamp), 403 (wrong),
 * 500 as above.
 */
int	hook_auth_body(const struct hook_endpoint *,
	    const struct http_request *, int64_t now, const char **why,
	    char **err);
/*
 * The replay mark of a signed request: "source/name/signature" (owned),
 * or NULL when the endpoint does not sign.
 */
char	*hook_replay_key(const struct hook_endpoint *,
	    const struct http_request *);

/* alertmanager.c */
int	hook_is_alertmanager(json_t *body);
/*
 * The id of the same alert (fingerprint, startsAt) with the other status,
 * from an alert's id alone (owned), as an event or the state holds it:
 * the firing one a resolved event ends, the resolved one a firing event
 * starts over; NULL when id is not an alert's (a plain webhook's, another
 * source's, or one made before ids paired).  Once one is stored the other
 * is news, not a redelivery: the same alert firing again with its
 * original startsAt (Prometheus restores it so after an outage), then
 * resolving again.
 */
char	*hook_alert_id_other(const char *id);
/*
 * One event per alert of payload (a recognized Alertmanager body);
 * header is the data.header object (borrowed, shared by the events).
 * Returns the count with *evs (owned), or -1 with *err.
 */
int	hook_alertmanager_events(const struct hook_target *, json_t *payload,
	    json_t *header, struct event **evs, char **err);
/* A fresh id for a plain webhook event. */
char	*hook_unique_id(const struct hook_target *, int64_t now);

/* dedup.c: a bounded LRU set of strings, not thread-safe */
struct hook_dedup;
struct hook_dedup *hook_dedup_new(size_t max);
void	hook_dedup_free(struct hook_dedup *);
int	hook_dedup_has(struct hook_dedup *, const char *id);	/* refreshes */
/* Adds id as the most recent, beyond max if need be (no eviction). */
void	hook_dedup_add(struct hook_dedup *, const char *id);
/* Forgets the least recently seen ids past max. */
void	hook_dedup_trim(struct hook_dedup *);
void	hook_dedup_del(struct hook_dedup *, const char *id);
size_t	hook_dedup_count(const struct hook_dedup *);

#endif /* HOOK_INT_H */
