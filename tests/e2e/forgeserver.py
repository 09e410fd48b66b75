"""A forge's pull-request API on 127.0.0.1, for tests: GitHub and
Gitea/Forgejo (the same shapes) or GitLab merge requests, pinned to what
their REST documentation shows:

GitHub/Gitea (docs.github.com/rest/pulls, Gitea's swagger):
  GET  /repos/O/R                      -> {default_branch, full_name}
  GET  /repos/O/R/pulls?state=open&head=O:B
       (GitHub filters by head; Gitea lists every open pull request)
  POST /repos/O/R/pulls {title, head, base, body?}
       -> 201 {number, html_url, state: "open", merged: false, head: {ref},
               base: {ref}, title, body}; 422 when head already has one
  POST /repos/O/R/issues/N/comments {body} -> 201 {id, body}
  GET  /repos/O/R/pulls/N              -> state "open"|"closed", merged,
                                          merge_commit_sha, merged_at
  GET  /repos/O/R/compare/BASE...HEAD  -> GitHub {status: identical|
       ahead|behind|diverged, ahead_by, behind_by}, Gitea {total_commits,
       commits}; 404 for a commit the repository lacks
  Authorization: "Bearer T" (GitHub) or "token T" (Gitea), else 401.
GitLab (docs.gitlab.com/api/merge_requests):
  GET  /projects/O%2FR                 -> {default_branch, path_with_namespace}
  GET  /projects/O%2FR/merge_requests?state=opened&source_branch=B
  POST /projects/O%2FR/merge_requests {source_branch, target_branch, title,
       description?} -> 201 {iid, web_url, state: "opened", source_branch}
  POST /projects/O%2FR/merge_requests/N/notes {body} -> 201
  GET  /projects/O%2FR/merge_requests/N -> state opened|closed|merged,
       sha (the head), merge_commit_sha (null for fast-forward and
       squash merges), squash_commit_sha, merged_at
  GET  /projects/O%2FR/repository/compare?from=A&to=B -> {commits: [...]}
       (B's commits since the merge base), 404 for an unknown commit
  PRIVATE-TOKEN: T, else 401.
Compares are answered from a real bare repository (git_dir=).

Tests merge or close a request with merge()/close() and read requests()
and pulls().  merged_at is the time of the merge as each forge writes it:
GitHub "2026-03-14T09:40:00Z", GitLab with milliseconds, Gitea with its
server's offset; merge(merged_at=) sets another (the forge's clock is the
test's: a merge long ago needs no waiting).  hold(method, path_regex) keeps the answers to matching
requests back (a slow or hung forge) until release(); held() counts the
requests waiting whose client still waits (one that timed out and closed
its connection is not counted), arrived() every request a hold has
caught (a client that gave up and asked again counts twice).
"""
import datetime
import json
import re
import select
import socket
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _connected(sock):
    """The client has not closed its end (it still waits for us)."""
    try:
        r, _, _ = select.select([sock], [], [], 0)
        return not r or sock.recv(1, socket.MSG_PEEK) != b""
    except OSError:
        return False


