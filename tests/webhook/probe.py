"""Helpers for the webhook end-to-end tests and the benchmark: build and
drive tests/webhook/ingest_probe.c (the http server + webhook ingress +
a printing queue), and small raw-HTTP clients.  Standard library only."""
import json
import os
import shlex
import socket
import subprocess
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PKGS = "libcurl libmicrohttpd jansson yaml-0.1 sqlite3 libpq openssl tre"
# what ingest_probe.c calls; the modules they need come from module.mk
PROBE_USES = ["http", "webhook", "intake", "audit"]


def modules(root, uses=PROBE_USES):
    """uses and every module they depend on, by the tree's module.mk
    files (NAME_DEPS := ...): a hand-kept list went stale when audit came
    to need schedule."""
    out, todo = [], list(uses)
    while todo:
        m = todo.pop()
        if m in out:
            continue
        out.append(m)
        mk = os.path.join(root, "src", m, "module.mk")
        if os.path.exists(mk):
            with open(mk) as f:
                for line in f:
                    if line.startswith(m + "_DEPS"):
                        todo += line.split(":=", 1)[1].split()
    return sorted(out)


def build(outdir, sanitize=False, opt="-O1", root=ROOT):
    """Compiles the probe of the tree at root into outdir; returns its
    path."""
    out = os.path.join(outdir, "ingest_probe" + ("_san" if sanitize else ""))
    srcs = [os.path.join(root, "tests", "webhook", "ingest_probe.c")]
    for m in modules(root):
        d = os.path.join(root, "src", m)
        srcs += sorted(os.path.join(d, f) for f in os.listdir(d)
                       if f.endswith(".c"))
    cflags = shlex.split(subprocess.check_output(
        ["pkg-config", "--cflags", *PKGS.split()], text=True))
    libs = shlex.split(subprocess.check_output(
        ["pkg-config", "--libs", *PKGS.split()], text=True))
    cmd = ["cc", "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-D_DEFAULT_SOURCE",
           opt, "-g", "-I" + os.path.join(root, "src"), *cflags]
    if sanitize:
        cmd += ["-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                "-fno-omit-frame-pointer"]
    cmd += srcs + ["-o", out] + libs + ["-lm", "-lpthread"]
    subprocess.run(cmd, check=True, timeout=300)
    return out


class Probe:
    """A running ingest_probe; events() are the NDJSON lines it printed."""

    def __init__(self, binary, manifests, *args, env=None, preexec_fn=None):
        e = dict(os.environ)
        e.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        e.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        if env:
            e.update(env)
        self.proc = subprocess.Popen(
            [binary, "-c", str(manifests), *map(str, args)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e,
            preexec_fn=preexec_fn)
        first = self.proc.stdout.readline()
        if not first:
            raise RuntimeError("probe did not start: " +
                               self.proc.stderr.read())
        self.ports = json.loads(first)["listening"]
        self.port = self.ports[0]
        self.lines = []
        self.final = None
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.err = []
        self.errreader = threading.Thread(target=self._read_err, daemon=True)
        self.errreader.start()

    def _read(self):
        for line in self.proc.stdout:
            obj = json.loads(line)
            with self.lock:
                if "stats" in obj:
                    self.final = obj["stats"]
                else:
                    self.lines.append(obj)

    def _read_err(self):
        for line in self.proc.stderr:
            self.err.append(line)

    def events(self):
        with self.lock:
            return list(self.lines)

    def wait_events(self, n, timeout=20.0, pred=None):
        """Waits until at least n events (matching pred) were printed."""
        end = time.time() + timeout
        while time.time() < end:
            evs = [e for e in self.events() if pred is None or pred(e)]
            if len(evs) >= n:
                return evs
            time.sleep(0.05)
        return [e for e in self.events() if pred is None or pred(e)]

    def stats(self):
        return json.loads(request(self.port, "GET", "/_probe/stats")[2])

    def drain(self):
        return json.loads(request(self.port, "POST", "/_probe/drain")[2])

    def stop(self):
        """SIGTERM; returns (exit status, stderr text)."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.reader.join(timeout=5)
        self.errreader.join(timeout=5)
        return rc, "".join(self.err)


def request(port, method, path, body=b"", headers=None, host="127.0.0.1",
            source=None, timeout=10.0):
    """One HTTP/1.1 request on a fresh connection.
    Returns (status, {header: value}, body text); status -1 when the
    connection closed without an answer."""
    if isinstance(body, str):
        body = body.encode()
    h = {"Host": "x", "Connection": "close"}
    if method not in ("GET", "HEAD") or body:
        h["Content-Length"] = str(len(body))
    h.update(headers or {})
    head = "%s %s HTTP/1.1\r\n" % (method, path)
    head += "".join("%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
    s = socket.socket()
    s.settimeout(timeout)
    try:
        if source:
            s.bind((source, 0))
        s.connect((host, port))
        try:
            s.sendall(head.encode() + body)
        except (BrokenPipeError, ConnectionResetError):
            # the server refused the body early (413) and closed while we
            # were still sending: its answer may be waiting to be read
            pass
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    return parse_response(data)


def parse_response(data):
    if not data.startswith(b"HTTP/1.1 "):
        return -1, {}, ""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return status, hdrs, body.decode("utf-8", "replace")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


EVENTSOURCE = """apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata: {name: %(name)s, namespace: argo-events}
spec:
  webhook:
%(hooks)s"""


def eventsource(path, name, hooks):
    """Writes an EventSource whose webhook map is hooks (YAML text)."""
    hooks = "".join("    " + line + "\n" for line in hooks.splitlines())
    with open(path, "w") as f:
        f.write(EVENTSOURCE % {"name": name, "hooks": hooks})
