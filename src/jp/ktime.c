/*
 * Kyverno's time functions.  Times are RFC 3339 strings; results are
 * printed as Go's time.Format(time.RFC3339) prints them: whole seconds,
 * in the offset the input carried ("Z" for UTC).  "Now" is the
 * environment's clock when it has one, so replay and tests are
 * repeatable; remediate runs in UTC, so time_now() and time_now_utc()
 * agree.
 *
 * time_parse() and time_since() take Go reference layouts
 * ("2006-01-02 15:04:05 -0700"); the common layout elements are
 * understood (see docs/jmespath.md), and a layout of digits reads epoch
 * seconds, as in Kyverno.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "jp/jp_int.h"
#include "util/util.h"

#define NS	1000000000LL

struct gtime {
	int64_t	 sec;		/* since the epoch, UTC */
	int32_t	 nsec;
	int32_t	 off;		/* seconds east of UTC */
};

static void
format_rfc3339(const struct gtime *t, char *out, size_t len)
{
	struct time_civil c;
	int off = t->off < 0 ? -t->off : t->off;

	time_civil_from_secs(t->sec + t->off, &c);
	if (t->off == 0)
		snprintf(out, len, "%04lld-%02d-%02dT%02d:%02d:%02dZ",
		    (long long)c.y, c.mon, c.day, c.hour, c.min, c.sec);
	else
		snprintf(out, len, "%04lld-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
		    (long long)c.y, c.mon, c.day, c.hour, c.min, c.sec,
		    t->off < 0 ? '-' : '+', off / 3600, off % 3600 / 60);
}

/* ---- Go layouts --------------------------------------------------------- */

enum chunk {
	C_NONE, C_LONGMONTH, C_MONTH, C_NUMMONTH, C_ZEROMONTH, C_LONGWEEKDAY,
	C_WEEKDAY, C_DAY, C_UNDERDAY, C_ZERODAY, C_HOUR, C_HOUR12,
	C_ZEROHOUR12, C_MINUTE, C_ZEROMINUTE, C_SECOND, C_ZEROSECOND,
	C_LONGYEAR, C_YEAR, C_PM, C_PMLOWER, C_TZ, C_ISO_TZ, C_ISO_COLON_TZ,
	C_ISO_SHORT_TZ, C_NUM_TZ, C_NUM_COLON_TZ, C_NUM_SHORT_TZ,
	C_FRAC0, C_FRAC9, C_YEARDAY,
};

struct parsed {
	int64_t	 year;
	int	 mon, day, hour, min, sec, nsec, pm, ampm, off, yday;
	int	 haszone;
	int	 nextfrac;	/* the layout has a fraction next */
};

static const char *const months[] = { "January", "February", "March",
    "April", "May", "June", "July", "August", "September", "October",
    "November", "December" };
static const char *const days[] = { "Sunday", "Monday", "Tuesday",
    "Wednesday", "Thursday", "Friday", "Saturday" };

