"""Leader election: two and three `remediate run` replicas against the
Kubernetes API emulator, sharing one state file (--state-shared-storage).
Only the leader decides and acts; a standby is not ready; kill -9 of the
leader during a storm hands over without any action running twice; a
leader cut off from the API server stops acting on its own clock before
its lease can expire; SIGTERM hands the lease over at once.

Short lease timings keep the tests quick: 2s / 1.5s / 0.3s."""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

import scenario
from conftest import ROOT, binary
from test_run_live import Daemon, body, cluster_objects, http_get

sys.path.insert(0, os.path.join(ROOT, "tests"))
from kubeapi.emulator import Emulator  # noqa: E402

WORKFLOWS = "/apis/argoproj.io/v1alpha1/namespaces/argo-events/workflows"
LEASES = "/apis/coordination.k8s.io/v1/namespaces/default/leases"
DATA = os.path.join(ROOT, "tests", "data", "lease")
FAST = ["--lease-duration", "2s", "--renew-deadline", "1.5s",
        "--retry-period", "0.3s"]


@pytest.fixture
def ha_manifests(tmp_path):
    """The seed, acting on the first kill of each workload, with room in
    the rate limit and the circuit, and no demotion by recurrence (a
    storm brings every signal back): only the cooldown (15m per target)
    stands between a target and a second action."""
    d = tmp_path / "manifests"
    shutil.copytree(os.path.join(ROOT, "examples", "seed", "manifests"), d)
    s = (d / "sensor.yaml").read_text()
    s = s[:s.index("        budget:")]
    s = s.replace("count: 2", "count: 1")
    s = s.replace("requestsPerUnit: 2", "requestsPerUnit: 100")
    (d / "sensor.yaml").write_text(s)
    c = (d / "config.yaml").read_text()
    c = c.replace("maxActions: 10", "maxActions: 100")
    (d / "config.yaml").write_text(c.replace("minActions: 4",
                                             "minActions: 1000"))
    return d


def replica(manifests, emu, state, ident, extra=()):
    return Daemon(manifests, emu.kubeconfig, state=state, extra=[
        "--leader-elect", "--state-shared-storage", "--lease-identity",
        ident] + FAST + list(extra))


def wait_for(d, msg, count=1, timeout=30):
    """Until d has logged msg count times, lines already read included."""
    end = time.time() + timeout
    while len(logged(d, msg)) < count:
        assert d.p.poll() is None, "daemon exited: %s" % "".join(
            d.log_lines)
        assert time.time() < end, "no %r log in %ss: %s" % (
            msg, timeout, "".join(d.log_lines))
        time.sleep(0.1)


def wait_any(daemons, msg, timeout=30):
    """The first daemon to log msg."""
    end = time.time() + timeout
    while time.time() < end:
        for d in daemons:
            if logged(d, msg):
                return d
        time.sleep(0.1)
    raise AssertionError("nobody logged %r" % msg)


def port(d):
    """The port d listens on, once it has said so."""
    wait_for(d, "listening")
    return logged(d, "listening")[0]["port"]


def standby_reason(d, timeout=10, want=None):
    """/readyz's reason once the standby has seen a leader (want: that
    reason; a standby learns of a new leader at its next retry)."""
    end = time.time() + timeout
    while True:
        st, text = http_get(port(d), "/readyz")
        assert st == 503, text
        why = json.loads(text)["reason"]
        seen = why == want if want else "nobody" not in why
        if seen or time.time() > end:
            return why
        time.sleep(0.1)


def logged(d, msg):
    out = []
    while not d.logs.empty():
        d.log_lines.append(d.logs.get())
    for line in d.log_lines:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("msg") == msg:
            out.append(rec)
    return out


def workflow_pods(reqs):
    """The pod each successful Workflow create was for."""
    pods = []
    for r in reqs:
        if r["method"] == "POST" and r["path"] == WORKFLOWS and \
                r.get("status") == 201:
            pods += [p["value"] for p in body(r)["spec"]["arguments"]
                     ["parameters"] if p["name"] == "pod"]
    return pods


def stop_all(daemons):
    for d in daemons:
        if d.p.poll() is None:
            d.stop()


