/*
 * The JMESPath interpreter: a walk over the compiled tree.
 *
 * Every evaluation returns a new reference, but most of what an
 * expression touches is a sub-value of the input: a pure selection of
 * fields, indexes, literals and @, and of ||, &&, ! and comparisons over
 * them (marked "borrow" at compile time, its chains of . and | flattened
 * into a list of steps) is followed in a loop without touching a
 * reference count or the evaluation's budget, and values that are only looked at
 * (a filter's condition, a comparison's operands, a function's arguments)
 * are taken borrowed when they can be.  Only containers an expression
 * builds are allocated, and each counts against the evaluation's budget.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "jp/jp_int.h"
#include "util/util.h"

int
jp_fail(struct jp_ctx *c, enum jp_errkind kind, const char *fmt, ...)
{
	va_list ap;

	if (c->err->kind != JP_OK)
		return -1;	/* the first cause is the one to report */
	c->err->kind = kind;
	c->err->pos = -1;
	va_start(ap, fmt);
	vsnprintf(c->err->msg, sizeof c->err->msg, fmt, ap);
	va_end(ap);
	return -1;
}

int
jp_spend(struct jp_ctx *c, size_t nodes, size_t bytes)
{
	c->nodes += nodes;
	c->bytes += bytes;
	if (c->nodes > JP_MAX_RESULT)
		return jp_fail(c, JP_ERR_LIMIT, "result larger than %d values",
		    JP_MAX_RESULT);
	if (c->bytes > (size_t)JP_MAX_BYTES)
		return jp_fail(c, JP_ERR_LIMIT, "result larger than %d bytes "
		    "of strings", JP_MAX_BYTES);
	return 0;
}

/*
 * A field of d, or NULL.  Objects of one or two keys (every level of a
 * deep selection, many of a Kubernetes object's maps) are scanned in
 * order: comparing lengths and bytes is cheaper than hashing the name,
 * which is what json_object_getn does first.  From three keys on, the
 * iterator calls cost more than the hash (counted with cachegrind).
 */
#define SMALL_OBJECT	2

static inline __attribute__((always_inline)) json_t *
field_get(json_t *d, const char *name, size_t len)
{
	const char *k;
	void *it;
	size_t i;

	if (json_object_size(d) > SMALL_OBJECT)
		return json_object_getn(d, name, len);
	for (it = json_object_iter(d); it; it = json_object_iter_next(d, it)) {
		if (json_object_iter_key_len(it) != len)
			continue;
		/* Names are short: a byte loop beats a call to memcmp. */
		k = json_object_iter_key(it);
		for (i = 0; i < len && k[i] == name[i]; i++)
			;
		if (i == len)
			return json_object_iter_value(it);
	}
	return NULL;
}

/* The value of a comparison: true, false or null, all static. */
static json_t *
compare_values(int op, const json_t *a, const json_t *b)
{
	int o, ok;

	if (op == CMP_EQ)
		return json_boolean(jp_equal(a, b));
	if (op == CMP_NE)
		return json_boolean(!jp_equal(a, b));
	/* Ordering is defined for numbers only, as the spec says. */
	o = jp_order(a, b, &ok);
	if (!ok || !json_is_number(a))
		return json_null();
	if (op == CMP_LT)
		return json_boolean(o < 0);
	if (op == CMP_LE)
		return json_boolean(o <= 0);
	if (op == CMP_GT)
		return json_boolean(o > 0);
	return json_boolean(o >= 0);
}

/* jp_truthy, with the scalars decided here. */
static inline int
truthy(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_INTEGER:
	case JSON_REAL:
	case JSON_TRUE:
		return 1;
	case JSON_FALSE:
	case JSON_NULL:
		return 0;
	default:
		return jp_truthy(v);
	}
}

/*
 * The field of n (N_FIELD) in d, or NULL when d has none: from the
 * document's index when d is in it, else from jansson.  Always inlined:
 * the call would cost as much as the index's lookup.
 */
