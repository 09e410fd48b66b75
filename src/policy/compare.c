/*
 * The typed readings of a string that Kyverno's operators try in turn.
 * Go floats (gofmt_parse_float), Go durations ("1h30m",
 * duration_parse_ns), semantic versions ("1.2.3", semver_parse) and
 * Kubernetes quantities ("512Mi") are util's; each parser is strict, as
 * the Go one it stands for, because a lenient one would make "1e3h" a
 * duration here and a plain string in the cluster, and the same policy
 * would decide differently.  What is left here is policy's way of asking.
 */
#include <string.h>

#include "policy/pol_int.h"
#include "util/semver.h"

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
