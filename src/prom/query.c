/*
 * The HTTP side of an instant query, on libcurl.  POST with a form body
 * (Prometheus accepts both GET and POST on /api/v1/query; POST has no
 * URL length limit for long PromQL).  Each call uses its own easy handle,
 * so the engine thread and a poller may query at once.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prom/prom.h"
#include "util/util.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;

static void
init_curl(void)
{
	curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

static size_t
on_data(char *p, size_t sz, size_t n, void *ud)
{
	struct buf *b = ud;

	if (buf_add(b, p, sz * n) == -1)
		return 0;	/* over PROM_MAX_RESPONSE: abort */
	return sz * n;
}

/* libcurl asks every second at least, also while nothing comes. */
static int
on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	const atomic_int *cancel = ud;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return atomic_load(cancel) != 0;	/* non-zero: abort */
}

/* base + "/api/v1/query", unless base already names the endpoint. */
static char *
endpoint(const char *base)
{
	size_t n = strlen(base);

	while (n > 0 && base[n - 1] == '/')
		n--;
	if (n >= 13 && strncmp(base + n - 13, "/api/v1/query", 13) == 0)
		return xstrndup(base, n);
	return xasprintf("%.*s/api/v1/query", (int)n, base);
}

int
prom_query(const char *url, const char *query, long timeout_ms, int64_t now,
    const atomic_int *cancel, struct prom_result *res, char **err)
{
	CURL *c;
	CURLcode cc;
	struct curl_slist *hdrs = NULL;
	struct buf body;
	char *ep, *q, *form, errbuf[CURL_ERROR_SIZE];
	long status = 0;
	int rc;

	memset(res, 0, sizeof *res);
	*err = NULL;
	if (url == NULL || *url == '\0') {
		*err = xstrdup("no Prometheus URL (set the source's url or "
		    "RemediationConfig spec.prometheus.url)");
		return -1;
	}
	pthread_once(&curl_once, init_curl);
	if (!curl_ok || (c = curl_easy_init()) == NULL) {
		*err = xstrdup("libcurl failed to initialize");
		return -1;
	}
	if (timeout_ms <= 0)
		timeout_ms = PROM_DEFAULT_TIMEOUT;
	ep = endpoint(url);
	q = curl_easy_escape(c, query, 0);
	form = xasprintf("query=%s&time=%lld.%03lld&timeout=%ldms",
	    q ? q : "", (long long)(now / 1000), (long long)(now % 1000),
	    timeout_ms);
	curl_free(q);
	buf_init(&body, PROM_MAX_RESPONSE);
	errbuf[0] = '\0';
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	curl_easy_setopt(c, CURLOPT_URL, ep);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	    timeout_ms < 5000 ? timeout_ms : 5000L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "remediate");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	if (cancel) {
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)(uintptr_t)
		    cancel);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	}
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (cc == CURLE_WRITE_ERROR && body.overflow) {
		*err = xasprintf("%s: the answer exceeds %u bytes", ep,
		    PROM_MAX_RESPONSE);
		rc = -1;
	} else if (cc == CURLE_ABORTED_BY_CALLBACK) {
		*err = xasprintf("%s: not answered before remediate stopped",
		    ep);
		rc = -1;
	} else if (cc != CURLE_OK) {
		*err = xasprintf("%s: %s", ep, *errbuf ? errbuf :
		    curl_easy_strerror(cc));
		rc = -1;
	} else {
		rc = prom_parse(body.data, body.len, status, res, err);
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	buf_free(&body);
	free(form);
	free(ep);
	return rc;
}
