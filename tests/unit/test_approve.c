/*
 * approve: the key (environment, file, generated once and kept), HMAC
 * signatures (verify, tamper, another id or expiry), the store (issue,
 * lookup, redeem once, expiry, durability across reopen, concurrent
 * redeems with one winner, another program's file refused) and the
 * /approve/ID pages over a real loopback server (GET never approves, POST
 * approves once, 403/404/405/410, HTML escaping, JSON for clients), plus
 * the client `remediate approve` uses.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "approve/approve.h"
#include "harness.h"

static char tmpdir[64];

#define NOW	1773481200000LL	/* 2026-03-14T09:40:00Z */

static char *
tmp(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static void
test_key(struct approve_key *k)
{
	char *err = NULL;

	setenv(APPROVE_KEY_ENV, "0123456789abcdef0123456789abcdef-test", 1);
	CHECK(approve_key_load(NULL, NULL, k, &err) == 0);
	unsetenv(APPROVE_KEY_ENV);
	free(err);
}

static json_t *
pending_record(const char *trigger)
{
	return json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:s, s:{s:s, "
	    "s:s, s:s}}", "time", "2026-03-14T09:40:00Z", "sensor",
	    "argo-events/oom", "trigger", trigger, "target", "kind",
	    "Deployment", "namespace", "shop", "name", "checkout", "decision",
	    "pending-approval", "plan", "type", "remediate", "action",
	    "bumpMemory", "summary", "raise memory of container app");
}

/* ---- key and signatures ------------------------------------------------- */

TEST(key_from_env_file_or_generated_once)
{
	struct approve_key a, b;
	char *err = NULL, *state = tmp("state.db"), *kf, *path;
	struct stat st;
	FILE *f;

	unsetenv(APPROVE_KEY_ENV);
	unsetenv(APPROVE_KEY_FILE_ENV);
	CHECK(approve_key_load(NULL, state, &a, &err) == 0);
	path = xasprintf("%s.approval-key", state);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK_INT(a.len, 64);	/* 32 random bytes, hex */
	/* the same key after a restart */
	CHECK(approve_key_load(NULL, state, &b, &err) == 0);
	CHECK(a.len == b.len && memcmp(a.k, b.k, a.len) == 0);
	/* an explicit file wins over the generated one */
	kf = tmp("key");
	f = fopen(kf, "w");
	fputs("another-key-of-at-least-thirty-two-bytes\n", f);
	fclose(f);
	CHECK(approve_key_load(kf, state, &b, &err) == 0);
	CHECK_INT(b.len, 40);
	CHECK(memcmp(b.k, "another-key", 11) == 0);
	/* the environment wins over both; too short is refused */
	setenv(APPROVE_KEY_ENV, "short", 1);
	CHECK(approve_key_load(kf, state, &b, &err) == -1);
	CHECK_STR(err, "the approval key from environment variable "
	    "REMEDIATE_APPROVAL_KEY has 5 bytes; it needs 32 to 256");
	free(err);
	unsetenv(APPROVE_KEY_ENV);
	CHECK(approve_key_load(NULL, NULL, &b, &err) == -1);
	free(err);
	free(kf);
	free(path);
	free(state);
}

TEST(signatures_bind_id_and_expiry)
{
	struct approve_key k, other;
	char sig[APPROVE_SIG_LEN + 1], bad[APPROVE_SIG_LEN + 1];
	const char *id = "00112233445566778899aabbccddeeff";
	char *err = NULL;
	size_t i;

	test_key(&k);
	setenv(APPROVE_KEY_ENV, "a-different-key-of-thirty-two-bytes!!", 1);
	CHECK(approve_key_load(NULL, NULL, &other, &err) == 0);
	unsetenv(APPROVE_KEY_ENV);
	approve_sign(&k, id, NOW, sig);
	CHECK_INT(strlen(sig), 64);
	CHECK(approve_verify(&k, id, NOW, sig));
	/* deterministic, case-insensitive hex */
	approve_sign(&k, id, NOW, bad);
	CHECK_STR(bad, sig);
	for (i = 0; i < APPROVE_SIG_LEN; i++)
		bad[i] = (char)(sig[i] >= 'a' ? sig[i] - 32 : sig[i]);
	CHECK(approve_verify(&k, id, NOW, bad));
	/* each part matters */
	CHECK(!approve_verify(&k, id, NOW + 1, sig));
	CHECK(!approve_verify(&k, "00112233445566778899aabbccddeefe", NOW,
	    sig));
	CHECK(!approve_verify(&other, id, NOW, sig));
	memcpy(bad, sig, sizeof bad);
	bad[10] = bad[10] == '0' ? '1' : '0';
	CHECK(!approve_verify(&k, id, NOW, bad));
	bad[10] = '\0';
	CHECK(!approve_verify(&k, id, NOW, bad));
	CHECK(!approve_verify(&k, id, NOW, NULL));
}

/* ---- the store ----------------------------------------------------------- */

static struct approve_store *
open_store(const char *name, const char *base)
{
	struct approve_key k;
	char *err = NULL, *path = tmp(name);
	struct approve_store *s;

	test_key(&k);
	s = approve_store_open(path, &k, base, 0, &err);
	if (s == NULL)
		fprintf(stderr, "open: %s\n", err);
	free(err);
	free(path);
	return s;
}

/*
 * The engine's input travels with the approval but apart from the record
 * people see; a table from before input existed gains the column.
 */
TEST(input_kept_apart_and_old_tables_upgraded)
{
	char *path = tmp("old.db"), *err = NULL;
	struct approve_store *s;
	struct approve_ticket t;
	struct approve_pending p;
	json_t *rec = pending_record("bump"), *in = json_pack("{s:s, s:i}",
	    "trigger", "bump", "hash", 7);
	sqlite3 *db;

	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "PRAGMA application_id = 1380273476; CREATE "
	    "TABLE approvals (id TEXT PRIMARY KEY, created INTEGER NOT NULL, "
	    "expires INTEGER NOT NULL, state TEXT NOT NULL, record TEXT NOT "
	    "NULL, url TEXT, decided INTEGER, outcome TEXT); INSERT INTO "
	    "approvals VALUES ('00112233445566778899aabbccddeeff', 1, 2, "
	    "'pending', '{}', NULL, NULL, NULL)", NULL, NULL, NULL) ==
	    SQLITE_OK);
	sqlite3_close(db);
	/* the CLI reads it as it is: no column, input NULL, no change */
	{
		struct approve_key k;

		test_key(&k);
		s = approve_store_open(path, &k, NULL, 1, &err);
		CHECK(s != NULL);
		CHECK_INT(approve_lookup(s, "00112233445566778899aabbccddeeff",
		    NULL, &p, &err), APPROVE_OK);
		CHECK(p.input == NULL && p.state == APPROVE_PENDING);
		approve_pending_clear(&p);
		CHECK_INT(approve_list(s, 1, 0, NULL, NULL, &err), 1);
		approve_store_close(s);
	}
	free(path);
	s = open_store("old.db", NULL);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK_INT(approve_lookup(s, "00112233445566778899aabbccddeeff", NULL,
	    &p, &err), APPROVE_OK);
	CHECK(p.input == NULL);		/* the old row: no input */
	approve_pending_clear(&p);
	CHECK(approve_issue(s, rec, in, NOW, 0, &t, &err) == 0);
	CHECK_INT(approve_lookup(s, t.id, t.sig, &p, &err), APPROVE_OK);
	CHECK(json_equal(p.input, in));
	CHECK(json_equal(p.record, rec));
	CHECK(json_object_get(p.record, "hash") == NULL);
	approve_pending_clear(&p);
	approve_ticket_clear(&t);
	approve_store_close(s);
	json_decref(rec);
	json_decref(in);
}

