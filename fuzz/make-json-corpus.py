#!/usr/bin/python3
"""Builds the util fuzzer's seed corpus (fuzz/util_fuzz.c: the fast JSON
reader against jansson's): every JSON file under tests/data/fixtures, each
with a flags byte before it, and the edge cases jansson draws.

usage: fuzz/make-json-corpus.py [OUT_DIR]
"""
import glob
import hashlib
import os
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "fuzz/corpus/util"
os.makedirs(out, exist_ok=True)
seeds = []
for i, f in enumerate(sorted(glob.glob("tests/data/fixtures/**/*.json",
                                       recursive=True))):
    if os.path.getsize(f) <= 16384:   # the big recordings add nothing
        seeds.append(bytes([i % 8]) + open(f, "rb").read())
edges = [b'[1e400]', b'[-0,0.0,1E+3]', b'["\\ud83d\\ude00"]', b'["\\ud800"]',
         b'["\\u0000"]', b'{"a":1,"a":2}', b'[9223372036854775808]',
         b'[999999999999999999]', b'[\xc0\xaf]', b'["\xed\xa0\x80"]',
         b'truex', b'  12  ', b'[1] x', b'["a\nb"]', b'[01]', b'[1.]',
         b'["\xf0\x9f\x98\x80 and plain text past eight bytes"]']
for i, e in enumerate(edges):
    seeds.append(bytes([i % 8]) + e)
for blob in seeds:
    name = hashlib.sha1(blob).hexdigest()[:16]
    with open(os.path.join(out, name), "wb") as fh:
        fh.write(blob)
print(f"{len(seeds)} seed inputs in {out}")
