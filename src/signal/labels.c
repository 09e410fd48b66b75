/*
 * Who a signal is about, from labels: Prometheus series and Alertmanager
 * alerts name workloads the way kube-state-metrics and the
 * usual alerting rules write them.  "job" is not here: in Prometheus it is
 * the scrape job, not a Kubernetes Job (kube-state-metrics calls that
 * job_name).  "node" comes last because pod series carry it too.
 */
#include <string.h>

#include "signal/signal.h"
#include "util/util.h"

static const struct {
	const char	*label, *kind;
	int		 namespaced;
} kinds[] = {
	{ "pod", "Pod", 1 },
	{ "deployment", "Deployment", 1 },
	{ "statefulset", "StatefulSet", 1 },
	{ "daemonset", "DaemonSet", 1 },
	{ "replicaset", "ReplicaSet", 1 },
	{ "job_name", "Job", 1 },
	{ "cronjob", "CronJob", 1 },
	{ "node", "Node", 0 },
};

int
sig_labels_subject(json_t *labels, struct event *ev)
{
	const char *ns, *name;
	size_t i;

	if (ev->subject.kind != NULL || !json_is_object(labels))
		return 0;
	ns = json_string_value(json_object_get(labels, "namespace"));
	for (i = 0; i < UTIL_ARRAY_LEN(kinds); i++) {
		name = json_string_value(json_object_get(labels,
		    kinds[i].label));
		if (name == NULL || *name == '\0')
			continue;
		if (kinds[i].namespaced && (ns == NULL || *ns == '\0'))
			continue;	/* a pod name alone names nothing */
		ev->subject.kind = xstrdup(kinds[i].kind);
		ev->subject.name = xstrdup(name);
		ev->subject.namespace = kinds[i].namespaced ? xstrdup(ns) :
		    NULL;
		return 1;
	}
	return 0;
}