static inline __attribute__((always_inline)) json_t *
field(const struct jp_doc *doc, json_t *d, const struct jp_node *n)
{
	json_t *v;
	int found;

	if (!json_is_object(d))
		return NULL;
	if (doc != NULL) {
		v = jp_doc_get(doc, d, n, &found);
		if (found)
			return v;
	}
	return field_get(d, n->name, n->namelen);
}

static json_t *borrow(const struct jp_doc *, const struct jp_node *,
    json_t *);

/*
 * The most common selections, fields and chains of fields, followed
 * without borrow()'s frame; the rest through borrow().  A chain of fields
 * (n->fields) stops at the first one missing.
 */
static inline __attribute__((always_inline)) json_t *
sel(const struct jp_doc *doc, const struct jp_node *n, json_t *d)
{
	size_t k;

	if (n->type == N_FIELD)
		return (d = field(doc, d, n)) != NULL ? d : json_null();
	if (!n->fields)
		return borrow(doc, n, d);
	for (k = 0; k < n->npath; k++)
		if ((d = field(doc, d, n->path[k])) == NULL)
			return json_null();
	return d;
}

/*
 * A pure selection, followed without references; null when absent.  What
 * it returns is a sub-value of d, a literal of the expression or one of
 * jansson's static true, false and null, so no step allocates and none
 * can loop: its cost is bounded by the expression's size.  Fields come
 * first and chains of fields (n->fields) stop at the first one missing:
 * they are most of what policies select.
 */
static json_t *
borrow(const struct jp_doc *doc, const struct jp_node *n, json_t *d)
{
	json_t *v;
	long long i;
	size_t sz, k;

	switch (n->type) {
	case N_FIELD:
		return sel(doc, n, d);
	case N_SUBEXPR:
	case N_PIPE:
		if (n->npath == 0)
			return borrow(doc, n->r, borrow(doc, n->l, d));
		if (n->fields)
			return sel(doc, n, d);
		for (k = 0; k < n->npath; k++)
			d = sel(doc, n->path[k], d);
		return d;
	case N_CURRENT:
		return d;
	case N_LITERAL:
		return n->lit;
	case N_INDEX:
		if (!json_is_array(d))
			return json_null();
		sz = json_array_size(d);
		i = n->idx < 0 ? n->idx + (long long)sz : n->idx;
		if (i < 0 || (size_t)i >= sz)
			return json_null();
		return json_array_get(d, (size_t)i);
	case N_OR:
	case N_AND:
		if (n->npath == 0) {
			v = borrow(doc, n->l, d);
			if (truthy(v) == (n->type == N_OR))
				return v;
			return borrow(doc, n->r, d);
		}
		/* Flattened: the first operand that decides, or the last. */
		for (k = 0; ; k++) {
			v = sel(doc, n->path[k], d);
			if (k + 1 == n->npath || truthy(v) == (n->type == N_OR))
				return v;
		}
	case N_NOT:
		return json_boolean(!truthy(borrow(doc, n->l, d)));
	case N_CMP:
		return compare_values(n->op, borrow(doc, n->l, d),
		    borrow(doc, n->r, d));
	default:
		return json_null();	/* not reached: not a path */
	}
}

/* Out of line: the steps ran out (pure()'s rare branch). */
static __attribute__((noinline, cold)) json_t *
out_of_steps(struct jp_ctx *c)
{
	jp_fail(c, JP_ERR_LIMIT, "evaluation took more than %d steps",
	    JP_MAX_STEPS);
	return NULL;
}

/*
 * A pure selection in an evaluation: charged its cost in steps.  Always
 * inlined, a field without borrow()'s frame (sel): a multi-select or a
 * sum of fields is mostly this.
 */
static inline __attribute__((always_inline)) json_t *
pure(struct jp_ctx *c, const struct jp_node *n, json_t *d)
{
	if (n->cost != 0 && (c->steps += n->cost) > JP_MAX_STEPS)
		return out_of_steps(c);
	return sel(c->doc, n, d);
}

/*
 * Evaluates n for a look: returns a borrowed value, and in *own the
 * reference the caller must drop (NULL when nothing was made), or NULL on
 * error.
 */
