/*
 * sensor internals: the pieces the sensor's files share and nobody else
 * sees.  Each part is one file:
 *
 *   gofmt.c    Go's way of printing values (%v floats, strconv.Quote,
 *              encoding/json), so rendered text matches Argo byte for byte
 *   path.c     gjson paths (read) and sjson paths (write)
 *   tmpl.c     Go text/template: parse, execute
 *   tmplfn.c   the template functions (Go builtins, sprig)
 *   expr.c     govaluate expressions (exprs filters)
 *   tz.c       IANA time zones read from TZif files, without setenv(TZ)
 *   cron.c     cron schedules (conditionsReset)
 *   filter.c   dependency filters (data, exprs, time, context)
 *   compile.c  manifest -> struct sensor
 *   trigger.c  trigger compilation (kinds, parameters, conditions)
 *   fire.c     sensor_feed: matching, condition state, rendering
 */
#ifndef SENSOR_INT_H
#define SENSOR_INT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "sensor/sensor.h"
#include "util/cron.h"
#include "util/gofmt.h"
#include "util/re2.h"
#include "util/tz.h"
#include "util/util.h"

/* Longest rendered template, parameter value or path we produce. */
#define SENSOR_MAX_OUTPUT	(1u << 20)	/* bytes */
#define SENSOR_MAX_PATTERN	4096		/* bytes of one regexp */
/* Argo's patterns as re2 reads them: lazy quantifiers and \b taken */
#define SENSOR_RE2		RE2_LENIENT

/* ---- gofmt.c ------------------------------------------------------------ */
/* gjson Result.String() of a value. */
void	sensor_fmt_gjson(struct buf *, json_t *);
/* strconv.ParseBool; 0 ok, -1 bad. */
int	sensor_parse_bool(const char *, int *);

/* ---- path.c -------------------------------------------------------------- */
struct sensor_path;
/* Compiles a gjson path; NULL and *err (owned) on syntax not supported. */
struct sensor_path *sensor_path_compile(const char *, char **err);
void	 sensor_path_free(struct sensor_path *);
const char *sensor_path_src(const struct sensor_path *);
/*
 * Evaluates against data.  Returns a value borrowed from data, or a value
 * built for the answer (`#`, `#.x`, `#(...)#`): then *tmp holds the only
 * reference and the caller json_decref()s it.  NULL when nothing matches.
 */
json_t	*sensor_path_eval(const struct sensor_path *, json_t *data,
	    json_t **tmp);

struct sensor_dest;
/* Compiles an sjson destination path ("a.b.0", "a.-1", "a\.b"). */
struct sensor_dest *sensor_dest_compile(const char *, char **err);
void	 sensor_dest_free(struct sensor_dest *);
/* Reads the value at dest (borrowed) or NULL. */
json_t	*sensor_dest_get(const struct sensor_dest *, json_t *root);
/*
 * Sets value (stolen) at dest inside root (an object or array), creating
 * what is missing as sjson does.  0, or -1 with *err (owned).
 */
int	 sensor_dest_set(const struct sensor_dest *, json_t *root,
	    json_t *value, char **err);

/* ---- tmpl.c -------------------------------------------------------------- */
enum tmpl_mode {
	TMPL_STRICT,	/* every action is a Go template action */
	TMPL_INPUT,	/* actions of other languages are copied verbatim */
};
struct sensor_tmpl;
/* Compiles; NULL with *err (owned, "1:12: function ...") on error. */
struct sensor_tmpl *sensor_tmpl_compile(const char *, enum tmpl_mode,
	    char **err);
void	 sensor_tmpl_free(struct sensor_tmpl *);
/*
 * Executes with dot = {"Input": input} (input borrowed, may be NULL).
 * Appends to out (bounded by SENSOR_MAX_OUTPUT).  0, or -1 with *err.
 */
int	 sensor_tmpl_exec(const struct sensor_tmpl *, json_t *input,
	    struct buf *out, char **err);
/* 1 if s holds a `{{ ... .Input ... }}` action the extension renders. */
int	 sensor_tmpl_has_input(const char *s);

/* ---- expr.c -------------------------------------------------------------- */
struct sensor_expr;
/* Compiles over the named parameters; NULL with *err on error. */
struct sensor_expr *sensor_expr_compile(const char *src,
	    const char *const *names, size_t nnames, char **err);
void	 sensor_expr_free(struct sensor_expr *);
/*
 * Evaluates with vals[i] the value of names[i] (borrowed; NULL = nil).
 * Returns 1 true, 0 false or not a bool, -1 error (*err owned).
 */
int	 sensor_expr_eval(const struct sensor_expr *, json_t *const *vals,
	    char **err);

/* ---- filter.c ------------------------------------------------------------ */
enum dtype { DT_STRING, DT_NUMBER, DT_BOOL };
enum dcmp { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE };

struct dfilter {
	struct sensor_path	*path;
	enum dtype		 type;
	enum dcmp		 cmp;
	size_t			 nvals;
	struct re2		**res;		/* DT_STRING: nvals, owned */
	char			**lits;		/* value when plain text */
	double			*nums;		/* DT_NUMBER */
	int			*bools;		/* DT_BOOL */
	struct sensor_tmpl	*tmpl;		/* may be NULL */
};

