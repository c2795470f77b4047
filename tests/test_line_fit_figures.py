"""The SGD lesson's figures as palette PNGs (course_utils.animation): same pixels, fewer bytes."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from PIL import Image

from course_utils import line_fit
from course_utils.figures import compact_inline_figures, palette_png


def contour_png() -> bytes:
    """A full-colour PNG of one of the lesson's contour plots (the kind that made it big)."""
    x, y = line_fit.line_data(500)
    fig, ax = plt.subplots(figsize=(4, 3), dpi=72)
    line_fit.plot_contours(x, y, ax, (1, 11), (3, 10), levels=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def test_palette_png_keeps_the_size_and_shrinks_the_file() -> None:
    full = contour_png()
    small = palette_png(full, colors=64)
    before, after = Image.open(io.BytesIO(full)), Image.open(io.BytesIO(small))
    assert after.mode == "P" and after.size == before.size
    assert len(after.getcolors(256)) <= 64
    assert len(small) < len(full) / 2


@pytest.mark.parametrize("colors", [1, 300, 2.5, True])
def test_palette_png_refuses_a_palette_it_cannot_make(colors: object) -> None:
    with pytest.raises(ValueError, match="colors"):
        palette_png(contour_png(), colors=colors)


def test_compact_inline_figures_needs_a_notebook() -> None:
    from IPython.core.interactiveshell import InteractiveShell

    assert not InteractiveShell.initialized()
    with pytest.raises(RuntimeError, match="notebook"):
        compact_inline_figures()


def test_compact_inline_figures_replaces_the_png_formatter() -> None:
    from IPython.core.interactiveshell import InteractiveShell
    from matplotlib.figure import Figure

    shell = InteractiveShell.instance()
    try:
        compact_inline_figures(colors=32)
        fig, ax = plt.subplots(figsize=(3, 2), dpi=72)
        ax.plot([0, 1], [0, 1])
        data, _ = shell.display_formatter.format(fig)
        image = Image.open(io.BytesIO(base64.b64decode(data["image/png"])))
        assert image.mode == "P" and len(image.getcolors(256)) <= 32
        assert image.size[0] <= 3 * 72 + 10  # the tight box at figure.dpi, as inline draws it
        empty = plt.figure()  # no axes: nothing to show, as with the inline backend
        assert "image/png" not in shell.display_formatter.format(empty)[0]
        plt.close("all")
    finally:
        shell.display_formatter.formatters["image/png"].pop(Figure, None)
        InteractiveShell.clear_instance()
