/*
 * Paths into event data, as Argo Events writes them.
 *
 * Reading uses gjson's syntax (filters' `path`, parameters' `dataKey`,
 * exprs' `fields`).  Supported: keys separated by dots, `\` escaping the
 * next character (`metadata.labels.app\.kubernetes\.io/name`), array
 * indexes (`items.0`), `#` for an array's length, `#.rest` to map the rest
 * over each element, `*` and `?` wildcards in keys, and queries
 * `#(key op value)` (first match) and `#(...)#` (all matches) with ==, =,
 * !=, <, <=, >, >=, % and !% (glob) against a JSON literal.  Not
 * supported, and refused at compile time so a manifest never silently
 * matches nothing: `|` pipes, `@` modifiers and multipaths.
 *
 * Paths are split once at compile time; evaluation is a few hash lookups
 * and allocates only when the answer is built (`#`, `#.`, `#(...)#`).
 *
 * Writing uses sjson's syntax (parameters' `dest`): dots, `\` escapes,
 * numeric components index arrays, `-1` appends, a leading `:` forces a
 * numeric component to be an object key; missing parents are created as
 * arrays when the next component is numeric, else as objects.
 */
#include <stdlib.h>
#include <string.h>

#include "sensor/sensor_int.h"

#define MAX_PATH	4096	/* bytes of one path */
#define MAX_INDEX	100000	/* sjson pads arrays up to here */
#define MAX_NEST	16	/* queries inside queries */

enum pskind { PS_KEY, PS_GLOB, PS_COUNT, PS_MAP, PS_QUERY, PS_QUERY_ALL };
enum qop { Q_EXISTS, Q_EQ, Q_NE, Q_LT, Q_LE, Q_GT, Q_GE, Q_LIKE, Q_NLIKE };

struct pquery {
	struct sensor_path	*lhs;
	enum qop		 op;
	json_t			*rhs;	/* owned literal */
};

struct pstep {
	enum pskind	 kind;
	char		*key;		/* owned, unescaped */
	size_t		 keylen;
	long		 idx;		/* key as an array index, or -1 */
	struct pquery	 q;
};

struct sensor_path {
	char		*src;
	struct pstep	*steps;
	size_t		 n, cap;
};

static long
as_index(const char *k, size_t n)
{
	long v = 0;
	size_t i;

	if (n == 0 || n > 9)
		return -1;
	for (i = 0; i < n; i++) {
		if (k[i] < '0' || k[i] > '9')
			return -1;
		v = v * 10 + (k[i] - '0');
	}
	return v;
}

static struct pstep *
add_step(struct sensor_path *p, enum pskind k)
{
	struct pstep *st;

	xgrow(&p->steps, &p->cap, p->n + 1, sizeof *p->steps);
	st = &p->steps[p->n++];
	memset(st, 0, sizeof *st);
	st->kind = k;
	st->idx = -1;
	return st;
}

/* Finds the ')' closing the '(' at s[0]; skips quoted strings. */
static const char *
close_paren(const char *s)
{
	int depth = 0;

	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
		} else if (*s == '"') {
			for (s++; *s && *s != '"'; s++)
				if (*s == '\\' && s[1])
					s++;
			if (*s == '\0')
				return NULL;
		} else if (*s == '(') {
			depth++;
		} else if (*s == ')') {
			if (--depth == 0)
				return s;
		}
	}
	return NULL;
}

static struct sensor_path *compile(const char *, int, char **);

