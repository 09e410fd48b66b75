/*
 * The driver of bench/state: replays a signal file through the whole
 * engine, as `remediate replay` does, with the decisions' state either in
 * memory only or in the audit store (intents and records, one transaction
 * each, as the daemon writes them), and prints one JSON line of figures.
 *
 *	state_bench MODE MANIFESTS CLUSTER BUDGET SIGNALS [STATE]
 *
 * MODE: memory | full | normal (the store's synchronous setting) |
 * intake (normal, and every signal first made durable as a webhook's is:
 * intake_put, one request per signal so no intake group commit helps,
 * then decided between audit_event_begin and audit_event_end, which
 * removes it with its records) | inline (normal without the writer
 * thread: each group written on the engine thread, as before it) |
 * single (normal without group commit: one transaction per decision, as
 * before that).  full, normal, intake and inline group the records as the
 * daemon does under a storm: every signal of the file is already
 * waiting, so records are written AUDIT_GROUP_MAX at a time, and
 * audit_flush writes the rest at the end (the daemon's queue running
 * empty); full, normal and intake with the writer thread, as the daemon
 * (opts.stored counts the records told stored: "stored" in the line).
 * Besides wall-clock decisions/s the line carries the CPU seconds of the
 * process and of the engine's thread alone: on a shared machine the
 * clock measures the neighbours as much as us.  An execute hook that answers at once stands in for
 * the API server, so acted decisions take the daemon's path: intend,
 * execute, write.  STATE may be a postgres:// URL (an empty database):
 * the same modes then run against PostgreSQL (full is the same as normal
 * there).  The JSON line carries the process's peak RSS.
 */
#include <sys/resource.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "conf/conf.h"
#include "engine/engine.h"
#include "intake/intake.h"

struct bench {
	struct clock		 clock;
	struct audit		*audit;
	struct intake		*intake;	/* mode intake */
	struct sig_recording	*recording;
	long			 records, acted;
	long			 stored, lost;	/* as opts.stored told */
	struct buf		 line;		/* a record's line, reused */
};

static int
budget(void *ctx, const char *q, int64_t now, double *v, int64_t *at)
{
	return sig_recording_query(ctx, q, now, v, at);
}

static int
execute(void *ctx, const json_t *plan, int dry_run, json_t **result,
    char **err)
{
	(void)ctx;
	(void)plan;
	(void)dry_run;
	(void)err;
	*result = NULL;
	return 0;
}

static int
intend(void *ctx, const struct rec_decision_record *r)
{
	struct bench *b = ctx;

	return b->audit ? audit_intend(b->audit, r) : 0;
}

/* opts.stored: the daemon shows the records here; this counts them. */
static void
stored(void *ctx, size_t n, int ok)
{
	struct bench *b = ctx;

	if (ok)
		b->stored += (long)n;
	else
		b->lost += (long)n;
}

/*
 * As the daemon's emit: the record's line is written for stdout in every
 * mode (not printed here), and the store is given that text.
 */
static void
emit(void *ctx, const struct rec_decision_record *r)
{
	struct bench *b = ctx;

	buf_reset(&b->line);
	rec_write_line(r, &b->line);
	b->line.data[--b->line.len] = '\0';	/* as the daemon's */
	b->records++;
	b->acted += r->decision == REC_ACTED;
	if (b->audit)
		audit_write_text(b->audit, r, b->line.data);
}

/* One signal, durable first in mode intake, as the daemon decides it. */
static void
decide(struct bench *b, struct engine *e, struct event *ev)
{
	int64_t id = 0;

	if (b->intake && intake_put(b->intake, ev, 1, NULL, b->clock.fixed,
	    &id) != INTAKE_OK) {
		fprintf(stderr, "state_bench: intake_put failed\n");
		exit(1);
	}
	audit_event_begin(b->audit, id);
	engine_signal(e, ev);
	if (id) {
		audit_event_end(b->audit);
		intake_decided(b->intake, 1);
	}
}

static void
feed(struct bench *b, struct engine *e, const char *text, long lineno)
{
	json_error_t je;
	json_t *line = json_loads(text, 0, &je), *w;
	const char *t;
	int64_t when;
	struct event ev;

	if (line == NULL)
		return;
	t = json_string_value(json_object_get(line, "time"));
	if (t && time_parse(t, &when) == 0 && when >= b->clock.fixed)
		clock_fixed(&b->clock, when);
	if ((w = json_object_get(line, "watch")) != NULL) {
		const char *type = json_string_value(json_object_get(w,
		    "type"));
		enum sig_watch_type wt = sig_watch_type_parse(type);

		if (wt)
			engine_watch(e, wt, json_object_get(w, "object"));
	} else {
		memset(&ev, 0, sizeof ev);
		ev.source = json_string_value(json_object_get(line,
		    "eventSource"));
		ev.name = json_string_value(json_object_get(line, "eventName"));
		ev.type = "replay";
		ev.time = b->clock.fixed;
		ev.id = xasprintf("bench:%ld", lineno);
		ev.data = json_incref(json_object_get(line, "data"));
		sig_event_infer(&ev);
		decide(b, e, &ev);
		event_clear(&ev);
	}
	json_decref(line);
}

/*
 * The snapshot's objects (the Lists in CLUSTER's .json files) put as
 * the daemon's watches put them: workloads and Pods compact, so a
 * decision reads what it reads in `run`, objects materialized from the
 * view's texts, and the audit log writes notes of them.  (cluster_load
 * keeps a snapshot's workloads whole, as `replay` does;
 * STATE_BENCH_WHOLE=1 loads so.)
 */
