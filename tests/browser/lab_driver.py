"""Drive the course in JupyterLab from a test: start the server, find and run cells, check
what the page shows. Used by tests/browser/ (fixtures in conftest.py, tests in
test_jupyterlab.py); no pytest in here, so it reads on its own.

* `start_lab()` / `LabServer.stop()`: JupyterLab from this Python environment on 127.0.0.1, a
  free port and a random token, with a throw-away config/settings/runtime folder. Autosave is
  off and the server refuses to save files (scratch copies under tests/artifacts/ aside), so
  the committed notebooks are never modified.
* `cells_needed()`, `cheap_plot_cells()`: which cells to run for a widget or a plot, found
  by their source and by the names they read (the notebook on disk is parsed with `ast`).
* `Lab`: one browser page, with the few actions a student takes (open a notebook, run cells,
  run all) and the checks on what is rendered.
"""

from __future__ import annotations

import ast
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import nbformat

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
ARTIFACTS = REPO / "tests" / "artifacts" / "browser"
DOCS_IMAGES = REPO / "docs" / "images"

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
INSTALL_HINT = (
    "install Debian's Chromium with `sudo apt-get install chromium` (or point COURSE_CHROMIUM "
    "at a Chromium/Chrome binary) and Playwright with `pip install -e '.[test]'`; "
    "Playwright drives that system browser, no `playwright install` needed"
)

SERVER_START_TIMEOUT = 90  # s, JupyterLab on a busy 2-core machine takes ~10 s
DEFAULT_TIMEOUT_MS = 60_000  # Playwright waits (opening a notebook, a kernel starting, ...)

# JupyterLab user settings for the test run (written to a temporary settings folder).
LAB_SETTINGS = {
    # Never write the notebooks back (the server also refuses saves, see _SERVER_CONFIG).
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    # No "Would you like to get notified about official Jupyter news?" toast.
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false"},
    # Render every cell (JupyterLab 4 otherwise virtualises long notebooks).
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}

# Server config: a contents manager that refuses to save (but the tests' own scratch copies
# under tests/artifacts/, git-ignored: RISE's Alt+R saves before it shows the slides), and
# checkpoints kept out of the repo.
_SERVER_CONFIG = """
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado import web


class NeverSaveContentsManager(AsyncLargeFileManager):
    async def save(self, model, path=""):
        if path.strip("/").startswith("tests/artifacts/"):
            return await super().save(model, path)
        raise web.HTTPError(403, "the browser tests never save files: " + path)


c.ServerApp.contents_manager_class = NeverSaveContentsManager
c.FileCheckpoints.checkpoint_dir = {checkpoints!r}
c.AsyncFileCheckpoints.checkpoint_dir = {checkpoints!r}
"""


def chromium_executable() -> str | None:
    """The Chromium binary to drive: $COURSE_CHROMIUM, else the first one found."""
    if os.environ.get("COURSE_CHROMIUM"):
        return shutil.which(os.environ["COURSE_CHROMIUM"])
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


# --------------------------------------------------------------------------- JupyterLab


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LabServer:
    """A running JupyterLab: its base URL, token and log, plus a tiny REST client."""

    url: str
    token: str
    log: Path
    runtime_dir: Path
    process: subprocess.Popen = field(repr=False)

    def api(self, path: str, method: str = "GET", timeout: float = 10, body: Any = None) -> Any:
        req = urllib.request.Request(
            f"{self.url}{path}",
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
            data=None if body is None else json.dumps(body).encode(),
        )
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = r.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Shut down every session's kernel (frees memory and CPU between notebooks), in the
        background: the next test need not wait for it."""

        def shutdown(session_id: str) -> None:
            try:
                self.api(f"/api/sessions/{session_id}", method="DELETE", timeout=60)
            except OSError:  # the server is gone (the test reports why); stop() cleans up
                pass

        try:
            sessions = self.api("/api/sessions")
        except OSError:
            return
        for s in sessions:
            threading.Thread(target=shutdown, args=(s["id"],), daemon=True).start()

    def set_setting(self, plugin: str, values: dict[str, Any]) -> None:
        """Change a JupyterLab user setting (e.g. "@jupyterlab/notebook-extension:tracker");
        pages opened afterwards use it."""
        self.api(f"/lab/api/settings/{plugin}", method="PUT", body={"raw": json.dumps(values)})

    def log_tail(self, n: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-n:]

    def stop(self) -> None:
        """Stop the server (it shuts its kernels down), then any kernel it left behind."""
        _stop(self.process, self.runtime_dir)


def _kernel_pids(runtime_dir: Path) -> list[int]:
    """Kernels this server started: their command line names its (private) runtime folder."""
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if str(runtime_dir) in cmdline:
            pids.append(int(proc.name))
    return pids


def _stop(process: subprocess.Popen, runtime_dir: Path) -> None:
    """Stop the server's process group (it shuts its kernels down), then any kernel left."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        if process.poll() is not None:
            break
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(wait)
        except subprocess.TimeoutExpired:
            continue
    for pid in _kernel_pids(runtime_dir):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class LabStartError(RuntimeError):
    """JupyterLab exited or did not answer in time (the message has the end of its log)."""