def test_election_refused_with_a_local_state_file(tmp_path, ha_manifests):
    p = subprocess.run([binary(), "run", "-c", str(ha_manifests),
                        "--state", str(tmp_path / "s.db"),
                        "--leader-elect"], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 2, p.stderr
    assert "--state-shared-storage" in p.stderr
    assert "would act again" in p.stderr
    p = subprocess.run([binary(), "run", "-c", str(ha_manifests),
                        "--leader-elect", "--state-shared-storage",
                        "--lease-duration", "2s", "--renew-deadline", "2s"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2
    assert "longer than the renew deadline" in p.stderr
    p = subprocess.run([binary(), "run", "-c", str(ha_manifests),
                        "--lease-name", "x"], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 2
    assert "need --leader-elect" in p.stderr


def test_emulator_answers_a_stale_lease_update_as_recorded():
    """The 409 the election relies on, as the real server sent it."""
    from kubeapi.client import Client
    with open(os.path.join(DATA, "18c-update-lease-stale-409.json")) as f:
        rec = json.load(f)
    with open(os.path.join(DATA, "18-create-lease.json")) as f:
        create = json.load(f)
    with Emulator(http=True) as emu:
        c = Client(emu.url, emu.token)
        emu.load([{"apiVersion": "v1", "kind": "Namespace",
                   "metadata": {"name": "remediation-demo"}}])
        path = create["request"]["path"]
        r = c.request("POST", path, create["request"]["body"])
        assert r.status == 201
        made = r.json()
        put = dict(rec["request"]["body"])
        put["metadata"] = {"name": made["metadata"]["name"],
                           "namespace": "remediation-demo",
                           "resourceVersion": made["metadata"]
                           ["resourceVersion"]}
        assert c.request("PUT", rec["request"]["path"], put).status == 200
        r = c.request("PUT", rec["request"]["path"], put)
        st, stale = r.status, r.json()
    want = rec["response"]["body"]
    assert st == rec["response"]["status"] == 409
    assert stale["reason"] == want["reason"] == "Conflict"
    assert stale["message"] == want["message"]
    assert stale["details"] == want["details"]


def deployments_acted(reqs):
    """How many Workflows were created per workload (pods w3-xxxx-0)."""
    out = {}
    for pod in workflow_pods(reqs):
        w = pod.split("-")[0]
        out[w] = out.get(w, 0) + 1
    return out


def kill9_during_a_storm(emu, ws, a, b):
    """Two replicas a and b running on emu's workloads ws: OOM kills on
    the first three, kill -9 of the leader once it acted three times,
    then on all of them.  Returns the workloads acted on before the kill,
    the new leader's records after it, its /readyz status and metrics, and
    the API requests; stops both."""
    stop = threading.Event()
    targets = ws[:3]            # the rest join the storm after the kill

    def storm():
        """OOM kills round the targets, 20 a second."""
        i = 0
        while not stop.is_set() and i < 2000:
            now = list(targets)
            emu.oom_kill("shop", scenario.pod_name(now[i % len(now)].name,
                                                   (i // 6) % 2))
            i += 1
            time.sleep(0.05)

    t = threading.Thread(target=storm, daemon=True)
    try:
        for d in (a, b):
            wait_for(d, "synced")
        leader = wait_any((a, b), "leading")
        standby = b if leader is a else a
        ident = "replica-a" if leader is a else "replica-b"
        assert standby_reason(standby) == "standby: leader is " + ident
        assert http_get(port(standby), "/healthz")[0] == 200
        assert http_get(port(leader), "/readyz")[0] == 200
        t.start()
        before = []             # the leader acts on some targets
        while len([r for r in before if r["decision"] == "acted"]) < 3:
            got = leader.take(1)
            assert got, before
            before += got
        assert standby.take(1, timeout=0.5) == []   # decides nothing
        leader.kill()           # kill -9 in the middle of the storm
        old = set(deployments_acted(emu.requests()))
        targets[:] = ws
        wait_for(standby, "leading", timeout=20)
        after, end = [], time.time() + 30
        while time.time() < end and (
                len(deployments_acted(emu.requests())) < 6 or
                len({r["target"]["name"] for r in after}) < 6):
            after += standby.take(1, timeout=0.5)
        stop.set()
        t.join(10)
        st, _ = http_get(port(standby), "/readyz")
        _, metrics = http_get(port(standby), "/metrics")
    finally:
        stop.set()
        stop_all((a, b))
    return old, after, st, metrics, emu.requests()


def check_handover(ws, old, after, st, reqs):
    """Each workload acted on once across both leaders, the old one's
    cooldowns holding in the new one."""
    assert st == 200
    assert old == {"w0", "w1", "w2"}, old
    # the old leader's cooldowns hold in the new one: no second action
    assert not [r for r in after if r["decision"] == "acted" and
                r["target"]["name"] in old], after
    assert any(r.get("reason") == "cooldown" and r["target"]["name"] in old
               for r in after), [(r["target"]["name"], r["decision"],
                                  r.get("reason")) for r in after]
    # every workload acted on exactly once across both leaders
    assert deployments_acted(reqs) == {w.name: 1 for w in ws}, (
        deployments_acted(reqs), [(r["target"]["name"], r["decision"],
                                   r.get("reason"), r.get("message"))
                                  for r in after])


def test_two_replicas_one_acts_and_kill9_hands_over_without_repeats(
        tmp_path, ha_manifests):
    ws = [scenario.Workload("shop", "w%d" % i) for i in range(6)]
    state = str(tmp_path / "shared" / "state.db")
    os.makedirs(os.path.dirname(state))
    with Emulator() as emu:
        emu.load(cluster_objects(ws))
        a = replica(ha_manifests, emu, state, "replica-a")
        b = replica(ha_manifests, emu, state, "replica-b")
        old, after, st, metrics, reqs = kill9_during_a_storm(emu, ws, a, b)
    check_handover(ws, old, after, st, reqs)
    assert "remediate_leader 1" in metrics
    assert 'remediate_leader_transitions_total{role="leader"} 1' in metrics


def test_sigterm_hands_over_at_once_among_three(tmp_path, ha_manifests):
    """A long lease (30s) shows the handover is the release, not expiry."""
    state = str(tmp_path / "state.db")
    slow = ["--lease-duration", "30s", "--renew-deadline", "20s",
            "--retry-period", "0.3s"]
    with Emulator() as emu:
        emu.load(cluster_objects([scenario.Workload("shop", "cart")]))
        ds = [Daemon(ha_manifests, emu.kubeconfig, state=state, extra=[
            "--leader-elect", "--state-shared-storage",
            "--lease-identity", "r%d" % i] + slow) for i in range(3)]
        try:
            leader = wait_any(ds, "leading")
            rest = [d for d in ds if d is not leader]
            rc = leader.stop()
            for p in leader.pumps:
                p.join(10)
            assert rc == 0, "".join(leader.log_lines[-5:]) + "".join(
                list(leader.logs.queue))
            released = logged(leader, "released the lease")
            assert released, leader.log_lines
            nxt = wait_any(rest, "leading", timeout=10)
            other = [d for d in rest if d is not nxt][0]
            ident = nxt.p.args[nxt.p.args.index("--lease-identity") + 1]
            why = standby_reason(other, want="standby: leader is " + ident)
        finally:
            stop_all(ds)
    assert why == "standby: leader is " + ident


def test_leader_cut_off_stops_acting_before_its_lease_expires(
        tmp_path, ha_manifests):
    ws = [scenario.Workload("shop", "w%d" % i) for i in range(3)]
    with Emulator() as emu:
        emu.load(cluster_objects(ws))
        d = replica(ha_manifests, emu, str(tmp_path / "s.db"), "solo")
        try:
            wait_for(d, "synced")
            wait_for(d, "leading")
            emu.oom_kill("shop", scenario.pod_name("w0", 0))
            assert d.take(1)[0]["decision"] == "acted"
            # every lease request now hangs past the client's timeout
            emu.fault({"type": "delay", "ms": 3000, "path": "/leases",
                       "count": 0})
            wait_for(d, "stopped leading", timeout=20)
            stopped = logged(d, "stopped leading")[0]
            mark = len(emu.requests())
            emu.oom_kill("shop", scenario.pod_name("w1", 0))
            quiet = d.take(1, timeout=2)
            st, text = http_get(port(d), "/readyz")
            assert http_get(port(d), "/healthz")[0] == 200
            assert d.p.poll() is None          # no crash, no restart
            emu.clear_faults()
            wait_for(d, "leading", 2, timeout=20)  # back in the election
            emu.oom_kill("shop", scenario.pod_name("w2", 0))
            back = d.take(1)
            between = emu.requests(mark)
        finally:
            d.stop()
    # fenced by its own clock: acting ended renewDeadline after the last
    # renewal was sent, inside the lease others count from seeing it
    assert stopped["fencedAtMs"] - stopped["lastRenewMs"] == 1500
    assert stopped["fencedAtMs"] - stopped["lastRenewMs"] < \
        stopped["leaseDurationMs"]
    assert stopped["lastError"], stopped
    assert quiet == []
    assert st == 503 and "standby" in json.loads(text)["reason"]
    assert back and back[0]["decision"] == "acted", back
    assert back[0]["target"]["name"] == "w2"
    acted_while_out = [p for p in workflow_pods(between)
                       if p == scenario.pod_name("w1", 0)]
    assert acted_while_out == []


def checkout_pair(m, emu, path):
    """Two replicas of manifests m on the shared state path, against a
    cluster of one workload (shop/checkout)."""
    emu.load(cluster_objects([scenario.Workload("shop", "checkout")]))
    return (replica(m, emu, path, "replica-a"),
            replica(m, emu, path, "replica-b"))


def roles(a, b):
    """(leader, standby) once one leads, the standby's view listed."""
    leader = wait_any((a, b), "leading")
    standby = b if leader is a else a
    wait_for(standby, "synced")
    return leader, standby


def test_standby_refuses_webhooks_and_a_takeover_decides_every_ack(
        tmp_path):
    """Durable intake across a takeover: a standby answers webhooks 503
    and writes nothing; the leader writes each event to the shared state
    file before its 200; kill -9 of the leader mid-storm leaves some of
    them undecided, and the new leader decides every one (intake_recover)
    once its view has listed: no acknowledged event is lost."""
    from test_crash_faults import (Storm, alert, check_invariants,
                                   decided_pods, manifests, post,
                                   wait_decided)
    m = manifests(tmp_path)
    path = str(tmp_path / "shared.db")
    with Emulator() as emu:
        a, b = checkout_pair(m, emu, path)
        try:
            leader, standby = roles(a, b)
            refused, _ = post(port(standby), alert("at-standby"))
            storm = Storm(port(leader), "ha", senders=4)
            end = time.time() + 30
            while len(storm.accepted()) < 40 and time.time() < end:
                time.sleep(0.05)
            leader.kill()           # kill -9 with events in flight
            accepted = storm.accepted()
            storm.stop()
            wait_for(standby, "leading", timeout=20)
            wait_decided(path, standby)
            took = logged(standby, "leading")[0]
            st, _ = http_get(port(standby), "/readyz")
        finally:
            stop_all((a, b))
        decided = check_invariants(path, accepted, emu)
    assert refused == 503
    assert len(accepted) >= 40, len(accepted)
    assert "at-standby" not in decided.get("trace", set())
    assert st == 200
    print("takeover: %d acknowledged by the old leader, %d undecided at "
          "the takeover" % (len(accepted), took.get("undecidedEvents", 0)))


def metric(d, series):
    """The value of one series (name{labels}) on d's /metrics, 0 when
    it is not there."""
    _, text = http_get(port(d), "/metrics")
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return 0.0


def queue_depth(d, name):
    return metric(d, 'remediate_queue_depth{queue="%s"}' % name)


def test_an_action_waiting_on_a_worker_when_the_fence_closes_is_not_sent(
        tmp_path, ha_manifests):
    """One action worker, its first action held on the wire by the API
    server; a second action (another target) waits for the worker.  The
    lease requests then hang, the fence closes: the held action finishes
    and is recorded acted, the waiting one is refused on the worker just
    before its send (failed, with why, never sent), and both outcomes are
    in the state file before it closes."""
    ws = [scenario.Workload("shop", "w%d" % i) for i in range(2)]
    with Emulator() as emu:
        emu.load(cluster_objects(ws))
        d = replica(ha_manifests, emu, str(tmp_path / "s.db"), "solo",
                    ["--action-workers", "1"])
        try:
            wait_for(d, "synced")
            wait_for(d, "leading")
            emu.fault({"type": "delay", "ms": 0, "method": "POST",
                       "path": "/workflows$", "hold": "wf", "count": 1})
            emu.oom_kill("shop", scenario.pod_name("w0", 0))
            end = time.time() + 30
            while emu.held("wf") < 1 and time.time() < end:
                time.sleep(0.05)
            emu.oom_kill("shop", scenario.pod_name("w1", 0))
            while queue_depth(d, "actions") < 2 and time.time() < end:
                time.sleep(0.05)
            depth = queue_depth(d, "actions")
            emu.fault({"type": "delay", "ms": 3000, "path": "/leases",
                       "count": 0})
            wait_for(d, "stopped leading", timeout=20)
            emu.release("wf")
            recs = d.take(2)
            wait_for(d, "state file closed: standby", timeout=20)
            emu.clear_faults()
        finally:
            d.stop()
        reqs = emu.requests()
    assert depth == 2
    by = {r["target"]["name"]: r for r in recs}
    assert sorted(by) == ["w0", "w1"], recs
    assert by["w0"]["decision"] == "acted", by["w0"]
    assert by["w1"]["decision"] == "failed", by["w1"]
    assert "stopped leading" in by["w1"]["message"], by["w1"]
    assert workflow_pods(reqs) == [scenario.pod_name("w0", 0)]
    db = sqlite3.connect(str(tmp_path / "s.db"))
    stored = [json.loads(x) for (x,) in db.execute(
        "SELECT record FROM decisions")]
    db.close()
    assert sorted((r["target"]["name"], r["decision"]) for r in stored) \
        == [("w0", "acted"), ("w1", "failed")]


def test_a_new_leader_knows_the_alerts_the_last_one_decided(tmp_path):
    """A standby that takes over seeds the ingress's memory of alerts
    from the shared state: Alertmanager resending to it an alert the old
    leader decided (its POST to the old leader cut by the kill, or its
    next repeat_interval) is a duplicate, and does not reach the
    threshold of 2; before, the new leader began with an empty memory
    and decided it again (and acted).  A new firing of the alert is news
    and acts."""
    from test_run_webhook import (EVENTSOURCE, THRESHOLD_SENSOR,
                                  anew_payload, decided_ids, fresh_payload)
    from conftest import post
    m = tmp_path / "m"
    m.mkdir()
    (m / "es.yaml").write_text(EVENTSOURCE)
    (m / "sensor.yaml").write_text(THRESHOLD_SENSOR)
    path = str(tmp_path / "shared.db")
    payload = fresh_payload()
    with Emulator() as emu:
        a, b = checkout_pair(m, emu, path)
        try:
            leader, standby = roles(a, b)
            wait_for(leader, "synced")
            first = post(port(leader), "/alerts", payload)
            recs = leader.take(1)
            leader.kill()
            wait_for(standby, "leading", timeout=20)
            again = post(port(standby), "/alerts", payload)
            news = post(port(standby), "/alerts", anew_payload(payload))
            recs += standby.take(1)
        finally:
            stop_all((a, b))
        reqs = emu.requests()
    assert [json.loads(x[1]) for x in (first, again, news)] == [
        {"queued": 1, "duplicates": 0}, {"queued": 0, "duplicates": 1},
        {"queued": 1, "duplicates": 0}], (first, again, news)
    assert [(r["decision"], r.get("reason")) for r in recs] == [
        ("suppressed", "below-threshold"), ("acted", None)], recs
    ids = decided_ids(path)
    assert len(ids) == 2 and ids[0] != ids[1], ids
    assert len([r for r in reqs if r["method"] == "POST" and
                r["path"].endswith("/configmaps")]) == 1


def test_a_leader_whose_state_will_not_open_hands_the_lease_over(
        tmp_path, ha_manifests):
    """A replica that wins the lease but cannot open its state (here a
    state a newer release migrated, as in a rolling update; a volume not
    mounted or a refused database login are the same) acts on nothing,
    and held the lease so no other replica could: no remediation at all.
    After two lease durations it hands the lease over and sits out, and a
    replica that can open its state takes over and acts."""
    newer = tmp_path / "newer" / "state.db"
    os.makedirs(newer.parent)
    db = sqlite3.connect(str(newer))
    db.execute("PRAGMA application_id = %d" % 0x52454d44)
    db.execute("CREATE TABLE decisions (id INTEGER PRIMARY KEY)")
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    good = str(tmp_path / "good" / "state.db")
    os.makedirs(os.path.dirname(good))
    w = scenario.Workload("shop", "cart")
    with Emulator() as emu:
        emu.load(cluster_objects([w]))
        a = replica(ha_manifests, emu, str(newer), "replica-a")
        try:
            wait_for(a, "cannot use the state file")  # a holds the lease
            b = replica(ha_manifests, emu, good, "replica-b")
            try:
                wait_for(b, "listening")
                wait_for(a, "cannot open the state: handing the lease over")
                wait_for(b, "leading", timeout=20)
                wait_for(b, "synced")
                emu.oom_kill(w.ns, scenario.pod_name(w.name, 0))
                recs = b.take(1, timeout=30)
                st_b, _ = http_get(port(b), "/readyz")
                why_a = standby_reason(a, want="standby: leader is "
                                       "replica-b")
            finally:
                b.stop()
        finally:
            a.stop()
        reqs = emu.requests()
    handed = logged(a, "cannot open the state: handing the lease over")
    assert len(handed) == 1, handed
    # two lease durations (2s each) of failing first
    assert handed[0]["failingForMs"] >= 4000
    assert handed[0]["sitOutMs"] == 4000
    assert not logged(a, "leading")
    assert [(r["target"]["name"], r["decision"]) for r in recs] == [
        ("cart", "acted")], recs
    assert st_b == 200
    assert why_a == "standby: leader is replica-b"
    assert workflow_pods(reqs) == [scenario.pod_name("cart", 0)]
