/*
 * A small option scanner for the subcommands: long options with "=" or a
 * separate value ("--cluster DIR", "--cluster=DIR"), short ones ("-c DIR"),
 * and positional arguments, in any order.  getopt_long is GNU-only in the
 * parts we need (permutation), so we keep our own.
 */
#ifndef CMD_ARGS_H
#define CMD_ARGS_H

struct cmd_args {
	int	  argc;
	char	**argv;
	int	  i;		/* next argument */
	char	 *value;	/* the current option's value; borrowed */
	int	  error;	/* a usage error was printed */
};

void	cmd_args_init(struct cmd_args *, int argc, char **argv);
/*
 * Does the current argument match the option (long "--name" and/or short
 * "-x"; either may be NULL)?  With takes_value, sets a->value from
 * "--name=V" or the next argument, printing a usage error if missing.
 */
int	cmd_args_opt(struct cmd_args *, const char *lng, const char *shrt,
	    int takes_value);
/*
 * A usage error: prints "remediate COMMAND: " and the message on stderr
 * and marks a->error; the caller then prints its usage and returns
 * CMD_USAGE, so every command says what is wrong before how to use it.
 */
void	cmd_args_fail(struct cmd_args *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif /* CMD_ARGS_H */
