"""`python -m tools.bench collab`: ML-100K accuracy and speed of `train_collab`.

Accuracy, two protocols: (a) random 80/20 splits of the 100,000 ratings with seeds
`SPLIT_SEEDS` (fastai's `collab_learner` protocol; fastai reports valid MSE 0.8217 on one such
split), (b) the standard u1.base / u1.test split. Each model of `COLLAB_RECIPES` trains once
per split with `course_utils.collab.train_collab` (AdamW, `one_cycle`, L2 on the batch's
factors, through `fit`), seeded, so results repeat on one machine. Speed: samples per second
of `train_collab` (50 factors, warm) at batch sizes 64 and `--batch-size`, and of fastai's
`collab_learner` when fastai is installed (it is not a dependency of the course).
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable

import torch

import course_utils as cu
from course_utils.collab import (
    EmbeddingDotBias,
    EmbeddingNet,
    collab_data,
    split_ratings,
    train_collab,
)
from tools.bench.common import Timer, clock, interleaved, now, per_s, print_table, ratio

SPLIT_SEEDS = (42, 0, 1)  # the notebooks' seed and two more, fixed before tuning
# The recipes this benchmark trains; tuned on the random splits, then used unchanged on u1.
COLLAB_RECIPES: dict[str, dict] = {
    "EmbeddingDotBias": {
        "model": EmbeddingDotBias,
        "kwargs": {"n_factors": 100},
        "epochs": 10,
        "lr": 4e-3,
        "l2": 0.07,
        "eps": 2e-4,
    },
    "EmbeddingNet": {
        "model": EmbeddingNet,
        "kwargs": {"n_factors": 50, "n_hidden": 100, "p1": 0.3, "p2": 0.5},
        "epochs": 10,
        "lr": 5e-3,
        "l2": 0.1,
        "eps": 1e-4,
    },
}
TARGETS = {"random_mse_mean": 0.80, "u1_rmse": 0.91, "seconds": 60}


def train_collab_run(train, valid, bs: int, device: torch.device, epochs: int) -> Callable:
    """`train_collab` (50 factors, one cycle, validation every epoch): `() -> (samples, timer)`."""
    data, users, movies = collab_data(train, valid, bs=bs, device=device)

    def run() -> tuple[int, Timer]:
        cu.set_seed(42)
        model = EmbeddingDotBias(len(users), len(movies), n_factors=50)
        with Timer(device) as t:
            train_collab(model, data, epochs, lr=5e-3, l2=0.07, progress=False)
        return epochs * data.n_train, t

    return run


def fastai_learner(train, valid, bs: int, device: torch.device):
    """fastai's `collab_learner` on exactly our split (50 factors, y_range (0, 5.5))."""
    import pandas as pd
    from fastai.collab import TabularCollab, collab_learner
    from fastai.data.block import TransformBlock
    from fastai.tabular.core import Categorify

    df = pd.concat([train, valid], ignore_index=True)[["userId", "movieId", "rating"]]
    splits = (list(range(len(train))), list(range(len(train), len(df))))
    to = TabularCollab(
        df,
        [Categorify],
        ["userId", "movieId"],
        y_names=["rating"],
        y_block=TransformBlock(),
        splits=splits,
    )
    dls = to.dataloaders(path=".", bs=bs, device=device)
    return collab_learner(dls, n_factors=50, y_range=(0, 5.5))


def fastai_run(train, valid, bs: int, device: torch.device, epochs: int) -> Callable:
    """fastai's `fit_one_cycle` (validation every epoch): `() -> (samples, timer)`."""

    def run() -> tuple[int, Timer]:
        cu.set_seed(42)
        learn = fastai_learner(train, valid, bs, device)
        with learn.no_bar(), learn.no_logging(), Timer(device) as t:
            learn.fit_one_cycle(epochs, 5e-3, wd=0.1)
        return epochs * len(train), t

    return run


def fastai_available() -> bool:
    try:
        import fastai.collab  # noqa: F401
    except ImportError:
        print(
            "fastai is not installed: collab_learner skipped (pip install fastai to compare; "
            "it is not a dependency of this course)"
        )
        return False
    return True


def fastai_mse(splits: dict, device: torch.device) -> dict[str, float]:
    """fastai's valid MSE on each split with its tutorial's recipe: batch size 64,
    fit_one_cycle(5, 5e-3, wd=0.1)."""
    mse = {}
    for name, (train, valid) in splits.items():
        cu.set_seed(42)
        learn = fastai_learner(train, valid, 64, device)
        with learn.no_bar(), learn.no_logging():
            learn.fit_one_cycle(5, 5e-3, wd=0.1)
            mse[name] = float(learn.validate()[0])
    return mse


def collab_speeds(
    train, valid, batch_sizes: tuple[int, ...], device: torch.device, repeats: int, fastai: bool
) -> dict:
    """Samples per second of train_collab (and of fastai's collab_learner), validation
    included: 1 epoch at batch size 64, 5 above (a few seconds a run), warm, median of
    `repeats` interleaved runs. `bs{N}_vs_fastai`: the median of paired speed ratios in
    `clock` seconds."""
    out: dict = {}
    for bs in batch_sizes:
        epochs = 1 if bs < 256 else 5
        runs = {"train_collab": train_collab_run(train, valid, bs, device, epochs)}
        if fastai:
            runs["fastai"] = fastai_run(train, valid, bs, device, epochs)
        times = interleaved(runs, repeats)
        for k, v in times.items():
            out[f"{k}_bs{bs}_samples_per_s"] = statistics.median(per_s(v))
        if fastai:
            out[f"bs{bs}_vs_fastai"] = ratio(times["train_collab"], times["fastai"], clock(device))
    return out


