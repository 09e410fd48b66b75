/*
 * Prometheus: every answer in the fixtures (vector, scalar, empty, NaN
 * with a warning, bad_data, timeout), answers the fixtures do not show
 * (matrix, string, HTML error pages, infinities, native histograms), the
 * budget gate failing closed, conditions, workload labels, and prom_query
 * over HTTP against a canned server (request form, HTTP errors, timeouts,
 * unreachable) and, when /usr/bin/prometheus is installed, a real one.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "prom/prom.h"
#include "signal/signal.h"
#include "util/util.h"

static char *
fixture(const char *name, size_t *len)
{
	const char *path = harness_fixture(name);
	char *text, *err = NULL;

	text = util_read_file(path, 1 << 20, len, &err);
	if (text == NULL)
		fprintf(stderr, "fixture %s: %s\n", path, err);
	free(err);
	return text;
}

static int
parse_fixture(const char *name, long status, struct prom_result *r,
    char **err)
{
	size_t len;
	char *text = fixture(name, &len);
	int rc;

	if (text == NULL) {
		*err = xstrdup("no fixture");
		return -2;
	}
	rc = prom_parse(text, len, status, r, err);
	free(text);
	return rc;
}

#define T0	1773480130512LL		/* the fixtures' sample time, ms */

TEST(fixture_vector)
{
	struct prom_result r;
	char *err;
	double v;
	int64_t at;
	const char *why;

	REQUIRE(parse_fixture("prometheus-query-budget-remaining.json", 200,
	    &r, &err) == 0);
	CHECK_INT(r.type, PROM_VECTOR);
	CHECK_INT(r.n, 2);
	if (r.n == 2) {
		CHECK(r.v[0].value == 0.2134920634920635);
		CHECK_INT(r.v[0].time, T0);
		CHECK_STR(json_string_value(json_object_get(r.v[1].metric,
		    "sloth_slo")), "requests-latency");
		CHECK(r.v[1].value == -0.0481);
	}
	CHECK_INT(r.nwarnings, 0);
	/* the gate takes the most conservative sample */
	CHECK_INT(prom_gate_value(&r, T0 + 1000, 300000, &v, &at, &why), 0);
	CHECK(v == -0.0481);
	CHECK_INT(at, T0);
	/* ...and refuses it once older than maxAge */
	CHECK_INT(prom_gate_value(&r, T0 + 300001, 300000, &v, &at, &why),
	    -1);
	CHECK_STR(why, "stale");
	CHECK_INT(prom_gate_value(&r, T0 + 999999999, 0, &v, &at, &why), 0);
	prom_result_clear(&r);
}

TEST(fixture_scalar_empty_nan)
{
	struct prom_result r;
	char *err;
	double v;
	int64_t at;
	const char *why;

	REQUIRE(parse_fixture("prometheus-query-scalar.json", 200, &r,
	    &err) == 0);
	CHECK_INT(r.type, PROM_SCALAR);
	REQUIRE(r.n == 1);
	CHECK_INT(prom_gate_value(&r, T0, 60000, &v, &at, &why), 0);
	CHECK(v == 0.2134920634920635);
	CHECK_INT(json_object_size(r.v[0].metric), 0);
	prom_result_clear(&r);

	REQUIRE(parse_fixture("prometheus-query-empty-vector.json", 200, &r,
	    &err) == 0);
	CHECK_INT(r.n, 0);
	CHECK_INT(prom_gate_value(&r, T0, 60000, &v, &at, &why), -1);
	CHECK_STR(why, "empty");
	prom_result_clear(&r);

	REQUIRE(parse_fixture("prometheus-query-nan-warning.json", 200, &r,
	    &err) == 0);
	REQUIRE(r.n == 1);
	CHECK(isnan(r.v[0].value));
	CHECK_INT(r.nwarnings, 1);
	CHECK(r.nwarnings == 1 && strstr(r.warnings[0], "PromQL warning:"));
	CHECK_INT(prom_gate_value(&r, T0, 60000, &v, &at, &why), -1);
	CHECK_STR(why, "not a number");
	prom_result_clear(&r);
	CHECK_INT(prom_gate_value(NULL, T0, 0, &v, &at, &why), -1);
}

/*
 * Failing closed on what looks like a number: a sample from the future
 * (beyond PROM_MAX_SKEW) and an answer with warnings (partial: a shard or
 * remote store did not answer, so the smallest value may be missing) are
 * no budget; infos alone, and a little skew, are fine.
 */
