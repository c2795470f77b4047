"""Re-execute the course notebooks in place: `python -m tools.run_notebooks [NOTEBOOK ...]`.

This is how the committed outputs are made (`make notebooks`): each notebook runs top to
bottom in a fresh kernel on the CPU (`COURSE_DEVICE=cpu`), from the `notebooks/` folder,
with widget state saved so that widgets render in static viewers, and is written back.
`pytest --nbval` then re-runs them and compares against these outputs.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def execute(path: Path, timeout: int = 900) -> float:
    """Run one notebook in place; return the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    os.environ["COURSE_DEVICE"] = "cpu"  # committed outputs come from a CPU run
    os.environ.setdefault("PYTHONHASHSEED", "0")
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}},
                            store_widget_state=True)
    t = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - t
    nbformat.write(nb, path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    paths = [Path(a) for a in argv] or sorted(NOTEBOOKS.glob("*.ipynb"))
    for p in paths:
        print(f"running {p} ...", flush=True)
        print(f"  done in {execute(p):.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
