"""Pull requests off the engine thread, and the cluster-wide
`ownership.gitopsManaged: pullRequest`, through `remediate run`, the
Kubernetes API emulator, a real Git remote (git daemon) and the forge
stand-in (forgeserver.py).

- With the setting on (in the RemediationConfig), a trigger in auto
  proposes the bump for a Deployment a self-healing Argo CD Application
  delivers (pending-approval with a pull request, no live PATCH), patches
  an unmanaged one live, and still stops a contested field (conflict).
  With the setting `suppress` the Argo CD target is suppressed
  `gitops-managed` as before, and the forge is never called.
- A forge that holds its answer (creating the request, later asking
  about its state) holds up no other target: another target's decision
  and live action are recorded while the forge still holds, and the pull
  request's record comes after, once.

Nothing here asserts a duration: the tests wait (bounded) for what must
happen and check the order in which it happened."""
import json
import os
import time

import scenario
from forgeserver import Forge
from gitremote import GitRemote
from test_gitops_owner import add_argocd, add_vpa
from test_gitops_pr import FILES, run_until
from test_native_actions import native_manifests
from conftest import Daemon, wait_until

from kubeapi.emulator import Emulator

DEPLOY = "/apis/apps/v1/namespaces/shop/deployments/"
SHA = "5c1e0a9b7d3f2e4a6c8b0d2f4e6a8c0b2d4f6e8a"


def manifests(d, forge, gitops_managed, poll=None):
    """Native bumpMemory in auto; the RemediationConfig carries the
    setting and confirm.pullRequest (cluster-wide)."""
    m = native_manifests(d, "bumpMemory: {increment: 25%, cap: 8Gi}",
                         budget=False)
    p = os.path.join(str(m), "sensor.yaml")
    s = open(p).read().replace("requestsPerUnit: 2", "requestsPerUnit: 10")
    open(p, "w").write(s)
    pr = {"forge": forge.kind, "api": forge.api, "repo": forge.repo,
          "token": {"env": "FORGE_TOKEN"}}
    if poll:
        pr["pollInterval"] = poll
    p = os.path.join(str(m), "config.yaml")
    s = open(p).read().replace(
        "  guardrails:\n",
        "  guardrails:\n    ownership: {gitopsManaged: %s}\n"
        "    confirm:\n      pullRequest: %s\n" % (gitops_managed,
                                                  json.dumps(pr)))
    open(p, "w").write(s)
    return m


def cluster(emu, names, git_url):
    objs = [{"apiVersion": "v1", "kind": "Namespace",
             "metadata": {"name": "shop"}}]
    for n in names:
        objs += scenario.Workload("shop", n).objects()
    emu.load(objs + scenario.filler_pods("shop", 60))
    add_argocd(emu, "checkout")
    app = emu.get("argoproj.io/v1alpha1", "Application", "argocd",
                  "checkout")
    app["spec"]["source"] = {"repoURL": git_url, "path": "apps/checkout",
                             "targetRevision": "main"}
    emu.load(app)


def start(tmp_path, m, emu):
    os.environ["FORGE_TOKEN"] = "s3cret"
    try:
        d = Daemon(m, emu.kubeconfig, state=tmp_path / "state.db")
    finally:
        del os.environ["FORGE_TOKEN"]
    d.wait_log("synced")
    emu.clear_requests()
    return d


def kill_twice(emu, name):
    for _ in range(2):
        emu.oom_kill("shop", scenario.pod_name(name, 0))


def brief(recs):
    return [(r["target"]["name"], r["decision"], r.get("reason"))
            for r in recs]


def patched(emu):
    return [r["path"] for r in emu.requests() if r["method"] == "PATCH"]


def storm(tmp_path, setting, names, setup=None):
    with GitRemote(tmp_path / "git", "shop-deploy", FILES) as remote, \
            Forge(kind="github") as forge, Emulator() as emu:
        cluster(emu, names, remote.url)
        if setup:
            setup(emu)
        d = start(tmp_path, manifests(tmp_path / "m", forge, setting), emu)
        try:
            for n in names:
                kill_twice(emu, n)
            recs = d.take(2 * len(names), timeout=60)
            time.sleep(0.3)
            paths = patched(emu)
        finally:
            assert d.stop() == 0
        return recs, paths, forge.pulls(), forge.requests(), \
            remote.branches()


def deciding(recs, name):
    out = [r for r in recs if r["target"]["name"] == name and
           r.get("reason") != "below-threshold"]
    assert len(out) == 1, recs
    return out[0]


