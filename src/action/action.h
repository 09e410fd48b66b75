/*
 * action: what a trigger would do, and (live) doing it.
 *
 * A plan is the exact request an action would send, as JSON, so dry-run
 * and replay show precisely what auto would do.  For a k8s trigger the
 * plan names the object as the API server would see it: a namespace
 * defaulted to the sensor's (as Argo Events does) and a name generated
 * from generateName (deterministically from the seed, so replay output is
 * stable).  Policies are evaluated on plan->object before anything is sent.
 */
#ifndef ACTION_H
#define ACTION_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "cluster/cluster.h"
#include "sensor/sensor.h"

struct act_plan {
	json_t		*plan;		/* owned: the JSON for the record */
	json_t		*object;	/* owned: what admission would see
					   (NULL when nothing is admitted) */
	json_t		*old;		/* owned: the live object an update,
					   patch or delete changes, or NULL */
	const char	*operation;	/* "CREATE", "UPDATE", "DELETE" */
};

/*
 * Plans a k8s trigger's action on resource (borrowed: the rendered
 * source.resource, never changed; the plan shares its members but
 * metadata, so neither may be changed while the plan lives: plans are
 * read-only once made).  cluster (may be NULL) supplies the live object
 * for update, patch and delete.  Returns 0 and fills *out (caller
 * clears), or -1 with *err (owned): a patch of a missing object (patch
 * never creates), a resource without kind, an object to create with
 * neither name nor generateName.
 */
int	act_plan_k8s(const struct sensor_trigger *, json_t *resource,
	    const char *default_namespace, uint64_t seed,
	    const struct cluster *, struct act_plan *out, char **err);
void	act_plan_clear(struct act_plan *);

/* Kubernetes' generateName suffix: 5 characters from its alphabet. */
void	act_generate_suffix(uint64_t seed, char out[6]);

/* RFC 7386 JSON merge patch of target by patch; returns a new value. */
json_t	*act_merge_patch(json_t *target, json_t *patch);

/* ---- native actions ----------------------------------------------------- */
/*
 * A `remediate:` trigger names one native action: bumpMemory, restartPod,
 * argocdSync or quarantine (native.c has the design).  Planning is pure:
 * it reads only its arguments (the cluster view, the clock's now), so
 * replay and the daemon plan alike and dry-run shows exactly what auto
 * sends.  The plan JSON is
 *
 *	{"type": "remediate", "action": "bumpMemory",
 *	 "operation", "apiVersion", "kind", "namespace", "name": the object
 *	     acted on (as k8s plans name it, for tables and Events),
 *	 "target": {apiVersion, kind, namespace, name, uid},
 *	 "requests": [{"method", "path", "contentType"?, "body"?, "note"?}...],
 *	 "change": what changes, for people and notifications,
 *	 "summary": the same in one line, "page": true when taking it pages,
 *	 ...action-specific members the executor needs}
 *
 * where "requests" are the exact API requests, in order, that
 * act_execute_native sends (a server dry run adds dryRun=All to each).
 */

#define ACT_MSGLEN	256	/* the engine's message size (GUARD_MSGLEN) */

enum act_verdict_kind {
	ACT_GO,			/* the plan may run */
	ACT_AT_CAP,		/* bumpMemory: the request is at the cap
				   already: suppressed, reason at-cap */
	ACT_UNSUPPORTED,	/* the target cannot take this action (a
				   bare Pod, a Job...): suppressed, reason
				   unsupported-target */
	ACT_NOT_NEEDED,		/* argocdSync: the Application is neither
				   stuck nor failed: suppressed, reason
				   unsupported-target (nothing to fix) */
};

