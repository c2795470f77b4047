"""Collaborative filtering (lesson 5): ids and data, the three models (`EmbeddingDot`,
`EmbeddingDotBias`, `EmbeddingNet`) and training them (`train_collab`).

Using a trained model (recommendations, new users) is in `course_utils.recommend`; reading
what its embeddings learned (neighbours, genres) in `course_utils.interpret`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.checks import (
    distinct_ids,
    matching_shapes,
    real_number,
    row_indices,
    to_tensor,
    value_range,
    whole_number,
)
from course_utils.data import check_columns
from course_utils.device import fused_ok
from course_utils.device_data import DeviceData
from course_utils.learner import History, fit, sigmoid_range
from course_utils.schedules import one_cycle

__all__ = [
    "EmbeddingDot",
    "EmbeddingDotBias",
    "EmbeddingNet",
    "IdMap",
    "UnknownIdError",
    "collab_data",
    "l2_loss",
    "rmse",
    "split_ratings",
    "top_crosstab",
    "train_collab",
    "unseen_in_training",
]


# --------------------------------------------------------------------------- ids


class UnknownIdError(KeyError):
    """An id the model has never seen (so it has no embedding row for it)."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0])


class IdMap:
    """Raw ids <-> contiguous indices `0..n-1`, the row numbers of an embedding table.

    `trained` (optional): the ids training sees; `encode(..., trained_only=True)` refuses the
    others, whose rows training never moves."""

    def __init__(
        self,
        ids: Sequence | np.ndarray | pd.Series,
        name: str = "id",
        trained: Sequence | np.ndarray | pd.Series | None = None,
    ) -> None:
        """Number the distinct `ids` in sorted order. MovieLens ids have gaps (movieId runs to
        193,609 for 9,724 movies): an embedding table indexed by raw id would need 193,610 rows,
        most never used, so each id gets the next free row instead."""
        self.name = name
        self.ids = distinct_ids(ids, name, "IdMap")  # sorted distinct ids: row i holds ids[i]
        if len(self.ids) == 0:
            raise ValueError(f"IdMap needs at least one {name} id.")
        self.index = {o: i for i, o in enumerate(self.ids.tolist())}
        self.trained = None if trained is None else set(np.asarray(trained).tolist())

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, raw_id: object) -> bool:
        return raw_id in self.index

    def __repr__(self) -> str:
        return f"IdMap({len(self)} {self.name}s, ids {self.ids[0]}..{self.ids[-1]})"

    def encode(self, ids: Iterable | int, trained_only: bool = False) -> np.ndarray:
        """Indices of `ids` (an array of int64); `UnknownIdError` for an unseen id."""
        arr = np.atleast_1d(np.asarray(ids))
        if trained_only and self.trained is not None:
            untrained = [o for o in arr.tolist() if o in self.index and o not in self.trained]
            if untrained:
                raise UnknownIdError(
                    f"{self.name} id {untrained[0]!r} is only in the validation set: training "
                    "never moved its embedding row, so the model knows nothing about it (see "
                    "`popularity_fallback`)."
                )
        try:
            return np.array([self.index[o] for o in arr.tolist()], dtype=np.int64)
        except KeyError as e:
            contiguous = np.issubdtype(self.ids.dtype, np.integer) and self.ids[-1] - self.ids[
                0
            ] + 1 == len(self)
            gaps = "" if contiguous else ", not all in between"
            raise UnknownIdError(
                f"Unknown {self.name} id {e.args[0]!r}: the model knows {len(self)} {self.name}s "
                f"(ids {self.ids[0]}..{self.ids[-1]}{gaps}). A {self.name} the model never saw "
                "in training has no embedding; see `popularity_fallback` for what to do instead."
            ) from None

    def decode(self, idx: Iterable | int) -> np.ndarray:
        """The raw ids of indices `idx`."""
        return self.ids[row_indices(idx, len(self), "the indices (its rows)", "IdMap.decode")]


# --------------------------------------------------------------------------- data


