"""`remediate run` live against the Kubernetes API emulator: the seed
example, with Pods whose status turns OOMKilled, leads to exactly the
Workflows the replay predicts, none for workloads that are not opted in,
and a Remediated Event on each acted-on Deployment."""
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

import scenario
from conftest import ROOT, binary, wait_until
# test_ha, test_crash_faults and test_history import these from here
from conftest import (Daemon, Emulator, check_metrics,  # noqa: F401
                      cluster_objects, http_get, listening_port)

WORKFLOWS = "/apis/argoproj.io/v1alpha1/namespaces/argo-events/workflows"


@pytest.fixture
def live_manifests(tmp_path):
    """The seed manifests without the budget gate (no Prometheus here)."""
    d = tmp_path / "manifests"
    shutil.copytree(os.path.join(ROOT, "examples", "seed", "manifests"), d)
    s = (d / "sensor.yaml").read_text()
    start = s.index("        budget:")
    (d / "sensor.yaml").write_text(s[:start])
    return d


def body(req):
    """A logged request body: the emulator decodes JSON already."""
    b = req["body"]
    return json.loads(b) if isinstance(b, (str, bytes)) else b


def test_seed_live_two_workflows_and_events(live_manifests):
    ws = [scenario.Workload("shop", n) for n in ("cart", "checkout",
                                                 "search")]
    legacy = scenario.Workload("shop", "legacy", deploy_optin=False,
                               pod_optin=False)
    with Emulator() as emu:
        emu.load(cluster_objects(ws + [legacy]))
        d = Daemon(live_manifests, emu.kubeconfig)
        try:
            d.wait_log("synced")
            emu.clear_requests()
            for w in ws + [legacy]:
                emu.oom_kill("shop", scenario.pod_name(w.name, 0))
            first = d.take(4)
            for w in ws + [legacy]:
                emu.oom_kill("shop", scenario.pod_name(w.name, 0))
            second = d.take(4)
            time.sleep(0.5)
            reqs = emu.requests()
            time.sleep(0.6)     # the loop refreshes engine totals
            status, metrics = http_get(listening_port(d), "/metrics")
        finally:
            assert d.stop() == 0
    assert status == 200
    check_metrics(metrics, {
        'argo_events_action_triggered_total{namespace="argo-events",'
        'sensor_name="oom-remediation",trigger_name="bump-memory-request"}':
        2,
        'remediate_actions_total{sensor="argo-events/oom-remediation",'
        'trigger="bump-memory-request"}': 2,
        'remediate_events_total': 8,
    })
    assert 'reason="rate-limited"} 1' in metrics
    assert 'reason="below-threshold"} 4' in metrics
    assert [r["reason"] for r in first] == ["below-threshold"] * 4, first
    assert len(second) == 4, (second, d.log_lines)
    by_target = {r["target"]["name"]: r for r in second}
    assert set(by_target) == {"cart", "checkout", "search", "legacy"}, \
        second
    assert by_target["cart"]["decision"] == "acted"
    assert by_target["checkout"]["decision"] == "acted"
    assert by_target["search"]["reason"] == "rate-limited"
    assert by_target["legacy"]["reason"] == "opt-out"
    posts = [r for r in reqs if r["method"] == "POST" and
             r["path"] == WORKFLOWS]
    assert len(posts) == 2
    pods = sorted(p["value"] for r in posts
                  for p in body(r)["spec"]["arguments"]
                  ["parameters"] if p["name"] == "pod")
    assert pods == sorted(scenario.pod_name(n, 0)
                          for n in ("cart", "checkout"))
    events = [body(r) for r in reqs if r["method"] == "POST"
              and r["path"].endswith("/events")]
    assert sorted(e["involvedObject"]["name"] for e in events
                  if e["reason"] == "Remediated") == ["cart", "checkout"]
    assert all(e["involvedObject"]["kind"] == "Deployment" for e in events)


