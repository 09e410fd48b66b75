"""Live reload of `remediate run`: a change under -c (or SIGHUP) loads the
whole configuration again and swaps it in only when it checks clean.
Guard state follows trigger identity (a cooldown set before a reload
still holds after it); a bad configuration is refused with `check`'s own
messages and the old one keeps deciding; a file caught half-written is
never loaded; watches and webhook endpoints follow the sources."""
import json
import os
import signal
import subprocess
import time

import scenario
from conftest import (Daemon, binary, cluster_objects, http_get,
                      listening_port, post, wait_until)
from test_ha import ha_manifests, logged, metric, workflow_pods  # noqa: F401,E501
from test_run_live import body
from promserver import Exporter, Prometheus

import sys
from conftest import ROOT
sys.path.insert(0, os.path.join(ROOT, "tests"))
from kubeapi.emulator import Emulator  # noqa: E402

OLD_IMAGE = "ghcr.io/internal/k8s-remediate:1.4.0"
NEW_IMAGE = "ghcr.io/internal/k8s-remediate:1.5.0"
WORKFLOWS = "/apis/argoproj.io/v1alpha1/namespaces/argo-events/workflows"

EXTRA = """apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata: {name: extra, namespace: argo-events}
spec:
  webhook:
    deploy: {endpoint: /deploy-hook, method: POST, port: "12000"}
  resource:
    cms:
      namespace: ""
      group: ""
      version: "v1"
      resource: "configmaps"
      eventTypes: [ADD]
"""


def images(reqs):
    """The image of each Workflow created, in order."""
    out = []
    for r in reqs:
        if r["method"] == "POST" and r["path"] == WORKFLOWS and \
                r.get("status") == 201:
            out += [t["container"]["image"]
                    for t in body(r)["spec"]["templates"]]
    return out


def replace_file(path, text):
    """As git checkout does: a new file renamed over the old one."""
    tmp = str(path) + ".tmp~"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def kill(emu, d, name, n=0):
    emu.oom_kill("shop", scenario.pod_name(name, n))
    return d.take(1)


def reload_metric(d, result):
    return metric(d, 'remediate_config_reload_total{result="%s"}' % result)


def start(emu, manifests, tmp_path):
    d = Daemon(manifests, emu.kubeconfig, state=str(tmp_path / "s.db"))
    d.wait_log("synced")
    return d


def test_a_good_change_takes_effect_and_keeps_the_cooldown(
        tmp_path, ha_manifests):  # noqa: F811
    ws = [scenario.Workload("shop", n) for n in ("w0", "w1")]
    sensor = ha_manifests / "sensor.yaml"
    with Emulator() as emu:
        emu.load(cluster_objects(ws))
        d = start(emu, ha_manifests, tmp_path)
        try:
            assert kill(emu, d, "w0")[0]["decision"] == "acted"
            replace_file(sensor, sensor.read_text().replace(OLD_IMAGE,
                                                            NEW_IMAGE))
            d.wait_log("configuration reloaded")
            again = kill(emu, d, "w0", 1)
            other = kill(emu, d, "w1")
            ok = reload_metric(d, "ok")
        finally:
            d.stop()
        reqs = emu.requests()
    assert again[0]["reason"] == "cooldown", again   # survived the reload
    assert other[0]["decision"] == "acted", other
    assert images(reqs) == [OLD_IMAGE, NEW_IMAGE]    # the change works
    assert ok == 1


def test_a_replaced_configuration_is_freed_once_no_action_holds_it(
        tmp_path, ha_manifests):  # noqa: F811
    """A configuration a reload replaced was kept until exit (about
    100 KiB a reload of the seed).  It is freed once no action is in
    flight: one held across the reload keeps its trigger, its outcome is
    recorded whole, and only then does the old configuration go (run
    this file under `make e2e-san` to see nothing is read after)."""
    with Emulator() as emu:
        emu.load(cluster_objects([scenario.Workload("shop", "w0")]))
        d = start(emu, ha_manifests, tmp_path)
        try:
            emu.fault({"type": "delay", "ms": 0, "method": "POST",
                       "path": "/workflows$", "hold": "wf", "count": 1,
                       "holdTimeout": 60})
            emu.oom_kill("shop", scenario.pod_name("w0", 0))
            assert wait_until(lambda: emu.held("wf") == 1)
            d.p.send_signal(signal.SIGHUP)
            d.wait_log("configuration reloaded")
            time.sleep(1)       # loop turns: reclaim sees the action
            held = logged(d, "replaced configurations freed")
            emu.release("wf")
            rec = d.take(1)
            d.wait_log("replaced configurations freed")
            d.p.send_signal(signal.SIGHUP)     # nothing in flight now
            d.wait_log("configuration reloaded")
            d.wait_log("replaced configurations freed")
        finally:
            assert d.stop() == 0
    assert held == []
    assert rec[0]["decision"] == "acted", rec
    assert rec[0]["trigger"] == "bump-memory-request", rec


