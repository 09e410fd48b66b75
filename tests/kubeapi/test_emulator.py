"""Behaviour of the emulator beyond the recordings: faults, admin API,
selectors, paging, compaction, patches, deletion, discovery, CLI."""

import json
import os
import re
import signal
import sys
import tempfile
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from kubeapi import emulator                  # noqa: E402
from kubeapi.client import Client             # noqa: E402
from kubeapi.emulator import Emulator         # noqa: E402
from kubeapi.util import NAME_ALPHABET        # noqa: E402

FIX = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))), "data", "fixtures")
NS = "shop"


def pod(name, labels=None, node=None, phase=None, ns=NS):
    p = {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": name, "namespace": ns,
                      "labels": labels or {"app": "checkout"}},
         "spec": {"containers": [{"name": "app", "image": "img:1",
                                  "resources": {"requests": {
                                      "memory": "256Mi"},
                                      "limits": {"memory": "512Mi"}}}]}}
    if node:
        p["spec"]["nodeName"] = node
    if phase:
        p["status"] = {"phase": phase}
    return p


def deployment(name="checkout", ns=NS, replicas=2):
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns,
                         "labels": {"app": name}},
            "spec": {"replicas": replicas,
                     "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{
                                      "name": "app", "image": "img:1",
                                      "env": [{"name": "A", "value": "1"}],
                                      "ports": [{"containerPort": 8080}],
                                      "volumeMounts": [{
                                          "name": "data",
                                          "mountPath": "/data"}],
                                      "resources": {"requests": {
                                          "memory": "256Mi"},
                                          "limits": {"memory": "512Mi"}}}],
                                      "volumes": [{"name": "data",
                                                   "emptyDir": {}}]}}}}


