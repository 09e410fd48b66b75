"""The kube client against the Kubernetes API emulator (HTTPS on
127.0.0.1): configurations and credentials, verbs and the executor, the
server's errors as messages, retries, Events, and watches that survive
every injected fault with no missed and no duplicated change.

The client is driven through tests/kube/kube_probe.c, built here."""
import json
import os
import stat
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "kube"))
import kubehelp  # noqa: E402
from kubehelp import Emulator, Lines, pod  # noqa: E402

pytestmark = pytest.mark.skipif(not kubehelp.have_cc(),
                                reason="needs a C compiler")


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    return kubehelp.build_probe(tmp_path_factory.mktemp("probe"))


@pytest.fixture
def emu():
    with Emulator(http=False, config={"watch_time_scale": 0.25}) as e:
        e.load({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": "shop"}})
        yield e


def run(probe, emu, *args, kubeconfig=None, env=None, timeout=60):
    import subprocess
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([probe, kubeconfig or emu.kubeconfig] + list(args),
                       capture_output=True, text=True, timeout=timeout,
                       env=e)
    out = [json.loads(line) for line in p.stdout.splitlines() if line]
    return p.returncode, (out[-1] if out else None), p.stderr


def deployment(name="web", ns="shop", rv=None, memory="256Mi"):
    d = {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": name, "namespace": ns,
                      "labels": {"app": name}},
         "spec": {"replicas": 1,
                  "selector": {"matchLabels": {"app": name}},
                  "template": {
                      "metadata": {"labels": {"app": name}},
                      "spec": {"containers": [
                          {"name": "app", "image": "example/app:1",
                           "resources": {
                               "requests": {"memory": memory},
                               "limits": {"memory": "1Gi"}}}]}}}}
    if rv:
        d["metadata"]["resourceVersion"] = rv
    return d


def plan_file(tmp_path, plan, name="plan.json"):
    p = tmp_path / name
    p.write_text(json.dumps(plan))
    return str(p)


def api_requests(emu, method=None, path=None):
    out = []
    for r in emu.requests():
        if method and r["method"] != method:
            continue
        if path and path not in r["path"]:
            continue
        out.append(r)
    return out


# ---- configuration and credentials ------------------------------------------

def kubeconfig(tmp_path, emu, user, cluster_extra="", name="kc"):
    text = ("apiVersion: v1\nkind: Config\ncurrent-context: t\n"
            "clusters:\n- name: c\n  cluster:\n    server: %s\n"
            "    certificate-authority: %s\n%s"
            "users:\n- name: u\n  user:\n%s"
            "contexts:\n- name: t\n  context: {cluster: c, user: u, "
            "namespace: shop}\n" % (emu.url, emu.ca_file, cluster_extra,
                                    user))
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_token_file_and_rotation_after_401(probe, emu, tmp_path):
    tok = tmp_path / "token"
    tok.write_text(emu.token + "\n")
    kc = kubeconfig(tmp_path, emu, "    tokenFile: %s\n" % tok)
    rc, out, err = run(probe, emu, "get", "v1", "Namespace", "-", "shop",
                       kubeconfig=kc)
    assert rc == 0, err
    assert out["metadata"]["name"] == "shop"
    # a token the server does not know: 401 with the server's message
    tok.write_text("stale-token")
    rc, out, _ = run(probe, emu, "get", "v1", "Namespace", "-", "shop",
                     kubeconfig=kc)
    assert rc == 1
    assert out["status"] == 401
    assert out["error"] == "401 Unauthorized: Unauthorized"


def test_exec_plugin_and_client_certificate(probe, emu, tmp_path):
    plugin = tmp_path / "plugin"
    plugin.write_text(
        "#!/bin/sh\n"
        "[ \"$PLUGIN_MODE\" = ok ] || exit 9\n"
        "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\","
        "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"%s\"}}' "
        "\"$1\"\n")
    plugin.chmod(plugin.stat().st_mode | stat.S_IEXEC)
    kc = kubeconfig(tmp_path, emu,
                    "    exec:\n      apiVersion: "
                    "client.authentication.k8s.io/v1\n"
                    "      command: %s\n      args: [%s]\n"
                    "      env:\n      - {name: PLUGIN_MODE, value: ok}\n"
                    % (plugin, emu.token))
    rc, out, err = run(probe, emu, "get", "v1", "Namespace", "-", "shop",
                       kubeconfig=kc)
    assert rc == 0, err
    assert emu.requests()[-1]["user"] == "admin"
    kc = kubeconfig(tmp_path, emu,
                    "    client-certificate: %s\n    client-key: %s\n"
                    % (emu.client_cert, emu.client_key), name="kc2")
    rc, out, err = run(probe, emu, "get", "v1", "Namespace", "-", "shop",
                       kubeconfig=kc)
    assert rc == 0, err
    assert emu.requests()[-1]["user"] == "emulator-admin"


def test_tls_is_verified(probe, emu, tmp_path):
    # the server's certificate names kubernetes.default.svc: reaching
    # 127.0.0.1 under that name works, under another it does not
    kc = kubeconfig(tmp_path, emu, "    token: %s\n" % emu.token,
                    "    tls-server-name: kubernetes.default.svc\n")
    rc, out, err = run(probe, emu, "get", "v1", "Namespace", "-", "shop",
                       kubeconfig=kc)
    assert rc == 0, err
    kc = kubeconfig(tmp_path, emu, "    token: %s\n" % emu.token,
                    "    tls-server-name: other.example\n", name="kc2")
    rc, out, err = run(probe, emu, "get", "v1", "Namespace", "-", "shop",
                       kubeconfig=kc)
    assert rc == 1 and out["status"] == 0
    assert "SSL" in out["error"] or "certificate" in out["error"]
    # a CA that did not sign the server's certificate
    other = tmp_path / "other-ca.crt"
    import subprocess
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                    str(tmp_path / "k"), "-out", str(other), "-days", "1",
                    "-subj", "/CN=other"], check=True,
                   capture_output=True)
    kc = str(tmp_path / "kc3")
    with open(kc, "w") as f:
        f.write(open(emu.kubeconfig).read().replace(emu.ca_file,
                                                    str(other)))
    rc, out, err = run(probe, emu, "get", "v1", "Namespace", "-", "shop",
                       kubeconfig=kc)
    assert rc == 1 and "certificate" in out["error"].lower()


