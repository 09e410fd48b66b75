"""What a new user trips on first: every usage error says what is wrong,
then how to use the command, with exit status 2; a file an option names
and cannot be read is named with its option; `run` refuses what it can
before it asks for a cluster or creates a state file; replay explains
itself; SIGTERM is prompt even while the API server is unreachable; the
unit harness ends a test at a failed REQUIRE instead of crashing."""
import json
import os
import shutil
import subprocess

import pytest

from conftest import ROOT, Daemon, binary, free_port, run

SEED = os.path.join(ROOT, "examples", "seed")


def usage_error(p, what, command):
    """A line saying what is wrong, then the command's usage, exit 2."""
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    lines = p.stderr.splitlines()
    assert lines[0] == "remediate %s: %s" % (command, what), p.stderr
    assert lines[1].startswith("usage: remediate " + command), p.stderr


def test_version_with_an_argument():
    usage_error(run("version", "extra"),
                "takes no arguments (got extra)", "version")


def test_version_help_and_plain():
    assert run("version", "--help", check=0).stdout.startswith(
        "usage: remediate version")
    assert run("version", check=0).stdout.startswith("remediate ")


def test_check_without_a_path():
    usage_error(run("check"), "nothing to check: name a folder or file "
                "of manifests (-c DIR)", "check")


def test_replay_without_manifests_or_signals():
    usage_error(run("replay", os.path.join(SEED, "signals.ndjson")),
                "no manifests: -c DIR names them", "replay")
    usage_error(run("replay", "-c", os.path.join(SEED, "manifests")),
                "no signals: name an NDJSON file, or - for stdin", "replay")


def test_jp_two_expressions_or_none():
    usage_error(run("jp", "a", "b", stdin="{}"),
                "one expression, please (got a and b); quote an "
                "expression with spaces", "jp")
    usage_error(run("jp", stdin="{}"),
                "no expression: give one, or -e FILE", "jp")


@pytest.mark.parametrize("args, opt", [
    (["-f", "MISSING", "a"], "-f"),
    (["-e", "MISSING"], "-e"),
    (["--objects", "MISSING", "a"], "--objects"),
])
def test_jp_names_the_option_whose_file_is_missing(tmp_path, args, opt):
    missing = str(tmp_path / "nope.json")
    p = run("jp", *[missing if a == "MISSING" else a for a in args],
            stdin="{}")
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert p.stderr.startswith("remediate jp: %s: %s: " % (opt, missing)), \
        p.stderr


def test_run_listen_nonsense_is_a_usage_error(tmp_path):
    """Refused before anything starts: no kubeconfig is even needed."""
    p = subprocess.run([binary(), "run", "-c", os.path.join(SEED, "manifests"),
                        "--listen", "nonsense", "--kubeconfig",
                        str(tmp_path / "none")], cwd=str(tmp_path),
                       capture_output=True, text=True, timeout=60)
    usage_error(p, '--listen: listen address "nonsense" is not HOST:PORT '
                "(like 127.0.0.1:8080, [::1]:8080, 0.0.0.0:8080 or :8080)",
                "run")
    assert os.listdir(tmp_path) == []


def test_run_names_a_missing_folder_before_the_cluster(tmp_path):
    state = tmp_path / "state.db"
    p = run("run", "-c", str(tmp_path / "nowhere"), "--state", str(state),
            "--kubeconfig", str(tmp_path / "none"))
    assert p.returncode == 1
    assert "%s: error: cannot read" % (tmp_path / "nowhere") in p.stderr
    assert "cluster" not in p.stderr, p.stderr   # never got that far
    assert not state.exists()


def test_run_refuses_bad_manifests_without_a_state_file(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "x.yaml").write_text("kind: Foo\n")
    state = tmp_path / "state.db"
    p = run("run", "-c", str(tmp_path / "m"), "--state", str(state),
            "--kubeconfig", str(tmp_path / "none"))
    assert p.returncode == 1
    assert 'x.yaml:1:7: error: unknown kind "Foo"' in p.stderr
    assert not state.exists() and not os.path.exists(str(state) + "-wal")


