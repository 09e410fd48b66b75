"""remediate bump-memory against the Kubernetes API emulator (HTTPS on
127.0.0.1): the controllers it changes and those it refuses, the cap,
limits, opt-in, client and server dry runs, the patch it sends (read back
from the emulator's request log) and the Event it leaves."""
import json
import os
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "kube"))
from kubehelp import Emulator  # noqa: E402
from conftest import binary  # noqa: E402

OPTIN = {"remediation.platform/optin": "true"}


@pytest.fixture
def emu():
    with Emulator(http=False) as e:
        e.load({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": "shop"}})
        yield e


def bump(emu, *args):
    p = subprocess.run([binary(), "bump-memory", "--kubeconfig",
                        emu.kubeconfig] + list(args), capture_output=True,
                       text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def containers(request="256Mi", limit="512Mi", names=("app",)):
    out = []
    for n in names:
        res = {}
        if request:
            res.setdefault("requests", {})["memory"] = request
        if limit:
            res.setdefault("limits", {})["memory"] = limit
        out.append({"name": n, "image": "example/%s:1" % n,
                    "resources": res})
    return out


def owner(obj, controller=True):
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"],
            "name": obj["metadata"]["name"], "uid": obj["metadata"]["uid"],
            "controller": controller, "blockOwnerDeletion": True}


def workload(emu, kind, name, labels=None, **kw):
    api = "batch/v1" if kind == "Job" else "apps/v1"
    sel = {"app": name}
    obj = {"apiVersion": api, "kind": kind,
           "metadata": {"name": name, "namespace": "shop",
                        "labels": dict(sel, **(labels or {}))},
           "spec": {"selector": {"matchLabels": sel},
                    "template": {"metadata": {"labels": sel},
                                 "spec": {"containers": containers(**kw)}}}}
    if kind == "Job":
        obj["spec"]["template"]["spec"]["restartPolicy"] = "Never"
        del obj["spec"]["selector"]
    emu.load(obj)
    return emu.get(api, kind, "shop", name)


def make_pod(emu, name, owner_obj=None, labels=None, oom="app", **kw):
    p = {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": name, "namespace": "shop",
                      "labels": labels or {}},
         "spec": {"containers": containers(**kw)}}
    if owner_obj:
        p["metadata"]["ownerReferences"] = [owner(owner_obj)]
    emu.load(p)
    if oom:
        emu.oom_kill("shop", name, oom)
    return emu.get("v1", "Pod", "shop", name)


def deployment_chain(emu, name="checkout", dep_labels=OPTIN,
                     pod_labels=None, oom="app", **kw):
    dep = workload(emu, "Deployment", name, labels=dep_labels, **kw)
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
          "metadata": {"name": name + "-6d5f8b7c9d", "namespace": "shop",
                       "labels": {"app": name},
                       "ownerReferences": [owner(dep)]},
          "spec": {"selector": {"matchLabels": {"app": name}},
                   "template": dep["spec"]["template"]}}
    emu.load(rs)
    rs = emu.get("apps/v1", "ReplicaSet", "shop", rs["metadata"]["name"])
    pod = make_pod(emu, name + "-6d5f8b7c9d-x7k2p", rs, labels=pod_labels,
                   oom=oom, **kw)
    return dep, pod


def limitrange_chain(emu, request="256Mi", pod_limit="300Mi"):
    """A Deployment whose template sets no memory limit, and its pod as a
    namespace LimitRange admitted it: with a defaulted limit (the emulator
    has no LimitRange, so the pod is stored as admitted)."""
    dep = workload(emu, "Deployment", "checkout", labels=OPTIN,
                   request=request, limit=None)
    emu.load({"apiVersion": "apps/v1", "kind": "ReplicaSet",
              "metadata": {"name": "checkout-6d5f8b7c9d", "namespace": "shop",
                           "labels": {"app": "checkout"},
                           "ownerReferences": [owner(dep)]},
              "spec": {"selector": {"matchLabels": {"app": "checkout"}},
                       "template": dep["spec"]["template"]}})
    rs = emu.get("apps/v1", "ReplicaSet", "shop", "checkout-6d5f8b7c9d")
    pod = make_pod(emu, "checkout-6d5f8b7c9d-x7k2p", rs,
                   request=request or "256Mi", limit=pod_limit)
    return dep, pod


