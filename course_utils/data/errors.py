"""How the data layer reports bad data: `DataError`, and `check_columns` for tables.

Every loader (MovieLens, Nietzsche, Rossmann) and the lesson code that takes a student's table
(`collab`, `tabular`) raise `DataError` with a message that names the file and the fix.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

__all__ = ["DataError", "check_columns"]


class DataError(RuntimeError):
    """A data set is missing, incomplete, corrupt or not shaped as expected."""


def check_columns(df: pd.DataFrame, required: Iterable[str], source: str | Path) -> pd.DataFrame:
    """Raise `DataError` naming the file and the missing columns unless `df` has `required`."""
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DataError(
            f"{source} is missing column(s) {', '.join(map(repr, missing))}; it has "
            f"{', '.join(map(repr, df.columns))}. Is it the right file, with its header row?"
        )
    return df
