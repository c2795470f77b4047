"""The training loop every lesson uses: data on the device, batches by index slicing, `fit`.

fastai 0.7's `fit(model, data, epochs, opt, crit, metrics)` of the 2018 course, in plain PyTorch;
also `lr_find`, the `one_cycle` and `sgdr` schedules, `set_seed`, `get_device`, save and load.
"""

from __future__ import annotations

import copy
import math
import os
import pickle
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from inspect import signature
from itertools import islice
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from course_utils.data import atomic_write, show_progress

__all__ = [
    "DeviceData", "History", "TrainingDiverged", "evaluate", "fit", "fused_ok", "get_device",
    "load_model", "lr_find", "one_cycle", "predict", "save_model", "set_seed", "set_threads",
    "sigmoid_range", "sgdr", "train_step",
]

Inputs = Tensor | Sequence[Tensor]
Metric = Callable[[Tensor, Tensor], Tensor]
LossFn = Callable[[Tensor, Tensor], Tensor]
LRScheduler = torch.optim.lr_scheduler.LRScheduler
SchedFactory = Callable[[torch.optim.Optimizer, int, int], LRScheduler]


# --------------------------------------------------------------------------- devices, seeds


def get_device(device: str | torch.device | None = None) -> torch.device:
    """The device to train on: `device` if given, else the environment variable `COURSE_DEVICE`,
    else CUDA, then Apple's MPS, then the CPU. A device that is not there is an error."""
    where = "" if device else " (from the environment variable COURSE_DEVICE)"
    device = device or os.environ.get("COURSE_DEVICE")
    if device is None:
        mps = torch.backends.mps.is_available()
        return torch.device("cuda" if torch.cuda.is_available() else "mps" if mps else "cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"{device!r}{where} is not a device: use 'cpu', 'cuda' or 'mps', or unset "
                         "COURSE_DEVICE to pick the best device automatically.") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        missing = (f"this PyTorch sees no CUDA GPU (torch {torch.__version__}, "
                   f"CUDA build: {torch.version.cuda})")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        missing = "Apple's Metal backend is not available here"
    else:
        return device
    raise RuntimeError(f"Device {device} was requested but {missing}. Use device='cpu', or unset "
                       "COURSE_DEVICE to pick the best device automatically.")


def set_threads(n: int | None = None) -> int:
    """Set how many CPU threads PyTorch uses (`0`: PyTorch's default), and return it.

    `import course_utils` calls it with `COURSE_THREADS`, else 1: on small models threads mostly
    wait for each other (on a busy 2-core machine two ran lesson 5 5x slower than one).
    """
    if n is None:
        value = os.environ.get("COURSE_THREADS", "1")
        try:
            n = int(value)
        except ValueError:
            raise ValueError(f"COURSE_THREADS={value!r} is not a whole number: set it to a number of "
                             "CPU threads (e.g. 1 or 4; 0: PyTorch's default), or unset it.") from None
    if n < 0:
        raise ValueError(f"The number of threads must be 0 (PyTorch's default) or more, got {n}.")
    if n > 0:
        torch.set_num_threads(n)
    return torch.get_num_threads()


def fused_ok(device: str | torch.device) -> bool:
    """Whether PyTorch has fused optimizer kernels for this device (pass `fused=True`).

    A fused `Adam`, `AdamW`, `SGD` or `Adagrad` updates every weight in one pass: the same result
    up to float rounding, and 2-3x faster for the embedding models on a CPU (`tools.bench step`).
    """
    try:  # PyTorch's own list (CPU since 2.4); a private helper, so be ready for it to move
        from torch.utils._foreach_utils import _get_fused_kernels_supported_devices
    except ImportError:
        return False
    return torch.device(device).type in _get_fused_kernels_supported_devices()


def set_seed(seed: int = 42) -> None:
    """Seed Python, NumPy and PyTorch (all devices) so that a run can be repeated."""
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (students still call the legacy global API)
    torch.manual_seed(seed)  # also seeds CUDA and MPS generators


def _as_tuple(x: Inputs) -> tuple:
    """A tuple or list of tensors/arrays is several inputs; anything else (e.g. nested lists) one."""
    arrays = Tensor | np.ndarray | pd.Series | pd.DataFrame
    return tuple(x) if isinstance(x, tuple | list) and any(isinstance(t, arrays) for t in x) else (x,)


