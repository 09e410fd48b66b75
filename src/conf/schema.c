/*
 * The schema walker: checks a document against the tables of its kind
 * (schema_*.c) and reports each problem at the node it is about, with the
 * path from the document's root ("spec.triggers[0].guardrails.cooldown")
 * and, for misspelt names, the likely fix.  It keeps going after an error
 * so one run shows every problem; a value of the wrong type is not looked
 * into further.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "conf/schema.h"

/* ---- primitives ------------------------------------------------------- */

const struct snode conf_t_any = { .kind = S_ANY };
const struct snode conf_t_string = { .kind = S_STRING };
const struct snode conf_t_nonempty = { .kind = S_STRING,
    .flags = SF_NONEMPTY };
const struct snode conf_t_int = { .kind = S_INT };
const struct snode conf_t_uint = { .kind = S_INT, .min = 0,
    .max = 2147483647 };
const struct snode conf_t_number = { .kind = S_NUMBER };
const struct snode conf_t_bool = { .kind = S_BOOL };
const struct snode conf_t_scalar = { .kind = S_SCALAR };
const struct snode conf_t_duration = { .kind = S_DURATION };
const struct snode conf_t_percent = { .kind = S_PERCENT };
const struct snode conf_t_label = { .kind = S_LABEL };
const struct snode conf_t_time = { .kind = S_TIME };
const struct snode conf_t_clock = { .kind = S_CLOCK };
const struct snode conf_t_quantity = { .kind = S_QUANTITY };
const struct snode conf_t_port = { .kind = S_PORT };
const struct snode conf_t_name = { .kind = S_NAME };
const struct snode conf_t_increment = { .kind = S_INCREMENT };
const struct snode conf_t_cron = { .kind = S_CRON };
const struct snode conf_t_strmap = { .kind = S_MAP, .elem = &conf_t_string };
const struct snode conf_t_strlist = { .kind = S_ARRAY,
    .elem = &conf_t_string };
const struct snode conf_t_anyobj = { .kind = S_OBJECT, .flags = SF_OPEN,
    .fields = (const struct sfield[]){ { NULL, NULL, 0, NULL, NULL } } };
const struct snode conf_t_reject = { .kind = S_REJECT };

/* ---- reporting ---------------------------------------------------------- */

struct loc
conf_sloc(struct sctx *c, json_t *parent, const char *key)
{
	if (key == NULL)
		return conf_loc(c->doc, parent);
	return conf_loc_value(c->doc, parent, key, 0);
}

struct loc
conf_skeyloc(struct sctx *c, json_t *parent, const char *key)
{
	return conf_loc_key(c->doc, parent, key);
}

static void
vreport(struct sctx *c, enum diag_level lvl, struct loc l, const char *sub,
    const char *fmt, va_list ap)
{
	char *msg = xvasprintf(fmt, ap);
	const char *dot = c->plen > 0 && sub != NULL ? "." : "";

	if (c->plen == 0 && sub == NULL)
		diag_add(c->d, lvl, l, "%s", msg);
	else
		diag_add(c->d, lvl, l, "%s%s%s: %s", c->path, dot,
		    sub ? sub : "", msg);
	free(msg);
}

void
conf_serr(struct sctx *c, struct loc l, const char *sub, const char *fmt,
    ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(c, DIAG_ERROR, l, sub, fmt, ap);
	va_end(ap);
}

void
conf_swarn(struct sctx *c, struct loc l, const char *sub, const char *fmt,
    ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(c, DIAG_WARNING, l, sub, fmt, ap);
	va_end(ap);
}

void
conf_sdescribe(const json_t *v, char *out, size_t outlen)
{
	const char *s;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		snprintf(out, outlen, "a mapping");
		break;
	case JSON_ARRAY:
		snprintf(out, outlen, "a list");
		break;
	case JSON_STRING:
		s = json_string_value(v);
		if (strlen(s) > 40)
			snprintf(out, outlen, "string \"%.37s...\"", s);
		else
			snprintf(out, outlen, "string \"%s\"", s);
		break;
	case JSON_INTEGER:
		snprintf(out, outlen, "number %lld",
		    (long long)json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(out, outlen, "number %g", json_real_value(v));
		break;
	case JSON_TRUE:
		snprintf(out, outlen, "true");
		break;
	case JSON_FALSE:
		snprintf(out, outlen, "false");
		break;
	default:
		snprintf(out, outlen, "null (nothing)");
		break;
	}
}

