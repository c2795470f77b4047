"""A notebook's figures as small PNGs: `palette_png` re-encodes a PNG with a colour palette, and
`compact_inline_figures()` makes every inline matplotlib figure of a notebook go through it.

Line art has few colours (plus the anti-aliased shades at the edges of lines and text), so a
palette PNG looks the same at a fifth of the bytes: a lesson full of contour plots stays under
the course's 1 MB per notebook. The SGD animation's frames (`animation.py`) use it too.
"""

from __future__ import annotations

import base64
import io

from matplotlib.figure import Figure
from PIL import Image

from course_utils import checks

__all__ = ["compact_inline_figures", "palette_png"]


def palette_png(png: bytes, colors: int = 128) -> bytes:
    """`png` (the bytes of a PNG file) re-encoded with a palette of at most `colors` colours.

    A plot has a few colours plus the shades that anti-aliasing blends at the edges of lines and
    text; a palette of 32 to 128 keeps those edges smooth, and the file is a fifth to a seventh
    of a full-colour PNG of the same pixels. Transparency is dropped (figures are opaque).
    """
    colors = checks.whole_number(colors, "colors (the palette size)", minimum=2, example="128")
    checks.real_number(colors, "colors (the palette size)", low=2, high=256, example="128")
    image = Image.open(io.BytesIO(png)).convert("RGB")
    out = io.BytesIO()
    image.quantize(colors=colors, method=Image.Quantize.FASTOCTREE).save(out, "PNG", optimize=True)
    return out.getvalue()


def compact_inline_figures(colors: int = 128) -> None:
    """Show every matplotlib figure of this notebook as a PNG with a palette of `colors` colours.

    Call it after `%matplotlib inline`: it replaces the inline backend's PNG formatter with one
    that draws the figure the same way (tight bounding box, `figure.dpi`) and then applies
    `palette_png`, so the pictures keep their size and sharpness while a lesson full of contour
    plots stays under the course's 1 MB per notebook. Figures shown inside a widget's output
    (the optimizer explorer) go through the same formatter.
    """
    from IPython import get_ipython
    from IPython.core.pylabtools import print_figure

    colors = checks.whole_number(colors, "colors (the palette size)", minimum=2, example="128")
    checks.real_number(colors, "colors (the palette size)", low=2, high=256, example="128")
    shell = get_ipython()
    if shell is None:
        raise RuntimeError(
            "compact_inline_figures() sets how a notebook shows its figures: call it in a "
            "Jupyter notebook or IPython, after %matplotlib inline (in a script, use "
            "palette_png on the bytes fig.savefig writes)."
        )

    def as_palette_png(fig: Figure) -> str | None:
        """The figure as base64 text, as the inline backend's own formatter returns it."""
        png = print_figure(fig, "png")
        if png is None:  # a figure without axes shows nothing, as before
            return None
        return base64.b64encode(palette_png(png, colors)).decode()

    shell.display_formatter.formatters["image/png"].for_type(Figure, as_palette_png)
