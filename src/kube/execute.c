/*
 * The executor: the engine hands over a plan (the exact request an action
 * would send, as the decision record shows it) and we send it.  And the
 * Events: every executed action leaves a core/v1 Event on its target, so
 * `kubectl describe` tells the owner what changed and why.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kube/kube_int.h"
#include "util/util.h"

#define MAX_EVENT_MESSAGE	1024	/* bytes, as events.k8s.io allows */
#define UPDATE_ATTEMPTS		5	/* read-modify-write on conflicts */

static const char *
pstr(const json_t *plan, const char *key)
{
	const char *s = json_string_value(json_object_get(plan, key));

	return s && *s ? s : NULL;
}

/* update without a resourceVersion: the live one, retried on conflict */
static int
put_over_live(void *ctx, json_t *live, struct kube_error *err)
{
	const json_t *obj = ctx;
	json_t *meta = json_object_get(live, "metadata");
	const char *rv = json_string_value(json_object_get(meta,
	    "resourceVersion"));
	json_t *nobj, *nmeta;
	char *keep = rv ? xstrdup(rv) : NULL;
	const char *k;
	json_t *v;

	(void)err;
	nobj = json_deep_copy(obj);
	nmeta = json_object_get(nobj, "metadata");
	if (!json_is_object(nmeta)) {
		nmeta = json_object();
		json_object_set_new(nobj, "metadata", nmeta);
	}
	if (keep)
		json_object_set_new(nmeta, "resourceVersion",
		    json_string(keep));
	free(keep);
	/* replace live's content with the plan's, in place */
	json_object_clear(live);
	json_object_foreach(nobj, k, v)
		json_object_set(live, k, v);
	json_decref(nobj);
	return 0;
}

static json_t *
do_update(struct kube_client *c, const json_t *plan, const json_t *obj,
    int dry_run, struct kube_error *err)
{
	const char *rv = json_string_value(json_object_get(json_object_get(
	    obj, "metadata"), "resourceVersion"));

	if (rv && *rv)
		return kube_update(c, obj, dry_run, err);
	return kube_update_retry(c, pstr(plan, "apiVersion"), pstr(plan,
	    "kind"), pstr(plan, "namespace"), pstr(plan, "name"),
	    UPDATE_ATTEMPTS, put_over_live, (void *)(uintptr_t)obj, dry_run,
	    err);
}

/* The engine resolves a generateName before sending: the name is known. */
json_t *
kube_created_after_timeout(struct kube_client *c, const json_t *obj,
    struct kube_error *err)
{
	const json_t *meta = json_object_get(obj, "metadata");
	const char *name = pstr(meta, "name");
	struct kube_error gerr;
	json_t *live;

	if (name == NULL)
		return NULL;
	kube_error_init(&gerr);
	live = kube_get(c, pstr(obj, "apiVersion"), pstr(obj, "kind"),
	    pstr(meta, "namespace"), name, &gerr);
	kube_error_clear(&gerr);
	if (live == NULL)
		return NULL;
	kube_error_clear(err);
	return json_pack("{s:s, s:o}", "verifiedAfter", "timeout", "object",
	    live);
}

static json_t *
create(struct kube_client *c, const json_t *obj, int dry_run,
    struct kube_error *err)
{
	json_t *out = kube_create(c, obj, dry_run, err);

	if (out == NULL && err->timed_out && !dry_run)
		out = kube_created_after_timeout(c, obj, err);
	return out;
}

static json_t *
run_plan(struct kube_client *c, const json_t *plan, int dry_run,
    struct kube_error *err)
{
	const char *op = pstr(plan, "operation");
	const char *av = pstr(plan, "apiVersion"), *kind = pstr(plan, "kind");
	const char *ns = pstr(plan, "namespace"), *name = pstr(plan, "name");
	const json_t *obj = json_object_get(plan, "object");
	enum kube_patch_type pt = KUBE_PATCH_MERGE;

	if (op == NULL || kind == NULL || av == NULL) {
		kube_error_set(err, "plan has no operation, apiVersion or "
		    "kind");
		return NULL;
	}
	if (strcmp(op, "create") == 0 || strcmp(op, "update") == 0) {
		if (!json_is_object(obj)) {
			kube_error_set(err, "%s plan has no object", op);
			return NULL;
		}
		return *op == 'c' ? create(c, obj, dry_run, err) :
		    do_update(c, plan, obj, dry_run, err);
	}
	if (strcmp(op, "patch") == 0) {
		const json_t *patch = json_object_get(plan, "patch");

		if (pstr(plan, "patchStrategy") &&
		    kube_patch_type_parse(pstr(plan, "patchStrategy"), &pt) <
		    0) {
			kube_error_set(err, "unknown patchStrategy \"%s\"",
			    pstr(plan, "patchStrategy"));
			return NULL;
		}
		if (patch == NULL) {
			kube_error_set(err, "patch plan has no patch");
			return NULL;
		}
		return kube_patch(c, av, kind, ns, name, pt, patch, dry_run,
		    err);
	}
	if (strcmp(op, "delete") == 0)
		return kube_delete(c, av, kind, ns, name, dry_run, err);
	kube_error_set(err, "unknown operation \"%s\"", op);
	return NULL;
}

