"""Helpers for the SGD lesson (notebooks/lesson6-sgd.ipynb): data, loss surface, paths, pictures.

* `line_data`: the lesson's data, `y = 3x + 8 + noise` with `x ~ U(0, 1)` (optionally shifted).
* `least_squares`, `loss_surface`, `plot_contours`: the exact optimum and the loss landscape
  of `mse(a*x + b, y)` over a grid of `(a, b)`.
* `make_optimizer`, `run_path`: train `(a, b)` with any optimizer and record its path.
* `animate_fit`: a matplotlib animation of the line and of the path (JavaScript, no ffmpeg).
* `make_optimizer_explorer`: an ipywidgets control that redraws an optimizer's path live.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import animation
from matplotlib.colors import LogNorm
from torch import Tensor

from course_utils import optim

if TYPE_CHECKING:
    import ipywidgets

__all__ = [
    "OPTIMIZER_NAMES",
    "Path",
    "animate_fit",
    "least_squares",
    "line_data",
    "loss_surface",
    "make_optimizer",
    "make_optimizer_explorer",
    "plot_contours",
    "run_path",
]

OPTIMIZER_NAMES = ["SGD", "momentum", "Adagrad", "RMSProp", "Adam", "AdamW"]


def line_data(n: int = 10_000, a: float = 3.0, b: float = 8.0, noise: float = 0.3,
              offset: float = 0.0, seed: int = 42) -> tuple[Tensor, Tensor]:
    """`x ~ U(offset, offset + 1)`, `y = a*x + b + N(0, noise²)`; two float32 tensors of shape (n,).

    Uses its own random generator, so the data are the same whatever ran before.
    """
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, generator=g) + offset
    y = a * x + b + noise * torch.randn(n, generator=g)
    return x, y


def least_squares(x: Tensor, y: Tensor) -> tuple[float, float, float]:
    """The exact minimiser of `mean((a*x + b - y)²)`: returns `(a, b, lowest_mse)` (float64)."""
    x, y = x.double(), y.double()
    X = torch.stack([x, torch.ones_like(x)], dim=1)  # (n, 2): one column per parameter
    a, b = torch.linalg.lstsq(X, y[:, None]).solution.flatten().tolist()
    return a, b, ((a * x + b - y) ** 2).mean().item()


def loss_surface(x: Tensor, y: Tensor, a_lim: Sequence[float], b_lim: Sequence[float],
                 n: int = 120) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MSE of the line `a*x + b` on a grid of `(a, b)`; three arrays of shape (n, n).

    Expanding the square, `mean((a x + b − y)²) = a²·E[x²] + 2ab·E[x] + b² − 2a·E[xy] − 2b·E[y]
    + E[y²]`, so six averages of the data give the whole surface without looping over points.
    """
    x, y = x.double(), y.double()
    ex, ey, exx, exy, eyy = (t.mean().item() for t in (x, y, x * x, x * y, y * y))
    A, B = np.meshgrid(np.linspace(*a_lim, n), np.linspace(*b_lim, n))
    L = A**2 * exx + 2 * A * B * ex + B**2 - 2 * A * exy - 2 * B * ey + eyy
    return A, B, L


def plot_contours(x: Tensor, y: Tensor, ax: plt.Axes, a_lim: Sequence[float] = (-1, 12),
                  b_lim: Sequence[float] = (0, 12), levels: int = 15) -> plt.Axes:
    """Log-spaced contour lines of the loss over `(a, b)`, with the optimum as a star."""
    A, B, L = loss_surface(x, y, a_lim, b_lim, n=80)
    a_best, b_best, lowest = least_squares(x, y)
    lv = np.geomspace(lowest * 1.05, L.max(), levels)
    ax.contour(A, B, L, levels=lv, cmap="viridis", linewidths=0.8, norm=LogNorm())
    ax.plot(a_best, b_best, "*", color="black", ms=12, label="least squares")
    ax.set_xlim(a_lim)
    ax.set_ylim(b_lim)
    ax.set_xlabel("a (slope)")
    ax.set_ylabel("b (intercept)")
    return ax


