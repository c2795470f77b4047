"""Build `excel/graddesc.xlsx`: gradient descent and six optimizers, one row per step.

The 2018 course's `graddesc.xlsm` needed VBA macros to run more than one pass over its data.
This workbook has no macros: every step is a row of live formulas (the gradient over all 30
points, the optimizer's state, the new `a` and `b`, the loss), 300 steps per sheet, so it
opens the same in Excel, LibreOffice and Google Sheets. Change a yellow cell and the whole
sheet recomputes.

The problem is `course_utils.line_fit.line_data` with `x` spread over [0, 5] (the notebook's
explorer offers the same problem): the gradient for the slope `a` is several times the one
for the intercept `b`, so plain gradient descent must take small steps for `a`'s sake while
`b` crawls, which is what momentum and the adaptive methods fix. Each sheet's learning rate
is the best of `LR_GRID` for its method (`tune`), and the `compare` sheet puts them side by
side.

    python -m tools.workbooks graddesc.xlsx     # or: make workbooks

`reference_trajectory` runs the same optimizer from `course_utils.line_fit.make_optimizer` with
`course_utils.line_fit.run_path`; `tests/test_graddesc_workbook.py` recalculates the workbook in
LibreOffice and checks every sheet against it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from openpyxl import Workbook
from openpyxl.chart import Reference, ScatterChart, Series
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from course_utils import line_fit
from tools.workbooks.common import (
    BOLD,
    FILLS,
    TITLE,
    about_sheet,
    legend,
    print_setup,
    save,
    set_name,
    text_block,
    text_sheet,
)

__all__ = [
    "LR_GRID",
    "SHEETS",
    "STEPS",
    "build",
    "hyper_cells",
    "make_data",
    "reference_trajectory",
    "steps_to_target",
    "tune",
]

N_ROWS = 30  # data points
STEPS = 300  # optimizer steps per sheet, each on all the data (full batch)
X_SCALE = 5.0  # x ~ U(0, X_SCALE): the slope's gradient dwarfs the intercept's
SEED = 42  # line_data's default seed
A0, B0 = 1.0, 1.0  # the starting guess on every sheet
WITHIN = 0.10  # "reached": MSE within 10% of the least-squares MSE
LR_GRID = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
TABLE_WIDTH = 11  # column width of the step tables
PRINTED_STEPS = 60  # on paper each sheet's table stops here (its charts show every step)


def make_data(n: int = N_ROWS, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """The `data` sheet: `line_fit.line_data(n, scale=5)` (`y = 3x + 8 + noise`, x in [0, 5]),
    rounded to 3 decimals so that the sheet's numbers are exactly what the optimizers see."""
    x, y = line_fit.line_data(n, scale=X_SCALE, seed=seed)
    return np.round(x.double().numpy(), 3), np.round(y.double().numpy(), 3)


# --------------------------------------------------------------------------- sheet specs


@dataclass
class Sheet:
    """One optimizer sheet: its hyperparameters and its formula columns.

    `columns` are `(key, header, formula)`; a formula is a template in which `{key}` is this
    row's cell of that column, `{key_prev}` the row above (the previous step), `{X}`, `{Y}`,
    `{N}` the data, and a hyperparameter's key its yellow cell. `optimizer` is the name of
    the optimizer in `course_utils.line_fit.make_optimizer`, `args` maps its keyword arguments
    to hyperparameter keys.
    """

    name: str
    key: str  # prefix of the sheet's defined names
    title: str
    rule: str
    hyper: dict[str, tuple[str, float]]  # key -> (label, value)
    columns: list[tuple[str, str, str]]
    optimizer: str
    args: dict[str, str]
    state: list[str] = field(default_factory=list)  # columns that start at 0 in row "step 0"
    note: str = ""


