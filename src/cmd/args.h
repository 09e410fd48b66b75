/*
 * A small option scanner for the subcommands: long options with "=" or a
 * separate value ("--cluster DIR", "--cluster=DIR"), short ones ("-c DIR"),
 * and positional arguments, in any order; "--" ends the options.  getopt_long is GNU-only in the
 * parts we need (permutation), so we keep our own.
 */
#ifndef CMD_ARGS_H
#define CMD_ARGS_H

#include <stdint.h>

struct cmd_args {
	int	  argc;
	char	**argv;
	int	  i;		/* next argument */
	char	 *value;	/* the current option's value; borrowed */
	int	  error;	/* a usage error was printed */
	int	  operands;	/* past "--": the rest are operands */
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
 * For the argument no cmd_args_opt took: is it something other than an
 * operand?  "--" is (it is taken: every argument after it is an operand,
 * so a file named "-x" can be checked), and so is any other argument
 * starting with "-", reported as an unknown option.  "-" alone (stdin) is
 * an operand.  Returns 1 for those two, 0 for an operand.
 */
int	cmd_args_not_operand(struct cmd_args *);
/*
 * A usage error: prints "remediate COMMAND: " and the message on stderr
 * and marks a->error; the caller then prints its usage and returns
 * CMD_USAGE, so every command says what is wrong before how to use it.
 */
void	cmd_args_fail(struct cmd_args *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * A time for --since/--until: "90m", "2h", "7d" before now (ms), or an
 * RFC 3339 time.  Returns 0 with *out (ms), or -1 if neither.
 */
int	cmd_args_when(const char *s, int64_t now, int64_t *out);

#endif /* CMD_ARGS_H */
