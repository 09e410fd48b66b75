/*
 * remediate replay: the whole pipeline offline.  Recorded signals go
 * through sources, sensors, guardrails and policies with the clock taken
 * from each line's time, against an in-memory cluster built from a
 * snapshot; one decision record per line comes out.  Nothing is executed:
 * "acted" means the action would have been sent.
 *
 * Input lines (NDJSON, in time order):
 *   {"time":T,"watch":{"type":"ADDED|MODIFIED|DELETED","object":OBJ}}
 *   {"time":T,"eventSource":S,"eventName":E,"data":{...}[,"id":ID]}
 * A bad line is reported as file:line: error and skipped; the rest still
 * runs and the exit status is 1.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/args.h"
#include "cmd/cmd.h"
#include "cmd/cmd_int.h"
#include "conf/conf.h"
#include "engine/engine.h"
#include "notify/notify.h"
#include "prom/prom.h"

#define MAX_LINE (16u << 20)	/* bytes per signal line */

struct replay {
	const char		*path;
	long			 lineno;
	struct clock		 clock;
	struct engine		*engine;
	struct sig_recording	*recording;
	struct rec_table	*table;		/* --table; owned */
	size_t			 bad_lines;
	json_t			*collect;	/* borrowed: records go here
						   instead of stdout */
	struct cluster		*cluster;	/* borrowed: the view */
	struct replay_whole	*whole;		/* owned: its whole objects,
						   the view's fetch hook */
	off_t			 off;		/* where the line read is */
	const struct buf	*line;		/* borrowed: the line read */
	struct notify_config	*notify;	/* owned, collect only: the
						   configuration's routes */
	struct buf		 out;		/* a record's line, reused */
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: remediate replay -c DIR [--cluster DIR] "
	    "[--prometheus-recording FILE]\n"
	    "                        [--table] SIGNALS.ndjson\n"
	    "Feeds recorded signals (NDJSON, '-' for stdin) through the whole "
	    "pipeline\nwith the clock taken from the signals; prints one JSON "
	    "decision record per\nline (--table: a table for people).  "
	    "Executes nothing.\n");
}

static int
budget_from_recording(void *ctx, const char *q, int64_t now, double *v,
    int64_t *at)
{
	struct prom_sample s = { NULL, 0, 0 };
	struct prom_result r = { PROM_SCALAR, &s, 1, NULL, 0, 0 };
	const char *why;

	if (sig_recording_query(ctx, q, now, &s.value, &s.time) == -1)
		return -1;
	/* the live path's rule: NaN, +Inf, the future are no budget */
	if (prom_gate_value(&r, now, 0, v, at, &why) == -1) {
		fprintf(stderr, "warning: budget %s: recorded value counted as "
		    "no budget: %s\n", q, why);
		return -1;
	}
	return 0;
}

/*
 * For a test: who would hear of r, as "notify": {"owner", "destinations"}
 * in j, when the configuration has destinations.  The owner and route
 * are notify's, read from the view as it is at the decision; a
 * suppression tells nobody (the daemon pages the on-call instead, see
 * tell_owner in src/daemon/daemon.c), so its list is empty.
 */
static void
add_notify(struct replay *rp, const struct rec_decision_record *r, json_t *j)
{
	const struct notify_dest *d[16];
	const char *owner;
	json_t *names = json_array();
	size_t i, n = 0;

	owner = notify_owner(rp->notify, cluster_get(rp->cluster,
	    r->target.kind, r->target.namespace, r->target.name),
	    cluster_get(rp->cluster, r->subject.kind, r->subject.namespace,
	    r->subject.name));
	if (r->decision != REC_SUPPRESSED)
		n = notify_route(rp->notify, owner, d, 16);
	for (i = 0; i < n; i++)
		json_array_append_new(names, json_string(d[i]->name));
	json_object_set_new(j, "notify", json_pack("{s:s?, s:o}", "owner",
	    owner, "destinations", names));
}

