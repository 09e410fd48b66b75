/*
 * The JMESPath parser: a Pratt (top-down operator precedence) parser with
 * the binding powers of the reference implementation, so every expression
 * of the compliance suite gets the same tree the reference builds.
 *
 * Nodes, names and child arrays are bump-allocated from an arena owned by
 * the compiled expression; a syntax error unwinds with longjmp, which is
 * safe because nothing allocated so far is outside the arena or the
 * expression's list of owned JSON values.  Functions are resolved and
 * their arity checked here, so a misspelt name is reported before any
 * data is seen.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jp/jp_int.h"
#include "util/util.h"

struct blk {
	struct blk	*next;
	size_t		 used, cap;
	max_align_t	 data[];
};

struct parser {
	struct jp_token	*t;
	size_t		 n, i;
	struct jp_expr	*e;
	struct jp_error	*err;
	int		 depth;
	struct jp_node	**stk;		/* children being collected */
	size_t		 nstk, stkcap;
	json_t		**kstk;		/* keys being collected (borrowed) */
	size_t		 nkstk, kstkcap;
	jmp_buf		 jb;
};

/* Left binding powers of the reference implementation. */
static const int lbp[T_NTOKENS] = {
	[T_PIPE] = 1, [T_OR] = 2, [T_AND] = 3,
	[T_EQ] = 5, [T_NE] = 5, [T_LT] = 5, [T_LE] = 5, [T_GT] = 5,
	[T_GE] = 5, [T_FLATTEN] = 9, [T_STAR] = 20, [T_FILTER] = 21,
	[T_DOT] = 40, [T_NOT] = 45, [T_LBRACE] = 50, [T_LBRACKET] = 55,
	[T_LPAREN] = 60,
};

static struct jp_node	*expression(struct parser *, int);

static void *
arena_alloc(struct jp_expr *e, size_t n)
{
	struct blk *b = e->blocks;
	size_t cap;
	void *p;

	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (b == NULL || b->cap - b->used < n) {
		cap = n > 8192 ? n : 8192;
		b = xmalloc(sizeof *b + cap);
		b->used = 0;
		b->cap = cap;
		b->next = e->blocks;
		e->blocks = b;
	}
	p = (char *)b->data + b->used;
	b->used += n;
	memset(p, 0, n);
	return p;
}

static void
own(struct jp_expr *e, json_t *v)
{
	xgrow(&e->owned, &e->owncap, e->nowned + 1, sizeof *e->owned);
	e->owned[e->nowned++] = v;
}

static _Noreturn void
perr(struct parser *p, int pos, enum jp_errkind kind, const char *fmt, ...)
{
	va_list ap;

	p->err->kind = kind;
	p->err->pos = pos;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof p->err->msg, fmt, ap);
	va_end(ap);
	longjmp(p->jb, 1);
}

static struct jp_token *
cur(struct parser *p)
{
	return &p->t[p->i];
}

static enum jp_tok
peek(struct parser *p, size_t k)
{
	return p->i + k < p->n ? p->t[p->i + k].type : T_EOF;
}

static struct jp_token *
advance(struct parser *p)
{
	struct jp_token *t = &p->t[p->i];

	if (p->i + 1 < p->n)
		p->i++;
	return t;
}

static _Noreturn void
unexpected(struct parser *p, const struct jp_token *t, const char *want)
{
	if (want)
		perr(p, t->pos, JP_ERR_SYNTAX, "expected %s, found %s", want,
		    jp_tok_name(t->type));
	perr(p, t->pos, JP_ERR_SYNTAX, "unexpected %s", jp_tok_name(t->type));
}

static void
match(struct parser *p, enum jp_tok type)
{
	if (cur(p)->type != type)
		unexpected(p, cur(p), jp_tok_name(type));
	advance(p);
}

