/*
 * Expressions of `exprs` filters, as Knetic/govaluate reads them.
 *
 * Values are nil, bool, float64, string, and the JSON objects and arrays
 * a field may hold.  Operators, lowest precedence first:
 *
 *   ?:  ??                 ternary, nil coalescence
 *   ||                     bools only, short-circuit
 *   &&                     bools only, short-circuit
 *   == != > >= < <= =~ !~ in
 *   & | ^                  on integers (float64 truncated, as govaluate)
 *   << >>
 *   + -                    + concatenates when either side is a string
 *   * / %
 *   **
 *   - ! ~                  prefixes
 *
 * Literals: numbers (float64, 0x hex), 'single' or "double" quoted
 * strings, true, false; ( ) groups; (a, b, c) is an array for `in`.
 * Parameters are the filter's `fields` names; [name with spaces] and
 * backslash escapes name odd ones.  == compares type and value (1 ==
 * "1" is false, as reflect.DeepEqual); > < >= <= take two numbers or two
 * strings; =~ and !~ are unanchored RE2 matches.
 *
 * Not reproduced: govaluate turns string literals that look like dates
 * into numbers; here a string stays a string.  Functions and accessors
 * are not available to Argo users either.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/sensor_int.h"

#define MAX_DEPTH	64

enum eop { E_LIT, E_PARAM, E_LIST, E_NEG, E_NOT, E_BNOT, E_ADD, E_SUB,
    E_MUL, E_DIV, E_MOD, E_POW, E_BAND, E_BOR, E_BXOR, E_SHL, E_SHR, E_EQ,
    E_NE, E_LT, E_LE, E_GT, E_GE, E_RE, E_NRE, E_IN, E_AND, E_OR, E_TERN,
    E_COAL };

static const char *const opname[] = { "", "", "", "-", "!", "~", "+", "-",
    "*", "/", "%", "**", "&", "|", "^", "<<", ">>", "==", "!=", "<", "<=",
    ">", ">=", "=~", "!~", "in", "&&", "||", "?", "??" };

enum evk { EV_NIL, EV_BOOL, EV_NUM, EV_STR, EV_JSON };

struct eval {
	enum evk	 k;
	int		 b;
	double		 n;
	const char	*s;
	size_t		 len;
	json_t		*j;
};

struct enode {
	enum eop	 op;
	size_t		 pos;
	struct enode	*a, *b, *c;
	struct enode	**items;	/* E_LIST */
	size_t		 nitems;
	struct eval	 lit;		/* E_LIT; strings point into str */
	char		*str;		/* owned */
	size_t		 param;		/* E_PARAM */
	struct re2	*re;		/* owned; E_RE/E_NRE with a literal */
};

struct sensor_expr {
	struct enode	*root;
	char		*src;
};

/* ---- lexing and parsing -------------------------------------------------- */

enum etok { T_END, T_NUM, T_STR, T_IDENT, T_BOOL, T_OP, T_LP, T_RP,
    T_COMMA };

struct etok_s {
	enum etok	 k;
	size_t		 pos;
	const char	*op;		/* T_OP: from the table */
	char		*text;		/* owned: T_STR, T_IDENT */
	double		 num;
	int		 b;
};

struct eparser {
	const char		*src;
	size_t			 i;
	struct etok_s		 tok;
	const char *const	*names;
	size_t			 nnames;
	char			*err;
	int			 depth;
};

static const char *const ops[] = { "**", "==", "!=", ">=", "<=", "=~",
    "!~", "&&", "||", "??", "<<", ">>", "+", "-", "*", "/", "%", ">", "<",
    "!", "~", "&", "|", "^", "?", ":" };

static int UTIL_PRINTF(3, 4)
eperr(struct eparser *ep, size_t pos, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (ep->err)
		return -1;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	ep->err = xasprintf("column %zu: %s", pos + 1, msg);
	free(msg);
	return -1;
}

