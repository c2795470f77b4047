"""Benchmarks: `python -m tools.bench {fit,step,collab,rnn,notebooks,gpu} [--json]`.

* `fit`: samples per second of `course_utils.fit` against the bare loop it wraps (shuffle,
  slice, forward, loss, backward, step: nothing else) and against the textbook
  `DataLoader(TensorDataset)` loop. Same model (`EmbeddingDotBias`), optimizer and ML-100K
  ratings, at batch size 64 and the notebooks' 1024, with 1 and 2 CPU threads. Runs are
  interleaved and medians reported, so a busy machine slows all three alike; on the CPU,
  fit/bare compares CPU seconds, which other processes change little.
* `step`: where one training step's time goes (batch, forward, backward, optimizer,
  schedule, bookkeeping) for the collaborative-filtering model and the RNN lesson's
  stateful GRU, at batch sizes 64 and 1024, with each optimizer implementation.
* `collab`: ML-100K accuracy (random 80/20 splits with three seeds, and u1.base/u1.test)
  and training speed of `train_collab`; fastai's `collab_learner` alongside, if installed.
* `rnn`: best validation loss of the stateful char-RNN within a wall-clock budget.
* `notebooks`: each notebook executed in a fresh kernel (from `notebooks/`, on the device
  `COURSE_DEVICE` names, default the CPU): seconds and peak memory. The notebook files are
  read, never written.
* `gpu` (`make gpu-check`): all of the above on a CUDA GPU, then one table; fails with a
  message where PyTorch sees no CUDA device.

Each prints a table; with `--json` the last line is one JSON object with the results.
Never assert these times in tests: they depend on the machine and on what else it runs.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import math
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.collab import (
    EmbeddingDotBias,
    EmbeddingNet,
    collab_data,
    l2_loss,
    split_ratings,
    train_collab,
)
from course_utils.data import load_ml100k, load_ml100k_split, load_nietzsche
from course_utils.learner import (
    DeviceData,
    LossLog,
    evaluate,
    fit,
    fused_ok,
    get_device,
    one_cycle,
    set_seed,
)
from course_utils.text import CharStatefulRnn, Vocab, batchify, seq_nll_loss, split_text

REPO = Path(__file__).resolve().parents[1]
GRU_HIDDEN = 256  # the RNN lesson's stateful GRU (bench step)
SPLIT_SEEDS = (42, 0, 1)  # the notebooks' seed and two more, fixed before tuning
# The recipes `bench collab` trains; tuned on the random splits, then used unchanged on u1.
COLLAB_RECIPES: dict[str, dict] = {
    "EmbeddingDotBias": {"epochs": 10, "lr": 4e-3, "l2": 0.07, "eps": 2e-4,
                         "make": lambda nu, nm: EmbeddingDotBias(nu, nm, n_factors=100)},
    "EmbeddingNet": {"epochs": 10, "lr": 5e-3, "l2": 0.1, "eps": 1e-4,
                     "make": lambda nu, nm: EmbeddingNet(nu, nm, n_factors=50, n_hidden=100,
                                                         p1=0.3, p2=0.5)},
}


# --------------------------------------------------------------------------- shared helpers


def _sync(device: torch.device) -> None:
    """Wait for the device's queue of work (a GPU runs ahead of Python); no-op on the CPU."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def _now(device: torch.device) -> float:
    _sync(device)
    return time.perf_counter()


def _thread_counts(device: torch.device) -> list[int]:
    """1 and 2 CPU threads on the CPU (the course's default first); the current count elsewhere."""
    return [1, 2] if device.type == "cpu" else [torch.get_num_threads()]


def _ml100k_rows(n_rows: int = 80_000) -> tuple[tuple[Tensor, Tensor], Tensor, tuple[int, int]]:
    """`((users, movies), ratings, (n_users, n_movies))`: a seeded sample of ML-100K rows."""
    ratings, _ = load_ml100k()
    users = torch.tensor(ratings["userId"].to_numpy() - 1, dtype=torch.long)
    movies = torch.tensor(ratings["movieId"].to_numpy() - 1, dtype=torch.long)
    y = torch.tensor(ratings["rating"].to_numpy(), dtype=torch.float32)
    idx = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))[:n_rows]
    return (users[idx], movies[idx]), y[idx], (int(users.max()) + 1, int(movies.max()) + 1)


def _sgd(model: nn.Module, device: torch.device) -> torch.optim.Optimizer:
    return torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, fused=fused_ok(device))


def _print_table(rows: list[dict], columns: dict[str, str]) -> None:
    """Print `rows` under `columns` ({key: header}), numbers right-aligned."""

    def fmt(v: object) -> str:
        if not isinstance(v, float):
            return str(v)
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.1f}" if abs(v) >= 10 else f"{v:.3f}"

    cells = [[fmt(r.get(k, "")) for k in columns] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(columns.values())]
    print("  ".join(h.rjust(w) for h, w in zip(columns.values(), widths, strict=True)))
    for c in cells:
        print("  ".join(v.rjust(w) for v, w in zip(c, widths, strict=True)))


