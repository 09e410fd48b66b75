/*
 * Opening the state file: the lock, the pragmas, the schema and its
 * migrations, and loading the state that was kept.
 *
 * Durability rests on SQLite's WAL: a transaction is in the log before
 * COMMIT returns, and a log that a crash cut short is ignored from the
 * last complete commit on, so a kill -9 at any instant leaves the last
 * committed decision and nothing half-written.  synchronous=FULL also
 * survives a power cut (the log is fsynced at every commit);
 * synchronous=NORMAL survives process crashes only, and intents are
 * written FULL whatever the setting (write.c).
 *
 * Schemas migrate forward in one transaction each open, using
 * PRAGMA user_version; the file is marked with PRAGMA application_id so
 * another program's SQLite file is refused rather than modified.
 *
 * In PostgreSQL (--state postgres://...) the same migrations run, in the
 * dialect sqldb translates, and each step is a row of remediate_migrations
 * (the version is its largest); the migration's transaction holds the
 * advisory lock "schema", so two openers never migrate at once.  A
 * writer's exclusion is a session-level advisory lock on its cluster's
 * name instead of the .lock file; quick_check and --state-recover are
 * SQLite's (PostgreSQL has its own crash recovery).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit_int.h"

#define APPLICATION_ID	0x52454d44	/* "REMD" */
#define MIGRATIONS_TABLE	"CREATE TABLE IF NOT EXISTS remediate_migrations (" \
	"version INTEGER PRIMARY KEY, applied {INT} NOT NULL)"
#define DAY		(24LL * 3600 * 1000)

static int64_t
wall_ms(void)
{
	struct clock c;

	clock_system(&c);
	return clock_now(&c);
}

/*
 * Each step takes the schema from version i to i + 1.  Never edit a
 * shipped step: add one.
 */
static const char *const migrations[] = {
	/* 1: the decision log */
	"CREATE TABLE decisions ("
	"  id {ID},"
	"  time {INT} NOT NULL,"		/* ms since the epoch */
	"  sensor TEXT NOT NULL,"
	"  trigger TEXT NOT NULL,"
	"  target TEXT,"			/* Kind/namespace/name */
	"  decision TEXT NOT NULL,"
	"  reason TEXT,"
	"  record TEXT NOT NULL);"		/* the JSON record */
	"CREATE INDEX decisions_time ON decisions(time);",
	/* 2: durable guard and pager state, action intents */
	"ALTER TABLE decisions ADD COLUMN outcome TEXT NOT NULL "
	"  DEFAULT 'final';"			/* final | intended */
	"CREATE INDEX decisions_trigger ON decisions(trigger, time);"
	"CREATE TABLE state ("
	"  kind TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  value TEXT NOT NULL,"		/* JSON */
	"  PRIMARY KEY (kind, key)){NOROWID};",
	/* 3: durable intake (src/intake/), replay marks of signed webhooks */
	"CREATE TABLE intake ("
	"  id {ID},"
	"  received {INT} NOT NULL,"		/* ms since the epoch */
	"  event TEXT NOT NULL);"		/* the JSON event */
	"CREATE TABLE replay ("
	"  key TEXT PRIMARY KEY,"		/* endpoint + signature */
	"  seen {INT} NOT NULL){NOROWID};"	/* ms */
	"CREATE INDEX replay_seen ON replay(seen);",
	/* 4: what each decision read, for `remediate diff` */
	"ALTER TABLE decisions ADD COLUMN inputs TEXT;",	/* JSON; NULL:
							   none kept */
	/*
	 * 5: many clusters, one database: each record's cluster, and the
	 * fleet ledger (src/fleet/) of actions under a scope: fleet circuit
	 * or maxClusterImpact, with each cluster's published pod count
	 */
	"ALTER TABLE decisions ADD COLUMN cluster TEXT;"	/* NULL: none
							   named (older) */
	"CREATE INDEX decisions_cluster ON decisions(cluster, time);"
	"CREATE TABLE fleet_actions ("
	"  id {ID},"
	"  cluster TEXT NOT NULL,"
	"  time {INT} NOT NULL,"		/* ms: the slot */
	"  pods {INT} NOT NULL,"		/* the action moves */
	"  circuit {INT} NOT NULL);"		/* 1: counts toward a fleet
						   circuit */
	"CREATE INDEX fleet_actions_time ON fleet_actions(time);"
	"CREATE TABLE fleet_clusters ("
	"  cluster TEXT PRIMARY KEY,"
	"  pods {INT} NOT NULL,"		/* its Pods, as it last saw */
	"  seen {INT} NOT NULL);",		/* ms */
	/*
	 * 6: guard and page state and undecided events are each cluster's
	 * own: one cluster's cooldown stopped another's action, and one
	 * cluster's recovery decided another's acknowledged events.  Rows
	 * written before are no cluster's ('', NULL) until claim_rows.
	 */
	"CREATE TABLE state_of_cluster ("
	"  cluster TEXT NOT NULL DEFAULT '',"
	"  kind TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  value TEXT NOT NULL,"		/* JSON */
	"  PRIMARY KEY (cluster, kind, key)){NOROWID};"
	"INSERT INTO state_of_cluster (cluster, kind, key, value) "
	"  SELECT '', kind, key, value FROM state;"
	"DROP TABLE state;"
	"ALTER TABLE state_of_cluster RENAME TO state;"
	"ALTER TABLE intake ADD COLUMN cluster TEXT;",
	/*
	 * 7: the prometheus sources' edges, kind 'edge' in state
	 * (src/schedule/edges.c).  The table is as it was; the step marks
	 * the schema, so that a release before, whose guard loader takes a
	 * row of a kind it does not know for damaged guard state and
	 * refuses to start saying so, refuses the newer schema instead.
	 * There is no edge to carry over.
	 */
	"DELETE FROM state WHERE kind = '" SCHED_EDGE_KIND "';",
};

