"""HTTP(S) front end: routing, authentication, faults, watches, admin.

One ThreadingHTTPServer, HTTP/1.1 keep-alive, optional TLS (the
handshake runs in the connection's own thread). Responses carry the
headers kube-apiserver sends (Audit-Id, Cache-Control, Content-Type,
X-Kubernetes-Pf-*); JSON bodies over chunk_threshold bytes go out with
Transfer-Encoding: chunked, as Go's net/http does; curl and Wget get
indented JSON, as kube-apiserver gives them. Watches stream one JSON
event per line, one chunk per event, and end with a clean last chunk at
timeoutSeconds (or abruptly when a fault says so).

/_emulator/... is the admin API (no authentication; loopback only).
"""

import copy
import http.server
import json
import os
import queue
import re
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import uuid

from kubeapi import errors, objects, util, yamlish
from kubeapi.store import TooOld

APF_429_BODY = "Too many requests, please try again later.\n"


class Faults:
    """Injected failures, matched against each API request in order."""

    TYPES = ("error", "throttle", "delay", "drop-watch", "reset",
             "status429")

    def __init__(self):
        self.lock = threading.Lock()
        self.items = []
        self.next_id = 1
        # holds: a fault with "hold": NAME keeps its request waiting,
        # before it answers, until release(NAME) (or holdTimeout)
        self.held = {}          # name -> requests that reached the hold
        self.released = set()
        self.cond = threading.Condition(self.lock)

    def add(self, spec):
        if isinstance(spec, list):
            return [self.add(s) for s in spec]
        if not isinstance(spec, dict) or spec.get("type") not in self.TYPES:
            raise ValueError("fault type must be one of %s"
                             % ", ".join(self.TYPES))
        f = dict(spec)
        f.setdefault("count", 1)
        f.setdefault("path", "")
        re.compile(f["path"])
        if f.get("query"):
            re.compile(f["query"])
        if f.get("body"):
            re.compile(f["body"])
        with self.lock:
            f["id"] = self.next_id
            self.next_id += 1
            f["hits"] = 0
            self.items.append(f)
        return dict(f)

    def clear(self):
        with self.lock:
            self.items = []
            self.released.update(self.held)
            self.cond.notify_all()

    def hold(self, f):
        """Keep this request until the fault's hold is released."""
        name = f["hold"]
        end = time.monotonic() + float(f.get("holdTimeout", 60))
        with self.cond:
            self.held[name] = self.held.get(name, 0) + 1
            self.cond.notify_all()
            while name not in self.released:
                left = end - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)

    def release(self, name):
        with self.cond:
            self.released.add(name)
            self.cond.notify_all()

    def holds(self):
        with self.lock:
            return {"held": dict(self.held),
                    "released": sorted(self.released)}

    def list(self):
        with self.lock:
            return [dict(f) for f in self.items]

    def take(self, method, path, query, is_watch, body=""):
        """Return the faults that fire for this request (consuming)."""
        fired = []
        with self.lock:
            for f in list(self.items):
                if f.get("method") and f["method"].upper() != method:
                    continue
                if f.get("watch") is not None and \
                        bool(f["watch"]) != is_watch:
                    continue
                if f["type"] == "drop-watch" and not is_watch:
                    continue
                if not re.search(f["path"], path):
                    continue
                if f.get("query") and not re.search(f["query"], query):
                    continue
                if f.get("body") and not re.search(f["body"], body or ""):
                    continue
                kinds = {x["type"] for x in fired}
                blocking = {"error", "throttle", "reset", "status429"}
                if f["type"] in blocking and kinds & blocking:
                    continue
                if f["type"] in kinds:
                    continue
                f["hits"] += 1
                if f["count"] > 0:
                    f["count"] -= 1
                    if f["count"] == 0:
                        self.items.remove(f)
                fired.append(dict(f))
        return fired


class RequestLog:
    def __init__(self, maxlen=10000):
        self.lock = threading.Lock()
        self.items = []
        self.seq = 0
        self.maxlen = maxlen

    def add(self, entry):
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            self.items.append(entry)
            if len(self.items) > self.maxlen:
                del self.items[:len(self.items) - self.maxlen]
            return entry

    def since(self, seq=0):
        with self.lock:
            return [copy.deepcopy(e) for e in self.items if e["seq"] > seq]

    def clear(self):
        with self.lock:
            self.items = []


