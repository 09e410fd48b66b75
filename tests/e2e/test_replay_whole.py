"""replay answers a policy's lookup() with the whole object it last saw.

The view keeps Pods and workloads compact (their projection, as `run`
does); a field outside it (an annotation other than remediation.*) comes
from replay's store of whole objects: the snapshot's text, or the watch
line that last changed the object.  A policy that reads such a field
decides on the latest value, never on null.
"""
import datetime

import pytest

import scenario
from conftest import records, run

T0 = datetime.datetime(2026, 11, 25, 10, 0, 0)
FREEZE = "ops.example/freeze"

# Denies the bump when the subject Pod or the Deployment shop/cart is
# frozen: both read an annotation the projection drops.
POLICY = """apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: freeze
spec:
  validationFailureAction: Enforce
  rules:
    - name: deny-frozen
      match:
        any:
          - resources:
              kinds:
                - Workflow
      validate:
        message: "frozen"
        deny:
          conditions:
            any:
              - key: "{{ lookup('Pod', request.object.spec.arguments.parameters[?(@.name=='namespace')].value | [0], request.object.spec.arguments.parameters[?(@.name=='pod')].value | [0], 'metadata.annotations.\\"ops.example/freeze\\"') }}"
                operator: Equals
                value: "true"
              - key: "{{ lookup('Deployment', 'shop', 'cart', 'metadata.annotations.\\"ops.example/freeze\\"') }}"
                operator: Equals
                value: "true"
              - key: "{{ lookup('Pod', 'shop', '%s', 'metadata.annotations.\\"ops.example/hold\\"') }}"
                operator: Equals
                value: "true"
""" % scenario.pod_name("cart", 1)


def at(minutes):
    return T0 + datetime.timedelta(minutes=minutes)


