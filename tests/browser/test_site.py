"""The course website (`make site`) in headless Chromium, served from 127.0.0.1.

The site is built first, as `make site` builds it (Sphinx + MyST-NB, offline, from the
committed notebooks, nothing executed, warnings as errors), into build/site/; the build must
print no warning. Then every page reachable from the home page is opened: no JavaScript error
or console error, no request that fails, every image loaded, every link inside the site
pointing at a page, file or anchor that exists, every page of docs/ reachable. Each lesson has
its page with its committed plots and no test tags; its widgets show a picture and a sentence
(never "Error displaying widget"); the SGD animation steps through its frames; the API page
documents every module of `course_utils`; the instructor guide names every lesson; the
lessons are listed in the same order in the README, on the home page and in the navigation.
There is one search box, and searching "momentum" lists the SGD lesson first.
Screenshots go to tests/artifacts/browser/ (COURSE_DOCS_SCREENSHOTS=1 also refreshes the
README's picture of a site page in docs/images/).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import pkgutil
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag

import nbformat
import pytest
from lab_driver import ARTIFACTS, DOCS_IMAGES, NOTEBOOKS, REPO, expect, image_cells

pytestmark = pytest.mark.browser

SITE = REPO / "build" / "site"
DOCS = REPO / "docs"
SITE_BUILD = [
    sys.executable,
    "-m",
    "sphinx",
    "-E",
    "-W",
    "--keep-going",
    "-b",
    "html",
    "-q",
    "-d",
    str(REPO / "build" / "doctrees"),
    str(DOCS),
    str(SITE),
]  # = make site
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_PROBLEMS = ("Error displaying widget", "Loading widget...")
LESSONS = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def site_build() -> subprocess.CompletedProcess:
    """The output of building build/site/ afresh, the way `make site` builds it (-W: a warning
    fails the build, and --keep-going still writes every page, so the pages can be checked)."""
    missing = [
        m for m in ("sphinx", "myst_nb", "sphinx_book_theme") if importlib.util.find_spec(m) is None
    ]
    if missing:
        reason = (
            f"the website tools are not installed ({', '.join(missing)}): pip install -e '.[site]'"
        )
        if os.environ.get("COURSE_REQUIRE_BROWSER", "") not in ("", "0"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return subprocess.run(SITE_BUILD, cwd=REPO, capture_output=True, text=True, timeout=1200)


@pytest.fixture(scope="module")
def site(site_build: subprocess.CompletedProcess) -> Path:
    """build/site/, built afresh (a build that only warned still checks its pages)."""
    if not (SITE / "index.html").is_file() or not (SITE / "searchindex.js").is_file():
        pytest.fail(
            f"`make site` wrote no site:\n{site_build.stdout[-3000:]}\n{site_build.stderr[-6000:]}",
            pytrace=False,
        )
    return SITE


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        pass


@pytest.fixture(scope="module")
def site_url(site: Path) -> Iterator[str]:
    """The built site served over HTTP on 127.0.0.1 (a free port) while the tests run."""
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


class Visit:
    """A browser page that records every error the pages it opens produce."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.current, self.problems = "", []
        p = self.page
        p.on(
            "console",
            lambda m: (
                m.type == "error"
                and self.problems.append(f"{self.current}: console error: {m.text}")
            ),
        )
        p.on("pageerror", lambda e: self.problems.append(f"{self.current}: JavaScript: {e}"))
        p.on(
            "requestfailed",
            lambda r: (
                "ERR_ABORTED" not in (r.failure or "")  # navigated on
                and self.problems.append(f"{self.current}: request failed: {r.url} ({r.failure})")
            ),
        )
        p.on(
            "response",
            lambda r: (
                r.status >= 400
                and self.problems.append(f"{self.current}: HTTP {r.status} for {r.url}")
            ),
        )

    def open(self, url: str) -> None:
        self.current = url
        self.page.goto(url, wait_until="load")

    def screenshot(self, name: str, docs_image: str | None = None) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.mouse.move(0, 0)
        out = ARTIFACTS / f"site-{name}.png"
        self.page.screenshot(path=str(out))
        if docs_image and os.environ.get("COURSE_DOCS_SCREENSHOTS") == "1":
            from PIL import Image

            im = Image.open(out).convert("RGB")
            im.thumbnail((1000, 1000))
            DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
            im.quantize(colors=128).save(DOCS_IMAGES / docs_image, optimize=True)
        return out


