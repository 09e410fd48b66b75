"""The state in PostgreSQL (`--state postgres://...`), against a Debian
PostgreSQL the tests start on 127.0.0.1 (tests/e2e/pgserver.py) and the
Kubernetes API emulator: decisions land in the database and `history`
reads them; one writer per cluster; a kill -9 in an alert storm loses no
acknowledged event, repeats no action, resets no cooldown; two
`run --leader-elect` replicas hand over on a kill -9 with the same
invariants; a connection the server cuts answers 503 and comes back.
Every test gets a database of its own on one server per module."""
import json
import os
import subprocess
import time

import pytest

import scenario
import pgserver
from conftest import ROOT, binary
from test_crash_faults import (Storm, alert, created_notes, manifests,
                               pods_of_records, post, wait_for)
from test_ha import check_handover, ha_manifests, kill9_during_a_storm, logged
from test_run_live import Daemon, Emulator, cluster_objects, http_get

ROUNDS = int(os.environ.get("CRASH_ROUNDS_PG", "6"))
FAST = ["--lease-duration", "2s", "--renew-deadline", "1.5s",
        "--retry-period", "0.3s"]
KEY = {"REMEDIATE_APPROVAL_KEY": "k" * 32}

_ = ha_manifests               # a fixture, imported for use here

pytestmark = pytest.mark.skipif(pgserver.skip_reason() is not None,
                                reason=str(pgserver.skip_reason()))


@pytest.fixture(scope="module")
def pg():
    with pgserver.PgServer() as server:
        yield server


@pytest.fixture
def db(pg, request):
    name = "t_" + request.node.name[5:40].lower()
    return pg.database(name)


@pytest.fixture(autouse=True)
def approval_key(monkeypatch):
    # with PostgreSQL there is no file beside the state to keep a key in
    for k, v in KEY.items():
        monkeypatch.setenv(k, v)


def rows(pg, url, sql):
    return pg.query(url, sql)


def decided_pods(pg, url):
    return pods_of_records([x for (x,) in rows(
        pg, url, "SELECT record FROM decisions")])


def intake_left(pg, url):
    return int(rows(pg, url, "SELECT count(*) FROM intake")[0][0])


def wait_decided(pg, url, d, limit=60):
    end = time.time() + limit
    while time.time() < end:
        if intake_left(pg, url) == 0:
            return
        assert d.p.poll() is None, "daemon exited: %s" % "".join(
            d.log_lines)
        time.sleep(0.1)
    raise AssertionError("alerts left undecided: %d" % intake_left(pg, url))


def start(m, emu, url, extra=()):
    d = Daemon(m, emu.kubeconfig, extra=list(extra), state=url)
    d.wait_log("listening")
    return d, port_of(d)


def port_of(d):
    for line in d.log_lines:
        rec = json.loads(line)
        if rec.get("msg") == "listening":
            return rec["port"]
    raise AssertionError("no port")