def accuracy_rows(splits: dict, device: torch.device) -> list[dict]:
    """Each recipe trained once on each split (batch size 256, seeded): MSE, RMSE, seconds."""
    rows = []
    for split, (train, test) in splits.items():
        data, users, movies = collab_data(train, test, bs=256, device=device)
        for name, r in COLLAB_RECIPES.items():
            cu.set_seed(42)
            model = r["model"](len(users), len(movies), **r["kwargs"])
            t = now(device)
            hist = train_collab(
                model, data, r["epochs"], lr=r["lr"], l2=r["l2"], eps=r["eps"], progress=False
            )
            mse = float(hist["valid_loss"].iloc[-1])
            seconds = now(device) - t
            rows.append(
                {
                    "split": split,
                    "model": name,
                    "mse": mse,
                    "rmse": mse**0.5,
                    "epochs": r["epochs"],
                    "seconds": seconds,
                }
            )
    return rows


def bench_collab(args: argparse.Namespace) -> dict:
    """ML-100K accuracy and speed of the collaborative-filtering models (see the module)."""
    device = cu.get_device(args.device)
    ratings, _ = cu.load_ml100k()
    splits = {f"seed {s}": split_ratings(ratings, valid_pct=0.2, seed=s) for s in SPLIT_SEEDS}
    splits["u1.base/u1.test"] = cu.load_ml100k_split("u1")
    rows = accuracy_rows(splits, device)
    print(
        f"ML-100K collaborative filtering, device={device}, {torch.get_num_threads()} "
        f"thread(s), torch {torch.__version__}, batch size 256"
    )
    columns = {
        "split": "split",
        "model": "model",
        "mse": "valid MSE",
        "rmse": "RMSE",
        "epochs": "epochs",
        "seconds": "seconds",
    }
    print_table(rows, columns)
    random_rows = [r for r in rows if r["split"].startswith("seed")]
    means = {
        m: statistics.mean(r["mse"] for r in random_rows if r["model"] == m) for m in COLLAB_RECIPES
    }
    best = min(means, key=means.get)
    u1 = next(r for r in rows if r["split"] == "u1.base/u1.test" and r["model"] == best)
    result = {
        "benchmark": "collab",
        "device": str(device),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "split_seeds": list(SPLIT_SEEDS),
        "model": best,
        "ml100k_random_mse": {r["split"]: r["mse"] for r in random_rows if r["model"] == best},
        "ml100k_random_mse_mean": means[best],
        "ml100k_random_rmse_mean": means[best] ** 0.5,
        "ml100k_u1_mse": u1["mse"],
        "ml100k_u1_rmse": u1["rmse"],
        "max_seconds": max(r["seconds"] for r in rows if r["model"] == best),
        "runs": rows,
    }
    per_seed = ", ".join(f"{k} {v:.4f}" for k, v in result["ml100k_random_mse"].items())
    print(
        f"{best}: random-split MSE {per_seed}, mean {means[best]:.4f}; u1 RMSE {u1['rmse']:.4f} "
        "(references: fastai collab_learner 0.8217 MSE on one random split; "
        "Surprise SVD, 5-fold: RMSE 0.934)"
    )
    batch_sizes = (64, args.batch_size)
    fastai = fastai_available()
    repeats = min(args.repeats, 3)
    speed = collab_speeds(*splits[f"seed {SPLIT_SEEDS[0]}"], batch_sizes, device, repeats, fastai)
    result |= speed
    parts = []
    for bs in batch_sizes:
        part = f"batch size {bs}: train_collab {speed[f'train_collab_bs{bs}_samples_per_s']:,.0f}"
        if fastai:
            part += (
                f", fastai {speed[f'fastai_bs{bs}_samples_per_s']:,.0f} (train_collab "
                f"{speed[f'bs{bs}_vs_fastai']:.1f}x faster in {clock(device)} seconds)"
            )
        parts.append(part)
    print(
        f"samples/s with validation, warm, median of {repeats} interleaved runs: "
        + ", ".join(parts)
    )
    if fastai:
        seeded = {k: v for k, v in splits.items() if k.startswith("seed")}
        result["fastai_random_mse"] = fastai_mse(seeded, device)
        result["fastai_random_mse_mean"] = statistics.mean(result["fastai_random_mse"].values())
        per_seed = ", ".join(f"{k} {v:.4f}" for k, v in result["fastai_random_mse"].items())
        print(
            "fastai collab_learner (bs 64, fit_one_cycle(5, 5e-3, wd=0.1)): random-split MSE "
            f"{per_seed}, mean {result['fastai_random_mse_mean']:.4f}"
        )
    met = (
        means[best] <= TARGETS["random_mse_mean"]
        and u1["rmse"] <= TARGETS["u1_rmse"]
        and result["max_seconds"] < TARGETS["seconds"]
    )
    result["meets_targets"] = bool(met)
    print(
        f"targets (random-split MSE mean <= {TARGETS['random_mse_mean']}, u1 RMSE <= "
        f"{TARGETS['u1_rmse']}, each model under {TARGETS['seconds']} s): "
        f"{'met' if met else 'NOT met'}"
    )
    return result
