/*
 * Go's text/template, the part Argo Events users write: parameters'
 * dataTemplate/contextTemplate, data filters' template, and the
 * `{{ .Input... }}` extension inside a trigger's resource.
 *
 * Supported: text and actions with `{{-`/`-}}` trim markers and comments;
 * pipelines with `|`; field chains (.Input.a.b, $x.a, (pipe).a); variables
 * ($, $x := ..., $x = ...); string (interpreted and raw), character,
 * number, bool and nil constants; if / else if / else, range (arrays, maps
 * in key order, ints; with $i, $v :=; else; break; continue), with /
 * else with / else; the functions of tmplfn.c.  Not supported (refused at
 * compile time): define, template, block.
 *
 * Semantics follow Go with Argo's options (no missingkey option): a
 * missing key is the invalid value and prints "<no value>"; a field of
 * JSON null is an error ("nil pointer evaluating interface {}.x"); a
 * field of a string is an error.  Unknown functions and wrong argument
 * counts are compile-time errors (Go reports the first at parse time, the
 * second at execution).
 *
 * TMPL_INPUT mode is for the resource extension: an action that starts
 * with a name which is neither a template keyword nor a function, or with
 * `=`, belongs to another template language (Argo Workflows'
 * `{{workflow.parameters.pod}}`, `{{item}}`, `{{=expr}}`) and is copied
 * verbatim.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/tmpl_int.h"

#define MAX_DEPTH	64		/* nesting of parens and blocks */
#define MAX_ARGS	32		/* arguments of one call */
#define MAX_STEPS	1000000		/* range iterations per execution */
#define MAX_TEMPLATE	(256u << 10)	/* bytes of template text */

enum nkind { N_TEXT, N_ACTION, N_IF, N_RANGE, N_WITH, N_BREAK, N_CONTINUE };
enum akind { A_DOT, A_FIELD, A_VAR, A_FUNC, A_STR, A_INT, A_FLOAT, A_BOOL,
    A_NIL, A_PIPE };

struct node;
struct pipe;

struct list {
	struct node	**v;
	size_t		  n, cap;
};

struct arg {
	enum akind	 k;
	size_t		 pos;
	char		*name;		/* A_VAR, A_FUNC */
	const struct tfunc *fn;
	char		**chain;	/* field names */
	size_t		 nchain;
	char		*s;		/* A_STR, owned */
	size_t		 slen;
	int64_t		 i;
	double		 f;
	int		 b;
	struct pipe	*sub;
};

struct cmd {
	size_t		 pos;
	struct arg	*args;
	size_t		 nargs, cap;
};

struct pipe {
	size_t		 pos;
	int		 decl;		/* 0, 1 ":=", 2 "=" */
	char		*vars[2];
	int		 nvars;
	struct cmd	*cmds;
	size_t		 ncmds, cap;
};

struct node {
	enum nkind	 k;
	size_t		 pos;
	const char	*text;		/* N_TEXT: into the template's src */
	size_t		 len;
	struct pipe	*pipe;
	struct list	 body, els;
};

struct sensor_tmpl {
	char		*src;
	struct list	 root;
};

/* ---- lexing -------------------------------------------------------------- */

enum ttok { K_CLOSE, K_DOT, K_FIELD, K_VAR, K_IDENT, K_STR, K_RAWSTR,
    K_NUM, K_CHAR, K_PIPE, K_LPAREN, K_RPAREN, K_DECL, K_ASSIGN, K_COMMA,
    K_BOOL, K_NIL };

struct tok {
	enum ttok	 k;
	size_t		 pos, n;
	int		 spaced;
};

struct parser {
	const char	*src;
	size_t		 i;
	enum tmpl_mode	 mode;
	char		*err;
	int		 trim_next;
	struct tok	*toks;
	size_t		 ntoks, captoks, ti;
	char		**vars;		/* declared, for undefined checks */
	size_t		 nvars, capvars;
	int		 depth, in_range;
};

static void
position(const char *src, size_t pos, int *line, int *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < pos && src[i]; i++) {
		if (src[i] == '\n') {
			(*line)++;
			*col = 1;
		} else
			(*col)++;
	}
}

static int UTIL_PRINTF(3, 4)
perr(struct parser *ps, size_t pos, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int line, col;

	if (ps->err)
		return -1;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	position(ps->src, pos, &line, &col);
	ps->err = xasprintf("%d:%d: %s", line, col, msg);
	free(msg);
	return -1;
}

static int
isident(int c)
{
	return isalnum(c) || c == '_';
}

static int
is_keyword(const char *s, size_t n)
{
	static const char *const kw[] = { "if", "else", "end", "range",
	    "with", "break", "continue", "define", "template", "block", "nil",
	    "true", "false" };
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(kw); i++)
		if (strlen(kw[i]) == n && strncmp(kw[i], s, n) == 0)
			return 1;
	return 0;
}

static void
push_tok(struct parser *ps, enum ttok k, size_t pos, size_t n, int spaced)
{
	xgrow(&ps->toks, &ps->captoks, ps->ntoks + 1, sizeof *ps->toks);
	ps->toks[ps->ntoks++] = (struct tok){ k, pos, n, spaced };
}

static size_t
scan_number(const char *s, size_t p)
{
	if (s[p] == '-' || s[p] == '+')
		p++;
	while (isident((unsigned char)s[p]) || s[p] == '.' ||
	    ((s[p] == '+' || s[p] == '-') && strchr("eEpP", s[p - 1]) &&
	    !(s[p - 1] == 'e' && p >= 2 && tolower(s[p - 2]) == 'x')))
		p++;
	return p;
}

