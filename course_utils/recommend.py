"""Using a trained collaborative-filtering model (lesson 5): top-N recommendations
(`recommend`), what to show a user the model has never seen (`popularity_fallback`), and a new
user's row fitted from a few ratings with the trained tables frozen (`fit_new_user`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.checks import finite_values, real_number, row_indices, to_tensor, whole_number
from course_utils.collab import IdMap
from course_utils.data import check_columns
from course_utils.learner import predict, sigmoid_range

__all__ = ["fit_new_user", "new_user_predict", "popularity_fallback", "rated_by", "recommend"]


def rated_by(ratings: pd.DataFrame, user_id: int) -> set[int]:
    """The movieIds `user_id` has rated."""
    return set(ratings.loc[ratings["userId"] == user_id, "movieId"].tolist())


def recommend(
    model: nn.Module,
    user_id: int,
    users: IdMap,
    movies: IdMap,
    exclude: Iterable[int] | None = (),
    n: int = 10,
    candidates: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Top-`n` movies for `user_id` by predicted rating: columns movieId, prediction.

    Scores every movie training has seen (or `candidates`) except those in `exclude` (the
    ones the user already rated). An id training never saw raises `UnknownIdError`."""
    n = whole_number(n, "n", example="10")
    exclude = () if exclude is None else exclude
    u = int(users.encode(user_id, trained_only=True)[0])
    cand = movies.ids if candidates is None else np.asarray(candidates)
    if candidates is None and movies.trained is not None:  # only movies training has seen
        cand = cand[np.isin(cand, list(movies.trained))]
    cand = cand[~np.isin(cand, list(exclude))]
    m_idx = torch.from_numpy(movies.encode(cand, trained_only=True))
    preds = predict(model, torch.full_like(m_idx, u), m_idx).float().cpu().numpy()
    top = np.argsort(-preds, kind="stable")[:n]
    return pd.DataFrame({"movieId": cand[top], "prediction": preds[top]}).reset_index(drop=True)


def popularity_fallback(
    ratings: pd.DataFrame, n: int = 10, min_ratings: int = 50, prior: float = 20.0
) -> pd.DataFrame:
    """What to show a user the model has never seen: well-rated popular movies.

    Movies with at least `min_ratings` ratings ranked by the damped mean `(sum + prior *
    global_mean) / (count + prior)`. Columns movieId, n_ratings, mean, score."""
    check_columns(ratings, ["movieId", "rating"], "ratings table")
    finite_values(ratings["rating"], "the rating column", "popularity_fallback")
    n = whole_number(n, "n", example="10")
    min_ratings = whole_number(min_ratings, "min_ratings", minimum=0, example="50")
    prior = real_number(prior, "prior", 0, None, example="20")
    g = ratings.groupby("movieId")["rating"].agg(["count", "sum", "mean"])
    mu = float(ratings["rating"].mean())
    g["score"] = (g["sum"] + prior * mu) / (g["count"] + prior)
    g = g[g["count"] >= min_ratings].sort_values(["score", "count"], ascending=False).head(n)
    return g.reset_index().rename(columns={"count": "n_ratings"}).drop(columns="sum")


def _movie_rows(model: nn.Module, movie_idx: Tensor) -> tuple[Tensor, Tensor]:
    """Copies, on the CPU and outside autograd, of the factors `(k, n_factors)` and biases
    `(k,)` of the movies `movie_idx`: a new user's row is fitted and scored against them."""
    with torch.no_grad():  # indexing under no_grad: copies with no graph behind them
        factors = model.movie_factors.weight[movie_idx].cpu()
        biases = model.movie_bias.weight[movie_idx, 0].cpu()
    return factors, biases


def fit_new_user(
    model: nn.Module,
    movie_idx: Tensor,
    ratings: Tensor,
    l2: float = 0.07,
    steps: int = 200,
    lr: float = 0.05,
    seed: int = 0,
) -> tuple[Tensor, Tensor]:
    """The cold start for a user: a new `(n_factors,)` row and bias fitted to a handful of
    ratings, with every trained table of an `EmbeddingDotBias` frozen.

    Only the new row and its bias are optimised (Adam, full batch: a few ratings), with the
    same per-rating L2 as training, so the row stays in the scale of the trained ones. The
    movie tables are only read, never changed: the other users' predictions stay as they were.
    `movie_idx`: int64 `(k,)` rows of the rated movies; `ratings`: `(k,)`. Returns
    `(user_row, user_bias)`; predict with `new_user_predict`."""
    if not hasattr(model, "movie_bias"):
        raise TypeError(f"fit_new_user needs an EmbeddingDotBias, got {type(model).__name__}.")
    n_movies = model.movie_factors.num_embeddings
    rows = "movie_idx (rows of movie_factors: movies.encode(ids))"
    movie_idx = torch.from_numpy(row_indices(movie_idx, n_movies, rows, "fit_new_user"))
    target = to_tensor(ratings, "ratings").float()
    finite_values(target, "ratings", "fit_new_user")
    steps = whole_number(steps, "steps", example="200")
    lr = real_number(lr, "lr", 0, None, low_open=True, example="0.05")
    l2 = real_number(l2, "l2", 0, None, example="0.07")
    if movie_idx.shape != target.shape or movie_idx.ndim != 1 or len(movie_idx) == 0:
        raise ValueError(
            f"fit_new_user needs as many movie rows as ratings, got {tuple(movie_idx.shape)} "
            f"and {tuple(target.shape)}."
        )
    g = torch.Generator().manual_seed(seed)
    n_factors = model.movie_factors.weight.shape[1]
    row = (0.01 * torch.randn(n_factors, generator=g)).requires_grad_()
    bias = torch.zeros(1, requires_grad=True)
    m, mb = _movie_rows(model, movie_idx)  # frozen: only read
    opt = torch.optim.Adam([row, bias], lr=lr)
    for _ in range(steps):
        pred = sigmoid_range(m @ row + bias + mb, model.y_range)
        loss = F.mse_loss(pred, target) + l2 * (row @ row)  # l2_loss's user term
        opt.zero_grad()
        loss.backward()
        opt.step()
    return row.detach(), bias.detach()


def new_user_predict(model: nn.Module, row: Tensor, bias: Tensor, movie_idx: Tensor) -> Tensor:
    """Predicted ratings `(k,)` of the movies `movie_idx` for a user row from `fit_new_user`."""
    m, mb = _movie_rows(model, movie_idx)
    with torch.no_grad():
        return sigmoid_range(m @ row + bias + mb, model.y_range)
