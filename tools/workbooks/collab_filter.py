"""Build `excel/collab_filter.xlsx`: matrix factorisation with live spreadsheet formulas.

`python -m tools.workbooks collab_filter.xlsx` (or `make workbooks`) rebuilds it.
The sheets follow the 2018 lesson's spreadsheet:

* `dotprod`: the 15 x 15 ratings of `course_utils.collab.top_crosstab`, 5 latent factors
  per user (a column block) and per movie (a row block), each prediction the dot product
  `MMULT(user row, movie column)`, and the RMSE over the rated cells. The first screen is
  the exercise: block B starts from random factors for you to optimise with Solver; block A
  below holds trained factors (the answer). Predictions for unrated movies are greyed: they
  are the model's recommendations.
* `bias`: the same with one bias per user and per movie added to each prediction.
* `movielens_emb`: the rated cells as a long list (userId, movieId, rating); each row looks
  its factors up in embedding tables with INDEX/MATCH and predicts with SUMPRODUCT.
* `movielens_1hot`: the same lookup done as one-hot vector times embedding matrix (MMULT),
  with a column showing that it gives exactly the same predictions.
* `about`: where the workbook comes from, how it is checked, its defined names.

Everything is seeded, so rebuilding gives the same numbers. Defined names (Formulas >
Name Manager) point at each block: `ratings`, `dotprod_random_rmse`, ...
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter as col
from openpyxl.worksheet.worksheet import Worksheet

from course_utils.collab import top_crosstab
from tools.workbooks.common import (
    BOLD,
    FILLS,
    GREY_TEXT,
    TITLE,
    about_sheet,
    legend,
    print_setup,
    save,
    set_name,
    text_block,
)

__all__ = [
    "FactorModel",
    "SOLVER_BOUND",
    "SOLVER_TIME_MS",
    "build",
    "fit_factors",
    "random_factors",
    "solver_ranges",
    "workbook",
    "workbook_models",
]

N_FACTORS = 5
SEED = 0
DIGITS = 4  # factor values are rounded to this many decimals, so they read well
SOLVER_BOUND = 2  # LibreOffice's Swarm solver needs bounds: every factor in [0, 2]
PRINTED_ROWS = 40  # on paper the long lists stop after this many ratings (the file has all)
SOLVER_TIME_MS = 240_000  # its time limit (the setting counts milliseconds)

LEGEND = [
    ("rating", "rating (data)"),
    ("input", "factor: Solver changes it"),
    ("result", "RMSE: make it small"),
    ("unrated", "prediction, not rated"),
]
HEADER_ROTATED = Alignment(text_rotation=90, wrap_text=True, horizontal="center", vertical="bottom")
SMALL = Font(size=9)


# --------------------------------------------------------------------------- the numbers


@dataclass
class FactorModel:
    """A factorisation of a ratings table; arrays are float64.

    user_factors (n_users, k), movie_factors (n_movies, k), user_bias (n_users,),
    movie_bias (n_movies,) (zeros for the plain dot-product model).
    """

    user_factors: np.ndarray
    movie_factors: np.ndarray
    user_bias: np.ndarray
    movie_bias: np.ndarray

    def predict_all(self) -> np.ndarray:
        """Predictions for every (user, movie) pair, shape (n_users, n_movies)."""
        return self.user_factors @ self.movie_factors.T + self.user_bias[:, None] + self.movie_bias

    def predict(self, ratings: np.ndarray) -> np.ndarray:
        """Predictions (n_users, n_movies), NaN where `ratings` is NaN (not rated)."""
        return np.where(np.isnan(ratings), np.nan, self.predict_all())

    def rmse(self, ratings: np.ndarray) -> float:
        """Root mean squared error over the rated cells."""
        err = self.predict(ratings) - ratings
        return float(np.sqrt(np.nanmean(err**2)))


def random_factors(
    n_users: int, n_movies: int, k: int = N_FACTORS, bias: bool = False, seed: int = SEED
) -> FactorModel:
    """Random starting factors, uniform in [0, 1) with two decimals (block B of the sheets)."""
    rng = np.random.default_rng(seed)
    uf = rng.random((n_users, k)).round(2)
    mf = rng.random((n_movies, k)).round(2)
    ub = rng.random(n_users).round(2) if bias else np.zeros(n_users)
    mb = rng.random(n_movies).round(2) if bias else np.zeros(n_movies)
    return FactorModel(uf, mf, ub, mb)


def fit_factors(
    ratings: np.ndarray, start: FactorModel, bias: bool = False, steps: int = 500, lr: float = 0.1
) -> FactorModel:
    """Minimise the MSE over the rated cells from `start`, full batch, with Adam.

    This is what Excel's Solver does to the sheet (with a different optimiser): the
    result is block A. float64 on the CPU, so the result is the same on every run.
    """
    r = torch.tensor(ratings, dtype=torch.float64)
    mask = ~torch.isnan(r)
    target = r[mask]
    params = [
        torch.tensor(a, dtype=torch.float64, requires_grad=True)
        for a in (start.user_factors, start.movie_factors, start.user_bias, start.movie_bias)
    ]
    uf, mf, ub, mb = params
    opt = torch.optim.Adam(params if bias else [uf, mf], lr=lr)
    for _ in range(steps):
        pred = uf @ mf.T + ub[:, None] + mb  # (n_users, n_movies)
        loss = ((pred[mask] - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return FactorModel(*(p.detach().numpy().round(DIGITS) for p in params))


def workbook_models(table: pd.DataFrame) -> dict[str, FactorModel]:
    """The four factor sets in the workbook: `dotprod`/`bias` x trained/random."""
    r = table.to_numpy(dtype="float64")
    nu, nm = r.shape
    out = {}
    for sheet, bias in (("dotprod", False), ("bias", True)):
        start = random_factors(nu, nm, bias=bias, seed=SEED + int(bias))
        out[f"{sheet}_random"] = start
        out[f"{sheet}_trained"] = fit_factors(r, start, bias=bias)
    return out


# --------------------------------------------------------------------------- writing helpers


def _ref(r: int, c: int, abs_row: bool = False, abs_col: bool = False) -> str:
    return f"{'$' if abs_col else ''}{col(c)}{'$' if abs_row else ''}{r}"


def _rng(r0: int, c0: int, r1: int, c1: int) -> str:
    return f"${col(c0)}${r0}:${col(c1)}${r1}"


@dataclass
class Grid:
    """Where a model sheet's pieces are: `n_params` parameters per user (factors + bias) in
    columns `2 .. 1 + n_params`, then the userId column `id_col`, then the movies in columns
    `first_movie_col .. last_col`."""

    k: int
    bias: bool
    n_users: int
    n_movies: int

    @property
    def n_params(self) -> int:
        return self.k + int(self.bias)

    @property
    def id_col(self) -> int:
        return 2 + self.n_params

    @property
    def first_movie_col(self) -> int:
        return self.id_col + 1

    @property
    def last_col(self) -> int:
        return self.first_movie_col + self.n_movies - 1


def _header_row(ws: Worksheet, g: Grid, row: int, table: pd.DataFrame, left: list[str]) -> None:
    """A header row: `left` labels from column B, "userId", then the movie ids."""
    for j, text in enumerate([*left, "userId", *map(int, table.columns)]):
        c = ws.cell(row, 2 + j if left else g.id_col + j, text)
        c.font, c.fill = BOLD, FILLS["header"]
        c.alignment = Alignment(horizontal="center", wrap_text=True)


def _ratings_block(ws: Worksheet, g: Grid, table: pd.DataFrame, top: int) -> tuple[int, int]:
    """The ratings (blue), header in row `top`; returns (first row, first column)."""
    ws.cell(top - 1, 1, "Ratings: the data the RMSE compares with (blank: not rated)").font = BOLD
    _header_row(ws, g, top, table, [])
    for i, (u, row) in enumerate(table.iterrows()):
        ws.cell(top + 1 + i, g.id_col, int(u)).font = BOLD
        for j, v in enumerate(row):
            cell = ws.cell(top + 1 + i, g.first_movie_col + j, None if np.isnan(v) else float(v))
            cell.fill, cell.number_format = FILLS["rating"], "0.0"
    return top + 1, g.first_movie_col


def _factor_block(
    wb: Workbook,
    ws: Worksheet,
    g: Grid,
    table: pd.DataFrame,
    model: FactorModel,
    top: int,
    ratings_at: tuple[int, int],
    prefix: str,
    heading: str,
    titles: Mapping[int, str] | None = None,
) -> dict[str, int]:
    """Factors, predictions and RMSE from row `top`; returns where they are.

    Layout (k = number of factors): a heading row; movie titles (if given); the movie
    factors in k rows above the predictions (plus a movie-bias row); the user factors in k
    columns to their left (plus a user-bias column), then the userId column, then the
    predictions grid. The RMSE sits top left.
    """
    k, nu, nm = g.k, g.n_users, g.n_movies
    r_top, r_left = ratings_at
    ws.cell(top, 1, heading).font = Font(bold=True, size=12)
    row = top + 1
    if titles is not None:  # rotated titles over the movie columns
        ws.cell(row, g.id_col, "movie").font = BOLD
        for j, m in enumerate(table.columns):
            c = ws.cell(row, g.first_movie_col + j, titles.get(int(m), f"movie {int(m)}"))
            c.alignment, c.font = HEADER_ROTATED, SMALL
        ws.row_dimensions[row].height = 110
        row += 1
    mf_row = row
    hdr = mf_row + g.n_params
    pr = hdr + 1

    # movie factors (+ bias) above the predictions
    for f in range(g.n_params):
        label = f"factor {f + 1}" if f < k else "movie bias"
        ws.cell(mf_row + f, g.id_col, label).font = BOLD
        for j in range(nm):
            v = model.movie_factors[j, f] if f < k else model.movie_bias[j]
            cell = ws.cell(mf_row + f, g.first_movie_col + j, float(v))
            cell.fill, cell.number_format = FILLS["input"], "0.00"
    _header_row(
        ws, g, hdr, table, [f"factor {f + 1}" for f in range(k)] + (["user bias"] if g.bias else [])
    )
    ws.row_dimensions[hdr].height = 30

    # user factors (+ bias), userId, predictions (greyed where not rated)
    ratings = table.to_numpy()
    for i, u in enumerate(table.index):
        r = pr + i
        for f in range(g.n_params):
            v = model.user_factors[i, f] if f < k else model.user_bias[i]
            cell = ws.cell(r, 2 + f, float(v))
            cell.fill, cell.number_format = FILLS["input"], "0.00"
        ws.cell(r, g.id_col, int(u)).font = BOLD
        for j in range(nm):
            dot = (
                f"MMULT({_ref(r, 2, abs_col=True)}:{_ref(r, 1 + k, abs_col=True)},"
                f"{_ref(mf_row, g.first_movie_col + j, abs_row=True)}:"
                f"{_ref(mf_row + k - 1, g.first_movie_col + j, abs_row=True)})"
            )
            if g.bias:
                dot += f"+{_ref(r, 2 + k, abs_col=True)}+{_ref(mf_row + k, g.first_movie_col + j, abs_row=True)}"
            cell = ws.cell(r, g.first_movie_col + j, f"={dot}")
            cell.number_format = "0.00"
            if np.isnan(ratings[i, j]):
                cell.fill, cell.font = FILLS["unrated"], GREY_TEXT

    # the RMSE over the rated cells, top left of the block
    rat = _rng(r_top, r_left, r_top + nu - 1, r_left + nm - 1)
    pred = _rng(pr, g.first_movie_col, pr + nu - 1, g.first_movie_col + nm - 1)
    ws.cell(mf_row, 1, "RMSE (rated cells)").font = BOLD
    c = ws.cell(mf_row + 1, 1, f'=SQRT(SUMPRODUCT(({rat}<>"")*({rat}-{pred})^2)/COUNT({rat}))')
    c.fill, c.font, c.number_format = FILLS["result"], Font(bold=True, size=12), "0.0000"

    _name = set_name
    _name(wb, f"{prefix}_rmse", ws, f"A{mf_row + 1}")
    _name(wb, f"{prefix}_predictions", ws, pred)
    _name(wb, f"{prefix}_user_factors", ws, _rng(pr, 2, pr + nu - 1, 1 + g.n_params))
    _name(
        wb,
        f"{prefix}_movie_factors",
        ws,
        _rng(mf_row, g.first_movie_col, mf_row + g.n_params - 1, g.first_movie_col + nm - 1),
    )
    return {"mf_row": mf_row, "pr": pr, "rmse_row": mf_row + 1, "end": pr + nu - 1}


def solver_ranges(g: Grid, block: dict[str, int]) -> dict[str, str]:
    """The Solver's cells for a factor block: objective, user and movie parameter ranges."""
    return {
        "rmse": f"$A${block['rmse_row']}",
        "users": _rng(block["pr"], 2, block["pr"] + g.n_users - 1, 1 + g.n_params),
        "movies": _rng(
            block["mf_row"], g.first_movie_col, block["mf_row"] + g.n_params - 1, g.last_col
        ),
    }


