"""A bench-only Kubernetes API server that lists and watches 100,000 pods.

The emulator in tests/kubeapi is faithful and slow: it cannot list 100,000
pods in 15 minutes.  This server answers only what `remediate run` asks of
a cluster at start (discovery falls back to remediate's built-in table;
lists and watches), from objects shaped as a real kube-apiserver v1.28.7
serves them: the recorded Pod, ReplicaSet and Deployment of
tests/data/fixtures/real (managedFields, the projected token volume,
tolerations, defaults) with the status a kubelet writes of a running pod
(conditions, container statuses, IPs).  One pod in a hundred carries an
OOM kill in its lastState.

Pages are rendered from a pre-serialized template (one string per
object kind, the varying parts spliced in), so a page of 500 pods costs
milliseconds.  Watches are held open without events until their
timeoutSeconds (bounded) or until the server stops.  Loopback only.

    with ScaleServer(pods=100000) as s:
        s.kubeconfig        # a kubeconfig file naming it
        s.served_bytes      # JSON bytes served by lists so far
"""
import json
import os
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
REAL = os.path.join(ROOT, "tests", "data", "fixtures", "real")
PODS_PER_RS = 10
NAMESPACES = 50
RV = "1000000"


def recorded(name):
    with open(os.path.join(REAL, name + ".json")) as f:
        return json.load(f)["response"]["body"]


def running_status(pod):
    """The status a kubelet writes of a running pod (as v1.28 does)."""
    t = "2026-11-25T01:09:14Z"
    st = {"phase": "Running", "conditions": [
        {"type": c, "status": "True", "lastProbeTime": None,
         "lastTransitionTime": t}
        for c in ("Initialized", "Ready", "ContainersReady",
                  "PodScheduled")],
        "hostIP": "@HOSTIP@", "podIP": "@PODIP@",
        "podIPs": [{"ip": "@PODIP@"}], "startTime": t,
        "containerStatuses": [{
            "name": "app", "state": {"running": {"startedAt": t}},
            "lastState": "@LASTSTATE@", "ready": True, "restartCount": 0,
            "image": "registry.example.com/web:1.0",
            "imageID": "registry.example.com/web@sha256:" + "0" * 63 + "1",
            "containerID": "containerd://@CID@", "started": True}],
        "qosClass": "Burstable"}
    pod["status"] = st
    pod["spec"]["nodeName"] = "@NODE@"
    pod["metadata"]["managedFields"].append({
        "manager": "kubelet", "operation": "Update", "apiVersion": "v1",
        "time": t, "fieldsType": "FieldsV1", "subresource": "status",
        "fieldsV1": {"f:status": {
            "f:conditions": {
                "k:{\"type\":\"%s\"}" % c: {
                    ".": {}, "f:lastProbeTime": {},
                    "f:lastTransitionTime": {}, "f:status": {},
                    "f:type": {}}
                for c in ("ContainersReady", "Initialized", "Ready")},
            "f:containerStatuses": {}, "f:hostIP": {}, "f:phase": {},
            "f:podIP": {}, "f:podIPs": {".": {},
                                        "k:{\"ip\":\"@PODIP@\"}": {
                                            ".": {}, "f:ip": {}}},
            "f:startTime": {}}}})
    return pod


def template(obj, marks):
    """obj serialized once, split at the @MARK@ strings: (parts, order)."""
    text = json.dumps(obj, separators=(",", ":"))
    parts, order = [], []
    while True:
        hits = [(text.find(m), m) for m in marks if text.find(m) >= 0]
        if not hits:
            parts.append(text)
            break
        at, m = min(hits)
        # a mark that is a whole JSON value ("@X@") is replaced with quotes
        quoted = text[at - 1] == '"' and text[at + len(m)] == '"'
        cut = at - 1 if quoted and m.startswith("@LAST") else at
        parts.append(text[:cut])
        order.append(m)
        text = text[at + len(m) + (1 if cut != at else 0):]
    return [p.encode() for p in parts], order


