/*
 * ingest_probe: the webhook ingest path alone, for end-to-end tests and
 * the benchmark.  It loads EventSources, serves their webhooks on the
 * http server through the webhook ingress, and stands in for the engine:
 * a bounded queue whose events are printed as NDJSON on stdout.
 *
 *   ingest_probe -c MANIFESTS [-l ADDR]... [--capacity N] [--hold]
 *       [--secrets-dir DIR] [--idle-timeout S] [--request-timeout S]
 *       [--max-per-ip N] [--max-connections N] [--threads N] [--quiet]
 *       [--state FILE]
 *
 * First line on stdout: {"listening":[PORT,...]}.  Then one line per
 * queued event: {"id","source","name","type","time","subject","data"}.
 * With --hold the queue is drained only by POST /_probe/drain (so tests
 * can fill it and see 503s); otherwise every push is printed at once.
 * GET /_probe/stats answers the counters as JSON.  SIGTERM or SIGINT
 * stops it cleanly; it prints {"stats":{...}} last and exits 0.
 * --quiet prints counts only (for the benchmark).  --state FILE makes
 * every push durable first, as `remediate run` does: the events are
 * written to FILE's intake table (src/intake/, group commit) before the
 * push returns, and count as decided once printed.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "audit/audit.h"
#include "http/http.h"
#include "intake/intake.h"
#include "signal/event.h"
#include "webhook/webhook.h"

struct probe {
	pthread_mutex_t	 lock;
	struct event	*q;		/* held events */
	size_t		 n, cap;
	int		 hold, quiet;
	unsigned long	 printed;
	struct hook_ingress *ing;
	struct http_server *srv;
	struct intake	*intake;	/* --state: durable first */
};

static void
print_event(struct probe *p, const struct event *ev)
{
	json_t *o, *subj;
	char *line;

	p->printed++;
	if (p->quiet)
		return;
	subj = json_object();
	if (ev->subject.kind)
		json_object_set_new(subj, "kind",
		    json_string(ev->subject.kind));
	if (ev->subject.namespace)
		json_object_set_new(subj, "namespace",
		    json_string(ev->subject.namespace));
	if (ev->subject.name)
		json_object_set_new(subj, "name",
		    json_string(ev->subject.name));
	o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:o, s:O}", "id", ev->id,
	    "source", ev->source, "name", ev->name, "type", ev->type,
	    "time", (json_int_t)ev->time, "subject", subj, "data", ev->data);
	line = json_dumps(o, JSON_COMPACT);
	fprintf(stdout, "%s\n", line);
	fflush(stdout);
	free(line);
	json_decref(o);
}