# ---- verbs, executor, errors ---------------------------------------------------

def test_executor_operations(probe, emu, tmp_path):
    emu.load(deployment())
    # create with generateName
    cm = {"apiVersion": "v1", "kind": "ConfigMap",
          "metadata": {"generateName": "note-", "namespace": "shop"},
          "data": {"a": "1"}}
    rc, out, err = run(probe, emu, "exec", plan_file(tmp_path, {
        "type": "k8s", "operation": "create", "apiVersion": "v1",
        "kind": "ConfigMap", "namespace": "shop", "object": cm}))
    assert rc == 0, (out, err)
    name = out["metadata"]["name"]
    assert name.startswith("note-") and len(name) == 10
    # patch: merge, strategic, json
    for strategy, patch in (
            ("application/merge-patch+json",
             {"metadata": {"labels": {"m": "1"}}}),
            ("strategic", {"spec": {"template": {"spec": {"containers": [
                {"name": "app", "resources": {"requests": {
                    "memory": "300Mi"}}}]}}}}),
            ("json", [{"op": "add", "path": "/metadata/labels/j",
                       "value": "2"}])):
        rc, out, err = run(probe, emu, "exec", plan_file(tmp_path, {
            "type": "k8s", "operation": "patch", "apiVersion": "apps/v1",
            "kind": "Deployment", "namespace": "shop", "name": "web",
            "patchStrategy": strategy, "patch": patch}))
        assert rc == 0, (strategy, out, err)
    live = emu.get("apps/v1", "Deployment", "shop", "web")
    assert live["metadata"]["labels"] == {"app": "web", "m": "1", "j": "2"}
    c = live["spec"]["template"]["spec"]["containers"][0]
    assert c["resources"]["requests"]["memory"] == "300Mi"
    assert c["image"] == "example/app:1"     # strategic kept the rest
    patches = api_requests(emu, "PATCH")
    assert [r["contentType"] for r in patches] == [
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
        "application/json-patch+json"]
    # update without a resourceVersion: read, modify, write
    d = deployment(memory="400Mi")
    rc, out, err = run(probe, emu, "exec", plan_file(tmp_path, {
        "type": "k8s", "operation": "update", "apiVersion": "apps/v1",
        "kind": "Deployment", "namespace": "shop", "name": "web",
        "object": d}))
    assert rc == 0, (out, err)
    live = emu.get("apps/v1", "Deployment", "shop", "web")
    assert live["spec"]["template"]["spec"]["containers"][0][
        "resources"]["requests"]["memory"] == "400Mi"
    # delete
    rc, out, err = run(probe, emu, "exec", plan_file(tmp_path, {
        "type": "k8s", "operation": "delete", "apiVersion": "v1",
        "kind": "ConfigMap", "namespace": "shop", "name": name}))
    assert rc == 0, (out, err)
    assert emu.get("v1", "ConfigMap", "shop", name) is None
    dels = api_requests(emu, "DELETE")
    assert "propagationPolicy=Background" in dels[-1]["query"]


