"""`python -m tools.bench step`: where one training step's time goes.

Phases: batch, forward (the loss included), backward (zero_grad and clipping included),
optimizer, schedule, bookkeeping (fit's loss log). The step is the library's own
`course_utils.train_step`, timed from outside: the loss function and an optimizer hook mark
the boundaries inside it. The schedule is `course_utils.one_cycle`. Measured for the
collaborative-filtering model and the RNN lesson's stateful GRU, at batch sizes 64 and
`--batch-size`, with each implementation of the optimizer's update.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections.abc import Callable, Iterator

import torch
from torch import Tensor, nn

import course_utils as cu
from course_utils.char_models import CharStatefulRnn
from course_utils.collab import EmbeddingDotBias, l2_loss
from course_utils.device import fused_ok
from course_utils.history import LossLog
from course_utils.text import Vocab, batchify, seq_nll_loss, split_text
from tools.bench.common import ml100k_rows, now, print_table

PHASES = ("batch", "forward", "backward", "optimizer", "schedule", "bookkeeping")
GRU_HIDDEN = 256  # the RNN lesson's stateful GRU
TOTAL_STEPS = 1_000_000  # the one-cycle schedule's length: far more steps than any run takes

Setup = tuple[nn.Module, cu.DeviceData, torch.optim.Optimizer, Callable, float, float | None]


def endless(model: nn.Module, data: cu.DeviceData) -> Iterator[tuple[tuple[Tensor, ...], Tensor]]:
    """Training batches, epoch after epoch; a stateful RNN starts each epoch from a zero state."""
    while True:
        if hasattr(model, "reset"):
            model.reset()
        yield from data.train_batches()


def phase_chunks(
    model: nn.Module,
    data: cu.DeviceData,
    opt: torch.optim.Optimizer,
    loss_fn: Callable,
    max_lr: float,
    clip: float | None,
    chunk: int,
) -> Iterator[list[float]]:
    """Train as `fit` does and yield, for each `chunk` steps, the mean microseconds per step
    in each of `PHASES`.

    `fit` reads the losses back every `chunk` steps (10 on the CPU), so each chunk holds one
    such read. The device is synchronised at each phase boundary, so on a GPU each phase
    includes its own kernels. The first `chunk` steps are a warm-up, not yielded.
    """
    device = data.device
    marks: list[float] = []

    def timed_loss(out: Tensor, target: Tensor) -> Tensor:  # the end of the forward phase
        loss = loss_fn(out, target)
        marks.append(now(device))
        return loss

    def before_step(*_: object) -> None:  # the end of the backward phase
        marks.append(now(device))

    hook = opt.register_step_pre_hook(before_step)
    scheduler = cu.one_cycle(max_lr)(opt, 1, TOTAL_STEPS)
    log = LossLog(1, TOTAL_STEPS, sync_every=chunk, progress=False)
    batches = endless(model, data)
    model.train()
    try:
        for i in itertools.count():
            sums = [0.0] * len(PHASES)
            for _ in range(chunk):
                marks.clear()
                marks.append(now(device))
                xb, yb = next(batches)
                marks.append(now(device))
                loss = cu.train_step(model, xb, yb, opt, timed_loss, clip)
                marks.append(now(device))
                scheduler.step()
                marks.append(now(device))
                log.add(loss, opt.param_groups[0]["lr"], 1)
                marks.append(now(device))
                phases = zip(sums, marks[:-1], marks[1:], strict=True)  # 7 marks: 6 phases
                sums = [s + b - a for s, a, b in phases]
            if i > 0:
                yield [s / chunk * 1e6 for s in sums]
    finally:
        hook.remove()


def kept(chunks: list[list[float]]) -> list[list[float]]:
    """The chunks that took at most 1.5x the median chunk (none slowed by another process)."""
    if not chunks:
        return []
    typical = statistics.median(sum(c) for c in chunks)
    return [c for c in chunks if sum(c) <= 1.5 * typical]


def phase_table(runs: dict[str, Iterator[list[float]]], bs: int, seconds: float) -> list[dict]:
    """Round-robin chunks of `runs` (one per optimizer) for about `seconds` each, so that a
    change in the machine's load hits every run alike, and until every run has at least 2 kept
    chunks. Per phase: the mean over the kept chunks (see `kept`); the start of an epoch (the
    shuffle) stays in, spread over its steps."""
    chunks: dict[str, list[list[float]]] = {k: [] for k in runs}
    t_end = time.perf_counter() + seconds * len(runs)
    while min(len(kept(cs)) for cs in chunks.values()) < 2 or time.perf_counter() < t_end:
        for k, run in runs.items():
            chunks[k].append(next(run))
    rows = []
    for k, cs in chunks.items():
        good = kept(cs)
        row = {"optimizer": k}
        for i, p in enumerate(PHASES):
            row[f"{p}_us"] = statistics.mean(c[i] for c in good)
        row["step_us"] = sum(row[f"{p}_us"] for p in PHASES)
        row["samples_per_s"] = bs / row["step_us"] * 1e6
        row["chunks"] = len(good)
        rows.append(row)
    return rows


def optimizer_variants(device: torch.device) -> dict[str, dict]:
    """The implementations of torch.optim's update: one op per tensor ("for-loop", the CPU
    default), one op per group of tensors ("foreach", the GPU default), one kernel ("fused")."""
    variants = {"for-loop": {"foreach": False}, "foreach": {"foreach": True}}
    if fused_ok(device):
        variants["fused"] = {"fused": True}
    return variants


def collab_setup(bs: int, device: torch.device, opt_kw: dict) -> Setup:
    """EmbeddingDotBias with train_collab's AdamW and L2 penalty."""
    xs, y, sizes = ml100k_rows()
    cu.set_seed(0)
    model = EmbeddingDotBias(*sizes).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-3, betas=(0.9, 0.99), eps=1e-4, **opt_kw)
    data = cu.DeviceData(xs, y, bs=bs, device=device)
    return model, data, opt, l2_loss(model, 0.07), 5e-3, None


