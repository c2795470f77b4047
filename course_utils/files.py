"""Files a student cares about: written atomically, models saved and loaded across devices."""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import nn

__all__ = ["atomic_write", "load_model", "model_path", "save_model"]


@contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[Path]:
    """`with atomic_write(path) as tmp:` write `tmp`, a file beside `path`; only when the block
    succeeds does `tmp` replace `path` (`os.replace`, atomic), so a failed or interrupted write
    (disk full, an exception) leaves the old `path` untouched and no half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        with open(tmp, "rb") as f:  # on disk before it takes the old file's place
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def save_model(model: nn.Module, path: str | Path) -> Path:
    """Save the model's weights, moved to the CPU so that any machine can load them, atomically:
    a failed save (disk full) leaves the previous file intact."""
    path = Path(path)
    try:
        with atomic_write(path) as tmp:
            torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, tmp)
    except RuntimeError as e:  # torch's writer reports I/O failures (disk full) this way
        raise OSError(
            f"Could not write {path} (is the disk full?); any previous file there is unchanged. {e}"
        ) from e
    return path


def load_model(
    model: nn.Module, path: str | Path, device: str | torch.device | None = None
) -> nn.Module:
    """Load `save_model`'s weights (any device) into `model`, moved to `device` (default CPU)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"No saved weights at {path}. Train the model and save_model() it first."
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, OSError, EOFError, KeyError, pickle.UnpicklingError) as e:
        raise RuntimeError(
            f"{path} is not a readable weights file (truncated or not written by "
            f"save_model: {type(e).__name__}: {e}). Save the model again."
        ) from e
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise RuntimeError(
            f"The weights in {path} do not fit this model (different architecture or sizes): {e}"
        ) from None
    return model.to(torch.device(device) if device else "cpu")


def model_path(name: str) -> Path:
    """Where the course saves and reloads a trained model: `data/models/<name>` (created).

    Notebooks save with `save_model(model, model_path("collab_dotbias.pt"))`, so the widgets
    and later lessons can reload the weights without training again.
    """
    from course_utils.data import data_dir  # data/ imports this module

    folder = data_dir() / "models"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name