/* The next layout element at l: its kind and length; C_NONE: a literal. */
static enum chunk
next_chunk(const char *l, size_t *len, int *digits)
{
	size_t j;

	*len = 1;
	switch (l[0]) {
	case 'J':
		if (strncmp(l, "January", 7) == 0)
			return *len = 7, C_LONGMONTH;
		if (strncmp(l, "Jan", 3) == 0)
			return *len = 3, C_MONTH;
		break;
	case 'M':
		if (strncmp(l, "Monday", 6) == 0)
			return *len = 6, C_LONGWEEKDAY;
		if (strncmp(l, "Mon", 3) == 0)
			return *len = 3, C_WEEKDAY;
		if (strncmp(l, "MST", 3) == 0)
			return *len = 3, C_TZ;
		break;
	case '0':
		if (l[1] >= '1' && l[1] <= '6') {
			*len = 2;
			return (enum chunk[]){ C_ZEROMONTH, C_ZERODAY,
			    C_ZEROHOUR12, C_ZEROMINUTE, C_ZEROSECOND,
			    C_YEAR }[l[1] - '1'];
		}
		if (strncmp(l, "002", 3) == 0)
			return *len = 3, C_YEARDAY;
		break;
	case '1':
		if (l[1] == '5')
			return *len = 2, C_HOUR;
		return C_NUMMONTH;
	case '2':
		if (strncmp(l, "2006", 4) == 0)
			return *len = 4, C_LONGYEAR;
		return C_DAY;
	case '_':
		if (l[1] == '2' && strncmp(l + 1, "2006", 4) != 0)
			return *len = 2, C_UNDERDAY;
		break;
	case '3':
		return C_HOUR12;
	case '4':
		return C_MINUTE;
	case '5':
		return C_SECOND;
	case 'P':
		if (l[1] == 'M')
			return *len = 2, C_PM;
		break;
	case 'p':
		if (l[1] == 'm')
			return *len = 2, C_PMLOWER;
		break;
	case '-':
	case 'Z':
		if (strncmp(l + 1, "07:00", 5) == 0)
			return *len = 6, l[0] == 'Z' ? C_ISO_COLON_TZ :
			    C_NUM_COLON_TZ;
		if (strncmp(l + 1, "0700", 4) == 0)
			return *len = 5, l[0] == 'Z' ? C_ISO_TZ : C_NUM_TZ;
		if (strncmp(l + 1, "07", 2) == 0)
			return *len = 3, l[0] == 'Z' ? C_ISO_SHORT_TZ :
			    C_NUM_SHORT_TZ;
		break;
	case '.':
	case ',':
		if (l[1] == '0' || l[1] == '9') {
			for (j = 1; l[j] == l[1]; j++)
				;
			if (!(l[j] >= '0' && l[j] <= '9')) {
				*len = j;
				*digits = (int)j - 1;
				return l[1] == '0' ? C_FRAC0 : C_FRAC9;
			}
		}
		break;
	}
	return C_NONE;
}

/* Up to max digits (at least min); -1 if fewer. */
static int
num(const char **v, int min, int max, int *out)
{
	int n = 0, x = 0;

	while (n < max && (*v)[n] >= '0' && (*v)[n] <= '9')
		x = x * 10 + ((*v)[n++] - '0');
	if (n < min)
		return -1;
	*v += n;
	*out = x;
	return 0;
}

static int
name(const char **v, const char *const *names, int n, int shortlen)
{
	int i;
	size_t l;

	for (i = 0; i < n; i++) {
		l = shortlen ? (size_t)shortlen : strlen(names[i]);
		if (strncasecmp(*v, names[i], l) == 0) {
			*v += l;
			return i;
		}
	}
	return -1;
}

static int
zone(const char **v, enum chunk c, struct parsed *p)
{
	int h = 0, m = 0, s = 0, neg;

	p->haszone = 1;
	if ((c == C_ISO_TZ || c == C_ISO_COLON_TZ || c == C_ISO_SHORT_TZ) &&
	    **v == 'Z') {
		(*v)++;
		p->off = 0;
		return 0;
	}
	if (**v != '+' && **v != '-')
		return -1;
	neg = *(*v)++ == '-';
	if (num(v, 2, 2, &h) < 0)
		return -1;
	if (c == C_ISO_COLON_TZ || c == C_NUM_COLON_TZ) {
		if (*(*v)++ != ':' || num(v, 2, 2, &m) < 0)
			return -1;
	} else if (c == C_ISO_TZ || c == C_NUM_TZ) {
		if (num(v, 2, 2, &m) < 0)
			return -1;
	}
	if (h > 23 || m > 59)
		return -1;
	s = h * 3600 + m * 60;
	p->off = neg ? -s : s;
	return 0;
}

static int
frac(const char **v, int digits, int exact, struct parsed *p)
{
	const char *s = *v;
	int n = 0, ns = 0, i;

	if (*s != '.' && *s != ',')
		return exact ? -1 : 0;
	s++;
	while (s[n] >= '0' && s[n] <= '9' && (!exact || n < digits)) {
		if (n < 9)
			ns = ns * 10 + (s[n] - '0');
		n++;
	}
	if (n == 0 || (exact && n != digits))
		return -1;
	for (i = n; i < 9; i++)
		ns *= 10;
	*v = s + n;
	p->nsec = ns;
	return 0;
}

