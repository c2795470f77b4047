"""`python -m tools.bench notebooks [NOTEBOOK ...]`: seconds and peak memory of each notebook.

Each notebook runs top to bottom in a fresh kernel through `tools.run_notebooks.run` (the
runner `make notebooks` uses), from `notebooks/`, on the device `COURSE_DEVICE` names (default
the CPU), with one CPU thread (`COURSE_THREADS`, default 1) and no progress bars. The files
are read, never written. Peak memory is the resident memory of the kernel and its children,
polled every 0.1 s (on Linux also the kernel's own high-water mark), in MB of 2**20 bytes.
`--markdown` prints the table of docs/performance.md. The targets are issue 25's.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

import torch
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from tools import run_notebooks
from tools.bench.common import BenchError, print_table

TARGETS = {"peak_mb": 2048, "seconds": 240, "total_seconds": 600}


def _proc_children(pid: int) -> list[int]:
    """Child process ids from /proc (Linux), where psutil is not installed."""
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        children += [int(c) for c in task.read_text().split()]
    return children


def _proc_memory(pid: int) -> tuple[int, int]:
    """`(resident bytes, high-water mark bytes)` of one process, from /proc/PID/status."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) * 1024  # kB
    return fields.get("VmRSS", 0), fields.get("VmHWM", 0)


def tree_memory(pid: int) -> int:
    """Bytes resident in process `pid` and all its descendants now, or the process's own
    high-water mark where the system keeps one (Linux), whichever is larger; 0 once it ended."""
    hwm = 0
    if Path(f"/proc/{pid}/status").exists():
        try:
            _, hwm = _proc_memory(pid)
        except OSError:  # it just ended
            return 0
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        try:
            tree = [psutil.Process(pid)]
            tree += tree[0].children(recursive=True)
        except psutil.Error:
            return hwm
        rss = 0
        for p in tree:
            try:
                rss += p.memory_info().rss
            except psutil.Error:  # a child that just ended
                pass
        return max(rss, hwm)
    rss, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            rss += _proc_memory(p)[0]
            todo += _proc_children(p)
        except OSError:
            pass
    return max(rss, hwm)


class PeakMemory:
    """Polls `tree_memory` of a process from a thread while a `with` block runs; `peak_mb`.

    `watch(pid)` names the process (the kernel is known only once it started). A peak shorter
    than the polling interval can be missed, except the kernel's own (its high-water mark).
    """

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.pid: int | None = None
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def watch(self, pid: int | None) -> None:
        self.pid = pid
        self.poll()

    def poll(self) -> None:
        if self.pid is not None:
            self.peak = max(self.peak, tree_memory(self.pid))

    @property
    def peak_mb(self) -> float:
        return self.peak / 2**20

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll()

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def notebook_paths(names: list[str]) -> list[Path]:
    """The notebooks to run: `names`, each checked to be a notebook file, or all of notebooks/."""
    if not names:
        return sorted(run_notebooks.NOTEBOOKS.glob("*.ipynb"))
    paths = [Path(n) for n in names]
    for p in paths:
        if p.suffix != ".ipynb":
            raise BenchError(
                f"{p} is not a notebook: pass .ipynb files, e.g. "
                "notebooks/00-setup-check.ipynb, or no path to run every notebook in notebooks/."
            )
        if not p.is_file():
            raise BenchError(
                f"notebook {p} not found: check the path (from the folder you run in), e.g. "
                "notebooks/00-setup-check.ipynb, or pass no path to run every notebook in "
                "notebooks/."
            )
    return paths


def run_notebook(path: Path, env: dict[str, str], timeout: int) -> dict:
    """One notebook in a fresh kernel: notebook, seconds, peak_mb, ok, error (one line)."""
    error = None
    t = time.perf_counter()
    with PeakMemory() as memory:
        try:
            run_notebooks.run(path, timeout, env=env, on_start=memory.watch)
        except CellExecutionError as e:
            error = f"{e.ename}: {e.evalue}"
        except CellTimeoutError:
            error = f"a cell ran past the timeout ({timeout} s a cell; --timeout to change it)"
        except DeadKernelError:
            error = (
                f"the kernel died (at {memory.peak_mb:,.0f} MB peak: killed for lack of memory? "
                "dmesg may say)"
            )
    seconds = time.perf_counter() - t
    if error is not None:
        error = " ".join(error.split())[:300]
    return {
        "notebook": path.name,
        "seconds": seconds,
        "peak_mb": memory.peak_mb,
        "ok": error is None,
        "error": error,
    }


def markdown_table(rows: list[dict]) -> str:
    """The table of docs/performance.md: one row per notebook, then the total."""
    failed = any(not r["ok"] for r in rows)
    lines = [
        "| notebook | seconds | peak memory |" + (" status |" if failed else ""),
        "|---|---:|---:|" + ("---|" if failed else ""),
    ]
    for r in rows:
        status = (" ok |" if r["ok"] else f" failed: {r['error']} |") if failed else ""
        name = Path(r["notebook"]).stem
        lines.append(f"| {name} | {r['seconds']:.0f} | {r['peak_mb']:,.0f} MB |{status}")
    total = sum(r["seconds"] for r in rows)
    peak = max((r["peak_mb"] for r in rows), default=0.0)
    lines.append(
        f"| **total** | **{total:.0f}** | {peak:,.0f} MB (largest) |" + (" |" if failed else "")
    )
    return "\n".join(lines)


def bench_notebooks(args: argparse.Namespace) -> dict:
    paths = notebook_paths(args.notebooks)
    device = str(args.device or os.environ.get("COURSE_DEVICE") or "cpu")
    threads = os.environ.get("COURSE_THREADS", "1")
    env = {"COURSE_DEVICE": device, "COURSE_THREADS": threads, "COURSE_PROGRESS": "0"}
    rows = []
    for p in paths:
        rows.append(run_notebook(p, env, args.timeout))
        r = rows[-1]
        status = "" if r["ok"] else f" FAILED: {r['error']}"
        print(f"  {p.name}: {r['seconds']:.0f} s, {r['peak_mb']:,.0f} MB{status}", file=sys.stderr)
    total = sum(r["seconds"] for r in rows)
    met = (
        all(r["peak_mb"] < TARGETS["peak_mb"] and r["seconds"] < TARGETS["seconds"] for r in rows)
        and total < TARGETS["total_seconds"]
    )
    print(
        f"notebooks, each in a fresh kernel, COURSE_DEVICE={device}, COURSE_THREADS={threads}, "
        f"torch {torch.__version__}"
    )
    if args.markdown:
        print(markdown_table(rows))
    else:
        table = [{**r, "status": "ok" if r["ok"] else r["error"]} for r in rows]
        columns = {"notebook": "notebook", "seconds": "seconds", "peak_mb": "peak MB"}
        print_table(table, {**columns, "status": "status"})
        print(f"total {total:.0f} s")
    print(
        f"targets (each notebook under {TARGETS['peak_mb']:,} MB and {TARGETS['seconds']} s, "
        f"all under {TARGETS['total_seconds']} s): {'met' if met else 'NOT met'}"
    )
    return {
        "benchmark": "notebooks",
        "device": device,
        "threads": int(threads) if threads.isdigit() else threads,
        "torch": torch.__version__,
        "notebooks": rows,
        "total_seconds": total,
        "max_peak_mb": max((r["peak_mb"] for r in rows), default=0.0),
        "meets_targets": bool(met),
        "ok": all(r["ok"] for r in rows),
    }