void
audit_opts_defaults(struct audit_opts *o)
{
	memset(o, 0, sizeof *o);
	o->sync_full = 0;		/* intents are FULL regardless */
	o->retain_age = 30 * DAY;
	o->retain_count = 500000;
}

/* One part of --retain: a count (digits only) or an age. */
static int
parse_part(const char *s, struct audit_opts *o, int *have_age,
    int *have_count)
{
	long long n;

	if (s[0] != '\0' && strspn(s, "0123456789") == strlen(s)) {
		if (util_parse_int(s, &n) == -1 || *have_count)
			return -1;
		o->retain_count = n;
		*have_count = 1;
		return 0;
	}
	if (*have_age || duration_parse_age(s, &o->retain_age) == -1)
		return -1;
	*have_age = 1;
	return 0;
}

int
audit_parse_retain(const char *s, struct audit_opts *o, char **err)
{
	const char *comma = strchr(s, ',');
	int age = 0, count = 0, rc;
	char *first;

	if (comma == NULL)
		rc = parse_part(s, o, &age, &count);
	else {
		first = xstrndup(s, (size_t)(comma - s));
		rc = parse_part(first, o, &age, &count);
		free(first);
		if (rc == 0)
			rc = parse_part(comma + 1, o, &age, &count);
	}
	if (rc == -1) {
		*err = xasprintf("--retain \"%s\": want an age (30d, 12h), a "
		    "record count (500000) or both (30d,500000)", s);
		return -1;
	}
	if (strcmp(s, "0") == 0)	/* "0" alone: no bound at all */
		o->retain_age = 0;
	return 0;
}

void
audit_log(const struct audit *a, const char *level, const char *msg,
    json_t *fields)
{
	if (a->opts.log)
		a->opts.log(level, msg, fields);
	else
		util_log_json(level, msg, fields);
}

/* Remembers the first failure of the current transaction. */
void
audit_fail(struct audit *a, const char *what)
{
	if (a->failed)
		return;
	a->failed = 1;
	free(a->error);
	a->error = xasprintf("%s: %s", what, sqldb_errmsg(a->db));
}

int
audit_exec(struct audit *a, const char *sql)
{
	if (sqldb_exec(a->db, sql) == 0)
		return 0;
	if (!a->failed) {
		a->failed = 1;
		free(a->error);
		a->error = xasprintf("%.40s: %s", sql, sqldb_errmsg(a->db));
	}
	return -1;
}

static int
pragma_int(struct audit *a, const char *sql, int *out)
{
	int64_t v;

	if (sqldb_query_int(a->db, sql, &v) == -1)
		return -1;
	*out = (int)v;
	return 0;
}

