"""ruff keeps the library, the tools, the tests and the notebooks clean and formatted (`make lint`).

`course_utils/data/` is checked too: `extend-exclude` in pyproject.toml names the top-level
`/data` downloads folder only.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ["course_utils", "tools", "tests", "notebooks", "solutions", "docs", "conftest.py"]


def _ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, *CHECKED],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_ruff_clean():
    assert importlib.util.find_spec("ruff"), (
        "ruff is not installed in this environment: run `make setup` (or pip install -e '.[test]')"
    )
    res = _ruff("check")
    assert res.returncode == 0, res.stdout + res.stderr


def test_ruff_formatted():
    res = _ruff("format", "--check")
    assert res.returncode == 0, (
        "not formatted: run `make lint` (ruff format), or `pre-commit install` once\n"
        + res.stdout
        + res.stderr
    )


def test_the_library_data_package_is_linted():
    res = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--show-files", "course_utils"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "course_utils/data/__init__.py" in res.stdout, res.stdout + res.stderr
