"""Crash and fault acceptance (issue 17): kill -9 at random moments of an
alert storm through `remediate run` and the Kubernetes API emulator,
SIGTERM mid-storm, Alertmanager down (and the daemon killed meanwhile), the
state file unwritable.  The invariants: every alert answered 2xx has a
decision record after the restart, no action repeats inside its cooldown,
no page is lost, and nothing is shown on stdout before it is stored.

CRASH_ROUNDS sets the kill -9 rounds (default 20; CRASH_ROUNDS=100 for the
long run by hand); CRASH_SEED replays one run.  The counts of a run are
printed (pytest -s) as one "crash rounds:" line."""
import http.server
import json
import os
import random
import signal
import socket
import sqlite3
import threading
import time
import urllib.error
import urllib.request

import scenario
from test_run_live import (Daemon, Emulator, cluster_objects, http_get,
                           listening_port)

ROUNDS = int(os.environ.get("CRASH_ROUNDS", "20"))
SEED = int(os.environ.get("CRASH_SEED", str(random.randrange(1 << 30))))

EVENTSOURCE = """apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata: {name: alertmanager, namespace: argo-events}
spec:
  webhook:
    alerts: {endpoint: /alerts, method: POST, port: "12000", auth: none}
"""

# Three triggers per alert: one acts once (then its cooldown holds for an
# hour), one always fails (a namespace that does not exist), which pages,
# and one that names the alert's pod as its target, so its record says
# which alert it decided (the others' target is the one Deployment).
SENSOR = """apiVersion: argoproj.io/v1alpha1
kind: Sensor
metadata: {name: storm, namespace: argo-events}
spec:
  dependencies:
    - name: oom
      eventSourceName: alertmanager
      eventName: alerts
      filters:
        data:
          - path: body.labels.alertname
            type: string
            value: ["StormOOM"]
  triggers:
    - template:
        name: note
        k8s:
          operation: create
          source:
            resource:
              apiVersion: v1
              kind: ConfigMap
              metadata: {generateName: storm-note-, namespace: shop}
              data: {pod: "{{ .Input.body.labels.pod }}"}
      guardrails:
        mode: auto
        maxSignalAge: 1h
        cooldown: 1h
        target: "Deployment/shop/checkout"
    - template:
        name: doomed
        k8s:
          operation: create
          source:
            resource:
              apiVersion: v1
              kind: ConfigMap
              metadata: {generateName: doomed-, namespace: nowhere}
              data: {pod: "{{ .Input.body.labels.pod }}"}
      guardrails:
        mode: auto
        maxSignalAge: 1h
        # short: a kill -9 between its intent and its outcome leaves the
        # outcome unknown and the cooldown held (paged "outcome-unknown"
        # at the next start); a later signal must still get to fail, and
        # page, after the restart
        cooldown: 1s
        # the default circuit (10 actions in 10m) would open after a few
        # seconds of failures at this rate
        circuit: {maxActions: 1024, within: 10m}
        target: "Deployment/shop/checkout"
      # the default (1 per Minute) could spend the run's only action on
      # an attempt a kill -9 cut short, leaving nothing to fail later
      rateLimit: {unit: Second, requestsPerUnit: 1}
    - template:
        name: trace
        k8s:
          operation: create
          source:
            resource:
              apiVersion: v1
              kind: ConfigMap
              metadata: {generateName: trace-, namespace: shop}
      guardrails:
        mode: dry-run
        maxSignalAge: 1h
        target: "Deployment/shop/{{ .Input.body.labels.pod }}"
"""


def manifests(tmp_path):
    d = tmp_path / "m"
    d.mkdir()
    (d / "es.yaml").write_text(EVENTSOURCE)
    (d / "sensor.yaml").write_text(SENSOR)
    return d


def alert(pod, status="firing"):
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    return {"receiver": "remediate", "status": status, "version": "4",
            "groupKey": "{}:{alertname=\"StormOOM\"}",
            "alerts": [{"status": status,
                        "labels": {"alertname": "StormOOM",
                                   "namespace": "shop", "pod": pod},
                        "annotations": {}, "startsAt": now,
                        "endsAt": "0001-01-01T00:00:00Z",
                        "fingerprint": pod}]}


def post(port, body, timeout=10):
    req = urllib.request.Request(
        "http://127.0.0.1:%d/alerts" % port, data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers)
    except (urllib.error.URLError, ConnectionError, socket.timeout,
            OSError):
        return "closed", {}