@pytest.fixture
def emu():
    e = Emulator(http=True, config={"watch_time_scale": 0.1,
                                    "too_large_rv_wait": 0.2}).start()
    e.load({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": NS}})
    yield e
    e.stop()


@pytest.fixture
def cl(emu):
    return Client(emu.url, emu.token, user_agent="remediate/0.1")


def wait_watch(emu, n=1):
    deadline = time.monotonic() + 10
    while len(emu.front.open_watches) < n and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)


def lines_of(cl, path):
    status, headers, lines = cl.watch_events(path)
    return status, [json.loads(x) for x in lines]


# ------------------------------------------------------------ transport --

def test_cli_https_state_file_and_kubeconfig():
    d = tempfile.mkdtemp()
    sf = os.path.join(d, "state.json")
    proc, st = emulator.spawn(sf)
    try:
        assert st["scheme"] == "https" and st["port"] > 0
        assert os.path.exists(st["caFile"])
        assert st["url"] == "https://127.0.0.1:%d" % st["port"]
        with open(st["kubeconfig"]) as f:
            kc = f.read()
        assert "token: " + st["token"] in kc
        assert "certificate-authority: " + st["caFile"] in kc
        c = Client(st["url"], st["token"], st["caFile"])
        r = c.request("GET", "/api/v1/namespaces/default")
        assert r.status == 200
        assert r.json()["metadata"]["name"] == "default"
        # A client certificate signed by the emulator's CA also works.
        c2 = Client(st["url"], None, st["caFile"],
                    cert=(st["clientCert"], st["clientKey"]))
        assert c2.request("GET", "/api/v1/namespaces").status == 200
        assert c.request("GET", "/api", token="bad").status == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


def test_cli_load_dir_http(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(
        {"apiVersion": "v1", "kind": "List", "items": [pod("p1"),
                                                        pod("p2")]}))
    (tmp_path / "b.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
        "  namespace: shop\nspec:\n  selector:\n    matchLabels: {app: w}\n"
        "  template:\n    metadata:\n      labels:\n        app: w\n"
        "    spec:\n      containers:\n      - name: app\n"
        "        image: img:1\n---\napiVersion: v1\nkind: ConfigMap\n"
        "metadata:\n  name: cm\n  namespace: shop\ndata:\n  k: v\n")
    sf = str(tmp_path / "st.json")
    proc, st = emulator.spawn(sf, http=True, load=[str(tmp_path)])
    try:
        c = Client(st["url"], st["token"])
        r = c.request("GET", "/api/v1/namespaces/shop/pods")
        assert [i["metadata"]["name"] for i in r.json()["items"]] == \
            ["p1", "p2"]
        r = c.request("GET", "/apis/apps/v1/namespaces/shop/deployments/web")
        assert r.json()["spec"]["replicas"] == 1          # defaulted
        assert c.request("GET", "/api/v1/namespaces/shop/configmaps/cm"
                         ).json()["data"] == {"k": "v"}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


def test_large_bodies_are_chunked_small_ones_have_length(emu, cl):
    r = cl.request("GET", "/version")
    assert r.header("Content-Length") is not None
    for i in range(20):
        emu.load(pod("p%02d" % i))
    r = cl.request("GET", "/api/v1/namespaces/shop/pods")
    assert r.header("Transfer-Encoding") == "chunked"
    assert len(r.json()["items"]) == 20
    # Not curl: compact JSON, one line.
    assert b"\n" not in r.body.rstrip(b"\n")


# ------------------------------------------------------ auth and faults --

def test_forbidden_rule_403(emu, cl):
    emu.forbid(verb="patch", resource="deployments", namespace=NS)
    emu.load(deployment())
    r = cl.request("PATCH", "/apis/apps/v1/namespaces/shop/deployments/"
                   "checkout", {"spec": {"replicas": 3}},
                   content_type="application/merge-patch+json")
    assert r.status == 403
    with open(os.path.join(FIX, "status-403-forbidden.json")) as f:
        want = json.load(f)
    got = r.json()
    assert set(got) == set(want)
    assert got["details"] == {"name": "checkout", "group": "apps",
                              "kind": "deployments"}
    assert got["message"] == (
        'deployments.apps "checkout" is forbidden: User "admin" cannot '
        'patch resource "deployments" in API group "apps" in the namespace '
        '"shop"')
    assert cl.request("GET", "/apis/apps/v1/namespaces/shop/deployments/"
                      "checkout").status == 200


def test_fault_500_next_n_requests(emu, cl):
    emu.fault({"type": "error", "status": 500, "count": 2,
               "path": "^/api/v1/namespaces/shop/pods$", "method": "GET"})
    codes = [cl.request("GET", "/api/v1/namespaces/shop/pods").status
             for _ in range(3)]
    assert codes == [500, 500, 200]
    assert cl.request("GET", "/api/v1/namespaces").status == 200


def test_fault_429_text_plain_like_apf(emu, cl):
    emu.fault({"type": "throttle", "retryAfter": 1, "path": "/pods"})
    r = cl.request("GET", "/api/v1/namespaces/shop/pods")
    with open(os.path.join(FIX, "http-429-apf.txt")) as f:
        raw = f.read()
    head, body = raw.split("\n\n", 1)
    assert r.status == 429
    assert r.body.decode() == body
    assert r.header("Content-Type") == "text/plain; charset=utf-8"
    assert r.header("Retry-After") == "1"
    assert r.header("X-Content-Type-Options") == "nosniff"


def test_fault_hold_and_body_throttle_one_target(emu, cl):
    """A 429 for one object's create only (body regex), held until the
    test releases it; the other object's create is not held."""
    import threading
    emu.fault({"type": "status429", "retryAfter": 2, "method": "POST",
               "path": "/configmaps$", "body": '"name": ?"slow"',
               "hold": "slow"})
    path = "/api/v1/namespaces/shop/configmaps"
    got = {}

    def create(name):
        got[name] = cl.request("POST", path, {
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "shop"}})

    t = threading.Thread(target=create, args=("slow",))
    t.start()
    end = time.monotonic() + 10
    while emu.held("slow") == 0 and time.monotonic() < end:
        time.sleep(0.02)
    assert emu.held("slow") == 1
    create("fast")          # not held: answered while "slow" waits
    assert got["fast"].status == 201 and "slow" not in got
    admin = Client(emu.url)
    r = admin.request("POST", "/_emulator/release", {"name": "slow"})
    assert r.status == 200 and r.json()["held"] == {"slow": 1}
    t.join(10)
    assert got["slow"].status == 429
    assert got["slow"].header("Retry-After") == "2"
    assert got["slow"].json()["reason"] == "TooManyRequests"
    create("slow")          # the fault fired once: the retry goes through
    assert got["slow"].status == 201


def test_fault_delay_and_admin_http(emu, cl):
    admin = Client(emu.url)
    r = admin.request("POST", "/_emulator/faults",
                      {"type": "delay", "ms": 300, "path": "/version"})
    assert r.status == 201
    t = time.monotonic()
    assert cl.request("GET", "/version").status == 200
    assert time.monotonic() - t >= 0.3
    t = time.monotonic()
    cl.request("GET", "/version")
    assert time.monotonic() - t < 0.3
    assert admin.request("GET", "/_emulator/faults").json()["faults"] == []


def test_fault_drop_watch_after_n_events(emu, cl):
    for i in range(5):
        emu.load(pod("p%d" % i))
    emu.fault({"type": "drop-watch", "afterEvents": 2, "path": "/pods"})
    st, evs = lines_of(cl, "/api/v1/namespaces/shop/pods?watch=1&"
                       "timeoutSeconds=5")
    assert [e["type"] for e in evs] == ["ADDED", "ADDED"]
    # The next watch is not dropped.
    st, evs = lines_of(cl, "/api/v1/namespaces/shop/pods?watch=1&"
                       "timeoutSeconds=1")
    assert len(evs) == 5


