"""A slow Prometheus holds no decision.  A prometheus source's query runs
on a thread of its own (src/daemon/promq.c), not on the engine thread
every decision waits on.  Against a Prometheus stub that holds its answer
until the test lets it go, and the Kubernetes API emulator: an alert
posted to a webhook while the query is held is decided, and the source is
not asked a second time meanwhile; once the answer comes, the series over
the line is decided too."""
import http.server
import json
import os
import shutil
import sys
import threading
import time
import urllib.parse

import scenario
from conftest import (ROOT, Daemon, cluster_objects, listening_port, post,
                      wait_until)
from test_reload import PROM_SOURCE

# src/daemon/budget.h: BUDGET_HOLD_FIRST
BUDGET_HOLD_FIRST_S = 5

sys.path.insert(0, os.path.join(ROOT, "tests"))
from kubeapi.emulator import Emulator  # noqa: E402

WEBHOOK = """---
apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata: {name: hooks, namespace: argo-events}
spec:
  webhook:
    page: {endpoint: /page, method: POST, port: "12000", auth: none}
---
apiVersion: argoproj.io/v1alpha1
kind: Sensor
metadata: {name: paged, namespace: argo-events}
spec:
  dependencies:
    - {name: p, eventSourceName: hooks, eventName: page}
  triggers:
    - template:
        name: page-note
        k8s:
          operation: create
          source:
            resource:
              apiVersion: v1
              kind: ConfigMap
              metadata: {generateName: page-}
              data: {who: "{{ .Input.body.who }}"}
      guardrails:
        mode: dry-run
        cooldown: 0s
        target: Deployment/shop/w0
---
apiVersion: remediate.dev/v1alpha1
kind: RemediationConfig
metadata: {name: defaults}
spec:
  # longer than the test waits for the webhook's record: a query asked
  # on the engine thread would still hold it
  prometheus: {url: "%s", timeout: 60s}
"""


class HeldPrometheus:
    """/api/v1/query answers burn_rate{slo="a"} = 2, each answer held
    until release(); counts the queries asked."""

    def __init__(self):
        stub = self
        self.asked = 0
        self.go = threading.Event()
        self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                form = urllib.parse.parse_qs(self.rfile.read(n).decode())
                with stub.lock:
                    stub.asked += 1
                stub.go.wait(90)
                at = float(form.get("time", [time.time()])[0])
                body = json.dumps({"status": "success", "data": {
                    "resultType": "vector", "result": [{
                        "metric": {"slo": "a"}, "value": [at, "2"]}]}})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever,
                         kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]

    def stop(self):
        self.go.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def test_a_held_prometheus_query_holds_no_decision(tmp_path):
    prom = HeldPrometheus()
    m = tmp_path / "m"
    m.mkdir()
    (m / "all.yaml").write_text(PROM_SOURCE % prom.url +
                               WEBHOOK % prom.url)
    try:
        with Emulator() as emu:
            emu.load(cluster_objects([scenario.Workload("shop", "w0")]))
            d = Daemon(m, emu.kubeconfig, state=str(tmp_path / "s.db"))
            try:
                d.wait_log("synced")
                port = listening_port(d)
                assert wait_until(lambda: prom.asked >= 1)
                assert post(port, "/page", {"who": "oncall"})[0] == 200
                paged = d.take(1, timeout=20)
                asked_meanwhile = prom.asked
                prom.go.set()
                burned = d.take(1, timeout=30)
            finally:
                d.stop()
    finally:
        prom.stop()
    # decided while the query was held (the engine thread was free)...
    assert [r["trigger"] for r in paged] == ["page-note"], paged
    assert paged[0]["plan"]["object"]["data"]["who"] == "oncall"
    # ...and the source, due every 1s, was not asked again meanwhile
    assert asked_meanwhile == 1
    # the held answer, once given, is decided as of when it was asked
    assert [r["trigger"] for r in burned] == ["note"], burned
    assert burned[0]["plan"]["object"]["data"]["slo"] == "a"


