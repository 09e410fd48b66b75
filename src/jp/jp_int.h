/*
 * jp internals shared by the parser, the interpreter and the function
 * libraries.  Nothing here is part of the module's public surface.
 *
 * The syntax tree lives in one arena per compiled expression, so freeing
 * an expression is a walk over a few blocks, and evaluation only reads it.
 */
#ifndef JP_INT_H
#define JP_INT_H

#include <stddef.h>
#include <stdint.h>

#include "jp/jp.h"

enum jp_ntype {
	N_FIELD,	/* name, namelen */
	N_CURRENT,	/* @ */
	N_LITERAL,	/* lit */
	N_SUBEXPR,	/* l . r */
	N_INDEX,	/* idx */
	N_SLICE,	/* sl[], slset[] */
	N_PROJECT,	/* l[*] r, l[] r */
	N_VPROJECT,	/* l.* r */
	N_FILTER,	/* l[?cond] r */
	N_FLATTEN,	/* l[] */
	N_CMP,		/* l op r */
	N_OR,
	N_AND,
	N_NOT,		/* !l */
	N_PIPE,
	N_MSLIST,	/* [kids...] */
	N_MSHASH,	/* {keys: kids} */
	N_FUNC,		/* fn(kids) */
	N_EXPREF,	/* &l */
};

enum jp_cmpop { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE };

struct jp_func;

struct jp_node {
	enum jp_ntype		 type;
	int			 pos;		/* byte offset in the source */
	int			 op;		/* enum jp_cmpop */
	struct jp_node		*l, *r, *cond;
	struct jp_node		**kids;		/* arena */
	size_t			 nkids;
	json_t			**keys;		/* N_MSHASH: owned strings */
	const char		*name;		/* arena; N_FIELD, N_FUNC */
	size_t			 namelen;
	json_t			*lit;		/* owned */
	long long		 idx;
	long long		 sl[3];
	int			 slset[3];
	const struct jp_func	*fn;
	struct jp_expr		*sub;		/* lookup()'s path, compiled */
	/*
	 * borrow: a pure selection (fields, indexes, literals, @, and ||,
	 * &&, !, comparisons of pure selections): evaluated without
	 * references or allocation, as it only picks a sub-value of the
	 * input, a literal or a boolean.  path: for the top node of a
	 * chain of . and | over such selections, its steps in order, so
	 * the chain is walked in a loop; for the top node of a chain of
	 * || (or of &&), its operands in order (set by jp_compile).  cost: the
	 * ||, &&, ! and comparisons in the selection, the steps it is
	 * charged, so a condition evaluated per element still counts
	 * against JP_MAX_STEPS as it did before it could borrow (paths
	 * never counted: a path's work is bounded by its length).
	 * fields: every step of path is a field, so the walk may stop at
	 * the first one missing.
	 */
	int			 borrow;
	unsigned		 cost;
	const struct jp_node	**path;		/* arena */
	size_t			 npath;
	int			 fields;
	int			 sumlist;	/* N_FUNC: sum([...]) */
	uint64_t		 hash;		/* N_FIELD: jp_key_hash */
	uint64_t		 head;		/* N_FIELD: jp_key_head */
};

/* Tokens (lex.c). */
enum jp_tok {
	T_EOF, T_UID, T_QID, T_NUMBER, T_LITERAL, T_RAW,
	T_DOT, T_STAR, T_FLATTEN, T_FILTER, T_LBRACKET, T_RBRACKET,
	T_LBRACE, T_RBRACE, T_LPAREN, T_RPAREN, T_COMMA, T_COLON,
	T_AT, T_EXPREF, T_PIPE, T_OR, T_AND, T_NOT,
	T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE,
	T_NTOKENS
};

struct jp_token {
	enum jp_tok	 type;
	int		 pos;		/* byte offset */
	int		 len;		/* bytes of source */
	json_t		*val;		/* owned: T_QID, T_LITERAL, T_RAW */
	long long	 num;		/* T_NUMBER */
};

/*
 * Splits src into tokens ending with T_EOF.  Returns an owned array (free
 * with jp_lex_free) or NULL with err filled (syntax, with position).
 */
struct jp_token	*jp_lex(const char *src, size_t len, size_t *ntok,
		    struct jp_error *err);
void		 jp_lex_free(struct jp_token *, size_t);
const char	*jp_tok_name(enum jp_tok);

/* What an evaluation may spend, and where it reports. */
struct jp_ctx {
	const struct jp_env	*env;
	const struct jp_doc	*doc;		/* the data's index, or NULL */
	struct jp_error		*err;
	size_t			 nodes;		/* JSON nodes created */
	size_t			 bytes;		/* string bytes created */
	uint64_t		 steps;		/* interpreter steps */
	int			 lookups;	/* nested lookup() paths */
};

