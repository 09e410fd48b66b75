"""A minimal HTTP client for talking to the emulator from Python tests.

Client(url, token, ca_file).request(method, path, body=..., ...) returns
Response(status, headers, body bytes, .json()); watch() yields the raw
lines of a watch stream as they arrive (chunked decoding by http.client).
"""

import http.client
import json
import ssl
import urllib.parse


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers          # list of (name, value)
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def json(self):
        return json.loads(self.body.decode("utf-8"))


class Client:
    def __init__(self, url, token=None, ca_file=None, user_agent="curl/8.0",
                 timeout=30, cert=None):
        u = urllib.parse.urlsplit(url)
        self.host = u.hostname
        self.port = u.port
        self.tls = u.scheme == "https"
        self.token = token
        self.ca_file = ca_file
        self.cert = cert
        self.user_agent = user_agent
        self.timeout = timeout

    def _conn(self, timeout=None):
        t = timeout or self.timeout
        if self.tls:
            ctx = ssl.create_default_context(cafile=self.ca_file)
            if self.cert:
                ctx.load_cert_chain(*self.cert)
            return http.client.HTTPSConnection(self.host, self.port,
                                               context=ctx, timeout=t)
        return http.client.HTTPConnection(self.host, self.port, timeout=t)

    def _headers(self, content_type=None, accept="application/json",
                 token=None, extra=None):
        h = {"Accept": accept, "User-Agent": self.user_agent}
        tok = self.token if token is None else token
        if tok:
            h["Authorization"] = "Bearer " + tok
        if content_type:
            h["Content-Type"] = content_type
        h.update(extra or {})
        return h

    def request(self, method, path, body=None, content_type=None,
                accept="application/json", token=None, headers=None):
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            content_type = content_type or "application/json"
        if isinstance(body, str):
            body = body.encode("utf-8")
        c = self._conn()
        try:
            c.request(method, path, body=body, headers=self._headers(
                content_type, accept, token, headers))
            r = c.getresponse()
            data = r.read()
            return Response(r.status, r.getheaders(), data)
        finally:
            c.close()

    def watch(self, path, token=None, timeout=60):
        """Yield (status, headers) first, then each line (bytes)."""
        c = self._conn(timeout)
        try:
            c.request("GET", path, headers=self._headers(token=token))
            r = c.getresponse()
            yield r.status, r.getheaders()
            while True:
                line = r.readline()
                if not line:
                    break
                yield line
        finally:
            c.close()

    def watch_events(self, path, **kw):
        """All events of a watch stream (blocks until it ends)."""
        it = self.watch(path, **kw)
        status, headers = next(it)
        lines = list(it)
        return status, headers, lines
