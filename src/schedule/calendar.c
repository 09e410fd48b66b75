/*
 * The calendar source: when it fires, and the event it fires, shaped as
 * Argo's CalendarEventData:
 *
 *   {"eventTime": "2026-11-25 10:00:00 +0100 CET",
 *    "metadata": {...}, "userPayload": ...}
 *
 * eventTime is Go's time.String() of the fire time in the schedule's
 * zone, as Argo writes it (without Go's monotonic clock suffix).
 */
#include <stdlib.h>
#include <string.h>

#include "schedule/source_int.h"
#include "signal/signal.h"

int
sched_excluded(void *ctx, int y, int m, int d)
{
	const struct sched_source *s = ctx;
	size_t i;

	for (i = 0; i < s->nex; i++)
		if (s->ex[i].y == y && s->ex[i].m == m && s->ex[i].d == d)
			return 1;
	return 0;
}

int64_t
sched_next(const struct sched_source *s, int64_t after)
{
	if (s->kind != SCHED_CALENDAR || s->cron == NULL)
		return -1;
	return cron_next(s->cron, s->zone, after,
	    s->nex ? sched_excluded : NULL, (void *)(uintptr_t)s);
}

/* Go's time.Time.String(): "2006-01-02 15:04:05.999999999 -0700 MST". */
static void
go_time(const struct tz *z, int64_t ms, char *out, size_t outlen)
{
	int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	int frac = (int)(ms - secs * 1000), off;
	char abbr[16], fs[8] = "";
	struct time_civil c;

	off = tz_offset(z, secs, abbr, sizeof abbr);
	time_civil_from_secs(secs + off, &c);
	if (frac) {
		snprintf(fs, sizeof fs, ".%03d", frac);
		while (fs[strlen(fs) - 1] == '0')	/* Go trims zeros */
			fs[strlen(fs) - 1] = '\0';
	}
	snprintf(out, outlen, "%04lld-%02d-%02d %02d:%02d:%02d%s %c%02d%02d "
	    "%s", (long long)c.y, c.mon, c.day, c.hour, c.min, c.sec, fs,
	    off < 0 ? '-' : '+', abs(off) / 3600, abs(off) % 3600 / 60, abbr);
}

static char *
event_id(const struct sched_source *s, int64_t when)
{
	uint64_t h1 = UTIL_HASH_SEED;

	h1 = util_hash(s->eventsource, strlen(s->eventsource) + 1, h1);
	h1 = util_hash(s->name, strlen(s->name) + 1, h1);
	h1 = util_hash(&when, sizeof when, h1);
	return util_hash_id(h1, UTIL_HASH_SEED2);
}

int
sched_calendar_fire(struct sched_source *s, int64_t now, sig_emit_fn emit,
    void *ctx)
{
	struct event ev;
	char when[80];
	int64_t fire, n;
	int i;

	if (s->kind != SCHED_CALENDAR || s->due < 0 || now < s->due)
		return 0;
	/* missed fire times collapse into the latest one */
	fire = s->due;
	for (i = 0; i < 100000 && (n = sched_next(s, fire)) >= 0 && n <= now;
	    i++)
		fire = n;
	memset(&ev, 0, sizeof ev);
	ev.source = s->eventsource;
	ev.name = s->name;
	ev.type = sig_type_name(SIG_CALENDAR);
	ev.time = fire;
	ev.id = event_id(s, fire);
	go_time(s->zone, fire, when, sizeof when);
	ev.data = json_pack("{s:s}", "eventTime", when);
	if (s->metadata != NULL)
		json_object_set_new(ev.data, "metadata",
		    json_deep_copy(s->metadata));
	if (s->user_payload != NULL)
		json_object_set_new(ev.data, "userPayload",
		    json_deep_copy(s->user_payload));
	emit(ctx, &ev);
	event_clear(&ev);
	s->due = sched_next(s, now);
	return 1;
}