class Annotated(scenario.Workload):
    """A Workload whose Pods and Deployment carry annotations: snap_ann
    on the snapshot's Pods, pod_ann on the watch lines' (as they are
    when oom() writes the line)."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.snap_ann, self.pod_ann, self.deploy_ann = {}, {}, {}

    def pod(self, i, fresh=False):
        p = super().pod(i, fresh)
        p["metadata"]["annotations"] = dict(
            self.snap_ann if fresh else self.pod_ann)
        return p

    def deployment(self):
        d = super().deployment()
        d["metadata"]["annotations"] = dict(self.deploy_ann)
        return d


def write_inputs(tmp_path, seed_manifests, w, lines, fmt="list"):
    (seed_manifests / "freeze.yaml").write_text(POLICY)
    cluster = tmp_path / "cluster"
    scenario.write_snapshot(str(cluster), w.objects() +
                            scenario.filler_pods("platform", 160), fmt)
    scenario.write_ndjson(str(tmp_path / "signals.ndjson"), lines)
    scenario.write_ndjson(str(tmp_path / "budget.ndjson"), [
        scenario.budget_line(at(m), w.ns, 0.9) for m in range(-1, 10, 2)])
    return ["replay", "-c", str(seed_manifests), "--cluster", str(cluster),
            "--prometheus-recording", str(tmp_path / "budget.ndjson")]


def replay(tmp_path, seed_manifests, w, lines, stdin=False, fmt="list"):
    args = write_inputs(tmp_path, seed_manifests, w, lines, fmt)
    path = tmp_path / "signals.ndjson"
    if stdin:
        p = run(*args, "-", stdin=path.read_text(), check=0)
    else:
        p = run(*args, str(path), check=0)
    return [r["decision"] + ("/" + r["reason"] if "reason" in r else "")
            for r in records(p.stdout)]


def two_kills(w, ann_at_kills=None):
    """Pod 0 OOM-killed twice; the watch lines carry ann_at_kills."""
    if ann_at_kills is not None:
        w.pod_ann = ann_at_kills
    return [w.oom(0, at(0)), w.oom(0, at(1))]


def test_snapshot_object_field_outside_projection(tmp_path, seed_manifests):
    # (a) the Deployment is only in the snapshot: its annotation is read
    w = Annotated("shop", "cart")
    w.deploy_ann = {FREEZE: "true"}
    assert replay(tmp_path, seed_manifests, w, two_kills(w)) == [
        "suppressed/below-threshold", "suppressed/policy"]


@pytest.mark.parametrize("fmt", scenario.SNAPSHOT_FORMATS)
def test_snapshot_pod_field_outside_projection(tmp_path, seed_manifests,
                                               fmt):
    # (a) a Pod the view keeps compact, only in the snapshot (pod 1 is
    # never killed): its annotation comes from the snapshot's text, read
    # back from where it lies in a JSON file or kept (YAML, an item that
    # took its list's kind), whatever the snapshot's shape
    w = Annotated("shop", "cart")
    w.snap_ann = {"ops.example/hold": "true"}
    lines = two_kills(w, {})
    assert replay(tmp_path, seed_manifests, w, lines, fmt=fmt) == [
        "suppressed/below-threshold", "suppressed/policy"]


@pytest.mark.parametrize("fmt", ["list", "typed"])
def test_snapshot_pod_not_held(tmp_path, seed_manifests, fmt):
    # (a) without the annotation the same replay acts: the suppression
    # above came from the snapshot Pod's own field
    w = Annotated("shop", "cart")
    lines = two_kills(w, {})
    assert replay(tmp_path, seed_manifests, w, lines, fmt=fmt) == [
        "suppressed/below-threshold", "acted"]


def test_snapshot_object_unfrozen_acts(tmp_path, seed_manifests):
    w = Annotated("shop", "cart")
    w.deploy_ann = {FREEZE: "false"}
    assert replay(tmp_path, seed_manifests, w, two_kills(w)) == [
        "suppressed/below-threshold", "acted"]


@pytest.mark.parametrize("stdin", [False, True])
def test_watch_line_value_wins_over_snapshot(tmp_path, seed_manifests,
                                             stdin):
    # (b) the snapshot's Pod is not frozen; the watch lines that report
    # its kills say it is now: the policy reads the watch line's value,
    # from the file where the line lies or from stdin (a copy)
    w = Annotated("shop", "cart")
    w.snap_ann = {FREEZE: "false"}
    lines = two_kills(w, {FREEZE: "true"})
    assert replay(tmp_path, seed_manifests, w, lines, stdin=stdin) == [
        "suppressed/below-threshold", "suppressed/policy"]


def test_watch_line_unfreezes(tmp_path, seed_manifests):
    # the snapshot's Pod is frozen, the watch lines' is not: it acts
    w = Annotated("shop", "cart")
    w.snap_ann = {FREEZE: "true"}
    lines = two_kills(w, {FREEZE: "false"})
    assert replay(tmp_path, seed_manifests, w, lines) == [
        "suppressed/below-threshold", "acted"]


def test_deleted_then_readded_reads_the_new_object(tmp_path, seed_manifests):
    # a DELETED watch forgets the object; the ADDED one after is read
    w = Annotated("shop", "cart")
    w.snap_ann = w.pod_ann = {FREEZE: "true"}
    gone = {"time": scenario.ts(at(0)), "watch": {
        "type": "DELETED", "object": w.pod(0)}}
    w.pod_ann = {}
    back = {"time": scenario.ts(at(0)), "watch": {
        "type": "ADDED", "object": w.pod(0)}}
    lines = [gone, back] + two_kills(w)
    assert replay(tmp_path, seed_manifests, w, lines) == [
        "suppressed/below-threshold", "acted"]


def test_snapshot_managed_fields_reach_ownership(tmp_path):
    # ownership reads the target's managedFields, outside the projection:
    # a VPA owning the memory request in the snapshot is a conflict
    from test_gitops_owner import vpa_entry
    from test_native_actions import native_manifests
    m = native_manifests(tmp_path / "m", "bumpMemory: {increment: 25%, "
                         "cap: 8Gi}", budget=False)
    w = Annotated("shop", "cart")
    vpa = w.deployment()
    vpa["metadata"]["managedFields"] = [vpa_entry()]
    w.deployment = lambda: vpa
    assert replay(tmp_path, m, w, two_kills(w)) == [
        "suppressed/below-threshold", "suppressed/conflict"]


WEBHOOK_SOURCE = """apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata: {name: alertmanager, namespace: argo-events}
spec:
  webhook:
    alerts: {endpoint: /alerts, method: POST, port: "12000"}