def _parse_accept_table(accept):
    return accept and "as=Table" in accept


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY, as kube-apiserver's Go net/http sets on every
    # connection: with Nagle on, each answer on a kept-alive connection
    # waited ~40 ms for the client's delayed ACK
    disable_nagle_algorithm = True
    server_version = "kubeapi-emulator"
    sys_version = ""

    def log_message(self, fmt, *args):
        if self.server.emu.verbose:
            http.server.BaseHTTPRequestHandler.log_message(self, fmt, *args)

    def setup(self):
        http.server.BaseHTTPRequestHandler.setup(self)
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            try:
                self.request.do_handshake()
            except (ssl.SSLError, OSError):
                self.close_connection = True
                raise
            self.request.settimeout(None)

    def handle(self):
        try:
            http.server.BaseHTTPRequestHandler.handle(self)
        except (ssl.SSLError, ConnectionError, socket.timeout, OSError):
            pass

    # ------------------------------------------------------- output ----
    def send_response(self, code, message=None):
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    def _std_headers(self, content_type="application/json"):
        self.send_header("Audit-Id", str(uuid.uuid4()))
        self.send_header("Cache-Control", "no-cache, private")
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("X-Kubernetes-Pf-Flowschema-Uid",
                         self.server.emu.flowschema_uid)
        self.send_header("X-Kubernetes-Pf-Prioritylevel-Uid",
                         self.server.emu.prioritylevel_uid)

    def _pretty(self):
        ua = self.headers.get("User-Agent") or ""
        q = self._query().get("pretty")
        if q is not None:
            return q in ("true", "1")
        return ua.startswith("curl") or ua.startswith("Wget")

    def write_body(self, code, body, content_type="application/json",
                   headers=()):
        if isinstance(body, (dict, list)):
            text = util.go_json_dumps(body, pretty=self._pretty())
            if not self._pretty():
                text += "\n"
            data = text.encode("utf-8")
        elif isinstance(body, str):
            data = body.encode("utf-8")
        else:
            data = body or b""
        delay = getattr(self, "_answer_delay", 0.0)
        if delay:
            self._answer_delay = 0.0
            time.sleep(delay)
        if self._log is not None:
            self._log["status"] = code
        self.send_response(code)
        self._std_headers(content_type if code != 204 else None)
        for k, v in headers:
            self.send_header(k, v)
        if code == 403:
            self.send_header("X-Content-Type-Options", "nosniff")
        chunked = len(data) > self.server.emu.api.config["chunk_threshold"]
        if code == 204:
            self.end_headers()
        elif chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(data), 32768):
                part = data[i:i + 32768]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        self.wfile.flush()

    def write_error(self, err):
        hdrs = list(err.headers)
        self.write_body(err.code, err.status(), headers=hdrs)

    # -------------------------------------------------------- input ----
    def _query(self):
        q = urllib.parse.urlsplit(self.path).query
        out = {}
        for k, v in urllib.parse.parse_qsl(q, keep_blank_values=True):
            out.setdefault(k, v)
        return out

    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        limit = self.server.emu.api.config["max_request_bytes"]
        if "chunked" in te:
            data = b""
            while True:
                line = self.rfile.readline(100)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1000) not in (b"\r\n", b"\n",
                                                            b""):
                        pass
                    break
                data += self.rfile.read(size)
                self.rfile.readline(10)
                if len(data) > limit:
                    raise errors.APIError(
                        413, "RequestEntityTooLarge",
                        "Request entity too large: limit is %d" % limit)
            return data
        n = int(self.headers.get("Content-Length") or 0)
        if n > limit:
            self.rfile.read(n)
            raise errors.APIError(413, "RequestEntityTooLarge",
                                  "Request entity too large: limit is %d"
                                  % limit)
        return self.rfile.read(n) if n else b""

    # ------------------------------------------------------ methods ----
    def do_GET(self):
        self.dispatch("GET")

    def do_HEAD(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def dispatch(self, method):
        self._log = None
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        try:
            body = self.read_body()
        except errors.APIError as e:
            self.write_error(e)
            return
        except (ValueError, OSError):
            self.close_connection = True
            return
        if path.startswith("/_emulator"):
            try:
                self.server.emu.admin(self, method, path, body)
            except errors.APIError as e:
                self.write_error(e)
            except (ValueError, KeyError, TypeError) as e:
                self.write_body(400, {"error": str(e)})
            return
        self.server.emu.serve_api(self, method, url, body)


class EmulatorServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, emu, addr):
        self.emu = emu
        http.server.ThreadingHTTPServer.__init__(self, addr, Handler)