def test_fault_reset_connection(emu, cl):
    emu.fault({"type": "reset", "path": "/version"})
    with pytest.raises(Exception):
        cl.request("GET", "/version")
    assert cl.request("GET", "/version").status == 200


def test_request_log(emu, cl):
    emu.load(deployment())
    emu.clear_requests()
    cl.request("PATCH", "/apis/apps/v1/namespaces/shop/deployments/checkout"
               "?dryRun=All", {"spec": {"replicas": 3}},
               content_type="application/strategic-merge-patch+json")
    log = emu.requests()
    assert len(log) == 1
    e = log[0]
    assert e["method"] == "PATCH"
    assert e["path"] == "/apis/apps/v1/namespaces/shop/deployments/checkout"
    assert e["query"] == "dryRun=All" and e["params"] == {"dryRun": "All"}
    assert e["contentType"] == "application/strategic-merge-patch+json"
    assert e["body"] == {"spec": {"replicas": 3}}
    assert e["status"] == 200 and e["userAgent"] == "remediate/0.1"
    admin = Client(emu.url)
    assert admin.request("GET", "/_emulator/requests?since=%d" % e["seq"]
                         ).json()["items"] == []


# ---------------------------------------------------- list and watch ----

def test_label_and_field_selectors(emu, cl):
    emu.load([pod("a", {"app": "x", "tier": "web"}, node="n1",
                  phase="Running"),
              pod("b", {"app": "x"}, phase="Pending"),
              pod("c", {"app": "y", "tier": "db"}, node="n2",
                  phase="Running")])

    def names(q):
        r = cl.request("GET", "/api/v1/namespaces/shop/pods?" + q)
        assert r.status == 200, r.body
        return [i["metadata"]["name"] for i in r.json()["items"]]
    assert names("labelSelector=app%3Dx") == ["a", "b"]
    assert names("labelSelector=app%21%3Dx") == ["c"]
    assert names("labelSelector=tier") == ["a", "c"]
    assert names("labelSelector=%21tier") == ["b"]
    assert names("labelSelector=tier+in+(web,db),app%3Dy") == ["c"]
    assert names("labelSelector=tier+notin+(web)") == ["b", "c"]
    assert names("fieldSelector=status.phase%3DRunning") == ["a", "c"]
    assert names("fieldSelector=spec.nodeName%3Dn2") == ["c"]
    assert names("fieldSelector=spec.nodeName%3D") == ["b"]
    assert names("fieldSelector=metadata.name%21%3Da") == ["b", "c"]
    r = cl.request("GET", "/api/v1/namespaces/shop/pods?fieldSelector="
                   "spec.bogus%3D1")
    assert r.status == 400
    assert r.json()["message"] == "field label not supported: spec.bogus"


def test_event_field_selectors_both_apis(emu, cl):
    for f in ("event-pod-backoff.json", "event-node-oomkilling.json"):
        with open(os.path.join(FIX, f)) as fh:
            emu.load(json.load(fh))
    r = cl.request("GET", "/api/v1/events?fieldSelector=reason%3DOOMKilling"
                   ",involvedObject.kind%3DNode")
    assert [i["reason"] for i in r.json()["items"]] == ["OOMKilling"]
    r = cl.request("GET", "/apis/events.k8s.io/v1/events?fieldSelector="
                   "regarding.kind%3DNode")
    items = r.json()["items"]
    assert len(items) == 1 and items[0]["regarding"]["kind"] == "Node"
    assert "involvedObject" not in items[0]


def test_pagination_remaining_item_count_and_rv0_ignores_limit(emu, cl):
    for i in range(5):
        emu.load(pod("p%d" % i))
    seen = []
    q = "limit=2"
    pages = 0
    while True:
        r = cl.request("GET", "/api/v1/namespaces/shop/pods?" + q).json()
        pages += 1
        seen += [i["metadata"]["name"] for i in r["items"]]
        if pages == 1:
            assert r["metadata"]["remainingItemCount"] == 3
        cont = r["metadata"].get("continue")
        if not cont:
            break
        q = "limit=2&continue=" + cont
    assert seen == ["p0", "p1", "p2", "p3", "p4"] and pages == 3
    r = cl.request("GET", "/api/v1/namespaces/shop/pods?limit=2&"
                   "resourceVersion=0").json()
    assert len(r["items"]) == 5 and "continue" not in r["metadata"]