def _instructions(cells: dict[str, str]) -> list[tuple[str, str]]:
    """The Solver exercise, step by step, for Excel and for LibreOffice."""
    rmse, users, movies = cells["rmse"], cells["users"], cells["movies"]
    minutes = SOLVER_TIME_MS // 60_000
    return [
        (
            "Your turn: the yellow factors of block B are random. Let Solver change them until the "
            "predictions match the ratings.",
            "head",
        ),
        (
            f"Excel: Data > Solver (if it is missing: File > Options > Add-ins > Manage Excel "
            f"Add-ins > Go, tick Solver Add-in). Set Objective: {rmse}, To: Min.",
            "",
        ),
        (
            f"    By Changing Variable Cells: {users},{movies}. Untick 'Make Unconstrained Variables "
            "Non-Negative'. Solving Method: GRG Nonlinear. Solve, then Keep Solver Solution.",
            "",
        ),
        (
            f"LibreOffice: Tools > Solver. Target cell {rmse}, Optimize result to: Minimum. By "
            f"changing cells: {users};{movies}",
            "",
        ),
        (
            f"    Limiting conditions: {users} <= {SOLVER_BOUND} and {movies} <= {SOLVER_BOUND}. "
            "Options: Solver engine 'LibreOffice Swarm Non-Linear Solver'; tick 'Assume variables "
            "as non-negative';",
            "",
        ),
        (
            f"    'Solving time limit' {SOLVER_TIME_MS} (it counts milliseconds: {minutes} minutes). "
            f"Solve, then Keep Result. It starts from random values between 0 and {SOLVER_BOUND}, "
            "not from yours,",
            "",
        ),
        (
            f"    and brings the RMSE to about 1 in {minutes} minutes; a longer time limit gets "
            "closer to block A.",
            "",
        ),
        (
            "Then compare your RMSE with block A further down: the same model trained in Python. "
            "Grey cells are predictions for movies the user has not rated: recommendations.",
            "",
        ),
    ]


