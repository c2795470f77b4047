"""The training loop every lesson uses: `train_step`, `fit`, `evaluate`, `predict`.

fastai 0.7's `fit(model, data, epochs, opt, crit, metrics)` of the 2018 course, in plain PyTorch:
`train_step` is one step of SGD on one batch, `fit` loops over the epochs and the batches of a
`DeviceData` (in `device_data.py`), and `evaluate` and `predict` run the model without
gradients. The loss log and the `History` table `fit` returns are in `history.py`, schedules and
the learning-rate finder in `schedules.py`, the device and seeds in `device.py`, saving in
`files.py`, and the checks on what is passed in `checks.py`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import Tensor, nn

from course_utils.checks import (
    LossFn,
    check_setup,
    metric_names,
    real_number,
    sched_factory,
    to_tensor,
    whole_number,
)
from course_utils.device_data import DeviceData
from course_utils.history import History, LossLog, TrainingDiverged

__all__ = [
    "eval_mode",
    "evaluate",
    "fit",
    "kept_settings",
    "predict",
    "reset_state",
    "sigmoid_range",
    "train_step",
]

Metric = Callable[[Tensor, Tensor], Tensor]
SchedFactory = Callable[[torch.optim.Optimizer, int, int], "torch.optim.lr_scheduler.LRScheduler"]


def sigmoid_range(x: Tensor, y_range: tuple[float, float] | None) -> Tensor:
    """Squash `x` into `y_range = (lo, hi)`: `sigmoid(x)*(hi-lo) + lo`; unchanged if None."""
    if y_range is None:
        return x
    lo, hi = y_range
    return torch.sigmoid(x) * (hi - lo) + lo


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[None]:
    """Evaluation mode (dropout off, batch norm on its running statistics) and no gradients,
    inside a `with` block; the model's previous mode comes back afterwards."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(was_training)


def reset_state(model: nn.Module) -> None:
    """Stateful models (e.g. RNNs that carry their hidden state) expose `reset()`."""
    if hasattr(model, "reset"):
        model.reset()


def evaluate(
    model: nn.Module, data: DeviceData, loss_fn: LossFn, metrics: Sequence[Metric] = ()
) -> dict[str, float]:
    """Validation loss (row-weighted mean over batches) and metrics over the whole set, computed
    on the device; the results cross to the host in one transfer."""
    reset_state(model)
    total, preds = [], []
    with eval_mode(model):
        for xb, yb in data.valid_batches():
            out = model(*xb)
            total.append(loss_fn(out, yb) * len(yb))
            if metrics:
                preds.append(out)
        values = {"valid_loss": torch.stack(total).sum() / data.n_valid}
        pred = torch.cat(preds) if metrics else None
        for name, m in zip(metric_names(metrics), metrics, strict=True):
            values[name] = torch.as_tensor(
                m(pred, data.valid_y), dtype=torch.float32, device=data.device
            )
        if bad := [name for name, v in values.items() if v.numel() != 1]:
            raise ValueError(f"The metric(s) {bad} must return one number for the whole set.")
        numbers = torch.stack([v.float().reshape(()) for v in values.values()]).tolist()
    return dict(zip(values, numbers, strict=True))


def predict(model: nn.Module, *inputs: Tensor, bs: int = 4096) -> Tensor:
    """Model outputs for `inputs` in eval mode, batched, concatenated. Float inputs move to the
    weights' device and dtype, index inputs to their device (a model without weights: stay put)."""
    if not inputs:
        raise ValueError(
            "predict needs the model's inputs: predict(model, x) or predict(model, u, m)."
        )
    bs = whole_number(bs, "bs (the batch size)", example="bs=4096")
    inputs = tuple(to_tensor(t, "inputs") for t in inputs)
    if len(inputs[0]) == 0:
        raise ValueError("predict got zero rows: pass at least one example.")
    if (w := next(model.parameters(), None)) is not None:
        inputs = tuple(
            t.to(w.device, w.dtype if t.is_floating_point() else t.dtype) for t in inputs
        )
    reset_state(model)
    with eval_mode(model):
        return torch.cat(
            [model(*(t[i : i + bs] for t in inputs)) for i in range(0, len(inputs[0]), bs)]
        )


# --------------------------------------------------------------------------- fit