def unit_against_postgres(pg, name, *says):
    """Unit test binary test_NAME run with REMEDIATE_TEST_PG on a database
    of its own: it passes, and its stderr says each PostgreSQL half ran."""
    url = pg.database("unit_" + name)
    subprocess.run(["make", "-s", "build/tests/test_" + name], cwd=ROOT,
                   check=True, capture_output=True, timeout=600)
    p = subprocess.run([os.path.join(ROOT, "build", "tests", "test_" + name)],
                       env=dict(os.environ, REMEDIATE_TEST_PG=url),
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    for said in says:
        assert said in p.stderr, said
    assert p.stdout.strip().endswith(" 0 failed"), p.stdout


def test_sqldb_unit_cases_pass_against_postgres(pg):
    """tests/unit/test_sqldb.c, its PostgreSQL half (make unit runs the
    SQLite half only, starting nothing)."""
    unit_against_postgres(pg, "sqldb", "engine: postgres")


def test_audit_edge_cases_pass_against_postgres(pg):
    """tests/unit/test_audit.c's prometheus edges across a restart, the
    signal ids a start remembers, the intents and pull requests a start
    takes for its own cluster's, their PostgreSQL half (make unit runs
    them on a file only)."""
    unit_against_postgres(pg, "audit", "signal ids: postgres",
                          "unknown outcomes: postgres",
                          "pull requests: postgres")


def test_decisions_land_in_postgres_and_history_reads_them(
        tmp_path, pg, db):
    m = manifests(tmp_path)
    with Emulator() as emu:
        emu.load(cluster_objects([scenario.Workload("shop", "checkout")]))
        d, p = start(m, emu, db)
        try:
            d.wait_log("synced")
            for pod in ("pg-1", "pg-2"):
                assert post(p, alert(pod))[0] == 200
            shown = d.take(6)
            wait_decided(pg, db, d)
        finally:
            assert d.stop() == 0
        assert len(created_notes(emu)) == 1     # the cooldown held
    assert len(shown) == 6
    # no SQLite file was made in its place
    assert not os.path.exists(tmp_path / "state.db")
    assert rows(pg, db, "SELECT max(version) FROM remediate_migrations") \
        == [["7"]]
    assert decided_pods(pg, db)["trace"] == {"pg-1", "pg-2"}
    h = subprocess.run([binary(), "history", "--state", db, "--trigger",
                        "note", "--json"], capture_output=True, text=True,
                       timeout=60)
    assert h.returncode == 0, h.stderr
    got = [json.loads(x) for x in h.stdout.splitlines() if x]
    assert [(r["decision"], r.get("reason")) for r in got] == [
        ("acted", None), ("suppressed", "cooldown")], got
    h = subprocess.run([binary(), "history", "--state", db, "--summary"],
                       capture_output=True, text=True, timeout=60)
    assert h.returncode == 0, h.stderr
    assert "argo-events/storm/note " in h.stdout, h.stdout


def test_a_second_writer_is_refused_and_recover_is_sqlite_only(
        tmp_path, pg, db):
    m = manifests(tmp_path)
    with Emulator() as emu:
        emu.load(cluster_objects([scenario.Workload("shop", "checkout")]))
        d, _ = start(m, emu, db)
        try:
            second = subprocess.run(
                [binary(), "run", "-c", str(m), "--kubeconfig",
                 emu.kubeconfig, "--listen", "127.0.0.1:0", "--state",
                 db.replace("remediate@", "remediate:hunter2@")],
                capture_output=True, text=True, timeout=60)
        finally:
            assert d.stop() == 0
    assert second.returncode != 0
    assert "in use by another remediate" in second.stderr, second.stderr
    assert 'writer lock of cluster \\"emulator\\"' in second.stderr
    assert "hunter2" not in second.stderr       # a password is not logged
    p = subprocess.run([binary(), "run", "-c", str(m), "--state", db,
                        "--state-recover"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 2
    assert "--state-recover is for a SQLite state file" in p.stderr


def test_kill_9_during_a_storm_over_postgres_loses_nothing(tmp_path, pg, db):
    m = manifests(tmp_path)
    accepted = set()
    with Emulator() as emu:
        emu.load(cluster_objects([scenario.Workload("shop", "checkout")]))
        for rnd in range(ROUNDS):
            d, p = start(m, emu, db)
            storm = Storm(p, "r%d" % rnd)
            time.sleep(0.1 + 0.1 * rnd)
            d.kill()
            storm.stop()
            accepted |= storm.accepted()
        d, p = start(m, emu, db)
        try:
            d.wait_log("synced")
            wait_decided(pg, db, d)
        finally:
            assert d.stop() == 0
        notes = created_notes(emu)
    decided = decided_pods(pg, db)
    assert accepted, "the storm never got through"
    for trigger in ("trace", "note", "doomed"):
        missing = accepted - decided.get(trigger, set())
        assert not missing, "%s: %d acknowledged alerts without a record" \
            % (trigger, len(missing))
    # decided once: one trace record per acknowledged alert
    traces = rows(pg, db, "SELECT count(*), count(DISTINCT target) FROM "
                  "decisions WHERE trigger = 'trace'")[0]
    assert traces[0] == traces[1], traces
    assert len(notes) <= 1                      # the cooldown held
    assert intake_left(pg, db) == 0


def test_two_replicas_on_one_postgres_hand_over_on_kill_9(
        pg, db, ha_manifests):
    ws = [scenario.Workload("shop", "w%d" % i) for i in range(6)]
    with Emulator() as emu:
        emu.load(cluster_objects(ws))
        # no --state-shared-storage: the database is shared
        a, b = (Daemon(ha_manifests, emu.kubeconfig, state=db, extra=[
            "--leader-elect", "--lease-identity", ident] + FAST)
            for ident in ("replica-a", "replica-b"))
        old, after, st, _, reqs = kill9_during_a_storm(emu, ws, a, b)
    check_handover(ws, old, after, st, reqs)
    # both leaders' records are in the one database
    acted = rows(pg, db, "SELECT count(*) FROM decisions WHERE decision = "
                 "'acted'")[0][0]
    assert int(acted) == 6


def test_a_server_restart_is_503_meanwhile_and_nothing_after(tmp_path):
    """PostgreSQL down: webhooks 503 (the sender keeps its event), /readyz
    503 with the reason, no crash; back up: the next round reconnects and
    takes the writer lock again.  Sessions the server cut while we were
    idle (a restart we did not see) cost nothing at all."""
    m = manifests(tmp_path)
    with pgserver.PgServer() as own, Emulator() as emu:
        url = own.database("restart")
        emu.load(cluster_objects([scenario.Workload("shop", "checkout")]))
        d, p = start(m, emu, url)
        try:
            d.wait_log("synced")
            assert post(p, alert("before"))[0] == 200
            shown = d.take(3)
            own.halt()
            status, headers = post(p, alert("down"))
            assert status == 503 and "Retry-After" in headers, status
            assert wait_for(lambda: http_get(p, "/readyz")[0] == 503)
            assert json.loads(http_get(p, "/readyz")[1])["state"]
            assert d.p.poll() is None               # no crash
            own.resume()
            assert post(p, alert("after"))[0] == 200
            shown += d.take(3)
            assert wait_for(lambda: http_get(p, "/readyz")[0] == 200)
            # the server cuts every session of ours while idle
            own.query(own.url("postgres"), "SELECT pg_terminate_backend("
                      "pid) FROM pg_stat_activity WHERE application_name ="
                      " 'remediate'")
            assert wait_for(lambda: own.query(own.url("postgres"),
                            "SELECT count(*) FROM pg_stat_activity WHERE "
                            "application_name = 'remediate'") == [["0"]])
            assert post(p, alert("idle-cut"))[0] == 200
            shown += d.take(3)
            wait_decided(own, url, d)
            stored = decided_pods(own, url)
        finally:
            assert d.stop() == 0
    assert {r["target"]["name"] for r in shown if r["trigger"] == "trace"} \
        == {"before", "after", "idle-cut"}
    assert stored["trace"] == {"before", "after", "idle-cut"}
    assert logged(d, "intake cannot write the state file: answering 503")
