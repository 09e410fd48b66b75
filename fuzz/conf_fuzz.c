/*
 * libFuzzer target for the manifest loader: YAML/JSON parsing with marks,
 * the schema of each kind, and the cross-checks.  Any input must give
 * diagnostics, never a crash, a leak or a hang.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/internal.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	static const enum conf_kind kinds[] = { CONF_EVENTSOURCE,
	    CONF_SENSOR, CONF_CLUSTERPOLICY, CONF_REMEDIATIONCONFIG };
	struct mdoc **docs = NULL;
	size_t n = 0, i;
	struct diags d;
	struct conf c;
	char id[64];

	diag_init(&d);
	conf_parse_text("f.yaml", (const char *)buf, len, &docs, &n, &d);
	for (i = 0; i < n; i++) {
		mdoc_ident(docs[i], id, sizeof id);
		/* every document against some kind's schema */
		if (!docs[i]->invalid)
			conf_schema_check(docs[i], kinds[(len + i) % 4], &d);
		if (docs[i]->kind == NULL)
			docs[i]->kind = "x";
	}
	memset(&c, 0, sizeof c);
	c.docs = docs;
	c.ndocs = n;
	conf_xcheck(&c, &d);
	for (i = 0; i < n; i++)
		mdoc_free(docs[i]);
	free(docs);
	diag_free(&d);
	return 0;
}
