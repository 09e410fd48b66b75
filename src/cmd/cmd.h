/*
 * cmd: the subcommands of remediate.  Each takes argc/argv starting at the
 * subcommand's own name (argv[0] == "check") and returns the exit status:
 * 0 success, 1 the operation failed, 2 usage or syntax error.
 */
#ifndef CMD_H
#define CMD_H

#define CMD_OK		0
#define CMD_FAILED	1
#define CMD_USAGE	2

int	cmd_check(int argc, char **argv);
int	cmd_replay(int argc, char **argv);
int	cmd_run(int argc, char **argv);
int	cmd_history(int argc, char **argv);
int	cmd_jp(int argc, char **argv);
int	cmd_version(int argc, char **argv);
int	cmd_bump_memory(int argc, char **argv);
int	cmd_approve(int argc, char **argv);
int	cmd_test(int argc, char **argv);
int	cmd_rbac(int argc, char **argv);

#endif /* CMD_H */
