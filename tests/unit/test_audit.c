/*
 * The audit store: schema and migration, the writer's lock, records and
 * queries, the guard and pager state and the prometheus sources' edges
 * across a close and reopen (a restart), intents without outcomes,
 * pruning, failed writes kept and retried, and kill -9 at random moments
 * (tests/audit/crash_probe.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "harness.h"
#include "jp/jp.h"
#include "metrics/metrics.h"
#include "prom/prom.h"
#include "schedule/schedule.h"
#include "sqldb/sqldb.h"
#include "../audit/crash_probe.c"
#include "audit/audit_int.h"	/* BACKLOG_MAX */

#define S	1000LL
#define MIN	(60 * S)
#define T0	PROBE_T0

static char dir[] = "/tmp/remediate-audit-XXXXXX";
static char msg[GUARD_MSGLEN];

static char *
tmpfile_path(const char *name)
{
	char *p = xasprintf("%s/%s", dir, name);

	unlink(p);
	return p;
}

static void
rm_state(const char *path)
{
	char *p;

	unlink(path);
	p = xasprintf("%s-wal", path);
	unlink(p);
	free(p);
	p = xasprintf("%s-shm", path);
	unlink(p);
	free(p);
	p = xasprintf("%s.lock", path);
	unlink(p);
	free(p);
}

static struct audit *
open_rw(const char *path)
{
	struct audit_opts o;
	struct audit *a;
	char *err = NULL;

	audit_opts_defaults(&o);
	a = audit_open(path, &o, &err);
	if (a == NULL)
		fprintf(stderr, "open %s: %s\n", path, err);
	free(err);
	return a;
}

static void
record(struct rec_decision_record *r, int64_t t, const char *trigger,
    const char *target, enum rec_decision d, enum rec_reason reason)
{
	memset(r, 0, sizeof *r);
	r->time = t;
	r->sensor = "argo-events/oom";
	r->trigger = trigger;
	r->decision = d;
	r->reason = reason;
	r->event_source = "k8s";
	r->event_name = "oom";
	objref_set(&r->target, "Deployment", "shop", target);
}

static int
write_one(struct audit *a, int64_t t, const char *trigger, const char *target,
    enum rec_decision d, enum rec_reason reason)
{
	struct rec_decision_record r;
	int rc;

	record(&r, t, trigger, target, d, reason);
	rc = audit_write(a, &r);
	rec_clear(&r);
	return rc;
}

struct seen {
	json_t	*v;
};

static int
collect(void *ctx, json_t *rec)
{
	json_array_append(((struct seen *)ctx)->v, rec);
	return 0;
}

/* The records matching f as a JSON array (new reference). */
static json_t *
query(struct audit *a, const struct audit_filter *f)
{
	struct seen s = { json_array() };
	char *err = NULL;

	if (audit_query(a, f, collect, &s, &err) == -1) {
		fprintf(stderr, "query: %s\n", err);
		free(err);
	}
	return s.v;
}

static const char *
field(json_t *arr, size_t i, const char *k)
{
	return json_string_value(json_object_get(json_array_get(arr, i), k));
}

TEST(new_file_schema_and_reopen)
{
	char *p = tmpfile_path("new.db");
	struct audit *a = open_rw(p);
	sqlite3 *db;
	sqlite3_stmt *st;
	int id = 0;

	CHECK(a != NULL);
	if (a == NULL)
		return;
	CHECK_INT(audit_schema_version(a), AUDIT_SCHEMA_VERSION);
	CHECK_INT(write_one(a, T0, "t", "cart", REC_ACTED, REASON_NONE), 0);
	audit_close(a);
	CHECK(sqlite3_open(p, &db) == SQLITE_OK);
	sqlite3_prepare_v2(db, "PRAGMA application_id", -1, &st, NULL);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	CHECK_INT(id, 0x52454d44);
	a = open_rw(p);
	CHECK(a != NULL);
	audit_close(a);
	rm_state(p);
	free(p);
}

static void
exec_sql(const char *path, const char *sql)
{
	sqlite3 *db;
	char *e = NULL;

	sqlite3_open(path, &db);
	if (sqlite3_exec(db, sql, NULL, NULL, &e) != SQLITE_OK)
		fprintf(stderr, "exec: %s\n", e);
	sqlite3_free(e);
	sqlite3_close(db);
}

TEST(refuses_other_files_and_newer_schemas)
{
	char *p = tmpfile_path("other.db"), *err = NULL;
	struct audit_opts o;

	audit_opts_defaults(&o);
	exec_sql(p, "CREATE TABLE notes (x TEXT)");
	CHECK(audit_open(p, &o, &err) == NULL);
	CHECK(err && strstr(err, "not a remediate state file") != NULL);
	free(err);
	err = NULL;
	rm_state(p);
	exec_sql(p, "PRAGMA application_id = 1380273476; "
	    "PRAGMA user_version = 99");
	CHECK(audit_open(p, &o, &err) == NULL);
	CHECK(err && strstr(err, "written by a newer remediate (schema 99") !=
	    NULL);
	free(err);
	err = NULL;
	rm_state(p);
	/* text that is not SQLite at all */
	exec_sql(p, "");
	{
		FILE *f = fopen(p, "w");

		fputs("this is not a database, not even close to one.....\n"
		    "padding padding padding padding padding padding pad\n",
		    f);
		fclose(f);
	}
	CHECK(audit_open(p, &o, &err) == NULL);
	CHECK(err != NULL);
	free(err);
	err = NULL;
	rm_state(p);
	o.readonly = 1;
	CHECK(audit_open(p, &o, &err) == NULL);
	CHECK(err && strstr(err, "No such file") != NULL);
	free(err);
	free(p);
}

/* A file from schema 1 (tests/audit/v1.sql) keeps its records. */
TEST(migrates_v1_forward)
{
	char *p = tmpfile_path("v1.db"), *sql, *err = NULL;
	struct audit_filter f;
	struct audit *a;
	json_t *got;

	sql = util_read_file("tests/audit/v1.sql", 1 << 20, NULL, &err);
	CHECK(sql != NULL);
	if (sql == NULL) {
		fprintf(stderr, "%s\n", err);
		free(err);
		free(p);
		return;
	}
	exec_sql(p, sql);
	free(sql);
	a = open_rw(p);
	CHECK(a != NULL);
	if (a == NULL)
		return;
	CHECK_INT(audit_schema_version(a), AUDIT_SCHEMA_VERSION);
	memset(&f, 0, sizeof f);
	got = query(a, &f);
	CHECK_INT(json_array_size(got), 2);
	CHECK_STR(field(got, 0, "decision"), "acted");
	CHECK_STR(field(got, 1, "reason"), "cooldown");
	json_decref(got);
	/* and new records go in beside them, with state */
	CHECK_INT(write_one(a, T0 + 10 * MIN, "t", "cart", REC_NOTIFIED,
	    REASON_NONE), 0);
	got = query(a, &f);
	CHECK_INT(json_array_size(got), 3);
	json_decref(got);
	audit_close(a);
	rm_state(p);
	free(p);
}

TEST(one_writer_many_readers)
{
	char *p = tmpfile_path("lock.db"), *err = NULL;
	struct audit *a = open_rw(p), *b, *r;
	struct audit_opts o;
	struct audit_filter f;
	json_t *got;

	audit_opts_defaults(&o);
	CHECK(a != NULL);
	b = audit_open(p, &o, &err);
	CHECK(b == NULL);
	CHECK(err && strstr(err, "in use by another remediate") != NULL);
	free(err);
	write_one(a, T0, "t", "cart", REC_ACTED, REASON_NONE);
	o.readonly = 1;
	r = audit_open(p, &o, &err);
	CHECK(r != NULL);
	if (r) {
		memset(&f, 0, sizeof f);
		got = query(r, &f);
		CHECK_INT(json_array_size(got), 1);
		json_decref(got);
		/* a reader cannot write */
		CHECK_INT(write_one(r, T0, "t", "x", REC_ACTED, REASON_NONE),
		    -1);
	}
	audit_close(r);
	audit_close(a);
	b = open_rw(p);		/* the lock went with the writer */
	CHECK(b != NULL);
	audit_close(b);
	rm_state(p);
	free(p);
}

TEST(query_filters)
{
	char *p = tmpfile_path("query.db");
	struct audit *a = open_rw(p);
	struct audit_filter f;
	json_t *got;
	int i;

	if (a == NULL)
		return;
	for (i = 0; i < 10; i++)
		write_one(a, T0 + i * MIN, i % 2 ? "bump" : "restart",
		    i < 5 ? "cart" : "checkout", i % 3 ? REC_SUPPRESSED :
		    REC_ACTED, i % 3 ? (i % 3 == 1 ? REASON_COOLDOWN :
		    REASON_RATE_LIMITED) : REASON_NONE);
	memset(&f, 0, sizeof f);
	got = query(a, &f);
	CHECK_INT(json_array_size(got), 10);
	CHECK_STR(field(got, 0, "time"), "2025-11-25T10:00:00Z");
	json_decref(got);
	f.since = T0 + 5 * MIN;
	f.until = T0 + 8 * MIN;
	got = query(a, &f);
	CHECK_INT(json_array_size(got), 3);	/* 5, 6, 7: until excluded */
	json_decref(got);
	memset(&f, 0, sizeof f);
	f.trigger = "bump";
	f.decision = "suppressed";
	got = query(a, &f);
	CHECK_INT(json_array_size(got), 3);	/* 1, 5, 7; not 3, 9 */
	json_decref(got);
	memset(&f, 0, sizeof f);
	f.reason = "rate-limited";
	got = query(a, &f);
	CHECK_INT(json_array_size(got), 3);	/* 2, 5, 8 */
	json_decref(got);
	memset(&f, 0, sizeof f);
	f.sensor = "oom";			/* the name alone */
	got = query(a, &f);
	CHECK_INT(json_array_size(got), 10);
	json_decref(got);
	f.sensor = "argo-events/oom";
	got = query(a, &f);
	CHECK_INT(json_array_size(got), 10);
	json_decref(got);
	f.sensor = "other/oom";
	got = query(a, &f);
	CHECK_INT(json_array_size(got), 0);
	json_decref(got);
	memset(&f, 0, sizeof f);
	f.pull_requests = 1;			/* none of them is one */
	got = query(a, &f);
	CHECK_INT(json_array_size(got), 0);
	json_decref(got);
	memset(&f, 0, sizeof f);
	f.target = "check*";
	got = query(a, &f);
	CHECK_INT(json_array_size(got), 5);
	json_decref(got);
	f.target = "Deployment/shop/cart";
	got = query(a, &f);
	CHECK_INT(json_array_size(got), 5);
	json_decref(got);
	f.target = "StatefulSet/*";
	got = query(a, &f);
	CHECK_INT(json_array_size(got), 0);
	json_decref(got);
	/* the newest N, still oldest first */
	memset(&f, 0, sizeof f);
	f.limit = 3;
	got = query(a, &f);
	CHECK_INT(json_array_size(got), 3);
	CHECK_STR(field(got, 0, "time"), "2025-11-25T10:07:00Z");
	CHECK_STR(field(got, 2, "time"), "2025-11-25T10:09:00Z");
	json_decref(got);
	audit_close(a);
	rm_state(p);
	free(p);
}

/*
 * Rows are read in pages (512 a page): a history longer than pages, a
 * page's exact multiple, and a target filter that keeps one row in a
 * hundred all come back whole and in order, also with a limit.
 */
