/*
 * conf internals shared by the files of the module; not part of the public
 * surface (conf.h is).
 */
#ifndef CONF_INTERNAL_H
#define CONF_INTERNAL_H

#include <stddef.h>
#include <jansson.h>

#include "conf/conf.h"
#include "util/util.h"

/* ---- marks.c: node -> position tables ---------------------------------- */
struct conf_marks	*conf_marks_new(void);
void			 conf_marks_free(struct conf_marks *);
/* Records where node (not a singleton) starts; 1-based line and column. */
void	conf_marks_node(struct conf_marks *, const json_t *node, int line,
	    int col);
/*
 * Records where obj's member key is written and where its value starts.
 * key must be borrowed from obj itself (json_object_iter_key) so that it
 * lives as long as the object.
 */
void	conf_marks_key(struct conf_marks *, const json_t *obj,
	    const char *key, int kline, int kcol, int vline, int vcol);
/* Records where element idx of arr starts (used for singleton elements). */
void	conf_marks_elem(struct conf_marks *, const json_t *arr, size_t idx,
	    int line, int col);
/* Where the document itself starts. */
void	conf_marks_doc(struct conf_marks *, int line, int col);
/* Copies the position of from's member fromkey to to's member tokey
 * (tokey borrowed from to), after the loader moved a member. */
void	conf_marks_copy_key(struct conf_marks *, const json_t *from,
	    const char *fromkey, const json_t *to, const char *tokey);

/* ---- document.c: finding and reading files --------------------------- */
struct conf_files {
	char	**v;		/* owned paths, in load order */
	size_t	  n, cap;
};
/*
 * Adds path, or the YAML (.yaml, .yml) and JSON files below it (sorted, hidden
 * entries skipped), to fl.  Errors (missing path) go to diags.
 */
void	conf_files_find(struct conf_files *, const char *path, struct diags *);
void	conf_files_free(struct conf_files *);
/* Reads file (at most max bytes) and parses it; as conf_yaml_parse. */
int	conf_read_docs(const char *file, size_t max, struct mdoc ***docs,
	    size_t *ndocs, struct diags *);

/* ---- yaml.c: text -> documents ---------------------------------------- */
/*
 * Parses text (YAML 1.2 core schema; JSON is a subset) into documents
 * appended to *docs; name is the file name the locations carry.  Returns
 * 0, or -1 after adding diagnostics (documents completed before a syntax
 * error are kept).
 */
int	conf_yaml_parse(const char *name, const char *text, size_t len,
	    struct mdoc ***docs, size_t *ndocs, struct diags *);
/* The same, each document handed to fn (owned by fn) once parsed. */
int	conf_yaml_each(const char *name, const char *text, size_t len,
	    conf_doc_fn *fn, void *ctx, struct diags *);
/* Fills the borrowed api_version/kind/name/namespace of a document. */
void	conf_mdoc_fill(struct mdoc *);

/* ---- schema.c: checks one document against the schema of its kind ---- */
/* Returns the number of errors found. */
size_t	conf_schema_check(struct mdoc *, enum conf_kind, struct diags *);

/* ---- xcheck.c: checks across documents -------------------------------- */
void	conf_xcheck(struct conf *, struct diags *);

/* Kind names, apiVersion groups. */
const char	*conf_kind_name(enum conf_kind);
const char	*conf_kind_group(enum conf_kind);

#endif /* CONF_INTERNAL_H */
