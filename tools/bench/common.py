"""What the benchmarks share: timing on any device, interleaved runs, the ML-100K sample, tables.

A GPU runs ahead of Python, so every clock here first waits for the device's queue of work
(`sync`). Runs that are compared are interleaved (`interleaved`), so that a change in the
machine's load hits all of them alike, and compared by medians.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch
from torch import Tensor, nn

import course_utils as cu
from course_utils.device import fused_ok

__all__ = [
    "BenchError",
    "Timer",
    "clock",
    "interleaved",
    "ml100k_rows",
    "now",
    "per_s",
    "print_table",
    "ratio",
    "sgd",
    "sync",
    "thread_counts",
]


class BenchError(Exception):
    """A benchmark cannot run as asked (a notebook that is not there, a device that is not):
    `python -m tools.bench` prints the message on one line, with no traceback, and exits 2."""


def sync(device: torch.device) -> None:
    """Wait for the device's queue of work (a GPU runs ahead of Python); no-op on the CPU."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def now(device: torch.device) -> float:
    """`time.perf_counter()` once the device has finished what it was given."""
    sync(device)
    return time.perf_counter()


class Timer:
    """Wall-clock and CPU seconds (this process, all its threads) of a `with` block; the
    device is synchronised at both ends."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.wall = 0.0
        self.cpu = 0.0

    def __enter__(self) -> Timer:
        sync(self.device)
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        sync(self.device)
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


Run = Callable[[], tuple[int, Timer]]  # one timed run: (samples, timer)


def interleaved(runs: dict[str, Run], repeats: int) -> dict[str, list[tuple[int, Timer]]]:
    """Call each of `runs` once to warm up, then `repeats` times each, interleaved (the order
    reversed every other round, so no run keeps a favoured position): a change in the
    machine's load hits every run alike."""
    for run in runs.values():
        run()
    out: dict[str, list[tuple[int, Timer]]] = {k: [] for k in runs}
    for r in range(repeats):
        order = list(runs) if r % 2 == 0 else list(reversed(runs))
        for k in order:
            out[k].append(runs[k]())
    return out


def clock(device: torch.device) -> str:
    """Which seconds compare two loops: CPU seconds on the CPU (the work done, which other
    processes on a shared machine change little), wall-clock on a GPU (where the CPU waits)."""
    return "cpu" if device.type == "cpu" else "wall"


def per_s(runs: list[tuple[int, Timer]], seconds: str = "wall") -> list[float]:
    """Samples per second of each run, in `seconds` ("wall" or "cpu")."""
    return [n / getattr(t, seconds) for n, t in runs]


def ratio(a: list[tuple[int, Timer]], b: list[tuple[int, Timer]], seconds: str) -> float:
    """The median over rounds of a's speed over b's in the same round."""
    pairs = zip(per_s(a, seconds), per_s(b, seconds), strict=True)
    return statistics.median(x / y for x, y in pairs)


def thread_counts(device: torch.device) -> list[int]:
    """1 and 2 CPU threads on the CPU (the course's default first); the current count elsewhere."""
    return [1, 2] if device.type == "cpu" else [torch.get_num_threads()]


def ml100k_rows(n_rows: int = 80_000) -> tuple[tuple[Tensor, Tensor], Tensor, tuple[int, int]]:
    """`((users, movies), ratings, (n_users, n_movies))`: a seeded sample of ML-100K rows."""
    ratings, _ = cu.load_ml100k()
    users = torch.tensor(ratings["userId"].to_numpy() - 1, dtype=torch.long)
    movies = torch.tensor(ratings["movieId"].to_numpy() - 1, dtype=torch.long)
    y = torch.tensor(ratings["rating"].to_numpy(), dtype=torch.float32)
    idx = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))[:n_rows]
    sizes = (int(users.max()) + 1, int(movies.max()) + 1)
    return (users[idx], movies[idx]), y[idx], sizes


def sgd(model: nn.Module, device: torch.device) -> torch.optim.Optimizer:
    """SGD with momentum, fused where the device has the kernels (the `fit` benchmark's)."""
    return torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, fused=fused_ok(device))


def _fmt(v: object) -> str:
    if not isinstance(v, float):
        return str(v)
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.1f}" if abs(v) >= 10 else f"{v:.3f}"


def print_table(rows: list[dict], columns: dict[str, str]) -> None:
    """Print `rows` under `columns` ({key: header}), numbers right-aligned."""
    cells = [[_fmt(r.get(k, "")) for k in columns] for r in rows]
    widths = [max([len(h), *(len(c[i]) for c in cells)]) for i, h in enumerate(columns.values())]
    print("  ".join(h.rjust(w) for h, w in zip(columns.values(), widths, strict=True)))
    for c in cells:
        print("  ".join(v.rjust(w) for v, w in zip(c, widths, strict=True)))
