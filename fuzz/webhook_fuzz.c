/*
 * libFuzzer target for what senders control on the ingest side: webhook
 * bodies (JSON, forms, query strings) and Alertmanager payloads through
 * hook_decode, and the other parsers of ingest: Prometheus answers, cron
 * schedules, TZif files.
 *
 * The first byte selects (low three bits) what the rest is:
 *
 *   0  POST application/json body        4  Prometheus answer (status
 *   1  POST form-encoded body               from the high bits)
 *   2  GET query "k=v&k=v"               5  cron schedule text
 *   3  PUT body, no headers; the body    6  TZif file
 *      is also a header name             7  POST JSON with odd headers
 *
 * A clean result or a reported error is fine; a crash, a sanitizer
 * report, a leak or a hang is a bug.  For payloads it also checks what
 * must hold for any input: an Alertmanager payload yields one event per
 * alert, every event has a 32-hex id and an object as data.
 *
 *	fuzz/run webhook [SECONDS]
 *
 * builds it (clang -fsanitize=fuzzer,address,undefined) and runs it on a
 * copy of fuzz/corpus/webhook; tests/unit/test_webhook.c and
 * test_util.c replay the corpus in the ordinary test run.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prom/prom.h"
#include "util/cron.h"
#include "util/tz.h"
#include "webhook/webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_events(struct event *evs, int n, int am, const char *body, size_t len)
{
	json_t *root;
	int i;

	for (i = 0; i < n; i++) {
		if (evs[i].id == NULL || strlen(evs[i].id) != 32 ||
		    !json_is_object(evs[i].data))
			abort();
	}
	if (am) {
		root = json_loadb(body, len, JSON_DECODE_ANY, NULL);
		if ((size_t)n != json_array_size(json_object_get(root,
		    "alerts")))
			abort();
		json_decref(root);
	}
}

static void
decode(int sel, const char *body, size_t len)
{
	struct http_header h[3], args[64];
	struct hook_target t = { "es", "hook", NULL, NULL, 0 };
	struct http_request r;
	struct event *evs = NULL;
	char *err = NULL, *copy = NULL, canon[128];
	int am = 0, n;
	size_t na = 0;

	memset(&r, 0, sizeof r);
	r.method = "POST";
	r.path = "/hook";
	r.remote = "127.0.0.1";
	r.body = body;
	r.body_len = len;
	r.headers = h;
	h[0].name = "Content-Type";
	h[0].value = sel == 1 ? "application/x-www-form-urlencoded" :
	    "application/json";
	r.nheaders = 1;
	if (sel == 7) {
		h[1].name = "authorization";
		h[1].value = "Bearer x";
		h[2].name = "x-\xff";
		h[2].value = "\xc3";
		r.nheaders = 3;
	}
	if (sel == 3) {
		r.method = "PUT";
		r.nheaders = 0;
		if (memchr(body, '\0', len) == NULL)
			hook_canonical_header(body, canon, sizeof canon);
	}
	if (sel == 2) {
		char *p, *amp, *eq;

		r.method = "GET";
		copy = xstrdup(body);
		for (p = copy; p != NULL && *p && na < 64; p = amp) {
			if ((amp = strchr(p, '&')) != NULL)
				*amp++ = '\0';
			if ((eq = strchr(p, '=')) != NULL)
				*eq++ = '\0';
			args[na].name = p;
			args[na].value = eq ? eq : "";
			na++;
		}
		r.args = args;
		r.nargs = na;
	}
	n = hook_decode(&t, &r, 1795600800000LL, &evs, &am, &err);
	if (n >= 0) {
		check_events(evs, n, am, body, len);
		hook_events_free(evs, (size_t)n);
	} else if (err == NULL || evs != NULL) {
		abort();
	}
	free(err);
	free(copy);
}

static void
prom(int high, const char *body, size_t len)
{
	static const long statuses[] = { 200, 400, 503, 0 };
	struct prom_result res;
	char *err = NULL;
	double v;
	int64_t at;
	const char *why;

	if (prom_parse(body, len, statuses[high & 3], &res, &err) == 0) {
		prom_gate_value(&res, 1773480130512LL, 300000, &v, &at, &why);
		prom_result_clear(&res);
	} else {
		if (err == NULL)
			abort();
		free(err);
	}
}

static void
cron(const char *text)
{
	struct cron *c;
	char *err = NULL;

	if ((c = cron_parse(text, &err)) == NULL) {
		free(err);
		return;
	}
	cron_next(c, NULL, 1795600800000LL, NULL, NULL);
	cron_free(c);
}

static void
zone(const uint8_t *p, size_t len)
{
	struct tz *z;
	char *err = NULL, abbr[16];
	struct cron *c;

	if ((z = tz_parse("fuzz", p, len, &err)) == NULL) {
		free(err);
		return;
	}
	tz_offset(z, -5000000000LL, abbr, sizeof abbr);
	tz_offset(z, 0, abbr, sizeof abbr);
	tz_offset(z, 1795600800LL, abbr, sizeof abbr);
	tz_offset(z, 9000000000LL, abbr, sizeof abbr);
	if ((c = cron_parse("30 2 * * *", &err)) != NULL) {
		cron_next(c, z, 1795600800000LL, NULL, NULL);
		cron_free(c);
	}
	tz_free(z);
}

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	char *text;
	int sel;

	if (len == 0 || len > (1u << 20))
		return 0;
	sel = buf[0] & 7;
	/* the server always hands a NUL-terminated body */
	text = malloc(len);
	memcpy(text, buf + 1, len - 1);
	text[len - 1] = '\0';
	switch (sel) {
	case 4:
		prom(buf[0] >> 3, text, len - 1);
		break;
	case 5:
		cron(text);
		break;
	case 6:
		zone(buf + 1, len - 1);
		break;
	default:
		decode(sel, text, len - 1);
		break;
	}
	free(text);
	return 0;
}
