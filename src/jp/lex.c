/*
 * The JMESPath tokenizer.  It runs once over the whole expression so the
 * parser can look ahead freely; literals and quoted identifiers are decoded
 * here, once, at compile time.
 *
 * Raw strings ('...') follow the reference implementation: \' is a quote
 * and every other backslash is kept as written.  JSON literals (`...`) take
 * \` for a backtick and must be valid JSON.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jp/jp_int.h"
#include "util/util.h"

struct lexer {
	const char		*s;
	size_t			 len, i;
	struct jp_token		*t;
	size_t			 n, cap;
	struct jp_error		*err;
};

static const char *const tok_names[T_NTOKENS] = {
	[T_EOF] = "end of expression", [T_UID] = "identifier",
	[T_QID] = "quoted identifier", [T_NUMBER] = "number",
	[T_LITERAL] = "literal", [T_RAW] = "raw string",
	[T_DOT] = "'.'", [T_STAR] = "'*'", [T_FLATTEN] = "'[]'",
	[T_FILTER] = "'[?'", [T_LBRACKET] = "'['", [T_RBRACKET] = "']'",
	[T_LBRACE] = "'{'", [T_RBRACE] = "'}'", [T_LPAREN] = "'('",
	[T_RPAREN] = "')'", [T_COMMA] = "','", [T_COLON] = "':'",
	[T_AT] = "'@'", [T_EXPREF] = "'&'", [T_PIPE] = "'|'",
	[T_OR] = "'||'", [T_AND] = "'&&'", [T_NOT] = "'!'",
	[T_EQ] = "'=='", [T_NE] = "'!='", [T_LT] = "'<'", [T_LE] = "'<='",
	[T_GT] = "'>'", [T_GE] = "'>='",
};

const char *
jp_tok_name(enum jp_tok t)
{
	return t < T_NTOKENS ? tok_names[t] : "?";
}

static int
lex_error(struct lexer *lx, size_t pos, const char *fmt, ...)
{
	va_list ap;

	lx->err->kind = JP_ERR_SYNTAX;
	lx->err->pos = (int)pos;
	va_start(ap, fmt);
	vsnprintf(lx->err->msg, sizeof lx->err->msg, fmt, ap);
	va_end(ap);
	return -1;
}

static struct jp_token *
push(struct lexer *lx, enum jp_tok type, size_t pos, size_t len)
{
	struct jp_token *t;

	xgrow(&lx->t, &lx->cap, lx->n + 1, sizeof *lx->t);
	t = &lx->t[lx->n++];
	t->type = type;
	t->pos = (int)pos;
	t->len = (int)len;
	t->val = NULL;
	t->num = 0;
	return t;
}

static int
is_idstart(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* Finds the closing delimiter q from just after the opening one. */
static int
scan_delimited(struct lexer *lx, char q, size_t *end)
{
	size_t i = lx->i + 1;

	while (i < lx->len && lx->s[i] != q) {
		if (lx->s[i] == '\\' && i + 1 < lx->len)
			i++;
		i++;
	}
	if (i >= lx->len)
		return lex_error(lx, lx->i, "unterminated %s",
		    q == '"' ? "quoted identifier" :
		    q == '\'' ? "raw string" : "literal");
	*end = i;
	return 0;
}

