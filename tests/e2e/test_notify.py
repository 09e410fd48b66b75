"""Notifications and http triggers end to end, against a loopback HTTP
receiver: a RemediationConfig loaded by the real loader, owners routed to
their destinations, Slack-compatible and webhook payloads as received,
secrets read from files and the environment (and found nowhere in the
logs), retries, and the http trigger's request.  `remediate check`'s
answers about secrets in manifests and rotateLogs are checked through
the binary.

The driver (notify_probe) is C written and compiled here against
src/notify and what it uses:

    notify_probe send CONFIG_DIR SECRETS_DIR RECORD TARGET [APPROVAL_URL]
    notify_probe http SPEC PAYLOAD SECRETS_DIR [RETRY_STRATEGY]

`send` loads the configuration (reading every secret once), routes and
sends one notification, waits for delivery and prints the sender's
counters; its logs go to stderr.  `http` plans and executes an http
trigger and prints {"plan", "result"|"error"}."""
import http.server
import json
import os
import subprocess
import sys
import threading

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "kube"))
sys.path.insert(0, HERE)
import kubehelp  # noqa: E402
from kubehelp import PKGS as KUBE_PKGS, have_cc  # noqa: E402
from conftest import binary  # noqa: E402

pytestmark = pytest.mark.skipif(not have_cc(), reason="no C compiler")

DRIVER = r'''
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify/notify.h"

static void
logline(const char *level, const char *msg, json_t *f)
{
	char *s = json_dumps(f, JSON_COMPACT);

	fprintf(stderr, "{\"level\":\"%s\",\"msg\":\"%s\",\"fields\":%s}\n",
	    level, msg, s ? s : "null");
	free(s);
	json_decref(f);
}

static void
print(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);

	printf("%s\n", s);
	free(s);
	json_decref(o);
}

static int
send(char **argv, int argc)
{
	const char *paths[1] = { argv[2] };
	struct diags dg;
	struct conf *cf;
	struct notify_config *c;
	struct notify_opts o;
	struct notify_stats st;
	struct notify *n;
	struct notify_msg m;
	char *err = NULL;
	size_t k;

	diag_init(&dg);
	cf = conf_load(paths, 1, &dg);
	c = dg.errors ? NULL : notify_config_new(cf, argv[3], 1, &dg);
	if (c == NULL) {
		diag_print(&dg, stderr);
		return 1;
	}
	memset(&o, 0, sizeof o);
	o.retry_base = 100;
	o.log = logline;
	n = notify_new(c, &o, &err);
	memset(&m, 0, sizeof m);
	m.record = json_load_file(argv[4], 0, NULL);
	m.target = json_load_file(argv[5], 0, NULL);
	m.approval_url = argc > 6 ? argv[6] : NULL;
	k = notify_send(n, &m);
	notify_flush(n, 30000);
	notify_stats(n, &st);
	print(json_pack("{s:I, s:I, s:I, s:I, s:I, s:s?}", "routed",
	    (json_int_t)k, "sent", (json_int_t)st.sent, "failed",
	    (json_int_t)st.failed, "retries", (json_int_t)st.retries,
	    "dropped", (json_int_t)st.dropped, "owner", notify_owner(c,
	    m.target, NULL)));
	notify_free(n);
	json_decref(m.record);
	json_decref(m.target);
	notify_config_free(c);
	conf_free(cf);
	diag_free(&dg);
	return 0;
}

static int
http(char **argv)
{
	json_t *spec = json_load_file(argv[2], 0, NULL);
	json_t *payload = json_load_file(argv[3], 0, NULL), *plan = NULL;
	json_t *res = NULL, *o;
	char *err = NULL;

	if (notify_plan_http(spec, payload, &plan, &err) == -1) {
		print(json_pack("{s:s}", "planError", err));
		return 1;
	}
	if (argv[5] != NULL)	/* the trigger's retryStrategy, as decide.c */
		json_object_set_new(plan, "retryStrategy",
		    json_load_file(argv[5], 0, NULL));
	o = json_pack("{s:O}", "plan", plan);
	if (notify_execute_http(argv[4], plan, 0, &res, &err) == -1)
		json_object_set_new(o, "error", json_string(err));
	else
		json_object_set_new(o, "result", res);
	print(o);
	free(err);
	json_decref(plan);
	json_decref(spec);
	json_decref(payload);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc > 5 && strcmp(argv[1], "send") == 0)
		return send(argv, argc);
	if (argc > 4 && strcmp(argv[1], "http") == 0)
		return http(argv);
	return 2;
}
'''


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    d = tmp_path_factory.mktemp("notify")
    src = d / "notify_probe.c"
    src.write_text(DRIVER)
    return kubehelp.build_probe(
        d, str(src), "notify_probe", pkgs=KUBE_PKGS,
        modules=("notify", "sensor", "record", "cluster", "conf", "util"))