def _to_tensor(x: Tensor | np.ndarray | pd.Series | Sequence, what: str = "data") -> Tensor:
    """A tensor of `x`; a float64 array (NumPy's default) becomes float32, like the weights."""
    if isinstance(x, pd.Series | pd.DataFrame):
        x = x.to_numpy(copy=True)  # pandas may hand out a read-only view
    if not isinstance(x, Tensor):
        arr = np.asarray(x)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"The {what} must be numbers, got {arr.dtype} values such as "
                            f"{arr.ravel()[:3].tolist()}: encode text as integer codes and fill "
                            "missing values (None, pd.NA) first.")
        x = torch.as_tensor(arr.astype(np.float32) if arr.dtype == np.float64 else arr)
    if x.dim() == 0:
        raise ValueError(f"The {what} is a single number; it needs one row per example.")
    return x


def sigmoid_range(x: Tensor, y_range: tuple[float, float] | None) -> Tensor:
    """Squash `x` into `y_range = (lo, hi)`: `sigmoid(x)*(hi-lo) + lo`; unchanged if None."""
    if y_range is None:
        return x
    lo, hi = y_range
    return torch.sigmoid(x) * (hi - lo) + lo


# --------------------------------------------------------------------------- data


class DeviceData:
    """Training and validation tensors that live on the device, batched by slicing.

    Args:
        train_x: one input tensor, or a tuple of them (e.g. `(users, movies)`), `(n_train, ...)`.
        train_y: targets, `(n_train, ...)`.
        valid_x, valid_y: the same for validation (optional: without them `fit` only trains).
        shuffle: shuffle the training rows every epoch (turn off for stateful RNNs, whose
            batches must follow each other in the text).
        device: where the tensors live, moved once, here; default `get_device()`.
        drop_last: drop the last incomplete training batch (stateful RNNs need equal batches).
    """

    def __init__(self, train_x: Inputs, train_y: Tensor, valid_x: Inputs | None = None,
                 valid_y: Tensor | None = None, bs: int = 64, shuffle: bool = True,
                 device: str | torch.device | None = None, drop_last: bool = False) -> None:
        if isinstance(bs, bool) or not isinstance(bs, int | np.integer) or bs < 1:
            raise ValueError(f"bs is the batch size, a whole number of at least 1, got bs={bs!r}: "
                             "pass e.g. bs=64.")
        if (valid_x is None) != (valid_y is None):
            raise ValueError("Give both valid_x and valid_y (or neither): got only "
                             f"{'valid_x' if valid_y is None else 'valid_y'}.")
        self.device = get_device(device)
        self.bs, self.shuffle, self.drop_last = int(bs), shuffle, drop_last
        self.train_x, self.train_y = self._move("train", train_x, train_y)
        self.n_train = len(self.train_y)
        if drop_last and self.n_train < self.bs:
            raise ValueError(f"drop_last=True with bs={self.bs} > {self.n_train} training rows "
                             "leaves no batch at all: use a smaller bs.")
        self.has_valid, self.n_valid = valid_x is not None, 0
        if self.has_valid:
            self.valid_x, self.valid_y = self._move("valid", valid_x, valid_y)
            self.n_valid = len(self.valid_y)

    def _move(self, split: str, x: Inputs, y: Tensor) -> tuple[tuple[Tensor, ...], Tensor]:
        """The tensors of `x` and `y` on the device, checked: as many rows each, finite floats."""
        xs = tuple(_to_tensor(t, f"{split} inputs").to(self.device) for t in _as_tuple(x))
        y = _to_tensor(y, f"{split} targets").to(self.device)
        if len({len(t) for t in (*xs, y)}) != 1:
            shapes = ", ".join(str(tuple(t.shape)) for t in (*xs, y))
            raise ValueError(f"The {split} inputs and targets must have the same number of rows; "
                             f"got shapes {shapes}.")
        if len(y) == 0:
            raise ValueError(f"The {split} set is empty.")
        for name, t in [*((f"inputs[{i}]", t) for i, t in enumerate(xs)), ("targets", y)]:
            if t.is_floating_point() and not bool(torch.isfinite(t).all()):
                rows = (~torch.isfinite(t)).reshape(len(t), -1).any(1).nonzero()[:, 0]
                raise ValueError(f"The {split} {name} have NaN or inf in {len(rows):,} row(s), the "
                                 f"first is row {int(rows[0])}: fill or drop them before training.")
        return xs, y

    def n_batches(self, split: str = "train") -> int:
        n = self.n_train if split == "train" else self.n_valid
        return n // self.bs if (split == "train" and self.drop_last) else math.ceil(n / self.bs)

    def train_batches(self) -> Iterator[tuple[tuple[Tensor, ...], Tensor]]:
        """Yield `(inputs, targets)` for one epoch; inputs is a tuple of `(bs, ...)` tensors.

        Shuffled, the epoch starts with one gather per tensor, `t[randperm(n)]` (one pass, faster
        than a scattered read per batch); every batch is then a slice of it, a view, no copy.
        """
        xs, y = self.train_x, self.train_y
        if self.shuffle:
            idx = torch.randperm(self.n_train, device=self.device)
            xs, y = tuple(t[idx] for t in xs), y[idx]
        for i in range(self.n_batches("train")):
            s = slice(i * self.bs, (i + 1) * self.bs)
            yield tuple(t[s] for t in xs), y[s]

    def valid_batches(self) -> Iterator[tuple[tuple[Tensor, ...], Tensor]]:
        """Yield validation batches in order, of the training batch size."""
        if not self.has_valid:
            raise ValueError("This DeviceData has no validation set: pass valid_x and valid_y.")
        for i in range(0, self.n_valid, self.bs):
            yield tuple(t[i : i + self.bs] for t in self.valid_x), self.valid_y[i : i + self.bs]

    def __repr__(self) -> str:
        shapes = ", ".join(str(tuple(t.shape)) for t in self.train_x)
        return (f"DeviceData(train={self.n_train:,} rows [{shapes}], valid={self.n_valid:,} rows, "
                f"bs={self.bs}, device={self.device})")


