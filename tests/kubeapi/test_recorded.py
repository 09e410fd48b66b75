"""Replays the 73 interactions recorded from kube-apiserver v1.28.7
(tests/data/fixtures/real) against the emulator and compares.

The recordings are one sequence against namespace remediation-demo, so
the steps run in recording order on one emulator (HTTPS, as recorded),
with the requests that were made during the recorded watches (and the
few unrecorded setup requests) replayed where they happened.

Compared for every interaction:
- the HTTP status code, exactly;
- the Content-Type, and the Warning / X-Content-Type-Options headers;
- the body, deep-equal after normalising what differs between any two
  runs of the real server: UIDs, resourceVersions, server timestamps,
  generated names (kube-api-access-xxxxx), numbers inside Status
  messages, the resourceVersion inside continue tokens, Table ages;
- watches: the event type sequence, one JSON object per line, and each
  event object (normalised as above), BOOKMARK shapes included.

Set KUBEAPI_FIXTURES to read the recordings from elsewhere.
"""

import base64
import copy
import json
import os
import re
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from kubeapi.client import Client          # noqa: E402
from kubeapi.emulator import Emulator      # noqa: E402

FIXTURES = os.environ.get("KUBEAPI_FIXTURES", os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data",
    "fixtures", "real"))
NOBODY = "nobody-token-0123456789"
SCALE = 0.25        # watch timeouts and bookmark timing run 4x faster

# Recording order (by recorded_at; 21a was recorded before 21).
ORDER = [
    "00-get-version", "01-list-namespaces", "02-create-namespace",
    "03-create-serviceaccount-default", "04-create-deployment",
    "05-create-replicaset-owned-by-deployment",
    "06-create-pod-owned-by-replicaset", "06b-create-second-pod",
    "07-list-pods", "07b-list-pods-labelselector-limit1",
    "07c-list-pods-continue",
    "08-list-deployments-all-namespaces-labelselector",
    "09-watch-deployments-allowWatchBookmarks",
    "09a-patch-during-watch-merge", "09b-patch-during-watch-strategic",
    "09c-watch-deployments-no-resourceversion",
    "10-watch-pods-from-list-rv", "10a-delete-pod",
    "11-patch-deployment-strategic-merge-memory",
    "12-patch-deployment-json-merge", "13-patch-deployment-json-patch",
    "13b-patch-deployment-json-patch-test-failed",
    "13c-patch-malformed-body-400",
    "13d-patch-unsupported-content-type-415",
    "14-dryrun-patch-deployment", "14b-get-deployment-after-dryrun",
    "14x-dryrun-patch-request-above-limit-422",
    "14c-dryrun-create-deployment", "14d-get-dryrun-created-404",
    "15-update-stale-resourceversion-409",
    "15b-create-already-exists-409",
    "15c-update-current-resourceversion-200",
    "16-get-missing-deployment-404", "16b-patch-missing-pod-404",
    "16c-get-pod-in-missing-namespace-404",
    "16d-create-in-missing-namespace-404",
    "17-create-invalid-deployment-422", "17b-create-invalid-name-422",
    "17c-create-unparsable-quantity-400",
    "17d-create-unknown-field-strict-400",
    "17e-create-unknown-field-default-warn",
    "18-create-lease", "18b-update-lease-renew",
    "18c-update-lease-stale-409", "18d-get-lease",
    "19-create-core-v1-event", "19b-list-events-fieldselector",
    "20-patch-pod-status-oomkilled", "20b-get-pod-after-status-patch",
    "20c-patch-pod-status-ignores-spec",
    "21a-watch-resourceversion-1-inside-cache-window",
    "21-watch-too-old-resourceversion-410",
    "22-list-exact-compacted-resourceversion-410",
    "22b-list-notolderthan-old-resourceversion-200",
    "22c-list-continue-token-expired-410",
    "22d-watch-old-resourceversion-after-compaction",
    "23-get-deployment-scale", "23b-patch-deployment-scale",
    "24-server-side-apply-conflict-409", "24b-server-side-apply-force",
    "25-delete-deployment-background", "25b-delete-missing-404",
    "26-unauthorized-bad-token-401", "26b-forbidden-rbac-403",
    "27-list-pods-as-table", "27b-list-pods-fieldselector-phase-running",
    "28-create-events-k8s-io-v1-event",
    "28b-get-events-v1-event-via-core-v1",
    "28c-create-events-v1-missing-eventtime-422",
    "29-get-pod-log-unscheduled-204", "30-evict-pod-policy-v1",
    "31-discovery-apps-v1", "32-get-pod-status-subresource",
]