static void
emit_record(void *ctx, const struct rec_decision_record *r)
{
	struct replay *rp = ctx;
	json_t *j;

	if (rp->collect) {
		j = rec_to_json(r);
		if (rp->notify && rp->notify->ndests > 0)
			add_notify(rp, r, j);
		json_array_append_new(rp->collect, j);
		return;
	}
	if (rp->table) {
		j = rec_to_json(r);
		rec_table_add(rp->table, j);
		json_decref(j);
		return;
	}
	buf_reset(&rp->out);
	rec_write_line(r, &rp->out);
	fwrite(rp->out.data, 1, rp->out.len, stdout);
}

static void bad_line(struct replay *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
bad_line(struct replay *rp, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%ld: error: ", rp->path, rp->lineno);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	rp->bad_lines++;
}

static void
replay_watch(struct replay *rp, json_t *watch)
{
	const char *type = json_string_value(json_object_get(watch, "type"));
	json_t *obj = json_object_get(watch, "object");
	enum sig_watch_type t = sig_watch_type_parse(type);

	if (t == 0) {
		bad_line(rp, "watch.type must be ADDED, MODIFIED or DELETED, "
		    "not %s", type ? type : "missing");
		return;
	}
	if (!json_is_object(obj) || json_string_value(json_object_get(obj,
	    "kind")) == NULL) {
		bad_line(rp, "watch.object must be an object with a kind");
		return;
	}
	/*
	 * The whole object is kept before the engine sees it (a decision
	 * the watch raises may fetch it) and forgotten after (one raised
	 * by a deletion still finds it).
	 */
	if (t != SIG_DELETE)
		replay_whole_put_line(rp->whole, obj, rp->off, rp->line->data,
		    rp->line->len);
	engine_watch(rp->engine, t, obj);
	replay_whole_line_done(rp->whole);
	if (t == SIG_DELETE)
		replay_whole_del(rp->whole, obj_kind(obj), obj_namespace(obj),
		    obj_name(obj));
}

static void
replay_signal(struct replay *rp, json_t *line)
{
	const char *src = json_string_value(json_object_get(line,
	    "eventSource"));
	const char *name = json_string_value(json_object_get(line,
	    "eventName"));
	const char *id = json_string_value(json_object_get(line, "id"));
	json_t *data = json_object_get(line, "data");
	struct event ev;

	if (src == NULL || name == NULL || data == NULL) {
		bad_line(rp, "a signal line needs eventSource, eventName and "
		    "data");
		return;
	}
	memset(&ev, 0, sizeof ev);
	ev.source = src;
	ev.name = name;
	/* as `run` types it: a sensor's context.type filter reads it */
	ev.type = engine_source_type(rp->engine, src, name);
	if (ev.type == NULL)
		ev.type = "replay";	/* no such source: no sensor hears it */
	ev.time = clock_now(&rp->clock);
	ev.id = id ? xstrdup(id) : xasprintf("%s:%ld", rp->path, rp->lineno);
	ev.data = json_incref(data);
	sig_event_infer(&ev);
	engine_signal(rp->engine, &ev);
	event_clear(&ev);
}

static void
replay_line(struct replay *rp, const char *text)
{
	json_error_t je;
	json_t *line = util_json_loads(text, JSON_REJECT_DUPLICATES |
	    JSON_DECODE_ANY, &je);
	const char *t;
	int64_t when;

	if (line == NULL) {
		fprintf(stderr, "%s:%ld:%d: error: invalid JSON: %s\n",
		    rp->path, rp->lineno, je.column > 0 ? je.column : 1,
		    je.text);
		rp->bad_lines++;
		return;
	}
	t = json_string_value(json_object_get(line, "time"));
	if (!json_is_object(line))
		bad_line(rp, "a line must be a JSON object (a signal or a "
		    "watch), not %s", util_json_type(line));
	else if (t == NULL || time_parse(t, &when) == -1)
		bad_line(rp, "\"time\" must be an RFC 3339 time like "
		    "2026-11-25T10:00:00Z, not %s", t ? t : "missing");
	else {
		if (when < rp->clock.fixed)
			fprintf(stderr, "%s:%ld: warning: time goes backwards; "
			    "the clock stays at the latest time\n", rp->path,
			    rp->lineno);
		else
			clock_fixed(&rp->clock, when);
		if (json_object_get(line, "watch"))
			replay_watch(rp, json_object_get(line, "watch"));
		else
			replay_signal(rp, line);
	}
	json_decref(line);
}

/*
 * Lines are read bounded: a longer one is skipped as it streams past.
 * rp->off follows where each line starts in a regular file, for the
 * whole objects' references.
 */
static int
replay_stream(struct replay *rp, FILE *in)
{
	struct util_lines lines;
	struct buf line;
	struct stat st;
	int rc, toolong;
	off_t base = 0, at;

	/* the reader takes the descriptor from here: stdio holds nothing yet */
	if (fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode) &&
	    (at = ftello(in)) != -1) {
		base = at;
		replay_whole_set_source(rp->whole, fileno(in));
	}
	util_lines_init(&lines, fileno(in));
	buf_init(&line, 0);
	/* cppcheck-suppress autoVariables ; cleared before the return */
	rp->line = &line;
	for (;;) {
		rp->off = base + (off_t)lines.offset;
		if ((rc = util_lines_next(&lines, &line, MAX_LINE,
		    &toolong)) != 1)
			break;
		rp->lineno++;
		if (toolong)
			bad_line(rp, "line longer than %u bytes", MAX_LINE);
		else if (line.data[strspn(line.data, " \t\r\n")] != '\0')
			replay_line(rp, line.data);
	}
	rp->line = NULL;
	replay_whole_set_source(rp->whole, -1);
	buf_free(&line);
	util_lines_free(&lines);
	return rc;
}