static struct jp_node *
node(struct parser *p, enum jp_ntype type, int pos)
{
	struct jp_node *n = arena_alloc(p->e, sizeof *n);

	n->type = type;
	n->pos = pos;
	n->borrow = type == N_FIELD || type == N_CURRENT ||
	    type == N_LITERAL || type == N_INDEX;
	return n;
}

static struct jp_node *
binary(struct parser *p, enum jp_ntype type, int pos, struct jp_node *l,
    struct jp_node *r)
{
	struct jp_node *n = node(p, type, pos);

	n->l = l;
	n->r = r;
	n->cost = l->cost + (r ? r->cost : 0) + (type == N_OR ||
	    type == N_AND || type == N_NOT || type == N_CMP);
	switch (type) {
	case N_SUBEXPR:
	case N_PIPE:
	case N_OR:
	case N_AND:
	case N_CMP:
		n->borrow = l->borrow && r->borrow;
		break;
	case N_NOT:
		n->borrow = l->borrow;
		break;
	default:
		break;
	}
	return n;
}

static struct jp_node *
field(struct parser *p, int pos, const char *s, size_t len)
{
	struct jp_node *n = node(p, N_FIELD, pos);
	char *name = arena_alloc(p->e, len + 1);

	memcpy(name, s, len);
	n->name = name;
	n->namelen = len;
	n->hash = jp_key_hash(s, len);
	n->head = jp_key_head(s, len);
	return n;
}

static struct jp_node *
dot_rhs(struct parser *p, int rbp);

static struct jp_node *
projection_rhs(struct parser *p, int rbp)
{
	enum jp_tok t = cur(p)->type;

	if (lbp[t] < 10)
		return node(p, N_CURRENT, cur(p)->pos);
	if (t == T_LBRACKET || t == T_FILTER)
		return expression(p, rbp);
	if (t == T_DOT) {
		advance(p);
		return dot_rhs(p, rbp);
	}
	unexpected(p, cur(p), NULL);
}

static void
push_kid(struct parser *p, struct jp_node *n)
{
	xgrow(&p->stk, &p->stkcap, p->nstk + 1, sizeof *p->stk);
	p->stk[p->nstk++] = n;
}

/* Moves the children collected since base into n, in the arena. */
static void
pop_kids(struct parser *p, struct jp_node *n, size_t base)
{
	size_t k = p->nstk - base;

	n->kids = arena_alloc(p->e, (k ? k : 1) * sizeof *n->kids);
	if (k)
		memcpy(n->kids, p->stk + base, k * sizeof *n->kids);
	n->nkids = k;
	p->nstk = base;
}

static struct jp_node *
multi_list(struct parser *p, int pos)
{
	struct jp_node *n;
	size_t base = p->nstk;

	for (;;) {
		push_kid(p, expression(p, 0));
		if (cur(p)->type == T_RBRACKET)
			break;
		if (cur(p)->type != T_COMMA)
			unexpected(p, cur(p), "',' or ']'");
		advance(p);
	}
	advance(p);
	n = node(p, N_MSLIST, pos);
	pop_kids(p, n, base);
	return n;
}

static struct jp_node *
multi_hash(struct parser *p, int pos)
{
	struct jp_node *n;
	struct jp_token *t;
	json_t *key;
	size_t base = p->nstk, kbase = p->nkstk, k;

	for (;;) {
		t = cur(p);
		if (t->type != T_UID && t->type != T_QID)
			unexpected(p, t, "a key");
		advance(p);
		if (t->type == T_UID)
			key = json_stringn(p->e->src + t->pos, (size_t)t->len);
		else
			key = json_incref(t->val);
		own(p->e, key);
		xgrow(&p->kstk, &p->kstkcap, p->nkstk + 1, sizeof *p->kstk);
		p->kstk[p->nkstk++] = key;
		match(p, T_COLON);
		push_kid(p, expression(p, 0));
		if (cur(p)->type == T_RBRACE)
			break;
		if (cur(p)->type != T_COMMA)
			unexpected(p, cur(p), "',' or '}'");
		advance(p);
	}
	advance(p);
	n = node(p, N_MSHASH, pos);
	pop_kids(p, n, base);
	k = p->nkstk - kbase;
	n->keys = arena_alloc(p->e, k * sizeof *n->keys);
	memcpy(n->keys, p->kstk + kbase, k * sizeof *n->keys);
	p->nkstk = kbase;
	return n;
}

