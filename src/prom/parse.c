/*
 * Reading /api/v1/query answers.  Prometheus' shapes:
 *
 *   {"status":"success","data":{"resultType":"vector","result":[
 *       {"metric":{...},"value":[1773480130.512,"0.21"]}, ...]},
 *    "warnings":[...]}
 *   {"status":"success","data":{"resultType":"scalar",
 *       "result":[1773480130.512,"0.21"]}}
 *   {"status":"error","errorType":"bad_data","error":"..."}   (HTTP 400,
 *       422 execution errors, 503 timeouts and cancellations)
 *
 * Values are strings because JSON has no NaN or infinities.  A native
 * histogram sample ("histogram" instead of "value") has no single value:
 * it reads as NaN, so the gate fails closed on it.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "prom/prom.h"
#include "util/util.h"

void
prom_result_clear(struct prom_result *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		json_decref(r->v[i].metric);
	free(r->v);
	for (i = 0; i < r->nwarnings; i++)
		free(r->warnings[i]);
	free(r->warnings);
	memset(r, 0, sizeof *r);
}

/* The first bytes of a non-JSON body, printable, for an error message. */
static char *
excerpt(const char *body, size_t len)
{
	char out[161];
	size_t i, n = len < sizeof out - 1 ? len : sizeof out - 1;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)body[i];

		out[i] = c >= 0x20 && c < 0x7f ? (char)c : ' ';
	}
	out[n] = '\0';
	while (n > 0 && out[n - 1] == ' ')
		out[--n] = '\0';
	return xstrdup(out);
}

static int
parse_value(json_t *pair, struct prom_sample *s, char **err)
{
	json_t *ts = json_array_get(pair, 0);
	const char *v = json_string_value(json_array_get(pair, 1));
	double t;
	char *end;

	if (!json_is_array(pair) || json_array_size(pair) != 2 ||
	    !json_is_number(ts) || v == NULL) {
		*err = xstrdup("a sample is not [timestamp, \"value\"]");
		return -1;
	}
	t = json_number_value(ts);
	if (!isfinite(t) || t < 0 || t > 1e11) {
		*err = xstrdup("a sample's timestamp is out of range");
		return -1;
	}
	s->time = llround(t * 1000.0);
	errno = 0;
	s->value = strtod(v, &end);
	if (end == v || *end != '\0') {
		*err = xasprintf("sample value \"%.40s\" is not a number", v);
		return -1;
	}
	return 0;
}

/* A native histogram: keep its time, value NaN. */
static int
parse_histogram(json_t *pair, struct prom_sample *s, char **err)
{
	json_t *ts = json_array_get(pair, 0);
	double t = json_number_value(ts);

	if (!json_is_number(ts) || !isfinite(t) || t < 0 || t > 1e11) {
		*err = xstrdup("a histogram sample has no timestamp");
		return -1;
	}
	s->time = llround(t * 1000.0);
	s->value = NAN;
	return 0;
}

static int
parse_vector(json_t *result, struct prom_result *r, char **err)
{
	size_t i;
	json_t *e;

	if (!json_is_array(result)) {
		*err = xstrdup("data.result is not a list");
		return -1;
	}
	r->v = xcalloc(json_array_size(result) + 1, sizeof *r->v);
	json_array_foreach(result, i, e) {
		struct prom_sample *s = &r->v[r->n];
		json_t *m = json_object_get(e, "metric");
		json_t *h = json_object_get(e, "histogram");
		int rc;

		if (!json_is_object(e)) {
			*err = xstrdup("a vector element is not an object");
			return -1;
		}
		rc = json_object_get(e, "value") == NULL && h != NULL ?
		    parse_histogram(h, s, err) :
		    parse_value(json_object_get(e, "value"), s, err);
		if (rc == -1)
			return -1;
		s->metric = json_is_object(m) ? json_deep_copy(m) :
		    json_object();
		r->n++;
	}
	return 0;
}

