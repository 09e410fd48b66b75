"""Actions off the engine thread, through `remediate run` and the
Kubernetes API emulator (issue 17, items 6 and 9).

- One target's action throttled by the API server (429 with Retry-After,
  held by the emulator until the test lets it go) holds up no other
  target: the other target's decision and action happen meanwhile, and
  the throttled action completes afterwards, recorded once.
- A failed action (500 five times) is recorded `failed`, logged at error,
  and holds a short retry backoff instead of the cooldown; a successful
  one holds the whole cooldown as before.
- /readyz answers 503 with the reason while the engine loop is stuck (a
  budget query to a Prometheus that does not answer), and 200 again after.

Nothing here asserts a duration: the tests wait (bounded) for what must
happen and check the order in which it happened."""
import http.server
import json
import threading
import time

import scenario
from conftest import (Daemon, Emulator, cluster_objects, http_get,
                      listening_port, wait_until)
from test_run_live import WORKFLOWS, body, live_manifests  # noqa: F401

HOLD = "throttle-cart"


def kill_twice(emu, name):
    """Two OOM kills: the seed's threshold is 2 within 5m."""
    for _ in range(2):
        emu.oom_kill("shop", scenario.pod_name(name, 0))


def hold_cart_action(emu):
    """Two kills of cart: its action's POST is held by the server."""
    emu.fault({"type": "status429", "retryAfter": 1,
               "method": "POST", "path": WORKFLOWS + "$",
               "hold": HOLD, "holdTimeout": 60})
    kill_twice(emu, "cart")
    assert wait_until(lambda: emu.held(HOLD) == 1)


def target(rec):
    return rec["target"]["name"]


def posts_for(emu, name):
    return [r for r in emu.requests() if r["method"] == "POST" and
            r["path"] == WORKFLOWS and
            any(p["value"] == scenario.pod_name(name, 0)
                for p in body(r)["spec"]["arguments"]["parameters"])]


def test_a_throttled_target_holds_up_no_other_decision(live_manifests):
    ws = [scenario.Workload("shop", "cart"),
          scenario.Workload("shop", "checkout")]
    with Emulator() as emu:
        emu.load(cluster_objects(ws))
        d = Daemon(live_manifests, emu.kubeconfig,
                   extra=["--stall-after", "2s"])
        try:
            d.wait_log("synced")
            port = listening_port(d)
            # cart's Workflow create: held, then 429 + Retry-After (once)
            emu.fault({"type": "status429", "retryAfter": 1,
                       "method": "POST", "path": WORKFLOWS + "$",
                       "body": scenario.pod_name("cart", 0),
                       "hold": HOLD, "holdTimeout": 60})
            kill_twice(emu, "cart")
            assert wait_until(lambda: emu.held(HOLD) == 1), \
                "cart's action never reached the API server"
            first = d.take(1)
            kill_twice(emu, "checkout")
            during = d.take(2)
            # cart's action still waits on the API server; the engine is
            # free and says so
            assert emu.held(HOLD) == 1
            assert [r["status"] for r in posts_for(emu, "cart")] == [None]
            ready = http_get(port, "/readyz")
            emu.release(HOLD)
            after = d.take(1, timeout=60)
        finally:
            assert d.stop() == 0
        cart_posts = posts_for(emu, "cart")
    assert [(target(r), r["decision"], r.get("reason")) for r in first] == \
        [("cart", "suppressed", "below-threshold")]
    assert [(target(r), r["decision"], r.get("reason")) for r in during] == \
        [("checkout", "suppressed", "below-threshold"),
         ("checkout", "acted", None)], during
    assert ready == (200, "ok\n")
    assert [(target(r), r["decision"]) for r in after] == \
        [("cart", "acted")], after
    # one decision, one record: the 429 was retried inside the action
    assert [r["status"] for r in cart_posts] == [429, 201]
    assert after[0]["result"]["metadata"]["name"].startswith("bump-memory-")
    # the records are in the state file once each, none left "intended"
    import subprocess
    from conftest import binary
    h = subprocess.run([binary(), "history", "--state", d.state, "--json"],
                       capture_output=True, text=True, timeout=30)
    assert h.returncode == 0, h.stderr
    rows = [json.loads(x) for x in h.stdout.splitlines() if x.strip()]
    acted = [r for r in rows if r["decision"] == "acted"]
    assert sorted(target(r) for r in acted) == ["cart", "checkout"]
    assert not any(r.get("outcome") for r in rows), rows