RESID = "({a_prev}*{X}+{b_prev}-{Y})"  # the residuals of all 30 points at the previous (a, b)
GRAD = [
    ("ga", "g_a = dL/da", "=2*SUMPRODUCT(" + RESID + "*{X})/{N}"),
    ("gb", "g_b = dL/db", "=2*SUMPRODUCT(" + RESID + ")/{N}"),
]
GRAD_L2 = [
    ("ga", "g_a = dL/da + wd·a", "=2*SUMPRODUCT(" + RESID + "*{X})/{N}+{wd}*{a_prev}"),
    ("gb", "g_b = dL/db + wd·b", "=2*SUMPRODUCT(" + RESID + ")/{N}+{wd}*{b_prev}"),
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
ADAM_ARGS = {"beta1": "beta1", "beta2": "beta2", "eps": "eps"}


def _adam_update(lr: str, decay: str = "") -> list[tuple[str, str, str]]:
    """The new a, b columns of the Adam sheets; `lr` and `decay` are formula templates."""
    return [
        ("a", "new a", f"={{a_prev}}{decay}-{lr}*({{ma}}/{{c1}})/(SQRT({{va}}/{{c2}})+{{eps}})"),
        ("b", "new b", f"={{b_prev}}{decay}-{lr}*({{mb}}/{{c1}})/(SQRT({{vb}}/{{c2}})+{{eps}})"),
    ]


SHEETS: list[Sheet] = [
    Sheet(
        "basic SGD",
        "sgd",
        "Basic gradient descent",
        "a ← a − lr·dL/da,  b ← b − lr·dL/db   (L: the mean squared error over all 30 points)",
        {"lr": ("learning rate", 0.05), "h": ("h for finite differences", 0.001)},
        [
            ("mse_a", "L at (a+h, b)", "=SUMPRODUCT((({a_prev}+{h})*{X}+{b_prev}-{Y})^2)/{N}"),
            ("fd_a", "≈dL/da (finite diff.)", "=({mse_a}-{mse_prev})/{h}"),
            ("mse_b", "L at (a, b+h)", "=SUMPRODUCT(({a_prev}*{X}+{b_prev}+{h}-{Y})^2)/{N}"),
            ("fd_b", "≈dL/db (finite diff.)", "=({mse_b}-{mse_prev})/{h}"),
            *GRAD,
            ("a", "new a", "={a_prev}-{lr}*{ga}"),
            ("b", "new b", "={b_prev}-{lr}*{gb}"),
        ],
        "SGD",
        {},
        note="A larger learning rate does not help: with 0.1, a overshoots and zig-zags and "
        "the MSE is still far from the lowest after 300 steps; with 0.2 it blows up. The "
        "slope's gradient is the large one, and it sets the limit for both parameters.",
    ),
    Sheet(
        "momentum",
        "momentum",
        "Gradient descent with momentum (torch.optim.SGD(momentum=μ))",
        "v ← μ·v + g,  p ← p − lr·v   (v: a running sum of past gradients, starting at 0)",
        {"lr": ("learning rate", 0.01), "mu": ("momentum μ", 0.9)},
        GRAD
        + [
            ("va", "v_a", "={mu}*{va_prev}+{ga}"),
            ("vb", "v_b", "={mu}*{vb_prev}+{gb}"),
            ("a", "new a", "={a_prev}-{lr}*{va}"),
            ("b", "new b", "={b_prev}-{lr}*{vb}"),
        ],
        "momentum",
        {"beta1": "mu"},
        state=["va", "vb"],
    ),
    Sheet(
        "adagrad",
        "adagrad",
        "Adagrad",
        "s ← s + g²,  p ← p − lr·g / (√s + ε)   (s only grows, so every step is smaller)",
        {"lr": ("learning rate", 5.0), "eps": ("ε", 1e-10)},
        GRAD
        + [
            ("sa", "s_a (sum of g_a²)", "={sa_prev}+{ga}^2"),
            ("sb", "s_b", "={sb_prev}+{gb}^2"),
            ("a", "new a", "={a_prev}-{lr}*{ga}/(SQRT({sa})+{eps})"),
            ("b", "new b", "={b_prev}-{lr}*{gb}/(SQRT({sb})+{eps})"),
        ],
        "Adagrad",
        {"eps": "eps"},
        state=["sa", "sb"],
    ),
    Sheet(
        "rmsprop",
        "rmsprop",
        "RMSProp",
        "s ← α·s + (1−α)·g²,  p ← p − lr·g / (√s + ε)   (an average of g² that forgets)",
        {
            "lr": ("learning rate", 0.5),
            "alpha": ("α (average of squared gradients)", 0.99),
            "eps": ("ε", 1e-8),
        },
        GRAD
        + [
            ("sa", "s_a (avg of g_a²)", "={alpha}*{sa_prev}+(1-{alpha})*{ga}^2"),
            ("sb", "s_b", "={alpha}*{sb_prev}+(1-{alpha})*{gb}^2"),
            ("a", "new a", "={a_prev}-{lr}*{ga}/(SQRT({sa})+{eps})"),
            ("b", "new b", "={b_prev}-{lr}*{gb}/(SQRT({sb})+{eps})"),
        ],
        "RMSProp",
        {"beta2": "alpha", "eps": "eps"},
        state=["sa", "sb"],
        note="Near the minimum the gradients are tiny, but so is √s: the steps stay about lr "
        "in size, and RMSProp jumps away now and then (the spikes in its MSE) before "
        "settling again.",
    ),
    Sheet(
        "adam",
        "adam",
        "Adam (with bias correction)",
        "m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²,  p ← p − lr·(m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε)",
        {
            "lr": ("learning rate", 1.0),
            **ADAM_HYPER,
            "wd": ("weight decay as L2 (added to g)", 0.0),
        },
        GRAD_L2 + ADAM_STATE + _adam_update("{lr}"),
        "Adam",
        {**ADAM_ARGS, "l2": "wd"},
        state=["ma", "mb", "va", "vb"],
    ),
    Sheet(
        "adamw",
        "adamw",
        "AdamW (Adam with decoupled weight decay)",
        "p ← p·(1 − lr·wd), then Adam's step with the plain gradient g",
        {"lr": ("learning rate", 5.0), **ADAM_HYPER, "wd": ("weight decay (decoupled)", 0.001)},
        GRAD + ADAM_STATE + _adam_update("{lr}", decay="*(1-{lr}*{wd})"),
        "AdamW",
        {**ADAM_ARGS, "weight_decay": "wd"},
        state=["ma", "mb", "va", "vb"],
        note="Weight decay pulls a and b towards 0, away from the least-squares line: with "
        "wd = 0.01 AdamW needs several times as many steps to get within 10% of the "
        "lowest MSE, and ends further from it (try it).",
    ),
    Sheet(
        "annealing",
        "annealing",
        "Adam with a cosine learning-rate schedule",
        "lrₜ = lr_min + (lr_max − lr_min)·(1 + cos(π·(t−1)/T))/2, then Adam's step with lrₜ",
        {
            "lr_max": ("learning rate at the start", 1.0),
            "lr_min": ("learning rate at the end", 0.01),
            **ADAM_HYPER,
            "T": ("total steps T (not an input)", float(STEPS)),
        },
        GRAD
        + [("lr", "lrₜ", "={lr_min}+({lr_max}-{lr_min})*(1+COS(PI()*({t}-1)/{T}))/2")]
        + ADAM_STATE
        + _adam_update("{lr}"),
        "Adam",
        {**ADAM_ARGS, "lr": "lr_max"},
        state=["ma", "mb", "va", "vb"],
    ),
]
BY_NAME = {s.name: s for s in SHEETS}

SUMMARY = [
    "steps to within 10% of the lowest MSE",
    "final a",
    "final b",
    "final MSE",
    "final MSE ÷ lowest",
]
LEGEND = [
    ("input", "input: change it"),
    ("result", "result"),
    ("header", "column header"),
    ("bold", "new a, b"),
]
TOP = 8  # first hyperparameter row
CHART_ROWS = 15  # rows the charts take, from row 5


def hyper_cells(sheet: Sheet) -> dict[str, str]:
    """Where each hyperparameter of `sheet` lives, e.g. `{"lr": "D8", ..., "a0": "D10"}`."""
    keys = [*sheet.hyper, "a0", "b0"]
    return {key: f"D{TOP + i}" for i, key in enumerate(keys)}  # labels in A:C


def _layout(sheet: Sheet) -> tuple[int, dict[str, str]]:
    """The header row of the step table and the column letter of each key."""
    head = max(TOP + len(sheet.hyper) + 2, 5 + CHART_ROWS) + 2
    cols = ["t", *(k for k, _, _ in sheet.columns), "mse", "hit"]
    return head, {key: get_column_letter(j) for j, key in enumerate(cols, start=1)}


# --------------------------------------------------------------------------- writing


def _write_data(wb: Workbook, ws: Worksheet, x: np.ndarray, y: np.ndarray) -> dict[str, str]:
    ws["A1"], ws["B1"] = "x", "y"
    for c in ("A1", "B1"):
        ws[c].font, ws[c].fill = BOLD, FILLS["header"]
    for i, (xi, yi) in enumerate(zip(x, y, strict=True), start=2):
        ws.cell(i, 1, float(xi)).fill = FILLS["input"]
        ws.cell(i, 2, float(yi)).fill = FILLS["input"]
    last = len(x) + 1
    set_name(wb, "data_x", ws, f"A2:A{last}")
    set_name(wb, "data_y", ws, f"B2:B{last}")
    refs = {"X": f"data!$A$2:$A${last}", "Y": f"data!$B$2:$B${last}", "N": str(len(x))}
    ws.column_dimensions["D"].width = 30
    ws.column_dimensions["E"].width = 34
    notes = [
        ("The data", "30 points, fixed numbers"),
        ("x", f"uniform between 0 and {X_SCALE:g}"),
        ("y", "3·x + 8 + noise (sd 0.3)"),
        ("", "(both rounded to 3 decimals)"),
        ("Least squares (formulas):", ""),
        ("best a", f"=SLOPE($B$2:$B${last},$A$2:$A${last})"),
        ("best b", f"=INTERCEPT($B$2:$B${last},$A$2:$A${last})"),
        ("lowest MSE", f"=SUMPRODUCT(($E$7*$A$2:$A${last}+$E$8-$B$2:$B${last})^2)/{len(x)}"),
        ("target: within 10% of it", f"=(1+{WITHIN})*$E$9"),
    ]
    for r, (label, value) in enumerate(notes, start=2):
        ws.cell(r, 4, label or None).font = BOLD
        ws.cell(r, 5, value or None)
    for r, name in ((7, "best_a"), (8, "best_b"), (9, "lowest_mse"), (10, "target_mse")):
        ws.cell(r, 5).number_format = "0.0000"
        ws.cell(r, 5).fill = FILLS["result"]
        set_name(wb, name, ws, f"E{r}")
    legend(ws, 12, [("input", "data (change it)"), ("result", "result")], col=4, span=1)

    chart = ScatterChart()
    chart.title, chart.style = "y = 3x + 8 + noise", 13
    chart.x_axis.title, chart.y_axis.title = "x", "y"
    chart.x_axis.scaling.min, chart.x_axis.scaling.max = 0, X_SCALE
    s = Series(
        Reference(ws, min_col=2, min_row=2, max_row=last),
        Reference(ws, min_col=1, min_row=2, max_row=last),
        title="data",
    )
    s.marker.symbol, s.marker.size = "circle", 6
    s.marker.graphicalProperties.solidFill = "4472C4"
    s.graphicalProperties.line.noFill = True
    chart.series.append(s)
    for axis in (chart.x_axis, chart.y_axis):
        axis.delete = False  # openpyxl >= 3.1 hides axes unless told otherwise
    chart.legend = None
    chart.width, chart.height = 14, 8
    ws.add_chart(chart, "D14")
    refs["target"] = "data!$E$10"
    return refs


def _write_sheet(wb: Workbook, ws: Worksheet, sheet: Sheet, refs: dict[str, str]) -> None:
    ws["A1"] = sheet.title
    ws["A1"].font = TITLE
    ws["A2"] = sheet.rule
    ws["A2"].font = Font(italic=True)
    legend(ws, 3, LEGEND, span=2)
    head, letter = _layout(sheet)
    first, last = head + 2, head + 1 + STEPS  # rows of steps 1 and STEPS
    for j in range(1, len(letter) + 1):
        ws.column_dimensions[get_column_letter(j)].width = TABLE_WIDTH

    # the summary row: the same numbers as the compare sheet
    key = sheet.key
    hit = f"${letter['hit']}${first}:${letter['hit']}${last}"
    summary = [
        f'=IFERROR(MATCH(1,{hit},0),"not in {STEPS} steps")',
        f"=${letter['a']}${last}",
        f"=${letter['b']}${last}",
        f"=${letter['mse']}${last}",
        f"=${letter['mse']}${last}/lowest_mse",
    ]
    for j, (label, formula) in enumerate(zip(SUMMARY, summary, strict=True), start=1):
        c = ws.cell(5, j, label)
        c.font, c.fill = BOLD, FILLS["header"]
        c.alignment = Alignment(wrap_text=True, vertical="top")
        c = ws.cell(6, j, formula)
        c.fill, c.font = FILLS["result"], BOLD
        c.number_format = "0.0000" if j > 1 else "General"
    ws.row_dimensions[5].height = 60
    for j, name in enumerate(
        ["steps_to_target", "final_a", "final_b", "final_mse", "final_ratio"], start=1
    ):
        set_name(wb, f"{key}_{name}", ws, f"{get_column_letter(j)}6")

    names = dict(refs)
    hyper = {**sheet.hyper, "a0": ("starting a", A0), "b0": ("starting b", B0)}
    for hkey, (label, value) in hyper.items():
        cell = ws[hyper_cells(sheet)[hkey]]
        r = cell.row
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=cell.column - 1)
        ws.cell(r, 1, label).alignment = Alignment(horizontal="right")
        cell.value = value
        if hkey != "T":
            cell.fill = FILLS["input"]
        cell.number_format = "0.00E+00" if value and abs(value) < 1e-4 else "General"
        names[hkey] = cell.coordinate.replace(cell.column_letter, f"${cell.column_letter}$")
        set_name(wb, f"{key}_{hkey}", ws, cell.coordinate)
    note_row = TOP + len(hyper) + 1
    if sheet.note:
        text_block(ws, note_row, [(sheet.note, "note")], width_cols=4)

    ws.cell(
        head - 1,
        1,
        f"One row per step: the gradient over all {N_ROWS} points at the a, b "
        "of the row above, then the new a, b and the loss L (MSE) there.",
    ).font = Font(italic=True, color="555555")
    headers = {
        "t": "step t",
        **{k: h for k, h, _ in sheet.columns},
        "mse": "L = MSE (all data)",
        "hit": "within 10% of lowest? (1 = yes)",
    }
    for hkey, col in letter.items():
        c = ws[f"{col}{head}"]
        c.value, c.font, c.fill = headers[hkey], BOLD, FILLS["header"]
        c.alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[head].height = 62
    formulas = {k: f for k, _, f in sheet.columns}
    formulas["mse"] = "=SUMPRODUCT(({a}*{X}+{b}-{Y})^2)/{N}"
    formulas["hit"] = "=IF({mse}<={target},1,0)"

    # step 0: the starting point and zero optimizer state
    r0 = head + 1
    ws[f"A{r0}"] = 0
    ws[f"{letter['a']}{r0}"] = f"={names['a0']}"
    ws[f"{letter['b']}{r0}"] = f"={names['b0']}"
    for skey in sheet.state:
        ws[f"{letter[skey]}{r0}"] = 0
    ws[f"{letter['mse']}{r0}"] = formulas["mse"].format(
        **names, a=f"{letter['a']}{r0}", b=f"{letter['b']}{r0}"
    )
    for t in range(1, STEPS + 1):
        r = r0 + t
        ws[f"A{r}"] = t
        cells = {**names}
        for ckey, col in letter.items():
            cells[ckey], cells[f"{ckey}_prev"] = f"{col}{r}", f"{col}{r - 1}"
        for ckey in [*formulas]:
            if ckey in letter:
                ws[f"{letter[ckey]}{r}"] = formulas[ckey].format(**cells)
    for r in range(r0, last + 1):
        for ckey, col in letter.items():
            if ckey not in ("t", "hit"):
                ws[f"{col}{r}"].number_format = "0.0000"
        ws[f"{letter['a']}{r}"].font = ws[f"{letter['b']}{r}"].font = BOLD
    for ckey in ("a", "b", "mse"):
        set_name(wb, f"{key}_{ckey}", ws, f"{letter[ckey]}{r0}:{letter[ckey]}{last}")

    steps = Reference(ws, min_col=1, min_row=r0, max_row=last)
    mse = _line_chart("MSE (log scale)", "MSE")
    mse.y_axis.scaling.logBase = 10
    mse.legend = None
    _add_line(mse, ws, steps, letter["mse"], r0, last, "C00000", "MSE")
    ws.add_chart(mse, "F5")
    ab = _line_chart("a and b", "value")
    for ckey, color in (("a", "1F77B4"), ("b", "FF7F0E")):
        _add_line(ab, ws, steps, letter[ckey], r0, last, color, ckey)
    ws.add_chart(ab, "K5")


