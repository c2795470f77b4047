"""`DeviceData`: the training and validation tensors on the device, batched by index slicing.

The textbook `DataLoader(TensorDataset(x, y), shuffle=True)` builds every batch on the host from
single rows, then copies it to the device. Here the tensors move to the device once; an epoch
draws one permutation of the rows, and every batch gathers its slice of it in one indexing
call, `t[idx[i*bs:(i+1)*bs]]` (`python -m tools.bench fit` measures the difference).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import torch
from torch import Tensor

from course_utils.checks import as_inputs, check_rows, to_tensor, whole_number
from course_utils.device import get_device

__all__ = ["DeviceData"]

Inputs = Tensor | Sequence[Tensor]


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

    def __init__(
        self,
        train_x: Inputs,
        train_y: Tensor,
        valid_x: Inputs | None = None,
        valid_y: Tensor | None = None,
        bs: int = 64,
        shuffle: bool = True,
        device: str | torch.device | None = None,
        drop_last: bool = False,
    ) -> None:
        bs = whole_number(bs, "bs (the batch size)", example="bs=64")
        if (valid_x is None) != (valid_y is None):
            raise ValueError(
                "Give both valid_x and valid_y (or neither): got only "
                f"{'valid_x' if valid_y is None else 'valid_y'}."
            )
        self.device = get_device(device)
        self.bs, self.shuffle, self.drop_last = int(bs), shuffle, drop_last
        self.train_x, self.train_y = self._move("train", train_x, train_y)
        self.n_train = len(self.train_y)
        if drop_last and self.n_train < self.bs:
            raise ValueError(
                f"drop_last=True with bs={self.bs} > {self.n_train} training rows "
                "leaves no batch at all: use a smaller bs."
            )
        self.has_valid, self.n_valid = valid_x is not None, 0
        if self.has_valid:
            self.valid_x, self.valid_y = self._move("valid", valid_x, valid_y)
            self.n_valid = len(self.valid_y)

    def _move(self, split: str, x: Inputs, y: Tensor) -> tuple[tuple[Tensor, ...], Tensor]:
        """The tensors of `x` and `y` on the device, checked: as many rows each, finite floats."""
        xs = tuple(to_tensor(t, f"{split} inputs").to(self.device) for t in as_inputs(x))
        y = to_tensor(y, f"{split} targets").to(self.device)
        check_rows(split, xs, y)
        return xs, y

    def n_batches(self, split: str = "train") -> int:
        n = self.n_train if split == "train" else self.n_valid
        return n // self.bs if (split == "train" and self.drop_last) else math.ceil(n / self.bs)

    def train_batches(self) -> Iterator[tuple[tuple[Tensor, ...], Tensor]]:
        """Yield `(inputs, targets)` for one epoch; inputs is a tuple of `(bs, ...)` tensors.

        Shuffled, the epoch draws one permutation `idx = randperm(n)` and batch i gathers the
        rows `idx[i*bs:(i+1)*bs]`, `t[idx[s]]`: one gather per batch on the device, and never a
        shuffled copy of the whole training set (for Rossmann that copy was hundreds of MB).
        In order, every batch is a slice, a view, no copy.
        """
        idx = torch.randperm(self.n_train, device=self.device) if self.shuffle else None
        for i in range(self.n_batches("train")):
            s = slice(i * self.bs, (i + 1) * self.bs)
            rows = s if idx is None else idx[s]
            yield tuple(t[rows] for t in self.train_x), self.train_y[rows]

    def valid_batches(self) -> Iterator[tuple[tuple[Tensor, ...], Tensor]]:
        """Yield validation batches in order, of the training batch size."""
        if not self.has_valid:
            raise ValueError("This DeviceData has no validation set: pass valid_x and valid_y.")
        for i in range(0, self.n_valid, self.bs):
            yield tuple(t[i : i + self.bs] for t in self.valid_x), self.valid_y[i : i + self.bs]

    def __repr__(self) -> str:
        shapes = ", ".join(str(tuple(t.shape)) for t in self.train_x)
        return (
            f"DeviceData(train={self.n_train:,} rows [{shapes}], valid={self.n_valid:,} rows, "
            f"bs={self.bs}, device={self.device})"
        )
