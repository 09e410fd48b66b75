"""Confirm by pull request, end to end: `remediate run` against the
Kubernetes API emulator, a real Git remote (git daemon on loopback) that
libgit2 pushes to, and a forge stand-in (forgeserver.py).  An OOM storm on
an Argo CD-managed Deployment opens exactly one pull request carrying the
bump, edited into the manifest without disturbing the rest of the file,
and sends no live patch; a later storm updates the same request."""
import copy
import json
import os
import re
import sys
import time

import pytest

import scenario
from conftest import ROOT, Daemon, http_get, listening_port, run
from forgeserver import Forge
from gitremote import GitRemote
from test_native_actions import native_manifests

sys.path.insert(0, os.path.join(ROOT, "tests"))
from kubeapi.emulator import Emulator  # noqa: E402

DATA = os.path.join(ROOT, "tests", "data", "gitops")
# remediate/<trigger>/<namespace>-<name>-<FNV-1a of sensor, trigger, kind,
# namespace, name>: pinned, an open request is found by it after upgrades
BRANCH = "remediate/bump-memory-request/shop-checkout-f593b511"
MANIFEST = """\
# checkout: delivered by Argo CD (Application argocd/checkout)
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
  namespace: shop
  labels: {app: checkout, remediation.platform/optin: "true"}
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: app
          image: registry.example/checkout:1   # pinned
          resources:
            requests:
              memory: "256Mi"   # sized for the holiday peak
            limits:
              memory: 512Mi
---
apiVersion: v1
kind: Service
metadata: {name: checkout, namespace: shop}
spec:
  ports: [{port: 80}]
"""
FILES = {"apps/checkout/kustomization.yaml":
         "resources:\n  - deployment.yaml\n",
         "apps/checkout/deployment.yaml": MANIFEST,
         "apps/cart/deployment.yaml": MANIFEST.replace("checkout", "cart")}


def manifests(d, forge, token_env="FORGE_TOKEN"):
    m = native_manifests(d, "bumpMemory: {increment: 25%, cap: 8Gi}",
                         budget=False, mode="confirm")
    p = os.path.join(str(m), "sensor.yaml")
    pr = {"forge": forge.kind, "api": forge.api, "repo": forge.repo,
          "token": {"env": token_env}}
    s = open(p).read().replace(
        "        mode: confirm",
        "        mode: confirm\n        confirm:\n          pullRequest: " +
        json.dumps(pr))
    open(p, "w").write(s)
    return m


def argocd_objects(emu, git_url):
    dep = copy.deepcopy(emu.get("apps/v1", "Deployment", "shop", "checkout"))
    dep["metadata"].setdefault("annotations", {})[
        "argocd.argoproj.io/tracking-id"] = \
        "checkout:apps/Deployment:shop/checkout"
    dep["metadata"].pop("managedFields")
    emu.load(dep)
    with open(os.path.join(DATA, "application-selfheal.json")) as f:
        app = json.load(f)
    app["spec"]["source"] = {"repoURL": git_url, "path": "apps/checkout",
                             "targetRevision": "main"}
    emu.load(app)


def load_shop(emu, remote):
    """Namespace shop, its checkout Deployment delivered by Argo CD from
    remote, and enough pods that the blast radius lets one act."""
    objs = [{"apiVersion": "v1", "kind": "Namespace",
             "metadata": {"name": "shop"}}]
    objs += scenario.Workload("shop", "checkout").objects()
    emu.load(objs + scenario.filler_pods("shop", 60))
    argocd_objects(emu, remote.url)


def polling_manifests(tmp_path, forge, extra=""):
    """The forge's manifests, asking after pull requests every second;
    extra: more confirm.pullRequest fields ('"syncTimeout": "1h", ')."""
    m = manifests(tmp_path / "m", forge)
    p = os.path.join(str(m), "sensor.yaml")
    s = open(p).read().replace('"token": {"env"', '"pollInterval": "1s", ' +
                               extra + '"token": {"env"')
    open(p, "w").write(s)
    return m


def polling_daemon(tmp_path, emu, forge, m=None):
    """remediate run on m (default: polling_manifests'), the token in its
    environment only."""
    m = m or polling_manifests(tmp_path, forge)
    os.environ["FORGE_TOKEN"] = "s3cret"
    try:
        return Daemon(m, emu.kubeconfig, state=tmp_path / "state.db")
    finally:
        del os.environ["FORGE_TOKEN"]


