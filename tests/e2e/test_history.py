"""`remediate history`: the audit log as a table, JSON records and a
per-trigger summary, with every filter and every error.

Most tests read a state file laid out as docs/state.md documents schema 2,
written here with Python's sqlite3, so each can hold exactly the records it
needs.  The last two run `remediate run --state FILE` against the Kubernetes
API emulator: decisions written by the daemon, a kill -9, a restart that
keeps the cooldown, and history reading it all back."""
import datetime
import json
import os
import signal
import sqlite3
import subprocess
import time

import pytest

import scenario
from conftest import ROOT, binary, run
from test_run_live import Daemon, Emulator, cluster_objects

APPLICATION_ID = 0x52454d44
NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
SCHEMA = open(os.path.join(ROOT, "tests", "audit", "v1.sql")).read()


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def rec(minutes_ago, trigger, target, decision, reason=None, **extra):
    t = NOW - datetime.timedelta(minutes=minutes_ago)
    r = {"time": iso(t), "sensor": "argo-events/oom-remediation",
         "trigger": trigger,
         "target": {"kind": "Deployment", "namespace": "shop",
                    "name": target},
         "subject": {"kind": "Pod", "namespace": "shop",
                     "name": target + "-7d9f8-x2x9q"},
         "decision": decision}
    if reason:
        r["reason"] = reason
    r["message"] = extra.pop("message", "%s %s" % (decision, reason or ""))
    r["signal"] = {"eventSource": "k8s-events", "eventName": "oom",
                   "id": "%s-%d" % (target, minutes_ago)}
    r.update(extra)
    return r