static int
parse_data(json_t *data, struct prom_result *r, char **err)
{
	const char *type = json_string_value(json_object_get(data,
	    "resultType"));
	json_t *result = json_object_get(data, "result");

	if (type == NULL) {
		*err = xstrdup("the answer has no data.resultType");
		return -1;
	}
	if (strcmp(type, "vector") == 0) {
		r->type = PROM_VECTOR;
		return parse_vector(result, r, err);
	}
	if (strcmp(type, "scalar") == 0) {
		r->type = PROM_SCALAR;
		r->v = xcalloc(1, sizeof *r->v);
		if (parse_value(result, &r->v[0], err) == -1)
			return -1;
		r->v[0].metric = json_object();
		r->n = 1;
		return 0;
	}
	if (strcmp(type, "matrix") == 0)
		*err = xstrdup("the query returned a range vector (matrix): "
		    "an instant query needs an instant vector, drop the "
		    "[range] or wrap it in a function");
	else
		*err = xasprintf("the query returned a %.20s, not a number",
		    type);
	return -1;
}

static void
take_warnings(json_t *root, struct prom_result *r)
{
	static const char *const keys[] = { "warnings", "infos" };
	size_t k, i;
	json_t *w, *list;

	for (k = 0; k < UTIL_ARRAY_LEN(keys); k++) {
		list = json_object_get(root, keys[k]);
		/* infos are notes about the query; warnings say that part of
		 * the data was not read (Prometheus' partial responses) */
		if (k == 0 && json_array_size(list) > 0)
			r->partial = 1;
		json_array_foreach(list, i, w) {
			if (!json_is_string(w) || r->nwarnings >= 32)
				continue;
			r->warnings = xrealloc(r->warnings,
			    (r->nwarnings + 1) * sizeof *r->warnings);
			r->warnings[r->nwarnings++] = xstrdup(
			    json_string_value(w));
		}
	}
}

int
prom_parse(const char *body, size_t len, long status,
    struct prom_result *r, char **err)
{
	json_t *root;
	json_error_t je;
	const char *st;
	int rc = -1;

	memset(r, 0, sizeof *r);
	*err = NULL;
	root = util_json_loadb(body, len, 0, &je);
	if (!json_is_object(root)) {
		char *ex = excerpt(body, len);

		if (status >= 300)
			*err = xasprintf("HTTP %ld: %s", status, *ex ? ex :
			    "(empty body)");
		else
			*err = xasprintf("the answer is not a JSON object: %s",
			    *ex ? ex : "(empty body)");
		free(ex);
		json_decref(root);
		return -1;
	}
	st = json_string_value(json_object_get(root, "status"));
	if (st != NULL && strcmp(st, "error") == 0) {
		const char *type = json_string_value(json_object_get(root,
		    "errorType"));
		const char *msg = json_string_value(json_object_get(root,
		    "error"));

		*err = xasprintf("%s: %s", type ? type : "error",
		    msg ? msg : "(no message)");
	} else if (status >= 300) {
		*err = xasprintf("HTTP %ld", status);
	} else if (st == NULL || strcmp(st, "success") != 0) {
		*err = xstrdup("the answer's status is neither success nor "
		    "error");
	} else if (parse_data(json_object_get(root, "data"), r, err) == 0) {
		take_warnings(root, r);
		rc = 0;
	}
	if (rc == -1)
		prom_result_clear(r);
	json_decref(root);
	return rc;
}

int
prom_gate_value(const struct prom_result *r, int64_t now, int64_t max_age,
    double *value, int64_t *at, const char **why)
{
	size_t i;
	double min = INFINITY;
	int64_t when = 0;

	if (r == NULL || r->n == 0) {
		*why = "empty";
		return -1;
	}
	for (i = 0; i < r->n; i++) {
		if (!isfinite(r->v[i].value)) {
			*why = "not a number";
			return -1;
		}
		if (r->v[i].time > now && r->v[i].time - now > PROM_MAX_SKEW) {
			*why = "from the future";
			return -1;
		}
		if (max_age > 0 && now - r->v[i].time > max_age) {
			*why = "stale";
			return -1;
		}
		if (i == 0 || r->v[i].value < min) {
			min = r->v[i].value;
			when = r->v[i].time;
		}
	}
	if (r->partial) {
		*why = "partial answer";
		return -1;
	}
	*value = min;
	*at = when;
	return 0;
}