def test_failed_action_logs_error_and_backs_off(live_manifests):
    ws = [scenario.Workload("shop", "cart"),
          scenario.Workload("shop", "checkout")]
    with Emulator() as emu:
        emu.load(cluster_objects(ws))
        d = Daemon(live_manifests, emu.kubeconfig)
        try:
            d.wait_log("synced")
            # every attempt of cart's create fails (the client tries 5)
            emu.fault({"type": "error", "status": 500, "count": 5,
                       "method": "POST", "path": WORKFLOWS + "$",
                       "body": scenario.pod_name("cart", 0)})
            kill_twice(emu, "cart")
            failed = d.take(2, timeout=60)
            d.wait_log("action failed")
            # a kill inside the backoff: held, and told why
            emu.oom_kill("shop", scenario.pod_name("cart", 0))
            held = d.take(1)
            # a success holds the whole cooldown
            kill_twice(emu, "checkout")
            ok = d.take(2)
            emu.oom_kill("shop", scenario.pod_name("checkout", 0))
            cooled = d.take(1)
        finally:
            assert d.stop() == 0
        cart_posts = posts_for(emu, "cart")
    logs = d.all_logs()
    assert [r["decision"] for r in failed] == ["suppressed", "failed"]
    assert "500" in failed[1]["message"], failed[1]
    assert [r["status"] for r in cart_posts] == [500] * 5
    errs = [x for x in logs if x.get("msg") == "action failed"]
    assert len(errs) == 1 and errs[0]["level"] == "error", errs
    assert errs[0]["target"]["name"] == "cart"
    assert [(r["decision"], r.get("reason")) for r in held] == \
        [("suppressed", "cooldown")]
    assert "failed, retry allowed in" in held[0]["message"], held
    assert [r["decision"] for r in ok] == ["suppressed", "acted"]
    assert [(r["decision"], r.get("reason")) for r in cooled] == \
        [("suppressed", "cooldown")]
    assert "inside the 15m cooldown" in cooled[0]["message"], cooled


class StuckPrometheus:
    """Answers /api/v1/query only once released: an engine that asks it
    for a budget is stuck in the call until then."""

    def __init__(self):
        self.released = threading.Event()
        self.asked = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.asked.set()
                outer.released.wait(60)
                b = json.dumps({"status": "success", "data": {
                    "resultType": "vector", "result": [{
                        "metric": {}, "value": [time.time(), "1"]}]}})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(b)))
                self.end_headers()
                self.wfile.write(b.encode())

            do_POST = do_GET

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.released.set()
        self.srv.shutdown()
        self.srv.server_close()


def test_readyz_reports_a_stalled_engine(tmp_path):
    import os
    import shutil
    from conftest import ROOT
    prom = StuckPrometheus()
    m = tmp_path / "manifests"
    shutil.copytree(os.path.join(ROOT, "examples", "seed", "manifests"), m)
    with open(m / "config.yaml", "a") as f:     # a query may take a minute
        f.write("  prometheus:\n    url: %s\n    timeout: 60s\n" % prom.url)
    try:
        with Emulator() as emu:
            emu.load(cluster_objects([scenario.Workload("shop", "cart")]))
            d = Daemon(m, emu.kubeconfig, extra=["--stall-after", "1s"])
            try:
                d.wait_log("synced")
                port = listening_port(d)
                assert http_get(port, "/readyz") == (200, "ok\n")
                kill_twice(emu, "cart")
                assert prom.asked.wait(30)
                stuck = [None]

                def saw_503():
                    stuck[0] = http_get(port, "/readyz")
                    return stuck[0][0] == 503
                assert wait_until(saw_503), stuck
                healthz = http_get(port, "/healthz")
                prom.released.set()
                recs = d.take(2)
                assert wait_until(
                    lambda: http_get(port, "/readyz")[0] == 200)
            finally:
                assert d.stop() == 0
    finally:
        prom.close()
    report = json.loads(stuck[0][1])
    assert report["engine"]["reason"] == "the engine loop has not turned"
    assert report["engine"]["stalledFor"] >= 1
    assert report["watches"] == []
    assert healthz == (200, "ok\n")      # alive, only not ready
    assert [r["decision"] for r in recs] == ["suppressed", "acted"]


def test_stop_during_an_action_leaves_its_intent(live_manifests):
    """SIGTERM while an action waits on the API server: the request gives
    up, the process exits 0, and the action keeps its intent (acted,
    outcome unknown) and its cooldown across the restart: no record
    claims an outcome nobody knows."""
    import subprocess
    from conftest import binary
    w = scenario.Workload("shop", "cart")
    with Emulator() as emu:
        emu.load(cluster_objects([w]))
        d = Daemon(live_manifests, emu.kubeconfig)
        try:
            d.wait_log("synced")
            hold_cart_action(emu)
            before = d.take(1)
        finally:
            rc = d.stop()
            emu.release(HOLD)
        logs = d.all_logs()
        leftover = d.take(1, timeout=1)
        h = subprocess.run([binary(), "history", "--state", d.state,
                            "--json"], capture_output=True, text=True,
                           timeout=30)
        d = Daemon(live_manifests, emu.kubeconfig, state=d.state)
        try:
            d.wait_log("synced")
            kill_twice(emu, "cart")
            after = d.take(2)
        finally:
            assert d.stop() == 0
    assert rc == 0
    assert [r.get("reason") for r in before] == ["below-threshold"]
    assert leftover == []
    assert any(x.get("msg") == "an action was interrupted by the stop; "
               "its outcome is unknown" for x in logs), logs
    rows = [json.loads(x) for x in h.stdout.splitlines() if x.strip()]
    acted = [r for r in rows if r["decision"] == "acted"]
    assert len(acted) == 1 and acted[0]["outcome"] == "unknown", rows
    assert [r.get("reason") for r in after] == ["cooldown", "cooldown"]
