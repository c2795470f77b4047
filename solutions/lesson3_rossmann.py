"""lesson3-rossmann: reference solutions to the exercises."""

from __future__ import annotations

import numpy as np
import pandas as pd


def rmspe_by_hand(pred: np.ndarray, targ: np.ndarray) -> float:
    """Root mean squared percentage error of `pred` against the true values `targ`."""
    pct_err = (targ - pred) / targ
    return float(np.sqrt(np.mean(pct_err**2)))


def days_since_last(flags: np.ndarray) -> np.ndarray:
    """For consecutive days: days since the last day with flag 1 (0 on it, NaN before)."""
    out = np.full(len(flags), np.nan)
    last = None
    for day, flag in enumerate(flags):
        if flag:
            last = day
        if last is not None:
            out[day] = day - last
    return out


def time_split(dates: pd.Series, n_days: int) -> np.ndarray:
    """Rows in the last `n_days` days: compared by date, never by position or at random."""
    return (dates >= dates.max() - pd.Timedelta(days=n_days - 1)).to_numpy()
