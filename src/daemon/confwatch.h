/*
 * The daemon's manifest watch (confwatch.c), for `run --exit-on-change`.
 * Not part of the daemon's public surface.
 */
#ifndef DAEMON_CONFWATCH_H
#define DAEMON_CONFWATCH_H

#include <stddef.h>
#include <stdint.h>

struct daemon_confwatch {
	const char *const	*paths;		/* borrowed: run's -c */
	size_t			 npaths;
	uint64_t		 loaded;	/* fingerprint at start */
	uint64_t		 refused;	/* last one that failed to
						   compile (logged once) */
};

/* Takes the fingerprint of the manifests about to be loaded. */
void	daemon_confwatch_start(struct daemon_confwatch *,
	    const char *const *paths, size_t npaths);
/*
 * Have the manifests changed since the start, into ones that load and
 * compile?  1 yes (logged: the caller exits so the new ones load at the
 * restart), 0 no: unchanged, or changed into ones with errors (logged with
 * the errors, once per change; the running configuration stays).
 */
int	daemon_confwatch_changed(struct daemon_confwatch *);

#endif /* DAEMON_CONFWATCH_H */