static int
element(const char **v, enum chunk c, int digits, struct parsed *p)
{
	int x, rc = 0;

	switch (c) {
	case C_LONGYEAR:
		if ((rc = num(v, 4, 4, &x)) == 0)
			p->year = x;
		break;
	case C_YEAR:
		if ((rc = num(v, 2, 2, &x)) == 0)
			p->year = x >= 69 ? 1900 + x : 2000 + x;
		break;
	case C_LONGMONTH:
	case C_MONTH:
		x = name(v, months, 12, c == C_MONTH ? 3 : 0);
		rc = x < 0 ? -1 : 0;
		p->mon = x + 1;
		break;
	case C_NUMMONTH:
	case C_ZEROMONTH:
		rc = num(v, c == C_ZEROMONTH ? 2 : 1, 2, &p->mon);
		break;
	case C_LONGWEEKDAY:
	case C_WEEKDAY:
		rc = name(v, days, 7, c == C_WEEKDAY ? 3 : 0) < 0 ? -1 : 0;
		break;
	case C_UNDERDAY:
		if (**v == ' ')
			(*v)++;
		/* FALLTHROUGH */
	case C_DAY:
	case C_ZERODAY:
		rc = num(v, c == C_ZERODAY ? 2 : 1, 2, &p->day);
		break;
	case C_YEARDAY:
		rc = num(v, 3, 3, &p->yday);
		break;
	case C_HOUR:
		rc = num(v, 1, 2, &p->hour);
		break;
	case C_HOUR12:
	case C_ZEROHOUR12:
		rc = num(v, c == C_ZEROHOUR12 ? 2 : 1, 2, &p->hour);
		rc = rc == 0 && (p->hour < 1 || p->hour > 12) ? -1 : rc;
		p->ampm = 1;
		break;
	case C_MINUTE:
	case C_ZEROMINUTE:
		rc = num(v, c == C_ZEROMINUTE ? 2 : 1, 2, &p->min);
		break;
	case C_SECOND:
	case C_ZEROSECOND:
		rc = num(v, c == C_ZEROSECOND ? 2 : 1, 2, &p->sec);
		/* Go reads a fraction after seconds even if not laid out. */
		if (rc == 0 && !p->nextfrac && **v == '.' &&
		    (*v)[1] >= '0' && (*v)[1] <= '9')
			rc = frac(v, 0, 0, p);
		break;
	case C_PM:
	case C_PMLOWER:
		if (strncasecmp(*v, "PM", 2) == 0)
			p->pm = 1;
		else if (strncasecmp(*v, "AM", 2) != 0)
			return -1;
		*v += 2;
		break;
	case C_TZ:
		/* Abbreviations other than UTC/GMT carry no offset we can
		 * know; Go treats them the same way. */
		for (x = 0; (*v)[x] >= 'A' && (*v)[x] <= 'Z'; x++)
			;
		if (x < 3 || x > 5)
			return -1;
		*v += x;
		p->haszone = 1;
		break;
	case C_FRAC0:
	case C_FRAC9:
		rc = frac(v, digits, c == C_FRAC0, p);
		break;
	default:
		rc = zone(v, c, p);
		break;
	}
	return rc;
}

/* Parses value against a Go layout; -1 if it does not match. */
static int
layout_parse(const char *l, const char *v, struct gtime *t)
{
	struct parsed p = { .year = 0, .mon = 1, .day = 1 };
	enum chunk c, n;
	size_t len, nlen;
	int digits = 0, nd;

	while (*l) {
		c = next_chunk(l, &len, &digits);
		if (c == C_SECOND || c == C_ZEROSECOND) {
			n = l[len] ? next_chunk(l + len, &nlen, &nd) : C_NONE;
			p.nextfrac = n == C_FRAC0 || n == C_FRAC9;
		}
		if (c == C_NONE) {
			if (*v != *l)
				return -1;
			v++;
			l++;
			continue;
		}
		if (element(&v, c, digits, &p) < 0)
			return -1;
		l += len;
	}
	if (*v)
		return -1;		/* extra text */
	if (p.ampm) {
		if (p.pm && p.hour < 12)
			p.hour += 12;
		else if (!p.pm && p.hour == 12)
			p.hour = 0;
	}
	if (p.yday) {
		if (p.yday > 365 + (time_days_in_month(p.year, 2) == 29))
			return -1;
		p.mon = 1;
		p.day = p.yday;
		while (p.day > time_days_in_month(p.year, p.mon))
			p.day -= time_days_in_month(p.year, p.mon++);
	}
	if (p.mon < 1 || p.mon > 12 || p.day < 1 ||
	    p.day > time_days_in_month(p.year, p.mon) || p.hour > 23 ||
	    p.min > 59 || p.sec > 59)
		return -1;
	t->sec = time_days_from_civil(p.year, p.mon, p.day) * 86400 +
	    p.hour * 3600 + p.min * 60 + p.sec - p.off;
	t->nsec = p.nsec;
	t->off = p.off;
	return 0;
}