static int
lex(struct eparser *ep)
{
	const char *s = ep->src;
	struct buf b;
	size_t i, start;
	char q, *end;

	free(ep->tok.text);
	memset(&ep->tok, 0, sizeof ep->tok);
	while (isspace((unsigned char)s[ep->i]))
		ep->i++;
	start = ep->tok.pos = ep->i;
	if (s[start] == '\0')
		return 0;
	if (isdigit((unsigned char)s[start]) || (s[start] == '.' &&
	    isdigit((unsigned char)s[start + 1]))) {
		if (s[start] == '0' && (s[start + 1] == 'x' ||
		    s[start + 1] == 'X'))
			ep->tok.num = (double)strtoull(s + start, &end, 16);
		else
			ep->tok.num = strtod(s + start, &end);
		ep->i = (size_t)(end - s);
		ep->tok.k = T_NUM;
		return 0;
	}
	if (s[start] == '"' || s[start] == '\'') {
		q = s[start];
		buf_init(&b, 0);
		for (i = start + 1; s[i] && s[i] != q; i++) {
			if (s[i] == '\\' && s[i + 1]) {
				i++;
				buf_addc(&b, s[i] == 'n' ? '\n' : s[i] == 't' ?
				    '\t' : s[i]);
			} else
				buf_addc(&b, s[i]);
		}
		if (s[i] != q) {
			buf_free(&b);
			return eperr(ep, start, "unclosed string literal");
		}
		ep->i = i + 1;
		ep->tok.k = T_STR;
		ep->tok.num = (double)b.len;
		ep->tok.text = buf_steal(&b);
		return 0;
	}
	if (s[start] == '[') {
		for (i = start + 1; s[i] && s[i] != ']'; i++)
			;
		if (s[i] != ']')
			return eperr(ep, start, "unclosed parameter bracket");
		ep->tok.k = T_IDENT;
		ep->tok.text = xstrndup(s + start + 1, i - start - 1);
		ep->i = i + 1;
		return 0;
	}
	if (isalpha((unsigned char)s[start]) || s[start] == '_' ||
	    s[start] == '\\') {
		buf_init(&b, 0);
		for (i = start; isalnum((unsigned char)s[i]) || s[i] == '_' ||
		    s[i] == '.' || s[i] == '\\'; i++) {
			if (s[i] == '\\' && s[i + 1])
				i++;
			buf_addc(&b, s[i]);
		}
		ep->i = i;
		ep->tok.text = buf_steal(&b);
		if (strcmp(ep->tok.text, "true") == 0 ||
		    strcmp(ep->tok.text, "false") == 0) {
			ep->tok.k = T_BOOL;
			ep->tok.b = ep->tok.text[0] == 't';
		} else if (strcmp(ep->tok.text, "in") == 0) {
			ep->tok.k = T_OP;
			ep->tok.op = "in";
		} else
			ep->tok.k = T_IDENT;
		return 0;
	}
	if (s[start] == '(' || s[start] == ')' || s[start] == ',') {
		ep->tok.k = s[start] == '(' ? T_LP : s[start] == ')' ? T_RP :
		    T_COMMA;
		ep->i++;
		return 0;
	}
	for (i = 0; i < UTIL_ARRAY_LEN(ops); i++) {
		if (strncmp(s + start, ops[i], strlen(ops[i])) == 0) {
			ep->tok.k = T_OP;
			ep->tok.op = ops[i];
			ep->i += strlen(ops[i]);
			return 0;
		}
	}
	return eperr(ep, start, "unexpected character '%c'", s[start]);
}

static int
is_op(struct eparser *ep, const char *op)
{
	return ep->tok.k == T_OP && strcmp(ep->tok.op, op) == 0;
}

static void
free_node(struct enode *n)
{
	size_t i;

	if (n == NULL)
		return;
	free_node(n->a);
	free_node(n->b);
	free_node(n->c);
	for (i = 0; i < n->nitems; i++)
		free_node(n->items[i]);
	free(n->items);
	free(n->str);
	re2_free(n->re);
	free(n);
}

static struct enode *
mknode(enum eop op, size_t pos, struct enode *a, struct enode *b)
{
	struct enode *n = xcalloc(1, sizeof *n);

	n->op = op;
	n->pos = pos;
	n->a = a;
	n->b = b;
	return n;
}

static struct enode *parse_ternary(struct eparser *);

