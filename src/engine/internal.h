/*
 * The engine's own layout, shared by its files (build.c compiles the
 * configuration, flow.c moves signals, decide.c runs the guardrails).
 */
#ifndef ENGINE_INTERNAL_H
#define ENGINE_INTERNAL_H

#include "engine/engine.h"
#include "guard/guard.h"
#include "policy/policy.h"
#include "sensor/sensor.h"

/* The guardrails' templates, compiled once (NULL: none or no {{ }}). */
enum engine_tmpl {
	TMPL_TARGET,
	TMPL_THRESHOLD_KEY,
	TMPL_BUDGET_QUERY,
	TMPL_COUNT
};

struct engine_trigger {
	struct guard_config	 cfg;		/* owned strings */
	struct sensor_tmpl	*tmpl[TMPL_COUNT];	/* owned */
	char			*id;		/* owned: ns/sensor/trigger */
	uint64_t		 hash;		/* of the trigger's manifest and
						   guardrails, for demotions;
						   0 until decide.c needs it */
};

struct engine_sensor {
	struct sensor		*sensor;	/* owned */
	const struct mdoc	*doc;		/* borrowed from conf */
	char			*ident;		/* owned: "ns/name" */
	struct engine_trigger	*triggers;	/* owned, one per trigger */
	size_t			 ntriggers;
};

struct engine {
	struct engine_opts	 opts;
	const struct conf	*conf;		/* borrowed */
	struct sig_set		*sources;	/* owned */
	struct pol_set		*policies;	/* owned */
	struct engine_sensor	*sensors;	/* owned */
	size_t			 nsensors;
	struct guard_config	 defaults;	/* owned strings */
	struct guard_state	*state;		/* owned */
	int			 detect_oom;	/* a source watches Events */
	struct engine_stats	 stats;
	int64_t			 now;		/* ms: read once per signal */
};

/* decide.c: one trigger fire -> one decision record. */
void	engine_decide(struct engine *, struct engine_sensor *,
	    struct engine_trigger *, const struct sensor_fire *);

#endif /* ENGINE_INTERNAL_H */