def _line_chart(title: str, y_title: str, width: float = 10.5) -> ScatterChart:
    """A chart of columns against the step number (a scatter chart, so the x axis is numeric)."""
    chart = ScatterChart()
    chart.title, chart.style = title, 13
    chart.x_axis.title, chart.y_axis.title = "step", y_title
    chart.x_axis.scaling.min, chart.x_axis.scaling.max = 0, STEPS
    chart.x_axis.majorUnit = 50
    for axis in (chart.x_axis, chart.y_axis):
        axis.number_format = "General"
        axis.delete = False  # openpyxl >= 3.1 hides axes unless told otherwise
    chart.legend.position = "b"
    chart.width, chart.height = width, 9
    return chart


def _add_line(
    chart: ScatterChart,
    ws: Worksheet,
    steps: Reference,
    col: str,
    first: int,
    last: int,
    color: str,
    title: str,
) -> None:
    c = ws[f"{col}{first}"].column
    s = Series(Reference(ws, min_col=c, min_row=first, max_row=last), steps, title=title)
    s.marker.symbol, s.smooth = "none", False
    s.graphicalProperties.line.solidFill = color
    s.graphicalProperties.line.width = 20000  # EMU, about 1.5 pt
    chart.series.append(s)


COLORS = ["7F7F7F", "1F77B4", "2CA02C", "9467BD", "D62728", "FF7F0E", "8C564B"]