class Cluster:
    """The objects, rendered on demand from templates."""

    def __init__(self, pods):
        self.pods = pods
        self.rs = (pods + PODS_PER_RS - 1) // PODS_PER_RS
        pod = running_status(recorded("20b-get-pod-after-status-patch"))
        m = pod["metadata"]
        m.update({"name": "@NAME@", "namespace": "@NS@", "uid": "@UID@",
                  "resourceVersion": "@RV@", "generateName": "@RS@-"})
        m["labels"].update({"app": "@APP@", "pod-template-hash": "@HASH@"})
        m["ownerReferences"][0].update({"name": "@RS@",
                                        "uid": "@RSUID@"})
        pod["spec"]["volumes"][0]["name"] = "kube-api-access-@VOL@"
        pod["spec"]["containers"][0]["volumeMounts"][0]["name"] = \
            "kube-api-access-@VOL@"
        self.pod = template(pod, ["@NAME@", "@NS@", "@UID@", "@RV@",
                                  "@RS@", "@APP@", "@HASH@", "@RSUID@",
                                  "@VOL@", "@NODE@", "@HOSTIP@", "@PODIP@",
                                  "@LASTSTATE@", "@CID@"])
        rs = recorded("05-create-replicaset-owned-by-deployment")
        rs.setdefault("status", {}).update({
            "replicas": PODS_PER_RS, "fullyLabeledReplicas": PODS_PER_RS,
            "readyReplicas": PODS_PER_RS, "availableReplicas": PODS_PER_RS,
            "observedGeneration": 1})
        rs["spec"]["replicas"] = PODS_PER_RS
        rm = rs["metadata"]
        rm.update({"name": "@RS@", "namespace": "@NS@", "uid": "@RSUID@",
                   "resourceVersion": "@RV@"})
        rm["labels"].update({"app": "@APP@", "pod-template-hash": "@HASH@"})
        rm["ownerReferences"][0].update({"name": "@APP@",
                                         "uid": "@DUID@"})
        self.rs_t = template(rs, ["@RS@", "@NS@", "@RSUID@", "@RV@",
                                  "@APP@", "@HASH@", "@DUID@"])
        dep = recorded("04-create-deployment")
        dep["spec"]["replicas"] = PODS_PER_RS
        dm = dep["metadata"]
        dm.update({"name": "@APP@", "namespace": "@NS@", "uid": "@DUID@",
                   "resourceVersion": "@RV@"})
        dm["labels"].update({"app": "@APP@"})
        self.dep_t = template(dep, ["@APP@", "@NS@", "@DUID@", "@RV@"])
        self.kill = json.dumps({"terminated": {
            "exitCode": 137, "reason": "OOMKilled",
            "startedAt": "2026-11-25T01:00:01Z",
            "finishedAt": "2026-11-25T01:09:13Z",
            "containerID": "containerd://" + "1" * 64}},
            separators=(",", ":"))

    @staticmethod
    def render(t, values):
        parts, order = t
        out = [parts[0]]
        for i, m in enumerate(order):
            out.append(values[m])
            out.append(parts[i + 1])
        return b"".join(out)

    def rs_values(self, r):
        app = "app%05d" % r
        h = "%010x" % (0x7c5ddbdf54 + r)
        return {"@APP@": app.encode(), "@HASH@": h.encode(),
                "@RS@": ("%s-%s" % (app, h)).encode(),
                "@NS@": ("ns%02d" % (r % NAMESPACES)).encode(),
                "@RSUID@": ("bef3c9cc-ff72-4f80-9cf2-%012d" % r).encode(),
                "@DUID@": ("a68bca3d-dbdc-414d-b04f-%012d" % r).encode(),
                "@RV@": str(1000 + r).encode()}

    def pod_item(self, i):
        v = self.rs_values(i // PODS_PER_RS)
        v.update({
            "@NAME@": b"%s-%05x" % (v["@RS@"], i),
            "@UID@": ("1cf058bf-f267-401a-bde8-%012d" % i).encode(),
            "@RV@": str(200000 + i).encode(),
            "@VOL@": ("%05x" % (i % 0xfffff)).encode(),
            "@NODE@": ("node-%04d" % (i % 1000)).encode(),
            "@HOSTIP@": ("10.0.%d.%d" % (i % 1000 // 250,
                                         i % 250)).encode(),
            "@PODIP@": ("10.%d.%d.%d" % (1 + i // 65536, i // 256 % 256,
                                         i % 256)).encode(),
            "@LASTSTATE@": (self.kill if i % 100 == 7 else "{}").encode(),
            "@CID@": ("%064x" % i).encode()})
        return self.render(self.pod, v)

    def count(self, resource):
        return {"pods": self.pods, "replicasets": self.rs,
                "deployments": self.rs}.get(resource, 0)

    def item(self, resource, i):
        if resource == "pods":
            return self.pod_item(i)
        t = self.rs_t if resource == "replicasets" else self.dep_t
        return self.render(t, self.rs_values(i))


KINDS = {"pods": ("v1", "PodList"), "replicasets": ("apps/v1",
                                                    "ReplicaSetList"),
         "deployments": ("apps/v1", "DeploymentList")}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, code, body, ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        segs = [s for s in u.path.split("/") if s]
        srv = self.server.owner
        srv.requests.append(self.path)
        if u.path == "/version":
            return self.send(200, b'{"major":"1","minor":"28",'
                             b'"gitVersion":"v1.28.7"}')
        if len(segs) < 3 or segs[0] not in ("api", "apis"):
            return self.notfound()
        resource = segs[-1]
        if q.get("watch") in ("1", "true"):
            return self.watch(q)
        return self.list(resource, q)

    def notfound(self):
        self.send(404, b'{"kind":"Status","apiVersion":"v1","metadata":{},'
                  b'"status":"Failure","reason":"NotFound","code":404}')

    def list(self, resource, q):
        srv = self.server.owner
        av, kind = KINDS.get(resource, ("v1", resource.capitalize()[:-1] +
                                        "List"))
        n = srv.cluster.count(resource)
        limit = int(q.get("limit", "0") or 0) or n or 1
        start = int(q.get("continue", "0") or 0)
        end = min(n, start + limit)
        meta = {"resourceVersion": RV}
        if end < n:
            meta["continue"] = str(end)
            meta["remainingItemCount"] = n - end
        head = json.dumps({"kind": kind, "apiVersion": av,
                           "metadata": meta}, separators=(",", ":"))
        body = b"".join([head[:-1].encode(), b',"items":[',
                         b",".join(srv.cluster.item(resource, i)
                                   for i in range(start, end)), b"]}"])
        srv.count_served(len(body))
        self.send(200, body)

    def watch(self, q):
        srv = self.server.owner
        timeout = min(int(q.get("timeoutSeconds", "300") or 300), 600)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        end = time.monotonic() + timeout
        while time.monotonic() < end and not srv.stopping.is_set():
            srv.stopping.wait(0.5)
        try:
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass
        self.close_connection = True


class ScaleServer:
    def __init__(self, pods):
        self.cluster = Cluster(pods)
        self.requests = []
        self.served_bytes = 0
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.tmp = tempfile.mkdtemp(prefix="bench-scale-")

    def count_served(self, n):
        with self.lock:
            self.served_bytes += n

    def __enter__(self):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()
        port = self.httpd.server_address[1]
        self.kubeconfig = os.path.join(self.tmp, "kubeconfig")
        with open(self.kubeconfig, "w") as f:
            f.write("apiVersion: v1\nkind: Config\nclusters:\n"
                    "- name: scale\n  cluster:\n"
                    "    server: http://127.0.0.1:%d\n"
                    "users:\n- name: scale\n  user:\n    token: bench\n"
                    "contexts:\n- name: scale\n  context:\n"
                    "    cluster: scale\n    user: scale\n"
                    "    namespace: default\n"
                    "current-context: scale\n" % port)
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def pod_json_size(pods):
    """Bytes of JSON one full list of the cluster's pods is."""
    c = Cluster(pods)
    return sum(len(c.pod_item(i)) for i in range(pods))


if __name__ == "__main__":
    import sys
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    c = Cluster(n)
    print(c.pod_item(7).decode())
    json.loads(c.pod_item(7))
    json.loads(c.item("replicasets", 3))
    json.loads(c.item("deployments", 3))