def test_executor_create_that_timed_out_is_checked(probe, emu, tmp_path):
    """A create whose answer never came in time: the executor asks for
    the object by name, and the action counts as done when it is there;
    when it is not, the timeout is the error."""
    def plan(name):
        return plan_file(tmp_path, {
            "type": "k8s", "operation": "create", "apiVersion": "v1",
            "kind": "ConfigMap", "namespace": "shop", "name": name,
            "object": {"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": name, "namespace": "shop"},
                       "data": {"a": "1"}}})
    env = {"KUBE_PROBE_TIMEOUT_MS": "500"}
    # carried out, answered too late: acted, with how we know
    emu.fault({"type": "delay", "ms": 2000, "after": True,
               "method": "POST", "path": "/configmaps$"})
    rc, out, err = run(probe, emu, "exec", plan("late"), env=env)
    assert rc == 0, (out, err)
    assert out["verifiedAfter"] == "timeout"
    assert out["object"]["metadata"]["name"] == "late"
    assert out["object"]["data"] == {"a": "1"}
    gets = api_requests(emu, "GET", "/configmaps/late")
    assert len(gets) == 1
    # not carried out (held before it took effect): the timeout stands
    emu.fault({"type": "delay", "ms": 0, "method": "POST",
               "path": "/configmaps$", "hold": "never", "holdTimeout": 20})
    rc, out, err = run(probe, emu, "exec", plan("lost"), env=env)
    emu.release("never")
    assert rc == 1, (out, err)
    assert "Timeout" in out["error"], out
    assert len(api_requests(emu, "GET", "/configmaps/lost")) == 1


def test_executor_server_dry_run(probe, emu, tmp_path):
    emu.load(deployment())
    before = emu.get("apps/v1", "Deployment", "shop", "web")
    rc, out, err = run(probe, emu, "exec", plan_file(tmp_path, {
        "type": "k8s", "operation": "patch", "apiVersion": "apps/v1",
        "kind": "Deployment", "namespace": "shop", "name": "web",
        "patchStrategy": "merge",
        "patch": {"metadata": {"labels": {"x": "y"}}}}), "dry-run")
    assert rc == 0, (out, err)
    assert out["metadata"]["labels"]["x"] == "y"   # as if done
    after = emu.get("apps/v1", "Deployment", "shop", "web")
    assert after == before                          # nothing persisted
    assert "dryRun=All" in api_requests(emu, "PATCH")[-1]["query"]
    rc, out, err = run(probe, emu, "exec", plan_file(tmp_path, {
        "type": "k8s", "operation": "create", "apiVersion": "v1",
        "kind": "ConfigMap", "object": {
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "dry", "namespace": "shop"}}}),
        "dry-run")
    assert rc == 0
    assert emu.get("v1", "ConfigMap", "shop", "dry") is None


def test_errors_become_messages(probe, emu, tmp_path):
    emu.load(deployment())
    # 404
    rc, out, _ = run(probe, emu, "get", "apps/v1", "Deployment", "shop",
                     "nope")
    assert (rc, out["status"]) == (1, 404)
    assert out["error"] == \
        '404 NotFound: deployments.apps "nope" not found'
    # 403
    emu.forbid(verb="patch", resource="deployments")
    rc, out, _ = run(probe, emu, "exec", plan_file(tmp_path, {
        "type": "k8s", "operation": "patch", "apiVersion": "apps/v1",
        "kind": "Deployment", "namespace": "shop", "name": "web",
        "patch": {"metadata": {"labels": {"x": "y"}}}}))
    assert rc == 1
    assert out["error"].startswith("403 Forbidden: deployments.apps "
                                   "\"web\" is forbidden: User \"admin\" "
                                   "cannot patch resource \"deployments\"")
    # 409 on a stale resourceVersion is reported, not retried
    rc, out, _ = run(probe, emu, "exec", plan_file(tmp_path, {
        "type": "k8s", "operation": "update", "apiVersion": "apps/v1",
        "kind": "Deployment", "namespace": "shop", "name": "web",
        "object": deployment(rv="1")}))
    assert rc == 1
    assert out["error"].startswith("409 Conflict: Operation cannot be "
                                   "fulfilled on deployments.apps")
    # 409 AlreadyExists
    rc, out, _ = run(probe, emu, "exec", plan_file(tmp_path, {
        "type": "k8s", "operation": "create", "apiVersion": "apps/v1",
        "kind": "Deployment", "object": deployment()}))
    assert rc == 1 and out["error"].startswith("409 AlreadyExists:")
    # 422 with the field causes
    bad = deployment(name="bad", memory="2Gi")
    rc, out, _ = run(probe, emu, "exec", plan_file(tmp_path, {
        "type": "k8s", "operation": "create", "apiVersion": "apps/v1",
        "kind": "Deployment", "object": bad}))
    assert rc == 1 and out["error"].startswith("422 Invalid:")
    assert "must be less than or equal to memory limit" in out["error"]
    assert "spec.template.spec.containers[0].resources.requests" in \
        out["error"]


