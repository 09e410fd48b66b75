"""An action whose outcome nobody knows pages once, durably (issue 17).

A stop while an action waits on the API server leaves its intent in the
state file ("acted, outcome unknown").  The next start logs it at error
and pages "outcome-unknown" through the pager's outbox: with the
receiver down, the page stays in the state file and the start after
that delivers it, without logging or paging the intent again; a third
start pages nothing.  Runs `remediate run` against the Kubernetes API
emulator and a stand-in page webhook."""
import json
import subprocess

import scenario
from conftest import binary, free_port, wait_until
from test_alertmanager_pages import Hook
from test_alertmanager_pages import webhook  # noqa: F401
from test_run_actions import HOLD, hold_cart_action
from test_run_live import (Daemon, Emulator,  # noqa: F401
                           cluster_objects, live_manifests)

UNKNOWN = "an action's outcome is unknown: the process stopped while it " \
          "ran; look at the target"


def leave_an_intent(emu, manifests):
    """Stops the daemon while its one action is held by the server."""
    d = Daemon(manifests, emu.kubeconfig)
    try:
        d.wait_log("synced")
        hold_cart_action(emu)
    finally:
        assert d.stop() == 0
        emu.release(HOLD)
        emu.clear_faults()
    return d.state


def start_and_stop(emu, manifests, state, page_url, until=None):
    d = Daemon(manifests, emu.kubeconfig, ["--page-webhook", page_url],
               state=state)
    try:
        d.wait_log("running")
        if until:
            assert wait_until(until, timeout=15, step=0.2)
    finally:
        assert d.stop() == 0
    return [x for x in d.all_logs() if x.get("msg") == UNKNOWN]


def history(state):
    h = subprocess.run([binary(), "history", "--state", state, "--json"],
                       capture_output=True, text=True, timeout=30)
    assert h.returncode == 0, h.stderr
    return [json.loads(x) for x in h.stdout.splitlines() if x.strip()]


def test_unknown_outcome_pages_once_through_the_outbox(live_manifests,
                                                        webhook):  # noqa
    with Emulator() as emu:
        emu.load(cluster_objects([scenario.Workload("shop", "cart")]))
        state = leave_an_intent(emu, live_manifests)
        # receiver down: logged at error, paged into the outbox only
        down = "http://127.0.0.1:%d/pages" % free_port()
        logged = start_and_stop(emu, live_manifests, state, down)
        assert len(logged) == 1, logged
        assert logged[0]["level"] == "error"
        assert logged[0]["record"]["decision"] == "acted"
        assert logged[0]["record"]["outcome"] == "unknown"
        assert Hook.bodies == []
        # receiver up: the page kept in the file goes out; not logged again
        logged = start_and_stop(emu, live_manifests, state, webhook,
                                until=lambda: Hook.bodies)
        assert logged == []
        got = [b for _, b in Hook.bodies]
        # a third start: nothing left to report or send
        logged = start_and_stop(emu, live_manifests, state, webhook)
        assert logged == []
    assert len(got) == 1, got
    alert = got[0]["alerts"][0]
    assert alert["labels"]["reason"] == "outcome-unknown"
    assert alert["labels"]["severity"] == "critical"
    assert alert["labels"]["target"] == "Deployment/shop/cart"
    assert "outcome unknown" in alert["annotations"]["description"]
    assert [b for _, b in Hook.bodies] == got
    acted = [r for r in history(state) if r["decision"] == "acted"]
    assert len(acted) == 1 and acted[0]["outcome"] == "unknown", acted