static struct jp_node *
dot_rhs(struct parser *p, int rbp)
{
	struct jp_token *t = cur(p);

	switch (t->type) {
	case T_UID:
	case T_QID:
	case T_STAR:
		return expression(p, rbp);
	case T_LBRACKET:
		advance(p);
		return multi_list(p, t->pos);
	case T_LBRACE:
		advance(p);
		return multi_hash(p, t->pos);
	default:
		unexpected(p, t, "an identifier, '*', '[' or '{' after '.'");
	}
}

static struct jp_node *
slice(struct parser *p, int pos)
{
	struct jp_node *n = node(p, N_SLICE, pos);
	int part = 0;

	while (cur(p)->type != T_RBRACKET) {
		if (cur(p)->type == T_COLON) {
			if (++part == 3)
				unexpected(p, cur(p), "']'");
		} else if (cur(p)->type == T_NUMBER && !n->slset[part]) {
			n->sl[part] = cur(p)->num;
			n->slset[part] = 1;
		} else
			unexpected(p, cur(p), "a number, ':' or ']'");
		advance(p);
	}
	advance(p);
	if (n->slset[2] && n->sl[2] == 0)
		perr(p, pos, JP_ERR_VALUE, "slice step cannot be 0");
	return n;
}

/* After '[' when a number or ':' follows: an index or a slice. */
static struct jp_node *
index_expr(struct parser *p, int pos)
{
	struct jp_node *n;

	if (cur(p)->type == T_COLON || peek(p, 1) == T_COLON)
		return slice(p, pos);
	n = node(p, N_INDEX, pos);
	n->idx = cur(p)->num;
	match(p, T_NUMBER);
	match(p, T_RBRACKET);
	return n;
}

static struct jp_node *
project_if_slice(struct parser *p, struct jp_node *left, struct jp_node *r)
{
	struct jp_node *ix = binary(p, N_SUBEXPR, r->pos, left, r);

	if (r->type != N_SLICE)
		return ix;
	return binary(p, N_PROJECT, r->pos, ix,
	    projection_rhs(p, lbp[T_STAR]));
}

static struct jp_node *
filter(struct parser *p, int pos, struct jp_node *left)
{
	struct jp_node *n = node(p, N_FILTER, pos);

	n->l = left;
	n->cond = expression(p, 0);
	match(p, T_RBRACKET);
	if (cur(p)->type == T_FLATTEN)
		n->r = node(p, N_CURRENT, cur(p)->pos);
	else
		n->r = projection_rhs(p, lbp[T_FILTER]);
	return n;
}

static struct jp_node *
flatten(struct parser *p, int pos, struct jp_node *left)
{
	struct jp_node *f = node(p, N_FLATTEN, pos);

	f->l = left;
	return binary(p, N_PROJECT, pos, f, projection_rhs(p, lbp[T_FLATTEN]));
}

