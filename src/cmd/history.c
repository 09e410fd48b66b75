/*
 * remediate history: reads the audit log.
 *
 *   remediate history [--state FILE] [--since 1h|TIME] [--until 1h|TIME]
 *                     [--sensor S] [--trigger T] [--target GLOB]
 *                     [--cluster NAME]
 *                     [--decision D] [--reason R] [--limit N]
 *                     [--json] [--summary]
 *
 * A table by default, JSON records (one per line) with --json, and with
 * --summary one line (or JSON object) per trigger: decisions, actions,
 * suppressions by reason, recurrences and their ratio, demotion.  The
 * file is opened read-only, so history runs beside a live daemon.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "cmd/args.h"
#include "cmd/cmd.h"
#include "cmd/cmd_int.h"
#include "record/record.h"
#include "util/util.h"


struct history {
	struct audit_filter	 f;
	const char		*state;
	int			 json, summary;
	json_t			*triggers;	/* summary: key -> counts */
	json_t			*order;		/* summary: keys, first seen */
	struct rec_table	*table;		/* the default form; owned */
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: remediate history [--state FILE] [--since 1h|TIME] "
	    "[--until 1h|TIME]\n"
	    "                        [--sensor S] [--trigger T] "
	    "[--target GLOB] [--decision D]\n"
	    "                        [--reason R] [--cluster NAME] "
	    "[--limit N] [--json]\n"
	    "                        [--summary]\n"
	    "Lists the decisions in the audit log (default state file: "
	    "remediate-state.db),\noldest first: a table, JSON records with "
	    "--json, or per trigger with --summary\n(actions, suppressions "
	    "by reason, recurrence ratio).  --since and --until take\na "
	    "duration before now (90m, 2h, 7d) or an RFC 3339 time; --target "
	    "a glob on\nKind/namespace/name, or on the name alone; --cluster the "
	    "name run gave its\ncluster (--cluster-name), for a state "
	    "database several clusters share.\n--state postgres://... reads "
	    "the state kept in PostgreSQL, in a\nread-only session.\n");
}

/* Is v one of the names fn gives for 0..; suggests the closest if not. */
static int
check_name(const char *what, const char *v, const char *(*fn)(int), int n)
{
	const char *cands[32];
	const char *best;
	int i, k = 0;

	for (i = 0; i < n && k < 32; i++)
		if (fn(i))
			cands[k++] = fn(i);
	for (i = 0; i < k; i++)
		if (strcmp(cands[i], v) == 0)
			return 0;
	best = util_suggest(v, cands, (size_t)k);
	fprintf(stderr, "remediate history: unknown %s \"%s\"", what, v);
	if (best)
		fprintf(stderr, "; did you mean \"%s\"?", best);
	fputc('\n', stderr);
	return -1;
}

static const char *
decision_at(int i)
{
	return rec_decision_name((enum rec_decision)i);
}

static const char *
reason_at(int i)
{
	return rec_reason_name((enum rec_reason)i);
}

static int
when(struct cmd_args *a, const char *opt, int64_t now, int64_t *out)
{
	if (a->value == NULL || cmd_args_when(a->value, now, out) == 0)
		return 0;
	fprintf(stderr, "remediate history: %s wants a duration (90m, 2h, 7d) "
	    "or an RFC 3339 time, not \"%s\"\n", opt, a->value);
	return -1;
}