def _write_compare(wb: Workbook, ws: Worksheet) -> None:
    ws["A1"] = "All the optimizers on the same problem"
    ws["A1"].font = TITLE
    widths = [30, 13, 18, 11, 11, 11, 13]
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = w
    text_block(
        ws,
        2,
        [
            (
                f"Each sheet starts from a = b = 1 and takes {STEPS} steps on the same {N_ROWS} points; "
                "its learning rate is the best of the grid "
                + ", ".join(f"{v:g}" for v in LR_GRID)
                + " for that method (the fewest steps to get within 10% of the lowest MSE and still be "
                "there at the end). The numbers below are formulas: change a yellow cell on a sheet and "
                "they follow.",
                "",
            )
        ],
        width_cols=len(widths),
    )
    legend(ws, 3, [("input", "input (on each sheet)"), ("result", "result")], span=2)
    heads = ["method (sheet)", "learning rate", *SUMMARY]
    heads[2] = "steps to within 10% of lowest MSE"
    for j, h in enumerate(heads, start=1):
        c = ws.cell(5, j, h)
        c.font, c.fill = BOLD, FILLS["header"]
        c.alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[5].height = 48
    for i, sheet in enumerate(SHEETS):
        r = 6 + i
        ws.cell(r, 1, sheet.name).font = BOLD
        lr = "lr_max" if "lr_max" in sheet.hyper else "lr"
        ws.cell(r, 2, f"={sheet.key}_{lr}").fill = FILLS["input"]
        for j, name in enumerate(
            ["steps_to_target", "final_a", "final_b", "final_mse", "final_ratio"], start=3
        ):
            c = ws.cell(r, j, f"={sheet.key}_{name}")
            c.fill, c.number_format = FILLS["result"], "0.0000" if j > 3 else "General"
    r = 6 + len(SHEETS)
    ws.cell(r, 1, "least squares (data sheet)").font = BOLD
    for j, ref in ((4, "best_a"), (5, "best_b"), (6, "lowest_mse")):
        c = ws.cell(r, j, f"={ref}")
        c.number_format, c.fill = "0.0000", FILLS["result"]
    ws.cell(r, 7, 1).number_format = "0.0000"
    # the least-squares floor as a two-point line for the chart, beside the table
    ws.cell(4, 9, "lowest MSE, as a line").font = BOLD
    for k, (step, ref) in enumerate(((0, "=lowest_mse"), (STEPS, "=lowest_mse"))):
        ws.cell(5 + k, 9, step)
        ws.cell(5 + k, 10, ref).number_format = "0.0000"
    ws.column_dimensions["I"].width = 22

    chart = _line_chart("MSE after each step, every method (log scale)", "MSE", width=24)
    chart.height = 11
    chart.y_axis.scaling.logBase = 10
    chart.legend.position = "r"
    for sheet, color in zip(SHEETS, COLORS, strict=True):
        sw = wb[sheet.name]
        head, letter = _layout(sheet)
        steps = Reference(sw, min_col=1, min_row=head + 1, max_row=head + 1 + STEPS)
        _add_line(chart, sw, steps, letter["mse"], head + 1, head + 1 + STEPS, color, sheet.name)
    floor = Series(
        Reference(ws, min_col=10, min_row=5, max_row=6),
        Reference(ws, min_col=9, min_row=5, max_row=6),
        title="lowest MSE",
    )
    floor.marker.symbol = "none"
    floor.graphicalProperties.line.solidFill = "000000"
    floor.graphicalProperties.line.dashStyle = "dash"
    chart.series.append(floor)
    ws.add_chart(chart, f"A{r + 2}")