TEST(gate_future_and_partial)
{
	static const char *const body = "{\"status\":\"success\",\"data\":{"
	    "\"resultType\":\"vector\",\"result\":[{\"metric\":{},"
	    "\"value\":[1773480130.512,\"0.9\"]}]}%s}";
	struct prom_result r;
	char *text, *err = NULL;
	double v;
	int64_t at;
	const char *why = NULL;

	text = xasprintf(body, "");
	CHECK_INT(prom_parse(text, strlen(text), 200, &r, &err), 0);
	CHECK_INT(prom_gate_value(&r, T0, 0, &v, &at, &why), 0);
	CHECK_INT(prom_gate_value(&r, T0 - PROM_MAX_SKEW, 0, &v, &at, &why), 0);
	CHECK_INT(prom_gate_value(&r, T0 - PROM_MAX_SKEW - 1, 0, &v, &at,
	    &why), -1);
	CHECK_STR(why, "from the future");
	prom_result_clear(&r);
	free(text);

	text = xasprintf(body, ",\"warnings\":[\"remote store down\"]");
	CHECK_INT(prom_parse(text, strlen(text), 200, &r, &err), 0);
	CHECK_INT(r.nwarnings, 1);
	CHECK_INT(prom_gate_value(&r, T0, 0, &v, &at, &why), -1);
	CHECK_STR(why, "partial answer");
	prom_result_clear(&r);
	free(text);

	text = xasprintf(body, ",\"infos\":[\"metric might not be a "
	    "counter\"]");
	CHECK_INT(prom_parse(text, strlen(text), 200, &r, &err), 0);
	CHECK_INT(r.nwarnings, 1);
	CHECK_INT(prom_gate_value(&r, T0, 0, &v, &at, &why), 0);
	CHECK(v == 0.9);
	prom_result_clear(&r);
	free(text);
}

TEST(fixture_errors)
{
	struct prom_result r;
	char *err = NULL;

	CHECK_INT(parse_fixture("prometheus-query-error-bad-data.json", 400,
	    &r, &err), -1);
	CHECK_STR(err, "bad_data: invalid parameter \"query\": 1:41: parse "
	    "error: unclosed left parenthesis");
	free(err);
	CHECK_INT(parse_fixture("prometheus-query-error-timeout.json", 503,
	    &r, &err), -1);
	CHECK_STR(err, "timeout: query timed out in expression evaluation");
	free(err);
	/* the error body counts even when the status says 200 */
	CHECK_INT(parse_fixture("prometheus-query-error-timeout.json", 200,
	    &r, &err), -1);
	CHECK(err != NULL && strncmp(err, "timeout:", 8) == 0);
	free(err);
	CHECK_INT(r.n, 0);
}

TEST(other_answers)
{
	static const struct {
		const char	*body;
		long		 status;
		const char	*err;		/* NULL: parses */
		double		 value;
	} cases[] = {
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
		  "\"result\":[]}}", 200, "range vector (matrix)", 0 },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"string\","
		  "\"result\":[1,\"x\"]}}", 200, "returned a string", 0 },
		{ "<html>Bad Gateway</html>", 502,
		  "HTTP 502: <html>Bad Gateway</html>", 0 },
		{ "", 503, "HTTP 503: (empty body)", 0 },
		{ "<html>", 200, "not a JSON object: <html>", 0 },
		{ "{\"status\":\"success\"}", 200, "no data.resultType", 0 },
		{ "{\"status\":\"weird\"}", 200, "neither success nor error",
		  0 },
		{ "{\"status\":\"success\",\"data\":{}}", 401, "HTTP 401", 0 },
		{ "{\"status\":\"error\"}", 422, "error: (no message)", 0 },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
		  "\"result\":{}}}", 200, "not a list", 0 },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
		  "\"result\":[1]}}", 200, "not an object", 0 },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
		  "\"result\":[{\"value\":[1,\"abc\"]}]}}", 200,
		  "\"abc\" is not a number", 0 },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
		  "\"result\":[{\"value\":[1,2]}]}}", 200,
		  "not [timestamp, \"value\"]", 0 },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
		  "\"result\":[{\"value\":[-5,\"1\"]}]}}", 200,
		  "out of range", 0 },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
		  "\"result\":[1.5,\"+Inf\"]}}", 200, NULL, INFINITY },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
		  "\"result\":[1.5,\"-Inf\"]}}", 200, NULL, -INFINITY },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
		  "\"result\":[{\"metric\":{},\"histogram\":[1.5,{\"count\":"
		  "\"2\"}]}]}}", 200, NULL, NAN },
	};
	struct prom_result r;
	char *err;
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		int rc = prom_parse(cases[i].body, strlen(cases[i].body),
		    cases[i].status, &r, &err);

		if (cases[i].err == NULL) {
			CHECK_INT(rc, 0);
			CHECK_INT(r.n, 1);
			if (r.n == 1) {
				CHECK_INT(r.v[0].time, 1500);
				CHECK(isnan(cases[i].value) ?
				    isnan(r.v[0].value) :
				    r.v[0].value == cases[i].value);
			}
			prom_result_clear(&r);
		} else {
			CHECK_INT(rc, -1);
			if (err == NULL || strstr(err, cases[i].err) == NULL)
				fprintf(stderr, "case %zu: got \"%s\"\n", i,
				    err ? err : "(null)");
			CHECK(err != NULL && strstr(err, cases[i].err));
			free(err);
		}
	}
}

