"""Slide metadata for the lesson notebooks, derived from their structure.

    python -m tools.slides                 # every notebooks/*.ipynb
    python -m tools.slides notebooks/lesson6-sgd.ipynb --check   # exit 1 if out of date
    python -m tools.slides NB --explain    # print the plan, one line per cell

RISE (JupyterLab's live slideshow) reads each cell's `metadata.slideshow.slide_type`:
`slide` starts a new slide, `subslide` a new slide below it, `fragment` appears on the next
key press, `-` continues the current slide, `skip` and `notes` are left out (notes show in
the speaker view, key `t`). This script sets them from the notebook's structure alone, so it
can be run again whenever the lessons change, and gives the same answer for the same cells:

* a markdown cell that opens with a level-1 or level-2 heading starts a **slide**, one with a
  level-3 heading a **subslide**;
* the first code cell (imports and settings), when it shows nothing, is **skipped**: run the
  whole notebook before presenting (the instructor guide says how);
* a markdown cell right after code (the explanation of what it printed) is a **fragment**;
* code after such an explanation starts a new **subslide**: one idea per slide;
* every slide is kept within one screen: the height of each cell is estimated from its
  source and its committed outputs (text lines, table rows, picture sizes read from the PNG
  headers, source listings), and a cell that would overflow the current slide starts a new
  subslide;
* a code cell too tall for any slide (a long source listing, a data dump) goes to the
  speaker **notes**, where the presenter can still read it.

Only `metadata.slideshow` of each cell and the notebook's `metadata.rise` (RISE settings:
scrolling for the occasional tall slide) are written; sources and outputs are untouched. A
lesson without its own stylesheet gets a stub `<lesson>.css` beside it (RISE asks for one;
`rise.css` there holds the styles every lesson shares, narrow windows included). A
notebook whose metadata is already right is not rewritten. Each notebook is read, planned and
written back within milliseconds (atomically), so editing other cells meanwhile is safe.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import html
import math
import re
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course_utils.data import atomic_write

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

# The screen the slides are planned for: a 1280 x 800 laptop or projector. RISE draws a slide
# in 90% of the window's height; the budget leaves a margin for the estimate's error.
SLIDE_BUDGET_PX = 650
TOO_TALL_PX = 880  # a code cell taller than this on its own goes to the speaker notes
TEXT_WIDTH_PX = 1180  # width of a cell's content in the slideshow
CHARS_PER_LINE = 150  # of rendered markdown at that width
LINE_PX = 18.5  # markdown text and code lines
RISE_SETTINGS = {"scroll": True}  # a slide a little taller than the screen can be scrolled

# What RISE draws, in pixels at that width (measured on the course's slides in Chromium).
CELL_MARGIN_PX = 20  # around a cell's content
PARAGRAPH_GAP_PX = 10  # below a paragraph of markdown
FENCED_LINE_PX = 17  # a line of a ``` code block in markdown
HEADING_GAP_PX = 16  # below a heading
# heading level -> (characters per line, line height in px); deeper levels: SMALL_HEADING
HEADINGS = {1: (40, 62), 2: (58, 42), 3: (80, 32)}
SMALL_HEADING = (110, 24)
LIST_INDENT_CHARS = 6  # a list item's text starts this many characters in
LIST_ITEM_GAP_PX = 4
TABLE_ROW_PX = 34  # a markdown table row
MARKDOWN_PICTURE_PX = 300  # a picture in markdown (its size is not in the source)
HTML_ROW_PX = 22  # a row of an HTML table (a DataFrame)
HTML_BLOCK_MARGIN_PX = 40  # around an HTML table or a source listing
PLAYER_CONTROLS_PX = 90  # an animation player's slider and buttons under its frame
HTML_TEXT_MARGIN_PX = 20  # around any other HTML output
PROGRESS_BAR_PX = 30
WIDGET_PX = 420  # an interactive widget: its controls plus a plot
STREAM_LINE_PX = 17.3  # a line of printed text
TRACEBACK_LINES_PER_FRAME = 3  # an error shows about this many lines per traceback entry
PLAIN_LINE_PX = 16.6  # a line of a plain-text result
PICTURE_MARGIN_PX = 12  # around a plot
OUTPUT_GAP_PX = 4  # between outputs
CODE_LINE_PX = 18.2  # a line of source in a code cell
UNKNOWN_PICTURE = (640, 480)  # (width, height) of a picture whose header cannot be read
LISTING_LINES = 30  # printed text longer than this is a data dump (speaker notes when tall)
LISTING_ROWS = 40  # and so is an HTML table with more rows

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


# --------------------------------------------------------------------------- heights


def _wrapped(text: str, width: int = CHARS_PER_LINE) -> int:
    return max(1, math.ceil(len(text) / width))


def _inline(text: str) -> str:
    """Markdown inline syntax removed (links keep their text, code its content)."""
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[`*_]", "", text)


def markdown_height(source: str) -> float:
    """Estimated rendered height (px) of a markdown cell in the slideshow."""
    height, lines, i = float(CELL_MARGIN_PX), source.splitlines(), 0
    para: list[str] = []

    def flush() -> None:
        nonlocal height
        if para:
            height += _wrapped(_inline(" ".join(para))) * LINE_PX + PARAGRAPH_GAP_PX
            para.clear()

    while i < len(lines):
        line = lines[i].rstrip()
        if line.startswith("```"):
            flush()
            end = next(
                (j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), len(lines)
            )
            height += (end - i - 1) * FENCED_LINE_PX + CELL_MARGIN_PX
            i = end + 1
            continue
        heading = re.match(r"(#{1,6})\s+(.*)", line)
        if heading:
            flush()
            level, text = len(heading.group(1)), _inline(heading.group(2))
            per_line, px = HEADINGS.get(level, SMALL_HEADING)
            height += _wrapped(text, per_line) * px + HEADING_GAP_PX
        elif re.match(r"\s*([-*+]|\d+\.)\s", line):
            flush()
            height += (
                _wrapped(_inline(line), CHARS_PER_LINE - LIST_INDENT_CHARS) * LINE_PX
                + LIST_ITEM_GAP_PX
            )
        elif line.startswith("|"):
            flush()
            if not re.match(r"\|[\s:|-]+\|?$", line):  # not the |---| separator
                height += TABLE_ROW_PX
        elif line.startswith(">"):
            para.append(line.lstrip("> "))
        elif not line.strip():
            flush()
        elif re.search(r"!\[[^\]]*\]\([^)]*\)", line) or "<img" in line:
            flush()
            height += MARKDOWN_PICTURE_PX
        else:
            para.append(line)
        i += 1
    flush()
    return height


def image_size(b64: str) -> tuple[int, int]:
    """(width, height) of a base64 PNG or JPEG, read from its header (UNKNOWN_PICTURE if not)."""
    try:
        raw = base64.b64decode(b64[: 4096 - 4096 % 4])
    except (binascii.Error, ValueError):
        return UNKNOWN_PICTURE
    if raw.startswith(b"\x89PNG") and len(raw) >= 24:
        return struct.unpack(">II", raw[16:24])
    i = 2  # JPEG: walk the segments up to the start-of-frame marker
    while raw.startswith(b"\xff\xd8") and i + 9 < len(raw) and raw[i] == 0xFF:
        marker, length = raw[i + 1], struct.unpack(">H", raw[i + 2 : i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            h, w = struct.unpack(">HH", raw[i + 5 : i + 9])
            return w, h
        i += 2 + length
    return UNKNOWN_PICTURE


def _picture_px(width: int, height: int, max_width: int = TEXT_WIDTH_PX) -> float:
    return height * min(1.0, max_width / max(width, 1))


def _html_height(text: str, plain: str) -> float:
    """Height of an HTML output: a table, a source listing, an animation or a banner."""
    if "<table" in text:
        return text.count("<tr") * HTML_ROW_PX + HTML_BLOCK_MARGIN_PX
    if "<pre" in text or "highlight" in text:  # IPython.display.Code (show_source)
        return len(plain.splitlines()) * LINE_PX + HTML_BLOCK_MARGIN_PX
    frame = re.search(r"data:image/(?:png|jpeg);base64,([A-Za-z0-9+/=]{64,4096})", text)
    if frame:  # an animation player (to_jshtml): one frame plus its buttons and slider
        return _picture_px(*image_size(frame.group(1))) + PLAYER_CONTROLS_PX
    visible = html.unescape(re.sub(r"<[^>]+>", "", text)).strip()
    blocks = len(re.findall(r"<(?:p|div|li|br|h\d)\b", text))
    return (_wrapped(visible) + blocks) * LINE_PX + HTML_TEXT_MARGIN_PX


def _widget_height(output: dict, state: dict) -> float:
    """A progress bar is one line; an interactive widget is planned at WIDGET_PX (controls
    plus a plot), its size when it runs live in the slideshow."""
    model = state.get(output["data"][WIDGET_VIEW].get("model_id"), {})
    children = model.get("state", {}).get("children", [])
    kinds = {state.get(str(c).removeprefix("IPY_MODEL_"), {}).get("model_name") for c in children}
    progress = "FloatProgressModel" in kinds or "IntProgressModel" in kinds
    return PROGRESS_BAR_PX if progress else WIDGET_PX


def output_height(output: dict, widget_state: dict) -> float:
    """Estimated height (px) of one output of a code cell."""
    kind = output.get("output_type")
    if kind == "stream":
        return (
            len(output.get("text", "").rstrip("\n").splitlines()) * STREAM_LINE_PX + OUTPUT_GAP_PX
        )
    if kind == "error":
        return len(output.get("traceback", [])) * TRACEBACK_LINES_PER_FRAME * STREAM_LINE_PX
    data = output.get("data", {})
    plain = data.get("text/plain", "")
    if WIDGET_VIEW in data:
        return _widget_height(output, widget_state)
    if "image/png" in data:
        meta = output.get("metadata", {}).get("image/png", {})
        w, h = image_size(data["image/png"])
        if "width" in meta and "height" in meta:
            w, h = meta["width"], meta["height"]
        return _picture_px(w, h) + PICTURE_MARGIN_PX
    if "text/html" in data:
        return _html_height(data["text/html"], plain)
    if "text/markdown" in data:
        return markdown_height(data["text/markdown"])
    return len(plain.splitlines()) * PLAIN_LINE_PX + OUTPUT_GAP_PX


def code_height(cell: dict, widget_state: dict) -> float:
    lines = len(cell["source"].splitlines()) or 1
    outputs = cell.get("outputs", [])
    outputs_px = sum(output_height(o, widget_state) + OUTPUT_GAP_PX for o in outputs)
    return CELL_MARGIN_PX + lines * CODE_LINE_PX + outputs_px


# --------------------------------------------------------------------------- the plan


@dataclass
class Planned:
    """One cell's slide type and why."""

    slide_type: str
    height: float
    reason: str