def test_update_conflict_is_retried(probe, emu, tmp_path):
    emu.load(deployment())
    emu.clear_requests()
    emu.fault({"type": "error", "status": 409, "reason": "Conflict",
               "message": "Operation cannot be fulfilled on "
               "deployments.apps \"web\": the object has been modified",
               "method": "PUT", "count": 1})
    rc, out, err = run(probe, emu, "exec", plan_file(tmp_path, {
        "type": "k8s", "operation": "update", "apiVersion": "apps/v1",
        "kind": "Deployment", "namespace": "shop", "name": "web",
        "object": deployment(memory="500Mi")}))
    assert rc == 0, (out, err)
    seq = [(r["method"], r["status"]) for r in emu.requests()
           if "/deployments/" in r["path"]]
    assert seq == [("GET", 200), ("PUT", 409), ("GET", 200), ("PUT", 200)]


def test_429_retry_after_and_5xx(probe, emu, tmp_path):
    emu.load(deployment())
    # throttled twice (text/plain, Retry-After: 1): the third try works,
    # and the waits honour Retry-After
    emu.clear_requests()
    emu.fault({"type": "throttle", "retryAfter": 1, "count": 2,
               "path": "/deployments/web"})
    t0 = time.monotonic()
    rc, out, err = run(probe, emu, "get", "apps/v1", "Deployment", "shop",
                       "web")
    assert rc == 0, (out, err)
    assert time.monotonic() - t0 >= 2.0
    assert [r["status"] for r in api_requests(emu, "GET",
                                              "/deployments/web")] == \
        [429, 429, 200]
    # throttled for good: the plan's retryStrategy bounds the attempts
    emu.clear_requests()
    emu.fault({"type": "status429", "retryAfter": 1, "count": -1,
               "path": "/deployments/web"})
    rc, out, _ = run(probe, emu, "exec", plan_file(tmp_path, {
        "type": "k8s", "operation": "patch", "apiVersion": "apps/v1",
        "kind": "Deployment", "namespace": "shop", "name": "web",
        "patch": {"metadata": {"labels": {"x": "y"}}},
        "retryStrategy": {"steps": 2, "duration": "10ms"}}))
    assert rc == 1
    assert out["error"].startswith("429 TooManyRequests:")
    assert "(retry after 1s)" in out["error"]
    assert len(api_requests(emu, "PATCH")) == 2
    emu.clear_faults()
    # a 500 once is retried; for good it fails with the server's message
    emu.clear_requests()
    emu.fault({"type": "error", "status": 500, "count": 1,
               "message": "etcdserver: leader changed",
               "path": "/deployments/web"})
    rc, out, err = run(probe, emu, "get", "apps/v1", "Deployment", "shop",
                       "web")
    assert rc == 0, (out, err)
    emu.fault({"type": "error", "status": 500, "count": -1,
               "message": "etcdserver: leader changed",
               "path": "/deployments/web"})
    emu.clear_requests()
    rc, out, _ = run(probe, emu, "exec", plan_file(tmp_path, {
        "type": "k8s", "operation": "patch", "apiVersion": "apps/v1",
        "kind": "Deployment", "namespace": "shop", "name": "web",
        "patch": {"metadata": {"labels": {"x": "y"}}},
        "retryStrategy": {"steps": 3, "duration": "10ms", "factor": 2}}))
    assert rc == 1
    assert out["error"].startswith("500 InternalError:")
    assert "etcdserver: leader changed" in out["error"]
    assert len(api_requests(emu, "PATCH")) == 3
    emu.clear_faults()


def test_discovery_and_custom_resources(probe, emu):
    rc, out, _ = run(probe, emu, "resource", "argoproj.io/v1alpha1",
                     "Workflow")
    assert rc == 0 and out == {"group": "argoproj.io", "version":
                               "v1alpha1", "resource": "workflows",
                               "namespaced": True}
    rc, out, _ = run(probe, emu, "resource", "v1", "Namespace")
    assert out["namespaced"] is False
    assert any(r["path"] == "/api/v1" for r in emu.requests())
    rc, out, _ = run(probe, emu, "resource", "apps/v1", "Widget")
    assert rc == 1 and "no resource for kind Widget" in out["error"]
    rc, out, _ = run(probe, emu, "resource", "example.com/v1", "Widget")
    assert rc == 1 and "does not serve example.com/v1" in out["error"]
    # discovery failing (not 404): the built-in table answers
    emu.fault({"type": "error", "status": 503, "count": -1,
               "path": "^/apis/apps/v1$"})
    rc, out, _ = run(probe, emu, "resource", "apps/v1", "StatefulSet")
    assert rc == 0 and out["resource"] == "statefulsets"
    emu.clear_faults()


