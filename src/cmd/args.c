/*
 * Option scanning shared by the subcommands.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/args.h"
#include "util/util.h"

#define DAY (24LL * 3600 * 1000)

void
cmd_args_init(struct cmd_args *a, int argc, char **argv)
{
	a->argc = argc;
	a->argv = argv;
	a->i = 1;
	a->value = NULL;
	a->error = 0;
}

int
cmd_args_opt(struct cmd_args *a, const char *lng, const char *shrt,
    int takes_value)
{
	char *arg = a->argv[a->i];
	size_t n;

	a->value = NULL;
	if (lng && strncmp(arg, lng, (n = strlen(lng))) == 0 &&
	    (arg[n] == '\0' || (arg[n] == '=' && takes_value))) {
		if (!takes_value)
			return 1;
		if (arg[n] == '=') {
			a->value = arg + n + 1;
			return 1;
		}
	} else if (!(shrt && strcmp(arg, shrt) == 0))
		return 0;
	if (!takes_value)
		return 1;
	if (a->i + 1 >= a->argc) {
		fprintf(stderr, "remediate %s: %s needs a value\n", a->argv[0],
		    arg);
		a->error = 1;
		return 1;
	}
	a->value = a->argv[++a->i];
	return 1;
}

void
cmd_args_fail(struct cmd_args *a, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "remediate %s: ", a->argv[0]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	a->error = 1;
}

int
cmd_args_when(const char *s, int64_t now, int64_t *out)
{
	size_t n = strlen(s);
	long long days;
	int64_t ms;
	char *d;
	int rc;

	if (time_parse(s, out) == 0)
		return 0;
	if (n > 1 && s[n - 1] == 'd') {
		d = xstrndup(s, n - 1);
		rc = util_parse_int(d, &days);
		free(d);
		if (rc == -1 || days < 0 || days > 100000)
			return -1;
		*out = now - days * DAY;
		return 0;
	}
	if (duration_parse(s, &ms) == -1 || ms < 0)
		return -1;
	*out = now - ms;
	return 0;
}
