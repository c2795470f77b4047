"""Benchmarks: `python -m tools.bench {fit,step,collab,rnn,notebooks,gpu} [--json]`.

One module per benchmark; each trains with the library's own code (`course_utils.fit`,
`train_step`, `one_cycle`, `train_collab`) and runs notebooks with `tools.run_notebooks`:

* `fit` (fit.py): samples per second of `course_utils.fit` against the bare loop it wraps
  (shuffle, slice, `train_step`: nothing else) and against the textbook
  `DataLoader(TensorDataset)` loop. Same model (`EmbeddingDotBias`), optimizer and ML-100K
  ratings, at batch size 64 and the notebooks' 1024, with 1 and 2 CPU threads. Runs are
  interleaved and medians reported, so a busy machine slows all three alike; on the CPU,
  fit/bare compares CPU seconds, which other processes change little.
* `step` (step.py): where one `train_step`'s time goes (batch, forward, backward, optimizer,
  schedule, bookkeeping) for the collaborative-filtering model and the RNN lesson's
  stateful GRU, at batch sizes 64 and 1024, with each optimizer implementation.
* `collab` (collab.py): ML-100K accuracy (random 80/20 splits with three seeds, and
  u1.base/u1.test) and training speed of `train_collab`; fastai's `collab_learner`
  alongside, if installed.
* `rnn` (rnn.py): best validation loss of the stateful char-RNN within a wall-clock budget.
* `notebooks [NOTEBOOK ...]` (notebooks.py): each notebook executed in a fresh kernel (from
  `notebooks/`, on the device `COURSE_DEVICE` names, default the CPU, one thread): seconds
  and peak memory of the kernel and its children, and the total; `--markdown` prints the
  table of docs/performance.md. The notebook files are read, never written.
* `gpu` (gpu.py, `make gpu-check`): all of the above on the best device (CUDA, then MPS,
  then the CPU), then one table.

Shared timing and table helpers are in common.py. Each benchmark prints a table; with
`--json` the last line is one JSON object with the results. Never assert these times in
tests: they depend on the machine and on what else it runs.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable

import course_utils as cu
from tools.bench.collab import bench_collab
from tools.bench.common import BenchError
from tools.bench.fit import bench_fit
from tools.bench.gpu import bench_gpu
from tools.bench.notebooks import bench_notebooks
from tools.bench.rnn import bench_rnn
from tools.bench.step import bench_step
from tools.run_notebooks import positive_int  # --repeats 0 would find no median

__all__ = ["BENCHMARKS", "BenchError", "main"]

BENCHMARKS: dict[str, Callable[[argparse.Namespace], dict]] = {
    "fit": bench_fit,
    "step": bench_step,
    "collab": bench_collab,
    "rnn": bench_rnn,
    "notebooks": bench_notebooks,
    "gpu": bench_gpu,
}


def _seconds(arg: str, positive: bool = False) -> float:
    """A finite number of seconds, at least 0 (`positive`: above 0)."""
    try:
        x = float(arg)
    except ValueError:
        x = math.nan
    if not math.isfinite(x) or x < 0 or (positive and x == 0):
        least = "above 0" if positive else "at least 0"
        raise argparse.ArgumentTypeError(f"{arg!r} is not a number of seconds {least}")
    return x


def _positive_seconds(arg: str) -> float:
    """A budget of seconds above 0: a budget of 0 trains nothing."""
    return _seconds(arg, positive=True)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m tools.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("which", choices=list(BENCHMARKS))
    p.add_argument("notebooks", nargs="*", help="notebooks to run (notebooks: default all)")
    p.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    p.add_argument(
        "--device",
        default=None,
        help="cuda, mps or cpu (default: best available; notebooks: COURSE_DEVICE, else cpu)",
    )
    p.add_argument(
        "--repeats", type=positive_int, default=7, help="timed runs per loop; medians (fit)"
    )
    p.add_argument(
        "--batch-size", type=positive_int, default=1024, help="the notebooks' batch size"
    )
    p.add_argument(
        "--step-seconds",
        type=_seconds,
        default=2.0,
        help="seconds of timed steps per configuration (step)",
    )
    p.add_argument(
        "--budget", type=_positive_seconds, default=300.0, help="seconds of training (rnn)"
    )
    p.add_argument(
        "--timeout", type=positive_int, default=1200, help="seconds per cell (notebooks)"
    )
    p.add_argument(
        "--markdown",
        action="store_true",
        help="print the table as Markdown, for docs/performance.md (notebooks)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.notebooks and args.which != "notebooks":
        p.error("only `notebooks` takes notebook paths")
    try:
        if args.device is not None:
            try:
                cu.get_device(args.device)  # a clear error now, not in the middle of a run
            except (ValueError, RuntimeError) as e:
                raise BenchError(str(e)) from None
        result = BENCHMARKS[args.which](args)
    except BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, default=str))
    return 0 if result.get("ok", True) else 1