static json_t *
evb(struct jp_ctx *c, const struct jp_node *n, json_t *d, json_t **own)
{
	if (n->borrow) {
		*own = NULL;
		return pure(c, n, d);
	}
	return *own = jp_ev(c, n, d);
}

static json_t *
new_array(struct jp_ctx *c)
{
	if (jp_spend(c, 1, 0) < 0)
		return NULL;
	return json_array();
}

/* Appends r (stolen) unless it is null; -1 on error (r released). */
static int
append(struct jp_ctx *c, json_t *out, json_t *r)
{
	if (json_is_null(r))
		return 0;
	if (jp_spend(c, 1, 0) < 0) {
		json_decref(r);
		return -1;
	}
	json_array_append_new(out, r);
	return 0;
}

static long long
cap_index(long long len, long long v, long long step)
{
	if (v < 0) {
		v += len;
		if (v < 0)
			v = step < 0 ? -1 : 0;
	} else if (v >= len)
		v = step < 0 ? len - 1 : len;
	return v;
}

static json_t *
slice(struct jp_ctx *c, const struct jp_node *n, json_t *d)
{
	long long len, step, start, stop, i;
	json_t *out;

	if (!json_is_array(d))
		return json_null();
	len = (long long)json_array_size(d);
	step = n->slset[2] ? n->sl[2] : 1;
	start = n->slset[0] ? cap_index(len, n->sl[0], step) :
	    step < 0 ? len - 1 : 0;
	stop = n->slset[1] ? cap_index(len, n->sl[1], step) :
	    step < 0 ? -1 : len;
	if ((out = new_array(c)) == NULL)
		return NULL;
	for (i = start; step > 0 ? i < stop : i > stop; i += step) {
		if (jp_spend(c, 1, 0) < 0) {
			json_decref(out);
			return NULL;
		}
		json_array_append(out, json_array_get(d, (size_t)i));
	}
	return out;
}

static json_t *
project(struct jp_ctx *c, const struct jp_node *n, json_t *d)
{
	json_t *base, *own, *out, *r;
	size_t i, sz;

	if ((base = evb(c, n->l, d, &own)) == NULL)
		return NULL;
	if (!json_is_array(base)) {
		json_decref(own);
		return json_null();
	}
	if ((out = new_array(c)) == NULL)
		goto fail;
	sz = json_array_size(base);
	for (i = 0; i < sz; i++) {
		if ((r = jp_ev(c, n->r, json_array_get(base, i))) == NULL ||
		    append(c, out, r) < 0)
			goto fail;
	}
	json_decref(own);
	return out;
fail:
	json_decref(out);
	json_decref(own);
	return NULL;
}

static json_t *
vproject(struct jp_ctx *c, const struct jp_node *n, json_t *d)
{
	json_t *base, *own, *out, *r;
	void *it;

	if ((base = evb(c, n->l, d, &own)) == NULL)
		return NULL;
	if (!json_is_object(base)) {
		json_decref(own);
		return json_null();
	}
	if ((out = new_array(c)) == NULL)
		goto fail;
	for (it = json_object_iter(base); it;
	    it = json_object_iter_next(base, it)) {
		if ((r = jp_ev(c, n->r, json_object_iter_value(it))) == NULL ||
		    append(c, out, r) < 0)
			goto fail;
	}
	json_decref(own);
	return out;
fail:
	json_decref(out);
	json_decref(own);
	return NULL;
}

static json_t *
filter(struct jp_ctx *c, const struct jp_node *n, json_t *d)
{
	json_t *base, *own, *out = NULL, *r, *e, *cv, *cown;
	size_t i, sz;
	int t;

	if ((base = evb(c, n->l, d, &own)) == NULL)
		return NULL;
	if (!json_is_array(base)) {
		json_decref(own);
		return json_null();
	}
	if ((out = new_array(c)) == NULL)
		goto fail;
	sz = json_array_size(base);
	for (i = 0; i < sz; i++) {
		e = json_array_get(base, i);
		if ((cv = evb(c, n->cond, e, &cown)) == NULL)
			goto fail;
		t = jp_truthy(cv);
		json_decref(cown);
		if (!t)
			continue;
		if ((r = jp_ev(c, n->r, e)) == NULL || append(c, out, r) < 0)
			goto fail;
	}
	json_decref(own);
	return out;
fail:
	json_decref(out);
	json_decref(own);
	return NULL;
}

