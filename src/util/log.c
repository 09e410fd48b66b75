/*
 * Logs as JSON lines on stderr: {"time","level","msg",...fields}.  A line
 * is built whole and written with one fputs under stdio's own lock, so
 * lines from different threads never interleave.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "util/util.h"

void
util_log_json(const char *level, const char *msg, json_t *fields)
{
	struct timespec ts;
	char when[TIME_FMTLEN], *s, *line;
	json_t *o = json_object(), *v;
	const char *k;

	clock_gettime(CLOCK_REALTIME, &ts);
	time_format((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, when,
	    sizeof when);
	json_object_set_new(o, "time", json_string(when));
	json_object_set_new(o, "level", json_string(level));
	json_object_set_new(o, "msg", json_string(msg));
	json_object_foreach(fields, k, v)
		json_object_set(o, k, v);
	json_decref(fields);
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	line = xasprintf("%s\n", s);
	fputs(line, stderr);
	fflush(stderr);
	free(line);
	free(s);
	json_decref(o);
}

const char *
util_json_type(const json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	default:
		return "null";
	}
}
