/*
 * Logs as JSON lines on stderr: {"time","level","msg",...fields}.  Safe
 * from any thread (one write per line).
 */
#ifndef DAEMON_LOG_H
#define DAEMON_LOG_H

#include <jansson.h>

/* Logs msg with fields (stolen, may be NULL) at level "info"... */
void	daemon_log(const char *level, const char *msg, json_t *fields);

#endif /* DAEMON_LOG_H */
