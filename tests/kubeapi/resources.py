"""The resource catalogue: which groups, versions and resources exist.

One ResourceDef per served resource says how the emulator treats it
(namespaced or not, subresources, generation, what DELETE returns, name
rules) and feeds discovery (/api, /apis, /apis/G/V), so a client can map
kinds to resources exactly as against kube-apiserver v1.28.

Custom resources (argoproj.io/v1alpha1 workflows and applications, Argo
Events, Kyverno) behave like CRD-served objects: no strategic merge patch
(415), generation bumped on any non-metadata change, and
resourceVersion required on update. Tests may add more with add_crd().
"""

import copy

VERBS_ALL = ["create", "delete", "deletecollection", "get", "list", "patch",
             "update", "watch"]
VERBS_SUB = ["get", "patch", "update"]

_TEMPLATE_ZERO = {"metadata": {"creationTimestamp": None},
                  "spec": {"containers": None}}

# Zero values of each kind as Go serialises them: the body of a BOOKMARK
# event and the "empty" object that managedFields are computed against.
ZERO = {
    "Pod": {"spec": {"containers": None}, "status": {}},
    "Deployment": {"spec": {"replicas": 0, "selector": None,
                            "template": _TEMPLATE_ZERO, "strategy": {}},
                   "status": {}},
    "ReplicaSet": {"spec": {"selector": None, "template": _TEMPLATE_ZERO},
                   "status": {"replicas": 0}},
    "StatefulSet": {"spec": {"selector": None, "template": _TEMPLATE_ZERO,
                             "serviceName": "", "updateStrategy": {}},
                    "status": {"replicas": 0, "availableReplicas": 0}},
    "DaemonSet": {"spec": {"selector": None, "template": _TEMPLATE_ZERO,
                           "updateStrategy": {}},
                  "status": {"currentNumberScheduled": 0,
                             "numberMisscheduled": 0,
                             "desiredNumberScheduled": 0,
                             "numberReady": 0}},
    "Job": {"spec": {"template": _TEMPLATE_ZERO}, "status": {}},
    "CronJob": {"spec": {"schedule": "", "jobTemplate": {
        "metadata": {"creationTimestamp": None},
        "spec": {"template": _TEMPLATE_ZERO}}}, "status": {}},
    "Namespace": {"spec": {}, "status": {}},
    "Node": {"spec": {}, "status": {}},
    "Service": {"spec": {}, "status": {"loadBalancer": {}}},
    "PersistentVolumeClaim": {"spec": {"resources": {}}, "status": {}},
    "Event@v1": {"involvedObject": {}, "source": {}, "firstTimestamp": None,
                 "lastTimestamp": None, "eventTime": None,
                 "reportingComponent": "", "reportingInstance": ""},
    "Event@events.k8s.io/v1": {"eventTime": None, "regarding": {},
                               "deprecatedSource": {},
                               "deprecatedFirstTimestamp": None,
                               "deprecatedLastTimestamp": None},
    "Lease": {"spec": {}},
    "NetworkPolicy": {"spec": {"podSelector": {}}},
    "PodDisruptionBudget": {"spec": {}, "status": {
        "disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0,
        "expectedPods": 0}},
    "ControllerRevision": {"data": None, "revision": 0},
    "HorizontalPodAutoscaler": {"spec": {"scaleTargetRef": {
        "kind": "", "name": ""}, "maxReplicas": 0},
        "status": {"currentReplicas": 0, "desiredReplicas": 0}},
}


