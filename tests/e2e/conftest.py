"""Shared helpers for the end-to-end tests: where the binary is, and how
to build replay scenarios with scripts/scenario.py."""
import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
# Test data lives in the tree (tests/data/README.md says where it came from)
FIXTURES = os.path.join(ROOT, "tests", "data", "fixtures")


def fixture_path(name):
    return os.path.join(FIXTURES, name)


def fixture(name):
    """A fixture under tests/data/fixtures, parsed as JSON."""
    with open(fixture_path(name)) as f:
        return json.load(f)


def binary():
    return os.environ.get("REMEDIATE", os.path.join(ROOT, "build",
                                                    "remediate"))


def run(*args, stdin=None, check=None):
    """Runs the binary; returns the CompletedProcess (text mode)."""
    p = subprocess.run([binary()] + list(args), input=stdin,
                       capture_output=True, text=True, timeout=120)
    if check is not None:
        assert p.returncode == check, (p.returncode, p.stdout, p.stderr)
    return p


def records(stdout):
    return [json.loads(line) for line in stdout.splitlines() if line]


@pytest.fixture
def seed_manifests(tmp_path):
    """A copy of examples/seed/manifests the test may edit."""
    d = tmp_path / "manifests"
    shutil.copytree(os.path.join(ROOT, "examples", "seed", "manifests"), d)
    return d