def test_consistent_pages_and_expired_continue(emu, cl):
    for i in range(3):
        emu.load(pod("p%d" % i))
    r = cl.request("GET", "/api/v1/namespaces/shop/pods?limit=1").json()
    rv, cont = r["metadata"]["resourceVersion"], r["metadata"]["continue"]
    emu.load(pod("p1b"))                 # created after the first page
    r2 = cl.request("GET", "/api/v1/namespaces/shop/pods?limit=5&continue="
                    + cont).json()
    assert r2["metadata"]["resourceVersion"] == rv
    assert [i["metadata"]["name"] for i in r2["items"]] == ["p1", "p2"]
    emu.compact()
    r3 = cl.request("GET", "/api/v1/namespaces/shop/pods?limit=5&continue="
                    + cont)
    assert r3.status == 410 and r3.json()["reason"] == "Expired"
    fresh = r3.json()["metadata"]["continue"]
    r4 = cl.request("GET", "/api/v1/namespaces/shop/pods?limit=5&continue="
                    + fresh).json()
    assert [i["metadata"]["name"] for i in r4["items"]] == \
        ["p1", "p1b", "p2"]


def test_list_too_large_rv_504(emu, cl):
    r = cl.request("GET", "/api/v1/namespaces/shop/pods?resourceVersion="
                   "99999")
    assert r.status == 504
    assert r.json()["reason"] == "Timeout"
    assert r.json()["message"].startswith(
        "Timeout: Too large resource version: 99999, current: ")


def test_watch_resume_bookmarks_and_410(emu, cl):
    emu.load(pod("a"))
    rv = cl.request("GET", "/api/v1/namespaces/shop/pods").json()[
        "metadata"]["resourceVersion"]
    emu.oom_kill(NS, "a", "app")
    emu.load(pod("b"))
    st, evs = lines_of(cl, "/api/v1/namespaces/shop/pods?watch=1&"
                       "allowWatchBookmarks=true&resourceVersion=%s&"
                       "timeoutSeconds=30" % rv)
    assert [e["type"] for e in evs] == ["MODIFIED", "ADDED", "BOOKMARK"]
    term = evs[0]["object"]["status"]["containerStatuses"][0][
        "lastState"]["terminated"]
    assert term["reason"] == "OOMKilled" and term["exitCode"] == 137
    bm = evs[2]["object"]
    assert bm["kind"] == "Pod" and bm["spec"] == {"containers": None}
    assert bm["metadata"] == {"resourceVersion": str(emu.resource_version),
                              "creationTimestamp": None}
    emu.compact()
    st, evs = lines_of(cl, "/api/v1/namespaces/shop/pods?watch=1&"
                       "resourceVersion=%s" % rv)
    assert st == 200 and len(evs) == 1 and evs[0]["type"] == "ERROR"
    s = evs[0]["object"]
    assert (s["kind"], s["code"], s["reason"]) == ("Status", 410, "Expired")
    assert s["message"] == "too old resource version: %s (%d)" % (
        rv, emu.resource_version)


def test_watch_label_selector_transitions(emu, cl):
    emu.load(pod("a", {"app": "x"}))
    box = {}

    def run():
        box["r"] = lines_of(cl, "/api/v1/namespaces/shop/pods?watch=1&"
                            "labelSelector=app%3Dx&resourceVersion=0&"
                            "timeoutSeconds=10")
    t = threading.Thread(target=run)
    t.start()
    wait_watch(emu)
    emu.change(apiVersion="v1", kind="Pod", namespace=NS, name="a",
               merge={"metadata": {"labels": {"app": "y"}}})
    emu.change(apiVersion="v1", kind="Pod", namespace=NS, name="a",
               merge={"metadata": {"labels": {"app": "x"}}})
    t.join(10)
    assert [e["type"] for e in box["r"][1]] == ["ADDED", "DELETED", "ADDED"]


def test_expire_open_watch_and_admin_bookmark(emu, cl):
    box = {}

    def run():
        box["r"] = lines_of(cl, "/api/v1/namespaces/shop/pods?watch=1&"
                            "allowWatchBookmarks=true&resourceVersion=0&"
                            "timeoutSeconds=100")
    t = threading.Thread(target=run)
    t.start()
    wait_watch(emu)
    assert emu.bookmark() == 1
    time.sleep(0.2)
    assert emu.expire_watches("/pods") == 1
    t.join(10)
    assert [e["type"] for e in box["r"][1]] == ["BOOKMARK", "ERROR"]
    assert box["r"][1][1]["object"]["code"] == 410


def test_send_initial_events(emu, cl):
    emu.load(pod("a"))
    st, evs = lines_of(cl, "/api/v1/namespaces/shop/pods?watch=1&"
                       "sendInitialEvents=true&allowWatchBookmarks=true&"
                       "resourceVersionMatch=NotOlderThan&timeoutSeconds=1")
    assert [e["type"] for e in evs][:2] == ["ADDED", "BOOKMARK"]
    assert evs[1]["object"]["metadata"]["annotations"] == {
        "k8s.io/initial-events-end": "true"}