class ResourceDef:
    """How one group/version/resource behaves in the emulator."""

    def __init__(self, group, version, plural, kind, namespaced=True,
                 short=None, categories=None, subresources=(),
                 generation=False, deleted_object=False, custom=False,
                 create_on_update=False, name_rule="subdomain",
                 storage=None, singular=None, verbs=None, hash_=""):
        self.group = group
        self.version = version
        self.plural = plural
        self.kind = kind
        self.namespaced = namespaced
        self.short = short or []
        self.categories = categories or []
        self.subresources = list(subresources)
        self.generation = generation or custom
        self.deleted_object = deleted_object
        self.custom = custom
        self.create_on_update = create_on_update
        self.name_rule = name_rule
        self.storage = storage or (group, plural)
        self.singular = singular if singular is not None else kind.lower()
        self.verbs = verbs or VERBS_ALL
        self.hash = hash_

    @property
    def api_version(self):
        return self.version if self.group == "" else \
            "%s/%s" % (self.group, self.version)

    @property
    def group_resource(self):
        """'deployments.apps' or 'pods': how Status messages name it."""
        return self.plural if self.group == "" else \
            "%s.%s" % (self.plural, self.group)

    @property
    def qualified_kind(self):
        """'Deployment.apps' or 'ConfigMap': how Invalid messages name it."""
        return self.kind if self.group == "" else \
            "%s.%s" % (self.kind, self.group)

    @property
    def list_kind(self):
        return self.kind + "List"

    def has_status(self):
        return "status" in self.subresources

    def zero(self):
        key = "%s@%s" % (self.kind, self.api_version)
        z = ZERO.get(key, ZERO.get(self.kind))
        if z is None or self.custom:
            return {}
        return copy.deepcopy(z)

    def discovery(self):
        out = []
        d = {"name": self.plural, "singularName": self.singular,
             "namespaced": self.namespaced, "kind": self.kind,
             "verbs": list(self.verbs)}
        if self.short:
            d["shortNames"] = list(self.short)
        if self.categories:
            d["categories"] = list(self.categories)
        if self.hash:
            d["storageVersionHash"] = self.hash
        out.append(d)
        for sub in sorted(self.subresources):
            if sub == "scale":
                out.append({"name": self.plural + "/scale",
                            "singularName": "",
                            "namespaced": self.namespaced,
                            "group": "autoscaling", "version": "v1",
                            "kind": "Scale", "verbs": list(VERBS_SUB)})
            elif sub == "status":
                out.append({"name": self.plural + "/status",
                            "singularName": "",
                            "namespaced": self.namespaced,
                            "kind": self.kind, "verbs": list(VERBS_SUB)})
            elif sub == "eviction":
                out.append({"name": self.plural + "/eviction",
                            "singularName": "",
                            "namespaced": True, "group": "policy",
                            "version": "v1", "kind": "Eviction",
                            "verbs": ["create"]})
            elif sub == "log":
                out.append({"name": self.plural + "/log",
                            "singularName": "", "namespaced": True,
                            "kind": "Pod", "verbs": ["get"]})
        return out


