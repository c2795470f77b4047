"""tools/slides.py: slide metadata from a notebook's structure (the slideshow itself is
checked in a browser by tests/browser/test_slides.py)."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import nbformat
import pytest
from PIL import Image

from course_utils import workspace
from tools import slides

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _png(width: int, height: int) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (width, height)).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def _notebook() -> nbformat.NotebookNode:
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    plot = nbformat.v4.new_output(
        "display_data", data={"image/png": _png(400, 300), "text/plain": "<Figure>"}
    )
    listing = nbformat.v4.new_output(
        "display_data",
        data={"text/html": "<pre>" + "x\n" * 80 + "</pre>", "text/plain": "line\n" * 80},
    )
    cells = [
        md("# Title\n\nWhat this lesson does."),
        code("import torch\nimport numpy as np"),  # setup, no output
        md("## 1. First section\n\nSome text."),
        code("plot()", outputs=[plot]),
        md("The plot shows a line."),
        code("more()", outputs=[nbformat.v4.new_output("stream", text="ok\n")]),
        md("Closing words.\n\n### A subsection"),
        code("show_source(Model)", outputs=[listing]),
        md("## 2. Second section"),
        code("\n".join(f"x{i} = {i}" for i in range(5)), outputs=[plot]),
        code("again()", outputs=[plot]),
    ]
    return nbformat.v4.new_notebook(cells=cells)


def test_plan_follows_the_structure():
    types = [p.slide_type for p in slides.plan(_notebook())]
    assert types == [
        "slide",
        "skip",
        "slide",
        "-",
        "fragment",
        "subslide",
        "subslide",
        "notes",
        "slide",
        "-",
        "subslide",
    ]


def test_heights_come_from_the_outputs():
    nb = _notebook()
    small = slides.code_height(nb.cells[3], {})
    nb.cells[3].outputs[0]["data"]["image/png"] = _png(400, 600)
    assert slides.code_height(nb.cells[3], {}) == pytest.approx(small + 300)
    assert slides.image_size(_png(123, 45)) == (123, 45)


def test_apply_writes_only_slide_metadata_and_is_idempotent(tmp_path):
    path = tmp_path / "lesson.ipynb"
    nbformat.write(_notebook(), path)
    before = json.loads(path.read_text())
    assert slides.apply(path) is True
    after = json.loads(path.read_text())
    first = path.read_bytes()
    assert slides.apply(path) is False and path.read_bytes() == first  # nothing to do
    assert slides.apply(path, check=True) is False
    for old, new in zip(before["cells"], after["cells"], strict=True):
        assert old["source"] == new["source"] and old.get("outputs") == new.get("outputs")
        meta = dict(new["metadata"])
        assert set(meta.pop("slideshow")) == {"slide_type"}
        assert meta == old["metadata"]
    assert after["metadata"]["rise"] == slides.RISE_SETTINGS


def test_late_headings_are_reported():
    nb = _notebook()
    assert slides.late_headings(nb) == [(6, "### A subsection")]


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_committed_notebooks_have_current_slide_metadata(path):
    if slides.apply(path, check=True):
        # A lesson run in JupyterLab and saved in place has other outputs, hence other slide
        # heights: the fix is to restore it, not to plan its slides again.
        ran_in_place = workspace.in_place_message(path)
        assert ran_in_place is None, ran_in_place
        pytest.fail(
            f"the slide metadata of {path.name} is out of date: run `python -m tools.slides`"
        )


def test_lesson_css_stub_is_written_once(tmp_path):
    path = tmp_path / "lesson.ipynb"
    nbformat.write(_notebook(), path)
    assert slides.lesson_css(path, check=True) == tmp_path / "lesson.css"
    assert not (tmp_path / "lesson.css").exists()  # --check changes nothing
    assert slides.lesson_css(path) == tmp_path / "lesson.css"
    assert "rise.css" in (tmp_path / "lesson.css").read_text()
    assert slides.lesson_css(path) is None  # there now: left alone


def test_every_lesson_has_the_stylesheets_rise_asks_for():
    """RISE loads rise.css and <lesson>.css from the notebook's folder; a missing one is
    answered with an HTML page (a MIME error in the browser's console)."""
    assert (NOTEBOOKS / "rise.css").is_file()
    missing = [
        p.with_suffix(".css").name
        for p in NOTEBOOKS.glob("*.ipynb")
        if not p.with_suffix(".css").is_file()
    ]
    assert not missing, f"missing {missing}: run `python -m tools.slides`"