#define RFC3339 "2006-01-02T15:04:05Z07:00"

static int
time_arg(struct jp_call *k, int i, const char *layout, struct gtime *t)
{
	if (layout_parse(layout, json_string_value(k->args[i]), t) == 0)
		return 0;
	return jp_call_fail(k, i, JP_ERR_VALUE, "\"%.40s\" is not a time "
	    "in the layout \"%.40s\"", json_string_value(k->args[i]), layout);
}

static int
dur_arg(struct jp_call *k, int i, int64_t *ns)
{
	if (duration_parsen_ns(json_string_value(k->args[i]),
	    json_string_length(k->args[i]), ns) == 0)
		return 0;
	return jp_call_fail(k, i, JP_ERR_VALUE, "\"%.40s\" is not a "
	    "duration", json_string_value(k->args[i]));
}

static json_t *
time_result(const struct gtime *t)
{
	char out[64];

	format_rfc3339(t, out, sizeof out);
	return json_string(out);
}

static void
now(struct jp_call *k, struct gtime *t)
{
	struct timespec ts;

	if (k->c->env && k->c->env->now) {
		t->sec = k->c->env->now / 1000;
		t->nsec = (int32_t)(k->c->env->now % 1000 * 1000000);
		if (t->nsec < 0) {
			t->sec--;
			t->nsec += (int32_t)NS;
		}
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		t->sec = ts.tv_sec;
		t->nsec = (int32_t)ts.tv_nsec;
	}
	t->off = 0;
}

/* b - a as a Go duration string. */
static json_t *
diff(struct jp_call *k, const struct gtime *a, const struct gtime *b)
{
	char out[48];
	double d = ((double)b->sec - (double)a->sec) * NS +
	    (b->nsec - a->nsec);

	if (!(d > -9.2e18 && d < 9.2e18)) {
		jp_call_fail(k, -1, JP_ERR_VALUE, "difference out of range");
		return NULL;
	}
	duration_format_ns((b->sec - a->sec) * NS + (b->nsec - a->nsec),
	    out, sizeof out);
	return json_string(out);
}

static int
before(const struct gtime *a, const struct gtime *b)
{
	return a->sec < b->sec || (a->sec == b->sec && a->nsec < b->nsec);
}

static json_t *
f_time_since(struct jp_call *k)
{
	const char *layout = json_string_value(k->args[0]);
	struct gtime a, b;

	if (*layout == '\0')
		layout = RFC3339;
	if (time_arg(k, 1, layout, &a) < 0)
		return NULL;
	if (json_string_length(k->args[2]) == 0)
		now(k, &b);
	else if (time_arg(k, 2, layout, &b) < 0)
		return NULL;
	return diff(k, &a, &b);
}

static json_t *
f_time_now(struct jp_call *k)
{
	struct gtime t;

	now(k, &t);
	return time_result(&t);
}

static json_t *
f_time_to_cron(struct jp_call *k)
{
	struct gtime t;
	struct time_civil c;
	char out[64];

	if (time_arg(k, 0, RFC3339, &t) < 0)
		return NULL;
	time_civil_from_secs(t.sec + t.off, &c);
	snprintf(out, sizeof out, "%d %d %d %d %d", c.min, c.hour, c.day,
	    c.mon, c.wday);
	return json_string(out);
}

static json_t *
f_time_add(struct jp_call *k)
{
	struct gtime t;
	int64_t ns;

	if (time_arg(k, 0, RFC3339, &t) < 0 || dur_arg(k, 1, &ns) < 0)
		return NULL;
	ns += t.nsec;
	t.sec += ns / NS;
	t.nsec = (int32_t)(ns % NS);
	if (t.nsec < 0) {
		t.sec--;
		t.nsec += (int32_t)NS;
	}
	return time_result(&t);
}

