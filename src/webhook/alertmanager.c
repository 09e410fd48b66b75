/*
 * Alertmanager's webhook payload (version "4"): a notification for one
 * alert group, with every alert of the group.  Each alert becomes one
 * event, so a sensor reasons about one alert at a time:
 *
 *   data.body = the alert {status, labels, annotations, startsAt, endsAt,
 *               generatorURL, fingerprint}
 *             + body.group = the notification without its alerts
 *               {receiver, status, groupLabels, commonLabels,
 *                commonAnnotations, externalURL, version, groupKey,
 *                truncatedAlerts, ...}
 *
 * Alertmanager delivers at least once and resends a group whenever it
 * changes or repeat_interval passes, so the same alert arrives many times.
 * Its event id hashes (event source, event name, fingerprint, startsAt)
 * and then the status (alert_id): a redelivery has the same id and the
 * ingress queues it once; the same alert resolving has another id (status
 * changed), and so has a new firing of it (startsAt changed).  Once one
 * status is stored the other is news again (hook_alert_id_other): Prometheus
 * restores an alert with its original startsAt after an outage, so one
 * alert may fire, resolve, fire and resolve with the same two ids.
 *
 * The event's time is the alert's startsAt, or its endsAt once resolved:
 * a resolution is news at the time it happened, not when the alert began.
 */
#include <stdlib.h>
#include <string.h>

#include "prom/prom.h"
#include "signal/signal.h"
#include "webhook/hook_int.h"

int
hook_is_alertmanager(json_t *body)
{
	const char *v;

	if (!json_is_object(body) ||
	    !json_is_array(json_object_get(body, "alerts")))
		return 0;
	v = json_string_value(json_object_get(body, "version"));
	return (v != NULL && strcmp(v, "4") == 0) ||
	    json_is_string(json_object_get(body, "groupKey"));
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * A fingerprint for hand-made alerts without one: a hash of the sorted
 * label pairs (Alertmanager's is a hash of the same, but its exact value
 * does not matter here, only that equal label sets agree).
 */
static char *
labels_fingerprint(json_t *labels)
{
	const char **keys, *k;
	char *id;
	json_t *v;
	size_t n = json_object_size(labels), i = 0;
	uint64_t h = UTIL_HASH_SEED;

	keys = xcalloc(n + 1, sizeof *keys);
	json_object_foreach(labels, k, v)
		keys[i++] = k;
	qsort(keys, i, sizeof *keys, cmp_str);
	for (n = i, i = 0; i < n; i++) {
		const char *val = json_string_value(json_object_get(labels,
		    keys[i]));

		h = util_hash(keys[i], strlen(keys[i]) + 1, h);
		h = util_hash(val, strlen(val) + 1, h);
	}
	free(keys);
	id = xmalloc(17);
	util_hex64(id, h);
	return id;
}

/*
 * An alert's id: 16 hex digits that name the alert (a hash of source,
 * name, fingerprint and startsAt), then 16 that hash its status on top
 * of them.  The two ids of one alert share their first half, so either
 * names the other (hook_alert_id_other) from the id alone: what a start
 * reads back from the state (decision records keep only the id) pairs
 * them as the ingress does.  The second half also tells an alert's id
 * from any other event's (a plain webhook's, a cluster event's).
 */
static uint64_t
status_hash(uint64_t alert, const char *status)
{
	return util_hash(status, strlen(status) + 1, alert ^
	    UTIL_HASH_SEED2);
}

static char *
alert_id_of(uint64_t alert, const char *status)
{
	char *id = xmalloc(33);

	util_hex64(id, alert);
	util_hex64(id + 16, status_hash(alert, status));
	return id;
}

static char *
alert_id(const char *source, const char *name, const char *fp,
    const char *starts, const char *status)
{
	const char *parts[] = { source, name, fp, starts };
	uint64_t h1 = UTIL_HASH_SEED;
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(parts); i++)
		h1 = util_hash(parts[i], strlen(parts[i]) + 1, h1);
	return alert_id_of(h1, status);
}

char *
hook_alert_id_other(const char *id)
{
	uint64_t alert, status;

	if (id == NULL || strlen(id) != 32 || util_hex64_read(id, &alert) ==
	    -1 || util_hex64_read(id + 16, &status) == -1)
		return NULL;
	if (status == status_hash(alert, "firing"))
		return alert_id_of(alert, "resolved");
	if (status == status_hash(alert, "resolved"))
		return alert_id_of(alert, "firing");
	return NULL;
}