class Receiver:
    """A loopback HTTP server that records every request."""

    def __init__(self, statuses=()):
        self.requests = []
        self.statuses = list(statuses)
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                outer.requests.append({"path": self.path,
                                       "headers": dict(self.headers),
                                       "body": body})
                st = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(st)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_PUT = do_POST

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d" % self.srv.server_address[1]
        self.th = threading.Thread(target=self.srv.serve_forever,
                                   daemon=True)
        self.th.start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()

    def json(self, i):
        return json.loads(self.requests[i]["body"])


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


RECORD = {"time": "2026-03-14T09:40:00Z", "sensor": "argo-events/oom",
          "trigger": "bump-memory",
          "target": {"kind": "Deployment", "namespace": "shop",
                     "name": "checkout"},
          "subject": {"kind": "Pod", "namespace": "shop",
                      "name": "checkout-6d5f8b7c9d-x7k2p"},
          "decision": "acted",
          "plan": {"type": "remediate", "action": "bumpMemory",
                   "summary": "raise memory of container app of Deployment "
                              "shop/checkout: request 256Mi -> 320Mi, "
                              "limit 512Mi -> 640Mi"},
          "signal": {"eventSource": "oomkilled-events",
                     "eventName": "oom-events", "id": "e1"}}

CONFIG = """apiVersion: remediate.dev/v1alpha1
kind: RemediationConfig
metadata: {name: defaults}
spec:
  owners:
    routes:
      team-shop: shop
      team-pay: pay-hook
  notifications:
    default: platform
    attempts: 3
    links:
      dashboard: "https://grafana.example/d/w?ns={{ .Input.target.namespace }}"
    destinations:
      platform: {slack: {url: {env: E2E_PLATFORM_URL}, channel: "#oncall"}}
      shop: {slack: {url: {name: shop-slack, key: url}}}
      pay-hook:
        webhook:
          url: %(hook)s
          headers: {X-Team: pay}
          secureHeaders: [{name: Authorization, valueFrom: {file: %(tok)s}}]
        timeout: 3s
"""


@pytest.fixture
def setup(tmp_path, receiver):
    """A configuration dir and secrets dir pointing at the receiver."""
    cfg = tmp_path / "conf"
    cfg.mkdir()
    secrets = tmp_path / "secrets"
    (secrets / "shop-slack").mkdir(parents=True)
    (secrets / "shop-slack" / "url").write_text(receiver.url +
                                                "/services/T0/SHOP/s3cr3t\n")
    tok = tmp_path / "hook-token"
    tok.write_text("Bearer hook-t0k3n\n")
    (cfg / "config.yaml").write_text(CONFIG % {
        "hook": receiver.url + "/hook", "tok": str(tok)})
    env = dict(os.environ, E2E_PLATFORM_URL=receiver.url +
               "/services/T0/PLATFORM/pl4tf0rm")
    return cfg, secrets, env


def send(probe, tmp_path, setup, record, target, approval=None):
    cfg, secrets, env = setup
    r = tmp_path / "record.json"
    r.write_text(json.dumps(record))
    t = tmp_path / "target.json"
    t.write_text(json.dumps(target))
    argv = [probe, "send", str(cfg), str(secrets), str(r), str(t)]
    if approval:
        argv.append(approval)
    p = subprocess.run(argv, capture_output=True, text=True, env=env,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    assert "Sanitizer" not in p.stderr, p.stderr
    return json.loads(p.stdout), p.stderr


def owned_by(owner):
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "checkout", "namespace": "shop",
                         "labels": {"remediation.platform/owner": owner}}}


def test_owner_label_routes_to_its_slack(probe, tmp_path, setup, receiver):
    out, _ = send(probe, tmp_path, setup, RECORD, owned_by("team-shop"))
    assert out["routed"] == 1 and out["sent"] == 1 and out["owner"] == \
        "team-shop"
    assert len(receiver.requests) == 1
    req = receiver.requests[0]
    assert req["path"] == "/services/T0/SHOP/s3cr3t"
    assert req["headers"]["Content-Type"] == "application/json"
    body = receiver.json(0)
    assert body["text"] == (
        "[remediate] bump-memory: acted: raise memory of container app of "
        "Deployment shop/checkout: request 256Mi -> 320Mi, limit 512Mi -> "
        "640Mi (Deployment shop/checkout)")
    kinds = [b["type"] for b in body["blocks"]]
    assert kinds[0] == "header" and "section" in kinds and \
        kinds[-1] == "context"
    blob = json.dumps(body)
    assert "*Owner*\\nteam-shop" in blob
    assert "*What changed*" in blob
    assert "https://grafana.example/d/w?ns=shop" in blob


