"""The course the way a student meets it: JupyterLab in a real (headless) browser.

`pytest --nbval` checks what the kernel computes; these tests check what the student sees.
For each notebook: open it in JupyterLab, wait for the kernel, run the cells that build its
plots, widgets and animation (or all of it), and look at the rendered page: plots are loaded
images, widgets show their controls (not "Error displaying widget"), a widget's output changes
when a control changes, the animation's buttons step through frames. A screenshot of each
checked view goes to tests/artifacts/browser/ (git-ignored): look at them.

Run just these: `pytest tests/browser`. They need Chromium (`sudo apt-get install chromium`)
and skip without it, unless COURSE_REQUIRE_BROWSER=1 (CI), where they fail instead.
Refresh the README's screenshots (docs/images/) with COURSE_DOCS_SCREENSHOTS=1.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from lab_driver import (
    ARTIFACTS,
    CELLS_SEL,
    LAB_SETTINGS,
    NOTEBOOKS,
    REPO,
    Lab,
    cells_needed,
    cheap_plot_cells,
    code_cells,
    expect,
    find_cell,
    image_cells,
)

pytestmark = pytest.mark.browser

WIDGETS_EXTENSION = "@jupyter-widgets/jupyterlab-manager"

# Time the plot-only lessons may spend re-running cells, judged from the recorded times of
# their committed outputs (the whole module must stay under 5 minutes on a 2-core laptop).
PLOT_BUDGET_S = 20


def notebook(name: str) -> str:
    """`name`, or a skip when that lesson is not in the repository (yet)."""
    if not (NOTEBOOKS / name).exists():
        pytest.skip(f"notebooks/{name} does not exist")
    return name


def output_of(lab: Lab, index: int):
    """The output area of cell `index`."""
    return lab.cell(index).locator(".jp-OutputArea")


def choose_other_option(select, prefer: tuple[str, ...] = ()) -> str:
    """Pick another entry of a <select> (an ipywidgets Dropdown): the first of `prefer` that
    it offers, else the next one. Returns the label chosen."""
    # ipywidgets shows the spaces of a label as no-break spaces
    labels = select.evaluate("s => [...s.options].map(o => o.text.replaceAll('\\u00a0', ' '))")
    current = select.evaluate("s => s.selectedIndex")
    assert len(labels) > 1, "a dropdown with a single option cannot be changed"
    wanted = [labels.index(p) for p in prefer if p in labels and labels.index(p) != current]
    index = wanted[0] if wanted else (current + 1) % len(labels)
    select.select_option(index=index)
    return labels[index]


def check_plots(lab: Lab, name: str) -> None:
    """The committed plots show as images when the notebook opens; the plots that can be
    re-run within PLOT_BUDGET_S (with the cells they need) are, and show as images again."""
    path = NOTEBOOKS / notebook(name)
    committed = image_cells(path)
    plots, cells = cheap_plot_cells(path, PLOT_BUDGET_S)
    assert committed, f"{name} has no committed plots (run `make notebooks NB=...`)"
    lab.open(name)
    for i in committed:
        lab.assert_images_render(lab.cell(i))
    lab.screenshot("committed-plots", lab.cell(committed[-1]))
    if not plots:  # every plot needs a long training run: the lesson's setup must run
        lab.docs_screenshot(name.replace(".ipynb", ".png"), lab.cell(committed[-1]))
        lab.run_cells(cells_needed(path))
        return
    lab.run_cells(cells)
    for i in plots:
        lab.assert_images_render(lab.cell(i))
    lab.screenshot("plots", lab.cell(plots[0]))
    lab.docs_screenshot(name.replace(".ipynb", ".png"), lab.cell(plots[0]))


# --------------------------------------------------------------------------- JupyterLab itself


def test_widgets_extension_enabled() -> None:
    """`jupyter labextension list` shows the ipywidgets front end installed, enabled, OK."""
    result = subprocess.run(
        [sys.executable, "-m", "jupyter", "labextension", "list"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    listing = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)  # drop colours
    line = next((ln for ln in listing.splitlines() if WIDGETS_EXTENSION in ln), None)
    assert line is not None, f"{WIDGETS_EXTENSION} is not installed:\n{listing}"
    assert "enabled" in line and "OK" in line, f"not enabled and OK: {line.strip()}"


def test_setup_check(lab: Lab) -> None:
    """00-setup-check runs in the browser, on this environment's kernel, plots included."""
    lab.open(notebook("00-setup-check.ipynb"))
    page_config = lab.page.evaluate(
        "JSON.parse(document.getElementById('jupyter-config-data').textContent)"
    )
    loaded = [e["name"] for e in page_config.get("federated_extensions", [])]
    assert WIDGETS_EXTENSION in loaded, f"JupyterLab did not load {WIDGETS_EXTENSION}: {loaded}"
    assert WIDGETS_EXTENSION not in page_config.get("disabledExtensions", [])
    expect(lab.kernel_status()).to_contain_text("Python 3")

    lab.run_all()  # Run > Run All Cells, as the notebook tells students to
    assert lab.assert_images_render(lab.page) >= 1
    lab.screenshot("run-all", lab.cell(find_cell(lab.path, "plot_loss")))

    # The kernel JupyterLab started is this project's environment.
    scratch = lab.run_scratch("import sys\nprint(sys.prefix)")
    printed = scratch.locator(".jp-OutputArea-output").first.inner_text()
    assert Path(printed.strip()).resolve() == Path(sys.prefix).resolve(), (
        f"the notebook kernel runs in {printed.strip()}, not in this environment ({sys.prefix})"
    )
    lab.assert_no_errors()
    lab.screenshot("kernel")