/* Argument type masks for function signatures. */
#define JT_NUM		0x01
#define JT_STR		0x02
#define JT_BOOL		0x04
#define JT_ARR		0x08
#define JT_OBJ		0x10
#define JT_NULL		0x20
#define JT_EXPREF	0x40
#define JT_ANY		(JT_NUM | JT_STR | JT_BOOL | JT_ARR | JT_OBJ | JT_NULL)

#define JP_MAX_ARGS	8

/*
 * A function: its arguments arrive evaluated (args[i] borrowed, NULL for an
 * expression reference, whose node is exprs[i]).  Returns a new reference
 * or NULL with the context's error set.
 */
struct jp_call {
	struct jp_ctx		*c;
	const struct jp_node	*node;
	json_t			*args[JP_MAX_ARGS];
	const struct jp_node	*exprs[JP_MAX_ARGS];
	int			 nargs;
};

struct jp_func {
	const char	*name;
	int		 min, max;	/* arity; max -1: variadic */
	unsigned	 types[JP_MAX_ARGS]; /* last repeats for variadics */
	json_t		*(*fn)(struct jp_call *);
	int		 exact;		/* arity is min or max only */
};

/*
 * The field index of a document (doc.c): one open addressing table of
 * (object, name) -> value over every object of the document, with one
 * marker entry (key NULL, hash 0) per object that is indexed.
 */
#define JP_DOC_PROBE	16	/* beyond this an object is left to jansson */

struct jp_doc_slot {
	const json_t	*obj;		/* borrowed; NULL: empty */
	uint64_t	 hash;		/* jp_key_hash of key */
	uint64_t	 head;		/* jp_key_head of key */
	const char	*key;		/* borrowed; NULL: the object's marker */
	size_t		 len;
	json_t		*val;		/* borrowed */
};

struct jp_doc {
	json_t		*root;		/* owned reference */
	struct jp_doc_slot *tab;		/* owned */
	size_t		 mask;		/* slots - 1 */
	unsigned	 shift;		/* 64 - log2(slots) */
};

/*
 * The hash of a field name and its first 8 bytes (zero-padded), as the
 * index and N_FIELD nodes hold them: names of up to 8 bytes compare as
 * one word.
 */
uint64_t	jp_key_hash(const char *, size_t);
uint64_t	jp_key_head(const char *, size_t);

/*
 * The home slot of (object, name): the top bits of the object's address
 * multiplied (Fibonacci hashing: objects at regular distances spread
 * out), xored with the name's hash, which jp_key_hash has already mixed
 * so its top bits depend on every byte.  One multiply, on the object's
 * address alone: a chain of fields waits on this for every step.
 */
static inline size_t
jp_doc_slot_of(const struct jp_doc *d, const json_t *obj, uint64_t hash)
{
	return (size_t)(((uint64_t)(uintptr_t)obj * 0x9e3779b97f4a7c15ULL ^
	    hash) >> d->shift);
}

/* The bytes of a name past its head (doc.c): out of line, names are short. */
int	jp_doc_tail_eq(const struct jp_doc_slot *, const struct jp_node *);

/*
 * Field n (N_FIELD) of obj from the index: *found 1 and the value (NULL
 * when obj has no such field) when obj is indexed, *found 0 when it is
 * not.  Inline: it is the evaluator's innermost step.  The probes need no
 * bound: the table is at most a quarter full (jp_doc_new), so an empty
 * slot ends every run.
 */
static inline json_t *
jp_doc_get(const struct jp_doc *d, const json_t *obj,
    const struct jp_node *n, int *found)
{
	const struct jp_doc_slot *s, *tab = d->tab;
	size_t i = jp_doc_slot_of(d, obj, n->hash);

	for (;; i = (i + 1) & d->mask) {
		s = &tab[i];
		if (s->obj == obj && s->hash == n->hash &&
		    s->head == n->head && s->len == n->namelen &&
		    (n->namelen <= 8 || jp_doc_tail_eq(s, n))) {
			*found = 1;
			return s->val;
		}
		if (s->obj == NULL)
			break;
	}
	/* Not there: absent if the object is indexed (its marker is). */
	for (i = jp_doc_slot_of(d, obj, 0); ; i = (i + 1) & d->mask) {
		s = &tab[i];
		if (s->obj == obj && s->key == NULL) {
			*found = 1;
			return NULL;
		}
		if (s->obj == NULL)
			break;
	}
	*found = 0;
	return NULL;
}

