"""`remediate check` against the golden files in tests/check.

Each case is a manifest file (or a directory) named NNN-name.yaml,
NNN-name.json or NNN-name/, next to its expectation:

  NNN-name.err  the exact stderr of `remediate check -c CASE` (the
                diagnostics, with source line, caret and hint), and exit 1;
  NNN-name.ok   exit 0, and every line of the file appears in stderr (the
                warnings the case must still produce; may be empty).

The summary lines on stdout are the check command's business, so the
goldens do not depend on them.  REGEN=1 rewrites the .err files from the
binary's output (review the diff before committing).
"""
import glob
import os

import pytest

from conftest import ROOT, run

CHECK = os.path.join("tests", "check")


def cases():
    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, CHECK, "[0-9]*"))):
        base, ext = os.path.splitext(path)
        if ext in (".err", ".ok"):
            continue
        if os.path.isdir(path):
            base = path
        name = os.path.basename(base)
        for want in (".err", ".ok"):
            if os.path.exists(base + want):
                out.append((os.path.relpath(path, ROOT), name, want))
                break
        else:
            out.append((os.path.relpath(path, ROOT), name, None))
    return out


def check(case):
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return run("check", "-c", case)
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize("case,name,want", cases(),
                         ids=[c[1] for c in cases()])
def test_golden(case, name, want):
    assert want is not None, "%s has neither a .err nor a .ok file" % case
    golden = os.path.join(ROOT, CHECK, name + want)
    p = check(case)
    if want == ".err":
        if os.environ.get("REGEN"):
            with open(golden, "w") as f:
                f.write(p.stderr)
        with open(golden) as f:
            expected = f.read()
        assert p.returncode == 1, p.stderr
        assert p.stderr == expected
    else:
        with open(golden) as f:
            lines = [line for line in f.read().splitlines() if line]
        assert p.returncode == 0, p.stderr
        for line in lines:
            assert line in p.stderr.splitlines(), (line, p.stderr)


def test_enough_cases():
    assert len(cases()) >= 25


def test_seed_example_is_clean():
    """The corrected seed example loads without an error or warning."""
    p = check(os.path.join("examples", "seed", "manifests"))
    assert p.returncode == 0, p.stderr
    assert "error:" not in p.stderr and "warning:" not in p.stderr


def test_common_mistakes_example_names_both():
    """examples/common-mistakes, the README's tour: rateLimit inside
    template is a warning (accepted where Argo would ignore it), patch on a
    generateName object is an error, each at its line and column."""
    p = check(os.path.join("examples", "common-mistakes"))
    assert p.returncode == 1, p.stderr
    assert ("examples/common-mistakes/sensor.yaml:20:9: warning: "
            "spec.triggers[0].template.rateLimit: rateLimit belongs beside "
            "template, not inside it; accepted") in p.stderr
    assert ("examples/common-mistakes/sensor.yaml:24:22: error: "
            "spec.triggers[0].template.k8s.operation: patch needs an object "
            "with metadata.name, and this one has only "
            "metadata.generateName") in p.stderr
    assert "2 manifests, 1 error, 1 warning" in p.stdout


def test_gitops_managed_by_pull_request_is_described():
    """A cluster-wide ownership.gitopsManaged: pullRequest shows in each
    auto trigger's guardrails, unless the trigger sets suppress."""
    p = check(os.path.join(CHECK, "047-gitops-managed-cluster-wide.yaml"))
    assert p.returncode == 0, p.stderr
    line = [x for x in p.stdout.splitlines() if "Sensor gitops" in x][0]
    auto, opts_out = line.split("; in-auto guardrails: ")[1].split(
        "; opts-out guardrails: ")
    assert auto.endswith(", GitOps-managed targets by pull request")
    assert "pull request" not in opts_out


def test_a_folder_named_like_an_option_is_checked_after_dashdash(tmp_path):
    """ "--" ends the options, as everywhere in Unix: a folder named -x
    is checked after it, and is an unknown option without it."""
    import shutil
    shutil.copytree(os.path.join(ROOT, "examples", "seed", "manifests"),
                    str(tmp_path / "-x"))
    cwd = os.getcwd()
    os.chdir(str(tmp_path))
    try:
        p = run("check", "--", "-x")
        assert p.returncode == 0, p.stderr
        assert "4 manifests, 0 errors" in p.stdout
        p = run("check", "-x")
        assert p.returncode == 2
        assert "remediate check: unknown option -x" in p.stderr
        p = run("check", "--", "--")   # only the first ends them
        assert p.returncode == 1 and "--" in p.stderr
    finally:
        os.chdir(cwd)