def _builtin():
    R = ResourceDef
    st = ("status",)
    return [
        R("", "v1", "namespaces", "Namespace", namespaced=False,
          short=["ns"], subresources=("status", "finalize"),
          deleted_object=True, name_rule="label",
          hash_="Q3oi5N2YM8M="),
        R("", "v1", "pods", "Pod", short=["po"], categories=["all"],
          subresources=("status", "log", "eviction", "binding",
                        "ephemeralcontainers"),
          deleted_object=True, hash_="xPOwRZ+Yhw8="),
        R("", "v1", "configmaps", "ConfigMap", short=["cm"],
          hash_="qFsyl6wFWjQ="),
        R("", "v1", "secrets", "Secret", hash_="S6u1pOWzb84="),
        R("", "v1", "serviceaccounts", "ServiceAccount", short=["sa"],
          hash_="pbx9ZvyFpBE="),
        R("", "v1", "services", "Service", short=["svc"],
          categories=["all"], subresources=st, deleted_object=True,
          name_rule="dns1035", create_on_update=True,
          hash_="0/CO1lhkEBI="),
        R("", "v1", "endpoints", "Endpoints", short=["ep"],
          create_on_update=True, singular="endpoints",
          hash_="fWeeMqaN/OA="),
        R("", "v1", "events", "Event", short=["ev"], create_on_update=True,
          storage=("", "events"), hash_="r2yiGXH7wu8="),
        R("", "v1", "nodes", "Node", namespaced=False, short=["no"],
          subresources=st, deleted_object=True, hash_="XwShjMxG9Fs="),
        R("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim",
          short=["pvc"], subresources=st, hash_="QWTyNDq0dC4="),
        R("apps", "v1", "controllerrevisions", "ControllerRevision",
          hash_="85nkx63pcBU="),
        R("apps", "v1", "daemonsets", "DaemonSet", short=["ds"],
          categories=["all"], subresources=st, generation=True,
          hash_="dd7pWHUlMKQ="),
        R("apps", "v1", "deployments", "Deployment", short=["deploy"],
          categories=["all"], subresources=("scale", "status"),
          generation=True, hash_="8aSe+NMegvE="),
        R("apps", "v1", "replicasets", "ReplicaSet", short=["rs"],
          categories=["all"], subresources=("scale", "status"),
          generation=True, hash_="P1RzHs8/mWQ="),
        R("apps", "v1", "statefulsets", "StatefulSet", short=["sts"],
          categories=["all"], subresources=("scale", "status"),
          generation=True, hash_="H+vl74LkKdo="),
        R("batch", "v1", "jobs", "Job", categories=["all"],
          subresources=st, generation=True, hash_="mudhfqk/qZY="),
        R("batch", "v1", "cronjobs", "CronJob", short=["cj"],
          categories=["all"], subresources=st, generation=True,
          hash_="sd5LIXh4Fjs="),
        R("autoscaling", "v1", "horizontalpodautoscalers",
          "HorizontalPodAutoscaler", short=["hpa"], categories=["all"],
          subresources=st, hash_="qwQve8ut294="),
        R("coordination.k8s.io", "v1", "leases", "Lease",
          create_on_update=True, hash_="gqkMMb/YqFM="),
        R("events.k8s.io", "v1", "events", "Event", short=["ev"],
          create_on_update=True, storage=("", "events"),
          hash_="r2yiGXH7wu8="),
        R("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy",
          short=["netpol"], generation=True, hash_="YpfwF18m1G8="),
        R("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget",
          short=["pdb"], subresources=st, generation=True,
          hash_="6BGBu0kpHtk="),
        # Custom resources (CRDs) the project's pipeline touches.
        R("argoproj.io", "v1alpha1", "workflows", "Workflow",
          short=["wf"], categories=["all"], custom=True,
          hash_="a0HSYZ9zFRk="),
        R("argoproj.io", "v1alpha1", "applications", "Application",
          short=["app", "apps"], custom=True, hash_="L/mX2UFxdJA="),
        R("argoproj.io", "v1alpha1", "appprojects", "AppProject",
          short=["appproj", "appprojs"], custom=True,
          hash_="ZIdLsO1ph9c="),
        R("argoproj.io", "v1alpha1", "eventsources", "EventSource",
          short=["es"], custom=True, hash_="UUD1Ezqqr8w="),
        R("argoproj.io", "v1alpha1", "sensors", "Sensor", short=["sn"],
          custom=True, hash_="rOJ2MjjWWpg="),
        R("kyverno.io", "v1", "clusterpolicies", "ClusterPolicy",
          namespaced=False, short=["cpol"], subresources=st,
          custom=True, hash_="eDCx+qNIP0g="),
        R("kyverno.io", "v1", "policies", "Policy", short=["pol"],
          subresources=st, custom=True, hash_="Bt7Hm8sO3Ac="),
    ]


# Preferred version first; discovery lists groups in this order.
GROUP_ORDER = ["", "apps", "events.k8s.io", "autoscaling", "batch",
               "coordination.k8s.io", "networking.k8s.io", "policy",
               "argoproj.io", "kyverno.io"]


