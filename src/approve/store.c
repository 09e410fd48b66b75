/*
 * The approvals table, in the state file the audit log lives in (one file
 * to back up, one place that says what happened):
 *
 *   CREATE TABLE approvals (
 *     id      TEXT PRIMARY KEY,   -- 32 hex characters, random
 *     created INTEGER NOT NULL,   -- ms
 *     expires INTEGER NOT NULL,   -- ms
 *     state   TEXT NOT NULL,      -- pending | used | expired
 *     record  TEXT NOT NULL,      -- the pending-approval decision record
 *     url     TEXT,               -- BASE/approve/ID, or NULL
 *     decided INTEGER,            -- ms: used or expired
 *     outcome TEXT,               -- the decision record after approval
 *     input   TEXT)               -- what the engine needs to decide
 *                                 -- again (older tables get it by ALTER)
 *
 * Our own connection, so this module never reaches into the audit
 * store's; SQLite's locking (WAL, a busy timeout) orders the two writers.
 * A fresh file is marked with the audit store's application_id ("REMD")
 * so that whichever opens it first, the other accepts it.  Writes are
 * synchronous=FULL: an approval is rare and must survive a power cut.
 *
 * In PostgreSQL (src/sqldb/ translates the types) the table is created in
 * a transaction holding the advisory lock "schema": every replica opens
 * the store, and two CREATE TABLE IF NOT EXISTS at once can collide.
 */
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "approve/approve.h"
#include "sqldb/sqldb.h"
#include "util/util.h"

#define APPLICATION_ID	0x52454d44	/* "REMD", the audit store's mark */
#define TABLE	"CREATE TABLE IF NOT EXISTS approvals (id TEXT PRIMARY KEY, " \
	"created {INT} NOT NULL, expires {INT} NOT NULL, state TEXT NOT " \
	"NULL, record TEXT NOT NULL, url TEXT, decided {INT}, outcome TEXT, " \
	"input TEXT)"
#define INDEX	"CREATE INDEX IF NOT EXISTS approvals_pending ON approvals " \
	"(state, expires)"

struct approve_store {
	struct sqldb		*db;
	pthread_mutex_t		 mu;
	struct approve_key	 key;
	char			*base_url;	/* owned, no trailing '/' */
	int			 readonly;
	int			 has_input;	/* the table has the column */
	int			 has_cluster;	/* the table has the column */
	char			*cluster;	/* owned; NULL: every row */
};

static const char *const state_names[] = { "pending", "used", "expired" };

const char *
approve_status_name(enum approve_status s)
{
	static const char *const n[] = { "ok", "not-found", "bad-signature",
	    "expired", "used", "error" };

	return (size_t)s < UTIL_ARRAY_LEN(n) ? n[s] : "?";
}

void
approve_pending_clear(struct approve_pending *p)
{
	json_decref(p->record);
	json_decref(p->outcome);
	json_decref(p->input);
	free(p->url);
	memset(p, 0, sizeof *p);
}

void
approve_ticket_clear(struct approve_ticket *t)
{
	free(t->url);
	memset(t, 0, sizeof *t);
}

static int
exec(struct approve_store *s, const char *sql, char **err)
{
	if (sqldb_exec(s->db, sql) == -1) {
		*err = xasprintf("state file: %s", sqldb_errmsg(s->db));
		return -1;
	}
	return 0;
}

/* Marks a fresh file as remediate's; refuses another program's. */
static int
claim(struct approve_store *s, const char *path, char **err)
{
	int64_t id = 0, version = 0, tables = 0;

	if (sqldb_file_identity(s->db, &id, &version, &tables) == -1) {
		*err = xasprintf("%s: not a state file: %s", path,
		    sqldb_errmsg(s->db));
		return -1;
	}
	if (id == APPLICATION_ID)
		return 0;
	if (id != 0 || tables > 0) {
		*err = xasprintf("%s: not a remediate state file (another "
		    "program's SQLite database?)", path);
		return -1;
	}
	if (s->readonly)
		return 0;
	return exec(s, "PRAGMA application_id = 1380273476", err);
}

static int
has_column(struct approve_store *s, const char *name)
{
	struct sqldb_stmt *st;
	char *sql = xasprintf("SELECT %s FROM approvals LIMIT 0", name);
	int rc;

	st = sqldb_prepare(s->db, sql, 0);
	free(sql);
	if (st == NULL)
		return 0;
	rc = sqldb_step(st);	/* PostgreSQL parses it here */
	sqldb_finalize(st);
	return rc != SQLDB_ERROR;
}

