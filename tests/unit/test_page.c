/*
 * The pager: which records page and when (one per trigger and reason per
 * window, resolved when the condition clears), the alert and webhook
 * shapes, retries, giving up, a full queue, order under retries, and that
 * a dead receiver never blocks the caller.  A small HTTP server in this
 * file stands in for the receivers; when prometheus-alertmanager is
 * installed, the last test pages a real one and reads the alerts back.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "harness.h"
#include "metrics/metrics.h"
#include "page/page.h"
#include "util/util.h"

#define S	1000LL
#define MIN	(60 * S)
#define T0	1764064800000LL		/* 2025-11-25T10:00:00Z */

/* ---- a receiver ---------------------------------------------------------- */

struct fake {
	int		 fd;
	unsigned	 port;
	pthread_t	 th;
	volatile int	 stop;
	pthread_mutex_t	 mu;
	json_t		*reqs;		/* [{"path","auth","body"}] */
	int		 fail_first;	/* answer 500 to this many */
	int		 always_fail;
	int		 delay_ms;
	int		 seen;
};

static void
serve_one(struct fake *f, int c)
{
	char buf[1 << 16], *hdr_end, *cl, *auth, *line_end, path[256];
	size_t len = 0, want = 0;
	ssize_t n;
	json_t *body;
	json_error_t je;
	int status;
	char reply[128];

	while (len < sizeof buf - 1 && (n = read(c, buf + len,
	    sizeof buf - 1 - len)) > 0) {
		len += (size_t)n;
		buf[len] = '\0';
		if ((hdr_end = strstr(buf, "\r\n\r\n")) == NULL)
			continue;
		cl = strstr(buf, "Content-Length:");
		want = (size_t)(hdr_end + 4 - buf) + (cl ? strtoul(cl + 15,
		    NULL, 10) : 0);
		if (len >= want)
			break;
	}
	buf[len] = '\0';
	if ((hdr_end = strstr(buf, "\r\n\r\n")) == NULL)
		return;
	*hdr_end = '\0';
	path[0] = '\0';
	if ((line_end = strstr(buf, "\r\n")) != NULL)
		sscanf(buf, "%*s %255s", path);
	auth = strstr(buf, "Authorization: ");
	if (auth && (line_end = strstr(auth, "\r\n")) != NULL)
		*line_end = '\0';
	body = json_loads(hdr_end + 4, 0, &je);
	if (f->delay_ms)
		usleep((useconds_t)f->delay_ms * 1000);
	pthread_mutex_lock(&f->mu);
	json_array_append_new(f->reqs, json_pack("{s:s, s:s?, s:o?}", "path",
	    path, "auth", auth ? auth + 15 : NULL, "body", body));
	status = f->always_fail || f->seen < f->fail_first ? 500 : 200;
	f->seen++;
	pthread_mutex_unlock(&f->mu);
	snprintf(reply, sizeof reply, "HTTP/1.1 %d X\r\nContent-Length: 0\r\n"
	    "Connection: close\r\n\r\n", status);
	if (write(c, reply, strlen(reply)) < 0)
		return;
}

static void *
fake_loop(void *arg)
{
	struct fake *f = arg;
	struct pollfd pfd;
	int c;

	while (!f->stop) {
		pfd.fd = f->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		if ((c = accept(f->fd, NULL, NULL)) == -1)
			continue;
		serve_one(f, c);
		close(c);
	}
	return NULL;
}

static void
fake_start(struct fake *f)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	int one = 1;

	memset(f, 0, sizeof *f);
	pthread_mutex_init(&f->mu, NULL);
	f->reqs = json_array();
	f->fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(f->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(f->fd, (struct sockaddr *)&sa, sizeof sa);
	listen(f->fd, 16);
	getsockname(f->fd, (struct sockaddr *)&sa, &sl);
	f->port = ntohs(sa.sin_port);
	pthread_create(&f->th, NULL, fake_loop, f);
}