static int
is_pg(const struct audit *a)
{
	return sqldb_engine(a->db) == SQLDB_POSTGRES;
}

/* The schema version: user_version, or remediate_migrations' largest. */
static int
read_version(struct audit *a, int *v)
{
	int exists = 0;

	if (!is_pg(a))
		return pragma_int(a, "PRAGMA user_version", v);
	if (pragma_int(a, "SELECT to_regclass('remediate_migrations') IS NOT "
	    "NULL", &exists) == -1)
		return -1;
	*v = 0;
	return exists ? pragma_int(a, "SELECT coalesce(max(version), 0) FROM "
	    "remediate_migrations", v) : 0;
}

/* Marks step v (1-based) applied, inside the migration's transaction. */
static int
mark_version(struct audit *a, int v)
{
	struct sqldb_stmt *st;
	char sql[64];
	int rc;

	if (!is_pg(a)) {
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v);
		return audit_exec(a, sql);
	}
	if ((st = sqldb_prepare(a->db, "INSERT INTO remediate_migrations "
	    "(version, applied) VALUES (?, ?)", 0)) == NULL) {
		audit_fail(a, "migrations");
		return -1;
	}
	sqldb_bind_int64(st, 1, v);
	sqldb_bind_int64(st, 2, wall_ms());
	if ((rc = sqldb_step(st)) != SQLDB_DONE)
		audit_fail(a, "migrations");
	sqldb_finalize(st);
	return rc == SQLDB_DONE ? 0 : -1;
}

/* Does the file hold tables of its own (another program's file)? */
static int
has_tables(struct audit *a)
{
	int n = 0;

	pragma_int(a, "SELECT count(*) FROM sqlite_schema", &n);
	return n > 0;
}

static int
migrate(struct audit *a, char **err)
{
	int v;

	if (a->version == AUDIT_SCHEMA_VERSION)
		return 0;
	if (sqldb_begin(a->db) == -1 || sqldb_lock(a->db, "schema") == -1 ||
	    (is_pg(a) && audit_exec(a, MIGRATIONS_TABLE) == -1)) {
		audit_fail(a, "begin");
		goto fail;
	}
	/* read again under the write lock: another opener may have won */
	if (read_version(a, &a->version) == -1) {
		audit_fail(a, "schema version");
		goto fail;
	}
	for (v = a->version; v < AUDIT_SCHEMA_VERSION; v++)
		if (audit_exec(a, migrations[v]) == -1 ||
		    (is_pg(a) && mark_version(a, v + 1) == -1))
			goto fail;
	if (!is_pg(a) && mark_version(a, AUDIT_SCHEMA_VERSION) == -1)
		goto fail;
	if (sqldb_commit(a->db) == -1) {
		audit_fail(a, "commit");
		goto fail;
	}
	if (a->version && a->version < AUDIT_SCHEMA_VERSION)
		audit_log(a, "info", "state file migrated", json_pack(
		    "{s:s, s:i, s:i}", "path", a->path, "from", a->version,
		    "to", AUDIT_SCHEMA_VERSION));
	a->version = AUDIT_SCHEMA_VERSION;
	return 0;
fail:
	*err = xasprintf("%s: cannot migrate the schema from version %d: %s",
	    a->path, a->version, a->error ? a->error : "?");
	sqldb_rollback(a->db);
	return -1;
}

/*
 * Indexes of the few rows a start reads beside the newest (an intent not
 * completed, a pull request's record), so that a start or a takeover
 * reads those rather than scanning every record: on a 200,000-record
 * file each scan was a third of a second or more.  Not schema steps: a
 * release before opens the file as it is (it looks for tables, not
 * indexes), and its writes keep them current.  Made at the first
 * writer's open after the upgrade, once (about half a second per
 * 200,000 records), under the schema lock.
 */
static const char *const start_indexes[] = {
	"CREATE INDEX IF NOT EXISTS decisions_intended ON decisions(id) "
	"WHERE " AUDIT_INTENDED,
	"CREATE INDEX IF NOT EXISTS decisions_requests ON decisions(id) "
	"WHERE " AUDIT_REQUEST_ROWS,
};