static int
parse_query(struct pquery *q, const char *s, size_t n, int nest, char **err)
{
	static const struct { const char *t; enum qop op; } ops[] = {
		{ "==", Q_EQ }, { "!=", Q_NE }, { "<=", Q_LE }, { ">=", Q_GE },
		{ "!%", Q_NLIKE }, { "<", Q_LT }, { ">", Q_GT }, { "=", Q_EQ },
		{ "%", Q_LIKE },
	};
	char *lhs, *rhs;
	size_t i, j, oplen = 0;
	int depth = 0;
	json_error_t je;

	q->op = Q_EXISTS;
	for (i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n) {
			i++;
			continue;
		}
		if (s[i] == '(')
			depth++;
		else if (s[i] == ')')
			depth--;
		if (depth)
			continue;
		for (j = 0; j < UTIL_ARRAY_LEN(ops); j++) {
			oplen = strlen(ops[j].t);
			if (i + oplen <= n && strncmp(s + i, ops[j].t, oplen) ==
			    0) {
				q->op = ops[j].op;
				break;
			}
		}
		if (q->op != Q_EXISTS)
			break;
	}
	lhs = xstrndup(s, i);
	while (*lhs && lhs[strlen(lhs) - 1] == ' ')
		lhs[strlen(lhs) - 1] = '\0';
	if (lhs[strspn(lhs, " ")] == '\0') {
		/* #(=="fb"): the element itself */
		q->lhs = xcalloc(1, sizeof *q->lhs);
		q->lhs->src = xstrdup("");
	} else
		q->lhs = compile(lhs + strspn(lhs, " "), nest + 1, err);
	free(lhs);
	if (q->lhs == NULL)
		return -1;
	if (q->op == Q_EXISTS)
		return 0;
	rhs = xstrndup(s + i + oplen, n - i - oplen);
	q->rhs = util_json_loads(rhs + strspn(rhs, " "), JSON_DECODE_ANY, &je);
	if (q->rhs == NULL || json_is_object(q->rhs) || json_is_array(q->rhs)) {
		*err = xasprintf("query value %s is not a string, number, "
		    "true, false or null", rhs);
		free(rhs);
		return -1;
	}
	free(rhs);
	if ((q->op == Q_LIKE || q->op == Q_NLIKE) && !json_is_string(q->rhs)) {
		*err = xstrdup("% and !% compare with a \"pattern\"");
		return -1;
	}
	return 0;
}

/* Reads one key up to an unescaped '.', unescaping; *glob if it has an
 * unescaped * or ?.  Returns the end. */
static const char *
read_key(const char *s, struct buf *k, int *glob, char **err)
{
	*glob = 0;
	for (; *s && *s != '.'; s++) {
		if (*s == '\\') {
			if (s[1] == '\0')
				break;
			s++;
			buf_addc(k, *s);
			continue;
		}
		if (*s == '|') {
			*err = xstrdup("`|` pipes are not supported");
			return NULL;
		}
		if (*s == ',') {
			*err = xstrdup("multipaths are not supported (escape "
			    "the comma as `\\,` if it is part of a key)");
			return NULL;
		}
		if (*s == '*' || *s == '?')
			*glob = 1;
		buf_addc(k, *s);
	}
	return s;
}

static struct sensor_path *
compile(const char *src, int depth, char **err)
{
	struct sensor_path *p;
	struct pstep *st;
	const char *s = src, *end;
	struct buf k;
	int glob;

	*err = NULL;
	if (strlen(src) > MAX_PATH || depth > MAX_NEST) {
		*err = xstrdup(depth > MAX_NEST ? "queries nested too deeply" :
		    "path too long");
		return NULL;
	}
	p = xcalloc(1, sizeof *p);
	p->src = xstrdup(src);
	if (*s == '[' || *s == '{') {
		*err = xstrdup("multipaths are not supported");
		goto fail;
	}
	while (*s) {
		if (*s == '@') {
			*err = xasprintf("modifiers (%s) are not supported", s);
			goto fail;
		}
		if (s[0] == '#' && s[1] == '(') {
			if ((end = close_paren(s + 1)) == NULL) {
				*err = xstrdup("unbalanced `(` in query");
				goto fail;
			}
			st = add_step(p, PS_QUERY);
			if (parse_query(&st->q, s + 2, (size_t)(end - s - 2),
			    depth, err) == -1)
				goto fail;
			s = end + 1;
			if (*s == '#') {
				st->kind = PS_QUERY_ALL;
				s++;
			}
		} else if (s[0] == '#' && (s[1] == '\0' || s[1] == '.')) {
			add_step(p, s[1] ? PS_MAP : PS_COUNT);
			s++;
		} else {
			buf_init(&k, 0);
			if ((end = read_key(s, &k, &glob, err)) == NULL) {
				buf_free(&k);
				goto fail;
			}
			st = add_step(p, glob ? PS_GLOB : PS_KEY);
			st->keylen = k.len;
			st->key = buf_steal(&k);
			st->idx = as_index(st->key, st->keylen);
			s = end;
		}
		if (*s == '.') {
			s++;
			if (*s == '\0') {
				*err = xstrdup("path ends with `.`");
				goto fail;
			}
		} else if (*s != '\0') {
			*err = xasprintf("unexpected `%c` in path", *s);
			goto fail;
		}
	}
	if (p->n == 0) {
		*err = xstrdup("empty path");
		goto fail;
	}
	return p;
fail:
	sensor_path_free(p);
	return NULL;
}

struct sensor_path *
sensor_path_compile(const char *src, char **err)
{
	return compile(src, 0, err);
}

void
sensor_path_free(struct sensor_path *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++) {
		free(p->steps[i].key);
		sensor_path_free(p->steps[i].q.lhs);
		json_decref(p->steps[i].q.rhs);
	}
	free(p->steps);
	free(p->src);
	free(p);
}