def test_restart_does_not_replay_existing_kills(live_manifests):
    w = scenario.Workload("shop", "cart")
    with Emulator() as emu:
        emu.load(cluster_objects([w]))
        # two kills happen before remediate starts: history, not news
        emu.oom_kill("shop", scenario.pod_name("cart", 0))
        emu.oom_kill("shop", scenario.pod_name("cart", 0))
        d = Daemon(live_manifests, emu.kubeconfig)
        try:
            d.wait_log("synced")
            assert d.take(1, timeout=2) == []
            emu.oom_kill("shop", scenario.pod_name("cart", 0))
            recs = d.take(1)
        finally:
            d.stop()
    assert [r["reason"] for r in recs] == ["below-threshold"]


def relists(emu, resource, since):
    """Lists of resource asked for after `since` (a request sequence).  A
    watch lists again once it has read its expiry, after every change the
    stream carried before it: those are in the engine's queue."""
    return sum(1 for r in emu.requests(since) if not r["watch"] and
               r["method"] == "GET" and r["path"].endswith("/" + resource))


def test_sigterm_decides_the_kills_still_queued(live_manifests):
    ws = [scenario.Workload("shop", "cart"),
          scenario.Workload("shop", "checkout")]
    with Emulator() as emu:
        emu.load(cluster_objects(ws))
        d = Daemon(live_manifests, emu.kubeconfig)
        d.wait_log("synced")
        # the engine's fresh read of cart's Deployment (its ownership
        # check) is held: the engine thread is busy in one decision
        emu.fault({"type": "delay", "ms": 0, "method": "GET",
                   "path": "/deployments/cart$", "hold": "dep",
                   "count": 1, "holdTimeout": 60})
        emu.oom_kill("shop", scenario.pod_name("cart", 0))
        emu.oom_kill("shop", scenario.pod_name("cart", 0))
        assert wait_until(lambda: emu.held("dep") == 1)
        # meanwhile checkout is killed: its change waits in the queue (the
        # pods watch, expired after it, lists again once it has queued it)
        emu.oom_kill("shop", scenario.pod_name("checkout", 0))
        seq = emu.requests()[-1]["seq"]
        n = emu.expire_watches("pods")
        assert n and wait_until(lambda: relists(emu, "pods", seq) >= n)
        d.p.send_signal(signal.SIGTERM)
        emu.release("dep")
        assert d.p.wait(30) == 0
        recs = d.take(10, timeout=5)
        stopping = [x for x in d.all_logs() if x.get("msg") == "stopping"]
    assert "checkout" in [r["target"]["name"] for r in recs], recs
    assert stopping[0]["watchSignalsDropped"] == 0, stopping


DRAIN_S = 5    # DRAIN_MS in src/daemon/daemon_int.h


def test_a_stop_past_its_deadline_counts_the_kills_it_drops(live_manifests):
    """The stop decides queued kills for up to DRAIN_MS.  A decision held
    past that deadline leaves the kill queued behind it undecided (the
    next start would read it as history), and the stop says so: the
    "stopping" line's watchSignalsDropped and a warning."""
    ws = [scenario.Workload("shop", n) for n in ("cart", "checkout",
                                                 "orders")]
    with Emulator() as emu:
        emu.load(cluster_objects(ws))
        d = Daemon(live_manifests, emu.kubeconfig)
        d.wait_log("synced")
        for name in ("cart", "checkout"):
            emu.fault({"type": "delay", "ms": 0, "method": "GET",
                       "path": "/deployments/%s$" % name, "hold": name,
                       "count": 1, "holdTimeout": 60})
        # a second kill passes the seed's threshold: its decision reads
        # the Deployment (the ownership check), and that read is held
        emu.oom_kill("shop", scenario.pod_name("cart", 0))
        emu.oom_kill("shop", scenario.pod_name("cart", 0))
        assert wait_until(lambda: emu.held("cart") == 1)
        emu.oom_kill("shop", scenario.pod_name("checkout", 0))
        emu.oom_kill("shop", scenario.pod_name("checkout", 0))
        emu.oom_kill("shop", scenario.pod_name("orders", 0))
        seq = emu.requests()[-1]["seq"]
        n = emu.expire_watches("pods")
        assert n and wait_until(lambda: relists(emu, "pods", seq) >= n)
        d.p.send_signal(signal.SIGTERM)
        emu.release("cart")
        # the drain's first decision holds past its deadline
        assert wait_until(lambda: emu.held("checkout") == 1)
        time.sleep(DRAIN_S + 1)
        emu.release("checkout")
        assert d.p.wait(30) == 0
        recs = d.take(10, timeout=5)
        logs = d.all_logs()
    names = [r["target"]["name"] for r in recs]
    assert "checkout" in names and "orders" not in names, recs
    stopping = [x for x in logs if x.get("msg") == "stopping"]
    assert stopping[0]["watchSignalsDropped"] >= 1, stopping
    warned = [x for x in logs if x.get("msg") ==
              "cluster signals were not decided before the stop"]
    assert warned and warned[0]["signals"] == \
        stopping[0]["watchSignalsDropped"], warned


