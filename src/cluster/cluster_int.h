/*
 * cluster internals: the interned strings the compact store is built
 * from (on util's ptab).  Not part of the module's surface.
 */
#ifndef CLUSTER_INT_H
#define CLUSTER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

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

#endif /* CLUSTER_INT_H */
