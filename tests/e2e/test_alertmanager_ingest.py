"""Debian's Alertmanager delivering to the webhook ingest path.

A real prometheus-alertmanager (loopback, free port, temporary storage,
no clustering) routes alerts posted to its API to a webhook receiver that
points at tests/webhook/ingest_probe (the http server, the webhook
ingress, a queue printing events).  Pinned here:

- every alert arrives as one event shaped as docs/webhooks.md says
  (body = the alert, body.group = the notification, subject from labels,
  time = startsAt), authenticated by Alertmanager's own bearer token;
- Alertmanager's redeliveries (repeat_interval) are acknowledged but not
  queued twice;
- a resolved alert arrives once, as resolved, timed at its endsAt;
- a wrong token is refused and nothing is queued;
- with the queue full the receiver answers 503, Alertmanager retries,
  and once there is room every alert arrives exactly once;
- through `remediate run` (with the Kubernetes API emulator), the alert
  is decided once, its redeliveries and resolution are not decided again.
"""
import datetime
import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "webhook"))
import probe as P  # noqa: E402

AM = "/usr/bin/prometheus-alertmanager"
pytestmark = pytest.mark.skipif(not os.access(AM, os.X_OK),
                                reason="prometheus-alertmanager not installed")

TOKEN = "am-s3cret"