static struct enode *
parse_primary(struct eparser *ep)
{
	struct enode *n, *first;
	size_t i, pos = ep->tok.pos;

	switch (ep->tok.k) {
	case T_NUM:
		n = mknode(E_LIT, pos, NULL, NULL);
		n->lit.k = EV_NUM;
		n->lit.n = ep->tok.num;
		break;
	case T_STR:
		n = mknode(E_LIT, pos, NULL, NULL);
		n->lit.k = EV_STR;
		n->lit.len = (size_t)ep->tok.num;
		n->str = ep->tok.text;
		n->lit.s = n->str;
		ep->tok.text = NULL;
		break;
	case T_BOOL:
		n = mknode(E_LIT, pos, NULL, NULL);
		n->lit.k = EV_BOOL;
		n->lit.b = ep->tok.b;
		break;
	case T_IDENT:
		for (i = 0; i < ep->nnames; i++)
			if (strcmp(ep->names[i], ep->tok.text) == 0)
				break;
		if (i == ep->nnames) {
			const char *hint = util_suggest(ep->tok.text,
			    ep->names, ep->nnames);

			eperr(ep, pos, "no field named '%s'%s%s%s",
			    ep->tok.text, hint ? " (did you mean '" : "",
			    hint ? hint : "", hint ? "'?)" : "");
			return NULL;
		}
		n = mknode(E_PARAM, pos, NULL, NULL);
		n->param = i;
		break;
	case T_LP:
		if (++ep->depth > MAX_DEPTH) {
			eperr(ep, pos, "nested too deeply");
			return NULL;
		}
		if (lex(ep) == -1 || (first = parse_ternary(ep)) == NULL)
			return NULL;
		if (ep->tok.k == T_COMMA) {
			n = mknode(E_LIST, pos, NULL, NULL);
			n->items = xcalloc(1, sizeof *n->items);
			n->items[n->nitems++] = first;
			while (ep->tok.k == T_COMMA) {
				if (lex(ep) == -1 || (first =
				    parse_ternary(ep)) == NULL) {
					free_node(n);
					return NULL;
				}
				n->items = xrealloc(n->items, (n->nitems + 1) *
				    sizeof *n->items);
				n->items[n->nitems++] = first;
			}
		} else
			n = first;
		if (ep->tok.k != T_RP) {
			eperr(ep, ep->tok.pos, "missing ')'");
			free_node(n);
			return NULL;
		}
		ep->depth--;
		break;
	case T_END:
		eperr(ep, pos, "unexpected end of expression");
		return NULL;
	default:
		eperr(ep, pos, "unexpected '%s'", ep->tok.k == T_OP ?
		    ep->tok.op : ep->tok.k == T_RP ? ")" : ",");
		return NULL;
	}
	if (lex(ep) == -1) {
		free_node(n);
		return NULL;
	}
	return n;
}

static struct enode *
parse_prefix(struct eparser *ep)
{
	struct enode *a;
	enum eop op;
	size_t pos = ep->tok.pos;

	if (is_op(ep, "-") || is_op(ep, "!") || is_op(ep, "~")) {
		op = is_op(ep, "-") ? E_NEG : is_op(ep, "!") ? E_NOT : E_BNOT;
		if (++ep->depth > MAX_DEPTH) {
			eperr(ep, pos, "nested too deeply");
			return NULL;
		}
		if (lex(ep) == -1 || (a = parse_prefix(ep)) == NULL)
			return NULL;
		ep->depth--;
		return mknode(op, pos, a, NULL);
	}
	return parse_primary(ep);
}

/* One left-associative level: operators ops[i] map to eops[i]. */
static struct enode *
level(struct eparser *ep, struct enode *(*sub)(struct eparser *),
    const char *const *lops, const enum eop *eops, size_t n)
{
	struct enode *a, *b;
	size_t i, pos;

	if ((a = sub(ep)) == NULL)
		return NULL;
	for (;;) {
		for (i = 0; i < n; i++)
			if (is_op(ep, lops[i]))
				break;
		if (i == n)
			return a;
		pos = ep->tok.pos;
		if (lex(ep) == -1 || (b = sub(ep)) == NULL) {
			free_node(a);
			return NULL;
		}
		a = mknode(eops[i], pos, a, b);
	}
}

static struct enode *
parse_pow(struct eparser *ep)
{
	static const char *const o[] = { "**" };
	static const enum eop e[] = { E_POW };

	return level(ep, parse_prefix, o, e, 1);
}

static struct enode *
parse_mul(struct eparser *ep)
{
	static const char *const o[] = { "*", "/", "%" };
	static const enum eop e[] = { E_MUL, E_DIV, E_MOD };

	return level(ep, parse_pow, o, e, 3);
}