static void
fake_stop(struct fake *f)
{
	f->stop = 1;
	pthread_join(f->th, NULL);
	close(f->fd);
	json_decref(f->reqs);
	pthread_mutex_destroy(&f->mu);
}

static size_t
fake_count(struct fake *f)
{
	size_t n;

	pthread_mutex_lock(&f->mu);
	n = json_array_size(f->reqs);
	pthread_mutex_unlock(&f->mu);
	return n;
}

/* The i-th request's body (borrowed while f lives). */
static json_t *
fake_body(struct fake *f, size_t i)
{
	json_t *b;

	pthread_mutex_lock(&f->mu);
	b = json_object_get(json_array_get(f->reqs, i), "body");
	pthread_mutex_unlock(&f->mu);
	return b;
}

/* ---- helpers ------------------------------------------------------------- */

static struct page *
pager(struct fake *am, struct fake *hook, void (*tune)(struct page_opts *))
{
	struct page_opts o;
	char amurl[64], hookurl[64], *err = NULL;
	struct page *p;

	page_opts_defaults(&o);
	o.retry_base = 10;
	o.timeout = 2000;
	if (am) {
		snprintf(amurl, sizeof amurl, "http://127.0.0.1:%u/", am->port);
		o.alertmanager = amurl;
	}
	if (hook) {
		snprintf(hookurl, sizeof hookurl, "http://127.0.0.1:%u/hook",
		    hook->port);
		o.webhook = hookurl;
		o.webhook_token = "s3cret";
	}
	o.generator_url = "http://remediate.example/";
	if (tune)
		tune(&o);
	p = page_new(&o, &err);
	if (p == NULL)
		fprintf(stderr, "page_new: %s\n", err);
	free(err);
	return p;
}

static void
decide(struct page *p, int64_t t, const char *trigger, enum rec_decision d,
    enum rec_reason reason, const char *target, json_t *extra)
{
	struct rec_decision_record r;

	memset(&r, 0, sizeof r);
	r.time = t;
	r.sensor = "argo-events/oom";
	r.trigger = trigger;
	r.decision = d;
	r.reason = reason;
	r.message = xasprintf("message at %lld", (long long)(t - T0));
	r.extra = extra;
	objref_set(&r.target, "Deployment", "shop", target);
	page_decision(p, &r);
	rec_clear(&r);
}

static const char *
alert_str(json_t *body, const char *part, const char *k)
{
	json_t *a = json_array_get(body, 0);

	return json_string_value(part ? json_object_get(json_object_get(a,
	    part), k) : json_object_get(a, k));
}

static double
pages(const char *dest, const char *result)
{
	static const char *const labels[] = { "destination", "result", NULL };
	const char *v[] = { dest, result };

	return metrics_get(metrics_family(METRICS_COUNTER,
	    "remediate_pages_total", NULL, labels, NULL, 0), v);
}

/* ---- tests --------------------------------------------------------------- */