# ------------------------------------------------------------- writes ----

def test_generate_name(emu, cl):
    p = pod("x")
    del p["metadata"]["name"]
    p["metadata"]["generateName"] = "checkout-6d5f8b7c9d-"
    r = cl.request("POST", "/api/v1/namespaces/shop/pods", p)
    assert r.status == 201
    name = r.json()["metadata"]["name"]
    assert re.fullmatch("checkout-6d5f8b7c9d-[%s]{5}" % NAME_ALPHABET, name)
    assert r.json()["metadata"]["generateName"] == "checkout-6d5f8b7c9d-"


def test_create_in_missing_namespace_and_conflicts(emu, cl):
    r = cl.request("POST", "/api/v1/namespaces/nope/configmaps",
                   {"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "x"}})
    assert r.status == 404 and r.json()["details"]["kind"] == "namespaces"
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"},
          "data": {"a": "1"}}
    assert cl.request("POST", "/api/v1/namespaces/shop/configmaps",
                      cm).status == 201
    r = cl.request("POST", "/api/v1/namespaces/shop/configmaps", cm)
    assert r.status == 409 and r.json()["reason"] == "AlreadyExists"
    cur = cl.request("GET", "/api/v1/namespaces/shop/configmaps/x").json()
    cur["data"]["a"] = "2"
    assert cl.request("PUT", "/api/v1/namespaces/shop/configmaps/x",
                      cur).status == 200
    r = cl.request("PUT", "/api/v1/namespaces/shop/configmaps/x", cur)
    assert r.status == 409 and r.json()["reason"] == "Conflict"


def test_strategic_merge_keys(emu, cl):
    d = deployment()
    ps = d["spec"]["template"]["spec"]
    ps["volumes"].append({"name": "tmp", "emptyDir": {}})
    ps["containers"][0]["volumeMounts"].append({"name": "tmp",
                                                "mountPath": "/tmp"})
    emu.load(d)
    patch = {"spec": {"template": {"spec": {
        "containers": [{"name": "app",
                        "env": [{"name": "B", "value": "2"},
                                {"name": "A", "value": "9"}],
                        "ports": [{"containerPort": 9090}],
                        "volumeMounts": [{"mountPath": "/data",
                                          "readOnly": True},
                                         {"mountPath": "/tmp",
                                          "$patch": "delete"}],
                        "resources": {"limits": {"memory": "1Gi"}}},
                       {"name": "sidecar", "image": "side:1"}],
        "volumes": [{"name": "tmp", "$patch": "delete"},
                    {"name": "cache", "emptyDir": {}}]}}}}
    r = cl.request("PATCH", "/apis/apps/v1/namespaces/shop/deployments/"
                   "checkout", patch,
                   content_type="application/strategic-merge-patch+json")
    assert r.status == 200, r.body
    spec = r.json()["spec"]["template"]["spec"]
    app, side = spec["containers"]
    assert side["name"] == "sidecar"
    assert side["terminationMessagePolicy"] == "File"      # defaulted
    assert app["env"] == [{"name": "A", "value": "9"},
                          {"name": "B", "value": "2"}]
    assert [p["containerPort"] for p in app["ports"]] == [8080, 9090]
    assert app["volumeMounts"] == [{"name": "data", "mountPath": "/data",
                                    "readOnly": True}]
    assert app["resources"] == {"limits": {"memory": "1Gi"},
                                "requests": {"memory": "256Mi"}}
    assert [v["name"] for v in spec["volumes"]] == ["data", "cache"]
    assert r.json()["metadata"]["generation"] == 2
    # A volume still mounted cannot go: validation runs after the patch.
    r = cl.request("PATCH", "/apis/apps/v1/namespaces/shop/deployments/"
                   "checkout", {"spec": {"template": {"spec": {"volumes": [
                       {"name": "data", "$patch": "delete"}]}}}},
                   content_type="application/strategic-merge-patch+json")
    assert r.status == 422
    assert r.json()["details"]["causes"][0]["field"] == \
        "spec.template.spec.containers[0].volumeMounts[0].name"


def test_strategic_merge_on_crd_is_415(emu, cl):
    with open(os.path.join(FIX, "argocd-application-stuck-sync.json")) as f:
        app = json.load(f)
    emu.load(app)
    path = "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/" \
        "checkout"
    r = cl.request("PATCH", path, {"metadata": {"labels": {"a": "b"}}},
                   content_type="application/strategic-merge-patch+json")
    with open(os.path.join(FIX, "status-415-smp-on-crd.json")) as f:
        assert r.json() == json.load(f)
    with open(os.path.join(FIX, "patch-argocd-app-terminate.merge.json")) \
            as f:
        r = cl.request("PATCH", path, f.read(),
                       content_type="application/merge-patch+json")
    assert r.status == 200
    assert r.json()["status"]["operationState"]["phase"] == "Terminating"


def test_json_patch_ops_and_test_failure(emu, cl):
    emu.load(deployment())
    path = "/apis/apps/v1/namespaces/shop/deployments/checkout"
    ok = [{"op": "test", "path": "/spec/template/spec/containers/0/name",
           "value": "app"},
          {"op": "add", "path": "/metadata/annotations",
           "value": {"remediation.platform~1x": "1"}},
          {"op": "add", "path":
           "/metadata/annotations/remediation.platform~1last-action",
           "value": "memory"},
          {"op": "copy", "from": "/spec/replicas",
           "path": "/metadata/labels/replicas-copy"},
          {"op": "remove", "path": "/metadata/labels/app"}]
    r = cl.request("PATCH", path, ok,
                   content_type="application/json-patch+json")
    assert r.status == 400     # replicas-copy is an int: not a label value
    ok[3] = {"op": "replace", "path": "/spec/replicas", "value": 4}
    r = cl.request("PATCH", path, ok,
                   content_type="application/json-patch+json")
    assert r.status == 200, r.body
    md = r.json()["metadata"]
    assert md["annotations"] == {"remediation.platform/last-action":
                                 "memory", "remediation.platform~1x": "1"}
    assert "app" not in md["labels"] and r.json()["spec"]["replicas"] == 4
    r = cl.request("PATCH", path, [{"op": "test", "path": "/spec/replicas",
                                    "value": 99}],
                   content_type="application/json-patch+json")
    with open(os.path.join(FIX, "status-422-jsonpatch-test-failed.json")) \
            as f:
        assert r.json() == json.load(f)


def test_dry_run_and_status_subresource(emu, cl):
    emu.load(deployment())
    path = "/apis/apps/v1/namespaces/shop/deployments/checkout"
    before = cl.request("GET", path).json()
    r = cl.request("PATCH", path + "?dryRun=All",
                   {"spec": {"replicas": 7}},
                   content_type="application/merge-patch+json")
    assert r.status == 200 and r.json()["spec"]["replicas"] == 7
    assert cl.request("GET", path).json() == before
    # status is ignored on the main resource, spec on /status.
    r = cl.request("PATCH", path, {"spec": {"replicas": 3},
                                   "status": {"replicas": 3}},
                   content_type="application/merge-patch+json")
    assert r.json()["spec"]["replicas"] == 3
    assert r.json()["status"] == {}
    r = cl.request("PATCH", path + "/status",
                   {"spec": {"replicas": 9}, "status": {"replicas": 3}},
                   content_type="application/merge-patch+json")
    assert r.json()["spec"]["replicas"] == 3
    assert r.json()["status"] == {"replicas": 3}
    r = cl.request("GET", path + "/scale").json()
    assert r["spec"]["replicas"] == 3 and r["status"]["replicas"] == 3
    assert r["status"]["selector"] == "app=checkout"


def test_delete_propagation(emu, cl):
    d = deployment()
    emu.load(d)
    uid = emu.get("apps/v1", "Deployment", NS, "checkout")["metadata"]["uid"]
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
          "metadata": {"name": "checkout-1", "namespace": NS,
                       "ownerReferences": [{
                           "apiVersion": "apps/v1", "kind": "Deployment",
                           "name": "checkout", "uid": uid,
                           "controller": True}]},
          "spec": d["spec"]}
    emu.load(rs)
    rsuid = emu.get("apps/v1", "ReplicaSet", NS, "checkout-1")[
        "metadata"]["uid"]
    p = pod("checkout-1-abcde")
    p["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1",
                                         "kind": "ReplicaSet",
                                         "name": "checkout-1",
                                         "uid": rsuid, "controller": True}]
    emu.load(p)
    r = cl.request("DELETE", "/apis/apps/v1/namespaces/shop/replicasets/"
                   "checkout-1", {"kind": "DeleteOptions",
                                  "apiVersion": "v1",
                                  "propagationPolicy": "Orphan"})
    assert r.status == 200
    left = emu.get("v1", "Pod", NS, "checkout-1-abcde")
    assert "ownerReferences" not in left["metadata"]
    r = cl.request("DELETE", "/apis/apps/v1/namespaces/shop/deployments/"
                   "checkout")
    assert r.json()["status"] == "Success"
    assert r.json()["details"]["uid"] == uid
    # Background: dependents go too.
    emu.load(d)
    uid = emu.get("apps/v1", "Deployment", NS, "checkout")["metadata"]["uid"]
    rs["metadata"]["ownerReferences"][0]["uid"] = uid
    emu.load(rs)
    cl.request("DELETE", "/apis/apps/v1/namespaces/shop/deployments/"
               "checkout?propagationPolicy=Background")
    assert emu.get("apps/v1", "ReplicaSet", NS, "checkout-1") is None