def storm(tmp_path, emu, m, state, n=2):
    env = dict(os.environ, FORGE_TOKEN="s3cret")
    old = os.environ.copy()
    os.environ.update(env)
    try:
        d = Daemon(m, emu.kubeconfig, state=tmp_path / state)
    finally:
        os.environ.clear()
        os.environ.update(old)
    try:
        d.wait_log("synced")
        emu.clear_requests()
        for _ in range(n):
            emu.oom_kill("shop", scenario.pod_name("checkout", 0))
        recs = d.take(n)
        time.sleep(0.3)
        reqs = emu.requests()
    finally:
        d.stop()
    return recs, reqs, d


@pytest.mark.parametrize("kind", ["github", "gitea", "gitlab"])
def test_oom_storm_on_argocd_target_opens_one_pull_request(tmp_path, kind):
    ws = [scenario.Workload("shop", "checkout")]
    with GitRemote(tmp_path / "git", "shop-deploy", FILES) as remote, \
            Forge(kind=kind) as forge, Emulator() as emu:
        objs = [{"apiVersion": "v1", "kind": "Namespace",
                 "metadata": {"name": "shop"}}]
        for w in ws:
            objs += w.objects()
        emu.load(objs + scenario.filler_pods("shop", 60))
        argocd_objects(emu, remote.url)
        m = manifests(tmp_path / "m", forge)
        recs, reqs, d = storm(tmp_path, emu, m, "state1.db")
        dec = [r for r in recs if r.get("reason") != "below-threshold"]
        assert len(dec) == 1, recs
        r = dec[0]
        assert r["decision"] == "pending-approval", r
        assert "self-heals" in r["byPullRequest"]
        pr = r["pullRequest"]
        assert pr["opened"] is True and pr["changed"] is True
        assert pr["branch"] == BRANCH and pr["number"] == 1
        assert pr["file"] == "apps/checkout/deployment.yaml"
        # no live change at all
        assert not [q for q in reqs if q["method"] in ("PATCH", "PUT")]
        # exactly one request, with the bump in its branch
        pulls = forge.pulls()
        assert len(pulls) == 1
        head = pulls[0]["source_branch" if kind == "gitlab" else "head"]
        assert (head if kind == "gitlab" else head["ref"]) == BRANCH
        body = pulls[0]["description" if kind == "gitlab" else "body"]
        assert "### Guardrails passed" in body and "### Budget" in body
        assert "`spec.template.spec.containers[name=app].resources." \
            "requests.memory`: `320Mi`" in body
        assert remote.branches() == ["main", BRANCH]
        after = remote.show(BRANCH, "apps/checkout/deployment.yaml")
        assert after == MANIFEST.replace('"256Mi"', '"320Mi"').replace(
            "512Mi", "640Mi")
        assert remote.show(BRANCH, "apps/cart/deployment.yaml") == \
            FILES["apps/cart/deployment.yaml"]
        assert "Trigger bump-memory-request, target Deployment " \
            "shop/checkout" in remote.log(BRANCH)
        # the token reached the forge in its header, and nothing else
        assert all(q["auth"] for q in forge.requests())
        assert "s3cret" not in d.log_text() + json.dumps(recs)

        # a later storm (a fresh state: no cooldown) updates the request
        recs2, _, _ = storm(tmp_path, emu, m, "state2.db")
        r2 = [x for x in recs2 if x.get("reason") != "below-threshold"][0]
        assert r2["decision"] == "pending-approval", r2
        assert r2["pullRequest"]["opened"] is False
        assert r2["pullRequest"]["number"] == 1
        assert len(forge.pulls()) == 1
        assert len(forge.comments) == 1
        assert remote.branches() == ["main", BRANCH]


