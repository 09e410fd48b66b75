"""Builds cluster snapshots and recorded signal streams for replay.

One generator serves the demo data in examples/, the end-to-end tests and
bench/replay, so all three exercise the same shapes: Deployments owning
ReplicaSets owning Pods (opt-in label where asked), and Pod MODIFIED watch
lines whose container status turns OOMKilled, which the engine's OOM
detector turns into the core/v1 Events the seed's EventSource watches.

Standard library only (run with /usr/bin/python3).
"""
import datetime
import hashlib
import json
import os

OPTIN = "remediation.platform/optin"


def ts(t):
    """RFC 3339 UTC for a datetime."""
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")


def rs_name(deploy):
    h = hashlib.sha1(deploy.encode()).hexdigest()
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    return deploy + "-" + "".join(alphabet[int(h[i:i + 2], 16) % 27]
                                  for i in range(0, 20, 2))


def pod_name(deploy, i):
    return "%s-%s" % (rs_name(deploy), "x%04d" % i)


class Workload:
    """A Deployment with its ReplicaSet and Pods."""

    def __init__(self, ns, name, replicas=2, deploy_optin=True,
                 pod_optin=True, memory="256Mi", limit="512Mi"):
        self.ns, self.name, self.replicas = ns, name, replicas
        self.deploy_optin, self.pod_optin = deploy_optin, pod_optin
        self.memory, self.limit = memory, limit
        self.kills = {}          # pod index -> (restarts, finishedAt)

    def labels(self, optin):
        """optin: True for the label "true", a string for that value."""
        lab = {"app": self.name}
        if optin:
            lab[OPTIN] = optin if isinstance(optin, str) else "true"
        return lab

    def deployment(self):
        return {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": self.name, "namespace": self.ns,
                         "uid": "uid-d-%s-%s" % (self.ns, self.name),
                         "labels": self.labels(self.deploy_optin)},
            "spec": {"replicas": self.replicas,
                     "selector": {"matchLabels": {"app": self.name}},
                     "template": {"metadata": {"labels": self.labels(
                         self.pod_optin)}, "spec": {"containers": [
                             self.container()]}}},
        }

    def container(self):
        return {"name": "app", "image": "registry.example/%s:1" % self.name,
                "resources": {"requests": {"memory": self.memory},
                              "limits": {"memory": self.limit}}}

    def replicaset(self):
        return {
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": rs_name(self.name), "namespace": self.ns,
                         "labels": {"app": self.name},
                         "ownerReferences": [{
                             "apiVersion": "apps/v1", "kind": "Deployment",
                             "name": self.name, "controller": True,
                             "uid": "uid-d-%s-%s" % (self.ns, self.name)}]},
            "spec": {"replicas": self.replicas},
        }

    def pod(self, i, fresh=False):
        """Pod i as it is now, or before any kill (fresh)."""
        restarts, finished = (0, None) if fresh else self.kills.get(
            i, (0, None))
        status = {"name": "app", "ready": True, "restartCount": restarts,
                  "state": {"running": {"startedAt": "2026-11-25T09:00:00Z"}}}
        if finished:
            status["lastState"] = {"terminated": {
                "reason": "OOMKilled", "exitCode": 137,
                "startedAt": "2026-11-25T09:00:00Z", "finishedAt": finished,
                "containerID": "containerd://%s-%d" % (pod_name(self.name, i),
                                                       restarts)}}
        return {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": pod_name(self.name, i), "namespace": self.ns,
                         "uid": "uid-p-%s-%d" % (self.name, i),
                         "labels": self.labels(self.pod_optin),
                         "ownerReferences": [{
                             "apiVersion": "apps/v1", "kind": "ReplicaSet",
                             "name": rs_name(self.name), "controller": True}]},
            "spec": {"containers": [self.container()]},
            "status": {"phase": "Running", "containerStatuses": [status]},
        }

    def objects(self):
        """The snapshot: the workload before any of the recorded kills."""
        return ([self.deployment(), self.replicaset()] +
                [self.pod(i, fresh=True) for i in range(self.replicas)])

    def oom(self, i, when):
        """A watch line: pod i's container was OOM-killed at `when`."""
        restarts, _ = self.kills.get(i, (0, None))
        self.kills[i] = (restarts + 1, ts(when))
        return {"time": ts(when),
                "watch": {"type": "MODIFIED", "object": self.pod(i)}}


def filler_pods(ns, n):
    """Bare pods that give the cluster its size (for blast radius)."""
    return [{"apiVersion": "v1", "kind": "Pod",
             "metadata": {"name": "%s-%d" % (ns, i), "namespace": ns},
             "status": {"phase": "Running"}} for i in range(n)]


def write_list(path, objects):
    with open(path, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": objects},
                  f, indent=1)
        f.write("\n")


SNAPSHOT_FORMATS = ("list", "kubectl", "typed", "ndjson", "yaml",
                    "yaml-list")


def write_snapshot(d, objects, fmt):
    """The same objects as a snapshot directory d in one of the shapes
    replay reads: "list" (write_list), "kubectl" (`kubectl get -o json`:
    keys sorted, so "items" before "kind"), "typed" (one *List per kind,
    as the API server lists them: items without kind and apiVersion),
    "ndjson" (one object a line), "yaml" (one document per object),
    "yaml-list" (a List as one YAML document)."""
    os.makedirs(d, exist_ok=True)
    if fmt == "list":
        write_list(os.path.join(d, "cluster.json"), objects)
    elif fmt == "kubectl":
        with open(os.path.join(d, "cluster.json"), "w") as f:
            json.dump({"apiVersion": "v1", "items": objects, "kind": "List",
                       "metadata": {"resourceVersion": ""}}, f, indent=4,
                      sort_keys=True)
    elif fmt == "typed":
        kinds = {}
        for o in objects:
            kinds.setdefault((o["kind"], o["apiVersion"]), []).append(
                {k: v for k, v in o.items()
                 if k not in ("kind", "apiVersion")})
        for (kind, av), items in sorted(kinds.items()):
            with open(os.path.join(d, kind.lower() + "s.json"), "w") as f:
                json.dump({"kind": kind + "List", "apiVersion": av,
                           "metadata": {"resourceVersion": "1"},
                           "items": items}, f, separators=(",", ":"))
    elif fmt == "ndjson":
        write_ndjson(os.path.join(d, "cluster.json"), objects)
    elif fmt in ("yaml", "yaml-list"):
        import yaml
        with open(os.path.join(d, "cluster.yaml"), "w") as f:
            if fmt == "yaml":
                yaml.safe_dump_all(objects, f)
            else:
                yaml.safe_dump({"apiVersion": "v1", "kind": "List",
                                "items": objects}, f)
    else:
        raise ValueError(fmt)


def write_ndjson(path, lines):
    with open(path, "w") as f:
        for line in lines:
            f.write(json.dumps(line, separators=(",", ":")))
            f.write("\n")


def budget_line(when, ns, value):
    return {"time": ts(when),
            "query": 'slo:error_budget_remaining:ratio{namespace="%s"}' % ns,
            "value": value}
