/*
 * cluster: an in-memory view of cluster objects.
 *
 * Replay builds it from a snapshot directory and the recorded watch events;
 * the live daemon will keep it from its watches.  It answers what the
 * guardrails and policies ask of the cluster: an object by kind, namespace
 * and name; an object's top controller through ownerReferences; how many
 * pods the cluster and a workload have (for blast radius).
 *
 * Objects are stored by Kind (not group: kinds our pipeline reads do not
 * collide across groups), namespace and name.
 */
#ifndef CLUSTER_H
#define CLUSTER_H

#include <stddef.h>
#include <jansson.h>

#include "util/util.h"

struct cluster;

/* A reference to an object, as decision records name it. */
struct objref {
	char	*kind;		/* owned */
	char	*namespace;	/* owned; NULL for cluster-scoped */
	char	*name;		/* owned */
};

struct cluster	*cluster_new(void);
void		 cluster_free(struct cluster *);

/*
 * Stores obj (a reference is taken; the caller keeps its own), replacing
 * the object of the same kind, namespace and name.  Returns the previous
 * object (a reference now owned by the caller, NULL if none) so a watcher
 * can compare old and new.  Objects without kind or name are refused: -1.
 */
int		 cluster_put(struct cluster *, json_t *obj, json_t **old);
/* Removes and returns the stored object (owned by the caller), or NULL. */
json_t		*cluster_remove(struct cluster *, const char *kind,
		    const char *ns, const char *name);
/* The stored object, borrowed (valid until the next put/remove), or NULL. */
json_t		*cluster_get(const struct cluster *, const char *kind,
		    const char *ns, const char *name);
size_t		 cluster_count(const struct cluster *, const char *kind);
/*
 * The memory the cluster's Nodes can allocate (status.allocatable.memory
 * summed over the Nodes stored), in bytes; 0 when no Node is known.
 */
int64_t		 cluster_allocatable_memory(const struct cluster *);

/* Forgets every object and fixed answer: an empty view again. */
void		 cluster_reset(struct cluster *);

/*
 * Records what the view answers into `into` (borrowed; NULL stops), for
 * a decision's inputs (docs/state.md): every object a get found, under
 * "objects" by "Kind/ns/name" (a reference, as stored); every count under
 * "counts" by kind; the Nodes' allocatable memory under "nodeMemory".
 * A lookup that finds nothing is not noted: absent is what a view built
 * from the notes answers too.
 */
void		 cluster_record(struct cluster *, json_t *into);
/*
 * Builds the view a decision saw from what cluster_record noted (reads,
 * borrowed): its objects are stored, its counts and memory become fixed
 * answers.  Returns 0, or -1 when reads is not such a note.
 */
int		 cluster_load_reads(struct cluster *, const json_t *reads);

/*
 * Loads every object of the YAML/JSON files under path (Lists and *List
 * kinds are unpacked; their items get the kind from the list).  Returns 0,
 * or -1 with diags filled.
 */
int		 cluster_load(struct cluster *, const char *path,
		    struct diags *);

/*
 * The top controller of obj: follows controller ownerReferences while the
 * owner is known to the cluster (a Pod of a Deployment's ReplicaSet gives
 * the Deployment).  An owner named by a reference but absent from the
 * cluster is still the answer (by reference).  Fills *out (owned members);
 * returns the controller object if stored (borrowed) or NULL.
 */
json_t		*cluster_top_controller(const struct cluster *, json_t *obj,
		    struct objref *out);

/*
 * Pods the workload runs: spec.replicas for Deployments, StatefulSets and
 * ReplicaSets (default 1), status.desiredNumberScheduled for DaemonSets,
 * 1 for a Pod, 0 otherwise.
 */
long		 cluster_workload_pods(json_t *workload);

void	objref_set(struct objref *, const char *kind, const char *ns,
	    const char *name);
void	objref_clear(struct objref *);
/* "Kind/ns/name" or "Kind/name"; owned. */
char	*objref_key(const struct objref *);
/* The same from its parts (ns NULL or "": cluster-scoped); owned. */
char	*cluster_key(const char *kind, const char *ns, const char *name);
json_t	*objref_json(const struct objref *);

/* Small accessors for object fields; borrowed strings or NULL. */
const char	*obj_kind(json_t *);
const char	*obj_name(json_t *);
const char	*obj_namespace(json_t *);
const char	*obj_label(json_t *, const char *key);

#endif /* CLUSTER_H */
