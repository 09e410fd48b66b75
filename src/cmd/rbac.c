/*
 * remediate rbac: the least-privilege RBAC a configuration needs, from the
 * permissions the compiled engine lists (engine_permissions): what `run`
 * watches, what each trigger's action sends, the Events it records.  One
 * ClusterRole for what spans namespaces (the cluster view, native actions,
 * Events), one Role per namespace for what the manifests pin to one (a
 * source watching one namespace, a k8s trigger creating in its sensor's),
 * each with its binding to the service account.  Every rule carries a
 * comment naming the manifests that need it.  A permission that cannot be
 * named (a templated kind) is an error: printing a role that silently
 * lacks it would fail only in the cluster.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/args.h"
#include "cmd/cmd.h"
#include "conf/conf.h"
#include "engine/engine.h"

/* The order verbs are printed in, as kubectl prints them. */
static const char *const verb_order[] = {
	"get", "list", "watch", "create", "update", "patch", "delete",
};

struct rule {
	const char	*namespace;	/* borrowed; NULL: ClusterRole */
	const char	*group, *resource;	/* borrowed */
	unsigned	 verbs;		/* bit i: verb_order[i] */
	char		**notes;	/* owned "manifest: why" lines */
	size_t		 nnotes;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: remediate rbac -c DIR|FILE... [--name NAME]\n"
	    "         [--service-account NAMESPACE/NAME]\n"
	    "Prints the least-privilege RBAC this configuration needs: a\n"
	    "ClusterRole and ClusterRoleBinding, and a Role and RoleBinding per\n"
	    "namespace the manifests pin permissions to, each rule commented\n"
	    "with the manifests that need it.  Defaults: --name remediate,\n"
	    "--service-account remediate/remediate.  Exit 1 when a permission\n"
	    "cannot be named (a templated kind): grant it by hand.\n");
}

static int
verb_bit(const char *verb)
{
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(verb_order); i++)
		if (strcmp(verb_order[i], verb) == 0)
			return (int)i;
	return -1;
}

static struct rule *
rule_for(struct rule **v, size_t *n, size_t *cap, const char *ns,
    const char *group, const char *resource)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (util_same_str((*v)[i].namespace, ns) &&
		    util_same_str((*v)[i].group, group) &&
		    util_same_str((*v)[i].resource, resource))
			return &(*v)[i];
	xgrow(v, cap, *n + 1, sizeof **v);
	memset(&(*v)[*n], 0, sizeof **v);
	(*v)[*n].namespace = ns;
	(*v)[*n].group = group;
	(*v)[*n].resource = resource;
	return &(*v)[(*n)++];
}

static void
rule_note(struct rule *r, const struct engine_perm *p)
{
	char *line = xasprintf("%s: %s", p->manifest ? p->manifest :
	    "remediate", p->why ? p->why : "");
	size_t i;

	for (i = 0; i < r->nnotes; i++)
		if (strcmp(r->notes[i], line) == 0) {
			free(line);
			return;
		}
	r->notes = xrealloc(r->notes, (r->nnotes + 1) * sizeof *r->notes);
	r->notes[r->nnotes++] = line;
}

/* Is (group, resource, verb) granted cluster-wide already? */
static int
cluster_grants(const struct engine_perm *v, size_t n,
    const struct engine_perm *p)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].error == NULL && v[i].namespace == NULL &&
		    util_same_str(v[i].group, p->group) &&
		    util_same_str(v[i].resource, p->resource) &&
		    util_same_str(v[i].verb, p->verb))
			return 1;
	return 0;
}

static void
print_rules(const struct rule *v, size_t n, const char *ns)
{
	size_t i, k;
	const char *sep;

	printf("rules:\n");
	for (i = 0; i < n; i++) {
		if (!util_same_str(v[i].namespace, ns))
			continue;
		for (k = 0; k < v[i].nnotes; k++)
			printf("  # %s\n", v[i].notes[k]);
		printf("  - apiGroups: [\"%s\"]\n    resources: [\"%s\"]\n"
		    "    verbs: [", v[i].group, v[i].resource);
		sep = "";
		for (k = 0; k < UTIL_ARRAY_LEN(verb_order); k++)
			if (v[i].verbs & (1u << k)) {
				printf("%s\"%s\"", sep, verb_order[k]);
				sep = ", ";
			}
		printf("]\n");
	}
}

static void
print_binding(const char *kind, const char *role_kind, const char *name,
    const char *ns, const char *sa_ns, const char *sa)
{
	printf("---\napiVersion: rbac.authorization.k8s.io/v1\nkind: %s\n"
	    "metadata:\n  name: %s\n", kind, name);
	if (ns)
		printf("  namespace: %s\n", ns);
	printf("roleRef:\n  apiGroup: rbac.authorization.k8s.io\n"
	    "  kind: %s\n  name: %s\nsubjects:\n  - kind: ServiceAccount\n"
	    "    name: %s\n    namespace: %s\n", role_kind, name, sa, sa_ns);
}