# --------------------------------------------------------------------------- lessons


def test_lesson5_movielens(lab: Lab) -> None:
    """The MovieLens lesson's plots render as images."""
    check_plots(lab, "lesson5-movielens.ipynb")


def test_lesson5_embeddings(lab: Lab, collab_model: Path) -> None:
    """The embedding explorer, on the saved model (`collab_model`): choose a movie -> its
    neighbours change; choose a PCA component -> the movies at its ends change."""
    path = NOTEBOOKS / notebook("lesson5-embeddings.ipynb")
    explorer_cell = find_cell(path, "make_embedding_explorer(")
    lab.open(path.name)
    lab.run_cells(cells_needed(path, "make_embedding_explorer("))
    out = output_of(lab, explorer_cell)
    lab.assert_widgets_ok(out)
    tabs = out.locator(".widget-tab")
    expect(tabs.get_by_text("Neighbours", exact=True)).to_be_visible()
    expect(tabs.get_by_text("Components", exact=True)).to_be_visible()

    # Tab 1: a movie -> its nearest neighbours.
    movie = out.locator(".widget-dropdown select").first
    neighbours = out.locator(".widget-html").filter(has_text="Nearest to").first
    expect(neighbours.locator("tr")).not_to_have_count(0)
    before = neighbours.inner_text()
    chosen = choose_other_option(movie, prefer=("Toy Story (1995)", "Matrix, The (1999)"))
    expect(neighbours).not_to_have_text(before)
    expect(neighbours).to_contain_text(chosen)
    lab.screenshot("neighbours", lab.cell(explorer_cell))
    lab.docs_screenshot("lesson5-embeddings.png", lab.cell(explorer_cell))

    # Tab 2: a component -> the movies at its two ends.
    tabs.get_by_text("Components", exact=True).click()
    component = out.locator(".widget-dropdown select").filter(visible=True).first
    ends = out.locator(".widget-html").filter(has_text="highest").filter(visible=True).first
    expect(ends.locator("li")).not_to_have_count(0)
    before = ends.inner_text()
    choose_other_option(component)
    expect(ends).not_to_have_text(before)
    lab.assert_no_errors()
    lab.screenshot("components", lab.cell(explorer_cell))