"""

TYPED_SENSOR = """apiVersion: argoproj.io/v1alpha1
kind: Sensor
metadata: {name: oom-alerts, namespace: argo-events}
spec:
  dependencies:
    - name: oom
      eventSourceName: alertmanager
      eventName: alerts
      filters:
        context: {type: %s}
  triggers:
    - template:
        name: note
        k8s:
          operation: create
          source:
            resource:
              apiVersion: v1
              kind: ConfigMap
              metadata: {generateName: oom-note-}
              data: {pod: "{{ .Input.body.labels.pod }}"}
      guardrails:
        mode: dry-run
        maxSignalAge: 10m
        target: "Pod/shop/{{ .Input.body.labels.pod }}"
"""


@pytest.mark.parametrize("ctx_type,decided", [("webhook", 1), ("calendar",
                                                                0)])
def test_a_replayed_signal_has_its_sources_type(tmp_path, ctx_type, decided):
    """A signal line is typed as `run` types its source's events (a
    webhook's "webhook"), so a sensor's context.type filter decides the
    same in replay, `test` and `diff` as live; every line was typed
    "replay" and such a sensor heard nothing."""
    m = tmp_path / "m"
    m.mkdir()
    (m / "es.yaml").write_text(WEBHOOK_SOURCE)
    (m / "sensor.yaml").write_text(TYPED_SENSOR % ctx_type)
    sig = tmp_path / "signals.ndjson"
    sig.write_text('{"time":"2026-11-25T10:00:00Z","eventSource":'
                   '"alertmanager","eventName":"alerts","data":{"body":'
                   '{"labels":{"pod":"a"}}}}\n')
    p = run("replay", "-c", str(m), str(sig), check=0)
    assert len(records(p.stdout)) == decided, p.stdout


# kyverno/policies best-practices/disallow-latest-tag, as autogen makes it
# for a Deployment: every container needs a tagged image
TAGGED = """apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: disallow-latest-tag
spec:
  validationFailureAction: Enforce
  rules:
    - name: require-image-tag
      match:
        any:
          - resources:
              kinds: [Pod]
      validate:
        message: "An image tag is required."
        pattern:
          spec:
            containers:
              - image: "*:*"
"""

STRATEGIC_PATCH = """        k8s:
          operation: patch
          patchStrategy: application/strategic-merge-patch+json
          source:
            resource:
              apiVersion: apps/v1
              kind: Deployment
              metadata: {name: cart, namespace: shop}
              spec:
                template:
                  spec:
                    containers:
                      - name: app
                        resources: {limits: {memory: 1Gi}}
      rateLimit:"""


@pytest.mark.parametrize("image,decision", [
    ("registry.example/cart:1", "acted"),
    ("registry.example/cart", "suppressed/policy")])
def test_strategic_patch_admitted_as_merged(tmp_path, seed_manifests, image,
                                            decision):
    """A strategic-merge patch names a container by name and only the
    fields it changes: the policy sees the container as the API server
    will leave it, its image included (the patch's lone container, as a
    merge patch would leave the list, has no image, and was denied)."""
    s = (seed_manifests / "sensor.yaml").read_text()
    start, end = s.index("        k8s:\n"), s.index("      rateLimit:")
    (seed_manifests / "sensor.yaml").write_text(
        s[:start] + STRATEGIC_PATCH + s[end + len("      rateLimit:"):])
    (seed_manifests / "clusterpolicy.yaml").write_text(TAGGED)
    w = Annotated("shop", "cart")
    w.container = lambda *a, _c=w.container, **k: dict(_c(*a, **k),
                                                       image=image)
    args = write_inputs(tmp_path, seed_manifests, w, two_kills(w))
    (seed_manifests / "freeze.yaml").unlink()
    p = run(*args, str(tmp_path / "signals.ndjson"), check=0)
    recs = records(p.stdout)
    assert [r["decision"] + ("/" + r["reason"] if "reason" in r else "")
            for r in recs] == ["suppressed/below-threshold", decision], recs
