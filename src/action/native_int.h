/*
 * Native actions: what native.c shares with the one file per action
 * (native_bump.c, native_restart.c, native_argocd.c, native_quarantine.c).
 * Not part of the action stage's public surface.
 */
#ifndef ACTION_NATIVE_INT_H
#define ACTION_NATIVE_INT_H

#include <stdarg.h>

#include "action/action.h"
#include "kube/kube.h"
#include "util/util.h"

/* What every planner gets. */
struct native_in {
	const struct sensor_trigger	*trigger;	/* borrowed */
	json_t				*spec;		/* the action's block:
							   spec.bumpMemory */
	json_t				*target;	/* may be NULL */
	json_t				*subject;	/* may be NULL */
	const struct cluster		*cluster;	/* may be NULL */
	int64_t				 now;		/* ms */
};

/* Each planner: 0 (verdict set, out filled when ACT_GO) or -1 with *err. */
int	act_native_bump(const struct native_in *, struct act_plan *,
	    struct act_verdict *, char **err);
int	act_native_restart(const struct native_in *, struct act_plan *,
	    struct act_verdict *, char **err);
int	act_native_argocd(const struct native_in *, struct act_plan *,
	    struct act_verdict *, char **err);
int	act_native_quarantine(const struct native_in *, struct act_plan *,
	    struct act_verdict *, char **err);

/* Each executor: as act_execute_native, with its result started. */
int	act_exec_bump(struct kube_client *, const json_t *plan, int dry_run,
	    json_t *result, char **err);
int	act_exec_restart(struct kube_client *, const json_t *plan,
	    int dry_run, json_t *result, char **err);
int	act_exec_argocd(struct kube_client *, const json_t *plan,
	    int dry_run, json_t *result, char **err);
int	act_exec_quarantine(struct kube_client *, const json_t *plan,
	    int dry_run, json_t *result, char **err);

/* ---- helpers (native.c) ------------------------------------------------- */

/* Sets the verdict's kind and message (printf); returns 0. */
int	act_refuse(struct act_verdict *, enum act_verdict_kind,
	    const char *fmt, ...) UTIL_PRINTF(3, 4);
/* metadata.KEY of obj, or NULL. */
const char *act_meta(json_t *obj, const char *key);
/*
 * obj's apiVersion, or the usual one of its kind when a snapshot left it
 * out (List items have none); NULL for a kind we do not know.
 */
const char *act_api_version(json_t *obj);
/* {apiVersion, kind, namespace, name, uid} of obj (absent ones left out). */
json_t	*act_ref(json_t *obj);
/*
 * The URL path of obj's kind (apiVersion, kind; namespace, name may be
 * NULL) from the client's built-in table: planning never asks a server.
 * Owned, or NULL (the kind is not in the table).
 */
char	*act_path(const char *api_version, const char *kind, const char *ns,
	    const char *name);
/*
 * A new plan JSON with the members every native plan has; requests
 * starts empty.  op is "patch", "delete"...; obj (borrowed) the object
 * acted on.
 */
json_t	*act_plan_new(const char *action, const char *op, json_t *obj);
/* Appends a request {method, path, contentType?, body (stolen)?}. */
json_t	*act_plan_request(json_t *plan, const char *method, const char *path,
	    const char *content_type, json_t *body);

/*
 * Sends one planned request (borrowed: {method, path, contentType,
 * body}) with dryRun=All when dry_run, body replaced by override when
 * not NULL.  Appends {method, path, status} to result's "responses" and
 * returns the server's answer (owned; NULL for an empty body), or sets
 * *err (owned: "PATCH /apis/...: 409 Conflict: ...") and returns NULL
 * with *status the HTTP status (0: no answer).
 */
json_t	*act_send(struct kube_client *, const json_t *req,
	    const json_t *override, int dry_run, json_t *result, long *status,
	    char **err);
/* GET path: the object (owned), or NULL with *status and *err. */
json_t	*act_get(struct kube_client *, const char *path, long *status,
	    char **err);

#endif /* ACTION_NATIVE_INT_H */