static void
probe_columns(struct approve_store *s)
{
	s->has_input = has_column(s, "input");
	s->has_cluster = has_column(s, "cluster");
}

/*
 * A table made before approvals carried the engine's input, or their
 * cluster (clusters sharing a PostgreSQL database each expire and redeem
 * their own), gets the column.
 */
static int
add_columns(struct approve_store *s, char **err)
{
	probe_columns(s);
	if (!s->has_input && exec(s, "ALTER TABLE approvals ADD COLUMN "
	    "input TEXT", err) == -1)
		return -1;
	if (!s->has_cluster && exec(s, "ALTER TABLE approvals ADD COLUMN "
	    "cluster TEXT", err) == -1)
		return -1;
	s->has_input = s->has_cluster = 1;
	return 0;
}

/* PostgreSQL: the table, made once whatever the replicas do at once. */
static int
setup_pg(struct approve_store *s, char **err)
{
	if (s->readonly) {
		probe_columns(s);
		return 0;
	}
	/* no probing here: a failed statement aborts the transaction */
	if (sqldb_begin(s->db) == -1 || sqldb_lock(s->db, "schema") == -1 ||
	    exec(s, TABLE, err) == -1 || exec(s, INDEX, err) == -1 ||
	    exec(s, "ALTER TABLE approvals ADD COLUMN IF NOT EXISTS cluster "
	    "TEXT", err) == -1 || sqldb_commit(s->db) == -1) {
		if (*err == NULL)
			*err = xasprintf("state: %s", sqldb_errmsg(s->db));
		sqldb_rollback(s->db);
		return -1;
	}
	s->has_input = s->has_cluster = 1;
	return 0;
}

static int
setup(struct approve_store *s, const char *path, char **err)
{
	if (sqldb_engine(s->db) == SQLDB_POSTGRES)
		return setup_pg(s, err);
	if (claim(s, path, err) == -1)
		return -1;
	if (s->readonly) {
		probe_columns(s);
		return 0;
	}
	if (exec(s, "PRAGMA journal_mode = WAL", err) == -1 ||
	    exec(s, "PRAGMA synchronous = FULL", err) == -1)
		return -1;
	/*
	 * Under the write lock (BEGIN IMMEDIATE): replicas sharing the file
	 * start together, and two that both saw an old table without the
	 * column would both add it, the second failing.
	 */
	if (sqldb_begin(s->db) == -1 || exec(s, TABLE, err) == -1 ||
	    exec(s, INDEX, err) == -1 || add_columns(s, err) == -1 ||
	    sqldb_commit(s->db) == -1) {
		if (*err == NULL)
			*err = xasprintf("state file: %s",
			    sqldb_errmsg(s->db));
		sqldb_rollback(s->db);
		return -1;
	}
	return 0;
}

struct approve_store *
approve_store_open(const char *path, const struct approve_key *key,
    const char *base_url, int readonly, char **err)
{
	struct approve_store *s = xcalloc(1, sizeof *s);
	size_t n;

	*err = NULL;
	s->readonly = readonly;
	if (key)
		s->key = *key;
	if (base_url && *base_url) {
		s->base_url = xstrdup(base_url);
		n = strlen(s->base_url);
		while (n > 0 && s->base_url[n - 1] == '/')
			s->base_url[--n] = '\0';
	}
	pthread_mutex_init(&s->mu, NULL);
	if ((s->db = sqldb_open(path, (readonly ? SQLDB_READONLY :
	    SQLDB_CREATE) | SQLDB_SHARED, err)) == NULL) {
		approve_store_close(s);
		return NULL;
	}
	if (setup(s, path, err) == -1) {
		approve_store_close(s);
		return NULL;
	}
	return s;
}

void
approve_store_close(struct approve_store *s)
{
	if (s == NULL)
		return;
	sqldb_close(s->db);
	pthread_mutex_destroy(&s->mu);
	explicit_bzero(&s->key, sizeof s->key);
	free(s->base_url);
	free(s->cluster);
	free(s);
}

void
approve_store_scope(struct approve_store *s, const char *cluster)
{
	free(s->cluster);
	s->cluster = cluster ? xstrdup(cluster) : NULL;
}

/* The rows this store answers for: its cluster's, and older rows. */
static int
scoped(const struct approve_store *s)
{
	return s->cluster != NULL && s->has_cluster;
}

static void
bind_scope(const struct approve_store *s, struct sqldb_stmt *st)
{
	if (scoped(s))
		sqldb_bind_text(st, 9, s->cluster);
}