def test_readyz_shows_a_broken_watch(live_manifests):
    with Emulator() as emu:
        emu.load(cluster_objects([scenario.Workload("shop", "cart")]))
        d = Daemon(live_manifests, emu.kubeconfig)
        try:
            d.wait_log("synced")
            port = listening_port(d)
            assert http_get(port, "/healthz") == (200, "ok\n")
            assert http_get(port, "/readyz") == (200, "ok\n")
            # every request for pods now fails: the watch cannot resume
            emu.fault({"type": "error", "path": "^/api/v1/pods$",
                       "status": 500, "count": 0})
            emu.expire_watches()
            deadline = time.time() + 30
            status, body = http_get(port, "/readyz")
            while status == 200 and time.time() < deadline:
                time.sleep(0.5)
                status, body = http_get(port, "/readyz")
            assert status == 503
            watches = json.loads(body)["watches"]
            assert [w["resource"] for w in watches] == ["pods"]
            assert watches[0]["lastError"]
            emu.clear_faults()
            deadline = time.time() + 60
            while status != 200 and time.time() < deadline:
                time.sleep(0.5)
                status, body = http_get(port, "/readyz")
            assert status == 200
        finally:
            d.stop()
    logged = d.all_logs()
    assert any(x.get("msg") == "watch failing" and
               x.get("resource") == "pods" for x in logged)


def test_kill_9_after_an_action_keeps_its_cooldown(live_manifests):
    w = scenario.Workload("shop", "cart")
    with Emulator() as emu:
        emu.load(cluster_objects([w]))
        d = Daemon(live_manifests, emu.kubeconfig)
        try:
            d.wait_log("synced")
            emu.oom_kill("shop", scenario.pod_name("cart", 0))
            emu.oom_kill("shop", scenario.pod_name("cart", 0))
            before = d.take(2)
        finally:
            d.kill()
        # the same state file: the cooldown and the rate bucket survive
        d = Daemon(live_manifests, emu.kubeconfig, state=d.state)
        try:
            d.wait_log("synced")
            emu.oom_kill("shop", scenario.pod_name("cart", 0))
            emu.oom_kill("shop", scenario.pod_name("cart", 0))
            after = d.take(2)
        finally:
            d.stop()
        history = subprocess.run(
            [binary(), "history", "--state", d.state, "--json"],
            capture_output=True, text=True, timeout=30)
    assert [r["decision"] for r in before] == ["suppressed", "acted"]
    # the first kill after the restart counts with the ones before it
    assert [r.get("reason") for r in after] == ["cooldown", "cooldown"]
    assert history.returncode == 0, history.stderr
    kept = [json.loads(x) for x in history.stdout.splitlines()]
    assert [r["decision"] for r in kept] == [
        "suppressed", "acted", "suppressed", "suppressed"]