TEST(conditions)
{
	static const struct {
		const char	*text;
		int		 ok;
		const char	*canon;
		double		 yes, no;
	} cases[] = {
		{ "> 0.5", 1, "> 0.5", 0.6, 0.5 },
		{ ">=0.5", 1, ">= 0.5", 0.5, 0.4 },
		{ "  < 0.25 ", 1, "< 0.25", 0.2, 0.25 },
		{ "<= -1", 1, "<= -1", -1, 0 },
		{ "== 1", 1, "== 1", 1, 1.0001 },
		{ "!= 0", 1, "!= 0", 3, 0 },
		{ "> 1e3", 1, "> 1000", 1001, 1000 },
		{ "> 0.1", 1, "> 0.1", 0.2, 0.1 },
		{ "=> 1", 0, NULL, 0, 0 },
		{ "> ", 0, NULL, 0, 0 },
		{ "> 1 2", 0, NULL, 0, 0 },
		{ "> nan", 0, NULL, 0, 0 },
		{ "1 < x", 0, NULL, 0, 0 },
		{ "", 0, NULL, 0, 0 },
	};
	struct prom_cond c;
	char out[64];
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		if (!cases[i].ok) {
			CHECK_INT(prom_cond_parse(cases[i].text, &c), -1);
			continue;
		}
		CHECK_INT(prom_cond_parse(cases[i].text, &c), 0);
		prom_cond_format(&c, out, sizeof out);
		CHECK_STR(out, cases[i].canon);
		CHECK(prom_cond_holds(&c, cases[i].yes));
		CHECK(!prom_cond_holds(&c, cases[i].no));
		CHECK(!prom_cond_holds(&c, NAN));
	}
	CHECK_INT(prom_cond_parse(NULL, &c), -1);
}

TEST(labels_name_workloads)
{
	static const struct {
		const char	*labels, *kind, *ns, *name;
	} cases[] = {
		{ "{\"namespace\":\"shop\",\"pod\":\"p\",\"node\":\"n\","
		  "\"deployment\":\"d\"}", "Pod", "shop", "p" },
		{ "{\"namespace\":\"shop\",\"deployment\":\"d\"}",
		  "Deployment", "shop", "d" },
		{ "{\"namespace\":\"shop\",\"statefulset\":\"s\"}",
		  "StatefulSet", "shop", "s" },
		{ "{\"namespace\":\"shop\",\"job_name\":\"j\",\"job\":\"ksm\"}",
		  "Job", "shop", "j" },
		{ "{\"namespace\":\"shop\",\"job\":\"kube-state-metrics\"}",
		  NULL, NULL, NULL },
		{ "{\"node\":\"n1\"}", "Node", NULL, "n1" },
		{ "{\"pod\":\"p\"}", NULL, NULL, NULL },
		{ "{\"namespace\":\"shop\",\"pod\":\"\"}", NULL, NULL, NULL },
		{ "[]", NULL, NULL, NULL },
	};
	struct event ev;
	size_t i;
	json_t *l;

	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		memset(&ev, 0, sizeof ev);
		l = json_loads(cases[i].labels, 0, NULL);
		CHECK_INT(sig_labels_subject(l, &ev), cases[i].kind != NULL);
		CHECK_STR(ev.subject.kind, cases[i].kind);
		CHECK_STR(ev.subject.namespace, cases[i].ns);
		CHECK_STR(ev.subject.name, cases[i].name);
		/* a subject already set is kept */
		CHECK_INT(sig_labels_subject(l, &ev), 0);
		free(ev.subject.kind);
		free(ev.subject.namespace);
		free(ev.subject.name);
		json_decref(l);
	}
}

/* ---- a canned HTTP server --------------------------------------------- */

struct canned {
	int		 fd;		/* listening */
	unsigned	 port;
	int		 status;
	const char	*body;
	int		 delay_ms;
	char		 request[8192];	/* the last one received */
	pthread_t	 t;
};

