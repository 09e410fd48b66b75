"""The seed scenario and each guardrail, end to end through `replay`.

Every scenario is built from scripts/scenario.py: a snapshot of
Deployments -> ReplicaSets -> Pods and Pod status changes that the OOM
detector turns into the Events the seed's EventSource watches.
"""
import collections
import datetime
import json
import os
import re

import scenario
from conftest import ROOT, records, run

T0 = datetime.datetime(2026, 11, 25, 10, 0, 0)
SEED = os.path.join(ROOT, "examples", "seed")


def at(minutes=0, seconds=0):
    return T0 + datetime.timedelta(minutes=minutes, seconds=seconds)


def replay(tmp_path, manifests, workloads, lines, budgets=None,
           filler=160, extra=()):
    """Writes the snapshot and streams, runs replay, returns the records."""
    objects = list(extra)
    for w in workloads:
        objects += w.objects()
    objects += scenario.filler_pods("platform", filler)
    cluster = tmp_path / "cluster"
    cluster.mkdir(exist_ok=True)
    scenario.write_list(str(cluster / "snapshot.json"), objects)
    scenario.write_ndjson(str(tmp_path / "signals.ndjson"), lines)
    if budgets is None:     # a healthy budget sampled every 2 minutes
        budgets = [scenario.budget_line(at(m), w.ns, 0.9)
                   for m in range(-1, 60, 2) for w in workloads]
    scenario.write_ndjson(str(tmp_path / "budget.ndjson"), budgets)
    p = run("replay", "-c", str(manifests), "--cluster", str(cluster),
            "--prometheus-recording", str(tmp_path / "budget.ndjson"),
            str(tmp_path / "signals.ndjson"))
    assert p.returncode == 0, p.stderr
    return records(p.stdout)


def twice(w, first=0, second=1, pod=0):
    """The workload's pod OOM-killed at minute `first` and `second`."""
    return [w.oom(pod, at(first)), w.oom(pod, at(second))]


def summary(recs):
    return collections.Counter(
        r["decision"] + ("/" + r["reason"] if "reason" in r else "")
        for r in recs)


def set_guardrail(manifests, text):
    """Rewrites the seed Sensor's guardrails block line(s)."""
    p = manifests / "sensor.yaml"
    s = p.read_text()
    for old, new in text:
        assert old in s, old
        s = s.replace(old, new)
    p.write_text(s)


def test_shipped_demo_storm_two_acted_eighteen_rate_limited():
    p = run("replay", "-c", os.path.join(SEED, "manifests"), "--cluster",
            os.path.join(SEED, "cluster"), "--prometheus-recording",
            os.path.join(SEED, "budget.ndjson"),
            os.path.join(SEED, "signals.ndjson"), check=0)
    recs = records(p.stdout)
    assert summary(recs) == {"suppressed/below-threshold": 20,
                             "acted": 2, "suppressed/rate-limited": 18}
    acted = [r for r in recs if r["decision"] == "acted"]
    for r in acted:
        assert r["target"]["kind"] == "Deployment"
        assert r["target"]["namespace"] == "shop"
        assert r["subject"]["kind"] == "Pod"
        obj = r["plan"]["object"]
        assert obj["kind"] == "Workflow"
        assert obj["metadata"]["namespace"] == "argo-events"
        assert re.fullmatch(r"bump-memory-[bcdfghjklmnpqrstvwxz2456789]{5}",
                            obj["metadata"]["name"])
        params = {p["name"]: p["value"]
                  for p in obj["spec"]["arguments"]["parameters"]}
        assert params == {"pod": r["subject"]["name"], "namespace": "shop"}
        args = obj["spec"]["templates"][0]["container"]["args"]
        # Argo Workflows' own templates are left for Argo to render
        assert "--pod={{workflow.parameters.pod}}" in args
        assert r["budget"]["value"] == 0.8   # the 10:00:30 sample
    limited = [r for r in recs if r.get("reason") == "rate-limited"]
    assert all(r["message"] == "2 per Minute reached" for r in limited)
    # the two acted are the first two second-kills, in signal order
    assert [r["target"]["name"] for r in acted] == ["cart", "checkout"]