def start_lab(tmp: Path) -> LabServer:
    """Start JupyterLab serving the repository; `tmp` holds its private config and state.
    Call `.stop()` on the result (in a `finally`)."""
    config_dir, settings_dir, runtime_dir = tmp / "config", tmp / "settings", tmp / "runtime"
    config_dir.mkdir(parents=True)
    (config_dir / "jupyter_server_config.py").write_text(
        _SERVER_CONFIG.format(checkpoints=str(tmp / "checkpoints"))
    )
    for plugin, values in LAB_SETTINGS.items():
        f = settings_dir / f"{plugin}.jupyterlab-settings"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(values))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / "jupyterlab.log"

    port, token = _free_port(), secrets.token_hex(24)
    env = dict(
        os.environ,  # COURSE_DATA and friends reach the kernels
        JUPYTER_CONFIG_DIR=str(config_dir),
        JUPYTER_DATA_DIR=str(tmp / "data"),
        JUPYTER_RUNTIME_DIR=str(runtime_dir),
        JUPYTERLAB_SETTINGS_DIR=str(settings_dir),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
    )
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",  # this environment's JupyterLab (and kernel)
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={REPO}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers and CI often run as root
    with open(log, "w") as log_file:
        process = subprocess.Popen(
            cmd,
            cwd=REPO,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so all of it can be stopped
        )
    server = LabServer(f"http://127.0.0.1:{port}", token, log, runtime_dir, process)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise LabStartError(
                    f"JupyterLab exited with {process.returncode}:\n{server.log_tail()}"
                )
            try:
                server.api("/api/status")
                return server
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise LabStartError(
                        f"JupyterLab did not answer in {SERVER_START_TIMEOUT} s:"
                        f"\n{server.log_tail()}"
                    ) from None
                time.sleep(0.2)  # polling interval while the server starts, not a fixed wait
    except BaseException:
        server.stop()
        raise


def expect(*args: Any, **kwargs: Any) -> Any:
    """Playwright's auto-waiting assertions (imported late: Playwright may be missing)."""
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=DEFAULT_TIMEOUT_MS)
    return playwright_expect(*args, **kwargs)


# --------------------------------------------------------------------------- notebook cells