static int
push(void *ctx, struct event *evs, size_t n, const char *replay)
{
	struct probe *p = ctx;
	size_t i;

	int64_t *ids;
	enum intake_result rc;

	if (p->intake) {
		ids = xcalloc(n, sizeof *ids);
		rc = intake_put(p->intake, evs, n, replay, 0, ids);
		free(ids);
		if (rc == INTAKE_REPLAY)
			return HOOK_REPLAY;
		if (rc != INTAKE_OK)
			return HOOK_UNSTORED;
		if (!p->hold)
			intake_decided(p->intake, n);
	}
	pthread_mutex_lock(&p->lock);
	if (p->hold) {
		if (p->n + n > p->cap) {
			pthread_mutex_unlock(&p->lock);
			return -1;
		}
		for (i = 0; i < n; i++)
			p->q[p->n++] = evs[i];
	} else {
		for (i = 0; i < n; i++) {
			print_event(p, &evs[i]);
			event_clear(&evs[i]);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static void
drain(void *ctx, const struct http_request *r, struct http_response *resp)
{
	struct probe *p = ctx;
	size_t i, n;

	(void)r;
	pthread_mutex_lock(&p->lock);
	n = p->n;
	for (i = 0; i < p->n; i++) {
		print_event(p, &p->q[i]);
		event_clear(&p->q[i]);
	}
	p->n = 0;
	pthread_mutex_unlock(&p->lock);
	resp->content_type = "application/json";
	buf_printf(&resp->body, "{\"drained\":%zu}\n", n);
}

static json_t *
stats_json(struct probe *p)
{
	struct hook_stats hs;
	struct http_stats st;
	size_t held;

	hook_ingress_stats(p->ing, &hs);
	http_server_stats(p->srv, &st);
	pthread_mutex_lock(&p->lock);
	held = p->n;
	pthread_mutex_unlock(&p->lock);
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
	    "requests", (json_int_t)hs.requests,
	    "events", (json_int_t)hs.events,
	    "duplicates", (json_int_t)hs.duplicates,
	    "full", (json_int_t)hs.full,
	    "unauthorized", (json_int_t)hs.unauthorized,
	    "forbidden", (json_int_t)hs.forbidden,
	    "malformed", (json_int_t)hs.malformed,
	    "too_large", (json_int_t)(hs.too_large + st.too_large),
	    "not_found", (json_int_t)hs.not_found,
	    "held", (json_int_t)held,
	    "printed", (json_int_t)p->printed,
	    "http_requests", (json_int_t)st.requests,
	    "http_4xx", (json_int_t)st.status_4xx,
	    "http_5xx", (json_int_t)st.status_5xx,
	    "reaped", (json_int_t)st.reaped,
	    "connections", (json_int_t)st.connections);
}

static void
stats(void *ctx, const struct http_request *r, struct http_response *resp)
{
	json_t *o = stats_json(ctx);
	char *s = json_dumps(o, JSON_COMPACT);

	(void)r;
	resp->content_type = "application/json";
	buf_printf(&resp->body, "%s\n", s);
	free(s);
	json_decref(o);
}

static void
log_line(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "probe: %s\n", msg);
}

static unsigned
num(const char *s)
{
	long long v;

	if (s == NULL || util_parse_int(s, &v) == -1 || v < 0 || v > 1000000)
		exit(2);
	return (unsigned)v;
}

int
main(int argc, char **argv)
{
	struct http_opts ho = { .nlisten = 0 };
	struct hook_ingress_opts io = { .log = log_line };
	struct hook_set_opts so = { NULL, 1, NULL };
	struct probe p = { .cap = 1000 };
	struct hook_sink sink;
	sigset_t sigs;
	const char *manifests = NULL, *state = NULL;
	struct audit_opts ao;
	struct intake_opts ino;
	struct audit *audit = NULL;
	struct hook_set *set;
	struct conf *conf;
	struct diags d;
	json_t *o;
	char *err = NULL, *s;
	size_t i;
	int a, sig;

	for (a = 1; a < argc; a++) {
		const char *v = a + 1 < argc ? argv[a + 1] : NULL;

		if (strcmp(argv[a], "-c") == 0)
			manifests = v;
		else if (strcmp(argv[a], "-l") == 0 && ho.nlisten <
		    HTTP_MAX_LISTEN)
			ho.listen[ho.nlisten++] = v;
		else if (strcmp(argv[a], "--capacity") == 0)
			p.cap = num(v);
		else if (strcmp(argv[a], "--secrets-dir") == 0)
			so.secrets_dir = v;
		else if (strcmp(argv[a], "--idle-timeout") == 0)
			ho.idle_timeout = num(v);
		else if (strcmp(argv[a], "--request-timeout") == 0)
			ho.request_timeout = num(v);
		else if (strcmp(argv[a], "--max-per-ip") == 0)
			ho.max_per_ip = num(v);
		else if (strcmp(argv[a], "--max-connections") == 0)
			ho.max_connections = num(v);
		else if (strcmp(argv[a], "--threads") == 0)
			ho.threads = num(v);
		else if (strcmp(argv[a], "--state") == 0)
			state = v;
		else if (strcmp(argv[a], "--hold") == 0) {
			p.hold = 1;
			continue;
		} else if (strcmp(argv[a], "--quiet") == 0) {
			p.quiet = 1;
			continue;
		} else {
			fprintf(stderr, "usage: ingest_probe -c MANIFESTS "
			    "[-l ADDR]... [--capacity N] [--hold] ...\n");
			return 2;
		}
		if (v == NULL)
			return 2;
		a++;
	}
	if (manifests == NULL)
		return 2;
	if (ho.nlisten == 0)
		ho.listen[ho.nlisten++] = "127.0.0.1:0";
	ho.log = log_line;
	signal(SIGPIPE, SIG_IGN);
	/* blocked before any thread starts, so only sigwait sees them */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	pthread_mutex_init(&p.lock, NULL);
	p.q = xcalloc(p.cap + 1, sizeof *p.q);

	if (state) {	/* the schema is the audit store's */
		audit_opts_defaults(&ao);
		memset(&ino, 0, sizeof ino);
		ino.capacity = 1000000;
		if ((audit = audit_open(state, &ao, &err)) == NULL ||
		    (p.intake = intake_open(state, &ino, &err)) == NULL) {
			fprintf(stderr, "probe: %s\n", err);
			return 1;
		}
	}
	diag_init(&d);
	conf = conf_load(&manifests, 1, &d);
	if ((p.srv = http_server_new(&ho, &err)) == NULL) {
		fprintf(stderr, "probe: %s\n", err);
		return 1;
	}
	http_route_add(p.srv, "POST", "/_probe/drain", drain, &p);
	http_route_add(p.srv, "GET", "/_probe/stats", stats, &p);
	so.server = p.srv;
	set = hook_set_new();
	for (i = 0; i < conf->nby_kind[CONF_EVENTSOURCE]; i++)
		hook_set_add(set, conf->by_kind[CONF_EVENTSOURCE][i], &so, &d);
	if (d.errors > 0) {
		diag_print(&d, stderr);
		return 1;
	}
	sink.push = push;
	sink.ctx = &p;
	sink.capacity = p.hold ? p.cap : 0;
	sink.clock = NULL;
	p.ing = hook_ingress_new(&sink, &io);
	hook_ingress_attach(p.ing, p.srv);
	hook_ingress_set(p.ing, set);
	if (http_server_start(p.srv, &err) == -1) {
		fprintf(stderr, "probe: %s\n", err);
		return 1;
	}
	printf("{\"listening\":[");
	for (i = 0; i < ho.nlisten; i++)
		printf("%s%u", i ? "," : "", http_server_port(p.srv, i));
	printf("]}\n");
	fflush(stdout);
	sigwait(&sigs, &sig);
	http_server_free(p.srv);
	p.srv = NULL;
	{
		/* the server is gone: read its last counters first */
		struct hook_stats hs;

		hook_ingress_stats(p.ing, &hs);
		o = json_pack("{s:{s:I, s:I, s:I, s:I, s:I}}", "stats",
		    "events", (json_int_t)hs.events,
		    "duplicates", (json_int_t)hs.duplicates,
		    "full", (json_int_t)hs.full,
		    "held", (json_int_t)p.n,
		    "printed", (json_int_t)p.printed);
	}
	s = json_dumps(o, JSON_COMPACT);
	printf("%s\n", s);
	fflush(stdout);
	free(s);
	json_decref(o);
	hook_ingress_free(p.ing);
	intake_free(p.intake);
	audit_close(audit);
	for (i = 0; i < p.n; i++)
		event_clear(&p.q[i]);
	free(p.q);
	conf_free(conf);
	diag_free(&d);
	return 0;
}