static char *
link_of(struct approve_store *s, const char *id, const char *sig)
{
	return xasprintf("%s/approve/%s%s%s", s->base_url ? s->base_url : "",
	    id, sig ? "?sig=" : "", sig ? sig : "");
}

int
approve_issue(struct approve_store *s, const json_t *record,
    const json_t *input, int64_t now, int64_t ttl, struct approve_ticket *t,
    char **err)
{
	unsigned char raw[APPROVE_ID_LEN / 2];
	struct sqldb_stmt *st;
	char *text, *url, *in;
	size_t i;
	int rc = -1;

	memset(t, 0, sizeof *t);
	*err = NULL;
	if (RAND_bytes(raw, sizeof raw) != 1) {
		*err = xstrdup("no randomness for an approval id");
		return -1;
	}
	for (i = 0; i < sizeof raw; i++)
		snprintf(t->id + 2 * i, 3, "%02x", raw[i]);
	t->expires = now + (ttl > 0 ? ttl : APPROVE_TTL_MS);
	approve_sign(&s->key, t->id, t->expires, t->sig);
	text = json_dumps(record, JSON_COMPACT | JSON_PRESERVE_ORDER);
	in = input ? json_dumps(input, JSON_COMPACT | JSON_PRESERVE_ORDER) :
	    NULL;
	url = s->base_url ? link_of(s, t->id, NULL) : NULL;
	pthread_mutex_lock(&s->mu);
	if ((st = sqldb_prepare(s->db, s->has_cluster ? "INSERT INTO "
	    "approvals (id, created, expires, state, record, url, input, "
	    "cluster) VALUES (?, ?, ?, 'pending', ?, ?, ?, ?)" : "INSERT INTO "
	    "approvals (id, created, expires, state, record, url, input) "
	    "VALUES (?, ?, ?, 'pending', ?, ?, ?)", 0)) != NULL) {
		if (s->has_cluster)
			sqldb_bind_text(st, 7, s->cluster);
		sqldb_bind_text(st, 1, t->id);
		sqldb_bind_int64(st, 2, now);
		sqldb_bind_int64(st, 3, t->expires);
		sqldb_bind_text(st, 4, text ? text : "null");
		sqldb_bind_text(st, 5, url);
		sqldb_bind_text(st, 6, in);
		rc = sqldb_step(st) == SQLDB_DONE ? 0 : -1;
	}
	if (rc == -1)
		*err = xasprintf("cannot keep the approval: %s",
		    sqldb_errmsg(s->db));
	sqldb_finalize(st);
	pthread_mutex_unlock(&s->mu);
	free(text);
	free(in);
	free(url);
	if (rc == 0)
		t->url = link_of(s, t->id, t->sig);
	return rc;
}

static json_t *
col_json(struct sqldb_stmt *st, int i)
{
	const char *t = sqldb_column_text(st, i);

	return t ? util_json_loads(t, 0, NULL) : NULL;
}

static void
row(struct sqldb_stmt *st, struct approve_pending *p)
{
	const char *state = sqldb_column_text(st, 3);
	const char *url = sqldb_column_text(st, 7);
	const char *id = sqldb_column_text(st, 0);
	size_t i;

	memset(p, 0, sizeof *p);
	snprintf(p->id, sizeof p->id, "%s", id ? id : "");
	p->created = sqldb_column_int64(st, 1);
	p->expires = sqldb_column_int64(st, 2);
	for (i = 0; state && i < UTIL_ARRAY_LEN(state_names); i++)
		if (strcmp(state, state_names[i]) == 0)
			p->state = (enum approve_state)i;
	p->record = col_json(st, 4);
	p->decided = sqldb_column_int64(st, 5);
	p->outcome = col_json(st, 6);
	p->url = url ? xstrdup(url) : NULL;
	p->input = col_json(st, 8);
}

#define COLUMNS	"id, created, expires, state, record, decided, outcome, url"

/*
 * SELECT every column of the rows where `where` holds (and, scoped, of
 * this cluster's or no cluster's: ?9), then rest; owned.  A state file
 * read-only (the CLI) may predate the input column: then input reads as
 * NULL.
 */
static char *
select_sql(const struct approve_store *s, const char *where,
    const char *rest)
{
	return xasprintf("SELECT " COLUMNS ", %s FROM approvals WHERE (%s)%s "
	    "%s", s->has_input ? "input" : "NULL", where, scoped(s) ?
	    " AND (cluster = ?9 OR cluster IS NULL)" : "", rest);
}