class Catalogue:
    """All served resources, looked up by URL parts or by kind."""

    def __init__(self):
        self.defs = []
        for d in _builtin():
            self.add(d)

    def add(self, d):
        self.defs = [x for x in self.defs
                     if not (x.group == d.group and x.version == d.version
                             and x.plural == d.plural)]
        self.defs.append(d)
        if d.group not in GROUP_ORDER:
            GROUP_ORDER.append(d.group)

    def add_crd(self, group, version, plural, kind, namespaced=True,
                short=None, status=False, scale=False, categories=None):
        subs = []
        if status:
            subs.append("status")
        if scale:
            subs.append("scale")
        d = ResourceDef(group, version, plural, kind, namespaced=namespaced,
                        short=short, subresources=subs, custom=True,
                        categories=categories)
        self.add(d)
        return d

    def lookup(self, group, version, plural):
        for d in self.defs:
            if d.group == group and d.version == version and \
                    d.plural == plural:
                return d
        return None

    def by_kind(self, api_version, kind):
        group, _, version = api_version.rpartition("/")
        for d in self.defs:
            if d.group == group and d.version == version and d.kind == kind:
                return d
        return None

    def by_storage(self, storage):
        """The primary (first) definition for a storage key."""
        for d in self.defs:
            if d.storage == storage:
                return d
        return None

    def group_versions(self, group):
        return sorted({d.version for d in self.defs if d.group == group})

    def groups(self):
        present = {d.group for d in self.defs if d.group != ""}
        return [g for g in GROUP_ORDER if g in present]

    def resource_list(self, group, version):
        items = []
        for d in sorted((d for d in self.defs
                         if d.group == group and d.version == version),
                        key=lambda x: x.plural):
            items.extend(d.discovery())
        if not items:
            return None
        gv = version if group == "" else "%s/%s" % (group, version)
        return {"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": gv, "resources": items}

    def api_group(self, group):
        versions = self.group_versions(group)
        if not versions:
            return None
        vs = [{"groupVersion": "%s/%s" % (group, v), "version": v}
              for v in versions]
        return {"kind": "APIGroup", "apiVersion": "v1", "name": group,
                "versions": vs, "preferredVersion": vs[0]}

    def api_group_list(self):
        groups = []
        for g in self.groups():
            ag = self.api_group(g)
            del ag["kind"]
            del ag["apiVersion"]
            groups.append(ag)
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


# ------------------------------------------------------- output order ----
# Go prints struct fields in declaration order; these tables put the
# fields of the objects the tests look at in that order (cosmetic, but it
# makes emulator output diff cleanly against the recordings).

META_ORDER = ["name", "generateName", "namespace", "selfLink", "uid",
              "resourceVersion", "generation", "creationTimestamp",
              "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
              "annotations", "ownerReferences", "finalizers",
              "managedFields"]
POD_SPEC_ORDER = [
    "volumes", "initContainers", "containers", "ephemeralContainers",
    "restartPolicy", "terminationGracePeriodSeconds",
    "activeDeadlineSeconds", "dnsPolicy", "nodeSelector",
    "serviceAccountName", "serviceAccount", "automountServiceAccountToken",
    "nodeName", "hostNetwork", "hostPID", "hostIPC",
    "shareProcessNamespace", "securityContext", "imagePullSecrets",
    "hostname", "subdomain", "affinity", "schedulerName", "tolerations",
    "hostAliases", "priorityClassName", "priority", "dnsConfig",
    "readinessGates", "runtimeClassName", "enableServiceLinks",
    "preemptionPolicy", "overhead", "topologySpreadConstraints",
    "setHostnameAsFQDN", "os", "hostUsers", "schedulingGates",
    "resourceClaims"]
CONTAINER_ORDER = [
    "name", "image", "command", "args", "workingDir", "ports", "envFrom",
    "env", "resources", "resizePolicy", "restartPolicy", "volumeMounts",
    "volumeDevices", "livenessProbe", "readinessProbe", "startupProbe",
    "lifecycle", "terminationMessagePath", "terminationMessagePolicy",
    "imagePullPolicy", "securityContext", "stdin", "stdinOnce", "tty"]
