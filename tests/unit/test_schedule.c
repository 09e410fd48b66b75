/*
 * Time-driven sources: compiling calendar/prometheus entries with their
 * errors, the calendar event (its Go-formatted time in the schedule's
 * zone, exclusion dates, missed fire times), and the prometheus source's
 * edge triggering.  Cron and time zones themselves are util's, tested in
 * test_util.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "testtime.h"
#include "schedule/schedule.h"

/* ---- manifests ----------------------------------------------------------- */

static struct sched_set *
load(const char *yaml, struct diags *d, struct mdoc ***docs, size_t *n)
{
	struct sched_opts o = { "http://prometheus:9090" };
	struct sched_set *set = sched_set_new();
	size_t i;

	diag_init(d);
	*docs = NULL;
	*n = 0;
	if (conf_parse_text("t.yaml", yaml, strlen(yaml), docs, n, d) == 0)
		for (i = 0; i < *n; i++)
			sched_set_add(set, (*docs)[i], &o, d);
	return set;
}

static void
unload(struct sched_set *set, struct diags *d, struct mdoc **docs, size_t n)
{
	size_t i;

	sched_set_free(set);
	diag_free(d);
	for (i = 0; i < n; i++)
		mdoc_free(docs[i]);
	free(docs);
}

#define HEAD	"apiVersion: argoproj.io/v1alpha1\nkind: EventSource\n" \
		"metadata: {name: timers}\nspec:\n"

TEST(compile_errors)
{
	static const struct {
		const char	*yaml, *msg;
		int		 line;
	} cases[] = {
		{ HEAD "  calendar:\n    c: {schedule: \"61 * * * *\"}\n",
		  "calendar c: cron minute field \"61\"", 6 },
		{ HEAD "  calendar:\n    c:\n      interval: 10m\n"
		  "      timezone: Mars/Base\n", "unknown time zone", 8 },
		{ HEAD "  calendar:\n    c:\n      interval: 500ms\n",
		  "at least 1s", 7 },
		{ HEAD "  calendar:\n    c:\n      interval: 1h\n"
		  "      exclusionDates: [\"2026-02-30\"]\n",
		  "exclusion date \"2026-02-30\"", 8 },
		{ HEAD "  calendar:\n    c:\n      interval: 1h\n"
		  "      exclusionDates: [\"EXDATE:20261225\"]\n",
		  "exclusion date", 8 },
		{ HEAD "  prometheus:\n    p: {query: up, condition: "
		  "\"=> 1\"}\n",
		  "\"=> 1\" is not a comparison", 6 },
		{ HEAD "  prometheus:\n    p: {query: up, url: \"ftp://x\"}\n",
		  "url must start with http", 6 },
		{ HEAD "  prometheus:\n    p: {query: up, repeat: 5m}\n",
		  "repeat needs a condition", 6 },
		{ HEAD "  prometheus:\n    p: {query: up, interval: 0s}\n",
		  "at least 1s", 6 },
	};
	struct sched_set *set;
	struct diags d;
	struct mdoc **docs;
	size_t n, i;

	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		set = load(cases[i].yaml, &d, &docs, &n);
		CHECK_INT(sched_set_count(set), 0);
		CHECK(d.errors >= 1);
		if (d.n >= 1 && strstr(d.v[0].msg, cases[i].msg) == NULL)
			fprintf(stderr, "case %zu: %s\n", i, d.v[0].msg);
		CHECK(d.n >= 1 && strstr(d.v[0].msg, cases[i].msg) != NULL);
		CHECK(d.n >= 1 && d.v[0].line == cases[i].line);
		unload(set, &d, docs, n);
	}
}

struct sink {
	struct event	 v[16];
	size_t		 n;
};

/* Takes the event's members, as the daemon's emit would. */
static void
take(void *ctx, struct event *ev)
{
	struct sink *s = ctx;

	if (s->n < UTIL_ARRAY_LEN(s->v)) {
		s->v[s->n++] = *ev;
		ev->id = NULL;
		ev->data = NULL;
		ev->subject.kind = ev->subject.namespace = ev->subject.name =
		    NULL;
	}
}

static void
sink_clear(struct sink *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		event_clear(&s->v[i]);
	s->n = 0;
}

static const char *
body_str(const struct event *ev, const char *a, const char *b)
{
	json_t *v = json_object_get(json_object_get(ev->data, "body"), a);

	return json_string_value(b ? json_object_get(v, b) : v);
}

