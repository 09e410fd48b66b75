"""Webhooks through `remediate run`: an Alertmanager payload posted to the
daemon drives a sensor to a decision; a redelivery (same fingerprint and
startsAt) is acknowledged but not decided twice; bad requests get clear
errors and nothing crashes."""
import copy
import datetime
import json
import os
import sqlite3
import time

import pytest

import scenario
from conftest import (ROOT, Daemon, Emulator, check_metrics, cluster_objects,
                      fixture_path, http_get, listening_port, post)

EVENTSOURCE = """apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata: {name: alertmanager, namespace: argo-events}
spec:
  webhook:
    alerts: {endpoint: /alerts, method: POST, port: "12000"}
"""

SENSOR = """apiVersion: argoproj.io/v1alpha1
kind: Sensor
metadata: {name: oom-alerts, namespace: argo-events}
spec:
  dependencies:
    - name: oom
      eventSourceName: alertmanager
      eventName: alerts
      filters:
        data:
          - path: body.labels.alertname
            type: string
            value: ["KubePodOOMKilled"]
          - path: body.status
            type: string
            value: ["firing"]
  triggers:
    - template:
        name: restart-note
        k8s:
          operation: create
          source:
            resource:
              apiVersion: v1
              kind: ConfigMap
              metadata: {generateName: oom-note-}
              data:
                pod: "{{ .Input.body.labels.pod }}"
      rateLimit: {unit: Minute, requestsPerUnit: 10}
      guardrails:
        mode: auto
        maxSignalAge: 10m
"""


def fresh_payload():
    """The OOM alert of the fixture, for checkout's first pod, firing
    now."""
    with open(fixture_path("alertmanager-webhook-oomkilled.json")) as f:
        payload = json.load(f)
    alert = payload["alerts"][0]
    alert["labels"]["pod"] = scenario.pod_name("checkout", 0)
    alert["startsAt"] = datetime.datetime.utcnow().strftime(
        "%Y-%m-%dT%H:%M:%S.000Z")
    return payload


def test_alertmanager_payload_drives_a_sensor(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "es.yaml").write_text(EVENTSOURCE)
    (tmp_path / "m" / "sensor.yaml").write_text(SENSOR)
    w = scenario.Workload("shop", "checkout")
    payload = fresh_payload()
    resolved = copy.deepcopy(payload)
    resolved["alerts"][0]["status"] = "resolved"
    with Emulator() as emu:
        emu.load(cluster_objects([w]))
        d = Daemon(tmp_path / "m", emu.kubeconfig)
        try:
            d.wait_log("synced")
            # the manifest gives no authentication: run says so
            assert any('"msg":"webhook without authentication"' in line and
                       '"auth":"not set"' in line for line in d.log_lines)
            port = listening_port(d)
            assert post(port, "/alerts", payload)[0] == 200
            first = d.take(1)
            # Alertmanager delivers at least once: the same alert again
            assert post(port, "/alerts", payload)[0] == 200
            # a resolved alert reaches the sensor, whose filter drops it
            assert post(port, "/alerts", resolved)[0] == 200
            again = d.take(1, timeout=2)
            assert post(port, "/alerts", b"{not json")[0] == 400
            assert post(port, "/nowhere", payload)[0] == 404
            assert post(port, "/alerts", b"x" * (2 << 20))[0] in \
                (413, "closed")
            reqs = emu.requests()
            time.sleep(1.2)     # the loop refreshes the totals
            status, metrics = http_get(port, "/metrics")
        finally:
            assert d.stop() == 0
    assert [r["decision"] for r in first] == ["acted"]
    assert first[0]["subject"] == {"kind": "Pod", "namespace": "shop",
                                   "name": scenario.pod_name("checkout", 0)}
    assert first[0]["target"]["name"] == "checkout"
    assert again == []
    created = [r for r in reqs if r["method"] == "POST" and
               r["path"].endswith("/configmaps")]
    assert len(created) == 1
    # what the ingress saw, as /metrics counts it: 3 accepted requests
    # (2 events queued: the first alert and the resolved one; 1
    # duplicate), a malformed body, an unknown path
    assert status == 200
    check_metrics(metrics, {
        'remediate_webhook_events_total{result="queued"}': 2,
        'remediate_webhook_events_total{result="duplicate"}': 1,
        'remediate_webhook_requests_total{result="malformed"}': 1,
        'remediate_webhook_requests_total{result="not_found"}': 1,
    })
    assert 'remediate_http_requests_total{code="2xx"}' in metrics


def held_view(tmp_path, emu):
    """Manifests, the cluster with its first list of pods held until
    emu.release("pods"), and a fresh alert for its pod."""
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "es.yaml").write_text(EVENTSOURCE)
    (tmp_path / "m" / "sensor.yaml").write_text(SENSOR)
    payload = fresh_payload()
    emu.load(cluster_objects([scenario.Workload("shop", "checkout")]))
    emu.fault({"type": "delay", "ms": 0, "method": "GET",
               "path": "/pods$", "hold": "pods", "count": 1,
               "holdTimeout": 60})
    return payload


