"""`make gpu-check` (`python -m tools.bench gpu`): every benchmark and notebook on one device.

The device is the best one there (CUDA, then Apple's MPS, then the CPU, as `get_device`
picks) or `--device`. Runs `fit`, `step`, `collab`, `rnn` and `notebooks` on it (the
notebooks with `COURSE_DEVICE` set to it, their quality gates included) and prints one
table; exits non-zero if a notebook fails or the collaborative-filtering targets are missed.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys

import torch

import course_utils as cu
from tools.bench.collab import bench_collab
from tools.bench.fit import bench_fit
from tools.bench.notebooks import bench_notebooks
from tools.bench.rnn import bench_rnn
from tools.bench.step import bench_step

PARTS = {
    "fit": bench_fit,
    "step": bench_step,
    "collab": bench_collab,
    "rnn": bench_rnn,
    "notebooks": bench_notebooks,
}


def describe(device: torch.device) -> tuple[str, str]:
    """`(device name, torch and its backend)` for the table's first two rows."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(
            device
        ), f"{torch.__version__} / CUDA {torch.version.cuda}"
    if device.type == "mps":
        return f"Apple MPS ({platform.machine()})", f"{torch.__version__} / MPS"
    cpu = platform.processor() or platform.machine()
    return f"CPU ({cpu}, {os.cpu_count()} cores)", f"{torch.__version__} / CPU"


def bench_gpu(args: argparse.Namespace) -> dict:
    """Every benchmark and every notebook on the device, their quality gates, one table."""
    device = cu.get_device(args.device)
    if device.type == "cpu" and args.device is None:
        print(
            "no GPU found (neither CUDA nor Apple MPS): the check runs on the CPU. For a GPU, "
            "install a CUDA build of torch (make setup TORCH=cu128) on an NVIDIA machine.",
            file=sys.stderr,
        )
    args.device = str(device)
    name, build = describe(device)
    results = {k: run(args) for k, run in PARTS.items()}
    fit, col, rnn = results["fit"], results["collab"], results["rnn"]
    bs = f"bs {fit['batch_size']} / 64"
    table = [
        ("device", name),
        ("torch / backend", build),
        (
            f"fit samples/s, {bs}",
            f"{fit['fit_samples_per_s']:,.0f} / {fit['bs64_fit_samples_per_s']:,.0f}",
        ),
        (f"fit / bare loop, {bs}", f"{fit['fit_vs_bare']:.2f} / {fit['bs64_fit_vs_bare']:.2f}"),
        (f"fit / DataLoader, {bs}", f"{fit['speedup']:.1f}x / {fit['bs64_speedup']:.1f}x"),
        ("collab random MSE mean (<= 0.80)", f"{col['ml100k_random_mse_mean']:.4f}"),
        ("collab u1 RMSE (<= 0.91)", f"{col['ml100k_u1_rmse']:.4f}"),
        ("rnn best val nats/char", f"{rnn['val_nll']:.4f} in {rnn['budget_s']:.0f} s"),
    ]
    for r in results["step"]["rows"]:
        key = f"step us: {r['model']}, bs {r['batch_size']}, {r['optimizer']}"
        table.append((key, f"{r['step_us']:,.0f}"))
    for r in results["notebooks"]["notebooks"]:
        value = f"{r['seconds']:.0f} s, {r['peak_mb']:,.0f} MB host"
        table.append(
            (f"notebook {r['notebook']}", value + ("" if r["ok"] else f", FAILED: {r['error']}"))
        )
    ok = bool(results["notebooks"]["ok"] and col["meets_targets"])
    table.append(("quality gates", "all passed" if ok else "FAILED"))
    width = max(len(k) for k, _ in table)
    title = "GPU check" if device.type != "cpu" else "Device check (on the CPU)"
    print(f"\n{title}\n{'-' * (width + 40)}")
    for k, v in table:
        print(f"{k:<{width}}  {v}")
    return {"benchmark": "gpu", "device": name, "device_type": device.type, "ok": ok, **results}