const char *
sensor_path_src(const struct sensor_path *p)
{
	return p->src;
}

static json_t *peval(const struct pstep *, size_t, json_t *, json_t **);

static int
cmp3(double a, double b)
{
	return a < b ? -1 : a > b;
}

static int
qmatch(const struct pquery *q, json_t *elem)
{
	json_t *tmp = NULL, *v;
	int c = 0, ok = 0;

	v = q->lhs->n ? peval(q->lhs->steps, q->lhs->n, elem, &tmp) : elem;
	if (v == NULL)
		return 0;
	if (q->op == Q_EXISTS) {
		ok = 1;
		goto out;
	}
	if (json_is_string(q->rhs)) {
		if (!json_is_string(v))
			goto out;
		if (q->op == Q_LIKE || q->op == Q_NLIKE) {
			ok = util_glob(json_string_value(q->rhs),
			    json_string_value(v));
			ok = q->op == Q_LIKE ? ok : !ok;
			goto out;
		}
		c = strcmp(json_string_value(v), json_string_value(q->rhs));
	} else if (json_is_number(q->rhs)) {
		if (!json_is_number(v))
			goto out;
		c = cmp3(json_number_value(v), json_number_value(q->rhs));
	} else {
		if (json_typeof(v) != json_typeof(q->rhs))
			c = 1;
		if (q->op != Q_EQ && q->op != Q_NE)
			goto out;
	}
	switch (q->op) {
	case Q_EQ:	ok = c == 0; break;
	case Q_NE:	ok = c != 0; break;
	case Q_LT:	ok = c < 0; break;
	case Q_LE:	ok = c <= 0; break;
	case Q_GT:	ok = c > 0; break;
	case Q_GE:	ok = c >= 0; break;
	default:	break;
	}
out:
	json_decref(tmp);
	return ok;
}

/* Applies the steps after a map or an all-matches query to each chosen
 * element; the answer is a new array in *tmp. */
static json_t *
collect(const struct pstep *st, size_t n, json_t *arr,
    const struct pquery *q, json_t **tmp)
{
	json_t *out, *elem, *r, *t;
	size_t i;

	out = json_array();
	json_array_foreach(arr, i, elem) {
		if (q && !qmatch(q, elem))
			continue;
		t = NULL;
		r = n ? peval(st, n, elem, &t) : elem;
		if (r)
			json_array_append(out, r);
		json_decref(t);
	}
	*tmp = out;
	return out;
}

static json_t *
peval(const struct pstep *st, size_t n, json_t *v, json_t **tmp)
{
	const char *k;
	json_t *m, *elem;
	size_t i, j;

	*tmp = NULL;
	for (i = 0; i < n && v != NULL; i++) {
		switch (st[i].kind) {
		case PS_KEY:
			if (json_is_object(v))
				v = json_object_getn(v, st[i].key,
				    st[i].keylen);
			else if (json_is_array(v) && st[i].idx >= 0)
				v = json_array_get(v, (size_t)st[i].idx);
			else
				v = NULL;
			break;
		case PS_GLOB:
			m = NULL;
			if (json_is_object(v)) {
				json_object_foreach(v, k, elem) {
					if (util_glob(st[i].key, k)) {
						m = elem;
						break;
					}
				}
			}
			v = m;
			break;
		case PS_COUNT:
			if (!json_is_array(v))
				return NULL;
			*tmp = json_integer((json_int_t)json_array_size(v));
			return *tmp;
		case PS_MAP:
			if (!json_is_array(v))
				return NULL;
			return collect(st + i + 1, n - i - 1, v, NULL, tmp);
		case PS_QUERY_ALL:
			if (!json_is_array(v))
				return NULL;
			return collect(st + i + 1, n - i - 1, v, &st[i].q, tmp);
		case PS_QUERY:
			m = NULL;
			if (json_is_array(v)) {
				json_array_foreach(v, j, elem) {
					if (qmatch(&st[i].q, elem)) {
						m = elem;
						break;
					}
				}
			}
			v = m;
			break;
		}
	}
	return v;
}

json_t *
sensor_path_eval(const struct sensor_path *p, json_t *data, json_t **tmp)
{
	*tmp = NULL;
	if (data == NULL)
		return NULL;
	return peval(p->steps, p->n, data, tmp);
}

json_t *
sensor_path_get(json_t *data, const char *path)
{
	struct sensor_path *p;
	json_t *v, *tmp;
	char *err;

	if ((p = sensor_path_compile(path, &err)) == NULL) {
		free(err);
		return NULL;
	}
	v = sensor_path_eval(p, data, &tmp);
	sensor_path_free(p);
	if (tmp) {
		/* built answers have no owner to borrow from */
		json_decref(tmp);
		return NULL;
	}
	return v;
}

