"""excel/collab_filter.xlsx: the Python numbers, in a layout a student can follow.

The committed workbook stores the values LibreOffice computed while building it, so most
checks read it with openpyxl: every prediction and RMSE equals `FactorModel.predict_all` /
`.rmse` in NumPy within 1e-6. The tests marked `libreoffice` let LibreOffice (headless)
recompute a freshly built workbook (and the committed one) and compare again; without
LibreOffice they skip, with COURSE_REQUIRE_LIBREOFFICE=1 (CI) they fail instead.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from course_utils.collab import top_crosstab
from tools.workbooks import collab_filter as cw
from tools.workbooks import common

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "excel" / "collab_filter.xlsx"
SHEETS = ["dotprod", "bias", "movielens_emb", "movielens_1hot", "about"]
BLOCKS = ("dotprod_trained", "dotprod_random", "bias_trained", "bias_random")
TOL = 1e-6


def fixture_ratings(seed: int = 0) -> pd.DataFrame:
    """A made-up ratings table: 25 users x 30 movies, about 60% rated, in half stars."""
    rng = np.random.default_rng(seed)
    users, movies = np.arange(1, 26) * 7, np.arange(1, 31) * 11
    uu, mm = np.meshgrid(users, movies, indexing="ij")
    keep = rng.random(uu.shape) < 0.6
    n = int(keep.sum())
    return pd.DataFrame(
        {"userId": uu[keep], "movieId": mm[keep], "rating": rng.integers(1, 11, n) / 2}
    )


def fixture_movies() -> pd.DataFrame:
    ids = np.arange(1, 31) * 11
    return pd.DataFrame(
        {"movieId": ids, "title": [f"A Film Called {i}, The ({1960 + i % 60})" for i in ids]}
    )


def named(wb_formulas: openpyxl.Workbook, wb_values: openpyxl.Workbook, name: str) -> np.ndarray:
    """The values of named range `name` (blank / "" -> NaN), as a 2-D array."""
    ((sheet, ref),) = wb_formulas.defined_names[name].destinations
    cells = wb_values[sheet][ref.replace("$", "")]
    if not isinstance(cells, tuple):
        cells = ((cells,),)
    return np.array(
        [[np.nan if c.value in (None, "") else float(c.value) for c in row] for row in cells]
    )


def ratings_in(wb: openpyxl.Workbook) -> pd.DataFrame:
    """The ratings block, read back through its defined names as a userId x movieId table."""
    users = named(wb, wb, "user_ids")[:, 0].astype(int)
    movies = named(wb, wb, "movie_ids")[0].astype(int)
    df = pd.DataFrame(named(wb, wb, "ratings"), index=users, columns=movies)
    return df.rename_axis("userId").rename_axis("movieId", axis=1)


def models_in(wb: openpyxl.Workbook) -> dict[str, cw.FactorModel]:
    """The four factor sets stored in a workbook's yellow cells."""
    out = {}
    k = cw.N_FACTORS
    for key in BLOCKS:
        uf, mf = named(wb, wb, f"{key}_user_factors"), named(wb, wb, f"{key}_movie_factors")
        bias = key.startswith("bias")
        out[key] = cw.FactorModel(
            uf[:, :k],
            mf[:k].T,
            uf[:, k] if bias else np.zeros(len(uf)),
            mf[k] if bias else np.zeros(mf.shape[1]),
        )
    return out


def check_values(
    formulas: Path, values: Path, table: pd.DataFrame, models: dict[str, cw.FactorModel]
) -> None:
    """Every prediction and RMSE of a computed workbook equals NumPy's, within 1e-6."""
    wf = openpyxl.load_workbook(formulas)
    wv = openpyxl.load_workbook(values, data_only=True)
    r = table.to_numpy(dtype="float64")
    for key, model in models.items():
        np.testing.assert_allclose(
            named(wf, wv, f"{key}_predictions"),
            model.predict_all(),
            atol=TOL,
            err_msg=f"{key} predictions",
        )
        rmse = named(wf, wv, f"{key}_rmse")[0, 0]
        assert abs(rmse - model.rmse(r)) < TOL, (key, rmse, model.rmse(r))
    # the long-format sheets: one prediction per rated cell, in (userId, movieId) order
    want = models["dotprod_trained"].predict(r)[~np.isnan(r)]  # row-major = sorted order
    np.testing.assert_allclose(
        named(wf, wv, "emb_predictions")[:, 0], want, atol=TOL, err_msg="movielens_emb predictions"
    )
    np.testing.assert_allclose(
        named(wf, wv, "onehot_predictions")[:, 0],
        want,
        atol=TOL,
        err_msg="movielens_1hot predictions",
    )
    assert named(wf, wv, "onehot_max_difference")[0, 0] == 0
    assert abs(named(wf, wv, "emb_rmse")[0, 0] - models["dotprod_trained"].rmse(r)) < TOL
    # every formula has a value, and none is an error (#VALUE!, #N/A, ...)
    problems = common.value_problems(wf, wv)
    assert not problems, problems[:5]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    """A workbook built from the fixture tables (formulas only)."""
    tmp = tmp_path_factory.mktemp("collab_wb")
    ratings, movies = fixture_ratings(), fixture_movies()
    table = top_crosstab(ratings)
    path = cw.build(tmp / "fixture.xlsx", ratings=ratings, movies=movies, cached_values=False)
    return {
        "ratings": ratings,
        "movies": movies,
        "table": table,
        "path": path,
        "models": cw.workbook_models(table),
        "wb": openpyxl.load_workbook(path),
    }


