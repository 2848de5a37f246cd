"""The examples of the docstrings, the README and docs/python.md run as
written."""

import doctest
import os
import re
from pathlib import Path

import pytest

import labrys

ROOT = Path(__file__).resolve().parents[2]


def test_docstring_examples():
    failed, tried = doctest.testmod(labrys)
    assert tried > 0 and failed == 0


def python_blocks(path):
    text = (ROOT / path).read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize("path", ["README.md", "docs/python.md"])
def test_documented_examples_run(path, tmp_path, monkeypatch):
    blocks = python_blocks(path)
    assert blocks, f"{path} has Python examples"
    monkeypatch.chdir(tmp_path)
    scope = {}
    for block in blocks:
        if "LocalCluster" in block:
            pytest.importorskip("dask.distributed")
        exec(compile(block, path, "exec"), scope)  # noqa: S102 - the docs' own code
