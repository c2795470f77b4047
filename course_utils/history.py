"""What training records: `LossLog`, the debiased moving average of the training loss that the
progress bar shows, and `History`, the per-epoch table `fit` returns (and plots).

`TrainingDiverged` is raised when a loss becomes NaN or infinite.
"""

from __future__ import annotations

import math

import pandas as pd
import torch
from torch import Tensor
from tqdm.auto import tqdm

from course_utils.checks import env_flag

__all__ = ["History", "LossLog", "TrainingDiverged"]


class LossLog:
    """The debiased moving average of the training loss, and the progress bar.

        avg_n = beta * avg_(n-1) + (1 - beta) * loss_n,   avg_0 = 0
        smooth_n = avg_n / (1 - beta**n)

    The average starts at 0, so its first values are too small by the factor 1 - beta**n;
    dividing by it (debiasing, as Adam does) makes `smooth_1` the first loss itself.

    `add` keeps each batch's loss on the device; every `sync_every` batches (and at the end of an
    epoch) `flush` reads them back in one transfer, checks that they are finite and updates the
    average: one host read per batch would make a GPU wait after every step.
    """

    def __init__(
        self,
        epochs: int,
        steps_per_epoch: int,
        beta: float = 0.98,
        sync_every: int = 10,
        progress: bool | None = None,
    ) -> None:
        self.steps_per_epoch, self.beta, self.sync_every = steps_per_epoch, beta, sync_every
        self.bar = tqdm(
            total=epochs * steps_per_epoch,
            leave=False,
            unit="batch",
            disable=not (env_flag("COURSE_PROGRESS", True) if progress is None else progress),
        )
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
                    "check the inputs for NaN."
                )
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
            ax.plot(
                b["step"] / b["steps_per_epoch"], b["smooth_loss"], lw=1, label="train (smoothed)"
            )
        if "valid_loss" in self and self["valid_loss"].notna().any():
            ax.plot(self["epoch"], self["valid_loss"], "o-", label="valid")
        ax.set(xlabel="epoch", ylabel="loss")
        if log:
            ax.set_yscale("log")
        ax.legend()
        return ax


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""