def test_models_fit_the_table(built):
    models, r = built["models"], built["table"].to_numpy()
    for sheet in ("dotprod", "bias"):
        trained, start = models[f"{sheet}_trained"].rmse(r), models[f"{sheet}_random"].rmse(r)
        assert trained < 0.5 * start, (sheet, trained, start)
    assert models["bias_trained"].rmse(r) <= models["dotprod_trained"].rmse(r) + 1e-3


def test_build_is_deterministic(built, tmp_path):
    a = built["wb"]
    b = openpyxl.load_workbook(
        cw.build(
            tmp_path / "again.xlsx",
            ratings=built["ratings"],
            movies=built["movies"],
            cached_values=False,
        )
    )
    assert a.sheetnames == b.sheetnames == SHEETS
    for ws in a:
        va = [[c.value for c in row] for row in ws.iter_rows()]
        vb = [[c.value for c in row] for row in b[ws.title].iter_rows()]
        assert va == vb, f"sheet {ws.title} differs between two builds"


def test_ratings_block_is_the_crosstab(built):
    pd.testing.assert_frame_equal(
        ratings_in(built["wb"]),
        built["table"],
        check_names=False,
        check_index_type=False,
        check_column_type=False,
    )
    titles = [
        c.value
        for c in openpyxl.load_workbook(built["path"])["dotprod"][
            built["wb"].defined_names["movie_titles"].attr_text.split("!")[1].replace("$", "")
        ][0]
    ]
    lookup = dict(zip(built["movies"].movieId, built["movies"].title, strict=True))
    assert titles == [lookup[m] for m in built["table"].columns]


def test_blocks_hold_the_models(built):
    got = models_in(built["wb"])
    for key, model in built["models"].items():
        for field in ("user_factors", "movie_factors", "user_bias", "movie_bias"):
            np.testing.assert_array_equal(getattr(got[key], field), getattr(model, field), key)


def test_exercise_on_the_first_screen(built):
    """Block B, its RMSE and the Solver steps are at the top; the cells the instructions
    name are the ones the defined names (and the Solver test) use."""
    wb = built["wb"]
    for sheet in ("dotprod", "bias"):
        ws = wb[sheet]
        text = "\n".join(str(ws.cell(r, 1).value) for r in range(5, 16))
        assert "GRG Nonlinear" in text and "Swarm Non-Linear Solver" in text
        assert f"<= {cw.SOLVER_BOUND}" in text and str(cw.SOLVER_TIME_MS) in text
        rmse = wb.defined_names[f"{sheet}_random_rmse"].attr_text.split("!")[1]
        users = wb.defined_names[f"{sheet}_random_user_factors"].attr_text.split("!")[1]
        movies = wb.defined_names[f"{sheet}_random_movie_factors"].attr_text.split("!")[1]
        assert f"Set Objective: {rmse}" in text
        assert f"{users},{movies}" in text and f"{users};{movies}" in text  # Excel, LibreOffice
        first_row = int(re.search(r"\d+", rmse.split(":")[0].replace("$", "")).group())
        assert first_row < 20, f"{sheet}: block B's RMSE is at row {first_row}, off screen"
        trained = wb.defined_names[f"{sheet}_trained_rmse"].attr_text.split("!")[1]
        assert int(trained.split("$")[-1]) > first_row + 30, "block A (the answer) comes after"


def test_unrated_predictions_are_greyed_and_text_fits(built):
    wb, r = built["wb"], built["table"].to_numpy()
    for key in BLOCKS:
        ((sheet, ref),) = wb.defined_names[f"{key}_predictions"].destinations
        cells = np.array(wb[sheet][ref.replace("$", "")])
        greyed = np.vectorize(lambda c: c.fill.fgColor.rgb.endswith("EDEDED"))(cells)
        np.testing.assert_array_equal(greyed, np.isnan(r), err_msg=key)
    for ws in wb:
        assert common.clipped_cells(ws) == [], ws.title
        assert (
            "Colours:" in [c.value for row in ws.iter_rows(max_row=4) for c in row]
            or ws.title == "about"
        ), f"{ws.title} has no colour legend"
    about = " ".join(str(c.value) for c in wb["about"]["A"])
    assert "python -m tools.workbooks" in about and "tests/" in about
    for ws in wb.worksheets[:-1]:  # developer text stays on the about sheet
        text = " ".join(
            str(c.value)
            for row in ws.iter_rows()
            for c in row
            if isinstance(c.value, str) and not c.value.startswith("=")
        )
        assert "tools." not in text and "tests/" not in text, ws.title