# --------------------------------------------------------------------------- the numbers


def steps_to_target(mse: np.ndarray, lowest: float) -> int | None:
    """The first step whose MSE is within 10% of `lowest` (`mse[0]` is the start), or None."""
    hit = np.nonzero(np.asarray(mse)[1:] <= (1 + WITHIN) * lowest)[0]
    return int(hit[0]) + 1 if len(hit) else None


def _mse(traj: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """MSE at each `(a, b)` of a trajectory (steps + 1, 2) -> (steps + 1,)."""
    return ((traj[:, :1] * x[None] + traj[:, 1:] - y[None]) ** 2).mean(axis=1)


def tune(
    sheet: Sheet | str, x: np.ndarray, y: np.ndarray, grid: Sequence[float] = LR_GRID
) -> tuple[float, list[tuple[float, int | None, float]]]:
    """The best learning rate of `grid` for a sheet, and `(lr, steps to target, final MSE ÷
    lowest)` for each: best = the fewest steps to get within 10% of the lowest MSE among
    those still within 10% after the last step (if none is, the lowest final MSE)."""
    sheet = BY_NAME[sheet] if isinstance(sheet, str) else sheet
    lr_key = "lr_max" if "lr_max" in sheet.hyper else "lr"
    lowest = line_fit.least_squares(torch.tensor(x), torch.tensor(y))[2]
    rows = []
    for lr in grid:
        hyper = {lr_key: lr} | ({"lr_min": lr / 100} if lr_key == "lr_max" else {})
        with np.errstate(all="ignore"):
            mse = _mse(reference_trajectory(sheet, x, y, hyper), x, y)
        final = mse[-1] / lowest if len(mse) == STEPS + 1 and np.isfinite(mse[-1]) else np.inf
        rows.append((lr, steps_to_target(mse, lowest), float(final)))
    ok = [r for r in rows if r[1] is not None and r[2] <= 1 + WITHIN]
    best = min(ok, key=lambda r: (r[1], r[2])) if ok else min(rows, key=lambda r: r[2])
    return best[0], rows


class _Scheduled:
    """An optimizer whose `step()` also steps a learning-rate scheduler (for `run_path`)."""

    def __init__(self, opt: torch.optim.Optimizer, steps: int, lr_min: float) -> None:
        self.opt = opt
        self.sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=lr_min)

    def zero_grad(self) -> None:
        self.opt.zero_grad()

    def step(self) -> None:
        self.opt.step()
        self.sched.step()