def _headings(source: str) -> list[tuple[int, int]]:
    """(line number, level) of each markdown heading of `source`, outside code blocks."""
    found, fenced = [], False
    for n, line in enumerate(source.splitlines()):
        fenced ^= line.startswith("```")
        m = None if fenced else re.match(r"(#{1,6})\s", line)
        if m:
            found.append((n, len(m.group(1))))
    return found


def _heading_level(source: str) -> int | None:
    """The highest level (smallest number) of a heading in the cell: a cell that closes one
    section and opens the next still starts the next section's slide."""
    return min((level for _, level in _headings(source)), default=None)


def late_headings(nb: dict) -> list[tuple[int, str]]:
    """(cell index, heading) of section headings (levels 1-3) that are not on the first line
    of their markdown cell: splitting such a cell there makes the section start cleanly on
    its own slide."""
    out = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        lines = source.splitlines()
        first = next((n for n, ln in enumerate(lines) if ln.strip()), 0)
        out += [(i, lines[n]) for n, level in _headings(source) if level <= 3 and n > first]
    return out


def _is_listing(cell: dict) -> bool:
    """A source listing (show_source) or a data dump: long printed text, a long table."""
    return "show_source(" in cell["source"] or any(
        (o.get("output_type") == "stream" and o.get("text", "").count("\n") > LISTING_LINES)
        or o.get("data", {}).get("text/html", "").count("<tr") > LISTING_ROWS
        for o in cell.get("outputs", [])
    )


