"""The drawing engine behind `diagrams.py`: nodes, edges and `draw`, in the 2018 lessons'
notation, with matplotlib patches.

A rectangle is an input, a circle a vector of hidden activations, a triangle an output, a
grey box an operation without weights, and an arrow a layer operation; arrows of one colour
share one weight matrix. `diagrams.py` describes each lesson's model with these pieces.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle, RegularPolygon

__all__ = ["GREY", "Edge", "Node", "draw"]


class Node(NamedTuple):
    """A shape: `kind` is "in" (rectangle), "hid" (circle), "out" (triangle) or "op" (box)."""

    name: str
    kind: str
    x: float
    y: float
    label: str


class Edge(NamedTuple):
    """An arrow from node `a` to node `b`; `key` names its weight matrix (its colour)."""

    a: str
    b: str
    key: str
    rad: float = 0.0  # curvature; a loop (a == b) needs about -1.7
    ls: str = "-"


GREY = "0.45"


def _width(n: Node) -> float:
    return max(0.7, 0.125 * max(len(s) for s in n.label.split("\n")) + 0.35)


def _shape(n: Node) -> plt.Artist:
    w = _width(n)
    if n.kind == "in":
        return Rectangle((n.x - w / 2, n.y - 0.3), w, 0.6, fc="#fde9c8", ec="k")
    if n.kind == "hid":
        return Circle((n.x, n.y), 0.36, fc="#d8e8f8", ec="k")
    if n.kind == "out":
        return RegularPolygon((n.x, n.y), 3, radius=0.5, fc="#dff0d8", ec="k")
    if n.kind == "op":
        return FancyBboxPatch(
            (n.x - w / 2, n.y - 0.3), w, 0.6, boxstyle="round,pad=0.05", fc="0.92", ec=GREY
        )
    raise ValueError(f"Unknown node kind {n.kind!r}: use 'in', 'hid', 'out' or 'op'.")


def draw(
    nodes: Sequence[Node],
    edges: Sequence[Edge],
    keys: dict[str, tuple[str, str]],
    title: str = "",
    ncol: int = 3,
    scale: float = 0.6,
) -> Figure:
    """Draw `nodes` joined by `edges`; `keys` maps an edge key to (colour, legend text): other
    keys are grey, empty texts stay out of the legend. `scale`: inches per coordinate unit."""
    half = {n.name: max(_width(n) / 2, 0.5) + 0.3 for n in nodes}
    xlim = (min(n.x - half[n.name] for n in nodes), max(n.x + half[n.name] for n in nodes))
    ylim = (min(n.y for n in nodes) - 0.7, max(n.y for n in nodes) + 0.8)
    fig, ax = plt.subplots(figsize=(scale * (xlim[1] - xlim[0]), scale * (ylim[1] - ylim[0])))
    fig.subplots_adjust(0, 0, 1, 1)  # the axes fill the figure: `scale` holds exactly
    shapes, pos = {}, {n.name: (n.x, n.y) for n in nodes}
    for n in nodes:
        shapes[n.name] = ax.add_patch(_shape(n))
        below = n.kind == "out" and len(n.label) > 3  # a long label goes under the triangle
        ax.text(
            n.x,
            n.y - (0.35 if below else 0.1 if n.kind == "out" else 0),
            n.label,
            ha="center",
            va="top" if below else "center",
            fontsize=10,
            zorder=3,
        )
    for e in edges:
        if e.a == e.b:  # a loop over the node's top, from its left to its right
            x, y = pos[e.a]
            ends, patches = [(x - 0.3, y + 0.22), (x + 0.3, y + 0.22)], (None, None)
        else:
            ends, patches = [pos[e.a], pos[e.b]], (shapes[e.a], shapes[e.b])
        ax.add_patch(
            FancyArrowPatch(
                *ends,
                patchA=patches[0],
                patchB=patches[1],
                connectionstyle=f"arc3,rad={e.rad}",
                arrowstyle="-|>",
                mutation_scale=14,
                lw=2,
                ls=e.ls,
                color=keys.get(e.key, (GREY, ""))[0],
            )
        )
    used = [k for k in keys if keys[k][1] and any(e.key == k for e in edges)]
    if used:
        ax.legend(
            [Line2D([], [], color=keys[k][0], lw=2) for k in used],
            [keys[k][1] for k in used],
            loc="upper center",
            bbox_to_anchor=(0.5, 0.0),
            ncol=min(ncol, len(used)),
            frameon=False,
            fontsize=9,
        )
    ax.set(xlim=xlim, ylim=ylim, aspect="equal")
    ax.set_axis_off()
    ax.set_title(title, fontsize=11)
    return fig