TEST(calendar_fires)
{
	static const char yaml[] = HEAD
	    "  calendar:\n"
	    "    nightly:\n"
	    "      schedule: \"0 10 * * *\"\n"
	    "      timezone: Europe/Paris\n"
	    "      exclusionDates: [\"2026-11-26\", "
	    "\"EXDATE:20261127T000000Z,20261128T000000Z\"]\n"
	    "      metadata: {team: sre}\n"
	    "      userPayload: {k: [1]}\n"
	    "    tick:\n"
	    "      interval: 1h\n"
	    "      exclusionDates: [\"2026-11-26T00:00:00Z\"]\n";
	struct sched_set *set;
	struct sched_source *cal, *tick;
	struct diags d;
	struct mdoc **docs;
	struct sink out = { .n = 0 };
	size_t n;
	char *dump;

	if (!test_have_tzdata())
		return;
	set = load(yaml, &d, &docs, &n);
	CHECK_INT(d.errors, 0);
	CHECK_INT(sched_set_count(set), 2);
	cal = sched_set_get(set, 0);
	tick = sched_set_get(set, 1);
	if (cal == NULL || tick == NULL)
		goto out;
	CHECK_INT(sched_source_kind(cal), SCHED_CALENDAR);
	CHECK_STR(sched_source_eventsource(cal), "timers");
	CHECK_STR(sched_source_name(cal), "nightly");
	sched_set_start(set, test_ms("2026-11-25T08:00:00Z"));
	CHECK_INT(sched_source_due(cal), test_ms("2026-11-25T09:00:00Z"));
	CHECK_INT(sched_source_due(tick), test_ms("2026-11-25T09:00:00Z"));
	CHECK_INT(sched_set_next_due(set), test_ms("2026-11-25T09:00:00Z"));
	/* not yet due */
	CHECK_INT(sched_calendar_fire(cal, test_ms("2026-11-25T08:59:59Z"),
	    take, &out), 0);
	CHECK_INT(sched_calendar_fire(cal, test_ms("2026-11-25T09:00:00.004Z"),
	    take, &out), 1);
	CHECK_INT(out.n, 1);
	CHECK_STR(out.v[0].type, "calendar");
	CHECK_STR(out.v[0].name, "nightly");
	CHECK_INT(out.v[0].time, test_ms("2026-11-25T09:00:00Z"));
	dump = json_dumps(out.v[0].data, JSON_SORT_KEYS | JSON_COMPACT);
	CHECK_STR(dump, "{\"eventTime\":\"2026-11-25 10:00:00 +0100 CET\","
	    "\"metadata\":{\"team\":\"sre\"},\"userPayload\":{\"k\":[1]}}");
	free(dump);
	/* 26, 27 and 28 are excluded */
	CHECK_INT(sched_source_due(cal), test_ms("2026-11-29T09:00:00Z"));
	/* the interval skips the excluded day */
	CHECK_INT(sched_next(tick, test_ms("2026-11-25T23:30:00Z")),
	    test_ms("2026-11-27T00:30:00Z"));
	/* fire times missed while busy collapse into the latest */
	CHECK_INT(sched_calendar_fire(tick, test_ms("2026-11-25T12:10:00Z"),
	    take, &out), 1);
	CHECK_INT(out.n, 2);
	CHECK_INT(out.v[1].time, test_ms("2026-11-25T12:00:00Z"));
	CHECK_STR(json_string_value(json_object_get(out.v[1].data,
	    "eventTime")), "2026-11-25 12:00:00 +0000 UTC");
	CHECK_INT(sched_source_due(tick), test_ms("2026-11-25T13:10:00Z"));
	CHECK(strcmp(out.v[0].id, out.v[1].id) != 0);
	CHECK(sched_prom_query(cal) == NULL);
	sink_clear(&out);
out:
	unload(set, &d, docs, n);
}

/*
 * A reload compiles the set again: an unchanged calendar keeps its next
 * fire time (an interval re-armed at every reload never fired when
 * reloads came more often); a changed one starts afresh.
 */
TEST(a_reload_keeps_an_unchanged_calendars_turn)
{
	static const char before[] = HEAD
	    "  calendar:\n"
	    "    tick: {interval: 10m}\n"
	    "    tock: {interval: 10m}\n";
	static const char after[] = HEAD
	    "  calendar:\n"
	    "    tick: {interval: 10m}\n"
	    "    tock: {interval: 20m}\n";
	struct sched_set *a, *b;
	struct diags da, db;
	struct mdoc **docs_a, **docs_b;
	size_t na, nb;
	int64_t t0 = 1764064800000LL;	/* 2025-11-25T10:00:00Z */

	a = load(before, &da, &docs_a, &na);
	b = load(after, &db, &docs_b, &nb);
	CHECK_INT(da.errors + db.errors, 0);
	sched_set_start(a, t0);
	CHECK(sched_source_due(sched_set_get(a, 0)) == t0 + 600000);
	/* the reload, 7 minutes on */
	sched_set_start(b, t0 + 420000);
	sched_set_adopt(b, a);
	CHECK(sched_source_due(sched_set_get(b, 0)) == t0 + 600000);
	CHECK(sched_source_due(sched_set_get(b, 1)) == t0 + 420000 +
	    1200000);
	unload(a, &da, docs_a, na);
	unload(b, &db, docs_b, nb);
}