def code_cells(path: Path) -> list[tuple[int, str]]:
    """(index among all cells, source) of each code cell of the notebook on disk."""
    nb = nbformat.read(path, as_version=4)
    return [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code"]


def find_cell(path: Path, snippet: str) -> int:
    """Index (among all cells) of the first code cell whose source contains `snippet`."""
    for i, src in code_cells(path):
        if snippet in src:
            return i
    raise AssertionError(f"no code cell of {path.name} contains {snippet!r}")


_SCOPES = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _loads(node: ast.AST) -> set[str]:
    """Names an expression or simple statement reads, less those its own comprehensions and
    lambdas bind."""
    loads = {
        n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    }
    own = set()
    for scope in ast.walk(node):
        if isinstance(scope, _SCOPES):
            own |= {
                n.id
                for n in ast.walk(scope)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
            }
            own |= {a.arg for a in ast.walk(scope) if isinstance(a, ast.arg)}
    return loads - own


def _stores(node: ast.AST) -> set[str]:
    """Names a statement binds in the cell's namespace (not inside its functions)."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    if isinstance(node, ast.Import | ast.ImportFrom):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    found = set()
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
            found.add(child.id)
        elif not isinstance(child, _SCOPES + (ast.comprehension,)):
            found |= _stores(child)
    return found


def _names(source: str) -> tuple[set[str], set[str]]:
    """(names a cell defines at top level, names it reads from earlier cells) -- IPython magics
    are ignored. Statements are read in order, so `x = f(x)` reads the earlier cell's `x`."""
    code = "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
    )
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set(), set()
    defined, reads = _stores(tree), set()
    functions: list[ast.AST] = []

    def run(body: list[ast.stmt], bound: set[str]) -> None:
        for stmt in body:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                functions.append(stmt)  # runs later: judged against the whole cell below
            elif isinstance(stmt, ast.For | ast.AsyncFor):
                reads.update(_loads(stmt.iter) - bound)
                bound |= {n.id for n in ast.walk(stmt.target) if isinstance(n, ast.Name)}
                run(stmt.body + stmt.orelse, bound)
            elif isinstance(stmt, ast.If | ast.While):
                reads.update(_loads(stmt.test) - bound)
                run(stmt.body + stmt.orelse, bound)
            elif isinstance(stmt, ast.With | ast.AsyncWith):
                for item in stmt.items:
                    reads.update(_loads(item.context_expr) - bound)
                    if item.optional_vars is not None:
                        bound |= {
                            n.id for n in ast.walk(item.optional_vars) if isinstance(n, ast.Name)
                        }
                run(stmt.body, bound)
            elif isinstance(stmt, ast.Try):
                run(stmt.body, bound)
                for handler in stmt.handlers:
                    reads.update(_loads(handler.type) - bound if handler.type else set())
                    run(handler.body, bound | ({handler.name} if handler.name else set()))
                run(stmt.orelse + stmt.finalbody, bound)
            else:  # a simple statement reads its values before it binds its targets
                reads.update(_loads(stmt) - bound)
                bound |= _stores(stmt)

    run(tree.body, set())
    for fn in functions:  # a function's free names: whatever the cell has not bound by then
        local = {
            n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
        } | {a.arg for a in ast.walk(fn) if isinstance(a, ast.arg)}
        free = {
            n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
        }
        reads.update(free - local - defined)
    return defined, reads


def cells_needed(path: Path, *snippets: str, cells: list[int] = ()) -> list[int]:
    """The cells to run so that the cells containing `snippets` (and the cells with the
    indices `cells`) work: those cells, the first code cell (imports, settings) and,
    recursively, the latest earlier cell defining each name they read. Returns indices among
    all cells, in notebook order."""
    targets, code = list(cells), code_cells(path)
    names = {i: _names(src) for i, src in code}
    todo = [code[0][0], *targets] + [find_cell(path, s) for s in snippets]
    needed: set[int] = set()
    while todo:
        i = todo.pop()
        if i in needed:
            continue
        needed.add(i)
        defined, used = names[i]
        for name in used:
            providers = [j for j, _ in code if j < i and name in names[j][0]]
            if providers:
                todo.append(providers[-1])
    return sorted(needed)