def test_storm_from_generator_is_deterministic(tmp_path, seed_manifests):
    ws = [scenario.Workload("shop", "w%02d" % i) for i in range(20)]
    lines = [w.oom(0, at(0, i)) for i, w in enumerate(ws)]
    lines += [w.oom(0, at(1, i)) for i, w in enumerate(ws)]
    a = replay(tmp_path, seed_manifests, ws, lines)
    assert summary(a) == {"suppressed/below-threshold": 20, "acted": 2,
                          "suppressed/rate-limited": 18}
    p = run("replay", "-c", str(seed_manifests), "--cluster",
            str(tmp_path / "cluster"), "--prometheus-recording",
            str(tmp_path / "budget.ndjson"),
            str(tmp_path / "signals.ndjson"), check=0)
    assert records(p.stdout) == a


def test_first_oom_is_below_threshold(tmp_path, seed_manifests):
    w = scenario.Workload("shop", "cart")
    recs = replay(tmp_path, seed_manifests, [w], [w.oom(0, at(0))])
    assert summary(recs) == {"suppressed/below-threshold": 1}
    assert recs[0]["message"] == "1 of 2 signals within 5m"


def test_threshold_counts_pods_of_the_same_workload(tmp_path,
                                                     seed_manifests):
    w = scenario.Workload("shop", "cart")
    recs = replay(tmp_path, seed_manifests, [w],
                  [w.oom(0, at(0)), w.oom(1, at(1))])
    assert [r["decision"] for r in recs] == ["suppressed", "acted"]


def test_workload_without_optin(tmp_path, seed_manifests):
    w = scenario.Workload("shop", "legacy", deploy_optin=False,
                          pod_optin=False)
    recs = replay(tmp_path, seed_manifests, [w], twice(w))
    assert summary(recs) == {"suppressed/below-threshold": 1,
                             "suppressed/opt-out": 1}
    assert "not opted in" in recs[1]["message"]


def test_optin_false_on_either_side_is_a_veto(tmp_path, seed_manifests):
    """The key with any other value on the workload or the pod vetoes,
    whatever the other side says (DESIGN.md); both "true" acts."""
    no_wl = scenario.Workload("shop", "nowl", deploy_optin="false",
                              pod_optin=True)
    no_pod = scenario.Workload("shop", "nopod", deploy_optin=True,
                               pod_optin="false")
    ok = scenario.Workload("shop", "both", deploy_optin=True, pod_optin=True)
    recs = replay(tmp_path, seed_manifests, [no_wl, no_pod, ok],
                  twice(no_wl) + twice(no_pod, 2, 3) + twice(ok, 4, 5))
    decided = [r for r in recs if r.get("reason") != "below-threshold"]
    assert [(r["target"]["name"], r["decision"], r.get("reason"))
            for r in decided] == [("nowl", "suppressed", "opt-out"),
                                  ("nopod", "suppressed", "opt-out"),
                                  ("both", "acted", None)]
    assert decided[0]["message"] == (
        "the workload opts out: label remediation.platform/optin=false "
        "(opt-in wants true)")
    assert decided[1]["message"].startswith("the pod opts out")


def test_pod_whose_owner_is_missing_is_unsupported_target(tmp_path,
                                                          seed_manifests):
    """The Pod is in the view, its ReplicaSet is not: nothing can be read
    or changed, so nothing is tried: unsupported-target, not failed (which
    pages)."""
    w = scenario.Workload("shop", "orphan")
    pods = [w.pod(i, fresh=True) for i in range(w.replicas)]
    recs = replay(tmp_path, seed_manifests, [], twice(w), extra=pods)
    assert summary(recs) == {"suppressed/below-threshold": 1,
                             "suppressed/unsupported-target": 1}
    assert recs[1]["message"] == (
        "the owner ReplicaSet shop/%s of Pod shop/%s is not in the "
        "cluster view" % (scenario.rs_name("orphan"),
                          scenario.pod_name("orphan", 0)))