TEST(query_reads_past_its_pages)
{
	char *p = tmpfile_path("pages.db");
	struct audit *a = open_rw(p);
	struct audit_filter f;
	json_t *got;
	char name[32];
	int i, ordered = 1;

	if (a == NULL)
		return;
	for (i = 0; i < 1300; i++) {
		snprintf(name, sizeof name, i % 100 ? "w%d" : "rare%d", i);
		write_one(a, T0 + i * 1000, "bump", name, REC_ACTED,
		    REASON_NONE);
	}
	memset(&f, 0, sizeof f);
	got = query(a, &f);
	CHECK_INT(json_array_size(got), 1300);
	for (i = 1; i < (int)json_array_size(got); i++)
		ordered &= strcmp(field(got, i - 1, "time"), field(got, i,
		    "time")) < 0;
	CHECK(ordered);
	json_decref(got);
	f.until = T0 + 1024 * 1000;		/* two whole pages */
	got = query(a, &f);
	CHECK_INT(json_array_size(got), 1024);
	json_decref(got);
	memset(&f, 0, sizeof f);
	f.target = "rare*";
	got = query(a, &f);
	CHECK_INT(json_array_size(got), 13);	/* 0, 100, ... 1200 */
	json_decref(got);
	f.limit = 5;				/* newest first, past a page */
	got = query(a, &f);
	CHECK_INT(json_array_size(got), 5);
	CHECK_STR(json_string_value(json_object_get(json_object_get(
	    json_array_get(got, 4), "target"), "name")), "rare1200");
	CHECK_STR(json_string_value(json_object_get(json_object_get(
	    json_array_get(got, 0), "target"), "name")), "rare800");
	json_decref(got);
	memset(&f, 0, sizeof f);
	f.limit = 700;
	got = query(a, &f);
	CHECK_INT(json_array_size(got), 700);
	CHECK_STR(json_string_value(json_object_get(json_object_get(
	    json_array_get(got, 0), "target"), "name")), "rare600");
	json_decref(got);
	/* the newest record cut: a limit still gives N readable ones, and
	   a time window reaches back past it */
	audit_close(a);
	exec_sql(p, "UPDATE decisions SET record = '{' WHERE id = "
	    "(SELECT max(id) FROM decisions)");
	REQUIRE((a = open_rw(p)) != NULL);
	memset(&f, 0, sizeof f);
	f.limit = 3;
	got = query(a, &f);
	CHECK_INT(json_array_size(got), 3);
	CHECK_STR(json_string_value(json_object_get(json_object_get(
	    json_array_get(got, 2), "target"), "name")), "w1298");
	json_decref(got);
	f.limit = 0;
	f.since = T0 + 1000 * 1000;
	f.until = T0 + 1010 * 1000;
	got = query(a, &f);
	CHECK_INT(json_array_size(got), 10);	/* 1000 ... 1009 */
	CHECK_STR(json_string_value(json_object_get(json_object_get(
	    json_array_get(got, 0), "target"), "name")), "rare1000");
	json_decref(got);
	audit_close(a);
	rm_state(p);
	free(p);
}

/*
 * Many clusters, one state file: each record names its cluster, in the
 * record and in the cluster column the filter reads; records of an
 * instance without a name (older, replay) match no cluster.
 */
TEST(query_by_cluster)
{
	char *p = tmpfile_path("clusters.db");
	struct audit *a = open_rw(p);
	struct rec_decision_record r;
	struct audit_filter f;
	const char *names[] = { "prod-eu", "prod-us", NULL };
	json_t *got;
	int i;

	if (a == NULL)
		return;
	for (i = 0; i < 6; i++) {
		record(&r, T0 + i * MIN, "bump", "cart", REC_ACTED,
		    REASON_NONE);
		r.cluster = names[i % 3];
		CHECK_INT(audit_write(a, &r), 0);
		rec_clear(&r);
	}
	memset(&f, 0, sizeof f);
	got = query(a, &f);
	CHECK_INT(json_array_size(got), 6);
	CHECK_STR(field(got, 0, "cluster"), "prod-eu");
	CHECK(json_object_get(json_array_get(got, 2), "cluster") == NULL);
	json_decref(got);
	f.cluster = "prod-us";
	got = query(a, &f);
	CHECK_INT(json_array_size(got), 2);		/* 1 and 4 */
	CHECK_STR(field(got, 1, "time"), "2025-11-25T10:04:00Z");
	CHECK_STR(field(got, 1, "cluster"), "prod-us");
	json_decref(got);
	f.cluster = "prod";				/* exact, no prefix */
	got = query(a, &f);
	CHECK_INT(json_array_size(got), 0);
	json_decref(got);
	audit_close(a);
	rm_state(p);
	free(p);
}

static void
cfg_defaults(struct guard_config *c)
{
	guard_config_defaults(c);
	c->cooldown = 10 * MIN;
	c->rate_per_unit = 2;
	c->rate_unit = MIN;
	c->threshold_count = 3;
	c->threshold_within = 5 * MIN;
	c->recurrence_min_actions = 2;
	c->recurrence_demote_above = 0.5;
}

static long long count_rows(const char *path, const char *sql);

static struct audit *
open_cluster(const char *path, const char *cluster)
{
	struct audit_opts o;
	struct audit *a;
	char *err = NULL;

	audit_opts_defaults(&o);
	o.cluster = cluster;
	a = audit_open(path, &o, &err);
	if (a == NULL)
		fprintf(stderr, "open %s: %s\n", path, err);
	free(err);
	return a;
}

/*
 * Guard state is its cluster's (schema 6: clusters sharing a PostgreSQL
 * database each keep their own).  A SQLite file has one writer: its rows
 * are that writer's under any name, so a renamed kubeconfig context keeps
 * its cooldowns, as do rows written before state had a cluster.
 */
TEST(state_rows_are_the_writers_cluster)
{
	char *p = tmpfile_path("clusters.db"), *err = NULL;
	struct guard_config c;
	struct guard_state *g = guard_state_new();
	struct audit *a = open_cluster(p, "eu");

	cfg_defaults(&c);
	CHECK(a != NULL && audit_attach_guard(a, g, &err) == 0);
	guard_record_action(g, "t", "Deployment/shop/cart", T0);
	CHECK_INT(write_one(a, T0, "t", "cart", REC_ACTED, REASON_NONE), 0);
	audit_close(a);
	guard_state_free(g);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM state WHERE cluster = "
	    "'eu' AND kind = 'cooldown'"), 1);
	/* renamed: the same file's cooldown holds */
	g = guard_state_new();
	a = open_cluster(p, "kind-eu");
	CHECK(a != NULL && audit_attach_guard(a, g, &err) == 0);
	CHECK(guard_check_cooldown(g, &c, "t", "Deployment/shop/cart",
	    T0 + MIN, msg, sizeof msg) == 0);
	audit_close(a);
	guard_state_free(g);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM state WHERE cluster <> "
	    "'kind-eu'"), 0);
	/* a row no cluster owned (written before schema 6) */
	exec_sql(p, "UPDATE state SET cluster = ''");
	g = guard_state_new();
	a = open_cluster(p, "eu");
	CHECK(a != NULL && audit_attach_guard(a, g, &err) == 0);
	CHECK(guard_check_cooldown(g, &c, "t", "Deployment/shop/cart",
	    T0 + MIN, msg, sizeof msg) == 0);
	audit_close(a);
	guard_state_free(g);
	guard_config_clear(&c);
	rm_state(p);
	free(p);
}

/* A restart: state written with each record is there after reopening. */
TEST(guard_state_survives_a_restart)
{
	char *p = tmpfile_path("guard.db"), *err = NULL;
	struct guard_config c;
	struct guard_state *g = guard_state_new();
	struct guard_recurrence rr;
	struct audit *a = open_rw(p);

	cfg_defaults(&c);
	CHECK(a != NULL && audit_attach_guard(a, g, &err) == 0);
	/* two threshold signals, two rate tokens, one action + recurrence */
	CHECK(guard_check_threshold(g, &c, "t", "k", T0, msg, sizeof msg) ==
	    0);
	CHECK(guard_check_threshold(g, &c, "t", "k", T0 + S, msg,
	    sizeof msg) == 0);
	CHECK(guard_take_rate_token(g, &c, "t", T0, msg, sizeof msg) == 1);
	CHECK(guard_take_rate_token(g, &c, "t", T0, msg, sizeof msg) == 1);
	guard_record_action(g, "t", "Deployment/shop/cart", T0);
	guard_record_remediation(g, &c, "t", "Deployment/shop/cart", T0);
	guard_record_remediation(g, &c, "t", "Deployment/shop/cart", T0 + S);
	CHECK(guard_note_recurrence(g, &c, "t", "Deployment/shop/cart",
	    T0 + 2 * S, &rr) == 1);
	CHECK_INT(rr.actions, 2);
	CHECK_INT(rr.recurred, 1);
	guard_demote(g, "t", 0x1234abcdULL, T0 + 2 * S, &rr);
	CHECK_INT(write_one(a, T0, "t", "cart", REC_ACTED, REASON_NONE), 0);
	audit_close(a);
	guard_state_free(g);

	/* the restart */
	g = guard_state_new();
	a = open_rw(p);
	CHECK(a != NULL && audit_attach_guard(a, g, &err) == 0);
	/* the third signal inside the window completes the threshold */
	CHECK(guard_check_threshold(g, &c, "t", "k", T0 + 2 * S, msg,
	    sizeof msg) == 1);
	/* the cooldown holds, the bucket is still empty (not reset) */
	CHECK(guard_check_cooldown(g, &c, "t", "Deployment/shop/cart",
	    T0 + 5 * MIN, msg, sizeof msg) == 0);
	CHECK_STR(msg, "last action 5m ago, inside the 10m cooldown");
	CHECK(guard_take_rate_token(g, &c, "t", T0, msg, sizeof msg) == 0);
	CHECK(guard_take_rate_token(g, &c, "t", T0 + 30 * S, msg,
	    sizeof msg) == 1);		/* refilled by time, not by restart */
	/* the recurrence history continues: the second action recurs too */
	CHECK(guard_note_recurrence(g, &c, "t", "Deployment/shop/cart",
	    T0 + 3 * S, &rr) == 0);	/* latest action already recurred */
	CHECK(guard_demoted(g, "t", 0x1234abcdULL, NULL) == GUARD_DEMOTED);
	/* a changed manifest lifts the demotion, durably */
	CHECK(guard_demoted(g, "t", 0x9999ULL, NULL) == GUARD_LIFTED);
	CHECK(guard_demoted(g, "t", 0x9999ULL, NULL) == GUARD_NOT_DEMOTED);
	CHECK_INT(write_one(a, T0 + 4 * S, "t", "cart", REC_NOTIFIED,
	    REASON_NONE), 0);
	audit_close(a);
	guard_state_free(g);

	g = guard_state_new();
	a = open_rw(p);
	CHECK(a != NULL && audit_attach_guard(a, g, &err) == 0);
	CHECK(guard_demoted(g, "t", 0x1234abcdULL, NULL) == GUARD_NOT_DEMOTED);
	audit_close(a);
	guard_state_free(g);
	free(err);
	guard_config_clear(&c);
	rm_state(p);
	free(p);
}

static struct audit *
open_recover(const char *path, char **err)
{
	struct audit_opts o;

	audit_opts_defaults(&o);
	o.recover = 1;
	return audit_open(path, &o, err);
}

static void
sql(const char *path, const char *stmt)
{
	sqlite3 *db;

	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, stmt, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
}

static int64_t
wall(void)
{
	struct clock c;

	clock_system(&c);
	return clock_now(&c);
}

/*
 * A cooldown and a rate-bucket row that no longer read.  They used to be
 * dropped with a warning, so the cooldown reset and a second action could
 * run inside it.  Now attaching refuses, naming the file; with recover
 * each counts as its most restrictive value, written back with the next
 * record.
 */
