"""A prometheus source's edges outlive the process: against Debian's
Prometheus (tests/e2e/promserver.py) and the Kubernetes API emulator, a
series that fired and is still over the line does not fire again after a
restart on the same state (kill -9 or SIGTERM), nor when a standby takes
the leadership over, on a shared SQLite file or on PostgreSQL.  A series
that crosses later fires; one that went below the line fires again when
it crosses back.

Each test ends by stopping the daemon that must not have fired and reading
every record it printed: an event of "a" from the same evaluation as the
one of "b" it waited for is in the file before the daemon exits."""
import json
import os
import sqlite3
import time

import pytest

import pgserver
import scenario
from conftest import Daemon, cluster_objects, wait_until
from promserver import Exporter, Prometheus
from test_ha import FAST, wait_any, wait_for
from test_reload import PROM_SOURCE as RELOAD_SOURCE

import sys
from conftest import ROOT
sys.path.insert(0, os.path.join(ROOT, "tests"))
from kubeapi.emulator import Emulator  # noqa: E402

KEY = {"REMEDIATE_APPROVAL_KEY": "k" * 32}

# test_reload.py's source, with each series' own target (Deployments
# shop/a and shop/b), so a record names its series even when it is
# suppressed before its plan is made
PROM_SOURCE = RELOAD_SOURCE.replace(
    "target: Deployment/shop/w0",
    'target: "Deployment/shop/{{ .Input.body.metric.slo }}"')
assert PROM_SOURCE != RELOAD_SOURCE
WORKLOADS = [scenario.Workload("shop", n) for n in ("a", "b")]


def slo(rec):
    """The series a record's event came from."""
    return rec["target"]["name"]


@pytest.fixture
def prom(tmp_path):
    """An exporter, a Prometheus scraping it, and manifests whose source
    `burn` (burn_rate > 1, every 1s) acts in dry-run on each event."""
    exporter = Exporter()
    server = Prometheus(exporter)
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "all.yaml").write_text(PROM_SOURCE % server.url)
    try:
        yield exporter, tmp_path / "m"
    finally:
        server.stop()
        exporter.stop()


def until_b(d):
    """Records of d until the one of series "b" (at most 5)."""
    out = []
    for _ in range(5):
        out += d.take(1, timeout=90)
        if not out or slo(out[-1]) == "b":
            break
    return out


def rest(d):
    """Every record d printed and was not taken yet, once it stopped."""
    for t in d.pumps:
        t.join(10)
    out = []
    while not d.records.empty():
        line = d.records.get()
        if line.endswith("\n"):
            out.append(json.loads(line))
    return out


def edge_rows(path):
    """The series of source slo/burn over the line in the state file, by
    their slo label (keys: eventsource, name, labels, \x1f between)."""
    db = sqlite3.connect(path)
    try:
        keys = [k.split("\x1f") for (k,) in db.execute(
            "SELECT key FROM state WHERE kind = 'edge'")]
    finally:
        db.close()
    return sorted(json.loads(k[2])["slo"] for k in keys
                  if k[:2] == ["slo", "burn"])


@pytest.mark.parametrize("how", ["kill9", "sigterm"])
def test_a_restart_does_not_fire_a_prometheus_edge_again(
        tmp_path, prom, how):
    """Series "a" fires, the daemon goes (kill -9 right after the record
    is printed: its transaction carried the edge; or SIGTERM), and the
    next one on the same file, with "a" still over the line, fires only
    "b", which crosses after the restart.  Then "a" goes below the line
    (its row is deleted) and fires when it crosses back."""
    exporter, manifests = prom
    state = str(tmp_path / "s.db")
    with Emulator() as emu:
        emu.load(cluster_objects(WORKLOADS))
        d = Daemon(manifests, emu.kubeconfig, state=state)
        try:
            d.wait_log("synced")
            exporter.set('burn_rate{slo="a"}', 2)
            first = d.take(1, timeout=90)
        finally:
            if how == "kill9":
                d.kill()
            else:
                assert d.stop() == 0
        first += rest(d)
        assert [slo(r) for r in first] == ["a"]
        d = Daemon(manifests, emu.kubeconfig, state=state)
        try:
            d.wait_log("synced")
            exporter.set('burn_rate{slo="b"}', 2)
            later = until_b(d)
            assert [slo(r) for r in later] == ["b"]     # not "a" again
            assert edge_rows(state) == ["a", "b"]
            # re-armed below the line: its row goes; crossing back fires
            exporter.set('burn_rate{slo="a"}', 0.5)
            assert wait_until(lambda: edge_rows(state) == ["b"],
                              timeout=90)
            exporter.set('burn_rate{slo="a"}', 2)
            again = d.take(1, timeout=90)
        finally:
            assert d.stop() == 0
        again += rest(d)
    # one "a", and nothing of the restart's first evaluations after "b"
    assert [slo(r) for r in again] == ["a"]


