"""Confirm mode through `remediate run`, against the Kubernetes API
emulator and a loopback receiver for the owner's notifications.

A pending-approval decision sends nothing to the cluster; its owner gets
a signed link.  Opening the link (GET) shows the plan and changes
nothing; approving (POST, or `remediate approve` from a shell) re-checks
the guardrails against the cluster as it is, acts once and records
`acted`; a second use is refused (410).  An approval nobody uses expires
and is recorded `expired`; a guardrail that turned false before the
approval (the opt-in label removed) stops the action; a forged signature
is refused (403)."""
import http.server
import json
import os
import shutil
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

import scenario
from conftest import (ROOT, Daemon, binary, cluster_objects, listening_port,
                      wait_until)
from test_run_live import WORKFLOWS, body

from kubeapi.emulator import Emulator  # noqa: E402  (path set by the above)


class Receiver:
    """The owner's webhook destination: keeps every JSON body POSTed."""

    def __init__(self):
        got = self.got = []

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                got.append(json.loads(self.rfile.read(n)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/hook" % self.srv.server_port
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def wait(self, pred, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            hit = [m for m in self.got if pred(m)]
            if hit:
                return hit[0]
            time.sleep(0.1)
        raise AssertionError("no matching notification: %r" % self.got)

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def confirm_manifests(tmp_path, receiver, ttl="1h"):
    """The seed in confirm mode, notifications to the receiver."""
    d = tmp_path / "manifests"
    shutil.copytree(os.path.join(ROOT, "examples", "seed", "manifests"), d)
    s = (d / "sensor.yaml").read_text()
    s = s[:s.index("        budget:")].replace("mode: auto", "mode: confirm")
    (d / "sensor.yaml").write_text(s)
    with open(d / "config.yaml", "a") as f:
        f.write("""  notifications:
    default: owner-hook
    approvalTTL: %s
    attempts: 1
    destinations:
      owner-hook:
        webhook:
          url: %s
""" % (ttl, receiver.url))
    return d


def request(port, path, method="GET", data=None, accept_json=True):
    req = urllib.request.Request(
        "http://127.0.0.1:%d%s" % (port, path), method=method,
        data=data.encode() if data is not None else None)
    if accept_json:
        req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def pending(emu, d, receiver, name):
    """Two kills of NAME: its pending-approval record and the link."""
    for _ in range(2):
        emu.oom_kill("shop", scenario.pod_name(name, 0))
    recs = d.take(2)
    assert [r["decision"] for r in recs] == [
        "suppressed", "pending-approval"], recs
    rec = recs[1]
    assert set(rec["approval"]) == {"id", "expires"}
    msg = receiver.wait(lambda m: m.get("decision", {}).get(
        "approval", {}).get("id") == rec["approval"]["id"])
    link = msg["approvalURL"]
    assert link.startswith("/approve/%s?sig=" % rec["approval"]["id"])
    # the signed link is for the owner only: not in records or logs
    sig = link.split("sig=")[1]
    assert sig not in json.dumps(rec)
    return rec, link


def workflow_posts(emu):
    return [r for r in emu.requests() if r["method"] == "POST" and
            r["path"] == WORKFLOWS]


def test_approve_by_link_acts_once(tmp_path, receiver):
    ws = [scenario.Workload("shop", "cart")]
    with Emulator() as emu:
        emu.load(cluster_objects(ws))
        d = Daemon(confirm_manifests(tmp_path, receiver), emu.kubeconfig)
        try:
            d.wait_log("synced")
            port = listening_port(d)
            emu.clear_requests()
            rec, link = pending(emu, d, receiver, "cart")
            assert workflow_posts(emu) == []
            # a preview (GET) shows the plan and approves nothing
            st, page = request(port, link, accept_json=False)
            assert st == 200 and "Approve this remediation?" in page
            assert "shop/cart" in page or "cart" in page
            st, shown = request(port, link)
            assert st == 200 and json.loads(shown)["status"] == "pending"
            assert workflow_posts(emu) == []
            path, sig = link.split("?")
            st, out = request(port, path, "POST", sig)
            assert st == 200, out
            outcome = json.loads(out)["outcome"]
            acted = d.take(1)
            # the second click is told, and nothing runs twice
            st2, again = request(port, path, "POST", sig)
            posts = workflow_posts(emu)
        finally:
            assert d.stop() == 0
    assert outcome["decision"] == "acted", outcome
    assert outcome["approval"]["id"] == rec["approval"]["id"]
    assert acted == [outcome]
    assert outcome["target"] == rec["target"]
    assert st2 == 410 and json.loads(again)["status"] == "used"
    assert json.loads(again)["outcome"]["decision"] == "acted"
    assert len(posts) == 1
    pods = [p["value"] for p in body(posts[0])["spec"]["arguments"]
            ["parameters"] if p["name"] == "pod"]
    assert pods == [scenario.pod_name("cart", 0)]


def test_an_approval_whose_record_cannot_be_stored_says_not_known(
        tmp_path, receiver):
    """A decision is shown only once stored.  The state file locked while
    the approved action runs: its record cannot be written (it is kept
    to retry), so the answer is 202 with no decision, not the record and
    not a guessed "failed"; once the file is writable the record is
    stored, shown, and the used approval tells what came of it."""
    ws = [scenario.Workload("shop", "cart")]
    with Emulator() as emu:
        emu.load(cluster_objects(ws))
        d = Daemon(confirm_manifests(tmp_path, receiver), emu.kubeconfig)
        try:
            d.wait_log("synced")
            port = listening_port(d)
            rec, link = pending(emu, d, receiver, "cart")
            # the approved action's create is held: its intent is written
            emu.fault({"type": "delay", "ms": 0, "method": "POST",
                       "path": "/workflows$", "hold": "wf", "count": 1,
                       "holdTimeout": 60})
            path, sig = link.split("?")
            answer = {}

            def approve():
                answer["st"], answer["out"] = request(port, path, "POST",
                                                      sig)
            t = threading.Thread(target=approve)
            t.start()
            assert wait_until(lambda: emu.held("wf") == 1)
            lock = sqlite3.connect(d.state, timeout=10)
            lock.execute("BEGIN EXCLUSIVE")     # nobody else may write
            emu.release("wf")
            # the outcome's write gives up (the busy wait, ~5 s); then
            # the file is writable for the approval's own row
            d.wait_log("decision records not stored (kept to retry; not "
                       "on stdout)")
            lock.rollback()
            lock.close()
            t.join(60)
            assert d.take(1, timeout=1) == []   # nothing shown unstored
            # the next write stores the kept record; a second kill makes one
            emu.oom_kill("shop", scenario.pod_name("cart", 0))
            assert [r["reason"] for r in d.take(1)] == ["cooldown"]
            st2, again = request(port, path, "POST", sig)
            posts = workflow_posts(emu)
        finally:
            assert d.stop() == 0
    assert answer["st"] == 202, answer
    outcome = json.loads(answer["out"])["outcome"]
    assert "decision" not in outcome and "not stored" in outcome["message"]
    assert len(posts) == 1
    hist = subprocess.run([binary(), "history", "--state", d.state,
                           "--json"], capture_output=True, text=True)
    assert hist.returncode == 0, hist.stderr
    acted = [r for r in map(json.loads, hist.stdout.splitlines())
             if r["decision"] == "acted"]
    assert len(acted) == 1 and acted[0]["approval"]["id"] == \
        rec["approval"]["id"], hist.stdout
    assert st2 == 410 and json.loads(again)["status"] == "used"


def test_approve_from_the_shell_and_forged_links(tmp_path, receiver):
    ws = [scenario.Workload("shop", "cart")]
    with Emulator() as emu:
        emu.load(cluster_objects(ws))
        d = Daemon(confirm_manifests(tmp_path, receiver), emu.kubeconfig)
        try:
            d.wait_log("synced")
            port = listening_port(d)
            emu.clear_requests()
            rec, link = pending(emu, d, receiver, "cart")
            aid = rec["approval"]["id"]
            forged = "/approve/%s?sig=%s" % (aid, "0" * 64)
            st_forged, _ = request(port, forged.split("?")[0], "POST",
                                   forged.split("?")[1])
            st_unknown, _ = request(port, "/approve/" + "f" * 32, "POST",
                                    "sig=" + "0" * 64)
            assert workflow_posts(emu) == []
            p = subprocess.run(
                [binary(), "approve", "--state", d.state, "--url",
                 "http://127.0.0.1:%d" % port, "--json", aid],
                capture_output=True, text=True, timeout=90)
            acted = d.take(1)
            posts = workflow_posts(emu)
            listed = subprocess.run(
                [binary(), "approve", "--list", "--all", "--state",
                 d.state, "--json"], capture_output=True, text=True,
                timeout=30)
        finally:
            assert d.stop() == 0
    assert st_forged == 403 and st_unknown == 404
    assert p.returncode == 0, p.stdout + p.stderr
    assert json.loads(p.stdout)["outcome"]["decision"] == "acted"
    assert [r["decision"] for r in acted] == ["acted"]
    assert len(posts) == 1
    assert listed.returncode == 0, listed.stderr
    assert aid in listed.stdout and "acted" in listed.stdout


def test_unused_approval_expires(tmp_path, receiver):
    ws = [scenario.Workload("shop", "cart")]
    with Emulator() as emu:
        emu.load(cluster_objects(ws))
        d = Daemon(confirm_manifests(tmp_path, receiver, ttl="2s"),
                   emu.kubeconfig)
        try:
            d.wait_log("synced")
            port = listening_port(d)
            emu.clear_requests()
            rec, link = pending(emu, d, receiver, "cart")
            expired = d.take(1, timeout=20)  # the next housekeeping tick
            path, sig = link.split("?")
            st, out = request(port, path, "POST", sig)
            posts = workflow_posts(emu)
            told = receiver.wait(lambda m: m.get("decision", {}).get(
                "decision") == "expired")
        finally:
            assert d.stop() == 0
    assert [r["decision"] for r in expired] == ["expired"], expired
    e = expired[0]
    assert e["approval"]["id"] == rec["approval"]["id"]
    assert e["target"] == rec["target"] and e["plan"] == rec["plan"]
    assert "nobody approved it" in e["message"]
    assert st == 410 and json.loads(out)["status"] == "expired"
    assert posts == []
    assert told["decision"]["approval"]["id"] == rec["approval"]["id"]


def test_guardrail_turned_false_before_approval(tmp_path, receiver):
    """The opt-in label is removed after the decision: approving
    re-checks it and does not act."""
    ws = [scenario.Workload("shop", "cart")]
    with Emulator() as emu:
        emu.load(cluster_objects(ws))
        d = Daemon(confirm_manifests(tmp_path, receiver), emu.kubeconfig)
        try:
            d.wait_log("synced")
            port = listening_port(d)
            emu.clear_requests()
            rec, link = pending(emu, d, receiver, "cart")
            unlabel = {"metadata": {"labels": {scenario.OPTIN: None}}}
            emu.change(apiVersion="apps/v1", kind="Deployment",
                       namespace="shop", name="cart", merge=unlabel)
            emu.change(apiVersion="v1", kind="Pod", namespace="shop",
                       name=scenario.pod_name("cart", 0), merge=unlabel)
            time.sleep(1)       # the watch brings the change to the view
            path, sig = link.split("?")
            st, out = request(port, path, "POST", sig)
            recs = d.take(1)
            posts = workflow_posts(emu)
        finally:
            assert d.stop() == 0
    assert st == 200, out
    outcome = json.loads(out)["outcome"]
    assert outcome["decision"] == "suppressed"
    assert outcome["reason"] == "opt-out", outcome
    assert recs == [outcome]
    assert posts == []