static struct jp_node *
nud(struct parser *p, struct jp_token *t)
{
	struct jp_node *n;

	switch (t->type) {
	case T_LITERAL:
	case T_RAW:
		n = node(p, N_LITERAL, t->pos);
		n->lit = t->val;
		t->val = NULL;
		own(p->e, n->lit);
		return n;
	case T_UID:
		return field(p, t->pos, p->e->src + t->pos, (size_t)t->len);
	case T_QID:
		if (cur(p)->type == T_LPAREN)
			perr(p, t->pos, JP_ERR_SYNTAX,
			    "a quoted identifier cannot name a function");
		n = field(p, t->pos, json_string_value(t->val),
		    json_string_length(t->val));
		n->op = 1;	/* quoted: never a function name */
		return n;
	case T_STAR:
		return binary(p, N_VPROJECT, t->pos,
		    node(p, N_CURRENT, t->pos),
		    projection_rhs(p, lbp[T_STAR]));
	case T_FILTER:
		return filter(p, t->pos, node(p, N_CURRENT, t->pos));
	case T_LBRACE:
		return multi_hash(p, t->pos);
	case T_LPAREN:
		n = expression(p, 0);
		match(p, T_RPAREN);
		return n;
	case T_FLATTEN:
		return flatten(p, t->pos, node(p, N_CURRENT, t->pos));
	case T_NOT:
		return binary(p, N_NOT, t->pos, expression(p, lbp[T_NOT]),
		    NULL);
	case T_LBRACKET:
		if (cur(p)->type == T_NUMBER || cur(p)->type == T_COLON)
			return project_if_slice(p, node(p, N_CURRENT, t->pos),
			    index_expr(p, t->pos));
		if (cur(p)->type == T_STAR && peek(p, 1) == T_RBRACKET) {
			advance(p);
			advance(p);
			return binary(p, N_PROJECT, t->pos,
			    node(p, N_CURRENT, t->pos),
			    projection_rhs(p, lbp[T_STAR]));
		}
		return multi_list(p, t->pos);
	case T_AT:
		return node(p, N_CURRENT, t->pos);
	case T_EXPREF:
		return binary(p, N_EXPREF, t->pos, expression(p, 0), NULL);
	default:
		unexpected(p, t, NULL);
	}
}

static void
resolve(struct parser *p, struct jp_node *n)
{
	const char *names[160], *hint, *why;
	size_t k;
	char name[65];

	n->fn = jp_func_find(n->name, n->namelen);
	if (n->fn == NULL)
		n->fn = jp_kyverno_find(n->name, n->namelen);
	if (n->fn == NULL) {
		snprintf(name, sizeof name, "%.*s", n->namelen > 64 ? 64 :
		    (int)n->namelen, n->name);
		why = jp_kyverno_unsupported(n->name, n->namelen);
		if (why) {
			perr(p, n->pos, JP_ERR_UNKNOWN_FUNCTION,
			    "function %.64s() is a Kyverno function that is "
			    "not supported: %s", name, why);
		}
		k = jp_func_names(names, UTIL_ARRAY_LEN(names));
		hint = util_suggest(name, names, k);
		if (hint)
			perr(p, n->pos, JP_ERR_UNKNOWN_FUNCTION,
			    "unknown function %.64s() (did you mean %s()?)",
			    name, hint);
		perr(p, n->pos, JP_ERR_UNKNOWN_FUNCTION,
		    "unknown function %.64s()", name);
	}
	if (n->fn->exact && (int)n->nkids != n->fn->min &&
	    (int)n->nkids != n->fn->max)
		perr(p, n->pos, JP_ERR_ARITY, "%s() takes %d or %d arguments, "
		    "got %zu", n->fn->name, n->fn->min, n->fn->max, n->nkids);
	if ((int)n->nkids < n->fn->min ||
	    (n->fn->max >= 0 && (int)n->nkids > n->fn->max) ||
	    n->nkids > JP_MAX_ARGS) {
		if (n->fn->max < 0)
			perr(p, n->pos, JP_ERR_ARITY, "%s() takes at least %d "
			    "argument%s, got %zu", n->fn->name, n->fn->min,
			    n->fn->min == 1 ? "" : "s", n->nkids);
		if (n->fn->min == n->fn->max)
			perr(p, n->pos, JP_ERR_ARITY, "%s() takes %d "
			    "argument%s, got %zu", n->fn->name, n->fn->min,
			    n->fn->min == 1 ? "" : "s", n->nkids);
		perr(p, n->pos, JP_ERR_ARITY, "%s() takes %d to %d "
		    "arguments, got %zu", n->fn->name, n->fn->min,
		    n->fn->max, n->nkids);
	}
}

