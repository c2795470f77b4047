"""Readers of Kaggle's Rossmann files and the forum extras, each checking what it reads.

Kaggle never published hashes of `train.csv`, and the extras come in two layouts, so every
reader checks the content instead: the exact header, the types, the allowed values, the date
range, and (given the stores of store.csv) that every store is known. A file that fails is a
`DataError` naming the file, the column, the first bad row and the fix.
`course_utils.data.rossmann.load_rossmann` reads them all together.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from course_utils.checks import whole_number
from course_utils.data.errors import DataError, check_columns
from course_utils.data.rossmann_schema import (
    KAGGLE_TRAIN_ROWS,
    KAGGLE_URL,
    MERGED_STATES,
    STATE_HOLIDAY_CODES,
    STATE_NAMES,
    STORE_COLUMNS,
    TEST_COLUMNS,
    TRAIN_COLUMNS,
    TRAIN_END,
    TRAIN_START,
    WEATHER_COLUMNS,
    base_state,
)

__all__ = [
    "read_googletrend",
    "read_store",
    "read_store_states",
    "read_test",
    "read_train",
    "read_weather",
]


def _read_csv(file: Path, **kwargs) -> pd.DataFrame:
    """`pd.read_csv` whose failures name the file."""
    try:
        return pd.read_csv(file, **kwargs)
    except FileNotFoundError:
        raise DataError(f"{file} does not exist.") from None
    except IsADirectoryError:
        raise DataError(
            f"{file} is a folder: pass the CSV file inside it, e.g. {file / 'train.csv'}."
        ) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, UnicodeDecodeError) as e:
        raise DataError(f"{file} could not be read as a Kaggle-format CSV: {e}") from None


def _check_header(df: pd.DataFrame, expected: list[str], file: Path) -> None:
    check_columns(df, expected, file)
    extra = [c for c in df.columns if c not in expected]
    if extra:
        raise DataError(
            f"{file} has unexpected column(s) {extra}; Kaggle's file has exactly "
            f"{expected}. Is it the right file?"
        )


def _check_values(df: pd.DataFrame, col: str, allowed: Iterable, file: Path) -> None:
    bad = ~df[col].isin(list(allowed))
    if bad.any():
        raise DataError(
            f"{file}, column {col!r}: unexpected value(s) "
            f"{sorted(map(str, df.loc[bad, col].unique()))[:5]} "
            f"(allowed: {list(allowed)}), first at data row {int(np.argmax(bad)) + 1}."
        )


def _parse_dates(df: pd.DataFrame, file: Path, col: str = "Date") -> pd.Series:
    try:
        return pd.to_datetime(df[col], format="%Y-%m-%d")
    except (ValueError, TypeError) as e:
        raise DataError(f"{file}, column {col!r}: dates must look like 2015-07-31 ({e}).") from None


def _whole_numbers(df: pd.DataFrame, columns: list[str], file: Path) -> None:
    """`columns` as int64 in place; a missing, text or fractional value (Sales 5263.5 would
    be cut to 5263 without a word) is a `DataError`. A header-only file has nothing to check."""
    for c in columns:
        x = df[c]
        if len(df) and (
            x.isna().any() or not pd.api.types.is_numeric_dtype(x) or (x % 1 != 0).any()
        ):
            raise DataError(f"{file}, column {c!r}: expected whole numbers on every row.")
        df[c] = x.astype("int64")


def _known_states(states: Iterable[str]) -> list[str]:
    """`states` as a sorted list of distinct codes, each one of store_states.csv's (a code
    nobody uses would otherwise be reported as a missing file, e.g. Rossmann_DE_XX.csv)."""
    states = sorted(set(states))
    unknown = [s for s in states if s not in STATE_NAMES and s not in MERGED_STATES]
    if unknown:
        raise DataError(
            f"Unknown state code(s) {unknown}: the codes are those of store_states.csv, e.g. "
            "'BY', 'HB,NI'."
        )
    return states


def _state_holiday(df: pd.DataFrame, file: Path) -> pd.Series:
    # Kaggle's StateHoliday mixes 0 and "0" (and 'a', 'b', 'c'); read as text, one kind of "0".
    s = df["StateHoliday"].astype("str").str.strip().replace({"0.0": "0"})
    _check_values(s.to_frame(), "StateHoliday", STATE_HOLIDAY_CODES, file)
    return s


def read_train(
    file: str | os.PathLike,
    expected_rows: int | None = KAGGLE_TRAIN_ROWS,
    stores: Iterable[int] | None = None,
) -> pd.DataFrame:
    """Kaggle's `train.csv`, checked (it has no published hash, so we check its content).

    Checks the exact header, types, value sets (StateHoliday '0'/'a'/'b'/'c', 0/1 flags,
    DayOfWeek 1-7 matching the date), the date range 2013-01-01..2015-07-31, that every
    store is in `stores` (if given) and, unless `expected_rows=None`, the row count.
    Returns Date as datetime64 and StateHoliday as text.
    """
    file = Path(file)
    if expected_rows is not None:
        expected_rows = whole_number(
            expected_rows, "expected_rows", minimum=0, example="None (any number)"
        )
    df = _read_csv(file, dtype={"StateHoliday": "str"}, low_memory=False)
    _check_header(df, TRAIN_COLUMNS, file)
    if expected_rows is not None and len(df) != expected_rows:
        raise DataError(
            f"{file} has {len(df):,} data rows; Kaggle's train.csv has {expected_rows:,}. It is "
            f"truncated or a different file: download it again from {KAGGLE_URL}."
        )
    columns = ["Store", "DayOfWeek", "Sales", "Customers", "Open", "Promo", "SchoolHoliday"]
    _whole_numbers(df, columns, file)
    for c in ["Open", "Promo", "SchoolHoliday"]:
        _check_values(df, c, (0, 1), file)
    df["StateHoliday"] = _state_holiday(df, file)
    df["Date"] = _parse_dates(df, file)
    if df["Date"].min() < TRAIN_START or df["Date"].max() > TRAIN_END:
        raise DataError(
            f"{file}, column 'Date': dates run {df['Date'].min().date()}.."
            f"{df['Date'].max().date()}, outside Kaggle's 2013-01-01..2015-07-31."
        )
    if (df["Date"].dt.day_of_week + 1 != df["DayOfWeek"]).any():
        raise DataError(
            f"{file}, column 'DayOfWeek': must be 1 (Monday) .. 7 (Sunday) matching the Date."
        )
    if stores is not None:
        _check_values(df, "Store", stores, file)
    _check_sales(df, file)
    return df


def _check_sales(df: pd.DataFrame, file: Path) -> None:
    """One row per store and day, no negative sales or customers, none on a closed day."""
    problems = {
        "rows repeat a (Store, Date) pair": df.duplicated(["Store", "Date"]),
        "rows have negative Sales or Customers": (df["Sales"] < 0) | (df["Customers"] < 0),
        "rows have Sales on a closed day (Open=0)": (df["Open"] == 0) & (df["Sales"] > 0),
    }
    for what, bad in problems.items():
        if bad.any():
            row = df[bad].iloc[0]
            raise DataError(
                f"{file}: {int(bad.sum()):,} {what}, e.g. store {row['Store']} on "
                f"{pd.Timestamp(row['Date']).date()}: it is not Kaggle's train.csv (or it was "
                "edited); download it again or fix those rows."
            )


def read_test(file: str | os.PathLike, stores: Iterable[int] | None = None) -> pd.DataFrame:
    """Kaggle's `test.csv` (41,088 rows; `Open` is missing on 11 rows of store 622).

    With `stores`, checks that every store of test.csv is one of them (those of store.csv).
    """
    file = Path(file)
    df = _read_csv(file, dtype={"StateHoliday": "str"})
    _check_header(df, TEST_COLUMNS, file)
    _whole_numbers(df, ["Id", "Store", "DayOfWeek", "Promo", "SchoolHoliday"], file)
    df["StateHoliday"] = _state_holiday(df, file)
    df["Date"] = _parse_dates(df, file)
    if stores is not None:
        _check_values(df, "Store", stores, file)
    return df


def read_store(file: str | os.PathLike) -> pd.DataFrame:
    """Kaggle's `store.csv`: one row per store with its type, assortment, competition, Promo2."""
    file = Path(file)
    df = _read_csv(file)
    _check_header(df, STORE_COLUMNS, file)
    if df["Store"].duplicated().any():
        raise DataError(f"{file}, column 'Store': store ids must be unique.")
    _check_values(df, "StoreType", ("a", "b", "c", "d"), file)
    _check_values(df, "Assortment", ("a", "b", "c"), file)
    return df


