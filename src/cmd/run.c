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
#include "http/http.h"
#include "pool/pool.h"
#include "sqldb/sqldb.h"
#include "util/util.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: remediate run -c DIR [-c DIR]... [--kubeconfig F] "
	    "[--context C]\n"
	    "                     [--cluster-name NAME]\n"
	    "                     [--listen ADDR] [--state FILE|postgres://URL]"
	    "\n                     [--retain 30d,500000]\n"
	    "                     [--prometheus URL] [--alertmanager URL] "
	    "[--page-webhook URL]\n"
	    "                     [--secrets-dir DIR] [--tls-cert F "
	    "--tls-key F] [--queue-size N]\n"
	    "                     [--approval-key FILE] [--state-recover]\n"
	    "                     [--action-workers N] [--stall-after 30s]\n"
	    "                     [--leader-elect [--state-shared-storage] "
	    "[--lease-name N]\n"
	    "                      [--lease-namespace NS] [--lease-identity ID]"
	    "\n"
	    "                      [--lease-duration 15s] [--renew-deadline "
	    "10s]\n"
	    "                      [--retry-period 2s]]\n"
	    "Watches the cluster, runs every sensor, guardrail and policy, "
	    "executes\nactions.  Decision records go to the state file, then "
	    "stdout; logs (JSON\nlines) to stderr.  A webhook event is in the "
	    "state file before its 200;\nSIGTERM leaves the undecided ones "
	    "there for the next start.  The page\nwebhook's bearer token "
	    "comes from $REMEDIATE_PAGE_TOKEN.  Confirm mode's\n"
	    "approval links are served at /approve/ID and signed with\n"
	    "$REMEDIATE_APPROVAL_KEY, else --approval-key FILE, else "
	    "STATE.approval-key\n(generated).  Actions run on N workers "
	    "(default 4), one at a time per\ntarget; /readyz answers 503 "
	    "when the engine loop has not turned for\n--stall-after.\n"
	    "--state postgres://USER@HOST/DB keeps the state in PostgreSQL "
	    "instead of a\nSQLite file (the password from the URL, "
	    "$PGPASSWORD or ~/.pgpass); the\napproval key must then be "
	    "given (docs/state.md).\n"
	    "A damaged state file (PRAGMA quick_check fails, or a guard row "
	    "does not read)\nstops run; --state-recover moves a damaged file "
	    "aside (STATE.damaged-MS),\nstarts from a copy of what still "
	    "reads, and counts each unreadable guard\nrow as its most "
	    "restrictive value (docs/state.md).\n"
	    "SIGHUP or a change under a -c folder (a ConfigMap update too) "
	    "reloads the\nconfiguration in place; it replaces the running "
	    "one only if it checks clean,\nelse the errors are logged and "
	    "the running one keeps deciding.\n"
	    "With --leader-elect, replicas elect one leader on a "
	    "coordination.k8s.io/v1\nLease (default name remediate, in the "
	    "kubeconfig's namespace); only the\nleader decides, acts and "
	    "accepts webhooks, standbys keep their view warm\nand answer "
	    "/readyz 503.  The state must be shared: --state\n"
	    "postgres://..., or a state file on storage every replica mounts "
	    "(say so\nwith --state-shared-storage).  docs/ha.md has the "
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
	/* PostgreSQL is shared by every replica that reaches it */
	if (!o->state_shared && !sqldb_is_postgres(o->state)) {
		fprintf(stderr, "remediate run: --leader-elect with the local "
		    "state file %s: a standby that takes over would not see "
		    "the cooldowns, rate buckets, circuit and action intents "
		    "the old leader wrote there, and would act again.  Put "
		    "--state on storage every replica mounts (one volume "
		    "that follows the leader) and pass --state-shared-storage, "
		    "or use --state postgres://... (docs/ha.md).\n", o->state);
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


/*
 * A cluster name: short and plain, the same in every record and row;
 * kubeconfig names (gke_p_z_c, EKS ARNs) pass.
 */
static int
cluster_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 253 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-:/@") == n;
}

/*
 * What can be refused before anything starts: a usage error found after
 * the first watch would cost a cluster round trip and a state file.
 */
static void
check_flags(struct cmd_args *a, const struct daemon_opts *o)
{
	char *err = NULL;

	if (o->nconfig == 0)
		cmd_args_fail(a, "no manifests: -c DIR names them");
	else if (o->cluster_name && !cluster_name_ok(o->cluster_name))
		cmd_args_fail(a, "--cluster-name \"%s\": want 1 to 253 "
		    "letters, digits and . _ - : / @ (prod-eu-1, an EKS ARN)",
		    o->cluster_name);
	else if (http_listen_check(o->listen, &err) == -1)
		cmd_args_fail(a, "--listen: %s", err);
	else if (o->state_recover && sqldb_is_postgres(o->state))
		cmd_args_fail(a, "--state-recover is for a SQLite state file; "
		    "PostgreSQL recovers from crashes itself, and a damaged "
		    "database is restored from its backups (docs/state.md)");
	free(err);
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
		else if (cmd_args_opt(&a, "--cluster-name", NULL, 1))
			o.cluster_name = a.value;
		else if (cmd_args_opt(&a, "--listen", NULL, 1)) {
			if (a.value)
				o.listen = a.value;
		}
		else if (cmd_args_opt(&a, "--state", NULL, 1))
			o.state = a.value;
		else if (cmd_args_opt(&a, "--prometheus", NULL, 1))
			o.prometheus = a.value;
		else if (cmd_args_opt(&a, "--alertmanager", NULL, 1))
			o.alertmanager = a.value;
		else if (cmd_args_opt(&a, "--page-webhook", NULL, 1))
			o.page_webhook = a.value;
		else if (cmd_args_opt(&a, "--state-recover", NULL, 0))
			o.state_recover = 1;
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
		} else
			cmd_args_fail(&a, "unknown argument %s", argv[a.i]);
	}
	if (!a.error)
		check_flags(&a, &o);
	if (a.error) {
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
