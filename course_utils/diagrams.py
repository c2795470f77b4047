"""Model diagrams in the 2018 lessons' notation, drawn with matplotlib patches.

A rectangle is an input, a circle a vector of hidden activations, a triangle an output,
a grey box an operation without weights, and an arrow a layer operation. Arrows of the
same colour share one weight matrix: that is what makes a loop of layers an RNN.
Every function returns the `Figure`; in a notebook `fig = diagrams.char3_diagram()` shows it.
The pieces (`Node`, `Edge`, `draw`) are in `drawing.py`.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from course_utils.drawing import GREY, Edge, Node, draw

RNN_KEYS = {
    "l_in": ("tab:green", "l_in: input → hidden"),
    "l_hidden": ("tab:orange", "l_hidden: hidden → hidden"),
    "l_out": ("tab:blue", "l_out: hidden → output"),
}
# The same three weight matrices where the model uses nn.RNN: the names its parameters carry.
NN_RNN_KEYS = {
    "l_in": ("tab:green", "rnn.weight_ih_l0: input → hidden"),
    "l_hidden": ("tab:orange", "rnn.weight_hh_l0: hidden → hidden"),
    "l_out": ("tab:blue", "l_out: hidden → output"),
}


def _chain(
    n: int,
    dx: float,
    every: bool,
    i0: int = 1,
    x0: float = 0.0,
    last: str = "",
    start: bool = False,
) -> tuple[list[Node], list[Edge]]:
    """Inputs `i0 … i0+n-1` under hidden circles joined left to right; an output after
    each step (`every`) or only after the last one (labelled `last`). With `start`, a zero
    state `h0` comes first, joined to the first step: the models apply `l_hidden` (or
    `weight_hh`) at every step, the first one included, so the diagram draws it `n` times."""
    nodes, edges = [], []
    if start:
        nodes.append(Node(f"h{i0 - 1}", "hid", x0 - 0.9 * dx, 1.4, "0"))
        edges.append(Edge(f"h{i0 - 1}", f"h{i0}", "l_hidden"))
    for i in range(i0, i0 + n):
        x, h = x0 + (i - i0) * dx, f"h{i}"
        nodes += [
            Node(f"c{i}", "in", x, 0, f"char {i}" if dx > 1.4 else f"c{i}"),
            Node(h, "hid", x, 1.4, h),
        ]
        edges += [Edge(f"c{i}", h, "l_in")] + ([Edge(f"h{i - 1}", h, "l_hidden")] if i > i0 else [])
        if every or i == i0 + n - 1:
            nodes.append(
                Node(
                    f"o{i}",
                    "out",
                    x + (0 if every else dx),
                    2.8 if every else 1.4,
                    f"c{i + 1}" if every else last,
                )
            )
            edges.append(Edge(h, f"o{i}", "l_out"))
    return nodes, edges


def char3_diagram() -> Figure:
    """`Char3Model`: three characters in, the fourth out; one colour per layer. The state starts
    at zero and `l_hidden` is applied three times, once per character, as in `forward`."""
    return draw(
        *_chain(3, 1.6, False, last="char 4", start=True),
        RNN_KEYS,
        "Char3Model: three characters in, the fourth out",
    )


def loop_diagram(n: int = 8) -> Figure:
    """`CharLoopModel` unrolled over `n` characters: every step reuses the same weights."""
    return draw(
        *_chain(n, 1.25, False, last=f"c{n + 1}", start=True),
        RNN_KEYS,
        f"CharLoopModel unrolled over {n} characters: same colour, same weights",
    )


def loop_cycle_diagram() -> Figure:
    """The same loop drawn as a cycle: one hidden state updated once per character."""
    nodes = [
        Node("c", "in", 0, 0, "c t"),
        Node("h", "hid", 0, 1.4, "h"),
        Node("o", "out", 1.8, 1.4, "c t+1"),
    ]
    edges = [Edge("c", "h", "l_in"), Edge("h", "h", "l_hidden", -1.7), Edge("h", "o", "l_out")]
    fig = draw(nodes, edges, RNN_KEYS, "The same loop as a cycle", ncol=1, scale=0.75)
    fig.axes[0].text(0.5, 2.0, "once per character", fontsize=9, color="tab:orange")
    return fig


def seq_diagram(n: int = 8) -> Figure:
    """`CharSeqRnn`: an output (the next character) at every one of the `n` steps; the state
    starts at zero (`h0`), so `weight_hh` is applied `n` times."""
    return draw(
        *_chain(n, 1.25, True, start=True),
        NN_RNN_KEYS,
        "CharSeqRnn: a prediction after every character",
    )


def stateful_diagram(n: int = 4) -> Figure:
    """`CharStatefulRnn`, two batches of `n` steps: `forward` applies `weight_hh` `n` times per
    batch, the first time to the state the last batch left (`h0`; zeros after `reset()`). That
    state is handed on detached (red, dashed) as its own node: the gradient stops there."""
    dx = 1.25
    nodes, edges = _chain(n, dx, True, start=True)
    nodes[0] = nodes[0]._replace(label="h0")  # the state batch i-1 left, not always zeros
    x0 = (n + 1.2) * dx  # batch i+1's first step: room for the carried node before it
    more, more_edges = _chain(n, dx, True, i0=n + 1, x0=x0)
    carried = Node(f"s{n}", "hid", x0 - 0.9 * dx, 1.4, f"h{n}")
    edges += [
        Edge(f"h{n}", carried.name, "state", ls="--"),
        Edge(carried.name, f"h{n + 1}", "l_hidden"),
        *more_edges,
    ]
    keys = {**NN_RNN_KEYS, "state": ("tab:red", "h carried to the next batch, detached")}
    fig = draw([*nodes, carried, *more], edges, keys, "Stateful RNN: the hidden state carries over")
    ax, mid = fig.axes[0], (n - 0.35) * dx
    ax.axvline(mid, color=GREY, ls=":", lw=1)
    ax.text(-1.5, 3.5, f"batch i ({n} steps = bptt)", fontsize=9)
    ax.text(mid + 0.2, 3.5, f"batch i+1: its backward pass stops at h{n}", fontsize=9)
    ax.text(-0.9 * dx, 0, "from batch i-1\n(0 after reset)", ha="center", va="center", fontsize=8)
    ax.title.set_y(1.06)
    return fig


def stacked_diagram(n: int = 4) -> Figure:
    """A 2-layer RNN (`num_layers=2`) over `n` steps, named as `CharStatefulRnn`'s parameters
    (`rnn.weight_ih_l0` …): each layer has its own matrices, reused at every step, and its own
    start state (`a0`, `b0`: the last batch's), so each `weight_hh` acts `n` times."""
    nodes = [Node("a0", "hid", -1.125, 1.4, "a0"), Node("b0", "hid", -1.125, 2.8, "b0")]
    edges = []
    for k in range(n):
        x = k * 1.25
        nodes += [
            Node(f"c{k + 1}", "in", x, 0, f"c{k + 1}"),
            Node(f"a{k + 1}", "hid", x, 1.4, f"a{k + 1}"),
            Node(f"b{k + 1}", "hid", x, 2.8, f"b{k + 1}"),
            Node(f"o{k + 1}", "out", x, 4.2, f"c{k + 2}"),
        ]
        edges += [
            Edge(f"c{k + 1}", f"a{k + 1}", "ih0"),
            Edge(f"a{k}", f"a{k + 1}", "hh0"),
            Edge(f"a{k + 1}", f"b{k + 1}", "ih1"),
            Edge(f"b{k}", f"b{k + 1}", "hh1"),
            Edge(f"b{k + 1}", f"o{k + 1}", "l_out"),
        ]
    keys = {
        "ih0": ("tab:green", "rnn.weight_ih_l0: input → layer 0"),
        "hh0": ("tab:orange", "rnn.weight_hh_l0: layer 0 → layer 0"),
        "ih1": ("tab:olive", "rnn.weight_ih_l1: layer 0 → layer 1"),
        "hh1": ("tab:red", "rnn.weight_hh_l1: layer 1 → layer 1"),
        "l_out": ("tab:blue", "l_out: layer 1 → output"),
    }
    fig = draw(nodes, edges, keys, f"A 2-layer RNN unrolled over {n} steps", ncol=2)
    fig.axes[0].text(-1.125, 0, "from the\nlast batch", ha="center", va="center", fontsize=8)
    return fig


def lstm_diagram() -> Figure:
    """An LSTM cell: forget, input and output gates, the candidate, and the two states `c`, `h`
    (as `lstm_cell` in the lesson computes them)."""
    nodes = [
        Node("c0", "hid", 0, 3.2, "c t-1"),
        Node("h0", "hid", 0, 1.6, "h t-1"),
        Node("x", "in", 0, 0, "x t"),
        Node("f", "op", 2.2, 2.2, "σ: forget f"),
        Node("i", "op", 3.7, 0.8, "σ: input i"),
        Node("g", "op", 6.2, 0.8, "tanh: cand. g"),
        Node("o", "op", 8.7, 0.8, "σ: output o"),
        Node("mix", "op", 6.2, 3.2, "f·c + i·g"),
        Node("c1", "hid", 10.4, 3.2, "c t"),
        Node("th", "op", 8.4, 2.2, "o·tanh(c)"),
        Node("h1", "hid", 10.4, 1.6, "h t"),
    ]
    edges = [
        *(Edge("x", k, "ih") for k in ("f", "i", "g", "o")),
        *(Edge("h0", k, "hh") for k in ("f", "i", "g", "o")),
        Edge("c0", "mix", ""),
        Edge("f", "mix", ""),
        Edge("i", "mix", ""),
        Edge("g", "mix", ""),
        Edge("mix", "c1", ""),
        Edge("mix", "th", ""),
        Edge("o", "th", ""),
        Edge("th", "h1", ""),
    ]
    keys = {
        "ih": ("tab:green", "weight_ih: x into the 3 gates and g"),
        "hh": ("tab:orange", "weight_hh: h into the 3 gates and g"),
    }
    return draw(nodes, edges, keys, "LSTM cell (grey arrows: no weights)", ncol=1)


def gru_diagram() -> Figure:
    """A GRU cell: reset and update gates, the candidate state, and the interpolation."""
    nodes = [
        Node("h0", "hid", 0, 3, "h t-1"),
        Node("x", "in", 0, 0, "x t"),
        Node("r", "op", 1.9, 1.6, "σ: reset r"),
        Node("rh", "op", 3.9, 1.6, "r × (W h)"),
        Node("n", "op", 6, 0.4, "tanh: new ñ"),
        Node("z", "op", 8.3, 1.6, "σ: update z"),
        Node("mix", "op", 8.3, 3, "(1-z)·ñ + z·h"),
        Node("h1", "hid", 10.2, 3, "h t"),
    ]
    edges = [
        Edge("x", "r", "ih"),
        Edge("x", "z", "ih"),
        Edge("x", "n", "ih"),
        Edge("h0", "r", "hh"),
        Edge("h0", "rh", "hh"),
        Edge("h0", "z", "hh"),
        Edge("r", "rh", ""),
        Edge("rh", "n", ""),
        Edge("z", "mix", ""),
        Edge("n", "mix", ""),
        Edge("h0", "mix", ""),
        Edge("mix", "h1", ""),
    ]
    keys = {
        "ih": ("tab:green", "weight_ih: x into both gates and ñ"),
        "hh": ("tab:orange", "weight_hh: h into both gates and ñ"),
    }
    return draw(nodes, edges, keys, "GRU cell (grey arrows: no weights)", ncol=1)


def collab_diagram() -> Figure:
    """`EmbeddingDotBias`: embedding lookups, dot product, biases, sigmoid into the range."""
    nodes = [
        Node("uid", "in", 0, 2.6, "user id"),
        Node("mid", "in", 0, 0.6, "movie id"),
        Node("bu", "hid", 2.2, 3.6, "b_u"),
        Node("u", "hid", 2.2, 2.3, "u"),
        Node("m", "hid", 2.2, 0.9, "m"),
        Node("bm", "hid", 2.2, -0.4, "b_m"),
        Node("dot", "op", 3.9, 1.6, "u · m"),
        Node("add", "op", 5.4, 1.6, "+"),
        Node("sig", "op", 7.1, 1.6, "sigmoid\ninto 0…5.5"),
        Node("r", "out", 8.8, 1.6, "rating"),
    ]
    edges = [
        Edge("uid", "u", "uf"),
        Edge("uid", "bu", "ub"),
        Edge("mid", "m", "mf"),
        Edge("mid", "bm", "mb"),
        Edge("u", "dot", ""),
        Edge("m", "dot", ""),
        Edge("dot", "add", ""),
        Edge("bu", "add", "", -0.2),
        Edge("bm", "add", "", 0.2),
        Edge("add", "sig", ""),
        Edge("sig", "r", ""),
    ]
    keys = {
        "uf": ("tab:green", "user_factors"),
        "mf": ("tab:purple", "movie_factors"),
        "ub": ("tab:olive", "user_bias"),
        "mb": ("tab:brown", "movie_bias"),
    }
    return draw(
        nodes, edges, keys, "EmbeddingDotBias: lookups, dot product, biases, sigmoid", ncol=4
    )


def mixed_input_diagram(
    cats: Sequence[str], n_cont: int, szs: Sequence[int], widths: Sequence[int] | None = None
) -> Figure:
    """`MixedInputModel`: an embedding table per categorical column (the first three and
    the last are drawn; `widths` labels their vectors), the batch-normalised continuous
    inputs, the hidden layers `szs` and the output squashed into `y_range`."""
    keep = list(range(len(cats))) if len(cats) <= 4 else [0, 1, 2, len(cats) - 1]
    # forward: the embeddings are concatenated and dropped out (emb_drop), and only then joined
    # by the batch-normalised continuous inputs
    nodes = [
        Node("cat", "op", 3.4, 2.0, "concat,\nemb_drop"),
        Node("join", "op", 5.0, 1.2, "concat"),
    ]
    edges, keys = [Edge("cat", "join", "")], {}
    for row, i in enumerate(keep):
        y = 3.0 - row * 0.9 - (0.6 if i > row else 0)
        nodes += [
            Node(f"c{i}", "in", 0, y, cats[i]),
            Node(f"e{i}", "hid", 2.0, y, str(widths[i]) if widths else ""),
        ]
        keys[f"emb{i}"] = (
            plt.get_cmap("Dark2").colors[i % 8],
            "" if row else "embs[i]: one table (colour) per column",
        )
        edges += [Edge(f"c{i}", f"e{i}", f"emb{i}"), Edge(f"e{i}", "cat", "")]
    y = min(n.y for n in nodes) - 1.0
    nodes += [
        Node("cont", "in", 0, y, f"{n_cont} continuous"),
        Node("bn", "hid", 2.0, y, str(n_cont)),
    ]
    edges += [Edge("cont", "bn", "bn"), Edge("bn", "join", "")]
    keys["bn"] = ("tab:cyan", "bn_cont: BatchNorm1d")
    for j, width in enumerate(szs):
        nodes.append(Node(f"l{j}", "hid", 6.6 + 1.5 * j, 1.2, str(width)))
        keys[f"lin{j}"] = (("tab:blue", "tab:orange")[j % 2], f"lins[{j}], ReLU, dropout")
        edges.append(Edge(nodes[-2].name if j else "join", f"l{j}", f"lin{j}"))
    nodes.append(Node("out", "out", 6.6 + 1.5 * len(szs), 1.2, "ŷ"))
    edges.append(Edge(nodes[-2].name, "out", "out"))
    keys["out"] = ("tab:red", "out, sigmoid into y_range")
    fig = draw(nodes, edges, keys, "MixedInputModel", ncol=2)
    if len(cats) > 4:
        fig.axes[0].text(0, 0.45, f"⋮ {len(cats) - 4} more", ha="center", va="center", fontsize=9)
    return fig


def one_hot_diagram(idx: int, weight: Sequence[Sequence[float]]) -> Figure:
    """An embedding lookup as a matrix product: one-hot of `idx` @ `weight` = row `idx`, with
    the numbers of the table `weight` (n, k), e.g. `emb.weight.tolist()`, in its cells."""
    n, k = len(weight), len(weight[0])
    if not 0 <= idx < n:
        raise ValueError(f"idx must be a row of the table, 0 … {n - 1}; got {idx}.")
    fig, ax = plt.subplots(figsize=(0.5 * (n + 2 * k + 2.4), 0.5 * (n + 1.3)))
    fig.subplots_adjust(0, 0, 1, 1)
    table = [[f"{v:.2f}" for v in row] for row in weight]
    one_hot = [[str(int(c == idx)) for c in range(n)]]
    mid = 0.5 - n / 2  # the top of the one-row blocks, level with the table's middle row
    blocks = [  # (left, top, the cells' texts, which cells are lit, label)
        (0, mid, one_hot, lambda r, c: c == idx, f"one-hot of {idx}\n(1 × {n})"),
        (n + 1, 0, table, lambda r, c: r == idx, f"emb.weight ({n} × {k})"),
        (n + k + 2, mid, [table[idx]], lambda r, c: True, f"emb({idx}): row {idx}\n(1 × {k})"),
    ]
    for x0, y0, cells, lit, label in blocks:
        for r, row in enumerate(cells):
            for c, text in enumerate(row):
                ax.add_patch(
                    Rectangle(
                        (x0 + c, y0 - r - 1), 1, 1, ec="k", fc="#f4b183" if lit(r, c) else "white"
                    )
                )
                ax.text(x0 + c + 0.5, y0 - r - 0.5, text, ha="center", va="center", fontsize=8)
        ax.text(
            x0 + len(cells[0]) / 2, y0 - len(cells) - 0.15, label, ha="center", va="top", fontsize=9
        )
    for x, s in ((n + 0.5, "@"), (n + k + 1.5, "=")):
        ax.text(x, mid - 0.5, s, ha="center", va="center", fontsize=14)
    ax.set(xlim=(-0.2, n + 2 * k + 2.2), ylim=(-n - 1.1, 0.2), aspect="equal")
    ax.axis("off")
    return fig
