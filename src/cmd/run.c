/*
 * remediate run: the daemon.  Option parsing only; src/daemon/ runs it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/args.h"
#include "cmd/cmd.h"
#include "daemon/daemon.h"
#include "lease/lease.h"
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
	    "                     [--approval-key FILE]\n"
	    "                     [--leader-elect --state-shared-storage "
	    "[--lease-name N]\n"
	    "                      [--lease-namespace NS] [--lease-identity ID]"
	    "\n"
	    "                      [--lease-duration 15s] [--renew-deadline "
	    "10s]\n"
	    "                      [--retry-period 2s]]\n"
	    "Watches the cluster, runs every sensor, guardrail and policy, "
	    "executes\nactions.  Decision records go to stdout and the state "
	    "file, logs (JSON\nlines) to stderr.  The page webhook's bearer "
	    "token comes from\n$REMEDIATE_PAGE_TOKEN.  Confirm mode's "
	    "approval links are served at\n/approve/ID and signed with "
	    "$REMEDIATE_APPROVAL_KEY, else --approval-key FILE,\nelse "
	    "STATE.approval-key (generated).\n"
	    "SIGHUP or a change under a -c folder reloads the configuration; "
	    "it replaces\nthe running one only if it checks clean.\n"
	    "With --leader-elect, replicas elect one leader on a "
	    "coordination.k8s.io/v1\nLease (default name remediate, in the "
	    "kubeconfig's namespace); only the\nleader decides and acts, "
	    "standbys keep their view warm and answer /readyz\n503.  The "
	    "state must be shared: --state-shared-storage says the state "
	    "file\nis on storage every replica mounts.  docs/ha.md has the "
	    "details.\n");
}

/* A Go duration option in ms: 0, or -1 with a message. */
static int
duration_opt(const char *opt, const char *v, int64_t *ms)
{
	if (v == NULL)
		return 0;
	if (duration_parse(v, ms) == -1 || *ms <= 0) {
		fprintf(stderr, "remediate run: %s: not a positive duration: "
		    "%s (e.g. 15s, 500ms)\n", opt, v);
		return -1;
	}
	return 0;
}

/*
 * Leader election hands the decisions to another process at a takeover:
 * that process must see the guard state (cooldowns, rate buckets, the
 * circuit, intents) the last leader wrote, or it repeats actions.
 */
static int
check_election(const struct daemon_opts *o)
{
	struct lease_timing t;
	char *err = NULL;

	if (!o->leader_elect) {
		if (o->lease_name || o->lease_namespace || o->lease_identity ||
		    o->lease_duration || o->renew_deadline || o->retry_period) {
			fprintf(stderr, "remediate run: the --lease-* options "
			    "need --leader-elect\n");
			return -1;
		}
		return 0;
	}
	if (!o->state_shared) {
		fprintf(stderr, "remediate run: --leader-elect with the local "
		    "state file %s: a standby that takes over would not see "
		    "the cooldowns, rate buckets, circuit and action intents "
		    "the old leader wrote there, and would act again.  Put "
		    "--state on storage every replica mounts (one volume "
		    "that follows the leader) and pass --state-shared-storage "
		    "(docs/ha.md).\n", o->state);
		return -1;
	}
	lease_timing_defaults(&t);
	if (o->lease_duration)
		t.duration = o->lease_duration;
	if (o->renew_deadline)
		t.renew_deadline = o->renew_deadline;
	if (o->retry_period)
		t.retry_period = o->retry_period;
	if (lease_timing_check(&t, &err) == -1) {
		fprintf(stderr, "remediate run: %s\n", err);
		free(err);
		return -1;
	}
	return 0;
}

int
cmd_run(int argc, char **argv)
{
	struct cmd_args a;
	struct daemon_opts o;
	long long n;
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
		else if (cmd_args_opt(&a, "--leader-elect", NULL, 0))
			o.leader_elect = 1;
		else if (cmd_args_opt(&a, "--state-shared-storage", NULL, 0))
			o.state_shared = 1;
		else if (cmd_args_opt(&a, "--lease-name", NULL, 1))
			o.lease_name = a.value;
		else if (cmd_args_opt(&a, "--lease-namespace", NULL, 1))
			o.lease_namespace = a.value;
		else if (cmd_args_opt(&a, "--lease-identity", NULL, 1))
			o.lease_identity = a.value;
		else if (cmd_args_opt(&a, "--lease-duration", NULL, 1))
			a.error = duration_opt("--lease-duration", a.value,
			    &o.lease_duration) != 0;
		else if (cmd_args_opt(&a, "--renew-deadline", NULL, 1))
			a.error = duration_opt("--renew-deadline", a.value,
			    &o.renew_deadline) != 0;
		else if (cmd_args_opt(&a, "--retry-period", NULL, 1))
			a.error = duration_opt("--retry-period", a.value,
			    &o.retry_period) != 0;
		else if (cmd_args_opt(&a, "--queue-size", NULL, 1)) {
			if (a.value && (util_parse_int(a.value, &n) == -1 ||
			    n < 1 || n > 10000000)) {
				fprintf(stderr, "remediate run: --queue-size "
				    "must be from 1 to 10000000\n");
				a.error = 1;
			} else if (a.value)
				o.queue_size = (size_t)n;
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
	if (check_election(&o) == -1) {
		free(o.config);
		return CMD_USAGE;
	}
	rc = daemon_run(&o);
	free(o.config);
	return rc;
}
