/*
 * fmt.Sprint of a value, as Kyverno's set operators compare the elements
 * they hold (Go's printing itself is util's gofmt), bounded as every text
 * a policy makes is.
 */
#include "policy/pol_int.h"

char *
pol_sprint(json_t *v)
{
	struct buf b;

	buf_init(&b, POL_MAX_TEXT);
	gofmt_sprint(&b, v);
	return buf_steal(&b);
}