static int
make_start_indexes(struct audit *a, char **err)
{
	size_t i;

	if (sqldb_begin(a->db) == -1 || sqldb_lock(a->db, "schema") == -1) {
		audit_fail(a, "begin");
		goto fail;
	}
	for (i = 0; i < sizeof start_indexes / sizeof *start_indexes; i++)
		if (audit_exec(a, start_indexes[i]) == -1)
			goto fail;
	if (sqldb_commit(a->db) == -1) {
		audit_fail(a, "commit");
		goto fail;
	}
	return 0;
fail:
	*err = xasprintf("%s: cannot index the schema: %s", a->path,
	    a->error ? a->error : "?");
	sqldb_rollback(a->db);
	return -1;
}

/* What every writer's connection needs, before the schema is touched. */
static int
setup_writer(struct audit *a, char **err)
{
	char sql[64];

	/* only takes effect before the first table: a new file */
	if (!has_tables(a) && audit_exec(a, "PRAGMA auto_vacuum = "
	    "INCREMENTAL") == -1)
		goto fail;
	if (audit_exec(a, "PRAGMA journal_mode = WAL") == -1)
		goto fail;
	snprintf(sql, sizeof sql, "PRAGMA synchronous = %s",
	    a->opts.sync_full ? "FULL" : "NORMAL");
	/* the checkpointer copies the log; the writer only past 32 MiB */
	if (audit_exec(a, sql) == -1 ||
	    audit_exec(a, "PRAGMA journal_size_limit = 67108864") == -1 ||
	    audit_exec(a, "PRAGMA wal_autocheckpoint = 8192") == -1)
		goto fail;
	snprintf(sql, sizeof sql, "PRAGMA application_id = %d",
	    APPLICATION_ID);
	if (audit_exec(a, sql) == -1)
		goto fail;
	return 0;
fail:
	*err = xasprintf("%s: %s", a->path, a->error ? a->error : "?");
	return -1;
}

static int
take_lock(struct audit *a, char **err)
{
	char *lock = xasprintf("%s.lock", a->path);

	a->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (a->lock_fd == -1) {
		*err = xasprintf("%s: %s", lock, strerror(errno));
		free(lock);
		return -1;
	}
	if (flock(a->lock_fd, LOCK_EX | LOCK_NB) == -1) {
		*err = xasprintf("%s is in use by another remediate (it holds "
		    "%s): one daemon per state file", a->path, lock);
		free(lock);
		return -1;
	}
	free(lock);
	return 0;
}

/*
 * PostgreSQL: one writer per cluster, as the .lock file makes it one per
 * file.  The lock is the session's: it goes when the process does (kill
 * -9 too, once the server sees the connection close).
 */
static int
take_pg_lock(struct audit *a, char **err)
{
	const char *cluster = audit_cluster(a);
	char *name = xasprintf("writer %s", cluster);
	int rc = sqldb_session_lock(a->db, name);

	free(name);
	if (rc == 0)
		return 0;
	if (rc == 1)
		*err = xasprintf("%s is in use by another remediate (it holds "
		    "the writer lock of cluster \"%s\"): one daemon per "
		    "cluster writes", a->path, cluster);
	else
		*err = xasprintf("%s: cannot take the writer lock: %s",
		    a->path, sqldb_errmsg(a->db));
	return -1;
}

const char *
audit_cluster(const struct audit *a)
{
	return a->opts.cluster ? a->opts.cluster : AUDIT_CLUSTER_DEFAULT;
}

/*
 * The rows this writer's: state and undecided events written before
 * schema 6 ('', NULL) become its cluster's, where a row of its own does not
 * already hold the key.  A SQLite file has one writer, so every row is
 * its own whatever it was called before: a renamed kubeconfig context
 * keeps its cooldowns.  In PostgreSQL only the unclaimed ones, once.
 */
