/*
 * remediate diff's output: the decisions that change between the two
 * replays, then counts per trigger and decision; or, with one
 * configuration, the shadow report for dry-run and notify triggers.
 *
 * Within one signal, records are paired by sensor, trigger and target
 * (in order, when one signal gives a trigger several records for one
 * target, as a demotion does); a pair differs when its decision or
 * reason does, or its plan (a changed increment, template or patch:
 * what the action would send), and a record without a partner is a
 * decision only one configuration makes.  A name the server would
 * generate (metadata.generateName) is no difference: each replay draws
 * its own.
 */
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "cmd/diff.h"
#include "util/util.h"

#define LATER_MAX	5	/* later records shown per shadow decision */

static const char *
str(json_t *r, const char *k)
{
	const char *s = json_string_value(json_object_get(r, k));

	return s ? s : "";
}

/* "Kind/ns/name" of a record's target; owned. */
static char *
target_of(json_t *r)
{
	json_t *t = json_object_get(r, "target");

	if (!json_is_object(t))
		return xstrdup("-");
	return cluster_key(str(t, "kind"), json_string_value(
	    json_object_get(t, "namespace")), str(t, "name"));
}

static int
same_key(json_t *a, json_t *b)
{
	return strcmp(str(a, "sensor"), str(b, "sensor")) == 0 &&
	    strcmp(str(a, "trigger"), str(b, "trigger")) == 0 &&
	    json_equal(json_object_get(a, "target"),
	    json_object_get(b, "target"));
}

static int
same_decision(json_t *a, json_t *b)
{
	return strcmp(str(a, "decision"), str(b, "decision")) == 0 &&
	    strcmp(str(a, "reason"), str(b, "reason")) == 0;
}

/* The plan with the names a server would generate taken out; owned. */
static json_t *
plan_of(json_t *r)
{
	json_t *p = json_deep_copy(json_object_get(r, "plan")), *md;

	md = json_object_get(json_object_get(p, "object"), "metadata");
	if (json_object_get(md, "generateName")) {
		json_object_del(md, "name");
		json_object_del(p, "name");
	}
	return p;
}

static int
same_plan(json_t *a, json_t *b)
{
	json_t *x = plan_of(a), *y = plan_of(b);
	int eq = (x == NULL && y == NULL) || (x && y && json_equal(x, y));

	json_decref(x);
	json_decref(y);
	return eq;
}

/*
 * The first place two plans differ, as "path: from -> to" into b
 * (values cut short); for a change that keeps the decision.
 */
