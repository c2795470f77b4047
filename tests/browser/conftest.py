"""Fixtures for the browser tests (the machinery is in lab_driver.py).

* `chromium_path` (session): the system Chromium. Missing Chromium or Playwright -> the tests
  skip, naming what to install; with COURSE_REQUIRE_BROWSER=1 (CI) they fail instead.
* `lab_server` (session): JupyterLab from this environment, stopped at the end, even on failure.
* `browser` (session): that Chromium driven by Playwright (`executable_path`, no download).
* `lab` (per test): a fresh page on the server; a screenshot when the test fails; the
  kernels it started are shut down afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from lab_driver import (
    ARTIFACTS,
    CHROMIUM_ARGS,
    INSTALL_HINT,
    Lab,
    LabServer,
    LabStartError,
    chromium_executable,
    start_lab,
)


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
