"""Fixtures for the browser tests (the machinery is in lab_driver.py).

* `chromium_path` (session): the system Chromium. Missing Chromium or Playwright -> the tests
  skip, naming what to install; with COURSE_REQUIRE_BROWSER=1 (CI) they fail instead.
* `lab_server` (session): JupyterLab from this environment, stopped at the end, even on failure.
* `browser` (session): that Chromium driven by Playwright (`executable_path`, no download).
* `lab` (per test): a fresh page on the server; a screenshot when the test fails; the
  kernels it started are shut down afterwards.
* `collab_model`, `char_model` (session): the trained models that the widgets load, saved
  under data/models/ (`course_utils.model_path`) when they are not there yet, so these tests
  pass on a clean clone, alone, in any order, without an earlier notebook run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lab_driver import (
    ARTIFACTS,
    CHROMIUM_ARGS,
    INSTALL_HINT,
    NOTEBOOKS,
    Lab,
    LabServer,
    LabStartError,
    cells_needed,
    chromium_executable,
    run_headless,
    start_lab,
)

# The char-RNN behind the text generator test: small, trained for seconds (not the lesson's).
CHAR_MODEL = "browser-test-char-gru.pt"


def _skip_or_fail(reason: str) -> None:
    """Skip with `reason`, or fail when COURSE_REQUIRE_BROWSER=1 (CI must run these tests)."""
    if os.environ.get("COURSE_REQUIRE_BROWSER", "") not in ("", "0"):
        pytest.fail(f"COURSE_REQUIRE_BROWSER is set but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _skip_or_fail(f"Playwright for Python is not installed: {INSTALL_HINT}")
    path = chromium_executable()
    if path is None:
        _skip_or_fail(f"Chromium was not found: {INSTALL_HINT}")
    return path


@pytest.fixture(scope="session")
def lab_server(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    try:
        server = start_lab(tmp_path_factory.mktemp("jupyterlab"))
    except LabStartError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Keep each phase's report on the item, so `lab` knows whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def lab(browser: Any, lab_server: LabServer, request: pytest.FixtureRequest) -> Iterator[Lab]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    name = request.node.name.removeprefix("test_")
    try:
        yield Lab(page, lab_server, name)
    finally:
        try:
            rep = getattr(request.node, "rep_call", None)
            if rep is not None and rep.failed:
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / f"{name}-FAILED.png"))
        finally:
            context.close()
            lab_server.shutdown_kernels()


# --------------------------------------------------------------------------- trained models


@pytest.fixture(scope="session")
def collab_model() -> Path:
    """data/models/collab_dotbias.pt, the model lesson5-embeddings explores. When it is
    missing, the lesson's own cells train and save it (same recipe as lesson5-movielens) in a
    headless kernel; a file that no longer fits the model is retrained by the lesson itself."""
    from course_utils import model_path

    saved = model_path("collab_dotbias.pt")
    path = NOTEBOOKS / "lesson5-embeddings.ipynb"
    if not path.exists():
        pytest.skip("notebooks/lesson5-embeddings.ipynb does not exist")
    if not saved.exists():
        run_headless(path, cells_needed(path, "save_model("))
        assert saved.exists(), f"the cells of {path.name} that call save_model did not save {saved}"
    return saved


@pytest.fixture(scope="session")
def char_model() -> Path:
    """A small stateful GRU on Nietzsche, saved with `save_char_model` under data/models/ as
    the lesson saves its best model (trained here in seconds when missing or unreadable)."""
    import torch

    from course_utils import DeviceData, fit, model_path, set_seed
    from course_utils.char_models import CharStatefulRnn
    from course_utils.data import load_nietzsche
    from course_utils.text import (
        Vocab,
        batchify,
        load_char_model,
        save_char_model,
        seq_nll_loss,
    )

    path = model_path(CHAR_MODEL)
    try:
        load_char_model(path, device="cpu")
        return path
    except (FileNotFoundError, ValueError, RuntimeError):
        pass  # not there yet, or saved by another version of the code: train it again
    text = load_nietzsche()
    vocab = Vocab.from_text(text)  # every character, so any seed text from the book works
    set_seed(0)
    x, y = batchify(vocab.encode(text[:100_000]), 64, 32)
    data = DeviceData(x, y, bs=64, shuffle=False, drop_last=True, device="cpu")
    model = CharStatefulRnn(len(vocab), 24, 128, cell="gru")
    fit(model, data, 1, torch.optim.Adam(model.parameters(), 3e-3), seq_nll_loss, progress=False)
    return save_char_model(model, vocab, path)
