/*
 * cluster internals: the interned strings the compact store is built
 * from (on util's ptab).  Not part of the module's surface.
 */
#ifndef CLUSTER_INT_H
#define CLUSTER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

#include <jansson.h>

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

/* An interned, refcounted string. */
struct istr {
	uint32_t	refs;
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
 * Whether packed unpacks to s[0..n), without unpacking it: a put finds
 * an object's texts unchanged so at the cost of a compare, not a pack.
 */
int		 cl_text_is(const char *packed, const char *s, size_t n);

#endif /* CLUSTER_INT_H */
