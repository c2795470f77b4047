"""Checkers for the exercises of lesson3-rossmann (entity embeddings for tabular data)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch

from course_utils.exercises.core import checker, compare
from course_utils.tabular import days_since, rmspe

__all__ = ["check_rmspe", "check_days_since_last"]


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
