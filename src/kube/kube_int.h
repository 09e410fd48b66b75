/*
 * kube internals shared by the files of this module only.
 */
#ifndef KUBE_INT_H
#define KUBE_INT_H

#include <stdatomic.h>

#include "kube/kube.h"

/* A streamed GET (watches): data goes to on_data as it arrives. */
struct kube_stream {
	/* Returns 0 to go on, -1 to abort the transfer. */
	int		(*on_data)(void *ctx, const char *p, size_t n);
	/* Called once the 2xx headers are in (may be NULL). */
	void		(*on_open)(void *ctx);
	void		 *ctx;
	atomic_int	 *stop;		/* borrowed; non-zero aborts */
	long		  timeout_ms;	/* whole transfer; 0 none */
};

/*
 * GETs path streaming a 2xx body to s->on_data.  Returns 0 when the body
 * ended cleanly, -1 with *err otherwise (an HTTP error: err->status and
 * the Status; a dropped connection, a timeout or an abort: status 0).
 * *http gets the HTTP status (0 if none).  No retries here.
 */
int	kube_stream_get(struct kube_client *, const char *path,
	    struct kube_stream *s, long *http, struct kube_error *err);

/*
 * The retry policy of the calls this thread makes while it is set (the
 * executor sets a trigger's retryStrategy around one plan); NULL: the
 * client's.
 */
extern _Thread_local const struct retry *kube_thread_retry;
extern _Thread_local long kube_thread_timeout_ms;

/* Monotonic milliseconds. */
int64_t	kube_mono_ms(void);

/* Percent-escapes s for a query value or path segment; owned. */
char	*kube_escape(const char *s);
/* Splits "group/version" or "version"; both owned. */
void	kube_split_api_version(const char *api_version, char **group,
	    char **version);

/*
 * The discovery cache lives in the client (under its lock): the
 * APIResourceList of "group/version" (a reference, owned by the caller),
 * or NULL; and storing one (a reference is taken).
 */
json_t	*kube_discovery_cached(struct kube_client *, const char *gv);
void	 kube_discovery_store(struct kube_client *, const char *gv, json_t *);

#endif /* KUBE_INT_H */