# --------------------------------------------------------------------------- schedules
# `fit` calls a schedule as `sched(opt, epochs, steps_per_epoch)` and steps it every batch.


def one_cycle(
    max_lr: float | Sequence[float], pct_start: float = 0.25, div_factor: float = 25.0
) -> SchedFactory:
    """One cycle: warm up from `max_lr / div_factor` to `max_lr` over the first `pct_start` of
    training, then anneal (`torch.optim.lr_scheduler.OneCycleLR`)."""

    def make(opt: torch.optim.Optimizer, epochs: int, steps_per_epoch: int) -> LRScheduler:
        total = epochs * steps_per_epoch
        # OneCycleLR divides by zero when the warm-up is exactly one step: make it 1.5 steps
        pct = 1.5 / total if abs(pct_start * total - 1) < 1e-9 else pct_start
        return torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=max_lr, total_steps=total, pct_start=pct,
            div_factor=div_factor, cycle_momentum=False,
        )

    return make


def sgdr(cycle_len: float = 1, cycle_mult: int = 1, eta_min: float = 0.0) -> SchedFactory:
    """Cosine annealing with warm restarts (SGDR), what fastai's `cycle_len`/`cycle_mult` did.

    The first cycle lasts `cycle_len` epochs, each later one `cycle_mult` times longer; within
    a cycle the learning rate falls from the optimizer's rate to `eta_min` along a cosine
    (`torch.optim.lr_scheduler.CosineAnnealingWarmRestarts`).
    """

    def make(opt: torch.optim.Optimizer, epochs: int, steps_per_epoch: int) -> LRScheduler:
        t0 = max(1, round(cycle_len * steps_per_epoch))
        return torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=t0, T_mult=cycle_mult,
                                                                    eta_min=eta_min)

    return make


# --------------------------------------------------------------------------- evaluation


@contextmanager
def _eval_mode(model: nn.Module):
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(was_training)


def _reset(model: nn.Module) -> None:
    """Stateful models (e.g. RNNs that carry their hidden state) expose `reset()`."""
    if hasattr(model, "reset"):
        model.reset()