def memory(obj, container="app"):
    for c in obj["spec"]["template"]["spec"]["containers"]:
        if c["name"] == container:
            r = c.get("resources", {})
            return (r.get("requests", {}).get("memory"),
                    r.get("limits", {}).get("memory"))
    return None


def patches(emu):
    return [r for r in emu.requests() if r["method"] == "PATCH"]


def events(emu):
    return [r["body"] for r in emu.requests() if r["method"] == "POST" and
            r["path"].endswith("/events")]


def test_deployment_is_patched_and_event_recorded(emu):
    dep, pod = deployment_chain(emu)
    rc, out, err = bump(emu, "--pod", pod["metadata"]["name"],
                        "--namespace", "shop", "--increment", "25%",
                        "--cap", "8Gi", "--dry-run=false")
    assert rc == 0, err
    assert "request 256Mi -> 320Mi, limit 512Mi -> 640Mi" in out
    live = emu.get("apps/v1", "Deployment", "shop", "checkout")
    assert memory(live) == ("320Mi", "640Mi")
    ann = live["metadata"]["annotations"]
    assert ann["remediation.platform/last-action"] == "memory-request-raise"
    note = json.loads(ann["remediation.platform/last-change"])
    assert note["container"] == "app" and note["requestFrom"] == "256Mi"
    assert note["requestTo"] == "320Mi" and note["limitTo"] == "640Mi"
    assert note["increment"] == "25%" and note["cap"] == "8Gi"
    (p,) = patches(emu)
    assert p["path"] == "/apis/apps/v1/namespaces/shop/deployments/checkout"
    assert p["contentType"] == "application/strategic-merge-patch+json"
    assert p["body"]["metadata"]["resourceVersion"] == \
        dep["metadata"]["resourceVersion"]
    assert p["body"]["spec"]["template"]["spec"]["containers"] == [
        {"name": "app", "resources": {"requests": {"memory": "320Mi"},
                                      "limits": {"memory": "640Mi"}}}]
    assert "dryRun" not in p["query"]
    (ev,) = events(emu)
    assert ev["reason"] == "Remediated" and ev["type"] == "Normal"
    assert ev["involvedObject"]["kind"] == "Deployment"
    assert ev["involvedObject"]["name"] == "checkout"
    assert ev["involvedObject"]["uid"] == dep["metadata"]["uid"]
    assert "256Mi -> 320Mi" in ev["message"]
    assert "after OOMKilled" in ev["message"]
    assert "restartCount=1" in ev["message"]


@pytest.mark.parametrize("kind", ["StatefulSet", "DaemonSet"])
def test_statefulset_and_daemonset(emu, kind):
    w = workload(emu, kind, "db", labels=OPTIN)
    pod = make_pod(emu, "db-0", w)
    rc, out, err = bump(emu, "--pod=db-0", "--namespace=shop")
    assert rc == 0, err
    assert memory(emu.get("apps/v1", kind, "shop", "db")) == \
        ("320Mi", "640Mi")
    assert patches(emu)[0]["path"] == \
        "/apis/apps/v1/namespaces/shop/%ss/db" % kind.lower()
    assert pod["metadata"]["name"] == "db-0"


def test_bare_pod_refused(emu):
    make_pod(emu, "lonely", labels=OPTIN)
    rc, out, err = bump(emu, "--pod", "lonely", "-n", "shop")
    assert rc == 1
    assert "refused" in err and "bare Pod" in err
    assert patches(emu) == [] and events(emu) == []