static int
claim_rows(struct audit *a, char **err)
{
	const char *other = is_pg(a) ? "cluster = ''" : "cluster <> ?1";
	char *text[3];
	struct sqldb_stmt *st;
	int i, rc = 0;

	text[0] = xasprintf("DELETE FROM state WHERE %s AND EXISTS (SELECT 1 "
	    "FROM state s WHERE s.cluster = ?1 AND s.kind = state.kind AND "
	    "s.key = state.key)", other);
	text[1] = xasprintf("UPDATE state SET cluster = ?1 WHERE %s", other);
	text[2] = xasprintf("UPDATE intake SET cluster = ?1 WHERE cluster IS "
	    "NULL%s", is_pg(a) ? "" : " OR cluster <> ?1");
	if (sqldb_begin(a->db) == -1)
		rc = -1;
	for (i = 0; i < 3 && rc == 0; i++) {
		if ((st = sqldb_prepare(a->db, text[i], 0)) == NULL) {
			rc = -1;
			break;
		}
		sqldb_bind_text(st, 1, audit_cluster(a));
		if (sqldb_step(st) != SQLDB_DONE)
			rc = -1;
		sqldb_finalize(st);
	}
	if (rc == 0 && sqldb_commit(a->db) == -1)
		rc = -1;
	if (rc == -1) {
		*err = xasprintf("%s: cannot claim the state rows of cluster "
		    "\"%s\": %s", a->path, audit_cluster(a),
		    sqldb_errmsg(a->db));
		sqldb_rollback(a->db);
	}
	for (i = 0; i < 3; i++)
		free(text[i]);
	return rc;
}

static int
prepare(struct audit *a, struct sqldb_stmt **st, const char *sql,
    char **err)
{
	if ((*st = sqldb_prepare(a->db, sql, 1)) != NULL)
		return 0;
	*err = xasprintf("%s: %s", a->path, sqldb_errmsg(a->db));
	return -1;
}

static int
prepare_writer(struct audit *a, char **err)
{
	return prepare(a, &a->ins, "INSERT INTO decisions (time, sensor, "
	    "trigger, target, decision, reason, outcome, record, inputs, "
	    "cluster) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
	    err) == -1 ||
	    prepare(a, &a->upd, "UPDATE decisions SET decision = ?, reason = "
	    "?, outcome = ?, record = ?, inputs = ? WHERE id = ?",
	    err) == -1 ||
	    prepare(a, &a->put, "INSERT INTO state (cluster, kind, key, value) "
	    "VALUES (?, ?, ?, ?) ON CONFLICT (cluster, kind, key) DO UPDATE "
	    "SET value = excluded.value", err) == -1 ||
	    prepare(a, &a->del, "DELETE FROM state WHERE cluster = ? AND kind "
	    "= ? AND key = ?", err) == -1 ||
	    prepare(a, &a->done_st, "DELETE FROM intake WHERE id = ?",
	    err) == -1 ? -1 : 0;
}

/* Checks the file is ours and not from a newer build. */
static int
check_file(struct audit *a, char **err)
{
	int64_t id = 0, version = 0, tables = 0;

	if (is_pg(a)) {
		if (read_version(a, &a->version) == -1) {
			*err = xasprintf("%s: cannot read the schema version: "
			    "%s", a->path, sqldb_errmsg(a->db));
			return -1;
		}
		if (a->version == 0 && a->opts.readonly) {
			*err = xasprintf("%s: holds no remediate state yet "
			    "(remediate run creates it)", a->path);
			return -1;
		}
	} else if (sqldb_file_identity(a->db, &id, &version, &tables) == 0)
		a->version = (int)version;
	else {
		/* only NOTADB says what the file is; the rest, why it
		 * could not be read */
		*err = xasprintf("%s: %s: %s", a->path,
		    sqldb_error(a->db) == SQLDB_ENOTDB ?
		    "not a state file" : "cannot read it",
		    sqldb_errmsg(a->db));
		return -1;
	}
	if (!is_pg(a) && id != APPLICATION_ID && (id != 0 || tables > 0)) {
		*err = xasprintf("%s: not a remediate state file (another "
		    "program's SQLite database?)", a->path);
		return -1;
	}
	if (a->version > AUDIT_SCHEMA_VERSION) {
		*err = xasprintf("%s: written by a newer remediate (schema %d; "
		    "this one knows up to %d)", a->path, a->version,
		    AUDIT_SCHEMA_VERSION);
		return -1;
	}
	return 0;
}

/* Is path's directory on a read-only file system (or not writable)? */
static int
dir_readonly(const char *path)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	struct statvfs sv;
	int ro;

	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else {
		free(dir);
		dir = xstrdup(".");
	}
	ro = (statvfs(dir, &sv) == 0 && (sv.f_flag & ST_RDONLY)) ||
	    access(dir, W_OK) == -1;
	free(dir);
	return ro;
}

