"""replay reads its cluster snapshot streamed, in every shape it takes.

A snapshot of a real cluster is hundreds of MB of JSON, so replay reads a
JSON file item by item and a YAML file document by document, never the
whole snapshot as one tree (docs/replay.md, Input).  Whatever the shape
(a List, `kubectl get -o json` with its keys sorted, the API's typed
*Lists whose items carry no kind, NDJSON, YAML documents, a YAML List),
the same snapshot gives the same records; bad text is an error that names
its place, and the problems after it still show.
"""
import datetime
import json
import os
import subprocess

import pytest

import scenario
from conftest import binary, cluster_objects, records, run, unsanitized

T0 = datetime.datetime(2026, 11, 25, 10, 0, 0)


def at(minutes):
    return T0 + datetime.timedelta(minutes=minutes)


def storm():
    """Workloads, and kills that reach every kind of decision."""
    ws = [scenario.Workload("shop", "cart"),
          scenario.Workload("shop", "pay", deploy_optin=False,
                            pod_optin=False),
          scenario.Workload("shop", "web", replicas=3)]
    lines = []
    for m in range(8):
        w = ws[m % 3]
        lines.append(w.oom(m % w.replicas, at(m)))
    return ws, lines


def replay(tmp_path, seed_manifests, fmt):
    ws, lines = storm()
    d = tmp_path / fmt
    d.mkdir()
    scenario.write_snapshot(str(d / "cluster"), cluster_objects(ws), fmt)
    scenario.write_ndjson(str(d / "signals.ndjson"), lines)
    scenario.write_ndjson(str(d / "budget.ndjson"), [
        scenario.budget_line(at(m), "shop", 0.9) for m in range(-1, 10, 2)])
    p = run("replay", "-c", str(seed_manifests), "--cluster",
            str(d / "cluster"), "--prometheus-recording",
            str(d / "budget.ndjson"), str(d / "signals.ndjson"), check=0)
    return records(p.stdout)


def test_every_shape_gives_the_same_records(tmp_path, seed_manifests):
    want = replay(tmp_path, seed_manifests, "list")
    kinds = [r["decision"] for r in want]
    # the storm reaches the pipeline's ends: a snapshot that lost its
    # workloads would act on Pods or not at all
    assert "acted" in kinds and "suppressed" in kinds, kinds
    assert {r["target"]["kind"] for r in want if r["decision"] ==
            "acted"} == {"Deployment"}
    for fmt in scenario.SNAPSHOT_FORMATS[1:]:
        assert replay(tmp_path, seed_manifests, fmt) == want, fmt


def snapshot_run(tmp_path, seed_manifests, files):
    d = tmp_path / "cluster"
    d.mkdir()
    for name, text in files.items():
        (d / name).write_text(text)
    sig = tmp_path / "signals.ndjson"
    sig.write_text("")
    return run("replay", "-c", str(seed_manifests), "--cluster", str(d),
               str(sig))


def pods(n, start=0):
    return [{"metadata": {"name": "p%d" % i, "namespace": "shop"}}
            for i in range(start, start + n)]


def test_bad_text_names_its_place_and_the_next_file_still_loads(
        tmp_path, seed_manifests):
    # a PodList broken on its 6th line (jansson's column: just past the
    # bad token), then a file with a nameless Pod: both show in one run
    bad = "\n".join(["{", '"kind": "PodList", "apiVersion": "v1",',
                     '"items": ['] + [json.dumps(p) + "," for p in pods(2)]
                    + ['{"metadata": {"name": x}}', "]}"])
    p = snapshot_run(tmp_path, seed_manifests, {
        "a.json": bad,
        "b.json": '{"kind": "Pod", "metadata": {"name": "ok"}}\n'
                  '{"kind": "Pod", "metadata": {}}\n'})
    assert p.returncode == 1, p.stderr
    assert "a.json:6:24: error: invalid token near 'x'" in p.stderr, p.stderr
    assert "b.json:2:1: error: object has no kind or metadata.name" in \
        p.stderr, p.stderr


