/*
 * cluster internals: the interned strings the compact store is built
 * from (on util's ptab).  Not part of the module's surface.
 */
#ifndef CLUSTER_INT_H
#define CLUSTER_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "util/util.h"

#include <jansson.h>

struct cluster;

/*
 * What the projection keeps (project.c's cl_projection), as data: one
 * description read by cluster_project (tree to tree) and by
 * cluster_decode (text to tree), so the two cannot drift apart.
 */
enum cl_keep {
	CL_LEAF,	/* the value whole, its keys sorted at every level */
	CL_OBJECT,	/* an object of what the children keep */
	CL_ARRAY,	/* an array: each element an object of what the
			   children keep ({} for an element not an object) */
	CL_ANNOTATIONS,	/* the members cl_kept_annotation accepts, whole;
			   absent when none is */
};

/* When a CL_OBJECT is in the projection. */
enum cl_when {
	CL_IF_OBJECT,	/* its value is an object */
	CL_ALWAYS,	/* always: {} when absent or not an object */
	CL_IF_KEPT,	/* one of its children is kept */
};

#define CL_TEMPLATE_KINDS	0x1	/* only for cl_template_kind's kinds */
#define CL_WATCH		0x2	/* only for a watch's decode (see
					   CLUSTER_DECODE_RESOURCE_VERSION):
					   never in cluster_project's */
#define CL_MAX_CHILDREN		8	/* the widest level (a test checks) */

struct cl_field {
	const char		*key;
	unsigned char		 keep;		/* enum cl_keep */
	unsigned char		 when;		/* enum cl_when, CL_OBJECT */
	unsigned char		 flags;		/* CL_TEMPLATE_KINDS */
	const struct cl_field	*children;	/* sorted as cl_key_cmp */
	size_t			 nchildren;
};

/* The root: an object of a compact kind. */
extern const struct cl_field cl_projection;

/* Deployment, StatefulSet, DaemonSet: their spec.template is kept. */
int		 cl_template_kind(const char *kind);
/* The annotations the view keeps (notification owners, mirror pods). */
int		 cl_kept_annotation(const char *key, size_t len);
/* jansson's JSON_SORT_KEYS order. */
int		 cl_key_cmp(const char *a, size_t alen, const char *b,
		    size_t blen);
/*
 * v with the keys of every object sorted as JSON_SORT_KEYS sorts them:
 * objects and arrays new, scalars shared (nobody changes a scalar of the
 * view's).  A new reference.
 */
json_t		*cl_sorted_copy(json_t *v);
/*
 * The object v's members, keys sorted: a new object; its values sorted
 * copies when deep, else v's own (new references).
 */
json_t		*cl_sorted_members(json_t *v, int deep);
/*
 * What f keeps of v (borrowed; NULL: absent) for an object of kind: a
 * new reference, or NULL when f keeps nothing of it.
 */
json_t		*cl_project_field(const struct cl_field *f, json_t *v,
		    const char *kind);
/* What f's children keep of v (an object, or anything: then nothing). */
json_t		*cl_project_members(const struct cl_field *f, json_t *v,
		    const char *kind);

/*
 * The kind and name (borrowed from obj; NULL when absent) of obj's
 * controller reference (owners.c): the one with controller: true, else
 * the only one.
 */
void		 cl_controller_ref(json_t *obj, const char **kind,
		    const char **name);
/*
 * cluster_get's answer (borrowed, as that), with its controller
 * reference as cl_controller_ref reads it, read once per object kept
 * (store.c): the next step of an owner walk.
 */
json_t		*cl_get_controlled(const struct cluster *, const char *kind,
		    const char *ns, const char *name, const char **okind,
		    const char **oname);

/* The texts the store keeps of a compact object (store.c's compact()). */
enum { CL_META, CL_BODY, CL_STATUS, CL_TEXTS };
/*
 * The texts of obj (borrowed; an object of a compact kind, kind its
 * kind) written straight from it (texts.c), without its projection:
 * what dumping (JSON_COMPACT | JSON_SORT_KEYS) the parts of
 * cluster_project(obj) gives.  t[CL_META]: metadata but name, namespace
 * and uid; t[CL_BODY]: the rest but kind and the container statuses
 * (status dropped when nothing else is left of it); t[CL_STATUS]:
 * {containerStatuses, initContainerStatuses} without restartCount.  An
 * empty part is "{}".  Each buffer is emptied first.  Returns 0, or -1
 * where util_json_write refuses a value (outside ASCII, a NUL): the
 * caller then takes the projection's way.
 */
int		 cl_write_texts(json_t *obj, const char *kind,
		    struct buf t[CL_TEXTS]);
/*
 * The same split on a projection p (cluster_project's), as trees: p
 * becomes the body; *meta and *statuses are new references (the
 * statuses an object, empty when none).  The identity goes inline in
 * the record; restartCount goes (the OOM detector compares
 * terminations, and a count per pod would make every statuses text
 * unique).  For the objects cl_write_texts refuses.
 */
void		 cl_split_projection(json_t *p, json_t **meta,
		    json_t **statuses);

