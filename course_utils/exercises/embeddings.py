"""Checkers for the exercises of lesson5-embeddings (interpreting embeddings)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from course_utils.exercises.core import as_answer, check_prediction, checker, compare
from course_utils.interpret import cosine_neighbours

__all__ = [
    "check_axis_name",
    "check_cosine_matrix",
    "check_nearest_by_cosine",
    "check_pca_scores",
    "random_factors_pc1_share",
]


@checker("The same neighbours, in the same order, as course_utils.interpret.cosine_neighbours.")
def check_nearest_by_cosine(fn: Callable) -> None:
    """`fn(emb, i, k)`: indices of the k rows most similar to row i by cosine, best first."""
    emb = torch.randn(30, 5, generator=torch.Generator().manual_seed(1))
    emb[7], emb[11] = 5 * emb[2] + emb[3], 0.2 * emb[2] + 0.05  # a long and a short neighbour
    want = torch.as_tensor(cosine_neighbours(emb, 2, 4)[0], dtype=float)
    dot = (emb @ emb[2]).index_fill(0, torch.tensor([2]), -1e9)
    compare(
        fn(emb.clone(), 2, 4),
        want,
        "Return k indices.",
        [
            (
                F.cosine_similarity(emb, emb[2:3]).topk(4).indices.double(),
                "row i itself is in the list (cosine 1): leave it out.",
            ),
            (
                dot.topk(4).indices.double(),
                "that is the dot product's ranking, which favours long "
                "vectors: divide by both lengths (cosine similarity).",
            ),
            (
                torch.cdist(emb, emb[2:3])[:, 0]
                .index_fill(0, torch.tensor([2]), float("inf"))
                .topk(4, largest=False)
                .indices.double(),
                "those are the nearest rows by Euclidean distance, which counts length as well "
                "as direction (a short vector near the origin is 'close' to everything): rank by "
                "cosine similarity, the dot product of the rows scaled to length 1.",
            ),
            (want.flip(0), "the order is reversed: most similar first."),
        ],
        inputs=emb,
    )


@checker(
    "Centred rows projected on the top n right singular vectors: sklearn's "
    "PCA(n).fit_transform, up to the sign of each column."
)
def check_pca_scores(fn: Callable) -> None:
    """`fn(emb, n)`: each row's coordinates on the first n principal components, (rows, n)."""
    g = torch.Generator().manual_seed(2)
    emb = (torch.randn(40, 6, generator=g) * torch.tensor([3.0, 2, 1, 1, 0.5, 0.2]) + 4).double()
    got = fn(emb.clone(), 2)
    centred = emb - emb.mean(0)
    want, raw = (e @ torch.linalg.svd(e, full_matrices=False).Vh[:2].T for e in (centred, emb))

    def align(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """`a` with each column's sign flipped to agree with `b`'s: a PC's sign is arbitrary."""
        return a * torch.where((a * b).sum(0) < 0, -1.0, 1.0)

    got = align(
        as_answer(
            got,
            (40, 2),
            "Return the scores, one row of n per input row, not the components (n, factors).",
        ),
        want,
    )
    compare(
        got,
        want,
        wrongs=[
            (
                align(raw, got),
                "the rows were not centred: subtract the mean "
                "row first, or the first direction points at the mean.",
            )
        ],
        tol=1e-4,
    )


@checker("Every row scaled to length 1, then all dot products: F.cosine_similarity for each pair.")
def check_cosine_matrix(fn: Callable) -> None:
    """`fn(emb)`: the (n, n) matrix of cosine similarities between the rows of `emb` (n, d)."""
    g = torch.Generator().manual_seed(3)
    emb = torch.randn(8, 5, generator=g).double() * torch.arange(1, 9).double()[:, None]
    want = F.cosine_similarity(emb[:, None], emb[None], dim=2)
    cols = emb / emb.norm(dim=0, keepdim=True)  # the planted bug: columns scaled, not rows
    compare(
        fn(emb.clone()),
        want,
        "Return one cosine per pair of rows: (n, n).",
        [
            (
                cols @ cols.T,
                "still the planted bug: norm(dim=0) scales each column (factor) to length 1, "
                "so rows keep their lengths; scale each row: norm(dim=1, keepdim=True).",
            ),
            (emb @ emb.T, "those are plain dot products: divide by both rows' lengths."),
        ],
        inputs=emb,
    )


def random_factors_pc1_share(n_movies: int = 3000, n_factors: int = 50, seed: int = 0) -> float:
    """Share of variance PC1 explains for random (n_movies, n_factors) factors, untrained.

    The baseline the predict-then-run exercise asks about: with no structure every one of the
    n_factors directions holds about 1/n_factors of the variance, so a trained model's much
    larger PC1 share is structure the training put there.
    """
    g = torch.Generator().manual_seed(seed)
    emb = torch.randn(n_movies, n_factors, generator=g, dtype=torch.float64)
    s = torch.linalg.svdvals(emb - emb.mean(0))
    return float(s[0] ** 2 / (s**2).sum())


def check_axis_name(name: str, axis: str, guess: object, scores: pd.Series, facts: pd.DataFrame):
    """Interpretation: is `guess` the column of `facts` that the component `scores` tracks best?

    `scores` (one per movie) and `facts` (a row per movie, a column per measurable property, same
    index) are correlated column by column; the answer is the column with the largest absolute
    correlation, and every correlation is printed so the name is tested by a measurement.
    """
    corr = facts.loc[scores.index].apply(lambda col: np.corrcoef(col, scores)[0, 1])
    best = str(corr.abs().idxmax())
    shown = ", ".join(f"{c} {v:+.2f}" for c, v in corr.items())
    why = (
        f"Correlations of {axis} with each: {shown}. The strongest names the axis best; "
        "a weak one says the titles told a story the numbers do not back."
    )
    check_prediction(name, guess, best, why, choices=list(facts.columns))
    return corr
