/*
 * remediate approve: approve a pending remediation from a shell.
 *
 *	remediate approve [--state FILE] [--approval-key FILE] [--url BASE]
 *	    [--json] ID|LINK
 *	remediate approve --list [--all] [--state FILE] [--json]
 *
 * It does exactly what the link in the notification does, through the
 * same door: it POSTs the approval to the running daemon (`remediate
 * run`), which re-checks every guardrail against the world as it is now
 * and acts or not.  Approving offline would bypass the daemon's guard
 * state (cooldowns, the circuit, rate buckets: one owner), so it is not
 * offered.  Being able to read the state file and the approval key is
 * what entitles a shell user to approve an ID; a LINK carries its own
 * signature and address and needs neither.
 *
 * Exit status: 0 approved and acted; 1 approved but not acted
 * (suppressed or failed) or its outcome not known yet (its record not
 * stored), or refused (unknown, expired, used, bad signature), or the
 * daemon could not be reached; 2 usage.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "approve/approve.h"
#include "cmd/args.h"
#include "cmd/cmd.h"
#include "util/util.h"

#define DEFAULT_STATE	"remediate-state.db"
#define TIMEOUT_MS	120000	/* an approved action may take a while */

struct opts {
	const char	*state, *key_file, *url, *what;
	int		 list, all, json;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: remediate approve [--state FILE] [--approval-key "
	    "FILE] [--url BASE]\n"
	    "                         [--json] ID|LINK\n"
	    "       remediate approve --list [--all] [--state FILE] [--json]\n"
	    "Approves a pending remediation through the running daemon, "
	    "which re-checks\nevery guardrail first.  ID is from the decision "
	    "record or the notification;\nLINK is the notification's link.  "
	    "--url is the daemon's address\n(http://HOST:PORT) when the state "
	    "file does not know it.\n");
}

/* 0 parsed, 1 --help, 2 usage error (printed). */
static int
parse(int argc, char **argv, struct opts *o)
{
	struct cmd_args a;

	memset(o, 0, sizeof *o);
	o->state = DEFAULT_STATE;
	cmd_args_init(&a, argc, argv);
	for (; a.i < argc && !a.error; a.i++) {
		if (cmd_args_opt(&a, "--help", "-h", 0))
			return 1;
		else if (cmd_args_opt(&a, "--state", NULL, 1))
			o->state = a.value;
		else if (cmd_args_opt(&a, "--approval-key", NULL, 1))
			o->key_file = a.value;
		else if (cmd_args_opt(&a, "--url", NULL, 1))
			o->url = a.value;
		else if (cmd_args_opt(&a, "--list", NULL, 0))
			o->list = 1;
		else if (cmd_args_opt(&a, "--all", NULL, 0))
			o->all = 1;
		else if (cmd_args_opt(&a, "--json", NULL, 0))
			o->json = 1;
		else if (cmd_args_not_operand(&a)) {
			if (a.error) {
				usage(stderr);
				return 2;
			}
		} else if (o->what == NULL)
			o->what = argv[a.i];
		else {
			fprintf(stderr, "remediate approve: one ID at a time "
			    "(\"%s\" too)\n", argv[a.i]);
			return 2;
		}
	}
	if (a.error)
		return 2;
	if (!o->list && o->what == NULL) {
		usage(stderr);
		return 2;
	}
	if (o->list && o->what) {
		fprintf(stderr, "remediate approve: --list takes no ID\n");
		return 2;
	}
	return 0;
}

/*
 * Splits ID or LINK (".../approve/ID?sig=SIG") into id, sig and the link's
 * base (everything before ?).  Returns 0, or -1 when it is neither.
 */
static int
split(const char *what, char id[APPROVE_ID_LEN + 1],
    char sig[APPROVE_SIG_LEN + 1], char **base)
{
	const char *p = strstr(what, "/approve/"), *q;
	size_t n;

	sig[0] = '\0';
	*base = NULL;
	if (p == NULL) {
		p = what;
	} else {
		*base = xstrndup(what, (size_t)(p - what) + 9 +
		    strcspn(p + 9, "?"));
		p += 9;
		if ((q = strstr(p, "sig=")) != NULL && strspn(q + 4,
		    "0123456789abcdefABCDEF") == APPROVE_SIG_LEN) {
			memcpy(sig, q + 4, APPROVE_SIG_LEN);
			sig[APPROVE_SIG_LEN] = '\0';
		}
	}
	n = strspn(p, "0123456789abcdef");
	if (n != APPROVE_ID_LEN || (p[n] != '\0' && p[n] != '?' && p[n] !=
	    '/')) {
		free(*base);
		*base = NULL;
		return -1;
	}
	memcpy(id, p, n);
	id[n] = '\0';
	return 0;
}

