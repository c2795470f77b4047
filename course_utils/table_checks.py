"""The guard rails of the table functions (the Rossmann lesson's joins, dates, events and
entity-embedding inputs), kept apart from the lesson code; `course_utils.checks` re-exports
them, so every public function reaches all guard rails through one module."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import Tensor

__all__ = [
    "category_codes",
    "column_names",
    "continuous_inputs",
    "date_column",
    "distinct_ids",
    "event_flags",
    "frame",
    "no_missing",
    "numeric_column",
    "same_kind",
]


def frame(df: object, who: str, what: str = "the table") -> pd.DataFrame:
    """`df` if it is a pandas DataFrame; else an error saying what it got (a dict, a Series)."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(
            f"{who}: {what} must be a pandas DataFrame, got a {type(df).__name__}: e.g. "
            "pd.DataFrame(...) or df[[column]] (a one-column frame, not a Series)."
        )
    return df


def column_names(
    value: object, name: str, who: str, many: bool = True, empty_ok: bool = False
) -> list[str]:
    """One column name, or (`many`) a list of them (`empty_ok`: perhaps none), as a list: a
    number, a list where one name is needed, or a list of non-names is an error naming it."""
    names = [value] if isinstance(value, str) else value
    ok = many and isinstance(names, list | tuple | pd.Index) and (len(names) > 0 or empty_ok)
    if not (isinstance(value, str) or ok) or not all(isinstance(n, str) for n in names):
        wanted = "a column name or a list of them" if many else "one column name"
        raise TypeError(f"{who}: {name} must be {wanted}, e.g. {name}='Store', got {value!r}.")
    return list(names)


def date_column(col: pd.Series, field: str, who: str) -> pd.Series:
    """The column `field` as naive datetimes, or an error: numbers are not read as dates (pandas
    would take Unix seconds for nanoseconds, 1997 for 1970), time zones are not dropped silently,
    and missing or unparseable values are named with an example."""
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        raise TypeError(
            f"{who}: column {field!r} holds numbers ({col.dtype}, e.g. {col.iloc[0]!r}), not "
            f"dates. Unix timestamps (MovieLens' are seconds) must say their unit: "
            f"df[{field!r}] = pd.to_datetime(df[{field!r}], unit='s')."
        )
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        raise ValueError(
            f"{who}: column {field!r} has the time zone {col.dt.tz}; the date features are "
            f"calendar days, so say which: df[{field!r}] = df[{field!r}].dt.tz_convert(None) "
            "(UTC) or .dt.tz_localize(None) (local time)."
        )
    d = pd.to_datetime(col, errors="coerce")
    bad = col[d.isna()]
    if len(bad):
        raise ValueError(
            f"{who}: column {field!r} has {len(bad)} missing or non-date "
            f"value(s), e.g. {bad.iloc[0]!r}: fix or drop those rows first."
        )
    return d


def _kind(value: object) -> str:
    """What an id is: "text", "number" (NumPy's too) or its type's name."""
    if isinstance(value, str):  # np.str_ too
        return "text"
    return "number" if isinstance(value, numbers.Number) else type(value).__name__


def distinct_ids(ids: object, name: str, who: str) -> np.ndarray:
    """The distinct `ids` in sorted order (`np.unique`); a missing id, or numbers mixed with
    text, is an error: NaN would become an id of its own, and `[1, "1", 2]` (NumPy turns it
    into text) would merge the user 1 with the user "1" without a word."""
    arr = np.asarray(ids)
    if bool(pd.isna(arr).any()):
        raise ValueError(f"{who}: the {name} ids have missing values (NaN, None): drop those rows.")
    if arr.dtype.kind in "OUS":  # text, or Python objects: perhaps of several kinds
        values = np.asarray(ids, dtype=object).ravel().tolist()
        kinds = {_kind(v) for v in values}
        if len(kinds) > 1:
            raise TypeError(
                f"{who}: the {name} ids mix {' and '.join(sorted(kinds))} (e.g. {values[:3]}): "
                "make them all whole numbers (ids.astype(int)) or all text."
            )
    return np.unique(arr)


def event_flags(col: pd.Series, who: str) -> np.ndarray:
    """An event column as booleans: True/False or 0/1 only. "no" would count as an event (any
    text is true) and a 2 as two events, without a word."""
    values = col.to_numpy()
    if pd.api.types.is_bool_dtype(col):
        return values.astype(bool)
    if not pd.api.types.is_numeric_dtype(col) or not np.isin(values, (0, 1)).all():
        odd = col[~col.isin([0, 1])].unique()[:3].tolist() if len(col) else []
        raise ValueError(
            f"{who}: column {col.name!r} must hold event flags, 0 or 1 (or True/False), got "
            f"{col.dtype} values such as {odd}: turn it into flags first, e.g. "
            f"df[{col.name!r}] = (df[{col.name!r}] == 'yes').astype(int)."
        )
    return values.astype(bool)