@pytest.mark.parametrize("cut", [1, 10, 40, 41, 80, 120, -2, -1])
def test_truncated_snapshot_is_an_error_not_a_crash(tmp_path, seed_manifests,
                                                    cut):
    text = json.dumps({"apiVersion": "v1", "items": pods(3),
                       "kind": "PodList"}, indent=1)
    p = snapshot_run(tmp_path, seed_manifests,
                     {"cluster.json": text[:cut]})
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "cluster.json:" in p.stderr and ": error: " in p.stderr, p.stderr


def test_bad_items_each_named(tmp_path, seed_manifests):
    # an item that is no object, one without a name: each its own
    # error at its own line; the good items between them load
    items = ['{"metadata": {"name": "a"}}', '5',
             '{"metadata": {"name": "b"}}', '{"metadata": {}}', 'null']
    text = ('{"kind": "PodList", "apiVersion": "v1", "items": [\n' +
            ",\n".join(items) + "\n]}\n")
    p = snapshot_run(tmp_path, seed_manifests, {"cluster.json": text})
    assert p.returncode == 1
    assert "cluster.json:3:1: error: expected an object" in p.stderr, \
        p.stderr
    assert "cluster.json:5:1: error: object has no kind or metadata.name" \
        in p.stderr, p.stderr
    assert "cluster.json:6:1: error: expected an object" in p.stderr, \
        p.stderr


def test_items_null_and_empty_lists_load(tmp_path, seed_manifests):
    p = snapshot_run(tmp_path, seed_manifests, {
        "a.json": '{"kind": "PodList", "apiVersion": "v1", "items": null}',
        "b.json": '{"apiVersion": "v1", "items": [], "kind": "List"}',
        "c.json": "\n"})
    assert p.returncode == 0, p.stderr


def peak_rss(args):
    """The peak RSS of the binary run with args, in bytes, as GNU time
    measures it: its own child's, not this process's (a child forked
    from pytest carries pytest's peak in its ru_maxrss)."""
    p = subprocess.run(["/usr/bin/time", "-f", "%M", binary()] + args,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return int(p.stderr.strip().splitlines()[-1]) * 1024


@pytest.mark.skipif(not os.path.exists("/usr/bin/time"),
                    reason="GNU time (scripts/install-deps --test) missing")
@unsanitized("peak RSS measures the sanitizer's allocator: +205 MB "
             "over an empty snapshot under ASan (+28 MB without its "
             "quarantine), +363 MB under TSan")
def test_a_large_snapshot_is_never_held_whole(tmp_path, seed_manifests):
    # 20,000 Pods with a 4 KB annotation the view does not keep: 80 MB
    # of JSON, which read whole would cost its text and a tree about ten
    # times that.  Streamed, it costs replay the view's records and a
    # few MB of the file's pages behind the scan: well under a quarter
    # of the file more than an empty snapshot.
    big, empty = tmp_path / "big", tmp_path / "empty"
    big.mkdir()
    empty.mkdir()
    (empty / "pods.json").write_text(
        '{"apiVersion": "v1", "items": [], "kind": "List"}\n')
    note = "x" * 4000
    with open(big / "pods.json", "w") as f:
        f.write('{"apiVersion": "v1", "items": [\n')
        for i in range(20000):
            f.write(("," if i else "") + json.dumps({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "p%05d" % i, "namespace": "shop",
                             "annotations": {"note": note}},
                "status": {"phase": "Running"}}) + "\n")
        f.write('], "kind": "List"}\n')
    size = (big / "pods.json").stat().st_size
    assert size > 80_000_000
    sig = tmp_path / "signals.ndjson"
    sig.write_text("")
    rss = [peak_rss(["replay", "-c", str(seed_manifests), "--cluster",
                     str(d), str(sig)]) for d in (empty, big)]
    assert rss[1] - rss[0] < size / 4, (rss, size)