class Frontend:
    """Glue between HTTP and API: auth, faults, routing, watch streams."""

    def __init__(self, api, tokens, verbose=False):
        self.api = api
        self.tokens = tokens          # token -> {"user","groups","deny"}
        self.verbose = verbose
        self.faults = Faults()
        self.requests = RequestLog()
        self.flowschema_uid = str(uuid.uuid4())
        self.prioritylevel_uid = str(uuid.uuid4())
        self.stopping = threading.Event()
        self.open_watches = []
        self.watch_lock = threading.Lock()

    # ---------------------------------------------------------- auth ----
    def authenticate(self, h):
        auth = h.headers.get("Authorization") or ""
        if auth.lower().startswith("bearer "):
            tok = auth[7:].strip()
            info = self.tokens.get(tok)
            if info is None:
                return None
            return info
        if isinstance(h.request, ssl.SSLSocket):
            cert = h.request.getpeercert()
            if cert:
                cn = None
                groups = []
                for rdn in cert.get("subject", ()):
                    for k, v in rdn:
                        if k == "commonName":
                            cn = v
                        elif k == "organizationName":
                            groups.append(v)
                if cn:
                    return {"user": cn, "groups": groups}
        return None

    def authorize(self, user, verb, rd, resource, sub, ns, name):
        if user.get("deny"):
            return False
        for rule in self.api.config.get("forbidden") or []:
            if rule.get("user") and rule["user"] != user.get("user"):
                continue
            if rule.get("verb") and rule["verb"] != verb:
                continue
            res = resource + ("/" + sub if sub else "")
            if rule.get("resource") and rule["resource"] not in (res,
                                                                 resource):
                continue
            if rule.get("group") is not None and rd is not None and \
                    rule["group"] != rd.group:
                continue
            if rule.get("namespace") and rule["namespace"] != ns:
                continue
            if rule.get("name") and rule["name"] != name:
                continue
            return False
        return True

    def access_review(self, h, method, body, user):
        """POST authorization.k8s.io/v1 selfsubjectaccessreviews: the
        answer the same `forbidden` rules give a real request, shaped as
        kube-apiserver's (201, the spec echoed, status.allowed; denied
        and reason left out when RBAC simply has no rule)."""
        if method != "POST":
            raise errors.APIError(
                405, "MethodNotAllowed", "the server does not allow this "
                "method on the requested resource", {})
        try:
            obj = json.loads(body or b"")
        except ValueError as e:
            raise errors.APIError(400, "BadRequest", str(e), {})
        if not isinstance(obj, dict) or \
                obj.get("kind") != "SelfSubjectAccessReview" or \
                obj.get("apiVersion") != "authorization.k8s.io/v1":
            raise errors.APIError(
                400, "BadRequest", "the body is not an authorization.k8s."
                "io/v1 SelfSubjectAccessReview", {})
        spec = obj.get("spec") or {}
        ra, nra = spec.get("resourceAttributes"), \
            spec.get("nonResourceAttributes")
        if (ra is None) == (nra is None):
            raise errors.APIError(
                422, "Invalid", 'SelfSubjectAccessReview.authorization.'
                'k8s.io "" is invalid: spec.resourceAttributes: Invalid '
                'value: "null": exactly one of nonResourceAttributes or '
                'resourceAttributes must be specified',
                {"group": "authorization.k8s.io",
                 "kind": "SelfSubjectAccessReview",
                 "causes": [{"reason": "FieldValueInvalid",
                             "field": "spec.resourceAttributes"}]})
        if ra is not None:
            class _G:
                group = ra.get("group") or ""
            ns = ra.get("namespace") or None
            # all namespaces: refused in any one is not allowed in all
            nss = [ns] if ns else [None] + sorted({
                r["namespace"] for r in
                self.api.config.get("forbidden") or []
                if r.get("namespace")})
            allowed = all(self.authorize(
                user, ra.get("verb") or "", _G, ra.get("resource") or "",
                ra.get("subresource") or None, n, ra.get("name") or None)
                for n in nss)
        else:
            allowed = not user.get("deny")
        status = {"allowed": allowed}
        if allowed:
            status["reason"] = "emulator: no forbidden rule matches"
        out = {"kind": "SelfSubjectAccessReview",
               "apiVersion": "authorization.k8s.io/v1",
               "metadata": {"creationTimestamp": None},
               "spec": spec, "status": status}
        h.write_body(201, out)

    # --------------------------------------------------------- route ----
    def route(self, path):
        """Return a dict describing the URL, or None for unknown paths."""
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")]
        if not parts or parts == [""]:
            return {"kind": "root"}
        if parts[0] == "api":
            if len(parts) == 1:
                return {"kind": "api"}
            group, version, rest = "", parts[1], parts[2:]
        elif parts[0] == "apis":
            if len(parts) == 1:
                return {"kind": "apis"}
            if len(parts) == 2:
                return {"kind": "group", "group": parts[1]}
            group, version, rest = parts[1], parts[2], parts[3:]
        elif parts[0] in ("version", "healthz", "livez", "readyz"):
            return {"kind": parts[0]}
        else:
            return None
        if not rest:
            return {"kind": "gv", "group": group, "version": version}
        if (group, version, rest) == ("authorization.k8s.io", "v1",
                                      ["selfsubjectaccessreviews"]):
            return {"kind": "ssar"}
        watch = False
        if rest[0] == "watch":
            watch = True
            rest = rest[1:]
        ns = None
        cat = self.api.catalogue
        if len(rest) >= 3 and rest[0] == "namespaces":
            rd = cat.lookup(group, version, rest[2])
            if rd is not None and rd.namespaced:
                ns = rest[1]
                rest = rest[2:]
        if not rest:
            return None
        rd = cat.lookup(group, version, rest[0])
        if rd is None:
            return {"kind": "unknown"}
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if len(rest) > 3:
            return {"kind": "unknown"}
        if rd.namespaced and ns is None and name is not None:
            return {"kind": "unknown"}
        if sub is not None and sub not in rd.subresources:
            return {"kind": "unknown"}
        return {"kind": "resource", "rd": rd, "ns": ns, "name": name,
                "sub": sub, "watch": watch}

    # ---------------------------------------------------------- serve ----
    def serve_api(self, h, method, url, body):
        path, rawq = url.path, url.query
        params = h._query()
        r = self.route(path)
        is_watch = bool(r and r.get("kind") == "resource" and
                        (r.get("watch") or params.get("watch") in
                         ("1", "true", "True")))
        ctype = h.headers.get("Content-Type")
        entry = {"time": util.fmt_microtime(util.now_utc()),
                 "method": method, "path": path, "query": rawq,
                 "params": {k: v for k, v in
                            urllib.parse.parse_qsl(rawq, True)},
                 "contentType": ctype, "accept": h.headers.get("Accept"),
                 "userAgent": h.headers.get("User-Agent"),
                 "watch": is_watch, "status": None, "user": None,
                 "rawBody": body.decode("utf-8", "replace") if body else None,
                 "body": _decode_logged(body, ctype)}
        h._log = self.requests.add(entry)
        fired = self.faults.take(method, path, rawq, is_watch,
                                 entry["rawBody"])
        drop = None
        for f in fired:
            if f.get("hold"):
                self.faults.hold(f)
        h._answer_delay = 0.0
        for f in fired:
            if f["type"] == "delay" and f.get("after"):
                # the request takes effect; its answer comes late (a
                # client that times out meanwhile never hears of it)
                h._answer_delay = float(f.get("ms", 0)) / 1000.0
            elif f["type"] == "delay":
                time.sleep(float(f.get("ms", 0)) / 1000.0)
        for f in fired:
            if f["type"] == "reset":
                h.close_connection = True
                try:
                    h.request.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                entry["status"] = "reset"
                return
            if f["type"] == "throttle":
                ra = str(f.get("retryAfter", 1))
                h.write_body(429, APF_429_BODY, "text/plain; charset=utf-8",
                             [("Retry-After", ra),
                              ("X-Content-Type-Options", "nosniff")])
                return
            if f["type"] == "status429":
                ra = int(f.get("retryAfter", 1))
                e = errors.too_many_requests(ra)
                e.headers = [("Retry-After", str(ra))]
                h.write_error(e)
                return
            if f["type"] == "error":
                code = int(f.get("status", 500))
                msg = f.get("message") or "injected fault"
                if code == 500:
                    e = errors.internal(msg)
                else:
                    e = errors.APIError(code, f.get("reason") or
                                        _reason_for(code), msg, {})
                if f.get("retryAfter") is not None:
                    e.headers = [("Retry-After", str(f["retryAfter"]))]
                h.write_error(e)
                return
            if f["type"] == "drop-watch":
                drop = f
        user = self.authenticate(h)
        if user is None:
            h.write_error(errors.unauthorized())
            return
        entry["user"] = user.get("user")
        try:
            self._serve(h, method, r, params, body, user, drop)
        except errors.APIError as e:
            h.write_error(e)
        except (BrokenPipeError, ConnectionError):
            h.close_connection = True
        except Exception as e:      # an emulator bug must not hang a test
            import traceback
            traceback.print_exc()
            h.write_error(errors.internal("emulator: %s: %s"
                                          % (type(e).__name__, e)))

    def _serve(self, h, method, r, params, body, user, drop):
        api = self.api
        if r is None:
            if method == "GET" and h.path.startswith("/openapi"):
                raise errors.unknown_resource()
            raise errors.unknown_resource()
        k = r["kind"]
        if k in ("healthz", "livez", "readyz"):
            h.write_body(200, "ok", "text/plain; charset=utf-8")
            return
        if k == "version":
            h.write_body(200, VERSION)
            return
        if k == "root":
            h.write_body(200, {"paths": ["/api", "/api/v1", "/apis",
                                         "/healthz", "/version"]})
            return
        if k == "api":
            h.write_body(200, {"kind": "APIVersions", "versions": ["v1"],
                               "serverAddressByClientCIDRs": [{
                                   "clientCIDR": "0.0.0.0/0",
                                   "serverAddress": "127.0.0.1:%d"
                                   % h.server.server_address[1]}]})
            return
        if k == "apis":
            h.write_body(200, api.catalogue.api_group_list())
            return
        if k == "group":
            g = api.catalogue.api_group(r["group"])
            if g is None:
                raise errors.unknown_resource()
            h.write_body(200, g)
            return
        if k == "gv":
            rl = api.catalogue.resource_list(r["group"], r["version"])
            if rl is None:
                raise errors.unknown_resource()
            h.write_body(200, rl)
            return
        if k == "unknown":
            raise errors.unknown_resource()
        if k == "ssar":
            self.access_review(h, method, body, user)
            return
        rd, ns, name, sub = r["rd"], r["ns"], r["name"], r["sub"]
        is_watch = r["watch"] or params.get("watch") in ("1", "true",
                                                         "True")
        verb = {"GET": "get", "POST": "create", "PUT": "update",
                "PATCH": "patch", "DELETE": "delete"}[method]
        if method == "GET" and name is None:
            verb = "watch" if is_watch else "list"
        if method == "DELETE" and name is None:
            verb = "deletecollection"
        if not self.authorize(user, verb, rd, rd.plural, sub, ns, name):
            raise errors.forbidden(user.get("user"), verb, rd, rd.plural,
                                   ns, name, sub)
        ua = h.headers.get("User-Agent")
        ctype = h.headers.get("Content-Type")
        table = _parse_accept_table(h.headers.get("Accept"))
        if name is None:
            if method == "GET" and is_watch:
                self.watch(h, rd, ns, params, drop)
                return
            if method == "GET":
                meta, items = api.list(rd, ns, params)
                h.write_body(200, api.list_object(rd, meta, items, table))
                return
            if method == "POST":
                if rd.namespaced and ns is None:
                    raise errors.method_not_allowed()
                code, obj, warns = api.create(rd, ns or "", body, params,
                                              ua)
                h.write_body(code, obj, headers=_warn_headers(warns))
                return
            if method == "DELETE":
                code, obj = api.delete_collection(rd, ns, params)
                h.write_body(code, obj)
                return
            raise errors.method_not_allowed()
        if sub is None:
            if method == "GET":
                o = api.get(rd, ns, name)
                out = api.render(rd, o)
                if table:
                    out = objects.table(rd, [out], {"resourceVersion": o[
                        "metadata"]["resourceVersion"]}, api.now())
                h.write_body(200, out)
                return
            if method == "PUT":
                code, obj, warns = api.update(rd, ns, name, body, params,
                                              ua)
                h.write_body(code, obj, headers=_warn_headers(warns))
                return
            if method == "PATCH":
                code, obj, warns = api.patch(rd, ns, name, body, ctype,
                                             params, ua)
                h.write_body(code, obj, headers=_warn_headers(warns))
                return
            if method == "DELETE":
                code, obj = api.delete(rd, ns, name, body, params)
                h.write_body(code, obj)
                return
            raise errors.method_not_allowed()
        # subresources
        if sub in ("status",):
            if method == "GET":
                h.write_body(200, api.render(rd, api.get(rd, ns, name)))
                return
            if method == "PUT":
                code, obj, warns = api.update(rd, ns, name, body, params,
                                              ua, subresource="status")
                h.write_body(code, obj, headers=_warn_headers(warns))
                return
            if method == "PATCH":
                code, obj, warns = api.patch(rd, ns, name, body, ctype,
                                             params, ua, subresource=sub)
                h.write_body(code, obj, headers=_warn_headers(warns))
                return
            raise errors.method_not_allowed()
        if sub == "scale":
            if method == "GET":
                h.write_body(200, objects.to_scale(api.render(
                    rd, api.get(rd, ns, name))))
                return
            if method == "PUT":
                code, obj, warns = api.scale_put(rd, ns, name, body, params,
                                                 ua)
                h.write_body(code, obj)
                return
            if method == "PATCH":
                code, obj, warns = api.patch(rd, ns, name, body, ctype,
                                             params, ua, subresource="scale")
                h.write_body(code, obj)
                return
            raise errors.method_not_allowed()
        if sub == "eviction" and method == "POST":
            code, obj = api.evict(rd, ns, name, body, params)
            h.write_body(code, obj)
            return
        if sub == "binding" and method == "POST":
            code, obj = api.bind(rd, ns, name, body)
            h.write_body(code, obj)
            return
        if sub == "log" and method == "GET":
            code, text = api.pod_log(rd, ns, name, params)
            h.write_body(code, text, "text/plain")
            return
        raise errors.method_not_allowed()

    # --------------------------------------------------------- watch ----
    def watch(self, h, rd, ns, params, drop):
        api = self.api
        cfg = api.config
        try:
            from kubeapi import selectors
            lreqs = selectors.parse_label_selector(
                params.get("labelSelector", ""))
            freqs = selectors.parse_field_selector(
                params.get("fieldSelector", ""), rd.storage[1],
                rd.group == "events.k8s.io")
        except selectors.SelectorError as e:
            raise errors.bad_request(str(e))
        rv = params.get("resourceVersion")
        bookmarks = params.get("allowWatchBookmarks") in ("true", "1")
        initial_events = params.get("sendInitialEvents") in ("true", "1")
        if initial_events:
            if not cfg.get("send_initial_events"):
                raise errors.APIError(
                    422, "Invalid", 'ListOptions.meta.k8s.io "" is invalid: '
                    'sendInitialEvents: Forbidden: sendInitialEvents is '
                    'forbidden for watch unless the WatchList feature gate '
                    'is enabled', {"group": "meta.k8s.io",
                                   "kind": "ListOptions"})
            if params.get("resourceVersionMatch") != "NotOlderThan" or \
                    not bookmarks:
                raise errors.APIError(
                    422, "Invalid", 'ListOptions.meta.k8s.io "" is invalid: '
                    'resourceVersionMatch: Forbidden: sendInitialEvents '
                    'requires setting resourceVersionMatch to NotOlderThan '
                    'and allowWatchBookmarks=true',
                    {"group": "meta.k8s.io", "kind": "ListOptions"})
        scale = float(cfg.get("watch_time_scale") or 1.0)
        timeout = params.get("timeoutSeconds")
        try:
            timeout = float(timeout) if timeout not in (None, "") else \
                float(cfg["default_watch_timeout"])
        except ValueError:
            raise errors.bad_request("invalid timeoutSeconds")
        from_rv = None
        if rv not in (None, "", "0") and not initial_events:
            try:
                from_rv = int(rv)
            except ValueError:
                raise errors.bad_request(
                    'invalid resource version: strconv.ParseUint: parsing '
                    '"%s": invalid syntax' % rv)
            if from_rv > api.store.rv and not api.store.wait_rv(
                    from_rv, cfg["too_large_rv_wait"]):
                raise errors.timeout_too_large_rv(from_rv, api.store.rv)
        if rv in (None, "") and not cfg.get("bookmarks_without_rv") and \
                not initial_events:
            bookmarks = False
        # A real kube-apiserver keeps no watch cache for events (its
        # default --watch-cache-sizes gives them none): an events watch is
        # served from etcd and never gets a bookmark.
        if rd.plural == "events":
            bookmarks = False
        scope = ns if rd.namespaced and ns else None
        too_old = None
        try:
            w, initial, replay, cur = api.store.watch(rd.storage, scope,
                                                      from_rv)
        except TooOld as e:
            too_old = e
            w = None
        w_path = h.path
        if h._log is not None:
            h._log["status"] = 200
        h.send_response(200)
        h._std_headers("application/json")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        h.wfile.flush()
        sent = [0]
        limit = int(drop.get("afterEvents", 0)) if drop else None

        def emit(ev_type, obj):
            line = util.go_json_dumps({"type": ev_type, "object": obj}) + \
                "\n"
            data = line.encode("utf-8")
            h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            h.wfile.flush()
            sent[0] += 1

        def finish(clean=True):
            if clean:
                try:
                    h.wfile.write(b"0\r\n\r\n")
                    h.wfile.flush()
                except OSError:
                    pass
            else:
                h.close_connection = True
                try:
                    h.request.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        if too_old is not None:
            st = errors.gone(str(too_old)).status()
            emit("ERROR", st)
            finish()
            return
        w.path = w_path
        with self.watch_lock:
            self.open_watches.append((w, rd, scope))

        def dropped():
            if limit is not None and sent[0] >= limit:
                finish(clean=drop.get("mode", "close") != "abort")
                return True
            return False

        def pred(obj):
            return obj is not None and api._matches(rd, obj, lreqs, freqs)

        try:
            if limit == 0 and dropped():
                return
            pending = []
            if initial is not None:
                for _, obj in initial:
                    if pred(obj):
                        pending.append(("ADDED", obj))
            for ev in replay:
                pending.extend(self._translate(ev, pred))
            for typ, obj in pending:
                emit(typ, api.render(rd, obj))
                if dropped():
                    return
            if initial_events:
                emit("BOOKMARK", self._bookmark(rd, cur, initial_end=True))
            start = time.monotonic()
            deadline = start + timeout * scale
            interval = float(cfg.get("bookmark_interval") or 60) * scale
            next_bm = start + interval
            final_bm = deadline - 2.0 * scale if timeout > 2 else None
            while not self.stopping.is_set():
                now = time.monotonic()
                if now >= deadline:
                    break
                wake = deadline
                if bookmarks:
                    wake = min(wake, next_bm)
                    if final_bm is not None and final_bm > now:
                        wake = min(wake, final_bm)
                try:
                    ev = w.q.get(timeout=max(0.0, min(wake - now, 0.5)))
                except queue.Empty:
                    ev = False
                if ev == "bookmark":
                    emit("BOOKMARK", self._bookmark(rd, api.store.rv))
                    if dropped():
                        return
                    continue
                if ev == "expired":
                    emit("ERROR", errors.gone(
                        "too old resource version: %d (%d)"
                        % (cur, max(api.store.watch_floor, cur))).status())
                    break
                if ev is None:
                    break
                if ev is not False:
                    for typ, obj in self._translate(ev, pred):
                        emit(typ, api.render(rd, obj))
                        if dropped():
                            return
                    continue
                now = time.monotonic()
                if bookmarks and (now >= next_bm or (
                        final_bm is not None and now >= final_bm)):
                    emit("BOOKMARK", self._bookmark(rd, api.store.rv))
                    if dropped():
                        return
                    next_bm = now + interval
                    if final_bm is not None and now >= final_bm:
                        final_bm = None
            finish()
        except (BrokenPipeError, ConnectionError, OSError):
            h.close_connection = True
        finally:
            api.store.unwatch(w)
            with self.watch_lock:
                self.open_watches = [x for x in self.open_watches
                                     if x[0] is not w]

    @staticmethod
    def _translate(ev, pred):
        """LogEvent -> watch events for this watcher's selectors."""
        new_ok = pred(ev.obj) if ev.type != "DELETED" else False
        old_ok = pred(ev.prev) if ev.prev is not None else False
        if ev.type == "ADDED":
            return [("ADDED", ev.obj)] if new_ok else []
        if ev.type == "DELETED":
            return [("DELETED", ev.obj)] if pred(ev.obj) or old_ok else []
        if new_ok and old_ok:
            return [("MODIFIED", ev.obj)]
        if new_ok:
            return [("ADDED", ev.obj)]
        if old_ok:
            return [("DELETED", ev.obj)]
        return []

    def _bookmark(self, rd, rv, initial_end=False):
        md = {"resourceVersion": str(rv)}
        if initial_end:
            md["annotations"] = {"k8s.io/initial-events-end": "true"}
        elif not rd.custom:
            md["creationTimestamp"] = None
        o = {"kind": rd.kind, "apiVersion": rd.api_version, "metadata": md}
        o.update(rd.zero())
        return o

    def send_bookmarks(self):
        n = 0
        with self.watch_lock:
            for w, rd, scope in self.open_watches:
                if not w.closed:
                    w.poke("bookmark")
                    n += 1
        return n

    def expire_watches(self, path=""):
        n = 0
        with self.watch_lock:
            for w, rd, scope in self.open_watches:
                if re.search(path or "", w.path or ""):
                    w.poke("expired")
                    n += 1
        return n

    # --------------------------------------------------------- admin ----
    def admin(self, h, method, path, body):
        api = self.api
        data = None
        if body:
            ctype = (h.headers.get("Content-Type") or "").lower()
            text = body.decode("utf-8")
            if "yaml" in ctype:
                docs = yamlish.load_all(text)
                data = docs[0] if len(docs) == 1 else docs
            else:
                data = json.loads(text)
        q = h._query()
        sub = path[len("/_emulator"):].strip("/")
        if sub == "state" and method == "GET":
            st = api.store.state()
            st["openWatches"] = len(self.open_watches)
            st["faults"] = self.faults.list()
            h.write_body(200, st)
        elif sub == "faults":
            if method == "POST":
                h.write_body(201, {"faults": self.faults.add(data)
                                   if isinstance(data, list) else
                                   [self.faults.add(data)]})
            elif method == "GET":
                h.write_body(200, {"faults": self.faults.list()})
            elif method == "DELETE":
                self.faults.clear()
                h.write_body(200, {"faults": []})
            else:
                raise errors.method_not_allowed()
        elif sub == "release" and method == "POST":
            self.faults.release(data["name"])
            h.write_body(200, self.faults.holds())
        elif sub == "holds" and method == "GET":
            h.write_body(200, self.faults.holds())
        elif sub == "requests":
            if method == "GET":
                h.write_body(200, {"items": self.requests.since(
                    int(q.get("since", "0") or 0))})
            elif method == "DELETE":
                self.requests.clear()
                h.write_body(200, {"items": []})
            else:
                raise errors.method_not_allowed()
        elif sub == "objects":
            if method == "POST":
                loaded = self.load(data, replace=q.get("replace", "true")
                                   != "false")
                h.write_body(201, {"loaded": [
                    {"kind": k, "namespace": n, "name": m}
                    for k, n, m in loaded]})
            elif method == "GET":
                rd = api.catalogue.lookup(q.get("group", ""),
                                          q.get("version", "v1"),
                                          q.get("resource", "pods"))
                if rd is None:
                    raise errors.unknown_resource()
                items, rv = api.store.list(rd.storage, q.get("namespace"))
                h.write_body(200, {"resourceVersion": str(rv), "items": [
                    api.render(rd, o) for _, o in items]})
            else:
                raise errors.method_not_allowed()
        elif sub == "change" and method == "POST":
            h.write_body(200, api.admin_change(data))
        elif sub == "compact" and method == "POST":
            d = data or {}
            h.write_body(200, api.store.compact(
                d.get("resourceVersion"), d.get("etcd", True),
                d.get("watch", True)))
        elif sub == "config" and method in ("POST", "GET"):
            if method == "POST":
                self.configure(data or {})
            h.write_body(200, _public_config(api.config, self.tokens))
        elif sub == "bookmark" and method == "POST":
            h.write_body(200, {"watches": self.send_bookmarks()})
        elif sub == "expire-watches" and method == "POST":
            h.write_body(200, {"watches": self.expire_watches(
                (data or {}).get("path", ""))})
        elif sub == "crds" and method == "POST":
            d = data or {}
            api.catalogue.add_crd(d["group"], d["version"], d["plural"],
                                  d["kind"], d.get("namespaced", True),
                                  d.get("shortNames"),
                                  d.get("status", False),
                                  d.get("scale", False))
            h.write_body(201, {"added": d["plural"]})
        elif sub == "logs" and method == "POST":
            d = data or {}
            api.pod_logs[(d.get("namespace", "default"), d["pod"],
                          d.get("container", ""))] = d.get("text", "")
            h.write_body(200, {"ok": True})
        else:
            raise errors.unknown_resource()

    def load(self, data, replace=True):
        if isinstance(data, dict) and "dir" in data and len(data) == 1:
            return self.load_dir(data["dir"], replace)
        return self.api.admin_load(data, replace=replace)

    def load_dir(self, path, replace=True):
        out = []
        names = sorted(os.listdir(path))
        for n in names:
            full = os.path.join(path, n)
            if os.path.isdir(full):
                out += self.load_dir(full, replace)
                continue
            with open(full, encoding="utf-8") as f:
                text = f.read()
            if n.endswith(".json"):
                docs = [json.loads(text)]
            elif n.endswith(".ndjson"):
                docs = [json.loads(line) for line in text.splitlines()
                        if line.strip()]
            elif n.endswith((".yaml", ".yml")):
                docs = [d for d in yamlish.load_all(text) if d is not None]
            else:
                continue
            for d in docs:
                if not (isinstance(d, dict) and "kind" in d and
                        "apiVersion" in d):
                    continue
                if not d["kind"].endswith("List") and \
                        self.api.catalogue.by_kind(d["apiVersion"],
                                                   d["kind"]) is None:
                    # Not a served kind (a Status, a Config...): skip it.
                    sys.stderr.write("kubeapi: %s: skipping %s %s\n"
                                     % (full, d["apiVersion"], d["kind"]))
                    continue
                out += self.api.admin_load(d, replace=replace)
        return out

    def configure(self, d):
        cfg = self.api.config
        for k, v in d.items():
            if k == "tokens":
                for tok, info in v.items():
                    if info is None:
                        self.tokens.pop(tok, None)
                    else:
                        self.tokens[tok] = info
            elif k in ("window_events", "window_seconds"):
                setattr(self.api.store, k, v)
                cfg[k] = v
            elif k in cfg or k in ("forbidden",):
                cfg[k] = v
            else:
                raise ValueError("unknown config key %r" % k)


