"""The lesson diagrams: each function draws the shapes, colours and labels its model has."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle, RegularPolygon

from course_utils import diagrams, drawing


def shapes(fig: Figure) -> dict[str, int]:
    """How many inputs, hidden circles, outputs, operation boxes and arrows a figure has."""
    patches = fig.axes[0].patches
    kinds = {
        "in": Rectangle,
        "hid": Circle,
        "out": RegularPolygon,
        "op": FancyBboxPatch,
        "arrow": FancyArrowPatch,
    }
    return {k: sum(type(p) is t for p in patches) for k, t in kinds.items()}


def legend(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.axes[0].texts]


def arrow_colours(fig: Figure) -> set[tuple[float, ...]]:
    return {tuple(p.get_edgecolor()) for p in fig.axes[0].patches if type(p) is FancyArrowPatch}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_char3_three_inputs_one_output_three_colours():
    fig = diagrams.char3_diagram()
    assert shapes(fig) == {
        "in": 3,
        "hid": 4,
        "out": 1,
        "op": 0,
        "arrow": 3 + 3 + 1,
    }  # the zero start state too
    assert legend(fig) == [
        "l_in: input → hidden",
        "l_hidden: hidden → hidden",
        "l_out: hidden → output",
    ]
    assert len(arrow_colours(fig)) == 3  # one colour per weight matrix
    assert {"char 1", "char 3", "char 4"} <= set(texts(fig))


@pytest.mark.parametrize("n", [3, 8])
def test_loop_unrolled_shares_three_colours(n):
    fig = diagrams.loop_diagram(n)
    assert shapes(fig) == {"in": n, "hid": n + 1, "out": 1, "op": 0, "arrow": 2 * n + 1}
    assert len(arrow_colours(fig)) == 3, "n steps, but still only three weight matrices"


def test_cycle_is_one_step_with_a_loop():
    fig = diagrams.loop_cycle_diagram()
    assert shapes(fig) == {"in": 1, "hid": 1, "out": 1, "op": 0, "arrow": 3}


def test_seq_model_has_an_output_per_step():
    fig = diagrams.seq_diagram(8)
    assert shapes(fig) == {"in": 8, "hid": 9, "out": 8, "op": 0, "arrow": 8 + 8 + 8}
    assert "c9" in texts(fig)


def test_stateful_carries_state_between_batches():
    fig = diagrams.stateful_diagram(4)
    # per batch: a start state and 4 steps, each with l_in, weight_hh (the first one on the
    # carried state, as forward applies it) and l_out; one dashed hand-over between the batches
    assert shapes(fig) == {"in": 8, "hid": 10, "out": 8, "op": 0, "arrow": 2 * 3 * 4 + 1}
    assert "h carried to the next batch, detached" in legend(fig)
    assert "rnn.weight_hh_l0: hidden → hidden" in legend(fig)
    arrows = [p for p in fig.axes[0].patches if type(p) is FancyArrowPatch]
    dashed = [p for p in arrows if p.get_linestyle() == "--"]
    assert len(dashed) == 1
    orange = matplotlib.colors.to_rgba("tab:orange")
    assert sum(tuple(p.get_edgecolor()) == orange for p in arrows) == 2 * 4


def test_stacked_names_the_parameters_and_starts_each_layer_from_a_state():
    fig = diagrams.stacked_diagram(4)
    assert shapes(fig) == {"in": 4, "hid": 2 * 4 + 2, "out": 4, "op": 0, "arrow": 5 * 4}
    assert [s.split(":")[0] for s in legend(fig)] == [
        "rnn.weight_ih_l0",
        "rnn.weight_hh_l0",
        "rnn.weight_ih_l1",
        "rnn.weight_hh_l1",
        "l_out",
    ]
    assert len(arrow_colours(fig)) == 5


def test_gru_has_both_gates_and_two_weight_matrices():
    fig = diagrams.gru_diagram()
    assert shapes(fig)["op"] == 5 and shapes(fig)["hid"] == 2 and shapes(fig)["in"] == 1
    labels = " ".join(texts(fig))
    assert "reset" in labels and "update" in labels and "tanh" in labels
    assert [s.split(":")[0] for s in legend(fig)] == ["weight_ih", "weight_hh"]


def test_collab_diagram_lookups_dot_bias_sigmoid():
    fig = diagrams.collab_diagram()
    assert shapes(fig) == {"in": 2, "hid": 4, "out": 1, "op": 3, "arrow": 11}
    assert legend(fig) == ["user_factors", "movie_factors", "user_bias", "movie_bias"]
    assert any("sigmoid" in t for t in texts(fig))


@pytest.mark.parametrize("n_cats", [2, 22])
def test_mixed_input_model(n_cats):
    cats = [f"col{i}" for i in range(n_cats)]
    fig = diagrams.mixed_input_diagram(cats, 16, (256, 128), widths=list(range(1, n_cats + 1)))
    shown = min(n_cats, 4)
    assert shapes(fig) == {
        "in": shown + 1,
        "hid": shown + 1 + 2,
        "out": 1,
        "op": 2,  # concat + emb_drop of the embeddings, then the concat with the continuous
        "arrow": 2 * (shown + 1) + 4,
    }
    assert "16 continuous" in texts(fig) and "256" in texts(fig) and "16" in texts(fig)
    assert "concat,\nemb_drop" in texts(fig)
    assert (f"⋮ {n_cats - 4} more" in texts(fig)) == (n_cats > 4)
    assert "lins[1], ReLU, dropout" in legend(fig)


def test_one_hot_times_matrix_picks_the_row():
    weight = [[r + c / 10 for c in range(3)] for r in range(5)]
    fig = diagrams.one_hot_diagram(3, weight)
    cells = [p for p in fig.axes[0].patches if type(p) is Rectangle]
    assert len(cells) == 5 + 5 * 3 + 3
    lit = [p for p in cells if p.get_facecolor()[:3] != (1.0, 1.0, 1.0)]
    assert len(lit) == 1 + 3 + 3  # the 1, row 3 of the table, and the result
    assert texts(fig).count("3.10") == 2  # in the table and in the result
    with pytest.raises(ValueError, match="idx must be a row"):
        diagrams.one_hot_diagram(5, weight)


def test_unknown_node_kind_is_named():
    with pytest.raises(ValueError, match="Unknown node kind 'box'"):
        drawing.draw([drawing.Node("a", "box", 0, 0, "a")], [], {})