TEST(damaged_guard_rows_refuse_or_count_restrictive)
{
	char *p = tmpfile_path("damaged.db"), *err = NULL;
	const char *target = "Deployment/shop/cart";
	struct guard_config c;
	struct guard_state *g = guard_state_new();
	struct audit *a = open_rw(p);
	int64_t now = wall();

	cfg_defaults(&c);
	CHECK(a != NULL && audit_attach_guard(a, g, &err) == 0);
	guard_record_action(g, "t", target, now - 20 * MIN);
	CHECK(guard_take_rate_token(g, &c, "t", now - 20 * MIN, msg,
	    sizeof msg) == 1);
	CHECK_INT(write_one(a, now - 20 * MIN, "t", "cart", REC_ACTED,
	    REASON_NONE), 0);
	audit_close(a);
	guard_state_free(g);
	sql(p, "UPDATE state SET value = '{\"at\": \"torn' "
	    "WHERE kind IN ('cooldown', 'bucket')");

	/* refused, naming the file and the way out */
	g = guard_state_new();
	a = open_rw(p);
	CHECK(a != NULL && audit_attach_guard(a, g, &err) == -1);
	CHECK(err != NULL && strstr(err, p) != NULL &&
	    strstr(err, "2 guard-state rows cannot be read") != NULL &&
	    strstr(err, "--state-recover") != NULL);
	free(err);
	err = NULL;
	audit_close(a);
	guard_state_free(g);

	/* recovered: the cooldown holds from now, the bucket is empty */
	g = guard_state_new();
	a = open_recover(p, &err);
	CHECK(a != NULL && audit_attach_guard(a, g, &err) == 0);
	CHECK(guard_check_cooldown(g, &c, "t", target, now + MIN, msg,
	    sizeof msg) == 0);
	CHECK(guard_take_rate_token(g, &c, "t", wall(), msg, sizeof msg) ==
	    0);
	CHECK_INT(write_one(a, wall(), "t", "cart", REC_SUPPRESSED,
	    REASON_COOLDOWN), 0);
	audit_close(a);
	guard_state_free(g);

	/* written back: an ordinary start reads them again */
	g = guard_state_new();
	a = open_rw(p);
	CHECK(a != NULL && audit_attach_guard(a, g, &err) == 0);
	CHECK(guard_check_cooldown(g, &c, "t", target, now + MIN, msg,
	    sizeof msg) == 0);
	audit_close(a);
	guard_state_free(g);
	free(err);
	guard_config_clear(&c);
	rm_state(p);
	free(p);
}

/*
 * A file whose pages are damaged fails PRAGMA quick_check: refused with
 * the file named; with recover it is moved aside (kept) and a new file
 * holds what still reads.
 */
TEST(damaged_file_refused_or_recovered)
{
	char *p = tmpfile_path("torn.db"), *aside, *err = NULL;
	struct audit *a = open_rw(p);
	char junk[4096];
	json_t *got;
	struct audit_filter f;
	struct stat sb;
	int i, fd;

	for (i = 0; a && i < 400; i++)
		CHECK_INT(write_one(a, T0 + i * S, "t", "cart", REC_ACTED,
		    REASON_NONE), 0);
	audit_close(a);
	/* tear a page in the middle of the decisions table: 400 records
	   fill most of the file, so its middle page is one of theirs
	   whatever other tables the schema holds */
	memset(junk, 0xa5, sizeof junk);
	CHECK(stat(p, &sb) == 0 && sb.st_size >= 8 * 4096);
	fd = open(p, O_WRONLY);
	CHECK(fd >= 0 && pwrite(fd, junk, sizeof junk,
	    (off_t)(sb.st_size / 4096 / 2) * 4096) == (ssize_t)sizeof junk);
	close(fd);

	a = open_rw(p);
	CHECK(a == NULL);
	a = audit_open(p, &(struct audit_opts){ 0 }, &err);
	CHECK(a == NULL && err != NULL && strstr(err, p) != NULL &&
	    strstr(err, "damaged (PRAGMA quick_check") != NULL &&
	    strstr(err, "--state-recover") != NULL);
	free(err);
	err = NULL;

	a = open_recover(p, &err);
	CHECK(a != NULL);
	if (a == NULL)
		fprintf(stderr, "recover: %s\n", err);
	memset(&f, 0, sizeof f);
	got = a ? query(a, &f) : json_array();
	CHECK(json_array_size(got) > 0 && json_array_size(got) < 400);
	json_decref(got);
	audit_close(a);
	/* the damaged file is kept beside it */
	aside = NULL;
	{
		char cmd[512];
		FILE *ls;

		snprintf(cmd, sizeof cmd, "ls %s/torn.db.damaged-* 2>/dev/null",
		    dir);
		ls = popen(cmd, "r");
		if (ls && fgets(cmd, sizeof cmd, ls)) {
			cmd[strcspn(cmd, "\n")] = '\0';
			aside = xstrdup(cmd);
		}
		if (ls)
			pclose(ls);
	}
	CHECK(aside != NULL && stat(aside, &sb) == 0 && sb.st_size > 6 * 4096);
	if (aside && getenv("KEEP") == NULL)
		unlink(aside);
	free(aside);
	free(err);
	/* and the new file is whole */
	a = open_rw(p);
	CHECK(a != NULL);
	audit_close(a);
	rm_state(p);
	free(p);
}

/* A crash during an action: the intent is there, and its cooldown. */
TEST(intent_without_outcome)
{
	char *p = tmpfile_path("intent.db"), *err = NULL;
	struct guard_config c;
	struct guard_state *g = guard_state_new();
	struct rec_decision_record r;
	struct audit_filter f;
	struct audit *a = open_rw(p);
	json_t *got;

	cfg_defaults(&c);
	if (a == NULL || audit_attach_guard(a, g, &err) == -1) {
		guard_config_clear(&c);
		return;
	}
	/* a whole action first: one row, outcome written over the intent */
	guard_record_action(g, "t", "Deployment/shop/a", T0);
	record(&r, T0, "t", "a", REC_ACTED, REASON_NONE);
	CHECK_INT(audit_intend(a, &r), 0);
	r.decision = REC_FAILED;
	r.message = xstrdup("the server said no");
	CHECK_INT(audit_write(a, &r), 0);
	rec_clear(&r);
	/* then one the process dies in */
	guard_record_action(g, "t", "Deployment/shop/b", T0 + S);
	record(&r, T0 + S, "t", "b", REC_ACTED, REASON_NONE);
	CHECK_INT(audit_intend(a, &r), 0);
	rec_clear(&r);
	/* no audit_write, no close: the crash.  Readers see it already. */
	{
		struct audit_opts o;
		struct audit *rd;

		audit_opts_defaults(&o);
		o.readonly = 1;
		rd = audit_open(p, &o, &err);
		CHECK(rd != NULL);
		memset(&f, 0, sizeof f);
		got = query(rd, &f);
		CHECK_INT(json_array_size(got), 2);
		CHECK_STR(field(got, 0, "decision"), "failed");
		CHECK(json_object_get(json_array_get(got, 0), "outcome") ==
		    NULL);
		CHECK_STR(field(got, 1, "decision"), "acted");
		CHECK_STR(field(got, 1, "outcome"), "unknown");
		json_decref(got);
		audit_close(rd);
	}
	/*
	 * The restart.  Closing writes nothing a crash would not have
	 * written (the state went with the intent); the crash itself is
	 * kill_9_at_random_moments' business.
	 */
	audit_close(a);
	guard_state_free(g);
	g = guard_state_new();
	a = open_rw(p);
	CHECK(a != NULL && audit_attach_guard(a, g, &err) == 0);
	CHECK(guard_check_cooldown(g, &c, "t", "Deployment/shop/b", T0 + MIN,
	    msg, sizeof msg) == 0);
	audit_close(a);
	guard_state_free(g);
	guard_config_clear(&c);
	rm_state(p);
	free(p);
}

static int
count_unknown(void *ctx, json_t *record)
{
	(void)record;
	++*(int *)ctx;
	return 0;
}

static const char *unknown_target;

/*
 * Clusters sharing a PostgreSQL database each have their own writer: the
 * one that starts pages its own cluster's intents left without an
 * outcome, never another cluster's (an action still running there), and
 * marks only its own reported, so the other cluster's restart still pages
 * its own.  A SQLite file has one writer: every intent in it is its own,
 * whatever cluster name it was written under (a renamed context).
 */
TEST(unknown_outcomes_are_each_clusters_own)
{
	int shared = sqldb_is_postgres(unknown_target);
	struct rec_decision_record r;
	struct audit_opts o;
	struct audit *a;
	char *err = NULL;
	int64_t last = 0;
	int n = 0;

	audit_opts_defaults(&o);
	o.cluster = "unknown-eu";
	if ((a = audit_open(unknown_target, &o, &err)) == NULL) {
		CHECK(!"open eu");
		free(err);
		return;
	}
	record(&r, T0, "t", "mine", REC_ACTED, REASON_NONE);
	r.cluster = "unknown-eu";
	CHECK_INT(audit_intend(a, &r), 0);
	rec_clear(&r);
	record(&r, T0 + 1, "t", "theirs", REC_ACTED, REASON_NONE);
	r.cluster = "unknown-us";	/* as if us's writer wrote it */
	CHECK_INT(audit_intend(a, &r), 0);
	rec_clear(&r);
	CHECK_INT(audit_unknown_outcomes(a, count_unknown, &n, &last, &err),
	    shared ? 1 : 2);
	CHECK_INT(n, shared ? 1 : 2);
	CHECK_INT(audit_unknown_reported(a, last, &err), 0);
	audit_close(a);
	/* us restarts: in a shared database its intent is still to page */
	o.cluster = "unknown-us";
	n = 0;
	CHECK((a = audit_open(unknown_target, &o, &err)) != NULL);
	if (a) {
		CHECK_INT(audit_unknown_outcomes(a, count_unknown, &n, &last,
		    &err), shared ? 1 : 0);
		CHECK_INT(n, shared ? 1 : 0);
		CHECK_INT(audit_unknown_reported(a, last, &err), 0);
		audit_close(a);
	}
	free(err);
}

/*
 * Actions run on workers: intents of several actions are open at once,
 * other records are written in between, and outcomes come in any order.
 * Each outcome completes its own intent's row: one row per decision.
 */
TEST(intents_interleaved_with_other_records)
{
	char *p = tmpfile_path("interleaved.db");
	struct rec_decision_record r;
	struct audit_filter f;
	struct audit *a = open_rw(p);
	json_t *got;
	size_t i;

	if (a == NULL)
		return;
	record(&r, T0, "t", "a", REC_ACTED, REASON_NONE);
	CHECK_INT(audit_intend(a, &r), 0);
	rec_clear(&r);
	record(&r, T0, "t", "b", REC_ACTED, REASON_NONE);	/* same ms */
	CHECK_INT(audit_intend(a, &r), 0);
	rec_clear(&r);
	CHECK_INT(write_one(a, T0 + 1, "t", "a", REC_SUPPRESSED,
	    REASON_COOLDOWN), 0);
	record(&r, T0, "t", "b", REC_ACTED, REASON_NONE);
	CHECK_INT(audit_write(a, &r), 0);
	rec_clear(&r);
	record(&r, T0, "t", "a", REC_FAILED, REASON_NONE);
	CHECK_INT(audit_write(a, &r), 0);
	rec_clear(&r);
	memset(&f, 0, sizeof f);
	got = query(a, &f);
	CHECK_INT(json_array_size(got), 3);
	for (i = 0; i < json_array_size(got); i++)
		CHECK(json_object_get(json_array_get(got, i), "outcome") ==
		    NULL);
	CHECK_STR(field(got, 0, "decision"), "failed");		/* a's row */
	CHECK_STR(json_string_value(json_object_get(json_object_get(
	    json_array_get(got, 0), "target"), "name")), "a");
	CHECK_STR(field(got, 1, "decision"), "acted");		/* b's row */
	CHECK_STR(field(got, 2, "decision"), "suppressed");
	json_decref(got);
	audit_close(a);
	rm_state(p);
	free(p);
}

