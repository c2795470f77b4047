"""The course spreadsheets in the repository's `excel/`, and the named cells they hold.

The notebooks read a workbook's values by defined name (`read_named`), never by position, so a
rebuilt workbook (`make workbooks`) with moved cells still reads the same.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from course_utils.data.fetch import REPO_DATA

__all__ = ["read_named", "workbook_path"]


def workbook_path(name: str) -> Path:
    """The course spreadsheet `name` in the repository's `excel/` (e.g. "collab_filter.xlsx")."""
    path = REPO_DATA.parent / "excel" / name  # the repository root holds data/ and excel/
    if not path.exists():
        raise FileNotFoundError(
            f"No workbook {path}. The workbooks ship with the repository in excel/; rebuild them "
            "with `make workbooks` (python -m tools.workbooks)."
        )
    return path


def read_named(workbook: str, *names: str) -> dict[str, np.ndarray]:
    """The values of `names` (openpyxl defined names) in `excel/<workbook>`, as arrays.

    Reads the values saved with the workbook (the builder stores what LibreOffice calculated),
    so a notebook finds cells by name, never by position: `read_named("graddesc.xlsx",
    "sgd_lr")["sgd_lr"]` is a 0-d array, a range gives a 1-d or 2-d array (empty cells: NaN).
    """
    import openpyxl

    path = workbook_path(workbook)
    wb = openpyxl.load_workbook(path, data_only=True)
    out = {}
    for name in names:
        if name not in wb.defined_names:
            raise KeyError(
                f"{path.name} has no defined name {name!r}; it has "
                f"{', '.join(sorted(wb.defined_names))}. Rebuild it: make workbooks."
            )
        ((sheet, ref),) = wb.defined_names[name].destinations
        cells = wb[sheet][ref]
        cells = cells if isinstance(cells, tuple) else ((cells,),)
        rows = [[c.value for c in (row if isinstance(row, tuple) else (row,))] for row in cells]
        arr = np.array(rows, dtype=object)
        arr = arr.squeeze() if arr.size > 1 else arr.reshape(())
        try:
            arr = arr.astype(float)
        except (TypeError, ValueError):
            pass  # text (titles, ids as text): keep as objects
        out[name] = arr
    return out