def test_finalizers_hold_deletion(emu, cl):
    cm = {"apiVersion": "v1", "kind": "ConfigMap",
          "metadata": {"name": "f", "namespace": NS,
                       "finalizers": ["example.com/hold"]}}
    emu.load(cm)
    r = cl.request("DELETE", "/api/v1/namespaces/shop/configmaps/f")
    assert r.status == 200
    assert r.json()["metadata"]["deletionTimestamp"]
    r = cl.request("PATCH", "/api/v1/namespaces/shop/configmaps/f",
                   {"metadata": {"finalizers": None}},
                   content_type="application/merge-patch+json")
    assert r.status == 200
    assert cl.request("GET", "/api/v1/namespaces/shop/configmaps/f"
                      ).status == 404


def test_scheduled_pod_log_and_eviction(emu, cl):
    emu.load(pod("p", node="n1"))
    emu.set_log(NS, "p", "app", "line1\nline2\nline3\n")
    r = cl.request("GET", "/api/v1/namespaces/shop/pods/p/log?container=app"
                   "&tailLines=2")
    assert r.status == 200 and r.body == b"line2\nline3\n"
    r = cl.request("GET", "/api/v1/namespaces/shop/pods/p/log?container=x")
    assert r.status == 400
    emu.load({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
              "metadata": {"name": "pdb", "namespace": NS},
              "spec": {"selector": {"matchLabels": {"app": "checkout"}}},
              "status": {"disruptionsAllowed": 0, "desiredHealthy": 1,
                         "currentHealthy": 1}})
    ev = {"apiVersion": "policy/v1", "kind": "Eviction",
          "metadata": {"name": "p", "namespace": NS}}
    r = cl.request("POST", "/api/v1/namespaces/shop/pods/p/eviction", ev)
    assert r.status == 429 and r.json()["reason"] == "TooManyRequests"