@pytest.fixture(params=["sqlite", "postgres"])
def shared_state(request, tmp_path, monkeypatch):
    """The state both replicas reach: a file on shared storage, or a
    PostgreSQL database (skipped without the server binaries)."""
    if request.param == "sqlite":
        yield str(tmp_path / "shared.db"), ["--state-shared-storage"]
        return
    why = pgserver.skip_reason()
    if why:
        pytest.skip(why)
    for k, v in KEY.items():    # no file beside the state to keep it in
        monkeypatch.setenv(k, v)
    with pgserver.PgServer() as pg:
        yield pg.database("edges"), []


def test_a_new_leader_does_not_fire_a_prometheus_edge_again(
        prom, shared_state):
    """Two replicas, one Lease: the leader fires "a" and is killed (-9);
    the standby takes over with "a" still over the line and fires only
    "b", which crosses after the takeover."""
    exporter, manifests = prom
    state, extra = shared_state
    with Emulator() as emu:
        emu.load(cluster_objects(WORKLOADS))
        a = Daemon(manifests, emu.kubeconfig, state=state, extra=[
            "--leader-elect", "--lease-identity", "replica-a"] + FAST +
            extra)
        b = None
        try:
            assert wait_any((a,), "leading", timeout=60) is a
            b = Daemon(manifests, emu.kubeconfig, state=state, extra=[
                "--leader-elect", "--lease-identity", "replica-b"] + FAST +
                extra)
            wait_for(b, "synced")
            exporter.set('burn_rate{slo="a"}', 2)
            first = a.take(1, timeout=90)
            a.kill()
            wait_for(b, "leading", timeout=60)
            exporter.set('burn_rate{slo="b"}', 2)
            later = until_b(b)
            assert [slo(r) for r in first] == ["a"]
            assert [slo(r) for r in later] == ["b"]     # not "a" again
        finally:
            if a.p.poll() is None:
                a.kill()
            if b is not None:
                assert b.stop() == 0
        # nothing of the new leader's first evaluations after "b" either
        assert rest(b) == []


def test_a_series_over_the_line_at_the_start_waits_for_the_view(
        tmp_path, prom):
    """Series "a" is over the line when the daemon starts, while the
    first list of Deployments is held: evaluated then, its target was
    "not found" (suppressed, opt-out) and, being an edge, it stayed quiet
    until it re-armed.  The source now runs once the view has listed."""
    exporter, manifests = prom
    exporter.set('burn_rate{slo="a"}', 2)
    with Emulator() as emu:
        emu.load(cluster_objects(WORKLOADS))
        emu.fault({"type": "delay", "ms": 0, "method": "GET",
                   "path": "/deployments$", "watch": False,
                   "hold": "list", "count": 1, "holdTimeout": 60})
        d = Daemon(manifests, emu.kubeconfig, state=str(tmp_path / "s.db"))
        try:
            assert wait_until(lambda: emu.held("list") == 1)
            # Prometheus scrapes "a" (every 1s) and the source's 1s
            # interval turns a few times while the list is held
            time.sleep(6)
            emu.release("list")
            d.wait_log("synced")
            first = d.take(1, timeout=90)
        finally:
            assert d.stop() == 0
    assert [slo(r) for r in first] == ["a"]
    assert first[0]["decision"] != "suppressed", first[0]
