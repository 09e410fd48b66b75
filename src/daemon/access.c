/*
 * `run` checks its permissions at start.  A missing permission would
 * otherwise show only as a watch failing with 403, or worse as an action
 * failing in the middle of an incident; asking first names every one, with
 * the manifest that needs it, while there is time to fix the RBAC.  The
 * list is engine_permissions, the one `remediate rbac` prints, so the
 * check and the generated role cannot disagree.  The daemon still starts
 * (watches it may run are useful) but is not ready until all are granted;
 * the engine thread asks again every 10 s while any is missing, so
 * fixing the RBAC needs no restart.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/access.h"
#include "engine/engine.h"
#include "kube/kube.h"
#include "util/util.h"

#define SSAR_PATH "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
#define SSAR_MAX_BODY	(64u << 10)	/* bytes of one review answer */

struct need {
	struct engine_perm	 p;		/* owned strings */
	char			*needed_by;	/* owned: the manifests */
	int			 granted;
	int			 checked;	/* asked at least once */
	char			*reason;	/* owned: why not, or NULL */
};

struct daemon_access {
	pthread_mutex_t	 lock;		/* guards needs[].granted, reason */
	struct need	*needs;		/* owned */
	size_t		 n;
	size_t		 unnamed;	/* permissions rbac cannot name */
};

static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* The same permission: group, resource, verb and namespace. */
static int
same_perm(const struct engine_perm *a, const struct engine_perm *b)
{
	return util_same_str(a->group, b->group) &&
	    util_same_str(a->resource, b->resource) &&
	    util_same_str(a->verb, b->verb) &&
	    util_same_str(a->namespace, b->namespace);
}

struct daemon_access *
daemon_access_new(const struct engine *e)
{
	struct daemon_access *a = xcalloc(1, sizeof *a);
	struct engine_perm *v;
	struct need *x;
	size_t i, k, n = engine_permissions(e, &v), cap = 0;
	const char *by;
	char *joined;

	pthread_mutex_init(&a->lock, NULL);
	for (i = 0; i < n; i++) {
		if (v[i].error) {
			util_log_json("warn", "permission not checked",
			    json_pack("{s:s?, s:s}", "neededBy",
			    v[i].manifest, "reason", v[i].error));
			a->unnamed++;
			continue;
		}
		by = v[i].manifest ? v[i].manifest : "remediate";
		for (k = 0; k < a->n; k++)
			if (same_perm(&a->needs[k].p, &v[i]))
				break;
		if (k < a->n) {
			if (strstr(a->needs[k].needed_by, by) == NULL) {
				joined = xasprintf("%s; %s",
				    a->needs[k].needed_by, by);
				free(a->needs[k].needed_by);
				a->needs[k].needed_by = joined;
			}
			continue;
		}
		xgrow(&a->needs, &cap, a->n + 1, sizeof *a->needs);
		x = &a->needs[a->n++];
		memset(x, 0, sizeof *x);
		x->p.group = dup_or_null(v[i].group);
		x->p.resource = dup_or_null(v[i].resource);
		x->p.verb = dup_or_null(v[i].verb);
		x->p.namespace = dup_or_null(v[i].namespace);
		x->needed_by = xstrdup(by);
		x->reason = xstrdup("not checked yet");
	}
	engine_perms_free(v, n);
	return a;
}

void
daemon_access_free(struct daemon_access *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->n; i++) {
		free(a->needs[i].p.group);
		free(a->needs[i].p.resource);
		free(a->needs[i].p.verb);
		free(a->needs[i].p.namespace);
		free(a->needs[i].needed_by);
		free(a->needs[i].reason);
	}
	free(a->needs);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

void
daemon_access_adopt(struct daemon_access *a, struct daemon_access *old)
{
	size_t i, k;

	if (old == NULL)
		return;
	pthread_mutex_lock(&old->lock);
	for (i = 0; i < a->n; i++)
		for (k = 0; k < old->n; k++)
			if (old->needs[k].granted &&
			    same_perm(&a->needs[i].p, &old->needs[k].p)) {
				a->needs[i].granted = 1;
				a->needs[i].checked = 1;
				free(a->needs[i].reason);
				a->needs[i].reason = NULL;
				break;
			}
	pthread_mutex_unlock(&old->lock);
}

