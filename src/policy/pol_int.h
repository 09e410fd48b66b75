/*
 * policy internals shared by the files of the module; not part of its
 * public surface (policy.h is).
 *
 *   operator.c	Kyverno's condition operators
 *   compare.c	the typed readings they rest on: Go durations, semantic
 *		versions, Go number parsing (quantities are util's)
 *   gostr.c	Go's ways of turning a value into text (fmt.Sprint and
 *		encoding/json), which Kyverno's results depend on
 *   subst.c	{{ }} variable substitution
 *   match.c	match/exclude resource filters
 *   policy.c	compiling a ClusterPolicy/Policy into a set
 *   admit.c	evaluating a set on an object
 */
#ifndef POL_INT_H
#define POL_INT_H

#include <stdint.h>
#include <jansson.h>

#include "jp/jp.h"
#include "util/util.h"

/* Bytes one substituted string may grow to. */
#define POL_MAX_TEXT	(1u << 20)
/* {{ }} nested inside one another, at most. */
#define POL_MAX_NEST	16

/* ---- operators ----------------------------------------------------------- */
enum pol_op {
	POL_OP_EQUALS,
	POL_OP_NOTEQUALS,
	POL_OP_IN,		/* deprecated */
	POL_OP_NOTIN,		/* deprecated */
	POL_OP_ANYIN,
	POL_OP_ALLIN,
	POL_OP_ANYNOTIN,
	POL_OP_ALLNOTIN,
	POL_OP_GT,
	POL_OP_GE,
	POL_OP_LT,
	POL_OP_LE,
	POL_OP_DGT,		/* Duration*: deprecated */
	POL_OP_DGE,
	POL_OP_DLT,
	POL_OP_DLE,
	POL_OP_NONE = -1
};

/* The operator named name, case-insensitively, aliases included. */
enum pol_op	 pol_op_lookup(const char *name);
/* The canonical names, for did-you-mean; n set to their count. */
const char *const *pol_op_names(size_t *n);
/* Whether name is a deprecated spelling (Equal, In, DurationLessThan...). */
int		 pol_op_deprecated(const char *name);
/* pol_operator with a looked-up operator: 1 true, 0 false. */
int		 pol_op_eval(enum pol_op, json_t *key, json_t *value);

/* ---- compare.c ----------------------------------------------------------- */
/* Go's time.ParseDuration, in nanoseconds: 0 ok, -1 not a duration. */
int	pol_parse_duration(const char *, int64_t *ns);
/* Go's strconv.ParseFloat(s, 64) for decimal text: 0 ok, -1 bad. */
int	pol_parse_float(const char *, double *);
/*
 * Semantic versions (semver 2.0, strict, as blang/semver): returns 0 and
 * *cmp = -1/0/1 when both parse, -1 when either does not.
 */
int	pol_semver_cmp(const char *a, const char *b, int *cmp);
/* Whether s is a valid semantic version. */
int	pol_semver_valid(const char *);

/* ---- gostr.c ------------------------------------------------------------- */
/* fmt.Sprint(v) of the Go value Kyverno would hold for v.  Owned. */
char	*pol_sprint(json_t *);
/*
 * encoding/json.Marshal(v) (sorted keys, HTML-safe escapes, Go number
 * format) into b.  Returns 0, or -1 when b's maximum was exceeded.
 */
int	 pol_marshal(struct buf *, json_t *);
/* Deep equality with numbers compared by value (1 == 1.0), as Go's. */
int	 pol_json_equal(json_t *, json_t *);

/* ---- subst.c ------------------------------------------------------------- */
struct pol_cache;

/* How an expression that fails to evaluate is treated. */
enum pol_vmode {
	POL_VAR_STRICT,		/* an error */
	POL_VAR_LENIENT		/* "" (Kyverno's preconditions), except a
				   lookup() that could not read the cluster */
};

/* Compiled expressions by source text, so a set compiles each once. */
struct pol_cache	*pol_cache_new(void);
void			 pol_cache_free(struct pol_cache *);

/*
 * Walks text's {{ }} (nested ones included) and calls fn on the source of
 * each innermost expression (those a nested {{ }} does not make
 * incomplete).  Returns the first non-zero fn result, else 0.
 */
int	pol_vars_each(const char *text, int (*fn)(void *, const char *expr,
	    size_t len), void *arg);

/* The variables a policy may use at its root (request., @, ...). */
int	pol_var_allowed(const char *expr);

/*
 * pol_substitute with options: cache may be NULL; delete_op rewrites
 * request.object to request.oldObject as Kyverno does for DELETE.
 */
json_t	*pol_subst(const char *text, json_t *ctx, const struct jp_env *,
	    struct pol_cache *, enum pol_vmode, int delete_op, char **err);
/* Substitutes every string (and object key) inside v.  New reference. */
json_t	*pol_subst_json(json_t *v, json_t *ctx, const struct jp_env *,
	    struct pol_cache *, enum pol_vmode, int delete_op, char **err);

#endif /* POL_INT_H */
