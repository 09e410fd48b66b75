/*
 * Decision records as JSON.  Field order is fixed (time, cluster, sensor,
 * trigger, target, subject, decision, reason, message, plan, signal) so
 * records diff well and read the same in every place they appear.
 * cluster is there only when the instance has a name (run); replay and
 * test records stay as they were.
 */
#include <stdlib.h>
#include <string.h>

#include "record/record.h"
#include "util/util.h"

static const char *const decision_names[] = {
	"acted", "failed", "dry-run", "notified", "pending-approval",
	"suppressed", "demoted", "expired", "declined",
};

static const char *const reason_names[] = {
	NULL, "stale", "below-threshold", "disabled", "cooldown", "opt-out",
	"policy", "at-cap", "unsupported-target", "blast-radius",
	"gitops-managed", "conflict", "budget", "circuit-open", "rate-limited",
};

const char *
rec_decision_name(enum rec_decision d)
{
	return (size_t)d < UTIL_ARRAY_LEN(decision_names) ?
	    decision_names[d] : "?";
}

const char *
rec_reason_name(enum rec_reason r)
{
	return (size_t)r < UTIL_ARRAY_LEN(reason_names) ? reason_names[r] :
	    NULL;
}

void
rec_clear(struct rec_decision_record *r)
{
	objref_clear(&r->target);
	objref_clear(&r->subject);
	free(r->message);
	json_decref(r->plan);
	json_decref(r->extra);
	json_decref(r->inputs);
	memset(r, 0, sizeof *r);
}

json_t *
rec_to_json(const struct rec_decision_record *r)
{
	char when[TIME_FMTLEN];
	json_t *o = json_object(), *v;
	const char *k;

	time_format(r->time, when, sizeof when);
	json_object_set_new(o, "time", json_string(when));
	if (r->cluster)
		json_object_set_new(o, "cluster", json_string(r->cluster));
	json_object_set_new(o, "sensor", json_string(r->sensor));
	json_object_set_new(o, "trigger", json_string(r->trigger));
	json_object_set_new(o, "target", r->target.kind ?
	    objref_json(&r->target) : json_null());
	json_object_set_new(o, "subject", r->subject.kind ?
	    objref_json(&r->subject) : json_null());
	json_object_set_new(o, "decision",
	    json_string(rec_decision_name(r->decision)));
	if (r->reason != REASON_NONE)
		json_object_set_new(o, "reason",
		    json_string(rec_reason_name(r->reason)));
	if (r->message)
		json_object_set_new(o, "message", json_string(r->message));
	if (r->plan)
		json_object_set(o, "plan", r->plan);
	json_object_set_new(o, "signal", json_pack("{s:s?, s:s?, s:s?}",
	    "eventSource", r->event_source, "eventName", r->event_name,
	    "id", r->event_id));
	json_object_foreach(r->extra, k, v)
		json_object_set(o, k, v);
	return o;
}

/* ---- straight to text ------------------------------------------------------ */

/*
 * rec_write_line prints what json_dumps(rec_to_json(r), REC_JSON_FLAGS)
 * prints, byte for byte, without building the record's tree: a replay
 * writes one record per signal and the tree was most of a record's cost.
 * Its strings are written as jansson writes them (util_json_str: \u in
 * upper-case hex); a string with a byte outside ASCII (which jansson
 * validates as UTF-8 and refuses when it is not), in the record or in its
 * plan and extra fields, or an extra field that would replace one of the
 * fixed fields sends the record the tree's way, so the two can never
 * differ.  Plans and extras are written by put_value, reals by jansson.
 */

static const char *const fixed_keys[] = {
	"time", "cluster", "sensor", "trigger", "target", "subject",
	"decision", "reason", "message", "plan", "signal",
};

/* Would extra field k replace one of the fixed fields in the tree? */
static int
is_fixed_key(const char *k)
{
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(fixed_keys); i++)
		if (k[0] == fixed_keys[i][0] && strcmp(k, fixed_keys[i]) == 0)
			return 1;
	return 0;
}

