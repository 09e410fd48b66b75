/*
 * remediate check: load every manifest through the one real loader and
 * compile it as the daemon would, so what check accepts, run accepts.
 * Diagnostics go to stderr as file:line:col; one summary line per
 * manifest goes to stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/args.h"
#include "cmd/cmd.h"
#include "conf/conf.h"
#include "engine/engine.h"
#include "notify/notify.h"
#include "schedule/schedule.h"
#include "webhook/webhook.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: remediate check [-c DIR|FILE]... [DIR|FILE]...\n"
	    "Loads every *.yaml, *.yml and *.json below each path, reports\n"
	    "every problem as file:line:col: error: message (exit 1), or\n"
	    "prints one summary line per manifest (exit 0).\n");
}

/*
 * What the daemon compiles beside the engine (webhooks, calendars,
 * prometheus sources, owners and notification destinations) compiles here
 * as `run` will compile it, secrets aside: check may run where the
 * secrets are not mounted.
 */
static void
check_served_sources(const struct conf *c, struct diags *dg)
{
	struct hook_set *hooks = hook_set_new();
	struct sched_set *timed = sched_set_new();
	struct hook_set_opts ho;
	struct sched_opts so;
	size_t i;

	memset(&ho, 0, sizeof ho);
	memset(&so, 0, sizeof so);
	/* run may be given --prometheus; it refuses to start without one */
	so.prometheus_url = "http://prometheus-from-run.invalid";
	for (i = 0; i < c->nby_kind[CONF_EVENTSOURCE]; i++) {
		hook_set_add(hooks, c->by_kind[CONF_EVENTSOURCE][i], &ho, dg);
		sched_set_add(timed, c->by_kind[CONF_EVENTSOURCE][i], &so, dg);
	}
	hook_set_free(hooks);
	sched_set_free(timed);
	/* owners and destinations, without reading secrets that may be
	   mounted only where run runs */
	notify_config_free(notify_config_new(c, NULL, 0, dg));
}

static void
print_summary(const struct conf *c, const struct engine *e)
{
	size_t i;

	for (i = 0; i < c->ndocs; i++) {
		const struct mdoc *d = c->docs[i];
		char ident[256], *what = e ? engine_describe(e, d) : NULL;

		mdoc_ident(d, ident, sizeof ident);
		printf("%s: %s %s%s%s\n", d->file, d->kind ? d->kind : "?",
		    ident, what ? ": " : "", what ? what : "");
		free(what);
	}
}

int
cmd_check(int argc, char **argv)
{
	struct cmd_args a;
	const char **paths = calloc((size_t)argc, sizeof *paths);
	size_t npaths = 0;
	struct diags dg;
	struct conf *c;
	struct engine *e = NULL;
	int rc;

	if (paths == NULL)
		return CMD_FAILED;
	cmd_args_init(&a, argc, argv);
	for (; a.i < argc && !a.error; a.i++) {
		if (cmd_args_opt(&a, "--help", "-h", 0)) {
			usage(stdout);
			free(paths);
			return CMD_OK;
		} else if (cmd_args_opt(&a, "--config", "-c", 1)) {
			if (a.value)
				paths[npaths++] = a.value;
		} else if (!cmd_args_not_operand(&a))
			paths[npaths++] = argv[a.i];
	}
	if (!a.error && npaths == 0)
		cmd_args_fail(&a, "nothing to check: name a folder or file of "
		    "manifests (-c DIR)");
	if (a.error) {
		usage(stderr);
		free(paths);
		return CMD_USAGE;
	}
	diag_init(&dg);
	c = conf_load(paths, npaths, &dg);
	if (dg.errors == 0) {
		e = engine_compile(c, &dg);
		check_served_sources(c, &dg);
	}
	diag_print(&dg, stderr);
	print_summary(c, e);
	printf("%zu manifest%s, %zu error%s, %zu warning%s\n", c->ndocs,
	    c->ndocs == 1 ? "" : "s", dg.errors, dg.errors == 1 ? "" : "s",
	    dg.warnings, dg.warnings == 1 ? "" : "s");
	rc = dg.errors ? CMD_FAILED : CMD_OK;
	engine_free(e);
	conf_free(c);
	diag_free(&dg);
	free(paths);
	return rc;
}
