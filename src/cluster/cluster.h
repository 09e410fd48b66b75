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
 *
 * The view is compact: of Pods, workloads and Nodes it keeps only what
 * cluster_project() keeps (see project.c for the list), in records of
 * interned strings, no jansson tree per object.  The functions that
 * return objects materialize them from the record on demand.
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
 * Stores obj (borrowed: its projection is kept, or for kinds kept whole a
 * reference), replacing the object of the same kind, namespace and name.
 * Returns the previous object in *old when old is not NULL (owned by the
 * caller, NULL if none; for compact kinds its projection, materialized,
 * whose values are the view's parsed texts, shared: read them, copy what
 * you would change) so a watcher can compare old and new.  Objects
 * without kind or name are refused: -1.
 */
int		 cluster_put(struct cluster *, json_t *obj, json_t **old);
/*
 * cluster_put for a watcher that compares container statuses only (the
 * OOM detector): *old gets the previous object's statuses as the view
 * keeps them, {"status": {"containerStatuses": [...],
 * "initContainerStatuses": [...]}} (name, lastState.terminated: see
 * project.c), read from the record's compact text, not materialized; or
 * the whole object when it was kept whole.  Owned by the caller (its
 * statuses the view's parsed tree, shared: read only); NULL if none.
 */
int		 cluster_put_statuses(struct cluster *, json_t *obj,
		    json_t **old);
/* cluster_put keeping obj whole (a reference), whatever its kind. */
int		 cluster_put_whole(struct cluster *, json_t *obj, json_t **old);
/*
 * Removes and returns the stored object (owned by the caller; for compact
 * kinds its projection, shared values as cluster_put's old), or NULL.
 */
json_t		*cluster_remove(struct cluster *, const char *kind,
		    const char *ns, const char *name);
/*
 * The stored object, or NULL.  Borrowed: for compact kinds an object
 * materialized from the record and cached by the cluster, valid until the
 * next put or remove (not across threads); it holds the projection only,
 * its values the view's parsed texts, which other objects share: never
 * changed by a reader (copy to change).
 */
json_t		*cluster_get(const struct cluster *, const char *kind,
		    const char *ns, const char *name);
/*
 * The stored object's kind and metadata, for a reader of those alone (a
 * decision's owner walk and opt-in): a new reference, or NULL.  For
 * compact kinds not materialized yet, {"kind", "metadata"} from the
 * record, its values the view's parsed texts (read only), without
 * parsing the rest; otherwise the object cluster_get returns (so while
 * cluster_record notes reads, a decision's inputs hold what it read).
 */
json_t		*cluster_get_meta(const struct cluster *, const char *kind,
		    const char *ns, const char *name);
/*
 * Where the whole object of a compact kind comes from when one is needed
 * (the admission of a patch or update sees the object it applies to): the
 * live daemon sets a GET to the API server.  fetch returns a new
 * reference, or NULL when it cannot read the object.
 */
typedef json_t	*cluster_fetch_fn(void *ctx, const char *api_version,
		    const char *kind, const char *ns, const char *name);
void		 cluster_set_fetch(struct cluster *, cluster_fetch_fn *,
		    void *ctx);
/*
 * The whole object, a new reference: kinds kept whole (and snapshot
 * objects loaded whole, see cluster_load) as stored; compact kinds
 * through the fetch hook (NULL when it fails: never a partial object in
 * its place), or with no hook the stored projection.  NULL when the
 * view does not hold it.
 */