static int
fast_ok(const struct rec_decision_record *r)
{
	const char *const strs[] = { r->cluster, r->sensor, r->trigger,
	    r->target.kind,
	    r->target.namespace, r->target.name, r->subject.kind,
	    r->subject.namespace, r->subject.name, r->message,
	    r->event_source, r->event_name, r->event_id };
	const char *k;
	json_t *v;
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(strs); i++)
		if (!util_json_plain(strs[i]))
			return 0;
	json_object_foreach(r->extra, k, v)
		if (is_fixed_key(k))
			return 0;
	return 1;
}

/*
 * The fixed fields' keys are literals with nothing to escape: each is
 * written as its text, "key": with the separator before it, not through
 * the string writer.  K(",\"key\":") is that text and its length.
 */
#define K(text)		(text), sizeof(text) - 1

/* "value": a text of ours (a name, a time), with nothing to escape. */
static void
put_name(struct buf *b, const char *v)
{
	buf_addc(b, '"');
	buf_adds(b, v);
	buf_addc(b, '"');
}

/* key (its text) and "value" -- or nothing for a NULL value, as
   json_string(NULL) left the member out. */
static void
put_field(struct buf *b, const char *key, size_t klen, const char *v)
{
	if (v == NULL)
		return;
	buf_add(b, key, klen);
	util_json_str(b, v);
}

/* A string or null: json_pack's "s?". */
static void
put_str_or_null(struct buf *b, const char *v)
{
	if (v)
		util_json_str(b, v);
	else
		buf_add(b, "null", 4);
}

/* key (its text) and the objref's {kind, namespace, name}, or null. */
static void
put_ref(struct buf *b, const char *key, size_t klen,
    const struct objref *o)
{
	buf_add(b, key, klen);
	if (o->kind == NULL) {
		buf_add(b, "null", 4);
		return;
	}
	buf_add(b, K("{\"kind\":"));
	util_json_str(b, o->kind);
	if (o->namespace) {
		buf_add(b, K(",\"namespace\":"));
		util_json_str(b, o->namespace);
	}
	buf_add(b, K(",\"name\":"));
	put_str_or_null(b, o->name);
	buf_addc(b, '}');
}

/*
 * v as jansson's dump with REC_JSON_FLAGS prints it (util_json_write);
 * -1 sends the record the tree's way.
 */
static int
put_value(struct buf *b, json_t *v)
{
	return util_json_write(b, v, REC_JSON_FLAGS);
}

static int
put_json(struct buf *b, const char *key, json_t *v)
{
	if (!util_json_plain(key))
		return -1;
	buf_addc(b, ',');
	util_json_str(b, key);
	buf_addc(b, ':');
	return put_value(b, v);
}

/* The record's fields, as rec_to_json orders them; -1: see put_value. */
static int
write_fields(const struct rec_decision_record *r, struct buf *b)
{
	char when[TIME_FMTLEN];
	const char *k;
	json_t *v;

	/* time_format writes digits, '-', ':', '.', 'T' and 'Z' only */
	time_format(r->time, when, sizeof when);
	buf_add(b, K("{\"time\":"));
	put_name(b, when);
	put_field(b, K(",\"cluster\":"), r->cluster);
	put_field(b, K(",\"sensor\":"), r->sensor);
	put_field(b, K(",\"trigger\":"), r->trigger);
	put_ref(b, K(",\"target\":"), &r->target);
	put_ref(b, K(",\"subject\":"), &r->subject);
	buf_add(b, K(",\"decision\":"));
	put_name(b, rec_decision_name(r->decision));
	if (rec_reason_name(r->reason) != NULL) {
		buf_add(b, K(",\"reason\":"));
		put_name(b, rec_reason_name(r->reason));
	}
	put_field(b, K(",\"message\":"), r->message);
	if (r->plan) {
		buf_add(b, K(",\"plan\":"));
		if (put_value(b, r->plan) == -1)
			return -1;
	}
	buf_add(b, K(",\"signal\":{\"eventSource\":"));
	put_str_or_null(b, r->event_source);
	buf_add(b, K(",\"eventName\":"));
	put_str_or_null(b, r->event_name);
	buf_add(b, K(",\"id\":"));
	put_str_or_null(b, r->event_id);
	buf_addc(b, '}');
	json_object_foreach(r->extra, k, v)
		if (put_json(b, k, v) == -1)
			return -1;
	buf_add(b, "}\n", 2);
	return 0;
}

