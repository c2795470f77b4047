"""What both workbook builders share: colours and legends, defined names, the "about" sheet,
a check for clipped text, LibreOffice recalculation, and saving with computed values.

openpyxl writes formulas but cannot compute them, so `save` asks LibreOffice (headless) to
recalculate a copy and stores the results as the formulas' cached values: previewers,
pandas and `openpyxl.load_workbook(data_only=True)` then see numbers, not empty cells. The
file is written beside the target and moved over it only when complete (`os.replace`), so
a failed build leaves the committed workbook as it was.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.worksheet import Worksheet

__all__ = [
    "text_sheet",
    "FILLS",
    "LibreOfficeMissing",
    "about_sheet",
    "clipped_cells",
    "find_soffice",
    "legend",
    "libreoffice_missing",
    "pdf_pages",
    "print_setup",
    "recalculate",
    "save",
    "set_name",
    "store_values",
    "text_block",
    "value_problems",
]

# one colour per role, the same in both workbooks
FILLS = {
    "input": PatternFill("solid", fgColor="FFF2CC"),  # yellow: change me (Solver changes these)
    "rating": PatternFill("solid", fgColor="DDEBF7"),  # blue: data
    "result": PatternFill("solid", fgColor="E2EFDA"),  # green: the number to watch
    "unrated": PatternFill("solid", fgColor="EDEDED"),  # grey: a prediction nobody can check
    "header": PatternFill("solid", fgColor="D9D9D9"),  # grey: column headers
}
BOLD = Font(bold=True)
GREY_TEXT = Font(italic=True, color="7F7F7F")
TITLE = Font(bold=True, size=14)
# A sheet of paragraphs spans this many columns of this width, merged per paragraph: one column
# as wide would be cut at the page's edge in print (LibreOffice does not shrink a single column
# to fit the page; several it does).
TEXT_COLUMNS, TEXT_COLUMN_WIDTH = 5, 22

# --------------------------------------------------------------------------- sheet helpers


def set_name(wb: Workbook, name: str, ws: Worksheet | str, ref: str) -> None:
    """A workbook-level defined name: `name` -> `'sheet'!ref` (ref made absolute)."""
    min_col, min_row, max_col, max_row = range_boundaries(ref.replace("$", ""))
    first = f"${get_column_letter(min_col)}${min_row}"
    last = f"${get_column_letter(max_col)}${max_row}"
    ref = first if (min_col, min_row) == (max_col, max_row) else f"{first}:{last}"
    title = ws if isinstance(ws, str) else ws.title
    wb.defined_names[name] = DefinedName(name, attr_text=f"'{title}'!{ref}")


def legend(
    ws: Worksheet, row: int, items: Sequence[tuple[str, str]], col: int = 1, span: int = 3
) -> None:
    """A colour legend in `row`: each item `(fill name, meaning)` fills `span` merged cells."""
    ws.cell(row, col, "Colours:").font = BOLD
    c = col + 1
    for fill, text in items:
        cells = ws.cell(row, c, text)
        if fill == "bold":
            cells.font = BOLD
        elif fill:
            cells.fill = FILLS[fill]
        cells.alignment = Alignment(horizontal="center", vertical="center")
        ws.merge_cells(start_row=row, start_column=c, end_row=row, end_column=c + span - 1)
        c += span


def text_width(text: str, bold: bool = False, size: float = 11) -> float:
    """Estimated width of `text` in spreadsheet column-width units (a digit is 1).

    Deliberately generous (LibreOffice's substitute fonts are wider than Calibri), so that
    what fits here fits on screen.
    """
    narrow, wide = set("iljtfr.,;:'|!() "), set("mwMWQ%@—")
    w = sum(0.55 if ch in narrow else 1.45 if ch in wide or ch.isupper() else 1.05 for ch in text)
    return w * (1.12 if bold else 1.0) * size / 11 + 1


# Where Calibri is missing, LibreOffice draws the text in DejaVu Sans, about a quarter wider:
# wrapped paragraphs get rows tall enough for that (a little spare room in Excel).
SUBSTITUTE_FONT_WIDTH = 1.25


def text_block(
    ws: Worksheet, row: int, lines: Iterable[tuple[str, str]], col: int = 1, width_cols: int = 1
) -> int:
    """Write paragraphs down from `row`, wrapped in `width_cols` merged columns, each row
    tall enough for its text; `lines` are `(text, style)` with style "", "title", "head",
    "note". Returns the next free row."""
    width = sum(
        ws.column_dimensions[get_column_letter(c)].width or 8.43
        for c in range(col, col + width_cols)
    )
    for text, style in lines:
        cell = ws.cell(row, col, text or None)
        cell.font = {"title": TITLE, "head": BOLD, "note": GREY_TEXT}.get(style, Font())
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if width_cols > 1:
            ws.merge_cells(
                start_row=row, start_column=col, end_row=row, end_column=col + width_cols - 1
            )
        size = 14 if style == "title" else 11
        need = text_width(text, style in ("title", "head"), size) * SUBSTITUTE_FONT_WIDTH
        lines_needed = max(1, math.ceil(need / (width - 1)))
        ws.row_dimensions[row].height = lines_needed * (size * 1.35) + 3
        row += 1
    return row


def about_sheet(wb: Workbook, title: str, lines: Sequence[str]) -> Worksheet:
    """The last sheet: where the workbook comes from and how it is checked (developer text)."""
    ws = wb.create_sheet("about")
    text_sheet(ws, [(title, "title"), *((line, "") for line in lines)])
    return ws


def text_sheet(ws: Worksheet, lines: Iterable[tuple[str, str]]) -> None:
    """A sheet of paragraphs (`text_block`'s `lines`), on screen and on paper (A4, portrait)."""
    for c in range(1, TEXT_COLUMNS + 1):
        ws.column_dimensions[get_column_letter(c)].width = TEXT_COLUMN_WIDTH
    text_block(ws, 1, lines, width_cols=TEXT_COLUMNS)
    print_setup(ws, landscape=False)


PT_PER_UNIT = 5.25  # one column-width unit (a digit of the default font) is about 7 px
PX_PER_UNIT = 7  # the same in screen pixels
PX_PER_CM = 96 / 2.54  # a chart's size (openpyxl: cm) in pixels
DEFAULT_ROW_PX = 20  # a row of the default height (15 pt)


def _chart_extent(ws: Worksheet) -> tuple[int, int]:
    """The last column and row (1-based) that the sheet's charts cover."""
    last_col = last_row = 0
    for chart in ws._charts:
        if isinstance(chart.anchor, str):  # "D14", as given to add_chart
            row, col = coordinate_to_tuple(chart.anchor)
            row, col = row - 1, col - 1
        else:  # a loaded chart: its anchor counts rows and columns from 0
            row, col = chart.anchor._from.row, chart.anchor._from.col
        px = chart.width * PX_PER_CM
        while px > 0:
            col += 1
            px -= (ws.column_dimensions[get_column_letter(col)].width or 8.43) * PX_PER_UNIT
        px = chart.height * PX_PER_CM
        while px > 0:
            row += 1
            px -= (ws.row_dimensions[row].height or 15) * DEFAULT_ROW_PX / 15
        last_col, last_row = max(last_col, col), max(last_row, row)
    return last_col, last_row


def print_setup(
    ws: Worksheet,
    landscape: bool,
    last_row: int | None = None,
    title_rows: str | None = None,
    note: str = "",
    pages_wide: int = 1,
) -> str:
    """How the sheet prints: its text, tables and charts (up to `last_row`, default all) as
    the print area, scaled to `pages_wide` pages wide and as many pages tall as needed, on A4 in
    `landscape` or portrait, with `title_rows` (e.g. "7:7", a table's header) repeated at the
    top of every page, and the sheet's name, the page number and `note` at the foot. Returns
    the print area."""
    chart_col, chart_row = _chart_extent(ws)
    last_col = max(ws.max_column, chart_col)
    last_row = last_row or max(ws.max_row, chart_row)
    area = f"A1:{get_column_letter(last_col)}{last_row}"
    ws.print_area = area
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = pages_wide, 0  # 0: as many as it takes
    ws.page_margins.left = ws.page_margins.right = 0.5  # inches
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    if title_rows:
        ws.print_title_rows = title_rows
    ws.oddFooter.center.text = "&A, page &P of &N"
    if note:
        ws.oddFooter.right.text = note
    return area


def clipped_cells(ws: Worksheet) -> list[str]:
    """Cells whose text would be cut off on screen: wider than their column (or merged
    range) while the cell to the right is not empty, or wrapped into more lines than the
    row height holds, or rotated text taller than the row. Empty list: all text shows."""
    merged = {}
    for rng in ws.merged_cells.ranges:
        merged[(rng.min_row, rng.min_col)] = rng
        for r, c in rng.cells:
            merged.setdefault((r, c), None)
    out = []
    for row in ws.iter_rows():
        for cell in row:
            text = cell.value
            if not isinstance(text, str) or text.startswith("="):
                continue
            key = (cell.row, cell.column)
            if key in merged and merged[key] is None:
                continue  # hidden inside a merged range
            rng = merged.get(key)
            last_col = rng.max_col if rng else cell.column
            width = sum(
                ws.column_dimensions[get_column_letter(c)].width or 8.43
                for c in range(cell.column, last_col + 1)
            )
            font = cell.font
            need = max(text_width(line, bool(font.b), font.sz or 11) for line in text.split("\n"))
            height = ws.row_dimensions[cell.row].height or 15
            if rng:
                height = sum(
                    ws.row_dimensions[r].height or 15 for r in range(rng.min_row, rng.max_row + 1)
                )
            rotation = cell.alignment.textRotation or 0
            if rotation in (90, 180):  # vertical text: its lines stack across the column
                size = font.sz or 11
                lines = max(1, int(width * PT_PER_UNIT // (size * 1.25)))
                if not cell.alignment.wrap_text:
                    lines = 1
                if need * PT_PER_UNIT > lines * height * 0.85:  # 0.85: words do not fill lines
                    out.append(f"{ws.title}!{cell.coordinate} (rotated, row too short)")
                continue
            if cell.alignment.wrap_text:
                lines = sum(
                    max(
                        1, math.ceil(text_width(p, bool(font.b), font.sz or 11) / max(width - 1, 1))
                    )
                    for p in text.split("\n")
                )
                if lines * (font.sz or 11) * 1.25 > height + 1:
                    out.append(f"{ws.title}!{cell.coordinate} (wrapped, row too short)")
                continue
            if need <= width:
                continue
            # overflow into the next cells is fine while they are empty (left-aligned text)
            spare, c = width, last_col + 1
            while spare < need:
                nxt = ws._cells.get((cell.row, c))  # (ws.cell() would create the cell)
                if (nxt is not None and nxt.value not in (None, "")) or (cell.row, c) in merged:
                    out.append(
                        f"{ws.title}!{cell.coordinate} (cut off by "
                        f"{get_column_letter(c)}{cell.row})"
                    )
                    break
                spare += ws.column_dimensions[get_column_letter(c)].width or 8.43
                c += 1
    return out


# --------------------------------------------------------------------------- LibreOffice

# A LibreOffice profile setting: always recalculate formulas when loading an .xlsx file.
RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""
INSTALL_HINT = (
    "install LibreOffice (Debian/Ubuntu: `apt-get install libreoffice-calc-nogui`; "
    "macOS: `brew install --cask libreoffice`; or from libreoffice.org) so that "
    "`soffice` is on PATH"
)


class LibreOfficeMissing(RuntimeError):
    """LibreOffice is needed (to compute the formulas) but `soffice` was not found."""


def find_soffice() -> str | None:
    """The LibreOffice executable: `$SOFFICE`, `soffice`/`libreoffice` on PATH, or the macOS app."""
    candidates = [
        os.environ.get("SOFFICE"),
        shutil.which("soffice"),
        shutil.which("libreoffice"),
        "/Applications/LibreOffice.app/Contents/MacOS/soffice",
    ]
    return next((c for c in candidates if c and Path(c).exists()), None)


def libreoffice_missing() -> str | None:
    """Why tests that need LibreOffice cannot run here (None: they can). With
    COURSE_REQUIRE_LIBREOFFICE=1 (CI) it raises `LibreOfficeMissing` instead, so that those
    tests fail rather than skip."""
    if find_soffice() is not None:
        return None
    why = f"LibreOffice (soffice) is not installed: {INSTALL_HINT}"
    if os.environ.get("COURSE_REQUIRE_LIBREOFFICE", "") not in ("", "0"):
        raise LibreOfficeMissing(f"COURSE_REQUIRE_LIBREOFFICE is set but {why}")
    return why


def profile(folder: Path) -> str:
    """A fresh private LibreOffice profile in `folder` (parallel runs do not lock each other);
    returns the `-env:UserInstallation=...` argument."""
    user = folder / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(RECALC_ALWAYS)
    return f"-env:UserInstallation={folder.resolve().as_uri()}"


def convert(
    soffice: str, paths: Sequence[Path], fmt: str, outdir: Path, timeout: float
) -> subprocess.CompletedProcess:
    """Headless LibreOffice converts `paths` to `fmt` (xlsx recalculates every formula on the
    way, pdf prints) into `outdir`, with a private profile there (see `profile`)."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    cmd = [
        soffice,
        profile(outdir / "lo-profile"),
        "--headless",
        "--norestore",
        "--convert-to",
        fmt,
        "--outdir",
        str(outdir),
        *map(str, paths),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def recalculate(paths: Sequence[Path], outdir: Path, timeout: float = 600) -> list[Path]:
    """Open each workbook in headless LibreOffice, recalculate every formula and save the
    result as `outdir/<same name>`; returns those paths."""
    soffice = find_soffice()
    if soffice is None:
        raise LibreOfficeMissing(f"LibreOffice is needed to compute the formulas: {INSTALL_HINT}.")
    res = convert(soffice, paths, "xlsx", outdir, timeout)
    outdir = Path(outdir)
    outs = [outdir / Path(p).name for p in paths]
    missing = [str(p) for p in outs if not p.exists()]
    if missing:
        raise RuntimeError(
            f"LibreOffice did not write {missing} (exit code {res.returncode}):\n"
            f"{res.stdout}\n{res.stderr}"
        )
    return outs


def pdf_pages(path: Path, outdir: Path, timeout: float = 600) -> list[str]:
    """The workbook `path` printed to PDF by LibreOffice (in `outdir`), as the text of each
    page (poppler's `pdftotext`): what a student gets on paper."""
    soffice, pdftotext = find_soffice(), shutil.which("pdftotext")
    if soffice is None:
        raise LibreOfficeMissing(f"LibreOffice is needed to print the workbook: {INSTALL_HINT}.")
    if pdftotext is None:
        raise FileNotFoundError(
            "pdftotext is needed to read the printed pages: install poppler-utils "
            "(apt-get install poppler-utils; macOS: brew install poppler)."
        )
    res = convert(soffice, [path], "pdf", outdir, timeout)
    outdir = Path(outdir)
    pdf = outdir / f"{Path(path).stem}.pdf"
    if not pdf.exists():
        raise RuntimeError(
            f"LibreOffice did not print {path} (exit code {res.returncode}):\n"
            f"{res.stdout}\n{res.stderr}"
        )
    text = subprocess.run(
        [pdftotext, str(pdf), "-"], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


# --------------------------------------------------------------------------- cached values

_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}
# a formula cell as openpyxl writes it: <c r="B7" s="3"><f>...</f><v /></c>
_FORMULA_CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"([^>]*)><f>(.*?)</f><v\s*/>\s*</c>', re.S)
_ERRORS = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"}


def _sheet_files(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> path of its XML part inside the xlsx zip."""
    book = ElementTree.fromstring(z.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    target = {r.get("Id"): r.get("Target") for r in rels.findall("rel:Relationship", _NS)}
    out = {}
    for s in book.findall("m:sheets/m:sheet", _NS):
        t = target[s.get(f"{{{_NS['r']}}}id")]
        out[s.get("name")] = t.lstrip("/") if t.startswith("/") else f"xl/{t}"
    return out


def _cached(value: object) -> tuple[str, str]:
    """The `t` attribute and `<v>` text of a computed value."""
    if isinstance(value, bool):
        return ' t="b"', str(int(value))
    if isinstance(value, int | float):
        return "", repr(float(value)) if isinstance(value, float) else str(value)
    text = "" if value is None else str(value)
    esc = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (' t="e"' if text in _ERRORS else ' t="str"'), esc


def store_values(formulas: Path, computed: Path, out: Path) -> int:
    """Copy `formulas` (an openpyxl file) to `out`, giving each formula cell the value it
    has in `computed` (the same workbook recalculated by LibreOffice). Returns how many
    formula cells got a value."""
    values = openpyxl.load_workbook(computed, data_only=True)
    n = 0
    with zipfile.ZipFile(formulas) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        parts = {v: k for k, v in _sheet_files(zin).items()}
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename in parts:
                ws = values[parts[item.filename]]

                def fill(m: re.Match, ws: Worksheet = ws) -> str:
                    nonlocal n
                    n += 1
                    t, v = _cached(ws[m.group(1)].value)
                    attrs = re.sub(r'\s+t="[^"]*"', "", m.group(2))
                    return f'<c r="{m.group(1)}"{attrs}{t}><f>{m.group(3)}</f><v>{v}</v></c>'

                data = _FORMULA_CELL.sub(fill, data.decode("utf-8")).encode("utf-8")
            zout.writestr(item, data)
    return n


def value_problems(formulas: Workbook, values: Workbook) -> list[str]:
    """What is wrong with a computed workbook: formula cells of `formulas` that have no value
    in `values` (the same file opened with `data_only=True`), and cells whose value is an
    error such as #VALUE! or #N/A. Empty list: every formula has a proper value."""
    out = []
    for ws in formulas:
        wv = values[ws.title]
        for row in ws.iter_rows():
            for c in row:
                v = wv[c.coordinate].value if c.value is not None else None
                if isinstance(c.value, str) and c.value.startswith("=") and v is None:
                    out.append(f"{ws.title}!{c.coordinate}: no value")
                elif isinstance(v, str) and v in _ERRORS:
                    out.append(f"{ws.title}!{c.coordinate}: {v}")
    return out


def save(wb: Workbook, path: Path, cached_values: bool = True) -> Path:
    """Write `wb` to `path` safely: build the file in a temporary folder beside `path`
    (with values computed by LibreOffice unless `cached_values=False`) and move it over
    `path` only when it is complete."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.calculation.fullCalcOnLoad = True  # Excel recomputes on opening in any case
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=f".{path.stem}.building-") as tmp:
        formulas = Path(tmp) / path.name
        wb.save(formulas)
        final = formulas
        if cached_values:
            (computed,) = recalculate([formulas], Path(tmp) / "recalculated")
            final = Path(tmp) / f"values-{path.name}"
            store_values(formulas, computed, final)
        os.replace(final, path)
    return path