@pytest.fixture
def visit(browser: Any) -> Iterator[Visit]:
    v = Visit(browser)
    try:
        yield v
    finally:
        v.context.close()


# --------------------------------------------------------------------------- checks

_PAGE_JS = """() => ({
    images: [...document.images].map(i => [i.currentSrc || i.src, i.complete, i.naturalWidth]),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id).concat(
         [...document.querySelectorAll('a[name]')].map(e => e.name)),
    text: document.body.innerText,
})"""


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_build_has_no_warnings(site_build: subprocess.CompletedProcess) -> None:
    """`make site` builds with warnings as errors: the build prints no warning and succeeds.
    (A warning from a docstring names its module: fix the docstring's reStructuredText.)"""
    warnings = [
        ln
        for ln in (site_build.stdout + site_build.stderr).splitlines()
        if "WARNING" in ln or "ERROR" in ln
    ]
    assert not warnings, f"{len(warnings)} warning(s) in the site build:\n" + "\n".join(warnings)
    assert site_build.returncode == 0, f"`make site` failed:\n{site_build.stderr[-6000:]}"


def test_every_page(site_url: str, visit: Visit) -> None:
    """Every page reachable from the home page loads without errors; all its images load;
    every internal link (pages, anchors, downloads) resolves."""
    todo, seen, ids, anchors, broken = ["index.html"], set(), {}, [], []
    checked_files: set[str] = set()
    while todo:
        path = todo.pop(0)
        if path in seen:
            continue
        seen.add(path)
        visit.open(site_url + path)
        info = visit.page.evaluate(_PAGE_JS)
        ids[path] = set(info["ids"])
        for src, complete, width in info["images"]:
            if not (complete and width > 0):
                broken.append(f"{path}: image did not load: {src[:120]}")
        for problem in WIDGET_PROBLEMS:  # the guides may name the message; lessons never show it
            if path.startswith("lessons/") and problem in info["text"]:
                broken.append(f"{path}: shows {problem!r}")
        for href in info["links"]:
            url, fragment = urldefrag(href)
            if not url.startswith(site_url):
                continue  # another site: not reachable offline, not checked
            target = unquote(url[len(site_url) :]) or "index.html"
            if target.endswith("/"):
                target += "index.html"
            if target.endswith(".html"):
                if not (SITE / target).is_file():
                    broken.append(f"{path}: link to a missing page {target}")
                    continue
                todo.append(target)
                if fragment:
                    anchors.append((path, target, unquote(fragment)))
            elif target not in checked_files:
                checked_files.add(target)
                if _status(url) != 200:
                    broken.append(f"{path}: link to a missing file {target}")
    for path, target, fragment in anchors:
        if target in ids and fragment not in ids[target]:
            broken.append(f"{path}: link to a missing anchor {target}#{fragment}")
    sources = SITE / "_sources"  # every page the build made, by its source (html_copy_source)
    expected = {
        *(
            p.relative_to(sources).with_suffix("").with_suffix(".html").as_posix()
            for p in sources.glob("**/*.md")
        ),
        *(f"lessons/{name}.html" for name in LESSONS),
    }
    assert not expected - seen, f"pages not reachable from the home page: {expected - seen}"
    assert not broken, "\n".join(broken)
    assert not visit.problems, "\n".join(visit.problems)
    print(f"{len(seen)} pages, {len(checked_files)} files, {len(anchors)} anchors checked")


def _interactive_widgets(nb: Any) -> int:
    """Widget outputs that need a kernel (not progress bars, which become text or vanish)."""
    state = (
        nb.metadata.get("widgets", {})
        .get("application/vnd.jupyter.widget-state+json", {})
        .get("state", {})
    )
    n = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            view = out.get("data", {}).get(WIDGET_VIEW)
            if view is None:
                continue
            model = state.get(view.get("model_id"), {})
            children = [
                state.get(str(c).removeprefix("IPY_MODEL_"), {})
                for c in model.get("state", {}).get("children", [])
            ]
            if not any(c.get("model_name", "").endswith("ProgressModel") for c in children):
                n += 1
    return n