TEST(one_page_per_trigger_and_reason_per_window)
{
	struct fake am;
	struct page *p;
	json_t *b;

	fake_start(&am);
	p = pager(&am, NULL, NULL);
	if (p == NULL)
		return;
	decide(p, T0, "bump", REC_SUPPRESSED, REASON_RATE_LIMITED, "cart",
	    NULL);
	decide(p, T0 + MIN, "bump", REC_SUPPRESSED, REASON_RATE_LIMITED,
	    "checkout", NULL);		/* counted, not paged */
	decide(p, T0 + 2 * MIN, "bump", REC_SUPPRESSED, REASON_BUDGET,
	    "cart", NULL);		/* another reason pages */
	decide(p, T0 + 3 * MIN, "bump", REC_SUPPRESSED, REASON_COOLDOWN,
	    "cart", NULL);		/* cooldown never pages */
	decide(p, T0 + 6 * MIN, "bump", REC_SUPPRESSED, REASON_RATE_LIMITED,
	    "cart", NULL);		/* a window later: pages again */
	CHECK_INT(page_flush(p, 5000), 0);
	CHECK_INT(fake_count(&am), 3);
	b = fake_body(&am, 0);
	CHECK_STR(json_string_value(json_object_get(json_array_get(am.reqs,
	    0), "path")), "/api/v2/alerts");
	CHECK_STR(alert_str(b, "labels", "alertname"), "RemediationPage");
	CHECK_STR(alert_str(b, "labels", "severity"), "warning");
	CHECK_STR(alert_str(b, "labels", "sensor"), "argo-events/oom");
	CHECK_STR(alert_str(b, "labels", "trigger"), "bump");
	CHECK_STR(alert_str(b, "labels", "reason"), "rate-limited");
	CHECK_STR(alert_str(b, "labels", "target"), "Deployment/shop/cart");
	CHECK_STR(alert_str(b, "annotations", "description"),
	    "message at 0");
	CHECK_STR(alert_str(b, NULL, "startsAt"), "2025-11-25T10:00:00Z");
	CHECK(alert_str(b, NULL, "endsAt") == NULL);
	CHECK_STR(alert_str(b, NULL, "generatorURL"),
	    "http://remediate.example/");
	CHECK_STR(alert_str(fake_body(&am, 1), "labels", "reason"), "budget");
	/* the third: same episode, same labels, three occurrences */
	b = fake_body(&am, 2);
	CHECK_STR(alert_str(b, "labels", "target"), "Deployment/shop/cart");
	CHECK_STR(alert_str(b, "annotations", "occurrences"), "3");
	CHECK_STR(alert_str(b, "annotations", "lastTarget"),
	    "Deployment/shop/cart");
	CHECK_STR(alert_str(b, NULL, "startsAt"), "2025-11-25T10:00:00Z");
	/*
	 * An action decided before the latest occurrence, whose record
	 * comes late (its outcome came back from a worker): clears nothing.
	 */
	decide(p, T0 + 90000, "bump", REC_ACTED, REASON_NONE, "tax", NULL);
	CHECK_INT(page_flush(p, 5000), 0);
	CHECK_INT(fake_count(&am), 3);
	/* an action clears both conditions: two resolved pages */
	decide(p, T0 + 7 * MIN, "bump", REC_ACTED, REASON_NONE, "cart", NULL);
	CHECK_INT(page_flush(p, 5000), 0);
	CHECK_INT(fake_count(&am), 5);
	CHECK_STR(alert_str(fake_body(&am, 3), NULL, "endsAt"),
	    "2025-11-25T10:07:00Z");
	CHECK_STR(alert_str(fake_body(&am, 4), NULL, "endsAt"),
	    "2025-11-25T10:07:00Z");
	page_free(p);
	fake_stop(&am);
}

TEST(a_quarantine_pages_and_a_plain_action_does_not)
{
	struct fake am;
	struct page *p;
	struct rec_decision_record r;

	fake_start(&am);
	p = pager(&am, NULL, NULL);
	if (p == NULL)
		return;
	decide(p, T0, "restart", REC_ACTED, REASON_NONE, "cart", NULL);
	memset(&r, 0, sizeof r);
	r.time = T0 + MIN;
	r.sensor = "argo-events/falco";
	r.trigger = "isolate";
	r.decision = REC_ACTED;
	r.plan = json_pack("{s:s, s:b}", "type", "remediate", "page", 1);
	objref_set(&r.target, "Pod", "shop", "cart-1");
	page_decision(p, &r);
	rec_clear(&r);
	CHECK_INT(page_flush(p, 5000), 0);
	CHECK_INT(fake_count(&am), 1);
	CHECK_STR(alert_str(fake_body(&am, 0), "labels", "reason"),
	    "quarantined");
	CHECK_STR(alert_str(fake_body(&am, 0), "labels", "trigger"),
	    "isolate");
	page_free(p);
	fake_stop(&am);
}