/* Lexes one action starting at p (after "{{" and any trim marker). */
static int
lex_action(struct parser *ps, size_t p)
{
	const char *s = ps->src;
	size_t start;
	int spaced;
	char c;

	ps->ntoks = ps->ti = 0;
	for (;;) {
		spaced = 0;
		while (s[p] == ' ' || s[p] == '\t' || s[p] == '\r' ||
		    s[p] == '\n') {
			p++;
			spaced = 1;
		}
		if (s[p] == '\0')
			return perr(ps, p, "unclosed action");
		if (spaced && strncmp(s + p, "-}}", 3) == 0) {
			ps->trim_next = 1;
			push_tok(ps, K_CLOSE, p, 3, spaced);
			ps->i = p + 3;
			return 0;
		}
		if (strncmp(s + p, "}}", 2) == 0) {
			push_tok(ps, K_CLOSE, p, 2, spaced);
			ps->i = p + 2;
			return 0;
		}
		start = p;
		c = s[p];
		if (c == '.' && isdigit((unsigned char)s[p + 1])) {
			p = scan_number(s, p);
			push_tok(ps, K_NUM, start, p - start, spaced);
		} else if (c == '.') {
			for (p++; isident((unsigned char)s[p]); p++)
				;
			push_tok(ps, p - start > 1 ? K_FIELD : K_DOT, start,
			    p - start, spaced);
		} else if (c == '$') {
			for (p++; isident((unsigned char)s[p]); p++)
				;
			push_tok(ps, K_VAR, start, p - start, spaced);
		} else if (isalpha((unsigned char)c) || c == '_') {
			for (; isident((unsigned char)s[p]); p++)
				;
			if ((p - start == 4 && strncmp(s + start, "true", 4) ==
			    0) || (p - start == 5 && strncmp(s + start, "false",
			    5) == 0))
				push_tok(ps, K_BOOL, start, p - start, spaced);
			else if (p - start == 3 && strncmp(s + start, "nil", 3)
			    == 0)
				push_tok(ps, K_NIL, start, 3, spaced);
			else
				push_tok(ps, K_IDENT, start, p - start, spaced);
		} else if (c == '"' || c == '\'') {
			for (p++; s[p] && s[p] != c && s[p] != '\n'; p++)
				if (s[p] == '\\' && s[p + 1])
					p++;
			if (s[p] != c)
				return perr(ps, start, "unterminated quoted "
				    "%s", c == '"' ? "string" : "character");
			p++;
			push_tok(ps, c == '"' ? K_STR : K_CHAR, start,
			    p - start, spaced);
		} else if (c == '`') {
			for (p++; s[p] && s[p] != '`'; p++)
				;
			if (s[p] != '`')
				return perr(ps, start, "unterminated raw "
				    "quoted string");
			p++;
			push_tok(ps, K_RAWSTR, start, p - start, spaced);
		} else if (isdigit((unsigned char)c) || ((c == '-' || c == '+')
		    && (isdigit((unsigned char)s[p + 1]) || (s[p + 1] == '.' &&
		    isdigit((unsigned char)s[p + 2]))))) {
			p = scan_number(s, p);
			push_tok(ps, K_NUM, start, p - start, spaced);
		} else if (c == ':' && s[p + 1] == '=') {
			p += 2;
			push_tok(ps, K_DECL, start, 2, spaced);
		} else if (strchr("|(),=", c)) {
			p++;
			push_tok(ps, c == '|' ? K_PIPE : c == '(' ? K_LPAREN :
			    c == ')' ? K_RPAREN : c == ',' ? K_COMMA : K_ASSIGN,
			    start, 1, spaced);
		} else
			return perr(ps, p, "unexpected \"%c\" in command", c);
	}
}

static const struct tok *
peek(struct parser *ps)
{
	return &ps->toks[ps->ti < ps->ntoks ? ps->ti : ps->ntoks - 1];
}

static const struct tok *
next(struct parser *ps)
{
	const struct tok *t = peek(ps);

	if (ps->ti < ps->ntoks - 1)
		ps->ti++;
	return t;
}

static int
tok_is(struct parser *ps, const struct tok *t, const char *word)
{
	return t->k == K_IDENT && t->n == strlen(word) &&
	    strncmp(ps->src + t->pos, word, t->n) == 0;
}

/* ---- freeing ------------------------------------------------------------- */

static void free_pipe(struct pipe *);