struct replay_opts {
	const char	**config;
	size_t		  nconfig;
	const char	 *cluster, *recording, *signals;
	int		  table;
};

static int
parse_args(int argc, char **argv, struct replay_opts *o)
{
	struct cmd_args a;

	cmd_args_init(&a, argc, argv);
	for (; a.i < argc && !a.error; a.i++) {
		if (cmd_args_opt(&a, "--help", "-h", 0)) {
			usage(stdout);
			return 1;
		} else if (cmd_args_opt(&a, "--config", "-c", 1)) {
			if (a.value)
				o->config[o->nconfig++] = a.value;
		} else if (cmd_args_opt(&a, "--cluster", NULL, 1))
			o->cluster = a.value;
		else if (cmd_args_opt(&a, "--prometheus-recording", NULL, 1))
			o->recording = a.value;
		else if (cmd_args_opt(&a, "--table", NULL, 0))
			o->table = 1;
		else if (cmd_args_not_operand(&a))
			;	/* "--", or an unknown option (said) */
		else if (o->signals)
			cmd_args_fail(&a, "one signal file, please (got %s and "
			    "%s)", o->signals, argv[a.i]);
		else
			o->signals = argv[a.i];
	}
	if (!a.error && o->nconfig == 0)
		cmd_args_fail(&a, "no manifests: -c DIR names them");
	if (!a.error && o->signals == NULL)
		cmd_args_fail(&a, "no signals: name an NDJSON file, or - for "
		    "stdin");
	if (a.error) {
		usage(stderr);
		return -1;
	}
	return 0;
}

static void
keep_whole(void *ctx, json_t *obj, const struct cluster_src *src)
{
	replay_whole_put_object(ctx, obj, src);
}

static int
run(struct replay_opts *o, struct replay *rp, struct cluster *cl,
    struct diags *dg)
{
	struct conf *c = conf_load(o->config, o->nconfig, dg);
	struct engine_opts eo;
	FILE *in;
	int rc = CMD_OK;

