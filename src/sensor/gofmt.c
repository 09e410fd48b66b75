/*
 * What the sensor stage prints and reads the way Argo Events does.  Argo
 * is written in Go: a number in event data is a float64 after
 * json.Unmarshal, `{{ .Input.n }}` prints it with fmt's %v (1e+06, not
 * 1000000), gjson's String() prints it with strconv 'f', and sprig's
 * toJson with encoding/json.  Go's printing itself is util's gofmt; the
 * sensor writes \b and \f as \u0008 and \u000c in JSON (GOFMT_HEX_BF).
 */
#include <string.h>

#include "sensor/sensor_int.h"

void
sensor_fmt_gjson(struct buf *b, json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		buf_add(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		buf_printf(b, "%lld", (long long)json_integer_value(v));
		break;
	case JSON_REAL:
		gofmt_float(b, json_real_value(v), GOFMT_F);
		break;
	case JSON_TRUE:
		buf_adds(b, "true");
		break;
	case JSON_FALSE:
		buf_adds(b, "false");
		break;
	case JSON_NULL:
		break;
	case JSON_OBJECT:
	case JSON_ARRAY:
		/* gjson's Raw: the document's own text, keys in order */
		(void)gofmt_json(b, v, GOFMT_KEEP_ORDER | GOFMT_HEX_BF);
		break;
	}
}

int
sensor_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true",
	    "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false",
	    "False" };
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(yes); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}
