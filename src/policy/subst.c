/*
 * Kyverno's {{ }} variable substitution.
 *
 * A variable is "{{", then text in which single braces only appear as
 * balanced "{...}" groups (a JMESPath multi-select hash), then "}}".
 * Kyverno finds such variables with a regular expression, substitutes the
 * innermost first and rescans, so "{{ a.{{ b }} }}" evaluates b, splices
 * its value into the outer expression and then evaluates that.  Here the
 * text is parsed once, with nesting, and evaluated inside out: the result
 * is the same, but a value that itself contains "{{" is never evaluated
 * again (Kyverno would; an object field could then run expressions of the
 * object's author's choosing, or loop forever).
 *
 * A string that is exactly one variable takes the JSON type of its value;
 * otherwise string values are spliced as they are and any other value as
 * encoding/json prints it.  "\{{ x }}" is the escape for a literal
 * "{{ x }}".
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "policy/pol_int.h"

struct pol_cache {
	struct map	 exprs;	/* source -> struct jp_expr * */
};

struct pol_cache *
pol_cache_new(void)
{
	struct pol_cache *c = xcalloc(1, sizeof(*c));

	map_init(&c->exprs);
	return c;
}

static void
free_expr(void *e)
{
	jp_free(e);
}

void
pol_cache_free(struct pol_cache *c)
{
	if (c == NULL)
		return;
	map_clear(&c->exprs, free_expr);
	free(c);
}

/* ---- the grammar -------------------------------------------------------- */

static int
at_open(const char *s, size_t i, size_t n)
{
	return i + 1 < n && s[i] == '{' && s[i + 1] == '{';
}

/*
 * The end (one past "}}") of the variable that opens at s[i], or 0 when
 * the text there is not a variable.  *nested counts the variables inside.
 */
static size_t
var_end(const char *s, size_t i, size_t n, int depth, int *nested)
{
	size_t j = i + 2, e;

	if (depth > POL_MAX_NEST)
		return 0;
	while (j < n) {
		if (s[j] == '}')
			return j + 1 < n && s[j + 1] == '}' ? j + 2 : 0;
		if (at_open(s, j, n)) {
			if ((e = var_end(s, j, n, depth + 1, nested)) == 0)
				return 0;
			(*nested)++;
			j = e;
		} else if (s[j] == '{') {
			/* a "{...}" group, which may hold variables itself */
			for (j++; j < n && s[j] != '}'; ) {
				if (at_open(s, j, n)) {
					e = var_end(s, j, n, depth + 1, nested);
					if (e == 0)
						return 0;
					(*nested)++;
					j = e;
				} else if (s[j] == '{')
					return 0;
				else
					j++;
			}
			if (j >= n)
				return 0;
			j++;
		} else
			j++;
	}
	return 0;
}

/* ---- evaluation --------------------------------------------------------- */

struct sctx {
	json_t			*ctx;
	const struct jp_env	*env;
	const struct pol_cache	*cache;
	enum pol_vmode		 mode;
	int			 delete_op;
	/* visiting instead of evaluating (pol_vars_each) */
	int			(*visit)(void *, const char *, size_t);
	void			*varg;
	int			 vrc;
	char			*err;	/* owned: the first error */
};

static int expand(struct sctx *, const char *, size_t, struct buf *,
    json_t **, int);

/* "request.object" -> "request.oldObject", as Kyverno does for DELETE. */
static char *
rewrite_delete(const char *expr)
{
	static const char from[] = "request.object", to[] = "request.oldObject";
	struct buf b;
	const char *p = expr, *q;

	buf_init(&b, 0);
	while ((q = strstr(p, from)) != NULL) {
		buf_add(&b, p, (size_t)(q - p));
		buf_adds(&b, to);
		p = q + sizeof(from) - 1;
	}
	buf_adds(&b, p);
	return buf_steal(&b);
}