def test_event_recorded(probe, emu, tmp_path):
    emu.load(deployment())
    d = emu.get("apps/v1", "Deployment", "shop", "web")
    ref = {"apiVersion": "apps/v1", "kind": "Deployment", "namespace":
           "shop", "name": "web", "uid": d["metadata"]["uid"]}
    rc, out, err = run(probe, emu, "event", plan_file(tmp_path, ref),
                       "Remediated", "raised memory of app", "Normal")
    assert rc == 0, (out, err)
    c = kubehelp.Emulator  # noqa: F841
    evs = [r for r in emu.requests() if r["method"] == "POST" and
           r["path"] == "/api/v1/namespaces/shop/events"]
    assert len(evs) == 1 and evs[0]["status"] == 201
    body = evs[0]["body"]
    assert body["involvedObject"] == ref
    assert body["reason"] == "Remediated"
    assert body["type"] == "Normal"
    assert body["source"] == {"component": "remediate"}
    assert body["metadata"]["name"].startswith("web.")


# ---- watches ---------------------------------------------------------------------

def start_watch(probe, emu, *args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    w = Lines([probe, emu.kubeconfig, "watch", ""] + list(args), env=e)
    w.wait_for(lambda ls: any(x.get("synced") for x in ls))
    return w


def changes(lines):
    return [x for x in lines if "type" in x]


def pods(n, prefix="p", ns="shop"):
    return [pod("%s%d" % (prefix, i), ns=ns, labels={"app": "w"})
            for i in range(n)]


def assert_exact(w, expected, timeout=30):
    """Every (type, name) in expected arrives once, in that order among
    themselves, and nothing else arrives."""
    w.wait_for(lambda ls: len([x for x in changes(ls) if x["type"] !=
                               "SYNC"]) >= len(expected), timeout)
    time.sleep(0.5)
    got = [(x["type"], x["name"]) for x in changes(w.drain())
           if x["type"] != "SYNC"]
    assert got == expected


def test_watch_sync_then_changes(probe, emu):
    emu.load(pods(3) + [pod("other", labels={"app": "x"})])
    w = start_watch(probe, emu, "v1", "pods", "shop", "app=w",
                    env={"KUBE_PROBE_PAGE": "2"})
    try:
        sync = [x["name"] for x in changes(w.lines)]
        assert sorted(sync) == ["p0", "p1", "p2"]
        assert all(x["type"] == "SYNC" for x in changes(w.lines))
        lists = [r for r in emu.requests() if r["method"] == "GET" and
                 not r["watch"] and r["path"] == "/api/v1/namespaces/shop/"
                 "pods"]
        assert len(lists) == 2            # pages of 2: limit + continue
        emu.load(pod("p3", labels={"app": "w"}))
        emu.change(kind="Pod", namespace="shop", name="p0",
                   merge={"metadata": {"annotations": {"a": "1"}}})
        emu.change(kind="Pod", namespace="shop", name="p1", delete=True)
        emu.change(kind="Pod", namespace="shop", name="other",
                   merge={"metadata": {"annotations": {"a": "1"}}})
        assert_exact(w, [("ADDED", "p3"), ("MODIFIED", "p0"),
                         ("DELETED", "p1")])
        watches = [r for r in emu.requests() if r["watch"]]
        assert "allowWatchBookmarks=true" in watches[0]["query"]
        assert "labelSelector=app%3Dw" in watches[0]["query"]
        st = w.status()
        assert st["healthy"] and st["events"] == 3 and st["cached"] == 3
    finally:
        assert w.close() == 0, w.err[-20:]


def test_watch_survives_faults(probe, emu):
    emu.load(pods(5))
    w = start_watch(probe, emu, "v1", "pods", "shop",
                    env={"KUBE_PROBE_WATCH_TIMEOUT": "20"})
    expected = []
    try:
        def mod(name, n):
            emu.change(kind="Pod", namespace="shop", name=name,
                       merge={"metadata": {"annotations": {"n": str(n)}}})
            expected.append(("MODIFIED", name))

        # 1. a stream that ends cleanly and one cut mid-stream
        for mode in ("close", "abort"):
            emu.fault({"type": "drop-watch", "afterEvents": 1,
                       "mode": mode, "watch": True})
            mod("p0", 1 if mode == "close" else 2)
            mod("p1", 1 if mode == "close" else 2)
            assert_exact(w, list(expected))
        # 2. the watch request fails with 500 twice: back off, resume
        emu.fault({"type": "error", "status": 500, "count": 2,
                   "watch": True})
        emu.expire_watches("")            # force a new watch request...
        mod("p2", 1)                      # ...changes while it is down
        assert_exact(w, list(expected))
        # 3. compaction: the resume answers 410; relist delivers only
        #    what changed, deleted pods included
        emu.fault({"type": "drop-watch", "afterEvents": 0, "mode": "abort",
                   "watch": True})
        time.sleep(0.2)
        mod("p3", 1)
        emu.change(kind="Pod", namespace="shop", name="p4", delete=True)
        emu.load(pod("p5"))
        emu.compact()
        expected += [("DELETED", "p4"), ("ADDED", "p5")]
        w.wait_for(lambda ls: len([x for x in changes(ls)
                                   if x["type"] != "SYNC"]) >=
                   len(expected), 30)
        time.sleep(0.5)
        got = [(x["type"], x["name"]) for x in changes(w.drain())
               if x["type"] != "SYNC"]
        # the gap's changes arrive in some order, each exactly once
        assert sorted(got) == sorted(expected)
        stub = [x for x in changes(w.lines) if x["type"] == "DELETED" and
                x["name"] == "p4"]
        assert len(stub) == 1
        st = w.status()
        # restarts: watches taken again (one after step 2's failures, one
        # after step 3's relist at least); the failed requests are errors
        assert st["relists"] >= 1 and st["restarts"] >= 2
        assert st["errors"] >= 2 and st["healthy"]
        # no SYNC after the initial list
        assert len([x for x in changes(w.lines) if x["type"] == "SYNC"]) \
            == 5
    finally:
        assert w.close() == 0, w.err[-20:]


def test_watch_error_event_410_relists(probe, emu):
    emu.load(pods(3))
    w = start_watch(probe, emu, "v1", "pods", "shop")
    try:
        emu.expire_watches("/pods")       # ERROR 410 inside the stream
        emu.change(kind="Pod", namespace="shop", name="p1",
                   merge={"metadata": {"labels": {"z": "1"}}})
        assert_exact(w, [("MODIFIED", "p1")])
        st = w.status()
        assert st["relists"] == 1 and st["healthy"]
    finally:
        assert w.close() == 0, w.err[-20:]


@pytest.mark.parametrize("stateless", [False, True])
def test_watch_initial_list_restarted_forgets_the_deleted(probe, emu,
                                                          stateless):
    """The initial list's continue token expires between two pages (410):
    the list starts over.  A pod of the first page deleted meanwhile was
    delivered (SYNC) but is not in the list that completes: it arrives as
    DELETED at once, and is not left in the cache (where a later relist
    would report it deleted hours after the fact).  A stateless watch
    (the cluster view's) brackets the new list with RELIST_BEGIN/END, so
    its caller drops what the new list did not hold."""
    emu.load(pods(4))
    emu.fault({"type": "delay", "ms": 0, "hold": "page2",
               "query": "continue=", "holdTimeout": 30})
    env = dict(os.environ, KUBE_PROBE_PAGE="2")
    if stateless:
        env["KUBE_PROBE_STATELESS"] = "1"
    w = Lines([probe, emu.kubeconfig, "watch", "", "v1", "pods", "shop"],
              env=env)
    try:
        deadline = time.monotonic() + 30
        while emu.held("page2") < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert emu.held("page2") == 1
        emu.change(kind="Pod", namespace="shop", name="p0", delete=True)
        emu.compact()                   # the continue token's rv is gone
        emu.release("page2")
        w.wait_for(lambda ls: any(x.get("synced") for x in ls))
        last = "RELIST_END" if stateless else "DELETED"
        w.wait_for(lambda ls: any(x.get("type") == last
                                  for x in changes(ls)), 10)
        got = [(x["type"], x["name"]) for x in changes(w.drain())]
        if stateless:
            # p0 p1 | BEGIN p1 p2 p3 END: p0 is not between the markers
            assert [t for t, _ in got if t != "SYNC"] == \
                ["RELIST_BEGIN", "RELIST_END"]
            i = got.index(("RELIST_BEGIN", None))
            assert sorted(n for _, n in got[i + 1:-1]) == ["p1", "p2", "p3"]
            assert ("SYNC", "p0") in got[:i]
        else:
            assert sorted(n for t, n in got if t == "SYNC") == \
                ["p0", "p1", "p2", "p3"]
            assert [x for x in got if x[0] != "SYNC"] == [("DELETED", "p0")]
            st = w.status()
            assert st["cached"] == 3 and st["healthy"]
        assert any(r["status"] == 410 for r in emu.requests()
                   if "continue=" in (r["query"] or ""))
    finally:
        emu.release("page2")
        assert w.close() == 0, w.err[-20:]


def test_watch_closed_at_once_is_a_failure(probe, emu):
    """A server (or a proxy in front of it) that ends every watch stream
    at once and cleanly, with nothing in it: each is a failure, backed
    off and counted (client-go's "very short watch"), not a success to
    take again at once, which made a loop of watch requests as fast as
    the server answered and kept the watch healthy while it delivered
    nothing."""
    emu.load(pods(1))
    w = start_watch(probe, emu, "v1", "pods", "shop")
    try:
        emu.fault({"type": "drop-watch", "afterEvents": 0, "mode": "close",
                   "watch": True, "count": -1})
        emu.expire_watches("")          # the open stream ends: relist
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            st = w.status()
            if st["errors"] >= 3:
                break
            time.sleep(0.2)
        assert st["errors"] >= 3, st
        assert not st["healthy"]
        assert "ended the stream at once" in st["lastError"]
        emu.clear_faults()
        emu.expire_watches("")
        emu.change(kind="Pod", namespace="shop", name="p0",
                   merge={"metadata": {"labels": {"z": "1"}}})
        assert_exact(w, [("MODIFIED", "p0")], timeout=60)
        assert w.status()["healthy"]
    finally:
        assert w.close() == 0, w.err[-20:]


def test_watch_resource_version_too_large_relists(probe, emu):
    """etcd restored from a backup: the server's resourceVersion is behind
    ours, and a watch from ours answers 504 "Too large resource version"
    (cause ResourceVersionTooLarge) every time.  As client-go does, the
    watch lists again and goes on from the list's resourceVersion instead
    of asking for the same one forever."""
    emu.configure(too_large_rv_wait=0.1)
    emu.load(pods(2))
    w = start_watch(probe, emu, "v1", "pods", "shop")
    try:
        store = emu.api.store
        with store.lock:                # the restore: history behind us
            store.log.clear()
            store.rv = 1
        for ow, _, _ in list(emu.front.open_watches):
            ow.close()                  # the stream ends cleanly
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(
                r["status"] == 504 for r in emu.requests() if r["watch"]):
            time.sleep(0.1)
        emu.change(kind="Pod", namespace="shop", name="p0",
                   merge={"metadata": {"labels": {"z": "1"}}})
        assert_exact(w, [("MODIFIED", "p0")], timeout=30)
        st = w.status()
        assert st["relists"] == 1 and st["healthy"]
    finally:
        assert w.close() == 0, w.err[-20:]


def test_watch_unhealthy_while_broken(probe, emu):
    emu.load(pods(1))
    w = start_watch(probe, emu, "v1", "pods", "shop")
    try:
        emu.fault({"type": "error", "status": 503, "count": -1,
                   "message": "apiserver is shutting down"})
        emu.expire_watches("")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            st = w.status()
            if not st["healthy"]:
                break
            time.sleep(0.3)
        assert not st["healthy"]
        assert "503" in st["lastError"]
        assert any("503" in e for e in w.err)
        emu.clear_faults()
        emu.change(kind="Pod", namespace="shop", name="p0",
                   merge={"metadata": {"labels": {"z": "1"}}})
        assert_exact(w, [("MODIFIED", "p0")], timeout=60)
        assert w.status()["healthy"]
        assert w.err[-1] == "watch: recovered"
    finally:
        assert w.close() == 0, w.err[-20:]


def test_watch_follows_a_rotated_token(probe, emu, tmp_path):
    """The kubelet rotates a projected service account token: a watch
    that gets 401 with the old one re-reads the file and goes on."""
    emu.add_token("old-token", "admin", groups=["system:masters"])
    tok = tmp_path / "token"
    tok.write_text("old-token\n")
    kc = kubeconfig(tmp_path, emu, "    tokenFile: %s\n" % tok)
    emu.load(pods(2))
    w = Lines([probe, kc, "watch", "", "v1", "pods", "shop"])
    try:
        w.wait_for(lambda ls: any(x.get("synced") for x in ls))
        emu.add_token("new-token", "admin", groups=["system:masters"])
        tok.write_text("new-token\n")
        del emu.tokens["old-token"]
        emu.expire_watches("")
        emu.change(kind="Pod", namespace="shop", name="p0",
                   merge={"metadata": {"labels": {"z": "1"}}})
        assert_exact(w, [("MODIFIED", "p0")])
        # the old token was refused once, then the new one was read
        seq = [r["status"] for r in emu.requests()
               if r["path"] == "/api/v1/namespaces/shop/pods"]
        assert 401 in seq and seq[-1] == 200
        assert seq[seq.index(401) + 1] == 200
    finally:
        assert w.close() == 0, w.err[-20:]


def event(name, ns="shop"):
    return {"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": ns},
            "involvedObject": {"kind": "Pod", "name": "p0",
                               "namespace": ns},
            "reason": "OOMKilled", "type": "Warning", "message": name}


