"""The leader's fence is asked before every attempt of an action, retries
included: a leader whose lease is lost while its action waits out a 429's
Retry-After stops waiting, does not send the retry, and records the
action failed, so the replica that took the Lease over is the only one
acting.  (The state lock was the only thing that kept the old leader's
retry from overlapping the new leader before: review finding 1.)

Two replicas with the short timings of test_ha.py (2s / 1.5s / 0.3s).
The 429 asks for 45 s, far longer than the fence takes to close, so no
wait below depends on how fast anything runs."""
import scenario
from test_ha import (ha_manifests, logged, replica, wait_for,  # noqa: F401
                     WORKFLOWS)
from test_run_live import cluster_objects

import os
import sys
import time
from conftest import ROOT
sys.path.insert(0, os.path.join(ROOT, "tests"))
from kubeapi.emulator import Emulator  # noqa: E402

RETRY_AFTER = 45        # s; the client waits up to 60


def workflow_posts(reqs):
    return [r.get("status") for r in reqs
            if r["method"] == "POST" and r["path"] == WORKFLOWS]


def test_a_retry_is_not_sent_after_the_fence_closed(tmp_path,
                                                    ha_manifests):  # noqa: F811,E501
    ws = [scenario.Workload("shop", "w0")]
    state = str(tmp_path / "s.db")
    with Emulator() as emu:
        emu.load(cluster_objects(ws))
        a = replica(ha_manifests, emu, state, "replica-a")
        wait_for(a, "leading")
        b = replica(ha_manifests, emu, state, "replica-b")
        try:
            for d in (a, b):
                wait_for(d, "synced")
            # the leader's Workflow create is throttled once...
            emu.fault({"type": "status429", "retryAfter": RETRY_AFTER,
                       "method": "POST", "path": "/workflows$",
                       "count": 1})
            emu.oom_kill("shop", scenario.pod_name("w0", 0))
            end = time.time() + 30
            while not workflow_posts(emu.requests()):
                assert time.time() < end, "the leader never acted"
                time.sleep(0.05)
            # ...and while it waits to retry, its renewals hang (only
            # replica-a's), so its fence closes and replica-b takes over
            emu.fault({"type": "delay", "ms": 3000, "method": "PUT",
                       "path": "/leases", "body": "replica-a",
                       "count": 0})
            wait_for(a, "stopped leading", timeout=30)
            # the wait ended with the fence: the record comes long before
            # the Retry-After would have let the retry go
            recs = a.take(1, timeout=RETRY_AFTER - 15)
            # replica-a's step-down, held by the action, is over too
            wait_for(b, "leading", timeout=RETRY_AFTER - 15)
            emu.clear_faults()
        finally:
            for d in (a, b):
                d.stop()
        reqs = emu.requests()
    assert len(recs) == 1, "no record of the action before the retry " \
        "was due: %s" % "".join(a.log_lines)
    rec = recs[0]
    assert rec["decision"] == "failed", rec
    assert "not sent: this replica stopped leading (attempt 2; attempt " \
        "1: 429 " in rec["message"], rec["message"]
    # the create was answered 429 once and never sent again, by anyone
    assert workflow_posts(reqs) == [429]