def evaluate(model: nn.Module, data: DeviceData, loss_fn: LossFn,
             metrics: Sequence[Metric] = ()) -> dict[str, float]:
    """Validation loss (row-weighted mean over batches) and metrics over the whole set, computed
    on the device; the results cross to the host in one transfer."""
    _reset(model)
    total, preds = [], []
    with _eval_mode(model):
        for xb, yb in data.valid_batches():
            out = model(*xb)
            total.append(loss_fn(out, yb) * len(yb))
            if metrics:
                preds.append(out)
        values = {"valid_loss": torch.stack(total).sum() / data.n_valid}
        pred = torch.cat(preds) if metrics else None
        for m in metrics:
            values[getattr(m, "__name__", type(m).__name__)] = torch.as_tensor(
                m(pred, data.valid_y), dtype=torch.float32, device=data.device)
        if bad := [name for name, v in values.items() if v.numel() != 1]:
            raise ValueError(f"The metric(s) {bad} must return one number for the whole set.")
        numbers = torch.stack([v.float().reshape(()) for v in values.values()]).tolist()
    return dict(zip(values, numbers, strict=True))


def predict(model: nn.Module, *inputs: Tensor, bs: int = 4096) -> Tensor:
    """Model outputs for `inputs` in eval mode, batched, concatenated. Float inputs move to the
    weights' device and dtype, index inputs to their device (a model without weights: stay put)."""
    if not inputs:
        raise ValueError("predict needs the model's inputs: predict(model, x) or predict(model, u, m).")
    inputs = tuple(_to_tensor(t, "inputs") for t in inputs)
    if (w := next(model.parameters(), None)) is not None:
        inputs = tuple(t.to(w.device, w.dtype if t.is_floating_point() else t.dtype) for t in inputs)
    _reset(model)
    with _eval_mode(model):
        return torch.cat([model(*(t[i : i + bs] for t in inputs))
                          for i in range(0, len(inputs[0]), bs)])


# --------------------------------------------------------------------------- fit


def train_step(model: nn.Module, xb: tuple[Tensor, ...], yb: Tensor, opt: torch.optim.Optimizer,
               loss_fn: LossFn, clip: float | None = None) -> Tensor:
    """One step of SGD on one batch: forward, loss, backward, (clip), step. Returns the loss,
    detached and still on the device (reading it would wait for the device)."""
    loss = loss_fn(model(*xb), yb)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if clip is not None:
        nn.utils.clip_grad_norm_(model.parameters(), clip)
    opt.step()
    return loss.detach()


def fit(model: nn.Module, data: DeviceData, epochs: int, opt: torch.optim.Optimizer,
        loss_fn: LossFn, metrics: Sequence[Metric] = (), sched: SchedFactory | None = None,
        clip: float | None = None, beta: float = 0.98, progress: bool | None = None,
        sync_every: int | None = None) -> History:
    """Train `model` on `data` for `epochs` epochs; return a `History`. The model is moved to
    `data.device` and called as `model(*inputs)` on each batch.

    Args:
        opt: an optimizer over `model.parameters()`; `fit` never changes its settings.
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
    _check_setup(model, data, opt, loss_fn, epochs)
    steps = data.n_batches("train")
    scheduler = sched(opt, epochs, steps) if sched is not None else None
    sync_every = sync_every or (10 if data.device.type == "cpu" else 50)
    rows = []
    with LossLog(epochs, steps, beta, sync_every, progress) as log:
        for epoch in range(1, epochs + 1):
            t0 = time.perf_counter()
            model.train()
            _reset(model)
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
                    raise TrainingDiverged(f"The validation loss is {row['valid_loss']} after epoch "
                                           f"{epoch}: try a lower learning rate.")
            row["seconds"] = time.perf_counter() - t0
            rows.append(row)
    return History.from_rows(rows, log.table())


def _check_setup(model: nn.Module, data: DeviceData, opt: torch.optim.Optimizer, loss_fn: LossFn,
                 epochs: int = 1) -> None:
    """Catch what would otherwise fail obscurely or train on nonsense silently, with one forward
    pass on two rows in eval mode: outputs shaped unlike the targets (an output (n,) against a
    float target (n, 1) makes the MSE broadcast to n x n), targets outside the model's `y_range`."""
    if not isinstance(data, DeviceData):
        raise TypeError(f"data must be a DeviceData, got {type(data).__name__}.")
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a whole number, at least 1; got {epochs!r}.")
    model.to(data.device)
    if not {id(p) for p in model.parameters()} & {id(p) for g in opt.param_groups for p in g["params"]}:
        raise ValueError("The optimizer holds none of this model's parameters: build it from "
                         "this model, e.g. torch.optim.AdamW(model.parameters(), lr=1e-3).")
    xb, yb = tuple(t[:2] for t in data.train_x), data.train_y[:2]
    w = next((p.dtype for p in model.parameters() if p.is_floating_point()), None)
    if any(t.is_floating_point() and w and t.dtype != w for t in xb):
        raise TypeError(f"The inputs are {[t.dtype for t in xb]} but the model's weights {w}: "
                        "convert one to the other, e.g. DeviceData(x.float(), ...).")
    try:
        signature(model.forward).bind(*xb)
    except TypeError as e:
        raise TypeError(f"The data has {len(xb)} input(s) per batch but "
                        f"{type(model).__name__}.forward does not take them: {e}.") from None
    with _eval_mode(model):
        out = model(*xb)
        if isinstance(out, Tensor) and yb.is_floating_point() and out.shape != yb.shape:
            raise ValueError(
                f"The model's outputs have shape {tuple(out.shape)} for 2 rows but the targets "
                f"{tuple(yb.shape)}: the loss would broadcast them against each other and train "
                "on nonsense. Make them match, e.g. targets y.view(-1) or outputs out.view(-1).")
        if isinstance(out, Tensor) and (loss := loss_fn(out, yb)).dim() != 0:
            raise ValueError(f"loss_fn must return one number, got shape {tuple(loss.shape)}: "
                             "average it (reduction='mean').")
    y_range = getattr(model, "y_range", None)
    if y_range is not None and data.train_y.is_floating_point():
        lo, hi = data.train_y.min().item(), data.train_y.max().item()
        if lo < y_range[0] or hi > y_range[1]:
            raise ValueError(f"The targets run from {lo:g} to {hi:g}, outside the model's "
                             f"y_range {tuple(y_range)}, which its outputs can never leave: "
                             f"build it with e.g. y_range=({min(lo, 0):g}, {hi * 1.1:g}).")