@pytest.mark.parametrize("name", LESSONS)
def test_lesson_page(site_url: str, visit: Visit, name: str) -> None:
    """The lesson's page shows its title, its committed plots and, for each interactive
    widget, a picture of it with a sentence on how to use it live."""
    path = NOTEBOOKS / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    visit.open(f"{site_url}lessons/{name}.html")
    page = visit.page
    title = next(
        ln[2:].strip()
        for c in nb.cells
        if c.cell_type == "markdown"
        for ln in c.source.splitlines()
        if ln.startswith("# ")
    )
    expect(page.locator("h1").first).to_contain_text(re.sub(r"[`*_]", "", title)[:40])
    plots = sum(
        1
        for i in image_cells(path)
        for o in nb.cells[i].outputs
        if "image/png" in o.get("data", {})
    )
    shown = page.locator(".cell_output img")
    assert shown.count() >= plots, f"{name}: {shown.count()} pictures, {plots} committed plots"
    fallbacks = page.locator(".widget-fallback")
    expect(fallbacks).to_have_count(_interactive_widgets(nb))
    for k in range(fallbacks.count()):
        img = fallbacks.nth(k).locator("img")
        expect(img).to_have_count(1)
        img.scroll_into_view_if_needed()
        assert img.evaluate("i => i.complete && i.naturalWidth > 0"), f"{name}: widget picture"
        expect(fallbacks.nth(k)).to_contain_text("make lab")
    for problem in WIDGET_PROBLEMS:
        expect(page.get_by_text(problem)).to_have_count(0)
    tagged = page.locator("[class*='tag_nbval']")  # MyST-NB makes a cell's tags its classes
    assert tagged.count() == 0, f"{name}: {tagged.count()} cells carry the notebook tests' tags"
    if fallbacks.count():
        fallbacks.first.scroll_into_view_if_needed()
        visit.screenshot(f"{name}-widget")
    assert not visit.problems, "\n".join(visit.problems)


def test_sgd_animation(site_url: str, visit: Visit) -> None:
    """The gradient-descent animation of lesson6-sgd plays on the static page: its buttons
    step from frame to frame (matplotlib's JavaScript player, no kernel needed)."""
    name = "lesson6-sgd"
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    cell = next((c for c in nb.cells if c.cell_type == "code" and "animate_fit(" in c.source), None)
    if cell is None:
        pytest.skip(f"{name} has no animate_fit cell")
    assert any("anim" in o.get("data", {}).get("text/html", "") for o in cell.outputs), (
        f"{name}: the animation cell has no committed output: run "
        f"`make notebooks NB=notebooks/{name}.ipynb`"
    )
    visit.open(f"{site_url}lessons/{name}.html")
    anim = visit.page.locator(".animation").first
    anim.scroll_into_view_if_needed()
    frame, slider = anim.locator("img").first, anim.locator("input[type=range]").first
    expect(frame).to_have_attribute("src", re.compile(r"^data:image/"))
    last = int(slider.get_attribute("max"))
    pictures = set()
    for button, position in (
        ("First frame", 0),
        ("Next frame", 1),
        ("Last frame", last),
        ("Previous frame", last - 1),
    ):
        anim.get_by_role("button", name=button, exact=True).click()
        expect(slider).to_have_value(str(position))
        pictures.add(frame.get_attribute("src"))
    assert len(pictures) == 4, "the buttons moved the slider but not the picture"
    visit.page.evaluate("e => e.scrollIntoView({block: 'start'})", anim.element_handle())
    visit.page.mouse.wheel(0, -120)
    visit.screenshot(f"{name}-animation", docs_image="site-lesson6-sgd.png")
    assert not visit.problems, "\n".join(visit.problems)


