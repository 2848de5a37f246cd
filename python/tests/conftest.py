"""Helpers of the Python package's tests: the command line to compare
with, and histories generated for them."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def without_times(report):
    """A report without its timings, which differ from run to run."""
    if isinstance(report, dict):
        return {k: without_times(v) for k, v in report.items() if k != "elapsed_ms"}
    if isinstance(report, list):
        return [without_times(v) for v in report]
    return report


@pytest.fixture(scope="session")
def cli():
    """Runs the labrys command line (LABRYS_BIN, else the workspace's
    build) and returns its JSON report."""
    binary = os.environ.get("LABRYS_BIN")
    if not binary:
        for profile in ("release", "debug"):
            candidate = ROOT / "target" / profile / "labrys"
            if candidate.exists():
                binary = str(candidate)
                break
    binary = binary or shutil.which("labrys")
    if not binary:
        pytest.skip("no labrys binary: build it (cargo build) or set LABRYS_BIN")

    def run(*args):
        out = subprocess.run([binary, *map(str, args)], capture_output=True, text=True,
                             env=dict(os.environ, NO_COLOR="1"))
        assert out.returncode in (0, 1, 3), out.stderr
        return json.loads(out.stdout)

    return run