def no_missing(df: pd.DataFrame, columns: Sequence[str], who: str) -> None:
    """An error naming the first of `columns` with missing values (NaN, None, NaT) and how many:
    for the event helpers a missing flag is neither an event nor its absence."""
    for c in columns:
        if (n := int(df[c].isna().sum())) > 0:
            raise ValueError(
                f"{who}: column {c!r} has {n:,} missing value(s), the first in row "
                f"{df.index[df[c].isna().to_numpy()][0]!r}: fill them first (e.g. "
                f"df[{c!r}].fillna(0) for a flag) or drop those rows."
            )


def category_codes(x_cat: Tensor, sizes: Sequence[int], training: bool, who: str) -> None:
    """Categorical inputs `(bs, len(sizes))` of integer codes, column `i` in `[0, sizes[i])`
    (checked on the CPU, where it costs no device sync), and, in training with batch norm, more
    than one row (one row has no batch statistics)."""
    if not isinstance(x_cat, Tensor) or x_cat.is_floating_point() or x_cat.dtype == torch.bool:
        kind = x_cat.dtype if isinstance(x_cat, Tensor) else type(x_cat).__name__
        raise TypeError(
            f"{who}: the categorical codes must be an integer tensor, got {kind}: encode them "
            "as whole numbers (e.g. .astype('int64')), not floats."
        )
    if x_cat.dim() != 2 or x_cat.shape[1] != len(sizes):
        raise ValueError(
            f"{who}: the categorical codes must have shape (rows, {len(sizes)}), one column per "
            f"embedding, got {tuple(x_cat.shape)}."
        )
    if training and len(x_cat) == 1:
        raise ValueError(
            f"{who}: a training batch of one row: batch norm cannot normalise a single row. "
            "Build the data with DeviceData(..., drop_last=True) or a bs that leaves no "
            "last batch of one."
        )
    if x_cat.device.type == "cpu" and len(x_cat):
        lo, hi = x_cat.min(0).values, x_cat.max(0).values
        bad = (lo < 0) | (hi >= torch.tensor(sizes))  # one comparison per batch, not per column
        if bad.any():
            i = int(bad.nonzero()[0])
            n = sizes[i]
            raise ValueError(
                f"{who}: categorical column {i} has codes from {int(lo[i])} to {int(hi[i])}, "
                f"but its embedding has {n} rows (codes 0..{n - 1}): encode with the same "
                "processor as the training data, or give the embedding more rows."
            )


def continuous_inputs(x_cont: object, n_cont: int, rows: int, who: str) -> None:
    """Continuous inputs `(rows, n_cont)` of floats: the model's batch norm would otherwise fail
    with its own words ("running_mean should contain 2 elements not 1")."""
    if not isinstance(x_cont, Tensor) or not x_cont.is_floating_point():
        kind = x_cont.dtype if isinstance(x_cont, Tensor) else type(x_cont).__name__
        raise TypeError(
            f"{who}: the continuous inputs must be a float tensor, got {kind}: e.g. "
            "torch.as_tensor(conts, dtype=torch.float32)."
        )
    if x_cont.dim() != 2 or tuple(x_cont.shape) != (rows, n_cont):
        raise ValueError(
            f"{who}: the continuous inputs must have shape ({rows}, {n_cont}), as many rows as "
            f"the categorical codes and one column per continuous variable, got "
            f"{tuple(x_cont.shape)}."
        )


def numeric_column(col: pd.Series, who: str) -> pd.Series:
    """A continuous column as float64 (NaN stays, to be filled); text or inf is an error: inf
    would make the mean and std, and so every normalised value, NaN."""
    try:
        x = col.astype("float64")
    except (TypeError, ValueError):
        raise TypeError(
            f"{who}: continuous column {col.name!r} must hold numbers, got {col.dtype} values "
            f"such as {col.head(3).tolist()}: make it categorical, or convert it (pd.to_numeric)."
        ) from None
    if np.isinf(x).any():
        raise ValueError(
            f"{who}: continuous column {col.name!r} has inf in {int(np.isinf(x).sum()):,} "
            "row(s): replace it first, e.g. .replace([np.inf, -np.inf], np.nan)."
        )
    return x


def same_kind(col: pd.Series, codes: np.ndarray, seen: pd.Index) -> None:
    """An error when no value of `col` was `seen` in training and its values are of another
    type (ints 1, 2 in training, text "1", "2" now): every row would get the code for unknown."""
    if len(seen) and col.notna().any() and not codes.any():
        kind = pd.api.types.infer_dtype(col.dropna(), skipna=True)
        trained = pd.api.types.infer_dtype(seen, skipna=True)
        if kind != trained:
            raise ValueError(
                f"TabularProcessor.transform: no value of column {col.name!r} was seen in "
                f"training: it holds {kind} values such as {col.dropna().head(3).tolist()}, "
                f"training had {trained} values such as {seen[:3].tolist()}. Read both tables "
                "the same way, or convert this column to the training type."
            )