/* Checks alert i; returns NULL or the problem (owned). */
static char *
check_alert(json_t *a, size_t i, int64_t *starts, int64_t *ends)
{
	json_t *labels = json_object_get(a, "labels"), *v;
	const char *st = json_string_value(json_object_get(a, "status"));
	const char *sa = json_string_value(json_object_get(a, "startsAt"));
	const char *ea = json_string_value(json_object_get(a, "endsAt"));
	const char *k;

	if (!json_is_object(a))
		return xasprintf("alerts[%zu] is not an object", i);
	if (!json_is_object(labels))
		return xasprintf("alerts[%zu].labels is not an object", i);
	json_object_foreach(labels, k, v)
		if (!json_is_string(v))
			return xasprintf("alerts[%zu].labels.%.64s is not a "
			    "string", i, k);
	if (st == NULL || (strcmp(st, "firing") != 0 &&
	    strcmp(st, "resolved") != 0))
		return xasprintf("alerts[%zu].status is not firing or "
		    "resolved", i);
	if (sa == NULL || time_parse(sa, starts) == -1)
		return xasprintf("alerts[%zu].startsAt is not an RFC 3339 "
		    "time", i);
	if (ea == NULL || time_parse(ea, ends) == -1)
		*ends = 0;
	if (json_object_get(a, "fingerprint") != NULL &&
	    !json_is_string(json_object_get(a, "fingerprint")))
		return xasprintf("alerts[%zu].fingerprint is not a string", i);
	return NULL;
}

/*
 * Fills ev from alert a, taking references to a (the parsed payload is
 * the caller's to drop, so the alert is modified in place, not copied),
 * group and header (which the caller gives to one event only).
 */
static void
fill_event(const struct hook_target *t, json_t *a, json_t *group,
    json_t *header, int64_t starts, int64_t ends, struct event *ev)
{
	json_t *body = json_incref(a), *labels;
	const char *fp = json_string_value(json_object_get(a, "fingerprint"));
	const char *status = json_string_value(json_object_get(a, "status"));
	char *own = NULL;

	labels = json_object_get(body, "labels");
	if (fp == NULL || *fp == '\0') {
		own = labels_fingerprint(labels);
		json_object_set_new(body, "fingerprint", json_string(own));
		fp = own;
	}
	json_object_set_new(body, "group", group);
	ev->source = t->source;
	ev->name = t->name;
	ev->type = sig_type_name(SIG_WEBHOOK);
	ev->id = alert_id(t->source, t->name, fp, json_string_value(
	    json_object_get(a, "startsAt")), status);
	ev->time = starts;
	if (strcmp(status, "resolved") == 0 && ends > starts)
		ev->time = ends;
	ev->data = json_pack("{s:o, s:o}", "header", header, "body", body);
	if (t->metadata != NULL)
		json_object_set_new(ev->data, "metadata",
		    json_deep_copy(t->metadata));
	sig_labels_subject(labels, ev);
	free(own);
}

int
hook_alertmanager_events(const struct hook_target *t, json_t *payload,
    json_t *header, struct event **evs, char **err)
{
	json_t *alerts = json_object_get(payload, "alerts"), *group, *a;
	size_t i, n = json_array_size(alerts);
	int64_t *starts, *ends;
	struct event *v;

	*evs = NULL;
	if (n > (size_t)1 << 20) {
		*err = xstrdup("too many alerts");
		return -1;
	}
	starts = xcalloc(n + 1, sizeof *starts);
	ends = xcalloc(n + 1, sizeof *ends);
	json_array_foreach(alerts, i, a) {
		if ((*err = check_alert(a, i, &starts[i], &ends[i])) != NULL) {
			free(starts);
			free(ends);
			return -1;
		}
	}
	group = json_copy(payload);
	json_object_del(group, "alerts");
	v = xcalloc(n + 1, sizeof *v);
	/* events travel alone: each gets its own group and header */
	json_array_foreach(alerts, i, a)
		fill_event(t, a, i + 1 < n ? json_deep_copy(group) :
		    json_incref(group), i + 1 < n ? json_deep_copy(header) :
		    json_incref(header), starts[i], ends[i], &v[i]);
	json_decref(group);
	free(starts);
	free(ends);
	*evs = v;
	return (int)n;
}