def test_pods_lacking_label_are_denied_by_policy(tmp_path, seed_manifests):
    # The Deployment opted in (passes the opt-in guard), but the policy
    # reads the live Pod's label, which is missing.
    w = scenario.Workload("shop", "half", deploy_optin=True, pod_optin=False)
    recs = replay(tmp_path, seed_manifests, [w], twice(w))
    assert summary(recs) == {"suppressed/below-threshold": 1,
                             "suppressed/policy": 1}
    msg = recs[1]["message"]
    assert "require-remediation-optin" in msg
    assert "Pod must have label remediation.platform/optin=true" in msg
    assert recs[1]["plan"]["object"]["kind"] == "Workflow"


def test_repeat_inside_cooldown(tmp_path, seed_manifests):
    w = scenario.Workload("shop", "cart")
    lines = twice(w) + [w.oom(0, at(3)), w.oom(0, at(17)),
                        w.oom(0, at(18))]
    recs = replay(tmp_path, seed_manifests, [w], lines)
    # at 17m the 5m window holds one kill; at 18m two, and the 15m
    # cooldown since the action at 1m is over
    assert [r["decision"] + "/" + r.get("reason", "") for r in recs] == [
        "suppressed/below-threshold", "acted/", "suppressed/cooldown",
        "suppressed/below-threshold", "acted/"]
    assert recs[2]["message"] == \
        "last action 2m ago, inside the 15m cooldown"


def test_stale_signal(tmp_path, seed_manifests):
    w = scenario.Workload("shop", "cart")
    first = w.oom(0, at(0))
    late = w.oom(0, at(1))
    late["time"] = scenario.ts(at(4))      # seen 3m after the kill
    recs = replay(tmp_path, seed_manifests, [w], [first, late])
    assert summary(recs) == {"suppressed/below-threshold": 1,
                             "suppressed/stale": 1}
    assert recs[1]["message"] == \
        "signal is 3m old, older than maxSignalAge 2m"


def test_budget_low_and_budget_missing(tmp_path, seed_manifests):
    low = scenario.Workload("tight", "api")
    none = scenario.Workload("unknown", "api")
    ok = scenario.Workload("shop", "api")
    budgets = [scenario.budget_line(at(-1), "tight", 0.1),
               scenario.budget_line(at(3), "shop", 0.5)]
    lines = twice(low) + twice(none, 2, 3) + twice(ok, 4, 5)
    recs = replay(tmp_path, seed_manifests, [low, none, ok], lines, budgets)
    decided = [r for r in recs if r.get("reason") != "below-threshold"]
    assert [(r["target"]["namespace"], r["decision"], r.get("reason"))
            for r in decided] == [("tight", "suppressed", "budget"),
                                  ("unknown", "suppressed", "budget"),
                                  ("shop", "acted", None)]
    assert decided[0]["budget"]["value"] == 0.1
    assert decided[0]["message"] == "error budget 0.1 below minimum 0.25"
    assert decided[1]["budget"]["value"] is None
    assert decided[1]["budget"]["query"] == \
        'slo:error_budget_remaining:ratio{namespace="unknown"}'


