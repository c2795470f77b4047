"""Benchmarks: `python -m course_utils.bench {fit,collab,rnn} [--json]`.

* `fit`: samples per second of `course_utils.fit` against a standard
  `torch.utils.data.DataLoader(TensorDataset)` loop, same model, optimizer and batch size,
  on ML-100K's 80,000 training ratings.
* `collab`: ML-100K accuracy and time of the collaborative-filtering models.
* `rnn`: best validation loss of the stateful char-RNN within a wall-clock budget.

Each prints a table; with `--json` the last line is one JSON object with the results.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

from course_utils.data import load_ml100k
from course_utils.learner import DeviceData, fit, get_device, set_seed


class _DotBias(nn.Module):
    """An EmbeddingDotBias-style model (kept here so `bench fit` stands on its own)."""

    def __init__(self, n_users: int, n_items: int, n_factors: int = 50) -> None:
        super().__init__()
        self.u, self.i = nn.Embedding(n_users, n_factors), nn.Embedding(n_items, n_factors)
        self.ub, self.ib = nn.Embedding(n_users, 1), nn.Embedding(n_items, 1)
        for e in (self.u, self.i):
            nn.init.normal_(e.weight, 0, 0.01)
        for e in (self.ub, self.ib):
            nn.init.zeros_(e.weight)

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        dot = (self.u(users) * self.i(items)).sum(1)
        return torch.sigmoid(dot + self.ub(users)[:, 0] + self.ib(items)[:, 0]) * 5.5


def _ml100k_tensors() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    ratings, _ = load_ml100k()
    set_seed(0)
    idx = torch.randperm(len(ratings))[:80_000]
    users = torch.tensor(ratings["userId"].to_numpy() - 1, dtype=torch.long)[idx]
    items = torch.tensor(ratings["movieId"].to_numpy() - 1, dtype=torch.long)[idx]
    y = torch.tensor(ratings["rating"].to_numpy(), dtype=torch.float32)[idx]
    return users, items, y


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()
    elif device.type == "mps":
        torch.mps.synchronize()


def _time_fit(users, items, y, bs: int, device: torch.device, epochs: int) -> float:
    data = DeviceData((users, items), y, bs=bs, device=device)
    model = _DotBias(943, 1682).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    fit(model, data, 1, opt, F.mse_loss, progress=False)  # warm-up
    _sync(device)
    t = time.perf_counter()
    fit(model, data, epochs, opt, F.mse_loss, progress=False)
    _sync(device)
    return epochs * len(y) / (time.perf_counter() - t)


def _time_dataloader(users, items, y, bs: int, device: torch.device, epochs: int) -> float:
    """The textbook loop: a TensorDataset on the CPU, DataLoader batches moved per step."""
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(users, items, y), batch_size=bs, shuffle=True
    )
    model = _DotBias(943, 1682).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    def epoch() -> None:
        for u, i, t in loader:
            u, i, t = u.to(device), i.to(device), t.to(device)
            loss = F.mse_loss(model(u, i), t)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss.item()  # what a loop that logs its loss does every step

    epoch()  # warm-up
    _sync(device)
    t = time.perf_counter()
    for _ in range(epochs):
        epoch()
    _sync(device)
    return epochs * len(y) / (time.perf_counter() - t)


def bench_fit(args: argparse.Namespace) -> dict:
    device = get_device(args.device)
    users, items, y = _ml100k_tensors()
    rows = []
    for bs in (64, args.batch_size):
        epochs = 1 if bs < 256 else 3
        fit_r = [_time_fit(users, items, y, bs, device, epochs) for _ in range(args.repeats)]
        dl_r = [_time_dataloader(users, items, y, bs, device, epochs) for _ in range(args.repeats)]
        f, d = statistics.median(fit_r), statistics.median(dl_r)
        rows.append({"batch_size": bs, "fit_samples_per_s": f, "dataloader_samples_per_s": d,
                     "speedup": f / d})
    print(f"fit vs DataLoader(TensorDataset), EmbeddingDotBias on ML-100K (80,000 ratings), "
          f"device={device}, median of {args.repeats}")
    print(f"{'batch size':>10} {'fit samples/s':>15} {'DataLoader samples/s':>21} {'speedup':>8}")
    for r in rows:
        print(f"{r['batch_size']:>10} {r['fit_samples_per_s']:>15,.0f} "
              f"{r['dataloader_samples_per_s']:>21,.0f} {r['speedup']:>7.1f}x")
    main = rows[-1]
    return {"benchmark": "fit", "device": str(device), "torch": torch.__version__,
            "threads": torch.get_num_threads(), **main,
            "bs64_fit_samples_per_s": rows[0]["fit_samples_per_s"],
            "bs64_dataloader_samples_per_s": rows[0]["dataloader_samples_per_s"],
            "bs64_speedup": rows[0]["speedup"]}


def bench_collab(args: argparse.Namespace) -> dict:
    """ML-100K accuracy and time (filled in by the collaborative-filtering lesson)."""
    raise NotImplementedError("bench collab is not implemented yet")


def bench_rnn(args: argparse.Namespace) -> dict:
    """Stateful char-RNN within a time budget (filled in by the RNN lesson)."""
    raise NotImplementedError("bench rnn is not implemented yet")


BENCHMARKS = {"fit": bench_fit, "collab": bench_collab, "rnn": bench_rnn}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m course_utils.bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("which", choices=list(BENCHMARKS))
    p.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    p.add_argument("--device", default=None, help="cuda, mps or cpu (default: best available)")
    p.add_argument("--repeats", type=int, default=3, help="timed repeats; the median is reported")
    p.add_argument("--batch-size", type=int, default=1024, help="the notebooks' batch size (fit)")
    p.add_argument("--budget", type=float, default=300.0, help="seconds of training (rnn)")
    args = p.parse_args(argv)
    result = BENCHMARKS[args.which](args)
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