static void
free_list(struct list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free_pipe(l->v[i]->pipe);
		free_list(&l->v[i]->body);
		free_list(&l->v[i]->els);
		free(l->v[i]);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

static void
free_pipe(struct pipe *p)
{
	size_t i, j, k;
	struct arg *a;

	if (p == NULL)
		return;
	for (i = 0; i < p->ncmds; i++) {
		for (j = 0; j < p->cmds[i].nargs; j++) {
			a = &p->cmds[i].args[j];
			free(a->name);
			free(a->s);
			for (k = 0; k < a->nchain; k++)
				free(a->chain[k]);
			free(a->chain);
			free_pipe(a->sub);
		}
		free(p->cmds[i].args);
	}
	free(p->cmds);
	free(p->vars[0]);
	free(p->vars[1]);
	free(p);
}

/* ---- parsing ------------------------------------------------------------- */

/* Go's strconv.Unquote of "..." or '...' (s, n include the quotes). */
static int
unquote(const char *s, size_t n, struct buf *out)
{
	size_t i, k, digits;
	unsigned long r;
	char c, tmp[4];
	int x;

	for (i = 1; i + 1 < n; i++) {
		if (s[i] != '\\') {
			buf_addc(out, s[i]);
			continue;
		}
		c = s[++i];
		switch (c) {
		case 'a': buf_addc(out, '\a'); break;
		case 'b': buf_addc(out, '\b'); break;
		case 'f': buf_addc(out, '\f'); break;
		case 'n': buf_addc(out, '\n'); break;
		case 'r': buf_addc(out, '\r'); break;
		case 't': buf_addc(out, '\t'); break;
		case 'v': buf_addc(out, '\v'); break;
		case '\\': case '\'': case '"': buf_addc(out, c); break;
		case 'x': case 'u': case 'U':
			digits = c == 'x' ? 2 : c == 'u' ? 4 : 8;
			r = 0;
			for (k = 0; k < digits; k++) {
				c = s[++i];
				x = util_hex_digit((unsigned char)c);
				if (x < 0 || i + 1 >= n)
					return -1;
				r = r * 16 + (unsigned long)x;
			}
			if (digits == 2)
				buf_addc(out, (char)r);
			else if (r > 0x10ffff)
				return -1;
			else
				buf_add(out, tmp, utf8_encode((uint32_t)r,
				    tmp));
			break;
		case '0': case '1': case '2': case '3':
			r = 0;
			for (k = 0; k < 3; k++, c = s[++i]) {
				if (c < '0' || c > '7' || i + 1 >= n)
					return -1;
				r = r * 8 + (unsigned long)(c - '0');
			}
			i--;
			buf_addc(out, (char)r);
			break;
		default:
			return -1;
		}
	}
	return 0;
}

static int
declared(struct parser *ps, const char *name)
{
	size_t i;

	if (strcmp(name, "$") == 0)
		return 1;
	for (i = ps->nvars; i-- > 0;)
		if (strcmp(ps->vars[i], name) == 0)
			return 1;
	return 0;
}

static void
declare(struct parser *ps, const char *name)
{
	xgrow(&ps->vars, &ps->capvars, ps->nvars + 1, sizeof *ps->vars);
	ps->vars[ps->nvars++] = xstrdup(name);
}

static void
undeclare_to(struct parser *ps, size_t mark)
{
	while (ps->nvars > mark)
		free(ps->vars[--ps->nvars]);
}

static struct pipe *parse_pipe(struct parser *, int, int);

static void
add_chain(struct parser *ps, struct arg *a)
{
	const struct tok *t;

	while ((t = peek(ps))->k == K_FIELD && !t->spaced) {
		next(ps);
		a->chain = xrealloc(a->chain, (a->nchain + 1) *
		    sizeof *a->chain);
		a->chain[a->nchain++] = xstrndup(ps->src + t->pos + 1,
		    t->n - 1);
	}
}

static int
parse_number(struct parser *ps, const struct tok *t, struct arg *a)
{
	char *txt, *end, *clean;
	size_t i, j;

	txt = xstrndup(ps->src + t->pos, t->n);
	clean = xcalloc(1, t->n + 1);
	for (i = j = 0; txt[i]; i++)
		if (txt[i] != '_')
			clean[j++] = txt[i];
	errno = 0;
	a->i = strtoll(clean, &end, 0);
	if (*end == '\0' && errno == 0) {
		a->k = A_INT;
	} else {
		errno = 0;
		a->f = strtod(clean, &end);
		a->k = A_FLOAT;
		if (*end != '\0' || errno == ERANGE) {
			free(txt);
			free(clean);
			return perr(ps, t->pos, "bad number syntax: \"%.*s\"",
			    (int)t->n, ps->src + t->pos);
		}
	}
	free(txt);
	free(clean);
	return 0;
}

static int
parse_operand(struct parser *ps, struct arg *a)
{
	const struct tok *t = next(ps);
	struct buf b;
	char *name;

	memset(a, 0, sizeof *a);
	a->pos = t->pos;
	switch (t->k) {
	case K_FIELD:
		a->k = A_FIELD;
		a->chain = xcalloc(1, sizeof *a->chain);
		a->chain[a->nchain++] = xstrndup(ps->src + t->pos + 1,
		    t->n - 1);
		add_chain(ps, a);
		return 0;
	case K_DOT:
		a->k = A_DOT;
		return 0;
	case K_VAR:
		a->k = A_VAR;
		a->name = xstrndup(ps->src + t->pos, t->n);
		if (!declared(ps, a->name))
			return perr(ps, t->pos, "undefined variable \"%s\"",
			    a->name);
		add_chain(ps, a);
		return 0;
	case K_IDENT:
		name = xstrndup(ps->src + t->pos, t->n);
		if (is_keyword(name, t->n)) {
			perr(ps, t->pos, "unexpected <%s> in command", name);
			free(name);
			return -1;
		}
		a->k = A_FUNC;
		a->name = name;
		if ((a->fn = sensor_tfunc_find(name)) == NULL)
			return perr(ps, t->pos, "function \"%s\" not defined",
			    name);
		return 0;
	case K_STR:
	case K_CHAR:
		buf_init(&b, 0);
		if (unquote(ps->src + t->pos, t->n, &b) == -1) {
			buf_free(&b);
			return perr(ps, t->pos, "bad escape in %.*s",
			    (int)t->n, ps->src + t->pos);
		}
		if (t->k == K_CHAR) {
			a->k = A_INT;
			a->i = b.len ? (unsigned char)b.data[0] : 0;
			if (b.len > 1 && (unsigned char)b.data[0] >= 0xc0) {
				/* a multibyte rune: decode it */
				unsigned long r = (unsigned char)b.data[0] &
				    (b.len == 2 ? 0x1f : b.len == 3 ? 0x0f :
				    0x07);
				size_t k;

				for (k = 1; k < b.len; k++)
					r = (r << 6) | ((unsigned char)
					    b.data[k] & 0x3f);
				a->i = (int64_t)r;
			}
			buf_free(&b);
			return 0;
		}
		a->k = A_STR;
		a->slen = b.len;
		a->s = buf_steal(&b);
		return 0;
	case K_RAWSTR:
		a->k = A_STR;
		a->slen = t->n - 2;
		a->s = xstrndup(ps->src + t->pos + 1, t->n - 2);
		return 0;
	case K_NUM:
		return parse_number(ps, t, a);
	case K_BOOL:
		a->k = A_BOOL;
		a->b = ps->src[t->pos] == 't';
		return 0;
	case K_NIL:
		a->k = A_NIL;
		return 0;
	case K_LPAREN:
		a->k = A_PIPE;
		if (++ps->depth > MAX_DEPTH)
			return perr(ps, t->pos, "nested too deeply");
		if ((a->sub = parse_pipe(ps, 1, 0)) == NULL)
			return -1;
		ps->depth--;
		if (next(ps)->k != K_RPAREN)
			return perr(ps, t->pos, "unclosed left paren");
		add_chain(ps, a);
		return 0;
	default:
		return perr(ps, t->pos, "unexpected \"%.*s\" in operand",
		    (int)t->n, ps->src + t->pos);
	}
}

static int
check_call(struct parser *ps, const struct cmd *c, int piped)
{
	const struct arg *a = &c->args[0];
	int n = (int)c->nargs - 1 + piped;

	if (a->k != A_FUNC) {
		if (c->nargs > 1 || piped)
			return perr(ps, a->pos, "can't give argument to "
			    "non-function");
		return 0;
	}
	if (n < a->fn->min || (a->fn->max >= 0 && n > a->fn->max)) {
		if (a->fn->min == a->fn->max)
			return perr(ps, a->pos, "wrong number of args for "
			    "%s: want %d got %d", a->name, a->fn->min, n);
		return perr(ps, a->pos, "wrong number of args for %s: want "
		    "at least %d got %d", a->name, a->fn->min, n);
	}
	return 0;
}

static int
parse_cmd(struct parser *ps, struct cmd *c, int piped)
{
	const struct tok *t;

	c->pos = peek(ps)->pos;
	for (;;) {
		t = peek(ps);
		if (t->k == K_PIPE || t->k == K_RPAREN || t->k == K_CLOSE)
			break;
		xgrow(&c->args, &c->cap, c->nargs + 1, sizeof *c->args);
		if (parse_operand(ps, &c->args[c->nargs]) == -1) {
			c->nargs++;
			return -1;
		}
		c->nargs++;
	}
	if (c->nargs == 0)
		return perr(ps, c->pos, "missing value for command");
	return check_call(ps, c, piped);
}

/* Parses a pipeline; decl_ok allows "$x :=" (not inside parens). */
static struct pipe *
parse_pipe(struct parser *ps, int in_paren, int decl_ok)
{
	struct pipe *p;
	const struct tok *t;
	int i, piped;

	p = xcalloc(1, sizeof *p);
	p->pos = peek(ps)->pos;
	if (decl_ok && peek(ps)->k == K_VAR && ps->ti + 1 < ps->ntoks) {
		t = &ps->toks[ps->ti + 1];
		if (t->k == K_DECL || t->k == K_ASSIGN) {
			p->nvars = 1;
		} else if (t->k == K_COMMA && ps->ti + 3 < ps->ntoks &&
		    ps->toks[ps->ti + 2].k == K_VAR &&
		    (ps->toks[ps->ti + 3].k == K_DECL ||
		    ps->toks[ps->ti + 3].k == K_ASSIGN))
			p->nvars = 2;
		for (i = 0; i < p->nvars; i++) {
			t = next(ps);
			p->vars[i] = xstrndup(ps->src + t->pos, t->n);
			if (i == 0 && p->nvars == 2)
				next(ps);	/* the comma */
		}
		if (p->nvars)
			p->decl = next(ps)->k == K_DECL ? 1 : 2;
	}
	for (;;) {
		xgrow(&p->cmds, &p->cap, p->ncmds + 1, sizeof *p->cmds);
		memset(&p->cmds[p->ncmds], 0, sizeof *p->cmds);
		piped = p->ncmds > 0;
		if (parse_cmd(ps, &p->cmds[p->ncmds++], piped) == -1)
			goto fail;
		t = peek(ps);
		if (t->k == K_PIPE) {
			next(ps);
			continue;
		}
		if ((in_paren && t->k == K_RPAREN) ||
		    (!in_paren && t->k == K_CLOSE))
			break;
		if (in_paren && t->k == K_CLOSE) {
			perr(ps, t->pos, "unclosed left paren");
			goto fail;
		}
		perr(ps, t->pos, "unexpected \"%.*s\" in operand", (int)t->n,
		    ps->src + t->pos);
		goto fail;
	}
	for (i = 0; i < p->nvars; i++) {
		if (p->decl == 2 && !declared(ps, p->vars[i])) {
			perr(ps, p->pos, "undefined variable \"%s\"",
			    p->vars[i]);
			goto fail;
		}
		if (p->decl == 1)
			declare(ps, p->vars[i]);
	}
	return p;
fail:
	free_pipe(p);
	return NULL;
}

static struct node *
add_node(struct list *l, enum nkind k, size_t pos)
{
	struct node *n;

	xgrow(&l->v, &l->cap, l->n + 1, sizeof *l->v);
	n = xcalloc(1, sizeof *n);
	n->k = k;
	n->pos = pos;
	l->v[l->n++] = n;
	return n;
}

static void
add_text(struct parser *ps, struct list *l, size_t a, size_t b, int ltrim,
    int rtrim)
{
	struct node *n;

	if (ltrim)
		while (a < b && isspace((unsigned char)ps->src[a]))
			a++;
	if (rtrim)
		while (b > a && isspace((unsigned char)ps->src[b - 1]))
			b--;
	if (a == b)
		return;
	n = add_node(l, N_TEXT, a);
	n->text = ps->src + a;
	n->len = b - a;
}

/* Does the action at open ("{{") belong to another template language?
 * Returns its length if so, else 0. */
static size_t
foreign(const char *open)
{
	const char *close = strstr(open + 2, "}}"), *s = open + 2, *w;
	char *word;
	size_t n;
	int known;

	if (close == NULL)
		return 0;
	if (*s == '-' && isspace((unsigned char)s[1]))
		s++;
	while (s < close && isspace((unsigned char)*s))
		s++;
	n = (size_t)(close - open) + 2;
	if (*s == '=')
		return n;
	for (w = s; w + 6 <= close; w++)
		if (strncmp(w, ".Input", 6) == 0)
			return 0;
	if (!isalpha((unsigned char)*s) && *s != '_')
		return 0;
	for (w = s; isident((unsigned char)*w); w++)
		;
	if (is_keyword(s, (size_t)(w - s)))
		return 0;
	word = xstrndup(s, (size_t)(w - s));
	known = sensor_tfunc_find(word) != NULL;
	free(word);
	return known ? 0 : n;
}

enum { END_EOF, END_END, END_ELSE };

static int parse_list(struct parser *, struct list *);

/* Parses the rest of an if/range/with whose pipeline is parsed. */
static int
parse_block(struct parser *ps, struct node *n, const char *kw)
{
	size_t mark = ps->nvars;
	int end;

	if (++ps->depth > MAX_DEPTH)
		return perr(ps, n->pos, "nested too deeply");
	if (n->k == N_RANGE)
		ps->in_range++;
	end = parse_list(ps, &n->body);
	if (n->k == N_RANGE)
		ps->in_range--;
	if (end == -1)
		return -1;
	if (end == END_EOF)
		return perr(ps, n->pos, "unexpected EOF: {{%s}} without "
		    "{{end}}", kw);
	if (end == END_ELSE) {
		if (n->k != N_RANGE && tok_is(ps, peek(ps), kw)) {
			/* {{else if ...}}: an if inside the else, sharing
			 * the one {{end}} */
			struct node *in;

			in = add_node(&n->els, n->k, peek(ps)->pos);
			next(ps);
			if ((in->pipe = parse_pipe(ps, 0, 1)) == NULL)
				return -1;
			if (parse_block(ps, in, kw) == -1)
				return -1;
		} else {
			if (peek(ps)->k != K_CLOSE)
				return perr(ps, peek(ps)->pos, "unexpected "
				    "\"%.*s\" in else", (int)peek(ps)->n,
				    ps->src + peek(ps)->pos);
			end = parse_list(ps, &n->els);
			if (end == -1)
				return -1;
			if (end != END_END)
				return perr(ps, n->pos, "expected {{end}} "
				    "after {{else}} of {{%s}}", kw);
		}
	}
	undeclare_to(ps, mark);
	ps->depth--;
	return 0;
}

static int
parse_action(struct parser *ps, struct list *l, size_t open)
{
	const struct tok *t = peek(ps);
	struct node *n;
	static const char *const blocks[] = { "if", "range", "with" };
	static const enum nkind bkinds[] = { N_IF, N_RANGE, N_WITH };
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(blocks); i++) {
		if (!tok_is(ps, t, blocks[i]))
			continue;
		n = add_node(l, bkinds[i], open);
		next(ps);
		if ((n->pipe = parse_pipe(ps, 0, 1)) == NULL)
			return -1;
		if (n->k == N_RANGE && n->pipe->decl == 2)
			return perr(ps, t->pos, "range can only declare "
			    "variables with :=");
		return parse_block(ps, n, blocks[i]) == -1 ? -1 : 0;
	}
	if (tok_is(ps, t, "end")) {
		if (ps->toks[1].k != K_CLOSE)
			return perr(ps, t->pos, "unexpected \"%.*s\" in end",
			    (int)ps->toks[1].n, ps->src + ps->toks[1].pos);
		return 1;
	}
	if (tok_is(ps, t, "else")) {
		next(ps);
		return 2;
	}
	if (tok_is(ps, t, "break") || tok_is(ps, t, "continue")) {
		if (!ps->in_range)
			return perr(ps, t->pos, "{{%.*s}} outside {{range}}",
			    (int)t->n, ps->src + t->pos);
		add_node(l, ps->src[t->pos] == 'b' ? N_BREAK : N_CONTINUE,
		    open);
		return 0;
	}
	if (tok_is(ps, t, "define") || tok_is(ps, t, "template") ||
	    tok_is(ps, t, "block"))
		return perr(ps, t->pos, "{{%.*s}} is not supported",
		    (int)t->n, ps->src + t->pos);
	n = add_node(l, N_ACTION, open);
	return (n->pipe = parse_pipe(ps, 0, 1)) == NULL ? -1 : 0;
}

