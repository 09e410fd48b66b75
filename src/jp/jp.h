/*
 * jp: JMESPath (https://jmespath.org/specification.html), complete, with
 * Kyverno's function library, on jansson values.
 *
 * An expression is compiled once (jp_compile) and evaluated many times
 * (jp_eval); compiled expressions are immutable and may be shared.
 * Errors carry the JMESPath error kind of the compliance suite and, for
 * syntax errors, the 0-based offset in the expression.
 *
 * Bounds: expressions longer than JP_MAX_EXPR bytes, nested deeper than
 * JP_MAX_DEPTH, or producing results larger than JP_MAX_RESULT nodes are
 * refused with JP_ERR_LIMIT.  One evaluation may also create at most
 * JP_MAX_BYTES bytes of strings and take at most JP_MAX_STEPS steps, so
 * no expression runs unbounded.
 */
#ifndef JP_H
#define JP_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define JP_MAX_EXPR	65536		/* bytes */
#define JP_MAX_DEPTH	256		/* nesting of the syntax tree */
#define JP_MAX_RESULT	1000000		/* JSON nodes created by one eval */
#define JP_MAX_BYTES	(64 << 20)	/* string bytes created by one eval */
#define JP_MAX_STEPS	50000000	/* interpreter steps of one eval */

enum jp_errkind {
	JP_OK = 0,
	JP_ERR_SYNTAX,
	JP_ERR_ARITY,		/* invalid-arity */
	JP_ERR_TYPE,		/* invalid-type */
	JP_ERR_VALUE,		/* invalid-value */
	JP_ERR_UNKNOWN_FUNCTION,
	JP_ERR_LIMIT,		/* one of the bounds above */
	JP_ERR_LOOKUP,		/* lookup() could not read the cluster */
};

struct jp_error {
	enum jp_errkind	 kind;
	int		 pos;		/* 0-based byte offset; -1 if none */
	char		 msg[256];	/* names the function and argument */
};

/*
 * The environment of an evaluation: what Kyverno functions may reach.
 * lookup: the 4-argument lookup(kind, namespace, name, path) reads the live
 * object through this hook; it returns a new reference or NULL when the
 * object does not exist (ns is "" for a cluster-scoped kind); with no hook
 * a 4-argument lookup() is a JP_ERR_LOOKUP error.  now: ms since the epoch
 * for time_now() and friends (0: the system clock).
 */
struct jp_env {
	json_t	*(*lookup)(void *ctx, const char *kind, const char *ns,
		    const char *name);
	void	 *lookup_ctx;
	int64_t	  now;
};

struct jp_expr;

/* Compiles src.  Returns an owned expression, or NULL with *err filled. */
struct jp_expr	*jp_compile(const char *src, struct jp_error *err);
void		 jp_free(struct jp_expr *);
/* The source text the expression was compiled from; borrowed. */
const char	*jp_source(const struct jp_expr *);

/*
 * Evaluates expr on data (borrowed).  env may be NULL (no lookup, system
 * clock).  Returns a new reference (owned by the caller; JSON null is
 * json_null(), never NULL) or NULL with *err filled.
 */
json_t	*jp_eval(const struct jp_expr *, json_t *data,
	    const struct jp_env *env, struct jp_error *err);

/*
 * jp_eval for callers that only look at the result: returns it borrowed
 * when the expression only selects (a sub-value of data, a literal of the
 * expression or a static true, false or null: valid while data and the
 * expression live), with *own NULL; when the evaluation built the value,
 * *own is the new reference the caller must drop (json_decref(NULL) is a
 * no-op, so callers drop *own either way).  Skips two reference count
 * updates, atomic in jansson, per selection.  NULL with *err filled on
 * error (*own is then NULL).
 */
json_t	*jp_eval_view(const struct jp_expr *, json_t *data,
	    const struct jp_env *env, json_t **own, struct jp_error *err);

/*
 * A field index of one document, for evaluating many expressions on the
 * same data: every field of every object is entered once in one table
 * whose keys' hashes expressions carry from compile time, so a field is
 * found without hashing its name again (jansson hashes it on every
 * lookup).  Building it walks the whole document, so it pays when the
 * document is read by many fields or expressions.  jp_doc_new takes a
 * reference to root (NULL: JSON null); root must not change while the
 * index lives.  Returns an owned index (free with jp_doc_free; NULL is a
 * no-op).  Results are the same as jp_eval_view's on jp_doc_root(doc):
 * objects the index does not hold (values an expression builds, objects
 * lookup() returns) are read from jansson.
 */
#define JP_HAVE_DOC	1	/* for bench/jp_bench.c built against older jp */
struct jp_doc;
struct jp_doc	*jp_doc_new(json_t *root);
void		 jp_doc_free(struct jp_doc *);
/* The indexed document; borrowed. */
json_t		*jp_doc_root(const struct jp_doc *);
/* jp_eval_view on jp_doc_root(doc), through the index. */
json_t	*jp_eval_doc(const struct jp_expr *, const struct jp_doc *doc,
	    const struct jp_env *env, json_t **own, struct jp_error *err);

/* jp_compile + jp_eval + jp_free in one call. */
json_t	*jp_search(const char *src, json_t *data, const struct jp_env *env,
	    struct jp_error *err);

/* "syntax", "invalid-arity", ... as the compliance suite names them. */
const char	*jp_errkind_name(enum jp_errkind);

/* JMESPath truthiness: false, null, "", [], {} are false. */
int	jp_truthy(const json_t *);

/* JMESPath equality: deep, numbers by value (1 == 1.0), key order free. */
int	jp_equal(const json_t *, const json_t *);

/*
 * Serialises v (borrowed) as JSON the way jp and Kyverno print it: numbers
 * in their shortest round-trip form (1.5, 3, 1e+21), object keys in
 * insertion order, non-ASCII kept as UTF-8.  flags: JP_DUMP_INDENT for
 * two-space indentation, else compact.  Returns an owned string.
 */
#define JP_DUMP_INDENT	0x1
char	*jp_dump(const json_t *v, int flags);
/*
 * A text the caller already has for v (borrowed, an object of the value
 * being dumped): its compact JSON text, *len bytes, valid until the next
 * call; or NULL to have v written as jp_dump writes it.  The text is
 * written as it is (its numbers and escapes may be jansson's, not
 * jp_dump's: it reads back to the same values).
 */
typedef const char *jp_known_fn(void *ctx, const json_t *v, size_t *len);
/*
 * jp_dump(v, 0), asking known (with ctx) first for every object met; a
 * text it has stands for the object's whole subtree.  The cluster view
 * has the texts of the objects it materialized (cluster_noted_text):
 * a decision's inputs note, mostly such objects, is written by copying
 * them rather than walking their trees again.  Owned.
 */
char	*jp_dump_known(const json_t *v, jp_known_fn *known, void *ctx);

#endif /* JP_H */