def _shows_something(cell: dict) -> bool:
    return any(
        o.get("output_type") != "stream" or o.get("text", "").strip()
        for o in cell.get("outputs", [])
    )


def plan(nb: dict) -> list[Planned]:
    """The slide type of every cell of `nb` (a notebook as a dict), from its structure."""
    widget_state = (
        nb.get("metadata", {})
        .get("widgets", {})
        .get("application/vnd.jupyter.widget-state+json", {})
        .get("state", {})
    )
    out: list[Planned] = []
    used = 0.0  # height of the slide being filled
    last = "start"  # what the slide being filled ended with: heading, text, code, explanation
    first_code = True
    for cell in nb["cells"]:
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        cell = {**cell, "source": source}
        if cell["cell_type"] == "code":
            h = code_height(cell, widget_state)
            if first_code and not _shows_something(cell):
                out.append(Planned("skip", h, "setup cell: run before presenting"))
                first_code = False
                continue
            first_code = False
            if h > TOO_TALL_PX and (_is_listing(cell) or h > 1.5 * TOO_TALL_PX):
                out.append(Planned("notes", h, "taller than a screen: speaker notes"))
                continue
            if last in ("explanation", "start") or used + h > SLIDE_BUDGET_PX:
                reason = "new idea after its explanation" if last == "explanation" else "overflow"
                out.append(Planned("subslide", h, reason))
                used = h
            else:
                out.append(Planned("-", h, "continues the slide"))
                used += h
            last = "code"
        elif cell["cell_type"] == "markdown":
            h = markdown_height(source)
            level = _heading_level(source)
            if level in (1, 2):
                out.append(Planned("slide", h, f"level-{level} heading"))
                used, last = h, "heading"
            elif level == 3:
                out.append(Planned("subslide", h, "level-3 heading"))
                used, last = h, "heading"
            elif used + h > SLIDE_BUDGET_PX or last == "start":
                out.append(Planned("subslide", h, "overflow"))
                used, last = h, "text"
            elif last == "code":
                out.append(Planned("fragment", h, "explains the output above"))
                used, last = used + h, "explanation"
            else:
                out.append(Planned("-", h, "continues the text"))
                used += h
        else:  # raw cells are not shown
            out.append(Planned("skip", 0, "raw cell"))
    return out


