/*
 * Which records page, when, and what the page says: the engine thread's
 * half of the pager.
 *
 * A condition is (sensor, trigger, reason).  Its episode starts with the
 * first occurrence, which pages at once; occurrences inside the window
 * after a page are only counted, and go out with the next page, which the
 * next occurrence or page_tick sends once the window has passed.  The
 * alert's labels keep the episode's first target, because Alertmanager
 * identifies an alert by its labels: a label that changed mid-episode
 * would leave the first alert firing forever.  The latest target and
 * message are annotations.
 */
#include <stdlib.h>
#include <string.h>

#include "page/page_int.h"

#define PAGE_OUTCOME_UNKNOWN	"outcome-unknown"

struct page_cond {
	char	*sensor, *trigger, *reason;	/* owned */
	int	 firing;
	int	 demoted;	/* reason demoted: resolves differently */
	int64_t	 first, last;	/* ms: the episode's first and latest */
	int64_t	 sent;		/* ms of the latest firing page, 0 none */
	long	 count;		/* occurrences in the episode */
	long	 unsent;	/* of those, not yet in a page */
	char	*target;	/* owned: the episode's first */
	char	*last_target;	/* owned */
	char	*message;	/* owned, may be NULL */
};

void
page_opts_defaults(struct page_opts *o)
{
	memset(o, 0, sizeof *o);
	o->window = 5 * 60 * 1000;
	o->queue_max = 256;
	o->attempts = 0;		/* until a receiver accepts it */
	o->retry_base = 1000;
	o->retry_max = 60000;
	o->timeout = 5000;
}

static void
cond_free(void *v)
{
	struct page_cond *c = v;

	if (c == NULL)
		return;
	free(c->sensor);
	free(c->trigger);
	free(c->reason);
	free(c->target);
	free(c->last_target);
	free(c->message);
	free(c);
}

void
page_conds_free(struct page *p)
{
	map_clear(&p->conds, cond_free);
	map_clear(&p->dirty, NULL);
}

