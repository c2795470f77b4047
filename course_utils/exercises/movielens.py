"""Checkers for the exercises of lesson5-movielens (collaborative filtering)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from course_utils.collab import IdMap
from course_utils.exercises.core import checker, compare
from course_utils.learner import sigmoid_range

__all__ = ["check_contiguous_ids", "check_predict_rating"]


@checker("Equal ids share a row, the 4 distinct ids get rows 0..3 in sorted order: IdMap.")
def check_contiguous_ids(fn: Callable) -> None:
    """`fn(ids)`: row numbers 0..n-1 for the distinct ids, in sorted order (as `IdMap`)."""
    ids = np.array([10, 3, 7, 3, 193609, 10])
    want, raw = (torch.as_tensor(a, dtype=float) for a in (IdMap(ids).encode(ids), ids))
    compare(
        fn(ids.copy()),
        want,
        "Return one row number per id of the input.",
        [
            (
                raw,
                "these are the raw ids: a table of 4 rows needs row numbers 0..3, and id 193609 "
                "would be far past its end.",
            ),
            (raw - 1, "subtracting 1 only works when the ids have no gaps."),
            (want + 1, "the rows start at 1: Python and PyTorch count from 0."),
            (
                torch.tensor([0.0, 1, 2, 1, 3, 0]),
                "the rows follow the order in which ids first "
                "appear; number the *sorted* distinct ids (np.unique(ids, return_inverse=True)).",
            ),
        ],
    )


@checker("sigmoid(u·m + user bias + movie bias) scaled into y_range, row by row.")
def check_predict_rating(fn: Callable) -> None:
    """`fn(u, m, ub, mb, y_range)`: EmbeddingDotBias's prediction from looked-up rows."""
    g = torch.Generator().manual_seed(0)
    u, m = torch.randn(6, 4, generator=g), torch.randn(6, 4, generator=g)
    ub, mb, yr = torch.randn(6, generator=g), torch.randn(6, generator=g), (1.0, 5.5)
    got = fn(u, m, ub, mb, yr)
    z = (u * m).sum(1) + ub + mb
    compare(
        got,
        sigmoid_range(z, yr),
        "One prediction per row of the batch: multiply "
        "elementwise and sum over the factors, (u * m).sum(1), not u @ m.T.",
        [
            (z, "the raw score is not squashed: apply the sigmoid and scale it into y_range."),
            (sigmoid_range((u * m).sum(1), yr), "the biases are missing: add ub and mb."),
            (torch.sigmoid(z), "the sigmoid gives 0..1: scale it by (hi - lo) and add lo."),
            (torch.sigmoid(z) * yr[1], "the sigmoid is scaled by hi only: use (hi - lo), add lo."),
        ],
    )