struct opener {
	const char		*name;
	struct approve_store	*s;
};

static void *
open_in_thread(void *arg)
{
	struct opener *o = arg;

	o->s = open_store(o->name, NULL);
	return NULL;
}

/*
 * Replicas sharing a state file start together: while one holds the write
 * lock upgrading an old table (adding cluster), another opening the store
 * must look at the table only once it has the lock.  Looking before, it
 * saw no column, added it after the first had, and refused to start
 * ("duplicate column name: cluster": a replica down in CI).
 */
TEST(a_store_opening_while_another_upgrades_the_table_starts)
{
	char *path = tmp("upgrade-race.db");
	struct opener o = { "upgrade-race.db", NULL };
	pthread_t th;
	sqlite3 *db;

	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "PRAGMA application_id = 1380273476; "
	    "PRAGMA journal_mode = WAL; CREATE TABLE approvals (id TEXT "
	    "PRIMARY KEY, created INTEGER NOT NULL, expires INTEGER NOT NULL, "
	    "state TEXT NOT NULL, record TEXT NOT NULL, url TEXT, decided "
	    "INTEGER, outcome TEXT, input TEXT); CREATE INDEX approvals_pending "
	    "ON approvals (state, expires); BEGIN IMMEDIATE", NULL, NULL,
	    NULL) == SQLITE_OK);
	pthread_create(&th, NULL, open_in_thread, &o);
	/* the opener reaches the lock we hold (its busy timeout waits) */
	usleep(300 * 1000);
	CHECK(sqlite3_exec(db, "ALTER TABLE approvals ADD COLUMN cluster "
	    "TEXT; COMMIT", NULL, NULL, NULL) == SQLITE_OK);
	pthread_join(th, NULL);
	CHECK(o.s != NULL);
	approve_store_close(o.s);
	sqlite3_close(db);
	free(path);
}

