"""excel/graddesc.xlsx: macro-free, live formulas, and the same numbers as course_utils.optim.

The recalculation test opens freshly built workbooks (formulas, no cached values) in
LibreOffice headless, which computes every formula and saves the values, then compares
each sheet's (a, b) after every step with `reference_trajectory` (the course_utils
optimizers run one example per step on the same data). Without LibreOffice that test skips,
naming what to install; with COURSE_REQUIRE_LIBREOFFICE=1 (CI) it fails instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from tools.workbooks import graddesc as gw

REPO = Path(__file__).resolve().parents[1]
SHEET_NAMES = ["intro", "data", "basic SGD", "momentum", "adagrad", "rmsprop", "adam", "adamw",
               "annealing"]
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")

# A LibreOffice profile that always recalculates formulas when it loads an .xlsx file.
RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return gw.build(tmp_path_factory.mktemp("wb") / "graddesc.xlsx")


@pytest.fixture(scope="module")
def formulas(built: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(built)


def recalculate(paths: list[Path], outdir: Path) -> list[Path]:
    """Open each workbook in LibreOffice headless and save it again, formulas computed."""
    profile = outdir / "lo-profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALC_ALWAYS)
    cmd = [SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
           "--convert-to", "xlsx", "--outdir", str(outdir / "out"), *map(str, paths)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    outs = [outdir / "out" / p.name for p in paths]
    missing = [p for p in outs if not p.exists()]
    assert not missing, f"LibreOffice wrote no {missing}:\n{res.stdout}\n{res.stderr}"
    return outs


def test_sheets_formulas_and_no_macros(built: Path, formulas: openpyxl.Workbook) -> None:
    with zipfile.ZipFile(built) as z:
        assert not [n for n in z.namelist() if "vba" in n.lower()], "the workbook must be macro-free"
    wb = formulas
    assert wb.sheetnames == SHEET_NAMES
    cached = openpyxl.load_workbook(built, data_only=True)
    for sheet in gw.SHEETS:
        ws = wb[sheet.name]
        for key, cell in gw.hyper_cells(sheet).items():
            assert isinstance(ws[cell].value, int | float), (sheet.name, key)
            assert ws.cell(ws[cell].row, 1).value, f"{sheet.name}!{cell} ({key}) has no label"
        # the last step's new a is a live formula, and there is no stale cached value
        head = next(r[0].row for r in ws.iter_rows(min_col=1, max_col=1) if r[0].value == "step t")
        col = [c.value for c in ws[head]].index("new a") + 1
        last = head + 1 + gw.N_ROWS * gw.EPOCHS
        assert str(ws.cell(last, col).value).startswith("="), sheet.name
        assert cached[sheet.name].cell(last, col).value is None
        assert len(ws._charts) == 2, f"{sheet.name}: expected the error chart and the a, b chart"


def test_data_is_fixed_numbers(formulas: openpyxl.Workbook) -> None:
    ws = formulas["data"]
    x = [ws.cell(r, 1).value for r in range(2, 2 + gw.N_ROWS)]
    y = [ws.cell(r, 2).value for r in range(2, 2 + gw.N_ROWS)]
    assert all(isinstance(v, float) for v in x + y), "data must be numbers, not RAND formulas"
    gx, gy = gw.make_data()
    np.testing.assert_array_equal(x, gx)
    np.testing.assert_array_equal(y, gy)


def test_committed_workbook_is_up_to_date(formulas: openpyxl.Workbook) -> None:
    committed = REPO / "excel" / "graddesc.xlsx"
    assert committed.exists(), "run `python -m tools.workbooks graddesc.xlsx`"
    new, old = formulas, openpyxl.load_workbook(committed)
    assert new.sheetnames == old.sheetnames
    for name in new.sheetnames:
        a = [[c.value for c in row] for row in new[name].iter_rows()]
        b = [[c.value for c in row] for row in old[name].iter_rows()]
        assert a == b, f"excel/graddesc.xlsx sheet {name!r} is stale: rebuild it"


def test_libreoffice_matches_course_utils(built: Path, tmp_path: Path) -> None:
    if SOFFICE is None:
        reason = ("LibreOffice (soffice) is not installed, so the workbook cannot be "
                  "recalculated; install it (apt install libreoffice-calc) to run this test")
        if os.environ.get("COURSE_REQUIRE_LIBREOFFICE", "") not in ("", "0"):
            pytest.fail(f"COURSE_REQUIRE_LIBREOFFICE is set but {reason}", pytrace=False)
        pytest.skip(reason)
    # a second copy with other data and other hyperparameters: the formulas must follow them
    changed = tmp_path / "changed.xlsx"
    wb = openpyxl.load_workbook(built)
    x2, y2 = gw.make_data(seed=123)
    for i, (xi, yi) in enumerate(zip(x2, y2, strict=True), start=2):
        wb["data"].cell(i, 1, float(xi))
        wb["data"].cell(i, 2, float(yi))
    overrides = {}
    for sheet in gw.SHEETS:
        cells = gw.hyper_cells(sheet)
        lr_key = "lr_max" if "lr_max" in cells else "lr"
        new = {lr_key: sheet.hyper[lr_key][1] * 0.5, "a0": -2.0, "b0": 4.0}
        for key, value in new.items():
            wb[sheet.name][cells[key]] = value
        overrides[sheet.name] = new
    wb.save(changed)

    original, modified = recalculate([built, changed], tmp_path)
    x, y = gw.make_data()
    for path, data, hyper in ((original, (x, y), {}), (modified, (x2, y2), overrides)):
        wb = openpyxl.load_workbook(path, data_only=True)
        for sheet in gw.SHEETS:
            got = gw.read_trajectory(wb[sheet.name])  # raises if LibreOffice computed nothing
            want = gw.reference_trajectory(sheet, *data, hyper=hyper.get(sheet.name))
            assert got.shape == (gw.N_ROWS * gw.EPOCHS + 1, 2)
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=0,
                                       err_msg=f"{path.name} sheet {sheet.name!r}")
        ls = wb["data"]
        slope = np.polyfit(data[0], data[1], 1)
        np.testing.assert_allclose([ls["E7"].value, ls["E8"].value], slope, rtol=1e-9)
