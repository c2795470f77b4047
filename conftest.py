"""Repository-wide pytest setup.

The browser tests (marked `browser`, in tests/browser/) run last: `pytest` runs the lesson
notebooks first, and those save the trained models under data/models/ that the widgets
rebuilt in the browser reuse.
"""

from __future__ import annotations

import pytest

# Screenshots and logs of the browser tests; never collect anything from there.
collect_ignore_glob = ["tests/artifacts/*"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Move the tests marked `browser` to the end, keeping the order within each group."""
    others = [item for item in items if item.get_closest_marker("browser") is None]
    browser = [item for item in items if item.get_closest_marker("browser") is not None]
    items[:] = others + browser