static void
first_difference(json_t *x, json_t *y, const char *path, struct buf *b)
{
	const char *k;
	json_t *v;
	char *p, *sx, *sy;
	size_t i;

	if (json_is_object(x) && json_is_object(y)) {
		json_object_foreach(x, k, v)
			if (!json_equal(v, json_object_get(y, k))) {
				p = xasprintf("%s%s%s", path, *path ? "." : "",
				    k);
				first_difference(v, json_object_get(y, k), p,
				    b);
				free(p);
				return;
			}
		json_object_foreach(y, k, v)
			if (json_object_get(x, k) == NULL) {
				p = xasprintf("%s%s%s", path, *path ? "." : "",
				    k);
				first_difference(NULL, v, p, b);
				free(p);
				return;
			}
		return;
	}
	if (json_is_array(x) && json_is_array(y) && json_array_size(x) ==
	    json_array_size(y)) {
		json_array_foreach(x, i, v)
			if (!json_equal(v, json_array_get(y, i))) {
				p = xasprintf("%s[%zu]", path, i);
				first_difference(v, json_array_get(y, i), p, b);
				free(p);
				return;
			}
		return;
	}
	sx = x ? json_dumps(x, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
	sy = y ? json_dumps(y, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
	buf_printf(b, "%s: %.60s%s -> %.60s%s", *path ? path : "plan",
	    sx ? sx : "(none)", sx && strlen(sx) > 60 ? "..." : "",
	    sy ? sy : "(none)", sy && strlen(sy) > 60 ? "..." : "");
	free(sx);
	free(sy);
}

/* "acted", "suppressed (cooldown: message)"; owned. */
static char *
outcome_text(json_t *r)
{
	const char *m = str(r, "message");

	if (r == NULL)
		return xstrdup("no decision");
	if (*str(r, "reason"))
		return xasprintf("%s (%s%s%s)", str(r, "decision"),
		    str(r, "reason"), *m ? ": " : "", m);
	return *m ? xasprintf("%s (%s)", str(r, "decision"), m) :
	    xstrdup(str(r, "decision"));
}

/* counts[sensor trigger][decision/reason] = [from, to] */
static void
count(json_t *counts, json_t *r, int which)
{
	char *k = xasprintf("%s %s", str(r, "sensor"), str(r, "trigger"));
	char *d = *str(r, "reason") ? xasprintf("%s/%s", str(r, "decision"),
	    str(r, "reason")) : xstrdup(str(r, "decision"));
	json_t *t = json_object_get(counts, k), *c;

	if (t == NULL)
		json_object_set_new(counts, k, t = json_object());
	if ((c = json_object_get(t, d)) == NULL)
		json_object_set_new(t, d, c = json_pack("[i, i]", 0, 0));
	json_array_set_new(c, (size_t)which, json_integer(json_integer_value(
	    json_array_get(c, (size_t)which)) + 1));
	free(k);
	free(d);
}

static void
change(const struct diff_signal *s, json_t *changes, json_t *a, json_t *b)
{
	json_t *r = a ? a : b, *c;
	char *t = target_of(r);
	struct buf d;

	json_array_append_new(changes, c = json_pack("{s:s, s:s, s:s, s:s, "
	    "s:O?, s:O?, s:b}", "time", str(r, "time"), "sensor", str(r,
	    "sensor"), "trigger", str(r, "trigger"), "target", t, "from", a,
	    "to", b, "inputsIncomplete", s->incomplete));
	if (a && b && same_decision(a, b)) {	/* the plan alone */
		json_t *x = plan_of(a), *y = plan_of(b);

		buf_init(&d, 0);
		first_difference(x, y, "plan", &d);
		json_object_set_new(c, "planChange", json_stringn(d.data ?
		    d.data : "", d.len));
		buf_free(&d);
		json_decref(x);
		json_decref(y);
	}
	free(t);
}

/* Pairs one signal's records; appends what differs to changes. */
static void
compare(const struct diff_signal *s, json_t *changes, json_t *counts)
{
	size_t nb = json_array_size(s->out[1]);
	char *used = xcalloc(nb + 1, 1);
	json_t *a, *b;
	size_t i, k;

	json_array_foreach(s->out[0], i, a) {
		count(counts, a, 0);
		for (k = 0; k < nb; k++)
			if (!used[k] && same_key(a, json_array_get(s->out[1],
			    k)))
				break;
		if (k == nb) {
			change(s, changes, a, NULL);
			continue;
		}
		used[k] = 1;
		b = json_array_get(s->out[1], k);
		if (!same_decision(a, b) || !same_plan(a, b))
			change(s, changes, a, b);
	}
	json_array_foreach(s->out[1], k, b) {
		count(counts, b, 1);
		if (!used[k])
			change(s, changes, NULL, b);
	}
	free(used);
}

static size_t
replayed(const struct diff *df)
{
	size_t i, n = 0;

	for (i = 0; i < df->nsig; i++)
		n += !df->sig[i].truncated && !df->sig[i].unreadable;
	return n;
}

static json_t *
skipped(const struct diff *df)
{
	return json_pack("{s:I, s:I, s:I, s:I}", "recordsWithoutInputs",
	    (json_int_t)df->no_inputs, "recordsInputsTruncated",
	    (json_int_t)df->truncated, "recordsUnreadable",
	    (json_int_t)df->unreadable, "signalsNotReplayed",
	    (json_int_t)(df->nsig - replayed(df)));
}

static void
print_skipped(const struct diff *df, FILE *f)
{
	size_t i, n = replayed(df), bad = 0;

	for (i = 0; i < df->nsig; i++)
		bad += df->sig[i].unreadable;
	fprintf(f, "%zu signal%s replayed", n, n == 1 ? "" : "s");
	if (df->no_inputs)
		fprintf(f, "; %ld decision%s skipped: no inputs recorded "
		    "(written by an older version, or not from a signal)",
		    df->no_inputs, df->no_inputs == 1 ? "" : "s");
	if (df->truncated)
		fprintf(f, "; %ld decision%s not replayable: inputs truncated "
		    "(above %d KiB)", df->truncated, df->truncated == 1 ? "" :
		    "s", AUDIT_INPUTS_MAX / 1024);
	if (bad)
		fprintf(f, "; %zu signal%s not replayable: inputs do not "
		    "read", bad, bad == 1 ? "" : "s");
	if (df->unreadable)
		fprintf(f, "; %ld decision%s skipped: %s record does not read",
		    df->unreadable, df->unreadable == 1 ? "" : "s",
		    df->unreadable == 1 ? "its" : "their");
	fputc('\n', f);
}

/* --json: one document (rows and counts borrowed). */
static void
print_doc(const struct diff *df, const char *what, json_t *rows,
    json_t *counts, FILE *f)
{
	json_t *doc = json_pack("{s:I, s:o, s:O, s:O}", "signals",
	    (json_int_t)replayed(df), "skipped", skipped(df), what, rows,
	    "counts", counts);

	json_dumpf(doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(doc);
}

static void
print_counts(json_t *counts, FILE *f)
{
	const char *k, *d;
	json_t *t, *c;

	fprintf(f, "\n%-40s %-32s %6s %6s\n", "TRIGGER", "DECISION", "FROM",
	    "TO");
	json_object_foreach(counts, k, t)
		json_object_foreach(t, d, c) {
			json_int_t x = json_integer_value(json_array_get(c, 0));
			json_int_t y = json_integer_value(json_array_get(c, 1));

			fprintf(f, "%-40s %-32s %6lld %6lld%s\n", k, d,
			    (long long)x, (long long)y, x != y ? "  *" : "");
		}
}

void
diff_report(const struct diff *df, int json, FILE *f)
{
	json_t *changes = json_array(), *counts = json_object(), *c;
	size_t i;

	for (i = 0; i < df->nsig; i++)
		if (!df->sig[i].truncated && !df->sig[i].unreadable)
			compare(&df->sig[i], changes, counts);
	if (json)
		print_doc(df, "changes", changes, counts, f);
	else {
		json_array_foreach(changes, i, c) {
			char *a = outcome_text(json_object_get(c, "from"));
			char *b = outcome_text(json_object_get(c, "to"));

			fprintf(f, "%s %s %s %s\n  from: %s\n  to:   %s\n%s%s%s%s",
			    str(c, "time"), str(c, "sensor"), str(c,
			    "trigger"), str(c, "target"), a, b,
			    *str(c, "planChange") ? "  plan: " : "",
			    str(c, "planChange"), *str(c, "planChange") ?
			    "\n" : "", json_is_true(
			    json_object_get(c, "inputsIncomplete")) ?
			    "  (a replay asked for a budget the recorded "
			    "decisions never read: counted as no answer)\n" :
			    "");
			free(a);
			free(b);
		}
		fprintf(f, "%zu decision%s change%s; ",
		    json_array_size(changes), json_array_size(changes) == 1 ?
		    "" : "s", json_array_size(changes) == 1 ? "s" : "");
		print_skipped(df, f);
		print_counts(counts, f);
	}
	json_decref(changes);
	json_decref(counts);
}

/* ---- one configuration: the shadow report ---------------------------- */

/* What auto would have decided where r is dry-run's or notify's. */
static const char *
auto_decision(json_t *r)
{
	const char *d = str(r, "decision");

	/* a demoted trigger notifies whatever its mode */
	if ((strcmp(d, "dry-run") == 0 || strcmp(d, "notified") == 0) &&
	    json_object_get(r, "demoted") == NULL)
		return "acted";
	return d;
}

/* A record's time in ms; 0 when it has none that reads. */
static int64_t
ms_of(json_t *r)
{
	int64_t t;

	return time_parse(str(r, "time"), &t) == 0 ? t : 0;
}

/* Recorded records for r's target after r's time, up to LATER_MAX. */
static json_t *
later(const struct diff *df, json_t *r)
{
	json_t *out = json_array(), *h, *t = json_object_get(r, "target");
	int64_t when = ms_of(r);
	size_t i;

	json_array_foreach(df->history, i, h) {
		if (json_array_size(out) == LATER_MAX)
			break;
		if (ms_of(h) > when &&
		    json_equal(json_object_get(h, "target"), t))
			json_array_append_new(out, json_pack("{s:s, s:s, s:s, "
			    "s:s, s:s?}", "time", str(h, "time"), "sensor",
			    str(h, "sensor"), "trigger", str(h, "trigger"),
			    "decision", str(h, "decision"), "reason",
			    json_string_value(json_object_get(h, "reason"))));
	}
	return out;
}

/* Triggers that decided dry-run or notified at least once. */
static json_t *
shadowed(const struct diff *df)
{
	json_t *set = json_object(), *r;
	size_t i, k;

	for (i = 0; i < df->nsig; i++)
		json_array_foreach(df->sig[i].out[0], k, r)
			if (strcmp(auto_decision(r), str(r, "decision")) != 0) {
				char *key = xasprintf("%s %s", str(r, "sensor"),
				    str(r, "trigger"));

				json_object_set_new(set, key, json_true());
				free(key);
			}
	return set;
}

void
diff_shadow(const struct diff *df, int json, FILE *f)
{
	json_t *set = shadowed(df), *rows = json_array(), *counts =
	    json_object(), *r, *row;
	size_t i, k, j;

	for (i = 0; i < df->nsig; i++)
		json_array_foreach(df->sig[i].out[0], k, r) {
			char *key = xasprintf("%s %s", str(r, "sensor"),
			    str(r, "trigger"));
			char *t = target_of(r);
			json_t *c;

			if (json_object_get(set, key)) {
				json_array_append_new(rows, json_pack("{s:s, "
				    "s:s, s:s, s:s, s:s, s:s, s:s?, s:o}",
				    "time", str(r, "time"), "sensor", str(r,
				    "sensor"), "trigger", str(r, "trigger"),
				    "target", t, "decision", str(r,
				    "decision"), "auto", auto_decision(r),
				    "reason", json_string_value(
				    json_object_get(r, "reason")), "later",
				    later(df, r)));
				if ((c = json_object_get(counts, key)) == NULL)
					json_object_set_new(counts, key, c =
					    json_object());
				json_object_set_new(c, auto_decision(r),
				    json_integer(json_integer_value(
				    json_object_get(c, auto_decision(r))) + 1));
			}
			free(key);
			free(t);
		}
	if (json)
		print_doc(df, "shadow", rows, counts, f);
	else {
		json_array_foreach(rows, i, row) {
			json_t *l;

			fprintf(f, "%s %s %s %s: %s, auto would have: %s%s%s\n",
			    str(row, "time"), str(row, "sensor"), str(row,
			    "trigger"), str(row, "target"), str(row,
			    "decision"), str(row, "auto"), *str(row, "reason") ?
			    " " : "", str(row, "reason"));
			json_array_foreach(json_object_get(row, "later"), j, l)
				fprintf(f, "  later: %s %s %s %s%s%s\n",
				    str(l, "time"), str(l, "sensor"), str(l,
				    "trigger"), str(l, "decision"), *str(l,
				    "reason") ? " " : "", str(l, "reason"));
		}
		fprintf(f, "%zu shadow decision%s; ", json_array_size(rows),
		    json_array_size(rows) == 1 ? "" : "s");
		print_skipped(df, f);
	}
	json_decref(set);
	json_decref(rows);
	json_decref(counts);
}