	/* compact, as run's view: the whole objects answer its fetches */
	cluster_set_fetch(cl, replay_whole_fetch, rp->whole);
	if (o->cluster)
		cluster_load(cl, o->cluster, keep_whole, rp->whole, dg);
	else
		fprintf(stderr, "remediate replay: no --cluster: a target "
		    "cannot be resolved to its controller (a Pod stays the "
		    "target), and the first OOM kill of a pod the replay has "
		    "not seen before is history, not a signal\n");
	if (o->recording)
		rp->recording = sig_recording_load(o->recording, dg);
	rp->cluster = cl;
	if (rp->collect && dg->errors == 0)
		rp->notify = notify_config_new(c, NULL, 0, dg);
	if (dg->errors == 0) {
		memset(&eo, 0, sizeof eo);
		eo.clock = &rp->clock;
		eo.cluster = cl;
		eo.budget = budget_from_recording;
		eo.budget_ctx = rp->recording;
		eo.emit = emit_record;
		eo.emit_ctx = rp;
		eo.no_inputs = 1;	/* printed records hold none */
		rp->engine = engine_new(c, &eo, dg);
	}
	diag_print(dg, stderr);
	if (rp->engine == NULL) {
		conf_free(c);
		return CMD_FAILED;
	}
	in = strcmp(o->signals, "-") == 0 ? stdin : fopen(o->signals, "r");
	if (in == NULL) {
		perror(o->signals);
		rc = CMD_FAILED;
	} else {
		if (replay_stream(rp, in) == -1) {
			perror(o->signals);
			rc = CMD_FAILED;
		}
		if (in != stdin)
			fclose(in);
	}
	if (rp->table)
		rec_table_print(rp->table, stdout);
	if (rp->bad_lines) {
		fprintf(stderr, "%s: %zu bad line%s skipped\n", rp->path,
		    rp->bad_lines, rp->bad_lines == 1 ? "" : "s");
		rc = CMD_FAILED;
	}
	engine_free(rp->engine);
	conf_free(c);
	return rc;
}

/* One replay of o into rp, with a cluster view and diagnostics of its own. */
static int
replay_once(struct replay_opts *o, struct replay *rp)
{
	struct cluster *cl = cluster_new();
	struct diags dg;
	int rc;

	clock_fixed(&rp->clock, 0);
	diag_init(&dg);
	rp->whole = replay_whole_new();
	rc = run(o, rp, cl, &dg);
	replay_whole_free(rp->whole);
	rp->whole = NULL;
	sig_recording_free(rp->recording);
	notify_config_free(rp->notify);
	buf_free(&rp->out);
	cluster_free(cl);
	diag_free(&dg);
	return rc;
}

int
cmd_replay_collect(const char **config, size_t nconfig, const char *cluster,
    const char *recording, const char *signals, json_t *out)
{
	struct replay_opts o;
	struct replay rp;

	memset(&o, 0, sizeof o);
	o.config = config;
	o.nconfig = nconfig;
	o.cluster = cluster;
	o.recording = recording;
	o.signals = signals;
	memset(&rp, 0, sizeof rp);
	rp.path = signals;
	rp.collect = out;
	return replay_once(&o, &rp);
}

int
cmd_replay(int argc, char **argv)
{
	struct replay_opts o;
	struct replay rp;
	int rc;

	memset(&o, 0, sizeof o);
	o.config = calloc((size_t)argc, sizeof *o.config);
	if (o.config == NULL)
		return CMD_FAILED;
	if ((rc = parse_args(argc, argv, &o)) != 0) {
		free(o.config);
		return rc > 0 ? CMD_OK : CMD_USAGE;
	}
	memset(&rp, 0, sizeof rp);
	rp.path = strcmp(o.signals, "-") == 0 ? "<stdin>" : o.signals;
	rp.table = o.table ? rec_table_new() : NULL;
	rc = replay_once(&o, &rp);
	rec_table_free(rp.table);
	free(o.config);
	fflush(stdout);
	return rc;
}