@pytest.mark.parametrize("earlier", ["squashed", "declined"])
def test_a_branch_without_an_open_request_starts_again_from_the_base(
        tmp_path, earlier):
    """The branch of a request that was merged (squashed: its commits are
    not in the base) or closed unmerged is not reused: the next request
    starts from the base as it is now, with only its own commit, instead
    of carrying the old commits (declined ones, or ones that conflict
    with their squash)."""
    with GitRemote(tmp_path / "git", "shop-deploy", FILES) as remote, \
            Forge(kind="github") as forge, Emulator() as emu:
        load_shop(emu, remote)
        m = manifests(tmp_path / "m", forge)
        recs, _, _ = storm(tmp_path, emu, m, "state1.db")
        r = [x for x in recs if x.get("reason") != "below-threshold"][0]
        assert r["pullRequest"]["number"] == 1, r
        old = remote.rev(BRANCH)
        bumped = MANIFEST.replace('"256Mi"', '"320Mi"').replace(
            "512Mi", "640Mi")
        if earlier == "squashed":
            forge.merge(1, remote.commit(
                {"apps/checkout/deployment.yaml": bumped}, "squash #1"))
            # Argo CD synced it: the next OOM bumps from 320Mi
            dep = emu.get("apps/v1", "Deployment", "shop", "checkout")
            res = dep["spec"]["template"]["spec"]["containers"][0][
                "resources"]
            res["requests"]["memory"], res["limits"]["memory"] = \
                "320Mi", "640Mi"
            dep["metadata"].pop("managedFields", None)
            emu.load(dep)
            want = bumped.replace('"320Mi"', '"400Mi"').replace(
                "640Mi", "800Mi")
        else:
            forge.close(1)
            # the base moved on meanwhile
            remote.commit({"apps/cart/deployment.yaml": "# moved\n" +
                           FILES["apps/cart/deployment.yaml"]}, "cart")
            want = bumped
        recs2, _, _ = storm(tmp_path, emu, m, "state2.db")
        r2 = [x for x in recs2 if x.get("reason") != "below-threshold"][0]
        assert r2["decision"] == "pending-approval", r2
        pr = r2["pullRequest"]
        assert pr["opened"] is True and pr["number"] == 2, pr
        assert pr["changed"] is True, pr
        # one commit on top of the base as it is now, none of the old
        assert remote.rev(BRANCH + "~1") == remote.rev("main")
        assert remote.rev(BRANCH) != old
        assert remote.show(BRANCH, "apps/checkout/deployment.yaml") == want
        assert remote.show(BRANCH, "apps/cart/deployment.yaml") == \
            remote.show("main", "apps/cart/deployment.yaml")
        assert [p["head"]["ref"] for p in forge.pulls()] == [BRANCH] * 2


def test_a_forge_failure_is_failed_with_the_reason(tmp_path):
    with GitRemote(tmp_path / "git", "shop-deploy", FILES) as remote, \
            Forge(kind="github", token="other") as forge, \
            Emulator() as emu:
        load_shop(emu, remote)
        m = manifests(tmp_path / "m", forge)
        recs, reqs, _ = storm(tmp_path, emu, m, "state.db")
    r = [x for x in recs if x.get("reason") != "below-threshold"][0]
    assert r["decision"] == "failed", r
    assert r["message"].startswith("pull request: GET ")
    assert "HTTP 401: Bad credentials" in r["message"]
    assert "s3cret" not in r["message"]
    # retried with backoff: three attempts at finding the request
    finds = [q for q in forge.requests() if q["path"].endswith("/pulls")]
    assert len(finds) == 3
    assert forge.pulls() == []
    assert not [q for q in reqs if q["method"] in ("PATCH", "PUT")]


def run_until(d, pred, timeout=60):
    """Records from d until one satisfies pred (bounded by timeout)."""
    out, end = [], time.time() + timeout
    while time.time() < end:
        got = d.take(1, timeout=1)
        out += got
        if any(pred(r) for r in got):
            return out
    raise AssertionError("no such record: %s" % out)


def asked_without_outcome(d, forge, why):
    """The daemon asks the forge about request 1 at least twice more
    (bounded) and records nothing meanwhile: no outcome yet."""
    def polls():
        return len([q for q in forge.requests() if q["method"] == "GET" and
                    re.search(r"/(pulls|merge_requests)/1$", q["path"])])
    seen, early = polls(), []
    for _ in range(600):
        early += d.take(1, timeout=0.1)
        if polls() >= seen + 2 or early:
            break
    assert early == [], why
    assert polls() >= seen + 2