def make_optimizer(name: str, params: Sequence[Tensor], lr: float, beta1: float = 0.9,
                   beta2: float = 0.99, weight_decay: float = 0.01) -> torch.optim.Optimizer:
    """One of `OPTIMIZER_NAMES` from `course_utils.optim`.

    `beta1` is the momentum of "momentum" and Adam's β1; `beta2` is RMSProp's α and Adam's β2;
    `weight_decay` is used by AdamW only.
    """
    if name == "SGD":
        return optim.SGD(params, lr=lr)
    if name == "momentum":
        return optim.SGD(params, lr=lr, momentum=beta1)
    if name == "Adagrad":
        return optim.Adagrad(params, lr=lr)
    if name == "RMSProp":
        return optim.RMSProp(params, lr=lr, alpha=beta2)
    if name == "Adam":
        return optim.Adam(params, lr=lr, betas=(beta1, beta2))
    if name == "AdamW":
        return optim.AdamW(params, lr=lr, betas=(beta1, beta2), weight_decay=weight_decay)
    raise ValueError(f"Unknown optimizer {name!r}; choose one of {OPTIMIZER_NAMES}.")


@dataclass
class Path:
    """Where `(a, b)` went: `params` has shape (steps + 1, 2), `loss` shape (steps + 1,)."""

    params: np.ndarray
    loss: np.ndarray


def run_path(x: Tensor, y: Tensor, make_opt: Callable[[list[Tensor]], torch.optim.Optimizer],
             start: Sequence[float] = (10.0, 5.0), steps: int = 200) -> Path:
    """Full-batch gradient descent on `mse(a*x + b, y)` from `start`; records every step.

    `make_opt(params)` builds the optimizer, e.g. `lambda p: optim.Adam(p, lr=0.3)`.
    Every step uses all the data, so the path shows the optimizer, not sampling noise.
    If the loss overflows (too high a learning rate), the path stops there.
    """
    a = torch.tensor(float(start[0]), requires_grad=True)
    b = torch.tensor(float(start[1]), requires_grad=True)
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
    return Path(np.array(params), np.array(losses))


def animate_fit(x: Tensor, y: Tensor, path: Path, frames: Sequence[int] | None = None,
                n_points: int = 60, a_lim: Sequence[float] = (-1, 12),
                b_lim: Sequence[float] = (0, 12), dpi: int = 60) -> animation.FuncAnimation:
    """Animate training: the line over a sample of the data (left) and the path over the
    loss contours (right). `frames` are the step numbers to show (default: 16 steps, spaced
    closer at the start where things move fast); every frame is stored as an image, so few
    frames at a modest `dpi` keep the notebook small. Returns the animation; show it in a notebook
    with `HTML(anim.to_jshtml())`, which needs no ffmpeg. The figure is closed, so only the
    animation is displayed.
    """
    steps = len(path.loss) - 1
    if frames is None:
        frames = np.unique(np.geomspace(1, steps + 1, 16).astype(int) - 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 3.2), dpi=dpi)
    ax1.scatter(x[:n_points], y[:n_points], s=8, color="gray")
    xs = np.array([float(x.min()), float(x.max())])
    (line,) = ax1.plot(xs, path.params[0, 0] * xs + path.params[0, 1], color="C3", lw=2)
    ax1.set_xlabel("x")
    ax1.set_ylabel("y")
    ax1.set_ylim(float(y.min()) - 1, float(y.max()) + 1)
    title = ax1.set_title("")
    plot_contours(x, y, ax2, a_lim, b_lim)
    (trail,) = ax2.plot([], [], ".-", color="C3", ms=3, lw=1)
    ax2.set_title("path of (a, b) over the loss contours")
    fig.tight_layout()

    def draw(i: int):
        a, b = path.params[i]
        line.set_ydata(a * xs + b)
        title.set_text(f"step {i}: a={a:.2f}, b={b:.2f}, loss={path.loss[i]:.3f}")
        trail.set_data(path.params[: i + 1, 0], path.params[: i + 1, 1])
        return line, title, trail

    anim = animation.FuncAnimation(fig, draw, frames=list(frames), interval=250, blit=False)
    plt.close(fig)
    return anim


