/*
 * The typed readings of a string that Kyverno's operators try in turn: Go
 * floats here; Go durations ("1h30m", duration_parse_ns), semantic
 * versions ("1.2.3", semver_parse) and Kubernetes quantities ("512Mi") are
 * util's.  Each parser is strict, as the Go one it stands for, because a
 * lenient one would make "1e3h" a duration here and a plain string in the
 * cluster, and the same policy would decide differently.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "policy/pol_int.h"
#include "util/semver.h"

/* ---- Go floats ---------------------------------------------------------- */

static int
ieq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/*
 * strconv.ParseFloat for what Kyverno's policies contain: decimal and
 * exponent forms, "Inf"/"Infinity"/"NaN" in any case.  Hexadecimal floats
 * and underscores, which no one writes in a policy, are refused.
 */
int
pol_parse_float(const char *s, double *out)
{
	const char *p = s;
	char *end;
	double v;
	int digits = 0;

	if (*p == '+' || *p == '-')
		p++;
	if (ieq(p, "inf") || ieq(p, "infinity")) {
		*out = *s == '-' ? -INFINITY : INFINITY;
		return 0;
	}
	if (ieq(p, "nan")) {
		*out = NAN;
		return 0;
	}
	for (; *p; p++) {
		if (isdigit((unsigned char)*p))
			digits++;
		else if (!strchr(".eE+-", *p))
			return -1;
	}
	if (digits == 0)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (*end || end == s)
		return -1;
	if (errno == ERANGE && fabs(v) > 1)
		return -1;	/* Go: out of range */
	*out = v;
	return 0;
}

/* ---- semantic versions (util's, as blang/semver) ----------------------- */

int
pol_semver_valid(const char *s)
{
	struct semver sv;

	return semver_parse(s, strlen(s), &sv) == 0;
}

int
pol_semver_cmp(const char *a, const char *b, int *cmp)
{
	struct semver x, y;

	if (semver_parse(a, strlen(a), &x) != 0 ||
	    semver_parse(b, strlen(b), &y) != 0)
		return -1;
	*cmp = semver_cmp(&x, &y);
	return 0;
}
