"""The line-fitting problem of the SGD lesson (notebooks/lesson6-sgd.ipynb): `y = a*x + b`.

`line_data` makes the data; `least_squares`, `curvature`, `loss_surface` and `plot_contours` give
the exact optimum and the loss landscape over `(a, b)`; `make_optimizer` and `run_path` train `(a, b)`
with any optimizer of `course_utils.optim` and record its path (drawn by `course_utils.widgets`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import LogNorm
from torch import Tensor

from course_utils import optim

__all__ = [
    "OPTIMIZER_NAMES",
    "OptPath",
    "curvature",
    "least_squares",
    "line_data",
    "loss_surface",
    "make_optimizer",
    "plot_contours",
    "run_minibatch_path",
    "run_path",
]

OPTIMIZER_NAMES = ["SGD", "momentum", "Adagrad", "RMSProp", "Adam", "AdamW"]


def line_data(
    n: int = 10_000,
    a: float = 3.0,
    b: float = 8.0,
    noise: float = 0.3,
    offset: float = 0.0,
    seed: int = 42,
    scale: float = 1.0,
) -> tuple[Tensor, Tensor]:
    """`x ~ U(offset, offset + scale)`, `y = a*x + b + N(0, noise²)`: two float32 tensors (n,),
    from their own random generator (the same data whatever ran before)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, generator=g) * scale + offset
    y = a * x + b + noise * torch.randn(n, generator=g)
    return x, y


def least_squares(x: Tensor, y: Tensor) -> tuple[float, float, float]:
    """The exact minimiser of `mean((a*x + b - y)²)`: returns `(a, b, lowest_mse)` (float64)."""
    x, y = x.double(), y.double()
    X = torch.stack([x, torch.ones_like(x)], dim=1)  # (n, 2): one column per parameter
    a, b = torch.linalg.lstsq(X, y[:, None]).solution.flatten().tolist()
    return a, b, ((a * x + b - y) ** 2).mean().item()


def curvature(x: Tensor) -> tuple[np.ndarray, np.ndarray]:
    """How sharply `mse(a*x + b, y)` curves in each direction of `(a, b)`: the eigenvalues (2,),
    ascending, and eigenvectors (2, 2), one per column, of its Hessian (float64).

    The loss is quadratic in `(a, b)`, so its Hessian `2·[[mean x², mean x], [mean x, 1]]` is
    the same everywhere and does not depend on `y`. Column 0 is the valley floor (the smallest
    curvature), column 1 the steep direction across it; full-batch gradient descent with
    learning rate `lr` multiplies the distance from the optimum along each by `1 − lr·curvature`
    per step, so it diverges above `lr = 2 / curvature[1]`, and the ratio of the two is the
    condition number.
    """
    x = x.double()
    hess = 2 * torch.tensor([[(x * x).mean(), x.mean()], [x.mean(), 1.0]], dtype=torch.float64)
    values, vectors = torch.linalg.eigh(hess)  # ascending
    return values.numpy(), vectors.numpy()