def load(name):
    with open(os.path.join(FIXTURES, name + ".json")) as f:
        return json.load(f)


# ------------------------------------------------------- normalising ----

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                     r"[0-9a-f]{12}$")


def _token(tok):
    pad = tok + "=" * (-len(tok) % 4)
    d = json.loads(base64.urlsafe_b64decode(pad.encode()).decode())
    if d.get("rv", 0) != -1:
        d["rv"] = "<rv>"
    return d


def norm(o, key=None):
    if isinstance(o, dict):
        out = {}
        for k, v in o.items():
            if k in ("resourceVersion",) and isinstance(v, str):
                out[k] = "<rv>"
            elif k in ("creationTimestamp", "deletionTimestamp") and v:
                out[k] = "<time>"
            elif k == "time" and key == "managedFields":
                out[k] = "<time>"
            elif k == "continue" and isinstance(v, str):
                out[k] = _token(v)
            elif k == "message" and isinstance(v, str) and \
                    o.get("kind") == "Status":
                out[k] = re.sub(r"\d+", "N", v)
            elif k == "managedFields":
                out[k] = [norm(e, "managedFields") for e in v]
            else:
                out[k] = norm(v, k)
        return out
    if isinstance(o, list):
        return [norm(v, key) for v in o]
    if isinstance(o, str):
        if UUID_RE.match(o):
            return "<uid>"
        if o.startswith("kube-api-access-"):
            return "kube-api-access-<gen>"
        if key == "f:volumes" or "kube-api-access-" in o:
            return re.sub(r"kube-api-access-[a-z0-9]{5}",
                          "kube-api-access-<gen>", o)
    return o


def norm_keys(o):
    """Managed-field keys embed generated volume names: normalise them."""
    if isinstance(o, dict):
        return {re.sub(r"kube-api-access-[a-z0-9]{5}",
                       "kube-api-access-<gen>", k): norm_keys(v)
                for k, v in o.items()}
    if isinstance(o, list):
        return [norm_keys(v) for v in o]
    return o


def table_norm(body):
    body = copy.deepcopy(body)
    for r in body.get("rows", []):
        c = r["cells"]
        c[4] = "<age>"
        c[3] = re.sub(r"\(.* ago\)", "(<ago>)", c[3])
    return body


