"""tools.bench: the JSON each benchmark prints, on tiny stand-in data.

Only the shape of the results is checked, never a time: timings depend on the machine.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
import torch

import course_utils as cu
from course_utils.device import fused_ok
from tools import bench
from tools.bench import collab, gpu, notebooks, rnn, step


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small ratings and text in place of ML-100K and Nietzsche; small models, short runs."""
    rng = np.random.default_rng(0)
    n = 1500
    ratings = pd.DataFrame(
        {
            "userId": rng.integers(1, 41, n).astype("int32"),
            "movieId": rng.integers(1, 61, n).astype("int32"),
            "rating": rng.integers(1, 6, n).astype("float32"),
            "timestamp": np.arange(n),
        }
    )
    text = "".join(rng.choice(list("abcde fgh.\n"), 40_000))
    monkeypatch.setattr(cu, "load_ml100k", lambda: (ratings, None))
    monkeypatch.setattr(
        cu, "load_ml100k_split", lambda name: (ratings.iloc[:1200], ratings.iloc[1200:])
    )
    monkeypatch.setattr(cu, "load_nietzsche", lambda: text)
    monkeypatch.setattr(step, "GRU_HIDDEN", 16)
    monkeypatch.setitem(rnn.CONFIG, "n_hidden", 16)
    monkeypatch.setattr(
        collab, "COLLAB_RECIPES", {k: {**r, "epochs": 1} for k, r in collab.COLLAB_RECIPES.items()}
    )


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts the calls of the library's `train_step` and `one_cycle` the benchmarks make."""
    calls = {"train_step": 0, "one_cycle": 0}
    for name in calls:
        original = getattr(cu, name)

        def wrapper(*args, _name=name, _original=original, **kwargs):
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(cu, name, wrapper)
    return calls


def run_json(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, dict, str]:
    """Exit code, the JSON of the last line, and the text printed before it."""
    code = bench.main([*argv, "--json", "--device", "cpu"])
    out = capsys.readouterr().out.strip().splitlines()
    return code, json.loads(out[-1]), "\n".join(out[:-1])


def test_fit_reports_bare_loop_and_both_thread_counts(tiny, counted, capsys):
    threads = torch.get_num_threads()
    code, r, _ = run_json(capsys, "fit", "--repeats", "1", "--batch-size", "256")
    assert code == 0
    for key in (
        "fit_samples_per_s",
        "bare_samples_per_s",
        "dataloader_samples_per_s",
        "fit_vs_bare",
        "speedup",
        "bs64_fit_vs_bare",
        "bs64_bare_samples_per_s",
        "bs64_fit_samples_per_s",
        "bs64_speedup",
    ):
        assert r[key] > 0, key
    assert r["batch_size"] == 256 and r["threads"] == 1 and isinstance(r["meets_targets"], bool)
    assert {(row["threads"], row["batch_size"]) for row in r["rows"]} == {
        (1, 64),
        (1, 256),
        (2, 64),
        (2, 256),
    }
    assert torch.get_num_threads() == threads  # put back as it was
    assert counted["train_step"] > 0  # the bare and DataLoader loops step with the library's


def test_step_breaks_down_each_phase_for_both_models(tiny, counted, capsys):
    code, r, _ = run_json(capsys, "step", "--batch-size", "32", "--step-seconds", "0")
    assert code == 0 and r["phases"] == list(step.PHASES)
    models = {row["model"] for row in r["rows"]}
    assert len(models) == 2 and {row["batch_size"] for row in r["rows"]} == {64, 32}
    for row in r["rows"]:
        phases = [row[f"{p}_us"] for p in step.PHASES]
        assert all(v >= 0 for v in phases) and row["step_us"] == pytest.approx(sum(phases))
        assert row["chunks"] >= 2
    names = {row["optimizer"] for row in r["rows"]}
    assert {"for-loop", "foreach"} <= names and ("fused" in names) == fused_ok("cpu")
    # every timed step is the library's train_step under the library's schedule
    assert counted["train_step"] > 0 and counted["one_cycle"] == len(r["rows"])


