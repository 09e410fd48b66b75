/*
 * Compiling calendar and prometheus entries, and the set that holds them.
 * What the schema cannot check is checked here, at the offending node:
 * cron syntax field by field, time zones against tzdata, exclusion dates,
 * conditions, URLs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedule/source_int.h"

struct sched_set *
sched_set_new(void)
{
	return xcalloc(1, sizeof(struct sched_set));
}

static void
source_free(struct sched_source *s)
{
	if (s == NULL)
		return;
	free(s->eventsource);
	free(s->name);
	json_decref(s->metadata);
	cron_free(s->cron);
	tz_free(s->zone);
	free(s->ex);
	json_decref(s->user_payload);
	free(s->when);
	free(s->query);
	free(s->url);
	sched_prom_clear(s);
	free(s);
}

void
sched_set_free(struct sched_set *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++)
		source_free(set->v[i]);
	free(set->v);
	free(set);
}

size_t
sched_set_count(const struct sched_set *set)
{
	return set->n;
}

struct sched_source *
sched_set_get(const struct sched_set *set, size_t i)
{
	return i < set->n ? set->v[i] : NULL;
}

enum sched_kind
sched_source_kind(const struct sched_source *s)
{
	return s->kind;
}

const char *
sched_source_eventsource(const struct sched_source *s)
{
	return s->eventsource;
}

const char *
sched_source_name(const struct sched_source *s)
{
	return s->name;
}

int64_t
sched_source_due(const struct sched_source *s)
{
	return s->due;
}

void
sched_set_start(struct sched_set *set, int64_t now)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		set->v[i]->due = set->v[i]->kind == SCHED_CALENDAR ?
		    sched_next(set->v[i], now) : now;
}

/*
 * Would b, of the running set, do what a does: the same kind, event
 * source and name, and the same fire times (a calendar's schedule as
 * written) or edges (a prometheus source's identity: query, URL,
 * interval, condition and repeat)?
 */
static int
same_source(const struct sched_source *a, const struct sched_source *b)
{
	if (a->kind != b->kind ||
	    !util_same_str(a->eventsource, b->eventsource) ||
	    !util_same_str(a->name, b->name))
		return 0;
	if (a->kind == SCHED_CALENDAR)
		return util_same_str(a->when, b->when);
	return a->ident == b->ident;
}

void
sched_set_adopt(struct sched_set *to, struct sched_set *from)
{
	struct sched_source *a, *b;
	struct map m;
	size_t i, j;

	for (i = 0; i < to->n; i++) {
		a = to->v[i];
		for (j = 0; j < from->n; j++) {
			if (!same_source(a, b = from->v[j]))
				continue;
			/* an interval re-armed at each reload never fires */
			a->due = b->due;
			if (a->kind == SCHED_PROMETHEUS) {
				m = a->series;	/* no edge twice */
				a->series = b->series;
				b->series = m;
				a->gen = b->gen;
			}
			break;
		}
	}
}

int64_t
sched_set_next_due(const struct sched_set *set)
{
	int64_t best = -1;
	size_t i;

	for (i = 0; i < set->n; i++)
		if (set->v[i]->due >= 0 && (best < 0 || set->v[i]->due < best))
			best = set->v[i]->due;
	return best;
}

/* ---- exclusion dates ----------------------------------------------------- */