TEST(prune_by_count_and_age)
{
	char *p = tmpfile_path("prune.db"), *err = NULL;
	struct audit_opts o;
	struct audit_filter f;
	struct guard_state *g = guard_state_new();
	struct guard_config c;
	struct audit *a;
	int64_t n, bytes;
	json_t *got;
	int i;

	audit_opts_defaults(&o);
	o.retain_count = 30;
	o.retain_age = 60 * MIN;
	cfg_defaults(&c);
	a = audit_open(p, &o, &err);
	CHECK(a != NULL && audit_attach_guard(a, g, &err) == 0);
	if (a == NULL) {
		guard_config_clear(&c);
		return;
	}
	guard_record_action(g, "t", "Deployment/shop/old", T0);
	for (i = 0; i < 100; i++)
		write_one(a, T0 + i * MIN, "t", "cart", REC_ACTED,
		    REASON_NONE);
	/* at T0 + 100m: age keeps 40..99 (60), count keeps the last 30 */
	CHECK_INT(audit_prune(a, T0 + 100 * MIN), 70);
	memset(&f, 0, sizeof f);
	got = query(a, &f);
	CHECK_INT(json_array_size(got), 30);
	CHECK_STR(field(got, 0, "time"), "2025-11-25T11:10:00Z");
	json_decref(got);
	CHECK_INT(audit_stats(a, &n, &bytes), 0);
	CHECK_INT(n, 30);
	/*
	 * The cooldown mark of T0 is older than the age but not than what a
	 * guardrail may hold: a 2h cooldown still holds (a --retain shorter
	 * than a cooldown ended it).  Untouched for GUARD_STATE_KEEP, it
	 * is forgotten.
	 */
	c.cooldown = 120 * MIN;
	CHECK(guard_check_cooldown(g, &c, "t", "Deployment/shop/old",
	    T0 + 100 * MIN, msg, sizeof msg) == 0);
	CHECK(guard_last_action(g, "t", "Deployment/shop/old") == T0);
	audit_prune(a, T0 + GUARD_STATE_KEEP + 1);
	CHECK(guard_last_action(g, "t", "Deployment/shop/old") == 0);
	audit_close(a);
	guard_state_free(g);
	g = guard_state_new();
	a = audit_open(p, &o, &err);
	CHECK(a != NULL && audit_attach_guard(a, g, &err) == 0);
	CHECK_INT(audit_prune(a, T0 + 100 * MIN), 0);
	audit_close(a);
	guard_state_free(g);
	guard_config_clear(&c);
	rm_state(p);
	free(p);
}

/* The file stays bounded: a write-prune cycle does not grow it. */
TEST(file_size_is_bounded)
{
	char *p = tmpfile_path("bounded.db"), *err = NULL;
	struct audit_opts o;
	struct audit *a;
	int64_t n, first = 0, bytes = 0;
	int round, i;

	audit_opts_defaults(&o);
	o.retain_count = 2000;
	o.sync_full = 0;
	a = audit_open(p, &o, &err);
	if (a == NULL)
		return;
	for (round = 0; round < 4; round++) {
		for (i = 0; i < 4000; i++)
			write_one(a, T0 + (round * 4000 + i) * S, "t", "cart",
			    REC_SUPPRESSED, REASON_COOLDOWN);
		while (audit_prune(a, T0) > 0)
			;
		audit_stats(a, &n, &bytes);
		CHECK_INT(n, 2000);
		if (round == 1)
			first = bytes;
	}
	/* after the first prune the size holds (free pages are reused) */
	CHECK(bytes <= first + first / 10);
	audit_close(a);
	rm_state(p);
	free(p);
}

TEST(pages_state_survives_a_restart)
{
	char *p = tmpfile_path("pages.db"), *err = NULL;
	struct page_opts po;
	struct page *pg;
	struct rec_decision_record r;
	struct audit *a = open_rw(p);
	sqlite3 *db;
	sqlite3_stmt *st;
	int rows = -1;

	page_opts_defaults(&po);
	pg = page_new(&po, &err);
	CHECK(pg != NULL && a != NULL);
	if (pg == NULL || a == NULL)
		return;
	CHECK_INT(audit_attach_pages(a, pg, &err), 0);
	record(&r, T0, "t", "cart", REC_SUPPRESSED, REASON_RATE_LIMITED);
	page_decision(pg, &r);
	CHECK_INT(audit_write(a, &r), 0);
	rec_clear(&r);
	audit_close(a);
	page_free(pg);
	CHECK(sqlite3_open(p, &db) == SQLITE_OK);
	sqlite3_prepare_v2(db, "SELECT count(*) FROM state WHERE kind = "
	    "'page' AND value LIKE '%\"firing\":true%'", -1, &st, NULL);
	if (sqlite3_step(st) == SQLITE_ROW)
		rows = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	CHECK_INT(rows, 1);
	/* reloaded, the condition resolves on its own after a window */
	pg = page_new(&po, &err);
	a = open_rw(p);
	CHECK(a != NULL && audit_attach_pages(a, pg, &err) == 0);
	page_tick(pg, T0 + 5 * MIN);
	page_tick(pg, T0 + 10 * MIN);	/* forgotten after another window */
	CHECK_INT(audit_sync(a), 0);
	audit_close(a);
	page_free(pg);
	CHECK(sqlite3_open(p, &db) == SQLITE_OK);
	sqlite3_prepare_v2(db, "SELECT count(*) FROM state WHERE kind = "
	    "'page'", -1, &st, NULL);
	if (sqlite3_step(st) == SQLITE_ROW)
		rows = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	CHECK_INT(rows, 0);
	rm_state(p);
	free(p);
}

/*
 * Another connection holds the write lock: the write fails after the busy
 * timeout (5 s), the record waits in memory, and the next write that
 * works carries it, with the whole state.
 */
TEST(failed_write_is_kept_and_retried)
{
	char *p = tmpfile_path("busy.db"), *err = NULL;
	struct rec_decision_record r;
	struct guard_state *g = guard_state_new();
	struct audit_filter f;
	struct audit *a = open_rw(p);
	sqlite3 *db;
	json_t *got;

	if (a == NULL || audit_attach_guard(a, g, &err) == -1)
		return;
	CHECK(sqlite3_open(p, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL) ==
	    SQLITE_OK);
	guard_record_action(g, "t", "Deployment/shop/cart", T0);
	record(&r, T0, "t", "cart", REC_ACTED, REASON_NONE);
	r.inputs = json_pack("{s:i}", "signal", 1);
	CHECK_INT(audit_write(a, &r), -1);
	rec_clear(&r);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	record(&r, T0 + S, "t", "cart", REC_SUPPRESSED, REASON_COOLDOWN);
	r.inputs = json_pack("{s:i}", "signal", 2);
	CHECK_INT(audit_write(a, &r), 0);
	rec_clear(&r);
	memset(&f, 0, sizeof f);
	f.inputs = 1;
	got = query(a, &f);
	CHECK_INT(json_array_size(got), 2);
	CHECK_STR(field(got, 0, "decision"), "acted");
	/* kept in memory without its inputs (bounded); written with them */
	CHECK(json_object_get(json_array_get(got, 0), "inputs") == NULL);
	CHECK(json_object_get(json_array_get(got, 1), "inputs") != NULL);
	json_decref(got);
	audit_close(a);
	guard_state_free(g);
	g = guard_state_new();
	a = open_rw(p);
	CHECK(a != NULL && audit_attach_guard(a, g, &err) == 0);
	CHECK(guard_check_cooldown(g, &(struct guard_config){ .cooldown =
	    10 * MIN }, "t", "Deployment/shop/cart", T0 + S, msg,
	    sizeof msg) == 0);
	audit_close(a);
	guard_state_free(g);
	rm_state(p);
	free(p);
}

static long long
count_rows(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long n = -1;

	sqlite3_open(path, &db);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

TEST(an_event_and_its_records_are_one_transaction)
{
	char *p = tmpfile_path("event.db"), *err = NULL, *why;
	struct guard_state *g = guard_state_new();
	struct audit *a = open_rw(p);
	sqlite3 *db;

	if (a == NULL || audit_attach_guard(a, g, &err) == -1)
		return;
	exec_sql(p, "INSERT INTO intake (id, received, event) VALUES "
	    "(7, 1, '{}'), (8, 1, '{}'), (9, 1, '{}')");
	/* two records of event 7: held, then written with its removal */
	audit_event_begin(a, 7);
	CHECK_INT(write_one(a, T0, "t", "cart", REC_DRY_RUN, REASON_NONE), 1);
	CHECK_INT(write_one(a, T0, "u", "cart", REC_DRY_RUN, REASON_NONE), 1);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM decisions"), 0);
	CHECK_INT(audit_event_end(a), 0);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM decisions"), 2);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM intake WHERE id = 7"),
	    0);
	/* an event without records: its removal waits for a transaction */
	audit_event_begin(a, 8);
	CHECK_INT(audit_event_end(a), 0);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM intake WHERE id = 8"),
	    1);
	CHECK_INT(audit_sync(a), 0);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM intake WHERE id = 8"),
	    0);
	/* the file refuses: the event stays undecided, the health says why */
	CHECK(audit_health(a) == NULL);
	CHECK(sqlite3_open(p, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL) ==
	    SQLITE_OK);
	audit_event_begin(a, 9);
	CHECK_INT(write_one(a, T0, "t", "cart", REC_DRY_RUN, REASON_NONE), 1);
	CHECK_INT(audit_event_end(a), -1);
	why = audit_health(a);
	CHECK(why != NULL);
	free(why);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM intake WHERE id = 9"),
	    1);
	CHECK_INT(audit_sync(a), 0);	/* works again: retried */
	CHECK_INT(count_rows(p, "SELECT count(*) FROM intake WHERE id = 9"),
	    0);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM decisions"), 3);
	CHECK(audit_health(a) == NULL);
	audit_close(a);
	guard_state_free(g);
	rm_state(p);
	free(p);
}

/*
 * While writes fail, a full retry backlog drops its oldest records.  An
 * event whose records go goes undecided with them: its records all go
 * (none is left to be written twice when it is decided again), its intake
 * row stays for a later run's recovery, and the next transaction that
 * works writes the rest, removing the intake rows of the events whose
 * records it holds.
 */
TEST(an_event_whose_records_the_full_backlog_drops_stays_undecided)
{
	char *p = tmpfile_path("overflow.db"), *err = NULL;
	struct guard_state *g = guard_state_new();
	struct audit *a = open_rw(p);
	int i;

	if (a == NULL || audit_attach_guard(a, g, &err) == -1)
		return;
	exec_sql(p, "INSERT INTO intake (id, received, event) VALUES "
	    "(7, 1, '{}'), (8, 1, '{}')");
	exec_sql(p, "CREATE TRIGGER boom BEFORE INSERT ON decisions "
	    "BEGIN SELECT RAISE(ABORT, 'disk full'); END");
	audit_event_begin(a, 7);
	CHECK_INT(write_one(a, T0, "first", "cart", REC_DRY_RUN, REASON_NONE),
	    1);
	CHECK_INT(write_one(a, T0, "second", "cart", REC_DRY_RUN,
	    REASON_NONE), 1);
	CHECK_INT(audit_event_end(a), -1);	/* kept to retry */
	audit_event_begin(a, 8);
	CHECK_INT(write_one(a, T0 + 1, "kept", "cart", REC_DRY_RUN,
	    REASON_NONE), 1);
	CHECK_INT(audit_event_end(a), -1);
	/* cluster decisions meanwhile: one past the backlog's room */
	for (i = 0; i < BACKLOG_MAX - 2; i++)
		CHECK_INT(write_one(a, T0 + 2 + i, "w", "x", REC_DRY_RUN,
		    REASON_NONE), -1);
	exec_sql(p, "DROP TRIGGER boom");
	CHECK_INT(audit_sync(a), 0);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM decisions WHERE "
	    "trigger IN ('first', 'second')"), 0);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM intake WHERE id = 7"),
	    1);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM decisions WHERE "
	    "trigger = 'kept'"), 1);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM intake WHERE id = 8"),
	    0);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM decisions"),
	    BACKLOG_MAX - 1);
	audit_close(a);
	guard_state_free(g);
	rm_state(p);
	free(p);
}

static struct audit *
open_grouped(const char *path)
{
	struct audit_opts o;
	struct audit *a;
	char *err = NULL;

	audit_opts_defaults(&o);
	o.group = AUDIT_GROUP_MAX;
	a = audit_open(path, &o, &err);
	if (a == NULL)
		fprintf(stderr, "open %s: %s\n", path, err);
	free(err);
	return a;
}

