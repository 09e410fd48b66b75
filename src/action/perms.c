/*
 * The API permissions each action needs, beside the actions themselves:
 * `remediate rbac` prints them as RBAC rules and `run` asks the server
 * whether it holds them before it starts acting.  Native actions send
 * the requests their files plan (and the reads their executors make on
 * a conflict); a k8s trigger sends its operation's verb on the kind its
 * manifest names.  The action unit test checks every planned request
 * against this table, so a new request cannot go unlisted.
 */
#include <string.h>

#include "action/action.h"
#include "util/util.h"

static const struct act_perm bump[] = {
	{ "apps", "deployments", "patch",
	    "bumpMemory patches the workload's pod template" },
	{ "apps", "statefulsets", "patch",
	    "bumpMemory patches the workload's pod template" },
	{ "apps", "daemonsets", "patch",
	    "bumpMemory patches the workload's pod template" },
	{ "apps", "deployments", "get",
	    "bumpMemory reads the workload again after a 409 Conflict" },
	{ "apps", "statefulsets", "get",
	    "bumpMemory reads the workload again after a 409 Conflict" },
	{ "apps", "daemonsets", "get",
	    "bumpMemory reads the workload again after a 409 Conflict" },
};

static const struct act_perm restart[] = {
	{ "", "pods", "delete",
	    "restartPod deletes the pod so its controller recreates it" },
};

static const struct act_perm argocd[] = {
	{ "argoproj.io", "applications", "get",
	    "argocdSync reads the Application's operation state" },
	{ "argoproj.io", "applications", "patch",
	    "argocdSync terminates a stuck operation and starts a sync" },
};

static const struct act_perm quarantine[] = {
	{ "networking.k8s.io", "networkpolicies", "create",
	    "quarantine isolates the pod with a deny-all NetworkPolicy" },
	{ "networking.k8s.io", "networkpolicies", "get",
	    "quarantine reads a NetworkPolicy of the same name that exists" },
	{ "", "pods", "patch",
	    "quarantine labels the pod" },
};

static const struct {
	const char		*action;
	const struct act_perm	*perms;
	size_t			 n;
} natives[] = {
	{ "bumpMemory", bump, UTIL_ARRAY_LEN(bump) },
	{ "restartPod", restart, UTIL_ARRAY_LEN(restart) },
	{ "argocdSync", argocd, UTIL_ARRAY_LEN(argocd) },
	{ "quarantine", quarantine, UTIL_ARRAY_LEN(quarantine) },
};

const struct act_perm *
act_native_perms(const char *action, size_t *n)
{
	size_t i;

	*n = 0;
	for (i = 0; action && i < UTIL_ARRAY_LEN(natives); i++)
		if (strcmp(natives[i].action, action) == 0) {
			*n = natives[i].n;
			return natives[i].perms;
		}
	return NULL;
}

size_t
act_k8s_verbs(enum k8s_operation op, const char *verbs[2])
{
	switch (op) {
	case K8S_CREATE:
		/* a create that timed out is read back (kube/execute.c): a
		   403 there recorded a create that landed as failed */
		verbs[0] = "create";
		verbs[1] = "get";
		return 2;
	case K8S_UPDATE:
		/* without a resourceVersion the update reads the live object */
		verbs[0] = "get";
		verbs[1] = "update";
		return 2;
	/* both read the live object first (k8s.c, cluster_get_whole) */
	case K8S_PATCH:
		verbs[0] = "get";
		verbs[1] = "patch";
		return 2;
	case K8S_DELETE:
		verbs[0] = "get";
		verbs[1] = "delete";
		return 2;
	}
	return 0;
}