static void
print_all(const struct rule *v, size_t n, const char *name,
    const char *sa_ns, const char *sa)
{
	const char **done = xcalloc(n + 1, sizeof *done);
	size_t i, k, nd = 0;

	printf("# Least-privilege RBAC for this configuration, from `remediate "
	    "rbac`.\n# Regenerate it when the manifests change.  Leader "
	    "election\n# (run --leader-elect) adds: apiGroups "
	    "[\"coordination.k8s.io\"], resources [\"leases\"],\n# verbs "
	    "[\"get\", \"create\", \"update\"] in remediate's own namespace."
	    "\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
	    "metadata:\n  name: %s\n", name);
	print_rules(v, n, NULL);
	print_binding("ClusterRoleBinding", "ClusterRole", name, NULL, sa_ns,
	    sa);
	for (i = 0; i < n; i++) {
		if (v[i].namespace == NULL)
			continue;
		for (k = 0; k < nd && strcmp(done[k], v[i].namespace); k++)
			;
		if (k < nd)
			continue;
		done[nd++] = v[i].namespace;
		printf("---\napiVersion: rbac.authorization.k8s.io/v1\n"
		    "kind: Role\nmetadata:\n  name: %s\n  namespace: %s\n",
		    name, v[i].namespace);
		print_rules(v, n, v[i].namespace);
		print_binding("RoleBinding", "Role", name, v[i].namespace,
		    sa_ns, sa);
	}
	free(done);
}

/* Prints the RBAC for p; returns the number of unnamed permissions. */
static size_t
rbac_print(const struct engine_perm *p, size_t np, const char *name,
    const char *sa_ns, const char *sa)
{
	struct rule *v = NULL, *r;
	size_t i, k, n = 0, cap = 0, errors = 0;
	const char *ns;
	int bit;

	for (i = 0; i < np; i++) {
		if (p[i].error) {
			fprintf(stderr, "remediate rbac: %s: %s\n",
			    p[i].manifest ? p[i].manifest : "remediate",
			    p[i].error);
			errors++;
			continue;
		}
		if ((bit = verb_bit(p[i].verb)) < 0)
			continue;
		ns = p[i].namespace && !cluster_grants(p, np, &p[i]) ?
		    p[i].namespace : NULL;
		r = rule_for(&v, &n, &cap, ns, p[i].group, p[i].resource);
		r->verbs |= 1u << bit;
		rule_note(r, &p[i]);
	}
	print_all(v, n, name, sa_ns, sa);
	for (i = 0; i < n; i++) {
		for (k = 0; k < v[i].nnotes; k++)
			free(v[i].notes[k]);
		free(v[i].notes);
	}
	free(v);
	return errors;
}

int
cmd_rbac(int argc, char **argv)
{
	struct cmd_args a;
	const char **paths = xcalloc((size_t)argc + 1, sizeof *paths);
	const char *name = "remediate", *sa_arg = "remediate/remediate";
	char *sa_ns = NULL, *slash;
	struct engine_perm *p;
	struct engine *e = NULL;
	struct conf *c;
	struct diags dg;
	size_t npaths = 0, np;
	int rc = CMD_FAILED;

	cmd_args_init(&a, argc, argv);
	for (; a.i < argc && !a.error; a.i++) {
		if (cmd_args_opt(&a, "--help", "-h", 0)) {
			usage(stdout);
			free(paths);
			return CMD_OK;
		} else if (cmd_args_opt(&a, "--config", "-c", 1)) {
			if (a.value)
				paths[npaths++] = a.value;
		} else if (cmd_args_opt(&a, "--name", NULL, 1)) {
			if (a.value)
				name = a.value;
		} else if (cmd_args_opt(&a, "--service-account", NULL, 1)) {
			if (a.value)
				sa_arg = a.value;
		} else {
			fprintf(stderr, "remediate rbac: unknown argument %s\n",
			    argv[a.i]);
			a.error = 1;
		}
	}
	slash = strchr(sa_arg, '/');
	if (a.error || npaths == 0 || slash == NULL || slash == sa_arg ||
	    slash[1] == '\0' || *name == '\0') {
		if (!a.error && npaths && (slash == NULL || slash == sa_arg ||
		    slash[1] == '\0'))
			fprintf(stderr, "remediate rbac: --service-account "
			    "wants NAMESPACE/NAME, not \"%s\"\n", sa_arg);
		usage(stderr);
		free(paths);
		return CMD_USAGE;
	}
	sa_ns = xasprintf("%.*s", (int)(slash - sa_arg), sa_arg);
	diag_init(&dg);
	c = conf_load(paths, npaths, &dg);
	if (dg.errors == 0)
		e = engine_compile(c, &dg);
	diag_print(&dg, stderr);
	if (e) {
		np = engine_permissions(e, &p);
		rc = rbac_print(p, np, name, sa_ns, slash + 1) ? CMD_FAILED :
		    CMD_OK;
		engine_perms_free(p, np);
	} else
		fprintf(stderr, "remediate rbac: the configuration has "
		    "errors; run remediate check\n");
	engine_free(e);
	conf_free(c);
	diag_free(&dg);
	free(sa_ns);
	free(paths);
	return rc;
}
