/*
 * Schema of Argo Events' EventSource as remediate runs it: the resource,
 * webhook and calendar sources, and `prometheus`, this project's own (an
 * instant query polled on an interval).  Every other Argo source type is
 * refused by name in one line, so a manifest written for a full Argo
 * install says plainly what will not run here.
 */
#include <string.h>

#include "conf/schema.h"

#define END	{ NULL, NULL, 0, NULL, NULL }

/* ---- shared pieces ------------------------------------------------------- */

static const struct sfield secret_fields[] = {
	{ "name", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "key", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "optional", &conf_t_bool, 0, NULL, NULL },
	END
};
static const struct snode t_secret = { .kind = S_OBJECT,
    .fields = secret_fields };

/*
 * The secrets a webhook checks requests against: Argo's Kubernetes Secret
 * selector {name, key} (remediate reads it from a mounted directory), or
 * remediate's {file: PATH} / {env: NAME} for hosts without Kubernetes.
 */
static const struct sfield hook_secret_fields[] = {
	{ "name", &conf_t_nonempty, 0, NULL, NULL },
	{ "key", &conf_t_nonempty, 0, NULL, NULL },
	{ "optional", &conf_t_bool, 0, NULL, NULL },
	{ "file", &conf_t_nonempty, 0, NULL, NULL },
	{ "env", &conf_t_nonempty, 0, NULL, NULL },
	END
};

static void
hook_secret_post(struct sctx *c, json_t *o)
{
	int sel = json_object_get(o, "name") != NULL ||
	    json_object_get(o, "key") != NULL;
	int file = json_object_get(o, "file") != NULL;
	int env = json_object_get(o, "env") != NULL;
	const char *f = json_string_value(json_object_get(o, "file"));

	if (sel + file + env != 1) {
		conf_serr(c, conf_sloc(c, o, NULL), NULL, "give one of "
		    "{name, key} (a Kubernetes Secret), {file} or {env}");
		return;
	}
	if (sel && (json_object_get(o, "name") == NULL ||
	    json_object_get(o, "key") == NULL))
		conf_serr(c, conf_sloc(c, o, NULL), NULL, "a Secret "
		    "selector needs both name and key");
	if (f != NULL && *f != '/')
		conf_serr(c, conf_sloc(c, o, "file"), "file", "\"%s\" is not "
		    "an absolute path", f);
}

static const struct snode t_hook_secret = { .kind = S_OBJECT,
    .fields = hook_secret_fields, .post = hook_secret_post };

static const struct sfield basic_auth_fields[] = {
	{ "username", &t_hook_secret, F_REQUIRED, NULL, NULL },
	{ "password", &t_hook_secret, F_REQUIRED, NULL, NULL },
	END
};
static const struct snode t_basic_auth = { .kind = S_OBJECT,
    .fields = basic_auth_fields };

#define FILTER_NOTE	"%s: event source filter expressions are not " \
	"supported"
#define FILTER_HINT	"filter in the Sensor's dependency (filters.data " \
	"or filters.exprs)"

/* ---- resource ------------------------------------------------------------ */

static const char *const sel_ops[] = { "=", "==", "!=", "in", "notin",
    "exists", "!", "gt", "lt", "", NULL };
static const struct snode t_sel_op = { .kind = S_ENUM, .values = sel_ops };

static const struct sfield selector_fields[] = {
	{ "key", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "operation", &t_sel_op, 0, NULL, NULL },
	{ "value", &conf_t_string, 0, NULL, NULL },
	END
};

static void
selector_post(struct sctx *c, json_t *o)
{
	const char *op = json_string_value(json_object_get(o, "operation"));

	if (op != NULL && (strcmp(op, "exists") == 0 || strcmp(op, "!") == 0))
		return;
	if (json_object_get(o, "value") == NULL)
		conf_serr(c, conf_sloc(c, o, NULL), NULL, "missing required "
		    "field \"value\" (only exists and ! go without)");
}

static const struct snode t_selector = { .kind = S_OBJECT,
    .fields = selector_fields, .post = selector_post };
static const struct snode t_selectors = { .kind = S_ARRAY,
    .elem = &t_selector };

static const struct sfield resource_filter_fields[] = {
	{ "prefix", &conf_t_string, 0, NULL, NULL },
	{ "labels", &t_selectors, 0, NULL, NULL },
	{ "fields", &t_selectors, 0, NULL, NULL },
	{ "createdBy", &conf_t_time, 0, NULL, NULL },
	{ "afterStart", &conf_t_bool, 0, NULL, NULL },
	END
};
static const struct snode t_resource_filter = { .kind = S_OBJECT,
    .fields = resource_filter_fields };