static struct enode *
parse_add(struct eparser *ep)
{
	static const char *const o[] = { "+", "-" };
	static const enum eop e[] = { E_ADD, E_SUB };

	return level(ep, parse_mul, o, e, 2);
}

static struct enode *
parse_shift(struct eparser *ep)
{
	static const char *const o[] = { "<<", ">>" };
	static const enum eop e[] = { E_SHL, E_SHR };

	return level(ep, parse_add, o, e, 2);
}

static struct enode *
parse_bit(struct eparser *ep)
{
	static const char *const o[] = { "&", "|", "^" };
	static const enum eop e[] = { E_BAND, E_BOR, E_BXOR };

	return level(ep, parse_shift, o, e, 3);
}

static struct enode *
parse_cmp(struct eparser *ep)
{
	static const char *const o[] = { "==", "!=", "<", "<=", ">", ">=",
	    "=~", "!~", "in" };
	static const enum eop e[] = { E_EQ, E_NE, E_LT, E_LE, E_GT, E_GE,
	    E_RE, E_NRE, E_IN };

	return level(ep, parse_bit, o, e, 9);
}

static struct enode *
parse_and(struct eparser *ep)
{
	static const char *const o[] = { "&&" };
	static const enum eop e[] = { E_AND };

	return level(ep, parse_cmp, o, e, 1);
}

static struct enode *
parse_or(struct eparser *ep)
{
	static const char *const o[] = { "||" };
	static const enum eop e[] = { E_OR };

	return level(ep, parse_and, o, e, 1);
}

static struct enode *
parse_coal(struct eparser *ep)
{
	static const char *const o[] = { "??" };
	static const enum eop e[] = { E_COAL };

	return level(ep, parse_or, o, e, 1);
}

static struct enode *
parse_ternary(struct eparser *ep)
{
	struct enode *c, *a, *b, *n;
	size_t pos;

	if ((c = parse_coal(ep)) == NULL)
		return NULL;
	if (!is_op(ep, "?"))
		return c;
	pos = ep->tok.pos;
	if (++ep->depth > MAX_DEPTH) {
		eperr(ep, pos, "nested too deeply");
		free_node(c);
		return NULL;
	}
	if (lex(ep) == -1 || (a = parse_ternary(ep)) == NULL) {
		free_node(c);
		return NULL;
	}
	if (!is_op(ep, ":")) {
		eperr(ep, ep->tok.pos, "missing ':' of '?'");
		free_node(c);
		free_node(a);
		return NULL;
	}
	if (lex(ep) == -1 || (b = parse_ternary(ep)) == NULL) {
		free_node(c);
		free_node(a);
		return NULL;
	}
	ep->depth--;
	n = mknode(E_TERN, pos, a, b);
	n->c = c;
	return n;
}

/* Compiles constant regexps once. */
static int
prepare(struct eparser *ep, struct enode *n)
{
	char *err;
	size_t i;

	if (n == NULL)
		return 0;
	if (prepare(ep, n->a) == -1 || prepare(ep, n->b) == -1 ||
	    prepare(ep, n->c) == -1)
		return -1;
	for (i = 0; i < n->nitems; i++)
		if (prepare(ep, n->items[i]) == -1)
			return -1;
	if ((n->op == E_RE || n->op == E_NRE) && n->b->op == E_LIT) {
		if (n->b->lit.k != EV_STR)
			return eperr(ep, n->pos, "the right side of %s must "
			    "be a string", opname[n->op]);
		n->re = re2_compile(n->b->lit.s, n->b->lit.len, SENSOR_RE2 |
		    RE2_NOSUB, SENSOR_MAX_PATTERN, &err);
		if (n->re == NULL) {
			eperr(ep, n->b->pos, "bad regexp: %s", err);
			free(err);
			return -1;
		}
	}
	return 0;
}

