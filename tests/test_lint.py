"""ruff keeps the library, the tools, the tests and the notebooks clean (`make lint`)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ["course_utils", "tools", "tests", "notebooks", "solutions", "docs", "conftest.py"]


def test_ruff_clean():
    assert importlib.util.find_spec("ruff"), (
        "ruff is not installed in this environment: run `make setup` (or pip install -e '.[test]')")
    res = subprocess.run([sys.executable, "-m", "ruff", "check", *CHECKED], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