TEST(issue_redeem_once)
{
	struct approve_store *s = open_store("a.db", "https://r.example/");
	json_t *rec = pending_record("bump");
	struct approve_ticket t;
	struct approve_pending p;
	char *err = NULL, *want;

	CHECK(approve_issue(s, rec, NULL, NOW, 0, &t, &err) == 0);
	CHECK_INT(strlen(t.id), 32);
	CHECK_INT(t.expires, NOW + APPROVE_TTL_MS);
	want = xasprintf("https://r.example/approve/%s?sig=%s", t.id, t.sig);
	CHECK_STR(t.url, want);
	free(want);
	/* a wrong signature changes nothing */
	CHECK_INT(approve_redeem(s, t.id, "0000", NOW + 1, &p, &err),
	    APPROVE_BAD_SIGNATURE);
	CHECK_INT(approve_lookup(s, t.id, t.sig, &p, &err), APPROVE_OK);
	CHECK_INT(p.state, APPROVE_PENDING);
	CHECK(json_equal(p.record, rec));
	approve_pending_clear(&p);
	/* the first redeem wins, the second is told */
	CHECK_INT(approve_redeem(s, t.id, t.sig, NOW + 1000, &p, &err),
	    APPROVE_OK);
	CHECK_INT(p.state, APPROVE_USED);
	CHECK(json_equal(p.record, rec));
	approve_pending_clear(&p);
	CHECK_INT(approve_redeem(s, t.id, t.sig, NOW + 2000, &p, &err),
	    APPROVE_GONE_USED);
	approve_pending_clear(&p);
	CHECK_INT(approve_redeem(s, "ffffffffffffffffffffffffffffffff",
	    t.sig, NOW, &p, &err), APPROVE_NOT_FOUND);
	CHECK_INT(approve_redeem(s, "../etc", t.sig, NOW, &p, &err),
	    APPROVE_NOT_FOUND);
	approve_ticket_clear(&t);
	json_decref(rec);
	approve_store_close(s);
}

static int expired_seen;

static void
on_expired(void *ctx, const struct approve_pending *p)
{
	(void)ctx;
	CHECK_INT(p->state, APPROVE_EXPIRED);
	CHECK_STR(json_string_value(json_object_get(p->record, "trigger")),
	    "late");
	expired_seen++;
}

TEST(expiry)
{
	struct approve_store *s = open_store("b.db", NULL);
	json_t *rec = pending_record("late");
	struct approve_ticket t, u;
	struct approve_pending p;
	char *err = NULL;

	CHECK(approve_issue(s, rec, NULL, NOW, 60000, &t, &err) == 0);
	CHECK(strncmp(t.url, "/approve/", 9) == 0);	/* no base URL */
	CHECK(approve_issue(s, rec, NULL, NOW, 0, &u, &err) == 0);
	/* a redeem at the expiry instant is too late, and marks it */
	CHECK_INT(approve_redeem(s, t.id, t.sig, NOW + 60000, &p, &err),
	    APPROVE_GONE_EXPIRED);
	approve_pending_clear(&p);
	CHECK_INT(approve_lookup(s, t.id, NULL, &p, &err), APPROVE_OK);
	CHECK_INT(p.state, APPROVE_EXPIRED);
	approve_pending_clear(&p);
	/* the sweeper hands back each expired one exactly once */
	expired_seen = 0;
	CHECK_INT(approve_expire(s, NOW + 30000, on_expired, NULL, &err), 0);
	CHECK_INT(approve_expire(s, NOW + APPROVE_TTL_MS, on_expired, NULL,
	    &err), 1);
	CHECK_INT(expired_seen, 1);
	CHECK_INT(approve_expire(s, NOW + 2 * APPROVE_TTL_MS, on_expired,
	    NULL, &err), 0);
	CHECK_INT(approve_redeem(s, u.id, u.sig, NOW + 1, &p, &err),
	    APPROVE_GONE_EXPIRED);
	approve_pending_clear(&p);
	approve_ticket_clear(&t);
	approve_ticket_clear(&u);
	json_decref(rec);
	approve_store_close(s);
}