def test_api_page(site_url: str, visit: Visit) -> None:
    """The API page documents every module of course_utils, from its docstrings."""
    import course_utils

    modules = ["course_utils"] + [
        m.name
        for m in pkgutil.walk_packages(course_utils.__path__, "course_utils.")
        if not m.name.endswith("__main__")
    ]
    visit.open(f"{site_url}api.html")
    ids = set(visit.page.evaluate("() => [...document.querySelectorAll('[id]')].map(e => e.id)"))
    missing = [m for m in modules if f"module-{m}" not in ids]
    assert not missing, f"modules missing from docs/api.md: {missing}"
    assert {"course_utils.learner.fit", "course_utils.show_source"} <= ids
    expect(visit.page.locator("dl.py.function").first).to_be_visible()
    assert not visit.problems, "\n".join(visit.problems)


def test_home_and_guide(site_url: str, visit: Visit) -> None:
    """The home page lists every lesson and links the workbooks; the instructor guide has a
    section for every lesson notebook."""
    visit.open(site_url)
    page = visit.page
    for name in LESSONS:
        expect(page.locator(f"article a[href='lessons/{name}.html']").first).to_be_visible()
    for book in sorted((REPO / "excel").glob("*.xlsx")):
        link = page.locator(f"article a[href$='/{book.name}']").first
        expect(link).to_be_visible()
        assert _status(site_url + link.get_attribute("href")) == 200
    visit.screenshot("index")
    visit.open(f"{site_url}instructor-guide.html")
    text = visit.page.locator("article").inner_text()
    missing = [f"{name}.ipynb" for name in LESSONS if f"{name}.ipynb" not in text]
    assert not missing, f"docs/instructor-guide.md does not cover {missing}"
    assert not visit.problems, "\n".join(visit.problems)


def _lesson_order(hrefs: list[str]) -> list[str]:
    """The lessons in the order of `hrefs` (links to notebooks or lesson pages), each once."""
    names = [m.group(1) for h in hrefs if (m := re.search(r"([\w-]+)\.(?:ipynb|html)$", h))]
    return list(dict.fromkeys(n for n in names if n in LESSONS))


def test_lesson_order(site_url: str, visit: Visit) -> None:
    """The lessons come in the same order, the order a student takes them, in the README's
    table, on the home page and in the site's navigation; every lesson is in each."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Lessons") :].split("\n## ")[0]
    in_readme = _lesson_order(re.findall(r"\(notebooks/([\w-]+\.ipynb)\)", table))
    visit.open(site_url)
    page = visit.page
    on_home = _lesson_order(
        page.locator("article table a").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
    )
    in_nav = _lesson_order(
        page.locator("nav.bd-docs-nav a").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
    )
    assert sorted(in_readme) == LESSONS, f"README's lessons table: {in_readme}"
    assert on_home == in_readme, f"home page {on_home} against README {in_readme}"
    assert in_nav == in_readme, f"navigation {in_nav} against README {in_readme}"
    assert in_readme[0] == "00-setup-check"


def test_search(site_url: str, visit: Visit) -> None:
    """One search box on every kind of page; a search from it for "momentum" lists the SGD
    lesson, which teaches momentum, first (not in alphabetical order among the pages that
    merely mention it)."""
    page = visit.page
    boxes = "button.search-button-field, button.search-button, input[type=search]"
    for path in ("index.html", "lessons/lesson6-sgd.html", "api.html"):
        visit.open(site_url + path)
        shown = [b for b in page.locator(boxes).all() if b.is_visible()]
        assert len(shown) == 1, f"{path}: {len(shown)} search boxes shown"
    visit.open(site_url)
    page.locator(boxes).locator("visible=true").first.click()
    field = page.locator("form.bd-search input[type=search]").locator("visible=true").first
    expect(field).to_be_visible()
    field.fill("momentum")
    field.press("Enter")
    page.wait_for_url(re.compile(r"search\.html\?q=momentum"))
    results = page.locator("#search-results ul.search li a")
    expect(results.first).to_be_visible()
    first = results.first.get_attribute("href")
    titles = results.evaluate_all("links => links.map(a => a.textContent)")
    assert re.match(r"(\.\./)*lessons/lesson6-sgd\.html", first), (
        f"'momentum' lists first {first}; all: {titles}"
    )
    visit.screenshot("search-momentum")
    assert not visit.problems, "\n".join(visit.problems)