/*
 * One review: 1 allowed, 0 not (with *reason owned: the server's reason,
 * or NULL), -1 an answer that does not say, -2 no answer at all (the
 * server unreachable; *reason owned: the error).
 */
static int
review(struct kube_client *c, const struct engine_perm *p, char **reason)
{
	/* one attempt: the whole check runs again every ACCESS_MS; five
	   retried attempts would hold the start, and SIGTERM, meanwhile */
	static const struct retry once = { 1, 0, 1.0, 0.0, 0, 0 };
	struct kube_req rq;
	struct kube_error err;
	json_t *body, *ans, *st;
	char *text;
	int rc;

	body = json_pack("{s:s, s:s, s:{s:{s:s, s:s, s:s, s:s?}}}",
	    "apiVersion", "authorization.k8s.io/v1", "kind",
	    "SelfSubjectAccessReview", "spec", "resourceAttributes", "group",
	    p->group, "resource", p->resource, "verb", p->verb, "namespace",
	    p->namespace);
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	memset(&rq, 0, sizeof rq);
	rq.method = "POST";
	rq.path = SSAR_PATH;
	rq.content_type = "application/json";
	rq.body = text;
	rq.len = strlen(text);
	rq.max_body = SSAR_MAX_BODY;
	rq.retry = &once;
	kube_error_init(&err);
	ans = kube_request_json(c, &rq, &err);
	free(text);
	*reason = NULL;
	if (ans == NULL) {
		*reason = kube_error_text(&err);
		kube_error_clear(&err);
		return -2;
	}
	kube_error_clear(&err);
	st = json_object_get(ans, "status");
	if (!json_is_boolean(json_object_get(st, "allowed"))) {
		*reason = xstrdup("the review's answer has no "
		    "status.allowed");
		rc = -1;
	} else {
		rc = json_is_true(json_object_get(st, "allowed"));
		if (!rc && json_string_value(json_object_get(st, "reason")) &&
		    *json_string_value(json_object_get(st, "reason")))
			*reason = xstrdup(json_string_value(json_object_get(
			    st, "reason")));
	}
	json_decref(ans);
	return rc;
}

static json_t *
describe(const struct need *x)
{
	return json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s?}", "group",
	    x->p.group, "resource", x->p.resource, "verb", x->p.verb,
	    "namespace", x->p.namespace, "neededBy", x->needed_by, "reason",
	    x->reason);
}

size_t
daemon_access_check(struct daemon_access *a, struct kube_client *c)
{
	struct need *x;
	size_t i, missing = 0, checked = 0;
	char *reason, *down = NULL;
	int rc, before;

	for (i = 0; i < a->n; i++) {
		x = &a->needs[i];
		if (x->granted)
			continue;
		before = x->checked;
		/* a server that did not answer is not asked the rest now (each
		   would wait out the client's retries on the engine thread):
		   they stay not checked, with its error, until the next try */
		if (down) {
			rc = -2;
			reason = xstrdup(down);
		} else if ((rc = review(c, &x->p, &reason)) == -2)
			down = xstrdup(reason ? reason : "no answer");
		pthread_mutex_lock(&a->lock);
		free(x->reason);
		x->granted = rc == 1;
		x->checked = 1;
		x->reason = rc == 1 ? NULL : reason ? reason : xstrdup(rc ==
		    0 ? "not allowed" : "no answer");
		pthread_mutex_unlock(&a->lock);
		if (rc == 1)
			free(reason);
		checked++;
		if (x->granted) {
			if (before)	/* the RBAC was fixed while we ran */
				util_log_json("info", "permission granted",
				    describe(x));
			continue;
		}
		util_log_json("error", rc == 0 ? "permission missing" :
		    "permission not checked", describe(x));
		missing++;
	}
	free(down);
	if (checked)
		util_log_json(missing ? "error" : "info", "permissions",
		    json_pack("{s:i, s:i, s:i, s:i}", "needed", (int)a->n,
		    "checked", (int)checked, "missing", (int)missing,
		    "unnamed", (int)a->unnamed));
	return missing;
}

json_t *
daemon_access_missing(struct daemon_access *a)
{
	json_t *out = json_array();
	size_t i;

	pthread_mutex_lock(&a->lock);
	for (i = 0; i < a->n; i++)
		if (!a->needs[i].granted)
			json_array_append_new(out, describe(&a->needs[i]));
	pthread_mutex_unlock(&a->lock);
	if (json_array_size(out) == 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}