def test_events_api_roundtrip(emu, cl):
    with open(os.path.join(FIX, "event-post-eventsv1-remediation.json")) \
            as f:
        ev = json.load(f)
    ns = ev["metadata"].get("namespace", NS)
    emu.load({"apiVersion": "v1", "kind": "Namespace",
              "metadata": {"name": ns}})
    r = cl.request("POST", "/apis/events.k8s.io/v1/namespaces/%s/events"
                   % ns, ev)
    assert r.status == 201, r.body
    name = r.json()["metadata"]["name"]
    core = cl.request("GET", "/api/v1/namespaces/%s/events/%s"
                      % (ns, name)).json()
    assert core["message"] == ev["note"]
    assert core["reportingComponent"] == ev["reportingController"]
    assert core["involvedObject"]["name"] == ev["regarding"]["name"]


def test_discovery_maps_kinds(emu, cl):
    api = cl.request("GET", "/api").json()
    assert api["kind"] == "APIVersions" and api["versions"] == ["v1"]
    groups = cl.request("GET", "/apis").json()
    names = [g["name"] for g in groups["groups"]]
    for g in ("apps", "events.k8s.io", "coordination.k8s.io",
              "argoproj.io", "policy", "batch"):
        assert g in names
    rl = cl.request("GET", "/apis/argoproj.io/v1alpha1").json()
    kinds = {r["name"]: r["kind"] for r in rl["resources"]}
    assert kinds["workflows"] == "Workflow"
    assert kinds["applications"] == "Application"
    core = cl.request("GET", "/api/v1").json()
    names = {r["name"] for r in core["resources"]}
    assert {"pods", "pods/status", "pods/log", "pods/eviction", "events",
            "namespaces"} <= names
    r = cl.request("GET", "/apis/example.com/v1/widgets")
    with open(os.path.join(FIX, "status-404-unknown-resource.json")) as f:
        assert r.json() == json.load(f)


def test_server_side_apply_conflict_then_force(emu, cl):
    emu.load(deployment())
    path = "/apis/apps/v1/namespaces/shop/deployments/checkout"
    cl2 = Client(emu.url, emu.token, user_agent="argocd-controller/2.9")
    cl2.request("PATCH", path, {"spec": {"template": {"spec": {
        "containers": [{"name": "app", "resources": {"requests": {
            "memory": "300Mi"}}}]}}}},
        content_type="application/strategic-merge-patch+json")
    with open(os.path.join(FIX, "patch-deployment-memory.apply.json")) as f:
        body = f.read().replace('"shop"', '"shop"')
    r = cl.request("PATCH", path + "?fieldManager=remediate", body,
                   content_type="application/apply-patch+yaml")
    assert r.status == 409
    st = r.json()
    assert st["details"]["causes"][0]["field"] == \
        '.spec.template.spec.containers[name="app"].resources.requests.' \
        'memory'
    assert 'conflict with "argocd-controller" using apps/v1' in \
        st["message"]
    r = cl.request("PATCH", path + "?fieldManager=remediate&force=true",
                   body, content_type="application/apply-patch+yaml")
    assert r.status == 200, r.body
    c = r.json()["spec"]["template"]["spec"]["containers"][0]
    assert c["resources"] == {"limits": {"memory": "768Mi"},
                              "requests": {"memory": "384Mi"}}
    mgrs = [m["manager"] for m in r.json()["metadata"]["managedFields"]]
    assert mgrs[0] == "remediate"