struct sensor_expr *
sensor_expr_compile(const char *src, const char *const *names, size_t nn,
    char **err)
{
	struct eparser ep;
	struct enode *root = NULL;
	struct sensor_expr *e;

	*err = NULL;
	memset(&ep, 0, sizeof ep);
	ep.src = src;
	ep.names = names;
	ep.nnames = nn;
	if (strlen(src) > SENSOR_MAX_PATTERN)
		eperr(&ep, 0, "expression too long");
	else if (lex(&ep) == 0 && (root = parse_ternary(&ep)) != NULL &&
	    ep.tok.k != T_END)
		eperr(&ep, ep.tok.pos, "unexpected '%s' after the expression",
		    ep.tok.k == T_OP ? ep.tok.op : ep.tok.k == T_RP ? ")" :
		    ep.tok.text ? ep.tok.text : "token");
	if (ep.err == NULL)
		prepare(&ep, root);
	free(ep.tok.text);
	if (ep.err) {
		free_node(root);
		*err = ep.err;
		return NULL;
	}
	e = xcalloc(1, sizeof *e);
	e->root = root;
	e->src = xstrdup(src);
	return e;
}

void
sensor_expr_free(struct sensor_expr *e)
{
	if (e == NULL)
		return;
	free_node(e->root);
	free(e->src);
	free(e);
}

/* ---- evaluation ---------------------------------------------------------- */

struct ectx {
	json_t *const	*vals;
	char		*err;
	char		**strs;
	size_t		 nstrs, cap;
	int		 depth;
};

static void
from_json(struct eval *v, json_t *j)
{
	memset(v, 0, sizeof *v);
	switch (j ? json_typeof(j) : JSON_NULL) {
	case JSON_TRUE:
	case JSON_FALSE:
		v->k = EV_BOOL;
		v->b = json_is_true(j);
		break;
	case JSON_INTEGER:
	case JSON_REAL:
		v->k = EV_NUM;
		v->n = json_number_value(j);
		break;
	case JSON_STRING:
		v->k = EV_STR;
		v->s = json_string_value(j);
		v->len = json_string_length(j);
		break;
	case JSON_OBJECT:
	case JSON_ARRAY:
		v->k = EV_JSON;
		v->j = j;
		break;
	default:
		v->k = EV_NIL;
	}
}

static void
show(struct buf *b, const struct eval *v)
{
	switch (v->k) {
	case EV_NIL:	buf_adds(b, "<nil>"); break;
	case EV_BOOL:	buf_adds(b, v->b ? "true" : "false"); break;
	case EV_NUM:	gofmt_float(b, v->n, GOFMT_V); break;
	case EV_STR:	buf_add(b, v->s, v->len); break;
	case EV_JSON:	gofmt_sprint(b, v->j); break;
	}
}

static int
efail(struct ectx *cx, const struct eval *v, const char *what,
    const char *op, const char *want)
{
	struct buf b;

	if (cx->err)
		return -1;
	buf_init(&b, 256);
	show(&b, v);
	cx->err = xasprintf("Value '%s' cannot be used with the %s '%s', it "
	    "is not a %s", b.data ? b.data : "", what, op, want);
	buf_free(&b);
	return -1;
}

static int
same(const struct eval *a, const struct eval *b)
{
	if (a->k != b->k)
		return 0;
	switch (a->k) {
	case EV_NIL:	return 1;
	case EV_BOOL:	return a->b == b->b;
	case EV_NUM:	return a->n == b->n;
	case EV_STR:	return a->len == b->len && memcmp(a->s, b->s, a->len)
			    == 0;
	case EV_JSON:	return gofmt_equal(a->j, b->j);
	}
	return 0;
}

static int ev(struct ectx *, const struct enode *, struct eval *);

static int
num2(struct ectx *cx, const struct enode *n, struct eval *x, struct eval *y,
    const char *what)
{
	if (ev(cx, n->a, x) == -1 || ev(cx, n->b, y) == -1)
		return -1;
	if (x->k != EV_NUM)
		return efail(cx, x, what, opname[n->op], "number");
	if (y->k != EV_NUM)
		return efail(cx, y, what, opname[n->op], "number");
	return 0;
}

static int
regex_op(struct ectx *cx, const struct enode *n, const struct eval *x,
    const struct eval *y)
{
	struct re2 *re = n->re;
	char *err;
	int m;

	if (x->k != EV_STR)
		return efail(cx, x, "comparator", opname[n->op], "string");
	if (y->k != EV_STR)
		return efail(cx, y, "comparator", opname[n->op], "string");
	if (re == NULL && (re = re2_compile(y->s, y->len, SENSOR_RE2 |
	    RE2_NOSUB, SENSOR_MAX_PATTERN, &err)) == NULL) {
		cx->err = xasprintf("bad regexp %.*s: %s", (int)y->len, y->s,
		    err);
		free(err);
		return -1;
	}
	m = re2_matches(re, x->s, x->len);
	if (re != n->re)
		re2_free(re);
	return m;
}

