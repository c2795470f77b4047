"""`python -m tools.bench rnn`: the best validation loss of the stateful char-RNN in a time budget.

Trains `course_utils.text.CharStatefulRnn` (a GRU) on the first 90% of Nietzsche for
`--budget` seconds with truncated BPTT, the same layout and loss as the notebook, each step
the library's `train_step`. The learning rate follows `course_utils.one_cycle`, but over the
elapsed fraction of the budget rather than a number of steps (the schedule is laid over
`TICKS` ticks of the budget and advanced to the current one before each step), so it ends
exactly when the time does, on any machine. After every epoch and at the end it evaluates on
the last 10% of the text (not counted in the budget) and reports the best validation loss in
nats and bits per character, and characters per second of training.
"""

from __future__ import annotations

import argparse
import math
import time

import torch

import course_utils as cu
from course_utils.char_models import CharStatefulRnn
from course_utils.device import fused_ok
from course_utils.text import Vocab, batchify, seq_nll_loss, split_text
from tools.bench.common import sync

# A wider GRU than the notebook's (256): on a 2-core CPU, 5 minutes are about 10 epochs of it.
CONFIG = {"n_fac": 42, "n_hidden": 384, "cell": "gru", "n_layers": 1, "dropout": 0.0}
BS, BPTT, MAX_LR, CLIP = 64, 32, 5e-3, 1.0
TICKS = 10_000  # the one-cycle schedule's resolution: 1/10,000 of the budget
TARGET_NLL = 1.37  # nats/char: the 2018 lesson's GRU


def bench_rnn(args: argparse.Namespace) -> dict:
    device = cu.get_device(args.device)
    budget = float(args.budget)
    cu.set_seed(0)
    text = cu.load_nietzsche()
    vocab = Vocab.from_text(text)
    trn, val = split_text(vocab.encode(text))
    data = cu.DeviceData(
        *batchify(trn, BS, BPTT),
        *batchify(val, BS, BPTT),
        bs=BS,
        shuffle=False,
        drop_last=True,
        device=device,
    )
    model = CharStatefulRnn(len(vocab), **CONFIG).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=MAX_LR / 25, fused=fused_ok(device))
    scheduler = cu.one_cycle(MAX_LR)(opt, 1, TICKS)

    rows = []
    train_s, steps, chars = 0.0, 0, 0
    steps_per_epoch = data.n_batches("train")
    t_total = time.perf_counter()
    while train_s < budget:
        model.train()
        model.reset()
        t = time.perf_counter()
        for xb, yb in data.train_batches():
            frac = (train_s + time.perf_counter() - t) / budget
            if frac >= 1:
                break
            tick = min(TICKS - 1, int(frac * (TICKS - 1)))
            while scheduler.last_epoch < tick:  # the schedule catches up with the clock
                scheduler.step()
            cu.train_step(model, xb, yb, opt, seq_nll_loss, clip=CLIP)
            steps += 1
            chars += yb.numel()
        sync(device)
        train_s += time.perf_counter() - t
        val_nll = cu.evaluate(model, data, seq_nll_loss)["valid_loss"]
        rows.append({"epoch": steps / steps_per_epoch, "train_s": train_s, "val_nll": val_nll})
    best = min(rows, key=lambda r: r["val_nll"])
    chars_per_s = chars / train_s

    name = f"{CONFIG['cell'].upper()}({CONFIG['n_hidden']}) x{CONFIG['n_layers']}"
    print(
        f"stateful {name} char-RNN on Nietzsche, bs={BS}, bptt={BPTT}, budget {budget:.0f} s, "
        f"device={device}, {torch.get_num_threads()} threads"
    )
    print(f"{'epoch':>6} {'train s':>8} {'val nats/char':>14} {'bits/char':>10}")
    for r in rows:
        print(
            f"{r['epoch']:>6.2f} {r['train_s']:>8.1f} {r['val_nll']:>14.4f} "
            f"{r['val_nll'] / math.log(2):>10.4f}"
        )
    print(
        f"best val {best['val_nll']:.4f} nats/char ({best['val_nll'] / math.log(2):.3f} bits), "
        f"{chars_per_s:,.0f} chars/s, {time.perf_counter() - t_total:.0f} s in all "
        f"(target on a 2-core CPU: {TARGET_NLL} nats/char, the 2018 lesson's GRU)"
    )
    return {
        "benchmark": "rnn",
        "device": str(device),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "model": name,
        "bs": BS,
        "bptt": BPTT,
        "budget_s": budget,
        "train_s": train_s,
        "epochs": steps / steps_per_epoch,
        "steps": steps,
        "chars_per_s": chars_per_s,
        "val_nll": best["val_nll"],
        "val_bits": best["val_nll"] / math.log(2),
        "target_val_nll": TARGET_NLL,
    }