static char *
opt_dup(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static int
http_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

struct page *
page_new(const struct page_opts *o, char **err)
{
	struct page *p;
	size_t n;

	if ((o->alertmanager && !http_url(o->alertmanager)) ||
	    (o->webhook && !http_url(o->webhook))) {
		*err = xasprintf("page destination \"%s\" is not an http:// or "
		    "https:// URL", o->alertmanager && !http_url(
		    o->alertmanager) ? o->alertmanager : o->webhook);
		return NULL;
	}
	p = xcalloc(1, sizeof *p);
	p->magic = PAGE_MAGIC;
	p->opts = *o;
	if (p->opts.queue_max == 0)
		p->opts.queue_max = 1;
	if (p->opts.attempts < 0)
		p->opts.attempts = 0;
	p->opts.alertmanager = p->own[0] = opt_dup(o->alertmanager);
	p->opts.webhook = p->own[1] = opt_dup(o->webhook);
	p->opts.webhook_token = p->own[2] = opt_dup(o->webhook_token);
	p->opts.generator_url = p->own[3] = opt_dup(o->generator_url);
	map_init(&p->conds);
	map_init(&p->dirty);
	map_init(&p->outbox);
	map_init(&p->outdirty);
	if (o->alertmanager) {
		n = strlen(o->alertmanager);
		while (n && o->alertmanager[n - 1] == '/')
			n--;
		p->url[DEST_ALERTMANAGER] = xasprintf("%.*s/api/v2/alerts",
		    (int)n, o->alertmanager);
	}
	if (o->webhook)
		p->url[DEST_WEBHOOK] = xstrdup(o->webhook);
	if (page_sender_start(p, err) == -1) {
		page_free(p);
		return NULL;
	}
	return p;
}

void
page_free(struct page *p)
{
	int d;

	if (p == NULL)
		return;
	if (p->magic != PAGE_MAGIC)
		abort();
	page_sender_stop(p);
	page_conds_free(p);
	page_outbox_free(p);
	for (d = 0; d < NDEST; d++)
		free(p->url[d]);
	for (d = 0; d < (int)UTIL_ARRAY_LEN(p->own); d++)
		free(p->own[d]);
	p->magic = 0;
	free(p);
}

/* The page reason of a record, or NULL if it does not page. */
static const char *
page_reason(const struct rec_decision_record *r)
{
	switch (r->decision) {
	case REC_ACTED:
		/* an action a person must follow up (quarantine) pages */
		return json_is_true(json_object_get(r->plan, "page")) ?
		    "quarantined" : NULL;
	case REC_FAILED:
		return "failed";
	case REC_DEMOTED:
		return "demoted";
	case REC_SUPPRESSED:
		switch (r->reason) {
		case REASON_RATE_LIMITED:
		case REASON_BUDGET:
		case REASON_CIRCUIT_OPEN:
		case REASON_AT_CAP:
		case REASON_GITOPS_MANAGED:
		case REASON_CONFLICT:
			return rec_reason_name(r->reason);
		default:
			return NULL;
		}
	default:
		return NULL;
	}
}

/* A decision that got past every check: its trigger's conditions clear. */
static int
passing(const struct rec_decision_record *r)
{
	return r->decision == REC_ACTED || r->decision == REC_DRY_RUN ||
	    r->decision == REC_NOTIFIED ||
	    r->decision == REC_PENDING_APPROVAL;
}

static char *
cond_key(const char *sensor, const char *trigger, const char *reason)
{
	return xasprintf("%s\x1f%s\x1f%s", sensor, trigger, reason);
}

static void
mark(struct page *p, const char *key)
{
	map_put(&p->dirty, key, p);
}

static const char *
severity(const char *reason)
{
	return strcmp(reason, "failed") == 0 ||
	    strcmp(reason, "circuit-open") == 0 ||
	    strcmp(reason, PAGE_OUTCOME_UNKNOWN) == 0 ? "critical" : "warning";
}

static json_t *
alert_json(const struct page *p, const struct page_cond *c, int64_t ends)
{
	char starts[TIME_FMTLEN], end[TIME_FMTLEN], first[TIME_FMTLEN];
	char last[TIME_FMTLEN], count[32];
	json_t *a;

	time_format(c->first, starts, sizeof starts);
	time_format(c->first, first, sizeof first);
	time_format(c->last, last, sizeof last);
	snprintf(count, sizeof count, "%ld", c->count);
	a = json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:s}, s:{s:o, s:s, s:s, "
	    "s:s, s:s, s:s}, s:s}",
	    "labels", "alertname", "RemediationPage", "severity",
	    severity(c->reason), "sensor", c->sensor, "trigger", c->trigger,
	    "reason", c->reason, "target", c->target,
	    "annotations", "summary", json_sprintf("%s/%s: %s (%ld since %s)",
	    c->sensor, c->trigger, c->reason, c->count, first),
	    "description", c->message ? c->message : c->reason,
	    "occurrences", count, "lastTarget", c->last_target,
	    "firstSeen", first, "lastSeen", last,
	    "startsAt", starts);
	if (ends) {
		time_format(ends, end, sizeof end);
		json_object_set_new(a, "endsAt", json_string(end));
	}
	if (p->opts.generator_url)
		json_object_set_new(a, "generatorURL",
		    json_string(p->opts.generator_url));
	return a;
}

/* Keeps body (stolen) in the outbox until a receiver accepts it. */
static void
outbox_add(struct page *p, enum page_dest d, json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);

	page_outbox_add(p, d, text);
	free(text);
	json_decref(body);
}

/* Queues the condition's page (ends: 0 firing, else resolved at ends). */
static void
send(struct page *p, struct page_cond *c, int64_t ends)
{
	json_t *a = alert_json(p, c, ends), *w;

	if (p->url[DEST_ALERTMANAGER]) {
		w = json_pack("[O]", a);
		outbox_add(p, DEST_ALERTMANAGER, w);
	}
	if (p->url[DEST_WEBHOOK]) {
		/* the Alertmanager webhook shape, which receivers know */
		json_object_set_new(a, "status", json_string(ends ?
		    "resolved" : "firing"));
		w = json_pack("{s:s, s:s, s:s, s:O, s:O, s:s, s:[O]}",
		    "version", "4", "receiver", "remediate", "status",
		    ends ? "resolved" : "firing", "commonLabels",
		    json_object_get(a, "labels"), "commonAnnotations",
		    json_object_get(a, "annotations"), "externalURL",
		    p->opts.generator_url ? p->opts.generator_url : "",
		    "alerts", a);
		outbox_add(p, DEST_WEBHOOK, w);
	}
	json_decref(a);
	if (!ends) {
		c->sent = c->last;
		c->unsent = 0;
	}
}