def test_admin_change_oomkill_fires_watch_event(emu, cl):
    with open(os.path.join(FIX, "pod-checkout-oomkilled.json")) as f:
        p = json.load(f)
    emu.load(p)
    name = p["metadata"]["name"]
    admin = Client(emu.url)
    rv = emu.resource_version
    r = admin.request("POST", "/_emulator/change", {
        "apiVersion": "v1", "kind": "Pod", "namespace": "shop",
        "name": name, "oomKill": {"container": "app"}})
    assert r.status == 200
    cs = r.json()["status"]["containerStatuses"][0]
    assert cs["restartCount"] == 4
    st, evs = lines_of(cl, "/api/v1/namespaces/shop/pods?watch=1&"
                       "resourceVersion=%d&timeoutSeconds=1" % rv)
    assert [e["type"] for e in evs] == ["MODIFIED"]


def test_namespace_delete_removes_content(emu, cl):
    emu.load(pod("a"))
    r = cl.request("DELETE", "/api/v1/namespaces/shop")
    assert r.status == 200 and r.json()["status"]["phase"] == "Terminating"
    assert cl.request("GET", "/api/v1/namespaces/shop/pods/a").status == 404
    assert cl.request("GET", "/api/v1/namespaces/shop").status == 404


def test_load_fixtures_dir():
    with Emulator(http=True) as e:
        loaded = e.load_dir(FIX)
        kinds = sorted({k for k, _, _ in loaded})
        assert "Pod" in kinds and "Application" in kinds
        assert "Status" not in kinds
        c = Client(e.url, e.token)
        r = c.request("GET", "/api/v1/namespaces/shop/pods").json()
        names = [i["metadata"]["name"] for i in r["items"]]
        assert "checkout-6d5f8b7c9d-x7k2p" in names


# ------------------------------------------- SelfSubjectAccessReview ----

SSAR = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"


def _ssar(cl, **attrs):
    r = cl.request("POST", SSAR, {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": attrs}})
    assert r.status == 201, r.body
    return r.json()


def test_ssar_shape_is_the_api_reference(cl):
    ref = os.path.join(os.path.dirname(__file__), "..", "data", "install",
                       "ssar-schema.json")
    with open(ref) as f:
        schema = json.load(f)
    got = _ssar(cl, verb="list", group="apps", resource="deployments")
    assert set(got) <= set(schema["top"])
    assert got["kind"] == "SelfSubjectAccessReview"
    assert set(got["spec"]) <= set(schema["spec"])
    assert set(got["spec"]["resourceAttributes"]) <= \
        set(schema["resourceAttributes"])
    assert set(schema["statusRequired"]) <= set(got["status"])
    assert set(got["status"]) <= set(schema["status"])
    assert got["status"]["allowed"] is True


def test_ssar_answers_as_the_forbidden_rules_do(emu, cl):
    emu.forbid(verb="patch", resource="deployments", group="apps",
               namespace=NS)
    denied = _ssar(cl, verb="patch", group="apps", resource="deployments",
                   namespace=NS)
    assert denied["status"] == {"allowed": False}
    # another namespace is allowed; all namespaces is not
    assert _ssar(cl, verb="patch", group="apps", resource="deployments",
                 namespace="other")["status"]["allowed"] is True
    assert _ssar(cl, verb="patch", group="apps",
                 resource="deployments")["status"]["allowed"] is False
    assert _ssar(cl, verb="get", group="apps", resource="deployments",
                 namespace=NS)["status"]["allowed"] is True
    # and the real request agrees with the review
    emu.load(deployment())
    r = cl.request("PATCH", "/apis/apps/v1/namespaces/shop/deployments/"
                   "checkout", {"spec": {"replicas": 3}},
                   content_type="application/merge-patch+json")
    assert r.status == 403


def test_ssar_refuses_what_the_server_refuses(cl):
    assert cl.request("GET", SSAR).status == 405
    r = cl.request("POST", SSAR, {"apiVersion": "authorization.k8s.io/v1",
                                  "kind": "SelfSubjectAccessReview",
                                  "spec": {}})
    assert r.status == 422
    assert r.json()["reason"] == "Invalid"