static void *
canned_main(void *arg)
{
	struct canned *c = arg;
	char reply[16384];
	int fd;
	size_t n = 0;
	struct pollfd p;

	if ((fd = accept(c->fd, NULL, NULL)) < 0)
		return NULL;
	p.fd = fd;
	p.events = POLLIN;
	/* read until the form body arrived (it ends the request) */
	while (n + 1 < sizeof c->request && poll(&p, 1, 2000) == 1) {
		ssize_t k = recv(fd, c->request + n, sizeof c->request - 1 - n,
		    0);

		if (k <= 0)
			break;
		n += (size_t)k;
		c->request[n] = '\0';
		if (strstr(c->request, "\r\n\r\n") && strstr(c->request,
		    "time="))
			break;
	}
	c->request[n] = '\0';
	if (c->delay_ms)
		usleep((useconds_t)c->delay_ms * 1000);
	snprintf(reply, sizeof reply, "HTTP/1.1 %d X\r\nContent-Type: "
	    "application/json\r\nContent-Length: %zu\r\nConnection: close\r\n"
	    "\r\n%s", c->status, strlen(c->body), c->body);
	send(fd, reply, strlen(reply), MSG_NOSIGNAL);
	close(fd);
	return NULL;
}

static int
canned_start(struct canned *c, int status, const char *body)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;

	c->status = status;
	c->body = body;
	c->request[0] = '\0';
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (bind(c->fd, (struct sockaddr *)&a, sizeof a) == -1 ||
	    listen(c->fd, 4) == -1 ||
	    getsockname(c->fd, (struct sockaddr *)&a, &len) == -1)
		return -1;
	c->port = ntohs(a.sin_port);
	return pthread_create(&c->t, NULL, canned_main, c);
}

static void
canned_stop(struct canned *c)
{
	shutdown(c->fd, SHUT_RDWR);
	pthread_join(c->t, NULL);
	close(c->fd);
}

static void *
cancel_soon(void *arg)
{
	usleep(100000);
	atomic_store((atomic_int *)arg, 1);
	return NULL;
}

TEST(query_over_http)
{
	struct canned c = { 0 };
	struct prom_result r;
	char url[128], *err = NULL;
	size_t len;
	char *budget = fixture("prometheus-query-budget-remaining.json", &len);
	char *bad = fixture("prometheus-query-error-bad-data.json", &len);

	CHECK(budget && bad);
	if (!budget || !bad)
		goto out;
	CHECK_INT(canned_start(&c, 200, budget), 0);
	snprintf(url, sizeof url, "http://127.0.0.1:%u/prom/", c.port);
	CHECK_INT(prom_query(url, "slo:budget{a=\"b\"} < 0.5", 2000, T0, NULL,
	    &r, &err), 0);
	canned_stop(&c);
	CHECK_INT(r.n, 2);
	prom_result_clear(&r);
	CHECK(strncmp(c.request, "POST /prom/api/v1/query HTTP/1.1", 32) ==
	    0);
	CHECK(strstr(c.request, "query=slo%3Abudget%7Ba%3D%22b%22%7D%20%3C%20"
	    "0.5&time=1773480130.512&timeout=2000ms") != NULL);
	CHECK(strstr(c.request, "application/x-www-form-urlencoded"));

	CHECK_INT(canned_start(&c, 400, bad), 0);
	snprintf(url, sizeof url, "http://127.0.0.1:%u/api/v1/query",
	    c.port);
	CHECK_INT(prom_query(url, "sum(", 2000, T0, NULL, &r, &err), -1);
	canned_stop(&c);
	CHECK(err != NULL && strncmp(err, "bad_data: ", 10) == 0);
	CHECK(strncmp(c.request, "POST /api/v1/query HTTP", 23) == 0);
	free(err);

	/* slower than the timeout */
	CHECK_INT(canned_start(&c, 200, budget), 0);
	c.delay_ms = 1500;
	snprintf(url, sizeof url, "http://127.0.0.1:%u", c.port);
	CHECK_INT(prom_query(url, "up", 300, T0, NULL, &r, &err), -1);
	CHECK(err != NULL && strstr(err, "timed out") != NULL);
	free(err);
	canned_stop(&c);

	/* given up when cancelled (the daemon stops), before its answer */
	CHECK_INT(canned_start(&c, 200, budget), 0);
	c.delay_ms = 1500;
	snprintf(url, sizeof url, "http://127.0.0.1:%u", c.port);
	{
		pthread_t t;
		atomic_int cancel = 0;

		REQUIRE(pthread_create(&t, NULL, cancel_soon, &cancel) == 0);
		CHECK_INT(prom_query(url, "up", 30000, T0, &cancel, &r, &err),
		    -1);
		pthread_join(t, NULL);
		CHECK(err != NULL && strstr(err, "before remediate stopped"));
		free(err);
		canned_stop(&c);
		/* not cancelled: the same question is answered */
		CHECK_INT(canned_start(&c, 200, budget), 0);
		snprintf(url, sizeof url, "http://127.0.0.1:%u", c.port);
		cancel = 0;
		CHECK_INT(prom_query(url, "up", 30000, T0, &cancel, &r, &err),
		    0);
		prom_result_clear(&r);
	}
	canned_stop(&c);
	c.delay_ms = 0;

	/* nobody listening; no URL; another scheme */
	CHECK_INT(prom_query(url, "up", 1000, T0, NULL, &r, &err), -1);
	CHECK(err != NULL && strstr(err, url) != NULL);
	free(err);
	CHECK_INT(prom_query("", "up", 1000, T0, NULL, &r, &err), -1);
	CHECK(err != NULL && strstr(err, "no Prometheus URL") != NULL);
	free(err);
	CHECK_INT(prom_query("file:///etc/passwd", "up", 1000, T0, NULL, &r,
	    &err), -1);
	free(err);
out:
	free(budget);
	free(bad);
}