static int
digits(const char *s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

static int
valid_date(int y, int m, int d)
{
	return y >= 1 && m >= 1 && m <= 12 && d >= 1 &&
	    d <= time_days_in_month(y, m);
}

static void
add_exdate(struct sched_source *s, int y, int m, int d)
{
	s->ex = xrealloc(s->ex, (s->nex + 1) * sizeof *s->ex);
	s->ex[s->nex].y = y;
	s->ex[s->nex].m = m;
	s->ex[s->nex].d = d;
	s->nex++;
}

/*
 * Argo's form is RFC 5545's EXDATE line, "EXDATE:20261225T000000Z,...";
 * remediate also takes RFC 3339 dates and times ("2026-12-25").  The date
 * as written is compared with the fire time's local date.
 */
static int
parse_exdates(struct sched_source *s, const char *v)
{
	int y, m, d;
	int64_t ms;

	if (strncmp(v, "EXDATE:", 7) == 0) {
		const char *p = v + 7;

		for (;;) {
			if (digits(p, 4, &y) || digits(p + 4, 2, &m) ||
			    digits(p + 6, 2, &d) || p[8] != 'T' ||
			    strspn(p + 9, "0123456789") != 6 || p[15] != 'Z' ||
			    !valid_date(y, m, d))
				return -1;
			add_exdate(s, y, m, d);
			p += 16;
			if (*p == '\0')
				return 0;
			if (*p++ != ',')
				return -1;
		}
	}
	if (digits(v, 4, &y) || v[4] != '-' || digits(v + 5, 2, &m) ||
	    v[7] != '-' || digits(v + 8, 2, &d) || !valid_date(y, m, d))
		return -1;
	if (v[10] != '\0' && time_parse(v, &ms) == -1)
		return -1;
	add_exdate(s, y, m, d);
	return 0;
}

/* ---- entries ------------------------------------------------------------- */

static struct sched_source *
new_source(const struct mdoc *d, const char *name, enum sched_kind k,
    json_t *spec)
{
	struct sched_source *s = xcalloc(1, sizeof *s);
	json_t *meta = json_object_get(spec, "metadata");

	s->kind = k;
	s->eventsource = xstrdup(d->name ? d->name : "");
	s->name = xstrdup(name);
	s->due = -1;
	if (json_is_object(meta) && json_object_size(meta) > 0)
		s->metadata = json_deep_copy(meta);
	map_init(&s->series);
	return s;
}

static void
add_source(struct sched_set *set, struct sched_source *s)
{
	xgrow(&set->v, &set->cap, set->n + 1, sizeof *set->v);
	set->v[set->n++] = s;
}

/* What decides a calendar's fire times, as written: owned. */
static char *
when_text(json_t *spec)
{
	static const char *const keys[] = { "schedule", "interval",
	    "timezone", "exclusionDates" };
	json_t *w = json_object(), *v;
	char *s;
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(keys); i++)
		if ((v = json_object_get(spec, keys[i])) != NULL)
			json_object_set(w, keys[i], v);
	s = json_dumps(w, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(w);
	return s;
}

static int
compile_calendar(struct sched_set *set, const struct mdoc *d,
    const char *name, json_t *spec, struct diags *dg)
{
	struct sched_source *s = new_source(d, name, SCHED_CALENDAR, spec);
	const char *sched = json_string_value(json_object_get(spec,
	    "schedule"));
	const char *iv = json_string_value(json_object_get(spec, "interval"));
	const char *tz = json_string_value(json_object_get(spec, "timezone"));
	json_t *ex = json_object_get(spec, "exclusionDates"), *e;
	char *err = NULL;
	int64_t ms;
	size_t i;
	int bad = 0;

	if (sched != NULL) {
		if ((s->cron = cron_parse(sched, &err)) == NULL) {
			diag_error(dg, conf_loc_value(d, spec, "schedule", 0),
			    "calendar %s: %s", name, err);
			free(err);
			bad = 1;
		}
	} else if (iv != NULL) {
		if (duration_parse(iv, &ms) == -1 || ms < 1000) {
			diag_error(dg, conf_loc_value(d, spec, "interval", 0),
			    "calendar %s: interval \"%s\" must be a duration "
			    "of at least 1s", name, iv);
			bad = 1;
		} else
			s->cron = cron_every(ms);
	} else
		bad = 1;	/* the schema reported it */
	if (sched != NULL && iv != NULL)
		diag_warn(dg, conf_loc_value(d, spec, "interval", 0),
		    "calendar %s: interval is ignored when schedule is set "
		    "(as in Argo Events)", name);
	if ((s->zone = tz_load(tz, &err)) == NULL) {
		diag_error(dg, conf_loc_value(d, spec, "timezone", 0),
		    "calendar %s: %s", name, err);
		diag_hint(dg, "an IANA name from /usr/share/zoneinfo, like "
		    "Europe/Paris or America/New_York");
		free(err);
		bad = 1;
	}
	json_array_foreach(ex, i, e) {
		const char *v = json_string_value(e);

		if (v == NULL || parse_exdates(s, v) == -1) {
			diag_error(dg, conf_loc_value(d, ex, NULL, i),
			    "calendar %s: exclusion date \"%s\" is neither "
			    "EXDATE:YYYYMMDDTHHMMSSZ[,...] nor an RFC 3339 "
			    "date", name, v ? v : "");
			bad = 1;
		}
	}
	if (json_object_get(spec, "userPayload") != NULL)
		s->user_payload = json_deep_copy(json_object_get(spec,
		    "userPayload"));
	s->when = when_text(spec);
	if (bad) {
		source_free(s);
		return -1;
	}
	add_source(set, s);
	return 0;
}

/*
 * What makes a prometheus source's edges, hashed: its query, URL,
 * interval, repeat and condition.  A reload adopts the edges of a source
 * of the same identity (same_source), and sched_edges keeps them under
 * it across processes, so both mean the same by "the same source".  The
 * numbers go in as text, the hash being kept in a database that replicas
 * of any byte order share.
 */
static uint64_t
source_ident(const struct sched_source *s)
{
	char num[128];
	uint64_t h = UTIL_HASH_SEED;

	snprintf(num, sizeof num, "%lld %lld %d %d %.17g",
	    (long long)s->interval, (long long)s->repeat, s->has_cond,
	    s->has_cond ? (int)s->cond.op : 0, s->has_cond ? s->cond.value :
	    0.0);
	h = util_hash(s->query, strlen(s->query) + 1, h);
	h = util_hash(s->url, strlen(s->url) + 1, h);
	return util_hash(num, strlen(num) + 1, h);
}

static int
compile_prometheus(struct sched_set *set, const struct mdoc *d,
    const char *name, json_t *spec, const struct sched_opts *o,
    struct diags *dg)
{
	struct sched_source *s = new_source(d, name, SCHED_PROMETHEUS, spec);
	const char *q = json_string_value(json_object_get(spec, "query"));
	const char *iv = json_string_value(json_object_get(spec, "interval"));
	const char *rp = json_string_value(json_object_get(spec, "repeat"));
	const char *cond = json_string_value(json_object_get(spec,
	    "condition"));
	const char *url = json_string_value(json_object_get(spec, "url"));
	int bad = 0;

	s->query = xstrdup(q ? q : "");
	s->interval = SCHED_PROM_INTERVAL;
	if (iv != NULL && (duration_parse(iv, &s->interval) == -1 ||
	    s->interval < 1000)) {
		diag_error(dg, conf_loc_value(d, spec, "interval", 0),
		    "prometheus %s: interval \"%s\" must be a duration of at "
		    "least 1s", name, iv);
		bad = 1;
	}
	if (rp != NULL && (duration_parse(rp, &s->repeat) == -1 ||
	    s->repeat < 1000)) {
		diag_error(dg, conf_loc_value(d, spec, "repeat", 0),
		    "prometheus %s: repeat \"%s\" must be a duration of at "
		    "least 1s", name, rp);
		bad = 1;
	}
	if (rp != NULL && cond == NULL) {
		diag_error(dg, conf_loc_value(d, spec, "repeat", 0),
		    "prometheus %s: repeat needs a condition (without one "
		    "every sample is an event)", name);
		bad = 1;
	}
	if (cond != NULL) {
		if (prom_cond_parse(cond, &s->cond) == -1) {
			diag_error(dg, conf_loc_value(d, spec, "condition", 0),
			    "prometheus %s: \"%s\" is not a comparison like "
			    "\"> 0.5\"", name, cond);
			bad = 1;
		}
		s->has_cond = 1;
	}
	if (url == NULL)
		url = o ? o->prometheus_url : NULL;
	if (url == NULL || (strncmp(url, "http://", 7) != 0 &&
	    strncmp(url, "https://", 8) != 0)) {
		diag_error(dg, conf_loc_value(d, spec, url ? "url" : "query",
		    0), "prometheus %s: %s", name, url ? "url must start "
		    "with http:// or https://" : "no Prometheus URL");
		if (url == NULL)
			diag_hint(dg, "set url here or spec.prometheus.url in "
			    "the RemediationConfig");
		bad = 1;
	} else
		s->url = xstrdup(url);
	if (bad) {
		source_free(s);
		return -1;
	}
	s->ident = source_ident(s);
	add_source(set, s);
	return 0;
}

int
sched_set_add(struct sched_set *set, const struct mdoc *d,
    const struct sched_opts *o, struct diags *dg)
{
	json_t *spec = json_object_get(d->root, "spec"), *e;
	const char *name;
	int rc = 0;

	json_object_foreach(json_object_get(spec, "calendar"), name, e)
		if (compile_calendar(set, d, name, e, dg) == -1)
			rc = -1;
	json_object_foreach(json_object_get(spec, "prometheus"), name, e)
		if (compile_prometheus(set, d, name, e, o, dg) == -1)
			rc = -1;
	return rc;
}