static void
load_compact(struct cluster *cl, const char *path)
{
	char file[4096];
	struct dirent *de;
	json_t *doc, *it;
	size_t i;
	DIR *d;

	if ((d = opendir(path)) == NULL) {
		perror(path);
		exit(1);
	}
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);

		if (n < 5 || strcmp(de->d_name + n - 5, ".json") != 0)
			continue;
		snprintf(file, sizeof file, "%s/%s", path, de->d_name);
		if ((doc = json_load_file(file, 0, NULL)) == NULL) {
			fprintf(stderr, "state_bench: %s: not JSON\n", file);
			exit(1);
		}
		json_array_foreach(json_object_get(doc, "items"), i, it)
			cluster_put(cl, it, NULL);
		json_decref(doc);
	}
	closedir(d);
}

static double
seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * CPU seconds of the process (all threads), and of the calling thread
 * alone (the engine's), whatever else the machine runs.
 */
static double
cpu(const struct rusage *ru)
{
	return (double)ru->ru_utime.tv_sec + (double)ru->ru_stime.tv_sec +
	    ((double)ru->ru_utime.tv_usec + (double)ru->ru_stime.tv_usec) /
	    1e6;
}

static double
thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	const char *paths[1];
	struct engine_opts eo;
	struct audit_opts ao;
	struct diags dg;
	struct bench b;
	struct cluster *cl;
	struct conf *c;
	struct engine *e;
	char *line = NULL, *err = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	int64_t rows = 0, bytes = 0;
	double t0, t1, c0, c1, e0, e1;
	struct rusage ru;
	FILE *in;

	if (argc < 6 || (strcmp(argv[1], "memory") != 0 && argc < 7)) {
		fprintf(stderr, "usage: state_bench "
		    "memory|full|normal|intake|inline|single "
		    "MANIFESTS CLUSTER BUDGET SIGNALS [STATE]\n");
		return 2;
	}
	memset(&b, 0, sizeof b);
	clock_fixed(&b.clock, 0);
	diag_init(&dg);
	paths[0] = argv[2];
	c = conf_load(paths, 1, &dg);
	cl = cluster_new();
	if (getenv("STATE_BENCH_WHOLE"))	/* as bench/state measured before */
		cluster_load(cl, argv[3], NULL, NULL, &dg);
	else
		load_compact(cl, argv[3]);
	b.recording = sig_recording_load(argv[4], &dg);
	memset(&eo, 0, sizeof eo);
	eo.clock = &b.clock;
	eo.cluster = cl;
	eo.budget = budget;
	eo.budget_ctx = b.recording;
	eo.execute = execute;
	eo.intend = intend;
	eo.intend_ctx = &b;
	eo.emit = emit;
	eo.emit_ctx = &b;
	e = dg.errors ? NULL : engine_new(c, &eo, &dg);
	diag_print(&dg, stderr);
	if (e == NULL)
		return 1;
	if (strcmp(argv[1], "memory") != 0) {
		audit_opts_defaults(&ao);
		ao.sync_full = strcmp(argv[1], "full") == 0;
		if (strcmp(argv[1], "single") != 0)
			ao.group = AUDIT_GROUP_MAX;
		if (ao.group > 1 && strcmp(argv[1], "inline") != 0) {
			ao.stored = stored;
			ao.stored_ctx = &b;
		}
		ao.retain_age = 0;
		ao.retain_count = 0;
		ao.note_known = cluster_noted_text;	/* as the daemon */
		ao.note_known_ctx = cl;
		unlink(argv[6]);
		if ((b.audit = audit_open(argv[6], &ao, &err)) == NULL ||
		    audit_attach_guard(b.audit, engine_guard_state(e),
		    &err) == -1) {
			fprintf(stderr, "state_bench: %s\n", err);
			return 1;
		}
	}
	if (strcmp(argv[1], "intake") == 0) {
		struct intake_opts io;

		memset(&io, 0, sizeof io);
		if ((b.intake = intake_open(argv[6], &io, &err)) == NULL) {
			fprintf(stderr, "state_bench: %s\n", err);
			return 1;
		}
	}
	if ((in = fopen(argv[5], "r")) == NULL) {
		perror(argv[5]);
		return 1;
	}
	getrusage(RUSAGE_SELF, &ru);
	c0 = cpu(&ru);
	e0 = thread_cpu();
	t0 = seconds();
	while ((n = getline(&line, &cap, in)) != -1)
		feed(&b, e, line, ++lineno);
	if (b.audit && (audit_flush(b.audit) != 0 || b.lost)) {
		fprintf(stderr, "state_bench: audit_flush failed\n");
		return 1;
	}
	t1 = seconds();
	getrusage(RUSAGE_SELF, &ru);
	c1 = cpu(&ru);
	e1 = thread_cpu();
	fclose(in);
	free(line);
	intake_free(b.intake);
	if (b.audit) {
		audit_stats(b.audit, &rows, &bytes);
		audit_close(b.audit);
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("{\"mode\":\"%s\",\"signals\":%ld,\"records\":%ld,"
	    "\"stored\":%ld,\"acted\":%ld,\"seconds\":%.3f,"
	    "\"decisions_per_s\":%.0f,"
	    "\"cpu_seconds\":%.3f,\"engine_cpu_seconds\":%.3f,"
	    "\"rows\":%lld,\"bytes\":%lld,\"max_rss_kb\":%ld}\n", argv[1],
	    lineno, b.records, b.stored, b.acted, t1 - t0,
	    (double)b.records / (t1 - t0), c1 - c0, e1 - e0, (long long)rows, (long long)bytes, ru.ru_maxrss);
	engine_free(e);
	sig_recording_free(b.recording);
	cluster_free(cl);
	buf_free(&b.line);
	conf_free(c);
	diag_free(&dg);
	return 0;
}
