"""lesson5-movielens exercises: each checker against its reference solution, its recognised
mistakes and accepted alternatives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from course_utils.exercises.movielens import (
    check_bias_meaning,
    check_contiguous_ids,
    check_predict_rating,
    check_split_three,
)
from solutions import lesson5_movielens as sol


def verdict(capsys, check, fn) -> str:
    check(fn)
    return capsys.readouterr().out


def test_contiguous_ids(capsys):
    assert verdict(capsys, check_contiguous_ids, sol.contiguous_ids).startswith("✓")
    # alternatives: a list, floats holding whole numbers, a tensor
    assert verdict(capsys, check_contiguous_ids, lambda x: sol.contiguous_ids(x).tolist())[0] == "✓"
    assert verdict(capsys, check_contiguous_ids, lambda x: sol.contiguous_ids(x) * 1.0)[0] == "✓"
    assert verdict(
        capsys, check_contiguous_ids, lambda x: torch.from_numpy(sol.contiguous_ids(x))
    ).startswith("✓")


@pytest.mark.parametrize(
    "fn, words",
    [
        (lambda x: x, "raw ids"),
        (lambda x: x - 1, "no gaps"),
        (lambda x: sol.contiguous_ids(x) + 1, "start at 1"),
        (lambda x: pd.factorize(x)[0], "first appear"),
        (lambda x: None, "return"),
        (lambda x: sol.contiguous_ids(x) + 0.5, "whole numbers"),
    ],
)
def test_contiguous_ids_mistakes(capsys, fn, words):
    out = verdict(capsys, check_contiguous_ids, fn)
    assert out.startswith("✗") and words in out
    assert "e+" not in out  # ints shown as ints


def test_contiguous_ids_shows_input(capsys):
    out = verdict(capsys, check_contiguous_ids, lambda x: np.zeros(len(x), dtype=int))
    assert "193609" in out and "[0, 0, 0, 0, 0, 0]" in out


def _sr(z, lo, hi):
    return torch.sigmoid(z) * (hi - lo) + lo


@pytest.mark.parametrize(
    "fn, words",
    [
        (lambda u, m, ub, mb, yr: (u * m).sum(1) + ub + mb, "not squashed"),
        (lambda u, m, ub, mb, yr: _sr((u * m).sum(1), *yr), "biases are missing"),
        (lambda u, m, ub, mb, yr: _sr((u * m).sum(1), *yr) + ub + mb, "after the sigmoid"),
        (lambda u, m, ub, mb, yr: torch.sigmoid((u * m).sum(1) + ub + mb), "scale it"),
        (
            lambda u, m, ub, mb, yr: torch.sigmoid((u * m).sum(1) + ub + mb) * (yr[1] - yr[0]),
            "`+ lo` is missing",
        ),
        (lambda u, m, ub, mb, yr: torch.sigmoid((u * m).sum(1) + ub + mb) * yr[1], "hi only"),
        (lambda u, m, ub, mb, yr: None, "return"),
        (lambda u, m, ub, mb, yr: (u @ m.T).sum(1), "checker's input"),
    ],
)
def test_predict_rating_mistakes(capsys, fn, words):
    out = verdict(capsys, check_predict_rating, fn)
    assert out.startswith("✗") and words in out


def test_predict_rating(capsys):
    assert verdict(capsys, check_predict_rating, sol.predict_rating).startswith("✓")
    alt = lambda u, m, ub, mb, yr: _sr(torch.einsum("bf,bf->b", u, m) + ub + mb, *yr)  # noqa: E731
    assert verdict(capsys, check_predict_rating, alt).startswith("✓")


def _leaky(ratings, valid_pct=0.1, test_pct=0.1, seed=0):
    idx = np.random.default_rng(seed).permutation(len(ratings))
    n_valid, n_test = round(len(ratings) * valid_pct), round(len(ratings) * test_pct)
    valid = ratings.iloc[idx[:n_valid]]
    test = ratings.iloc[idx[n_valid : n_valid + n_test]]
    return ratings.iloc[idx[n_valid:]], valid, test


def test_split_three(capsys):
    assert verdict(capsys, check_split_three, sol.split_three).startswith("✓")
    out = verdict(capsys, check_split_three, _leaky)
    assert out.startswith("✗") and "both train and test" in out
    out = verdict(capsys, check_split_three, lambda r, v, t, seed: (r, r.iloc[:20], r.iloc[20:40]))
    assert out.startswith("✗") and "both train and" in out
    out = verdict(
        capsys, check_split_three, lambda r, v, t, seed: (r.iloc[:100], r[100:120], r[120:140])
    )
    assert out.startswith("✗") and "expected 160" in out
    out = verdict(capsys, check_split_three, lambda r, v, t, seed: None)
    assert out.startswith("✗") and "return" in out


def test_bias_meaning(capsys):
    rng = np.random.default_rng(0)
    movies = np.repeat(np.arange(30), rng.integers(20, 60, 30))
    quality = rng.normal(3.5, 0.5, 30)
    ratings = pd.DataFrame(
        {
            "movieId": movies,
            "rating": np.clip(quality[movies] + rng.normal(0, 0.3, len(movies)), 0.5, 5),
        }
    )
    bias = pd.Series(quality - 3.5, index=np.arange(30))
    check_bias_meaning(sol.BIAS_MEANING, bias, ratings)
    assert capsys.readouterr().out.startswith("✓")
    check_bias_meaning("Number of ratings", bias, ratings)
    assert capsys.readouterr().out.startswith("✗")
    check_bias_meaning(..., bias, ratings)
    assert capsys.readouterr().out.startswith("○")
    check_bias_meaning("year", bias, ratings)
    assert "answer one of" in capsys.readouterr().out
