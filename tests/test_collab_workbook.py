"""excel/collab_filter.xlsx: LibreOffice recalculates it and gets the Python numbers.

The workbook holds formulas only (no cached results), so the check is: let LibreOffice
(headless) compute every formula, read the results back, and compare the predictions and
RMSEs with `FactorModel.predict` / `.rmse` in NumPy, within 1e-6.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from tools.workbooks import collab_filter as cw
from course_utils.collab import top_crosstab

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "excel" / "collab_filter.xlsx"
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
needs_soffice = pytest.mark.skipif(
    SOFFICE is None,
    reason="LibreOffice is not installed (no `soffice` on PATH), so the workbook's formulas "
    "cannot be recalculated here; install it with `apt-get install libreoffice-calc-nogui` "
    "(CI does).",
)
TOL = 1e-6


def fixture_ratings(seed: int = 0) -> pd.DataFrame:
    """A made-up ratings table: 25 users x 30 movies, about 60% rated, in half stars."""
    rng = np.random.default_rng(seed)
    users, movies = np.arange(1, 26) * 7, np.arange(1, 31) * 11
    uu, mm = np.meshgrid(users, movies, indexing="ij")
    keep = rng.random(uu.shape) < 0.6
    n = int(keep.sum())
    return pd.DataFrame({"userId": uu[keep], "movieId": mm[keep],
                         "rating": rng.integers(1, 11, n) / 2})


def recalculate(files: list[Path], out: Path) -> list[Path]:
    """Let LibreOffice open, recalculate and re-save `files` as xlsx into `out`."""
    profile = out / "lo-profile"  # a private profile: parallel runs do not lock each other
    cmd = [SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
           "--convert-to", "xlsx", "--outdir", str(out), *map(str, files)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=180)
    results = [out / f.name for f in files]
    missing = [p for p in results if not p.exists()]
    assert not missing, f"LibreOffice did not write {missing}"
    return results


def named(wb_formulas: openpyxl.Workbook, wb_values: openpyxl.Workbook, name: str) -> np.ndarray:
    """The recalculated values of named range `name` (blank / "" -> NaN), as a 2-D array."""
    (sheet, ref), = wb_formulas.defined_names[name].destinations
    cells = wb_values[sheet][ref.replace("$", "")]
    if not isinstance(cells, tuple):
        cells = ((cells,),)
    return np.array([[np.nan if c.value in (None, "") else float(c.value) for c in row]
                     for row in cells])


def ratings_in(wb: openpyxl.Workbook) -> pd.DataFrame:
    """The ratings block of sheet dotprod, read back as a userId x movieId table."""
    ws = wb["dotprod"]
    (_, ref), = wb.defined_names["dotprod_trained_predictions"].destinations
    first_col = openpyxl.utils.cell.coordinate_from_string(ref.replace("$", "").split(":")[0])[0]
    c0 = openpyxl.utils.column_index_from_string(first_col)
    movies = [ws.cell(4, c).value for c in range(c0, ws.max_column + 1)]
    movies = [m for m in movies if isinstance(m, int)]
    rows = {}
    for r in range(5, 5 + 100):
        u = ws.cell(r, c0 - 1).value
        if not isinstance(u, int):
            break
        rows[u] = [ws.cell(r, c0 + j).value for j in range(len(movies))]
    df = pd.DataFrame.from_dict(rows, orient="index", columns=movies, dtype="float64")
    return df.rename_axis("userId").rename_axis("movieId", axis=1)


def check_workbook(original: Path, recalculated: Path, table: pd.DataFrame,
                   models: dict[str, cw.FactorModel]) -> None:
    wf = openpyxl.load_workbook(original)
    wv = openpyxl.load_workbook(recalculated, data_only=True)
    r = table.to_numpy(dtype="float64")
    for key, model in models.items():
        got = named(wf, wv, f"{key}_predictions")
        want = model.predict(r)
        assert np.array_equal(np.isnan(got), np.isnan(want)), f"{key}: blank cells differ"
        np.testing.assert_allclose(got[~np.isnan(got)], want[~np.isnan(want)], atol=TOL,
                                   err_msg=f"{key} predictions")
        rmse = named(wf, wv, f"{key}_rmse")[0, 0]
        assert abs(rmse - model.rmse(r)) < TOL, (key, rmse, model.rmse(r))
    # the long-format sheets: one prediction per rated cell, in (userId, movieId) order
    want = models["dotprod_trained"].predict(r)[~np.isnan(r)]  # row-major = sorted order
    emb = named(wf, wv, "emb_predictions")[:, 0]
    hot = named(wf, wv, "onehot_predictions")[:, 0]
    np.testing.assert_allclose(emb, want, atol=TOL, err_msg="movielens_emb predictions")
    np.testing.assert_allclose(hot, want, atol=TOL, err_msg="movielens_1hot predictions")
    assert named(wf, wv, "onehot_max_difference")[0, 0] == 0
    emb_rmse = named(wf, wv, "emb_rmse")[0, 0]
    assert abs(emb_rmse - models["dotprod_trained"].rmse(r)) < TOL
    # no formula anywhere evaluated to an error (#VALUE!, #N/A, ...)
    errors = [f"{ws.title}!{c.coordinate}={c.value}" for ws in wv for row in ws.iter_rows()
              for c in row if isinstance(c.value, str) and c.value.startswith("#")]
    assert not errors, errors[:5]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    """The fixture workbook and the committed one, recalculated in one LibreOffice run."""
    tmp = tmp_path_factory.mktemp("collab_wb")
    ratings = fixture_ratings()
    table = top_crosstab(ratings)
    path = cw.build(tmp / "fixture.xlsx", ratings=ratings)
    files = [path] + ([COMMITTED] if COMMITTED.exists() else [])
    recalculated = recalculate(files, tmp / "out") if SOFFICE else []
    return {"ratings": ratings, "table": table, "models": cw.workbook_models(table),
            "path": path, "recalculated": recalculated}


def test_models_fit_the_table(built):
    models, r = built["models"], built["table"].to_numpy()
    for sheet in ("dotprod", "bias"):
        trained, start = models[f"{sheet}_trained"].rmse(r), models[f"{sheet}_random"].rmse(r)
        assert trained < 0.5 * start, (sheet, trained, start)
    assert models["bias_trained"].rmse(r) <= models["dotprod_trained"].rmse(r) + 1e-3


def test_build_is_deterministic(built, tmp_path):
    a = openpyxl.load_workbook(built["path"])
    b = openpyxl.load_workbook(cw.build(tmp_path / "again.xlsx", ratings=built["ratings"]))
    assert a.sheetnames == b.sheetnames == ["dotprod", "bias", "movielens_emb", "movielens_1hot"]
    for ws in a:
        va = [[c.value for c in row] for row in ws.iter_rows()]
        vb = [[c.value for c in row] for row in b[ws.title].iter_rows()]
        assert va == vb, f"sheet {ws.title} differs between two builds"


def test_ratings_block_is_the_crosstab(built):
    got = ratings_in(openpyxl.load_workbook(built["path"]))
    pd.testing.assert_frame_equal(got, built["table"], check_names=False, check_index_type=False,
                                  check_column_type=False)


@needs_soffice
def test_libreoffice_recalculates_fixture(built):
    check_workbook(built["path"], built["recalculated"][0], built["table"], built["models"])


@needs_soffice
@pytest.mark.skipif(not COMMITTED.exists(), reason="excel/collab_filter.xlsx not built yet")
def test_libreoffice_recalculates_committed_workbook(built):
    """The committed file: its own ratings and factors give its recalculated numbers."""
    wf = openpyxl.load_workbook(COMMITTED)
    table = ratings_in(wf)
    assert table.shape == (15, 15)
    models = {}
    for key in ("dotprod_trained", "dotprod_random", "bias_trained", "bias_random"):
        uf = named(wf, wf, f"{key}_user_factors")
        mf = named(wf, wf, f"{key}_movie_factors")
        k = cw.N_FACTORS
        bias = key.startswith("bias")
        models[key] = cw.FactorModel(
            uf[:, :k], mf[:k].T,
            uf[:, k] if bias else np.zeros(len(uf)), mf[k] if bias else np.zeros(mf.shape[1]))
    check_workbook(COMMITTED, built["recalculated"][1], table, models)


@pytest.mark.skipif(not os.environ.get("COURSE_DATA"), reason="needs the data mirror (COURSE_DATA)")
@pytest.mark.skipif(not COMMITTED.exists(), reason="excel/collab_filter.xlsx not built yet")
def test_committed_workbook_is_up_to_date():
    """Rebuilding from ml-latest-small gives the committed ratings and factors."""
    from course_utils import load_movielens

    ratings, _ = load_movielens()
    table = top_crosstab(ratings)
    wf = openpyxl.load_workbook(COMMITTED)
    pd.testing.assert_frame_equal(ratings_in(wf), table, check_names=False,
                                  check_index_type=False, check_column_type=False)
    models = cw.workbook_models(table)
    for key, model in models.items():
        uf = named(wf, wf, f"{key}_user_factors")
        # factors are rounded to 4 decimals; allow one rounding step, since another CPU's
        # BLAS can differ in the last bits before rounding
        np.testing.assert_allclose(uf[:, : cw.N_FACTORS], model.user_factors, atol=1.01e-4,
                                   err_msg=f"{key}: rebuild with `python -m tools.workbooks`")