/*
 * Clusters sharing a database (PostgreSQL) each answer for their own
 * approvals: another cluster's link is not found, and its expired ones are
 * not expired (recorded) here.  A row from before approvals had a cluster
 * is anyone's.
 */
TEST(each_cluster_answers_for_its_own_approvals)
{
	struct approve_store *a = open_store("shared.db", NULL);
	struct approve_store *b = open_store("shared.db", NULL);
	json_t *rec = pending_record("late");
	struct approve_ticket t;
	struct approve_pending p;
	char *err = NULL;

	REQUIRE(a != NULL && b != NULL);
	approve_store_scope(a, "eu");
	approve_store_scope(b, "us");
	CHECK(approve_issue(a, rec, NULL, NOW, 60000, &t, &err) == 0);
	CHECK_INT(approve_lookup(b, t.id, t.sig, &p, &err),
	    APPROVE_NOT_FOUND);
	CHECK_INT(approve_redeem(b, t.id, t.sig, NOW + 1, &p, &err),
	    APPROVE_NOT_FOUND);
	expired_seen = 0;
	CHECK_INT(approve_expire(b, NOW + 60000, on_expired, NULL, &err), 0);
	CHECK_INT(approve_expire(a, NOW + 60000, on_expired, NULL, &err), 1);
	CHECK_INT(expired_seen, 1);
	approve_ticket_clear(&t);
	/* unscoped: every row, as a file one daemon holds */
	approve_store_scope(b, NULL);
	CHECK(approve_issue(a, rec, NULL, NOW, 60000, &t, &err) == 0);
	CHECK_INT(approve_lookup(b, t.id, t.sig, &p, &err), APPROVE_OK);
	approve_pending_clear(&p);
	approve_ticket_clear(&t);
	json_decref(rec);
	approve_store_close(a);
	approve_store_close(b);
}

TEST(durable_across_reopen)
{
	struct approve_store *s = open_store("c.db", "http://x:1");
	json_t *rec = pending_record("keep"), *out;
	struct approve_ticket t, u;
	struct approve_pending p;
	char *err = NULL, *link;
	int n;

	CHECK(approve_issue(s, rec, NULL, NOW, 0, &t, &err) == 0);
	CHECK(approve_issue(s, rec, NULL, NOW, 0, &u, &err) == 0);
	CHECK_INT(approve_redeem(s, u.id, u.sig, NOW + 1, &p, &err),
	    APPROVE_OK);
	approve_pending_clear(&p);
	out = json_pack("{s:s}", "decision", "acted");
	CHECK(approve_finish(s, u.id, out, &err) == 0);
	approve_store_close(s);
	s = open_store("c.db", "http://x:1");
	CHECK_INT(approve_lookup(s, t.id, t.sig, &p, &err), APPROVE_OK);
	CHECK_INT(p.state, APPROVE_PENDING);
	link = approve_link(s, &p);
	CHECK_STR(link, t.url);
	free(link);
	approve_pending_clear(&p);
	CHECK_INT(approve_redeem(s, u.id, u.sig, NOW + 2, &p, &err),
	    APPROVE_GONE_USED);
	CHECK(json_equal(p.outcome, out));
	approve_pending_clear(&p);
	n = approve_list(s, 1, 0, NULL, NULL, &err);
	CHECK_INT(n, 1);
	CHECK_INT(approve_list(s, 0, 0, NULL, NULL, &err), 2);
	json_decref(out);
	json_decref(rec);
	approve_ticket_clear(&t);
	approve_ticket_clear(&u);
	approve_store_close(s);
}

struct race {
	struct approve_store	*s;
	const char		*id, *sig;
	int			 ok;
};

