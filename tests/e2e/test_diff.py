"""`remediate diff`: a state file written by `remediate run` (Alertmanager
alerts posted to the daemon, decided against the Kubernetes API emulator)
keeps what each decision read, and `diff` replays those signals offline
through two configurations: an unchanged configuration changes nothing, a
longer cooldown or a threshold changes exactly the decisions it should,
records without inputs are counted as skipped, truncated ones as not
replayable; with one configuration, a shadow report of what auto would
have done."""
import copy
import os
import datetime
import json
import sqlite3

import pytest

import scenario
from conftest import (Daemon, Emulator, cluster_objects, fixture_path,
                      listening_port, post, run)
from test_run_webhook import EVENTSOURCE

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
      rateLimit: {unit: Minute, requestsPerUnit: 100}
      guardrails:
        mode: %(mode)s
        maxSignalAge: 1h
        cooldown: %(cooldown)s
%(extra)s"""


def manifests(path, mode="dry-run", cooldown="1ms", extra=""):
    path.mkdir()
    (path / "es.yaml").write_text(EVENTSOURCE)
    (path / "sensor.yaml").write_text(SENSOR % {
        "mode": mode, "cooldown": cooldown, "extra": extra})
    return str(path)


def alert(payload, pod, n):
    p = copy.deepcopy(payload)
    a = p["alerts"][0]
    a["labels"]["pod"] = pod
    a["fingerprint"] = "f%d" % n
    a["startsAt"] = (datetime.datetime.utcnow() - datetime.timedelta(
        seconds=10 - n)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return p


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """Three alerts decided live: checkout, checkout again, payment."""
    tmp = tmp_path_factory.mktemp("diff")
    m = manifests(tmp / "m")
    state = str(tmp / "state.db")
    with open(fixture_path("alertmanager-webhook-oomkilled.json")) as f:
        payload = json.load(f)
    ws = [scenario.Workload("shop", "checkout"),
          scenario.Workload("shop", "payment")]
    pods = [scenario.pod_name("checkout", 0), scenario.pod_name("checkout", 0),
            scenario.pod_name("payment", 0)]
    with Emulator() as emu:
        emu.load(cluster_objects(ws))
        d = Daemon(m, emu.kubeconfig, state=state)
        try:
            d.wait_log("synced")
            port = listening_port(d)
            got = []
            for i, pod in enumerate(pods):
                assert post(port, "/alerts", alert(payload, pod, i))[0] == 200
                got += d.take(1)
        finally:
            assert d.stop() == 0
    assert [r["decision"] for r in got] == ["dry-run"] * 3, got
    return {"tmp": tmp, "from": m, "state": state, "records": got}


def diff(*args):
    p = run("diff", *args)
    assert p.returncode == 0, p.stderr
    return p


def diff_json(*args):
    return json.loads(diff(*(args + ("--json",))).stdout)


def test_state_keeps_each_decisions_inputs(recorded):
    db = sqlite3.connect(recorded["state"])
    rows = db.execute("SELECT inputs FROM decisions ORDER BY id").fetchall()
    assert db.execute("PRAGMA user_version").fetchone()[0] == 7
    assert len(rows) == 3
    for (text,) in rows:
        inputs = json.loads(text)
        assert inputs["event"]["source"] == "alertmanager"
        objs = inputs["reads"]["objects"]
        # the subject and its owner chain, as the decision read them
        assert any(k.startswith("Pod/shop/") for k in objs)
        assert "Deployment/shop/checkout" in objs or \
            "Deployment/shop/payment" in objs
        assert len(text) <= 64 * 1024


def test_unchanged_configuration_changes_nothing(recorded, tmp_path):
    doc = diff_json("--from", recorded["from"], "--to", recorded["from"],
                    "--state", recorded["state"])
    assert doc["changes"] == []
    assert doc["signals"] == 3
    assert doc["skipped"]["recordsWithoutInputs"] == 0
    counts = doc["counts"]["argo-events/oom-alerts restart-note"]
    assert counts == {"dry-run": [3, 3]}
    text = diff("--from", recorded["from"], "--to", recorded["from"],
                "--state", recorded["state"]).stdout
    assert text.startswith("0 decisions change; 3 signals replayed")


def test_longer_cooldown_suppresses_the_second_checkout(recorded, tmp_path):
    to = manifests(tmp_path / "to", cooldown="1h")
    doc = diff_json("--from", recorded["from"], "--to", to, "--state",
                    recorded["state"])
    assert len(doc["changes"]) == 1, doc["changes"]
    c = doc["changes"][0]
    assert c["target"] == "Deployment/shop/checkout"
    assert c["from"]["decision"] == "dry-run"
    assert c["to"]["decision"] == "suppressed"
    assert c["to"]["reason"] == "cooldown"
    assert c["time"] == recorded["records"][1]["time"]
    counts = doc["counts"]["argo-events/oom-alerts restart-note"]
    assert counts == {"dry-run": [3, 2], "suppressed/cooldown": [0, 1]}
    text = diff("--from", recorded["from"], "--to", to, "--state",
                recorded["state"]).stdout
    assert "from: dry-run\n" in text
    assert "to:   suppressed (cooldown" in text


def test_a_change_to_what_the_action_sends_is_a_change(recorded, tmp_path):
    """A template that changes what the action would create keeps every
    decision dry-run: it was "0 decisions change", and the one question
    diff is for went unanswered.  The plan is compared too (without the
    name the server generates), and the first difference is named."""
    to = manifests(tmp_path / "to")
    sensor = os.path.join(to, "sensor.yaml")
    with open(sensor) as f:
        text = f.read()
    with open(sensor, "w") as f:
        f.write(text.replace('pod: "{{ .Input.body.labels.pod }}"',
                             'pod: "shop/{{ .Input.body.labels.pod }}"'))
    doc = diff_json("--from", recorded["from"], "--to", to, "--state",
                    recorded["state"])
    assert len(doc["changes"]) == 3, doc["changes"]
    for c, r in zip(doc["changes"], recorded["records"]):
        assert c["from"]["decision"] == c["to"]["decision"] == "dry-run"
        pod = r["subject"]["name"]
        assert c["planChange"] == \
            'plan.object.data.pod: "%s" -> "shop/%s"' % (pod, pod), c
    text = diff("--from", recorded["from"], "--to", to, "--state",
                recorded["state"]).stdout
    assert text.count("\n  plan: plan.object.data.pod: ") == 3, text
    assert "3 decisions change;" in text


def test_threshold_and_mode_change_what_they_should(recorded, tmp_path):
    # two signals for a target within 5m: only checkout's second passes
    to = manifests(tmp_path / "to", mode="auto", extra=(
        "        threshold: {count: 2, within: 5m}\n"))
    doc = diff_json("--from", recorded["from"], "--to", to, "--state",
                    recorded["state"])
    got = [(c["target"], c["to"]["decision"], c["to"].get("reason"))
           for c in doc["changes"]]
    assert got == [
        ("Deployment/shop/checkout", "suppressed", "below-threshold"),
        ("Deployment/shop/checkout", "acted", None),
        ("Deployment/shop/payment", "suppressed", "below-threshold")]


def test_records_without_inputs_are_skipped(recorded, tmp_path):
    state = str(tmp_path / "old.db")
    src = sqlite3.connect(recorded["state"])
    dst = sqlite3.connect(state)
    src.backup(dst)
    src.close()
    row = dst.execute("SELECT time, sensor, trigger, target, decision, "
                      "reason, record FROM decisions ORDER BY id LIMIT 1"
                      ).fetchone()
    # as an older version wrote them: no inputs; one cut at the bound;
    # one whose event does not read (refused, not guessed)
    for inputs in (None, None,
                   '{"signal":99,"truncated":true,"bytes":70000}',
                   '{"signal":98,"event":{"source":"x"},"reads":{}}'):
        dst.execute("INSERT INTO decisions (time, sensor, trigger, target, "
                    "decision, reason, record, inputs) VALUES "
                    "(?, ?, ?, ?, ?, ?, ?, ?)", row + (inputs,))
    dst.commit()
    dst.close()
    doc = diff_json("--from", recorded["from"], "--to", recorded["from"],
                    "--state", state)
    assert doc["changes"] == []
    assert doc["signals"] == 3
    assert doc["skipped"] == {"recordsWithoutInputs": 2,
                              "recordsInputsTruncated": 1,
                              "recordsUnreadable": 0,
                              "signalsNotReplayed": 2}
    text = diff("--from", recorded["from"], "--to", recorded["from"],
                "--state", state).stdout
    assert "2 decisions skipped: no inputs recorded" in text
    assert "1 decision not replayable: inputs truncated" in text
    assert "1 signal not replayable: inputs do not read" in text


def test_shadow_report_says_what_auto_would_have_done(recorded):
    doc = diff_json("--from", recorded["from"], "--state", recorded["state"])
    rows = doc["shadow"]
    assert [(r["target"], r["decision"], r["auto"]) for r in rows] == [
        ("Deployment/shop/checkout", "dry-run", "acted"),
        ("Deployment/shop/checkout", "dry-run", "acted"),
        ("Deployment/shop/payment", "dry-run", "acted")]
    # what happened to checkout later: its second recorded decision
    assert [x["decision"] for x in rows[0]["later"]] == ["dry-run"]
    assert rows[2]["later"] == []
    assert doc["counts"] == {"argo-events/oom-alerts restart-note":
                             {"acted": 3}}


def test_bad_arguments_and_files(recorded, tmp_path):
    p = run("diff", "--state", recorded["state"])
    assert p.returncode == 2 and "--from DIR" in p.stderr
    p = run("diff", "--from", recorded["from"])
    assert p.returncode == 2 and "--state FILE" in p.stderr
    p = run("diff", "--from", recorded["from"], "--state",
            str(tmp_path / "nope.db"))
    assert p.returncode == 1 and "nope.db" in p.stderr
    p = run("diff", "--from", recorded["from"], "--state", recorded["state"],
            "--since", "yesterday")
    assert p.returncode == 2 and "--since" in p.stderr
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "s.yaml").write_text("kind: Sensor\nmetadata: {name: x}\n"
                                "spec: {triggers: nope}\n")
    p = run("diff", "--from", recorded["from"], "--to", str(bad),
            "--state", recorded["state"])
    assert p.returncode == 1 and "s.yaml" in p.stderr


def test_watched_oom_kills_replay_as_they_were_decided(tmp_path):
    """The seed example live: OOM kills seen through the watch (not a
    webhook), with opt-in labels, a threshold, a rate limit and blast
    radius over 160 other pods.  Replayed through the same manifests,
    every decision comes out as it was made; with a larger rate limit,
    exactly the rate-limited one acts."""
    import shutil
    from conftest import ROOT
    m = tmp_path / "m"
    shutil.copytree(os.path.join(ROOT, "examples", "seed", "manifests"), m)
    s = (m / "sensor.yaml").read_text()
    (m / "sensor.yaml").write_text(s[:s.index("        budget:")])
    state = str(tmp_path / "state.db")
    ws = [scenario.Workload("shop", n) for n in ("cart", "checkout",
                                                 "search")]
    legacy = scenario.Workload("shop", "legacy", deploy_optin=False,
                               pod_optin=False)
    with Emulator() as emu:
        emu.load(cluster_objects(ws + [legacy]))
        d = Daemon(m, emu.kubeconfig, state=state)
        try:
            d.wait_log("synced")
            got = []
            for _ in range(2):
                for w in ws + [legacy]:
                    emu.oom_kill("shop", scenario.pod_name(w.name, 0))
                got += d.take(4)
        finally:
            assert d.stop() == 0
    live = {}
    for r in got:
        k = r["decision"] + ("/" + r["reason"] if "reason" in r else "")
        live[k] = live.get(k, 0) + 1
    assert live == {"suppressed/below-threshold": 4, "acted": 2,
                    "suppressed/rate-limited": 1, "suppressed/opt-out": 1}
    doc = diff_json("--from", str(m), "--to", str(m), "--state", state)
    assert doc["changes"] == []
    counts = doc["counts"]["argo-events/oom-remediation bump-memory-request"]
    assert counts == {k: [n, n] for k, n in live.items()}

    to = tmp_path / "to"
    shutil.copytree(m, to)
    s = (to / "sensor.yaml").read_text()
    (to / "sensor.yaml").write_text(s.replace("requestsPerUnit: 2",
                                              "requestsPerUnit: 3"))
    doc = diff_json("--from", str(m), "--to", str(to), "--state", state)
    assert [(c["target"], c["from"]["reason"], c["to"]["decision"])
            for c in doc["changes"]] == [
        ("Deployment/shop/search", "rate-limited", "acted")]


def test_an_older_schema_is_read_not_migrated(recorded, tmp_path):
    """A schema-1 file (tests/audit/v1.sql): every record without inputs,
    counted; the file is read-only to diff and stays at version 1."""
    from conftest import ROOT
    state = str(tmp_path / "v1.db")
    db = sqlite3.connect(state)
    db.executescript(open(os.path.join(ROOT, "tests", "audit",
                                       "v1.sql")).read())
    db.commit()
    db.close()
    doc = diff_json("--from", recorded["from"], "--to", recorded["from"],
                    "--state", state, "--since", "2000-01-01T00:00:00Z")
    assert doc["signals"] == 0 and doc["changes"] == []
    assert doc["skipped"]["recordsWithoutInputs"] == 2
    db = sqlite3.connect(state)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    db.close()


def test_a_record_that_does_not_read_is_counted_and_fails(recorded, tmp_path):
    """A torn record is a decision the replay cannot see: diff says so
    (as history does) and exits 1, rather than report the rest as the
    whole of what changed."""
    state = str(tmp_path / "torn.db")
    src = sqlite3.connect(recorded["state"])
    dst = sqlite3.connect(state)
    src.backup(dst)
    src.close()
    dst.execute("UPDATE decisions SET record = '{\"time\": \"torn' "
                "WHERE id = 2")
    dst.commit()
    dst.close()
    p = run("diff", "--from", recorded["from"], "--to", recorded["from"],
            "--state", state, "--json")
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "torn.db: record 2 cannot be read" in p.stderr, p.stderr
    doc = json.loads(p.stdout)
    assert doc["skipped"]["recordsUnreadable"] == 1
    assert doc["signals"] == 2
    p = run("diff", "--from", recorded["from"], "--to", recorded["from"],
            "--state", state)
    assert p.returncode == 1
    assert "1 decision skipped: its record does not read" in p.stdout