def test_an_alert_acknowledged_before_the_view_lists_waits_for_it(tmp_path):
    """The listener serves before the first list of the cluster has come
    (the durable intake may take alerts then), but an alert is decided
    only against the whole view: decided at once, its Pod was not there
    yet and it was suppressed as opt-out ("target not found"), the alert
    lost to a race of the start."""
    with Emulator() as emu:
        payload = held_view(tmp_path, emu)
        d = Daemon(tmp_path / "m", emu.kubeconfig)
        try:
            d.wait_log("listening")
            port = listening_port(d)
            assert post(port, "/alerts", payload)[0] == 200
            # acknowledged, and not decided while the view is partial
            assert d.take(1, timeout=1) == []
            emu.release("pods")
            d.wait_log("synced")
            recs = d.take(1)
        finally:
            assert d.stop() == 0
    assert [(r["decision"], r.get("reason")) for r in recs] == \
        [("acted", None)], recs
    assert recs[0]["target"] == {"kind": "Deployment", "namespace": "shop",
                                 "name": "checkout"}


def test_an_alert_held_for_the_view_at_a_stop_is_decided_after_it(tmp_path):
    """Stopped (SIGTERM) while the first list is still held, the alert
    acknowledged meanwhile stays in the state file ("eventsKept") and the
    next start decides it once."""
    with Emulator() as emu:
        payload = held_view(tmp_path, emu)
        d = Daemon(tmp_path / "m", emu.kubeconfig)
        try:
            d.wait_log("listening")
            assert post(listening_port(d), "/alerts", payload)[0] == 200
        finally:
            assert d.stop() == 0
        emu.release("pods")
        stopping = [json.loads(x) for x in d.log_text().splitlines()
                    if '"msg":"stopping"' in x]
        assert stopping[0]["eventsKept"] == 1, stopping
        assert stopping[0]["undecidedInStateFile"] == 1, stopping
        d = Daemon(tmp_path / "m", emu.kubeconfig)
        try:
            d.wait_log("synced")
            recs = d.take(1)
            assert d.take(1, timeout=1) == []
        finally:
            assert d.stop() == 0
    assert [(r["decision"], r["target"]["name"]) for r in recs] == \
        [("acted", "checkout")], recs


THRESHOLD_SENSOR = SENSOR.replace(
    "        maxSignalAge: 10m\n",
    "        maxSignalAge: 10m\n"
    "        threshold: {count: 2, within: 1h}\n")


def anew_payload(payload):
    """The same alert firing anew: startsAt a second later."""
    anew = copy.deepcopy(payload)
    starts = datetime.datetime.strptime(
        payload["alerts"][0]["startsAt"], "%Y-%m-%dT%H:%M:%S.000Z")
    anew["alerts"][0]["startsAt"] = (starts + datetime.timedelta(
        seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return anew


def decided_ids(state):
    """signal.id of every record in the state file, in order."""
    db = sqlite3.connect(state)
    try:
        return [json.loads(r)["signal"]["id"] for (r,) in db.execute(
            "SELECT record FROM decisions ORDER BY id")]
    finally:
        db.close()


@pytest.mark.parametrize("how", ["sigterm", "kill"])
def test_a_redelivery_after_a_restart_is_not_decided_again(tmp_path, how):
    """Alertmanager resends an alert after our restart (its next
    repeat_interval, or a POST whose 200 a crash kept from it): the new
    process knows it from the state (its records, its undecided intake
    rows) and does not decide it again; before, its memory of alerts was
    empty after a start, and the resent alert counted a second time
    toward the threshold of 2 and acted.  A new firing of the alert (a
    new startsAt) is news, and reaches the threshold."""
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "es.yaml").write_text(EVENTSOURCE)
    (tmp_path / "m" / "sensor.yaml").write_text(THRESHOLD_SENSOR)
    payload = fresh_payload()
    anew = anew_payload(payload)
    with Emulator() as emu:
        emu.load(cluster_objects([scenario.Workload("shop", "checkout")]))
        d = Daemon(tmp_path / "m", emu.kubeconfig)
        try:
            d.wait_log("synced")
            port = listening_port(d)
            status, text = post(port, "/alerts", payload)
            assert (status, json.loads(text)) == \
                (200, {"queued": 1, "duplicates": 0})
            if how == "kill":   # committed, answered, maybe not decided
                d.kill()
            else:
                first = d.take(1)
                assert [(r["decision"], r.get("reason")) for r in first] \
                    == [("suppressed", "below-threshold")], first
        finally:
            if how != "kill":
                assert d.stop() == 0
        d = Daemon(tmp_path / "m", emu.kubeconfig, state=d.state)
        try:
            d.wait_log("synced")
            port = listening_port(d)
            status, text = post(port, "/alerts", payload)
            assert (status, json.loads(text)) == \
                (200, {"queued": 0, "duplicates": 1}), text
            status, text = post(port, "/alerts", anew)
            assert (status, json.loads(text)) == \
                (200, {"queued": 1, "duplicates": 0}), text
            recs = []
            while not any(r["decision"] == "acted" for r in recs):
                got = d.take(1)
                assert got, recs
                recs += got
        finally:
            assert d.stop() == 0
        reqs = emu.requests()
    ids = decided_ids(d.state)
    # one record per alert: the first below the threshold, the new
    # firing acted on (the second signal of the window)
    assert len(ids) == 2 and ids[0] != ids[1], ids
    assert [r["decision"] for r in recs][-1] == "acted"
    assert len([r for r in reqs if r["method"] == "POST" and
                r["path"].endswith("/configmaps")]) == 1
