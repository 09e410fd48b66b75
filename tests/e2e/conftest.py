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
SHARED = os.environ.get("REMEDIATE_SHARED",
                        os.path.join(ROOT, "..", "shared"))


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