/*
 * A compact object's texts and identity, unpacked (borrowed), to join
 * back into the object's own text (cl_join_texts).
 */
struct cl_join {
	const char	*body, *meta;	/* "{}" when the record has none */
	const char	*status;	/* NULL: none */
	size_t		 body_len, meta_len, status_len;
	const char	*kind, *name;
	const char	*ns, *uid;	/* NULL: none */
};
/*
 * The text of the object store.c's materialize() builds from j, appended
 * to out: the same members in the same order (the body's, the status
 * merged with the statuses text's, kind, metadata with the identity
 * added), its values copied from the texts as they were written (so
 * numbers and escapes are jansson's, not jp_dump's: the same values).
 * Builds no tree.  -1 where the texts are not as cl_write_texts and
 * cl_split_projection write them (a member materialize would replace,
 * text outside ASCII in the identity): out then holds a partial text
 * the caller discards, and it dumps the tree instead.
 */
int		 cl_join_texts(struct buf *out, const struct cl_join *j);

/* An interned, refcounted string. */
struct istr {
	unsigned	refs : 31;
	unsigned	parsed : 1;	/* its tree is in a cl_trees */
	uint32_t	hash;
	size_t		len;
	char		s[];	/* NUL-terminated */
};

/* The intern table. */
struct itab {
	struct ptab	 t;
	struct slab	 mem;		/* the strings */
	size_t		 bytes;		/* strings held, with headers */
};

/* s[0..len) interned: a new reference (owned by the caller). */
struct istr	*cl_intern(struct itab *, const char *s, size_t len);
/* Drops a reference; the string goes when the last does.  NULL is a no-op. */
void		 cl_intern_drop(struct itab *, struct istr *);
/* Frees every string (references left are dangling afterwards). */
void		 cl_intern_clear(struct itab *);

uint32_t	 cl_hash(const void *, size_t, uint32_t seed);

/*
 * Text s packed with the view's dictionary of Kubernetes fragments
 * (pack.c): owned, NUL-terminated, its length in *len.  Any text packs
 * and unpacks to itself.
 */
char		*cl_text_pack(const char *s, size_t *len);
/* A packed text unpacked: owned. */
char		*cl_text_unpack(const char *packed);
/*
 * The same into *out (of *cap bytes, grown as needed: a buffer reused
 * from one text to the next); returns the text's length.
 */
size_t		 cl_text_unpack_to(const char *packed, char **out,
		    size_t *cap);
/*
 * Whether packed unpacks to s[0..n), without unpacking it: a put finds
 * an object's texts unchanged so at the cost of a compare, not a pack.
 */
int		 cl_text_is(const char *packed, const char *s, size_t n);

/*
 * The parsed texts (trees.c): the tree of an interned packed text a read
 * parsed, kept while the text lives and until newer ones push it out
 * (least recently used first; at most CL_TREES_MAX trees of
 * CL_TREES_BYTES of text unpacked), so the texts one decision reads
 * again (its Pod's, its owners') are parsed once.  Keyed by the
 * string itself (x->parsed says it is here): a text freed takes its tree
 * with it (cl_tree_forget), so a later string at the same address is
 * never taken for it.  The trees are shared: nobody changes one.
 */
#define CL_TREES_MAX	64
#define CL_TREES_BYTES	(256 * 1024)

struct cl_tree;

/* The trees by last use, newest first: the last is pushed out first. */
TAILQ_HEAD(cl_tree_lru, cl_tree);

struct cl_trees {
	struct ptab	 t;		/* struct cl_tree * (owned), by text */
	struct cl_tree_lru lru;		/* the same trees, by last use */
	size_t		 bytes;		/* of the trees' texts, unpacked */
	json_t		*empty;		/* owned: the tree of no text */
	char		*text;		/* owned: a text unpacked, reused */
	size_t		 cap;		/* bytes of text */
};

/*
 * x (NULL: none) parsed: borrowed, valid until the next cl_tree_of (which
 * may push it out) or x's last reference going; {} when x is NULL or does
 * not parse.
 */
json_t		*cl_tree_of(struct cl_trees *, struct istr *x);
/*
 * x (a plain string: a kind, a namespace) as a JSON string, kept as a
 * tree is: borrowed likewise.  A string is kept as a text or as a
 * string, never both.
 */
json_t		*cl_string_of(struct cl_trees *, struct istr *x);
/*
 * x parsed as cl_tree_of parses it, its tree kept only when it already
 * was (for a text about to go): a new reference.
 */
json_t		*cl_tree_peek(struct cl_trees *, struct istr *x);
/* Drops x's tree (x's last reference is going); x NULL or not here: no-op. */
void		 cl_tree_forget(struct cl_trees *, struct istr *x);
/* An empty cl_trees in *ts (zeroed or not): the list needs its head set. */
void		 cl_trees_init(struct cl_trees *ts);
/* Drops every tree and the buffer: an empty cl_trees again (initialized). */
void		 cl_trees_clear(struct cl_trees *);

#endif /* CLUSTER_INT_H */
