/*
 * policy internals shared by the files of the module; not part of its
 * public surface (policy.h is).
 *
 *   operator.c	Kyverno's condition operators
 *   compare.c	semantic versions as the operators ask for them (the
 *		typed readings themselves are util's)
 *   gostr.c	fmt.Sprint of a value, bounded (Go's printing, which
 *		Kyverno's results depend on, is util/gofmt.h)
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
#include "util/gofmt.h"
#include "util/util.h"

/* Bytes one substituted string may grow to. */
#define POL_MAX_TEXT	(1u << 20)
/* {{ }} nested inside one another, at most. */
#define POL_MAX_NEST	16

/* ---- operators ---------------------------------------------------------- */
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

/* ---- compare.c ---------------------------------------------------------- */
/*
 * Semantic versions (util's semver_parse, as blang/semver): returns 0 and
 * *cmp = -1/0/1 when both parse, -1 when either does not.
 */
int	pol_semver_cmp(const char *a, const char *b, int *cmp);
/* Whether s is a valid semantic version. */
int	pol_semver_valid(const char *);

/* ---- gostr.c ------------------------------------------------------------ */
/* fmt.Sprint(v) of the Go value Kyverno would hold for v, at most
 * POL_MAX_TEXT bytes.  Owned. */
char	*pol_sprint(json_t *);

/* ---- subst.c ------------------------------------------------------------ */
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
 * Compiles expr into the cache (a no-op when it is there).  Returns 0, or
 * -1 with *err (owned).  Only while a set is built: admission reads the
 * cache and never changes it, so a built set may be shared.
 */
int			 pol_cache_add(struct pol_cache *, const char *expr,
			    char **err);
/*
 * Evaluates expr on data, compiled from the cache when it is there (cache
 * may be NULL), else compiled for this call.  Returns a new reference, or
 * NULL with *err filled.
 */
json_t			*pol_cache_search(const struct pol_cache *,
			    const char *expr, json_t *data,
			    const struct jp_env *, struct jp_error *err);

/*
 * Walks text's {{ }} (nested ones included) and calls fn on the source of
 * each innermost expression (those a nested {{ }} does not make
 * incomplete).  Returns the first non-zero fn result, else 0.
 */
int	pol_vars_each(const char *text, int (*fn)(void *, const char *expr,
	    size_t len), void *arg);

/*
 * Whether Kyverno would accept expr as a variable: it names request., @,
 * serviceAccountName..., one of the rule's context entries (names, n), or
 * calls a function.
 */
int	pol_var_allowed(const char *expr, char *const *names, size_t n);

/*
 * pol_substitute with options: cache may be NULL; delete_op rewrites
 * request.object to request.oldObject as Kyverno does for DELETE.
 */
json_t	*pol_subst(const char *text, json_t *ctx, const struct jp_env *,
	    const struct pol_cache *, enum pol_vmode, int delete_op,
	    char **err);
/*
 * The compiled expression of text when text is one variable and nothing
 * else ("{{ e }}", no {{ }} nested in it) and e is in the cache; NULL
 * otherwise.  Borrowed from the cache.  For a set's build: admission then
 * evaluates it with pol_subst_var, without reading the text again.
 */
const struct jp_expr	*pol_cache_whole(const struct pol_cache *,
			    const char *text);
/*
 * pol_subst of a text pol_cache_whole gave e for, but for DELETE (whose
 * request.object pol_subst reads as request.oldObject): the same value,
 * or NULL with *err (owned).
 */
json_t	*pol_subst_var(const struct jp_expr *e, json_t *ctx,
	    const struct jp_env *, enum pol_vmode, char **err);
/*
 * Whether the text of a string of len bytes is, substituted, itself: no
 * "{{" (no escaped "\{{" either), no NUL inside, not too long.
 */
int	pol_subst_plain(const char *text, size_t len);
/* Substitutes every string (and object key) inside v.  New reference. */
json_t	*pol_subst_json(json_t *v, json_t *ctx, const struct jp_env *,
	    const struct pol_cache *, enum pol_vmode, int delete_op,
	    char **err);

