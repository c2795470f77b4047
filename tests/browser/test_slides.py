"""The lessons as live slides: RISE (jupyterlab-rise) in headless Chromium.

For each lesson notebook: open it as a slideshow the way `Alt+R` / the RISE button does (the
`/rise/<path>` page JupyterLab serves), step through it with the space bar as a presenter
does, and check every slide: at least 10 slides, each showing some cells, none much taller
than the screen. Then a widget inside a slide: run the optimizer explorer live in the
slideshow and change a control. And math: a formula renders in the notebook and in slides.
Screenshots go to tests/artifacts/browser/ (COURSE_DOCS_SCREENSHOTS=1 also refreshes the
README's picture of a slide in docs/images/).

The slide metadata comes from `python -m tools.slides`; when these tests fail after lessons
were edited, run it again and look at the screenshots.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest
from lab_driver import (
    ARTIFACTS,
    CELLS_SEL,
    DOCS_IMAGES,
    NOTEBOOKS,
    REPO,
    Lab,
    cells_needed,
    expect,
    find_cell,
)

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1280, "height": 800}  # a laptop screen or a projector
MAX_SLIDE_RATIO = 1.5  # no slide's content may be more than 1.5 screens tall
MIN_SLIDES = 10
LESSONS = sorted(p.name for p in NOTEBOOKS.glob("lesson*.ipynb"))
STEP_TIMEOUT_MS = 3_000  # a key press moves the slideshow at once; this long means "the end"

# The state of the slideshow: which slide (h, v), how many fragments are shown, and the
# current slide's content height and cells.
_STATE_JS = """() => {
    const stacks = [...document.querySelectorAll('.reveal .slides > section')];
    const h = stacks.findIndex(s => s.classList.contains('present'));
    if (h < 0) return null;
    const subs = [...stacks[h].querySelectorAll(':scope > section')];
    const v = subs.length ? subs.findIndex(s => s.classList.contains('present')) : 0;
    const slide = subs.length ? subs[v] : stacks[h];
    const cells = [...slide.querySelectorAll('.jp-Cell')].filter(c => c.offsetHeight > 0);
    return {h, v, nh: stacks.length, nv: subs.length,
            fragments: slide.querySelectorAll('.fragment.visible').length,
            height: slide.scrollHeight, cells: cells.length,
            first: cells.length ? cells[0].innerText.trim().split('\\n')[0].slice(0, 80) : ''};
}"""


def _require_rise() -> None:
    if importlib.util.find_spec("jupyterlab_rise") is None:
        reason = (
            "RISE for JupyterLab is not installed: pip install -e '.[slides]' "
            "(jupyterlab-rise, with jupyterlab_widgets 3.0.10 so that widgets show in slides)"
        )
        if os.environ.get("COURSE_REQUIRE_BROWSER", "") not in ("", "0"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


def open_slideshow(lab: Lab, path: str, cell: int = 0) -> None:
    """Open the notebook at `path` (relative to the repository) as a slideshow, starting at the
    slide that holds cell `cell`; wait until it is drawn."""
    page = lab.page
    page.set_viewport_size(VIEWPORT)
    page.goto(f"{lab.server.url}/rise/{path}?activeCellIndex={cell}&token={lab.server.token}")
    page.wait_for_function(f"(() => {{ const s = ({_STATE_JS})(); return s && s.cells > 0; }})()")


def state(lab: Lab) -> dict[str, Any]:
    return lab.page.evaluate(_STATE_JS)


def step_through(lab: Lab) -> list[dict[str, Any]]:
    """Press space until the slideshow stops moving; return the state at each slide."""
    page, seen, key = lab.page, [], None
    page.locator(".reveal").click(position={"x": 5, "y": 5})  # the keys go to the slideshow
    while True:
        now = state(lab)
        if (now["h"], now["v"]) not in {(s["h"], s["v"]) for s in seen}:
            seen.append(now)
        key = (now["h"], now["v"], now["fragments"])
        page.keyboard.press("Space")
        try:
            page.wait_for_function(
                f"""k => {{ const s = ({_STATE_JS})();
                           return s && (s.h !== k[0] || s.v !== k[1] || s.fragments !== k[2]); }}""",
                arg=list(key),
                timeout=STEP_TIMEOUT_MS,
                polling=50,
            )
        except Exception as e:  # Playwright's TimeoutError: nothing moved, this is the end
            if "Timeout" not in type(e).__name__:
                raise
            return seen


@pytest.fixture(autouse=True)
def _rise_installed() -> None:
    _require_rise()


@pytest.mark.parametrize("name", LESSONS)
def test_slideshow(lab: Lab, name: str) -> None:
    """Every slide of the lesson, in order: at least 10, none empty, none much taller than the
    screen; the last one is reached."""
    open_slideshow(lab, f"notebooks/{name}")
    lab.screenshot("first")
    slides = step_through(lab)
    last = slides[-1]
    assert last["h"] == last["nh"] - 1 and last["v"] == max(last["nv"] - 1, 0), (
        f"{name}: the slideshow stopped at slide {last['h']}.{last['v']} of {last['nh']}"
    )
    assert len(slides) >= MIN_SLIDES, f"{name}: {len(slides)} slides, expected at least 10"
    empty = [f"{s['h']}.{s['v']}" for s in slides if s["cells"] == 0]
    assert not empty, f"{name}: slides without a visible cell: {empty}"
    limit = MAX_SLIDE_RATIO * VIEWPORT["height"]
    tall = [
        f"slide {s['h']}.{s['v']} ({s['height']} px, starts {s['first']!r})"
        for s in slides
        if s["height"] > limit
    ]
    assert not tall, (
        f"{name}: slides taller than {MAX_SLIDE_RATIO} screens "
        f"({VIEWPORT['height']} px): {tall}; run `python -m tools.slides`"
    )
    tallest = max(slides, key=lambda s: s["height"])
    (ARTIFACTS / f"slides-{Path(name).stem}.json").write_text(json.dumps(slides, indent=1))
    print(f"{name}: {len(slides)} slides, tallest {tallest['height']} px")
    lab.assert_no_errors()


def test_widget_in_slide(lab: Lab) -> None:
    """The optimizer explorer runs live inside a slide: it renders (not "Error displaying
    widget") and redraws its plot when another optimizer is chosen."""
    name = "lesson6-sgd.ipynb"
    path = NOTEBOOKS / name
    if not path.exists():
        pytest.skip(f"notebooks/{name} does not exist")
    explorer = find_cell(path, "make_optimizer_explorer(")
    # What an instructor does first: run the lesson (here only what the explorer needs) in
    # JupyterLab; the slideshow then shares that kernel.
    lab.open(name)
    lab.run_cells([i for i in cells_needed(path, "make_optimizer_explorer(") if i != explorer])
    open_slideshow(lab, f"notebooks/{name}", cell=explorer)
    page = lab.page
    cell = page.locator(".reveal .jp-CodeCell", has_text="make_optimizer_explorer(").first
    expect(cell).to_be_visible()  # on the slide the slideshow opened at
    cell.locator(".jp-InputPrompt").click()
    page.keyboard.press("Control+Enter")  # run it live and stay on the slide
    out = cell.locator(".jp-OutputArea")
    expect(out.locator(".jupyter-widgets").first).to_be_visible()
    for problem in ("Error displaying widget", "Loading widget..."):
        expect(page.get_by_text(problem)).to_have_count(0)
    plot = out.locator(".widget-output img").first
    expect(plot).to_have_attribute("src", re.compile(r"^data:image/"))
    before = plot.get_attribute("src")
    select = out.locator(".widget-dropdown select").first
    labels = select.evaluate("s => [...s.options].map(o => o.text)")
    current = select.evaluate("s => s.selectedIndex")
    select.select_option(index=(current + 1) % len(labels))
    expect(plot).not_to_have_attribute("src", before)
    # The whole slide in the picture: a taller window (reveal.js lays the slide out again).
    page.set_viewport_size({"width": VIEWPORT["width"], "height": 1100})
    expect(plot).to_be_in_viewport()
    _docs_picture(lab.screenshot("widget"), "slides-lesson6-sgd.png")
    lab.assert_no_errors()


PANE_WINDOW = {"width": 1400, "height": 900}  # Alt+R splits it: the slides get about 530 px
PANE_STEPS = 15  # key presses through the first slides in the pane
# In the slideshow pane: its size, the heading's height, what sticks out on the right, and
# how headings break their lines.
_PANE_JS = """() => {
    const reveal = document.querySelector('.reveal'), w = reveal.clientWidth;
    const shown = [...document.querySelectorAll('.reveal section.present *')]
        .filter(e => e.offsetParent !== null);
    const heading = shown.find(e => /^H[12]$/.test(e.tagName));
    return {width: w, height: reveal.clientHeight,
            heading: heading ? heading.getBoundingClientRect().height : 0,
            wordBreak: heading ? getComputedStyle(heading).wordBreak : 'normal',
            overflowWrap: heading ? getComputedStyle(heading).overflowWrap : 'normal',
            past: shown.filter(e => e.getBoundingClientRect().right > w + 1)
                       .slice(0, 3).map(e => e.className.toString().slice(0, 40) || e.tagName),
            fullscreen: !!document.fullscreenElement};
}"""


def test_side_pane_and_full_screen(lab: Lab) -> None:
    """Presenting as the docs say: Alt+R shows the slides in a pane beside the notebook,
    readable there (the title fits, nothing runs off the right edge, words are not cut); a
    second Alt+R opens no second pane; the pane's full-screen button fills the screen with the
    slideshow. RISE's stylesheets (rise.css, <lesson>.css) are answered as CSS."""
    name = "lesson6-sgd.ipynb"
    if not (NOTEBOOKS / name).exists():
        pytest.skip(f"notebooks/{name} does not exist")
    folder = ARTIFACTS / "present"  # a scratch copy (git-ignored): Alt+R saves the notebook
    folder.mkdir(parents=True, exist_ok=True)
    for file in (name, "rise.css", name.replace(".ipynb", ".css")):
        shutil.copyfile(NOTEBOOKS / file, folder / file)
    page, css = lab.page, {}
    page.set_viewport_size(PANE_WINDOW)
    page.on(
        "response",
        lambda r: (
            css.update({r.url.rsplit("/", 1)[-1]: (r.status, r.headers.get("content-type"))})
            if "/files/" in r.url and r.url.endswith(".css")
            else None
        ),
    )
    rel = (folder / name).relative_to(REPO).as_posix()
    page.goto(f"{lab.server.url}/lab/tree/{rel}?reset&token={lab.server.token}")
    expect(page.locator(CELLS_SEL).first).to_be_visible()
    lab.wait_idle()
    lab.cell(0).click()
    page.keyboard.press("Escape")  # command mode, as after running a cell
    page.keyboard.press("Alt+r")
    pane = page.wait_for_selector(".jp-MainAreaWidget iframe").content_frame()
    pane.wait_for_function(
        "() => [...document.querySelectorAll('.reveal section.present .jp-Cell')]"
        ".some(c => c.offsetHeight > 0)"
    )
    lab.screenshot("pane-title")
    pane.locator(".reveal").click(position={"x": 5, "y": 5})

    def settled() -> dict[str, Any]:
        try:  # a slide slides in from the right: wait until it is in place
            pane.wait_for_function(f"() => !({_PANE_JS})().past.length", timeout=STEP_TIMEOUT_MS)
        except Exception as e:  # Playwright's TimeoutError: something stays cut off
            if "Timeout" not in type(e).__name__:
                raise
        return pane.evaluate(_PANE_JS)

    for step in range(PANE_STEPS):
        now = settled()
        assert now["width"] < 700, f"the pane is {now['width']} px wide: not a side pane"
        assert now["heading"] < 0.35 * now["height"], (
            f"step {step}: the heading takes {now['heading']:.0f} of {now['height']} px"
        )
        assert not now["past"], f"step {step}: cut off on the right: {now['past']}"
        assert (now["wordBreak"], now["overflowWrap"]) == ("normal", "normal"), now
        pane.locator("body").press("Space")
    settled()
    lab.screenshot("pane-slide")

    pane.locator("body").press("Alt+r")  # in the slideshow, then in the notebook
    lab.cell(0).click()
    page.keyboard.press("Escape")
    page.keyboard.press("Alt+r")
    expect(page.locator(".jp-MainAreaWidget iframe")).to_have_count(1)

    page.locator("jp-button[title='Open the slideshow in full screen']").first.click()
    # One call reads the state it waited for: the pane may reload while it goes full screen,
    # so a moment without a slideshow (.reveal) is waited out rather than read.
    full = pane.wait_for_function(
        f"() => {{ const now = document.querySelector('.reveal') && ({_PANE_JS})();"
        " return now && now.fullscreen && now; }"
    ).json_value()
    assert (full["width"], full["height"]) == (PANE_WINDOW["width"], PANE_WINDOW["height"]), full
    lab.screenshot("full-screen")
    for sheet in ("rise.css", name.replace(".ipynb", ".css")):
        status, kind = css.get(sheet, (None, None))
        assert status == 200 and (kind or "").startswith("text/css"), f"{sheet}: {status} {kind}"
    lab.assert_no_errors()


MATH_NOTEBOOK = {
    "cells": [
        {
            "cell_type": "markdown",
            "id": "math-text",
            "metadata": {"slideshow": {"slide_type": "slide"}},
            "source": "# Math check\n\nThe sigmoid $\\sigma(x) = 1/(1 + e^{-x})$ and\n\n"
            "$$\\hat{y} = \\sigma(a x + b)$$",
        },
        {
            "cell_type": "code",
            "id": "math-output",
            "metadata": {"slideshow": {"slide_type": "slide"}},
            "execution_count": 1,
            "source": "Math(r'\\frac{\\partial L}{\\partial a}')",
            "outputs": [
                {
                    "output_type": "execute_result",
                    "execution_count": 1,
                    "metadata": {},
                    "data": {
                        "text/latex": "$\\frac{\\partial L}{\\partial a}$",
                        "text/plain": "<IPython.core.display.Math object>",
                    },
                }
            ],
        },
    ],
    "metadata": {
        "kernelspec": {
            "name": "python3",
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
        }
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}


def test_math_renders(lab: Lab) -> None:
    """Formulas (markdown and LaTeX outputs) are typeset by MathJax in the notebook and in
    the slideshow, whichever MathJax extension JupyterLab uses."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    nb_path = ARTIFACTS / "math-check.ipynb"  # git-ignored; the server only reads it
    nbformat.write(nbformat.from_dict(MATH_NOTEBOOK), nb_path)
    rel = nb_path.relative_to(REPO).as_posix()
    page = lab.page
    page.goto(f"{lab.server.url}/lab/tree/{rel}?reset&token={lab.server.token}")
    expect(page.locator(".jp-Notebook mjx-container")).to_have_count(3)
    open_slideshow(lab, rel)
    expect(page.locator(".reveal mjx-container")).to_have_count(3)
    lab.screenshot("math")
    lab.assert_no_errors()


def _docs_picture(shot: Path, image: str) -> None:
    """With COURSE_DOCS_SCREENSHOTS=1, copy a screenshot (reduced) to docs/images/<image>."""
    if os.environ.get("COURSE_DOCS_SCREENSHOTS") != "1":
        return
    from PIL import Image

    im = Image.open(shot).convert("RGB")
    im.thumbnail((1000, 1000))
    DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
    im.quantize(colors=128).save(DOCS_IMAGES / image, optimize=True)