def _public_config(cfg, tokens):
    out = dict(cfg)
    out["tokens"] = {t: i for t, i in tokens.items()}
    return out


def _warn_headers(warns):
    return [("Warning", '299 - %s' % json.dumps(w)) for w in warns]


def _reason_for(code):
    return {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden",
            404: "NotFound", 409: "Conflict", 410: "Expired",
            422: "Invalid", 429: "TooManyRequests", 500: "InternalError",
            503: "ServiceUnavailable", 504: "Timeout"}.get(code, "Unknown")


def _decode_logged(body, ctype):
    if not body:
        return None
    text = body.decode("utf-8", "replace")
    if ctype and "yaml" in ctype:
        try:
            return yamlish.load(text)
        except yamlish.YAMLError:
            return text
    try:
        return json.loads(text)
    except ValueError:
        return text


VERSION = {"major": "1", "minor": "28", "gitVersion": "v1.28.7",
           "gitCommit": "c8dcb00be9961ec36d141d2e4103f85f92bcf291",
           "gitTreeState": "clean", "buildDate": "2024-02-14T10:32:40Z",
           "goVersion": "go1.21.13", "compiler": "gc",
           "platform": "linux/amd64"}


def make_tls_context(cert, key, ca):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.load_verify_locations(ca)
    ctx.verify_mode = ssl.CERT_OPTIONAL
    return ctx