def reference_trajectory(
    sheet: Sheet | str,
    x: Sequence[float],
    y: Sequence[float],
    hyper: dict[str, float] | None = None,
    steps: int = STEPS,
) -> np.ndarray:
    """The sheet's optimizer from `course_utils.line_fit.make_optimizer`, run by `line_fit.run_path`
    on the same data (full batch, float64); the `(a, b)` after each step, shape
    `(steps + 1, 2)` (row 0: the start; fewer rows if the loss overflowed).

    `hyper` overrides the sheet's hyperparameters (keys as in `hyper_cells`, e.g. `lr`, `a0`).
    """
    sheet = BY_NAME[sheet] if isinstance(sheet, str) else sheet
    h = {k: v for k, (_, v) in sheet.hyper.items()} | {"a0": A0, "b0": B0} | (hyper or {})
    kwargs = {arg: h[key] for arg, key in sheet.args.items()}
    kwargs.setdefault("lr", h.get("lr"))

    def make(params: list[torch.Tensor]) -> torch.optim.Optimizer:
        opt = line_fit.make_optimizer(sheet.optimizer, params, **kwargs)
        return _Scheduled(opt, int(h["T"]), h["lr_min"]) if "T" in h else opt  # type: ignore

    xs = torch.tensor(np.asarray(x, dtype=np.float64))
    ys = torch.tensor(np.asarray(y, dtype=np.float64))
    return line_fit.run_path(xs, ys, make, start=(h["a0"], h["b0"]), steps=steps).params


