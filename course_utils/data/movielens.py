"""The MovieLens ratings of the collaborative-filtering lesson: `ml-latest-small`, `ml-100k`.

Both loaders return `(ratings, movies)` with the same column names (userId, movieId, rating,
timestamp; movieId, title, genres), so code written for one reads the other.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from course_utils.data.errors import DataError, check_columns
from course_utils.data.fetch import find_dataset
from course_utils.data.registry import DATASETS

__all__ = ["ML100K_GENRES", "load_ml100k", "load_ml100k_split", "load_movielens", "movie_titles"]


def load_movielens(path: str | os.PathLike | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """MovieLens `ml-latest-small`: `(ratings, movies)`.

    - ratings: userId (int32), movieId (int32), rating (float32, 0.5-5 in half stars),
      timestamp (datetime64, UTC).
    - movies: movieId (int32), title (str), genres (str, `|`-separated).
    """
    folder = find_dataset("ml-latest-small", path)
    ratings = pd.read_csv(
        folder / "ratings.csv", dtype={"userId": "int32", "movieId": "int32", "rating": "float32"}
    )
    check_columns(ratings, ["userId", "movieId", "rating", "timestamp"], folder / "ratings.csv")
    ratings["timestamp"] = pd.to_datetime(ratings["timestamp"], unit="s", utc=True)
    movies = pd.read_csv(folder / "movies.csv", dtype={"movieId": "int32"})
    check_columns(movies, ["movieId", "title", "genres"], folder / "movies.csv")
    return ratings, movies


ML100K_GENRES = [
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
]


def _read_udata(file: Path) -> pd.DataFrame:
    df = pd.read_csv(
        file,
        sep="\t",
        header=None,
        names=["userId", "movieId", "rating", "timestamp"],
        dtype={"userId": "int32", "movieId": "int32", "rating": "float32", "timestamp": "int64"},
    )
    if df.isna().any().any():
        raise DataError(
            f"{file} has missing values: expected 4 tab-separated columns "
            "user item rating timestamp on every line."
        )
    df["timestamp"] = pd.to_datetime(df["timestamp"], unit="s", utc=True)
    return df


def load_ml100k(path: str | os.PathLike | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """MovieLens 100K: `(ratings, movies)` with the same column names as `load_movielens`.

    movies has movieId, title, release_date, url and one 0/1 column per genre, plus a
    `genres` column joined with `|` as in ml-latest-small. u.item is latin-1 encoded.
    """
    folder = find_dataset("ml-100k", path)
    ratings = _read_udata(folder / "u.data")
    cols = ["movieId", "title", "release_date", "video_release_date", "url", *ML100K_GENRES]
    movies = pd.read_csv(
        folder / "u.item",
        sep="|",
        header=None,
        names=cols,
        encoding="latin-1",
        dtype={"movieId": "int32"},
    )
    movies = movies.drop(columns="video_release_date")
    movies["release_date"] = pd.to_datetime(movies["release_date"], format="%d-%b-%Y")
    flags = movies[ML100K_GENRES].astype(bool)
    movies["genres"] = flags.apply(lambda r: "|".join(g for g, on in r.items() if on), axis=1)
    return ratings, movies


def load_ml100k_split(
    split: str = "u1", path: str | os.PathLike | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One of ML-100K's standard splits (`u1`..`u5`, `ua`, `ub`): `(train, test)` ratings."""
    folder = find_dataset("ml-100k", path)
    if f"{split}.base" not in DATASETS["ml-100k"].files:
        raise DataError(f"Unknown ML-100K split {split!r}: use u1..u5, ua or ub.")
    return _read_udata(folder / f"{split}.base"), _read_udata(folder / f"{split}.test")


def movie_titles(movies: pd.DataFrame) -> dict[int, str]:
    """`{movieId: title}` for a movies table from `load_movielens` or `load_ml100k`."""
    check_columns(movies, ["movieId", "title"], "movies table")
    return dict(zip(movies["movieId"].tolist(), movies["title"].tolist(), strict=True))
