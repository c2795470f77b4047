"""lesson5-movielens: reference solutions to the exercises."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


def contiguous_ids(ids: np.ndarray) -> np.ndarray:
    """Row numbers 0..n-1 for the distinct ids, the smallest id getting row 0.

    `np.unique` sorts the distinct ids; `return_inverse` gives, for each input id, the
    position of its value among them: exactly the row number we need.
    """
    _, rows = np.unique(ids, return_inverse=True)
    return rows


def predict_rating(
    u: Tensor, m: Tensor, ub: Tensor, mb: Tensor, y_range: tuple[float, float]
) -> Tensor:
    """EmbeddingDotBias's prediction. u, m: (bs, n_factors); ub, mb: (bs,) -> (bs,)."""
    lo, hi = y_range
    score = (u * m).sum(dim=1) + ub + mb  # one dot product per row, plus both biases
    return torch.sigmoid(score) * (hi - lo) + lo


def split_three(ratings, valid_pct: float = 0.1, test_pct: float = 0.1, seed: int = 0):
    """The fixed debugging exercise: train takes only what is left after valid and test.

    The planted bug was `train = ratings.iloc[idx[n_valid:]]`, which also holds the test rows.
    """
    idx = np.random.default_rng(seed).permutation(len(ratings))
    n_valid, n_test = round(len(ratings) * valid_pct), round(len(ratings) * test_pct)
    valid = ratings.iloc[idx[:n_valid]]
    test = ratings.iloc[idx[n_valid : n_valid + n_test]]
    train = ratings.iloc[idx[n_valid + n_test :]]
    return train, valid, test


DROPOUT_MEAN_GUESS = 1.0  # survivors are scaled by 1/(1 - p): the mean is preserved
BIAS_MEANING = "mean rating"
