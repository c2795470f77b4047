"""course_utils.collab, .recommend and .interpret: ids, data, the three models, training,
using a model, and what its embeddings learned."""

from __future__ import annotations

import os

import matplotlib
import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from course_utils.collab import (
    EmbeddingDot,
    EmbeddingDotBias,
    EmbeddingNet,
    IdMap,
    UnknownIdError,
    collab_data,
    l2_loss,
    rmse,
    split_ratings,
    top_crosstab,
    train_collab,
)
from course_utils.device import set_seed
from course_utils.interpret import cosine_neighbours, genre_correlations
from course_utils.learner import predict
from course_utils.recommend import popularity_fallback, rated_by, recommend
from course_utils.widgets import annotate_points, make_embedding_explorer

matplotlib.use("Agg")


def low_rank_ratings(
    n_users: int = 60, n_movies: int = 80, density: float = 0.5, seed: int = 0
) -> pd.DataFrame:
    """Ratings made from 2 hidden factors + biases, 1..5 stars, with gappy ids."""
    rng = np.random.default_rng(seed)
    u, m = rng.normal(size=(n_users, 2)), rng.normal(size=(n_movies, 2))
    score = 3 + u @ m.T + rng.normal(0, 0.5, n_users)[:, None] + rng.normal(0, 0.5, n_movies)
    uu, mm = np.nonzero(rng.random((n_users, n_movies)) < density)
    return pd.DataFrame(
        {
            "userId": uu * 3 + 1,
            "movieId": mm * 10 + 7,
            "rating": np.clip(score[uu, mm], 1, 5).astype("float32"),
        }
    )


# --------------------------------------------------------------------------- ids


def test_idmap_encodes_sorted_contiguous_and_back():
    ids = IdMap([30, 10, 20, 10], "user")
    assert len(ids) == 3 and list(ids.ids) == [10, 20, 30]
    assert ids.index == {10: 0, 20: 1, 30: 2}
    np.testing.assert_array_equal(ids.encode([30, 10]), [2, 0])
    assert ids.encode(20).dtype == np.int64
    np.testing.assert_array_equal(ids.decode([2, 0]), [30, 10])
    assert 20 in ids and 25 not in ids


def test_unknown_id_raises_clear_error():
    ids = IdMap(pd.Series([1, 2, 5]), "user")
    with pytest.raises(UnknownIdError) as e:
        ids.encode([1, 99999])
    msg = str(e.value)
    assert "99999" in msg and "3 users" in msg and "not all in between" in msg
    assert not msg.startswith("'")  # no KeyError quoting
    assert isinstance(e.value, KeyError)
    with pytest.raises(ValueError, match="at least one"):
        IdMap([], "movie")


# --------------------------------------------------------------------------- data


def test_top_crosstab_counts_joins_and_breaks_ties_by_id():
    ratings = pd.DataFrame(
        {
            "userId": [1, 1, 1, 2, 2, 3, 3, 4],
            "movieId": [10, 20, 30, 10, 20, 10, 30, 40],
            "rating": [1.0, 2.0, 3.0, 4.0, 5.0, 2.5, 3.5, 4.5],
        }
    )
    t = top_crosstab(ratings, n_users=2, n_movies=2)
    # users: 1 has 3 ratings; 2 and 3 tie at 2 -> the smaller id, 2. Movies: 10 (3), then 20
    # and 30 tie at 2 -> 20.
    assert list(t.index) == [1, 2] and list(t.columns) == [10, 20]
    np.testing.assert_array_equal(t.to_numpy(), [[1.0, 2.0], [4.0, 5.0]])
    t3 = top_crosstab(ratings, n_users=3, n_movies=3)
    assert np.isnan(t3.loc[2, 30]) and t3.loc[3, 30] == 3.5