def apply(path: Path, check: bool = False, explain: bool = False) -> bool:
    """Set the slide metadata of the notebook at `path`; True when it changed (or, with
    `check`, would change)."""
    nb = nbformat.read(path, as_version=4)
    planned = plan(nb)
    changed = nb.metadata.get("rise") != {**nb.metadata.get("rise", {}), **RISE_SETTINGS}
    for cell, p in zip(nb.cells, planned, strict=True):
        if cell.metadata.get("slideshow") != {"slide_type": p.slide_type}:
            cell.metadata["slideshow"] = {"slide_type": p.slide_type}
            changed = True
    if explain:
        for i, (cell, p) in enumerate(zip(nb.cells, planned, strict=True)):
            first = (cell.source.splitlines() or [""])[0][:60]
            print(f"{i:3} {p.slide_type:9} {p.height:6.0f}px  {p.reason:32} {first}")
    if changed and not check:
        nb.metadata["rise"] = {**nb.metadata.get("rise", {}), **RISE_SETTINGS}
        with atomic_write(path) as tmp:
            nbformat.write(nb, tmp)
    return changed


LESSON_CSS = (
    "/* Slide styles for this lesson only: RISE loads this file after rise.css (the styles every\n"
    "   lesson shares). Created by `python -m tools.slides`, so that RISE finds a stylesheet. */\n"
)


def lesson_css(path: Path, check: bool = False) -> Path | None:
    """RISE asks for `<lesson>.css` beside the notebook (and `rise.css`) whenever it shows
    slides; a missing file comes back as an HTML error page (a MIME error in the console).
    Write a stub where it is missing (with `check`, only report it); returns the file that was
    (or, with `check`, would be) written."""
    css = path.with_suffix(".css")
    if css.exists():
        return None
    if not check:
        with atomic_write(css) as tmp:
            tmp.write_text(LESSON_CSS, encoding="utf-8")
    return css


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.slides",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "notebooks",
        nargs="*",
        type=Path,
        metavar="NOTEBOOK",
        help="notebooks to update (default: every notebooks/*.ipynb)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 if a notebook's slide metadata is out of date",
    )
    parser.add_argument("--explain", action="store_true", help="print each cell's slide type")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb"))
    stale = []
    for path in paths:
        if path.suffix != ".ipynb" or not path.is_file():
            parser.error(f"{path} is not a notebook file (.ipynb) that exists")
        if apply(path, check=args.check, explain=args.explain):
            stale.append(path)
        if (css := lesson_css(path, check=args.check)) is not None:
            stale.append(path)
            print(f"{css}: {'missing' if args.check else 'written'} (RISE loads it)")
        slides = sum(
            1
            for c in nbformat.read(path, as_version=4).cells
            if c.metadata.get("slideshow", {}).get("slide_type") in ("slide", "subslide")
        )
        state = ("out of date" if args.check else "updated") if path in stale else "up to date"
        print(f"{path}: {state}, {slides} slides")
        for i, heading in late_headings(nbformat.read(path, as_version=4)) if args.explain else []:
            print(
                f"  hint: cell {i}: {heading.strip()!r} is not at the top of its cell; "
                "split the cell there so that the section starts its own slide"
            )
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