json_t		*cluster_get_whole(const struct cluster *, const char *kind,
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
 * The text of v when v is an object the view materialized and noted
 * since the last cluster_record, and no object left the view since: its
 * compact JSON joined from the record's texts, as jp_dump would print
 * the tree but that numbers and escapes are as the texts were written
 * (the same values); *len its bytes; borrowed until the next call.
 * NULL for anything else (a whole object, a fetched one, a tree not the
 * view's).  ctx is the view: jp_known_fn's shape, for the note's dump
 * (audit_opts.note_known), on the thread that decides.
 */
const char	*cluster_noted_text(void *ctx, const json_t *v, size_t *len);
/*
 * Builds the view a decision saw from what cluster_record noted (reads,
 * borrowed): its objects are stored, its counts and memory become fixed
 * answers.  Returns 0, or -1 when reads is not such a note.
 */
int		 cluster_load_reads(struct cluster *, const json_t *reads);

/*
 * Pods, workloads (ReplicaSet, Deployment, StatefulSet, DaemonSet, Job)
 * and Nodes: 1 for the kinds the view keeps compact, 0 for kinds kept
 * whole.
 */
int		 cluster_compact_kind(const char *kind);
/*
 * What the view keeps of obj (borrowed): a new object with only the fields
 * remediate reads (project.c lists them); for kinds kept whole, obj itself
 * (a new reference).  Pure: safe on any thread.
 */
json_t		*cluster_project(json_t *obj);
/*
 * The projection straight from JSON text (decode.c): what
 * cluster_project(json_loadb(text, flags)) gives, without building the
 * whole tree; only the kept fields become jansson values.  path names
 * the member to project, from the root down (NULL-terminated; NULL or
 * an empty list: the root itself): {"watch", "object", NULL} for a
 * replay line, {"object", NULL} for a kube watch event.  Everything
 * around it (an envelope, small) is kept whole, in the text's order, as
 * jansson keeps it; a path that is absent projects nothing.  An object
 * of a kind kept whole (cluster_compact_kind), without a kind, or of a
 * kind whole() answers 1 for is the whole object (read again from its
 * span, as util_json_loadb reads it).
 */
typedef int	 cluster_whole_fn(void *ctx, const char *kind);
struct cluster_decode_opts {
	const char *const	*path;		/* borrowed */
	size_t			 flags;		/* jansson's: REJECT_DUPLICATES,
						   DECODE_ANY, ALLOW_NUL,
						   DISABLE_EOF_CHECK */
	cluster_whole_fn	*whole;		/* NULL: compact kinds are
						   projected */
	void			*ctx;
	const char		*kind;		/* borrowed: the kind of an
						   object without a kind member
						   (a list's items); NULL */
	int			 keep;		/* CLUSTER_DECODE_* */
};
/*
 * Keep metadata.resourceVersion as well (a watch resumes from it; the
 * view's put leaves it out, as cluster_project does).
 */
#define CLUSTER_DECODE_RESOURCE_VERSION	0x1
struct cluster_decode_result {
	int		 projected;	/* the object at path was projected */
	size_t		 end;		/* bytes read (DISABLE_EOF_CHECK) */
	/* on error: where (bytes from 0; line and column from 1, the
	   column in bytes) and why (static text) */
	size_t		 offset, line, column;
	const char	*reason;
};
/*
 * Decodes text[0..len) (no NUL needed): a new reference, or NULL for a
 * text jansson would refuse with the same flags, with res (may be NULL)
 * saying where and why.  Never reads outside text; nesting is bounded as
 * jansson's (JSON_PARSER_MAX_DEPTH).  Pure: safe on any thread.
 */
json_t		*cluster_decode(const char *text, size_t len,
		    const struct cluster_decode_opts *,
		    struct cluster_decode_result *res);

/*
 * A watch of kind relists (its resourceVersion expired): begin before its
 * objects are put again; end after the last one removes every object of
 * kind not put since the beginning (deleted while the watch was away)
 * and returns how many.  An end without a beginning removes nothing.
 */
void		 cluster_relist_begin(struct cluster *, const char *kind);
size_t		 cluster_relist_end(struct cluster *, const char *kind);

/* What the view costs, for tests and the metrics. */
struct cluster_stats {
	size_t	objects;
	size_t	whole;			/* objects kept whole */
	size_t	materialized;		/* objects cached as json now */
	size_t	parsed;			/* texts whose trees are kept */
	size_t	parsed_bytes;		/* their texts, unpacked */
	size_t	strings;		/* interned */
	size_t	classes;		/* kind, namespace and texts shared */
	size_t	record_bytes;		/* records (names, uids), classes */
	size_t	table_bytes;		/* hash table slots */
	size_t	string_bytes;		/* interned strings */
	size_t	bytes_per_object;	/* the three above / objects */
};
/* Fills *st; whole objects' trees and malloc overhead are not counted. */
void		 cluster_stats(const struct cluster *, struct cluster_stats *st);

/*
 * Loads every object of the YAML/JSON files under path (Lists and *List
 * kinds are unpacked; their items get the kind and apiVersion from the
 * list).  Streamed (see load.c): a JSON file item by item, a YAML file
 * document by document, so the whole snapshot is never one tree.  With
 * each NULL the objects are kept whole (a view with no other source of
 * whole objects).  With each, Pods are kept compact, as the live
 * daemon's view keeps them, and each Pod stored is handed to each
 * (borrowed, valid for the call) so the caller keeps its whole version
 * where it likes (replay answers the fetch hook from it: a patch's
 * admission and a policy's lookup() see the recorded object); src says
 * where the Pod's text lies in a JSON file, to be read back instead of
 * kept (NULL when no text of its own parses back to it: YAML, an item
 * given its list's kind).  Other kinds stay whole: they are few next to
 * the Pods, and every decision reads its target's workloads, which
 * compact would materialize again each time.  Returns 0, or -1 with
 * diags filled.
 */
struct cluster_src {
	const char	*file;		/* borrowed, for the call */
	size_t		 off, len;	/* bytes */
};
typedef void	 cluster_load_fn(void *ctx, json_t *obj,
		    const struct cluster_src *src);
int		 cluster_load(struct cluster *, const char *path,
		    cluster_load_fn *each, void *ctx, struct diags *);

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
 * spec.parallelism for Jobs (default 1), 1 for a Pod; for any other kind
 * (an Argo Rollout, a custom controller) spec.replicas.  -1 when it cannot
 * tell: the blast radius then stops the action rather than count nothing.
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