def test_budget_infinite_or_nan_recording_counts_as_none(tmp_path,
                                                         seed_manifests):
    """The live path refuses NaN and +Inf; so does replay (a recorded +Inf
    budget used to pass `min` and act)."""
    inf = scenario.Workload("inf", "api")
    nan = scenario.Workload("nan", "api")
    ok = scenario.Workload("shop", "api")
    budgets = [scenario.budget_line(at(-1), "inf", "+Inf"),
               scenario.budget_line(at(-1), "nan", "NaN"),
               scenario.budget_line(at(3), "shop", 0.9)]
    lines = twice(inf) + twice(nan, 2, 3) + twice(ok, 4, 5)
    recs = replay(tmp_path, seed_manifests, [inf, nan, ok], lines, budgets)
    decided = [r for r in recs if r.get("reason") != "below-threshold"]
    assert [(r["target"]["namespace"], r["decision"], r.get("reason"))
            for r in decided] == [("inf", "suppressed", "budget"),
                                  ("nan", "suppressed", "budget"),
                                  ("shop", "acted", None)]
    assert decided[0]["budget"]["value"] is None
    assert decided[0]["message"] == \
        "no error-budget value: counted as no budget"


def test_budget_older_than_max_age_counts_as_none(tmp_path, seed_manifests):
    w = scenario.Workload("shop", "cart")
    budgets = [scenario.budget_line(at(-10), "shop", 0.9)]
    recs = replay(tmp_path, seed_manifests, [w], twice(w), budgets)
    assert recs[1]["reason"] == "budget"
    assert "old: counted as no budget" in recs[1]["message"]


def test_dry_run_decides_like_auto(tmp_path, seed_manifests):
    ws = [scenario.Workload("shop", "w%02d" % i) for i in range(5)]
    lines = [w.oom(0, at(0, i)) for i, w in enumerate(ws)]
    lines += [w.oom(0, at(1, i)) for i, w in enumerate(ws)]
    auto = replay(tmp_path, seed_manifests, ws, lines)
    set_guardrail(seed_manifests, [("mode: auto", "mode: dry-run")])
    for w in ws:
        w.kills.clear()
    lines = [w.oom(0, at(0, i)) for i, w in enumerate(ws)]
    lines += [w.oom(0, at(1, i)) for i, w in enumerate(ws)]
    dry = replay(tmp_path, seed_manifests, ws, lines)
    assert len(dry) == len(auto) == 10
    for a, d in zip(auto, dry):
        want = dict(a)
        if want["decision"] == "acted":
            want["decision"] = "dry-run"
        assert d == want
    assert summary(dry)["dry-run"] == 2


def test_mode_off_is_disabled(tmp_path, seed_manifests):
    set_guardrail(seed_manifests, [("mode: auto", "mode: off")])
    w = scenario.Workload("shop", "cart")
    recs = replay(tmp_path, seed_manifests, [w], twice(w))
    assert summary(recs) == {"suppressed/below-threshold": 1,
                             "suppressed/disabled": 1}


def test_notify_and_confirm_modes(tmp_path, seed_manifests):
    w = scenario.Workload("shop", "cart")
    set_guardrail(seed_manifests, [("mode: auto", "mode: notify")])
    recs = replay(tmp_path, seed_manifests, [w], twice(w))
    assert recs[1]["decision"] == "notified"
    w.kills.clear()
    set_guardrail(seed_manifests, [("mode: notify", "mode: confirm")])
    recs = replay(tmp_path, seed_manifests, [w], twice(w))
    assert recs[1]["decision"] == "pending-approval"


def test_blast_radius(tmp_path, seed_manifests):
    big = scenario.Workload("shop", "big", replicas=20)
    recs = replay(tmp_path, seed_manifests, [big], twice(big), filler=160)
    # 20 of 180 pods is 11%, above the 5% default
    assert recs[1]["reason"] == "blast-radius"
    assert recs[1]["message"] == \
        "would move 20 of 180 pods (11.1%), above maxClusterImpact 5.0%"