static const char *const event_types[] = { "ADD", "UPDATE", "DELETE",
    NULL };
static const struct snode t_event_type = { .kind = S_ENUM,
    .values = event_types };
static const struct snode t_event_types = { .kind = S_ARRAY,
    .elem = &t_event_type, .flags = SF_NONEMPTY };

static const struct sfield resource_fields[] = {
	{ "namespace", &conf_t_string, 0, NULL, NULL },
	{ "group", &conf_t_string, 0, NULL, NULL },
	{ "version", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "resource", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "eventTypes", &t_event_types, F_REQUIRED, NULL, NULL },
	{ "filter", &t_resource_filter, 0, NULL, NULL },
	{ "metadata", &conf_t_strmap, 0, NULL, NULL },
	{ "cluster", &conf_t_reject, 0, "%s: watching another cluster is not "
	    "supported", "run one remediate per cluster" },
	END
};

static void
resource_post(struct sctx *c, json_t *o)
{
	const char *r = json_string_value(json_object_get(o, "resource"));
	size_t n;

	/* Kubernetes resources are lowercase plurals: "pods", not "Pod" */
	if (r == NULL || (n = strlen(r)) == 0)
		return;
	if (strpbrk(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != NULL) {
		conf_serr(c, conf_sloc(c, o, "resource"), "resource",
		    "\"%s\" is not a resource name: resources are lowercase "
		    "plurals", r);
		diag_hint(c->d, "for Pod write resource: pods");
	}
}

static const struct snode t_resource = { .kind = S_OBJECT,
    .fields = resource_fields, .post = resource_post };

/* ---- webhook ------------------------------------------------------------- */

static const char *const methods[] = { "GET", "POST", "PUT", "PATCH",
    "DELETE", NULL };
static const struct snode t_method = { .kind = S_ENUM, .values = methods };

static const struct sfield hmac_fields[] = {
	{ "secret", &t_hook_secret, F_REQUIRED, NULL, NULL },
	{ "header", &conf_t_nonempty, 0, NULL, NULL },
	END
};
static const struct snode t_hmac = { .kind = S_OBJECT,
    .fields = hmac_fields };

static const char *const auth_values[] = { "none", NULL };
static const struct snode t_auth = { .kind = S_ENUM, .values = auth_values };

static const struct sfield webhook_fields[] = {
	{ "endpoint", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "method", &t_method, F_REQUIRED, NULL, NULL },
	{ "port", &conf_t_port, 0, NULL, NULL },
	{ "url", &conf_t_string, 0, NULL, NULL },
	{ "serverCertSecret", &t_secret, 0, NULL, NULL },
	{ "serverKeySecret", &t_secret, 0, NULL, NULL },
	{ "metadata", &conf_t_strmap, 0, NULL, NULL },
	{ "authSecret", &t_hook_secret, 0, NULL, NULL },
	{ "basicAuth", &t_basic_auth, 0, NULL, NULL },
	{ "hmac", &t_hmac, 0, NULL, NULL },
	{ "auth", &t_auth, 0, NULL, NULL },
	{ "secretHeaders", &conf_t_strlist, 0, NULL, NULL },
	{ "maxPayloadSize", &conf_t_uint, 0, NULL, NULL },
	{ "filter", &conf_t_reject, 0, FILTER_NOTE, FILTER_HINT },
	END
};

static void
webhook_post(struct sctx *c, json_t *o)
{
	const char *ep = json_string_value(json_object_get(o, "endpoint"));

	if (ep != NULL && ep[0] != '/' && ep[0] != '\0') {
		conf_serr(c, conf_sloc(c, o, "endpoint"), "endpoint",
		    "\"%s\" must be a path starting with /", ep);
		diag_hint(c->d, "endpoint: /%s", ep);
	}
	/*
	 * Anyone who reaches the listener can send events to a webhook
	 * without authentication: said, and accepted quietly only when the
	 * manifest says it is meant (remediate's `auth: none`).
	 */
	if (json_object_get(o, "authSecret") == NULL &&
	    json_object_get(o, "basicAuth") == NULL &&
	    json_object_get(o, "hmac") == NULL &&
	    json_object_get(o, "auth") == NULL) {
		conf_swarn(c, conf_sloc(c, o, "endpoint"), NULL, "webhook "
		    "without authentication: anyone who reaches the listener "
		    "can send it events");
		diag_hint(c->d, "set authSecret, basicAuth or hmac; or "
		    "\"auth: none\" if it is meant");
	} else if (json_object_get(o, "auth") != NULL &&
	    (json_object_get(o, "authSecret") != NULL ||
	    json_object_get(o, "basicAuth") != NULL ||
	    json_object_get(o, "hmac") != NULL))
		conf_serr(c, conf_sloc(c, o, "auth"), "auth", "\"none\" "
		    "beside authSecret, basicAuth or hmac: give one");
	/* one listener serves every webhook: its TLS is the daemon's */
	if (json_object_get(o, "serverCertSecret") != NULL ||
	    json_object_get(o, "serverKeySecret") != NULL)
		conf_swarn(c, conf_sloc(c, o, json_object_get(o,
		    "serverCertSecret") ? "serverCertSecret" :
		    "serverKeySecret"), NULL, "per-webhook TLS is not "
		    "supported: every webhook is served on remediate's "
		    "listener, with its TLS settings");
}

static const struct snode t_webhook = { .kind = S_OBJECT,
    .fields = webhook_fields, .post = webhook_post };

/* ---- calendar ------------------------------------------------------------ */

static const struct sfield calendar_fields[] = {
	{ "schedule", &conf_t_cron, 0, NULL, NULL },
	{ "interval", &conf_t_duration, 0, NULL, NULL },
	{ "timezone", &conf_t_string, 0, NULL, NULL },
	{ "exclusionDates", &conf_t_strlist, 0, NULL, NULL },
	{ "metadata", &conf_t_strmap, 0, NULL, NULL },
	/* older Argo releases: JSON copied into each event */
	{ "userPayload", &conf_t_any, 0, NULL, NULL },
	{ "persistence", &conf_t_reject, 0, "%s: catch-up of missed "
	    "schedules is not supported", NULL },
	{ "filter", &conf_t_reject, 0, FILTER_NOTE, FILTER_HINT },
	END
};

static void
calendar_post(struct sctx *c, json_t *o)
{
	if (json_object_get(o, "schedule") == NULL &&
	    json_object_get(o, "interval") == NULL)
		conf_serr(c, conf_sloc(c, o, NULL), NULL, "needs a schedule "
		    "or an interval");
}

static const struct snode t_calendar = { .kind = S_OBJECT,
    .fields = calendar_fields, .post = calendar_post };

/* ---- prometheus (this project's) ----------------------------------------- */

static const struct sfield prometheus_fields[] = {
	{ "query", &conf_t_nonempty, F_REQUIRED, NULL, NULL },
	{ "interval", &conf_t_duration, 0, NULL, NULL },
	{ "condition", &conf_t_nonempty, 0, NULL, NULL },
	{ "url", &conf_t_nonempty, 0, NULL, NULL },
	/* re-emit a series still satisfying condition this often */
	{ "repeat", &conf_t_duration, 0, NULL, NULL },
	{ "metadata", &conf_t_strmap, 0, NULL, NULL },
	END
};

/* condition: a comparison of each sample's value, "> 0.5", "== 1" */
static void
prometheus_post(struct sctx *c, json_t *o)
{
	const char *s = json_string_value(json_object_get(o, "condition"));
	const char *p;
	char *end;

	if (s == NULL)
		return;
	p = s + strspn(s, " ");
	if (strncmp(p, ">=", 2) == 0 || strncmp(p, "<=", 2) == 0 ||
	    strncmp(p, "==", 2) == 0 || strncmp(p, "!=", 2) == 0)
		p += 2;
	else if (*p == '>' || *p == '<')
		p++;
	else
		p = NULL;
	if (p != NULL) {
		p += strspn(p, " ");
		strtod(p, &end);
		if (end != p && end[strspn(end, " ")] == '\0')
			return;
	}
	conf_serr(c, conf_sloc(c, o, "condition"), "condition", "\"%s\" is "
	    "not a comparison like \"> 0.5\"", s);
	diag_hint(c->d, "one of >, >=, <, <=, ==, != and a number");
}

static const struct snode t_prometheus = { .kind = S_OBJECT,
    .fields = prometheus_fields, .post = prometheus_post };

/* ---- spec ---------------------------------------------------------------- */

static const struct snode t_resources = { .kind = S_MAP,
    .elem = &t_resource, .flags = SF_NONEMPTY };
static const struct snode t_webhooks = { .kind = S_MAP,
    .elem = &t_webhook, .flags = SF_NONEMPTY };
static const struct snode t_calendars = { .kind = S_MAP,
    .elem = &t_calendar, .flags = SF_NONEMPTY };
static const struct snode t_prometheuses = { .kind = S_MAP,
    .elem = &t_prometheus, .flags = SF_NONEMPTY };

#define UNSUPPORTED	"%s event sources are not supported: remediate runs " \
	"resource, webhook, calendar and prometheus event sources"
#define VIA_WEBHOOK	"a service that can POST JSON can feed a webhook " \
	"event source"
#define X(name, hint)	{ name, &conf_t_reject, 0, UNSUPPORTED, hint }

static const struct sfield spec_fields[] = {
	{ "resource", &t_resources, 0, NULL, NULL },
	{ "webhook", &t_webhooks, 0, NULL, NULL },
	{ "calendar", &t_calendars, 0, NULL, NULL },
	{ "prometheus", &t_prometheuses, 0, NULL, NULL },
	{ "eventBusName", &conf_t_string, 0, NULL, NULL },
	{ "template", &conf_t_any, 0, NULL, NULL },
	{ "service", &conf_t_any, 0, NULL, NULL },
	{ "replicas", &conf_t_uint, 0, NULL, NULL },
	X("amqp", NULL), X("azureEventsHub", NULL),
	X("azureQueueStorage", NULL), X("azureServiceBus", NULL),
	X("bitbucket", VIA_WEBHOOK), X("bitbucketserver", VIA_WEBHOOK),
	X("emitter", NULL), X("file", NULL), X("generic", NULL),
	X("gerrit", VIA_WEBHOOK), X("github", VIA_WEBHOOK),
	X("gitlab", VIA_WEBHOOK), X("hdfs", NULL), X("kafka", NULL),
	X("minio", NULL), X("mns", NULL), X("mqtt", NULL), X("nats", NULL),
	X("nsq", NULL), X("pubSub", NULL), X("pulsar", NULL),
	X("redis", NULL), X("redisStream", NULL), X("sftp", NULL),
	X("slack", VIA_WEBHOOK), X("sns", VIA_WEBHOOK), X("sqs", NULL),
	X("storageGrid", VIA_WEBHOOK), X("stripe", VIA_WEBHOOK),
	END
};

static const char *const source_types[] = { "resource", "webhook",
    "calendar", "prometheus" };

/* At least one source; event names unique across the types. */
static void
spec_post(struct sctx *c, json_t *spec)
{
	size_t i, j, n = 0;
	const char *name;
	json_t *m, *v, *m2;

	for (i = 0; i < UTIL_ARRAY_LEN(source_types); i++)
		n += json_is_object(json_object_get(spec, source_types[i]));
	if (n == 0) {
		for (i = 0; spec_fields[i].name != NULL; i++)
			if (spec_fields[i].type->kind == S_REJECT &&
			    json_object_get(spec, spec_fields[i].name))
				return;	/* refused already */
		conf_serr(c, conf_sloc(c, spec, NULL), NULL, "names no event "
		    "source: give resource, webhook, calendar or prometheus");
		return;
	}
	for (i = 0; i < UTIL_ARRAY_LEN(source_types); i++) {
		m = json_object_get(spec, source_types[i]);
		if (!json_is_object(m))
			continue;
		json_object_foreach(m, name, v) {
			for (j = 0; j < i; j++) {
				m2 = json_object_get(spec, source_types[j]);
				if (!json_is_object(m2) ||
				    json_object_get(m2, name) == NULL)
					continue;
				conf_serr(c, conf_skeyloc(c, m, name),
				    source_types[i], "event name \"%s\" is "
				    "also used under %s", name,
				    source_types[j]);
				diag_hint(c->d, "sensors find events by name: "
				    "give each event its own");
			}
		}
	}
}

static const struct snode t_spec = { .kind = S_OBJECT,
    .fields = spec_fields, .post = spec_post };

static const struct sfield es_fields[] = {
	{ "apiVersion", &conf_t_string, F_REQUIRED, NULL, NULL },
	{ "kind", &conf_t_string, F_REQUIRED, NULL, NULL },
	{ "metadata", &conf_t_metadata, F_REQUIRED, NULL, NULL },
	{ "spec", &t_spec, F_REQUIRED, NULL, NULL },
	{ "status", &conf_t_any, 0, NULL, NULL },
	END
};

const struct snode conf_t_eventsource = { .kind = S_OBJECT,
    .fields = es_fields };
