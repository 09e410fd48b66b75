"""`remediate run` against the Kubernetes API emulator: a bumpMemory on a
Deployment whose container memory a VPA owns (managedFields) is
suppressed as `conflict`, on one that a self-healing Argo CD Application
delivers as `gitops-managed`, and neither sends a PATCH; an unmanaged
Deployment is patched.  Ownership is read fresh (GETs of the Deployment
and the Application at decision time)."""
import copy
import json
import os
import sys
import time

import scenario
from conftest import ROOT
from conftest import Daemon
from test_native_actions import native_manifests

sys.path.insert(0, os.path.join(ROOT, "tests"))
from kubeapi.emulator import Emulator  # noqa: E402

DATA = os.path.join(ROOT, "tests", "data", "gitops")
DEPLOY = "/apis/apps/v1/namespaces/shop/deployments/"
APP = "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/checkout"


def data(name):
    with open(os.path.join(DATA, name)) as f:
        return json.load(f)


def vpa_entry():
    """The vpa-updater managedFields entry of the recorded Deployment."""
    return [m for m in data("deployment-vpa.json")["metadata"]
            ["managedFields"] if m["manager"] == "vpa-updater"][0]


def run_storm(tmp_path, ws, setup, kills=None):
    """Each workload's first pod OOMs twice (or the pods of kills OOM, in
    order); returns the records and the API requests."""
    kills = kills or [w.name for w in ws] * 2
    m = native_manifests(tmp_path / "m", "bumpMemory: {increment: 25%, "
                         "cap: 8Gi}", budget=False)
    with Emulator() as emu:
        objs = [{"apiVersion": "v1", "kind": "Namespace",
                 "metadata": {"name": "shop"}}]
        for w in ws:
            objs += w.objects()
        emu.load(objs + scenario.filler_pods("shop", 60))
        setup(emu)
        d = Daemon(m, emu.kubeconfig, state=tmp_path / "state.db")
        try:
            d.wait_log("synced")
            emu.clear_requests()
            for name in kills:
                emu.oom_kill("shop", scenario.pod_name(name, 0))
            recs = d.take(len(kills))
            time.sleep(0.5)
            reqs = emu.requests()
        finally:
            d.stop()
    return recs, reqs


def deciding(recs, name):
    out = [r for r in recs if r["target"]["name"] == name and
           r.get("reason") != "below-threshold"]
    assert len(out) == 1, recs
    return out[0]


def add_vpa(emu, name):
    dep = copy.deepcopy(emu.get("apps/v1", "Deployment", "shop", name))
    dep["metadata"]["managedFields"].append(vpa_entry())
    emu.load(dep)


def add_argocd(emu, name, self_heal=True):
    dep = copy.deepcopy(emu.get("apps/v1", "Deployment", "shop", name))
    dep["metadata"].setdefault("annotations", {})[
        "argocd.argoproj.io/tracking-id"] = \
        "%s:apps/Deployment:shop/%s" % (name, name)
    dep["metadata"].pop("managedFields")
    emu.load(dep)
    app = data("application-selfheal.json")
    app["metadata"]["name"] = name
    app["spec"]["syncPolicy"]["automated"]["selfHeal"] = self_heal
    emu.load(app)


def test_vpa_conflict_argocd_self_heal_and_an_unmanaged_target(tmp_path):
    ws = [scenario.Workload("shop", n) for n in ("cart", "checkout", "web")]

    def setup(emu):
        add_vpa(emu, "cart")
        add_argocd(emu, "checkout")

    recs, reqs = run_storm(tmp_path, ws, setup)
    cart, checkout, web = (deciding(recs, n) for n in
                           ("cart", "checkout", "web"))
    assert (cart["decision"], cart["reason"]) == ("suppressed", "conflict")
    assert cart["message"] == (
        "spec.template.spec.containers[name=app].resources.requests.memory"
        " of Deployment shop/cart is managed by vpa-updater: a live change "
        "would be overwritten")
    assert cart["owner"]["manager"] == "vpa-updater"
    assert (checkout["decision"], checkout["reason"]) == (
        "suppressed", "gitops-managed")
    assert "Argo CD Application argocd/checkout, which self-heals" in \
        checkout["message"]
    assert checkout["owner"]["source"]["repoURL"] == \
        "https://git.example.com/platform/shop-deploy.git"
    assert web["decision"] == "acted", web
    patched = [r["path"] for r in reqs if r["method"] == "PATCH"]
    assert patched == [DEPLOY + "web"], patched
    # read fresh, at the decision: the Deployments and the Application
    gets = [r["path"] for r in reqs if r["method"] == "GET"]
    assert DEPLOY + "cart" in gets and DEPLOY + "checkout" in gets
    assert APP in gets


