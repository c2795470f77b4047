"""lesson6-sgd: reference solutions to the exercises."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn


def ewma_debiased(values: list[float], beta: float) -> list[float]:
    """The debiased exponentially weighted average after each of `values`."""
    out, avg = [], 0.0
    for n, v in enumerate(values, start=1):
        avg = beta * avg + (1 - beta) * v
        out.append(avg / (1 - beta**n))  # the weights so far add up to 1 - beta**n
    return out


def train_one_epoch(
    model: nn.Module, x: Tensor, y: Tensor, bs: int, opt: torch.optim.Optimizer, loss_fn: Callable
) -> list[float]:
    """One epoch over (x, y) in shuffled batches of `bs`; returns each batch's loss."""
    perm = torch.randperm(len(x))  # a new order every epoch
    losses = []
    for start in range(0, len(x), bs):  # the last batch may be smaller
        batch = perm[start : start + bs]
        loss = loss_fn(model(x[batch]), y[batch])
        opt.zero_grad()  # backward() adds to .grad
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def kaiming_init_(layer: nn.Linear) -> nn.Linear:
    """Weights from N(0, 2/fan_in), bias 0, both changed in place."""
    fan_in = layer.weight.shape[1]  # nn.Linear stores (out_features, in_features)
    with torch.no_grad():
        layer.weight.normal_(0.0, math.sqrt(2 / fan_in))
        layer.bias.zero_()
    return layer


def momentum_step(
    p: Tensor, grad: Tensor, v: Tensor, lr: float, mu: float
) -> tuple[Tensor, Tensor]:
    """One step of PyTorch's momentum: the velocity sums the gradients, the step uses it."""
    v = mu * v + grad  # the bug stepped with `grad` here instead of `v`
    return p - lr * v, v


VALLEY_AXIS = "rotate"  # the line turns about x ≈ 0.5, inside the data
NOISE_AT_400 = "about 0.6 / √400 = 0.03"  # the spread times √bs stays at about 0.6