def test_replay_line_that_is_not_an_object():
    p = run("replay", "-c", os.path.join(SEED, "manifests"), "-",
            stdin='[1]\n"x"\n3\n')
    assert p.returncode == 1
    for n, kind in ((1, "array"), (2, "string"), (3, "number")):
        assert ("<stdin>:%d: error: a line must be a JSON object (a signal "
                "or a watch), not %s" % (n, kind)) in p.stderr
    assert "<stdin>: 3 bad lines skipped" in p.stderr


def test_replay_without_cluster_says_so_once():
    p = run("replay", "-c", os.path.join(SEED, "manifests"),
            os.path.join(SEED, "signals.ndjson"))
    assert p.stderr.count("no --cluster") == 1, p.stderr
    assert "cannot be resolved to its controller" in p.stderr
    assert "not a signal" in p.stderr
    with_cluster = run("replay", "-c", os.path.join(SEED, "manifests"),
                       "--cluster", os.path.join(SEED, "cluster"),
                       os.path.join(SEED, "signals.ndjson"))
    assert "no --cluster" not in with_cluster.stderr


def test_replay_budget_is_the_recorded_value():
    """The tour's figure: every decision of the storm saw 0.8 at 10:00:30."""
    p = run("replay", "-c", os.path.join(SEED, "manifests"), "--cluster",
            os.path.join(SEED, "cluster"), "--prometheus-recording",
            os.path.join(SEED, "budget.ndjson"),
            os.path.join(SEED, "signals.ndjson"), check=0)
    acted = [r for r in map(json.loads, p.stdout.splitlines())
             if r["decision"] == "acted"]
    assert len(acted) == 2
    for r in acted:
        assert r["budget"]["at"] == "2026-11-25T10:00:30Z"
    assert '"value":0.8,' in p.stdout        # not 0.80000000000000004


def test_replay_table_aligns_long_names(tmp_path):
    d = tmp_path / "m"
    shutil.copytree(os.path.join(SEED, "manifests"), d)
    s = (d / "sensor.yaml").read_text()
    long = "bump-memory-request-with-a-name-longer-than-the-column"
    (d / "sensor.yaml").write_text(s.replace("bump-memory-request", long))
    p = run("replay", "-c", str(d), "--cluster",
            os.path.join(SEED, "cluster"), "--table",
            os.path.join(SEED, "signals.ndjson"), check=0)
    lines = p.stdout.splitlines()
    assert lines[0].startswith("TIME")
    assert len(lines) == 41
    # every column starts at the same offset in every line
    for col in ("TARGET", "DECISION", "REASON", "MESSAGE"):
        at = lines[0].index(col)
        for line in lines[1:]:
            assert line[at - 2:at] == "  " and line[at] != " ", (col, line)
    assert any(long in line for line in lines[1:])


def test_sigterm_while_the_api_server_is_unreachable(tmp_path):
    """Watches retrying a dead API server stop when told: after the
    "stopping" line no watch starts another attempt, and the process
    exits by itself (the Daemon helper would kill it after 10 s)."""
    kc = tmp_path / "kubeconfig"
    kc.write_text("""apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:%d", insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: abc}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
""" % free_port())
    d = Daemon(os.path.join(SEED, "manifests"), str(kc),
               state=str(tmp_path / "state.db"))
    d.wait_log("watch failing")
    d.wait_log("watch failing")      # a second watch is retrying too
    d.p.terminate()
    d.p.wait(30)
    assert d.p.returncode == 0
    logs = d.all_logs()
    msgs = [x["msg"] for x in logs]
    after = msgs[msgs.index("stopping"):]
    assert "watch failing" not in after, after


def unit_binary(name):
    return os.path.join(os.path.dirname(binary()), "tests", "test_" + name)


@pytest.mark.parametrize("name", ["action", "prom", "kube", "webhook"])
def test_unit_test_without_its_data_fails_cleanly(tmp_path, name):
    """Run from a folder without tests/data: each test that needs a
    fixture fails at its REQUIRE, the binary still prints its summary and
    exits 1, never a crash."""
    exe = unit_binary(name)
    if not os.path.exists(exe):
        pytest.skip("%s not built (make unit builds it)" % exe)
    p = subprocess.run([exe], cwd=str(tmp_path), capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 1, (p.returncode, p.stderr[-2000:])
    last = p.stdout.strip().splitlines()[-1]
    passed, failed = [int(x.split()[0]) for x in last.split(", ")]
    assert failed > 0, last