/*
 * Group commit: records held (1: not to be shown) are not in the file
 * until a call returns 0; a full group is written without a flush; an
 * intent writes what is held first; and a group one of whose statements
 * fails is none of it in the file, neither its records, nor its state,
 * nor the removal of its events' intake rows, until a later transaction
 * writes all of it.
 */
TEST(a_group_is_stored_whole_or_not_at_all)
{
	char *p = tmpfile_path("group.db"), *err = NULL;
	struct guard_state *g = guard_state_new();
	struct rec_decision_record r;
	struct audit *a = open_grouped(p);
	int i;

	if (a == NULL || audit_attach_guard(a, g, &err) == -1)
		return;
	exec_sql(p, "INSERT INTO intake (id, received, event) VALUES "
	    "(7, 1, '{}'), (8, 1, '{}')");
	CHECK_INT(write_one(a, T0, "t", "a", REC_DRY_RUN, REASON_NONE), 1);
	audit_event_begin(a, 7);
	CHECK_INT(write_one(a, T0, "t", "b", REC_DRY_RUN, REASON_NONE), 1);
	CHECK_INT(audit_event_end(a), 1);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM decisions"), 0);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM intake WHERE id = 7"),
	    1);
	CHECK_INT(audit_flush(a), 0);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM decisions"), 2);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM intake WHERE id = 7"),
	    0);
	CHECK_INT(audit_flush(a), 0);		/* nothing held */
	/* the group's last record writes it, without a flush */
	for (i = 0; i < AUDIT_GROUP_MAX - 1; i++)
		CHECK_INT(write_one(a, T0 + i, "t", "c", REC_DRY_RUN,
		    REASON_NONE), 1);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM decisions"), 2);
	CHECK_INT(write_one(a, T0 + i, "t", "c", REC_DRY_RUN, REASON_NONE),
	    0);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM decisions"),
	    2 + AUDIT_GROUP_MAX);
	/* an intent is durable at once, with what was held before it */
	CHECK_INT(write_one(a, T0 + S, "t", "d", REC_DRY_RUN, REASON_NONE), 1);
	guard_record_action(g, "t", "Deployment/shop/e", T0 + S);
	record(&r, T0 + S, "t", "e", REC_ACTED, REASON_NONE);
	CHECK_INT(audit_intend(a, &r), 0);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM decisions"),
	    4 + AUDIT_GROUP_MAX);
	CHECK_INT(audit_write(a, &r), 1);	/* its outcome: held */
	rec_clear(&r);
	CHECK_INT(audit_flush(a), 0);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM decisions WHERE "
	    "outcome = 'intended'"), 0);
	/* the second insert of this group fails: none of the group lands */
	exec_sql(p, "CREATE TRIGGER boom BEFORE INSERT ON decisions WHEN "
	    "NEW.trigger = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END");
	guard_record_action(g, "t", "Deployment/shop/f", T0 + 2 * S);
	CHECK_INT(write_one(a, T0 + 2 * S, "t", "f", REC_ACTED, REASON_NONE),
	    1);
	audit_event_begin(a, 8);
	CHECK_INT(write_one(a, T0 + 2 * S, "boom", "f", REC_DRY_RUN,
	    REASON_NONE), 1);
	CHECK_INT(audit_event_end(a), 1);
	CHECK_INT(audit_flush(a), -1);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM decisions"),
	    4 + AUDIT_GROUP_MAX);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM intake WHERE id = 8"),
	    1);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM state WHERE kind = "
	    "'cooldown' AND key LIKE '%shop/f'"), 0);
	/* kept, and written whole by the next transaction that works */
	exec_sql(p, "DROP TRIGGER boom");
	CHECK_INT(audit_sync(a), 0);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM decisions"),
	    6 + AUDIT_GROUP_MAX);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM intake WHERE id = 8"),
	    0);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM state WHERE kind = "
	    "'cooldown' AND key LIKE '%shop/f'"), 1);
	audit_close(a);
	guard_state_free(g);
	rm_state(p);
	free(p);
}

/* What the writer thread told (opts.stored), checked against the file. */
struct told_back {
	const char	*path;
	long		 stored, lost;
	long long	 in_file;	/* rows in the file when last told */
};

static void
told_back(void *ctx, size_t n, int stored)
{
	struct told_back *tb = ctx;

	if (stored)
		tb->stored += (long)n;
	else
		tb->lost += (long)n;
	tb->in_file = count_rows(tb->path, "SELECT count(*) FROM decisions");
}

/* A store with the writer thread, telling tb; NULL (a failed check). */
static struct audit *
open_told(const char *path, struct guard_state *g, struct told_back *tb)
{
	struct audit_opts o;
	struct audit *a;
	char *err = NULL;

	audit_opts_defaults(&o);
	o.group = AUDIT_GROUP_MAX;
	o.stored = told_back;
	o.stored_ctx = tb;
	if ((a = audit_open(path, &o, &err)) == NULL ||
	    audit_attach_guard(a, g, &err) == -1) {
		fprintf(stderr, "open %s: %s\n", path, err);
		CHECK(0);
		free(err);
		return NULL;
	}
	return a;
}

/*
 * The writer thread: a full group goes to it and the caller goes on; a
 * record is told stored only once its group is committed (the file holds
 * it when told); an intent waits for the group before it and is written
 * after it; a group the writer cannot write is told not stored, kept, and
 * written by the next transaction that works, without being told again.
 */
TEST(the_writer_thread_tells_only_what_is_committed)
{
	char *p = tmpfile_path("writer.db");
	struct guard_state *g = guard_state_new();
	struct told_back tb = { p, 0, 0, 0 };
	struct rec_decision_record r;
	struct audit *a;
	int i;

	if ((a = open_told(p, g, &tb)) == NULL)
		return;
	for (i = 0; i < AUDIT_GROUP_MAX - 1; i++)
		CHECK_INT(write_one(a, T0 + i, "t", "a", REC_DRY_RUN,
		    REASON_NONE), 1);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM decisions"), 0);
	CHECK_INT(tb.stored, 0);
	/* the 64th: handed to the writer, told later */
	CHECK_INT(write_one(a, T0 + i, "t", "a", REC_DRY_RUN, REASON_NONE),
	    1);
	CHECK_INT(write_one(a, T0 + S, "t", "b", REC_DRY_RUN, REASON_NONE),
	    1);
	/* an intent: after the group, with what is held, told at once */
	guard_record_action(g, "t", "Deployment/shop/c", T0 + S);
	record(&r, T0 + S, "t", "c", REC_ACTED, REASON_NONE);
	CHECK_INT(audit_intend(a, &r), 0);
	CHECK_INT(tb.stored, AUDIT_GROUP_MAX + 1);
	CHECK_INT(tb.in_file, AUDIT_GROUP_MAX + 2);
	CHECK_INT(count_rows(p, "SELECT max(id) FROM decisions WHERE "
	    "outcome = 'intended'"), AUDIT_GROUP_MAX + 2);
	CHECK_INT(audit_write(a, &r), 1);
	rec_clear(&r);
	CHECK_INT(audit_flush(a), 0);
	CHECK_INT(tb.stored, AUDIT_GROUP_MAX + 2);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM state WHERE kind = "
	    "'cooldown' AND key LIKE '%shop/c'"), 1);
	/* many groups: each told only once in the file */
	for (i = 0; i < 5 * AUDIT_GROUP_MAX; i++) {
		write_one(a, T0 + 2 * S + i, "t", "d", REC_DRY_RUN,
		    REASON_NONE);
		CHECK(tb.in_file >= tb.stored);
	}
	CHECK_INT(audit_flush(a), 0);
	CHECK_INT(tb.stored, 6 * AUDIT_GROUP_MAX + 2);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM decisions"),
	    6 * AUDIT_GROUP_MAX + 2);
	/* a group the writer cannot write: told lost, kept, written later */
	exec_sql(p, "CREATE TRIGGER boom BEFORE INSERT ON decisions WHEN "
	    "NEW.trigger = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END");
	guard_record_action(g, "t", "Deployment/shop/e", T0 + 3 * S);
	for (i = 0; i < AUDIT_GROUP_MAX; i++)
		write_one(a, T0 + 3 * S + i, i == 1 ? "boom" : "t", "e",
		    REC_DRY_RUN, REASON_NONE);
	CHECK_INT(audit_flush(a), -1);
	CHECK_INT(tb.lost, AUDIT_GROUP_MAX);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM decisions"),
	    6 * AUDIT_GROUP_MAX + 2);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM state WHERE kind = "
	    "'cooldown' AND key LIKE '%shop/e'"), 0);
	exec_sql(p, "DROP TRIGGER boom");
	CHECK_INT(audit_sync(a), 0);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM decisions"),
	    7 * AUDIT_GROUP_MAX + 2);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM state WHERE kind = "
	    "'cooldown' AND key LIKE '%shop/e'"), 1);
	CHECK_INT(tb.stored, 6 * AUDIT_GROUP_MAX + 2);	/* not told again */
	audit_close(a);
	guard_state_free(g);
	rm_state(p);
	free(p);
}

/*
 * A process killed with a group held: the groups it stored are in the
 * file, the one it held is not, nor is its event's intake row removed, so
 * the event is decided again after the restart, whole.
 */
TEST(a_held_group_is_lost_whole_in_a_crash)
{
	char *p = tmpfile_path("groupcrash.db"), *err = NULL;
	struct audit *a = open_rw(p);
	int status, i;
	pid_t pid;

	if (a == NULL)
		return;
	audit_close(a);
	exec_sql(p, "INSERT INTO intake (id, received, event) VALUES "
	    "(5, 1, '{}'), (6, 1, '{}')");
	fflush(NULL);
	if ((pid = fork()) == 0) {
		struct guard_state *g = guard_state_new();

		if ((a = open_grouped(p)) == NULL ||
		    audit_attach_guard(a, g, &err) == -1)
			_exit(2);
		audit_event_begin(a, 5);
		if (write_one(a, T0, "t", "a", REC_DRY_RUN, REASON_NONE) != 1)
			_exit(3);
		audit_event_end(a);
		if (audit_flush(a) != 0)
			_exit(4);
		for (i = 0; i < 3; i++)
			if (write_one(a, T0 + S + i, "t", "b", REC_DRY_RUN,
			    REASON_NONE) != 1)
				_exit(5);
		guard_record_action(g, "t", "Deployment/shop/b", T0 + S);
		audit_event_begin(a, 6);
		if (write_one(a, T0 + 2 * S, "t", "b", REC_DRY_RUN,
		    REASON_NONE) != 1)
			_exit(6);
		audit_event_end(a);
		kill(getpid(), SIGKILL);	/* no flush, no close */
		_exit(7);
	}
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM decisions"), 1);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM intake"), 1);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM intake WHERE id = 6"),
	    1);
	CHECK_INT(count_rows(p, "SELECT count(*) FROM state WHERE kind = "
	    "'cooldown'"), 0);
	rm_state(p);
	free(p);
}

TEST(parse_retain)
{
	static const struct {
		const char	*in;
		int		 rc;
		int64_t		 age, count;
	} cases[] = {
		{ "30d", 0, 30 * 24 * 60 * MIN, 500000 },
		{ "12h", 0, 12 * 60 * MIN, 500000 },
		{ "500000", 0, 30 * 24 * 60 * MIN, 500000 },
		{ "7d,1000", 0, 7 * 24 * 60 * MIN, 1000 },
		{ "1000,7d", 0, 7 * 24 * 60 * MIN, 1000 },
		{ "0", 0, 0, 0 },
		{ "0d,0", 0, 0, 0 },
		{ "", -1, 0, 0 },
		{ "30x", -1, 0, 0 },
		{ "7d,8d", -1, 0, 0 },
		{ "-5", -1, 0, 0 },
		{ "d", -1, 0, 0 },
		{ "1,2", -1, 0, 0 },
	};
	struct audit_opts o;
	char *err;
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		audit_opts_defaults(&o);
		err = NULL;
		CHECK_INT(audit_parse_retain(cases[i].in, &o, &err),
		    cases[i].rc);
		if (cases[i].rc == 0) {
			CHECK_INT(o.retain_age, cases[i].age);
			CHECK_INT(o.retain_count, cases[i].count);
		} else
			CHECK(err != NULL);
		free(err);
	}
}

