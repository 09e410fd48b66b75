/*
 * The intake: events are in the file when intake_put returns, come back
 * from intake_recover after a "restart", replay marks survive it, the
 * capacity and a stop answer without writing, and a file that refuses
 * the write answers INTAKE_ERROR with a reason.  The tables are made here
 * as the audit module's migration 3 makes them (docs/state.md).
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "intake/intake.h"
#include "util/util.h"

static char dir[] = "/tmp/test_intake.XXXXXX";
static char path[256];

static void
sql(const char *text)
{
	sqlite3 *db;

	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, text, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
}

static long long
count(const char *query)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long n = -1;

	sqlite3_open(path, &db);
	if (sqlite3_prepare_v2(db, query, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void
fresh(void)
{
	snprintf(path, sizeof path, "%s/state.db", dir);
	unlink(path);
	sql("PRAGMA journal_mode = WAL;"
	    "CREATE TABLE intake (id INTEGER PRIMARY KEY, received INTEGER "
	    "NOT NULL, event TEXT NOT NULL, cluster TEXT);"
	    "CREATE TABLE replay (key TEXT PRIMARY KEY, seen INTEGER NOT NULL)"
	    " WITHOUT ROWID;");
}

static struct intake *
open_cluster_intake(size_t capacity, const char *cluster)
{
	struct intake_opts o;
	struct intake *in;
	char *err = NULL;

	memset(&o, 0, sizeof o);
	o.capacity = capacity;
	o.cluster = cluster;
	in = intake_open(path, &o, &err);
	CHECK(in != NULL);	/* a test that cannot open has not passed */
	if (in == NULL)
		fprintf(stderr, "intake_open: %s\n", err);
	free(err);
	return in;
}

static struct intake *
open_intake(size_t capacity)
{
	return open_cluster_intake(capacity, NULL);
}

static void
make_event(struct event *ev, const char *id)
{
	memset(ev, 0, sizeof *ev);
	ev->source = "alertmanager";
	ev->name = "alerts";
	ev->type = "webhook";
	ev->id = xstrdup(id);
	ev->time = 1764064800000LL;
	ev->data = json_pack("{s:{s:s}}", "body", "alertname", "OOM");
	ev->subject.kind = xstrdup("Pod");
	ev->subject.namespace = xstrdup("shop");
	ev->subject.name = xstrdup("cart-1");
}

struct seen {
	json_t	*events;
	int64_t	 ids[16];
	size_t	 n;
};

static void
collect(void *ctx, int64_t id, struct event *ev)
{
	struct seen *s = ctx;

	if (s->n < 16)
		s->ids[s->n++] = id;
	json_array_append_new(s->events, event_json(ev));
}

TEST(an_accepted_event_comes_back_after_a_restart)
{
	struct intake *in;
	struct event ev[2];
	struct seen s = { json_array(), { 0 }, 0 };
	int64_t ids[2];
	json_t *want;

	fresh();
	if ((in = open_intake(0)) == NULL)
		return;
	make_event(&ev[0], "a1");
	make_event(&ev[1], "a2");
	CHECK_INT(intake_put(in, ev, 2, NULL, 5, ids), INTAKE_OK);
	CHECK(ids[0] > 0 && ids[1] == ids[0] + 1);
	CHECK_INT(count("SELECT count(*) FROM intake"), 2);	/* durable */
	CHECK_INT(intake_undecided(in), 2);
	CHECK_INT(intake_recover(in, 0, collect, &s), 0);	/* not the
								   last run's */
	intake_free(in);				/* "kill" */
	if ((in = open_intake(0)) == NULL)
		return;
	CHECK_INT(intake_undecided(in), 2);
	CHECK_INT(intake_recover(in, 1, collect, &s), 1);	/* in pages */
	CHECK_INT(intake_recover(in, 0, collect, &s), 1);
	CHECK_INT(intake_recover(in, 0, collect, &s), 0);
	CHECK_INT(s.n, 2);
	CHECK(s.ids[0] == ids[0] && s.ids[1] == ids[1]);
	want = event_json(&ev[0]);
	CHECK(json_equal(json_array_get(s.events, 0), want));
	json_decref(want);
	intake_decided(in, 2);
	CHECK_INT(intake_undecided(in), 0);
	intake_free(in);
	event_clear(&ev[0]);
	event_clear(&ev[1]);
	json_decref(s.events);
}

