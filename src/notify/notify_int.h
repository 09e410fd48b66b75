/*
 * notify internals shared by the files of this module only.
 */
#ifndef NOTIFY_INT_H
#define NOTIFY_INT_H

#include "notify/notify.h"

/* One HTTP request, on the calling thread. */
struct notify_req {
	const char	*method;	/* "POST"... */
	const char	*url;		/* may hold a secret: never logged */
	const char	*const *headers;	/* "Name: value" lines */
	size_t		 nheaders;
	const char	*body;		/* may be NULL */
	size_t		 len;
	long		 timeout_ms;
	const char	*ca_file;	/* may be NULL: the system's */
	int		 insecure;	/* skip TLS verification */
	/* PEM text (secrets read for this request), each may be NULL */
	const char	*ca_pem, *cert_pem, *key_pem;
};

/*
 * Sends r with libcurl: http and https only, no redirects, verified TLS
 * unless insecure, the whole exchange within timeout_ms, at most
 * NOTIFY_MAX_RESPONSE bytes of answer kept (the rest read and dropped).
 * Returns 0 for a 2xx answer; -1 otherwise with *err (owned; never the
 * URL).  *status gets the HTTP status (0: no answer), *retry_after the
 * Retry-After seconds (-1: none), *body (may be NULL) the answer (owned).
 */
int	notify_http(const struct notify_req *r, long *status,
	    int *retry_after, char **body, char **err);

/* Builds the header lines of d (secrets read now); -1 with *err. */
int	notify_dest_headers(const struct notify_dest *d, char ***lines,
	    size_t *n, char **err);
void	notify_lines_free(char **lines, size_t n);	/* wipes */

#endif /* NOTIFY_INT_H */