/*
 * What a variable whose expression src evaluated to r gives: r, or for a
 * failure (NULL, jerr says why) "" in a lenient mode (but for a lookup()
 * that could not read the cluster) and else NULL with *err (owned).
 */
static json_t *
resolved(json_t *r, const struct jp_error *jerr, const char *src,
    enum pol_vmode mode, char **err)
{
	if (r != NULL)
		return r;
	if (mode == POL_VAR_LENIENT && jerr->kind != JP_ERR_LOOKUP)
		return json_string("");
	*err = xasprintf("failed to resolve {{ %s }}: %s: %s", src,
	    jp_errkind_name(jerr->kind), jerr->msg);
	return NULL;
}

static json_t *
eval_var(struct sctx *c, const char *src)
{
	struct jp_error jerr;
	char *text = NULL;
	json_t *r;

	memset(&jerr, 0, sizeof(jerr));
	if (*src == '\0') {
		c->err = xstrdup("empty variable {{ }}");
		return NULL;
	}
	if (c->delete_op && strstr(src, "request.object") != NULL)
		src = text = rewrite_delete(src);
	r = resolved(pol_cache_search(c->cache, src, c->ctx, c->env, &jerr),
	    &jerr, src, c->mode, &c->err);
	free(text);
	return r;
}

/* Splices v into b: a string as it is, anything else as JSON. */
static int
splice(struct sctx *c, struct buf *b, json_t *v)
{
	if (json_is_string(v))
		buf_add(b, json_string_value(v), json_string_length(v));
	else if (gofmt_json(b, v, GOFMT_HTML) != 0 && !b->overflow) {
		c->err = xstrdup("a variable's value cannot be written as "
		    "JSON (NaN or infinity)");
		return -1;
	}
	return 0;
}

/* The variable s[i..end): its value, or NULL with c->err set. */
static json_t *
variable(struct sctx *c, const char *s, size_t i, size_t end, int nested,
    int depth)
{
	struct buf inner;
	const char *p;
	size_t len;
	json_t *r = NULL;
	char *src;

	buf_init(&inner, POL_MAX_TEXT);
	/*
	 * With no variable inside (var_end counted none, so no "{{" at
	 * all, escaped or not), expanding the inside would copy it byte by
	 * byte: it is read where it is.  A policy's lookup() is some 200
	 * bytes, and that copy was most of its substitution.
	 */
	if (nested == 0) {
		p = s + i + 2;
		len = end - i - 4;
	} else if (expand(c, s + i + 2, end - i - 4, &inner, NULL,
	    depth + 1) != 0) {
		buf_free(&inner);
		return NULL;
	} else {
		p = inner.data ? inner.data : "";
		len = inner.len;
	}
	for (; len && isspace((unsigned char)*p); p++, len--)
		;
	for (; len && isspace((unsigned char)p[len - 1]); len--)
		;
	src = xstrndup(p, len);
	if (c->visit) {
		if (!nested && c->vrc == 0)
			c->vrc = c->visit(c->varg, src, len);
		r = json_null();
	} else
		r = eval_var(c, src);
	free(src);
	buf_free(&inner);
	return r;
}

/*
 * Substitutes s[0..n) into b.  When typed is not NULL and the whole text
 * is one variable, *typed gets its value instead.  Returns 0 or -1.
 */
static int
expand(struct sctx *c, const char *s, size_t n, struct buf *b,
    json_t **typed, int depth)
{
	size_t i = 0, end;
	int nested;
	json_t *v;

	if (depth > POL_MAX_NEST) {
		c->err = xasprintf("{{ }} nested deeper than %d", POL_MAX_NEST);
		return -1;
	}
	while (i < n) {
		nested = 0;
		if (s[i] == '\\' && at_open(s, i + 1, n) &&
		    (end = var_end(s, i + 1, n, depth, &nested)) != 0) {
			/* "\{{ x }}" is the text "{{ x }}" */
			buf_add(b, s + i + 1, end - i - 1);
			i = end;
			continue;
		}
		if (!at_open(s, i, n) ||
		    (end = var_end(s, i, n, depth, &nested)) == 0) {
			buf_addc(b, s[i++]);
			continue;
		}
		if ((v = variable(c, s, i, end, nested, depth)) == NULL)
			return -1;
		if (typed != NULL && i == 0 && end == n) {
			*typed = v;
			return 0;
		}
		if (splice(c, b, v) != 0) {
			json_decref(v);
			return -1;
		}
		json_decref(v);
		i = end;
	}
	if (b->overflow) {
		c->err = xasprintf("substituted text longer than %u bytes",
		    POL_MAX_TEXT);
		return -1;
	}
	return 0;
}