@pytest.mark.parametrize("outcome", ["merged", "closed"])
def test_the_outcome_is_polled_merged_acted_closed_declined(tmp_path,
                                                            outcome):
    sha = "3f9a1c7e5b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a"
    with GitRemote(tmp_path / "git", "shop-deploy", FILES) as remote, \
            Forge(kind="github") as forge, Emulator() as emu:
        load_shop(emu, remote)
        d = polling_daemon(tmp_path, emu, forge)
        try:
            d.wait_log("synced")
            emu.clear_requests()
            for _ in range(2):
                emu.oom_kill("shop", scenario.pod_name("checkout", 0))
            recs = run_until(d, lambda r: r["decision"] ==
                             "pending-approval")
            assert recs[-1]["pullRequest"]["number"] == 1
            if outcome == "merged":
                forge.merge(1, sha)
                # Argo CD syncs the merge: only then is it acted
                app = emu.get("argoproj.io/v1alpha1", "Application",
                              "argocd", "checkout")
                app["status"] = {"sync": {"status": "Synced",
                                          "revision": sha}}
                emu.load(app)
                recs = run_until(d, lambda r: r["decision"] == "acted")
                r = recs[-1]
                assert r["message"] == ("pull request #1 merged (%s): the "
                                        "change is in Git" % sha)
                assert r["pullRequest"]["state"] == "merged"
            else:
                forge.close(1)
                recs = run_until(d, lambda r: r["decision"] == "declined")
                r = recs[-1]
                assert r["message"] == \
                    "pull request #1 closed unmerged: declined"
            assert r["target"] == {"kind": "Deployment",
                                   "namespace": "shop", "name": "checkout"}
            assert r["plan"]["action"] == "bumpMemory"
            reqs = emu.requests()
        finally:
            d.stop()
        assert not [q for q in reqs if q["method"] in ("PATCH", "PUT") and
                    "/deployments/" in q["path"]]


@pytest.mark.parametrize("kind,app", [("github", "deleted"),
                                      ("gitlab", "elsewhere"),
                                      ("gitea", "deleted")])
def test_merged_but_never_synced_expires_after_sync_timeout(tmp_path, kind,
                                                            app):
    """A merged request whose Argo CD Application is deleted, or points
    elsewhere (Synced at a revision without the merge), is waited for
    until syncTimeout after the merge (an app-of-apps may recreate it),
    then `expired`, and no longer followed.  The merge's time is the
    forge's merged_at: a restart keeps the deadline, and the forge saying
    the merge was two hours ago stands in for two hours passing."""
    sha = "3f9a1c7e5b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a"
    elsewhere = "7" * 40
    with GitRemote(tmp_path / "git", "shop-deploy", FILES) as remote, \
            Forge(kind=kind, git_dir=remote.bare) as forge, \
            Emulator() as emu:
        load_shop(emu, remote)
        m = polling_manifests(tmp_path, forge, '"syncTimeout": "1h", ')

        def daemon():
            return polling_daemon(tmp_path, emu, forge, m)
        d = daemon()
        try:
            d.wait_log("synced")
            for _ in range(2):
                emu.oom_kill("shop", scenario.pod_name("checkout", 0))
            run_until(d, lambda r: r["decision"] == "pending-approval")
            if app == "deleted":
                emu.change(apiVersion="argoproj.io/v1alpha1",
                           kind="Application", namespace="argocd",
                           name="checkout", delete=True)
            else:
                a = emu.get("argoproj.io/v1alpha1", "Application",
                            "argocd", "checkout")
                a["spec"]["source"]["repoURL"] = "https://git.example/other"
                a["status"] = {"sync": {"status": "Synced",
                                        "revision": elsewhere}}
                emu.load(a)
            forge.merge(1, sha)
            # within the hour: asked, no outcome
            asked_without_outcome(d, forge, "an outcome before the deadline")
        finally:
            d.stop()
        # the forge says the merge was two hours ago: past the deadline,
        # counted from the stored merge, not from this start
        forge.merge(1, sha, merged_at=time.time() - 2 * 3600)
        # an Application that cannot be read tells nothing: asked again,
        # not expired (the message below would say "could not be read")
        emu.fault({"type": "error", "status": 403, "reason": "Forbidden",
                   "method": "GET", "path": "/applications/checkout$",
                   "count": 2})
        d = daemon()
        try:
            d.wait_log("following pull requests")
            recs = run_until(d, lambda r: r["decision"] == "expired")
            d.wait_log("synced")
            _, metrics = http_get(listening_port(d), "/metrics")
        finally:
            d.stop()
        unread = [x for x in d.all_logs() if x.get("msg") ==
                  "cannot read a pull request's Application"]
        assert len(unread) == 2, unread
        # no longer followed: the next start has nothing to ask about
        d = daemon()
        try:
            d.wait_log("synced")
        finally:
            d.stop()
        assert "following pull requests" not in d.log_text()
    r = [x for x in recs if x["decision"] == "expired"]
    assert len(r) == 1, recs
    r = r[0]
    gone = "was not found (deleted?)" if app == "deleted" else \
        "was Synced at %s (not at or after the merge)" % elsewhere
    assert r["message"] == (
        "pull request #1 merged (%s), not synced: 1h (syncTimeout) after "
        "the merge, Application argocd/checkout %s; no longer followed" %
        (sha, gone)), r
    assert r["pullRequest"]["state"] == "merged"
    assert r["pullRequest"]["mergeCommit"] == sha
    assert r["pullRequest"]["syncTimeout"] == "1h"
    assert r["target"] == {"kind": "Deployment", "namespace": "shop",
                           "name": "checkout"}
    # counted and shown like every other outcome
    assert re.search(r'^remediate_decisions_total\{[^}]*decision="expired"'
                     r'[^}]*\} 1$', metrics, re.M), metrics
    out = run("history", "--state", str(tmp_path / "state.db"),
              "--decision", "expired", "--json")
    assert out.returncode == 0, out.stderr
    hist = [json.loads(x) for x in out.stdout.splitlines()]
    assert [h["message"] for h in hist] == [r["message"]]