static json_t *
flatten(struct jp_ctx *c, const struct jp_node *n, json_t *d)
{
	json_t *base, *own, *out, *e;
	size_t i, sz;

	if ((base = evb(c, n->l, d, &own)) == NULL)
		return NULL;
	if (!json_is_array(base)) {
		json_decref(own);
		return json_null();
	}
	if ((out = new_array(c)) == NULL)
		goto fail;
	sz = json_array_size(base);
	for (i = 0; i < sz; i++) {
		e = json_array_get(base, i);
		if (jp_spend(c, json_is_array(e) ? json_array_size(e) : 1,
		    0) < 0)
			goto fail;
		if (json_is_array(e))
			json_array_extend(out, e);
		else
			json_array_append(out, e);
	}
	json_decref(own);
	return out;
fail:
	json_decref(out);
	json_decref(own);
	return NULL;
}

static json_t *
compare(struct jp_ctx *c, const struct jp_node *n, json_t *d)
{
	json_t *a, *b, *aown, *bown, *r;

	if ((a = evb(c, n->l, d, &aown)) == NULL)
		return NULL;
	if ((b = evb(c, n->r, d, &bown)) == NULL) {
		json_decref(aown);
		return NULL;
	}
	r = compare_values(n->op, a, b);
	json_decref(aown);
	json_decref(bown);
	return r;
}

static json_t *
logic(struct jp_ctx *c, const struct jp_node *n, json_t *d)
{
	json_t *a, *own;
	int t;

	if (n->type == N_NOT) {
		if ((a = evb(c, n->l, d, &own)) == NULL)
			return NULL;
		t = jp_truthy(a);
		json_decref(own);
		return json_boolean(!t);
	}
	if ((a = jp_ev(c, n->l, d)) == NULL)
		return NULL;
	if (jp_truthy(a) == (n->type == N_OR))
		return a;
	json_decref(a);
	return jp_ev(c, n->r, d);
}

/*
 * A multi-select list or hash.  Pure elements are taken by reference
 * straight from the selection, without jp_ev's round trip.
 */
static json_t *
multi(struct jp_ctx *c, const struct jp_node *n, json_t *d)
{
	const struct jp_node *kid;
	json_t *out, *r;
	size_t i;

	if (json_is_null(d))
		return json_null();
	if (jp_spend(c, 1 + n->nkids, 0) < 0)
		return NULL;
	out = n->type == N_MSLIST ? json_array() : json_object();
	for (i = 0; i < n->nkids; i++) {
		kid = n->kids[i];
		if (kid->borrow)
			r = (r = pure(c, kid, d)) != NULL ? json_incref(r) :
			    NULL;
		else
			r = jp_ev(c, kid, d);
		if (r == NULL) {
			json_decref(out);
			return NULL;
		}
		if (n->type == N_MSLIST)
			json_array_append_new(out, r);
		else
			json_object_setn_new_nocheck(out,
			    json_string_value(n->keys[i]),
			    json_string_length(n->keys[i]), r);
	}
	return out;
}

static unsigned
type_bit(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return JT_OBJ;
	case JSON_ARRAY:
		return JT_ARR;
	case JSON_STRING:
		return JT_STR;
	case JSON_INTEGER:
	case JSON_REAL:
		return JT_NUM;
	case JSON_TRUE:
	case JSON_FALSE:
		return JT_BOOL;
	default:
		return JT_NULL;
	}
}

static void
mask_names(unsigned m, char *out, size_t len)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ JT_NUM, "number" }, { JT_STR, "string" },
		{ JT_BOOL, "boolean" }, { JT_ARR, "array" },
		{ JT_OBJ, "object" }, { JT_NULL, "null" },
		{ JT_EXPREF, "expression (&...)" },
	};
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < UTIL_ARRAY_LEN(names) && o < len; i++) {
		if (!(m & names[i].bit))
			continue;
		o += (size_t)snprintf(out + o, len - o, "%s%s",
		    o ? " or " : "", names[i].name);
	}
}