class LossLog:
    """The debiased moving average of the training loss, and the progress bar.

    `add` keeps each batch's loss on the device; every `sync_every` batches (and at the end of an
    epoch) `flush` reads them back in one transfer, checks that they are finite and updates the
    average: one host read per batch would make a GPU wait after every step.
    """

    def __init__(self, epochs: int, steps_per_epoch: int, beta: float = 0.98,
                 sync_every: int = 10, progress: bool | None = None) -> None:
        self.steps_per_epoch, self.beta, self.sync_every = steps_per_epoch, beta, sync_every
        self.bar = tqdm(total=epochs * steps_per_epoch, leave=False, unit="batch",
                        disable=not (show_progress() if progress is None else progress))
        self.pending: list[tuple[Tensor, float]] = []  # (loss on the device, lr)
        self.rows: list[tuple[int, float, float]] = []  # (step, smoothed loss, lr)
        self.avg = 0.0

    def add(self, loss: Tensor, lr: float, epoch: int) -> None:
        self.pending.append((loss, lr))
        if len(self.pending) >= self.sync_every:
            self.flush(epoch)

    def flush(self, epoch: int) -> None:
        if not self.pending:
            return
        values = torch.stack([loss for loss, _ in self.pending]).tolist()  # one host sync
        for v, (_, lr) in zip(values, self.pending, strict=True):
            step = len(self.rows) + 1
            if not math.isfinite(v):
                batch = (step - 1) % self.steps_per_epoch + 1
                raise TrainingDiverged(
                    f"The training loss became {v} at epoch {epoch}, batch {batch} of "
                    f"{self.steps_per_epoch} (learning rate {lr:.3g}). Training stopped: try a "
                    "lower learning rate (lr_find helps), gradient clipping (clip=1.0), or "
                    "check the inputs for NaN.")
            self.avg = self.beta * self.avg + (1 - self.beta) * v
            self.rows.append((step, self.avg / (1 - self.beta**step), lr))
        self.pending.clear()
        self.bar.update(len(values))
        self.bar.set_postfix(epoch=epoch, loss=f"{self.smooth_loss:.4f}", refresh=False)

    @property
    def smooth_loss(self) -> float:
        return self.rows[-1][1] if self.rows else math.nan

    def table(self) -> pd.DataFrame:
        table = pd.DataFrame(self.rows, columns=["step", "smooth_loss", "lr"])
        return table.assign(steps_per_epoch=self.steps_per_epoch)

    def __enter__(self) -> LossLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.close()


