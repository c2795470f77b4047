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
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from course_utils.data import atomic_write

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


class NotANotebook(ValueError):
    """The file is not a notebook nbformat can read (not JSON, or JSON of another shape)."""


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """The notebook at `path`, validated; `NotANotebook` (one line, with the fix) if it is not
    one: nbformat's own errors range from a JSON message to a TypeError from deep inside."""
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as e:  # noqa: BLE001  (whatever nbformat raises, the file is the problem)
        lines = str(e).strip().splitlines()
        why = lines[0][:200] if lines else type(e).__name__
        raise NotANotebook(
            f"it is not a valid notebook ({why}): take it again from git "
            "(git checkout -- FILE) or from the course's notebooks/."
        ) from None
    return nb


def run(
    path: Path,
    timeout: int = 900,
    env: Mapping[str, str] | None = None,
    on_start: Callable[[int | None], object] | None = None,
) -> nbformat.NotebookNode:
    """Execute the notebook at `path` top to bottom in a fresh kernel, from its folder, and
    return the executed notebook; the file itself is not written (`execute` does that).

    The kernel gets this process's environment with `COURSE_DEVICE=cpu` (committed outputs come
    from a CPU run) and `PYTHONHASHSEED=0` unless set, then `env` on top. `on_start(pid)` is
    called with the kernel's process id once it is ready (`tools.bench notebooks` watches its
    memory). Raises `NotANotebook` (the file is not one), nbclient's `CellExecutionError` (a cell failed), `DeadKernelError` (the
    kernel died, e.g. killed for memory) or `CellTimeoutError` (a cell ran past `timeout` s).
    """
    nb = read_notebook(path)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=True,
    )
    if on_start is not None:

        def started(**_: object) -> None:  # nbclient's hook, once the kernel answers
            provisioner = getattr(client.km, "provisioner", None)
            process = getattr(provisioner, "process", None)
            on_start(getattr(process, "pid", None))

        client.on_notebook_start = started
    hash_seed = os.environ.get("PYTHONHASHSEED", "0")
    with _environment({"PYTHONHASHSEED": hash_seed, "COURSE_DEVICE": "cpu", **(env or {})}):
        client.execute()
    return nb


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """This process's environment with `values` set, inside the block (a kernel started there
    inherits it); as it was afterwards."""
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def execute(path: Path, timeout: int = 900) -> float:
    """Run one notebook and write it back (atomically); return the seconds it took."""
    t = time.perf_counter()
    nb = run(path, timeout)
    seconds = time.perf_counter() - t
    with atomic_write(path) as tmp:
        nbformat.write(nb, tmp)
    return seconds


def _notebook(arg: str) -> Path:
    path = Path(arg)
    if path.suffix != ".ipynb" or not path.is_file():
        raise argparse.ArgumentTypeError(f"{arg} is not a notebook file (.ipynb) that exists")
    return path


def positive_int(arg: str) -> int:
    """An argparse type: a whole number of at least 1 (a count, or seconds); `tools.bench`
    uses it too."""
    if not arg.strip().isdigit() or int(arg) < 1:
        raise argparse.ArgumentTypeError(f"{arg!r} is not a whole number of at least 1")
    return int(arg)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.run_notebooks",
        description="Re-execute notebooks in place (CPU, fresh kernel) to refresh their outputs.",
    )
    parser.add_argument(
        "notebooks",
        nargs="*",
        type=_notebook,
        metavar="NOTEBOOK",
        help="notebooks to run (default: every notebooks/*.ipynb)",
    )
    parser.add_argument(
        "--timeout", type=positive_int, default=900, help="seconds per cell (default 900)"
    )
    args = parser.parse_args(argv)
    for p in args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb")):
        print(f"running {p} ...", flush=True)
        try:
            print(f"  done in {execute(p, args.timeout):.0f} s", flush=True)
        except CellExecutionError as e:
            print(f"  FAILED, {p} left unchanged:\n{e}", flush=True)
            return 1
        except DeadKernelError as e:
            print(
                f"  FAILED, {p} left unchanged: the kernel died ({e}). It was most likely "
                "killed for lack of memory: close other notebooks or use a smaller data set.",
                flush=True,
            )
            return 1
        except NotANotebook as e:
            print(f"  FAILED, {p} left unchanged: {e}", flush=True)
            return 1
        except CellTimeoutError:
            print(
                f"  FAILED, {p} left unchanged: a cell ran longer than {args.timeout} s; "
                "raise --timeout or make the cell faster.",
                flush=True,
            )
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
