"""Checkers for the exercises of lesson3-rossmann (entity embeddings for tabular data)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch

from course_utils.exercises.core import Wrong, checker, compare
from course_utils.tabular import days_since, rmspe

__all__ = ["check_rmspe", "check_days_since_last", "check_time_split"]


@checker("sqrt(mean(((targ - pred) / targ)**2)): a 10% miss costs the same for any store.")
def check_rmspe(fn: Callable) -> None:
    """`fn(pred, targ)`: root mean squared percentage error, as a float."""
    pred, targ = np.array([90.0, 120.0, 50.0, 210.0]), np.array([100.0, 100.0, 40.0, 200.0])
    pct = (targ - pred) / targ
    compare(
        fn(pred.copy(), targ.copy()),
        torch.tensor(rmspe(pred, targ)),
        "Return one number.",
        [
            (
                np.sqrt(np.mean(((targ - pred) / pred) ** 2)),
                "divided by the prediction: a percentage error is relative to the true value.",
            ),
            (np.mean(pct**2), "the square root is missing."),
            (np.mean(np.abs(pct)), "that is the mean absolute percentage error."),
            (100 * np.sqrt(np.mean(pct**2)), "in percent: Kaggle's score is a fraction."),
        ],
    )


@checker("0 on an event day, +1 each day after, NaN before the first: tabular.days_since.")
def check_days_since_last(fn: Callable) -> None:
    """`fn(flags)`: for consecutive days, days since the last day with flag 1 (NaN before)."""
    flags = np.array([0, 1, 0, 0, 1, 1, 0, 0, 0])
    df = pd.DataFrame({"Store": 1, "Date": pd.date_range("2015-01-01", periods=9), "E": flags})
    want = torch.tensor(days_since(df, "E").to_numpy())
    compare(
        fn(flags.copy()),
        want,
        "One number per day.",
        [
            (want.nan_to_num(0.0), "before the first event there is no last event: NaN, not 0."),
            (want + 1, "off by one: on an event day the answer is 0."),
            (
                torch.tensor([1.0, 0, 2, 1, 0, 0, math.nan, math.nan, math.nan]),
                "that counts the days *until* the next event.",
            ),
        ],
    )


@checker("the validation rows are the last n_days days, all later than every training row.")
def check_time_split(fn: Callable) -> None:
    """`fn(dates, n_days)`: boolean mask of the rows in the last `n_days` days of `dates`.

    The dates come shuffled and repeated (several stores a day), as in a joined table: a split
    by position (the last rows) or by random rows is the leak the lesson measures."""
    days = pd.date_range("2015-06-01", periods=20)
    dates = pd.Series(np.random.default_rng(0).permutation(np.repeat(days, 3)))
    n_days = 5
    want = torch.tensor((dates >= dates.max() - pd.Timedelta(days=n_days - 1)).to_numpy())
    got = fn(dates.copy(), n_days)
    if got is None:
        raise Wrong("your function returned None: did you forget `return`?")
    mask = np.asarray(got)
    if mask.shape != (len(dates),) or mask.dtype != bool:
        raise Wrong(
            f"return one True/False per row ({len(dates)} rows), got shape {mask.shape} of "
            f"{mask.dtype}. The input was {len(dates)} shuffled dates, n_days={n_days}."
        )
    if mask.any() and (~mask).any() and dates[mask].min() <= dates[~mask].max():
        raise Wrong(
            "some validation rows are not later than every training row: a random (or "
            "positional) split. The model then trains on the days around each validation "
            "day, which the future never offers: the leak. Compare dates, not positions."
        )
    compare(
        torch.tensor(mask),
        want,
        "One True/False per row.",
        [
            (
                torch.tensor((dates >= dates.max() - pd.Timedelta(days=n_days)).to_numpy()),
                f"that is {n_days + 1} days: max - {n_days} days is included too (off by one).",
            ),
            (
                torch.tensor((dates > dates.max() - pd.Timedelta(days=n_days - 1)).to_numpy()),
                f"that is {n_days - 1} days: use >= so that the first day counts.",
            ),
        ],
        inputs=f"{len(dates)} shuffled dates {days[0].date()}..{days[-1].date()}, n_days={n_days}",
    )