def _model_sheet(
    wb: Workbook,
    table: pd.DataFrame,
    titles: Mapping[int, str],
    models: dict[str, FactorModel],
    sheet: str,
    bias: bool,
) -> dict[str, int]:
    """A `dotprod` or `bias` sheet; returns the layout of block A."""
    ws = wb.create_sheet(sheet)
    g = Grid(N_FACTORS, bias, *table.shape)
    what = "dot product + user bias + movie bias" if bias else "dot product"
    ws.cell(
        1,
        1,
        f"{sheet}: each prediction is the {what} of a user's and a movie's "
        f"{N_FACTORS} latent factors",
    ).font = TITLE
    ws.cell(
        2,
        1,
        "The 15 users who rated the most movies x the 15 most-rated movies of "
        "MovieLens (ml-latest-small).",
    )
    legend(ws, 3, LEGEND, span=4)
    ws.column_dimensions["A"].width = 18
    for c in range(2, g.last_col + 1):
        ws.column_dimensions[col(c)].width = 7
    ws.column_dimensions[col(g.id_col)].width = 12

    # the exercise first; the ratings and the answer (block A) below it
    n_lines = len(_instructions({"rmse": "", "users": "", "movies": ""}))
    top_b = 5 + n_lines + 1
    b_rows = 2 + g.n_params + 1 + g.n_users  # heading, titles, factors, header, users
    ratings_top = top_b + b_rows + 2
    ratings_at = _ratings_block(ws, g, table, ratings_top)
    b = _factor_block(
        wb,
        ws,
        g,
        table,
        models[f"{sheet}_random"],
        top_b,
        ratings_at,
        f"{sheet}_random",
        "B. Your factors: random to start with",
        titles,
    )
    ws.cell(b["rmse_row"] + 2, 1, "block A's RMSE:").font = BOLD
    ws.cell(b["rmse_row"] + 3, 1, f"={sheet}_trained_rmse").number_format = "0.0000"
    # wrapped within the sheet's columns, so that the steps stay whole on screen and on paper
    text_block(ws, 5, _instructions(solver_ranges(g, b)), width_cols=g.last_col)
    top_a = ratings_top + 1 + g.n_users + 2
    block_a = _factor_block(
        wb,
        ws,
        g,
        table,
        models[f"{sheet}_trained"],
        top_a,
        ratings_at,
        f"{sheet}_trained",
        "A. Trained factors: the answer (the same "
        "model fitted in Python, from block B's starting values)",
    )
    if sheet == "dotprod":
        set_name(
            wb,
            "ratings",
            ws,
            _rng(ratings_at[0], g.first_movie_col, ratings_at[0] + g.n_users - 1, g.last_col),
        )
        set_name(
            wb,
            "user_ids",
            ws,
            _rng(ratings_at[0], g.id_col, ratings_at[0] + g.n_users - 1, g.id_col),
        )
        set_name(wb, "movie_ids", ws, _rng(ratings_top, g.first_movie_col, ratings_top, g.last_col))
        set_name(wb, "movie_titles", ws, _rng(top_b + 1, g.first_movie_col, top_b + 1, g.last_col))
    print_setup(ws, landscape=True)
    return block_a | {"first_movie_col": g.first_movie_col}


