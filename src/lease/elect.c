/*
 * The election state machine: client-go's tryAcquireOrRenew, with time
 * from the caller so tests step it without sleeping.
 *
 * A replica that sees another holder waits until that holder's lease has
 * run out as counted from when this replica saw the record last change
 * (never from the record's own renewTime: the clocks of two machines need
 * not agree, only their rates).  An empty holder (a release) is free at
 * once.  Every write carries the resourceVersion last read, so of two
 * replicas racing for an expired lease the server accepts one and answers
 * the other 409 Conflict.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lease/lease.h"

void
lease_timing_defaults(struct lease_timing *t)
{
	t->duration = 15000;
	t->renew_deadline = 10000;
	t->retry_period = 2000;
}

int
lease_timing_check(const struct lease_timing *t, char **err)
{
	if (t->duration <= 0 || t->renew_deadline <= 0 ||
	    t->retry_period <= 0)
		*err = xstrdup("lease duration, renew deadline and retry "
		    "period must all be positive");
	else if (t->duration <= t->renew_deadline)
		*err = xstrdup("the lease duration must be longer than the "
		    "renew deadline: a leader must stop acting before "
		    "another replica may take over");
	else if (t->renew_deadline * 10 <= t->retry_period * 12)
		*err = xstrdup("the renew deadline must be longer than 1.2 "
		    "times the retry period, or a leader cannot retry a "
		    "failed renewal before it must stop");
	else
		return 0;
	return -1;
}

void
lease_record_clear(struct lease_record *r)
{
	free(r->holder);
	free(r->resource_version);
	memset(r, 0, sizeof *r);
}

static int64_t
spec_int(const json_t *spec, const char *key)
{
	return json_integer_value(json_object_get(spec, key));
}

static int64_t
spec_time(const json_t *spec, const char *key)
{
	const char *s = json_string_value(json_object_get(spec, key));
	int64_t ms = 0;

	if (s == NULL || time_parse(s, &ms) == -1)
		return 0;
	return ms;
}

int
lease_record_from_json(const json_t *obj, struct lease_record *r,
    char **err)
{
	const json_t *spec = json_object_get(obj, "spec");
	const char *rv = json_string_value(json_object_get(json_object_get(
	    obj, "metadata"), "resourceVersion"));
	const char *holder = json_string_value(json_object_get(spec,
	    "holderIdentity"));

	memset(r, 0, sizeof *r);
	if (!json_is_object(obj) || rv == NULL) {
		*err = xstrdup("the server's answer is not a Lease with a "
		    "resourceVersion");
		return -1;
	}
	r->holder = holder && *holder ? xstrdup(holder) : NULL;
	r->duration_s = spec_int(spec, "leaseDurationSeconds");
	r->acquire_time = spec_time(spec, "acquireTime");
	r->renew_time = spec_time(spec, "renewTime");
	r->transitions = spec_int(spec, "leaseTransitions");
	r->resource_version = xstrdup(rv);
	return 0;
}

/* MicroTime as the API server writes it: exactly six fraction digits. */
static json_t *
micro_time(int64_t ms)
{
	char s[TIME_FMTLEN], *z;

	time_format(ms - ms % 1000, s, sizeof s);
	if ((z = strchr(s, 'Z')) != NULL)
		*z = '\0';
	return json_sprintf("%s.%03d000Z", s, (int)(ms % 1000));
}

json_t *
lease_record_to_json(const struct lease_record *r, const char *ns,
    const char *name)
{
	json_t *spec = json_object(), *meta;

	if (r->holder)
		json_object_set_new(spec, "holderIdentity",
		    json_string(r->holder));
	json_object_set_new(spec, "leaseDurationSeconds",
	    json_integer(r->duration_s));
	if (r->acquire_time)
		json_object_set_new(spec, "acquireTime",
		    micro_time(r->acquire_time));
	if (r->renew_time)
		json_object_set_new(spec, "renewTime",
		    micro_time(r->renew_time));
	json_object_set_new(spec, "leaseTransitions",
	    json_integer(r->transitions));
	meta = json_pack("{s:s, s:s}", "name", name, "namespace", ns);
	if (r->resource_version)
		json_object_set_new(meta, "resourceVersion",
		    json_string(r->resource_version));
	return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion",
	    "coordination.k8s.io/v1", "kind", "Lease", "metadata", meta,
	    "spec", spec);
}