void
rec_write_line(const struct rec_decision_record *r, struct buf *b)
{
	size_t start = b->len;
	json_t *o;
	char *s;

	if (fast_ok(r) && write_fields(r, b) == 0)
		return;
	b->len = start;		/* the tree's way, from the start */
	if (b->data)
		b->data[start] = '\0';
	o = rec_to_json(r);
	s = json_dumps(o, REC_JSON_FLAGS);
	buf_adds(b, s);
	buf_addc(b, '\n');
	free(s);
	json_decref(o);
}

char *
rec_to_line(const struct rec_decision_record *r)
{
	struct buf b;

	buf_init(&b, 0);
	rec_write_line(r, &b);
	return buf_steal(&b);
}

/* ---- the table ----------------------------------------------------------- */

#define NCOLS	6

static const char *const table_heads[NCOLS] = { "TIME", "TRIGGER",
    "TARGET", "DECISION", "REASON", "MESSAGE" };

struct rec_table {
	char	**cells;		/* NCOLS per row; owned */
	size_t	  nrows, cap;		/* rows */
	size_t	  width[NCOLS];		/* bytes: the widest cell */
};

struct rec_table *
rec_table_new(void)
{
	struct rec_table *t = xcalloc(1, sizeof *t);
	size_t i;

	for (i = 0; i < NCOLS; i++)
		t->width[i] = strlen(table_heads[i]);
	return t;
}

/* The message column: the record's message, else a line of its plan. */
static char *
table_message(json_t *r)
{
	const char *msg = json_string_value(json_object_get(r, "message"));
	json_t *plan = json_object_get(r, "plan");
	const char *pns = json_string_value(json_object_get(plan, "namespace"));

	if (msg)
		return xstrdup(msg);
	if (!json_is_object(plan))
		return xstrdup("");
	return xasprintf("%s %s %s%s%s", json_string_value(json_object_get(
	    plan, "operation")), json_string_value(json_object_get(plan,
	    "kind")), pns ? pns : "", pns ? "/" : "", json_string_value(
	    json_object_get(plan, "name")));
}

static char *
cell(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return xstrdup(s ? s : "-");
}

void
rec_table_add(struct rec_table *t, json_t *r)
{
	json_t *tg = json_object_get(r, "target");
	const char *ns = json_string_value(json_object_get(tg, "namespace"));
	char **row;
	size_t i, n;

	if (t->nrows == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->cells = xrealloc(t->cells, t->cap * NCOLS *
		    sizeof *t->cells);
	}
	row = t->cells + t->nrows++ * NCOLS;
	row[0] = cell(r, "time");
	row[1] = cell(r, "trigger");
	row[2] = json_is_object(tg) ? xasprintf("%s/%s%s%s",
	    json_string_value(json_object_get(tg, "kind")), ns ? ns : "",
	    ns ? "/" : "", json_string_value(json_object_get(tg, "name"))) :
	    xstrdup("-");
	row[3] = cell(r, "decision");
	row[4] = cell(r, "reason");
	row[5] = table_message(r);
	for (i = 0; i < NCOLS; i++)
		if ((n = strlen(row[i])) > t->width[i])
			t->width[i] = n;
}

static void
print_row(const struct rec_table *t, FILE *f, const char *const *row)
{
	size_t i;

	for (i = 0; i < NCOLS - 1; i++)
		fprintf(f, "%-*s  ", (int)t->width[i], row[i]);
	fprintf(f, "%s\n", row[NCOLS - 1]);
}

static void
forget_rows(struct rec_table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * NCOLS; i++)
		free(t->cells[i]);
	t->nrows = 0;
}

void
rec_table_print(struct rec_table *t, FILE *f)
{
	size_t i;

	print_row(t, f, table_heads);
	for (i = 0; i < t->nrows; i++)
		print_row(t, f, (const char *const *)t->cells + i * NCOLS);
	forget_rows(t);
}

void
rec_table_free(struct rec_table *t)
{
	if (t == NULL)
		return;
	forget_rows(t);
	free(t->cells);
	free(t);
}