def diff(a, b, path=""):
    """First difference between two JSON values, as a readable string."""
    if type(a) is not type(b):
        return "%s: %r != %r" % (path or "/", a, b)
    if isinstance(a, dict):
        ka, kb = set(a), set(b)
        if ka != kb:
            return "%s: keys only in emulator %s, only in recording %s" % (
                path or "/", sorted(ka - kb), sorted(kb - ka))
        for k in a:
            d = diff(a[k], b[k], path + "/" + k)
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return "%s: %d items != %d" % (path or "/", len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            d = diff(x, y, "%s[%d]" % (path, i))
            if d:
                return d
        return None
    return None if a == b else "%s: %r != %r" % (path or "/", a, b)


# ------------------------------------------------------------ harness ----

class Run:
    """The emulator and everything the sequence remembers."""

    def __init__(self):
        self.emu = Emulator(config={"watch_time_scale": SCALE}).start()
        self.emu.add_token(NOBODY, "nobody", deny=True)
        self.client = Client(self.emu.url, self.emu.token,
                             self.emu.ca_file)
        self.results = {}      # name -> (status, headers, body/lines)
        self.marks = {}

    def send(self, rec, token=None, path_query=None, body=None):
        req = rec["request"]
        hdrs = {k: v for k, v in req["headers"]
                if k.lower() not in ("authorization", "accept",
                                     "content-type")}
        accept = dict((k.lower(), v) for k, v in req["headers"]).get(
            "accept", "application/json")
        ctype = dict((k.lower(), v) for k, v in req["headers"]).get(
            "content-type")
        target = path_query or (req["path"] + ("?" + req["query"]
                                               if req["query"] else ""))
        b = req["body"] if body is None else body
        if b is not None and not isinstance(b, str):
            b = json.dumps(b)
        r = self.client.request(req["method"], target, body=b,
                                content_type=ctype, accept=accept,
                                token=token, headers=hdrs)
        return r

    def watch_async(self, rec, target=None):
        req = rec["request"]
        target = target or req["path"] + "?" + req["query"]
        box = {}

        def run():
            it = self.client.watch(target)
            box["status"], box["headers"] = next(it)
            box["lines"] = list(it)
        t = threading.Thread(target=run, daemon=True)
        # Wait for this watch's own watcher, not for the count to grow: the
        # last step's watcher may still be leaving, and a count that stays
        # level made this wait out its deadline while the watch timed out.
        store = self.emu.api.store
        before = list(store.watchers)   # held, so no id is reused
        t.start()
        deadline = time.monotonic() + 10
        while all(any(w is b for b in before) for w in list(store.watchers)) \
                and time.monotonic() < deadline and t.is_alive():
            time.sleep(0.01)
        return t, box


@pytest.fixture(scope="module")
def run():
    r = Run()
    yield r
    r.emu.stop()


# ------------------------------------------------------------- checks ----

def check_headers(rec, resp_headers):
    want = dict((k.lower(), v) for k, v in rec["response"]["headers"])
    got = dict((k.lower(), v) for k, v in resp_headers)
    for h in ("content-type", "warning", "x-content-type-options",
              "retry-after"):
        assert got.get(h) == want.get(h), "header %s: %r != %r" % (
            h, got.get(h), want.get(h))
    for h in ("audit-id", "cache-control"):
        if h in want:
            assert h in got, "header %s missing" % h


def check_body(rec, status, body_bytes):
    resp = rec["response"]
    assert status == resp["status"], (status, body_bytes[:500])
    if "body_text" in resp:
        assert body_bytes.decode() == resp["body_text"]
        return
    got = json.loads(body_bytes.decode())
    want = resp["body"]
    if want.get("kind") == "Table":
        got, want = table_norm(got), table_norm(want)
    d = diff(norm_keys(norm(got)), norm_keys(norm(want)))
    assert d is None, d


def check_watch(rec, status, headers, lines):
    resp = rec["response"]
    assert status == resp["status"]
    check_headers(rec, headers)
    assert all(line.endswith(b"\n") for line in lines)
    events = [json.loads(line) for line in lines]
    types = [e["type"] for e in events]
    assert types == resp["event_types"], types
    for got, want in zip(events, resp["events"]):
        assert set(got) == {"type", "object"}
        d = diff(norm_keys(norm(got)), norm_keys(norm(want)))
        assert d is None, "%s event: %s" % (got["type"], d)


def simple(run, name, **kw):
    rec = load(name)
    r = run.send(rec, **kw)
    run.results[name] = r
    check_headers(rec, r.headers)
    check_body(rec, r.status, r.body)


# -------------------------------------------------------------- steps ----

def step_09(run):
    rec = load("09-watch-deployments-allowWatchBookmarks")
    t, box = run.watch_async(rec)
    for sub in ("09a-patch-during-watch-merge",
                "09b-patch-during-watch-strategic"):
        s = load(sub)
        run.results[sub] = run.send(s)
    t.join(30)
    check_watch(rec, box["status"], box["headers"], box["lines"])


def step_09c(run):
    rec = load("09c-watch-deployments-no-resourceversion")
    t, box = run.watch_async(rec)
    r = run.client.request(
        "PATCH", "/apis/apps/v1/namespaces/remediation-demo/deployments/"
        "web", {"metadata": {"annotations": {
            "remediation.platform/last-seen": "watch-test-2"}}},
        content_type="application/merge-patch+json")
    assert r.status == 200
    t.join(30)
    check_watch(rec, box["status"], box["headers"], box["lines"])


def step_10(run):
    rec = load("10-watch-pods-from-list-rv")
    r = run.client.request("GET", "/api/v1/namespaces/remediation-demo/"
                           "pods")
    rv = r.json()["metadata"]["resourceVersion"]
    target = "%s?watch=1&allowWatchBookmarks=true&resourceVersion=%s&" \
        "timeoutSeconds=8" % (rec["request"]["path"], rv)
    t, box = run.watch_async(rec, target)
    pod = copy.deepcopy(load("06-create-pod-owned-by-replicaset")
                        ["request"]["body"])
    pod["metadata"]["name"] = "web-7c5ddbdf54-tmp01"
    r = run.client.request("POST", "/api/v1/namespaces/remediation-demo/"
                           "pods", pod)
    assert r.status == 201
    r = run.client.request(
        "PATCH", "/api/v1/namespaces/remediation-demo/pods/"
        "web-7c5ddbdf54-tmp01", {"metadata": {"labels": {"touched": "yes"}}},
        content_type="application/merge-patch+json")
    assert r.status == 200
    run.results["10a-delete-pod"] = run.send(load("10a-delete-pod"))
    t.join(30)
    check_watch(rec, box["status"], box["headers"], box["lines"])


def step_recorded_watch(run, name):
    rec = load(name)
    t, box = run.watch_async(rec)
    t.join(30)
    check_watch(rec, box["status"], box["headers"], box["lines"])


def step_21(run):
    # An apiserver restart: the watch cache window starts now.
    run.emu.compact(etcd=False, watch=True)
    step_recorded_watch(run, "21-watch-too-old-resourceversion-410")


def _churn(run, names):
    for n in names:
        r = run.client.request(
            "POST", "/api/v1/namespaces/remediation-demo/configmaps",
            {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": n}, "data": {"n": n[-1]}})
        assert r.status == 201


def step_22(run):
    run.marks["old_rv"] = str(run.emu.resource_version)
    _churn(run, ["churn-0", "churn-1", "churn-2"])
    run.emu.compact(etcd=True, watch=False)      # etcdctl compact
    q = "resourceVersion=%s&resourceVersionMatch=Exact" % run.marks["old_rv"]
    simple(run, "22-list-exact-compacted-resourceversion-410",
           path_query="/api/v1/namespaces/remediation-demo/configmaps?" + q)


def step_22b(run):
    q = "resourceVersion=%s&resourceVersionMatch=NotOlderThan" % \
        run.marks["old_rv"]
    simple(run, "22b-list-notolderthan-old-resourceversion-200",
           path_query="/api/v1/namespaces/remediation-demo/configmaps?" + q)


def step_22c(run):
    r = run.client.request("GET", "/api/v1/namespaces/remediation-demo/"
                           "configmaps?limit=1")
    tok = r.json()["metadata"]["continue"]
    _churn(run, ["churn-3", "churn-4"])
    run.emu.compact(etcd=True, watch=False)
    simple(run, "22c-list-continue-token-expired-410",
           path_query="/api/v1/namespaces/remediation-demo/configmaps?"
           "limit=1&continue=" + tok)


def step_22d(run):
    rec = load("22d-watch-old-resourceversion-after-compaction")
    target = "/api/v1/namespaces/remediation-demo/configmaps?watch=1&" \
        "resourceVersion=%s&timeoutSeconds=4" % run.marks["old_rv"]
    t, box = run.watch_async(rec, target)
    t.join(30)
    check_watch(rec, box["status"], box["headers"], box["lines"])


def step_15(run):
    # The recorded body carries resourceVersion 193: stale here too.
    rec = load("15-update-stale-resourceversion-409")
    body = copy.deepcopy(rec["request"]["body"])
    body["metadata"]["resourceVersion"] = run.marks["web_rv_created"]
    simple(run, rec["name"], body=body)


def step_15c(run):
    rec = load("15c-update-current-resourceversion-200")
    cur = run.client.request("GET", "/apis/apps/v1/namespaces/"
                             "remediation-demo/deployments/web").json()
    body = copy.deepcopy(rec["request"]["body"])
    body["metadata"]["resourceVersion"] = cur["metadata"]["resourceVersion"]
    body["metadata"]["uid"] = cur["metadata"]["uid"]
    body["metadata"]["managedFields"] = cur["metadata"]["managedFields"]
    simple(run, rec["name"], body=body)


def step_04(run):
    simple(run, "04-create-deployment")
    run.marks["web_rv_created"] = run.results["04-create-deployment"].json()[
        "metadata"]["resourceVersion"]


def step_07c(run):
    tok = run.results["07b-list-pods-labelselector-limit1"].json()[
        "metadata"]["continue"]
    simple(run, "07c-list-pods-continue",
           path_query="/api/v1/namespaces/remediation-demo/pods?"
           "labelSelector=remediation.platform%2Foptin%3Dtrue&limit=1&"
           "continue=" + tok)


def _lease_put(run, name, rv_from):
    rec = load(name)
    body = copy.deepcopy(rec["request"]["body"])
    created = run.results[rv_from].json()
    body["metadata"]["resourceVersion"] = created["metadata"][
        "resourceVersion"]
    body["metadata"]["uid"] = created["metadata"]["uid"]
    simple(run, name, body=body)


def step_25(run):
    d = copy.deepcopy(load("04-create-deployment")["request"]["body"])
    d["metadata"]["name"] = "to-delete"
    r = run.client.request("POST", "/apis/apps/v1/namespaces/"
                           "remediation-demo/deployments", d)
    assert r.status == 201
    simple(run, "25-delete-deployment-background")


def step_30(run):
    pod = copy.deepcopy(load("06-create-pod-owned-by-replicaset")
                        ["request"]["body"])
    pod["metadata"]["name"] = "evict-me"
    r = run.client.request("POST", "/api/v1/namespaces/remediation-demo/"
                           "pods", pod)
    assert r.status == 201
    simple(run, "30-evict-pod-policy-v1")
    r = run.client.request("GET", "/api/v1/namespaces/remediation-demo/"
                           "pods/evict-me")
    assert r.status == 404


def recorded_result(run, name):
    rec = load(name)
    r = run.results[name]
    check_headers(rec, r.headers)
    check_body(rec, r.status, r.body)


STEPS = {
    "04-create-deployment": step_04,
    "07c-list-pods-continue": step_07c,
    "09-watch-deployments-allowWatchBookmarks": step_09,
    "09a-patch-during-watch-merge": lambda r: recorded_result(
        r, "09a-patch-during-watch-merge"),
    "09b-patch-during-watch-strategic": lambda r: recorded_result(
        r, "09b-patch-during-watch-strategic"),
    "09c-watch-deployments-no-resourceversion": step_09c,
    "10-watch-pods-from-list-rv": step_10,
    "10a-delete-pod": lambda r: recorded_result(r, "10a-delete-pod"),
    "15-update-stale-resourceversion-409": step_15,
    "15c-update-current-resourceversion-200": step_15c,
    "18b-update-lease-renew": lambda r: _lease_put(
        r, "18b-update-lease-renew", "18-create-lease"),
    "18c-update-lease-stale-409": lambda r: _lease_put(
        r, "18c-update-lease-stale-409", "18-create-lease"),
    "21a-watch-resourceversion-1-inside-cache-window": lambda r:
        step_recorded_watch(r, "21a-watch-resourceversion-1-inside-cache-"
                               "window"),
    "21-watch-too-old-resourceversion-410": step_21,
    "22-list-exact-compacted-resourceversion-410": step_22,
    "22b-list-notolderthan-old-resourceversion-200": step_22b,
    "22c-list-continue-token-expired-410": step_22c,
    "22d-watch-old-resourceversion-after-compaction": step_22d,
    "25-delete-deployment-background": step_25,
    "26-unauthorized-bad-token-401": lambda r: simple(
        r, "26-unauthorized-bad-token-401", token="not-a-valid-token"),
    "26b-forbidden-rbac-403": lambda r: simple(
        r, "26b-forbidden-rbac-403", token=NOBODY),
    "30-evict-pod-policy-v1": step_30,
}


def test_index_lists_every_recording():
    with open(os.path.join(FIXTURES, "_index.json")) as f:
        idx = json.load(f)
    files = sorted(i["file"][:-5] for i in idx["interactions"])
    assert sorted(ORDER) == files
    assert len(ORDER) == idx["count"] == 73


@pytest.mark.parametrize("name", ORDER)
def test_recorded(run, name):
    step = STEPS.get(name)
    if step is None:
        simple(run, name)
    else:
        step(run)
