/*
 * What tmpl.c (the Go template engine) and tmplfn.c (its functions)
 * share: the value a template computes with and the execution state.
 *
 * A value is what Go's text/template would hold in a reflect.Value after
 * json.Unmarshal into interface{}: numbers from JSON are float64
 * (TV_FLOAT), numbers written in the template are int (TV_INT), a key
 * that is missing is the invalid value (TV_INVALID, printed "<no value>"),
 * JSON null is a nil interface (TV_NIL).
 */
#ifndef SENSOR_TMPL_INT_H
#define SENSOR_TMPL_INT_H

#include "sensor/sensor_int.h"

enum tvk {
	TV_INVALID,
	TV_NIL,
	TV_BOOL,
	TV_INT,
	TV_FLOAT,
	TV_STR,
	TV_MAP,		/* j: a JSON object */
	TV_ARRAY,	/* j: a JSON array */
	TV_ROOT,	/* the dot a template starts with: {"Input": j} */
};

struct tv {
	enum tvk	 k;
	int		 b;
	int64_t		 i;
	double		 f;
	const char	*s;	/* TV_STR: borrowed from JSON or the arena */
	size_t		 n;
	json_t		*j;	/* borrowed from the input or the arena */
};

struct tvar {
	const char	*name;
	struct tv	 v;
};

/* The state of one execution; everything it allocates dies with it. */
struct tex {
	json_t		*input;
	struct buf	*out;
	const char	*src;		/* the template text */
	size_t		 pos;		/* byte offset being executed */
	const char	*fname;		/* the function being called */
	char		*err;		/* owned: the first error */
	char		**strs;		/* arena of strings */
	size_t		 nstrs, capstrs;
	json_t		**jsons;	/* arena of JSON values */
	size_t		 njsons, capjsons;
	struct tvar	*vars;
	size_t		 nvars, capvars;
	size_t		 steps;		/* range iterations, bounded */
};

typedef int	(*tfn_t)(struct tex *, struct tv *, size_t, struct tv *);

struct tfunc {
	const char	*name;
	tfn_t		 fn;
	int		 min, max;	/* arguments; max -1: any */
	int		 lazy;		/* and/or: evaluated by the engine */
};

const struct tfunc *sensor_tfunc_find(const char *);

/* Records the first error (prefixed with the position); returns -1. */
int	 sensor_tex_fail(struct tex *, const char *, ...) UTIL_PRINTF(2, 3);
/* Arena copies and adoptions; results live until the execution ends. */
const char *sensor_tex_str(struct tex *, const char *, size_t);
const char *sensor_tex_adopt(struct tex *, char *);
json_t	*sensor_tex_keep(struct tex *, json_t *);

void	 sensor_tv_json(struct tv *, json_t *);
void	 sensor_tv_str(struct tv *, const char *, size_t);
/* A new reference to the value as JSON. */
json_t	*sensor_tv_to_json(struct tex *, const struct tv *);
int	 sensor_tv_truth(const struct tv *);
const char *sensor_tv_type(const struct tv *);
/* fmt.Sprint of one value (%v). */
void	 sensor_tv_print(struct tex *, struct buf *, const struct tv *);

#endif /* SENSOR_TMPL_INT_H */
