/*
 * remediate bump-memory: the seed article's remediation container, done
 * right.  Finds the OOMKilled container of a pod, its controller
 * (Deployment, StatefulSet, DaemonSet), raises the memory request and
 * limit by the increment under the cap, and applies one strategic-merge
 * patch to the controller's pod template (kube_bump_run does the work).
 *
 *	remediate bump-memory --pod P --namespace N [--container C]
 *	    [--increment 25%] [--cap 8Gi] [--dry-run[=true|false|server]]
 *	    [--kubeconfig F] [--context C]
 *
 * Exit status: 0 patched (or a dry run that would patch); 1 refused (not
 * opted in, at the cap, a bare Pod or a Job) or failed; 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/args.h"
#include "cmd/cmd.h"
#include "kube/kube.h"
#include "util/util.h"

#define DEFAULT_INCREMENT	"25%"
#define DEFAULT_CAP		"8Gi"

static void
usage(FILE *f)
{
	fprintf(f, "usage: remediate bump-memory --pod P --namespace N "
	    "[--container C]\n"
	    "           [--increment 25%%] [--cap 8Gi] "
	    "[--dry-run[=true|false|server]]\n"
	    "           [--kubeconfig FILE] [--context NAME]\n"
	    "  --pod, -p P        the pod that was OOMKilled\n"
	    "  --namespace, -n N  its namespace (default: the context's)\n"
	    "  --container, -c C  the container (default: the OOMKilled one,\n"
	    "                     or the only one)\n"
	    "  --increment I      a percentage (25%%) or a quantity (256Mi)\n"
	    "  --cap Q            never raise the request or limit above Q\n"
	    "                     (default %s)\n"
	    "  --dry-run[=V]      true: print the patch, send nothing;\n"
	    "                     server: send it with dryRun=All; false: "
	    "patch\n", DEFAULT_CAP);
}

struct opts {
	const char		*pod, *ns, *container, *increment, *cap;
	const char		*kubeconfig, *context;
	enum kube_dry_run	 dry_run;
};

static int
parse_dry_run(const char *v, enum kube_dry_run *d)
{
	if (v == NULL || strcmp(v, "true") == 0 || strcmp(v, "client") == 0)
		*d = KUBE_DRY_RUN_CLIENT;
	else if (strcmp(v, "false") == 0 || strcmp(v, "none") == 0)
		*d = KUBE_DRY_RUN_NONE;
	else if (strcmp(v, "server") == 0)
		*d = KUBE_DRY_RUN_SERVER;
	else
		return -1;
	return 0;
}

/* 0 parsed, 1 --help, 2 usage error (printed). */
static int
parse(int argc, char **argv, struct opts *o)
{
	struct cmd_args a;

	memset(o, 0, sizeof *o);
	o->increment = DEFAULT_INCREMENT;
	o->cap = DEFAULT_CAP;
	cmd_args_init(&a, argc, argv);
	for (; a.i < argc && !a.error; a.i++) {
		if (cmd_args_opt(&a, "--help", "-h", 0))
			return 1;
		else if (cmd_args_opt(&a, "--pod", "-p", 1))
			o->pod = a.value;
		else if (cmd_args_opt(&a, "--namespace", "-n", 1))
			o->ns = a.value;
		else if (cmd_args_opt(&a, "--container", "-c", 1))
			o->container = a.value;
		else if (cmd_args_opt(&a, "--increment", NULL, 1))
			o->increment = a.value;
		else if (cmd_args_opt(&a, "--cap", NULL, 1))
			o->cap = a.value;
		else if (cmd_args_opt(&a, "--kubeconfig", NULL, 1))
			o->kubeconfig = a.value;
		else if (cmd_args_opt(&a, "--context", NULL, 1))
			o->context = a.value;
		else if (strncmp(argv[a.i], "--dry-run", 9) == 0 &&
		    (argv[a.i][9] == '\0' || argv[a.i][9] == '=')) {
			if (parse_dry_run(argv[a.i][9] ? argv[a.i] + 10 : NULL,
			    &o->dry_run) < 0) {
				fprintf(stderr, "remediate bump-memory: "
				    "--dry-run takes true, false or server, "
				    "not \"%s\"\n", argv[a.i] + 10);
				return 2;
			}
		} else {
			fprintf(stderr, "remediate bump-memory: unknown "
			    "argument \"%s\"\n", argv[a.i]);
			usage(stderr);
			return 2;
		}
	}
	if (a.error)
		return 2;
	if (o->pod == NULL || *o->pod == '\0') {
		fprintf(stderr, "remediate bump-memory: --pod is required\n");
		usage(stderr);
		return 2;
	}
	return 0;
}