/*
 * lookup(kind, ns, name, 'path'): a literal path is compiled once, here,
 * so a mistake in it is a compile error and evaluation does not parse.
 */
static void
lookup_path(struct parser *p, struct jp_node *n)
{
	struct jp_node *a = n->kids[3];
	struct jp_error err;
	struct jp_expr *sub;

	if (a->type != N_LITERAL || !json_is_string(a->lit))
		return;
	if ((sub = jp_compile(json_string_value(a->lit), &err)) == NULL)
		perr(p, a->pos, err.kind, "lookup() argument 4: %s", err.msg);
	xgrow(&p->e->subs, &p->e->subcap, p->e->nsubs + 1,
	    sizeof *p->e->subs);
	p->e->subs[p->e->nsubs++] = sub;
	n->sub = sub;
}

/*
 * regex_match('PATTERN', ...) and the replace functions: a literal
 * pattern is tried now, by the function that will evaluate it, so a
 * pattern it can never run (an escape it does not support) is a compile
 * error that `check` reports, not a failure at the first decision.
 */
static void
regex_literal(struct parser *p, struct jp_node *n)
{
	struct jp_node *a = n->kids[0];
	struct jp_error err;
	struct jp_ctx c;
	struct jp_call k;
	json_t *r;
	size_t i;

	if (strncmp(n->fn->name, "regex_", 6) != 0 || n->nkids < 2 ||
	    n->nkids > JP_MAX_ARGS || a->type != N_LITERAL ||
	    !json_is_string(a->lit))
		return;
	memset(&err, 0, sizeof err);
	memset(&c, 0, sizeof c);
	memset(&k, 0, sizeof k);
	c.err = &err;
	k.c = &c;
	k.node = n;
	k.nargs = (int)n->nkids;
	k.args[0] = a->lit;
	for (i = 1; i < n->nkids; i++)
		k.args[i] = json_string("");
	r = n->fn->fn(&k);
	for (i = 1; i < n->nkids; i++)
		json_decref(k.args[i]);
	json_decref(r);
	if (r == NULL && err.kind == JP_ERR_VALUE)
		perr(p, a->pos, err.kind, "%s", err.msg);
}

static struct jp_node *
function(struct parser *p, struct jp_token *t, struct jp_node *left)
{
	struct jp_node *n;
	size_t base = p->nstk;

	if (left->type != N_FIELD || left->op)
		perr(p, t->pos, JP_ERR_SYNTAX,
		    "only a plain identifier can name a function");
	if (cur(p)->type == T_RPAREN)
		advance(p);
	else {
		for (;;) {
			push_kid(p, expression(p, 0));
			if (cur(p)->type == T_RPAREN)
				break;
			if (cur(p)->type != T_COMMA)
				unexpected(p, cur(p), "',' or ')'");
			advance(p);
		}
		advance(p);
	}
	n = node(p, N_FUNC, left->pos);
	n->name = left->name;
	n->namelen = left->namelen;
	pop_kids(p, n, base);
	resolve(p, n);
	n->sumlist = n->fn == jp_func_sum() && n->nkids == 1 &&
	    n->kids[0]->type == N_MSLIST;
	if (strcmp(n->fn->name, "lookup") == 0 && n->nkids == 4)
		lookup_path(p, n);
	regex_literal(p, n);
	return n;
}