def test_collab_reports_three_seeds_their_mean_and_u1(tiny, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "fastai", None)  # as if not installed
    code, r, printed = run_json(capsys, "collab", "--batch-size", "256")
    assert code == 0
    seeds = r["ml100k_random_mse"]
    assert list(seeds) == [f"seed {s}" for s in collab.SPLIT_SEEDS]
    assert r["ml100k_random_mse_mean"] == pytest.approx(np.mean(list(seeds.values())))
    assert r["ml100k_u1_rmse"] == pytest.approx(r["ml100k_u1_mse"] ** 0.5)
    assert r["model"] in collab.COLLAB_RECIPES and isinstance(r["meets_targets"], bool)
    assert r["train_collab_bs64_samples_per_s"] > 0 and r["train_collab_bs256_samples_per_s"] > 0
    assert "fastai is not installed: collab_learner skipped" in printed
    assert not any(k.startswith("fastai") or k.endswith("vs_fastai") for k in r)
    assert len(r["runs"]) == 4 * len(collab.COLLAB_RECIPES)


def test_rnn_stops_at_its_budget_with_the_library_step_and_schedule(tiny, counted, capsys):
    code, r, _ = run_json(capsys, "rnn", "--budget", "0.5")
    assert code == 0 and r["train_s"] >= 0.5 and r["steps"] > 0
    assert np.isfinite(r["val_nll"]) and r["val_bits"] == pytest.approx(r["val_nll"] / np.log(2))
    assert counted == {"train_step": r["steps"], "one_cycle": 1}


def notebook(path: Path, *sources: str) -> Path:
    nbformat.write(
        nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources]), path
    )
    return path


def test_notebooks_report_seconds_memory_failures_and_are_not_written(tmp_path, capsys):
    good = notebook(
        tmp_path / "good.ipynb",
        "import os, pathlib\nassert os.environ['COURSE_DEVICE'] == 'cpu'",
        "assert os.environ['COURSE_THREADS'] == '1' and os.environ['COURSE_PROGRESS'] == '0'",
        f"assert pathlib.Path.cwd() == pathlib.Path({str(tmp_path)!r})",
        "x = bytearray(50 * 2**20)",
    )
    bad = notebook(tmp_path / "bad.ipynb", "raise ValueError('boom')")
    dead = notebook(tmp_path / "dead.ipynb", "import os\nos._exit(1)", "1")
    paths = (good, bad, dead)
    before = {p: p.read_bytes() for p in paths}
    code, r, printed = run_json(capsys, "notebooks", *map(str, paths), "--markdown")
    assert code == 1 and r["ok"] is False and r["threads"] == 1
    rows = {row["notebook"]: row for row in r["notebooks"]}
    assert rows["good.ipynb"]["ok"] and rows["good.ipynb"]["error"] is None
    assert rows["good.ipynb"]["peak_mb"] > 50  # the kernel's memory, the array included
    assert not rows["bad.ipynb"]["ok"] and rows["bad.ipynb"]["error"] == "ValueError: boom"
    assert not rows["dead.ipynb"]["ok"] and "the kernel died" in rows["dead.ipynb"]["error"]
    assert all(row["seconds"] > 0 for row in rows.values())
    assert r["total_seconds"] == pytest.approx(sum(row["seconds"] for row in rows.values()))
    assert {p: p.read_bytes() for p in paths} == before
    assert "| notebook | seconds | peak memory |" in printed and "| good |" in printed
    assert "| **total** |" in printed and "failed: ValueError: boom" in printed