def test_a_failed_query_is_said_and_changes_nothing(tmp_path):
    """Prometheus unreachable: each evaluation's failure comes back from
    the query thread and is logged with its source; the source is asked
    again at its interval, and the webhook is decided meanwhile."""
    m = tmp_path / "m"
    m.mkdir()
    down = "http://127.0.0.1:9"             # nothing listens there
    (m / "all.yaml").write_text(PROM_SOURCE % down + WEBHOOK % down)
    with Emulator() as emu:
        emu.load(cluster_objects([scenario.Workload("shop", "w0")]))
        d = Daemon(m, emu.kubeconfig, state=str(tmp_path / "s.db"))
        try:
            d.wait_log("synced")
            port = listening_port(d)
            d.wait_log("prometheus source query failed")
            d.wait_log("prometheus source query failed")
            assert post(port, "/page", {"who": "oncall"})[0] == 200
            paged = d.take(1, timeout=20)
        finally:
            d.stop()
        logs = d.all_logs()
    failed = [x for x in logs if x.get("msg") ==
              "prometheus source query failed"]
    assert len(failed) >= 2
    assert {x["source"] for x in failed} == {"burn"}
    assert "127.0.0.1:9" in failed[0]["error"], failed[0]
    assert [r["trigger"] for r in paged] == ["page-note"]


def test_a_hung_prometheus_holds_one_budget_decision_not_every_one(
        tmp_path):
    """The budget gate asks Prometheus on the engine thread, and a decision
    stopped at the budget takes no rate token, so each next signal may act
    and asked again: with Prometheus hung, every signal of a budget-gated
    trigger held the engine for a whole timeout.  After a question that
    timed out, the gate holds its questions for a while (fails closed at
    once); once Prometheus answers again, the action goes on."""
    prom = HeldPrometheus()
    manifests = tmp_path / "manifests"
    shutil.copytree(os.path.join(ROOT, "examples", "seed", "manifests"),
                    manifests)
    cfg = manifests / "config.yaml"
    cfg.write_text(cfg.read_text().replace(
        "spec:\n", "spec:\n  prometheus: {url: \"%s\", timeout: 1s}\n"
        % prom.url, 1))
    storm = [scenario.Workload("shop", "w%d" % i) for i in range(6)]
    later = scenario.Workload("shop", "late")
    try:
        with Emulator() as emu:
            emu.load(cluster_objects(storm + [later]))
            d = Daemon(manifests, emu.kubeconfig)
            try:
                d.wait_log("synced")
                for w in storm:
                    emu.oom_kill(w.ns, scenario.pod_name(w.name, 0))
                    emu.oom_kill(w.ns, scenario.pod_name(w.name, 0))
                stormed = d.take(2 * len(storm), timeout=60)
                asked_in_storm = prom.asked
                # Prometheus answers again (burn_rate 2: budget enough);
                # the hold (5 s after the timeout) runs out, and the next
                # decision asks and acts
                prom.go.set()
                time.sleep(BUDGET_HOLD_FIRST_S + 0.5)
                emu.oom_kill(later.ns, scenario.pod_name(later.name, 0))
                emu.oom_kill(later.ns, scenario.pod_name(later.name, 0))
                after = d.take(2, timeout=30)
            finally:
                d.stop()
            logs = d.all_logs()
    finally:
        prom.stop()
    decided = [r for r in stormed if r.get("reason") != "below-threshold"]
    assert len(decided) == len(storm), stormed
    # every one stopped at the budget, failing closed...
    assert {(r["decision"], r["reason"]) for r in decided} == {
        ("suppressed", "budget")}, decided
    assert all(r["budget"]["value"] is None for r in decided)
    # ...and only the first asked: the old build asked once per decision,
    # each held for the whole timeout
    assert asked_in_storm == 1, asked_in_storm
    held = [x for x in logs if x.get("msg") == "budget queries held"]
    assert len(held) == 1 and held[0]["hold_ms"] == 5000, held
    assert "timed out" in held[0]["why"], held
    not_asked = [x for x in logs if x.get("msg") == "no error-budget value"
                 and x["why"].startswith("not asked for")]
    assert len(not_asked) == len(storm) - 1, not_asked
    acted = [r for r in after if r.get("reason") != "below-threshold"]
    assert [(r["target"]["name"], r["decision"]) for r in acted] == [
        ("late", "acted")], after
    assert acted[0]["budget"]["value"] == 2
    assert prom.asked == 2
