"""Build `excel/collab_filter.xlsx`: matrix factorisation with live spreadsheet formulas.

`python -m tools.workbooks collab_filter.xlsx` (or `make workbooks`) rebuilds it.
The sheets follow the 2018 lesson's spreadsheet:

* `dotprod`: the 15 x 15 ratings of `course_utils.collab.top_crosstab`, 5 latent factors
  per user (a column block) and per movie (a row block), each prediction the dot product
  `MMULT(user row, movie column)`, blank where the user did not rate the movie, and the
  RMSE over the rated cells. Block A starts from trained factors (a good fit); block B
  holds random factors for you to optimise with Solver.
* `bias`: the same with one bias per user and per movie added to each prediction.
* `movielens_emb`: the rated cells as a long list (userId, movieId, rating); each row looks
  its factors up in embedding tables with INDEX/MATCH and predicts with SUMPRODUCT.
* `movielens_1hot`: the same lookup done as one-hot vector times embedding matrix (MMULT),
  with a column showing that it gives exactly the same predictions.

Everything is seeded, so rebuilding gives the same numbers. Named ranges (Formulas >
Name Manager) point at each block: `dotprod_rmse`, `dotprod_user_factors`, ...
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter as col
from openpyxl.workbook.defined_name import DefinedName

from course_utils.collab import top_crosstab

__all__ = ["FactorModel", "build", "fit_factors", "random_factors", "workbook_models"]

N_FACTORS = 5
SEED = 0
DIGITS = 4  # factor values are rounded to this many decimals, so they read well

PARAM_FILL = PatternFill("solid", fgColor="FFF2CC")  # cells Solver may change
RATING_FILL = PatternFill("solid", fgColor="DDEBF7")
RESULT_FILL = PatternFill("solid", fgColor="E2EFDA")
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)


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

    def predict(self, ratings: np.ndarray) -> np.ndarray:
        """Predictions (n_users, n_movies), NaN where `ratings` is NaN (not rated)."""
        p = self.user_factors @ self.movie_factors.T + self.user_bias[:, None] + self.movie_bias
        return np.where(np.isnan(ratings), np.nan, p)

    def rmse(self, ratings: np.ndarray) -> float:
        """Root mean squared error over the rated cells."""
        err = self.predict(ratings) - ratings
        return float(np.sqrt(np.nanmean(err**2)))


def random_factors(n_users: int, n_movies: int, k: int = N_FACTORS, bias: bool = False,
                   seed: int = SEED) -> FactorModel:
    """Random starting factors, uniform in [0, 1) with two decimals (block B of the sheets)."""
    rng = np.random.default_rng(seed)
    uf = rng.random((n_users, k)).round(2)
    mf = rng.random((n_movies, k)).round(2)
    ub = rng.random(n_users).round(2) if bias else np.zeros(n_users)
    mb = rng.random(n_movies).round(2) if bias else np.zeros(n_movies)
    return FactorModel(uf, mf, ub, mb)


def fit_factors(ratings: np.ndarray, start: FactorModel, bias: bool = False, steps: int = 500,
                lr: float = 0.1) -> FactorModel:
    """Minimise the MSE over the rated cells from `start`, full batch, with Adam.

    This is what Excel's Solver does to the sheet (with a different optimiser): the
    result is block A. float64 on the CPU, so the result is the same on every run.
    """
    r = torch.tensor(ratings, dtype=torch.float64)
    mask = ~torch.isnan(r)
    target = r[mask]
    params = [torch.tensor(a, dtype=torch.float64, requires_grad=True)
              for a in (start.user_factors, start.movie_factors, start.user_bias, start.movie_bias)]
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


def _name(wb: Workbook, name: str, sheet: str, ref: str) -> None:
    wb.defined_names[name] = DefinedName(name, attr_text=f"'{sheet}'!{ref}")


def _write_ratings(ws, table: pd.DataFrame, top: int, c0: int) -> tuple[int, int]:
    """Ratings block: header row `top` (movieIds), userIds in column c0-1. Returns first cell."""
    ws.cell(top, c0 - 1, "userId \\ movieId").font = BOLD
    for j, m in enumerate(table.columns):
        ws.cell(top, c0 + j, int(m)).font = BOLD
    for i, (u, row) in enumerate(table.iterrows()):
        ws.cell(top + 1 + i, c0 - 1, int(u)).font = BOLD
        for j, v in enumerate(row):
            cell = ws.cell(top + 1 + i, c0 + j, None if np.isnan(v) else float(v))
            cell.fill, cell.number_format = RATING_FILL, "0.0"
    return top + 1, c0


def _factor_block(wb: Workbook, ws, table: pd.DataFrame, model: FactorModel, bias: bool,
                  top: int, left: int, ratings_at: tuple[int, int], prefix: str,
                  heading: str) -> dict[str, int]:
    """Factors, predictions, squared errors and RMSE; returns where they are.

    Layout (k = number of factors): movie factors in k rows above the predictions (plus a
    movie-bias row), user factors in k columns to their left (plus a user-bias column),
    then a userId column, then the predictions grid.
    """
    k = model.user_factors.shape[1]
    nu, nm = table.shape
    r_top, r_left = ratings_at
    pc = left + k + int(bias) + 1           # first prediction column
    mf_row = top + 2                         # first movie-factor row
    hdr = mf_row + k + int(bias)             # header row of the user block
    pr = hdr + 1                             # first prediction row
    ws.cell(top, left, heading).font = BOLD

    # the RMSE, top left of the block
    err_top = pr + nu + 2
    rmse_cell = _ref(mf_row + 1, left, True, True)
    ws.cell(mf_row, left, "RMSE (rated cells)").font = BOLD
    c = ws.cell(mf_row + 1, left, f"=SQRT(SUM({_rng(err_top, pc, err_top + nu - 1, pc + nm - 1)})"
                f"/COUNT({_rng(r_top, r_left, r_top + nu - 1, r_left + nm - 1)}))")
    c.fill, c.font, c.number_format = RESULT_FILL, BOLD, "0.0000"

    # movie factors (+ bias) above the predictions
    for f in range(k):
        ws.cell(mf_row + f, pc - 1, f"factor {f + 1}").font = BOLD
        for j in range(nm):
            cell = ws.cell(mf_row + f, pc + j, float(model.movie_factors[j, f]))
            cell.fill, cell.number_format = PARAM_FILL, "0.00"
    if bias:
        ws.cell(mf_row + k, pc - 1, "movie bias").font = BOLD
        for j in range(nm):
            cell = ws.cell(mf_row + k, pc + j, float(model.movie_bias[j]))
            cell.fill, cell.number_format = PARAM_FILL, "0.00"

    # header of the user block
    for f in range(k):
        ws.cell(hdr, left + f, f"factor {f + 1}").font = BOLD
    if bias:
        ws.cell(hdr, left + k, "user bias").font = BOLD
    ws.cell(hdr, pc - 1, "userId").font = BOLD
    for j, m in enumerate(table.columns):
        ws.cell(hdr, pc + j, int(m)).font = BOLD

    # user factors (+ bias), userId, predictions
    for i, u in enumerate(table.index):
        r = pr + i
        for f in range(k):
            cell = ws.cell(r, left + f, float(model.user_factors[i, f]))
            cell.fill, cell.number_format = PARAM_FILL, "0.00"
        if bias:
            cell = ws.cell(r, left + k, float(model.user_bias[i]))
            cell.fill, cell.number_format = PARAM_FILL, "0.00"
        ws.cell(r, pc - 1, int(u)).font = BOLD
        for j in range(nm):
            rating = _ref(r_top + i, r_left + j)
            dot = (f"MMULT({_ref(r, left, abs_col=True)}:{_ref(r, left + k - 1, abs_col=True)},"
                   f"{_ref(mf_row, pc + j, abs_row=True)}:{_ref(mf_row + k - 1, pc + j, abs_row=True)})")
            if bias:
                dot += (f"+{_ref(r, left + k, abs_col=True)}"
                        f"+{_ref(mf_row + k, pc + j, abs_row=True)}")
            ws.cell(r, pc + j, f'=IF({rating}="","",{dot})').number_format = "0.00"

    # squared errors, blank where unrated
    ws.cell(err_top - 1, pc - 1, "squared error (rating - prediction)^2").font = BOLD
    for i in range(nu):
        for j in range(nm):
            rating, pred = _ref(r_top + i, r_left + j), _ref(pr + i, pc + j)
            ws.cell(err_top + i, pc + j, f'=IF({rating}="","",({rating}-{pred})^2)'
                    ).number_format = "0.00"

    sheet = ws.title
    _name(wb, f"{prefix}_rmse", sheet, rmse_cell)
    _name(wb, f"{prefix}_predictions", sheet, _rng(pr, pc, pr + nu - 1, pc + nm - 1))
    _name(wb, f"{prefix}_user_factors", sheet, _rng(pr, left, pr + nu - 1, left + k - 1 + int(bias)))
    _name(wb, f"{prefix}_movie_factors", sheet,
          _rng(mf_row, pc, mf_row + k - 1 + int(bias), pc + nm - 1))
    return {"left": left, "mf_row": mf_row, "pc": pc, "pr": pr, "rmse_row": mf_row + 1}


SOLVER_NOTE = [
    "Try it yourself: Solver finds the factors that minimise the RMSE.",
    "Excel: Data > Solver (enable the Solver add-in first). Set objective: the RMSE cell of "
    "block B ({rmse}), To: Min, By changing variable cells: the yellow cells of block B "
    "({user} and {movie}), uncheck 'Make unconstrained variables non-negative', "
    "solving method: GRG Nonlinear. Solve.",
    "LibreOffice: Tools > Solver, same target and cells, Options: a non-linear engine "
    "(e.g. 'LibreOffice Swarm Non-Linear Solver').",
    "Block A shows where that ends up: the same starting values after training in Python "
    "(tools.workbooks.collab_filter.fit_factors).",
]


def _model_sheet(wb: Workbook, table: pd.DataFrame, models: dict[str, FactorModel],
                 sheet: str, bias: bool) -> dict[str, int]:
    """A `dotprod` or `bias` sheet; returns the layout of block A."""
    ws = wb.create_sheet(sheet)
    what = "dot product + user bias + movie bias" if bias else "dot product"
    ws.cell(1, 1, f"{sheet}: each prediction is the {what} of a user's and a movie's "
            f"{N_FACTORS} latent factors").font = TITLE
    ws.cell(2, 1, "Blue: ratings (the 15 most active users x the 15 most-rated movies of "
          "MovieLens ml-latest-small). Yellow: parameters. Green: the RMSE to minimise.")
    k = N_FACTORS
    c0 = 1 + k + int(bias) + 1  # ratings line up with the predictions of block A
    ratings_at = _write_ratings(ws, table, top=4, c0=c0)
    top = 4 + len(table) + 2
    block_a = _factor_block(wb, ws, table, models[f"{sheet}_trained"], bias, top, 1,
                            ratings_at, f"{sheet}_trained", "A. Trained factors")
    left_b = c0 + table.shape[1] + 2
    b = _factor_block(wb, ws, table, models[f"{sheet}_random"], bias, top, left_b, ratings_at,
                      f"{sheet}_random", "B. Random factors: run Solver on these")
    # the Solver note sits to the right of the ratings
    nb_k = k + int(bias)
    pc_b, pr_b = b["pc"], b["pr"]
    note = [
        line.format(
            rmse=f"{col(left_b)}{b['rmse_row']}",
            user=f"{col(left_b)}{pr_b}:{col(left_b + nb_k - 1)}{pr_b + len(table) - 1}",
            movie=f"{col(pc_b)}{b['mf_row']}:{col(pc_b + table.shape[1] - 1)}"
                  f"{b['mf_row'] + nb_k - 1}",
        )
        for line in SOLVER_NOTE
    ]
    for i, line in enumerate(note):
        ws.cell(4 + i, left_b, line).font = BOLD if i == 0 else Font()
    for c in range(1, pc_b + table.shape[1] + 1):
        ws.column_dimensions[col(c)].width = 8
    ws.column_dimensions["A"].width = 10
    ws.column_dimensions[col(c0 - 1)].width = 15  # the userId column
    ws.freeze_panes = "A4"
    return block_a


def _long_ratings(table: pd.DataFrame) -> pd.DataFrame:
    """The rated cells of `table` as rows userId, movieId, rating (sorted by user, movie)."""
    long = table.stack().dropna().rename("rating").reset_index()
    return long.sort_values(["userId", "movieId"]).reset_index(drop=True)


def _emb_sheet(wb: Workbook, table: pd.DataFrame, long: pd.DataFrame,
               dot: dict[str, int]) -> dict[str, int]:
    """Embedding lookup by id: INDEX/MATCH into user and movie embedding tables."""
    ws = wb.create_sheet("movielens_emb")
    k, nu, nm = N_FACTORS, *table.shape
    ws.cell(1, 1, "movielens_emb: look up each rating's user and movie embeddings by id, "
            "then predict with SUMPRODUCT").font = TITLE
    ws.cell(2, 1, "The embedding tables (right) link to block A of sheet dotprod: the same "
          "model, stored the way PyTorch's nn.Embedding stores it, one row per id.")
    top = 5  # header row of the long list
    heads = (["userId", "movieId", "rating"] + [f"user f{f + 1}" for f in range(k)]
             + [f"movie f{f + 1}" for f in range(k)] + ["prediction", "squared error"])
    for j, h in enumerate(heads):
        ws.cell(top, 1 + j, h).font = BOLD
    # embedding tables, to the right of the list
    tc = len(heads) + 2
    ut, mt = top + 1, top + 1 + nu + 2  # first data rows of the two tables
    ws.cell(ut - 1, tc, "userId").font = BOLD
    ws.cell(mt - 1, tc, "movieId").font = BOLD
    for f in range(k):
        ws.cell(ut - 1, tc + 1 + f, f"factor {f + 1}").font = BOLD
        ws.cell(mt - 1, tc + 1 + f, f"factor {f + 1}").font = BOLD
    ws.cell(ut - 2, tc, "user embeddings").font = BOLD
    ws.cell(mt - 2, tc, "movie embeddings").font = BOLD
    d_mf_row, d_pc, d_pr = dot["mf_row"], dot["pc"], dot["pr"]  # block A of dotprod
    for i, u in enumerate(table.index):
        ws.cell(ut + i, tc, int(u))
        for f in range(k):
            ws.cell(ut + i, tc + 1 + f, f"=dotprod!{_ref(d_pr + i, 1 + f)}").number_format = "0.00"
    for j, m in enumerate(table.columns):
        ws.cell(mt + j, tc, int(m))
        for f in range(k):
            ws.cell(mt + j, tc + 1 + f, f"=dotprod!{_ref(d_mf_row + f, d_pc + j)}"
                    ).number_format = "0.00"
    u_ids, m_ids = _rng(ut, tc, ut + nu - 1, tc), _rng(mt, tc, mt + nm - 1, tc)
    u_emb, m_emb = _rng(ut, tc + 1, ut + nu - 1, tc + k), _rng(mt, tc + 1, mt + nm - 1, tc + k)
    _name(wb, "user_embeddings", ws.title, u_emb)
    _name(wb, "movie_embeddings", ws.title, m_emb)
    for i, row in enumerate(long.itertuples(index=False)):
        r = top + 1 + i
        ws.cell(r, 1, int(row.userId))
        ws.cell(r, 2, int(row.movieId))
        c = ws.cell(r, 3, float(row.rating))
        c.fill, c.number_format = RATING_FILL, "0.0"
        for f in range(k):
            ws.cell(r, 4 + f, f"=INDEX({u_emb},MATCH($A{r},{u_ids},0),{f + 1})"
                    ).number_format = "0.00"
            ws.cell(r, 4 + k + f, f"=INDEX({m_emb},MATCH($B{r},{m_ids},0),{f + 1})"
                    ).number_format = "0.00"
        uf = f"{_ref(r, 4)}:{_ref(r, 3 + k)}"
        mf = f"{_ref(r, 4 + k)}:{_ref(r, 3 + 2 * k)}"
        ws.cell(r, 4 + 2 * k, f"=SUMPRODUCT({uf},{mf})").number_format = "0.00"
        ws.cell(r, 5 + 2 * k, f"=(C{r}-{_ref(r, 4 + 2 * k)})^2").number_format = "0.00"
    last = top + len(long)
    ws.cell(3, 1, "RMSE").font = BOLD
    err = _rng(top + 1, 5 + 2 * k, last, 5 + 2 * k)
    c = ws.cell(3, 2, f"=SQRT(AVERAGE({err}))")
    c.fill, c.font, c.number_format = RESULT_FILL, BOLD, "0.0000"
    ws.cell(3, 4, "same as dotprod block A:").font = BOLD
    ws.cell(3, 7, "=dotprod_trained_rmse").number_format = "0.0000"
    _name(wb, "emb_rmse", ws.title, "$B$3")
    _name(wb, "emb_predictions", ws.title, _rng(top + 1, 4 + 2 * k, last, 4 + 2 * k))
    for c in range(1, tc + k + 1):
        ws.column_dimensions[col(c)].width = 9
    for c in (4 + 2 * k, 5 + 2 * k):  # prediction, squared error
        ws.column_dimensions[col(c)].width = 13
    ws.freeze_panes = ws.cell(top + 1, 4)
    return {"tc": tc, "ut": ut, "mt": mt, "first": top + 1, "pred_col": 4 + 2 * k}


def _onehot_sheet(wb: Workbook, table: pd.DataFrame, long: pd.DataFrame,
                  emb: dict[str, int]) -> None:
    """The same lookup as one-hot vector x embedding matrix (MMULT)."""
    ws = wb.create_sheet("movielens_1hot")
    k, nu, nm = N_FACTORS, *table.shape
    ws.cell(1, 1, "movielens_1hot: an embedding lookup is a one-hot vector times the "
            "embedding matrix").font = TITLE
    ws.cell(2, 1, "Each user (movie) is a row of 0s with a single 1 at its position; MMULT of "
          "that row with the embedding matrix picks out its factors. Same numbers as "
          "movielens_emb; PyTorch's nn.Embedding skips the multiplications by zero.")
    top = 6  # header row (ids) of the list
    uc = 4               # first user one-hot column
    mc = uc + nu         # first movie one-hot column
    fc = mc + nm         # first factor column
    pcol = fc + 2 * k    # prediction column
    ws.cell(top - 1, uc, "user one-hot").font = BOLD
    ws.cell(top - 1, mc, "movie one-hot").font = BOLD
    ws.cell(top - 1, fc, "user factors = one-hot x user embeddings").font = BOLD
    ws.cell(top - 1, fc + k, "movie factors = one-hot x movie embeddings").font = BOLD
    for j, h in enumerate(["userId", "movieId", "rating"]):
        ws.cell(top, 1 + j, h).font = BOLD
    for i, u in enumerate(table.index):
        ws.cell(top, uc + i, int(u)).font = BOLD
    for j, m in enumerate(table.columns):
        ws.cell(top, mc + j, int(m)).font = BOLD
    for f in range(k):
        ws.cell(top, fc + f, f"user f{f + 1}").font = BOLD
        ws.cell(top, fc + k + f, f"movie f{f + 1}").font = BOLD
    ws.cell(top, pcol, "prediction").font = BOLD
    ws.cell(top, pcol + 1, "movielens_emb").font = BOLD
    ws.cell(top, pcol + 2, "difference").font = BOLD
    # embedding matrices, copied (as links) below the list for MMULT
    et = top + len(long) + 4
    ws.cell(et - 1, 1, "user embeddings (links to movielens_emb)").font = BOLD
    ws.cell(et + nu + 1, 1, "movie embeddings (links to movielens_emb)").font = BOLD
    emb_tc, e_ut, e_mt = emb["tc"], emb["ut"], emb["mt"]  # tables on movielens_emb
    for i in range(nu):
        ws.cell(et + i, 1, f"=movielens_emb!{_ref(e_ut + i, emb_tc)}")
        for f in range(k):
            ws.cell(et + i, 2 + f, f"=movielens_emb!{_ref(e_ut + i, emb_tc + 1 + f)}"
                    ).number_format = "0.00"
    mt = et + nu + 2
    for j in range(nm):
        ws.cell(mt + j, 1, f"=movielens_emb!{_ref(e_mt + j, emb_tc)}")
        for f in range(k):
            ws.cell(mt + j, 2 + f, f"=movielens_emb!{_ref(e_mt + j, emb_tc + 1 + f)}"
                    ).number_format = "0.00"
    for i, row in enumerate(long.itertuples(index=False)):
        r = top + 1 + i
        ws.cell(r, 1, int(row.userId))
        ws.cell(r, 2, int(row.movieId))
        c = ws.cell(r, 3, float(row.rating))
        c.fill, c.number_format = RATING_FILL, "0.0"
        for j in range(nu):
            ws.cell(r, uc + j, f"=IF($A{r}={_ref(top, uc + j, abs_row=True)},1,0)")
        for j in range(nm):
            ws.cell(r, mc + j, f"=IF($B{r}={_ref(top, mc + j, abs_row=True)},1,0)")
        u_hot = f"{_ref(r, uc, abs_col=True)}:{_ref(r, uc + nu - 1, abs_col=True)}"
        m_hot = f"{_ref(r, mc, abs_col=True)}:{_ref(r, mc + nm - 1, abs_col=True)}"
        for f in range(k):
            ws.cell(r, fc + f, f"=MMULT({u_hot},{_rng(et, 2 + f, et + nu - 1, 2 + f)})"
                    ).number_format = "0.00"
            ws.cell(r, fc + k + f, f"=MMULT({m_hot},{_rng(mt, 2 + f, mt + nm - 1, 2 + f)})"
                    ).number_format = "0.00"
        uf = f"{_ref(r, fc)}:{_ref(r, fc + k - 1)}"
        mf = f"{_ref(r, fc + k)}:{_ref(r, fc + 2 * k - 1)}"
        ws.cell(r, pcol, f"=SUMPRODUCT({uf},{mf})").number_format = "0.00"
        ws.cell(r, pcol + 1, f"=movielens_emb!{_ref(emb['first'] + i, emb['pred_col'])}").number_format = "0.00"
        ws.cell(r, pcol + 2, f"={_ref(r, pcol)}-{_ref(r, pcol + 1)}").number_format = "0.000000"
    last = top + len(long)
    ws.cell(3, 1, "largest |difference| from movielens_emb:").font = BOLD
    c = ws.cell(3, 6, f"=MAX(ABS(MIN({_rng(top + 1, pcol + 2, last, pcol + 2)})),"
                f"MAX({_rng(top + 1, pcol + 2, last, pcol + 2)}))")
    c.fill, c.font = RESULT_FILL, BOLD
    _name(wb, "onehot_predictions", ws.title, _rng(top + 1, pcol, last, pcol))
    _name(wb, "onehot_max_difference", ws.title, "$F$3")
    for c in range(1, pcol + 3):
        ws.column_dimensions[col(c)].width = 7
    for c in range(pcol, pcol + 3):  # prediction, movielens_emb, difference
        ws.column_dimensions[col(c)].width = 13
    ws.freeze_panes = ws.cell(top + 1, 4)


def build(path: Path, ratings: pd.DataFrame | None = None) -> Path:
    """Write the workbook to `path` and return it.

    `ratings` defaults to MovieLens ml-latest-small (`course_utils.load_movielens`); the
    tests pass a small table of their own.
    """
    if ratings is None:
        from course_utils.data import load_movielens

        ratings, _ = load_movielens()
    table = top_crosstab(ratings)
    models = workbook_models(table)
    long = _long_ratings(table)
    wb = Workbook()
    wb.remove(wb.active)
    dot = _model_sheet(wb, table, models, "dotprod", bias=False)
    _model_sheet(wb, table, models, "bias", bias=True)
    emb = _emb_sheet(wb, table, long, dot)
    _onehot_sheet(wb, table, long, emb)
    wb.calculation.fullCalcOnLoad = True  # Excel computes every formula on opening
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