def top_crosstab(ratings: pd.DataFrame, n_users: int = 15, n_movies: int = 15) -> pd.DataFrame:
    """Ratings of the `n_users` most active users (rows) for the `n_movies` most-rated movies,
    NaN where unrated: the table `excel/collab_filter.xlsx` starts from. Ties in the counts go
    to the smaller id, so the table is the same on every machine."""
    check_columns(ratings, ["userId", "movieId", "rating"], "ratings table")
    n_users = whole_number(n_users, "n_users", example="15")
    n_movies = whole_number(n_movies, "n_movies", example="15")

    def top(col: str, n: int) -> np.ndarray:  # the n ids with the most ratings
        counts = ratings.groupby(col)["rating"].count().reset_index()
        return counts.sort_values(["rating", col], ascending=[False, True])[col].to_numpy()[:n]

    r = ratings[
        ratings["userId"].isin(top("userId", n_users))
        & ratings["movieId"].isin(top("movieId", n_movies))
    ]
    table = pd.crosstab(r["userId"], r["movieId"], r["rating"], aggfunc="sum")
    return table.sort_index().sort_index(axis=1).astype("float64")


def split_ratings(
    ratings: pd.DataFrame, valid_pct: float = 0.2, seed: int = 42
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded random split into `(train, valid)` rows, `valid_pct` of them for validation."""
    real_number(valid_pct, "valid_pct", 0, 1, low_open=True, high_open=True, example="0.2")
    if len(ratings) < 2:  # one to train on, one to validate
        got = "an empty table" if len(ratings) == 0 else "1 rating"
        raise ValueError(f"split_ratings needs at least 2 ratings, got {got}.")
    idx = np.random.default_rng(seed).permutation(len(ratings))
    n_valid = int(round(len(ratings) * valid_pct))
    return ratings.iloc[idx[n_valid:]], ratings.iloc[idx[:n_valid]]


def unseen_in_training(train: pd.DataFrame, valid: pd.DataFrame) -> pd.Series:
    """Mask over `valid`: True where its user or its movie has no rating in `train` (the model
    then predicts from an embedding row training never moved: a guess, not something learned)."""
    return ~(valid["userId"].isin(train["userId"]) & valid["movieId"].isin(train["movieId"]))


def collab_data(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    users: IdMap | None = None,
    movies: IdMap | None = None,
    target: str = "rating",
    bs: int = 256,
    device: str | torch.device | None = None,
    drop_unseen: bool = False,
    report: bool = False,
) -> tuple[DeviceData, IdMap, IdMap]:
    """`(DeviceData, users, movies)` for ratings tables with userId, movieId and `target`.

    The id maps cover the ids of both tables, so every validation rating has a row to look up;
    but a user seen only in validation gets an embedding row that training never moves (its
    prediction is the global bias plus noise), and `recommend` (in `course_utils.recommend`)
    refuses such a user. `report`: print how many validation ratings involve ids training never
    saw; `drop_unseen`: leave those ratings out of the validation set. Inputs `(user_idx,
    movie_idx)`: two int64 tensors `(n,)`; targets float32 `(n,)`.
    """
    for df, name in ((train, "train"), (valid, "valid")):
        check_columns(df, ["userId", "movieId", target], f"{name} ratings")
    unseen = unseen_in_training(train, valid)
    if report:
        new = {c: valid.loc[~valid[c].isin(train[c]), c].nunique() for c in ("userId", "movieId")}
        print(
            f"{int(unseen.sum()):,} of {len(valid):,} validation ratings ({unseen.mean():.1%}) "
            f"involve {new['userId']:,} user(s) or {new['movieId']:,} movie(s) that training "
            "never saw" + ("; they are left out." if drop_unseen else ".")
        )
    valid = valid[~unseen] if drop_unseen else valid
    both = pd.concat([train[["userId", "movieId"]], valid[["userId", "movieId"]]])
    users = users or IdMap(both["userId"], "user", trained=train["userId"])
    movies = movies or IdMap(both["movieId"], "movie", trained=train["movieId"])

    def tensors(df: pd.DataFrame) -> tuple[tuple[Tensor, Tensor], Tensor]:
        u = torch.from_numpy(users.encode(df["userId"].to_numpy()))
        m = torch.from_numpy(movies.encode(df["movieId"].to_numpy()))
        return (u, m), to_tensor(df[target], f"{target} column").float()

    (tx, ty), (vx, vy) = tensors(train), tensors(valid)
    return DeviceData(tx, ty, vx, vy, bs=bs, device=device), users, movies


# --------------------------------------------------------------------------- models


def _embedding(n: int, dim: int, std: float = 0.01) -> nn.Embedding:
    """An embedding table with small random starting values (zeros for biases: std=0)."""
    e = nn.Embedding(n, dim)
    nn.init.normal_(e.weight, 0.0, std) if std > 0 else nn.init.zeros_(e.weight)
    return e


def _check_sizes(n_users: int, n_movies: int, n_factors: int) -> None:
    """The table sizes of a model whole numbers: else torch's error, which names none."""
    whole_number(n_users, "n_users", example="len(users)")
    whole_number(n_movies, "n_movies", example="len(movies)")
    whole_number(n_factors, "n_factors", example="50")


def _penalty(u: Tensor, m: Tensor) -> Tensor:  # for l2_loss: batch mean of |u|² + |m|²
    return (u.pow(2).sum(1) + m.pow(2).sum(1)).mean()


class EmbeddingDot(nn.Module):
    """Matrix factorisation: rating = user factors . movie factors.

    Each user and each movie is a vector of `n_factors` learned numbers; the dot product is
    large when the user's tastes line up with what the movie has, the same product the
    spreadsheet's MMULT computes for every user and movie at once.

    `forward(users, movies)`: two int64 tensors of indices, shape `(bs,)` -> `(bs,)`."""

    def __init__(self, n_users: int, n_movies: int, n_factors: int = 50) -> None:
        super().__init__()
        _check_sizes(n_users, n_movies, n_factors)
        self.user_factors = _embedding(n_users, n_factors)  # (n_users, n_factors)
        self.movie_factors = _embedding(n_movies, n_factors)  # (n_movies, n_factors)

    def forward(self, users: Tensor, movies: Tensor) -> Tensor:
        u, m = self.user_factors(users), self.movie_factors(movies)  # (bs, n_factors) each
        if self.training:  # for l2_loss
            self.penalty = _penalty(u, m)
        return (u * m).sum(1)


class EmbeddingDotBias(nn.Module):
    """Matrix factorisation with a bias per user and per movie, squashed into `y_range`.

    rating = sigmoid(u . m + user_bias + movie_bias) * (hi - lo) + lo. The movie bias says
    how much better a movie is rated than its factors explain; the user bias how generous a
    rater is. `y_range=None`: the raw score (logits, for a 0/1 target)."""

    def __init__(
        self,
        n_users: int,
        n_movies: int,
        n_factors: int = 50,
        y_range: tuple[float, float] | None = (0.0, 5.5),
    ) -> None:
        super().__init__()
        _check_sizes(n_users, n_movies, n_factors)
        self.user_factors = _embedding(n_users, n_factors)
        self.movie_factors = _embedding(n_movies, n_factors)
        self.user_bias = _embedding(n_users, 1, std=0)  # (n_users, 1)
        self.movie_bias = _embedding(n_movies, 1, std=0)  # (n_movies, 1)
        self.y_range = value_range(y_range, "y_range")

    def forward(self, users: Tensor, movies: Tensor) -> Tensor:
        u, m = self.user_factors(users), self.movie_factors(movies)  # (bs, n_factors)
        ub, mb = self.user_bias(users)[:, 0], self.movie_bias(movies)[:, 0]  # (bs,)
        if self.training:  # for l2_loss (factors only: a bias is one number, rarely overfit)
            self.penalty = _penalty(u, m)
        return sigmoid_range((u * m).sum(1) + ub + mb, self.y_range)


class EmbeddingNet(nn.Module):
    """The neural-network version: cat(user, movie) (bs, 2*n_factors) -> dropout -> Linear ->
    ReLU -> dropout -> Linear (bs, 1) -> sigmoid into `y_range`. No dot product: the hidden
    layer learns how user and movie factors combine."""

    def __init__(
        self,
        n_users: int,
        n_movies: int,
        n_factors: int = 50,
        n_hidden: int = 10,
        p1: float = 0.05,
        p2: float = 0.5,
        y_range: tuple[float, float] = (0.0, 5.5),
    ) -> None:
        super().__init__()
        _check_sizes(n_users, n_movies, n_factors)
        whole_number(n_hidden, "n_hidden", example="10")
        real_number(p1, "p1 (a dropout probability)", 0, 1, high_open=True, example="0.05")
        real_number(p2, "p2 (a dropout probability)", 0, 1, high_open=True, example="0.5")
        self.user_factors = _embedding(n_users, n_factors)
        self.movie_factors = _embedding(n_movies, n_factors)
        self.layers = nn.Sequential(
            nn.Dropout(p1),
            nn.Linear(2 * n_factors, n_hidden),
            nn.ReLU(),
            nn.Dropout(p2),
            nn.Linear(n_hidden, 1),
        )
        self.y_range = value_range(y_range, "y_range")

    def forward(self, users: Tensor, movies: Tensor) -> Tensor:
        u, m = self.user_factors(users), self.movie_factors(movies)  # (bs, n_factors)
        if self.training:  # for l2_loss
            self.penalty = _penalty(u, m)
        x = torch.cat([u, m], dim=1)  # (bs, 2*n_factors)
        return sigmoid_range(self.layers(x)[:, 0], self.y_range)


# --------------------------------------------------------------------------- losses, training


def l2_loss(
    model: nn.Module, l2: float, base: Callable[[Tensor, Tensor], Tensor] = F.mse_loss
) -> Callable[[Tensor, Tensor], Tensor]:
    """`base` loss plus `l2` times `model.penalty`, the squared size of the embeddings this
    batch used (mean over the batch of ‖user vector‖² + ‖movie vector‖², set by every training
    forward pass above). Added in training only.

    Unlike `weight_decay`, which shrinks every row at every step whether the batch used it or
    not, this shrinks a row only when it is used, so a movie with 300 ratings and one with 3 get
    the same pull per rating: the classic matrix-factorisation regulariser (Koren, Bell &
    Volinsky, 2009). With Adam it is L2 inside the adaptive step (coupled), not AdamW's
    decoupled decay: lesson6-sgd compares the two.
    """
    l2 = real_number(l2, "l2", 0, None, example="1e-4")

    def loss(out: Tensor, target: Tensor) -> Tensor:
        value = base(out, target)
        if model.training and not hasattr(model, "penalty"):
            raise AttributeError(
                f"l2_loss needs model.penalty, which {type(model).__name__} "
                "never sets: set it in forward as EmbeddingDot does, or use l2=0."
            )
        return value + l2 * model.penalty if model.training else value

    loss.__name__ = f"{getattr(base, '__name__', 'loss')}+l2"
    return loss


def rmse(out: Tensor, target: Tensor) -> Tensor:
    """Root mean squared error, a `fit` metric (same units as the ratings)."""
    matching_shapes(out, target, "rmse")
    return F.mse_loss(out, target).sqrt()


def _check_ids_fit(model: nn.Module, data: DeviceData) -> None:
    """Indices past the end of an embedding table: a clear error once per data set, not an
    opaque one (on a GPU, a device-side assert) in the middle of training."""
    xs = [data.train_x, data.valid_x] if data.has_valid else [data.train_x]
    for i, name in enumerate(("user", "movie")):
        table, top = getattr(model, f"{name}_factors", None), max(int(x[i].max()) for x in xs)
        if isinstance(table, nn.Embedding) and top >= table.num_embeddings:
            raise IndexError(
                f"The data has {name} indices up to {top} but {type(model).__name__} "
                f"has {table.num_embeddings} {name} rows: build it with n_{name}s="
                f"len({name}s), the IdMap collab_data returned ({top + 1} or more)."
            )


def train_collab(
    model: nn.Module,
    data: DeviceData,
    epochs: int,
    lr: float,
    l2: float = 0.0,
    wd: float = 0.0,
    eps: float = 1e-4,
    progress: bool | None = None,
) -> History:
    """The recipe the lesson ends with: AdamW, a one-cycle schedule, MSE (+ `l2_loss`).

    With the defaults (`wd=0`) AdamW is plain Adam, and `l2` adds the per-row penalty of
    `l2_loss` to the loss: L2 inside Adam's adaptive step (coupled), shrinking only the rows a
    batch uses. `wd` is AdamW's decoupled decay of every weight at every step instead.
    `eps=1e-4`, not PyTorch's 1e-8: Adam divides each step by sqrt(mean squared gradient) + eps,
    and for a movie with few ratings that mean is tiny, so a small eps makes its row take huge
    steps. `fused`: the same update in one pass where the device can."""
    lr = real_number(lr, "lr", 0, None, low_open=True, example="5e-3")
    l2 = real_number(l2, "l2", 0, None, example="1e-4")
    wd = real_number(wd, "wd (weight decay)", 0, None, example="0.1")
    eps = real_number(eps, "eps", 0, None, low_open=True, example="1e-4")
    _check_ids_fit(model, data)
    opt = torch.optim.AdamW(
        model.parameters(),
        lr=lr,
        betas=(0.9, 0.99),
        eps=eps,
        weight_decay=wd,
        fused=fused_ok(data.device),
    )
    loss_fn = l2_loss(model, l2) if l2 else F.mse_loss
    return fit(
        model, data, epochs, opt, loss_fn, metrics=[rmse], sched=one_cycle(lr), progress=progress
    )