static int
parse_list(struct parser *ps, struct list *l)
{
	const char *open, *s = ps->src;
	size_t at, p, n;
	int ltrim, rc;

	for (;;) {
		open = strstr(s + ps->i, "{{");
		at = open ? (size_t)(open - s) : strlen(s);
		ltrim = open && open[2] == '-' && isspace((unsigned char)
		    open[3]);
		add_text(ps, l, ps->i, at, ps->trim_next, ltrim);
		ps->trim_next = 0;
		ps->i = at;
		if (open == NULL)
			return END_EOF;
		if (ps->mode == TMPL_INPUT && (n = foreign(open)) > 0) {
			add_text(ps, l, at, at + n, 0, 0);
			ps->i = at + n;
			continue;
		}
		p = at + 2 + (ltrim ? 2 : 0);
		if (strncmp(s + p, "/*", 2) == 0) {
			const char *e = strstr(s + p + 2, "*/");

			if (e == NULL)
				return perr(ps, p, "unclosed comment");
			p = (size_t)(e - s) + 2;
			if (isspace((unsigned char)s[p]) &&
			    strncmp(s + p + 1, "-}}", 3) == 0) {
				ps->trim_next = 1;
				ps->i = p + 4;
			} else if (strncmp(s + p, "}}", 2) == 0)
				ps->i = p + 2;
			else
				return perr(ps, p, "comment ends before "
				    "closing delimiter");
			continue;
		}
		if (lex_action(ps, p) == -1)
			return -1;
		if (peek(ps)->k == K_CLOSE)
			return perr(ps, at, "missing value for command");
		if ((rc = parse_action(ps, l, at)) == -1)
			return -1;
		if (rc == 1)
			return END_END;
		if (rc == 2)
			return END_ELSE;
	}
}