def test_job_pod_refused(emu):
    job = workload(emu, "Job", "batch", labels=OPTIN)
    make_pod(emu, "batch-abcde", job)
    rc, out, err = bump(emu, "--pod", "batch-abcde", "-n", "shop")
    assert rc == 1
    assert "Job batch" in err and "run to completion" in err
    assert patches(emu) == []


def test_at_cap_changes_nothing(emu):
    dep, pod = deployment_chain(emu, request="8Gi", limit="8Gi")
    before = emu.get("apps/v1", "Deployment", "shop", "checkout")
    rc, out, err = bump(emu, "--pod", pod["metadata"]["name"], "-n", "shop",
                        "--cap", "8Gi")
    assert rc == 1
    assert "at cap" in err
    assert patches(emu) == [] and events(emu) == []
    assert emu.get("apps/v1", "Deployment", "shop", "checkout") == before


def test_cap_bounds_request_and_limit(emu):
    dep, pod = deployment_chain(emu, request="7Gi", limit="7680Mi")
    rc, out, err = bump(emu, "--pod", pod["metadata"]["name"], "-n", "shop",
                        "--cap", "8Gi")
    assert rc == 0, err
    assert "(capped)" in out
    assert memory(emu.get("apps/v1", "Deployment", "shop", "checkout")) == \
        ("8Gi", "8Gi")


@pytest.mark.parametrize("limit,want", [
    ("300Mi", ("320Mi", "375Mi")),     # below the new request: grows past
    ("4Gi", ("320Mi", "5Gi")),         # above it: grows by the increment
    (None, ("320Mi", None)),           # no limit: none added
])
def test_limits(emu, limit, want):
    dep, pod = deployment_chain(emu, limit=limit)
    rc, out, err = bump(emu, "--pod", pod["metadata"]["name"], "-n", "shop")
    assert rc == 0, err
    assert memory(emu.get("apps/v1", "Deployment", "shop", "checkout")) == \
        want


def test_limit_the_pod_got_from_a_limitrange_grows_into_the_template(emu):
    """The kill was at the pod's limit (a LimitRange default), not in the
    template: raising only the request would fix nothing, and a request of
    320Mi above the defaulted 300Mi limit makes new pods be refused."""
    dep, pod = limitrange_chain(emu)
    rc, out, err = bump(emu, "--pod", pod["metadata"]["name"], "-n", "shop")
    assert rc == 0, err
    assert "memory limit:   300Mi (the pod's, not in the template) -> " \
        "375Mi" in out
    assert "request 256Mi -> 320Mi, limit 300Mi (the pod's, not in the " \
        "template) -> 375Mi" in out
    (p,) = patches(emu)
    assert p["body"]["spec"]["template"]["spec"]["containers"] == [
        {"name": "app", "resources": {"requests": {"memory": "320Mi"},
                                      "limits": {"memory": "375Mi"}}}]
    live = emu.get("apps/v1", "Deployment", "shop", "checkout")
    assert memory(live) == ("320Mi", "375Mi")
    note = json.loads(live["metadata"]["annotations"][
        "remediation.platform/last-change"])
    assert note["limitFrom"] == "300Mi" and note["limitTo"] == "375Mi"
    assert note["limitSource"] == "pod"
    (ev,) = events(emu)
    assert "the pod's, not in the template" in ev["message"]


def test_limit_of_the_pod_without_a_template_request_is_refused(emu):
    dep, pod = limitrange_chain(emu, request=None)
    rc, out, err = bump(emu, "--pod", pod["metadata"]["name"], "-n", "shop")
    assert rc == 1
    assert "the pod runs with limit 300Mi" in err
    assert "set the memory request and limit in the template" in err
    assert patches(emu) == []


