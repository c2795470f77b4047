"""Sphinx extension of the course website: the lesson pages, made from the committed notebooks.

At the start of every build, each notebooks/*.ipynb is copied to docs/lessons/ (git-ignored)
with what a static page needs changed, and nothing else:

* **widgets** need a running kernel. A progress bar that was closed when its loop ended
  (tqdm with `leave=False`) is dropped, as JupyterLab drops it; one still shown becomes the
  text line it displayed. An interactive widget (an explorer, a generator) becomes a picture
  of it in JupyterLab (docs/images/widgets/<lesson>-<function>.png, else the lesson's
  screenshot docs/images/<lesson>.png) and a sentence saying how to use it live. The saved
  widget state goes, so no widget JavaScript is loaded from the internet and no "Error
  displaying widget" can appear.
* the notebook tests' cell tags (`nbval-ignore-output`, `nbval-skip`, ...) are taken off, so
  neither the page nor the notebook its download button offers carries them.
* each lesson gets index entries for the terms it teaches (`course_lesson_terms` in conf.py),
  in a cell right after its title: Sphinx's search ranks an index entry above a word that only
  occurs in a page, so a search lists first the lesson that teaches the word.
* relative links (`../excel/graddesc.xlsx`) are rebased from notebooks/ to docs/lessons/, and
  a link to a section of another lesson gets the anchor the site gives that section;
  stylesheets an output loads from the internet (matplotlib's animation player asks a CDN
  for Font Awesome) are dropped: the theme's own Font Awesome draws those icons offline.

A copy is only rewritten when it changes, so unchanged lessons are not rebuilt. In the guides
(docs/**/*.md), links to `notebooks/NAME.ipynb`, right on GitHub, are pointed at the lesson
pages as each page is read.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import nbformat
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
PROGRESS_MODELS = {"FloatProgressModel", "IntProgressModel"}
STAGED = "lessons"  # folder under docs/ that holds the copies
TEST_TAG_PREFIX = "nbval-"  # cell tags for pytest --nbval, meaningless on the site
# A stylesheet from another site cannot load offline; the theme has the icons they are for.
EXTERNAL_CSS = re.compile(r"<link\b[^>]*\bhref=[\"']https?://[^>]*>\s*", re.IGNORECASE)


def _model(state: dict, ref: str) -> dict:
    return state.get(str(ref).removeprefix("IPY_MODEL_"), {})


def _hidden(model: dict, state: dict) -> bool:
    layout = _model(state, model.get("state", {}).get("layout", "")).get("state", {})
    return layout.get("visibility") == "hidden" or layout.get("display") == "none"


def _progress_line(model: dict, state: dict) -> str | None:
    """The text a tqdm progress bar (HBox: HTML, FloatProgress, HTML) showed, or None."""
    children = [_model(state, c) for c in model.get("state", {}).get("children", [])]
    bars = [c for c in children if c.get("model_name") in PROGRESS_MODELS]
    if not bars:
        return None
    bar = bars[0]["state"]
    done = bar.get("value", 0) / (bar.get("max") or 1)
    drawn = "█" * round(10 * done) + " " * (10 - round(10 * done))
    texts = [
        re.sub(r"<[^>]+>", "", c["state"].get("value", ""))
        for c in children
        if c.get("model_name") == "HTMLModel"
    ]
    left, right = (texts + ["", ""])[:2] if len(texts) != 1 else (texts[0], "")
    line = f"{left}|{drawn}|{right}".replace("\u2007", " ").replace("&lt;", "<")
    return line.replace("&gt;", ">").replace("&amp;", "&") + "\n"


def _picture(images: Path, lesson: str, source: str) -> str | None:
    """The picture for an interactive widget built in `source`: docs/images/widgets/
    <lesson>-<function>.png for the first `make_...(` the cell calls, else
    docs/images/<lesson>.png. Returned relative to docs/lessons/."""
    names = re.findall(r"\b(make_\w+)\(", source)
    candidates = [images / "widgets" / f"{lesson}-{n}.png" for n in names]
    candidates.append(images / f"{lesson}.png")
    for c in candidates:
        if c.is_file():
            return Path(os.path.relpath(c, images.parent / STAGED)).as_posix()
    return None


def widget_fallback(lesson: str, source: str, picture: str | None) -> dict:
    """A markdown output standing in for an interactive widget: its picture and a sentence."""
    what = "This interactive widget"
    if picture:
        image = f"```{{image}} {picture}\n:alt: {what} as it looks in JupyterLab\n```\n\n"
        shown = "The picture shows it in JupyterLab. "
    else:
        image, shown = "", ""
    text = (
        f":::{{admonition}} Interactive widget (needs a running notebook)\n"
        f":class: note widget-fallback\n\n{image}"
        f"{what} runs in a live Python kernel, which this website does not have. "
        f"{shown}To use it, open `notebooks/{lesson}.ipynb` in JupyterLab (`make lab`), "
        "run all cells (*Run → Run All Cells*) and change its controls.\n:::\n"
    )
    return nbformat.v4.new_output("display_data", data={"text/markdown": text})


def _slug(anchor: str) -> str:
    """JupyterLab's anchor of a heading (`7.-Weight-decay:-L2`: the text, spaces made `-`) as
    MyST names it (`7-weight-decay-l2`: GitHub's rule, lower case, punctuation dropped)."""
    return re.sub(r"[^\w\- ]", "", anchor.strip().lower()).replace(" ", "-")


def _rebase(markdown: str, source_dir: Path, staged_dir: Path) -> str:
    """Relative link targets made relative to `staged_dir` instead of `source_dir`; a link to
    a section of another lesson gets the anchor the site gives that section."""

    def fix(m: re.Match) -> str:
        target = m.group(2)
        if re.match(r"[a-z][a-z0-9+.-]*:|#|/", target):
            return m.group(0)  # a URL, an anchor or an absolute path
        path, _, anchor = target.partition("#")
        if path.endswith(".ipynb"):  # another lesson: staged beside this one
            return f"{m.group(1)}({path}{'#' + _slug(anchor) if anchor else ''})"
        new = Path(os.path.relpath(source_dir / path, staged_dir)).as_posix()
        return f"{m.group(1)}({new}{'#' + anchor if anchor else ''})"

    return re.sub(r"(\]\s?)\(([^)\s]+)\)", fix, markdown)


def index_cell(terms: str) -> Any:
    """A markdown cell of main index entries, one per comma-separated term (invisible on the
    page; the `!` makes each a main entry, which the search lists with the best matches)."""
    entries = ", ".join(f"!{t.strip()}" for t in terms.split(",") if t.strip())
    return nbformat.v4.new_markdown_cell(f"```{{index}} {entries}\n```")


def stage(
    nb: Any,
    lesson: str,
    images: Path,
    source_dir: Path,
    staged_dir: Path,
    terms: str | None = None,
) -> Any:
    """The notebook `nb` (of notebooks/<lesson>.ipynb) made ready for a static page."""
    state = nb.metadata.pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags")
        if tags is not None:
            cell.metadata["tags"] = [t for t in tags if not t.startswith(TEST_TAG_PREFIX)]
            if not cell.metadata["tags"]:
                del cell.metadata["tags"]
        if cell.cell_type == "markdown":
            cell.source = _rebase(cell.source, source_dir, staged_dir)
            continue
        if cell.cell_type != "code":
            continue
        outputs = []
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "text/html" in data:  # e.g. matplotlib's animation player asks a CDN for icons
                data["text/html"] = EXTERNAL_CSS.sub("", data["text/html"])
            view = data.get(WIDGET_VIEW)
            if view is None:
                outputs.append(out)
                continue
            model = state.get(view.get("model_id"), {})
            if model and _hidden(model, state):
                continue  # a finished progress bar: JupyterLab shows nothing either
            line = _progress_line(model, state) if model else None
            if line is not None:
                outputs.append(nbformat.v4.new_output("stream", name="stdout", text=line))
                continue
            picture = _picture(images, lesson, cell.source)
            if picture is None:
                logger.warning(
                    f"{lesson}: no picture for the widget of cell {cell.get('id')}"
                    f"; add docs/images/widgets/{lesson}-<function>.png"
                )
            outputs.append(widget_fallback(lesson, cell.source, picture))
        cell.outputs = outputs
    if terms:
        title = next(
            (
                k
                for k, c in enumerate(nb.cells)
                if c.cell_type == "markdown" and re.search(r"(?m)^# ", c.source)
            ),
            -1,
        )
        nb.cells.insert(title + 1, index_cell(terms))
    return nb


def stage_lessons(app: Sphinx) -> None:
    docs = Path(app.srcdir)
    source_dir = docs.parent / "notebooks"
    staged_dir = docs / STAGED
    staged_dir.mkdir(exist_ok=True)
    wanted = set()
    terms = app.config.course_lesson_terms
    for path in sorted(source_dir.glob("*.ipynb")):
        nb = stage(
            nbformat.read(path, as_version=4),
            path.stem,
            docs / "images",
            source_dir,
            staged_dir,
            terms.get(path.stem),
        )
        text = nbformat.writes(nb)
        out = staged_dir / path.name
        wanted.add(out.name)
        if not out.is_file() or out.read_text(encoding="utf-8") != text:
            tmp = out.with_name(f".{out.name}.tmp")  # written whole, then renamed over
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, out)
    for old in staged_dir.glob("*.ipynb"):
        if old.name not in wanted:  # a lesson that was removed or renamed
            old.unlink()