def test_annotation_owner_and_default(probe, tmp_path, setup, receiver):
    target = {"metadata": {"annotations": {
        "remediation.platform/owner": "team-shop"}}}
    out, _ = send(probe, tmp_path, setup, RECORD, target)
    assert out["owner"] == "team-shop"
    out, _ = send(probe, tmp_path, setup, RECORD, owned_by("team-nobody"))
    assert out["routed"] == 1
    out, _ = send(probe, tmp_path, setup, RECORD, {"metadata": {}})
    assert [r["path"] for r in receiver.requests] == [
        "/services/T0/SHOP/s3cr3t", "/services/T0/PLATFORM/pl4tf0rm",
        "/services/T0/PLATFORM/pl4tf0rm"]
    assert receiver.json(2)["channel"] == "#oncall"


def test_pending_approval_link_in_the_message(probe, tmp_path, setup,
                                              receiver):
    rec = dict(RECORD, decision="pending-approval")
    link = "https://remediate.example.com/approve/" + "a" * 32 + \
        "?sig=" + "b" * 64
    send(probe, tmp_path, setup, rec, {"metadata": {}}, approval=link)
    body = receiver.json(0)
    assert body["text"].endswith(" approve: " + link)
    assert "pending approval: would raise memory" in body["text"]
    buttons = [e for b in body["blocks"] if b["type"] == "actions"
               for e in b["elements"]]
    assert buttons[0]["url"] == link and buttons[0]["style"] == "primary"


def test_webhook_gets_the_record_and_secret_header(probe, tmp_path, setup,
                                                   receiver):
    rec = dict(RECORD, decision="suppressed", reason="at-cap",
               message="at cap: container app of Deployment shop/checkout "
                       "requests 8Gi, at or above the cap 8Gi; nothing "
                       "changed")
    del rec["plan"]
    send(probe, tmp_path, setup, rec, owned_by("team-pay"))
    req = receiver.requests[0]
    assert req["path"] == "/hook"
    assert req["headers"]["Authorization"] == "Bearer hook-t0k3n"
    assert req["headers"]["X-Team"] == "pay"
    body = receiver.json(0)
    assert body["decision"] == rec
    assert body["owner"] == "team-pay"
    assert body["text"].startswith("suppressed (at-cap): at cap:")


def test_retries_then_gives_up_without_leaking_secrets(probe, tmp_path,
                                                       setup, receiver):
    receiver.statuses = [502, 200]
    out, _ = send(probe, tmp_path, setup, RECORD, owned_by("team-shop"))
    assert out["sent"] == 1 and out["retries"] == 1
    receiver.requests.clear()
    receiver.statuses = [500, 500, 500]
    out, err = send(probe, tmp_path, setup, RECORD, owned_by("team-shop"))
    assert out["failed"] == 1 and out["retries"] == 2
    assert len(receiver.requests) == 3
    assert '"destination":"shop"' in err
    assert "s3cr3t" not in err and "SHOP" not in err
    # a 4xx is not retried
    receiver.requests.clear()
    receiver.statuses = [404]
    out, err = send(probe, tmp_path, setup, RECORD, owned_by("team-pay"))
    assert out["failed"] == 1 and out["retries"] == 0
    assert "hook-t0k3n" not in err


def test_missing_secret_is_reported_at_load(probe, tmp_path, setup):
    cfg, secrets, env = setup
    env = dict(env)
    del env["E2E_PLATFORM_URL"]
    r = tmp_path / "r.json"
    r.write_text(json.dumps(RECORD))
    p = subprocess.run([probe, "send", str(cfg), str(secrets), str(r),
                        str(r)], capture_output=True, text=True, env=env,
                       timeout=60)
    assert p.returncode == 1
    assert "environment variable E2E_PLATFORM_URL is not set" in p.stderr


