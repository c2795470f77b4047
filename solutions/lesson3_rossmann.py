"""lesson3-rossmann: reference solutions to the exercises."""

from __future__ import annotations

import numpy as np


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