int
jp_arg_error(struct jp_call *k, int i, const char *want)
{
	return jp_fail(k->c, JP_ERR_TYPE, "%s() argument %d: expected %s, "
	    "got %s", k->node->fn->name, i + 1, want,
	    jp_typename(k->args[i]));
}

int
jp_call_fail(struct jp_call *k, int i, enum jp_errkind kind,
    const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (i < 0)
		return jp_fail(k->c, kind, "%s(): %s", k->node->fn->name, msg);
	return jp_fail(k->c, kind, "%s() argument %d: %s", k->node->fn->name,
	    i + 1, msg);
}

static int
check_types(struct jp_call *k)
{
	const struct jp_func *f = k->node->fn;
	unsigned want, got;
	char names[96];
	int i, t;

	for (i = 0; i < k->nargs; i++) {
		t = f->max < 0 && i >= f->min ? f->min - 1 : i;
		want = f->types[t < 0 ? 0 : t];
		got = k->args[i] ? type_bit(k->args[i]) : JT_EXPREF;
		if (want & got)
			continue;
		mask_names(want, names, sizeof names);
		return jp_arg_error(k, i, names);
	}
	return 0;
}

static json_t *
call(struct jp_ctx *c, const struct jp_node *n, json_t *d)
{
	struct jp_call k;
	json_t *own[JP_MAX_ARGS], *r = NULL;
	size_t i;

	k.c = c;
	k.node = n;
	k.nargs = (int)n->nkids;
	for (i = 0; i < n->nkids; i++) {
		own[i] = NULL;
		k.exprs[i] = NULL;
		if (n->kids[i]->type == N_EXPREF) {
			k.args[i] = NULL;
			k.exprs[i] = n->kids[i]->l;
		} else if ((k.args[i] = evb(c, n->kids[i], d, &own[i])) ==
		    NULL)
			goto out;
	}
	if (check_types(&k) == 0)
		r = n->fn->fn(&k);
out:
	while (i-- > 0)
		json_decref(own[i]);
	/*
	 * A function's result never points into k (it is a new or borrowed
	 * JSON value): cppcheck cannot see through the function pointer.
	 */
	/* cppcheck-suppress returnDanglingLifetime */
	return r;
}

#define SUM_STACK	32	/* values of sum([...]) kept without malloc */

static int	sum_core(struct jp_ctx *, const struct jp_node *, json_t *,
		    struct jp_sum *, json_t **);

/*
 * Value m of sum([...])'s list into v[m] (owned[m] when it was made) and
 * added to s while all are numbers (*nums).  A sum([...]) inside is
 * added as a number, not boxed (sums[m], v[m] NULL until the list needs
 * it as a value).  -1 on error.
 */
static int
sum_kid(struct jp_ctx *c, const struct jp_node *kid, json_t *d,
    struct jp_sum *s, int *nums, json_t **v, unsigned char *owned,
    struct jp_sum *sums)
{
	json_t *own;
	int rc;

	*owned = 0;
	if (*nums && kid->sumlist) {
		/* The step jp_ev would charge for the call. */
		if (++c->steps > JP_MAX_STEPS)
			return jp_fail(c, JP_ERR_LIMIT, "evaluation took more "
			    "than %d steps", JP_MAX_STEPS);
		*sums = (struct jp_sum)JP_SUM_INIT;
		if ((rc = sum_core(c, kid, d, sums, v)) < 0)
			return -1;
		if (rc == 1 && jp_sum_add_sum(s, sums)) {
			*v = NULL;
			return 0;
		}
		if (rc == 1)	/* not a finite number: its value is null */
			*v = jp_sum_value(sums);
		*owned = 1;
	} else if ((*v = evb(c, kid, d, &own)) == NULL)
		return -1;
	else
		*owned = own != NULL;
	if (*nums && json_is_number(*v))
		jp_sum_add(s, *v);
	else
		*nums = 0;
	return 0;
}