/*
 * history on a read-only file system: SQLite reads a WAL file through
 * PATH-shm, which it cannot create there, and used to fail as "not a
 * state file".  Without a log to read (a clean shutdown leaves none) the
 * file is read as immutable; with one, the error says what to do.
 */
static int
open_readonly_fs(struct audit *a, char **err)
{
	char *wal = xasprintf("%s-wal", a->path), *uri;
	struct buf b;
	struct stat sb;
	const char *p;

	if (!dir_readonly(a->path)) {
		free(wal);
		return -1;	/* *err from check_file stands */
	}
	free(*err);
	if (stat(wal, &sb) == 0 && sb.st_size > 0) {
		*err = xasprintf("%s: on a read-only file system, and its "
		    "write-ahead log %s holds records not yet in the file: "
		    "SQLite must create %s-shm to read them.  Copy the file "
		    "and its -wal to a writable directory and read the copy",
		    a->path, wal, a->path);
		free(wal);
		return -1;
	}
	free(wal);
	buf_init(&b, 0);
	buf_adds(&b, "file:");
	for (p = a->path; *p; p++)	/* the URI's own characters */
		if (*p == '%' || *p == '?' || *p == '#')
			buf_printf(&b, "%%%02X", (unsigned char)*p);
		else
			buf_addc(&b, *p);
	buf_adds(&b, "?immutable=1");
	uri = buf_steal(&b);
	sqldb_close(a->db);
	*err = NULL;
	a->db = sqldb_open(uri, SQLDB_READONLY, err);
	free(uri);
	if (a->db == NULL)
		return -1;
	return check_file(a, err);
}


/*
 * PRAGMA quick_check on a writer's file.  Damaged: an error, or with
 * recover the file is moved aside (*aside, owned) and a new one opened in
 * its place for audit_open to fill.
 */
static int
damaged(struct audit *a, char **err, char **aside)
{
	char *why;

	*aside = NULL;
	if (audit_quick_check(a, &why) == 0)
		return 0;
	if (!a->opts.recover) {
		*err = xasprintf("%s: the state file is damaged (PRAGMA "
		    "quick_check: %s); refusing to start on it: a guardrail "
		    "could reset.  remediate run --state-recover moves it "
		    "aside and starts from a copy of what still reads "
		    "(docs/state.md)", a->path, why);
		free(why);
		return -1;
	}
	free(why);
	sqldb_close(a->db);
	a->db = NULL;
	if ((*aside = audit_recover_aside(a->path, wall_ms(), err)) == NULL)
		return -1;
	if ((a->db = sqldb_open(a->path, SQLDB_CREATE, err)) == NULL)
		return -1;
	a->version = 0;
	return 0;
}

struct audit *
audit_open(const char *path, const struct audit_opts *o, char **err)
{
	struct audit *a = xcalloc(1, sizeof *a);
	char *aside = NULL;
	int pg = sqldb_is_postgres(path);
	struct stat sb;

	a->magic = AUDIT_MAGIC;
	a->path = sqldb_display(path);
	a->opts = *o;
	a->lock_fd = -1;
	pthread_mutex_init(&a->health_mu, NULL);
	if (pg && o->recover) {
		*err = xasprintf("%s: --state-recover is for a SQLite state "
		    "file; PostgreSQL recovers from crashes itself, and a "
		    "damaged database is restored from its backups "
		    "(docs/state.md)", a->path);
		goto fail;
	}
	if (!pg && o->readonly && stat(path, &sb) == -1) {
		*err = xasprintf("%s: %s (remediate run writes it; --state "
		    "FILE names another)", path, strerror(errno));
		goto fail;
	}
	if (!pg && !o->readonly && take_lock(a, err) == -1)
		goto fail;
	if ((a->db = sqldb_open(path, o->readonly ? SQLDB_READONLY :
	    SQLDB_CREATE, err)) == NULL)
		goto fail;
	if (pg && !o->readonly && take_pg_lock(a, err) == -1)
		goto fail;
	if (check_file(a, err) == -1 && (pg || !o->readonly ||
	    open_readonly_fs(a, err) == -1))
		goto fail;
	if (!pg && !o->readonly && damaged(a, err, &aside) == -1)
		goto fail;
	if (!o->readonly && ((!pg && setup_writer(a, err) == -1) ||
	    migrate(a, err) == -1 || make_start_indexes(a, err) == -1 ||
	    prepare_writer(a, err) == -1))
		goto fail;
	if (aside && audit_recover_copy(a, aside, err) == -1)
		goto fail;
	if (!o->readonly && claim_rows(a, err) == -1)
		goto fail;
	if (!pg && !o->readonly)
		(void)audit_ckpt_start(a, path);	/* else the writer does */
	if (!o->readonly && o->stored && o->group > 1)
		(void)audit_writer_start(a);	/* else this thread writes */
	free(aside);
	return a;
fail:
	free(aside);
	audit_close(a);
	return NULL;
}

