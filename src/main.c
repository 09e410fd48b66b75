/*
 * remediate: auto-remediation for Kubernetes in one process.
 * This file only dispatches to the subcommands in src/cmd/.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"

static const struct {
	const char	*name;
	int		 (*fn)(int, char **);
	const char	*summary;
} commands[] = {
	{ "check", cmd_check,
	    "check -c DIR|FILE...   load and validate every manifest" },
	{ "run", cmd_run,
	    "run -c DIR [--kubeconfig F] [--context C] [--listen ADDR]\n"
	    "         [--state FILE]  the daemon: watch, decide, act" },
	{ "replay", cmd_replay,
	    "replay -c DIR [--cluster DIR] [--prometheus-recording FILE]\n"
	    "         [--table] SIGNALS.ndjson\n"
	    "                         feed recorded signals through the whole\n"
	    "                         pipeline offline; print decision records" },
	{ "test", cmd_test,
	    "test [--junit FILE] [-v] [DIR|FILE]...\n"
	    "                         run test files: Kyverno's\n"
	    "                         kyverno-test.yaml, and remediate-test.yaml\n"
	    "                         (manifests, cluster, signals, expected\n"
	    "                         decisions) through the whole pipeline" },
	{ "diff", cmd_diff,
	    "diff --from DIR [--to DIR] --state FILE [--since 7d] [--json]\n"
	    "                         replay the recorded signals through "
	    "two\n"
	    "                         configurations; print the decisions "
	    "that change" },
	{ "jp", cmd_jp,
	    "jp [-u] [-f FILE] [-e FILE] EXPRESSION\n"
	    "                         evaluate JMESPath (with Kyverno's "
	    "functions)" },
	{ "bump-memory", cmd_bump_memory,
	    "bump-memory --pod P --namespace N [--container C] [--increment "
	    "25%]\n"
	    "         [--cap 8Gi] [--dry-run[=true|false|server]]\n"
	    "                         raise an OOMKilled container's memory "
	    "in its\n"
	    "                         controller's pod template" },
	{ "history", cmd_history,
	    "history [--state FILE] [--since 1h] [--sensor S] [--json]\n"
	    "         [--summary]     read the audit log: decisions, or per\n"
	    "                         trigger actions, suppressions and\n"
	    "                         recurrence" },
	{ "approve", cmd_approve,
	    "approve [--state FILE] [--url BASE] ID|LINK | --list\n"
	    "                         approve a pending remediation through "
	    "the\n"
	    "                         daemon, which re-checks every "
	    "guardrail" },
	{ "rbac", cmd_rbac,
	    "rbac -c DIR [--name NAME] [--service-account NS/NAME]\n"
	    "                         print the least-privilege ClusterRole, "
	    "Roles and\n"
	    "                         bindings this configuration needs" },
	{ "version", cmd_version,
	    "version                 version and build options" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: remediate COMMAND [OPTIONS]\n\n"
	    "Auto-remediation for Kubernetes: Argo Events sensors, Kyverno "
	    "policies and\nfirst-class guardrails in one process.\n\n"
	    "commands:\n");
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %s\n", commands[i].summary);
	fprintf(f, "\nRun 'remediate COMMAND --help' for a command's options."
	    "  Exit status: 0 success,\n1 the operation failed, 2 usage or "
	    "syntax error.  Docs: docs/ and README.md.\n");
}

int
main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return CMD_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return CMD_OK;
	}
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(1, argv + 1);
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "remediate: unknown command \"%s\"\n\n", argv[1]);
	usage(stderr);
	return CMD_USAGE;
}