/* ---- kill -9 at random moments ------------------------------------------ */

struct told {
	long	 intended, written;	/* highest n told, -1 none */
	char	 line[64];		/* a line read in part */
	size_t	 len;
};

/* Takes in what the probe said; reads until EOF, or once if `once`. */
static void
read_told(int fd, struct told *t, int once)
{
	char buf[4096];
	ssize_t n;
	long v;
	int i;

	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (t->len < sizeof t->line - 1)
					t->line[t->len++] = buf[i];
				continue;
			}
			t->line[t->len] = '\0';
			t->len = 0;
			v = strtol(t->line + 2, NULL, 10);
			if (t->line[0] == 'I' && v > t->intended)
				t->intended = v;
			if (t->line[0] == 'W' && v > t->written)
				t->written = v;
		}
		if (once)
			return;
	}
}

/* Waits (at most 20 s) until the probe told of its first intent. */
static void
wait_first(int fd, struct told *t, long start)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	int i;

	for (i = 0; i < 200 && t->intended < start; i++)
		if (poll(&pfd, 1, 100) == 1)
			read_told(fd, t, 1);
}

struct bucket_probe {
	double	tokens;
};

static void
find_bucket(void *ctx, const char *kind, const char *key, json_t *v)
{
	if (strcmp(kind, "bucket") == 0 && strcmp(key, "t") == 0)
		((struct bucket_probe *)ctx)->tokens = json_number_value(
		    json_object_get(v, "tokens"));
}

/*
 * Checks the file after a kill of a probe that started at decision
 * `start`; returns the number of decisions in it.
 */
static long
check_after_kill(const char *path, long start, const struct told *t,
    int writer)
{
	struct guard_state *g = guard_state_new();
	struct bucket_probe b = { -1 };
	struct audit_filter f;
	struct guard_config c;
	char *err = NULL;
	struct audit *a = open_rw(path);
	json_t *got, *r;
	size_t i, unknown = 0;
	long rows;

	CHECK(a != NULL);
	if (a == NULL)
		return 0;
	probe_config(&c);
	CHECK(audit_attach_guard(a, g, &err) == 0);
	memset(&f, 0, sizeof f);
	got = query(a, &f);
	rows = (long)json_array_size(got);
	json_array_foreach(got, i, r) {
		char want[32];

		/* every row whole, in order, none twice */
		snprintf(want, sizeof want, "%zu", i);
		CHECK_STR(json_string_value(json_object_get(json_object_get(r,
		    "signal"), "id")), want);
		if ((long)i < start || !json_object_get(r, "outcome"))
			continue;	/* earlier rounds: checked then */
		unknown++;
		CHECK_INT((long)i, rows - 1);	/* only this round's last */
		CHECK((long)i > t->written);	/* not one told written */
	}
	CHECK(unknown <= 1);
	/* no promise broken: told intended or written -> in the file */
	CHECK(rows >= t->intended + 1);
	CHECK(rows >= t->written + 1);
	/* and no more than was given: one decision being written, or with
	   the writer thread the groups it may hold untold */
	CHECK(rows <= (t->intended > t->written ? t->intended :
	    t->written) + 2 + (writer ? 5 * AUDIT_GROUP_MAX : 0));
	json_decref(got);
	/* the state matches the records: one token per decision, no more */
	guard_state_journal(g, 1, find_bucket, &b);
	if (rows > 0) {
		CHECK(b.tokens == (double)(PROBE_TOKENS - rows));
		CHECK(guard_check_cooldown(g, &c, "t", "Deployment/ns/w",
		    PROBE_T0 + 1, msg, sizeof msg) == 0);
	}
	audit_close(a);
	guard_state_free(g);
	guard_config_clear(&c);
	free(err);
	return rows;
}

TEST(kill_9_at_random_moments)
{
	char *p = tmpfile_path("crash.db");
	unsigned seed = (unsigned)time(NULL);
	long start = 0, rounds = 25, k;
	struct told t;
	int fds[2], status;
	pid_t pid;

	printf("kill -9 test: seed %u\n", seed);
	srand(seed);
	for (k = 0; k < rounds; k++) {
		if (pipe(fds) == -1)
			return;
		fflush(NULL);
		if ((pid = fork()) == 0) {
			close(fds[0]);
			crash_probe_child(p, fds[1], start, (int)(k % 2),
			    (int)(k % 6 / 2));
			_exit(0);
		}
		close(fds[1]);
		memset(&t, 0, sizeof t);
		t.intended = t.written = start - 1;
		/*
		 * Even rounds: any moment from the fork on, startup included.
		 * Odd rounds: in the middle of deciding, however slow the
		 * machine (sanitizers, a loaded disk).
		 */
		if (k % 2)
			wait_first(fds[0], &t, start);
		usleep((useconds_t)(rand() % (k % 2 ? 30000 : 100000)));
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		if (!WIFSIGNALED(status))
			fprintf(stderr, "probe exited %d\n",
			    WEXITSTATUS(status));
		read_told(fds[0], &t, 0);
		close(fds[0]);
		start = check_after_kill(p, start, &t, k % 6 / 2 == 2);
	}
	CHECK(start >= rounds / 2);	/* one at least in each odd round */
	printf("kill -9 test: %ld rounds, %ld decisions survived\n", rounds,
	    start);
	rm_state(p);
	free(p);
}

/*
 * A decision's inputs: kept beside the record, given back only when asked
 * (history does not show them), cut to a marker above AUDIT_INPUTS_MAX,
 * absent for a record without any, and pruned with the record.
 */
TEST(inputs_kept_bounded_and_pruned)
{
	char *p = tmpfile_path("inputs.db"), *err = NULL, *big;
	struct rec_decision_record r;
	struct audit_opts o;
	struct audit_filter f;
	struct audit *a;
	json_t *got, *in, *small;

	audit_opts_defaults(&o);
	o.retain_count = 2;
	a = audit_open(p, &o, &err);
	REQUIRE(a != NULL);
	small = json_pack("{s:i, s:{s:s}, s:{s:{s:{s:s}}}}", "signal", 1,
	    "event", "source", "k8s", "reads", "objects", "Pod/shop/cart-1",
	    "kind", "Pod");
	record(&r, T0, "t", "cart", REC_ACTED, REASON_NONE);
	r.inputs = json_incref(small);
	CHECK_INT(audit_write(a, &r), 0);
	rec_clear(&r);
	/* one byte above the bound: kept as a marker naming its size */
	big = xmalloc(AUDIT_INPUTS_MAX + 1);
	memset(big, 'x', AUDIT_INPUTS_MAX);
	big[AUDIT_INPUTS_MAX] = '\0';
	record(&r, T0 + S, "t", "cart", REC_ACTED, REASON_NONE);
	r.inputs = json_pack("{s:i, s:s}", "signal", 2, "event", big);
	CHECK_INT(audit_write(a, &r), 0);
	rec_clear(&r);
	free(big);
	CHECK_INT(write_one(a, T0 + 2 * S, "t", "cart", REC_ACTED,
	    REASON_NONE), 0);

	memset(&f, 0, sizeof f);
	got = query(a, &f);
	CHECK(json_object_get(json_array_get(got, 0), "inputs") == NULL);
	json_decref(got);
	f.inputs = 1;
	got = query(a, &f);
	CHECK_INT(json_array_size(got), 3);
	CHECK(json_equal(json_object_get(json_array_get(got, 0), "inputs"),
	    small));
	in = json_object_get(json_array_get(got, 1), "inputs");
	CHECK(json_is_true(json_object_get(in, "truncated")));
	CHECK_INT(json_integer_value(json_object_get(in, "signal")), 2);
	CHECK(json_integer_value(json_object_get(in, "bytes")) >
	    AUDIT_INPUTS_MAX);
	CHECK(json_object_get(in, "event") == NULL);
	CHECK(json_object_get(json_array_get(got, 2), "inputs") == NULL);
	json_decref(got);

	/* pruned with the records: the first one's inputs are gone too */
	CHECK_INT(audit_prune(a, T0 + 3 * S), 1);
	got = query(a, &f);
	CHECK_INT(json_array_size(got), 2);
	CHECK(json_is_true(json_object_get(json_object_get(json_array_get(got,
	    0), "inputs"), "truncated")));
	json_decref(got);
	json_decref(small);
	audit_close(a);
	rm_state(p);
	free(p);
}

static int known_answers;

/* cluster_noted_text, its answers counted */
static const char *
count_known(void *ctx, const json_t *v, size_t *len)
{
	const char *t = cluster_noted_text(ctx, v, len);

	known_answers += t != NULL;
	return t;
}

static json_t *
owned(const char *kind, const char *name, const char *okind,
    const char *oname)
{
	json_t *o = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:{s:s}}}",
	    "apiVersion", strcmp(kind, "Pod") ? "apps/v1" : "v1", "kind", kind,
	    "metadata", "name", name, "namespace", "shop", "uid",
	    "0b5cf1c2-4f0e-4d6a-9a51-0d4c1b2e3f40", "labels", "app", "cart");

	if (okind)
		json_object_set_new(json_object_get(o, "metadata"),
		    "ownerReferences", json_pack("[{s:s, s:s, s:s, s:b}]",
		    "apiVersion", "apps/v1", "kind", okind, "name", oname,
		    "controller", 1));
	return o;
}

/*
 * With the view's texts (audit_opts.note_known), a decision's note is
 * stored as the very text jp_dump writes of it, its objects copied from
 * the view rather than walked: the Pod, its ReplicaSet and Deployment.
 */
TEST(inputs_written_from_the_views_texts)
{
	char *p = tmpfile_path("known.db"), *err = NULL, *want;
	struct cluster *c = cluster_new();
	struct rec_decision_record r;
	struct objref ref = { NULL, NULL, NULL };
	struct audit_opts o;
	struct audit *a;
	json_t *objs[3], *note, *reads = json_object();
	sqlite3 *db;
	sqlite3_stmt *st;
	size_t i;

	objs[0] = owned("Pod", "cart-7d-x1", "ReplicaSet", "cart-7d");
	json_object_set_new(objs[0], "status", json_pack("{s:s, s:[{s:s, "
	    "s:{s:{s:i, s:s}}}]}", "phase", "Running", "containerStatuses",
	    "name", "app", "lastState", "terminated", "exitCode", 137,
	    "reason", "OOMKilled"));
	objs[1] = owned("ReplicaSet", "cart-7d", "Deployment", "cart");
	objs[2] = owned("Deployment", "cart", NULL, NULL);
	for (i = 0; i < 3; i++)
		CHECK_INT(cluster_put(c, objs[i], NULL), 0);
	note = json_pack("{s:i, s:{s:s}, s:o}", "signal", 1, "event",
	    "source", "k8s", "reads", reads);
	cluster_record(c, reads);
	CHECK(cluster_top_controller(c, cluster_get(c, "Pod", "shop",
	    "cart-7d-x1"), &ref) != NULL);
	CHECK_INT(json_object_size(json_object_get(reads, "objects")), 3);

	audit_opts_defaults(&o);
	o.note_known = count_known;
	o.note_known_ctx = c;
	a = audit_open(p, &o, &err);
	REQUIRE(a != NULL);
	record(&r, T0, "t", "cart", REC_ACTED, REASON_NONE);
	r.inputs = json_incref(note);
	CHECK_INT(audit_write(a, &r), 0);
	rec_clear(&r);
	CHECK_INT(known_answers, 3);
	audit_close(a);

	want = jp_dump(note, 0);
	CHECK(sqlite3_open(p, &db) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(db, "SELECT inputs FROM decisions", -1, &st,
	    NULL) == SQLITE_OK);
	CHECK(sqlite3_step(st) == SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(st, 0), want);
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(want);
	cluster_record(c, NULL);
	for (i = 0; i < 3; i++)
		json_decref(objs[i]);
	json_decref(note);
	objref_clear(&ref);
	cluster_free(c);
	rm_state(p);
	free(p);
}