static void *
racer(void *arg)
{
	struct race *r = arg;
	struct approve_pending p;
	char *err = NULL;

	r->ok = approve_redeem(r->s, r->id, r->sig, NOW + 5, &p, &err) ==
	    APPROVE_OK;
	approve_pending_clear(&p);
	free(err);
	return NULL;
}

TEST(concurrent_redeems_have_one_winner)
{
	struct approve_store *s = open_store("d.db", NULL), *s2;
	json_t *rec = pending_record("race");
	struct approve_ticket t;
	struct approve_key k;
	struct race r[8];
	pthread_t th[8];
	char *err = NULL, *path = tmp("d.db");
	int i, wins = 0;

	test_key(&k);
	/* a second connection, as a second replica would have */
	s2 = approve_store_open(path, &k, NULL, 0, &err);
	CHECK(s2 != NULL);
	CHECK(approve_issue(s, rec, NULL, NOW, 0, &t, &err) == 0);
	for (i = 0; i < 8; i++) {
		r[i].s = i % 2 ? s2 : s;
		r[i].id = t.id;
		r[i].sig = t.sig;
		pthread_create(&th[i], NULL, racer, &r[i]);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		wins += r[i].ok;
	}
	CHECK_INT(wins, 1);
	approve_ticket_clear(&t);
	json_decref(rec);
	approve_store_close(s);
	approve_store_close(s2);
	free(path);
}

TEST(state_file_ownership)
{
	struct approve_key k;
	struct approve_store *s;
	char *err = NULL, *path = tmp("other.db");
	sqlite3 *db;
	int id = 0;
	sqlite3_stmt *st;

	test_key(&k);
	/* another program's database is left alone */
	sqlite3_open(path, &db);
	sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL, NULL);
	sqlite3_close(db);
	CHECK(approve_store_open(path, &k, NULL, 0, &err) == NULL);
	CHECK(err && strstr(err, "not a remediate state file") != NULL);
	free(err);
	free(path);
	/* a fresh file is marked as remediate's for the audit store */
	path = tmp("fresh.db");
	s = approve_store_open(path, &k, NULL, 0, &err);
	CHECK(s != NULL);
	approve_store_close(s);
	sqlite3_open(path, &db);
	if (sqlite3_prepare_v2(db, "PRAGMA application_id", -1, &st, NULL) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	CHECK_INT(id, 0x52454d44);
	/* read-only opening of a missing file fails, creates nothing */
	free(path);
	path = tmp("missing.db");
	CHECK(approve_store_open(path, &k, NULL, 1, &err) == NULL);
	CHECK(access(path, F_OK) == -1);
	free(err);
	free(path);
}

/* ---- /approve/ID --------------------------------------------------------- */

struct served {
	struct approve_store	*s;
	int			 runs;
	int			 fail;	/* 1: -1, 2: APPROVE_RUN_UNKNOWN */
};

static int
fake_engine(void *ctx, const struct approve_pending *p, json_t **record,
    char **err)
{
	struct served *sv = ctx;

	sv->runs++;
	if (sv->fail == 2) {
		*err = xstrdup("decided, but its record is not stored yet");
		return APPROVE_RUN_UNKNOWN;
	}
	if (sv->fail) {
		*err = xstrdup("engine queue closed");
		return -1;
	}
	*record = json_pack("{s:s, s:s, s:O}", "decision", "acted", "trigger",
	    json_string_value(json_object_get(p->record, "trigger")), "plan",
	    json_object_get(p->record, "plan"));
	return 0;
}

static void
handle(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct served *sv = ctx;

	approve_http(sv->s, req, resp, NOW + 1000, fake_engine, sv);
}

static struct http_request
request(const char *method, const char *path, const char *sig,
    const char *accept, const char *body, struct http_header *hs,
    struct http_header *args)
{
	struct http_request r;

	memset(&r, 0, sizeof r);
	r.method = method;
	r.path = path;
	r.remote = "127.0.0.1";
	r.body = body ? body : "";
	r.body_len = strlen(r.body);
	if (accept) {
		hs[0].name = "Accept";
		hs[0].value = accept;
		r.headers = hs;
		r.nheaders = 1;
	}
	if (sig) {
		args[0].name = "sig";
		args[0].value = sig;
		r.args = args;
		r.nargs = 1;
	}
	return r;
}

