/*
 * cmd internals shared by the subcommands' files; not part of the
 * module's public surface (cmd.h is).
 */
#ifndef CMD_INT_H
#define CMD_INT_H

#include <stddef.h>
#include <jansson.h>

/*
 * replay.c: replays signals (a file of NDJSON lines) through the
 * configuration at config (nconfig paths), against the cluster snapshot
 * and Prometheus recording when given (may be NULL), and appends each
 * decision record (as JSON, new references) to out instead of printing
 * it.  Diagnostics go to stderr.  Returns CMD_OK, or CMD_FAILED when the
 * configuration, snapshot or signals do not load or a line is bad.
 */
int	cmd_replay_collect(const char **config, size_t nconfig,
	    const char *cluster, const char *recording, const char *signals,
	    json_t *out);

#endif /* CMD_INT_H */