/* A connection's lock let go of after a while (the test's writer waits). */
static void *
commit_later(void *db)
{
	util_sleep_ms(200);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	return NULL;
}

static double
writer_waits(void)
{
	metrics_init();
	return metrics_get(metrics_family(METRICS_COUNTER,
	    "remediate_state_writer_wait_seconds_total", "", NULL, NULL, 0),
	    NULL);
}

/*
 * remediate_state_writer_wait_seconds_total: the time the caller waits for
 * a transaction the writer thread has in flight (here one held up by
 * another connection's lock) is counted, and a call that finds nothing in
 * flight adds nothing.
 */
TEST(waits_for_the_writer_thread_are_counted)
{
	char *p = tmpfile_path("wait.db");
	struct guard_state *g = guard_state_new();
	struct told_back tb = { p, 0, 0, 0 };
	struct audit *a;
	double before;
	pthread_t th;
	sqlite3 *db;
	int i;

	if ((a = open_told(p, g, &tb)) == NULL)
		return;
	before = writer_waits();
	CHECK_INT(audit_flush(a), 0);		/* nothing in flight */
	CHECK(writer_waits() == before);
	REQUIRE(sqlite3_open(p, &db) == SQLITE_OK);
	REQUIRE(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL) ==
	    SQLITE_OK);
	/* the 64th hands the group over; the writer waits for the lock */
	for (i = 0; i < AUDIT_GROUP_MAX; i++)
		CHECK_INT(write_one(a, T0 + i, "t", "a", REC_DRY_RUN,
		    REASON_NONE), 1);
	REQUIRE(pthread_create(&th, NULL, commit_later, db) == 0);
	CHECK_INT(audit_flush(a), 0);		/* waits for it */
	pthread_join(th, NULL);
	sqlite3_close(db);
	CHECK_INT(tb.stored, AUDIT_GROUP_MAX);
	CHECK(writer_waits() > before);
	before = writer_waits();
	CHECK_INT(audit_flush(a), 0);
	CHECK(writer_waits() == before);
	audit_close(a);
	guard_state_free(g);
	rm_state(p);
	free(p);
}

/* ---- the prometheus sources' edges -------------------------------------- */

/*
 * Run against the file, then against PostgreSQL when REMEDIATE_TEST_PG
 * holds a URL (tests/e2e/test_state_postgres.py runs this binary so, on
 * a database of its own; `make unit` starts nothing).
 */
static const char *edge_target;

#define EDGE_SOURCE(cond) "apiVersion: argoproj.io/v1alpha1\n" \
	"kind: EventSource\nmetadata: {name: slo, namespace: argo-events}\n" \
	"spec:\n  prometheus:\n    burn:\n      query: burn_rate\n" \
	"      url: http://127.0.0.1:9/\n      condition: \"" cond "\"\n" \
	"      repeat: 10m\n"

/* One process's worth: the store, its edges, a set bound to them. */
struct edge_proc {
	struct audit		*a;
	struct sched_edges	*e;
	struct sched_set	*set;
	struct mdoc		**docs;
	size_t			 ndocs;
	char			 fired[64];	/* slo labels, in
						   order */
};

static struct edge_proc *
edge_start(const char *yaml, int64_t now)
{
	struct edge_proc *p = xcalloc(1, sizeof *p);
	struct audit_opts o;
	struct diags d;
	char *err = NULL;
	size_t i;

	audit_opts_defaults(&o);
	p->a = audit_open(edge_target, &o, &err);
	if (p->a == NULL)
		fprintf(stderr, "open %s: %s\n", edge_target, err);
	free(err);
	err = NULL;
	p->e = sched_edges_new();
	if (p->a && audit_attach_edges(p->a, p->e, &err) == -1) {
		fprintf(stderr, "attach: %s\n", err);
		audit_close(p->a);
		p->a = NULL;
	}
	free(err);
	p->set = sched_set_new();
	diag_init(&d);
	if (conf_parse_text("es.yaml", yaml, strlen(yaml), &p->docs,
	    &p->ndocs, &d) == 0)
		for (i = 0; i < p->ndocs; i++)
			sched_set_add(p->set, p->docs[i], NULL, &d);
	CHECK_INT(d.errors, 0);
	diag_free(&d);
	sched_set_start(p->set, now);
	sched_set_recall(p->set, p->e);
	return p;
}

/* Ends a process as a clean stop does (audit_close writes the journal). */
static void
edge_stop(struct edge_proc *p)
{
	size_t i;

	audit_close(p->a);
	sched_set_free(p->set);
	sched_edges_free(p->e);
	for (i = 0; i < p->ndocs; i++)
		mdoc_free(p->docs[i]);
	free(p->docs);
	free(p);
}

static void
edge_took(void *ctx, struct event *ev)
{
	struct edge_proc *p = ctx;
	const char *slo = json_string_value(json_object_get(json_object_get(
	    json_object_get(ev->data, "body"), "metric"), "slo"));
	size_t n = strlen(p->fired);

	if (slo && n + 1 < sizeof p->fired) {
		p->fired[n] = slo[0];
		p->fired[n + 1] = '\0';
	}
}

/* Feeds the source an answer: "a=2,b=0.5" as a vector, at now. */
static const char *
edge_feed(struct edge_proc *p, const char *series, int64_t now)
{
	struct buf b;
	struct prom_result r;
	char *err = NULL, *text, name[16];
	const char *s = series;
	double v;
	int k;
	size_t i;

	buf_init(&b, 0);
	buf_adds(&b, "{\"status\":\"success\",\"data\":{\"resultType\":"
	    "\"vector\",\"result\":[");
	while (*s && sscanf(s, "%15[^=]=%lf%n", name, &v, &k) == 2) {
		buf_printf(&b, "%s{\"metric\":{\"slo\":\"%s\"},\"value\":[0,"
		    "\"%g\"]}", s == series ? "" : ",", name, v);
		s += k;
		s += *s == ',';
	}
	buf_adds(&b, "]}}");
	text = buf_steal(&b);
	p->fired[0] = '\0';
	if (prom_parse(text, strlen(text), 200, &r, &err) == 0) {
		for (i = 0; i < r.n; i++)
			r.v[i].time = now;
		sched_prom_feed(sched_set_get(p->set, 0), &r, now, edge_took,
		    p);
		prom_result_clear(&r);
	} else
		fprintf(stderr, "answer: %s\n", err);
	free(err);
	free(text);
	return p->fired;
}

/* A connection of its own to the store, or NULL (said why). */
static struct sqldb *
edge_db(void)
{
	struct sqldb *db;
	char *err = NULL;

	if ((db = sqldb_open(edge_target, 0, &err)) == NULL)
		fprintf(stderr, "open %s: %s\n", edge_target, err);
	free(err);
	return db;
}

/* Edge rows in the store (-1: cannot read them). */
static int
edge_rows(const char *where)
{
	struct sqldb *db;
	char *sql;
	int64_t n = -1;

	if ((db = edge_db()) == NULL)
		return -1;
	sql = xasprintf("SELECT count(*) FROM state WHERE kind = 'edge'%s%s",
	    where ? " AND " : "", where ? where : "");
	if (sqldb_query_int(db, sql, &n) == -1)
		fprintf(stderr, "count: %s\n", sqldb_errmsg(db));
	free(sql);
	sqldb_close(db);
	return (int)n;
}

static void
edge_exec(const char *sql)
{
	struct sqldb *db;

	if ((db = edge_db()) == NULL)
		return;
	if (sqldb_exec(db, sql) == -1)
		fprintf(stderr, "%s: %s\n", sql, sqldb_errmsg(db));
	sqldb_close(db);
}

/*
 * A series that fired is still over the line in the next process (a
 * restart; a new leader opens the same store): no second event, until
 * its repeat comes, counted from the stored emission.  A re-armed series
 * and a new one fire.  Each change is one row written or deleted; an
 * evaluation that changes nothing marks nothing.  A changed source
 * inherits nothing and its rows go; a row that does not read is dropped
 * (its series fires: a duplicate the cooldown guards, not a missed
 * remediation) and deleted.
 */
TEST(prometheus_edges_survive_a_restart)
{
	struct edge_proc *p;
	int64_t m = MIN;

	if (!sqldb_is_postgres(edge_target))
		rm_state(edge_target);
	else
		edge_exec("DELETE FROM state WHERE kind = 'edge'");
	p = edge_start(EDGE_SOURCE("> 1"), T0);
	REQUIRE(p->a != NULL);
	CHECK_STR(edge_feed(p, "a=2,b=0.5", T0), "a");
	CHECK_INT(audit_sync(p->a), 0);
	CHECK_INT(edge_rows(NULL), 1);
	/* still over the line: nothing fires, nothing to write */
	CHECK_STR(edge_feed(p, "a=3,b=0.5", T0 + m), "");
	CHECK_INT((int)sched_edges_marked(p->e), 0);
	edge_stop(p);

	/* the next process, 2 minutes on */
	p = edge_start(EDGE_SOURCE("> 1"), T0 + 2 * m);
	REQUIRE(p->a != NULL);
	CHECK_INT((int)sched_edges_count(p->e), 1);
	CHECK_STR(edge_feed(p, "a=2,b=0.5", T0 + 2 * m), "");
	CHECK_STR(edge_feed(p, "a=2,b=0.5", T0 + 9 * m), "");
	CHECK_INT((int)sched_edges_marked(p->e), 0);
	/* the repeat, 10m after the first process emitted */
	CHECK_STR(edge_feed(p, "a=2,b=0.5", T0 + 10 * m), "a");
	CHECK_STR(edge_feed(p, "a=2,b=2", T0 + 11 * m), "b");
	CHECK_INT(audit_sync(p->a), 0);
	CHECK_INT(edge_rows(NULL), 2);
	/* b re-arms (below), a vanishes: both rows go */
	CHECK_STR(edge_feed(p, "b=0.5", T0 + 12 * m), "");
	CHECK_INT(audit_sync(p->a), 0);
	CHECK_INT(edge_rows(NULL), 0);
	CHECK_STR(edge_feed(p, "a=2,b=2", T0 + 13 * m), "ab");
	edge_stop(p);		/* the clean stop writes the journal */
	CHECK_INT(edge_rows(NULL), 2);

	/* the source changed: it starts afresh, the old rows go */
	p = edge_start(EDGE_SOURCE("> 1.5"), T0 + 14 * m);
	REQUIRE(p->a != NULL);
	CHECK_INT((int)sched_edges_count(p->e), 0);
	CHECK_INT(audit_sync(p->a), 0);
	CHECK_INT(edge_rows(NULL), 0);
	CHECK_STR(edge_feed(p, "a=2", T0 + 14 * m), "a");
	edge_stop(p);
	CHECK_INT(edge_rows(NULL), 1);

	/* a row that does not read: no error, dropped, deleted, fires */
	edge_exec("UPDATE state SET value = '{\"last\":\"torn' WHERE kind = "
	    "'edge'");
	p = edge_start(EDGE_SOURCE("> 1.5"), T0 + 15 * m);
	REQUIRE(p->a != NULL);
	CHECK_INT((int)sched_edges_count(p->e), 0);
	CHECK_INT(audit_sync(p->a), 0);
	CHECK_INT(edge_rows(NULL), 0);
	CHECK_STR(edge_feed(p, "a=2", T0 + 15 * m), "a");
	edge_stop(p);
	CHECK_INT(edge_rows("value LIKE '%\"last\":%'"), 1);
	if (!sqldb_is_postgres(edge_target))
		rm_state(edge_target);
}

/* ---- the signal ids the webhook ingress remembers ----------------------- */

static const char *ids_target;

static void
collect_id(void *ctx, const char *id)
{
	json_array_append_new(ctx, json_string(id));
}