# --------------------------------------------------------------------------- fit


class _Timer:
    """Wall-clock and CPU seconds (this process, all its threads) of a `with` block; the
    device is synchronised at both ends."""

    def __init__(self, device: torch.device) -> None:
        self.device, self.wall, self.cpu = device, 0.0, 0.0

    def __enter__(self) -> _Timer:
        _sync(self.device)
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        _sync(self.device)
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def _interleaved(runs: dict[str, Callable[[], tuple[int, _Timer]]], repeats: int
                 ) -> dict[str, list[tuple[int, _Timer]]]:
    """Call each of `runs` once to warm up, then `repeats` times each, interleaved (the order
    reversed every other round, so no run keeps a favoured position): a change in the
    machine's load hits every run alike. Each run returns `(samples, timer)`."""
    for run in runs.values():
        run()
    out: dict[str, list[tuple[int, _Timer]]] = {k: [] for k in runs}
    for r in range(repeats):
        for k in list(runs) if r % 2 == 0 else list(reversed(runs)):
            out[k].append(runs[k]())
    return out


def _clock(device: torch.device) -> str:
    """Which seconds compare two loops: CPU seconds on the CPU (the work done, which other
    processes on a shared machine change little), wall-clock on a GPU (where the CPU waits)."""
    return "cpu" if device.type == "cpu" else "wall"


def _per_s(runs: list[tuple[int, _Timer]], clock: str = "wall") -> list[float]:
    return [n / getattr(t, clock) for n, t in runs]


def _ratio(a: list[tuple[int, _Timer]], b: list[tuple[int, _Timer]], clock: str) -> float:
    """The median over rounds of a's speed over b's in the same round."""
    return statistics.median(x / y for x, y in zip(_per_s(a, clock), _per_s(b, clock),
                                                   strict=True))


def _time_fit(xs, y, sizes, bs: int, device: torch.device, epochs: int) -> tuple[int, _Timer]:
    """`course_utils.fit` (no validation set, no progress bar): (samples, timer)."""
    data = DeviceData(xs, y, bs=bs, device=device)
    model = EmbeddingDotBias(*sizes).to(device)
    opt = _sgd(model, device)
    with _Timer(device) as t:
        fit(model, data, epochs, opt, F.mse_loss, progress=False)
    return epochs * len(y), t


def _time_bare(xs, y, sizes, bs: int, device: torch.device, epochs: int) -> tuple[int, _Timer]:
    """The minimal loop `fit` wraps, the same data path (shuffle each epoch, slice batches)
    without fit's logging, checks or history: (samples, timer)."""
    users, movies = (t.to(device) for t in xs)
    y = y.to(device)
    model = EmbeddingDotBias(*sizes).to(device)
    opt = _sgd(model, device)
    n = len(y)
    with _Timer(device) as t:
        for _ in range(epochs):
            idx = torch.randperm(n, device=device)
            u, m, target = users[idx], movies[idx], y[idx]
            for i in range(0, n, bs):
                loss = F.mse_loss(model(u[i : i + bs], m[i : i + bs]), target[i : i + bs])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
    return epochs * n, t


def _time_dataloader(xs, y, sizes, bs: int, device: torch.device, epochs: int
                     ) -> tuple[int, _Timer]:
    """The textbook loop: a TensorDataset on the CPU, DataLoader batches moved per step, the
    loss read every step (what a loop that logs its loss does). At most 300 batches."""
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(*xs, y), batch_size=bs,
                                         shuffle=True)
    model = EmbeddingDotBias(*sizes).to(device)
    opt = _sgd(model, device)
    n_batches = min(300, epochs * len(loader))
    batches = itertools.islice(itertools.chain.from_iterable(itertools.repeat(loader)), n_batches)
    seen = 0
    with _Timer(device) as t:
        for u, m, target in batches:
            u, m, target = u.to(device), m.to(device), target.to(device)
            loss = F.mse_loss(model(u, m), target)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss.item()
            seen += len(target)
    return seen, t


def _fit_row(xs, y, sizes, bs: int, device: torch.device, repeats: int) -> dict:
    """fit, bare and DataLoader at one batch size: interleaved runs, medians.

    Samples per second are wall-clock. `fit_vs_bare` is the median over the rounds of each
    fit run's speed over the bare run's next to it, in `_clock` seconds; `fit_vs_bare_wall`
    the same in wall-clock seconds.
    """
    n, epochs = (20_000, 1) if bs < 256 else (len(y), 2)  # a few hundred steps per run
    xs, y = tuple(t[:n] for t in xs), y[:n]
    loops = {"fit": _time_fit, "bare": _time_bare, "dataloader": _time_dataloader}
    runs = _interleaved({k: functools.partial(f, xs, y, sizes, bs, device, epochs)
                         for k, f in loops.items()}, repeats)
    med = {k: statistics.median(_per_s(v)) for k, v in runs.items()}
    return {"batch_size": bs, "fit_samples_per_s": med["fit"], "bare_samples_per_s": med["bare"],
            "dataloader_samples_per_s": med["dataloader"],
            "fit_vs_bare": _ratio(runs["fit"], runs["bare"], _clock(device)),
            "fit_vs_bare_wall": _ratio(runs["fit"], runs["bare"], "wall"),
            "speedup": med["fit"] / med["dataloader"]}


