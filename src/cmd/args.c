/*
 * Option scanning shared by the subcommands.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/args.h"
#include "util/util.h"

void
cmd_args_init(struct cmd_args *a, int argc, char **argv)
{
	a->argc = argc;
	a->argv = argv;
	a->i = 1;
	a->value = NULL;
	a->error = 0;
	a->operands = 0;
}

int
cmd_args_opt(struct cmd_args *a, const char *lng, const char *shrt,
    int takes_value)
{
	char *arg = a->argv[a->i];
	size_t n;

	a->value = NULL;
	if (a->operands)
		return 0;
	if (lng && strncmp(arg, lng, (n = strlen(lng))) == 0 &&
	    (arg[n] == '\0' || (arg[n] == '=' && takes_value))) {
		if (!takes_value)
			return 1;
		if (arg[n] == '=') {
			a->value = arg + n + 1;
			goto check;
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
check:
	/* no option means anything by "": --name= is a slip, said so */
	if (*a->value == '\0') {
		fprintf(stderr, "remediate %s: %.*s needs a value, not an "
		    "empty one\n", a->argv[0], (int)strcspn(arg, "="), arg);
		a->value = NULL;
		a->error = 1;
	}
	return 1;
}

int
cmd_args_not_operand(struct cmd_args *a)
{
	const char *arg = a->argv[a->i];

	if (a->operands || arg[0] != '-' || arg[1] == '\0')
		return 0;
	if (strcmp(arg, "--") == 0)
		a->operands = 1;
	else
		cmd_args_fail(a, "unknown option %s", arg);
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
	int64_t ms;

	if (time_parse(s, out) == 0)
		return 0;
	if (duration_parse_age(s, &ms) == -1)
		return -1;
	*out = now - ms;
	return 0;
}
