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
 * source.resource).  cluster (may be NULL) supplies the live object for
 * update, patch and delete.  Returns 0 and fills *out (caller clears), or
 * -1 with *err (owned): a patch of a missing object (patch never creates),
 * a resource without kind, an object to create with neither name nor
 * generateName.
 */
int	act_plan_k8s(const struct sensor_trigger *, json_t *resource,
	    const char *default_namespace, uint64_t seed,
	    const struct cluster *, struct act_plan *out, char **err);
void	act_plan_clear(struct act_plan *);

/* Kubernetes' generateName suffix: 5 characters from its alphabet. */
void	act_generate_suffix(uint64_t seed, char out[6]);

/* RFC 7386 JSON merge patch of target by patch; returns a new value. */
json_t	*act_merge_patch(json_t *target, json_t *patch);

#endif /* ACTION_H */
