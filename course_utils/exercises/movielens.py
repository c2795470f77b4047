"""Checkers for the exercises of lesson5-movielens (collaborative filtering)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import torch

from course_utils.collab import IdMap
from course_utils.exercises.core import Wrong, checker, compare
from course_utils.learner import sigmoid_range

__all__ = [
    "check_bias_meaning",
    "check_contiguous_ids",
    "check_predict_rating",
    "check_split_three",
]


def _ints(x: object) -> np.ndarray:
    """A student's row numbers as int64, or `Wrong` if they are missing or not whole numbers
    (ids are compared as ints, so a message shows `[2 0 1]`, never `[2.000e+00 ...]`)."""
    if x is None:
        raise Wrong("your function returned None: did you forget `return`?")
    a = np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x)
    if a.dtype.kind not in "iuf" or (a.dtype.kind == "f" and not np.all(a == np.round(a))):
        raise Wrong(f"row numbers must be whole numbers, got {a.dtype} values {a[:6]}.")
    return a.astype(np.int64)


@checker("Equal ids share a row, the 4 distinct ids get rows 0..3 in sorted order: IdMap.")
def check_contiguous_ids(fn: Callable) -> None:
    """`fn(ids)`: row numbers 0..n-1 for the distinct ids, in sorted order (as `IdMap`)."""
    ids = np.array([10, 3, 7, 3, 193609, 10])
    want = IdMap(ids).encode(ids).astype(np.int64)
    shown = f"on the checker's input ids = {ids.tolist()}"
    got = _ints(fn(ids.copy()))
    if got.shape != want.shape:
        raise Wrong(f"{shown} it returned shape {got.shape}; return one row number per id.")
    wrongs = [
        (
            ids,
            "these are the raw ids: a table of 4 rows needs row numbers 0..3, and id 193609 "
            "would be far past its end.",
        ),
        (ids - 1, "subtracting 1 only works when the ids have no gaps."),
        (want + 1, "the rows start at 1: Python and PyTorch count from 0."),
        (
            np.array([0, 1, 2, 1, 3, 0]),
            "the rows follow the order in which ids first appear; "
            "number the *sorted* distinct ids (np.unique(ids, return_inverse=True)).",
        ),
    ]
    if np.array_equal(got, want):
        return
    for candidate, why in wrongs:
        if np.array_equal(got, candidate):
            raise Wrong(f"{shown} it returned {got.tolist()}: {why}")
    raise Wrong(f"{shown} it returned {got.tolist()} where {want.tolist()} was expected.")


@checker("sigmoid(u·m + user bias + movie bias) scaled into y_range, row by row.")
def check_predict_rating(fn: Callable) -> None:
    """`fn(u, m, ub, mb, y_range)`: EmbeddingDotBias's prediction from looked-up rows.

    `y_range = (1.0, 5.5)`, not (0, 5.5): with lo = 0 a missing `+ lo` would go unnoticed."""
    g = torch.Generator().manual_seed(0)
    u, m = torch.randn(6, 4, generator=g), torch.randn(6, 4, generator=g)
    ub, mb, yr = torch.randn(6, generator=g), torch.randn(6, generator=g), (1.0, 5.5)
    lo, hi = yr
    dot = (u * m).sum(1)
    z = dot + ub + mb
    try:
        compare(
            fn(u, m, ub, mb, yr),
            sigmoid_range(z, yr),
            "One prediction per row of the batch: multiply "
            "elementwise and sum over the factors, (u * m).sum(1), not u @ m.T.",
            [
                (z, "the raw score is not squashed: apply the sigmoid and scale it into y_range."),
                (sigmoid_range(dot, yr), "the biases are missing: add ub and mb."),
                (
                    sigmoid_range(dot, yr) + ub + mb,
                    "the biases are added after the sigmoid, so "
                    "the result can leave y_range: add them to the score inside the sigmoid.",
                ),
                (torch.sigmoid(z), "the sigmoid gives 0..1: scale it by (hi - lo) and add lo."),
                (
                    torch.sigmoid(z) * (hi - lo),
                    "`+ lo` is missing: the sigmoid scaled by "
                    "(hi - lo) gives 0..hi-lo; add lo to shift it into y_range.",
                ),
                (torch.sigmoid(z) * hi, "the sigmoid is scaled by hi only: use (hi - lo), add lo."),
            ],
        )
    except Wrong as e:
        raise Wrong(
            f"{e} (checker's input: u, m of shape (6, 4), ub, mb (6,), y_range={yr})"
        ) from None


def _frame(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "userId": rng.integers(1, 20, n),
            "movieId": rng.integers(1, 50, n),
            "rating": rng.integers(1, 11, n) / 2,
        },
        index=pd.RangeIndex(1000, 1000 + n),
    )


@checker("Three disjoint parts that together hold every rating: nothing leaks into training.")
def check_split_three(fn: Callable) -> None:
    """`fn(ratings, valid_pct, test_pct, seed)` -> `(train, valid, test)`, disjoint row sets."""
    df = _frame()
    out = fn(df.copy(), 0.1, 0.1, seed=0)
    if out is None:
        raise Wrong("your function returned None: did you forget `return`?")
    if not (isinstance(out, tuple) and len(out) == 3):
        raise Wrong("return the three tables (train, valid, test) as a tuple.")
    parts = {name: set(p.index) for name, p in zip(("train", "valid", "test"), out, strict=True)}
    shown = f"on the checker's input (200 ratings, index {df.index[0]}..{df.index[-1]})"
    for a, b in (("train", "test"), ("train", "valid"), ("valid", "test")):
        both = parts[a] & parts[b]
        if both:
            raise Wrong(
                f"{shown} {len(both)} ratings are in both {a} and {b}, e.g. index "
                f"{sorted(both)[:3]}: the {b} score then measures memory, not prediction."
            )
    sizes = {k: len(v) for k, v in parts.items()}
    if sizes != {"train": 160, "valid": 20, "test": 20}:
        raise Wrong(f"{shown} the parts have {sizes} ratings; expected 160, 20 and 20.")
    if set().union(*parts.values()) != set(df.index):
        raise Wrong(f"{shown} some ratings are in none of the three parts.")


def check_bias_meaning(answer: object, movie_bias: pd.Series, ratings: pd.DataFrame) -> None:
    """Interpretation: which of 'number of ratings' or 'mean rating' does the movie bias
    (a Series by movieId) follow? Measured on movies with >= 20 ratings: the Spearman rank
    correlation of the bias with each; the right name is the larger one."""
    g = ratings.groupby("movieId")["rating"].agg(["count", "mean"])
    g = g[g["count"] >= 20].join(movie_bias.rename("bias"), how="inner")
    corr = {
        "number of ratings": g["bias"].corr(g["count"], method="spearman"),
        "mean rating": g["bias"].corr(g["mean"], method="spearman"),
    }
    right = max(corr, key=lambda k: abs(corr[k]))
    measured = ", ".join(f"{k}: {v:+.2f}" for k, v in corr.items())
    why = (
        f"rank correlation of the bias with each, over {len(g):,} movies with >= 20 ratings: "
        f"{measured}. The bias is how much better a movie is rated than the factors "
        "explain, so it follows the mean rating; popularity helps only a little."
    )
    if answer is None or answer is Ellipsis:
        print("○ bias_meaning: not attempted yet. Write your answer, then run this cell.")
    elif not isinstance(answer, str) or answer.strip().lower() not in corr:
        print(f"✗ bias_meaning: answer one of {', '.join(map(repr, corr))}; got {answer!r}.")
    elif answer.strip().lower() == right:
        print(f"✓ bias_meaning: correct. {why}")
    else:
        print(f"✗ bias_meaning: the measurement says {right!r}. {why}")
