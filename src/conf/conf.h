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
#include <stdint.h>
#include <jansson.h>

#include "util/util.h"

#define CONF_MAX_FILE	(8u << 20)	/* bytes per manifest file */
#define CONF_MAX_DEPTH	128		/* YAML nesting */
/* bytes per file read by conf_load_documents (cluster snapshots) */
#define CONF_MAX_DATA_FILE	(256u << 20)
/*
 * The most actions the guardrails remember: the circuit's recent actions
 * and a trigger's remediations for recurrence.  circuit.maxActions and
 * recurrence.minActions are capped at it, as a larger value could never be
 * reached and would leave the circuit or the demotion never firing.
 */
#define CONF_ACTIONS_MAX	1024
/* The most signals a threshold counts (threshold.count). */
#define CONF_COUNT_MAX		1000000

struct conf_marks;

/* One YAML or JSON document. */
struct mdoc {
	char			*file;	/* owned: path as given */
	int			 index;	/* 0-based document index in file */
	json_t			*root;	/* owned reference */
	struct conf_marks	*marks;	/* owned: node -> line/column */
	/* borrowed from root, NULL when absent */
	const char		*api_version, *kind, *name, *namespace;
	int			 invalid;	/* errors were reported about
						   this document (syntax,
						   schema, cross-checks) */
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
	struct mdoc	**docs;		/* owned: every manifest of a known
					   kind, load order */
	size_t		  ndocs;
	/*
	 * The same documents by kind, borrowed pointers into docs; only those
	 * that passed their schema check (invalid == 0), so the stages that
	 * compile them may rely on the schema.
	 */
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
 * A hash of what conf_load would read from paths: every file's name and
 * content, in load order (hidden entries such as a ConfigMap mount's
 * ..data skipped, as the loader skips them).  Equal fingerprints, same
 * manifests; `run` compares them to notice a change to reload (a
 * ConfigMap's symlink swap, src/daemon/reload.c).
 */
uint64_t	conf_fingerprint(const char *const *paths, size_t npaths);

/*
 * Loads documents without schema checks: the cluster snapshot, recordings.
 * path is a file (any extension) or a directory (its *.yaml, *.yml and
 * *.json files, recursively, sorted).  Files may be up to
 * CONF_MAX_DATA_FILE bytes.  Files named *.json, *.ndjson or *.jsonl are
 * read as JSON (util_json_loadb), faster but with no node positions (conf_loc
 * gives the document's line); each JSON value in them, one after the other
 * (NDJSON), is a document.  Empty documents are skipped.  Appends owned
 * documents to *docs (the caller frees each with mdoc_free and the array
 * with free).  Returns 0, or -1 with diags filled; documents read before
 * an error stay appended.
 */
int	conf_load_documents(const char *path, struct mdoc ***docs,
	    size_t *ndocs, struct diags *);
/*
 * Streams the documents under path (files as conf_load_documents finds
 * them) for data too large to hold whole at once, a cluster snapshot of
 * a real cluster: nothing of a file is copied (util_map_file maps it) and
 * a file may be up to CONF_MAX_STREAM_FILE bytes.  A YAML file's
 * documents go to s->doc one at a time, each owned by it as soon as it
 * is parsed; a JSON file (*.json, *.ndjson, *.jsonl) goes to s->json as
 * its mapped text (borrowed, valid for the call), to be read value by
 * value with util_jlist.  Returns 0, or -1 with diags filled (what went
 * to the callbacks before stays theirs).
 */
#define CONF_MAX_STREAM_FILE	((size_t)16 << 30)
typedef void	conf_doc_fn(void *ctx, struct mdoc *doc);
typedef void	conf_json_fn(void *ctx, const char *file,
		    const struct util_mapped *text);
struct conf_stream {
	conf_doc_fn	*doc;
	conf_json_fn	*json;
	void		*ctx;
};
int	conf_stream_documents(const char *path, const struct conf_stream *,
	    struct diags *);
/*
 * Parses one buffer of YAML/JSON text into documents (tests, stdin); name
 * is the file name locations carry (copied).  text need not be
 * NUL-terminated; the caller bounds len.  As conf_load_documents.
 */
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
/*
 * Where the value of parent's member key (key != NULL) or of its element
 * idx (key == NULL, parent an array) is written; works for the singletons
 * too.  Falls back to the parent's location.
 */
struct loc	conf_loc_value(const struct mdoc *, const json_t *parent,
		    const char *key, size_t idx);
/* "namespace/name" or "name" of the document's metadata; static buffer-free:
 * writes into out. */
void		mdoc_ident(const struct mdoc *, char *out, size_t outlen);

#endif /* CONF_H */
