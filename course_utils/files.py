"""Files a student cares about: written atomically, models saved and loaded across devices."""

from __future__ import annotations

import os
import pickle
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import nn

from course_utils.device import get_device

__all__ = ["atomic_write", "load_model", "model_path", "save_model"]


@contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[Path]:
    """`with atomic_write(path) as tmp:` write `tmp`, a file beside `path`; only when the block
    succeeds does `tmp` replace `path` (`os.replace`, atomic), so a failed or interrupted write
    (disk full, an exception) leaves the old `path` untouched and no half-written file.

    A symlink is written through (its target gets the new content, the link stays), the old
    file's permissions are kept, and a file the user may not write (e.g. `chmod 444`) is refused
    with `PermissionError` rather than replaced. `tmp` is created exclusively, under a short
    unique name, so nothing planted at a predictable name is followed and long names still fit.
    """
    path = Path(os.path.realpath(path))  # through symlinks, to the file that really changes
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = None
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if not os.access(path, os.W_OK) or not mode & stat.S_IWUSR:  # root may, but 444 says no
            raise PermissionError(
                f"{path} is read-only for you, so it was not replaced: make it writable "
                f"(chmod u+w) or write to another path."
            )
    fd, name = tempfile.mkstemp(".tmp", ".", dir=path.parent)  # O_EXCL, mode 600, short name
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb") as f:  # on disk before it takes the old file's place
            os.fsync(f.fileno())
        os.chmod(tmp, mode if mode is not None else 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save_model(model: nn.Module, path: str | Path) -> Path:
    """Save the model's weights, moved to the CPU so that any machine can load them, atomically:
    a failed save (disk full) leaves the previous file intact."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"save_model saves a model (an nn.Module), got {type(model).__name__}.")
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
    target = get_device(device) if device else torch.device("cpu")  # a missing GPU: say so now
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
    return model.to(target)


def model_path(name: str) -> Path:
    """Where the course saves and reloads a trained model: `data/models/<name>` (created).

    Notebooks save with `save_model(model, model_path("collab_dotbias.pt"))`, so the widgets
    and later lessons can reload the weights without training again.
    """
    from course_utils.data import data_dir  # data/ imports this module

    if not isinstance(name, str | os.PathLike) or not str(name).strip():
        raise ValueError(f"model_path needs a file name such as 'collab_dotbias.pt', got {name!r}.")
    if Path(name).is_absolute() or ".." in Path(name).parts:
        raise ValueError(
            f"model_path({str(name)!r}) would leave data/models/: pass a plain file name such "
            "as 'collab_dotbias.pt', or call save_model with your own path."
        )
    folder = data_dir() / "models"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name