/* intake_put writes texts into a 16 KB scratch on its stack, the rest
   into allocations: a batch past it, and one event alone past it, come
   back whole and in order */
TEST(events_past_the_scratch_come_back_whole)
{
	struct intake *in;
	struct event ev[12];
	struct seen s = { json_array(), { 0 }, 0 };
	int64_t ids[12];
	char id[16], *big = xcalloc(1, 20001);
	json_t *want;
	size_t i;

	fresh();
	if ((in = open_intake(0)) == NULL)
		goto out;
	memset(big, 'x', 20000);
	for (i = 0; i < 12; i++) {
		snprintf(id, sizeof id, "b%zu", i);
		make_event(&ev[i], id);
		/* 3 KB each: the scratch is full after five */
		json_object_set_new(ev[i].data, "pad", json_stringn(big,
		    i == 6 ? 20000 : 3000));
	}
	CHECK_INT(intake_put(in, ev, 12, NULL, 5, ids), INTAKE_OK);
	intake_free(in);
	if ((in = open_intake(0)) == NULL)
		goto out;
	CHECK_INT(intake_recover(in, 0, collect, &s), 12);
	CHECK_INT(json_array_size(s.events), 12);
	for (i = 0; i < 12; i++) {
		want = event_json(&ev[i]);
		CHECK(json_equal(json_array_get(s.events, i), want));
		json_decref(want);
		event_clear(&ev[i]);
	}
	intake_free(in);
out:
	json_decref(s.events);
	free(big);
}

TEST(a_signed_request_is_taken_once_also_after_a_restart)
{
	struct intake *in;
	struct event ev;
	int64_t id;

	fresh();
	if ((in = open_intake(0)) == NULL)
		return;
	make_event(&ev, "s1");
	CHECK_INT(intake_put(in, &ev, 1, "hooks/signed/ab12", 1000, &id),
	    INTAKE_OK);
	CHECK_INT(intake_put(in, &ev, 1, "hooks/signed/ab12", 2000, &id),
	    INTAKE_REPLAY);
	CHECK_INT(intake_put(in, &ev, 1, "hooks/signed/cd34", 2000, &id),
	    INTAKE_OK);
	CHECK_INT(intake_undecided(in), 2);
	intake_free(in);
	if ((in = open_intake(0)) == NULL)
		return;
	CHECK_INT(intake_put(in, &ev, 1, "hooks/signed/ab12", 3000, &id),
	    INTAKE_REPLAY);
	CHECK_INT(count("SELECT count(*) FROM intake"), 2);
	intake_free(in);
	event_clear(&ev);
}

TEST(capacity_and_stop_answer_without_writing)
{
	struct intake *in;
	struct event ev;
	int64_t ids[2];

	fresh();
	if ((in = open_intake(2)) == NULL)
		return;
	make_event(&ev, "c1");
	CHECK_INT(intake_put(in, &ev, 1, NULL, 1, ids), INTAKE_OK);
	CHECK_INT(intake_put(in, &ev, 1, NULL, 1, ids), INTAKE_OK);
	CHECK_INT(intake_put(in, &ev, 1, NULL, 1, ids), INTAKE_FULL);
	intake_decided(in, 1);
	CHECK_INT(intake_put(in, &ev, 1, NULL, 1, ids), INTAKE_OK);
	intake_stop(in);
	intake_decided(in, 2);
	CHECK_INT(intake_put(in, &ev, 1, NULL, 1, ids), INTAKE_STOPPING);
	CHECK_INT(count("SELECT count(*) FROM intake"), 3);
	intake_free(in);
	event_clear(&ev);
}