def test_split_ratings_is_seeded_disjoint_and_complete():
    r = low_rank_ratings()
    train, valid = split_ratings(r, valid_pct=0.2, seed=1)
    assert len(valid) == round(0.2 * len(r)) and len(train) + len(valid) == len(r)
    assert not set(train.index) & set(valid.index)
    again = split_ratings(r, valid_pct=0.2, seed=1)[1]
    assert valid.index.equals(again.index)
    assert not valid.index.equals(split_ratings(r, 0.2, seed=2)[1].index)
    with pytest.raises(ValueError):
        split_ratings(r, valid_pct=1.5)


def test_collab_data_shapes_and_ids():
    r = low_rank_ratings()
    train, valid = split_ratings(r)
    data, users, movies = collab_data(train, valid, bs=64, device="cpu")
    assert len(users) == r["userId"].nunique() and len(movies) == r["movieId"].nunique()
    (u, m), y = data.train_x, data.train_y
    assert u.dtype == m.dtype == torch.int64 and y.dtype == torch.float32
    assert u.shape == m.shape == y.shape == (len(train),)
    np.testing.assert_array_equal(users.decode(u[:5].numpy()), train["userId"].to_numpy()[:5])
    with pytest.raises(Exception, match="missing column"):
        collab_data(train.drop(columns="rating"), valid)


# --------------------------------------------------------------------------- models


def test_models_compute_what_their_docstrings_say():
    """EmbeddingDot: u . m; EmbeddingDotBias: sigmoid(u . m + user bias + movie bias) scaled
    into y_range, the factors of row i of each table being used for id i."""
    set_seed(0)
    users, movies = torch.tensor([0, 3, 3, 1]), torch.tensor([5, 0, 2, 5])
    dot = EmbeddingDot(4, 6, n_factors=3).eval()
    U, M = dot.user_factors.weight, dot.movie_factors.weight
    with torch.no_grad():
        torch.testing.assert_close(dot(users, movies), (U[users] * M[movies]).sum(1))
        bias = EmbeddingDotBias(4, 6, n_factors=3, y_range=(1.0, 5.0)).eval()
        bias.user_bias.weight.normal_()
        bias.movie_bias.weight.normal_()
        U, M = bias.user_factors.weight, bias.movie_factors.weight
        raw = (
            (U[users] * M[movies]).sum(1)
            + bias.user_bias.weight[users, 0]
            + bias.movie_bias.weight[movies, 0]
        )
        torch.testing.assert_close(bias(users, movies), torch.sigmoid(raw) * 4.0 + 1.0)


@pytest.mark.parametrize("cls", [EmbeddingDot, EmbeddingDotBias, EmbeddingNet])
def test_models_shapes_and_range(cls):
    set_seed(0)
    model = cls(5, 7, n_factors=4)
    users, movies = torch.tensor([0, 4, 2]), torch.tensor([6, 0, 3])
    out = model(users, movies)
    assert out.shape == (3,)
    if cls is not EmbeddingDot:
        with torch.no_grad():
            for p in model.parameters():
                p.normal_(0, 5)  # push the raw scores far out: the sigmoid keeps them in range
        out = model(users, movies)
        assert ((out >= 0) & (out <= 5.5)).all()


def test_dot_bias_without_y_range_returns_logits():
    model = EmbeddingDotBias(3, 3, n_factors=2, y_range=None)
    with torch.no_grad():
        model.movie_bias.weight.fill_(-10.0)
    assert (model(torch.tensor([0, 1]), torch.tensor([0, 2])) < 0).all()


def test_l2_loss_adds_penalty_in_training_only():
    model = EmbeddingDotBias(3, 4, n_factors=2)
    with torch.no_grad():
        model.user_factors.weight.fill_(1.0)
    users, movies, y = torch.tensor([0, 1]), torch.tensor([2, 3]), torch.tensor([3.0, 4.0])
    loss = l2_loss(model, 0.5)
    model.train()
    out = model(users, movies)
    # user vectors have |u|^2 = 2, movie vectors ~0 (biases are not penalised): penalty ~2
    assert loss(out, y).item() == pytest.approx(F.mse_loss(out, y).item() + 0.5 * 2, abs=1e-2)
    model.eval()
    out = model(users, movies)
    assert loss(out, y).item() == pytest.approx(F.mse_loss(out, y).item())
    assert rmse(out, y).item() == pytest.approx(F.mse_loss(out, y).sqrt().item())