# --------------------------------------------------------------------------- the workbook


def results(x: np.ndarray, y: np.ndarray) -> dict[str, dict[str, float | int | None]]:
    """Per sheet, what its summary row shows: steps to target, final a, b, MSE, MSE ÷ lowest."""
    lowest = line_fit.least_squares(torch.tensor(x), torch.tensor(y))[2]
    out = {}
    for sheet in SHEETS:
        traj = reference_trajectory(sheet, x, y)
        mse = _mse(traj, x, y)
        out[sheet.name] = {
            "steps": steps_to_target(mse, lowest),
            "a": traj[-1, 0],
            "b": traj[-1, 1],
            "mse": mse[-1],
            "ratio": mse[-1] / lowest,
        }
    return out


def intro_lines(x: np.ndarray, y: np.ndarray) -> list[tuple[str, str]]:
    """The intro sheet's text; the claims about who is faster are computed, not written."""
    res = results(x, y)
    a_best, b_best, _ = line_fit.least_squares(torch.tensor(x), torch.tensor(y))
    steps = {k: v["steps"] or STEPS + 1 for k, v in res.items()}
    order = sorted(steps, key=steps.get)
    slowest = order[-1]
    others = [k for k in order if k != "basic SGD"]
    fmt = ", ".join(f"{k} {steps[k]}" for k in others)
    sgd_claim = (
        f"Plain gradient descent (basic SGD) needs {steps['basic SGD']} steps to get "
        "within 10% of the lowest MSE, "
        + ("more than any other method" if slowest == "basic SGD" else f"fewer than {slowest}")
        + f" (compare sheet: {fmt})."
    )
    dist = {
        k: float(np.hypot(res[k]["a"] - a_best, res[k]["b"] - b_best))
        for k in ("annealing", "adam")
    }
    closer = "annealing" if dist["annealing"] < dist["adam"] else "adam"
    excess = {k: (res[k]["ratio"] - 1) * 100 for k in ("adam", "annealing")}
    ann_claim = (
        f"After {STEPS} steps constant-rate Adam's MSE is {excess['adam']:.1e} % above "
        f"the lowest and annealing's {excess['annealing']:.1e} %: with exact "
        f"(full-batch) gradients both settle, and {closer} ends closer to the "
        f"least-squares (a, b) = ({a_best:.3f}, {b_best:.3f}). A falling learning rate "
        "matters most when each step sees only part of the data and its gradients "
        "are noisy."
    )
    return [
        ("Gradient descent, one formula per cell", "title"),
        (
            f"Fitting y = a·x + b to {N_ROWS} points with six optimizers, {STEPS} steps each. "
            "Companion to the lesson 6 notebook (SGD from scratch).",
            "",
        ),
        ("", ""),
        ("How to read a sheet", "head"),
        (
            "The top row of each sheet is its result: how many steps it took to get within 10% of "
            "the lowest possible MSE, and where it ended. The charts beside it plot the MSE (log "
            "scale) and a, b after every step.",
            "",
        ),
        (
            "Yellow cells are the inputs: hyperparameters and the starting a, b. Change one and "
            "every row below recomputes.",
            "",
        ),
        (
            f"Each row of the table is one step: the gradient of the MSE over all {N_ROWS} points "
            "at the a, b of the row above, the optimizer's state, and the new a and b (bold).",
            "",
        ),
        ("", ""),
        ("Why adaptive optimizers exist", "head"),
        (
            f"x goes from 0 to {X_SCALE:g}, so the gradient for the slope a is about three times "
            "the one for the intercept b. Plain gradient descent uses one learning rate for both: it "
            "must be small enough for a (try 0.1, then 0.2, on the basic SGD sheet: a zig-zags, "
            "then blows up), and then b crawls towards 8.",
            "",
        ),
        (
            "Momentum keeps going in the direction the gradients agree on, so b speeds up; "
            "Adagrad, RMSProp and Adam divide each parameter's step by the size of its own "
            "gradients, so a and b both move at a useful pace.",
            "",
        ),
        (sgd_claim, ""),
        (ann_claim, ""),
        ("", ""),
        ("Sheets", "head"),
        ("compare: every method's MSE curve on one chart, and their results side by side.", ""),
        (
            "data: the 30 (x, y) points and the least-squares answer computed with SLOPE and "
            "INTERCEPT.",
            "",
        ),
        (
            "basic SGD: plain gradient descent; finite-difference estimates of the derivatives sit "
            "next to the exact ones.",
            "",
        ),
        ("momentum: gradient descent with momentum, as torch.optim.SGD(momentum=0.9) does it.", ""),
        ("adagrad: steps divided by the root of the sum of all past squared gradients.", ""),
        ("rmsprop: the same with an exponentially weighted average instead of a sum.", ""),
        (
            "adam: momentum and RMSProp together, with bias correction for the first steps "
            "(columns 1−β1ᵗ and 1−β2ᵗ).",
            "",
        ),
        (
            "adamw: Adam with decoupled weight decay: the weights shrink by lr·wd each step, "
            "outside the adaptive scaling. Compare with weight decay as L2 on the adam sheet.",
            "",
        ),
        ("annealing: Adam whose learning rate follows a cosine from lr_max down to lr_min.", ""),
        ("about: where this workbook comes from and how it is checked.", ""),
    ]