static int
in_op(struct ectx *cx, const struct enode *n, const struct eval *x,
    struct eval *out)
{
	struct eval y;
	size_t i;

	out->k = EV_BOOL;
	out->b = 0;
	if (n->b->op == E_LIST) {
		for (i = 0; i < n->b->nitems && !out->b; i++) {
			if (ev(cx, n->b->items[i], &y) == -1)
				return -1;
			out->b = same(x, &y);
		}
		return 0;
	}
	if (ev(cx, n->b, &y) == -1)
		return -1;
	if (y.k != EV_JSON || !json_is_array(y.j)) {
		if (n->b->op == E_LIT || y.k != EV_JSON) {
			/* a one-element list: (x) */
			out->b = same(x, &y);
			return 0;
		}
		return efail(cx, &y, "comparator", "in", "array");
	}
	for (i = 0; i < json_array_size(y.j) && !out->b; i++) {
		struct eval e;

		from_json(&e, json_array_get(y.j, i));
		out->b = same(x, &e);
	}
	return 0;
}

static int
ev(struct ectx *cx, const struct enode *n, struct eval *out)
{
	struct eval x, y;
	struct buf b;
	char *str;
	int c, rc = 0;

	memset(out, 0, sizeof *out);
	if (++cx->depth > MAX_DEPTH * 4) {
		cx->err = xstrdup("expression nested too deeply");
		return -1;
	}
	switch (n->op) {
	case E_LIT:
		*out = n->lit;
		break;
	case E_PARAM:
		from_json(out, cx->vals[n->param]);
		break;
	case E_LIST:
		rc = ev(cx, n->items[0], out);
		break;
	case E_NEG:
	case E_BNOT:
		if ((rc = ev(cx, n->a, &x)) == -1)
			break;
		if (x.k != EV_NUM) {
			rc = efail(cx, &x, "prefix", opname[n->op], "number");
			break;
		}
		out->k = EV_NUM;
		out->n = n->op == E_NEG ? -x.n : (double)~(int64_t)x.n;
		break;
	case E_NOT:
		if ((rc = ev(cx, n->a, &x)) == -1)
			break;
		if (x.k != EV_BOOL) {
			rc = efail(cx, &x, "prefix", "!", "bool");
			break;
		}
		out->k = EV_BOOL;
		out->b = !x.b;
		break;
	case E_ADD:
		if ((rc = ev(cx, n->a, &x)) == -1 || (rc = ev(cx, n->b, &y)) ==
		    -1)
			break;
		if (x.k == EV_NUM && y.k == EV_NUM) {
			out->k = EV_NUM;
			out->n = x.n + y.n;
		} else if (x.k == EV_STR || y.k == EV_STR) {
			buf_init(&b, SENSOR_MAX_OUTPUT);
			show(&b, &x);
			show(&b, &y);
			out->k = EV_STR;
			out->len = b.len;
			str = buf_steal(&b);
			xgrow(&cx->strs, &cx->cap, cx->nstrs + 1,
			    sizeof *cx->strs);
			cx->strs[cx->nstrs++] = str;
			out->s = str;
		} else
			rc = efail(cx, x.k == EV_NUM ? &y : &x, "modifier", "+",
			    "number");
		break;
	case E_SUB: case E_MUL: case E_DIV: case E_MOD: case E_POW:
	case E_BAND: case E_BOR: case E_BXOR: case E_SHL: case E_SHR:
		if ((rc = num2(cx, n, &x, &y, "modifier")) == -1)
			break;
		out->k = EV_NUM;
		switch (n->op) {
		case E_SUB:	out->n = x.n - y.n; break;
		case E_MUL:	out->n = x.n * y.n; break;
		case E_DIV:	out->n = x.n / y.n; break;
		case E_MOD:	out->n = fmod(x.n, y.n); break;
		case E_POW:	out->n = pow(x.n, y.n); break;
		case E_BAND:	out->n = (double)((int64_t)x.n & (int64_t)y.n);
				break;
		case E_BOR:	out->n = (double)((int64_t)x.n | (int64_t)y.n);
				break;
		case E_BXOR:	out->n = (double)((int64_t)x.n ^ (int64_t)y.n);
				break;
		case E_SHL:	out->n = (double)((uint64_t)(int64_t)x.n <<
				    ((uint64_t)y.n & 63));
				break;
		default:	out->n = (double)((int64_t)x.n >>
				    ((uint64_t)y.n & 63));
				break;
		}
		break;
	case E_EQ:
	case E_NE:
		if ((rc = ev(cx, n->a, &x)) == -1 || (rc = ev(cx, n->b, &y)) ==
		    -1)
			break;
		out->k = EV_BOOL;
		out->b = same(&x, &y) == (n->op == E_EQ);
		break;
	case E_LT: case E_LE: case E_GT: case E_GE:
		if ((rc = ev(cx, n->a, &x)) == -1 || (rc = ev(cx, n->b, &y)) ==
		    -1)
			break;
		if (x.k == EV_STR && y.k == EV_STR) {
			c = memcmp(x.s, y.s, x.len < y.len ? x.len : y.len);
			if (c == 0)
				c = x.len < y.len ? -1 : x.len > y.len;
		} else if (x.k == EV_NUM && y.k == EV_NUM) {
			c = x.n < y.n ? -1 : x.n > y.n ? 1 : 0;
			if (isnan(x.n) || isnan(y.n))
				c = 2;	/* nothing compares with NaN */
		} else {
			rc = efail(cx, x.k == EV_NUM || x.k == EV_STR ? &y : &x,
			    "comparator", opname[n->op], "number");
			break;
		}
		out->k = EV_BOOL;
		out->b = c == 2 ? 0 : n->op == E_LT ? c < 0 : n->op == E_LE ?
		    c <= 0 : n->op == E_GT ? c > 0 : c >= 0;
		break;
	case E_RE:
	case E_NRE:
		if ((rc = ev(cx, n->a, &x)) == -1 || (rc = ev(cx, n->b, &y)) ==
		    -1)
			break;
		if ((c = regex_op(cx, n, &x, &y)) == -1) {
			rc = -1;
			break;
		}
		out->k = EV_BOOL;
		out->b = n->op == E_RE ? c : !c;
		break;
	case E_IN:
		if ((rc = ev(cx, n->a, &x)) == -1)
			break;
		rc = in_op(cx, n, &x, out);
		break;
	case E_AND:
	case E_OR:
		if ((rc = ev(cx, n->a, &x)) == -1)
			break;
		if (x.k != EV_BOOL) {
			rc = efail(cx, &x, "logical operator", opname[n->op],
			    "bool");
			break;
		}
		out->k = EV_BOOL;
		if (x.b == (n->op == E_OR)) {
			out->b = x.b;	/* short-circuit */
			break;
		}
		if ((rc = ev(cx, n->b, &y)) == -1)
			break;
		if (y.k != EV_BOOL) {
			rc = efail(cx, &y, "logical operator", opname[n->op],
			    "bool");
			break;
		}
		out->b = y.b;
		break;
	case E_TERN:
		if ((rc = ev(cx, n->c, &x)) == -1)
			break;
		if (x.k != EV_BOOL) {
			rc = efail(cx, &x, "ternary operator", "?", "bool");
			break;
		}
		rc = ev(cx, x.b ? n->a : n->b, out);
		break;
	case E_COAL:
		if ((rc = ev(cx, n->a, &x)) == -1)
			break;
		if (x.k != EV_NIL)
			*out = x;
		else
			rc = ev(cx, n->b, out);
		break;
	}
	cx->depth--;
	return rc;
}

int
sensor_expr_eval(const struct sensor_expr *e, json_t *const *vals,
    char **err)
{
	struct ectx cx;
	struct eval v;
	size_t i;
	int rc;

	*err = NULL;
	memset(&cx, 0, sizeof cx);
	cx.vals = vals;
	rc = ev(&cx, e->root, &v);
	for (i = 0; i < cx.nstrs; i++)
		free(cx.strs[i]);
	free(cx.strs);
	if (rc == -1) {
		*err = cx.err ? cx.err : xstrdup("evaluation failed");
		return -1;
	}
	free(cx.err);
	return v.k == EV_BOOL && v.b;
}