json_t *
sensor_path_value(json_t *data, const char *path)
{
	struct sensor_path *p;
	json_t *v, *tmp;
	char *err;

	if ((p = sensor_path_compile(path, &err)) == NULL) {
		free(err);
		return NULL;
	}
	v = sensor_path_eval(p, data, &tmp);
	sensor_path_free(p);
	if (v && tmp == NULL)
		json_incref(v);
	return v;
}

/* ---- sjson destinations ------------------------------------------------- */

struct dcomp {
	char	*key;
	long	 idx;		/* numeric: index; -2 append; -1 key only */
};

struct sensor_dest {
	struct dcomp	*v;
	size_t		 n, cap;
};

struct sensor_dest *
sensor_dest_compile(const char *src, char **err)
{
	struct sensor_dest *d;
	struct dcomp *c;
	struct buf k;
	const char *s = src;
	int force;

	*err = NULL;
	if (*src == '\0' || strlen(src) > MAX_PATH) {
		*err = xstrdup(*src ? "path too long" : "empty path");
		return NULL;
	}
	d = xcalloc(1, sizeof *d);
	for (;;) {
		buf_init(&k, 0);
		force = *s == ':';
		if (force)
			s++;
		for (; *s && *s != '.'; s++) {
			if (*s == '\\' && s[1])
				s++;
			else if (*s == '*' || *s == '?') {
				*err = xstrdup("wildcards cannot be used in "
				    "dest");
				buf_free(&k);
				sensor_dest_free(d);
				return NULL;
			}
			buf_addc(&k, *s);
		}
		xgrow(&d->v, &d->cap, d->n + 1, sizeof *d->v);
		c = &d->v[d->n++];
		c->key = buf_steal(&k);
		c->idx = -1;
		if (!force) {
			if (strcmp(c->key, "-1") == 0)
				c->idx = -2;
			else
				c->idx = as_index(c->key, strlen(c->key));
		}
		if (*s == '\0')
			break;
		s++;
	}
	return d;
}

void
sensor_dest_free(struct sensor_dest *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n; i++)
		free(d->v[i].key);
	free(d->v);
	free(d);
}

json_t *
sensor_dest_get(const struct sensor_dest *d, json_t *v)
{
	size_t i;

	for (i = 0; i < d->n && v != NULL; i++) {
		if (json_is_object(v))
			v = json_object_get(v, d->v[i].key);
		else if (json_is_array(v) && d->v[i].idx >= 0)
			v = json_array_get(v, (size_t)d->v[i].idx);
		else
			v = NULL;
	}
	return v;
}

/* Puts value (stolen) at c in the container cur. */
static int
put(json_t *cur, const struct dcomp *c, json_t *value, char **err)
{
	if (json_is_object(cur)) {
		json_object_set_new(cur, c->key, value);
		return 0;
	}
	if (c->idx == -2) {
		json_array_append_new(cur, value);
		return 0;
	}
	if (c->idx < 0 || c->idx > MAX_INDEX) {
		*err = xasprintf("cannot set `%s` in an array", c->key);
		json_decref(value);
		return -1;
	}
	while (json_array_size(cur) < (size_t)c->idx)
		json_array_append_new(cur, json_null());
	if (json_array_size(cur) == (size_t)c->idx)
		json_array_append_new(cur, value);
	else
		json_array_set_new(cur, (size_t)c->idx, value);
	return 0;
}

int
sensor_dest_set(const struct sensor_dest *d, json_t *root, json_t *value,
    char **err)
{
	json_t *cur = root, *next;
	size_t i;

	*err = NULL;
	if (!json_is_object(cur) && !json_is_array(cur)) {
		*err = xstrdup("cannot set a path in a scalar");
		json_decref(value);
		return -1;
	}
	for (i = 0; i + 1 < d->n; i++) {
		next = sensor_dest_get(&(struct sensor_dest){ &d->v[i], 1, 1 },
		    cur);
		if (d->v[i].idx == -2 && json_is_array(cur))
			next = NULL;
		if (!json_is_object(next) && !json_is_array(next)) {
			next = d->v[i + 1].idx >= 0 || d->v[i + 1].idx == -2 ?
			    json_array() : json_object();
			if (put(cur, &d->v[i], next, err) == -1)
				goto fail;
		}
		cur = next;
	}
	return put(cur, &d->v[d->n - 1], value, err);
fail:
	json_decref(value);
	return -1;
}
