/*
 * parse_yaml: a YAML document as the JSON value Kyverno would get from
 * sigs.k8s.io/yaml (go-yaml v2 rules): plain scalars resolve as YAML 1.1
 * does (yes/no/on/off are booleans, 0x1f and 0o17 are integers, ~ is
 * null); quoted and block scalars are strings; mapping keys become
 * strings.  Only the first document is read.
 *
 * Anchors are shared, not copied, but every use of an alias is charged
 * the size of what it names, so a "billion laughs" document runs out of
 * budget instead of memory.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "jp/jp_int.h"
#include "util/util.h"

#define MAX_YAML_DEPTH	256
#define MAX_ANCHORS	1024

struct anchor {
	char	*name;		/* owned */
	json_t	*v;		/* owned */
	size_t	 size;		/* nodes */
};

struct yp {
	yaml_parser_t	 p;
	struct jp_call	*k;
	struct anchor	 a[MAX_ANCHORS];
	size_t		 na;
	const char	*err;
	int		 errset;
};

static int
fail(struct yp *y, const char *msg)
{
	if (!y->errset)
		jp_call_fail(y->k, 0, JP_ERR_VALUE, "%s", msg);
	y->errset = 1;
	return -1;
}

static int
eq(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(s, *set) == 0)
			return 1;
	return 0;
}

/* An integer as Go's strconv.ParseInt(s, 0, 64) reads it. */
static int
yaml_int(const char *s, long long *out)
{
	char clean[64], *end;
	size_t i, o = 0;
	int base = 10, neg = 0;
	const char *p;
	unsigned long long u;

	for (i = 0; s[i] && o < sizeof clean - 1; i++)
		if (s[i] != '_')
			clean[o++] = s[i];
	if (s[i])
		return -1;
	clean[o] = '\0';
	p = clean;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (*p == '\0')
		return -1;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		base = 16, p += 2;
	else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
		base = 8, p += 2;
	else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
		base = 2, p += 2;
	else if (p[0] == '0' && p[1])
		base = 8, p += 1;
	if (*p == '\0' || *p == '+' || *p == '-' || *p == ' ')
		return -1;
	errno = 0;
	u = strtoull(p, &end, base);
	if (*end || errno || u > (neg ? (1ULL << 63) : (1ULL << 63) - 1))
		return -1;
	*out = neg ? (long long)(0 - u) : (long long)u;
	return 0;
}

/* A float in go-yaml's style:
 * [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static int
yaml_float(const char *s, double *out)
{
	const char *p = s;
	int digits = 0;

	if (*p == '+' || *p == '-')
		p++;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++)
			digits++;
	} else {
		for (; *p >= '0' && *p <= '9'; p++)
			digits++;
		if (*p == '.')
			for (p++; *p >= '0' && *p <= '9'; p++)
				;
	}
	if (!digits)
		return -1;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p)
		return -1;
	*out = strtod(s, NULL);
	return 0;
}

static json_t *
scalar(struct yp *y, const yaml_event_t *e)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL",
	    NULL };
	static const char *const trues[] = { "y", "Y", "yes", "Yes", "YES",
	    "true", "True", "TRUE", "on", "On", "ON", NULL };
	static const char *const falses[] = { "n", "N", "no", "No", "NO",
	    "false", "False", "FALSE", "off", "Off", "OFF", NULL };
	const char *s = (const char *)e->data.scalar.value;
	const char *tag = (const char *)e->data.scalar.tag;
	size_t n = e->data.scalar.length;
	long long ll;
	double d;

	if (e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
	    (tag && strcmp(tag, YAML_STR_TAG) == 0) || strlen(s) != n)
		return jp_str_lossy(y->k->c, s, n);
	if (eq(s, nulls))
		return json_null();
	if (eq(s, trues))
		return json_true();
	if (eq(s, falses))
		return json_false();
	if (yaml_int(s, &ll) == 0)
		return json_integer(ll);
	if (yaml_float(s, &d) == 0)
		return jp_number(d);
	if (eq(s, (const char *const[]){ ".inf", ".Inf", ".INF", "+.inf",
	    "-.inf", ".nan", ".NaN", ".NAN", NULL })) {
		fail(y, "infinity and NaN have no JSON form");
		return NULL;
	}
	return jp_str_lossy(y->k->c, s, n);
}

static int
node_size(const json_t *v)
{
	size_t i, n = 1;
	void *it;

	if (json_is_array(v))
		for (i = 0; i < json_array_size(v); i++)
			n += (size_t)node_size(json_array_get(v, i));
	else if (json_is_object(v))
		for (it = json_object_iter((json_t *)(uintptr_t)v); it;
		    it = json_object_iter_next((json_t *)(uintptr_t)v, it))
			n += (size_t)node_size(json_object_iter_value(it));
	return n > JP_MAX_RESULT ? JP_MAX_RESULT + 1 : (int)n;
}

static void
remember(struct yp *y, const yaml_char_t *anchor, json_t *v)
{
	size_t i;

	if (anchor == NULL || v == NULL)
		return;
	for (i = 0; i < y->na; i++) {
		if (strcmp(y->a[i].name, (const char *)anchor) == 0) {
			json_decref(y->a[i].v);
			y->a[i].v = json_incref(v);
			y->a[i].size = (size_t)node_size(v);
			return;
		}
	}
	if (y->na >= MAX_ANCHORS)
		return;
	y->a[y->na].name = xstrdup((const char *)anchor);
	y->a[y->na].v = json_incref(v);
	y->a[y->na].size = (size_t)node_size(v);
	y->na++;
}

static json_t *
alias(struct yp *y, const yaml_event_t *e)
{
	size_t i;

	for (i = y->na; i-- > 0;) {
		if (strcmp(y->a[i].name,
		    (const char *)e->data.alias.anchor) == 0) {
			if (jp_spend(y->k->c, y->a[i].size, 0) < 0) {
				y->errset = 1;
				return NULL;
			}
			return json_incref(y->a[i].v);
		}
	}
	fail(y, "alias to an unknown anchor");
	return NULL;
}

static json_t *node(struct yp *, yaml_event_t *, int);

static int
next(struct yp *y, yaml_event_t *e)
{
	if (!yaml_parser_parse(&y->p, e))
		return fail(y, y->p.problem ? y->p.problem : "invalid YAML");
	return 0;
}

/* A mapping key as the string go-yaml/sigs.k8s.io would make of it. */
static json_t *
key_string(struct yp *y, json_t *k)
{
	char *s;
	json_t *r;

	if (json_is_string(k))
		return k;
	if (json_is_array(k) || json_is_object(k)) {
		json_decref(k);
		fail(y, "mapping keys must be scalars");
		return NULL;
	}
	s = jp_dump(k, 0);
	json_decref(k);
	r = json_string(s);
	free(s);
	return r;
}