static struct prom_result
answer(const char *json, int64_t at)
{
	struct prom_result r;
	char *err = NULL, *text = xasprintf("{\"status\":\"success\",\"data\":"
	    "{\"resultType\":\"vector\",\"result\":%s}}", json);
	char ts[32];
	size_t i;

	snprintf(ts, sizeof ts, "%lld.%03lld", (long long)(at / 1000),
	    (long long)(at % 1000));
	(void)ts;
	if (prom_parse(text, strlen(text), 200, &r, &err) == -1) {
		fprintf(stderr, "answer: %s\n", err);
		free(err);
	}
	for (i = 0; i < r.n; i++)
		r.v[i].time = at;
	free(text);
	return r;
}

#define SERIES(slo, v) "{\"metric\":{\"namespace\":\"shop\",\"deployment\":" \
	"\"checkout\",\"slo\":\"" slo "\"},\"value\":[0,\"" v "\"]}"

TEST(prometheus_edges)
{
	static const char yaml[] = HEAD
	    "  prometheus:\n"
	    "    budget:\n"
	    "      query: slo:budget\n"
	    "      interval: 1m\n"
	    "      condition: \"< 0.25\"\n"
	    "      metadata: {team: sre}\n"
	    "    nagging:\n"
	    "      query: slo:budget\n"
	    "      url: http://other:9090/\n"
	    "      condition: \"< 0.25\"\n"
	    "      repeat: 2m\n"
	    "    reading:\n"
	    "      query: up\n";
	struct sched_set *set;
	struct sched_source *b, *nag, *rd;
	struct diags d;
	struct mdoc **docs;
	struct sink out = { .n = 0 };
	struct prom_result r;
	size_t n;
	int64_t t0 = test_ms("2026-11-25T10:00:00Z"), m = 60000;

	set = load(yaml, &d, &docs, &n);
	CHECK_INT(d.errors, 0);
	b = sched_set_get(set, 0);
	nag = sched_set_get(set, 1);
	rd = sched_set_get(set, 2);
	if (b == NULL || nag == NULL || rd == NULL)
		goto out;
	CHECK_STR(sched_prom_query(b), "slo:budget");
	CHECK_STR(sched_prom_url(b), "http://prometheus:9090");
	CHECK_STR(sched_prom_url(nag), "http://other:9090/");
	sched_set_start(set, t0);
	CHECK_INT(sched_source_due(b), t0);
	/* 1: a crosses, b does not */
	r = answer("[" SERIES("a", "0.2") "," SERIES("b", "0.3") "]", t0);
	CHECK_INT(sched_prom_feed(b, &r, t0, take, &out), 1);
	prom_result_clear(&r);
	CHECK_INT(sched_source_due(b), t0 + m);
	CHECK_STR(body_str(&out.v[0], "metric", "slo"), "a");
	CHECK(json_real_value(json_object_get(json_object_get(out.v[0].data,
	    "body"), "value")) == 0.2);
	CHECK_STR(body_str(&out.v[0], "timestamp", NULL),
	    "2026-11-25T10:00:00Z");
	CHECK_STR(body_str(&out.v[0], "query", NULL), "slo:budget");
	CHECK_STR(json_string_value(json_object_get(json_object_get(
	    out.v[0].data, "metadata"), "team")), "sre");
	CHECK_STR(out.v[0].type, "prometheus");
	CHECK_INT(out.v[0].time, t0);
	CHECK_STR(out.v[0].subject.kind, "Deployment");
	CHECK_STR(out.v[0].subject.name, "checkout");
	/* 2: a still crossing (quiet), b crosses */
	r = answer("[" SERIES("a", "0.1") "," SERIES("b", "0.2") "]", t0 + m);
	CHECK_INT(sched_prom_feed(b, &r, t0 + m, take, &out), 1);
	prom_result_clear(&r);
	CHECK_STR(body_str(&out.v[1], "metric", "slo"), "b");
	/* a failed query changes nothing */
	CHECK_INT(sched_prom_feed(b, NULL, t0 + 2 * m, take, &out), 0);
	CHECK_INT(sched_source_due(b), t0 + 3 * m);
	/* 3: a vanishes, b recovers: both re-armed */
	r = answer("[" SERIES("b", "0.5") "]", t0 + 3 * m);
	CHECK_INT(sched_prom_feed(b, &r, t0 + 3 * m, take, &out), 0);
	prom_result_clear(&r);
	/* 4: both cross again; NaN never does */
	r = answer("[" SERIES("a", "0.1") "," SERIES("b", "0.1") ","
	    SERIES("c", "NaN") "]", t0 + 4 * m);
	CHECK_INT(sched_prom_feed(b, &r, t0 + 4 * m, take, &out), 2);
	prom_result_clear(&r);
	CHECK(strcmp(out.v[0].id, out.v[2].id) != 0);
	sink_clear(&out);
	/* repeat: every 2m while crossing */
	r = answer("[" SERIES("a", "0.1") "]", t0);
	CHECK_INT(sched_prom_feed(nag, &r, t0, take, &out), 1);
	CHECK_INT(sched_prom_feed(nag, &r, t0 + m, take, &out), 0);
	CHECK_INT(sched_prom_feed(nag, &r, t0 + 2 * m, take, &out), 1);
	CHECK_INT(sched_prom_feed(nag, &r, t0 + 3 * m, take, &out), 0);
	prom_result_clear(&r);
	sink_clear(&out);
	/* no condition: every sample, every time; NaN as a string */
	r = answer("[" SERIES("a", "NaN") "," SERIES("b", "1") "]", t0);
	CHECK_INT(sched_prom_feed(rd, &r, t0, take, &out), 2);
	CHECK_INT(sched_prom_feed(rd, &r, t0 + m, take, &out), 2);
	prom_result_clear(&r);
	CHECK_STR(body_str(&out.v[0], "value", NULL), "NaN");
	CHECK_INT(sched_source_due(rd), t0 + 2 * m);
	/* a calendar call on a prometheus source does nothing */
	CHECK_INT(sched_calendar_fire(rd, t0 + 9 * m, take, &out), 0);
	CHECK_INT(sched_next(rd, t0), -1);
	sink_clear(&out);
out:
	unload(set, &d, docs, n);
}