static int
lex_quoted(struct lexer *lx)
{
	size_t end;
	json_error_t je;
	json_t *v;

	if (scan_delimited(lx, '"', &end) < 0)
		return -1;
	v = util_json_loadb(lx->s + lx->i, end + 1 - lx->i,
	    JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	if (v == NULL || !json_is_string(v)) {
		json_decref(v);
		return lex_error(lx, lx->i, "invalid quoted identifier: %s",
		    je.text);
	}
	push(lx, T_QID, lx->i, end + 1 - lx->i)->val = v;
	lx->i = end + 1;
	return 0;
}

static int
lex_raw(struct lexer *lx)
{
	size_t end, i, run;
	struct buf b;
	json_t *v;
	int escaped = 0;

	if (scan_delimited(lx, '\'', &end) < 0)
		return -1;
	/* Copied in runs between the \' escapes, or straight when none. */
	buf_init(&b, 0);
	for (i = run = lx->i + 1; i < end; i++) {
		if (lx->s[i] == '\\' && i + 1 < end && lx->s[i + 1] == '\'') {
			buf_add(&b, lx->s + run, i - run);
			run = ++i;
			escaped = 1;
		}
	}
	if (escaped) {
		buf_add(&b, lx->s + run, end - run);
		v = json_stringn(b.data ? b.data : "", b.len);
	} else
		v = json_stringn(lx->s + lx->i + 1, end - lx->i - 1);
	buf_free(&b);
	if (v == NULL)
		return lex_error(lx, lx->i, "raw string is not valid UTF-8");
	push(lx, T_RAW, lx->i, end + 1 - lx->i)->val = v;
	lx->i = end + 1;
	return 0;
}

static int
lex_literal(struct lexer *lx)
{
	size_t end, i;
	struct buf b;
	json_error_t je;
	json_t *v;

	if (scan_delimited(lx, '`', &end) < 0)
		return -1;
	buf_init(&b, 0);
	for (i = lx->i + 1; i < end; i++) {
		if (lx->s[i] == '\\' && i + 1 < end && lx->s[i + 1] == '`')
			i++;
		buf_addc(&b, lx->s[i]);
	}
	v = util_json_loadb(b.data ? b.data : "", b.len,
	    JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	buf_free(&b);
	if (v == NULL)
		return lex_error(lx, lx->i, "invalid JSON literal: %s",
		    je.text);
	push(lx, T_LITERAL, lx->i, end + 1 - lx->i)->val = v;
	lx->i = end + 1;
	return 0;
}

static int
lex_number(struct lexer *lx)
{
	size_t start = lx->i, i = lx->i;
	long long v = 0;
	int neg = 0;

	if (lx->s[i] == '-') {
		neg = 1;
		i++;
		if (i >= lx->len || !is_digit(lx->s[i]))
			return lex_error(lx, start, "'-' must start a number");
	}
	for (; i < lx->len && is_digit(lx->s[i]); i++) {
		if (v > (1LL << 53))
			return lex_error(lx, start, "number too large");
		v = v * 10 + (lx->s[i] - '0');
	}
	push(lx, T_NUMBER, start, i - start)->num = neg ? -v : v;
	lx->i = i;
	return 0;
}

/* One- or two-character operators: 0 done, 1 not an operator, -1 error. */
static int
lex_op(struct lexer *lx)
{
	char c = lx->s[lx->i], d = lx->i + 1 < lx->len ? lx->s[lx->i + 1] : 0;
	enum jp_tok t;
	size_t n = 1;

	switch (c) {
	case '.': t = T_DOT; break;
	case '*': t = T_STAR; break;
	case ',': t = T_COMMA; break;
	case ':': t = T_COLON; break;
	case '@': t = T_AT; break;
	case '(': t = T_LPAREN; break;
	case ')': t = T_RPAREN; break;
	case '{': t = T_LBRACE; break;
	case '}': t = T_RBRACE; break;
	case ']': t = T_RBRACKET; break;
	case '[':
		t = d == ']' ? T_FLATTEN : d == '?' ? T_FILTER : T_LBRACKET;
		n = t == T_LBRACKET ? 1 : 2;
		break;
	case '|': t = d == '|' ? T_OR : T_PIPE; n = d == '|' ? 2 : 1; break;
	case '&': t = d == '&' ? T_AND : T_EXPREF; n = d == '&' ? 2 : 1; break;
	case '!': t = d == '=' ? T_NE : T_NOT; n = d == '=' ? 2 : 1; break;
	case '<': t = d == '=' ? T_LE : T_LT; n = d == '=' ? 2 : 1; break;
	case '>': t = d == '=' ? T_GE : T_GT; n = d == '=' ? 2 : 1; break;
	case '=':
		if (d != '=')
			return lex_error(lx, lx->i,
			    "'=' is not an operator (did you mean '=='?)");
		t = T_EQ;
		n = 2;
		break;
	default:
		return 1;
	}
	push(lx, t, lx->i, n);
	lx->i += n;
	return 0;
}

static int
lex_one(struct lexer *lx)
{
	char c = lx->s[lx->i];
	size_t start;
	int rc;

	if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
		lx->i++;
		return 0;
	}
	if (is_idstart((unsigned char)c)) {
		start = lx->i;
		while (lx->i < lx->len && (is_idstart((unsigned char)
		    lx->s[lx->i]) || is_digit(lx->s[lx->i])))
			lx->i++;
		push(lx, T_UID, start, lx->i - start);
		return 0;
	}
	if (is_digit(c) || c == '-')
		return lex_number(lx);
	if (c == '"')
		return lex_quoted(lx);
	if (c == '\'')
		return lex_raw(lx);
	if (c == '`')
		return lex_literal(lx);
	if ((rc = lex_op(lx)) <= 0)
		return rc;
	if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
		return lex_error(lx, lx->i, "unexpected character '%c'", c);
	return lex_error(lx, lx->i, "unexpected byte 0x%02x",
	    (unsigned char)c);
}

struct jp_token *
jp_lex(const char *src, size_t len, size_t *ntok, struct jp_error *err)
{
	struct lexer lx = { .s = src, .len = len, .err = err };

	while (lx.i < lx.len) {
		if (lex_one(&lx) < 0) {
			jp_lex_free(lx.t, lx.n);
			return NULL;
		}
	}
	push(&lx, T_EOF, len, 0);
	*ntok = lx.n;
	return lx.t;
}

void
jp_lex_free(struct jp_token *t, size_t n)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < n; i++)
		json_decref(t[i].val);
	free(t);
}
