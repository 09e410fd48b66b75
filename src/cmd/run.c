/*
 * remediate run: the daemon.  Option parsing only; src/daemon/ runs it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/args.h"
#include "cmd/cmd.h"
#include "daemon/daemon.h"
#include "pool/pool.h"
#include "util/util.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: remediate run -c DIR [-c DIR]... [--kubeconfig F] "
	    "[--context C]\n"
	    "                     [--listen ADDR] [--state FILE] "
	    "[--retain 30d,500000]\n"
	    "                     [--prometheus URL] [--alertmanager URL] "
	    "[--page-webhook URL]\n"
	    "                     [--secrets-dir DIR] [--tls-cert F "
	    "--tls-key F] [--queue-size N]\n"
	    "                     [--approval-key FILE] [--action-workers N] "
	    "[--stall-after 30s]\n"
	    "Watches the cluster, runs every sensor, guardrail and policy, "
	    "executes\nactions.  Decision records go to stdout and the state "
	    "file, logs (JSON\nlines) to stderr.  The page webhook's bearer "
	    "token comes from\n$REMEDIATE_PAGE_TOKEN.  Confirm mode's "
	    "approval links are served at\n/approve/ID and signed with "
	    "$REMEDIATE_APPROVAL_KEY, else --approval-key FILE,\nelse "
	    "STATE.approval-key (generated).  Actions run on N workers "
	    "(default 4), one\nat a time per target; /readyz answers 503 "
	    "when the engine loop has not\nturned for --stall-after.\n");
}

int
cmd_run(int argc, char **argv)
{
	struct cmd_args a;
	struct daemon_opts o;
	long long n;
	int64_t ms;
	int rc;

	memset(&o, 0, sizeof o);
	o.config = calloc((size_t)argc, sizeof *o.config);
	if (o.config == NULL)
		return CMD_FAILED;
	o.listen = "127.0.0.1:8080";
	o.state = "remediate-state.db";
	cmd_args_init(&a, argc, argv);
	for (; a.i < argc && !a.error; a.i++) {
		if (cmd_args_opt(&a, "--help", "-h", 0)) {
			usage(stdout);
			free(o.config);
			return CMD_OK;
		} else if (cmd_args_opt(&a, "--config", "-c", 1)) {
			if (a.value)
				o.config[o.nconfig++] = a.value;
		} else if (cmd_args_opt(&a, "--kubeconfig", NULL, 1))
			o.kubeconfig = a.value;
		else if (cmd_args_opt(&a, "--context", NULL, 1))
			o.context = a.value;
		else if (cmd_args_opt(&a, "--listen", NULL, 1))
			o.listen = a.value;
		else if (cmd_args_opt(&a, "--state", NULL, 1))
			o.state = a.value;
		else if (cmd_args_opt(&a, "--prometheus", NULL, 1))
			o.prometheus = a.value;
		else if (cmd_args_opt(&a, "--alertmanager", NULL, 1))
			o.alertmanager = a.value;
		else if (cmd_args_opt(&a, "--page-webhook", NULL, 1))
			o.page_webhook = a.value;
		else if (cmd_args_opt(&a, "--retain", NULL, 1))
			o.retain = a.value;
		else if (cmd_args_opt(&a, "--secrets-dir", NULL, 1))
			o.secrets_dir = a.value;
		else if (cmd_args_opt(&a, "--tls-cert", NULL, 1))
			o.tls_cert = a.value;
		else if (cmd_args_opt(&a, "--tls-key", NULL, 1))
			o.tls_key = a.value;
		else if (cmd_args_opt(&a, "--approval-key", NULL, 1))
			o.approval_key = a.value;
		else if (cmd_args_opt(&a, "--queue-size", NULL, 1)) {
			if (a.value && (util_parse_int(a.value, &n) == -1 ||
			    n < 1 || n > 10000000)) {
				fprintf(stderr, "remediate run: --queue-size "
				    "must be from 1 to 10000000\n");
				a.error = 1;
			} else if (a.value)
				o.queue_size = (size_t)n;
		} else if (cmd_args_opt(&a, "--action-workers", NULL, 1)) {
			if (a.value && (util_parse_int(a.value, &n) == -1 ||
			    n < 1 || n > POOL_MAX_WORKERS)) {
				fprintf(stderr, "remediate run: --action-workers "
				    "must be from 1 to %d\n", POOL_MAX_WORKERS);
				a.error = 1;
			} else if (a.value)
				o.action_workers = (size_t)n;
		} else if (cmd_args_opt(&a, "--stall-after", NULL, 1)) {
			if (a.value && (duration_parse(a.value, &ms) == -1 ||
			    ms < 1000)) {
				fprintf(stderr, "remediate run: --stall-after "
				    "must be a duration of at least 1s\n");
				a.error = 1;
			} else if (a.value)
				o.stall_after = ms;
		} else {
			fprintf(stderr, "remediate run: unknown argument %s\n",
			    argv[a.i]);
			a.error = 1;
		}
	}
	if (a.error || o.nconfig == 0) {
		usage(stderr);
		free(o.config);
		return CMD_USAGE;
	}
	rc = daemon_run(&o);
	free(o.config);
	return rc;
}
