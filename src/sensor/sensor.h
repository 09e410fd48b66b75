/*
 * sensor: Argo Events' Sensor language.
 *
 * A compiled sensor takes events (struct event), matches them to its
 * dependencies by event source and event name, applies each dependency's
 * filters (data, exprs, time, context; with Argo's logical operators),
 * keeps the latest event per dependency, and fires each trigger whose
 * conditions hold.  A fire carries the trigger and the rendered resource
 * or payload: `parameters` applied and `{{ .Input... }}` Go templates
 * rendered from the events.
 *
 * Also exported: the Go-template renderer, which the guardrails use for
 * `threshold.key` and `budget.query`.
 */
#ifndef SENSOR_H
#define SENSOR_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "conf/conf.h"
#include "signal/event.h"
#include "util/util.h"

enum sensor_trigger_kind {
	TRIGGER_K8S,
	TRIGGER_HTTP,
	TRIGGER_LOG,
	TRIGGER_REMEDIATE,	/* native actions: remediate: {bumpMemory...} */
};

enum k8s_operation {
	K8S_CREATE,
	K8S_UPDATE,
	K8S_PATCH,
	K8S_DELETE,
};

/* A trigger as compiled; read-only for other stages. */
struct sensor_trigger {
	char			*name;		/* owned: template.name */
	enum sensor_trigger_kind kind;
	enum k8s_operation	 operation;	/* TRIGGER_K8S */
	char			*patch_strategy;/* owned, may be NULL */
	json_t			*tmpl;		/* borrowed: template.<kind> */
	json_t			*guardrails;	/* borrowed: may be NULL */
	json_t			*retry_strategy;/* borrowed: Argo's retryStrategy
						   beside template, or NULL */
	json_t			*policy;	/* borrowed: Argo's trigger
						   policy, or NULL */
	/* Argo's rateLimit beside template; has_rate_limit 0 if absent */
	int			 has_rate_limit;
	int64_t			 rate_unit;	/* ms: 1000, 60000, 3600000 */
	int64_t			 rate_per_unit;	/* requests per unit */
	struct loc		 at;		/* where the trigger is written */
};

/* What a trigger firing hands to the guardrails and the action. */
struct sensor_fire {
	const struct sensor_trigger	*trigger;	/* borrowed */
	const struct event		*event;		/* borrowed: the
							   event that fired */
	/*
	 * The event data of each dependency, by dependency name, as
	 * templates see them; borrowed from the sensor until the callback
	 * returns.
	 */
	json_t				*inputs;
	/*
	 * Owned by the sensor: the rendered source.resource (k8s), payload
	 * (http) or remediate block; NULL if none.  Read-only: parts the
	 * firing did not change are shared with the manifest, so copy
	 * before changing anything.
	 */
	json_t				*resource;
	/*
	 * The trigger's <kind> template (k8s, http, ...) after `parameters`
	 * beside `template` and http's `parameters` are applied: the url,
	 * method and headers of an http trigger.  Borrowed until the
	 * callback returns; trigger->tmpl itself when nothing applied.
	 */
	json_t				*spec;
	char				*error;		/* borrowed: why
							   rendering failed,
							   or NULL */
};

typedef void	(*sensor_fire_fn)(void *ctx, const struct sensor_fire *);

struct sensor;

/*
 * Compiles a Sensor manifest that passed conf's schema.  Adds a diagnostic
 * for each semantic problem (bad template, bad regexp, bad condition
 * expression) with its location.  Returns an owned sensor, or NULL if any
 * error was added.
 */
struct sensor	*sensor_compile(const struct mdoc *, struct diags *);
void		 sensor_free(struct sensor *);

const char	*sensor_name(const struct sensor *);		/* borrowed */
const char	*sensor_namespace(const struct sensor *);	/* borrowed */
size_t		 sensor_ntriggers(const struct sensor *);
const struct sensor_trigger *sensor_trigger(const struct sensor *, size_t);
/* One line describing the sensor for `check` ("2 dependencies, ..."). */
char		*sensor_describe(const struct sensor *);	/* owned */

/* What sensor_feed did with an event, for metrics. */
enum sensor_outcome {
	SENSOR_UNMATCHED,	/* no dependency names this source/event */
	SENSOR_FILTERED,	/* a dependency matched; its filters said no */
	SENSOR_ACCEPTED,	/* passed filters (triggers may have fired) */
};

/*
 * Feeds one event (borrowed) at time now (ms).  Calls fire once per trigger
 * that fires, in manifest order.  Returns the outcome.  A sensor keeps
 * state (the latest event per dependency) and scratch space: one caller
 * at a time.
 */
enum sensor_outcome sensor_feed(struct sensor *, const struct event *,
		    int64_t now, sensor_fire_fn fire, void *ctx);

/*
 * Renders a Go template ("{{ .Input.body.x }}", sprig functions) with dot
 * bound to the object {"Input": input}.  Returns an owned string, or NULL
 * with *err (owned) naming the problem.
 */
char	*sensor_render(const char *tmpl, json_t *input, char **err);

/*
 * Resolves a gjson-style path ("body.involvedObject.kind", "a.0.b",
 * escaped dots "a\.b") in data.  Returns a borrowed value or NULL.
 * Paths whose answer is built rather than found (`#`, `#.x`, `#(...)#`)
 * give NULL here; use sensor_path_value for those.
 */
json_t	*sensor_path_get(json_t *data, const char *path);
/* The same for any supported path; returns a new reference or NULL. */
json_t	*sensor_path_value(json_t *data, const char *path);

/*
 * A Go template compiled once and rendered many times (the guardrails'
 * `threshold.key`, `budget.query`).  sensor_template returns an owned
 * template, or NULL with *err (owned, "1:12: function \"x\" not
 * defined").  sensor_template_render is sensor_render without the
 * parsing; sensor_tmpl_free(NULL) is a no-op.
 */
struct sensor_tmpl;
struct sensor_tmpl *sensor_template(const char *src, char **err);
char	*sensor_template_render(const struct sensor_tmpl *, json_t *input,
	    char **err);
void	 sensor_tmpl_free(struct sensor_tmpl *);

#endif /* SENSOR_H */