struct sensor_tmpl *
sensor_tmpl_compile(const char *src, enum tmpl_mode mode, char **err)
{
	struct sensor_tmpl *t;
	struct parser ps;
	int end;

	*err = NULL;
	if (strlen(src) > MAX_TEMPLATE) {
		*err = xstrdup("template too long");
		return NULL;
	}
	t = xcalloc(1, sizeof *t);
	t->src = xstrdup(src);
	memset(&ps, 0, sizeof ps);
	ps.src = t->src;
	ps.mode = mode;
	end = parse_list(&ps, &t->root);
	if (end == END_END && ps.err == NULL)
		perr(&ps, ps.i, "unexpected {{end}}");
	else if (end == END_ELSE && ps.err == NULL)
		perr(&ps, ps.i, "unexpected {{else}}");
	free(ps.toks);
	undeclare_to(&ps, 0);
	free(ps.vars);
	if (ps.err) {
		*err = ps.err;
		sensor_tmpl_free(t);
		return NULL;
	}
	return t;
}

void
sensor_tmpl_free(struct sensor_tmpl *t)
{
	if (t == NULL)
		return;
	free_list(&t->root);
	free(t->src);
	free(t);
}

int
sensor_tmpl_has_input(const char *s)
{
	const char *open = strstr(s, "{{");

	return open != NULL && strstr(open, ".Input") != NULL;
}

