"""Build `excel/graddesc.xlsx`: gradient descent and five optimizers, one row per step.

The 2018 course's `graddesc.xlsm` fitted `y = a*x + b` one data point at a time and needed
VBA macros to run more than one epoch. This workbook has no macros: every step is a row of
live formulas (prediction, gradient, optimizer state, new `a` and `b`), and ten epochs over
the 30 data points are unrolled, so it opens the same in Excel, LibreOffice and Google
Sheets. Change a yellow cell and the whole sheet recomputes.

    python -m tools.workbooks graddesc.xlsx     # or: make workbooks

`reference_trajectory` runs `course_utils.optim` on the same data, one example per step;
`tests/test_graddesc_workbook.py` recalculates the workbook with LibreOffice and checks
that every sheet's `(a, b)` column pair equals it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from openpyxl import Workbook
from openpyxl.chart import Reference, ScatterChart, Series
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from course_utils import optim

__all__ = ["SHEETS", "build", "hyper_cells", "make_data", "read_trajectory", "reference_trajectory"]

N_ROWS = 30  # data points; one epoch = one pass over them, one row per data point
EPOCHS = 10
TRUE_A, TRUE_B, NOISE, SEED = 3.0, 8.0, 0.3, 6
A0, B0 = 1.0, 1.0  # the starting guess on every sheet

INPUT = PatternFill("solid", fgColor="FFF2CC")  # yellow: cells meant to be changed
HEADER = PatternFill("solid", fgColor="DDEBF7")
BOLD = Font(bold=True)


def make_data(n: int = N_ROWS, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """The `data` sheet: `x ~ U(0, 1)`, `y = 3x + 8 + N(0, 0.3²)`, rounded to 3 decimals.

    Rounded so that the numbers in the sheet are exactly the numbers the optimizers see.
    """
    rng = np.random.default_rng(seed)
    x = np.round(rng.random(n), 3)
    y = np.round(TRUE_A * x + TRUE_B + NOISE * rng.standard_normal(n), 3)
    return x, y


# --------------------------------------------------------------------------- sheet specs


@dataclass
class Sheet:
    """One optimizer sheet: its hyperparameters and its formula columns.

    `columns` are `(key, header, formula)`; a formula is a template in which `{key}` is
    this row's cell of that column, `{key_prev}` the row above (the previous step), and a
    hyperparameter's key its labelled cell at the top of the sheet.
    """

    name: str
    title: str
    rule: str
    hyper: dict[str, tuple[str, float]]  # key -> (label, value)
    columns: list[tuple[str, str, str]]
    state: list[str] = field(default_factory=list)  # columns that start at 0 in row "step 0"


PRED = [
    ("pred", "prediction a·x+b", "={a_prev}*{x}+{b_prev}"),
    ("err", "error² (pred−y)²", "=({pred}-{y})^2"),
]
GRAD = [
    ("ga", "dE/da = 2(pred−y)x", "=2*({pred}-{y})*{x}"),
    ("gb", "dE/db = 2(pred−y)", "=2*({pred}-{y})"),
]
GRAD_L2 = [
    ("ga", "g_a = 2(pred−y)x + wd·a", "=2*({pred}-{y})*{x}+{wd}*{a_prev}"),
    ("gb", "g_b = 2(pred−y) + wd·b", "=2*({pred}-{y})+{wd}*{b_prev}"),
]
ADAM_STATE = [
    ("ma", "m_a (avg of g_a)", "={beta1}*{ma_prev}+(1-{beta1})*{ga}"),
    ("mb", "m_b", "={beta1}*{mb_prev}+(1-{beta1})*{gb}"),
    ("va", "v_a (avg of g_a²)", "={beta2}*{va_prev}+(1-{beta2})*{ga}^2"),
    ("vb", "v_b", "={beta2}*{vb_prev}+(1-{beta2})*{gb}^2"),
    ("c1", "1−β1ᵗ (debias m)", "=1-{beta1}^{t}"),
    ("c2", "1−β2ᵗ (debias v)", "=1-{beta2}^{t}"),
]
ADAM_HYPER = {
    "beta1": ("β1 (average of gradients)", 0.9),
    "beta2": ("β2 (average of squared gradients)", 0.99),
    "eps": ("ε", 1e-8),
}


def _adam_update(lr: str, decay: str = "") -> list[tuple[str, str, str]]:
    """The new a, b columns of the Adam sheets; `lr` and `decay` are formula templates."""
    return [
        ("a", "new a", f"={{a_prev}}{decay}-{lr}*({{ma}}/{{c1}})/(SQRT({{va}}/{{c2}})+{{eps}})"),
        ("b", "new b", f"={{b_prev}}{decay}-{lr}*({{mb}}/{{c1}})/(SQRT({{vb}}/{{c2}})+{{eps}})"),
    ]


SHEETS: list[Sheet] = [
    Sheet(
        "basic SGD", "Basic SGD: one data point per step",
        "a ← a − lr·dE/da,  b ← b − lr·dE/db   (E = (a·x + b − y)², the error on this row's point)",
        {"lr": ("learning rate", 0.05), "h": ("h for finite differences", 0.01)},
        PRED + [
            ("err_b", "error² at b+h", "=({a_prev}*{x}+{b_prev}+{h}-{y})^2"),
            ("fd_b", "≈dE/db (finite diff.)", "=({err_b}-{err})/{h}"),
            ("err_a", "error² at a+h", "=(({a_prev}+{h})*{x}+{b_prev}-{y})^2"),
            ("fd_a", "≈dE/da (finite diff.)", "=({err_a}-{err})/{h}"),
        ] + GRAD + [
            ("a", "new a", "={a_prev}-{lr}*{ga}"),
            ("b", "new b", "={b_prev}-{lr}*{gb}"),
        ],
    ),
    Sheet(
        "momentum", "SGD with momentum (torch.optim.SGD(momentum=μ))",
        "v ← μ·v + g,  p ← p − lr·v   (v: a running sum of past gradients, starting at 0)",
        {"lr": ("learning rate", 0.02), "mu": ("momentum μ", 0.9)},
        PRED + GRAD + [
            ("va", "v_a", "={mu}*{va_prev}+{ga}"),
            ("vb", "v_b", "={mu}*{vb_prev}+{gb}"),
            ("a", "new a", "={a_prev}-{lr}*{va}"),
            ("b", "new b", "={b_prev}-{lr}*{vb}"),
        ],
        state=["va", "vb"],
    ),
    Sheet(
        "adagrad", "Adagrad",
        "s ← s + g²,  p ← p − lr·g / (√s + ε)   (s only grows, so every step is smaller)",
        {"lr": ("learning rate", 1.0), "eps": ("ε", 1e-10)},
        PRED + GRAD + [
            ("sa", "s_a (sum of g_a²)", "={sa_prev}+{ga}^2"),
            ("sb", "s_b", "={sb_prev}+{gb}^2"),
            ("a", "new a", "={a_prev}-{lr}*{ga}/(SQRT({sa})+{eps})"),
            ("b", "new b", "={b_prev}-{lr}*{gb}/(SQRT({sb})+{eps})"),
        ],
        state=["sa", "sb"],
    ),
    Sheet(
        "rmsprop", "RMSProp",
        "s ← α·s + (1−α)·g²,  p ← p − lr·g / (√s + ε)   (an average of g² that forgets)",
        {"lr": ("learning rate", 0.05), "alpha": ("α (average of squared gradients)", 0.9),
         "eps": ("ε", 1e-8)},
        PRED + GRAD + [
            ("sa", "s_a (avg of g_a²)", "={alpha}*{sa_prev}+(1-{alpha})*{ga}^2"),
            ("sb", "s_b", "={alpha}*{sb_prev}+(1-{alpha})*{gb}^2"),
            ("a", "new a", "={a_prev}-{lr}*{ga}/(SQRT({sa})+{eps})"),
            ("b", "new b", "={b_prev}-{lr}*{gb}/(SQRT({sb})+{eps})"),
        ],
        state=["sa", "sb"],
    ),
    Sheet(
        "adam", "Adam (with bias correction)",
        "m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²,  "
        "p ← p − lr·(m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε)",
        {"lr": ("learning rate", 0.2), **ADAM_HYPER,
         "wd": ("weight decay as L2 (added to g)", 0.0)},
        PRED + GRAD_L2 + ADAM_STATE + _adam_update("{lr}"),
        state=["ma", "mb", "va", "vb"],
    ),
    Sheet(
        "adamw", "AdamW (Adam with decoupled weight decay)",
        "p ← p·(1 − lr·wd), then Adam's step with the plain gradient g",
        {"lr": ("learning rate", 0.2), **ADAM_HYPER, "wd": ("weight decay (decoupled)", 0.01)},
        PRED + GRAD + ADAM_STATE + _adam_update("{lr}", decay="*(1-{lr}*{wd})"),
        state=["ma", "mb", "va", "vb"],
    ),
    Sheet(
        "annealing", "Adam with a cosine learning-rate schedule",
        "lrₜ = lr_min + (lr_max − lr_min)·(1 + cos(π·(t−1)/T))/2, then Adam's step with lrₜ",
        {"lr_max": ("learning rate at the start", 0.3), "lr_min": ("learning rate at the end", 0.003),
         **ADAM_HYPER, "T": ("total steps T (not an input)", float(N_ROWS * EPOCHS))},
        PRED + GRAD
        + [("lr", "lrₜ", "={lr_min}+({lr_max}-{lr_min})*(1+COS(PI()*({t}-1)/{T}))/2")]
        + ADAM_STATE + _adam_update("{lr}"),
        state=["ma", "mb", "va", "vb"],
    ),
]

FIXED = [("t", "step t"), ("epoch", "epoch"), ("x", "x"), ("y", "y")]
TOP = 4  # first hyperparameter row


# --------------------------------------------------------------------------- writing


def _write_data(ws: Worksheet, x: np.ndarray, y: np.ndarray) -> dict[str, str]:
    ws["A1"], ws["B1"] = "x", "y"
    for c in ("A1", "B1"):
        ws[c].font, ws[c].fill = BOLD, HEADER
    for i, (xi, yi) in enumerate(zip(x, y, strict=True), start=2):
        ws.cell(i, 1, float(xi))
        ws.cell(i, 2, float(yi))
    last = len(x) + 1
    refs = {"X": f"data!$A$2:$A${last}", "Y": f"data!$B$2:$B${last}", "N": str(len(x))}
    notes = [
        ("Generated by", "tools.workbooks.graddesc.make_data (fixed numbers, no RAND)"),
        ("x", "uniform between 0 and 1"),
        ("y", f"{TRUE_A:g}·x + {TRUE_B:g} + normal noise with standard deviation {NOISE:g}"),
        ("", ""),
        ("Least squares (formulas):", ""),
        ("best a", f"=SLOPE($B$2:$B${last},$A$2:$A${last})"),
        ("best b", f"=INTERCEPT($B$2:$B${last},$A$2:$A${last})"),
        ("lowest MSE", f"=SUMPRODUCT(($E$7*$A$2:$A${last}+$E$8-$B$2:$B${last})^2)/{len(x)}"),
    ]
    for r, (label, value) in enumerate(notes, start=2):
        ws.cell(r, 4, label or None).font = BOLD
        ws.cell(r, 5, value or None)
    for r in (7, 8, 9):
        ws.cell(r, 5).number_format = "0.0000"
    ws.column_dimensions["D"].width = 24
    ws.column_dimensions["E"].width = 14

    chart = ScatterChart()
    chart.title, chart.style = "The data: y = 3x + 8 + noise", 13
    chart.x_axis.title, chart.y_axis.title = "x", "y"
    chart.y_axis.scaling.min = 7
    chart.x_axis.scaling.min, chart.x_axis.scaling.max = 0, 1
    s = Series(Reference(ws, min_col=2, min_row=2, max_row=last),
               Reference(ws, min_col=1, min_row=2, max_row=last), title="data")
    s.marker.symbol, s.marker.size = "circle", 6
    s.marker.graphicalProperties.solidFill = "4472C4"
    s.graphicalProperties.line.noFill = True
    chart.series.append(s)
    for axis in (chart.x_axis, chart.y_axis):
        axis.delete = False  # openpyxl >= 3.1 hides axes unless told otherwise
    chart.legend = None
    ws.add_chart(chart, "G2")
    return refs


def _write_sheet(ws: Worksheet, sheet: Sheet, refs: dict[str, str]) -> None:
    ws["A1"] = sheet.title
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = sheet.rule
    ws["A2"].font = Font(italic=True)
    names = dict(refs)
    hyper = {**sheet.hyper, "a0": ("starting a", A0), "b0": ("starting b", B0)}
    for key, (label, value) in hyper.items():
        cell = ws[hyper_cells(sheet)[key]]
        r = cell.row
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=cell.column - 1)
        ws.cell(r, 1, label).alignment = Alignment(horizontal="right")
        cell.value = value
        if key != "T":
            cell.fill = INPUT
        cell.number_format = "0.00E+00" if value and abs(value) < 1e-4 else "General"
        names[key] = cell.coordinate.replace(cell.column_letter, f"${cell.column_letter}$")

    head = TOP + len(hyper) + 1  # header row of the step table
    ws.cell(head - 1, 1, f"One row per step. Step t uses data row ((t − 1) mod {N_ROWS}) + 1 and "
            "the a, b of the row above; 'MSE' is the loss on all 30 points after the step.")
    ws.cell(head - 1, 1).font = Font(italic=True, color="555555")
    cols = FIXED + [(k, h) for k, h, _ in sheet.columns] + [("mse", "MSE (all data)")]
    letter = {key: get_column_letter(j) for j, (key, _) in enumerate(cols, start=1)}
    formulas = {k: f for k, _, f in sheet.columns}
    formulas["mse"] = "=SUMPRODUCT(({a}*{X}+{b}-{Y})^2)/{N}"
    for j, (_, header) in enumerate(cols, start=1):
        c = ws.cell(head, j, header)
        c.font, c.fill = BOLD, HEADER
        c.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(j)].width = 13
    ws.row_dimensions[head].height = 45
    ws.freeze_panes = ws.cell(head + 1, 1)

    # step 0: the starting point and zero optimizer state
    r0 = head + 1
    ws.cell(r0, 1, 0)
    ws.cell(r0, col_index(letter["a"]), f"={names['a0']}")
    ws.cell(r0, col_index(letter["b"]), f"={names['b0']}")
    for key in sheet.state:
        ws.cell(r0, col_index(letter[key]), 0)
    for t in range(1, N_ROWS * EPOCHS + 1):
        r = r0 + t
        data_row = (t - 1) % N_ROWS + 2
        ws.cell(r, 1, t)
        ws.cell(r, 2, (t - 1) // N_ROWS + 1)
        ws.cell(r, 3, f"=data!A{data_row}")
        ws.cell(r, 4, f"=data!B{data_row}")
        rows = {**names}
        for key, col in letter.items():
            rows[key] = f"{col}{r}"
            rows[f"{key}_prev"] = f"{col}{r - 1}"
        for key, _, _ in sheet.columns:
            ws[f"{letter[key]}{r}"] = formulas[key].format(**rows)
    for r in range(r0, r0 + N_ROWS * EPOCHS + 1):
        rows = {**names, "a": f"{letter['a']}{r}", "b": f"{letter['b']}{r}"}
        ws[f"{letter['mse']}{r}"] = formulas["mse"].format(**rows)
        for col in list(letter.values())[2:]:
            ws[f"{col}{r}"].number_format = "0.0000"
    for key in ("a", "b"):
        for r in range(r0, r0 + N_ROWS * EPOCHS + 1):
            ws[f"{letter[key]}{r}"].font = BOLD

    last = r0 + N_ROWS * EPOCHS
    anchor = get_column_letter(len(cols) + 2)
    steps = Reference(ws, min_col=1, min_row=r0, max_row=last)
    mse = _line_chart("Error falling: MSE on all the data after each step (log scale)", "MSE")
    mse.y_axis.scaling.logBase = 10
    mse.legend = None
    _add_line(mse, ws, steps, col_index(letter["mse"]), head, last, "C00000")
    ws.add_chart(mse, f"{anchor}{TOP}")
    ab = _line_chart("a and b after each step (they should approach 3 and 8)", "value")
    for key, color in (("a", "1F77B4"), ("b", "FF7F0E")):
        _add_line(ab, ws, steps, col_index(letter[key]), head, last, color)
    ws.add_chart(ab, f"{anchor}{TOP + 17}")


def _line_chart(title: str, y_title: str) -> ScatterChart:
    """A chart of columns against the step number (a scatter chart, so the x axis is numeric)."""
    chart = ScatterChart()
    chart.title, chart.style = title, 13
    chart.x_axis.title, chart.y_axis.title = "step (one epoch = 30 steps)", y_title
    chart.x_axis.scaling.min, chart.x_axis.scaling.max = 0, N_ROWS * EPOCHS
    chart.x_axis.majorUnit = N_ROWS
    for axis in (chart.x_axis, chart.y_axis):
        axis.number_format = "General"
        axis.delete = False  # openpyxl >= 3.1 hides axes unless told otherwise
    chart.legend.position = "b"
    chart.width, chart.height = 18, 8
    return chart


def _add_line(chart: ScatterChart, ws: Worksheet, steps: Reference, col: int, head: int,
              last: int, color: str) -> None:
    s = Series(Reference(ws, min_col=col, min_row=head + 1, max_row=last), steps,
               title=ws.cell(head, col).value)
    s.marker.symbol, s.smooth = "none", False
    s.graphicalProperties.line.solidFill = color
    s.graphicalProperties.line.width = 20000  # EMU, about 1.5 pt
    chart.series.append(s)


def hyper_cells(sheet: Sheet) -> dict[str, str]:
    """Where each hyperparameter of `sheet` lives, e.g. `{"lr": "D4", ..., "a0": "D8"}`."""
    keys = [*sheet.hyper, "a0", "b0"]
    return {key: f"D{TOP + i}" for i, key in enumerate(keys)}  # labels in A:C


def col_index(letter: str) -> int:
    from openpyxl.utils import column_index_from_string

    return column_index_from_string(letter)


INTRO = [
    ("Gradient descent, one formula per cell", "title"),
    ("Fitting y = a·x + b to 30 points, one point per step, with six optimizers. Companion to "
     "notebooks/lesson6-sgd.ipynb; the optimizers are course_utils/optim.py.", ""),
    ("", ""),
    ("How to read a sheet", "head"),
    ("Yellow cells at the top are the inputs: hyperparameters and the starting a, b. Change one "
     "and every row below recomputes.", ""),
    ("Each row below is one step: take the next data point (x, y), predict a·x + b with the a and "
     "b of the row above, compute the gradient of the squared error, update the optimizer's "
     "state, and write the new a and b (bold).", ""),
    (f"The {N_ROWS} data points are used in order, {EPOCHS} times over (10 epochs = "
     f"{N_ROWS * EPOCHS} rows): the old workbook needed a macro to do this.", ""),
    ("The last column is the mean squared error over all the data after the step; the charts "
     "plot it (log scale) and a, b.", ""),
    ("", ""),
    ("Sheets", "head"),
    ("data: the 30 (x, y) points, fixed numbers, and the least-squares answer computed with "
     "SLOPE / INTERCEPT.", ""),
    ("basic SGD: plain gradient descent; finite-difference estimates of the derivatives sit "
     "next to the exact (analytic) ones. Notebook section 3.", ""),
    ("momentum: SGD with momentum, as torch.optim.SGD(momentum=0.9) does it. Notebook section 5.",
     ""),
    ("adagrad: steps divided by the root of the sum of all past squared gradients.", ""),
    ("rmsprop: the same with an exponentially weighted average instead of a sum.", ""),
    ("adam: momentum and RMSProp together, with bias correction for the first steps "
     "(columns 1−β1ᵗ and 1−β2ᵗ).", ""),
    ("adamw: Adam with decoupled weight decay: the weights shrink by lr·wd each step, outside "
     "the adaptive scaling. Compare with weight decay as L2 on the adam sheet. Notebook "
     "section 7.", ""),
    ("annealing: Adam whose learning rate follows a cosine from lr_max down to lr_min; it ends "
     "closer to the least-squares answer than constant-rate Adam.", ""),
    ("", ""),
    ("Checked", "head"),
    ("tests/test_graddesc_workbook.py recalculates this workbook with LibreOffice and checks "
     "that every sheet's a, b match course_utils.optim (the same rules as torch.optim) "
     "step for step. Rebuild it with: python -m tools.workbooks graddesc.xlsx", ""),
]


def build(path: Path) -> Path:
    """Write the workbook to `path` (formulas only; the spreadsheet program computes them)."""
    path = Path(path)
    wb = Workbook()
    intro = wb.active
    intro.title = "intro"
    for r, (text, kind) in enumerate(INTRO, start=1):
        c = intro.cell(r, 1, text)
        if kind == "title":
            c.font = Font(bold=True, size=14)
        elif kind == "head":
            c.font = BOLD
        c.alignment = Alignment(wrap_text=True, vertical="top")
    intro.column_dimensions["A"].width = 110

    refs = _write_data(wb.create_sheet("data"), *make_data())
    for sheet in SHEETS:
        _write_sheet(wb.create_sheet(sheet.name), sheet, refs)
    wb.calculation.fullCalcOnLoad = True  # no cached values: ask the program to compute
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


# --------------------------------------------------------------------------- checking


def read_trajectory(ws: Worksheet) -> np.ndarray:
    """The `(a, b)` after each step, shape `(steps + 1, 2)` (row 0: the start), from a sheet
    whose formulas have been computed (open with `openpyxl.load_workbook(data_only=True)`)."""
    for row in ws.iter_rows(min_col=1, max_col=1):
        if row[0].value == "step t":
            head = row[0].row
            break
    else:
        raise ValueError(f"Sheet {ws.title!r} has no step table (no 'step t' header).")
    headers = [c.value for c in ws[head]]
    ca, cb = headers.index("new a") + 1, headers.index("new b") + 1
    values = [(ws.cell(r, ca).value, ws.cell(r, cb).value)
              for r in range(head + 1, head + 2 + N_ROWS * EPOCHS)]
    if any(not isinstance(v, int | float) for pair in values for v in pair):
        raise ValueError(f"Sheet {ws.title!r} has no computed values for a, b: recalculate it.")
    return np.array(values, dtype=np.float64)


def reference_trajectory(sheet: Sheet | str, x: Sequence[float], y: Sequence[float],
                         hyper: dict[str, float] | None = None,
                         epochs: int = EPOCHS) -> np.ndarray:
    """Run the sheet's optimizer from `course_utils.optim` on the same data, one example per
    step, in float64; return the `(a, b)` after each step, shape `(steps + 1, 2)`.

    `hyper` overrides the sheet's hyperparameters (keys as in `hyper_cells`, e.g. `lr`, `a0`).
    """
    if isinstance(sheet, str):
        sheet = next(s for s in SHEETS if s.name == sheet)
    h = {k: v for k, (_, v) in sheet.hyper.items()} | {"a0": A0, "b0": B0} | (hyper or {})
    a = torch.tensor(h["a0"], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(h["b0"], dtype=torch.float64, requires_grad=True)
    params = [a, b]
    betas = (h.get("beta1"), h.get("beta2"))
    opt = {
        "basic SGD": lambda: optim.SGD(params, lr=h["lr"]),
        "momentum": lambda: optim.SGD(params, lr=h["lr"], momentum=h["mu"]),
        "adagrad": lambda: optim.Adagrad(params, lr=h["lr"], eps=h["eps"]),
        "rmsprop": lambda: optim.RMSProp(params, lr=h["lr"], alpha=h["alpha"], eps=h["eps"]),
        "adam": lambda: optim.Adam(params, lr=h["lr"], betas=betas, eps=h["eps"],
                                   weight_decay=h["wd"]),
        "adamw": lambda: optim.AdamW(params, lr=h["lr"], betas=betas, eps=h["eps"],
                                     weight_decay=h["wd"]),
        "annealing": lambda: optim.Adam(params, lr=h["lr_max"], betas=betas, eps=h["eps"]),
    }[sheet.name]()
    sched = None
    if sheet.name == "annealing":  # any torch scheduler drives our optimizers
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=int(h["T"]),
                                                           eta_min=h["lr_min"])
    xs = torch.tensor(np.asarray(x), dtype=torch.float64)
    ys = torch.tensor(np.asarray(y), dtype=torch.float64)
    out = [(h["a0"], h["b0"])]
    for _ in range(epochs):
        for xi, yi in zip(xs, ys, strict=True):
            loss = (a * xi + b - yi) ** 2
            opt.zero_grad()
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            out.append((a.item(), b.item()))
    return np.array(out)
