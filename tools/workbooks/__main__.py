"""Rebuild the course spreadsheets in `excel/`: `python -m tools.workbooks`.

* `excel/collab_filter.xlsx`: matrix factorisation with live formulas (lesson 5).
* `excel/graddesc.xlsx`: SGD, momentum, Adagrad, RMSProp, Adam, AdamW unrolled (lesson 6).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

EXCEL = Path(__file__).resolve().parents[2] / "excel"

# workbook file -> module with a `build(path: Path) -> Path` function
BUILDERS = {
    "collab_filter.xlsx": "tools.workbooks.collab_filter",
    "graddesc.xlsx": "tools.workbooks.graddesc",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    names = argv or list(BUILDERS)
    EXCEL.mkdir(exist_ok=True)
    for name in names:
        if name not in BUILDERS:
            raise SystemExit(f"Unknown workbook {name!r}; known: {', '.join(BUILDERS)}")
        path = importlib.import_module(BUILDERS[name]).build(EXCEL / name)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
