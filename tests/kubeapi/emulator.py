#!/usr/bin/python3
"""Kubernetes API emulator for the project's tests (kube-apiserver 1.28).

Run:
    /usr/bin/python3 tests/kubeapi/emulator.py --port 0 --state-file F \
        [--http] [--load DIR] [--token T] [--seed N] [--verbose]

It listens on 127.0.0.1 (HTTPS with a throwaway CA made by the openssl
CLI, or plain HTTP with --http), then writes F (JSON: url, port, scheme,
caFile, token, clientCert, clientKey, kubeconfig, pid, adminUrl) and a
kubeconfig beside it. SIGTERM/SIGINT stop it and remove the temp dir.

In-process use from a test:

    from kubeapi.emulator import Emulator
    with Emulator(http=True) as emu:
        emu.load([...objects...])
        emu.fault({"type": "error", "status": 500, "path": "/pods"})
        ...  # point the client at emu.url with emu.token / emu.ca_file
        emu.requests()     # what the client sent

See docs/testing-kubeapi.md for the whole API.
"""

import os
import sys

if __package__ in (None, ""):
    # Run as a script: this directory holds modules (selectors.py) that
    # would shadow the standard library's; import the package from above.
    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path = [p for p in sys.path
                if os.path.abspath(p or ".") != _here]
    sys.path.insert(0, os.path.dirname(_here))

import argparse         # noqa: E402
import json             # noqa: E402
import shutil           # noqa: E402
import signal           # noqa: E402
import subprocess       # noqa: E402
import tempfile         # noqa: E402
import threading        # noqa: E402
import time             # noqa: E402

from kubeapi import api as api_mod          # noqa: E402
from kubeapi import server as server_mod    # noqa: E402

ADMIN_USER = {"user": "admin", "groups": ["system:masters"]}