/* A target another controller manages pages: a person must decide. */
TEST(gitops_managed_and_conflict_page_cooldown_does_not)
{
	struct fake am;
	struct page *p;

	fake_start(&am);
	p = pager(&am, NULL, NULL);
	if (p == NULL)
		return;
	decide(p, T0, "bump", REC_SUPPRESSED, REASON_COOLDOWN, "web", NULL);
	decide(p, T0, "bump", REC_SUPPRESSED, REASON_GITOPS_MANAGED,
	    "checkout", NULL);
	decide(p, T0, "bump", REC_SUPPRESSED, REASON_CONFLICT, "cart", NULL);
	CHECK_INT(page_flush(p, 5000), 0);
	CHECK_INT(fake_count(&am), 2);
	CHECK_STR(alert_str(fake_body(&am, 0), "labels", "reason"),
	    "gitops-managed");
	CHECK_STR(alert_str(fake_body(&am, 1), "labels", "reason"),
	    "conflict");
	page_free(p);
	fake_stop(&am);
}

TEST(quiet_conditions_resolve_and_held_pages_go_out)
{
	struct fake am;
	struct page *p;

	fake_start(&am);
	p = pager(&am, NULL, NULL);
	if (p == NULL)
		return;
	decide(p, T0, "bump", REC_FAILED, REASON_NONE, "cart", NULL);
	decide(p, T0 + MIN, "bump", REC_ACTED, REASON_NONE, "cart", NULL);
	/* fails again inside the window of the first page: held back */
	decide(p, T0 + 2 * MIN, "bump", REC_FAILED, REASON_NONE, "cart",
	    NULL);
	CHECK_INT(page_flush(p, 5000), 0);
	CHECK_INT(fake_count(&am), 2);			/* firing, resolved */
	CHECK_STR(alert_str(fake_body(&am, 0), "labels", "severity"),
	    "critical");
	page_tick(p, T0 + 4 * MIN);			/* nothing due */
	page_tick(p, T0 + 5 * MIN);			/* the held page */
	CHECK_INT(page_flush(p, 5000), 0);
	CHECK_INT(fake_count(&am), 3);
	CHECK(alert_str(fake_body(&am, 2), NULL, "endsAt") == NULL);
	CHECK_STR(alert_str(fake_body(&am, 2), NULL, "startsAt"),
	    "2025-11-25T10:02:00Z");
	page_tick(p, T0 + 7 * MIN);			/* quiet: resolved */
	CHECK_INT(page_flush(p, 5000), 0);
	CHECK_INT(fake_count(&am), 4);
	CHECK_STR(alert_str(fake_body(&am, 3), NULL, "endsAt"),
	    "2025-11-25T10:07:00Z");
	page_tick(p, T0 + 60 * MIN);			/* forgotten */
	page_tick(p, T0 + 61 * MIN);
	CHECK_INT(page_flush(p, 5000), 0);
	CHECK_INT(fake_count(&am), 4);
	page_free(p);
	fake_stop(&am);
}

TEST(demotion_pages_until_the_manifest_changes)
{
	struct fake am;
	struct page *p;

	fake_start(&am);
	p = pager(&am, NULL, NULL);
	if (p == NULL)
		return;
	decide(p, T0, "bump", REC_DEMOTED, REASON_NONE, "cart", NULL);
	page_tick(p, T0 + 60 * MIN);		/* not resolved by quiet */
	decide(p, T0 + 61 * MIN, "bump", REC_NOTIFIED, REASON_NONE, "cart",
	    json_pack("{s:{s:s}}", "demoted", "since", "x"));
	CHECK_INT(page_flush(p, 5000), 0);
	CHECK_INT(fake_count(&am), 1);
	CHECK_STR(alert_str(fake_body(&am, 0), "labels", "reason"),
	    "demoted");
	/* decided without demotion: the manifest changed */
	decide(p, T0 + 62 * MIN, "bump", REC_DRY_RUN, REASON_NONE, "cart",
	    NULL);
	CHECK_INT(page_flush(p, 5000), 0);
	CHECK_INT(fake_count(&am), 2);
	CHECK_STR(alert_str(fake_body(&am, 1), NULL, "endsAt"),
	    "2025-11-25T11:02:00Z");
	page_free(p);
	fake_stop(&am);
}

