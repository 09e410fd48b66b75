"""Shared helpers for the end-to-end tests: where the binary is, how to
build replay scenarios with scripts/scenario.py, and what the tests of
`remediate run` share: the daemon in the background (Daemon), its port and
endpoints, a free loopback port, posting a webhook, waiting for a
condition, the cluster the seed's workloads live in."""
import json
import os
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from kubeapi.emulator import Emulator  # noqa: E402,F401
import scenario  # noqa: E402
# Test data lives in the tree (tests/data/README.md says where it came from)
FIXTURES = os.path.join(ROOT, "tests", "data", "fixtures")


# make e2e-san: the binary is built with ASan+UBSan and ASAN_OPTIONS /
# UBSAN_OPTIONS carry log_path=$REMEDIATE_SAN_LOGS/...  A report from a
# daemon whose stderr a test swallows, or which a test kills, lands there;
# the test that was running when it appeared fails with the report.
SAN_LOGS = os.environ.get("REMEDIATE_SAN_LOGS")


def unsanitized(why):
    """Marks a test the sanitized binary cannot take part in (one that
    measures or limits its memory, which a sanitizer's shadow memory and
    allocator make meaningless, or runs it where the sanitizer cannot
    start): skipped under make e2e-san / e2e-tsan, run everywhere else."""
    return pytest.mark.skipif(bool(SAN_LOGS), reason="sanitized: " + why)


@pytest.fixture(autouse=True)
def sanitizer_reports():
    if not SAN_LOGS:
        yield
        return
    os.makedirs(SAN_LOGS, exist_ok=True)
    before = set(os.listdir(SAN_LOGS))
    yield
    new = sorted(set(os.listdir(SAN_LOGS)) - before)
    if new:
        text = ""
        for name in new:
            with open(os.path.join(SAN_LOGS, name), errors="replace") as f:
                text += "== %s\n%s" % (name, f.read())
        pytest.fail("sanitizer report(s) in %s:\n%s" % (SAN_LOGS, text),
                    pytrace=False)


def fixture_path(name):
    return os.path.join(FIXTURES, name)


def fixture(name):
    """A fixture under tests/data/fixtures, parsed as JSON."""
    with open(fixture_path(name)) as f:
        return json.load(f)


def binary():
    return os.environ.get("REMEDIATE", os.path.join(ROOT, "build",
                                                    "remediate"))


def run(*args, stdin=None, check=None):
    """Runs the binary; returns the CompletedProcess (text mode)."""
    p = subprocess.run([binary()] + list(args), input=stdin,
                       capture_output=True, text=True, timeout=120)
    if check is not None:
        assert p.returncode == check, (p.returncode, p.stdout, p.stderr)
    return p


def records(stdout):
    return [json.loads(line) for line in stdout.splitlines() if line]


@pytest.fixture
def seed_manifests(tmp_path):
    """A copy of examples/seed/manifests the test may edit."""
    d = tmp_path / "manifests"
    shutil.copytree(os.path.join(ROOT, "examples", "seed", "manifests"), d)
    return d


def free_port():
    """A loopback port nobody listens on (at the moment of asking)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout=30, step=0.05):
    """pred()'s first true value within timeout seconds, else its last."""
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def stop_process(p, timeout=10):
    """SIGTERM, then SIGKILL after timeout seconds; the exit status."""
    p.terminate()
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    return p.returncode


def post(port, path, body, headers=None, timeout=10):
    """POSTs body (bytes, or JSON) to 127.0.0.1:port; (status, text), or
    ("closed", "") when the server closed before answering."""
    req = urllib.request.Request(
        "http://127.0.0.1:%d%s" % (port, path),
        data=body if isinstance(body, bytes) else json.dumps(body).encode(),
        headers=dict({"Content-Type": "application/json"}, **(headers or {})),
        method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (urllib.error.URLError, ConnectionError):
        # refused before the body was read: the server closed on us
        return "closed", ""


def http_get(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                    timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class Daemon:
    """remediate run in the background; stdout records, stderr logs."""

    def __init__(self, manifests, kubeconfig, extra=(), state=None):
        self.state = str(state or os.path.join(os.path.dirname(
            str(manifests)), "state.db"))
        self.p = subprocess.Popen(
            [binary(), "run", "-c", str(manifests), "--kubeconfig",
             kubeconfig, "--listen", "127.0.0.1:0", "--state",
             self.state] + list(extra),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.records, self.logs = queue.Queue(), queue.Queue()
        self.pumps = []
        for stream, q in ((self.p.stdout, self.records),
                          (self.p.stderr, self.logs)):
            t = threading.Thread(target=self._pump, args=(stream, q),
                                 daemon=True)
            t.start()
            self.pumps.append(t)
        self.log_lines = []

    @staticmethod
    def _pump(stream, q):
        for line in stream:
            q.put(line)

    def wait_log(self, msg, timeout=30):
        end = time.time() + timeout
        while time.time() < end:
            try:
                line = self.logs.get(timeout=0.2)
            except queue.Empty:
                assert self.p.poll() is None, "daemon exited: %s" % \
                    "".join(self.log_lines)
                continue
            self.log_lines.append(line)
            try:
                if json.loads(line).get("msg") == msg:
                    return
            except ValueError:
                pass
        raise AssertionError("no %r log in %ss: %s" % (
            msg, timeout, "".join(self.log_lines)))

    def take(self, n, timeout=30):
        out, end = [], time.time() + timeout
        while len(out) < n and time.time() < end:
            try:
                line = self.records.get(timeout=0.2)
            except queue.Empty:
                continue
            # a line with no end was cut by kill -9 inside the write of a
            # record longer than the pipe takes at once: never printed
            if line.endswith("\n"):
                out.append(json.loads(line))
        return out

    def log_text(self):
        """All of stderr, once the process has exited and been read."""
        for t in self.pumps:
            t.join(10)
        while not self.logs.empty():
            self.log_lines.append(self.logs.get())
        return "".join(self.log_lines)

    def all_logs(self):
        """Every log line, parsed, once the process has exited."""
        self.log_text()
        return [json.loads(x) for x in self.log_lines]

    def kill(self):
        """kill -9: no chance to flush or close anything."""
        self.p.kill()
        self.p.wait()

    def stop(self):
        return stop_process(self.p)


def listening_port(d):
    """The port a Daemon's listening log names (wait for "synced" first)."""
    for line in d.log_lines:
        try:
            rec = json.loads(line)
        except ValueError:      # a manifest warning, as check prints it
            continue
        if rec.get("msg") == "listening":
            return rec["port"]
    raise AssertionError("no listening log")


def check_metrics(text, want):
    """promtool accepts the exposition; the series have the values."""
    if shutil.which("promtool"):
        p = subprocess.run(["promtool", "check", "metrics"], input=text,
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stdout + p.stderr
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, _, v = line.rpartition(" ")
            values[series] = float(v)
    for series, v in want.items():
        assert values.get(series) == v, (series, values.get(series))


def cluster_objects(workloads):
    """The seed's namespaces, the workloads' objects, 160 platform pods."""
    objs = [{"apiVersion": "v1", "kind": "Namespace",
             "metadata": {"name": ns}}
            for ns in ("shop", "platform", "argo-events")]
    for w in workloads:
        objs += w.objects()
    return objs + scenario.filler_pods("platform", 160)