static void
print_outcome(const struct opts *o, const struct kube_bump_outcome *out)
{
	const struct kube_bump_result *r = &out->result;
	char *s;

	if (out->target)
		printf("target: %s %s/%s container %s%s\n",
		    json_string_value(json_object_get(out->target, "kind")),
		    json_string_value(json_object_get(out->target,
		    "namespace")), json_string_value(json_object_get(
		    out->target, "name")), out->container,
		    out->init ? " (init)" : "");
	printf("memory request: %s -> %s%s\n", r->request_old[0] ?
	    r->request_old : "(none)", r->request_new, r->capped ?
	    " (capped)" : "");
	if (r->limit_old[0])
		printf("memory limit:   %s%s -> %s\n", r->limit_old,
		    r->limit_from_pod ? KUBE_BUMP_FROM_POD : "",
		    r->limit_new);
	else
		printf("memory limit:   (none, unchanged)\n");
	if (out->patch && o->dry_run != KUBE_DRY_RUN_NONE) {
		printf("PATCH %s%s (application/strategic-merge-patch+json)\n",
		    out->path ? out->path : "?", o->dry_run ==
		    KUBE_DRY_RUN_SERVER ? "?dryRun=All" : "");
		s = json_dumps(out->patch, JSON_INDENT(2));
		printf("%s\n", s);
		free(s);
	}
	if (out->status == KUBE_BUMP_DRY_RUN)
		printf("dry run: nothing sent\n");
	else if (o->dry_run == KUBE_DRY_RUN_SERVER)
		printf("server dry run: accepted (dryRun=All), nothing "
		    "changed\n");
	else
		printf("%s\n", out->message);
}

int
cmd_bump_memory(int argc, char **argv)
{
	struct opts o;
	struct kube_bump_req rq;
	struct kube_bump_outcome out;
	struct kube_config cfg;
	struct kube_client *c;
	char *err = NULL;
	int rc;

	if ((rc = parse(argc, argv, &o)) != 0) {
		if (rc == 1)
			usage(stdout);
		return rc == 1 ? CMD_OK : CMD_USAGE;
	}
	memset(&rq, 0, sizeof rq);
	if (kube_bump_parse_increment(o.increment, &rq.opts) < 0) {
		fprintf(stderr, "remediate bump-memory: --increment \"%s\" is "
		    "neither a percentage (25%%) nor a quantity (256Mi)\n",
		    o.increment);
		return CMD_USAGE;
	}
	if (quantity_parse(o.cap, &rq.opts.cap) < 0 ||
	    quantity_is_zero(&rq.opts.cap) || rq.opts.cap.mant < 0) {
		fprintf(stderr, "remediate bump-memory: --cap \"%s\" is not a "
		    "positive quantity (8Gi)\n", o.cap);
		return CMD_USAGE;
	}
	rq.opts.has_cap = 1;
	if (kube_config_load(o.kubeconfig, o.context, &cfg, &err) < 0) {
		fprintf(stderr, "remediate bump-memory: %s\n", err);
		free(err);
		return CMD_FAILED;
	}
	c = kube_client_new(&cfg, &err);
	if (c == NULL) {
		fprintf(stderr, "remediate bump-memory: %s\n", err);
		free(err);
		kube_config_clear(&cfg);
		return CMD_FAILED;
	}
	rq.namespace = o.ns ? o.ns : cfg.namespace;
	rq.pod = o.pod;
	rq.container = o.container;
	rq.dry_run = o.dry_run;
	rq.record_event = 1;
	rc = kube_bump_run(c, &rq, &out);
	if (out.status == KUBE_BUMP_PATCHED ||
	    out.status == KUBE_BUMP_DRY_RUN)
		print_outcome(&o, &out);
	else
		fprintf(stderr, "remediate bump-memory: %s%s\n",
		    out.status == KUBE_BUMP_REFUSED ? "refused: " : "",
		    out.message);
	kube_bump_outcome_clear(&out);
	kube_client_free(c);
	kube_config_clear(&cfg);
	return rc == 0 ? CMD_OK : CMD_FAILED;
}
