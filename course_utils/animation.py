"""An animation as an HTML player that works anywhere a notebook's HTML output shows (JupyterLab,
its slideshow, the course website, offline; `widgets.animate_fit` makes one).

matplotlib's own `to_jshtml` player draws its buttons with Font Awesome from a CDN (blank
offline) and shows no picture until its script has run; this one shows its first frame as a
plain image and draws its buttons with ordinary characters. The frames are stored as PNGs with
a colour palette (`figures.palette_png`): line art has few colours, so they look the same at a
fifth of the bytes.
"""

from __future__ import annotations

import base64
import html
import io
import json
import uuid
from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt

from course_utils.figures import palette_png

__all__ = ["FrameAnimation"]


class FrameAnimation:
    """Frames of a matplotlib figure and an HTML player for them that works offline.

    `to_jshtml()` (the name matplotlib uses) renders each frame with `draw(step)` and returns
    the player: the first frame is an ordinary `<img>` with its size, so it shows at once (and
    without JavaScript, e.g. in an untrusted notebook); buttons drawn with plain characters (no
    icon font from a CDN) step through the frames, and Play moves on the moment it is pressed.
    Frames are PNGs reduced to a 32-colour palette (`palette_png`): sharp text, a seventh of a
    full PNG's size (`animation.frame_format: jpeg` in matplotlib's rcParams gives JPEGs instead).
    """

    def __init__(
        self, fig, draw: Callable[[int], object], steps: Sequence[int], dpi: int, interval: int
    ) -> None:
        self.fig, self.draw, self.steps = fig, draw, [int(s) for s in steps]
        self.dpi, self.interval = dpi, interval

    def frames(self) -> list[str]:
        """Each frame as a `data:` URL."""
        jpeg = plt.rcParams["animation.frame_format"] in ("jpeg", "jpg")
        out = []
        for step in self.steps:
            self.draw(step)
            buf = io.BytesIO()
            self.fig.savefig(buf, format="jpeg" if jpeg else "png", dpi=self.dpi)
            image = buf.getvalue() if jpeg else palette_png(buf.getvalue(), colors=32)
            kind = "jpeg" if jpeg else "png"
            out.append(f"data:image/{kind};base64,{base64.b64encode(image).decode()}")
        return out

    def to_jshtml(
        self, fps: float | None = None, embed_frames: bool = True, default_mode: str | None = None
    ) -> str:
        """The player as HTML (`default_mode="loop"` starts over after the last frame)."""
        frames = self.frames()
        width, height = (round(v * self.dpi) for v in self.fig.get_size_inches())
        interval = round(1000 / fps) if fps else self.interval
        uid = f"fit-animation-{uuid.uuid4().hex[:12]}"
        buttons = "".join(
            f'<button type="button" data-do="{do}" title="{label}" aria-label="{label}" '
            f'style="{BUTTON_STYLE}">{html.escape(text)}</button>'
            for do, label, text in PLAYER_BUTTONS
        )
        script = (
            PLAYER_JS.replace("__ID__", uid)
            .replace("__FRAMES__", json.dumps(frames[1:]))
            .replace("__INTERVAL__", str(interval))
            .replace("__LOOP__", "true" if default_mode == "loop" else "false")
        )
        return (
            f'<div class="animation" id="{uid}" style="display:inline-block;text-align:center;'
            f'max-width:100%">'
            f'<img class="anim-frame" src="{frames[0]}" width="{width}" height="{height}" '
            f'alt="frame 1 of {len(frames)}" style="display:block;max-width:100%;height:auto">'
            f'<input type="range" class="anim-slider" min="0" max="{len(frames) - 1}" step="1" '
            f'value="0" aria-label="Frame" style="width:{width}px;max-width:100%;margin:6px 0">'
            f'<div class="anim-buttons">{buttons}</div></div><script>{script}</script>'
        )

    def _repr_html_(self) -> str:
        return self.to_jshtml()


BUTTON_STYLE = (
    "width:auto;min-width:2.8em;white-space:nowrap;margin:0 2px;padding:2px 8px;font-size:14px"
)
# (action, accessible name, what the button shows): characters every system font has.
PLAYER_BUTTONS = [
    ("first", "First frame", "|\u25c0"),
    ("previous", "Previous frame", "\u25c0"),
    ("play", "Play", "\u25b6 Play"),
    ("pause", "Pause", "\u275a\u275a Pause"),
    ("next", "Next frame", "\u25b6"),
    ("last", "Last frame", "\u25b6|"),
]
# The player finds its elements from its own <div> (never from a global), so two views of one
# output (a notebook and its slideshow) each work. Frame 0 is the <img>'s own picture.
PLAYER_JS = """(function () {
  var here = document.currentScript && document.currentScript.previousElementSibling;
  var root = here && here.id === "__ID__" ? here : document.getElementById("__ID__");
  if (!root || root.dataset.ready) return;
  root.dataset.ready = "1";
  var img = root.querySelector(".anim-frame"), slider = root.querySelector(".anim-slider");
  var frames = [img.src].concat(__FRAMES__), current = 0, timer = null, loop = __LOOP__;
  function show(i) {
    current = Math.max(0, Math.min(frames.length - 1, i));
    img.src = frames[current];
    img.alt = "frame " + (current + 1) + " of " + frames.length;
    slider.value = current;
  }
  function pause() { if (timer) { clearInterval(timer); timer = null; } }
  function tick() {
    if (current < frames.length - 1) show(current + 1);
    else if (loop) show(0);
    else pause();
  }
  var actions = {
    first: function () { pause(); show(0); },
    previous: function () { pause(); show(current - 1); },
    next: function () { pause(); show(current + 1); },
    last: function () { pause(); show(frames.length - 1); },
    pause: pause,
    play: function () {  /* moves at once; from the last frame it starts over */
      pause();
      if (current === frames.length - 1) show(0); else show(current + 1);
      timer = setInterval(tick, __INTERVAL__);
    }
  };
  root.querySelectorAll("button[data-do]").forEach(function (b) {
    b.addEventListener("click", function () { actions[b.dataset.do](); });
  });
  slider.addEventListener("input", function () { pause(); show(parseInt(slider.value, 10)); });
})();"""
