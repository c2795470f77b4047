"""The lesson3-rossmann checkers: reference solutions pass, recognised mistakes are named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course_utils.exercises.core import check_prediction
from course_utils.exercises.rossmann import check_days_since_last, check_rmspe, check_time_split
from solutions import lesson3_rossmann as sol


def verdict(capsys: pytest.CaptureFixture, check, fn) -> str:
    check(fn)
    return capsys.readouterr().out


def test_rmspe_reference_and_mistakes(capsys):
    assert verdict(capsys, check_rmspe, sol.rmspe_by_hand).startswith("✓")
    out = verdict(capsys, check_rmspe, lambda p, t: np.sqrt(np.mean(((t - p) / p) ** 2)))
    assert "divided by the prediction" in out
    assert "square root" in verdict(capsys, check_rmspe, lambda p, t: np.mean(((t - p) / t) ** 2))
    assert "None" in verdict(capsys, check_rmspe, lambda p, t: None)


def test_days_since_last_reference_and_mistakes(capsys):
    assert verdict(capsys, check_days_since_last, sol.days_since_last).startswith("✓")
    out = verdict(capsys, check_days_since_last, lambda f: np.nan_to_num(sol.days_since_last(f)))
    assert "NaN, not 0" in out
    assert "off by one" in verdict(
        capsys, check_days_since_last, lambda f: sol.days_since_last(f) + 1
    )


def test_time_split_reference(capsys):
    assert verdict(capsys, check_time_split, sol.time_split).startswith("✓")


def test_time_split_accepts_alternatives(capsys):
    # a list of bools, or the cut written as the first validation day
    def by_first_day(dates, n):
        first = dates.max().normalize() - pd.Timedelta(days=n - 1)
        return list(dates >= first)

    assert verdict(capsys, check_time_split, by_first_day).startswith("✓")

    def by_unique_days(dates, n):
        last_days = np.sort(dates.unique())[-n:]
        return dates.isin(last_days).to_numpy()

    assert verdict(capsys, check_time_split, by_unique_days).startswith("✓")


def test_time_split_mistakes(capsys):
    def planted(dates, n):  # the notebook's planted bug
        return np.random.default_rng(0).random(len(dates)) < n / dates.nunique()

    assert "random (or positional)" in verdict(capsys, check_time_split, planted)

    def last_rows(dates, n):  # by position: the rows are not in date order
        mask = np.zeros(len(dates), bool)
        mask[-n * 3 :] = True
        return mask

    assert "random (or positional)" in verdict(capsys, check_time_split, last_rows)
    one_more = verdict(
        capsys, check_time_split, lambda d, n: (d >= d.max() - pd.Timedelta(days=n)).to_numpy()
    )
    assert "off by one" in one_more
    one_less = verdict(
        capsys, check_time_split, lambda d, n: (d > d.max() - pd.Timedelta(days=n - 1)).to_numpy()
    )
    assert "use >=" in one_less
    assert "None" in verdict(capsys, check_time_split, lambda d, n: None)
    assert "one True/False per row" in verdict(capsys, check_time_split, lambda d, n: [True])


def test_prediction_exercises(capsys):
    check_prediction("one-hot width", ..., 1500, "why")
    assert "not attempted" in capsys.readouterr().out
    check_prediction("one-hot width", 1450, 1500, "why", rel_tol=0.1)
    assert capsys.readouterr().out.startswith("✓")
    choices = ["sales level", "alphabet", "nothing"]
    check_prediction("DayOfWeek PC1", "Sales level", "sales level", "why", choices=choices)
    assert capsys.readouterr().out.startswith("✓")
    check_prediction("DayOfWeek PC1", "alphabet", "sales level", "why", choices=choices)
    assert capsys.readouterr().out.startswith("✗")
