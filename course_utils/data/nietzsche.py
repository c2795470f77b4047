"""The Nietzsche text of the char-RNN lessons (Project Gutenberg, public domain)."""

from __future__ import annotations

import os

from course_utils.data.fetch import find_dataset

__all__ = ["load_nietzsche"]


def load_nietzsche(path: str | os.PathLike | None = None) -> str:
    """The Nietzsche text used by the char-RNN lessons (600,893 characters)."""
    folder = find_dataset("nietzsche", path)
    return (folder / "nietzsche.txt").read_text(encoding="utf-8")