def train_step(
    model: nn.Module,
    xb: tuple[Tensor, ...],
    yb: Tensor,
    opt: torch.optim.Optimizer,
    loss_fn: LossFn,
    clip: float | None = None,
) -> Tensor:
    """One step of SGD on one batch: forward, loss, backward, (clip), step. Returns the loss,
    detached and still on the device (reading it would wait for the device)."""
    if clip is not None:
        clip = real_number(
            clip, "clip (the largest gradient norm)", 0, low_open=True, example="1.0"
        )
    loss = loss_fn(model(*xb), yb)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if clip is not None:
        nn.utils.clip_grad_norm_(model.parameters(), clip)
    opt.step()
    return loss.detach()


def fit(
    model: nn.Module,
    data: DeviceData,
    epochs: int,
    opt: torch.optim.Optimizer,
    loss_fn: LossFn,
    metrics: Sequence[Metric] = (),
    sched: SchedFactory | None = None,
    clip: float | None = None,
    beta: float = 0.98,
    progress: bool | None = None,
    sync_every: int | None = None,
) -> History:
    """Train `model` on `data` for `epochs` epochs; return a `History`. The model is moved to
    `data.device` and called as `model(*inputs)` on each batch.

    Args:
        opt: an optimizer over `model.parameters()`; `fit` never changes its settings (a
            schedule moves the learning rate while it trains, and `fit` restores it after).
        loss_fn: `loss_fn(output, target) -> scalar tensor`, e.g. `F.mse_loss`.
        metrics: functions `m(valid_output, valid_target) -> scalar`, computed on the whole
            validation set after each epoch (so RMSE or exp_rmspe come out exact).
        sched: a schedule, `one_cycle(...)` or `sgdr(...)`, stepped every batch.
        clip: clip the gradient norm to this value.
        beta: smoothing of the displayed training loss, `avg = beta*avg + (1-beta)*loss`,
            debiased by `1 - beta**n` as in the original course loop.
        progress: show a progress bar (default: on unless `COURSE_PROGRESS=0`).
        sync_every: read the losses back to the host every this many batches (default 10 on
            the CPU, 50 on a GPU, where each read stalls the queue of kernels).

    Raises:
        TrainingDiverged: the loss became NaN or inf; names the epoch and batch.
    """
    check_setup(model, data, opt, loss_fn, epochs)
    epochs, sched = int(epochs), sched_factory(sched)
    metric_names(metrics)
    if clip is not None:
        clip = real_number(
            clip, "clip (the largest gradient norm)", 0, low_open=True, example="1.0"
        )
    beta = real_number(beta, "beta (the loss smoothing)", 0, 1, high_open=True, example="0.98")
    if sync_every is None:
        sync_every = 10 if data.device.type == "cpu" else 50
    sync_every = whole_number(sync_every, "sync_every", example="10")
    steps = data.n_batches("train")
    rows = []
    with kept_settings(opt), LossLog(epochs, steps, beta, sync_every, progress) as log:
        scheduler = sched(opt, epochs, steps) if sched is not None else None
        for epoch in range(1, epochs + 1):
            t0 = time.perf_counter()
            model.train()
            reset_state(model)
            for xb, yb in data.train_batches():
                loss = train_step(model, xb, yb, opt, loss_fn, clip)
                log.add(loss, opt.param_groups[0]["lr"], epoch)
                if scheduler is not None:
                    scheduler.step()
            log.flush(epoch)
            row = {"epoch": epoch, "train_loss": log.smooth_loss}
            if data.has_valid:
                row |= evaluate(model, data, loss_fn, metrics)
                if not math.isfinite(row["valid_loss"]):
                    raise TrainingDiverged(
                        f"The validation loss is {row['valid_loss']} after epoch "
                        f"{epoch}: try a lower learning rate."
                    )
            row["seconds"] = time.perf_counter() - t0
            rows.append(row)
    return History.from_rows(rows, log.table())


@contextmanager
def kept_settings(opt: torch.optim.Optimizer) -> Iterator[None]:
    """The optimizer's settings (lr, momentum, ...) as they were before the `with` block, even
    if it fails: a schedule moves the learning rate while it trains, and the student's next
    `fit` without a schedule must train at the rate they set, not the schedule's last one."""
    settings = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    try:
        yield
    finally:
        for g, kept in zip(opt.param_groups, settings, strict=True):
            for key in set(g) - set(kept) - {"params"}:  # e.g. initial_lr, which a later
                del g[key]  # schedule would take for the student's rate
            g.update(kept)