def write_state(path, records, intended=()):
    """A schema-2 state file holding records (intended: their indexes)."""
    db = sqlite3.connect(path)
    db.executescript("""
        PRAGMA application_id = %d;
        CREATE TABLE decisions (id INTEGER PRIMARY KEY, time INTEGER NOT
          NULL, sensor TEXT NOT NULL, trigger TEXT NOT NULL, target TEXT,
          decision TEXT NOT NULL, reason TEXT, record TEXT NOT NULL,
          outcome TEXT NOT NULL DEFAULT 'final');
        CREATE INDEX decisions_time ON decisions(time);
        CREATE TABLE state (kind TEXT NOT NULL, key TEXT NOT NULL, value
          TEXT NOT NULL, PRIMARY KEY (kind, key)) WITHOUT ROWID;
        PRAGMA user_version = 2;""" % APPLICATION_ID)
    for i, r in enumerate(records):
        t = datetime.datetime.strptime(r["time"], "%Y-%m-%dT%H:%M:%SZ")
        ms = int(t.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
        tg = r["target"]
        db.execute("INSERT INTO decisions (time, sensor, trigger, target, "
                   "decision, reason, outcome, record) VALUES "
                   "(?,?,?,?,?,?,?,?)",
                   (ms, r["sensor"], r["trigger"], "%s/%s/%s" % (
                       tg["kind"], tg["namespace"], tg["name"]),
                    r["decision"], r.get("reason"),
                    "intended" if i in intended else "final",
                    json.dumps(r)))
    db.commit()
    db.close()
    return path


RECORDS = [
    rec(50, "bump-memory-request", "cart", "suppressed", "below-threshold"),
    rec(49, "bump-memory-request", "cart", "acted"),
    rec(40, "bump-memory-request", "cart", "suppressed", "cooldown",
        recurrence={"of": "x", "actions": 1, "recurred": 1, "ratio": 1.0}),
    rec(30, "bump-memory-request", "checkout", "acted"),
    rec(29, "bump-memory-request", "search", "suppressed", "rate-limited"),
    rec(20, "restart-pod", "search", "dry-run"),
    rec(10, "bump-memory-request", "legacy", "suppressed", "opt-out"),
    rec(5, "bump-memory-request", "cart", "acted"),
]


@pytest.fixture
def state(tmp_path):
    return write_state(str(tmp_path / "remediate-state.db"), RECORDS,
                       intended={7})


def history(*args, check=0):
    p = run("history", *args)
    assert p.returncode == check, (p.returncode, p.stdout, p.stderr)
    return p


def lines(p):
    return [json.loads(x) for x in p.stdout.splitlines()]


def test_table_lists_every_decision_oldest_first(state):
    out = history("--state", state).stdout.splitlines()
    assert out[0].split()[:6] == ["TIME", "TRIGGER", "TARGET", "DECISION",
                                  "REASON", "MESSAGE"]
    assert len(out) == 1 + len(RECORDS)
    assert "Deployment/shop/cart" in out[1] and "below-threshold" in out[1]
    assert "outcome unknown: the process stopped during the action" in \
        out[-1]


def test_json_records_and_unknown_outcome(state):
    got = lines(history("--state", state, "--json"))
    assert [r["signal"]["id"] for r in got] == \
        [r["signal"]["id"] for r in RECORDS]
    assert got[1] == RECORDS[1]
    assert got[-1]["outcome"] == "unknown"
    assert "outcome" not in got[3]


def test_default_state_file_is_in_the_working_directory(state, tmp_path):
    p = subprocess.run([os.path.abspath(binary()), "history", "--json"],
        cwd=str(tmp_path), capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert len(p.stdout.splitlines()) == len(RECORDS)


class Ago:
    """A --since/--until age counted from NOW, the records' clock, not
    from when the test runs: the module is imported when the suite
    starts, and in CI this test ran over five minutes later, so "35m"
    left out the record 30 minutes before NOW."""

    def __init__(self, minutes):
        self.minutes = minutes

    def __str__(self):
        late = datetime.datetime.now(datetime.timezone.utc) - NOW
        return "%ds" % (self.minutes * 60 + int(late.total_seconds()))


@pytest.mark.parametrize("args,ids", [
    (["--since", Ago(35)], ["checkout-30", "search-29", "search-20",
                            "legacy-10", "cart-5"]),
    (["--since", Ago(35), "--until", Ago(15)], ["checkout-30", "search-29",
                                               "search-20"]),
    (["--since", iso(NOW - datetime.timedelta(minutes=11))],
     ["legacy-10", "cart-5"]),
    (["--trigger", "restart-pod"], ["search-20"]),
    (["--sensor", "oom-remediation", "--decision", "acted"],
     ["cart-49", "checkout-30", "cart-5"]),
    (["--sensor", "argo-events/oom-remediation", "--reason", "cooldown"],
     ["cart-40"]),
    (["--sensor", "other/oom-remediation"], []),
    (["--target", "search"], ["search-29", "search-20"]),
    (["--target", "c*"], ["cart-50", "cart-49", "cart-40", "checkout-30",
                          "cart-5"]),
    (["--target", "Deployment/shop/leg*"], ["legacy-10"]),
    (["--target", "StatefulSet/*"], []),
    (["--limit", "2"], ["legacy-10", "cart-5"]),
    (["--decision", "suppressed", "--limit", "1"], ["legacy-10"]),
])
def test_filters(state, args, ids):
    got = lines(history("--state", state, "--json", *map(str, args)))
    assert [r["signal"]["id"] for r in got] == ids


def test_summary_per_trigger(state):
    got = {r["trigger"]: r for r in lines(history("--state", state,
                                                  "--summary", "--json"))}
    bump = got["bump-memory-request"]
    assert bump["records"] == 7
    assert bump["actions"] == 3
    assert bump["decisions"] == {"suppressed": 4, "acted": 3}
    assert bump["suppressed"] == {"below-threshold": 1, "cooldown": 1,
                                  "rate-limited": 1, "opt-out": 1}
    assert bump["recurrences"] == 1
    assert abs(bump["recurrenceRatio"] - 1 / 3) < 1e-9
    assert bump["demoted"] is False
    assert got["restart-pod"]["recurrenceRatio"] is None
    table = history("--state", state, "--summary").stdout.splitlines()
    assert table[0].split()[:3] == ["TRIGGER", "RECORDS", "ACTED"]
    row = [x for x in table if "bump-memory-request" in x][0]
    assert "33%" in row
    assert row.endswith("below-threshold 1, cooldown 1, opt-out 1, "
                        "rate-limited 1")


def test_summary_shows_a_demotion(tmp_path):
    rs = [rec(9, "t", "cart", "acted"),
          rec(8, "t", "cart", "demoted",
              message="3 of the last 4 actions recurred",
              recurrence={"of": "x", "actions": 4, "recurred": 3,
                          "ratio": 0.75}),
          rec(8, "t", "cart", "notified",
              recurrence={"of": "x", "actions": 4, "recurred": 3,
                          "ratio": 0.75}, demoted={"since": "x"})]
    s = write_state(str(tmp_path / "d.db"), rs)
    got = lines(history("--state", s, "--summary", "--json"))
    assert got[0]["demoted"] is True
    assert got[0]["recurrences"] == 1       # the demoted record repeats it
    assert got[0]["decisions"]["demoted"] == 1


@pytest.mark.parametrize("args,err", [
    (["--decision", "actd"], 'unknown decision "actd"; did you mean '
                             '"acted"?'),
    (["--reason", "ratelimited"], 'unknown reason "ratelimited"; did you '
                                  'mean "rate-limited"?'),
    (["--since", "yesterday"], "--since wants a duration (90m, 2h, 7d) or "
                               'an RFC 3339 time, not "yesterday"'),
    (["--limit", "0"], '--limit wants a positive count, not "0"'),
    (["--since", "1h", "--until", "2h"], "--until is not after --since"),
    (["--colour"], "unknown argument --colour"),
    (["--state"], "--state needs a value"),
    (["--sensor="], "--sensor needs a value, not an empty one"),
    (["--since", ""], "--since needs a value, not an empty one"),
])
def test_usage_errors(state, args, err):
    p = history("--state", state, *args, check=2)
    assert err in p.stderr


def test_missing_file(tmp_path):
    p = history("--state", str(tmp_path / "nope.db"), check=1)
    assert "nope.db: No such file or directory" in p.stderr
    assert not (tmp_path / "nope.db").exists()


def test_other_files_are_refused(tmp_path):
    other = str(tmp_path / "other.db")
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE notes (x)")
    db.commit()
    db.close()
    p = history("--state", other, check=1)
    assert "not a remediate state file" in p.stderr
    newer = write_state(str(tmp_path / "newer.db"), [])
    db = sqlite3.connect(newer)
    db.execute("PRAGMA user_version = 8")
    db.commit()
    db.close()
    p = history("--state", newer, check=1)
    assert "written by a newer remediate (schema 8" in p.stderr
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"\x00garbage" * 100)
    history("--state", str(junk), check=1)


def test_an_unreadable_record_is_said_not_skipped_silently(tmp_path):
    path = write_state(str(tmp_path / "torn.db"), RECORDS[:3])
    db = sqlite3.connect(path)
    db.execute("UPDATE decisions SET record = '{\"time\": \"torn' "
               "WHERE id = 2")
    db.commit()
    db.close()
    p = history("--state", path, check=1)
    assert ("torn.db: record 2 cannot be read (premature end of input "
            "near '\"torn'); "
            "skipped") in p.stderr, p.stderr
    assert len(p.stdout.splitlines()) == 3      # the header, records 1, 3


def readonly_mount(tmp_path, files, script):
    """Runs script (sh) with tmp_path/ro a read-only tmpfs holding files;
    skips where mount namespaces are not allowed."""
    ro = tmp_path / "ro"
    ro.mkdir()
    copies = " && ".join("cp %s %s/" % (f, ro) for f in files)
    p = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs none %s && %s && "
         "mount -o remount,ro %s && %s" % (ro, copies, ro, script)],
        capture_output=True, text=True, timeout=60)
    if "mount:" in p.stderr or "unshare:" in p.stderr:
        pytest.skip("no mount namespace here: " + p.stderr.strip())
    return p