class Storm:
    """Senders posting one new alert per request until stopped."""

    def __init__(self, port, tag, senders=4):
        self.port, self.tag = port, tag
        self.results = []           # (pod, status, headers)
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i,),
                                         daemon=True)
                        for i in range(senders)]
        for t in self.threads:
            t.start()

    def _run(self, i):
        n = 0
        while not self.done.is_set() and n < 5000:
            pod = "%s-s%d-%d" % (self.tag, i, n)
            status, headers = post(self.port, alert(pod), timeout=5)
            with self.lock:
                self.results.append((pod, status, headers))
            n += 1
            if status == "closed":
                break           # the daemon is gone

    def stop(self):
        self.done.set()
        for t in self.threads:
            t.join(15)
        return self.results

    def accepted(self):
        return {p for p, s, _ in self.results if s == 200}


def state_rows(path, sql, args=()):
    db = sqlite3.connect(path, timeout=10)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def decided_pods(path):
    """Alert pods with a decision record, per trigger (the trace trigger's
    target names the pod; the event id links the others to it)."""
    return pods_of_records([x for (x,) in state_rows(
        path, "SELECT record FROM decisions")])


def pods_of_records(texts):
    """decided_pods of the records' JSON texts, wherever they are kept."""
    recs = [json.loads(x) for x in texts]
    pod_of = {r["signal"]["id"]: r["target"]["name"] for r in recs
              if r["trigger"] == "trace"}
    out = {}
    for r in recs:
        pod = pod_of.get(r["signal"]["id"])
        if pod:
            out.setdefault(r["trigger"], set()).add(pod)
    return out


def doomed_decision(path, pod):
    """The doomed trigger's decision on the alert for pod."""
    recs = [json.loads(x) for (x,) in state_rows(
        path, "SELECT record FROM decisions")]
    ids = {r["signal"]["id"] for r in recs
           if r["trigger"] == "trace" and r["target"]["name"] == pod}
    return [r["decision"] for r in recs
            if r["trigger"] == "doomed" and r["signal"]["id"] in ids]


def wait_decided(path, d, limit=60):
    """Until the intake is empty (every accepted alert decided)."""
    end = time.time() + limit
    while time.time() < end:
        if state_rows(path, "SELECT count(*) FROM intake")[0][0] == 0:
            return
        assert d.p.poll() is None, "daemon exited"
        time.sleep(0.1)
    raise AssertionError("alerts left undecided: %s" % state_rows(
        path, "SELECT count(*) FROM intake"))


def created_notes(emu):
    return [r for r in emu.requests() if r["method"] == "POST" and
            r["path"].endswith("/namespaces/shop/configmaps")]


def start(m, emu, extra=(), state=None):
    d = Daemon(m, emu.kubeconfig, extra=extra, state=state)
    d.wait_log("listening")
    return d, listening_port(d)


def check_invariants(path, accepted, emu):
    decided = decided_pods(path)
    for trigger in ("trace", "note", "doomed"):
        missing = accepted - decided.get(trigger, set())
        assert not missing, "%s: %d alerts answered 200 without a %s " \
            "record, e.g. %s" % (trigger, len(missing), trigger,
                                 sorted(missing)[:5])
    # the cooldown held across every kill: at most one note was created
    assert len(created_notes(emu)) <= 1
    assert state_rows(path, "SELECT count(*) FROM intake")[0][0] == 0
    return decided