def test_a_bad_change_is_refused_and_the_old_one_keeps_deciding(
        tmp_path, ha_manifests):  # noqa: F811
    ws = [scenario.Workload("shop", n) for n in ("w0", "w1")]
    sensor = ha_manifests / "sensor.yaml"
    bad = sensor.read_text().replace(OLD_IMAGE, NEW_IMAGE).replace(
        "cooldown: 15m", "cooldwn: 15m")
    with Emulator() as emu:
        emu.load(cluster_objects(ws))
        d = start(emu, ha_manifests, tmp_path)
        try:
            replace_file(sensor, bad)
            d.wait_log("configuration refused; the running one stays")
            first = kill(emu, d, "w0")
            second = kill(emu, d, "w0", 1)
            err, ok = reload_metric(d, "error"), reload_metric(d, "ok")
        finally:
            d.stop()
        reqs = emu.requests()
    check = subprocess.run([binary(), "check", str(ha_manifests)],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 1
    diags = [x for x in check.stderr.splitlines() if x.strip()]
    assert diags and any("cooldwn" in x for x in diags), diags
    for line in diags:              # the same messages as check
        assert line in [x.rstrip("\n") for x in d.log_lines], line
    assert first[0]["decision"] == "acted"
    assert second[0]["reason"] == "cooldown"   # the old guardrails
    assert images(reqs) == [OLD_IMAGE]         # the old trigger
    assert (err, ok) == (1, 0)


def test_a_half_written_file_is_never_loaded(tmp_path, ha_manifests):  # noqa: F811,E501
    ws = [scenario.Workload("shop", "w0")]
    sensor = ha_manifests / "sensor.yaml"
    text = sensor.read_text().replace(OLD_IMAGE, NEW_IMAGE)
    with Emulator() as emu:
        emu.load(cluster_objects(ws))
        d = start(emu, ha_manifests, tmp_path)
        try:
            # an editor saving in place, in three writes; each partial
            # state outlives two polls (250ms) but not the settling (1s)
            third = len(text) // 3
            with open(sensor, "w") as f:
                for part in (text[:third], text[third:2 * third]):
                    f.write(part)
                    f.flush()
                    time.sleep(0.7)
                f.write(text[2 * third:])
            d.wait_log("configuration reloaded")
            acted = kill(emu, d, "w0")
            err, ok = reload_metric(d, "error"), reload_metric(d, "ok")
        finally:
            d.stop()
        reqs = emu.requests()
        refused = logged(d, "configuration refused; the running one stays")
    assert refused == []
    assert (err, ok) == (0, 1)
    assert acted[0]["decision"] == "acted"
    assert images(reqs) == [NEW_IMAGE]


def test_sighup_reloads_and_an_edit_that_hides_is_still_seen(
        tmp_path, ha_manifests):  # noqa: F811
    """SIGHUP reloads even when nothing under -c changed (a secret did,
    say); the polling compares what the loader reads, so an edit in place
    that keeps the inode, the size and the mtime is still seen."""
    ws = [scenario.Workload("shop", "w0")]
    sensor = ha_manifests / "sensor.yaml"
    with Emulator() as emu:
        emu.load(cluster_objects(ws))
        d = start(emu, ha_manifests, tmp_path)
        try:
            d.p.send_signal(signal.SIGHUP)
            d.wait_log("configuration reloaded")
            st = os.stat(sensor)
            text = sensor.read_text().replace(OLD_IMAGE, NEW_IMAGE)
            with open(sensor, "r+") as f:   # same inode, same size
                f.write(text)
            os.utime(sensor, ns=(st.st_atime_ns, st.st_mtime_ns))
            d.wait_log("configuration reloaded")
            recs = logged(d, "configuration reloaded")
            acted = kill(emu, d, "w0")
        finally:
            d.stop()
        reqs = emu.requests()
    assert [r["trigger"] for r in recs] == ["SIGHUP", "files changed"]
    assert acted[0]["decision"] == "acted"
    assert images(reqs) == [NEW_IMAGE]


def test_watches_and_endpoints_follow_the_sources(tmp_path, ha_manifests):  # noqa: F811,E501
    extra = ha_manifests / "extra.yaml"
    with Emulator() as emu:
        emu.load(cluster_objects([scenario.Workload("shop", "w0")]))
        d = start(emu, ha_manifests, tmp_path)
        try:
            port = listening_port(d)
            before = post(port, "/deploy-hook", b'{"x":1}', timeout=5)[0]
            replace_file(extra, EXTRA)
            d.wait_log("configuration reloaded")
            added = post(port, "/deploy-hook", b'{"x":1}', timeout=5)[0]
            watching = [x for x in logged(d, "watching")
                        if x["resource"] == "configmaps"]
            os.unlink(extra)
            d.wait_log("configuration reloaded")
            removed = post(port, "/deploy-hook", b'{"x":1}', timeout=5)[0]
            stopped = [x for x in logged(d, "stopped watching")
                       if x["resource"] == "configmaps"]
            kept = [x for x in logged(d, "watching")
                    if x["resource"] == "pods"]
            ready = http_get(port, "/readyz")[0]
        finally:
            d.stop()
    assert (before, added, removed) == (404, 200, 404)
    assert len(watching) == 1 and len(stopped) == 1
    assert len(kept) == 1       # the unchanged watch was never restarted
    assert ready == 200


def test_a_reload_that_needs_a_new_permission_asks_for_it(
        tmp_path, ha_manifests):  # noqa: F811
    """The permission list is rebuilt from the reloaded configuration: a
    new source's permission the server denies is named in the log and
    in /readyz, and granting it makes the replica ready again."""
    import json
    extra = ha_manifests / "extra.yaml"
    with Emulator() as emu:
        emu.load(cluster_objects([scenario.Workload("shop", "w0")]))
        emu.forbid(verb="list", resource="configmaps")
        d = start(emu, ha_manifests, tmp_path)
        try:
            port = listening_port(d)
            ready_before = http_get(port, "/readyz")[0]
            replace_file(extra, EXTRA)
            d.wait_log("configuration reloaded")
            missing = [x for x in logged(d, "permission missing")
                       if x["resource"] == "configmaps"]
            st, text = http_get(port, "/readyz")
            emu.configure(forbidden=[])
            d.wait_log("permission granted", timeout=30)
            end = time.time() + 30
            while http_get(port, "/readyz")[0] != 200 and \
                    time.time() < end:
                time.sleep(0.2)
            ready_after = http_get(port, "/readyz")[0]
        finally:
            d.stop()
    assert ready_before == 200
    assert [x["verb"] for x in missing] == ["list"], missing
    assert st == 503
    perms = json.loads(text)["permissions"]
    assert [(p["resource"], p["verb"]) for p in perms] == [
        ("configmaps", "list")], perms
    assert ready_after == 200


SSAR = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"


def reviews(emu):
    """The permissions asked, in order: (resource, verb)."""
    out = []
    for r in emu.requests():
        if r["method"] == "POST" and r["path"] == SSAR:
            a = body(r)["spec"]["resourceAttributes"]
            out.append((a.get("resource"), a.get("verb")))
    return out


def test_a_reload_asks_only_for_permissions_not_yet_granted(
        tmp_path, ha_manifests):  # noqa: F811
    """A SIGHUP with nothing new asks the server nothing; a reload that
    adds a source asks for its permissions alone.  Each reload used to
    review every permission again: a burst of SIGHUPs, a burst of
    reviews on the engine thread."""
    extra = ha_manifests / "extra.yaml"
    with Emulator() as emu:
        emu.load(cluster_objects([scenario.Workload("shop", "w0")]))
        d = start(emu, ha_manifests, tmp_path)
        try:
            at_start = reviews(emu)
            for _ in range(3):
                d.p.send_signal(signal.SIGHUP)
                d.wait_log("configuration reloaded")
            after_sighups = reviews(emu)
            replace_file(extra, EXTRA)
            d.wait_log("configuration reloaded")
            after_new_source = reviews(emu)
        finally:
            d.stop()
    assert at_start
    assert after_sighups == at_start
    added = after_new_source[len(at_start):]
    assert added and {res for res, _ in added} == {"configmaps"}, added


PROM_SOURCE = """apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata: {name: slo, namespace: argo-events}
spec:
  prometheus:
    burn:
      query: burn_rate
      interval: 1s
      condition: "> 1"
      url: %s
---
apiVersion: argoproj.io/v1alpha1
kind: Sensor
metadata: {name: burn, namespace: argo-events}
spec:
  dependencies:
    - {name: b, eventSourceName: slo, eventName: burn}
  triggers:
    - template:
        name: note
        k8s:
          operation: create
          source:
            resource:
              apiVersion: v1
              kind: ConfigMap
              metadata: {generateName: burn-}
              data: {slo: "{{ .Input.body.metric.slo }}"}
      guardrails:
        mode: dry-run
        cooldown: 0s
        target: Deployment/shop/w0
"""


def slo(rec):
    """The series a record's event came from."""
    return rec["plan"]["object"]["data"]["slo"]


def test_a_reload_does_not_fire_a_prometheus_edge_again(tmp_path):
    """A prometheus source with a condition fires when a series starts
    to satisfy it, not at every evaluation while it does: a reload (here
    SIGHUP, nothing changed) is not a new crossing.  Series "a" is over
    the line throughout; "b" crosses only after the reload, and its event
    comes from the same evaluation as any new event of "a" would."""
    (tmp_path / "m").mkdir()
    exporter = Exporter()
    prom = Prometheus(exporter)
    (tmp_path / "m" / "all.yaml").write_text(PROM_SOURCE % prom.url)
    with Emulator() as emu:
        emu.load(cluster_objects([scenario.Workload("shop", "w0")]))
        d = start(emu, tmp_path / "m", tmp_path)
        try:
            exporter.set('burn_rate{slo="a"}', 2)
            first = d.take(1, timeout=90)
            d.p.send_signal(signal.SIGHUP)
            d.wait_log("configuration reloaded")
            exporter.set('burn_rate{slo="b"}', 2)
            later = []
            for _ in range(5):
                later += d.take(1, timeout=90)
                if not later or slo(later[-1]) == "b":
                    break
        finally:
            d.stop()
            prom.stop()
            exporter.stop()
    assert slo(first[0]) == "a"
    assert [slo(r) for r in later] == ["b"]     # not "a" again


class HoldingReceiver:
    """A loopback notification destination that holds its first request
    until released (or 20 s), and records every body it got."""

    def __init__(self):
        import http.server
        import threading
        self.bodies = []
        self.release = threading.Event()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                if not outer.bodies and not outer.release.is_set():
                    outer.holding = True
                    outer.release.wait(20)
                outer.bodies.append(body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.holding = False
        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/hook" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.srv.shutdown()
        self.srv.server_close()


def test_a_reload_neither_waits_on_nor_drops_the_owners_notifications(
        tmp_path, ha_manifests):  # noqa: F811
    """A reload flushed the notifier on the engine thread for up to 1 s,
    then freed it: with a slow destination, every decision waited, and
    what was still queued was dropped.  The replaced notifier now keeps
    sending what it holds and goes once idle."""
    recv = HoldingReceiver()
    with open(ha_manifests / "config.yaml", "a") as f:
        f.write("""  notifications:
    default: owner-hook
    attempts: 1
    destinations:
      owner-hook:
        webhook:
          url: %s
        timeout: 30s
""" % recv.url)
    ws = [scenario.Workload("shop", n) for n in ("w0", "w1")]
    try:
        with Emulator() as emu:
            emu.load(cluster_objects(ws))
            d = start(emu, ha_manifests, tmp_path)
            try:
                a = kill(emu, d, "w0")      # its message is held
                assert wait_until(lambda: recv.holding)
                b = kill(emu, d, "w1")      # its message waits behind
                d.p.send_signal(signal.SIGHUP)
                d.wait_log("configuration reloaded")    # not held up
                recv.release.set()
                assert wait_until(lambda: len(recv.bodies) == 2,
                                  timeout=30), recv.bodies
            finally:
                assert d.stop() == 0
    finally:
        recv.close()
    assert a[0]["decision"] == "acted" and b[0]["decision"] == "acted"
    got = sorted(json.loads(x)["decision"]["target"]["name"]
                 for x in recv.bodies)
    assert got == ["w0", "w1"], got