def _long_ratings(table: pd.DataFrame) -> pd.DataFrame:
    """The rated cells of `table` as rows userId, movieId, rating (sorted by user, movie)."""
    long = table.stack().dropna().rename("rating").reset_index()
    return long.sort_values(["userId", "movieId"]).reset_index(drop=True)


def _long_list(ws: Worksheet, long: pd.DataFrame, titles: Mapping[int, str], top: int) -> None:
    """The rated cells as rows from `top` + 1: userId, movieId, title, rating (blue)."""
    for j, h in enumerate(["userId", "movieId", "title", "rating"], start=1):
        c = ws.cell(top, j, h)
        c.font, c.fill = BOLD, FILLS["header"]
        c.alignment = Alignment(wrap_text=True, vertical="top")
    for i, row in enumerate(long.itertuples(index=False)):
        r = top + 1 + i
        ws.cell(r, 1, int(row.userId))
        ws.cell(r, 2, int(row.movieId))
        ws.cell(r, 3, titles.get(int(row.movieId), f"movie {int(row.movieId)}")).font = SMALL
        c = ws.cell(r, 4, float(row.rating))
        c.fill, c.number_format = FILLS["rating"], "0.0"
    ws.column_dimensions["A"].width = 10
    ws.column_dimensions["B"].width = 9
    ws.column_dimensions["C"].width = 44
    ws.column_dimensions["D"].width = 8