@pytest.mark.parametrize("method", ["ff", "squash"])
def test_gitlab_merge_without_merge_commit_is_acted_only_once_synced(
        tmp_path, method):
    """GitLab leaves merge_commit_sha null when a merge request is merged
    by fast-forward (the head `sha` lands on the target) or squashed
    (`squash_commit_sha`): the commit Argo CD must be synced to is that
    one, and an Application still Synced at the revision before the merge
    has not applied the change yet."""
    sha = "3f9a1c7e5b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a"
    old = "9" * 40
    with GitRemote(tmp_path / "git", "shop-deploy", FILES) as remote, \
            Forge(kind="gitlab") as forge, Emulator() as emu:
        load_shop(emu, remote)
        app = emu.get("argoproj.io/v1alpha1", "Application", "argocd",
                      "checkout")
        app["status"] = {"sync": {"status": "Synced", "revision": old}}
        emu.load(app)
        d = polling_daemon(tmp_path, emu, forge)
        try:
            d.wait_log("synced")
            for _ in range(2):
                emu.oom_kill("shop", scenario.pod_name("checkout", 0))
            run_until(d, lambda r: r["decision"] == "pending-approval")
            forge.merge(1, sha, method=method)
            # asked at least twice since the merge: merged, but not
            # synced to it, is no outcome yet
            asked_without_outcome(d, forge,
                                  "an outcome before Argo CD synced it")
            app = emu.get("argoproj.io/v1alpha1", "Application", "argocd",
                          "checkout")
            app["status"] = {"sync": {"status": "Synced", "revision": sha}}
            emu.load(app)
            recs = run_until(d, lambda r: r["decision"] == "acted")
        finally:
            d.stop()
    acted = [r for r in recs if r["decision"] == "acted"]
    assert len(acted) == 1
    assert acted[0]["message"] == ("pull request #1 merged (%s): the "
                                   "change is in Git" % sha)
    assert acted[0]["pullRequest"]["mergeCommit"] == sha


@pytest.mark.parametrize("kind,shape", [("github", "later"),
                                        ("gitea", "later"),
                                        ("gitlab", "multi-source")])