static void
five(struct page_opts *o)
{
	o->attempts = 5;
}

TEST(webhook_gets_the_alertmanager_webhook_shape)
{
	struct fake am, hook;
	struct page *p;
	json_t *b;

	fake_start(&am);
	fake_start(&hook);
	hook.always_fail = 1;		/* a dead webhook */
	p = pager(&am, &hook, five);
	if (p == NULL)
		return;
	decide(p, T0, "bump", REC_SUPPRESSED, REASON_CIRCUIT_OPEN, "cart",
	    NULL);
	CHECK_INT(page_flush(p, 5000), 0);
	CHECK_INT(fake_count(&am), 1);		/* not held up by the hook */
	CHECK_INT(fake_count(&hook), 5);	/* 5 attempts */
	b = fake_body(&hook, 0);
	CHECK_STR(json_string_value(json_object_get(b, "version")), "4");
	CHECK_STR(json_string_value(json_object_get(b, "status")), "firing");
	CHECK_STR(json_string_value(json_object_get(json_object_get(
	    json_array_get(json_object_get(b, "alerts"), 0), "labels"),
	    "reason")), "circuit-open");
	CHECK_STR(json_string_value(json_object_get(json_array_get(hook.reqs,
	    0), "auth")), "Bearer s3cret");
	CHECK_STR(json_string_value(json_object_get(json_array_get(hook.reqs,
	    0), "path")), "/hook");
	page_free(p);
	fake_stop(&am);
	fake_stop(&hook);
}

TEST(retries_keep_order_and_count)
{
	struct fake am;
	struct page *p;
	double sent = pages("alertmanager", "sent");
	double retried = pages("alertmanager", "retried");

	fake_start(&am);
	am.fail_first = 2;
	p = pager(&am, NULL, NULL);
	if (p == NULL)
		return;
	decide(p, T0, "bump", REC_SUPPRESSED, REASON_AT_CAP, "cart", NULL);
	decide(p, T0 + S, "bump", REC_ACTED, REASON_NONE, "cart", NULL);
	CHECK_INT(page_flush(p, 5000), 0);
	CHECK_INT(fake_count(&am), 4);		/* 500, 500, firing, resolved */
	CHECK(alert_str(fake_body(&am, 2), NULL, "endsAt") == NULL);
	CHECK(alert_str(fake_body(&am, 3), NULL, "endsAt") != NULL);
	CHECK(pages("alertmanager", "sent") - sent == 2);
	CHECK(pages("alertmanager", "retried") - retried == 2);
	page_free(p);
	fake_stop(&am);
}

static void
slow(struct page_opts *o)
{
	o->queue_max = 4;
	o->attempts = 1;
}