/* A state store in a JSON object: what sched_edges_journal wrote. */
struct store {
	json_t	*rows;		/* key -> value */
	int	 puts, dels;	/* in the last journal */
};

static void
store_put(void *ctx, const char *kind, const char *key, json_t *value)
{
	struct store *st = ctx;

	if (strcmp(kind, SCHED_EDGE_KIND) != 0)
		return;
	if (value) {
		json_object_set(st->rows, key, value);
		st->puts++;
	} else {
		json_object_del(st->rows, key);
		st->dels++;
	}
}

static void
journal(struct sched_edges *e, struct store *st)
{
	st->puts = st->dels = 0;
	sched_edges_journal(e, 0, store_put, st);
}

/* A new process: edges loaded from the store, a set bound to them. */
static struct sched_edges *
reload_edges(struct store *st)
{
	struct sched_edges *e = sched_edges_new();
	const char *key;
	json_t *v;

	json_object_foreach(st->rows, key, v)
		CHECK_INT(sched_edges_load(e, SCHED_EDGE_KIND, key, v), 0);
	return e;
}

#define BURN(cond) HEAD "  prometheus:\n    burn:\n      query: burn_rate\n" \
	"      condition: \"" cond "\"\n      repeat: 10m\n"
#define SLO(x, v) "{\"metric\":{\"slo\":\"" x "\"},\"value\":[0,\"" v "\"]}"

static int
feed(struct sched_source *s, const char *json, int64_t now,
    struct sink *out)
{
	struct prom_result r = answer(json, now);
	int n = sched_prom_feed(s, &r, now, take, out);

	prom_result_clear(&r);
	return n;
}

/*
 * The edges bound to a sched_edges: each crossing, repeat and re-arm is
 * one journal entry, an evaluation that changes nothing none; a new
 * process recalled from them does not fire a series still over the line
 * and repeats it `repeat` after the stored emission; a reload that
 * changes the source drops its entries, and it fires afresh.
 */
