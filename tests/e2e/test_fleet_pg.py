"""Two clusters, one PostgreSQL database, one fleet breaker (issue 13:
"two clusters sharing one database trip one fleet breaker").

Two `remediate run` processes, each against its own API emulator (its own
cluster) and under its own --cluster-name, share one database started on
loopback by the test.  Their trigger's circuit says maxActions 3 with
scope fleet: alerts posted to each in turn act three times between them,
and the fourth, whichever cluster decides it, is circuit-open, naming
both clusters.  (The cluster-scope breaker's tests are in test_fleet.py.)"""
import json
import os
import re
import subprocess

import pytest

import scenario
from conftest import ROOT, run
from test_fleet import EVENTSOURCE, NAMES, SENSOR, alert
from test_run_live import Daemon, Emulator, cluster_objects, listening_port
from test_run_webhook import post

import pgserver  # noqa: E402

pytestmark = pytest.mark.skipif(pgserver.skip_reason() is not None,
                                reason=pgserver.skip_reason() or "")


@pytest.fixture(autouse=True)
def approval_key(monkeypatch):
    # with PostgreSQL there is no file beside the state to keep a key in
    monkeypatch.setenv("REMEDIATE_APPROVAL_KEY", "k" * 32)


def test_two_clusters_trip_one_fleet_breaker(tmp_path):
    m = tmp_path / "m"
    m.mkdir()
    (m / "es.yaml").write_text(EVENTSOURCE)
    (m / "sensor.yaml").write_text(SENSOR % ", scope: fleet")
    ws = [scenario.Workload("shop", n) for n in NAMES]
    recs = {"eu": [], "us": []}
    with pgserver.PgServer() as pg, Emulator() as emu_eu, \
            Emulator() as emu_us:
        url = pg.database("fleet")
        daemons = {}
        try:
            for name, emu in (("eu", emu_eu), ("us", emu_us)):
                emu.load(cluster_objects(ws))
                daemons[name] = Daemon(m, emu.kubeconfig, state=url, extra=[
                    "--cluster-name", name])
                daemons[name].wait_log("synced")
            ports = {n: listening_port(d) for n, d in daemons.items()}
            # eu, us, eu act (three slots); us's second is the fourth
            for cluster, target in (("eu", "cart"), ("us", "cart"),
                                    ("eu", "checkout"), ("us", "checkout")):
                assert post(ports[cluster], "/alerts", alert(target))[0] == \
                    200
                recs[cluster] += daemons[cluster].take(1)
            ledger = pg.query(url, "SELECT cluster, count(*) FROM "
                              "fleet_actions GROUP BY cluster ORDER BY "
                              "cluster")
        finally:
            for d in daemons.values():
                assert d.stop() == 0
        eu_hist = run("history", "--state", url, "--json", "--cluster", "eu")
        us_hist = run("history", "--state", url, "--json", "--cluster", "us")
    assert [r["decision"] for r in recs["eu"]] == ["acted", "acted"], recs
    assert [r.get("reason") for r in recs["us"]] == [None, "circuit-open"], \
        recs
    assert "3 actions across the fleet (2 clusters) within 10m" in \
        recs["us"][1]["message"]
    assert {r["cluster"] for r in recs["eu"]} == {"eu"}
    assert {r["cluster"] for r in recs["us"]} == {"us"}
    assert ledger == [["eu", "2"], ["us", "1"]]
    assert eu_hist.returncode == 0 and us_hist.returncode == 0
    assert [json.loads(x)["decision"] for x in eu_hist.stdout.splitlines()] \
        == ["acted", "acted"]
    assert [json.loads(x)["decision"] for x in us_hist.stdout.splitlines()] \
        == ["acted", "suppressed"]


def test_cooldowns_and_undecided_events_stay_each_clusters(tmp_path):
    """docs/ha.md: everything but a fleet-scope guardrail stays per
    cluster.  Guard state was one table for all: cluster us, started after
    eu acted on its shop/cart, loaded eu's cooldown and suppressed its own
    shop/cart.  Each cluster's rows are its own now, and an undecided
    event of one is not recovered by the other."""
    m = tmp_path / "m"
    m.mkdir()
    (m / "es.yaml").write_text(EVENTSOURCE)
    (m / "sensor.yaml").write_text(SENSOR % "")
    ws = [scenario.Workload("shop", n) for n in NAMES]
    out = {}
    with pgserver.PgServer() as pg, Emulator() as emu_eu, \
            Emulator() as emu_us:
        url = pg.database("clusters")
        for name, emu in (("eu", emu_eu), ("us", emu_us)):
            emu.load(cluster_objects(ws))
            d = Daemon(m, emu.kubeconfig, state=url,
                       extra=["--cluster-name", name])
            try:
                d.wait_log("synced")
                assert post(listening_port(d), "/alerts",
                            alert("cart"))[0] == 200
                out[name] = d.take(1)
            finally:
                assert d.stop() == 0
        cooldowns = pg.query(url, "SELECT cluster FROM state WHERE kind = "
                             "'cooldown' ORDER BY cluster")
        # an event eu acknowledged and did not decide: us leaves it
        pg.query(url, "INSERT INTO intake (received, event, cluster) "
                 "SELECT 0, '{}', 'eu'")
        d = Daemon(m, emu_us.kubeconfig, state=url,
                   extra=["--cluster-name", "us"])
        try:
            d.wait_log("synced")
        finally:
            assert d.stop() == 0
        left = pg.query(url, "SELECT cluster FROM intake")
    assert [r["decision"] for r in out["eu"]] == ["acted"], out["eu"]
    assert [r["decision"] for r in out["us"]] == ["acted"], out["us"]
    assert cooldowns == [["eu"], ["us"]]
    assert left == [["eu"]]


def passed(out):
    m = re.search(r"(\d+) passed, 0 failed", out)
    return int(m.group(1)) if m else -1


def test_ledger_unit_cases_pass_against_postgres():
    """tests/unit/test_fleet.c, its PostgreSQL half: processes racing for
    the last slots, and a lock held by a cut-off session stopping the
    guard in about 5 s instead of hanging it (make unit runs the SQLite
    half only)."""
    subprocess.run(["make", "-s", "build/tests/test_fleet"], cwd=ROOT,
                   check=True, capture_output=True, timeout=600)
    unit = os.path.join(ROOT, "build", "tests", "test_fleet")
    alone = subprocess.run([unit], capture_output=True, text=True,
                           timeout=300)
    assert alone.returncode == 0, alone.stdout + alone.stderr
    with pgserver.PgServer() as pg:
        p = subprocess.run([unit], env=dict(
            os.environ, REMEDIATE_TEST_PG=pg.database("unit_fleet")),
            capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    # every case ran twice, on the SQLite file and on PostgreSQL, and the
    # held-lock case on PostgreSQL alone
    assert passed(p.stdout) == 2 * passed(alone.stdout) + 1, p.stdout
    assert passed(alone.stdout) > 0