/* ---- paths -------------------------------------------------------------- */

static size_t
path_push(struct sctx *c, const char *key, size_t idx)
{
	size_t old = c->plen;
	int n;

	if (key != NULL)
		n = snprintf(c->path + c->plen, sizeof c->path - c->plen,
		    "%s%s", c->plen ? "." : "", key);
	else
		n = snprintf(c->path + c->plen, sizeof c->path - c->plen,
		    "[%zu]", idx);
	if (n > 0)
		c->plen += (size_t)n;
	if (c->plen >= sizeof c->path)
		c->plen = sizeof c->path - 1;
	return old;
}

static void
path_pop(struct sctx *c, size_t old)
{
	c->plen = old;
	c->path[old] = '\0';
}

/* ---- value checks ------------------------------------------------------- */

static const char *
kind_what(const struct snode *t)
{
	switch (t->kind) {
	case S_STRING:
	case S_NAME:
		return "a string";
	case S_INT:
		return "an integer";
	case S_NUMBER:
		return "a number";
	case S_BOOL:
		return "true or false";
	case S_SCALAR:
		return "a string, number or boolean";
	case S_OBJECT:
		return t->flags & SF_ORLIST ? "a mapping or a list" :
		    "a mapping";
	case S_MAP:
		return "a mapping";
	case S_ARRAY:
		return "a list";
	case S_DURATION:
		return t->flags & SF_INTOK ? "a duration like 5m or a number "
		    "of seconds" : "a duration like 5m or 1h30m";
	case S_PERCENT:
		return "a percentage like 5% (or a fraction from 0 to 1)";
	case S_LABEL:
		return "a label like key=value";
	case S_TIME:
		return "a time like 2026-01-02T15:04:05Z";
	case S_CLOCK:
		return "a time of day like 22:00:00";
	case S_QUANTITY:
		return "a quantity like 8Gi or 500m";
	case S_PORT:
		return "a port number from 1 to 65535";
	case S_INCREMENT:
		return "a percentage like 25% or a quantity like 256Mi";
	case S_CRON:
		return "a cron schedule like \"*/5 * * * *\", @hourly or "
		    "@every 5m";
	default:
		return "something else";
	}
}

static int
is_label_key(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 316)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("-_./", s[i]) ==
		    NULL)
			return 0;
	return 1;
}

static int
label_ok(const char *s)
{
	const char *eq = strchr(s, '=');

	if (eq == NULL)
		return is_label_key(s, strlen(s));
	return is_label_key(s, (size_t)(eq - s)) && strchr(eq + 1, '=') ==
	    NULL;
}

/* "5%" (0..100) or a number 0..1 */
static int
percent_ok(const json_t *v)
{
	const char *s, *p;
	double d;
	char *end;

	if (json_is_number(v)) {
		d = json_number_value(v);
		return d >= 0 && d <= 1;
	}
	if (!json_is_string(v))
		return 0;
	s = json_string_value(v);
	for (p = s; isdigit((unsigned char)*p) || *p == '.'; p++)
		;
	if (p == s || strcmp(p, "%") != 0)
		return 0;
	d = strtod(s, &end);
	return end == p && d >= 0 && d <= 100;
}

static int
clock_ok(const char *s)
{
	int i;

	/* hh:mm:ss, 24-hour */
	for (i = 0; i < 8; i++)
		if (i == 2 || i == 5 ? s[i] != ':' :
		    !isdigit((unsigned char)s[i]))
			return 0;
	return s[8] == '\0' && (s[0] - '0') * 10 + (s[1] - '0') < 24 &&
	    s[3] < '6' && s[6] < '6';
}

static int
quantity_ok(const json_t *v)
{
	static const char *const sfx[] = { "", "Ki", "Mi", "Gi", "Ti", "Pi",
	    "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E" };
	const char *s, *p;
	size_t i, digits = 0;

	if (json_is_number(v))
		return json_number_value(v) >= 0;
	if (!json_is_string(v))
		return 0;
	s = json_string_value(v);
	p = s;
	if (*p == '+')
		p++;
	for (; isdigit((unsigned char)*p); p++)
		digits++;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			digits++;
	if (digits == 0)
		return 0;
	for (i = 0; i < UTIL_ARRAY_LEN(sfx); i++)
		if (strcmp(p, sfx[i]) == 0)
			return 1;
	/* decimal exponent: 1e3, 1E-2 */
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return 0;
		while (isdigit((unsigned char)*p))
			p++;
		return *p == '\0';
	}
	return 0;
}