TEST(prometheus_edges_kept)
{
	struct sched_set *set, *next;
	struct sched_edges *e;
	struct diags d, d2;
	struct mdoc **docs, **docs2;
	struct sink out = { .n = 0 };
	struct store st = { json_object(), 0, 0 };
	size_t n, n2;
	int64_t t0 = test_ms("2026-11-25T10:00:00Z"), m = 60000;
	const char *ka = "timers\x1f" "burn\x1f{\"slo\":\"a\"}";
	json_t *v;

	set = load(BURN("> 1"), &d, &docs, &n);
	e = sched_edges_new();
	CHECK_INT(d.errors, 0);
	sched_set_start(set, t0);
	sched_set_recall(set, e);
	CHECK_INT(feed(sched_set_get(set, 0), "[" SLO("a", "2") "," SLO("b",
	    "0.5") "]", t0, &out), 1);
	journal(e, &st);
	CHECK_INT(st.puts, 1);
	CHECK_INT(st.dels, 0);
	v = json_object_get(st.rows, ka);
	CHECK(json_integer_value(json_object_get(v, "last")) == t0);
	CHECK_INT((int)strlen(json_string_value(json_object_get(v,
	    "source"))), 16);
	/* over the line, and below it: nothing changes, nothing written */
	CHECK_INT(feed(sched_set_get(set, 0), "[" SLO("a", "3") "," SLO("b",
	    "0.7") "]", t0 + m, &out), 0);
	journal(e, &st);
	CHECK_INT(st.puts + st.dels, 0);
	sched_set_free(set);
	sched_edges_free(e);
	unload(NULL, &d, docs, n);

	/* a new process, 3 minutes on: a is over the line still */
	set = load(BURN("> 1"), &d, &docs, &n);
	e = reload_edges(&st);
	sched_set_start(set, t0 + 3 * m);
	sched_set_recall(set, e);
	CHECK_INT(feed(sched_set_get(set, 0), "[" SLO("a", "2") "]", t0 + 3 * m,
	    &out), 0);
	CHECK_INT(feed(sched_set_get(set, 0), "[" SLO("a", "2") "]", t0 + 9 * m,
	    &out), 0);
	/* its repeat is 10m after the first process emitted */
	CHECK_INT(feed(sched_set_get(set, 0), "[" SLO("a", "2") "]",
	    t0 + 10 * m, &out), 1);
	journal(e, &st);
	CHECK_INT(st.puts, 1);
	CHECK(json_integer_value(json_object_get(json_object_get(st.rows, ka),
	    "last")) == t0 + 10 * m);
	/* gone from the answer: re-armed, its row deleted */
	CHECK_INT(feed(sched_set_get(set, 0), "[]", t0 + 11 * m, &out), 0);
	journal(e, &st);
	CHECK_INT(st.dels, 1);
	CHECK_INT((int)json_object_size(st.rows), 0);
	CHECK_INT(feed(sched_set_get(set, 0), "[" SLO("a", "2") "]",
	    t0 + 12 * m, &out), 1);
	journal(e, &st);
	CHECK_INT(st.puts, 1);

	/* a reload that changes the condition: a fires afresh */
	next = load(BURN("> 1.5"), &d2, &docs2, &n2);
	sched_set_start(next, t0 + 13 * m);
	sched_set_adopt(next, set);
	sched_set_recall(next, e);
	journal(e, &st);
	CHECK_INT(st.dels, 1);
	CHECK_INT((int)sched_edges_count(e), 0);
	CHECK_INT(feed(sched_set_get(next, 0), "[" SLO("a", "2") "]",
	    t0 + 13 * m, &out), 1);
	sched_set_free(next);
	unload(NULL, &d2, docs2, n2);

	/* what does not read is dropped and its row deleted */
	v = json_pack("{s:s, s:I}", "source", "0123456789abcdef", "last",
	    (json_int_t)t0);
	CHECK_INT(sched_edges_load(e, SCHED_EDGE_KIND, "no-parts", v), -1);
	CHECK_INT(sched_edges_load(e, "cooldown", ka, v), -1);
	json_object_set_new(v, "source", json_string("xyz"));
	CHECK_INT(sched_edges_load(e, SCHED_EDGE_KIND, ka, v), -1);
	json_decref(v);
	json_object_clear(st.rows);
	json_object_set_new(st.rows, "no-parts", json_true());
	json_object_set_new(st.rows, ka, json_true());
	journal(e, &st);
	CHECK_INT(st.dels, 2);
	CHECK_INT((int)json_object_size(st.rows), 0);
	sched_set_free(set);
	sched_edges_free(e);
	unload(NULL, &d, docs, n);
	sink_clear(&out);
	json_decref(st.rows);
}

int
main(void)
{
	RUN(compile_errors);
	RUN(calendar_fires);
	RUN(a_reload_keeps_an_unchanged_calendars_turn);
	RUN(prometheus_edges);
	RUN(prometheus_edges_kept);
	return harness_done();
}