/* ---- pattern.c ---------------------------------------------------------- */

enum pol_pres { POL_PAT_PASS, POL_PAT_FAIL, POL_PAT_SKIP };

/*
 * Kyverno's validate.pattern: whether resource (borrowed; NULL reads as
 * absent) fits pattern (borrowed, variables already substituted).  For
 * FAIL and SKIP, *path (owned: "/spec/containers/0/image/") says where and
 * *why (owned) what; both NULL on PASS.
 */
enum pol_pres	pol_pattern(json_t *resource, json_t *pattern, char **path,
		    char **why);
/* Whether a value fits one pattern leaf ("<=5", "!*:latest", 3, null). */
int		pol_pattern_value(json_t *value, json_t *pattern);
/*
 * Whether key is an anchor "(k)", "<(k)", "=(k)", "^(k)", "X(k)", "+(k)":
 * *mod set to the modifier ('\0' for a conditional) and *inner (owned,
 * may be NULL to skip) to k.  Returns 1 or 0.
 */
int		pol_anchor(const char *key, char *mod, char **inner);

/* ---- images.c ----------------------------------------------------------- */

/*
 * Kyverno's `images` variable for object (borrowed): its Pod spec's images
 * parsed, by list and container name.  New reference, or NULL when the
 * object has no Pod spec or no image.
 */
json_t	*pol_images(json_t *object);

/* ---- autogen.c ---------------------------------------------------------- */

/*
 * Kyverno's auto-generated rules for Pod controllers: from a policy's spec
 * (borrowed) and its metadata.annotations (borrowed, may be NULL), the
 * rules Kyverno adds (autogen-NAME for Deployment, StatefulSet, DaemonSet,
 * ReplicaSet, ReplicationController, Job; autogen-cronjob-NAME for
 * CronJob), as a new array of rule objects, or NULL when none.
 */
json_t	*pol_autogen(json_t *spec, json_t *annotations);

/* ---- a compiled set ----------------------------------------------------- */

/* One condition; key and value are substituted at admission. */
struct pol_cond {
	json_t		*key;		/* owned */
	const struct jp_expr *key_var;	/* borrowed from the set's cache:
					   the key's expression when the key
					   is one {{ }} alone, else NULL */
	int		 value_plain;	/* value is a string with no {{ }}:
					   substituted, it is itself */
	json_t		*value;		/* owned; NULL if absent */
	enum pol_op	 op;
};

/* {any: [...], all: [...]}; the older bare list is all. */
struct pol_conds {
	struct pol_cond	*any, *all;	/* owned */
	size_t		 nany, nall;
	int		 has_any, has_all;
};

/* One kinds entry: group/version/Kind[/subresource], each a wildcard. */
struct pol_kind {
	char	*group, *version, *kind;	/* owned */
	char	*sub;			/* owned; NULL if none */
};

/*
 * One resource filter (an element of any/all, or the older form).  Every
 * pointer is owned; json_t members are NULL when absent.
 */
struct pol_filter {
	struct pol_kind	*kinds;
	size_t		 nkinds;
	char		**names, **namespaces, **operations;
	size_t		 nnames, nnamespaces, noperations;
	json_t		*annotations;
	json_t		*selector, *ns_selector;
	int		 users;		/* subjects, roles... */
	int		 conditions;	/* how many of these are given */
};

enum pol_mmode { POL_MATCH_NONE, POL_MATCH_ANY, POL_MATCH_ALL };

struct pol_match {
	enum pol_mmode		 mode;
	struct pol_filter	*f;	/* owned */
	size_t			 n;
};

/* What a rule (or a foreach) checks once its preconditions hold. */
enum pol_vkind {
	POL_V_DENY,		/* deny.conditions */
	POL_V_PATTERN,		/* pattern */
	POL_V_ANYPATTERN,	/* anyPattern: one of the patterns */
	POL_V_FOREACH		/* foreach: every element */
};