class Forge:
    def __init__(self, kind="github", repo="platform/shop-deploy",
                 token="s3cret", default_branch="main", git_dir=None):
        self.kind, self.repo, self.token = kind, repo, token
        self.git_dir = git_dir
        self.default_branch = default_branch
        self.lock = threading.Lock()
        self.prs, self.comments, self.log = [], [], []
        # [method, compiled path regex, Event, waiting sockets, arrived]
        self.holds = []
        forge = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                forge._serve(self, "GET")

            def do_POST(self):
                forge._serve(self, "POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.api = self.url + ("/api/v4" if kind == "gitlab" else
                               "/api/v1" if kind == "gitea" else "")
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    # ------------------------------------------------------ test side --
    def pulls(self):
        with self.lock:
            return json.loads(json.dumps(self.prs))

    def requests(self):
        with self.lock:
            return list(self.log)

    def hold(self, method, path):
        with self.lock:
            self.holds.append([method, re.compile(path), threading.Event(),
                               [], 0])

    def held(self):
        with self.lock:
            socks = [c for h in self.holds for c in h[3]]
        return sum(1 for c in socks if _connected(c))

    def arrived(self):
        with self.lock:
            return sum(h[4] for h in self.holds)

    def release(self):
        with self.lock:
            for h in self.holds:
                h[2].set()

    def _time(self, t):
        """t (seconds since the epoch) as this forge writes a time."""
        if self.kind == "gitlab":
            d = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
            return d.strftime("%Y-%m-%dT%H:%M:%S.") + \
                "%03dZ" % (d.microsecond // 1000)
        if self.kind == "gitea":
            tz = datetime.timezone(datetime.timedelta(hours=2))
            return datetime.datetime.fromtimestamp(int(t), tz).isoformat()
        return datetime.datetime.fromtimestamp(
            int(t), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def merge(self, number, sha="0" * 40, method="merge", merged_at=None):
        """GitLab's method "ff" (fast-forward: no merge commit, the head
        `sha` lands on the target) or "squash" (fast-forward of one squash
        commit) leaves merge_commit_sha null, as GitLab does.  merged_at:
        seconds since the epoch, default now."""
        with self.lock:
            pr = self._pr(number)
            pr["merged_at"] = self._time(time.time() if merged_at is None
                                         else merged_at)
            if self.kind == "gitlab":
                pr["state"] = "merged"
                if method == "ff":
                    pr["sha"] = sha
                    return
                if method == "squash":
                    pr["squash_commit_sha"] = sha
                    return
            else:
                pr["state"], pr["merged"] = "closed", True
            pr["merge_commit_sha"] = sha

    def close(self, number):
        with self.lock:
            self._pr(number)["state"] = "closed"

    # ---------------------------------------------------- server side --
    def _pr(self, number):
        key = "iid" if self.kind == "gitlab" else "number"
        return [p for p in self.prs if p[key] == number][0]

    def _authorized(self, h):
        if self.kind == "gitlab":
            return h.headers.get("PRIVATE-TOKEN") == self.token
        want = ("Bearer " if self.kind == "github" else "token ") + \
            self.token
        return h.headers.get("Authorization") == want

    def _wait_if_held(self, method, path, conn):
        with self.lock:
            hold = next((x for x in self.holds if x[0] == method and
                         x[1].search(path) and not x[2].is_set()), None)
            if hold is None:
                return
            hold[3].append(conn)
            hold[4] += 1
        hold[2].wait(60)    # bounded: the test releases it
        with self.lock:
            hold[3].remove(conn)

    def _serve(self, h, method):
        u = urllib.parse.urlsplit(h.path)
        self._wait_if_held(method, u.path, h.connection)
        q = dict(urllib.parse.parse_qsl(u.query))
        n = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(n) if n else b""
        with self.lock:
            self.log.append({"method": method, "path": u.path, "query": q,
                             "body": json.loads(raw) if raw else None,
                             "auth": bool(self._authorized(h))})
            if not self._authorized(h):
                return self._send(h, 401, {"message": "Bad credentials"})
            try:
                code, body = (self._gitlab if self.kind == "gitlab" else
                              self._github)(method, u.path, q,
                                            json.loads(raw) if raw else None)
            except (KeyError, ValueError, IndexError) as e:
                code, body = 422, {"message": "Validation Failed: %s" % e}
        self._send(h, code, body)

    def _count(self, base, head):
        """Commits in head's history that base's lacks, or None when the
        repository does not have one of them."""
        if self.git_dir is None:
            return None
        p = subprocess.run(["git", "--git-dir", self.git_dir, "rev-list",
                            "--count", "%s..%s" % (base, head)],
                           capture_output=True, text=True, timeout=30)
        return int(p.stdout) if p.returncode == 0 else None

    @staticmethod
    def _send(h, code, body):
        data = json.dumps(body).encode()
        h.send_response(code)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def _github(self, method, path, q, body):
        prefix = ("/api/v1" if self.kind == "gitea" else "") + \
            "/repos/" + self.repo
        if not path.startswith(prefix):
            return 404, {"message": "Not Found"}
        rest = path[len(prefix):]
        if method == "GET" and rest == "":
            return 200, {"full_name": self.repo,
                         "default_branch": self.default_branch}
        if rest == "/pulls" and method == "GET":
            out = [p for p in self.prs if q.get("state", "open") in
                   ("all", p["state"])]
            if self.kind == "github" and "head" in q:
                out = [p for p in out if "%s:%s" % (
                    self.repo.split("/")[0], p["head"]["ref"]) == q["head"]]
            return 200, out
        if rest == "/pulls" and method == "POST":
            for k in ("title", "head", "base"):
                if not body.get(k):
                    raise KeyError(k)
            if any(p["head"]["ref"] == body["head"] and p["state"] == "open"
                   for p in self.prs):
                return 422, {"message": "A pull request already exists for "
                             "%s." % body["head"]}
            num = len(self.prs) + 1
            pr = {"number": num, "state": "open", "merged": False,
                  "html_url": "%s/%s/pull/%d" % (self.url, self.repo, num),
                  "title": body["title"], "body": body.get("body"),
                  "head": {"ref": body["head"]},
                  "base": {"ref": body["base"]}, "merge_commit_sha": None,
                  "merged_at": None}
            self.prs.append(pr)
            return 201, pr
        m = re.fullmatch(r"/issues/(\d+)/comments", rest)
        if m and method == "POST":
            self._pr(int(m.group(1)))
            c = {"id": len(self.comments) + 1, "body": body["body"],
                 "number": int(m.group(1))}
            self.comments.append(c)
            return 201, c
        m = re.fullmatch(r"/pulls/(\d+)", rest)
        if m and method == "GET":
            return 200, self._pr(int(m.group(1)))
        m = re.fullmatch(r"/compare/([^/]+)\.\.\.([^/]+)", rest)
        if m and method == "GET":
            ahead = self._count(m.group(1), m.group(2))
            behind = self._count(m.group(2), m.group(1))
            if ahead is None or behind is None:
                return 404, {"message": "Not Found"}
            if self.kind == "gitea":
                return 200, {"total_commits": ahead,
                             "commits": [{}] * ahead}
            return 200, {"ahead_by": ahead, "behind_by": behind,
                         "status": "identical" if ahead == behind == 0
                         else "ahead" if behind == 0 else "behind"
                         if ahead == 0 else "diverged"}
        return 404, {"message": "Not Found"}

    def _gitlab(self, method, path, q, body):
        prefix = "/api/v4/projects/" + urllib.parse.quote(self.repo, "")
        if not path.startswith(prefix):
            return 404, {"message": "404 Project Not Found"}
        rest = path[len(prefix):]
        if method == "GET" and rest == "":
            return 200, {"path_with_namespace": self.repo,
                         "default_branch": self.default_branch}
        if rest == "/merge_requests" and method == "GET":
            return 200, [p for p in self.prs if
                         q.get("state", "opened") in ("all", p["state"]) and
                         q.get("source_branch", p["source_branch"]) ==
                         p["source_branch"]]
        if rest == "/merge_requests" and method == "POST":
            for k in ("source_branch", "target_branch", "title"):
                if not body.get(k):
                    raise KeyError(k)
            if any(p["source_branch"] == body["source_branch"] and
                   p["state"] == "opened" for p in self.prs):
                return 409, {"message": ["Another open merge request already "
                                         "exists for this source branch"]}
            iid = len(self.prs) + 1
            mr = {"iid": iid, "id": 1000 + iid, "state": "opened",
                  "web_url": "%s/%s/-/merge_requests/%d" % (
                      self.url, self.repo, iid),
                  "title": body["title"],
                  "description": body.get("description"),
                  "source_branch": body["source_branch"],
                  "target_branch": body["target_branch"],
                  "sha": "1" * 40, "merge_commit_sha": None,
                  "squash_commit_sha": None, "merged_at": None}
            self.prs.append(mr)
            return 201, mr
        m = re.fullmatch(r"/merge_requests/(\d+)/notes", rest)
        if m and method == "POST":
            self._pr(int(m.group(1)))
            c = {"id": len(self.comments) + 1, "body": body["body"],
                 "number": int(m.group(1))}
            self.comments.append(c)
            return 201, c
        m = re.fullmatch(r"/merge_requests/(\d+)", rest)
        if m and method == "GET":
            return 200, self._pr(int(m.group(1)))
        if rest == "/repository/compare" and method == "GET":
            ahead = self._count(q["from"], q["to"])
            if ahead is None:
                return 404, {"message": "404 Commit Not Found"}
            return 200, {"commits": [{}] * ahead, "diffs": [],
                         "compare_same_ref": q["from"] == q["to"]}
        return 404, {"message": "404 Not Found"}