def test_lesson6_sgd(lab: Lab) -> None:
    """The gradient-descent animation steps frame by frame (its JavaScript runs), and the
    optimizer explorer redraws when another optimizer is chosen."""
    path = NOTEBOOKS / notebook("lesson6-sgd.ipynb")
    anim_cell, explorer_cell = (
        find_cell(path, "animate_fit("),
        find_cell(path, "make_optimizer_explorer("),
    )
    lab.open(path.name)
    lab.run_cells(cells_needed(path, "animate_fit(", "make_optimizer_explorer("))

    # The animation: a frame is shown (set by its JavaScript), the buttons are there,
    # "Next frame" moves to another frame, "Play" runs it.
    anim = output_of(lab, anim_cell).locator(".animation")
    frame, slider = anim.locator("img").first, anim.locator("input.anim-slider")
    expect(frame).to_have_attribute("src", re.compile(r"^data:image/"))
    for label in ("First frame", "Previous frame", "Play", "Pause", "Next frame", "Last frame"):
        expect(anim.get_by_role("button", name=label, exact=True)).to_be_visible()
    anim.get_by_role("button", name="First frame", exact=True).click()
    expect(slider).to_have_value("0")
    first = frame.get_attribute("src")
    anim.get_by_role("button", name="Next frame", exact=True).click()
    expect(slider).to_have_value("1")
    assert frame.get_attribute("src") != first, "'Next frame' did not change the picture"
    anim.get_by_role("button", name="Play", exact=True).click()
    expect(slider).not_to_have_value("1")  # it moves on by itself
    anim.get_by_role("button", name="Pause", exact=True).click()
    lab.screenshot("animation", lab.cell(anim_cell))

    # The optimizer explorer: another optimizer -> another path and loss curve.
    out = output_of(lab, explorer_cell)
    lab.assert_widgets_ok(out)
    expect(out.locator(".widget-slider")).not_to_have_count(0)
    plot = out.locator(".widget-output img").first
    expect(plot).to_have_attribute("src", re.compile(r"."))
    lab.docs_screenshot("lesson6-sgd.png", lab.cell(explorer_cell))
    before = plot.get_attribute("src")
    choose_other_option(out.locator(".widget-dropdown select").first, prefer=("Adam",))
    expect(plot).not_to_have_attribute("src", before)
    # A slider moved with the keyboard (continuous_update=False: it redraws on release).
    slider = out.locator(".widget-slider").first
    readout, before = slider.locator(".widget-readout"), plot.get_attribute("src")
    value = readout.inner_text()
    slider.locator(".noUi-handle").press("ArrowRight")
    expect(readout).not_to_have_text(value)
    expect(plot).not_to_have_attribute("src", before)
    lab.assert_images_render(out)
    lab.assert_no_errors()
    lab.screenshot("optimizer-explorer", lab.cell(explorer_cell))