TEST(a_slow_receiver_never_blocks_and_the_queue_is_bounded)
{
	struct fake am;
	struct page *p;
	struct timespec a, b;
	double dropped = pages("alertmanager", "dropped");
	char trig[32];
	int i;

	fake_start(&am);
	am.delay_ms = 300;
	p = pager(&am, NULL, slow);
	if (p == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < 50; i++) {
		snprintf(trig, sizeof trig, "t%d", i);
		decide(p, T0, trig, REC_FAILED, REASON_NONE, "cart", NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	/* fifty pages queued in far less than one receiver's answer */
	CHECK((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) /
	    1000000 < 200);
	CHECK(page_queue_depth(p) <= 5);
	CHECK(pages("alertmanager", "dropped") - dropped >= 45);
	page_free(p);		/* does not wait for the queue */
	fake_stop(&am);
}

TEST(bad_destinations_are_refused)
{
	struct page_opts o;
	char *err = NULL;

	page_opts_defaults(&o);
	o.alertmanager = "am:9093";
	CHECK(page_new(&o, &err) == NULL);
	CHECK_STR(err, "page destination \"am:9093\" is not an http:// or "
	    "https:// URL");
	free(err);
	err = NULL;
	o.alertmanager = NULL;
	o.webhook = "file:///etc/passwd";
	CHECK(page_new(&o, &err) == NULL);
	free(err);
}

static void
save(void *ctx, const char *kind, const char *key, json_t *v)
{
	CHECK_STR(kind, "page");
	json_object_set(ctx, key, v ? v : json_null());
}

TEST(journal_round_trip)
{
	struct page *p = pager(NULL, NULL, NULL), *q;
	json_t *saved = json_object(), *again = json_object(), *v;
	const char *k;

	if (p == NULL)
		return;
	decide(p, T0, "bump", REC_SUPPRESSED, REASON_BUDGET, "cart", NULL);
	page_state_journal(p, 0, save, saved);
	CHECK_INT(json_object_size(saved), 1);
	v = json_object_get(saved, "argo-events/oom\x1f" "bump\x1f" "budget");
	CHECK(json_is_true(json_object_get(v, "firing")));
	CHECK_INT(json_integer_value(json_object_get(v, "sent")), T0);
	page_state_journal(p, 0, save, again);	/* the marks were spent */
	CHECK_INT(json_object_size(again), 0);
	page_free(p);
	q = pager(NULL, NULL, NULL);
	json_object_foreach(saved, k, v)
		CHECK_INT(page_state_load(q, "page", k, v), 0);
	CHECK_INT(page_state_load(q, "window", "a\x1f" "b\x1f" "c", v), -1);
	CHECK_INT(page_state_load(q, "page", "no separators", v), -1);
	/* the restored episode goes on: no new page inside the window */
	decide(q, T0 + MIN, "bump", REC_SUPPRESSED, REASON_BUDGET, "cart",
	    NULL);
	page_state_journal(q, 1, save, again);
	v = json_object_get(again, "argo-events/oom\x1f" "bump\x1f" "budget");
	CHECK_INT(json_integer_value(json_object_get(v, "count")), 2);
	CHECK_INT(json_integer_value(json_object_get(v, "sent")), T0);
	CHECK_INT(json_integer_value(json_object_get(v, "unsent")), 1);
	page_free(q);
	json_decref(saved);
	json_decref(again);
}

static void
save_any(void *ctx, const char *kind, const char *key, json_t *v)
{
	char *k = xasprintf("%s/%s", kind, key);

	json_object_set(ctx, k, v ? v : json_null());
	free(k);
}

static void
fast_retry(struct page_opts *o)
{
	o->retry_max = 20;
}

/* Waits (bounded) until the receiver has seen n requests. */
static int
wait_count(struct fake *f, size_t n)
{
	int i;

	for (i = 0; i < 500 && fake_count(f) < n; i++)
		usleep(10000);
	return fake_count(f) >= n;
}

TEST(a_page_stays_due_until_a_receiver_accepts_it)
{
	struct fake am;
	struct page *p;
	json_t *j = json_object(), *v;
	const char *k;
	int outs = 0;

	fake_start(&am);
	am.always_fail = 1;		/* Alertmanager down */
	p = pager(&am, NULL, fast_retry);
	if (p == NULL)
		return;
	decide(p, T0, "bump", REC_FAILED, REASON_NONE, "cart", NULL);
	page_state_journal(p, 0, save_any, j);
	json_object_foreach(j, k, v)
		outs += strncmp(k, "pageout/", 8) == 0 && json_is_object(v);
	CHECK_INT(outs, 1);		/* kept in the state file */
	CHECK(wait_count(&am, 12));	/* more than the old 5 tries */
	CHECK_INT(page_undelivered(p), 1);
	am.always_fail = 0;		/* back */
	CHECK_INT(page_flush(p, 5000), 0);
	json_object_clear(j);
	page_state_journal(p, 0, save_any, j);
	outs = 0;
	json_object_foreach(j, k, v)
		outs += strncmp(k, "pageout/", 8) == 0 && json_is_null(v);
	CHECK_INT(outs, 1);		/* accepted: removed */
	CHECK_INT(page_undelivered(p), 0);
	page_free(p);
	fake_stop(&am);
	json_decref(j);
}

TEST(a_page_kept_in_the_state_file_is_sent_after_a_restart)
{
	struct fake dead, am;
	struct page *p, *q;
	json_t *j = json_object(), *v;
	const char *k, *slash;
	char kind[16];

	fake_start(&dead);
	dead.always_fail = 1;
	p = pager(&dead, NULL, NULL);
	if (p == NULL)
		return;
	decide(p, T0, "bump", REC_FAILED, REASON_NONE, "cart", NULL);
	page_state_journal(p, 0, save_any, j);
	page_free(p);			/* the process dies */
	fake_stop(&dead);
	fake_start(&am);
	q = pager(&am, NULL, NULL);
	json_object_foreach(j, k, v) {
		slash = strchr(k, '/');
		snprintf(kind, sizeof kind, "%.*s", (int)(slash - k), k);
		CHECK_INT(page_state_load(q, kind, slash + 1, v), 0);
	}
	CHECK_INT(page_undelivered(q), 1);
	CHECK_INT(page_flush(q, 5000), 0);
	CHECK_INT(fake_count(&am), 1);
	CHECK(alert_str(fake_body(&am, 0), NULL, "endsAt") == NULL);
	CHECK_STR(alert_str(fake_body(&am, 0), "labels", "trigger"), "bump");
	CHECK_INT(page_state_load(q, "pageout", "7", j), -1);	/* bad key */
	page_free(q);
	fake_stop(&am);
	json_decref(j);
}

/* ---- a real Alertmanager ------------------------------------------------- */

static unsigned
free_port(void)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned port;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&sa, sizeof sa);
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static size_t
grab(char *ptr, size_t size, size_t n, void *ctx)
{
	buf_add(ctx, ptr, size * n);
	return size * n;
}

/* GETs url; the body (owned) on 200, NULL otherwise. */
static char *
http_get(const char *url)
{
	CURL *c = curl_easy_init();
	struct buf b;
	long code = 0;

	buf_init(&b, 1 << 20);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, grab);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	if (code != 200) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

/* The alerts Alertmanager holds for trigger (new reference). */
static json_t *
am_alerts(unsigned port, const char *trigger)
{
	char url[256], *body;
	json_t *all, *out = json_array(), *a;
	json_error_t je;
	size_t i;

	snprintf(url, sizeof url, "http://127.0.0.1:%u/api/v2/alerts", port);
	if ((body = http_get(url)) == NULL)
		return out;
	all = json_loads(body, 0, &je);
	free(body);
	json_array_foreach(all, i, a)
		if (json_string_value(json_object_get(json_object_get(a,
		    "labels"), "trigger")) && strcmp(json_string_value(
		    json_object_get(json_object_get(a, "labels"), "trigger")),
		    trigger) == 0)
			json_array_append(out, a);
	json_decref(all);
	return out;
}

TEST(a_real_alertmanager_receives_and_resolves)
{
	const char *bin = "/usr/bin/prometheus-alertmanager";
	char tmp[] = "/tmp/remediate-am-XXXXXX", cfg[128], storage[160];
	char listen[64], cluster[64], url[64], cfgarg[160], *ready, *err = NULL;
	unsigned port = free_port();
	struct page_opts o;
	struct page *p;
	json_t *got;
	int64_t now;
	pid_t pid;
	FILE *f;
	int i;

	if (access(bin, X_OK) != 0) {
		printf("skip: %s not installed (Debian package "
		    "prometheus-alertmanager; scripts/install-deps --test)\n",
		    bin);
		return;
	}
	if (mkdtemp(tmp) == NULL)
		return;
	snprintf(cfg, sizeof cfg, "%s/am.yml", tmp);
	f = fopen(cfg, "w");
	fputs("route: {receiver: none}\nreceivers: [{name: none}]\n", f);
	fclose(f);
	snprintf(cfgarg, sizeof cfgarg, "--config.file=%s", cfg);
	snprintf(storage, sizeof storage, "--storage.path=%s", tmp);
	snprintf(listen, sizeof listen, "--web.listen-address=127.0.0.1:%u",
	    port);
	snprintf(cluster, sizeof cluster, "--cluster.listen-address=");
	fflush(NULL);
	if ((pid = fork()) == 0) {
		freopen("/dev/null", "w", stderr);
		execl(bin, "alertmanager", cfgarg, storage, listen, cluster,
		    (char *)NULL);
		_exit(127);
	}
	snprintf(url, sizeof url, "http://127.0.0.1:%u/-/ready", port);
	for (i = 0; i < 100 && (ready = http_get(url)) == NULL; i++)
		usleep(100000);
	CHECK(i < 100);
	free(ready);
	page_opts_defaults(&o);
	snprintf(url, sizeof url, "http://127.0.0.1:%u", port);
	o.alertmanager = url;
	p = page_new(&o, &err);
	CHECK(p != NULL);
	/*
	 * Current times: Alertmanager drops alerts resolved long ago, and
	 * holds an alert whose endsAt is still ahead as active.
	 */
	now = (int64_t)time(NULL) * 1000 - 2000;
	if (p) {
		struct rec_decision_record r;

		memset(&r, 0, sizeof r);
		r.time = now;
		r.sensor = "argo-events/oom";
		r.trigger = "am-test";
		r.decision = REC_SUPPRESSED;
		r.reason = REASON_BUDGET;
		r.message = xstrdup("error budget 0.1 below minimum 0.25");
		objref_set(&r.target, "Deployment", "shop", "cart");
		page_decision(p, &r);
		CHECK_INT(page_flush(p, 5000), 0);
		got = am_alerts(port, "am-test");
		CHECK_INT(json_array_size(got), 1);
		CHECK_STR(alert_str(got, "labels", "alertname"),
		    "RemediationPage");
		CHECK_STR(alert_str(got, "labels", "reason"), "budget");
		CHECK_STR(alert_str(got, "labels", "severity"), "warning");
		CHECK_STR(alert_str(got, "labels", "target"),
		    "Deployment/shop/cart");
		CHECK_STR(alert_str(got, "annotations", "description"),
		    "error budget 0.1 below minimum 0.25");
		CHECK_STR(json_string_value(json_object_get(json_object_get(
		    json_array_get(got, 0), "status"), "state")), "active");
		json_decref(got);
		/* the budget came back: the alert resolves */
		r.time = now + 1500;
		r.decision = REC_ACTED;
		r.reason = REASON_NONE;
		page_decision(p, &r);
		CHECK_INT(page_flush(p, 5000), 0);
		rec_clear(&r);
		got = am_alerts(port, "am-test");
		CHECK_INT(json_array_size(got), 0);	/* resolved: gone */
		json_decref(got);
		page_free(p);
	}
	free(err);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	snprintf(cfgarg, sizeof cfgarg, "rm -rf %s", tmp);
	if (system(cfgarg) != 0)
		fprintf(stderr, "could not remove %s\n", tmp);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	RUN(one_page_per_trigger_and_reason_per_window);
	RUN(a_quarantine_pages_and_a_plain_action_does_not);
	RUN(gitops_managed_and_conflict_page_cooldown_does_not);
	RUN(quiet_conditions_resolve_and_held_pages_go_out);
	RUN(demotion_pages_until_the_manifest_changes);
	RUN(webhook_gets_the_alertmanager_webhook_shape);
	RUN(retries_keep_order_and_count);
	RUN(a_slow_receiver_never_blocks_and_the_queue_is_bounded);
	RUN(bad_destinations_are_refused);
	RUN(journal_round_trip);
	RUN(a_page_stays_due_until_a_receiver_accepts_it);
	RUN(a_page_kept_in_the_state_file_is_sent_after_a_restart);
	RUN(a_real_alertmanager_receives_and_resolves);
	metrics_shutdown();
	curl_global_cleanup();
	return harness_done();
}