static struct jp_node *
led(struct parser *p, struct jp_token *t, struct jp_node *left)
{
	struct jp_node *n;

	switch (t->type) {
	case T_DOT:
		if (cur(p)->type != T_STAR)
			return binary(p, N_SUBEXPR, t->pos, left,
			    dot_rhs(p, lbp[T_DOT]));
		advance(p);
		return binary(p, N_VPROJECT, t->pos, left,
		    projection_rhs(p, lbp[T_DOT]));
	case T_PIPE:
		return binary(p, N_PIPE, t->pos, left,
		    expression(p, lbp[T_PIPE]));
	case T_OR:
		return binary(p, N_OR, t->pos, left, expression(p, lbp[T_OR]));
	case T_AND:
		return binary(p, N_AND, t->pos, left,
		    expression(p, lbp[T_AND]));
	case T_LPAREN:
		return function(p, t, left);
	case T_FILTER:
		return filter(p, t->pos, left);
	case T_FLATTEN:
		return flatten(p, t->pos, left);
	case T_EQ: case T_NE: case T_LT: case T_LE: case T_GT: case T_GE:
		n = binary(p, N_CMP, t->pos, left, expression(p, lbp[t->type]));
		n->op = t->type == T_EQ ? CMP_EQ : t->type == T_NE ? CMP_NE :
		    t->type == T_LT ? CMP_LT : t->type == T_LE ? CMP_LE :
		    t->type == T_GT ? CMP_GT : CMP_GE;
		return n;
	case T_LBRACKET:
		if (cur(p)->type == T_NUMBER || cur(p)->type == T_COLON)
			return project_if_slice(p, left,
			    index_expr(p, t->pos));
		match(p, T_STAR);
		match(p, T_RBRACKET);
		return binary(p, N_PROJECT, t->pos, left,
		    projection_rhs(p, lbp[T_STAR]));
	default:
		unexpected(p, t, NULL);
	}
}

static struct jp_node *
expression(struct parser *p, int rbp)
{
	struct jp_node *left;
	struct jp_token *t;

	if (++p->depth > JP_MAX_DEPTH)
		perr(p, cur(p)->pos, JP_ERR_LIMIT,
		    "expression nested deeper than %d", JP_MAX_DEPTH);
	t = advance(p);
	left = nud(p, t);
	while (rbp < lbp[cur(p)->type]) {
		t = advance(p);
		left = led(p, t, left);
	}
	p->depth--;
	return left;
}

static void
parser_free(struct parser *p)
{
	jp_lex_free(p->t, p->n);
	free(p->stk);
	free(p->kstk);
	free(p);
}

/*
 * Whether n continues a chain of kind: . and | for N_SUBEXPR (a path),
 * or the same one of || and && (each is associative: the first operand
 * that decides, or the last), of pure selections only.
 */
static int
is_chain(const struct jp_node *n, enum jp_ntype kind)
{
	if (!n->borrow)
		return 0;
	if (kind == N_SUBEXPR)
		return n->type == N_SUBEXPR || n->type == N_PIPE;
	return n->type == kind;
}

/*
 * The number of steps of the chain n.  Loops down the left spine, which is
 * as long as the expression; recurses only into right operands that are
 * chains themselves (a | (b.c)), which only parentheses make, so the
 * parser's JP_MAX_DEPTH bounds that.
 */
static size_t
chain_len(const struct jp_node *n, enum jp_ntype kind)
{
	size_t k = 0;

	for (; is_chain(n, kind); n = n->l)
		k += is_chain(n->r, kind) ? chain_len(n->r, kind) : 1;
	return k + 1;
}

/*
 * Writes the steps of the chain n, in evaluation order, to end before
 * end; returns where they begin.
 */
static const struct jp_node **
chain_fill(const struct jp_node *n, enum jp_ntype kind,
    const struct jp_node **end)
{
	for (; is_chain(n, kind); n = n->l) {
		if (is_chain(n->r, kind))
			end = chain_fill(n->r, kind, end);
		else
			*--end = n->r;
	}
	*--end = n;
	return end;
}

