/*
 * conf: the one loader of manifests.
 *
 * Reads every *.yaml, *.yml and *.json file below the given paths
 * (multi-document YAML included) into JSON values that remember where each
 * node came from (file, line, column), checks each document against the
 * schema of its kind (EventSource, Sensor, ClusterPolicy, Policy,
 * RemediationConfig), and cross-checks them (duplicate names, sensor
 * dependencies naming missing event sources...).  Problems are collected as
 * diagnostics and loading goes on, so one `remediate check` run shows them
 * all.  `check`, `replay` and `run` all load through here.
 *
 * A loaded conf is immutable; a reload builds a new one and swaps it in.
 */
#ifndef CONF_H
#define CONF_H

#include <stddef.h>
#include <jansson.h>

#include "util/util.h"

#define CONF_MAX_FILE	(8u << 20)	/* bytes per manifest file */
#define CONF_MAX_DEPTH	128		/* YAML nesting */

struct conf_marks;

/* One YAML or JSON document. */
struct mdoc {
	char			*file;	/* owned: path as given */
	int			 index;	/* 0-based document index in file */
	json_t			*root;	/* owned reference */
	struct conf_marks	*marks;	/* owned: node -> line/column */
	/* borrowed from root, NULL when absent */
	const char		*api_version, *kind, *name, *namespace;
};

enum conf_kind {
	CONF_EVENTSOURCE,
	CONF_SENSOR,
	CONF_CLUSTERPOLICY,
	CONF_POLICY,
	CONF_REMEDIATIONCONFIG,
	CONF_NKINDS
};

struct conf {
	struct mdoc	**docs;		/* owned: every manifest, load order */
	size_t		  ndocs;
	/* the same documents by kind; borrowed pointers into docs */
	struct mdoc	**by_kind[CONF_NKINDS];
	size_t		  nby_kind[CONF_NKINDS];
};

/*
 * Loads and validates the manifests under paths (files or directories,
 * searched recursively in sorted order).  Returns an owned conf even when
 * there are errors (so a caller may list what did load); diags gets every
 * error and warning.  The caller checks diags->errors.
 */
struct conf	*conf_load(const char *const *paths, size_t npaths,
		    struct diags *);
void		 conf_free(struct conf *);

/*
 * Loads documents without schema checks: the cluster snapshot, recordings.
 * Appends owned documents to *docs.  Returns 0, or -1 with diags filled.
 */
int	conf_load_documents(const char *path, struct mdoc ***docs,
	    size_t *ndocs, struct diags *);
/* Parses one buffer of YAML/JSON text into documents (tests, stdin). */
int	conf_parse_text(const char *name, const char *text, size_t len,
	    struct mdoc ***docs, size_t *ndocs, struct diags *);
void	mdoc_free(struct mdoc *);

/*
 * Where a node is: node must be a value reached from doc->root.  For the
 * singletons true/false/null, which jansson shares, use conf_loc_key on the
 * parent object.  Unknown nodes give the document's own location.
 */
struct loc	conf_loc(const struct mdoc *, const json_t *node);
/* Where obj's member key is written (the key itself). */
struct loc	conf_loc_key(const struct mdoc *, const json_t *obj,
		    const char *key);
/* "namespace/name" or "name" of the document's metadata; static buffer-free:
 * writes into out. */
void		mdoc_ident(const struct mdoc *, char *out, size_t outlen);

#endif /* CONF_H */