/* ---- values -------------------------------------------------------------- */

int
sensor_tex_fail(struct tex *ex, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int line, col;

	if (ex->err)
		return -1;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	position(ex->src, ex->pos, &line, &col);
	ex->err = xasprintf("%d:%d: %s", line, col, msg);
	free(msg);
	return -1;
}

const char *
sensor_tex_adopt(struct tex *ex, char *s)
{
	xgrow(&ex->strs, &ex->capstrs, ex->nstrs + 1, sizeof *ex->strs);
	ex->strs[ex->nstrs++] = s;
	return s;
}

const char *
sensor_tex_str(struct tex *ex, const char *s, size_t n)
{
	char *c = xmalloc(n + 1);

	memcpy(c, s, n);
	c[n] = '\0';
	return sensor_tex_adopt(ex, c);
}

json_t *
sensor_tex_keep(struct tex *ex, json_t *j)
{
	xgrow(&ex->jsons, &ex->capjsons, ex->njsons + 1, sizeof *ex->jsons);
	ex->jsons[ex->njsons++] = j;
	return j;
}

void
sensor_tv_str(struct tv *v, const char *s, size_t n)
{
	memset(v, 0, sizeof *v);
	v->k = TV_STR;
	v->s = s;
	v->n = n;
}

void
sensor_tv_json(struct tv *v, json_t *j)
{
	memset(v, 0, sizeof *v);
	switch (j ? json_typeof(j) : JSON_NULL) {
	case JSON_NULL:
		v->k = j ? TV_NIL : TV_INVALID;
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		v->k = TV_BOOL;
		v->b = json_is_true(j);
		break;
	case JSON_INTEGER:
		v->k = TV_FLOAT;
		v->f = (double)json_integer_value(j);
		break;
	case JSON_REAL:
		v->k = TV_FLOAT;
		v->f = json_real_value(j);
		break;
	case JSON_STRING:
		sensor_tv_str(v, json_string_value(j), json_string_length(j));
		break;
	case JSON_OBJECT:
		v->k = TV_MAP;
		v->j = j;
		break;
	case JSON_ARRAY:
		v->k = TV_ARRAY;
		v->j = j;
		break;
	}
}

json_t *
sensor_tv_to_json(struct tex *ex, const struct tv *v)
{
	switch (v->k) {
	case TV_BOOL:
		return json_boolean(v->b);
	case TV_INT:
		return json_integer((json_int_t)v->i);
	case TV_FLOAT:
		return json_real(v->f);
	case TV_STR:
		return json_stringn_nocheck(v->s, v->n);
	case TV_MAP:
	case TV_ARRAY:
		return json_incref(v->j);
	case TV_ROOT:
		return json_pack("{s:O}", "Input", ex->input ? ex->input :
		    json_null());
	default:
		return json_null();
	}
}

int
sensor_tv_truth(const struct tv *v)
{
	switch (v->k) {
	case TV_BOOL:	return v->b;
	case TV_INT:	return v->i != 0;
	case TV_FLOAT:	return v->f != 0;
	case TV_STR:	return v->n != 0;
	case TV_MAP:	return json_object_size(v->j) != 0;
	case TV_ARRAY:	return json_array_size(v->j) != 0;
	case TV_ROOT:	return 1;
	default:	return 0;
	}
}

const char *
sensor_tv_type(const struct tv *v)
{
	switch (v->k) {
	case TV_INVALID:	return "<invalid>";
	case TV_NIL:		return "<nil>";
	case TV_BOOL:		return "bool";
	case TV_INT:		return "int";
	case TV_FLOAT:		return "float64";
	case TV_STR:		return "string";
	case TV_ARRAY:		return "[]interface {}";
	default:		return "map[string]interface {}";
	}
}

void
sensor_tv_print(struct tex *ex, struct buf *b, const struct tv *v)
{
	json_t *j;

	switch (v->k) {
	case TV_INVALID:
	case TV_NIL:
		buf_adds(b, "<nil>");
		break;
	case TV_BOOL:
		buf_adds(b, v->b ? "true" : "false");
		break;
	case TV_INT:
		buf_printf(b, "%lld", (long long)v->i);
		break;
	case TV_FLOAT:
		gofmt_float(b, v->f, GOFMT_V);
		break;
	case TV_STR:
		buf_add(b, v->s, v->n);
		break;
	case TV_MAP:
	case TV_ARRAY:
		gofmt_sprint(b, v->j);
		break;
	case TV_ROOT:
		j = sensor_tv_to_json(ex, v);
		gofmt_sprint(b, j);
		json_decref(j);
		break;
	}
}

/* ---- execution ----------------------------------------------------------- */

static int eval_pipe(struct tex *, const struct pipe *, const struct tv *,
    int, struct tv *);

static int
field(struct tex *ex, struct tv *v, const char *name, size_t pos)
{
	ex->pos = pos;
	switch (v->k) {
	case TV_ROOT:
		if (strcmp(name, "Input") == 0) {
			sensor_tv_json(v, ex->input ? ex->input :
			    json_null());
		} else
			v->k = TV_INVALID;
		return 0;
	case TV_MAP:
		sensor_tv_json(v, json_object_get(v->j, name));
		return 0;
	case TV_INVALID:
		return 0;
	case TV_NIL:
		return sensor_tex_fail(ex, "nil pointer evaluating interface "
		    "{}.%s", name);
	default:
		return sensor_tex_fail(ex, "can't evaluate field %s in type %s",
		    name, sensor_tv_type(v));
	}
}