static int
parse_option(struct cmd_args *a, struct history *h, int64_t now)
{
	long long n;

	if (cmd_args_opt(a, "--state", NULL, 1))
		h->state = a->value;
	else if (cmd_args_opt(a, "--since", NULL, 1)) {
		if (when(a, "--since", now, &h->f.since) == -1)
			return -1;
	} else if (cmd_args_opt(a, "--until", NULL, 1)) {
		if (when(a, "--until", now, &h->f.until) == -1)
			return -1;
	} else if (cmd_args_opt(a, "--sensor", NULL, 1))
		h->f.sensor = a->value;
	else if (cmd_args_opt(a, "--cluster", NULL, 1))
		h->f.cluster = a->value;
	else if (cmd_args_opt(a, "--trigger", NULL, 1))
		h->f.trigger = a->value;
	else if (cmd_args_opt(a, "--target", NULL, 1))
		h->f.target = a->value;
	else if (cmd_args_opt(a, "--decision", NULL, 1)) {
		if ((h->f.decision = a->value) != NULL &&
		    check_name("decision", a->value, decision_at,
		    REC_NDECISIONS) == -1)
			return -1;
	} else if (cmd_args_opt(a, "--reason", NULL, 1)) {
		if ((h->f.reason = a->value) != NULL && check_name("reason",
		    a->value, reason_at, REC_NREASONS) == -1)
			return -1;
	} else if (cmd_args_opt(a, "--limit", NULL, 1)) {
		if (a->value && (util_parse_int(a->value, &n) == -1 ||
		    n < 1 || n > 100000000)) {
			fprintf(stderr, "remediate history: --limit wants a "
			    "positive count, not \"%s\"\n", a->value);
			return -1;
		}
		h->f.limit = a->value ? (long)n : 0;
	} else if (cmd_args_opt(a, "--json", NULL, 0))
		h->json = 1;
	else if (cmd_args_opt(a, "--summary", NULL, 0))
		h->summary = 1;
	else {
		fprintf(stderr, "remediate history: unknown argument %s\n",
		    a->argv[a->i]);
		return -1;
	}
	return a->error ? -1 : 0;
}

/* ---- one record at a time ----------------------------------------------- */

static int
print_record(void *ctx, json_t *r)
{
	struct history *h = ctx;
	const char *msg;
	char *s;

	if (h->json) {
		s = json_dumps(r, REC_JSON_FLAGS);
		printf("%s\n", s);
		free(s);
		return 0;
	}
	if (json_object_get(r, "outcome")) {
		msg = json_string_value(json_object_get(r, "message"));
		s = xasprintf("outcome unknown: the process stopped during the "
		    "action%s%s", msg ? "; " : "", msg ? msg : "");
		json_object_set_new(r, "message", json_string(s));
		free(s);
	}
	rec_table_add(h->table, r);
	return 0;
}

/* ---- per trigger --------------------------------------------------------- */

static void
bump(json_t *o, const char *k)
{
	json_object_set_new(o, k, json_integer(json_integer_value(
	    json_object_get(o, k)) + 1));
}

static int
count_record(void *ctx, json_t *r)
{
	struct history *h = ctx;
	const char *sensor = json_string_value(json_object_get(r, "sensor"));
	const char *trigger = json_string_value(json_object_get(r, "trigger"));
	const char *dec = json_string_value(json_object_get(r, "decision"));
	const char *reason = json_string_value(json_object_get(r, "reason"));
	json_t *t, *when = json_object_get(r, "time");
	char *key;

	if (sensor == NULL || trigger == NULL || dec == NULL)
		return 0;
	key = xasprintf("%s/%s", sensor, trigger);
	if ((t = json_object_get(h->triggers, key)) == NULL) {
		t = json_pack("{s:s, s:s, s:i, s:{}, s:{}, s:i, s:O, s:O, "
		    "s:b}", "sensor", sensor, "trigger", trigger, "records", 0,
		    "decisions", "suppressed", "recurrences", 0, "first", when,
		    "last", when, "demoted", 0);
		json_object_set_new(h->triggers, key, t);
		json_array_append_new(h->order, json_string(key));
	}
	free(key);
	bump(t, "records");
	bump(json_object_get(t, "decisions"), dec);
	if (reason && strcmp(dec, "suppressed") == 0)
		bump(json_object_get(t, "suppressed"), reason);
	if (json_object_get(r, "recurrence") && strcmp(dec, "demoted") != 0)
		bump(t, "recurrences");
	json_object_set(t, "last", when);
	/* demoted as of its latest record (failed ones say nothing) */
	if (strcmp(dec, "failed") != 0)
		json_object_set_new(t, "demoted", json_boolean(
		    strcmp(dec, "demoted") == 0 ||
		    json_object_get(r, "demoted") != NULL));
	return 0;
}

static json_int_t
count_of(json_t *t, const char *decision)
{
	return json_integer_value(json_object_get(json_object_get(t,
	    "decisions"), decision));
}

/* Adds "actions" and "recurrenceRatio" (recurrences / actions). */
static void
finish_summary(json_t *t)
{
	json_int_t acted = count_of(t, "acted");
	json_int_t rec = json_integer_value(json_object_get(t,
	    "recurrences"));

	json_object_set_new(t, "actions", json_integer(acted));
	json_object_set_new(t, "recurrenceRatio", acted ? json_real(
	    (double)rec / (double)acted) : json_null());
}

