#include "conf/internal.h"

void
conf_xcheck(struct conf *c, struct diags *d)
{
	(void)c; (void)d;
}