TEST(a_file_that_refuses_the_write_is_an_error_with_a_reason)
{
	struct intake *in;
	struct event ev;
	int64_t id;
	char *why;

	fresh();
	if ((in = open_intake(0)) == NULL)
		return;
	CHECK(intake_health(in) == NULL);
	sql("DROP TABLE intake");	/* every insert now fails */
	make_event(&ev, "e1");
	CHECK_INT(intake_put(in, &ev, 1, NULL, 1, &id), INTAKE_ERROR);
	why = intake_health(in);
	CHECK(why != NULL && strstr(why, "cannot accept events") != NULL);
	free(why);
	CHECK_INT(intake_undecided(in), 0);	/* nothing was taken */
	intake_free(in);
	event_clear(&ev);
}

/*
 * A read that fails after the first rows of a page (here the third row
 * raises an error through a view put in the table's place) gives none of
 * them; once the file reads again the next call starts at the page's
 * first row, so no accepted event is skipped.
 */
TEST(a_page_cut_short_by_an_error_is_read_again_whole)
{
	struct intake *in;
	struct event ev[3];
	struct seen s = { json_array(), { 0 }, 0 };
	int64_t ids[3];
	int i;

	fresh();
	if ((in = open_intake(0)) == NULL)
		return;
	make_event(&ev[0], "p1");
	make_event(&ev[1], "p2");
	make_event(&ev[2], "p3");
	CHECK_INT(intake_put(in, ev, 3, NULL, 5, ids), INTAKE_OK);
	intake_free(in);				/* "kill" */
	if ((in = open_intake(0)) == NULL)
		return;
	sql("ALTER TABLE intake RENAME TO intake_rows;"
	    "CREATE VIEW intake AS SELECT id, received, CASE WHEN abs(CASE "
	    "WHEN id = 3 THEN -9223372036854775807 - 1 ELSE 0 END) = 0 THEN "
	    "event END AS event FROM intake_rows;");
	CHECK_INT(intake_recover(in, 0, collect, &s), -1);
	CHECK_INT(s.n, 0);		/* rows 1 and 2 were read, not given */
	sql("DROP VIEW intake; ALTER TABLE intake_rows RENAME TO intake;");
	CHECK_INT(intake_recover(in, 0, collect, &s), 3);
	CHECK_INT(intake_recover(in, 0, collect, &s), 0);
	CHECK_INT(s.n, 3);
	CHECK(s.ids[0] == ids[0] && s.ids[1] == ids[1] && s.ids[2] == ids[2]);
	intake_free(in);
	for (i = 0; i < 3; i++)
		event_clear(&ev[i]);
	json_decref(s.events);
}

struct worker {
	struct intake	*in;
	int		 ok;
};

static void *
put_many(void *arg)
{
	struct worker *w = arg;
	struct event ev;
	int64_t id;
	int i;

	make_event(&ev, "g");
	for (i = 0; i < 100; i++)
		w->ok += intake_put(w->in, &ev, 1, NULL, 1, &id) == INTAKE_OK;
	event_clear(&ev);
	return NULL;
}

TEST(concurrent_requests_all_land)
{
	struct worker w[8];
	pthread_t th[8];
	struct intake *in;
	int i, ok = 0;

	fresh();
	if ((in = open_intake(0)) == NULL)
		return;
	for (i = 0; i < 8; i++) {
		w[i].in = in;
		w[i].ok = 0;
		pthread_create(&th[i], NULL, put_many, &w[i]);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		ok += w[i].ok;
	}
	CHECK_INT(ok, 800);
	CHECK_INT(count("SELECT count(*) FROM intake"), 800);
	CHECK_INT(count("SELECT count(DISTINCT id) FROM intake"), 800);
	intake_free(in);
}

/*
 * Clusters sharing a PostgreSQL database share the intake table: each
 * recovers its own undecided events only (one cluster's takeover decided,
 * against its own view, events another cluster had acknowledged).
 */