def _heads(ws: Worksheet, row: int, first: int, texts: list, height: float | None = None) -> None:
    """Bold, wrapped column headers from column `first` of `row` (`height`: of the row)."""
    for j, text in enumerate(texts):
        c = ws.cell(row, first + j, text)
        c.font, c.fill = BOLD, FILLS["header"]
        c.alignment = Alignment(wrap_text=True, vertical="top", horizontal="center")
    if height:
        ws.row_dimensions[row].height = height


def _lookup_and_predict(
    ws: Worksheet, r: int, fc: int, k: int, user: Callable[[int], str], movie: Callable[[int], str]
) -> None:
    """Row `r` of a long list: k user factors from column `fc` (formula `user(f)` each), k
    movie factors after them, then the prediction, their SUMPRODUCT."""
    for f in range(k):
        ws.cell(r, fc + f, f"={user(f)}").number_format = "0.00"
        ws.cell(r, fc + k + f, f"={movie(f)}").number_format = "0.00"
    factors = f"{_ref(r, fc)}:{_ref(r, fc + k - 1)},{_ref(r, fc + k)}:{_ref(r, fc + 2 * k - 1)}"
    ws.cell(r, fc + 2 * k, f"=SUMPRODUCT({factors})").number_format = "0.00"


def _emb_sheet(
    wb: Workbook,
    table: pd.DataFrame,
    titles: Mapping[int, str],
    long: pd.DataFrame,
    dot: dict[str, int],
) -> dict[str, int]:
    """Embedding lookup by id: INDEX/MATCH into user and movie embedding tables."""
    ws = wb.create_sheet("movielens_emb")
    k, nu, nm = N_FACTORS, *table.shape
    ws.cell(
        1,
        1,
        "movielens_emb: look up each rating's user and movie embeddings by id, "
        "then predict with SUMPRODUCT",
    ).font = TITLE
    top = 7  # header row of the long list
    _long_list(ws, long, titles, top)
    fc = 5  # first factor column
    heads = (
        [f"user f{f + 1}" for f in range(k)]
        + [f"movie f{f + 1}" for f in range(k)]
        + ["prediction", "squared error"]
    )
    _heads(ws, top, fc, heads, 32)
    pcol = fc + 2 * k
    # embedding tables, to the right of the list
    tc = pcol + 3
    ut, mt = top + 1, top + 1 + nu + 3  # first data rows of the two tables
    ws.cell(
        2,
        1,
        f"The embedding tables (columns {col(tc)}-{col(tc + k)}: users in rows "
        f"{ut}-{ut + nu - 1}, movies in rows {mt}-{mt + nm - 1}) link to block A of sheet "
        "dotprod: the same model, stored the way PyTorch's nn.Embedding stores it, one row "
        "per id.",
    )
    legend(ws, 3, [("rating", "rating (data)"), ("result", "RMSE"), ("header", "header")], span=2)
    for t0, what in ((ut, "user"), (mt, "movie")):
        ws.cell(t0 - 2, tc, f"{what} embeddings").font = BOLD
        _heads(ws, t0 - 1, tc, [f"{what}Id", *(f"factor {f + 1}" for f in range(k))])
    d_mf_row, d_movie_col, d_pr = dot["mf_row"], dot["first_movie_col"], dot["pr"]  # block A
    for i, u in enumerate(table.index):
        ws.cell(ut + i, tc, int(u))
        for f in range(k):
            ws.cell(ut + i, tc + 1 + f, f"=dotprod!{_ref(d_pr + i, 2 + f)}").number_format = "0.00"
    for j, m in enumerate(table.columns):
        ws.cell(mt + j, tc, int(m))
        for f in range(k):
            ws.cell(
                mt + j, tc + 1 + f, f"=dotprod!{_ref(d_mf_row + f, d_movie_col + j)}"
            ).number_format = "0.00"
    u_ids, m_ids = _rng(ut, tc, ut + nu - 1, tc), _rng(mt, tc, mt + nm - 1, tc)
    u_emb, m_emb = _rng(ut, tc + 1, ut + nu - 1, tc + k), _rng(mt, tc + 1, mt + nm - 1, tc + k)
    set_name(wb, "user_embeddings", ws, u_emb)
    set_name(wb, "movie_embeddings", ws, m_emb)
    for i in range(len(long)):
        r = top + 1 + i
        _lookup_and_predict(
            ws,
            r,
            fc,
            k,
            lambda f, r=r: f"INDEX({u_emb},MATCH($A{r},{u_ids},0),{f + 1})",
            lambda f, r=r: f"INDEX({m_emb},MATCH($B{r},{m_ids},0),{f + 1})",
        )
        ws.cell(r, pcol + 1, f"=(D{r}-{_ref(r, pcol)})^2").number_format = "0.00"
    last = top + len(long)
    ws.cell(5, 1, "RMSE").font = BOLD
    err = _rng(top + 1, pcol + 1, last, pcol + 1)
    c = ws.cell(5, 2, f"=SQRT(AVERAGE({err}))")
    c.fill, c.font, c.number_format = FILLS["result"], BOLD, "0.0000"
    ws.cell(5, 3, "the same as block A of dotprod:").font = BOLD
    ws.cell(5, 4, "=dotprod_trained_rmse").number_format = "0.0000"
    set_name(wb, "emb_rmse", ws, "B5")
    set_name(wb, "emb_predictions", ws, _rng(top + 1, pcol, last, pcol))
    for c in range(fc, tc + k + 1):
        ws.column_dimensions[col(c)].width = 8 if c < tc else 9.5
    ws.column_dimensions[col(tc)].width = 11
    for c in (pcol, pcol + 1):
        ws.column_dimensions[col(c)].width = 11
    ws.freeze_panes = ws.cell(top + 1, 1)
    print_setup(  # the header on every page; the embedding tables fit beside the first rows
        ws,
        landscape=True,
        last_row=top + PRINTED_ROWS,
        title_rows=f"{top}:{top}",
        note=f"rows after {top + PRINTED_ROWS}: in the workbook",
    )
    return {"tc": tc, "ut": ut, "mt": mt, "first": top + 1, "pred_col": pcol}