/* audit_signal_ids(cluster, max) joined by commas (owned). */
static char *
signal_ids(struct audit *a, const char *cluster, long max)
{
	json_t *v = json_array(), *x;
	struct buf b;
	char *err = NULL;
	size_t i;

	buf_init(&b, 0);
	if (audit_signal_ids(a, cluster, max, collect_id, v, &err) == -1) {
		fprintf(stderr, "signal ids: %s\n", err);
		free(err);
	}
	json_array_foreach(v, i, x)
		buf_printf(&b, "%s%s", i ? "," : "", json_string_value(x));
	json_decref(v);
	return buf_steal(&b);
}

/*
 * Newest by id (the order they were stored), not by the records' time;
 * one cluster's; a record that does not read passed over.  On a shared
 * PostgreSQL only this test's clusters are asked.
 */
TEST(signal_ids_are_the_newest_records_by_id)
{
	struct audit *a = NULL;
	struct rec_decision_record r;
	struct audit_opts o;
	char id[16], *got, *err = NULL;
	int i;

	audit_opts_defaults(&o);
	a = audit_open(ids_target, &o, &err);
	if (a == NULL) {
		fprintf(stderr, "open %s: %s\n", ids_target, err);
		free(err);
		CHECK(0);
		return;
	}
	for (i = 0; i < 1100; i++) {
		/* later rows, earlier times: the time index would mislead */
		record(&r, T0 - i * 1000, "bump", "cart", REC_ACTED,
		    REASON_NONE);
		snprintf(id, sizeof id, "s%d", i);
		r.event_id = i == 1091 ? NULL : id;
		r.cluster = i % 2 ? "ids-b" : "ids-a";
		CHECK_INT(audit_write(a, &r), 0);
		rec_clear(&r);
	}
	got = signal_ids(a, "ids-a", 4);
	CHECK_STR(got, "s1098,s1096,s1094,s1092");
	free(got);
	/* past the first page of 512 rows; every one of the cluster's */
	got = signal_ids(a, "ids-a", 2000);
	CHECK(strncmp(got, "s1098,", 6) == 0);
	CHECK(strlen(got) > 6 && strcmp(got + strlen(got) - 6, ",s2,s0")
	    == 0);
	/* 550 ids: s0-s8, s10-s98, s100-s998, s1000-s1098, 549 commas */
	CHECK_INT((long long)strlen(got), 5 * 2 + 45 * 3 + 450 * 4 + 50 * 5 +
	    549);
	free(got);
	/* no signal id (1091): passed over */
	got = signal_ids(a, "ids-b", 3);
	CHECK_STR(got, "s1099,s1097,s1095");
	free(got);
	got = signal_ids(a, "ids-b", 6);
	CHECK_STR(got, "s1099,s1097,s1095,s1093,s1089,s1087");
	free(got);
	if (!sqldb_is_postgres(ids_target)) {
		/* one record cut: passed over, the next one given */
		audit_close(a);
		exec_sql(ids_target, "UPDATE decisions SET record = '{' "
		    "WHERE record LIKE '%\"s1099\"%'");
		a = audit_open(ids_target, &o, &err);
		REQUIRE(a != NULL);
		got = signal_ids(a, "ids-b", 2);
		CHECK_STR(got, "s1097,s1095");
		free(got);
		got = signal_ids(a, NULL, 3);		/* every cluster */
		CHECK_STR(got, "s1098,s1097,s1096");
		free(got);
	}
	audit_close(a);
}

/* ---- the records of pull requests, read at a start ----------------------- */

static const char *prs_target;

/* A record of cluster (NULL: none named) with pullRequest {branch} when
   branch is not NULL, and message as its text. */
static void
write_request(struct audit *a, int64_t t, const char *cluster,
    enum rec_decision d, const char *branch, char *message)
{
	struct rec_decision_record r;

	record(&r, t, "bump", "cart", d, d == REC_SUPPRESSED ?
	    REASON_RATE_LIMITED : REASON_NONE);
	r.cluster = cluster;
	r.message = message;
	if (branch)
		r.extra = json_pack("{s:{s:s}}", "pullRequest", "branch",
		    branch);
	CHECK_INT(audit_write(a, &r), 0);
	r.message = NULL;
	rec_clear(&r);
}

/* The records' pull-request branches, joined by commas (static). */
static const char *
branches(json_t *records)
{
	static char out[256];
	struct buf b;
	json_t *r;
	size_t i;

	buf_init_on(&b, out, sizeof out);
	json_array_foreach(records, i, r)
		buf_printf(&b, "%s%s", i ? "," : "", json_string_value(
		    json_object_get(json_object_get(r, "pullRequest"),
		    "branch")));
	return out;
}

/* Has the state the index called name? */
static int
has_index(const char *target, const char *name)
{
	char *q;
	long long n;

	if (sqldb_is_postgres(target))
		return 1;	/* asked of SQLite's catalogue only */
	q = xasprintf("SELECT count(*) FROM sqlite_schema WHERE type = "
	    "'index' AND name = '%s'", name);
	n = count_rows(target, q);
	free(q);
	return n == 1;
}

/*
 * A start follows the pull requests still open (daemon_prs_seed): it
 * reads their records alone, through the index every writer's open
 * makes.  In a PostgreSQL database clusters share, its own cluster's
 * (and no cluster's, before schema 5), never another cluster's, which
 * that cluster follows; a SQLite file has one writer, which follows
 * every request in it.  On a shared PostgreSQL only this test's clusters
 * are written.
 */
TEST(pull_request_records_are_the_clusters_own_through_their_index)
{
	struct audit_filter f;
	struct audit_opts o;
	struct audit *a;
	char *err = NULL, text[] = "mentions \"pullRequest\" in passing";
	json_t *got;
	size_t i;
	int64_t t = T0;
	int shared;

	audit_opts_defaults(&o);
	o.cluster = "prs-a";
	shared = sqldb_is_postgres(prs_target);
	if ((a = audit_open(prs_target, &o, &err)) == NULL) {
		fprintf(stderr, "open %s: %s\n", prs_target, err);
		free(err);
		CHECK(0);
		return;
	}
	for (i = 0; i < 600; i++)	/* past a page: rows to pass over */
		write_request(a, t++, "prs-a", REC_SUPPRESSED, NULL, NULL);
	write_request(a, t++, "prs-a", REC_PENDING_APPROVAL, "b1", NULL);
	write_request(a, t++, "prs-b", REC_PENDING_APPROVAL, "b3", NULL);
	write_request(a, t++, "prs-a", REC_SUPPRESSED, NULL, text);
	write_request(a, t++, "prs-a", REC_ACTED, NULL, NULL);
	write_request(a, t++, NULL, REC_PENDING_APPROVAL, "b0", NULL);
	write_request(a, t++, "prs-a", REC_FAILED, "b2", NULL);
	write_request(a, t++, "prs-a", REC_PENDING_APPROVAL, "b2", NULL);
	write_request(a, t++, "prs-b", REC_ACTED, "b3", NULL);
	for (i = 0; i < 600; i++)
		write_request(a, t++, "prs-a", REC_SUPPRESSED, NULL, NULL);
	write_request(a, t++, "prs-a", REC_ACTED, "b1", NULL);
	write_request(a, t++, "prs-a", REC_DECLINED, "b2", NULL);
	write_request(a, t++, "prs-a", REC_EXPIRED, "b4", NULL);
	memset(&f, 0, sizeof f);
	f.pull_requests = 1;
	got = query(a, &f);
	CHECK_STR(branches(got), shared ? "b1,b0,b2,b1,b2,b4" :
	    "b1,b3,b0,b2,b3,b1,b2,b4");
	CHECK_STR(field(got, 0, "decision"), "pending-approval");
	CHECK_STR(field(got, json_array_size(got) - 3, "decision"), "acted");
	CHECK_STR(field(got, json_array_size(got) - 2, "decision"),
	    "declined");
	CHECK_STR(field(got, json_array_size(got) - 1, "decision"),
	    "expired");
	json_decref(got);
	audit_close(a);
	/* prs-b reads its own (b3 opened, b0, b3 merged); from a SQLite
	   file, which one writer holds, every one */
	o.cluster = "prs-b";
	REQUIRE((a = audit_open(prs_target, &o, &err)) != NULL);
	got = query(a, &f);
	CHECK_STR(branches(got), shared ? "b3,b0,b3" :
	    "b1,b3,b0,b2,b3,b1,b2,b4");
	json_decref(got);
	audit_close(a);
	CHECK(has_index(prs_target, "decisions_requests"));
	CHECK(has_index(prs_target, "decisions_intended"));
	if (!shared) {
		/* a file from before them gets them at a writer's open */
		exec_sql(prs_target, "DROP INDEX decisions_requests; DROP "
		    "INDEX decisions_intended");
		CHECK(!has_index(prs_target, "decisions_requests"));
		REQUIRE((a = audit_open(prs_target, &o, &err)) != NULL);
		got = query(a, &f);
		CHECK_INT(json_array_size(got), 8);
		json_decref(got);
		audit_close(a);
		CHECK(has_index(prs_target, "decisions_requests"));
		CHECK(has_index(prs_target, "decisions_intended"));
	}
	free(err);
}

int
main(void)
{
	const char *pg = getenv("REMEDIATE_TEST_PG");
	char *file;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	RUN(new_file_schema_and_reopen);
	RUN(refuses_other_files_and_newer_schemas);
	RUN(migrates_v1_forward);
	RUN(one_writer_many_readers);
	RUN(query_filters);
	RUN(query_reads_past_its_pages);
	RUN(query_by_cluster);
	RUN(guard_state_survives_a_restart);
	RUN(state_rows_are_the_writers_cluster);
	RUN(intent_without_outcome);
	RUN(intents_interleaved_with_other_records);
	RUN(prune_by_count_and_age);
	RUN(file_size_is_bounded);
	RUN(pages_state_survives_a_restart);
	RUN(failed_write_is_kept_and_retried);
	RUN(an_event_and_its_records_are_one_transaction);
	RUN(an_event_whose_records_the_full_backlog_drops_stays_undecided);
	RUN(a_group_is_stored_whole_or_not_at_all);
	RUN(a_held_group_is_lost_whole_in_a_crash);
	RUN(the_writer_thread_tells_only_what_is_committed);
	RUN(parse_retain);
	RUN(inputs_kept_bounded_and_pruned);
	RUN(inputs_written_from_the_views_texts);
	RUN(waits_for_the_writer_thread_are_counted);
	RUN(damaged_guard_rows_refuse_or_count_restrictive);
	RUN(damaged_file_refused_or_recovered);
	RUN(kill_9_at_random_moments);
	file = tmpfile_path("unknown-clusters.db");
	unknown_target = file;
	RUN(unknown_outcomes_are_each_clusters_own);
	rm_state(file);
	free(file);
	if (pg && *pg) {
		fprintf(stderr, "unknown outcomes: postgres\n");
		unknown_target = pg;
		RUN(unknown_outcomes_are_each_clusters_own);
	}
	file = tmpfile_path("edges.db");
	edge_target = file;
	RUN(prometheus_edges_survive_a_restart);
	if (pg && *pg) {
		fprintf(stderr, "edges: postgres\n");
		edge_target = pg;
		RUN(prometheus_edges_survive_a_restart);
	}
	free(file);
	file = tmpfile_path("ids.db");
	ids_target = file;
	RUN(signal_ids_are_the_newest_records_by_id);
	rm_state(file);
	free(file);
	if (pg && *pg) {
		fprintf(stderr, "signal ids: postgres\n");
		ids_target = pg;
		RUN(signal_ids_are_the_newest_records_by_id);
	}
	file = tmpfile_path("prs.db");
	prs_target = file;
	RUN(pull_request_records_are_the_clusters_own_through_their_index);
	rm_state(file);
	free(file);
	if (pg && *pg) {
		fprintf(stderr, "pull requests: postgres\n");
		prs_target = pg;
		RUN(pull_request_records_are_the_clusters_own_through_their_index);
	}
	rmdir(dir);
	metrics_shutdown();
	return harness_done();
}