int
kube_execute_plan(void *client, const json_t *plan, int dry_run,
    json_t **result, char **errp)
{
	struct kube_client *c = client;
	struct kube_error err;
	struct retry r;
	char *e = NULL;
	const char *type = pstr(plan, "type");

	*result = NULL;
	*errp = NULL;
	if (type && strcmp(type, "k8s") != 0) {
		*errp = xasprintf("the kube executor runs k8s plans, not %s",
		    type);
		return -1;
	}
	kube_error_init(&err);
	retry_default(&r);
	if (retry_from_json(json_object_get(plan, "retryStrategy"), &r,
	    &e) < 0) {
		*errp = e;
		return -1;
	}
	kube_thread_policy(json_object_get(plan, "retryStrategy") ? &r : NULL,
	    0);
	*result = run_plan(c, plan, dry_run, &err);
	kube_thread_policy(NULL, 0);
	if (*result == NULL) {
		*errp = kube_error_text(&err);
		kube_error_clear(&err);
		return -1;
	}
	kube_error_clear(&err);
	return 0;
}

/* Cuts s to at most max bytes on a UTF-8 character boundary. */
static char *
utf8_cut(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return xstrdup(s);
	n = max - 3;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return xasprintf("%.*s...", (int)n, s);
}

json_t *
kube_event_object(const json_t *ref, const char *reason,
    const char *message, const char *type, int64_t now,
    const char *instance)
{
	const char *name = pstr(ref, "name"), *ns = pstr(ref, "namespace");
	char ts[TIME_FMTLEN], *ename, *msg;
	json_t *ev, *inv;
	static const char *const keys[] = { "apiVersion", "kind",
	    "namespace", "name", "uid", "resourceVersion", "fieldPath" };
	size_t i;

	/* Time fields print at seconds in core/v1 */
	time_format(now - now % 1000, ts, sizeof ts);
	/* client-go names events NAME.HEX(unix nanos) */
	ename = xasprintf("%s.%llx", name ? name : "unknown",
	    (unsigned long long)now * 1000000ULL);
	inv = json_object();
	for (i = 0; i < UTIL_ARRAY_LEN(keys); i++)
		if (pstr(ref, keys[i]))
			json_object_set_new(inv, keys[i],
			    json_string(pstr(ref, keys[i])));
	msg = utf8_cut(message ? message : "", MAX_EVENT_MESSAGE);
	ev = json_pack("{s:s, s:s, s:{s:s, s:s}, s:o, s:s, s:s, s:s, "
	    "s:{s:s}, s:s, s:s, s:i, s:s, s:s}",
	    "apiVersion", "v1", "kind", "Event",
	    "metadata", "name", ename, "namespace", ns ? ns : "default",
	    "involvedObject", inv,
	    "reason", reason, "message", msg,
	    "type", type ? type : "Normal",
	    "source", "component", "remediate",
	    "firstTimestamp", ts, "lastTimestamp", ts, "count", 1,
	    "reportingComponent", "remediate",
	    "reportingInstance", instance ? instance : "remediate");
	free(ename);
	free(msg);
	return ev;
}

int
kube_record_event(struct kube_client *c, const json_t *ref,
    const char *reason, const char *message, const char *type,
    struct kube_error *err)
{
	char host[256];
	struct timespec ts;
	json_t *ev, *out;
	int64_t now;

	if (pstr(ref, "kind") == NULL || pstr(ref, "name") == NULL) {
		kube_error_set(err, "event: the object reference has no kind "
		    "or name");
		return -1;
	}
	if (gethostname(host, sizeof host) < 0)
		snprintf(host, sizeof host, "remediate");
	host[sizeof host - 1] = '\0';
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	ev = kube_event_object(ref, reason, message, type, now, host);
	/* nanosecond-unique names: two events in one ms stay distinct */
	json_object_set_new(json_object_get(ev, "metadata"), "name",
	    json_sprintf("%s.%llx", pstr(ref, "name"),
	    (unsigned long long)ts.tv_sec * 1000000000ULL +
	    (unsigned long long)ts.tv_nsec));
	out = kube_create(c, ev, 0, err);
	json_decref(ev);
	if (out == NULL)
		return -1;
	json_decref(out);
	return 0;
}
