"""Pages from `remediate run` to a real Alertmanager (the Debian package
prometheus-alertmanager, started here on a free loopback port with its own
storage): a rate-limited decision raises a RemediationPage alert with the
documented labels and annotations, the next action of the trigger resolves
it, a failed action pages as critical, and a webhook receives the same
pages in Alertmanager's webhook shape.  The daemon runs against the
Kubernetes API emulator.

The unit test tests/unit/test_page.c covers aggregation, retries and
queueing against a stand-in receiver and also pages a real Alertmanager
through the pager alone."""
import http.server
import json
import os
import shutil
import subprocess
import threading
import time
import urllib.request

import pytest

import scenario
from conftest import (ROOT, Daemon, Emulator, binary, cluster_objects,
                      free_port, wait_until)

AM = "/usr/bin/prometheus-alertmanager"


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read().decode())


@pytest.fixture
def alertmanager(tmp_path):
    if not os.access(AM, os.X_OK):
        pytest.skip("%s not installed (Debian package "
                    "prometheus-alertmanager; scripts/install-deps --test)"
                    % AM)
    port = free_port()
    cfg = tmp_path / "am.yml"
    cfg.write_text("route: {receiver: none}\nreceivers: [{name: none}]\n")
    (tmp_path / "am-data").mkdir()
    p = subprocess.Popen([AM, "--config.file=%s" % cfg,
                          "--storage.path=%s" % (tmp_path / "am-data"),
                          "--web.listen-address=127.0.0.1:%d" % port,
                          "--cluster.listen-address="],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = "http://127.0.0.1:%d" % port
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/-/ready", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        p.kill()
        pytest.fail("alertmanager did not start: %s" % p.stderr.read())
    yield url
    p.terminate()
    p.wait(10)


class Hook(http.server.BaseHTTPRequestHandler):
    bodies = []

    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        Hook.bodies.append((self.headers.get("Authorization"),
                            json.loads(self.rfile.read(n))))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


@pytest.fixture
def webhook():
    Hook.bodies = []
    srv = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield "http://127.0.0.1:%d/pages" % srv.server_address[1]
    srv.shutdown()


def daemon_pages():
    """The flags `remediate run` takes for pages, or a skip."""
    p = subprocess.run([binary(), "run", "--help"], capture_output=True,
                       text=True, timeout=30)
    if "--alertmanager" not in p.stdout + p.stderr:
        pytest.skip("remediate run has no --alertmanager yet (daemon "
                    "wiring of src/page pending)")


def manifests(tmp_path):
    """The seed, without the budget gate, one action per second."""
    m = tmp_path / "manifests"
    shutil.copytree(os.path.join(ROOT, "examples", "seed", "manifests"), m)
    s = (m / "sensor.yaml").read_text()
    s = s[:s.index("        budget:")]
    s = s.replace("unit: Minute", "unit: Second").replace(
        "requestsPerUnit: 2", "requestsPerUnit: 1")
    (m / "sensor.yaml").write_text(s)
    return m


def ours(url):
    return [a for a in get_json(url + "/api/v2/alerts")
            if a["labels"].get("alertname") == "RemediationPage"]


def test_rate_limited_pages_and_the_next_action_resolves(
        tmp_path, alertmanager, webhook):
    daemon_pages()
    ws = [scenario.Workload("shop", n) for n in ("cart", "search", "tax")]
    with Emulator() as emu:
        emu.load(cluster_objects(ws))
        d = Daemon(manifests(tmp_path), emu.kubeconfig, [
            "--state", str(tmp_path / "state.db"),
            "--alertmanager", alertmanager, "--page-webhook", webhook])
        try:
            d.wait_log("synced")
            for w in ws[:2]:        # both over threshold in one second
                emu.oom_kill("shop", scenario.pod_name(w.name, 0))
                emu.oom_kill("shop", scenario.pod_name(w.name, 0))
            recs = d.take(4)
            # cart decided first and took the token; its record comes
            # when its action is done, which may be after search's
            # (actions run off the engine thread): order per target
            by = {n: [r.get("reason", r["decision"]) for r in recs
                      if r["target"]["name"] == n] for n in ("cart",
                                                           "search")}
            assert by == {"cart": ["below-threshold", "acted"],
                          "search": ["below-threshold", "rate-limited"]}, \
                recs
            alerts = wait_until(lambda: ours(alertmanager), 15, 0.2)
            assert len(alerts) == 1, alerts
            a = alerts[0]
            assert a["labels"] == {
                "alertname": "RemediationPage", "severity": "warning",
                "sensor": "argo-events/oom-remediation",
                "trigger": "bump-memory-request", "reason": "rate-limited",
                "target": "Deployment/shop/search"}
            assert a["annotations"]["description"] == "1 per Second reached"
            assert a["annotations"]["occurrences"] == "1"
            assert a["status"]["state"] == "active"
            time.sleep(1.2)         # a token comes back
            w = ws[2]
            emu.oom_kill("shop", scenario.pod_name(w.name, 0))
            emu.oom_kill("shop", scenario.pod_name(w.name, 0))
            assert [r["decision"] for r in d.take(2)] == ["suppressed",
                                                          "acted"]
            assert wait_until(lambda: not ours(alertmanager), 15, 0.2)
        finally:
            assert d.stop() == 0
    statuses = [b["status"] for _, b in Hook.bodies]
    assert statuses == ["firing", "resolved"], Hook.bodies
    assert Hook.bodies[0][1]["alerts"][0]["labels"]["reason"] == \
        "rate-limited"


def test_a_failed_action_pages_critical(tmp_path, alertmanager):
    daemon_pages()
    w = scenario.Workload("shop", "cart")
    with Emulator() as emu:
        emu.load(cluster_objects([w]))
        emu.fault({"type": "error", "method": "POST",
                   "path": "/workflows$", "status": 500, "count": -1})
        d = Daemon(manifests(tmp_path), emu.kubeconfig, [
            "--state", str(tmp_path / "state.db"),
            "--alertmanager", alertmanager])
        try:
            d.wait_log("synced")
            emu.oom_kill("shop", scenario.pod_name("cart", 0))
            emu.oom_kill("shop", scenario.pod_name("cart", 0))
            assert [r["decision"] for r in d.take(2)] == ["suppressed",
                                                          "failed"]
            alerts = wait_until(lambda: ours(alertmanager), 15, 0.2)
        finally:
            assert d.stop() == 0
    assert [(a["labels"]["reason"], a["labels"]["severity"])
            for a in alerts] == [("failed", "critical")]
