"""A real Prometheus (Debian's) on loopback, scraping a fixture exporter
whose values a test sets, so error budgets change during the test."""
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request

from conftest import free_port, stop_process

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"


class Exporter:
    """Serves /metrics with the gauges set by set()."""

    def __init__(self):
        self.values = {}
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with outer.lock:
                    text = "".join("%s %r\n" % (k, v)
                                   for k, v in outer.values.items())
                body = text.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def set(self, series, value):
        with self.lock:
            self.values[series] = value

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Prometheus:
    """prometheus scraping the exporter every second; also the ports of
    targets (job "remediate"), with rule_files loaded."""

    def __init__(self, exporter, targets=(), rule_files=()):
        self.dir = tempfile.mkdtemp(prefix="prom-")
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        cfg = os.path.join(self.dir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n"
                    "  evaluation_interval: 1s\n")
            if rule_files:
                f.write("rule_files:\n" + "".join(
                    "  - '%s'\n" % r for r in rule_files))
            f.write("scrape_configs:\n  - job_name: fixture\n"
                    "    static_configs:\n"
                    "      - targets: ['127.0.0.1:%d']\n" % exporter.port)
            if targets:
                f.write("  - job_name: remediate\n"
                        "    static_configs:\n"
                        "      - targets: [%s]\n" % ", ".join(
                            "'127.0.0.1:%d'" % t for t in targets))
        self.p = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + cfg,
             "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def query(self, q):
        url = "%s/api/v1/query?%s" % (self.url,
                                      urllib.parse.urlencode({"query": q}))
        with urllib.request.urlopen(url, timeout=5) as r:
            return json.load(r)["data"]["result"]

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=5) as r:
            return json.load(r)["data"]

    def wait_series(self, q, timeout=60):
        """Waits until q answers at least one series; returns them."""
        end = time.time() + timeout
        while time.time() < end:
            try:
                res = self.query(q)
                if res:
                    return res
            except OSError:
                pass
            time.sleep(0.3)
        raise AssertionError("prometheus never answered a series for %s"
                             % q)

    def wait_value(self, q, want, timeout=60):
        """Waits until q answers want (Prometheus has scraped it)."""
        end = time.time() + timeout
        while time.time() < end:
            try:
                res = self.query(q)
                if res and float(res[0]["value"][1]) == want:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise AssertionError("prometheus never answered %s = %s" % (q, want))

    def stop(self):
        stop_process(self.p)
        shutil.rmtree(self.dir, ignore_errors=True)