/* "25%": any non-negative percentage. */
static int
increment_ok(const json_t *v)
{
	const char *s, *p;

	if (!json_is_string(v))
		return quantity_ok(v);
	s = json_string_value(v);
	for (p = s; isdigit((unsigned char)*p) || *p == '.'; p++)
		;
	if (p > s && strcmp(p, "%") == 0)
		return 1;
	return quantity_ok(v);
}

/* Five fields of digits, names, * , / - ?; or a descriptor. */
static int
cron_ok(const char *s)
{
	static const char *const desc[] = { "@yearly", "@annually",
	    "@monthly", "@weekly", "@daily", "@midnight", "@hourly" };
	int64_t ms;
	size_t i;
	int fields = 0, in = 0;

	if (strncmp(s, "@every ", 7) == 0)
		return duration_parse(s + 7, &ms) == 0 && ms > 0;
	for (i = 0; i < UTIL_ARRAY_LEN(desc); i++)
		if (strcmp(s, desc[i]) == 0)
			return 1;
	for (; *s; s++) {
		if (*s == ' ' || *s == '\t') {
			in = 0;
			continue;
		}
		if (!isalnum((unsigned char)*s) && strchr("*,/-?", *s) == NULL)
			return 0;
		if (!in)
			fields++;
		in = 1;
	}
	return fields == 5;
}

static int
port_ok(const json_t *v)
{
	long long n;

	if (json_is_integer(v))
		n = json_integer_value(v);
	else if (!json_is_string(v) ||
	    util_parse_int(json_string_value(v), &n) != 0)
		return 0;
	return n >= 1 && n <= 65535;
}

/* Kubernetes object names: DNS subdomains (RFC 1123), 253 at most. */
static int
name_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) ||
		    isdigit((unsigned char)s[i]) || s[i] == '-' ||
		    s[i] == '.'))
			return 0;
	return isalnum((unsigned char)s[0]) && isalnum((unsigned char)s[n - 1]);
}

static void check_value(struct sctx *, const struct snode *, json_t *parent,
    const char *key, size_t idx, json_t *v);

/* The location of parent's member key or element idx. */
static struct loc
vloc(struct sctx *c, json_t *parent, const char *key, size_t idx)
{
	if (parent == NULL)
		return conf_loc(c->doc, c->doc->root);
	return conf_loc_value(c->doc, parent, key, idx);
}

static void
wrong_type(struct sctx *c, const struct snode *t, json_t *parent,
    const char *key, size_t idx, json_t *v)
{
	char got[96];

	conf_sdescribe(v, got, sizeof got);
	conf_serr(c, vloc(c, parent, key, idx), NULL, "expected %s, got %s",
	    kind_what(t), got);
	if (t->kind == S_STRING && (json_is_number(v) || json_is_boolean(v)))
		diag_hint(c->d, "quote it to make it a string");
	else if (t->kind == S_ARRAY && !json_is_array(v))
		diag_hint(c->d, "write a list: [value] or one \"- value\" per "
		    "line");
}

static void
check_enum(struct sctx *c, const struct snode *t, json_t *parent,
    const char *key, size_t idx, json_t *v)
{
	struct buf b;
	size_t i, n;
	const char *s = json_string_value(v), *pick;
	char got[96];

	for (n = 0; t->values[n] != NULL; n++)
		if (s != NULL && strcmp(s, t->values[n]) == 0)
			return;
	buf_init(&b, 0);
	for (i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", t->values[i][0] ?
		    t->values[i] : "\"\"");
	conf_sdescribe(v, got, sizeof got);
	conf_serr(c, vloc(c, parent, key, idx), NULL, "expected one of %s; "
	    "got %s", b.data, got);
	buf_free(&b);
	if (s != NULL && (pick = util_suggest(s, t->values, n)) != NULL)
		diag_hint(c->d, "did you mean \"%s\"?", pick);
}

static void check_object(struct sctx *, const struct snode *, json_t *obj);