def _onehot_sheet(
    wb: Workbook,
    table: pd.DataFrame,
    titles: Mapping[int, str],
    long: pd.DataFrame,
    emb: dict[str, int],
) -> None:
    """The same lookup as one-hot vector x embedding matrix (MMULT)."""
    ws = wb.create_sheet("movielens_1hot")
    k, nu, nm = N_FACTORS, *table.shape
    ws.cell(
        1, 1, "movielens_1hot: an embedding lookup is a one-hot vector times the embedding matrix"
    ).font = TITLE
    top = 8  # header row (ids) of the list
    _long_list(ws, long, titles, top)
    user_hot = 5  # first user one-hot column
    movie_hot = user_hot + nu  # first movie one-hot column
    fc = movie_hot + nm  # first factor column
    pcol = fc + 2 * k  # prediction column
    et = top + len(long) + 4  # first row of the user embedding matrix
    mt = et + nu + 2  # first row of the movie embedding matrix
    ws.cell(
        2,
        1,
        "Each user (movie) is a row of 0s with a single 1 at its position; MMULT of "
        "that row with the embedding matrix picks out its factors. Same numbers as "
        "movielens_emb; PyTorch's nn.Embedding skips the multiplications by zero.",
    )
    ws.cell(
        3,
        1,
        f"The embedding matrices the MMULTs use are below the list: users in rows "
        f"{et}-{et + nu - 1}, movies in rows {mt}-{mt + nm - 1} (columns A-{col(1 + k)}).",
    )
    legend(ws, 4, [("rating", "rating (data)"), ("result", "result"), ("header", "header")], span=2)
    for c0, n, text in (
        (user_hot, nu, "user one-hot (one column per userId)"),
        (movie_hot, nm, "movie one-hot (one column per movieId)"),
        (fc, k, "user factors = one-hot x user embeddings"),
        (fc + k, k, "movie factors = one-hot x movie embeddings"),
    ):
        ws.cell(top - 1, c0, text).font = BOLD
        ws.cell(top - 1, c0).alignment = Alignment(horizontal="center", wrap_text=True)
        ws.merge_cells(start_row=top - 1, start_column=c0, end_row=top - 1, end_column=c0 + n - 1)
    ws.row_dimensions[top - 1].height = 30
    _heads(ws, top, user_hot, [*map(int, table.index), *map(int, table.columns)], 32)
    _heads(
        ws,
        top,
        fc,
        [
            *(f"user f{f + 1}" for f in range(k)),
            *(f"movie f{f + 1}" for f in range(k)),
            "prediction",
            "prediction on movielens_emb",
            "difference",
        ],
        48,
    )
    # embedding matrices, copied (as links) below the list for MMULT
    ws.cell(et - 1, 1, "user embeddings (links to movielens_emb)").font = BOLD
    ws.cell(mt - 1, 1, "movie embeddings (links to movielens_emb)").font = BOLD
    emb_tc, e_ut, e_mt = emb["tc"], emb["ut"], emb["mt"]  # tables on movielens_emb
    for first, e_first, n in ((et, e_ut, nu), (mt, e_mt, nm)):
        for i in range(n):
            ws.cell(first + i, 1, f"=movielens_emb!{_ref(e_first + i, emb_tc)}")
            for f in range(k):
                ws.cell(
                    first + i, 2 + f, f"=movielens_emb!{_ref(e_first + i, emb_tc + 1 + f)}"
                ).number_format = "0.00"
    for i in range(len(long)):
        r = top + 1 + i
        for j in range(nu):
            ws.cell(r, user_hot + j, f"=IF($A{r}={_ref(top, user_hot + j, abs_row=True)},1,0)")
        for j in range(nm):
            ws.cell(r, movie_hot + j, f"=IF($B{r}={_ref(top, movie_hot + j, abs_row=True)},1,0)")
        u_hot = f"{_ref(r, user_hot, abs_col=True)}:{_ref(r, user_hot + nu - 1, abs_col=True)}"
        m_hot = f"{_ref(r, movie_hot, abs_col=True)}:{_ref(r, movie_hot + nm - 1, abs_col=True)}"
        _lookup_and_predict(
            ws,
            r,
            fc,
            k,
            lambda f, u=u_hot: f"MMULT({u},{_rng(et, 2 + f, et + nu - 1, 2 + f)})",
            lambda f, m=m_hot: f"MMULT({m},{_rng(mt, 2 + f, mt + nm - 1, 2 + f)})",
        )
        ws.cell(
            r, pcol + 1, f"=movielens_emb!{_ref(emb['first'] + i, emb['pred_col'])}"
        ).number_format = "0.00"
        ws.cell(r, pcol + 2, f"={_ref(r, pcol)}-{_ref(r, pcol + 1)}").number_format = "0.000000"
    last = top + len(long)
    ws.cell(5, 1, "largest |difference| from movielens_emb:").font = BOLD
    diff = _rng(top + 1, pcol + 2, last, pcol + 2)
    c = ws.cell(5, 4, f"=MAX(ABS(MIN({diff})),MAX({diff}))")
    c.fill, c.font = FILLS["result"], BOLD
    set_name(wb, "onehot_predictions", ws, _rng(top + 1, pcol, last, pcol))
    set_name(wb, "onehot_max_difference", ws, c.coordinate)
    for c in range(user_hot, pcol + 3):
        ws.column_dimensions[col(c)].width = 6
    for c in range(fc, fc + 2 * k):
        ws.column_dimensions[col(c)].width = 8
    for c in range(pcol, pcol + 3):  # prediction, movielens_emb, difference
        ws.column_dimensions[col(c)].width = 12
    ws.freeze_panes = ws.cell(top + 1, 1)
    print_setup(
        ws,
        landscape=True,
        last_row=top + PRINTED_ROWS,
        title_rows=f"{top - 1}:{top}",
        note=f"rows after {top + PRINTED_ROWS} and the embedding matrices: in the workbook",
        pages_wide=2,  # 40-odd columns: on one page the numbers would be too small to read
    )