static int
call(struct served *sv, const char *method, const char *path,
    const char *sig, const char *accept, const char *body, char **out)
{
	struct http_header hs[1], args[1];
	struct http_request r = request(method, path, sig, accept, body, hs,
	    args);
	struct http_response resp;
	size_t i;

	memset(&resp, 0, sizeof resp);
	buf_init(&resp.body, 0);
	handle(sv, &r, &resp);
	*out = buf_steal(&resp.body);
	buf_free(&resp.body);
	for (i = 0; i < resp.nheaders; i++) {
		free(resp.headers[i].name);
		free(resp.headers[i].value);
	}
	return resp.status ? resp.status : 200;
}

TEST(pages_show_then_approve_once)
{
	struct served sv = { open_store("e.db", "https://r.example"), 0, 0 };
	json_t *rec = pending_record("<script>alert(1)</script>"), *j;
	struct approve_ticket t;
	char *err = NULL, *out, *path, *form;

	CHECK(approve_issue(sv.s, rec, NULL, NOW, 0, &t, &err) == 0);
	path = xasprintf("/approve/%s", t.id);
	/* GET shows, escapes, never runs */
	CHECK_INT(call(&sv, "GET", path, t.sig, NULL, NULL, &out), 200);
	CHECK(strstr(out, "<form method=\"post\"") != NULL);
	CHECK(strstr(out, t.sig) != NULL);
	CHECK(strstr(out, "<script>") == NULL);
	CHECK(strstr(out, "&lt;script&gt;alert(1)&lt;/script&gt;") != NULL);
	CHECK(strstr(out, "raise memory of container app") != NULL);
	free(out);
	CHECK_INT(call(&sv, "GET", path, t.sig, "application/json", NULL,
	    &out), 200);
	j = json_loads(out, 0, NULL);
	CHECK_STR(json_string_value(json_object_get(j, "status")), "pending");
	json_decref(j);
	free(out);
	CHECK_INT(sv.runs, 0);
	/* no or a wrong signature */
	CHECK_INT(call(&sv, "GET", path, NULL, NULL, NULL, &out), 403);
	free(out);
	CHECK_INT(call(&sv, "POST", path, NULL, "application/json", "sig=0",
	    &out), 403);
	free(out);
	CHECK_INT(sv.runs, 0);
	/* POST with the form's body approves, once */
	form = xasprintf("sig=%s", t.sig);
	CHECK_INT(call(&sv, "POST", path, NULL, "application/json", form,
	    &out), 200);
	j = json_loads(out, 0, NULL);
	CHECK_STR(json_string_value(json_object_get(json_object_get(j,
	    "outcome"), "decision")), "acted");
	json_decref(j);
	free(out);
	CHECK_INT(sv.runs, 1);
	CHECK_INT(call(&sv, "POST", path, NULL, NULL, form, &out), 410);
	CHECK(strstr(out, "used already") != NULL);
	CHECK(strstr(out, "Outcome: acted") != NULL);
	free(out);
	CHECK_INT(call(&sv, "GET", path, t.sig, NULL, NULL, &out), 410);
	free(out);
	CHECK_INT(sv.runs, 1);
	/* wrong paths and methods */
	CHECK_INT(call(&sv, "GET", "/approve/xyz", t.sig, NULL, NULL, &out),
	    404);
	free(out);
	CHECK_INT(call(&sv, "PUT", path, t.sig, NULL, NULL, &out), 405);
	free(out);
	free(form);
	free(path);
	approve_ticket_clear(&t);
	json_decref(rec);
	approve_store_close(sv.s);
}

TEST(engine_failure_is_recorded_and_consumes_the_link)
{
	struct served sv = { open_store("f.db", NULL), 0, 1 };
	json_t *rec = pending_record("bump");
	struct approve_ticket t;
	struct approve_pending p;
	char *err = NULL, *out, *path;

	CHECK(approve_issue(sv.s, rec, NULL, NOW, 0, &t, &err) == 0);
	path = xasprintf("/approve/%s", t.id);
	CHECK_INT(call(&sv, "POST", path, t.sig, NULL, NULL, &out), 500);
	CHECK(strstr(out, "engine queue closed") != NULL);
	free(out);
	CHECK_INT(approve_lookup(sv.s, t.id, NULL, &p, &err), APPROVE_OK);
	CHECK_INT(p.state, APPROVE_USED);
	CHECK_STR(json_string_value(json_object_get(p.outcome, "decision")),
	    "failed");
	approve_pending_clear(&p);
	free(path);
	approve_ticket_clear(&t);
	json_decref(rec);
	approve_store_close(sv.s);
}