def test_zero_request_by_a_percentage_is_not_a_raise(emu):
    dep, pod = deployment_chain(emu, request="0", limit=None)
    before = emu.get("apps/v1", "Deployment", "shop", "checkout")
    rc, out, err = bump(emu, "--pod", pod["metadata"]["name"], "-n", "shop")
    assert rc == 1
    assert "nothing to raise" in err and "raised" not in out
    assert patches(emu) == [] and events(emu) == []
    assert emu.get("apps/v1", "Deployment", "shop", "checkout") == before


def test_absolute_increment_and_decimal_quantities(emu):
    dep, pod = deployment_chain(emu, request="1G", limit="2G")
    rc, out, err = bump(emu, "--pod", pod["metadata"]["name"], "-n", "shop",
                        "--increment", "500M", "--cap", "10G")
    assert rc == 0, err
    assert memory(emu.get("apps/v1", "Deployment", "shop", "checkout")) == \
        ("1500M", "2500M")


def test_not_opted_in_refused(emu):
    dep, pod = deployment_chain(emu, dep_labels={})
    rc, out, err = bump(emu, "--pod", pod["metadata"]["name"], "-n", "shop")
    assert rc == 1
    assert "not opted in" in err
    assert "remediation.platform/optin=true" in err
    assert patches(emu) == []


def test_opt_in_on_the_pod_is_enough(emu):
    dep, pod = deployment_chain(emu, dep_labels={}, pod_labels=OPTIN)
    rc, out, err = bump(emu, "--pod", pod["metadata"]["name"], "-n", "shop")
    assert rc == 0, err


@pytest.mark.parametrize("dep,pod", [
    ({"remediation.platform/optin": "false"}, OPTIN),
    (OPTIN, {"remediation.platform/optin": "false"}),
])
def test_opt_in_false_on_either_side_vetoes(emu, dep, pod):
    dep, pod = deployment_chain(emu, dep_labels=dep, pod_labels=pod)
    rc, out, err = bump(emu, "--pod", pod["metadata"]["name"], "-n", "shop")
    assert rc == 1
    assert "opts out" in err
    assert patches(emu) == []


@pytest.mark.parametrize("flag", ["--dry-run", "--dry-run=true"])
def test_client_dry_run_sends_nothing(emu, flag):
    dep, pod = deployment_chain(emu)
    before = emu.get("apps/v1", "Deployment", "shop", "checkout")
    rc, out, err = bump(emu, "--pod", pod["metadata"]["name"], "-n", "shop",
                        flag)
    assert rc == 0, err
    assert "memory request: 256Mi -> 320Mi" in out
    assert "memory limit:   512Mi -> 640Mi" in out
    assert "PATCH /apis/apps/v1/namespaces/shop/deployments/checkout" in out
    assert "dry run: nothing sent" in out
    body = out[out.index("{"):out.rindex("}") + 1]
    patch = json.loads(body)
    assert patch["spec"]["template"]["spec"]["containers"][0][
        "resources"]["requests"]["memory"] == "320Mi"
    assert [r["method"] for r in emu.requests()
            if r["method"] != "GET"] == []
    assert emu.get("apps/v1", "Deployment", "shop", "checkout") == before


def test_server_dry_run(emu):
    dep, pod = deployment_chain(emu)
    before = emu.get("apps/v1", "Deployment", "shop", "checkout")
    rc, out, err = bump(emu, "--pod", pod["metadata"]["name"], "-n", "shop",
                        "--dry-run=server")
    assert rc == 0, err
    assert "server dry run" in out
    (p,) = patches(emu)
    assert "dryRun=All" in p["query"] and p["status"] == 200
    assert emu.get("apps/v1", "Deployment", "shop", "checkout") == before
    assert events(emu) == []