json_t *
pol_subst(const char *text, json_t *ctx, const struct jp_env *env,
    const struct pol_cache *cache, enum pol_vmode mode, int delete_op,
    char **err)
{
	struct sctx c;
	struct buf b;
	json_t *typed = NULL;
	size_t n;

	memset(&c, 0, sizeof(c));
	c.ctx = ctx;
	c.env = env;
	c.cache = cache;
	c.mode = mode;
	c.delete_op = delete_op;
	*err = NULL;
	n = strlen(text);
	/*
	 * No "{{" (so no escaped "\{{" either): the text is itself, as
	 * expand would copy it byte by byte; most of a policy's strings
	 * are so.
	 */
	if (pol_subst_plain(text, n))
		typed = json_stringn(text, n);
	else {
		buf_init(&b, POL_MAX_TEXT);
		if (expand(&c, text, n, &b, &typed, 0) != 0) {
			buf_free(&b);
			*err = c.err ? c.err :
			    xstrdup("variable substitution failed");
			return NULL;
		}
		if (typed == NULL)
			typed = json_stringn(b.data ? b.data : "", b.len);
		buf_free(&b);
	}
	if (typed == NULL)
		*err = xstrdup("substituted text is not valid UTF-8");
	return typed;
}

int
pol_subst_plain(const char *text, size_t len)
{
	return len < POL_MAX_TEXT && strlen(text) == len &&
	    strstr(text, "{{") == NULL;
}

json_t *
pol_subst_var(const struct jp_expr *e, json_t *ctx, const struct jp_env *env,
    enum pol_vmode mode, char **err)
{
	struct jp_error jerr;

	*err = NULL;
	memset(&jerr, 0, sizeof(jerr));
	return resolved(jp_eval(e, ctx, env, &jerr), &jerr, jp_source(e), mode,
	    err);
}

json_t *
pol_substitute(const char *text, json_t *ctx, const struct jp_env *env,
    char **err)
{
	return pol_subst(text, ctx, env, NULL, POL_VAR_STRICT, 0, err);
}

json_t *
pol_subst_json(json_t *v, json_t *ctx, const struct jp_env *env,
    const struct pol_cache *cache, enum pol_vmode mode, int delete_op,
    char **err)
{
	const char *key;
	json_t *out, *e, *r;
	size_t i;

	*err = NULL;
	if (json_is_string(v))
		return pol_subst(json_string_value(v), ctx, env, cache, mode,
		    delete_op, err);
	if (json_is_array(v)) {
		out = json_array();
		json_array_foreach(v, i, e) {
			if ((r = pol_subst_json(e, ctx, env, cache, mode,
			    delete_op, err)) == NULL) {
				json_decref(out);
				return NULL;
			}
			json_array_append_new(out, r);
		}
		return out;
	}
	if (json_is_object(v)) {
		out = json_object();
		json_object_foreach(v, key, e) {
			json_t *k;
			char *ks;

			k = pol_subst(key, ctx, env, cache, mode, delete_op,
			    err);
			if (k == NULL)
				goto fail;
			ks = json_is_string(k) ? xstrdup(json_string_value(k)) :
			    pol_sprint(k);
			json_decref(k);
			r = pol_subst_json(e, ctx, env, cache, mode, delete_op,
			    err);
			if (r == NULL) {
				free(ks);
				goto fail;
			}
			json_object_set_new(out, ks, r);
			free(ks);
		}
		return out;
fail:
		json_decref(out);
		return NULL;
	}
	return json_incref(v);
}

