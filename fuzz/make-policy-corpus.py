#!/usr/bin/python3
"""Builds the policy fuzzer's seed corpus from tests/policy/admit: each
policy document with each object of its file's cases, one file each,
"POLICY-YAML\\0OBJECT-JSON".

usage: fuzz/make-policy-corpus.py [OUT_DIR]
"""
import glob
import hashlib
import json
import os
import sys

import yaml

out = sys.argv[1] if len(sys.argv) > 1 else "fuzz/corpus/policy"
os.makedirs(out, exist_ok=True)
n = 0
for f in sorted(glob.glob("tests/policy/admit/*.yaml")):
    docs = list(yaml.safe_load_all(open(f)))
    policies = [d for d in docs if d and d.get("kind") != "PolicyTest"]
    objects = [c.get("object") for d in docs
               if d and d.get("kind") == "PolicyTest"
               for c in d.get("cases", [])]
    for p in policies:
        text = yaml.safe_dump(p, sort_keys=False).encode()
        for o in objects[:4]:
            blob = text + b"\0" + json.dumps(o).encode()
            name = hashlib.sha1(blob).hexdigest()[:16]
            with open(os.path.join(out, name), "wb") as fh:
                fh.write(blob)
            n += 1
print(f"{n} seed inputs in {out}")