def test_container_selection(emu):
    dep, pod = deployment_chain(emu, names=("app", "sidecar"), oom="sidecar")
    rc, out, err = bump(emu, "--pod", pod["metadata"]["name"], "-n", "shop")
    assert rc == 0, err
    live = emu.get("apps/v1", "Deployment", "shop", "checkout")
    assert memory(live, "sidecar") == ("320Mi", "640Mi")
    assert memory(live, "app") == ("256Mi", "512Mi")
    rc, out, err = bump(emu, "--pod", pod["metadata"]["name"], "-n", "shop",
                        "--container", "app")
    assert rc == 0, err
    live = emu.get("apps/v1", "Deployment", "shop", "checkout")
    assert memory(live, "app") == ("320Mi", "640Mi")
    rc, out, err = bump(emu, "--pod", pod["metadata"]["name"], "-n", "shop",
                        "--container", "nope")
    assert rc == 1 and 'no container "nope"' in err


def test_two_containers_none_killed_needs_a_name(emu):
    dep, pod = deployment_chain(emu, names=("app", "sidecar"), oom=None)
    rc, out, err = bump(emu, "--pod", pod["metadata"]["name"], "-n", "shop")
    assert rc == 1 and "--container" in err


def test_api_failure_is_reported_and_recorded(emu):
    dep, pod = deployment_chain(emu)
    emu.forbid(verb="patch", resource="deployments")
    rc, out, err = bump(emu, "--pod", pod["metadata"]["name"], "-n", "shop")
    assert rc == 1
    assert "403 Forbidden" in err and "cannot patch resource" in err
    (ev,) = events(emu)
    assert ev["reason"] == "RemediationFailed" and ev["type"] == "Warning"


def test_conflict_recomputes_from_the_fresh_object(emu):
    dep, pod = deployment_chain(emu)
    emu.fault({"type": "error", "status": 409, "reason": "Conflict",
               "message": "the object has been modified", "method": "PATCH",
               "count": 1})
    rc, out, err = bump(emu, "--pod", pod["metadata"]["name"], "-n", "shop")
    assert rc == 0, err
    assert [p["status"] for p in patches(emu)] == [409, 200]
    assert memory(emu.get("apps/v1", "Deployment", "shop", "checkout")) == \
        ("320Mi", "640Mi")


def test_committed_patch_answered_5xx_is_not_bumped_twice(emu):
    """The API server carries the PATCH out and answers 504 (its timeout
    filter does); the client resends it with the now stale resourceVersion
    and gets 409. That is our own write: one kill, one increment."""
    dep, pod = deployment_chain(emu)
    emu.fault({"type": "error", "status": 504, "method": "PATCH",
               "path": "/deployments/checkout$", "hold": "h"})
    emu.clear_requests()
    pr = subprocess.Popen([binary(), "bump-memory", "--kubeconfig",
                           emu.kubeconfig, "--pod", pod["metadata"]["name"],
                           "-n", "shop"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    for _ in range(400):
        if emu.held("h"):
            break
        time.sleep(0.05)
    body = patches(emu)[0]["body"]
    emu.change(apiVersion="apps/v1", kind="Deployment", namespace="shop",
               name="checkout", strategic=body)
    emu.release("h")
    out, err = pr.communicate(timeout=60)
    assert pr.returncode == 0, err
    assert [p["status"] for p in patches(emu)] == [504, 409]
    assert "request 256Mi -> 320Mi, limit 512Mi -> 640Mi" in out
    assert "confirmed by re-reading" in out
    assert memory(emu.get("apps/v1", "Deployment", "shop", "checkout")) == \
        ("320Mi", "640Mi")
    (ev,) = events(emu)
    assert ev["reason"] == "Remediated"


def test_missing_pod_and_usage(emu):
    rc, out, err = bump(emu, "--pod", "ghost", "-n", "shop")
    assert rc == 1 and 'pods "ghost" not found' in err
    rc, out, err = bump(emu, "-n", "shop")
    assert rc == 2 and "--pod is required" in err
    rc, out, err = bump(emu, "--pod", "x", "--increment", "lots")
    assert rc == 2 and "--increment" in err
    rc, out, err = bump(emu, "--pod", "x", "--dry-run=maybe")
    assert rc == 2