/* A compiled expression (parse.c); the evaluator reads root. */
struct blk;
struct jp_expr {
	char		*src;		/* owned */
	struct jp_node	*root;		/* arena */
	struct blk	*blocks;	/* owned */
	json_t		**owned;	/* literals and keys, owned */
	size_t		 nowned, owncap;
	struct jp_expr	**subs;		/* lookup() paths, owned */
	size_t		 nsubs, subcap;
};

/* The tree's root (parse.c). */
const struct jp_node *jp_root(const struct jp_expr *);

/* Evaluation (eval.c). */
json_t	*jp_ev(struct jp_ctx *, const struct jp_node *, json_t *);
int	 jp_fail(struct jp_ctx *, enum jp_errkind, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/* Budget accounting: 0 ok, -1 with JP_ERR_LIMIT set. */
int	 jp_spend(struct jp_ctx *, size_t nodes, size_t bytes);

/* Values (value.c). */
double	 jp_num(const json_t *);
const char *jp_typename(const json_t *);
json_t	*jp_number(double);
/* What jp_number(d) makes: -1 null (not finite), 1 the integer *i, 0 a real. */
int	 jp_number_kind(double d, json_int_t *i);
json_t	*jp_strn(struct jp_ctx *, const char *, size_t);
/* Compares two numbers or two strings; *ok is 0 when they are not. */
int	 jp_order(const json_t *, const json_t *, int *ok);
size_t	 jp_utf8_len(const char *, size_t);

/* Function tables (func.c, kyverno.c). */
const struct jp_func	*jp_func_find(const char *, size_t);
const struct jp_func	*jp_kyverno_find(const char *, size_t);
/* Kyverno functions deliberately not provided; NULL when name is not one. */
const char		*jp_kyverno_unsupported(const char *, size_t);
/* Every function name, for did-you-mean; static storage. */
size_t			 jp_func_names(const char **, size_t max);
size_t			 jp_kyverno_names(const char **, size_t max);

/* Type-checked argument access for function bodies. */
int	 jp_arg_error(struct jp_call *, int i, const char *want);
/* "fn() argument i+1: msg" (i < 0: "fn(): msg") with kind; returns -1. */
int	 jp_call_fail(struct jp_call *, int i, enum jp_errkind,
	    const char *, ...) __attribute__((format(printf, 4, 5)));

/* A string from arbitrary bytes, invalid UTF-8 replaced by U+FFFD. */
json_t	*jp_str_lossy(struct jp_ctx *, const char *, size_t);
/* Kyverno's string form of a scalar argument (numbers as float32, as
 * Kyverno prints them); -1 for other types. */
int	 jp_kstring(const json_t *, char *out, size_t len,
	    const char **s, size_t *n);

json_t	*jp_k_sum(struct jp_call *);		/* karith.c */

/*
 * sum() of numbers (func.c), one value at a time: integers stay integers
 * until one is not or the sum overflows, then it is a double.  The one
 * copy of that rule, for f_sum and the evaluator's sum([...]).
 */
struct jp_sum {
	json_int_t	 is;
	double		 ds;
	int		 ints;
};
#define JP_SUM_INIT	{ 0, 0, 1 }
/*
 * Adds a number.  Inline, and the integer read once: it is all of a
 * summing loop's work per value besides finding it.
 */
static inline void
jp_sum_add(struct jp_sum *s, const json_t *v)
{
	json_int_t i;

	if (!json_is_integer(v)) {
		s->ds += json_real_value(v);
		s->ints = 0;
		return;
	}
	i = json_integer_value(v);
	s->ds += (double)i;
	if (s->ints && __builtin_add_overflow(s->is, i, &s->is))
		s->ints = 0;
}
json_t	*jp_sum_value(const struct jp_sum *);	/* a new reference */
/*
 * Adds the sum in as the value jp_sum_value(in) would be, without making
 * it; 0 (nothing added) when that value is not a number.
 */
int	 jp_sum_add_sum(struct jp_sum *, const struct jp_sum *in);
/* The built-in sum(), which sum([...]) nodes are evaluated without. */
const struct jp_func *jp_func_sum(void);
json_t	*jp_f_parse_yaml(struct jp_call *);	/* kyaml.c */
json_t	*jp_f_semver_compare(struct jp_call *);	/* semver.c */

/* The Kyverno tables of each file. */
const struct jp_func	*jp_kstr_table(size_t *);
const struct jp_func	*jp_karith_table(size_t *);
const struct jp_func	*jp_ktime_table(size_t *);
const struct jp_func	*jp_kregex_table(size_t *);
const struct jp_func	*jp_kmisc_table(size_t *);

#endif /* JP_INT_H */
