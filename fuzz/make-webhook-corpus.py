#!/usr/bin/python3
"""Builds the webhook fuzzer's seed corpus (see fuzz/webhook_fuzz.c for the
selector byte): the Alertmanager and Prometheus fixtures, forms, queries,
cron schedules and a few TZif files.

usage: fuzz/make-webhook-corpus.py [FIXTURES_DIR] [OUT_DIR]
"""
import glob
import hashlib
import json
import os
import sys

fixtures = sys.argv[1] if len(sys.argv) > 1 else "tests/data/fixtures"
out = sys.argv[2] if len(sys.argv) > 2 else "fuzz/corpus/webhook"
os.makedirs(out, exist_ok=True)
seeds = []


def add(sel, data):
    if isinstance(data, str):
        data = data.encode()
    seeds.append(bytes([sel]) + data)


for f in sorted(glob.glob(os.path.join(fixtures,
                                       "alertmanager-webhook-*.json"))):
    text = open(f, "rb").read()
    add(0, text)
    add(7, text)
    p = json.loads(text)
    for a in p["alerts"]:
        a.pop("fingerprint", None)
    p["alerts"] = p["alerts"] * 3
    add(0, json.dumps(p))
    p["alerts"][1]["status"] = "pending"
    add(0, json.dumps(p))
for statuses, name in ((0, "budget-remaining"), (0, "empty-vector"),
                       (0, "nan-warning"), (0, "scalar"),
                       (1, "error-bad-data"), (2, "error-timeout")):
    text = open(os.path.join(fixtures,
                             "prometheus-query-%s.json" % name), "rb").read()
    add(4 | statuses << 3, text)
add(4, '{"status":"success","data":{"resultType":"matrix","result":[]}}')
add(4 | 2 << 3, "<html>Bad Gateway</html>")
add(0, '{"pod": "p", "n": [1, 2.5, null, true], "s": "\\u00e9"}')
add(0, "")
add(0, '{"a":')
add(1, "a=1&b=x+y%21&a=2&flag&k=%C3%A9")
add(1, '{"json": "labelled as a form"}')
add(2, "pod=a&pod=b&ns=shop&empty=&=v")
add(3, "content-type")
add(3, "42")
for c in ("*/5 * * * *", "0 9 * * MON-FRI", "30 2 29 2 *",
          "15,45 */6 * JAN,jul *", "0 0 1,15 * 5", "@hourly", "@every 90s",
          "0 0 30 2 *", "5/20 * * * 1-7", "? * * * *"):
    add(5, c)
for z in ("Europe/Paris", "America/New_York", "Australia/Lord_Howe",
          "Asia/Kolkata", "UTC"):
    path = os.path.join("/usr/share/zoneinfo", z)
    if os.path.exists(path):
        add(6, open(path, "rb").read())
for blob in seeds:
    name = hashlib.sha1(blob).hexdigest()[:16]
    with open(os.path.join(out, name), "wb") as fh:
        fh.write(blob)
print("%d seed inputs in %s" % (len(seeds), out))
