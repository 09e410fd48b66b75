#!/usr/bin/python3
"""Builds the jp fuzzer's seed corpus: every compliance case and every
Kyverno case as one file, "EXPRESSION\\0GIVEN-JSON".

usage: fuzz/make-corpus.py [COMPLIANCE_DIR] [OUT_DIR]
"""
import glob
import hashlib
import json
import os
import sys

src = sys.argv[1] if len(sys.argv) > 1 else "tests/data/jmespath-compliance"
out = sys.argv[2] if len(sys.argv) > 2 else "fuzz/corpus/jp"
os.makedirs(out, exist_ok=True)
files = sorted(glob.glob(os.path.join(src, "*.json")))
files.append("tests/jp/kyverno.json")
n = 0
for f in files:
    if f.endswith("schema.json"):
        continue
    for suite in json.load(open(f)):
        given = json.dumps(suite.get("given"), separators=(",", ":"))
        for case in suite["cases"]:
            blob = case["expression"].encode() + b"\0" + given.encode()
            name = hashlib.sha1(blob).hexdigest()[:16]
            with open(os.path.join(out, name), "wb") as fh:
                fh.write(blob)
            n += 1
print(f"{n} seed inputs in {out}")
