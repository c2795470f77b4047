"""Learning-rate schedules for `fit` (`one_cycle`, `sgdr`) and the learning-rate finder.

`fit` calls a schedule as `sched(opt, epochs, steps_per_epoch)` and steps it after every batch;
the schedules are PyTorch's own `torch.optim.lr_scheduler` classes, configured the way the 2018
course used them.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator, Sequence
from itertools import islice

import pandas as pd
import torch
from torch import Tensor, nn

from course_utils.checks import LossFn, check_setup, real_number, whole_number
from course_utils.device_data import DeviceData
from course_utils.history import TrainingDiverged
from course_utils.learner import reset_state, train_step

__all__ = ["lr_find", "one_cycle", "sgdr"]

LRScheduler = torch.optim.lr_scheduler.LRScheduler
SchedFactory = Callable[[torch.optim.Optimizer, int, int], LRScheduler]


def one_cycle(
    max_lr: float | Sequence[float], pct_start: float = 0.25, div_factor: float = 25.0
) -> SchedFactory:
    """One cycle: warm up from `max_lr / div_factor` to `max_lr` over the first `pct_start` of
    training, then anneal (`torch.optim.lr_scheduler.OneCycleLR`)."""
    for lr in max_lr if isinstance(max_lr, Sequence) else [max_lr]:
        real_number(lr, "max_lr", 0, low_open=True, example="one_cycle(1e-2)")
    pct_start = real_number(pct_start, "pct_start", 0, 1, True, True, example="0.25")
    div_factor = real_number(div_factor, "div_factor", 0, low_open=True, example="25.0")

    def make(opt: torch.optim.Optimizer, epochs: int, steps_per_epoch: int) -> LRScheduler:
        total = epochs * steps_per_epoch
        # OneCycleLR divides by zero when the warm-up is exactly one step: make it 1.5 steps
        pct = 1.5 / total if abs(pct_start * total - 1) < 1e-9 else pct_start
        return torch.optim.lr_scheduler.OneCycleLR(
            opt,
            max_lr=max_lr,
            total_steps=total,
            pct_start=pct,
            div_factor=div_factor,
            cycle_momentum=False,
        )

    return make


def sgdr(cycle_len: float = 1, cycle_mult: int = 1, eta_min: float = 0.0) -> SchedFactory:
    """Cosine annealing with warm restarts (SGDR), what fastai's `cycle_len`/`cycle_mult` did.

    The first cycle lasts `cycle_len` epochs, each later one `cycle_mult` times longer; within
    a cycle the learning rate falls from the optimizer's rate to `eta_min` along a cosine
    (`torch.optim.lr_scheduler.CosineAnnealingWarmRestarts`).
    """
    cycle_len = real_number(cycle_len, "cycle_len (epochs)", 0, low_open=True, example="1")
    cycle_mult = whole_number(cycle_mult, "cycle_mult", example="sgdr(1, cycle_mult=2)")
    eta_min = real_number(eta_min, "eta_min (the lowest learning rate)", 0, example="0.0")

    def make(opt: torch.optim.Optimizer, epochs: int, steps_per_epoch: int) -> LRScheduler:
        t0 = max(1, round(cycle_len * steps_per_epoch))
        return torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
            opt, T_0=t0, T_mult=cycle_mult, eta_min=eta_min
        )

    return make


def lr_find(
    model: nn.Module,
    data: DeviceData,
    opt: torch.optim.Optimizer,
    loss_fn: LossFn,
    start_lr: float = 1e-6,
    end_lr: float = 10.0,
    num_it: int = 100,
    beta: float = 0.98,
    plot: bool = True,
) -> pd.DataFrame:
    """Leslie Smith's learning-rate range test: train up to `num_it` batches (with `train_step`)
    while the learning rate grows exponentially from `start_lr` to `end_lr`, stop once the smoothed
    loss explodes (4x the best), restore the model and optimizer, and return (and plot) `lr, loss`.
    Pick a learning rate where the loss still falls steeply, about ten times below the minimum.
    """
    num_it = whole_number(num_it, "num_it", minimum=2, example="100")
    beta = real_number(beta, "beta (the loss smoothing)", 0, 1, high_open=True, example="0.98")
    start_lr = real_number(start_lr, "start_lr", 0, low_open=True, example="1e-6")
    end_lr = real_number(end_lr, "end_lr", 0, low_open=True, example="10.0")
    if not start_lr < end_lr:
        raise ValueError(
            f"lr_find needs 0 < start_lr < end_lr and num_it >= 2, got start_lr="
            f"{start_lr}, end_lr={end_lr}, num_it={num_it}."
        )
    check_setup(model, data, opt, loss_fn)
    model_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    opt_state = copy.deepcopy(opt.state_dict())  # its tensors (e.g. momentum) change in place

    def batches() -> Iterator[tuple[tuple[Tensor, ...], Tensor]]:  # as many epochs as it takes
        while True:
            reset_state(model)
            yield from data.train_batches()

    mult = (end_lr / start_lr) ** (1 / (num_it - 1))  # lr grows by this factor every step
    lrs, losses = [], []
    avg, best = 0.0, math.inf
    model.train()
    try:
        for i, (xb, yb) in enumerate(islice(batches(), num_it)):
            lr = start_lr * mult**i
            for g in opt.param_groups:
                g["lr"] = lr
            avg = beta * avg + (1 - beta) * train_step(model, xb, yb, opt, loss_fn).item()
            smooth = avg / (1 - beta ** (i + 1))
            if not math.isfinite(smooth) or (i > 10 and smooth > 4 * best):
                break  # exploded
            best = min(best, smooth)
            lrs.append(lr)
            losses.append(smooth)
    finally:
        model.load_state_dict(model_state)
        opt.load_state_dict(opt_state)  # restores the learning rates too
    if len(lrs) < min(10, num_it):
        raise TrainingDiverged(
            f"lr_find: the loss exploded after {len(lrs)} step(s), at learning rate {lr:.3g}, too "
            f"soon to show anything: lower start_lr (e.g. {start_lr / 100:g}) or check the inputs "
            "and targets for NaN or huge values."
        )
    res = pd.DataFrame({"lr": lrs, "loss": losses})
    if plot:
        ax = res.plot(x="lr", y="loss", logx=True, legend=False, figsize=(5, 3))
        ax.set(xlabel="learning rate (log scale)", ylabel="smoothed loss", title="LR finder")
    return res
