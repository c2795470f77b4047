"""The guard rails every public function shares, kept apart from the lesson code.

Lesson code calls these to turn what a student passes into what the code needs, or to stop with
an error that names the problem and the fix, instead of failing obscurely later or training on
nonsense silently.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from inspect import signature
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    from course_utils.device_data import DeviceData

__all__ = [
    "as_inputs",
    "check_rows",
    "check_setup",
    "env_flag",
    "env_int",
    "real_number",
    "to_tensor",
    "whole_number",
]

Inputs = Tensor | Sequence[Tensor]
LossFn = Callable[[Tensor, Tensor], Tensor]

_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f"}


# --------------------------------------------------------------------------- environment


def env_flag(name: str, default: bool) -> bool:
    """The on/off environment variable `name` (`1/0`, `true/false`, `yes/no`, `on/off`, any
    case); unset or empty gives `default`, anything else is an error that names the variable."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    raise ValueError(
        f"{name}={value!r} is neither on nor off: set it to 1 or 0 (also true/false, yes/no, "
        f"on/off), or unset it."
    )


def env_int(name: str, default: int, minimum: int = 0, meaning: str = "a number") -> int:
    """The whole-number environment variable `name`, at least `minimum`; unset gives `default`."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        n = int(value)
    except ValueError:
        n = None
    if n is None or n < minimum:
        raise ValueError(
            f"{name}={value!r} is not {meaning}: set it to a whole number of at least {minimum}, "
            "or unset it."
        )
    return n


# --------------------------------------------------------------------------- numbers


def whole_number(value: object, name: str, minimum: int = 1, example: str = "") -> int:
    """`value` as an `int` (NumPy integers too), at least `minimum`; else an error that names
    the parameter, what it got and an example. `True`, 2.5 and "8" are refused, not rounded."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        hint = f": pass e.g. {example}" if example else ""
        raise ValueError(
            f"{name} must be a whole number of at least {minimum}, got {name.split(' ')[0]}={value!r}{hint}."
        )
    return int(value)


def real_number(
    value: object,
    name: str,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    example: str = "",
) -> float:
    """`value` as a finite `float` inside [low, high] (an end is left out where `*_open`);
    else an error naming the parameter, the range and what it got."""
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    x = float(value) if ok else float("nan")
    if ok and np.isfinite(x):
        ok = (low is None or (x > low if low_open else x >= low)) and (
            high is None or (x < high if high_open else x <= high)
        )
    else:
        ok = False
    if not ok:
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        where = f"{'(' if low_open or low is None else '['}{lo}, {hi}{')' if high_open or high is None else ']'}"
        hint = f": pass e.g. {example}" if example else ""
        raise ValueError(
            f"{name} must be a number in {where}, got {name.split(' ')[0]}={value!r}{hint}."
        )
    return x


# --------------------------------------------------------------------------- inputs


def as_inputs(x: Inputs) -> tuple:
    """A tuple or list of tensors/arrays is several inputs; anything else (e.g. nested lists) one."""
    arrays = Tensor | np.ndarray | pd.Series | pd.DataFrame
    return (
        tuple(x) if isinstance(x, tuple | list) and any(isinstance(t, arrays) for t in x) else (x,)
    )


def to_tensor(x: Tensor | np.ndarray | pd.Series | Sequence, what: str = "data") -> Tensor:
    """A tensor of `x`; a float64 array (NumPy's default) becomes float32, like the weights."""
    if isinstance(x, pd.Series | pd.DataFrame):
        x = x.to_numpy(copy=True)  # pandas may hand out a read-only view
    if not isinstance(x, Tensor):
        arr = np.asarray(x)
        if arr.dtype.kind not in "biuf":
            raise TypeError(
                f"The {what} must be numbers, got {arr.dtype} values such as "
                f"{arr.ravel()[:3].tolist()}: encode text as integer codes and fill "
                "missing values (None, pd.NA) first."
            )
        x = torch.as_tensor(arr.astype(np.float32) if arr.dtype == np.float64 else arr)
    if x.dim() == 0:
        raise ValueError(f"The {what} is a single number; it needs one row per example.")
    return x