/* Whether v has the shape t asks for; reports when it has not. */
static int
check_shape(struct sctx *c, const struct snode *t, json_t *parent,
    const char *key, size_t idx, json_t *v)
{
	int64_t ms;
	int ok = 1;

	switch (t->kind) {
	case S_ANY:
	case S_REJECT:
		return 1;
	case S_STRING:
		ok = json_is_string(v);
		if (ok && (t->flags & SF_NONEMPTY) &&
		    json_string_length(v) == 0) {
			conf_serr(c, vloc(c, parent, key, idx), NULL,
			    "must not be empty");
			return 0;
		}
		break;
	case S_INT:
		ok = json_is_integer(v);
		if (ok && t->min < t->max && (json_integer_value(v) < t->min ||
		    json_integer_value(v) > t->max)) {
			conf_serr(c, vloc(c, parent, key, idx), NULL,
			    "%lld is out of range (%lld to %lld)",
			    (long long)json_integer_value(v), t->min, t->max);
			return 0;
		}
		break;
	case S_NUMBER:
		ok = json_is_number(v);
		break;
	case S_BOOL:
		ok = json_is_boolean(v);
		break;
	case S_SCALAR:
		ok = json_is_string(v) || json_is_number(v) ||
		    json_is_boolean(v);
		break;
	case S_OBJECT:
	case S_MAP:
		ok = json_is_object(v);
		break;
	case S_ARRAY:
		ok = json_is_array(v);
		break;
	case S_ENUM:
		check_enum(c, t, parent, key, idx, v);
		return json_is_string(v);	/* reported already if not */
	case S_DURATION:
		ok = (json_is_string(v) && duration_parse(json_string_value(v),
		    &ms) == 0 && ms >= 0) ||
		    ((t->flags & SF_INTOK) && json_is_integer(v) &&
		    json_integer_value(v) >= 0);
		break;
	case S_PERCENT:
		ok = percent_ok(v);
		break;
	case S_LABEL:
		ok = json_is_string(v) && label_ok(json_string_value(v));
		break;
	case S_TIME:
		ok = json_is_string(v) && time_parse(json_string_value(v),
		    &ms) == 0;
		break;
	case S_CLOCK:
		ok = json_is_string(v) && json_string_length(v) == 8 &&
		    clock_ok(json_string_value(v));
		break;
	case S_QUANTITY:
		ok = quantity_ok(v);
		break;
	case S_PORT:
		ok = port_ok(v);
		break;
	case S_INCREMENT:
		ok = increment_ok(v);
		break;
	case S_CRON:
		ok = json_is_string(v) && cron_ok(json_string_value(v));
		break;
	case S_NAME:
		if (json_is_string(v) && !name_ok(json_string_value(v))) {
			conf_serr(c, vloc(c, parent, key, idx), NULL,
			    "\"%s\" is not a valid Kubernetes name",
			    json_string_value(v));
			diag_hint(c->d, "lowercase letters, digits, '-' and "
			    "'.', starting and ending with a letter or digit");
			return 0;
		}
		ok = json_is_string(v);
		break;
	}
	if (!ok)
		wrong_type(c, t, parent, key, idx, v);
	return ok;
}

static void
check_value(struct sctx *c, const struct snode *t, json_t *parent,
    const char *key, size_t idx, json_t *v)
{
	size_t old = parent ? path_push(c, key, idx) : c->plen, i, n;
	const char *k;
	json_t *e;

	if (t->kind == S_OBJECT && (t->flags & SF_ORLIST) &&
	    json_is_array(v)) {
		for (i = 0; i < json_array_size(v); i++)
			check_value(c, t->elem, v, NULL, i,
			    json_array_get(v, i));
		goto done;
	}
	if (!check_shape(c, t, parent, key, idx, v))
		goto done;
	switch (t->kind) {
	case S_OBJECT:
		check_object(c, t, v);
		break;
	case S_ARRAY:
		n = json_array_size(v);
		if (n == 0 && (t->flags & SF_NONEMPTY))
			conf_serr(c, vloc(c, parent, key, idx), NULL,
			    "must not be empty");
		for (i = 0; i < n; i++)
			check_value(c, t->elem, v, NULL, i,
			    json_array_get(v, i));
		break;
	case S_MAP:
		if (json_object_size(v) == 0 && (t->flags & SF_NONEMPTY))
			conf_serr(c, vloc(c, parent, key, idx), NULL,
			    "must not be empty");
		json_object_foreach(v, k, e)
			check_value(c, t->elem, v, k, 0, e);
		break;
	default:
		break;
	}
	if (t->post != NULL)
		t->post(c, v);
done:
	path_pop(c, old);
}