/*
 * sum([e1, ..., en]) (jp_node.sumlist): the values are added as they are
 * selected, without the array and its allocations and reference counts,
 * when they are all numbers, which is all sum() does with them then.
 * Anything else (quantities, a type error to report) goes through the
 * array and sum() as written, with the values already evaluated.  Charged
 * as the list would be: a step, and 1 + n values.  With out, a sum of
 * numbers is left unboxed there (returns 1); else *r is the result
 * (returns 0); -1 on error.
 */
static int
sum_core(struct jp_ctx *c, const struct jp_node *n, json_t *d,
    struct jp_sum *out, json_t **r)
{
	const struct jp_node *list = n->kids[0], *kid;
	json_t *stackv[SUM_STACK], **v = stackv, *arr;
	unsigned char stacko[SUM_STACK], *owned = stacko;
	struct jp_sum stacks[SUM_STACK], *sums = stacks;
	struct jp_sum s = JP_SUM_INIT;
	struct jp_call k;
	size_t i, m = 0;
	int nums = 1, rc = -1;

	*r = NULL;
	if (json_is_null(d))	/* the list is null: sum() says why not */
		return (*r = call(c, n, d)) != NULL ? 0 : -1;
	if (++c->steps > JP_MAX_STEPS)
		return jp_fail(c, JP_ERR_LIMIT, "evaluation took more than "
		    "%d steps", JP_MAX_STEPS);
	if (jp_spend(c, 1 + list->nkids, 0) < 0)
		return -1;
	if (list->nkids > SUM_STACK) {
		v = xcalloc(list->nkids, sizeof *v);
		owned = xcalloc(list->nkids, sizeof *owned);
		sums = xcalloc(list->nkids, sizeof *sums);
	}
	for (m = 0; m < list->nkids; m++) {
		kid = list->kids[m];
		if (!kid->borrow) {
			if (sum_kid(c, kid, d, &s, &nums, &v[m], &owned[m],
			    &sums[m]) < 0)
				goto out;
			continue;
		}
		/* A selection, the common case: in line. */
		owned[m] = 0;
		if ((v[m] = pure(c, kid, d)) == NULL)
			goto out;
		if (nums && json_is_number(v[m]))
			jp_sum_add(&s, v[m]);
		else
			nums = 0;
	}
	if (nums && out != NULL) {
		*out = s;
		rc = 1;
		goto out;
	}
	if (nums) {
		*r = jp_sum_value(&s);
		rc = 0;
		goto out;
	}
	arr = json_array();
	for (i = 0; i < m; i++) {
		if (v[i] == NULL) {	/* an inner sum, now needed boxed */
			v[i] = jp_sum_value(&sums[i]);
			owned[i] = 1;
		}
		json_array_append(arr, v[i]);
	}
	k.c = c;
	k.node = n;
	k.nargs = 1;
	k.args[0] = arr;
	k.exprs[0] = NULL;
	if (check_types(&k) == 0 && (*r = n->fn->fn(&k)) != NULL)
		rc = 0;
	json_decref(arr);
out:
	for (i = 0; i < m; i++)
		if (owned[i])
			json_decref(v[i]);
	if (v != stackv) {
		free(v);
		free(owned);
		free(sums);
	}
	return rc;
}

static json_t *
sum_list(struct jp_ctx *c, const struct jp_node *n, json_t *d)
{
	json_t *r;

	return sum_core(c, n, d, NULL, &r) < 0 ? NULL : r;
}