def controlled_by(kind, w, replicas=True):
    """w's objects with its Deployment turned into another controller
    kind (an Argo Rollout, a custom controller), spec.replicas kept or
    not."""
    objs = w.objects()
    objs[0]["apiVersion"] = "example.io/v1"
    objs[0]["kind"] = kind
    if not replicas:
        del objs[0]["spec"]["replicas"]
    objs[1]["metadata"]["ownerReferences"][0].update(
        apiVersion="example.io/v1", kind=kind)
    return objs


def test_blast_radius_counts_any_controllers_replicas(tmp_path,
                                                      seed_manifests):
    """A Rollout's or a custom controller's pods count as a Deployment's
    do (they counted as none, so any of them passed); one whose pods
    cannot be told is stopped, not waved through."""
    big = scenario.Workload("shop", "big", replicas=20)
    recs = replay(tmp_path, seed_manifests, [], twice(big), filler=160,
                  extra=controlled_by("Rollout", big))
    assert recs[1]["target"]["kind"] == "Rollout"
    assert recs[1]["reason"] == "blast-radius"
    assert recs[1]["message"] == \
        "would move 20 of 180 pods (11.1%), above maxClusterImpact 5.0%"
    small = scenario.Workload("shop", "small", replicas=1)
    recs = replay(tmp_path, seed_manifests, [], twice(small), filler=160,
                  extra=controlled_by("Rollout", small), budgets=[
                      scenario.budget_line(at(m), "shop", 0.9)
                      for m in range(-1, 3)])
    assert recs[1]["decision"] == "acted", recs[1]
    odd = scenario.Workload("shop", "odd", replicas=1)
    recs = replay(tmp_path, seed_manifests, [], twice(odd), filler=160,
                  extra=controlled_by("Database", odd, replicas=False))
    assert recs[1]["target"]["kind"] == "Database"
    assert recs[1]["reason"] == "blast-radius"
    assert recs[1]["message"].startswith(
        "cannot tell how many pods the target runs")


def oom_event(w, name, when, created, **times):
    """A core/v1 Event line for w's pod 0 OOM kill, with the given times
    (lastTimestamp, firstTimestamp...) and creationTimestamp."""
    ev = {"apiVersion": "v1", "kind": "Event",
          "metadata": {"name": name, "namespace": w.ns},
          "involvedObject": {"apiVersion": "v1", "kind": "Pod",
                             "name": scenario.pod_name(w.name, 0),
                             "namespace": w.ns},
          "reason": "OOMKilled", "type": "Warning", "count": 1,
          "message": "Container app was OOM-killed"}
    if created:
        ev["metadata"]["creationTimestamp"] = scenario.ts(created)
    ev.update(times)
    return {"time": scenario.ts(when),
            "watch": {"type": "ADDED", "object": ev}}


def test_an_event_is_never_dated_by_its_arrival(tmp_path, seed_manifests):
    """An Event an hour old is stale whether its time is in lastTimestamp,
    only in its creation (its times missing or unreadable), or nowhere:
    arrival time made the last two fresh, so a relist after a restart
    acted on old Events."""
    set_guardrail(seed_manifests, [("count: 2", "count: 1")])
    w = scenario.Workload("shop", "cart")
    hour_ago = at(-60)
    lines = [
        oom_event(w, "a", at(0), hour_ago, lastTimestamp=scenario.ts(
            hour_ago)),
        oom_event(w, "b", at(0, 1), hour_ago),
        oom_event(w, "c", at(0, 2), hour_ago,
                  lastTimestamp="Tue, 25 Nov 2026 09:00:00 GMT"),
        oom_event(w, "d", at(0, 3), None),
    ]
    recs = replay(tmp_path, seed_manifests, [w], lines)
    assert [r.get("reason") for r in recs] == ["stale"] * 4, recs
    assert recs[1]["message"] == \
        "signal is 1h1s old, older than maxSignalAge 2m"
    assert recs[3]["message"] == ("the signal carries no readable "
                                  "timestamp: counted as older than "
                                  "maxSignalAge")
    # a fresh Event dated only by its creation is not stale
    recs = replay(tmp_path, seed_manifests, [w], [
        oom_event(w, "e", at(5), at(5))])
    assert recs[0].get("reason") != "stale", recs[0]