def test_read_only_file_system(tmp_path):
    """A state file in WAL mode (as run leaves it) on a read-only file
    system used to be "not a state file": it reads; with a log still
    beside it, the error says what to do."""
    path = write_state(str(tmp_path / "s.db"), RECORDS[:2])
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = WAL")
    db.close()
    ro = tmp_path / "ro"
    p = readonly_mount(tmp_path, [path], "%s history --state %s/s.db" % (
        binary(), ro))
    assert p.returncode == 0, p.stderr
    assert len(p.stdout.splitlines()) == 3
    wal = tmp_path / "s.db-wal"
    wal.write_bytes(b"x" * 64)
    sub = tmp_path / "second"
    sub.mkdir()
    p = readonly_mount(sub, [path, str(wal)], "%s history --state %s/s.db"
                       % (binary(), sub / "ro"))
    assert p.returncode == 1
    assert "on a read-only file system, and its write-ahead log" in p.stderr
    assert "not a state file" not in p.stderr


def with_clusters(path, clusters):
    """The file as schema 5 keeps it: each row's cluster, in its column
    and in its record (None: a record without one)."""
    db = sqlite3.connect(path)
    db.executescript("""
        ALTER TABLE decisions ADD COLUMN inputs TEXT;
        ALTER TABLE decisions ADD COLUMN cluster TEXT;
        PRAGMA user_version = 5;""")
    rows = db.execute("SELECT id, record FROM decisions ORDER BY id")
    for (rowid, text), name in zip(rows.fetchall(), clusters):
        r = json.loads(text)
        if name:
            r = dict([("time", r.pop("time")), ("cluster", name)] +
                     list(r.items()))
        db.execute("UPDATE decisions SET cluster = ?, record = ? "
                   "WHERE id = ?", (name, json.dumps(r), rowid))
    db.commit()
    db.close()
    return path


