"""The dashboard and the alert rules of deploy/overlays/prometheus work on
what remediate really exports: Debian's Prometheus scrapes a running
`remediate run` during an OOM storm (with a failed action, a recurrence,
budget checks and a watch restart), loads the alert rules, and every
panel's expression, and every rule's left-hand side, answers series."""
import datetime
import json
import os
import re
import shutil

import pytest
import yaml

import scenario
from conftest import ROOT, Daemon, Emulator, cluster_objects, free_port
from promserver import PROMETHEUS, Exporter, Prometheus

pytestmark = pytest.mark.skipif(not os.path.exists(PROMETHEUS),
                                reason="Debian's prometheus not installed")

OVERLAY = os.path.join(ROOT, "deploy", "overlays", "prometheus")
BUDGET = 'slo:error_budget_remaining:ratio{namespace="%s"}'
WORKFLOWS = "^/apis/argoproj.io/v1alpha1/namespaces/argo-events/workflows$"


def panel_exprs():
    with open(os.path.join(OVERLAY, "remediate-dashboard.json")) as f:
        dash = json.load(f)
    return [(p["title"], t["expr"]) for p in dash["panels"]
            for t in p["targets"]]


def rule_lhs():
    """Each alert's expression without its threshold: what must have
    series for the alert to mean anything."""
    with open(os.path.join(OVERLAY, "alerts.yaml")) as f:
        groups = yaml.safe_load(f)["groups"]
    out = []
    for g in groups:
        for r in g["rules"]:
            m = re.match(r"^(.*\S)\s*(>|<|==|!=|>=|<=)\s*[0-9.]+$",
                         r["expr"].strip(), re.S)
            assert m, "%s: not LHS OP NUMBER" % r["alert"]
            out.append((r["alert"], m.group(1)))
    return out


def alert_expr(name):
    with open(os.path.join(OVERLAY, "alerts.yaml")) as f:
        for g in yaml.safe_load(f)["groups"]:
            for r in g["rules"]:
                if r["alert"] == name:
                    return r["expr"]
    raise KeyError(name)


def kill_twice(emu, w, at=None):
    kw = {"finishedAt": at} if at else {}
    emu.oom_kill(w.ns, scenario.pod_name(w.name, 0), **kw)
    emu.oom_kill(w.ns, scenario.pod_name(w.name, 0), **kw)


def later(seconds):
    """An RFC 3339 time seconds from now: a kill after the action, even
    within the second the action ran (kill times have 1 s resolution)."""
    t = datetime.datetime.now(datetime.timezone.utc) + \
        datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_every_panel_and_rule_answers_series_during_a_storm(tmp_path):
    manifests = tmp_path / "manifests"
    shutil.copytree(os.path.join(ROOT, "examples", "seed", "manifests"),
                    manifests)
    ws = [scenario.Workload("shop", n) for n in ("cart", "checkout",
                                                 "search")]
    port = free_port()
    exporter = Exporter()
    exporter.set(BUDGET % "shop", 0.9)
    prom = Prometheus(exporter, targets=[port], rule_files=[
        os.path.join(OVERLAY, "alerts.yaml")])
    answers = {}
    try:
        prom.wait_value(BUDGET % "shop", 0.9)
        with Emulator() as emu:
            emu.load(cluster_objects(ws))
            d = Daemon(manifests, emu.kubeconfig, extra=[
                "--prometheus", prom.url, "--listen",
                "127.0.0.1:%d" % port])
            try:
                d.wait_log("synced")
                # Prometheus has the counters at 0 before anything fails:
                # increase() counts from its first sample
                prom.wait_value('sum(remediate_actions_failed_total)', 0)
                # the first Workflow create fails: a failed remediation
                emu.fault({"type": "error", "status": 403, "count": 1,
                           "method": "POST", "path": WORKFLOWS})
                recs = []
                for w in ws:
                    kill_twice(emu, w)
                    recs += d.take(2)
                # checkout acted; its fault comes back: a recurrence
                kill_twice(emu, ws[1], at=later(2))
                recs += d.take(2)
                emu.expire_watches()    # a watch restart
                for title, q in panel_exprs() + rule_lhs():
                    answers[title, q] = prom.wait_series(q)
                # what the storm did shows: the failure alert's condition
                # holds, the budget read and the recurrence are there
                failing = prom.wait_series(alert_expr("RemediationFailing"))
                prom.wait_value('max(remediate_budget_value)', 0.9)
                recurring = prom.wait_series(
                    "max(remediate_recurrence_ratio) > 0")
                rules = prom.get("/api/v1/rules")
            finally:
                d.stop()
    finally:
        prom.stop()
        exporter.stop()
    decided = [(r["target"]["name"], r["decision"], r.get("reason"))
               for r in recs if r.get("reason") != "below-threshold"]
    assert ("cart", "failed", None) in decided, decided
    assert ("checkout", "acted", None) in decided, decided
    assert all(answers.values())
    assert len(answers) == len(panel_exprs()) + len(rule_lhs())
    loaded = [r for g in rules["groups"] for r in g["rules"]]
    assert sorted(r["name"] for r in loaded) == sorted(
        a for a, _ in rule_lhs())
    assert all(r["health"] == "ok" for r in loaded), loaded
    assert [x["metric"] for x in failing] == [{
        "sensor": "argo-events/oom-remediation",
        "trigger": "bump-memory-request"}]
    assert float(recurring[0]["value"][1]) > 0