static const struct tv *
lookup_var(struct tex *ex, const char *name)
{
	size_t i;

	for (i = ex->nvars; i-- > 0;)
		if (strcmp(ex->vars[i].name, name) == 0)
			return &ex->vars[i].v;
	return NULL;
}

static void
push_var(struct tex *ex, const char *name, const struct tv *v)
{
	xgrow(&ex->vars, &ex->capvars, ex->nvars + 1, sizeof *ex->vars);
	ex->vars[ex->nvars].name = name;
	ex->vars[ex->nvars++].v = *v;
}

static int
set_var(struct tex *ex, const char *name, const struct tv *v)
{
	size_t i;

	for (i = ex->nvars; i-- > 0;) {
		if (strcmp(ex->vars[i].name, name) == 0) {
			ex->vars[i].v = *v;
			return 0;
		}
	}
	return sensor_tex_fail(ex, "undefined variable: %s", name);
}

static int call(struct tex *, const struct arg *, const struct arg *,
    size_t, const struct tv *, const struct tv *, struct tv *);

static int
eval_arg(struct tex *ex, const struct arg *a, const struct tv *dot,
    struct tv *out)
{
	const struct tv *v;
	size_t i;

	ex->pos = a->pos;
	memset(out, 0, sizeof *out);
	switch (a->k) {
	case A_DOT:
		*out = *dot;
		return 0;
	case A_FIELD:
		*out = *dot;
		break;
	case A_VAR:
		if ((v = lookup_var(ex, a->name)) == NULL)
			return sensor_tex_fail(ex, "undefined variable: %s",
			    a->name);
		*out = *v;
		break;
	case A_FUNC:
		return call(ex, a, NULL, 0, dot, NULL, out);
	case A_STR:
		sensor_tv_str(out, a->s, a->slen);
		return 0;
	case A_INT:
		out->k = TV_INT;
		out->i = a->i;
		return 0;
	case A_FLOAT:
		out->k = TV_FLOAT;
		out->f = a->f;
		return 0;
	case A_BOOL:
		out->k = TV_BOOL;
		out->b = a->b;
		return 0;
	case A_NIL:
		return sensor_tex_fail(ex, "nil is not a command");
	case A_PIPE:
		if (eval_pipe(ex, a->sub, dot, 0, out) == -1)
			return -1;
		break;
	}
	for (i = 0; i < a->nchain; i++)
		if (field(ex, out, a->chain[i], a->pos) == -1)
			return -1;
	return 0;
}

static int
call(struct tex *ex, const struct arg *fa, const struct arg *args,
    size_t nargs, const struct tv *dot, const struct tv *final,
    struct tv *out)
{
	struct tv argv[MAX_ARGS + 1];
	size_t n = nargs + (final != NULL), i;
	const struct tfunc *fn = fa->fn;
	int want_true = fn->lazy == 1;

	memset(out, 0, sizeof *out);
	if (n > MAX_ARGS)
		return sensor_tex_fail(ex, "too many arguments to %s",
		    fn->name);
	if ((int)n < fn->min || (fn->max >= 0 && (int)n > fn->max)) {
		ex->pos = fa->pos;
		return sensor_tex_fail(ex, "wrong number of args for %s: want "
		    "%d got %zu", fn->name, fn->min, n);
	}
	if (fn->lazy) {
		/* and/or stop at the first argument that decides */
		for (i = 0; i < n; i++) {
			if (i < nargs) {
				if (eval_arg(ex, &args[i], dot, out) == -1)
					return -1;
			} else
				*out = *final;
			if (sensor_tv_truth(out) != want_true)
				return 0;
		}
		return 0;
	}
	for (i = 0; i < nargs; i++)
		if (eval_arg(ex, &args[i], dot, &argv[i]) == -1)
			return -1;
	if (final)
		argv[nargs] = *final;
	ex->pos = fa->pos;
	ex->fname = fn->name;
	return fn->fn(ex, argv, n, out);
}

static int
eval_cmd(struct tex *ex, const struct cmd *c, const struct tv *dot,
    const struct tv *final, struct tv *out)
{
	const struct arg *a = &c->args[0];

	if (a->k == A_FUNC)
		return call(ex, a, c->args + 1, c->nargs - 1, dot, final, out);
	if (c->nargs > 1 || final) {
		ex->pos = a->pos;
		return sensor_tex_fail(ex, "can't give argument to "
		    "non-function");
	}
	return eval_arg(ex, a, dot, out);
}

static int
eval_pipe(struct tex *ex, const struct pipe *p, const struct tv *dot,
    int declare_vars, struct tv *out)
{
	struct tv v, prev;
	size_t i;
	int k;

	memset(&v, 0, sizeof v);
	for (i = 0; i < p->ncmds; i++) {
		prev = v;
		if (eval_cmd(ex, &p->cmds[i], dot, i ? &prev : NULL, &v) == -1)
			return -1;
		if (v.k == TV_NIL)	/* Go unwraps a nil interface */
			v.k = TV_INVALID;
	}
	if (declare_vars) {
		for (k = 0; k < p->nvars; k++) {
			if (p->decl == 1)
				push_var(ex, p->vars[k], &v);
			else if (set_var(ex, p->vars[k], &v) == -1)
				return -1;
		}
	}
	*out = v;
	return 0;
}

static int exec_list(struct tex *, const struct list *, const struct tv *);

static int
cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One range iteration: the variables, then the body. */
static int
range_step(struct tex *ex, const struct node *n, const struct tv *key,
    const struct tv *elem)
{
	size_t mark = ex->nvars;
	int rc;

	if (++ex->steps > MAX_STEPS)
		return sensor_tex_fail(ex, "range: too many iterations");
	if (n->pipe->nvars == 1)
		push_var(ex, n->pipe->vars[0], elem);
	else if (n->pipe->nvars == 2) {
		push_var(ex, n->pipe->vars[0], key);
		push_var(ex, n->pipe->vars[1], elem);
	}
	rc = exec_list(ex, &n->body, elem);
	ex->nvars = mark;
	return rc;
}