def test_events_410_resumes_without_relisting(probe, emu):
    """A real server keeps no watch cache for events: no bookmarks, and a
    410 after compaction.  The watch resumes from a fresh resourceVersion
    (a list of one) instead of relisting every Event."""
    emu.load([event("e%d" % i) for i in range(3)])
    w = start_watch(probe, emu, "v1", "events", "shop")
    try:
        emu.load(event("e3"))
        assert_exact(w, [("ADDED", "e3")])
        emu.load(pod("elsewhere", ns="other"))  # the store moves on
        emu.compact()                   # our resourceVersion is history
        emu.expire_watches("")          # the resume now answers 410
        w.wait_for(lambda ls: any('"resumed"' in e for e in w.err), 30)
        emu.load(event("e4"))
        assert_exact(w, [("ADDED", "e3"), ("ADDED", "e4")])
        assert not any('"relisted"' in e for e in w.err)
        assert w.status()["relists"] == 0
        assert [e for e in w.err if '"listed"' in e][0].count(
            '"objects":3') == 1
    finally:
        assert w.close() == 0, w.err[-20:]


def test_events_resume_list_failure_retries_not_relists(probe, emu):
    """The small list an events watch resumes from fails once (here a 403
    while an Event happens in the gap): the watch tries that list again
    after a backoff.  Falling back to listing every Event replayed what
    the gap held as news, which the resume exists not to do."""
    emu.load([event("e%d" % i) for i in range(3)])
    w = start_watch(probe, emu, "v1", "events", "shop")
    try:
        emu.load(event("e3"))
        assert_exact(w, [("ADDED", "e3")])
        emu.fault({"type": "error", "status": 403, "count": 1,
                   "watch": False, "path": "/events",
                   "query": "(^|&)limit=1(&|$)", "hold": "gap",
                   "message": "forbidden for a moment"})
        emu.load(pod("elsewhere", ns="other"))  # the store moves on
        emu.compact()                   # our resourceVersion is history
        emu.expire_watches("")          # the resume now answers 410
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not emu.held("gap"):
            time.sleep(0.05)
        assert emu.held("gap") == 1
        emu.load(event("gap"))          # happens while we are away
        emu.release("gap")              # the resume list: 403
        w.wait_for(lambda ls: any('"resumed"' in e for e in w.err), 30)
        emu.load(event("e4"))
        assert_exact(w, [("ADDED", "e3"), ("ADDED", "e4")])
        assert not any('"relisted"' in e for e in w.err)
        assert any("forbidden for a moment" in e for e in w.err)
        st = w.status()
        assert st["relists"] == 0 and st["healthy"], st
    finally:
        assert w.close() == 0, w.err[-20:]