def bench_fit(args: argparse.Namespace) -> dict:
    device = get_device(args.device)
    xs, y, sizes = _ml100k_rows()
    start_threads, rows = torch.get_num_threads(), []
    try:
        for threads in _thread_counts(device):
            torch.set_num_threads(threads)
            for bs in (64, args.batch_size):
                rows.append({"threads": threads,
                             **_fit_row(xs, y, sizes, bs, device, args.repeats)})
    finally:
        torch.set_num_threads(start_threads)
    print(f"fit vs the bare loop vs DataLoader(TensorDataset): EmbeddingDotBias, SGD with momentum "
          f"(fused={fused_ok(device)}), ML-100K ratings, device={device}, torch "
          f"{torch.__version__}, median of {args.repeats} interleaved runs; fit/bare in "
          f"{'CPU' if device.type == 'cpu' else 'wall-clock'} seconds")
    _print_table(rows, {"threads": "threads", "batch_size": "batch size",
                        "fit_samples_per_s": "fit samples/s", "bare_samples_per_s": "bare samples/s",
                        "dataloader_samples_per_s": "DataLoader samples/s",
                        "fit_vs_bare": "fit/bare", "fit_vs_bare_wall": "fit/bare (wall)",
                        "speedup": "fit/DataLoader"})
    default = [r for r in rows if r["threads"] == rows[0]["threads"]]  # the course's default
    small, main = default[0], default[-1]
    result = {"benchmark": "fit", "device": str(device), "torch": torch.__version__,
              "threads": main["threads"], "fused": fused_ok(device), "repeats": args.repeats,
              **{k: v for k, v in main.items() if k != "threads"},
              **{f"bs64_{k}": v for k, v in small.items() if k not in ("threads", "batch_size")},
              "rows": rows}
    result["meets_targets"] = bool(result["fit_vs_bare"] >= 0.95
                                   and result["bs64_fit_vs_bare"] >= 0.95)
    print(f"target fit >= 0.95 x bare at batch sizes 64 and {args.batch_size} "
          f"({result['threads']} thread): {'met' if result['meets_targets'] else 'NOT met'}")
    return result


# --------------------------------------------------------------------------- step

PHASES = ("batch", "forward", "backward", "optimizer", "schedule", "bookkeeping")


def _endless(model: nn.Module, data: DeviceData) -> Iterator[tuple[tuple[Tensor, ...], Tensor]]:
    while True:
        if hasattr(model, "reset"):  # a stateful RNN starts each epoch from a zero state
            model.reset()
        yield from data.train_batches()


