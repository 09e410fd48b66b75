"""Many clusters, one database (issue 13 item 3): `run --cluster-name`
names every record's cluster; a circuit with `scope: fleet` counts the
actions of every cluster sharing the state, decided under the database's
lock, and a ledger that cannot be read fails closed; a cluster-scope
circuit still counts only its own; `history --cluster` picks one.

With SQLite one daemon holds the state file (its lock), so the other
cluster's actions are written into the ledger here as its instance would
write them; test_fleet_pg.py runs two daemons on one PostgreSQL."""
import copy
import datetime
import json
import sqlite3
import time

import scenario
from conftest import fixture_path, run
from test_run_live import Daemon, Emulator, cluster_objects, listening_port
from test_run_webhook import EVENTSOURCE, post

SENSOR = """apiVersion: argoproj.io/v1alpha1
kind: Sensor
metadata: {name: oom-alerts, namespace: argo-events}
spec:
  dependencies:
    - name: oom
      eventSourceName: alertmanager
      eventName: alerts
  triggers:
    - template:
        name: note
        k8s:
          operation: create
          source:
            resource:
              apiVersion: v1
              kind: ConfigMap
              metadata: {generateName: oom-note-}
              data:
                pod: "{{ .Input.body.labels.pod }}"
      rateLimit: {unit: Minute, requestsPerUnit: 100}
      guardrails:
        mode: auto
        maxSignalAge: 10m
        circuit: {maxActions: 3, within: 10m%s}
"""

NAMES = ["cart", "checkout", "search", "ledger"]


def manifests(tmp_path, scope):
    d = tmp_path / "m"
    d.mkdir()
    (d / "es.yaml").write_text(EVENTSOURCE)
    (d / "sensor.yaml").write_text(SENSOR % (
        ", scope: %s" % scope if scope else ""))
    return d


def alert(name):
    with open(fixture_path("alertmanager-webhook-oomkilled.json")) as f:
        payload = json.load(f)
    a = payload["alerts"][0]
    a["labels"]["pod"] = scenario.pod_name(name, 0)
    a["labels"]["namespace"] = "shop"
    a["fingerprint"] = "fp-" + name
    a["startsAt"] = datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z")
    return copy.deepcopy(payload)


def other_cluster_acted(state, cluster, n, pods=1):
    """n actions of another cluster under a fleet circuit, now, and its
    published pod count: what its instance writes in the ledger."""
    now = int(time.time() * 1000)
    db = sqlite3.connect(state, timeout=10)
    for i in range(n):
        db.execute("INSERT INTO fleet_actions (cluster, time, pods, "
                   "circuit) VALUES (?, ?, ?, 1)", (cluster, now - i, pods))
    db.execute("INSERT OR REPLACE INTO fleet_clusters (cluster, pods, seen) "
               "VALUES (?, 200, ?)", (cluster, now))
    db.commit()
    db.close()


def decide(tmp_path, scope, before, extra=("--cluster-name", "eu")):
    """Runs the daemon, lets before(state) write the ledger, posts one
    alert per workload in turn; returns the records and the daemon."""
    m = manifests(tmp_path, scope)
    ws = [scenario.Workload("shop", n) for n in NAMES]
    recs = []
    with Emulator() as emu:
        emu.load(cluster_objects(ws))
        d = Daemon(m, emu.kubeconfig, extra=list(extra))
        try:
            d.wait_log("synced")
            before(d.state)
            port = listening_port(d)
            for n in NAMES[:2]:
                assert post(port, "/alerts", alert(n))[0] == 200
                recs += d.take(1)
        finally:
            assert d.stop() == 0
    return recs, d


def test_fleet_circuit_counts_the_other_clusters_actions(tmp_path):
    recs, d = decide(tmp_path, "fleet",
                     lambda s: other_cluster_acted(s, "us", 2))
    assert [r["decision"] for r in recs] == ["acted", "suppressed"], recs
    assert recs[1]["reason"] == "circuit-open"
    assert "3 actions across the fleet (2 clusters) within 10m" in \
        recs[1]["message"]
    assert {r["cluster"] for r in recs} == {"eu"}
    # the ledger holds this cluster's slot beside the other's two
    db = sqlite3.connect(d.state)
    rows = db.execute("SELECT cluster, count(*) FROM fleet_actions GROUP "
                      "BY cluster ORDER BY cluster").fetchall()
    column = db.execute("SELECT DISTINCT cluster FROM decisions").fetchall()
    db.close()
    assert rows == [("eu", 1), ("us", 2)]
    assert column == [("eu",)]
    # history picks a cluster's records
    p = run("history", "--state", d.state, "--json", "--cluster", "eu")
    assert p.returncode == 0, p.stderr
    assert [json.loads(x)["decision"] for x in p.stdout.splitlines()] == \
        ["acted", "suppressed"]
    p = run("history", "--state", d.state, "--json", "--cluster", "us")
    assert p.returncode == 0 and p.stdout == "", p.stderr


def test_cluster_scope_circuit_counts_only_its_own(tmp_path):
    """The standalone breaker as before: other clusters' slots in the
    ledger do not count, and nothing is written there."""
    recs, d = decide(tmp_path, None,
                     lambda s: other_cluster_acted(s, "us", 5))
    assert [r["decision"] for r in recs] == ["acted", "acted"], recs
    db = sqlite3.connect(d.state)
    rows = db.execute("SELECT cluster FROM fleet_actions").fetchall()
    db.close()
    assert rows == [("us",)] * 5


def test_cluster_scope_circuit_still_opens_at_its_limit(tmp_path):
    """maxActions 3 of its own: the fourth action is circuit-open."""
    m = manifests(tmp_path, "cluster")
    ws = [scenario.Workload("shop", n) for n in NAMES]
    with Emulator() as emu:
        emu.load(cluster_objects(ws))
        d = Daemon(m, emu.kubeconfig)
        try:
            d.wait_log("synced")
            port = listening_port(d)
            recs = []
            for n in NAMES:
                assert post(port, "/alerts", alert(n))[0] == 200
                recs += d.take(1)
        finally:
            assert d.stop() == 0
    assert [r.get("reason") for r in recs] == [None] * 3 + ["circuit-open"]
    assert "across all triggers" in recs[3]["message"]
    assert "fleet" not in recs[3]["message"]
    # no --cluster-name: the kubeconfig's cluster names the records
    assert recs[0]["cluster"] not in (None, "")


def test_an_unreadable_ledger_fails_closed(tmp_path):
    def break_ledger(state):
        db = sqlite3.connect(state, timeout=10)
        db.execute("DROP TABLE fleet_actions")
        db.commit()
        db.close()
    recs, d = decide(tmp_path, "fleet", break_ledger)
    assert [r.get("reason") for r in recs] == ["circuit-open"] * 2, recs
    assert "fleet ledger cannot be read, failing closed" in \
        recs[0]["message"]
    assert d.state in recs[0]["message"]


def test_cluster_name_is_checked(tmp_path):
    m = manifests(tmp_path, "fleet")
    p = run("run", "-c", str(m), "--cluster-name", "prod eu")
    assert p.returncode == 2
    assert '--cluster-name "prod eu"' in p.stderr