def test_defined_names(built):
    names = set(built["wb"].defined_names)
    expected = {
        f"{b}_{part}"
        for b in BLOCKS
        for part in ("rmse", "predictions", "user_factors", "movie_factors")
    }
    expected |= {
        "user_embeddings",
        "movie_embeddings",
        "emb_rmse",
        "emb_predictions",
        "onehot_predictions",
        "onehot_max_difference",
        "ratings",
        "user_ids",
        "movie_ids",
        "movie_titles",
    }
    assert expected <= names, expected - names


@pytest.mark.skipif(not COMMITTED.exists(), reason="excel/collab_filter.xlsx not built yet")
def test_committed_workbook_holds_the_python_numbers():
    """Its stored values (computed by LibreOffice when it was built) are NumPy's numbers."""
    wf = openpyxl.load_workbook(COMMITTED)
    table = ratings_in(wf)
    assert table.shape == (15, 15)
    check_values(COMMITTED, COMMITTED, table, models_in(wf))


@pytest.mark.skipif(not os.environ.get("COURSE_DATA"), reason="needs the data mirror (COURSE_DATA)")
@pytest.mark.skipif(not COMMITTED.exists(), reason="excel/collab_filter.xlsx not built yet")
def test_committed_workbook_is_up_to_date(tmp_path):
    """Rebuilding from ml-latest-small gives the committed ratings, factors and formulas."""
    from course_utils.data import load_movielens

    ratings, movies = load_movielens()
    table = top_crosstab(ratings)
    wf = openpyxl.load_workbook(COMMITTED)
    pd.testing.assert_frame_equal(
        ratings_in(wf), table, check_names=False, check_index_type=False, check_column_type=False
    )
    got = models_in(wf)
    for key, model in cw.workbook_models(table).items():
        # factors are rounded to 4 decimals; allow one rounding step, since another CPU's
        # BLAS can differ in the last bits before rounding
        np.testing.assert_allclose(
            got[key].user_factors,
            model.user_factors,
            atol=1.01e-4,
            err_msg=f"{key}: rebuild with `python -m tools.workbooks`",
        )
    fresh = openpyxl.load_workbook(
        cw.build(tmp_path / "fresh.xlsx", ratings, movies, cached_values=False)
    )
    assert fresh.sheetnames == wf.sheetnames and set(fresh.defined_names) == set(wf.defined_names)
    for ws in fresh:
        new = [[c.value for c in row if not isinstance(c.value, float)] for row in ws.iter_rows()]
        old = [
            [c.value for c in row if not isinstance(c.value, float)]
            for row in wf[ws.title].iter_rows()
        ]
        assert new == old, f"sheet {ws.title} is stale: rebuild with `python -m tools.workbooks`"


@pytest.mark.libreoffice
def test_libreoffice_recalculates(built, tmp_path):
    """LibreOffice computes the fixture workbook and the committed one: NumPy's numbers."""
    if (why := common.libreoffice_missing()) is not None:
        pytest.skip(why)
    files = [built["path"]] + ([COMMITTED] if COMMITTED.exists() else [])
    out = common.recalculate(files, tmp_path / "out")
    check_values(built["path"], out[0], built["table"], built["models"])
    if COMMITTED.exists():
        wf = openpyxl.load_workbook(COMMITTED)
        check_values(COMMITTED, out[1], ratings_in(wf), models_in(wf))


@pytest.mark.libreoffice
@pytest.mark.skipif(not COMMITTED.exists(), reason="excel/collab_filter.xlsx not built yet")
def test_on_paper_the_first_page_holds_the_exercise(tmp_path: Path) -> None:
    """Printed (LibreOffice's PDF), the workbook runs to a few pages, not 61 (one page wide,
    the long lists cut after PRINTED_ROWS rows), and its first page holds every step of the
    Solver exercise, no line cut at the page's edge."""
    if (why := common.libreoffice_missing()) is not None:
        pytest.skip(why)
    try:
        pages = common.pdf_pages(COMMITTED, tmp_path)
    except FileNotFoundError as e:  # pdftotext
        if os.environ.get("COURSE_REQUIRE_LIBREOFFICE", "") not in ("", "0"):
            raise
        pytest.skip(str(e))
    assert len(pages) <= 3 * len(SHEETS), f"{len(pages)} pages"
    first = " ".join(pages[0].split())
    ws = openpyxl.load_workbook(COMMITTED)["dotprod"]
    steps = [ws.cell(r, 1).value for r in range(5, 13)]
    assert any("Solver" in str(s) for s in steps), steps
    for text in steps:
        assert " ".join(str(text).split()) in first, f"not on the first page: {text!r}"