def _phase_chunks(model: nn.Module, data: DeviceData, opt: torch.optim.Optimizer,
                  loss_fn: Callable, max_lr: float, clip: float | None,
                  chunk: int) -> Iterator[list[float]]:
    """Train as `fit` does and yield, for each `chunk` steps, the mean microseconds per step
    in each of `PHASES`.

    `fit` reads the losses back every `chunk` steps (10 on the CPU), so each chunk holds one
    such read. The device is synchronised at each phase boundary, so on a GPU each phase
    includes its own kernels. The first `chunk` steps are a warm-up, not yielded.
    """
    device, total_steps = data.device, 1_000_000
    scheduler = one_cycle(max_lr)(opt, 1, total_steps)
    log = LossLog(1, total_steps, sync_every=chunk, progress=False)
    batches = _endless(model, data)
    model.train()
    for i in itertools.count():
        sums = [0.0] * len(PHASES)
        for _ in range(chunk):
            t = [_now(device)]
            xb, yb = next(batches)
            t.append(_now(device))
            loss = loss_fn(model(*xb), yb)
            t.append(_now(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            t.append(_now(device))
            opt.step()
            t.append(_now(device))
            scheduler.step()
            t.append(_now(device))
            log.add(loss.detach(), opt.param_groups[0]["lr"], 1)
            t.append(_now(device))
            sums = [s + b - a for s, a, b in zip(sums, t, t[1:], strict=False)]
        if i > 0:
            yield [s / chunk * 1e6 for s in sums]


def _kept(chunks: list[list[float]]) -> list[list[float]]:
    """The chunks that took at most 1.5x the median chunk (none slowed by another process)."""
    if not chunks:
        return []
    typical = statistics.median(sum(c) for c in chunks)
    return [c for c in chunks if sum(c) <= 1.5 * typical]


def _phase_table(runs: dict[str, Iterator[list[float]]], bs: int, seconds: float) -> list[dict]:
    """Round-robin chunks of `runs` (one per optimizer) for about `seconds` each, so that a
    change in the machine's load hits every run alike, and until every run has at least 2 kept
    chunks. Per phase: the mean over the kept chunks, those that took at most 1.5x the median
    chunk (the others had the CPU taken by another process); the start of an epoch (the
    shuffle) stays in, spread over its steps."""
    chunks: dict[str, list[list[float]]] = {k: [] for k in runs}
    t_end = time.perf_counter() + seconds * len(runs)
    while min(len(_kept(cs)) for cs in chunks.values()) < 2 or time.perf_counter() < t_end:
        for k, run in runs.items():
            chunks[k].append(next(run))
    rows = []
    for k, cs in chunks.items():
        kept = _kept(cs)
        row = {"optimizer": k,
               **{f"{p}_us": statistics.mean(c[i] for c in kept) for i, p in enumerate(PHASES)}}
        row["step_us"] = sum(row[f"{p}_us"] for p in PHASES)
        row["samples_per_s"] = bs / row["step_us"] * 1e6
        row["chunks"] = len(kept)
        rows.append(row)
    return rows


def _optimizer_variants(device: torch.device) -> dict[str, dict]:
    """The implementations of torch.optim's update: one op per tensor ("for-loop", the CPU
    default), one op per group of tensors ("foreach", the GPU default), one kernel ("fused")."""
    variants = {"for-loop": {"foreach": False}, "foreach": {"foreach": True}}
    if fused_ok(device):
        variants["fused"] = {"fused": True}
    return variants


def _collab_step_setup(bs: int, device: torch.device, opt_kw: dict) -> tuple:
    xs, y, sizes = _ml100k_rows()
    set_seed(0)
    model = EmbeddingDotBias(*sizes).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-3, betas=(0.9, 0.99), eps=1e-4, **opt_kw)
    return model, DeviceData(xs, y, bs=bs, device=device), opt, l2_loss(model, 0.07), 5e-3, None


def _gru_step_setup(bs: int, device: torch.device, opt_kw: dict) -> tuple:
    text = load_nietzsche()
    vocab = Vocab.from_text(text)
    trn, _ = split_text(vocab.encode(text))
    data = DeviceData(*batchify(trn, bs, 32), bs=bs, shuffle=False, drop_last=True, device=device)
    set_seed(0)
    model = CharStatefulRnn(len(vocab), 42, GRU_HIDDEN, cell="gru").to(device)
    opt = torch.optim.Adam(model.parameters(), lr=0.01, **opt_kw)
    return model, data, opt, seq_nll_loss, 0.01, 1.0


def bench_step(args: argparse.Namespace) -> dict:
    """Where the time of one training step goes, phase by phase (see `_phase_chunks`)."""
    device = get_device(args.device)
    setups = {"EmbeddingDotBias, AdamW + l2": (_collab_step_setup, 10),
              f"stateful GRU({GRU_HIDDEN}), Adam + clip": (_gru_step_setup, 2)}  # chunk: fewer slow steps
    rows = []
    for (name, (setup, chunk)), bs in itertools.product(setups.items(), (64, args.batch_size)):
        runs = {opt_name: _phase_chunks(*setup(bs, device, opt_kw), chunk)
                for opt_name, opt_kw in _optimizer_variants(device).items()}
        rows += [{"model": name, "batch_size": bs, **r}
                 for r in _phase_table(runs, bs, args.step_seconds)]
    print(f"one training step, microseconds per phase (mean over chunks of steps, optimizers "
          f"interleaved), device={device}, {torch.get_num_threads()} thread(s), "
          f"torch {torch.__version__}")
    _print_table(rows, {"model": "model", "batch_size": "bs", "optimizer": "optimizer",
                        **{f"{p}_us": p for p in PHASES}, "step_us": "step us",
                        "samples_per_s": "samples/s"})
    return {"benchmark": "step", "device": str(device), "torch": torch.__version__,
            "threads": torch.get_num_threads(), "phases": list(PHASES), "rows": rows}


# --------------------------------------------------------------------------- collab


def _train_collab_run(train, valid, bs: int, device: torch.device, epochs: int) -> Callable:
    """`train_collab` (50 factors, one cycle, validation every epoch): `() -> (samples, timer)`."""
    data, users, movies = collab_data(train, valid, bs=bs, device=device)

    def run() -> tuple[int, _Timer]:
        set_seed(42)
        model = EmbeddingDotBias(len(users), len(movies), n_factors=50)
        with _Timer(device) as t:
            train_collab(model, data, epochs, lr=5e-3, l2=0.07, progress=False)
        return epochs * data.n_train, t

    return run


def _fastai_learner(train, valid, bs: int, device: torch.device):
    """fastai's `collab_learner` on exactly our split (50 factors, y_range (0, 5.5))."""
    import pandas as pd
    from fastai.collab import TabularCollab, collab_learner
    from fastai.data.block import TransformBlock
    from fastai.tabular.core import Categorify

    df = pd.concat([train, valid], ignore_index=True)[["userId", "movieId", "rating"]]
    splits = (list(range(len(train))), list(range(len(train), len(df))))
    to = TabularCollab(df, [Categorify], ["userId", "movieId"], y_names=["rating"],
                       y_block=TransformBlock(), splits=splits)
    return collab_learner(to.dataloaders(path=".", bs=bs, device=device), n_factors=50,
                          y_range=(0, 5.5))


def _fastai_run(train, valid, bs: int, device: torch.device, epochs: int) -> Callable:
    """fastai's `fit_one_cycle` (validation every epoch): `() -> (samples, timer)`."""

    def run() -> tuple[int, _Timer]:
        set_seed(42)
        learn = _fastai_learner(train, valid, bs, device)
        with learn.no_bar(), learn.no_logging(), _Timer(device) as t:
            learn.fit_one_cycle(epochs, 5e-3, wd=0.1)
        return epochs * len(train), t

    return run


def _fastai_available() -> bool:
    try:
        import fastai.collab  # noqa: F401
    except ImportError:
        print("fastai is not installed: collab_learner skipped (pip install fastai to compare; "
              "it is not a dependency of this course)")
        return False
    return True


def _fastai_mse(splits: dict, device: torch.device) -> dict[str, float]:
    """fastai's valid MSE on each split with its tutorial's recipe: batch size 64,
    fit_one_cycle(5, 5e-3, wd=0.1)."""
    mse = {}
    for name, (train, valid) in splits.items():
        set_seed(42)
        learn = _fastai_learner(train, valid, 64, device)
        with learn.no_bar(), learn.no_logging():
            learn.fit_one_cycle(5, 5e-3, wd=0.1)
            mse[name] = float(learn.validate()[0])
    return mse


def _collab_speeds(train, valid, batch_sizes: tuple[int, ...], device: torch.device,
                   repeats: int, fastai: bool) -> dict:
    """Samples per second of train_collab (and of fastai's collab_learner), validation
    included: 1 epoch at batch size 64, 5 above (a few seconds a run), warm, median of
    `repeats` interleaved runs. `bs{N}_vs_fastai`: the median of paired speed ratios in
    `_clock` seconds."""
    out: dict = {}
    for bs in batch_sizes:
        epochs = 1 if bs < 256 else 5
        runs = {"train_collab": _train_collab_run(train, valid, bs, device, epochs)}
        if fastai:
            runs["fastai"] = _fastai_run(train, valid, bs, device, epochs)
        times = _interleaved(runs, repeats)
        for k, v in times.items():
            out[f"{k}_bs{bs}_samples_per_s"] = statistics.median(_per_s(v))
        if fastai:
            out[f"bs{bs}_vs_fastai"] = _ratio(times["train_collab"], times["fastai"],
                                              _clock(device))
    return out


def bench_collab(args: argparse.Namespace) -> dict:
    """ML-100K accuracy and speed of the collaborative-filtering models.

    Accuracy, two protocols: (a) random 80/20 splits of the 100,000 ratings with seeds
    `SPLIT_SEEDS` (fastai's `collab_learner` protocol; fastai reports valid MSE 0.8217 on
    one such split), (b) the standard u1.base / u1.test split. Each model of
    `COLLAB_RECIPES` trains once per split with `course_utils.collab.train_collab` (AdamW,
    one cycle, L2 on the batch's factors), seeded, so results repeat on one machine.
    Speed: samples per second of `train_collab` (50 factors, 5 epochs, warm) at batch sizes
    64 and `--batch-size`, and of fastai's `collab_learner` when fastai is installed.
    """
    device = get_device(args.device)
    ratings, _ = load_ml100k()
    splits = {f"seed {s}": split_ratings(ratings, valid_pct=0.2, seed=s) for s in SPLIT_SEEDS}
    splits["u1.base/u1.test"] = load_ml100k_split("u1")
    rows = []
    for split, (train, test) in splits.items():
        data, users, movies = collab_data(train, test, bs=256, device=device)
        for name, r in COLLAB_RECIPES.items():
            set_seed(42)
            model = r["make"](len(users), len(movies))
            t = _now(device)
            hist = train_collab(model, data, r["epochs"], lr=r["lr"], l2=r["l2"], eps=r["eps"],
                                progress=False)
            mse = float(hist["valid_loss"].iloc[-1])
            rows.append({"split": split, "model": name, "mse": mse, "rmse": mse**0.5,
                         "epochs": r["epochs"], "seconds": _now(device) - t})
    print(f"ML-100K collaborative filtering, device={device}, {torch.get_num_threads()} "
          f"thread(s), torch {torch.__version__}, batch size 256")
    _print_table(rows, {"split": "split", "model": "model", "mse": "valid MSE", "rmse": "RMSE",
                        "epochs": "epochs", "seconds": "seconds"})
    random_rows = [r for r in rows if r["split"].startswith("seed")]
    means = {m: statistics.mean(r["mse"] for r in random_rows if r["model"] == m)
             for m in COLLAB_RECIPES}
    best = min(means, key=means.get)
    u1 = next(r for r in rows if r["split"] == "u1.base/u1.test" and r["model"] == best)
    result = {
        "benchmark": "collab", "device": str(device), "torch": torch.__version__,
        "threads": torch.get_num_threads(), "split_seeds": list(SPLIT_SEEDS), "model": best,
        "ml100k_random_mse": {r["split"]: r["mse"] for r in random_rows if r["model"] == best},
        "ml100k_random_mse_mean": means[best], "ml100k_random_rmse_mean": means[best] ** 0.5,
        "ml100k_u1_mse": u1["mse"], "ml100k_u1_rmse": u1["rmse"],
        "max_seconds": max(r["seconds"] for r in rows if r["model"] == best), "runs": rows,
    }
    print(f"{best}: random-split MSE " + ", ".join(f"{k} {v:.4f}" for k, v in
                                                  result["ml100k_random_mse"].items())
          + f", mean {means[best]:.4f}; u1 RMSE {u1['rmse']:.4f} "
          "(references: fastai collab_learner 0.8217 MSE on one random split; "
          "Surprise SVD, 5-fold: RMSE 0.934)")
    batch_sizes = (64, args.batch_size)
    fastai = _fastai_available()
    speed = _collab_speeds(*splits[f"seed {SPLIT_SEEDS[0]}"], batch_sizes, device,
                           min(args.repeats, 3), fastai)
    result |= speed
    print(f"samples/s with validation, warm, median of {min(args.repeats, 3)} interleaved "
          "runs: " + ", ".join(
              f"batch size {bs}: train_collab {speed[f'train_collab_bs{bs}_samples_per_s']:,.0f}"
              + (f", fastai {speed[f'fastai_bs{bs}_samples_per_s']:,.0f} "
                 f"(train_collab {speed[f'bs{bs}_vs_fastai']:.1f}x faster in "
                 f"{_clock(device)} seconds)" if fastai else "")
              for bs in batch_sizes))
    if fastai:
        fastai_mse = _fastai_mse({k: v for k, v in splits.items() if k.startswith("seed")}, device)
        result["fastai_random_mse"] = fastai_mse
        result["fastai_random_mse_mean"] = statistics.mean(fastai_mse.values())
        print("fastai collab_learner (bs 64, fit_one_cycle(5, 5e-3, wd=0.1)): random-split MSE "
              + ", ".join(f"{k} {v:.4f}" for k, v in fastai_mse.items())
              + f", mean {result['fastai_random_mse_mean']:.4f}")
    result["meets_targets"] = bool(means[best] <= 0.80 and u1["rmse"] <= 0.91
                                   and result["max_seconds"] < 60)
    print(f"targets (random-split MSE mean <= 0.80, u1 RMSE <= 0.91, each model under 60 s): "
          f"{'met' if result['meets_targets'] else 'NOT met'}")
    return result


# --------------------------------------------------------------------------- rnn


def bench_rnn(args: argparse.Namespace) -> dict:
    """Best validation loss of the lesson's stateful GRU within a wall-clock budget.

    Trains `course_utils.text.CharStatefulRnn` (a GRU) on the first 90% of Nietzsche for
    `args.budget` seconds with truncated BPTT, the same layout and loss as the notebook.
    The one-cycle learning rate follows the elapsed fraction of the budget rather than a
    number of steps, so the schedule ends exactly when the time does, on any machine.
    After every epoch and at the end it evaluates on the last 10% of the text (evaluation
    time is not counted in the budget) and reports the best validation loss in nats and
    bits per character, and characters per second of training.
    """
    device = get_device(args.device)
    budget = float(args.budget)
    # A wider GRU than the notebook's (256): on a 2-core CPU, 5 minutes are ~10 epochs of it.
    config = {"n_fac": 42, "n_hidden": 384, "cell": "gru", "n_layers": 1, "dropout": 0.0}
    bs, bptt, max_lr, clip = 64, 32, 5e-3, 1.0
    set_seed(0)
    text = load_nietzsche()
    vocab = Vocab.from_text(text)
    trn, val = split_text(vocab.encode(text))
    data = DeviceData(*batchify(trn, bs, bptt), *batchify(val, bs, bptt), bs=bs,
                      shuffle=False, drop_last=True, device=device)
    model = CharStatefulRnn(len(vocab), **config).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=max_lr / 25, fused=fused_ok(device))

    def lr_at(frac: float) -> float:
        """What `one_cycle` does, by time instead of steps: a cosine from max_lr/25 up to
        max_lr over the first 25% of the budget, then a cosine down to max_lr/25e4."""

        def cos_from_to(a: float, b: float, f: float) -> float:
            return b + (a - b) * (1 + math.cos(math.pi * f)) / 2

        if frac < 0.25:
            return cos_from_to(max_lr / 25, max_lr, frac / 0.25)
        return cos_from_to(max_lr, max_lr / 25e4, (frac - 0.25) / 0.75)

    rows, train_s, steps, chars = [], 0.0, 0, 0
    steps_per_epoch = data.n_batches("train")
    t_total = time.perf_counter()
    while train_s < budget:
        model.train()
        model.reset()
        t = time.perf_counter()
        for xb, yb in data.train_batches():
            frac = (train_s + time.perf_counter() - t) / budget
            if frac >= 1:
                break
            for g in opt.param_groups:
                g["lr"] = lr_at(frac)
            loss = seq_nll_loss(model(*xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            steps += 1
            chars += yb.numel()
        _sync(device)
        train_s += time.perf_counter() - t
        val_nll = evaluate(model, data, seq_nll_loss)["valid_loss"]
        rows.append({"epoch": steps / steps_per_epoch, "train_s": train_s, "val_nll": val_nll})
    best = min(rows, key=lambda r: r["val_nll"])
    chars_per_s = chars / train_s

    name = f"{config['cell'].upper()}({config['n_hidden']}) x{config['n_layers']}"
    print(f"stateful {name} char-RNN on Nietzsche, bs={bs}, bptt={bptt}, budget {budget:.0f} s, "
          f"device={device}, {torch.get_num_threads()} threads")
    print(f"{'epoch':>6} {'train s':>8} {'val nats/char':>14} {'bits/char':>10}")
    for r in rows:
        print(f"{r['epoch']:>6.2f} {r['train_s']:>8.1f} {r['val_nll']:>14.4f} "
              f"{r['val_nll'] / math.log(2):>10.4f}")
    print(f"best val {best['val_nll']:.4f} nats/char ({best['val_nll'] / math.log(2):.3f} bits), "
          f"{chars_per_s:,.0f} chars/s, {time.perf_counter() - t_total:.0f} s in all "
          "(target on a 2-core CPU: 1.37 nats/char, the 2018 lesson's GRU)")
    return {"benchmark": "rnn", "device": str(device), "torch": torch.__version__,
            "threads": torch.get_num_threads(), "model": name, "bs": bs, "bptt": bptt,
            "budget_s": budget, "train_s": train_s, "epochs": steps / steps_per_epoch,
            "steps": steps, "chars_per_s": chars_per_s, "val_nll": best["val_nll"],
            "val_bits": best["val_nll"] / math.log(2), "target_val_nll": 1.37}


# --------------------------------------------------------------------------- notebooks


class _PeakMemory:
    """Polls the resident memory of a process and all its children; `peak` in bytes.

    `get_pid` is called on every poll (the kernel's process appears only once it started).
    A peak shorter than the polling interval can be missed.
    """

    def __init__(self, get_pid: Callable[[], int | None], interval: float = 0.1) -> None:
        self.get_pid, self.interval, self.peak = get_pid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _poll(self) -> None:
        import psutil

        pid = self.get_pid()
        if pid is None:
            return
        try:
            proc = psutil.Process(pid)
            tree = [proc, *proc.children(recursive=True)]
        except psutil.Error:
            return
        rss = 0
        for p in tree:
            try:
                rss += p.memory_info().rss
            except psutil.Error:  # a child that just ended
                pass
        self.peak = max(self.peak, rss)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._poll()

    def __enter__(self) -> _PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _kernel_pid(client) -> int | None:
    provisioner = getattr(getattr(client, "km", None), "provisioner", None)
    process = getattr(provisioner, "process", None)
    return getattr(process, "pid", None) or getattr(provisioner, "pid", None)


def run_notebook(path: Path, device: str = "cpu", timeout: int = 1200) -> dict:
    """Execute the notebook at `path` in a fresh kernel, in memory (the file is not written),
    with its folder as the working directory. Returns notebook, seconds, peak_mb, ok, error."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    env = {**os.environ, "COURSE_DEVICE": device, "COURSE_PROGRESS": "0"}
    error = None
    t = time.perf_counter()
    with _PeakMemory(lambda: _kernel_pid(client)) as memory:
        try:
            client.execute(env=env)
        except Exception as e:  # a failing cell, a timeout, a kernel that died
            lines = [s for s in str(e).strip().splitlines() if s.strip()]
            error = f"{type(e).__name__}: {lines[-1] if lines else ''}"[:300]
    return {"notebook": path.name, "seconds": time.perf_counter() - t,
            "peak_mb": memory.peak / 2**20, "ok": error is None, "error": error}


def bench_notebooks(args: argparse.Namespace) -> dict:
    paths = [Path(p) for p in args.notebooks] or sorted((REPO / "notebooks").glob("*.ipynb"))
    device = str(args.device or os.environ.get("COURSE_DEVICE") or "cpu")
    rows = []
    for p in paths:
        rows.append(run_notebook(p, device, args.timeout))
        print(f"  {p.name}: {rows[-1]['seconds']:.0f} s" + ("" if rows[-1]["ok"] else " FAILED"),
              file=sys.stderr, flush=True)
    print(f"notebooks, each in a fresh kernel, COURSE_DEVICE={device}, "
          f"COURSE_THREADS={os.environ.get('COURSE_THREADS', '1 (default)')}, "
          f"torch {torch.__version__}")
    _print_table([{**r, "status": "ok" if r["ok"] else r["error"]} for r in rows],
                 {"notebook": "notebook", "seconds": "seconds", "peak_mb": "peak MB",
                  "status": "status"})
    total = sum(r["seconds"] for r in rows)
    print(f"total {total:.0f} s")
    return {"benchmark": "notebooks", "device": device, "torch": torch.__version__,
            "notebooks": rows, "total_seconds": total, "ok": all(r["ok"] for r in rows)}


# --------------------------------------------------------------------------- gpu check


class NoCudaError(RuntimeError):
    """`gpu` was asked for where PyTorch sees no CUDA device."""


def bench_gpu(args: argparse.Namespace) -> dict:
    """Every benchmark and every notebook on the GPU, their quality gates, one table."""
    if not torch.cuda.is_available():
        build = torch.version.cuda
        raise NoCudaError(
            f"make gpu-check needs a CUDA GPU, and this PyTorch ({torch.__version__}) sees none"
            + (f" (a CUDA {build} build: check the driver, nvidia-smi)." if build else
               " (a CPU-only build).")
            + " Run it on a machine with an NVIDIA GPU and the CUDA build of PyTorch "
            "(README, Performance).")
    args.device = "cuda"
    name = torch.cuda.get_device_name()
    results = {k: BENCHMARKS[k](args) for k in ("fit", "step", "collab", "rnn", "notebooks")}
    table = [("device", name), ("torch / CUDA", f"{torch.__version__} / {torch.version.cuda}")]
    fit_r, col, rnn = results["fit"], results["collab"], results["rnn"]
    bs = f"bs {fit_r['batch_size']} / 64"
    table += [
        (f"fit samples/s, {bs}",
         f"{fit_r['fit_samples_per_s']:,.0f} / {fit_r['bs64_fit_samples_per_s']:,.0f}"),
        (f"fit / bare loop, {bs}", f"{fit_r['fit_vs_bare']:.2f} / {fit_r['bs64_fit_vs_bare']:.2f}"),
        (f"fit / DataLoader, {bs}", f"{fit_r['speedup']:.1f}x / {fit_r['bs64_speedup']:.1f}x"),
        ("collab random MSE mean (<= 0.80)", f"{col['ml100k_random_mse_mean']:.4f}"),
        ("collab u1 RMSE (<= 0.91)", f"{col['ml100k_u1_rmse']:.4f}"),
        ("rnn best val nats/char", f"{rnn['val_nll']:.4f} in {rnn['budget_s']:.0f} s"),
    ]
    for r in results["step"]["rows"]:
        table.append((f"step us: {r['model']}, bs {r['batch_size']}, {r['optimizer']}",
                      f"{r['step_us']:,.0f}"))
    for r in results["notebooks"]["notebooks"]:
        table.append((f"notebook {r['notebook']}",
                      f"{r['seconds']:.0f} s, {r['peak_mb']:,.0f} MB host"
                      + ("" if r["ok"] else f", FAILED: {r['error']}")))
    ok = bool(results["notebooks"]["ok"] and col["meets_targets"])
    table.append(("quality gates", "all passed" if ok else "FAILED"))
    width = max(len(k) for k, _ in table)
    print(f"\nGPU check\n{'-' * (width + 40)}")
    for k, v in table:
        print(f"{k:<{width}}  {v}")
    return {"benchmark": "gpu", "device": name, "ok": ok, **results}


BENCHMARKS: dict[str, Callable[[argparse.Namespace], dict]] = {
    "fit": bench_fit, "step": bench_step, "collab": bench_collab, "rnn": bench_rnn,
    "notebooks": bench_notebooks, "gpu": bench_gpu,
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("which", choices=list(BENCHMARKS))
    p.add_argument("notebooks", nargs="*", help="notebooks to run (notebooks: default all)")
    p.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    p.add_argument("--device", default=None, help="cuda, mps or cpu (default: best available; "
                   "notebooks: COURSE_DEVICE, else cpu)")
    p.add_argument("--repeats", type=int, default=7, help="timed runs per loop; medians (fit)")
    p.add_argument("--batch-size", type=int, default=1024, help="the notebooks' batch size")
    p.add_argument("--step-seconds", type=float, default=2.0,
                   help="seconds of timed steps per configuration (step)")
    p.add_argument("--budget", type=float, default=300.0, help="seconds of training (rnn)")
    p.add_argument("--timeout", type=int, default=1200, help="seconds per cell (notebooks)")
    args = p.parse_args(argv)
    if args.notebooks and args.which != "notebooks":
        p.error("only `notebooks` takes notebook paths")
    try:
        result = BENCHMARKS[args.which](args)
    except NoCudaError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, default=str))
    return 0 if result.get("ok", True) else 1


if __name__ == "__main__":
    raise SystemExit(main())