struct act_verdict {
	enum act_verdict_kind	 kind;
	const char		*action;	/* static: "bumpMemory"... */
	char			 message[ACT_MSGLEN];	/* why, one line */
	/*
	 * What the action moves, for maxClusterImpact: pods restarted or
	 * rolled (bumpMemory: the workload's replicas, a rollout;
	 * restartPod: 1 + the workload's other pods that are not Ready;
	 * quarantine: 1; argocdSync: the Application's workload pods are
	 * not known: 0) and the memory requests the action adds (bytes,
	 * bumpMemory only, 0 otherwise).
	 */
	long			 pods;
	int64_t			 memory;
	int			 page;	/* taking it pages (quarantine) */
};

/*
 * Plans the native action of trigger t (borrowed; t->name goes into the
 * change notes).  spec is the rendered `remediate:` block (borrowed:
 * {"bumpMemory": {...}}), target the resolved workload object and
 * subject the signal's object (both borrowed from the cluster view, each
 * may be NULL when the view does not hold it), cluster the view (may be
 * NULL), now the clock (ms).  Returns 0 with *v filled and, when v->kind
 * is ACT_GO, *out (the caller clears it with act_plan_clear; out->object
 * is what admission sees first, act_plan_admission lists every object);
 * for a refusal out stays empty and v->message says why.  Returns -1 with
 * *err (owned) when no plan can be made: the spec names no action or a
 * malformed value, the object to act on is not in the cluster view, a
 * quarantine whose NetworkPolicy could not isolate the pod (hostNetwork).
 */
int	act_plan_native(const struct sensor_trigger *t, json_t *spec,
	    json_t *target, json_t *subject, const struct cluster *cluster,
	    int64_t now, struct act_plan *out, struct act_verdict *v,
	    char **err);

/* One object admission must see for a plan: CREATE, UPDATE or DELETE. */
struct act_admission {
	const char	*operation;	/* "CREATE", "UPDATE", "DELETE" */
	json_t		*object;	/* borrowed from the plan */
	json_t		*old;		/* borrowed, or NULL */
};
/*
 * The i-th object of plan p that policies must admit (0: out->object,
 * then, for a native plan, what else it creates: quarantine's
 * NetworkPolicy).  Returns 0 with *a, or -1 when there is no i-th.
 */
int	act_plan_admission(const struct act_plan *p, size_t i,
	    struct act_admission *a);

/*
 * Runs a native plan (borrowed, as act_plan_native made it) against the
 * cluster: the engine's execute hook for plans of type "remediate" (ctx
 * is the struct kube_client *).  dry_run sends each request with
 * dryRun=All.  What the world changed since planning is handled, not
 * ignored: bumpMemory recomputes from the fresh workload on a 409
 * Conflict (and stops if it is at the cap now), restartPod deletes only
 * the pod it planned for (uid precondition), argocdSync refuses to start
 * a sync while another operation runs.  Returns 0 with *result (owned:
 * {"action", "responses": [...], ...}), or -1 with *err (owned: which
 * request failed and the server's answer).
 */
int	act_execute_native(void *ctx, const json_t *plan, int dry_run,
	    json_t **result, char **err);

/* ---- permissions (perms.c) ------------------------------------------------ */
/*
 * One API permission an action needs, in any namespace its targets live
 * in.  Strings are static.
 */
struct act_perm {
	const char	*group;		/* "" for core */
	const char	*resource;	/* plural: "deployments" */
	const char	*verb;		/* "patch", "get"... */
	const char	*why;		/* one line, for RBAC comments */
};
/*
 * The permissions native action `action` ("bumpMemory"...) needs: a
 * static table (borrowed) with *n entries, or NULL (*n 0) for a name
 * that is not a native action.
 */
const struct act_perm *act_native_perms(const char *action, size_t *n);
/*
 * The verbs a k8s trigger's operation sends on its kind (update also
 * reads the live object when the plan carries no resourceVersion; patch
 * and delete read the object the view holds whole before they send):
 * fills verbs (static strings) and returns how many, 1 or 2.
 */
size_t	act_k8s_verbs(enum k8s_operation, const char *verbs[2]);

#endif /* ACTION_H */
