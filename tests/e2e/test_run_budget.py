"""The error-budget gate live: `remediate run` asks a real Prometheus
(Debian's, on loopback) for each namespace's budget, fails closed when the
budget is thin or missing, and acts once the budget recovers."""
import os
import shutil

import pytest

import scenario
from promserver import PROMETHEUS, Exporter, Prometheus
from conftest import ROOT, Daemon, Emulator, cluster_objects

pytestmark = pytest.mark.skipif(not os.path.exists(PROMETHEUS),
                                reason="Debian's prometheus not installed")

SERIES = 'slo:error_budget_remaining:ratio{namespace="%s"}'


def test_budget_gate_against_real_prometheus(tmp_path):
    manifests = tmp_path / "manifests"
    shutil.copytree(os.path.join(ROOT, "examples", "seed", "manifests"),
                    manifests)
    ok = scenario.Workload("shop", "cart")
    tight = [scenario.Workload("tight", "api"),
             scenario.Workload("tight", "web")]
    exporter = Exporter()
    exporter.set(SERIES % "shop", 0.9)
    exporter.set(SERIES % "tight", 0.1)
    prom = Prometheus(exporter)
    try:
        prom.wait_value(SERIES % "tight", 0.1)
        with Emulator() as emu:
            objs = cluster_objects([ok] + tight)
            objs.append({"apiVersion": "v1", "kind": "Namespace",
                         "metadata": {"name": "tight"}})
            emu.load(objs)
            d = Daemon(manifests, emu.kubeconfig,
                       extra=["--prometheus", prom.url])
            try:
                d.wait_log("synced")
                for w in (ok, tight[0]):
                    emu.oom_kill(w.ns, scenario.pod_name(w.name, 0))
                    emu.oom_kill(w.ns, scenario.pod_name(w.name, 0))
                recs = d.take(4)
                # the budget recovers: Prometheus scrapes the new value
                exporter.set(SERIES % "tight", 0.6)
                prom.wait_value(SERIES % "tight", 0.6)
                emu.oom_kill("tight", scenario.pod_name("web", 0))
                emu.oom_kill("tight", scenario.pod_name("web", 0))
                recs += d.take(2)
            finally:
                d.stop()
    finally:
        prom.stop()
        exporter.stop()
    decided = [r for r in recs if r.get("reason") != "below-threshold"]
    # cart's record comes when its action is done (off the engine
    # thread), possibly after api's: the first two in target order
    decided[:2] = sorted(decided[:2], key=lambda r: r["target"]["name"])
    assert [(r["target"]["namespace"], r["target"]["name"], r["decision"],
             r.get("reason")) for r in decided] == [
        ("tight", "api", "suppressed", "budget"),
        ("shop", "cart", "acted", None),
        ("tight", "web", "acted", None)]
    assert decided[1]["budget"]["value"] == 0.9
    assert decided[0]["budget"]["value"] == 0.1
    assert decided[0]["message"] == "error budget 0.1 below minimum 0.25"
    assert decided[2]["budget"]["value"] == 0.6


def test_unreachable_prometheus_fails_closed(tmp_path):
    manifests = tmp_path / "manifests"
    shutil.copytree(os.path.join(ROOT, "examples", "seed", "manifests"),
                    manifests)
    w = scenario.Workload("shop", "cart")
    with Emulator() as emu:
        emu.load(cluster_objects([w]))
        # nothing listens there
        d = Daemon(manifests, emu.kubeconfig,
                   extra=["--prometheus", "http://127.0.0.1:9"])
        try:
            d.wait_log("synced")
            emu.oom_kill("shop", scenario.pod_name("cart", 0))
            emu.oom_kill("shop", scenario.pod_name("cart", 0))
            recs = d.take(2)
        finally:
            d.stop()
    assert recs[1]["reason"] == "budget"
    assert recs[1]["budget"]["value"] is None