ABOUT = [
    "Built by tools/workbooks/graddesc.py: python -m tools.workbooks graddesc.xlsx (or: make "
    "workbooks). LibreOffice computes the formulas once while building, so the file holds "
    "their values too.",
    "The data are course_utils.line_fit.line_data(30, scale=5.0) rounded to 3 decimals: the "
    "notebook's optimizer explorer has the same problem (x in [0, 5]).",
    "Each learning rate is the best of the grid for its method: tools.workbooks.graddesc.tune "
    "runs course_utils.line_fit.make_optimizer through course_utils.line_fit.run_path for every value.",
    "tests/test_graddesc_workbook.py recalculates this workbook (and a copy with other data and "
    "hyperparameters) in LibreOffice and checks that every sheet's a, b match "
    "tools.workbooks.graddesc.reference_trajectory (course_utils.optim, the same rules as "
    "torch.optim) step for step, within 1e-6.",
    "Defined names (Formulas > Name Manager) point at the cells programs read: data_x, data_y, "
    "best_a, best_b, lowest_mse, target_mse, and per sheet (prefix sgd, momentum, adagrad, "
    "rmsprop, adam, adamw, annealing): <prefix>_lr (annealing: _lr_max, _lr_min), the other "
    "hyperparameters, <prefix>_a, _b, _mse (steps 0-300), _steps_to_target, _final_a, "
    "_final_b, _final_mse, _final_ratio.",
]


def build(path: Path, cached_values: bool = True) -> Path:
    """Write the workbook to `path` (safely: see `common.save`). With `cached_values`,
    LibreOffice computes the formulas once and the file stores their values."""
    return save(workbook(), Path(path), cached_values=cached_values)


def workbook() -> Workbook:
    """The workbook, formulas only (`build` writes it)."""
    x, y = make_data()
    wb = Workbook()
    intro = wb.active
    intro.title = "intro"
    text_sheet(intro, intro_lines(x, y))
    compare = wb.create_sheet("compare")
    data = wb.create_sheet("data")
    refs = _write_data(wb, data, x, y)
    print_setup(data, landscape=False)
    for sheet in SHEETS:
        ws = wb.create_sheet(sheet.name)
        _write_sheet(wb, ws, sheet, refs)
        head = _layout(sheet)[0]  # the table's header, repeated on every page
        print_setup(
            ws,
            landscape=True,
            last_row=head + 1 + PRINTED_STEPS,
            title_rows=f"{head}:{head}",
            note=f"steps {PRINTED_STEPS + 1}-{STEPS}: in the workbook",
        )
    _write_compare(wb, compare)
    print_setup(compare, landscape=True)
    about_sheet(wb, "About this workbook", ABOUT)
    return wb