int
audit_schema_version(const struct audit *a)
{
	return a->version;
}

void
audit_close(struct audit *a)
{
	if (a == NULL)
		return;
	if (a->magic != AUDIT_MAGIC)
		abort();
	if (a->nsrc && a->ins)
		audit_sync(a);
	audit_settle(a);	/* without a journal: the group still out */
	audit_writer_stop(a);
	audit_ckpt_stop(a);	/* before the writer's close checkpoints */
	sqldb_finalize(a->ins);
	sqldb_finalize(a->upd);
	sqldb_finalize(a->put);
	sqldb_finalize(a->del);
	sqldb_finalize(a->done_st);
	sqldb_close(a->db);
	if (a->lock_fd != -1)
		close(a->lock_fd);	/* releases the flock */
	audit_backlog_free(a);
	json_decref(a->damaged);
	audit_held_free(a);
	free(a->done);
	free(a->health);
	pthread_mutex_destroy(&a->health_mu);
	audit_pending_free(a);
	free(a->error);
	free(a->path);
	a->magic = 0;
	free(a);
}

/*
 * A guard row that does not load: without recover an error (first one
 * named); with recover kept for audit_attach_guard to count as its most
 * restrictive value.
 */
static void
guard_row_damaged(struct audit *a, const char *kind, const char *key,
    char **first)
{
	if (*first == NULL)
		*first = xasprintf("%s %s", kind ? kind : "(unreadable kind)",
		    key ? key : "(unreadable key)");
	if (!a->opts.recover)
		return;
	if (a->damaged == NULL)
		a->damaged = json_array();
	json_array_append_new(a->damaged, json_pack("[s?, s?]", kind, key));
}

/* The kept state rows of one source, this cluster's. */
static const char *
rows_query(enum audit_source_kind k)
{
	switch (k) {
	case SRC_PAGE:
		return "SELECT kind, key, value FROM state WHERE cluster = ? "
		    "AND kind IN ('page', 'pageout') ORDER BY kind, key";
	case SRC_EDGE:
		return "SELECT kind, key, value FROM state WHERE cluster = ? "
		    "AND kind = '" SCHED_EDGE_KIND "'";
	default:
		return "SELECT kind, key, value FROM state WHERE cluster = ? "
		    "AND kind NOT IN ('page', 'pageout', '" SCHED_EDGE_KIND
		    "')";
	}
}

/* One row into its source (value NULL: its text did not read). */
static int
load_row(const struct audit_source *s, const char *kind, const char *key,
    json_t *v)
{
	switch (s->kind) {
	case SRC_GUARD:
		return v ? guard_state_load(s->obj, kind, key, v) : -1;
	case SRC_PAGE:
		return v ? page_state_load(s->obj, kind, key, v) : -1;
	case SRC_EDGE:
		/* called without a value too: the row is marked to go */
		return sched_edges_load(s->obj, kind, key, v);
	}
	return -1;
}

