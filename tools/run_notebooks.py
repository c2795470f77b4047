"""Re-execute the course notebooks in place: `python -m tools.run_notebooks [NOTEBOOK ...]`.

This is how the committed outputs are made (`make notebooks`): each notebook runs top to
bottom in a fresh kernel on the CPU (`COURSE_DEVICE=cpu`), from the `notebooks/` folder,
with widget state saved so that widgets render in static viewers, and is written back.
`pytest --nbval` then re-runs them and compares against these outputs.

The result is written to a temporary file beside the notebook and renamed over it only when
complete, so a failed run or a failed write (disk full) leaves the notebook as it was.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from course_utils.data import atomic_write

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def execute(path: Path, timeout: int = 900) -> float:
    """Run one notebook and write it back (atomically); return the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    os.environ["COURSE_DEVICE"] = "cpu"  # committed outputs come from a CPU run
    os.environ.setdefault("PYTHONHASHSEED", "0")
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}},
                            store_widget_state=True)
    t = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - t
    with atomic_write(path) as tmp:
        nbformat.write(nb, tmp)
    return seconds


def _notebook(arg: str) -> Path:
    path = Path(arg)
    if path.suffix != ".ipynb" or not path.is_file():
        raise argparse.ArgumentTypeError(f"{arg} is not a notebook file (.ipynb) that exists")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.run_notebooks",
        description="Re-execute notebooks in place (CPU, fresh kernel) to refresh their outputs.")
    parser.add_argument("notebooks", nargs="*", type=_notebook, metavar="NOTEBOOK",
                        help="notebooks to run (default: every notebooks/*.ipynb)")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell (default 900)")
    args = parser.parse_args(argv)
    for p in args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb")):
        print(f"running {p} ...", flush=True)
        try:
            print(f"  done in {execute(p, args.timeout):.0f} s", flush=True)
        except CellExecutionError as e:
            print(f"  FAILED, {p} left unchanged:\n{e}", flush=True)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
