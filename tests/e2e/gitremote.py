"""A real Git remote on 127.0.0.1 for tests: a bare repository served by
Debian's `git daemon` with receive-pack enabled, so libgit2 really clones
from it and pushes to it.  Files are committed through the git command."""
import os
import socket
import subprocess
import time

from conftest import free_port


def git(*args, cwd=None):
    p = subprocess.run(("git",) + args, cwd=cwd, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout


class GitRemote:
    def __init__(self, root, name, files, branch="main"):
        self.root, self.name, self.branch = str(root), name, branch
        self.bare = os.path.join(self.root, name + ".git")
        work = os.path.join(self.root, "seed")
        git("init", "-q", "-b", branch, work)
        for path, text in files.items():
            full = os.path.join(work, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w", newline="") as f:
                f.write(text)
        git("add", "-A", cwd=work)
        git("-c", "user.name=t", "-c", "user.email=t@localhost", "commit",
            "-q", "-m", "seed", cwd=work)
        git("clone", "-q", "--bare", work, self.bare)
        self.proc, self.port = None, None

    def __enter__(self):
        for _ in range(5):
            self.port = free_port()
            self.proc = subprocess.Popen(
                ["git", "daemon", "--export-all", "--enable=receive-pack",
                 "--reuseaddr", "--listen=127.0.0.1",
                 "--port=%d" % self.port, "--base-path=" + self.root,
                 self.root], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
            for _ in range(50):
                try:
                    socket.create_connection(("127.0.0.1", self.port),
                                             0.2).close()
                    return self
                except OSError:
                    if self.proc.poll() is not None:
                        break
                    time.sleep(0.1)
            self.proc.kill()
            self.proc.wait()
        raise AssertionError("git daemon did not start")

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(10)

    @property
    def url(self):
        return "git://127.0.0.1:%d/%s.git" % (self.port, self.name)

    def commit(self, files, message, branch=None):
        """Commits files ({path: text}) on branch (default: the base) as
        someone else would, e.g. a squash merge; returns the commit."""
        branch = branch or self.branch
        work = os.path.join(self.root, "work-%d" % len(os.listdir(
            self.root)))
        git("clone", "-q", "-b", branch, self.bare, work)
        for path, text in files.items():
            with open(os.path.join(work, path), "w", newline="") as f:
                f.write(text)
        git("add", "-A", cwd=work)
        git("-c", "user.name=t", "-c", "user.email=t@localhost", "commit",
            "-q", "-m", message, cwd=work)
        git("push", "-q", "origin", branch, cwd=work)
        return git("rev-parse", "HEAD", cwd=work).strip()

    def merge(self, branch, into=None):
        """Merges branch into the base with a merge commit, as a forge's
        merge button does; returns the merge commit."""
        into = into or self.branch
        work = os.path.join(self.root, "work-%d" % len(os.listdir(
            self.root)))
        git("clone", "-q", "-b", into, self.bare, work)
        git("-c", "user.name=t", "-c", "user.email=t@localhost", "merge",
            "-q", "--no-ff", "-m", "Merge " + branch, "origin/" + branch,
            cwd=work)
        git("push", "-q", "origin", into, cwd=work)
        return git("rev-parse", "HEAD", cwd=work).strip()

    def rev(self, ref):
        return git("--git-dir", self.bare, "rev-parse", ref).strip()

    def branches(self):
        out = git("--git-dir", self.bare, "for-each-ref", "--format",
                  "%(refname:short)", "refs/heads")
        return sorted(out.split())

    def show(self, ref, path):
        return git("--git-dir", self.bare, "show", "%s:%s" % (ref, path))

    def log(self, ref):
        return git("--git-dir", self.bare, "log", "--format=%H%n%B%n--",
                   ref)