void
lease_elector_init(struct lease_elector *el, const char *identity,
    const struct lease_timing *t)
{
	memset(el, 0, sizeof *el);
	el->identity = xstrdup(identity);
	el->t = *t;
}

void
lease_elector_clear(struct lease_elector *el)
{
	free(el->identity);
	lease_record_clear(&el->seen);
	memset(el, 0, sizeof *el);
}

static void
record_copy(struct lease_record *dst, const struct lease_record *src)
{
	lease_record_clear(dst);
	*dst = *src;
	dst->holder = src->holder ? xstrdup(src->holder) : NULL;
	dst->resource_version = src->resource_version ?
	    xstrdup(src->resource_version) : NULL;
}

static int
ours(const struct lease_elector *el)
{
	return el->have_seen && util_same_str(el->seen.holder, el->identity);
}

void
lease_elector_observe(struct lease_elector *el, const struct lease_record *r,
    int64_t now)
{
	if (r == NULL) {
		/*
		 * Deleted (or never made).  A holder seen alive may not
		 * know and acts until its own fence: wait it out from when
		 * we saw it, as if the Lease were still there.  Ours is gone
		 * too: anyone may create it now, so we stop until our own
		 * create wins.
		 */
		if (el->have_seen && el->seen.holder && !ours(el))
			el->gone_until = el->seen_at +
			    el->seen.duration_s * 1000;
		el->acting_until = 0;
		lease_record_clear(&el->seen);
		el->have_seen = 0;
		el->seen_at = now;
		return;
	}
	/* A write bumps the resourceVersion: that is "changed". */
	if (!el->have_seen || !util_same_str(el->seen.resource_version,
	    r->resource_version))
		el->seen_at = now;
	record_copy(&el->seen, r);
	el->have_seen = 1;
	/* Someone else holds it: whatever we thought, we do not lead. */
	if (!util_same_str(r->holder, el->identity))
		el->acting_until = 0;
}

enum lease_step
lease_elector_next(struct lease_elector *el, int64_t now, int64_t wall,
    struct lease_record *want)
{
	int64_t seconds = (el->t.duration + 999) / 1000;

	memset(want, 0, sizeof *want);
	if (now < el->sit_out_until)
		return LEASE_WAIT;	/* handed over: another's turn */
	if (el->have_seen && el->seen.holder && !ours(el) &&
	    now < el->seen_at + el->seen.duration_s * 1000)
		return LEASE_WAIT;
	if (!el->have_seen && now < el->gone_until)
		return LEASE_WAIT;
	want->holder = xstrdup(el->identity);
	want->duration_s = seconds;
	want->renew_time = wall;
	if (!el->have_seen) {
		want->acquire_time = wall;
		return LEASE_CREATE;
	}
	want->resource_version = el->seen.resource_version ?
	    xstrdup(el->seen.resource_version) : NULL;
	want->transitions = el->seen.transitions;
	if (ours(el))
		want->acquire_time = el->seen.acquire_time ?
		    el->seen.acquire_time : wall;
	else {
		want->acquire_time = wall;
		want->transitions++;
	}
	return LEASE_UPDATE;
}

void
lease_elector_won(struct lease_elector *el, const struct lease_record *got,
    int64_t sent)
{
	if (!lease_elector_acting(el, sent))
		el->transitions++;
	record_copy(&el->seen, got);
	el->have_seen = 1;
	el->seen_at = sent;
	el->acting_until = sent + el->t.renew_deadline;
}

int
lease_elector_acting(const struct lease_elector *el, int64_t now)
{
	return el->acting_until != 0 && now < el->acting_until;
}

int
lease_elector_release(struct lease_elector *el, int64_t wall,
    struct lease_record *want)
{
	memset(want, 0, sizeof *want);
	el->acting_until = 0;
	if (!ours(el))
		return 0;
	want->duration_s = 1;
	want->acquire_time = wall;
	want->renew_time = wall;
	want->transitions = el->seen.transitions;
	want->resource_version = el->seen.resource_version ?
	    xstrdup(el->seen.resource_version) : NULL;
	return 1;
}

int
lease_elector_yield(struct lease_elector *el, int64_t now, int64_t wall,
    int64_t ms, struct lease_record *want)
{
	el->sit_out_until = now + ms;
	return lease_elector_release(el, wall, want);
}