struct efilter {
	struct sensor_expr	*expr;
	size_t			 nfields;
	struct sensor_path	**paths;
};

struct filters {
	struct dfilter	*data;
	size_t		 ndata;
	int		 has_data, data_or;
	struct efilter	*exprs;
	size_t		 nexprs;
	int		 has_exprs, expr_or;
	int		 has_time;
	int32_t		 start, stop;		/* seconds of the day */
	struct tz	*tz;			/* owned; NULL: UTC */
	int		 has_ctx;
	char		*ctx_type, *ctx_subject, *ctx_source, *ctx_dct;
};

struct sensor_dep {
	char		*name;
	char		*source, *event;
	uint64_t	 hash;		/* of source and event */
	int		 has_filters;
	int		 filters_or;	/* filtersLogicalOperator: or */
	struct filters	 f;
	struct loc	 at;
};

/* Compiles dep->filters from the `filters` object; diagnostics to d. */
void	sensor_filters_compile(struct filters *, const struct mdoc *,
	    json_t *obj, struct diags *);
void	sensor_filters_free(struct filters *);
/* 1 if the event passes; t is the processing time (ms). */
int	sensor_filters_pass(const struct sensor_dep *, const struct event *,
	    int64_t t);
uint64_t sensor_dep_hash(const char *source, const char *event);

/* ---- trigger.c / fire.c -------------------------------------------------- */
enum pop { POP_OVERWRITE, POP_APPEND, POP_PREPEND };

struct sensor_param {
	char			*dep;		/* dependencyName */
	size_t			 depi;
	struct sensor_path	*key;		/* dataKey or contextKey */
	int			 key_ctx;
	struct sensor_tmpl	*tmpl;		/* dataTemplate/contextTmpl */
	int			 tmpl_ctx;
	char			*value;		/* default, may be NULL */
	int			 raw;		/* useRawData */
	struct sensor_dest	*dest;		/* NULL: dest "" */
	enum pop		 op;
};

struct params {
	struct sensor_param	*v;
	size_t			 n;
};

/* A string inside a resource that holds `{{ .Input }}` templates. */
struct rstring {
	json_t			*path;		/* owned: [key|index...] */
	const char		*src;		/* borrowed: the original */
	struct sensor_tmpl	*tmpl;
};

struct rstrings {
	struct rstring	*v;
	size_t		 n, cap;
};

enum cnode_kind { CN_DEP, CN_AND, CN_OR };
struct cnode {
	enum cnode_kind	 k;
	size_t		 dep;
	struct cnode	*a, *b;
};

/* A dependency's event kept until a trigger's conditions hold. */
struct saved {
	int	 have;
	json_t	*data;		/* owned reference, may be NULL */
	json_t	*ctx;		/* owned, NULL when no parameter needs it */
	int64_t	 at;		/* ms, when it was kept */
};

struct reset {
	struct cron		*cron;		/* owned */
	struct tz		*tz;		/* owned; NULL: UTC */
};

struct trig {
	struct sensor_trigger	 pub;
	const char		*kindkey;	/* "k8s", "http"... */
	json_t			*whole;		/* borrowed: the template */
	struct cnode		*cond;		/* NULL: all dependencies */
	char			*cond_src;
	int			 requires_and;	/* Argo: "&" in conditions */
	unsigned char		*listens;	/* per dependency */
	struct saved		*saved;		/* per dependency */
	struct params		 tparams;	/* trigger.parameters */
	struct params		 kparams;	/* <kind>.parameters */
	struct params		 payload;	/* http.payload */
	json_t			*resource;	/* borrowed source.resource */
	struct rstrings		 rstr;		/* in resource */
	json_t			*last;		/* owned: the tree the last
						   firing rendered, or NULL
						   (fire.c's render_shared) */
	struct reset		*resets;
	size_t			 nresets;
	char			*describe; /* owned: "k8s create Workflow" */
};

struct sensor {
	char			*name, *namespace;
	json_t			*root;		/* owned reference */
	struct sensor_dep	*deps;
	size_t			 ndeps;
	struct trig		*trigs;
	size_t			 ntrigs;
	/* scratch for sensor_feed, per dependency */
	unsigned char		*hit;		/* the event passed it */
	json_t			**fdata;	/* a firing's event data */
	json_t			**fctx;		/* and context */
	unsigned char		*fhave;		/* and whether it has one */
};

/* Compiles spec.triggers into s->trigs. */
void	sensor_triggers_compile(struct sensor *, const struct mdoc *,
	    json_t *list, struct diags *);
void	sensor_trig_free(struct trig *, size_t ndeps);
/* Finds `{{ .Input }}` strings under v; diagnostics at their place. */
void	sensor_rstrings_collect(struct rstrings *, const struct mdoc *,
	    json_t *v, json_t *path, struct diags *);
void	sensor_rstrings_free(struct rstrings *);

/* Locations that tolerate documents built without marks. */
struct loc	sensor_loc(const struct mdoc *, const json_t *);
struct loc	sensor_loc_key(const struct mdoc *, const json_t *,
		    const char *);

/* The Argo Events context object of an event. */
json_t	*sensor_event_context(const struct event *);

#endif /* SENSOR_INT_H */
