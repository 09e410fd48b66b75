/*
 * remediate diff: what a configuration change would have done to the
 * signals the audit log recorded.
 *
 * Every decision record in the state file keeps its inputs (what the
 * decision read: the signal's event, the objects found, the counts, the
 * budget answers; src/engine/inputs.c).  The records of one signal share
 * one note, so the signals are rebuilt from them (the union of their
 * notes) and replayed in time order through each configuration, offline:
 * a fixed clock at each signal's time, a cluster view holding only what
 * the signal's decisions read, budget and fresh reads answered as they
 * were.  Each configuration has its own engine and guard state, empty at
 * --since, and evolving as the replayed decisions change it.  diff_report.c
 * compares and prints.
 *
 * What cannot be replayed is counted, never guessed: records without
 * inputs (written by an older version, or not from a signal: approvals,
 * expiries, pull request outcomes), records whose inputs were above
 * AUDIT_INPUTS_MAX, and records that do not read at all (the exit status
 * is then 1, as history's: the report is not the whole of it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "cmd/args.h"
#include "cmd/cmd.h"
#include "cmd/cmd_int.h"
#include "cmd/diff.h"
#include "conf/conf.h"
#include "engine/engine.h"

#define WEEK	(7LL * 24 * 3600 * 1000)	/* ms: --since default */

static void
usage(FILE *f)
{
	fprintf(f, "usage: remediate diff --from DIR [--to DIR] --state FILE "
	    "[--since 7d|TIME] [--json]\n"
	    "Replays the signals the state file recorded (with what each "
	    "decision read)\nthrough the configuration at --from and the one "
	    "at --to, offline, each with\nits own guardrail state from an "
	    "empty start at --since (default 7d), and\nprints the decisions "
	    "that change with both reasons, then counts per trigger\nand "
	    "decision.  Without --to: a shadow report for dry-run and notify "
	    "triggers,\nwhat auto would have done next to what the state "
	    "file says happened to the\ntarget later.  --from and --to may "
	    "be given more than once.  --json: one\nJSON document.\n");
}

/* Merges the objects of src into dst (both objects; src borrowed). */
static void
merge_into(json_t *dst, const char *key, json_t *src)
{
	if (json_is_object(src))
		json_object_update(util_json_child(dst, key), src);
}

static void
merge_inputs(json_t *into, json_t *in)
{
	json_t *reads = json_object_get(in, "reads");
	json_t *r = util_json_child(into, "reads");

	merge_into(into, "budget", json_object_get(in, "budget"));
	merge_into(r, "objects", json_object_get(reads, "objects"));
	merge_into(r, "counts", json_object_get(reads, "counts"));
	merge_into(r, "nodeMemory", json_object_get(reads, "nodeMemory"));
	merge_into(r, "fetched", json_object_get(reads, "fetched"));
}

/* The signal a record's inputs name, created when new. */
static struct diff_signal *
signal_of(struct diff *df, int64_t t, json_t *in)
{
	json_int_t seq = json_integer_value(json_object_get(in, "signal"));
	char *key = xasprintf("%lld/%lld", (long long)t, (long long)seq);
	json_t *at = json_object_get(df->index, key);
	struct diff_signal *s;

	if (at) {
		free(key);
		return &df->sig[json_integer_value(at)];
	}
	xgrow(&df->sig, &df->capsig, df->nsig + 1, sizeof *df->sig);
	s = &df->sig[df->nsig];
	memset(s, 0, sizeof *s);
	s->time = t;
	s->seq = seq;
	s->inputs = json_object();
	s->recorded = json_array();
	json_object_set_new(df->index, key, json_integer(
	    (json_int_t)df->nsig++));
	free(key);
	return s;
}

static int
collect(void *ctx, json_t *r)
{
	struct diff *df = ctx;
	json_t *in = json_object_get(r, "inputs");
	const char *t = json_string_value(json_object_get(r, "time"));
	struct diff_signal *s;
	int64_t when;

	json_incref(in);
	json_object_del(r, "inputs");
	json_array_append(df->history, r);
	if (in == NULL || t == NULL || time_parse(t, &when) == -1) {
		df->no_inputs++;
		json_decref(in);
		return 0;
	}
	s = signal_of(df, when, in);
	if (json_is_true(json_object_get(in, "truncated"))) {
		s->truncated = 1;
		df->truncated++;
	} else {
		if (json_object_get(s->inputs, "event") == NULL)
			json_object_set(s->inputs, "event",
			    json_object_get(in, "event"));
		merge_inputs(s->inputs, in);
	}
	json_array_append(s->recorded, r);
	json_decref(in);
	return 0;
}

