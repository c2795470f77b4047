"""Rebuild the course spreadsheets in `excel/`: `python -m tools.workbooks [NAME ...]`.

* `excel/collab_filter.xlsx`: matrix factorisation with live formulas (lesson 5).
* `excel/graddesc.xlsx`: gradient descent, momentum, Adagrad, RMSProp, Adam, AdamW (lesson 6).

LibreOffice (`soffice`) computes the formulas once so that the files also hold their values;
`--no-values` writes formulas only (Excel and LibreOffice still compute them on opening, but
previewers and pandas see empty cells).
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

EXCEL = Path(__file__).resolve().parents[2] / "excel"

# workbook file -> module with a `build(path: Path, cached_values: bool) -> Path` function
BUILDERS = {
    "collab_filter.xlsx": "tools.workbooks.collab_filter",
    "graddesc.xlsx": "tools.workbooks.graddesc",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.workbooks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"any of {', '.join(BUILDERS)} (default: all)"
    )
    parser.add_argument(
        "--no-values",
        action="store_true",
        help="do not run LibreOffice: formulas only, no computed values",
    )
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BUILDERS]
    if unknown:
        parser.error(f"unknown workbook {unknown[0]!r}; known: {', '.join(BUILDERS)}")
    for name in args.names or list(BUILDERS):
        build = importlib.import_module(BUILDERS[name]).build
        print(f"wrote {build(EXCEL / name, cached_values=not args.no_values)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