class History(pd.DataFrame):
    """One row per epoch: `epoch`, `train_loss`, `valid_loss`, one column per metric, `seconds`;
    `history.batches` holds the per-batch smoothed training loss and learning rate."""

    _metadata = ["batches"]

    @property
    def _constructor(self) -> type[History]:
        return History

    @classmethod
    def from_rows(cls, rows: list[dict], batches: pd.DataFrame) -> History:
        hist = cls(rows)
        hist.batches = batches
        return hist

    def plot_loss(self, ax=None, log: bool = False):
        """Plot the smoothed training loss per batch and the validation loss per epoch."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        b = getattr(self, "batches", None)
        if b is not None and len(b):
            ax.plot(b["step"] / b["steps_per_epoch"], b["smooth_loss"], lw=1, label="train (smoothed)")
        if "valid_loss" in self and self["valid_loss"].notna().any():
            ax.plot(self["epoch"], self["valid_loss"], "o-", label="valid")
        ax.set(xlabel="epoch", ylabel="loss")
        if log:
            ax.set_yscale("log")
        ax.legend()
        return ax


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


# --------------------------------------------------------------------------- LR finder


def lr_find(model: nn.Module, data: DeviceData, opt: torch.optim.Optimizer, loss_fn: LossFn,
            start_lr: float = 1e-6, end_lr: float = 10.0, num_it: int = 100, beta: float = 0.98,
            plot: bool = True) -> pd.DataFrame:
    """Leslie Smith's learning-rate range test: train up to `num_it` batches (with `train_step`)
    while the learning rate grows exponentially from `start_lr` to `end_lr`, stop once the smoothed
    loss explodes (4x the best), restore the model and optimizer, and return (and plot) `lr, loss`.
    Pick a learning rate where the loss still falls steeply, about ten times below the minimum.
    """
    if not 0 < start_lr < end_lr or num_it < 2:
        raise ValueError(f"lr_find needs 0 < start_lr < end_lr and num_it >= 2, got start_lr="
                         f"{start_lr}, end_lr={end_lr}, num_it={num_it}.")
    _check_setup(model, data, opt, loss_fn)
    model_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    opt_state = copy.deepcopy(opt.state_dict())  # its tensors (e.g. momentum) change in place

    def batches() -> Iterator[tuple[tuple[Tensor, ...], Tensor]]:  # as many epochs as it takes
        while True:
            _reset(model)
            yield from data.train_batches()

    mult, lrs, losses, avg, best = (end_lr / start_lr) ** (1 / (num_it - 1)), [], [], 0.0, math.inf
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
            "and targets for NaN or huge values.")
    res = pd.DataFrame({"lr": lrs, "loss": losses})
    if plot:
        ax = res.plot(x="lr", y="loss", logx=True, legend=False, figsize=(5, 3))
        ax.set(xlabel="learning rate (log scale)", ylabel="smoothed loss", title="LR finder")
    return res


# --------------------------------------------------------------------------- save / load


def save_model(model: nn.Module, path: str | Path) -> Path:
    """Save the model's weights, moved to the CPU so that any machine can load them, atomically:
    a failed save (disk full) leaves the previous file intact."""
    path = Path(path)
    try:
        with atomic_write(path) as tmp:
            torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, tmp)
    except RuntimeError as e:  # torch's writer reports I/O failures (disk full) this way
        raise OSError(f"Could not write {path} (is the disk full?); any previous file there is "
                      f"unchanged. {e}") from e
    return path


def load_model(model: nn.Module, path: str | Path, device: str | torch.device | None = None) -> nn.Module:
    """Load `save_model`'s weights (any device) into `model`, moved to `device` (default CPU)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No saved weights at {path}. Train the model and save_model() it first.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, OSError, EOFError, KeyError, pickle.UnpicklingError) as e:
        raise RuntimeError(f"{path} is not a readable weights file (truncated or not written by "
                           f"save_model: {type(e).__name__}: {e}). Save the model again.") from e
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise RuntimeError(f"The weights in {path} do not fit this model (different architecture "
                           f"or sizes): {e}") from None
    return model.to(torch.device(device) if device else "cpu")