static int
by_time(const void *a, const void *b)
{
	const struct diff_signal *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
load_signals(struct diff *df, const char *path, int64_t since)
{
	struct audit_opts o;
	struct audit_filter f;
	struct audit *a;
	char *err = NULL;

	audit_opts_defaults(&o);
	o.readonly = 1;
	cmd_state_log(&o, "diff");
	if ((a = audit_open(path, &o, &err)) == NULL) {
		fprintf(stderr, "remediate diff: %s\n", err);
		free(err);
		return -1;
	}
	memset(&f, 0, sizeof f);
	f.since = since;
	f.inputs = 1;
	if (audit_query(a, &f, collect, df, &err) == -1) {
		fprintf(stderr, "remediate diff: %s\n", err);
		free(err);
		audit_close(a);
		return -1;
	}
	audit_close(a);
	df->unreadable = cmd_state_unreadable();
	/* the index names positions: sorted, it is no longer needed */
	if (df->nsig > 0)	/* qsort's array must not be NULL */
		qsort(df->sig, df->nsig, sizeof *df->sig, by_time);
	return 0;
}

/* ---- replaying -------------------------------------------------------- */

static int
budget_recorded(void *ctx, const char *q, int64_t now, double *v,
    int64_t *at)
{
	struct diff *df = ctx;
	json_t *b = json_object_get(json_object_get(df->cur->inputs,
	    "budget"), q);

	(void)now;
	if (b == NULL)
		df->cur->incomplete = 1;
	if (!json_is_object(b))
		return -1;	/* no answer then, or a query not asked */
	*v = json_number_value(json_object_get(b, "value"));
	*at = json_integer_value(json_object_get(b, "at"));
	return 0;
}

/* A fresh read as it was answered; else the view (as replay's). */
static int
fetch_recorded(void *ctx, const char *av, const char *kind, const char *ns,
    const char *name, json_t **out, char **err)
{
	struct diff *df = ctx;
	char *key = cluster_key(kind, ns, name);
	json_t *o = json_object_get(json_object_get(json_object_get(
	    df->cur->inputs, "reads"), "fetched"), key);

	(void)av;
	(void)err;
	free(key);
	if (o == NULL)
		o = cluster_get(df->cluster, kind, ns, name);
	*out = json_is_object(o) ? json_incref(o) : NULL;
	return *out ? 0 : 1;
}

static void
emit(void *ctx, const struct rec_decision_record *r)
{
	struct diff *df = ctx;

	json_array_append_new(df->cur->out[df->which], rec_to_json(r));
}

static void
replay_one(struct diff *df, struct engine *e, struct clock *clk,
    struct diff_signal *s)
{
	struct event ev;

	s->out[df->which] = json_array();
	df->cur = s;
	clock_fixed(clk, s->time);
	cluster_reset(df->cluster);
	if (cluster_load_reads(df->cluster, json_object_get(s->inputs,
	    "reads")) == -1 || event_parse(json_object_get(s->inputs,
	    "event"), &ev) == -1) {
		s->unreadable = 1;
		return;
	}
	engine_signal(e, &ev);
	event_clear(&ev);
}

int
diff_replay(struct diff *df, const char **dirs, size_t n, int which)
{
	struct engine_opts eo;
	struct engine *e = NULL;
	struct clock clk;
	struct diags dg;
	struct conf *c;
	size_t i;

	diag_init(&dg);
	c = conf_load(dirs, n, &dg);
	clock_fixed(&clk, 0);
	if (dg.errors == 0) {
		memset(&eo, 0, sizeof eo);
		eo.clock = &clk;
		eo.cluster = df->cluster;
		eo.budget = budget_recorded;
		eo.budget_ctx = df;
		eo.fetch = fetch_recorded;
		eo.fetch_ctx = df;
		eo.emit = emit;
		eo.emit_ctx = df;
		e = engine_new(c, &eo, &dg);
	}
	diag_print(&dg, stderr);
	diag_free(&dg);
	if (e == NULL) {
		conf_free(c);
		return -1;
	}
	df->which = which;
	for (i = 0; i < df->nsig; i++)
		if (!df->sig[i].truncated)
			replay_one(df, e, &clk, &df->sig[i]);
	df->cur = NULL;
	engine_free(e);
	conf_free(c);
	return 0;
}

/* ---- the command ------------------------------------------------------ */

struct diff_opts {
	const char	**from, **to;
	size_t		  nfrom, nto;
	const char	 *state;
	int64_t		  since;
	int		  json;
};

static int
parse_args(int argc, char **argv, struct diff_opts *o, int64_t now)
{
	struct cmd_args a;

	cmd_args_init(&a, argc, argv);
	o->since = now - WEEK;
	for (; a.i < argc && !a.error; a.i++) {
		if (cmd_args_opt(&a, "--help", "-h", 0)) {
			usage(stdout);
			return 1;
		} else if (cmd_args_opt(&a, "--from", NULL, 1)) {
			if (a.value)
				o->from[o->nfrom++] = a.value;
		} else if (cmd_args_opt(&a, "--to", NULL, 1)) {
			if (a.value)
				o->to[o->nto++] = a.value;
		} else if (cmd_args_opt(&a, "--state", NULL, 1))
			o->state = a.value;
		else if (cmd_args_opt(&a, "--since", NULL, 1)) {
			if (a.value && cmd_args_when(a.value, now, &o->since)
			    == -1)
				cmd_args_fail(&a, "--since wants a duration "
				    "(90m, 2h, 7d) or an RFC 3339 time, not "
				    "\"%s\"", a.value);
		} else if (cmd_args_opt(&a, "--json", NULL, 0))
			o->json = 1;
		else
			cmd_args_fail(&a, "unknown argument %s", argv[a.i]);
	}
	if (!a.error && o->nfrom == 0)
		cmd_args_fail(&a, "no configuration: --from DIR names it");
	if (!a.error && o->state == NULL)
		cmd_args_fail(&a, "no state file: --state FILE names the "
		    "audit log to replay");
	if (a.error) {
		usage(stderr);
		return -1;
	}
	return 0;
}

static void
diff_free(struct diff *df)
{
	size_t i;

	for (i = 0; i < df->nsig; i++) {
		json_decref(df->sig[i].inputs);
		json_decref(df->sig[i].recorded);
		json_decref(df->sig[i].out[0]);
		json_decref(df->sig[i].out[1]);
	}
	free(df->sig);
	json_decref(df->index);
	json_decref(df->history);
	cluster_free(df->cluster);
}

int
cmd_diff(int argc, char **argv)
{
	struct diff_opts o;
	struct diff df;
	struct clock sys;
	int rc;

	memset(&o, 0, sizeof o);
	o.from = calloc((size_t)argc, sizeof *o.from);
	o.to = calloc((size_t)argc, sizeof *o.to);
	clock_system(&sys);
	if (o.from == NULL || o.to == NULL)
		rc = CMD_FAILED;
	else if ((rc = parse_args(argc, argv, &o, clock_now(&sys))) != 0)
		rc = rc > 0 ? CMD_OK : CMD_USAGE;
	else {
		memset(&df, 0, sizeof df);
		df.index = json_object();
		df.history = json_array();
		df.cluster = cluster_new();
		df.since = o.since;
		rc = CMD_FAILED;
		if (load_signals(&df, o.state, o.since) == 0 &&
		    diff_replay(&df, o.from, o.nfrom, 0) == 0 &&
		    (o.nto == 0 || diff_replay(&df, o.to, o.nto, 1) == 0)) {
			if (o.nto)
				diff_report(&df, o.json, stdout);
			else
				diff_shadow(&df, o.json, stdout);
			/* the report is not the whole of what changed */
			rc = df.unreadable ? CMD_FAILED : CMD_OK;
		}
		diff_free(&df);
	}
	free(o.from);
	free(o.to);
	fflush(stdout);
	return rc;
}