def test_l2_loss_on_a_model_without_penalty_is_a_clear_error():
    class Plain(torch.nn.Module):
        def forward(self, users, movies):
            return users.float()

    model = Plain()
    loss = l2_loss(model, 0.1)
    with pytest.raises(
        AttributeError,
        match=r"l2_loss needs model.penalty, which Plain never "
        r"sets: set it in forward .* or use l2=0",
    ):
        loss(torch.ones(2), torch.ones(2))
    model.eval()  # validation adds no penalty, so needs none
    assert loss(torch.ones(2), 3 * torch.ones(2)).item() == 4.0


@pytest.mark.parametrize("n_users, n_movies, name", [(5, None, "user"), (None, 3, "movie")])
def test_model_too_small_for_the_ids_is_a_clear_error(n_users, n_movies, name):
    train, valid = split_ratings(low_rank_ratings(n_users=10, n_movies=8), seed=0)
    data, users, movies = collab_data(train, valid, bs=32, device="cpu")
    n = {"user": len(users), "movie": len(movies)}[name]
    model = EmbeddingDotBias(n_users or len(users), n_movies or len(movies), n_factors=2)
    with pytest.raises(
        IndexError,
        match=rf"{name} indices up to {n - 1} but EmbeddingDotBias has "
        rf"{n_users or n_movies} {name} rows: build it with "
        rf"n_{name}s=len\({name}s\)",
    ):
        train_collab(model, data, 1, 1e-2, progress=False)


@pytest.mark.parametrize("cls", [EmbeddingDotBias, EmbeddingNet])
def test_training_learns_low_rank_ratings(cls):
    r = low_rank_ratings()
    train, valid = split_ratings(r, valid_pct=0.2, seed=0)
    baseline = float(((valid["rating"] - train["rating"].mean()) ** 2).mean())
    data, users, movies = collab_data(train, valid, bs=128, device="cpu")
    set_seed(0)
    model = cls(len(users), len(movies), n_factors=8)
    hist = train_collab(model, data, 15, lr=2e-2, l2=0.01, progress=False)
    assert list(hist.columns[:4]) == ["epoch", "train_loss", "valid_loss", "rmse"]
    assert hist["valid_loss"].iloc[-1] < 0.75 * baseline, (hist["valid_loss"].iloc[-1], baseline)


# --------------------------------------------------------------------------- using a model


@pytest.fixture(scope="module")
def trained():
    r = low_rank_ratings()
    train, valid = split_ratings(r, seed=0)
    data, users, movies = collab_data(train, valid, bs=128, device="cpu")
    set_seed(0)
    model = EmbeddingDotBias(len(users), len(movies), n_factors=8)
    train_collab(model, data, 10, lr=2e-2, l2=0.01, progress=False)
    return r, model, users, movies


def test_recommend_excludes_rated_and_sorts(trained):
    r, model, users, movies = trained
    uid = int(r["userId"].iloc[0])
    seen = rated_by(r, uid)
    top = recommend(model, uid, users, movies, exclude=seen, n=5)
    assert list(top.columns) == ["movieId", "prediction"] and len(top) == 5
    assert not set(top["movieId"]) & seen
    assert top["prediction"].is_monotonic_decreasing
    u = torch.from_numpy(users.encode([uid] * 5))
    m = torch.from_numpy(movies.encode(top["movieId"]))
    np.testing.assert_allclose(predict(model, u, m).numpy(), top["prediction"], rtol=1e-6)
    some = top["movieId"].tolist()[:2]
    assert set(recommend(model, uid, users, movies, candidates=some)["movieId"]) == set(some)


def test_recommend_unknown_user_is_a_clear_error(trained):
    _, model, users, movies = trained
    with pytest.raises(
        UnknownIdError, match=rf"Unknown user id 99999: the model knows {len(users)} users"
    ):
        recommend(model, 99999, users, movies)
    with pytest.raises(KeyError):  # also catchable as the built-in KeyError
        recommend(model, -1, users, movies)