ABOUT = [
    "Built by tools/workbooks/collab_filter.py: python -m tools.workbooks collab_filter.xlsx "
    "(or: make workbooks), from MovieLens ml-latest-small (course_utils.data.load_movielens) and "
    "course_utils.collab.top_crosstab. LibreOffice computes the formulas once while building, so "
    "the file holds their values too.",
    "Block A of dotprod and bias: tools.workbooks.collab_filter.fit_factors (Adam, 500 full-batch "
    "steps, float64) from block B's random starting values, rounded to 4 decimals.",
    "tests/test_collab_workbook.py recalculates the workbook in LibreOffice and checks every "
    "prediction and RMSE against NumPy within 1e-6; tests/test_collab_solver.py runs "
    "LibreOffice's Swarm solver on block B, as the instructions say, and checks that the RMSE "
    "falls well below its start.",
    "Defined names (Formulas > Name Manager): ratings, user_ids, movie_ids, movie_titles (sheet "
    "dotprod); per block <sheet>_<trained|random>_rmse, _predictions, _user_factors, "
    "_movie_factors (sheet dotprod or bias; the bias row and column are part of the factor "
    "ranges); user_embeddings, movie_embeddings, emb_rmse, emb_predictions (movielens_emb); "
    "onehot_predictions, onehot_max_difference (movielens_1hot).",
]