/* Reads id into *p (mu held): 1 found, 0 not, -1 error. */
static int
get(struct approve_store *s, const char *id, struct approve_pending *p,
    char **err)
{
	struct sqldb_stmt *st;
	char *sql = select_sql(s, "id = ?1", "");
	int rc;

	st = sqldb_prepare(s->db, sql, 0);
	free(sql);
	if (st == NULL) {
		*err = xasprintf("state file: %s", sqldb_errmsg(s->db));
		return -1;
	}
	sqldb_bind_text(st, 1, id);
	bind_scope(s, st);
	rc = sqldb_step(st);
	if (rc == SQLDB_ROW)
		row(st, p);
	else if (rc != SQLDB_DONE)
		*err = xasprintf("state file: %s", sqldb_errmsg(s->db));
	sqldb_finalize(st);
	return rc == SQLDB_ROW ? 1 : rc == SQLDB_DONE ? 0 : -1;
}

/* One conditional UPDATE (mu held): rows changed, or -1. */
static int
transition(struct approve_store *s, const char *id, const char *to,
    int64_t now, char **err)
{
	struct sqldb_stmt *st;
	int rc;

	if ((st = sqldb_prepare(s->db, "UPDATE approvals SET state = ?1, "
	    "decided = ?2 WHERE id = ?3 AND state = 'pending' AND "
	    "(?1 = 'expired' OR expires > ?2)", 0)) == NULL) {
		*err = xasprintf("state file: %s", sqldb_errmsg(s->db));
		return -1;
	}
	sqldb_bind_text(st, 1, to);
	sqldb_bind_int64(st, 2, now);
	sqldb_bind_text(st, 3, id);
	rc = sqldb_step(st);
	if (rc != SQLDB_DONE) {
		*err = xasprintf("state file: %s", sqldb_errmsg(s->db));
		sqldb_finalize(st);
		return -1;
	}
	sqldb_finalize(st);
	return (int)sqldb_changes(s->db);
}

static int
valid_id(const char *id)
{
	return id && strlen(id) == APPROVE_ID_LEN && strspn(id,
	    "0123456789abcdef") == APPROVE_ID_LEN;
}

enum approve_status
approve_lookup(struct approve_store *s, const char *id, const char *sig,
    struct approve_pending *out, char **err)
{
	int rc;

	memset(out, 0, sizeof *out);
	*err = NULL;
	if (!valid_id(id))
		return APPROVE_NOT_FOUND;
	pthread_mutex_lock(&s->mu);
	rc = get(s, id, out, err);
	pthread_mutex_unlock(&s->mu);
	if (rc <= 0)
		return rc == 0 ? APPROVE_NOT_FOUND : APPROVE_ERROR;
	if (sig && !approve_verify(&s->key, out->id, out->expires, sig)) {
		approve_pending_clear(out);
		return APPROVE_BAD_SIGNATURE;
	}
	return APPROVE_OK;
}

enum approve_status
approve_redeem(struct approve_store *s, const char *id, const char *sig,
    int64_t now, struct approve_pending *out, char **err)
{
	enum approve_status r = APPROVE_OK;
	int rc, won;

	memset(out, 0, sizeof *out);
	*err = NULL;
	if (!valid_id(id))
		return APPROVE_NOT_FOUND;
	pthread_mutex_lock(&s->mu);
	if ((rc = get(s, id, out, err)) <= 0) {
		r = rc == 0 ? APPROVE_NOT_FOUND : APPROVE_ERROR;
		goto out;
	}
	if (!approve_verify(&s->key, out->id, out->expires, sig)) {
		approve_pending_clear(out);
		r = APPROVE_BAD_SIGNATURE;
		goto out;
	}
	if (out->state == APPROVE_USED) {
		r = APPROVE_GONE_USED;
		goto out;
	}
	if (out->state == APPROVE_EXPIRED || now >= out->expires) {
		if (out->state == APPROVE_PENDING)
			(void)transition(s, id, "expired", now, err);
		free(*err);
		*err = NULL;
		out->state = APPROVE_EXPIRED;
		r = APPROVE_GONE_EXPIRED;
		goto out;
	}
	/* the one conditional UPDATE that makes it single use */
	if ((won = transition(s, id, "used", now, err)) < 0)
		r = APPROVE_ERROR;
	else if (won == 0)
		r = APPROVE_GONE_USED;
	else {
		out->state = APPROVE_USED;
		out->decided = now;
	}
out:
	pthread_mutex_unlock(&s->mu);
	return r;
}