def read_store_states(file: str | os.PathLike, stores: Iterable[int] | None = None) -> pd.DataFrame:
    """`store_states.csv`: `Store`, `State` (a state code, or "HB,NI").

    With `stores`, checks that every store has exactly one known state.
    """
    file = Path(file)
    df = _read_csv(file)
    _check_header(df, ["Store", "State"], file)
    known = set(STATE_NAMES) | set(MERGED_STATES)
    _check_values(df, "State", sorted(known), file)
    if stores is not None:
        stores = pd.Index(list(stores))
        missing = stores.difference(df["Store"])
        if len(missing):
            raise DataError(
                f"{file}, column 'Store': {len(missing)} store(s) of store.csv have no state, "
                f"e.g. {missing[:5].tolist()}. Every store needs one row 'Store,State'."
            )
        dupes = df["Store"][df["Store"].duplicated()]
        if len(dupes):
            raise DataError(
                f"{file}, column 'Store': stores listed twice, e.g. {dupes.head(5).tolist()}."
            )
    return df


def _find_extra(folders: list[Path], names: list[str]) -> Path | None:
    for folder in folders:
        for name in names:
            if (folder / name).exists():
                return folder / name
    return None


def _locate_extra(
    folders: str | os.PathLike | list[Path], what: str, folder_layout: str
) -> tuple[list[Path], Path]:
    """The first `<what>.csv` (fast.ai's bundle) or `<what>/` folder in `folders`."""
    # one folder (a str too: iterating it would give its letters) or a list of them
    one = isinstance(folders, str | os.PathLike)
    folders = [Path(folders)] if one else [Path(f) for f in folders]
    found = _find_extra(folders, [f"{what}.csv", what])
    if found is None:
        raise _extras_missing(what, folders, f"{what}.csv, or {folder_layout}")
    return folders, found


