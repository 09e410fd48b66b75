/*
 * Kyverno's arithmetic: add, subtract, multiply, divide, modulo and sum
 * over numbers, resource quantities ("1.5Gi") and Go durations ("90s").
 *
 * As in Kyverno, a string operand is a quantity if it parses as one and a
 * duration otherwise ("5m" is five milli-units, not five minutes); the
 * result of quantity or duration arithmetic is a string in canonical form
 * ("1536Mi", "1h30m0s"); the table of which kinds combine is Kyverno's:
 *
 *	Q +- Q -> Q	D +- D -> D	N +- N -> N
 *	Q * N  -> Q	D * N  -> D	N * N  -> N	(and N * Q, N * D)
 *	Q / Q  -> N	D / D  -> N	N / N  -> N
 *	Q / N  -> Q	D / N  -> D
 *	Q % Q  -> Q	D % D  -> D	N % N  -> N	(integers only)
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "jp/jp_int.h"
#include "util/quantity.h"
#include "util/util.h"

#define NS_PER_S	1000000000LL

enum okind { O_NUM, O_QTY, O_DUR };

struct operand {
	enum okind	 kind;
	double		 num;
	struct quantity	 q;
	int64_t		 ns;
};

/* ---- operands and results ------------------------------------------- */

static int
operand_of(struct jp_call *k, const json_t *v, int i, struct operand *o)
{
	const char *s;
	size_t n;

	if (json_is_number(v)) {
		o->kind = O_NUM;
		o->num = jp_num(v);
		return 0;
	}
	if (!json_is_string(v))
		return jp_call_fail(k, i, JP_ERR_TYPE, "expected a number, a "
		    "quantity or a duration, got %s", jp_typename(v));
	s = json_string_value(v);
	n = json_string_length(v);
	if (quantity_parsen(s, n, &o->q) == 0) {
		o->kind = O_QTY;
		return 0;
	}
	if (duration_parsen_ns(s, n, &o->ns) == 0) {
		o->kind = O_DUR;
		return 0;
	}
	return jp_call_fail(k, i, JP_ERR_VALUE, "\"%.40s\" is neither a "
	    "quantity nor a duration", s);
}

static json_t *
qty_result(struct jp_call *k, int rc, const struct quantity *q)
{
	char out[QUANTITY_FMTLEN];

	if (rc < 0) {
		jp_call_fail(k, -1, JP_ERR_VALUE, "quantity out of range");
		return NULL;
	}
	quantity_format(q, out, sizeof out);
	return json_string(out);
}

static json_t *
dur_result(struct jp_call *k, double ns)
{
	char out[48];

	if (!(ns > -9.2e18 && ns < 9.2e18)) {
		jp_call_fail(k, -1, JP_ERR_VALUE, "duration out of range");
		return NULL;
	}
	duration_format_ns((int64_t)ns, out, sizeof out);
	return json_string(out);
}

static json_t *
mismatch(struct jp_call *k, const struct operand *a, const struct operand *b)
{
	static const char *const names[] = { "number", "quantity",
	    "duration" };

	jp_call_fail(k, -1, JP_ERR_TYPE, "cannot combine a %s with a %s",
	    names[a->kind], names[b->kind]);
	return NULL;
}

static json_t *
zero_divisor(struct jp_call *k)
{
	jp_call_fail(k, 1, JP_ERR_VALUE, "zero divisor");
	return NULL;
}

static json_t *
add_sub(struct jp_call *k, const struct operand *a, const struct operand *b,
    int sub)
{
	struct quantity r;

	if (a->kind != b->kind)
		return mismatch(k, a, b);
	switch (a->kind) {
	case O_NUM:
		return jp_number(sub ? a->num - b->num : a->num + b->num);
	case O_QTY:
		return qty_result(k, sub ? quantity_sub(&r, &a->q, &b->q) :
		    quantity_add(&r, &a->q, &b->q), &r);
	default:
		return dur_result(k, sub ? (double)a->ns - (double)b->ns :
		    (double)a->ns + (double)b->ns);
	}
}

static int
two(struct jp_call *k, struct operand *a, struct operand *b)
{
	if (operand_of(k, k->args[0], 0, a) < 0 ||
	    operand_of(k, k->args[1], 1, b) < 0)
		return -1;
	return 0;
}

static json_t *
f_add(struct jp_call *k)
{
	struct operand a, b;

	return two(k, &a, &b) < 0 ? NULL : add_sub(k, &a, &b, 0);
}

static json_t *
f_subtract(struct jp_call *k)
{
	struct operand a, b;

	return two(k, &a, &b) < 0 ? NULL : add_sub(k, &a, &b, 1);
}

static json_t *
scale_qty(struct jp_call *k, const struct quantity *q, double by, int div)
{
	struct quantity f, r;

	if (div && by == 0)
		return zero_divisor(k);
	if (quantity_from_double(by, &f) < 0)
		return qty_result(k, -1, q);
	return qty_result(k, div ? quantity_div(&r, q, &f) :
	    quantity_mul(&r, q, &f), &r);
}