static json_t *
f_time_parse(struct jp_call *k)
{
	const char *layout = json_string_value(k->args[0]);
	long long epoch;
	struct gtime t;

	if (util_parse_int(layout, &epoch) == 0) {
		if (util_parse_int(json_string_value(k->args[1]), &epoch) < 0 ||
		    epoch > 253402300799LL || epoch < -62135596800LL) {
			jp_call_fail(k, 1, JP_ERR_VALUE, "\"%.40s\" is not "
			    "epoch seconds", json_string_value(k->args[1]));
			return NULL;
		}
		t.sec = epoch;
		t.nsec = 0;
		t.off = 0;
		return time_result(&t);
	}
	if (time_arg(k, 1, layout, &t) < 0)
		return NULL;
	return time_result(&t);
}

static json_t *
f_time_utc(struct jp_call *k)
{
	struct gtime t;

	if (time_arg(k, 0, RFC3339, &t) < 0)
		return NULL;
	t.off = 0;
	return time_result(&t);
}

static json_t *
f_time_diff(struct jp_call *k)
{
	struct gtime a, b;

	if (time_arg(k, 0, RFC3339, &a) < 0 || time_arg(k, 1, RFC3339, &b) < 0)
		return NULL;
	return diff(k, &a, &b);
}

static json_t *
f_time_before(struct jp_call *k)
{
	struct gtime a, b;

	if (time_arg(k, 0, RFC3339, &a) < 0 || time_arg(k, 1, RFC3339, &b) < 0)
		return NULL;
	return json_boolean(before(&a, &b));
}

static json_t *
f_time_after(struct jp_call *k)
{
	struct gtime a, b;

	if (time_arg(k, 0, RFC3339, &a) < 0 || time_arg(k, 1, RFC3339, &b) < 0)
		return NULL;
	return json_boolean(before(&b, &a));
}

static json_t *
f_time_between(struct jp_call *k)
{
	struct gtime t, a, b;

	if (time_arg(k, 0, RFC3339, &t) < 0 ||
	    time_arg(k, 1, RFC3339, &a) < 0 || time_arg(k, 2, RFC3339, &b) < 0)
		return NULL;
	return json_boolean(before(&a, &t) && before(&t, &b));
}

/* Go's Truncate: multiples of d since year 1, in absolute time. */
static json_t *
f_time_truncate(struct jp_call *k)
{
	const __int128 zero = (__int128)62135596800LL * NS;
	struct gtime t;
	int64_t d;
	__int128 abs;

	if (time_arg(k, 0, RFC3339, &t) < 0 || dur_arg(k, 1, &d) < 0)
		return NULL;
	if (d > 0) {
		abs = (__int128)t.sec * NS + t.nsec + zero;
		abs -= abs % d;
		abs -= zero;
		t.sec = (int64_t)(abs >= 0 ? abs / NS : (abs - NS + 1) / NS);
		t.nsec = (int32_t)(abs - (__int128)t.sec * NS);
	}
	return time_result(&t);
}

#define S1 { JT_STR }
#define S2 { JT_STR, JT_STR }
#define S3 { JT_STR, JT_STR, JT_STR }
static const struct jp_func ktime[] = {
	{ "time_since", 3, 3, S3, f_time_since, 0 },
	{ "time_now", 0, 0, { 0 }, f_time_now, 0 },
	{ "time_now_utc", 0, 0, { 0 }, f_time_now, 0 },
	{ "time_to_cron", 1, 1, S1, f_time_to_cron, 0 },
	{ "time_add", 2, 2, S2, f_time_add, 0 },
	{ "time_parse", 2, 2, S2, f_time_parse, 0 },
	{ "time_utc", 1, 1, S1, f_time_utc, 0 },
	{ "time_diff", 2, 2, S2, f_time_diff, 0 },
	{ "time_before", 2, 2, S2, f_time_before, 0 },
	{ "time_after", 2, 2, S2, f_time_after, 0 },
	{ "time_between", 3, 3, S3, f_time_between, 0 },
	{ "time_truncate", 2, 2, S2, f_time_truncate, 0 },
};

const struct jp_func *
jp_ktime_table(size_t *n)
{
	*n = UTIL_ARRAY_LEN(ktime);
	return ktime;
}
