/*
 * The declarative schema: each kind's manifest is described by tables of
 * struct snode (what a value must be) and struct sfield (the members an
 * object may have).  One walker (schema.c) checks a document against them
 * and reports each problem at the offending node; hooks add the checks a
 * table cannot say (exactly one trigger type, ...).
 */
#ifndef CONF_SCHEMA_H
#define CONF_SCHEMA_H

#include <stddef.h>
#include <jansson.h>

#include "conf/internal.h"

enum skind {
	S_ANY,		/* anything */
	S_STRING,
	S_INT,		/* min..max */
	S_NUMBER,
	S_BOOL,
	S_SCALAR,	/* string, number or boolean */
	S_OBJECT,	/* fields */
	S_ARRAY,	/* elem */
	S_MAP,		/* any keys, each value elem */
	S_ENUM,		/* a string from values */
	S_DURATION,	/* Go duration "5m" */
	S_PERCENT,	/* "5%" or a fraction 0..1 */
	S_LABEL,	/* "key=value" or "key" */
	S_TIME,		/* RFC 3339 */
	S_CLOCK,	/* hh:mm:ss */
	S_QUANTITY,	/* Kubernetes quantity "8Gi", "250m", 2 */
	S_PORT,		/* 1..65535, integer or digits */
	S_NAME,		/* Kubernetes object name (DNS subdomain) */
	S_INCREMENT,	/* "25%" or a quantity "256Mi" */
	S_CRON,		/* five cron fields, "@hourly", "@every 5m" */
	S_REJECT,	/* never valid here: the field's note says why */
};

/* snode.flags */
#define SF_OPEN		0x01	/* S_OBJECT: unknown members allowed */
#define SF_NONEMPTY	0x02	/* S_STRING, S_ARRAY, S_MAP: not empty */
#define SF_INTOK	0x04	/* S_DURATION: an integer (seconds) too */
#define SF_ORLIST	0x10	/* S_OBJECT: or a list of elem */

struct sctx;
struct sfield;

struct snode {
	enum skind		 kind;
	unsigned		 flags;
	const struct sfield	*fields;	/* S_OBJECT, {NULL} ends */
	const struct snode	*elem;		/* S_ARRAY, S_MAP */
	const char *const	*values;	/* S_ENUM, NULL ends */
	long long		 min, max;	/* S_INT when min < max */
	/* S_OBJECT: before the members are checked (may rewrite obj) */
	void			(*pre)(struct sctx *, json_t *obj);
	/* after the value passed its own check */
	void			(*post)(struct sctx *, json_t *value);
};

/* sfield.flags */
#define F_REQUIRED	0x01

struct sfield {
	const char		*name;
	const struct snode	*type;
	unsigned		 flags;
	/* S_REJECT: the message; "%s" in it stands for the field's name */
	const char		*note;
	const char		*hint;	/* S_REJECT: the fix, may be NULL */
};

/* The walker's state; hooks read it to report. */
struct sctx {
	struct mdoc	*doc;
	struct diags	*d;
	char		 path[512];	/* "spec.triggers[0].template" */
	size_t		 plen;
};

/* Where parent's member key has its value (key NULL: parent itself). */
struct loc	conf_sloc(struct sctx *, json_t *parent, const char *key);
/* Where parent's member key is written. */
struct loc	conf_skeyloc(struct sctx *, json_t *parent, const char *key);
/*
 * Reports an error (conf_swarn: a warning) at loc, its message prefixed
 * with the path of the object being checked and sub ("k8s.operation"; NULL
 * for the object itself).
 */
void	conf_serr(struct sctx *, struct loc, const char *sub,
	    const char *fmt, ...) UTIL_PRINTF(4, 5);
void	conf_swarn(struct sctx *, struct loc, const char *sub,
	    const char *fmt, ...) UTIL_PRINTF(4, 5);
/* Checks value, parent's member key, against type (used by hooks). */
void	conf_scheck(struct sctx *, const struct snode *type, json_t *parent,
	    const char *key, json_t *value);
/* A short description of a value for messages: string "x", a mapping.. */
void	conf_sdescribe(const json_t *, char *out, size_t outlen);

/* Primitive types every table uses. */
extern const struct snode conf_t_any, conf_t_string, conf_t_nonempty,
    conf_t_int, conf_t_uint, conf_t_number, conf_t_bool, conf_t_scalar,
    conf_t_duration, conf_t_percent, conf_t_label, conf_t_time,
    conf_t_clock, conf_t_quantity, conf_t_port, conf_t_name,
    conf_t_increment, conf_t_cron,
    conf_t_strmap, conf_t_strlist, conf_t_anyobj, conf_t_reject;

/* Each kind's document. */
extern const struct snode conf_t_eventsource, conf_t_sensor,
    conf_t_kyverno_policy, conf_t_remediationconfig;
/* Shared by Sensor triggers and RemediationConfig defaults. */
extern const struct snode conf_t_guardrails;
/* metadata of any manifest */
extern const struct snode conf_t_metadata;

#endif /* CONF_SCHEMA_H */