def test_http_trigger_request(probe, tmp_path, receiver):
    secrets = tmp_path / "secrets"
    (secrets / "runbook").mkdir(parents=True)
    (secrets / "runbook" / "header").write_text("Bearer rb-t0k3n\n")
    spec = {"url": receiver.url + "/runs", "method": "PUT", "timeout": 5,
            "headers": {"X-Source": "remediate"},
            "secureHeaders": [{"name": "Authorization", "valueFrom": {
                "secretKeyRef": {"name": "runbook", "key": "header"}}}]}
    payload = {"node": "node-3", "alert": "NodeLogDiskFilling"}
    sp = tmp_path / "spec.json"
    sp.write_text(json.dumps(spec))
    pp = tmp_path / "payload.json"
    pp.write_text(json.dumps(payload))
    p = subprocess.run([probe, "http", str(sp), str(pp), str(secrets)],
                       capture_output=True, text=True, timeout=60)
    out = json.loads(p.stdout)
    assert out["result"]["status"] == 200, out
    plan = out["plan"]
    assert plan["secureHeaders"] == {"Authorization": {"secretKeyRef": {
        "name": "runbook", "key": "header"}}}
    assert "rb-t0k3n" not in p.stdout
    req = receiver.requests[0]
    assert req["path"] == "/runs"
    assert req["headers"]["Authorization"] == "Bearer rb-t0k3n"
    assert req["headers"]["X-Source"] == "remediate"
    assert json.loads(req["body"]) == payload
    # a failing endpoint is a failed action, with its status
    receiver.statuses = [503]
    p = subprocess.run([probe, "http", str(sp), str(pp), str(secrets)],
                       capture_output=True, text=True, timeout=60)
    assert "answered HTTP 503" in json.loads(p.stdout)["error"]


def test_http_trigger_retry_strategy(probe, tmp_path, receiver):
    """With a retryStrategy, no answer, 429 and 5xx are tried again after
    the backoff; another 4xx is not; without one, Argo tries once."""
    spec = {"url": receiver.url + "/runs", "method": "POST", "timeout": 5}
    sp, pp, rp = (tmp_path / "spec.json", tmp_path / "payload.json",
                  tmp_path / "retry.json")
    sp.write_text(json.dumps(spec))
    pp.write_text(json.dumps({"node": "node-3"}))
    rp.write_text(json.dumps({"steps": 3, "duration": "50ms",
                              "factor": 2}))

    def run(retry=True):
        n = len(receiver.requests)
        p = subprocess.run([probe, "http", str(sp), str(pp),
                            str(tmp_path)] + ([str(rp)] if retry else []),
                           capture_output=True, text=True, timeout=60)
        return json.loads(p.stdout), len(receiver.requests) - n

    receiver.statuses = [503, 429, 200]
    out, sent = run()
    assert out["result"]["status"] == 200 and sent == 3, out
    assert out["result"]["attempts"] == 3
    receiver.statuses = [500, 500, 500, 200]
    out, sent = run()
    assert sent == 3 and "(after 3 attempts)" in out["error"], out
    receiver.statuses = [404, 200]
    out, sent = run()
    assert sent == 1 and "404" in out["error"], out
    receiver.statuses = [503, 200]
    out, sent = run(retry=False)
    assert sent == 1 and "answered HTTP 503" in out["error"], out
    receiver.statuses = []


# ---- check, through the binary ------------------------------------------------

needs_binary = pytest.mark.skipif(not os.path.exists(binary()),
                                  reason="remediate not built")