def test_cluster_filter_picks_one_clusters_records(tmp_path):
    path = write_state(str(tmp_path / "fleet.db"), RECORDS)
    with_clusters(path, ["eu", "us", "eu", "us", None, "eu", "us", "eu"])
    got = lines(history("--state", path, "--json", "--cluster", "us"))
    assert [r["signal"]["id"] for r in got] == ["cart-49", "checkout-30",
                                                "legacy-10"]
    assert {r["cluster"] for r in got} == {"us"}
    got = lines(history("--state", path, "--json", "--cluster", "eu",
                        "--decision", "acted"))
    assert [r["signal"]["id"] for r in got] == ["cart-5"]
    assert lines(history("--state", path, "--json", "--cluster", "u")) == []
    # no filter: every cluster, and the record without one
    assert len(lines(history("--state", path, "--json"))) == len(RECORDS)


def test_cluster_filter_on_a_file_before_clusters_matches_none(state):
    """Schema 2 has no cluster column: no record there names one."""
    assert lines(history("--state", state, "--json", "--cluster",
                         "default")) == []
    assert len(lines(history("--state", state, "--json"))) == len(RECORDS)


def test_a_schema_1_file_reads_without_being_changed(tmp_path):
    old = str(tmp_path / "v1.db")
    db = sqlite3.connect(old)
    db.executescript(SCHEMA)
    db.close()
    before = open(old, "rb").read()
    got = lines(history("--state", old, "--json"))
    assert [r["decision"] for r in got] == ["acted", "suppressed"]
    assert open(old, "rb").read() == before     # read-only: no migration