/*
 * Takes the @ steps out of path n (@ is the value it is given: a.@.b is
 * a.b, and a filter's @.name becomes a chain of fields), keeping one
 * step at least.
 */
static void
drop_current(struct jp_node *n)
{
	size_t i, k = 0;

	for (i = 0; i < n->npath; i++)
		if (n->path[i]->type != N_CURRENT)
			n->path[k++] = n->path[i];
	if (k == 0)
		k = 1;	/* @ | @: the first @ is still there */
	n->npath = k;
}

/*
 * Gives every maximal chain of pure selections, and of || or && over
 * them, its flat list of steps (jp_node.path), and visits the rest of
 * the tree for more.  Loops down left spines, which are as long as the
 * expression, and recurses only where the parser did (right operands,
 * arguments), which JP_MAX_DEPTH bounds.
 */
static void
prep_paths(struct jp_expr *e, struct jp_node *n)
{
	enum jp_ntype kind;
	size_t i;

	while (n != NULL) {
		kind = n->type == N_PIPE ? N_SUBEXPR : n->type;
		if ((kind == N_SUBEXPR || kind == N_OR || kind == N_AND) &&
		    is_chain(n, kind)) {
			n->npath = chain_len(n, kind);
			n->path = arena_alloc(e, n->npath * sizeof *n->path);
			chain_fill(n, kind, n->path + n->npath);
			if (kind == N_SUBEXPR)
				drop_current(n);
			n->fields = kind == N_SUBEXPR;
			for (i = 0; i < n->npath; i++)
				if (n->path[i]->type != N_FIELD)
					n->fields = 0;
			for (i = 0; i < n->npath; i++)
				if (n->path[i]->l != NULL)
					prep_paths(e, (struct jp_node *)
					    (uintptr_t)n->path[i]);
			return;
		}
		for (i = 0; i < n->nkids; i++)
			prep_paths(e, n->kids[i]);
		prep_paths(e, n->cond);
		prep_paths(e, n->r);
		n = n->l;
	}
}

struct jp_expr *
jp_compile(const char *src, struct jp_error *err)
{
	struct jp_error dummy;
	struct parser *p;
	struct jp_expr *e;
	size_t len = strlen(src);

	if (err == NULL)
		err = &dummy;
	err->kind = JP_OK;
	err->pos = -1;
	err->msg[0] = '\0';
	if (len > JP_MAX_EXPR) {
		err->kind = JP_ERR_LIMIT;
		snprintf(err->msg, sizeof err->msg,
		    "expression is %zu bytes, longer than the limit of %d",
		    len, JP_MAX_EXPR);
		return NULL;
	}
	/* On the heap: longjmp must find it as it was left. */
	p = xcalloc(1, sizeof *p);
	if ((p->t = jp_lex(src, len, &p->n, err)) == NULL) {
		parser_free(p);
		return NULL;
	}
	e = xcalloc(1, sizeof *e);
	e->src = xstrdup(src);
	p->e = e;
	p->err = err;
	if (setjmp(p->jb)) {
		parser_free(p);
		jp_free(e);
		return NULL;
	}
	e->root = expression(p, 0);
	if (cur(p)->type != T_EOF)
		unexpected(p, cur(p), NULL);
	parser_free(p);
	prep_paths(e, e->root);
	return e;
}

void
jp_free(struct jp_expr *e)
{
	struct blk *b, *next;
	size_t i;

	if (e == NULL)
		return;
	for (b = e->blocks; b; b = next) {
		next = b->next;
		free(b);
	}
	for (i = 0; i < e->nowned; i++)
		json_decref(e->owned[i]);
	free(e->owned);
	for (i = 0; i < e->nsubs; i++)
		jp_free(e->subs[i]);
	free(e->subs);
	free(e->src);
	free(e);
}

const char *
jp_source(const struct jp_expr *e)
{
	return e->src;
}

const struct jp_node *
jp_root(const struct jp_expr *e)
{
	return e->root;
}