TEST(each_cluster_recovers_its_own_events)
{
	struct intake *in;
	struct event ev;
	struct seen s = { json_array(), { 0 }, 0 };
	int64_t eu, us;

	fresh();
	if ((in = open_cluster_intake(0, "eu")) == NULL)
		return;
	make_event(&ev, "from-eu");
	CHECK_INT(intake_put(in, &ev, 1, NULL, 5, &eu), INTAKE_OK);
	event_clear(&ev);
	intake_free(in);
	if ((in = open_cluster_intake(0, "us")) == NULL)
		return;
	make_event(&ev, "from-us");
	CHECK_INT(intake_put(in, &ev, 1, NULL, 5, &us), INTAKE_OK);
	event_clear(&ev);
	intake_free(in);
	if ((in = open_cluster_intake(0, "us")) == NULL)
		return;
	CHECK_INT(intake_undecided(in), 1);
	CHECK_INT(intake_recover(in, 0, collect, &s), 1);
	CHECK_INT(intake_recover(in, 0, collect, &s), 0);
	CHECK(s.n == 1 && s.ids[0] == us);
	intake_free(in);
	if ((in = open_cluster_intake(0, "eu")) == NULL)
		return;
	CHECK_INT(intake_undecided(in), 1);
	CHECK_INT(intake_recover(in, 0, collect, &s), 1);
	CHECK(s.n == 2 && s.ids[1] == eu);
	intake_free(in);
	json_decref(s.events);
}

static void
collect_id(void *ctx, const char *id)
{
	json_array_append_new(ctx, json_string(id));
}

/*
 * A start or a takeover learns the ids of the events accepted and not
 * yet decided (the webhook ingress remembers them, so one sent again is
 * no second event): the newest max, oldest first, this cluster's only,
 * also after a "restart"; a decided event's row is gone, and so is its
 * id here (its records name it).
 */
TEST(undecided_ids_newest_first_bounded_per_cluster)
{
	static const char *const names[] = { "a1", "a2", "a3", "a4" };
	struct intake *in;
	struct event ev;
	json_t *got = json_array();
	int64_t id;
	size_t i;

	fresh();
	if ((in = open_cluster_intake(0, "eu")) == NULL)
		goto out;
	make_event(&ev, "other-cluster");
	CHECK_INT(intake_put(in, &ev, 1, NULL, 5, &id), INTAKE_OK);
	event_clear(&ev);
	intake_free(in);
	if ((in = open_cluster_intake(0, "us")) == NULL)
		goto out;
	for (i = 0; i < UTIL_ARRAY_LEN(names); i++) {
		make_event(&ev, names[i]);
		CHECK_INT(intake_put(in, &ev, 1, NULL, 5, &id), INTAKE_OK);
		event_clear(&ev);
	}
	intake_free(in);
	sql("INSERT INTO intake (received, event, cluster) VALUES "
	    "(6, 'not json', 'us')");
	if ((in = open_cluster_intake(0, "us")) == NULL)
		goto out;
	/* the newest three rows: one does not read, and is skipped */
	CHECK_INT(intake_ids(in, 3, collect_id, got), 2);
	CHECK_INT(json_array_size(got), 2);
	CHECK_STR(json_string_value(json_array_get(got, 0)), "a3");
	CHECK_STR(json_string_value(json_array_get(got, 1)), "a4");
	json_array_clear(got);
	CHECK_INT(intake_ids(in, 100, collect_id, got), 4);
	CHECK_INT(json_array_size(got), 4);
	CHECK_STR(json_string_value(json_array_get(got, 0)), "a1");
	sql("DELETE FROM intake WHERE event LIKE '%\"a1\"%'");
	json_array_clear(got);
	CHECK_INT(intake_ids(in, 100, collect_id, got), 3);
	CHECK_STR(json_string_value(json_array_get(got, 0)), "a2");
	intake_free(in);
out:
	json_decref(got);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL)
		return 1;
	RUN(an_accepted_event_comes_back_after_a_restart);
	RUN(each_cluster_recovers_its_own_events);
	RUN(events_past_the_scratch_come_back_whole);
	RUN(a_signed_request_is_taken_once_also_after_a_restart);
	RUN(capacity_and_stop_answer_without_writing);
	RUN(a_file_that_refuses_the_write_is_an_error_with_a_reason);
	RUN(a_page_cut_short_by_an_error_is_read_again_whole);
	RUN(concurrent_requests_all_land);
	RUN(undecided_ids_newest_first_bounded_per_cluster);
	snprintf(path, sizeof path, "rm -rf %s", dir);
	if (system(path) != 0)
		return 1;
	return harness_done();
}