void
conf_scheck(struct sctx *c, const struct snode *t, json_t *parent,
    const char *key, json_t *value)
{
	check_value(c, t, parent, key, 0, value);
}

/* ---- objects ------------------------------------------------------------ */

static const struct sfield *
find_field(const struct snode *t, const char *key)
{
	const struct sfield *f;

	for (f = t->fields; f->name != NULL; f++)
		if (strcmp(f->name, key) == 0)
			return f;
	return NULL;
}

static void
unknown_field(struct sctx *c, const struct snode *t, json_t *obj,
    const char *key)
{
	const char *names[96], *pick;
	const struct sfield *f;
	size_t n = 0;
	struct buf b;

	for (f = t->fields; f->name != NULL && n < UTIL_ARRAY_LEN(names); f++)
		if (f->type->kind != S_REJECT)
			names[n++] = f->name;
	if (c->plen)
		conf_serr(c, conf_loc_key(c->doc, obj, key), NULL,
		    "unknown field \"%s\"", key);
	else
		diag_error(c->d, conf_loc_key(c->doc, obj, key),
		    "unknown top-level field \"%s\"", key);
	if ((pick = util_suggest(key, names, n)) != NULL) {
		diag_hint(c->d, "did you mean \"%s\"?", pick);
		return;
	}
	buf_init(&b, 400);
	for (f = t->fields; f->name != NULL; f++)
		if (f->type->kind != S_REJECT)
			buf_printf(&b, "%s%s", b.len ? ", " : "", f->name);
	if (b.len)
		diag_hint(c->d, "known fields here: %s%s", b.data,
		    b.overflow ? "..." : "");
	buf_free(&b);
}

/* f->note with its "%s" replaced by the field's name. */
static void
reject(struct sctx *c, const struct sfield *f, json_t *obj, const char *key)
{
	const char *note = f->note ? f->note : "%s is not supported";
	const char *at = strstr(note, "%s");
	struct buf b;

	buf_init(&b, 0);
	if (at != NULL) {
		buf_add(&b, note, (size_t)(at - note));
		buf_adds(&b, key);
		buf_adds(&b, at + 2);
	} else
		buf_adds(&b, note);
	conf_serr(c, conf_loc_key(c->doc, obj, key), NULL, "%s", b.data);
	buf_free(&b);
}

static void
check_object(struct sctx *c, const struct snode *t, json_t *obj)
{
	const struct sfield *f;
	const char *key;
	json_t *v;

	if (t->pre != NULL)
		t->pre(c, obj);
	json_object_foreach(obj, key, v) {
		if ((f = find_field(t, key)) == NULL) {
			if (!(t->flags & SF_OPEN))
				unknown_field(c, t, obj, key);
			continue;
		}
		if (f->type->kind == S_REJECT) {
			reject(c, f, obj, key);
			if (f->hint != NULL)
				diag_hint(c->d, "%s", f->hint);
			continue;
		}
		check_value(c, f->type, obj, key, 0, v);
	}
	for (f = t->fields; f->name != NULL; f++)
		if ((f->flags & F_REQUIRED) && json_object_get(obj, f->name) ==
		    NULL)
			conf_serr(c, conf_loc(c->doc, obj), NULL,
			    "missing required field \"%s\"", f->name);
}

/* ---- documents ---------------------------------------------------------- */

size_t
conf_schema_check(struct mdoc *doc, enum conf_kind k, struct diags *d)
{
	static const struct snode *const kinds[CONF_NKINDS] = {
		[CONF_EVENTSOURCE] = &conf_t_eventsource,
		[CONF_SENSOR] = &conf_t_sensor,
		[CONF_CLUSTERPOLICY] = &conf_t_kyverno_policy,
		[CONF_POLICY] = &conf_t_kyverno_policy,
		[CONF_REMEDIATIONCONFIG] = &conf_t_remediationconfig,
	};
	struct sctx c;
	size_t before = d->errors;

	memset(&c, 0, sizeof c);
	c.doc = doc;
	c.d = d;
	check_value(&c, kinds[k], NULL, NULL, 0, doc->root);
	return d->errors - before;
}