def test_reads_while_a_writer_holds_the_lock(state):
    db = sqlite3.connect(state, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("BEGIN IMMEDIATE")
    db.execute("DELETE FROM decisions")
    try:
        got = lines(history("--state", state, "--json"))
    finally:
        db.execute("ROLLBACK")
        db.close()
    assert len(got) == len(RECORDS)


# ---- through remediate run --------------------------------------------------

def seed_without_budget(tmp_path, rate=None):
    """The seed manifests without the budget gate (no Prometheus here)."""
    import shutil
    m = tmp_path / "manifests"
    shutil.copytree(os.path.join(ROOT, "examples", "seed", "manifests"), m)
    s = (m / "sensor.yaml").read_text()
    s = s[:s.index("        budget:")]
    if rate:
        s = s.replace("requestsPerUnit: 2", "requestsPerUnit: %d" % rate)
    (m / "sensor.yaml").write_text(s)
    return m


def skip_unless_written(path):
    if not os.path.exists(path):
        pytest.skip("remediate run does not write --state yet (daemon "
                    "wiring of src/audit pending)")


def test_decisions_survive_kill_9_and_the_cooldown_holds(tmp_path):
    m = seed_without_budget(tmp_path)
    st = str(tmp_path / "state.db")
    w = scenario.Workload("shop", "cart")
    pod = scenario.pod_name("cart", 0)
    with Emulator() as emu:
        emu.load(cluster_objects([w]))
        d = Daemon(m, emu.kubeconfig, ["--state", st])
        try:
            d.wait_log("synced")
            skip_unless_written(st)
            emu.oom_kill("shop", pod)
            emu.oom_kill("shop", pod)
            first = d.take(2)
        finally:
            d.p.send_signal(signal.SIGKILL)
            d.p.wait()
        assert [r["decision"] for r in first] == ["suppressed", "acted"]
        got = lines(history("--state", st, "--json"))
        assert [r["decision"] for r in got] == ["suppressed", "acted"]
        assert "outcome" not in got[1]
        # the restart: the same workload OOMs again inside the cooldown
        d = Daemon(m, emu.kubeconfig, ["--state", st])
        try:
            d.wait_log("synced")
            emu.oom_kill("shop", pod)
            again = d.take(1)
        finally:
            assert d.stop() == 0
    assert [(r["decision"], r.get("reason")) for r in again] == \
        [("suppressed", "cooldown")], again
    got = lines(history("--state", st, "--json"))
    assert [r.get("reason", r["decision"]) for r in got] == \
        ["below-threshold", "acted", "cooldown"]
    summary = lines(history("--state", st, "--summary", "--json"))
    assert summary[0]["actions"] == 1


def test_a_damaged_cooldown_row_stops_run_and_recover_keeps_it(tmp_path):
    """A cooldown row that does not read used to be dropped with a
    warning: the cooldown reset and the next kill acted again.  run now
    refuses to start, naming the file; --state-recover starts and counts
    the row as a cooldown that starts now."""
    m = seed_without_budget(tmp_path)
    st = str(tmp_path / "state.db")
    w = scenario.Workload("shop", "cart")
    pod = scenario.pod_name("cart", 0)
    with Emulator() as emu:
        emu.load(cluster_objects([w]))
        d = Daemon(m, emu.kubeconfig, ["--state", st])
        try:
            d.wait_log("synced")
            emu.oom_kill("shop", pod)
            emu.oom_kill("shop", pod)
            first = d.take(2)
        finally:
            assert d.stop() == 0
        assert [r["decision"] for r in first] == ["suppressed", "acted"]
        db = sqlite3.connect(st)
        n = db.execute("UPDATE state SET value = '{\"at\": \"torn' "
                       "WHERE kind = 'cooldown'").rowcount
        db.commit()
        db.close()
        assert n == 1
        p = subprocess.run([binary(), "run", "-c", str(m), "--kubeconfig",
                            emu.kubeconfig, "--listen", "127.0.0.1:0",
                            "--state", st], capture_output=True, text=True,
                           timeout=60)
        assert p.returncode != 0
        assert "%s: 1 guard-state row cannot be read" % st in p.stderr
        assert "--state-recover" in p.stderr
        d = Daemon(m, emu.kubeconfig, ["--state", st, "--state-recover"])
        try:
            d.wait_log("synced")
            assert any("count as their most restrictive value" in line
                       for line in d.log_lines)
            emu.oom_kill("shop", pod)
            again = d.take(1)
        finally:
            assert d.stop() == 0
    assert [(r["decision"], r.get("reason")) for r in again] == \
        [("suppressed", "cooldown")], again


def test_kill_9_at_random_moments_under_load(tmp_path):
    """Many OOM kills while the daemon is killed at random moments: every
    record printed before the kill is in the file afterwards, and no
    workload is acted on twice inside its cooldown across restarts."""
    import random
    m = seed_without_budget(tmp_path, rate=1000)
    st = str(tmp_path / "state.db")
    ws = [scenario.Workload("shop", "w%02d" % i) for i in range(12)]
    rnd = random.Random(int(time.time()))
    printed = []
    with Emulator() as emu:
        emu.load(cluster_objects(ws))
        for _ in range(4):
            d = Daemon(m, emu.kubeconfig, ["--state", st])
            try:
                d.wait_log("synced")
                skip_unless_written(st)
                for _ in range(rnd.randint(5, 20)):
                    w = rnd.choice(ws)
                    emu.oom_kill("shop", scenario.pod_name(w.name, 0))
                time.sleep(rnd.random() * 0.5)
            finally:
                d.p.send_signal(signal.SIGKILL)
                d.p.wait()
            printed += d.take(10000, timeout=0.5)
    got = lines(history("--state", st, "--json"))
    keyed = {(r["time"], r["signal"]["id"]) for r in got}
    for r in printed:
        assert (r["time"], r["signal"]["id"]) in keyed, r
    acted = {}
    for r in got:
        if r["decision"] == "acted":
            name = r["target"]["name"]
            assert name not in acted, ("acted twice", name)
            acted[name] = r


# ---- recurrence and demotion, as replay shows them ---------------------------

def recurring(seed_manifests):
    from test_replay_seed import set_guardrail
    set_guardrail(seed_manifests, [
        ("count: 2", "count: 1"), ("cooldown: 15m", "cooldown: 1m"),
        ("        maxSignalAge: 2m",
         "        maxSignalAge: 2m\n"
         "        recurrence: {within: 30m, demoteAbove: 50%, "
         "minActions: 2}")])
    return seed_manifests


def test_recurring_remediation_demotes_the_trigger(tmp_path, seed_manifests):
    from test_replay_seed import at, replay
    w = scenario.Workload("shop", "cart")
    lines = [w.oom(0, at(m)) for m in (0, 2, 4, 6)]
    recs = replay(tmp_path, recurring(seed_manifests), [w], lines)
    assert [r["decision"] for r in recs] == [
        "acted", "acted", "demoted", "notified", "notified"]
    assert "recurrence" not in recs[0]
    assert recs[1]["recurrence"] == {"of": "2026-11-25T10:00:00Z",
                                     "actions": 1, "recurred": 1,
                                     "ratio": 1.0}
    assert recs[2]["message"] == (
        "2 of the last 2 actions recurred within 30 min (100%), above "
        "demoteAbove 50%: mode auto -> notify until the trigger's "
        "manifest changes")
    assert recs[2]["recurrence"]["of"] == "2026-11-25T10:02:00Z"
    assert recs[3]["demoted"] == {"since": "2026-11-25T10:04:00Z",
                                  "mode": "auto"}
    assert recs[4]["demoted"]["since"] == "2026-11-25T10:04:00Z"
    assert "recurrence" not in recs[4]  # no action since to recur


def test_recurrence_is_per_target_and_strictly_above(tmp_path,
                                                      seed_manifests):
    from test_replay_seed import at, replay
    cart = scenario.Workload("shop", "cart")
    checkout = scenario.Workload("shop", "checkout")
    lines = [cart.oom(0, at(0)), checkout.oom(0, at(1)),
             cart.oom(0, at(2, 30)), checkout.oom(0, at(31, 30))]
    recs = replay(tmp_path, recurring(seed_manifests), [cart, checkout],
                  lines)
    assert [r["decision"] for r in recs] == ["acted", "acted", "acted",
                                             "acted"]
    # cart's second kill recurs: 1 of 2 actions, 50%, not above 50%
    assert recs[2]["recurrence"]["ratio"] == 0.5
    # checkout's comes back after the 30m window: not a recurrence
    assert "recurrence" not in recs[3]