def loss_surface(
    x: Tensor, y: Tensor, a_lim: Sequence[float], b_lim: Sequence[float], n: int = 120
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MSE of the line `a*x + b` on a grid of `(a, b)`; three arrays of shape (n, n).

    Expanding the square, `mean((a x + b − y)²) = a²·E[x²] + 2ab·E[x] + b² − 2a·E[xy] − 2b·E[y]
    + E[y²]`, so six averages of the data give the whole surface without looping over points.
    """
    x, y = x.double(), y.double()
    ex, ey, exx, exy, eyy = (t.mean().item() for t in (x, y, x * x, x * y, y * y))
    A, B = np.meshgrid(np.linspace(*a_lim, n), np.linspace(*b_lim, n))
    L = A**2 * exx + 2 * A * B * ex + B**2 - 2 * A * exy - 2 * B * ey + eyy
    return A, B, L


def plot_contours(
    x: Tensor,
    y: Tensor,
    ax: plt.Axes,
    a_lim: Sequence[float] = (-1, 12),
    b_lim: Sequence[float] = (0, 12),
    levels: int = 15,
) -> plt.Axes:
    """Log-spaced contour lines of the loss over `(a, b)`, with the optimum as a star."""
    A, B, L = loss_surface(x, y, a_lim, b_lim, n=80)
    a_best, b_best, lowest = least_squares(x, y)
    lv = np.geomspace(lowest * 1.05, L.max(), levels)
    ax.contour(A, B, L, levels=lv, cmap="viridis", linewidths=0.8, norm=LogNorm())
    ax.plot(a_best, b_best, "*", color="black", ms=12, label="least squares")
    ax.set(xlim=a_lim, ylim=b_lim, xlabel="a (slope)", ylabel="b (intercept)")
    return ax


def make_optimizer(
    name: str,
    params: Sequence[Tensor],
    lr: float,
    beta1: float = 0.9,
    beta2: float = 0.99,
    weight_decay: float = 0.01,
    eps: float | None = None,
    l2: float = 0.0,
) -> torch.optim.Optimizer:
    """One of `OPTIMIZER_NAMES` from `course_utils.optim`.

    `beta1` is the momentum of "momentum" and Adam's β1; `beta2` is RMSProp's α and Adam's β2;
    `weight_decay` is used by AdamW only, `l2` (added to the gradient) by Adam only; `eps`
    (None: the class's default) by the adaptive methods.
    """
    e = {} if eps is None else {"eps": eps}
    if name == "SGD":
        return optim.SGD(params, lr=lr)
    if name == "momentum":
        return optim.SGD(params, lr=lr, momentum=beta1)
    if name == "Adagrad":
        return optim.Adagrad(params, lr=lr, **e)
    if name == "RMSProp":
        return optim.RMSProp(params, lr=lr, alpha=beta2, **e)
    if name == "Adam":
        return optim.Adam(params, lr=lr, betas=(beta1, beta2), weight_decay=l2, **e)
    if name == "AdamW":
        return optim.AdamW(params, lr=lr, betas=(beta1, beta2), weight_decay=weight_decay, **e)
    raise ValueError(f"Unknown optimizer {name!r}; choose one of {OPTIMIZER_NAMES}.")


@dataclass
class OptPath:
    """Where `(a, b)` went: `params` has shape (steps + 1, 2), `loss` shape (steps + 1,)."""

    params: np.ndarray
    loss: np.ndarray


def run_path(
    x: Tensor,
    y: Tensor,
    make_opt: Callable[[list[Tensor]], torch.optim.Optimizer],
    start: Sequence[float] = (10.0, 5.0),
    steps: int = 200,
) -> OptPath:
    """Full-batch gradient descent on `mse(a*x + b, y)` from `start`, recording every step.

    `make_opt(params)` builds the optimizer, e.g. `lambda p: optim.Adam(p, lr=0.3)`. All the
    data in every step: the path shows the optimizer, not sampling noise. It stops where the
    loss overflows (too high a learning rate). `(a, b)` have the dtype of `x`.
    """
    a = torch.tensor(float(start[0]), dtype=x.dtype, requires_grad=True)
    b = torch.tensor(float(start[1]), dtype=x.dtype, requires_grad=True)
    opt = make_opt([a, b])
    params, losses = [], []
    for _ in range(steps + 1):
        loss = ((a * x + b - y) ** 2).mean()
        params.append((a.item(), b.item()))
        losses.append(loss.item())
        if len(losses) > steps or not math.isfinite(losses[-1]):
            break  # the last entry records where the final step landed
        opt.zero_grad()
        loss.backward()
        opt.step()
    return OptPath(np.array(params), np.array(losses))


def run_minibatch_path(
    x: Tensor,
    y: Tensor,
    make_opt: Callable[[list[Tensor]], torch.optim.Optimizer],
    bs: int,
    steps: int = 200,
    start: Sequence[float] = (10.0, 5.0),
    seed: int = 0,
    make_sched: Callable[[torch.optim.Optimizer], Any] | None = None,
) -> OptPath:
    """Mini-batch SGD on `mse(a*x + b, y)`: each step uses `bs` rows drawn at random.

    The stochastic twin of `run_path`: the gradient of a batch is a noisy estimate of the full
    one, so the path wobbles (`bs=1` is the 2018 workbook's "online" training, one point per
    step). Rows are drawn without replacement within an epoch (a fresh `torch.randperm` from
    its own seeded generator each time the data run out), as `DeviceData` does. `make_sched`,
    if given, builds a scheduler stepped after every step (e.g. a cosine to anneal). `loss`
    records the *full-data* loss at each step, so paths with different `bs` compare directly.
    """
    g = torch.Generator().manual_seed(seed)
    a = torch.tensor(float(start[0]), dtype=x.dtype, requires_grad=True)
    b = torch.tensor(float(start[1]), dtype=x.dtype, requires_grad=True)
    opt = make_opt([a, b])
    sched = make_sched(opt) if make_sched is not None else None
    params, losses, batches = [], [], iter(())
    for _ in range(steps + 1):
        with torch.no_grad():
            losses.append(((a * x + b - y) ** 2).mean().item())
        params.append((a.item(), b.item()))
        if len(losses) > steps or not math.isfinite(losses[-1]):
            break
        idx = next(batches, None)
        if idx is None:  # a new epoch: a new order
            batches = iter(torch.randperm(len(x), generator=g).split(bs))
            idx = next(batches)
        loss = ((a * x[idx] + b - y[idx]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
    return OptPath(np.array(params), np.array(losses))
