/*
 * quantity: Kubernetes resource quantities ("500m", "1.5Gi", "2e3"), as
 * k8s.io/apimachinery's resource.Quantity reads, computes and prints them.
 *
 * A quantity is an exact decimal mant * 10^scale with the format its
 * suffix chose (binary "Ki".."Ei", decimal "n".."E", or an exponent "e3").
 * Values finer than a nano are rounded up to the next nano on parse, as
 * Kubernetes does ("you asked for some, you get some").  Mantissas are
 * 64-bit; anything that does not fit is an error, not a silent wrap.
 */
#ifndef UTIL_QUANTITY_H
#define UTIL_QUANTITY_H

#include <stddef.h>
#include <stdint.h>

enum quantity_format {
	QUANTITY_DECIMAL_SI,	/* "", n u m k M G T P E */
	QUANTITY_BINARY_SI,	/* Ki Mi Gi Ti Pi Ei */
	QUANTITY_DECIMAL_EXP,	/* e3, E-6 */
};

struct quantity {
	int64_t			 mant;
	int			 scale;		/* value = mant * 10^scale */
	enum quantity_format	 format;
};

#define QUANTITY_FMTLEN	48

/* Parses s (n bytes, no NUL needed): 0 ok, -1 malformed or out of range. */
int	 quantity_parsen(const char *s, size_t n, struct quantity *);
int	 quantity_parse(const char *s, struct quantity *);
/* The exact decimal of d's shortest round-trip form, DecimalSI; -1 if d
 * is not finite or out of range. */
int	 quantity_from_double(double d, struct quantity *);
/* Prints the canonical form ("1500m", "1536Mi", "0") into out. */
void	 quantity_format(const struct quantity *, char *out, size_t len);
double	 quantity_to_double(const struct quantity *);
/* -1, 0, 1 by value; formats are ignored. */
int	 quantity_cmp(const struct quantity *, const struct quantity *);
int	 quantity_is_zero(const struct quantity *);
/*
 * Arithmetic.  The result takes a's format (b's when a is zero, for add
 * and sub, as Kubernetes does).  Each returns 0, or -1 when the result
 * does not fit (or, for div, b is zero).
 */
int	 quantity_add(struct quantity *out, const struct quantity *a,
	    const struct quantity *b);
int	 quantity_sub(struct quantity *out, const struct quantity *a,
	    const struct quantity *b);
int	 quantity_mul(struct quantity *out, const struct quantity *a,
	    const struct quantity *b);
/* Quotient rounded toward zero at the finer of a's and b's decimal
 * places (Kyverno's divide of a quantity by a number). */
int	 quantity_div(struct quantity *out, const struct quantity *a,
	    const struct quantity *b);
/* The integral value rounded toward zero: 0 ok, -1 if it does not fit. */
int	 quantity_to_int64(const struct quantity *, int64_t *);

#endif /* UTIL_QUANTITY_H */
