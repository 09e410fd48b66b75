"""`remediate rbac` prints the least privilege a configuration needs, and
`run` asks the API server (SelfSubjectAccessReview) for exactly those
permissions at start, naming every missing one in its log and /readyz."""
import json
import os
import time

import yaml

import scenario
from conftest import ROOT, run
from conftest import (Daemon, Emulator, cluster_objects, http_get,
                      listening_port)
from test_run_live import live_manifests  # noqa: F401

SEED = os.path.join(ROOT, "examples", "seed", "manifests")
SSAR = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"


def rbac(*args):
    p = run("rbac", *args)
    docs = [d for d in yaml.safe_load_all(p.stdout) if d] \
        if p.returncode == 0 else []
    return p, docs


def grants(docs):
    """{(namespace or None, group, resource, verb)} the roles grant."""
    out = set()
    for d in docs:
        if not d or d["kind"] not in ("ClusterRole", "Role"):
            continue
        ns = d["metadata"].get("namespace")
        for r in d["rules"]:
            for g in r["apiGroups"]:
                for res in r["resources"]:
                    for v in r["verbs"]:
                        out.add((ns, g, res, v))
    return out


def test_seed_rbac_is_least_privilege_with_reasons():
    p, docs = rbac("-c", SEED)
    assert p.returncode == 0, p.stderr
    kinds = [(d["kind"], d["metadata"].get("namespace")) for d in docs]
    assert kinds == [("ClusterRole", None), ("ClusterRoleBinding", None),
                     ("Role", "argo-events"), ("RoleBinding", "argo-events")]
    g = grants(docs)
    # the cluster view, read fresh at a decision (ownership check, the
    # policy's lookup('Pod', ...))
    view = {(None, grp, res, v) for grp, res in (
        ("", "pods"), ("apps", "replicasets"), ("apps", "deployments"),
        ("apps", "statefulsets"), ("apps", "daemonsets"),
        ("batch", "jobs")) for v in ("list", "watch", "get")}
    assert g == view | {
        # the ownership check: does the target's Application self-heal
        (None, "argoproj.io", "applications", "get"),
        (None, "", "events", "list"), (None, "", "events", "watch"),
        (None, "", "events", "create"),
        # the Workflow is created in the sensor's namespace only, and
        # read back there when its create timed out
        ("argo-events", "argoproj.io", "workflows", "create"),
        ("argo-events", "argoproj.io", "workflows", "get")}
    # no write on a workload, no secrets, nothing cluster-wide to create
    assert not any(v in ("patch", "update", "delete") for *_, v in g)
    # every rule says which manifest needs it
    text = p.stdout
    assert "# Sensor argo-events/oom-remediation (%s/sensor.yaml): " \
        "trigger bump-memory-request: k8s create Workflow" % SEED in text
    assert "# EventSource argo-events/oomkilled-events (%s/eventsource." \
        "yaml): resource source oom-events" % SEED in text
    assert "leases" in text and "leases" not in str(g)
    sub = docs[1]["subjects"][0]
    assert (sub["namespace"], sub["name"]) == ("remediate", "remediate")


def test_native_actions_get_their_verbs_everywhere():
    p, docs = rbac("-c", os.path.join(ROOT, "examples", "actions",
                                      "bump-memory"),
                   "--service-account", "ops/fixer", "--name", "fixer")
    assert p.returncode == 0, p.stderr
    g = grants(docs)
    for res in ("deployments", "statefulsets", "daemonsets"):
        assert (None, "apps", res, "patch") in g
    assert (None, "", "nodes", "list") in g     # bumpMemory's blast radius
    assert docs[0]["metadata"]["name"] == "fixer"
    assert docs[1]["subjects"][0] == {"kind": "ServiceAccount",
                                      "name": "fixer", "namespace": "ops"}
    p, docs = rbac("-c", os.path.join(ROOT, "examples", "actions",
                                      "restart-pod"))
    g = grants(docs)
    assert (None, "", "pods", "delete") in g
    assert (None, "", "nodes", "list") not in g


def test_a_templated_kind_is_an_error_not_a_silent_gap(tmp_path):
    s = open(os.path.join(SEED, "sensor.yaml")).read()
    s = s.replace("kind: Workflow", "kind: \"{{ .Input.body.kind }}\"")
    for f in ("eventsource.yaml", "config.yaml"):
        (tmp_path / f).write_text(open(os.path.join(SEED, f)).read())
    (tmp_path / "sensor.yaml").write_text(s)
    p = run("rbac", "-c", str(tmp_path))
    assert p.returncode == 1
    assert "trigger bump-memory-request: the resource's apiVersion or " \
        "kind is templated" in p.stderr
    assert "sensor.yaml" in p.stderr


def test_rbac_usage_errors():
    assert run("rbac").returncode == 2
    p = run("rbac", "-c", SEED, "--service-account", "nonamespace")
    assert p.returncode == 2 and "NAMESPACE/NAME" in p.stderr
    assert "rbac -c DIR" in run("--help").stdout