def make_certs(tmpdir):
    """Create ca.crt, server.crt/key and client.crt/key with openssl."""
    def run(*args):
        subprocess.run(["openssl"] + list(args), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       cwd=tmpdir)
    p = lambda n: os.path.join(tmpdir, n)        # noqa: E731
    run("req", "-x509", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key",
        "-out", "ca.crt", "-days", "2", "-subj", "/CN=kubeapi-emulator-ca",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    with open(p("server.ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost,"
                "DNS:kubernetes,DNS:kubernetes.default,"
                "DNS:kubernetes.default.svc,"
                "DNS:kubernetes.default.svc.cluster.local\n")
    with open(p("client.ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=clientAuth\n")
    for who, subj in (("server", "/CN=kube-apiserver"),
                      ("client", "/O=system:masters/CN=emulator-admin")):
        run("req", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
            who + ".key", "-out", who + ".csr", "-subj", subj)
        run("x509", "-req", "-in", who + ".csr", "-CA", "ca.crt", "-CAkey",
            "ca.key", "-CAcreateserial", "-out", who + ".crt", "-days", "2",
            "-extfile", who + ".ext")
    return p("ca.crt"), p("server.crt"), p("server.key"), \
        p("client.crt"), p("client.key")


def kubeconfig_text(url, token, ca_file, namespace="default"):
    lines = ["apiVersion: v1", "kind: Config", "preferences: {}",
             "current-context: emulator", "clusters:", "- name: emulator",
             "  cluster:", "    server: %s" % url]
    if ca_file:
        lines.append("    certificate-authority: %s" % ca_file)
    lines += ["users:", "- name: emulator-token", "  user:",
              "    token: %s" % token, "contexts:", "- name: emulator",
              "  context:", "    cluster: emulator",
              "    user: emulator-token", "    namespace: %s" % namespace]
    return "\n".join(lines) + "\n"


class Emulator:
    """An emulator running in this process (a server thread)."""

    def __init__(self, http=False, token=None, port=0, config=None,
                 seed=None, load=None, tokens=None, verbose=False):
        self.tmpdir = tempfile.mkdtemp(prefix="kubeapi-")
        self.token = token or "emulator-" + os.urandom(12).hex()
        self.tokens = {self.token: dict(ADMIN_USER)}
        for t, info in (tokens or {}).items():
            self.tokens[t] = info
        self.api = api_mod.API(config=config, seed=seed)
        self.front = server_mod.Frontend(self.api, self.tokens, verbose)
        self.httpd = server_mod.EmulatorServer(self.front,
                                               ("127.0.0.1", port))
        self.port = self.httpd.server_address[1]
        self.scheme = "http" if http else "https"
        self.ca_file = self.client_cert = self.client_key = None
        if not http:
            (self.ca_file, cert, key, self.client_cert,
             self.client_key) = make_certs(self.tmpdir)
            ctx = server_mod.make_tls_context(cert, key, self.ca_file)
            self.httpd.socket = ctx.wrap_socket(
                self.httpd.socket, server_side=True,
                do_handshake_on_connect=False)
        self.url = "%s://127.0.0.1:%d" % (self.scheme, self.port)
        self.kubeconfig = os.path.join(self.tmpdir, "kubeconfig")
        with open(self.kubeconfig, "w") as f:
            f.write(kubeconfig_text(self.url, self.token, self.ca_file))
        self.thread = None
        if load:
            self.load_dir(load)

    # ---------------------------------------------------- lifecycle ----
    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.1},
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.front.stopping.set()
        self.api.store.close_watchers()
        if self.thread is not None:
            self.httpd.shutdown()
            self.thread.join(5)
        self.httpd.server_close()
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def state(self):
        return {"url": self.url, "host": "127.0.0.1", "port": self.port,
                "scheme": self.scheme, "caFile": self.ca_file,
                "token": self.token, "clientCert": self.client_cert,
                "clientKey": self.client_key,
                "kubeconfig": self.kubeconfig, "pid": os.getpid(),
                "adminUrl": self.url + "/_emulator"}

    # --------------------------------------------------- test hooks ----
    def load(self, objs, replace=True):
        """Store objects (dict, list, or kind: List) as they are."""
        return self.api.admin_load(objs, replace=replace)

    def load_dir(self, path, replace=True):
        return self.front.load_dir(path, replace)

    def get(self, api_version, kind, namespace, name):
        rd = self.api.catalogue.by_kind(api_version, kind)
        o = self.api.store.get(rd.storage, namespace if rd.namespaced
                               else "", name)
        return self.api.render(rd, o) if o is not None else None

    def change(self, **spec):
        """Modify a stored object (merge=, strategic=, jsonPatch=,
        oomKill=, delete=) and fire the watch event; see api.admin_change.
        """
        return self.api.admin_change(spec)

    def oom_kill(self, namespace, pod, container=None, **kw):
        kw["container"] = container
        return self.change(apiVersion="v1", kind="Pod", namespace=namespace,
                           name=pod, oomKill=kw)

    def fault(self, spec):
        return self.front.faults.add(spec)

    def clear_faults(self):
        self.front.faults.clear()

    def release(self, name):
        """Let the requests a fault's "hold": NAME keeps go on."""
        self.front.faults.release(name)

    def held(self, name):
        """How many requests reached the hold NAME so far."""
        return self.front.faults.holds()["held"].get(name, 0)

    def requests(self, since=0):
        return self.front.requests.since(since)

    def clear_requests(self):
        self.front.requests.clear()

    def compact(self, rv=None, etcd=True, watch=True):
        return self.api.store.compact(rv, etcd, watch)

    def configure(self, **cfg):
        self.front.configure(cfg)

    def forbid(self, **rule):
        self.api.config.setdefault("forbidden", []).append(rule)

    def add_token(self, token, user, groups=(), deny=False):
        self.tokens[token] = {"user": user, "groups": list(groups),
                              "deny": deny}

    def bookmark(self):
        return self.front.send_bookmarks()

    def expire_watches(self, path=""):
        return self.front.expire_watches(path)

    def set_log(self, namespace, pod, container, text):
        self.api.pod_logs[(namespace, pod, container)] = text

    @property
    def resource_version(self):
        return self.api.store.rv


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--state-file", required=True)
    ap.add_argument("--http", action="store_true",
                    help="plain HTTP instead of HTTPS")
    ap.add_argument("--load", action="append", default=[],
                    help="directory of JSON/YAML objects to load")
    ap.add_argument("--token", help="admin bearer token (default random)")
    ap.add_argument("--config", help="JSON object of config overrides")
    ap.add_argument("--seed", type=int, help="seed for generated names")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args(argv)
    cfg = json.loads(a.config) if a.config else None
    emu = Emulator(http=a.http, token=a.token, port=a.port, config=cfg,
                   seed=a.seed, verbose=a.verbose)
    for d in a.load:
        emu.load_dir(d)
    state = emu.state()
    kc = os.path.join(os.path.dirname(os.path.abspath(a.state_file)),
                      os.path.basename(a.state_file) + ".kubeconfig")
    shutil.copy(emu.kubeconfig, kc)
    state["kubeconfig"] = kc
    tmp = a.state_file + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f, indent=2)
    os.replace(tmp, a.state_file)
    print(json.dumps(state), flush=True)
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    emu.start()
    while not stop.is_set():
        stop.wait(0.5)
    emu.stop()
    return 0


def spawn(state_file, http=False, load=None, extra=(), timeout=30):
    """Start the emulator as a child process; return (Popen, state)."""
    cmd = ["/usr/bin/python3", os.path.abspath(__file__), "--port", "0",
           "--state-file", state_file]
    if http:
        cmd.append("--http")
    for d in load or []:
        cmd += ["--load", d]
    cmd += list(extra)
    if os.path.exists(state_file):
        os.unlink(state_file)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(state_file):
            with open(state_file) as f:
                return proc, json.load(f)
        if proc.poll() is not None:
            raise RuntimeError("emulator exited with %s" % proc.returncode)
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("emulator did not start")


if __name__ == "__main__":
    sys.exit(main())