def make_optimizer_explorer(problems: dict[str, tuple[Tensor, Tensor]] | None = None,
                            start: Sequence[float] = (10.0, 5.0),
                            steps: int = 150) -> ipywidgets.VBox:
    """An ipywidgets control: pick an optimizer, its learning rate, β1 (momentum) and β2,
    and a problem; the path over the loss contours and the loss curve redraw at once.

    `problems` maps a name to `(x, y)`; the default is the lesson's data (2,000 points) and
    the same line with x shifted to [2, 3] (badly conditioned). The returned `VBox` has an
    attribute `result`, a dict with the settings and `Path` of the latest drawing (it is
    what a test inspects after changing a control).
    """
    import ipywidgets as widgets
    from IPython.display import display

    if problems is None:
        problems = {
            "x in [0, 1]": line_data(2_000),
            "x in [2, 3] (badly conditioned)": line_data(2_000, offset=2.0),
        }
    style = {"description_width": "initial"}  # show the whole label
    controls = {
        "name": widgets.Dropdown(options=OPTIMIZER_NAMES, value="momentum",
                                 description="optimizer", style=style),
        "problem": widgets.Dropdown(options=list(problems), description="problem", style=style),
        "lr": widgets.FloatLogSlider(value=0.1, base=10, min=-3, max=0.5, step=0.1,
                                     description="learning rate", readout_format=".3g",
                                     continuous_update=False, style=style),
        "beta1": widgets.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01,
                                     description="β1 / momentum", continuous_update=False,
                                     style=style),
        "beta2": widgets.SelectionSlider(options=[0.9, 0.99, 0.999, 0.9999], value=0.99,
                                         description="β2 / α", style=style,
                                         continuous_update=False),
    }
    box = widgets.VBox()
    box.result = {}

    def draw(name: str, problem: str, lr: float, beta1: float, beta2: float) -> None:
        x, y = problems[problem]
        path = run_path(x, y, lambda p: make_optimizer(name, p, lr, beta1, beta2), start, steps)
        box.result = dict(name=name, problem=problem, lr=lr, beta1=beta1, beta2=beta2, path=path)
        lowest = least_squares(x, y)[2]
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
        ok = path.params[np.isfinite(path.params).all(1)]
        a_lim = np.clip((min(-1, ok[:, 0].min()), max(12, ok[:, 0].max())), -30, 30)
        b_lim = np.clip((min(0, ok[:, 1].min()), max(12, ok[:, 1].max())), -30, 30)
        plot_contours(x, y, ax1, a_lim, b_lim)
        ax1.plot(path.params[:, 0], path.params[:, 1], ".-", color="C3", ms=3, lw=1)
        ax1.set_title(f"{name}: path of (a, b), {steps} steps")
        finite = np.isfinite(path.loss)
        ax2.semilogy(np.maximum(path.loss[finite] - lowest, 1e-9))
        ax2.set_xlabel("step")
        ax2.set_ylabel("loss − lowest loss (log)")
        if finite.all():
            ax2.set_title(f"final loss {path.loss[-1]:.4f} (lowest {lowest:.4f})")
        else:
            ax2.set_title(f"diverged at step {len(path.loss) - 1}: lower the learning rate")
        fig.tight_layout()
        display(fig)
        plt.close(fig)

    out = widgets.interactive_output(draw, controls)
    row1 = widgets.HBox([controls["name"], controls["problem"]])
    row2 = widgets.HBox([controls["lr"], controls["beta1"], controls["beta2"]])
    box.children = (row1, row2, out)
    return box
