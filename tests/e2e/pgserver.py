"""A Debian PostgreSQL for the tests, on 127.0.0.1, in a temporary directory.

    with PgServer() as pg:
        url = pg.database("t1")       # a fresh database, its postgres:// URL
        pg.query(url, "SELECT 1")     # rows as lists of strings (psql -A)

initdb and postgres come from the Debian packages (postgresql-NN:
/usr/lib/postgresql/NN/bin); REMEDIATE_PG_BIN names another directory.
PostgreSQL refuses to run as root, so when the tests run as root the
server runs as the unprivileged `postgres` user (or `nobody`), through
runuser or setpriv, in a directory handed to that user.  Trust
authentication on loopback only; fsync off (the tests kill remediate, not
the server) unless PgServer(fsync=True) (bench/state: commits priced as a
real server prices them).  `skip_reason()` says why a test cannot have one.
"""
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

START_TIMEOUT = 60      # s: a loaded CI machine
USER = "remediate"


def bindir():
    env = os.environ.get("REMEDIATE_PG_BIN")
    if env:
        return env
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[-3])
                   if p.split("/")[-3].isdigit() else 0)
    return os.path.dirname(found[-1]) if found else None


def skip_reason():
    d = bindir()
    if d is None or not os.path.exists(os.path.join(d, "postgres")):
        return ("PostgreSQL server binaries not found (apt-get install "
                "postgresql, or set REMEDIATE_PG_BIN)")
    if shutil.which("psql") is None and not os.path.exists(
            os.path.join(d, "psql")):
        return "psql not found (apt-get install postgresql-client)"
    if os.geteuid() == 0 and _runas() is None:
        return "running as root and no unprivileged user to run postgres as"
    return None


def _runas():
    """The account postgres runs as when we are root, or None."""
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    return None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self, fsync=False):
        self.fsync = fsync
        self.bin = bindir()
        self.dir = tempfile.mkdtemp(prefix="remediate-pg-")
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.port = _free_port()
        self.proc = None
        self.user = _runas() if os.geteuid() == 0 else None
        if self.user:
            os.chown(self.dir, self.user.pw_uid, self.user.pw_gid)

    def _cmd(self, argv):
        if self.user is None:
            return argv
        if shutil.which("runuser"):
            return ["runuser", "-u", self.user.pw_name, "--"] + argv
        return ["setpriv", "--reuid=%d" % self.user.pw_uid,
                "--regid=%d" % self.user.pw_gid, "--clear-groups"] + argv

    def start(self):
        subprocess.run(self._cmd([
            os.path.join(self.bin, "initdb"), "-D", self.data, "-U", USER,
            "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C"]),
            check=True, capture_output=True, timeout=START_TIMEOUT)
        self.log = open(os.path.join(self.dir, "postgres.log"), "ab")
        return self.resume()

    def resume(self):
        """Starts the server (again, after halt) on the same port."""
        self.proc = subprocess.Popen(self._cmd([
            os.path.join(self.bin, "postgres"), "-D", self.data,
            "-h", "127.0.0.1", "-p", str(self.port), "-k", self.dir,
            "-c", "fsync=%s" % ("on" if self.fsync else "off"),
            "-c", "max_connections=50",
            "-c", "shared_buffers=16MB"]),
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            p = subprocess.run(self._psql(self.url("postgres"), "SELECT 1"),
                               capture_output=True, text=True, timeout=30)
            if p.returncode == 0:
                return self
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("postgres did not start: " +
                                   open(os.path.join(self.dir,
                                                     "postgres.log")).read())
            time.sleep(0.1)

    def url(self, db):
        return "postgresql://%s@127.0.0.1:%d/%s" % (USER, self.port, db)

    def _psql(self, url, sql):
        psql = shutil.which("psql") or os.path.join(self.bin, "psql")
        return [psql, "-X", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                "-d", url, "-c", sql]

    def query(self, url, sql):
        """Rows of sql's result, each a list of strings."""
        p = subprocess.run(self._psql(url, sql), capture_output=True,
                           text=True, timeout=60)
        if p.returncode != 0:
            raise RuntimeError("psql: %s: %s" % (sql, p.stderr))
        return [line.split("\t") for line in p.stdout.splitlines() if line]

    def database(self, name):
        """A new, empty database; its URL."""
        self.query(self.url("postgres"), 'CREATE DATABASE "%s"' % name)
        return self.url(name)

    def stop(self):
        self.halt()
        if getattr(self, "log", None):
            self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def halt(self):
        """Stops the server, keeping its data (resume starts it again)."""
        if self.proc and self.proc.poll() is None:
            # SIGINT: fast shutdown (clients are cut).  To the postmaster
            # itself: runuser in between need not pass it on.
            try:
                with open(os.path.join(self.data, "postmaster.pid")) as f:
                    os.kill(int(f.readline()), signal.SIGINT)
            except (OSError, ValueError):
                self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