DEPLOY_SPEC_ORDER = ["replicas", "selector", "template", "strategy",
                     "minReadySeconds", "revisionHistoryLimit", "paused",
                     "progressDeadlineSeconds"]
CORE_EVENT_ORDER = ["kind", "apiVersion", "metadata", "involvedObject",
                    "reason", "message", "source", "firstTimestamp",
                    "lastTimestamp", "count", "type", "eventTime", "series",
                    "action", "related", "reportingComponent",
                    "reportingInstance"]
V1_EVENT_ORDER = ["kind", "apiVersion", "metadata", "eventTime", "series",
                  "reportingController", "reportingInstance", "action",
                  "reason", "regarding", "related", "note", "type",
                  "deprecatedSource", "deprecatedFirstTimestamp",
                  "deprecatedLastTimestamp", "deprecatedCount"]
OBJREF_ORDER = ["kind", "namespace", "name", "uid", "apiVersion",
                "resourceVersion", "fieldPath"]
SORTED_MAPS = {"labels", "annotations", "limits", "requests", "matchLabels",
               "nodeSelector", "data", "binaryData", "stringData"}


def _ordered(d, order):
    if not isinstance(d, dict):
        return d
    out = {k: d[k] for k in order if k in d}
    for k, v in d.items():
        if k not in out:
            out[k] = v
    return out


def _sort_maps(o, key=None):
    if isinstance(o, dict):
        if key in SORTED_MAPS and all(not isinstance(v, (dict, list))
                                      for v in o.values()):
            return {k: o[k] for k in sorted(o)}
        return {k: _sort_maps(v, k) for k, v in o.items()}
    if isinstance(o, list):
        return [_sort_maps(v) for v in o]
    return o


def _order_podspec(spec):
    spec = _ordered(spec, POD_SPEC_ORDER)
    for f in ("containers", "initContainers"):
        if isinstance(spec.get(f), list):
            spec[f] = [_ordered(c, CONTAINER_ORDER) for c in spec[f]]
    return spec


def order_object(obj):
    """Return obj with fields in kube-apiserver's print order."""
    if not isinstance(obj, dict):
        return obj
    obj = _sort_maps(obj)
    kind = obj.get("kind")
    if kind == "Event" and obj.get("apiVersion") == "events.k8s.io/v1":
        obj = _ordered(obj, V1_EVENT_ORDER)
        for f in ("regarding", "related"):
            if isinstance(obj.get(f), dict):
                obj[f] = _ordered(obj[f], OBJREF_ORDER)
    elif kind == "Event":
        obj = _ordered(obj, CORE_EVENT_ORDER)
        for f in ("involvedObject", "related"):
            if isinstance(obj.get(f), dict):
                obj[f] = _ordered(obj[f], OBJREF_ORDER)
    else:
        obj = _ordered(obj, ["kind", "apiVersion", "metadata", "spec"])
        if "status" in obj:
            obj["status"] = obj.pop("status")
    if isinstance(obj.get("metadata"), dict):
        obj["metadata"] = _ordered(obj["metadata"], META_ORDER)
    spec = obj.get("spec")
    if isinstance(spec, dict):
        if kind == "Pod":
            obj["spec"] = _order_podspec(spec)
        elif kind in ("Deployment", "ReplicaSet", "StatefulSet",
                      "DaemonSet", "Job"):
            spec = _ordered(spec, DEPLOY_SPEC_ORDER)
            t = spec.get("template")
            if isinstance(t, dict):
                t = _ordered(t, ["metadata", "spec"])
                if isinstance(t.get("metadata"), dict):
                    t["metadata"] = _ordered(t["metadata"], META_ORDER)
                if isinstance(t.get("spec"), dict):
                    t["spec"] = _order_podspec(t["spec"])
                spec["template"] = t
            obj["spec"] = spec
    return obj