LESSON_LINK = re.compile(r"(\]\s?)\(([^)\s]+\.ipynb(?:#[^)\s]*)?)\)")


def link_lessons(app: Sphinx, docname: str, source: list[str]) -> None:
    """In a guide (docs/**/*.md), a link to a lesson notebook, `../notebooks/NAME.ipynb` (right
    on GitHub), is made a link to the lesson's page on the site, `lessons/NAME.ipynb`."""
    if docname.startswith(STAGED + "/"):
        return
    docs = Path(app.srcdir)
    here = (docs / docname).parent
    notebooks = (docs.parent / "notebooks").resolve()

    def fix(m: re.Match) -> str:
        path, _, anchor = m.group(2).partition("#")
        if re.match(r"[a-z][a-z0-9+.-]*:", path):
            return m.group(0)  # a URL
        target = (here / path).resolve()
        if target.parent != notebooks:
            return m.group(0)
        new = Path(os.path.relpath(docs / STAGED / target.name, here)).as_posix()
        return f"{m.group(1)}({new}{'#' + _slug(anchor) if anchor else ''})"

    source[0] = LESSON_LINK.sub(fix, source[0])


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("course_lesson_terms", {}, "env", dict)
    app.connect("builder-inited", stage_lessons)
    app.connect("source-read", link_lessons)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