static void
print_one(void *ctx, const struct approve_pending *p)
{
	const struct opts *o = ctx;
	static const char *const states[] = { "pending", "used", "expired" };
	json_t *r = p->record, *t = json_object_get(r, "target");
	json_t *plan = json_object_get(r, "plan"), *line;
	char when[TIME_FMTLEN];
	char *s;

	time_format(p->expires, when, sizeof when);
	if (o->json) {
		line = json_pack("{s:s, s:s, s:s, s:O?, s:O?}", "id", p->id,
		    "state", states[p->state], "expires", when, "record", r,
		    "outcome", p->outcome);
		s = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
		printf("%s\n", s ? s : "{}");
		free(s);
		json_decref(line);
		return;
	}
	printf("%s  %-8s  expires %s  %s  %s %s%s%s  %s\n", p->id,
	    states[p->state], when, json_string_value(json_object_get(r,
	    "trigger")) ? json_string_value(json_object_get(r, "trigger")) :
	    "?", json_string_value(json_object_get(t, "kind")) ?
	    json_string_value(json_object_get(t, "kind")) : "?",
	    json_string_value(json_object_get(t, "namespace")) ?
	    json_string_value(json_object_get(t, "namespace")) : "",
	    json_string_value(json_object_get(t, "namespace")) ? "/" : "",
	    json_string_value(json_object_get(t, "name")) ?
	    json_string_value(json_object_get(t, "name")) : "?",
	    json_string_value(json_object_get(plan, "summary")) ?
	    json_string_value(json_object_get(plan, "summary")) : "");
}

static int
list(const struct opts *o)
{
	struct approve_store *s;
	char *err = NULL;
	int n;

	if ((s = approve_store_open(o->state, NULL, NULL, 1, &err)) == NULL) {
		fprintf(stderr, "remediate approve: %s\n", err);
		free(err);
		return CMD_FAILED;
	}
	n = approve_list(s, !o->all, 0, print_one, (void *)(uintptr_t)o, &err);
	approve_store_close(s);
	if (n < 0) {
		fprintf(stderr, "remediate approve: %s\n", err);
		free(err);
		return CMD_FAILED;
	}
	if (n == 0 && !o->json)
		fprintf(stderr, "remediate approve: no %sapprovals in %s\n",
		    o->all ? "" : "pending ", o->state);
	return CMD_OK;
}

/* The signature for p from the daemon's key: 0, or -1 (printed). */
static int
sign(const struct opts *o, const struct approve_pending *p,
    char sig[APPROVE_SIG_LEN + 1])
{
	struct approve_key k;
	char *err = NULL, *gen;
	int have;

	/* never create a key here: only the daemon's can sign */
	gen = xasprintf("%s.approval-key", o->state);
	have = getenv(APPROVE_KEY_ENV) || o->key_file ||
	    getenv(APPROVE_KEY_FILE_ENV) || access(gen, R_OK) == 0;
	free(gen);
	if (!have || approve_key_load(o->key_file, o->state, &k, &err) ==
	    -1) {
		fprintf(stderr, "remediate approve: %s\n", err ? err : "the "
		    "daemon's approval key is not readable here: give "
		    "--approval-key, or the link from the notification");
		free(err);
		return -1;
	}
	approve_sign(&k, p->id, p->expires, sig);
	explicit_bzero(&k, sizeof k);
	return 0;
}