def test_threshold_counts_signals_at_their_own_times(tmp_path,
                                                     seed_manifests):
    """Two kills 2.5 minutes apart are not two inside a 1m window
    because they arrived a second apart (they were counted at arrival);
    two kills 30 s apart, delivered late, are."""
    set_guardrail(seed_manifests, [("within: 5m", "within: 1m"),
                                   ("maxSignalAge: 2m", "maxSignalAge: 5m")])
    w = scenario.Workload("shop", "cart")

    def kill(name, when, arrives):
        return oom_event(w, name, arrives, when,
                         lastTimestamp=scenario.ts(when))
    recs = replay(tmp_path, seed_manifests, [w], [
        kill("a", at(-4), at(0)), kill("b", at(-1, -30), at(0, 1))])
    assert [r.get("reason") for r in recs] == ["below-threshold"] * 2
    recs = replay(tmp_path, seed_manifests, [w], [
        kill("c", at(-1, -30), at(0)), kill("d", at(-1), at(0, 1))])
    assert [r.get("reason") for r in recs] == ["below-threshold", None], \
        recs[1]


def test_circuit_opens_across_triggers(tmp_path, seed_manifests):
    cfg = seed_manifests / "config.yaml"
    cfg.write_text(cfg.read_text().replace("maxActions: 10",
                                           "maxActions: 2"))
    set_guardrail(seed_manifests, [("requestsPerUnit: 2",
                                     "requestsPerUnit: 100")])
    ws = [scenario.Workload("shop", "w%d" % i) for i in range(3)]
    lines = [w.oom(0, at(0, i)) for i, w in enumerate(ws)]
    lines += [w.oom(0, at(1, i)) for i, w in enumerate(ws)]
    recs = replay(tmp_path, seed_manifests, ws, lines)
    assert [r["decision"] + "/" + r.get("reason", "") for r in recs[3:]] \
        == ["acted/", "acted/", "suppressed/circuit-open"]


def test_bad_lines_are_reported_and_skipped(tmp_path, seed_manifests):
    w = scenario.Workload("shop", "cart")
    recs_ok = twice(w)
    cluster = tmp_path / "cluster"
    cluster.mkdir()
    scenario.write_list(str(cluster / "s.json"), w.objects() +
                        scenario.filler_pods("platform", 100))
    sig = tmp_path / "signals.ndjson"
    sig.write_text(json.dumps(recs_ok[0]) + "\n{not json\n"
                   '{"time":"yesterday","watch":{}}\n' +
                   json.dumps(recs_ok[1]) + "\n")
    p = run("replay", "-c", str(seed_manifests), "--cluster", str(cluster),
            str(sig))
    assert p.returncode == 1
    assert "signals.ndjson:2:" in p.stderr
    assert "signals.ndjson:3: error: \"time\" must be an RFC 3339" in p.stderr
    # the good lines still ran: without a budget recording, budget says no
    assert [r.get("reason") for r in records(p.stdout)] == [
        "below-threshold", "budget"]


def test_table_output(tmp_path):
    p = run("replay", "-c", os.path.join(SEED, "manifests"), "--cluster",
            os.path.join(SEED, "cluster"), "--prometheus-recording",
            os.path.join(SEED, "budget.ndjson"), "--table",
            os.path.join(SEED, "signals.ndjson"), check=0)
    lines = p.stdout.splitlines()
    assert lines[0].split()[:4] == ["TIME", "TRIGGER", "TARGET", "DECISION"]
    assert len(lines) == 41
    assert sum("rate-limited" in line for line in lines) == 18


def test_usage_errors_exit_2():
    assert run("replay").returncode == 2
    assert run("replay", "-c").returncode == 2
    assert run("nonsense").returncode == 2