def gru_setup(bs: int, device: torch.device, opt_kw: dict) -> Setup:
    """The RNN lesson's stateful GRU on Nietzsche, bptt 32, Adam, gradients clipped at 1."""
    text = cu.load_nietzsche()
    vocab = Vocab.from_text(text)
    trn, _ = split_text(vocab.encode(text))
    data = cu.DeviceData(
        *batchify(trn, bs, 32), bs=bs, shuffle=False, drop_last=True, device=device
    )
    cu.set_seed(0)
    model = CharStatefulRnn(len(vocab), 42, GRU_HIDDEN, cell="gru").to(device)
    opt = torch.optim.Adam(model.parameters(), lr=0.01, **opt_kw)
    return model, data, opt, seq_nll_loss, 0.01, 1.0


COLUMNS = {
    "model": "model",
    "batch_size": "bs",
    "optimizer": "optimizer",
    **{f"{p}_us": p for p in PHASES},
    "step_us": "step us",
    "samples_per_s": "samples/s",
}


def bench_step(args: argparse.Namespace) -> dict:
    """Where the time of one training step goes, phase by phase (see `phase_chunks`)."""
    device = cu.get_device(args.device)
    setups = {  # (setup, steps per chunk): fewer of the GRU's slow steps
        "EmbeddingDotBias, AdamW + l2": (collab_setup, 10),
        f"stateful GRU({GRU_HIDDEN}), Adam + clip": (gru_setup, 2),
    }
    rows = []
    for (name, (setup, chunk)), bs in itertools.product(setups.items(), (64, args.batch_size)):
        runs = {
            opt_name: phase_chunks(*setup(bs, device, opt_kw), chunk)
            for opt_name, opt_kw in optimizer_variants(device).items()
        }
        for r in phase_table(runs, bs, args.step_seconds):
            rows.append({"model": name, "batch_size": bs, **r})
    print(
        f"one training step (course_utils.train_step), microseconds per phase (mean over chunks "
        f"of steps, optimizers interleaved), device={device}, {torch.get_num_threads()} "
        f"thread(s), torch {torch.__version__}"
    )
    print_table(rows, COLUMNS)
    return {
        "benchmark": "step",
        "device": str(device),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "phases": list(PHASES),
        "rows": rows,
    }