/* Loads the kept state rows of one kind family into a source. */
static int
load_rows(struct audit *a, const struct audit_source *s, char **err)
{
	struct sqldb_stmt *st;
	json_error_t je;
	size_t bad = 0;
	char *first = NULL;
	int rc;

	if ((st = sqldb_prepare(a->db, rows_query(s->kind), 0)) == NULL) {
		*err = xasprintf("%s: %s", a->path, sqldb_errmsg(a->db));
		return -1;
	}
	sqldb_bind_text(st, 1, audit_cluster(a));
	while ((rc = sqldb_step(st)) == SQLDB_ROW) {
		const char *kind = sqldb_column_text(st, 0);
		const char *key = sqldb_column_text(st, 1);
		const char *text = sqldb_column_text(st, 2);
		json_t *v = text ? util_json_loads(text, 0, &je) : NULL;

		if (load_row(s, kind, key, v) == -1) {
			bad++;
			if (s->kind == SRC_GUARD)
				guard_row_damaged(a, kind, key, &first);
		}
		json_decref(v);
	}
	if (rc != SQLDB_DONE) {
		*err = xasprintf("%s: %s", a->path, sqldb_errmsg(a->db));
		sqldb_finalize(st);
		free(first);
		return -1;
	}
	sqldb_finalize(st);
	if (first && !a->opts.recover) {
		*err = xasprintf("%s: %zu guard-state row%s cannot be read "
		    "(the first: %s); refusing to start: its guardrail would "
		    "reset.  remediate run --state-recover starts anyway, "
		    "counting each as its most restrictive value "
		    "(docs/state.md)", a->path, bad, bad == 1 ? "" : "s",
		    first);
		free(first);
		return -1;
	}
	if (first) {
		audit_log(a, "error", "guard-state rows that cannot be read "
		    "count as their most restrictive value", json_pack(
		    "{s:s, s:i, s:s}", "path", a->path, "entries", (int)bad,
		    "first", first));
		free(first);
		return 0;
	}
	if (bad && s->kind == SRC_EDGE)
		audit_log(a, "warn", "prometheus edge rows that do not read "
		    "were dropped: their series fire again if over the line",
		    json_pack("{s:s, s:i}", "path", a->path, "entries",
		    (int)bad));
	else if (bad)
		audit_log(a, "warn", "state entries that do not load were "
		    "dropped", json_pack("{s:s, s:i}", "path", a->path,
		    "entries", (int)bad));
	return 0;
}

static int
attach(struct audit *a, enum audit_source_kind kind, void *obj, char **err)
{
	struct audit_source s = { kind, obj };

	if (a->opts.readonly || a->nsrc == (int)UTIL_ARRAY_LEN(a->src)) {
		*err = xstrdup("audit: cannot attach state to this handle");
		return -1;
	}
	if (load_rows(a, &s, err) == -1)
		return -1;
	a->src[a->nsrc++] = s;
	return 0;
}

int
audit_attach_guard(struct audit *a, struct guard_state *g, char **err)
{
	json_t *row;
	int64_t now;
	size_t i;

	if (attach(a, SRC_GUARD, g, err) == -1)
		return -1;
	guard_state_track(g);
	/* tracked now, so the restrictive values are written back */
	now = wall_ms();
	json_array_foreach(a->damaged, i, row)
		(void)guard_state_load_damaged(g, json_string_value(
		    json_array_get(row, 0)), json_string_value(json_array_get(
		    row, 1)), now);
	json_decref(a->damaged);
	a->damaged = NULL;
	return 0;
}

int
audit_attach_pages(struct audit *a, struct page *p, char **err)
{
	return attach(a, SRC_PAGE, p, err);
}

int
audit_attach_edges(struct audit *a, struct sched_edges *e, char **err)
{
	return attach(a, SRC_EDGE, e, err);
}

int
audit_stats(struct audit *a, int64_t *records, int64_t *bytes)
{
	int count = 0, pages = 0, size = 0;
	int64_t total = 0;

	audit_settle(a);
	if (is_pg(a)) {
		if (pragma_int(a, "SELECT count(*) FROM decisions", &count) ==
		    -1 || sqldb_query_int(a->db, "SELECT coalesce(sum("
		    "pg_total_relation_size(t)), 0)::bigint FROM (VALUES "
		    "(to_regclass('decisions')), (to_regclass('state')), "
		    "(to_regclass('intake')), (to_regclass('replay')), "
		    "(to_regclass('approvals'))) v(t) WHERE t IS NOT NULL",
		    &total) == -1)
			return -1;
		*records = count;
		*bytes = total;
		return 0;
	}
	if (pragma_int(a, "SELECT count(*) FROM decisions", &count) == -1 ||
	    pragma_int(a, "PRAGMA page_count", &pages) == -1 ||
	    pragma_int(a, "PRAGMA page_size", &size) == -1)
		return -1;
	*records = count;
	*bytes = (int64_t)pages * size;
	return 0;
}