def run_headless(path: Path, indices: list[int], timeout: int = 600) -> None:
    """Run the cells `indices` of the notebook `path` (in order) in a fresh kernel of this
    environment, from the notebook's folder as JupyterLab does; raise on the first error.
    Nothing is written back to the notebook."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    keep = set(indices)
    nb.cells = [c for i, c in enumerate(nb.cells) if i in keep]
    NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()


def recorded_seconds(path: Path) -> dict[int, float | None]:
    """Seconds each code cell took when its outputs were committed (nbclient records the
    timestamps in the cell metadata); None where unknown."""
    nb = nbformat.read(path, as_version=4)
    seconds: dict[int, float | None] = {}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        t = cell.metadata.get("execution", {})
        try:
            start = datetime.fromisoformat(t["iopub.execute_input"].replace("Z", "+00:00"))
            end = datetime.fromisoformat(t["shell.execute_reply"].replace("Z", "+00:00"))
            seconds[i] = max(0.0, (end - start).total_seconds())
        except (KeyError, ValueError):
            seconds[i] = None
    return seconds


def image_cells(path: Path) -> list[int]:
    """Cells whose committed outputs include a PNG (the notebook's plots)."""
    nb = nbformat.read(path, as_version=4)
    return [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
        and any("image/png" in o.get("data", {}) for o in c.get("outputs", []))
    ]


def cheap_plot_cells(path: Path, budget_s: float) -> tuple[list[int], list[int]]:
    """The plots worth re-running and the cells to run for them: plotting cells, in order,
    with what they need, while the recorded time of all those cells stays within `budget_s`
    (a plot after a long training run is left out; so is one whose cost is unknown)."""
    seconds, chosen = recorded_seconds(path), []
    for i in image_cells(path):
        times = [seconds.get(j) for j in cells_needed(path, cells=[*chosen, i])]
        if None not in times and sum(times) <= budget_s:
            chosen.append(i)
    return chosen, (cells_needed(path, cells=chosen) if chosen else [])


# --------------------------------------------------------------------------- the page

NOTEBOOK_SEL = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"
CELLS_SEL = f"{NOTEBOOK_SEL} .jp-Cell"
STDERR_SEL = f"{NOTEBOOK_SEL} [data-mime-type='application/vnd.jupyter.stderr']"
# JupyterLab shows a cell's exception as stderr text; these lines mark an IPython traceback.
TRACEBACK = r"Traceback \(most recent call last\)|Cell In\[\d+\], line \d+"
WIDGET_PROBLEMS = ("Error displaying widget", "Loading widget...")


class Lab:
    """One browser page on the JupyterLab server, with the few actions the tests need."""

    def __init__(self, page: Any, server: LabServer, name: str) -> None:
        self.page, self.server, self.name = page, server, name
        self.path: Path | None = None
        self.page_errors: list[str] = []
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        page.set_default_timeout(DEFAULT_TIMEOUT_MS)

    # ----- navigation

    def open(self, notebook: str) -> Path:
        """Open notebooks/<notebook> in a fresh workspace; wait until its kernel is idle."""
        self.path = NOTEBOOKS / notebook
        self.page.goto(
            f"{self.server.url}/lab/tree/notebooks/{notebook}?reset&token={self.server.token}"
        )
        n_cells = len(nbformat.read(self.path, as_version=4).cells)
        expect(self.page.locator(CELLS_SEL)).to_have_count(n_cells)
        self.wait_idle()
        return self.path

    def kernel_status(self) -> Any:
        """The status bar item, e.g. 'Python 3 (ipykernel) | Idle'."""
        return self.page.locator(".jp-StatusBar-Item").filter(has_text=" | ")

    def wait_idle(self, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
        expect(self.kernel_status()).to_have_text(re.compile(r"\| Idle$"), timeout=timeout_ms)

    def menu(self, top: str, command: str) -> None:
        """Click a main-menu entry by its command id, e.g. ('Run', 'runmenu:run-all')."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{top}$")).click()
        self.page.locator(f"li.lm-Menu-item[data-command='{command}']").click()

    # ----- cells

    def cell(self, index: int) -> Any:
        return self.page.locator(CELLS_SEL).nth(index)

    def clear_outputs(self) -> None:
        """Edit > Clear Outputs of All Cells: the committed outputs and counts go away."""
        self.menu("Edit", "editmenu:clear-all")
        expect(self.page.locator(f"{CELLS_SEL} .jp-OutputArea-output")).to_have_count(0)
        # No execution count is left from the committed file: a cell counts as run only once
        # the kernel has given it a new one (see wait_ran).
        numbered = self.page.locator(f"{CELLS_SEL} .jp-InputPrompt", has_text=re.compile(r"\d"))
        expect(numbered).to_have_count(0)

    def wait_ran(self, indices: list[int], timeout_ms: int) -> None:
        """Wait until every cell in `indices` shows '[n]:' or a traceback appears; then
        until the kernel is idle; then check that nothing went wrong."""
        self.page.wait_for_function(
            """([cellsSel, stderrSel, traceback, idx]) => {
                const tb = new RegExp(traceback);
                if ([...document.querySelectorAll(stderrSel)].some(e => tb.test(e.textContent)))
                    return true;
                const cells = document.querySelectorAll(cellsSel);
                return idx.every(i => cells[i] && /^\\[\\d+\\]:$/.test(
                    cells[i].querySelector('.jp-InputPrompt').textContent.trim()));
            }""",
            arg=[CELLS_SEL, STDERR_SEL, TRACEBACK, indices],
            timeout=timeout_ms,
            polling=250,
        )
        self.assert_no_errors()
        self.wait_idle(timeout_ms)

    def run_all(self, timeout_ms: int = 240_000) -> None:
        """Run > Run All Cells (after clearing the committed outputs); wait for all of them."""
        assert self.path is not None
        self.clear_outputs()
        self.menu("Run", "runmenu:run-all")
        self.wait_ran([i for i, _ in code_cells(self.path)], timeout_ms)

    def run_cells(self, indices: list[int], timeout_ms: int = 240_000) -> None:
        """Clear all outputs, then select and run (Ctrl+Enter) each cell, in order."""
        self.clear_outputs()
        for i in indices:
            self.cell(i).locator(".jp-InputPrompt").click()  # select it (command mode)
            self.page.keyboard.press("Control+Enter")  # run it, stay on it
        self.wait_ran(indices, timeout_ms)

    def run_scratch(self, code: str, timeout_ms: int = 60_000) -> Any:
        """Add a cell at the end (never saved), run `code` in it; returns that cell."""
        cells = self.page.locator(CELLS_SEL)
        n = cells.count()
        cells.last.locator(".jp-InputPrompt").click()  # make the last cell the active one
        self.page.locator(
            ".jp-NotebookPanel-toolbar [data-command='notebook:insert-cell-below']"
        ).click()
        expect(cells).to_have_count(n + 1)
        scratch = cells.nth(n)
        scratch.locator(".cm-content").click()
        self.page.keyboard.insert_text(code)
        self.page.keyboard.press("Control+Enter")  # run it, no new cell below
        self.wait_ran([n], timeout_ms)
        return scratch

    # ----- checks

    def assert_no_errors(self) -> None:
        """No traceback in any output, no JupyterLab dialog, no JavaScript exception."""
        tracebacks = self.page.locator(STDERR_SEL).filter(has_text=re.compile(TRACEBACK))
        if tracebacks.count():
            raise AssertionError(
                f"{self.name}: a cell raised:\n{tracebacks.first.inner_text()[-3000:]}"
            )
        dialogs = self.page.locator(".jp-Dialog")
        if dialogs.count():
            raise AssertionError(f"{self.name}: a dialog appeared:\n{dialogs.first.inner_text()}")
        assert not self.page_errors, f"{self.name}: JavaScript errors: {self.page_errors}"

    def assert_images_render(self, scope: Any, at_least: int = 1) -> int:
        """Every image output under `scope` has loaded with a size; returns how many."""
        imgs = scope.locator(".jp-OutputArea-output img")
        n = imgs.count()
        assert n >= at_least, f"{self.name}: {n} image outputs, expected at least {at_least}"
        for k in range(n):
            img = imgs.nth(k)
            img.scroll_into_view_if_needed()
            expect(img).to_have_js_property("complete", True)
            size = img.evaluate("i => [i.naturalWidth, i.naturalHeight]")
            assert min(size) > 0, f"{self.name}: image {k} of {n} did not render"
        return n

    def assert_widgets_ok(self, scope: Any) -> None:
        """Widget views are displayed under `scope` and none is broken or still loading."""
        expect(scope.locator(".jp-OutputArea-output .jupyter-widgets").first).to_be_visible()
        for problem in WIDGET_PROBLEMS:
            expect(self.page.get_by_text(problem)).to_have_count(0)

    # ----- screenshots

    def screenshot(self, view: str, target: Any | None = None) -> Path:
        """Save the page, `target` scrolled to the top, as tests/artifacts/browser/NAME-VIEW.png."""
        if target is not None:
            target.evaluate("e => e.scrollIntoView({block: 'start'})")
        self.page.mouse.move(0, 0)  # no hover effects in the picture
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        out = ARTIFACTS / f"{self.name}-{view}.png"
        self.page.screenshot(path=str(out))
        return out

    def docs_screenshot(self, image: str, target: Any) -> None:
        """With COURSE_DOCS_SCREENSHOTS=1, refresh docs/images/<image> (small, for the README)."""
        if os.environ.get("COURSE_DOCS_SCREENSHOTS") != "1":
            return
        from PIL import Image

        raw = self.screenshot("docs", target)
        box = target.bounding_box()
        im = Image.open(raw).convert("RGB")
        if box is not None:  # JupyterLab's menus and file browser down to the end of target
            im = im.crop((0, 0, im.width, min(im.height, int(box["y"] + box["height"]) + 12)))
        im.thumbnail((1000, 1000))
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        im.quantize(colors=128).save(DOCS_IMAGES / image, optimize=True)
