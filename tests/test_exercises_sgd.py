"""The lesson6-sgd checkers: each against its reference solution, each recognised mistake, each
accepted alternative (course_utils/exercises/sgd.py)."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_utils.exercises import sgd as ex
from solutions import lesson6_sgd as sol


def verdict(capsys, check, fn) -> str:
    check(fn)
    return capsys.readouterr().out


def run_batches(model, batches, opt, loss_fn, zero_grad: bool = True) -> list[float]:
    """The loop every student variant below shares: forward, loss, (zero), backward, step for
    each `(xb, yb)` of `batches`; returns the batch losses. `zero_grad=False` is the bug."""
    losses = []
    for xb, yb in batches:
        loss = loss_fn(model(xb), yb)
        if zero_grad:
            opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def debiased_off_by(shift: int):
    """A debiased EWMA that divides the n-th average (n = 1 for the first) by
    `1 - beta**(n + shift)`: shift 0 is right, -1 and +1 the two off-by-one mistakes."""

    def ewma(values, beta):
        out, avg = [], 0.0
        for n, v in enumerate(values, start=1):
            avg = beta * avg + (1 - beta) * v
            out.append(avg / (1 - beta ** (n + shift)))
        return out

    return ewma


def test_ewma_reference_and_mistakes(capsys):
    assert "✓" in verdict(capsys, ex.check_ewma_debiased, sol.ewma_debiased)
    assert "✓" in verdict(capsys, ex.check_ewma_debiased, debiased_off_by(0))
    assert "forget `return`" in verdict(capsys, ex.check_ewma_debiased, lambda v, b: None)

    def from_first(values, beta):
        out = [values[0]]
        for v in values[1:]:
            out.append(beta * out[-1] + (1 - beta) * v)
        return out

    assert "started at the first value" in verdict(capsys, ex.check_ewma_debiased, from_first)
    assert "1 - beta**0 = 0" in verdict(capsys, ex.check_ewma_debiased, debiased_off_by(-1))
    assert "off by one" in verdict(capsys, ex.check_ewma_debiased, debiased_off_by(1))


def test_train_one_epoch_reference_and_alternatives(capsys):
    assert "✓" in verdict(capsys, ex.check_train_one_epoch, sol.train_one_epoch)

    def numpy_shuffle(model, x, y, bs, opt, loss_fn):
        perm = torch.as_tensor(np.random.default_rng(0).permutation(len(x)))
        return run_batches(model, ((x[i], y[i]) for i in perm.split(bs)), opt, loss_fn)

    out = verdict(capsys, ex.check_train_one_epoch, numpy_shuffle)
    assert "✓" in out and "batch order differs" in out

    def loader(model, x, y, bs, opt, loss_fn):
        batches = DataLoader(TensorDataset(x, y), batch_size=bs, shuffle=True)
        return run_batches(model, batches, opt, loss_fn)

    assert "✓" in verdict(capsys, ex.check_train_one_epoch, loader)


def test_train_one_epoch_mistakes(capsys):
    def no_return(model, x, y, bs, opt, loss_fn):
        sol.train_one_epoch(model, x, y, bs, opt, loss_fn)

    assert "returned None" in verdict(capsys, ex.check_train_one_epoch, no_return)

    def no_zero(model, x, y, bs, opt, loss_fn):
        batches = ((x[i], y[i]) for i in torch.randperm(len(x)).split(bs))
        return run_batches(model, batches, opt, loss_fn, zero_grad=False)

    assert "not zeroed" in verdict(capsys, ex.check_train_one_epoch, no_zero)

    def no_shuffle(model, x, y, bs, opt, loss_fn):
        torch.randperm(len(x))  # drawn but not used
        return run_batches(model, zip(x.split(bs), y.split(bs), strict=True), opt, loss_fn)

    assert "✗" in verdict(capsys, ex.check_train_one_epoch, no_shuffle)


def test_kaiming_reference_and_mistakes(capsys):
    assert "✓" in verdict(capsys, ex.check_kaiming_init, sol.kaiming_init_)

    def uniform(layer):
        nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")
        nn.init.zeros_(layer.bias)
        return layer

    assert "uniform" in verdict(capsys, ex.check_kaiming_init, uniform)

    def fan_out(layer):
        with torch.no_grad():
            layer.weight.normal_(0, math.sqrt(2 / layer.weight.shape[0]))
            layer.bias.zero_()
        return layer

    assert "fan_out" in verdict(capsys, ex.check_kaiming_init, fan_out)


def test_momentum_step(capsys):
    assert "✓" in verdict(capsys, ex.check_momentum_step, sol.momentum_step)

    def with_gradient(p, g, v, lr, mu):  # the notebook's bug: the step ignores the velocity
        return p - lr * g, mu * v + g

    assert "not the velocity" in verdict(capsys, ex.check_momentum_step, with_gradient)

    def averaged(p, g, v, lr, mu):  # the 2018 form: an average, not a sum
        v = mu * v + (1 - mu) * g
        return p - lr * v, v

    assert "2018 form" in verdict(capsys, ex.check_momentum_step, averaged)
    assert "returned None" in verdict(capsys, ex.check_momentum_step, lambda *a: None)


def test_valley_axis(capsys):
    ex.check_valley_axis(sol.VALLEY_AXIS)
    assert "✓" in capsys.readouterr().out
    ex.check_valley_axis("shift")
    assert "✗" in capsys.readouterr().out
    ex.check_valley_axis(...)
    assert "not attempted" in capsys.readouterr().out
    assert (
        0.3 < ex.valley_pivot(torch.rand(10_000, generator=torch.Generator().manual_seed(0))) < 0.7
    )
