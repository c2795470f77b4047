"""The guard rails every public function shares, kept apart from the lesson code.

Lesson code calls these to turn what a student passes into what the code needs, or to stop with
an error that names the problem and the fix, instead of failing obscurely later or training on
nonsense silently.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from inspect import signature
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from course_utils.table_checks import (
    category_codes,
    column_names,
    continuous_inputs,
    date_column,
    distinct_ids,
    event_flags,
    frame,
    no_missing,
    numeric_column,
    same_kind,
)

if TYPE_CHECKING:
    from course_utils.device_data import DeviceData

__all__ = [
    "as_inputs",
    "column_names",
    "continuous_inputs",
    "event_flags",
    "finite_values",
    "frame",
    "on_off",
    "value_range",
    "check_rows",
    "check_setup",
    "category_codes",
    "date_column",
    "distinct_ids",
    "no_missing",
    "matching_shapes",
    "metric_names",
    "mixed_input_sizes",
    "numeric_column",
    "same_kind",
    "sched_factory",
    "env_flag",
    "env_int",
    "real_number",
    "row_indices",
    "unique_labels",
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


def _param(name: str) -> str:
    """The parameter in a description: "bs (the batch size)" -> bs, "Adam betas" -> betas."""
    return name.split(" (")[0].split()[-1]


def whole_number(value: object, name: str, minimum: int = 1, example: str = "") -> int:
    """`value` as an `int` (NumPy integers too), at least `minimum`; else an error that names
    the parameter, what it got and an example. `True`, 2.5 and "8" are refused, not rounded."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        hint = f": pass e.g. {example}" if example else ""
        raise ValueError(
            f"{name} must be a whole number of at least {minimum}, got {_param(name)}={value!r}{hint}."
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
        raise ValueError(f"{name} must be a number in {where}, got {_param(name)}={value!r}{hint}.")
    return x


def on_off(value: object, name: str) -> bool:
    """`value` as a `bool` (NumPy's too); "yes" or 1 is refused: a string is always true."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {_param(name)}={value!r}.")
    return bool(value)


def value_range(value: object, name: str) -> tuple[float, float] | None:
    """None or `(low, high)`, two finite numbers with low < high: reversed, the sigmoid that
    squashes the outputs into it would turn every gradient the wrong way round."""
    if value is None:
        return None
    pair = tuple(value) if isinstance(value, tuple | list | np.ndarray | Tensor) else ()
    ok = len(pair) == 2 and all(isinstance(v, int | float | np.number) for v in pair)
    if not ok or not (np.isfinite(pair).all() and pair[0] < pair[1]):
        raise ValueError(
            f"{name} must be None or (low, high) with low < high, got {_param(name)}={value!r}: "
            "pass e.g. (0.0, 5.5)."
        )
    return float(pair[0]), float(pair[1])


def finite_values(x: object, name: str, who: str) -> np.ndarray:
    """`x` (array, list, Series, tensor) as a float64 array: not empty, numbers, no NaN or inf
    (one NaN makes a mean NaN without a word)."""
    if isinstance(x, Tensor):
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            f"{who}: {name} must be numbers, got {np.asarray(x).ravel()[:3].tolist()}."
        ) from None
    if arr.size == 0:
        raise ValueError(f"{who}: {name} is empty: pass at least one value.")
    if not np.isfinite(arr).all():
        bad = np.flatnonzero(~np.isfinite(arr.ravel()))
        raise ValueError(
            f"{who}: {name} has NaN or inf at {len(bad):,} position(s), the first at "
            f"{int(bad[0])}: fill or drop those rows first."
        )
    return arr


def mixed_input_sizes(
    emb_szs: Sequence[tuple[int, int]],
    n_cont: int,
    emb_drop: float,
    out_sz: int,
    szs: Sequence[int],
    drops: Sequence[float],
) -> None:
    """`MixedInputModel`'s sizes whole numbers (at least 1; `n_cont` at least 0), dropouts in
    [0, 1), one dropout per hidden layer: else torch's error, which names none of them."""
    for i, pair in enumerate(emb_szs):
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise ValueError(
                f"emb_szs[{i}] must be a pair (cardinality, width), got {pair!r}: pass e.g. "
                "TabularProcessor.emb_szs()."
            )
        whole_number(pair[0], f"emb_szs[{i}]'s cardinality", example="(1116, 50)")
        whole_number(pair[1], f"emb_szs[{i}]'s width", example="(1116, 50)")
    whole_number(n_cont, "n_cont (continuous inputs)", minimum=0, example="len(cont_vars)")
    whole_number(out_sz, "out_sz (outputs)", example="1")
    for i, w in enumerate(szs):
        whole_number(w, f"szs[{i}] (a hidden layer's width)", example="(1000, 500)")
    if len(szs) != len(drops):
        raise ValueError(f"One dropout per hidden layer: szs={szs}, drops={drops}.")
    for name, p in [("emb_drop", emb_drop), *((f"drops[{i}]", p) for i, p in enumerate(drops))]:
        real_number(p, f"{name} (a dropout probability)", 0, 1, high_open=True, example="0.04")


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


def row_indices(idx: object, n: int, name: str, who: str) -> np.ndarray:
    """`idx` (a number, list, array or tensor) as int64 rows of a table of `n` rows: -1 would
    silently be the last row, 2.5 or a row past the end a raw IndexError naming neither."""
    arr = np.atleast_1d(idx.detach().cpu().numpy() if isinstance(idx, Tensor) else np.asarray(idx))
    if arr.size and (arr.dtype.kind not in "iu" or arr.min() < 0 or arr.max() >= n):
        raise IndexError(
            f"{who}: {name} must be whole numbers in 0..{n - 1}, got {arr.ravel()[:5].tolist()}."
        )
    return arr.astype(np.int64)


def matching_shapes(pred: Tensor, targ: Tensor, who: str) -> None:
    """Predictions and targets of one shape, not empty (a shape check: no device sync): a
    metric on `(n,)` and `(n, 1)` would broadcast them to an n x n table and report nonsense."""
    if pred.shape != targ.shape or pred.numel() == 0:
        raise ValueError(
            f"{who}: the predictions have shape {tuple(pred.shape)} and the targets "
            f"{tuple(targ.shape)}: they must match and not be empty (e.g. targ.view(-1))."
        )


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
    whole_number(epochs, "epochs", example="epochs=3")
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch nn.Module, got {type(model).__name__}.")
    if not isinstance(opt, torch.optim.Optimizer):
        raise TypeError(
            f"opt must be a torch optimizer, got {type(opt).__name__}: e.g. "
            "torch.optim.AdamW(model.parameters(), lr=1e-3)."
        )
    model.to(data.device)
    if not {id(p) for p in model.parameters()} & {
        id(p) for g in opt.param_groups for p in g["params"]
    }:
        raise ValueError(
            "The optimizer holds none of this model's parameters: build it from "
            "this model, e.g. torch.optim.AdamW(model.parameters(), lr=1e-3)."
        )
    if not any(p.requires_grad for g in opt.param_groups for p in g["params"]):
        raise ValueError(
            "Every parameter the optimizer holds is frozen (requires_grad=False), so training "
            "would change nothing: unfreeze some, e.g. p.requires_grad_(True)."
        )
    if hasattr(model, "reset") and data.shuffle:
        warnings.warn(
            f"{type(model).__name__} carries its state from one batch to the next, but the data "
            "is shuffled, so the state it carries belongs to other text: build the data with "
            "DeviceData(..., shuffle=False).",
            stacklevel=3,
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
        if not isinstance(out, Tensor):
            raise TypeError(
                f"{type(model).__name__} returns a {type(out).__name__}, but fit needs one "
                "tensor of outputs per batch: a model that also returns its hidden state "
                "(out, h) should keep h itself (self.h) and return out only."
            )
        if yb.is_floating_point() and out.shape != yb.shape:
            raise ValueError(
                f"The model's outputs have shape {tuple(out.shape)} for 2 rows but the targets "
                f"{tuple(yb.shape)}: the loss would broadcast them against each other and train "
                "on nonsense. Make them match, e.g. targets y.view(-1) or outputs out.view(-1)."
            )
        loss = loss_fn(out, yb)
        if not isinstance(loss, Tensor):
            raise TypeError(
                f"loss_fn must return a tensor (autograd needs it to compute gradients), got "
                f"{type(loss).__name__}: do not convert it with float() or .item()."
            )
        if loss.dim() != 0:
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


def metric_names(metrics: Sequence[Callable]) -> list[str]:
    """One column name per metric, its `__name__`: unique (two lambdas would share one column)
    and never `train_loss`, `valid_loss`, `epoch` or `seconds` (the metric would replace them)."""
    names = [getattr(m, "__name__", type(m).__name__) for m in metrics]
    for name in names:
        if name in {"train_loss", "valid_loss", "epoch", "seconds"}:
            raise ValueError(
                f"A metric is named {name!r}, a column fit already writes: rename it "
                f"(def my_{name}(out, y): ...)."
            )
        if names.count(name) > 1:
            raise ValueError(
                f"Two metrics are named {name!r} and would share one column: give each a "
                "def with its own name (def mae(out, y): ...) instead of a lambda."
            )
    return names


def sched_factory(sched: object) -> Callable | None:
    """`fit`'s `sched`: None or a factory `sched(opt, epochs, steps_per_epoch)`, such as
    `one_cycle(1e-2)`, not a scheduler object already built on an optimizer."""
    if sched is None:
        return None
    if isinstance(sched, torch.optim.lr_scheduler.LRScheduler) or not callable(sched):
        raise TypeError(
            f"sched must be a schedule factory such as one_cycle(1e-2) or sgdr(1), got a "
            f"{type(sched).__name__}: fit builds the scheduler itself, for its number of steps."
        )
    return sched


def unique_labels(labels: Sequence[object]) -> list[str]:
    """`labels` as text, each one distinct: a repeated label (ml-latest-small has two
    "Emma (1996)") gets " #2", " #3" in order of appearance, so each stays reachable by name."""
    seen: dict[str, int] = {}
    out = []
    for label in map(str, labels):
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} #{seen[label]}")
    return out
