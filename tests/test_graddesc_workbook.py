"""excel/graddesc.xlsx: macro-free, live formulas, the same numbers as course_utils, and a
layout a student can read.

Most tests read the files with openpyxl (the committed workbook stores the values LibreOffice
computed while building it). The test marked `libreoffice` opens a freshly built workbook and
a copy with other data and hyperparameters in LibreOffice headless, which computes every
formula, and compares each sheet's (a, b) after every step with `reference_trajectory`
(`course_utils.line_fit.make_optimizer` run by `line_fit.run_path`). Without LibreOffice it skips,
naming what to install; with COURSE_REQUIRE_LIBREOFFICE=1 (CI) it fails instead.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import torch

from course_utils import line_fit
from tools.workbooks import common
from tools.workbooks import graddesc as gw

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "excel" / "graddesc.xlsx"
SHEET_NAMES = ["intro", "compare", "data", *(s.name for s in gw.SHEETS), "about"]
TOL = 1e-6


def read_trajectory(ws) -> np.ndarray:
    """The `(a, b)` after each step, shape `(gw.STEPS + 1, 2)` (row 0: the start), from a sheet
    whose formulas have been computed (open with `openpyxl.load_workbook(data_only=True)`)."""
    for row in ws.iter_rows(min_col=1, max_col=1):
        if row[0].value == "step t":
            head = row[0].row
            break
    else:
        raise ValueError(f"Sheet {ws.title!r} has no step table (no 'step t' header).")
    headers = [c.value for c in ws[head]]
    ca, cb = headers.index("new a") + 1, headers.index("new b") + 1
    values = [
        (ws.cell(r, ca).value, ws.cell(r, cb).value) for r in range(head + 1, head + 2 + gw.STEPS)
    ]
    if any(not isinstance(v, int | float) for pair in values for v in pair):
        raise ValueError(f"Sheet {ws.title!r} has no computed values for a, b: recalculate it.")
    return np.array(values, dtype=np.float64)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return gw.build(tmp_path_factory.mktemp("wb") / "graddesc.xlsx", cached_values=False)


@pytest.fixture(scope="module")
def formulas(built: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(built)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return gw.make_data()


@pytest.fixture(scope="module")
def results(data) -> dict:
    return gw.results(*data)


def named_cells(wb: openpyxl.Workbook, name: str) -> list:
    """The cells a defined name points at, as a flat list."""
    ((sheet, ref),) = wb.defined_names[name].destinations
    cells = wb[sheet][ref.replace("$", "")]
    if not isinstance(cells, tuple):
        return [cells]
    return [c for row in cells for c in (row if isinstance(row, tuple) else (row,))]


def test_sheets_formulas_and_no_macros(built: Path, formulas: openpyxl.Workbook) -> None:
    with zipfile.ZipFile(built) as z:
        assert not [n for n in z.namelist() if "vba" in n.lower()], (
            "the workbook must be macro-free"
        )
    wb = formulas
    assert wb.sheetnames == SHEET_NAMES
    for sheet in gw.SHEETS:
        ws = wb[sheet.name]
        for key, cell in gw.hyper_cells(sheet).items():
            assert isinstance(ws[cell].value, int | float), (sheet.name, key)
            assert ws.cell(ws[cell].row, 1).value, f"{sheet.name}!{cell} ({key}) has no label"
        (last_a,) = named_cells(wb, f"{sheet.key}_a")[-1:]
        assert str(last_a.value).startswith("="), sheet.name  # a live formula
        assert len(ws._charts) == 2, f"{sheet.name}: expected the MSE chart and the a, b chart"
        assert str(ws["A6"].value).startswith("=IFERROR(MATCH(1,"), "summary row first"
    assert len(wb["compare"]._charts) == 1 and len(wb["data"]._charts) == 1


def test_charts_in_first_screen_and_no_clipped_text(formulas: openpyxl.Workbook) -> None:
    for ws in formulas:
        for chart in ws._charts:
            anchor = chart.anchor._from
            assert anchor.col < 12, f"{ws.title}: chart anchored at column {anchor.col + 1}"
            assert anchor.row < 20, f"{ws.title}: chart anchored at row {anchor.row + 1}"
        if ws._charts:  # a chart must not cross the frozen rows
            assert ws.freeze_panes is None, ws.title
        assert common.clipped_cells(ws) == [], ws.title
        if ws.title != "about":  # developer text (modules, tests, commands) lives there only
            text = " ".join(
                c.value
                for row in ws.iter_rows()
                for c in row
                if isinstance(c.value, str) and not c.value.startswith("=")
            )
            assert "tools." not in text and "tests/" not in text, ws.title


def test_data_is_the_lessons_line_data(formulas: openpyxl.Workbook) -> None:
    x = [c.value for c in named_cells(formulas, "data_x")]
    y = [c.value for c in named_cells(formulas, "data_y")]
    assert all(isinstance(v, float) for v in x + y), "data must be numbers, not RAND formulas"
    gx, gy = gw.make_data()
    np.testing.assert_array_equal(x, gx)
    np.testing.assert_array_equal(y, gy)
    lx, ly = line_fit.line_data(gw.N_ROWS, scale=gw.X_SCALE)  # the explorer's problem
    np.testing.assert_allclose(gx, lx.double().numpy(), atol=5e-4)
    np.testing.assert_allclose(gy, ly.double().numpy(), atol=5e-4)
    assert 0 <= min(x) and max(x) <= gw.X_SCALE


def test_defined_names(formulas: openpyxl.Workbook) -> None:
    for name in ("data_x", "data_y", "best_a", "best_b", "lowest_mse", "target_mse"):
        assert name in formulas.defined_names, name
    for sheet in gw.SHEETS:
        for key, cell in gw.hyper_cells(sheet).items():
            (c,) = named_cells(formulas, f"{sheet.key}_{key}")
            assert (c.parent.title, c.coordinate) == (sheet.name, cell)
        for key in ("a", "b", "mse"):
            assert len(named_cells(formulas, f"{sheet.key}_{key}")) == gw.STEPS + 1
        for key in ("steps_to_target", "final_a", "final_b", "final_mse", "final_ratio"):
            (c,) = named_cells(formulas, f"{sheet.key}_{key}")
            assert c.parent.title == sheet.name and c.row == 6


def test_committed_workbook_is_up_to_date(formulas: openpyxl.Workbook) -> None:
    assert COMMITTED.exists(), "run `python -m tools.workbooks graddesc.xlsx`"
    new, old = formulas, openpyxl.load_workbook(COMMITTED)
    assert new.sheetnames == old.sheetnames
    for name in new.sheetnames:
        a = [[c.value for c in row] for row in new[name].iter_rows()]
        b = [[c.value for c in row] for row in old[name].iter_rows()]
        assert a == b, f"excel/graddesc.xlsx sheet {name!r} is stale: rebuild it"
    assert set(new.defined_names) == set(old.defined_names)


def test_committed_workbook_holds_computed_values(data, results) -> None:
    """Previewers and pandas see numbers: every formula has a cached value, no errors, and
    the values are the course_utils numbers."""
    wf = openpyxl.load_workbook(COMMITTED)
    wv = openpyxl.load_workbook(COMMITTED, data_only=True)
    problems = common.value_problems(wf, wv)
    assert not problems, f"{problems[:5]}: rebuild with LibreOffice installed"
    for sheet in gw.SHEETS:
        got = read_trajectory(wv[sheet.name])
        np.testing.assert_allclose(
            got, gw.reference_trajectory(sheet, *data), rtol=TOL, atol=0, err_msg=sheet.name
        )
        want = results[sheet.name]
        (steps,) = named_cells(wv, f"{sheet.key}_steps_to_target")
        assert steps.value == want["steps"], sheet.name
        for key in ("a", "b", "mse", "ratio"):
            name = {"ratio": "final_ratio"}.get(key, f"final_{key}")
            (c,) = named_cells(wv, f"{sheet.key}_{name}")
            assert c.value == pytest.approx(want[key], rel=TOL), (sheet.name, key)


def test_plain_gradient_descent_is_the_slowest(results) -> None:
    """The lesson: momentum and the adaptive methods need fewer steps than plain SGD."""
    steps = {k: v["steps"] for k, v in results.items()}
    assert all(v is not None for v in steps.values()), steps
    assert all(steps["basic SGD"] > v for k, v in steps.items() if k != "basic SGD"), steps
    assert steps["basic SGD"] > 2 * max(steps["momentum"], steps["adam"]), steps


def test_sheet_notes_match_the_numbers(data) -> None:
    """What the adamw and rmsprop notes say happens does happen."""
    x, y = data
    lowest = line_fit.least_squares(torch.tensor(x), torch.tensor(y))[2]
    runs = {
        wd: gw._mse(gw.reference_trajectory("adamw", x, y, {"wd": wd}), x, y)
        for wd in (gw.BY_NAME["adamw"].hyper["wd"][1], 0.01)
    }
    (steps_small, small), (steps_big, big) = (
        (gw.steps_to_target(m, lowest), m[-1]) for m in runs.values()
    )
    assert steps_big > 3 * steps_small and big > small, (steps_small, steps_big)
    mse = gw._mse(gw.reference_trajectory("rmsprop", x, y), x, y)
    first = gw.steps_to_target(mse, lowest)
    assert (mse[first + 20 :] > 2 * lowest).any() and mse[-1] < 1.1 * lowest  # spikes, settles


def test_intro_claims_match_the_numbers(formulas: openpyxl.Workbook, results) -> None:
    text = " ".join(str(c.value) for c in formulas["intro"]["A"] if c.value)
    assert f"needs {results['basic SGD']['steps']} steps" in text
    assert "more than any other method" in text
    for name, r in results.items():
        if name != "basic SGD":
            assert f"{name} {r['steps']}" in text


def test_learning_rates_are_the_best_of_the_grid(data) -> None:
    for sheet in gw.SHEETS:
        best, rows = gw.tune(sheet, *data)
        lr_key = "lr_max" if "lr_max" in sheet.hyper else "lr"
        assert sheet.hyper[lr_key][1] == best, (sheet.name, best, rows)
        if lr_key == "lr_max":
            assert sheet.hyper["lr_min"][1] == pytest.approx(best / 100)


def test_reference_trajectory_is_course_utils(data) -> None:
    """Step 1 of plain SGD by hand: a ← a − lr·dL/da on the full batch."""
    x, y = data
    a0, b0, lr = gw.A0, gw.B0, gw.BY_NAME["basic SGD"].hyper["lr"][1]
    r = a0 * x + b0 - y
    step1 = [a0 - lr * 2 * (r * x).mean(), b0 - lr * 2 * r.mean()]
    traj = gw.reference_trajectory("basic SGD", x, y, steps=1)
    np.testing.assert_allclose(traj, [[a0, b0], step1], rtol=1e-12)
    assert gw.steps_to_target(np.array([9.0, 2.0, 1.05, 0.5]), 1.0) == 2


@pytest.mark.parametrize("stage", ["formulas", "values"])
def test_failed_build_keeps_the_old_file(tmp_path: Path, monkeypatch, stage: str) -> None:
    """A build that fails while writing leaves the existing workbook as it was, and no
    temporary files behind."""
    target = tmp_path / "graddesc.xlsx"
    target.write_bytes(b"the committed workbook")

    def broken_save(self, filename) -> None:
        Path(filename).write_bytes(b"PK half a zip")
        raise OSError("disk full")

    def broken_values(formulas: Path, computed: Path, out: Path) -> int:
        Path(out).write_bytes(b"PK half a zip")
        raise OSError("disk full")

    if stage == "formulas":
        monkeypatch.setattr(openpyxl.Workbook, "save", broken_save)
    else:  # LibreOffice's part is replaced too: this test runs without it
        monkeypatch.setattr(common, "recalculate", lambda paths, outdir: list(paths))
        monkeypatch.setattr(common, "store_values", broken_values)
    with pytest.raises(OSError, match="disk full"):
        gw.build(target, cached_values=stage == "values")
    assert target.read_bytes() == b"the committed workbook"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graddesc.xlsx"]


@pytest.mark.libreoffice
def test_libreoffice_matches_course_utils(built: Path, tmp_path: Path) -> None:
    if (why := common.libreoffice_missing()) is not None:
        pytest.skip(why)
    # a second copy with other data and other hyperparameters: the formulas must follow them
    changed = tmp_path / "changed.xlsx"
    wb = openpyxl.load_workbook(built)
    x2, y2 = gw.make_data(seed=123)
    for c, v in zip(named_cells(wb, "data_x") + named_cells(wb, "data_y"), [*x2, *y2], strict=True):
        c.value = float(v)
    overrides = {}
    for sheet in gw.SHEETS:
        cells = gw.hyper_cells(sheet)
        lr_key = "lr_max" if "lr_max" in cells else "lr"
        new = {lr_key: sheet.hyper[lr_key][1] * 0.5, "a0": -2.0, "b0": 4.0}
        for key, value in new.items():
            wb[sheet.name][cells[key]] = value
        overrides[sheet.name] = new
    wb.save(changed)

    original, modified = common.recalculate([built, changed], tmp_path / "out")
    x, y = gw.make_data()
    for path, xy, hyper in ((original, (x, y), {}), (modified, (x2, y2), overrides)):
        wv = openpyxl.load_workbook(path, data_only=True)
        for sheet in gw.SHEETS:
            got = read_trajectory(wv[sheet.name])  # raises if LibreOffice computed nothing
            want = gw.reference_trajectory(sheet, *xy, hyper=hyper.get(sheet.name))
            assert got.shape == want.shape == (gw.STEPS + 1, 2)
            np.testing.assert_allclose(
                got, want, rtol=TOL, atol=0, err_msg=f"{path.name} sheet {sheet.name!r}"
            )
        a, b, lowest = line_fit.least_squares(torch.tensor(xy[0]), torch.tensor(xy[1]))
        (ca,), (cb,), (cl,) = (named_cells(wv, n) for n in ("best_a", "best_b", "lowest_mse"))
        np.testing.assert_allclose([ca.value, cb.value, cl.value], [a, b, lowest], rtol=1e-9)
        assert common.value_problems(openpyxl.load_workbook(path), wv) == []


def test_libreoffice_missing_is_explained(monkeypatch) -> None:
    monkeypatch.setattr(common, "find_soffice", lambda: None)
    monkeypatch.delenv("COURSE_REQUIRE_LIBREOFFICE", raising=False)
    assert "apt-get install libreoffice-calc-nogui" in common.libreoffice_missing()
    monkeypatch.setenv("COURSE_REQUIRE_LIBREOFFICE", "1")
    with pytest.raises(common.LibreOfficeMissing, match="COURSE_REQUIRE_LIBREOFFICE"):
        common.libreoffice_missing()
    with pytest.raises(common.LibreOfficeMissing, match="install LibreOffice"):
        common.recalculate([Path("x.xlsx")], Path(os.devnull).parent)


def _printed_or_skip(path: Path, outdir: Path) -> list[str]:
    if (why := common.libreoffice_missing()) is not None:
        pytest.skip(why)
    try:
        return common.pdf_pages(path, outdir)
    except FileNotFoundError as e:  # pdftotext
        if os.environ.get("COURSE_REQUIRE_LIBREOFFICE", "") not in ("", "0"):
            raise
        pytest.skip(str(e))


@pytest.mark.libreoffice
def test_on_paper_the_first_page_holds_the_introduction(tmp_path: Path) -> None:
    """Printed (LibreOffice's PDF), the workbook runs to a few pages, not 147 (every sheet
    one page wide, the step tables cut after PRINTED_STEPS steps), and its first page holds the
    whole introduction, no line cut at the page's edge."""
    pages = _printed_or_skip(COMMITTED, tmp_path)
    assert len(pages) <= 2 + len(SHEET_NAMES) * 2, f"{len(pages)} pages"
    first = " ".join(pages[0].split())
    intro = openpyxl.load_workbook(COMMITTED)["intro"]
    for (text,) in intro.iter_rows(min_col=1, max_col=1, values_only=True):
        if text:
            assert " ".join(text.split()) in first, f"not on the first page: {text[:80]!r}"