def test_a_missing_notebook_is_one_line_naming_it_and_the_fix(capsys):
    assert bench.main(["notebooks", "notebooks/missing.ipynb"]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err and captured.out == ""
    assert "notebooks/missing.ipynb" in err and "not found" in err
    assert "notebooks/00-setup-check.ipynb" in err  # what to pass instead


def test_a_device_that_is_not_there_is_a_clear_error(capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert bench.main(["fit", "--device", "cuda"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "no CUDA GPU" in err and len(err.splitlines()) == 1


def test_markdown_table_without_failures():
    rows = [
        {"notebook": "a.ipynb", "seconds": 12.4, "peak_mb": 1500.2, "ok": True, "error": None},
        {"notebook": "b.ipynb", "seconds": 3.0, "peak_mb": 480.0, "ok": True, "error": None},
    ]
    assert notebooks.markdown_table(rows).splitlines() == [
        "| notebook | seconds | peak memory |",
        "|---|---:|---:|",
        "| a | 12 | 1,500 MB |",
        "| b | 3 | 480 MB |",
        "| **total** | **15** | 1,500 MB (largest) |",
    ]


def test_tree_memory_counts_this_process():
    assert notebooks.tree_memory(os.getpid()) > 10 * 2**20


def fake_parts(monkeypatch: pytest.MonkeyPatch, seen: dict, notebooks_ok: bool = False) -> None:
    """Replace the benchmarks the device check runs by the shapes of their results."""
    fit = {
        "batch_size": 1024,
        "fit_samples_per_s": 1e6,
        "bs64_fit_samples_per_s": 1e5,
        "fit_vs_bare": 0.99,
        "bs64_fit_vs_bare": 0.98,
        "speedup": 20.0,
        "bs64_speedup": 3.0,
    }
    step_rows = {"rows": [{"model": "m", "batch_size": 64, "optimizer": "fused", "step_us": 100.0}]}
    collab_r = {"ml100k_random_mse_mean": 0.79, "ml100k_u1_rmse": 0.90, "meets_targets": True}
    rnn_r = {"val_nll": 1.3, "budget_s": 60.0}
    b = {"notebook": "b.ipynb", "seconds": 2.0, "peak_mb": 800.0, "ok": True, "error": None}
    if not notebooks_ok:
        b |= {"ok": False, "error": "AssertionError: gate"}
    nbs = {
        "ok": notebooks_ok,
        "notebooks": [
            {"notebook": "a.ipynb", "seconds": 5.0, "peak_mb": 900.0, "ok": True, "error": None},
            b,
        ],
    }
    results = {"fit": fit, "step": step_rows, "collab": collab_r, "rnn": rnn_r, "notebooks": nbs}
    for name, result in results.items():

        def part(args, name=name, result=result):
            seen[name] = args.device
            return result

        monkeypatch.setitem(gpu.PARTS, name, part)


def test_gpu_check_table_and_gates(monkeypatch, capsys):
    """The CUDA path with the benchmarks replaced by their results' shapes (no GPU here)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a: "Fake GPU 80GB")
    seen: dict = {}
    fake_parts(monkeypatch, seen)
    assert bench.main(["gpu"]) == 1  # a notebook failed its gate
    out = capsys.readouterr().out
    assert seen == {k: "cuda" for k in gpu.PARTS}
    for text in (
        "GPU check",
        "Fake GPU 80GB",
        "a.ipynb",
        "5 s",
        "FAILED: AssertionError: gate",
        "0.7900",
        "quality gates",
    ):
        assert text in out, text


def test_gpu_check_without_a_gpu_runs_on_the_cpu(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    seen: dict = {}
    fake_parts(monkeypatch, seen, notebooks_ok=True)
    assert bench.main(["gpu"]) == 0
    captured = capsys.readouterr()
    assert seen == {k: "cpu" for k in gpu.PARTS}
    assert "no GPU found" in captured.err and "Device check" in captured.out
    assert re.search(r"quality gates +all passed", captured.out)


def test_make_gpu_check_runs_the_gpu_benchmark():
    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    target = makefile.split("\ngpu-check:", 1)[1].split("\n\n", 1)[0]
    assert "tools.bench gpu" in target


def test_only_notebooks_takes_paths():
    with pytest.raises(SystemExit):
        bench.main(["fit", "notebooks/x.ipynb"])