json_t *
jp_ev(struct jp_ctx *c, const struct jp_node *n, json_t *d)
{
	json_t *l, *own, *r;

	if (n->borrow)
		return (r = pure(c, n, d)) ? json_incref(r) : NULL;
	if (++c->steps > JP_MAX_STEPS) {
		jp_fail(c, JP_ERR_LIMIT, "evaluation took more than %d steps",
		    JP_MAX_STEPS);
		return NULL;
	}
	switch (n->type) {
	case N_SUBEXPR:
	case N_PIPE:
		if ((l = evb(c, n->l, d, &own)) == NULL)
			return NULL;
		r = jp_ev(c, n->r, l);
		json_decref(own);
		return r;
	case N_SLICE:
		return slice(c, n, d);
	case N_PROJECT:
		return project(c, n, d);
	case N_VPROJECT:
		return vproject(c, n, d);
	case N_FILTER:
		return filter(c, n, d);
	case N_FLATTEN:
		return flatten(c, n, d);
	case N_CMP:
		return compare(c, n, d);
	case N_OR:
	case N_AND:
	case N_NOT:
		return logic(c, n, d);
	case N_MSLIST:
	case N_MSHASH:
		return multi(c, n, d);
	case N_FUNC:
		return n->sumlist ? sum_list(c, n, d) : call(c, n, d);
	default:
		/* An expression reference means something only as an
		 * argument; anywhere else it is null, as in jp. */
		return json_null();
	}
}

/*
 * Evaluation that may build values: the budget and the context.  err may
 * be NULL.
 */
static __attribute__((noinline)) json_t *
eval_built(const struct jp_node *root, json_t *data,
    const struct jp_doc *doc, const struct jp_env *env, json_t **own,
    struct jp_error *err)
{
	struct jp_error dummy;
	struct jp_ctx c;

	if (err == NULL)
		err = &dummy;
	err->kind = JP_OK;
	err->pos = -1;
	err->msg[0] = '\0';
	memset(&c, 0, sizeof c);
	c.env = env;
	c.doc = doc;
	c.err = err;
	return *own = jp_ev(&c, root, data);
}

/*
 * Evaluation of e on data with its index doc (or NULL): jp_eval_view.
 * A pure selection needs no budget (nothing is made), no context and no
 * error buffer of its own, so it is followed here, a lone field without
 * even borrow()'s frame.
 */
static inline __attribute__((always_inline)) json_t *
eval(const struct jp_expr *e, json_t *data, const struct jp_doc *doc,
    const struct jp_env *env, json_t **own, struct jp_error *err)
{
	const struct jp_node *root = e->root;

	if (data == NULL)
		data = json_null();
	if (!root->borrow)
		return eval_built(root, data, doc, env, own, err);
	if (err != NULL) {
		err->kind = JP_OK;
		err->pos = -1;
		err->msg[0] = '\0';
	}
	*own = NULL;
	return sel(doc, root, data);
}

json_t *
jp_eval_view(const struct jp_expr *e, json_t *data, const struct jp_env *env,
    json_t **own, struct jp_error *err)
{
	return eval(e, data, NULL, env, own, err);
}

json_t *
jp_eval_doc(const struct jp_expr *e, const struct jp_doc *doc,
    const struct jp_env *env, json_t **own, struct jp_error *err)
{
	return eval(e, doc->root, doc, env, own, err);
}

json_t *
jp_eval(const struct jp_expr *e, json_t *data, const struct jp_env *env,
    struct jp_error *err)
{
	json_t *own, *r;

	if ((r = jp_eval_view(e, data, env, &own, err)) == NULL)
		return NULL;
	return own != NULL ? own : json_incref(r);
}

json_t *
jp_search(const char *src, json_t *data, const struct jp_env *env,
    struct jp_error *err)
{
	struct jp_expr *e;
	json_t *r;

	if ((e = jp_compile(src, err)) == NULL)
		return NULL;
	r = jp_eval(e, data, env, err);
	jp_free(e);
	return r;
}

const char *
jp_errkind_name(enum jp_errkind k)
{
	switch (k) {
	case JP_OK:
		return "ok";
	case JP_ERR_SYNTAX:
		return "syntax";
	case JP_ERR_ARITY:
		return "invalid-arity";
	case JP_ERR_TYPE:
		return "invalid-type";
	case JP_ERR_VALUE:
		return "invalid-value";
	case JP_ERR_UNKNOWN_FUNCTION:
		return "unknown-function";
	case JP_ERR_LIMIT:
		return "limit";
	case JP_ERR_LOOKUP:
		return "lookup";
	}
	return "unknown";
}
