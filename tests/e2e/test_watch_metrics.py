"""Watches' lists and restarts as metrics and log lines (issue 16 item 6),
through `remediate run` and the Kubernetes API emulator.

- The initial list and each relist (an ERROR 410 inside the stream) are
  counted by cause, with their pages and a duration histogram, and logged
  ("listed" / "relisted" with cause, pages, objects, ms).
- remediate_watch_restarts_total counts watches the server took again,
  not failed reconnect attempts: three watch requests answered 500 are
  remediate_watch_failures_total, and the one that works is one
  restart."""
import time

import scenario
from test_run_live import (Daemon, Emulator, cluster_objects,  # noqa: F401
                           http_get, listening_port, live_manifests)


def metrics(port):
    status, text = http_get(port, "/metrics")
    assert status == 200
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, _, v = line.rpartition(" ")
            values[series] = float(v)
    return values


def wait_metric(port, series, want, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        got = metrics(port).get(series, 0)
        if got >= want:
            return got
        time.sleep(0.2)
    return metrics(port).get(series, 0)


def lists(cause):
    return 'remediate_watch_lists_total{resource="pods",cause="%s"}' % cause


def pages(cause):
    return 'remediate_watch_list_pages_total{resource="pods",' \
        'cause="%s"}' % cause


def took(cause):
    return 'remediate_watch_list_duration_seconds_count{resource="pods",' \
        'cause="%s"}' % cause


RESTARTS = 'remediate_watch_restarts_total{resource="pods"}'
FAILURES = 'remediate_watch_failures_total{resource="pods"}'


def test_relists_and_restarts_are_counted_apart(live_manifests):
    with Emulator() as emu:
        emu.load(cluster_objects([scenario.Workload("shop", "cart")]))
        d = Daemon(live_manifests, emu.kubeconfig)
        try:
            d.wait_log("running")
            port = listening_port(d)
            assert wait_metric(port, lists("start"), 1) == 1
            m = metrics(port)
            # 160 platform pods and the workload's, at 100 a page
            assert m[pages("start")] == 2
            assert m[took("start")] == 1
            assert m.get(RESTARTS, 0) == 0
            # 410 inside the stream: a relist, then the watch again
            emu.expire_watches("/pods")
            d.wait_log("relisted")
            assert wait_metric(port, RESTARTS, 1) == 1
            m = metrics(port)
            assert m[lists("expired")] == 1 and m[took("expired")] == 1
            assert m[pages("expired")] == 2
            assert m[lists("start")] == 1
            # the next three watch requests fail: failures, one restart
            emu.fault({"type": "error", "status": 500, "count": 3,
                       "watch": True, "path": "/pods$"})
            emu.expire_watches("/pods")
            d.wait_log("watch recovered")   # the fourth request worked
            assert wait_metric(port, RESTARTS, 2) == 2
            m = metrics(port)
            assert m[lists("expired")] == 2
            assert m.get(FAILURES, 0) == 3, m
        finally:
            assert d.stop() == 0
    logged = [x for x in d.all_logs() if x.get("resource") == "pods" and
              x.get("msg") in ("listed", "relisted")]
    assert [(x["msg"], x["cause"]) for x in logged] == [
        ("listed", "start"), ("relisted", "expired"),
        ("relisted", "expired")], logged
    assert all(x["pages"] == 2 and x["objects"] > 100 and x["ms"] >= 0
               for x in logged)
