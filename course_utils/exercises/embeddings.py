"""Checkers for the exercises of lesson5-embeddings (interpreting embeddings)."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from course_utils.collab import cosine_neighbours
from course_utils.exercises.core import as_answer, checker, compare

__all__ = ["check_nearest_by_cosine", "check_pca_scores"]


@checker("The same neighbours, in the same order, as course_utils.collab.cosine_neighbours.")
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
            (want.flip(0), "the order is reversed: most similar first."),
        ],
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