int
approve_finish(struct approve_store *s, const char *id,
    const json_t *outcome, char **err)
{
	struct sqldb_stmt *st;
	char *text = json_dumps(outcome, JSON_COMPACT | JSON_PRESERVE_ORDER);
	int rc = -1;

	*err = NULL;
	pthread_mutex_lock(&s->mu);
	if ((st = sqldb_prepare(s->db, "UPDATE approvals SET outcome = ? "
	    "WHERE id = ?", 0)) != NULL) {
		sqldb_bind_text(st, 1, text ? text : "null");
		sqldb_bind_text(st, 2, id);
		rc = sqldb_step(st) == SQLDB_DONE ? 0 : -1;
		if (rc == -1)
			*err = xasprintf("state file: %s", sqldb_errmsg(
			    s->db));
		sqldb_finalize(st);
	}
	if (rc == -1 && *err == NULL)
		*err = xasprintf("state file: %s", sqldb_errmsg(s->db));
	pthread_mutex_unlock(&s->mu);
	free(text);
	return rc;
}

/*
 * The rows whose SELECT ends in tail (one int64 bound as ?1 when
 * has_bind), owned.
 */
static int
each(struct approve_store *s, const char *where, const char *rest,
    int64_t bind, int has_bind, size_t limit, struct approve_pending **rows,
    size_t *n, char **err)
{
	struct sqldb_stmt *st;
	char *sql = select_sql(s, where, rest);
	size_t cap = 0;
	int rc;

	*rows = NULL;
	*n = 0;
	st = sqldb_prepare(s->db, sql, 0);
	free(sql);
	if (st == NULL) {
		*err = xasprintf("state file: %s", sqldb_errmsg(s->db));
		return -1;
	}
	if (has_bind)
		sqldb_bind_int64(st, 1, bind);
	bind_scope(s, st);
	while ((rc = sqldb_step(st)) == SQLDB_ROW &&
	    (limit == 0 || *n < limit)) {
		xgrow(rows, &cap, *n + 1, sizeof **rows);
		row(st, &(*rows)[(*n)++]);
	}
	if (rc == SQLDB_ERROR) {
		*err = xasprintf("state file: %s", sqldb_errmsg(s->db));
		sqldb_finalize(st);
		return -1;
	}
	sqldb_finalize(st);
	return 0;
}

static void
free_rows(struct approve_pending *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		approve_pending_clear(&rows[i]);
	free(rows);
}

int
approve_expire(struct approve_store *s, int64_t now,
    void (*fn)(void *, const struct approve_pending *), void *ctx,
    char **err)
{
	struct approve_pending *rows;
	size_t n, i;
	int count = 0, won;

	*err = NULL;
	pthread_mutex_lock(&s->mu);
	if (each(s, "state = 'pending' AND expires <= ?1", "ORDER BY "
	    "expires", now, 1, 0, &rows, &n, err) == -1) {
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	for (i = 0; i < n; i++) {
		/* a redeem may win the race for it: then it is not expired */
		if ((won = transition(s, rows[i].id, "expired", now, err)) <
		    0)
			break;
		if (won == 0)
			continue;
		rows[i].state = APPROVE_EXPIRED;
		rows[i].decided = now;
		count++;
	}
	pthread_mutex_unlock(&s->mu);
	for (i = 0; fn && i < n; i++)
		if (rows[i].state == APPROVE_EXPIRED)
			fn(ctx, &rows[i]);
	free_rows(rows, n);
	return *err ? -1 : count;
}

int
approve_list(struct approve_store *s, int pending_only, size_t limit,
    void (*fn)(void *, const struct approve_pending *), void *ctx,
    char **err)
{
	struct approve_pending *rows;
	size_t n, i;

	*err = NULL;
	pthread_mutex_lock(&s->mu);
	if (each(s, pending_only ? "state = 'pending'" : "1 = 1", "ORDER BY "
	    "created DESC", 0, 0, limit, &rows, &n, err) == -1) {
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	pthread_mutex_unlock(&s->mu);
	for (i = 0; fn && i < n; i++)
		fn(ctx, &rows[i]);
	free_rows(rows, n);
	return (int)n;
}

char *
approve_link(struct approve_store *s, const struct approve_pending *p)
{
	char sig[APPROVE_SIG_LEN + 1];

	approve_sign(&s->key, p->id, p->expires, sig);
	if (p->url)
		return xasprintf("%s?sig=%s", p->url, sig);
	return link_of(s, p->id, sig);
}