class AlertmanagerStub:
    """A loopback Alertmanager that can be stopped and started again on
    the same port; it keeps every page it accepted."""

    def __init__(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.pages, self.httpd = [], None

    def start(self):
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                stub.pages.append(json.loads(self.rfile.read(n)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever,
                         kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def firing(self, trigger, reason="failed"):
        # reason: a kill -9 during an action also pages "outcome-unknown"
        # for its trigger at the next start, which is not the failure
        return [a for body in self.pages for a in body
                if a["labels"].get("trigger") == trigger and
                a["labels"].get("reason") == reason and
                a.get("endsAt") is None]


def wait_for(pred, limit=30, step=0.1):
    end = time.time() + limit
    while time.time() < end:
        if pred():
            return True
        time.sleep(step)
    return False


def metric(port, name):
    status, text = http_get(port, "/metrics")
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_kill_9_during_an_alert_storm_loses_nothing_acknowledged(tmp_path):
    rng = random.Random(SEED)
    m = manifests(tmp_path)
    path = str(tmp_path / "state.db")
    am = AlertmanagerStub()
    am.start()
    accepted, answered, recovered = set(), 0, 0
    with Emulator() as emu:
        emu.load(cluster_objects([scenario.Workload("shop", "checkout")]))
        for rnd in range(ROUNDS):
            d, port = start(m, emu, ("--alertmanager", am.url()), path)
            storm = Storm(port, "r%d" % rnd)
            time.sleep(rng.uniform(0.05, 0.6))
            d.kill()
            results = storm.stop()
            accepted |= storm.accepted()
            answered += len(results)
            recovered += sum(rec.get("events", 0) for rec in (
                json.loads(x) for x in d.log_lines) if rec.get("msg") ==
                "undecided events from the last run")
        d, port = start(m, emu, ("--alertmanager", am.url()), path)
        try:
            d.wait_log("synced")
            wait_decided(path, d)
            # a signal after the restart, past the doomed trigger's
            # cooldown and rate: it acts, fails and pages, even when every
            # earlier attempt was cut short (outcome unknown) or held
            time.sleep(1.5)
            assert post(port, alert("after-restart"))[0] == 200
            accepted.add("after-restart")
            wait_decided(path, d)
            assert doomed_decision(path, "after-restart") == ["failed"]
            assert wait_for(lambda: am.firing("doomed"), 30), am.pages
        finally:
            assert d.stop() == 0
        decided = check_invariants(path, accepted, emu)
    am.stop()
    print("crash rounds: %d, seed %d, requests %d, answered 200 %d, "
          "records %d, every accepted alert decided, notes created %d, "
          "undecided at restarts %d, pages %d" % (
              ROUNDS, SEED, answered, len(accepted),
              state_rows(path, "SELECT count(*) FROM decisions")[0][0],
              len(created_notes(emu)), recovered, len(am.pages)))
    assert accepted, "the storm never got through"
    assert decided["doomed"]


def test_sigterm_mid_storm_stops_intake_and_keeps_what_it_took(tmp_path):
    m = manifests(tmp_path)
    path = str(tmp_path / "state.db")
    with Emulator() as emu:
        emu.load(cluster_objects([scenario.Workload("shop", "checkout")]))
        d, port = start(m, emu, (), path)
        d.wait_log("synced")
        storm = Storm(port, "term", senders=6)
        wait_for(lambda: len(storm.results) > 20, 20, 0.02)
        t0 = time.monotonic()
        d.p.send_signal(signal.SIGTERM)
        assert d.p.wait(10) == 0
        took = time.monotonic() - t0
        results = storm.stop()
        logs = d.all_logs()
        stopping = [x for x in logs if x.get("msg") == "stopping"]
        assert stopping and "undecidedInStateFile" in stopping[0], logs
        # refused while stopping: 503 with Retry-After, never a bare drop
        for _, status, headers in results:
            if status == 503:
                assert "Retry-After" in headers
        d, port = start(m, emu, (), path)
        try:
            d.wait_log("synced")
            wait_decided(path, d)
        finally:
            assert d.stop() == 0
        check_invariants(path, storm.accepted(), emu)
    print("sigterm: exited in %.2f s, %d requests, %d answered 200, %d "
          "answered 503" % (took, len(results), len(storm.accepted()),
                            sum(1 for _, st, _ in results if st == 503)))
    assert took < 5, "SIGTERM took %.1f s" % took


def test_a_page_survives_alertmanager_down_and_a_kill_9(tmp_path):
    m = manifests(tmp_path)
    path = str(tmp_path / "state.db")
    am = AlertmanagerStub()         # down: nothing listens on its port
    retried = 'remediate_pages_total{destination="alertmanager",' \
        'result="retried"}'
    with Emulator() as emu:
        emu.load(cluster_objects([scenario.Workload("shop", "checkout")]))
        d, port = start(m, emu, ("--alertmanager", am.url()), path)
        d.wait_log("synced")
        assert post(port, alert("am-down-1"))[0] == 200
        # the page waits in the state file and is retried...
        assert wait_for(lambda: (metric(port, retried) or 0) >= 2, 30), \
            http_get(port, "/metrics")[1]
        assert metric(port, "remediate_pages_undelivered") == 1
        assert state_rows(path, "SELECT count(*) FROM state WHERE kind = "
                          "'pageout'")[0][0] == 1
        d.kill()                    # ...and the daemon dies meanwhile
        d, port = start(m, emu, ("--alertmanager", am.url()), path)
        try:
            # still down after the restart: still due
            assert wait_for(lambda: metric(
                port, "remediate_pages_undelivered") == 1, 30)
            am.start()              # Alertmanager is back
            assert wait_for(lambda: am.firing("doomed"), 40), am.pages
            assert wait_for(lambda: metric(
                port, "remediate_pages_undelivered") == 0, 30)
        finally:
            assert d.stop() == 0
        am.stop()
    assert state_rows(path, "SELECT count(*) FROM state WHERE kind = "
                      "'pageout'")[0][0] == 0


def test_an_unwritable_state_file_refuses_and_says_why(tmp_path):
    m = manifests(tmp_path)
    path = str(tmp_path / "state.db")
    with Emulator() as emu:
        emu.load(cluster_objects([scenario.Workload("shop", "checkout")]))
        d, port = start(m, emu, (), path)
        try:
            d.wait_log("synced")
            assert http_get(port, "/readyz")[0] == 200
            lock = sqlite3.connect(path, timeout=10)
            lock.execute("BEGIN EXCLUSIVE")     # nobody else may write
            status, headers = post(port, alert("locked-1"), timeout=30)
            assert status == 503 and "Retry-After" in headers
            status, body = http_get(port, "/readyz")
            assert status == 503 and json.loads(body)["state"], body
            assert d.take(1, timeout=1) == []   # nothing shown unstored
            lock.rollback()
            lock.close()
            assert post(port, alert("locked-2"))[0] == 200
            shown = d.take(3)
            assert wait_for(lambda: http_get(port, "/readyz")[0] == 200)
        finally:
            assert d.stop() == 0
    pods = {r["target"]["name"] for r in shown if r["trigger"] == "trace"}
    assert pods == {"locked-2"}
    stored = decided_pods(path)
    assert "locked-1" not in stored.get("note", set())
    assert "locked-2" in stored["note"]


def test_acknowledged_events_are_decided_after_a_failed_read_without_a_restart(
        tmp_path):
    """One failed read of the intake (a lost PostgreSQL connection,
    SQLITE_BUSY, an I/O error; here the table is renamed away for a
    moment) is retried on a later turn: the events an earlier run
    acknowledged are decided by this run."""
    m = manifests(tmp_path)
    path = str(tmp_path / "state.db")
    with Emulator() as emu:
        emu.load(cluster_objects([scenario.Workload("shop", "checkout")]))
        # run 1: one alert decided, for an event as the intake keeps it
        d, port = start(m, emu, (), path)
        d.wait_log("synced")
        assert post(port, alert("first"))[0] == 200
        wait_decided(path, d)
        assert d.stop() == 0
        ev = json.loads(state_rows(path, "SELECT inputs FROM decisions "
                                   "WHERE inputs IS NOT NULL")[0][0])["event"]
        db = sqlite3.connect(path, timeout=10)
        for i in range(3):      # acknowledged, left undecided by a crash
            ev["id"] = "left-%d" % i
            ev["data"]["body"]["labels"]["pod"] = "left-%d" % i
            ev["data"]["body"]["fingerprint"] = "left-%d" % i
            db.execute("INSERT INTO intake (received, event) VALUES (?, ?)",
                       (int(time.time() * 1000), json.dumps(ev)))
        db.commit()
        # run 2: the view's pod list is held, so the recovery waits for it
        # while the intake table is away
        emu.fault({"type": "delay", "ms": 0, "method": "GET",
                   "path": "/pods$", "hold": "pods", "count": 1,
                   "holdTimeout": 60})
        d, port = start(m, emu, (), path)
        try:
            db.execute("ALTER TABLE intake RENAME TO intake_away")
            db.commit()
            emu.release("pods")
            d.wait_log("cannot read the undecided events")
            d.wait_log("the undecided events are read again later")
            db.execute("ALTER TABLE intake_away RENAME TO intake")
            db.commit()
            db.close()
            wait_decided(path, d)
        finally:
            assert d.stop() == 0
    assert decided_pods(path)["trace"] == {"first", "left-0", "left-1",
                                           "left-2"}