static json_t *
collection(struct yp *y, int map, int depth)
{
	yaml_event_t e;
	json_t *c = map ? json_object() : json_array(), *k = NULL, *v;

	for (;;) {
		if (next(y, &e) < 0)
			goto fail;
		if (e.type == YAML_SEQUENCE_END_EVENT ||
		    e.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&e);
			if (k)
				goto fail;
			return c;
		}
		v = node(y, &e, depth + 1);
		yaml_event_delete(&e);
		if (v == NULL || jp_spend(y->k->c, 1, 0) < 0)
			goto fail;
		if (!map)
			json_array_append_new(c, v);
		else if (k == NULL) {
			if ((k = key_string(y, v)) == NULL)
				goto fail;
		} else {
			json_object_setn_new(c, json_string_value(k),
			    json_string_length(k), v);
			json_decref(k);
			k = NULL;
		}
	}
fail:
	json_decref(k);
	json_decref(c);
	y->errset = 1;
	return NULL;
}

static json_t *
node(struct yp *y, yaml_event_t *e, int depth)
{
	json_t *v;
	const yaml_char_t *anchor = NULL;

	if (depth > MAX_YAML_DEPTH) {
		fail(y, "nested too deeply");
		return NULL;
	}
	switch (e->type) {
	case YAML_SCALAR_EVENT:
		v = scalar(y, e);
		anchor = e->data.scalar.anchor;
		break;
	case YAML_ALIAS_EVENT:
		return alias(y, e);
	case YAML_SEQUENCE_START_EVENT:
		anchor = e->data.sequence_start.anchor;
		v = collection(y, 0, depth);
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = e->data.mapping_start.anchor;
		v = collection(y, 1, depth);
		break;
	default:
		fail(y, "unexpected YAML event");
		return NULL;
	}
	if (v == NULL)
		y->errset = 1;
	remember(y, anchor, v);
	return v;
}

json_t *
jp_f_parse_yaml(struct jp_call *k)
{
	struct yp *y = xcalloc(1, sizeof *y);
	yaml_event_t e;
	json_t *r = NULL;
	size_t i;
	int done = 0;

	y->k = k;
	yaml_parser_initialize(&y->p);
	yaml_parser_set_input_string(&y->p,
	    (const unsigned char *)json_string_value(k->args[0]),
	    json_string_length(k->args[0]));
	while (!done && next(y, &e) == 0) {
		switch (e.type) {
		case YAML_STREAM_END_EVENT:
			if (r == NULL)
				r = json_null();	/* empty input */
			done = 1;
			break;
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_START_EVENT:
			break;
		case YAML_DOCUMENT_END_EVENT:
			done = 1;
			break;
		default:
			if (r == NULL && (r = node(y, &e, 0)) == NULL)
				done = 1;
			break;
		}
		yaml_event_delete(&e);
	}
	if (y->errset) {
		json_decref(r);
		r = NULL;
		if (k->c->err->kind == JP_OK)
			fail(y, "invalid YAML");
	}
	yaml_parser_delete(&y->p);
	for (i = 0; i < y->na; i++) {
		free(y->a[i].name);
		json_decref(y->a[i].v);
	}
	free(y);
	return r;
}