def test_argocd_without_self_heal_is_acted_on(tmp_path):
    ws = [scenario.Workload("shop", "checkout")]
    recs, reqs = run_storm(tmp_path, ws, lambda emu: add_argocd(
        emu, "checkout", self_heal=False))
    r = deciding(recs, "checkout")
    assert r["decision"] == "acted", r
    assert r["owner"]["selfHeal"] is False
    assert [q["path"] for q in reqs if q["method"] == "PATCH"] == [
        DEPLOY + "checkout"]


def test_a_storm_its_rate_stops_reads_its_target_once_not_per_signal(
        tmp_path):
    """Ownership sits before the rate in the checks' order, so each
    decision of a trigger whose rate is spent read its target from the
    API server: a storm was a GET per signal, one after the other on the
    engine thread.  Such a decision cannot act, so it reuses a read of
    the last 5 s (src/engine/reuse.c)."""
    ws = [scenario.Workload("shop", n) for n in ("cart", "checkout", "web")]
    # cart and checkout spend the rate (2 per Minute), then web's pod
    # OOMs again and again
    recs, reqs = run_storm(tmp_path, ws, lambda emu: None, kills=[
        "cart", "cart", "checkout", "checkout"] + ["web"] * 10)
    web = [r for r in recs if r["target"]["name"] == "web"]
    assert [r.get("reason") for r in web] == \
        ["below-threshold"] + ["rate-limited"] * 9, web
    assert sorted(r["target"]["name"] for r in recs
                  if r["decision"] == "acted") == ["cart", "checkout"]
    gets = [r for r in reqs if r["method"] == "GET" and
            r["path"] == DEPLOY + "web"]
    # one read for nine decisions (two if the storm crossed 5 s)
    assert 1 <= len(gets) <= 2, len(gets)


def test_a_throttled_ownership_read_fails_that_decision_not_the_rest(
        tmp_path):
    """The ownership read runs on the thread every decision waits on.
    An API server that throttles it for 30 s (429, Retry-After: 30) fails
    that read at once: the decision is failed (nothing unreadable lets an
    action through) and the next target is decided and acted on.  The
    client's own policy would have waited out the Retry-After, up to
    four times, with every decision behind it.  A short throttle
    (Retry-After: 1) is waited out and the action goes on."""
    ws = [scenario.Workload("shop", n) for n in ("cart", "checkout", "web")]

    def setup(emu):
        emu.fault({"type": "throttle", "retryAfter": 30, "count": 100,
                   "path": "^" + DEPLOY + "cart$"})
        emu.fault({"type": "throttle", "retryAfter": 1, "count": 1,
                   "path": "^" + DEPLOY + "web$"})

    recs, reqs = run_storm(tmp_path, ws, setup, kills=[
        "cart", "cart", "checkout", "checkout", "web", "web"])
    cart, checkout, web = (deciding(recs, n) for n in
                           ("cart", "checkout", "web"))
    assert cart["decision"] == "failed", cart
    assert "cannot read who manages Deployment shop/cart" in \
        cart["message"] and "429" in cart["message"], cart
    gets = [r for r in reqs if r["method"] == "GET" and
            r["path"] == DEPLOY + "cart"]
    assert len(gets) == 1, gets          # not retried into the 30 s
    assert checkout["decision"] == "acted", checkout
    assert web["decision"] == "acted", web
    assert len([r for r in reqs if r["method"] == "GET" and
                r["path"] == DEPLOY + "web"]) == 2