def test_gitops_managed_target_in_auto_goes_by_pull_request(tmp_path):
    recs, paths, pulls, _, branches = storm(
        tmp_path, "pullRequest", ["checkout", "web", "cart"],
        setup=lambda emu: add_vpa(emu, "cart"))
    checkout, web, cart = (deciding(recs, n) for n in
                           ("checkout", "web", "cart"))
    assert checkout["decision"] == "pending-approval", checkout
    assert "self-heals" in checkout["byPullRequest"]
    pr = checkout["pullRequest"]
    assert pr["opened"] is True and pr["number"] == 1
    assert pr["branch"] == \
        "remediate/bump-memory-request/shop-checkout-f593b511"
    assert len(pulls) == 1 and pulls[0]["head"]["ref"] == pr["branch"]
    assert pr["branch"] in branches
    # the unmanaged target is patched live; the contested one is not
    assert web["decision"] == "acted", web
    assert (cart["decision"], cart["reason"]) == ("suppressed", "conflict")
    assert paths == [DEPLOY + "web"], paths


def test_setting_suppress_keeps_gitops_managed_suppressed(tmp_path):
    recs, paths, pulls, forge_reqs, branches = storm(
        tmp_path, "suppress", ["checkout", "web"])
    checkout, web = deciding(recs, "checkout"), deciding(recs, "web")
    assert (checkout["decision"], checkout["reason"]) == (
        "suppressed", "gitops-managed")
    assert "pullRequest" not in checkout and \
        "byPullRequest" not in checkout
    assert web["decision"] == "acted", web
    assert paths == [DEPLOY + "web"], paths
    assert pulls == [] and forge_reqs == [] and branches == ["main"]


def test_a_held_forge_holds_up_no_other_decision(tmp_path):
    names = ["checkout", "cart", "web"]
    with GitRemote(tmp_path / "git", "shop-deploy", FILES) as remote, \
            Forge(kind="github") as forge, Emulator() as emu:
        cluster(emu, names, remote.url)
        d = start(tmp_path, manifests(tmp_path / "m", forge, "pullRequest",
                                      poll="1s"), emu)
        try:
            # 1. opening the request: the forge holds its answer
            forge.hold("POST", r"/pulls$")
            kill_twice(emu, "checkout")
            assert wait_until(lambda: forge.held() == 1), \
                "the pull request never reached the forge"
            first = d.take(1)
            kill_twice(emu, "cart")
            during = d.take(2)
            held_during = forge.held()
            asked_during = forge.arrived()
            cart_patched = patched(emu)
            forge.release()
            opened = d.take(1, timeout=60)

            # 2. asking about its outcome: the forge holds again
            forge.hold("GET", r"/pulls/1$")
            assert wait_until(lambda: forge.held() == 1), \
                "the pull request's state was never asked"
            forge.merge(1, SHA)
            app = emu.get("argoproj.io/v1alpha1", "Application", "argocd",
                          "checkout")
            app["status"] = {"sync": {"status": "Synced", "revision": SHA}}
            emu.load(app)
            kill_twice(emu, "web")
            web = d.take(2)
            held_web = forge.held()
            asked_web = forge.arrived()
            forge.release()
            merged = run_until(d, lambda r: r["decision"] == "acted" and
                               r["target"]["name"] == "checkout")
            all_patched = patched(emu)
        finally:
            assert d.stop() == 0
        pulls = forge.pulls()
    assert brief(first) == [("checkout", "suppressed", "below-threshold")]
    # while the forge held the request: cart decided and patched live
    assert brief(during) == [("cart", "suppressed", "below-threshold"),
                             ("cart", "acted", None)], during
    # the one request still waits: nobody gave up on it and asked again
    # (a blocked engine would have, after the forge client's timeout)
    assert (held_during, asked_during) == (1, 1)
    assert cart_patched == [DEPLOY + "cart"]
    # then the request's record, once
    assert brief(opened) == [("checkout", "pending-approval", None)]
    assert opened[0]["pullRequest"]["number"] == 1
    # while the forge held the state: web decided and patched live
    assert brief(web) == [("web", "suppressed", "below-threshold"),
                          ("web", "acted", None)], web
    assert (held_web, asked_web) == (1, 2)
    # then the outcome, after the others
    assert brief(merged) == [("checkout", "acted", None)], merged
    assert merged[0]["message"] == \
        "pull request #1 merged (%s): the change is in Git" % SHA
    assert len(pulls) == 1
    assert all_patched == [DEPLOY + "cart", DEPLOY + "web"], all_patched