/* Prints the daemon's answer; returns the exit status. */
static int
report(const struct opts *o, long status, json_t *answer, const char *err)
{
	json_t *out = json_object_get(answer, "outcome");
	const char *d = json_string_value(json_object_get(out, "decision"));
	char *s;

	if (status == 0) {
		fprintf(stderr, "remediate approve: the daemon did not answer: "
		    "%s\n", err ? err : "?");
		return CMD_FAILED;
	}
	if (o->json) {
		s = json_dumps(answer, JSON_COMPACT | JSON_PRESERVE_ORDER);
		printf("%s\n", s ? s : "null");
		free(s);
	} else if (status == 200 && d) {
		printf("approved: %s%s%s%s%s\n", d, json_string_value(
		    json_object_get(out, "reason")) ? " (" : "",
		    json_string_value(json_object_get(out, "reason")) ?
		    json_string_value(json_object_get(out, "reason")) : "",
		    json_string_value(json_object_get(out, "reason")) ? ")" :
		    "", json_string_value(json_object_get(out, "message")) ?
		    "" : "");
		if (json_string_value(json_object_get(out, "message")))
			printf("  %s\n", json_string_value(json_object_get(out,
			    "message")));
	} else if (status == 202)	/* approved; what came of it unknown */
		printf("approved: outcome not known yet\n  %s\n",
		    json_string_value(json_object_get(out, "message")) ?
		    json_string_value(json_object_get(out, "message")) : "");
	else
		fprintf(stderr, "remediate approve: HTTP %ld: %s%s%s\n", status,
		    json_string_value(json_object_get(answer, "error")) ?
		    json_string_value(json_object_get(answer, "error")) :
		    "refused", d ? "; it ended " : "", d ? d : "");
	return status == 200 && d && strcmp(d, "acted") == 0 ? CMD_OK :
	    CMD_FAILED;
}

/* BASE/approve/ID, whatever trailing slashes BASE has; owned. */
static char *
link_for(const char *url, const char *id)
{
	size_t n = strcspn(url, "?#");

	while (n > 0 && url[n - 1] == '/')
		n--;
	return xasprintf("%.*s/approve/%s", (int)n, url, id);
}

static int
approve(const struct opts *o)
{
	char id[APPROVE_ID_LEN + 1], sig[APPROVE_SIG_LEN + 1], *base = NULL;
	char *link = NULL, *err = NULL;
	struct approve_store *s = NULL;
	struct approve_pending p;
	json_t *answer = NULL;
	enum approve_status st;
	long status;
	int rc = CMD_FAILED;

	memset(&p, 0, sizeof p);
	if (split(o->what, id, sig, &base) == -1) {
		fprintf(stderr, "remediate approve: \"%s\" is neither an "
		    "approval id (32 hex digits) nor its link\n", o->what);
		return CMD_USAGE;
	}
	if (o->url)
		link = link_for(o->url, id);
	else if (base && strncmp(base, "http", 4) == 0)
		link = xstrdup(base);
	if (sig[0] == '\0' || link == NULL) {
		if ((s = approve_store_open(o->state, NULL, NULL, 1, &err)) ==
		    NULL) {
			fprintf(stderr, "remediate approve: %s\n", err);
			goto out;
		}
		st = approve_lookup(s, id, NULL, &p, &err);
		if (st != APPROVE_OK) {
			fprintf(stderr, "remediate approve: %s: %s\n", id,
			    st == APPROVE_NOT_FOUND ? "no such approval in the "
			    "state file" : err ? err : "cannot read it");
			goto out;
		}
		if (link == NULL && p.url == NULL) {
			fprintf(stderr, "remediate approve: the daemon's "
			    "address is not known (notifications.baseURL is "
			    "not set): give --url http://HOST:PORT\n");
			goto out;
		}
		if (link == NULL)
			link = xstrdup(p.url);
		if (sig[0] == '\0' && sign(o, &p, sig) == -1)
			goto out;
	}
	status = approve_remote(link, sig, TIMEOUT_MS, &answer, &err);
	rc = report(o, status, answer, err);
out:
	approve_pending_clear(&p);
	approve_store_close(s);
	json_decref(answer);
	free(err);
	free(base);
	free(link);
	return rc;
}

int
cmd_approve(int argc, char **argv)
{
	struct opts o;

	switch (parse(argc, argv, &o)) {
	case 1:
		usage(stdout);
		return CMD_OK;
	case 2:
		return CMD_USAGE;
	}
	return o.list ? list(&o) : approve(&o);
}