def test_synced_at_a_later_commit_or_among_sources_is_acted(tmp_path, kind,
                                                           shape):
    """Argo CD synced after more was merged: its revision is a later
    commit that has the merge in its history (the forge's compare says
    so), and a multi-source Application names its revisions in
    status.sync.revisions.  Either is the change applied: acted, not
    asked about forever.  Synced at a revision before the merge is not."""
    with GitRemote(tmp_path / "git", "shop-deploy", FILES) as remote, \
            Forge(kind=kind, git_dir=remote.bare) as forge, \
            Emulator() as emu:
        load_shop(emu, remote)
        before = remote.rev("main")
        d = polling_daemon(tmp_path, emu, forge)

        def sync_at(rev):
            app = emu.get("argoproj.io/v1alpha1", "Application", "argocd",
                          "checkout")
            sync = {"status": "Synced"}
            if shape == "multi-source":
                sync["revisions"] = ["1.4.2", rev]     # a chart, the repo
            else:
                sync["revision"] = rev
            app["status"] = {"sync": sync}
            emu.load(app)
        try:
            d.wait_log("synced")
            for _ in range(2):
                emu.oom_kill("shop", scenario.pod_name("checkout", 0))
            run_until(d, lambda r: r["decision"] == "pending-approval")
            sha = remote.merge(BRANCH)
            later = remote.commit({"apps/cart/deployment.yaml": "# later\n" +
                                   FILES["apps/cart/deployment.yaml"]},
                                  "a later change")
            # synced, but before the merge: asked (bounded), no outcome
            sync_at(before)
            forge.merge(1, sha)
            asked_without_outcome(d, forge,
                                  "an outcome before Argo CD synced it")
            sync_at(later)
            recs = run_until(d, lambda r: r["decision"] == "acted")
        finally:
            d.stop()
    acted = [r for r in recs if r["decision"] == "acted"]
    assert len(acted) == 1
    assert acted[0]["message"] == ("pull request #1 merged (%s): the "
                                   "change is in Git" % sha)


PATCH = """\
# prod sizing: overrides the base
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
spec:
  template:
    spec:
      containers:
        - name: app
          resources:
            requests: {memory: 256Mi}
"""
VALUES = """\
# Helm values for checkout
image:
  tag: "1"   # pinned
resources:
  requests:
    memory: 256Mi
  limits:
    memory: 512Mi
"""


@pytest.mark.parametrize("layout", ["kustomize", "helm"])
def test_kustomize_patch_and_helm_values_are_where_it_writes(tmp_path,
                                                             layout):
    files = dict(FILES)
    if layout == "kustomize":
        files["apps/checkout/kustomization.yaml"] = (
            "resources:\n  - deployment.yaml\npatches:\n"
            "  - path: prod-memory.yaml\n")
        files["apps/checkout/prod-memory.yaml"] = PATCH
        extra = {}
    else:
        files["charts/checkout/values.yaml"] = VALUES
        c = "spec.template.spec.containers[name=app].resources."
        extra = {"values": {"file": "charts/checkout/values.yaml",
                            "paths": {c + "requests.memory":
                                      "resources.requests.memory",
                                      c + "limits.memory":
                                      "resources.limits.memory"}}}
    with GitRemote(tmp_path / "git", "shop-deploy", files) as remote, \
            Forge(kind="gitea") as forge, Emulator() as emu:
        load_shop(emu, remote)
        m = manifests(tmp_path / "m", forge)
        p = os.path.join(str(m), "sensor.yaml")
        s = open(p).read().replace('"token": {"env"', json.dumps(
            extra)[1:-1] + (", " if extra else "") + '"token": {"env"')
        open(p, "w").write(s)
        recs, _, _ = storm(tmp_path, emu, m, "state.db")
        r = [x for x in recs if x.get("reason") != "below-threshold"][0]
        assert r["decision"] == "pending-approval", r
        if layout == "kustomize":
            assert r["pullRequest"]["file"] == \
                "apps/checkout/prod-memory.yaml"
            assert remote.show(BRANCH, "apps/checkout/prod-memory.yaml") \
                == PATCH.replace(
                    "            requests: {memory: 256Mi}\n",
                    "            requests: {memory: 320Mi}\n"
                    "            limits:\n              memory: 640Mi\n")
            assert remote.show(BRANCH, "apps/checkout/deployment.yaml") \
                == MANIFEST
        else:
            assert r["pullRequest"]["file"] == "charts/checkout/values.yaml"
            assert remote.show(BRANCH, "charts/checkout/values.yaml") == \
                VALUES.replace("256Mi", "320Mi").replace("512Mi", "640Mi")
        assert len(forge.pulls()) == 1
