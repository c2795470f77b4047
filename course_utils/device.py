"""Where training runs and how it repeats: the device, CPU threads, seeds, fused optimizers."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from course_utils.checks import env_int, whole_number

__all__ = ["fused_ok", "get_device", "set_seed", "set_threads"]


def get_device(device: str | torch.device | None = None) -> torch.device:
    """The device to train on: `device` if given, else the environment variable `COURSE_DEVICE`,
    else CUDA, then Apple's MPS, then the CPU. A device that is not there is an error."""
    where = "" if device else " (from the environment variable COURSE_DEVICE)"
    device = device or os.environ.get("COURSE_DEVICE")
    if device is None:
        mps = torch.backends.mps.is_available()
        return torch.device("cuda" if torch.cuda.is_available() else "mps" if mps else "cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"{device!r}{where} is not a device: use 'cpu', 'cuda' or 'mps', or unset "
            "COURSE_DEVICE to pick the best device automatically."
        ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        missing = (
            f"this PyTorch sees no CUDA GPU (torch {torch.__version__}, "
            f"CUDA build: {torch.version.cuda})"
        )
    elif device.type == "mps" and not torch.backends.mps.is_available():
        missing = "Apple's Metal backend is not available here"
    else:
        return device
    raise RuntimeError(
        f"Device {device} was requested but {missing}. Use device='cpu', or unset "
        "COURSE_DEVICE to pick the best device automatically."
    )


def set_threads(n: int | None = None) -> int:
    """Set how many CPU threads PyTorch uses (`0`: PyTorch's default), and return it.

    `import course_utils` calls it with `COURSE_THREADS`, else 1: on small models threads mostly
    wait for each other (on a busy 2-core machine two ran lesson 5 5x slower than one).
    """
    if n is None:
        n = env_int("COURSE_THREADS", 1, meaning="a number of CPU threads (0: PyTorch's default)")
    n = whole_number(n, "n (CPU threads; 0: PyTorch's default)", minimum=0, example="1")
    if n > 0:
        torch.set_num_threads(n)
    return torch.get_num_threads()


def fused_ok(device: str | torch.device) -> bool:
    """Whether PyTorch has fused optimizer kernels for this device (pass `fused=True`).

    A fused `Adam`, `AdamW`, `SGD` or `Adagrad` updates every weight in one pass: the same result
    up to float rounding, and 2-3x faster for the embedding models on a CPU (`tools.bench step`).
    """
    try:  # PyTorch's own list (CPU since 2.4); a private helper, so be ready for it to move
        from torch.utils._foreach_utils import _get_fused_kernels_supported_devices
    except ImportError:
        return False
    return torch.device(device).type in _get_fused_kernels_supported_devices()


def set_seed(seed: int = 42) -> None:
    """Seed Python, NumPy and PyTorch (all devices) so that a run can be repeated."""
    seed = whole_number(seed, "seed", minimum=0, example="42")
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (students still call the legacy global API)
    torch.manual_seed(seed)  # also seeds CUDA and MPS generators