def workbook(ratings: pd.DataFrame | None = None, movies: pd.DataFrame | None = None) -> Workbook:
    """The workbook, formulas only (`build` writes it).

    `ratings` (userId, movieId, rating) and `movies` (movieId, title) default to MovieLens
    ml-latest-small (`course_utils.data.load_movielens`); the tests pass small tables.
    """
    if ratings is None:
        from course_utils.data import load_movielens

        ratings, loaded = load_movielens()
        movies = loaded if movies is None else movies
    titles = (
        {}
        if movies is None
        else dict(zip(movies["movieId"].astype(int), movies["title"], strict=True))
    )
    table = top_crosstab(ratings)
    models = workbook_models(table)
    long = _long_ratings(table)
    wb = Workbook()
    wb.remove(wb.active)
    dot = _model_sheet(wb, table, titles, models, "dotprod", bias=False)
    _model_sheet(wb, table, titles, models, "bias", bias=True)
    emb = _emb_sheet(wb, table, titles, long, dot)
    _onehot_sheet(wb, table, titles, long, emb)
    about_sheet(wb, "About this workbook", ABOUT)
    return wb


def build(
    path: Path,
    ratings: pd.DataFrame | None = None,
    movies: pd.DataFrame | None = None,
    cached_values: bool = True,
) -> Path:
    """Write the workbook to `path` and return it (safely: see `common.save`). With
    `cached_values`, LibreOffice computes the formulas once and the file stores their values."""
    return save(workbook(ratings, movies), Path(path), cached_values=cached_values)