static void
set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = s ? xstrdup(s) : NULL;
}

static char *
target_string(const struct rec_decision_record *r)
{
	const struct objref *t = &r->target;

	if (t->kind == NULL || t->name == NULL)
		return xstrdup("");
	return xasprintf("%s/%s%s%s", t->kind, t->namespace ? t->namespace :
	    "", t->namespace ? "/" : "", t->name);
}

static void
occur(struct page *p, const struct rec_decision_record *r,
    const char *reason)
{
	char *key = cond_key(r->sensor, r->trigger, reason);
	struct page_cond *c = map_get(&p->conds, key);
	char *target = target_string(r);

	if (c == NULL) {
		c = xcalloc(1, sizeof *c);
		c->sensor = xstrdup(r->sensor);
		c->trigger = xstrdup(r->trigger);
		c->reason = xstrdup(reason);
		map_put(&p->conds, key, c);
	}
	if (!c->firing) {
		c->firing = 1;
		c->first = r->time;
		c->count = 0;
		set_str(&c->target, target);
	}
	c->demoted = strcmp(reason, "demoted") == 0;
	c->count++;
	c->unsent++;
	c->last = r->time;
	set_str(&c->last_target, target);
	set_str(&c->message, r->message);
	if (c->sent == 0 || r->time - c->sent >= p->opts.window)
		send(p, c, 0);
	mark(p, key);
	free(target);
	free(key);
}

static void
resolve(struct page *p, const char *key, struct page_cond *c, int64_t now)
{
	c->firing = 0;
	send(p, c, now > c->first ? now : c->first);
	c->unsent = 0;
	mark(p, key);
}

struct visit {
	struct page				*p;
	const struct rec_decision_record	*r;	/* or NULL: tick */
	int64_t					 now;
	char					**gone;	/* owned keys */
	size_t					 ngone, cap;
};

static int
clear_trigger(void *ctx, const char *key, void *value)
{
	struct visit *v = ctx;
	struct page_cond *c = value;

	if (!c->firing || strcmp(c->sensor, v->r->sensor) != 0 ||
	    strcmp(c->trigger, v->r->trigger) != 0)
		return 0;
	if (c->demoted && json_object_get(v->r->extra, "demoted"))
		return 0;		/* still demoted */
	/*
	 * Only a decision made after the latest occurrence resolves it: an
	 * action's record comes when its outcome does, which may be after
	 * later decisions' records (actions run off the engine thread).
	 */
	if (v->r->time <= c->last)
		return 0;
	resolve(v->p, key, c, v->r->time);
	return 0;
}

void
page_decision(struct page *p, const struct rec_decision_record *r)
{
	const char *reason;
	struct visit v;

	if (p == NULL || r->sensor == NULL || r->trigger == NULL)
		return;
	if ((reason = page_reason(r)) != NULL)
		occur(p, r, reason);
	else if (passing(r)) {
		memset(&v, 0, sizeof v);
		v.p = p;
		v.r = r;
		map_each(&p->conds, clear_trigger, &v);
	}
}

void
page_outcome_unknown(struct page *p, const struct rec_decision_record *r)
{
	if (p != NULL && r->sensor != NULL && r->trigger != NULL)
		occur(p, r, PAGE_OUTCOME_UNKNOWN);
}

static int
tick_one(void *ctx, const char *key, void *value)
{
	struct visit *v = ctx;
	struct page_cond *c = value;
	int64_t w = v->p->opts.window;

	if (c->firing && !c->demoted && v->now - c->last >= w)
		resolve(v->p, key, c, v->now);
	else if (c->firing && c->unsent && v->now - c->sent >= w) {
		send(v->p, c, 0);
		c->sent = v->now;
		mark(v->p, key);
	} else if (!c->firing && v->now - c->sent >= w &&
	    v->now - c->last >= w) {
		xgrow(&v->gone, &v->cap, v->ngone + 1, sizeof *v->gone);
		v->gone[v->ngone++] = xstrdup(key);
	}
	return 0;
}