static json_t *
f_multiply(struct jp_call *k)
{
	struct operand a, b, t;

	if (two(k, &a, &b) < 0)
		return NULL;
	if (a.kind == O_NUM && b.kind == O_NUM)
		return jp_number(a.num * b.num);
	if (a.kind == O_NUM) {
		/* N * Q is Q * N, as in Kyverno. */
		t = a;
		a = b;
		b = t;
	}
	if (b.kind != O_NUM)
		return mismatch(k, &a, &b);
	if (a.kind == O_QTY)
		return scale_qty(k, &a.q, b.num, 0);
	return dur_result(k, (double)a.ns / NS_PER_S * b.num * NS_PER_S);
}

static json_t *
f_divide(struct jp_call *k)
{
	struct operand a, b;
	double d;

	if (two(k, &a, &b) < 0)
		return NULL;
	if (a.kind == b.kind) {
		d = a.kind == O_NUM ? b.num : a.kind == O_QTY ?
		    quantity_to_double(&b.q) : (double)b.ns;
		if (d == 0)
			return zero_divisor(k);
		return jp_number((a.kind == O_NUM ? a.num : a.kind == O_QTY ?
		    quantity_to_double(&a.q) : (double)a.ns) / d);
	}
	if (b.kind != O_NUM)
		return mismatch(k, &a, &b);
	if (a.kind == O_QTY)
		return scale_qty(k, &a.q, b.num, 1);
	if (b.num == 0)
		return zero_divisor(k);
	return dur_result(k, (double)a.ns / NS_PER_S / b.num * NS_PER_S);
}

static int
integral(double d, long long *out)
{
	if (!(d > -9.2e18 && d < 9.2e18) || d != floor(d))
		return -1;
	*out = (long long)d;
	return 0;
}

static json_t *
f_modulo(struct jp_call *k)
{
	struct operand a, b;
	struct quantity r;
	long long x, y;

	if (two(k, &a, &b) < 0)
		return NULL;
	if (a.kind != b.kind)
		return mismatch(k, &a, &b);
	if (a.kind == O_DUR) {
		if (b.ns == 0)
			return zero_divisor(k);
		return dur_result(k, b.ns == -1 ? 0 : (double)(a.ns % b.ns));
	}
	if (integral(a.kind == O_NUM ? a.num : quantity_to_double(&a.q),
	    &x) < 0 || integral(b.kind == O_NUM ? b.num :
	    quantity_to_double(&b.q), &y) < 0) {
		jp_call_fail(k, -1, JP_ERR_VALUE, "arguments must be "
		    "integers");
		return NULL;
	}
	if (y == 0)
		return zero_divisor(k);
	x = y == -1 ? 0 : x % y;
	if (a.kind == O_NUM)
		return json_integer(x);
	r.mant = x;
	r.scale = 0;
	r.format = a.q.format;
	return qty_result(k, 0, &r);
}

/*
 * Kyverno's sum: the operands added left to right, so an array of
 * quantities or durations sums as add() would.  Arrays of plain numbers
 * never get here (the specification's sum handles them, empty included).
 */
json_t *
jp_k_sum(struct jp_call *k)
{
	json_t *a = k->args[0];
	size_t i, n = json_array_size(a);
	struct operand acc, o;
	json_t *r = NULL, *next;

	if (n == 0)
		return json_integer(0);
	for (i = 0; i < n; i++) {
		next = json_array_get(a, i);
		if (!json_is_number(next) && (!json_is_string(next) ||
		    (quantity_parsen(json_string_value(next),
		    json_string_length(next), &o.q) < 0 &&
		    duration_parsen_ns(json_string_value(next),
		    json_string_length(next), &o.ns) < 0)))
			return jp_arg_error(k, 0, "array of numbers, "
			    "quantities or durations"), NULL;
	}
	if (operand_of(k, json_array_get(a, 0), 0, &acc) < 0)
		return NULL;
	if (n == 1)
		return json_incref(json_array_get(a, 0));
	for (i = 1; i < n; i++) {
		if (operand_of(k, json_array_get(a, i), 0, &o) < 0 ||
		    (next = add_sub(k, &acc, &o, 0)) == NULL) {
			json_decref(r);
			return NULL;
		}
		json_decref(r);
		r = next;
		if (operand_of(k, r, 0, &acc) < 0) {
			json_decref(r);
			return NULL;
		}
	}
	return r;
}

static json_t *
f_round(struct jp_call *k)
{
	long long digits;
	double shift;

	if (integral(jp_num(k->args[1]), &digits) < 0 || digits < 0 ||
	    digits > 300) {
		jp_call_fail(k, 1, JP_ERR_VALUE, "must be a non-negative "
		    "integer");
		return NULL;
	}
	shift = pow(10, (double)digits);
	return jp_number(round(jp_num(k->args[0]) * shift) / shift);
}

#define ANY2 { JT_ANY, JT_ANY }
static const struct jp_func karith[] = {
	{ "add", 2, 2, ANY2, f_add, 0 },
	{ "subtract", 2, 2, ANY2, f_subtract, 0 },
	{ "multiply", 2, 2, ANY2, f_multiply, 0 },
	{ "divide", 2, 2, ANY2, f_divide, 0 },
	{ "modulo", 2, 2, ANY2, f_modulo, 0 },
	{ "round", 2, 2, { JT_NUM, JT_NUM }, f_round, 0 },
};
#undef ANY2

const struct jp_func *
jp_karith_table(size_t *n)
{
	*n = UTIL_ARRAY_LEN(karith);
	return karith;
}
