#!/usr/bin/python3
"""Generates the replay benchmark's input: N OOM-kill watch lines over W
workloads (deterministic: the same arguments give the same bytes).

Each line is a Pod MODIFIED whose container status shows a new OOM kill;
the workloads are spread over namespaces, a tenth of them not opted in, so
every check in the pipeline runs.  Usage: gen_replay.py OUTDIR [N] [W]
"""
import datetime
import json
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
import scenario  # noqa: E402


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000000
    nw = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
    rnd = random.Random(20261125)
    os.makedirs(os.path.join(out, "cluster"), exist_ok=True)
    ws = [scenario.Workload("team-%02d" % (i % 50), "svc-%05d" % i,
                            replicas=2, deploy_optin=(i % 10 != 0),
                            pod_optin=(i % 10 != 0)) for i in range(nw)]
    objects = []
    for w in ws:
        objects += w.objects()
    scenario.write_list(os.path.join(out, "cluster", "cluster.json"),
                        objects)
    t0 = datetime.datetime(2026, 11, 25, 0, 0, 0)
    budgets = [scenario.budget_line(t0 - datetime.timedelta(minutes=1),
                                    "team-%02d" % i, 0.9) for i in range(50)]
    with open(os.path.join(out, "signals.ndjson"), "w") as f:
        for k in range(n):
            when = t0 + datetime.timedelta(milliseconds=k * 50)
            w = ws[rnd.randrange(nw)]
            f.write(json.dumps(w.oom(rnd.randrange(2), when),
                               separators=(",", ":")))
            f.write("\n")
            if k % 60000 == 0:      # a fresh budget sample every 50 minutes
                budgets += [scenario.budget_line(when, "team-%02d" % i, 0.9)
                            for i in range(50)]
    scenario.write_ndjson(os.path.join(out, "budget.ndjson"), budgets)


if __name__ == "__main__":
    main()