/*
 * Approved, but what came of it cannot be shown yet (its record is not
 * stored): 202, an outcome with the reason and no decision, the link
 * used; never a guessed "failed" and never the unstored record.
 */
TEST(an_outcome_not_known_yet_is_202_without_a_decision)
{
	struct served sv = { open_store("u.db", NULL), 0, 2 };
	json_t *rec = pending_record("bump");
	struct approve_ticket t;
	struct approve_pending p;
	char *err = NULL, *out, *path;

	CHECK(approve_issue(sv.s, rec, NULL, NOW, 0, &t, &err) == 0);
	path = xasprintf("/approve/%s", t.id);
	CHECK_INT(call(&sv, "POST", path, t.sig, "text/html", NULL, &out),
	    202);
	CHECK(strstr(out, "Approved: outcome not known yet") != NULL);
	CHECK(strstr(out, "Outcome: not known yet: decided, but its record "
	    "is not stored yet") != NULL);
	free(out);
	CHECK_INT(approve_lookup(sv.s, t.id, NULL, &p, &err), APPROVE_OK);
	CHECK_INT(p.state, APPROVE_USED);
	CHECK(json_object_get(p.outcome, "decision") == NULL);
	CHECK(strstr(json_string_value(json_object_get(p.outcome, "message")),
	    "not stored") != NULL);
	approve_pending_clear(&p);
	/* the used link shows the same */
	CHECK_INT(call(&sv, "POST", path, t.sig, "text/html", NULL, &out),
	    410);
	CHECK(strstr(out, "Outcome: not known yet") != NULL);
	free(out);
	free(path);
	approve_ticket_clear(&t);
	json_decref(rec);
	approve_store_close(sv.s);
}

TEST(client_approves_through_a_real_server)
{
	struct served sv = { open_store("g.db", NULL), 0, 0 };
	json_t *rec = pending_record("bump"), *answer = NULL;
	struct approve_ticket t;
	struct http_opts ho;
	struct http_server *srv;
	char *err = NULL, *link;
	long status;

	memset(&ho, 0, sizeof ho);
	ho.listen[0] = "127.0.0.1:0";
	ho.nlisten = 1;
	srv = http_server_new(&ho, &err);
	CHECK(srv != NULL);
	http_route_fallback(srv, NULL, handle, &sv);
	CHECK(http_server_start(srv, &err) == 0);
	CHECK(approve_issue(sv.s, rec, NULL, NOW, 0, &t, &err) == 0);
	link = xasprintf("http://127.0.0.1:%u/approve/%s",
	    http_server_port(srv, 0), t.id);
	status = approve_remote(link, t.sig, 5000, &answer, &err);
	CHECK_INT(status, 200);
	CHECK_STR(json_string_value(json_object_get(json_object_get(answer,
	    "outcome"), "decision")), "acted");
	json_decref(answer);
	status = approve_remote(link, t.sig, 5000, &answer, &err);
	CHECK_INT(status, 410);
	CHECK_STR(json_string_value(json_object_get(answer, "status")),
	    "used");
	json_decref(answer);
	CHECK_INT(sv.runs, 1);
	http_server_free(srv);
	/* nobody listening: no status, an error */
	status = approve_remote(link, t.sig, 2000, &answer, &err);
	CHECK_INT(status, 0);
	CHECK(err != NULL);
	free(err);
	free(link);
	approve_ticket_clear(&t);
	json_decref(rec);
	approve_store_close(sv.s);
}

int
main(void)
{
	char cmd[128];
	int rc;

	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_approve.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	RUN(key_from_env_file_or_generated_once);
	RUN(signatures_bind_id_and_expiry);
	RUN(input_kept_apart_and_old_tables_upgraded);
	RUN(a_store_opening_while_another_upgrades_the_table_starts);
	RUN(issue_redeem_once);
	RUN(expiry);
	RUN(each_cluster_answers_for_its_own_approvals);
	RUN(durable_across_reopen);
	RUN(concurrent_redeems_have_one_winner);
	RUN(state_file_ownership);
	RUN(pages_show_then_approve_once);
	RUN(engine_failure_is_recorded_and_consumes_the_link);
	RUN(an_outcome_not_known_yet_is_202_without_a_decision);
	RUN(client_approves_through_a_real_server);
	rc = harness_done();
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	(void)!system(cmd);
	return rc;
}
