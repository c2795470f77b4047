"""tools.bench: the JSON each benchmark prints, on tiny stand-in data.

Only the shape of the results is checked, never a time: timings depend on the machine.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
import torch

from tools import bench


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
    monkeypatch.setattr(bench, "load_ml100k", lambda: (ratings, None))
    monkeypatch.setattr(
        bench, "load_ml100k_split", lambda name: (ratings.iloc[:1200], ratings.iloc[1200:])
    )
    monkeypatch.setattr(bench, "load_nietzsche", lambda: text)
    monkeypatch.setattr(bench, "GRU_HIDDEN", 16)
    monkeypatch.setattr(
        bench, "COLLAB_RECIPES", {k: {**r, "epochs": 1} for k, r in bench.COLLAB_RECIPES.items()}
    )
    monkeypatch.setattr(bench, "_thread_counts", lambda device: [1, 2])


def run_json(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, dict, str]:
    """Exit code, the JSON of the last line, and the text printed before it."""
    code = bench.main([*argv, "--json", "--device", "cpu"])
    out = capsys.readouterr().out.strip().splitlines()
    return code, json.loads(out[-1]), "\n".join(out[:-1])


def test_fit_reports_bare_loop_and_both_thread_counts(tiny, capsys):
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


def test_step_breaks_down_each_phase_for_both_models(tiny, capsys):
    code, r, _ = run_json(capsys, "step", "--batch-size", "32", "--step-seconds", "0")
    assert code == 0 and r["phases"] == list(bench.PHASES)
    models = {row["model"] for row in r["rows"]}
    assert len(models) == 2 and {row["batch_size"] for row in r["rows"]} == {64, 32}
    for row in r["rows"]:
        phases = [row[f"{p}_us"] for p in bench.PHASES]
        assert all(v >= 0 for v in phases) and row["step_us"] == pytest.approx(sum(phases))
        assert row["chunks"] >= 2
    names = {row["optimizer"] for row in r["rows"]}
    assert {"for-loop", "foreach"} <= names and ("fused" in names) == bench.fused_ok("cpu")


def test_collab_reports_three_seeds_their_mean_and_u1(tiny, capsys, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "fastai", None)  # as if not installed
    code, r, printed = run_json(capsys, "collab", "--batch-size", "256")
    assert code == 0
    seeds = r["ml100k_random_mse"]
    assert list(seeds) == [f"seed {s}" for s in bench.SPLIT_SEEDS]
    assert r["ml100k_random_mse_mean"] == pytest.approx(np.mean(list(seeds.values())))
    assert r["ml100k_u1_rmse"] == pytest.approx(r["ml100k_u1_mse"] ** 0.5)
    assert r["model"] in bench.COLLAB_RECIPES and isinstance(r["meets_targets"], bool)
    assert r["train_collab_bs64_samples_per_s"] > 0 and r["train_collab_bs256_samples_per_s"] > 0
    assert "fastai is not installed: collab_learner skipped" in printed
    assert not any(k.startswith("fastai") or k.endswith("vs_fastai") for k in r)
    assert len(r["runs"]) == 4 * len(bench.COLLAB_RECIPES)


def test_rnn_stops_at_its_budget(tiny, capsys):
    code, r, _ = run_json(capsys, "rnn", "--budget", "0.5")
    assert code == 0 and r["train_s"] >= 0.5 and r["steps"] > 0
    assert np.isfinite(r["val_nll"]) and r["val_bits"] == pytest.approx(r["val_nll"] / np.log(2))


def notebook(path: Path, *sources: str) -> Path:
    nbformat.write(
        nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources]), path
    )
    return path


def test_notebooks_run_in_fresh_kernels_and_are_not_written(tmp_path, capsys):
    good = notebook(
        tmp_path / "good.ipynb",
        "import os, pathlib\nassert os.environ['COURSE_DEVICE'] == 'cpu'",
        f"assert pathlib.Path.cwd() == pathlib.Path({str(tmp_path)!r})",
        "x = bytearray(50 * 2**20)",
    )
    bad = notebook(tmp_path / "bad.ipynb", "raise ValueError('boom')")
    before = {p: p.read_bytes() for p in (good, bad)}
    code, r, _ = run_json(capsys, "notebooks", str(good), str(bad))
    assert code == 1 and r["ok"] is False
    rows = {row["notebook"]: row for row in r["notebooks"]}
    assert rows["good.ipynb"]["ok"] and rows["good.ipynb"]["error"] is None
    assert rows["good.ipynb"]["peak_mb"] > 50  # the kernel's memory, the array included
    assert not rows["bad.ipynb"]["ok"] and "boom" in rows["bad.ipynb"]["error"]
    assert all(row["seconds"] > 0 for row in rows.values())
    assert r["total_seconds"] == pytest.approx(sum(row["seconds"] for row in rows.values()))
    assert {p: p.read_bytes() for p in (good, bad)} == before


def test_gpu_check_without_cuda_fails_with_a_message(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert bench.main(["gpu"]) == 2
    err = capsys.readouterr().err
    assert "needs a CUDA GPU" in err and torch.__version__ in err


def test_make_gpu_check_runs_the_gpu_benchmark():
    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    target = makefile.split("\ngpu-check:", 1)[1].split("\n\n", 1)[0]
    assert "tools.bench gpu" in target


def test_only_notebooks_takes_paths():
    with pytest.raises(SystemExit):
        bench.main(["fit", "notebooks/x.ipynb"])


def test_gpu_check_table_and_gates(monkeypatch, capsys):
    """The GPU path with the benchmarks replaced by their results' shapes (no GPU here)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a: "Fake GPU 80GB")
    seen = {}
    fit = {
        "batch_size": 1024,
        "fit_samples_per_s": 1e6,
        "bs64_fit_samples_per_s": 1e5,
        "fit_vs_bare": 0.99,
        "bs64_fit_vs_bare": 0.98,
        "speedup": 20.0,
        "bs64_speedup": 3.0,
    }
    step = {"rows": [{"model": "m", "batch_size": 64, "optimizer": "fused", "step_us": 100.0}]}
    collab = {"ml100k_random_mse_mean": 0.79, "ml100k_u1_rmse": 0.90, "meets_targets": True}
    rnn = {"val_nll": 1.3, "budget_s": 60.0}
    nbs = {
        "ok": False,
        "notebooks": [
            {"notebook": "a.ipynb", "seconds": 5.0, "peak_mb": 900.0, "ok": True, "error": None},
            {
                "notebook": "b.ipynb",
                "seconds": 2.0,
                "peak_mb": 800.0,
                "ok": False,
                "error": "AssertionError: gate",
            },
        ],
    }
    for name, result in {
        "fit": fit,
        "step": step,
        "collab": collab,
        "rnn": rnn,
        "notebooks": nbs,
    }.items():
        monkeypatch.setitem(
            bench.BENCHMARKS,
            name,
            lambda args, name=name, result=result: seen.setdefault(name, args.device) and result,
        )
    assert bench.main(["gpu"]) == 1  # a notebook failed its gate
    out = capsys.readouterr().out
    assert set(seen.values()) == {"cuda"}
    for text in (
        "Fake GPU 80GB",
        "a.ipynb",
        "5 s",
        "FAILED: AssertionError: gate",
        "0.7900",
        "quality gates",
    ):
        assert text in out, text