@needs_binary
def test_check_refuses_secrets_and_rotate_logs(tmp_path):
    (tmp_path / "c.yaml").write_text(
        "apiVersion: remediate.dev/v1alpha1\nkind: RemediationConfig\n"
        "metadata: {name: d}\nspec:\n  notifications:\n    destinations:\n"
        "      a: {slack: {url: \"https://hooks.slack.com/services/T/B/x\"}}"
        "\n")
    p = subprocess.run([binary(), "check", "-c", str(tmp_path)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1
    assert "a Slack incoming-webhook URL carries its token" in p.stderr
    assert "url: {env: SLACK_WEBHOOK_URL}" in p.stderr
    (tmp_path / "c.yaml").unlink()
    (tmp_path / "s.yaml").write_text(
        "apiVersion: argoproj.io/v1alpha1\nkind: EventSource\n"
        "metadata: {name: hooks}\nspec:\n  webhook:\n    disk:\n"
        "      {endpoint: /disk, method: POST}\n---\n"
        "apiVersion: argoproj.io/v1alpha1\nkind: Sensor\n"
        "metadata: {name: disk}\nspec:\n  dependencies:\n"
        "    - {name: full, eventSourceName: hooks, eventName: disk}\n"
        "  triggers:\n    - template:\n        name: rotate\n"
        "        remediate: {rotateLogs: {}}\n")
    p = subprocess.run([binary(), "check", "-c", str(tmp_path)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1
    assert "rotateLogs is not supported: node-local log rotation is " \
        "outside the cluster API's reach" in p.stderr


@needs_binary
def test_check_accepts_the_examples():
    d = os.path.join(ROOT, "examples", "actions")
    p = subprocess.run([binary(), "check", "-c", d], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "0 errors" in p.stdout + p.stderr


# ---- remediate approve, through the binary --------------------------------------

def make_state(path, rows):
    """A state file as the daemon leaves it: the approvals table."""
    import sqlite3
    db = sqlite3.connect(str(path))
    db.execute("PRAGMA application_id = 1380273476")
    db.execute("CREATE TABLE approvals (id TEXT PRIMARY KEY, created "
               "INTEGER NOT NULL, expires INTEGER NOT NULL, state TEXT NOT "
               "NULL, record TEXT NOT NULL, url TEXT, decided INTEGER, "
               "outcome TEXT)")
    for r in rows:
        db.execute("INSERT INTO approvals (id, created, expires, state, "
                   "record, url) VALUES (?, ?, ?, ?, ?, ?)", r)
    db.commit()
    db.close()


def signature(key, ident, expires):
    """The documented scheme, written independently of the C code."""
    import hashlib
    import hmac
    msg = b"remediate-approval\0" + ident.encode() + b"\0" + \
        str(expires).encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


class FakeDaemon:
    """Answers POST /approve/ID as `remediate run` does, recording it."""

    def __init__(self, status=200, answer=None):
        self.posts = []
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                outer.posts.append({"path": self.path,
                                    "headers": dict(self.headers),
                                    "body": self.rfile.read(n).decode()})
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


@needs_binary
def test_approve_cli_signs_and_posts_to_the_daemon(tmp_path):
    ident = "0123456789abcdef0123456789abcdef"
    expires = 4102444800000
    key = b"k" * 40
    d = FakeDaemon(answer={"id": ident, "status": "approved", "outcome": {
        "decision": "acted", "trigger": "bump-memory"}})
    try:
        state = tmp_path / "state.db"
        make_state(state, [(ident, 1, expires, "pending",
                            json.dumps(dict(RECORD, decision=
                                            "pending-approval")),
                            d.url + "/approve/" + ident)])
        (tmp_path / "state.db.approval-key").write_bytes(key + b"\n")
        p = subprocess.run([binary(), "approve", "--state", str(state),
                            ident], capture_output=True, text=True,
                           timeout=60)
        assert p.returncode == 0, p.stderr
        assert p.stdout.startswith("approved: acted")
        post = d.posts[0]
        assert post["path"] == "/approve/" + ident
        assert post["headers"]["Accept"] == "application/json"
        assert post["body"] == "sig=" + signature(key, ident, expires)
        # --list shows it, with what it would do
        p = subprocess.run([binary(), "approve", "--list", "--state",
                            str(state)], capture_output=True, text=True,
                           timeout=60)
        assert ident in p.stdout and "raise memory" in p.stdout
        # the link form needs neither the state file nor the key
        link = "%s/approve/%s?sig=%s" % (d.url, ident, "c" * 64)
        p = subprocess.run([binary(), "approve", "--state",
                            str(tmp_path / "none.db"), link],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        assert d.posts[1]["body"] == "sig=" + "c" * 64
    finally:
        d.close()


@needs_binary
def test_approve_cli_refusals(tmp_path):
    ident = "fedcba9876543210fedcba9876543210"
    d = FakeDaemon(status=410, answer={"status": "used", "error":
                                       "This approval was used already",
                                       "outcome": {"decision": "acted"}})
    try:
        state = tmp_path / "state.db"
        make_state(state, [(ident, 1, 4102444800000, "pending",
                            json.dumps(RECORD), None)])
        run = lambda *a: subprocess.run(  # noqa: E731
            [binary(), "approve", "--state", str(state)] + list(a),
            capture_output=True, text=True, timeout=60)
        p = run("nope")
        assert p.returncode == 2
        p = run("0" * 32)
        assert p.returncode == 1 and "no such approval" in p.stderr
        # no baseURL was known: the daemon's address is asked for
        p = run(ident)
        assert p.returncode == 1 and "give --url" in p.stderr
        # no key here: never invent one
        p = run("--url", d.url, ident)
        assert p.returncode == 1 and "approval key" in p.stderr
        assert not (tmp_path / "state.db.approval-key").exists()
        (tmp_path / "state.db.approval-key").write_text("x" * 40)
        p = run("--url", d.url + "/", ident)
        assert p.returncode == 1
        assert "HTTP 410: This approval was used already" in p.stderr
        assert d.posts[0]["path"] == "/approve/" + ident
    finally:
        d.close()
