"""`python -m tools.bench fit`: what `course_utils.fit` costs over the loop it wraps.

Samples per second of `fit` against the bare loop (the same shuffle-then-slice data path and
`train_step`, without fit's loss log, checks or history) and against the textbook
`DataLoader(TensorDataset)` loop (also `train_step`, its loss read every step). Same model
(`EmbeddingDotBias`), optimizer and ML-100K ratings, at batch size 64 and the notebooks'
1024, with 1 and 2 CPU threads. Runs are interleaved and medians reported; on the CPU,
fit/bare compares CPU seconds, which other processes change little.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import statistics

import torch
import torch.nn.functional as F

import course_utils as cu
from course_utils.collab import EmbeddingDotBias
from course_utils.device import fused_ok
from tools.bench.common import (
    Timer,
    clock,
    interleaved,
    ml100k_rows,
    per_s,
    print_table,
    ratio,
    sgd,
    thread_counts,
)

TARGET = 0.95  # fit must keep at least this share of the bare loop's speed


def time_fit(xs, y, sizes, bs: int, device: torch.device, epochs: int) -> tuple[int, Timer]:
    """`course_utils.fit` (no validation set, no progress bar): (samples, timer)."""
    data = cu.DeviceData(xs, y, bs=bs, device=device)
    model = EmbeddingDotBias(*sizes).to(device)
    opt = sgd(model, device)
    with Timer(device) as t:
        cu.fit(model, data, epochs, opt, F.mse_loss, progress=False)
    return epochs * len(y), t


def time_bare(xs, y, sizes, bs: int, device: torch.device, epochs: int) -> tuple[int, Timer]:
    """The minimal loop `fit` wraps: shuffle each epoch, slice the batches, `train_step`;
    no loss log, checks or history: (samples, timer)."""
    users, movies = (t.to(device) for t in xs)
    y = y.to(device)
    model = EmbeddingDotBias(*sizes).to(device)
    opt = sgd(model, device)
    n = len(y)
    with Timer(device) as t:
        for _ in range(epochs):
            idx = torch.randperm(n, device=device)
            u, m, target = users[idx], movies[idx], y[idx]
            for i in range(0, n, bs):
                xb = (u[i : i + bs], m[i : i + bs])
                cu.train_step(model, xb, target[i : i + bs], opt, F.mse_loss)
    return epochs * n, t


def time_dataloader(xs, y, sizes, bs: int, device: torch.device, epochs: int) -> tuple[int, Timer]:
    """The textbook loop: a TensorDataset on the CPU, DataLoader batches moved per step, the
    loss read every step (what a loop that logs its loss does). At most 300 batches."""
    dataset = torch.utils.data.TensorDataset(*xs, y)
    loader = torch.utils.data.DataLoader(dataset, batch_size=bs, shuffle=True)
    model = EmbeddingDotBias(*sizes).to(device)
    opt = sgd(model, device)
    n_batches = min(300, epochs * len(loader))
    batches = itertools.islice(itertools.chain.from_iterable(itertools.repeat(loader)), n_batches)
    seen = 0
    with Timer(device) as t:
        for u, m, target in batches:
            xb, yb = (u.to(device), m.to(device)), target.to(device)
            cu.train_step(model, xb, yb, opt, F.mse_loss).item()
            seen += len(target)
    return seen, t


def fit_row(xs, y, sizes, bs: int, device: torch.device, repeats: int) -> dict:
    """fit, bare and DataLoader at one batch size: interleaved runs, medians.

    Samples per second are wall-clock. `fit_vs_bare` is the median over the rounds of each
    fit run's speed over the bare run's next to it, in `clock` seconds; `fit_vs_bare_wall`
    the same in wall-clock seconds.
    """
    n, epochs = (20_000, 1) if bs < 256 else (len(y), 2)  # a few hundred steps per run
    xs, y = tuple(t[:n] for t in xs), y[:n]
    loops = {"fit": time_fit, "bare": time_bare, "dataloader": time_dataloader}
    runs = interleaved(
        {k: functools.partial(f, xs, y, sizes, bs, device, epochs) for k, f in loops.items()},
        repeats,
    )
    med = {k: statistics.median(per_s(v)) for k, v in runs.items()}
    return {
        "batch_size": bs,
        "fit_samples_per_s": med["fit"],
        "bare_samples_per_s": med["bare"],
        "dataloader_samples_per_s": med["dataloader"],
        "fit_vs_bare": ratio(runs["fit"], runs["bare"], clock(device)),
        "fit_vs_bare_wall": ratio(runs["fit"], runs["bare"], "wall"),
        "speedup": med["fit"] / med["dataloader"],
    }


COLUMNS = {
    "threads": "threads",
    "batch_size": "batch size",
    "fit_samples_per_s": "fit samples/s",
    "bare_samples_per_s": "bare samples/s",
    "dataloader_samples_per_s": "DataLoader samples/s",
    "fit_vs_bare": "fit/bare",
    "fit_vs_bare_wall": "fit/bare (wall)",
    "speedup": "fit/DataLoader",
}


def bench_fit(args: argparse.Namespace) -> dict:
    device = cu.get_device(args.device)
    xs, y, sizes = ml100k_rows()
    start_threads = torch.get_num_threads()
    rows = []
    try:
        for threads in thread_counts(device):
            torch.set_num_threads(threads)
            for bs in (64, args.batch_size):
                row = fit_row(xs, y, sizes, bs, device, args.repeats)
                rows.append({"threads": threads, **row})
    finally:
        torch.set_num_threads(start_threads)
    seconds = "CPU" if device.type == "cpu" else "wall-clock"
    print(
        f"fit vs the bare loop vs DataLoader(TensorDataset): EmbeddingDotBias, SGD with momentum "
        f"(fused={fused_ok(device)}), ML-100K ratings, device={device}, torch "
        f"{torch.__version__}, median of {args.repeats} interleaved runs; fit/bare in "
        f"{seconds} seconds"
    )
    print_table(rows, COLUMNS)
    default = [r for r in rows if r["threads"] == rows[0]["threads"]]  # the course's default
    small, main = default[0], default[-1]
    result = {
        "benchmark": "fit",
        "device": str(device),
        "torch": torch.__version__,
        "threads": main["threads"],
        "fused": fused_ok(device),
        "repeats": args.repeats,
        **{k: v for k, v in main.items() if k != "threads"},
        **{f"bs64_{k}": v for k, v in small.items() if k not in ("threads", "batch_size")},
        "rows": rows,
    }
    met = result["fit_vs_bare"] >= TARGET and result["bs64_fit_vs_bare"] >= TARGET
    result["meets_targets"] = bool(met)
    print(
        f"target fit >= {TARGET} x bare at batch sizes 64 and {args.batch_size} "
        f"({result['threads']} thread): {'met' if met else 'NOT met'}"
    )
    return result