@pytest.fixture(scope="module")
def probe_bin(tmp_path_factory):
    return P.build(str(tmp_path_factory.mktemp("probe")))


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def ms(text):
    dt = datetime.datetime.strptime(text[:23], "%Y-%m-%dT%H:%M:%S.%f")
    return int(dt.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


AM_CONFIG = """route:
  receiver: remediate
  group_by: [alertname, namespace]
  group_wait: 500ms
  group_interval: 1s
  repeat_interval: 3s
  routes:
  - matchers: ['route="wrong"']
    receiver: wrong
receivers:
- name: remediate
  webhook_configs:
  - url: http://127.0.0.1:%(port)d/alertmanager
    send_resolved: true
    http_config:
      authorization: {credentials: %(token)s}
- name: wrong
  webhook_configs:
  - url: http://127.0.0.1:%(port)d/alertmanager
    http_config:
      authorization: {credentials: not-the-token}
"""


class Rig:
    def __init__(self, tmp, probe_bin, *probe_args):
        secrets = tmp / "secrets" / "alertmanager"
        secrets.mkdir(parents=True)
        (secrets / "token").write_text(TOKEN + "\n")
        m = tmp / "manifests"
        m.mkdir()
        P.eventsource(str(m / "es.yaml"), "alertmanager",
                      "alerts:\n  endpoint: /alertmanager\n  method: POST\n"
                      "  port: \"12000\"\n"
                      "  authSecret: {name: alertmanager, key: token}\n")
        self.probe = P.Probe(probe_bin, m, "--secrets-dir", tmp / "secrets",
                             *probe_args)
        self.am_port = P.free_port()
        cfg = tmp / "alertmanager.yml"
        cfg.write_text(AM_CONFIG % {"port": self.probe.port, "token": TOKEN})
        self.am = subprocess.Popen(
            [AM, "--config.file=%s" % cfg,
             "--storage.path=%s" % (tmp / "am-data"),
             "--web.listen-address=127.0.0.1:%d" % self.am_port,
             "--cluster.listen-address=", "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.time() + 30
        while time.time() < end:
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/-/ready" %
                                       self.am_port, timeout=1).read()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("alertmanager did not become ready")

    def post_alerts(self, alerts):
        req = urllib.request.Request(
            "http://127.0.0.1:%d/api/v2/alerts" % self.am_port,
            data=json.dumps(alerts).encode(), method="POST",
            headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=5).read()

    def close(self):
        self.am.terminate()
        self.am.wait(timeout=30)
        rc, err = self.probe.stop()
        assert rc == 0, err
        assert "ERROR: AddressSanitizer" not in err
        return err


def alert(name, labels, starts, ends=None, **extra):
    a = {"labels": dict({"alertname": name}, **labels),
         "annotations": {"summary": name + " summary"},
         "startsAt": iso(starts), "generatorURL": "http://prom/graph"}
    if ends:
        a["endsAt"] = iso(ends)
    a.update(extra)
    return a


def status_of(e):
    return e["data"]["body"]["status"]


def test_alerts_arrive_once_redeliveries_dropped_resolved_arrive(
        tmp_path, probe_bin):
    rig = Rig(tmp_path, probe_bin)
    try:
        now = datetime.datetime.now(datetime.timezone.utc)
        start = now - datetime.timedelta(seconds=30)
        oom = alert("KubePodOOMKilled", {"namespace": "shop",
                    "pod": "checkout-6d5f8b7c9d-x7k2p", "container": "app",
                    "severity": "warning"}, start)
        burn = alert("CheckoutBudgetBurn", {"namespace": "shop",
                     "deployment": "checkout", "severity": "critical"}, start)
        rig.post_alerts([oom, burn])
        evs = rig.probe.wait_events(2)
        assert len(evs) == 2
        by = {e["data"]["body"]["labels"]["alertname"]: e for e in evs}
        e = by["KubePodOOMKilled"]
        assert e["source"] == "alertmanager" and e["name"] == "alerts"
        assert e["type"] == "webhook"
        assert status_of(e) == "firing"
        assert e["subject"] == {"kind": "Pod", "namespace": "shop",
                                "name": "checkout-6d5f8b7c9d-x7k2p"}
        assert e["time"] == ms(oom["startsAt"])
        body = e["data"]["body"]
        assert body["annotations"]["summary"] == "KubePodOOMKilled summary"
        assert len(body["fingerprint"]) == 16
        assert body["group"]["receiver"] == "remediate"
        assert body["group"]["version"] == "4"
        assert body["group"]["groupLabels"] == {
            "alertname": "KubePodOOMKilled", "namespace": "shop"}
        assert "alerts" not in body["group"]
        hdr = e["data"]["header"]
        assert hdr["Authorization"] == ["*** Masked Auth Secret ***"]
        assert hdr["User-Agent"][0].startswith("Alertmanager/")
        assert by["CheckoutBudgetBurn"]["subject"]["kind"] == "Deployment"

        # repeat_interval is 3s: Alertmanager sends both groups again
        deadline = time.time() + 15
        while time.time() < deadline and rig.probe.stats()["duplicates"] < 2:
            time.sleep(0.2)
        st = rig.probe.stats()
        assert st["duplicates"] >= 2, st
        assert len(rig.probe.events()) == 2

        # resolve the OOM alert
        resolved_at = datetime.datetime.now(datetime.timezone.utc)
        oom["endsAt"] = iso(resolved_at)
        rig.post_alerts([oom])
        evs = rig.probe.wait_events(
            1, pred=lambda e: status_of(e) == "resolved")
        assert len(evs) == 1
        r = evs[0]
        assert r["data"]["body"]["labels"]["alertname"] == "KubePodOOMKilled"
        assert r["id"] != e["id"]
        assert r["time"] == ms(oom["endsAt"])
        assert r["data"]["body"]["group"]["status"] == "resolved"
        # later notifications of the group do not repeat it
        time.sleep(4)
        evs = rig.probe.events()
        assert sum(1 for x in evs if status_of(x) == "resolved") == 1
        assert sum(1 for x in evs if status_of(x) == "firing") == 2
    finally:
        rig.close()


def test_wrong_token_is_refused(tmp_path, probe_bin):
    rig = Rig(tmp_path, probe_bin)
    try:
        now = datetime.datetime.now(datetime.timezone.utc)
        rig.post_alerts([alert("Sneaky", {"namespace": "shop",
                                          "route": "wrong"}, now)])
        deadline = time.time() + 15
        while time.time() < deadline and rig.probe.stats()["unauthorized"] < 1:
            time.sleep(0.2)
        assert rig.probe.stats()["unauthorized"] >= 1
        assert rig.probe.events() == []
    finally:
        rig.close()


def test_full_queue_answers_503_and_nothing_is_lost(tmp_path, probe_bin):
    rig = Rig(tmp_path, probe_bin, "--hold", "--capacity", "2")
    try:
        # one plain event takes one of the two places
        st, _, _ = P.request(rig.probe.port, "POST", "/alertmanager",
                             '{"filler": true}',
                             {"Authorization": "Bearer " + TOKEN})
        assert st == 200
        now = datetime.datetime.now(datetime.timezone.utc)
        rig.post_alerts([alert("Pair", {"namespace": "shop", "pod": p}, now)
                         for p in ("a", "b")])
        deadline = time.time() + 15
        while time.time() < deadline and rig.probe.stats()["full"] < 1:
            time.sleep(0.1)
        st = rig.probe.stats()
        assert st["full"] >= 1, st
        assert st["held"] == 1
        assert rig.probe.drain() == {"drained": 1}
        # Alertmanager retries with a jittered, growing backoff (longer on
        # a loaded machine); both alerts come in one all-or-none push
        deadline = time.time() + 90
        while time.time() < deadline and rig.probe.stats()["held"] < 2:
            time.sleep(0.1)
        assert rig.probe.drain() == {"drained": 2}
        # drained events are printed by the probe; wait for the reader
        evs = rig.probe.wait_events(3)
        pods = sorted(e["data"]["body"].get("labels", {}).get("pod", "-")
                      for e in evs)
        assert pods == ["-", "a", "b"]
        # and later redeliveries are duplicates, not new events
        time.sleep(4)
        assert rig.probe.stats()["held"] == 0
    finally:
        rig.close()


def test_alertmanager_to_remediate_run(tmp_path):
    """The same path through the daemon: Alertmanager's notifications reach
    `remediate run`, the sensor decides once per alert (redeliveries are
    not decided again), resolved alerts are filtered by the sensor."""
    import scenario
    from conftest import Daemon, Emulator, cluster_objects, listening_port
    from test_run_webhook import SENSOR

    (tmp_path / "token").write_text(TOKEN + "\n")
    m = tmp_path / "m"
    m.mkdir()
    P.eventsource(str(m / "es.yaml"), "alertmanager",
                  "alerts:\n  endpoint: /alerts\n  method: POST\n"
                  "  authSecret: {file: %s}\n" % (tmp_path / "token"))
    (m / "sensor.yaml").write_text(SENSOR)
    w = scenario.Workload("shop", "checkout")
    pod = scenario.pod_name("checkout", 0)
    with Emulator() as emu:
        emu.load(cluster_objects([w]))
        d = Daemon(m, emu.kubeconfig)
        am = None
        try:
            d.wait_log("synced")
            port = listening_port(d)
            am_port = P.free_port()
            cfg = tmp_path / "alertmanager.yml"
            cfg.write_text(AM_CONFIG.replace("/alertmanager", "/alerts") % {
                "port": port, "token": TOKEN})
            am = subprocess.Popen(
                [AM, "--config.file=%s" % cfg,
                 "--storage.path=%s" % (tmp_path / "am-data"),
                 "--web.listen-address=127.0.0.1:%d" % am_port,
                 "--cluster.listen-address=", "--log.level=warn"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            end = time.time() + 30
            while True:
                try:
                    urllib.request.urlopen("http://127.0.0.1:%d/-/ready" %
                                           am_port, timeout=1).read()
                    break
                except OSError:
                    assert time.time() < end
                    time.sleep(0.1)
            now = datetime.datetime.now(datetime.timezone.utc)
            oom = alert("KubePodOOMKilled", {"namespace": "shop",
                        "pod": pod, "container": "app"}, now)
            req = urllib.request.Request(
                "http://127.0.0.1:%d/api/v2/alerts" % am_port,
                data=json.dumps([oom]).encode(), method="POST",
                headers={"Content-Type": "application/json"})
            urllib.request.urlopen(req, timeout=5).read()
            first = d.take(1, timeout=20)
            # repeat_interval (3s) passes: Alertmanager resends the alert
            again = d.take(1, timeout=6)
            oom["endsAt"] = iso(datetime.datetime.now(
                datetime.timezone.utc))
            req = urllib.request.Request(
                "http://127.0.0.1:%d/api/v2/alerts" % am_port,
                data=json.dumps([oom]).encode(), method="POST",
                headers={"Content-Type": "application/json"})
            urllib.request.urlopen(req, timeout=5).read()
            after = d.take(1, timeout=4)
            reqs = emu.requests()
        finally:
            if am is not None:
                am.terminate()
                am.wait(timeout=30)
            assert d.stop() == 0
    assert [r["decision"] for r in first] == ["acted"], first
    assert first[0]["subject"] == {"kind": "Pod", "namespace": "shop",
                                   "name": pod}
    assert first[0]["target"]["name"] == "checkout"
    assert again == [] and after == []
    created = [r for r in reqs if r["method"] == "POST" and
               r["path"].endswith("/configmaps")]
    assert len(created) == 1