static char *
suppressed_text(json_t *t)
{
	json_t *s = json_object_get(t, "suppressed"), *v;
	struct buf b;
	const char *k;
	int i;

	buf_init(&b, 0);
	/* in the order the checks run, so the first is what stops most */
	for (i = 1; i < REC_NREASONS; i++) {
		k = rec_reason_name((enum rec_reason)i);
		if ((v = json_object_get(s, k)) != NULL)
			buf_printf(&b, "%s%s %lld", b.len ? ", " : "", k,
			    (long long)json_integer_value(v));
	}
	if (b.len == 0)
		buf_adds(&b, "-");
	return buf_steal(&b);
}

static void
print_summary(struct history *h)
{
	json_t *k, *t, *ratio;
	char r[16], *sup, *s;
	size_t i;

	if (!h->json)
		printf("%-44s %7s %6s %6s %7s %8s %7s %8s %6s %7s  %s\n",
		    "TRIGGER", "RECORDS", "ACTED", "FAILED", "DRY-RUN",
		    "NOTIFIED", "PENDING", "RECURRED", "RATIO", "DEMOTED",
		    "SUPPRESSED");
	json_array_foreach(h->order, i, k) {
		t = json_object_get(h->triggers, json_string_value(k));
		finish_summary(t);
		if (h->json) {
			s = json_dumps(t, JSON_COMPACT | JSON_PRESERVE_ORDER);
			printf("%s\n", s);
			free(s);
			continue;
		}
		ratio = json_object_get(t, "recurrenceRatio");
		if (json_is_null(ratio))
			snprintf(r, sizeof r, "-");
		else
			snprintf(r, sizeof r, "%.0f%%", 100 *
			    json_real_value(ratio));
		sup = suppressed_text(t);
		printf("%-44s %7lld %6lld %6lld %7lld %8lld %7lld %8lld %6s "
		    "%7s  %s\n", json_string_value(k), (long long)
		    json_integer_value(json_object_get(t, "records")),
		    (long long)count_of(t, "acted"),
		    (long long)count_of(t, "failed"),
		    (long long)count_of(t, "dry-run"),
		    (long long)count_of(t, "notified"),
		    (long long)count_of(t, "pending-approval"),
		    (long long)json_integer_value(json_object_get(t,
		    "recurrences")), r, json_is_true(json_object_get(t,
		    "demoted")) ? "yes" : "no", sup);
		free(sup);
	}
}

static int
run(struct history *h)
{
	struct audit_opts o;
	struct audit *a;
	char *err = NULL;
	long n;

	audit_opts_defaults(&o);
	o.readonly = 1;
	cmd_state_log(&o, "history");
	if ((a = audit_open(h->state, &o, &err)) == NULL) {
		fprintf(stderr, "remediate history: %s\n", err);
		free(err);
		return CMD_FAILED;
	}
	if (!h->json && !h->summary)
		h->table = rec_table_new();
	n = audit_query(a, &h->f, h->summary ? count_record : print_record, h,
	    &err);
	audit_close(a);
	if (h->table && n != -1)
		rec_table_print(h->table, stdout);
	rec_table_free(h->table);
	if (n == -1) {
		fprintf(stderr, "remediate history: %s\n", err);
		free(err);
		return CMD_FAILED;
	}
	if (h->summary)
		print_summary(h);
	return cmd_state_unreadable() ? CMD_FAILED : CMD_OK;
}

int
cmd_history(int argc, char **argv)
{
	struct history h;
	struct cmd_args a;
	struct clock c;
	int rc;

	memset(&h, 0, sizeof h);
	h.state = "remediate-state.db";
	clock_system(&c);
	cmd_args_init(&a, argc, argv);
	for (; a.i < argc; a.i++) {
		if (cmd_args_opt(&a, "--help", "-h", 0)) {
			usage(stdout);
			return CMD_OK;
		}
		if (parse_option(&a, &h, clock_now(&c)) == -1) {
			usage(stderr);
			return CMD_USAGE;
		}
	}
	if (h.f.since && h.f.until && h.f.until <= h.f.since) {
		fprintf(stderr, "remediate history: --until is not after "
		    "--since\n");
		return CMD_USAGE;
	}
	h.triggers = json_object();
	h.order = json_array();
	rc = run(&h);
	json_decref(h.triggers);
	json_decref(h.order);
	fflush(stdout);
	return rc;
}
