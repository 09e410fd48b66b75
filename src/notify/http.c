/*
 * One outgoing HTTP request with libcurl, for notifications and http
 * triggers.  Everything a hostile or broken receiver could do is bounded:
 * the whole exchange has a deadline, the answer kept is capped (the rest
 * is read and dropped so the connection ends cleanly), redirects are not
 * followed (a 3xx could send a secret-bearing request elsewhere), and
 * only http and https are spoken.  TLS is verified unless a destination
 * says insecureSkipVerify.  Error messages name what failed, never the
 * URL, which for Slack is itself the credential.
 */
#include <curl/curl.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "notify/notify_int.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int curl_ok;

static void
init_curl(void)
{
	curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

struct sink {
	struct buf	 body;
	int		 retry_after;
};

static size_t
on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct sink *s = ctx;

	(void)buf_add(&s->body, p, size * n);	/* beyond max: dropped */
	return size * n;
}

static size_t
on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct sink *s = ctx;
	size_t len = size * n;
	long long v;
	char num[16];
	size_t i, j = 0;

	if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		for (i = 12; i < len && j + 1 < sizeof num; i++)
			if (p[i] >= '0' && p[i] <= '9')
				num[j++] = p[i];
			else if (j > 0)
				break;
		num[j] = '\0';
		if (j > 0 && util_parse_int(num, &v) == 0 && v >= 0 &&
		    v < 3600)
			s->retry_after = (int)v;
	}
	return len;
}

/* A PEM blob, copied by curl (the caller wipes its own copy). */
static void
set_blob(CURL *h, CURLoption opt, const char *pem)
{
	struct curl_blob b;

	b.data = (void *)(uintptr_t)pem;	/* curl copies, never writes */
	b.len = strlen(pem);
	b.flags = CURL_BLOB_COPY;
	curl_easy_setopt(h, opt, &b);
}

int
notify_http(const struct notify_req *r, long *status, int *retry_after,
    char **body, char **err)
{
	struct curl_slist *hd = NULL;
	char ebuf[CURL_ERROR_SIZE];
	struct sink s;
	CURL *h;
	CURLcode rc;
	size_t i;

	*status = 0;
	*err = NULL;
	if (body)
		*body = NULL;
	if (retry_after)
		*retry_after = -1;
	pthread_once(&once, init_curl);
	if (!curl_ok || (h = curl_easy_init()) == NULL) {
		*err = xstrdup("libcurl cannot start");
		return -1;
	}
	memset(&s, 0, sizeof s);
	s.retry_after = -1;
	buf_init(&s.body, NOTIFY_MAX_RESPONSE);
	ebuf[0] = '\0';
	for (i = 0; i < r->nheaders; i++)
		hd = curl_slist_append(hd, r->headers[i]);
	hd = curl_slist_append(hd, "Expect:");
	curl_easy_setopt(h, CURLOPT_URL, r->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, r->timeout_ms > 0 ?
	    r->timeout_ms : (long)NOTIFY_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, r->timeout_ms > 0 ?
	    r->timeout_ms : (long)NOTIFY_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, r->insecure ? 0L : 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, r->insecure ? 0L : 2L);
	if (r->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, r->ca_file);
	if (r->ca_pem)
		set_blob(h, CURLOPT_CAINFO_BLOB, r->ca_pem);
	if (r->cert_pem) {
		set_blob(h, CURLOPT_SSLCERT_BLOB, r->cert_pem);
		curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
	}
	if (r->key_pem) {
		set_blob(h, CURLOPT_SSLKEY_BLOB, r->key_pem);
		curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
	}
	curl_easy_setopt(h, CURLOPT_USERAGENT, "remediate");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &s);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	if (strcmp(r->method, "GET") == 0)
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	else if (strcmp(r->method, "HEAD") == 0)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	else {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body ? r->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(r->body ? r->len : 0));
	}
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(hd);
	curl_easy_cleanup(h);
	if (retry_after)
		*retry_after = s.retry_after;
	if (rc != CURLE_OK)
		/* curl's messages name hosts and ports, not URLs */
		*err = xasprintf("%s", ebuf[0] ? ebuf :
		    curl_easy_strerror(rc));
	else if (*status < 200 || *status > 299)
		*err = xasprintf("answered HTTP %ld%s%.200s", *status,
		    s.body.len ? ": " : "", s.body.len ? s.body.data : "");
	if (body && *err == NULL)
		*body = buf_steal(&s.body);
	buf_free(&s.body);
	return *err ? -1 : 0;
}

void
notify_lines_free(char **lines, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		secret_free(lines[i]);
	free(lines);
}

int
notify_dest_headers(const struct notify_dest *d, char ***lines, size_t *n,
    char **err)
{
	char **l = xcalloc(d->nheaders + 2, sizeof *l), *v;
	size_t i, k = 0;

	*err = NULL;
	l[k++] = xstrdup("Content-Type: application/json");
	for (i = 0; i < d->nheaders; i++) {
		const struct notify_header *h = &d->headers[i];

		if (h->value) {
			l[k++] = xasprintf("%s: %s", h->name, h->value);
			continue;
		}
		if ((v = secret_read(&h->secret, err)) == NULL) {
			char *e = *err;

			*err = xasprintf("header %s: %s", h->name, e);
			free(e);
			notify_lines_free(l, k);
			return -1;
		}
		l[k++] = xasprintf("%s: %s", h->name, v);
		secret_free(v);
	}
	*lines = l;
	*n = k;
	return 0;
}

int
notify_post(const struct notify_dest *d, const json_t *body, long *status,
    char **err)
{
	struct notify_req r;
	char **lines = NULL, *url = NULL, *text;
	size_t n = 0;
	int rc;

	*status = 0;
	if (notify_dest_headers(d, &lines, &n, err) == -1)
		return -1;
	if (d->url == NULL && (url = secret_read(&d->url_secret,
	    err)) == NULL) {
		notify_lines_free(lines, n);
		return -1;
	}
	text = json_dumps(body, JSON_COMPACT);
	memset(&r, 0, sizeof r);
	r.method = "POST";
	r.url = d->url ? d->url : url;
	r.headers = (const char *const *)lines;
	r.nheaders = n;
	r.body = text;
	r.len = text ? strlen(text) : 0;
	r.timeout_ms = d->timeout_ms;
	r.ca_file = d->ca_file;
	r.insecure = d->insecure;
	rc = notify_http(&r, status, NULL, NULL, err);
	free(text);
	secret_free(url);
	notify_lines_free(lines, n);
	return rc;
}