void
page_tick(struct page *p, int64_t now)
{
	struct visit v;
	size_t i;

	if (p == NULL)
		return;
	memset(&v, 0, sizeof v);
	v.p = p;
	v.now = now;
	page_outbox_requeue(p);
	map_each(&p->conds, tick_one, &v);
	for (i = 0; i < v.ngone; i++) {
		cond_free(map_del(&p->conds, v.gone[i]));
		mark(p, v.gone[i]);
		free(v.gone[i]);
	}
	free(v.gone);
}

/* ---- persistence ------------------------------------------------------- */

static json_t *
cond_json(const struct page_cond *c)
{
	return json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:s?, "
	    "s:b}", "firing", c->firing, "first", (json_int_t)c->first,
	    "last", (json_int_t)c->last, "sent", (json_int_t)c->sent,
	    "count", (json_int_t)c->count, "unsent", (json_int_t)c->unsent,
	    "target", c->target ? c->target : "", "lastTarget",
	    c->last_target ? c->last_target : "", "message", c->message,
	    "demoted", c->demoted);
}

static json_t *
cond_value(const void *c)
{
	return cond_json(c);
}

struct journal {
	const struct map *live;
	json_t		*(*to_json)(const void *);
	const char	*kind;
	void		(*put)(void *, const char *, const char *, json_t *);
	void		*ctx;
	int		 all;
};

static int
journal_one(void *ctx, const char *key, void *value)
{
	struct journal *j = ctx;
	const void *e = j->all ? value : map_get(j->live, key);
	json_t *v = e ? j->to_json(e) : NULL;

	j->put(j->ctx, j->kind, key, v);
	json_decref(v);
	return 0;
}

void
page_journal_map(const struct map *live, struct map *dirty, int all,
    const char *kind, json_t *(*to_json)(const void *), void (*put)(void *,
    const char *, const char *, json_t *), void *ctx)
{
	struct journal j = { live, to_json, kind, put, ctx, all };

	map_each(all ? live : dirty, journal_one, &j);
	map_clear(dirty, NULL);
}

void
page_state_journal(struct page *p, int all, void (*put)(void *,
    const char *, const char *, json_t *), void *ctx)
{
	page_journal_map(&p->conds, &p->dirty, all, "page", cond_value, put,
	    ctx);
	page_outbox_journal(p, all, put, ctx);
}

static int64_t
get_ms(json_t *v, const char *k)
{
	return json_integer_value(json_object_get(v, k));
}

int
page_state_load(struct page *p, const char *kind, const char *key,
    json_t *v)
{
	const char *a, *b;
	struct page_cond *c;

	if (kind && strcmp(kind, "pageout") == 0 && json_is_object(v))
		return page_outbox_load(p, key, v);
	if (kind == NULL || strcmp(kind, "page") != 0 || !json_is_object(v) ||
	    (a = strchr(key, '\x1f')) == NULL ||
	    (b = strchr(a + 1, '\x1f')) == NULL || b[1] == '\0')
		return -1;
	c = xcalloc(1, sizeof *c);
	c->sensor = xstrndup(key, (size_t)(a - key));
	c->trigger = xstrndup(a + 1, (size_t)(b - a - 1));
	c->reason = xstrdup(b + 1);
	c->firing = json_is_true(json_object_get(v, "firing"));
	c->demoted = json_is_true(json_object_get(v, "demoted"));
	c->first = get_ms(v, "first");
	c->last = get_ms(v, "last");
	c->sent = get_ms(v, "sent");
	c->count = (long)get_ms(v, "count");
	c->unsent = (long)get_ms(v, "unsent");
	set_str(&c->target, json_string_value(json_object_get(v, "target")));
	set_str(&c->last_target, json_string_value(json_object_get(v,
	    "lastTarget")));
	set_str(&c->message, json_string_value(json_object_get(v,
	    "message")));
	if (c->target == NULL)
		c->target = xstrdup("");
	if (c->last_target == NULL)
		c->last_target = xstrdup("");
	cond_free(map_put(&p->conds, key, c));
	return 0;
}