def test_popularity_fallback_damps_small_counts():
    r = pd.DataFrame(
        {
            "userId": list(range(60)) + [0, 1],
            "movieId": [1] * 30 + [2] * 30 + [3, 3],
            "rating": [4.0] * 30 + [3.0] * 30 + [5.0, 5.0],
        }
    )
    top = popularity_fallback(r, n=3, min_ratings=1, prior=10)
    assert top["movieId"].tolist()[0] == 1  # 30 x 4.0 beats 2 x 5.0 once damped
    assert popularity_fallback(r, min_ratings=10)["movieId"].tolist() == [1, 2]


def test_cosine_neighbours():
    v = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [-1.0, 0.0]])
    idx, sims = cosine_neighbours(v, 0, k=2)
    assert idx.tolist() == [1, 2] and sims[0] == pytest.approx(0.9 / np.hypot(0.9, 0.1))


def test_genre_correlations():
    movies = pd.DataFrame(
        {
            "movieId": [1, 2, 3, 4],
            "genres": ["Comedy", "Comedy|Drama", "Drama", "(no genres listed)"],
        }
    )
    scores = pd.DataFrame({"PC1": [1.0, 1.0, -1.0, 0.0]}, index=[1, 2, 3, 4])
    c = genre_correlations(scores, movies, min_movies=1)
    assert set(c.index) == {"Comedy", "Drama"}
    assert c.loc["Comedy", "PC1"] > 0.8 and c.loc["Drama", "PC1"] < 0


def test_genre_correlations_refuses_scores_of_unknown_movies():
    movies = pd.DataFrame({"movieId": [1, 2], "genres": ["Comedy", "Drama"]})
    scores = pd.DataFrame({"PC1": [1.0, -1.0, 0.5]}, index=[1, 2, 99])
    with pytest.raises(
        ValueError,
        match=r"1 movieId\(s\) of scores are not in the movies table "
        r"\(e.g. \[99\]\): pass scores.loc\[scores.index.isin",
    ):
        genre_correlations(scores, movies, min_movies=1)


def test_embedding_explorer_updates():
    vectors = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    comps = pd.DataFrame({"PC1": [0.5, 0.4, -1.0], "PC2": [0.0, 1.0, 0.2]})
    w = make_embedding_explorer(vectors, comps, ["A", "B", "C"], k=1)
    movie_box, comp_box = w.children
    dropdown, html = movie_box.children
    assert "Nearest to A" in html.value and "<td>B</td>" in html.value
    dropdown.value = 2  # values are row indices, so duplicate titles stay apart
    assert "Nearest to C" in html.value
    comp_dropdown, ends = comp_box.children
    comp_dropdown.value = "PC2"
    assert "highest PC2" in ends.value and ends.value.index("B") < ends.value.index("A")
    with pytest.raises(ValueError, match="same movies"):
        make_embedding_explorer(vectors, comps, ["A", "B"])


def test_annotate_points_keeps_labels_apart():
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    fig, ax = plt.subplots(figsize=(4, 3))
    x, y = np.array([0.0, 0.01, 0.02, 1.0]), np.array([0.0, 0.0, 0.01, 1.0])
    ax.scatter(x, y)
    annotate_points(ax, x, y, ["first label", "second label", "third", "far"])
    renderer = fig.canvas.get_renderer()
    boxes = []
    for t in ax.texts:
        t.update_positions(renderer)
        boxes.append(Text.get_window_extent(t, renderer))
    assert len(boxes) == 4
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    plt.close(fig)


@pytest.mark.skipif(not os.environ.get("COURSE_DATA"), reason="needs the data mirror (COURSE_DATA)")
def test_crosstab_of_ml_latest_small():
    from course_utils import load_movielens

    ratings, _ = load_movielens()
    t = top_crosstab(ratings)
    assert t.shape == (15, 15) and int(t.notna().sum().sum()) == 211
    assert 414 in t.index and 356 in t.columns  # the most active user, the most-rated movie
