"""Repository-wide pytest set-up: the test tiers.

| tier      | what it checks                                   | run it with                       |
|-----------|--------------------------------------------------|-----------------------------------|
| unit      | tests/*.py: the library, the tools, packaging    | `pytest` (`make test-fast`)       |
| workbook  | the spreadsheets in LibreOffice: recalculated,   | `pytest -m libreoffice`           |
|           | the Solver exercise solved (tests/test_*workbook*.py and tests marked `libreoffice`) |
| notebooks | every lesson in a fresh kernel, outputs compared | `pytest --nbval notebooks/`       |
| browser   | tests/browser: JupyterLab in headless Chromium   | `pytest tests/browser`            |
|           |                                                  | (or `pytest -m browser`)          |

A bare `pytest` (and `pytest tests`) runs the unit tier only: well under a minute, and it needs
neither LibreOffice, nor Chromium, nor the data sets. It does not even collect tests/browser
and the workbook files. A slower tier runs when it is asked for: its marker appears in `-m`,
or its folder or file is named on the command line (`pytest tests/browser`,
`pytest tests/test_collab_solver.py`). `make test` runs all four tiers (`.ci/run` calls it).
"""

from __future__ import annotations

from fnmatch import fnmatch
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
# tier marker -> paths (globs relative to the repository) whose tests all belong to the tier;
# a test elsewhere joins a tier by carrying its marker (`pytestmark = pytest.mark.libreoffice`).
TIERS: dict[str, tuple[str, ...]] = {
    "browser": ("tests/browser", "tests/browser/*"),
    "libreoffice": ("tests/test_*workbook*.py",),
}

# Screenshots and logs of the browser tests; never collect anything from there.
collect_ignore_glob = ["tests/artifacts/*"]


def _rel(path: Path) -> str | None:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return None


def tier_of(path: Path) -> str | None:
    """The slow tier that the file or folder `path` belongs to as a whole; None otherwise."""
    rel = _rel(path)
    if rel is None:
        return None
    return next((t for t, globs in TIERS.items() if any(fnmatch(rel, g) for g in globs)), None)


def _named_paths(config: pytest.Config) -> list[Path]:
    """The files and folders named on the command line (not the default `testpaths`)."""
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        return []
    base = Path(config.invocation_params.dir)
    return [(base / arg.split("::")[0]).resolve() for arg in config.args]


def _marker_asked_for(tier: str, config: pytest.Config) -> bool:
    return tier in (config.option.markexpr or "")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Leave out the folders and files of a slow tier unless that tier is asked for."""
    tier = tier_of(collection_path)
    if tier is None or _marker_asked_for(tier, config):
        return None
    if any(tier_of(p) == tier for p in _named_paths(config)):
        return None
    return True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test of a tier's paths with the tier's marker (so `-m` selects it), and drop
    the tests marked with a slow tier's marker that nobody asked for."""
    named = _named_paths(config)
    keep, dropped = [], []
    for item in items:
        path = Path(str(item.path)).resolve()
        tier = tier_of(path)
        if tier is not None and item.get_closest_marker(tier) is None:
            item.add_marker(tier)
        marked = [t for t in TIERS if item.get_closest_marker(t) is not None]
        unasked = [
            t
            for t in marked
            if not _marker_asked_for(t, config)
            and path not in named
            and not any(tier_of(p) == t for p in named)
        ]
        (dropped if unasked else keep).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
