"""Hostile input to the binary: bounded memory, clear errors at the place.

Each test drives build/remediate the way an attacker or a bad day would
and checks that the damage stays bounded and is reported.
"""
import os
import resource
import subprocess
import threading

from conftest import ROOT, binary, records, unsanitized

SEED = os.path.join(ROOT, "examples", "seed")


def limit_memory(mib):
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (mib << 20, mib << 20))
    return apply


@unsanitized("a sanitizer maps terabytes of shadow memory at start, "
             "which no RLIMIT_AS lets it do")
def test_replay_streams_a_huge_line_in_bounded_memory():
    """A 384 MiB signal line under a 160 MiB address-space limit: it is
    skipped with an error naming its line, and the lines around it are
    still decided.  Reading the whole line first (getline) runs out of
    memory and silently ends the replay at that line."""
    with open(os.path.join(SEED, "signals.ndjson"), "rb") as f:
        lines = f.read().splitlines(keepends=True)
    p = subprocess.Popen(
        [binary(), "replay", "-c", os.path.join(SEED, "manifests"),
         "--cluster", os.path.join(SEED, "cluster"),
         "--prometheus-recording", os.path.join(SEED, "budget.ndjson"), "-"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=limit_memory(160))
    got = {}

    def drain(name, stream):
        got[name] = stream.read()

    readers = [threading.Thread(target=drain, args=(n, s))
               for n, s in (("out", p.stdout), ("err", p.stderr))]
    for t in readers:
        t.start()
    chunk = b"x" * (1 << 20)
    try:
        p.stdin.write(lines[0])
        p.stdin.write(b'{"time": "')
        for _ in range(384):
            p.stdin.write(chunk)
        p.stdin.write(b'"}\n')
        for line in lines[1:]:
            p.stdin.write(line)
        p.stdin.close()
    except BrokenPipeError:
        pass
    p.wait(timeout=120)
    for t in readers:
        t.join()
    out, err = got["out"], got["err"]
    err = err.decode()
    assert "<stdin>:2: error: line longer than 16777216 bytes" in err, err
    assert "1 bad line skipped" in err, err
    recs = records(out.decode())
    # the seed's storm, all of it: the lines after the long one count too
    assert len(recs) == 40, (len(recs), err)