/* ---- a real Prometheus, when installed --------------------------------- */

static unsigned
free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned port = 0;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

TEST(real_prometheus)
{
	char dir[] = "/tmp/remediate-promXXXXXX", cfg[256], data[256],
	    listen[64], url[96], cmd[512], *err = NULL;
	struct prom_result r;
	unsigned port = free_port();
	struct timespec ts;
	pid_t pid;
	int i, up = 0;
	FILE *f;
	int64_t now;

	if (access("/usr/bin/prometheus", X_OK) != 0) {
		fprintf(stderr, "prometheus not installed: skipped\n");
		return;
	}
	CHECK(mkdtemp(dir) != NULL);
	snprintf(cfg, sizeof cfg, "%s/prometheus.yml", dir);
	snprintf(data, sizeof data, "--storage.tsdb.path=%s/data", dir);
	snprintf(listen, sizeof listen, "--web.listen-address=127.0.0.1:%u",
	    port);
	snprintf(url, sizeof url, "http://127.0.0.1:%u", port);
	if ((f = fopen(cfg, "w")) != NULL) {
		fputs("global: {scrape_interval: 1h}\n", f);
		fclose(f);
	}
	snprintf(cmd, sizeof cmd, "--config.file=%s", cfg);
	if ((pid = fork()) == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execl("/usr/bin/prometheus", "prometheus", cmd, data, listen,
		    (char *)NULL);
		_exit(127);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000;
	for (i = 0; i < 100 && !up; i++) {
		usleep(100 * 1000);
		if (prom_query(url, "vector(0.25)", 1000, now, NULL, &r,
		    &err) == 0)
			up = 1;
		else
			free(err);
	}
	CHECK(up);
	if (up) {
		CHECK_INT(r.type, PROM_VECTOR);
		CHECK_INT(r.n, 1);
		CHECK(r.n == 1 && r.v[0].value == 0.25);
		CHECK(r.n == 1 && r.v[0].time == now);
		prom_result_clear(&r);
		CHECK_INT(prom_query(url, "scalar(vector(1)) / 0", 1000, now,
		    NULL, &r, &err), 0);
		CHECK_INT(r.type, PROM_SCALAR);
		CHECK(r.n == 1 && isinf(r.v[0].value));
		prom_result_clear(&r);
		CHECK_INT(prom_query(url, "absent_metric_xyz", 1000, now,
		    NULL, &r, &err), 0);
		CHECK_INT(r.n, 0);
		prom_result_clear(&r);
		CHECK_INT(prom_query(url, "sum(", 1000, now, NULL, &r, &err),
		    -1);
		CHECK(err != NULL && strncmp(err, "bad_data: ", 10) == 0);
		free(err);
		CHECK_INT(prom_query(url, "up[5m]", 1000, now, NULL, &r, &err), -1);
		CHECK(err != NULL && strstr(err, "matrix") != NULL);
		free(err);
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

int
main(void)
{
	RUN(fixture_vector);
	RUN(fixture_scalar_empty_nan);
	RUN(gate_future_and_partial);
	RUN(fixture_errors);
	RUN(other_answers);
	RUN(conditions);
	RUN(labels_name_workloads);
	RUN(query_over_http);
	RUN(real_prometheus);
	return harness_done();
}
