"""Signed webhooks through `remediate run` (issue 17 item 15): one captured
request sent three times does not meet a threshold of three, also across a
restart; a signed X-Webhook-Timestamp too far from now is refused; three
different signed requests do meet it."""
import hashlib
import hmac
import json
import os
import time
import urllib.error
import urllib.request

import scenario
from conftest import Daemon, Emulator, cluster_objects, listening_port

KEY = b"replay-k3y"

EVENTSOURCE = """apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata: {name: hooks, namespace: argo-events}
spec:
  webhook:
    deploys:
      endpoint: /deploys
      method: POST
      port: "12000"
      hmac: {secret: {env: REPLAY_TEST_HMAC}}
"""

SENSOR = """apiVersion: argoproj.io/v1alpha1
kind: Sensor
metadata: {name: replay, namespace: argo-events}
spec:
  dependencies:
    - {name: dep, eventSourceName: hooks, eventName: deploys}
  triggers:
    - template:
        name: note
        k8s:
          operation: create
          source:
            resource:
              apiVersion: v1
              kind: ConfigMap
              metadata: {generateName: replay-note-, namespace: shop}
      guardrails:
        mode: auto
        threshold: {count: 3, within: 1h, key: "checkout"}
        target: "Deployment/shop/checkout"
"""


def signed_post(port, body, ts=None):
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    signed = raw if ts is None else str(ts).encode() + b"." + raw
    headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(
        KEY, signed, hashlib.sha256).hexdigest()
    if ts is not None:
        headers["X-Webhook-Timestamp"] = str(ts)
    req = urllib.request.Request("http://127.0.0.1:%d/deploys" % port,
                                 data=raw, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def start(m, emu):
    d = Daemon(m, emu.kubeconfig)
    d.wait_log("synced")
    return d, listening_port(d)


def test_a_replayed_signed_request_is_decided_once(tmp_path):
    os.environ["REPLAY_TEST_HMAC"] = KEY.decode()
    m = tmp_path / "m"
    m.mkdir()
    (m / "es.yaml").write_text(EVENTSOURCE)
    (m / "sensor.yaml").write_text(SENSOR)
    captured = {"deploy": "checkout", "n": 1}
    with Emulator() as emu:
        emu.load(cluster_objects([scenario.Workload("shop", "checkout")]))
        d, port = start(m, emu)
        try:
            assert signed_post(port, captured) == \
                (200, {"queued": 1, "duplicates": 0})
            for _ in range(2):      # the attacker replays it
                assert signed_post(port, captured) == \
                    (200, {"queued": 0, "duplicates": 1})
            first = d.take(1)
            assert d.take(1, timeout=1) == []
        finally:
            assert d.stop() == 0
        d, port = start(m, emu)     # remembered across a restart
        try:
            assert signed_post(port, captured)[1]["queued"] == 0
            now = int(time.time())
            status, body = signed_post(port, {"n": 2}, ts=now - 3600)
            assert status == 401 and "too old" in body["error"]
            assert signed_post(port, {"n": 2}, ts=now)[1]["queued"] == 1
            assert signed_post(port, {"n": 2}, ts=now)[1]["queued"] == 0
            assert signed_post(port, {"n": 3})[1]["queued"] == 1
            later = d.take(2)
        finally:
            assert d.stop() == 0
    assert [r["reason"] for r in first] == ["below-threshold"]
    assert [r["decision"] for r in later] == ["suppressed", "acted"]
