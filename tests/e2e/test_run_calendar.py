"""Time-driven sources through `remediate run`: a calendar firing every
second reaches its sensor; the guardrails treat each fire as a signal (the
first acts, the rest meet the rate limit)."""
import scenario
from conftest import Daemon, Emulator, cluster_objects

MANIFESTS = """apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata: {name: ticks, namespace: argo-events}
spec:
  calendar:
    every-second: {schedule: "@every 1s"}
---
apiVersion: argoproj.io/v1alpha1
kind: Sensor
metadata: {name: nightly, namespace: argo-events}
spec:
  dependencies:
    - {name: tick, eventSourceName: ticks, eventName: every-second}
  triggers:
    - template:
        name: note
        k8s:
          operation: create
          source:
            resource:
              apiVersion: v1
              kind: ConfigMap
              metadata: {generateName: tick-}
              data: {at: "{{ .Input.eventTime }}"}
      guardrails:
        mode: auto
        cooldown: 0s
        target: Deployment/shop/cart
"""


def test_calendar_fires_into_the_pipeline(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "all.yaml").write_text(MANIFESTS)
    with Emulator() as emu:
        emu.load(cluster_objects([scenario.Workload("shop", "cart")]))
        d = Daemon(tmp_path / "m", emu.kubeconfig)
        try:
            d.wait_log("synced")
            recs = d.take(3, timeout=15)
            reqs = emu.requests()
        finally:
            assert d.stop() == 0
    assert [r["decision"] + "/" + r.get("reason", "") for r in recs] == [
        "acted/", "suppressed/rate-limited", "suppressed/rate-limited"]
    assert recs[0]["signal"]["eventSource"] == "ticks"
    assert recs[0]["target"] == {"kind": "Deployment", "namespace": "shop",
                                 "name": "cart"}
    made = [r for r in reqs if r["method"] == "POST" and
            r["path"].endswith("/configmaps")]
    assert len(made) == 1
