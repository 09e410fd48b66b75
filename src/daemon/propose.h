/*
 * The daemon's propose hook (engine_opts.propose): confirm by pull
 * request with the forge token read from its file or environment.
 */
#ifndef DAEMON_PROPOSE_H
#define DAEMON_PROPOSE_H

#include <jansson.h>

/* ctx: the secrets directory (const char *, may be NULL). */
int	daemon_propose(void *ctx, const json_t *record, const json_t *cfg,
	    json_t **pr, char **err);

#endif /* DAEMON_PROPOSE_H */