def test_run_asks_for_exactly_what_rbac_grants(live_manifests):
    _, docs = rbac("-c", str(live_manifests))
    want = grants(docs)
    with Emulator() as emu:
        emu.load(cluster_objects([scenario.Workload("shop", "cart")]))
        d = Daemon(live_manifests, emu.kubeconfig)
        try:
            d.wait_log("synced")
            port = listening_port(d)
            assert http_get(port, "/readyz") == (200, "ok\n")
            asked = set()
            for r in emu.requests():
                if r["path"] == SSAR:
                    a = r["body"]["spec"]["resourceAttributes"]
                    asked.add((a.get("namespace"), a["group"],
                               a["resource"], a["verb"]))
        finally:
            d.stop()
    assert asked == want


def test_a_missing_permission_is_named_in_the_log_and_readyz(
        live_manifests):
    with Emulator() as emu:
        emu.load(cluster_objects([scenario.Workload("shop", "cart")]))
        emu.forbid(verb="create", resource="workflows",
                   group="argoproj.io", namespace="argo-events")
        d = Daemon(live_manifests, emu.kubeconfig)
        try:
            d.wait_log("synced")
            port = listening_port(d)
            status, text = http_get(port, "/readyz")
        finally:
            d.stop()
    assert status == 503
    rep = json.loads(text)
    assert rep["watches"] == []
    assert [(p["group"], p["resource"], p["verb"], p["namespace"])
            for p in rep["permissions"]] == [
        ("argoproj.io", "workflows", "create", "argo-events")]
    assert "sensor.yaml" in rep["permissions"][0]["neededBy"]
    logged = d.all_logs()
    missing = [x for x in logged if x.get("msg") == "permission missing"]
    assert len(missing) == 1 and missing[0]["resource"] == "workflows"
    summary = [x for x in logged if x.get("msg") == "permissions"]
    assert summary and summary[0]["missing"] == 1


def test_granting_it_later_makes_run_ready_without_a_restart(
        live_manifests):
    with Emulator() as emu:
        emu.load(cluster_objects([scenario.Workload("shop", "cart")]))
        emu.forbid(verb="list", resource="nodes")
        emu.forbid(verb="create", resource="events")
        d = Daemon(live_manifests, emu.kubeconfig)
        try:
            d.wait_log("synced")
            port = listening_port(d)
            status, text = http_get(port, "/readyz")
            assert status == 503
            assert [p["resource"] for p in json.loads(text)[
                "permissions"]] == ["events"]    # no bumpMemory: no nodes
            emu.configure(forbidden=[])
            d.wait_log("permission granted", timeout=60)
            status, text = http_get(port, "/readyz")
        finally:
            d.stop()
    assert (status, text) == (200, "ok\n")


def sent(req):
    """(namespace, group, resource, verb) a logged request needs, or None
    for what RBAC does not guard (discovery, access reviews)."""
    parts = req["path"].split("?")[0].strip("/").split("/")
    if parts[:2] == ["api", "v1"]:
        group, rest = "", parts[2:]
    elif parts[0] == "apis" and len(parts) >= 3:
        group, rest = parts[1], parts[3:]
    else:
        return None
    if group == "authorization.k8s.io" or not rest:
        return None
    ns = None
    if rest[0] == "namespaces" and len(rest) >= 3:
        ns, rest = rest[1], rest[2:]
    resource = rest[0] + ("/" + rest[2] if len(rest) > 2 else "")
    named = len(rest) > 1
    verb = {"POST": "create", "PUT": "update", "PATCH": "patch",
            "DELETE": "delete"}.get(req["method"])
    if verb is None:
        verb = "get" if named else "watch" if req["watch"] else "list"
    return ns, group, resource, verb


def test_rbac_grants_every_request_run_sends(live_manifests):
    """The seed example live, with the actions it takes: every request
    `run` sends is one the printed roles grant (list does not grant get:
    the ownership check reads the target Deployment fresh)."""
    _, docs = rbac("-c", str(live_manifests))
    g = grants(docs)
    ws = [scenario.Workload("shop", n) for n in ("cart", "checkout")]
    with Emulator() as emu:
        emu.load(cluster_objects(ws))
        d = Daemon(live_manifests, emu.kubeconfig)
        try:
            d.wait_log("synced")
            for _ in range(2):
                for w in ws:
                    emu.oom_kill("shop", scenario.pod_name(w.name, 0))
                recs = d.take(2)
            reqs = emu.requests()
        finally:
            d.stop()
    assert [r["decision"] for r in recs] == ["acted", "acted"], recs
    need = {s for s in map(sent, reqs) if s}
    missing = {(ns, grp, res, v) for ns, grp, res, v in need
               if (ns, grp, res, v) not in g and
               (None, grp, res, v) not in g}
    assert missing == set()
