"""Helpers for the tests that talk to the Kubernetes API emulator
(tests/kubeapi): building tests/kube/kube_probe.c, objects to load, and a
reader for a long-running probe's output."""
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests"))

from kubeapi.emulator import Emulator  # noqa: E402,F401

PKGS = ["libcurl", "jansson", "yaml-0.1", "openssl", "tre"]  # tre: util/re2.c
WARN = ["-Wall", "-Wextra", "-Werror", "-Wshadow", "-Wstrict-prototypes",
        "-Wmissing-prototypes", "-Wpointer-arith", "-Wcast-qual",
        "-Wwrite-strings", "-Wundef", "-Wformat=2"]


def build_probe(outdir, source="tests/kube/kube_probe.c", name="kube_probe",
                extra=(), modules=("kube", "guard", "util", "conf"),
                pkgs=PKGS):
    """Compiles a test program (source: relative to the tree, or absolute)
    against the sources of modules, with pkgs' flags (one cc line, no
    Makefile); returns its path."""
    cc = os.environ.get("CC", "cc")
    flags = subprocess.run(["pkg-config", "--cflags"] + list(pkgs),
                           capture_output=True, text=True,
                           check=True).stdout.split()
    libs = subprocess.run(["pkg-config", "--libs"] + list(pkgs),
                          capture_output=True, text=True,
                          check=True).stdout.split()
    srcs = [os.path.join(ROOT, source)]
    for mod in modules:
        d = os.path.join(ROOT, "src", mod)
        srcs += sorted(os.path.join(d, f) for f in os.listdir(d)
                       if f.endswith(".c"))
    out = os.path.join(str(outdir), name)
    if os.environ.get("KUBE_PROBE_SAN"):     # ASan + UBSan build
        extra = list(extra) + ["-fsanitize=address,undefined",
                               "-fno-sanitize-recover=all",
                               "-fno-omit-frame-pointer"]
    cmd = ([cc, "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-D_DEFAULT_SOURCE",
            "-O2", "-g"] + WARN + ["-I" + os.path.join(ROOT, "src")] +
           flags + list(extra) + ["-o", out] + srcs + libs +
           ["-lm", "-lpthread"])
    subprocess.run(cmd, check=True)
    return out


def pod(name, ns="shop", labels=None, owner=None, containers=None,
        node=None):
    p = {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": name, "namespace": ns,
                      "labels": labels or {}},
         "spec": {"containers": containers or [
             {"name": "app", "image": "example/app:1",
              "resources": {"requests": {"memory": "256Mi"},
                            "limits": {"memory": "512Mi"}}}]}}
    if owner:
        p["metadata"]["ownerReferences"] = [owner]
    if node:
        p["spec"]["nodeName"] = node
    return p


class Lines:
    """A subprocess whose stdout lines (JSON) are collected by a thread."""

    def __init__(self, argv, env=None):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     env=env)
        self.q = queue.Queue()
        self.lines = []
        self.err = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.q.put(json.loads(line))

    def _read_err(self):
        for line in self.proc.stderr:
            self.err.append(line.rstrip("\n"))

    def drain(self):
        while True:
            try:
                self.lines.append(self.q.get_nowait())
            except queue.Empty:
                return self.lines

    def wait_for(self, pred, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.drain()
            if pred(self.lines):
                return self.lines
            time.sleep(0.05)
        raise AssertionError("timed out; lines: %r; stderr: %r" %
                             (self.lines[-20:], self.err[-10:]))

    def send(self, text):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def status(self, timeout=10):
        n = len([x for x in self.drain() if "status" in x])
        self.send("status")
        lines = self.wait_for(
            lambda ls: len([x for x in ls if "status" in x]) > n, timeout)
        return [x for x in lines if "status" in x][-1]["status"]

    def close(self, timeout=15):
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        rc = self.proc.wait(timeout)
        self.drain()
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def have_cc():
    return shutil.which(os.environ.get("CC", "cc")) is not None