static int
exec_range(struct tex *ex, const struct node *n, const struct tv *dot)
{
	struct tv v, key, elem;
	const char **keys = NULL, *k;
	json_t *m;
	size_t i, cnt = 0;
	int rc = 0;

	if (eval_pipe(ex, n->pipe, dot, 0, &v) == -1)
		return -1;
	memset(&key, 0, sizeof key);
	key.k = TV_INT;
	switch (v.k) {
	case TV_ARRAY:
		cnt = json_array_size(v.j);
		for (i = 0; i < cnt && rc != 1; i++) {
			key.i = (int64_t)i;
			sensor_tv_json(&elem, json_array_get(v.j, i));
			if ((rc = range_step(ex, n, &key, &elem)) == -1)
				return -1;
		}
		break;
	case TV_MAP:
		cnt = json_object_size(v.j);
		keys = xcalloc(cnt ? cnt : 1, sizeof *keys);
		i = 0;
		json_object_foreach(v.j, k, m) {
			(void)m;
			keys[i++] = k;
		}
		qsort(keys, cnt, sizeof *keys, cmp_keys);
		for (i = 0; i < cnt && rc != 1; i++) {
			sensor_tv_str(&key, keys[i], strlen(keys[i]));
			sensor_tv_json(&elem, json_object_get(v.j, keys[i]));
			if ((rc = range_step(ex, n, &key, &elem)) == -1)
				break;
		}
		free(keys);
		if (rc == -1)
			return -1;
		break;
	case TV_INT:
		cnt = v.i > 0 ? (size_t)v.i : 0;
		for (i = 0; i < cnt && rc != 1; i++) {
			key.i = elem.i = (int64_t)i;
			elem.k = TV_INT;
			if ((rc = range_step(ex, n, &key, &elem)) == -1)
				return -1;
		}
		break;
	case TV_INVALID:
	case TV_NIL:
		break;
	default:
		ex->pos = n->pipe->pos;
		return sensor_tex_fail(ex, "range can't iterate over %s",
		    sensor_tv_type(&v));
	}
	if (cnt == 0 && n->els.n)
		return exec_list(ex, &n->els, dot) == -1 ? -1 : 0;
	return 0;
}

/* 0 done, -1 error, 1 break, 2 continue */
static int
exec_list(struct tex *ex, const struct list *l, const struct tv *dot)
{
	const struct node *n;
	struct tv v;
	size_t i, mark = ex->nvars, inner;
	int rc = 0;

	for (i = 0; i < l->n && rc == 0; i++) {
		n = l->v[i];
		inner = ex->nvars;
		switch (n->k) {
		case N_TEXT:
			buf_add(ex->out, n->text, n->len);
			break;
		case N_ACTION:
			if (eval_pipe(ex, n->pipe, dot, 1, &v) == -1)
				rc = -1;
			else if (n->pipe->decl)
				break;
			else if (v.k == TV_INVALID || v.k == TV_NIL)
				buf_adds(ex->out, "<no value>");
			else
				sensor_tv_print(ex, ex->out, &v);
			break;
		case N_IF:
		case N_WITH:
			if (eval_pipe(ex, n->pipe, dot, 1, &v) == -1) {
				rc = -1;
				break;
			}
			if (sensor_tv_truth(&v))
				rc = exec_list(ex, &n->body,
				    n->k == N_WITH ? &v : dot);
			else
				rc = exec_list(ex, &n->els, dot);
			break;
		case N_RANGE:
			rc = exec_range(ex, n, dot);
			break;
		case N_BREAK:
			rc = 1;
			break;
		case N_CONTINUE:
			rc = 2;
			break;
		}
		if (n->k == N_IF || n->k == N_WITH)
			ex->nvars = inner;	/* scoped to the block */
		if (ex->out->overflow) {
			ex->pos = n->pos;
			rc = sensor_tex_fail(ex, "output longer than %u bytes",
			    SENSOR_MAX_OUTPUT);
		}
	}
	ex->nvars = mark;
	return rc;
}

int
sensor_tmpl_exec(const struct sensor_tmpl *t, json_t *input,
    struct buf *out, char **err)
{
	struct tex ex;
	struct tv root;
	size_t i, max = out->max;
	int rc;

	*err = NULL;
	memset(&ex, 0, sizeof ex);
	ex.input = input;
	ex.out = out;
	ex.src = t->src;
	if (out->max == 0 || out->max > out->len + SENSOR_MAX_OUTPUT)
		out->max = out->len + SENSOR_MAX_OUTPUT;
	memset(&root, 0, sizeof root);
	root.k = TV_ROOT;
	push_var(&ex, "$", &root);
	rc = exec_list(&ex, &t->root, &root) == -1 ? -1 : 0;
	out->max = max;
	for (i = 0; i < ex.nstrs; i++)
		free(ex.strs[i]);
	free(ex.strs);
	for (i = 0; i < ex.njsons; i++)
		json_decref(ex.jsons[i]);
	free(ex.jsons);
	free(ex.vars);
	if (rc == -1)
		*err = ex.err ? ex.err : xstrdup("template failed");
	else
		free(ex.err);
	return rc;
}

char *
sensor_render(const char *tmpl, json_t *input, char **err)
{
	struct sensor_tmpl *t;
	struct buf b;

	if ((t = sensor_tmpl_compile(tmpl, TMPL_STRICT, err)) == NULL)
		return NULL;
	buf_init(&b, 0);
	if (sensor_tmpl_exec(t, input, &b, err) == -1) {
		buf_free(&b);
		sensor_tmpl_free(t);
		return NULL;
	}
	sensor_tmpl_free(t);
	return buf_steal(&b);
}

struct sensor_tmpl *
sensor_template(const char *src, char **err)
{
	return sensor_tmpl_compile(src, TMPL_STRICT, err);
}

char *
sensor_template_render(const struct sensor_tmpl *t, json_t *input,
    char **err)
{
	struct buf b;

	buf_init(&b, 0);
	if (sensor_tmpl_exec(t, input, &b, err) == -1) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}
