"""The browser tests re-run only some cells of a lesson (a plot and the cells it needs, found by
reading the cells' names). These tests check that reading on tricky cells, without a browser."""

from __future__ import annotations

import pytest
from lab_driver import _names

pytestmark = pytest.mark.browser


def test_reads_before_rebinding() -> None:
    """`x = f(x)` reads the `x` of an earlier cell (the CI failure of lesson3's event join)."""
    defined, reads = _names("joined = left_join(joined, features)\n")
    assert "joined" in defined and {"joined", "left_join", "features"} <= reads


def test_own_names_are_not_read() -> None:
    """Loop variables, comprehension variables, arguments and names bound earlier in the same
    cell are the cell's own."""
    source = (
        "import numpy as np\n"
        "total = 0\n"
        "for ev in events:\n"
        "    total += ev\n"
        "squares = [k * k for k in range(total)]\n"
        "def scale(a):\n"
        "    return a * factor + np.pi\n"
        "with open(path) as f:\n"
        "    text = f.read()\n"
    )
    defined, reads = _names(source)
    assert {"np", "total", "ev", "squares", "scale", "text"} <= defined
    assert reads & {"total", "ev", "k", "a", "f", "np"} == set()
    assert {"events", "factor", "path"} <= reads
