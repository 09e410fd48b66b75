#!/usr/bin/python3
"""Regenerates the seed scenario's cluster snapshot and signal stream.

The storm of the article: twenty opted-in Deployments in namespace shop
each have a pod OOM-killed twice within five minutes.  The first kills are
below the threshold (2 in 5m); of the second ones, the rate limit
(2 per Minute) lets two through and suppresses eighteen.
"""
import datetime
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "scripts"))
import scenario  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
NAMES = ["cart", "checkout", "catalog", "search", "payments", "shipping",
         "recommend", "reviews", "inventory", "pricing", "auth", "profile",
         "wishlist", "coupons", "tax", "notify", "ads", "media", "gateway",
         "orders"]


def main():
    t0 = datetime.datetime(2026, 11, 25, 10, 0, 0)
    workloads = [scenario.Workload("shop", n) for n in NAMES]
    objects = [{"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns}}
               for ns in ("shop", "platform", "argo-events")]
    for w in workloads:
        objects += w.objects()
    objects += scenario.filler_pods("platform", 160)
    os.makedirs(os.path.join(HERE, "cluster"), exist_ok=True)  # noqa
    scenario.write_list(os.path.join(HERE, "cluster", "shop.json"), objects)
    lines = []
    for rnd, base in ((0, t0), (1, t0 + datetime.timedelta(minutes=1))):
        for i, w in enumerate(workloads):
            lines.append(w.oom(0, base + datetime.timedelta(seconds=i)))
    scenario.write_ndjson(os.path.join(HERE, "signals.ndjson"), lines)
    scenario.write_ndjson(os.path.join(HERE, "budget.ndjson"), [
        scenario.budget_line(t0 - datetime.timedelta(minutes=1), "shop",
                             0.82),
        scenario.budget_line(t0 + datetime.timedelta(seconds=30), "shop",
                             0.80)])


if __name__ == "__main__":
    main()