/* A context entry of another type, answered from the cluster view. */
enum pol_ctype {
	POL_CTX_VARIABLE,
	POL_CTX_CONFIGMAP,	/* name, namespace */
	POL_CTX_APICALL		/* urlPath of one object, GET */
};

/*
 * A context entry; every member owned, NULL if absent.  A variable has
 * value/jmespath/def; a configMap has name and namespace in value (an
 * object of strings, substituted); an apiCall has its urlPath in value.
 */
struct pol_var {
	char		*name;
	enum pol_ctype	 type;
	json_t		*value, *def;
	char		*jmespath;
};

struct pol_foreach;

/*
 * The body of a rule and of each foreach: context entries, preconditions
 * and what is checked.  Every pointer owned.
 */
struct pol_body {
	struct pol_var		*vars;		/* context */
	size_t			 nvars;
	struct pol_conds	 pre;
	int			 has_pre;
	enum pol_vkind		 kind;
	struct pol_conds	 deny;		/* POL_V_DENY */
	json_t			*pattern;	/* POL_V_PATTERN: the pattern;
						   ANYPATTERN: the list */
	struct pol_foreach	*fe;		/* POL_V_FOREACH */
	size_t			 nfe;
};

/* One validate.foreach entry. */
struct pol_foreach {
	char		*list;		/* owned: JMESPath, may hold {{ }} */
	int		 scope;		/* elementScope: 1, 0, -1 unset */
	struct pol_body	 body;
};

struct pol_rule {
	char			*name;		/* owned */
	struct pol_match	 match, exclude;
	struct pol_body		 body;
	char			*message;	/* owned; NULL if none */
	int			 action;	/* 1 Enforce, 0 Audit, -1 the
						   policy's */
	int			 autogen;	/* generated for controllers */
};

/* validationFailureActionOverrides: action by namespace. */
struct pol_override {
	int	  enforce;
	char	**namespaces;			/* owned */
	size_t	  n;
};

struct pol_policy {
	char			*name;	/* owned: name, ns/name */
	char			*namespace; /* owned; NULL: cluster */
	int			 enforce;
	int			 ignore_errors; /* failurePolicy */
	int			 admission;	/* spec.admission */
	int			 apply_one;	/* applyRules: One */
	struct pol_override	*ov;		/* owned */
	size_t			 nov;
	struct pol_rule		*rules;		/* owned */
	size_t			 nrules;
};

struct pol_set {
	struct pol_policy	*p;		/* owned */
	size_t			 n, cap;
	struct pol_cache	*cache;		/* owned */
};

/* ---- match.c ------------------------------------------------------------ */

/* The request as the filters see it. */
struct pol_req {
	json_t			*object;	/* borrowed */
	json_t			*old;		/* borrowed; may be NULL */
	const char		*operation;
	const char		*group, *version, *kind; /* of the object */
	const char		*name, *namespace;	/* "" when absent */
	/* the object's strings these are read from (borrowed; NULL when
	   absent): the request context takes them by reference */
	json_t			*api_version_v, *kind_v, *name_v, *namespace_v;
	const struct jp_env	*env;	/* for namespaceSelector */
	json_t			*ns_labels;	/* borrowed, may be NULL: a
						   test's namespace name ->
						   labels, in place of env */
};

/* Whether the rule's match holds and its exclude does not. */
int	pol_rule_applies(const struct pol_rule *, const struct pol_req *);
/*
 * Parses a kinds entry ("Pod", "apps/v1/Deployment", "v1/Pod", "Pod/exec",
 * with wildcards in any part) into k.  Returns 0, or -1 for an empty part
 * or more than four.
 */
int	pol_kind_parse(const char *, struct pol_kind *);
void	pol_kind_clear(struct pol_kind *);
/* Whether a Kubernetes LabelSelector holds on labels (an object or NULL);
 * matchLabels keys and values may be wildcards, as in Kyverno. */
int	pol_selector_matches(json_t *selector, json_t *labels);

#endif /* POL_INT_H */
