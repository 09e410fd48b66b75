/*
 * gofmt: JSON values as Go programs print and compare them.
 *
 * Argo Events and Kyverno are written in Go.  A number in their JSON is a
 * float64 after json.Unmarshal; fmt.Sprint prints it as 1e+06, strconv
 * 'f' as 1000000, encoding/json as 1000000 again; encoding/json sorts map
 * keys and escapes <, > and & for HTML.  Users compare our output with
 * theirs, so every stage that reproduces a Go result prints through here
 * and all of them agree to the byte.
 *
 * The shortest round-tripping digits come from printf("%.*e") at rising
 * precision: the correctly rounded p-digit decimal is the one Go's
 * shortest formatting picks whenever p digits suffice.
 */
#ifndef UTIL_GOFMT_H
#define UTIL_GOFMT_H

#include <jansson.h>

#include "util/util.h"

/* Values nested deeper than this (jansson's own parser limit, so never a
 * value read from JSON text) are cut short rather than recursed into. */
#define GOFMT_MAX_DEPTH	2048

/* Room for the shortest digits of a float64 and a NUL. */
#define GOFMT_DIGITS	18

/*
 * The shortest decimal digits that read back as fabs(v) (v finite and not
 * 0) into digits (GOFMT_DIGITS bytes, NUL-terminated, no trailing zeros),
 * with *dp the decimal exponent: fabs(v) = 0.DIGITS * 10^dp.  Returns the
 * number of digits.
 */
int	 gofmt_shortest(double v, char *digits, int *dp);

/* The notations of a float. */
enum gofmt_float {
	GOFMT_V,	/* fmt %v: strconv 'g' shortest: 1e+06, 1e-05, 0.1 */
	GOFMT_F,	/* strconv 'f' shortest, never an exponent (gjson) */
	GOFMT_JSON,	/* encoding/json: 'e' outside [1e-6, 1e21), 1e-7 */
	GOFMT_F32	/* strconv.FormatFloat(float32(v), 'f', -1, 32), as
			   Kyverno prints a number taken as a string */
};

/*
 * Appends v in the notation given.  NaN and infinities print as Go prints
 * them ("NaN", "+Inf", "-Inf"), except with GOFMT_JSON, which appends
 * nothing and returns -1 as encoding/json refuses them; else returns 0.
 */
int	 gofmt_float(struct buf *, double v, enum gofmt_float);

/*
 * strconv.ParseFloat(s, 64): decimal and hexadecimal (0x1p-2) Go float
 * literals, '_' between digits, "inf", "infinity" (either with a sign) and
 * "nan" in any case; nothing before or after.  Returns 0, or -1 with *out
 * what Go returns beside its error: 0 for bad syntax, an infinity when
 * the value is out of range (gjson's Float() keeps that infinity).
 */
int	 gofmt_parse_float(const char *s, double *out);

/*
 * strconv.Quote of s (n bytes): "..." with Go's escapes, \xff for a byte
 * that is not UTF-8, \u for runes Go does not count as printable.
 */
void	 gofmt_quote(struct buf *, const char *s, size_t n);

/*
 * fmt.Sprint of the value Go holds for v (borrowed): strings as they are,
 * numbers as %v, null as <nil>, [a b], map[k:v] with keys sorted.
 */
void	 gofmt_sprint(struct buf *, json_t *v);

/* gofmt_json flags. */
#define GOFMT_HTML	 0x1	/* escape <, >, & as json.Marshal does */
#define GOFMT_INDENT	 0x2	/* json.MarshalIndent(v, "", "  ") */
#define GOFMT_KEEP_ORDER 0x4	/* keys in v's order, not sorted (for a
				   document's own text, as gjson's Raw) */
#define GOFMT_HEX_BF	 0x8	/* \b and \f as \u0008 and \u000c, as
				   encoding/json wrote them before Go 1.22 */

/*
 * encoding/json of v (borrowed) into b: keys sorted, Go's number format,
 * invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped.  Returns 0, or -1
 * when v holds a NaN or an infinity, nests deeper than GOFMT_MAX_DEPTH or
 * b's maximum was exceeded (what was appended is then of no use).
 */
int	 gofmt_json(struct buf *, json_t *v, int flags);

/*
 * reflect.DeepEqual of what json.Unmarshal gives for a and b (borrowed):
 * numbers compare as float64 (1 == 1.0), objects regardless of key order.
 * 1 equal, 0 not.
 */
int	 gofmt_equal(json_t *a, json_t *b);

#endif /* UTIL_GOFMT_H */