def _extras_missing(what: str, folders: list[Path], layouts: str) -> DataError:
    searched = "\n".join(f"  - {f}" for f in folders)
    return DataError(
        f"The Rossmann extra {what!r} was not found. Expected {layouts}.\nFolders searched:\n"
        f"{searched}\nThese forum extras come from fast.ai's rossmann.tgz "
        "(https://files.fast.ai/part2/lesson14/rossmann.tgz): unpack it into data/rossmann/, or "
        "set COURSE_DATA to a mirror that has them."
    )


def read_googletrend(
    folders: str | os.PathLike | list[Path], states: Iterable[str] = ()
) -> pd.DataFrame:
    """Google Trends for "Rossmann", in fast.ai's `googletrend.csv` layout: file, week, trend.

    Reads `googletrend.csv` (the bundle) or else every `googletrend/Rossmann_DE*.csv` (one
    per state, header "Woche,...", the file name becoming the `file` column) from the first
    of `folders` that has either. `states` (codes as in store_states.csv) must all be there,
    as must the national series `Rossmann_DE`.
    """
    states = _known_states(states)
    folders, found = _locate_extra(
        folders, "googletrend", "a folder googletrend/ with Rossmann_DE*.csv"
    )
    if found.is_file():
        df = _read_csv(found)
        _check_header(df, ["file", "week", "trend"], found)
    else:
        parts = []
        for f in sorted(found.glob("Rossmann_DE*.csv")):
            part = _read_csv(f)
            if len(part.columns) != 2 or part.columns[0] not in ("Woche", "Week"):
                raise DataError(
                    f"{f}: expected Google Trends' 2-column export with header "
                    f"'Woche,...' (week, interest); got columns {list(part.columns)}."
                )
            parts.append(part.set_axis(["week", "trend"], axis=1).assign(file=f.stem))
        if not parts:
            raise _extras_missing("googletrend", folders, f"Rossmann_DE*.csv files in {found}")
        df = pd.concat(parts, ignore_index=True)[["file", "week", "trend"]]
    have = set(df["file"])
    need = ["Rossmann_DE"] + [f"Rossmann_DE_{base_state(s)}" for s in states]
    missing = [n for n in need if n not in have]
    if missing:
        raise DataError(
            f"{found}, column 'file': no Google Trends series for {missing} "
            f"(expected {', '.join(n + '.csv' for n in missing)})."
        )
    if not df["week"].astype(str).str.fullmatch(r"\d{4}-\d\d-\d\d - \d{4}-\d\d-\d\d").all():
        raise DataError(f"{found}, column 'week': weeks must look like '2012-12-02 - 2012-12-08'.")
    return df


def read_weather(
    folders: str | os.PathLike | list[Path], states: Iterable[str] = ()
) -> pd.DataFrame:
    """Daily weather per state in fast.ai's `weather.csv` layout: `file` (state name), Date, ...

    Reads `weather.csv` (the bundle, comma-separated) or else every `weather/*.csv` (one per
    state, ';'-separated, named by `STATE_NAMES`). `states` (codes as in store_states.csv)
    must all have weather. Date is parsed to datetime64.
    """
    states = _known_states(states)
    folders, found = _locate_extra(
        folders, "weather", "a folder weather/ with one <StateName>.csv per state"
    )
    if found.is_file():
        df = _read_csv(found)
        check_columns(df, ["file", *WEATHER_COLUMNS], found)
        df["Date"] = _parse_dates(df, found)
    else:
        parts = []
        for f in sorted(found.glob("*.csv")):
            part = _read_csv(f, sep=";")
            check_columns(part, WEATHER_COLUMNS, f)
            part["Date"] = _parse_dates(part, f)
            parts.append(part.assign(file=f.stem))
        if not parts:
            raise _extras_missing("weather", folders, f"<StateName>.csv files in {found}")
        df = pd.concat(parts, ignore_index=True)
        df = df[["file", *[c for c in df.columns if c != "file"]]]
    have = set(df["file"])
    missing = sorted({STATE_NAMES[base_state(s)] for s in states} - have)
    if missing:
        raise DataError(
            f"{found}, column 'file': no weather for state(s) {missing} "
            f"(expected {', '.join(m + '.csv' for m in missing)})."
        )
    return df