def test_sgd_animation_as_a_student_sees_it(lab: Lab) -> None:
    """Run All with JupyterLab's default settings, where a cell out of view is laid out only
    when scrolled to (matplotlib's player then showed a 0 x 0 picture until Play, and its first
    Play did not move): the SGD animation shows its first frame at its size before anything is
    clicked, Play moves at once, and nothing is fetched from the internet (no icon font)."""
    path = NOTEBOOKS / notebook("lesson6-sgd.ipynb")
    needed = nbformat.read(path, as_version=4).cells
    cells = [
        nbformat.v4.new_code_cell(needed[i].source) for i in cells_needed(path, "animate_fit(")
    ]
    # screens of text before the animation: its output is drawn while it is out of view
    filler = "\n\n".join(f"Paragraph {k} of the text before the animation." for k in range(120))
    cells.insert(len(cells) - 1, nbformat.v4.new_markdown_cell(filler))
    scratch = ARTIFACTS / "lesson6-sgd-animation.ipynb"  # git-ignored
    nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata=kernel_metadata(path)), scratch)

    page, outside = lab.page, []
    page.on(
        "request",
        lambda r: (
            outside.append(r.url)
            if r.url.startswith("http") and not r.url.startswith(lab.server.url)
            else None
        ),
    )
    tracker = "@jupyterlab/notebook-extension:tracker"
    lab.server.set_setting(tracker, {"windowingMode": "contentVisibility"})  # JupyterLab's default
    try:
        page.goto(
            f"{lab.server.url}/lab/tree/{scratch.relative_to(REPO).as_posix()}?reset"
            f"&token={lab.server.token}"
        )
        lab.path = scratch
        expect(page.locator(CELLS_SEL)).to_have_count(len(cells))
        lab.wait_idle()
        lab.menu("Run", "runmenu:run-all")
        lab.wait_ran([i for i, _ in code_cells(scratch)], 240_000)

        anim = lab.cell(len(cells) - 1).locator(".animation")
        frame, slider = anim.locator("img").first, anim.locator("input[type=range]")
        anim.scroll_into_view_if_needed()
        expect(frame).to_be_visible()
        expect(frame).to_have_js_property("complete", True)
        box, natural = (
            frame.bounding_box(),
            frame.evaluate("i => [i.naturalWidth, i.naturalHeight]"),
        )
        assert box is not None and box["width"] >= 400 and box["height"] >= 150, (
            f"the first frame is drawn at {box}, not at its size {natural}"
        )
        expect(slider).to_have_value("0")
        lab.screenshot("sgd-animation-first-frame", lab.cell(len(cells) - 1))
        first = frame.get_attribute("src")
        # The click's handler shows the next frame before it returns: Play moves at once.
        shown = anim.get_by_role("button", name="Play", exact=True).evaluate(
            "b => { b.click(); return b.closest('.animation').querySelector('input').value; }"
        )
        assert shown == "1", f"Play showed frame {shown}, not the next one (1)"
        assert frame.get_attribute("src") != first, "Play moved the slider but not the picture"
        expect(slider).not_to_have_value("1")  # and it goes on by itself
        anim.get_by_role("button", name="Pause", exact=True).click()
        lab.screenshot("sgd-animation-playing", lab.cell(len(cells) - 1))
        assert not outside, f"the page fetched from the internet: {outside}"
        lab.assert_no_errors()
    finally:
        lab.server.set_setting(tracker, LAB_SETTINGS[tracker.replace(":", "/")])


def kernel_metadata(path: Path) -> dict:
    """The notebook's kernel and language settings, for a scratch copy of some of its cells."""
    meta = nbformat.read(path, as_version=4).metadata
    return {k: meta[k] for k in ("kernelspec", "language_info") if k in meta}


def test_lesson6_rnn_gated(lab: Lab, char_model: Path) -> None:
    """The text generator, rebuilt from a saved char-RNN (`char_model`) as the lesson explains,
    writes new text when the seed text changes."""
    path = NOTEBOOKS / notebook("lesson6-rnn-gated.ipynb")
    find_cell(path, "make_text_generator(")  # the lesson builds the generator this way
    lab.open(path.name)
    lab.run_cells(cells_needed(path))  # the lesson's imports and settings
    cell = lab.run_scratch(
        "from course_utils import model_path\n"
        "from course_utils.widgets import make_text_generator\n\n"
        f'make_text_generator(model_path("{char_model.name}"))'
    )
    out = cell.locator(".jp-OutputArea")
    lab.assert_widgets_ok(out)
    expect(out.locator(".widget-slider")).to_have_count(2)  # length, temperature
    seed = out.locator(".widget-text input").first
    text = out.locator(".widget-html").last
    expect(text).to_contain_text(seed.input_value().strip())
    before = text.inner_text()
    seed.fill("the will to power ")
    seed.press("Enter")  # the box updates on Enter (continuous_update=False)
    expect(text).not_to_have_text(before)
    expect(text).to_contain_text("the will to power")
    lab.assert_no_errors()
    lab.screenshot("generator", cell)
    lab.docs_screenshot("lesson6-rnn-gated.png", cell)


def test_lesson3_rossmann(lab: Lab) -> None:
    """The Rossmann lesson's plots render as images."""
    check_plots(lab, "lesson3-rossmann.ipynb")
