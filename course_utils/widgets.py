"""The interactive pieces of the lessons: widgets, the SGD animation, label placement.

* lesson 5: `make_embedding_explorer` (nearest movies, the ends of each PCA axis) and
  `annotate_points` (scatter labels that do not overlap);
* lesson 6, SGD: `animate_fit` (the fit as an animation) and `make_optimizer_explorer`;
* lesson 6, RNN: `make_text_generator` (Nietzsche from a trained char model, live).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from torch import Tensor

from course_utils import checks, line_fit
from course_utils.animation import FrameAnimation
from course_utils.char_models import CharStatefulRnn
from course_utils.interpret import cosine_neighbours
from course_utils.text import PAD, Vocab, load_char_model, sample_text

if TYPE_CHECKING:
    import ipywidgets

__all__ = [
    "animate_fit",
    "annotate_points",
    "make_embedding_explorer",
    "make_optimizer_explorer",
    "make_text_generator",
]


def annotate_points(ax, x: Sequence[float], y: Sequence[float], labels: Sequence[str]) -> None:
    """Label scatter points so that labels do not overlap (greedy, no extra packages).

    Each label tries positions around its point, nearest first (right, left, above,
    below, then further out with a thin leader line), and takes the first one that
    overlaps no label placed before it; failing that, the one that overlaps least.
    """
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox

    renderer = ax.figure.canvas.get_renderer()
    candidates = []
    for r in (4, 10, 18, 28, 40, 55):
        for angle in range(0, 360, 30):
            dx, dy = r * np.cos(np.radians(angle)), 0.6 * r * np.sin(np.radians(angle))
            ha = "left" if dx > 1 else "right" if dx < -1 else "center"
            va = "bottom" if dy > 1 else "top" if dy < -1 else "center"
            candidates.append((dx, dy, ha, va, r > 10))
    # the points themselves are obstacles too (a 6 x 6 pixel box each)
    placed = [
        Bbox.from_bounds(px - 3, py - 3, 6, 6)
        for px, py in ax.transData.transform(np.column_stack([x, y]))
    ]

    def overlap(box) -> float:
        return sum(
            max(0, min(box.x1, b.x1) - max(box.x0, b.x0))
            * max(0, min(box.y1, b.y1) - max(box.y0, b.y0))
            for b in placed
        )

    for i in np.argsort(-np.asarray(y, dtype=float), kind="stable"):
        tried = []  # (overlap, annotation, box), until one overlaps nothing
        for dx, dy, ha, va, leader in candidates:
            t = ax.annotate(
                labels[i],
                (x[i], y[i]),
                xytext=(dx, dy),
                textcoords="offset points",
                ha=ha,
                va=va,
                fontsize=9,
                arrowprops={"arrowstyle": "-", "color": "grey", "lw": 0.5} if leader else None,
            )
            t.update_positions(renderer)
            box = Text.get_window_extent(t, renderer).expanded(1.03, 1.2)  # the text alone
            tried.append((overlap(box), t, box))
            if tried[-1][0] == 0:
                break
        _, best, box = min(tried, key=lambda c: c[0])  # the first of the least overlapping
        for _, t, _ in tried:
            if t is not best:
                t.remove()
        placed.append(box)


def make_embedding_explorer(
    movie_vectors: np.ndarray, components: pd.DataFrame, titles: Sequence[str], k: int = 10
) -> ipywidgets.Tab:
    """An ipywidgets explorer of movie embeddings, two tabs: "Neighbours" (pick a movie, see
    the `k` nearest by cosine similarity) and "Components" (pick a component, see the `k`
    movies at each of its two ends).

    Args:
        movie_vectors: (n, n_factors) embedding rows of the movies to explore.
        components: (n, n_components) PCA scores of the same movies, named columns.
        titles: the n titles, in the same order.
    """
    import html

    import ipywidgets as widgets

    titles = checks.unique_labels(titles)  # two "Emma (1996)": both stay reachable
    if not len(titles) == len(movie_vectors) == len(components):
        raise ValueError(
            f"movie_vectors ({len(movie_vectors)}), components ({len(components)})"
            f" and titles ({len(titles)}) must describe the same movies."
        )
    movie = widgets.Dropdown(
        options=sorted((t, i) for i, t in enumerate(titles)),  # (label, row) pairs
        value=0,
        description="Movie",
        layout=widgets.Layout(width="480px"),
    )
    neighbours = widgets.HTML()

    def show_neighbours(_=None) -> None:
        idx, sims = cosine_neighbours(movie_vectors, movie.value, k)
        rows = "".join(
            f"<tr><td>{html.escape(titles[j])}</td><td>{s:.2f}</td></tr>"
            for j, s in zip(idx, sims, strict=True)
        )
        neighbours.value = (
            f"<b>Nearest to {html.escape(titles[movie.value])}</b><table><tr><th>movie</th>"
            f"<th>cosine</th></tr>{rows}</table>"
        )

    comp = widgets.Dropdown(options=list(components.columns), description="Component")
    ends = widgets.HTML()

    def show_ends(_=None) -> None:
        s = pd.Series(components[comp.value].to_numpy(), index=titles).sort_values()
        lo = "".join(f"<li>{html.escape(t)} ({v:+.2f})</li>" for t, v in s.head(k).items())
        hi = "".join(f"<li>{html.escape(t)} ({v:+.2f})</li>" for t, v in s.tail(k)[::-1].items())
        name = html.escape(str(comp.value))
        ends.value = (
            f"<table><tr><th>highest {name}</th><th>lowest {name}</th></tr>"
            f"<tr><td valign='top'><ol>{hi}</ol></td>"
            f"<td valign='top'><ol>{lo}</ol></td></tr></table>"
        )

    movie.observe(show_neighbours, names="value")
    comp.observe(show_ends, names="value")
    show_neighbours()
    show_ends()
    tabs = widgets.Tab(children=[widgets.VBox([movie, neighbours]), widgets.VBox([comp, ends])])
    tabs.set_title(0, "Neighbours")
    tabs.set_title(1, "Components")
    return tabs


def animate_fit(
    x: Tensor,
    y: Tensor,
    path: line_fit.OptPath,
    frames: Sequence[int] | None = None,
    dpi: int = 100,
) -> FrameAnimation:
    """Animate training: the line over the first 60 points (left) and the path over the loss
    contours (right). `frames` are the steps to show (default: 16, closer together at the
    start, where things move fast); each is stored as an image at `dpi` (100: 800 x 320 pixels,
    text as large as in the lesson's other plots). Show it with `HTML(anim.to_jshtml())`: an
    HTML/JavaScript player (no video encoder needed, nothing loaded from the internet); its
    figure is closed.
    """
    steps = len(path.loss) - 1
    if frames is None:
        frames = np.unique(np.geomspace(1, steps + 1, 16).astype(int) - 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 3.2), dpi=dpi)
    ax1.scatter(x[:60], y[:60], s=8, color="gray")
    xs = np.array([float(x.min()), float(x.max())])
    (line,) = ax1.plot(xs, path.params[0, 0] * xs + path.params[0, 1], color="C3", lw=2)
    ax1.set_xlabel("x")
    ax1.set_ylabel("y")
    ax1.set_ylim(float(y.min()) - 1, float(y.max()) + 1)
    title = ax1.set_title("")
    line_fit.plot_contours(x, y, ax2)
    (trail,) = ax2.plot([], [], ".-", color="C3", ms=3, lw=1)
    ax2.set_title("path of (a, b) over the loss contours")
    fig.tight_layout()

    def draw(i: int) -> None:
        a, b = path.params[i]
        line.set_ydata(a * xs + b)
        title.set_text(f"step {i}: a={a:.2f}, b={b:.2f}, loss={path.loss[i]:.3f}")
        trail.set_data(path.params[: i + 1, 0], path.params[: i + 1, 1])

    plt.close(fig)
    return FrameAnimation(fig, draw, list(frames), dpi=dpi, interval=400)


def make_optimizer_explorer(
    problems: dict[str, tuple[Tensor, Tensor]], steps: int = 150
) -> ipywidgets.VBox:
    """An ipywidgets control: pick an optimizer, its learning rate, β1 (momentum) and β2,
    and a problem (`problems` maps a name to `(x, y)`); the path over the loss contours and
    the loss curve redraw at once. The returned `VBox`'s attribute `result` holds the
    settings and `OptPath` of the latest drawing (what a test inspects).
    """
    import ipywidgets as widgets
    from IPython.display import display

    style = {"description_width": "initial"}  # show the whole label
    controls = {
        "name": widgets.Dropdown(
            options=line_fit.OPTIMIZER_NAMES, value="momentum", description="optimizer", style=style
        ),
        "problem": widgets.Dropdown(options=list(problems), description="problem", style=style),
        "lr": widgets.FloatLogSlider(
            value=0.1,
            base=10,
            min=-3,
            max=0.5,
            step=0.1,
            description="learning rate",
            readout_format=".3g",
            continuous_update=False,
            style=style,
        ),
        "beta1": widgets.FloatSlider(
            value=0.9,
            min=0.0,
            max=0.99,
            step=0.01,
            description="β1 / momentum",
            continuous_update=False,
            style=style,
        ),
        "beta2": widgets.SelectionSlider(
            options=[0.9, 0.99, 0.999, 0.9999],
            value=0.99,
            description="β2 / α",
            style=style,
            continuous_update=False,
        ),
    }
    box = widgets.VBox()
    box.result = {}

    def draw(name: str, problem: str, lr: float, beta1: float, beta2: float) -> None:
        x, y = problems[problem]
        path = line_fit.run_path(
            x, y, lambda p: line_fit.make_optimizer(name, p, lr, beta1, beta2), steps=steps
        )
        box.result = dict(name=name, problem=problem, lr=lr, beta1=beta1, beta2=beta2, path=path)
        lowest = line_fit.least_squares(x, y)[2]
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
        ok = path.params[np.isfinite(path.params).all(1)]
        a_lim = np.clip((min(-1, ok[:, 0].min()), max(12, ok[:, 0].max())), -30, 30)
        b_lim = np.clip((min(0, ok[:, 1].min()), max(12, ok[:, 1].max())), -30, 30)
        line_fit.plot_contours(x, y, ax1, a_lim, b_lim)
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


def _slider(kind: type, label: str, value: float, lo: float, hi: float, step: float):
    """A slider that shows its whole label and samples again only when released."""
    return kind(
        value=value,
        min=lo,
        max=hi,
        step=step,
        description=label,
        continuous_update=False,
        style={"description_width": "initial"},
    )


def make_text_generator(
    model: CharStatefulRnn | str | Path,
    vocab: Vocab | None = None,
    seed_text: str = "the meaning of life is ",
    length: int = 300,
    temperature: float = 0.5,
) -> ipywidgets.VBox:
    """An ipywidgets text generator: seed text, length and temperature in, Nietzsche out.

    `model` is a trained `CharStatefulRnn` (then pass its `vocab`) or the path of one saved by
    `save_char_model`, so the widget can be rebuilt without retraining. The returned `VBox`'s
    `output` (an `HTML` widget) holds the text, redrawn on every change; sampling starts from
    seed 0 each time, so the same inputs give the same text.
    """
    import html

    import ipywidgets as w

    if isinstance(model, str | Path):
        model, vocab = load_char_model(model)
    if vocab is None:
        raise ValueError("Pass the model's vocab (or a saved model's path).")
    seed_box = w.Text(
        value=seed_text,
        description="seed text",
        continuous_update=False,
        layout=w.Layout(width="60%"),
    )
    length_box = _slider(w.IntSlider, "length", length, 20, 1000, 20)
    temp_box = _slider(w.FloatSlider, "temperature", temperature, 0.0, 1.5, 0.05)
    output = w.HTML()

    def update(_=None) -> None:
        seed = "".join(c for c in seed_box.value if c in vocab.char_indices and c != PAD)
        if not seed:
            output.value = "<i>Type some seed text (letters the model knows).</i>"
            return
        g = torch.Generator().manual_seed(0)
        text = sample_text(model, seed, length_box.value, vocab, temp_box.value, generator=g)
        output.value = (
            f"<pre style='white-space: pre-wrap'><b>{html.escape(seed)}</b>"
            f"{html.escape(text[len(seed) :])}</pre>"
        )

    for box in (seed_box, length_box, temp_box):
        box.observe(update, names="value")
    update()
    ui = w.VBox([seed_box, w.HBox([length_box, temp_box]), output])
    ui.output = output  # type: ignore[attr-defined]
    ui.controls = (seed_box, length_box, temp_box)  # type: ignore[attr-defined]
    return ui