def check_rows(split: str, xs: tuple[Tensor, ...], y: Tensor) -> None:
    """Inputs and targets of a split: as many rows each, not empty, floats finite (a NaN in
    the data turns every weight it touches into NaN at the first step)."""
    if len({len(t) for t in (*xs, y)}) != 1:
        shapes = ", ".join(str(tuple(t.shape)) for t in (*xs, y))
        raise ValueError(
            f"The {split} inputs and targets must have the same number of rows; "
            f"got shapes {shapes}."
        )
    if len(y) == 0:
        raise ValueError(f"The {split} set is empty.")
    for name, t in [*((f"inputs[{i}]", t) for i, t in enumerate(xs)), ("targets", y)]:
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            rows = (~torch.isfinite(t)).reshape(len(t), -1).any(1).nonzero()[:, 0]
            raise ValueError(
                f"The {split} {name} have NaN or inf in {len(rows):,} row(s), the "
                f"first is row {int(rows[0])}: fill or drop them before training."
            )


def check_setup(
    model: nn.Module, data: DeviceData, opt: torch.optim.Optimizer, loss_fn: LossFn, epochs: int = 1
) -> None:
    """Catch what would otherwise fail obscurely or train on nonsense silently, with one forward
    pass on two rows in eval mode: outputs shaped unlike the targets (an output (n,) against a
    float target (n, 1) makes the MSE broadcast to n x n), targets outside the model's `y_range`."""
    from course_utils.device_data import DeviceData  # the lesson code these checks guard
    from course_utils.learner import eval_mode

    if not isinstance(data, DeviceData):
        raise TypeError(f"data must be a DeviceData, got {type(data).__name__}.")
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a whole number, at least 1; got {epochs!r}.")
    model.to(data.device)
    if not {id(p) for p in model.parameters()} & {
        id(p) for g in opt.param_groups for p in g["params"]
    }:
        raise ValueError(
            "The optimizer holds none of this model's parameters: build it from "
            "this model, e.g. torch.optim.AdamW(model.parameters(), lr=1e-3)."
        )
    xb, yb = tuple(t[:2] for t in data.train_x), data.train_y[:2]
    w = next((p.dtype for p in model.parameters() if p.is_floating_point()), None)
    if any(t.is_floating_point() and w and t.dtype != w for t in xb):
        raise TypeError(
            f"The inputs are {[t.dtype for t in xb]} but the model's weights {w}: "
            "convert one to the other, e.g. DeviceData(x.float(), ...)."
        )
    try:
        signature(model.forward).bind(*xb)
    except TypeError as e:
        raise TypeError(
            f"The data has {len(xb)} input(s) per batch but "
            f"{type(model).__name__}.forward does not take them: {e}."
        ) from None
    with eval_mode(model):
        out = model(*xb)
        if isinstance(out, Tensor) and yb.is_floating_point() and out.shape != yb.shape:
            raise ValueError(
                f"The model's outputs have shape {tuple(out.shape)} for 2 rows but the targets "
                f"{tuple(yb.shape)}: the loss would broadcast them against each other and train "
                "on nonsense. Make them match, e.g. targets y.view(-1) or outputs out.view(-1)."
            )
        if isinstance(out, Tensor) and (loss := loss_fn(out, yb)).dim() != 0:
            raise ValueError(
                f"loss_fn must return one number, got shape {tuple(loss.shape)}: "
                "average it (reduction='mean')."
            )
    y_range = getattr(model, "y_range", None)
    if y_range is not None and data.train_y.is_floating_point():
        lo, hi = data.train_y.min().item(), data.train_y.max().item()
        if lo < y_range[0] or hi > y_range[1]:
            raise ValueError(
                f"The targets run from {lo:g} to {hi:g}, outside the model's "
                f"y_range {tuple(y_range)}, which its outputs can never leave: "
                f"build it with e.g. y_range=({min(lo, 0):g}, {hi * 1.1:g})."
            )