def test_watch_backoff_obeys_retry_after(probe, emu):
    """A watch request answered 429 (API Priority and Fairness) or 503
    with Retry-After is not sent again sooner than the server asked: the
    backoff waited its own 0.5-0.75 s instead."""
    import datetime

    def when(r):
        return datetime.datetime.strptime(
            r["time"].rstrip("Z")[:26], "%Y-%m-%dT%H:%M:%S.%f")

    emu.load(pods(1))
    emu.fault([{"type": "throttle", "retryAfter": 4, "count": 1,
                "watch": True, "path": "/pods"},
               {"type": "error", "status": 503, "retryAfter": 4,
                "count": 1, "watch": True, "path": "/pods",
                "message": "apiserver is shutting down"}])
    w = start_watch(probe, emu, "v1", "pods", "shop")
    try:
        emu.change(kind="Pod", namespace="shop", name="p0",
                   merge={"metadata": {"labels": {"z": "1"}}})
        assert_exact(w, [("MODIFIED", "p0")], timeout=60)
        ws = [r for r in emu.requests() if r["watch"]]
        assert [r["status"] for r in ws[:3]] == [429, 503, 200]
        for a, b in zip(ws, ws[1:3]):
            assert (when(b) - when(a)).total_seconds() >= 3.9, (a, b)
    finally:
        assert w.close() == 0, w.err[-20:]
