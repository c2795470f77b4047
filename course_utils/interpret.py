"""What a trained embedding has learned (lesson 5, `lesson5-embeddings`): the nearest rows
by cosine similarity (`cosine_neighbours`), and how a score per movie lines up with the
genres (`genre_correlations`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor

from course_utils.checks import whole_number
from course_utils.data import check_columns

__all__ = ["cosine_neighbours", "genre_correlations"]


def cosine_neighbours(
    vectors: np.ndarray | Tensor, i: int, k: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of `vectors` (n, d) most similar to row `i` by cosine (`i` itself left out):
    `(indices, similarities)`."""
    v = torch.as_tensor(vectors, dtype=torch.float32)
    i = whole_number(i, "i (the row)", minimum=0, example="3")
    k = whole_number(k, "k", example="10")
    if not 0 <= i < len(v):
        raise IndexError(f"Row {i} is out of range: the vectors have {len(v)} rows.")
    sims = F.cosine_similarity(v, v[i : i + 1], dim=1)  # (n,)
    sims[i] = -2.0  # never its own neighbour
    top = torch.topk(sims, min(k, len(v) - 1))
    return top.indices.numpy(), top.values.numpy()


def genre_correlations(
    scores: pd.DataFrame, movies: pd.DataFrame, min_movies: int = 30
) -> pd.DataFrame:
    """Correlation of each column of `scores` (indexed by movieId) with each genre flag.

    `movies`: a table with movieId and `|`-separated `genres`. Genres with fewer than
    `min_movies` of the scored movies are left out. Rows: genres; columns: those of `scores`."""
    check_columns(movies, ["movieId", "genres"], "movies table")
    min_movies = whole_number(min_movies, "min_movies", minimum=0, example="30")
    unknown = scores.index.difference(movies["movieId"])
    if len(unknown):
        raise ValueError(
            f"{len(unknown)} movieId(s) of scores are not in the movies table (e.g. "
            f"{unknown[:3].tolist()}): pass scores.loc[scores.index.isin(movies['movieId'])]."
        )
    g = movies.set_index("movieId").loc[scores.index, "genres"].str.get_dummies(sep="|")
    g = g.drop(columns=[c for c in g.columns if c.startswith("(")])  # "(no genres listed)"
    g = g.loc[:, g.sum() >= min_movies]
    return pd.DataFrame({c: g.corrwith(scores[c]) for c in scores.columns})