int
pol_vars_each(const char *text, int (*fn)(void *, const char *, size_t),
    void *arg)
{
	struct sctx c;
	struct buf b;

	memset(&c, 0, sizeof(c));
	c.visit = fn;
	c.varg = arg;
	buf_init(&b, POL_MAX_TEXT);
	expand(&c, text, strlen(text), &b, NULL, 0);
	buf_free(&b);
	free(c.err);
	return c.vrc;
}

/* ---- the cache, filled at compile time ---------------------------------- */

/*
 * Compiles expr into the cache.  Returns 0, or -1 with *err (owned).
 * Called only while a set is built, so admission reads the cache without
 * changing it.
 */
int
pol_cache_add(struct pol_cache *c, const char *expr, char **err)
{
	struct jp_error jerr;
	struct jp_expr *e;

	if (map_get(&c->exprs, expr) != NULL)
		return 0;
	memset(&jerr, 0, sizeof(jerr));
	if ((e = jp_compile(expr, &jerr)) == NULL) {
		if (jerr.pos >= 0)
			*err = xasprintf("%s at offset %d of \"%s\"",
			    jerr.msg, jerr.pos, expr);
		else
			*err = xasprintf("%s in \"%s\"", jerr.msg, expr);
		return -1;
	}
	map_put(&c->exprs, expr, e);
	return 0;
}

const struct jp_expr *
pol_cache_whole(const struct pol_cache *c, const char *text)
{
	size_t n = strlen(text), end;
	int nested = 0;
	const char *p;
	const struct jp_expr *e;
	char *expr;

	if (!at_open(text, 0, n) || (end = var_end(text, 0, n, 0, &nested)) !=
	    n || nested != 0)
		return NULL;
	/* variable()'s trimming, on the text between the braces */
	for (p = text + 2, n -= 4; n && isspace((unsigned char)*p); p++, n--)
		;
	for (; n && isspace((unsigned char)p[n - 1]); n--)
		;
	expr = xstrndup(p, n);
	e = map_get(&c->exprs, expr);
	free(expr);
	return e;
}

json_t *
pol_cache_search(const struct pol_cache *c, const char *expr, json_t *data,
    const struct jp_env *env, struct jp_error *err)
{
	const struct jp_expr *e = c ? map_get(&c->exprs, expr) : NULL;

	/* text a substitution made is new each time: compiled for once */
	return e ? jp_eval(e, data, env, err) : jp_search(expr, data, env,
	    err);
}

/* ---- variables a policy may name ---------------------------------------- */

/* Whether s holds, anywhere, a lowercase function call "name(x". */
static int
has_call(const char *s)
{
	const char *p;

	for (p = strchr(s, '('); p != NULL; p = strchr(p + 1, '(')) {
		if (p == s || !(islower((unsigned char)p[-1]) ||
		    isdigit((unsigned char)p[-1]) || p[-1] == '_'))
			continue;
		if (p[1] != '\0' && p[1] != '{' && p[1] != '}')
			return 1;
	}
	return 0;
}

/*
 * Kyverno refuses a policy whose variable names none of the roots it
 * provides (request., serviceAccountName, images., element, @, ...) and
 * calls no function, unless a context entry of the rule defines it; its
 * test is an unanchored match anywhere in the expression, and so is this
 * one.
 */
int
pol_var_allowed(const char *expr, char *const *names, size_t n)
{
	static const char *const roots[] = {
		"request.", "serviceAccountName", "serviceAccountNamespace",
		"element", "elementIndex", "@", "images.", "image.",
	};
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(roots); i++)
		if (strstr(expr, roots[i]) != NULL)
			return 1;
	for (i = 0; i < n; i++)
		if (strstr(expr, names[i]) != NULL)
			return 1;
	return has_call(expr);
}
